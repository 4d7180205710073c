/*
** test_reader: the read-ahead reader gives what input_next gives, in order.
**
** For a set of files (good records, every kind of bad line, a line larger
** than a batch, an empty file, thousands of records over many batches) the
** events of rd_next, with and without the thread, are compared with a
** direct read through input.h: files, lines, reasons, details, raw bytes
** and the trees (printed).  Then a missing file among them stops with its
** error after the files before it, and a reader closed early (thread still
** reading) frees everything (make asan checks for leaks).
*/
#include "reader.h"
#include "unit.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/test_reader.XXXXXX";

static char *path_of(const char *name)
{
    static char buf[8][256];
    static int turn;
    char *p = buf[turn++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *name, const char *s, size_t n)
{
    FILE *f = fopen(path_of(name), "wb");
    fwrite(s, 1, n, f);
    fclose(f);
}

/* One event as text: what must be the same both ways. */
static char *describe(RdType type, const char *kind, const char *path, const InputRecord *rec)
{
    char *tree = rec && rec->json ? cJSON_PrintUnformatted(rec->json) : NULL;
    size_t n = 200 + (tree ? strlen(tree) : 0) + (rec ? rec->rawlen * 2 + 200 : 0) + (path ? strlen(path) : 0);
    char *s = malloc(n);
    if (type == RD_FILE)
        snprintf(s, n, "file %s %s", kind, path);
    else if (type == RD_END)
        snprintf(s, n, "end");
    else
        snprintf(s, n, "rec %ld %s [%s] utf8=%d wrap=%s len=%zu raw=%.*s tree=%s", rec->line,
                 rec->reason ? rec->reason : "-", rec->detail ? rec->detail : "", rec->raw_utf8,
                 rec->wrapper ? rec->wrapper : "-", rec->rawlen, (int)rec->rawlen, rec->raw, tree ? tree : "-");
    free(tree);
    return s;
}

typedef struct { char **s; int n, cap; } List;

static void add(List *l, char *s)
{
    if (l->n == l->cap)
        l->s = realloc(l->s, sizeof(char *) * (size_t)(l->cap = l->cap ? 2 * l->cap : 64));
    l->s[l->n++] = s;
}

static void list_free(List *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->s[i]);
    free(l->s);
    memset(l, 0, sizeof *l);
}

static List direct(char **specs, int n, size_t max_line)
{
    List l = {0};
    char err[512];
    for (int i = 0; i < n; i++) {
        Input *in = input_open(specs[i], err, sizeof err);
        if (!in)
            break;
        if (max_line)
            input_set_max_line(in, max_line);
        add(&l, describe(RD_FILE, input_kind(in), input_path(in), NULL));
        InputRecord rec;
        while (input_next(in, &rec, err, sizeof err) == 1)
            add(&l, describe(RD_RECORD, NULL, NULL, &rec));
        input_close(in);
    }
    add(&l, describe(RD_END, NULL, NULL, NULL));
    return l;
}

static List via_reader(char **specs, int n, size_t max_line, bool threaded, const char **error)
{
    List l = {0};
    Reader *rd = rd_open(specs, n, max_line, threaded);
    RdEvent ev;
    static char errbuf[600];
    *error = NULL;
    for (;;) {
        rd_next(rd, &ev);
        if (ev.type == RD_ERROR) {
            snprintf(errbuf, sizeof errbuf, "%s", ev.error);
            *error = errbuf;
            rd_next(rd, &ev);                   /* it stays at the error */
            CHECK(ev.type == RD_ERROR, "the error event is the last");
            add(&l, describe(RD_END, NULL, NULL, NULL));
            break;
        }
        add(&l, describe(ev.type, ev.kind, ev.path, &ev.rec));
        if (ev.type == RD_END)
            break;
    }
    rd_close(rd);
    return l;
}

static void compare(const List *want, const List *got, const char *label)
{
    int same = want->n == got->n;
    for (int i = 0; same && i < want->n; i++)
        if (strcmp(want->s[i], got->s[i]) != 0) {
            CHECK(0, "%s: event %d: %.200s, want %.200s", label, i, got->s[i], want->s[i]);
            same = 0;
        }
    CHECK(same, "%s: %d events, want %d", label, got->n, want->n);
}

static void make_files(void)
{
    static const char bad[] =
        "{\"id\":1,\"attributes\":{\"name\":\"Ann\"}}\n"
        "\n"
        "{\"customer\":{\"id\":2}}\n"
        "{\"a\":\"\xC3\"}\n"
        "[1,2]\n"
        "{\"a\":01}\n"
        "{\"a\":\"x\ty\"}\r\n"
        "{\"a\":\"x\0y\"}\n"
        "not json\n"
        "{\"last\":true}";                     /* no newline at the end */
    write_file("person.ndjson", bad, sizeof bad - 1);
    write_file("empty.ndjson", "", 0);
    /* 3000 records: many batches */
    size_t cap = 3000 * 120, n = 0;
    char *many = malloc(cap);
    for (int i = 0; i < 3000; i++)
        n += (size_t)snprintf(many + n, cap - n, "{\"id\":\"e%d\",\"name\":\"event %d\",\"data\":{\"n\":%d,\"ok\":%s}}\n",
                              i, i, i * 7, i % 2 ? "true" : "false");
    write_file("activity.ndjson", many, n);
    free(many);
    /* a line larger than a batch's memory, and one over the line limit */
    size_t big = (size_t)600 << 10;
    char *b = malloc(2 * big + 64);
    n = (size_t)sprintf(b, "{\"big\":\"");
    memset(b + n, 'x', big);
    n += big;
    n += (size_t)sprintf(b + n, "\"}\n{\"small\":1}\n{\"huge\":\"");
    memset(b + n, 'y', big);
    n += big;
    n += (size_t)sprintf(b + n, "\"}\n{\"after\":2}\n");
    write_file("delivery.ndjson", b, n);
    free(b);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    make_files();
    char *specs[] = {path_of("person.ndjson"), path_of("empty.ndjson"), path_of("activity.ndjson"),
                     path_of("delivery.ndjson")};
    char *all[4];
    for (int i = 0; i < 4; i++)
        all[i] = strdup(specs[i]);
    size_t limit = (size_t)700 << 10;           /* the second big line is over it */
    List want = direct(all, 4, limit);
    const char *error;
    for (int t = 0; t < 2; t++) {
        List got = via_reader(all, 4, limit, t == 1, &error);
        compare(&want, &got, t ? "threaded" : "on demand");
        CHECK(!error, "no error: %s", error ? error : "");
        list_free(&got);
    }
    list_free(&want);

    /* a missing file: the files before it, then its error */
    char *with_missing[] = {all[0], path_of("missing.ndjson"), all[2]};
    List before = direct(all, 1, 0);
    for (int t = 0; t < 2; t++) {
        List got = via_reader(with_missing, 3, 0, t == 1, &error);
        compare(&before, &got, t ? "missing file, threaded" : "missing file, on demand");
        CHECK(error && strstr(error, "missing.ndjson"), "the error names the file: %s", error ? error : "none");
        list_free(&got);
    }
    list_free(&before);

    /* closed early, the thread still reading: nothing may leak or crash (make asan) */
    for (int k = 0; k < 20; k++) {
        Reader *rd = rd_open(all, 4, 0, true);
        RdEvent ev;
        for (int i = 0; i < k * 37; i++)
            rd_next(rd, &ev);
        rd_close(rd);
    }

    for (int i = 0; i < 4; i++) {
        unlink(all[i]);
        free(all[i]);
    }
    unlink(path_of("empty.ndjson"));
    CHECK(rmdir(dir) == 0, "the files are removed");
    return unit_summary();
}

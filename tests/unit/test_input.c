/*
** test_input: unit tests of runtime/input.c, the streaming NDJSON reader.
**
** Each case writes small files into a temporary directory, reads them back
** through input_open/input_next and checks records, line numbers and reason
** codes.  Prints one line per failed check and "N passed, N failed"; exits
** 1 when a check failed.
*/
#include "input.h"
#include "unit.h"

#include <cJSON.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIB ((size_t)1 << 20)
#define MAXREC 64

static char dir[256];



/* ---- files */

static const char *path_of(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *p = bufs[next++ % 4];
    snprintf(p, sizeof bufs[0], "%s/%s", dir, name);
    return p;
}

static void write_file(const char *name, const char *data, size_t len)
{
    FILE *fp = fopen(path_of(name), "wb");
    if (!fp || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
        printf("cannot write %s\n", path_of(name));
        exit(1);
    }
}

static void write_str(const char *name, const char *data)
{
    write_file(name, data, strlen(data));
}

static void run(const char *cmd)
{
    if (system(cmd) != 0) {
        printf("command failed: %s\n", cmd);
        exit(1);
    }
}

/* gzip -c NAME > NAME.gz (or to the given name). */
static void gzip_to(const char *from, const char *to)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "gzip -c '%s' > '%s'", path_of(from), path_of(to));
    run(cmd);
}

static long file_size(const char *name)
{
    struct stat st;
    return stat(path_of(name), &st) == 0 ? (long)st.st_size : -1;
}

/* ---- reading everything */

typedef struct Got {
    int n;                      /* records read */
    int rc;                     /* input_next's last answer: 0 or -1 */
    char err[256];
    long line[MAXREC];
    const char *reason[MAXREC]; /* reason codes are static strings */
    const char *wrapper[MAXREC];
    char detail[MAXREC][160];
    char *json[MAXREC];         /* cJSON_PrintUnformatted of the record, or NULL */
    char raw[MAXREC][128];      /* the first bytes of raw (NULs shown as '@') */
    size_t rawlen[MAXREC];
    int raw_utf8[MAXREC];
    unsigned long long bytes;
    size_t maxcap;              /* the largest buffer capacity seen */
} Got;

static void keep_record(Got *g, const InputRecord *rec)
{
    int i = g->n++;
    size_t k = rec->rawlen < sizeof g->raw[0] - 1 ? rec->rawlen : sizeof g->raw[0] - 1;
    g->line[i] = rec->line;
    g->reason[i] = rec->reason;
    g->wrapper[i] = rec->wrapper;
    snprintf(g->detail[i], sizeof g->detail[i], "%s", rec->detail ? rec->detail : "");
    g->json[i] = rec->json ? cJSON_PrintUnformatted(rec->json) : NULL;
    for (size_t j = 0; j < k; j++)
        g->raw[i][j] = rec->raw[j] ? rec->raw[j] : '@';
    g->raw[i][k] = '\0';
    g->rawlen[i] = rec->rawlen;
    g->raw_utf8[i] = rec->raw_utf8;
}

/* Read all of an opened input into g, then close it. */
static void drain(Input *in, Got *g)
{
    InputRecord rec;
    for (;;) {
        size_t cap = input_buffer_capacity(in);
        if (cap > g->maxcap)
            g->maxcap = cap;
        g->rc = input_next(in, &rec, g->err, sizeof g->err);
        if (g->rc != 1)
            break;
        if (g->n < MAXREC)
            keep_record(g, &rec);
        else
            g->n++;
    }
    g->bytes = input_bytes(in);
    input_close(in);
}

/* Open spec with max_line (0: default) and read all of it; 0 if it did not open. */
static int read_all(const char *spec, size_t max_line, Got *g)
{
    Input *in = input_open(spec, g->err, sizeof g->err);
    if (!in)
        return 0;
    input_set_max_line(in, max_line);
    drain(in, g);
    return 1;
}

static void got_free(Got *g)
{
    for (int i = 0; i < g->n && i < MAXREC; i++)
        free(g->json[i]);
    memset(g, 0, sizeof *g);
}

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static const char *show(const char *s)
{
    return s ? s : "(null)";
}

/* Check record i: line number, reason (NULL: good) and, if json, the record. */
static void expect(const Got *g, int i, long line, const char *reason, const char *json, int src)
{
    if (i >= g->n) {
        check(0, src, "record %d missing (only %d)", i, g->n);
        return;
    }
    check(g->line[i] == line, src, "record %d: line %ld, want %ld", i, g->line[i], line);
    check(same(g->reason[i], reason), src, "record %d (line %ld): reason %s, want %s [%s] raw '%s'",
          i, g->line[i], show(g->reason[i]), show(reason), g->detail[i], g->raw[i]);
    if (json)
        check(same(g->json[i], json), src, "record %d: json %s, want %s", i, show(g->json[i]), json);
    if (reason)
        check(g->json[i] == NULL && g->detail[i][0], src, "record %d: a bad record has no json and a detail", i);
}

#define EXPECT(g, i, line, reason, json) expect((g), (i), (line), (reason), (json), __LINE__)

/* ---- cases */

static void test_good_records(void)
{
    const char *text = "{\"a\":1}\n{\"b\":\"x\"}\n  {\"c\":[1,2]}  \n";
    Got g = {0};
    write_str("person.ndjson", text);
    CHECK(read_all(path_of("person.ndjson"), 0, &g), "open: %s", g.err);
    CHECK(g.n == 3 && g.rc == 0, "3 records then end, got %d (rc %d)", g.n, g.rc);
    EXPECT(&g, 0, 1, NULL, "{\"a\":1}");
    EXPECT(&g, 1, 2, NULL, "{\"b\":\"x\"}");
    EXPECT(&g, 2, 3, NULL, "{\"c\":[1,2]}");
    CHECK(strcmp(g.raw[2], "  {\"c\":[1,2]}  ") == 0, "raw keeps the line as is: '%s'", g.raw[2]);
    CHECK(g.bytes == strlen(text), "input_bytes %llu, want %zu", g.bytes, strlen(text));
    got_free(&g);
}

typedef struct Line {
    const char *s;
    size_t len;
    const char *reason;
} Line;

#define L(s, r) { s, sizeof(s) - 1, r }

static void test_reason_codes(void)
{
    static const Line lines[] = {
        L("\xEF\xBB\xBF{\"a\":1}", "bom"),
        L("", "empty-line"),
        L(" \t \r", "empty-line"),
        L("{\"a\":\"\xC3\"}", "invalid-utf8"),              /* lead byte, no continuation */
        L("{\"a\":\"\xC0\xAF\"}", "invalid-utf8"),          /* overlong '/' */
        L("{\"a\":\"\xE0\x80\xAF\"}", "invalid-utf8"),      /* overlong, 3 bytes */
        L("{\"a\":\"\xF0\x80\x80\xAF\"}", "invalid-utf8"),  /* overlong, 4 bytes */
        L("{\"a\":\"\xED\xA0\x80\"}", "invalid-utf8"),      /* surrogate U+D800 */
        L("{\"a\":\"\xF4\x90\x80\x80\"}", "invalid-utf8"),  /* U+110000 */
        L("{\"a\":\"\xF5\x80\x80\x80\"}", "invalid-utf8"),
        L("{\"a\":\"\x80\"}", "invalid-utf8"),              /* stray continuation */
        L("{\"a\":\"x\xE2\x82", "invalid-utf8"),            /* truncated at the line end */
        L("{\"a\":\"\xF0\x9F\x98\x80 \xEF\xBB\xBF \xE2\x82\xAC \xF4\x8F\xBF\xBF\"}", NULL),
        L("{\"a\":}", "bad-json"),
        L("{\"a\":1} x", "bad-json"),                      /* trailing garbage */
        L("{\"a\":1}{}", "bad-json"),
        L("{\"a\":1}   \t", NULL),                         /* trailing white space is fine */
        L("[1,2]", "not-an-object"),
        L("\"s\"", "not-an-object"),
        L("42", "not-an-object"),
        L("null", "not-an-object"),
        L("true", "not-an-object"),
        L("{\"a\":\"x\0y\"}", "nul-byte"),
        L("\xEF\xBB\xBF{\"a\":1}", "bad-json"),            /* a BOM after line 1 */
        L("{\"a\":\"\\ud800\"}", "bad-json"),              /* lone surrogate escape */
        L("{\"a\":\"12345678901234567890123456789012345678901234567890\"}", "line-too-long"),
        L("{\"a\":\"1234567890123456789012345678901234567890\"}", NULL),   /* exactly 48 bytes */
        L("{\"a\":\"x\ty\"}", "bad-json"),              /* raw tab in a string (cJSON took it) */
        L("{\"a\":01}", "bad-json"),                      /* leading zero (cJSON: 1) */
        L("{\"a\":\"\\u0000\"}", "bad-json"),             /* NUL escape (cJSON: "") */
        L("{\"a\":1e999}", "bad-json"),                   /* out of range (cJSON: infinity) */
    };
    int n = (int)(sizeof lines / sizeof lines[0]);
    char buf[4096];
    size_t len = 0;
    Got g = {0};
    for (int i = 0; i < n; i++) {
        memcpy(buf + len, lines[i].s, lines[i].len);
        len += lines[i].len;
        buf[len++] = '\n';
    }
    write_file("reasons.ndjson", buf, len);
    CHECK(read_all(path_of("reasons.ndjson"), 48, &g), "open: %s", g.err);
    CHECK(g.n == n && g.rc == 0, "%d records, want %d (rc %d: %s)", g.n, n, g.rc, g.err);
    for (int i = 0; i < n; i++)
        EXPECT(&g, i, i + 1, lines[i].reason, NULL);
    CHECK(strstr(g.detail[3], "byte 7") != NULL, "invalid-utf8 detail names the byte: %s", g.detail[3]);
    CHECK(strstr(g.detail[22], "byte 8") != NULL, "nul-byte detail names the byte: %s", g.detail[22]);
    CHECK(g.rawlen[22] == lines[22].len, "a nul-byte line keeps its raw bytes (%zu)", g.rawlen[22]);
    CHECK(strcmp(g.raw[0], "\xEF\xBB\xBF{\"a\":1}") == 0, "the bom line's raw keeps the BOM");
    CHECK(g.rawlen[25] == lines[25].len, "an over-long line short of 4 KiB is kept whole");
    CHECK(strcmp(g.detail[27], "control character 0x09 in a string (it must be escaped) at byte 8") == 0,
          "bad-json detail names the fault and the byte: %s", g.detail[27]);
    CHECK(strstr(g.detail[30], "out of range") != NULL, "1e999: %s", g.detail[30]);
    for (int i = 0; i < n && i < g.n; i++) {
        int want = !same(lines[i].reason, "invalid-utf8") && !same(lines[i].reason, "nul-byte");
        CHECK(g.raw_utf8[i] == want, "line %d (%s): raw_utf8 %d, want %d", i + 1,
              show(lines[i].reason), g.raw_utf8[i], want);
    }
    got_free(&g);
}

static void test_line_ends(void)
{
    Got g = {0};
    write_str("crlf.ndjson", "{\"a\":1}\r\n{\"b\":2}\r\n\r\n{\"c\":3}\r\n");
    CHECK(read_all(path_of("crlf.ndjson"), 0, &g), "open: %s", g.err);
    CHECK(g.n == 4, "crlf: %d records, want 4", g.n);
    EXPECT(&g, 0, 1, NULL, "{\"a\":1}");
    EXPECT(&g, 1, 2, NULL, "{\"b\":2}");
    EXPECT(&g, 2, 3, "empty-line", NULL);
    EXPECT(&g, 3, 4, NULL, "{\"c\":3}");
    CHECK(strcmp(g.raw[0], "{\"a\":1}") == 0 && g.rawlen[0] == 7, "crlf: raw without CR: '%s'", g.raw[0]);
    got_free(&g);

    write_str("nonl.ndjson", "{\"a\":1}\n{\"b\":2}");
    CHECK(read_all(path_of("nonl.ndjson"), 0, &g), "open: %s", g.err);
    CHECK(g.n == 2 && g.rc == 0, "no final newline: %d records, want 2", g.n);
    EXPECT(&g, 1, 2, NULL, "{\"b\":2}");
    got_free(&g);

    write_str("nonl-crlf.ndjson", "{\"a\":1}\r\n{\"b\":2}\r");
    CHECK(read_all(path_of("nonl-crlf.ndjson"), 0, &g), "open: %s", g.err);
    CHECK(g.n == 2, "CR at end of file: %d records, want 2", g.n);
    EXPECT(&g, 1, 2, NULL, "{\"b\":2}");
    got_free(&g);

    write_str("final.ndjson", "{\"a\":1}\n");
    CHECK(read_all(path_of("final.ndjson"), 0, &g), "open: %s", g.err);
    CHECK(g.n == 1, "the final newline makes no empty record: %d records", g.n);
    got_free(&g);

    write_str("twonl.ndjson", "{\"a\":1}\n\n");
    CHECK(read_all(path_of("twonl.ndjson"), 0, &g), "open: %s", g.err);
    CHECK(g.n == 2, "a blank last line is one empty-line record: %d records", g.n);
    EXPECT(&g, 1, 2, "empty-line", NULL);
    got_free(&g);

    write_str("empty.ndjson", "");
    CHECK(read_all(path_of("empty.ndjson"), 0, &g), "open: %s", g.err);
    CHECK(g.n == 0 && g.rc == 0, "an empty file has no records: %d", g.n);
    got_free(&g);

    write_str("newline.ndjson", "\n");
    CHECK(read_all(path_of("newline.ndjson"), 0, &g), "open: %s", g.err);
    CHECK(g.n == 1, "a lone newline is one empty line: %d", g.n);
    EXPECT(&g, 0, 1, "empty-line", NULL);
    got_free(&g);
}

static void test_unwrap(void)
{
    /* ORDER INPUT_WRAPPERS */
    static const char *const names[] = {
        "customer", "object", "message", "campaign", "broadcast", "newsletter",
        "segment", "action", "content",
    };
    static const char *const macro[] = { INPUT_WRAPPERS };
    static const char *const kept[] = {
        "{\"customer\":1}",
        "{\"customer\":{\"id\":\"x\"},\"x\":1}",
        "{\"x\":1,\"customer\":{\"id\":\"x\"}}",
        "{\"customer\":[{\"id\":\"x\"}]}",
        "{\"customer\":null}",
        "{\"customers\":{\"id\":\"x\"}}",
        "{\"activity\":{\"id\":\"x\"}}",
        "{\"Customer\":{\"id\":\"x\"}}",
        "{}",
    };
    int nn = (int)(sizeof names / sizeof names[0]), nk = (int)(sizeof kept / sizeof kept[0]);
    char text[4096];
    size_t len = 0;
    Got g = {0};
    CHECK(sizeof macro == sizeof names, "INPUT_WRAPPERS has %zu names, the test %d",
          sizeof macro / sizeof macro[0], nn);
    for (int i = 0; i < nn; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "{\"%s\":{\"id\":\"%d\",\"n\":{\"k\":1}}}\n", names[i], i);
    for (int i = 0; i < nk; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s\n", kept[i]);
    len += (size_t)snprintf(text + len, sizeof text - len, "{\"customer\":{\"customer\":{\"id\":\"1\"}}}\n");
    write_file("wrapped.ndjson", text, len);
    CHECK(read_all(path_of("wrapped.ndjson"), 0, &g), "open: %s", g.err);
    CHECK(g.n == nn + nk + 1, "%d records, want %d", g.n, nn + nk + 1);
    for (int i = 0; i < nn; i++) {
        char want[64];
        snprintf(want, sizeof want, "{\"id\":\"%d\",\"n\":{\"k\":1}}", i);
        EXPECT(&g, i, i + 1, NULL, want);
        CHECK(same(g.wrapper[i], names[i]), "wrapper %s, want %s", show(g.wrapper[i]), names[i]);
    }
    for (int i = 0; i < nk; i++) {
        EXPECT(&g, nn + i, nn + i + 1, NULL, kept[i]);
        CHECK(g.wrapper[nn + i] == NULL, "%s is not unwrapped", kept[i]);
    }
    EXPECT(&g, nn + nk, nn + nk + 1, NULL, "{\"customer\":{\"id\":\"1\"}}");
    got_free(&g);
}

static void test_gzip(void)
{
    char big[8192];
    size_t len = 0;
    long n = 0;
    Got g = {0};
    char cmd[1200];
    write_str("src.txt", "{\"customer\":{\"id\":\"1\"}}\n{\"id\":\"2\"}\n[1]\n");
    gzip_to("src.txt", "person.ndjson.gz");
    CHECK(read_all(path_of("person.ndjson.gz"), 0, &g), "open .gz: %s", g.err);
    CHECK(g.n == 3 && g.rc == 0, ".gz: %d records, rc %d (%s)", g.n, g.rc, g.err);
    EXPECT(&g, 0, 1, NULL, "{\"id\":\"1\"}");
    EXPECT(&g, 1, 2, NULL, "{\"id\":\"2\"}");
    EXPECT(&g, 2, 3, "not-an-object", NULL);
    CHECK(g.bytes == (unsigned long long)file_size("src.txt"), ".gz: bytes are the decompressed bytes");
    got_free(&g);

    /* Not gzip data: the records read are whatever came out, then -1. */
    write_str("junk.ndjson.gz", "this is not gzip\n");
    CHECK(read_all(path_of("junk.ndjson.gz"), 0, &g), "open junk .gz: %s", g.err);
    CHECK(g.rc == -1 && strstr(g.err, "gzip -dc failed"), "a corrupt .gz is a read error: rc %d '%s'", g.rc, g.err);
    got_free(&g);

    /* Truncated: the first records come out, then -1. */
    while (len + 64 < sizeof big) {
        n++;
        len += (size_t)snprintf(big + len, sizeof big - len, "{\"i\":%ld,\"pad\":\"%08ld\"}\n", n, n * 7919);
    }
    write_file("big.txt", big, len);
    gzip_to("big.txt", "big.ndjson.gz");
    snprintf(cmd, sizeof cmd, "head -c %ld '%s' > '%s'", file_size("big.ndjson.gz") / 2,
             path_of("big.ndjson.gz"), path_of("cut.ndjson.gz"));
    run(cmd);
    CHECK(read_all(path_of("cut.ndjson.gz"), 0, &g), "open cut .gz: %s", g.err);
    CHECK(g.rc == -1 && strstr(g.err, "gzip"), "a truncated .gz is a read error: rc %d '%s'", g.rc, g.err);
    got_free(&g);

    /* Closing a .gz early neither hangs nor leaks. */
    {
        Input *in = input_open(path_of("big.ndjson.gz"), g.err, sizeof g.err);
        InputRecord rec;
        CHECK(in != NULL, "open big .gz: %s", g.err);
        if (in) {
            CHECK(input_next(in, &rec, g.err, sizeof g.err) == 1 && rec.reason == NULL, "first record of big .gz");
            input_close(in);
        }
    }

    CHECK(!read_all(path_of("missing.ndjson.gz"), 0, &g) && strstr(g.err, "No such file"),
          "a missing .gz fails at open: '%s'", g.err);
    got_free(&g);
}

/* The kind input_open finds for spec (a copy), or NULL with err. */
static char *kind_of(const char *spec, char *err, size_t errlen)
{
    Input *in = input_open(spec, err, errlen);
    char *k;
    if (!in)
        return NULL;
    k = malloc(strlen(input_kind(in)) + strlen(input_path(in)) + 2);
    sprintf(k, "%s %s", input_kind(in), input_path(in));
    input_close(in);
    return k;
}

/* spec opens with kind want and input_path path (NULL: spec itself). */
static void check_kind(const char *spec, const char *want, const char *path, int src)
{
    char err[256] = "", wantbuf[600];
    char *got = kind_of(spec, err, sizeof err);
    snprintf(wantbuf, sizeof wantbuf, "%s %s", want, path ? path : spec);
    check(got && strcmp(got, wantbuf) == 0, src, "%s: kind+path '%s', want '%s' (%s)", spec, show(got), wantbuf, err);
    free(got);
}

static void check_refused(const char *spec, const char *msg, int src)
{
    char err[256] = "";
    char *got = kind_of(spec, err, sizeof err);
    check(!got && strstr(err, msg) != NULL, src, "%s: should fail with '%s', got '%s' / '%s'",
          spec, msg, show(got), err);
    free(got);
}

static void test_kinds(void)
{
    static const char *const files[] = {
        "person.ndjson", "delivery-2024.ndjson", "object_type.ndjson", "activity_2024_01.ndjson",
        "segment_membership.ndjson", "person.part2.ndjson", "2024.ndjson", "x.txt", "-x.ndjson",
    };
    char spec[600];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        write_str(files[i], "");
    gzip_to("x.txt", "activity.ndjson.gz");
    mkdir(path_of("a=b"), 0755);
    write_str("a=b/relationship.ndjson", "");

    check_kind(path_of("person.ndjson"), "person", NULL, __LINE__);
    check_kind(path_of("activity.ndjson.gz"), "activity", NULL, __LINE__);
    check_kind(path_of("delivery-2024.ndjson"), "delivery", NULL, __LINE__);
    check_kind(path_of("object_type.ndjson"), "object_type", NULL, __LINE__);
    check_kind(path_of("activity_2024_01.ndjson"), "activity", NULL, __LINE__);
    check_kind(path_of("segment_membership.ndjson"), "segment_membership", NULL, __LINE__);
    check_kind(path_of("person.part2.ndjson"), "person", NULL, __LINE__);
    check_kind(path_of("a=b/relationship.ndjson"), "relationship", NULL, __LINE__);
    snprintf(spec, sizeof spec, "delivery=%s", path_of("x.txt"));
    check_kind(spec, "delivery", path_of("x.txt"), __LINE__);
    snprintf(spec, sizeof spec, "object_type=%s", path_of("2024.ndjson"));
    check_kind(spec, "object_type", path_of("2024.ndjson"), __LINE__);

    check_refused(path_of("2024.ndjson"), "KIND=", __LINE__);
    check_refused(path_of("-x.ndjson"), "cannot tell the kind", __LINE__);
    check_refused("-", "KIND=-", __LINE__);
    check_refused("person=", "no file name", __LINE__);
    snprintf(spec, sizeof spec, "bad-kind=%s", path_of("x.txt"));
    check_refused(spec, "not a plain identifier", __LINE__);
    check_refused(path_of("nope.ndjson"), "No such file", __LINE__);
    snprintf(spec, sizeof spec, "person=%s", dir);
    check_refused(spec, "is a directory", __LINE__);
    check_refused("", "empty", __LINE__);
}

static void test_stdin(void)
{
    Got g = {0};
    Input *in;
    write_str("stdin.txt", "{\"id\":\"1\"}\n\n{\"object\":{\"id\":\"2\"}}");
    if (!freopen(path_of("stdin.txt"), "r", stdin)) {
        CHECK(0, "freopen stdin");
        return;
    }
    in = input_open("person=-", g.err, sizeof g.err);
    CHECK(in != NULL, "person=- opens: %s", g.err);
    if (!in)
        return;
    CHECK(strcmp(input_kind(in), "person") == 0, "stdin kind %s", input_kind(in));
    CHECK(strcmp(input_path(in), "<stdin>") == 0, "stdin path %s", input_path(in));
    drain(in, &g);
    CHECK(g.n == 3 && g.rc == 0, "stdin: %d records", g.n);
    EXPECT(&g, 0, 1, NULL, "{\"id\":\"1\"}");
    EXPECT(&g, 1, 2, "empty-line", NULL);
    EXPECT(&g, 2, 3, NULL, "{\"id\":\"2\"}");
    got_free(&g);
}

/* Write a file whose line 2 is a JSON object of about `size` bytes. */
static size_t write_big_line(const char *name, size_t size, const char *eol)
{
    FILE *fp = fopen(path_of(name), "wb");
    static char block[65536];
    size_t n = 0;
    memset(block, 'x', sizeof block);
    fputs("{\"a\":1}\n{\"big\":\"", fp);
    for (; n + sizeof block <= size; n += sizeof block)
        fwrite(block, 1, sizeof block, fp);
    fprintf(fp, "\"}%s{\"b\":2}\n{\"c\":3}", eol);
    fclose(fp);
    return n + 10;              /* {"big":" + n + "} */
}

static void test_huge_line(void)
{
    Got g = {0};
    size_t biglen = write_big_line("huge.ndjson", 20 * MIB, "\r\n");
    char want[64];
    snprintf(want, sizeof want, "line of %zu bytes", biglen);
    CHECK(read_all(path_of("huge.ndjson"), MIB, &g), "open: %s", g.err);
    CHECK(g.n == 4 && g.rc == 0, "huge: %d records, rc %d", g.n, g.rc);
    EXPECT(&g, 0, 1, NULL, "{\"a\":1}");
    EXPECT(&g, 1, 2, "line-too-long", NULL);
    EXPECT(&g, 2, 3, NULL, "{\"b\":2}");
    EXPECT(&g, 3, 4, NULL, "{\"c\":3}");
    CHECK(g.rawlen[1] == INPUT_KEEP_PREFIX, "kept prefix %zu bytes", g.rawlen[1]);
    CHECK(strncmp(g.raw[1], "{\"big\":\"xxxx", 12) == 0, "prefix starts the line: %.20s", g.raw[1]);
    CHECK(strstr(g.detail[1], want) != NULL, "detail '%s' has '%s'", g.detail[1], want);
    CHECK(g.maxcap < 2 * MIB, "buffer capacity %zu stays under 2 MiB", g.maxcap);
    got_free(&g);

    /* The same through gzip (the pipe path). */
    gzip_to("huge.ndjson", "huge.ndjson.gz");
    CHECK(read_all(path_of("huge.ndjson.gz"), MIB, &g), "open: %s", g.err);
    CHECK(g.n == 4 && g.rc == 0, "huge .gz: %d records, rc %d (%s)", g.n, g.rc, g.err);
    EXPECT(&g, 1, 2, "line-too-long", NULL);
    EXPECT(&g, 3, 4, NULL, "{\"c\":3}");
    CHECK(g.maxcap < 2 * MIB, "gz: buffer capacity %zu stays under 2 MiB", g.maxcap);
    got_free(&g);

    /* Over the limit at the end of input, without a newline. */
    {
        char text[300];
        memset(text, 'y', sizeof text);
        memcpy(text, "{\"a\":1}\n", 8);
        write_file("longlast.ndjson", text, sizeof text);
        CHECK(read_all(path_of("longlast.ndjson"), 100, &g), "open: %s", g.err);
        CHECK(g.n == 2, "long last line: %d records", g.n);
        EXPECT(&g, 1, 2, "line-too-long", NULL);
        CHECK(g.rawlen[1] == sizeof text - 8, "kept %zu bytes", g.rawlen[1]);
        CHECK(strstr(g.detail[1], "292 bytes") != NULL, "detail %s", g.detail[1]);
        got_free(&g);
    }
}

/*
** The kept prefix of an over-long line never ends in half a character, and
** raw_utf8 says whether it is clean text.  Line 1 is '{"ab":"' then 'é' (2
** bytes) repeated: byte 4096 falls inside an 'é', so 4095 bytes are kept.
** Line 2 is the same with a NUL in its prefix; line 3 has a stray byte.
*/
static void test_prefix_cut(void)
{
    static char text[3 * 10100];
    size_t len = 0;
    Got g = {0};
    for (int l = 0; l < 3; l++) {
        size_t start = len;
        memcpy(text + len, "{\"ab\":\"", 7);
        len += 7;
        for (int i = 0; i < 5000; i++, len += 2)
            memcpy(text + len, "\xC3\xA9", 2);
        memcpy(text + len, "\"}\n", 3);
        len += 3;
        if (l == 1)
            text[start + 100] = '\0';
        if (l == 2)
            text[start + 101] = '\x80';
    }
    write_file("cut.ndjson", text, len);
    CHECK(read_all(path_of("cut.ndjson"), 1000, &g), "open: %s", g.err);
    CHECK(g.n == 3, "cut: %d records", g.n);
    for (int i = 0; i < 3; i++)
        EXPECT(&g, i, i + 1, "line-too-long", NULL);
    CHECK(g.rawlen[0] == 4095 && g.raw_utf8[0] == 1, "prefix cut to %zu bytes, utf8 %d", g.rawlen[0], g.raw_utf8[0]);
    CHECK(g.rawlen[1] == 4095 && g.raw_utf8[1] == 0, "prefix with a NUL: %zu bytes, utf8 %d", g.rawlen[1], g.raw_utf8[1]);
    CHECK(g.raw_utf8[2] == 0, "prefix with a stray byte: utf8 %d", g.raw_utf8[2]);
    CHECK(strstr(g.detail[0], "line of 10009 bytes") != NULL, "detail %s", g.detail[0]);
    got_free(&g);

    /* The same with the skipping reader (the line is longer than limit + chunk). */
    CHECK(read_all(path_of("cut.ndjson"), 5000, &g), "open: %s", g.err);
    CHECK(g.n == 3 && g.rawlen[0] == 4095 && g.raw_utf8[0] == 1, "skipping: %d records, prefix %zu",
          g.n, g.rawlen[0]);
    got_free(&g);
}

static void test_long_accepted_line(void)
{
    Got g = {0};
    write_big_line("long.ndjson", 3 * MIB / 2, "\n");
    CHECK(read_all(path_of("long.ndjson"), 0, &g), "open: %s", g.err);
    CHECK(g.n == 4 && g.rc == 0, "long: %d records", g.n);
    EXPECT(&g, 1, 2, NULL, NULL);
    CHECK(g.json[1] && strlen(g.json[1]) == 3 * MIB / 2 + 10, "the long record parses whole");
    EXPECT(&g, 3, 4, NULL, "{\"c\":3}");
    CHECK(g.maxcap >= 3 * MIB / 2 && g.maxcap < 3 * MIB, "capacity %zu grows to the line", g.maxcap);
    got_free(&g);
}

/* Many lines of varied length: chunk boundaries fall everywhere. */
static void test_many_lines(void)
{
    const long n = 200000;
    FILE *fp = fopen(path_of("many.ndjson"), "wb");
    Input *in;
    InputRecord rec;
    char err[256] = "";
    long good = 0, bad = 0;
    size_t maxcap = 0;
    for (long i = 1; i <= n; i++)
        fprintf(fp, "{\"i\":%ld,\"pad\":\"%.*s\"}%s", i, (int)(i % 97), "----------------------------------------"
                "------------------------------------------------------------", i % 5 ? "\n" : "\r\n");
    fclose(fp);
    in = input_open(path_of("many.ndjson"), err, sizeof err);
    CHECK(in != NULL, "open: %s", err);
    if (!in)
        return;
    while (input_next(in, &rec, err, sizeof err) == 1) {
        const cJSON *i = rec.json ? cJSON_GetObjectItemCaseSensitive(rec.json, "i") : NULL;
        if (rec.reason == NULL && i && (long)i->valuedouble == rec.line && rec.raw[rec.rawlen] == '\0')
            good++;
        else if (bad++ < 3)
            CHECK(0, "line %ld: %s %s", rec.line, show(rec.reason), show(rec.detail));
        if (input_buffer_capacity(in) > maxcap)
            maxcap = input_buffer_capacity(in);
    }
    CHECK(good == n, "many: %ld good records of %ld", good, n);
    CHECK(input_bytes(in) == (unsigned long long)file_size("many.ndjson"), "many: bytes %llu", input_bytes(in));
    CHECK(maxcap <= 512 * 1024 + 1, "many: capacity %zu stays at a chunk or two", maxcap);
    input_close(in);
}

int main(void)
{
    char cmd[300];
    snprintf(dir, sizeof dir, "%s/test_input.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_good_records();
    test_reason_codes();
    test_line_ends();
    test_unwrap();
    test_gzip();
    test_kinds();
    test_stdin();
    test_huge_line();
    test_prefix_cut();
    test_long_accepted_line();
    test_many_lines();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    run(cmd);
    return unit_summary();
}

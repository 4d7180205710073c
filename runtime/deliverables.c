/*
** deliverables: `maprun deliverables` (deliverables.h, docs/deliverables.md).
**
** One pass over the plan finds the sections: every (target, name) that a
** rule writes, inventory and flag sections always, exclusion reasons only
** when the rules describe them (an exclusion is otherwise just a count in
** the report).  Sections group into documents by their name: "A: b" is the
** part "b" of the document "A"; documents keep the order of the rules.  One
** prefix scan of `entries` per section collects its rows; the columns are
** the union of the rows' column names, in the order first met.
**
** Every cell and every text is escaped for its format: Markdown cells get
** their pipes, backslashes and emphasis characters backslash-escaped, `<`
** and `&` as entities, and line breaks as <br>; HTML gets the five entities
** and nothing unescaped (no scripts, no attributes from the data).
*/
#include "deliverables.h"

#include "plan.h"
#include "stage.h"

#include <cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One section: a rule target's name.  Owns rows and cols. */
typedef struct Section {
    PlanTarget target;
    const char *name;       /* the plan's string */
    const char *part;       /* the text after "Document: ", or NULL for the document's own section */
    const char *note;       /* the description, or NULL */
    int doc;                /* index into Deliv.docs */
    cJSON *rows;            /* array of {"src", "rule", "columns"} */
    cJSON *cols;            /* array of column names */
} Section;

/* One document: a file in the output directory. */
typedef struct Doc {
    char *title;            /* owned */
    char slug[72];          /* the file name without its extension */
    int rows;
} Doc;

typedef struct Deliv {
    const DelivOptions *o;
    Stage *st;
    Plan plan;
    bool have_plan;
    Section *secs;
    int nsecs;
    Doc *docs;
    int ndocs;
    char dir[4096];
} Deliv;

static const char *const TARGET_WORDS[] = {"object", "inventory", "flag", "exclude"};   /* ORDER PlanTarget */

int deliv_format_parse(const char *s, DelivFormat *f)
{
    if (strcmp(s, "md") == 0)
        *f = DELIV_MD;
    else if (strcmp(s, "html") == 0)
        *f = DELIV_HTML;
    else
        return -1;
    return 0;
}

/* ---- finding the sections and documents */

static const char *note_of(const Plan *p, PlanTarget t, const char *name)
{
    for (uint32_t i = 0; i < p->nnotes; i++)
        if (p->notes[i].target == (uint32_t)t && strcmp(plan_s(p, p->notes[i].section), name) == 0)
            return plan_s(p, p->notes[i].text);
    return NULL;
}

/* "Journeys and Campaigns" -> "journeys-and-campaigns": ASCII letters and
** digits, every other run of bytes one '-'; unique among the documents. */
static void make_slug(Deliv *D, Doc *d)
{
    size_t n = 0;
    bool dash = false;
    for (const char *s = d->title; *s && n < 60; s++) {
        char c = *s;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) {
            if (dash && n > 0)
                d->slug[n++] = '-';
            d->slug[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            dash = false;
        } else {
            dash = true;
        }
    }
    if (n == 0)
        d->slug[n++] = 's';
    d->slug[n] = '\0';
    char base[72];
    memcpy(base, d->slug, sizeof base);
    for (int k = 2;; k++) {
        bool taken = strcmp(d->slug, "index") == 0;
        for (int i = 0; i < D->ndocs && !taken; i++)
            taken = &D->docs[i] != d && strcmp(D->docs[i].slug, d->slug) == 0;
        if (!taken)
            return;
        snprintf(d->slug, sizeof d->slug, "%.60s-%d", base, k % 100000);
    }
}

static int doc_index(Deliv *D, const char *title, size_t len)
{
    for (int i = 0; i < D->ndocs; i++)
        if (strlen(D->docs[i].title) == len && strncmp(D->docs[i].title, title, len) == 0)
            return i;
    Doc *d = &D->docs[D->ndocs];
    memset(d, 0, sizeof *d);
    d->title = strndup(title, len);
    make_slug(D, d);
    return D->ndocs++;
}

static void add_section(Deliv *D, PlanTarget t, const char *name)
{
    for (int i = 0; i < D->nsecs; i++)
        if (D->secs[i].target == t && strcmp(D->secs[i].name, name) == 0)
            return;
    const char *note = note_of(&D->plan, t, name);
    if (t == PT_EXCLUDE && !note)
        return;
    Section *s = &D->secs[D->nsecs++];
    memset(s, 0, sizeof *s);
    s->target = t;
    s->name = name;
    s->note = note;
    const char *colon = strstr(name, ": ");
    s->part = colon && colon[2] ? colon + 2 : NULL;
    s->doc = doc_index(D, name, s->part ? (size_t)(colon - name) : strlen(name));
    s->rows = cJSON_CreateArray();
    s->cols = cJSON_CreateArray();
}

static int visit_entry(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k;
    (void)kl;
    Section *s = ctx;
    cJSON *e = cJSON_ParseWithLength(v, vl);
    if (!e)
        return 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(e, "columns")) {
        bool known = false;
        const cJSON *have;
        cJSON_ArrayForEach(have, s->cols)
            known = known || strcmp(have->valuestring, c->string) == 0;
        if (!known)
            cJSON_AddItemToArray(s->cols, cJSON_CreateString(c->string));
    }
    cJSON_AddItemToArray(s->rows, e);
    return 0;
}

/* The entries of one section: keys TARGET \0 SECTION \0 FILE \0 LINE \0 RULE. */
static int read_rows(Deliv *D, Section *s)
{
    const char *t = TARGET_WORDS[s->target];
    size_t tl = strlen(t), nl = strlen(s->name);
    char *prefix = malloc(tl + nl + 2);
    if (!prefix)
        return -1;
    memcpy(prefix, t, tl + 1);
    memcpy(prefix + tl + 1, s->name, nl + 1);
    int rc = stage_scan(D->st, DB_ENTRIES, prefix, tl + nl + 2, visit_entry, s);
    free(prefix);
    D->docs[s->doc].rows += cJSON_GetArraySize(s->rows);
    return rc;
}

static int open_state(Deliv *D)
{
    char err[512];
    if (stage_open(&D->st, D->o->state, false, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        return -1;
    }
    if (stage_load_plan(D->st, &D->plan, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s: %s\n", D->o->state, err);
        return -1;
    }
    D->have_plan = true;
    D->secs = calloc((size_t)D->plan.nrules + 1, sizeof *D->secs);
    D->docs = calloc((size_t)D->plan.nrules + 1, sizeof *D->docs);
    if (!D->secs || !D->docs)
        return -1;
    for (uint32_t r = 0; r < D->plan.nrules; r++) {
        const PlanRule *rule = &D->plan.rules[r];
        if (rule->target != PT_OBJECT)
            add_section(D, (PlanTarget)rule->target, plan_s(&D->plan, rule->section));
    }
    for (int i = 0; i < D->nsecs; i++)
        if (read_rows(D, &D->secs[i]) != 0) {
            fprintf(stderr, "maprun: cannot read the entries: %s\n", stage_error(D->st));
            return -1;
        }
    return 0;
}

/* ---- rendering */

typedef struct Out {
    FILE *f;
    DelivFormat fmt;
} Out;

/* Text escaped for the format.  In a cell (cell = true) a line break is
** <br>; in running text it starts a new paragraph. */
static void esc(Out *o, const char *s, bool cell)
{
    for (; s && *s; s++) {
        char c = *s;
        if (c == '\r')
            continue;
        if (c == '\n') {
            if (cell)
                fputs("<br>", o->f);
            else
                fputs(o->fmt == DELIV_HTML ? "</p>\n<p>" : "\n\n", o->f);
            continue;
        }
        switch (c) {
        case '&': fputs("&amp;", o->f); continue;
        case '<': fputs("&lt;", o->f); continue;
        case '>': fputs("&gt;", o->f); continue;
        default: break;
        }
        if (o->fmt == DELIV_HTML) {
            if (c == '"')
                fputs("&quot;", o->f);
            else if (c == '\'')
                fputs("&#39;", o->f);
            else
                putc(c, o->f);
            continue;
        }
        if (c == '|' || c == '\\' || c == '*' || c == '`' || c == '[' || c == ']')
            putc('\\', o->f);
        putc(c, o->f);
    }
}

static void heading(Out *o, int level, const char *text)
{
    if (o->fmt == DELIV_HTML) {
        fprintf(o->f, "<h%d>", level);
        esc(o, text, true);
        fprintf(o->f, "</h%d>\n", level);
    } else {
        fprintf(o->f, "%.*s ", level, "######");
        esc(o, text, true);
        fputs("\n\n", o->f);
    }
}

static void para(Out *o, const char *text)
{
    fputs(o->fmt == DELIV_HTML ? "<p>" : "", o->f);
    esc(o, text, false);
    fputs(o->fmt == DELIV_HTML ? "</p>\n" : "\n\n", o->f);
}

/* A cell's text: strings as they are, null empty, other values as JSON. */
static void cell(Out *o, const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return;
    if (cJSON_IsString(v)) {
        esc(o, v->valuestring, true);
        return;
    }
    char *text = cJSON_PrintUnformatted(v);
    esc(o, text, true);
    free(text);
}

static void row_start(Out *o)
{
    fputs(o->fmt == DELIV_HTML ? "<tr>" : "|", o->f);
}

static void row_cell(Out *o, bool head, const cJSON *v, const char *text)
{
    if (o->fmt == DELIV_HTML)
        fputs(head ? "<th>" : "<td>", o->f);
    else
        putc(' ', o->f);
    if (text)
        esc(o, text, true);
    else
        cell(o, v);
    if (o->fmt == DELIV_HTML)
        fputs(head ? "</th>" : "</td>", o->f);
    else
        fputs(" |", o->f);
}

static void row_end(Out *o)
{
    fputs(o->fmt == DELIV_HTML ? "</tr>\n" : "\n", o->f);
}

static void section_table(Out *o, const Section *s)
{
    int n = cJSON_GetArraySize(s->rows);
    if (n == 0) {
        para(o, "No rows.");
        return;
    }
    const cJSON *c, *e;
    fputs(o->fmt == DELIV_HTML ? "<table>\n" : "", o->f);
    row_start(o);
    cJSON_ArrayForEach(c, s->cols)
        row_cell(o, true, NULL, c->valuestring);
    row_cell(o, true, NULL, "source");
    row_end(o);
    if (o->fmt == DELIV_MD) {
        for (int i = 0; i <= cJSON_GetArraySize(s->cols); i++)
            fputs("|:---", o->f);
        fputs("|\n", o->f);
    }
    cJSON_ArrayForEach(e, s->rows) {
        const cJSON *cols = cJSON_GetObjectItemCaseSensitive(e, "columns");
        row_start(o);
        cJSON_ArrayForEach(c, s->cols)
            row_cell(o, false, cJSON_GetObjectItemCaseSensitive(cols, c->valuestring), NULL);
        row_cell(o, false, cJSON_GetObjectItemCaseSensitive(e, "src"), NULL);
        row_end(o);
    }
    fputs(o->fmt == DELIV_HTML ? "</table>\n" : "\n", o->f);
}

static const char CSS[] =
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:80em}"
    "table{border-collapse:collapse;margin:0 0 1.5em}"
    "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}"
    "th{background:#eee}";

static void page_start(Out *o, const char *title)
{
    if (o->fmt != DELIV_HTML)
        return;
    fprintf(o->f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    esc(o, title, true);
    fprintf(o->f, "</title>\n<style>%s</style>\n</head>\n<body>\n", CSS);
}

static void page_end(Out *o)
{
    if (o->fmt == DELIV_HTML)
        fputs("</body>\n</html>\n", o->f);
}

static const char *ext(const Deliv *D)
{
    return D->o->format == DELIV_HTML ? "html" : "md";
}

static FILE *open_out(const Deliv *D, const char *slug)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.%s", D->dir, slug, ext(D));
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "maprun: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fputs("maprun: cannot write a deliverable\n", stderr);
        return -1;
    }
    return 0;
}

/* "12 rows", "1 row". */
static void rows_text(char *buf, size_t n, int rows)
{
    snprintf(buf, n, "%d row%s", rows, rows == 1 ? "" : "s");
}

static int write_doc(Deliv *D, int di)
{
    const Doc *d = &D->docs[di];
    FILE *f = open_out(D, d->slug);
    if (!f)
        return -1;
    Out o = {f, D->o->format};
    char text[64];
    page_start(&o, d->title);
    heading(&o, 1, d->title);
    const char *migration = plan_s(&D->plan, D->plan.migration);
    if (*migration)
        para(&o, migration);
    for (int pass = 0; pass < 2; pass++)          /* the document's own section first, then its parts */
        for (int i = 0; i < D->nsecs; i++) {
            const Section *s = &D->secs[i];
            if (s->doc != di || (pass == 0) != (s->part == NULL))
                continue;
            rows_text(text, sizeof text, cJSON_GetArraySize(s->rows));
            if (s->part)
                heading(&o, 2, s->part);
            if (s->note)
                para(&o, s->note);
            if (s->target == PT_EXCLUDE)
                para(&o, "Excluded from the migration with this reason; each row is one excluded source record.");
            para(&o, text);
            section_table(&o, s);
        }
    page_end(&o);
    return close_out(f);
}

static int write_index(Deliv *D)
{
    FILE *f = open_out(D, "index");
    if (!f)
        return -1;
    Out o = {f, D->o->format};
    char text[64];
    page_start(&o, "Migration deliverables");
    heading(&o, 1, "Migration deliverables");
    const char *migration = plan_s(&D->plan, D->plan.migration);
    if (*migration)
        para(&o, migration);
    para(&o, D->ndocs ? "The documents this migration hands over besides its records, with their row counts."
                      : "The rules write no inventory, flag or described exclusion: there is nothing to hand over.");
    if (D->ndocs) {
        fputs(o.fmt == DELIV_HTML ? "<table>\n<tr><th>document</th><th>rows</th></tr>\n"
                                  : "| document | rows |\n|:---|---:|\n", f);
        for (int i = 0; i < D->ndocs; i++) {
            const Doc *d = &D->docs[i];
            if (o.fmt == DELIV_HTML) {
                fprintf(f, "<tr><td><a href=\"%s.html\">", d->slug);   /* slugs are [a-z0-9-] */
                esc(&o, d->title, true);
                fprintf(f, "</a></td><td>%d</td></tr>\n", d->rows);
            } else {
                fputs("| [", f);
                esc(&o, d->title, true);
                fprintf(f, "](%s.md) | %d |\n", d->slug, d->rows);
            }
        }
        fputs(o.fmt == DELIV_HTML ? "</table>\n" : "\n", f);
    }
    int total = 0;
    for (int i = 0; i < D->ndocs; i++)
        total += D->docs[i].rows;
    rows_text(text, sizeof text, total);
    para(&o, text);
    page_end(&o);
    return close_out(f);
}

/* ---- the run */

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "maprun: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "maprun: %s is not a directory\n", dir);
        return -1;
    }
    return 0;
}

static void deliv_free(Deliv *D)
{
    for (int i = 0; i < D->nsecs; i++) {
        cJSON_Delete(D->secs[i].rows);
        cJSON_Delete(D->secs[i].cols);
    }
    for (int i = 0; i < D->ndocs; i++)
        free(D->docs[i].title);
    free(D->secs);
    free(D->docs);
    if (D->have_plan)
        plan_free(&D->plan);
    if (D->st)
        stage_close(D->st);
}

int deliv_run(const DelivOptions *o)
{
    Deliv D = {.o = o};
    int rc = 1;
    if (open_state(&D) < 0)
        goto done;
    if (o->out_dir)
        snprintf(D.dir, sizeof D.dir, "%s", o->out_dir);
    else
        snprintf(D.dir, sizeof D.dir, "%s/deliverables", o->state);
    if (make_dir(D.dir) < 0)
        goto done;
    for (int i = 0; i < D.ndocs; i++)
        if (write_doc(&D, i) < 0)
            goto done;
    if (write_index(&D) < 0)
        goto done;
    rc = 0;
done:
    deliv_free(&D);
    return rc;
}

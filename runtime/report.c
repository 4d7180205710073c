/*
** report: `maprun report` (report.h, docs/report.md).
**
** The report is built once as a JSON document (the --format json output);
** the Markdown and HTML renderers only read that document, so the three
** formats always carry the same numbers.  Building it takes one pass over
** the staged records of each object (looking each up in `loaded` and
** `failed`), one over `entries` and one over `quarantine`; the failed and
** quarantined rows go to their CSVs during those passes.
**
** Source records end to end: every staged record and every report entry
** names the source record it came from ("src": "file:line").  Those
** (src, kind, state) triples are collected, sorted by src, and each source
** record takes the strongest state of its outputs (SrcState below).  Records
** of a kind that produced output but are the src of nothing were merged into
** records another source record made first (many people -> one domain
** Account): they count as "merged", under loaded.
*/
#include "report.h"

#include "csv.h"
#include "plan.h"
#include "stage.h"
#include "state.h"

#include <cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef unsigned long long Count;

/* A source record's state, weakest first: it takes the strongest state of
** its outputs.  EXCLUDED (an exclusion entry names it) overrides the rest:
** the staging summary counted it as excluded, not as output. */
/* Ordered: a source record takes the last state of all its outputs'.  Held:
** not sent, because a record it refers to is not staged at all (an event
** of a person deleted at the source) — by design, not a failure. */
typedef enum { SRC_REPORTED, SRC_LOADED, SRC_HELD, SRC_PENDING, SRC_FAILED, SRC_EXCLUDED } SrcState;

typedef struct SrcRef {
    char *src;              /* "file:line" (owned) */
    int kind;               /* index into Report.kinds, or -1 */
    SrcState state;
} SrcRef;

/* Source-level counts of one kind (phase 3). */
typedef struct KindEnd {
    Count loaded, reported, held, failed, pending;
} KindEnd;

/* One object's pass (phase 2). */
typedef struct ObjCount {
    const char *name;
    Count staged, created, updated, held, failed, pending, changed, gone;
    cJSON *by_code;         /* code -> records */
} ObjCount;

/* Everything one report run holds.  Owns the plan, the meta JSON values,
** the document and the src triples; rc is sticky (-1: a write failed). */
typedef struct Report {
    const ReportOptions *o;
    Stage *st;
    Plan plan;
    bool have_plan;
    cJSON *summary, *load, *verify;     /* meta values (load and verify may be NULL) */
    const char **kinds;                 /* the summary's kinds, in its order */
    int nkinds;
    int *rule_kind;                     /* plan rule -> index into kinds, or -1 */
    SrcRef *srcs;
    size_t nsrcs, capsrcs;
    KindEnd *ends;                      /* per kind */
    FILE *failed_csv, *quarantined_csv;
    ObjCount oc;                        /* the object being counted */
    cJSON *doc;
    int nidentities, nbroken;
    int rc;
} Report;

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static Count jcount(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? (Count)v->valuedouble : 0;
}

static void add_count(cJSON *o, const char *k, Count n)
{
    cJSON_AddNumberToObject(o, k, (double)n);
}

/* o[k] += 1, creating the member. */
static void bump(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (v)
        cJSON_SetNumberValue(v, v->valuedouble + 1);
    else
        cJSON_AddNumberToObject(o, k, 1);
}

int report_format_parse(const char *s, ReportFormat *f)
{
    static const char *const names[] = {"md", "html", "json"};   /* ORDER ReportFormat */
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *f = (ReportFormat)i;
            return 0;
        }
    return -1;
}

/* ---- reading the state */

static int kind_index(const Report *R, const char *kind)
{
    for (int i = 0; i < R->nkinds; i++)
        if (strcmp(R->kinds[i], kind) == 0)
            return i;
    return -1;
}

/* The kind of the source records a rule reads, as an index into kinds. */
static int kind_of_rule(const Report *R, const char *rule)
{
    for (uint32_t r = 0; rule && r < R->plan.nrules; r++)
        if (strcmp(plan_s(&R->plan, R->plan.rules[r].name), rule) == 0)
            return R->rule_kind[r];
    return -1;
}

static cJSON *meta_json(Report *R, const char *name)
{
    return state_get_json(R->st, DB_META, name, strlen(name));
}

/* Open the state and read the summary, the plan and the load and verify
** results; -1 after saying why. */
static int open_state(Report *R)
{
    char err[512];
    if (stage_open(&R->st, R->o->state, false, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        return -1;
    }
    if (!(R->summary = meta_json(R, "summary")) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(R->summary, "kinds"))) {
        fprintf(stderr, "maprun: %s holds no staging run\n", R->o->state);
        return -1;
    }
    if (stage_load_plan(R->st, &R->plan, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        return -1;
    }
    R->have_plan = true;
    R->load = meta_json(R, "load");
    R->verify = meta_json(R, "verify");
    const cJSON *k, *kinds = cJSON_GetObjectItemCaseSensitive(R->summary, "kinds");
    R->kinds = calloc((size_t)cJSON_GetArraySize(kinds) + 1, sizeof *R->kinds);
    cJSON_ArrayForEach(k, kinds)
        R->kinds[R->nkinds++] = k->string;
    R->ends = calloc((size_t)R->nkinds + 1, sizeof *R->ends);
    R->rule_kind = calloc((size_t)R->plan.nrules + 1, sizeof *R->rule_kind);
    for (uint32_t r = 0; r < R->plan.nrules; r++)
        R->rule_kind[r] = kind_index(R, plan_s(&R->plan, R->plan.rules[r].kind));
    return 0;
}

static void add_src(Report *R, const char *src, const char *rule, SrcState state)
{
    if (!src || !*src)
        return;
    if (R->nsrcs == R->capsrcs) {
        R->capsrcs = R->capsrcs ? 2 * R->capsrcs : 256;
        R->srcs = realloc(R->srcs, R->capsrcs * sizeof *R->srcs);
    }
    R->srcs[R->nsrcs++] = (SrcRef){strdup(src), kind_of_rule(R, rule), state};
}

static void csv_row(Report *R, FILE *f, const char *const *cells, int n)
{
    if (f && csv_put_safe_row(f, cells, n) < 0)
        R->rc = -1;
}

/* Where one staged record stands: loaded with the hash staged now, failed
** with it, or pending (never sent, changed since it was loaded, or held
** back); counted into R->oc, failed ones written to failed.csv. */
static SrcState record_state(Report *R, const void *k, size_t kl, const cJSON *rec)
{
    ObjCount *c = &R->oc;
    const char *hash = jstr(rec, "hash");
    cJSON *done = state_get_json(R->st, DB_LOADED, k, kl);
    bool loaded = done && hash && jstr(done, "hash") && strcmp(jstr(done, "hash"), hash) == 0;
    if (loaded) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(done, "created")))
            c->created++;
        else
            c->updated++;
        cJSON_Delete(done);
        return SRC_LOADED;
    }
    c->changed += done != NULL;
    cJSON_Delete(done);
    cJSON *fail = state_get_json(R->st, DB_FAILED, k, kl);
    SrcState s = SRC_PENDING;
    if (fail && hash && jstr(fail, "hash") && strcmp(jstr(fail, "hash"), hash) == 0) {
        const char *code = jstr(fail, "code") ? jstr(fail, "code") : "";
        if (strcmp(code, "PARENT_NOT_STAGED") == 0) {
            c->held++;
            cJSON_Delete(fail);
            return SRC_HELD;
        }
        c->failed++;
        bump(c->by_code, code);
        size_t n;
        const char *key = state_key_part(k, kl, &n);
        char *keyz = strndup(key, n);
        const char *row[] = {c->name, keyz, code, jstr(fail, "message"), jstr(rec, "src"), jstr(rec, "rule")};
        csv_row(R, R->failed_csv, row, 6);
        free(keyz);
        s = SRC_FAILED;
    } else {
        c->pending++;
    }
    cJSON_Delete(fail);
    return s;
}

static int visit_record(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Report *R = ctx;
    cJSON *rec = cJSON_ParseWithLength(v, vl);
    R->oc.staged++;
    SrcState s = record_state(R, k, kl, rec);
    add_src(R, jstr(rec, "src"), jstr(rec, "rule"), s);
    cJSON_Delete(rec);
    return 0;
}

/* Loaded records the state no longer stages (a re-stage dropped them). */
static int visit_loaded(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Report *R = ctx;
    (void)v, (void)vl;
    R->oc.gone += stage_has(R->st, DB_RECORDS, k, kl) == 0;
    return 0;
}

/* Entries: an exclusion entry marks its source record excluded; a flag or
** inventory entry is output that goes to a report, not to Salesforce. */
static int visit_entry(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Report *R = ctx;
    cJSON *e = cJSON_ParseWithLength(v, vl);
    bool excl = strnlen(k, kl) == 7 && memcmp(k, "exclude", 7) == 0;
    add_src(R, jstr(e, "src"), jstr(e, "rule"), excl ? SRC_EXCLUDED : SRC_REPORTED);
    cJSON_Delete(e);
    return 0;
}

static int visit_quarantine(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Report *R = ctx;
    (void)k, (void)kl;
    cJSON *q = cJSON_ParseWithLength(v, vl);
    char line[32];
    snprintf(line, sizeof line, "%llu", jcount(q, "line"));
    const char *row[] = {jstr(q, "kind"), jstr(q, "file"), line, jstr(q, "rule"), jstr(q, "code"),
                         jstr(q, "message"), jstr(q, "raw"), jstr(q, "raw_hex")};
    csv_row(R, R->quarantined_csv, row, 8);
    cJSON_Delete(q);
    return 0;
}

static int by_src(const void *a, const void *b)
{
    return strcmp(((const SrcRef *)a)->src, ((const SrcRef *)b)->src);
}

/* Each source record's state is the strongest of its outputs'. */
static void fold_srcs(Report *R)
{
    qsort(R->srcs, R->nsrcs, sizeof *R->srcs, by_src);
    for (size_t i = 0; i < R->nsrcs;) {
        size_t j = i;
        SrcState s = R->srcs[i].state;
        int kind = R->srcs[i].kind;
        while (j < R->nsrcs && strcmp(R->srcs[j].src, R->srcs[i].src) == 0) {
            if (R->srcs[j].state > s)
                s = R->srcs[j].state;
            if (kind < 0)
                kind = R->srcs[j].kind;
            j++;
        }
        if (kind >= 0) {
            KindEnd *e = &R->ends[kind];
            e->loaded += s == SRC_LOADED;
            e->reported += s == SRC_REPORTED;
            e->held += s == SRC_HELD;
            e->failed += s == SRC_FAILED;
            e->pending += s == SRC_PENDING;
        }
        i = j;
    }
}

/* ---- the document */

/* Add an identity: names[0] = names[1] + … with its values; says whether it holds. */
static bool identity(Report *R, const char *phase, const char *subject, const char *const *names,
                     const Count *vals, int n)
{
    char eq[256] = "", text[512] = "";
    size_t el = 0, tl = 0;
    Count right = 0;
    cJSON *id = cJSON_CreateObject(), *terms = cJSON_CreateObject();
    for (int i = 0; i < n; i++) {
        const char *op = i == 0 ? "" : i == 1 ? " = " : " + ";
        el += (size_t)snprintf(eq + el, sizeof eq - el, "%s%s", op, names[i]);
        tl += (size_t)snprintf(text + tl, sizeof text - tl, "%s%s %llu", op, names[i], vals[i]);
        if (el >= sizeof eq)
            el = sizeof eq - 1;
        if (tl >= sizeof text)
            tl = sizeof text - 1;
        right += i ? vals[i] : 0;
        add_count(terms, names[i], vals[i]);
    }
    bool holds = vals[0] == right;
    cJSON_AddStringToObject(id, "phase", phase);
    cJSON_AddStringToObject(id, "subject", subject);
    cJSON_AddStringToObject(id, "identity", eq);
    cJSON_AddStringToObject(id, "numbers", text);
    cJSON_AddItemToObject(id, "terms", terms);
    add_count(id, "left", vals[0]);
    add_count(id, "right", right);
    cJSON_AddBoolToObject(id, "holds", holds);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(R->doc, "identities"), id);
    R->nidentities++;
    R->nbroken += !holds;
    return holds;
}

static void add_totals(cJSON *to, const cJSON *rows)
{
    const cJSON *row, *f;
    cJSON_ArrayForEach(row, rows)
        cJSON_ArrayForEach(f, row) {
            if (!cJSON_IsNumber(f))
                continue;
            cJSON *t = cJSON_GetObjectItemCaseSensitive(to, f->string);
            if (t)
                cJSON_SetNumberValue(t, t->valuedouble + f->valuedouble);
            else
                cJSON_AddNumberToObject(to, f->string, f->valuedouble);
        }
}

/* Phase 1: per kind, from the staging summary. */
static void staging_section(Report *R)
{
    cJSON *sec = cJSON_AddObjectToObject(R->doc, "staging"), *kinds = cJSON_AddObjectToObject(sec, "kinds");
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(R->summary, "kinds")) {
        cJSON *row = cJSON_AddObjectToObject(kinds, k->string);
        static const char *const names[] = {"read", "output", "excluded", "quarantined"};
        Count v[4];
        for (int i = 0; i < 4; i++)
            add_count(row, names[i], v[i] = jcount(k, names[i]));
        identity(R, "staging", k->string, names, v, 4);
    }
    add_totals(cJSON_AddObjectToObject(sec, "totals"), kinds);
    const char *lists[] = {"excluded_by_reason", "quarantined_by_code"};
    for (int i = 0; i < 2; i++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(R->summary, lists[i]);
        cJSON_AddItemToObject(sec, lists[i], l ? cJSON_Duplicate(l, true) : cJSON_CreateObject());
    }
}

/* Phase 2 for one object: a pass over its staged records. */
static void object_row(Report *R, cJSON *objects, const char *name)
{
    ObjCount *c = &R->oc;
    *c = (ObjCount){.name = name, .by_code = cJSON_CreateObject()};
    size_t plen = strlen(name) + 1;
    if (stage_scan(R->st, DB_RECORDS, name, plen, visit_record, R) != 0
        || stage_scan(R->st, DB_LOADED, name, plen, visit_loaded, R) != 0)
        R->rc = -1;
    cJSON *row = cJSON_AddObjectToObject(objects, name);
    const cJSON *lo = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(R->load, "objects"), name);
    add_count(row, "staged", c->staged);
    add_count(row, "loaded", c->created + c->updated);
    add_count(row, "created", c->created);
    add_count(row, "updated", c->updated);
    add_count(row, "unchanged_last_run", jcount(lo, "unchanged"));
    add_count(row, "held_no_parent", c->held);
    add_count(row, "failed", c->failed);
    add_count(row, "pending", c->pending);
    add_count(row, "changed_since_loaded", c->changed);
    add_count(row, "loaded_not_staged", c->gone);
    cJSON_AddItemToObject(row, "failed_by_code", c->by_code);
    const cJSON *vo = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(R->verify, "objects"), name);
    cJSON *ver = cJSON_AddObjectToObject(row, "verified");
    static const char *const vnames[] = {"checked", "matched", "mismatched", "missing"};
    for (int i = 0; i < 4; i++)
        add_count(ver, vnames[i], jcount(vo, vnames[i]));
    const cJSON *vf = cJSON_GetObjectItemCaseSensitive(vo, "fields");
    cJSON_AddItemToObject(ver, "fields", vf ? cJSON_Duplicate(vf, true) : cJSON_CreateObject());
    static const char *const names[] = {"staged", "loaded", "held", "failed", "pending"};
    Count v[] = {c->staged, c->created + c->updated, c->held, c->failed, c->pending};
    identity(R, "load", name, names, v, 5);
}

static void load_section(Report *R)
{
    cJSON *sec = cJSON_AddObjectToObject(R->doc, "load");
    cJSON_AddBoolToObject(sec, "ran", R->load != NULL);
    const char *outcome = jstr(R->load, "outcome");
    cJSON_AddItemToObject(sec, "outcome", outcome ? cJSON_CreateString(outcome) : cJSON_CreateNull());
    cJSON_AddBoolToObject(sec, "verified", R->verify != NULL);
    const char *scope = jstr(R->verify, "scope");
    cJSON_AddItemToObject(sec, "verify_scope", scope ? cJSON_CreateString(scope) : cJSON_CreateNull());
    cJSON *objects = cJSON_AddObjectToObject(sec, "objects");
    for (uint32_t i = 0; i < R->plan.nobjects; i++)
        object_row(R, objects, plan_s(&R->plan, R->plan.objects[R->plan.load_order[i]].name));
    cJSON *t = cJSON_AddObjectToObject(sec, "totals");
    add_totals(t, objects);
    cJSON *codes = cJSON_AddObjectToObject(t, "failed_by_code");
    const cJSON *o, *c;
    cJSON_ArrayForEach(o, objects)
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "failed_by_code"))
            for (Count n = 0; n < (Count)c->valuedouble; n++)
                bump(codes, c->string);
}

/* Phase 3: source records end to end, per kind. */
static void sources_section(Report *R)
{
    if (stage_scan(R->st, DB_ENTRIES, "", 0, visit_entry, R) != 0)
        R->rc = -1;
    fold_srcs(R);
    cJSON *sec = cJSON_AddObjectToObject(R->doc, "sources"), *kinds = cJSON_AddObjectToObject(sec, "kinds");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(R->doc, "staging"), "kinds");
    static const char *const names[] = {"read", "loaded", "reported", "excluded", "held", "quarantined", "failed",
                                        "pending"};
    Count all[8] = {0};
    for (int i = 0; i < R->nkinds; i++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(st, R->kinds[i]);
        const KindEnd *e = &R->ends[i];
        Count out = jcount(s, "output"), traced = e->loaded + e->reported + e->held + e->failed + e->pending;
        Count merged = out > traced ? out - traced : 0;
        cJSON *row = cJSON_AddObjectToObject(kinds, R->kinds[i]);
        Count v[] = {jcount(s, "read"), e->loaded + merged, e->reported, jcount(s, "excluded"), e->held,
                     jcount(s, "quarantined"), e->failed, e->pending};
        for (int j = 0; j < 8; j++)
            add_count(row, names[j], v[j]);
        add_count(row, "merged", merged);
        identity(R, "source", R->kinds[i], names, v, 8);
        for (int j = 0; j < 8; j++)
            all[j] += v[j];
    }
    add_totals(cJSON_AddObjectToObject(sec, "totals"), kinds);
    identity(R, "source", "all kinds", names, all, 8);
}

static cJSON *build(Report *R)
{
    R->doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(R->doc, "report_version", 1);
    const char *plan = jstr(R->summary, "plan"), *mig = jstr(R->summary, "migration");
    cJSON_AddStringToObject(R->doc, "plan", plan ? plan : "");
    cJSON_AddStringToObject(R->doc, "migration", mig ? mig : "");
    cJSON_AddArrayToObject(R->doc, "identities");
    staging_section(R);
    load_section(R);
    sources_section(R);
    if (stage_scan(R->st, DB_QUARANTINE, "", 0, visit_quarantine, R) != 0)
        R->rc = -1;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(R->doc, "sources");
    t = cJSON_GetObjectItemCaseSensitive(t, "totals");
    cJSON_AddBoolToObject(R->doc, "accounted", R->nbroken == 0);
    cJSON_AddBoolToObject(R->doc, "complete", R->nbroken == 0 && jcount(t, "pending") == 0 && jcount(t, "failed") == 0);
    add_count(R->doc, "identities_broken", (Count)R->nbroken);
    return R->doc;
}

/* ---- rendering (report_render.c would be the place if this grows) */

typedef struct Out {
    FILE *f;
    ReportFormat fmt;
    const char *align;      /* the open table's columns: 'l' or 'r' each */
} Out;

static void esc(Out *o, const char *s)
{
    for (; s && *s; s++) {
        if (o->fmt == REPORT_HTML) {
            switch (*s) {
            case '&': fputs("&amp;", o->f); continue;
            case '<': fputs("&lt;", o->f); continue;
            case '>': fputs("&gt;", o->f); continue;
            case '"': fputs("&quot;", o->f); continue;
            default: break;
            }
        } else if (*s == '|' || *s == '\\' || *s == '*' || *s == '`' || *s == '<') {
            putc('\\', o->f);
        } else if (*s == '\n' || *s == '\r') {
            putc(' ', o->f);
            continue;
        }
        putc(*s, o->f);
    }
}

static void heading(Out *o, int level, const char *text)
{
    if (o->fmt == REPORT_HTML) {
        fprintf(o->f, "<h%d>", level);
        esc(o, text);
        fprintf(o->f, "</h%d>\n", level);
    } else {
        fprintf(o->f, "%.*s ", level, "######");
        esc(o, text);
        fputs("\n\n", o->f);
    }
}

/* A paragraph; strong: the verdict, in bold. */
static void para(Out *o, const char *text, bool strong)
{
    if (o->fmt == REPORT_HTML) {
        fputs(strong ? "<p><strong>" : "<p>", o->f);
        esc(o, text);
        fputs(strong ? "</strong></p>\n" : "</p>\n", o->f);
    } else {
        fputs(strong ? "**" : "", o->f);
        esc(o, text);
        fputs(strong ? "**\n\n" : "\n\n", o->f);
    }
}

static void row(Out *o, const char *const *cells, bool head)
{
    int n = (int)strlen(o->align);
    if (o->fmt == REPORT_HTML) {
        fputs("<tr>", o->f);
        for (int i = 0; i < n; i++) {
            bool bad = !head && strcmp(cells[i], "DOES NOT HOLD") == 0;
            fprintf(o->f, "<%s%s%s>", head ? "th" : "td", o->align[i] == 'r' ? " class=\"n\"" : "",
                    bad ? " class=\"bad\"" : "");
            esc(o, cells[i]);
            fprintf(o->f, "</%s>", head ? "th" : "td");
        }
        fputs("</tr>\n", o->f);
        return;
    }
    for (int i = 0; i < n; i++) {
        fputs("| ", o->f);
        esc(o, cells[i]);
        putc(' ', o->f);
    }
    fputs("|\n", o->f);
    if (head) {
        for (int i = 0; i < n; i++)
            fputs(o->align[i] == 'r' ? "|---:" : "|:---", o->f);
        fputs("|\n", o->f);
    }
}

static void table(Out *o, const char *align, const char *const *head)
{
    o->align = align;
    if (o->fmt == REPORT_HTML)
        fputs("<table>\n", o->f);
    row(o, head, true);
}

static void table_end(Out *o)
{
    fputs(o->fmt == REPORT_HTML ? "</table>\n" : "\n", o->f);
}

/* Numbers as cells: up to 16 per row, in a Cells' own buffers. */
typedef struct Cells {
    char buf[16][24];
    const char *c[16];
    int n;
} Cells;

static void cell_s(Cells *c, const char *s)
{
    c->c[c->n++] = s ? s : "";
}

static void cell_n(Cells *c, const cJSON *o, const char *k)
{
    snprintf(c->buf[c->n], sizeof c->buf[c->n], "%llu", jcount(o, k));
    c->c[c->n] = c->buf[c->n];
    c->n++;
}

/* A table of rows with the same numeric members: first column the row's name. */
static void count_table(Out *o, const char *first, const cJSON *rows, const cJSON *totals,
                        const char *const *cols, const char *const *keys, int n)
{
    char align[17] = "l";
    const char *head[16] = {first};
    for (int i = 0; i < n; i++) {
        align[i + 1] = 'r';
        head[i + 1] = cols[i];
    }
    table(o, align, head);
    const cJSON *r;
    cJSON_ArrayForEach(r, rows) {
        Cells c = {.n = 0};
        cell_s(&c, r->string);
        for (int i = 0; i < n; i++)
            cell_n(&c, r, keys[i]);
        row(o, c.c, false);
    }
    if (totals) {
        Cells c = {.n = 0};
        cell_s(&c, "total");
        for (int i = 0; i < n; i++)
            cell_n(&c, totals, keys[i]);
        row(o, c.c, false);
    }
    table_end(o);
}

/* name -> number lists (reasons, codes), or a line saying there are none. */
static void list_table(Out *o, const char *first, const cJSON *list, const char *none)
{
    if (!list || !list->child) {
        para(o, none, false);
        return;
    }
    const char *head[] = {first, "records"};
    table(o, "lr", head);
    const cJSON *it;
    cJSON_ArrayForEach(it, list) {
        Cells c = {.n = 0};
        cell_s(&c, it->string);
        snprintf(c.buf[1], sizeof c.buf[1], "%llu", (Count)it->valuedouble);
        cell_s(&c, c.buf[1]);
        row(o, c.c, false);
    }
    table_end(o);
}

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static void render_verdict(Out *o, const cJSON *doc)
{
    char text[300];
    Count broken = jcount(doc, "identities_broken"), n = (Count)cJSON_GetArraySize(get(doc, "identities"));
    const cJSON *t = get(get(doc, "sources"), "totals");
    if (broken)
        snprintf(text, sizeof text, "NOT ACCOUNTED FOR: %llu of %llu identities do not hold (section 4).", broken, n);
    else if (!cJSON_IsTrue(get(doc, "complete")))
        snprintf(text, sizeof text, "Every record is accounted for: all %llu identities hold. Not complete: "
                 "%llu source records are pending and %llu failed.", n, jcount(t, "pending"), jcount(t, "failed"));
    else
        snprintf(text, sizeof text, "Every record is accounted for: all %llu identities hold, "
                 "and nothing is pending or failed%s.", n,
                 jcount(t, "held") ? " (some records are held: they refer to records this migration does not stage)"
                                   : "");
    para(o, text, true);
}

static void render_staging(Out *o, const cJSON *doc)
{
    const cJSON *s = get(doc, "staging");
    heading(o, 2, "1. Source to staging");
    para(o, "Per source kind: the records read, those that produced output, those excluded by a rule, and "
            "those quarantined (read = output + excluded + quarantined).", false);
    static const char *const k[] = {"read", "output", "excluded", "quarantined"};
    count_table(o, "kind", get(s, "kinds"), get(s, "totals"), k, k, 4);
    heading(o, 3, "Excluded, by reason");
    list_table(o, "reason", get(s, "excluded_by_reason"), "No record was excluded.");
    heading(o, 3, "Quarantined, by code");
    list_table(o, "code", get(s, "quarantined_by_code"), "No record was quarantined.");
}

static void render_load(Out *o, const cJSON *doc)
{
    const cJSON *l = get(doc, "load");
    char text[400];
    heading(o, 2, "2. Staging to Salesforce");
    if (cJSON_IsTrue(get(l, "ran")))
        snprintf(text, sizeof text, "Last load: %s.", jstr(l, "outcome") ? jstr(l, "outcome") : "?");
    else
        snprintf(text, sizeof text, "No load has run yet; every staged record is pending.");
    if (cJSON_IsTrue(get(l, "verified")))
        snprintf(text + strlen(text), sizeof text - strlen(text), " Verified: %s of the loaded records.",
                 strcmp(jstr(l, "verify_scope") ? jstr(l, "verify_scope") : "", "all") == 0 ? "all" : "a sample");
    else
        snprintf(text + strlen(text), sizeof text - strlen(text), " Not verified yet (maprun verify).");
    para(o, text, false);
    para(o, "Per object, parents first: loaded counts the staged records in Salesforce with the content staged now "
            "(created by the migration or updated); unchanged is what the last run found already there; pending is "
            "neither loaded nor failed; held is not sent because a record it refers to is not staged at all, such as "
            "an event of a person deleted at the source (staged = loaded + held + failed + pending).", false);
    static const char *const cols[] = {"staged", "loaded", "created", "updated", "unchanged (last run)",
                                       "held (no parent staged)", "failed", "pending", "changed since loaded",
                                       "loaded, no longer staged"};
    static const char *const keys[] = {"staged", "loaded", "created", "updated", "unchanged_last_run",
                                       "held_no_parent", "failed", "pending", "changed_since_loaded",
                                       "loaded_not_staged"};
    count_table(o, "object", get(l, "objects"), get(l, "totals"), cols, keys, 10);
    heading(o, 3, "Failed, by Salesforce error code");
    const cJSON *ob;
    if (!get(get(l, "totals"), "failed_by_code")->child)
        para(o, "No staged record failed.", false);
    else {
        const char *head[] = {"object", "code", "records"};
        table(o, "llr", head);
        cJSON_ArrayForEach(ob, get(l, "objects")) {
            const cJSON *c;
            cJSON_ArrayForEach(c, get(ob, "failed_by_code")) {
                Cells cl = {.n = 0};
                cell_s(&cl, ob->string);
                cell_s(&cl, c->string);
                snprintf(cl.buf[2], sizeof cl.buf[2], "%llu", (Count)c->valuedouble);
                cell_s(&cl, cl.buf[2]);
                row(o, cl.c, false);
            }
        }
        table_end(o);
        para(o, "PARENT_NOT_LOADED: not sent, because a record it refers to is not in Salesforce. "
                "failed.csv lists every failed record with its message and source line.", false);
    }
    heading(o, 3, "Verified");
    static const char *const vk[] = {"checked", "matched", "mismatched", "missing"};
    cJSON *vrows = cJSON_CreateObject();
    cJSON_ArrayForEach(ob, get(l, "objects"))
        cJSON_AddItemToObject(vrows, ob->string, cJSON_Duplicate(get(ob, "verified"), true));
    count_table(o, "object", vrows, NULL, vk, vk, 4);
    cJSON_Delete(vrows);
}

static void render_sources(Out *o, const cJSON *doc)
{
    const cJSON *s = get(doc, "sources");
    heading(o, 2, "3. Source records, end to end");
    para(o, "Each source record that produced output is traced through the staged records it made: failed if any "
            "of them failed, pending if any is not loaded, else loaded. Merged (counted under loaded): records whose "
            "every output was merged into a record another source record made first (many people, one domain "
            "Account). Reported: records whose only output is a report entry (a flag or inventory row), not a "
            "Salesforce record. Held: records whose outputs refer to a record this migration does not stage (an event "
            "of a person deleted at the source), so they are not sent.", false);
    static const char *const k[] = {"read", "loaded", "merged", "reported", "excluded", "held", "quarantined",
                                    "failed", "pending"};
    static const char *const cols[] = {"read", "loaded", "of which merged", "reported", "excluded", "held",
                                       "quarantined", "failed", "pending"};
    count_table(o, "kind", get(s, "kinds"), get(s, "totals"), cols, k, 9);
}

static void render_identities(Out *o, const cJSON *doc)
{
    heading(o, 2, "4. Identities");
    para(o, "source records read = loaded + reported + excluded + held + quarantined + failed + pending "
            "(pending is 0 once every record is loaded or has failed); per kind read = output + excluded + "
            "quarantined; per object staged = loaded + held + failed + pending.", false);
    const char *head[] = {"phase", "subject", "identity", "numbers", "result"};
    table(o, "lllll", head);
    const cJSON *id;
    cJSON_ArrayForEach(id, get(doc, "identities")) {
        const char *c[] = {jstr(id, "phase"), jstr(id, "subject"), jstr(id, "identity"), jstr(id, "numbers"),
                           cJSON_IsTrue(get(id, "holds")) ? "holds" : "DOES NOT HOLD"};
        row(o, c, false);
    }
    table_end(o);
}

static const char CSS[] =
    "body{font-family:sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:0 0 1.5em}"
    "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}"
    "th{background:#eee}td.n,th.n{text-align:right}td.bad{color:#b00;font-weight:bold}";

static void render(Out *o, const cJSON *doc)
{
    char text[600];
    if (o->fmt == REPORT_HTML)
        fprintf(o->f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<title>Reconciliation report</title>\n<style>%s</style>\n</head>\n<body>\n", CSS);
    heading(o, 1, "Reconciliation report");
    snprintf(text, sizeof text, "Migration: %s (plan %s).", jstr(doc, "migration"), jstr(doc, "plan"));
    para(o, text, false);
    render_verdict(o, doc);
    render_staging(o, doc);
    render_load(o, doc);
    render_sources(o, doc);
    render_identities(o, doc);
    para(o, "Failed and quarantined rows: failed.csv and quarantined.csv (maprun report --csv-dir).", false);
    if (o->fmt == REPORT_HTML)
        fputs("</body>\n</html>\n", o->f);
}

/* ---- the run */

static FILE *open_csv(const char *dir, const char *name, const char *header)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "maprun: cannot write %s: %s\n", path, strerror(errno));
    else
        fputs(header, f);
    return f;
}

static int open_csvs(Report *R)
{
    char dflt[4096];
    const char *dir = R->o->csv_dir;
    if (!dir) {
        snprintf(dflt, sizeof dflt, "%s/report", R->o->state);
        dir = dflt;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "maprun: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    R->failed_csv = open_csv(dir, "failed.csv", "object,key,code,message,source,rule\r\n");
    R->quarantined_csv = open_csv(dir, "quarantined.csv", "kind,file,line,rule,code,message,raw,raw_hex\r\n");
    return R->failed_csv && R->quarantined_csv ? 0 : -1;
}

static int close_file(FILE *f, int rc)
{
    if (f && fclose(f) != 0)
        return -1;
    return rc;
}

static int write_report(const ReportOptions *o, const cJSON *doc)
{
    FILE *f = o->out ? fopen(o->out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "maprun: cannot write %s: %s\n", o->out, strerror(errno));
        return -1;
    }
    if (o->format == REPORT_JSON) {
        char *text = cJSON_Print(doc);
        fputs(text, f);
        putc('\n', f);
        free(text);
    } else {
        Out out = {f, o->format, ""};
        render(&out, doc);
    }
    int rc = ferror(f) ? -1 : 0;
    if (o->out)
        rc = close_file(f, rc);
    else if (fflush(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "maprun: cannot write the report\n");
    return rc;
}

static void report_free(Report *R)
{
    for (size_t i = 0; i < R->nsrcs; i++)
        free(R->srcs[i].src);
    free(R->srcs);
    free(R->kinds);
    free(R->ends);
    free(R->rule_kind);
    cJSON_Delete(R->summary);
    cJSON_Delete(R->load);
    cJSON_Delete(R->verify);
    cJSON_Delete(R->doc);
    if (R->have_plan)
        plan_free(&R->plan);
    stage_close(R->st);
}

int report_run(const ReportOptions *o)
{
    Report R = {.o = o};
    int rc = REPORT_ERROR;
    if (open_state(&R) < 0 || open_csvs(&R) < 0)
        goto done;
    build(&R);
    R.rc = close_file(R.failed_csv, R.rc);
    R.rc = close_file(R.quarantined_csv, R.rc);
    R.failed_csv = R.quarantined_csv = NULL;
    if (R.rc < 0) {
        fprintf(stderr, "maprun: cannot read the state or write the CSVs\n");
        goto done;
    }
    if (write_report(o, R.doc) < 0)
        goto done;
    rc = R.nbroken ? REPORT_UNACCOUNTED : REPORT_OK;
done:
    if (R.failed_csv)
        fclose(R.failed_csv);
    if (R.quarantined_csv)
        fclose(R.quarantined_csv);
    report_free(&R);
    return rc;
}

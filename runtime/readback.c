/*
** readback: the loaded records, read back and compared.
**
** Which records: every loaded one (--all), or an evenly spaced sample of N
** per object.  How: SOQL by external key, 100 keys a query, through REST;
** when more than `bulk_over` records of an object are to be read, one Bulk
** API 2.0 query job reads them all instead (fewer calls, no URL limits).
** Both give text: REST values are turned into the text Bulk would give.
**
** What "the same" means (what Salesforce normalises): datetimes compare as
** instants (2024-01-02T03:04:05.000Z = 2024-01-02T03:04:05.000+0000);
** numbers as numbers (5 = 5.0); booleans case-blind; an empty value and
** null are the same; a reference compares the Id Salesforce holds with the
** Id the loader recorded for the parent (15 or 18 characters).
*/
#include "readback.h"
#include "csv.h"
#include "jsonbuf.h"
#include "sftype.h"
#include "state.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define KEYS_PER_QUERY 100

typedef struct Reader {
    const ReadbackOptions *o;
    Stage *st;
    Plan plan;
    SfClient *sf;
    const char *obj, *extf;
    uint32_t oi;
    unsigned long long checked, matched, missing;
    cJSON *field_counts;      /* field -> mismatches, this object */
    cJSON *totals;            /* object -> {"checked","matched","mismatched","missing"} */
    int shown;
    bool error;
} Reader;

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- normalisation */

/* yyyy-mm-ddThh:mm:ss[.fff](Z|±hh[:]mm) -> ms since the epoch; false if not a datetime. */
static bool parse_datetime(const char *s, double *ms)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return false;
    const char *p = s + 19;
    double frac = 0;
    if (*p == '.') {
        char *end;
        frac = strtod(p, &end);
        p = end;
    }
    int off = 0;
    if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 && sscanf(p + 1, "%2d%2d", &oh, &om) != 2)
            return false;
        off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
    } else if (*p != 'Z' && *p) {
        return false;
    }
    /* days from civil (proleptic Gregorian), so no time zone library is involved */
    int yy = y - (mo <= 2);
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    long yoe = yy - era * 400;
    long doy = (153L * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    double days = (double)(era * 146097 + doe - 719468);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + sec - off * 60) + frac) * 1000;
    return true;
}

static bool parse_number(const char *s, double *v)
{
    char *end;
    if (!*s)
        return false;
    *v = strtod(s, &end);
    return *end == '\0';
}

bool readback_same(const cJSON *staged, const char *sf, bool sf_null)
{
    if (cJSON_IsNull(staged) || !staged)
        return sf_null || !*sf;
    if (sf_null)
        return cJSON_IsString(staged) && !*staged->valuestring;
    if (cJSON_IsBool(staged))
        return strcasecmp(sf, cJSON_IsTrue(staged) ? "true" : "false") == 0;
    double a, b;
    if (cJSON_IsNumber(staged))
        return parse_number(sf, &b) && fabs(staged->valuedouble - b) <= 1e-9 * fmax(1, fabs(b));
    if (!cJSON_IsString(staged))
        return false;
    const char *s = staged->valuestring;
    if (strcmp(s, sf) == 0)
        return true;
    if (parse_datetime(s, &a) && parse_datetime(sf, &b))
        return a == b;
    return false;
}

/* ---- comparing one record */

static void mismatch(Reader *R, cJSON *list, const char *field, const char *staged, const char *sf)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "field", field);
    cJSON_AddStringToObject(m, "staged", staged);
    cJSON_AddStringToObject(m, "salesforce", sf);
    cJSON_AddItemToArray(list, m);
    cJSON *c = cJSON_GetObjectItemCaseSensitive(R->field_counts, field);
    if (c)
        cJSON_SetNumberValue(c, c->valuedouble + 1);
    else
        cJSON_AddNumberToObject(R->field_counts, field, 1);
}

static char *staged_text(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return strdup("(null)");
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    return cJSON_PrintUnformatted(v);
}

/* The Id the loader recorded for a reference's parent; NULL if none. */
static char *parent_id(Reader *R, const cJSON *ref)
{
    const char *target = state_ref_target(R->st, ref), *key = jstr(ref, "key");
    if (!target || !key)
        return NULL;
    StateKey k = state_key(target, key);
    cJSON *l = state_get_json(R->st, DB_LOADED, k.s, k.len);
    free(k.s);
    char *id = l && jstr(l, "id") ? strdup(jstr(l, "id")) : NULL;
    cJSON_Delete(l);
    return id;
}

/* A checkbox cannot be null in Salesforce: a null sent to one stores false. */
static bool is_checkbox(const Reader *R, const char *field)
{
    const PlanField *f = state_field(&R->plan, R->oi, field);
    return f && f->type == SF_BOOLEAN;
}

/* row: the record Salesforce returned, as field -> text (cJSON strings; null = JSON null). */
static void compare(Reader *R, const char *key, const cJSON *row)
{
    StateKey k = state_key(R->obj, key);
    cJSON *rec = state_get_json(R->st, DB_RECORDS, k.s, k.len);
    cJSON *result = cJSON_CreateObject(), *list = cJSON_CreateArray();
    R->checked++;
    if (!row) {
        mismatch(R, list, "(record)", key, "(not in Salesforce)");
        R->missing++;
    }
    const cJSON *f, *fields = row ? cJSON_GetObjectItemCaseSensitive(rec, "fields") : NULL;
    cJSON_ArrayForEach(f, fields) {
        const cJSON *got = cJSON_GetObjectItemCaseSensitive(row, f->string);
        if (!got) {                                  /* API names are case-blind */
            const cJSON *g;
            cJSON_ArrayForEach(g, row)
                if (strcasecmp(g->string, f->string) == 0)
                    got = g;
        }
        const char *text = cJSON_IsString(got) ? got->valuestring : "";
        bool null = !got || cJSON_IsNull(got);
        if (cJSON_IsObject(f) && cJSON_GetObjectItemCaseSensitive(f, "$ref")) {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "existing")))
                continue;                             /* a record of the org's own (an owner): not ours to check */
            char *want = parent_id(R, f);
            if (!want || null || strncmp(want, text, 15) != 0)
                mismatch(R, list, f->string, want ? want : "(parent not loaded)", null ? "(null)" : text);
            free(want);
        } else if (!readback_same(f, text, null)
                   && !(cJSON_IsNull(f) && is_checkbox(R, f->string) && strcasecmp(text, "false") == 0)) {
            char *st = staged_text(f);
            mismatch(R, list, f->string, st, null ? "(null)" : text);
            free(st);
        }
    }
    bool ok = cJSON_GetArraySize(list) == 0;
    R->matched += ok;
    cJSON_AddBoolToObject(result, "ok", ok);
    cJSON_AddItemToObject(result, "mismatches", list);
    if (!ok && R->shown < 20) {
        const cJSON *m;
        cJSON_ArrayForEach(m, list) {
            if (R->shown++ >= 20)
                break;
            printf("    %s %s: %s: staged \"%s\", Salesforce has \"%s\"\n", R->obj, key, jstr(m, "field"),
                   jstr(m, "staged"), jstr(m, "salesforce"));
        }
    }
    state_put_json(R->st, DB_VERIFIED, k.s, k.len, result);
    cJSON_Delete(result);
    cJSON_Delete(rec);
    free(k.s);
}

/* ---- reading */

/* The fields to read: every field the object's staged records set. */
static cJSON *fields_to_read(Reader *R)
{
    cJSON *names = cJSON_CreateArray();
    cJSON_AddItemToArray(names, cJSON_CreateString("Id"));
    const PlanObject *o = &R->plan.objects[R->oi];
    for (uint32_t i = 0; i < o->nfields; i++)
        cJSON_AddItemToArray(names, cJSON_CreateString(plan_s(&R->plan, R->plan.fields[o->first_field + i].name)));
    return names;
}

/* A REST record as field -> text, the way a Bulk query would give it. */
static cJSON *as_text(const cJSON *rec)
{
    cJSON *row = cJSON_CreateObject();
    const cJSON *f;
    cJSON_ArrayForEach(f, rec) {
        if (strcmp(f->string, "attributes") == 0)
            continue;
        char num[64];
        if (cJSON_IsNull(f))
            cJSON_AddNullToObject(row, f->string);
        else if (cJSON_IsString(f))
            cJSON_AddStringToObject(row, f->string, f->valuestring);
        else if (cJSON_IsBool(f))
            cJSON_AddStringToObject(row, f->string, cJSON_IsTrue(f) ? "true" : "false");
        else if (cJSON_IsNumber(f)) {
            snprintf(num, sizeof num, "%.17g", f->valuedouble);
            cJSON_AddStringToObject(row, f->string, num);
        }
    }
    return row;
}

typedef struct Rows {
    Reader *R;
    cJSON *by_key;            /* external id -> the record as text */
} Rows;

static int add_row(void *ctx, const cJSON *rec)
{
    Rows *rows = ctx;
    cJSON *row = as_text(rec);
    const char *key = jstr(row, rows->R->extf);
    if (key && !cJSON_GetObjectItemCaseSensitive(rows->by_key, key))
        cJSON_AddItemToObject(rows->by_key, key, row);
    else
        cJSON_Delete(row);
    return 0;
}

static int verify_keys(Reader *R, char **keys, size_t n, const cJSON *names)
{
    JBuf q = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i += KEYS_PER_QUERY) {
        jb_reset(&q);
        state_soql_select(&q, names, R->obj, R->extf);
        jb_cstr(&q, " IN (");
        for (size_t j = i; j < n && j < i + KEYS_PER_QUERY; j++) {
            if (j > i)
                jb_cstr(&q, ", ");
            state_soql_quote(&q, keys[j]);
        }
        jb_cstr(&q, ")");
        Rows rows = {R, cJSON_CreateObject()};
        SfError e;
        rc = sf_query(R->sf, q.s, add_row, &rows, &e);
        if (rc < 0) {
            char text[1024];
            sf_error_text(&e, text, sizeof text);
            fprintf(stderr, "maprun: query %s: %s\n", R->obj, text);
        }
        for (size_t j = i; rc == 0 && j < n && j < i + KEYS_PER_QUERY; j++)
            compare(R, keys[j], cJSON_GetObjectItemCaseSensitive(rows.by_key, keys[j]));
        cJSON_Delete(rows.by_key);
    }
    jb_free(&q);
    return rc;
}

/* ---- a Bulk API 2.0 query: for many records */

static int bulk_wait(Reader *R, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/jobs/query/%s", id);
    long wait = R->o->poll_ms;
    for (;;) {
        SfError e;
        cJSON *info = sf_get_json(R->sf, path, &e);
        if (!info) {
            char text[1024];
            sf_error_text(&e, text, sizeof text);
            fprintf(stderr, "maprun: poll query job %s: %s\n", id, text);
            return -1;
        }
        const char *state = jstr(info, "state");
        int done = state && strcmp(state, "JobComplete") == 0 ? 1
                 : state && (strcmp(state, "Failed") == 0 || strcmp(state, "Aborted") == 0) ? -1 : 0;
        if (done < 0)
            fprintf(stderr, "maprun: query job %s %s: %s\n", id, state, jstr(info, "errorMessage") ? jstr(info, "errorMessage") : "");
        cJSON_Delete(info);
        if (done)
            return done > 0 ? 0 : -1;
        sf_sleep_ms(wait);
        wait = wait * 3 / 2 > 10000 ? 10000 : wait * 3 / 2;
    }
}

/* Compares every row of one results page (a CSV file) whose key is loaded. */
static int bulk_page(Reader *R, FILE *f)
{
    CsvReader *r = csv_open(f);
    char **cell, **head = NULL;
    int n, nhead = 0, rc, key_col = -1;
    while ((rc = csv_next(r, &cell, &n)) == 1) {
        if (!head) {
            head = calloc((size_t)n, sizeof *head);
            for (nhead = 0; nhead < n; nhead++)
                head[nhead] = strdup(cell[nhead]);
            key_col = csv_column(head, nhead, R->extf);
            continue;
        }
        if (key_col < 0 || key_col >= n)
            continue;
        StateKey k = state_key(R->obj, cell[key_col]);
        bool ours = stage_has(R->st, DB_LOADED, k.s, k.len) == 1 && stage_has(R->st, DB_VERIFIED, k.s, k.len) == 0;
        free(k.s);
        if (!ours)
            continue;
        cJSON *row = cJSON_CreateObject();
        for (int i = 0; i < n && i < nhead; i++)
            if (*cell[i])
                cJSON_AddStringToObject(row, head[i], cell[i]);
            else
                cJSON_AddNullToObject(row, head[i]);
        char *key = strdup(cell[key_col]);
        compare(R, key, row);
        free(key);
        cJSON_Delete(row);
    }
    for (int i = 0; i < nhead; i++)
        free(head[i]);
    free(head);
    csv_close(r);
    return rc < 0 ? -1 : 0;
}

static int bulk_read(Reader *R, const cJSON *names)
{
    JBuf q = {0};
    state_soql_select(&q, names, R->obj, R->extf);
    jb_cstr(&q, " != null");
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "operation", "query");
    cJSON_AddStringToObject(body, "query", q.s);
    jb_free(&q);
    SfError e;
    cJSON *info = sf_send_json(R->sf, "POST", "/jobs/query", body, &e);
    cJSON_Delete(body);
    char id[64];
    snprintf(id, sizeof id, "%s", info && jstr(info, "id") ? jstr(info, "id") : "");
    cJSON_Delete(info);
    if (!*id) {
        char text[1024];
        sf_error_text(&e, text, sizeof text);
        fprintf(stderr, "maprun: create a query job for %s: %s\n", R->obj, text);
        return -1;
    }
    if (bulk_wait(R, id) < 0)
        return -1;
    char locator[128] = "";
    int rc = 0;
    do {
        char path[512];
        snprintf(path, sizeof path, "/jobs/query/%s/results?maxRecords=50000%s%s", id, *locator ? "&locator=" : "",
                 locator);
        FILE *f = tmpfile();
        SfCall call = {"GET", path, NULL, NULL, 0, "text/csv", f, 0};
        HttpResponse rs;
        if (!f || sf_call(R->sf, &call, &rs, &e) < 0) {
            char text[1024];
            sf_error_text(&e, text, sizeof text);
            fprintf(stderr, "maprun: read query results for %s: %s\n", R->obj, f ? text : strerror(errno));
            if (f)
                fclose(f);
            return -1;
        }
        snprintf(locator, sizeof locator, "%s", strcmp(rs.locator, "null") == 0 ? "" : rs.locator);
        http_response_free(&rs);
        rewind(f);
        rc = bulk_page(R, f);
        fclose(f);
    } while (rc == 0 && *locator);
    return rc;
}

/* ---- which records */

typedef struct Keys {
    char **v;
    size_t n, cap;
} Keys;

static int collect_key(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)v, (void)vl;
    Keys *ks = ctx;
    if (ks->n == ks->cap) {
        ks->cap = ks->cap ? ks->cap * 2 : 256;
        ks->v = realloc(ks->v, ks->cap * sizeof *ks->v);
    }
    size_t n;
    const char *key = state_key_part(k, kl, &n);
    ks->v[ks->n++] = strndup(key, n);
    return 0;
}

static void keys_free(Keys *ks)
{
    for (size_t i = 0; i < ks->n; i++)
        free(ks->v[i]);
    free(ks->v);
}

/* An evenly spaced sample of n keys (the same every run). */
static void sample(Keys *ks, unsigned long n)
{
    if (!n || ks->n <= n)
        return;
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        size_t pick = i * ks->n / n;
        char *t = ks->v[out];
        ks->v[out++] = ks->v[pick];
        ks->v[pick] = t;
    }
    for (size_t i = out; i < ks->n; i++)
        free(ks->v[i]);
    ks->n = out;
}

static int drop_verified(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    return collect_key(ctx, k, kl, v, vl);
}

static int verify_object(Reader *R, uint32_t oi)
{
    R->oi = oi;
    R->obj = plan_s(&R->plan, R->plan.objects[oi].name);
    R->extf = state_key_field(&R->plan, oi);
    R->checked = R->matched = R->missing = 0;
    R->shown = 0;
    Keys ks = {0}, old = {0};
    size_t plen = strlen(R->obj) + 1;
    stage_scan(R->st, DB_LOADED, R->obj, plen, collect_key, &ks);
    if (!R->extf || ks.n == 0) {
        keys_free(&ks);
        return 0;
    }
    stage_scan(R->st, DB_VERIFIED, R->obj, plen, drop_verified, &old);   /* this run's answers only */
    for (size_t i = 0; i < old.n; i++) {
        StateKey k = state_key(R->obj, old.v[i]);
        stage_del(R->st, DB_VERIFIED, k.s, k.len);
        free(k.s);
    }
    keys_free(&old);
    sample(&ks, R->o->sample);
    R->field_counts = cJSON_CreateObject();
    cJSON *names = fields_to_read(R);
    int rc;
    if (ks.n > R->o->bulk_over) {
        rc = bulk_read(R, names);
        for (size_t i = 0; rc == 0 && i < ks.n; i++) {      /* loaded, but the query did not return it */
            StateKey k = state_key(R->obj, ks.v[i]);
            if (stage_has(R->st, DB_VERIFIED, k.s, k.len) == 0)
                compare(R, ks.v[i], NULL);
            free(k.s);
        }
    } else {
        rc = verify_keys(R, ks.v, ks.n, names);
    }
    cJSON_Delete(names);
    keys_free(&ks);
    unsigned long long bad = R->checked - R->matched;
    printf("  %-24s checked %llu: %llu match%s, %llu differ%s\n", R->obj, R->checked, R->matched,
           R->matched == 1 ? "es" : "", bad, R->missing ? " (some are missing)" : "");
    const cJSON *c;
    cJSON_ArrayForEach(c, R->field_counts)
        printf("    %-40s %llu record%s differ\n", c->string, (unsigned long long)c->valuedouble,
               c->valuedouble == 1 ? "" : "s");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "checked", (double)R->checked);
    cJSON_AddNumberToObject(t, "matched", (double)R->matched);
    cJSON_AddNumberToObject(t, "mismatched", (double)bad);
    cJSON_AddNumberToObject(t, "missing", (double)R->missing);
    cJSON_AddItemToObject(t, "fields", R->field_counts);
    R->field_counts = NULL;
    cJSON_AddItemToObject(R->totals, R->obj, t);
    return rc < 0 || stage_commit(R->st) < 0 ? -1 : 0;
}

int readback_run(const ReadbackOptions *o)
{
    Reader R = {0};
    char err[512];
    R.o = o;
    if (stage_open(&R.st, o->state, true, err, sizeof err) < 0 || stage_load_plan(R.st, &R.plan, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        stage_close(R.st);
        return 1;
    }
    int rc = state_connect(&R.sf, R.st, stderr);
    R.totals = cJSON_CreateObject();
    unsigned long long checked = 0, bad = 0;
    if (rc == 0)
        printf("verify: %s\n", o->sample ? "a sample of the loaded records" : "every loaded record");
    for (uint32_t i = 0; rc == 0 && i < R.plan.nobjects; i++) {
        rc = verify_object(&R, R.plan.load_order[i]);
        checked += R.checked;
        bad += R.checked - R.matched;
    }
    if (rc == 0) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "scope", o->sample ? "sample" : "all");
        cJSON_AddItemToObject(s, "objects", R.totals);
        R.totals = NULL;
        state_put_json(R.st, DB_META, "verify", 6, s);
        cJSON_Delete(s);
        rc = stage_commit(R.st);
    }
    if (rc == 0)
        printf(bad ? "verify: %llu of %llu records differ from what was staged\n"
                   : "verify: all %llu records match what was staged, field by field\n",
               bad ? bad : checked, checked);
    cJSON_Delete(R.totals);
    sf_free(R.sf);
    plan_free(&R.plan);
    stage_close(R.st);
    return rc < 0 ? 1 : bad ? 3 : 0;
}

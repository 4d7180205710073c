/*
** export_csv: staged records to Bulk API 2.0 CSV (../shared/reference/
** salesforce.md section 2.5).
**
**   - UTF-8, LF line ends, the header row holds API field names;
**   - a value is quoted when it holds a comma, a quote, a line break or
**     white space at either end (Salesforce does not trim), quotes doubled;
**   - an explicit null is #N/A (it clears the field on update); a field the
**     rule did not set is an empty cell (left unchanged);
**   - a reference is a relationship column: Account.cio_account_key__c, or
**     for a polymorphic field Lead:Who.cio_id__c / Contact:Who.cio_id__c,
**     the object being the one whose staged records hold the key;
**   - booleans are true/false, dates yyyy-mm-dd, datetimes
**     yyyy-mm-ddThh:mm:ss.sssZ (already so in staging);
**   - a file stays below the size limit (100 MB: Salesforce's 150 MB upload
**     limit less base64 growth); more rows go to the next part.
*/
#include "export_csv.h"
#include "csv.h"
#include "plan.h"
#include "stage.h"
#include "state.h"
#include "value.h"

#include <cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_MAX_BYTES ((size_t)100 * 1000 * 1000)

typedef struct Export {
    const Plan *plan;
    Stage *st;
    const PlanObject *obj;
    char **cols;             /* header names */
    char **col_field;        /* the field each column fills */
    int ncols;
    FILE *f;
    size_t bytes, max_bytes;
    int part;
    unsigned long long rows, unresolved, kept;
    unsigned long long part_rows;
    cJSON *files;            /* manifest entries of this object */
    const char *outdir;
    const ExportOptions *opt;
    char path[4096];
    char *line;
    size_t linecap, linelen;
} Export;

static const PlanField *object_field(const Export *x, const char *name)
{
    for (uint32_t i = 0; i < x->obj->nfields; i++) {
        const PlanField *f = &x->plan->fields[x->obj->first_field + i];
        if (strcmp(plan_s(x->plan, f->name), name) == 0)
            return f;
    }
    return NULL;
}

/* The header of a field's column for value v (a reference gets a relationship column). */
static char *column_name(Export *x, const char *field, const cJSON *v, bool *unresolved)
{
    const cJSON *objs = cJSON_GetObjectItemCaseSensitive(v, "$ref");
    *unresolved = false;
    if (!cJSON_IsObject(v) || !objs)
        return strdup(field);
    const PlanField *f = object_field(x, field);
    const char *rel = f && f->relname != PLAN_NONE ? plan_s(x->plan, f->relname) : field;
    const char *keyf = cJSON_GetObjectItemCaseSensitive(v, "field")->valuestring;
    bool poly = f && (f->flags & PF_POLYMORPHIC);
    bool existing = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "existing"));
    const char *target = existing ? objs->child->valuestring : state_ref_target(x->st, v);
    if (!target) {
        *unresolved = true;
        target = objs->child->valuestring;
    }
    size_t n = strlen(target) + strlen(rel) + strlen(keyf) + 4;
    char *name = malloc(n);
    if (poly)
        snprintf(name, n, "%s:%s.%s", target, rel, keyf);
    else
        snprintf(name, n, "%s.%s", rel, keyf);
    return name;
}

static int column_index(Export *x, const char *name, const char *field, bool add)
{
    for (int i = 0; i < x->ncols; i++)
        if (strcmp(x->cols[i], name) == 0)
            return i;
    if (!add)
        return -1;
    x->cols = realloc(x->cols, sizeof(char *) * (size_t)(x->ncols + 1));
    x->col_field = realloc(x->col_field, sizeof(char *) * (size_t)(x->ncols + 1));
    x->cols[x->ncols] = strdup(name);
    x->col_field[x->ncols] = strdup(field);
    return x->ncols++;
}

static bool keep(const Export *x, const void *k, size_t kl, const cJSON *rec)
{
    return !x->opt->keep || x->opt->keep(x->opt->ctx, k, kl, rec);
}

static int collect_columns(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Export *x = ctx;
    cJSON *rec = cJSON_ParseWithLength(v, vl);
    if (!keep(x, k, kl, rec)) {
        cJSON_Delete(rec);
        return 0;
    }
    x->kept++;
    if (x->opt->id_of)
        column_index(x, "Id", "", true);       /* the record's Salesforce Id: an update */
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(rec, "fields")) {
        if (x->opt->skip_field && x->opt->skip_field(x->opt->ctx, f->string))
            continue;                           /* no column: its cells are left out too */
        bool unres;
        char *name = column_name(x, f->string, f, &unres);
        column_index(x, name, f->string, true);
        free(name);
    }
    cJSON_Delete(rec);
    return 0;
}

/* Columns in the order of the object's fields in the plan (stable output). */
static void sort_columns(Export *x)
{
    for (int i = 1; i < x->ncols; i++)
        for (int j = i; j > 0; j--) {
            const PlanField *a = object_field(x, x->col_field[j - 1]), *b = object_field(x, x->col_field[j]);
            long ia = a ? a - x->plan->fields : 1L << 30, ib = b ? b - x->plan->fields : 1L << 30;
            ia = *x->col_field[j - 1] ? ia : -1;           /* Id first */
            ib = *x->col_field[j] ? ib : -1;
            if (ia < ib || (ia == ib && strcmp(x->cols[j - 1], x->cols[j]) <= 0))
                break;
            char *t = x->cols[j]; x->cols[j] = x->cols[j - 1]; x->cols[j - 1] = t;
            t = x->col_field[j]; x->col_field[j] = x->col_field[j - 1]; x->col_field[j - 1] = t;
        }
}

/* ---- writing */

static void line_put(Export *x, const char *s, size_t n)
{
    if (x->linelen + n + 1 > x->linecap) {
        x->linecap = (x->linelen + n + 1) * 2;
        x->line = realloc(x->line, x->linecap);
    }
    memcpy(x->line + x->linelen, s, n);
    x->linelen += n;
}

static void cell(Export *x, const char *s)
{
    size_t n = strlen(s);
    if (!csv_needs_quotes(s, n)) {
        line_put(x, s, n);
        return;
    }
    line_put(x, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            line_put(x, "\"", 1);             /* a quote is doubled */
        line_put(x, p, 1);
    }
    line_put(x, "\"", 1);
}

static void value_text(const cJSON *v, char *num, const char **out)
{
    if (cJSON_IsNull(v))
        *out = "#N/A";
    else if (cJSON_IsBool(v))
        *out = cJSON_IsTrue(v) ? "true" : "false";
    else if (cJSON_IsNumber(v)) {
        val_format_number(v->valuedouble, num);
        *out = num;
    } else if (cJSON_IsString(v))
        *out = v->valuestring;
    else
        *out = "";
}

static int open_part(Export *x)
{
    if (x->f) {
        fclose(x->f);
        x->f = NULL;
    }
    x->part++;
    x->part_rows = 0;
    if (x->part == 1)
        snprintf(x->path, sizeof x->path, "%s/%s.csv", x->outdir, x->opt->stem);
    else
        snprintf(x->path, sizeof x->path, "%s/%s.part%d.csv", x->outdir, x->opt->stem, x->part);
    x->f = fopen(x->path, "wb");
    if (!x->f) {
        fprintf(stderr, "maprun: cannot write %s: %s\n", x->path, strerror(errno));
        return -1;
    }
    x->linelen = 0;
    for (int i = 0; i < x->ncols; i++) {
        if (i)
            line_put(x, ",", 1);
        cell(x, x->cols[i]);
    }
    line_put(x, "\n", 1);
    fwrite(x->line, 1, x->linelen, x->f);
    x->bytes = x->linelen;
    cJSON *fe = cJSON_CreateObject();
    const char *base = strrchr(x->path, '/');
    cJSON_AddStringToObject(fe, "path", base ? base + 1 : x->path);
    cJSON_AddNumberToObject(fe, "rows", 0);
    cJSON_AddItemToArray(x->files, fe);
    return 0;
}

static int write_row(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Export *x = ctx;
    cJSON *rec = cJSON_ParseWithLength(v, vl);
    if (!keep(x, k, kl, rec)) {
        cJSON_Delete(rec);
        return 0;
    }
    const char **vals = calloc((size_t)x->ncols + 1, sizeof(char *));
    char (*nums)[40] = calloc((size_t)x->ncols + 1, 40);
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(rec, "fields")) {
        bool unres;
        char *name = column_name(x, f->string, f, &unres);
        int c = column_index(x, name, f->string, false);
        free(name);
        x->unresolved += unres;
        if (c < 0)
            continue;
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(f, "key");
        value_text(cJSON_IsObject(f) && val ? val : f, nums[c], &vals[c]);
    }
    if (x->opt->id_of)
        vals[column_index(x, "Id", "", false)] = x->opt->id_of(x->opt->ctx, k, kl);
    x->linelen = 0;
    for (int i = 0; i < x->ncols; i++) {
        if (i)
            line_put(x, ",", 1);
        cell(x, vals[i] ? vals[i] : "");
    }
    line_put(x, "\n", 1);
    int rc = 0;
    bool full = x->bytes + x->linelen > x->max_bytes || (x->opt->max_rows && x->part_rows >= x->opt->max_rows);
    if (full && x->part_rows > 0) {
        char *row = malloc(x->linelen);
        size_t n = x->linelen;
        memcpy(row, x->line, n);
        rc = open_part(x);
        x->linelen = 0;
        line_put(x, row, n);
        free(row);
    }
    if (rc == 0) {
        fwrite(x->line, 1, x->linelen, x->f);
        x->bytes += x->linelen;
        x->rows++;
        x->part_rows++;
        cJSON *last = cJSON_GetArrayItem(x->files, cJSON_GetArraySize(x->files) - 1);
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(last, "rows"),
                             cJSON_GetObjectItemCaseSensitive(last, "rows")->valuedouble + 1);
    }
    free(vals);
    free(nums);
    cJSON_Delete(rec);
    return rc;
}

static void free_columns(Export *x)
{
    for (int i = 0; i < x->ncols; i++) {
        free(x->cols[i]);
        free(x->col_field[i]);
    }
    free(x->cols);
    free(x->col_field);
    x->cols = x->col_field = NULL;
    x->ncols = 0;
}

cJSON *export_object_csv(Stage *st, const Plan *p, uint32_t oi, const char *outdir, const ExportOptions *opt)
{
    Export x = {0};
    x.plan = p;
    x.st = st;
    x.opt = opt;
    x.outdir = outdir;
    x.max_bytes = opt->max_bytes ? opt->max_bytes : DEFAULT_MAX_BYTES;
    x.obj = &p->objects[oi];
    x.files = cJSON_CreateArray();
    const char *name = plan_s(p, x.obj->name);
    size_t plen = strlen(name) + 1;
    int rc = stage_scan(st, DB_RECORDS, name, plen, collect_columns, &x);   /* prefix includes the NUL */
    sort_columns(&x);
    if (rc == 0 && x.ncols > 0) {
        rc = open_part(&x);
        if (rc == 0)
            rc = stage_scan(st, DB_RECORDS, name, plen, write_row, &x);
        if (x.f && fclose(x.f) != 0)
            rc = -1;
        x.f = NULL;
    }
    cJSON *o = cJSON_CreateObject();
    if (opt->order)
        cJSON_AddNumberToObject(o, "order", opt->order);
    cJSON_AddStringToObject(o, "object", name);
    cJSON *cols = cJSON_AddArrayToObject(o, "columns");
    for (int i = 0; i < x.ncols; i++)
        cJSON_AddItemToArray(cols, cJSON_CreateString(x.cols[i]));
    for (uint32_t i = 0; i < x.obj->nfields; i++) {
        const PlanField *f = &p->fields[x.obj->first_field + i];
        if ((f->flags & PF_EXTERNAL) && column_index(&x, plan_s(p, f->name), "", false) >= 0)
            cJSON_AddStringToObject(o, "external_id", plan_s(p, f->name));
    }
    cJSON_AddNumberToObject(o, "rows", (double)x.rows);
    cJSON_AddNumberToObject(o, "unresolved_references", (double)x.unresolved);
    cJSON_AddItemToObject(o, "files", x.files);
    free_columns(&x);
    free(x.line);
    if (rc != 0) {
        if (stage_error(st)[0])
            fprintf(stderr, "maprun: %s\n", stage_error(st));
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int export_csv(const char *dir, const char *outdir, size_t max_bytes)
{
    Plan plan;
    char err[512];
    Stage *st = NULL;
    if (stage_open(&st, dir, false, err, sizeof err) < 0 || stage_load_plan(st, &plan, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        stage_close(st);
        return -1;
    }
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "maprun: cannot create %s: %s\n", outdir, strerror(errno));
        stage_close(st);
        plan_free(&plan);
        return -1;
    }
    cJSON *root = cJSON_CreateObject();
    char hash[16];
    snprintf(hash, sizeof hash, "%08x", plan.hash);
    cJSON_AddStringToObject(root, "plan", hash);
    cJSON_AddStringToObject(root, "line_ending", "LF");
    cJSON *objects = cJSON_AddArrayToObject(root, "objects");
    int rc = 0;
    for (uint32_t i = 0; i < plan.nobjects && rc == 0; i++) {
        char stem[256];
        uint32_t oi = plan.load_order[i];
        snprintf(stem, sizeof stem, "%02u-%s", i + 1, plan_s(&plan, plan.objects[oi].name));
        ExportOptions opt = {.max_bytes = max_bytes, .stem = stem, .order = (int)i + 1};
        cJSON *o = export_object_csv(st, &plan, oi, outdir, &opt);
        if (!o) {
            rc = -1;
            break;
        }
        cJSON_AddItemToArray(objects, o);
    }
    char *text = cJSON_Print(root), path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", outdir);
    FILE *mf = fopen(path, "wb");
    if (!mf || fputs(text, mf) < 0 || fputc('\n', mf) == EOF || fclose(mf) != 0) {
        fprintf(stderr, "maprun: cannot write %s\n", path);
        rc = -1;
    }
    free(text);
    cJSON_Delete(root);
    stage_close(st);
    plan_free(&plan);
    return rc;
}

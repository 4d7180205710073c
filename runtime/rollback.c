/*
** rollback: the migration undone, from what the loader recorded.
**
**   loaded (created: true)   the migration made it: delete it
**   prior                    it existed and the migration overwrote it:
**                            update it back to the values read before
**
** Objects go in the reverse of the load order, so children are deleted
** before their parents.  Deletes and updates are Bulk API jobs through the
** same journal as the load, matched back by Id; a record undone leaves
** `loaded` (and `prior`) and is noted in `undone`, so a second rollback,
** or one resumed after a kill, finds only what is left to do.
*/
#include "rollback.h"
#include "bulkjob.h"
#include "csv.h"
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define jstr jobs_str
#define jnum jobs_num
#define DEFAULT_JOB_BYTES ((size_t)100 * 1000 * 1000)

typedef struct Undo {
    const RollbackOptions *o;
    Stage *st;
    Plan plan;
    SfClient *sf;
    Jobs J;
    const char *obj;
    unsigned long long done, failed;     /* this object */
    unsigned long long failed_total;
} Undo;

/* ---- what there is to undo */

typedef struct Todo {
    Undo *U;
    cJSON *created;     /* key -> Id */
    cJSON *restore;     /* key -> {"id","fields"} */
} Todo;

static int collect_loaded(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Todo *t = ctx;
    size_t n;
    const char *key = state_key_part(k, kl, &n);
    char *ks = strndup(key, n);
    cJSON *l = cJSON_ParseWithLength(v, vl);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "created")) && jstr(l, "id"))
        cJSON_AddStringToObject(t->created, ks, jstr(l, "id"));
    else {
        cJSON *p = state_get_json(t->U->st, DB_PRIOR, k, kl);
        if (p && jstr(p, "id"))
            cJSON_AddItemToObject(t->restore, ks, p);
        else
            cJSON_Delete(p);
    }
    free(ks);
    cJSON_Delete(l);
    return 0;
}

static void todo(Undo *U, const char *obj, Todo *t)
{
    t->U = U;
    t->created = cJSON_CreateObject();
    t->restore = cJSON_CreateObject();
    stage_scan(U->st, DB_LOADED, obj, strlen(obj) + 1, collect_loaded, t);
}

static void todo_free(Todo *t)
{
    cJSON_Delete(t->created);
    cJSON_Delete(t->restore);
}

/* ---- results */

static int on_row(void *ctx, const cJSON *job, const JobResult *r)
{
    Undo *U = ctx;
    const char *obj = jstr(job, "object"), *op = jstr(job, "operation");
    bool del = strcmp(op, "delete") == 0;
    /* already gone: what a delete wanted (a parent's delete took it, or an earlier run) */
    bool gone = r->kind == JOB_ROW_FAILED && del
                && (strcmp(r->code, "ENTITY_IS_DELETED") == 0 || strcmp(r->code, "INVALID_CROSS_REFERENCE_KEY") == 0);
    StateKey k = state_key(obj, r->sent);
    int rc = 0;
    if (r->kind == JOB_ROW_OK || gone) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "action", del ? "deleted" : "restored");
        cJSON_AddStringToObject(v, "id", r->match);
        cJSON_AddStringToObject(v, "job", jstr(job, "id"));
        rc = state_put_json(U->st, DB_UNDONE, k.s, k.len, v);
        cJSON_Delete(v);
        stage_del(U->st, DB_LOADED, k.s, k.len);
        stage_del(U->st, DB_VERIFIED, k.s, k.len);
        stage_del(U->st, DB_FAILED, k.s, k.len);
        if (!del)
            stage_del(U->st, DB_PRIOR, k.s, k.len);
        U->done++;
    } else {
        fprintf(stderr, "maprun: %s %s (%s): %s: %s\n", del ? "delete" : "restore", obj, r->sent, r->code, r->message);
        U->failed++;
    }
    free(k.s);
    return rc;
}

/* ---- jobs */

/* A prior value as CSV text: nulls clear the field; REST's +0000 offset becomes Z. */
static void prior_cell(FILE *f, const cJSON *v)
{
    char num[64];
    if (!v || cJSON_IsNull(v))
        fputs("#N/A", f);
    else if (cJSON_IsBool(v))
        fputs(cJSON_IsTrue(v) ? "true" : "false", f);
    else if (cJSON_IsNumber(v)) {
        snprintf(num, sizeof num, "%.17g", v->valuedouble);
        fputs(num, f);
    } else if (cJSON_IsString(v)) {
        size_t n = strlen(v->valuestring);
        if (n == 28 && v->valuestring[10] == 'T' && strcmp(v->valuestring + 23, "+0000") == 0)
            fprintf(f, "%.23sZ", v->valuestring);
        else
            csv_put_cell(f, *v->valuestring ? v->valuestring : "#N/A");
    }
}

typedef struct Batch {
    FILE *csv, *keys;
    char csvpath[4400], keyspath[4400];
    unsigned long long seq;
    double rows;
    long bytes;
} Batch;

static int batch_open(Undo *U, Batch *b, const cJSON *header)
{
    b->seq = jobs_reserve(&U->J, b->csvpath, b->keyspath, sizeof b->csvpath);
    b->csv = fopen(b->csvpath, "wb");
    b->keys = fopen(b->keyspath, "wb");
    b->rows = 0;
    if (!b->csv || !b->keys) {
        fprintf(stderr, "maprun: cannot write %s: %s\n", b->csvpath, strerror(errno));
        return -1;
    }
    const cJSON *h;
    cJSON_ArrayForEach(h, header) {
        csv_put_cell(b->csv, h->valuestring);
        fputc(h->next ? ',' : '\n', b->csv);
    }
    return 0;
}

static int batch_send(Undo *U, Batch *b, const char *operation)
{
    int rc = (fclose(b->csv) == 0) & (fclose(b->keys) == 0) ? 0 : -1;
    b->csv = b->keys = NULL;
    if (rc < 0 || b->rows == 0)
        return rc;
    cJSON *spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "phase", "rollback");
    cJSON_AddStringToObject(spec, "object", U->obj);
    cJSON_AddStringToObject(spec, "operation", operation);
    cJSON_AddStringToObject(spec, "match", "Id");
    rc = jobs_submit(&U->J, b->seq, spec, b->rows);
    cJSON_Delete(spec);
    return rc;
}

/* Sends the rows of one operation (delete: key -> Id; update: key -> prior),
** in jobs of at most job_rows rows and job_bytes bytes. */
static int send_rows(Undo *U, const cJSON *rows, const cJSON *header, const char *operation)
{
    Batch b = {0};
    size_t max_bytes = U->o->job_bytes ? U->o->job_bytes : DEFAULT_JOB_BYTES;
    int rc = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, rows) {
        if (!b.csv && (rc = batch_open(U, &b, header)) < 0)
            break;
        const char *id = cJSON_IsString(r) ? r->valuestring : jstr(r, "id");
        fprintf(b.keys, "%s\t%s\n", id, r->string);
        csv_put_cell(b.csv, id);
        const cJSON *h, *fields = cJSON_GetObjectItemCaseSensitive(r, "fields");
        for (h = header->child->next; h; h = h->next) {
            fputc(',', b.csv);
            prior_cell(b.csv, cJSON_GetObjectItemCaseSensitive(fields, h->valuestring));
        }
        fputc('\n', b.csv);
        b.rows++;
        if ((U->o->job_rows && b.rows >= U->o->job_rows) || (size_t)ftell(b.csv) >= max_bytes) {
            if ((rc = batch_send(U, &b, operation)) < 0 || U->J.fatal || U->J.limit)
                break;
        }
    }
    if (b.csv && rc == 0)
        rc = batch_send(U, &b, operation);
    else if (b.csv) {
        fclose(b.csv);
        fclose(b.keys);
    }
    return rc < 0 || U->J.fatal || U->J.limit ? -1 : 0;
}

/* The restore columns: Id, then every field the snapshot read. */
static cJSON *restore_header(const cJSON *restore)
{
    cJSON *h = cJSON_CreateArray();
    cJSON_AddItemToArray(h, cJSON_CreateString("Id"));
    const cJSON *r, *f;
    cJSON_ArrayForEach(r, restore)
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(r, "fields")) {
            bool seen = false;
            const cJSON *x;
            cJSON_ArrayForEach(x, h)
                seen |= strcmp(x->valuestring, f->string) == 0;
            if (!seen)
                cJSON_AddItemToArray(h, cJSON_CreateString(f->string));
        }
    return h;
}

static int undo_object(Undo *U, uint32_t oi)
{
    U->obj = plan_s(&U->plan, U->plan.objects[oi].name);
    Todo t;
    todo(U, U->obj, &t);
    int nd = cJSON_GetArraySize(t.created), nr = cJSON_GetArraySize(t.restore);
    int rc = 0;
    if (U->o->plan_only) {
        if (nd || nr)
            printf("  %-24s delete %d created record%s; restore %d updated record%s\n", U->obj, nd, nd == 1 ? "" : "s",
                   nr, nr == 1 ? "" : "s");
    } else if (nd || nr) {
        U->done = U->failed = 0;
        cJSON *idh = cJSON_CreateArray();
        cJSON_AddItemToArray(idh, cJSON_CreateString("Id"));
        if (nd)
            rc = send_rows(U, t.created, idh, "delete");
        cJSON_Delete(idh);
        if (rc == 0 && nr) {
            cJSON *h = restore_header(t.restore);
            rc = send_rows(U, t.restore, h, "update");
            cJSON_Delete(h);
        }
        printf("  %-24s %llu undone of %d; %llu could not be undone\n", U->obj, U->done, nd + nr, U->failed);
        U->failed_total += U->failed;
        if (rc == 0)
            rc = stage_commit(U->st);
    }
    todo_free(&t);
    return rc;
}

int rollback_run(const RollbackOptions *o)
{
    Undo U = {0};
    char err[512];
    U.o = o;
    if (stage_open(&U.st, o->state, !o->plan_only, err, sizeof err) < 0
        || stage_load_plan(U.st, &U.plan, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        stage_close(U.st);
        return 1;
    }
    int rc = 0;
    if (!o->plan_only) {
        rc = state_connect(&U.sf, U.st, stderr);
        if (rc == 0)
            rc = jobs_init(&U.J, U.st, U.sf, o->state, o->poll_ms, on_row, &U);
        if (rc == 0)
            rc = jobs_resume(&U.J, "rollback");
    }
    printf(o->plan_only ? "rollback plan (children first; nothing is changed):\n" : "rollback:\n");
    for (uint32_t i = U.plan.nobjects; rc == 0 && i-- > 0;)
        rc = undo_object(&U, U.plan.load_order[i]);
    int code = U.J.limit ? 75 : rc < 0 || U.J.fatal ? 1 : U.failed_total ? 3 : 0;
    if (code == 0 && !o->plan_only)
        printf("rollback finished: the org holds none of this migration's records, and the records it updated "
               "have their old values\n");
    sf_free(U.sf);
    plan_free(&U.plan);
    stage_close(U.st);
    return code;
}

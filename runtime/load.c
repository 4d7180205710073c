/*
** load: `maprun load`.  How a load stays exact (docs/loading.md):
**
**   1. Preflight: describe every object that has records to send; stop with
**      the whole list of problems before anything is written.
**   2. Finish the journal: a job the last run started (it was killed, or lost
**      its connection) is polled and its results read, or, if it never got
**      its data, aborted — its rows are simply still to send.
**   3. Per object, parents first: read the org's records that carry the
**      keys about to be written (rollback restores them), then send what is
**      not loaded yet with this content hash, one job per file: upserts (for
**      records Salesforce already holds, without the create-only fields),
**      or for an object keyed with `key match`, inserts and updates by Id.
**   4. Results are matched to records by external key, never by row order.
**      Ids go to `loaded`; failures to `failed` with Salesforce's code;
**      transient failures (UNABLE_TO_LOCK_ROW) go again in a new job.
**
** Every step that changes the org is preceded by a journal entry committed
** to the state, so a kill at any point leaves enough to finish the job.
*/
#include "load.h"
#include "bulkjob.h"
#include "csv.h"
#include "jsonbuf.h"
#include "export_csv.h"
#include "sftype.h"
#include "state.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


typedef struct Counts {
    unsigned long long sent, created, updated, unchanged, failed, retried, jobs;
    unsigned long long blocked;     /* not sent: a parent failed */
    unsigned long long orphans;     /* not sent: a parent is not staged at all (by design) */
} Counts;

typedef struct Loader {
    const LoadOptions *o;
    Stage *st;
    Plan plan;
    SfClient *sf;
    uint32_t oi;                /* the object being loaded */
    const char *obj, *extf;
    Counts c;
    cJSON *summary;
    cJSON *describes;           /* object name -> describe, from the preflight */
    unsigned long long prior_found;
    Jobs J;
} Loader;

#define jstr jobs_str
#define jnum jobs_num

/* ---- preflight */

/* Is the object keyed with `key match` (no External ID: insert or update by Id)? */
static bool match_key(const Plan *p, uint32_t oi)
{
    for (uint32_t r = 0; r < p->nrules; r++)
        if (p->rules[r].target == PT_OBJECT && p->rules[r].object == oi && (p->rules[r].flags & PR_MATCH_KEY))
            return true;
    return false;
}


static bool compatible(unsigned plan_type, const char *sf_type)
{
    static const char *const text[] = {"string", "textarea", "email", "phone", "url", "picklist",
                                       "multipicklist", "combobox", NULL};
    static const char *const number[] = {"double", "int", "currency", "percent", NULL};
    const char *pt = sftype_name(plan_type);
    if (strcmp(pt, sf_type) == 0)
        return true;
    for (const char *const *g = text; g; g = g == text ? number : NULL) {
        bool a = false, b = false;
        for (int i = 0; g[i]; i++) {
            a |= strcmp(g[i], pt) == 0;
            b |= strcmp(g[i], sf_type) == 0;
        }
        if (a && b)
            return true;
    }
    return false;
}

static const cJSON *describe_field(const cJSON *d, const char *name)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(d, "fields")) {
        const char *n = jstr(f, "name");
        if (n && strcasecmp(n, name) == 0)    /* API names are case-insensitive */
            return f;
    }
    return NULL;
}

static int has_record(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k, (void)kl, (void)v, (void)vl;
    *(bool *)ctx = true;
    return 1;
}

static bool object_has_records(Loader *L, const char *obj)
{
    bool any = false;
    stage_scan(L->st, DB_RECORDS, obj, strlen(obj) + 1, has_record, &any);
    return any;
}

static void problem(cJSON *list, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(cJSON *list, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(list, cJSON_CreateString(text));
}

static void check_field(Loader *L, uint32_t oi, const PlanField *f, const cJSON *d, cJSON *list)
{
    const Plan *p = &L->plan;
    const char *obj = plan_s(p, p->objects[oi].name), *name = plan_s(p, f->name);
    const cJSON *df = describe_field(d, name);
    const char *key = state_key_field(p, oi);
    if (!df) {
        problem(list, "%s.%s does not exist in the org, or this user cannot see it%s", obj, name,
                (f->flags & PF_CUSTOM) ? " (deploy the schema: mapc schema PLAN.mapb --sfdx DIR, and grant "
                                         "the permission set)" : " (field-level security)");
        return;
    }
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(df, "createable")))
        problem(list, "%s.%s is not createable by this user (read-only, or field-level security)", obj, name);
    const char *t = jstr(df, "type");
    if (t && !compatible(f->type, t))
        problem(list, "%s.%s is %s in the org, but the plan writes %s", obj, name, t, sftype_name(f->type));
    double len = jnum(df, "length");
    if (f->length && len > 0 && len < f->length && t && strcmp(t, "picklist") != 0)
        problem(list, "%s.%s holds %.0f characters in the org, but the plan writes up to %u", obj, name, len,
                f->length);
    if (key && strcmp(key, name) == 0 && !match_key(p, oi)
        && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(df, "externalId")))
        problem(list, "%s.%s is the upsert key but is not marked External ID in the org", obj, name);
}

/* ---- preflight: the org's own records that `ref existing` names (owners, folders) */

typedef struct Existing {
    cJSON *want;        /* "Object\tfield" -> {key: rule} */
} Existing;

static int collect_existing(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k, (void)kl;
    Existing *ex = ctx;
    cJSON *ref = cJSON_ParseWithLength(v, vl);
    const cJSON *objs = cJSON_GetObjectItemCaseSensitive(ref, "$ref");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "existing")) && cJSON_IsArray(objs) && objs->child
        && jstr(ref, "field") && jstr(ref, "key")) {
        char group[256];
        snprintf(group, sizeof group, "%s\t%s", objs->child->valuestring, jstr(ref, "field"));
        cJSON *g = cJSON_GetObjectItemCaseSensitive(ex->want, group);
        if (!g)
            g = cJSON_AddObjectToObject(ex->want, group);
        if (!cJSON_GetObjectItemCaseSensitive(g, jstr(ref, "key")))
            cJSON_AddNumberToObject(g, jstr(ref, "key"), 0);
    }
    cJSON_Delete(ref);
    return 0;
}

typedef struct Found {
    cJSON *keys;
    const char *field;
} Found;

static int count_match(void *ctx, const cJSON *rec)
{
    Found *fd = ctx;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, fd->field);
    cJSON *k;
    cJSON_ArrayForEach(k, fd->keys)                 /* SOQL text comparison ignores case */
        if (cJSON_IsString(v) && strcasecmp(k->string, v->valuestring) == 0)
            cJSON_SetNumberValue(k, k->valuedouble + 1);
    return 0;
}

/* Each distinct record a `ref existing` names must match exactly one record in the org. */
static void check_existing(Loader *L, cJSON *list)
{
    Existing ex = {cJSON_CreateObject()};
    stage_scan(L->st, DB_REFS, "", 0, collect_existing, &ex);
    const cJSON *g;
    cJSON_ArrayForEach(g, ex.want) {
        char obj[128], field[128];
        sscanf(g->string, "%127[^\t]\t%127s", obj, field);
        cJSON *keys = (cJSON *)g;
        const cJSON *k = keys->child;       /* the keys, 100 to a query */
        while (k && !L->J.fatal && !L->J.limit) {
            JBuf q = {0};
            cJSON *names = cJSON_CreateArray();
            cJSON_AddItemToArray(names, cJSON_CreateString("Id"));
            cJSON_AddItemToArray(names, cJSON_CreateString(field));
            state_soql_select(&q, names, obj, field);
            cJSON_Delete(names);
            jb_cstr(&q, " IN (");
            for (int n = 0; k && n < 100; n++, k = k->next) {
                if (n)
                    jb_cstr(&q, ", ");
                state_soql_quote(&q, k->string);
            }
            jb_cstr(&q, ")");
            Found fd = {keys, field};
            SfError e;
            if (sf_query(L->sf, q.s, count_match, &fd, &e) < 0)
                jobs_error(&L->J, "look up the org's existing records", &e);
            jb_free(&q);
        }
        cJSON_ArrayForEach(k, keys)
            if (k->valuedouble != 1)
                problem(list, "%s with %s = '%s' %s in the org; records refer to it with `ref existing`", obj, field,
                        k->string, k->valuedouble == 0 ? "is not" : "is more than one record");
    }
    cJSON_Delete(ex.want);
}

static int preflight(Loader *L)
{
    const Plan *p = &L->plan;
    cJSON *list = cJSON_CreateArray();
    int checked = 0;
    for (uint32_t i = 0; i < p->nobjects && !L->J.limit && !L->J.fatal; i++) {
        uint32_t oi = p->load_order[i];
        const char *obj = plan_s(p, p->objects[oi].name);
        if (!object_has_records(L, obj))
            continue;
        char path[512];
        snprintf(path, sizeof path, "/sobjects/%s/describe", obj);
        SfError e;
        cJSON *d = sf_get_json(L->sf, path, &e);
        if (!d) {
            if (e.http == 404)
                problem(list, "%s: the object does not exist in the org, or this user cannot see it", obj);
            else
                jobs_error(&L->J, path, &e);
            continue;
        }
        checked++;
        cJSON_AddItemToObject(L->describes, obj, d);
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "createable")))
            problem(list, "%s: this user cannot create %s records", obj, obj);
        const char *key = state_key_field(p, oi);
        if (key && !state_field(p, oi, key))
            problem(list, "%s: the plan has no field %s to upsert on", obj, key);
        for (uint32_t f = 0; f < p->objects[oi].nfields; f++)
            check_field(L, oi, &p->fields[p->objects[oi].first_field + f], d, list);
    }
    if (!L->J.limit && !L->J.fatal)
        check_existing(L, list);
    int n = cJSON_GetArraySize(list);
    if (n > 0) {
        fprintf(stderr, "maprun: preflight: %d problem%s in the org; nothing was written:\n", n, n == 1 ? "" : "s");
        const cJSON *it;
        cJSON_ArrayForEach(it, list)
            fprintf(stderr, "  - %s\n", it->valuestring);
    } else if (!L->J.limit && !L->J.fatal) {
        printf("preflight: %d object%s checked against the org's describe: ready\n", checked, checked == 1 ? "" : "s");
    }
    cJSON_Delete(list);
    return n > 0 || L->J.limit || L->J.fatal ? -1 : 0;
}

/* ---- results, as the jobs report them */

static bool retryable(const char *code)
{
    return strcmp(code, "UNABLE_TO_LOCK_ROW") == 0 || strcmp(code, "TooManyLockFailure") == 0
        || strcmp(code, "SERVER_UNAVAILABLE") == 0;
}

static int record_success(Loader *L, const char *obj, const char *job, const JobResult *r)
{
    StateKey k = state_key(obj, r->match);
    /* a record created by an earlier job stays "created": a retry that updates it does not make it prior data */
    cJSON *old = state_get_json(L->st, DB_LOADED, k.s, k.len);
    bool created = r->created || (old && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(old, "created")));
    cJSON_Delete(old);
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "id", r->sf_id);
    cJSON_AddStringToObject(v, "hash", r->sent);
    cJSON_AddBoolToObject(v, "created", created);
    cJSON_AddStringToObject(v, "job", job);
    int rc = state_put_json(L->st, DB_LOADED, k.s, k.len, v);
    stage_del(L->st, DB_FAILED, k.s, k.len);
    free(k.s);
    cJSON_Delete(v);
    if (r->created)
        L->c.created++;
    else
        L->c.updated++;
    return rc;
}

static int record_failure(Loader *L, const char *obj, const char *job, const JobResult *r)
{
    StateKey k = state_key(obj, r->match);
    cJSON *old = state_get_json(L->st, DB_FAILED, k.s, k.len);
    double attempts = old && jstr(old, "hash") && strcmp(jstr(old, "hash"), r->sent) == 0 ? jnum(old, "attempts") : 0;
    cJSON_Delete(old);
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "hash", r->sent);
    cJSON_AddStringToObject(v, "code", r->code);
    cJSON_AddStringToObject(v, "message", r->message);
    cJSON_AddStringToObject(v, "job", job);
    cJSON_AddBoolToObject(v, "retryable", retryable(r->code));
    cJSON_AddNumberToObject(v, "attempts", attempts + 1);
    int rc = state_put_json(L->st, DB_FAILED, k.s, k.len, v);
    free(k.s);
    cJSON_Delete(v);
    if (retryable(r->code))
        L->c.retried++;
    else
        L->c.failed++;
    return rc;
}

static int on_row(void *ctx, const cJSON *job, const JobResult *r)
{
    Loader *L = ctx;
    const char *obj = jstr(job, "object"), *id = jstr(job, "id");
    return r->kind == JOB_ROW_OK ? record_success(L, obj, id, r) : record_failure(L, obj, id, r);
}

/* ---- what to send */

/* Which records one export takes: those whose key Salesforce does not hold
** yet, and those it does (known Id: loaded before, or in the org before the
** migration).  Known ones leave out the fields that can only be set on
** create; for an object keyed with `key match` they are updated by Id, new
** ones inserted. */
typedef enum { PICK_NEW, PICK_KNOWN } PickPart;

typedef struct Pick {
    Loader *L;
    unsigned long long unchanged;
    bool counting;
    PickPart part;
    char id[32];                /* id_of's answer */
} Pick;

typedef enum { PARENTS_LOADED, PARENT_FAILED, NO_PARENT } Parents;

/* Are the records a record refers to in Salesforce?  NO_PARENT: one is not
** even staged (the person was deleted, excluded or quarantined at the
** source), which is by design, not a failure; *which names it. */
static Parents parents(Loader *L, const cJSON *rec, const cJSON **which)
{
    const cJSON *f;
    Parents worst = PARENTS_LOADED;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(rec, "fields")) {
        if (!cJSON_IsObject(f) || !cJSON_GetObjectItemCaseSensitive(f, "$ref")
            || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "existing")))
            continue;
        const char *target = state_ref_target(L->st, f);
        const char *key = jstr(f, "key");
        if (!target || !key) {
            *which = f;
            return NO_PARENT;
        }
        StateKey k = state_key(target, key);
        int loaded = stage_has(L->st, DB_LOADED, k.s, k.len);
        free(k.s);
        if (loaded != 1) {
            *which = f;
            worst = PARENT_FAILED;
        }
    }
    return worst;
}

typedef enum { SEND, UNCHANGED, GIVEN_UP, BLOCKED } Verdict;

static Verdict verdict(Loader *L, const void *key, size_t klen, const cJSON *rec)
{
    const char *hash = jstr(rec, "hash");
    cJSON *done = state_get_json(L->st, DB_LOADED, key, klen);
    bool same = done && hash && jstr(done, "hash") && strcmp(jstr(done, "hash"), hash) == 0;
    cJSON_Delete(done);
    if (same)
        return UNCHANGED;
    cJSON *fail = state_get_json(L->st, DB_FAILED, key, klen);
    Verdict v = SEND;
    if (fail && hash && jstr(fail, "hash") && strcmp(jstr(fail, "hash"), hash) == 0) {
        const char *code = jstr(fail, "code");
        bool retry = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(fail, "retryable"))
                     && jnum(fail, "attempts") < L->o->max_attempts;
        if (!retry && strncmp(code ? code : "", "PARENT_NOT_", 11) != 0)    /* parents: looked at again */
            v = GIVEN_UP;
    }
    cJSON_Delete(fail);
    const cJSON *which;
    if (v == SEND && parents(L, rec, &which) != PARENTS_LOADED)
        v = BLOCKED;
    return v;
}

/* The Salesforce Id a key already has: loaded by this migration, or in the
** org before it (the snapshot); NULL if none. */
static const char *known_id(Loader *L, const void *key, size_t klen, char *out, size_t n)
{
    cJSON *v = state_get_json(L->st, DB_LOADED, key, klen);
    if (!v)
        v = state_get_json(L->st, DB_PRIOR, key, klen);
    const char *id = v ? jstr(v, "id") : NULL;
    if (id)
        snprintf(out, n, "%s", id);
    cJSON_Delete(v);
    return id ? out : NULL;
}

static bool keep(void *ctx, const void *key, size_t klen, const cJSON *rec)
{
    Pick *pk = ctx;
    Verdict v = verdict(pk->L, key, klen, rec);
    if (pk->counting)
        pk->unchanged += v == UNCHANGED;
    if (v != SEND)
        return false;
    bool known = known_id(pk->L, key, klen, pk->id, sizeof pk->id) != NULL;
    return pk->part == PICK_KNOWN ? known : !known;
}

static const char *id_of(void *ctx, const void *key, size_t klen)
{
    Pick *pk = ctx;
    return known_id(pk->L, key, klen, pk->id, sizeof pk->id);
}

/* A field Salesforce lets one set on create only (describe: not updateable). */
static bool create_only(void *ctx, const char *field)
{
    Pick *pk = ctx;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(pk->L->describes, pk->L->obj);
    const cJSON *df = describe_field(d, field);
    return df && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(df, "updateable"))
        && strcasecmp(field, pk->L->extf) != 0;
}


/* A pass over the object's records, for the verdicts themselves. */
typedef struct Survey {
    Loader *L;
    unsigned long long send_new;     /* to send, never loaded: the snapshot must look for them */
    char **blocked;                  /* keys whose parents are not loaded */
    size_t nblocked, cap;
} Survey;

static int survey_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Survey *sv = ctx;
    cJSON *rec = cJSON_ParseWithLength(v, vl);
    Verdict vd = verdict(sv->L, k, kl, rec);
    if (vd == SEND && stage_has(sv->L->st, DB_LOADED, k, kl) != 1)
        sv->send_new++;
    if (vd == BLOCKED) {
        if (sv->nblocked == sv->cap) {
            sv->cap = sv->cap ? sv->cap * 2 : 64;
            sv->blocked = realloc(sv->blocked, sv->cap * sizeof *sv->blocked);
        }
        size_t n;
        const char *key = state_key_part(k, kl, &n);
        sv->blocked[sv->nblocked++] = strndup(key, n);
    }
    cJSON_Delete(rec);
    return 0;
}

static void survey(Loader *L, Survey *sv)
{
    memset(sv, 0, sizeof *sv);
    sv->L = L;
    stage_scan(L->st, DB_RECORDS, L->obj, strlen(L->obj) + 1, survey_one, sv);
}

static void survey_free(Survey *sv)
{
    for (size_t i = 0; i < sv->nblocked; i++)
        free(sv->blocked[i]);
    free(sv->blocked);
}

/* Kept in `failed` so the report lists them, with a code that says why;
** looked at again next run (the parent may load, or be staged, by then).
** PARENT_NOT_LOADED counts as a failure; PARENT_NOT_STAGED is by design. */
static void record_blocked(Loader *L, Survey *sv)
{
    for (size_t i = 0; i < sv->nblocked; i++) {
        StateKey k = state_key(L->obj, sv->blocked[i]);
        cJSON *rec = NULL;
        const void *v;
        size_t vl;
        if (stage_get(L->st, DB_RECORDS, k.s, k.len, &v, &vl) == 1)
            rec = cJSON_ParseWithLength(v, vl);
        const cJSON *which = NULL;
        Parents why = rec ? parents(L, rec, &which) : PARENT_FAILED;
        char msg[512], *objs = which ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(which, "$ref")) : NULL;
        snprintf(msg, sizeof msg, why == NO_PARENT
                 ? "not sent: %s refers to %s %s, which this migration does not stage (deleted, excluded or "
                   "quarantined at the source)"
                 : "not sent: %s refers to %s %s, which did not load (see its failure)",
                 which ? which->string : "a field", objs ? objs : "a record", which ? jstr(which, "key") : "");
        free(objs);
        L->c.orphans += why == NO_PARENT;
        L->c.blocked += why != NO_PARENT;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "hash", rec && jstr(rec, "hash") ? jstr(rec, "hash") : "");
        cJSON_AddStringToObject(f, "code", why == NO_PARENT ? "PARENT_NOT_STAGED" : "PARENT_NOT_LOADED");
        cJSON_AddStringToObject(f, "message", msg);
        cJSON_AddStringToObject(f, "job", "");
        cJSON_AddBoolToObject(f, "retryable", false);
        cJSON_AddNumberToObject(f, "attempts", 0);
        state_put_json(L->st, DB_FAILED, k.s, k.len, f);
        cJSON_Delete(f);
        cJSON_Delete(rec);
        free(k.s);
    }
}

/* ---- the snapshot: records the org already has under the keys about to be written */

static cJSON *snapshot_fields(Loader *L)
{
    const Plan *p = &L->plan;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(L->describes, L->obj);
    cJSON *names = cJSON_CreateArray();
    cJSON_AddItemToArray(names, cJSON_CreateString("Id"));
    const PlanObject *o = &p->objects[L->oi];
    for (uint32_t i = 0; i < o->nfields; i++) {
        const char *name = plan_s(p, p->fields[o->first_field + i].name);
        const cJSON *df = describe_field(d, name);
        if (df && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(df, "updateable")))
            cJSON_AddItemToArray(names, cJSON_CreateString(jstr(df, "name")));
        else if (strcasecmp(name, L->extf) == 0)
            cJSON_AddItemToArray(names, cJSON_CreateString(name));
    }
    return names;
}

static int keep_prior(void *ctx, const cJSON *rec)
{
    Loader *L = ctx;
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(rec, L->extf);
    char num[64];
    const char *key = cJSON_IsString(kv) ? kv->valuestring : NULL;
    if (cJSON_IsNumber(kv)) {
        snprintf(num, sizeof num, "%.17g", kv->valuedouble);
        key = num;
    }
    if (!key)
        return 0;
    StateKey k = state_key(L->obj, key);
    int rc = 0;
    if (stage_has(L->st, DB_RECORDS, k.s, k.len) == 1 && stage_has(L->st, DB_PRIOR, k.s, k.len) == 0
        && stage_has(L->st, DB_LOADED, k.s, k.len) == 0) {
        L->prior_found++;
        cJSON *v = cJSON_CreateObject(), *fields = cJSON_AddObjectToObject(v, "fields");
        const cJSON *f;
        cJSON_ArrayForEach(f, rec) {
            if (strcmp(f->string, "attributes") == 0)
                continue;
            if (strcmp(f->string, "Id") == 0)
                cJSON_AddStringToObject(v, "id", cJSON_IsString(f) ? f->valuestring : "");
            else
                cJSON_AddItemToObject(fields, f->string, cJSON_Duplicate(f, 1));
        }
        rc = state_put_json(L->st, DB_PRIOR, k.s, k.len, v);
        cJSON_Delete(v);
    }
    free(k.s);
    if (rc < 0) {
        fprintf(stderr, "maprun: cannot keep the existing %s %s: %s\n", L->obj, key, stage_error(L->st));
        L->J.fatal = true;
    }
    return rc;
}

static int snapshot(Loader *L)
{
    cJSON *names = snapshot_fields(L);
    JBuf q = {0};
    state_soql_select(&q, names, L->obj, L->extf);
    jb_cstr(&q, " != null");
    cJSON_Delete(names);
    SfError e;
    L->prior_found = 0;
    int rc = sf_query(L->sf, q.s, keep_prior, L, &e);
    jb_free(&q);
    if (rc < 0)
        jobs_error(&L->J, "read the org's existing records", &e);
    if (rc == 0 && (L->J.fatal || stage_commit(L->st) < 0))
        rc = -1;
    if (rc == 0 && L->prior_found)
        printf("  %s: %llu record%s already in the org carry %s; their values are kept for rollback\n",
               L->obj, L->prior_found, L->prior_found == 1 ? "" : "s", L->extf);
    return rc;
}

/* ---- one object */

/* The .keys file of a job: each row's key and the content hash sent. */
static int write_keys(Loader *L, const char *csvpath, const char *keyspath)
{
    FILE *in = fopen(csvpath, "rb"), *out = fopen(keyspath, "wb");
    if (!in || !out) {
        fprintf(stderr, "maprun: cannot write %s\n", keyspath);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return -1;
    }
    CsvReader *r = csv_open(in);
    char **cell;
    int n, col = -1, row = 0, rc;
    while ((rc = csv_next(r, &cell, &n)) == 1) {
        if (row++ == 0) {
            col = csv_column(cell, n, L->extf);
            continue;
        }
        if (col < 0 || col >= n)
            continue;
        StateKey k = state_key(L->obj, cell[col]);
        cJSON *rec = state_get_json(L->st, DB_RECORDS, k.s, k.len);
        fprintf(out, "%s\t%s\n", cell[col], rec && jstr(rec, "hash") ? jstr(rec, "hash") : "");
        cJSON_Delete(rec);
        free(k.s);
    }
    csv_close(r);
    fclose(in);
    return fclose(out) == 0 && rc == 0 && col >= 0 ? 0 : -1;
}

static int send_file(Loader *L, const char *file, double rows, PickPart part, bool match)
{
    char from[4400], csv[4400], keys[4400];
    snprintf(from, sizeof from, "%s/%s", L->J.dir, file);
    unsigned long long seq = jobs_reserve(&L->J, csv, keys, sizeof csv);
    if (rename(from, csv) != 0 || write_keys(L, csv, keys) < 0) {
        fprintf(stderr, "maprun: cannot prepare %s: %s\n", csv, strerror(errno));
        L->J.fatal = true;
        return -1;
    }
    cJSON *spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "phase", "load");
    cJSON_AddStringToObject(spec, "object", L->obj);
    cJSON_AddStringToObject(spec, "operation", !match ? "upsert" : part == PICK_NEW ? "insert" : "update");
    if (!match)
        cJSON_AddStringToObject(spec, "external_id", L->extf);
    cJSON_AddStringToObject(spec, "match", L->extf);
    int rc = jobs_submit(&L->J, seq, spec, rows);
    cJSON_Delete(spec);
    if (rc == 0) {
        L->c.sent += (unsigned long long)rows;
        L->c.jobs++;
    }
    return rc;
}

static cJSON *counts_json(const Counts *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "sent", (double)c->sent);
    cJSON_AddNumberToObject(o, "created", (double)c->created);
    cJSON_AddNumberToObject(o, "updated", (double)c->updated);
    cJSON_AddNumberToObject(o, "unchanged", (double)c->unchanged);
    cJSON_AddNumberToObject(o, "failed", (double)c->failed);
    cJSON_AddNumberToObject(o, "not_sent_parent_failed", (double)c->blocked);
    cJSON_AddNumberToObject(o, "not_sent_no_parent_staged", (double)c->orphans);
    cJSON_AddNumberToObject(o, "transient_failures", (double)c->retried);
    cJSON_AddNumberToObject(o, "jobs", (double)c->jobs);
    return o;
}

/* Exports one part of what is left to send and sends it, a job per file. */
static int send_part(Loader *L, uint32_t oi, PickPart part, bool first)
{
    bool match = match_key(&L->plan, oi);
    Pick pk = {L, 0, first && part == PICK_NEW, part, ""};
    char stem[64];
    snprintf(stem, sizeof stem, "pending-%s", L->obj);
    ExportOptions opt = {.max_bytes = L->o->job_bytes, .max_rows = L->o->job_rows, .keep = keep, .ctx = &pk,
                         .stem = stem, .id_of = part == PICK_KNOWN && match ? id_of : NULL,
                         .skip_field = part == PICK_KNOWN ? create_only : NULL};
    cJSON *m = export_object_csv(L->st, &L->plan, oi, L->J.dir, &opt);
    if (!m) {
        L->J.fatal = true;
        return -1;
    }
    if (pk.counting)
        L->c.unchanged = pk.unchanged;
    const cJSON *f, *files = cJSON_GetObjectItemCaseSensitive(m, "files");
    int job = 0, njobs = cJSON_GetArraySize(files), rc = 0;
    cJSON_ArrayForEach(f, files) {
        if (L->o->progress)             /* a terminal: say where a long load is */
            fprintf(stderr, "\r  %s: job %d of %d (%.0f rows) ...", L->obj, ++job, njobs, jnum(f, "rows"));
        if (rc == 0)
            rc = send_file(L, jstr(f, "path"), jnum(f, "rows"), part, match);
    }
    if (L->o->progress && njobs)
        fprintf(stderr, "\r%*s\r", 60, "");
    cJSON_Delete(m);
    return rc;
}

static int load_object(Loader *L, uint32_t oi)
{
    L->oi = oi;
    L->obj = plan_s(&L->plan, L->plan.objects[oi].name);
    L->extf = state_key_field(&L->plan, oi);
    memset(&L->c, 0, sizeof L->c);
    if (!L->extf || !object_has_records(L, L->obj))
        return 0;
    Survey sv;
    survey(L, &sv);
    int rc = sv.send_new ? snapshot(L) : 0;
    survey_free(&sv);
    for (int round = 0; rc == 0 && round < L->o->max_attempts + 1; round++) {
        unsigned long long retried = L->c.retried, before = L->c.created + L->c.updated + L->c.failed;
        unsigned long long sent = L->c.sent;
        rc = send_part(L, oi, PICK_NEW, round == 0);
        if (rc == 0)
            rc = send_part(L, oi, PICK_KNOWN, round == 0);
        if (rc < 0 || L->c.sent == sent)
            break;                                  /* nothing was left to send */
        bool all_settled = L->c.created + L->c.updated + L->c.failed - before == L->c.sent - sent;
        if (all_settled && L->c.retried == retried)
            break;
        long ms = (L->o->poll_ms > 0 ? L->o->poll_ms : 1000) << (round < 5 ? round : 5);
        fprintf(stderr, "maprun: %s: %llu row%s to send again (lock contention or an interrupted job); "
                "next job in %.1f s\n", L->obj, L->c.sent - sent - (L->c.created + L->c.updated + L->c.failed - before),
                L->c.sent - sent == 1 ? "" : "s", ms / 1000.0);
        sf_sleep_ms(ms);
    }
    if (rc == 0) {
        survey(L, &sv);
        record_blocked(L, &sv);
        survey_free(&sv);
        rc = stage_commit(L->st);
    }
    cJSON_AddItemToObject(L->summary, L->obj, counts_json(&L->c));
    printf("  %-24s sent %llu: created %llu, updated %llu, failed %llu; unchanged %llu", L->obj, L->c.sent,
           L->c.created, L->c.updated, L->c.failed, L->c.unchanged);
    if (L->c.blocked)
        printf("; not sent, parent failed %llu", L->c.blocked);
    if (L->c.orphans)
        printf("; not sent, refers to a record not staged %llu", L->c.orphans);
    putchar('\n');
    return rc;
}

/* ---- the command */

static int open_loader(Loader *L, const LoadOptions *o)
{
    char err[512];
    memset(L, 0, sizeof *L);
    L->o = o;
    if (stage_open(&L->st, o->state, true, err, sizeof err) < 0
        || stage_load_plan(L->st, &L->plan, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        return -1;
    }
    const void *v;
    size_t vl;
    if (stage_get(L->st, DB_META, "summary", 7, &v, &vl) != 1) {
        fprintf(stderr, "maprun: %s holds no staging run: run maprun stage first\n", o->state);
        return -1;
    }
    L->describes = cJSON_CreateObject();
    L->summary = cJSON_CreateObject();
    if (state_connect(&L->sf, L->st, stderr) < 0)
        return -1;
    return jobs_init(&L->J, L->st, L->sf, o->state, o->poll_ms, on_row, L);
}

static void close_loader(Loader *L)
{
    sf_free(L->sf);
    cJSON_Delete(L->describes);
    cJSON_Delete(L->summary);
    if (L->st) {
        stage_commit(L->st);
        plan_free(&L->plan);
    }
    stage_close(L->st);
}

static int save_summary(Loader *L)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToObject(s, "objects", cJSON_Duplicate(L->summary, 1));
    cJSON_AddStringToObject(s, "instance_url", sf_instance_url(L->sf));
    cJSON_AddStringToObject(s, "outcome", L->J.limit ? "stopped: API limit" : L->J.fatal ? "stopped: error" : "finished");
    int rc = state_put_json(L->st, DB_META, "load", 4, s);
    cJSON_Delete(s);
    return rc < 0 ? rc : stage_commit(L->st);
}

int load_run(const LoadOptions *o)
{
    Loader L;
    int rc = open_loader(&L, o);
    if (rc == 0)
        rc = preflight(&L);
    if (rc == 0)
        rc = jobs_resume(&L.J, "load");
    unsigned long long failed = 0, orphans = 0;
    for (uint32_t i = 0; rc == 0 && i < L.plan.nobjects; i++) {
        rc = load_object(&L, L.plan.load_order[i]);
        failed += L.c.failed + L.c.blocked;      /* records with no staged parent are not failures */
        orphans += L.c.orphans;
    }
    if (L.sf)
        save_summary(&L);
    int code = L.J.limit ? LOAD_LATER : rc < 0 || L.J.fatal ? LOAD_ERROR : failed ? LOAD_FAILED_ROWS : LOAD_OK;
    if (code == LOAD_OK && !orphans)
        printf("load finished: every staged record is in Salesforce\n");
    else if (code == LOAD_OK)
        printf("load finished: every staged record is in Salesforce but %llu that refer to records this migration "
               "does not stage (PARENT_NOT_STAGED: deleted, excluded or quarantined at the source)\n", orphans);
    else if (code == LOAD_FAILED_ROWS)
        printf("load finished: %llu record%s failed; maprun report --state %s lists them with Salesforce's reasons\n",
               failed, failed == 1 ? "" : "s", o->state);
    close_loader(&L);
    return code;
}

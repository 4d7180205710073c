/*
** pull: the Customer.io extractor behind pull.h.
**
** Kinds are read in an order that lets later ones use earlier ones: object
** types, objects and their relationships come before people, because a
** person line carries its company links (`relationships`), joined here from
** the objects' side — one request per object instead of one per person.
** Relationship pages may repeat entries; they are deduplicated on
** (cio_id, object_type_id, cio_object_id).
**
** Resume: after every page the output file is flushed and DIR/.pull.json
** records, per kind, the cursor to go on from, the parent being walked
** (for per-campaign actions and the like) and the file's length.  An
** interrupted pull, run again, cuts each file back to that length and goes
** on from that cursor; finished kinds are not read again.
**
** Nothing written holds the API key: it is only ever in a request header.
*/
#define _DEFAULT_SOURCE         /* fsync */
#include "pull.h"
#include "cio.h"
#include "csv.h"
#include "sortrun.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXPORT_ABOVE 10000      /* people: use the export above this many */
#define ATTR_BATCH 100          /* ids per POST /v1/customers/attributes */

typedef struct Pull {
    const PullOptions *o;
    CioClient *c;
    char dir[4096];
    cJSON *state;               /* .pull.json: {"kinds":{KIND:{"done","cursor","parent","offset","records"}}} */
    cJSON *manifest;            /* kinds -> {"records","status"}; "unreadable": [...] */
    long long since;            /* unix seconds, 0: everything */
    SortRuns *rel;              /* "d" cio_id|type|cio_object_id -> "" (seen); "p" cio_id -> [links] */
    FILE *out;                  /* the kind being written */
    const char *kind;
    unsigned long long records;
    bool failed;                /* stop: resume later */
    int unreadable;
} Pull;

/* ---- small helpers */

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A list the API may send as null (or leave out): NULL, which iterates as empty. */
static const cJSON *as_list(const cJSON *v)
{
    return cJSON_IsArray(v) ? v : NULL;
}

/* An id the API sends as a number or a string, as text ("" when absent). */
static const char *id_text(const cJSON *v, char *buf, size_t n)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNumber(v)) {
        snprintf(buf, n, "%.0f", v->valuedouble);
        return buf;
    }
    return "";
}

/* Replaces a numeric id with its string form (stdlib: identifiers are strings). */
static void stringify_id(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.0f", v->valuedouble);
        cJSON_ReplaceItemInObjectCaseSensitive(o, k, cJSON_CreateString(buf));
    }
}

static cJSON *kind_state(Pull *P, const char *kind)
{
    cJSON *kinds = cJSON_GetObjectItemCaseSensitive(P->state, "kinds");
    cJSON *k = cJSON_GetObjectItemCaseSensitive(kinds, kind);
    if (!k)
        k = cJSON_AddObjectToObject(kinds, kind);
    return k;
}

static void set(cJSON *o, const char *k, cJSON *v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, k))
        cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
    else
        cJSON_AddItemToObject(o, k, v);
}

static int save_json(const char *dir, const char *name, const cJSON *j)
{
    char tmp[4200], path[4200];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = cJSON_Print(j);
    FILE *f = fopen(tmp, "wb");
    int rc = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF && fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    free(text);
    if (rc == 0 && rename(tmp, path) != 0)       /* atomic: a kill leaves the old or the new */
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "maprun: cannot write %s: %s\n", path, strerror(errno));
    return rc;
}

static void unreadable(Pull *P, const char *what, const CioError *e)
{
    cJSON *u = cJSON_GetObjectItemCaseSensitive(P->manifest, "unreadable");
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "kind", P->kind);
    cJSON_AddStringToObject(item, "what", what);
    cJSON_AddStringToObject(item, "why", e->message);
    cJSON_AddItemToArray(u, item);
    P->unreadable++;
}

/* A failure of a request: transient ones (after all retries), 401 and
** 429 stop the pull (run it again to resume); others make the item unreadable. */
static bool stop_on(Pull *P, const char *what, const CioError *e)
{
    if (e->http == 0 || e->http == 401 || e->http == 429 || e->http >= 500) {
        fprintf(stderr, "maprun: %s: %s\n", what, e->message);
        if (e->http == 401)
            fprintf(stderr, "maprun: the App API key was refused (CIO_APP_API_KEY, and CIO_REGION: a US key "
                            "does not work on the EU host)\n");
        P->failed = true;
        return true;
    }
    unreadable(P, what, e);
    return false;
}

/* ---- output, with checkpoints */

static int out_begin(Pull *P, const char *kind)
{
    P->kind = kind;
    cJSON *ks = kind_state(P, kind);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.ndjson", P->dir, kind);
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(ks, "offset");
    if (cJSON_IsNumber(off)) {                   /* resuming: cut back to the last checkpoint */
        if (truncate(path, (off_t)off->valuedouble) != 0 && errno != ENOENT) {
            fprintf(stderr, "maprun: cannot resume %s: %s\n", path, strerror(errno));
            return -1;
        }
        P->out = fopen(path, "ab");
    } else {
        P->out = fopen(path, "wb");
    }
    if (!P->out) {
        fprintf(stderr, "maprun: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(ks, "records");
    P->records = cJSON_IsNumber(n) ? (unsigned long long)n->valuedouble : 0;
    if (P->o->progress)
        fprintf(stderr, "\r  %-22s ...", kind);
    return 0;
}

static void out_line(Pull *P, const cJSON *rec)
{
    char *text = cJSON_PrintUnformatted(rec);
    fputs(text, P->out);
    fputc('\n', P->out);
    free(text);
    P->records++;
}

/* The file is on disk up to here, and this is where to go on from. */
static int checkpoint(Pull *P, const char *cursor, long parent)
{
    if (fflush(P->out) != 0 || fsync(fileno(P->out)) != 0) {
        fprintf(stderr, "maprun: cannot write %s.ndjson: %s\n", P->kind, strerror(errno));
        return -1;
    }
    cJSON *ks = kind_state(P, P->kind);
    set(ks, "offset", cJSON_CreateNumber((double)ftell(P->out)));
    set(ks, "records", cJSON_CreateNumber((double)P->records));
    set(ks, "cursor", cursor ? cJSON_CreateString(cursor) : cJSON_CreateNull());
    set(ks, "parent", cJSON_CreateNumber((double)parent));
    return save_json(P->dir, ".pull.json", P->state);
}

static int out_end(Pull *P)
{
    int rc = P->failed ? -1 : 0;
    cJSON *ks = kind_state(P, P->kind);
    if (rc == 0)
        rc = checkpoint(P, NULL, 0);
    if (P->out && fclose(P->out) != 0)
        rc = -1;
    P->out = NULL;
    if (rc == 0) {
        set(ks, "done", cJSON_CreateTrue());
        rc = save_json(P->dir, ".pull.json", P->state);
    }
    cJSON *mk = cJSON_GetObjectItemCaseSensitive(P->manifest, "kinds");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "records", (double)P->records);
    cJSON_AddStringToObject(m, "status", rc == 0 ? "complete" : "interrupted");
    set(mk, P->kind, m);
    if (P->o->progress)
        fprintf(stderr, "\r%60s\r", "");
    printf("  %-22s %10llu\n", P->kind, P->records);
    return rc;
}

static bool kind_done(Pull *P, const char *kind)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(kind_state(P, kind), "done"));
}

static const char *resume_cursor(Pull *P)
{
    return jstr(kind_state(P, P->kind), "cursor");
}

static long resume_parent(Pull *P)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(kind_state(P, P->kind), "parent");
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

/* ---- paging */

typedef int (*ItemFn)(Pull *P, cJSON *item, void *ctx);

/* GET or POST path (which may already hold a query) page by page, from
** cursor, handing each item of list_key to fn; stops when `next` is empty or
** a page is empty (a cursor that never ends), checkpointing after each page. */
static int pages(Pull *P, const char *method, const char *path, const cJSON *body, const char *list_key, int limit,
                 const char *cursor, long parent, ItemFn fn, void *ctx)
{
    char *cur = cursor ? strdup(cursor) : NULL;
    int rc = 0;
    for (;;) {
        char *esc = cur ? cio_escape(P->c, cur) : NULL;
        size_t n = strlen(path) + (esc ? strlen(esc) : 0) + 64;
        char *url = malloc(n);
        snprintf(url, n, "%s%climit=%d%s%s", path, strchr(path, '?') ? '&' : '?', limit, esc ? "&start=" : "",
                 esc ? esc : "");
        free(esc);
        CioError e;
        cJSON *page = cio_call(P->c, method, url, body, &e);
        free(url);
        if (!page) {
            if (stop_on(P, path, &e))
                rc = -1;
            break;
        }
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(page, list_key), *it;
        int count = 0;
        cJSON_ArrayForEach(it, as_list(list)) {      /* a null list is an empty one */
            count++;
            if (rc == 0)
                rc = fn(P, (cJSON *)it, ctx);
        }
        char buf[64];
        const char *next = id_text(cJSON_GetObjectItemCaseSensitive(page, "next"), buf, sizeof buf);
        free(cur);
        cur = count && *next ? strdup(next) : NULL;
        cJSON_Delete(page);
        if (rc == 0)
            rc = checkpoint(P, cur, parent);
        if (rc < 0 || !cur)
            break;
    }
    free(cur);
    return rc;
}

/* One request, the whole list (endpoints without paging). */
static cJSON *whole_list(Pull *P, const char *path, const char *list_key)
{
    CioError e;
    cJSON *j = cio_call(P->c, "GET", path, NULL, &e);
    if (!j) {
        stop_on(P, path, &e);
        return NULL;
    }
    cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(j, list_key);
    cJSON_Delete(j);
    if (!cJSON_IsArray(list)) {         /* null: an empty list */
        cJSON_Delete(list);
        list = cJSON_CreateArray();
    }
    return list;
}

static int write_item(Pull *P, cJSON *item, void *ctx)
{
    (void)ctx;
    out_line(P, item);
    return 0;
}

/* A kind that is one unpaged list. */
static int simple_kind(Pull *P, const char *kind, const char *path, const char *list_key)
{
    if (kind_done(P, kind) || out_begin(P, kind) < 0)
        return kind_done(P, kind) ? 0 : -1;
    cJSON *list = whole_list(P, path, list_key), *it;
    cJSON_ArrayForEach(it, list)
        out_line(P, it);
    cJSON_Delete(list);
    return out_end(P);
}

/* Hands each line of an already pulled DIR/KIND.ndjson, parsed, to fn, until fn
** answers nonzero (which is returned).  A missing file has no lines. */
typedef int (*LineFn)(Pull *P, const cJSON *line, void *ctx);

static int each_line(Pull *P, const char *kind, LineFn fn, void *ctx)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.ndjson", P->dir, kind);
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && f && getline(&line, &cap, f) > 0) {
        cJSON *j = cJSON_Parse(line);
        rc = j ? fn(P, j, ctx) : 0;
        cJSON_Delete(j);
    }
    free(line);
    if (f)
        fclose(f);
    return rc;
}

typedef struct IdsOf {
    cJSON *ids;
    const char *idf, *only_field, *only_value;
} IdsOf;

static int add_id(Pull *P, const cJSON *j, void *ctx)
{
    (void)P;
    IdsOf *q = ctx;
    const char *only = q->only_field ? jstr(j, q->only_field) : NULL;
    char buf[64];
    const char *id = id_text(cJSON_GetObjectItemCaseSensitive(j, q->idf), buf, sizeof buf);
    if (*id && (!q->only_field || (only && strcmp(only, q->only_value) == 0)))
        cJSON_AddItemToArray(q->ids, cJSON_CreateString(id));
    return 0;
}

/* The ids (field idf) of a pulled kind's lines, optionally only where only_field = only_value. */
static cJSON *ids_of(Pull *P, const char *kind, const char *idf, const char *only_field, const char *only_value)
{
    IdsOf q = {cJSON_CreateArray(), idf, only_field, only_value};
    each_line(P, kind, add_id, &q);
    return q.ids;
}

/* A kind read per parent (a campaign's actions, a newsletter's contents…):
** path_fmt has one %s for the parent id; add_key/add_val are set on each item. */
typedef struct Child {
    const char *add_key;        /* set on each item from its parent: "newsletter_id", … */
    const char *parent_id;
    bool add_numeric;
} Child;

static int write_child(Pull *P, cJSON *item, void *ctx)
{
    Child *ch = ctx;
    if (ch->add_key && !cJSON_GetObjectItemCaseSensitive(item, ch->add_key)) {
        if (ch->add_numeric)
            cJSON_AddNumberToObject(item, ch->add_key, strtod(ch->parent_id, NULL));
        else
            cJSON_AddStringToObject(item, ch->add_key, ch->parent_id);
    }
    out_line(P, item);
    return 0;
}

/* parents: [{"path","id"}]; each parent's list, page by page, resumable. */
static int per_parent(Pull *P, cJSON *parents, const char *list_key, int limit, Child *ch)
{
    long start = resume_parent(P);
    const char *cursor = resume_cursor(P);
    char *cur = cursor ? strdup(cursor) : NULL;
    int rc = 0, i = 0;
    const cJSON *pa;
    cJSON_ArrayForEach(pa, parents) {
        if (i++ < start)
            continue;
        ch->parent_id = jstr(pa, "id");
        if (jstr(pa, "key"))
            ch->add_key = jstr(pa, "key");
        rc = pages(P, "GET", jstr(pa, "path"), NULL, list_key, limit, i - 1 == start ? cur : NULL, i - 1,
                   write_child, ch);
        free(cur);
        cur = NULL;
        if (rc < 0 || checkpoint(P, NULL, i) < 0) {
            rc = -1;
            break;
        }
    }
    free(cur);
    return rc;
}

/* [{"path": fmt % id, "id": id, "key": key}] for the ids of a pulled kind; appended to into. */
static void add_parents(cJSON *into, cJSON *ids, const char *fmt, const char *key)
{
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) {
        char path[512];
        snprintf(path, sizeof path, fmt, id->valuestring);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", path);
        cJSON_AddStringToObject(o, "id", id->valuestring);
        if (key)
            cJSON_AddStringToObject(o, "key", key);
        cJSON_AddItemToArray(into, o);
    }
    cJSON_Delete(ids);
}

static int child_kind(Pull *P, const char *kind, cJSON *parents, const char *list_key, int limit, const char *add_key,
                      bool numeric)
{
    if (kind_done(P, kind)) {
        cJSON_Delete(parents);
        return 0;
    }
    Child ch = {add_key, NULL, numeric};
    int rc = out_begin(P, kind);
    if (rc == 0)
        rc = per_parent(P, parents, list_key, limit, &ch);
    cJSON_Delete(parents);
    return rc == 0 ? out_end(P) : -1;
}

/* ---- objects and relationships */

static int object_one(Pull *P, cJSON *ident, void *ctx)
{
    const char *type = ctx;
    char b1[64], b2[64];
    const char *oid = id_text(cJSON_GetObjectItemCaseSensitive(ident, "object_id"), b1, sizeof b1);
    const char *cid = id_text(cJSON_GetObjectItemCaseSensitive(ident, "cio_object_id"), b2, sizeof b2);
    char *esc = cio_escape(P->c, *oid ? oid : cid), path[1024];
    snprintf(path, sizeof path, "/v1/objects/%s/%s/attributes?id_type=%s", type, esc, *oid ? "object_id" : "cio_object_id");
    free(esc);
    CioError e;
    cJSON *j = cio_call(P->c, "GET", path, NULL, &e);
    if (!j)
        return stop_on(P, path, &e) ? -1 : 0;
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(j, "object");
    if (cJSON_IsObject(obj)) {
        stringify_id(obj, "object_type_id");
        if (!cJSON_GetObjectItemCaseSensitive(obj, "object_type_id"))
            cJSON_AddStringToObject(obj, "object_type_id", type);
        cJSON *ids = cJSON_GetObjectItemCaseSensitive(obj, "identifiers");
        stringify_id(ids, "object_id");
        stringify_id(ids, "cio_object_id");
        out_line(P, obj);
    }
    cJSON_Delete(j);
    return 0;
}

static int objects(Pull *P)
{
    if (kind_done(P, "object"))
        return 0;
    cJSON *types = ids_of(P, "object_type", "id", NULL, NULL);
    int rc = out_begin(P, "object");
    long start = resume_parent(P);
    const char *cursor = resume_cursor(P);
    char *cur = cursor ? strdup(cursor) : NULL;
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, types) {
        if (rc < 0 || i++ < start)
            continue;
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "object_type_id", t->valuestring);
        cJSON *filter = cJSON_AddObjectToObject(body, "filter"), *and = cJSON_AddArrayToObject(filter, "and");
        cJSON *leaf = cJSON_CreateObject(), *oa = cJSON_AddObjectToObject(leaf, "object_attribute");
        cJSON_AddStringToObject(oa, "field", "object_id");
        cJSON_AddStringToObject(oa, "operator", "exists");
        cJSON_AddStringToObject(oa, "type_id", t->valuestring);
        cJSON_AddItemToArray(and, leaf);
        rc = pages(P, "POST", "/v1/objects", body, "identifiers", 1000, i - 1 == start ? cur : NULL, i - 1,
                   object_one, t->valuestring);
        cJSON_Delete(body);
        free(cur);
        cur = NULL;
        if (rc == 0)
            rc = checkpoint(P, NULL, i);
    }
    free(cur);
    cJSON_Delete(types);
    return rc == 0 ? out_end(P) : -1;
}

/* The person's side of a relationship, for person.relationships: the "p"
** entry of the cio_id holds the list so far (sortrun answers lookups). */
static int link_person(Pull *P, const char *cio_id, const cJSON *link)
{
    size_t n = strlen(cio_id) + 2;
    char *key = malloc(n);
    key[0] = 'p';
    memcpy(key + 1, cio_id, n - 1);
    const void *v;
    size_t vl;
    int found = sr_get(P->rel, key, n - 1, &v, &vl);
    cJSON *list = found == 1 ? cJSON_ParseWithLength(v, vl) : cJSON_CreateArray();
    cJSON_AddItemToArray(list, cJSON_Duplicate(link, 1));
    char *text = cJSON_PrintUnformatted(list);
    int rc = found < 0 ? -1 : sr_add(P->rel, key, n - 1, text, strlen(text));
    free(text);
    free(key);
    cJSON_Delete(list);
    return rc;
}

typedef struct RelCtx {
    const char *type, *object_id, *cio_object_id;
} RelCtx;

static int relationship_one(Pull *P, cJSON *item, void *ctx)
{
    RelCtx *r = ctx;
    cJSON *ids = cJSON_GetObjectItemCaseSensitive(item, "identifiers");
    stringify_id(ids, "id");
    stringify_id(ids, "cio_id");
    const char *cio_id = jstr(ids, "cio_id");
    if (!cio_id)
        return 0;
    char seen[1024];
    int n = snprintf(seen, sizeof seen, "d%s|%s|%s", cio_id, r->type, r->cio_object_id);
    const void *v;
    size_t vl;
    int dup = sr_get(P->rel, seen, (size_t)n, &v, &vl);
    if (dup != 0)                       /* pages repeat entries */
        return dup < 0 ? -1 : 0;
    if (sr_add(P->rel, seen, (size_t)n, "", 0) < 0)
        return -1;
    cJSON *line = cJSON_CreateObject();
    cJSON_AddItemToObject(line, "person_identifiers", cJSON_Duplicate(ids, 1));
    cJSON_AddStringToObject(line, "object_type_id", r->type);
    cJSON_AddStringToObject(line, "object_id", r->object_id);
    cJSON_AddStringToObject(line, "cio_object_id", r->cio_object_id);
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(item, "attributes");
    if (attrs)
        cJSON_AddItemToObject(line, "attributes", cJSON_Duplicate(attrs, 1));
    out_line(P, line);
    cJSON *link = cJSON_CreateObject();
    cJSON_AddStringToObject(link, "object_type_id", r->type);
    cJSON_AddStringToObject(link, "object_id", r->object_id);
    cJSON_AddStringToObject(link, "cio_object_id", r->cio_object_id);
    int rc = link_person(P, cio_id, link);
    cJSON_Delete(link);
    cJSON_Delete(line);
    return rc;
}

/* Rebuilds the person links of a relationship file an earlier run wrote
** (the sortrun lives only as long as the run). */
static int relink_one(Pull *P, const cJSON *j, void *ctx)
{
    (void)ctx;
    const char *cio_id = jstr(cJSON_GetObjectItemCaseSensitive(j, "person_identifiers"), "cio_id");
    if (!cio_id)
        return 0;
    char seen[1024];
    int n = snprintf(seen, sizeof seen, "d%s|%s|%s", cio_id, jstr(j, "object_type_id"), jstr(j, "cio_object_id"));
    cJSON *link = cJSON_CreateObject();
    cJSON_AddStringToObject(link, "object_type_id", jstr(j, "object_type_id"));
    cJSON_AddStringToObject(link, "object_id", jstr(j, "object_id") ? jstr(j, "object_id") : "");
    cJSON_AddStringToObject(link, "cio_object_id", jstr(j, "cio_object_id"));
    int rc = sr_add(P->rel, seen, (size_t)n, "", 0) < 0 ? -1 : link_person(P, cio_id, link);
    cJSON_Delete(link);
    return rc;
}

static int relink(Pull *P)
{
    return each_line(P, "relationship", relink_one, NULL);
}

/* A walk over a pulled file's lines that resumes at line `start`, from
** `cursor` within it (the checkpoint's parent and cursor). */
typedef struct Walk {
    long start, i;
    char *cursor;               /* for line `start` only */
    cJSON *batch;
} Walk;

/* One object's people, page by page. */
static int relationships_of(Pull *P, const cJSON *o, void *ctx)
{
    Walk *w = ctx;
    if (w->i++ < w->start)
        return 0;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(o, "identifiers");
    RelCtx r = {jstr(o, "object_type_id"), jstr(ids, "object_id"), jstr(ids, "cio_object_id")};
    int rc = 0;
    if (r.type && r.cio_object_id) {
        char *esc = cio_escape(P->c, r.object_id ? r.object_id : r.cio_object_id), url[1024];
        snprintf(url, sizeof url, "/v1/objects/%s/%s/relationships?id_type=%s", r.type, esc,
                 r.object_id ? "object_id" : "cio_object_id");
        free(esc);
        if (!r.object_id)
            r.object_id = "";
        rc = pages(P, "GET", url, NULL, "cio_relationships", 100, w->i - 1 == w->start ? w->cursor : NULL, w->i - 1,
                   relationship_one, &r);
    }
    return rc == 0 ? checkpoint(P, NULL, w->i) : -1;
}

static int relationships(Pull *P)
{
    if (kind_done(P, "relationship"))
        return relink(P);
    int rc = out_begin(P, "relationship");
    long start = resume_parent(P);
    if (rc == 0)
        rc = relink(P);                   /* what an interrupted run already wrote */
    const char *cursor = resume_cursor(P);
    Walk w = {start, 0, cursor ? strdup(cursor) : NULL, NULL};
    if (rc == 0)
        rc = each_line(P, "object", relationships_of, &w);
    free(w.cursor);
    return rc == 0 ? out_end(P) : -1;
}

/* ---- people */

static cJSON *all_people_filter(void)
{
    cJSON *f = cJSON_CreateObject(), *and = cJSON_AddArrayToObject(f, "and");
    cJSON *leaf = cJSON_CreateObject(), *a = cJSON_AddObjectToObject(leaf, "attribute");
    cJSON_AddStringToObject(a, "field", "cio_id");
    cJSON_AddStringToObject(a, "operator", "exists");
    cJSON_AddItemToArray(and, leaf);
    return f;
}

static int write_ident(Pull *P, cJSON *ident, void *ctx)
{
    (void)ctx;
    stringify_id(ident, "id");
    stringify_id(ident, "cio_id");
    if (jstr(ident, "cio_id"))
        out_line(P, ident);
    return 0;
}

static int ids_by_search(Pull *P)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "filter", all_people_filter());
    int rc = pages(P, "POST", "/v1/customers", body, "identifiers", 1000, resume_cursor(P), 0, write_ident, NULL);
    cJSON_Delete(body);
    return rc;
}

/* The customers export: create (once: its id is kept for a resumed run), wait, download. */
static int ids_by_export(Pull *P)
{
    cJSON *ks = kind_state(P, P->kind);
    CioError e;
    char path[256];
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(ks, "export_id"))) {
        cJSON *body = cJSON_CreateObject();
        cJSON_AddItemToObject(body, "filters", all_people_filter());
        cJSON *j = cio_call(P->c, "POST", "/v1/exports/customers", body, &e);
        cJSON_Delete(body);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "export"), "id");
        if (!cJSON_IsNumber(id)) {
            cJSON_Delete(j);
            if (j)
                snprintf(e.message, sizeof e.message, "the export answer has no id");
            stop_on(P, "POST /v1/exports/customers", &e);
            P->failed = true;
            return -1;
        }
        set(ks, "export_id", cJSON_CreateNumber(id->valuedouble));
        cJSON_Delete(j);
        if (save_json(P->dir, ".pull.json", P->state) < 0)
            return -1;
    }
    double xid = cJSON_GetObjectItemCaseSensitive(ks, "export_id")->valuedouble;
    for (long wait = 1000;; wait = wait * 3 / 2 > 15000 ? 15000 : wait * 3 / 2) {
        snprintf(path, sizeof path, "/v1/exports/%.0f", xid);
        cJSON *j = cio_call(P->c, "GET", path, NULL, &e);
        if (!j) {
            stop_on(P, path, &e);
            P->failed = true;
            return -1;
        }
        const char *status = jstr(cJSON_GetObjectItemCaseSensitive(j, "export"), "status");
        bool done = status && strcmp(status, "done") == 0, failed = status && strcmp(status, "failed") == 0;
        cJSON_Delete(j);
        if (failed) {
            fprintf(stderr, "maprun: the customers export %.0f failed in Customer.io; run again to start a new one\n", xid);
            cJSON_DeleteItemFromObjectCaseSensitive(ks, "export_id");
            save_json(P->dir, ".pull.json", P->state);
            P->failed = true;
            return -1;
        }
        if (done)
            break;
        http_sleep_ms(getenv("MAPRUN_POLL_MS") ? strtol(getenv("MAPRUN_POLL_MS"), NULL, 10) : wait);
    }
    snprintf(path, sizeof path, "/v1/exports/%.0f/download", xid);
    cJSON *j = cio_call(P->c, "GET", path, NULL, &e);
    const char *url = jstr(j, "url") ? jstr(j, "url") : jstr(j, "link");     /* the spec says url; clients saw link */
    char file[4200];
    snprintf(file, sizeof file, "%s/.person_export.csv", P->dir);
    FILE *f = url ? fopen(file, "w+b") : NULL;
    int rc = f && cio_download(P->c, url, f, &e) == 0 ? 0 : -1;
    cJSON_Delete(j);
    if (rc < 0) {
        if (!f && url)
            snprintf(e.message, sizeof e.message, "cannot write the export file in %.400s", P->dir);
        else if (!url && j)
            snprintf(e.message, sizeof e.message, "the download answer has no url or link");
        stop_on(P, path, &e);
        P->failed = true;
        if (f)
            fclose(f);
        return -1;
    }
    rewind(f);
    CsvReader *r = csv_open(f);
    char **cell;
    int n, row = 0, c_id = -1, c_email = -1, c_cio = -1, got;
    while ((got = csv_next(r, &cell, &n)) == 1) {
        if (row++ == 0) {
            c_id = csv_column(cell, n, "id");
            c_email = csv_column(cell, n, "email");
            c_cio = csv_column(cell, n, "cio_id");
            continue;
        }
        if (c_cio < 0 || c_cio >= n || !*cell[c_cio])
            continue;
        cJSON *ident = cJSON_CreateObject();
        if (c_id >= 0 && c_id < n && *cell[c_id])
            cJSON_AddStringToObject(ident, "id", cell[c_id]);
        else
            cJSON_AddNullToObject(ident, "id");
        if (c_email >= 0 && c_email < n && *cell[c_email])
            cJSON_AddStringToObject(ident, "email", cell[c_email]);
        cJSON_AddStringToObject(ident, "cio_id", cell[c_cio]);
        out_line(P, ident);
        cJSON_Delete(ident);
    }
    csv_close(r);
    fclose(f);
    remove(file);
    if (got < 0 || c_cio < 0) {
        fprintf(stderr, "maprun: the customers export is not the CSV expected (a cio_id column)\n");
        P->failed = true;
        return -1;
    }
    return 0;
}

static int add_people(Pull *P, const cJSON *j, void *ctx)
{
    (void)P;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "people");
    *(long long *)ctx += cJSON_IsNumber(p) ? (long long)p->valuedouble : 0;
    return 0;
}

static long long workspace_people(Pull *P)
{
    long long n = 0;
    each_line(P, "workspace", add_people, &n);
    return n;
}

/* A profile as a person line: unwrapped, ids as strings, its company links attached. */
static void write_person(Pull *P, cJSON *c)
{
    cJSON *inner = cJSON_GetObjectItemCaseSensitive(c, "customer");
    if (cJSON_IsObject(inner))
        c = inner;
    stringify_id(c, "id");
    cJSON *ids = cJSON_GetObjectItemCaseSensitive(c, "identifiers");
    stringify_id(ids, "id");
    stringify_id(ids, "cio_id");
    const char *cio_id = jstr(ids, "cio_id");
    if (!cio_id)
        return;
    size_t n = strlen(cio_id) + 1;
    char *key = malloc(n + 1);
    key[0] = 'p';
    memcpy(key + 1, cio_id, n);
    const void *v;
    size_t vl;
    if (!cJSON_GetObjectItemCaseSensitive(c, "relationships") && sr_get(P->rel, key, n, &v, &vl) == 1)
        cJSON_AddItemToObject(c, "relationships", cJSON_ParseWithLength(v, vl));
    free(key);
    out_line(P, c);
}

static int attributes_batch(Pull *P, cJSON *batch)
{
    if (cJSON_GetArraySize(batch) == 0)
        return 0;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "ids", cJSON_Duplicate(batch, 1));
    CioError e;
    cJSON *j = cio_call(P->c, "POST", "/v1/customers/attributes", body, &e);
    cJSON_Delete(body);
    if (!j)
        return stop_on(P, "POST /v1/customers/attributes", &e) ? -1 : 0;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "customers"), *c;
    int got = 0;
    cJSON_ArrayForEach(c, as_list(list)) {
        write_person(P, c);
        got++;
    }
    if (got < cJSON_GetArraySize(batch)) {          /* left out: deleted since they were listed */
        CioError gone = {404, ""};
        snprintf(gone.message, sizeof gone.message, "%d of %d profiles had no attributes (deleted after the listing)",
                 cJSON_GetArraySize(batch) - got, cJSON_GetArraySize(batch));
        unreadable(P, "POST /v1/customers/attributes", &gone);
    }
    cJSON_Delete(j);
    return 0;
}

static int attributes_one(Pull *P, const char *cio_id)
{
    char *esc = cio_escape(P->c, cio_id), path[512];
    snprintf(path, sizeof path, "/v1/customers/cio_%s/attributes?id_type=cio_id", esc);
    free(esc);
    CioError e;
    cJSON *j = cio_call(P->c, "GET", path, NULL, &e);
    if (!j)
        return stop_on(P, path, &e) ? -1 : 0;
    write_person(P, j);
    cJSON_Delete(j);
    return 0;
}

/* Profiles for every listed person: by id in batches of 100, and one by one
** (by cio_id) for people who only have an email. */
static int attributes_line(Pull *P, const cJSON *ident, void *ctx)
{
    Walk *w = ctx;
    if (w->i++ < w->start)
        return 0;
    const char *id = jstr(ident, "id"), *cio_id = jstr(ident, "cio_id");
    int rc = 0;
    if (id && *id)
        cJSON_AddItemToArray(w->batch, cJSON_CreateString(id));
    else if (cio_id)
        rc = attributes_one(P, cio_id);
    if (rc == 0 && cJSON_GetArraySize(w->batch) >= ATTR_BATCH) {
        rc = attributes_batch(P, w->batch);
        cJSON_Delete(w->batch);
        w->batch = cJSON_CreateArray();
        if (rc == 0)
            rc = checkpoint(P, NULL, w->i);
    }
    return rc;
}

static int attributes(Pull *P)
{
    Walk w = {resume_parent(P), 0, NULL, cJSON_CreateArray()};
    int rc = each_line(P, ".person_ids", attributes_line, &w);
    if (rc == 0)
        rc = attributes_batch(P, w.batch);
    cJSON_Delete(w.batch);
    return rc;
}

static int people(Pull *P)
{
    if (kind_done(P, "person"))
        return 0;
    if (!kind_done(P, ".person_ids")) {
        const char *via = P->o->people_via;
        if (!via)
            via = workspace_people(P) > EXPORT_ABOVE ? "export" : "search";
        printf("  people: listing them by %s\n", strcmp(via, "export") == 0 ? "a customers export" : "search");
        int rc = out_begin(P, ".person_ids");
        if (rc == 0)
            rc = strcmp(via, "export") == 0 ? ids_by_export(P) : ids_by_search(P);
        if (rc < 0 || out_end(P) < 0)
            return -1;
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(P->manifest, "kinds"), ".person_ids");
    }
    int rc = out_begin(P, "person");
    if (rc == 0)
        rc = attributes(P);
    if (rc == 0 && (rc = out_end(P)) == 0) {
        char path[4200];                /* the listing served its purpose: only KIND.ndjson files stay */
        snprintf(path, sizeof path, "%s/.person_ids.ndjson", P->dir);
        remove(path);
    }
    return rc;
}

/* ---- segments, activity, deliveries, suppressions */

/* v[0..vl) as a C string in buf (cut to fit). */
static const char *copy_text(const void *v, size_t vl, char *buf, size_t n)
{
    size_t k = vl < n - 1 ? vl : n - 1;
    memcpy(buf, v, k);
    buf[k] = '\0';
    return buf;
}

/* cio_id -> lifecycle_stage of every pulled person ("s" keys), so a member
** line can say whether its person becomes a Lead or a Contact. */
static int add_stage(Pull *P, const cJSON *j, void *ctx)
{
    (void)ctx;
    const char *cio_id = jstr(cJSON_GetObjectItemCaseSensitive(j, "identifiers"), "cio_id");
    const char *stage = jstr(cJSON_GetObjectItemCaseSensitive(j, "attributes"), "lifecycle_stage");
    char key[256];
    int n = cio_id ? snprintf(key, sizeof key, "s%s", cio_id) : 0;
    return stage && n > 0 && n < (int)sizeof key ? sr_add(P->rel, key, (size_t)n, stage, strlen(stage)) : 0;
}

static int index_stages(Pull *P)
{
    return each_line(P, "person", add_stage, NULL);
}

static int member_one(Pull *P, cJSON *ident, void *ctx)
{
    Child *ch = ctx;
    stringify_id(ident, "id");
    stringify_id(ident, "cio_id");
    if (!jstr(ident, "cio_id"))
        return 0;
    cJSON *line = cJSON_CreateObject();
    cJSON_AddNumberToObject(line, "segment_id", strtod(ch->parent_id, NULL));
    cJSON_AddItemToObject(line, "identifiers", cJSON_Duplicate(ident, 1));
    cJSON_AddStringToObject(line, "segment_type", "manual");
    char key[256];
    int n = snprintf(key, sizeof key, "s%s", jstr(ident, "cio_id"));
    const void *v;
    size_t vl;
    if (n < (int)sizeof key && sr_get(P->rel, key, (size_t)n, &v, &vl) == 1)
        cJSON_AddItemToObject(line, "lifecycle_stage", cJSON_CreateString(copy_text(v, vl, key, sizeof key)));
    else
        cJSON_AddNullToObject(line, "lifecycle_stage");
    out_line(P, line);
    cJSON_Delete(line);
    return 0;
}

/* Members of the manual (static) segments: they become Campaign members.
** Dynamic segments are rule sets; their membership is not pulled. */
static int memberships(Pull *P)
{
    if (kind_done(P, "segment_membership"))
        return 0;
    cJSON *ids = ids_of(P, "segment", "id", "type", "manual");
    int rc = index_stages(P) < 0 ? -1 : out_begin(P, "segment_membership");
    long start = resume_parent(P), i = 0;
    const char *cursor = resume_cursor(P);
    char *cur = cursor ? strdup(cursor) : NULL;
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) {
        if (rc < 0 || i++ < start)
            continue;
        char path[256];
        snprintf(path, sizeof path, "/v1/segments/%s/membership", id->valuestring);
        Child ch = {NULL, id->valuestring, true};
        rc = pages(P, "GET", path, NULL, "identifiers", 1000, i - 1 == start ? cur : NULL, i - 1, member_one, &ch);
        free(cur);
        cur = NULL;
        if (rc == 0)
            rc = checkpoint(P, NULL, i);
    }
    free(cur);
    cJSON_Delete(ids);
    return rc == 0 ? out_end(P) : -1;
}

static int write_since(Pull *P, cJSON *item, void *ctx)
{
    const char *tkey = ctx;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, tkey);
    if (P->since && cJSON_IsNumber(t) && t->valuedouble < (double)P->since)
        return 0;
    out_line(P, item);
    return 0;
}

static int paged_kind(Pull *P, const char *kind, const char *path, const char *list_key, int limit, const char *tkey)
{
    if (kind_done(P, kind))
        return 0;
    int rc = out_begin(P, kind);
    if (rc == 0)
        rc = pages(P, "GET", path, NULL, list_key, limit, resume_cursor(P), 0, tkey ? write_since : write_item,
                   (void *)tkey);
    return rc == 0 ? out_end(P) : -1;
}

/* Offset paging (the ESP suppression lists), one category after the other. */
static int suppressions(Pull *P)
{
    static const char *const cats[] = {"bounces", "spam_reports"};
    if (kind_done(P, "suppression"))
        return 0;
    int rc = out_begin(P, "suppression");
    long start = resume_parent(P);
    const char *cursor = resume_cursor(P);
    long offset = cursor ? strtol(cursor, NULL, 10) : 0;
    for (long c = start; rc == 0 && c < 2; c++, offset = 0) {
        for (;;) {
            char path[256];
            snprintf(path, sizeof path, "/v1/esp/suppression/%s?limit=1000&offset=%ld", cats[c], offset);
            CioError e;
            cJSON *j = cio_call(P->c, "GET", path, NULL, &e);
            if (!j) {
                rc = stop_on(P, path, &e) ? -1 : 0;
                break;
            }
            const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "suppressions"), *it;
            int count = 0;
            cJSON_ArrayForEach(it, as_list(list)) {
                cJSON *row = cJSON_Duplicate(it, 1);
                set(row, "category", cJSON_CreateString(cats[c]));    /* the path's name, not the answer's */
                out_line(P, row);
                cJSON_Delete(row);
                count++;
            }
            cJSON_Delete(j);
            offset += count;
            char cur[32];
            snprintf(cur, sizeof cur, "%ld", offset);
            if ((rc = checkpoint(P, count < 1000 ? NULL : cur, count < 1000 ? c + 1 : c)) < 0 || count < 1000)
                break;
        }
    }
    return rc == 0 ? out_end(P) : -1;
}

/* Adds each broadcast's triggers (GET /v1/broadcasts/{id}/triggers) to its line. */
static int broadcasts(Pull *P)
{
    if (kind_done(P, "broadcast"))
        return 0;
    int rc = out_begin(P, "broadcast");
    cJSON *list = rc == 0 ? whole_list(P, "/v1/broadcasts", "broadcasts") : NULL, *b;
    cJSON_ArrayForEach(b, list) {
        char buf[64], path[256];
        snprintf(path, sizeof path, "/v1/broadcasts/%s/triggers", id_text(cJSON_GetObjectItemCaseSensitive(b, "id"), buf, sizeof buf));
        cJSON *t = whole_list(P, path, "triggers");
        if (!t)
            break;
        cJSON_AddItemToObject(b, "triggers", t);
        out_line(P, b);
    }
    cJSON_Delete(list);
    return rc == 0 && !P->failed ? out_end(P) : -1;
}

/* ---- the run */

/* What each kind needs pulled before it. */
static const struct Need {
    const char *kind, *needs[3];
} needs[] = {
    {"object", {"object_type"}},
    {"relationship", {"object"}},
    {"person", {"relationship", "workspace"}},
    {"segment_membership", {"segment", "person"}},
    {"action", {"campaign", "broadcast"}},
    {"newsletter_content", {"newsletter"}},
    {"transactional_content", {"transactional"}},
};

static const char *const all_kinds[] = {
    "workspace", "topic", "object_type", "object", "relationship", "person", "segment", "segment_membership",
    "campaign", "broadcast", "action", "newsletter", "newsletter_content", "transactional",
    "transactional_content", "activity", "delivery", "suppression", NULL
};

static bool listed(const char *list, const char *kind)
{
    size_t n = strlen(kind);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, kind, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

/* Is kind wanted: listed, or needed by a wanted kind. */
static bool wanted(const char *list, const char *kind)
{
    if (!list || listed(list, kind))
        return true;
    for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++)
        for (int j = 0; j < 3 && needs[i].needs[j]; j++)
            if (strcmp(needs[i].needs[j], kind) == 0 && wanted(list, needs[i].kind))
                return true;
    return false;
}

static int pull_kind(Pull *P, const char *kind)
{
    char path[128];
    if (strcmp(kind, "workspace") == 0)
        return simple_kind(P, kind, "/v1/workspaces", "workspaces");
    if (strcmp(kind, "topic") == 0)
        return simple_kind(P, kind, "/v1/subscription_topics", "topics");
    if (strcmp(kind, "object_type") == 0)
        return simple_kind(P, kind, "/v1/object_types", "types");
    if (strcmp(kind, "object") == 0)
        return objects(P);
    if (strcmp(kind, "relationship") == 0)
        return relationships(P);
    if (strcmp(kind, "person") == 0)
        return people(P);
    if (strcmp(kind, "segment") == 0)
        return simple_kind(P, kind, "/v1/segments", "segments");
    if (strcmp(kind, "segment_membership") == 0)
        return memberships(P);
    if (strcmp(kind, "campaign") == 0)
        return simple_kind(P, kind, "/v1/campaigns", "campaigns");
    if (strcmp(kind, "broadcast") == 0)
        return broadcasts(P);
    if (strcmp(kind, "action") == 0) {
        cJSON *parents = cJSON_CreateArray();
        add_parents(parents, ids_of(P, "campaign", "id", NULL, NULL), "/v1/campaigns/%s/actions", "campaign_id");
        add_parents(parents, ids_of(P, "broadcast", "id", NULL, NULL), "/v1/broadcasts/%s/actions", "broadcast_id");
        return child_kind(P, kind, parents, "actions", 10, NULL, true);
    }
    if (strcmp(kind, "newsletter") == 0)
        return paged_kind(P, kind, "/v1/newsletters", "newsletters", 100, NULL);
    if (strcmp(kind, "newsletter_content") == 0) {
        cJSON *parents = cJSON_CreateArray();
        add_parents(parents, ids_of(P, "newsletter", "id", NULL, NULL), "/v1/newsletters/%s/contents", NULL);
        return child_kind(P, kind, parents, "contents", 100, "newsletter_id", true);
    }
    if (strcmp(kind, "transactional") == 0)
        return simple_kind(P, kind, "/v1/transactional", "messages");
    if (strcmp(kind, "transactional_content") == 0) {
        cJSON *parents = cJSON_CreateArray();
        add_parents(parents, ids_of(P, "transactional", "id", NULL, NULL), "/v1/transactional/%s/contents", NULL);
        return child_kind(P, kind, parents, "contents", 100, "transactional_message_id", true);
    }
    if (strcmp(kind, "activity") == 0)            /* deleted=true: deleted people's activity too */
        return paged_kind(P, kind, "/v1/activities?deleted=true", "activities", 100, "timestamp");
    if (strcmp(kind, "delivery") == 0) {
        if (P->since)
            snprintf(path, sizeof path, "/v1/messages?start_ts=%lld", P->since);
        return paged_kind(P, kind, P->since ? path : "/v1/messages", "messages", 1000, "created");
    }
    return suppressions(P);
}

/* "2024-05-01", "2024-05-01T12:00:00Z" or unix seconds; -1 if none of those. */
static long long parse_since(const char *s)
{
    if (!s)
        return 0;
    if (strspn(s, "0123456789") == strlen(s) && *s)
        return strtoll(s, NULL, 10);
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3)
        return -1;
    if (s[n] == 'T' && sscanf(s + n + 1, "%2d:%2d:%2d", &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 3)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm);
}

static cJSON *load_state(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.pull.json", dir);
    FILE *f = fopen(path, "rb");
    cJSON *j = NULL;
    if (f) {
        char *buf = NULL;
        size_t cap = 0;
        ssize_t n = getdelim(&buf, &cap, '\0', f);
        j = n > 0 ? cJSON_ParseWithLength(buf, (size_t)n) : NULL;
        free(buf);
        fclose(f);
    }
    if (!j) {
        j = cJSON_CreateObject();
        cJSON_AddObjectToObject(j, "kinds");
    }
    return j;
}

static void iso_time(time_t t, char *out, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_manifest(Pull *P, const CioConfig *cfg, time_t started, bool complete)
{
    char t[32];
    cJSON *m = P->manifest;
    set(m, "source", cJSON_CreateString("customerio"));
    set(m, "api_url", cJSON_CreateString(cfg->base_url));      /* the URL only: never the key */
    iso_time(started, t, sizeof t);
    set(m, "pulled_at", cJSON_CreateString(t));
    cJSON *w = cJSON_CreateObject();
    if (P->since) {
        iso_time((time_t)P->since, t, sizeof t);
        cJSON_AddStringToObject(w, "from", t);
    } else {
        cJSON_AddNullToObject(w, "from");
    }
    iso_time(started, t, sizeof t);
    cJSON_AddStringToObject(w, "to", t);
    cJSON_AddStringToObject(w, "applies_to", "activity (by timestamp) and delivery (by created); other kinds are read whole");
    set(m, "window", w);
    set(m, "requests", cJSON_CreateNumber((double)cio_requests(P->c)));
    set(m, "rate_limited", cJSON_CreateNumber((double)cio_throttled(P->c)));
    set(m, "complete", cJSON_CreateBool(complete));
    return save_json(P->dir, "manifest.json", m);
}

int pull_run(const PullOptions *o)
{
    Pull P = {0};
    CioConfig cfg;
    char err[512];
    P.o = o;
    if (cio_config_from_env(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        return 1;
    }
    P.since = parse_since(o->since);
    if (P.since < 0) {
        fprintf(stderr, "maprun: --since %s: give a date (2024-05-01), a UTC time (2024-05-01T12:00:00Z) or unix seconds\n",
                o->since);
        return 2;
    }
    for (const char *k = o->kinds; k && *k;) {
        size_t len = strcspn(k, ",");
        bool known = false;
        for (int i = 0; all_kinds[i]; i++)
            known |= strlen(all_kinds[i]) == len && strncmp(all_kinds[i], k, len) == 0;
        if (!known) {
            fprintf(stderr, "maprun: --kinds: unknown kind '%.*s'\n", (int)len, k);
            return 2;
        }
        k += len + (k[len] == ',');
    }
    snprintf(P.dir, sizeof P.dir, "%s", o->out);
    if (mkdir(P.dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "maprun: cannot create %s: %s\n", P.dir, strerror(errno));
        return 1;
    }
    P.state = load_state(P.dir);
    const cJSON *was = cJSON_GetObjectItemCaseSensitive(P.state, "since");
    if (cJSON_IsNumber(was) && (long long)was->valuedouble != P.since) {
        fprintf(stderr, "maprun: %s holds a pull with another --since; use a new directory, or the same --since to resume it\n",
                P.dir);
        cJSON_Delete(P.state);
        return 2;
    }
    set(P.state, "since", cJSON_CreateNumber((double)P.since));
    bool resuming = cJSON_GetObjectItemCaseSensitive(P.state, "kinds")->child != NULL;
    P.manifest = cJSON_CreateObject();
    cJSON_AddObjectToObject(P.manifest, "kinds");
    cJSON_AddArrayToObject(P.manifest, "unreadable");
    cfg.log = stderr;
    P.c = cio_new(&cfg);
    P.rel = sr_new(P.dir, ".relationships", (size_t)32 << 20);
    time_t started = time(NULL);
    printf("pull from %s into %s%s\n", cfg.base_url, P.dir, resuming ? " (resuming)" : "");
    int rc = 0;
    for (int i = 0; all_kinds[i] && rc == 0; i++)
        if (wanted(o->kinds, all_kinds[i]))
            rc = pull_kind(&P, all_kinds[i]);
    if (P.out) {
        fclose(P.out);
        P.out = NULL;
    }
    rc |= write_manifest(&P, &cfg, started, rc == 0);
    if (rc == 0)
        printf("pull complete: %lu requests (%lu answered 429), %d item%s unreadable; see %s/manifest.json\n",
               cio_requests(P.c), cio_throttled(P.c), P.unreadable, P.unreadable == 1 ? "" : "s", P.dir);
    else
        fprintf(stderr, "maprun: the pull stopped; run the same command again to resume from where it stopped\n");
    sr_free(P.rel);
    cio_free(P.c);
    cJSON_Delete(P.state);
    cJSON_Delete(P.manifest);
    return rc != 0 ? 1 : P.unreadable ? 3 : 0;
}

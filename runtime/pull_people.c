/*
** pull_people: people and their companies.  Object types, objects and their
** relationships are read before people, because a person line carries its
** company links (`relationships`), joined here from the objects' side: one
** request per object instead of one per person.  Relationship pages may
** repeat entries; they are deduplicated on (cio_id, object_type_id,
** cio_object_id).
*/
#define _DEFAULT_SOURCE
#include "pull_engine.h"
#include "csv.h"

#include <stdlib.h>
#include <string.h>

#define EXPORT_ABOVE 10000      /* people: use the export above this many */
#define ATTR_BATCH 100          /* ids per POST /v1/customers/attributes */

/* ---- objects and relationships */

static int object_one(Pull *P, cJSON *ident, void *ctx)
{
    const char *type = ctx;
    char b1[64], b2[64];
    const char *oid = pe_id_text(cJSON_GetObjectItemCaseSensitive(ident, "object_id"), b1, sizeof b1);
    const char *cid = pe_id_text(cJSON_GetObjectItemCaseSensitive(ident, "cio_object_id"), b2, sizeof b2);
    char *esc = cio_escape(P->c, *oid ? oid : cid), path[1024];
    snprintf(path, sizeof path, "/v1/objects/%s/%s/attributes?id_type=%s", type, esc, *oid ? "object_id" : "cio_object_id");
    free(esc);
    CioError e;
    cJSON *j = cio_call(P->c, "GET", path, NULL, &e);
    if (!j)
        return pe_stop_on(P, path, &e) ? -1 : 0;
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(j, "object");
    if (cJSON_IsObject(obj)) {
        pe_stringify_id(obj, "object_type_id");
        if (!cJSON_GetObjectItemCaseSensitive(obj, "object_type_id"))
            cJSON_AddStringToObject(obj, "object_type_id", type);
        cJSON *ids = cJSON_GetObjectItemCaseSensitive(obj, "identifiers");
        pe_stringify_id(ids, "object_id");
        pe_stringify_id(ids, "cio_object_id");
        pe_out_line(P, obj);
    }
    cJSON_Delete(j);
    return 0;
}

int pull_objects(Pull *P)
{
    if (pe_kind_done(P, "object"))
        return 0;
    cJSON *types = pe_ids_of(P, "object_type", "id", NULL, NULL);
    int rc = pe_out_begin(P, "object");
    long start = pe_resume_parent(P);
    const char *cursor = pe_resume_cursor(P);
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
        rc = pe_pages(P, "POST", "/v1/objects", body, "identifiers", 1000, i - 1 == start ? cur : NULL, i - 1,
                      object_one, t->valuestring);
        cJSON_Delete(body);
        free(cur);
        cur = NULL;
        if (rc == 0)
            rc = pe_checkpoint(P, NULL, i);
    }
    free(cur);
    cJSON_Delete(types);
    return rc == 0 ? pe_out_end(P) : -1;
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
    pe_stringify_id(ids, "id");
    pe_stringify_id(ids, "cio_id");
    const char *cio_id = pe_str(ids, "cio_id");
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
    pe_out_line(P, line);
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
    const char *cio_id = pe_str(cJSON_GetObjectItemCaseSensitive(j, "person_identifiers"), "cio_id");
    if (!cio_id)
        return 0;
    char seen[1024];
    int n = snprintf(seen, sizeof seen, "d%s|%s|%s", cio_id, pe_str(j, "object_type_id"), pe_str(j, "cio_object_id"));
    cJSON *link = cJSON_CreateObject();
    cJSON_AddStringToObject(link, "object_type_id", pe_str(j, "object_type_id"));
    cJSON_AddStringToObject(link, "object_id", pe_str(j, "object_id") ? pe_str(j, "object_id") : "");
    cJSON_AddStringToObject(link, "cio_object_id", pe_str(j, "cio_object_id"));
    int rc = sr_add(P->rel, seen, (size_t)n, "", 0) < 0 ? -1 : link_person(P, cio_id, link);
    cJSON_Delete(link);
    return rc;
}

static int relink(Pull *P)
{
    return pe_each_line(P, "relationship", relink_one, NULL);
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
    RelCtx r = {pe_str(o, "object_type_id"), pe_str(ids, "object_id"), pe_str(ids, "cio_object_id")};
    int rc = 0;
    if (r.type && r.cio_object_id) {
        char *esc = cio_escape(P->c, r.object_id ? r.object_id : r.cio_object_id), url[1024];
        snprintf(url, sizeof url, "/v1/objects/%s/%s/relationships?id_type=%s", r.type, esc,
                 r.object_id ? "object_id" : "cio_object_id");
        free(esc);
        if (!r.object_id)
            r.object_id = "";
        rc = pe_pages(P, "GET", url, NULL, "cio_relationships", 100, w->i - 1 == w->start ? w->cursor : NULL, w->i - 1,
                      relationship_one, &r);
    }
    return rc == 0 ? pe_checkpoint(P, NULL, w->i) : -1;
}

int pull_relationships(Pull *P)
{
    if (pe_kind_done(P, "relationship"))
        return relink(P);
    int rc = pe_out_begin(P, "relationship");
    long start = pe_resume_parent(P);
    if (rc == 0)
        rc = relink(P);                   /* what an interrupted run already wrote */
    const char *cursor = pe_resume_cursor(P);
    Walk w = {start, 0, cursor ? strdup(cursor) : NULL, NULL};
    if (rc == 0)
        rc = pe_each_line(P, "object", relationships_of, &w);
    free(w.cursor);
    return rc == 0 ? pe_out_end(P) : -1;
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
    pe_stringify_id(ident, "id");
    pe_stringify_id(ident, "cio_id");
    if (pe_str(ident, "cio_id"))
        pe_out_line(P, ident);
    return 0;
}

static int ids_by_search(Pull *P)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "filter", all_people_filter());
    int rc = pe_pages(P, "POST", "/v1/customers", body, "identifiers", 1000, pe_resume_cursor(P), 0, write_ident, NULL);
    cJSON_Delete(body);
    return rc;
}

/* The customers export: create (once: its id is kept for a resumed run), wait, download. */
static int ids_by_export(Pull *P)
{
    cJSON *ks = pe_kind_state(P, P->kind);
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
            pe_stop_on(P, "POST /v1/exports/customers", &e);
            P->failed = true;
            return -1;
        }
        pe_set(ks, "export_id", cJSON_CreateNumber(id->valuedouble));
        cJSON_Delete(j);
        if (pe_save_json(P->dir, ".pull.json", P->state) < 0)
            return -1;
    }
    double xid = cJSON_GetObjectItemCaseSensitive(ks, "export_id")->valuedouble;
    for (long wait = 1000;; wait = wait * 3 / 2 > 15000 ? 15000 : wait * 3 / 2) {
        snprintf(path, sizeof path, "/v1/exports/%.0f", xid);
        cJSON *j = cio_call(P->c, "GET", path, NULL, &e);
        if (!j) {
            pe_stop_on(P, path, &e);
            P->failed = true;
            return -1;
        }
        const char *status = pe_str(cJSON_GetObjectItemCaseSensitive(j, "export"), "status");
        bool done = status && strcmp(status, "done") == 0, failed = status && strcmp(status, "failed") == 0;
        cJSON_Delete(j);
        if (failed) {
            fprintf(stderr, "maprun: the customers export %.0f failed in Customer.io; run again to start a new one\n", xid);
            cJSON_DeleteItemFromObjectCaseSensitive(ks, "export_id");
            pe_save_json(P->dir, ".pull.json", P->state);
            P->failed = true;
            return -1;
        }
        if (done)
            break;
        http_sleep_ms(getenv("MAPRUN_POLL_MS") ? strtol(getenv("MAPRUN_POLL_MS"), NULL, 10) : wait);
    }
    snprintf(path, sizeof path, "/v1/exports/%.0f/download", xid);
    cJSON *j = cio_call(P->c, "GET", path, NULL, &e);
    const char *url = pe_str(j, "url") ? pe_str(j, "url") : pe_str(j, "link");     /* the spec says url; clients saw link */
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
        pe_stop_on(P, path, &e);
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
        pe_out_line(P, ident);
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
    pe_each_line(P, "workspace", add_people, &n);
    return n;
}

/* A profile as a person line: unwrapped, ids as strings, its company links attached. */
static void write_person(Pull *P, cJSON *c)
{
    cJSON *inner = cJSON_GetObjectItemCaseSensitive(c, "customer");
    if (cJSON_IsObject(inner))
        c = inner;
    pe_stringify_id(c, "id");
    cJSON *ids = cJSON_GetObjectItemCaseSensitive(c, "identifiers");
    pe_stringify_id(ids, "id");
    pe_stringify_id(ids, "cio_id");
    const char *cio_id = pe_str(ids, "cio_id");
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
    pe_out_line(P, c);
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
        return pe_stop_on(P, "POST /v1/customers/attributes", &e) ? -1 : 0;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "customers"), *c;
    int got = 0;
    cJSON_ArrayForEach(c, pe_list(list)) {
        write_person(P, c);
        got++;
    }
    if (got < cJSON_GetArraySize(batch)) {          /* left out: deleted since they were listed */
        CioError gone = {404, ""};
        snprintf(gone.message, sizeof gone.message, "%d of %d profiles had no attributes (deleted after the listing)",
                 cJSON_GetArraySize(batch) - got, cJSON_GetArraySize(batch));
        pe_unreadable(P, "POST /v1/customers/attributes", &gone);
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
        return pe_stop_on(P, path, &e) ? -1 : 0;
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
    const char *id = pe_str(ident, "id"), *cio_id = pe_str(ident, "cio_id");
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
            rc = pe_checkpoint(P, NULL, w->i);
    }
    return rc;
}

static int attributes(Pull *P)
{
    Walk w = {pe_resume_parent(P), 0, NULL, cJSON_CreateArray()};
    int rc = pe_each_line(P, ".person_ids", attributes_line, &w);
    if (rc == 0)
        rc = attributes_batch(P, w.batch);
    cJSON_Delete(w.batch);
    return rc;
}

int pull_people(Pull *P)
{
    if (pe_kind_done(P, "person"))
        return 0;
    if (!pe_kind_done(P, ".person_ids")) {
        const char *via = P->o->people_via;
        if (!via)
            via = workspace_people(P) > EXPORT_ABOVE ? "export" : "search";
        printf("  people: listing them by %s\n", strcmp(via, "export") == 0 ? "a customers export" : "search");
        int rc = pe_out_begin(P, ".person_ids");
        if (rc == 0)
            rc = strcmp(via, "export") == 0 ? ids_by_export(P) : ids_by_search(P);
        if (rc < 0 || pe_out_end(P) < 0)
            return -1;
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(P->manifest, "kinds"), ".person_ids");
    }
    int rc = pe_out_begin(P, "person");
    if (rc == 0)
        rc = attributes(P);
    if (rc == 0 && (rc = pe_out_end(P)) == 0) {
        char path[4200];                /* the listing served its purpose: only KIND.ndjson files stay */
        snprintf(path, sizeof path, "%s/.person_ids.ndjson", P->dir);
        remove(path);
    }
    return rc;
}

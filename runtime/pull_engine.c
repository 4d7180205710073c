/*
** pull_engine: the machinery behind pull_engine.h.
**
** Resume: after every page the output file is flushed and DIR/.pull.json
** records, per kind, the cursor to go on from, the parent being walked
** (for per-campaign actions and the like) and the file's length.  An
** interrupted pull, run again, cuts each file back to that length and goes
** on from that cursor; finished kinds are not read again.
*/
#define _DEFAULT_SOURCE         /* fsync */
#include "pull_engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* ---- small helpers */

const char *pe_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A list the API may send as null (or leave out): NULL, which iterates as empty. */
const cJSON *pe_list(const cJSON *v)
{
    return cJSON_IsArray(v) ? v : NULL;
}

/* An id the API sends as a number or a string, as text ("" when absent). */
const char *pe_id_text(const cJSON *v, char *buf, size_t n)
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
void pe_stringify_id(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.0f", v->valuedouble);
        cJSON_ReplaceItemInObjectCaseSensitive(o, k, cJSON_CreateString(buf));
    }
}

cJSON *pe_kind_state(Pull *P, const char *kind)
{
    cJSON *kinds = cJSON_GetObjectItemCaseSensitive(P->state, "kinds");
    cJSON *k = cJSON_GetObjectItemCaseSensitive(kinds, kind);
    if (!k)
        k = cJSON_AddObjectToObject(kinds, kind);
    return k;
}

void pe_set(cJSON *o, const char *k, cJSON *v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, k))
        cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
    else
        cJSON_AddItemToObject(o, k, v);
}

int pe_save_json(const char *dir, const char *name, const cJSON *j)
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

void pe_unreadable(Pull *P, const char *what, const CioError *e)
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
bool pe_stop_on(Pull *P, const char *what, const CioError *e)
{
    if (e->http == 0 || e->http == 401 || e->http == 429 || e->http >= 500) {
        fprintf(stderr, "maprun: %s: %s\n", what, e->message);
        if (e->http == 401)
            fprintf(stderr, "maprun: the App API key was refused (CIO_APP_API_KEY, and CIO_REGION: a US key "
                    "does not work on the EU host)\n");
        P->failed = true;
        return true;
    }
    pe_unreadable(P, what, e);
    return false;
}

/* ---- output, with checkpoints */

int pe_out_begin(Pull *P, const char *kind)
{
    P->kind = kind;
    cJSON *ks = pe_kind_state(P, kind);
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

void pe_out_line(Pull *P, const cJSON *rec)
{
    char *text = cJSON_PrintUnformatted(rec);
    fputs(text, P->out);
    fputc('\n', P->out);
    free(text);
    P->records++;
}

/* The file is on disk up to here, and this is where to go on from. */
int pe_checkpoint(Pull *P, const char *cursor, long parent)
{
    if (fflush(P->out) != 0 || fsync(fileno(P->out)) != 0) {
        fprintf(stderr, "maprun: cannot write %s.ndjson: %s\n", P->kind, strerror(errno));
        return -1;
    }
    cJSON *ks = pe_kind_state(P, P->kind);
    pe_set(ks, "offset", cJSON_CreateNumber((double)ftell(P->out)));
    pe_set(ks, "records", cJSON_CreateNumber((double)P->records));
    pe_set(ks, "cursor", cursor ? cJSON_CreateString(cursor) : cJSON_CreateNull());
    pe_set(ks, "parent", cJSON_CreateNumber((double)parent));
    return pe_save_json(P->dir, ".pull.json", P->state);
}

int pe_out_end(Pull *P)
{
    int rc = P->failed ? -1 : 0;
    cJSON *ks = pe_kind_state(P, P->kind);
    if (rc == 0)
        rc = pe_checkpoint(P, NULL, 0);
    if (P->out && fclose(P->out) != 0)
        rc = -1;
    P->out = NULL;
    if (rc == 0) {
        pe_set(ks, "done", cJSON_CreateTrue());
        rc = pe_save_json(P->dir, ".pull.json", P->state);
    }
    cJSON *mk = cJSON_GetObjectItemCaseSensitive(P->manifest, "kinds");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "records", (double)P->records);
    cJSON_AddStringToObject(m, "status", rc == 0 ? "complete" : "interrupted");
    pe_set(mk, P->kind, m);
    if (P->o->progress)
        fprintf(stderr, "\r%60s\r", "");
    printf("  %-22s %10llu\n", P->kind, P->records);
    return rc;
}

bool pe_kind_done(Pull *P, const char *kind)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pe_kind_state(P, kind), "done"));
}

const char *pe_resume_cursor(Pull *P)
{
    return pe_str(pe_kind_state(P, P->kind), "cursor");
}

long pe_resume_parent(Pull *P)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(pe_kind_state(P, P->kind), "parent");
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

/* ---- paging */


/* GET or POST path (which may already hold a query) page by page, from
** cursor, handing each item of list_key to fn; stops when `next` is empty or
** a page is empty (a cursor that never ends), checkpointing after each page. */
int pe_pages(Pull *P, const char *method, const char *path, const cJSON *body, const char *list_key, int limit,
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
            if (pe_stop_on(P, path, &e))
                rc = -1;
            break;
        }
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(page, list_key), *it;
        int count = 0;
        cJSON_ArrayForEach(it, pe_list(list)) {      /* a null list is an empty one */
            count++;
            if (rc == 0)
                rc = fn(P, (cJSON *)it, ctx);
        }
        char buf[64];
        const char *next = pe_id_text(cJSON_GetObjectItemCaseSensitive(page, "next"), buf, sizeof buf);
        free(cur);
        cur = count && *next ? strdup(next) : NULL;
        cJSON_Delete(page);
        if (rc == 0)
            rc = pe_checkpoint(P, cur, parent);
        if (rc < 0 || !cur)
            break;
    }
    free(cur);
    return rc;
}

/* One request, the whole list (endpoints without paging). */
cJSON *pe_whole_list(Pull *P, const char *path, const char *list_key)
{
    CioError e;
    cJSON *j = cio_call(P->c, "GET", path, NULL, &e);
    if (!j) {
        pe_stop_on(P, path, &e);
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

int pe_write_item(Pull *P, cJSON *item, void *ctx)
{
    (void)ctx;
    pe_out_line(P, item);
    return 0;
}

/* A kind that is one unpaged list. */
int pe_simple_kind(Pull *P, const char *kind, const char *path, const char *list_key)
{
    if (pe_kind_done(P, kind) || pe_out_begin(P, kind) < 0)
        return pe_kind_done(P, kind) ? 0 : -1;
    cJSON *list = pe_whole_list(P, path, list_key), *it;
    cJSON_ArrayForEach(it, list)
        pe_out_line(P, it);
    cJSON_Delete(list);
    return pe_out_end(P);
}

/* Hands each line of an already pulled DIR/KIND.ndjson, parsed, to fn, until fn
** answers nonzero (which is returned).  A missing file has no lines. */

int pe_each_line(Pull *P, const char *kind, LineFn fn, void *ctx)
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
    const char *only = q->only_field ? pe_str(j, q->only_field) : NULL;
    char buf[64];
    const char *id = pe_id_text(cJSON_GetObjectItemCaseSensitive(j, q->idf), buf, sizeof buf);
    if (*id && (!q->only_field || (only && strcmp(only, q->only_value) == 0)))
        cJSON_AddItemToArray(q->ids, cJSON_CreateString(id));
    return 0;
}

/* The ids (field idf) of a pulled kind's lines, optionally only where only_field = only_value. */
cJSON *pe_ids_of(Pull *P, const char *kind, const char *idf, const char *only_field, const char *only_value)
{
    IdsOf q = {cJSON_CreateArray(), idf, only_field, only_value};
    pe_each_line(P, kind, add_id, &q);
    return q.ids;
}

/* A kind read per parent (a campaign's actions, a newsletter's contents…):
** path_fmt has one %s for the parent id; add_key/add_val are set on each item. */

static int write_child(Pull *P, cJSON *item, void *ctx)
{
    Child *ch = ctx;
    if (ch->add_key && !cJSON_GetObjectItemCaseSensitive(item, ch->add_key)) {
        if (ch->add_numeric)
            cJSON_AddNumberToObject(item, ch->add_key, strtod(ch->parent_id, NULL));
        else
            cJSON_AddStringToObject(item, ch->add_key, ch->parent_id);
    }
    pe_out_line(P, item);
    return 0;
}

/* parents: [{"path","id"}]; each parent's list, page by page, resumable. */
int pe_per_parent(Pull *P, cJSON *parents, const char *list_key, int limit, ItemFn fn, Child *ch)
{
    long start = pe_resume_parent(P);
    const char *cursor = pe_resume_cursor(P);
    char *cur = cursor ? strdup(cursor) : NULL;
    int rc = 0, i = 0;
    const cJSON *pa;
    cJSON_ArrayForEach(pa, parents) {
        if (i++ < start)
            continue;
        ch->parent_id = pe_str(pa, "id");
        if (pe_str(pa, "key"))
            ch->add_key = pe_str(pa, "key");
        rc = pe_pages(P, "GET", pe_str(pa, "path"), NULL, list_key, limit, i - 1 == start ? cur : NULL, i - 1,
                      fn ? fn : write_child, ch);
        free(cur);
        cur = NULL;
        if (rc < 0 || pe_checkpoint(P, NULL, i) < 0) {
            rc = -1;
            break;
        }
    }
    free(cur);
    return rc;
}

/* [{"path": fmt % id, "id": id, "key": key}] for the ids of a pulled kind; appended to into. */
void pe_add_parents(cJSON *into, cJSON *ids, const char *fmt, const char *key)
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

int pe_child_kind(Pull *P, const char *kind, cJSON *parents, const char *list_key, int limit, const char *add_key,
                  bool numeric)
{
    if (pe_kind_done(P, kind)) {
        cJSON_Delete(parents);
        return 0;
    }
    Child ch = {add_key, NULL, numeric};
    int rc = pe_out_begin(P, kind);
    if (rc == 0)
        rc = pe_per_parent(P, parents, list_key, limit, NULL, &ch);
    cJSON_Delete(parents);
    return rc == 0 ? pe_out_end(P) : -1;
}

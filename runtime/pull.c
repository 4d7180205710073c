/*
** pull: the Customer.io extractor behind pull.h — which kinds, in which
** order (later kinds use earlier ones), the smaller kinds themselves, and the
** manifest.  People and companies are in pull_people.c; paging, output and
** resume in pull_engine.c.
**
** Nothing written holds the API key: it is only ever in a request header.
*/
#define _DEFAULT_SOURCE         /* fsync */
#include "pull_engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
    const char *cio_id = pe_str(cJSON_GetObjectItemCaseSensitive(j, "identifiers"), "cio_id");
    const char *stage = pe_str(cJSON_GetObjectItemCaseSensitive(j, "attributes"), "lifecycle_stage");
    char key[256];
    int n = cio_id ? snprintf(key, sizeof key, "s%s", cio_id) : 0;
    return stage && n > 0 && n < (int)sizeof key ? sr_add(P->rel, key, (size_t)n, stage, strlen(stage)) : 0;
}

static int index_stages(Pull *P)
{
    return pe_each_line(P, "person", add_stage, NULL);
}

static int member_one(Pull *P, cJSON *ident, void *ctx)
{
    Child *ch = ctx;
    pe_stringify_id(ident, "id");
    pe_stringify_id(ident, "cio_id");
    if (!pe_str(ident, "cio_id"))
        return 0;
    cJSON *line = cJSON_CreateObject();
    cJSON_AddNumberToObject(line, "segment_id", strtod(ch->parent_id, NULL));
    cJSON_AddItemToObject(line, "identifiers", cJSON_Duplicate(ident, 1));
    cJSON_AddStringToObject(line, "segment_type", "manual");
    char key[256];
    int n = snprintf(key, sizeof key, "s%s", pe_str(ident, "cio_id"));
    const void *v;
    size_t vl;
    if (n < (int)sizeof key && sr_get(P->rel, key, (size_t)n, &v, &vl) == 1)
        cJSON_AddItemToObject(line, "lifecycle_stage", cJSON_CreateString(copy_text(v, vl, key, sizeof key)));
    else
        cJSON_AddNullToObject(line, "lifecycle_stage");
    pe_out_line(P, line);
    cJSON_Delete(line);
    return 0;
}

/* Members of the manual (static) segments: they become Campaign members.
** Dynamic segments are rule sets; their membership is not pulled. */
static int memberships(Pull *P)
{
    if (pe_kind_done(P, "segment_membership"))
        return 0;
    cJSON *parents = cJSON_CreateArray();
    pe_add_parents(parents, pe_ids_of(P, "segment", "id", "type", "manual"), "/v1/segments/%s/membership", NULL);
    int rc = index_stages(P) < 0 ? -1 : pe_out_begin(P, "segment_membership");
    Child ch = {NULL, NULL, true};
    if (rc == 0)
        rc = pe_per_parent(P, parents, "identifiers", 1000, member_one, &ch);
    cJSON_Delete(parents);
    return rc == 0 ? pe_out_end(P) : -1;
}

static int write_since(Pull *P, cJSON *item, void *ctx)
{
    const char *tkey = ctx;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, tkey);
    if (P->since && cJSON_IsNumber(t) && t->valuedouble < (double)P->since)
        return 0;
    pe_out_line(P, item);
    return 0;
}

static int paged_kind(Pull *P, const char *kind, const char *path, const char *list_key, int limit, const char *tkey)
{
    if (pe_kind_done(P, kind))
        return 0;
    int rc = pe_out_begin(P, kind);
    if (rc == 0)
        rc = pe_pages(P, "GET", path, NULL, list_key, limit, pe_resume_cursor(P), 0, tkey ? write_since : pe_write_item,
                      (void *)tkey);
    return rc == 0 ? pe_out_end(P) : -1;
}

/* Offset paging (the ESP suppression lists), one category after the other. */
static int suppressions(Pull *P)
{
    static const char *const cats[] = {"bounces", "spam_reports"};
    if (pe_kind_done(P, "suppression"))
        return 0;
    int rc = pe_out_begin(P, "suppression");
    long start = pe_resume_parent(P);
    const char *cursor = pe_resume_cursor(P);
    long offset = cursor ? strtol(cursor, NULL, 10) : 0;
    for (long c = start; rc == 0 && c < 2; c++, offset = 0) {
        for (;;) {
            char path[256];
            snprintf(path, sizeof path, "/v1/esp/suppression/%s?limit=1000&offset=%ld", cats[c], offset);
            CioError e;
            cJSON *j = cio_call(P->c, "GET", path, NULL, &e);
            if (!j) {
                rc = pe_stop_on(P, path, &e) ? -1 : 0;
                break;
            }
            const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "suppressions"), *it;
            int count = 0;
            cJSON_ArrayForEach(it, pe_list(list)) {
                cJSON *row = cJSON_Duplicate(it, 1);
                pe_set(row, "category", cJSON_CreateString(cats[c]));    /* the path's name, not the answer's */
                pe_out_line(P, row);
                cJSON_Delete(row);
                count++;
            }
            cJSON_Delete(j);
            offset += count;
            char cur[32];
            snprintf(cur, sizeof cur, "%ld", offset);
            if ((rc = pe_checkpoint(P, count < 1000 ? NULL : cur, count < 1000 ? c + 1 : c)) < 0 || count < 1000)
                break;
        }
    }
    return rc == 0 ? pe_out_end(P) : -1;
}

/* Adds each broadcast's triggers (GET /v1/broadcasts/{id}/triggers) to its line. */
static int broadcasts(Pull *P)
{
    if (pe_kind_done(P, "broadcast"))
        return 0;
    int rc = pe_out_begin(P, "broadcast");
    cJSON *list = rc == 0 ? pe_whole_list(P, "/v1/broadcasts", "broadcasts") : NULL, *b;
    cJSON_ArrayForEach(b, list) {
        char buf[64], path[256];
        snprintf(path, sizeof path, "/v1/broadcasts/%s/triggers", pe_id_text(cJSON_GetObjectItemCaseSensitive(b, "id"), buf, sizeof buf));
        cJSON *t = pe_whole_list(P, path, "triggers");
        if (!t)
            break;
        cJSON_AddItemToObject(b, "triggers", t);
        pe_out_line(P, b);
    }
    cJSON_Delete(list);
    return rc == 0 && !P->failed ? pe_out_end(P) : -1;
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
        return pe_simple_kind(P, kind, "/v1/workspaces", "workspaces");
    if (strcmp(kind, "topic") == 0)
        return pe_simple_kind(P, kind, "/v1/subscription_topics", "topics");
    if (strcmp(kind, "object_type") == 0)
        return pe_simple_kind(P, kind, "/v1/object_types", "types");
    if (strcmp(kind, "object") == 0)
        return pull_objects(P);
    if (strcmp(kind, "relationship") == 0)
        return pull_relationships(P);
    if (strcmp(kind, "person") == 0)
        return pull_people(P);
    if (strcmp(kind, "segment") == 0)
        return pe_simple_kind(P, kind, "/v1/segments", "segments");
    if (strcmp(kind, "segment_membership") == 0)
        return memberships(P);
    if (strcmp(kind, "campaign") == 0)
        return pe_simple_kind(P, kind, "/v1/campaigns", "campaigns");
    if (strcmp(kind, "broadcast") == 0)
        return broadcasts(P);
    if (strcmp(kind, "action") == 0) {
        cJSON *parents = cJSON_CreateArray();
        pe_add_parents(parents, pe_ids_of(P, "campaign", "id", NULL, NULL), "/v1/campaigns/%s/actions", "campaign_id");
        pe_add_parents(parents, pe_ids_of(P, "broadcast", "id", NULL, NULL), "/v1/broadcasts/%s/actions", "broadcast_id");
        return pe_child_kind(P, kind, parents, "actions", 10, NULL, true);
    }
    if (strcmp(kind, "newsletter") == 0)
        return paged_kind(P, kind, "/v1/newsletters", "newsletters", 100, NULL);
    if (strcmp(kind, "newsletter_content") == 0) {
        cJSON *parents = cJSON_CreateArray();
        pe_add_parents(parents, pe_ids_of(P, "newsletter", "id", NULL, NULL), "/v1/newsletters/%s/contents", NULL);
        return pe_child_kind(P, kind, parents, "contents", 100, "newsletter_id", true);
    }
    if (strcmp(kind, "transactional") == 0)
        return pe_simple_kind(P, kind, "/v1/transactional", "messages");
    if (strcmp(kind, "transactional_content") == 0) {
        cJSON *parents = cJSON_CreateArray();
        pe_add_parents(parents, pe_ids_of(P, "transactional", "id", NULL, NULL), "/v1/transactional/%s/contents", NULL);
        return pe_child_kind(P, kind, parents, "contents", 100, "transactional_message_id", true);
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
    pe_set(m, "source", cJSON_CreateString("customerio"));
    pe_set(m, "api_url", cJSON_CreateString(cfg->base_url));      /* the URL only: never the key */
    iso_time(started, t, sizeof t);
    pe_set(m, "pulled_at", cJSON_CreateString(t));
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
    pe_set(m, "window", w);
    pe_set(m, "requests", cJSON_CreateNumber((double)cio_requests(P->c)));
    pe_set(m, "rate_limited", cJSON_CreateNumber((double)cio_throttled(P->c)));
    pe_set(m, "complete", cJSON_CreateBool(complete));
    return pe_save_json(P->dir, "manifest.json", m);
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
    pe_set(P.state, "since", cJSON_CreateNumber((double)P.since));
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

/*
** stage_run: the staging loop.
**
** Merging: when a record's object key is already staged, the rule's merge
** policy decides — first: the staged record stays; last: the new one
** replaces it; fill: fields the staged record lacks (or has null) are taken
** from the new one.  Without a policy the later source record is
** quarantined as "duplicate-key", naming the record that holds the key.
** All of a record's outputs are checked before any is written, so a
** quarantined record leaves nothing behind.
*/
#include "stage_run.h"
#include "bits.h"
#include "reader.h"
#include "jsonbuf.h"
#include "jsonmem.h"
#include "mapper.h"
#include "plan.h"
#include "sortrun.h"
#include "stage.h"
#include "value.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct Count {
    char *name;
    unsigned long long n;
} Count;

typedef struct KindCount {
    char *kind;
    unsigned long long read, output, excluded, quarantined;
} KindCount;

typedef struct Run {
    const Plan *plan;
    Mapper *mapper;
    Stage *st;
    KindCount *kinds;
    int nkinds;
    Count *reasons, *codes;   /* exclusions by reason, quarantines by code */
    int nreasons, ncodes;
    unsigned long long *rule_emitted, *rule_quarantined;
    unsigned long long total, quarantined;
    char key[4096];
    JBuf val;                 /* the value being written */
    uint64_t *bloom;          /* the record keys staged so far, as a Bloom filter (fixed size) */
    SortRuns *refs;           /* references, sorted on disk and appended at the end */
    bool refs_failed;
    char **rule_json;         /* each rule's name as a JSON string */
    char *file_json;          /* the current input's path as a JSON string */
} Run;

static void bump(Count **v, int *n, const char *name)
{
    for (int i = 0; i < *n; i++)
        if (strcmp((*v)[i].name, name) == 0) {
            (*v)[i].n++;
            return;
        }
    *v = realloc(*v, sizeof(Count) * (size_t)(*n + 1));
    (*v)[*n].name = strdup(name);
    (*v)[(*n)++].n = 1;
}

static KindCount *kind_count(Run *r, const char *kind)
{
    for (int i = 0; i < r->nkinds; i++)
        if (strcmp(r->kinds[i].kind, kind) == 0)
            return &r->kinds[i];
    r->kinds = realloc(r->kinds, sizeof(KindCount) * (size_t)(r->nkinds + 1));
    KindCount *k = &r->kinds[r->nkinds++];
    memset(k, 0, sizeof *k);
    k->kind = strdup(kind);
    return k;
}

/* Build key parts joined by NUL bytes; returns the length. */
static size_t make_key(Run *r, int n, const char *const *parts)
{
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        if (len + l + 1 > sizeof r->key)
            l = sizeof r->key - len - 1;
        memcpy(r->key + len, parts[i], l);
        len += l;
        if (i + 1 < n)
            r->key[len++] = '\0';
    }
    return len;
}


/* v in decimal, NUL-terminated; returns the length (out holds 21 bytes). */
static size_t fmt_ulong(char *out, unsigned long long v)
{
    char tmp[24];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* A line number as keys hold it: printf's "%012ld", without printf (out holds 24 bytes). */
static void fmt_line(char *out, long line)
{
    if (line < 0 || line > 999999999999L) {
        snprintf(out, 24, "%012ld", line);
        return;
    }
    for (int i = 11; i >= 0; i--, line /= 10)
        out[i] = (char)('0' + line % 10);
    out[12] = '\0';
}


/* ---- quarantine entries */

static void put_quarantine(Run *r, const char *kind, const char *file, long line, const char *rule, const char *at,
                           const char *code, const char *message, const char *raw, size_t rawlen, bool raw_is_text)
{
    char lines[24];
    fmt_line(lines, line);
    const char *parts[] = {file, lines};
    size_t klen = make_key(r, 2, parts);
    JBuf *v = &r->val;
    jb_reset(v);
    jb_cstr(v, "{\"kind\":");
    jb_string(v, kind, strlen(kind));
    jb_cstr(v, ",\"file\":");
    jb_cstr(v, r->file_json);
    jb_cstr(v, ",\"line\":");
    jb_ulong(v, (unsigned long long)line);
    jb_cstr(v, ",\"rule\":");
    jb_string(v, rule ? rule : "", rule ? strlen(rule) : 0);
    jb_cstr(v, ",\"at\":");
    jb_string(v, at ? at : "", at ? strlen(at) : 0);
    jb_cstr(v, ",\"code\":");
    jb_string(v, code, strlen(code));
    jb_cstr(v, ",\"message\":");
    jb_string(v, message ? message : "", message ? strlen(message) : 0);
    if (raw_is_text) {
        jb_cstr(v, ",\"raw\":");
        jb_string(v, raw, rawlen);
    } else {                                   /* bytes that are not text: kept as hex */
        static const char hex[] = "0123456789abcdef";
        jb_cstr(v, ",\"raw_hex\":\"");
        for (size_t i = 0; i < rawlen; i++) {
            char pair[2] = {hex[(unsigned char)raw[i] >> 4], hex[(unsigned char)raw[i] & 15]};
            jb_raw(v, pair, 2);
        }
        jb_raw(v, "\"", 1);
    }
    jb_raw(v, "}", 1);
    stage_put(r->st, DB_QUARANTINE, r->key, klen, v->s, v->len);
    bump(&r->codes, &r->ncodes, code);
    r->quarantined++;
}

/* ---- outputs */

static const char *object_of(const Run *r, const MapEmit *e)
{
    const PlanRule *rule = &r->plan->rules[e->rule];
    return plan_s(r->plan, r->plan->objects[rule->object].name);
}

/*
** Staging starts from an empty state, so a key the Bloom filter has never
** seen is new, and most records need no lookup at all.  16 MiB of bits: a
** false positive only costs one lookup, and memory does not grow.  Blocked:
** a key's three bits are in one 64-bit word, so a test is one cache miss.
*/
#define BLOOM_BITS ((uint64_t)1 << 27)

/*
** The content hash stored with each staged record (the loader sends a record
** again only when it changed).  16 bytes a step in two independent lanes, a
** multiply and a rotate per word, words read little-endian whatever the
** machine, then a final avalanche: FNV-1a's multiply per byte was 7% of
** staging.  Stored in states: changing it makes the next load resend all.
*/
static uint64_t rotl(uint64_t x, int r) { return x << r | x >> (64 - r); }

static uint64_t content_hash(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    uint64_t a = 0x243f6a8885a308d3ull ^ n, b = 0x13198a2e03707344ull;
    for (; n >= 16; n -= 16, p += 16) {
        a = rotl((a ^ load_le64(p)) * 0x9e3779b97f4a7c15ull, 31);
        b = rotl((b ^ load_le64(p + 8)) * 0xc2b2ae3d27d4eb4full, 29);
    }
    unsigned char tail[16] = {0};
    memcpy(tail, p, n);
    a = rotl((a ^ load_le64(tail)) * 0x9e3779b97f4a7c15ull, 31);
    b = rotl((b ^ load_le64(tail + 8)) * 0xc2b2ae3d27d4eb4full, 29);
    uint64_t h = a ^ rotl(b, 17);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ h >> 33;
}

/* Was the key (maybe) staged before?  Adds it either way. */
static bool bloom_seen(Run *r, const char *key, size_t klen)
{
    uint64_t h = sr_hash(key, klen);
    uint64_t *word = &r->bloom[h & (BLOOM_BITS / 64 - 1)];
    uint64_t mask = (uint64_t)1 << (h >> 40 & 63) | (uint64_t)1 << (h >> 46 & 63) | (uint64_t)1 << (h >> 52 & 63);
    bool seen = (*word & mask) == mask;
    *word |= mask;
    return seen;
}

/*
** Before writing: does an object output collide with a staged key that has
** no merge policy?  Returns the holder's "src" (static) or NULL.
*/
static const char *collision(Run *r, const MapEmit *e, const char *src)
{
    const PlanRule *rule = &r->plan->rules[e->rule];
    if (rule->target != PT_OBJECT || rule->merge != PM_NONE)
        return NULL;
    const char *parts[] = {object_of(r, e), e->key};
    size_t klen = make_key(r, 2, parts);
    const void *val;
    size_t vlen;
    if (!bloom_seen(r, r->key, klen) || stage_has(r->st, DB_RECORDS, r->key, klen) != 1
        || stage_get(r->st, DB_RECORDS, r->key, klen, &val, &vlen) != 1)
        return NULL;
    static char holder[512];
    cJSON *old = cJSON_ParseWithLength(val, vlen);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(old, "src");
    snprintf(holder, sizeof holder, "%s", cJSON_IsString(s) ? s->valuestring : "?");
    cJSON_Delete(old);
    return strcmp(holder, src) == 0 ? NULL : holder;
}

/* merge fill: the staged fields, completed from the new record's (release with cJSON_free). */
static char *fill(const void *old, size_t oldlen, const char *fields)
{
    cJSON *o = cJSON_ParseWithLength(old, oldlen);
    cJSON *of = cJSON_GetObjectItemCaseSensitive(o, "fields");
    cJSON *nf = cJSON_Parse(fields);
    cJSON *it;
    cJSON_ArrayForEach(it, nf) {
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(of, it->string);
        if (!cur)
            cJSON_AddItemToObject(of, it->string, cJSON_Duplicate(it, 1));
        else if (cJSON_IsNull(cur))
            cJSON_ReplaceItemInObjectCaseSensitive(of, it->string, cJSON_Duplicate(it, 1));
    }
    char *text = cJSON_PrintUnformatted(of);
    cJSON_Delete(o);
    cJSON_Delete(nf);
    return text;
}

/* A staged value starts with the rule and the source position: {"rule":…,"src":… */
static JBuf *begin_value(Run *r, const MapEmit *e, const char *src)
{
    JBuf *v = &r->val;
    jb_reset(v);
    jb_cstr(v, "{\"rule\":");
    jb_cstr(v, r->rule_json[e->rule]);
    jb_cstr(v, ",\"src\":");
    jb_string(v, src, strlen(src));
    return v;
}

/*
** The record's references, one entry per field, for the loader to resolve.
** Sorted as [u32 descriptor][key] and made JSON when appended (append_ref):
** a third of the bytes to sort, spill and merge.
*/
static void put_refs(Run *r, const char *object, const MapEmit *e)
{
    for (uint32_t i = 0; i < e->nrefs; i++) {
        const char *parts[] = {object, e->key, e->refs[i].field};
        size_t klen = make_key(r, 3, parts);
        uint32_t desc = e->refs[i].desc;
        size_t n = strlen(e->refs[i].key);
        jb_reset(&r->val);
        for (int b = 0; b < 4; b++) {
            char c = (char)(desc >> (8 * b));
            jb_raw(&r->val, &c, 1);
        }
        jb_raw(&r->val, e->refs[i].key, n);
        if (sr_add(r->refs, r->key, klen, r->val.s, r->val.len) < 0)
            r->refs_failed = true;
    }
}

static void put_record(Run *r, const MapEmit *e, const char *src)
{
    const PlanRule *rule = &r->plan->rules[e->rule];
    const char *parts[] = {object_of(r, e), e->key};
    size_t klen = make_key(r, 2, parts);
    const void *old;
    size_t oldlen;
    char *filled = NULL;
    const char *fields = e->json;
    size_t flen = e->json_len;
    /* first: only whether the key is there; last: nothing (the last write
    ** wins); fill: the staged record itself */
    bool seen = rule->merge != PM_NONE && bloom_seen(r, r->key, klen);
    if (seen && rule->merge == PM_FIRST && stage_has(r->st, DB_RECORDS, r->key, klen) == 1)
        return;
    if (seen && rule->merge == PM_FILL && stage_get(r->st, DB_RECORDS, r->key, klen, &old, &oldlen) == 1) {
        fields = filled = fill(old, oldlen, e->json);
        flen = strlen(filled);
    }
    JBuf *v = begin_value(r, e, src);
    static const char hex[] = "0123456789abcdef";
    char hash[] = ",\"hash\":\"0123456789abcdef\",\"fields\":";
    uint64_t h = content_hash(fields, flen);
    for (int i = 15; i >= 0; i--, h >>= 4)
        hash[9 + i] = hex[h & 15];
    jb_raw(v, hash, sizeof hash - 1);
    jb_raw(v, fields, flen);
    jb_raw(v, "}", 1);
    klen = make_key(r, 2, parts);
    stage_put(r->st, DB_RECORDS, r->key, klen, v->s, v->len);
    cJSON_free(filled);
    put_refs(r, parts[0], e);
}

static void put_entry(Run *r, const MapEmit *e, const char *file, long line, const char *src)
{
    static const char *const targets[] = {"object", "inventory", "flag", "exclude"};
    const PlanRule *rule = &r->plan->rules[e->rule];
    char lines[24];
    fmt_line(lines, line);
    const char *parts[] = {targets[rule->target], plan_s(r->plan, rule->section), file, lines,
                           plan_s(r->plan, rule->name)};
    size_t klen = make_key(r, 5, parts);
    JBuf *v = begin_value(r, e, src);
    jb_cstr(v, ",\"columns\":");
    jb_raw(v, e->json, e->json_len);
    jb_raw(v, "}", 1);
    stage_put(r->st, DB_ENTRIES, r->key, klen, v->s, v->len);
}

/* One good record: map it, then write everything or quarantine it. */
static void stage_record(Run *r, const MapKind *mk, KindCount *kc, const InputRecord *rec, const char *file)
{
    MapResult res;
    mapper_run(r->mapper, mk, rec->json, &res);
    char src[600];              /* "FILE:LINE", as snprintf("%s:%ld") would cut it */
    size_t n = strlen(file);
    n = n < sizeof src - 1 ? n : sizeof src - 1;
    memcpy(src, file, n);
    if (n < sizeof src - 1)
        src[n++] = ':';
    char digits[24];
    size_t nd = rec->line < 0 ? (size_t)snprintf(digits, sizeof digits, "%ld", rec->line)
                              : fmt_ulong(digits, (unsigned long long)rec->line);
    nd = nd < sizeof src - 1 - n ? nd : sizeof src - 1 - n;
    memcpy(src + n, digits, nd);
    src[n + nd] = '\0';
    const char *holder = NULL;
    uint32_t culprit = PLAN_NONE;
    for (uint32_t i = 0; res.outcome == MO_OUTPUT && i < res.nemits && !holder; i++)
        if ((holder = collision(r, &res.emits[i], src)) != NULL)
            culprit = res.emits[i].rule;
    if (holder) {
        char msg[800];
        snprintf(msg, sizeof msg, "the same %s key as %s, and rule %s declares no merge policy",
                 object_of(r, &res.emits[0]), holder, plan_s(r->plan, r->plan->rules[culprit].name));
        put_quarantine(r, kc->kind, file, rec->line, plan_s(r->plan, r->plan->rules[culprit].name), NULL,
                       "duplicate-key", msg, rec->raw, rec->rawlen, true);
        r->rule_quarantined[culprit]++;
        kc->quarantined++;
        return;
    }
    if (res.outcome == MO_QUARANTINED) {
        const char *rule = res.rule != PLAN_NONE ? plan_s(r->plan, r->plan->rules[res.rule].name) : "";
        put_quarantine(r, kc->kind, file, rec->line, rule, res.at, res.code, res.message, rec->raw, rec->rawlen, true);
        if (res.rule != PLAN_NONE)
            r->rule_quarantined[res.rule]++;
        kc->quarantined++;
        return;
    }
    for (uint32_t i = 0; i < res.nemits; i++) {
        const MapEmit *e = &res.emits[i];
        if (r->plan->rules[e->rule].target == PT_OBJECT)
            put_record(r, e, src);
        else
            put_entry(r, e, file, rec->line, src);
        r->rule_emitted[e->rule]++;
    }
    if (res.outcome == MO_OUTPUT) {
        kc->output++;
    } else {
        kc->excluded++;
        bump(&r->reasons, &r->nreasons, res.reason ? res.reason : "excluded");
    }
}

/* The references arrive in random key order: appended sorted, they cost a
** fraction of random inserts and no memory. */
static int append_ref(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Run *r = ctx;
    const unsigned char *p = v;
    if (vl < 4)
        return -1;
    uint32_t desc = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    jb_reset(&r->val);
    mapper_ref_json(r->mapper, desc, (const char *)p + 4, vl - 4, &r->val);
    return stage_append(r->st, DB_REFS, k, kl, r->val.s, r->val.len);
}

static int write_refs(Run *r)
{
    return r->refs_failed || sr_finish(r->refs, append_ref, r) != 0 ? -1 : 0;
}

/* ---- the summary `maprun status` prints */

static void add_counts(cJSON *parent, const char *name, const Count *c, int n)
{
    cJSON *o = cJSON_AddObjectToObject(parent, name);
    for (int i = 0; i < n; i++)
        cJSON_AddNumberToObject(o, c[i].name, (double)c[i].n);
}

static void write_summary(Run *r)
{
    cJSON *s = cJSON_CreateObject();
    char hash[16];
    snprintf(hash, sizeof hash, "%08x", r->plan->hash);
    cJSON_AddStringToObject(s, "plan", hash);
    cJSON_AddStringToObject(s, "migration", plan_s(r->plan, r->plan->migration));
    cJSON *kinds = cJSON_AddObjectToObject(s, "kinds");
    for (int i = 0; i < r->nkinds; i++) {
        const KindCount *k = &r->kinds[i];
        cJSON *o = cJSON_AddObjectToObject(kinds, k->kind);
        cJSON_AddNumberToObject(o, "read", (double)k->read);
        cJSON_AddNumberToObject(o, "output", (double)k->output);
        cJSON_AddNumberToObject(o, "excluded", (double)k->excluded);
        cJSON_AddNumberToObject(o, "quarantined", (double)k->quarantined);
    }
    cJSON *rules = cJSON_AddObjectToObject(s, "rules");
    for (uint32_t i = 0; i < r->plan->nrules; i++) {
        cJSON *o = cJSON_AddObjectToObject(rules, plan_s(r->plan, r->plan->rules[i].name));
        cJSON_AddNumberToObject(o, "emitted", (double)r->rule_emitted[i]);
        cJSON_AddNumberToObject(o, "quarantined", (double)r->rule_quarantined[i]);
    }
    add_counts(s, "excluded_by_reason", r->reasons, r->nreasons);
    add_counts(s, "quarantined_by_code", r->codes, r->ncodes);
    char *text = cJSON_PrintUnformatted(s);
    stage_put(r->st, DB_META, "summary", 7, text, strlen(text));
    stage_put(r->st, DB_META, "plan", 4, hash, strlen(hash));
    cJSON_free(text);
    cJSON_Delete(s);
}

/* ---- progress */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const Run *r, double start, bool final)
{
    double el = now() - start;
    fprintf(stderr, "%s%llu records, %.0f records/s, %llu quarantined%s", final ? "" : "\r",
            r->total, el > 0 ? (double)r->total / el : 0.0, r->quarantined, final ? "\n" : "   ");
}

/* ---- the run */

/* The state keeps the plan it was staged with, for export, load and status. */
static int keep_plan(Run *r, Plan *plan)
{
    size_t n;
    uint8_t *bytes = plan_serialize(plan, &n);
    int rc = stage_put(r->st, DB_META, "plan.mapb", 9, bytes, n);
    free(bytes);
    return rc;
}

/* The inputs, in order, read ahead by reader.h; returns -1 after printing an input's error. */
static int stage_inputs(Run *r, char **inputs, int ninputs, const StageOptions *opt, double start)
{
    Reader *rd = rd_open(inputs, ninputs, opt->max_line, !opt->no_read_ahead);
    char *file = NULL;
    const char *kind = NULL;
    const MapKind *mk = NULL;
    KindCount *kc = NULL;
    RdEvent ev;
    int rc = 0;
    for (;;) {
        jsonmem_next_record();                 /* cJSON's memory: one arena per record (jsonmem.h) */
        rd_next(rd, &ev);
        if (ev.type == RD_END)
            break;
        if (ev.type == RD_ERROR) {
            fprintf(stderr, "maprun: %s\n", ev.error);
            rc = -1;
            break;
        }
        if (ev.type == RD_FILE) {              /* its names live in a batch: keep copies */
            free(file);
            file = strdup(ev.path);
            free(r->file_json);
            r->file_json = jb_quote(file);
            kc = kind_count(r, ev.kind);
            kind = kc->kind;
            mk = mapper_kind(r->mapper, kind);
            continue;
        }
        const InputRecord *rec = &ev.rec;
        kc->read++;
        r->total++;
        if (rec->reason) {
            put_quarantine(r, kind, file, rec->line, NULL, NULL, rec->reason, rec->detail, rec->raw, rec->rawlen,
                           rec->raw_utf8);
            kc->quarantined++;
        } else {
            stage_record(r, mk, kc, rec, file);
            mapper_release(r->mapper);         /* its trees die with the record; the input's with its batch */
        }
        if (opt->progress && r->total % 65536 == 0)
            progress(r, start, false);
    }
    rd_close(rd);
    free(file);
    return rc;
}

static void run_free(Run *r)
{
    for (int i = 0; i < r->nkinds; i++)
        free(r->kinds[i].kind);
    for (int i = 0; i < r->nreasons; i++)
        free(r->reasons[i].name);
    for (int i = 0; i < r->ncodes; i++)
        free(r->codes[i].name);
    free(r->kinds);
    free(r->reasons);
    free(r->codes);
    free(r->rule_emitted);
    free(r->rule_quarantined);
    jb_free(&r->val);
    free(r->bloom);
    sr_free(r->refs);
    free(r->file_json);
    for (uint32_t i = 0; r->rule_json && i < r->plan->nrules; i++)
        free(r->rule_json[i]);
    free(r->rule_json);
    mapper_free(r->mapper);
    stage_close(r->st);
}

int stage_run(const char *plan_path, const char *dir, char **inputs, int ninputs, const StageOptions *opt)
{
    Plan plan;
    char err[512];
    if (plan_read(&plan, plan_path, err, sizeof err) != 0) {
        fprintf(stderr, "maprun: %s: %s\n", plan_path, err);
        return -1;
    }
    Run r = {0};
    r.plan = &plan;
    r.rule_emitted = calloc(plan.nrules + 1, sizeof(unsigned long long));
    r.rule_quarantined = calloc(plan.nrules + 1, sizeof(unsigned long long));
    r.rule_json = calloc(plan.nrules + 1, sizeof(char *));
    r.bloom = sr_big_alloc(BLOOM_BITS / 8);
    if (r.bloom)
        memset(r.bloom, 0, BLOOM_BITS / 8);
    r.refs = sr_new(dir, "refs", (size_t)8 << 20);
    for (uint32_t i = 0; i < plan.nrules; i++)
        r.rule_json[i] = jb_quote(plan_s(&plan, plan.rules[i].name));
    int rc = -1;
    if (!(r.mapper = mapper_new(&plan, err, sizeof err)) || stage_open(&r.st, dir, true, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        goto done;
    }
    if (stage_clear(r.st) < 0 || keep_plan(&r, &plan) < 0)
        goto lmdb;
    double start = now();
    rc = 0;
    jsonmem_begin();
    rc = stage_inputs(&r, inputs, ninputs, opt, start);
    if (stage_finish(r.st) < 0)
        goto lmdb;
    if (write_refs(&r) < 0) {
        fprintf(stderr, "maprun: cannot write the references (run files in %s)\n", dir);
        rc = -1;
    }
    write_summary(&r);
    if (stage_commit(r.st) < 0)
        goto lmdb;
    if (opt->progress)
        fputc('\n', stderr);
    progress(&r, start, true);
    goto done;
lmdb:
    fprintf(stderr, "maprun: %s\n", stage_error(r.st));
    rc = -1;
done:
    run_free(&r);
    jsonmem_end();
    plan_free(&plan);
    return rc;
}

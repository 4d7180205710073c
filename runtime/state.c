/*
** state: helpers shared by the commands that work on a staged state.
*/
#include "state.h"
#include "jsonbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

StateKey state_key(const char *object, const char *key)
{
    size_t lo = strlen(object), lk = strlen(key);
    StateKey k = {malloc(lo + lk + 2), lo + 1 + lk};
    memcpy(k.s, object, lo + 1);
    memcpy(k.s + lo + 1, key, lk + 1);
    return k;
}

const char *state_key_part(const void *k, size_t klen, size_t *n)
{
    const char *s = k;
    size_t lo = strnlen(s, klen);
    *n = lo < klen ? klen - lo - 1 : 0;
    return s + (lo < klen ? lo + 1 : klen);
}

cJSON *state_get_json(Stage *st, StageDb db, const void *key, size_t klen)
{
    const void *v;
    size_t vl;
    return stage_get(st, db, key, klen, &v, &vl) == 1 ? cJSON_ParseWithLength(v, vl) : NULL;
}

int state_put_json(Stage *st, StageDb db, const void *key, size_t klen, const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    int rc = stage_put(st, db, key, klen, text, strlen(text));
    free(text);
    return rc;
}

const char *state_key_field(const Plan *p, uint32_t oi)
{
    for (uint32_t r = 0; r < p->nrules; r++) {
        const PlanRule *rule = &p->rules[r];
        if (rule->target == PT_OBJECT && rule->object == oi && rule->nslots > 0)
            return plan_s(p, p->slots[rule->first_slot].name);
    }
    return NULL;
}

const PlanField *state_field(const Plan *p, uint32_t oi, const char *name)
{
    const PlanObject *o = &p->objects[oi];
    for (uint32_t i = 0; i < o->nfields; i++)
        if (strcmp(plan_s(p, p->fields[o->first_field + i].name), name) == 0)
            return &p->fields[o->first_field + i];
    return NULL;
}

const char *state_ref_target(Stage *st, const cJSON *ref)
{
    const cJSON *objs = cJSON_GetObjectItemCaseSensitive(ref, "$ref"), *o;
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(ref, "key");
    if (!cJSON_IsArray(objs) || !cJSON_IsString(key))
        return NULL;
    cJSON_ArrayForEach(o, objs) {
        StateKey k = state_key(o->valuestring, key->valuestring);
        int found = stage_has(st, DB_RECORDS, k.s, k.len);
        free(k.s);
        if (found == 1)
            return o->valuestring;
    }
    return NULL;
}

static int same_org(Stage *st, const char *org)
{
    const void *v;
    size_t vl;
    int found = stage_get(st, DB_META, "org", 3, &v, &vl);
    if (found == 1 && (vl != strlen(org) || memcmp(v, org, vl) != 0)) {
        fprintf(stderr, "maprun: this state belongs to Salesforce org %.*s, and SF_LOGIN_URL leads to org %s:\n"
                        "        use a new state directory for another org (stage the same input into it)\n",
                (int)vl, (const char *)v, org);
        return -1;
    }
    if (found == 0 && *org && (stage_put(st, DB_META, "org", 3, org, strlen(org)) < 0 || stage_commit(st) < 0)) {
        fprintf(stderr, "maprun: cannot write the state: %s\n", stage_error(st));
        return -1;
    }
    return 0;
}

int state_connect(SfClient **out, Stage *st, FILE *log)
{
    SfConfig cfg;
    char err[512];
    *out = NULL;
    if (sf_config_from_env(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        return -1;
    }
    cfg.log = log;
    SfClient *c = sf_new(&cfg);
    SfError e;
    if (sf_auth(c, &e) < 0) {
        sf_error_text(&e, err, sizeof err);
        fprintf(stderr, "maprun: cannot authenticate: %s\n", err);
        sf_free(c);
        return -1;
    }
    if (st && same_org(st, sf_org_id(c)) < 0) {
        sf_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void state_soql_select(JBuf *q, const cJSON *names, const char *obj, const char *where_field)
{
    const cJSON *n;
    jb_cstr(q, "SELECT ");
    cJSON_ArrayForEach(n, names) {
        jb_cstr(q, n->valuestring);
        if (n->next)
            jb_cstr(q, ", ");
    }
    jb_cstr(q, " FROM ");
    jb_cstr(q, obj);
    jb_cstr(q, " WHERE ");
    jb_cstr(q, where_field);
}

void state_soql_quote(JBuf *q, const char *v)
{
    jb_raw(q, "'", 1);
    for (; *v; v++) {
        if (*v == '\'' || *v == '\\')
            jb_raw(q, "\\", 1);
        jb_raw(q, v, 1);
    }
    jb_raw(q, "'", 1);
}

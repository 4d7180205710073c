/*
** mapper: running a record's kind through the VM, validating what the
** rules produce, and deciding the record's outcome.
**
** Quarantine codes (stable; `maprun status` counts by them):
**   quarantine        a rule's `else quarantine "…"` or a split's quarantine branch
**   type-error        the data did not fit an operation (message says which)
**   null-key          an object rule's upsert key was null
**   required-missing  a required field is null or not set
**   too-long          a text value is longer than its field
**   bad-picklist      a value is not in a restricted picklist
**   bad-email         an email field's value is not an address
**   bad-value         a value of the wrong kind for its field (a list into a date…)
**   no-rule           no split or rule took the record
*/
#include "mapper.h"
#include "jsonbuf.h"
#include "sftype.h"
#include "utf8.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct Mapper {
    const Plan *plan;
    Vm *vm;
    MapKind *kinds;
    uint32_t nkinds;
    MapEmit emits[64];
    char **slot_keys;        /* per plan slot: its name as a JSON key, `"Name":` */
    size_t *slot_key_lens;   /* and their lengths */
    cJSON **picklists;       /* per plan field: the allowed values, parsed once (or NULL) */
    JBuf out;                /* the record being serialised */
    char msg[512];
};

static MapKind *kind_for(Mapper *m, const char *name)
{
    for (uint32_t i = 0; i < m->nkinds; i++)
        if (strcmp(m->kinds[i].name, name) == 0)
            return &m->kinds[i];
    m->kinds = realloc(m->kinds, sizeof(MapKind) * (m->nkinds + 1));
    MapKind *k = &m->kinds[m->nkinds++];
    memset(k, 0, sizeof *k);
    k->name = name;
    return k;
}

static void push(uint32_t **v, uint32_t *n, uint32_t x)
{
    *v = realloc(*v, sizeof(uint32_t) * (*n + 1));
    (*v)[(*n)++] = x;
}

Mapper *mapper_new(const Plan *plan, char *err, size_t errlen)
{
    Mapper *m = calloc(1, sizeof *m);
    m->plan = plan;
    m->vm = vm_new(plan, err, errlen);
    if (!m->vm) {
        free(m);
        return NULL;
    }
    for (uint32_t i = 0; i < plan->nrules; i++) {
        const PlanRule *r = &plan->rules[i];
        MapKind *k = kind_for(m, plan_s(plan, r->kind));
        if (!(r->flags & PR_SPLIT_MEMBER))
            push(&k->rules, &k->nrules, i);
    }
    for (uint32_t i = 0; i < plan->nsplits; i++) {
        MapKind *k = kind_for(m, plan_s(plan, plan->splits[i].kind));
        push(&k->splits, &k->nsplits, i);
    }
    m->slot_keys = calloc(plan->nslots + 1, sizeof(char *));
    m->slot_key_lens = calloc(plan->nslots + 1, sizeof(size_t));
    for (uint32_t i = 0; i < plan->nslots; i++) {
        JBuf b = {0};
        const char *name = plan_s(plan, plan->slots[i].name);
        jb_string(&b, name, strlen(name));
        jb_raw(&b, ":", 1);
        m->slot_keys[i] = b.s;
        m->slot_key_lens[i] = b.len;
    }
    m->picklists = calloc(plan->nfields + 1, sizeof(cJSON *));
    for (uint32_t i = 0; i < plan->nfields; i++)
        if (plan->fields[i].picklist != PLAN_NONE)
            m->picklists[i] = cJSON_Parse(plan_s(plan, plan->fields[i].picklist));
    return m;
}

void mapper_free(Mapper *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->nkinds; i++) {
        free(m->kinds[i].rules);
        free(m->kinds[i].splits);
    }
    free(m->kinds);
    for (uint32_t i = 0; i < m->plan->nslots; i++)
        free(m->slot_keys[i]);
    free(m->slot_keys);
    free(m->slot_key_lens);
    for (uint32_t i = 0; i < m->plan->nfields; i++)
        cJSON_Delete(m->picklists[i]);
    free(m->picklists);
    jb_free(&m->out);
    vm_free(m->vm);
    free(m);
}

const MapKind *mapper_kind(const Mapper *m, const char *kind)
{
    for (uint32_t i = 0; i < m->nkinds; i++)
        if (strcmp(m->kinds[i].name, kind) == 0)
            return &m->kinds[i];
    return NULL;
}

const Plan *mapper_plan(const Mapper *m)
{
    return m->plan;
}

void mapper_release(Mapper *m)
{
    arena_reset(m->vm->arena);
}

/* ---- validation of one field value */

static bool email_ok(const char *s)
{
    const char *at = strrchr(s, '@');
    if (!at || at == s || !at[1] || strchr(s, '@') != at || strpbrk(s, " \t\r\n,;<>\"()[]\\"))
        return false;
    const char *dot = strrchr(at, '.');
    return dot && dot > at + 1 && dot[1];
}

static bool in_picklist(const cJSON *list, const char *v, bool multi)
{
    if (!multi) {                           /* one value: compared where it is, no copy */
        const cJSON *it;
        cJSON_ArrayForEach(it, list)
            if (cJSON_IsString(it) && strcmp(it->valuestring, v) == 0)
                return true;
        return false;
    }
    bool ok = true;
    char *copy = strdup(v), *save = NULL;
    for (char *part = multi ? strtok_r(copy, ";", &save) : copy; part && ok;
         part = multi ? strtok_r(NULL, ";", &save) : NULL) {
        bool found = false;
        const cJSON *it;
        cJSON_ArrayForEach(it, list)
            found |= cJSON_IsString(it) && strcmp(it->valuestring, part) == 0;
        ok = found;
    }
    free(copy);
    return ok;
}

/* Is v acceptable for field f?  Sets code and message when not. */
static bool check_value(Mapper *m, const PlanField *f, const Value *v, const char **code)
{
    const Plan *p = m->plan;
    const char *name = plan_s(p, f->name);
    if (v->k == V_NULL) {
        if (f->flags & PF_REQUIRED) {
            *code = "required-missing";
            snprintf(m->msg, sizeof m->msg, "%s is required and the value is null", name);
            return false;
        }
        return true;
    }
    bool text = f->type <= SF_ID || f->type == SF_BASE64;
    bool fits = text ? (v->k == V_STR || v->k == V_NUM || v->k == V_BOOL)
              : f->type == SF_BOOLEAN ? v->k == V_BOOL
              : f->type == SF_DATE ? v->k == V_DATE || v->k == V_STR
              : f->type == SF_DATETIME ? v->k == V_DATETIME || v->k == V_STR
              : f->type == SF_REFERENCE ? v->k == V_REF || v->k == V_STR
              : f->type >= SF_DOUBLE && f->type <= SF_PERCENT ? v->k == V_NUM : false;
    if (!fits) {
        *code = "bad-value";
        snprintf(m->msg, sizeof m->msg, "%s is a %s field and the value does not fit it", name, sftype_name(f->type));
        return false;
    }
    if (v->k != V_STR || !text)
        return true;
    if (f->length && utf8_count(v->u.s.p, v->u.s.len) > f->length) {
        *code = "too-long";
        snprintf(m->msg, sizeof m->msg, "%s holds %u characters and the value has %zu", name, f->length,
                 utf8_count(v->u.s.p, v->u.s.len));
        return false;
    }
    const cJSON *allowed = m->picklists[f - p->fields];
    if ((f->flags & PF_RESTRICTED) && allowed && !in_picklist(allowed, v->u.s.p, f->type == SF_MULTIPICKLIST)) {
        *code = "bad-picklist";
        snprintf(m->msg, sizeof m->msg, "'%.100s' is not a value of the restricted picklist %s", v->u.s.p, name);
        return false;
    }
    if (f->type == SF_EMAIL && !email_ok(v->u.s.p)) {
        *code = "bad-email";
        snprintf(m->msg, sizeof m->msg, "%s: '%.100s' is not an email address", name, v->u.s.p);
        return false;
    }
    return true;
}

/* ---- serialising a rule's output */

void mapper_ref_json(const Mapper *m, uint32_t desc, const char *key, size_t keylen, JBuf *b)
{
    const PlanRef *r = &m->plan->refs[desc];
    const char *field = plan_s(m->plan, r->field);
    jb_raw(b, "{\"$ref\":", 8);
    jb_cstr(b, plan_s(m->plan, r->objects));
    jb_raw(b, ",\"field\":", 9);
    jb_string(b, field, strlen(field));
    jb_raw(b, ",\"key\":", 7);
    jb_string(b, key, keylen);
    jb_cstr(b, r->existing ? ",\"existing\":true}" : "}");
}

static void put_value(Mapper *m, JBuf *b, const Value *v)
{
    if (v->k != V_REF)
        jb_value(b, v, m->vm->arena);
    else
        mapper_ref_json(m, v->u.ref.desc, v->u.ref.key, strlen(v->u.ref.key), b);
}

/*
** Validate and serialise the slots of rule r.  Object rules check each set
** field and the required ones that were never set; entries keep any value.
*/
static bool build(Mapper *m, uint32_t ri, MapEmit *e, const char **code)
{
    const Plan *p = m->plan;
    const PlanRule *r = &p->rules[ri];
    Vm *vm = m->vm;
    JBuf *o = &m->out;
    MapRef found[PLAN_MAX_LOCALS];
    uint32_t nfound = 0;
    jb_reset(o);
    jb_raw(o, "{", 1);
    bool first = true, ok = true;
    for (uint32_t s = 0; s < r->nslots && ok; s++) {
        const PlanSlot *slot = &p->slots[r->first_slot + s];
        if (!vm->set[s])
            continue;
        if (slot->field != PLAN_NONE)
            ok = check_value(m, &p->fields[slot->field], &vm->slots[s], code);
        if (!first)
            jb_raw(o, ",", 1);
        first = false;
        jb_raw(o, m->slot_keys[r->first_slot + s], m->slot_key_lens[r->first_slot + s]);
        put_value(m, o, &vm->slots[s]);
        if (vm->slots[s].k == V_REF) {
            found[nfound].field = plan_s(p, slot->name);
            found[nfound].desc = vm->slots[s].u.ref.desc;
            found[nfound++].key = vm->slots[s].u.ref.key;
        }
    }
    jb_raw(o, "}", 1);
    if (ok && r->target == PT_OBJECT) {
        const PlanObject *obj = &p->objects[r->object];
        for (uint32_t i = 0; i < obj->nfields && ok; i++) {
            const PlanField *f = &p->fields[obj->first_field + i];
            if (!(f->flags & PF_REQUIRED))
                continue;                /* only a required field is looked for among the slots */
            bool set = false;
            for (uint32_t s = 0; s < r->nslots && !set; s++)
                set = vm->set[s] && p->slots[r->first_slot + s].field == obj->first_field + i;
            if (!set) {
                *code = "required-missing";
                snprintf(m->msg, sizeof m->msg, "%s is required and the rule does not set it", plan_s(p, f->name));
                ok = false;
            }
        }
    }
    e->rule = ri;
    e->json = ok ? arena_strndup(vm->arena, o->s, o->len) : NULL;
    e->json_len = ok ? o->len : 0;
    e->nrefs = ok ? nfound : 0;
    e->refs = NULL;
    if (e->nrefs) {
        MapRef *copy = arena_alloc(vm->arena, sizeof(MapRef) * nfound);
        memcpy(copy, found, sizeof(MapRef) * nfound);
        e->refs = copy;
    }
    e->key = NULL;
    if (ok && r->target == PT_OBJECT) {
        Value k = vm->set[0] ? vm->slots[0] : val_null();
        if (k.k == V_NULL) {
            *code = "null-key";
            snprintf(m->msg, sizeof m->msg, "the upsert key %s is null", plan_s(p, p->slots[r->first_slot].name));
            ok = false;
        } else {
            e->key = val_to_str(vm->arena, k).u.s.p;
        }
    }
    return ok;
}

/* ---- one record */

static void quarantine(Mapper *m, MapResult *res, const char *code, const char *message, uint32_t rule, uint32_t pc)
{
    const char *file;
    uint32_t line, col;
    plan_span_of(m->plan, pc, &file, &line, &col);
    res->outcome = MO_QUARANTINED;
    res->code = code;
    res->message = message;
    res->rule = rule;
    res->at = NULL;
    if (line) {
        char *at = arena_alloc(m->vm->arena, strlen(file) + 32);
        sprintf(at, "%s:%u:%u", file, line, col);
        res->at = at;
    }
    res->nemits = 0;
}

/* Run rule ri; false when the record is quarantined. */
static bool run_rule(Mapper *m, uint32_t ri, const cJSON *record, MapResult *res, bool *excluded)
{
    const PlanRule *r = &m->plan->rules[ri];
    VmResult vr = vm_run(m->vm, r->pc, r->nslots, record);
    if (vr == VM_NOT_APPLIED)
        return true;
    if (vr == VM_QUARANTINE || vr == VM_ERROR) {
        quarantine(m, res, vr == VM_ERROR ? "type-error" : "quarantine", m->vm->reason, ri, m->vm->pc);
        return false;
    }
    const char *code = NULL;
    MapEmit e;
    if (!build(m, ri, &e, &code)) {
        quarantine(m, res, code, arena_strndup(m->vm->arena, m->msg, strlen(m->msg)), ri, r->pc);
        return false;
    }
    if (r->target == PT_EXCLUDE) {
        if (!*excluded) {
            res->reason = plan_s(m->plan, r->section);
            res->rule = ri;
        }
        *excluded = true;
    }
    if (res->nemits < sizeof m->emits / sizeof m->emits[0])
        m->emits[res->nemits++] = e;
    return true;
}

void mapper_run(Mapper *m, const MapKind *k, const cJSON *record, MapResult *res)
{
    memset(res, 0, sizeof *res);
    res->emits = m->emits;
    res->rule = PLAN_NONE;
    vm_begin_record(m->vm);
    bool excluded = false, decided = false;
    for (uint32_t i = 0; k && i < k->nsplits; i++) {
        const PlanSplit *sp = &m->plan->splits[k->splits[i]];
        VmResult vr = vm_run(m->vm, sp->pc, 0, record);
        decided = true;
        if (vr == VM_QUARANTINE || vr == VM_ERROR) {
            quarantine(m, res, vr == VM_ERROR ? "type-error" : "quarantine", m->vm->reason, PLAN_NONE, m->vm->pc);
            return;
        }
        if (vr == VM_SKIP) {
            excluded = true;
            res->reason = m->vm->reason;
        } else if (vr == VM_ROUTE && !run_rule(m, m->vm->route, record, res, &excluded)) {
            return;
        }
    }
    for (uint32_t i = 0; k && i < k->nrules; i++)
        if (!run_rule(m, k->rules[i], record, res, &excluded))
            return;
    bool produced = false;
    for (uint32_t i = 0; i < res->nemits; i++)
        produced |= m->plan->rules[res->emits[i].rule].target != PT_EXCLUDE;
    if (produced)
        res->outcome = MO_OUTPUT;
    else if (excluded)
        res->outcome = MO_EXCLUDED;
    else
        quarantine(m, res, "no-rule", decided ? "no rule produced anything for this record"
                                              : "no rule or split reads this kind of record", PLAN_NONE, 0);
}

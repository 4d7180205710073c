/*
** verify: a plan is checked completely before it runs, so the VM can trust
** every index and jump without checking it again on the hot path.
**
** Tables: every string, constant, field, object, slot, rule and ref index is
** in range.  Code: every opcode exists, every operand is in range for its
** kind, and an abstract interpretation from each entry point (rules and
** splits) proves that the stack never underflows or exceeds PLAN_MAX_STACK,
** that every path ends in a terminator, and that paths meeting at a pc agree
** on the stack depth.
*/
#include "plan.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const builtin_args[] = {
#define BUILTIN(id, name, args, ret, flags, doc) args,
#include "builtins.def"
#undef BUILTIN
};
#define NBUILTINS (sizeof builtin_args / sizeof builtin_args[0])


#define CHECK(cond, ...) do { if (!(cond)) { snprintf(err, errlen, __VA_ARGS__); return -1; } } while (0)

static bool str_ok(const Plan *p, uint32_t s, bool optional)
{
    return s < p->nstrs || (optional && s == PLAN_NONE);
}

static int verify_tables(const Plan *p, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < p->nconsts; i++) {
        const PlanConst *c = &p->consts[i];
        CHECK(c->kind <= PC_JSON, "constant %u has an unknown kind", i);
        CHECK(c->kind < PC_STR || c->str < p->nstrs, "constant %u names a missing string", i);
    }
    for (uint32_t i = 0; i < p->nfields; i++) {
        const PlanField *f = &p->fields[i];
        CHECK(str_ok(p, f->name, false) && str_ok(p, f->picklist, true) && str_ok(p, f->refto, true)
              && str_ok(p, f->relname, true) && str_ok(p, f->description, true) && str_ok(p, f->mdtype, true),
              "field %u names a missing string", i);
    }
    for (uint32_t i = 0; i < p->nobjects; i++) {
        const PlanObject *o = &p->objects[i];
        CHECK(str_ok(p, o->name, false), "object %u names a missing string", i);
        CHECK(o->first_field <= p->nfields && o->nfields <= p->nfields - o->first_field,
              "object %u has fields out of range", i);
    }
    uint8_t *seen = calloc((size_t)p->nobjects + 1, 1);
    for (uint32_t i = 0; i < p->nobjects; i++) {
        uint32_t o = p->load_order[i];
        if (o >= p->nobjects || seen[o]) {
            free(seen);
            CHECK(0, "the load order is not a permutation of the objects");
        }
        seen[o] = 1;
    }
    free(seen);
    for (uint32_t i = 0; i < p->nslots; i++)
        CHECK(str_ok(p, p->slots[i].name, false) && (p->slots[i].field < p->nfields || p->slots[i].field == PLAN_NONE),
              "slot %u is out of range", i);
    for (uint32_t i = 0; i < p->nrules; i++) {
        const PlanRule *r = &p->rules[i];
        CHECK(str_ok(p, r->name, false) && str_ok(p, r->kind, false) && str_ok(p, r->section, true),
              "rule %u names a missing string", i);
        CHECK(r->target <= PT_EXCLUDE && r->merge <= PM_FILL, "rule %u has an unknown target or merge", i);
        CHECK(r->target != PT_OBJECT || r->object < p->nobjects, "rule %u writes a missing object", i);
        CHECK(r->pc < p->ncode, "rule %u starts outside the code", i);
        CHECK(r->first_slot <= p->nslots && r->nslots <= p->nslots - r->first_slot, "rule %u has slots out of range", i);
        CHECK(r->nslots <= PLAN_MAX_LOCALS, "rule %u has too many slots", i);
    }
    for (uint32_t i = 0; i < p->nsplits; i++)
        CHECK(str_ok(p, p->splits[i].kind, false) && p->splits[i].pc < p->ncode, "split %u is out of range", i);
    for (uint32_t i = 0; i < p->nrefs; i++)
        CHECK(str_ok(p, p->refs[i].objects, false) && str_ok(p, p->refs[i].field, false), "ref %u is out of range", i);
    for (uint32_t i = 0; i < p->nspans; i++)
        CHECK(str_ok(p, p->spans[i].file, false) && (i == 0 || p->spans[i - 1].pc <= p->spans[i].pc),
              "span table is corrupt");
    for (uint32_t i = 0; i < p->nnotes; i++) {
        const PlanNote *n = &p->notes[i];
        CHECK(n->target >= PT_INVENTORY && n->target <= PT_EXCLUDE && str_ok(p, n->section, false)
              && str_ok(p, n->text, false), "description %u is out of range", i);
    }
    CHECK(str_ok(p, p->migration, true), "the migration title is missing");
    CHECK(str_ok(p, p->api_version, true), "the API version is missing");
    return 0;
}

/* Check one instruction's operand; nslots is the rule's (0 in a split). */
static int verify_operand(const Plan *p, uint32_t pc, uint32_t nslots, char *err, size_t errlen)
{
    uint32_t w = p->code[pc], a = INSTR_A(w);
    const OpInfo *oi = op_info(INSTR_OP(w));
    CHECK(oi, "pc %u: unknown opcode %u", pc, INSTR_OP(w));
    switch (oi->arg) {
    case ARG_NONE: CHECK(a == 0, "pc %u: %s takes no operand", pc, oi->name); break;
    case ARG_CONST: CHECK(a < p->nconsts, "pc %u: constant %u out of range", pc, a); break;
    case ARG_FLAT:
        CHECK(a < p->nconsts && p->consts[a].kind == PC_JSON, "pc %u: bad flatten descriptor", pc);
        break;
    case ARG_JUMP: CHECK(a < p->ncode, "pc %u: jump to %u outside the code", pc, a); break;
    case ARG_LOCAL: CHECK(a < PLAN_MAX_LOCALS, "pc %u: local %u out of range", pc, a); break;
    case ARG_SLOT: CHECK(a < nslots, "pc %u: slot %u out of range", pc, a); break;
    case ARG_STR: CHECK(a < p->nstrs, "pc %u: string %u out of range", pc, a); break;
    case ARG_REF: CHECK(a < p->nrefs, "pc %u: ref %u out of range", pc, a); break;
    case ARG_RULE: CHECK(a < p->nrules, "pc %u: rule %u out of range", pc, a); break;
    case ARG_COUNT: CHECK(a <= PLAN_MAX_STACK, "pc %u: count %u too large", pc, a); break;
    case ARG_MEMO: CHECK(a < PLAN_MAX_MEMOS, "pc %u: memo %u out of range", pc, a); break;
    case ARG_CALL:
        CHECK((a >> 8) < NBUILTINS, "pc %u: unknown builtin %u", pc, a >> 8);
        CHECK((a & 255) == strlen(builtin_args[a >> 8]), "pc %u: wrong argument count for a builtin", pc);
        break;
    }
    return 0;
}


static bool terminates(Opcode op)
{
    return op == OP_EMIT || op == OP_QUARANTINE || op == OP_SKIP || op == OP_ROUTE;
}

typedef struct Walk {
    int *depth;        /* per pc: stack depth on entry, -1 unseen */
    uint32_t *todo;
    uint32_t ntodo;
} Walk;

static int reach(Walk *wk, uint32_t pc, int depth, const Plan *p, char *err, size_t errlen)
{
    CHECK(pc < p->ncode, "a path runs off the end of the code");
    CHECK(depth >= 0 && depth <= PLAN_MAX_STACK, "pc %u: stack depth %d out of range", pc, depth);
    if (wk->depth[pc] == depth)
        return 0;
    CHECK(wk->depth[pc] < 0, "pc %u: paths arrive with different stack depths", pc);
    wk->depth[pc] = depth;
    wk->todo[wk->ntodo++] = pc;
    return 0;
}

/* How many keys an OBJECT's key list (a JSON array of strings) holds. */
static int object_keys(const Plan *p, uint32_t a)
{
    const char *json = plan_s(p, p->consts[a].str);
    int n = 0, depth = 0;
    bool in_str = false;
    for (const char *s = json; *s; s++) {          /* count top-level elements of ["k1","k2"] */
        if (in_str) {
            if (*s == '\\' && s[1])
                s++;
            else if (*s == '"')
                in_str = false;
            continue;
        }
        if (*s == '"') {
            in_str = true;
            if (depth == 1)
                n++;
        } else if (*s == '[' || *s == '{') {
            depth++;
        } else if (*s == ']' || *s == '}') {
            depth--;
        }
    }
    return n;
}

static int walk_step(Walk *wk, const Plan *p, uint32_t pc, uint32_t nslots, char *err, size_t errlen)
{
    if (verify_operand(p, pc, nslots, err, errlen) < 0)
        return -1;
    uint32_t w = p->code[pc];
    Opcode op = INSTR_OP(w);
    const OpInfo *oi = op_info(op);
    int d = wk->depth[pc];
    int pop = oi->pop;
    if (op == OP_CALL)
        pop = (int)(INSTR_A(w) & 255);
    else if (op == OP_LIST)
        pop = (int)INSTR_A(w);
    else if (op == OP_OBJECT) {
        CHECK(p->consts[INSTR_A(w)].kind == PC_JSON, "pc %u: OBJECT needs a key list", pc);
        pop = object_keys(p, INSTR_A(w));
    }
    CHECK(d >= pop, "pc %u: %s needs %d values, the stack holds %d", pc, oi->name, pop, d);
    int after = d - pop + oi->push;
    if (terminates(op))
        return 0;
    if (op == OP_JUMP)
        return reach(wk, INSTR_A(w), after, p, err, errlen);
    if (op == OP_JFALSE && reach(wk, INSTR_A(w), after, p, err, errlen) < 0)
        return -1;
    if (op == OP_JNOTNULL) {               /* jump keeps the value; fall-through drops it */
        if (reach(wk, INSTR_A(w), d, p, err, errlen) < 0)
            return -1;
        after = d - 1;
    }
    if (op == OP_MEMO) {                   /* remembered: push it, go on to the JUMP; else skip it */
        CHECK(pc + 2 < p->ncode, "pc %u: MEMO at the end of the code", pc);
        if (reach(wk, pc + 1, d + 1, p, err, errlen) < 0)
            return -1;
        return reach(wk, pc + 2, d, p, err, errlen);
    }
    if (op == OP_JFAIL && reach(wk, INSTR_A(w), d - 1, p, err, errlen) < 0)
        return -1;
    return reach(wk, pc + 1, after, p, err, errlen);
}

static int verify_entry(const Plan *p, uint32_t entry, uint32_t nslots, char *err, size_t errlen)
{
    Walk wk;
    wk.depth = malloc(sizeof(int) * ((size_t)p->ncode + 1));
    wk.todo = malloc(sizeof(uint32_t) * ((size_t)p->ncode + 1));
    wk.ntodo = 0;
    for (uint32_t i = 0; i < p->ncode; i++)
        wk.depth[i] = -1;
    int rc = reach(&wk, entry, 0, p, err, errlen);
    while (rc == 0 && wk.ntodo > 0)
        rc = walk_step(&wk, p, wk.todo[--wk.ntodo], nslots, err, errlen);
    free(wk.depth);
    free(wk.todo);
    return rc;
}

int plan_verify(const Plan *p, char *err, size_t errlen)
{
    if (verify_tables(p, err, errlen) < 0)
        return -1;
    for (uint32_t i = 0; i < p->nrules; i++)
        if (verify_entry(p, p->rules[i].pc, p->rules[i].nslots, err, errlen) < 0)
            return -1;
    for (uint32_t i = 0; i < p->nsplits; i++)
        if (verify_entry(p, p->splits[i].pc, 0, err, errlen) < 0)
            return -1;
    return 0;
}

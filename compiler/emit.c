/*
** emit: code generation.  Each rule becomes one block of code that ends in
** EMIT (or stops early at WHEN, QUARANTINE); each split becomes a block that
** ends in ROUTE, SKIP or QUARANTINE.  User fns are inlined: their arguments
** go to fresh local slots and the body is compiled with the parameters bound
** to them.  Constant lists and objects become JSON constants.
*/
#include "emit.h"
#include "builtin_info.h"
#include "graph.h"
#include "sema.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Binding {
    const char *name;
    uint32_t local;
} Binding;

typedef struct Emitter {
    const Program *prog;
    const Schema *schema;
    Plan *p;
    Binding binds[64];
    int nbinds;
    int frame;                /* bindings below this index are not visible */
    uint32_t next_local;
    PtrVec slot_names;        /* its output slot names, in slot order */
    PtrVec memos;             /* memo slot i remembers the fn call memos.v[i] names */
} Emitter;

static void expr(Emitter *e, const Node *n);

/* ---- spans */

static void mark(Emitter *e, Span at)
{
    const SrcFile *f = srcloc_file(at.file);
    if (!f)
        return;
    int line, col;
    srcloc_linecol(at.file, at.start, &line, &col);
    Plan *p = e->p;
    if (p->nspans && p->spans[p->nspans - 1].pc == p->ncode)
        p->nspans--;                     /* a later mark at the same pc wins */
    if ((p->nspans & (p->nspans - 1)) == 0)
        p->spans = xrealloc(p->spans, sizeof(PlanSpan) * (p->nspans ? p->nspans * 2 : 1));
    p->spans[p->nspans++] = (PlanSpan){p->ncode, plan_str(p, f->name), (uint32_t)line, (uint32_t)col};
}

/* ---- constants */

static const Decl *find(const Emitter *e, DeclKind k, const char *name)
{
    for (int i = 0; i < e->prog->ndecls; i++) {
        const Decl *d = e->prog->decls[i];
        if (d->kind == k && d->name && strcmp(d->name, name) == 0)
            return d;
    }
    return NULL;
}

static bool bound(const Emitter *e, const char *name, uint32_t *local)
{
    for (int i = e->nbinds - 1; i >= e->frame; i--)
        if (strcmp(e->binds[i].name, name) == 0) {
            *local = e->binds[i].local;
            return true;
        }
    return false;
}

static void json_number(Buf *b, double v)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.17g", v);
    buf_puts(b, tmp);
}

/* Append n as JSON when it is a constant; false when it is not. */
static bool const_json(const Emitter *e, const Node *n, Buf *b)
{
    uint32_t local;
    switch (n->kind) {
    case N_STR: buf_json_string(b, n->str); return true;
    case N_NUM: json_number(b, n->num); return true;
    case N_BOOL: buf_puts(b, n->flag ? "true" : "false"); return true;
    case N_NULL: buf_puts(b, "null"); return true;
    case N_NEG:
        if (n->kids[0]->kind != N_NUM)
            return false;
        json_number(b, -n->kids[0]->num);
        return true;
    case N_NAME: {
        if (bound(e, n->str, &local))
            return false;
        const Decl *c = find(e, DECL_CONST, n->str);
        return c && c->expr && const_json(e, c->expr, b);
    }
    case N_LIST:
    case N_OBJ:
        buf_puts(b, n->kind == N_LIST ? "[" : "{");
        for (int i = 0; i < n->nkids; i++) {
            if (i)
                buf_puts(b, ",");
            const Node *v = n->kids[i];
            if (n->kind == N_OBJ) {
                buf_json_string(b, v->str);
                buf_puts(b, ":");
                v = v->kids[0];
            }
            if (!const_json(e, v, b))
                return false;
        }
        buf_puts(b, n->kind == N_LIST ? "]" : "}");
        return true;
    default:
        return false;
    }
}

static uint32_t json_const(Emitter *e, const char *json)
{
    return plan_const(e->p, (PlanConst){PC_JSON, 0, plan_str(e->p, json)});
}

/* Emit a constant expression as one CONST; false when it is not constant. */
static bool emit_const(Emitter *e, const Node *n)
{
    Plan *p = e->p;
    switch (n->kind) {
    case N_STR: plan_emit(p, OP_CONST, plan_const(p, (PlanConst){PC_STR, 0, plan_str(p, n->str)})); return true;
    case N_NUM: plan_emit(p, OP_CONST, plan_const(p, (PlanConst){PC_NUM, n->num, 0})); return true;
    case N_BOOL: plan_emit(p, OP_CONST, plan_const(p, (PlanConst){PC_BOOL, n->flag, 0})); return true;
    case N_NULL: plan_emit(p, OP_NULL, 0); return true;
    case N_LIST:
    case N_OBJ: {
        Buf b = {0};
        bool ok = const_json(e, n, &b);
        if (ok)
            plan_emit(p, OP_CONST, json_const(e, b.s));
        buf_free(&b);
        return ok;
    }
    default:
        return false;
    }
}

/* ---- control flow helpers */

static uint32_t jump(Emitter *e, Opcode op)
{
    return plan_emit(e->p, op, 0);
}

static void patch(Emitter *e, uint32_t at)
{
    e->p->code[at] = INSTR(INSTR_OP(e->p->code[at]), e->p->ncode);
}

/* ---- expressions */

static void path(Emitter *e, const Node *n)
{
    if (n->kids[0])
        expr(e, n->kids[0]);
    else
        plan_emit(e->p, OP_RECORD, 0);
    for (int i = 1; i < n->nkids; i++) {
        const Node *seg = n->kids[i];
        if (seg->kind == N_SEG_FIELD) {
            plan_emit(e->p, OP_GET, plan_str(e->p, seg->str));
        } else if (seg->kids[0]->kind == N_STR) {
            plan_emit(e->p, OP_GET, plan_str(e->p, seg->kids[0]->str));
        } else {
            expr(e, seg->kids[0]);
            plan_emit(e->p, OP_INDEX, 0);
        }
    }
}

static void call_if(Emitter *e, const Node *n)
{
    expr(e, n->kids[0]);
    uint32_t to_else = jump(e, OP_JFALSE);
    expr(e, n->kids[1]);
    uint32_t to_end = jump(e, OP_JUMP);
    patch(e, to_else);
    expr(e, n->kids[2]);
    patch(e, to_end);
}

/*
** A call of a user fn whose arguments are the record (`.`) and constants, one of them the
** record, gives the same value in every rule of a record (fns are pure): it gets a memo
** slot, named by the fn and its arguments, shared by all the plan's calls that match.
** PLAN_NONE: the call is not remembered.
*/
static uint32_t memo_slot(Emitter *e, const Node *n)
{
    Buf b = {0};
    bool record = false, ok = true;
    buf_puts(&b, n->str);
    for (int i = 0; ok && i < n->nkids; i++) {
        const Node *a = n->kids[i];
        buf_puts(&b, i ? "," : "(");
        if (a->kind == N_PATH && a->nkids == 1 && !a->kids[0]) {
            buf_puts(&b, ".");
            record = true;
        } else {
            ok = const_json(e, a, &b);
        }
    }
    uint32_t m = PLAN_NONE;
    if (ok && record) {
        buf_puts(&b, ")");
        for (int i = 0; i < e->memos.n && m == PLAN_NONE; i++)
            if (strcmp(e->memos.v[i], b.s) == 0)
                m = (uint32_t)i;
        if (m == PLAN_NONE && e->memos.n < PLAN_MAX_MEMOS) {
            m = (uint32_t)e->memos.n;
            vec_push(&e->memos, xstrdup(b.s));
        }
    }
    buf_free(&b);
    return m;
}

/* A user fn: arguments into fresh locals, then the body with them bound. */
static void call_fn_body(Emitter *e, const Node *n, const Decl *fn)
{
    uint32_t base = e->next_local;
    for (int i = 0; i < n->nkids; i++) {
        expr(e, n->kids[i]);
        plan_emit(e->p, OP_STORE, base + (uint32_t)i);
    }
    e->next_local += (uint32_t)n->nkids;
    int saved_n = e->nbinds, saved_frame = e->frame;
    e->frame = e->nbinds;                 /* the body sees only its own parameters */
    for (int i = 0; i < fn->nparams && e->nbinds < 64; i++)
        e->binds[e->nbinds++] = (Binding){fn->params[i], base + (uint32_t)i};
    expr(e, fn->expr);
    e->nbinds = saved_n;
    e->frame = saved_frame;
}

/* A user fn call, through its memo slot when it has one: MEMO m; JUMP end; call; MEMOSET m. */
static void call_fn(Emitter *e, const Node *n, const Decl *fn)
{
    uint32_t m = memo_slot(e, n);
    if (m == PLAN_NONE) {
        call_fn_body(e, n, fn);
        return;
    }
    plan_emit(e->p, OP_MEMO, m);
    uint32_t to_end = jump(e, OP_JUMP);
    call_fn_body(e, n, fn);
    plan_emit(e->p, OP_MEMOSET, m);
    patch(e, to_end);
}

static void call(Emitter *e, const Node *n)
{
    const Builtin *b = builtin_find(n->str);
    if (!b) {
        call_fn(e, n, find(e, DECL_FN, n->str));
        return;
    }
    if (b->id == BI_IF) {
        call_if(e, n);
        return;
    }
    for (int i = 0; i < n->nkids; i++)
        expr(e, n->kids[i]);
    mark(e, n->span);
    plan_emit(e->p, OP_CALL, ((uint32_t)b->id << 8) | (uint32_t)n->nkids);
}

static void logical(Emitter *e, const Node *n)
{
    /* a and b: false unless both are true; a or b: true when either is */
    expr(e, n->kids[0]);
    if (n->op == BIN_AND) {
        uint32_t f1 = jump(e, OP_JFALSE);
        expr(e, n->kids[1]);
        uint32_t f2 = jump(e, OP_JFALSE);
        plan_emit(e->p, OP_CONST, plan_const(e->p, (PlanConst){PC_BOOL, 1, 0}));
        uint32_t end = jump(e, OP_JUMP);
        patch(e, f1);
        patch(e, f2);
        plan_emit(e->p, OP_CONST, plan_const(e->p, (PlanConst){PC_BOOL, 0, 0}));
        patch(e, end);
        return;
    }
    uint32_t try_b = jump(e, OP_JFALSE);
    plan_emit(e->p, OP_CONST, plan_const(e->p, (PlanConst){PC_BOOL, 1, 0}));
    uint32_t end1 = jump(e, OP_JUMP);
    patch(e, try_b);
    expr(e, n->kids[1]);
    uint32_t f = jump(e, OP_JFALSE);
    plan_emit(e->p, OP_CONST, plan_const(e->p, (PlanConst){PC_BOOL, 1, 0}));
    uint32_t end2 = jump(e, OP_JUMP);
    patch(e, f);
    plan_emit(e->p, OP_CONST, plan_const(e->p, (PlanConst){PC_BOOL, 0, 0}));
    patch(e, end1);
    patch(e, end2);
}

static void binary(Emitter *e, const Node *n)
{
    static const Opcode ops[] = {
        [BIN_EQ] = OP_EQ, [BIN_NE] = OP_NE, [BIN_LT] = OP_LT, [BIN_LE] = OP_LE, [BIN_GT] = OP_GT,
        [BIN_GE] = OP_GE, [BIN_IN] = OP_IN, [BIN_NOT_IN] = OP_IN, [BIN_ADD] = OP_ADD,
        [BIN_SUB] = OP_SUB, [BIN_MUL] = OP_MUL, [BIN_DIV] = OP_DIV,
    };
    if (n->op == BIN_AND || n->op == BIN_OR) {
        logical(e, n);
        return;
    }
    expr(e, n->kids[0]);
    if (n->op == BIN_COALESCE) {
        uint32_t end = jump(e, OP_JNOTNULL);
        expr(e, n->kids[1]);
        patch(e, end);
        return;
    }
    expr(e, n->kids[1]);
    mark(e, n->span);
    plan_emit(e->p, ops[n->op], 0);
    if (n->op == BIN_NOT_IN)
        plan_emit(e->p, OP_NOT, 0);
}

/* call else fallback: CALL; JFAIL handler; JUMP end; handler: fallback; end: */
static void else_expr(Emitter *e, const Node *n)
{
    expr(e, n->kids[0]);
    uint32_t fail = jump(e, OP_JFAIL);
    uint32_t end = jump(e, OP_JUMP);
    patch(e, fail);
    const Node *fb = n->kids[1];
    if (fb->kind == N_QUARANTINE) {
        mark(e, fb->span);
        plan_emit(e->p, OP_QUARANTINE, plan_str(e->p, fb->str));
    } else {
        expr(e, fb);
    }
    patch(e, end);
}

static void ref(Emitter *e, const Node *n)
{
    Plan *p = e->p;
    Buf objs = {0};
    buf_puts(&objs, "[");
    for (int i = 0; i < n->nkids - 1; i++) {
        buf_puts(&objs, i ? "," : "");
        buf_json_string(&objs, n->kids[i]->str);
    }
    buf_puts(&objs, "]");
    PlanRef r = {plan_str(p, objs.s), plan_str(p, n->str), n->flag ? 1u : 0u};
    buf_free(&objs);
    uint32_t d = p->nrefs;
    for (uint32_t i = 0; i < p->nrefs; i++)
        if (memcmp(&p->refs[i], &r, sizeof r) == 0)
            d = i;
    if (d == p->nrefs) {
        if ((p->nrefs & (p->nrefs - 1)) == 0)
            p->refs = xrealloc(p->refs, sizeof(PlanRef) * (p->nrefs ? p->nrefs * 2 : 1));
        p->refs[p->nrefs++] = r;
    }
    expr(e, n->kids[n->nkids - 1]);
    plan_emit(p, OP_REF, d);
}

static void aggregate(Emitter *e, const Node *n)
{
    if (emit_const(e, n))
        return;
    if (n->kind == N_LIST) {
        for (int i = 0; i < n->nkids; i++)
            expr(e, n->kids[i]);
        plan_emit(e->p, OP_LIST, (uint32_t)n->nkids);
        return;
    }
    Buf keys = {0};
    buf_puts(&keys, "[");
    for (int i = 0; i < n->nkids; i++) {
        expr(e, n->kids[i]->kids[0]);
        buf_puts(&keys, i ? "," : "");
        buf_json_string(&keys, n->kids[i]->str);
    }
    buf_puts(&keys, "]");
    plan_emit(e->p, OP_OBJECT, json_const(e, keys.s));
    buf_free(&keys);
}

static void name(Emitter *e, const Node *n)
{
    uint32_t local;
    if (bound(e, n->str, &local)) {
        plan_emit(e->p, OP_LOAD, local);
        return;
    }
    const Decl *c = find(e, DECL_CONST, n->str);
    int saved_frame = e->frame;
    e->frame = e->nbinds;                 /* a constant sees no parameters */
    expr(e, c->expr);
    e->frame = saved_frame;
}

static void expr(Emitter *e, const Node *n)
{
    switch (n->kind) {
    case N_STR: case N_NUM: case N_BOOL: case N_NULL: emit_const(e, n); break;
    case N_LIST: case N_OBJ: aggregate(e, n); break;
    case N_PATH: path(e, n); break;
    case N_NAME: name(e, n); break;
    case N_CALL: call(e, n); break;
    case N_BIN: binary(e, n); break;
    case N_NOT: expr(e, n->kids[0]); plan_emit(e->p, OP_NOT, 0); break;
    case N_NEG: expr(e, n->kids[0]); plan_emit(e->p, OP_NEG, 0); break;
    case N_ELSE: else_expr(e, n); break;
    case N_REF: ref(e, n); break;
    default: plan_emit(e->p, OP_NULL, 0); break;
    }
}

/* ---- target schema: the objects and fields the plan writes */

static uint32_t plan_object(Emitter *e, const SfObject *o)
{
    Plan *p = e->p;
    uint32_t name = plan_str(p, o->name);
    for (uint32_t i = 0; i < p->nobjects; i++)
        if (p->objects[i].name == name)
            return i;
    return PLAN_NONE;
}

static uint32_t plan_json_strings(Plan *p, char **v, int n)
{
    if (n == 0)
        return PLAN_NONE;
    Buf b = {0};
    buf_puts(&b, "[");
    for (int i = 0; i < n; i++) {
        buf_puts(&b, i ? "," : "");
        buf_json_string(&b, v[i]);
    }
    buf_puts(&b, "]");
    uint32_t s = plan_str(p, b.s);
    buf_free(&b);
    return s;
}

static PlanField field_of(Plan *p, const SfField *f)
{
    PlanField pf = {0};
    pf.name = plan_str(p, f->name);
    pf.type = (uint32_t)f->type;
    pf.length = f->type == SF_REFERENCE ? 0 : (uint32_t)f->length;
    pf.flags = (schema_required_on_create(f) ? PF_REQUIRED : 0) | (f->external ? PF_EXTERNAL : 0)
             | (f->unique ? PF_UNIQUE : 0) | (f->restricted ? PF_RESTRICTED : 0)
             | (f->polymorphic || f->nrefto > 1 ? PF_POLYMORPHIC : 0) | (f->custom ? PF_CUSTOM : 0)
             | (f->nillable ? PF_NILLABLE : 0) | (f->idlookup ? PF_IDLOOKUP : 0);
    pf.picklist = f->type == SF_PICKLIST || f->type == SF_MULTIPICKLIST ? plan_json_strings(p, f->picklist, f->npicklist)
                                                                         : PLAN_NONE;
    pf.refto = plan_json_strings(p, f->refto, f->nrefto);
    pf.relname = f->relname ? plan_str(p, f->relname) : PLAN_NONE;
    pf.precision = (uint32_t)f->precision;
    pf.scale = (uint32_t)f->scale;
    pf.description = f->description ? plan_str(p, f->description) : PLAN_NONE;
    pf.mdtype = f->md_type ? plan_str(p, f->md_type) : PLAN_NONE;
    return pf;
}

/* Does any rule writing o set field f (or is it required, or a key)? */
static bool field_needed(const Emitter *e, const SfObject *o, const SfField *f)
{
    if (schema_required_on_create(f) || f->external)
        return true;
    for (int i = 0; i < e->prog->ndecls; i++) {
        const Decl *r = e->prog->decls[i];
        if (r->kind != DECL_RULE || r->target != TGT_OBJECT || strcmp(r->object, o->name) != 0)
            continue;
        if (r->keyfield && strcmp(r->keyfield, f->name) == 0)      /* a `key match` field */
            return true;
        for (int j = 0; j < r->nbody; j++) {
            const Node *st = r->body[j];
            if (st->kind == N_ASSIGN && strcmp(st->str, f->name) == 0)
                return true;
            if (st->kind == N_FLATTEN && f->flattened)
                return true;
            for (int k = 1; st->kind == N_FLATTEN && k < st->nkids; k++)
                if (st->kids[k]->kind == N_FLAT_REST && strcmp(st->kids[k]->str, f->name) == 0)
                    return true;
        }
    }
    return false;
}

static void add_object(Emitter *e, const SfObject *o)
{
    Plan *p = e->p;
    if (plan_object(e, o) != PLAN_NONE)
        return;
    PlanObject po = {plan_str(p, o->name), p->nfields, 0};
    for (int i = 0; i < o->nfields; i++) {
        if (!field_needed(e, o, o->fields[i]))
            continue;
        p->fields = xrealloc(p->fields, sizeof(PlanField) * (p->nfields + 1));
        p->fields[p->nfields++] = field_of(p, o->fields[i]);
        po.nfields++;
    }
    p->objects = xrealloc(p->objects, sizeof(PlanObject) * (p->nobjects + 1));
    p->objects[p->nobjects++] = po;
}

static uint32_t plan_field(Emitter *e, uint32_t obj, const char *name)
{
    Plan *p = e->p;
    const PlanObject *o = &p->objects[obj];
    for (uint32_t i = 0; i < o->nfields; i++)
        if (strcmp(plan_s(p, p->fields[o->first_field + i].name), name) == 0)
            return o->first_field + i;
    return PLAN_NONE;
}

/* ---- rules and splits */

/* The rule's output slot for a field or column (names interned in the plan). */
static uint32_t slot(Emitter *e, const char *name)
{
    for (int i = 0; i < e->slot_names.n; i++)
        if (strcmp(e->slot_names.v[i], name) == 0)
            return (uint32_t)i;
    vec_push(&e->slot_names, (void *)plan_s(e->p, plan_str(e->p, name)));
    return (uint32_t)(e->slot_names.n - 1);
}

static char *flat_field_name(const Node *st, const Node *en)
{
    return en->str2 ? xstrdup(en->str2) : sema_flatten_name(st->str, en->str);
}

/* {"entries": [[["a","b"], slot], …], "rest": slot or -1} */
static void flatten(Emitter *e, const Node *st)
{
    expr(e, st->kids[0]);
    Buf b = {0};
    buf_puts(&b, "{\"entries\":[");
    int rest = -1, n = 0;
    for (int i = 1; i < st->nkids; i++) {
        const Node *en = st->kids[i];
        if (en->kind == N_FLAT_REST) {
            rest = (int)slot(e, en->str);
            continue;
        }
        char *fname = flat_field_name(st, en);
        buf_printf(&b, "%s[[", n++ ? "," : "");
        char *key = xstrdup(en->str), *save = NULL;
        int k = 0;
        for (char *part = strtok_r(key, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
            buf_puts(&b, k++ ? "," : "");
            buf_json_string(&b, part);
        }
        free(key);
        buf_printf(&b, "],%u]", slot(e, fname));
        free(fname);
    }
    buf_printf(&b, "],\"rest\":%d}", rest);
    plan_emit(e->p, OP_FLATTEN, json_const(e, b.s));
    buf_free(&b);
}

static void rule_body(Emitter *e, const Decl *r)
{
    if (r->when) {
        mark(e, r->when->span);
        expr(e, r->when);
        plan_emit(e->p, OP_WHEN, 0);
    }
    if (r->key) {
        mark(e, r->key->span);
        expr(e, r->key);
        plan_emit(e->p, OP_SET, slot(e, r->keyfield));
    }
    for (int i = 0; i < r->nbody; i++) {
        const Node *st = r->body[i];
        mark(e, st->span);
        if (st->kind == N_FLATTEN) {
            flatten(e, st);
        } else {
            expr(e, st->kids[0]);
            plan_emit(e->p, OP_SET, slot(e, st->str));
        }
    }
    plan_emit(e->p, OP_EMIT, 0);
}

static void compile_rule(Emitter *e, const Decl *r)
{
    Plan *p = e->p;
    PlanRule pr = {0};
    pr.name = plan_str(p, r->name);
    pr.kind = plan_str(p, r->kindname);
    pr.target = r->target == TGT_OBJECT ? PT_OBJECT : r->target == TGT_INVENTORY ? PT_INVENTORY
              : r->target == TGT_FLAG ? PT_FLAG : PT_EXCLUDE;
    pr.object = PLAN_NONE;
    pr.section = r->section ? plan_str(p, r->section) : PLAN_NONE;
    pr.merge = (uint32_t)r->merge;
    pr.flags = (ast_split_of(e->prog, r) ? PR_SPLIT_MEMBER : 0) | (r->key_match ? PR_MATCH_KEY : 0);
    int line, col;
    srcloc_linecol(r->name_span.file, r->name_span.start, &line, &col);
    pr.line = (uint32_t)line;
    if (r->target == TGT_OBJECT)
        pr.object = plan_object(e, schema_object(e->schema, r->object));
    e->next_local = 0;
    e->nbinds = e->frame = 0;
    vec_free(&e->slot_names);
    if (r->keyfield)
        slot(e, r->keyfield);          /* slot 0 is the key */
    pr.pc = p->ncode;
    rule_body(e, r);
    pr.first_slot = p->nslots;
    pr.nslots = (uint32_t)e->slot_names.n;
    for (int i = 0; i < e->slot_names.n; i++) {
        const char *nm = e->slot_names.v[i];
        PlanSlot s = {pr.object == PLAN_NONE ? PLAN_NONE : plan_field(e, pr.object, nm), plan_str(p, nm)};
        p->slots = xrealloc(p->slots, sizeof(PlanSlot) * (p->nslots + 1));
        p->slots[p->nslots++] = s;
    }
    p->rules = xrealloc(p->rules, sizeof(PlanRule) * (p->nrules + 1));
    p->rules[p->nrules++] = pr;
}

static uint32_t rule_index(const Emitter *e, const char *name)
{
    uint32_t s = plan_str(e->p, name);
    for (uint32_t i = 0; i < e->p->nrules; i++)
        if (e->p->rules[i].name == s)
            return i;
    return PLAN_NONE;
}

static void branch_dest(Emitter *e, const Node *br)
{
    mark(e, br->span);
    if (br->op == DEST_RULE)
        plan_emit(e->p, OP_ROUTE, rule_index(e, br->str));
    else
        plan_emit(e->p, br->op == DEST_SKIP ? OP_SKIP : OP_QUARANTINE, plan_str(e->p, br->str));
}

static void compile_split(Emitter *e, const Decl *sp)
{
    Plan *p = e->p;
    PlanSplit ps = {plan_str(p, sp->name), p->ncode};
    e->next_local = 1;
    e->nbinds = e->frame = 0;
    mark(e, sp->expr->span);
    expr(e, sp->expr);
    plan_emit(p, OP_STORE, 0);
    bool has_else = false;
    for (int i = 0; i < sp->nbody; i++) {
        const Node *br = sp->body[i];
        if (br->op2 == BR_ELSE) {
            has_else = true;
            branch_dest(e, br);
            break;
        }
        plan_emit(p, OP_LOAD, 0);
        expr(e, br->kids[0]);
        plan_emit(p, br->op2 == BR_IN ? OP_IN : OP_EQ, 0);
        uint32_t next = jump(e, OP_JFALSE);
        branch_dest(e, br);
        patch(e, next);
    }
    if (!has_else)
        plan_emit(p, OP_QUARANTINE, plan_str(p, "no split branch matched"));
    p->splits = xrealloc(p->splits, sizeof(PlanSplit) * (p->nsplits + 1));
    p->splits[p->nsplits++] = ps;
}

static void graph(Emitter *e)
{
    PlanGraph g;
    plan_graph(e->prog, &g);
    Plan *p = e->p;
    p->load_order = xcalloc((size_t)p->nobjects + 1, sizeof(uint32_t));
    p->deps = xcalloc((size_t)p->nobjects * p->nobjects + 1, 1);
    uint32_t n = 0;
    for (int i = 0; i < g.nobjects; i++) {
        uint32_t o = plan_str(p, g.objects[i]);
        for (uint32_t j = 0; j < p->nobjects; j++)
            if (p->objects[j].name == o)
                p->load_order[n++] = j;
    }
    for (uint32_t j = 0; j < p->nobjects && n < p->nobjects; j++) {   /* referenced only: not written */
        bool placed = false;
        for (uint32_t k = 0; k < n; k++)
            placed |= p->load_order[k] == j;
        if (!placed)
            p->load_order[n++] = j;
    }
    for (int i = 0; i < g.nobjects; i++)
        for (int j = 0; j < g.nobjects; j++) {
            uint32_t a = plan_str(p, g.objects[i]), b = plan_str(p, g.objects[j]);
            uint32_t ia = PLAN_NONE, ib = PLAN_NONE;
            for (uint32_t k = 0; k < p->nobjects; k++) {
                if (p->objects[k].name == a) ia = k;
                if (p->objects[k].name == b) ib = k;
            }
            if (ia != PLAN_NONE && ib != PLAN_NONE && g.deps[i * g.nobjects + j])
                p->deps[ia * p->nobjects + ib] = 1;
        }
    plan_graph_free(&g);
}

bool emit_const_json(const Program *prog, const Node *n, Buf *out)
{
    Emitter e = {0};
    e.prog = prog;
    return const_json(&e, n, out);
}

/* A section's description goes into the plan's notes, for maprun deliverables. */
static void add_note(Plan *p, const Decl *d)
{
    PlanNote *n = realloc(p->notes, sizeof *n * (p->nnotes + 1));
    if (!n) {
        fputs("mapc: out of memory\n", stderr);
        exit(3);
    }
    p->notes = n;
    n[p->nnotes].target = d->target == TGT_INVENTORY ? PT_INVENTORY : d->target == TGT_FLAG ? PT_FLAG : PT_EXCLUDE;
    n[p->nnotes].section = plan_str(p, d->section);
    n[p->nnotes].text = plan_str(p, d->str);
    p->nnotes++;
}

void emit_plan(const Program *prog, const Schema *schema, Plan *out)
{
    memset(out, 0, sizeof *out);
    Emitter e = {0};
    e.prog = prog;
    e.schema = schema;
    e.p = out;
    out->migration = out->api_version = PLAN_NONE;
    for (int i = 0; i < prog->ndecls; i++) {
        const Decl *d = prog->decls[i];
        if (d->kind == DECL_MIGRATION)
            out->migration = plan_str(out, d->str);
        if (d->kind == DECL_TARGET && d->str && out->api_version == PLAN_NONE)
            out->api_version = plan_str(out, d->str);
        if (d->kind == DECL_RULE && d->target == TGT_OBJECT)
            add_object(&e, schema_object(schema, d->object));
        if (d->kind == DECL_ABOUT)
            add_note(out, d);
    }
    for (int i = 0; i < prog->ndecls; i++)
        if (prog->decls[i]->kind == DECL_RULE)
            compile_rule(&e, prog->decls[i]);
    for (int i = 0; i < prog->ndecls; i++)
        if (prog->decls[i]->kind == DECL_SPLIT)
            compile_split(&e, prog->decls[i]);
    graph(&e);
    vec_free(&e.slot_names);
    for (int i = 0; i < e.memos.n; i++)
        free(e.memos.v[i]);
    vec_free(&e.memos);
}

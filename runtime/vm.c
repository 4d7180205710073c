/*
** vm: the dispatch loop and the operations behind each opcode.
*/
#include "vm.h"
#include "builtin_flags.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


Vm *vm_new(const Plan *plan, char *err, size_t errlen)
{
    Vm *vm = calloc(1, sizeof *vm);
    vm->plan = plan;
    vm->consts = calloc((size_t)plan->nconsts + 1, sizeof(Value));
    vm->json = calloc((size_t)plan->nconsts + 1, sizeof(cJSON *));
    vm->arena = arena_new();
    for (uint32_t i = 0; i < plan->nconsts; i++) {
        const PlanConst *c = &plan->consts[i];
        const char *s = plan_s(plan, c->str);
        switch (c->kind) {
        case PC_NULL: vm->consts[i] = val_null(); break;
        case PC_BOOL: vm->consts[i] = val_bool(c->num != 0); break;
        case PC_NUM: vm->consts[i] = val_num(c->num); break;
        case PC_STR: vm->consts[i] = val_str(s, strlen(s)); break;
        case PC_JSON:
            vm->json[i] = cJSON_Parse(s);
            if (!vm->json[i]) {
                snprintf(err, errlen, "constant %u is not valid JSON", i);
                vm_free(vm);
                return NULL;
            }
            vm->consts[i] = val_from_json(vm->json[i]);
            break;
        }
    }
    return vm;
}

void vm_free(Vm *vm)
{
    if (!vm)
        return;
    for (uint32_t i = 0; i < vm->plan->nconsts; i++)
        cJSON_Delete(vm->json[i]);
    free(vm->json);
    free(vm->consts);
    arena_free(vm->arena);
    free(vm);
}

/* ---- values */

cJSON *vm_value_json(const Value *v)
{
    char buf[40];
    switch (v->k) {
    case V_NULL: return cJSON_CreateNull();
    case V_BOOL: return cJSON_CreateBool(v->u.b);
    case V_NUM: return cJSON_CreateNumber(v->u.n);
    case V_STR: return cJSON_CreateString(v->u.s.p);
    case V_DATE: val_format_date(v->u.t, buf); return cJSON_CreateString(buf);
    case V_DATETIME: val_format_datetime(v->u.t, buf); return cJSON_CreateString(buf);
    case V_LIST: case V_OBJ: return cJSON_Duplicate(v->u.j, 1);
    case V_REF: return cJSON_CreateString(v->u.ref.key);
    }
    return cJSON_CreateNull();
}

static bool equal(const Value *a, const Value *b)
{
    if (a->k != b->k)
        return false;
    switch (a->k) {
    case V_NULL: return true;
    case V_BOOL: return a->u.b == b->u.b;
    case V_NUM: return a->u.n == b->u.n;
    case V_STR: return a->u.s.len == b->u.s.len && memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
    case V_DATE: case V_DATETIME: return a->u.t == b->u.t;
    case V_LIST: case V_OBJ: return cJSON_Compare(a->u.j, b->u.j, 1);
    case V_REF: return a->u.ref.desc == b->u.ref.desc && strcmp(a->u.ref.key, b->u.ref.key) == 0;
    }
    return false;
}

/* -1, 0, 1; or 2 when the values cannot be ordered (the comparison gives null). */
static int order(const Value *a, const Value *b)
{
    if (a->k != b->k)
        return 2;
    switch (a->k) {
    case V_NUM: return a->u.n < b->u.n ? -1 : a->u.n > b->u.n;
    case V_DATE: case V_DATETIME: return a->u.t < b->u.t ? -1 : a->u.t > b->u.t;
    case V_STR: {
        int c = strcmp(a->u.s.p, b->u.s.p);
        return c < 0 ? -1 : c > 0;
    }
    default: return 2;
    }
}

static bool member(const Value *v, const Value *list)
{
    const cJSON *it;
    if (v->k == V_STR) {                    /* strings in a list of strings: no conversion */
        cJSON_ArrayForEach(it, list->u.j)
            if ((it->type & 0xFF) == cJSON_String && strcmp(it->valuestring, v->u.s.p) == 0)
                return true;
        return false;
    }
    cJSON_ArrayForEach(it, list->u.j) {
        Value e = val_from_json(it);
        if (equal(v, &e))
            return true;
    }
    return false;
}

static bool truthy(const Value *v)
{
    return v->k == V_BOOL && v->u.b;
}

static VmResult fail(Vm *vm, uint32_t pc, const char *fmt, const char *what)
{
    snprintf(vm->msg, sizeof vm->msg, fmt, what);
    vm->reason = vm->msg;
    vm->pc = pc;
    return VM_ERROR;
}

static const char *kind_name(VKind k)
{
    static const char *const names[] = {"null", "bool", "number", "string", "date", "datetime", "list", "object", "ref"};
    return names[k];
}

void vm_begin_record(Vm *vm)
{
    arena_reset(vm->arena);
    if (++vm->gen == 0) {                     /* wrapped: old entries could look current */
        memset(vm->memo, 0, sizeof vm->memo);
        memset(vm->fn_gen, 0, sizeof vm->fn_gen);
        vm->gen = 1;
    }
}

/* ---- operations that need more than a line */

/* What cJSON_GetObjectItemCaseSensitive gives, with the first byte compared inline. */
static const cJSON *find_member(const cJSON *obj, const char *key)
{
    for (const cJSON *c = obj->child; c; c = c->next)
        if (c->string && c->string[0] == key[0] && strcmp(c->string, key) == 0)
            return c;
    return NULL;
}

/* Member key (a plan string) of obj, through the memo when a record is current. */
static const cJSON *member_of(Vm *vm, const cJSON *obj, const char *key)
{
    if (vm->gen == 0)
        return find_member(obj, key);
    uintptr_t h = ((uintptr_t)obj >> 4) * 31 + ((uintptr_t)key >> 2);
    VmMemo *e = &vm->memo[(h ^ h >> 7) & (VM_MEMO - 1)];
    if (e->gen != vm->gen || e->obj != obj || e->key != key) {
        e->obj = obj;
        e->key = key;
        e->found = find_member(obj, key);
        e->gen = vm->gen;
    }
    return e->found;
}

/* top.key; memo: key is a plan string (its address names it), so the lookup may be remembered. */
static VmResult op_get(Vm *vm, uint32_t pc, Value *top, const char *key, bool memo)
{
    if (top->k == V_NULL)
        return VM_EMIT;                       /* null.x is null */
    if (top->k != V_OBJ)
        return fail(vm, pc, "cannot read a field of a %s", kind_name(top->k));
    const cJSON *m = memo ? member_of(vm, top->u.j, key) : find_member(top->u.j, key);
    *top = m ? val_from_json(m) : val_null();
    return VM_EMIT;
}

static VmResult op_index(Vm *vm, uint32_t pc, Value *x, const Value *ix)
{
    if (x->k == V_NULL || ix->k == V_NULL) {
        *x = val_null();
        return VM_EMIT;
    }
    if (x->k == V_LIST && ix->k == V_NUM) {
        double d = ix->u.n;
        int n = cJSON_GetArraySize(x->u.j);
        const cJSON *e = d >= 0 && d < n && d == floor(d) ? cJSON_GetArrayItem(x->u.j, (int)d) : NULL;
        *x = e ? val_from_json(e) : val_null();
        return VM_EMIT;
    }
    if (x->k == V_OBJ && ix->k == V_STR)
        return op_get(vm, pc, x, ix->u.s.p, false);
    return fail(vm, pc, "cannot index a %s", kind_name(x->k));
}

static VmResult op_add(Vm *vm, uint32_t pc, Value *a, const Value *b)
{
    if (a->k == V_NULL || b->k == V_NULL) {
        *a = val_null();
        return VM_EMIT;
    }
    if (a->k == V_NUM && b->k == V_NUM) {
        a->u.n += b->u.n;
        return VM_EMIT;
    }
    if (a->k == V_STR && b->k == V_STR) {
        size_t n = a->u.s.len + b->u.s.len;
        char *s = arena_alloc(vm->arena, n + 1);
        memcpy(s, a->u.s.p, a->u.s.len);
        memcpy(s + a->u.s.len, b->u.s.p, b->u.s.len + 1);
        *a = val_str(s, n);
        return VM_EMIT;
    }
    return fail(vm, pc, "cannot add these values (a %s)", kind_name(a->k == V_NUM || a->k == V_STR ? b->k : a->k));
}

static VmResult op_arith(Vm *vm, uint32_t pc, Opcode op, Value *a, const Value *b)
{
    if (a->k == V_NULL || b->k == V_NULL) {
        *a = val_null();
        return VM_EMIT;
    }
    if (a->k != V_NUM || b->k != V_NUM)
        return fail(vm, pc, "arithmetic on a %s", kind_name(a->k == V_NUM ? b->k : a->k));
    if (op == OP_DIV && b->u.n == 0)
        return fail(vm, pc, "division by zero%s", "");
    a->u.n = op == OP_SUB ? a->u.n - b->u.n : op == OP_MUL ? a->u.n * b->u.n : a->u.n / b->u.n;
    return VM_EMIT;
}

static VmResult op_call(Vm *vm, uint32_t pc, uint32_t a, Value **sp, bool *failed)
{
    uint32_t id = a >> 8, argc = a & 255;
    Value *args = *sp - argc;
    Value out = val_null();
    *failed = false;
    bool has_null = false;
    for (uint32_t i = 0; i < argc; i++)
        has_null |= args[i].k == V_NULL;
    if (!(has_null && (rt_builtin_flags((RtBuiltinId)id) & BF_NULLPROP))) {
        BuiltinCtx ctx = {vm->arena, NULL};
        int rc = rt_builtin_call((RtBuiltinId)id, args, (int)argc, &out, &ctx);
        if (rc == BR_TYPE)
            return fail(vm, pc, "%s", ctx.why ? ctx.why : "a value of the wrong kind");
        *failed = rc == BR_FAIL;
        if (*failed)
            out = val_null();
    }
    *sp = args;
    *(*sp)++ = out;
    return VM_EMIT;
}

static VmResult op_ref(Vm *vm, uint32_t pc, uint32_t desc, Value *key)
{
    if (key->k == V_NULL)
        return VM_EMIT;
    const char *text;
    if (key->k == V_STR) {
        text = key->u.s.p;
    } else if (key->k == V_NUM) {
        char *b = arena_alloc(vm->arena, 32);
        val_format_number(key->u.n, b);
        text = b;
    } else {
        return fail(vm, pc, "a reference key cannot be a %s", kind_name(key->k));
    }
    key->k = V_REF;
    key->u.ref.desc = desc;
    key->u.ref.key = text;
    return VM_EMIT;
}

static Value make_list(Vm *vm, Value *items, uint32_t n)
{
    cJSON *arr = arena_json(vm->arena, cJSON_CreateArray());
    for (uint32_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, vm_value_json(&items[i]));
    Value v;
    v.k = V_LIST;
    v.u.j = arr;
    return v;
}

static Value make_object(Vm *vm, Value *items, const cJSON *keys)
{
    cJSON *obj = arena_json(vm->arena, cJSON_CreateObject());
    int i = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
        cJSON_AddItemToObject(obj, k->valuestring, vm_value_json(&items[i++]));
    Value v;
    v.k = V_OBJ;
    v.u.j = obj;
    return v;
}

/*
** FLATTEN: descriptor {"entries": [[["a","b"], slot], …], "rest": slot|-1}.
** Each entry's path sets its slot; the rest slot gets the JSON text of the
** top-level members no single-key entry took (null when none are left).
*/
static void op_flatten(Vm *vm, const cJSON *desc, const Value *obj)
{
    if (obj->k != V_OBJ)
        return;
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(desc, "entries");
    const cJSON *e;
    cJSON *rest = arena_json(vm->arena, cJSON_Duplicate(obj->u.j, 1));
    cJSON_ArrayForEach(e, entries) {
        const cJSON *path = cJSON_GetArrayItem(e, 0);
        int slot = (int)cJSON_GetArrayItem(e, 1)->valuedouble;
        const cJSON *at = obj->u.j, *seg;
        cJSON_ArrayForEach(seg, path)
            at = cJSON_IsObject(at) ? cJSON_GetObjectItemCaseSensitive(at, seg->valuestring) : NULL;
        vm->slots[slot] = at ? val_from_json(at) : val_null();
        vm->set[slot] = true;
        if (cJSON_GetArraySize(path) == 1)
            cJSON_DeleteItemFromObjectCaseSensitive(rest, path->child->valuestring);
    }
    int rest_slot = (int)cJSON_GetObjectItemCaseSensitive(desc, "rest")->valuedouble;
    if (rest_slot >= 0) {
        Value restv = {.k = V_OBJ, .u.j = rest};  /* cJSON_PrintUnformatted's text, in the arena */
        vm->slots[rest_slot] = rest->child ? val_to_str(vm->arena, restv) : val_null();
        vm->set[rest_slot] = true;
    }
}

/* ---- the dispatch loop */

VmResult vm_run(Vm *vm, uint32_t pc, uint32_t nslots, const cJSON *record)
{
    const uint32_t *code = vm->plan->code;
    Value *sp = vm->stack;
    bool failed = false;
    VmResult r;
    memset(vm->set, 0, nslots * sizeof(bool));
    vm->reason = NULL;
    for (;;) {
        uint32_t w = code[pc], a = INSTR_A(w);
        switch (INSTR_OP(w)) {
        case OP_CONST: *sp++ = vm->consts[a]; break;
        case OP_NULL: *sp++ = val_null(); break;
        case OP_RECORD: sp->k = V_OBJ; sp->u.j = record; sp++; break;
        case OP_GET:
            if ((r = op_get(vm, pc, sp - 1, vm->plan->strs[a], true)) != VM_EMIT)
                return r;
            break;
        case OP_INDEX:
            sp--;
            if ((r = op_index(vm, pc, sp - 1, sp)) != VM_EMIT)
                return r;
            break;
        case OP_LOAD: *sp++ = vm->locals[a]; break;
        case OP_STORE: vm->locals[a] = *--sp; break;
        case OP_CALL:
            if ((r = op_call(vm, pc, a, &sp, &failed)) != VM_EMIT)
                return r;
            break;
        case OP_JFAIL:
            if (failed) {
                failed = false;
                sp--;
                pc = a;
                continue;
            }
            break;
        case OP_JUMP: pc = a; continue;
        case OP_JFALSE:
            if (!truthy(--sp)) {
                pc = a;
                continue;
            }
            break;
        case OP_JNOTNULL:
            if (sp[-1].k != V_NULL) {
                pc = a;
                continue;
            }
            sp--;
            break;
        case OP_EQ: case OP_NE: {
            bool eq = equal(&sp[-2], &sp[-1]);
            sp--;
            sp[-1] = val_bool(INSTR_OP(w) == OP_EQ ? eq : !eq);
            break;
        }
        case OP_LT: case OP_LE: case OP_GT: case OP_GE: {
            int o = order(&sp[-2], &sp[-1]);
            Opcode op = INSTR_OP(w);
            sp--;
            sp[-1] = o == 2 ? val_null()
                   : val_bool(op == OP_LT ? o < 0 : op == OP_LE ? o <= 0 : op == OP_GT ? o > 0 : o >= 0);
            break;
        }
        case OP_IN:
            sp--;
            if (sp->k != V_LIST && sp->k != V_NULL)
                return fail(vm, pc, "'in' needs a list, not a %s", kind_name(sp->k));
            sp[-1] = val_bool(sp->k == V_LIST && member(&sp[-1], sp));
            break;
        case OP_ADD:
            sp--;
            if ((r = op_add(vm, pc, sp - 1, sp)) != VM_EMIT)
                return r;
            break;
        case OP_SUB: case OP_MUL: case OP_DIV:
            sp--;
            if ((r = op_arith(vm, pc, INSTR_OP(w), sp - 1, sp)) != VM_EMIT)
                return r;
            break;
        case OP_NOT:
            if (sp[-1].k == V_BOOL)
                sp[-1].u.b = !sp[-1].u.b;
            else if (sp[-1].k != V_NULL)
                return fail(vm, pc, "'not' needs a bool, not a %s", kind_name(sp[-1].k));
            break;
        case OP_NEG:
            if (sp[-1].k == V_NUM)
                sp[-1].u.n = -sp[-1].u.n;
            else if (sp[-1].k != V_NULL)
                return fail(vm, pc, "'-' needs a number, not a %s", kind_name(sp[-1].k));
            break;
        case OP_LIST:
            sp -= a;
            *sp = make_list(vm, sp, a);
            sp++;
            break;
        case OP_OBJECT: {
            uint32_t n = (uint32_t)cJSON_GetArraySize(vm->json[a]);
            sp -= n;
            *sp = make_object(vm, sp, vm->json[a]);
            sp++;
            break;
        }
        case OP_REF:
            if ((r = op_ref(vm, pc, a, sp - 1)) != VM_EMIT)
                return r;
            break;
        case OP_SET: vm->slots[a] = *--sp; vm->set[a] = true; break;
        case OP_FLATTEN: op_flatten(vm, vm->json[a], --sp); break;
        case OP_WHEN:
            if (!truthy(--sp)) {
                vm->pc = pc;
                return VM_NOT_APPLIED;
            }
            break;
        case OP_EMIT: vm->pc = pc; return VM_EMIT;
        case OP_QUARANTINE: vm->pc = pc; vm->reason = vm->plan->strs[a]; return VM_QUARANTINE;
        case OP_SKIP: vm->pc = pc; vm->reason = vm->plan->strs[a]; return VM_SKIP;
        case OP_ROUTE: vm->pc = pc; vm->route = a; return VM_ROUTE;
        case OP_MEMO:
            if (vm->gen != 0 && vm->fn_gen[a] == vm->gen && vm->fn_rec[a] == record) {
                *sp++ = vm->fn_val[a];         /* next: the JUMP over the call */
                failed = false;                /* as after the call, which did not fail */
                break;
            }
            pc += 2;
            continue;
        case OP_MEMOSET:
            /* a failed call keeps its flag for the caller's JFAIL, so it is not remembered;
               nor is a list or object, whose tree a later operation could change */
            if (vm->gen != 0 && !failed && sp[-1].k != V_LIST && sp[-1].k != V_OBJ) {
                vm->fn_val[a] = sp[-1];
                vm->fn_gen[a] = vm->gen;
                vm->fn_rec[a] = record;
            }
            break;
        default:
            return fail(vm, pc, "unknown opcode%s", "");   /* the verifier makes this unreachable */
        }
        pc++;
    }
}

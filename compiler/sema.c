/*
** sema: typing expressions and checking rule bodies against the schema.
**
** Types are small values (Ty).  A value can be null when it is read from a
** path that may be missing, or when a function may return null; required
** fields must get non-null values.  A fallible call (parse_json, fits…) makes
** its value "fallible" until an `else` handles it: any other use reports
** [unhandled-fallible] at the call, so every failure has a decided outcome.
*/
#include "sema.h"
#include "builtin_info.h"
#include "diag.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define report(s, ...) do { if (!(s)->mute) diag_report(__VA_ARGS__); } while (0)
#define hint(s, ...)   do { if (!(s)->mute) diag_hint(__VA_ARGS__); } while (0)

static Ty ty(TyKind k)
{
    return (Ty){k, false, false, -1, TY_ERROR, NULL, NULL};
}

static Ty ty_null(Ty t)
{
    t.nullable = true;
    return t;
}

const char *sema_ty_name(Ty t)
{
    static const char *const names[] = {
        "error", "any", "null", "string", "number", "bool", "date", "datetime",
        "list", "object", "ref"
    };
    return names[t.k];
}

const Decl *sema_find(const Sema *s, DeclKind k, const char *name)
{
    for (int i = 0; i < s->prog->ndecls; i++) {
        const Decl *d = s->prog->decls[i];
        if (d->kind == k && d->name && strcmp(d->name, name) == 0)
            return d;
    }
    return NULL;
}

int sema_decl_index(const Sema *s, const Decl *d)
{
    for (int i = 0; i < s->prog->ndecls; i++)
        if (s->prog->decls[i] == d)
            return i;
    return -1;
}

const Node *sema_shape_of_kind(const Sema *s, const char *kind)
{
    const Decl *k = sema_find(s, DECL_KIND, kind);
    return k ? k->type : NULL;
}

void sema_unknown_kind(const Sema *s, const char *kind, Span at)
{
    diag_report(D_UNKNOWN_KIND, at, "unknown source kind '%s'", kind);
    if (!sema_find(s, DECL_SOURCE, "customerio")) {
        diag_hint("declare the source first: source customerio");
        return;
    }
    const char *best = NULL;
    int bestd = 4;
    for (int i = 0; i < s->prog->ndecls; i++) {
        const Decl *d = s->prog->decls[i];
        int dist = d->kind == DECL_KIND ? edit_distance(kind, d->name) : 99;
        if (dist < bestd) {
            bestd = dist;
            best = d->name;
        }
    }
    if (best)
        diag_hint("did you mean '%s'?", best);
}

static Ty narrow_span(Sema *s, Span sp, Ty t);

/* ---- shapes: the declared structure of source records */

static Ty ty_of_shape(const Node *t)
{
    Ty r = ty(TY_ANY);
    if (!t)
        return ty_null(r);
    if (strcmp(t->str, "string") == 0) {
        r = ty(TY_STRING);
        r.maxlen = t->num > 0 ? (int)t->num : -1;   /* string(N): the reader enforces it */
    }
    else if (strcmp(t->str, "number") == 0)
        r = ty(TY_NUMBER);
    else if (strcmp(t->str, "bool") == 0)
        r = ty(TY_BOOL);
    else if (strcmp(t->str, "list") == 0) {
        r = ty(TY_LIST);
        r.shape = t;
        r.elem = t->nkids ? ty_of_shape(t->kids[0]).k : TY_ANY;
    } else if (strcmp(t->str, "object") == 0 || strcmp(t->str, "map") == 0) {
        r = ty(TY_OBJECT);
        r.shape = t;
    }
    r.nullable = t->flag;
    return r;
}

static const char *shape_suggest(const Node *obj, const char *key)
{
    const char *best = NULL;
    int bestd = 3;
    for (int i = 0; i < obj->nkids; i++) {
        int d = edit_distance(key, obj->kids[i]->str);
        if (d < bestd) {
            bestd = d;
            best = obj->kids[i]->str;
        }
    }
    return best;
}

/* The type of `cur.key`; reports an unknown key of a closed shape. */
static Ty member(Sema *s, Ty cur, const char *key, Span at)
{
    if (cur.k == TY_ERROR)
        return cur;
    if (cur.k == TY_ANY || cur.k == TY_NULL)
        return ty_null(ty(TY_ANY));
    if (cur.k != TY_OBJECT) {
        report(s, D_TYPE_MISMATCH, at, "cannot read '%s' of a %s", key, sema_ty_name(cur));
        return ty(TY_ERROR);
    }
    bool nullable = cur.nullable;
    const Node *sh = cur.shape;
    Ty r;
    if (!sh) {
        r = ty_null(ty(TY_ANY));
    } else if (strcmp(sh->str, "map") == 0) {
        r = ty_of_shape(sh->nkids ? sh->kids[0] : NULL);
        r.nullable = true;               /* any key may be absent */
    } else {
        const Node *f = NULL;
        for (int i = 0; i < sh->nkids && !f; i++)
            if (strcmp(sh->kids[i]->str, key) == 0)
                f = sh->kids[i];
        if (!f) {
            report(s, D_UNKNOWN_PATH, at, "no field '%s' in this record shape", key);
            const char *sug = shape_suggest(sh, key);
            if (sug)
                hint(s, "did you mean '.%s'?", sug);
            return ty(TY_ERROR);
        }
        r = ty_of_shape(f->kids[0]);
    }
    r.nullable |= nullable;
    return r;
}

static Ty path(Sema *s, const Node *e)
{
    Ty cur;
    if (e->kids[0]) {
        cur = sema_use(s, sema_expr(s, e->kids[0]), e->kids[0]);
    } else if (s->shape) {
        cur = ty(TY_OBJECT);
        cur.shape = s->shape;
    } else {
        if (!s->fn)
            report(s, D_UNKNOWN_PATH, e->span, "'.' has no record here");
        cur = s->fn ? ty(TY_ANY) : ty(TY_ERROR);
    }
    for (int i = 1; i < e->nkids; i++) {
        const Node *seg = e->kids[i];
        if (i > 1)                      /* `when .a != null` makes .a.b's parent present */
            cur = narrow_span(s, (Span){e->span.file, e->span.start, e->kids[i - 1]->span.end}, cur);
        if (seg->kind == N_SEG_FIELD) {
            cur = member(s, cur, seg->str, seg->span);
            continue;
        }
        const Node *ix = seg->kids[0];
        Ty it = sema_use(s, sema_expr(s, ix), ix);
        if (ix->kind == N_STR) {
            cur = member(s, cur, ix->str, seg->span);
        } else if (cur.k == TY_LIST) {
            if (it.k != TY_NUMBER && it.k != TY_ANY && it.k != TY_ERROR)
                report(s, D_TYPE_MISMATCH, ix->span, "a list index must be a number, found %s", sema_ty_name(it));
            Ty el = cur.shape && cur.shape->nkids ? ty_of_shape(cur.shape->kids[0]) : ty(cur.elem);
            cur = ty_null(el);          /* out of range gives null */
        } else if (cur.k == TY_ANY || cur.k == TY_ERROR || cur.k == TY_OBJECT) {
            cur = cur.k == TY_ERROR ? cur : ty_null(ty(TY_ANY));
        } else {
            report(s, D_TYPE_MISMATCH, seg->span, "cannot index a %s", sema_ty_name(cur));
            cur = ty(TY_ERROR);
        }
    }
    return cur;
}

/* ---- helpers for operators */

Ty sema_use(Sema *s, Ty t, const Node *at)
{
    if (t.fallible) {
        report(s, D_UNHANDLED_FALLIBLE, at->span, "the result of '%s' is used without handling its failure",
               at->kind == N_CALL ? at->str : "this call");
        hint(s, "add `else <fallback>` or `else quarantine \"reason\"` after the call");
        t.fallible = false;
    }
    return t;
}

static bool is_error(Ty t)
{
    return t.k == TY_ERROR;
}

static bool loose(Ty t)
{
    return t.k == TY_ANY || t.k == TY_ERROR || t.k == TY_NULL;
}

/* The type of a value that is either a or b (branches, ??, else). */
static Ty join(Sema *s, Ty a, Ty b, Span at, const char *what)
{
    if (a.k == TY_NULL)
        return ty_null(b);
    if (b.k == TY_NULL)
        return ty_null(a);
    if (is_error(a) || is_error(b))
        return ty(TY_ERROR);
    if (a.k == TY_ANY || b.k == TY_ANY) {
        Ty r = ty(TY_ANY);
        r.nullable = a.nullable || b.nullable;
        return r;
    }
    if (a.k != b.k) {
        report(s, D_TYPE_MISMATCH, at, "%s gives a %s on one side and a %s on the other",
               what, sema_ty_name(a), sema_ty_name(b));
        return ty(TY_ERROR);
    }
    Ty r = a;
    r.nullable = a.nullable || b.nullable;
    r.maxlen = a.maxlen < 0 || b.maxlen < 0 ? -1 : (a.maxlen > b.maxlen ? a.maxlen : b.maxlen);
    if (a.k == TY_REF && a.ref != b.ref)
        r.ref = NULL;                   /* several refs: kept on the node for lint */
    return r;
}

static Ty expect_kind(Sema *s, Ty t, TyKind want, const Node *at, const char *what)
{
    if (!loose(t) && t.k != want) {
        report(s, D_TYPE_MISMATCH, at->span, "%s must be a %s, found %s", what,
               sema_ty_name(ty(want)), sema_ty_name(t));
        return ty(TY_ERROR);
    }
    return t;
}

static Ty binary(Sema *s, const Node *e)
{
    Ty a = sema_use(s, sema_expr(s, e->kids[0]), e->kids[0]);
    Ty b = sema_use(s, sema_expr(s, e->kids[1]), e->kids[1]);
    Ty r;
    switch ((BinOp)e->op) {
    case BIN_COALESCE:
        r = join(s, a, b, e->span, "'?" "?'");
        r.nullable = b.nullable;
        return r;
    case BIN_OR:
    case BIN_AND:
        expect_kind(s, a, TY_BOOL, e->kids[0], "an operand of 'and'/'or'");
        expect_kind(s, b, TY_BOOL, e->kids[1], "an operand of 'and'/'or'");
        return ty(TY_BOOL);
    case BIN_EQ: case BIN_NE: case BIN_LT: case BIN_LE: case BIN_GT: case BIN_GE:
        if (!loose(a) && !loose(b) && a.k != b.k) {
            report(s, D_TYPE_MISMATCH, e->span, "comparing a %s with a %s is never true",
                   sema_ty_name(a), sema_ty_name(b));
            if (a.k == TY_STRING && b.k == TY_NUMBER)
                hint(s, "Customer.io attributes are strings: compare parse_number(…) else … with the number");
        }
        return ty(TY_BOOL);
    case BIN_IN:
    case BIN_NOT_IN:
        expect_kind(s, b, TY_LIST, e->kids[1], "the right side of 'in'");
        if (!loose(a) && b.k == TY_LIST && b.elem != TY_ERROR && b.elem != TY_ANY && b.elem != a.k)
            report(s, D_TYPE_MISMATCH, e->span, "a %s is never in a list of %s values",
                   sema_ty_name(a), sema_ty_name(ty(b.elem)));
        return ty(TY_BOOL);
    case BIN_ADD:
        if (a.k == TY_STRING || b.k == TY_STRING) {
            expect_kind(s, a, TY_STRING, e->kids[0], "each side of a string '+'");
            expect_kind(s, b, TY_STRING, e->kids[1], "each side of a string '+'");
            r = ty(TY_STRING);
            r.maxlen = a.maxlen < 0 || b.maxlen < 0 ? -1 : a.maxlen + b.maxlen;
            r.nullable = a.nullable || b.nullable;
            return r;
        }
        /* fall through */
    case BIN_SUB: case BIN_MUL: case BIN_DIV:
        expect_kind(s, a, TY_NUMBER, e->kids[0], "an operand of arithmetic");
        expect_kind(s, b, TY_NUMBER, e->kids[1], "an operand of arithmetic");
        r = ty(TY_NUMBER);
        r.nullable = a.nullable || b.nullable;
        return r;
    }
    return ty(TY_ERROR);
}

/* ---- constants and fns are typed where they are used; a cycle (reported
** by lint as [recursion]) or very deep nesting stops the expansion. */

static bool enter(Sema *s, const Decl *d)
{
    if (s->nexpanding == (int)(sizeof s->expanding / sizeof s->expanding[0]))
        return false;
    for (int i = 0; i < s->nexpanding; i++)
        if (s->expanding[i] == d)
            return false;
    s->expanding[s->nexpanding++] = d;
    return true;
}

static void leave(Sema *s)
{
    s->nexpanding--;
}

/* ---- calls */

static TyKind letter_kind(char c)
{
    switch (c) {
    case 's': return TY_STRING;
    case 'n': case 'L': return TY_NUMBER;
    case 'b': return TY_BOOL;
    case 'd': return TY_DATE;
    case 't': return TY_DATETIME;
    case 'l': return TY_LIST;
    case 'o': return TY_OBJECT;
    default: return TY_ANY;
    }
}

static bool arity_ok(Sema *s, const Node *e, int want, const char *name)
{
    if (e->nkids == want)
        return true;
    report(s, D_CALL_ARITY, e->span, "%s takes %d argument%s, %d given", name, want,
           want == 1 ? "" : "s", e->nkids);
    return false;
}

static Ty call_lookup(Sema *s, const Node *e, Ty *args)
{
    const Node *table = sema_const_value(s, e->kids[1]);
    if (!table || table->kind != N_OBJ) {
        report(s, D_TYPE_MISMATCH, e->kids[1]->span, "lookup's table must be a literal object or a constant");
        return ty(TY_ERROR);
    }
    Ty r = ty(TY_NULL);
    for (int i = 0; i < table->nkids; i++)
        r = join(s, r, sema_expr(s, table->kids[i]->kids[0]), table->kids[i]->span, "this lookup table");
    (void)args;
    return ty_null(r);
}

static Ty call_builtin(Sema *s, const Node *e, const Builtin *b)
{
    int want = (int)strlen(b->args);
    Ty args[8];
    bool nulls = false;
    for (int i = 0; i < e->nkids && i < 8; i++) {
        args[i] = sema_use(s, sema_expr(s, e->kids[i]), e->kids[i]);
        nulls |= args[i].nullable || args[i].k == TY_NULL;
    }
    if (!arity_ok(s, e, want, b->name))
        return ty(TY_ERROR);
    for (int i = 0; i < want; i++) {
        char c = b->args[i];
        if (c == 'L' && (e->kids[i]->kind != N_NUM || e->kids[i]->num < 1
                         || e->kids[i]->num != floor(e->kids[i]->num))) {
            report(s, D_TYPE_MISMATCH, e->kids[i]->span,
                   "argument %d of %s must be a literal whole number of characters", i + 1, b->name);
            return ty(TY_ERROR);
        }
        if (c != 'a' && !loose(args[i]) && args[i].k != letter_kind(c)) {
            report(s, D_TYPE_MISMATCH, e->kids[i]->span, "argument %d of %s must be a %s, found %s",
                   i + 1, b->name, sema_ty_name(ty(letter_kind(c))), sema_ty_name(args[i]));
            if (letter_kind(c) == TY_STRING && args[i].k != TY_REF)
                hint(s, "convert it with str(…)");
            return ty(TY_ERROR);
        }
        if (args[i].k == TY_REF) {
            report(s, D_TYPE_MISMATCH, e->kids[i]->span, "a ref can only be assigned to a reference field");
            return ty(TY_ERROR);
        }
    }
    Ty r;
    if (b->id == BI_IF) {
        expect_kind(s, args[0], TY_BOOL, e->kids[0], "if's condition");
        return join(s, args[1], args[2], e->span, "if(…)");
    }
    if (b->id == BI_LOOKUP)
        return call_lookup(s, e, args);
    if (b->id == BI_WHERE) {           /* a sub-list: same element shape */
        r = args[0].k == TY_LIST ? args[0] : ty(TY_LIST);
        r.nullable = args[0].nullable;
        return r;
    }
    r = ty(letter_kind(b->ret));
    if (r.k == TY_LIST)
        r.elem = TY_STRING;
    if (b->flags & BF_KEEPLEN)
        r.maxlen = args[0].k == TY_STRING ? args[0].maxlen : -1;
    if (b->flags & BF_LENARG)
        r.maxlen = (int)e->kids[1]->num;
    if (b->id == BI_HASH)
        r.maxlen = 64;
    if (b->id == BI_STR)                /* shortest round-trip form of a double */
        r.maxlen = args[0].k == TY_NUMBER ? 24 : args[0].k == TY_BOOL ? 5 : args[0].k == TY_STRING ? args[0].maxlen : -1;
    r.nullable = ((b->flags & BF_NULLPROP) && nulls) || (b->flags & BF_MAYBENULL);
    r.fallible = (b->flags & BF_FALLIBLE) != 0;
    return r;
}

/* A user fn is typed at each call with the argument types; an error in its
** body is reported once (the sink drops repeats) at the body's line. */
static Ty call_fn(Sema *s, const Node *e, const Decl *fn)
{
    Ty args[16];
    for (int i = 0; i < e->nkids && i < 16; i++)
        args[i] = sema_use(s, sema_expr(s, e->kids[i]), e->kids[i]);
    if (!arity_ok(s, e, fn->nparams, fn->name) || fn->nparams > 16 || !fn->expr)
        return ty(TY_ERROR);
    if (!enter(s, fn))
        return ty(TY_ERROR);
    const Decl *saved_fn = s->fn;
    const Ty *saved_args = s->args;
    s->fn = fn;
    s->args = args;
    Ty r = sema_expr(s, fn->expr);     /* errors that depend on the arguments show here */
    s->fn = saved_fn;
    s->args = saved_args;
    leave(s);
    return r;
}

static const char *stdlib_module_defining(const char *fn);

static Ty call(Sema *s, const Node *e)
{
    const Builtin *b = builtin_find(e->str);
    if (b)
        return call_builtin(s, e, b);
    const Decl *fn = sema_find(s, DECL_FN, e->str);
    if (fn) {
        int ix = sema_decl_index(s, fn);
        if (ix >= 0 && s->used)
            s->used[ix] = true;
        return call_fn(s, e, fn);
    }
    for (int i = 0; i < e->nkids; i++)
        sema_expr(s, e->kids[i]);
    report(s, D_UNKNOWN_FUNCTION, e->span2, "unknown function '%s'", e->str);
    const char *mod = stdlib_module_defining(e->str);
    if (mod) {
        hint(s, "'%s' is in the stdlib module %s: add `use %s`", e->str, mod, mod);
    } else {
        const char *best = NULL;
        int bestd = 3;
        for (int i = 0; i < BI__COUNT; i++) {
            int d = edit_distance(e->str, builtins[i].name);
            if (d < bestd) {
                bestd = d;
                best = builtins[i].name;
            }
        }
        if (best)
            hint(s, "did you mean '%s'?", best);
    }
    return ty(TY_ERROR);
}

/* ---- names and constants */

static Ty name(Sema *s, const Node *e)
{
    if (s->fn) {
        for (int i = 0; i < s->fn->nparams; i++)
            if (strcmp(s->fn->params[i], e->str) == 0)
                return s->args ? s->args[i] : ty_null(ty(TY_ANY));
    }
    const Decl *c = sema_find(s, DECL_CONST, e->str);
    if (c) {
        int ix = sema_decl_index(s, c);
        if (s->used)
            s->used[ix] = true;
        if (!c->expr || !enter(s, c))
            return ty(TY_ERROR);
        const Node *saved = s->shape;
        const Decl *saved_fn = s->fn;
        s->shape = NULL;
        s->fn = NULL;                       /* a constant sees no parameters */
        s->mute++;
        Ty t = sema_expr(s, c->expr);
        s->mute--;
        s->shape = saved;
        s->fn = saved_fn;
        leave(s);
        return t;
    }
    report(s, D_UNKNOWN_NAME, e->span, "unknown name '%s'", e->str);
    if (s->shape)
        hint(s, "to read a field of the record, write a path: .%s", e->str);
    return ty(TY_ERROR);
}

/* The literal a constant expression stands for (following const names). */
const Node *sema_const_value(Sema *s, const Node *e)
{
    for (int guard = 0; e && e->kind == N_NAME && guard < 32; guard++) {
        const Decl *c = sema_find(s, DECL_CONST, e->str);
        if (!c)
            return NULL;
        int ix = sema_decl_index(s, c);
        if (s->used)
            s->used[ix] = true;
        e = c->expr;
    }
    return e;
}

/* The schema's object, or NULL after reporting [unknown-object]. */
SfObject *sema_object(Sema *s, const char *name, Span at)
{
    SfObject *o = schema_object(s->schema, name);
    if (!o) {
        report(s, D_UNKNOWN_OBJECT, at, "unknown object '%s'", name);
        const char *sug = schema_suggest_object(s->schema, name);
        if (sug)
            hint(s, "did you mean '%s'?", sug);
        else if (strlen(name) > 3 && strcmp(name + strlen(name) - 3, "__c") != 0)
            hint(s, "custom objects end in __c; with --schema DIR, the org's describe file for it is missing");
    }
    return o;
}

/* ---- references: ref Account(cio_account_key__c = …) */

static bool rule_produces(const Sema *s, const char *object, const char *keyfield)
{
    for (int i = 0; i < s->prog->ndecls; i++) {
        const Decl *r = s->prog->decls[i];
        if (r->kind == DECL_RULE && r->target == TGT_OBJECT && strcmp(r->object, object) == 0
            && (!keyfield || (r->keyfield && strcmp(r->keyfield, keyfield) == 0)))
            return true;
    }
    return false;
}

static Ty ref(Sema *s, const Node *e)
{
    const Node *key = e->kids[e->nkids - 1];
    Ty kt = sema_use(s, sema_expr(s, key), key);
    for (int i = 0; i < e->nkids - 1; i++) {
        const Node *on = e->kids[i];
        SfObject *o = sema_object(s, on->str, on->span);
        if (!o)
            continue;
        SfField *f = schema_field(o, e->str);
        if (!f) {
            report(s, D_UNKNOWN_FIELD, e->span2, "%s has no field '%s'", o->name, e->str);
            continue;
        }
        if (e->flag) {                  /* ref existing: Salesforce looks it up */
            if (!f->external && !f->idlookup) {
                report(s, D_REF_NOT_EXTERNAL, e->span2,
                       "%s.%s is neither an External ID nor an idLookup field: Salesforce cannot find a record by it",
                       o->name, f->name);
                hint(s, "look existing records up by an External ID or a field such as Email or Username");
            }
        } else if (!f->external) {
            report(s, D_REF_NOT_EXTERNAL, e->span2,
                   "%s.%s is not an External ID: the records the rules make are found by their upsert key", o->name,
                   f->name);
            hint(s, f->idlookup ? "to point at records already in the org, write `ref existing %s(%s = …)`"
                                : "refer by the key field of the rule that makes %s records", o->name, f->name);
        } else if (!rule_produces(s, o->name, NULL)) {
            report(s, D_REF_UNPRODUCED, on->span, "no rule produces %s records", o->name);
            hint(s, "add a rule `-> %s` keyed by %s, or write `ref existing %s(…)` for records already in the org",
                 o->name, f->name, o->name);
        } else if (!rule_produces(s, o->name, f->name)) {
            report(s, D_REF_UNPRODUCED, e->span2, "no rule produces %s records keyed by %s", o->name, f->name);
        }
        if (!loose(kt) && kt.k != TY_STRING && kt.k != TY_NUMBER)
            report(s, D_TYPE_MISMATCH, key->span, "a reference key must be a string or number, found %s",
                   sema_ty_name(kt));
    }
    Ty r = ty(TY_REF);
    r.ref = e;
    r.nullable = kt.nullable;
    return r;
}

/* ---- expressions */

static Ty list_or_obj(Sema *s, const Node *e)
{
    Ty r = ty(e->kind == N_LIST ? TY_LIST : TY_OBJECT);
    r.elem = TY_NULL;
    for (int i = 0; i < e->nkids; i++) {
        const Node *v = e->kind == N_LIST ? e->kids[i] : e->kids[i]->kids[0];
        Ty t = sema_use(s, sema_expr(s, v), v);
        if (e->kind == N_OBJ)
            for (int j = 0; j < i; j++)
                if (strcmp(e->kids[j]->str, e->kids[i]->str) == 0) {
                    report(s, D_DUPLICATE_KEY, e->kids[i]->span2, "key '%s' appears twice in this object",
                           e->kids[i]->str);
                    break;
                }
        if (r.elem == TY_NULL)
            r.elem = t.k;
        else if (r.elem != t.k && t.k != TY_NULL)
            r.elem = TY_ANY;
    }
    if (r.elem == TY_NULL)
        r.elem = TY_ANY;
    return r;
}

static Ty else_expr(Sema *s, const Node *e)
{
    Ty a = sema_expr(s, e->kids[0]);
    const Node *fb = e->kids[1];
    if (!a.fallible && a.k != TY_ERROR) {
        report(s, D_TYPE_MISMATCH, e->span2, "this value cannot fail, so `else` never applies");
        hint(s, "`else` handles a failed parse_…/fits call; for a value that may be missing, use ??");
    }
    a.fallible = false;
    if (fb->kind == N_QUARANTINE)
        return a;
    Ty b = sema_use(s, sema_expr(s, fb), fb);
    Ty r = join(s, a, b, e->span, "'else'");
    r.nullable = b.nullable || (a.nullable && b.k != TY_NULL);
    if (b.k == TY_NULL)
        r.nullable = true;
    return r;
}

/* The expression's source text without white space outside string literals,
** to compare keys and to match `when` facts. */
char *sema_node_text(const Node *e)
{
    return sema_span_text(e->span);
}

char *sema_span_text(Span sp)
{
    const SrcFile *f = srcloc_file(sp.file);
    Buf b = {0};
    buf_put(&b, "", 0);
    bool quoted = false;
    for (int i = sp.start; f && i < sp.end; i++) {
        char c = f->text[i];
        if (quoted && c == '\\' && i + 1 < sp.end) {
            buf_put(&b, &f->text[i], 2);
            i++;
            continue;
        }
        if (c == '"')
            quoted = !quoted;
        if (quoted || (c != ' ' && c != '\t' && c != '\n' && c != '\r'))
            buf_put(&b, &c, 1);
    }
    return b.s;
}

/*
** A rule's `when X != null and …` makes X non-null inside the rule: the
** same expression (same text) is then typed as non-null.
*/
static Ty narrow_span(Sema *s, Span sp, Ty t)
{
    if (!t.nullable || !s->facts.n || s->fn)
        return t;
    char *text = sema_span_text(sp);
    for (int i = 0; i < s->facts.n; i++)
        if (strcmp(s->facts.v[i], text) == 0)
            t.nullable = false;
    free(text);
    return t;
}

static Ty narrow(Sema *s, const Node *e, Ty t)
{
    return narrow_span(s, e->span, t);
}

static Ty expr_kind(Sema *s, const Node *e);

Ty sema_expr(Sema *s, const Node *e)
{
    return narrow(s, e, expr_kind(s, e));
}

static Ty expr_kind(Sema *s, const Node *e)
{
    Ty r;
    switch (e->kind) {
    case N_STR:
        r = ty(TY_STRING);
        r.maxlen = utf8_chars(e->str);
        return r;
    case N_NUM: return ty(TY_NUMBER);
    case N_BOOL: return ty(TY_BOOL);
    case N_NULL: return ty_null(ty(TY_NULL));
    case N_LIST:
    case N_OBJ: return list_or_obj(s, e);
    case N_PATH: return path(s, e);
    case N_NAME: return name(s, e);
    case N_CALL: return call(s, e);
    case N_BIN: return binary(s, e);
    case N_NOT:
        r = sema_use(s, sema_expr(s, e->kids[0]), e->kids[0]);
        expect_kind(s, r, TY_BOOL, e->kids[0], "the operand of 'not'");
        return ty(TY_BOOL);
    case N_NEG:
        r = sema_use(s, sema_expr(s, e->kids[0]), e->kids[0]);
        return expect_kind(s, r, TY_NUMBER, e->kids[0], "the operand of '-'");
    case N_ELSE: return else_expr(s, e);
    case N_REF: return ref(s, e);
    default:
        return ty(TY_ERROR);
    }
}

/* ---- stdlib module lookup for hints (set by check.c) */

static const char *(*module_lookup)(const char *fn);
void sema_set_module_lookup(const char *(*fn)(const char *));
void sema_set_module_lookup(const char *(*fn)(const char *))
{
    module_lookup = fn;
}

static const char *stdlib_module_defining(const char *fn)
{
    return module_lookup ? module_lookup(fn) : NULL;
}

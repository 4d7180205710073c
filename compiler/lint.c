/*
** lint: checks that need the whole program — split coverage, duplicate
** names and keys, unused constants, unreachable rules and test blocks.
*/
#include "sema.h"
#include "builtin_info.h"
#include "emit.h"
#include "diag.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- splits */

enum { NORM_LOWER = 1, NORM_UPPER = 2, NORM_TRIM = 4 };

/* What the split value's outer calls guarantee: lower(trim(x ?? "")) is
** lower-cased and trimmed, so a branch value "Lead " can never match. */
static int normalisation(const Sema *s, const Node *e)
{
    int norm = 0;
    for (int guard = 0; e && e->kind == N_CALL && guard < 32; guard++) {
        const Decl *fn = sema_find(s, DECL_FN, e->str);
        if (fn && !builtin_find(e->str)) {
            e = fn->expr;                   /* stage(.) = lower(trim(…)) */
            continue;
        }
        if (e->nkids < 1)
            break;
        if (strcmp(e->str, "lower") == 0) norm |= NORM_LOWER;
        else if (strcmp(e->str, "upper") == 0) norm |= NORM_UPPER;
        else if (strcmp(e->str, "trim") == 0) norm |= NORM_TRIM;
        else break;
        e = e->kids[0];
    }
    return norm;
}

static const char *never_matches(const char *v, int norm)
{
    size_t n = strlen(v);
    for (const char *p = v; *p; p++) {
        if ((norm & NORM_LOWER) && isupper((unsigned char)*p))
            return "the split value is lower-cased";
        if ((norm & NORM_UPPER) && islower((unsigned char)*p))
            return "the split value is upper-cased";
    }
    if ((norm & NORM_TRIM) && n && (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1])))
        return "the split value is trimmed";
    return NULL;
}

typedef struct Seen {
    const Node *value;
    const Node *branch;
} Seen;

static const char *scalar_text(const Node *v, char *buf, size_t n)
{
    if (v->kind == N_STR)
        return v->str;
    if (v->kind == N_NUM)
        return v->str;
    if (v->kind == N_BOOL)
        return v->flag ? "true" : "false";
    snprintf(buf, n, "null");
    return v->kind == N_NULL ? buf : NULL;
}

/* Where to point for a branch value: the value itself, or the branch's
** expression when the value comes from a constant declared elsewhere. */
static Span value_span(const Node *v, const Node *br)
{
    const Node *x = br->kids[0];
    bool inside = v->span.file == x->span.file && v->span.start >= x->span.start && v->span.end <= x->span.end;
    return inside ? v->span : x->span;
}

static void branch_value(Sema *s, const Node *v, Ty split_ty, int norm, Seen *seen, int *nseen, const Node *br)
{
    char tmp[8];
    if (!v)
        return;
    const char *text = scalar_text(v, tmp, sizeof tmp);
    if (!text) {
        diag_report(D_TYPE_MISMATCH, value_span(v, br), "split branch values must be literals or constants");
        return;
    }
    Ty vt = sema_expr(s, v);
    if (split_ty.k != TY_ANY && split_ty.k != TY_ERROR && vt.k != TY_NULL && vt.k != split_ty.k) {
        diag_report(D_TYPE_MISMATCH, value_span(v, br), "the split value is a %s, so a %s never matches it",
                    sema_ty_name(split_ty), sema_ty_name(vt));
        return;
    }
    for (int i = 0; i < *nseen; i++) {
        char t2[8];
        if (seen[i].value->kind == v->kind && strcmp(scalar_text(seen[i].value, t2, sizeof t2), text) == 0) {
            int line, col;
            srcloc_linecol(seen[i].branch->span.file, seen[i].branch->span.start, &line, &col);
            diag_report(D_SPLIT_OVERLAP, value_span(v, br), "'%s' is already routed by the branch on line %d", text, line);
            diag_hint("a record must go to exactly one branch: remove one of the two");
            return;
        }
    }
    seen[(*nseen)++] = (Seen){v, br};
    const char *why = v->kind == N_STR ? never_matches(v->str, norm) : NULL;
    if (why) {
        diag_report(D_UNREACHABLE_RULE, value_span(v, br), "'%s' can never match: %s", v->str, why);
        diag_hint("write the value the way the split expression produces it");
    }
}

static void branch_dest(Sema *s, const Decl *sp, const Node *br)
{
    if (br->op != DEST_RULE)
        return;
    const Decl *r = sema_find(s, DECL_RULE, br->str);
    if (!r) {
        diag_report(D_UNKNOWN_NAME, br->span2, "no rule named '%s'", br->str);
        return;
    }
    if (strcmp(r->kindname, sp->name) != 0)
        diag_report(D_TYPE_MISMATCH, br->span2, "rule %s reads %s records, but this split routes %s records",
                    r->name, r->kindname, sp->name);
    if (r->when) {
        diag_report(D_SPLIT_NOT_EXHAUSTIVE, r->when->span,
                    "rule %s is reached through the split on %s, and its when condition would drop the records "
                    "routed to it", r->name, sp->name);
        diag_hint("route those records in the split instead: a record must end in exactly one place");
    }
}

static void lint_split(Sema *s, const Decl *sp)
{
    for (int i = 0; i < s->prog->ndecls && s->prog->decls[i] != sp; i++) {
        const Decl *other = s->prog->decls[i];
        if (other->kind == DECL_SPLIT && strcmp(other->name, sp->name) == 0) {
            int line, col;
            srcloc_linecol(other->name_span.file, other->name_span.start, &line, &col);
            diag_report(D_SPLIT_OVERLAP, sp->name_span, "%s records are already split on line %d", sp->name, line);
            diag_hint("one split per kind routes each record to exactly one branch: merge the two");
            return;
        }
    }
    const Node *shape = sema_shape_of_kind(s, sp->name);
    if (!shape) {
        sema_unknown_kind(s, sp->name, sp->name_span);
        return;
    }
    s->shape = shape;
    s->rule = sp;
    Ty v = sema_use(s, sema_expr(s, sp->expr), sp->expr);
    if (v.k == TY_LIST || v.k == TY_OBJECT || v.k == TY_REF)
        diag_report(D_TYPE_MISMATCH, sp->expr->span, "a split routes by a single value, found a %s", sema_ty_name(v));
    int norm = normalisation(s, sp->expr);
    int cap = 16, nseen = 0, nelse = 0;
    for (int i = 0; i < sp->nbody; i++)
        if (sp->body[i]->kids[0]) {
            const Node *c = sema_const_value(s, sp->body[i]->kids[0]);
            cap += c && c->kind == N_LIST ? c->nkids : 1;
        }
    Seen *seen = xcalloc((size_t)cap, sizeof(Seen));
    for (int i = 0; i < sp->nbody; i++) {
        const Node *br = sp->body[i];
        branch_dest(s, sp, br);
        if (br->op2 == BR_ELSE) {
            if (nelse++)
                diag_report(D_SPLIT_OVERLAP, br->span, "a split has one else branch");
            continue;
        }
        if (sema_expr(s, br->kids[0]).k == TY_ERROR)
            continue;                       /* already reported: an unknown name */
        const Node *c = sema_const_value(s, br->kids[0]);
        if (br->op2 == BR_IN) {
            if (!c || c->kind != N_LIST) {
                diag_report(D_TYPE_MISMATCH, br->kids[0]->span, "'in' needs a list of values");
                continue;
            }
            for (int j = 0; j < c->nkids; j++)
                branch_value(s, c->kids[j], v, norm, seen, &nseen, br);
        } else {
            branch_value(s, c, v, norm, seen, &nseen, br);
        }
    }
    free(seen);
    if (!nelse) {
        diag_report(D_SPLIT_NOT_EXHAUSTIVE, sp->name_span,
                    "split %s has no else branch: records matching no branch would be lost", sp->name);
        diag_hint("end the split with `else -> skip \"reason\"`, `else -> quarantine \"reason\"` or `else -> <rule>`");
    }
    s->shape = NULL;
    s->rule = NULL;
}

/* ---- duplicates */

static const char *decl_noun(DeclKind k)
{
    switch (k) {
    case DECL_RULE: return "rule";
    case DECL_KIND: return "kind";
    case DECL_TEST: return "test";
    default: return "name";
    }
}

static bool same_namespace(const Decl *a, const Decl *b)
{
    bool value_a = a->kind == DECL_CONST || a->kind == DECL_FN;
    bool value_b = b->kind == DECL_CONST || b->kind == DECL_FN;
    return a->kind == b->kind || (value_a && value_b);
}

static void lint_duplicate_names(Sema *s)
{
    Program *p = s->prog;
    for (int i = 0; i < p->ndecls; i++) {
        const Decl *d = p->decls[i];
        if (d->kind == DECL_FN && builtin_find(d->name))
            diag_report(D_DUPLICATE_NAME, d->name_span, "fn '%s' has the name of a built-in function", d->name);
        const char *nm = d->kind == DECL_TEST ? d->str : d->name;
        if (!nm || !(d->kind == DECL_RULE || d->kind == DECL_CONST || d->kind == DECL_FN
                     || d->kind == DECL_KIND || d->kind == DECL_TEST))
            continue;
        for (int j = 0; j < i; j++) {
            const Decl *e = p->decls[j];
            const char *en = e->kind == DECL_TEST ? e->str : e->name;
            if (!en || !same_namespace(d, e) || strcmp(nm, en) != 0)
                continue;
            const Decl *first = e, *again = d;
            if (d->from_stdlib && !e->from_stdlib) {   /* point at the user's line */
                first = d;
                again = e;
            }
            int line, col;
            srcloc_linecol(first->name_span.file, first->name_span.start, &line, &col);
            const SrcFile *f = srcloc_file(first->name_span.file);
            diag_report(D_DUPLICATE_NAME, again->name_span, "%s '%s' is already defined at %s:%d",
                        decl_noun(d->kind), nm, f ? f->name : "?", line);
            break;
        }
    }
}

/* The `path == "literal"` conjuncts of a when clause. */
static void equalities(const Node *w, PtrVec *paths, PtrVec *lits)
{
    if (!w || w->kind != N_BIN)
        return;
    if (w->op == BIN_AND) {
        equalities(w->kids[0], paths, lits);
        equalities(w->kids[1], paths, lits);
    } else if (w->op == BIN_EQ && w->kids[1]->kind == N_STR) {
        vec_push(paths, sema_node_text(w->kids[0]));
        vec_push(lits, w->kids[1]->str);
    }
}

/* Two conditions that pin the same expression to different literals. */
static bool disjoint(const Node *wa, const Node *wb)
{
    PtrVec pa = {0}, la = {0}, pb = {0}, lb = {0};
    equalities(wa, &pa, &la);
    equalities(wb, &pb, &lb);
    bool found = false;
    for (int i = 0; i < pa.n && !found; i++)
        for (int j = 0; j < pb.n && !found; j++)
            found = strcmp(pa.v[i], pb.v[j]) == 0 && strcmp(la.v[i], lb.v[j]) != 0;
    for (int i = 0; i < pa.n; i++)
        free(pa.v[i]);
    for (int i = 0; i < pb.n; i++)
        free(pb.v[i]);
    vec_free(&pa);
    vec_free(&la);
    vec_free(&pb);
    vec_free(&lb);
    return found;
}

/* Two rules a split routes to: no record reaches both. */
static bool same_split(const Sema *s, const Decl *a, const Decl *b)
{
    const Decl *sa = ast_split_of(s->prog, a);
    return sa && sa == ast_split_of(s->prog, b);
}

static void lint_duplicate_keys(Sema *s)
{
    Program *p = s->prog;
    for (int i = 0; i < p->ndecls; i++) {
        const Decl *a = p->decls[i];
        if (a->kind != DECL_RULE || a->target != TGT_OBJECT || !a->key || a->merge)
            continue;
        char *ka = sema_node_text(a->key);
        for (int j = 0; j < i; j++) {
            const Decl *b = p->decls[j];
            if (b->kind != DECL_RULE || b->target != TGT_OBJECT || !b->key || b->merge
                || strcmp(a->object, b->object) != 0 || strcmp(a->keyfield, b->keyfield) != 0)
                continue;
            char *kb = sema_node_text(b->key);
            if (strcmp(ka, kb) == 0 && strcmp(a->kindname, b->kindname) == 0
                && (disjoint(a->when, b->when) || same_split(s, a, b))) {
                /* the same key, but no record can satisfy both conditions */
            } else if (strcmp(ka, kb) == 0) {
                diag_report(D_DUPLICATE_KEY, a->key->span,
                            "rules %s and %s both upsert %s by %s = %s: their records would overwrite each other",
                            b->name, a->name, a->object, a->keyfield, ka);
                diag_hint("prefix one key (\"%s:\" + …), or declare `merge first` if one record is meant", a->name);
            }
            free(kb);
        }
        free(ka);
    }
}

/* ---- unused and unreachable */

static void lint_unused(Sema *s)
{
    for (int i = 0; i < s->prog->ndecls; i++) {
        const Decl *d = s->prog->decls[i];
        if (d->kind == DECL_CONST && !d->from_stdlib && !s->used[i]) {
            diag_report(D_UNUSED_CONST, d->name_span, "constant '%s' is never used", d->name);
            diag_hint("remove it, or use it where its value is repeated");
        }
    }
}

/* -1 unknown, 0 false, 1 true */
static int fold(Sema *s, const Node *e)
{
    const Node *a, *b;
    switch (e->kind) {
    case N_BOOL: return e->flag;
    case N_NOT: { int v = fold(s, e->kids[0]); return v < 0 ? -1 : !v; }
    case N_BIN:
        if (e->op == BIN_AND || e->op == BIN_OR) {
            int x = fold(s, e->kids[0]), y = fold(s, e->kids[1]);
            if (e->op == BIN_AND)
                return x == 0 || y == 0 ? 0 : (x == 1 && y == 1 ? 1 : -1);
            return x == 1 || y == 1 ? 1 : (x == 0 && y == 0 ? 0 : -1);
        }
        a = sema_const_value(s, e->kids[0]);
        b = sema_const_value(s, e->kids[1]);
        if (!a || !b)
            return -1;
        if ((e->op == BIN_EQ || e->op == BIN_NE) && a->kind == N_STR && b->kind == N_STR)
            return (strcmp(a->str, b->str) == 0) == (e->op == BIN_EQ);
        if ((e->op == BIN_IN || e->op == BIN_NOT_IN) && b->kind == N_LIST && b->nkids == 0)
            return e->op == BIN_NOT_IN;
        return -1;
    default:
        return -1;
    }
}

static void lint_unreachable(Sema *s)
{
    for (int i = 0; i < s->prog->ndecls; i++) {
        const Decl *r = s->prog->decls[i];
        if (r->kind == DECL_RULE && r->when && fold(s, r->when) == 0) {
            diag_report(D_UNREACHABLE_RULE, r->when->span, "rule %s never applies: its condition is always false", r->name);
            diag_hint("fix the condition, or delete the rule");
        }
    }
}

/* ---- tests */

static void given_matches_shape(Sema *s, const Node *v, const Node *shape);


static void given_object(Sema *s, const Node *obj, const Node *shape)
{
    bool open = strcmp(shape->str, "map") == 0;
    for (int i = 0; i < obj->nkids; i++) {
        const Node *p = obj->kids[i];
        const Node *ft = open ? (shape->nkids ? shape->kids[0] : NULL) : NULL;
        if (!open) {
            for (int j = 0; j < shape->nkids && !ft; j++)
                if (strcmp(shape->kids[j]->str, p->str) == 0)
                    ft = shape->kids[j]->kids[0];
            if (!ft) {
                diag_report(D_UNKNOWN_PATH, p->span2, "the record shape has no field '%s'", p->str);
                continue;
            }
        }
        if (ft)
            given_matches_shape(s, p->kids[0], ft);
    }
}

static void given_matches_shape(Sema *s, const Node *v, const Node *t)
{
    if (v->kind == N_NEG && v->kids[0]->kind == N_NUM)
        v = v->kids[0];                          /* -12 is a number too */
    const char *tn = t->str;
    const char *want = NULL;
    switch (v->kind) {
    case N_NULL:
        if (!t->flag)
            want = tn;
        break;
    case N_STR:
        if (strcmp(tn, "string") != 0 && strcmp(tn, "any") != 0)
            want = tn;
        else if (t->num > 0 && utf8_chars(v->str) > (int)t->num)
            diag_report(D_TYPE_MISMATCH, v->span, "the record shape allows at most %d characters here (string(%d))",
                        (int)t->num, (int)t->num);
        break;
    case N_NUM: if (strcmp(tn, "number") != 0 && strcmp(tn, "any") != 0) want = tn; break;
    case N_BOOL: if (strcmp(tn, "bool") != 0 && strcmp(tn, "any") != 0) want = tn; break;
    case N_OBJ:
        if (strcmp(tn, "object") == 0 || strcmp(tn, "map") == 0)
            given_object(s, v, t);
        else if (strcmp(tn, "any") != 0)
            want = tn;
        break;
    case N_LIST:
        if (strcmp(tn, "list") == 0) {
            for (int i = 0; i < v->nkids && t->nkids; i++)
                given_matches_shape(s, v->kids[i], t->kids[0]);
        } else if (strcmp(tn, "any") != 0) {
            want = tn;
        }
        break;
    default:
        diag_report(D_TYPE_MISMATCH, v->span, "a test record holds literal JSON values");
        return;
    }
    if (want)
        diag_report(D_TYPE_MISMATCH, v->span, "the record shape has a%s %s%s here",
                    want[0] == 'a' || want[0] == 'o' ? "n" : "", want, t->flag ? " or null" : "");
}

static bool section_exists(const Sema *s, const char *kind, TargetKind tk, const char *section)
{
    for (int i = 0; i < s->prog->ndecls; i++) {
        const Decl *r = s->prog->decls[i];
        if (r->kind == DECL_RULE && r->target == tk && strcmp(r->section, section) == 0
            && (!kind || strcmp(r->kindname, kind) == 0))
            return true;
    }
    return false;
}

static bool reason_in(const Node *n, int dest, const char *reason)
{
    if (!n)
        return false;
    if (n->kind == N_QUARANTINE && dest == DEST_QUARANTINE && strcmp(n->str, reason) == 0)
        return true;
    if (n->kind == N_BRANCH && n->op == dest && strcmp(n->str, reason) == 0)
        return true;
    for (int i = 0; i < n->nkids; i++)
        if (reason_in(n->kids[i], dest, reason))
            return true;
    return false;
}

static bool reason_exists(const Sema *s, int dest, const char *reason)
{
    /* the runtime's own quarantine codes (runtime/mapper.c, runtime/input.h) */
    static const char *const codes[] = {
        "type-error", "null-key", "required-missing", "too-long", "bad-picklist", "bad-email", "bad-value",
        "no-rule", "duplicate-key", "empty-line", "bom", "invalid-utf8", "bad-json", "not-an-object",
        "line-too-long", "nul-byte"
    };
    for (size_t i = 0; dest == DEST_QUARANTINE && i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(codes[i], reason) == 0)
            return true;
    for (int i = 0; i < s->prog->ndecls; i++) {
        const Decl *d = s->prog->decls[i];
        for (int j = 0; j < d->nbody; j++)
            if (reason_in(d->body[j], dest, reason))
                return true;
        if (reason_in(d->key, dest, reason) || reason_in(d->when, dest, reason) || reason_in(d->expr, dest, reason))
            return true;
    }
    return false;
}

static void expect_record(Sema *s, const Node *ex)
{
    SfObject *o = sema_object(s, ex->str, ex->span2);
    if (!o)
        return;
    const Node *obj = ex->kids[0];
    for (int i = 0; i < obj->nkids; i++) {
        if (schema_field(o, obj->kids[i]->str))
            continue;
        diag_report(D_UNKNOWN_FIELD, obj->kids[i]->span2, "%s has no field '%s'", o->name, obj->kids[i]->str);
        const char *sug = schema_suggest_field(o, obj->kids[i]->str);
        if (sug)
            diag_hint("did you mean '%s'?", sug);
    }
}

/* Test records and expectations are literal JSON: anything else could not be compared. */
static void test_constant(Sema *s, const Node *n)
{
    Buf b = {0};
    if (n && !emit_const_json(s->prog, n, &b))
        diag_report(D_TYPE_MISMATCH, n->span, "a test's records and expected values must be literals or constants");
    buf_free(&b);
}

static void lint_test(Sema *s, const Decl *t)
{
    const char *kind = NULL;
    int ngiven = 0;
    for (int i = 0; i < t->nbody; i++) {
        const Node *st = t->body[i];
        test_constant(s, st->nkids ? st->kids[0] : NULL);
        if (st->kind == N_GIVEN) {
            ngiven++;
            kind = st->str;
            const Node *shape = sema_shape_of_kind(s, st->str);
            if (!shape)
                sema_unknown_kind(s, st->str, st->span2);
            else
                given_matches_shape(s, st->kids[0], shape);
            continue;
        }
        switch ((ExpectKind)st->op) {
        case EXPECT_RECORD: expect_record(s, st); break;
        case EXPECT_FLAG: case EXPECT_INVENTORY: case EXPECT_EXCLUDE:
            if (!section_exists(s, kind, st->op == EXPECT_FLAG ? TGT_FLAG : st->op == EXPECT_INVENTORY ? TGT_INVENTORY
                                                                                              : TGT_EXCLUDE, st->str))
                diag_report(D_UNKNOWN_NAME, st->span2, "no rule for %s records writes \"%s\"", kind ? kind : "these", st->str);
            break;
        case EXPECT_SKIP: case EXPECT_QUARANTINE:
            if (!reason_exists(s, st->op == EXPECT_SKIP ? DEST_SKIP : DEST_QUARANTINE, st->str))
                diag_report(D_UNKNOWN_NAME, st->span2, "no rule or split %s with the reason \"%s\"",
                            st->op == EXPECT_SKIP ? "skips" : "quarantines", st->str);
            break;
        case EXPECT_NOTHING_ELSE:
            break;
        }
    }
    if (ngiven != 1)
        diag_report(D_SYNTAX, t->name_span, "a test has exactly one `given` record (this one has %d)", ngiven);
}

/* ---- recursion: a const or fn that reaches itself through names and calls */

static const Decl *callee(const Sema *s, const Node *n)
{
    if (n->kind == N_NAME)
        return sema_find(s, DECL_CONST, n->str);
    if (n->kind == N_CALL)
        return sema_find(s, DECL_FN, n->str);
    return NULL;
}

static bool reaches(const Sema *s, const Node *n, const Decl *target, const Decl **path, int depth)
{
    if (!n || depth >= 16)
        return false;
    const Decl *d = callee(s, n);
    if (d == target)
        return true;
    if (d && d->expr) {
        for (int i = 0; i < depth; i++)
            if (path[i] == d)
                return false;                /* a cycle that does not pass through target */
        path[depth] = d;
        if (reaches(s, d->expr, target, path, depth + 1))
            return true;
    }
    for (int i = 0; i < n->nkids; i++)
        if (reaches(s, n->kids[i], target, path, depth))
            return true;
    return false;
}

static void lint_recursion(Sema *s)
{
    for (int i = 0; i < s->prog->ndecls; i++) {
        const Decl *d = s->prog->decls[i];
        const Decl *path[16];
        if ((d->kind == DECL_CONST || d->kind == DECL_FN) && d->expr && reaches(s, d->expr, d, path, 0)) {
            diag_report(D_RECURSION, d->name_span, "%s '%s' refers to itself", d->kind == DECL_FN ? "fn" : "constant",
                        d->name);
            diag_hint("constants and fns are expanded where they are used, so they cannot be recursive");
        }
    }
}

/* ---- kind shapes: only the documented type names */

static void lint_shape(const Node *t)
{
    static const char *const names[] = {"string", "number", "bool", "any", "object", "map", "list"};
    bool known = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !known; i++)
        known = strcmp(t->str, names[i]) == 0;
    bool wants_elem = strcmp(t->str, "map") == 0 || strcmp(t->str, "list") == 0;
    if (!known) {
        diag_report(D_UNKNOWN_NAME, t->span, "unknown type '%s' in a record shape", t->str);
        diag_hint("types: string, string(N), number, bool, any, map(T), list(T), { field: T … }, and T? for null");
    } else if (wants_elem && t->nkids != 1) {
        diag_report(D_UNKNOWN_NAME, t->span, "%s needs an element type: %s(T)", t->str, t->str);
    } else if (t->num > 0 && strcmp(t->str, "string") != 0) {
        diag_report(D_UNKNOWN_NAME, t->span, "only string takes a length: string(N)");
    }
    for (int i = 0; i < t->nkids; i++)
        lint_shape(t->kids[i]->kind == N_PAIR ? t->kids[i]->kids[0] : t->kids[i]);
}

static const char *target_word(TargetKind tk)
{
    return tk == TGT_INVENTORY ? "inventory" : tk == TGT_FLAG ? "flag" : "exclude";
}

/* A section's description (`inventory "X" = "…"`) names a section some rule
** writes, and is given once. */
static void lint_about(const Sema *s, int at)
{
    const Decl *d = s->prog->decls[at];
    if (!section_exists(s, NULL, d->target, d->section)) {
        diag_report(D_UNKNOWN_NAME, d->name_span, "no rule writes %s \"%s\"", target_word(d->target), d->section);
        diag_hint("a description belongs to a section, flag or exclusion reason that a rule's target names");
        return;
    }
    for (int j = 0; j < at; j++) {
        const Decl *e = s->prog->decls[j];
        if (e->kind != DECL_ABOUT || e->target != d->target || strcmp(e->section, d->section) != 0)
            continue;
        int line, col;
        srcloc_linecol(e->name_span.file, e->name_span.start, &line, &col);
        const SrcFile *f = srcloc_file(e->name_span.file);
        diag_report(D_DUPLICATE_NAME, d->name_span, "%s \"%s\" is already described at %s:%d",
                    target_word(d->target), d->section, f ? f->name : "?", line);
        return;
    }
}

void lint_program(Sema *s)
{
    for (int i = 0; i < s->prog->ndecls; i++)
        if (s->prog->decls[i]->kind == DECL_KIND && s->prog->decls[i]->type)
            lint_shape(s->prog->decls[i]->type);
    lint_recursion(s);
    for (int i = 0; i < s->prog->ndecls; i++) {
        const Decl *d = s->prog->decls[i];
        if (d->kind == DECL_SPLIT)
            lint_split(s, d);
        else if (d->kind == DECL_TEST)
            lint_test(s, d);
        else if (d->kind == DECL_ABOUT)
            lint_about(s, i);
    }
    lint_duplicate_names(s);
    lint_duplicate_keys(s);
    lint_unreachable(s);
    lint_unused(s);
}

/*
** graph: object graph, load order and the `mapc plan` summary.
*/
#include "graph.h"

#include <stdlib.h>
#include <string.h>

static int object_index(char **objs, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(objs[i], name) == 0)
            return i;
    return -1;
}

static void collect_refs(const Node *n, PtrVec *out)
{
    if (!n)
        return;
    if (n->kind == N_REF)
        for (int i = 0; i < n->nkids - 1; i++)
            vec_push(out, n->kids[i]->str);
    for (int i = 0; i < n->nkids; i++)
        collect_refs(n->kids[i], out);
}

/* Objects in first-written order, with their reference edges. */
static void build(const Program *prog, char ***objs, int *n, bool **deps)
{
    *objs = NULL;
    *n = 0;
    for (int i = 0; i < prog->ndecls; i++) {
        const Decl *r = prog->decls[i];
        if (r->kind == DECL_RULE && r->target == TGT_OBJECT && object_index(*objs, *n, r->object) < 0) {
            *objs = xrealloc(*objs, sizeof(char *) * (size_t)(*n + 1));
            (*objs)[(*n)++] = r->object;
        }
    }
    *deps = xcalloc((size_t)(*n) * (size_t)(*n) + 1, sizeof(bool));
    for (int i = 0; i < prog->ndecls; i++) {
        const Decl *r = prog->decls[i];
        if (r->kind != DECL_RULE || r->target != TGT_OBJECT)
            continue;
        int from = object_index(*objs, *n, r->object);
        PtrVec refs = {0};
        for (int j = 0; j < r->nbody; j++)
            collect_refs(r->body[j], &refs);
        for (int j = 0; j < refs.n; j++) {
            int to = object_index(*objs, *n, refs.v[j]);
            if (to >= 0 && to != from)
                (*deps)[from * *n + to] = true;
        }
        vec_free(&refs);
    }
}

/*
** Kahn's algorithm, taking the first ready object in written order so the
** order is stable.  Objects left over are in a cycle: they load after the
** rest, with the cyclic references filled in by a second pass.
*/
void plan_graph(const Program *prog, PlanGraph *g)
{
    char **objs;
    int n;
    bool *deps;
    build(prog, &objs, &n, &deps);
    g->objects = xcalloc((size_t)n + 1, sizeof(char *));
    g->deps = xcalloc((size_t)n * (size_t)n + 1, sizeof(bool));
    g->cyclic = xcalloc((size_t)n + 1, sizeof(bool));
    g->nobjects = 0;
    bool *done = xcalloc((size_t)n + 1, sizeof(bool));
    int *order = xcalloc((size_t)n + 1, sizeof(int));
    for (int placed = 0; placed < n;) {
        int pick = -1;
        for (int i = 0; i < n && pick < 0; i++) {
            if (done[i])
                continue;
            bool ready = true;
            for (int j = 0; j < n && ready; j++)
                ready = !deps[i * n + j] || done[j];
            if (ready)
                pick = i;
        }
        bool cyc = pick < 0;
        for (int i = 0; i < n && pick < 0; i++)
            if (!done[i])
                pick = i;
        g->cyclic[placed] = cyc;
        done[pick] = true;
        order[placed++] = pick;
    }
    for (int i = 0; i < n; i++)
        g->objects[i] = objs[order[i]];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            g->deps[i * n + j] = deps[order[i] * n + order[j]];
    g->nobjects = n;
    free(done);
    free(order);
    free(deps);
    free(objs);
}

void plan_graph_free(PlanGraph *g)
{
    free(g->objects);
    free(g->deps);
    free(g->cyclic);
    memset(g, 0, sizeof *g);
}

static void span_text(Buf *out, Span s)
{
    const SrcFile *f = srcloc_file(s.file);
    if (f)
        buf_put(out, f->text + s.start, (size_t)(s.end - s.start));
}

static void describe_kind(const Program *prog, const char *kind, Buf *out)
{
    buf_printf(out, "  %s\n", kind);
    for (int i = 0; i < prog->ndecls; i++) {
        const Decl *d = prog->decls[i];
        if (d->kind == DECL_SPLIT && strcmp(d->name, kind) == 0) {
            buf_puts(out, "    split by ");
            span_text(out, d->expr->span);
            buf_puts(out, "\n");
            for (int j = 0; j < d->nbody; j++) {
                const Node *b = d->body[j];
                buf_puts(out, "      ");
                if (b->op2 == BR_ELSE)
                    buf_puts(out, "else");
                else
                    span_text(out, b->kids[0]->span), buf_puts(out, b->op2 == BR_IN ? " (in)" : "");
                buf_printf(out, " -> %s%s%s\n", b->op == DEST_SKIP ? "skip \"" : b->op == DEST_QUARANTINE ? "quarantine \"" : "rule ",
                           b->str, b->op == DEST_RULE ? "" : "\"");
            }
        }
        if (d->kind == DECL_RULE && strcmp(d->kindname, kind) == 0) {
            static const char *const tk[] = {"", "inventory", "flag", "exclude"};
            if (d->target == TGT_OBJECT)
                buf_printf(out, "    rule %s -> %s (key %s)\n", d->name, d->object, d->keyfield ? d->keyfield : "none");
            else
                buf_printf(out, "    rule %s -> %s \"%s\"\n", d->name, tk[d->target], d->section);
        }
    }
}

void plan_describe(const Program *prog, const Schema *schema, Buf *out)
{
    (void)schema;
    for (int i = 0; i < prog->ndecls; i++)
        if (prog->decls[i]->kind == DECL_MIGRATION)
            buf_printf(out, "migration \"%s\"\n", prog->decls[i]->str);
    buf_puts(out, "source kinds:\n");
    PtrVec kinds = {0};
    int nrules = 0, ntests = 0, nfields = 0;
    for (int i = 0; i < prog->ndecls; i++) {
        const Decl *d = prog->decls[i];
        nrules += d->kind == DECL_RULE;
        ntests += d->kind == DECL_TEST;
        nfields += d->kind == DECL_FIELD;
        const char *k = d->kind == DECL_RULE ? d->kindname : d->kind == DECL_SPLIT ? d->name : NULL;
        bool seen = false;
        for (int j = 0; k && j < kinds.n && !seen; j++)
            seen = strcmp(kinds.v[j], k) == 0;
        if (k && !seen)
            vec_push(&kinds, (void *)k);
    }
    for (int i = 0; i < kinds.n; i++)
        describe_kind(prog, kinds.v[i], out);
    vec_free(&kinds);
    PlanGraph g;
    plan_graph(prog, &g);
    buf_puts(out, "load order:\n");
    for (int i = 0; i < g.nobjects; i++) {
        buf_printf(out, "  %d. %s", i + 1, g.objects[i]);
        const char *sep = " (refers to ";
        for (int j = 0; j < g.nobjects; j++)
            if (g.deps[i * g.nobjects + j]) {
                buf_printf(out, "%s%s", sep, g.objects[j]);
                sep = ", ";
            }
        buf_puts(out, sep[0] == ',' ? ")" : "");
        buf_puts(out, g.cyclic[i] ? " [cycle: second pass fills references]\n" : "\n");
    }
    plan_graph_free(&g);
    buf_printf(out, "%d rules, %d custom fields declared, %d tests\n", nrules, nfields, ntests);
}

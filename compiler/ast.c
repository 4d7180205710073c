/*
** ast: constructors and destructors for the syntax tree.
*/
#include "ast.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

Node *ast_node(NodeKind k, Span at)
{
    Node *n = xcalloc(1, sizeof(Node));
    n->kind = k;
    n->span = at;
    n->span2 = at;
    return n;
}

Node *ast_str(NodeKind k, Span at, char *str)
{
    Node *n = ast_node(k, at);
    n->str = str;
    return n;
}

Node *ast_num(Span at, double v, char *text)
{
    Node *n = ast_str(N_NUM, at, text);
    n->num = v;
    return n;
}

Span ast_join(Span a, Span b)
{
    if (a.file < 0)
        return b;
    if (b.file < 0 || b.file != a.file)
        return a;
    return (Span){a.file, a.start < b.start ? a.start : b.start, a.end > b.end ? a.end : b.end};
}

Node *ast_bin(BinOp op, Node *a, Node *b)
{
    Node *n = ast_node(N_BIN, ast_join(a->span, b->span));
    n->op = (int)op;
    ast_add(n, a);
    ast_add(n, b);
    return n;
}

Node *ast_un(NodeKind k, Span at, Node *a)
{
    Node *n = ast_node(k, ast_join(at, a->span));
    return ast_add(n, a);
}

Node *ast_add(Node *parent, Node *kid)
{
    if (parent->nkids == parent->capkids) {
        parent->capkids = parent->capkids ? parent->capkids * 2 : 4;
        parent->kids = xrealloc(parent->kids, sizeof(Node *) * (size_t)parent->capkids);
    }
    parent->kids[parent->nkids++] = kid;
    return parent;
}

Node *ast_path_root(Span at)
{
    Node *n = ast_node(N_PATH, at);
    return ast_add(n, NULL);
}

Decl *ast_decl(DeclKind k, Span at)
{
    Decl *d = xcalloc(1, sizeof(Decl));
    d->kind = k;
    d->span = at;
    d->name_span = at;
    d->file = at.file;
    return d;
}

void ast_decl_body(Decl *d, Node *stmt)
{
    d->body = xrealloc(d->body, sizeof(Node *) * (size_t)(d->nbody + 1));
    d->body[d->nbody++] = stmt;
}

void ast_decl_mod(Decl *d, Node *mod)
{
    d->mods = xrealloc(d->mods, sizeof(Node *) * (size_t)(d->nmods + 1));
    d->mods[d->nmods++] = mod;
}

void ast_decl_param(Decl *d, char *name)
{
    d->params = xrealloc(d->params, sizeof(char *) * (size_t)(d->nparams + 1));
    d->params[d->nparams++] = name;
}

void ast_program_add(Program *p, Decl *d)
{
    if (p->ndecls == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->decls = xrealloc(p->decls, sizeof(Decl *) * (size_t)p->cap);
    }
    p->decls[p->ndecls++] = d;
}

void ast_free(Node *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->nkids; i++)
        ast_free(n->kids[i]);
    free(n->kids);
    free(n->str);
    free(n->str2);
    free(n);
}

void ast_decl_free(Decl *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->str);
    free(d->object);
    ast_free(d->type);
    ast_free(d->expr);
    for (int i = 0; i < d->nmods; i++)
        ast_free(d->mods[i]);
    free(d->mods);
    for (int i = 0; i < d->nparams; i++)
        free(d->params[i]);
    free(d->params);
    free(d->kindname);
    free(d->section);
    ast_free(d->when);
    free(d->keyfield);
    ast_free(d->key);
    for (int i = 0; i < d->nbody; i++)
        ast_free(d->body[i]);
    free(d->body);
    free(d);
}

void ast_program_free(Program *p)
{
    for (int i = 0; i < p->ndecls; i++)
        ast_decl_free(p->decls[i]);
    free(p->decls);
    p->decls = NULL;
    p->ndecls = p->cap = 0;
}

const char *ast_binop_text(BinOp op)
{
    static const char *const text[] = {
        "??", "or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "+", "-", "*", "/"
    };
    return text[op];
}

const Decl *ast_split_of(const Program *p, const Decl *rule)
{
    for (int i = 0; i < p->ndecls; i++) {
        const Decl *sp = p->decls[i];
        for (int j = 0; sp->kind == DECL_SPLIT && j < sp->nbody; j++)
            if (sp->body[j]->op == DEST_RULE && strcmp(sp->body[j]->str, rule->name) == 0)
                return sp;
    }
    return NULL;
}

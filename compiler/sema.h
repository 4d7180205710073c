/*
** sema: name resolution, type checking and lints for a parsed program.
**
** check.c loads the stdlib and the user's files into one Program and a
** Schema, then calls sema_check(), which reports everything through the diag
** sink.  sema.c types expressions and rule bodies; lint.c holds the checks
** that need the whole program (splits, references, duplicates, unused and
** unreachable items, tests).
*/
#ifndef MAPC_SEMA_H
#define MAPC_SEMA_H

#include <stdbool.h>

#include "ast.h"
#include "schema.h"
#include "util.h"

typedef enum {
    TY_ERROR,     /* already reported: suppresses follow-on errors */
    TY_ANY,       /* free-form JSON: checked at run time */
    TY_NULL,
    TY_STRING, TY_NUMBER, TY_BOOL, TY_DATE, TY_DATETIME,
    TY_LIST, TY_OBJECT,
    TY_REF        /* a reference to a record another rule produces */
} TyKind;

typedef struct Ty {
    TyKind k;
    bool nullable;
    bool fallible;       /* an unhandled fallible call produced this value */
    int maxlen;          /* strings: most characters it can have; -1 unknown */
    TyKind elem;         /* lists: element kind */
    const Node *shape;   /* objects/lists read from a record: their shape */
    const Node *ref;     /* TY_REF: the N_REF node */
} Ty;

typedef struct Sema {
    Program *prog;
    Schema *schema;
    bool audit_fields;     /* `allow audit_fields` */
    /* what an expression is being checked in */
    const Decl *rule;      /* rule, split or test being checked; NULL for const/fn */
    const Node *shape;     /* shape of `.`; NULL when there is no record */
    const Decl *fn;        /* fn whose body is being typed */
    const Ty *args;        /* its argument types */
    PtrVec facts;          /* texts the rule's `when` proves non-null */
    int mute;              /* > 0: compute types without reporting */
    const Decl *expanding[32]; /* consts and fns being typed: a cycle stops here */
    int nexpanding;
    bool *used;            /* per Decl: referenced by name */
} Sema;

/* Run every check; returns the number of errors reported. */
int sema_check(Program *prog, Schema *schema);

/* sema.c, used by lint.c */
Ty sema_expr(Sema *s, const Node *e);
Ty sema_use(Sema *s, Ty t, const Node *at);
const Decl *sema_find(const Sema *s, DeclKind k, const char *name);
int sema_decl_index(const Sema *s, const Decl *d);
const Node *sema_shape_of_kind(const Sema *s, const char *kind);
void sema_unknown_kind(const Sema *s, const char *kind, Span at);
SfObject *sema_object(Sema *s, const char *name, Span at);
const Node *sema_const_value(Sema *s, const Node *e);
const char *sema_ty_name(Ty t);
char *sema_node_text(const Node *e);
char *sema_span_text(Span sp);
void sema_rule(Sema *s, const Decl *r);
void sema_field_decl(Sema *s, const Decl *d);
bool sema_api_name_valid(const char *name, const char **why);
char *sema_flatten_name(const char *prefix, const char *key);

/* lint.c */
void lint_program(Sema *s);

#endif

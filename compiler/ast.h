/*
** ast: the syntax tree of a .map file.
**
** Expressions, types, statements and branches are all Nodes (a kind, a span,
** a string, a number and a list of children); top-level items are Decls.
** Ownership: a Node owns its `str` and its children; a Decl owns its strings
** and nodes; a Program owns its Decls.  Grammar actions only call ast_*.
*/
#ifndef MAPC_AST_H
#define MAPC_AST_H

#include <stdbool.h>

#include "srcloc.h"

typedef enum {
    /* expressions */
    N_STR,        /* str = value */
    N_NUM,        /* num = value, str = source text */
    N_BOOL,       /* flag = value */
    N_NULL,
    N_LIST,       /* kids = elements */
    N_OBJ,        /* kids = N_PAIR */
    N_PAIR,       /* str = key, kids[0] = value */
    N_PATH,       /* kids[0] = base (NULL: the record), kids[1..] = N_SEG_* */
    N_SEG_FIELD,  /* str = key */
    N_SEG_INDEX,  /* kids[0] = index expression */
    N_NAME,       /* str = constant, parameter or bare identifier */
    N_CALL,       /* str = function, kids = arguments, span2 = the name */
    N_BIN,        /* op = BinOp, kids[0..1] */
    N_NOT,        /* kids[0] */
    N_NEG,        /* kids[0] */
    N_ELSE,       /* kids[0] = fallible call, kids[1] = fallback or N_QUARANTINE */
    N_QUARANTINE, /* str = reason */
    N_REF,        /* kids = N_NAME objects, str = key field, span2 = field, kids[last] = key,
                     flag = `ref existing`: a record already in the org, not one the rules make */
    /* shape types (kind declarations) */
    N_TYPE,       /* str = string|number|bool|any|list|map|object, flag = nullable,
                     kids: list/map -> element type, object -> N_PAIR(key, type) */
    /* rule-body statements */
    N_ASSIGN,     /* str = field, span2 = field, kids[0] = value */
    N_FLATTEN,    /* kids[0] = value, str = prefix, span2 = prefix, kids[1..] = entries */
    N_FLAT_ENTRY, /* str = dotted key, kids[0] = field type (N_CALL/N_NAME), str2 = explicit field */
    N_FLAT_REST,  /* str = field that receives the unlisted keys as JSON text */
    /* split branches */
    N_BRANCH,     /* op = BranchKind, kids[0] = values (NULL for else), str = rule or reason */
    /* test steps */
    N_GIVEN,      /* str = kind, kids[0] = record (N_OBJ) */
    N_EXPECT      /* op = ExpectKind, str = object or section, kids[0] = N_OBJ (optional) */
} NodeKind;

typedef enum {
    BIN_COALESCE, BIN_OR, BIN_AND, BIN_EQ, BIN_NE, BIN_LT, BIN_LE, BIN_GT, BIN_GE,
    BIN_IN, BIN_NOT_IN, BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV
} BinOp;

typedef enum { BR_VALUE, BR_IN, BR_ELSE } BranchMatch;   /* stored in Node.op2 */
typedef enum { DEST_RULE, DEST_SKIP, DEST_QUARANTINE } BranchDest; /* in Node.op */

typedef enum {
    EXPECT_RECORD, EXPECT_SKIP, EXPECT_QUARANTINE, EXPECT_FLAG, EXPECT_INVENTORY,
    EXPECT_EXCLUDE, EXPECT_NOTHING_ELSE
} ExpectKind;

typedef struct Node Node;
struct Node {
    NodeKind kind;
    Span span;
    Span span2;       /* a secondary span: a call's name, an assigned field */
    int op, op2;
    char *str, *str2;
    double num;
    bool flag;
    Node **kids;
    int nkids, capkids;
};

typedef enum {
    DECL_MIGRATION, /* str = title */
    DECL_SOURCE,    /* name = system (customerio) */
    DECL_TARGET,    /* name = system (salesforce), str = API version (may be NULL) */
    DECL_USE,       /* name = module */
    DECL_ALLOW,     /* name = permission (audit_fields) */
    DECL_FIELD,     /* object.name, type = N_CALL/N_NAME, mods = N_NAME list, str = label */
    DECL_CONST,     /* name, expr */
    DECL_FN,        /* name, params, expr */
    DECL_KIND,      /* name, type = N_TYPE object */
    DECL_SPLIT,     /* name = source kind, expr = value, body = N_BRANCH list */
    DECL_RULE,      /* see below */
    DECL_TEST,      /* str = title, body = N_GIVEN / N_EXPECT */
    DECL_ABOUT      /* target (not TGT_OBJECT), section, str = the section's description */
} DeclKind;

typedef enum { TGT_OBJECT, TGT_INVENTORY, TGT_FLAG, TGT_EXCLUDE } TargetKind;
typedef enum { MERGE_NONE, MERGE_FIRST, MERGE_LAST, MERGE_FILL } MergePolicy;

typedef struct Decl {
    DeclKind kind;
    Span span;        /* the whole item */
    Span name_span;
    char *name;
    char *str;
    char *object;     /* field: the object; rule: the target object */
    Span object_span;
    Node *type;
    Node *expr;
    Node **mods;      /* field modifiers */
    int nmods;
    char **params;    /* fn parameters */
    int nparams;
    /* rule: name: kind -> target [when expr] [key field = key] [merge policy] { body } */
    char *kindname;
    Span kind_span;
    TargetKind target;
    char *section;    /* inventory/flag section or exclusion reason */
    Node *when;
    char *keyfield;
    Span keyfield_span;
    Node *key;
    bool key_match;   /* key match F = …: find by querying F, then insert or update (not an upsert) */
    MergePolicy merge;
    Span merge_span;
    Node **body;      /* rule statements, split branches or test steps */
    int nbody;
    int file;         /* source file index */
    bool from_stdlib;
} Decl;

typedef struct Program {
    Decl **decls;
    int ndecls, cap;
} Program;

Node *ast_node(NodeKind k, Span at);
Node *ast_str(NodeKind k, Span at, char *str);  /* takes ownership of str */
Node *ast_num(Span at, double v, char *text);
Node *ast_bin(BinOp op, Node *a, Node *b);
Node *ast_un(NodeKind k, Span at, Node *a);
Node *ast_add(Node *parent, Node *kid);          /* returns parent */
Node *ast_path_root(Span at);
Span ast_join(Span a, Span b);

Decl *ast_decl(DeclKind k, Span at);
void ast_decl_body(Decl *d, Node *stmt);
void ast_decl_mod(Decl *d, Node *mod);
void ast_decl_param(Decl *d, char *name);
void ast_program_add(Program *p, Decl *d);

void ast_free(Node *n);
void ast_decl_free(Decl *d);
void ast_program_free(Program *p);

const char *ast_binop_text(BinOp op);
/* The split that routes records to rule, or NULL when the rule runs on every record. */
const Decl *ast_split_of(const Program *p, const Decl *rule);

#endif

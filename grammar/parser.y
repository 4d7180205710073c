/*
** parser.y: the grammar of the .map language (see docs/language.md).
**
** Pure, reentrant, with Span locations and LAC.  Actions only build the AST
** through ast_*.  Syntax errors are reported through the diag sink by
** yyreport_syntax_error; `program: program error` resynchronises at the next
** top-level keyword so one run reports an error per broken item.
*/
%require "3.8"
%define api.pure full
%define api.token.prefix {TOK_}
%define api.location.type {Span}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {yyscan_t scanner}
%parse-param {ParseCtx *ctx}

%code requires {
#include "ast.h"
#include "parse.h"
typedef void *yyscan_t;
}

%code provides {
int yylex(YYSTYPE *yylval, YYLTYPE *yylloc, yyscan_t scanner);
}

%code {
#include "diag.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                   \
    do {                                                              \
        if (N) {                                                      \
            (Cur).file = YYRHSLOC(Rhs, 1).file;                       \
            (Cur).start = YYRHSLOC(Rhs, 1).start;                     \
            (Cur).end = YYRHSLOC(Rhs, N).end;                         \
        } else {                                                      \
            (Cur).file = YYRHSLOC(Rhs, 0).file;                       \
            (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end;           \
        }                                                             \
    } while (0)

static void add_item(ParseCtx *ctx, Decl *d, Span at)
{
    d->span = at;
    d->file = ctx->file;
    d->from_stdlib = ctx->stdlib;
    ast_program_add(ctx->prog, d);
}

static Decl *named(DeclKind k, Span at, char *name, Span name_at)
{
    Decl *d = ast_decl(k, at);
    d->name = name;
    d->name_span = name_at;
    return d;
}

static void yyerror(YYLTYPE *loc, yyscan_t scanner, ParseCtx *ctx, const char *msg)
{
    (void)scanner;
    diag_report(D_SYNTAX, *loc, "%s", msg);
    ctx->nerrors++;
}

static int expect_of(int target)
{
    switch ((TargetKind)target) {
    case TGT_INVENTORY: return EXPECT_INVENTORY;
    case TGT_FLAG: return EXPECT_FLAG;
    case TGT_EXCLUDE: return EXPECT_EXCLUDE;
    default: return EXPECT_RECORD;
    }
}

static void dup_clause(ParseCtx *ctx, Span at, const char *what)
{
    diag_report(D_SYNTAX, at, "rule has more than one '%s' clause", what);
    ctx->nerrors++;
}
}

%union {
    char *s;
    const char *cs;
    Node *node;
    Decl *decl;
    int i;
}

%token MIGRATION "migration" SOURCE "source" TARGET "target" USE "use" ALLOW "allow"
%token FIELD "field" CONST "const" FN "fn" KIND "kind" SPLIT "split" BY "by"
%token RULE "rule" WHEN "when" KEY "key" MERGE "merge" TEST "test" GIVEN "given"
%token EXPECT "expect" NOTHING "nothing" ELSE "else" FLATTEN "flatten" AS "as"
%token REST "rest" INVENTORY "inventory" FLAG "flag" EXCLUDE "exclude" SKIP "skip"
%token QUARANTINE "quarantine" REF "ref" IN "in" NOT "not" AND "and" OR "or"
%token TRUE "true" FALSE "false" NULL "null"
%token NOTIN "not in" ARROW "->" COALESCE "??" EQ "==" NE "!=" LE "<=" GE ">="
%token <s> IDENT "identifier" STRING "string" NUMBER "number" DOTNAME "path"

%type <node> expr postfix primary fallback list elems object pairs pair fieldtype
%type <node> stmt flat_head flat_entry flat_key branch step shape shape_fields stype stype_base
%type <node> ref_head ref_objs args arglist
%type <decl> item field_head fn_head fn_params rule_head rule_clauses rule_body split_head test_head
%type <s> opt_string pair_key lhs about_text
%type <i> target_kind
%type <cs> soft_keyword any_keyword

%destructor { free($$); } <s>
%destructor { ast_free($$); } <node>
%destructor { ast_decl_free($$); } <decl>

%left "??"
%left "or"
%left "and"
%precedence "not"
%nonassoc "==" "!=" '<' "<=" '>' ">=" "in" "not in"
%left '+' '-'
%left '*' '/'
%precedence UMINUS

%%

program
    : %empty
    | program item                  { add_item(ctx, $2, @2); }
    | program error
    ;

item
    : "migration" STRING            { $$ = ast_decl(DECL_MIGRATION, @$); $$->str = $2; }
    | "source" IDENT                { $$ = named(DECL_SOURCE, @$, $2, @2); }
    | "target" IDENT opt_string     { $$ = named(DECL_TARGET, @$, $2, @2); $$->str = $3; }
    | "use" IDENT                   { $$ = named(DECL_USE, @$, $2, @2); }
    | "allow" IDENT                 { $$ = named(DECL_ALLOW, @$, $2, @2); }
    | field_head
    | field_head STRING             { $$ = $1; $$->str = $2; }
    | "const" IDENT '=' expr        { $$ = named(DECL_CONST, @$, $2, @2); $$->expr = $4; }
    | fn_head ')' '=' expr          { $$ = $1; $$->expr = $4; }
    | "kind" IDENT shape            { $$ = named(DECL_KIND, @$, $2, @2); $$->type = $3; }
    | split_head '}'
    | rule_clauses
    | rule_body '}'
    | test_head '}'
    | target_kind STRING '=' about_text {
          $$ = ast_decl(DECL_ABOUT, @$);
          $$->target = (TargetKind)$1; $$->section = $2; $$->name_span = @2; $$->str = $4;
      }
    ;

/* inventory "Section" = "text" "more text": adjacent strings join with a space
** (none after a string that ends in a line break). */
about_text
    : STRING
    | about_text STRING {
          size_t n = strlen($1);
          $$ = xprintf("%s%s%s", $1, n && $1[n - 1] == '\n' ? "" : " ", $2);
          free($1); free($2);
      }
    ;

opt_string
    : %empty                        { $$ = NULL; }
    | STRING
    ;

/* ---- custom field declarations: field Lead.cio_id__c text(64) external unique "label" */

field_head
    : "field" IDENT DOTNAME fieldtype {
          Span name = @3;
          name.start++;                      /* the DOTNAME token includes the '.' */
          $$ = named(DECL_FIELD, @$, $3, name);
          $$->object = $2; $$->object_span = @2; $$->type = $4;
      }
    | field_head IDENT              { $$ = $1; ast_decl_mod($$, ast_str(N_NAME, @2, $2)); }
    ;

fieldtype
    : IDENT                         { $$ = ast_str(N_NAME, @$, $1); }
    | IDENT '(' args ')'            { $$ = $3; $$->kind = N_CALL; $$->str = $1; $$->span = @$; $$->span2 = @1; }
    ;

/* ---- fn name(a, b) = expr */

fn_head
    : "fn" IDENT '('                { $$ = named(DECL_FN, @$, $2, @2); }
    | fn_params
    ;

fn_params
    : "fn" IDENT '(' IDENT          { $$ = named(DECL_FN, @$, $2, @2); ast_decl_param($$, $4); }
    | fn_params ',' IDENT           { $$ = $1; ast_decl_param($$, $3); }
    ;

/* ---- kind person { id: string?  identifiers: { … }  attributes: map(string?) } */

shape
    : '{' shape_fields '}'          { $$ = $2; $$->span = @$; }
    ;

shape_fields
    : %empty                        { $$ = ast_str(N_TYPE, @$, xstrdup("object")); }
    | shape_fields pair_key ':' stype {
          Node *p = ast_str(N_PAIR, ast_join(@2, @4), $2);
          p->span2 = @2;
          $$ = ast_add($1, ast_add(p, $4));
      }
    | shape_fields ','              { $$ = $1; }
    ;

stype
    : stype_base
    | stype_base '?'                { $$ = $1; $$->flag = true; $$->span = @$; }
    ;

stype_base
    : IDENT                         { $$ = ast_str(N_TYPE, @$, $1); }
    | IDENT '(' stype ')'           { $$ = ast_add(ast_str(N_TYPE, @$, $1), $3); }
    | IDENT '(' NUMBER ')'          { $$ = ast_str(N_TYPE, @$, $1); $$->num = strtod($3, NULL); free($3); }
    | shape
    ;

/* ---- split person by expr { "x" -> rule_name   in list -> rule_name   else -> skip "why" } */

split_head
    : "split" IDENT "by" expr '{'   { $$ = named(DECL_SPLIT, @$, $2, @2); $$->expr = $4; }
    | split_head branch             { $$ = $1; ast_decl_body($$, $2); }
    ;

branch
    : expr "->" IDENT               { $$ = ast_add(ast_str(N_BRANCH, @$, $3), $1); $$->op2 = BR_VALUE; $$->op = DEST_RULE; $$->span2 = @3; }
    | expr "->" "skip" STRING       { $$ = ast_add(ast_str(N_BRANCH, @$, $4), $1); $$->op2 = BR_VALUE; $$->op = DEST_SKIP; $$->span2 = @4; }
    | expr "->" "quarantine" STRING { $$ = ast_add(ast_str(N_BRANCH, @$, $4), $1); $$->op2 = BR_VALUE; $$->op = DEST_QUARANTINE; $$->span2 = @4; }
    | "in" expr "->" IDENT          { $$ = ast_add(ast_str(N_BRANCH, @$, $4), $2); $$->op2 = BR_IN; $$->op = DEST_RULE; $$->span2 = @4; }
    | "in" expr "->" "skip" STRING  { $$ = ast_add(ast_str(N_BRANCH, @$, $5), $2); $$->op2 = BR_IN; $$->op = DEST_SKIP; $$->span2 = @5; }
    | "in" expr "->" "quarantine" STRING { $$ = ast_add(ast_str(N_BRANCH, @$, $5), $2); $$->op2 = BR_IN; $$->op = DEST_QUARANTINE; $$->span2 = @5; }
    | "else" "->" IDENT             { $$ = ast_add(ast_str(N_BRANCH, @$, $3), NULL); $$->op2 = BR_ELSE; $$->op = DEST_RULE; $$->span2 = @3; }
    | "else" "->" "skip" STRING     { $$ = ast_add(ast_str(N_BRANCH, @$, $4), NULL); $$->op2 = BR_ELSE; $$->op = DEST_SKIP; $$->span2 = @4; }
    | "else" "->" "quarantine" STRING { $$ = ast_add(ast_str(N_BRANCH, @$, $4), NULL); $$->op2 = BR_ELSE; $$->op = DEST_QUARANTINE; $$->span2 = @4; }
    ;

/* ---- rule name: kind -> Object [when e] [key field = e] [merge first] { Field = e … } */

rule_head
    : "rule" IDENT ':' IDENT "->" IDENT {
          $$ = named(DECL_RULE, @$, $2, @2);
          $$->kindname = $4; $$->kind_span = @4;
          $$->target = TGT_OBJECT; $$->object = $6; $$->object_span = @6;
      }
    | "rule" IDENT ':' IDENT "->" target_kind STRING {
          $$ = named(DECL_RULE, @$, $2, @2);
          $$->kindname = $4; $$->kind_span = @4;
          $$->target = (TargetKind)$6; $$->section = $7; $$->object_span = @6;
      }
    ;

target_kind
    : "inventory"                   { $$ = TGT_INVENTORY; }
    | "flag"                        { $$ = TGT_FLAG; }
    | "exclude"                     { $$ = TGT_EXCLUDE; }
    ;

rule_clauses
    : rule_head
    | rule_clauses "when" expr {
          $$ = $1;
          if ($$->when) { dup_clause(ctx, @2, "when"); ast_free($3); } else $$->when = $3;
      }
    | rule_clauses "key" IDENT '=' expr {
          $$ = $1;
          if ($$->key) { dup_clause(ctx, @2, "key"); free($3); ast_free($5); }
          else { $$->keyfield = $3; $$->keyfield_span = @3; $$->key = $5; }
      }
    | rule_clauses "key" IDENT IDENT '=' expr {
          /* key match Field = e: no upsert; the org is searched by the field (see docs/language.md) */
          $$ = $1;
          if (strcmp($3, "match") != 0) {
              diag_report(D_SYNTAX, @3, "expected '=' or 'match' after 'key %s'", $3);
              diag_hint("write `key Field = …`, or `key match Field = …` for a field that is not an External ID");
              ctx->nerrors++;
              free($4);
              ast_free($6);
          } else if ($$->key) {
              dup_clause(ctx, @2, "key");
              free($4);
              ast_free($6);
          } else {
              $$->keyfield = $4; $$->keyfield_span = @4; $$->key = $6; $$->key_match = true;
          }
          free($3);
      }
    | rule_clauses "merge" IDENT {
          $$ = $1;
          MergePolicy m = strcmp($3, "first") == 0 ? MERGE_FIRST : strcmp($3, "last") == 0 ? MERGE_LAST
                        : strcmp($3, "fill") == 0 ? MERGE_FILL : MERGE_NONE;
          if (m == MERGE_NONE) {
              diag_report(D_SYNTAX, @3, "unknown merge policy '%s'", $3);
              diag_hint("use 'merge first', 'merge last' or 'merge fill'");
              ctx->nerrors++;
          } else if ($$->merge) {
              dup_clause(ctx, @2, "merge");
          }
          $$->merge = m; $$->merge_span = @$;
          free($3);
      }
    ;

rule_body
    : rule_clauses '{'              { $$ = $1; }
    | rule_body stmt                { $$ = $1; ast_decl_body($$, $2); }
    ;

stmt
    : lhs '=' expr                  { $$ = ast_add(ast_str(N_ASSIGN, @$, $1), $3); $$->span2 = @1; }
    | flat_head '}'                 { $$ = $1; $$->span = @$; }
    ;

lhs
    : IDENT
    | STRING
    | soft_keyword                  { $$ = xstrdup($1); }
    ;

/* Words that are keywords elsewhere but can name a column or a key
** (`flag = …`, `nothing: null`).  Words that start a top-level item stay
** out of column names, so a rule missing its '}' is still reported at the
** next `rule`. */
soft_keyword
    : "key" { $$ = "key"; } | "flag" { $$ = "flag"; } | "inventory" { $$ = "inventory"; }
    | "exclude" { $$ = "exclude"; } | "nothing" { $$ = "nothing"; } | "skip" { $$ = "skip"; }
    | "rest" { $$ = "rest"; } | "as" { $$ = "as"; } | "given" { $$ = "given"; } | "expect" { $$ = "expect"; }
    | "merge" { $$ = "merge"; } | "by" { $$ = "by"; } | "when" { $$ = "when"; }
    | "quarantine" { $$ = "quarantine"; }
    ;

/* Keys of object literals and shape fields may also be item words (`kind: …`). */
any_keyword
    : soft_keyword
    | "kind" { $$ = "kind"; } | "field" { $$ = "field"; } | "test" { $$ = "test"; }
    | "source" { $$ = "source"; } | "target" { $$ = "target"; } | "use" { $$ = "use"; }
    | "allow" { $$ = "allow"; } | "migration" { $$ = "migration"; } | "rule" { $$ = "rule"; }
    | "split" { $$ = "split"; } | "const" { $$ = "const"; } | "fn" { $$ = "fn"; }
    ;

/* flatten parse_json(.attributes.prefs) else {} as prefs { email_marketing: checkbox … rest as prefs_json__c } */
flat_head
    : "flatten" expr "as" IDENT '{' {
          $$ = ast_add(ast_str(N_FLATTEN, @$, $4), $2); $$->span2 = @4;
      }
    | flat_head flat_entry          { $$ = ast_add($1, $2); }
    ;

flat_entry
    : flat_key ':' fieldtype        { $$ = ast_add($1, $3); $$->span = @$; }
    | flat_key ':' fieldtype "as" IDENT {
          $$ = ast_add($1, $3); $$->str2 = $5; $$->span = @$; $$->span2 = @5;
      }
    | "rest" "as" IDENT             { $$ = ast_str(N_FLAT_REST, @$, $3); $$->span2 = @3; }
    ;

flat_key
    : IDENT                         { $$ = ast_str(N_FLAT_ENTRY, @$, $1); $$->span2 = @$; }
    | STRING                        { $$ = ast_str(N_FLAT_ENTRY, @$, $1); $$->span2 = @$; }
    | flat_key DOTNAME              {
          $$ = $1; char *k = xprintf("%s.%s", $$->str, $2);
          free($$->str); free($2); $$->str = k; $$->span2 = @$;
      }
    ;

/* ---- test "title" { given kind {…}  expect Object {…}  expect nothing else } */

test_head
    : "test" STRING '{'             { $$ = ast_decl(DECL_TEST, @$); $$->str = $2; $$->name_span = @2; }
    | test_head step                { $$ = $1; ast_decl_body($$, $2); }
    ;

step
    : "given" IDENT object          { $$ = ast_add(ast_str(N_GIVEN, @$, $2), $3); $$->span2 = @2; }
    | "expect" IDENT object         { $$ = ast_add(ast_str(N_EXPECT, @$, $2), $3); $$->op = EXPECT_RECORD; $$->span2 = @2; }
    | "expect" "skip" STRING        { $$ = ast_str(N_EXPECT, @$, $3); $$->op = EXPECT_SKIP; $$->span2 = @3; }
    | "expect" "quarantine" STRING  { $$ = ast_str(N_EXPECT, @$, $3); $$->op = EXPECT_QUARANTINE; $$->span2 = @3; }
    | "expect" target_kind STRING   { $$ = ast_str(N_EXPECT, @$, $3); $$->op = expect_of($2); $$->span2 = @3; }
    | "expect" target_kind STRING object {
          $$ = ast_add(ast_str(N_EXPECT, @$, $3), $4); $$->op = expect_of($2); $$->span2 = @3;
      }
    | "expect" "nothing" "else"     { $$ = ast_node(N_EXPECT, @$); $$->op = EXPECT_NOTHING_ELSE; }
    ;

/* ---- expressions */

expr
    : expr "??" expr                { $$ = ast_bin(BIN_COALESCE, $1, $3); }
    | expr "or" expr                { $$ = ast_bin(BIN_OR, $1, $3); }
    | expr "and" expr               { $$ = ast_bin(BIN_AND, $1, $3); }
    | "not" expr                    { $$ = ast_un(N_NOT, @1, $2); }
    | expr "==" expr                { $$ = ast_bin(BIN_EQ, $1, $3); }
    | expr "!=" expr                { $$ = ast_bin(BIN_NE, $1, $3); }
    | expr '<' expr                 { $$ = ast_bin(BIN_LT, $1, $3); }
    | expr "<=" expr                { $$ = ast_bin(BIN_LE, $1, $3); }
    | expr '>' expr                 { $$ = ast_bin(BIN_GT, $1, $3); }
    | expr ">=" expr                { $$ = ast_bin(BIN_GE, $1, $3); }
    | expr "in" expr                { $$ = ast_bin(BIN_IN, $1, $3); }
    | expr "not in" expr             { $$ = ast_bin(BIN_NOT_IN, $1, $3); }
    | expr '+' expr                 { $$ = ast_bin(BIN_ADD, $1, $3); }
    | expr '-' expr                 { $$ = ast_bin(BIN_SUB, $1, $3); }
    | expr '*' expr                 { $$ = ast_bin(BIN_MUL, $1, $3); }
    | expr '/' expr                 { $$ = ast_bin(BIN_DIV, $1, $3); }
    | '-' expr %prec UMINUS         { $$ = ast_un(N_NEG, @1, $2); }
    | postfix
    | postfix "else" fallback       { $$ = ast_add(ast_add(ast_node(N_ELSE, @$), $1), $3); $$->span2 = @2; }
    ;

fallback
    : postfix
    | '-' postfix                   { $$ = ast_un(N_NEG, @1, $2); }
    | "quarantine" STRING           { $$ = ast_str(N_QUARANTINE, @$, $2); }
    ;

postfix
    : primary
    | IDENT '(' args ')'            { $$ = $3; $$->kind = N_CALL; $$->str = $1; $$->span = @$; $$->span2 = @1; }
    | postfix DOTNAME {
          Node *seg = ast_str(N_SEG_FIELD, @2, $2);
          if ($1->kind == N_PATH) $$ = ast_add($1, seg);
          else $$ = ast_add(ast_add(ast_node(N_PATH, @1), $1), seg);
          $$->span = @$;
      }
    | postfix '[' expr ']' {
          Node *seg = ast_add(ast_node(N_SEG_INDEX, ast_join(@2, @4)), $3);
          if ($1->kind == N_PATH) $$ = ast_add($1, seg);
          else $$ = ast_add(ast_add(ast_node(N_PATH, @1), $1), seg);
          $$->span = @$;
      }
    ;

primary
    : STRING                        { $$ = ast_str(N_STR, @$, $1); }
    | NUMBER                        { $$ = ast_num(@$, strtod($1, NULL), $1); }
    | "true"                        { $$ = ast_node(N_BOOL, @$); $$->flag = true; }
    | "false"                       { $$ = ast_node(N_BOOL, @$); }
    | "null"                        { $$ = ast_node(N_NULL, @$); }
    | IDENT                         { $$ = ast_str(N_NAME, @$, $1); }
    | '.'                           { $$ = ast_path_root(@$); }
    | DOTNAME                       { $$ = ast_add(ast_path_root(@$), ast_str(N_SEG_FIELD, @$, $1)); }
    | list
    | object
    | '(' expr ')'                  { $$ = $2; }
    | ref_head ')'                  { $$ = $1; $$->span = @$; }
    ;

/* ref Lead|Contact(cio_id__c = expr), ref existing User(Email = expr) */
ref_head
    : ref_objs '(' IDENT '=' expr {
          $$ = ast_add($1, $5); $$->str = $3; $$->span2 = @3;
      }
    ;

ref_objs
    : "ref" IDENT                   { $$ = ast_add(ast_node(N_REF, @$), ast_str(N_NAME, @2, $2)); }
    | "ref" IDENT IDENT {
          /* ref existing User(Email = …): a record already in the org */
          $$ = ast_add(ast_node(N_REF, @$), ast_str(N_NAME, @3, $3));
          $$->flag = true;
          if (strcmp($2, "existing") != 0) {
              diag_report(D_SYNTAX, @2, "unexpected identifier '%s' after 'ref'", $2);
              diag_hint("write `ref Object(field = …)`, or `ref existing Object(field = …)` for records already in the org");
              ctx->nerrors++;
          }
          free($2);
      }
    | ref_objs '|' IDENT            { $$ = ast_add($1, ast_str(N_NAME, @3, $3)); }
    ;

args
    : %empty                        { $$ = ast_node(N_CALL, @$); }
    | arglist
    ;

arglist
    : expr                          { $$ = ast_add(ast_node(N_CALL, @$), $1); }
    | arglist ',' expr              { $$ = ast_add($1, $3); }
    ;

list
    : '[' ']'                       { $$ = ast_node(N_LIST, @$); }
    | '[' elems ']'                 { $$ = $2; $$->span = @$; }
    | '[' elems ',' ']'             { $$ = $2; $$->span = @$; }
    ;

elems
    : expr                          { $$ = ast_add(ast_node(N_LIST, @$), $1); }
    | elems ',' expr                { $$ = ast_add($1, $3); }
    ;

object
    : '{' '}'                       { $$ = ast_node(N_OBJ, @$); }
    | '{' pairs '}'                 { $$ = $2; $$->span = @$; }
    | '{' pairs ',' '}'             { $$ = $2; $$->span = @$; }
    ;

pairs
    : pair                          { $$ = ast_add(ast_node(N_OBJ, @$), $1); }
    | pairs ',' pair                { $$ = ast_add($1, $3); }
    ;

pair
    : pair_key ':' expr             { $$ = ast_add(ast_str(N_PAIR, @$, $1), $3); $$->span2 = @1; }
    ;

pair_key
    : STRING
    | IDENT
    | any_keyword                   { $$ = xstrdup($1); }
    ;

%%

/* A token as the user wrote it, for messages: 'rule', '}', identifier 'Foo'. */
static char *describe_token(yysymbol_kind_t tok, Span at)
{
    const SrcFile *f = srcloc_file(at.file);
    if (tok == YYSYMBOL_YYEOF)
        return xstrdup("end of file");
    if (f && (tok == YYSYMBOL_IDENT || tok == YYSYMBOL_NUMBER || tok == YYSYMBOL_DOTNAME)) {
        int n = at.end - at.start;
        return xprintf("%s '%.*s'", tok == YYSYMBOL_DOTNAME ? "path" : yysymbol_name(tok),
                       n > 40 ? 40 : n, f->text + at.start);
    }
    const char *name = yysymbol_name(tok);
    if (tok == YYSYMBOL_IDENT || tok == YYSYMBOL_STRING || tok == YYSYMBOL_NUMBER || tok == YYSYMBOL_DOTNAME
        || tok == YYSYMBOL_YYerror || tok == YYSYMBOL_YYUNDEF)
        return xstrdup(name);
    if (name[0] == '"' || name[0] == '\'') {   /* already quoted by bison */
        size_t n = strlen(name);
        return xprintf("'%.*s'", (int)(n - 2), name + 1);
    }
    return xprintf("'%s'", name);          /* keywords and punctuation */
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, yyscan_t scanner, ParseCtx *ctx)
{
    (void)scanner;
    yysymbol_kind_t tok = yypcontext_token(yyctx);
    ctx->nerrors++;
    if (tok == YYSYMBOL_YYUNDEF)            /* the lexer has already said why */
        return 0;
    Span at = *yypcontext_location(yyctx);
    char *got = describe_token(tok, at);
    yysymbol_kind_t expected[8];
    int n = yypcontext_expected_tokens(yyctx, expected, 8);
    Buf b = {0};
    buf_printf(&b, "unexpected %s", got);
    if (n > 0 && n <= 6) {
        buf_puts(&b, n == 1 ? ", expected " : ", expected one of ");
        for (int i = 0; i < n; i++) {
            char *e = describe_token(expected[i], at);
            if (strncmp(e, "identifier '", 12) == 0 || strncmp(e, "string '", 8) == 0) {
                free(e);                     /* describe the kind, not this token's text */
                e = xstrdup(yysymbol_name(expected[i]));
            }
            buf_printf(&b, "%s%s", i ? ", " : "", e);
            free(e);
        }
    }
    diag_report(D_SYNTAX, at, "%s", b.s);
    buf_free(&b);
    free(got);
    return 0;
}

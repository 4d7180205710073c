/*
** check: loading everything a program refers to, then checking it.
*/
#include "check.h"
#include "diag.h"
#include "parse.h"
#include "sema.h"
#include "stdlib_files.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sema_set_module_lookup(const char *(*fn)(const char *));
void sema_flatten_decls(Sema *s, const Decl *r);

static const StdlibFile *stdlib_find(const char *name)
{
    for (const StdlibFile *f = stdlib_files; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* Which stdlib module defines fn `name` (for "add `use x`" hints). */
static const char *module_defining(const char *name)
{
    static char module[64];
    char *needle = xprintf("fn %s(", name);
    const char *found = NULL;
    for (const StdlibFile *f = stdlib_files; f->name && !found; f++) {
        size_t n = strlen(f->name);
        if (n > 4 && strcmp(f->name + n - 4, ".map") == 0 && strstr(f->data, needle)) {
            snprintf(module, sizeof module, "%.*s", (int)(n - 4), f->name);
            found = module;
        }
    }
    free(needle);
    return found;
}

static int load_stdlib_file(const StdlibFile *f)
{
    char *name = xprintf("<stdlib>/%s", f->name);
    int file = srcloc_add(name, xstrndup(f->data, f->len), f->len);
    free(name);
    return file;
}

static void list_modules(Buf *b)
{
    for (const StdlibFile *f = stdlib_files; f->name; f++) {
        size_t n = strlen(f->name);
        if (n > 4 && strcmp(f->name + n - 4, ".map") == 0 && !strchr(f->name, '/'))
            buf_printf(b, "%s%.*s", b->len ? ", " : "", (int)(n - 4), f->name);
    }
}

/* Load a stdlib module once; reports [unknown-module] at `at`. */
static void load_module(Program *prog, const char *module, Span at, PtrVec *loaded)
{
    for (int i = 0; i < loaded->n; i++)
        if (strcmp(loaded->v[i], module) == 0)
            return;
    char *path = xprintf("%s.map", module);
    const StdlibFile *f = stdlib_find(path);
    free(path);
    if (!f) {
        diag_report(D_UNKNOWN_MODULE, at, "no stdlib module named '%s'", module);
        Buf b = {0};
        list_modules(&b);
        diag_hint("available: %s", b.s ? b.s : "none");
        buf_free(&b);
        return;
    }
    vec_push(loaded, xstrdup(module));
    parse_file(load_stdlib_file(f), prog, true);
}

/* `source x` and `use x` load modules, which may use others in turn. */
static void load_modules(Program *prog)
{
    PtrVec loaded = {0};
    for (int i = 0; i < prog->ndecls; i++) {      /* ndecls grows as modules load */
        const Decl *d = prog->decls[i];
        if (d->kind == DECL_SOURCE || d->kind == DECL_USE)
            load_module(prog, d->name, d->name_span, &loaded);
    }
    for (int i = 0; i < loaded.n; i++)
        free(loaded.v[i]);
    vec_free(&loaded);
}

/* Returns -1 when the schema cannot be read at all: checking against
** nothing would only bury the real error under unknown objects. */
static int load_schema(CheckResult *res, const char *schema_dir)
{
    const Decl *target = NULL;
    for (int i = 0; i < res->prog.ndecls && !target; i++)
        if (res->prog.decls[i]->kind == DECL_TARGET)
            target = res->prog.decls[i];
    if (target && strcmp(target->name, "salesforce") != 0) {
        diag_report(D_UNKNOWN_MODULE, target->name_span, "unknown target '%s'", target->name);
        diag_hint("mapc targets salesforce");
        return -1;
    }
    if (schema_dir) {
        if (schema_load_dir(&res->schema, schema_dir) < 0) {
            diag_report(D_IO, SPAN_NONE, "cannot read schema directory: %s", strerror(errno));
            diag_path(schema_dir);
            return -1;
        }
        return 0;
    }
    for (const StdlibFile *f = stdlib_files; f->name; f++)
        if (strncmp(f->name, "salesforce/", 11) == 0 && strstr(f->name, ".json"))
            schema_load_describe(&res->schema, load_stdlib_file(f));
    return 0;
}

static void check_permissions(Sema *s)
{
    for (int i = 0; i < s->prog->ndecls; i++) {
        const Decl *d = s->prog->decls[i];
        if (d->kind != DECL_ALLOW)
            continue;
        if (strcmp(d->name, "audit_fields") == 0)
            s->audit_fields = true;
        else
            diag_report(D_UNKNOWN_NAME, d->name_span, "unknown permission '%s' (known: audit_fields)", d->name);
    }
}

int sema_check(Program *prog, Schema *schema)
{
    Sema s = {0};
    s.prog = prog;
    s.schema = schema;
    s.used = xcalloc((size_t)prog->ndecls + 1, sizeof(bool));
    sema_set_module_lookup(module_defining);
    check_permissions(&s);
    for (int i = 0; i < prog->ndecls; i++)
        if (prog->decls[i]->kind == DECL_FIELD)
            sema_field_decl(&s, prog->decls[i]);
    for (int i = 0; i < prog->ndecls; i++)
        if (prog->decls[i]->kind == DECL_RULE)
            sema_flatten_decls(&s, prog->decls[i]);
    for (int i = 0; i < prog->ndecls; i++) {
        const Decl *d = prog->decls[i];
        if (d->kind == DECL_CONST && d->expr) {
            sema_use(&s, sema_expr(&s, d->expr), d->expr);
        } else if (d->kind == DECL_FN && d->expr) {
            s.fn = d;                      /* parameters are `any` here; a fallible */
            sema_expr(&s, d->expr);        /* result is the caller's to handle */
            s.fn = NULL;
        } else if (d->kind == DECL_RULE) {
            sema_rule(&s, d);
        }
    }
    lint_program(&s);
    free(s.used);
    return diag_errors();
}

int check_files(CheckResult *res, char **files, int nfiles, const char *schema_dir)
{
    memset(res, 0, sizeof *res);
    for (int i = 0; i < nfiles; i++) {
        int file = srcloc_read(files[i]);
        if (file < 0) {
            diag_report(D_IO, SPAN_NONE, "cannot read the file: %s", strerror(errno));
            diag_path(files[i]);
            continue;
        }
        parse_file(file, &res->prog, false);
    }
    load_modules(&res->prog);
    if (load_schema(res, schema_dir) < 0)
        return diag_errors();
    return sema_check(&res->prog, &res->schema);
}

void check_free(CheckResult *res)
{
    ast_program_free(&res->prog);
    schema_free(&res->schema);
}

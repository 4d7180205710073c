/*
** mapc: the command line.
**
**   mapc check [--format text|json] [--schema DIR] FILE...
**   mapc plan [--schema DIR] FILE...     check, then show rules and load order
**   mapc compile [--schema DIR] FILE... -o PLAN.mapb
**   mapc disasm PLAN.mapb
**   mapc schema PLAN.mapb --sfdx DIR [--force]   SFDX metadata for the plan's custom fields
**   mapc test [--schema DIR] FILE...
*/
#include "check.h"
#include "diag.h"
#include "disasm.h"
#include "emit.h"
#include "graph.h"
#include "plan.h"
#include "sfdx.h"
#include "testrun.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAPC_VERSION "0.1.0"

static int usage(FILE *to, int rc)
{
    fputs("usage: mapc check [--format text|json] [--schema DIR] FILE...\n"
          "       mapc plan [--schema DIR] FILE...\n"
          "       mapc compile [--schema DIR] FILE... -o PLAN.mapb\n"
          "       mapc disasm PLAN.mapb\n"
          "       mapc schema PLAN.mapb --sfdx DIR [--force]\n"
          "       mapc test [--schema DIR] FILE...\n"
          "       mapc opcodes                  (the opcode reference, as Markdown)\n"
          "       mapc --version | --help\n"
          "\n"
          "check    parse, resolve, type-check and lint .map rule files against the\n"
          "         Salesforce schema (the stdlib's, or the org describe files in DIR).\n"
          "         Exit status: 0 clean or warnings only, 1 errors, 2 usage.\n"
          "plan     check, then print the rules by source kind and the object load order.\n"
          "compile  check, then write the bytecode plan that maprun runs.\n"
          "disasm   verify a plan and print it: objects, rules, splits and their code.\n"
          "schema   verify a plan and write an SFDX source tree into DIR (new or empty, or\n"
          "         any with --force) that creates the custom fields and objects it writes,\n"
          "         with a permission set granting access to them:\n"
          "         sf project deploy start --source-dir DIR/force-app\n"
          "test     check and compile, then run the files' test blocks through the VM.\n", to);
    return rc;
}

typedef struct Opts {
    const char *format;
    const char *schema;
    const char *output;
    char **files;
    int nfiles;
} Opts;

static int parse_opts(int argc, char **argv, Opts *o)
{
    o->format = "text";
    o->files = xcalloc((size_t)argc, sizeof(char *));
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--format") == 0 && i + 1 < argc) {
            o->format = argv[++i];
        } else if (strncmp(a, "--format=", 9) == 0) {
            o->format = a + 9;
        } else if (strcmp(a, "--schema") == 0 && i + 1 < argc) {
            o->schema = argv[++i];
        } else if (strncmp(a, "--schema=", 9) == 0) {
            o->schema = a + 9;
        } else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
            o->output = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mapc: unknown option '%s'\n", a);
            return -1;
        } else {
            o->files[o->nfiles++] = argv[i];
        }
    }
    if (strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0) {
        fprintf(stderr, "mapc: --format must be text or json, not '%s'\n", o->format);
        return -1;
    }
    if (o->nfiles == 0) {
        fputs("mapc: no input files\n", stderr);
        return -1;
    }
    return 0;
}

static void print_diags(const char *format)
{
    Buf out = {0};
    if (strcmp(format, "json") == 0) {
        diag_render_json(&out);
        fputs(out.s, stdout);
    } else {
        diag_render_text(&out, 0);
        if (out.s)
            fputs(out.s, stderr);
        if (diag_errors() || diag_warnings())
            fprintf(stderr, "%d error%s, %d warning%s\n", diag_errors(), diag_errors() == 1 ? "" : "s",
                    diag_warnings(), diag_warnings() == 1 ? "" : "s");
    }
    buf_free(&out);
}

/* mapc test: compile in memory, verify the plan as maprun would, run the tests. */
static int run_tests(CheckResult *res)
{
    Plan built, plan;
    emit_plan(&res->prog, &res->schema, &built);
    size_t n;
    uint8_t *buf = plan_serialize(&built, &n);
    plan_free(&built);
    char err[256];
    int rc = plan_parse(&plan, buf, n, err, sizeof err);
    free(buf);
    if (rc != 0) {
        fprintf(stderr, "mapc: the compiled plan does not verify: %s\n", err);
        return 1;
    }
    int passed = 0, failed = 0;
    testrun_all(&res->prog, &plan, &passed, &failed, stdout);
    printf("%d passed, %d failed\n", passed, failed);
    plan_free(&plan);
    return failed ? 1 : 0;
}

/* mapc compile: check, then emit and write the plan (read back to verify it). */
static int write_plan(CheckResult *res, const char *path)
{
    Plan plan;
    emit_plan(&res->prog, &res->schema, &plan);
    char err[256];
    int rc = plan_write(&plan, path, err, sizeof err);
    plan_free(&plan);
    if (rc == 0) {
        Plan back;
        rc = plan_read(&back, path, err, sizeof err);
        if (rc == 0)
            plan_free(&back);
    }
    if (rc != 0)
        fprintf(stderr, "mapc: %s: %s\n", path, err);
    return rc == 0 ? 0 : 1;
}

static int disasm(int argc, char **argv)
{
    if (argc != 3)
        return usage(stderr, 2);
    Plan plan;
    char err[256];
    if (plan_read(&plan, argv[2], err, sizeof err) != 0) {
        fprintf(stderr, "mapc: %s: %s\n", argv[2], err);
        return 1;
    }
    disasm_plan(&plan, stdout);
    plan_free(&plan);
    return 0;
}

/* mapc schema PLAN.mapb --sfdx DIR [--force] */
static int schema(int argc, char **argv)
{
    const char *path = NULL, *dir = NULL;
    int flags = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--sfdx") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strncmp(a, "--sfdx=", 7) == 0) {
            dir = a + 7;
        } else if (strcmp(a, "--force") == 0) {
            flags |= SFDX_FORCE;
        } else if ((a[0] == '-' && a[1]) || path) {
            fprintf(stderr, "mapc: unexpected argument '%s'\n", a);
            return usage(stderr, 2);
        } else {
            path = a;
        }
    }
    if (!path || !dir || !*dir) {
        fputs("mapc: schema needs a plan and --sfdx DIR\n", stderr);
        return usage(stderr, 2);
    }
    Plan plan;
    char err[1024];
    if (plan_read(&plan, path, err, sizeof err) != 0) {
        fprintf(stderr, "mapc: %s: %s\n", path, err);
        return 1;
    }
    int rc = sfdx_write(&plan, dir, flags, err, sizeof err);
    plan_free(&plan);
    if (rc != 0) {
        fprintf(stderr, "mapc: %s\n", err);
        return 1;
    }
    return 0;
}

static int front_end(const char *cmd, int argc, char **argv)
{
    Opts o = {0};
    if (parse_opts(argc, argv, &o) < 0 || (strcmp(cmd, "compile") == 0 && !o.output)) {
        if (strcmp(cmd, "compile") == 0 && !o.output)
            fputs("mapc: compile needs -o PLAN.mapb\n", stderr);
        free(o.files);
        return usage(stderr, 2);
    }
    CheckResult res;
    int errors = check_files(&res, o.files, o.nfiles, o.schema);
    print_diags(o.format);
    int rc = errors ? 1 : 0;
    if (strcmp(cmd, "plan") == 0 && errors == 0) {
        Buf out = {0};
        plan_describe(&res.prog, &res.schema, &out);
        fputs(out.s, stdout);
        buf_free(&out);
    } else if (strcmp(cmd, "compile") == 0 && errors == 0) {
        rc = write_plan(&res, o.output);
    } else if (strcmp(cmd, "test") == 0 && errors == 0) {
        rc = run_tests(&res);
    }
    check_free(&res);
    diag_free_all();
    srcloc_free_all();
    free(o.files);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, 2);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
        return usage(stdout, 0);
    if (strcmp(cmd, "--version") == 0) {
        puts("mapc " MAPC_VERSION);
        return 0;
    }
    if (strcmp(cmd, "disasm") == 0)
        return disasm(argc, argv);
    if (strcmp(cmd, "schema") == 0)
        return schema(argc, argv);
    if (strcmp(cmd, "opcodes") == 0) {
        disasm_opcodes_md(stdout);
        return 0;
    }
    if (strcmp(cmd, "check") == 0 || strcmp(cmd, "plan") == 0 || strcmp(cmd, "compile") == 0
        || strcmp(cmd, "test") == 0)
        return front_end(cmd, argc, argv);
    fprintf(stderr, "mapc: unknown command '%s'\n", cmd);
    return usage(stderr, 2);
}

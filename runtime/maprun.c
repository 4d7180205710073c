/*
** maprun: the runtime's command line.
**
**   maprun stage PLAN.mapb --state DIR INPUT...
**   maprun status --state DIR
**   maprun export --state DIR --csv OUTDIR [--max-bytes N]
**   maprun load --state DIR [--job-rows N] [--job-bytes N]
**   maprun verify --state DIR [--sample N | --all]
**   maprun pull --from customerio --out DIR [--since TIME] [--kinds LIST] [--people-via export|search]
**   maprun rollback --state DIR [--plan]
**   maprun report --state DIR [--format md|html|json] [-o FILE] [--csv-dir DIR]
**   maprun deliverables --state DIR [--format md|html] [-o OUTDIR]
*/
#include "deliverables.h"
#include "export_csv.h"
#include "load.h"
#include "pull.h"
#include "readback.h"
#include "rollback.h"
#include "report.h"
#include "plan.h"
#include "stage.h"
#include "stage_run.h"
#include "state.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(FILE *to, int rc)
{
    fputs("usage: maprun pull --from customerio --out DIR [--since TIME] [--kinds LIST]\n"
          "                   [--people-via export|search]\n"
          "       maprun stage PLAN.mapb --state DIR [--max-line BYTES] [--no-read-ahead] INPUT...\n"
          "       maprun status --state DIR\n"
          "       maprun export --state DIR --csv OUTDIR [--max-bytes BYTES]\n"
          "       maprun dump --state DIR [DB]      (meta records entries quarantine refs loaded failed\n"
          "                                          jobs prior verified undone log)\n"
          "       maprun load --state DIR [--job-rows N] [--job-bytes BYTES]\n"
          "       maprun verify --state DIR [--sample N | --all]\n"
          "       maprun rollback --state DIR [--plan] [--job-rows N]\n"
          "       maprun report --state DIR [--format md|html|json] [-o FILE] [--csv-dir DIR]\n"
          "       maprun deliverables --state DIR [--format md|html] [-o OUTDIR]\n"
          "\n"
          "INPUT is KIND=PATH, or a PATH whose name gives the kind (person.ndjson,\n"
          "activity.ndjson.gz); KIND=- reads standard input.\n"
          "pull reads CIO_APP_API_KEY and CIO_REGION (us|eu) or CIO_API_URL (docs/guide.md).\n"
          "load reads SF_LOGIN_URL, SF_CLIENT_ID, SF_CLIENT_SECRET and SF_API_VERSION (docs/loading.md).\n", to);
    return rc;
}

typedef struct Args {
    const char *state, *csv, *plan;
    const char *format, *out, *csv_dir;     /* report */
    const char *from, *since, *kinds, *people_via;   /* pull */
    size_t max_line, max_bytes, job_bytes;
    unsigned long job_rows, sample;
    bool plan_only, no_read_ahead;
    char **inputs;
    int ninputs;
} Args;

static int parse_args(int argc, char **argv, Args *a)
{
    a->inputs = calloc((size_t)argc, sizeof(char *));
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(s, "--state") == 0 && more)
            a->state = argv[++i];
        else if (strcmp(s, "--csv") == 0 && more)
            a->csv = argv[++i];
        else if (strcmp(s, "--max-line") == 0 && more)
            a->max_line = strtoull(argv[++i], NULL, 10);
        else if (strcmp(s, "--max-bytes") == 0 && more)
            a->max_bytes = strtoull(argv[++i], NULL, 10);
        else if (strcmp(s, "--job-rows") == 0 && more)
            a->job_rows = strtoul(argv[++i], NULL, 10);
        else if (strcmp(s, "--sample") == 0 && more)
            a->sample = strtoul(argv[++i], NULL, 10);
        else if (strcmp(s, "--plan") == 0)
            a->plan_only = true;
        else if (strcmp(s, "--no-read-ahead") == 0)
            a->no_read_ahead = true;
        else if (strcmp(s, "--all") == 0)
            a->sample = 0;
        else if (strcmp(s, "--format") == 0 && more)
            a->format = argv[++i];
        else if (strcmp(s, "-o") == 0 && more)
            a->out = argv[++i];
        else if (strcmp(s, "--from") == 0 && more)
            a->from = argv[++i];
        else if (strcmp(s, "--out") == 0 && more)
            a->out = argv[++i];
        else if (strcmp(s, "--since") == 0 && more)
            a->since = argv[++i];
        else if (strcmp(s, "--kinds") == 0 && more)
            a->kinds = argv[++i];
        else if (strcmp(s, "--people-via") == 0 && more)
            a->people_via = argv[++i];
        else if (strcmp(s, "--csv-dir") == 0 && more)
            a->csv_dir = argv[++i];
        else if (strcmp(s, "--job-bytes") == 0 && more)
            a->job_bytes = strtoull(argv[++i], NULL, 10);
        else if (s[0] == '-' && s[1] == '-') {
            fprintf(stderr, "maprun: unknown option %s\n", s);
            return -1;
        } else if (!a->plan && strcmp(argv[1], "stage") == 0)
            a->plan = s;
        else
            a->inputs[a->ninputs++] = argv[i];
    }
    if (!a->state && strcmp(argv[1], "pull") != 0) {
        fputs("maprun: --state DIR is required\n", stderr);
        return -1;
    }
    return 0;
}

/* ---- status */

static unsigned long long num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (unsigned long long)v->valuedouble : 0;
}

static void print_counts(const cJSON *s, const char *name, const char *title)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(s, name), *it;
    if (!o || !o->child)
        return;
    printf("\n%s\n", title);
    cJSON_ArrayForEach(it, o)
        printf("  %-44s %12llu\n", it->string, (unsigned long long)it->valuedouble);
}

/* References to records no rule staged (an event of a person deleted at the
** source): counted per OBJECT.FIELD, so they show before any load. */
static int count_dangling(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Stage *st = ((void **)ctx)[0];
    cJSON *by = ((void **)ctx)[1];
    cJSON *ref = cJSON_ParseWithLength(v, vl);
    if (ref && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "existing")) && !state_ref_target(st, ref)) {
        size_t ol = strnlen(k, kl), kn;
        const char *rest = state_key_part(k, kl, &kn);
        const char *field = memchr(rest, '\0', kn);      /* KEY \0 FIELD: the field is not NUL-terminated */
        int fl = field ? (int)(kn - (size_t)(field + 1 - rest)) : 1;
        char name[256];
        snprintf(name, sizeof name, "%.*s.%.*s", (int)ol, (const char *)k, fl, field ? field + 1 : "?");
        cJSON *c = cJSON_GetObjectItemCaseSensitive(by, name);
        if (c)
            cJSON_SetNumberValue(c, c->valuedouble + 1);
        else
            cJSON_AddNumberToObject(by, name, 1);
    }
    cJSON_Delete(ref);
    return 0;
}

static void print_dangling(Stage *st)
{
    cJSON *by = cJSON_CreateObject();
    void *ctx[2] = {st, by};
    stage_scan(st, DB_REFS, "", 0, count_dangling, ctx);
    if (by->child) {
        printf("\nreferences to records not staged (their records are held at load: PARENT_NOT_STAGED):\n");
        const cJSON *c;
        cJSON_ArrayForEach(c, by)
            printf("  %-44s %12llu\n", c->string, (unsigned long long)c->valuedouble);
    }
    cJSON_Delete(by);
}

static int status(const Args *a)
{
    Stage *st;
    char err[512];
    if (stage_open(&st, a->state, false, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        return 1;
    }
    const void *v;
    size_t n;
    if (stage_get(st, DB_META, "summary", 7, &v, &n) != 1) {
        fprintf(stderr, "maprun: %s holds no staging run\n", a->state);
        stage_close(st);
        return 1;
    }
    cJSON *s = cJSON_ParseWithLength(v, n);
    printf("plan %s  %s\n\n", cJSON_GetObjectItemCaseSensitive(s, "plan")->valuestring,
           cJSON_GetObjectItemCaseSensitive(s, "migration")->valuestring);
    printf("  %-20s %12s %12s %12s %12s  %s\n", "kind", "read", "output", "excluded", "quarantined", "accounted");
    const cJSON *k;
    bool all = true;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(s, "kinds")) {
        unsigned long long rd = num(k, "read"), o = num(k, "output"), e = num(k, "excluded"), q = num(k, "quarantined");
        bool ok = rd == o + e + q;
        all &= ok;
        printf("  %-20s %12llu %12llu %12llu %12llu  %s\n", k->string, rd, o, e, q, ok ? "yes" : "NO");
    }
    print_counts(s, "excluded_by_reason", "excluded, by reason:");
    print_counts(s, "quarantined_by_code", "quarantined, by code:");
    printf("\nrules (records emitted / quarantined):\n");
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(s, "rules"))
        printf("  %-32s %12llu %12llu\n", k->string, num(k, "emitted"), num(k, "quarantined"));
    print_dangling(st);
    printf("\n%s\n", all ? "every record is accounted for: read = output + excluded + quarantined"
                         : "ACCOUNTING MISMATCH: some records are not accounted for");
    cJSON_Delete(s);
    stage_close(st);
    return all ? 0 : 1;
}

/* ---- dump: the staging area as text, one entry per line (NUL shown as |) */

static int dump_entry(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    const char *db = ctx;
    printf("%s\t", db);
    for (size_t i = 0; i < kl; i++)
        putchar(((const char *)k)[i] ? ((const char *)k)[i] : '|');
    putchar('\t');
    if (strcmp(db, "meta") == 0 && kl == 9 && memcmp(k, "plan.mapb", 9) == 0)
        printf("(%zu bytes)", vl);
    else
        for (size_t i = 0; i < vl; i++) {
            char c = ((const char *)v)[i];
            putchar(c == '\n' ? ' ' : c);
        }
    putchar('\n');
    return 0;
}

static int dump(const Args *a)
{
    Stage *st;
    char err[512];
    if (stage_open(&st, a->state, false, err, sizeof err) < 0) {
        fprintf(stderr, "maprun: %s\n", err);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < DB__COUNT; i++)           /* the log only on request: records show it */
        if ((a->ninputs == 0 && i != DB_LOG) || (a->ninputs > 0 && strcmp(a->inputs[0], stage_db_name(i)) == 0))
            rc |= stage_scan(st, (StageDb)i, "", 0, dump_entry, (void *)stage_db_name(i));
    stage_close(st);
    return rc ? 1 : 0;
}

/* Milliseconds from the environment (tests shorten the waits), or a default. */
static long env_ms(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

static int load(const Args *a)
{
    LoadOptions o = {a->state, a->job_rows, a->job_bytes, env_ms("MAPRUN_POLL_MS", 1000),
                     (int)env_ms("MAPRUN_MAX_ATTEMPTS", 5), isatty(2) != 0};
    return load_run(&o);
}

static int report(const Args *a)
{
    ReportOptions o = {a->state, REPORT_MD, a->out, a->csv_dir};
    if (a->format && report_format_parse(a->format, &o.format) < 0) {
        fprintf(stderr, "maprun: --format is md, html or json, not '%s'\n", a->format);
        return usage(stderr, 2);
    }
    if (a->ninputs > 0) {
        fprintf(stderr, "maprun: report takes no argument '%s'\n", a->inputs[0]);
        return usage(stderr, 2);
    }
    return report_run(&o);
}

static int pull(const Args *a)
{
    if (!a->from || strcmp(a->from, "customerio") != 0 || !a->out) {
        fputs(!a->from || strcmp(a->from, "customerio") == 0 ? "maprun: pull needs --from customerio --out DIR\n"
                                                             : "maprun: pull knows one source: --from customerio\n",
              stderr);
        return usage(stderr, 2);
    }
    if (a->people_via && strcmp(a->people_via, "export") != 0 && strcmp(a->people_via, "search") != 0) {
        fputs("maprun: --people-via is export or search\n", stderr);
        return 2;
    }
    PullOptions o = {a->out, a->since, a->kinds, a->people_via, isatty(2) != 0};
    return pull_run(&o);
}

static int deliverables(const Args *a)
{
    DelivOptions o = {a->state, DELIV_MD, a->out};
    if (a->format && deliv_format_parse(a->format, &o.format) < 0) {
        fprintf(stderr, "maprun: --format is md or html, not '%s'\n", a->format);
        return usage(stderr, 2);
    }
    if (a->ninputs > 0 || a->csv_dir) {
        fprintf(stderr, "maprun: deliverables takes no argument '%s'\n", a->ninputs > 0 ? a->inputs[0] : "--csv-dir");
        return usage(stderr, 2);
    }
    return deliv_run(&o);
}

static int stage(const Args *a)
{
    if (!a->plan || a->ninputs == 0) {
        fputs("maprun: stage needs a plan and at least one input\n", stderr);
        return usage(stderr, 2);
    }
    StageOptions opt = {a->max_line, isatty(2) != 0, a->no_read_ahead};
    return stage_run(a->plan, a->state, a->inputs, a->ninputs, &opt) == 0 ? 0 : 1;
}

static int export(const Args *a)
{
    if (!a->csv) {
        fputs("maprun: export needs --csv OUTDIR\n", stderr);
        return usage(stderr, 2);
    }
    return export_csv(a->state, a->csv, a->max_bytes) == 0 ? 0 : 1;
}

static int verify(const Args *a)
{
    ReadbackOptions o = {a->state, a->sample, (unsigned long)env_ms("MAPRUN_BULK_OVER", 2000),
                         env_ms("MAPRUN_POLL_MS", 1000)};
    return readback_run(&o);
}

static int rollback(const Args *a)
{
    RollbackOptions o = {a->state, a->plan_only, a->job_rows, a->job_bytes, env_ms("MAPRUN_POLL_MS", 1000)};
    return rollback_run(&o);
}

/* The commands, in the order a migration uses them. */
static const struct Command {
    const char *name;
    int (*run)(const Args *a);
} commands[] = {
    {"pull", pull}, {"stage", stage}, {"status", status}, {"export", export}, {"dump", dump},
    {"load", load}, {"verify", verify}, {"report", report}, {"deliverables", deliverables},
    {"rollback", rollback},
};

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, 2);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return usage(stdout, 0);
    const struct Command *c = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            c = &commands[i];
    if (!c) {
        fprintf(stderr, "maprun: unknown command '%s'\n", cmd);
        return usage(stderr, 2);
    }
    Args a = {0};
    int rc = parse_args(argc, argv, &a) < 0 ? usage(stderr, 2) : c->run(&a);
    free(a.inputs);
    return rc;
}

/*
** testrun: each test's `given` record goes through the mapper exactly as
** `maprun stage` would send it; the expectations are matched against what
** comes out, and a failure shows a field-by-field difference.
*/
#include "testrun.h"
#include "emit.h"
#include "mapper.h"
#include "util.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char *const target_names[] = {"record", "inventory", "flag", "exclude"};

/* The value as the test compares it: a reference is its key. */
static const cJSON *comparable(const cJSON *v)
{
    const cJSON *key = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "key") : NULL;
    return key && cJSON_GetObjectItemCaseSensitive(v, "$ref") ? key : v;
}

/* Do all expected fields match?  With out, print each difference. */
static bool fields_match(const cJSON *want, const cJSON *got, FILE *out)
{
    bool ok = true;
    const cJSON *w;
    cJSON_ArrayForEach(w, want) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(got, w->string);
        if (g && cJSON_Compare(w, comparable(g), 1))
            continue;
        ok = false;
        if (!out)
            continue;
        char *ws = cJSON_PrintUnformatted(w);
        char *gs = g ? cJSON_PrintUnformatted(comparable(g)) : NULL;
        fprintf(out, "      %s: expected %s, got %s\n", w->string, ws, gs ? gs : "(not set)");
        free(ws);
        free(gs);
    }
    return ok;
}

typedef struct Outputs {
    const Plan *plan;
    MapResult res;
    cJSON **json;          /* each emit parsed */
    bool *used;
} Outputs;

static bool emit_is(const Outputs *o, uint32_t i, int target, const char *name)
{
    const PlanRule *r = &o->plan->rules[o->res.emits[i].rule];
    if ((int)r->target != target)
        return false;
    const char *n = r->target == PT_OBJECT ? plan_s(o->plan, o->plan->objects[r->object].name)
                                           : plan_s(o->plan, r->section);
    return strcmp(n, name) == 0;
}

static bool expect_output(Outputs *o, const Node *ex, int target, const Program *prog, FILE *out)
{
    cJSON *want = NULL;
    if (ex->nkids) {
        Buf b = {0};
        if (emit_const_json(prog, ex->kids[0], &b))
            want = cJSON_Parse(b.s);
        buf_free(&b);
        if (!want) {                      /* the checker rejects this; never match by accident */
            fprintf(out, "    the expectation for %s %s is not a constant\n", target_names[target], ex->str);
            return false;
        }
    }
    int first = -1;
    for (uint32_t i = 0; i < o->res.nemits; i++) {
        if (o->used[i] || !emit_is(o, i, target, ex->str))
            continue;
        if (first < 0)
            first = (int)i;
        if (!want || fields_match(want, o->json[i], NULL)) {
            o->used[i] = true;
            cJSON_Delete(want);
            return true;
        }
    }
    fprintf(out, "    expected %s %s", target_names[target], ex->str);
    if (first < 0) {
        fprintf(out, ", but the record produced none\n");
    } else {
        fprintf(out, ", but it differs:\n");
        fields_match(want, o->json[first], out);
        o->used[first] = true;                /* reported here, not again as unexpected */
    }
    cJSON_Delete(want);
    return false;
}

static bool expect_step(Outputs *o, const Node *ex, const Program *prog, FILE *out)
{
    const MapResult *r = &o->res;
    switch ((ExpectKind)ex->op) {
    case EXPECT_RECORD: return expect_output(o, ex, PT_OBJECT, prog, out);
    case EXPECT_FLAG: return expect_output(o, ex, PT_FLAG, prog, out);
    case EXPECT_INVENTORY: return expect_output(o, ex, PT_INVENTORY, prog, out);
    case EXPECT_EXCLUDE: return expect_output(o, ex, PT_EXCLUDE, prog, out);
    case EXPECT_SKIP:
        if (r->outcome == MO_EXCLUDED && r->reason && strcmp(r->reason, ex->str) == 0)
            return true;
        fprintf(out, "    expected skip \"%s\", got %s\n", ex->str,
                r->outcome == MO_EXCLUDED ? r->reason : r->outcome == MO_OUTPUT ? "output" : r->message);
        return false;
    case EXPECT_QUARANTINE:
        if (r->outcome == MO_QUARANTINED && (strcmp(r->message, ex->str) == 0 || strcmp(r->code, ex->str) == 0))
            return true;
        fprintf(out, "    expected quarantine \"%s\", got %s%s%s\n", ex->str,
                r->outcome == MO_QUARANTINED ? "quarantine: " : r->outcome == MO_OUTPUT ? "output" : "excluded",
                r->outcome == MO_QUARANTINED ? r->message : "", "");
        return false;
    case EXPECT_NOTHING_ELSE: {
        bool ok = true;
        for (uint32_t i = 0; i < r->nemits; i++) {
            if (o->used[i])
                continue;
            const PlanRule *pr = &o->plan->rules[r->emits[i].rule];
            fprintf(out, "    unexpected output of rule %s: %s\n", plan_s(o->plan, pr->name), r->emits[i].json);
            ok = false;
        }
        return ok;
    }
    }
    return false;
}

static bool run_test(Mapper *m, const Decl *t, const Program *prog, FILE *out)
{
    const Node *given = NULL;
    for (int i = 0; i < t->nbody && !given; i++)
        if (t->body[i]->kind == N_GIVEN)
            given = t->body[i];
    Buf b = {0};
    cJSON *record = emit_const_json(prog, given->kids[0], &b) ? cJSON_Parse(b.s) : NULL;
    buf_free(&b);
    if (!record) {
        fprintf(out, "FAIL test \"%s\": its given record is not a constant\n", t->str);
        return false;
    }
    Outputs o = {mapper_plan(m), {0}, NULL, NULL};
    mapper_run(m, mapper_kind(m, given->str), record, &o.res);
    o.json = xcalloc(o.res.nemits + 1, sizeof(cJSON *));
    o.used = xcalloc(o.res.nemits + 1, sizeof(bool));
    for (uint32_t i = 0; i < o.res.nemits; i++)
        o.json[i] = cJSON_Parse(o.res.emits[i].json);
    bool ok = true;
    FILE *mem = tmpfile();
    for (int i = 0; i < t->nbody; i++)
        if (t->body[i]->kind == N_EXPECT)
            ok &= expect_step(&o, t->body[i], prog, mem ? mem : out);
    if (!ok && o.res.outcome == MO_QUARANTINED)
        fprintf(mem ? mem : out, "    (the record was quarantined: %s: %s)\n", o.res.code, o.res.message);
    if (!ok) {
        int line, col;
        srcloc_linecol(t->name_span.file, t->name_span.start, &line, &col);
        fprintf(out, "FAIL %s:%d: test \"%s\"\n", srcloc_file(t->file)->name, line, t->str);
        if (mem) {
            rewind(mem);
            int c;
            while ((c = fgetc(mem)) != EOF)
                fputc(c, out);
        }
    }
    if (mem)
        fclose(mem);
    for (uint32_t i = 0; i < o.res.nemits; i++)
        cJSON_Delete(o.json[i]);
    free(o.json);
    free(o.used);
    cJSON_Delete(record);
    return ok;
}

void testrun_all(const Program *prog, const Plan *plan, int *passed, int *failed, FILE *out)
{
    char err[256];
    Mapper *m = mapper_new(plan, err, sizeof err);
    if (!m) {
        fprintf(out, "mapc: %s\n", err);
        (*failed)++;
        return;
    }
    for (int i = 0; i < prog->ndecls; i++) {
        const Decl *d = prog->decls[i];
        if (d->kind != DECL_TEST || d->from_stdlib)
            continue;
        if (run_test(m, d, prog, out))
            (*passed)++;
        else
            (*failed)++;
    }
    mapper_free(m);
}

/*
** disasm: a plan as text, for `mapc disasm` and golden tests.  Operands
** are printed by kind (the opcode table's ARG column), so a new opcode
** needs no change here.
*/
#include "disasm.h"
#include "sftype.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const builtin_names[] = {
#define BUILTIN(id, name, args, ret, flags, doc) name,
#include "builtins.def"
#undef BUILTIN
};

static const char *const targets[] = {"object", "inventory", "flag", "exclude"};
static const char *const merges[] = {"", " merge first", " merge last", " merge fill"};

static void print_const(const Plan *p, uint32_t k, FILE *out)
{
    const PlanConst *c = &p->consts[k];
    switch (c->kind) {
    case PC_NULL: fputs("null", out); break;
    case PC_BOOL: fputs(c->num != 0 ? "true" : "false", out); break;
    case PC_NUM: fprintf(out, "%.17g", c->num); break;
    case PC_STR: fprintf(out, "\"%s\"", plan_s(p, c->str)); break;
    case PC_JSON: fputs(plan_s(p, c->str), out); break;
    }
}

static void print_operand(const Plan *p, uint32_t w, FILE *out)
{
    uint32_t a = INSTR_A(w);
    switch (op_info(INSTR_OP(w))->arg) {
    case ARG_NONE: break;
    case ARG_CONST: case ARG_FLAT: print_const(p, a, out); break;
    case ARG_JUMP: fprintf(out, "-> %04u", a); break;
    case ARG_LOCAL: fprintf(out, "local %u", a); break;
    case ARG_SLOT: fprintf(out, "slot %u", a); break;
    case ARG_STR: fprintf(out, "\"%s\"", plan_s(p, a)); break;
    case ARG_CALL: fprintf(out, "%s/%u", builtin_names[a >> 8], a & 255); break;
    case ARG_REF:
        fprintf(out, "%s%s.%s", p->refs[a].existing ? "existing " : "", plan_s(p, p->refs[a].objects),
                plan_s(p, p->refs[a].field));
        break;
    case ARG_RULE: fprintf(out, "%s", plan_s(p, p->rules[a].name)); break;
    case ARG_COUNT: fprintf(out, "%u", a); break;
    case ARG_MEMO: fprintf(out, "memo %u", a); break;
    }
}

void disasm_instr(const Plan *p, uint32_t pc, FILE *out)
{
    uint32_t w = p->code[pc];
    const OpInfo *oi = op_info(INSTR_OP(w));
    if (oi->arg == ARG_NONE) {
        fprintf(out, "  %04u  %s", pc, oi->name);
        return;
    }
    fprintf(out, "  %04u  %-11s", pc, oi->name);
    print_operand(p, w, out);
}

static void print_code(const Plan *p, uint32_t from, FILE *out)
{
    uint32_t line = 0;
    for (uint32_t pc = from; pc < p->ncode; pc++) {
        const char *file;
        uint32_t l, c;
        plan_span_of(p, pc, &file, &l, &c);
        disasm_instr(p, pc, out);
        if (l && l != line)
            fprintf(out, "    ; line %u", l);
        line = l;
        fputc('\n', out);
        Opcode op = INSTR_OP(p->code[pc]);
        if (op == OP_EMIT || (op == OP_ROUTE || op == OP_SKIP || op == OP_QUARANTINE)) {
            /* a block ends at its last terminator: the next block's entry follows */
            bool entry = false;
            for (uint32_t i = 0; i < p->nrules; i++)
                entry |= p->rules[i].pc == pc + 1;
            for (uint32_t i = 0; i < p->nsplits; i++)
                entry |= p->splits[i].pc == pc + 1;
            if (entry || pc + 1 == p->ncode)
                return;
        }
    }
}

static void print_objects(const Plan *p, FILE *out)
{
    fputs("objects (load order):\n", out);
    for (uint32_t i = 0; i < p->nobjects; i++) {
        const PlanObject *o = &p->objects[p->load_order[i]];
        fprintf(out, "  %u. %s\n", i + 1, plan_s(p, o->name));
        for (uint32_t j = 0; j < o->nfields; j++) {
            const PlanField *f = &p->fields[o->first_field + j];
            fprintf(out, "       %s %s", plan_s(p, f->name), sftype_name(f->type));
            if (f->length)
                fprintf(out, " length %u", f->length);
            static const char *const flags[] = {"required", "external", "unique", "restricted",
                                                "polymorphic", "custom", "nillable", "idlookup"};
            for (int k = 0; k < 8; k++)
                if (f->flags & (1u << k))
                    fprintf(out, " %s", flags[k]);
            if (f->refto != PLAN_NONE)
                fprintf(out, " -> %s", plan_s(p, f->refto));
            if (f->mdtype != PLAN_NONE)
                fprintf(out, " as %s", plan_s(p, f->mdtype));
            if (f->description != PLAN_NONE)
                fprintf(out, " \"%s\"", plan_s(p, f->description));
            fputc('\n', out);
        }
    }
}

void disasm_plan(const Plan *p, FILE *out)
{
    if (p->migration != PLAN_NONE)
        fprintf(out, "migration \"%s\"\n", plan_s(p, p->migration));
    if (p->api_version != PLAN_NONE)
        fprintf(out, "target salesforce \"%s\"\n", plan_s(p, p->api_version));
    print_objects(p, out);
    for (uint32_t i = 0; i < p->nnotes; i++) {          /* section descriptions, for the deliverables */
        const PlanNote *n = &p->notes[i];
        fprintf(out, "%snote %s \"%s\": %zu characters\n", i ? "" : "\n", targets[n->target],
                plan_s(p, n->section), strlen(plan_s(p, n->text)));
    }
    for (uint32_t i = 0; i < p->nrules; i++) {
        const PlanRule *r = &p->rules[i];
        fprintf(out, "\nrule %s: %s -> %s", plan_s(p, r->name), plan_s(p, r->kind), targets[r->target]);
        if (r->target == PT_OBJECT)
            fprintf(out, " %s", plan_s(p, p->objects[r->object].name));
        else
            fprintf(out, " \"%s\"", plan_s(p, r->section));
        fprintf(out, "%s%s%s\n  slots:", merges[r->merge], r->flags & PR_SPLIT_MEMBER ? " (split member)" : "",
                r->flags & PR_MATCH_KEY ? " (match key)" : "");
        for (uint32_t s = 0; s < r->nslots; s++)
            fprintf(out, " %u=%s", s, plan_s(p, p->slots[r->first_slot + s].name));
        fputc('\n', out);
        print_code(p, r->pc, out);
    }
    for (uint32_t i = 0; i < p->nsplits; i++) {
        fprintf(out, "\nsplit %s\n", plan_s(p, p->splits[i].kind));
        print_code(p, p->splits[i].pc, out);
    }
}

void disasm_opcodes_md(FILE *out)
{
    fputs("# mapc opcodes\n\n"
          "Generated from `runtime/opcodes.def` by `mapc opcodes` — do not edit.\n"
          "Each instruction is one 32-bit word: the opcode in the top 8 bits, operand A in the low 24.\n\n"
          "| opcode | operand | pops | pushes | what it does |\n|---|---|---|---|---|\n", out);
    static const char *const args[] = {"—", "constant", "code address", "local", "output slot", "string",
                                       "builtin<<8 \\| argc", "ref descriptor", "rule", "count",
                                       "flatten descriptor", "memo slot"};
    for (unsigned op = 0; op < OP__COUNT; op++) {
        const OpInfo *oi = op_info(op);
        fprintf(out, "| `%s` | %s | %s | %d | %s |\n", oi->name, args[oi->arg],
                oi->pop < 0 ? "A" : (char[]){(char)('0' + oi->pop), 0}, oi->push, oi->doc);
    }
}

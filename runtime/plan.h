/*
** plan: a compiled migration — the in-memory form of a .mapb file.
**
** mapc builds a Plan (compiler/emit.c) and writes it with plan_write();
** maprun and `mapc test` read it back with plan_read(), which verifies
** everything (checksum, bounds, operands, jump targets, stack depth) before
** anything runs.  The file format is in docs/bytecode.md.
**
** Ownership: a Plan owns all its arrays and strings; plan_free() frees them.
*/
#ifndef MAPRUN_PLAN_H
#define MAPRUN_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define PLAN_MAGIC "MAPB"
#define PLAN_VERSION 3
#define PLAN_NONE 0xFFFFFFFFu
#define PLAN_MAX_STACK 256
#define PLAN_MAX_LOCALS 256
#define PLAN_MAX_MEMOS 256

typedef enum {
#define OP(name, arg, pop, push, doc) OP_##name,
#include "opcodes.def"
#undef OP
    OP__COUNT
} Opcode;

typedef enum {
    ARG_NONE, ARG_CONST, ARG_JUMP, ARG_LOCAL, ARG_SLOT, ARG_STR, ARG_CALL, ARG_REF, ARG_RULE, ARG_COUNT, ARG_FLAT, ARG_MEMO
} OpArg;

#define INSTR(op, a) (((uint32_t)(op) << 24) | ((uint32_t)(a) & 0xFFFFFFu))
#define INSTR_OP(w) ((Opcode)((w) >> 24))
#define INSTR_A(w) ((w) & 0xFFFFFFu)

typedef struct OpInfo {
    const char *name;
    OpArg arg;
    int pop, push;
    const char *doc;
} OpInfo;

/* Bounds-checked: NULL for an unknown opcode. */
const OpInfo *op_info(unsigned op);

typedef enum { PC_NULL, PC_BOOL, PC_NUM, PC_STR, PC_JSON } PlanConstKind;

typedef struct PlanConst {
    PlanConstKind kind;
    double num;           /* PC_NUM; PC_BOOL: 0 or 1 */
    uint32_t str;         /* PC_STR: the string; PC_JSON: its JSON text */
} PlanConst;

/* Target field flags */
enum {
    PF_REQUIRED = 1, PF_EXTERNAL = 2, PF_UNIQUE = 4, PF_RESTRICTED = 8, PF_POLYMORPHIC = 16,
    PF_CUSTOM = 32, PF_NILLABLE = 64, PF_IDLOOKUP = 128
};

typedef struct PlanField {
    uint32_t name;        /* string */
    uint32_t type;        /* SfType (compiler/schema.h numbering) */
    uint32_t length;      /* characters; 0 = no limit */
    uint32_t flags;       /* PF_* */
    uint32_t picklist;    /* string: JSON array of allowed values, or PLAN_NONE */
    uint32_t refto;       /* string: JSON array of referenced objects, or PLAN_NONE */
    uint32_t relname;     /* string: relationship name, or PLAN_NONE */
    uint32_t precision, scale;
    uint32_t description; /* string: the declaration's description, or PLAN_NONE */
    uint32_t mdtype;      /* string: the Metadata API type the rules declared it as ("Text",
                             "LongTextArea", "Html"…), or PLAN_NONE for describe-only fields */
} PlanField;

typedef struct PlanObject {
    uint32_t name;        /* string */
    uint32_t first_field; /* its fields are fields[first_field .. first_field + nfields) */
    uint32_t nfields;
} PlanObject;

typedef enum { PT_OBJECT, PT_INVENTORY, PT_FLAG, PT_EXCLUDE } PlanTarget;
typedef enum { PM_NONE, PM_FIRST, PM_LAST, PM_FILL } PlanMerge;

/* One output column of a rule: a target field (object rules) or a named column. */
typedef struct PlanSlot {
    uint32_t field;       /* object rules: index into fields[]; else PLAN_NONE */
    uint32_t name;        /* string: the field's or column's name */
} PlanSlot;

enum {
    PR_SPLIT_MEMBER = 1,
    PR_MATCH_KEY = 2    /* key match: the loader finds records by querying the key, inserts or updates */
};

typedef struct PlanRule {
    uint32_t name;        /* string */
    uint32_t kind;        /* string: the source kind */
    uint32_t target;      /* PlanTarget */
    uint32_t object;      /* PT_OBJECT: objects[] index; else PLAN_NONE */
    uint32_t section;     /* string: inventory/flag section or exclusion reason; else PLAN_NONE */
    uint32_t merge;       /* PlanMerge */
    uint32_t flags;       /* PR_* */
    uint32_t pc;          /* entry of the rule's code: WHEN?, key/fields, EMIT */
    uint32_t first_slot;  /* its slots are slots[first_slot .. first_slot + nslots); slot 0 = the key */
    uint32_t nslots;
    uint32_t line;        /* source line of the rule, for messages */
} PlanRule;

typedef struct PlanSplit {
    uint32_t kind;        /* string */
    uint32_t pc;          /* code that ends in ROUTE, SKIP or QUARANTINE */
} PlanSplit;

typedef struct PlanRef {
    uint32_t objects;     /* string: JSON array of object names, in `ref A|B` order */
    uint32_t field;       /* string: the key field on those objects */
    uint32_t existing;    /* 1: `ref existing`, a record already in the org */
} PlanRef;

/* A section's description (`inventory "X" = "…"`): the introduction that
** `maprun deliverables` prints above the section's rows. */
typedef struct PlanNote {
    uint32_t target;      /* PlanTarget: PT_INVENTORY, PT_FLAG or PT_EXCLUDE */
    uint32_t section;     /* string: the section, flag or exclusion reason */
    uint32_t text;        /* string: the description */
} PlanNote;

typedef struct PlanSpan {
    uint32_t pc;          /* first instruction of the span (sorted by pc) */
    uint32_t file;        /* string: source file name */
    uint32_t line, col;
} PlanSpan;

typedef struct Plan {
    char **strs;          uint32_t nstrs;
    PlanConst *consts;    uint32_t nconsts;
    PlanField *fields;    uint32_t nfields;
    PlanObject *objects;  uint32_t nobjects;
    uint32_t *load_order; /* object indices, parents first (nobjects entries) */
    uint8_t *deps;        /* deps[i * nobjects + j]: object i refers to object j */
    PlanSlot *slots;      uint32_t nslots;
    PlanRule *rules;      uint32_t nrules;
    PlanSplit *splits;    uint32_t nsplits;
    PlanRef *refs;        uint32_t nrefs;
    uint32_t *code;       uint32_t ncode;
    PlanSpan *spans;      uint32_t nspans;
    PlanNote *notes;      uint32_t nnotes;
    uint32_t migration;   /* string: the migration's title, or PLAN_NONE */
    uint32_t api_version; /* string: `target salesforce "62.0"`'s API version, or PLAN_NONE */
    uint32_t hash;        /* CRC-32 of the file, as read or written */
} Plan;

/* Serialise; returns a malloc'd buffer and its size, or NULL. */
uint8_t *plan_serialize(Plan *p, size_t *size);
int plan_write(Plan *p, const char *path, char *err, size_t errlen);
/* Parse and verify a serialised plan; returns 0, or -1 with a reason in err. */
int plan_parse(Plan *p, const uint8_t *buf, size_t size, char *err, size_t errlen);
int plan_read(Plan *p, const char *path, char *err, size_t errlen);
/* Check every table index, operand, jump and stack depth (runtime/verify.c). */
int plan_verify(const Plan *p, char *err, size_t errlen);
void plan_free(Plan *p);

/* Helpers for building a plan (the compiler) */
uint32_t plan_str(Plan *p, const char *s);         /* interned */
uint32_t plan_const(Plan *p, PlanConst c);         /* interned */
uint32_t plan_emit(Plan *p, Opcode op, uint32_t a); /* returns the pc */

const char *plan_s(const Plan *p, uint32_t str);   /* "" for PLAN_NONE */
/* The source position of pc: file, line, col (line 0 when unknown). */
void plan_span_of(const Plan *p, uint32_t pc, const char **file, uint32_t *line, uint32_t *col);
uint32_t plan_crc32(const uint8_t *buf, size_t n);

#endif

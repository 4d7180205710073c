/*
** vm: runs one block of a plan (a rule or a split) over one record.
**
** The plan was verified when it was read, so the dispatch loop trusts every
** operand.  What the data can still get wrong (a string where an object was
** declared, a division by zero) ends the block with VM_ERROR and a message;
** the caller quarantines the record.
*/
#ifndef MAPRUN_VM_H
#define MAPRUN_VM_H

#include <stdbool.h>

#include "builtins.h"
#include "plan.h"
#include "value.h"

typedef enum {
    VM_EMIT,        /* the rule's record is in vm->slots */
    VM_NOT_APPLIED, /* a WHEN was false */
    VM_QUARANTINE,  /* vm->reason says why */
    VM_SKIP,        /* a split skipped the record: vm->reason */
    VM_ROUTE,       /* a split routed it to rule vm->route */
    VM_ERROR        /* the data did not fit: vm->reason, at vm->pc */
} VmResult;

/*
** Member lookups of the current record, remembered: the rules of one record
** read the same members (.identifiers.email, .attributes.lifecycle_stage)
** again and again, and each lookup is a linear scan of a cJSON object.
** Keyed by the object and the plan string's address; valid within one
** record (vm_begin_record forgets them), whose trees do not change or move.
*/
#define VM_MEMO 64

typedef struct VmMemo {
    const cJSON *obj;
    const char *key;
    const cJSON *found;      /* NULL: the member is not there */
    uint32_t gen;            /* the record it belongs to (Vm.gen) */
} VmMemo;

typedef struct Vm {
    const Plan *plan;
    Value *consts;           /* each constant as a Value (JSON ones parsed once) */
    cJSON **json;            /* parsed PC_JSON constants, to free */
    Arena *arena;            /* per-record memory; the caller resets it */
    Value stack[PLAN_MAX_STACK];
    Value locals[PLAN_MAX_LOCALS];
    Value slots[PLAN_MAX_LOCALS];
    bool set[PLAN_MAX_LOCALS];  /* which slots the rule set */
    const char *reason;      /* VM_QUARANTINE, VM_SKIP, VM_ERROR */
    uint32_t route;          /* VM_ROUTE */
    uint32_t pc;             /* where the block ended */
    char msg[256];           /* room for VM_ERROR messages */
    VmMemo memo[VM_MEMO];    /* member lookups of this record (op_get) */
    uint32_t gen;            /* the current record, for memo; 0: lookups are not remembered */
    /* Results of user fn calls on the record (MEMO, MEMOSET): fn_val[i] holds the current
       record's value when fn_gen[i] == gen and fn_rec[i] is the record being run. */
    Value fn_val[PLAN_MAX_MEMOS];
    uint32_t fn_gen[PLAN_MAX_MEMOS];
    const cJSON *fn_rec[PLAN_MAX_MEMOS];
} Vm;

/* Prepare a VM for a verified plan; returns NULL (with err) on a bad constant. */
Vm *vm_new(const Plan *plan, char *err, size_t errlen);
void vm_free(Vm *vm);
/* A new record: forget the previous one's arena memory and member lookups. */
void vm_begin_record(Vm *vm);
/* Run the block at pc over record (a cJSON object); nslots of the rule. */
VmResult vm_run(Vm *vm, uint32_t pc, uint32_t nslots, const cJSON *record);
/* Value to cJSON (a new tree) for building lists, objects and staged records. */
cJSON *vm_value_json(const Value *v);

#endif

/*
** builtins: the VM's implementations of runtime/builtins.def.
**
** Arity and argument kinds were checked by the compiler, but the data is
** only known now: a builtin checks the kinds of its arguments again and
** answers BR_TYPE for a value of the wrong kind (the record is quarantined
** with the message), BR_FAIL when a fallible builtin fails (the rule's
** `else` takes over), BR_OK otherwise.  Null arguments of BF_NULLPROP
** builtins never reach these functions: the VM answers null for them.
*/
#ifndef MAPRUN_BUILTINS_H
#define MAPRUN_BUILTINS_H

#include "builtin_flags.h"
#include "value.h"

typedef enum {
#define BUILTIN(id, name, args, ret, flags, doc) RB_##id,
#include "builtins.def"
#undef BUILTIN
    RB__COUNT
} RtBuiltinId;

enum { BR_OK = 0, BR_FAIL = 1, BR_TYPE = -1 };

typedef struct BuiltinCtx {
    Arena *arena;
    const char *why;      /* set with BR_FAIL / BR_TYPE: what went wrong, static text */
} BuiltinCtx;

/* Call builtin `id` on argc arguments; the result goes to *out. */
int rt_builtin_call(RtBuiltinId id, const Value *args, int argc, Value *out, BuiltinCtx *ctx);
const char *rt_builtin_name(RtBuiltinId id);
int rt_builtin_flags(RtBuiltinId id);

#endif

/*
** builtins: the compiler's view of runtime/builtins.def.
*/
#ifndef MAPC_BUILTIN_INFO_H
#define MAPC_BUILTIN_INFO_H

#include "builtin_flags.h"

typedef enum {
#define BUILTIN(id, name, args, ret, flags, doc) BI_##id,
#include "builtins.def"
#undef BUILTIN
    BI__COUNT
} BuiltinId;

typedef struct Builtin {
    BuiltinId id;
    const char *name;
    const char *args;
    char ret;
    int flags;
    const char *doc;
} Builtin;

extern const Builtin builtins[BI__COUNT];
const Builtin *builtin_find(const char *name);

#endif

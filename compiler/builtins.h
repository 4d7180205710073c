/*
** builtins: the compiler's view of runtime/builtins.def.
*/
#ifndef MAPC_BUILTINS_H
#define MAPC_BUILTINS_H

enum {
    BF_FALLIBLE = 1, BF_NULLPROP = 2, BF_MAYBENULL = 4, BF_KEEPLEN = 8,
    BF_LENARG = 16, BF_SPECIAL = 32
};

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

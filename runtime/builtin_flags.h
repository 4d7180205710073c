/*
** builtin_flags: the BF_* flags of runtime/builtins.def, for the runtime
** (rt_builtin_flags) and, should it want to share them, the compiler.
*/
#ifndef MAP_BUILTIN_FLAGS_H
#define MAP_BUILTIN_FLAGS_H

enum {
    BF_FALLIBLE = 1, BF_NULLPROP = 2, BF_MAYBENULL = 4, BF_KEEPLEN = 8,
    BF_LENARG = 16, BF_SPECIAL = 32
};

#endif

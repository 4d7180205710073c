#include "builtin_info.h"

#include <string.h>

const Builtin builtins[BI__COUNT] = {
#define BUILTIN(id, name, args, ret, flags, doc) {BI_##id, name, args, ret, flags, doc},
#include "builtins.def"
#undef BUILTIN
};

const Builtin *builtin_find(const char *name)
{
    for (int i = 0; i < BI__COUNT; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

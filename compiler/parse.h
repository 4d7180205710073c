/*
** parse: turn one loaded source file into Decls appended to a Program.
** Syntax errors go to the diag sink; the parser recovers at the next
** top-level item (rule, split, field, const, test…) and goes on.
*/
#ifndef MAPC_PARSE_H
#define MAPC_PARSE_H

#include <stdbool.h>

#include "ast.h"

typedef struct ParseCtx {
    Program *prog;
    int file;
    bool stdlib;
    int nerrors;
} ParseCtx;

/* Parse srcloc file `file`; returns the number of syntax errors. */
int parse_file(int file, Program *prog, bool from_stdlib);

#endif

/*
** check: the front end as one call — parse the files, load the stdlib
** modules and target schema they ask for, and run every check.
*/
#ifndef MAPC_CHECK_H
#define MAPC_CHECK_H

#include "ast.h"
#include "schema.h"

typedef struct CheckResult {
    Program prog;
    Schema schema;
} CheckResult;

/*
** Check `files`; `schema_dir` (may be NULL) replaces the stdlib's describe
** data.  Diagnostics go to the diag sink; returns the number of errors.
*/
int check_files(CheckResult *res, char **files, int nfiles, const char *schema_dir);
void check_free(CheckResult *res);

#endif

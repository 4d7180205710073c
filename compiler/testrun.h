/*
** testrun: `mapc test` — the inline test blocks, run through the real VM.
*/
#ifndef MAPC_TESTRUN_H
#define MAPC_TESTRUN_H

#include <stdio.h>

#include "ast.h"
#include "plan.h"

/* Run every test of prog against plan; prints failures and a summary line.
** Adds to *passed and *failed. */
void testrun_all(const Program *prog, const Plan *plan, int *passed, int *failed, FILE *out);

#endif

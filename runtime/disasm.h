/*
** disasm: printing plans (mapc disasm) and the opcode reference (docs/opcodes.md).
*/
#ifndef MAPRUN_DISASM_H
#define MAPRUN_DISASM_H

#include <stdio.h>

#include "plan.h"

void disasm_plan(const Plan *p, FILE *out);
/* One instruction, without a newline (shared with the VM's trace). */
void disasm_instr(const Plan *p, uint32_t pc, FILE *out);
void disasm_opcodes_md(FILE *out);

#endif

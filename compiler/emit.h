/*
** emit: compile a checked program into a Plan (runtime/plan.h).
** Call it only when sema reported no errors: it trusts names and types.
*/
#ifndef MAPC_EMIT_H
#define MAPC_EMIT_H

#include "ast.h"
#include "plan.h"
#include "schema.h"
#include "util.h"

void emit_plan(const Program *prog, const Schema *schema, Plan *out);
/* A constant expression (a test's record, a literal) as JSON text; false if not constant. */
bool emit_const_json(const Program *prog, const Node *n, Buf *out);

#endif

/*
** graph: the shape of a checked program — which rules read which source
** kinds, and the object graph (who refers to whom) with its load order.
** `mapc plan` prints it; the bytecode writer will store the same graph.
*/
#ifndef MAPC_GRAPH_H
#define MAPC_GRAPH_H

#include "ast.h"
#include "schema.h"
#include "util.h"

typedef struct PlanGraph {
    char **objects;     /* every object a rule writes, in load order */
    int nobjects;
    bool *deps;         /* deps[i * nobjects + j]: objects[i] refers to objects[j] */
    bool *cyclic;       /* per object: part of a reference cycle (needs a second pass) */
} PlanGraph;

/* Build the object graph and order parents before children. */
void plan_graph(const Program *prog, PlanGraph *g);
void plan_graph_free(PlanGraph *g);
/* Human-readable summary for `mapc plan`. */
void plan_describe(const Program *prog, const Schema *schema, Buf *out);

#endif

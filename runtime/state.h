/*
** state: what load, verify, report and rollback share on top of stage.h —
** OBJECT \0 KEY keys, JSON values, the plan's objects and their external
** ids, and the Salesforce connection made from the environment.
*/
#ifndef MAPRUN_STATE_H
#define MAPRUN_STATE_H

#include "plan.h"
#include "sf.h"
#include "stage.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct StateKey {
    char *s;
    size_t len;
} StateKey;

/* OBJECT \0 KEY (caller frees .s). */
StateKey state_key(const char *object, const char *key);
/* The key part of an OBJECT \0 KEY (points into k; not NUL-terminated: *n bytes). */
const char *state_key_part(const void *k, size_t klen, size_t *n);
/* A stored JSON value, parsed (caller frees); NULL when absent. */
cJSON *state_get_json(Stage *st, StageDb db, const void *key, size_t klen);
int state_put_json(Stage *st, StageDb db, const void *key, size_t klen, const cJSON *v);
/* The field an object is keyed on: the key slot of the rules that make it. */
const char *state_key_field(const Plan *p, uint32_t oi);
const PlanField *state_field(const Plan *p, uint32_t oi, const char *name);
/* A reference's target: the object (of the one, or for a polymorphic
** reference the several, it may name) whose staged records hold its key;
** NULL when none does. */
const char *state_ref_target(Stage *st, const cJSON *ref);
/* "SELECT a, b FROM obj WHERE field" — the caller adds the condition. */
struct JBuf;
void state_soql_select(struct JBuf *q, const cJSON *names, const char *obj, const char *where_field);
/* A SOQL string literal: quotes and backslashes escaped. */
void state_soql_quote(struct JBuf *q, const char *v);
/* Connects to Salesforce from SF_* variables: 0, or -1 after printing why.
** A state belongs to one org: the first connection records the org's id in
** meta "org" (st writable), and a connection to another org is refused, or
** a state loaded into a sandbox would believe production has its records. */
int state_connect(SfClient **out, Stage *st, FILE *log);

#endif

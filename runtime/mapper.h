/*
** mapper: one source record through the plan — its kind's split and
** rules, validation of every output against the target schema, and the
** record's single outcome for the accounting identity:
**
**   output       at least one rule produced a record or an entry
**   excluded     a split skipped it or an exclude rule took it (with a reason)
**   quarantined  something failed; then NOTHING from the record is kept
**
** A record no rule and no split takes is quarantined as "no-rule", so no
** record can silently disappear.
*/
#ifndef MAPRUN_MAPPER_H
#define MAPRUN_MAPPER_H

#include "jsonbuf.h"
#include "plan.h"
#include "vm.h"

typedef struct MapKind {
    const char *name;
    uint32_t *rules;      /* rules over this kind that run on every record (not split members) */
    uint32_t nrules;
    uint32_t *splits;
    uint32_t nsplits;
} MapKind;

typedef enum { MO_OUTPUT, MO_EXCLUDED, MO_QUARANTINED } MapOutcome;

typedef struct MapRef {
    const char *field;    /* the lookup field: AccountId, WhoId */
    uint32_t desc;        /* the plan's ref descriptor (objects, their field, existing) */
    const char *key;      /* the key value; mapper_ref_json gives the whole reference */
} MapRef;

typedef struct MapEmit {
    uint32_t rule;
    const char *key;      /* object rules: the upsert key as text; entries: NULL */
    const char *json;     /* the fields or columns as a JSON object (arena) */
    size_t json_len;      /* its length in bytes */
    const MapRef *refs;   /* object rules: its references, for the refs database (arena) */
    uint32_t nrefs;
} MapEmit;

typedef struct MapResult {
    MapOutcome outcome;
    MapEmit *emits;       /* valid until the next mapper_run */
    uint32_t nemits;
    const char *code;     /* quarantined: a stable reason code (see mapper.c) */
    const char *message;  /* quarantined: what happened, for people */
    const char *reason;   /* excluded: the reason */
    uint32_t rule;        /* the rule that quarantined or excluded it, or PLAN_NONE */
    const char *at;       /* quarantined by the rules: "rules.map:12:5", where (NULL when unknown) */
} MapResult;

typedef struct Mapper Mapper;

Mapper *mapper_new(const Plan *plan, char *err, size_t errlen);
void mapper_free(Mapper *m);
/* The kind's rules and splits; NULL when the plan has none for it. */
const MapKind *mapper_kind(const Mapper *m, const char *kind);
/* Map one record; everything in *res lives until the next call. */
void mapper_run(Mapper *m, const MapKind *k, const cJSON *record, MapResult *res);
const Plan *mapper_plan(const Mapper *m);
/* A reference as staged: {"$ref": […], "field": …, "key": …[, "existing": true]}, appended to out. */
void mapper_ref_json(const Mapper *m, uint32_t desc, const char *key, size_t keylen, JBuf *out);
/* Free what the last mapper_run allocated now (its result goes with it);
** the next mapper_run would.  For jsonmem.h's rule that trees die young. */
void mapper_release(Mapper *m);

#endif

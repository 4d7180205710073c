/*
** readback: `maprun verify` — read loaded records back from Salesforce and
** compare every mapped field with what was staged (docs/loading.md).
*/
#ifndef MAPRUN_READBACK_H
#define MAPRUN_READBACK_H

#include <stdbool.h>

typedef struct ReadbackOptions {
    const char *state;
    unsigned long sample;       /* per object; 0 = every loaded record */
    unsigned long bulk_over;    /* more records than this are read with a Bulk API query */
    long poll_ms;
} ReadbackOptions;

/* 0 every field matches; 3 some differ (listed); 1 could not verify. */
int readback_run(const ReadbackOptions *o);

/* Do a staged value and the value Salesforce returned mean the same?
** (datetime zones, number formats, booleans, null and empty).  Exposed for
** the unit tests. */
struct cJSON;
bool readback_same(const struct cJSON *staged, const char *sf_text, bool sf_null);

#endif

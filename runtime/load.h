/*
** load: `maprun load` — staged records into Salesforce with Bulk API 2.0
** upserts, resumable and never sending a record twice (docs/loading.md).
*/
#ifndef MAPRUN_LOAD_H
#define MAPRUN_LOAD_H

#include <stdbool.h>
#include <stddef.h>

typedef struct LoadOptions {
    const char *state;
    unsigned long job_rows;     /* at most this many rows per job; 0 = no limit */
    size_t job_bytes;           /* at most this many CSV bytes per job; 0 = 100 MB */
    long poll_ms;               /* first poll interval; grows to 10 s */
    int max_attempts;           /* tries for a row failing with a transient error */
    bool progress;              /* a progress line on stderr (a terminal) */
} LoadOptions;

/* Exit codes of maprun load (and rollback). */
enum {
    LOAD_OK = 0,            /* every record is in Salesforce */
    LOAD_ERROR = 1,         /* stopped: preflight, authentication, the network, the state */
    LOAD_FAILED_ROWS = 3,   /* finished; some records failed (maprun report lists them) */
    LOAD_LATER = 75         /* the org's API limit is used up: run again later to resume */
};

int load_run(const LoadOptions *o);

#endif

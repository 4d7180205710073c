/*
** rollback: `maprun rollback` — undo a migration: delete every record it
** created, children before parents, and put back the values records had
** before it first overwrote them (docs/loading.md).
*/
#ifndef MAPRUN_ROLLBACK_H
#define MAPRUN_ROLLBACK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct RollbackOptions {
    const char *state;
    bool plan_only;             /* --plan: say what would happen, change nothing */
    unsigned long job_rows;     /* 0: no limit */
    size_t job_bytes;           /* 0: 100 MB */
    long poll_ms;
} RollbackOptions;

/* Exit codes as load's: 0 done, 1 stopped, 3 some records could not be undone, 75 API limit. */
int rollback_run(const RollbackOptions *o);

#endif

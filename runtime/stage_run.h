/*
** stage_run: `maprun stage` — every input record through the mapper into
** the staging area, with the counters that prove the accounting identity
**   read = output + excluded + quarantined   (per kind)
*/
#ifndef MAPRUN_STAGE_RUN_H
#define MAPRUN_STAGE_RUN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct StageOptions {
    size_t max_line;     /* input line limit in bytes; 0 = default */
    bool progress;       /* a progress line on stderr */
    bool no_read_ahead;  /* read and parse on the mapping's thread (reader.h) */
} StageOptions;

/* Returns 0, or -1 after printing why to stderr. */
int stage_run(const char *plan_path, const char *dir, char **inputs, int ninputs, const StageOptions *opt);

#endif

/*
** pull: `maprun pull --from customerio` — everything a migration needs out of
** a Customer.io workspace, as DIR/KIND.ndjson (the lines `maprun stage`
** reads, in the shapes of stdlib/customerio.map) and DIR/manifest.json.
*/
#ifndef MAPRUN_PULL_H
#define MAPRUN_PULL_H

#include <stdbool.h>

typedef struct PullOptions {
    const char *out;            /* the directory */
    const char *since;          /* activities and deliveries from this time on; NULL: all */
    const char *kinds;          /* comma-separated; NULL: every kind */
    const char *people_via;     /* "export", "search", or NULL: export above 10,000 people */
    bool progress;
} PullOptions;

/* 0 complete; 3 complete but some items could not be read (listed in the
** manifest); 1 stopped (run the same command again to resume). */
int pull_run(const PullOptions *o);

#endif

/*
** sortrun: an external sort for key/value pairs that arrive in random key
** order and are needed in key order (to append them to LMDB, which is many
** times faster than inserting them at random and keeps memory flat).
** Pairs are buffered up to a memory limit, sorted, spilled to run files,
** and merged at the end.  For equal keys the pair added last wins.
*/
#ifndef MAPRUN_SORTRUN_H
#define MAPRUN_SORTRUN_H

#include <stddef.h>
#include <stdint.h>

typedef struct SortRuns SortRuns;

/* Run files go to dir (removed when merged); mem is the buffer limit in bytes. */
SortRuns *sr_new(const char *dir, const char *name, size_t mem);
/* Buffer a pair (copied); -1 when a run file cannot be written. */
int sr_add(SortRuns *s, const void *key, size_t klen, const void *val, size_t vlen);
/* The last value added for key: 1 found (*val valid until the next call), 0 not, -1 error. */
int sr_get(SortRuns *s, const void *key, size_t klen, const void **val, size_t *vlen);
/* Hand every distinct key, in byte order, with its last value to fn; then
** remove the run files.  fn returns nonzero to stop (that value is returned). */
typedef int (*SortEmit)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen);
int sr_finish(SortRuns *s, SortEmit fn, void *ctx);
void sr_free(SortRuns *s);
/* Memory (not zeroed) for a large table used at random, on huge pages where
** the system allows (free() releases it); NULL when out of memory. */
void *sr_big_alloc(size_t n);
/* The hash of a key that the lookups use (64 bits, well mixed; fast on short keys). */
uint64_t sr_hash(const void *key, size_t n);

#endif

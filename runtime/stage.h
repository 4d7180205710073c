/*
** stage: the staging area, an LMDB environment in a directory.  This is
** the only file that includes lmdb.h.
**
** Databases (keys are byte strings; parts are separated by NUL bytes):
**   meta        "plan" -> plan CRC (hex), "plan.mapb" -> the plan itself,
**               "summary" -> the run's counters as JSON (maprun status)
**   records     OBJECT \0 KEY -> {"rule","src","hash","fields":{…}}
**               (stored as an 8-byte offset into the log, which holds the values in
**               the order they were written: the index stays small, and the bulk of
**               the data is appended; callers see only records — stage_put/get/scan
**               on DB_RECORDS go through the log)
**   log         the record log: the file records.log in the state directory, not an
**               LMDB database; keys are 8-byte offsets.  Read-only through this API
**               (stage_get/scan); states staged before it was a file keep it in
**               LMDB's "log" database and are read from there
**   entries     TARGET \0 SECTION \0 FILE \0 LINE(12 digits) \0 RULE -> {"rule","src","columns":{…}}
**   quarantine  FILE \0 LINE(12 digits) -> {"kind","file","line","rule","code","message","raw"}
**   refs        OBJECT \0 KEY \0 FIELD -> {"objects":[…],"field":…,"key":…}: references to resolve at load
** Every key is derived from the input, never from time, so staging the
** same input twice gives the same state.
**
** What the loader learns (load.c, docs/loading.md) lives in databases that
** staging never clears, so a re-stage keeps the migration's history:
**   loaded      OBJECT \0 KEY -> {"id","hash","created","job"}: in Salesforce, with the
**               content hash that was sent (equal hash: nothing to send)
**   failed      OBJECT \0 KEY -> {"hash","code","message","job","retryable","attempts"}
**   jobs        SEQ(12 digits) -> {"seq","phase","object","operation","csv","rows","state","id",…}:
**               the journal that makes a load resumable
**   prior       OBJECT \0 KEY -> {"id","fields":{…}}: records that existed before the
**               migration first wrote them, as they were (rollback restores these)
**   verified    OBJECT \0 KEY -> {"ok","mismatches":[{"field","staged","salesforce"}]}
**   undone      OBJECT \0 KEY -> {"action":"deleted"|"restored","job"}: rollback progress
*/
#ifndef MAPRUN_STAGE_H
#define MAPRUN_STAGE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct Stage Stage;

typedef enum {
    DB_META, DB_RECORDS, DB_ENTRIES, DB_QUARANTINE, DB_REFS, DB_LOG,
    DB_LOADED, DB_FAILED, DB_JOBS, DB_PRIOR, DB_VERIFIED, DB_UNDONE, DB__COUNT
} StageDb;
#define DB_STAGING_COUNT DB_LOADED      /* the databases stage_clear() empties */

/* Open for writing (creating the directory) or reading; -1 with err ("DIR: no such state
** directory" when reading a directory that is not there). */
int stage_open(Stage **out, const char *dir, bool write, char *err, size_t errlen);
void stage_close(Stage *st);
/* Empty the staging databases (the start of a stage run); the load's stay. */
int stage_clear(Stage *st);
/* Put and get; values are copied.  Writes go to a batch committed every
** few thousand puts and at stage_commit(). */
int stage_put(Stage *st, StageDb db, const void *key, size_t klen, const void *val, size_t vlen);
/* Put a key greater than every key of db (a sorted bulk load: much faster);
** for DB_RECORDS the value is the index entry itself (an 8-byte log key). */
int stage_append(Stage *st, StageDb db, const void *key, size_t klen, const void *val, size_t vlen);
/* Remove a key (not of DB_RECORDS): 1 removed, 0 was not there, -1 error. */
int stage_del(Stage *st, StageDb db, const void *key, size_t klen);
/* Is the key there?  1, 0, or -1 on error; cheaper than stage_get for records. */
int stage_has(Stage *st, StageDb db, const void *key, size_t klen);
/* 1 found (*val valid until the next stage call), 0 not found, -1 error. */
int stage_get(Stage *st, StageDb db, const void *key, size_t klen, const void **val, size_t *vlen);
/* After stage_clear, records are indexed on the side; this writes the index
** into LMDB.  Call once, after the last record. */
int stage_finish(Stage *st);
/* Commit and sync; -1 when this or any earlier write failed (errors are sticky). */
int stage_commit(Stage *st);
/* Visit every entry of db whose key starts with prefix, in key order;
** the callback returns nonzero to stop. */
typedef int (*StageVisit)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen);
int stage_scan(Stage *st, StageDb db, const void *prefix, size_t plen, StageVisit fn, void *ctx);
const char *stage_error(const Stage *st);
/* "meta", "records", …: the name of a database. */
const char *stage_db_name(StageDb db);
/* The plan the state was staged with (kept in meta "plan.mapb"), verified. */
struct Plan;
int stage_load_plan(Stage *st, struct Plan *plan, char *err, size_t errlen);

#endif

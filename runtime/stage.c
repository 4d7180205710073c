/*
** stage: the LMDB wrapper.  One write transaction is kept open and
** committed in batches, which is what makes staging fast; a read made while
** writing goes through the same transaction, so it sees the batch.
**
** Not MDB_WRITEMAP: a batch's pages are built in LMDB's own buffers (reused
** from one batch to the next) and written with pwrite at commit, so the
** process maps only the pages it reads.  Written through the map, every page
** a batch touched was faulted in (the file is sparse, so each fault also
** zeroed a read-ahead window) and stayed resident until dropped, and the
** number of distinct pages grew with the file.
*/
#define _DEFAULT_SOURCE   /* madvise(MADV_DONTNEED): POSIX's variant is advisory only */
#define _GNU_SOURCE       /* sync_file_range (Linux) */
#include "stage.h"
#include "plan.h"
#include "logwriter.h"
#include "sortrun.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH 20000             /* writes per transaction */
#define READS_PER_DROP 4096     /* record reads between dropping the map's pages */
#define MAP_SIZE ((size_t)1 << 30)     /* 1 GiB to start; grown between batches (grow_map) */

static const char *const db_names[DB__COUNT] = {
    "meta", "records", "entries", "quarantine", "refs", "log",
    "loaded", "failed", "jobs", "prior", "verified", "undone"
};

const char *stage_db_name(StageDb db)
{
    return db_names[db];
}

struct Stage {
    MDB_env *env;
    MDB_dbi dbi[DB__COUNT];
    bool absent[DB__COUNT];  /* read mode: a database this state does not have (staged by an older maprun) */
    MDB_txn *txn;        /* the open transaction (write mode), or NULL */
    MDB_cursor *tail[DB__COUNT];    /* per database, a cursor kept at its last entry for appends
                                    ** (or NULL); LMDB frees them when the transaction ends */
    bool write;
    int pending;
    bool failed;         /* sticky: a write failed; the run must not claim success */
    char datafile[4096]; /* the absolute path of data.mdb, to find its map */
    char dir[4096];
    int log_fd;          /* records.log, the record log (see put_record), or -1: an older
                         ** state whose log is LMDB's "log" database */
    LogWriter *log;      /* writing: appends to records.log (logwriter.h) */
    uint64_t log_end;    /* writing: the log's length, with what is still in the buffer */
    uint64_t log_flushed;           /* writing: bytes of it the kernel has */
    pthread_t syncer;               /* stage_finish .. stage_commit: fdatasync of the log */
    bool syncing;
    int sync_err;                   /* the syncer's errno, read after the join */
    uint64_t log_synced;            /* the log's length when the syncer started */
    unsigned char *rbuf; /* a record read back from the log */
    size_t rcap;
    SortRuns *index;     /* while writing: the records index, kept sorted on disk (see put_record) */
    unsigned long map_lo, map_hi;   /* the address range of data.mdb's map */
    unsigned long reads;            /* records read back (merges, duplicate checks) */
    char err[256];
};


static void find_map(Stage *st);
static void drop_map_pages(Stage *st);

static int lmdb_fail(Stage *st, int rc, const char *what)
{
    st->failed = true;
    snprintf(st->err, sizeof st->err, "%s: %s", what, mdb_strerror(rc));
    return -1;
}

const char *stage_error(const Stage *st)
{
    return st->err;
}

/* The transaction ends: its cursors go with it. */
static void forget_cursors(Stage *st)
{
    memset(st->tail, 0, sizeof st->tail);
}

static int begin(Stage *st)
{
    if (st->txn)
        return 0;
    int rc = mdb_txn_begin(st->env, NULL, st->write ? 0 : MDB_RDONLY, &st->txn);
    return rc ? lmdb_fail(st, rc, "begin transaction") : 0;
}

static int open_dbs(Stage *st)
{
    if (begin(st) < 0)
        return -1;
    for (int i = 0; i < DB__COUNT; i++) {
        int rc = mdb_dbi_open(st->txn, db_names[i], st->write ? MDB_CREATE : 0, &st->dbi[i]);
        if (rc == MDB_NOTFOUND && !st->write && i >= DB_STAGING_COUNT)
            st->absent[i] = true;
        else if (rc)
            return lmdb_fail(st, rc, db_names[i]);
    }
    if (st->write) {
        find_map(st);
        return stage_commit(st);
    }
    return 0;
}

/*
** The record log, records.log in the state directory: entries [u32 length,
** little-endian][value], appended while staging.  An index value is the
** entry's offset (8 bytes, big-endian).  A plain file, not an LMDB database:
** appending costs a copy into a buffer, where LMDB built, tracked and wrote
** B-tree pages for data that is only ever appended and read by offset.
** Reading opens it if it is there; a state without it keeps its log in
** LMDB's "log" database (the layout before), and is read from there.
*/
#define LOG_BUF ((size_t)1 << 20)

static int open_log(Stage *st)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/records.log", st->dir);
    st->log_fd = open(path, st->write ? O_RDWR | O_CREAT : O_RDONLY, 0666);
    if (st->log_fd < 0)
        return st->write || errno != ENOENT ? -1 : 0;
    if (!st->write)
        return 0;
    off_t end = lseek(st->log_fd, 0, SEEK_END);
    if (end < 0)
        return -1;
    st->log_end = st->log_flushed = (uint64_t)end;
    st->log = lw_open(st->log_fd, st->log_end, LOG_BUF);
    return st->log ? 0 : -1;
}

int stage_open(Stage **out, const char *dir, bool write, char *err, size_t errlen)
{
    Stage *st = calloc(1, sizeof *st);
    st->write = write;
    *out = NULL;
    struct stat sb;
    if (write && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        free(st);
        return -1;
    }
    if (!write && (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        snprintf(err, errlen, "%s: no such state directory", dir);
        free(st);
        return -1;
    }
    snprintf(st->dir, sizeof st->dir, "%s", dir);
    char *abs = realpath(dir, NULL);
    snprintf(st->datafile, sizeof st->datafile, "%s/data.mdb", abs ? abs : dir);
    free(abs);
    st->log_fd = -1;
    if (open_log(st) < 0) {
        snprintf(err, errlen, "cannot open %s/records.log: %s", dir, strerror(errno));
        stage_close(st);
        return -1;
    }
    int rc = mdb_env_create(&st->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(st->env, DB__COUNT);
    if (!rc)
        rc = mdb_env_set_mapsize(st->env, MAP_SIZE);
    if (!rc)
        rc = mdb_env_open(st->env, dir, write ? MDB_NOSYNC | MDB_NOMETASYNC : MDB_RDONLY, 0666);
    if (rc || open_dbs(st) < 0) {
        snprintf(err, errlen, "cannot open the state in %s: %s", dir, rc ? mdb_strerror(rc) : st->err);
        stage_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

/* Hand the log's buffer to the kernel (and to the disk when sync). */
static int flush_log(Stage *st, bool sync)
{
    if (!st->log)
        return 0;
    int e = lw_flush(st->log);
    if (e || (sync && fdatasync(st->log_fd) != 0))
        return lmdb_fail(st, e ? e : errno ? errno : EIO, "write records.log");
    st->log_flushed = st->log_end;
    return 0;
}

static void *sync_log(void *arg)
{
    Stage *st = arg;
    st->sync_err = fdatasync(st->log_fd) != 0 ? errno : 0;
    return NULL;
}

/*
** The log is complete once the last record is staged (stage_finish): it goes
** to the disk on a thread of its own while the index is merged, instead of
** in stage_commit (its fdatasync was a tenth of a bench run).
*/
static int start_log_sync(Stage *st)
{
    if (!st->log || flush_log(st, false) < 0)
        return st->log ? -1 : 0;
    st->log_synced = st->log_end;
    st->syncing = pthread_create(&st->syncer, NULL, sync_log, st) == 0;
    return 0;                               /* no thread: stage_commit syncs it itself */
}

/* Wait for the syncer; the log is durable after it unless written since. */
static int end_log_sync(Stage *st)
{
    if (st->syncing) {
        pthread_join(st->syncer, NULL);
        st->syncing = false;
        if (st->sync_err)
            return lmdb_fail(st, st->sync_err, "write records.log");
        if (st->log_end == st->log_synced)
            return 0;
    }
    return flush_log(st, true);
}

int stage_commit(Stage *st)
{
    if (st->failed)
        return -1;
    if (end_log_sync(st) < 0)
        return -1;
    if (!st->txn)
        return 0;
    int rc = st->write ? mdb_txn_commit(st->txn) : (mdb_txn_abort(st->txn), 0);
    st->txn = NULL;
    forget_cursors(st);
    st->pending = 0;
    if (rc)
        return lmdb_fail(st, rc, "commit");
    if (st->write && (rc = mdb_env_sync(st->env, 1)) != 0)
        return lmdb_fail(st, rc, "sync");
    return 0;
}

static int append_index(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    return stage_append(ctx, DB_RECORDS, k, kl, v, vl);
}

int stage_finish(Stage *st)
{
    if (!st->index)
        return 0;
    if (start_log_sync(st) < 0)
        return -1;
    SortRuns *ix = st->index;
    st->index = NULL;                       /* from now on the index is LMDB's */
    int rc = sr_finish(ix, append_index, st);
    sr_free(ix);
    return rc ? lmdb_fail(st, rc < 0 ? EIO : rc, "write the index") : 0;
}

void stage_close(Stage *st)
{
    if (!st)
        return;
    if (st->syncing)
        pthread_join(st->syncer, NULL);
    sr_free(st->index);
    if (st->txn)
        mdb_txn_abort(st->txn);
    forget_cursors(st);
    if (st->env)
        mdb_env_close(st->env);
    (void)lw_close(st->log);                /* a failed write has failed the run already */
    if (st->log_fd >= 0)
        close(st->log_fd);
    free(st->rbuf);
    free(st);
}

int stage_clear(Stage *st)
{
    if (begin(st) < 0)
        return -1;
    if (!st->log || lw_close(st->log) != 0 || ftruncate(st->log_fd, 0) != 0
        || !(st->log = lw_open(st->log_fd, 0, LOG_BUF))) {
        st->log = NULL;
        return lmdb_fail(st, errno ? errno : EIO, "clear records.log");
    }
    st->log_end = st->log_flushed = 0;
    sr_free(st->index);
    st->index = sr_new(st->dir, "index", (size_t)16 << 20);   /* a fresh state: the index is built sorted */
    for (int i = 0; i < DB__COUNT; i++) {       /* appends go on from a fresh cursor */
        if (st->tail[i])
            mdb_cursor_close(st->tail[i]);
        st->tail[i] = NULL;
    }
    for (int i = 0; i < DB_STAGING_COUNT; i++) {
        int rc = mdb_drop(st->txn, st->dbi[i], 0);
        if (rc)
            return lmdb_fail(st, rc, "clear");
    }
    return 0;
}

/*
** Where LMDB mapped data.mdb.  LMDB does not expose the address, so it is
** found in /proc/self/maps (Linux; elsewhere nothing is dropped and memory
** simply grows with the state).  Looked up again after the map grows.
*/
static void find_map(Stage *st)
{
    st->map_lo = st->map_hi = 0;
#ifdef __linux__
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096 + 128];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char *path = strchr(line, '/');
        if (!path || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
            continue;
        path[strcspn(path, "\n")] = '\0';
        if (strcmp(path, st->datafile) == 0) {
            st->map_lo = lo;
            st->map_hi = hi;
        }
    }
    if (f)
        fclose(f);
#endif
}

/*
** The map is read-only and shared (LMDB writes with pwrite), so dropping its
** pages from this process loses nothing, and LMDB faults back in what it
** reads next.  Done after each batch and every few thousand record reads,
** this bounds memory by what one batch reads.
*/
static void drop_map_pages(Stage *st)
{
    if (st->map_hi > st->map_lo)
        madvise((void *)st->map_lo, st->map_hi - st->map_lo, MADV_DONTNEED);
}

/*
** The batches are written without a sync (MDB_NOSYNC); stage_commit syncs
** once at the end.  Starting the disk writes after each batch lets them run
** while the next records are mapped, instead of all of them at that sync
** (which was a tenth of the run).  Linux only; a hint, so errors are ignored.
*/
static void start_writeback(Stage *st)
{
#ifdef __linux__
    mdb_filehandle_t fd;
    if (mdb_env_get_fd(st->env, &fd) == 0)
        (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    if (st->log_fd >= 0)
        (void)sync_file_range(st->log_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)st;
#endif
}

/*
** The map must hold the whole database.  Between batches (no transaction
** open) it doubles whenever the data passes half of it, so the next batch
** always fits and small states stay small in address space.
*/
static int grow_map(Stage *st)
{
    MDB_envinfo info;
    MDB_stat stat;
    mdb_env_info(st->env, &info);
    mdb_env_stat(st->env, &stat);
    size_t used = (info.me_last_pgno + 1) * (size_t)stat.ms_psize;
    if (used * 2 < info.me_mapsize)
        return 0;
    int rc = mdb_env_set_mapsize(st->env, info.me_mapsize * 2);
    if (rc)
        return lmdb_fail(st, rc, "grow the map");
    find_map(st);
    return 0;
}

/*
** Append k/v to db through its tail cursor: LMDB finds the last page from
** the cursor instead of searching the tree from the root (and the dirty
** page list at each level) for every entry, which is most of an append's
** cost.  Any other write to db drops the cursor first (see put).
*/
static int append_at_tail(Stage *st, StageDb db, MDB_val *k, MDB_val *v)
{
    if (!st->tail[db]) {
        int rc = mdb_cursor_open(st->txn, st->dbi[db], &st->tail[db]);
        if (rc) {
            st->tail[db] = NULL;
            return rc;
        }
    }
    return mdb_cursor_put(st->tail[db], k, v, MDB_APPEND);
}

static void seq_key(uint64_t seq, unsigned char out[8])
{
    for (int i = 7; i >= 0; i--, seq >>= 8)
        out[i] = (unsigned char)seq;           /* big-endian: byte order is number order */
}

static uint64_t seq_of(const unsigned char k[8])
{
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n = n << 8 | k[i];
    return n;
}

/*
** A record: its value appended to the log.  While staging, the index entry
** (key -> log offset) goes to a sorted run store that also answers lookups;
** stage_finish() appends the merged index to LMDB in key order.  Random-order
** inserts into a large B-tree were the cost of staging.
*/
static int put_record(Stage *st, MDB_val *k, MDB_val *v)
{
    if (!st->log)
        return EINVAL;
    unsigned char at[8], len[4];
    seq_key(st->log_end, at);
    for (int i = 0; i < 4; i++)
        len[i] = (unsigned char)(v->mv_size >> (8 * i));
    if (v->mv_size > UINT32_MAX)
        return EINVAL;
    int e = lw_append(st->log, len, 4);
    if (e || (e = lw_append(st->log, v->mv_data, v->mv_size)) != 0)
        return e;
    st->log_end += 4 + v->mv_size;
    MDB_val ak = {sizeof at, at};
    if (st->index)
        return sr_add(st->index, k->mv_data, k->mv_size, at, sizeof at) < 0 ? EIO : 0;
    return mdb_put(st->txn, st->dbi[DB_RECORDS], k, &ak, 0);
}

/* n bytes of the log at off into the read buffer (flushing first if they are still in the write buffer). */
static int read_log(Stage *st, uint64_t off, size_t n)
{
    if (st->log && off + n > st->log_flushed && flush_log(st, false) < 0)
        return EIO;
    if (n > st->rcap) {
        unsigned char *b = realloc(st->rbuf, n);
        if (!b)
            return ENOMEM;
        st->rbuf = b;
        st->rcap = n;
    }
    ssize_t got = pread(st->log_fd, st->rbuf, n, (off_t)off);
    return got == (ssize_t)n ? 0 : got < 0 ? errno : MDB_CORRUPTED;
}

/* The log entry at offset off: its value in *v (valid until the next read). */
static int log_entry(Stage *st, uint64_t off, MDB_val *v)
{
    int rc = read_log(st, off, 4);
    if (rc)
        return rc;
    size_t len = 0;
    for (int i = 3; i >= 0; i--)
        len = len << 8 | st->rbuf[i];
    if ((rc = read_log(st, off + 4, len)) != 0)
        return rc;
    v->mv_data = st->rbuf;
    v->mv_size = len;
    return 0;
}

/* The log entry an index value points at. */
static int deref(Stage *st, MDB_val *v)
{
    MDB_val sk = *v;
    if (sk.mv_size != 8)
        return MDB_CORRUPTED;
    if (st->log_fd >= 0)
        return log_entry(st, seq_of(sk.mv_data), v);
    return mdb_get(st->txn, st->dbi[DB_LOG], &sk, v);   /* an older state */
}

static int put(Stage *st, StageDb db, const void *key, size_t klen, const void *val, size_t vlen, unsigned flags)
{
    if (begin(st) < 0)
        return -1;
    if (db == DB_LOG && st->log_fd >= 0)        /* the log is written through DB_RECORDS */
        return lmdb_fail(st, EINVAL, "write to the record log");
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    if (!(flags & MDB_APPEND) && st->tail[db]) {    /* a write elsewhere: the cursor could be stale */
        mdb_cursor_close(st->tail[db]);
        st->tail[db] = NULL;
    }
    int rc = db == DB_RECORDS && !(flags & MDB_APPEND) ? put_record(st, &k, &v)
           : flags & MDB_APPEND ? append_at_tail(st, db, &k, &v)
                                : mdb_put(st->txn, st->dbi[db], &k, &v, flags);
    if (rc)
        return lmdb_fail(st, rc, "write");
    if (++st->pending >= BATCH) {
        /* keep the batch's writes durable in one go, then start the next */
        MDB_txn *t = st->txn;
        st->txn = NULL;
        forget_cursors(st);
        st->pending = 0;
        if ((rc = mdb_txn_commit(t)) != 0)
            return lmdb_fail(st, rc, "commit");
        start_writeback(st);
        drop_map_pages(st);
        return grow_map(st);
    }
    return 0;
}

int stage_put(Stage *st, StageDb db, const void *key, size_t klen, const void *val, size_t vlen)
{
    return put(st, db, key, klen, val, vlen, 0);
}

int stage_append(Stage *st, StageDb db, const void *key, size_t klen, const void *val, size_t vlen)
{
    return put(st, db, key, klen, val, vlen, MDB_APPEND);
}

int stage_del(Stage *st, StageDb db, const void *key, size_t klen)
{
    if (db == DB_RECORDS || begin(st) < 0)
        return -1;
    MDB_val k = {klen, (void *)key};
    int rc = mdb_del(st->txn, st->dbi[db], &k, NULL);
    if (rc == MDB_NOTFOUND)
        return 0;
    return rc ? lmdb_fail(st, rc, "delete") : 1;
}

int stage_get(Stage *st, StageDb db, const void *key, size_t klen, const void **val, size_t *vlen)
{
    if (st->absent[db])
        return 0;
    if (begin(st) < 0)
        return -1;
    MDB_val k = {klen, (void *)key}, v;
    int rc;
    if (db == DB_RECORDS && st->index) {
        const void *sv;
        size_t sl;
        int found = sr_get(st->index, key, klen, &sv, &sl);
        if (found < 0)
            return lmdb_fail(st, EIO, "read the index");
        rc = found ? 0 : MDB_NOTFOUND;
        v.mv_data = (void *)sv;
        v.mv_size = sl;
    } else if (db == DB_LOG && st->log_fd >= 0) {
        v = k;
        rc = deref(st, &v);
    } else {
        rc = mdb_get(st->txn, st->dbi[db], &k, &v);
    }
    if (rc == 0 && db == DB_RECORDS)
        rc = deref(st, &v);
    if (db == DB_RECORDS && ++st->reads % READS_PER_DROP == 0)
        drop_map_pages(st);                 /* reads back touch old pages all over the log */
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return lmdb_fail(st, rc, "read");
    *val = v.mv_data;
    *vlen = v.mv_size;
    return 1;
}

int stage_has(Stage *st, StageDb db, const void *key, size_t klen)
{
    if (db == DB_RECORDS && st->index) {     /* the index alone: no read of the record */
        const void *sv;
        size_t sl;
        int found = sr_get(st->index, key, klen, &sv, &sl);
        return found < 0 ? lmdb_fail(st, EIO, "read the index") : found;
    }
    const void *v;
    size_t vl;
    return stage_get(st, db, key, klen, &v, &vl);
}

/* stage_scan of the log file: keys are the entries' offsets. */
static int scan_log(Stage *st, const void *prefix, size_t plen, StageVisit fn, void *ctx)
{
    if (flush_log(st, false) < 0)
        return -1;
    struct stat sb;
    if (fstat(st->log_fd, &sb) != 0)
        return lmdb_fail(st, errno, "scan records.log");
    for (uint64_t off = 0; off < (uint64_t)sb.st_size;) {
        MDB_val v;
        unsigned char k[8];
        int rc = log_entry(st, off, &v);
        if (rc)
            return lmdb_fail(st, rc, "scan records.log");
        seq_key(off, k);
        off += 4 + v.mv_size;
        if (plen <= 8 && memcmp(k, prefix, plen) == 0 && fn(ctx, k, 8, v.mv_data, v.mv_size))
            break;
    }
    return 0;
}

int stage_scan(Stage *st, StageDb db, const void *prefix, size_t plen, StageVisit fn, void *ctx)
{
    if (st->absent[db])
        return 0;
    if (db == DB_LOG && st->log_fd >= 0)
        return scan_log(st, prefix, plen, fn, ctx);
    if (begin(st) < 0)
        return -1;
    MDB_cursor *c;
    int rc = mdb_cursor_open(st->txn, st->dbi[db], &c);
    if (rc)
        return lmdb_fail(st, rc, "cursor");
    MDB_val k = {plen, (void *)prefix}, v;
    rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (db == DB_RECORDS && (rc = deref(st, &v)) != 0)
            break;
        if (fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    if (rc && rc != MDB_NOTFOUND)
        return lmdb_fail(st, rc, "scan");
    return 0;
}

int stage_load_plan(Stage *st, Plan *plan, char *err, size_t errlen)
{
    const void *v;
    size_t n;
    int rc = stage_get(st, DB_META, "plan.mapb", 9, &v, &n);
    if (rc != 1) {
        snprintf(err, errlen, "%s", rc == 0 ? "the state holds no plan: run maprun stage first" : st->err);
        return -1;
    }
    return plan_parse(plan, v, n, err, errlen);
}

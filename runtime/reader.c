/*
** reader: read-ahead of the inputs on a thread (reader.h).
**
** NBATCH batches go round a ring.  The producer (the thread, or rd_next
** itself without one) fills the batch after the last full one; the
** consumer takes full batches in order and holds one at a time.  A batch
** is a list of events and an Arena (value.h): records' trees (jp_parse_with),
** raw lines, details and file names are copied into it, so nothing in it
** points into the Input, whose buffer the next line reuses.  The lock is
** taken once per batch, not per record.
*/
#include "reader.h"
#include "value.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NBATCH 8
#define BATCH_RECORDS 64
#define BATCH_RAW ((size_t)64 << 10)   /* raw line bytes per batch, about */

typedef struct Span {
    const unsigned char *at;
    size_t len;
} Span;

typedef struct Batch {
    RdEvent *ev;
    Span *span;                 /* per event: the batch memory its record took (see rd_next) */
    size_t nev, cap;
    size_t taken;               /* consumer: events handed out */
    size_t raw;                 /* producer: raw bytes copied in */
    Arena *mem;                 /* the records' trees and texts */
} Batch;

typedef enum { MORE, LAST, STOPPED } Fill;

struct Reader {
    char **specs;
    int nspecs, next_spec;
    size_t max_line;
    Input *in;                  /* producer: the open input, or NULL between files */
    Batch batches[NBATCH];
    Batch *filling;             /* producer: where balloc allocates */
    unsigned char *lo, *hi;     /* producer: the current record's memory so far, while contiguous */
    /* the ring: full batches are head .. head + nfull - 1; the consumer holds head - 1 when held */
    int head, nfull;
    bool held;
    Batch *cur;                 /* consumer: the batch being read, or NULL */
    bool threaded;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t full, room;
    atomic_bool stop;
};

/* ---- a batch's memory: an Arena (value.h), reset when the batch is refilled */

/*
** Allocations of one record follow each other in the arena's block (up to
** its alignment) unless a new block begins; lo..hi is their extent while
** they do, for rd_next to prefetch.
*/
static void *balloc(void *ctx, size_t n)
{
    Reader *rd = ctx;
    unsigned char *p = arena_alloc(rd->filling->mem, n);
    if (!rd->lo)                                        /* the record's first allocation */
        rd->lo = p, rd->hi = p + n;
    else if (rd->hi && p >= rd->hi && p < rd->hi + _Alignof(max_align_t))
        rd->hi = p + n;                                 /* the next one, in the same block */
    else
        rd->hi = NULL;                                  /* a new block: no single stretch */
    return p;
}

static char *bcopy_text(Reader *rd, const char *s, size_t n)
{
    char *p = balloc(rd, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void reset(Batch *b)
{
    if (!b->mem)
        b->mem = arena_new();
    arena_reset(b->mem);
    b->nev = b->taken = b->raw = 0;
}

static RdEvent *push(Batch *b, RdType type)
{
    if (b->nev == b->cap) {
        b->cap = b->cap ? 2 * b->cap : BATCH_RECORDS + 8;
        if (!(b->ev = realloc(b->ev, b->cap * sizeof *b->ev)) || !(b->span = realloc(b->span, b->cap * sizeof *b->span)))
            arena_oom();
    }
    b->span[b->nev] = (Span){NULL, 0};
    RdEvent *e = &b->ev[b->nev++];
    memset(e, 0, sizeof *e);
    e->type = type;
    return e;
}

/* ---- the producer */

static cJSON *parse_into_batch(void *ctx, const char *s, size_t len, JpError *err)
{
    JpAlloc a = {balloc, ctx};
    return jp_parse_with(s, len, err, &a);
}

static void leave_in_batch(void *ctx, cJSON *tree)
{
    (void)ctx;
    (void)tree;                             /* the batch's memory: it goes with the batch */
}

static void error_event(Reader *rd, Batch *b, const char *msg)
{
    push(b, RD_ERROR)->error = bcopy_text(rd, msg, strlen(msg));
}

/* The next file, or the END or ERROR event.  Returns false after those. */
static bool open_next(Reader *rd, Batch *b)
{
    char err[600];
    if (rd->next_spec == rd->nspecs) {
        push(b, RD_END);
        return false;
    }
    rd->in = input_open(rd->specs[rd->next_spec++], err, sizeof err);
    if (!rd->in) {
        error_event(rd, b, err);
        return false;
    }
    if (rd->max_line)
        input_set_max_line(rd->in, rd->max_line);
    InputParser p = {parse_into_batch, leave_in_batch, rd};
    input_set_parser(rd->in, &p);
    RdEvent *e = push(b, RD_FILE);
    e->kind = bcopy_text(rd, input_kind(rd->in), strlen(input_kind(rd->in)));
    e->path = bcopy_text(rd, input_path(rd->in), strlen(input_path(rd->in)));
    return true;
}

/* One record into the batch, or the end of the file (which closes it). */
static bool read_one(Reader *rd, Batch *b)
{
    InputRecord rec;
    char err[512], msg[1200];
    rd->lo = rd->hi = NULL;
    int rc = input_next(rd->in, &rec, err, sizeof err);
    if (rc == 1) {
        RdEvent *e = push(b, RD_RECORD);
        e->rec = rec;
        e->rec.raw = bcopy_text(rd, rec.raw, rec.rawlen);
        e->rec.detail = rec.detail ? bcopy_text(rd, rec.detail, strlen(rec.detail)) : NULL;
        if (rd->hi)                         /* the record's tree and text, unless they are not one stretch */
            b->span[b->nev - 1] = (Span){rd->lo, (size_t)(rd->hi - rd->lo)};
        (void)input_detach(rd->in);         /* the tree is the batch's */
        b->raw += rec.rawlen;
        return true;
    }
    if (rc < 0) {
        snprintf(msg, sizeof msg, "%s: %s", input_path(rd->in), err);
        error_event(rd, b, msg);
    }
    input_close(rd->in);
    rd->in = NULL;
    return rc == 0;
}

static Fill fill(Reader *rd, Batch *b)
{
    rd->filling = b;
    reset(b);
    while (b->nev < BATCH_RECORDS && b->raw < BATCH_RAW) {
        if (atomic_load_explicit(&rd->stop, memory_order_relaxed))
            return STOPPED;
        if (!rd->in ? !open_next(rd, b) : !read_one(rd, b))
            return LAST;
    }
    return MORE;
}

static void *producer(void *arg)
{
    Reader *rd = arg;
    for (int at = 0;; at = (at + 1) % NBATCH) {
        pthread_mutex_lock(&rd->mu);
        while (!atomic_load(&rd->stop) && rd->nfull + rd->held >= NBATCH)
            pthread_cond_wait(&rd->room, &rd->mu);
        pthread_mutex_unlock(&rd->mu);
        if (atomic_load(&rd->stop))
            break;
        Fill f = fill(rd, &rd->batches[at]);
        if (f == STOPPED)
            break;
        pthread_mutex_lock(&rd->mu);
        rd->nfull++;
        pthread_cond_signal(&rd->full);
        pthread_mutex_unlock(&rd->mu);
        if (f == LAST)
            break;
    }
    return NULL;
}

/* ---- the consumer */

Reader *rd_open(char **specs, int nspecs, size_t max_line, bool threaded)
{
    Reader *rd = calloc(1, sizeof *rd);
    if (!rd)
        arena_oom();
    rd->specs = specs;
    rd->nspecs = nspecs;
    rd->max_line = max_line;
    atomic_init(&rd->stop, false);
    rd->threaded = threaded && sysconf(_SC_NPROCESSORS_ONLN) > 1;
    if (rd->threaded) {
        pthread_mutex_init(&rd->mu, NULL);
        pthread_cond_init(&rd->full, NULL);
        pthread_cond_init(&rd->room, NULL);
        if (pthread_create(&rd->thread, NULL, producer, rd) != 0) {
            pthread_mutex_destroy(&rd->mu);
            pthread_cond_destroy(&rd->full);
            pthread_cond_destroy(&rd->room);
            rd->threaded = false;           /* read on demand instead */
        }
    }
    return rd;
}

/* Give back the batch read to its end; take the next full one (or fill it here). */
static void advance(Reader *rd)
{
    if (!rd->threaded) {                    /* never past the last batch: its END or ERROR stays */
        rd->cur = &rd->batches[0];
        (void)fill(rd, rd->cur);
        return;
    }
    pthread_mutex_lock(&rd->mu);
    rd->held = false;
    pthread_cond_signal(&rd->room);
    while (rd->nfull == 0)
        pthread_cond_wait(&rd->full, &rd->mu);
    rd->cur = &rd->batches[rd->head];
    rd->head = (rd->head + 1) % NBATCH;
    rd->nfull--;
    rd->held = true;
    pthread_mutex_unlock(&rd->mu);
}

void rd_next(Reader *rd, RdEvent *ev)
{
    while (!rd->cur || rd->cur->taken == rd->cur->nev)
        advance(rd);
    Batch *b = rd->cur;
    const RdEvent *e = &b->ev[b->taken];
    if (e->type != RD_END && e->type != RD_ERROR)
        b->taken++;                         /* the last event stays */
    *ev = *e;
    /*
    ** The next record was written by the other thread's core: fetch it into
    ** this one's cache while this record is mapped (walking its tree cold
    ** was most of the cost of reading members).
    */
    if (b->taken < b->nev)
        for (size_t k = 0; k < b->span[b->taken].len; k += 64)
            __builtin_prefetch(b->span[b->taken].at + k);
}

void rd_close(Reader *rd)
{
    if (!rd)
        return;
    if (rd->threaded) {
        pthread_mutex_lock(&rd->mu);
        atomic_store(&rd->stop, true);
        pthread_cond_broadcast(&rd->room);
        pthread_mutex_unlock(&rd->mu);
        pthread_join(rd->thread, NULL);
        pthread_mutex_destroy(&rd->mu);
        pthread_cond_destroy(&rd->full);
        pthread_cond_destroy(&rd->room);
    }
    input_close(rd->in);
    for (int i = 0; i < NBATCH; i++) {
        arena_free(rd->batches[i].mem);
        free(rd->batches[i].ev);
        free(rd->batches[i].span);
    }
    free(rd);
}

/*
** sortrun: buffered sort, spilled runs, k-way merge.
**
** A run file is a sequence of entries [u32 klen][u32 vlen][key][value] in
** key order (equal keys in the order they were added), then the run's sparse
** index: for every SPARSE-th entry [u32 klen][u64 offset][key], its key and
** where it is.  Memory keeps only every TOP-th sparse entry (RunIndex), so
** what a run costs in memory does not grow with its size, and many runs
** cost little: a lookup reads at most TOP sparse entries and one block of
** SPARSE entries.  The merge takes, for equal keys, runs in creation order,
** so the last pair added comes last and wins.  The merge keeps the heads
** in a heap ordered by key, then run (tens of runs at millions of records).
*/
#define _DEFAULT_SOURCE   /* madvise(MADV_HUGEPAGE) */
#include "sortrun.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Run files are this module's own: no other thread touches them, so glibc's
** unlocked stdio saves a lock per entry read or written. */
#ifdef __GLIBC__
#define FREAD fread_unlocked
#define FWRITE fwrite_unlocked
#else
#define FREAD fread
#define FWRITE fwrite
#endif

typedef struct Pair {
    uint32_t klen, vlen;
    uint64_t seq;          /* order of addition, to keep equal keys stable */
    unsigned char data[];  /* key then value */
} Pair;

#define SPARSE 256     /* entries per block of a run: one sparse index entry each */
#define TOP 64         /* sparse entries per in-memory index entry */

/*
** A spilled run: its file, where its entries end (and the sparse index
** starts), and in memory every TOP-th sparse entry: its key (keys[kat[i]] up
** to keys[kat[i + 1]]) and where that sparse entry is in the file.
*/
typedef struct RunIndex {
    FILE *f;               /* open for lookups and the merge */
    long data_end, file_end;
    size_t n;
    size_t *kat;           /* n + 1 */
    long *pos;             /* n */
    unsigned char *keys;
} RunIndex;

/* A buffered pair, and room for the sort's key bytes (see sort_ents). */
typedef struct Ent {
    uint64_t pfx;
    Pair *p;
} Ent;

/* A hash table slot: the pair's index + 1 (0: empty) and 32 bits of its key's hash,
** so that a probe rarely has to look at a pair that is not the one. */
typedef struct Slot {
    uint32_t at, tag;
} Slot;

/* Pairs whose slot is being prefetched before they go into the table. */
#define PENDING 8

struct SortRuns {
    char *dir, *name;
    size_t mem, used;
    unsigned char *block;  /* the buffer the pairs live in: allocated once, reused after each spill */
    Ent *pairs;            /* the pairs in the order they were added (cap), sorted at a spill */
    Ent *tmp;              /* the radix sort's other array (cap) */
    size_t npairs, cap;
    uint64_t seq;
    int nruns;
    Slot *slots;           /* hash table over pairs, for lookups (only once sr_get was called) */
    size_t nslots;
    bool hashed;           /* sr_get was called: keep the table up to date */
    size_t pend[PENDING];  /* pairs added but not in the table yet, oldest first (see hash_later) */
    uint64_t pend_h[PENDING];
    unsigned npend;
    RunIndex *runs;        /* per spilled run */
    unsigned char *got;    /* the last looked-up value */
    size_t gotcap;
    char *wbuf;            /* WRITE_BUF bytes, the stdio buffer a run is written through */
};

/* glibc ignores setvbuf's size without a buffer of ours: it would write 4 KiB at a time. */
#define WRITE_BUF ((size_t)1 << 20)

/*
** Tables read and written at random (the Bloom filter, the hash table, the
** buffer) miss the TLB on nearly every access with 4 KiB pages; with 2 MiB
** pages they do not.  Not zeroed; where the system has no transparent huge
** pages this is an ordinary aligned malloc.
*/
void *sr_big_alloc(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    if (n < huge)
        return malloc(n ? n : 1);
    void *p = NULL;
    n = (n + huge - 1) & ~(huge - 1);
    if (posix_memalign(&p, huge, n) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, n, MADV_HUGEPAGE);
#endif
    return p;
}

SortRuns *sr_new(const char *dir, const char *name, size_t mem)
{
    SortRuns *s = calloc(1, sizeof *s);
    s->dir = strdup(dir);
    s->name = strdup(name);
    s->mem = mem;
    return s;
}

static int cmp_keys(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al < bl ? -1 : al > bl);
}

static int cmp_pairs(const void *x, const void *y)
{
    const Pair *a = *(Pair *const *)x, *b = *(Pair *const *)y;
    int c = cmp_keys(a->data, a->klen, b->data, b->klen);
    return c ? c : (a->seq < b->seq ? -1 : 1);
}

static void run_path(const SortRuns *s, int i, char *out, size_t n)
{
    snprintf(out, n, "%s/%s.run%d", s->dir, s->name, i);
}

static void clear_buffer(SortRuns *s)
{
    s->npairs = 0;
    s->used = 0;
    s->npend = 0;
    if (s->slots)
        memset(s->slots, 0, sizeof(Slot) * s->nslots);
}

/*
** A key's hash: 8 bytes at a time, each word folded in with a multiply and
** a rotate, then mixed (the finaliser of MurmurHash3).  Keys of one object
** share long prefixes, so every byte counts, but a byte-at-a-time loop was
** a visible part of staging.
*/
uint64_t sr_hash(const void *key, size_t n)
{
    const unsigned char *p = key;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    for (; n >= 8; n -= 8, p += 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h = h << 29 | h >> 35;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ h >> 33;
}

static void hash_add(SortRuns *s, size_t i, uint64_t h);
static void hash_pending(SortRuns *s);

/* Grow the table (or make it) so that it stays at most half full; re-index the buffer. */
static void hash_grow(SortRuns *s, size_t want)
{
    size_t n = s->nslots ? s->nslots : 8192;
    while (want * 2 > n)
        n *= 2;
    if (n == s->nslots)
        return;
    free(s->slots);
    s->nslots = n;
    s->slots = sr_big_alloc(n * sizeof(Slot));
    if (!s->slots) {                        /* as arena_oom (value.h), which this module does not link */
        fputs("maprun: out of memory\n", stderr);
        exit(3);
    }
    memset(s->slots, 0, n * sizeof(Slot));
    s->npend = 0;                           /* all of them are indexed below */
    for (size_t j = 0; j < s->npairs; j++)
        hash_add(s, j, sr_hash(s->pairs[j].p->data, s->pairs[j].p->klen));
}

/* Index pair i, whose key hashes to h (a later pair with the same key replaces it). */
static void hash_add(SortRuns *s, size_t i, uint64_t h)
{
    const Pair *p = s->pairs[i].p;
    uint32_t tag = (uint32_t)(h >> 32);
    for (size_t at = h & (s->nslots - 1);; at = (at + 1) & (s->nslots - 1)) {
        Slot *sl = &s->slots[at];
        if (sl->at == 0 || (sl->tag == tag && cmp_keys(s->pairs[sl->at - 1].p->data, s->pairs[sl->at - 1].p->klen,
                                                       p->data, p->klen) == 0)) {
            sl->at = (uint32_t)i + 1;
            sl->tag = tag;
            return;
        }
    }
}

/* Index the pending pairs, oldest first (so later keys still replace earlier ones). */
static void hash_pending(SortRuns *s)
{
    for (unsigned k = 0; k < s->npend; k++)
        hash_add(s, s->pend[k], s->pend_h[k]);
    s->npend = 0;
}

/*
** Index pair i a few adds later: its slot is prefetched now and written
** when PENDING more pairs have come, by which time it is in the cache (a
** miss per add was 5% of staging).  Lookups index the pending pairs first.
*/
static void hash_later(SortRuns *s, size_t i)
{
    const Pair *p = s->pairs[i].p;
    uint64_t h = sr_hash(p->data, p->klen);
    __builtin_prefetch(&s->slots[h & (s->nslots - 1)], 1);
    if (s->npend == PENDING) {
        hash_add(s, s->pend[0], s->pend_h[0]);
        memmove(s->pend, s->pend + 1, (PENDING - 1) * sizeof s->pend[0]);
        memmove(s->pend_h, s->pend_h + 1, (PENDING - 1) * sizeof s->pend_h[0]);
        s->npend--;
    }
    s->pend[s->npend] = i;
    s->pend_h[s->npend++] = h;
}

/*
** ---- sorting a buffer: MSD radix on 8 bytes of key at a time
**
** Each level loads the 8 key bytes at depth of every pair into its entry
** (big-endian, zero-padded past the key's end) and sorts the entries by them
** with a stable LSD radix sort, skipping byte positions where every entry
** has the same byte (the long shared prefixes of keys).  Entries with equal
** bytes form groups: keys that end within these 8 bytes go first, shorter
** first (each is a prefix of the longer ones); the rest are sorted on at
** depth + 8.  Stable throughout, so equal keys stay in the order they were
** added, which is what makes the last one win.  Faster than qsort, whose
** every comparison chases two pointers into the buffer.
*/
static uint64_t prefix_at(const Pair *p, size_t depth)
{
    unsigned char b[8] = {0};
    if (p->klen > depth)
        memcpy(b, p->data + depth, p->klen - depth < 8 ? p->klen - depth : 8);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

/* Small ranges: insertion sort on whole keys (stable: pairs compare by seq last). */
static void insertion_sort(Ent *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        Ent e = a[i];
        size_t j = i;
        for (; j > 0 && cmp_pairs(&a[j - 1].p, &e.p) > 0; j--)
            a[j] = a[j - 1];
        a[j] = e;
    }
}

/* Stable LSD radix sort of a[0..n) by pfx, through tmp. */
static void radix_by_prefix(Ent *a, Ent *tmp, size_t n)
{
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            count[b][a[i].pfx >> (8 * b) & 255]++;
    for (int b = 0; b < 8; b++) {
        if (count[b][a[0].pfx >> (8 * b) & 255] == n)
            continue;                       /* every entry has this byte: nothing to do */
        size_t at = 0;
        for (int v = 0; v < 256; v++) {
            size_t c = count[b][v];
            count[b][v] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[b][a[i].pfx >> (8 * b) & 255]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
    }
}

static void sort_ents(Ent *a, Ent *tmp, size_t n, size_t depth)
{
    if (n < 32) {
        insertion_sort(a, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        a[i].pfx = prefix_at(a[i].p, depth);
    radix_by_prefix(a, tmp, n);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && a[j].pfx == a[i].pfx; j++)
            ;
        if (j - i < 2)
            continue;
        /* keys that end here first (stable, by length), then the longer ones */
        size_t nd = 0, nr = 0;
        for (size_t k = i; k < j; k++) {
            if (a[k].p->klen <= depth + 8)
                tmp[nd++] = a[k];
        }
        for (size_t k = 1; k < nd; k++) {
            Ent e = tmp[k];
            size_t m = k;
            for (; m > 0 && tmp[m - 1].p->klen > e.p->klen; m--)
                tmp[m] = tmp[m - 1];
            tmp[m] = e;
        }
        for (size_t k = i; k < j; k++)
            if (a[k].p->klen > depth + 8)
                tmp[nd + nr++] = a[k];
        memcpy(a + i, tmp, (j - i) * sizeof *a);
        if (nr > 1)
            sort_ents(a + i + nd, tmp, nr, depth + 8);
    }
}

/* Write the run's entries; their offsets every SPARSE-th entry go to at[]. */
static bool write_entries(SortRuns *s, FILE *f, long *at)
{
    long off = 0;
    for (size_t i = 0; i < s->npairs; i++) {
        const Pair *p = s->pairs[i].p;
        if (i % SPARSE == 0)
            at[i / SPARSE] = off;
        uint32_t head[2] = {p->klen, p->vlen};
        if (FWRITE(head, sizeof head, 1, f) != 1 || FWRITE(p->data, 1, p->klen + p->vlen, f) != p->klen + p->vlen)
            return false;
        off += (long)(sizeof head + p->klen + p->vlen);
    }
    return true;
}

/* Write the sparse index after the entries, keeping every TOP-th entry in ri. */
static bool write_sparse(SortRuns *s, FILE *f, RunIndex *ri, const long *at)
{
    size_t nsparse = (s->npairs + SPARSE - 1) / SPARSE, nkeys = 0;
    ri->n = (nsparse + TOP - 1) / TOP;
    ri->kat = malloc(sizeof(size_t) * (ri->n + 1));
    ri->pos = malloc(sizeof(long) * (ri->n + 1));
    for (size_t j = 0; j < nsparse; j += TOP)
        nkeys += s->pairs[j * SPARSE].p->klen;
    ri->keys = malloc(nkeys + 1);
    long off = ri->data_end;
    size_t kat = 0;
    for (size_t j = 0; j < nsparse; j++) {
        const Pair *p = s->pairs[j * SPARSE].p;
        if (j % TOP == 0) {
            ri->kat[j / TOP] = kat;
            ri->pos[j / TOP] = off;
            memcpy(ri->keys + kat, p->data, p->klen);
            kat += p->klen;
        }
        uint32_t klen = p->klen;
        uint64_t where = (uint64_t)at[j];
        if (FWRITE(&klen, sizeof klen, 1, f) != 1 || FWRITE(&where, sizeof where, 1, f) != 1
            || FWRITE(p->data, 1, klen, f) != klen)
            return false;
        off += (long)(sizeof klen + sizeof where + klen);
    }
    ri->kat[ri->n] = kat;
    ri->file_end = off;
    return true;
}

/* Sort the buffer and write it as the next run. */
static int spill(SortRuns *s)
{
    if (s->npairs == 0)
        return 0;
    sort_ents(s->pairs, s->tmp, s->npairs, 0);
    char path[4200];
    run_path(s, s->nruns, path, sizeof path);
    FILE *f = fopen(path, "wb");
    s->runs = realloc(s->runs, sizeof(RunIndex) * (size_t)(s->nruns + 1));
    RunIndex *ri = &s->runs[s->nruns++];
    memset(ri, 0, sizeof *ri);
    if (!s->wbuf)
        s->wbuf = malloc(WRITE_BUF);
    long *at = malloc(sizeof(long) * (s->npairs / SPARSE + 1));
    bool ok = f && s->wbuf && setvbuf(f, s->wbuf, _IOFBF, WRITE_BUF) == 0 && write_entries(s, f, at);
    if (ok)
        ri->data_end = ftell(f);
    ok = ok && write_sparse(s, f, ri, at);
    ok = f && fclose(f) == 0 && ok;
    /* read back through stdio's small default buffer: lookups seek */
    ri->f = ok ? fopen(path, "rb") : NULL;
    ok = ok && ri->f;
    free(at);
    clear_buffer(s);
    return ok ? 0 : -1;
}

int sr_add(SortRuns *s, const void *key, size_t klen, const void *val, size_t vlen)
{
    size_t need = (sizeof(Pair) + klen + vlen + 7) & ~(size_t)7;
    if (s->used + need > s->mem && spill(s) < 0)
        return -1;
    if (!s->block)
        s->block = sr_big_alloc(s->mem);
    if (!s->block || need > s->mem)
        return -1;                          /* a pair larger than the whole buffer */
    Pair *p = (Pair *)(s->block + s->used);
    p->klen = (uint32_t)klen;
    p->vlen = (uint32_t)vlen;
    p->seq = s->seq++;
    memcpy(p->data, key, klen);
    memcpy(p->data + klen, val, vlen);
    if (s->npairs == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        Ent *pairs = sr_big_alloc(sizeof(Ent) * cap);
        if (!pairs)
            return -1;
        if (s->npairs)
            memcpy(pairs, s->pairs, sizeof(Ent) * s->npairs);
        free(s->pairs);
        free(s->tmp);
        s->pairs = pairs;
        s->tmp = sr_big_alloc(sizeof(Ent) * cap);
        s->cap = cap;
        if (!s->tmp)
            return -1;
    }
    s->pairs[s->npairs].pfx = 0;
    s->pairs[s->npairs++].p = p;
    if (s->hashed) {
        if (s->npairs * 2 > s->nslots)
            hash_grow(s, s->npairs);
        else
            hash_later(s, s->npairs - 1);
    }
    s->used += need;
    return 0;
}

/* Close and remove every run file. */
static void drop_runs(SortRuns *s)
{
    for (int i = 0; i < s->nruns; i++) {
        RunIndex *ri = &s->runs[i];
        if (ri->f)
            fclose(ri->f);
        free(ri->kat);
        free(ri->pos);
        free(ri->keys);
        char path[4200];
        run_path(s, i, path, sizeof path);
        remove(path);
    }
    free(s->runs);
    s->runs = NULL;
    s->nruns = 0;
}

/* ---- lookups: the buffer, then the runs from the newest */

static const unsigned char *keep(SortRuns *s, const unsigned char *v, size_t n, size_t *vlen)
{
    if (n + 1 > s->gotcap) {
        s->gotcap = n * 2 + 16;
        s->got = realloc(s->got, s->gotcap);
    }
    memcpy(s->got, v, n);
    *vlen = n;
    return s->got;
}

/* Read one [u32 klen][u32 vlen][key][value] or [u32 klen][u64 offset][key] entry's head. */
static bool read_head(FILE *f, uint32_t *klen, uint64_t *second, bool sparse)
{
    uint32_t v;
    if (FREAD(klen, sizeof *klen, 1, f) != 1)
        return false;
    if (sparse)
        return FREAD(second, sizeof *second, 1, f) == 1;
    if (FREAD(&v, sizeof v, 1, f) != 1)
        return false;
    *second = v;
    return true;
}

/*
** Where to start looking for key in run ri: the offset of the last block
** whose first key is less than key (equal keys can begin in the block
** before the first one that starts with key), or 0.  -1 on a read error.
*/
static long block_for(RunIndex *ri, const void *key, size_t klen, unsigned char **buf, size_t *cap)
{
    size_t lo = 0, hi = ri->n;                 /* in-memory entries whose key < key */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_keys(ri->keys + ri->kat[mid], ri->kat[mid + 1] - ri->kat[mid], key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return 0;
    if (fseek(ri->f, ri->pos[lo - 1], SEEK_SET) != 0)
        return -1;
    long start = 0, off = ri->pos[lo - 1];
    uint32_t kl;
    uint64_t where;
    while (off < ri->file_end && read_head(ri->f, &kl, &where, true)) {
        if (kl > *cap)
            *buf = realloc(*buf, *cap = (size_t)kl * 2 + 16);
        if (FREAD(*buf, 1, kl, ri->f) != kl)
            return -1;
        if (cmp_keys(*buf, kl, key, klen) >= 0)
            break;
        start = (long)where;
        off += (long)(sizeof kl + sizeof where + kl);
    }
    return start;
}

/* In run ri: the last entry with this key, by its sparse index and one block. */
static int run_get(SortRuns *s, RunIndex *ri, const void *key, size_t klen, const void **val, size_t *vlen)
{
    unsigned char *buf = NULL;
    size_t cap = 0;
    long off = block_for(ri, key, klen, &buf, &cap);
    if (off < 0 || fseek(ri->f, off, SEEK_SET) != 0) {
        free(buf);
        return -1;
    }
    int found = 0;
    uint32_t kl;
    uint64_t vl;
    while (off < ri->data_end && read_head(ri->f, &kl, &vl, false)) {
        size_t n = (size_t)kl + vl;
        if (n > cap)
            buf = realloc(buf, cap = n * 2 + 16);
        if (FREAD(buf, 1, n, ri->f) != n)
            break;
        int c = cmp_keys(buf, kl, key, klen);
        if (c > 0)
            break;
        if (c == 0) {
            *val = keep(s, buf + kl, vl, vlen);
            found = 1;
        }
        off += (long)(2 * sizeof(uint32_t) + n);
    }
    free(buf);
    return found;
}

int sr_get(SortRuns *s, const void *key, size_t klen, const void **val, size_t *vlen)
{
    if (!s->hashed) {                       /* the first lookup: from now on the buffer is indexed */
        s->hashed = true;
        hash_grow(s, s->npairs);
    }
    hash_pending(s);
    uint64_t h = sr_hash(key, klen);
    uint32_t tag = (uint32_t)(h >> 32);
    for (size_t at = h & (s->nslots - 1);; at = (at + 1) & (s->nslots - 1)) {
        const Slot *sl = &s->slots[at];
        if (sl->at == 0)
            break;
        const Pair *p = s->pairs[sl->at - 1].p;
        if (sl->tag == tag && cmp_keys(p->data, p->klen, key, klen) == 0) {
            *val = keep(s, p->data + p->klen, p->vlen, vlen);
            return 1;
        }
    }
    for (int i = s->nruns - 1; i >= 0; i--) {
        int rc = run_get(s, &s->runs[i], key, klen, val, vlen);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- merging */

/* A source of the merge: a run file, or the sorted buffer itself (mem). */
#define MERGE_BUF ((size_t)64 << 10)    /* per run: 20 runs at 1,000,000 people */

typedef struct Head {
    FILE *f;
    long left;             /* bytes of entries not read yet (the sparse index follows them) */
    const Ent *mem;        /* or the buffer's entries, mem[0..nmem) */
    size_t nmem;
    char *fbuf;            /* the file's stdio buffer (MERGE_BUF bytes) */
    unsigned char *buf;    /* a file's current entry (owned) */
    size_t cap;
    const unsigned char *at;        /* the current entry's key, then value */
    uint32_t klen, vlen;
    int live;
} Head;

static int advance(Head *h)
{
    if (h->mem) {
        h->live = h->nmem > 0;
        if (h->live) {
            h->at = h->mem->p->data;
            h->klen = h->mem->p->klen;
            h->vlen = h->mem->p->vlen;
            h->mem++;
            h->nmem--;
        }
        return 0;
    }
    uint32_t head[2];
    h->live = h->f && h->left > 0 && FREAD(head, sizeof head, 1, h->f) == 1;
    if (!h->live)
        return 0;
    h->klen = head[0];
    h->vlen = head[1];
    size_t n = (size_t)h->klen + h->vlen;
    if (n > h->cap) {
        h->cap = n * 2;
        h->buf = realloc(h->buf, h->cap);
    }
    h->live = FREAD(h->buf, 1, n, h->f) == n;
    h->at = h->buf;
    h->left -= (long)(sizeof head + n);
    return h->live ? 0 : -1;
}

/* Does source a come before source b: a smaller key, or the same key from an earlier source? */
static bool before(const Head *h, int a, int b)
{
    int c = cmp_keys(h[a].at, h[a].klen, h[b].at, h[b].klen);
    return c < 0 || (c == 0 && a < b);
}

/* Restore the heap order from slot i down (heap[] holds source indexes of live heads). */
static void sift_down(const Head *h, int *heap, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, m = i;
        if (l < n && before(h, heap[l], heap[m]))
            m = l;
        if (l + 1 < n && before(h, heap[l + 1], heap[m]))
            m = l + 1;
        if (m == i)
            return;
        int t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

/*
** The runs and the buffer, merged.  The buffer is sorted and merged where it
** is, not spilled: writing the last run and reading it back was a tenth of
** the merge.
*/
int sr_finish(SortRuns *s, SortEmit fn, void *ctx)
{
    int rc = 0, nsrc = s->nruns + 1, nheap = 0;
    sort_ents(s->pairs, s->tmp, s->npairs, 0);
    Head *h = calloc((size_t)nsrc, sizeof(Head));
    int *heap = malloc(sizeof(int) * (size_t)nsrc);
    for (int i = 0; i < s->nruns && rc == 0; i++) {
        /* read sequentially through a large buffer of its own (the run's FILE has a small one: lookups seek) */
        char path[4200];
        run_path(s, i, path, sizeof path);
        h[i].f = fopen(path, "rb");
        h[i].fbuf = malloc(MERGE_BUF);
        h[i].left = s->runs[i].data_end;
        rc = h[i].f && h[i].fbuf && setvbuf(h[i].f, h[i].fbuf, _IOFBF, MERGE_BUF) == 0 ? advance(&h[i]) : -1;
    }
    h[s->nruns].mem = s->pairs;
    h[s->nruns].nmem = s->npairs;
    if (rc == 0)
        rc = advance(&h[s->nruns]);
    for (int i = 0; i < nsrc; i++)
        if (h[i].live)
            heap[nheap++] = i;
    for (int i = nheap / 2 - 1; i >= 0; i--)
        sift_down(h, heap, nheap, i);
    unsigned char *key = NULL, *val = NULL;
    size_t kcap = 0, vcap = 0, klen = 0, vlen = 0;
    bool pending = false;
    while (rc == 0 && nheap > 0) {
        Head *b = &h[heap[0]];
        if (pending && cmp_keys(key, klen, b->at, b->klen) != 0)
            rc = fn(ctx, key, klen, val, vlen);        /* the last pair of the previous key */
        if (b->klen > kcap)
            key = realloc(key, kcap = (size_t)b->klen * 2 + 16);
        if (b->vlen > vcap)
            val = realloc(val, vcap = (size_t)b->vlen * 2 + 16);
        memcpy(key, b->at, klen = b->klen);
        memcpy(val, b->at + b->klen, vlen = b->vlen);
        pending = true;
        if (rc == 0)
            rc = advance(b);
        if (!b->live)
            heap[0] = heap[--nheap];
        sift_down(h, heap, nheap, 0);
    }
    if (rc == 0 && pending)
        rc = fn(ctx, key, klen, val, vlen);
    for (int i = 0; i < nsrc; i++) {
        free(h[i].buf);
        if (h[i].f)
            fclose(h[i].f);
        free(h[i].fbuf);
    }
    free(h);
    free(heap);
    free(key);
    free(val);
    clear_buffer(s);
    drop_runs(s);
    return rc;
}

void sr_free(SortRuns *s)
{
    if (!s)
        return;
    clear_buffer(s);
    drop_runs(s);
    free(s->block);
    free(s->slots);
    free(s->got);
    free(s->wbuf);
    free(s->pairs);
    free(s->tmp);
    free(s->dir);
    free(s->name);
    free(s);
}

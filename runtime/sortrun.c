/*
** sortrun: buffered sort, spilled runs, k-way merge.
**
** A run file is a sequence of entries [u32 klen][u32 vlen][key][value] in
** key order (equal keys in the order they were added).  The merge takes, for
** equal keys, runs in creation order, so the last pair added comes last and
** wins.  Runs are few (the buffer is large), so the merge picks the smallest
** head by a linear scan.
*/
#include "sortrun.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Pair {
    uint32_t klen, vlen;
    uint64_t seq;          /* order of addition, to keep equal keys stable */
    unsigned char data[];  /* key then value */
} Pair;

struct SortRuns {
    char *dir, *name;
    size_t mem, used;
    Pair **pairs;
    size_t npairs, cap;
    uint64_t seq;
    int nruns;
};

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
    for (size_t i = 0; i < s->npairs; i++)
        free(s->pairs[i]);
    s->npairs = 0;
    s->used = 0;
}

/* Sort the buffer and write it as the next run. */
static int spill(SortRuns *s)
{
    if (s->npairs == 0)
        return 0;
    qsort(s->pairs, s->npairs, sizeof(Pair *), cmp_pairs);
    char path[4200];
    run_path(s, s->nruns, path, sizeof path);
    FILE *f = fopen(path, "wb");
    int ok = f != NULL;
    for (size_t i = 0; ok && i < s->npairs; i++) {
        const Pair *p = s->pairs[i];
        uint32_t head[2] = {p->klen, p->vlen};
        ok = fwrite(head, sizeof head, 1, f) == 1 && fwrite(p->data, 1, p->klen + p->vlen, f) == p->klen + p->vlen;
    }
    if (f && fclose(f) != 0)
        ok = 0;
    s->nruns++;
    clear_buffer(s);
    return ok ? 0 : -1;
}

int sr_add(SortRuns *s, const void *key, size_t klen, const void *val, size_t vlen)
{
    Pair *p = malloc(sizeof *p + klen + vlen);
    if (!p)
        return -1;
    p->klen = (uint32_t)klen;
    p->vlen = (uint32_t)vlen;
    p->seq = s->seq++;
    memcpy(p->data, key, klen);
    memcpy(p->data + klen, val, vlen);
    if (s->npairs == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->pairs = realloc(s->pairs, sizeof(Pair *) * s->cap);
    }
    s->pairs[s->npairs++] = p;
    s->used += sizeof *p + klen + vlen + sizeof(Pair *);
    return s->used >= s->mem ? spill(s) : 0;
}

/* ---- merging */

typedef struct Head {
    FILE *f;
    unsigned char *buf;
    size_t cap;
    uint32_t klen, vlen;
    int live;
} Head;

static int advance(Head *h)
{
    uint32_t head[2];
    h->live = h->f && fread(head, sizeof head, 1, h->f) == 1;
    if (!h->live)
        return 0;
    h->klen = head[0];
    h->vlen = head[1];
    size_t n = (size_t)h->klen + h->vlen;
    if (n > h->cap) {
        h->cap = n * 2;
        h->buf = realloc(h->buf, h->cap);
    }
    h->live = fread(h->buf, 1, n, h->f) == n;
    return h->live ? 0 : -1;
}

/* The run whose head is smallest; for equal keys the earliest run. */
static int smallest(Head *h, int n)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (h[i].live && (best < 0 || cmp_keys(h[i].buf, h[i].klen, h[best].buf, h[best].klen) < 0))
            best = i;
    return best;
}

int sr_finish(SortRuns *s, SortEmit fn, void *ctx)
{
    int rc = spill(s);
    Head *h = calloc((size_t)s->nruns + 1, sizeof(Head));
    char path[4200];
    for (int i = 0; i < s->nruns && rc == 0; i++) {
        run_path(s, i, path, sizeof path);
        h[i].f = fopen(path, "rb");
        rc = h[i].f ? advance(&h[i]) : -1;
    }
    unsigned char *key = NULL, *val = NULL;
    size_t kcap = 0, vcap = 0, klen = 0, vlen = 0;
    bool pending = false;
    int best;
    while (rc == 0 && (best = smallest(h, s->nruns)) >= 0) {
        Head *b = &h[best];
        if (pending && cmp_keys(key, klen, b->buf, b->klen) != 0)
            rc = fn(ctx, key, klen, val, vlen);        /* the last pair of the previous key */
        if (b->klen > kcap)
            key = realloc(key, kcap = (size_t)b->klen * 2 + 16);
        if (b->vlen > vcap)
            val = realloc(val, vcap = (size_t)b->vlen * 2 + 16);
        memcpy(key, b->buf, klen = b->klen);
        memcpy(val, b->buf + b->klen, vlen = b->vlen);
        pending = true;
        if (rc == 0)
            rc = advance(b);
    }
    if (rc == 0 && pending)
        rc = fn(ctx, key, klen, val, vlen);
    for (int i = 0; i < s->nruns; i++) {
        if (h[i].f)
            fclose(h[i].f);
        free(h[i].buf);
        run_path(s, i, path, sizeof path);
        remove(path);
    }
    free(h);
    free(key);
    free(val);
    s->nruns = 0;
    return rc;
}

void sr_free(SortRuns *s)
{
    if (!s)
        return;
    clear_buffer(s);
    for (int i = 0; i < s->nruns; i++) {
        char path[4200];
        run_path(s, i, path, sizeof path);
        remove(path);
    }
    free(s->pairs);
    free(s->dir);
    free(s->name);
    free(s);
}

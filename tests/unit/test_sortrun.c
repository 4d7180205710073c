/*
** test_sortrun: the external sort behind staging — spills to run files,
** lookups across the buffer and the runs, last-added-wins, key order.
** Prints one line per failure and "N passed, N failed".
*/
#include "sortrun.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


typedef struct Seen {
    char last[64];
    int n, ordered, values_ok;
} Seen;

static int collect(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Seen *s = ctx;
    char key[64], want[80];
    snprintf(key, sizeof key, "%.*s", (int)kl, (const char *)k);
    if (s->n && strcmp(s->last, key) >= 0)
        s->ordered = 0;
    snprintf(s->last, sizeof s->last, "%s", key);
    /* every key i was added as "v<i>" and, when i % 7 == 0, again as "new<i>" */
    int i = atoi(key + 1);
    snprintf(want, sizeof want, i % 7 == 0 ? "new%d" : "v%d", i);
    if (vl != strlen(want) || memcmp(v, want, vl) != 0)
        s->values_ok = 0;
    s->n++;
    return 0;
}

/*
** Keys shaped like staging's (OBJECT \0 KEY \0 FIELD): long shared prefixes,
** NUL bytes (also at the end), keys that are prefixes of others, repeats.  Whatever the
** buffer's sort does, the merge must give byte order and the last value.
*/
typedef struct Tricky {
    unsigned char last[64];
    size_t lastlen;
    int n, ordered, values_ok;
    const int *lastval;         /* per key id: the value added last */
} Tricky;

static size_t tricky_key(int id, unsigned char *out)
{
    static const char *const objs[] = {"Task", "Task\0x", "Contact", "T"};
    const char *o = objs[id % 4];
    size_t n = id % 4 == 1 ? 6 : strlen(o);
    memcpy(out, o, n);
    out[n++] = '\0';
    n += (size_t)sprintf((char *)out + n, "activity:01AK%0*d", 1 + id / 4 % 9, id / 36);
    if (id % 3 == 0) {                          /* some get a field part */
        out[n++] = '\0';
        n += (size_t)sprintf((char *)out + n, "WhoId");
    }
    for (int z = 0; z < id % 5 - 2; z++)        /* and some end in one or two NULs */
        out[n++] = '\0';
    return n;
}

static int count_pairs(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k, (void)kl, (void)v, (void)vl;
    ++*(int *)ctx;
    return 0;
}

static int collect_tricky(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    Tricky *t = ctx;
    if (t->n) {
        size_t m = kl < t->lastlen ? kl : t->lastlen;
        int c = memcmp(t->last, k, m);
        if (c > 0 || (c == 0 && t->lastlen >= kl))
            t->ordered = 0;
    }
    memcpy(t->last, k, kl);
    t->lastlen = kl;
    int id, val;
    if (vl != sizeof id + sizeof val)
        t->values_ok = 0;
    else {
        memcpy(&id, v, sizeof id);
        memcpy(&val, (const char *)v + sizeof id, sizeof val);
        if (t->lastval[id] != val)
            t->values_ok = 0;
    }
    t->n++;
    return 0;
}

static void test_tricky_keys(const char *dir)
{
    enum { KEYS = 3000, ADDS = 9000 };
    static int lastval[KEYS];
    SortRuns *s = sr_new(dir, "tricky", 64 * 1024);
    unsigned char key[64];
    for (int j = 0; j < ADDS; j++) {
        int id = (int)(((unsigned)j * 2654435761u) % KEYS);
        int val[2] = {id, j};
        lastval[id] = j;
        sr_add(s, key, tricky_key(id, key), val, sizeof val);
    }
    int distinct = 0;
    for (int id = 0; id < KEYS; id++) {
        int dup = 0;                            /* ids can share a key: count each key once */
        unsigned char k2[64];
        size_t n = tricky_key(id, key);
        for (int other = 0; other < id && !dup; other++)
            dup = tricky_key(other, k2) == n && memcmp(k2, key, n) == 0;
        distinct += !dup;
    }
    Tricky t = {{0}, 0, 0, 1, 1, lastval};
    CHECK(sr_finish(s, collect_tricky, &t) == 0, "finish (tricky keys)");
    CHECK(t.ordered, "keys with NULs and shared prefixes come in byte order");
    CHECK(t.n == distinct, "each distinct key once: %d of %d", t.n, distinct);
    CHECK(t.values_ok, "each key with its last value (tricky keys)");
    sr_free(s);
}

/*
** Runs large enough for both levels of their index (more than SPARSE * TOP
** entries each): lookups of present, missing, first, last and repeated keys
** (a key added many times spans blocks; its last value must come back).
*/
static void test_big_runs(const char *dir)
{
    enum { N = 120000 };
    SortRuns *s = sr_new(dir, "big", (size_t)2 << 20);
    char key[32], val[32];
    for (int j = 0; j < N; j++) {
        int i = (int)(((unsigned)j * 7919u) % N);
        snprintf(key, sizeof key, "k%07d", i);
        snprintf(val, sizeof val, "v%d", i);
        sr_add(s, key, strlen(key), val, strlen(val));
        if (j == N / 2)
            for (int d = 0; d < 1000; d++) {    /* one key, many times, in one run */
                snprintf(val, sizeof val, "d%d", d);
                sr_add(s, "k0050000x", 9, val, strlen(val));
            }
    }
    for (int i = 0; i < N; i += 3) {            /* later values in later runs */
        snprintf(key, sizeof key, "k%07d", i);
        snprintf(val, sizeof val, "w%d", i);
        sr_add(s, key, strlen(key), val, strlen(val));
    }
    const void *v;
    size_t vl;
    int ok = 1;
    for (int i = 0; i < N; i += 97) {
        snprintf(key, sizeof key, "k%07d", i);
        snprintf(val, sizeof val, i % 3 == 0 ? "w%d" : "v%d", i);
        ok &= sr_get(s, key, strlen(key), &v, &vl) == 1 && vl == strlen(val) && memcmp(v, val, vl) == 0;
    }
    CHECK(ok, "lookups in large runs find the last value");
    CHECK(sr_get(s, "k0000001", 8, &v, &vl) == 1 && vl == 2 && memcmp(v, "v1", 2) == 0, "the first key of a run");
    CHECK(sr_get(s, "k0119999", 8, &v, &vl) == 1 && vl == 7 && memcmp(v, "v119999", 7) == 0, "the last key of a run");
    CHECK(sr_get(s, "k0050000x", 9, &v, &vl) == 1 && vl == 4 && memcmp(v, "d999", 4) == 0,
          "a key repeated across blocks gives its last value");
    CHECK(sr_get(s, "a", 1, &v, &vl) == 0 && sr_get(s, "z", 1, &v, &vl) == 0 && sr_get(s, "k0050000", 8, &v, &vl) == 1
          && sr_get(s, "k00500005", 9, &v, &vl) == 0, "keys before, after and between the run's keys");
    int n = 0;
    CHECK(sr_finish(s, count_pairs, &n) == 0 && n == N + 1, "every distinct key once after the merge: %d", n);
    sr_free(s);
}

/*
** Lookups between adds, in one buffer: once the first lookup has indexed the
** buffer, new pairs reach the hash table a few adds late (prefetched); a
** lookup must still see the newest value of a key added just before it.
*/
static void test_interleaved(const char *dir)
{
    SortRuns *s = sr_new(dir, "i", 1 << 20);
    char key[32], val[32];
    const void *v;
    size_t vl;
    int ok = 1;
    CHECK(sr_get(s, "none", 4, &v, &vl) == 0, "an empty buffer has nothing");
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "k%d", i % 500);      /* each key again every 500 adds */
        snprintf(val, sizeof val, "v%d", i);
        sr_add(s, key, strlen(key), val, strlen(val));
        if (i % 3 == 0) {                               /* the key just added, and one a few adds back */
            ok &= sr_get(s, key, strlen(key), &v, &vl) == 1 && vl == strlen(val) && memcmp(v, val, vl) == 0;
            if (i >= 5) {
                snprintf(key, sizeof key, "k%d", (i - 5) % 500);
                snprintf(val, sizeof val, "v%d", i - 5);
                ok &= sr_get(s, key, strlen(key), &v, &vl) == 1 && vl == strlen(val) && memcmp(v, val, vl) == 0;
            }
        }
    }
    CHECK(ok, "lookups between adds see the newest value of each key");
    sr_free(s);
}

int main(void)
{
    char dir[] = "/tmp/test_sortrun.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    SortRuns *s = sr_new(dir, "t", 4096);      /* tiny buffer: many runs */
    enum { N = 5000 };
    char key[32], val[32];
    for (int j = 0; j < N; j++) {
        int i = (j * 7919) % N;                 /* a scrambled order */
        snprintf(key, sizeof key, "k%05d", i);
        snprintf(val, sizeof val, "v%d", i);
        CHECK(sr_add(s, key, strlen(key), val, strlen(val)) == 0, "add %s", key);
    }
    for (int i = 0; i < N; i += 7) {            /* later values for some keys */
        snprintf(key, sizeof key, "k%05d", i);
        snprintf(val, sizeof val, "new%d", i);
        sr_add(s, key, strlen(key), val, strlen(val));
    }
    int lookups_ok = 1;
    for (int i = 0; i < N; i += 13) {
        snprintf(key, sizeof key, "k%05d", i);
        snprintf(val, sizeof val, i % 7 == 0 ? "new%d" : "v%d", i);
        const void *v;
        size_t vl;
        if (sr_get(s, key, strlen(key), &v, &vl) != 1 || vl != strlen(val) || memcmp(v, val, vl) != 0)
            lookups_ok = 0;
    }
    CHECK(lookups_ok, "lookups find the last value, in the buffer or in a run");
    const void *v;
    size_t vl;
    CHECK(sr_get(s, "k99999", 6, &v, &vl) == 0, "a missing key is not found");
    Seen seen = {"", 0, 1, 1};
    CHECK(sr_finish(s, collect, &seen) == 0, "finish");
    CHECK(seen.n == N, "every distinct key once: %d", seen.n);
    CHECK(seen.ordered, "keys come in byte order");
    CHECK(seen.values_ok, "each key with its last value");
    sr_free(s);
    test_tricky_keys(dir);
    test_big_runs(dir);
    test_interleaved(dir);
    CHECK(rmdir(dir) == 0, "the run files are removed");
    return unit_summary();
}

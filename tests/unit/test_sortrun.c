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
    CHECK(rmdir(dir) == 0, "the run files are removed");
    return unit_summary();
}

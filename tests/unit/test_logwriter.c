/*
** test_logwriter: what lw_append takes reaches the file, in order, at the
** offset the writer was opened at; lw_flush means "in the file now"; a
** failed write is reported and stays reported.
*/
#include "logwriter.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Does the file hold want[0, n) from offset at? */
static int holds(int fd, uint64_t at, const unsigned char *want, size_t n)
{
    unsigned char *got = malloc(n ? n : 1);
    int ok = pread(fd, got, n, (off_t)at) == (ssize_t)n && memcmp(got, want, n) == 0;
    free(got);
    return ok;
}

int main(void)
{
    char path[] = "/tmp/test_logwriter.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    const char head[] = "kept: written before the writer";
    CHECK(write(fd, head, sizeof head - 1) == (ssize_t)(sizeof head - 1), "the head");

    enum { TOTAL = 3 << 20 };
    unsigned char *data = malloc(TOTAL);
    for (size_t i = 0; i < TOTAL; i++)
        data[i] = (unsigned char)rnd(256);
    LogWriter *w = lw_open(fd, sizeof head - 1, 4096);     /* small buffers: many hand-offs */
    size_t done = 0;
    int ok = 1, flushed_ok = 1;
    while (done < TOTAL) {
        size_t n = rnd(8) == 0 ? 10000 + rnd(20000) : rnd(300);   /* some larger than a buffer */
        if (n > TOTAL - done)
            n = TOTAL - done;
        ok &= lw_append(w, data + done, n) == 0;
        done += n;
        if (rnd(50) == 0) {
            ok &= lw_flush(w) == 0;
            flushed_ok &= holds(fd, sizeof head - 1, data, done);
        }
    }
    CHECK(ok, "appends and flushes succeed");
    CHECK(flushed_ok, "after lw_flush the file holds everything appended so far");
    CHECK(lw_close(w) == 0, "close flushes");
    CHECK(holds(fd, 0, (const unsigned char *)head, sizeof head - 1), "the bytes before the offset are kept");
    CHECK(holds(fd, sizeof head - 1, data, TOTAL), "the file holds every byte, in order");
    CHECK(lseek(fd, 0, SEEK_END) == (off_t)(sizeof head - 1 + TOTAL), "and nothing more");
    close(fd);

    /* a descriptor that cannot be written: the error comes back and stays */
    int ro = open(path, O_RDONLY);
    w = lw_open(ro, 0, 64);
    int e1 = lw_append(w, data, 100);               /* the first buffer fills: a write is tried */
    int e2 = lw_flush(w);
    int e3 = lw_append(w, data, 10);
    CHECK((e1 == EBADF || e2 == EBADF) && e3 == EBADF, "EBADF is reported and sticky (%d %d %d)", e1, e2, e3);
    CHECK(lw_close(w) == EBADF, "close reports it too");
    close(ro);
    unlink(path);
    free(data);
    return unit_summary();
}

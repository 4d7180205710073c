/*
** logwriter: two buffers and a writing thread (logwriter.h).
**
** The caller fills buf[cur]; hand_off gives it to the thread as the job
** (after the previous job is done, so that the other buffer is free) and
** goes on in the other one.  The thread pwrites each job at its offset.
** Everything the two share (the job, busy, err, stop) is under mu.
** Without a thread (pthread_create failed) hand_off writes in place.
*/
#include "logwriter.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct LogWriter {
    int fd;
    size_t size;
    char *buf[2];
    int cur;                    /* the buffer being filled */
    size_t len;                 /* bytes in it */
    uint64_t at;                /* the file offset of its first byte */
    int failed;                 /* the caller's copy of err, once seen */
    bool threaded;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool busy, stop;            /* a job is being written; the thread should end */
    int job;
    size_t job_len;
    uint64_t job_at;
    int err;                    /* the first failed write's errno */
};

static int write_all(int fd, const char *p, size_t n, uint64_t at)
{
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, (off_t)at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        p += k;
        n -= (size_t)k;
        at += (uint64_t)k;
    }
    return 0;
}

static void *writer(void *arg)
{
    LogWriter *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->busy && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->busy)
            break;
        int job = w->job;
        size_t n = w->job_len;
        uint64_t at = w->job_at;
        pthread_mutex_unlock(&w->mu);
        int e = write_all(w->fd, w->buf[job], n, at);
        pthread_mutex_lock(&w->mu);
        if (e && !w->err)
            w->err = e;
        w->busy = false;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

LogWriter *lw_open(int fd, uint64_t end, size_t bufsize)
{
    LogWriter *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fd = fd;
    w->size = bufsize;
    w->at = end;
    w->buf[0] = malloc(bufsize);
    w->buf[1] = malloc(bufsize);
    if (!w->buf[0] || !w->buf[1]) {
        free(w->buf[0]);
        free(w->buf[1]);
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->threaded = pthread_create(&w->thread, NULL, writer, w) == 0;
    return w;
}

/* Wait until no job is being written; the sticky error. */
static int wait_idle(LogWriter *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->busy)
        pthread_cond_wait(&w->cv, &w->mu);
    int e = w->err;
    pthread_mutex_unlock(&w->mu);
    if (e)
        w->failed = e;
    return e;
}

/* Give the filled buffer to the thread (or write it here) and go on in the other one. */
static int hand_off(LogWriter *w)
{
    int e = wait_idle(w);
    if (e || w->len == 0)
        return e;
    if (!w->threaded) {
        e = write_all(w->fd, w->buf[w->cur], w->len, w->at);
        if (e)
            return w->failed = e;
    } else {
        pthread_mutex_lock(&w->mu);
        w->job = w->cur;
        w->job_len = w->len;
        w->job_at = w->at;
        w->busy = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        w->cur ^= 1;
    }
    w->at += w->len;
    w->len = 0;
    return 0;
}

int lw_append(LogWriter *w, const void *p, size_t n)
{
    const char *s = p;
    if (w->failed)
        return w->failed;
    while (n > 0) {
        if (w->len == w->size) {
            int e = hand_off(w);
            if (e)
                return e;
        }
        size_t k = w->size - w->len < n ? w->size - w->len : n;
        memcpy(w->buf[w->cur] + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
    }
    return 0;
}

int lw_flush(LogWriter *w)
{
    int e = hand_off(w);
    return e ? e : wait_idle(w);
}

int lw_close(LogWriter *w)
{
    if (!w)
        return 0;
    int e = lw_flush(w);
    if (w->threaded) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->buf[0]);
    free(w->buf[1]);
    free(w);
    return e;
}

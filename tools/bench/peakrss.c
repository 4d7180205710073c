/*
** peakrss: run a command and report its wall time, CPU time and peak memory.
**
**   peakrss OUT CMD [ARG...]
**
** Runs CMD (stdin, stdout and stderr inherited) and writes one JSON object
** to the file OUT:
**
**   {"status": EXIT, "wall": S, "user": S, "sys": S, "maxrss_kb": K,
**    "anon_kb": K, "file_kb": K, "samples": N}
**
** maxrss_kb is the child's ru_maxrss (getrusage(RUSAGE_CHILDREN) after it is
** reaped: it is the only child).  Why a helper: the kernel carries a
** process's peak RSS across exec, so a command forked straight from the
** bench's Python process would report at least that interpreter's RSS.
** Forked from this small process the floor is about a megabyte.  anon_kb and
** file_kb are the largest RssAnon and RssFile read from /proc/PID/status,
** sampled every 10 ms, to tell heap from mapped file pages.
** Exits with CMD's exit status (128+N when killed by signal N), 127 when
** CMD cannot be run.
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sample(pid_t pid, long *anon, long *file)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        long v;
        if (sscanf(line, "RssAnon: %ld", &v) == 1 && v > *anon)
            *anon = v;
        else if (sscanf(line, "RssFile: %ld", &v) == 1 && v > *file)
            *file = v;
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: peakrss OUT CMD [ARG...]\n", stderr);
        return 2;
    }
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    double start = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("peakrss: fork");
        return 127;
    }
    if (pid == 0) {
        sigprocmask(SIG_UNBLOCK, &chld, NULL);
        execvp(argv[2], argv + 2);
        fprintf(stderr, "peakrss: %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    long anon = 0, file = 0, samples = 0;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            perror("peakrss: waitpid");
            return 127;
        }
        sample(pid, &anon, &file);
        samples++;
        struct timespec tick = {0, 10 * 1000 * 1000};
        sigtimedwait(&chld, NULL, &tick);      /* wakes early when the child exits */
    }
    double wall = now() - start;
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 127;
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        fprintf(stderr, "peakrss: %s: %s\n", argv[1], strerror(errno));
        return 127;
    }
    fprintf(out, "{\"status\": %d, \"wall\": %.6f, \"user\": %.6f, \"sys\": %.6f, \"maxrss_kb\": %ld, "
                 "\"anon_kb\": %ld, \"file_kb\": %ld, \"samples\": %ld}\n",
            code, wall, (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss, anon, file, samples);
    fclose(out);
    return code;
}

/*
** unit.h: the harness the C unit tests share.  CHECK(cond, fmt, …) counts
** a pass or prints the failure with its line; unit_summary() prints the
** closing "N passed, N failed" and gives the exit status.
*/
#ifndef MAPC_UNIT_H
#define MAPC_UNIT_H

#include <stdarg.h>
#include <stdio.h>

static int npass, nfail;

/* A pass, or a failure reported at line of the test file (__BASE_FILE__: the .c file). */
static void check(int ok, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void check(int ok, int line, const char *fmt, ...)
{
    va_list ap;
    if (ok) {
        npass++;
        return;
    }
    nfail++;
    printf("FAIL %s:%d: ", __BASE_FILE__, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

#define CHECK(cond, ...) check((cond) != 0, __LINE__, __VA_ARGS__)

static int unit_summary(void)
{
    printf("%d passed, %d failed\n", npass, nfail);
    return nfail ? 1 : 0;
}

#endif

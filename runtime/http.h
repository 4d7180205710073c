/*
** http: one HTTPS client (libcurl) for talking to Salesforce and, later,
** Customer.io.  It moves bytes and reports what happened; retry policy,
** authentication and error shapes belong to the callers (sf.c).
**
** Only https:// is accepted, except plain http:// to a loopback address
** (the local emulators): credentials must never cross a network in clear.
*/
#ifndef MAPRUN_HTTP_H
#define MAPRUN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct Http Http;

typedef struct HttpResponse {
    long status;            /* 0 when no response arrived (transport error) */
    char *body;             /* NUL-terminated; NULL when the body went to a file */
    size_t len;
    char locator[128];      /* Sforce-Locator */
    char limit_info[128];   /* Sforce-Limit-Info */
    long retry_after;       /* Retry-After in seconds, -1 when absent */
    unsigned long long records;   /* Sforce-NumberOfRecords */
} HttpResponse;

typedef struct HttpRequest {
    const char *method;     /* GET POST PUT PATCH DELETE */
    const char *url;
    const char *content_type;     /* NULL: no body */
    const void *body;
    size_t len;
    const char *bearer;     /* Authorization: Bearer …, never logged */
    const char *accept;     /* NULL: application/json */
    FILE *to;               /* write the body here instead of into memory */
} HttpRequest;

/* 0 when url may be used; -1 with a reason (not https, and not loopback http). */
int http_check_url(const char *url, char *err, size_t errlen);

Http *http_new(long timeout_ms);
void http_free(Http *h);
/* Sends the request.  0 when a response arrived (any status), -1 on a
** transport failure (refused, reset, timeout) with a reason in err. */
int http_send(Http *h, const HttpRequest *rq, HttpResponse *rs, char *err, size_t errlen);
void http_response_free(HttpResponse *rs);
/* How long to wait before retry number attempt (0-based): base doubling up
** to 60 s, plus up to a quarter of jitter so clients do not retry in step,
** and never less than a server's Retry-After (seconds, -1 when absent). */
long http_backoff_ms(long base_ms, int attempt, long retry_after, unsigned *seed);
/* Sleeps, going on after signals. */
void http_sleep_ms(long ms);
/* application/x-www-form-urlencoded / URL encoding of s (malloc'd). */
char *http_escape(Http *h, const char *s);

#endif

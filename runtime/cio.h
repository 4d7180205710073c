/*
** cio: a Customer.io App API client (../shared/reference/customerio.md
** section 1): Bearer authentication, at most 9 requests a second (the API
** allows 10), 429 honoured with its Retry-After, 5xx and dropped
** connections retried with backoff, and the API's error shapes.
*/
#ifndef MAPRUN_CIO_H
#define MAPRUN_CIO_H

#include "http.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct CioClient CioClient;

typedef struct CioConfig {
    const char *base_url;       /* https://api.customer.io, …-eu…, or CIO_API_URL */
    const char *api_key;        /* never printed, never written */
    long min_interval_ms;       /* between requests: 1000/9 unless MAPRUN_CIO_RATE says otherwise */
    long backoff_ms;
    int max_retries;
    FILE *log;
} CioConfig;

typedef struct CioError {
    long http;                  /* 0: no answer */
    char message[512];
} CioError;

/* From CIO_APP_API_KEY, CIO_REGION (us|eu) or CIO_API_URL, MAPRUN_BACKOFF_MS
** and MAPRUN_CIO_RATE; -1 with a reason. */
int cio_config_from_env(CioConfig *cfg, char *err, size_t errlen);
CioClient *cio_new(const CioConfig *cfg);
void cio_free(CioClient *c);
/* GET (body NULL) or POST a JSON body to path (under the base URL, with its
** query); the answer parsed.  NULL with e filled; e->http 404 is "not found". */
cJSON *cio_call(CioClient *c, const char *method, const char *path, const cJSON *body, CioError *e);
/* GET an absolute URL (an export's signed link, no API key sent) into f. */
int cio_download(CioClient *c, const char *url, FILE *f, CioError *e);
/* Requests made, and 429s received. */
unsigned long cio_requests(const CioClient *c);
unsigned long cio_throttled(const CioClient *c);
/* URL-escapes s (malloc'd). */
char *cio_escape(CioClient *c, const char *s);

#endif

/*
** sf: a Salesforce REST and Bulk API 2.0 client — authentication, the
** retry policy, and Salesforce's error shapes (../shared/reference/
** salesforce.md sections 1–3).
**
**   - OAuth 2.0 client credentials against SF_LOGIN_URL; every call then
**     goes to the instance_url the token answer names.  The token and the
**     client secret are held in memory only: never printed, never stored.
**   - 401 INVALID_SESSION_ID: authenticate again, once, and repeat the call.
**   - 5xx, 429 and transport failures (refused, reset, timeout): back off
**     (doubling, with jitter, honouring Retry-After) and repeat, unless the
**     call is marked SF_ONCE (an upload, which must not be sent twice).
**   - 403 REQUEST_LIMIT_EXCEEDED: stop; the error says so (e->limit).
*/
#ifndef MAPRUN_SF_H
#define MAPRUN_SF_H

#include "http.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct SfClient SfClient;

typedef struct SfConfig {
    const char *login_url, *client_id, *client_secret;
    const char *api_version;    /* "62.0" */
    long timeout_ms;            /* per HTTP request */
    long backoff_ms;            /* first retry delay; doubles up to 60 s */
    int max_retries;
    FILE *log;                  /* retries and re-authentication, one line each; NULL: quiet */
} SfConfig;

typedef struct SfError {
    long http;                  /* HTTP status, 0 for a transport failure */
    char code[64];              /* errorCode / error, e.g. INVALID_FIELD */
    char message[768];
    bool limit;                 /* REQUEST_LIMIT_EXCEEDED: stop and resume later */
} SfError;

enum { SF_ONCE = 1, SF_ABSOLUTE = 2, SF_OK_404 = 4 };

typedef struct SfCall {
    const char *method;
    const char *path;           /* under /services/data/vXX.X, or a full path with SF_ABSOLUTE */
    const char *content_type;
    const void *body;
    size_t len;
    const char *accept;
    FILE *to;                   /* response body to a file */
    int flags;
} SfCall;

/* Fills cfg from SF_LOGIN_URL, SF_CLIENT_ID, SF_CLIENT_SECRET, SF_API_VERSION
** and MAPRUN_BACKOFF_MS; -1 with the name of what is missing. */
int sf_config_from_env(SfConfig *cfg, char *err, size_t errlen);
SfClient *sf_new(const SfConfig *cfg);
void sf_free(SfClient *c);
int sf_auth(SfClient *c, SfError *e);
const char *sf_instance_url(const SfClient *c);
/* The org's id ("" if the token answer did not say). */
const char *sf_org_id(const SfClient *c);
/* A call with the retry policy.  0 with rs filled when the answer is 2xx
** (or 404 with SF_OK_404); -1 with e filled otherwise. */
int sf_call(SfClient *c, const SfCall *call, HttpResponse *rs, SfError *e);
/* GET path, parsed as JSON (caller frees); NULL with e filled. */
cJSON *sf_get_json(SfClient *c, const char *path, SfError *e);
/* method path with a JSON body; the parsed answer (NULL body -> empty object). */
cJSON *sf_send_json(SfClient *c, const char *method, const char *path, const cJSON *body, SfError *e);
/* Runs a SOQL query through REST, following nextRecordsUrl to the last
** page, and hands each record to fn (nonzero from fn stops).  0 or -1 with e. */
typedef int (*SfRecordFn)(void *ctx, const cJSON *record);
int sf_query(SfClient *c, const char *soql, SfRecordFn fn, void *ctx, SfError *e);
/* The last Sforce-Limit-Info header seen ("api-usage=n/max"). */
const char *sf_limit_info(const SfClient *c);
/* Milliseconds to sleep, for polls and backoff (tests shorten them). */
void sf_sleep_ms(long ms);
/* "CODE: message" for an error. */
void sf_error_text(const SfError *e, char *out, size_t n);

#endif

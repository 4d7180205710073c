/*
** cio: the Customer.io client behind cio.h.
*/
#include "cio.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct CioClient {
    CioConfig cfg;
    Http *http;
    char *bearer;
    struct timespec last;      /* when the last request went out */
    unsigned long requests, throttled;
    unsigned seed;
};

int cio_config_from_env(CioConfig *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->api_key = getenv("CIO_APP_API_KEY");
    const char *url = getenv("CIO_API_URL"), *region = getenv("CIO_REGION");
    if (!cfg->api_key || !*cfg->api_key) {
        snprintf(err, errlen, "CIO_APP_API_KEY is not set (an App API key: Settings > API Credentials)");
        return -1;
    }
    if (url && *url)
        cfg->base_url = url;
    else if (!region || !*region || strcmp(region, "us") == 0)
        cfg->base_url = "https://api.customer.io";
    else if (strcmp(region, "eu") == 0)
        cfg->base_url = "https://api-eu.customer.io";
    else {
        snprintf(err, errlen, "CIO_REGION is '%s': it must be us or eu", region);
        return -1;
    }
    const char *rate = getenv("MAPRUN_CIO_RATE"), *b = getenv("MAPRUN_BACKOFF_MS");
    double per_s = rate && *rate ? strtod(rate, NULL) : 9;
    if (per_s <= 0 || per_s > 10)
        per_s = 9;                              /* never above the API's 10 a second */
    cfg->min_interval_ms = (long)(1000 / per_s + 0.5);
    cfg->backoff_ms = b && *b ? strtol(b, NULL, 10) : 1000;
    cfg->max_retries = 8;
    return http_check_url(cfg->base_url, err, errlen);
}

CioClient *cio_new(const CioConfig *cfg)
{
    CioClient *c = calloc(1, sizeof *c);
    c->cfg = *cfg;
    const char *t = getenv("MAPRUN_HTTP_TIMEOUT_MS");
    c->http = http_new(t && *t ? strtol(t, NULL, 10) : 120000);
    c->bearer = strdup(cfg->api_key);
    c->seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    return c;
}

void cio_free(CioClient *c)
{
    if (!c)
        return;
    http_free(c->http);
    memset(c->bearer, 0, strlen(c->bearer));
    free(c->bearer);
    free(c);
}

unsigned long cio_requests(const CioClient *c)
{
    return c->requests;
}

unsigned long cio_throttled(const CioClient *c)
{
    return c->throttled;
}

char *cio_escape(CioClient *c, const char *s)
{
    return http_escape(c->http, s);
}

/* Keeps requests at least min_interval apart, measured start to start. */
static void pace(CioClient *c)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long since = (now.tv_sec - c->last.tv_sec) * 1000 + (now.tv_nsec - c->last.tv_nsec) / 1000000;
    if (c->requests && since < c->cfg.min_interval_ms)
        http_sleep_ms(c->cfg.min_interval_ms - since);
    clock_gettime(CLOCK_MONOTONIC, &c->last);
    c->requests++;
}

/* {"meta":{"errors":["…"]}} or {"meta":{"error":"…"}}. */
static void parse_error(CioError *e, long status, const HttpResponse *rs)
{
    cJSON *j = rs->body ? cJSON_ParseWithLength(rs->body, rs->len) : NULL;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(j, "meta");
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(meta, "errors");
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(meta, "error");
    const cJSON *first = cJSON_IsArray(errs) ? cJSON_GetArrayItem(errs, 0) : one;
    e->http = status;
    if (cJSON_IsString(first))
        snprintf(e->message, sizeof e->message, "HTTP %ld: %s", status, first->valuestring);
    else
        snprintf(e->message, sizeof e->message, "HTTP %ld", status);
    cJSON_Delete(j);
}

/* One request with the retry policy; 0 with rs (2xx), -1 with e. */
static int send(CioClient *c, HttpRequest *rq, HttpResponse *rs, CioError *e)
{
    long pos = rq->to ? ftell(rq->to) : 0;
    for (int attempt = 0;; attempt++) {
        char err[512];
        pace(c);
        int sent = http_send(c->http, rq, rs, err, sizeof err);
        long st = sent == 0 ? rs->status : 0;
        if (sent == 0 && st >= 200 && st < 300)
            return 0;
        if (sent < 0) {
            e->http = 0;
            snprintf(e->message, sizeof e->message, "%s", err);
        } else {
            parse_error(e, st, rs);
        }
        long retry_after = sent == 0 ? rs->retry_after : -1;
        http_response_free(rs);
        c->throttled += st == 429;
        bool transient = st == 0 || st == 429 || st == 408 || st >= 500;
        if (!transient || attempt >= c->cfg.max_retries)
            return -1;
        long ms = st == 429 && retry_after < 0 ? 1000 : http_backoff_ms(c->cfg.backoff_ms, attempt, retry_after, &c->seed);
        if (c->cfg.log)
            fprintf(c->cfg.log, "maprun: %s %s: %s; retrying in %.1f s\n", rq->method,
                    rq->to ? "(download)" : strstr(rq->url, "/v1/") ? strstr(rq->url, "/v1/") : rq->url,
                    e->message, ms / 1000.0);
        if (rq->to) {                           /* a download starts over */
            fflush(rq->to);
            if (fseek(rq->to, pos, SEEK_SET) != 0 || ftruncate(fileno(rq->to), pos) != 0)
                return -1;
        }
        http_sleep_ms(ms);
    }
}

cJSON *cio_call(CioClient *c, const char *method, const char *path, const cJSON *body, CioError *e)
{
    memset(e, 0, sizeof *e);
    char *url = malloc(strlen(c->cfg.base_url) + strlen(path) + 2);
    sprintf(url, "%s%s", c->cfg.base_url, path);
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    HttpRequest rq = {method, url, text ? "application/json" : NULL, text, text ? strlen(text) : 0, c->bearer,
                      NULL, NULL};
    HttpResponse rs;
    cJSON *j = NULL;
    if (send(c, &rq, &rs, e) == 0) {
        j = cJSON_ParseWithLength(rs.body, rs.len);
        if (!j) {
            e->http = rs.status;
            snprintf(e->message, sizeof e->message, "%s: the answer is not JSON", path);
        }
        http_response_free(&rs);
    }
    free(text);
    free(url);
    return j;
}

int cio_download(CioClient *c, const char *url, FILE *f, CioError *e)
{
    memset(e, 0, sizeof *e);
    char err[512];
    if (http_check_url(url, err, sizeof err) < 0) {
        snprintf(e->message, sizeof e->message, "%s", err);
        return -1;
    }
    HttpRequest rq = {"GET", url, NULL, NULL, 0, NULL, "*/*", f};   /* a signed link: no key */
    HttpResponse rs;
    if (send(c, &rq, &rs, e) < 0)
        return -1;
    http_response_free(&rs);
    return 0;
}

/*
** http: the libcurl easy interface behind http.h.  One handle is reused so
** connections stay open between calls (Bulk API loads make many small ones).
*/
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct Http {
    CURL *curl;
    long timeout_ms;
};

typedef struct Sink {
    HttpResponse *rs;
    FILE *to;
    size_t cap;
    bool write_failed;
} Sink;

static bool loopback_host(const char *h, size_t n)
{
    if ((n == 9 && strncasecmp(h, "localhost", 9) == 0) || (n == 5 && memcmp(h, "[::1]", 5) == 0))
        return true;
    return n >= 4 && memcmp(h, "127.", 4) == 0 && strspn(h, "0123456789.") == n;
}

int http_check_url(const char *url, char *err, size_t errlen)
{
    if (strncasecmp(url, "https://", 8) == 0 && url[8])
        return 0;
    if (strncasecmp(url, "http://", 7) == 0) {
        const char *h = url + 7;
        size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
        if (loopback_host(h, n))
            return 0;
        snprintf(err, errlen, "%s: plain http:// is only allowed to a loopback address; use https://", url);
        return -1;
    }
    snprintf(err, errlen, "%s: not an https:// URL", url);
    return -1;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    Sink *s = ctx;
    size_t len = size * n;
    if (s->to) {
        if (fwrite(p, 1, len, s->to) != len) {
            s->write_failed = true;
            return 0;
        }
        return len;
    }
    HttpResponse *rs = s->rs;
    if (rs->len + len + 1 > s->cap) {
        s->cap = (rs->len + len + 1) * 2;
        rs->body = realloc(rs->body, s->cap);
    }
    memcpy(rs->body + rs->len, p, len);
    rs->len += len;
    rs->body[rs->len] = '\0';
    return len;
}

/* Copies a header's value (trimmed) into out when the line is that header. */
static bool header_value(const char *line, size_t n, const char *name, char *out, size_t outlen)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return false;
    const char *v = line + k + 1;
    size_t vl = n - k - 1;
    while (vl && isspace((unsigned char)*v))
        v++, vl--;
    while (vl && isspace((unsigned char)v[vl - 1]))
        vl--;
    if (vl >= outlen)
        vl = outlen - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
    return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    HttpResponse *rs = ((Sink *)ctx)->rs;
    size_t len = size * n;
    char tmp[64];
    if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {     /* a new response (after a 100 Continue): start over */
        rs->locator[0] = rs->limit_info[0] = '\0';
        rs->retry_after = -1;
    }
    header_value(p, len, "Sforce-Locator", rs->locator, sizeof rs->locator);
    header_value(p, len, "Sforce-Limit-Info", rs->limit_info, sizeof rs->limit_info);
    if (header_value(p, len, "Retry-After", tmp, sizeof tmp))
        rs->retry_after = strtol(tmp, NULL, 10);
    if (header_value(p, len, "Sforce-NumberOfRecords", tmp, sizeof tmp))
        rs->records = strtoull(tmp, NULL, 10);
    return len;
}

Http *http_new(long timeout_ms)
{
    static bool init;
    if (!init) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        init = true;
    }
    Http *h = calloc(1, sizeof *h);
    h->curl = curl_easy_init();
    h->timeout_ms = timeout_ms;
    if (!h->curl) {
        free(h);
        return NULL;
    }
    return h;
}

void http_free(Http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

void http_response_free(HttpResponse *rs)
{
    free(rs->body);
    memset(rs, 0, sizeof *rs);
}

char *http_escape(Http *h, const char *s)
{
    char *e = curl_easy_escape(h->curl, s, 0);
    char *out = strdup(e ? e : "");
    curl_free(e);
    return out;
}

static struct curl_slist *request_headers(const HttpRequest *rq)
{
    struct curl_slist *hl = NULL;
    char line[8192];
    if (rq->bearer) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", rq->bearer);
        hl = curl_slist_append(hl, line);
    }
    if (rq->content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", rq->content_type);
        hl = curl_slist_append(hl, line);
    }
    snprintf(line, sizeof line, "Accept: %s", rq->accept ? rq->accept : "application/json");
    hl = curl_slist_append(hl, line);
    hl = curl_slist_append(hl, "Expect:");        /* no 100-continue round trip before uploads */
    return hl;
}

int http_send(Http *h, const HttpRequest *rq, HttpResponse *rs, char *err, size_t errlen)
{
    if (http_check_url(rq->url, err, errlen) < 0)
        return -1;
    memset(rs, 0, sizeof *rs);
    rs->retry_after = -1;
    Sink sink = {rs, rq->to, 0, false};
    CURL *c = h->curl;
    curl_easy_reset(c);
    struct curl_slist *hl = request_headers(rq);
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");      /* gzip when the server offers it */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    if (strcmp(rq->method, "GET") == 0)
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    else if (strcmp(rq->method, "DELETE") != 0 || rq->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(rq->body ? rq->len : 0));
    }
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(hl);
    if (rc != CURLE_OK || sink.write_failed) {
        snprintf(err, errlen, "%s %s: %s", rq->method, rq->url,
                 sink.write_failed ? "cannot write the response to disk" : curl_easy_strerror(rc));
        free(rs->body);
        rs->body = NULL;
        rs->status = 0;
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
    if (!rs->body && !rq->to)
        rs->body = calloc(1, 1);
    return 0;
}

long http_backoff_ms(long base_ms, int attempt, long retry_after, unsigned *seed)
{
    long ms = base_ms << (attempt < 6 ? attempt : 6);
    if (ms > 60000)
        ms = 60000;
    ms += (long)(rand_r(seed) % (unsigned)(ms / 4 + 1));
    if (retry_after >= 0 && retry_after * 1000 > ms)
        ms = retry_after * 1000;
    return ms;
}

void http_sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

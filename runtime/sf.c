/*
** sf: the Salesforce client behind sf.h.
*/
#include "sf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_API "62.0"

struct SfClient {
    SfConfig cfg;
    Http *http;
    char *token;
    char instance[512];
    char org[64];               /* the org id, from the token answer's identity URL */
    char limit_info[128];
    unsigned seed;
};

void sf_sleep_ms(long ms)
{
    http_sleep_ms(ms);
}

int sf_config_from_env(SfConfig *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->login_url = getenv("SF_LOGIN_URL");
    cfg->client_id = getenv("SF_CLIENT_ID");
    cfg->client_secret = getenv("SF_CLIENT_SECRET");
    cfg->api_version = getenv("SF_API_VERSION");
    const char *b = getenv("MAPRUN_BACKOFF_MS");
    cfg->backoff_ms = b ? strtol(b, NULL, 10) : 1000;
    cfg->timeout_ms = 600000;                     /* Salesforce's own REST timeout is 10 minutes */
    const char *t = getenv("MAPRUN_HTTP_TIMEOUT_MS");
    if (t)
        cfg->timeout_ms = strtol(t, NULL, 10);
    cfg->max_retries = 8;
    const char *missing = !cfg->login_url ? "SF_LOGIN_URL" : !cfg->client_id ? "SF_CLIENT_ID"
                        : !cfg->client_secret ? "SF_CLIENT_SECRET" : NULL;
    if (missing) {
        snprintf(err, errlen, "%s is not set (see docs/loading.md: authentication)", missing);
        return -1;
    }
    if (!cfg->api_version || !*cfg->api_version)
        cfg->api_version = DEFAULT_API;
    return http_check_url(cfg->login_url, err, errlen);
}

SfClient *sf_new(const SfConfig *cfg)
{
    SfClient *c = calloc(1, sizeof *c);
    c->cfg = *cfg;
    if (!c->cfg.api_version)
        c->cfg.api_version = DEFAULT_API;
    if (c->cfg.max_retries <= 0)
        c->cfg.max_retries = 8;
    c->http = http_new(cfg->timeout_ms > 0 ? cfg->timeout_ms : 600000);
    c->seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    return c;
}

void sf_free(SfClient *c)
{
    if (!c)
        return;
    http_free(c->http);
    if (c->token)
        memset(c->token, 0, strlen(c->token));
    free(c->token);
    free(c);
}

const char *sf_instance_url(const SfClient *c)
{
    return c->instance;
}

const char *sf_org_id(const SfClient *c)
{
    return c->org;
}

const char *sf_limit_info(const SfClient *c)
{
    return c->limit_info;
}

void sf_error_text(const SfError *e, char *out, size_t n)
{
    if (e->code[0])
        snprintf(out, n, "%s: %s", e->code, e->message);
    else
        snprintf(out, n, "%s", e->message);
}

static void set_error(SfError *e, long http, const char *code, const char *msg)
{
    e->http = http;
    snprintf(e->code, sizeof e->code, "%s", code ? code : "");
    snprintf(e->message, sizeof e->message, "%s", msg ? msg : "");
    e->limit = code && strcmp(code, "REQUEST_LIMIT_EXCEEDED") == 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Salesforce's error bodies: [{"message","errorCode"}] from the REST and
** Bulk APIs, {"error","error_description"} from OAuth. */
static void parse_error(SfError *e, long status, const char *body, size_t len)
{
    cJSON *j = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *o = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, 0) : j;
    const char *code = jstr(o, "errorCode"), *msg = jstr(o, "message");
    if (!code && jstr(o, "error")) {
        code = jstr(o, "error");
        msg = jstr(o, "error_description");
    }
    char fallback[256];
    if (!code && !msg) {
        snprintf(fallback, sizeof fallback, "HTTP %ld: %.*s", status, body ? (int)(len > 200 ? 200 : len) : 0,
                 body ? body : "");
        msg = fallback;
    }
    set_error(e, status, code, msg);
    cJSON_Delete(j);
}

static long backoff(SfClient *c, int attempt, long retry_after)
{
    return http_backoff_ms(c->cfg.backoff_ms, attempt, retry_after, &c->seed);
}

int sf_auth(SfClient *c, SfError *e)
{
    char *id = http_escape(c->http, c->cfg.client_id), *secret = http_escape(c->http, c->cfg.client_secret);
    size_t n = strlen(id) + strlen(secret) + 80;
    char *form = malloc(n);
    snprintf(form, n, "grant_type=client_credentials&client_id=%s&client_secret=%s", id, secret);
    memset(secret, 0, strlen(secret));
    free(id);
    free(secret);
    char url[1024], err[512];
    snprintf(url, sizeof url, "%s/services/oauth2/token", c->cfg.login_url);
    HttpRequest rq = {"POST", url, "application/x-www-form-urlencoded", form, strlen(form), NULL, NULL, NULL};
    HttpResponse rs;
    int rc = -1;
    for (int attempt = 0;; attempt++) {
        if (http_send(c->http, &rq, &rs, err, sizeof err) == 0 && rs.status < 500)
            break;
        if (attempt >= c->cfg.max_retries) {
            set_error(e, rs.status, "", rs.status ? "the token endpoint keeps failing" : err);
            goto out;
        }
        if (rs.status)
            snprintf(err, sizeof err, "HTTP %ld", rs.status);
        http_response_free(&rs);
        long ms = backoff(c, attempt, -1);
        if (c->cfg.log)
            fprintf(c->cfg.log, "maprun: authenticating: %s; retrying in %.1f s\n", err, ms / 1000.0);
        sf_sleep_ms(ms);
    }
    cJSON *j = cJSON_ParseWithLength(rs.body, rs.len);
    const char *tok = jstr(j, "access_token"), *inst = jstr(j, "instance_url");
    if (rs.status != 200 || !tok || !inst) {
        parse_error(e, rs.status, rs.body, rs.len);
        snprintf(e->message + strlen(e->message), sizeof e->message - strlen(e->message),
                 " (authenticating at %s as client %s)", c->cfg.login_url, c->cfg.client_id);
    } else if (http_check_url(inst, err, sizeof err) < 0) {
        set_error(e, rs.status, "", err);
    } else {
        free(c->token);
        c->token = strdup(tok);
        const char *ident = jstr(j, "id"), *p = ident ? strstr(ident, "/id/") : NULL;
        if (p)                          /* …/id/<orgId>/<userId> */
            snprintf(c->org, sizeof c->org, "%.*s", (int)strcspn(p + 4, "/"), p + 4);
        snprintf(c->instance, sizeof c->instance, "%s", inst);
        size_t l = strlen(c->instance);
        if (l && c->instance[l - 1] == '/')
            c->instance[l - 1] = '\0';
        rc = 0;
    }
    cJSON_Delete(j);
    http_response_free(&rs);
out:
    memset(form, 0, n);
    free(form);
    return rc;
}

/* Start the file sink over (a retried download must not append). */
static void rewind_sink(FILE *f, long pos)
{
    if (!f)
        return;
    fflush(f);
    if (fseek(f, pos, SEEK_SET) == 0 && ftruncate(fileno(f), pos) != 0)
        clearerr(f);
}

static void file_error(SfError *e, long status, FILE *f, long pos)
{
    char buf[1024];
    fflush(f);
    long end = ftell(f);
    size_t n = 0;
    if (fseek(f, pos, SEEK_SET) == 0)
        n = fread(buf, 1, end - pos < (long)sizeof buf ? (size_t)(end - pos) : sizeof buf, f);
    parse_error(e, status, buf, n);
    rewind_sink(f, pos);
}

int sf_call(SfClient *c, const SfCall *call, HttpResponse *rs, SfError *e)
{
    memset(e, 0, sizeof *e);
    if (!c->token && sf_auth(c, e) < 0)
        return -1;
    char *url = malloc(strlen(c->instance) + strlen(call->path) + 64);
    bool reauthed = false;
    long pos = call->to ? ftell(call->to) : 0;
    int rc = -1;
    for (int attempt = 0;; attempt++) {
        if (call->flags & SF_ABSOLUTE)
            sprintf(url, "%s%s", c->instance, call->path);
        else
            sprintf(url, "%s/services/data/v%s%s", c->instance, c->cfg.api_version, call->path);
        HttpRequest rq = {call->method, url, call->content_type, call->body, call->len, c->token,
                          call->accept, call->to};
        char err[768];
        int sent = http_send(c->http, &rq, rs, err, sizeof err);
        if (sent == 0 && rs->limit_info[0])
            snprintf(c->limit_info, sizeof c->limit_info, "%s", rs->limit_info);
        long st = sent == 0 ? rs->status : 0;
        if (sent == 0 && ((st >= 200 && st < 300) || (st == 404 && (call->flags & SF_OK_404)))) {
            if (st == 404 && call->to)
                rewind_sink(call->to, pos);
            rc = 0;
            break;
        }
        if (sent < 0)
            set_error(e, 0, "", err);
        else if (call->to)
            file_error(e, st, call->to, pos);
        else
            parse_error(e, st, rs->body, rs->len);
        long retry_after = sent == 0 ? rs->retry_after : -1;
        http_response_free(rs);
        if (st == 401 && !reauthed) {           /* the session expired: a new token, then once more */
            reauthed = true;
            if (c->cfg.log)
                fprintf(c->cfg.log, "maprun: session expired (%s); authenticating again\n", e->code);
            if (sf_auth(c, e) < 0)
                break;
            attempt--;
            continue;
        }
        bool transient = st == 0 || st == 429 || st >= 500;
        if (e->limit || !transient || (call->flags & SF_ONCE) || attempt >= c->cfg.max_retries)
            break;
        long ms = backoff(c, attempt, retry_after);
        if (c->cfg.log)
            fprintf(c->cfg.log, "maprun: %s %s: %s; retrying in %.1f s\n", call->method, call->path,
                    st ? e->message : err, ms / 1000.0);
        rewind_sink(call->to, pos);
        sf_sleep_ms(ms);
    }
    free(url);
    return rc;
}

cJSON *sf_get_json(SfClient *c, const char *path, SfError *e)
{
    SfCall call = {"GET", path, NULL, NULL, 0, NULL, NULL, 0};
    HttpResponse rs;
    if (sf_call(c, &call, &rs, e) < 0)
        return NULL;
    cJSON *j = cJSON_ParseWithLength(rs.body, rs.len);
    if (!j)
        set_error(e, rs.status, "", "the answer is not JSON");
    http_response_free(&rs);
    return j;
}

cJSON *sf_send_json(SfClient *c, const char *method, const char *path, const cJSON *body, SfError *e)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    SfCall call = {method, path, text ? "application/json" : NULL, text, text ? strlen(text) : 0, NULL, NULL, 0};
    HttpResponse rs;
    int rc = sf_call(c, &call, &rs, e);
    free(text);
    if (rc < 0)
        return NULL;
    cJSON *j = rs.len ? cJSON_ParseWithLength(rs.body, rs.len) : cJSON_CreateObject();
    if (!j)
        set_error(e, rs.status, "", "the answer is not JSON");
    http_response_free(&rs);
    return j;
}

int sf_query(SfClient *c, const char *soql, SfRecordFn fn, void *ctx, SfError *e)
{
    char *q = http_escape(c->http, soql);
    char *path = malloc(strlen(q) + 16);
    sprintf(path, "/query?q=%s", q);
    free(q);
    int flags = 0, rc = 0;
    while (path && rc == 0) {
        SfCall call = {"GET", path, NULL, NULL, 0, NULL, NULL, flags};
        HttpResponse rs;
        rc = sf_call(c, &call, &rs, e);
        free(path);
        path = NULL;
        if (rc < 0)
            break;
        cJSON *page = cJSON_ParseWithLength(rs.body, rs.len);
        http_response_free(&rs);
        const cJSON *rec;
        cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(page, "records"))
            if (rc == 0 && fn(ctx, rec))
                rc = 1;
        const char *next = jstr(page, "nextRecordsUrl");
        if (rc == 0 && next && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(page, "done"))) {
            path = strdup(next);
            flags = SF_ABSOLUTE;            /* the next page's URL is a full path */
        }
        cJSON_Delete(page);
    }
    free(path);
    return rc < 0 ? -1 : 0;
}

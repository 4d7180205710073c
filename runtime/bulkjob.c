/*
** bulkjob: the journaled Bulk API 2.0 job behind bulkjob.h.
*/
#include "bulkjob.h"
#include "csv.h"
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

const char *jobs_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double jobs_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

#define jstr jobs_str
#define jnum jobs_num

/* An hour from now, UTC: when enough of a rolling day's calls have aged out to go on. */
static const char *resume_at(char *out, size_t n)
{
    time_t t = time(NULL) + 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm);
    return out;
}

void jobs_error(Jobs *J, const char *what, const SfError *e)
{
    char text[1024], when[64];
    sf_error_text(e, text, sizeof text);
    if (e->limit) {
        J->limit = true;
        fprintf(stderr, "maprun: %s: %s\n"
                "maprun: the org's API allocation is used up (%s). Nothing is lost, and nothing was sent twice.\n"
                "        The daily allocation is a rolling 24 hours: calls free up as the oldest of them age out,\n"
                "        so run the same command again after %s (GET /limits shows DailyApiRequests.Remaining;\n"
                "        a concurrency limit clears sooner) and it resumes where it stopped.\n",
                what, text, sf_limit_info(J->sf)[0] ? sf_limit_info(J->sf) : "no usage header", resume_at(when, sizeof when));
    } else {
        J->fatal = true;
        fprintf(stderr, "maprun: %s: %s\n", what, text);
    }
}

static int last_seq(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)v, (void)vl;
    char buf[16] = {0};
    memcpy(buf, k, kl < 15 ? kl : 15);
    *(unsigned long long *)ctx = strtoull(buf, NULL, 10) + 1;
    return 0;
}

int jobs_init(Jobs *J, Stage *st, SfClient *sf, const char *state, long poll_ms, JobRowFn on_row, void *ctx)
{
    memset(J, 0, sizeof *J);
    J->st = st;
    J->sf = sf;
    J->state = state;
    J->poll_ms = poll_ms > 0 ? poll_ms : 1000;
    J->on_row = on_row;
    J->ctx = ctx;
    snprintf(J->dir, sizeof J->dir, "%s/jobs", state);
    if (mkdir(J->dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "maprun: cannot create %s: %s\n", J->dir, strerror(errno));
        return -1;
    }
    stage_scan(st, DB_JOBS, "", 0, last_seq, &J->next_seq);
    return 0;
}

unsigned long long jobs_reserve(Jobs *J, char *csv, char *keys, size_t n)
{
    unsigned long long seq = J->next_seq++;
    snprintf(csv, n, "%s/%012llu.csv", J->dir, seq);
    snprintf(keys, n, "%s/%012llu.keys", J->dir, seq);
    return seq;
}

/* ---- the journal */

static int journal_put(Jobs *J, cJSON *job)
{
    char k[16];
    snprintf(k, sizeof k, "%012.0f", jnum(job, "seq"));
    if (state_put_json(J->st, DB_JOBS, k, 12, job) < 0 || stage_commit(J->st) < 0) {
        fprintf(stderr, "maprun: cannot write the journal: %s\n", stage_error(J->st));
        J->fatal = true;
        return -1;
    }
    return 0;
}

static void set_str(cJSON *o, const char *k, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddStringToObject(o, k, v);
}

/* ---- results */

/* "CODE:message:fields --" -> code and message. */
static void split_error(const char *s, char *code, size_t cn, char *msg, size_t mn)
{
    const char *colon = strchr(s, ':');
    if (!colon) {
        snprintf(code, cn, "UNKNOWN_EXCEPTION");
        snprintf(msg, mn, "%s", s);
        return;
    }
    snprintf(code, cn, "%.*s", (int)(colon - s), s);
    const char *m = colon + 1;
    const char *end = strstr(m, " --");
    size_t n = end ? (size_t)(end - m) : strlen(m);
    while (n && m[n - 1] == ':')             /* an empty field list leaves "message:" */
        n--;
    snprintf(msg, mn, "%.*s", (int)n, m);
}

/* The .keys file: match value -> what the caller wants back. */
static cJSON *read_keys(Jobs *J, const cJSON *job)
{
    cJSON *m = cJSON_CreateObject();
    char path[4200];
    snprintf(path, sizeof path, "%s/%012.0f.keys", J->dir, jnum(job, "seq"));
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        cJSON_AddStringToObject(m, line, tab + 1);
    }
    free(line);
    if (f)
        fclose(f);
    return m;
}

static int visit_rows(Jobs *J, const cJSON *job, FILE *f, const char *path, JobRow kind, cJSON *keys)
{
    CsvReader *r = csv_open(f);
    char **cell;
    int n, rc = 0, row = 0, id_col = -1, created_col = -1, err_col = -1, match_col = -1;
    const char *match = jstr(job, "match");
    while (rc == 0 && (rc = csv_next(r, &cell, &n)) == 1) {
        rc = 0;
        if (row++ == 0) {
            id_col = csv_column(cell, n, "sf__Id");
            created_col = csv_column(cell, n, "sf__Created");
            err_col = csv_column(cell, n, "sf__Error");
            match_col = csv_column(cell, n, match);
            if (match_col < 0) {
                fprintf(stderr, "maprun: %s has no %s column: cannot match its rows to records\n", path, match);
                rc = -1;
            }
            continue;
        }
        if (match_col >= n)
            continue;
        char code[64] = "", msg[1024] = "";
        if (kind == JOB_ROW_FAILED)
            split_error(err_col >= 0 && err_col < n ? cell[err_col] : "", code, sizeof code, msg, sizeof msg);
        JobResult res = {kind, cell[match_col], jstr(keys, cell[match_col]),
                         id_col >= 0 && id_col < n ? cell[id_col] : "",
                         created_col >= 0 && created_col < n && strcasecmp(cell[created_col], "true") == 0,
                         code, msg};
        if (res.sent)                   /* a row not in the .keys file is not ours to record */
            rc = J->on_row(J->ctx, job, &res);
        cJSON_DeleteItemFromObjectCaseSensitive(keys, cell[match_col]);
    }
    if (rc < 0 && match_col >= 0)
        fprintf(stderr, "maprun: %s: cannot read row %d\n", path, row);
    csv_close(r);
    return rc < 0 ? -1 : 0;
}

/* Downloads one results CSV of a job to a file and hands its rows to the caller. */
static int read_results(Jobs *J, const cJSON *job, const char *which, const char *suffix, JobRow kind,
                        cJSON *keys)
{
    char path[4200], url[256];
    snprintf(path, sizeof path, "%s/%012.0f.%s.csv", J->dir, jnum(job, "seq"), suffix);
    snprintf(url, sizeof url, "/jobs/ingest/%s/%s", jstr(job, "id"), which);
    FILE *f = fopen(path, "w+b");
    if (!f) {
        fprintf(stderr, "maprun: cannot write %s: %s\n", path, strerror(errno));
        J->fatal = true;
        return -1;
    }
    SfCall call = {"GET", url, NULL, NULL, 0, "text/csv", f, 0};
    HttpResponse rs;
    SfError e;
    if (sf_call(J->sf, &call, &rs, &e) < 0) {
        fclose(f);
        jobs_error(J, url, &e);
        return -1;
    }
    http_response_free(&rs);
    rewind(f);
    int rc = strcmp(suffix, "unprocessed") == 0 ? 0 : visit_rows(J, job, f, path, kind, keys);
    fclose(f);
    if (rc < 0)
        J->fatal = true;
    return rc;
}

/* ---- one job */

static const char *job_state(Jobs *J, const char *id, char *state, size_t n, SfError *e)
{
    char path[256];
    snprintf(path, sizeof path, "/jobs/ingest/%s", id);
    cJSON *info = sf_get_json(J->sf, path, e);
    if (!info)
        return NULL;
    snprintf(state, n, "%s", jstr(info, "state") ? jstr(info, "state") : "");
    const char *msg = jstr(info, "errorMessage");
    if (msg && *msg && strcmp(state, "Failed") == 0)
        fprintf(stderr, "maprun: job %s failed part way: %s\n", id, msg);
    cJSON_Delete(info);
    return state;
}

static int abort_job(Jobs *J, cJSON *job)
{
    char path[256];
    snprintf(path, sizeof path, "/jobs/ingest/%s", jstr(job, "id"));
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "state", "Aborted");
    SfError e;
    cJSON *r = sf_send_json(J->sf, "PATCH", path, body, &e);
    cJSON_Delete(body);
    cJSON_Delete(r);
    set_str(job, "state", "aborted");               /* its rows were never processed: still to send */
    return journal_put(J, job);
}

/* A closed job: wait for Salesforce, then read what it did. */
static int finish_job(Jobs *J, cJSON *job)
{
    const char *id = jstr(job, "id");
    long wait = J->poll_ms;
    char state[32];
    SfError e;
    for (;;) {
        if (!job_state(J, id, state, sizeof state, &e)) {
            if (e.http == 404) {        /* gone (deleted after 7 days): its rows are sent again */
                set_str(job, "state", "lost");
                return journal_put(J, job);
            }
            jobs_error(J, "poll the job", &e);
            return -1;
        }
        if (strcmp(state, "Open") == 0)
            return abort_job(J, job);
        if (strcmp(state, "JobComplete") == 0 || strcmp(state, "Failed") == 0 || strcmp(state, "Aborted") == 0)
            break;
        sf_sleep_ms(wait);
        wait = wait * 3 / 2 > 10000 ? 10000 : wait * 3 / 2;
    }
    set_str(job, "sf_state", state);
    cJSON *keys = read_keys(J, job);
    int rc = read_results(J, job, "successfulResults/", "ok", JOB_ROW_OK, keys);
    if (rc == 0)
        rc = read_results(J, job, "failedResults/", "failed", JOB_ROW_FAILED, keys);
    if (rc == 0 && strcmp(state, "JobComplete") != 0)      /* kept for the record; these rows go again */
        rc = read_results(J, job, "unprocessedrecords/", "unprocessed", JOB_ROW_OK, keys);
    cJSON_Delete(keys);
    if (rc < 0)
        return -1;
    set_str(job, "state", "done");
    return journal_put(J, job);
}

static int create_job(Jobs *J, cJSON *job)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "object", jstr(job, "object"));
    cJSON_AddStringToObject(body, "operation", jstr(job, "operation"));
    if (jstr(job, "external_id"))
        cJSON_AddStringToObject(body, "externalIdFieldName", jstr(job, "external_id"));
    cJSON_AddStringToObject(body, "contentType", "CSV");
    cJSON_AddStringToObject(body, "lineEnding", "LF");
    cJSON_AddStringToObject(body, "columnDelimiter", "COMMA");
    SfError e;
    cJSON *info = sf_send_json(J->sf, "POST", "/jobs/ingest", body, &e);
    cJSON_Delete(body);
    if (!info || !jstr(info, "id")) {
        jobs_error(J, "create a Bulk API job", &e);
        cJSON_Delete(info);
        return -1;
    }
    set_str(job, "id", jstr(info, "id"));
    set_str(job, "state", "created");
    cJSON_Delete(info);
    return journal_put(J, job);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Upload and close.  An upload is sent once: if it fails, the job is
** aborted and its rows go in a new one (a second upload to a job is refused,
** and whether a broken upload arrived cannot be known).  1: aborted. */
static int upload_and_close(Jobs *J, cJSON *job)
{
    char path[4200], url[256];
    snprintf(path, sizeof path, "%s/%012.0f.csv", J->dir, jnum(job, "seq"));
    size_t len;
    char *csv = slurp(path, &len);
    if (!csv) {
        fprintf(stderr, "maprun: cannot read %s: %s\n", path, strerror(errno));
        J->fatal = true;
        return -1;
    }
    snprintf(url, sizeof url, "/jobs/ingest/%s/batches", jstr(job, "id"));
    SfCall call = {"PUT", url, "text/csv", csv, len, NULL, NULL, SF_ONCE};
    HttpResponse rs;
    SfError e;
    int rc = sf_call(J->sf, &call, &rs, &e);
    free(csv);
    if (rc < 0) {
        if (e.limit) {
            jobs_error(J, "upload", &e);
            return -1;
        }
        char text[1024];
        sf_error_text(&e, text, sizeof text);
        fprintf(stderr, "maprun: the upload of job %s failed (%s); aborting it: its rows go in a new job\n",
                jstr(job, "id"), text);
        return abort_job(J, job) < 0 ? -1 : 1;
    }
    http_response_free(&rs);
    snprintf(url, sizeof url, "/jobs/ingest/%s", jstr(job, "id"));
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "state", "UploadComplete");
    cJSON *info = sf_send_json(J->sf, "PATCH", url, body, &e);
    cJSON_Delete(body);
    if (!info) {
        /* a retried close that already went through answers InvalidJobState: ask the job itself */
        SfError e2;
        char state[32];
        if (!job_state(J, jstr(job, "id"), state, sizeof state, &e2) || strcmp(state, "Open") == 0) {
            jobs_error(J, "close the job", &e);
            return -1;
        }
    }
    cJSON_Delete(info);
    set_str(job, "state", "closed");
    return journal_put(J, job);
}

/* Takes a journal entry as far as it goes. */
static int advance(Jobs *J, cJSON *job, bool resumed)
{
    if (strcmp(jstr(job, "state"), "prepared") == 0) {
        if (create_job(J, job) < 0)
            return -1;
        resumed = false;                            /* created just now: its upload is ours to send */
    }
    if (strcmp(jstr(job, "state"), "created") == 0) {
        if (resumed) {      /* left by a killed run: did its upload arrive?  Salesforce says, by the state */
            SfError e;
            char state[32];
            if (!job_state(J, jstr(job, "id"), state, sizeof state, &e)) {
                if (e.http != 404) {
                    jobs_error(J, "poll the job", &e);
                    return -1;
                }
                set_str(job, "state", "lost");
                return journal_put(J, job);
            }
            if (strcmp(state, "Open") == 0)
                return abort_job(J, job);
            set_str(job, "state", "closed");        /* closed before the journal could say so */
        } else {
            int up = upload_and_close(J, job);
            if (up != 0)
                return up < 0 ? -1 : 0;
        }
    }
    return strcmp(jstr(job, "state"), "closed") == 0 ? finish_job(J, job) : 0;
}

int jobs_submit(Jobs *J, unsigned long long seq, const cJSON *spec, double rows)
{
    cJSON *job = cJSON_Duplicate(spec, 1);
    cJSON_AddNumberToObject(job, "seq", (double)seq);
    cJSON_AddNumberToObject(job, "rows", rows);
    set_str(job, "state", "prepared");
    int rc = journal_put(J, job);
    if (rc == 0)
        rc = advance(J, job, false);
    cJSON_Delete(job);
    return rc;
}

static int collect_open(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k, (void)kl;
    cJSON *job = cJSON_ParseWithLength(v, vl);
    const char *state = jstr(job, "state");
    if (state && (strcmp(state, "prepared") == 0 || strcmp(state, "created") == 0 || strcmp(state, "closed") == 0))
        cJSON_AddItemToArray(ctx, job);
    else
        cJSON_Delete(job);
    return 0;
}

int jobs_resume(Jobs *J, const char *phase)
{
    cJSON *open = cJSON_CreateArray(), *job;
    stage_scan(J->st, DB_JOBS, "", 0, collect_open, open);     /* collected first: advancing writes */
    int rc = 0;
    cJSON_ArrayForEach(job, open) {
        if (strcmp(jstr(job, "phase") ? jstr(job, "phase") : "", phase) != 0)
            continue;
        printf("resuming job %.0f (%s %s, %s when the last run stopped)\n", jnum(job, "seq"), jstr(job, "operation"),
               jstr(job, "object"), jstr(job, "state"));
        if ((rc = advance(J, job, true)) < 0)
            break;
    }
    cJSON_Delete(open);
    return rc;
}

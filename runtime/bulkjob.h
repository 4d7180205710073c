/*
** bulkjob: Bulk API 2.0 ingest jobs, journaled in the state so that a run
** killed at any point can be finished by the next one (docs/loading.md).
** load.c sends upserts through it; rollback.c deletes and updates.
**
** A job's files live in STATE/jobs: SEQ.csv (what is sent), SEQ.keys (one
** line per row: the value of the job's match column, a tab, what the caller
** wants back for that row), and the results Salesforce returned
** (SEQ.ok.csv, SEQ.failed.csv, SEQ.unprocessed.csv).
**
** The journal entry (database `jobs`, key SEQ) goes through these states,
** each committed before the next step touches the org:
**   prepared  files written, no job yet
**   created   the job exists (id); its data may or may not have arrived
**   closed    the data is in and the job was closed: Salesforce processes it
**   done      results read and recorded
**   aborted   the job never got (all) its data and was aborted: its rows
**             were not processed, the caller sends them again
**   lost      Salesforce no longer knows the job: its rows are sent again
*/
#ifndef MAPRUN_BULKJOB_H
#define MAPRUN_BULKJOB_H

#include "sf.h"
#include "stage.h"

#include <cJSON.h>
#include <stdbool.h>

typedef enum { JOB_ROW_OK, JOB_ROW_FAILED } JobRow;

/* One result row: match is the row's value in the job's match column, sent
** what the .keys file holds for it (NULL if it is not there).  For JOB_ROW_OK
** sf_id and created are set; for JOB_ROW_FAILED code and message. */
typedef struct JobResult {
    JobRow kind;
    const char *match, *sent;
    const char *sf_id;
    bool created;
    const char *code, *message;
} JobResult;

typedef int (*JobRowFn)(void *ctx, const cJSON *job, const JobResult *r);

typedef struct Jobs {
    Stage *st;
    SfClient *sf;
    const char *state;          /* the state directory, for messages */
    char dir[4096];             /* STATE/jobs */
    long poll_ms;
    unsigned long long next_seq;
    bool limit;                 /* REQUEST_LIMIT_EXCEEDED: stop, resume later */
    bool fatal;
    JobRowFn on_row;
    void *ctx;
} Jobs;

/* 0, or -1 after printing why (the jobs directory cannot be made). */
int jobs_init(Jobs *J, Stage *st, SfClient *sf, const char *state, long poll_ms, JobRowFn on_row, void *ctx);
/* Prints a Salesforce error and sets J->limit or J->fatal. */
void jobs_error(Jobs *J, const char *what, const SfError *e);
/* The paths of a new job's files: the caller writes both, then submits. */
unsigned long long jobs_reserve(Jobs *J, char *csv, char *keys, size_t n);
/* Journals and runs a job: spec gives "phase", "object", "operation",
** "match" (the column results are matched on) and, for upserts,
** "external_id"; rows is the number of data rows.  0 when the job ran or
** was aborted (its rows are still to send), -1 when the run must stop. */
int jobs_submit(Jobs *J, unsigned long long seq, const cJSON *spec, double rows);
/* Finishes every journaled job of a phase that a previous run left open. */
int jobs_resume(Jobs *J, const char *phase);
/* JSON helpers the callers share. */
const char *jobs_str(const cJSON *o, const char *k);
double jobs_num(const cJSON *o, const char *k);

#endif

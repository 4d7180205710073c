/*
** report: `maprun report` — the reconciliation report of a state, per phase
** and per object (docs/report.md):
**   1. source -> staging, per source kind: read, output, excluded, quarantined
**   2. staging -> Salesforce, per object in load order: staged, loaded
**      (created / updated / unchanged in the last run), failed by error code,
**      pending, verified
**   3. source records end to end, and every identity stated with its numbers
** in Markdown, HTML or JSON (the same numbers), plus failed.csv and
** quarantined.csv for people (safe to open in a spreadsheet).
*/
#ifndef MAPRUN_REPORT_H
#define MAPRUN_REPORT_H

typedef enum { REPORT_MD, REPORT_HTML, REPORT_JSON } ReportFormat;

typedef struct ReportOptions {
    const char *state;
    ReportFormat format;
    const char *out;            /* the report's file; NULL = standard output */
    const char *csv_dir;        /* failed.csv, quarantined.csv; NULL = STATE/report */
} ReportOptions;

/* Exit codes of maprun report. */
enum {
    REPORT_OK = 0,              /* every identity holds */
    REPORT_ERROR = 1,           /* the state (or an output file) cannot be read or written */
    REPORT_UNACCOUNTED = 3      /* written, but some identity does not hold */
};

/* "md", "html", "json" -> *f: 0, or -1 for anything else. */
int report_format_parse(const char *s, ReportFormat *f) __attribute__((warn_unused_result));
/* Writes the report and the CSVs; one of the exit codes above. */
int report_run(const ReportOptions *o);

#endif

/*
** diag: the diagnostic sink.  Every check reports through diag_report(); the
** sink keeps them, counts errors, and renders them at the end as GCC-style
** text (with the source line and a caret underline) or as JSON.
*/
#ifndef MAPC_DIAG_H
#define MAPC_DIAG_H

#include "srcloc.h"
#include "util.h"

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagSeverity;

typedef enum {
#define DIAG(id, code, sev) D_##id,
#include "diagnostics.def"
#undef DIAG
    D__COUNT
} DiagCode;

typedef struct Diag {
    DiagCode code;
    DiagSeverity sev;
    Span span;
    char *msg;
    char *hint;    /* may be NULL */
    char *path;    /* a file with no loaded text (unreadable input); may be NULL */
    int seq;       /* report order, to keep the sort stable */
} Diag;

const char *diag_code_name(DiagCode c);
/* Report a diagnostic with the code's default severity. */
void diag_report(DiagCode c, Span at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Change the severity of the last reported diagnostic (a certain violation
** of a check whose code is a warning by default becomes an error). */
void diag_severity(DiagSeverity sev);
/* Name the file of the last diagnostic when it has no span (an unreadable file). */
void diag_path(const char *path);
/* Attach a fix hint to the last reported diagnostic. */
void diag_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int diag_errors(void);
int diag_warnings(void);
/* Render everything reported so far, sorted by position. */
void diag_render_text(Buf *out, int color);
void diag_render_json(Buf *out);
void diag_free_all(void);

#endif

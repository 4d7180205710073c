/*
** diag: collecting and rendering diagnostics.
*/
#include "diag.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const code_names[] = {
#define DIAG(id, code, sev) code,
#include "diagnostics.def"
#undef DIAG
};

static const DiagSeverity code_sev[] = {
#define DIAG(id, code, sev) sev,
#include "diagnostics.def"
#undef DIAG
};

static Diag *diags;
static int ndiags, cap;
static int nerrors, nwarnings;
static bool muted_hint;       /* the last report was a duplicate: skip its hint */

const char *diag_code_name(DiagCode c)
{
    return c < D__COUNT ? code_names[c] : "?";
}

static bool same_span(Span a, Span b)
{
    return a.file == b.file && a.start == b.start && a.end == b.end;
}

/*
** Report a diagnostic.  The same message at the same place is kept once: a
** fn body is typed again at every call, and its errors must not repeat.
*/
void diag_report(DiagCode c, Span at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvprintf(fmt, ap);
    va_end(ap);
    for (int i = 0; i < ndiags; i++)
        if (diags[i].code == c && same_span(diags[i].span, at) && strcmp(diags[i].msg, msg) == 0) {
            free(msg);
            muted_hint = true;           /* and drop the hint that follows */
            return;
        }
    muted_hint = false;
    if (ndiags == cap) {
        cap = cap ? cap * 2 : 16;
        diags = xrealloc(diags, sizeof(Diag) * (size_t)cap);
    }
    Diag *d = &diags[ndiags];
    d->code = c;
    d->sev = code_sev[c];
    d->span = at;
    d->msg = msg;
    d->hint = NULL;
    d->path = NULL;
    d->seq = ndiags++;
    if (d->sev == DIAG_ERROR)
        nerrors++;
    else if (d->sev == DIAG_WARNING)
        nwarnings++;
}

void diag_hint(const char *fmt, ...)
{
    if (!ndiags || muted_hint)
        return;
    Diag *d = &diags[ndiags - 1];
    va_list ap;
    va_start(ap, fmt);
    free(d->hint);
    d->hint = xvprintf(fmt, ap);
    va_end(ap);
}

void diag_severity(DiagSeverity sev)
{
    if (!ndiags || muted_hint)
        return;
    Diag *d = &diags[ndiags - 1];
    nerrors -= d->sev == DIAG_ERROR;
    nwarnings -= d->sev == DIAG_WARNING;
    d->sev = sev;
    nerrors += sev == DIAG_ERROR;
    nwarnings += sev == DIAG_WARNING;
}

void diag_path(const char *path)
{
    if (!ndiags || muted_hint)
        return;
    free(diags[ndiags - 1].path);
    diags[ndiags - 1].path = xstrdup(path);
}

int diag_errors(void) { return nerrors; }
int diag_warnings(void) { return nwarnings; }

static int by_position(const void *a, const void *b)
{
    const Diag *x = a, *y = b;
    if (x->span.file != y->span.file)
        return x->span.file < y->span.file ? -1 : 1;
    if (x->span.start != y->span.start)
        return x->span.start < y->span.start ? -1 : 1;
    return x->seq - y->seq;
}

static const char *sev_name(DiagSeverity s)
{
    return s == DIAG_ERROR ? "error" : s == DIAG_WARNING ? "warning" : "note";
}

/*
** The quoted source line and the ^~~~ underline of the span's first line.
** The underline copies tabs from the source so it lines up in any terminal.
*/
static void render_excerpt(Buf *out, const Diag *d, int line)
{
    int len;
    const char *text = srcloc_line(d->span.file, line, &len);
    const char *base = srcloc_file(d->span.file)->text;
    int from = (int)(text - base), to = from + len;
    int s = d->span.start < from ? from : d->span.start;
    int e = d->span.end > to ? to : d->span.end;
    char gutter[16];
    int gw = snprintf(gutter, sizeof gutter, "%d", line);
    buf_printf(out, " %s | ", gutter);
    buf_put(out, text, (size_t)len);
    buf_puts(out, "\n ");
    for (int i = 0; i < gw; i++)
        buf_puts(out, " ");
    buf_puts(out, " | ");
    for (int i = from; i < s; i++)
        if (((unsigned char)base[i] & 0xC0) != 0x80)
            buf_puts(out, base[i] == '\t' ? "\t" : " ");
    buf_puts(out, "^");
    for (int i = s + 1; i < e; i++)
        if (((unsigned char)base[i] & 0xC0) != 0x80)  /* one mark per UTF-8 character */
            buf_puts(out, "~");
    buf_puts(out, "\n");
}

void diag_render_text(Buf *out, int color)
{
    (void)color;
    if (ndiags)
        qsort(diags, (size_t)ndiags, sizeof(Diag), by_position);
    for (int i = 0; i < ndiags; i++) {
        const Diag *d = &diags[i];
        const SrcFile *f = srcloc_file(d->span.file);
        int line = 0, col = 0;
        if (f) {
            srcloc_linecol(d->span.file, d->span.start, &line, &col);
            buf_printf(out, "%s:%d:%d: ", f->name, line, col);
        } else {
            buf_printf(out, "%s: ", d->path ? d->path : "mapc");
        }
        buf_printf(out, "%s: %s [%s]\n", sev_name(d->sev), d->msg, code_names[d->code]);
        if (f)
            render_excerpt(out, d, line);
        if (d->hint)
            buf_printf(out, "  = hint: %s\n", d->hint);
    }
}

void diag_render_json(Buf *out)
{
    if (ndiags)
        qsort(diags, (size_t)ndiags, sizeof(Diag), by_position);
    buf_puts(out, "[");
    for (int i = 0; i < ndiags; i++) {
        const Diag *d = &diags[i];
        const SrcFile *f = srcloc_file(d->span.file);
        int line = 0, col = 0, eline = 0, ecol = 0;
        if (f) {
            srcloc_linecol(d->span.file, d->span.start, &line, &col);
            srcloc_linecol(d->span.file, d->span.end, &eline, &ecol);
        }
        buf_puts(out, i ? ",\n  {" : "\n  {");
        buf_puts(out, "\"file\": ");
        buf_json_string(out, f ? f->name : d->path ? d->path : "");
        buf_printf(out, ", \"line\": %d, \"column\": %d, \"end\": {\"line\": %d, \"column\": %d}",
                   line, col, eline, ecol);
        buf_printf(out, ", \"severity\": \"%s\", \"code\": \"%s\", \"message\": ",
                   sev_name(d->sev), code_names[d->code]);
        buf_json_string(out, d->msg);
        if (d->hint) {
            buf_puts(out, ", \"hint\": ");
            buf_json_string(out, d->hint);
        }
        buf_puts(out, "}");
    }
    buf_puts(out, ndiags ? "\n]\n" : "]\n");
}

void diag_free_all(void)
{
    for (int i = 0; i < ndiags; i++) {
        free(diags[i].msg);
        free(diags[i].hint);
        free(diags[i].path);
    }
    free(diags);
    diags = NULL;
    ndiags = cap = nerrors = nwarnings = 0;
}

/*
** csv: the reader behind csv.h.  Cells are collected in one buffer per row
** (NUL-separated) and pointed at afterwards, so a row costs no allocation
** once the buffers have grown.
*/
#include "csv.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct CsvReader {
    FILE *f;
    char *buf;
    size_t len, cap;
    size_t *starts;
    char **cells;
    int ncap;
};

CsvReader *csv_open(FILE *f)
{
    CsvReader *r = calloc(1, sizeof *r);
    r->f = f;
    return r;
}

void csv_close(CsvReader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->starts);
    free(r->cells);
    free(r);
}

static void put(CsvReader *r, char c)
{
    if (r->len + 1 >= r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4096;
        r->buf = realloc(r->buf, r->cap);
    }
    r->buf[r->len++] = c;
}

static void start_cell(CsvReader *r, int n)
{
    if (n >= r->ncap) {
        r->ncap = r->ncap ? r->ncap * 2 : 32;
        r->starts = realloc(r->starts, sizeof *r->starts * (size_t)r->ncap);
        r->cells = realloc(r->cells, sizeof *r->cells * (size_t)r->ncap);
    }
    r->starts[n] = r->len;
}

int csv_next(CsvReader *r, char ***cells, int *n)
{
    int c = getc(r->f);
    if (c == EOF)
        return 0;
    r->len = 0;
    int nc = 0;
    start_cell(r, nc++);
    bool quoted = false, after_quote = false;
    for (;; c = getc(r->f)) {
        if (quoted) {
            if (c == EOF)
                return -1;                   /* a quote never closed */
            if (c == '"') {
                int d = getc(r->f);
                if (d == '"') {
                    put(r, '"');
                    continue;
                }
                ungetc(d, r->f);
                quoted = false;
                after_quote = true;
                continue;
            }
            put(r, (char)c);
            continue;
        }
        if (c == ',' ) {
            put(r, '\0');
            start_cell(r, nc++);
            after_quote = false;
            continue;
        }
        if (c == '\r') {
            int d = getc(r->f);
            if (d != '\n')
                ungetc(d, r->f);
            c = '\n';
        }
        if (c == '\n' || c == EOF)
            break;
        if (after_quote)
            return -1;                       /* "abc"x: text after a closing quote */
        if (c == '"' && r->len == r->starts[nc - 1]) {
            quoted = true;
            continue;
        }
        put(r, (char)c);
    }
    put(r, '\0');
    for (int i = 0; i < nc; i++)
        r->cells[i] = r->buf + r->starts[i];
    *cells = r->cells;
    *n = nc;
    return 1;
}

int csv_column(char **header, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(header[i], name) == 0)
            return i;
    return -1;
}

bool csv_needs_quotes(const char *s, size_t n)
{
    return n && (memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n)
                 || s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
}

static void put_quoted(FILE *f, const char *prefix, const char *s)
{
    putc('"', f);
    fputs(prefix, f);
    for (; *s; s++) {
        if (*s == '"')
            putc('"', f);
        putc(*s, f);
    }
    putc('"', f);
}

void csv_put_cell(FILE *f, const char *s)
{
    if (csv_needs_quotes(s, strlen(s)))
        put_quoted(f, "", s);
    else
        fputs(s, f);
}

/* ---- CSVs for people */

void csv_put_safe_cell(FILE *f, const char *s)
{
    if (!s)
        return;
    if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r')
        put_quoted(f, "'", s);         /* a spreadsheet would run it as a formula */
    else
        csv_put_cell(f, s);
}

int csv_put_safe_row(FILE *f, const char *const *cells, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            putc(',', f);
        csv_put_safe_cell(f, cells[i]);
    }
    fputs("\r\n", f);
    return ferror(f) ? -1 : 0;
}

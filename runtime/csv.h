/*
** csv: an RFC 4180 reader for the CSVs Salesforce sends back (Bulk API 2.0
** results and query results): comma-separated, quoted fields with ""
** for a quote, LF or CRLF line ends, line breaks inside quotes.  And a
** writer for CSVs meant for people (maprun report's failed and quarantined
** rows), safe to open in a spreadsheet.
*/
#ifndef MAPRUN_CSV_H
#define MAPRUN_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct CsvReader CsvReader;

CsvReader *csv_open(FILE *f);
void csv_close(CsvReader *r);
/* The next row: 1 with *cells (n of them, valid until the next call),
** 0 at the end, -1 on a malformed row (unterminated quote, text after a
** closing quote). */
int csv_next(CsvReader *r, char ***cells, int *n);
/* Does a cell need quotes: a comma, a quote or a line break, or white space
** at either end (Salesforce does not trim, so the quotes keep it visible)? */
bool csv_needs_quotes(const char *s, size_t n);
/* Writes one cell, quoted when it needs to be, quotes doubled. */
void csv_put_cell(FILE *f, const char *s);
/* Which column is called name; -1 if none. */
int csv_column(char **header, int n, const char *name);

/* Write one cell of a CSV for people: quoted as csv_put_cell does, and a
** cell that a spreadsheet would run as a formula — one starting with =, +,
** -, @, tab or CR — gets a leading ' (OWASP's CSV-injection rule) and is
** quoted.  NULL is an empty cell.  The one place that rule lives; never use
** it for data sent to Salesforce, which must arrive unchanged. */
void csv_put_safe_cell(FILE *f, const char *s);
/* A row of n such cells, comma-separated, ended by CRLF; -1 on a write error. */
int csv_put_safe_row(FILE *f, const char *const *cells, int n);

#endif

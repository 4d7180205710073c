/*
** csv: an RFC 4180 reader for the CSVs Salesforce sends back (Bulk API 2.0
** results and query results): comma-separated, quoted fields with ""
** for a quote, LF or CRLF line ends, line breaks inside quotes.
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

#endif

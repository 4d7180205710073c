/*
** srcloc: source files kept in memory, and byte offsets turned into line and
** column only when a diagnostic is printed.  Every token and AST node carries
** a Span of byte offsets into one file; nothing stores line numbers.
*/
#ifndef MAPC_SRCLOC_H
#define MAPC_SRCLOC_H

#include <stddef.h>

typedef struct Span {
    int file;   /* index into the srcloc table; -1 = no location (builtin) */
    int start;  /* byte offset of the first character */
    int end;    /* byte offset one past the last character */
} Span;

#define SPAN_NONE ((Span){-1, 0, 0})

typedef struct SrcFile {
    char *name;       /* as given on the command line, or "<stdlib>/x.map" */
    char *text;       /* NUL-terminated contents */
    size_t len;
    int *lines;       /* byte offset of the start of each line */
    int nlines;
} SrcFile;

/* Add a file whose contents the table now owns; returns its index. */
int srcloc_add(const char *name, char *text, size_t len);
/* Read a file from disk; returns its index or -1 (errno is set). */
int srcloc_read(const char *path);
const SrcFile *srcloc_file(int file);
/* Line and column, both from 1; a column counts UTF-8 characters, and a tab
** advances to the next multiple of 8. */
void srcloc_linecol(int file, int offset, int *line, int *col);
/* The text of a line (without newline) and its length. */
const char *srcloc_line(int file, int line, int *len);
void srcloc_free_all(void);

#endif

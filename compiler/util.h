/*
** util: allocation that never returns NULL (out of memory is fatal in a
** command-line compiler), and a growable string buffer.
*/
#ifndef MAPC_UTIL_H
#define MAPC_UTIL_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvprintf(const char *fmt, va_list ap);

/* Growable array of pointers. */
typedef struct PtrVec {
    void **v;
    int n, cap;
} PtrVec;
void vec_push(PtrVec *vec, void *p);
void vec_free(PtrVec *vec);

/* Growable NUL-terminated string. */
typedef struct Buf {
    char *s;
    size_t len, cap;
} Buf;
void buf_put(Buf *b, const char *s, size_t n);
void buf_puts(Buf *b, const char *s);
void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_json_string(Buf *b, const char *s);   /* quoted, escaped JSON string */
void buf_free(Buf *b);

/* Characters (not bytes) in a UTF-8 string. */
int utf8_chars(const char *s);

/* Levenshtein distance, for "did you mean" hints (case-insensitive). */
int edit_distance(const char *a, const char *b);

#endif

/*
** jsonbuf: a growable buffer for writing JSON text fast — the staged
** records, entries and quarantine entries are built here without a malloc
** per value.  A JBuf is reused: jb_reset() keeps its memory.
*/
#ifndef MAPRUN_JSONBUF_H
#define MAPRUN_JSONBUF_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

typedef struct JBuf {
    char *s;        /* NUL-terminated */
    size_t len, cap;
} JBuf;

void jb_reset(JBuf *b);
void jb_reserve(JBuf *b, size_t more);                    /* room for more bytes and a NUL */
void jb_free(JBuf *b);
void jb_raw(JBuf *b, const char *s, size_t n);
void jb_cstr(JBuf *b, const char *s);                      /* raw, NUL-terminated */
void jb_string(JBuf *b, const char *s, size_t n);          /* as a quoted JSON string */
/* As cJSON_PrintUnformatted quotes a string (\b and \f short); NULL is "". */
void jb_cjson_string(JBuf *b, const char *s);
/* The high bit of each of the 8 bytes of w that JSON must escape; the lowest one is exact. */
uint64_t jb_escape_mask(uint64_t w);
void jb_ulong(JBuf *b, unsigned long long v);
/* A scalar Value as JSON; lists and objects through val_to_json (arena). */
void jb_value(JBuf *b, const Value *v, Arena *a);
/* A malloc'd quoted JSON string of s, for text computed once (names). */
char *jb_quote(const char *s);

#endif

/*
** jsonparse: a strict JSON parser (RFC 8259) that builds cJSON trees.
**
** The input reader parses every source line with it.  cJSON's own parser
** was most of the cost of reading: it tries "null", "false" and "true"
** with strncmp before every value, copies strings a byte at a time, and
** sends every number through strtod and localeconv.  This one dispatches
** on the first byte, scans strings a word at a time and converts integers
** of up to 15 digits itself (exactly: they are below 2^53); other numbers
** go to strtod (maprun never sets a locale, so '.' is the decimal point).
**
** The tree is an ordinary cJSON tree: nodes and strings come from
** cJSON_malloc (so the jsonmem arenas apply), cJSON_Delete frees it, and
** it has the shape cJSON_Parse gives (an array's or object's first child's
** prev is its last child, valueint as cJSON saturates it, members in input
** order with duplicates kept).
**
** It is stricter than cJSON, which accepts leading zeros ("01"), a bare
** fraction point ("1.", "-.5"), raw control characters in strings, any
** byte up to 0x20 as white space, and turns "\u0000" into the end of the
** string and 1e999 into infinity.  Here each of these is an error: a
** record is quarantined with the reason rather than loaded changed.
*/
#ifndef MAPRUN_JSONPARSE_H
#define MAPRUN_JSONPARSE_H

#include <cJSON.h>
#include <stddef.h>

/* Why a text was refused: the byte offset (from 0) and a reason. */
typedef struct JpError {
    size_t offset;
    char msg[120];
} JpError;

/* Deepest nesting of arrays and objects accepted (cJSON's limit too). */
#define JP_MAX_DEPTH 1000

/*
** Parse s[0, len) as one JSON value with optional white space (space, tab,
** LF, CR) around it.  Returns the tree, to free with cJSON_Delete, or NULL
** with *err filled in.  s need not be NUL-terminated.
*/
cJSON *jp_parse(const char *s, size_t len, JpError *err);

/*
** The same, with nodes and strings from alloc (returns NULL only when out of
** memory) instead of cJSON_malloc.  Such a tree belongs to the allocator:
** it must never go to cJSON_Delete, and a failed parse leaves its pieces
** there.  The input reader thread parses into its batches' memory so.
*/
typedef struct JpAlloc {
    void *(*alloc)(void *ctx, size_t n);
    void *ctx;
} JpAlloc;
cJSON *jp_parse_with(const char *s, size_t len, JpError *err, const JpAlloc *alloc);

#endif

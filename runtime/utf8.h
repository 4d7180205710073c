/*
** utf8: the text primitives of the string builtins.  Every function copes
** with malformed UTF-8: a byte that does not start a well-formed sequence
** is one character of its own, decoded as UTF8_BAD and never changed.
*/
#ifndef MAPRUN_UTF8_H
#define MAPRUN_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTF8_BAD 0x110000u      /* no code point: a malformed byte */

/* The character at s[i] (i < len): its code point in *cp, its size in bytes. */
size_t utf8_next(const char *s, size_t len, size_t i, uint32_t *cp);
/* UTF-8 for code point c (< 0x110000) in out[4]; its size in bytes. */
size_t utf8_encode(uint32_t c, char *out);
/* Characters in s. */
size_t utf8_count(const char *s, size_t len);
/* Bytes of the first n characters of s (all of s when it is shorter). */
size_t utf8_prefix(const char *s, size_t len, size_t n);
/* ASCII white space, U+00A0 (no-break space) and U+FEFF (byte order mark). */
bool utf8_is_space(uint32_t c);
/* The bounds [*start, *end) of s without white space at either end. */
void utf8_trim(const char *s, size_t len, size_t *start, size_t *end);
/* Simple case mapping of ASCII, Latin-1, Latin Extended-A and parts of
** Extended-B and Additional, Greek, Cyrillic, Armenian and fullwidth
** Latin; other code points are returned unchanged.  The result never
** needs more UTF-8 bytes than c. */
uint32_t utf8_lower(uint32_t c);
uint32_t utf8_upper(uint32_t c);

#endif

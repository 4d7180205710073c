/*
** bits: small word-level helpers shared by the parser and the stager.
*/
#ifndef MAPRUN_BITS_H
#define MAPRUN_BITS_H

#include <stdint.h>
#include <string.h>

/* The 8 bytes at p as a little-endian word (the first byte lowest), whatever the machine. */
static inline uint64_t load_le64(const void *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

#endif

/*
** sha256: SHA-256 (FIPS 180-4), for hash() and anything else that needs a
** stable digest.  No dependency beyond the C library.
*/
#ifndef MAPRUN_SHA256_H
#define MAPRUN_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct Sha256 {
    uint32_t h[8];          /* the running hash value */
    uint64_t nbytes;        /* message bytes seen so far */
    uint8_t block[64];      /* the partial block */
    size_t nblock;          /* bytes in block */
} Sha256;

void sha256_init(Sha256 *c);
void sha256_update(Sha256 *c, const void *data, size_t n);
void sha256_final(Sha256 *c, uint8_t digest[32]);
/* The digest of n bytes as 64 lower-case hex digits and a NUL. */
void sha256_hex(const void *data, size_t n, char hex[65]);

#endif

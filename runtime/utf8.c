/*
** utf8: decoding, counting, white space and simple case mapping.
*/
#include "utf8.h"

#include <stdint.h>
#include <string.h>

static bool is_cont(unsigned char b, unsigned char lo, unsigned char hi)
{
    return b >= lo && b <= hi;
}

/*
** Well-formed sequences as in Unicode table 3-7: no overlong forms, no
** surrogates, nothing above U+10FFFF.  The first continuation byte has
** the narrower range that excludes those; later ones are 80..BF.
*/
size_t utf8_next(const char *s, size_t len, size_t i, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s + i;
    size_t avail = len - i, n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        n = 3, lo = p[0] == 0xE0 ? 0xA0 : 0x80, hi = p[0] == 0xED ? 0x9F : 0xBF;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        n = 4, lo = p[0] == 0xF0 ? 0x90 : 0x80, hi = p[0] == 0xF4 ? 0x8F : 0xBF;
    else
        n = 0;
    if (n == 0 || avail < n || !is_cont(p[1], lo, hi)) {
        *cp = UTF8_BAD;
        return 1;
    }
    uint32_t c = p[0] & (0x7F >> n);
    for (size_t k = 1; k < n; k++) {
        if (k > 1 && !is_cont(p[k], 0x80, 0xBF)) {
            *cp = UTF8_BAD;
            return 1;
        }
        c = c << 6 | (p[k] & 0x3F);
    }
    *cp = c;
    return n;
}

size_t utf8_encode(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3F));
    out[2] = (char)(0x80 | (c >> 6 & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* How many bytes from the start of s are ASCII (8 at a time). */
static size_t ascii_run(const char *s, size_t len)
{
    size_t i = 0;
    for (uint64_t w; i + 8 <= len; i += 8) {
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            break;
    }
    while (i < len && (unsigned char)s[i] < 0x80)
        i++;
    return i;
}

size_t utf8_count(const char *s, size_t len)
{
    size_t i = ascii_run(s, len), n = i;   /* ASCII: one character per byte */
    uint32_t c;
    for (; i < len; n++)
        i += utf8_next(s, len, i, &c);
    return n;
}

size_t utf8_prefix(const char *s, size_t len, size_t n)
{
    size_t i = ascii_run(s, len < n ? len : n);
    uint32_t c;
    n -= i;
    while (i < len && n-- > 0)
        i += utf8_next(s, len, i, &c);
    return i;
}

bool utf8_is_space(uint32_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 || c == 0xFEFF;
}

void utf8_trim(const char *s, size_t len, size_t *start, size_t *end)
{
    /* ASCII ends, the common case: no decoding */
    size_t a = 0, z = len;
    while (a < z && (s[a] == ' ' || (s[a] >= '\t' && s[a] <= '\r')))
        a++;
    while (z > a && (s[z - 1] == ' ' || (s[z - 1] >= '\t' && s[z - 1] <= '\r')))
        z--;
    if ((a == z || (unsigned char)s[a] < 0x80) && (z == a || (unsigned char)s[z - 1] < 0x80)) {
        *start = a;
        *end = z;
        return;
    }
    size_t i = 0, first = len, last = len;
    uint32_t c;
    while (i < len) {
        size_t n = utf8_next(s, len, i, &c);
        if (!utf8_is_space(c)) {
            if (first == len)
                first = i;
            last = i + n;
        }
        i += n;
    }
    *start = first;
    *end = first == len ? len : last;
}

/* ---- case mapping */

/*
** Upper-case ranges and the distance to their lower-case letters.  With
** step 2 only every other code point of the range is a capital (the
** alternating pairs of the Latin extensions and Cyrillic); the one after
** it is its small letter.  The table serves both directions.
*/
static const struct { uint32_t lo, hi; int32_t delta; uint32_t step; } cases[] = {
    {0x0041, 0x005A, 32, 1},  {0x00C0, 0x00D6, 32, 1},  {0x00D8, 0x00DE, 32, 1},
    {0x0100, 0x012E, 1, 2},   {0x0132, 0x0136, 1, 2},   {0x0139, 0x0147, 1, 2},
    {0x014A, 0x0176, 1, 2},   {0x0178, 0x0178, -121, 1}, {0x0179, 0x017D, 1, 2},
    {0x01CD, 0x01DB, 1, 2},   {0x01DE, 0x01EE, 1, 2},   {0x01F8, 0x021E, 1, 2},
    {0x0386, 0x0386, 38, 1},  {0x0388, 0x038A, 37, 1},  {0x038C, 0x038C, 64, 1},
    {0x038E, 0x038F, 63, 1},  {0x0391, 0x03A1, 32, 1},  {0x03A3, 0x03AB, 32, 1},
    {0x0400, 0x040F, 80, 1},  {0x0410, 0x042F, 32, 1},  {0x0460, 0x0480, 1, 2},
    {0x048A, 0x04BE, 1, 2},   {0x04D0, 0x052E, 1, 2},   {0x0531, 0x0556, 48, 1},
    {0x1E00, 0x1E94, 1, 2},   {0x1EA0, 0x1EFE, 1, 2},   {0xFF21, 0xFF3A, 32, 1},
};

/* Mappings that only go one way: İ→i, ẞ→ß; ı→I, ſ→S, ς→Σ. */
static const uint32_t lower_only[][2] = {{0x0130, 0x0069}, {0x1E9E, 0x00DF}};
static const uint32_t upper_only[][2] = {{0x0131, 0x0049}, {0x017F, 0x0053}, {0x03C2, 0x03A3}};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool in_range(uint32_t c, size_t i)
{
    return c >= cases[i].lo && c <= cases[i].hi && (c - cases[i].lo) % cases[i].step == 0;
}

uint32_t utf8_lower(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    for (size_t i = 0; i < COUNT(cases); i++)
        if (in_range(c, i))
            return (uint32_t)((int32_t)c + cases[i].delta);
    for (size_t i = 0; i < COUNT(lower_only); i++)
        if (c == lower_only[i][0])
            return lower_only[i][1];
    return c;
}

uint32_t utf8_upper(uint32_t c)
{
    if (c < 0x80)
        return c >= 'a' && c <= 'z' ? c - 32 : c;
    for (size_t i = 0; i < COUNT(cases); i++) {
        uint32_t u = (uint32_t)((int32_t)c - cases[i].delta);
        if (in_range(u, i))
            return u;
    }
    for (size_t i = 0; i < COUNT(upper_only); i++)
        if (c == upper_only[i][0])
            return upper_only[i][1];
    return c;
}

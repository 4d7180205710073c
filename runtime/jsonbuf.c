/*
** jsonbuf: appending JSON text.  Strings are copied in runs: only the bytes
** JSON must escape (", \ and controls) break a run.
*/
#include "jsonbuf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void grow(JBuf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    b->s = realloc(b->s, cap);
    if (!b->s)
        arena_oom();
    b->cap = cap;
}

void jb_reserve(JBuf *b, size_t more)
{
    grow(b, more);
}

void jb_reset(JBuf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

void jb_free(JBuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void jb_raw(JBuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap)        /* the call only when it must grow */
        grow(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void jb_cstr(JBuf *b, const char *s)
{
    jb_raw(b, s, strlen(s));
}

/*
** Which of the 8 bytes of w need escaping (below 0x20, '"' or '\\')?  The
** usual bit tricks ("has a byte less than n", "has a zero byte" of w xor the
** character) set the high bit of such bytes.  A borrow can also mark a byte
** above a byte that matched, never below one, so the lowest mark is exact:
** "any" and "the first" are all that is asked.  Bytes of 0x80 and above never
** count (UTF-8, copied as they are).
*/
uint64_t jb_escape_mask(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');
    uint64_t t = ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) | ((bslash - ones) & ~bslash);
    return t & high;
}

/*
** Room for the worst case (every byte a \u00XX) is made once, so the copy
** writes straight into the buffer, eight bytes at a time: a word is stored
** whole, and when it holds a byte to escape the output goes on from there.
*/
/* A quoted JSON string.  cjson: \b and \f written short, as cJSON's printer
** does; otherwise as \u0008 and \u000c (the staged records' own text). */
static void quote(JBuf *b, const char *s, size_t n, bool cjson)
{
    static const char hex[] = "0123456789abcdef";
    if (b->len + 6 * n + 11 > b->cap)
        grow(b, 6 * n + 10);
    char *o = b->s + b->len;
    *o++ = '"';
    size_t i = 0;
    for (;;) {
        unsigned char c;
        if (i + 8 <= n) {
            uint64_t w, m;
            memcpy(&w, s + i, 8);
            memcpy(o, &w, 8);
            if (!(m = jb_escape_mask(w))) {
                o += 8;
                i += 8;
                continue;
            }
            unsigned k = (unsigned)__builtin_ctzll(m) >> 3;
            o += k;
            i += k;
            c = (unsigned char)s[i++];
        } else {
            if (i >= n)
                break;
            c = (unsigned char)s[i++];
            if (c >= 0x20 && c != '"' && c != '\\') {
                *o++ = (char)c;
                continue;
            }
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': if (cjson) { *o++ = 'b'; break; } goto control;
        case '\f': if (cjson) { *o++ = 'f'; break; } goto control;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
        control:
            memcpy(o, "u00", 3);
            o[3] = hex[c >> 4];
            o[4] = hex[c & 15];
            o += 5;
        }
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->s);
}

void jb_string(JBuf *b, const char *s, size_t n)
{
    quote(b, s, n, false);
}

void jb_cjson_string(JBuf *b, const char *s)
{
    quote(b, s ? s : "", s ? strlen(s) : 0, true);
}

void jb_ulong(JBuf *b, unsigned long long v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    jb_raw(b, tmp + i, sizeof tmp - (size_t)i);
}

void jb_value(JBuf *b, const Value *v, Arena *a)
{
    char tmp[40];
    switch (v->k) {
    case V_NULL: jb_raw(b, "null", 4); return;
    case V_BOOL: jb_cstr(b, v->u.b ? "true" : "false"); return;
    case V_STR: jb_string(b, v->u.s.p, v->u.s.len); return;
    case V_NUM: val_format_number(v->u.n, tmp); jb_cstr(b, tmp); return;
    case V_DATE: val_format_date(v->u.t, tmp); jb_string(b, tmp, strlen(tmp)); return;
    case V_DATETIME: val_format_datetime(v->u.t, tmp); jb_string(b, tmp, strlen(tmp)); return;
    default: {
        Value j = val_to_json(a, *v);
        jb_raw(b, j.u.s.p, j.u.s.len);
    }
    }
}

char *jb_quote(const char *s)
{
    JBuf b = {0};
    jb_string(&b, s, strlen(s));
    return b.s;
}

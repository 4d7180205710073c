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

static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/*
** Does any of the 8 bytes of w need escaping (below 0x20, '"' or '\\')?  The
** usual bit tricks ("has a byte less than n", "has a zero byte" of w xor the
** character): exact for "any", which is all that is asked; bytes of 0x80
** and above never count (UTF-8, copied as they are).
*/
static bool word_needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');
    uint64_t t = ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) | ((bslash - ones) & ~bslash);
    return (t & high) != 0;
}

void jb_string(JBuf *b, const char *s, size_t n)
{
    if (b->len + n + 3 > b->cap)
        grow(b, n + 2);
    b->s[b->len++] = '"';
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t w;
        while (i + 8 <= n && (memcpy(&w, s + i, 8), !word_needs_escape(w)))
            i += 8;                     /* eight plain bytes at a time */
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c))
            continue;
        jb_raw(b, s + run, i - run);
        char esc[8];
        switch (c) {
        case '"': jb_raw(b, "\\\"", 2); break;
        case '\\': jb_raw(b, "\\\\", 2); break;
        case '\n': jb_raw(b, "\\n", 2); break;
        case '\r': jb_raw(b, "\\r", 2); break;
        case '\t': jb_raw(b, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            jb_raw(b, esc, 6);
        }
        run = i + 1;
    }
    jb_raw(b, s + run, n - run);
    jb_raw(b, "\"", 1);
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

/*
** jsonparse: recursive descent over the grammar of RFC 8259 (jsonparse.h).
**
** Every function takes the parser and returns the node it built, or NULL
** after fail() has recorded the first fault; the caller frees what it had
** built and returns NULL too.  Positions are pointers into the text and
** every read checks them against the end, so the text needs no terminator.
*/
#include "jsonparse.h"
#include "bits.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Jp {
    const char *start, *p, *end;
    int depth;
    JpError *err;
    bool failed;
    const JpAlloc *alloc;       /* NULL: cJSON_malloc */
} Jp;

static cJSON *value(Jp *j);

static void fail(Jp *j, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(Jp *j, const char *at, const char *fmt, ...)
{
    va_list ap;
    if (j->failed)
        return;
    j->failed = true;
    if (!j->err)
        return;
    j->err->offset = (size_t)(at - j->start);
    va_start(ap, fmt);
    vsnprintf(j->err->msg, sizeof j->err->msg, fmt, ap);
    va_end(ap);
}

/* What stands at p, for messages: a printable byte quoted, else "end of text" or its code. */
static const char *what(const Jp *j, const char *p, char buf[16])
{
    if (p >= j->end)
        return "the end of the text";
    unsigned char c = (unsigned char)*p;
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, 16, "'%c'", c);
    else
        snprintf(buf, 16, "byte 0x%02X", c);
    return buf;
}

static void skip_ws(Jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static void *get(Jp *j, size_t n)
{
    return j->alloc ? j->alloc->alloc(j->alloc->ctx, n) : cJSON_malloc(n);
}

/* Give back what a failed parse built: an allocator's memory is its owner's. */
static void drop(Jp *j, cJSON *tree)
{
    if (!j->alloc)
        cJSON_Delete(tree);
}

static void drop_text(Jp *j, char *s)
{
    if (!j->alloc)
        cJSON_free(s);
}

static cJSON *node(Jp *j, int type)
{
    cJSON *n = get(j, sizeof *n);
    if (!n) {
        fail(j, j->p, "out of memory");
        return NULL;
    }
    memset(n, 0, sizeof *n);
    n->type = type;
    return n;
}

/* ---- strings ---- */

#define ONES ((uint64_t)0x0101010101010101ull)
#define HIGHS ((uint64_t)0x8080808080808080ull)

/*
** Where in the 8-byte word (from load_le64: the first byte lowest) is the
** first '"', '\\' or byte below 0x20?  8 if none.  Each test flags a byte's
** top bit; borrows only run upwards, so the lowest flag of each is exact,
** and so is their lowest.
*/
static unsigned first_special(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
    uint64_t m = (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w)) & HIGHS;
    if (!m)
        return 8;
    return (unsigned)__builtin_ctzll(m) / 8;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

static char *put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* A \u escape at p (p[0] is 'u'): the code point, surrogate pairs joined; *next after it.  -1 on error. */
static long unicode_escape(Jp *j, const char *p, const char **next)
{
    if (j->end - p < 5 || hex4(p + 1) < 0) {
        fail(j, p - 1, "bad \\u escape: four hex digits must follow");
        return -1;
    }
    long cp = hex4(p + 1);
    *next = p + 5;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fail(j, p - 1, "lone low surrogate \\u%04lX", cp);
        return -1;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        const char *q = p + 5;
        int lo = j->end - q >= 6 && q[0] == '\\' && q[1] == 'u' ? hex4(q + 2) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF) {
            fail(j, p - 1, "high surrogate \\u%04lX not followed by a low one", cp);
            return -1;
        }
        *next = q + 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp == 0) {
        fail(j, p - 1, "\\u0000 (NUL) in a string");
        return -1;
    }
    return cp;
}

/* Decode the escapes of raw[0, n) into out; the number of bytes written, or -1. */
static long unescape(Jp *j, const char *raw, size_t n, char *out)
{
    const char *p = raw, *e = raw + n;
    char *o = out;
    while (p < e) {
        const char *bs = memchr(p, '\\', (size_t)(e - p));
        size_t plain = bs ? (size_t)(bs - p) : (size_t)(e - p);
        memcpy(o, p, plain);
        o += plain;
        if (!bs)
            break;
        p = bs + 1;
        switch (*p) {
        case '"': case '\\': case '/': *o++ = *p++; break;
        case 'b': *o++ = '\b'; p++; break;
        case 'f': *o++ = '\f'; p++; break;
        case 'n': *o++ = '\n'; p++; break;
        case 'r': *o++ = '\r'; p++; break;
        case 't': *o++ = '\t'; p++; break;
        case 'u': {
            long cp = unicode_escape(j, p, &p);
            if (cp < 0)
                return -1;
            o = put_utf8(o, (uint32_t)cp);
            break;
        }
        default: {
            char buf[16];
            fail(j, bs, "bad escape \\%s in a string", what(j, p, buf));
            return -1;
        }
        }
    }
    return o - out;
}

/*
** The string at j->p (a '"'), as a new NUL-terminated text.  The escaped
** form is never shorter than what it decodes to, so its length bounds the
** allocation.
*/
static char *string(Jp *j)
{
    const char *open = j->p, *p = j->p + 1;
    bool escapes = false;
    for (;;) {
        while (j->end - p >= 8) {
            unsigned k = first_special(load_le64(p));
            p += k;
            if (k < 8)
                break;
        }
        if (p >= j->end) {
            fail(j, open, "unterminated string");
            return NULL;
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c == '\\') {
            escapes = true;
            if (p + 1 >= j->end) {
                fail(j, open, "unterminated string");
                return NULL;
            }
            p += 2;                         /* the escaped byte is checked by unescape */
        } else if (c < 0x20) {
            fail(j, p, "control character 0x%02X in a string (it must be escaped)", c);
            return NULL;
        } else {
            p++;
        }
    }
    size_t n = (size_t)(p - open - 1);
    char *s = get(j, n + 1);
    if (!s) {
        fail(j, open, "out of memory");
        return NULL;
    }
    long len = (long)n;
    if (!escapes)
        memcpy(s, open + 1, n);
    else if ((len = unescape(j, open + 1, n, s)) < 0) {
        drop_text(j, s);
        return NULL;
    }
    s[len] = '\0';
    j->p = p + 1;
    return s;
}

/* ---- numbers ---- */

static const char *digits(const char *p, const char *end)
{
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p;
}

static cJSON *number(Jp *j)
{
    const char *s = j->p, *p = s, *e = j->end;
    bool neg = p < e && *p == '-';
    p += neg;
    const char *int_start = p;
    if (p < e && *p == '0')
        p++;
    else if (p < e && *p >= '1' && *p <= '9')
        p = digits(p, e);
    else {
        fail(j, s, "bad number: a digit must follow '-'");
        return NULL;
    }
    const char *int_end = p;
    bool plain = true;
    if (p < e && *p == '.') {
        const char *f = digits(p + 1, e);
        if (f == p + 1) {
            fail(j, s, "bad number: a digit must follow the decimal point");
            return NULL;
        }
        p = f, plain = false;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        const char *x = p + 1 + (p + 1 < e && (p[1] == '+' || p[1] == '-'));
        const char *f = digits(x, e);
        if (f == x) {
            fail(j, s, "bad number: a digit must follow the exponent");
            return NULL;
        }
        p = f, plain = false;
    }
    if (p < e && *p >= '0' && *p <= '9') {
        fail(j, s, "bad number: no leading zeros");
        return NULL;
    }
    double d;
    if (plain && int_end - int_start <= 15) {
        int64_t v = 0;
        for (const char *q = int_start; q < int_end; q++)
            v = v * 10 + (*q - '0');
        d = neg ? -(double)v : (double)v;   /* exact: below 2^53; "-0" stays -0.0 */
    } else {
        char small[64], *buf = small;
        size_t n = (size_t)(p - s);
        if (n >= sizeof small && !(buf = malloc(n + 1))) {
            fail(j, s, "out of memory");
            return NULL;
        }
        memcpy(buf, s, n);
        buf[n] = '\0';
        d = strtod(buf, NULL);
        if (buf != small)
            free(buf);
        if (isinf(d)) {
            fail(j, s, "number out of range: %.*s", (int)(n < 40 ? n : 40), s);
            return NULL;
        }
    }
    cJSON *n = node(j, cJSON_Number);
    if (!n)
        return NULL;
    n->valuedouble = d;
    n->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
    j->p = p;
    return n;
}

/* ---- literals, arrays, objects ---- */

static cJSON *literal(Jp *j, const char *word, int type)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) {
        char buf[16];
        fail(j, j->p, "expected a value but found %s", what(j, j->p, buf));
        return NULL;
    }
    cJSON *v = node(j, type);
    if (v) {
        v->valueint = type == cJSON_True;
        j->p += n;
    }
    return v;
}

/* Link item after *last under parent (cJSON keeps the first child's prev at the last). */
static void append(cJSON *parent, cJSON **last, cJSON *item)
{
    if (*last) {
        (*last)->next = item;
        item->prev = *last;
    } else {
        parent->child = item;
    }
    parent->child->prev = item;
    *last = item;
}

/* After a member or element: ',' (true) or the closing byte (false, consumed); else an error. */
static bool more(Jp *j, char close, bool *ok)
{
    skip_ws(j);
    if (j->p < j->end && *j->p == ',') {
        j->p++;
        skip_ws(j);
        return true;
    }
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return false;
    }
    char buf[16];
    fail(j, j->p, "expected ',' or '%c' but found %s", close, what(j, j->p, buf));
    *ok = false;
    return false;
}

static cJSON *enter(Jp *j, int type)
{
    if (j->depth >= JP_MAX_DEPTH) {
        fail(j, j->p, "nested deeper than %d arrays and objects", JP_MAX_DEPTH);
        return NULL;
    }
    cJSON *c = node(j, type);
    if (c) {
        j->depth++;
        j->p++;
        skip_ws(j);
    }
    return c;
}

static cJSON *member(Jp *j)
{
    char buf[16];
    if (j->p >= j->end || *j->p != '"') {
        fail(j, j->p, "expected a member name (a string) but found %s", what(j, j->p, buf));
        return NULL;
    }
    char *name = string(j);
    if (!name)
        return NULL;
    skip_ws(j);
    if (j->p >= j->end || *j->p != ':') {
        fail(j, j->p, "expected ':' after a member name but found %s", what(j, j->p, buf));
        drop_text(j, name);
        return NULL;
    }
    j->p++;
    skip_ws(j);
    cJSON *v = value(j);
    if (!v) {
        drop_text(j, name);
        return NULL;
    }
    v->string = name;
    return v;
}

/* An array (elem: value) or an object (elem: member), j->p at its opening byte. */
static cJSON *container(Jp *j, int type, char close, cJSON *(*elem)(Jp *))
{
    cJSON *c = enter(j, type), *last = NULL;
    bool ok = true;
    if (!c)
        return NULL;
    if (j->p < j->end && *j->p == close) {
        j->p++;
    } else {
        while (ok) {
            cJSON *v = elem(j);
            if (!v) {
                ok = false;
                break;
            }
            append(c, &last, v);
            if (!more(j, close, &ok))
                break;
        }
    }
    j->depth--;
    if (!ok) {
        drop(j, c);
        return NULL;
    }
    return c;
}

static cJSON *value(Jp *j)
{
    char buf[16];
    if (j->p >= j->end) {
        fail(j, j->p, "expected a value but found the end of the text");
        return NULL;
    }
    switch (*j->p) {
    case '"': {
        char *s = string(j);
        cJSON *v = s ? node(j, cJSON_String) : NULL;
        if (!v) {
            drop_text(j, s);
            return NULL;
        }
        v->valuestring = s;
        return v;
    }
    case '{': return container(j, cJSON_Object, '}', member);
    case '[': return container(j, cJSON_Array, ']', value);
    case 't': return literal(j, "true", cJSON_True);
    case 'f': return literal(j, "false", cJSON_False);
    case 'n': return literal(j, "null", cJSON_NULL);
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
            return number(j);
        fail(j, j->p, "expected a value but found %s", what(j, j->p, buf));
        return NULL;
    }
}

cJSON *jp_parse(const char *s, size_t len, JpError *err)
{
    return jp_parse_with(s, len, err, NULL);
}

cJSON *jp_parse_with(const char *s, size_t len, JpError *err, const JpAlloc *alloc)
{
    Jp j = {.start = s, .p = s, .end = s + len, .err = err, .alloc = alloc};
    skip_ws(&j);
    cJSON *v = value(&j);
    if (v) {
        skip_ws(&j);
        if (j.p < j.end) {
            fail(&j, j.p, "unexpected text after the JSON value");
            drop(&j, v);
            return NULL;
        }
    }
    return v;
}

/*
** builtins: the built-in functions of runtime/builtins.def.
**
** rt_builtin_call checks what the compiler could not: the number and the
** kinds of the arguments (against the def's argument letters) and null
** arguments, then calls bi_<ID>.  The bi_ functions may rely on their
** typed arguments having the right kind; `a` (any) arguments they check
** themselves.  Results live in the record's arena (or point into the
** arguments), never on the heap.
*/
#include "builtins.h"
#include "sha256.h"
#include "utf8.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef int BuiltinFn(const Value *a, Value *out, BuiltinCtx *ctx);

#define BUILTIN(id, name, args, ret, flags, doc) static BuiltinFn bi_##id;
#include "builtins.def"
#undef BUILTIN

/* The argument letters rt_builtin_call checks, in the order of Entry.need. */
static const char checked_kinds[] = "snbdtloL";

typedef struct Entry {
    const char *name;
    const char *args;
    int flags;
    BuiltinFn *fn;
    const char *need[sizeof checked_kinds - 1];     /* why, per argument letter */
    const char *arity;
} Entry;

#define NEEDS(name) { \
    name " needs a string", name " needs a number", name " needs a bool", \
    name " needs a date", name " needs a datetime", name " needs a list", \
    name " needs an object", name " needs a whole number of characters" }

static const Entry table[RB__COUNT] = {
#define BUILTIN(id, name, args, ret, flags, doc) \
    {name, args, flags, bi_##id, NEEDS(name), name " got the wrong number of arguments"},
#include "builtins.def"
#undef BUILTIN
};

/* ---- results */

static int type_error(BuiltinCtx *ctx, const char *why)
{
    ctx->why = why;
    return BR_TYPE;
}

static int fail(BuiltinCtx *ctx, const char *why)
{
    ctx->why = why;
    return BR_FAIL;
}

static int ok(Value *out, Value v)
{
    *out = v;
    return BR_OK;
}

/* s[start, end) as a string; no copy when it runs to the end of s. */
static Value substr(Arena *ar, Value s, size_t start, size_t end)
{
    if (end == s.u.s.len)
        return val_str(s.u.s.p + start, end - start);
    return val_str(arena_strndup(ar, s.u.s.p + start, end - start), end - start);
}

/* A new cJSON node that the arena deletes at reset. */
static cJSON *arena_node(Arena *ar, cJSON *j)
{
    if (!j)
        arena_oom();
    return arena_json(ar, j);
}

/* ---- the dispatcher */

const char *rt_builtin_name(RtBuiltinId id)
{
    return (unsigned)id < RB__COUNT ? table[id].name : NULL;
}

int rt_builtin_flags(RtBuiltinId id)
{
    return (unsigned)id < RB__COUNT ? table[id].flags : 0;
}

/* Does a null argument i make the result null?  Not where's value: there
** null is what to compare with (a missing or null field). */
static bool null_gives_null(RtBuiltinId id, int i)
{
    return (table[id].flags & BF_NULLPROP) && !(id == RB_WHERE && i == 2);
}

static bool kind_ok(char letter, Value v)
{
    switch (letter) {
    case 's': return v.k == V_STR;
    case 'n': return v.k == V_NUM;
    case 'b': return v.k == V_BOOL;
    case 'd': return v.k == V_DATE;
    case 't': return v.k == V_DATETIME;
    case 'l': return v.k == V_LIST;
    case 'o': return v.k == V_OBJ;
    case 'L': return v.k == V_NUM && v.u.n >= 0 && v.u.n <= 9007199254740992.0 && v.u.n == floor(v.u.n);
    default: return true;
    }
}

int rt_builtin_call(RtBuiltinId id, const Value *args, int argc, Value *out, BuiltinCtx *ctx)
{
    *out = val_null();
    if ((unsigned)id >= RB__COUNT)
        return type_error(ctx, "no such builtin");
    if (id == RB_IF)            /* compiled to jumps: never checked, never called */
        return bi_IF(args, out, ctx);
    const Entry *e = &table[id];
    if (argc != (int)strlen(e->args))
        return type_error(ctx, e->arity);
    for (int i = 0; i < argc; i++)
        if (args[i].k == V_NULL && null_gives_null(id, i))
            return BR_OK;
    for (int i = 0; i < argc; i++) {
        char letter = e->args[i];
        if (args[i].k != V_NULL && !kind_ok(letter, args[i]))
            return type_error(ctx, e->need[strchr(checked_kinds, letter) - checked_kinds]);
    }
    return e->fn(args, out, ctx);
}

static int bi_IF(const Value *a, Value *out, BuiltinCtx *ctx)
{
    (void)a, (void)out;
    return type_error(ctx, "if is compiled inline");
}

/* ---- case and white space */

enum { LOWER, UPPER, TITLE };

/* Where title_case starts a word: after white space, '-', '.' or '_'. */
static bool word_break(uint32_t c)
{
    return utf8_is_space(c) || c == '-' || c == '.' || c == '_';
}

/* Letters and digits (any code point from U+00C0 on counts as a letter):
** the first of them in a word is the one title_case upper-cases, so
** "(ann" becomes "(Ann" and "1st" stays "1st". */
static bool word_char(uint32_t c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
    return c >= 0xC0 && c != 0xD7 && c != 0xF7 && c != UTF8_BAD && !utf8_is_space(c);
}

/*
** Copy a string with its case changed character by character.  A
** malformed byte is copied as it is, and so is a character whose mapping
** would need more bytes (none in utf8's tables), so the result is never
** longer than s, in characters or bytes.
*/
/* lower/upper of pure ASCII, the common case, without decoding. */
static bool ascii_case(char *out, const char *s, size_t len, int mode)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80)
            return false;
        out[i] = (char)(mode == LOWER && c >= 'A' && c <= 'Z' ? c + 32
                      : mode == UPPER && c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    out[len] = '\0';
    return true;
}

static Value recase(Arena *ar, const char *s, size_t len, int mode)
{
    char *out = arena_alloc(ar, len + 1), *o = out, enc[4];
    if (mode != TITLE && ascii_case(out, s, len, mode))
        return val_str(out, len);
    bool start = true;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = utf8_next(s, len, i, &c), k = 0;
        if (c != UTF8_BAD) {
            bool up = mode == UPPER || (mode == TITLE && start && word_char(c));
            k = utf8_encode(up ? utf8_upper(c) : utf8_lower(c), enc);
            start = word_break(c) || (start && !word_char(c));
        }
        if (k == 0 || k > n)
            memcpy(o, s + i, k = n);
        else
            memcpy(o, enc, k);
        o += k;
        i += n;
    }
    *o = '\0';
    return val_str(out, (size_t)(o - out));
}

static int bi_LOWER(const Value *a, Value *out, BuiltinCtx *ctx)
{
    return ok(out, recase(ctx->arena, a[0].u.s.p, a[0].u.s.len, LOWER));
}

static int bi_UPPER(const Value *a, Value *out, BuiltinCtx *ctx)
{
    return ok(out, recase(ctx->arena, a[0].u.s.p, a[0].u.s.len, UPPER));
}

static int bi_TITLE_CASE(const Value *a, Value *out, BuiltinCtx *ctx)
{
    return ok(out, recase(ctx->arena, a[0].u.s.p, a[0].u.s.len, TITLE));
}

static Value trimmed(Arena *ar, Value s)
{
    size_t start, end;
    utf8_trim(s.u.s.p, s.u.s.len, &start, &end);
    return substr(ar, s, start, end);
}

static int bi_TRIM(const Value *a, Value *out, BuiltinCtx *ctx)
{
    return ok(out, trimmed(ctx->arena, a[0]));
}

static int bi_NONEMPTY(const Value *a, Value *out, BuiltinCtx *ctx)
{
    size_t start, end;
    (void)ctx;
    utf8_trim(a[0].u.s.p, a[0].u.s.len, &start, &end);
    return ok(out, start == end ? val_null() : a[0]);
}

/* ---- lengths */

static int bi_TRUNCATE(const Value *a, Value *out, BuiltinCtx *ctx)
{
    size_t n = utf8_prefix(a[0].u.s.p, a[0].u.s.len, (size_t)a[1].u.n);
    return ok(out, substr(ctx->arena, a[0], 0, n));
}

static int bi_FITS(const Value *a, Value *out, BuiltinCtx *ctx)
{
    if (utf8_prefix(a[0].u.s.p, a[0].u.s.len, (size_t)a[1].u.n) < a[0].u.s.len)
        return fail(ctx, "longer than the allowed number of characters");
    return ok(out, a[0]);
}

static int bi_LEN(const Value *a, Value *out, BuiltinCtx *ctx)
{
    if (a[0].k == V_STR)
        return ok(out, val_num((double)utf8_count(a[0].u.s.p, a[0].u.s.len)));
    if (a[0].k == V_LIST || a[0].k == V_OBJ)
        return ok(out, val_num(cJSON_GetArraySize(a[0].u.j)));
    return type_error(ctx, "len needs a string, list or object");
}

/* ---- email addresses and domains */

/* Offset of the last '@' in s, or -1. */
static long last_at(Value s)
{
    for (size_t i = s.u.s.len; i > 0; i--)
        if (s.u.s.p[i - 1] == '@')
            return (long)(i - 1);
    return -1;
}

/* The trimmed, lower-cased text after the last '@' (all of s without one). */
static Value domain_of(Arena *ar, Value s, bool need_at)
{
    long at = last_at(s);
    if (at < 0 && need_at)
        return val_null();
    Value d = trimmed(ar, substr(ar, s, (size_t)(at + 1), s.u.s.len));
    return d.u.s.len ? recase(ar, d.u.s.p, d.u.s.len, LOWER) : val_null();
}

static int bi_EMAIL_DOMAIN(const Value *a, Value *out, BuiltinCtx *ctx)
{
    return ok(out, domain_of(ctx->arena, a[0], true));
}

static int bi_LOCAL_PART(const Value *a, Value *out, BuiltinCtx *ctx)
{
    long at = last_at(a[0]);
    if (at < 0)
        return ok(out, val_null());
    size_t start, end;
    utf8_trim(a[0].u.s.p, (size_t)at, &start, &end);
    if (start == end)
        return ok(out, val_null());
    return ok(out, val_str(arena_strndup(ctx->arena, a[0].u.s.p + start, end - start), end - start));
}

/* Start of the label of d that ends at end (exclusive). */
static size_t label_start(const char *d, size_t end)
{
    while (end > 0 && d[end - 1] != '.')
        end--;
    return end;
}

/* Second-level labels under which registrations happen: acme.co.uk. */
static bool second_level(const char *p, size_t n)
{
    static const char *const labels[] = {"co", "com", "net", "org", "gov", "edu", "ac", "ne", "or"};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strlen(labels[i]) == n && memcmp(labels[i], p, n) == 0)
            return true;
    return false;
}

/*
** The label before the public suffix, which is the last label, or the
** last two when the second-to-last is a second-level label.  "www." is
** dropped first (unless the domain is then a single label), so is one
** trailing dot.
*/
static int bi_DOMAIN_LABEL(const Value *a, Value *out, BuiltinCtx *ctx)
{
    Value dv = domain_of(ctx->arena, a[0], false);
    if (dv.k == V_NULL)
        return ok(out, dv);
    const char *d = dv.u.s.p;
    size_t n = dv.u.s.len;
    n -= d[n - 1] == '.';
    if (n > 4 && memcmp(d, "www.", 4) == 0 && memchr(d + 4, '.', n - 4)) {
        d += 4;
        n -= 4;
    }
    size_t suffix = label_start(d, n);
    if (suffix == 0)
        return ok(out, val_null());
    size_t sld = label_start(d, suffix - 1);
    if (second_level(d + sld, suffix - 1 - sld)) {
        if (sld == 0)
            return ok(out, val_null());
        suffix = sld;
    }
    size_t start = label_start(d, suffix - 1), len = suffix - 1 - start;
    return ok(out, len ? val_str(arena_strndup(ctx->arena, d + start, len), len) : val_null());
}

/* ---- replace, split_text, join */

/* Offset of the first needle in hay at or after from, or len when none. */
static size_t find(const char *hay, size_t len, size_t from, const char *needle, size_t nlen)
{
    while (from + nlen <= len) {
        const char *p = memchr(hay + from, needle[0], len - nlen + 1 - from);
        if (!p)
            break;
        from = (size_t)(p - hay);
        if (memcmp(p, needle, nlen) == 0)
            return from;
        from++;
    }
    return len;
}

/*
** Every non-overlapping occurrence, left to right: one pass counts them
** to size the result exactly, a second copies.  No match: no copy.
*/
static int bi_REPLACE(const Value *a, Value *out, BuiltinCtx *ctx)
{
    const char *s = a[0].u.s.p, *to = a[2].u.s.p;
    size_t len = a[0].u.s.len, flen = a[1].u.s.len, tlen = a[2].u.s.len, count = 0;
    if (flen == 0)
        return ok(out, a[0]);
    for (size_t i = find(s, len, 0, a[1].u.s.p, flen); i < len; i = find(s, len, i + flen, a[1].u.s.p, flen))
        count++;
    if (count == 0)
        return ok(out, a[0]);
    if (tlen > flen && count > (SIZE_MAX / 2 - len) / (tlen - flen))
        return type_error(ctx, "replace: the result is too large");
    size_t n = len - count * flen + count * tlen, prev = 0;
    char *r = arena_alloc(ctx->arena, n + 1), *o = r;
    for (size_t i = find(s, len, 0, a[1].u.s.p, flen); i < len; i = find(s, len, prev, a[1].u.s.p, flen)) {
        memcpy(o, s + prev, i - prev);
        memcpy(o + (i - prev), to, tlen);
        o += i - prev + tlen;
        prev = i + flen;
    }
    memcpy(o, s + prev, len - prev);
    r[n] = '\0';
    return ok(out, val_str(r, n));
}

/* Append s[start, end) to a list as a string the arena owns. */
static void add_piece(Arena *ar, cJSON *list, const char *s, size_t start, size_t end)
{
    cJSON *item = cJSON_CreateStringReference(arena_strndup(ar, s + start, end - start));
    if (!item || !cJSON_AddItemToArray(list, item))
        arena_oom();
}

/* Every piece between separators (n separators make n + 1 pieces, so ""
** is [""]); with an empty separator, every character ("" is []). */
static int bi_SPLIT_TEXT(const Value *a, Value *out, BuiltinCtx *ctx)
{
    const char *s = a[0].u.s.p, *sep = a[1].u.s.p;
    size_t len = a[0].u.s.len, slen = a[1].u.s.len, start = 0;
    cJSON *list = arena_node(ctx->arena, cJSON_CreateArray());
    if (slen == 0) {
        uint32_t c;
        for (size_t i = 0; i < len; i = start) {
            start = i + utf8_next(s, len, i, &c);
            add_piece(ctx->arena, list, s, i, start);
        }
    } else {
        for (size_t i = find(s, len, 0, sep, slen); i < len; i = find(s, len, start, sep, slen)) {
            add_piece(ctx->arena, list, s, start, i);
            start = i + slen;
        }
        add_piece(ctx->arena, list, s, start, len);
    }
    return ok(out, val_from_json(list));
}

/* The text join gives a list element: 1 with *p and *n set, 0 for null (left
** out), -1 for a list or object.  num holds a number's text. */
static int element_text(const cJSON *e, char num[32], const char **p, size_t *n)
{
    if (cJSON_IsString(e))
        *p = e->valuestring ? e->valuestring : "";
    else if (cJSON_IsNumber(e)) {
        val_format_number(e->valuedouble, num);
        *p = num;
    }
    else if (cJSON_IsBool(e))
        *p = cJSON_IsTrue(e) ? "true" : "false";
    else if (cJSON_IsArray(e) || cJSON_IsObject(e))
        return -1;
    else
        return 0;
    *n = strlen(*p);
    return 1;
}

/*
** Two passes over the list: the first checks the elements and sizes the
** result, the second copies.
*/
static int bi_JOIN(const Value *a, Value *out, BuiltinCtx *ctx)
{
    const Value sep = a[1];
    char num[32];
    const char *p;
    size_t n, total = 0, parts = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a[0].u.j) {
        int r = element_text(e, num, &p, &n);
        if (r < 0)
            return type_error(ctx, "join needs a list of strings, numbers or bools");
        total += r ? n + (parts++ ? sep.u.s.len : 0) : 0;
    }
    char *r = arena_alloc(ctx->arena, total + 1), *o = r;
    parts = 0;
    cJSON_ArrayForEach(e, a[0].u.j) {
        if (element_text(e, num, &p, &n) <= 0)
            continue;
        if (parts++) {
            memcpy(o, sep.u.s.p, sep.u.s.len);
            o += sep.u.s.len;
        }
        memcpy(o, p, n);
        o += n;
    }
    *o = '\0';
    return ok(out, val_str(r, total));
}

/* ---- text of any value */

static int bi_STR(const Value *a, Value *out, BuiltinCtx *ctx)
{
    Value v = val_to_str(ctx->arena, a[0]);
    return v.k == V_NULL ? type_error(ctx, "str cannot take a ref") : ok(out, v);
}

static int bi_JSON(const Value *a, Value *out, BuiltinCtx *ctx)
{
    Value v = val_to_json(ctx->arena, a[0]);
    return v.k == V_NULL ? type_error(ctx, "json cannot take a ref") : ok(out, v);
}

static int bi_HASH(const Value *a, Value *out, BuiltinCtx *ctx)
{
    Value text = a[0].k == V_STR ? a[0] : val_to_json(ctx->arena, a[0]);
    if (text.k == V_NULL)
        return type_error(ctx, "hash cannot take a ref");
    char *hex = arena_alloc(ctx->arena, 65);
    sha256_hex(text.u.s.p, text.u.s.len, hex);
    return ok(out, val_str(hex, 64));
}

/* ---- dates and datetimes */

/* The dates the runtime makes: 0000-01-01 to 9999-12-31, the years with
** four digits, which Salesforce's range (1700 to 4000) lies within. */
#define FIRST_DAY (-719528.0)
#define LAST_DAY 2932896.0
#define MS_PER_DAY 86400000.0

static int bi_UNIX_DATETIME(const Value *a, Value *out, BuiltinCtx *ctx)
{
    double ms = round(a[0].u.n * 1000);
    if (!(ms >= FIRST_DAY * MS_PER_DAY && ms < (LAST_DAY + 1) * MS_PER_DAY))
        return type_error(ctx, "unix_datetime: seconds out of range (years 0000 to 9999)");
    return ok(out, val_datetime((int64_t)ms));
}

static int bi_UNIX_DATE(const Value *a, Value *out, BuiltinCtx *ctx)
{
    double days = floor(a[0].u.n / 86400);
    if (!(days >= FIRST_DAY && days <= LAST_DAY))
        return type_error(ctx, "unix_date: seconds out of range (years 0000 to 9999)");
    return ok(out, val_date((int64_t)days));
}

static int bi_DATE_OF(const Value *a, Value *out, BuiltinCtx *ctx)
{
    (void)ctx;
    return ok(out, val_date(val_days_of_ms(a[0].u.t)));
}

/* A cursor over the text being parsed. */
typedef struct Scan {
    const char *p, *end;
} Scan;

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Exactly n digits. */
static bool scan_digits(Scan *sc, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, sc->p++) {
        if (sc->p == sc->end || !is_digit(*sc->p))
            return false;
        *v = *v * 10 + (*sc->p - '0');
    }
    return true;
}

/* The next character when it is one of set. */
static bool scan_char(Scan *sc, const char *set)
{
    if (sc->p == sc->end || !strchr(set, *sc->p))
        return false;
    sc->p++;
    return true;
}

/* Digits with an optional leading '-': unix seconds. */
static bool parse_unix(Scan sc, int64_t *ms)
{
    bool neg = scan_char(&sc, "-");
    int64_t secs = 0;
    if (sc.p == sc.end)
        return false;
    for (; sc.p < sc.end; sc.p++) {
        if (!is_digit(*sc.p) || secs > 100000000000000)
            return false;
        secs = secs * 10 + (*sc.p - '0');
    }
    *ms = (neg ? -secs : secs) * 1000;
    return *ms >= FIRST_DAY * MS_PER_DAY && *ms < (LAST_DAY + 1) * MS_PER_DAY;
}

static bool parse_ymd(Scan *sc, int64_t *days)
{
    int y, m, d;
    if (!scan_digits(sc, 4, &y) || !scan_char(sc, "-") || !scan_digits(sc, 2, &m) ||
        !scan_char(sc, "-") || !scan_digits(sc, 2, &d))
        return false;
    if (m < 1 || m > 12 || d < 1 || d > val_days_in_month(y, m))
        return false;
    *days = val_days_from_civil(y, m, d);
    return true;
}

/* hh:mm, then optionally :ss and .f to .fffffffff; milliseconds of the day. */
static bool parse_hms(Scan *sc, int64_t *ms)
{
    int h, m, s = 0, frac = 0, digits = 0, digit;
    if (!scan_digits(sc, 2, &h) || !scan_char(sc, ":") || !scan_digits(sc, 2, &m) || h > 23 || m > 59)
        return false;
    bool has_seconds = scan_char(sc, ":");
    if (has_seconds && (!scan_digits(sc, 2, &s) || s > 59))
        return false;
    if (has_seconds && scan_char(sc, ".")) {
        while (sc->p < sc->end && is_digit(*sc->p) && digits < 9) {
            scan_digits(sc, 1, &digit);
            frac = digits++ < 3 ? frac * 10 + digit : frac;
        }
        if (digits == 0)
            return false;
        while (digits++ < 3)
            frac *= 10;
    }
    *ms = ((h * 60 + m) * 60 + s) * 1000LL + frac;
    return true;
}

/* Z, +hh:mm, -hh:mm, +hhmm or -hhmm, or nothing (UTC): offset in minutes. */
static bool parse_offset(Scan *sc, int *minutes)
{
    int h, m, sign;
    *minutes = 0;
    if (sc->p == sc->end || scan_char(sc, "Zz"))
        return true;
    sign = *sc->p == '-' ? -1 : 1;
    if (!scan_char(sc, "+-") || !scan_digits(sc, 2, &h))
        return false;
    scan_char(sc, ":");
    if (!scan_digits(sc, 2, &m) || h > 23 || m > 59)
        return false;
    *minutes = sign * (h * 60 + m);
    return true;
}

/*
** YYYY-MM-DD, optionally followed by T (or a space) and a time with an
** optional offset, or unix seconds as digits; the text is already
** trimmed.  Seconds of 60 (leap seconds) are refused.
*/
static bool parse_datetime_text(Scan sc, int64_t *ms)
{
    int64_t days, tod = 0;
    int offset = 0;
    if (parse_unix(sc, ms))
        return true;
    if (!parse_ymd(&sc, &days))
        return false;
    if (sc.p < sc.end && (!scan_char(&sc, "Tt ") || !parse_hms(&sc, &tod) || !parse_offset(&sc, &offset)))
        return false;
    *ms = days * 86400000 + tod - offset * 60000LL;
    return sc.p == sc.end;
}

static Scan trimmed_scan(Value s)
{
    size_t start, end;
    utf8_trim(s.u.s.p, s.u.s.len, &start, &end);
    Scan sc = {s.u.s.p + start, s.u.s.p + end};
    return sc;
}

static int bi_PARSE_DATETIME(const Value *a, Value *out, BuiltinCtx *ctx)
{
    int64_t ms;
    if (!parse_datetime_text(trimmed_scan(a[0]), &ms))
        return fail(ctx, "not a datetime");
    return ok(out, val_datetime(ms));
}

/* YYYY-MM-DD is a datetime at midnight UTC, so its date is itself. */
static int bi_PARSE_DATE(const Value *a, Value *out, BuiltinCtx *ctx)
{
    int64_t ms;
    if (!parse_datetime_text(trimmed_scan(a[0]), &ms))
        return fail(ctx, "not a date");
    return ok(out, val_date(val_days_of_ms(ms)));
}

/* ---- numbers, bools, JSON */

static void skip_digits(Scan *sc)
{
    while (sc->p < sc->end && is_digit(*sc->p))
        sc->p++;
}

/* The whole of sc is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number_syntax(Scan sc)
{
    scan_char(&sc, "-");
    if (!scan_char(&sc, "0")) {
        if (sc.p == sc.end || *sc.p < '1' || *sc.p > '9')
            return false;
        skip_digits(&sc);
    }
    if (scan_char(&sc, ".")) {
        if (sc.p == sc.end || !is_digit(*sc.p))
            return false;
        skip_digits(&sc);
    }
    if (scan_char(&sc, "eE")) {
        scan_char(&sc, "+-");
        if (sc.p == sc.end || !is_digit(*sc.p))
            return false;
        skip_digits(&sc);
    }
    return sc.p == sc.end;
}

/* A finite number in JSON syntax; -0 reads as 0.  strtod stops where the
** syntax check did: what follows is white space or the end. */
static int parse_number_text(Value s, double *n, BuiltinCtx *ctx)
{
    Scan sc = trimmed_scan(s);
    if (!json_number_syntax(sc))
        return fail(ctx, "not a number");
    *n = strtod(sc.p, NULL) + 0.0;
    return isfinite(*n) ? BR_OK : fail(ctx, "number out of range");
}

static int bi_PARSE_NUMBER(const Value *a, Value *out, BuiltinCtx *ctx)
{
    double n;
    int rc = parse_number_text(a[0], &n, ctx);
    return rc == BR_OK ? ok(out, val_num(n)) : rc;
}

static int bi_PARSE_INT(const Value *a, Value *out, BuiltinCtx *ctx)
{
    double n;
    int rc = parse_number_text(a[0], &n, ctx);
    if (rc != BR_OK)
        return rc;
    if (n != floor(n))
        return fail(ctx, "not a whole number");
    if (fabs(n) > 9007199254740992.0)
        return fail(ctx, "number out of range");
    return ok(out, val_num(n));
}

/* ASCII case-insensitive equality of sc with a lower-case word. */
static bool word_is(Scan sc, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(sc.end - sc.p) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = sc.p[i];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != word[i])
            return false;
    }
    return true;
}

static int bi_PARSE_BOOL(const Value *a, Value *out, BuiltinCtx *ctx)
{
    static const char *const words[] = {"true", "false", "1", "0", "yes", "no"};
    Scan sc = trimmed_scan(a[0]);
    for (int i = 0; i < 6; i++)
        if (word_is(sc, words[i]))
            return ok(out, val_bool(i % 2 == 0));
    return fail(ctx, "not a bool");
}

/* cJSON reads 1e999 as infinity, which JSON cannot express. */
static bool all_finite(const cJSON *j)
{
    if (cJSON_IsNumber(j))
        return isfinite(j->valuedouble);
    for (const cJSON *c = j->child; c; c = c->next)
        if (!all_finite(c))
            return false;
    return true;
}

static int bi_PARSE_JSON(const Value *a, Value *out, BuiltinCtx *ctx)
{
    Scan sc = trimmed_scan(a[0]);
    const char *end = NULL;
    size_t n = (size_t)(sc.end - sc.p);
    cJSON *j = n ? cJSON_ParseWithLengthOpts(sc.p, n, &end, 0) : NULL;
    arena_json(ctx->arena, j);
    if (!j || end != sc.end || !all_finite(j))
        return fail(ctx, "not valid JSON");
    return ok(out, val_from_json(j));
}

/* ---- tables and lists of objects */

static int bi_LOOKUP(const Value *a, Value *out, BuiltinCtx *ctx)
{
    char num[32];
    const char *key;
    if (a[0].k == V_STR)
        key = a[0].u.s.p;
    else if (a[0].k == V_NUM) {
        val_format_number(a[0].u.n, num);
        key = num;
    }
    else if (a[0].k == V_BOOL)
        key = a[0].u.b ? "true" : "false";
    else
        return type_error(ctx, "lookup needs a string, number or bool key");
    return ok(out, val_from_json(cJSON_GetObjectItemCaseSensitive(a[1].u.j, key)));
}

/* Does obj's member field equal v (null: a missing or null member)? */
static bool member_equals(const cJSON *obj, const char *field, Value v)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, field);
    switch (v.k) {
    case V_NULL:
        return !m || cJSON_IsNull(m);
    case V_STR:
        return cJSON_IsString(m) && m->valuestring && strlen(m->valuestring) == v.u.s.len &&
               memcmp(m->valuestring, v.u.s.p, v.u.s.len) == 0;
    case V_NUM:
        return cJSON_IsNumber(m) && m->valuedouble == v.u.n;
    case V_BOOL:
        return cJSON_IsBool(m) && (cJSON_IsTrue(m) != 0) == v.u.b;
    default:
        return false;
    }
}

/*
** The result holds references to the matching objects, so the arena's
** cJSON_Delete frees the new array and its reference nodes, never the
** objects (which belong to the record or another tree).
*/
static int bi_WHERE(const Value *a, Value *out, BuiltinCtx *ctx)
{
    Value v = a[2];
    if (v.k != V_NULL && v.k != V_STR && v.k != V_NUM && v.k != V_BOOL)
        return type_error(ctx, "where compares a field with a string, number, bool or null");
    cJSON *list = arena_node(ctx->arena, cJSON_CreateArray());
    const cJSON *e;
    cJSON_ArrayForEach(e, a[0].u.j) {
        if (cJSON_IsObject(e) && member_equals(e, a[1].u.s.p, v) &&
            !cJSON_AddItemReferenceToArray(list, (cJSON *)e))
            arena_oom();
    }
    return ok(out, val_from_json(list));
}

static int bi_LATEST_KEY(const Value *a, Value *out, BuiltinCtx *ctx)
{
    const cJSON *best = NULL, *m;
    (void)ctx;
    cJSON_ArrayForEach(m, a[0].u.j) {
        if (cJSON_IsNumber(m) && m->string && (!best || m->valuedouble > best->valuedouble))
            best = m;
    }
    return ok(out, best ? val_str(best->string, strlen(best->string)) : val_null());
}

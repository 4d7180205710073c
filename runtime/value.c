/*
** value: values read from JSON, the per-record arena, and the text forms
** of values (dates, datetimes, numbers, str() and json()).
*/
#include "value.h"
#include "jsonbuf.h"

#include <cJSON.h>
#include <float.h>
#include <locale.h>
#include <stdbool.h>
#include <math.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void arena_oom(void)
{
    fputs("maprun: out of memory\n", stderr);
    exit(3);
}

Value val_from_json(const cJSON *j)
{
    Value v = val_null();
    if (!j)
        return v;
    switch (j->type & 0xFF) {              /* cJSON_IsString and the others, without the calls */
    case cJSON_String: {
        const char *s = j->valuestring ? j->valuestring : "";
        return val_str(s, strlen(s));
    }
    case cJSON_Number: return val_num(j->valuedouble);
    case cJSON_False: return val_bool(false);
    case cJSON_True: return val_bool(true);
    case cJSON_Array: v.k = V_LIST; v.u.j = j; return v;
    case cJSON_Object: v.k = V_OBJ; v.u.j = j; return v;
    default: return v;
    }
}

/* ---- the arena */

/*
** Small requests are carved out of 64 KiB blocks; a request bigger than a
** quarter block gets a block of its own, freed at the next reset so that
** one huge record does not pin memory.  Reset keeps up to ARENA_KEEP
** ordinary blocks, so a stream of ordinary records mallocs nothing once
** the first few have been mapped.
*/
enum { ARENA_BLOCK = 64 * 1024, ARENA_BIG = ARENA_BLOCK / 4, ARENA_KEEP = 16 };

typedef struct Block {
    struct Block *next;
    size_t size;            /* bytes of data */
    size_t used;
    max_align_t data[];
} Block;

typedef struct JsonLink {
    struct JsonLink *next;
    cJSON *j;
} JsonLink;

struct Arena {
    Block *first;           /* the ordinary blocks, in the order they are filled */
    Block *cur;             /* the block being filled; those after it are empty */
    Block *big;             /* blocks of single big requests */
    JsonLink *json;         /* cJSON trees to delete at reset */
};

static Block *block_new(size_t size)
{
    Block *b = malloc(sizeof *b + size);
    if (!b)
        arena_oom();
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

static void blocks_free(Block *b)
{
    while (b) {
        Block *next = b->next;
        free(b);
        b = next;
    }
}

Arena *arena_new(void)
{
    Arena *a = malloc(sizeof *a);
    if (!a)
        arena_oom();
    a->first = a->cur = block_new(ARENA_BLOCK);
    a->big = NULL;
    a->json = NULL;
    return a;
}

/* Delete the tracked cJSON trees (their links live in the blocks, so first). */
static void json_release(Arena *a)
{
    for (JsonLink *l = a->json; l; l = l->next)
        cJSON_Delete(l->j);
    a->json = NULL;
}

void arena_reset(Arena *a)
{
    json_release(a);
    blocks_free(a->big);
    a->big = NULL;
    Block *b = a->first;
    for (int kept = 1; b; kept++) {
        b->used = 0;
        if (kept == ARENA_KEEP) {
            blocks_free(b->next);
            b->next = NULL;
        }
        b = b->next;
    }
    a->cur = a->first;
}

void arena_free(Arena *a)
{
    if (!a)
        return;
    json_release(a);
    blocks_free(a->big);
    blocks_free(a->first);
    free(a);
}

void *arena_alloc(Arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    if (n > SIZE_MAX - sizeof(Block) - align)
        arena_oom();
    n = n ? (n + align - 1) / align * align : align;
    if (n > ARENA_BIG) {
        Block *b = block_new(n);
        b->next = a->big;
        a->big = b;
        return b->data;
    }
    if (a->cur->used + n > a->cur->size) {
        if (!a->cur->next)
            a->cur->next = block_new(ARENA_BLOCK);
        a->cur = a->cur->next;
    }
    void *p = (char *)a->cur->data + a->cur->used;
    a->cur->used += n;
    return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

cJSON *arena_json(Arena *a, cJSON *j)
{
    if (!j)
        return NULL;
    JsonLink *l = arena_alloc(a, sizeof *l);
    l->j = j;
    l->next = a->json;
    a->json = l;
    return j;
}

/* ---- dates and numbers as text */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

/*
** Howard Hinnant's days_from_civil: count in 400-year eras that start on
** March 1st, so the leap day is the last day of an era's year.
*/
int64_t val_days_from_civil(int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = floor_div(year, 400);
    int64_t yoe = year - era * 400;
    int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int val_days_in_month(int64_t year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return days[month - 1] + (month == 2 && leap);
}

/* The inverse, civil_from_days; days is clamped so nothing overflows. */
static void civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    const int64_t lim = (int64_t)1 << 50;
    days = days < -lim ? -lim : days > lim ? lim : days;
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

/* yyyy-mm-dd; years before 0 as -yyyy, after 9999 with all their digits. */
/* n as exactly `width` digits (n >= 0 and fits), no terminator. */
static char *digits(char *p, long long n, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + n % 10);
        n /= 10;
    }
    return p + width;
}

/*
** yyyy-mm-dd without printf (staging formats millions of dates); years
** outside 0..9999 fall back to snprintf for their sign and extra digits.
*/
static int format_date(int64_t days, char *buf, size_t size)
{
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return snprintf(buf, size, "%s%04lld-%02d-%02d", y < 0 ? "-" : "", (long long)(y < 0 ? -y : y), m, d);
    char *p = digits(buf, y, 4);
    *p++ = '-';
    p = digits(p, m, 2);
    *p++ = '-';
    p = digits(p, d, 2);
    *p = '\0';
    return (int)(p - buf);
}

void val_format_date(int64_t days, char *buf)
{
    format_date(days, buf, 16);
}

int64_t val_days_of_ms(int64_t ms)
{
    return floor_div(ms, 86400000);
}

void val_format_datetime(int64_t ms, char *buf)
{
    int64_t days = val_days_of_ms(ms);
    int64_t rem = ms % 86400000;
    rem += rem < 0 ? 86400000 : 0;
    int n = format_date(days, buf, 32);
    if (n < 0 || n >= 32)
        return;
    char *p = buf + n;
    *p++ = 'T';
    p = digits(p, rem / 3600000, 2);
    *p++ = ':';
    p = digits(p, rem / 60000 % 60, 2);
    *p++ = ':';
    p = digits(p, rem / 1000 % 60, 2);
    *p++ = '.';
    p = digits(p, rem % 1000, 3);
    *p++ = 'Z';
    *p = '\0';
}

/*
** %.15g reads back exactly for every double with at most 15 significant
** digits (DBL_DIG), so trying 15, 16 and 17 digits finds the shortest
** round-trip form.  Never "-0"; a non-finite number (which cJSON can make
** out of "1e999") prints as null, as cJSON prints it.
*/
void val_format_number(double n, char *buf)
{
    if (!isfinite(n)) {
        strcpy(buf, "null");
        return;
    }
    if (n == 0) {
        strcpy(buf, "0");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, n);
        if (strtod(buf, NULL) == n)
            return;
    }
}

/* ---- str() and json() */

static Value text_of(const char *p)
{
    return val_str(p, strlen(p));
}

/* A scalar's text in a fresh 32-byte arena buffer. */
static Value scalar_text(Arena *a, Value v)
{
    char *buf = arena_alloc(a, 32);
    if (v.k == V_NUM)
        val_format_number(v.u.n, buf);
    else if (v.k == V_DATE)
        val_format_date(v.u.t, buf);
    else
        val_format_datetime(v.u.t, buf);
    return text_of(buf);
}

/*
** cJSON_PrintUnformatted's text, written without its allocations: a string
** escaped as cJSON's print_string_ptr does (jb_cjson_string), a number as
** print_number does.
*/
static bool cj_close(double a, double b)
{
    double max = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= max * DBL_EPSILON;
}

static void cj_number(JBuf *b, const cJSON *j)
{
    double d = j->valuedouble;
    char buf[32];
    if (isnan(d) || isinf(d)) {
        jb_raw(b, "null", 4);
    } else if (d == (double)j->valueint) {
        long long v = j->valueint;
        if (v < 0) {
            jb_raw(b, "-", 1);
            v = -v;
        }
        jb_ulong(b, (unsigned long long)v);
    } else {
        int n = snprintf(buf, sizeof buf, "%1.15g", d);
        if (!cj_close(strtod(buf, NULL), d))
            n = snprintf(buf, sizeof buf, "%1.17g", d);
        for (int i = 0; i < n; i++)          /* as cJSON: the locale's decimal point becomes '.' */
            if (buf[i] == *localeconv()->decimal_point)
                buf[i] = '.';
        jb_raw(b, buf, (size_t)n);
    }
}

static bool cj_value(JBuf *b, const cJSON *j)
{
    switch (j->type & 0xFF) {
    case cJSON_NULL: jb_raw(b, "null", 4); return true;
    case cJSON_False: jb_raw(b, "false", 5); return true;
    case cJSON_True: jb_raw(b, "true", 4); return true;
    case cJSON_Number: cj_number(b, j); return true;
    case cJSON_Raw:
        if (!j->valuestring)
            return false;
        jb_cstr(b, j->valuestring);
        return true;
    case cJSON_String: jb_cjson_string(b, j->valuestring); return true;
    case cJSON_Array:
        jb_raw(b, "[", 1);
        for (const cJSON *c = j->child; c; c = c->next) {
            if (!cj_value(b, c))
                return false;
            if (c->next)
                jb_raw(b, ",", 1);
        }
        jb_raw(b, "]", 1);
        return true;
    case cJSON_Object:
        jb_raw(b, "{", 1);
        for (const cJSON *c = j->child; c; c = c->next) {
            jb_cjson_string(b, c->string);
            jb_raw(b, ":", 1);
            if (!cj_value(b, c))
                return false;
            if (c->next)
                jb_raw(b, ",", 1);
        }
        jb_raw(b, "}", 1);
        return true;
    default:
        return false;
    }
}

/* cJSON's compact text of a list or object (as cJSON_PrintUnformatted), copied into the arena. */
static Value json_node_text(Arena *a, const cJSON *j)
{
    static JBuf b;                          /* reused: its memory stays */
    jb_reset(&b);
    if (!cj_value(&b, j))
        arena_oom();                        /* where cJSON_PrintUnformatted gives NULL */
    return val_str(arena_strndup(a, b.s, b.len), b.len);
}

Value val_to_str(Arena *a, Value v)
{
    switch (v.k) {
    case V_STR:
        return v;
    case V_BOOL:
        return text_of(v.u.b ? "true" : "false");
    case V_NUM: case V_DATE: case V_DATETIME:
        return scalar_text(a, v);
    case V_LIST: case V_OBJ:
        return json_node_text(a, v.u.j);
    case V_NULL: case V_REF:
        break;
    }
    return val_null();
}

/* The escape of byte c inside a JSON string (as cJSON writes it), or NULL. */
static const char *json_escape(unsigned char c, char buf[8])
{
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default:
        if (c >= 0x20)
            return NULL;
        snprintf(buf, 8, "\\u%04x", c);
        return buf;
    }
}

/* A string as a quoted JSON string: two passes, to size and to fill. */
static Value json_string(Arena *a, const char *s, size_t len)
{
    char esc[8];
    size_t n = 2;
    for (size_t i = 0; i < len; i++) {
        const char *e = json_escape((unsigned char)s[i], esc);
        n += e ? strlen(e) : 1;
    }
    char *out = arena_alloc(a, n + 1), *o = out;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        const char *e = json_escape((unsigned char)s[i], esc);
        if (e) {
            size_t k = strlen(e);
            memcpy(o, e, k);
            o += k;
        } else {
            *o++ = s[i];
        }
    }
    *o++ = '"';
    *o = '\0';
    return val_str(out, n);
}

Value val_to_json(Arena *a, Value v)
{
    switch (v.k) {
    case V_NULL:
        return text_of("null");
    case V_STR:
        return json_string(a, v.u.s.p, v.u.s.len);
    case V_DATE: case V_DATETIME: {
        Value t = scalar_text(a, v);
        return json_string(a, t.u.s.p, t.u.s.len);
    }
    case V_BOOL: case V_NUM: case V_LIST: case V_OBJ:
        return val_to_str(a, v);
    case V_REF:
        break;
    }
    return val_null();
}

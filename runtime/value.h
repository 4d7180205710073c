/*
** value: what the VM computes with.
**
** A Value is a small tagged union that never owns memory.  Strings point
** into the record being mapped (cJSON strings), into the plan's constant
** pool, or into the per-record Arena; lists and objects are cJSON nodes of
** the record, of the constant pool, or made in the Arena.  Everything a
** record's mapping allocates lives in the Arena and goes at arena_reset(),
** so memory stays flat however many records stream through.
*/
#ifndef MAPRUN_VALUE_H
#define MAPRUN_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cJSON cJSON;

typedef enum {
    V_NULL, V_BOOL, V_NUM, V_STR, V_DATE, V_DATETIME, V_LIST, V_OBJ, V_REF
} VKind;

typedef struct Value {
    VKind k;
    union {
        bool b;
        double n;
        struct {
            const char *p;      /* NUL-terminated UTF-8 */
            size_t len;         /* bytes, without the NUL */
        } s;
        int64_t t;              /* V_DATE: days since 1970-01-01; V_DATETIME: ms since the epoch, UTC */
        const cJSON *j;         /* V_LIST: a cJSON array; V_OBJ: a cJSON object */
        struct {
            uint32_t desc;      /* index of the ref descriptor in the plan */
            const char *key;    /* the key value, as text */
        } ref;
    } u;
} Value;

static inline Value val_null(void) { Value v; v.k = V_NULL; v.u.n = 0; return v; }
static inline Value val_bool(bool b) { Value v; v.k = V_BOOL; v.u.b = b; return v; }
static inline Value val_num(double n) { Value v; v.k = V_NUM; v.u.n = n; return v; }
static inline Value val_str(const char *p, size_t len) { Value v; v.k = V_STR; v.u.s.p = p; v.u.s.len = len; return v; }
static inline Value val_date(int64_t days) { Value v; v.k = V_DATE; v.u.t = days; return v; }
static inline Value val_datetime(int64_t ms) { Value v; v.k = V_DATETIME; v.u.t = ms; return v; }

/* A value read from JSON: strings, numbers, bools and null become scalars,
** arrays and objects stay cJSON nodes. */
Value val_from_json(const cJSON *j);

/* ---- the per-record arena */

typedef struct Arena Arena;

Arena *arena_new(void);
void arena_free(Arena *a);
/* Forget everything allocated since the last reset (keeps the blocks). */
void arena_reset(Arena *a);
/* Memory that lives until the next reset; never NULL. */
void *arena_alloc(Arena *a, size_t n);
/* A NUL-terminated copy of n bytes. */
char *arena_strndup(Arena *a, const char *s, size_t n);
/* Make the arena delete a cJSON tree at reset; returns it (NULL for NULL). */
cJSON *arena_json(Arena *a, cJSON *j);
/* Out of memory (also for cJSON's allocations): a message, then exit status 3. */
_Noreturn void arena_oom(void);
/* Value as a string in the arena (for a Value that is already V_STR, no copy):
** what str() gives.  Numbers in val_format_number's form, true/false,
** dates and datetimes in the val_format_* forms, lists and objects as
** compact JSON; null for V_NULL and V_REF. */
Value val_to_str(Arena *a, Value v);
/* Value as compact JSON text in the arena: what json() gives.  Dates and
** datetimes are JSON strings; null for V_REF (a ref has no JSON form). */
Value val_to_json(Arena *a, Value v);

/* ---- text forms shared by staging, export and tests */

/* yyyy-mm-dd for days since the epoch; buf holds at least 16 bytes. */
void val_format_date(int64_t days, char *buf);
/* yyyy-mm-ddThh:mm:ss.sssZ (Salesforce's form) for ms since the epoch; buf >= 32 bytes. */
void val_format_datetime(int64_t ms, char *buf);
/* Shortest text that reads back as the same double ("3", "0.1", "1e+21"); buf >= 32 bytes. */
void val_format_number(double n, char *buf);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31). */
int64_t val_days_from_civil(int64_t year, int month, int day);
/* Days in a month of a proleptic Gregorian year. */
int val_days_in_month(int64_t year, int month);
/* The UTC date (days since the epoch) of ms since the epoch, rounding down. */
int64_t val_days_of_ms(int64_t ms);

#endif

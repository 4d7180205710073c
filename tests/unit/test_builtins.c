/*
** test_builtins: unit tests of runtime/builtins.c, value.c, utf8.c and
** sha256.c.
**
** Most builtin cases are rows of a table: the builtin, the expected return
** code, the expected result (or the `why` of a failure) and the arguments,
** all written as text:
**     s:TEXT  a string          n:NUMBER  a number      b:true / b:false
**     d:YYYY-MM-DD  a date      t:MS      a datetime    null
**     j:JSON  parsed JSON (lists, objects, or any JSON value)
**     r:KEY   a ref (which no builtin takes)
** A result is written the same way, with dates and datetimes in their
** text forms and lists and objects as compact JSON.  Cases that need big
** or generated inputs are functions of their own.  Prints one line per
** failed check and "N passed, N failed"; exits 1 when a check failed.
*/
#include "builtins.h"
#include "unit.h"
#include "sha256.h"
#include "utf8.h"
#include "value.h"

#include <cJSON.h>

#include <float.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static Arena *ar;


/* ---- values as text */

/* A value from the notation above; JSON is parsed into the arena. */
static Value arg(const char *t)
{
    Value v = val_null();
    if (strncmp(t, "s:", 2) == 0)
        return val_str(t + 2, strlen(t + 2));
    if (strncmp(t, "n:", 2) == 0)
        return val_num(strtod(t + 2, NULL));
    if (strncmp(t, "b:", 2) == 0)
        return val_bool(strcmp(t + 2, "true") == 0);
    if (strncmp(t, "t:", 2) == 0)
        return val_datetime(strtoll(t + 2, NULL, 10));
    if (strncmp(t, "d:", 2) == 0) {
        int y, m, d;
        sscanf(t + 2, "%d-%d-%d", &y, &m, &d);
        return val_date(val_days_from_civil(y, m, d));
    }
    if (strncmp(t, "j:", 2) == 0) {
        cJSON *j = arena_json(ar, cJSON_Parse(t + 2));
        if (!j) {
            printf("bad JSON in a test: %s\n", t + 2);
            exit(2);
        }
        return val_from_json(j);
    }
    if (strncmp(t, "r:", 2) == 0) {
        v.k = V_REF;
        v.u.ref.desc = 0;
        v.u.ref.key = t + 2;
    }
    return v;
}

/* The notation of a value, in a static buffer. */
static const char *show(Value v)
{
    static char buf[4096];
    char tmp[32];
    switch (v.k) {
    case V_NULL: return "null";
    case V_BOOL: return v.u.b ? "b:true" : "b:false";
    case V_NUM: val_format_number(v.u.n, tmp); snprintf(buf, sizeof buf, "n:%s", tmp); break;
    case V_STR: snprintf(buf, sizeof buf, "s:%s", v.u.s.p); break;
    case V_DATE: val_format_date(v.u.t, tmp); snprintf(buf, sizeof buf, "d:%s", tmp); break;
    case V_DATETIME: val_format_datetime(v.u.t, tmp); snprintf(buf, sizeof buf, "t:%s", tmp); break;
    case V_LIST: case V_OBJ: {
        char *p = cJSON_PrintUnformatted((cJSON *)v.u.j);
        snprintf(buf, sizeof buf, "j:%s", p);
        cJSON_free(p);
        break;
    }
    case V_REF: snprintf(buf, sizeof buf, "r:%s", v.u.ref.key); break;
    }
    return buf;
}

/* ---- the table */

typedef struct Case {
    int line;
    RtBuiltinId id;
    int rc;
    const char *expect;     /* the result, or for BR_FAIL / BR_TYPE the why */
    const char *args[3];
} Case;

#define OK(id, expect, ...) {__LINE__, RB_##id, BR_OK, expect, {__VA_ARGS__}}
#define FAILS(id, why, ...) {__LINE__, RB_##id, BR_FAIL, why, {__VA_ARGS__}}
#define TYPE(id, why, ...) {__LINE__, RB_##id, BR_TYPE, why, {__VA_ARGS__}}

static const Case cases[] = {
    /* lower, upper: ASCII, Latin-1, Latin Extended-A/B/Additional, Greek, Cyrillic */
    OK(LOWER, "s:àbc déjà", "s:ÀBC DÉJÀ"),
    OK(LOWER, "s:hello, world 42", "s:HELLO, World 42"),
    OK(LOWER, "s:", "s:"),
    OK(LOWER, "s:łódź", "s:ŁÓDŹ"),
    OK(LOWER, "s:istanbul", "s:İSTANBUL"),
    OK(LOWER, "s:αθηνα άέήίόύώ", "s:ΑΘΗΝΑ ΆΈΉΊΌΎΏ"),
    OK(LOWER, "s:москва ёж", "s:МОСКВА ЁЖ"),
    OK(LOWER, "s:nguyễn", "s:NGUYỄN"),
    OK(LOWER, "s:ß", "s:ẞ"),
    OK(LOWER, "s:ÿ", "s:Ÿ"),
    OK(LOWER, "s:straße ×÷", "s:Straße ×÷"),
    OK(LOWER, "s:șțǎ", "s:ȘȚǍ"),
    OK(LOWER, "s:😀abc 漢字", "s:😀ABC 漢字"),
    OK(LOWER, "s:\xff" "abc\xc3", "s:\xff" "ABC\xc3"),
    OK(LOWER, "s:\xc0\x81" "a\xed\xa0\x80" "b", "s:\xc0\x81" "A\xed\xa0\x80" "B"),
    OK(LOWER, "s:ａｂｃ", "s:ＡＢＣ"),
    OK(UPPER, "s:STRAßE", "s:straße"),
    OK(UPPER, "s:DÉJÀ VU", "s:déjà vu"),
    OK(UPPER, "s:I S Σ Ÿ", "s:ı ſ ς ÿ"),
    OK(UPPER, "s:ŁÓDŹ ĲĸŉŊ", "s:łódź ĳĸŉŋ"),
    OK(UPPER, "s:ΑΘΗΝΑ ΆΈΉΊΌΎΏ ΪΫ", "s:αθηνα άέήίόύώ ϊϋ"),
    OK(UPPER, "s:МОСКВА ЁЖ ЂЏ", "s:москва ёж ђџ"),
    OK(UPPER, "s:µ 1-2_Z", "s:µ 1-2_z"),
    OK(UPPER, "s:ԱՐԱՄ", "s:արամ"),
    OK(UPPER, "s:", "s:"),
    OK(UPPER, "s:\xe2\x82", "s:\xe2\x82"),
    TYPE(LOWER, "lower needs a string", "n:3"),
    TYPE(UPPER, "upper needs a string", "j:[\"a\"]"),

    /* trim */
    OK(TRIM, "s:a b", "s:  a b  "),
    OK(TRIM, "s:x", "s:\t\n\r\v\f x \xc2\xa0"),
    OK(TRIM, "s:abc", "s:\xef\xbb\xbf" "abc"),
    OK(TRIM, "s:", "s:"),
    OK(TRIM, "s:", "s: \t \xc2\xa0 "),
    OK(TRIM, "s:\xe2\x80\x83x\xe2\x80\x83", "s:\xe2\x80\x83x\xe2\x80\x83"),
    OK(TRIM, "s:a\xc2", "s: a\xc2"),
    TYPE(TRIM, "trim needs a string", "b:true"),

    /* title_case */
    OK(TITLE_CASE, "s:Ann-Marie O'neil", "s:ann-marie o'neil"),
    OK(TITLE_CASE, "s:John Smith", "s:JOHN SMITH"),
    OK(TITLE_CASE, "s:Jean.Luc_Picard", "s:jean.luc_picard"),
    OK(TITLE_CASE, "s:Élodie Durand", "s:élodie DURAND"),
    OK(TITLE_CASE, "s:(Ann) 1st \"Bob\"", "s:(ann) 1ST \"bob\""),
    OK(TITLE_CASE, "s:  X", "s:  x"),
    OK(TITLE_CASE, "s:A\xc2\xa0" "B", "s:a\xc2\xa0" "b"),
    OK(TITLE_CASE, "s:Æsir Łukasz Ωmega", "s:ÆSIR łUKASZ ωMEGA"),
    OK(TITLE_CASE, "s:", "s:"),
    OK(TITLE_CASE, "s:\xff" "Ab", "s:\xff" "ab"),
    TYPE(TITLE_CASE, "title_case needs a string", "d:2024-01-01"),

    /* nonempty */
    OK(NONEMPTY, "null", "s:"),
    OK(NONEMPTY, "null", "s:  \t\n"),
    OK(NONEMPTY, "null", "s:\xc2\xa0\xef\xbb\xbf"),
    OK(NONEMPTY, "s: a ", "s: a "),
    OK(NONEMPTY, "s:x", "s:x"),
    TYPE(NONEMPTY, "nonempty needs a string", "n:0"),

    /* truncate, fits */
    OK(TRUNCATE, "s:hel", "s:hello", "n:3"),
    OK(TRUNCATE, "s:hé", "s:héllo", "n:2"),
    OK(TRUNCATE, "s:", "s:héllo", "n:0"),
    OK(TRUNCATE, "s:abc", "s:abc", "n:5"),
    OK(TRUNCATE, "s:abc", "s:abc", "n:3"),
    OK(TRUNCATE, "s:😀😀", "s:😀😀😀", "n:2"),
    OK(TRUNCATE, "s:", "s:", "n:3"),
    OK(TRUNCATE, "s:\xff\xfe" "a", "s:\xff\xfe" "ab", "n:3"),
    OK(TRUNCATE, "s:ab", "s:ab", "n:9007199254740992"),
    TYPE(TRUNCATE, "truncate needs a whole number of characters", "s:abc", "n:1.5"),
    TYPE(TRUNCATE, "truncate needs a whole number of characters", "s:abc", "n:-1"),
    TYPE(TRUNCATE, "truncate needs a whole number of characters", "s:abc", "n:1e300"),
    TYPE(TRUNCATE, "truncate needs a whole number of characters", "s:abc", "s:3"),
    TYPE(TRUNCATE, "truncate needs a string", "n:123", "n:2"),
    OK(FITS, "s:abc", "s:abc", "n:3"),
    OK(FITS, "s:ééé", "s:ééé", "n:3"),
    OK(FITS, "s:", "s:", "n:0"),
    FAILS(FITS, "longer than the allowed number of characters", "s:abcd", "n:3"),
    FAILS(FITS, "longer than the allowed number of characters", "s:a", "n:0"),
    TYPE(FITS, "fits needs a whole number of characters", "s:a", "n:0.5"),
    TYPE(FITS, "fits needs a string", "j:{}", "n:5"),

    /* email_domain, local_part */
    OK(EMAIL_DOMAIN, "s:acme.com", "s:ann@Acme.COM"),
    OK(EMAIL_DOMAIN, "s:c.org", "s:a@b@c.org"),
    OK(EMAIL_DOMAIN, "s:acme.com", "s:ann@ acme.com \t"),
    OK(EMAIL_DOMAIN, "s:x.io", "s:@x.io"),
    OK(EMAIL_DOMAIN, "s:bücher.de", "s:ann@BÜCHER.de"),
    OK(EMAIL_DOMAIN, "null", "s:no at sign"),
    OK(EMAIL_DOMAIN, "null", "s:ann@"),
    OK(EMAIL_DOMAIN, "null", "s:ann@  "),
    OK(EMAIL_DOMAIN, "null", "s:"),
    TYPE(EMAIL_DOMAIN, "email_domain needs a string", "n:1"),
    OK(LOCAL_PART, "s:ann", "s:ann@acme.com"),
    OK(LOCAL_PART, "s:Ann.Lee+tag", "s: Ann.Lee+tag@x"),
    OK(LOCAL_PART, "s:a@b", "s:a@b@c"),
    OK(LOCAL_PART, "s:ann", "s:ann@"),
    OK(LOCAL_PART, "null", "s:@acme.com"),
    OK(LOCAL_PART, "null", "s:  @acme.com"),
    OK(LOCAL_PART, "null", "s:no at sign"),
    OK(LOCAL_PART, "null", "s:"),
    TYPE(LOCAL_PART, "local_part needs a string", "b:false"),

    /* domain_label */
    OK(DOMAIN_LABEL, "s:acme", "s:ann@mail.acme.co.uk"),
    OK(DOMAIN_LABEL, "s:acme", "s:acme.co.uk"),
    OK(DOMAIN_LABEL, "s:acme", "s:acme.com.au"),
    OK(DOMAIN_LABEL, "s:acme", "s:acme.io"),
    OK(DOMAIN_LABEL, "s:acme", "s:www.acme.com"),
    OK(DOMAIN_LABEL, "s:acme", "s:WWW.ACME.COM"),
    OK(DOMAIN_LABEL, "s:acme", "s:Ann <x>@Acme.com "),
    OK(DOMAIN_LABEL, "s:acme", "s:acme.com."),
    OK(DOMAIN_LABEL, "s:acme", "s:x.acme.org"),
    OK(DOMAIN_LABEL, "s:acme", "s:mail.acme.ne.jp"),
    OK(DOMAIN_LABEL, "s:acme", "s:acme.or.jp"),
    OK(DOMAIN_LABEL, "s:acme", "s:acme.ac.uk"),
    OK(DOMAIN_LABEL, "s:acme", "s:www.acme.gov.uk"),
    OK(DOMAIN_LABEL, "s:acme", "s:acme.co"),
    OK(DOMAIN_LABEL, "s:www", "s:www.com"),
    OK(DOMAIN_LABEL, "s:bücher", "s:BÜCHER.de"),
    OK(DOMAIN_LABEL, "null", "s:localhost"),
    OK(DOMAIN_LABEL, "null", "s:co.uk"),
    OK(DOMAIN_LABEL, "null", "s:.com"),
    OK(DOMAIN_LABEL, "null", "s:acme..com"),
    OK(DOMAIN_LABEL, "null", "s:."),
    OK(DOMAIN_LABEL, "null", "s:"),
    OK(DOMAIN_LABEL, "null", "s:ann@"),
    OK(DOMAIN_LABEL, "null", "s:  "),
    TYPE(DOMAIN_LABEL, "domain_label needs a string", "j:[]"),

    /* replace */
    OK(REPLACE, "s:abc", "s:a-b-c", "s:-", "s:"),
    OK(REPLACE, "s:ba", "s:aaa", "s:aa", "s:b"),
    OK(REPLACE, "s:abc", "s:abc", "s:", "s:x"),
    OK(REPLACE, "s:abc", "s:abc", "s:x", "s:y"),
    OK(REPLACE, "s:a  b  c", "s:a b c", "s: ", "s:  "),
    OK(REPLACE, "s:", "s:", "s:a", "s:b"),
    OK(REPLACE, "s:eee", "s:ééé", "s:é", "s:e"),
    OK(REPLACE, "s:", "s:abcabc", "s:abc", "s:"),
    OK(REPLACE, "s:xxaxx", "s:xax", "s:x", "s:xx"),
    OK(REPLACE, "s:abc", "s:abc", "s:abcd", "s:x"),
    OK(REPLACE, "s:+1 555 0100", "s:+1-555-0100", "s:-", "s: "),
    TYPE(REPLACE, "replace needs a string", "s:a", "n:1", "s:b"),
    TYPE(REPLACE, "replace needs a string", "s:a", "s:b", "b:true"),

    /* split_text */
    OK(SPLIT_TEXT, "j:[\"a\",\"b\",\"\",\"c\"]", "s:a,b,,c", "s:,"),
    OK(SPLIT_TEXT, "j:[\"a\",\"b\",\"c\"]", "s:abc", "s:"),
    OK(SPLIT_TEXT, "j:[\"h\",\"é\",\"😀\",\"o\"]", "s:hé😀o", "s:"),
    OK(SPLIT_TEXT, "j:[\"\"]", "s:", "s:,"),
    OK(SPLIT_TEXT, "j:[]", "s:", "s:"),
    OK(SPLIT_TEXT, "j:[\"a\",\"b\"]", "s:a, b", "s:, "),
    OK(SPLIT_TEXT, "j:[\"\",\"\"]", "s:abc", "s:abc"),
    OK(SPLIT_TEXT, "j:[\"\",\"\"]", "s:,", "s:,"),
    OK(SPLIT_TEXT, "j:[\"a,b\"]", "s:a,b", "s:;"),
    OK(SPLIT_TEXT, "j:[\"a\",\"a\"]", "s:aXYZa", "s:XYZ"),
    TYPE(SPLIT_TEXT, "split_text needs a string", "j:[\"a\"]", "s:,"),

    /* join */
    OK(JOIN, "s:a, b", "j:[\"a\",\"b\"]", "s:, "),
    OK(JOIN, "s:1|2.5|true|x|false", "j:[1,2.5,true,null,\"x\",false]", "s:|"),
    OK(JOIN, "s:", "j:[]", "s:,"),
    OK(JOIN, "s:", "j:[null,null]", "s:,"),
    OK(JOIN, "s:ab", "j:[\"a\",\"b\"]", "s:"),
    OK(JOIN, "s:1e+21,0,0.1", "j:[1e21,-0.0,0.1]", "s:,"),
    OK(JOIN, "s:x", "j:[null,\"x\",null]", "s:, "),
    TYPE(JOIN, "join needs a list of strings, numbers or bools", "j:[1,[2]]", "s:,"),
    TYPE(JOIN, "join needs a list of strings, numbers or bools", "j:[{}]", "s:,"),
    TYPE(JOIN, "join needs a list", "s:abc", "s:,"),
    TYPE(JOIN, "join needs a list", "j:{\"a\":\"b\"}", "s:,"),

    /* len */
    OK(LEN, "n:5", "s:héllo"),
    OK(LEN, "n:0", "s:"),
    OK(LEN, "n:1", "s:😀"),
    OK(LEN, "n:3", "j:[1,[2,3],null]"),
    OK(LEN, "n:0", "j:[]"),
    OK(LEN, "n:2", "j:{\"a\":1,\"b\":{\"c\":2}}"),
    OK(LEN, "n:0", "j:{}"),
    TYPE(LEN, "len needs a string, list or object", "n:3"),
    TYPE(LEN, "len needs a string, list or object", "b:true"),
    TYPE(LEN, "len needs a string, list or object", "d:2024-01-01"),

    /* str */
    OK(STR, "s:x y", "s:x y"),
    OK(STR, "s:3", "n:3"),
    OK(STR, "s:0.1", "n:0.1"),
    OK(STR, "s:0", "n:-0"),
    OK(STR, "s:-2.5", "n:-2.5"),
    OK(STR, "s:1e+21", "n:1e21"),
    OK(STR, "s:123456789012", "n:123456789012"),
    OK(STR, "s:true", "b:true"),
    OK(STR, "s:false", "b:false"),
    OK(STR, "s:1970-01-01", "d:1970-01-01"),
    OK(STR, "s:2000-02-29", "d:2000-02-29"),
    OK(STR, "s:1970-01-01T00:00:00.000Z", "t:0"),
    OK(STR, "s:2023-11-14T22:13:20.123Z", "t:1700000000123"),
    OK(STR, "s:[1,\"a\",null]", "j:[1, \"a\", null]"),
    OK(STR, "s:{\"a\":{\"b\":[]}}", "j:{ \"a\" : { \"b\" : [ ] } }"),
    TYPE(STR, "str cannot take a ref", "r:K1"),

    /* unix_datetime, unix_date, date_of */
    OK(UNIX_DATETIME, "t:1970-01-01T00:00:00.000Z", "n:0"),
    OK(UNIX_DATETIME, "t:2023-11-14T22:13:20.000Z", "n:1700000000"),
    OK(UNIX_DATETIME, "t:1970-01-01T00:00:01.250Z", "n:1.25"),
    OK(UNIX_DATETIME, "t:1970-01-01T00:00:00.002Z", "n:0.0016"),
    OK(UNIX_DATETIME, "t:1970-01-01T00:00:00.001Z", "n:0.0014999"),
    OK(UNIX_DATETIME, "t:1969-12-31T23:59:58.500Z", "n:-1.5"),
    OK(UNIX_DATETIME, "t:1969-12-31T23:59:59.999Z", "n:-0.001"),
    OK(UNIX_DATETIME, "t:9999-12-31T23:59:59.000Z", "n:253402300799"),
    OK(UNIX_DATETIME, "t:0000-01-01T00:00:00.000Z", "n:-62167219200"),
    OK(UNIX_DATETIME, "t:2000-02-29T00:00:00.000Z", "n:951782400"),
    TYPE(UNIX_DATETIME, "unix_datetime: seconds out of range (years 0000 to 9999)", "n:253402300800"),
    TYPE(UNIX_DATETIME, "unix_datetime: seconds out of range (years 0000 to 9999)", "n:-62167219201"),
    TYPE(UNIX_DATETIME, "unix_datetime: seconds out of range (years 0000 to 9999)", "n:1e300"),
    TYPE(UNIX_DATETIME, "unix_datetime: seconds out of range (years 0000 to 9999)", "n:1700000000000"),
    TYPE(UNIX_DATETIME, "unix_datetime needs a number", "s:1700000000"),
    OK(UNIX_DATE, "d:1970-01-01", "n:0"),
    OK(UNIX_DATE, "d:1970-01-01", "n:86399.999"),
    OK(UNIX_DATE, "d:1970-01-02", "n:86400"),
    OK(UNIX_DATE, "d:1969-12-31", "n:-0.5"),
    OK(UNIX_DATE, "d:1969-12-31", "n:-86400"),
    OK(UNIX_DATE, "d:1969-12-30", "n:-86400.5"),
    OK(UNIX_DATE, "d:2000-02-29", "n:951782400"),
    OK(UNIX_DATE, "d:9999-12-31", "n:253402300799.9"),
    OK(UNIX_DATE, "d:0000-01-01", "n:-62167219200"),
    TYPE(UNIX_DATE, "unix_date: seconds out of range (years 0000 to 9999)", "n:253402300800"),
    TYPE(UNIX_DATE, "unix_date: seconds out of range (years 0000 to 9999)", "n:-62167219200.5"),
    TYPE(UNIX_DATE, "unix_date: seconds out of range (years 0000 to 9999)", "n:-1e300"),
    TYPE(UNIX_DATE, "unix_date needs a number", "b:true"),
    OK(DATE_OF, "d:1970-01-01", "t:0"),
    OK(DATE_OF, "d:1970-01-01", "t:86399999"),
    OK(DATE_OF, "d:1970-01-02", "t:86400000"),
    OK(DATE_OF, "d:1969-12-31", "t:-1"),
    OK(DATE_OF, "d:1969-12-31", "t:-86400000"),
    OK(DATE_OF, "d:1969-12-30", "t:-86400001"),
    OK(DATE_OF, "d:2000-03-01", "t:951868800000"),
    TYPE(DATE_OF, "date_of needs a datetime", "d:2024-01-01"),
    TYPE(DATE_OF, "date_of needs a datetime", "n:0"),

    /* parse_datetime */
    OK(PARSE_DATETIME, "t:2024-01-15T00:00:00.000Z", "s:2024-01-15"),
    OK(PARSE_DATETIME, "t:2024-01-15T10:30:00.000Z", "s:2024-01-15T10:30"),
    OK(PARSE_DATETIME, "t:2024-01-15T10:30:45.000Z", "s:2024-01-15T10:30:45"),
    OK(PARSE_DATETIME, "t:2024-01-15T10:30:45.123Z", "s:2024-01-15 10:30:45.123Z"),
    OK(PARSE_DATETIME, "t:2024-01-15T10:30:45.100Z", "s:2024-01-15T10:30:45.1"),
    OK(PARSE_DATETIME, "t:2024-01-15T10:30:45.120Z", "s:2024-01-15T10:30:45.12Z"),
    OK(PARSE_DATETIME, "t:2024-01-15T10:30:45.123Z", "s:2024-01-15T10:30:45.123999999"),
    OK(PARSE_DATETIME, "t:2024-01-15T08:30:45.000Z", "s:2024-01-15T10:30:45+02:00"),
    OK(PARSE_DATETIME, "t:2024-01-15T07:00:00.000Z", "s:2024-01-15T01:30-05:30"),
    OK(PARSE_DATETIME, "t:2024-01-16T00:30:00.000Z", "s:2024-01-15T23:30:00-0100"),
    OK(PARSE_DATETIME, "t:2024-01-15T05:00:45.123Z", "s:2024-01-15T10:30:45.123+0530"),
    OK(PARSE_DATETIME, "t:2023-12-31T23:00:00.000Z", "s:2024-01-01T00:00+01:00"),
    OK(PARSE_DATETIME, "t:2024-01-15T10:30:00.000Z", "s:  2024-01-15T10:30Z \n"),
    OK(PARSE_DATETIME, "t:2024-01-15T10:30:00.000Z", "s:2024-01-15t10:30z"),
    OK(PARSE_DATETIME, "t:2023-11-14T22:13:20.000Z", "s:1700000000"),
    OK(PARSE_DATETIME, "t:2023-11-14T22:13:20.000Z", "s: 1700000000\xc2\xa0"),
    OK(PARSE_DATETIME, "t:1969-12-31T00:00:00.000Z", "s:-86400"),
    OK(PARSE_DATETIME, "t:1970-01-01T00:00:00.000Z", "s:0"),
    OK(PARSE_DATETIME, "t:2024-02-29T00:00:00.000Z", "s:2024-02-29"),
    OK(PARSE_DATETIME, "t:2000-02-29T00:00:00.000Z", "s:2000-02-29"),
    OK(PARSE_DATETIME, "t:1600-02-29T12:00:00.000Z", "s:1600-02-29T12:00"),
    OK(PARSE_DATETIME, "t:0000-01-01T00:00:00.000Z", "s:0000-01-01"),
    OK(PARSE_DATETIME, "t:-0001-12-31T23:00:00.000Z", "s:0000-01-01T00:00+01:00"),
    OK(PARSE_DATETIME, "t:9999-12-31T23:59:59.999Z", "s:9999-12-31T23:59:59.999Z"),
    OK(PARSE_DATETIME, "t:2024-06-30T23:59:59.000Z", "s:2024-06-30T23:59:59"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2023-02-29"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:1900-02-29"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-13-01"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-00-10"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-04-31"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-00"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T24:00"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T23:60"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-06-30T23:59:60"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T10"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T10:3"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-1-15"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:24-01-15"),
    OK(PARSE_DATETIME, "t:1970-08-23T06:15:15.000Z", "s:20240115"),     /* digits are unix seconds */
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T10:30:45."),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T10:30:45.1234567890"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T10:30:45,123"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T10:30.5"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15Z"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T10:30+02"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T10:30+2:00"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T10:30:45+24:00"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T10:30:45+02:60"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15T10:30:45Z junk"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:2024-01-15  10:30"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:   "),
    FAILS(PARSE_DATETIME, "not a datetime", "s:yesterday"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:-"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:1.5"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:+1700000000"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:1700000000000"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:99999999999999999999999999"),
    FAILS(PARSE_DATETIME, "not a datetime", "s:-62167219201"),
    TYPE(PARSE_DATETIME, "parse_datetime needs a string", "n:1700000000"),

    /* parse_date */
    OK(PARSE_DATE, "d:2024-01-15", "s:2024-01-15"),
    OK(PARSE_DATE, "d:2024-01-15", "s: 2024-01-15 "),
    OK(PARSE_DATE, "d:2024-01-16", "s:2024-01-15T23:30:00-05:00"),
    OK(PARSE_DATE, "d:2024-01-14", "s:2024-01-15T00:30+01:00"),
    OK(PARSE_DATE, "d:2023-11-14", "s:1700000000"),
    OK(PARSE_DATE, "d:1969-12-31", "s:-1"),
    OK(PARSE_DATE, "d:2000-02-29", "s:2000-02-29"),
    FAILS(PARSE_DATE, "not a date", "s:2024-02-30"),
    FAILS(PARSE_DATE, "not a date", "s:15/01/2024"),
    FAILS(PARSE_DATE, "not a date", "s:"),
    TYPE(PARSE_DATE, "parse_date needs a string", "t:0"),

    /* parse_number, parse_int */
    OK(PARSE_NUMBER, "n:3", "s:3"),
    OK(PARSE_NUMBER, "n:-1500", "s: -1.5e3 "),
    OK(PARSE_NUMBER, "n:0", "s:0"),
    OK(PARSE_NUMBER, "n:0", "s:-0"),
    OK(PARSE_NUMBER, "n:0.5", "s:0.5"),
    OK(PARSE_NUMBER, "n:100", "s:1E2"),
    OK(PARSE_NUMBER, "n:100", "s:1e+2"),
    OK(PARSE_NUMBER, "n:0.01", "s:1e-2"),
    OK(PARSE_NUMBER, "n:12", "s:\xc2\xa0" "12\t"),
    OK(PARSE_NUMBER, "n:0", "s:1e-400"),
    OK(PARSE_NUMBER, "n:1.7976931348623157e+308", "s:1.7976931348623157e308"),
    OK(PARSE_NUMBER, "n:0.1", "s:0.1000000000000000000000000001"),
    FAILS(PARSE_NUMBER, "not a number", "s:01"),
    FAILS(PARSE_NUMBER, "not a number", "s:+1"),
    FAILS(PARSE_NUMBER, "not a number", "s:.5"),
    FAILS(PARSE_NUMBER, "not a number", "s:5."),
    FAILS(PARSE_NUMBER, "not a number", "s:0x10"),
    FAILS(PARSE_NUMBER, "not a number", "s:inf"),
    FAILS(PARSE_NUMBER, "not a number", "s:-Infinity"),
    FAILS(PARSE_NUMBER, "not a number", "s:nan"),
    FAILS(PARSE_NUMBER, "not a number", "s:"),
    FAILS(PARSE_NUMBER, "not a number", "s: "),
    FAILS(PARSE_NUMBER, "not a number", "s:1 2"),
    FAILS(PARSE_NUMBER, "not a number", "s:1e"),
    FAILS(PARSE_NUMBER, "not a number", "s:1e+"),
    FAILS(PARSE_NUMBER, "not a number", "s:--1"),
    FAILS(PARSE_NUMBER, "not a number", "s:-"),
    FAILS(PARSE_NUMBER, "not a number", "s:12abc"),
    FAILS(PARSE_NUMBER, "not a number", "s:1,5"),
    FAILS(PARSE_NUMBER, "not a number", "s:١٢"),
    FAILS(PARSE_NUMBER, "number out of range", "s:1e400"),
    FAILS(PARSE_NUMBER, "number out of range", "s:-1e309"),
    TYPE(PARSE_NUMBER, "parse_number needs a string", "n:3"),
    OK(PARSE_INT, "n:42", "s:42"),
    OK(PARSE_INT, "n:-5", "s: -5 "),
    OK(PARSE_INT, "n:3", "s:3.0"),
    OK(PARSE_INT, "n:1000", "s:1e3"),
    OK(PARSE_INT, "n:0", "s:-0"),
    OK(PARSE_INT, "n:9007199254740992", "s:9007199254740992"),
    OK(PARSE_INT, "n:-9007199254740992", "s:-9007199254740992"),
    FAILS(PARSE_INT, "not a whole number", "s:3.5"),
    FAILS(PARSE_INT, "not a whole number", "s:1e-3"),
    FAILS(PARSE_INT, "number out of range", "s:9007199254740994"),
    FAILS(PARSE_INT, "number out of range", "s:1e300"),
    FAILS(PARSE_INT, "number out of range", "s:-9007199254740994"),
    FAILS(PARSE_INT, "not a number", "s:abc"),
    FAILS(PARSE_INT, "not a number", "s:0x1F"),
    FAILS(PARSE_INT, "number out of range", "s:1e400"),
    TYPE(PARSE_INT, "parse_int needs a string", "b:true"),

    /* parse_bool */
    OK(PARSE_BOOL, "b:true", "s:true"),
    OK(PARSE_BOOL, "b:true", "s:TRUE"),
    OK(PARSE_BOOL, "b:true", "s: Yes "),
    OK(PARSE_BOOL, "b:true", "s:1"),
    OK(PARSE_BOOL, "b:false", "s:0"),
    OK(PARSE_BOOL, "b:false", "s:no"),
    OK(PARSE_BOOL, "b:false", "s:False"),
    OK(PARSE_BOOL, "b:false", "s:NO\n"),
    FAILS(PARSE_BOOL, "not a bool", "s:y"),
    FAILS(PARSE_BOOL, "not a bool", "s:"),
    FAILS(PARSE_BOOL, "not a bool", "s:2"),
    FAILS(PARSE_BOOL, "not a bool", "s:truee"),
    FAILS(PARSE_BOOL, "not a bool", "s:on"),
    FAILS(PARSE_BOOL, "not a bool", "s:01"),
    FAILS(PARSE_BOOL, "not a bool", "s:t rue"),
    TYPE(PARSE_BOOL, "parse_bool needs a string", "b:true"),

    /* parse_json */
    OK(PARSE_JSON, "j:{\"a\":[1,2]}", "s:{\"a\": [1, 2]}"),
    OK(PARSE_JSON, "n:3", "s:3"),
    OK(PARSE_JSON, "s:x", "s:\"x\""),
    OK(PARSE_JSON, "null", "s:null"),
    OK(PARSE_JSON, "b:true", "s:true"),
    OK(PARSE_JSON, "j:[1]", "s:  [1] \n"),
    OK(PARSE_JSON, "j:{}", "s:\xef\xbb\xbf{}"),
    OK(PARSE_JSON, "s:é\n", "s:\"\\u00e9\\n\""),
    OK(PARSE_JSON, "n:0", "s:-0"),
    FAILS(PARSE_JSON, "not valid JSON", "s:[1] x"),
    FAILS(PARSE_JSON, "not valid JSON", "s:[1][2]"),
    FAILS(PARSE_JSON, "not valid JSON", "s:"),
    FAILS(PARSE_JSON, "not valid JSON", "s:  "),
    FAILS(PARSE_JSON, "not valid JSON", "s:{"),
    FAILS(PARSE_JSON, "not valid JSON", "s:[1,]"),
    FAILS(PARSE_JSON, "not valid JSON", "s:{'a':1}"),
    FAILS(PARSE_JSON, "not valid JSON", "s:1e999"),
    FAILS(PARSE_JSON, "not valid JSON", "s:{\"a\":[1e999]}"),
    FAILS(PARSE_JSON, "not valid JSON", "s:undefined"),
    FAILS(PARSE_JSON, "not valid JSON", "s:\"unterminated"),
    TYPE(PARSE_JSON, "parse_json needs a string", "j:{}"),

    /* json */
    OK(JSON, "s:\"a\\\"b\\\\\\n\\t\\u0001/é\"", "s:a\"b\\\n\t\x01/é"),
    OK(JSON, "s:\"\"", "s:"),
    OK(JSON, "s:3", "n:3"),
    OK(JSON, "s:0.1", "n:0.1"),
    OK(JSON, "s:0", "n:-0"),
    OK(JSON, "s:true", "b:true"),
    OK(JSON, "s:\"2024-01-15\"", "d:2024-01-15"),
    OK(JSON, "s:\"1970-01-01T00:00:00.001Z\"", "t:1"),
    OK(JSON, "s:[1,\"x\",null]", "j:[1, \"x\", null]"),
    OK(JSON, "s:{\"a\":{\"b\":true}}", "j:{\"a\": {\"b\": true}}"),
    OK(JSON, "s:\"x\"", "j:\"x\""),
    TYPE(JSON, "json cannot take a ref", "r:K1"),

    /* hash */
    OK(HASH, "s:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "s:abc"),
    OK(HASH, "s:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "s:"),
    OK(HASH, "s:6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b", "n:1"),
    OK(HASH, "s:b5bea41b6c623f7c09f1bf24dcae58ebab3c0cdd90ad966bc43a45b44867e12b", "b:true"),
    OK(HASH, "s:2010945388e2de98f5651051478912aa4ff38bb13a2cdb1a2c257bb97fbf98ff", "j:[1, \"a\"]"),
    OK(HASH, "s:d091f9c83c091f79652fe8786375b3fe4ce0861a56f5bfbafedbe431877ff0e8", "j:{\"a\": null}"),
    OK(HASH, "s:b93f668492a9bd891e79b5adcd97bbd4ee34293131a1be2ed4839a56a944e400", "d:1970-01-01"),
    OK(HASH, "s:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", "j:\"x\""),
    OK(HASH, "s:cd65ea2c2ad99e94a85b1b6df72efef9cb2ed0ae933a60c32ce16317f7d7d6aa", "j:[\"x\"]"),
    TYPE(HASH, "hash cannot take a ref", "r:K1"),

    /* lookup */
    OK(LOOKUP, "s:Sent", "s:sent", "j:{\"sent\": \"Sent\", \"opened\": \"Opened\"}"),
    OK(LOOKUP, "null", "s:clicked", "j:{\"sent\": \"Sent\"}"),
    OK(LOOKUP, "null", "s:Sent", "j:{\"sent\": \"Sent\"}"),
    OK(LOOKUP, "s:one", "n:1", "j:{\"1\": \"one\"}"),
    OK(LOOKUP, "b:true", "n:1.5", "j:{\"1.5\": true}"),
    OK(LOOKUP, "n:1", "b:true", "j:{\"true\": 1}"),
    OK(LOOKUP, "j:[1]", "s:a", "j:{\"a\": [1]}"),
    OK(LOOKUP, "null", "s:a", "j:{\"a\": null}"),
    OK(LOOKUP, "s:first", "s:a", "j:{\"a\": \"first\", \"a\": \"second\"}"),
    OK(LOOKUP, "null", "s:", "j:{}"),
    TYPE(LOOKUP, "lookup needs a string, number or bool key", "d:2024-01-01", "j:{}"),
    TYPE(LOOKUP, "lookup needs a string, number or bool key", "j:[1]", "j:{}"),
    TYPE(LOOKUP, "lookup needs an object", "s:a", "j:[\"a\"]"),

    /* where */
    OK(WHERE, "j:[{\"t\":\"1\",\"id\":\"a\"},{\"t\":\"1\",\"id\":\"c\"}]",
       "j:[{\"t\":\"1\",\"id\":\"a\"},{\"t\":\"2\",\"id\":\"b\"},{\"t\":\"1\",\"id\":\"c\"}]", "s:t", "s:1"),
    OK(WHERE, "j:[{\"n\":1},{\"n\":1}]", "j:[{\"n\":1},{\"n\":1.0},{\"n\":\"1\"},{\"n\":2}]", "s:n", "n:1"),
    OK(WHERE, "j:[{\"n\":\"1\"}]", "j:[{\"n\":1},{\"n\":\"1\"}]", "s:n", "s:1"),
    OK(WHERE, "j:[{\"b\":false}]", "j:[{\"b\":true},{\"b\":false},{\"b\":0}]", "s:b", "b:false"),
    OK(WHERE, "j:[{\"a\":null},{}]", "j:[{\"a\":null},{},{\"a\":1}]", "s:a", "null"),
    OK(WHERE, "j:[{\"a\":\"x\"}]", "j:[1,\"x\",null,[\"x\"],{\"a\":\"x\"}]", "s:a", "s:x"),
    OK(WHERE, "j:[]", "j:[{\"a\":\"x\"}]", "s:a", "s:y"),
    OK(WHERE, "j:[]", "j:[]", "s:a", "s:y"),
    OK(WHERE, "j:[]", "j:[{\"A\":\"x\"}]", "s:a", "s:x"),
    TYPE(WHERE, "where compares a field with a string, number, bool or null", "j:[]", "s:a", "j:[1]"),
    TYPE(WHERE, "where compares a field with a string, number, bool or null", "j:[]", "s:a", "d:2024-01-01"),
    TYPE(WHERE, "where needs a list", "j:{}", "s:a", "s:x"),
    TYPE(WHERE, "where needs a string", "j:[]", "n:1", "s:x"),

    /* latest_key */
    OK(LATEST_KEY, "s:opened", "j:{\"sent\": 1, \"opened\": 5}"),
    OK(LATEST_KEY, "s:a", "j:{\"a\": 5, \"b\": 5}"),
    OK(LATEST_KEY, "s:b", "j:{\"a\": \"9\", \"b\": 2, \"c\": null}"),
    OK(LATEST_KEY, "s:a", "j:{\"a\": -1, \"b\": -2}"),
    OK(LATEST_KEY, "s:c", "j:{\"a\": 1700000000, \"b\": 1600000000, \"c\": 1700000001}"),
    OK(LATEST_KEY, "null", "j:{}"),
    OK(LATEST_KEY, "null", "j:{\"a\": \"x\", \"b\": [1]}"),
    TYPE(LATEST_KEY, "latest_key needs an object", "j:[1, 2]"),

    /* if is compiled to jumps */
    TYPE(IF, "if is compiled inline", "b:true", "s:a", "s:b"),
    TYPE(IF, "if is compiled inline", "n:1", "s:a", "s:b"),

    /* null arguments give null (BF_NULLPROP), except where's value */
    OK(LOWER, "null", "null"),
    OK(TRUNCATE, "null", "null", "n:3"),
    OK(FITS, "null", "null", "n:3"),
    OK(REPLACE, "null", "s:abc", "null", "s:x"),
    OK(JOIN, "null", "j:[\"a\"]", "null"),
    OK(LEN, "null", "null"),
    OK(STR, "null", "null"),
    OK(JSON, "null", "null"),
    OK(HASH, "null", "null"),
    OK(PARSE_DATETIME, "null", "null"),
    OK(PARSE_JSON, "null", "null"),
    OK(LOOKUP, "null", "null", "j:{\"null\": 1}"),
    OK(WHERE, "null", "null", "s:a", "s:x"),
    OK(WHERE, "null", "j:[{\"a\":\"x\"}]", "null", "s:x"),
    OK(LATEST_KEY, "null", "null"),
};

/* Run one case in a fresh arena state. */
static void run_case(const Case *c)
{
    Value args[3], out = val_str("sentinel", 8);
    int argc = 0;
    while (argc < 3 && c->args[argc])
        args[argc] = arg(c->args[argc]), argc++;
    BuiltinCtx ctx = {ar, NULL};
    int rc = rt_builtin_call(c->id, args, argc, &out, &ctx);
    const char *name = rt_builtin_name(c->id);
    if (rc != c->rc) {
        check(0, c->line, "%s: return code %d, expected %d (result %s, why %s)", name, rc, c->rc,
              show(out), ctx.why ? ctx.why : "-");
    } else if (rc == BR_OK) {
        const char *got = show(out);
        check(strcmp(got, c->expect) == 0, c->line, "%s: got [%s], expected [%s]", name, got, c->expect);
        check(out.k != V_STR || strlen(out.u.s.p) == out.u.s.len, c->line, "%s: length and NUL disagree", name);
    } else {
        check(ctx.why && strcmp(ctx.why, c->expect) == 0, c->line, "%s: why [%s], expected [%s]", name,
              ctx.why ? ctx.why : "(null)", c->expect);
        check(out.k == V_NULL, c->line, "%s: a failure should leave null in *out", name);
    }
    arena_reset(ar);
}

static void test_table(void)
{
    bool covered[RB__COUNT] = {false};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i]);
        covered[cases[i].id] = true;
    }
    for (int id = 0; id < RB__COUNT; id++)
        check(covered[id], __LINE__, "builtin %s has no test case", rt_builtin_name((RtBuiltinId)id));
}

/* ---- calls that the table cannot express */

static int call(RtBuiltinId id, Value *out, const char **why, int argc, ...)
{
    Value args[3];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        args[i] = va_arg(ap, Value);
    va_end(ap);
    BuiltinCtx ctx = {ar, NULL};
    int rc = rt_builtin_call(id, args, argc, out, &ctx);
    if (why)
        *why = ctx.why;
    return rc;
}

static void test_dispatch(void)
{
    Value out;
    const char *why;
    int rc = call(RB_LOWER, &out, &why, 2, val_str("a", 1), val_str("b", 1));
    check(rc == BR_TYPE && strcmp(why, "lower got the wrong number of arguments") == 0, __LINE__,
          "wrong argument count: rc %d why %s", rc, why);
    rc = call(RB_WHERE, &out, &why, 0);
    check(rc == BR_TYPE && strcmp(why, "where got the wrong number of arguments") == 0, __LINE__,
          "no arguments: rc %d why %s", rc, why);
    rc = call((RtBuiltinId)RB__COUNT, &out, &why, 0);
    check(rc == BR_TYPE && why != NULL, __LINE__, "an unknown id should be BR_TYPE");
    check(strcmp(rt_builtin_name(RB_PARSE_JSON), "parse_json") == 0, __LINE__, "rt_builtin_name");
    check(rt_builtin_name((RtBuiltinId)RB__COUNT) == NULL, __LINE__, "rt_builtin_name out of range");
    check(rt_builtin_flags(RB_FITS) == (BF_NULLPROP | BF_LENARG | BF_FALLIBLE), __LINE__, "rt_builtin_flags(fits)");
    check(rt_builtin_flags(RB_IF) == BF_SPECIAL, __LINE__, "rt_builtin_flags(if)");
    check(rt_builtin_flags((RtBuiltinId)-1) == 0, __LINE__, "rt_builtin_flags out of range");
    arena_reset(ar);
}

/* Results that should share the argument's memory, and ones that must not. */
static void test_sharing(void)
{
    Value out, s = val_str("  abc", 5);
    call(RB_TRIM, &out, NULL, 1, s);
    check(out.u.s.p == s.u.s.p + 2, __LINE__, "trim without trailing space should not copy");
    s = val_str("abc  ", 5);
    call(RB_TRIM, &out, NULL, 1, s);
    check(out.u.s.p != s.u.s.p && out.u.s.p[3] == '\0', __LINE__, "trim of trailing space makes a NUL-terminated copy");
    s = val_str("abcdef", 6);
    call(RB_TRUNCATE, &out, NULL, 2, s, val_num(3));
    check(out.u.s.len == 3 && out.u.s.p[3] == '\0', __LINE__, "truncate's result is NUL-terminated");
    call(RB_NONEMPTY, &out, NULL, 1, s);
    check(out.u.s.p == s.u.s.p, __LINE__, "nonempty returns its argument");
    arena_reset(ar);
}

/* where's result refers to the matching objects; deleting it (at reset)
** must leave the source list intact. */
static void test_where_references(void)
{
    cJSON *src = cJSON_Parse("[{\"t\":\"1\",\"x\":{\"deep\":[1,2]}},{\"t\":\"2\"}]");
    Value out, out2;
    for (int round = 0; round < 3; round++) {
        int rc = call(RB_WHERE, &out, NULL, 3, val_from_json(src), val_str("t", 1), val_str("1", 1));
        check(rc == BR_OK && out.k == V_LIST && cJSON_GetArraySize(out.u.j) == 1, __LINE__, "where found one");
        rc = call(RB_WHERE, &out2, NULL, 3, out, val_str("t", 1), val_str("1", 1));
        check(rc == BR_OK && cJSON_GetArraySize(out2.u.j) == 1, __LINE__, "where of where");
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(out2.u.j, 0), "x");
        check(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(x, "deep")) == 2, __LINE__, "members through references");
        arena_reset(ar);
    }
    char *p = cJSON_PrintUnformatted(src);
    check(strcmp(p, "[{\"t\":\"1\",\"x\":{\"deep\":[1,2]}},{\"t\":\"2\"}]") == 0, __LINE__, "where changed its list: %s", p);
    cJSON_free(p);
    cJSON_Delete(src);
}

/* Long strings: 500,000 two-byte characters (1 MB). */
static void test_huge(void)
{
    size_t nchars = 500000, len = 2 * nchars;
    char *big = malloc(len + 1);
    for (size_t i = 0; i < nchars; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2);     /* é */
    big[len] = '\0';
    Value s = val_str(big, len), out;
    const char *why;

    call(RB_UPPER, &out, NULL, 1, s);
    check(out.u.s.len == len && memcmp(out.u.s.p, "\xc3\x89\xc3\x89", 4) == 0 && out.u.s.p[len] == '\0', __LINE__, "upper of 1 MB");
    call(RB_TRUNCATE, &out, NULL, 2, s, val_num(1000));
    check(out.u.s.len == 2000, __LINE__, "truncate to 1000 characters: %zu bytes", out.u.s.len);
    check(call(RB_FITS, &out, NULL, 2, s, val_num(500000)) == BR_OK, __LINE__, "fits 500000");
    check(call(RB_FITS, &out, &why, 2, s, val_num(499999)) == BR_FAIL, __LINE__, "fits 499999");
    call(RB_LEN, &out, NULL, 1, s);
    check(out.u.n == 500000, __LINE__, "len of 1 MB: %g", out.u.n);
    call(RB_REPLACE, &out, NULL, 3, s, val_str("\xc3\xa9", 2), val_str("e", 1));
    check(out.u.s.len == nchars && out.u.s.p[0] == 'e' && out.u.s.p[nchars - 1] == 'e', __LINE__, "replace all");
    call(RB_REPLACE, &out, NULL, 3, s, val_str("\xc3\xa9", 2), val_str("<eacute>", 8));
    check(out.u.s.len == 8 * nchars, __LINE__, "replace growing: %zu", out.u.s.len);
    call(RB_HASH, &out, NULL, 1, s);
    check(strcmp(out.u.s.p, "792d3b5477259d4fcc9e7ec712b72faac525d40cd0beb15b2a2c18aef4e90741") == 0, __LINE__, "hash of 1 MB");
    call(RB_SPLIT_TEXT, &out, NULL, 2, s, val_str("", 0));
    check(cJSON_GetArraySize(out.u.j) == (int)nchars, __LINE__, "split into characters");
    Value joined;
    call(RB_JOIN, &joined, NULL, 2, out, val_str("", 0));
    check(joined.u.s.len == len && memcmp(joined.u.s.p, big, len) == 0, __LINE__, "join of split gives it back");
    call(RB_JSON, &out, NULL, 1, s);
    check(out.u.s.len == len + 2, __LINE__, "json of 1 MB");
    call(RB_PARSE_JSON, &out, NULL, 1, out);
    check(out.k == V_STR && out.u.s.len == len, __LINE__, "parse_json(json(s))");
    arena_reset(ar);

    /* deep nesting beyond cJSON's limit fails cleanly */
    size_t depth = 5000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    check(call(RB_PARSE_JSON, &out, &why, 1, val_str(deep, 2 * depth)) == BR_FAIL, __LINE__, "deep JSON should fail");
    arena_reset(ar);
    free(deep);
    free(big);
}

/* json() of a string escapes exactly as cJSON prints the same string. */
static void test_json_escapes(void)
{
    char s[256];
    for (int i = 1; i < 256; i++)
        s[i - 1] = (char)i;
    s[255] = '\0';
    Value out;
    call(RB_JSON, &out, NULL, 1, val_str(s, 255));
    cJSON *node = cJSON_CreateString(s);
    char *p = cJSON_PrintUnformatted(node);
    check(strcmp(p, out.u.s.p) == 0, __LINE__, "json of bytes 1-255 differs from cJSON");
    cJSON_free(p);
    cJSON_Delete(node);
    arena_reset(ar);
}

/* Every date of 0000-9999 formats and parses back to itself. */
static void test_date_round_trip(void)
{
    char buf[16];
    int bad = 0;
    for (int64_t d = -719528; d <= 2932896 && bad < 5; d += (d > -200000 && d < 200000) ? 1 : 7) {
        Value out;
        val_format_date(d, buf);
        if (call(RB_PARSE_DATE, &out, NULL, 1, val_str(buf, strlen(buf))) != BR_OK || out.u.t != d) {
            check(0, __LINE__, "day %lld formats as %s, which does not read back", (long long)d, buf);
            bad++;
        }
        arena_reset(ar);
    }
    check(bad == 0, __LINE__, "date round trip");
}

/* ---- value.c */

static void test_format_date(void)
{
    static const struct { int64_t days; const char *text; } rows[] = {
        {0, "1970-01-01"}, {-1, "1969-12-31"}, {59, "1970-03-01"}, {365, "1971-01-01"},
        {10957, "2000-01-01"}, {11016, "2000-02-29"}, {11017, "2000-03-01"},
        {-25509, "1900-02-28"}, {-25508, "1900-03-01"}, {19782, "2024-02-29"},
        {-135081, "1600-02-29"}, {-719162, "0001-01-01"}, {-719528, "0000-01-01"},
        {-719529, "-0001-12-31"}, {-719469, "0000-02-29"}, {2932896, "9999-12-31"},
        {2932897, "10000-01-01"},
    };
    char buf[16];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        val_format_date(rows[i].days, buf);
        check(strcmp(buf, rows[i].text) == 0, __LINE__, "date %lld: %s, expected %s", (long long)rows[i].days, buf, rows[i].text);
        int64_t y;
        int m, d;
        int neg = rows[i].text[0] == '-';
        long long yy;
        sscanf(rows[i].text + neg, "%lld-%d-%d", &yy, &m, &d);
        y = neg ? -yy : yy;
        check(val_days_from_civil(y, m, d) == rows[i].days, __LINE__, "days_from_civil(%s)", rows[i].text);
    }
    /* extremes must not overflow the buffer or the arithmetic */
    char big[32];
    memset(big, 'x', sizeof big);
    val_format_date(INT64_MAX, big);
    check(memchr(big, '\0', 16) != NULL && big[16] == 'x', __LINE__, "INT64_MAX date stays in 16 bytes");
    val_format_date(INT64_MIN, big);
    check(memchr(big, '\0', 16) != NULL, __LINE__, "INT64_MIN date stays in 16 bytes");
    check(val_days_in_month(2000, 2) == 29 && val_days_in_month(1900, 2) == 28 && val_days_in_month(2024, 2) == 29 &&
          val_days_in_month(2023, 2) == 28 && val_days_in_month(0, 2) == 29 && val_days_in_month(-4, 2) == 29 &&
          val_days_in_month(2023, 4) == 30 && val_days_in_month(2023, 12) == 31 && val_days_in_month(2023, 13) == 0,
          __LINE__, "val_days_in_month");
}

static void test_format_datetime(void)
{
    static const struct { int64_t ms; const char *text; } rows[] = {
        {0, "1970-01-01T00:00:00.000Z"}, {-1, "1969-12-31T23:59:59.999Z"},
        {1, "1970-01-01T00:00:00.001Z"}, {86399999, "1970-01-01T23:59:59.999Z"},
        {951782399999, "2000-02-28T23:59:59.999Z"}, {951782400000, "2000-02-29T00:00:00.000Z"},
        {1700000000123, "2023-11-14T22:13:20.123Z"}, {-86400000, "1969-12-31T00:00:00.000Z"},
        {-86400001, "1969-12-30T23:59:59.999Z"}, {-62167219200000, "0000-01-01T00:00:00.000Z"},
        {253402300799999, "9999-12-31T23:59:59.999Z"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        val_format_datetime(rows[i].ms, buf);
        check(strcmp(buf, rows[i].text) == 0, __LINE__, "datetime %lld: %s, expected %s", (long long)rows[i].ms, buf, rows[i].text);
        check(val_days_of_ms(rows[i].ms) * 86400000 <= rows[i].ms && rows[i].ms - val_days_of_ms(rows[i].ms) * 86400000 < 86400000,
              __LINE__, "val_days_of_ms(%lld)", (long long)rows[i].ms);
    }
    char big[48];
    memset(big, 'x', sizeof big);
    val_format_datetime(INT64_MAX, big);
    check(memchr(big, '\0', 32) != NULL && big[32] == 'x', __LINE__, "INT64_MAX datetime stays in 32 bytes");
    val_format_datetime(INT64_MIN, big);
    check(memchr(big, '\0', 32) != NULL, __LINE__, "INT64_MIN datetime stays in 32 bytes");
}

/* A small xorshift generator, so the random cases are the same every run. */
static uint64_t rng = 88172645463325252ULL;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_format_number(void)
{
    static const struct { double n; const char *text; } rows[] = {
        {0, "0"}, {-0.0, "0"}, {1, "1"}, {-1, "-1"}, {3, "3"}, {100, "100"}, {0.1, "0.1"},
        {-1.5, "-1.5"}, {1.0 / 3, "0.3333333333333333"}, {0.1 + 0.2, "0.30000000000000004"},
        {1e21, "1e+21"}, {123456789, "123456789"}, {123456789012345, "123456789012345"},
        {9007199254740992.0, "9007199254740992"}, {0.0001, "0.0001"}, {1e-7, "1e-07"},
        {DBL_MAX, "1.7976931348623157e+308"}, {-DBL_MAX, "-1.7976931348623157e+308"},
        {DBL_MIN, "2.2250738585072014e-308"}, {5e-324, "4.94065645841247e-324"},
        {1e15, "1e+15"}, {1234567.125, "1234567.125"}, {INFINITY, "null"}, {NAN, "null"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        val_format_number(rows[i].n, buf);
        check(strcmp(buf, rows[i].text) == 0, __LINE__, "number %.17g: %s, expected %s", rows[i].n, buf, rows[i].text);
    }
    /* random doubles: round trip, at most 24 characters, no shorter form missed */
    int bad = 0;
    for (int i = 0; i < 200000 && bad < 5; i++) {
        uint64_t bits = next_random();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            continue;
        val_format_number(d, buf);
        char shorter[32];
        snprintf(shorter, sizeof shorter, "%.14g", d);
        bool normal = fabs(d) >= DBL_MIN;      /* %.15g is shortest for normal numbers only */
        bool ok = strtod(buf, NULL) == d && strlen(buf) <= 24 &&
                  !(normal && strtod(shorter, NULL) == d && strlen(shorter) < strlen(buf));
        if (!ok) {
            check(0, __LINE__, "number %a formats as %s", d, buf);
            bad++;
        }
    }
    check(bad == 0, __LINE__, "random number round trip");
}

static void test_to_str_json(void)
{
    Value v = val_to_str(ar, val_null());
    check(v.k == V_NULL, __LINE__, "val_to_str(null) is null");
    v = val_to_json(ar, val_null());
    check(v.k == V_STR && strcmp(v.u.s.p, "null") == 0, __LINE__, "val_to_json(null) is \"null\"");
    Value s = val_str("x", 1);
    check(val_to_str(ar, s).u.s.p == s.u.s.p, __LINE__, "val_to_str of a string does not copy");
    Value r;
    r.k = V_REF;
    r.u.ref.desc = 0;
    r.u.ref.key = "k";
    check(val_to_str(ar, r).k == V_NULL && val_to_json(ar, r).k == V_NULL, __LINE__, "refs have no text");
    arena_reset(ar);
}

static void test_from_json(void)
{
    cJSON *j = cJSON_Parse("{\"s\":\"a\\u0000b\",\"n\":2.5,\"t\":true,\"f\":false,\"z\":null,\"l\":[],\"o\":{}}");
    Value v = val_from_json(cJSON_GetObjectItem(j, "s"));
    check(v.k == V_STR && v.u.s.len == strlen(v.u.s.p), __LINE__, "string from JSON");
    check(val_from_json(cJSON_GetObjectItem(j, "n")).u.n == 2.5, __LINE__, "number from JSON");
    v = val_from_json(cJSON_GetObjectItem(j, "t"));
    check(v.k == V_BOOL && v.u.b, __LINE__, "true from JSON");
    v = val_from_json(cJSON_GetObjectItem(j, "f"));
    check(v.k == V_BOOL && !v.u.b, __LINE__, "false from JSON");
    check(val_from_json(cJSON_GetObjectItem(j, "z")).k == V_NULL, __LINE__, "null from JSON");
    check(val_from_json(cJSON_GetObjectItem(j, "l")).k == V_LIST, __LINE__, "list from JSON");
    check(val_from_json(cJSON_GetObjectItem(j, "o")).k == V_OBJ, __LINE__, "object from JSON");
    check(val_from_json(NULL).k == V_NULL, __LINE__, "NULL from JSON");
    cJSON_Delete(j);
}

/* ---- the arena */

static void test_arena(void)
{
    Arena *a = arena_new();
    const size_t align = alignof(max_align_t);
    char *first = arena_alloc(a, 1);
    for (size_t n = 0; n < 200; n++) {
        char *p = arena_alloc(a, n);
        check(p != NULL && (uintptr_t)p % align == 0, __LINE__, "arena_alloc(%zu) alignment", n);
        memset(p, 0xAB, n);
    }
    /* a megabyte in small pieces, then big pieces: several blocks */
    for (int i = 0; i < 10000; i++)
        memset(arena_alloc(a, 100), i & 0xFF, 100);
    for (int i = 0; i < 4; i++)
        memset(arena_alloc(a, 300000), 1, 300000);
    char *s = arena_strndup(a, "hello world", 5);
    check(strcmp(s, "hello") == 0, __LINE__, "arena_strndup");
    for (int i = 0; i < 100; i++)
        check(arena_json(a, cJSON_CreateObject()) != NULL, __LINE__, "arena_json");
    check(arena_json(a, NULL) == NULL, __LINE__, "arena_json(NULL)");
    arena_reset(a);
    check(arena_alloc(a, 1) == first, __LINE__, "after reset the first block is reused");
    /* steady state: the same amount of memory again lands in the same blocks */
    for (int round = 0; round < 3; round++) {
        arena_reset(a);
        char *p0 = arena_alloc(a, 64);
        for (int i = 0; i < 5000; i++)
            arena_alloc(a, 100);
        char *last = arena_alloc(a, 8);
        arena_reset(a);
        check(arena_alloc(a, 64) == p0, __LINE__, "round %d: same first block", round);
        for (int i = 0; i < 5000; i++)
            arena_alloc(a, 100);
        check(arena_alloc(a, 8) == last, __LINE__, "round %d: same blocks for the same requests", round);
    }
    arena_free(a);
    arena_free(NULL);
}

/* ---- utf8.c and sha256.c */

static void test_utf8(void)
{
    char enc[4];
    int bad = 0;
    for (uint32_t c = 0; c < 0x110000 && bad < 5; c++) {
        if (c >= 0xD800 && c <= 0xDFFF)
            continue;
        size_t n = utf8_encode(c, enc), k;
        uint32_t back;
        k = utf8_next(enc, n, 0, &back);
        char tmp[4];
        bool ok = k == n && back == c && utf8_encode(utf8_lower(c), tmp) <= n && utf8_encode(utf8_upper(c), tmp) <= n;
        if (!ok) {
            check(0, __LINE__, "U+%04X: decode or case mapping grows", (unsigned)c);
            bad++;
        }
    }
    check(bad == 0, __LINE__, "every code point encodes, decodes and case-maps within its size");
    /* every upper-case letter in the tables goes to lower and back */
    for (uint32_t c = 0; c < 0x10000; c++) {
        uint32_t l = utf8_lower(c);
        if (l != c && utf8_upper(l) != c && c != 0x130 && c != 0x1E9E && c != 0x3F4 && c != 0x212A)
            check(0, __LINE__, "U+%04X -> U+%04X -> U+%04X", (unsigned)c, (unsigned)l, (unsigned)utf8_upper(l));
    }
    static const char *const malformed[] = {
        "\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80",
        "\xf0\x80\x80\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xc3", "\xe2\x82",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        uint32_t c;
        size_t n = utf8_next(malformed[i], strlen(malformed[i]), 0, &c);
        check(n == 1 && c == UTF8_BAD, __LINE__, "malformed sequence %zu decodes as one bad byte", i);
        check(utf8_count(malformed[i], strlen(malformed[i])) == strlen(malformed[i]), __LINE__, "malformed bytes count one each");
    }
    check(utf8_count("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10) == 4, __LINE__, "utf8_count");
    check(utf8_prefix("a\xc3\xa9\xe2\x82\xac", 6, 2) == 3, __LINE__, "utf8_prefix");
    check(utf8_prefix("ab", 2, 5) == 2, __LINE__, "utf8_prefix past the end");
}

static void test_sha256(void)
{
    static const struct { const char *msg; const char *hex; } rows[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[65];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sha256_hex(rows[i].msg, strlen(rows[i].msg), hex);
        check(strcmp(hex, rows[i].hex) == 0, __LINE__, "sha256 vector %zu: %s", i, hex);
    }
    /* block boundaries: 55, 56, 63 and 64 bytes of 'a' */
    static const struct { size_t n; const char *hex; } lens[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    };
    char as[64];
    memset(as, 'a', sizeof as);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        sha256_hex(as, lens[i].n, hex);
        check(strcmp(hex, lens[i].hex) == 0, __LINE__, "sha256 of %zu a's: %s", lens[i].n, hex);
    }
    /* a million 'a', fed in uneven pieces */
    Sha256 c;
    uint8_t d[32];
    sha256_init(&c);
    for (size_t done = 0, step = 1; done < 1000000; step = step % 97 + 1) {
        size_t n = 1000000 - done < step ? 1000000 - done : step;
        char piece[97];
        memset(piece, 'a', n);
        sha256_update(&c, piece, n);
        done += n;
    }
    sha256_final(&c, d);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    check(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, __LINE__,
          "sha256 of a million a's: %s", hex);
}

int main(void)
{
    ar = arena_new();
    test_table();
    test_dispatch();
    test_sharing();
    test_where_references();
    test_huge();
    test_json_escapes();
    test_date_round_trip();
    test_format_date();
    test_format_datetime();
    test_format_number();
    test_to_str_json();
    test_from_json();
    test_arena();
    test_utf8();
    test_sha256();
    arena_free(ar);
    return unit_summary();
}

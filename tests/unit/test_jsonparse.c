/*
** test_jsonparse: jp_parse against cJSON_Parse.
**
** Every text jp_parse accepts, cJSON must accept with the same tree (types,
** strings, member names, numbers to the bit, valueint, the prev links).
** Texts: fixed cases, random documents written with random white space,
** escapes and number forms, and random mutations of them (where jp_parse
** may refuse what cJSON takes, never the other way round).  Then the
** refusals, each with its offset and reason, including those where cJSON is
** lenient; every prefix of a document is refused without reading past it
** (under make asan the copy has no byte to spare).
*/
#include "jsonparse.h"
#include "unit.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool same(const cJSON *a, const cJSON *b, const char **why)
{
    for (; a || b; a = a->next, b = b->next) {
        if (!a || !b)
            return *why = "different number of members", false;
        if (a->type != b->type)
            return *why = "type", false;
        if ((a->string == NULL) != (b->string == NULL) || (a->string && strcmp(a->string, b->string)))
            return *why = "member name", false;
        if ((a->valuestring == NULL) != (b->valuestring == NULL)
            || (a->valuestring && strcmp(a->valuestring, b->valuestring)))
            return *why = "string", false;
        if (memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)) != 0 || a->valueint != b->valueint)
            return *why = "number", false;
        if (a->child && (!b->child || a->child->prev == NULL || b->child->prev == NULL))
            return *why = "prev link of the first child", false;
        if (a->child && b->child) {
            const cJSON *la = a->child, *lb = b->child;
            while (la->next)
                la = la->next;
            while (lb->next)
                lb = lb->next;
            if (a->child->prev != la || b->child->prev != lb)
                return *why = "first child's prev is not the last child", false;
        }
        if (!same(a->child, b->child, why))
            return false;
    }
    return true;
}

/* jp_parse on an exact-size copy (no NUL after it). */
static cJSON *parse_copy(const char *s, size_t n, JpError *err)
{
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    cJSON *v = jp_parse(copy, n, err);
    free(copy);
    return v;
}

/* Accepted by jp_parse => accepted by cJSON with the same tree.  Returns whether jp_parse accepted. */
static bool agree(const char *s, size_t n, const char *label)
{
    JpError err;
    cJSON *mine = parse_copy(s, n, &err);
    if (!mine)
        return false;
    const char *end = NULL;
    cJSON *theirs = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    const char *why = "cJSON refused it";
    CHECK(theirs && same(mine, theirs, &why), "%s: %.*s: %s", label, (int)(n < 200 ? n : 200), s, why);
    cJSON_Delete(mine);
    cJSON_Delete(theirs);
    return true;
}

/* ---- random documents ---- */

static uint64_t rng = 0x853c49e6748fea9bull;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (unsigned)(rng % n);
}

typedef struct { char *s; size_t n, cap; } Buf;

static void put(Buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void puts_(Buf *b, const char *s) { put(b, s, strlen(s)); }

static void ws(Buf *b)
{
    static const char *const w[] = {"", "", "", " ", "\t", "\r\n", "  \n "};
    puts_(b, w[rnd(7)]);
}

static void gen_string(Buf *b)
{
    static const char *const parts[] = {
        "a", "Hello", " ", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00e9", "\\u20AC",
        "\\ud83d\\ude00", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "0123456789abcdef", "\\u001f", "\x7f",
    };
    puts_(b, "\"");
    for (unsigned i = rnd(6); i > 0; i--)
        puts_(b, parts[rnd(sizeof parts / sizeof parts[0])]);
    puts_(b, "\"");
}

static void gen_number(Buf *b)
{
    static const char *const nums[] = {
        "0", "-0", "1", "-1", "42", "1674336322", "123456789012345", "1234567890123456", "99999999999999999999",
        "2147483647", "2147483648", "-2147483649", "0.5", "-0.25", "3.14159265358979323846", "1e3", "1E+2",
        "2.5e-3", "-1.0E-300", "1e308", "4.9e-324", "9007199254740993", "0.1", "100.000",
    };
    puts_(b, nums[rnd(sizeof nums / sizeof nums[0])]);
}

static void gen_value(Buf *b, int depth)
{
    unsigned k = rnd(depth > 4 ? 6 : 8);
    switch (k) {
    case 0: puts_(b, "null"); break;
    case 1: puts_(b, rnd(2) ? "true" : "false"); break;
    case 2: case 3: gen_string(b); break;
    case 4: case 5: gen_number(b); break;
    case 6: case 7: {
        bool obj = k == 7;
        puts_(b, obj ? "{" : "[");
        for (unsigned i = 0, n = rnd(5); i < n; i++) {
            if (i)
                puts_(b, ",");
            ws(b);
            if (obj) {
                gen_string(b);
                ws(b);
                puts_(b, ":");
                ws(b);
            }
            gen_value(b, depth + 1);
            ws(b);
        }
        puts_(b, obj ? "}" : "]");
        break;
    }
    }
}

static void random_documents(void)
{
    int accepted = 0, mutated_ok = 0;
    for (int i = 0; i < 3000; i++) {
        Buf b = {0};
        ws(&b);
        gen_value(&b, 0);
        ws(&b);
        if (agree(b.s, b.n, "random document"))
            accepted++;
        else
            CHECK(0, "random document refused: %s", b.s);
        for (int m = 0; m < 8; m++) {           /* mutations: drop, insert or change a byte */
            Buf c = {0};
            put(&c, b.s, b.n);
            size_t at = rnd((unsigned)c.n + 1);
            static const char bytes[] = "\"\\{}[],:0-e.tnu \x01\x80";
            char x = bytes[rnd(sizeof bytes - 1)];
            unsigned op = rnd(3);
            if (op == 0 && at < c.n)
                memmove(c.s + at, c.s + at + 1, c.n - at), c.n--;
            else if (op == 1) {
                put(&c, " ", 1);
                memmove(c.s + at + 1, c.s + at, c.n - at - 1);
                c.s[at] = x;
            } else if (at < c.n)
                c.s[at] = x;
            mutated_ok += agree(c.s, c.n, "mutated document");
            free(c.s);
        }
        for (size_t cut = 0; cut < b.n; cut += 1 + rnd(7)) {   /* prefixes: never past the end */
            JpError err;
            cJSON *v = parse_copy(b.s, cut, &err);
            if (v) {                            /* a prefix can be whole ("12" of "123") */
                CHECK(agree(b.s, cut, "prefix"), "prefix accepted once, refused once");
                cJSON_Delete(v);
            }
        }
        free(b.s);
    }
    CHECK(accepted == 3000, "%d of 3000 random documents accepted", accepted);
    CHECK(mutated_ok > 1000, "only %d mutated documents accepted: the mutations test little", mutated_ok);
}

/* ---- fixed cases ---- */

static const char *const valid[] = {
    "{}", "[]", " { } ", "{\"a\":1}", "{\"a\":{\"b\":[1,2,{\"c\":null}]},\"a\":2}", "\"x\"", "0", "-0", "true",
    "{\"\":\"\"}", "[\"\\u0041\\u00e9\\uD834\\uDD1E\"]", "{\"k\":\"\xe2\x82\xac\"}", "[1e2,1E-2,0.5e+1]",
    "{\"big\":1e308,\"tiny\":1e-400,\"int\":2147483648,\"neg\":-2147483649}", "[[[[[]]]]]",
};

typedef struct { const char *text; size_t offset; const char *reason; } Bad;

static const Bad bad[] = {
    {"", 0, "expected a value but found the end"},
    {"{\"a\":01}", 5, "no leading zeros"},            /* cJSON: 1 */
    {"{\"a\":-01}", 5, "no leading zeros"},
    {"{\"a\":1.}", 5, "digit must follow the decimal point"},   /* cJSON: 1 */
    {"{\"a\":-.5}", 5, "digit must follow '-'"},     /* cJSON: -0.5 */
    {"{\"a\":1.e5}", 5, "decimal point"},
    {"{\"a\":1e}", 5, "exponent"},
    {"{\"a\":1e+}", 5, "exponent"},
    {"{\"a\":+1}", 5, "expected a value but found '+'"},
    {"{\"a\":.5}", 5, "expected a value but found '.'"},
    {"{\"a\":1e999}", 5, "out of range"},             /* cJSON: infinity */
    {"{\"a\":\"x\ty\"}", 7, "control character 0x09"},   /* cJSON: accepted */
    {"{\"a\":\"\\u0000x\"}", 6, "\\u0000"},           /* cJSON: "" */
    {"{\"a\"\x01:1}", 4, "expected ':'"},             /* cJSON: white space */
    {"\x0b{}", 0, "expected a value but found byte 0x0B"},
    {"{\"a\":\"\\ud800\"}", 6, "high surrogate"},
    {"{\"a\":\"\\udc00\"}", 6, "lone low surrogate"},
    {"{\"a\":\"\\ud800\\u0041\"}", 6, "high surrogate"},
    {"{\"a\":\"\\u12G4\"}", 6, "four hex digits"},
    {"{\"a\":\"\\u12\"}", 6, "four hex digits"},
    {"{\"a\":\"\\x\"}", 6, "bad escape \\'x'"},
    {"{\"a\":\"abc", 5, "unterminated string"},
    {"{\"a\":\"abc\\", 5, "unterminated string"},
    {"{\"a\":[1,]}", 8, "expected a value but found ']'"},
    {"{\"a\":1,}", 7, "expected a member name"},
    {"{,}", 1, "expected a member name"},
    {"{\"a\" 1}", 5, "expected ':'"},
    {"{\"a\":1 \"b\":2}", 7, "expected ',' or '}' but found '\"'"},
    {"[1 2]", 3, "expected ',' or ']'"},
    {"{\"a\":nul}", 5, "expected a value but found 'n'"},
    {"{\"a\":truex}", 9, "expected ',' or '}' but found 'x'"},
    {"{\"a\":0x10}", 6, "expected ',' or '}' but found 'x'"},
    {"{\"a\":1} x", 8, "unexpected text after the JSON value"},
    {"{}{}", 2, "unexpected text after the JSON value"},
    {"{\"a\":1", 6, "expected ',' or '}' but found the end of the text"},
    {"\xef\xbb\xbf{}", 0, "byte 0xEF"},
};

static void fixed_cases(void)
{
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        CHECK(agree(valid[i], strlen(valid[i]), "valid"), "refused: %s", valid[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        JpError err = {0};
        cJSON *v = parse_copy(bad[i].text, strlen(bad[i].text), &err);
        CHECK(!v, "accepted: %s", bad[i].text);
        cJSON_Delete(v);
        CHECK(!v && err.offset == bad[i].offset && strstr(err.msg, bad[i].reason),
              "%s: at %zu \"%s\", wanted at %zu \"%s\"", bad[i].text, err.offset, err.msg, bad[i].offset,
              bad[i].reason);
    }
}

static void depth_limit(void)
{
    Buf b = {0};
    for (int i = 0; i < JP_MAX_DEPTH; i++)
        puts_(&b, "[");
    for (int i = 0; i < JP_MAX_DEPTH; i++)
        puts_(&b, "]");
    CHECK(agree(b.s, b.n, "deepest"), "%d nested arrays refused", JP_MAX_DEPTH);
    Buf c = {0};
    puts_(&c, "{\"a\":");
    put(&c, b.s, b.n);
    puts_(&c, "}");
    JpError err;
    cJSON *v = parse_copy(c.s, c.n, &err);
    CHECK(!v && strstr(err.msg, "nested deeper"), "%d levels: %s", JP_MAX_DEPTH + 1, v ? "accepted" : err.msg);
    cJSON_Delete(v);
    free(b.s);
    free(c.s);
}

/* jp_parse_with: the same trees from a bump allocator; a failed parse leaves its pieces there. */
static unsigned char pool[1 << 20];
static size_t pool_used;

static void *bump(void *ctx, size_t n)
{
    (void)ctx;
    n = (n + 15) & ~(size_t)15;
    if (pool_used + n > sizeof pool)
        return NULL;
    void *p = pool + pool_used;
    pool_used += n;
    return p;
}

static void with_allocator(void)
{
    JpAlloc a = {bump, NULL};
    JpError err;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        pool_used = 0;
        cJSON *mine = jp_parse_with(valid[i], strlen(valid[i]), &err, &a);
        cJSON *theirs = cJSON_Parse(valid[i]);
        const char *why = "refused";
        CHECK(mine && (unsigned char *)mine >= pool && (unsigned char *)mine < pool + sizeof pool
              && same(mine, theirs, &why), "allocator: %s: %s", valid[i], why);
        cJSON_Delete(theirs);                   /* mine is the pool's */
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pool_used = 0;
        CHECK(!jp_parse_with(bad[i].text, strlen(bad[i].text), &err, &a), "allocator accepted %s", bad[i].text);
    }
    pool_used = sizeof pool - 8;                /* out of memory: refused, not a crash */
    CHECK(!jp_parse_with("{\"a\":[1,2,3]}", 13, &err, &a) && strstr(err.msg, "out of memory"), "out of memory");
}

int main(void)
{
    fixed_cases();
    with_allocator();
    depth_limit();
    random_documents();
    return unit_summary();
}

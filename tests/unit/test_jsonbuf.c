/*
** test_jsonbuf: the JSON string writers.  jb_cjson_string must give cJSON's
** own text (json() of a list or object skips cJSON's printer for speed);
** jb_string writes \b and \f as \u0008 and \u000c, as staged records always had.
*/
#include "jsonbuf.h"
#include "unit.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char *const cases[] = {
    "", "plain ascii, longer than eight bytes", "a\bb\fc\x01\"\\\n\r\t\x1f end",
    "\xc3\xa9t\xc3\xa9 \x7f", "12345678\"12345678\\", "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19",
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        JBuf b = {0};
        jb_cjson_string(&b, cases[i]);
        cJSON *s = cJSON_CreateString(cases[i]);
        char *want = cJSON_PrintUnformatted(s);
        CHECK(strcmp(b.s, want) == 0, "case %zu: %s, cJSON writes %s", i, b.s, want);
        free(want);
        cJSON_Delete(s);
        jb_free(&b);
    }
    JBuf b = {0};
    jb_string(&b, "a\bb\fc", 5);
    CHECK(strcmp(b.s, "\"a\\u0008b\\u000cc\"") == 0, "jb_string: %s", b.s);
    jb_free(&b);
    return unit_summary();
}

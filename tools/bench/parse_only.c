/*
** parse_only: the floor `make bench` compares `maprun stage` with.
**
**   parse_only [--parser cjson|jp] INPUT...
**
** Reads each input with maprun's own streaming reader (runtime/input.h:
** line splitting, UTF-8 and BOM checks, parse, unwrapping) and does
** nothing with the records.  The parser is cJSON's by default: the floor
** as issue 3 defines it ("read + cJSON parse").  --parser jp uses the one
** maprun stages with (runtime/jsonparse.h), for the second floor the bench
** reports.  Prints "N records (M bad)" on stdout; exits
** 1 when an input cannot be opened or read.  Whatever `maprun stage` spends
** beyond this is mapping, validation and staging.
*/
#include "input.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* cJSON's parser behind the reader's interface: the whole line must be the value. */
static cJSON *cjson_parse(void *ctx, const char *s, size_t len, JpError *err)
{
    (void)ctx;
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    size_t off = doc ? (size_t)(end - s) : 0;
    while (doc && off < len && (s[off] == ' ' || s[off] == '\t' || s[off] == '\r' || s[off] == '\n'))
        off++;
    if (doc && off == len)
        return doc;
    cJSON_Delete(doc);
    err->offset = off;
    snprintf(err->msg, sizeof err->msg, "JSON syntax error");
    return NULL;
}

static void drop(void *ctx, cJSON *tree)
{
    (void)ctx;
    cJSON_Delete(tree);
}

int main(int argc, char **argv)
{
    unsigned long long n = 0, bad = 0;
    char err[512];
    InputParser cjson = {cjson_parse, drop, NULL};
    const InputParser *parser = &cjson;            /* NULL: the reader's own (jp_parse) */
    int first = 1;
    bool known = true;
    if (argc > 2 && strcmp(argv[1], "--parser") == 0) {
        known = strcmp(argv[2], "jp") == 0 || strcmp(argv[2], "cjson") == 0;
        parser = strcmp(argv[2], "jp") == 0 ? NULL : &cjson;
        first = 3;
    }
    if (argc <= first || !known) {
        fputs("usage: parse_only [--parser cjson|jp] INPUT...\n", stderr);
        return 2;
    }
    for (int i = first; i < argc; i++) {
        Input *in = input_open(argv[i], err, sizeof err);
        if (!in) {
            fprintf(stderr, "parse_only: %s\n", err);
            return 1;
        }
        input_set_parser(in, parser);
        InputRecord rec;
        int rc;
        while ((rc = input_next(in, &rec, err, sizeof err)) == 1) {
            n++;
            bad += rec.reason != NULL;
        }
        if (rc < 0) {
            fprintf(stderr, "parse_only: %s: %s\n", input_path(in), err);
            input_close(in);
            return 1;
        }
        input_close(in);
    }
    printf("%llu records (%llu bad)\n", n, bad);
    return 0;
}

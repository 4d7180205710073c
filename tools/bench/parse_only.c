/*
** parse_only: the floor `make bench` compares `maprun stage` with.
**
**   parse_only INPUT...
**
** Reads each input with maprun's own streaming reader (runtime/input.h:
** line splitting, UTF-8 and BOM checks, cJSON parse, unwrapping) and does
** nothing with the records.  Prints "N records (M bad)" on stdout; exits
** 1 when an input cannot be opened or read.  Whatever `maprun stage` spends
** beyond this is mapping, validation and staging.
*/
#include "input.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    unsigned long long n = 0, bad = 0;
    char err[512];
    if (argc < 2) {
        fputs("usage: parse_only INPUT...\n", stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        Input *in = input_open(argv[i], err, sizeof err);
        if (!in) {
            fprintf(stderr, "parse_only: %s\n", err);
            return 1;
        }
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

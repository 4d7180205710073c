/*
** test_csv: the CSV writer behind maprun report's failed.csv and
** quarantined.csv — RFC 4180 quoting, and no cell a spreadsheet would run
** as a formula.  Each written row is read back with the reader.
** Prints one line per failure and "N passed, N failed".
*/
#include "csv.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text csv_put_safe_cell writes for s (caller frees). */
static char *cell(const char *s)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    csv_put_safe_cell(f, s);
    fclose(f);
    return buf;
}

static void expect(const char *in, const char *want, int line)
{
    char *got = cell(in);
    check(strcmp(got, want) == 0, line, "cell(%s) is [%s], want [%s]", in, got, want);
    free(got);
}

/* A row written and read back: the reader sees the cells (guarded ones with their '). */
static void round_trip(void)
{
    const char *row[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "=1+1", NULL};
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    CHECK(csv_put_safe_row(f, row, 6) == 0, "csv_put_safe_row");
    fclose(f);
    CHECK(n > 2 && strcmp(buf + n - 2, "\r\n") == 0, "a row ends with CRLF");
    f = fmemopen(buf, n, "r");
    CsvReader *r = csv_open(f);
    char **cells;
    int nc;
    CHECK(csv_next(r, &cells, &nc) == 1 && nc == 6, "the row reads back as 6 cells");
    if (nc == 6) {
        for (int i = 0; i < 4; i++)
            CHECK(strcmp(cells[i], row[i]) == 0, "cell %d reads back as written", i);
        CHECK(strcmp(cells[4], "'=1+1") == 0, "a formula reads back with its quote: %s", cells[4]);
        CHECK(cells[5][0] == '\0', "NULL is an empty cell");
    }
    csv_close(r);
    fclose(f);
    free(buf);
}

int main(void)
{
    expect("plain", "plain", __LINE__);
    expect("", "", __LINE__);
    expect("a,b", "\"a,b\"", __LINE__);
    expect("say \"hi\"", "\"say \"\"hi\"\"\"", __LINE__);
    expect("x\r\ny", "\"x\r\ny\"", __LINE__);
    /* OWASP: = + - @ tab CR at the start make a formula */
    expect("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"", __LINE__);
    expect("+1", "\"'+1\"", __LINE__);
    expect("-2+3", "\"'-2+3\"", __LINE__);
    expect("@SUM(A1)", "\"'@SUM(A1)\"", __LINE__);
    expect("\t=1", "\"'\t=1\"", __LINE__);
    expect("\r=1", "\"'\r=1\"", __LINE__);
    expect("a=1", "a=1", __LINE__);                 /* only the first character counts */
    expect(" =1", "\" =1\"", __LINE__);           /* quoted for its leading space, not as a formula */
    round_trip();
    return unit_summary();
}

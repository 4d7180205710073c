/*
** srcloc: the table of loaded source files and offset -> line:col mapping.
*/
#include "srcloc.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static SrcFile *files;
static int nfiles;

static void index_lines(SrcFile *f)
{
    int cap = 64;
    f->lines = xmalloc(sizeof(int) * (size_t)cap);
    f->nlines = 0;
    f->lines[f->nlines++] = 0;
    for (size_t i = 0; i < f->len; i++) {
        if (f->text[i] != '\n')
            continue;
        if (f->nlines == cap) {
            cap *= 2;
            f->lines = xrealloc(f->lines, sizeof(int) * (size_t)cap);
        }
        f->lines[f->nlines++] = (int)i + 1;
    }
}

int srcloc_add(const char *name, char *text, size_t len)
{
    files = xrealloc(files, sizeof(SrcFile) * (size_t)(nfiles + 1));
    SrcFile *f = &files[nfiles];
    f->name = xstrdup(name);
    f->text = text;
    f->len = len;
    index_lines(f);
    return nfiles++;
}

int srcloc_read(const char *path)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!fp)
        return -1;
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    int err = ferror(fp);
    if (fp != stdin)
        fclose(fp);
    if (err) {
        free(buf);
        errno = EIO;
        return -1;
    }
    buf[len] = '\0';
    return srcloc_add(path, buf, len);
}

const SrcFile *srcloc_file(int file)
{
    return file >= 0 && file < nfiles ? &files[file] : NULL;
}

void srcloc_linecol(int file, int offset, int *line, int *col)
{
    const SrcFile *f = srcloc_file(file);
    *line = *col = 1;
    if (!f)
        return;
    int lo = 0, hi = f->nlines - 1;
    while (lo < hi) {               /* last line start <= offset */
        int mid = (lo + hi + 1) / 2;
        if (f->lines[mid] <= offset)
            lo = mid;
        else
            hi = mid - 1;
    }
    *line = lo + 1;
    int c = 1;
    for (int i = f->lines[lo]; i < offset && (size_t)i < f->len; i++) {
        unsigned char ch = (unsigned char)f->text[i];
        if (ch == '\t')
            c = ((c - 1) / 8 + 1) * 8 + 1;
        else if ((ch & 0xC0) != 0x80)       /* count UTF-8 characters, not bytes */
            c++;
    }
    *col = c;
}

const char *srcloc_line(int file, int line, int *len)
{
    const SrcFile *f = srcloc_file(file);
    if (!f || line < 1 || line > f->nlines) {
        *len = 0;
        return "";
    }
    int start = f->lines[line - 1];
    int end = start;
    while ((size_t)end < f->len && f->text[end] != '\n')
        end++;
    if (end > start && f->text[end - 1] == '\r')
        end--;
    *len = end - start;
    return f->text + start;
}

void srcloc_free_all(void)
{
    for (int i = 0; i < nfiles; i++) {
        free(files[i].name);
        free(files[i].text);
        free(files[i].lines);
    }
    free(files);
    files = NULL;
    nfiles = 0;
}

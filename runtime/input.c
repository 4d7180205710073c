/*
** input: the streaming NDJSON reader (input.h has the reason codes and the
** BOM, kind-from-name and unwrapping rules).
**
** The buffer.  buf[start, end) holds bytes read but not yet handed out;
** bytes before start belong to the record handed out last (its raw line
** must stay valid until the next call).  A line that lies whole in the
** buffer is used in place: memchr finds its LF, which is overwritten with
** a NUL so cJSON and the caller see a terminated string.  When no LF is
** left, the partial line moves to the front and the next chunk is read
** after it; the buffer grows only when the partial line leaves less than
** half a chunk free, so it ends up the size of the longest accepted line
** plus a chunk.  A partial line that is already over the limit is not
** kept: its first INPUT_KEEP_PREFIX bytes go to keep[] and the rest is read
** and dropped chunk by chunk until its LF, so the capacity never exceeds
** limit + chunk however long the line is.
**
** Invariant: end < cap, so buf[end] can always take a NUL.
**
** Checking a line costs a memchr for the LF, a memchr for NUL bytes and one
** UTF-8 pass that skips 8 ASCII bytes at a time; then jp_parse parses it.
** Nothing is allocated per line except cJSON's tree.
*/
#include "input.h"

#include <cJSON.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Bytes asked of fread at a time (at most; see make_room). */
#define CHUNK ((size_t)256 * 1024)

typedef enum { SRC_FILE, SRC_PIPE, SRC_STDIN } SrcType;

/* What next_line found. */
enum { LINE_ERR = -1, LINE_EOF = 0, LINE_OK = 1, LINE_LONG = 2 };

struct Input {
    FILE *fp;                   /* the source; NULL once a pipe is closed */
    SrcType src;
    char *kind;                 /* owned */
    char *path;                 /* owned: as given, or "<stdin>" */
    char *buf;                  /* the read buffer (see above), cap bytes */
    size_t cap, start, end;
    size_t scanned;             /* bytes after start known to hold no LF */
    int eof;                    /* the source is exhausted */
    size_t max_line;
    long line;                  /* lines handed out so far */
    unsigned long long bytes;   /* bytes read from the source */
    cJSON *doc;                 /* the last record's tree (owned), or NULL */
    InputParser parser;         /* default_parser, or what input_set_parser set */
    unsigned long long long_len;        /* length of the skipped over-long line */
    size_t keep_len;                    /* bytes in keep[] */
    char keep[INPUT_KEEP_PREFIX + 1];   /* prefix of the skipped line, NUL-terminated */
    char detail[160];           /* the last bad record's detail */
};

static const char *const wrappers[] = { INPUT_WRAPPERS };

static cJSON *jp_default(void *ctx, const char *s, size_t len, JpError *err)
{
    (void)ctx;
    return jp_parse(s, len, err);
}

static void delete_tree(void *ctx, cJSON *tree)
{
    (void)ctx;
    cJSON_Delete(tree);
}

static const InputParser default_parser = {jp_default, delete_tree, NULL};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Opening: the spec, the kind, the source                             */
/* ------------------------------------------------------------------ */

static int is_ident(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && (i == 0 || c < '0' || c > '9'))
            return 0;
    }
    return 1;
}

/*
** The length of the kind a base name implies: everything before the first
** '.', the first '-' or the first '_' followed by a digit (input.h), or 0
** when that is not a plain identifier.
*/
static size_t kind_from_name(const char *base)
{
    size_t n = 0;
    while (base[n] && base[n] != '.' && base[n] != '-' &&
           !(base[n] == '_' && base[n + 1] >= '0' && base[n + 1] <= '9'))
        n++;
    return is_ident(base, n) ? n : 0;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

/*
** Decompress through `gzip -dc`.  gzip reads the file we already opened
** (its descriptor is inherited and made its stdin), so no path goes
** through the shell and no quoting is needed.  gzip's own messages are
** silenced: errors are returned, and its exit status is checked at the end
** (close_pipe).
*/
static int open_gzip(Input *in, FILE *fp, char *err, size_t errlen)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "exec gzip -dc <&%d 2>/dev/null", fileno(fp));
    in->fp = popen(cmd, "r");
    fclose(fp);
    if (!in->fp) {
        set_err(err, errlen, "%s: cannot run gzip: %s", in->path, strerror(errno));
        return -1;
    }
    in->src = SRC_PIPE;
    return 0;
}

/* Open the source named path ("-" is stdin); 0 or -1 with err set. */
static int open_source(Input *in, const char *path, char *err, size_t errlen)
{
    struct stat st;
    FILE *fp;
    if (strcmp(path, "-") == 0) {
        in->fp = stdin;
        in->src = SRC_STDIN;
        return 0;
    }
    fp = fopen(path, "rb");
    if (!fp) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        set_err(err, errlen, "%s: is a directory", path);
        return -1;
    }
    if (has_suffix(path, ".gz"))
        return open_gzip(in, fp, err, errlen);
    in->fp = fp;
    in->src = SRC_FILE;
    return 0;
}

/*
** Split spec into kind and path (input.h): KIND=PATH when the text before
** the first '=' holds no '/', else the kind from the file name.  0, or -1
** with err set.
*/
static int split_spec(const char *spec, const char **kind, size_t *kindlen,
                      const char **path, char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    if (eq && !memchr(spec, '/', (size_t)(eq - spec))) {
        *kind = spec;
        *kindlen = (size_t)(eq - spec);
        *path = eq + 1;
        if (!is_ident(*kind, *kindlen)) {
            set_err(err, errlen, "%s: the kind '%.*s' is not a plain identifier",
                    spec, (int)*kindlen, *kind);
            return -1;
        }
        if (!**path) {
            set_err(err, errlen, "%s: no file name after '='", spec);
            return -1;
        }
        return 0;
    }
    *path = spec;
    if (strcmp(spec, "-") == 0) {
        set_err(err, errlen, "-: standard input needs a kind: write KIND=- (for example person=-)");
        return -1;
    }
    *kind = strrchr(spec, '/') ? strrchr(spec, '/') + 1 : spec;
    *kindlen = kind_from_name(*kind);
    if (*kindlen == 0) {
        set_err(err, errlen, "%s: cannot tell the kind from the file name "
                "(name it KIND.ndjson, or write KIND=%s)", spec, spec);
        return -1;
    }
    return 0;
}

Input *input_open(const char *spec, char *err, size_t errlen)
{
    const char *kind = NULL, *path = NULL;
    size_t kindlen = 0;
    Input *in;
    if (!spec || !*spec) {
        set_err(err, errlen, "empty input name");
        return NULL;
    }
    if (split_spec(spec, &kind, &kindlen, &path, err, errlen) < 0)
        return NULL;
    in = calloc(1, sizeof *in);
    if (!in)
        goto oom;
    in->max_line = INPUT_DEFAULT_MAX_LINE;
    in->parser = default_parser;
    in->cap = CHUNK + 1;
    in->buf = malloc(in->cap);
    in->kind = strndup(kind, kindlen);
    in->path = strdup(strcmp(path, "-") == 0 ? "<stdin>" : path);
    if (!in->buf || !in->kind || !in->path)
        goto oom;
    if (open_source(in, path, err, errlen) < 0)
        goto fail;
    return in;
oom:
    set_err(err, errlen, "%s: out of memory", spec);
fail:
    input_close(in);
    return NULL;
}

void input_close(Input *in)
{
    if (!in)
        return;
    if (in->doc)
        in->parser.drop(in->parser.ctx, in->doc);
    if (in->fp && in->src == SRC_PIPE)
        (void)pclose(in->fp);          /* closed early: gzip's status does not matter */
    else if (in->fp && in->src == SRC_FILE)
        fclose(in->fp);
    free(in->buf);
    free(in->kind);
    free(in->path);
    free(in);
}

const char *input_kind(const Input *in) { return in->kind; }
const char *input_path(const Input *in) { return in->path; }
unsigned long long input_bytes(const Input *in) { return in->bytes; }
size_t input_buffer_capacity(const Input *in) { return in->cap; }

void input_set_max_line(Input *in, size_t bytes)
{
    size_t most = SIZE_MAX / 2 - 2 * CHUNK;     /* keeps limit + chunk from overflowing */
    in->max_line = bytes == 0 ? INPUT_DEFAULT_MAX_LINE : bytes < most ? bytes : most;
}

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */
/* ------------------------------------------------------------------ */

/*
** The length of the valid UTF-8 sequence at s (n bytes available), or 0.
** Strict, after Unicode table 3-7: no overlongs (C0, C1, E0 80-9F,
** F0 80-8F), no surrogates (ED A0-BF), nothing above U+10FFFF (F4 90-BF,
** F5-FF), no truncated sequences.
*/
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t k;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        lo = c == 0xE0 ? 0xA0 : lo;     /* overlong */
        hi = c == 0xED ? 0x9F : hi;     /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        lo = c == 0xF0 ? 0x90 : lo;     /* overlong */
        hi = c == 0xF4 ? 0x8F : hi;     /* above U+10FFFF */
    } else {
        return 0;                       /* continuation byte, C0, C1, F5-FF */
    }
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t j = 2; j < k; j++)
        if ((s[j] & 0xC0) != 0x80)
            return 0;
    return k;
}

/* The offset of the first byte that is not valid UTF-8, or n.  Runs of
** ASCII go 8 bytes at a time (no byte with its high bit set). */
static size_t utf8_check(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        uint64_t w;
        size_t k;
        if (n - i >= 8) {
            memcpy(&w, s + i, 8);
            if ((w & UINT64_C(0x8080808080808080)) == 0) {
                i += 8;
                continue;
            }
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        k = utf8_seq(s + i, n - i);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

/*
** The length of the first n bytes of s without a multi-byte sequence cut
** short at the end: a kept prefix must not end in half a character.
*/
static size_t utf8_cut(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = n, need;
    while (i > 0 && n - i < 3 && (s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0 || s[i - 1] < 0xC0)
        return n;
    need = s[i - 1] >= 0xF0 ? 4 : s[i - 1] >= 0xE0 ? 3 : 2;
    return n - (i - 1) < need ? i - 1 : n;
}

/* ------------------------------------------------------------------ */
/* Reading lines                                                       */
/* ------------------------------------------------------------------ */

/*
** At the end of a .gz: gzip's exit status says whether the data was whole
** (a truncated or corrupt file only shows here).  0, or -1 with err set.
*/
static int close_pipe(Input *in, char *err, size_t errlen)
{
    int st = pclose(in->fp);
    in->fp = NULL;
    if (st == 0)
        return 0;
    if (st == -1)
        set_err(err, errlen, "gzip: %s", strerror(errno));
    else if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        set_err(err, errlen, "cannot run gzip (is it installed?)");
    else if (WIFEXITED(st))
        set_err(err, errlen, "gzip -dc failed with exit status %d "
                "(not gzip data, or a truncated or corrupt file)", WEXITSTATUS(st));
    else
        set_err(err, errlen, "gzip -dc was killed by signal %d",
                WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return -1;
}

/* Read what fits after buf[end].  1: got bytes, 0: end of input, -1: error. */
static int fill(Input *in, char *err, size_t errlen)
{
    size_t n;
    if (in->eof)
        return 0;
    n = fread(in->buf + in->end, 1, in->cap - in->end - 1, in->fp);
    in->end += n;
    in->bytes += n;
    if (n > 0)
        return 1;
    in->eof = 1;
    if (ferror(in->fp)) {
        set_err(err, errlen, "read error: %s", strerror(errno));
        return -1;
    }
    return in->src == SRC_PIPE ? close_pipe(in, err, errlen) : 0;
}

/*
** Move the partial line to the front of the buffer and make sure at least
** half a chunk is free after it, growing geometrically up to limit + chunk
** (the partial line is never over limit + 1 bytes here).  -1: out of memory.
*/
static int make_room(Input *in)
{
    size_t have = in->end - in->start, ncap, limit, least;
    char *nb;
    if (in->start > 0) {
        memmove(in->buf, in->buf + in->start, have);
        in->start = 0;
        in->end = have;
    }
    if (in->cap - in->end - 1 >= CHUNK / 2)
        return 0;
    limit = in->max_line + CHUNK + 2;
    least = in->end + CHUNK / 2 + 1;
    ncap = in->cap * 2 < limit ? in->cap * 2 : limit;
    if (ncap < least)
        ncap = least;
    nb = realloc(in->buf, ncap);
    if (!nb)
        return -1;
    in->buf = nb;
    in->cap = ncap;
    return 0;
}

/*
** Skip the rest of an over-long line in constant memory: keep its first
** INPUT_KEEP_PREFIX bytes in keep[], read and drop chunks until its LF,
** and leave its length (without CR LF) in long_len.
*/
static int skip_long(Input *in, char *err, size_t errlen)
{
    const char *s = in->buf + in->start;
    size_t have = in->end - in->start;
    unsigned long long total = have;
    char last = s[have - 1];
    in->keep_len = have < INPUT_KEEP_PREFIX ? have : utf8_cut(s, INPUT_KEEP_PREFIX);
    memcpy(in->keep, s, in->keep_len);
    in->keep[in->keep_len] = '\0';
    in->start = in->end = in->scanned = 0;
    for (;;) {
        int r = fill(in, err, errlen);
        const char *nl;
        if (r < 0)
            return LINE_ERR;
        if (r == 0)
            break;
        nl = memchr(in->buf, '\n', in->end);
        if (nl) {
            size_t n = (size_t)(nl - in->buf);
            total += n;
            last = n ? nl[-1] : last;
            in->start = n + 1;
            break;
        }
        total += in->end;
        last = in->buf[in->end - 1];
        in->end = 0;
    }
    in->long_len = total - (last == '\r');
    return LINE_LONG;
}

/*
** Find the next line.  LINE_OK: it is at *p, *len bytes, NUL-terminated in
** place (a CR before the LF is still there); LINE_LONG: an over-long line
** was skipped (skip_long); LINE_EOF; LINE_ERR with err set.
*/
static int next_line(Input *in, char **p, size_t *len, char *err, size_t errlen)
{
    for (;;) {
        char *s = in->buf + in->start;
        size_t have = in->end - in->start;
        char *nl = memchr(s + in->scanned, '\n', have - in->scanned);
        if (nl) {
            *p = s;
            *len = (size_t)(nl - s);
            *nl = '\0';
            in->start += *len + 1;
            in->scanned = 0;
            return LINE_OK;
        }
        in->scanned = have;
        if (have > in->max_line + 1)      /* + 1: room for a CR */
            return skip_long(in, err, errlen);
        if (in->eof) {
            if (have == 0)
                return LINE_EOF;
            *p = s;
            *len = have;
            s[have] = '\0';
            in->start = in->end;
            in->scanned = 0;
            return LINE_OK;
        }
        if (make_room(in) < 0) {
            set_err(err, errlen, "out of memory for a line of %zu bytes", have);
            return LINE_ERR;
        }
        if (fill(in, err, errlen) < 0)
            return LINE_ERR;
    }
}

/* ------------------------------------------------------------------ */
/* Checking a line                                                     */
/* ------------------------------------------------------------------ */

static void bad(Input *in, InputRecord *rec, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Mark rec bad with reason and a formatted detail (kept in in->detail). */
static void bad(Input *in, InputRecord *rec, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(in->detail, sizeof in->detail, fmt, ap);
    va_end(ap);
    rec->reason = reason;
    rec->detail = in->detail;
}

/* Mark rec "line-too-long": raw is the kept prefix of a line of total bytes. */
static void too_long(Input *in, InputRecord *rec, const char *raw, size_t rawlen,
                     unsigned long long total)
{
    rec->raw = raw;
    rec->rawlen = rawlen;
    rec->raw_utf8 = !memchr(raw, '\0', rawlen) && utf8_check(raw, rawlen) == rawlen;
    bad(in, rec, "line-too-long", "line of %llu bytes is over the limit of %zu bytes",
        total, in->max_line);
}

static int is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The offset of the first byte at or after off that is not white space. */
static size_t skip_space(const char *p, size_t len, size_t off)
{
    while (off < len && is_json_space(p[off]))
        off++;
    return off;
}

static int has_bom(const char *p, size_t len)
{
    return len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0;
}

static const char *json_what(const cJSON *j)
{
    if (cJSON_IsArray(j))
        return "an array";
    if (cJSON_IsString(j))
        return "a string";
    if (cJSON_IsNumber(j))
        return "a number";
    if (cJSON_IsBool(j))
        return "a boolean";
    return "null";
}

/* The wrapped record when obj is a one-member list wrapper (input.h). */
static cJSON *unwrap(cJSON *obj, const char **wrapper)
{
    cJSON *m = obj->child;
    if (!m || m->next || !m->string || !cJSON_IsObject(m))
        return obj;
    for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++) {
        if (strcmp(m->string, wrappers[i]) == 0) {
            *wrapper = wrappers[i];
            return m;
        }
    }
    return obj;
}

/*
** Parse a line already known to be clean UTF-8 without NULs (check_line
** also refuses a BOM at line 1 first: it has its own reason).
*/
static void parse_line(Input *in, InputRecord *rec, const char *p, size_t len)
{
    JpError err;
    cJSON *doc = in->parser.parse(in->parser.ctx, p, len, &err);
    if (!doc) {
        bad(in, rec, "bad-json", "%s at byte %zu", err.msg, err.offset + 1);
        return;
    }
    if (!cJSON_IsObject(doc)) {
        bad(in, rec, "not-an-object", "the line holds %s, not an object", json_what(doc));
        in->parser.drop(in->parser.ctx, doc);
        return;
    }
    in->doc = doc;
    rec->json = unwrap(doc, &rec->wrapper);
}

void input_set_parser(Input *in, const InputParser *p)
{
    in->parser = p ? *p : default_parser;
}

/* Classify a line of acceptable length (input.h gives the order). */
static void check_line(Input *in, InputRecord *rec, const char *p, size_t len)
{
    const char *nul = memchr(p, '\0', len);
    size_t at;
    if (nul) {
        bad(in, rec, "nul-byte", "NUL byte at byte %zu", (size_t)(nul - p) + 1);
        return;
    }
    if (has_bom(p, len) && in->line == 1) {
        rec->raw_utf8 = utf8_check(p, len) == len;
        bad(in, rec, "bom", "UTF-8 byte-order mark at the start of the file");
        return;
    }
    if (skip_space(p, len, 0) == len) {
        rec->raw_utf8 = 1;
        bad(in, rec, "empty-line", len ? "the line holds only white space" : "empty line");
        return;
    }
    at = utf8_check(p, len);
    if (at < len) {
        bad(in, rec, "invalid-utf8", "invalid UTF-8 at byte %zu", at + 1);
        return;
    }
    rec->raw_utf8 = 1;
    if (has_bom(p, len)) {
        bad(in, rec, "bad-json", "byte-order mark (U+FEFF) at the start of line %ld", in->line);
        return;
    }
    parse_line(in, rec, p, len);
}

cJSON *input_detach(Input *in)
{
    cJSON *doc = in->doc;
    in->doc = NULL;
    return doc;
}

int input_next(Input *in, InputRecord *rec, char *err, size_t errlen)
{
    char *p = NULL;
    size_t len = 0;
    int r;
    if (!in || !rec) {
        set_err(err, errlen, "input_next: no input or no record");
        return -1;
    }
    if (in->doc)
        in->parser.drop(in->parser.ctx, in->doc);
    in->doc = NULL;
    memset(rec, 0, sizeof *rec);
    r = next_line(in, &p, &len, err, errlen);
    if (r == LINE_EOF || r == LINE_ERR)
        return r == LINE_EOF ? 0 : -1;
    rec->line = ++in->line;
    if (r == LINE_LONG) {
        too_long(in, rec, in->keep, in->keep_len, in->long_len);
        return 1;
    }
    if (len > 0 && p[len - 1] == '\r')
        p[--len] = '\0';
    if (len > in->max_line) {
        size_t keep = len <= INPUT_KEEP_PREFIX ? len : utf8_cut(p, INPUT_KEEP_PREFIX);
        p[keep] = '\0';                /* the rest of the line is dropped anyway */
        too_long(in, rec, p, keep, len);
        return 1;
    }
    rec->raw = p;
    rec->rawlen = len;
    check_line(in, rec, p, len);
    return 1;
}

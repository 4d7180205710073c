/*
** input: the streaming NDJSON reader behind `maprun stage`.
**
** One Input reads one source file of Customer.io records, one JSON object
** per line, and hands them out one at a time.  Memory stays flat however
** long the file is: one reusable buffer (256 KiB, grown only up to the
** longest accepted line plus one read chunk) and the cJSON tree of the
** current record, freed on the next call.  A malformed line is not an
** error of the run: it comes back as a record with a reason code so the
** caller can quarantine it and go on.
**
** Reason codes (stable strings; quarantine entries and reports use them):
**
**   "empty-line"     the line is empty or holds only white space (space,
**                    tab, CR).  The newline that ends the last line does
**                    not make an empty record after it.
**   "bom"            line 1 starts with a UTF-8 byte-order mark (EF BB BF).
**                    The line is quarantined, not stripped: a BOM means a
**                    tool (an editor, PowerShell, Excel) rewrote the file
**                    and may have changed more than the first three bytes
**                    (encoding, quoting, line ends), so the file should be
**                    looked at rather than loaded silently.  The raw line
**                    is kept, so the record can be re-fed once checked.
**                    A BOM anywhere else is plain data: at the start of a
**                    later line it is "bad-json"; inside a string it is
**                    the character U+FEFF and accepted.
**   "invalid-utf8"   the line is not strict UTF-8: stray continuation
**                    bytes, overlong forms, surrogates (U+D800-DFFF),
**                    code points above U+10FFFF, truncated sequences.
**   "bad-json"       the line is not one JSON value (RFC 8259, as strict
**                    as runtime/jsonparse.h says), white space around it
**                    allowed; the detail names the fault and its byte.
**   "not-an-object"  the line is valid JSON but not an object.
**   "line-too-long"  the line is longer than the limit (input_set_max_line,
**                    8 MiB by default).  Only its first 4 KiB are kept
**                    (InputRecord.raw); the rest is skipped in constant
**                    memory.
**   "nul-byte"       the line holds a NUL byte.
**
** When a line has several faults the first in this order is reported:
** line-too-long, nul-byte, bom, empty-line, invalid-utf8, bad-json,
** not-an-object.  Lines end at LF; a CR before the LF is dropped.
**
** Unwrapping.  The App API returns single records wrapped in a one-member
** object ({"customer": {...}} from GET /v1/customers/{id}/attributes).  A
** record that is an object with exactly one member, whose name is one of
** INPUT_WRAPPERS below and whose value is an object, is replaced by that
** inner object.  {"customer": 1} or {"customer": {...}, "x": 1} stay as
** they are (and the mapping rules see them as they are).
*/
#ifndef MAPRUN_INPUT_H
#define MAPRUN_INPUT_H

#include "jsonparse.h"

#include <stddef.h>

typedef struct Input Input;

/*
** The member names unwrapped (see above).  From the App API's single-
** record responses (../shared/reference/customerio.md section 1.4,
** stdlib/customerio.map): customer (people), object, message (deliveries
** and transactional templates), campaign, broadcast, newsletter, segment;
** and action and content, the single-record forms of the actions[] and
** contents[] lists.  Lists (activities[], workspaces[], topics[],
** suppressions[] ...) have no single-record form, so those names are not
** wrappers.  ORDER INPUT_WRAPPERS: tests/unit/test_input.c lists them too.
*/
#define INPUT_WRAPPERS \
    "customer", "object", "message", "campaign", "broadcast", "newsletter", \
    "segment", "action", "content"

/* The default line limit (bytes before the line end). */
#define INPUT_DEFAULT_MAX_LINE ((size_t)8 << 20)
/* How much of an over-long line is kept for its quarantine entry. */
#define INPUT_KEEP_PREFIX ((size_t)4096)

/*
** Open one input.  spec is "PATH", "KIND=PATH" or "KIND=-" (standard
** input; "-" alone is refused since stdin has no name to take a kind
** from).  A spec is KIND=PATH when the text before its first '=' holds no
** '/'; write "./a=b.ndjson" for a file whose name holds '='.  A PATH
** ending in ".gz" is read through `gzip -dc` (a pipe; no zlib).
**
** Without KIND=, the kind comes from the file's base name: everything
** before the first '.', the first '-', or the first '_' followed by a
** digit.  So person.ndjson, person-2024.ndjson, person_01.ndjson.gz and
** person.part2.ndjson are all "person", while object_type.ndjson is
** "object_type".  The kind must be a plain identifier
** ([A-Za-z_][A-Za-z0-9_]*); "2024.ndjson" has none and is refused.
** Whether the plan knows the kind is the caller's business.
**
** Returns NULL and writes a one-line reason, starting with the file name,
** to err on failure.
*/
Input *input_open(const char *spec, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Close the input and free everything it owns (including the last record). */
void input_close(Input *in);

/* The kind ("person"), and the path as given ("data/person.ndjson";
** "<stdin>" for standard input), for messages. */
const char *input_kind(const Input *in);
const char *input_path(const Input *in);

/*
** How good lines are parsed: jp_parse (jsonparse.h) and cJSON_Delete unless
** set.  parse gives the tree or NULL with *err; drop releases a tree the
** reader does not hand out (not an object, or the last record's tree when
** the next is read without input_detach).  The bench sets cJSON's parser to
** measure the floor issue 3 defines (read + cJSON parse); the read-ahead
** thread (reader.h) parses into its batches' memory.
*/
typedef struct InputParser {
    cJSON *(*parse)(void *ctx, const char *s, size_t len, JpError *err);
    void (*drop)(void *ctx, cJSON *tree);
    void *ctx;
} InputParser;
/* Copies *p; NULL restores the default. */
void input_set_parser(Input *in, const InputParser *p);

/* Lines longer than bytes (without the line end) are "line-too-long".
** 0 restores the default.  Takes effect from the next line on. */
void input_set_max_line(Input *in, size_t bytes);

typedef struct InputRecord {
    cJSON *json;          /* the parsed, unwrapped object (owned by the Input until the next call) or NULL */
    long line;            /* 1-based line number */
    const char *raw;      /* the raw line (without the line end), valid until the next call;
                             NUL-terminated, but may hold NULs itself ("nul-byte") */
    size_t rawlen;        /* its length; for over-long lines, the kept prefix: at most
                             INPUT_KEEP_PREFIX bytes, cut back so no UTF-8 sequence is split */
    int raw_utf8;         /* 1 when raw is valid UTF-8 without NULs (it can go into a JSON string
                             as is): always for good records; never for "invalid-utf8" and
                             "nul-byte"; for "line-too-long" and "bom" it depends on the bytes */
    const char *reason;   /* NULL for a good record; else a reason code (above) */
    const char *detail;   /* human detail for a bad line, e.g. "invalid UTF-8 at byte 17" (byte
                             offsets count from 1), valid until the next call; NULL if good */
    const char *wrapper;  /* the wrapper member removed ("customer"), or NULL */
} InputRecord;

/*
** Read the next record.  1: *rec holds a record (good, or bad with reason
** set); 0: end of input; -1: a read error, such as a failing disk or a
** corrupt .gz (reason in err, without the file name: input_path has it).
** After 0 or -1, *rec is cleared.
*/
int input_next(Input *in, InputRecord *rec, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Take over the tree of the record input_next gave last (NULL for a bad
** record): the next input_next no longer deletes it; the caller does, or
** drops it when its memory goes otherwise (jsonmem.h). */
cJSON *input_detach(Input *in);

/* Bytes read so far (after decompression for .gz), for progress. */
unsigned long long input_bytes(const Input *in);

/* The read buffer's current size in bytes, for tests of flat memory. */
size_t input_buffer_capacity(const Input *in);

#endif

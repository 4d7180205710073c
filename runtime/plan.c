/*
** plan: building, writing, reading and verifying compiled plans.
**
** Every section is an array of little-endian 32-bit words, so the reader
** checks bounds in one place (Cursor) and a corrupt or truncated file can
** only produce an error, never an out-of-bounds read.
*/
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const OpInfo op_table[] = {
#define OP(name, arg, pop, push, doc) {#name, ARG_##arg, pop, push, doc},
#include "opcodes.def"
#undef OP
};

const OpInfo *op_info(unsigned op)
{
    return op < OP__COUNT ? &op_table[op] : NULL;
}

enum { SEC_STRS = 1, SEC_CONSTS, SEC_FIELDS, SEC_OBJECTS, SEC_GRAPH, SEC_SLOTS, SEC_RULES, SEC_SPLITS,
       SEC_REFS, SEC_CODE, SEC_SPANS, SEC_META, SEC_NOTES, SEC__END };
#define HEADER_WORDS 6     /* magic, version|nsections, size, crc, isa fingerprint, reserved */

/* ---- building */

static void *grow(void *v, uint32_t n, size_t size)
{
    if ((n & (n - 1)) == 0) {                  /* at 0, 1, 2, 4, 8…: double */
        void *nv = realloc(v, size * (n ? n * 2 : 1));
        if (!nv) {
            fputs("mapc: out of memory\n", stderr);
            exit(3);
        }
        return nv;
    }
    return v;
}

uint32_t plan_str(Plan *p, const char *s)
{
    for (uint32_t i = 0; i < p->nstrs; i++)
        if (strcmp(p->strs[i], s) == 0)
            return i;
    p->strs = grow(p->strs, p->nstrs, sizeof(char *));
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (!c)
        exit(3);
    memcpy(c, s, n + 1);
    p->strs[p->nstrs] = c;
    return p->nstrs++;
}

uint32_t plan_const(Plan *p, PlanConst c)
{
    for (uint32_t i = 0; i < p->nconsts; i++) {
        const PlanConst *k = &p->consts[i];
        if (k->kind == c.kind && k->str == c.str && memcmp(&k->num, &c.num, sizeof c.num) == 0)
            return i;
    }
    p->consts = grow(p->consts, p->nconsts, sizeof(PlanConst));
    p->consts[p->nconsts] = c;
    return p->nconsts++;
}

uint32_t plan_emit(Plan *p, Opcode op, uint32_t a)
{
    p->code = grow(p->code, p->ncode, sizeof(uint32_t));
    p->code[p->ncode] = INSTR(op, a);
    return p->ncode++;
}

const char *plan_s(const Plan *p, uint32_t str)
{
    return str < p->nstrs ? p->strs[str] : "";
}

void plan_span_of(const Plan *p, uint32_t pc, const char **file, uint32_t *line, uint32_t *col)
{
    *file = "";
    *line = *col = 0;
    for (uint32_t i = 0; i < p->nspans && p->spans[i].pc <= pc; i++) {
        *file = plan_s(p, p->spans[i].file);
        *line = p->spans[i].line;
        *col = p->spans[i].col;
    }
}

/* A fingerprint of the instruction set and the builtins: a plan compiled
** by a mapc with other tables is refused with a clear message. */
static uint32_t isa_fingerprint(void)
{
    static const char isa[] =
#define OP(name, arg, pop, push, doc) #name "/" #arg "/" #pop "/" #push ";"
#include "opcodes.def"
#undef OP
#define BUILTIN(id, name, args, ret, flags, doc) name "/" args ";"
#include "builtins.def"
#undef BUILTIN
        ;
    return plan_crc32((const uint8_t *)isa, sizeof isa - 1);
}

uint32_t plan_crc32(const uint8_t *buf, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= buf[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- writing */

typedef struct Out {
    uint8_t *b;
    size_t len, cap;
} Out;

static void put32(Out *o, uint32_t w)
{
    if (o->len + 4 > o->cap) {
        o->cap = o->cap ? o->cap * 2 : 4096;
        o->b = realloc(o->b, o->cap);
        if (!o->b)
            exit(3);
    }
    o->b[o->len++] = (uint8_t)w;
    o->b[o->len++] = (uint8_t)(w >> 8);
    o->b[o->len++] = (uint8_t)(w >> 16);
    o->b[o->len++] = (uint8_t)(w >> 24);
}

static void put_bytes(Out *o, const char *s, uint32_t n)
{
    put32(o, n);
    for (uint32_t i = 0; i < n; i += 4) {
        uint32_t w = 0;
        for (uint32_t k = 0; k < 4 && i + k < n; k++)
            w |= (uint32_t)(uint8_t)s[i + k] << (8 * k);
        put32(o, w);
    }
}

static void put_words(Out *o, const uint32_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put32(o, w[i]);
}

static void write_section(Plan *p, int id, Out *o)
{
    uint32_t i;
    switch (id) {
    case SEC_STRS:
        put32(o, p->nstrs);
        for (i = 0; i < p->nstrs; i++)
            put_bytes(o, p->strs[i], (uint32_t)strlen(p->strs[i]));
        break;
    case SEC_CONSTS:
        put32(o, p->nconsts);
        for (i = 0; i < p->nconsts; i++) {
            uint64_t bits;
            memcpy(&bits, &p->consts[i].num, sizeof bits);
            put32(o, p->consts[i].kind);
            put32(o, p->consts[i].str);
            put32(o, (uint32_t)bits);
            put32(o, (uint32_t)(bits >> 32));
        }
        break;
    case SEC_FIELDS:
        put32(o, p->nfields);
        put_words(o, (const uint32_t *)p->fields, (size_t)p->nfields * (sizeof(PlanField) / 4));
        break;
    case SEC_OBJECTS:
        put32(o, p->nobjects);
        put_words(o, (const uint32_t *)p->objects, (size_t)p->nobjects * (sizeof(PlanObject) / 4));
        break;
    case SEC_GRAPH:
        put32(o, p->nobjects);
        put_words(o, p->load_order, p->nobjects);
        for (i = 0; i < p->nobjects * p->nobjects; i++)
            put32(o, p->deps[i]);
        break;
    case SEC_SLOTS:
        put32(o, p->nslots);
        put_words(o, (const uint32_t *)p->slots, (size_t)p->nslots * (sizeof(PlanSlot) / 4));
        break;
    case SEC_RULES:
        put32(o, p->nrules);
        put_words(o, (const uint32_t *)p->rules, (size_t)p->nrules * (sizeof(PlanRule) / 4));
        break;
    case SEC_SPLITS:
        put32(o, p->nsplits);
        put_words(o, (const uint32_t *)p->splits, (size_t)p->nsplits * (sizeof(PlanSplit) / 4));
        break;
    case SEC_REFS:
        put32(o, p->nrefs);
        put_words(o, (const uint32_t *)p->refs, (size_t)p->nrefs * (sizeof(PlanRef) / 4));
        break;
    case SEC_CODE:
        put32(o, p->ncode);
        put_words(o, p->code, p->ncode);
        break;
    case SEC_SPANS:
        put32(o, p->nspans);
        put_words(o, (const uint32_t *)p->spans, (size_t)p->nspans * (sizeof(PlanSpan) / 4));
        break;
    case SEC_META:
        put32(o, 2);
        put32(o, p->migration);
        put32(o, p->api_version);
        break;
    case SEC_NOTES:
        put32(o, p->nnotes);
        put_words(o, (const uint32_t *)p->notes, (size_t)p->nnotes * (sizeof(PlanNote) / 4));
        break;
    }
}

uint8_t *plan_serialize(Plan *p, size_t *size)
{
    Out o = {0};
    int nsec = SEC__END - 1;
    for (int i = 0; i < HEADER_WORDS + 3 * nsec; i++)
        put32(&o, 0);
    for (int id = 1; id < SEC__END; id++) {
        size_t start = o.len;
        write_section(p, id, &o);
        size_t at = (HEADER_WORDS + 3 * (size_t)(id - 1)) * 4;
        uint32_t ent[3] = {(uint32_t)id, (uint32_t)start, (uint32_t)(o.len - start)};
        for (int k = 0; k < 3; k++)
            for (int b = 0; b < 4; b++)
                o.b[at + 4 * (size_t)k + (size_t)b] = (uint8_t)(ent[k] >> (8 * b));
    }
    uint32_t head[HEADER_WORDS] = {0x4250414Du /* "MAPB" */, PLAN_VERSION | ((uint32_t)nsec << 16),
                                   (uint32_t)o.len, 0, isa_fingerprint(), 0};
    for (int k = 0; k < HEADER_WORDS; k++)
        for (int b = 0; b < 4; b++)
            o.b[4 * k + b] = (uint8_t)(head[k] >> (8 * b));
    uint32_t crc = plan_crc32(o.b, o.len);
    for (int b = 0; b < 4; b++)
        o.b[12 + b] = (uint8_t)(crc >> (8 * b));
    p->hash = crc;
    *size = o.len;
    return o.b;
}

int plan_write(Plan *p, const char *path, char *err, size_t errlen)
{
    size_t n;
    uint8_t *buf = plan_serialize(p, &n);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(buf, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = 0;
    free(buf);
    if (!ok) {
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    return 0;
}

/* ---- reading */

typedef struct Cursor {
    const uint8_t *b;
    size_t pos, end;
    int bad;
} Cursor;

static uint32_t get32(Cursor *c)
{
    if (c->bad || c->pos + 4 > c->end) {
        c->bad = 1;
        return 0;
    }
    const uint8_t *q = c->b + c->pos;
    c->pos += 4;
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}

/* An array of n records of `words` words each, with n checked against the bytes left. */
static void *get_array(Cursor *c, uint32_t *n, size_t words)
{
    *n = get32(c);
    if (c->bad || (size_t)*n * words * 4 > c->end - c->pos) {
        c->bad = 1;
        *n = 0;
        return NULL;
    }
    uint32_t *a = calloc((size_t)*n * words + 1, sizeof(uint32_t));
    if (!a)
        exit(3);
    for (size_t i = 0; i < (size_t)*n * words; i++)
        a[i] = get32(c);
    return a;
}

static int read_strs(Plan *p, Cursor *c)
{
    p->nstrs = get32(c);
    if (c->bad || p->nstrs > (c->end - c->pos) / 4) {
        p->nstrs = 0;
        return -1;
    }
    p->strs = calloc((size_t)p->nstrs + 1, sizeof(char *));
    for (uint32_t i = 0; i < p->nstrs; i++) {
        uint32_t n = get32(c);
        if (c->bad || n > c->end - c->pos) {
            p->nstrs = i;
            return -1;
        }
        p->strs[i] = malloc((size_t)n + 1);
        if (!p->strs[i])
            exit(3);
        memcpy(p->strs[i], c->b + c->pos, n);
        p->strs[i][n] = '\0';
        c->pos += ((size_t)n + 3) / 4 * 4;
        if (c->pos > c->end || strlen(p->strs[i]) != n) {   /* no NUL inside a string */
            p->nstrs = i + 1;
            return -1;
        }
    }
    return 0;
}

static int read_consts(Plan *p, Cursor *c)
{
    uint32_t n;
    uint32_t *w = get_array(c, &n, 4);
    p->consts = calloc((size_t)n + 1, sizeof(PlanConst));
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bits = (uint64_t)w[4 * i + 2] | (uint64_t)w[4 * i + 3] << 32;
        p->consts[i].kind = (PlanConstKind)w[4 * i];
        p->consts[i].str = w[4 * i + 1];
        memcpy(&p->consts[i].num, &bits, sizeof bits);
    }
    p->nconsts = n;
    free(w);
    return c->bad ? -1 : 0;
}

static int read_section(Plan *p, int id, Cursor *c)
{
    uint32_t n;
    switch (id) {
    case SEC_STRS: return read_strs(p, c);
    case SEC_CONSTS: return read_consts(p, c);
    case SEC_FIELDS: p->fields = get_array(c, &p->nfields, sizeof(PlanField) / 4); break;
    case SEC_OBJECTS: p->objects = get_array(c, &p->nobjects, sizeof(PlanObject) / 4); break;
    case SEC_GRAPH:
        p->load_order = get_array(c, &n, 1);
        if (n != p->nobjects)
            return -1;
        p->deps = calloc((size_t)n * n + 1, 1);
        for (size_t i = 0; i < (size_t)n * n; i++)
            p->deps[i] = (uint8_t)(get32(c) != 0);
        break;
    case SEC_SLOTS: p->slots = get_array(c, &p->nslots, sizeof(PlanSlot) / 4); break;
    case SEC_RULES: p->rules = get_array(c, &p->nrules, sizeof(PlanRule) / 4); break;
    case SEC_SPLITS: p->splits = get_array(c, &p->nsplits, sizeof(PlanSplit) / 4); break;
    case SEC_REFS: p->refs = get_array(c, &p->nrefs, sizeof(PlanRef) / 4); break;
    case SEC_CODE: p->code = get_array(c, &p->ncode, 1); break;
    case SEC_SPANS: p->spans = get_array(c, &p->nspans, sizeof(PlanSpan) / 4); break;
    case SEC_META:
        if (get32(c) != 2)
            return -1;
        p->migration = get32(c);
        p->api_version = get32(c);
        break;
    case SEC_NOTES: p->notes = get_array(c, &p->nnotes, sizeof(PlanNote) / 4); break;
    }
    return c->bad ? -1 : 0;
}

static int fail(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s", what);
    return -1;
}

static int read_sections(Plan *p, const uint8_t *buf, size_t size, char *err, size_t errlen)
{
    Cursor h = {buf, 0, size, 0};
    get32(&h);
    uint32_t vn = get32(&h);
    uint32_t nsec = vn >> 16;
    if ((vn & 0xFFFF) != PLAN_VERSION)
        return fail(err, errlen, "unsupported plan version (recompile it with this mapc)");
    if (nsec != SEC__END - 1)
        return fail(err, errlen, "wrong number of sections");
    h.pos = HEADER_WORDS * 4;
    for (uint32_t i = 0; i < nsec; i++) {
        uint32_t id = get32(&h), off = get32(&h), len = get32(&h);
        if (h.bad || id != i + 1 || off > size || len > size - off || off % 4)
            return fail(err, errlen, "corrupt section table");
        Cursor c = {buf, off, (size_t)off + len, 0};
        if (read_section(p, (int)id, &c) < 0 || c.pos != c.end)
            return fail(err, errlen, "corrupt or truncated section");
    }
    return 0;
}


int plan_parse(Plan *p, const uint8_t *buf, size_t size, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->migration = p->api_version = PLAN_NONE;
    if (size < HEADER_WORDS * 4 || memcmp(buf, PLAN_MAGIC, 4) != 0)
        return fail(err, errlen, "not a mapc plan (bad magic)");
    uint32_t declared = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 | (uint32_t)buf[10] << 16 | (uint32_t)buf[11] << 24;
    if (declared != size)
        return fail(err, errlen, declared > size ? "truncated plan" : "plan has trailing bytes");
    uint32_t crc = (uint32_t)buf[12] | (uint32_t)buf[13] << 8 | (uint32_t)buf[14] << 16 | (uint32_t)buf[15] << 24;
    uint8_t *copy = malloc(size);
    if (!copy)
        exit(3);
    memcpy(copy, buf, size);
    memset(copy + 12, 0, 4);
    uint32_t actual = plan_crc32(copy, size);
    free(copy);
    if (actual != crc)
        return fail(err, errlen, "checksum mismatch: the plan is corrupt");
    p->hash = crc;
    uint32_t isa = (uint32_t)buf[16] | (uint32_t)buf[17] << 8 | (uint32_t)buf[18] << 16 | (uint32_t)buf[19] << 24;
    if (isa != isa_fingerprint())
        return fail(err, errlen, "compiled by a mapc with another instruction set: recompile the rules");
    if (read_sections(p, buf, size, err, errlen) < 0 || plan_verify(p, err, errlen) < 0) {
        plan_free(p);
        return -1;
    }
    return 0;
}

int plan_read(Plan *p, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return -1;
    }
    size_t cap = 1 << 16, n = 0, r;
    uint8_t *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf)
        exit(3);
    int rc = plan_parse(p, buf, n, err, errlen);
    free(buf);
    return rc;
}

void plan_free(Plan *p)
{
    for (uint32_t i = 0; i < p->nstrs; i++)
        free(p->strs[i]);
    free(p->strs);
    free(p->consts);
    free(p->fields);
    free(p->objects);
    free(p->load_order);
    free(p->deps);
    free(p->slots);
    free(p->rules);
    free(p->splits);
    free(p->refs);
    free(p->code);
    free(p->spans);
    free(p->notes);
    memset(p, 0, sizeof *p);
}

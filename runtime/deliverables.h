/*
** deliverables: `maprun deliverables` — the written documents a migration
** hands over besides its records (docs/deliverables.md): one document per
** inventory section and flag, and per exclusion reason the rules describe,
** rendered from the staged entries, plus an index with their row counts.
**
** Nothing here is specific to one migration: the sections come from the
** plan's rules (`-> inventory "…"`, `-> flag "…"`, `-> exclude "…"`) and each
** section's introduction from the plan's notes (`inventory "…" = "…"`).
** A section named "Document: part" is a part of the document "Document".
*/
#ifndef MAPRUN_DELIVERABLES_H
#define MAPRUN_DELIVERABLES_H

typedef enum { DELIV_MD, DELIV_HTML } DelivFormat;

typedef struct DelivOptions {
    const char *state;
    DelivFormat format;
    const char *out_dir;        /* NULL = STATE/deliverables */
} DelivOptions;

/* "md" or "html" -> *f: 0, or -1 for anything else. */
int deliv_format_parse(const char *s, DelivFormat *f) __attribute__((warn_unused_result));
/* Writes the documents and the index: 0, or 1 when the state cannot be read
** or a document cannot be written (after saying why on standard error). */
int deliv_run(const DelivOptions *o);

#endif

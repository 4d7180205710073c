/*
** export_csv: staged records as Bulk API 2.0 CSV.  `maprun export --csv`
** writes one file per object in load order plus manifest.json; the loader
** (load.c) writes the records it still has to send, one file per job.
*/
#ifndef MAPRUN_EXPORT_CSV_H
#define MAPRUN_EXPORT_CSV_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct Plan;
struct Stage;

/* Which records go out: called (twice) per staged record of the object,
** with its key (OBJECT \0 KEY) and the record; must answer the same both times. */
typedef bool (*ExportKeep)(void *ctx, const void *key, size_t klen, const cJSON *rec);

typedef struct ExportOptions {
    size_t max_bytes;           /* per file; 0 = 100 MB */
    unsigned long max_rows;     /* per file; 0 = no limit */
    ExportKeep keep;            /* NULL: every record */
    void *ctx;
    const char *stem;           /* OUTDIR/STEM.csv, OUTDIR/STEM.part2.csv, … */
    int order;                  /* > 0: the manifest entry's "order" */
    /* When set, an "Id" column comes first, with this record's Salesforce Id
    ** (an update job); called for records keep() accepted. */
    const char *(*id_of)(void *ctx, const void *key, size_t klen);
    /* When set, fields it answers true for get no column (an update leaves
    ** out the fields Salesforce lets one set only on create). */
    bool (*skip_field)(void *ctx, const char *field);
} ExportOptions;

/* One object's records.  Returns its manifest entry ({"object","columns",
** "external_id","rows","unresolved_references","files":[{"path","rows"}]}),
** or NULL after printing why to stderr. */
cJSON *export_object_csv(struct Stage *st, const struct Plan *p, uint32_t oi, const char *outdir,
                         const ExportOptions *opt);
/* maprun export: returns 0, or -1 after printing why to stderr.  max_bytes 0 = 100 MB. */
int export_csv(const char *dir, const char *outdir, size_t max_bytes);

#endif

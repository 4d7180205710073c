/*
** export_csv: `maprun export --csv` — one Bulk API 2.0 CSV per object, in
** load order, split below a size limit, plus manifest.json.
*/
#ifndef MAPRUN_EXPORT_CSV_H
#define MAPRUN_EXPORT_CSV_H

#include <stddef.h>

/* Returns 0, or -1 after printing why to stderr.  max_bytes 0 = 100 MB. */
int export_csv(const char *dir, const char *outdir, size_t max_bytes);

#endif

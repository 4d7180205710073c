/*
** The stdlib (source-kind shapes, modules, Salesforce describe data),
** embedded at build time by tools/embed.c so mapc runs from anywhere.
*/
#ifndef MAPC_STDLIB_FILES_H
#define MAPC_STDLIB_FILES_H

#include <stddef.h>

typedef struct StdlibFile {
    const char *name;   /* path relative to stdlib/, e.g. "salesforce/Lead.json" */
    const char *data;   /* NUL-terminated */
    size_t len;
} StdlibFile;

extern const StdlibFile stdlib_files[];   /* ends with a {0} entry */

#endif

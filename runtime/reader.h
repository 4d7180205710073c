/*
** reader: the inputs of `maprun stage`, read ahead on a second thread.
**
** A thread opens the inputs in turn and reads them with input.h (line
** splitting, the checks, jp_parse), in batches of records whose raw bytes,
** details and trees live in the batch's own memory; the mapping takes the
** batches in order and hands each back when it is done with it.  So parsing
** runs beside the mapping instead of before it.  The records, their order
** and everything said about them are what input_next would give: only the
** time they are ready changes.  Without the thread (rd_open's threaded
** false, or one CPU) the same batches are filled on demand.
**
** Trees of a batch belong to it (jsonparse.h, jp_parse_with): never pass
** them to cJSON_Delete; they are gone once the next batch is taken.  The
** thread never calls into cJSON's allocator, so the mapping's jsonmem
** arenas stay single-threaded.
*/
#ifndef MAPRUN_READER_H
#define MAPRUN_READER_H

#include "input.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct Reader Reader;

typedef enum {
    RD_RECORD,      /* ev.rec: the next record of the current file */
    RD_FILE,        /* a file begins: ev.kind and ev.path (input_kind, input_path) */
    RD_ERROR,       /* ev.error: an input could not be opened ("FILE: reason") or read
                    ** ("FILE: reason"); nothing follows */
    RD_END          /* every input was read */
} RdType;

typedef struct RdEvent {
    RdType type;
    InputRecord rec;
    const char *kind, *path, *error;    /* valid until the next rd_next */
} RdEvent;

/* Read specs (input_open's) in order; max_line as input_set_max_line (0: default). */
Reader *rd_open(char **specs, int nspecs, size_t max_line, bool threaded);
/* The next event.  After RD_END or RD_ERROR it stays at that event. */
void rd_next(Reader *rd, RdEvent *ev);
/* Stop the thread (wherever it is) and free everything. */
void rd_close(Reader *rd);

#endif

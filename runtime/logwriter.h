/*
** logwriter: appending to a file, with the write calls on a thread of their
** own.
**
** Staging appends every record to records.log (stage.c): 227 MiB for 166
** MiB of input in the bench, and the kernel's side of those writes (copying
** into the page cache, allocating blocks) was a tenth of the mapping
** thread's time.  lw_append copies into one of two buffers; when it is
** full the thread writes it with pwrite while the other one fills.  A
** failed write is sticky: every later call returns its errno.
*/
#ifndef MAPRUN_LOGWRITER_H
#define MAPRUN_LOGWRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct LogWriter LogWriter;

/* Append to fd from offset end on, through two buffers of bufsize bytes.  NULL when out of memory. */
LogWriter *lw_open(int fd, uint64_t end, size_t bufsize);
/* Append n bytes.  0, or the errno of a failed write. */
int lw_append(LogWriter *w, const void *p, size_t n);
/* Wait until everything appended has been written (is the kernel's).  0 or errno. */
int lw_flush(LogWriter *w);
/* Flush, stop the thread, free.  0 or errno.  The fd stays open. */
int lw_close(LogWriter *w);

#endif

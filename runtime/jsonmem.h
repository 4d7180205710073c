/*
** jsonmem: where cJSON's memory comes from while `maprun stage` streams
** records.
**
** Every record is parsed into a cJSON tree of dozens of small nodes, and the
** mapping builds a few more trees (parse_json, flatten, lists); each node was
** a malloc and a free.  Inside a window (jsonmem_begin .. jsonmem_end) cJSON
** allocates from two bump arenas that take turns, one record each:
** jsonmem_next_record() switches to the other one and forgets what it held,
** the record before the previous one.  Freeing arena memory does nothing.
** Two arenas, because a record's trees are deleted while the next record
** starts (input_next deletes the last tree before parsing the next one, the
** VM's arena deletes its trees when the next record begins), so the previous
** record's memory must stay intact until then.
**
** Outside the window cJSON uses malloc and free as usual; free of memory
** that is not the arenas' goes to free().  Inside it, everything cJSON
** allocates is the arena's, so a record's tree need not even be deleted
** (input_detach).  Memory is flat: each arena keeps the blocks of the
** largest record it held (big strings are freed at its reset).
**
** Rules for code that runs inside the window: a cJSON tree must not outlive
** the record after its own (nothing does: staged values are copied), and
** text from cJSON_Print* is released with cJSON_free, never free().
*/
#ifndef MAPRUN_JSONMEM_H
#define MAPRUN_JSONMEM_H

/* Install the allocator (once; idempotent) and open the window. */
void jsonmem_begin(void);
/* A new record: switch arenas, forgetting the older one's contents. */
void jsonmem_next_record(void);
/* Close the window (cJSON goes back to malloc) and free both arenas.  Every
** tree allocated inside it must have been deleted, or be deleted no more. */
void jsonmem_end(void);

#endif

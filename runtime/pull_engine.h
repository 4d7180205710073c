/*
** pull_engine: what every kind of `maprun pull` shares (pull.c, pull_people.c):
** the run's state, the output files with their checkpoints, paging, and the
** walks over kinds already pulled.  Internal to the pull; prefix pe_.
*/
#ifndef MAPRUN_PULL_ENGINE_H
#define MAPRUN_PULL_ENGINE_H

#include "cio.h"
#include "pull.h"
#include "sortrun.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>

/* One run of the pull. */
typedef struct Pull {
    const PullOptions *o;
    CioClient *c;
    char dir[4096];
    cJSON *state;               /* .pull.json: {"kinds":{KIND:{"done","cursor","parent","offset","records"}}} */
    cJSON *manifest;            /* kinds -> {"records","status"}; "unreadable": [...] */
    long long since;            /* unix seconds, 0: everything */
    SortRuns *rel;              /* "d" cio_id|type|cio_object_id -> "" (seen); "p" cio_id -> [links] */
    FILE *out;                  /* the kind being written */
    const char *kind;
    unsigned long long records;
    bool failed;                /* stop: resume later */
    int unreadable;
} Pull;

/* Called for each item of a page, and for each line of a pulled file; nonzero stops. */
typedef int (*ItemFn)(Pull *P, cJSON *item, void *ctx);
typedef int (*LineFn)(Pull *P, const cJSON *line, void *ctx);

/* A kind read per parent (a campaign's actions, a newsletter's contents…). */
typedef struct Child {
    const char *add_key;        /* set on each item from its parent: "newsletter_id", … */
    const char *parent_id;
    bool add_numeric;
} Child;

/* JSON helpers: a string member (NULL if not a string); set replaces or adds. */
const char *pe_str(const cJSON *o, const char *k);
/* A list the API may send as null (or leave out): NULL, which iterates as empty. */
const cJSON *pe_list(const cJSON *v);
/* An id the API sends as a number or a string, as text ("" when absent). */
const char *pe_id_text(const cJSON *v, char *buf, size_t n);
/* Replaces a numeric id with its string form (stdlib: identifiers are strings). */
void pe_stringify_id(cJSON *o, const char *k);
void pe_set(cJSON *o, const char *k, cJSON *v);
/* A kind's entry in .pull.json (made when missing). */
cJSON *pe_kind_state(Pull *P, const char *kind);
/* Writes DIR/name atomically (a temp file, then rename). */
int pe_save_json(const char *dir, const char *name, const cJSON *j);
/* Lists an item that could not be read in the manifest. */
void pe_unreadable(Pull *P, const char *what, const CioError *e);
/* A failure of a request: transient ones (after all retries), 401 and
** 429 stop the pull (run it again to resume); others make the item unreadable. */
bool pe_stop_on(Pull *P, const char *what, const CioError *e);
/* Opens DIR/KIND.ndjson, cut back to the last checkpoint when resuming; one line per record. */
int pe_out_begin(Pull *P, const char *kind);
void pe_out_line(Pull *P, const cJSON *rec);
/* The file is on disk up to here, and this is where to go on from. */
int pe_checkpoint(Pull *P, const char *cursor, long parent);
/* Closes the kind: done in .pull.json, counted in the manifest. */
int pe_out_end(Pull *P);
/* Resume: a kind finished by an earlier run; where the current kind stopped. */
bool pe_kind_done(Pull *P, const char *kind);
const char *pe_resume_cursor(Pull *P);
long pe_resume_parent(Pull *P);
/* GET or POST path (which may already hold a query) page by page, from
** cursor, handing each item of list_key to fn; stops when `next` is empty or
** a page is empty (a cursor that never ends), checkpointing after each page. */
int pe_pages(Pull *P, const char *method, const char *path, const cJSON *body, const char *list_key, int limit,
             const char *cursor, long parent, ItemFn fn, void *ctx);
/* One request, the whole list (endpoints without paging). */
cJSON *pe_whole_list(Pull *P, const char *path, const char *list_key);
/* An ItemFn writing the item as it is. */
int pe_write_item(Pull *P, cJSON *item, void *ctx);
/* A kind that is one unpaged list. */
int pe_simple_kind(Pull *P, const char *kind, const char *path, const char *list_key);
/* Each line of an already pulled DIR/KIND.ndjson, parsed (a missing file has none). */
int pe_each_line(Pull *P, const char *kind, LineFn fn, void *ctx);
/* The ids (field idf) of a pulled kind's lines, optionally only where only_field = only_value. */
cJSON *pe_ids_of(Pull *P, const char *kind, const char *idf, const char *only_field, const char *only_value);
/* parents: [{"path","id"}]; each parent's list, page by page, resumable; each
** item to fn with ch (ch->parent_id set), or written with ch's key when fn is NULL. */
int pe_per_parent(Pull *P, cJSON *parents, const char *list_key, int limit, ItemFn fn, Child *ch);
/* [{"path": fmt % id, "id": id, "key": key}] for the ids of a pulled kind; appended to into. */
void pe_add_parents(cJSON *into, cJSON *ids, const char *fmt, const char *key);
/* A whole kind read per parent (takes parents). */
int pe_child_kind(Pull *P, const char *kind, cJSON *parents, const char *list_key, int limit, const char *add_key,
                  bool numeric);

/* pull_people.c: the kinds "object", "relationship" and "person". */
int pull_objects(Pull *P);
int pull_relationships(Pull *P);
int pull_people(Pull *P);

#endif

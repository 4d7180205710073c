/*
** jsonmem: two bump arenas behind cJSON_InitHooks (see jsonmem.h).
**
** An arena is a list of BLOCK-byte blocks, filled in turn and kept across
** resets, and a list of requests above BIG, each its own malloc, freed at
** the reset.  Whether a pointer is arena memory is a range check against
** the blocks of both arenas (a few blocks: records are small), then a look
** at the big requests (rare).  So every byte cJSON takes inside the window
** goes at the reset, and a record's tree can be dropped without a delete.
*/
#include "jsonmem.h"
#include "value.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define BLOCK ((size_t)256 * 1024)
#define BIG ((size_t)16 * 1024)

typedef struct JmBlock {
    struct JmBlock *next;
    size_t used;
    _Alignas(16) unsigned char data[];
} JmBlock;

typedef struct JmBig {
    struct JmBig *next;
    _Alignas(16) unsigned char data[];
} JmBig;

typedef struct JmArena {
    JmBlock *first, *cur;
    JmBig *big;
} JmArena;

static JmArena arenas[2];
static int turn;            /* the arena being filled */
static bool active;          /* inside the window */
static bool installed;

static bool in_arena(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    for (int i = 0; i < 2; i++)
        for (const JmBlock *b = arenas[i].first; b; b = b->next)
            if (a >= (uintptr_t)b->data && a < (uintptr_t)b->data + BLOCK)
                return true;
    for (int i = 0; i < 2; i++)
        for (const JmBig *g = arenas[i].big; g; g = g->next)
            if (p == g->data)
                return true;
    return false;
}

static void free_big(JmArena *a)
{
    for (JmBig *g = a->big, *next; g; g = next) {
        next = g->next;
        free(g);
    }
    a->big = NULL;
}

/* The next block of arena a, made when there is none yet. */
static void *jm_next_block(JmArena *a, size_t n)
{
    while (!a->cur || a->cur->used + n > BLOCK) {
        JmBlock *next = a->cur ? a->cur->next : a->first;
        if (!next) {                        /* a new block at the end of the list */
            next = malloc(sizeof *next + BLOCK);
            if (!next)
                arena_oom();
            next->next = NULL;
            if (a->cur)
                a->cur->next = next;
            else
                a->first = next;
        }
        next->used = 0;
        a->cur = next;
    }
    void *p = a->cur->data + a->cur->used;
    a->cur->used += n;
    return p;
}

static void *jm_malloc(size_t n)
{
    JmArena *a = &arenas[turn];
    size_t m = (n + 15) & ~(size_t)15;
    if (!active)
        return malloc(n);
    if (n > BIG) {
        JmBig *g = malloc(sizeof *g + n);
        if (!g)
            arena_oom();
        g->next = a->big;
        a->big = g;
        return g->data;
    }
    if (a->cur && a->cur->used + m <= BLOCK) {       /* the common case */
        void *p = a->cur->data + a->cur->used;
        a->cur->used += m;
        return p;
    }
    return jm_next_block(a, m);
}

static void jm_free(void *p)
{
    if (p && !in_arena(p))
        free(p);
}

void jsonmem_begin(void)
{
    if (!installed) {
        cJSON_Hooks h = {jm_malloc, jm_free};
        cJSON_InitHooks(&h);
        installed = true;
    }
    active = true;
}

void jsonmem_next_record(void)
{
    turn ^= 1;
    arenas[turn].cur = NULL;                /* refilled from its first block */
    free_big(&arenas[turn]);
}

void jsonmem_end(void)
{
    active = false;                         /* every tree in the arenas is gone by now (jsonmem.h) */
    for (int i = 0; i < 2; i++) {
        for (JmBlock *b = arenas[i].first, *next; b; b = next) {
            next = b->next;
            free(b);
        }
        arenas[i].first = arenas[i].cur = NULL;
        free_big(&arenas[i]);
    }
}

/* forksafe.c — your fork-safe pools of fixed-size blocks (exercise 07).
 *
 * The starting point: it compiles, never crashes, and passes almost nothing.
 * Each TODO says what to do and names the check of exercise.ini that verifies
 * it. The rules the tests rely on are numbered in README.md beside
 * forksafe.h; `make hint EX=07` gives progressive hints.
 *
 * Three steps: ex04's pool (arena, stride, free list in the free blocks),
 * then a lock per pool, then the fork handlers and the registry of live pools
 * they walk. No malloc, calloc, realloc or free anywhere (rules/no-malloc).
 */
#include "forksafe.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A free block holds the address of the next free block in its first bytes.
 * Valid only while the block is free. */
typedef struct free_block {
    struct free_block *next;
} free_block_t;

/* ---- the registry of live pools, and the fork handlers ---- */

/* TODO (tests/fork-two-pools, tests/destroy-fork, tests/init-twice): every
 * live pool on one list, exactly once, linked through forkpool_t.next and
 * guarded by registry_lock. fk_init adds a pool (after taking it off if it is
 * already there: init twice), fk_destroy takes it off. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static forkpool_t *registry;

/* TODO (tests/fork-held-lock): prepare runs in the thread that calls fork(),
 * just before the copy: take registry_lock, then every pool's lock. fork()
 * then waits until no thread is inside a pool. */
static void fork_prepare(void)
{
}

/* TODO (tests/fork-held-lock): in the parent, after the copy: release what
 * prepare took. */
static void fork_parent(void)
{
}

/* TODO (tests/fork-basic, tests/fork-nested): in the child, whose only thread
 * is a copy of the one that called fork(): make every lock usable again (the
 * registry's too). Re-initialise them: an error-checking mutex refuses an
 * unlock from the child's new thread id. */
static void fork_child(void)
{
}

/* TODO (tests/fork-basic, tests/fork-two-pools): register the three handlers
 * with pthread_atfork exactly once per process, however many pools there are
 * (pthread_once, from fk_init). Not in a constructor with a priority
 * (rules/no-early-init). */
static void handlers_register(void)
{
    (void)fork_prepare;
    (void)fork_parent;
    (void)fork_child;
    (void)registry;
    (void)registry_lock;
}

/* ---- the API ---- */

int fk_init(forkpool_t *fp, void *arena, size_t arena_size, size_t block_size)
{
    if (fp == NULL)
        return -1;
    /* TODO (tests/init): return -1, writing nothing into *fp, when arena is
     * NULL, when block_size is 0, or when rounding it up overflows. */
    /* TODO (tests/init, tests/blocks): as in ex04: the stride is block_size
     * rounded up to FK_ALIGN; the first block starts at the arena's first
     * FK_ARENA_ALIGN boundary; capacity = (arena_size - pad) / stride. */
    /* TODO (tests/no-overlap): pthread_mutex_init(&fp->lock, NULL). */
    handlers_register();
    fp->start = fp->end = fp->fresh = arena;
    fp->free_list = NULL;
    fp->stride = fp->block_size = block_size;
    fp->capacity = 0;
    fp->next = NULL;
    (void)arena_size;
    return 0;
}

void *fk_alloc(forkpool_t *fp)
{
    /* TODO (tests/blocks): pop the free list's head if there is one (LIFO),
     * else carve the block at fresh; NULL when every block is held.
     * TODO (tests/no-overlap): all of it while holding fp->lock. */
    (void)fp;
    return NULL;
}

void fk_free(forkpool_t *fp, void *block)
{
    if (block == NULL) /* tests/blocks */
        return;
    /* TODO (tests/blocks, tests/no-overlap): push the block onto the free
     * list, holding fp->lock. */
    (void)fp;
}

size_t fk_capacity(forkpool_t *fp)
{
    return fp->capacity;
}

void fk_destroy(forkpool_t *fp)
{
    /* TODO (tests/destroy-fork): take the pool off the registry, under
     * registry_lock: after fk_destroy its memory may be anything, and a fork
     * handler that still visits it waits or crashes. */
    (void)fp;
}

/* TODO (tests/blocks): the consistency check the tests call: verify the
 * invariant of forksafe.h holding fp->lock; return -1 (after a line on
 * stderr) when it does not hold. */
int fk_check(forkpool_t *fp)
{
    (void)fp;
    return 0;
}

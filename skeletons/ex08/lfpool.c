/* lfpool.c — your lock-free pool of fixed-size blocks (exercise 08).
 *
 * The starting point: it compiles, hands out every block once, never takes
 * one back, and passes almost nothing. Each TODO says what to do and names
 * the check of exercise.ini that verifies it. The rules the tests rely on are
 * numbered in README.md beside lfpool.h; `make hint EX=08` gives progressive
 * hints.
 *
 * The design the statement recommends: block i lives at blocks + i * stride;
 * the free blocks form a stack of indices whose links live in a side array
 * (next[i] is the block below block i), and the head is one 64-bit word that
 * packs the top index with a 32-bit tag.
 */
#include "lfpool.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The index of no block: the bottom of the stack. */
#define NIL UINT32_MAX

/* TODO (tests/aba, tests/tag-wrap): write down, here, the invariants of your
 * stack (README.md, "The design") and make lf_check verify them. */
struct lf_pool {
    unsigned char *blocks; /* capacity * stride bytes, LF_ALIGN-aligned */
    size_t stride;         /* block_size rounded up to LF_ALIGN */
    size_t capacity;
    /* The skeleton's stand-in for a stack: blocks [fresh, capacity) were never
     * handed out. Not thread-safe, and a freed block is lost.
     * TODO (tests/basics, tests/exhaustion): replace it by the head (an
     * _Atomic uint64_t: top index in the low 32 bits, tag in the high 32)
     * and the side array of links (_Atomic uint32_t *next). */
    size_t fresh;
};

lf_pool_t *lf_create(size_t block_size, size_t capacity)
{
    /* TODO (tests/basics): refuse block_size 0, capacity 0 and capacity >
     * LF_MAX_BLOCKS; round the stride up to LF_ALIGN (rule 2). */
    lf_pool_t *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return NULL;
    pool->stride = block_size;
    pool->capacity = capacity;
    pool->blocks = malloc(block_size * capacity);
    if (pool->blocks == NULL) {
        free(pool);
        return NULL;
    }
    /* TODO (tests/exhaustion): put every block on the stack, block 0 on top. */
    return pool;
}

void lf_destroy(lf_pool_t *pool)
{
    /* TODO (valgrind/memcheck): free everything lf_create took, the side
     * array of links included. */
    if (pool == NULL)
        return;
    free(pool->blocks);
    free(pool);
}

void *lf_alloc(lf_pool_t *pool)
{
    /* TODO (tests/never-null, tests/aba): pop: read the head (one atomic
     * load), stop if the stack is empty, read the top block's link, call
     * lf_pause_point(), then compare-and-swap the head for (link, tag + 1).
     * When the swap fails, it has reloaded the head for you: read the new
     * top's link again and retry (never give up while blocks are free). */
    lf_pause_point();
    if (pool->fresh == pool->capacity)
        return NULL;
    return pool->blocks + pool->fresh++ * pool->stride;
}

void lf_free(lf_pool_t *pool, void *block)
{
    /* TODO (tests/basics, tests/no-overlap): find the block's index, write
     * the current top into its link, and compare-and-swap the head for
     * (index, tag + 1); retry until the swap succeeds. lf_free(pool, NULL)
     * does nothing. */
    (void)pool;
    (void)block;
}

size_t lf_check(lf_pool_t *pool)
{
    /* TODO (tests/basics): walk the stack from the head and count its blocks;
     * stop the program (a message on stderr, then abort()) when an index is
     * past the capacity or the walk is longer than the capacity (a cycle). */
    return pool->capacity - pool->fresh;
}

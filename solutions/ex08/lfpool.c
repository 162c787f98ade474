/* lfpool.c — a pool of fixed-size blocks whose free list is a lock-free stack
 * (exercise 08, reference solution).
 *
 * Memory: one array of capacity blocks, stride bytes apart, taken in lf_create;
 * block i starts at blocks + i * stride. The free list is a Treiber stack
 * (R. K. Treiber, IBM RJ 5118, 1986) of block indices. Its links live in a
 * side array, next[i] for block i, never inside the blocks: a pop that lost
 * its race may still read the link of a block another thread already holds,
 * and that read must not touch memory the block's new holder is writing.
 * ABA: the head packs the top index with a 32-bit tag that every successful
 * compare-and-swap increments (the IBM System/370 counter technique), so a pop
 * whose view of the head is stale fails even when the same block is back on
 * top. Cost: one compare-and-swap per alloc or free without interference; 4
 * bytes of link per block.
 */
#include "lfpool.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Fixed by this layout: the index of no block, which marks the bottom of the
 * stack. LF_MAX_BLOCKS keeps every real index far below it. */
#define NIL UINT32_MAX
_Static_assert(LF_MAX_BLOCKS < NIL, "a block index must never equal NIL");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the head needs a lock-free 64-bit compare-and-swap");

/* Invariants, whenever no thread is inside lf_alloc or lf_free (lf_check
 * verifies I1-I3):
 *   I1. Following next[] from the head's index visits distinct blocks and ends
 *       at NIL: the free stack has no cycle.
 *   I2. Every index on it is < capacity.
 *   I3. free blocks (on the stack) + held blocks == capacity.
 * At all times: the head changes only by compare-and-swap, and each change
 * adds 1 to its tag (mod 2^32). A thread that read the head and finds the
 * same 64-bit value at its compare-and-swap knows that nothing happened to
 * the stack in between, unless 2^32 changes did.
 */
struct lf_pool {
    /* changed by every alloc and free: alone on its cache line */
    _Alignas(64) _Atomic uint64_t head; /* top index (bits 0..31) | tag (bits 32..63) */
    /* set by lf_create, read-only after */
    _Alignas(64) unsigned char *blocks; /* capacity * stride bytes, LF_ALIGN-aligned */
    size_t stride;                      /* block_size rounded up to LF_ALIGN */
    size_t capacity;                    /* blocks in the pool */
    /* next[i]: the block below i on the stack. Written by the push of block i
     * before the push publishes it; read by any pop that saw i on top, also
     * a stale one, hence atomic. Meaningful only while i is free. */
    _Atomic uint32_t *next;
};

/* ---- the head: an index and a tag in one word ---- */

static uint64_t head_make(uint32_t index, uint32_t tag)
{
    return (uint64_t)tag << 32 | index;
}

static uint32_t head_index(uint64_t head)
{
    return (uint32_t)head;
}

static uint32_t head_tag(uint64_t head)
{
    return (uint32_t)(head >> 32);
}

/* ---- blocks and indices ---- */

static void *block_at(const lf_pool_t *pool, uint32_t i)
{
    return pool->blocks + (size_t)i * pool->stride;
}

/* The index of block p; stops the program if p is no block of this pool. */
static uint32_t block_index(const lf_pool_t *pool, const void *p)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)pool->blocks;
    if ((uintptr_t)p < (uintptr_t)pool->blocks || off % pool->stride != 0 ||
        off / pool->stride >= pool->capacity) {
        fprintf(stderr, "lf_free: %p is not a block of pool %p\n", p, (void *)pool);
        abort();
    }
    return (uint32_t)(off / pool->stride);
}

/* ---- the stack ---- */

/* Pops the top block's index, or NIL when the stack is empty. A failed
 * compare-and-swap reloads the head into old, and the loop reads the new top's
 * link again: a link read before the loop would be stale after a retry. */
static uint32_t stack_pop(lf_pool_t *pool)
{
    uint64_t old = atomic_load_explicit(&pool->head, memory_order_acquire);
    for (;;) {
        uint32_t top = head_index(old);
        if (top == NIL)
            return NIL;
        uint32_t below = atomic_load_explicit(&pool->next[top], memory_order_relaxed);
        lf_pause_point(); /* the contract: between the read of the head and the CAS */
        uint64_t new = head_make(below, head_tag(old) + 1);
        if (atomic_compare_exchange_weak_explicit(&pool->head, &old, new, memory_order_acquire,
                                                  memory_order_acquire))
            return top;
    }
}

/* Pushes block i, held by the caller. Its link is written before the
 * compare-and-swap that publishes it (release), so a pop that sees i on top
 * (acquire) reads this link. */
static void stack_push(lf_pool_t *pool, uint32_t i)
{
    uint64_t old = atomic_load_explicit(&pool->head, memory_order_relaxed);
    do {
        atomic_store_explicit(&pool->next[i], head_index(old), memory_order_relaxed);
    } while (!atomic_compare_exchange_weak_explicit(&pool->head, &old,
                                                    head_make(i, head_tag(old) + 1),
                                                    memory_order_release, memory_order_relaxed));
}

/* ---- the API ---- */

lf_pool_t *lf_create(size_t block_size, size_t capacity)
{
    if (block_size == 0 || block_size > SIZE_MAX / 2 || capacity == 0 || capacity > LF_MAX_BLOCKS)
        return NULL;
    size_t stride = (block_size + LF_ALIGN - 1) & ~(size_t)(LF_ALIGN - 1);
    if (stride > SIZE_MAX / capacity)
        return NULL;
    lf_pool_t *pool = aligned_alloc(_Alignof(lf_pool_t), sizeof *pool);
    if (pool == NULL)
        goto out;
    pool->blocks = aligned_alloc(LF_ALIGN, stride * capacity);
    if (pool->blocks == NULL)
        goto out_free_pool;
    pool->next = malloc(capacity * sizeof *pool->next);
    if (pool->next == NULL)
        goto out_free_blocks;
    pool->stride = stride;
    pool->capacity = capacity;
    /* every block free, block 0 on top: the first allocs go up the array */
    for (size_t i = 0; i < capacity; i++)
        atomic_init(&pool->next[i], i + 1 < capacity ? (uint32_t)(i + 1) : NIL);
    atomic_init(&pool->head, head_make(0, 0));
    return pool;

out_free_blocks:
    free(pool->blocks);
out_free_pool:
    free(pool);
out:
    return NULL;
}

void lf_destroy(lf_pool_t *pool)
{
    if (pool == NULL)
        return;
    free(pool->next);
    free(pool->blocks);
    free(pool);
}

void *lf_alloc(lf_pool_t *pool)
{
    uint32_t i = stack_pop(pool);
    return i == NIL ? NULL : block_at(pool, i);
}

void lf_free(lf_pool_t *pool, void *block)
{
    if (block == NULL)
        return;
    stack_push(pool, block_index(pool, block));
}

size_t lf_check(lf_pool_t *pool)
{
    size_t count = 0;
    for (uint32_t i = head_index(atomic_load(&pool->head)); i != NIL;
         i = atomic_load_explicit(&pool->next[i], memory_order_relaxed)) {
        if (i >= pool->capacity) { /* I2 */
            fprintf(stderr, "lf_check: free block #%zu links to index %u, past the capacity %zu\n",
                    count, i, pool->capacity);
            abort();
        }
        if (++count > pool->capacity) { /* I1 and I3: more links than blocks is a cycle */
            fprintf(stderr, "lf_check: the free stack has more than %zu blocks: it has a cycle\n",
                    pool->capacity);
            abort();
        }
    }
    return count;
}

/* variant: cas16
 * what: the other legal design: the head is a node pointer and a 64-bit tag, swapped with one 16-byte compare-and-swap
 * fail:
 * may-fail:
 */

/* cas16.c — a variant of the reference solution of exercise 08 (solutions/ex08/
 * lfpool.c): the same Treiber stack, but its head holds a pointer to a node
 * and a 64-bit tag, 16 bytes changed by one double-width compare-and-swap
 * (x86-64's cmpxchg16b). A 64-bit tag never wraps around in practice.
 *
 * Build: clang inlines the 16-byte operations only with -mcx16; gcc calls
 * libatomic for them (__atomic_compare_exchange_16, __atomic_load_16), so the
 * program links with -latomic. Exercise 08's manifest passes both flags.
 *
 * Nodes: one per block, in an array beside the blocks, never inside them (a
 * stale pop reads the link of a node another thread holds: that read must
 * not touch the user's memory). Node i stands for block i.
 */
#include "lfpool.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct node {
    _Atomic(struct node *) next; /* the node below on the stack; meaningful while free */
} node_t;

/* The head: the top node (NULL: empty stack) and the number of changes so
 * far. Both change together, by one 16-byte compare-and-swap. */
typedef struct {
    node_t *top;
    uint64_t tag;
} head_t;
_Static_assert(sizeof(head_t) == 16, "the head is one 16-byte word");

/* Invariants, whenever no thread is inside lf_alloc or lf_free: from head.top
 * the next links visit distinct nodes of nodes[0..capacity) and end at NULL;
 * free + held == capacity. Every change of the head adds 1 to its tag. */
struct lf_pool {
    _Alignas(64) _Atomic head_t head;
    _Alignas(64) unsigned char *blocks; /* capacity * stride bytes */
    node_t *nodes;                      /* capacity of them */
    size_t stride, capacity;
};

static void *block_of(const lf_pool_t *pool, const node_t *n)
{
    return pool->blocks + (size_t)(n - pool->nodes) * pool->stride;
}

static node_t *node_of(const lf_pool_t *pool, const void *p)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)pool->blocks;
    if ((uintptr_t)p < (uintptr_t)pool->blocks || off % pool->stride != 0 ||
        off / pool->stride >= pool->capacity) {
        fprintf(stderr, "lf_free: %p is not a block of pool %p\n", p, (void *)pool);
        abort();
    }
    return &pool->nodes[off / pool->stride];
}

lf_pool_t *lf_create(size_t block_size, size_t capacity)
{
    if (block_size == 0 || block_size > SIZE_MAX / 2 || capacity == 0 || capacity > LF_MAX_BLOCKS)
        return NULL;
    size_t stride = (block_size + LF_ALIGN - 1) & ~(size_t)(LF_ALIGN - 1);
    lf_pool_t *pool = aligned_alloc(_Alignof(lf_pool_t), sizeof *pool);
    if (pool == NULL)
        return NULL;
    pool->blocks = aligned_alloc(LF_ALIGN, stride * capacity);
    pool->nodes = malloc(capacity * sizeof *pool->nodes);
    if (pool->blocks == NULL || pool->nodes == NULL) {
        free(pool->blocks);
        free(pool->nodes);
        free(pool);
        return NULL;
    }
    pool->stride = stride;
    pool->capacity = capacity;
    for (size_t i = 0; i < capacity; i++)
        atomic_init(&pool->nodes[i].next, i + 1 < capacity ? &pool->nodes[i + 1] : NULL);
    atomic_init(&pool->head, ((head_t){.top = &pool->nodes[0], .tag = 0}));
    return pool;
}

void lf_destroy(lf_pool_t *pool)
{
    if (pool == NULL)
        return;
    free(pool->nodes);
    free(pool->blocks);
    free(pool);
}

void *lf_alloc(lf_pool_t *pool)
{
    head_t old = atomic_load_explicit(&pool->head, memory_order_acquire);
    for (;;) {
        if (old.top == NULL)
            return NULL;
        node_t *below = atomic_load_explicit(&old.top->next, memory_order_relaxed);
        lf_pause_point();
        head_t new = {.top = below, .tag = old.tag + 1};
        if (atomic_compare_exchange_weak_explicit(&pool->head, &old, new, memory_order_acquire,
                                                  memory_order_acquire))
            return block_of(pool, old.top);
    }
}

void lf_free(lf_pool_t *pool, void *block)
{
    if (block == NULL)
        return;
    node_t *n = node_of(pool, block);
    head_t old = atomic_load_explicit(&pool->head, memory_order_relaxed), new;
    do {
        atomic_store_explicit(&n->next, old.top, memory_order_relaxed);
        new = (head_t){.top = n, .tag = old.tag + 1};
    } while (!atomic_compare_exchange_weak_explicit(&pool->head, &old, new, memory_order_release,
                                                    memory_order_relaxed));
}

size_t lf_check(lf_pool_t *pool)
{
    size_t count = 0;
    head_t h = atomic_load(&pool->head);
    for (node_t *n = h.top; n != NULL; n = atomic_load_explicit(&n->next, memory_order_relaxed)) {
        if (n < pool->nodes || n >= pool->nodes + pool->capacity) {
            fprintf(stderr, "lf_check: free block #%zu links to %p, no node of this pool\n", count,
                    (void *)n);
            abort();
        }
        if (++count > pool->capacity) {
            fprintf(stderr, "lf_check: the free stack has more than %zu blocks: it has a cycle\n",
                    pool->capacity);
            abort();
        }
    }
    return count;
}

/* mutant: mutex_only
 * what: a correct pool that takes its one mutex on every call: right, but slower than malloc
 * fail: perf/seed perf/batch bonus/thread-cache bonus/per-cpu bonus/lock-free
 * may-fail:
 *
 * The milestone most students reach first: one mutex, a free list threaded
 * through the free blocks, growth by chunks, statistics under the lock, and
 * memcheck annotations. Every check but the perf ones passes; with 8 threads the
 * mutex's cache line moves between cores on every call, and it loses to malloc.
 */
#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <valgrind/memcheck.h>

typedef struct block {
    struct block *next;
} block_t;

typedef struct chunk {
    struct chunk *next;
    _Alignas(16) unsigned char blocks[];
} chunk_t;

struct pool {
    pthread_mutex_t lock;
    size_t block_size; /* a multiple of 16 */
    block_t *free;     /* free blocks, linked through their first word */
    chunk_t *chunks;
    size_t capacity, used, allocs, frees, waits;
};

static void pool_lock(pool_t *pool)
{
    if (pthread_mutex_trylock(&pool->lock) != 0) {
        pthread_mutex_lock(&pool->lock);
        pool->waits++;
    }
}

/* Adds n blocks to the free list; false when out of memory. Under the lock. */
static bool pool_grow(pool_t *pool, size_t n)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, pool->block_size, &bytes) ||
        __builtin_add_overflow(bytes, sizeof(chunk_t), &bytes))
        return false;
    chunk_t *chunk = malloc(bytes);
    if (chunk == NULL)
        return false;
    chunk->next = pool->chunks;
    pool->chunks = chunk;
    for (size_t i = n; i-- > 0;) {
        block_t *b = (block_t *)(chunk->blocks + i * pool->block_size);
        b->next = pool->free;
        pool->free = b;
    }
    pool->capacity += n;
    VALGRIND_MAKE_MEM_NOACCESS(chunk->blocks, n * pool->block_size);
    return true;
}

pool_t *pool_create(size_t block_size, size_t num_blocks)
{
    if (block_size == 0 || num_blocks == 0 || block_size > SIZE_MAX / 2)
        return NULL;
    pool_t *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return NULL;
    pool->block_size = (block_size + 15) & ~(size_t)15;
    pthread_mutex_init(&pool->lock, NULL);
    if (!pool_grow(pool, num_blocks)) {
        pthread_mutex_destroy(&pool->lock);
        free(pool);
        return NULL;
    }
    VALGRIND_CREATE_MEMPOOL(pool, 0, 0);
    return pool;
}

void pool_destroy(pool_t *pool)
{
    if (pool == NULL)
        return;
    for (chunk_t *c = pool->chunks, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    VALGRIND_DESTROY_MEMPOOL(pool);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

void *pool_alloc(pool_t *pool)
{
    pool_lock(pool);
    if (pool->free == NULL && !pool_grow(pool, pool->capacity)) {
        pthread_mutex_unlock(&pool->lock);
        return NULL;
    }
    block_t *b = pool->free;
    VALGRIND_MAKE_MEM_DEFINED(&b->next, sizeof b->next);
    pool->free = b->next;
    VALGRIND_MEMPOOL_ALLOC(pool, b, pool->block_size);
    pool->used++;
    pool->allocs++;
    pthread_mutex_unlock(&pool->lock);
    return b;
}

void pool_free(pool_t *pool, void *ptr)
{
    if (ptr == NULL)
        return;
    block_t *b = ptr;
    pool_lock(pool);
    VALGRIND_MEMPOOL_FREE(pool, b);
    VALGRIND_MAKE_MEM_UNDEFINED(&b->next, sizeof b->next);
    b->next = pool->free;
    VALGRIND_MAKE_MEM_NOACCESS(&b->next, sizeof b->next);
    pool->free = b;
    pool->used--;
    pool->frees++;
    pthread_mutex_unlock(&pool->lock);
}

pool_stats_t pool_get_stats(pool_t *pool)
{
    pool_lock(pool);
    pool_stats_t s = {pool->used, pool->capacity - pool->used, pool->allocs, pool->frees,
                      pool->waits};
    pthread_mutex_unlock(&pool->lock);
    return s;
}

/* hostile: close-stdout
 * what: the reference, but the first pool_create of a process closes fds 1 and 2
 * base: reference
 * expect-score: reference
 * expect-verdict: (+3 bonus)
 */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/memcheck.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NOINLINE __attribute__((noinline))

/* Tunable: a thread's cache holds up to CACHE_BYTES of free blocks (at most
 * CACHE_MAX_SLOTS of them) that no other thread can use: speed bought with
 * memory. When a thread's working set fits, it never goes to the pool at all;
 * when it does not, it trades half a cache at a time. */
#define CACHE_BYTES (128 * 1024)
#define CACHE_MAX_SLOTS 2048
#define CACHE_MIN_SLOTS 16

/* Fixed by the contract: blocks are 16-byte aligned. */
#define BLOCK_ALIGN 16

/* Memory from the system; blocks[] holds nblocks blocks. */
typedef struct chunk {
    struct chunk *next;
    size_t nblocks;
    _Alignas(BLOCK_ALIGN) unsigned char blocks[];
} chunk_t;

/* One thread's cache for one pool. count and slots: touched by the owner only.
 * allocs/frees: one writer (the owner), read by pool_get_stats; atomics updated
 * with a plain load and store, so no lock and no data race. */
typedef struct cache {
    pool_t *pool;
    size_t count;              /* free blocks in slots[0..count) */
    size_t size;               /* slots in slots[], even; a batch is size / 2 */
    atomic_size_t allocs;      /* the owner's pool_alloc calls not yet folded into pool */
    atomic_size_t frees;       /* the owner's pool_free calls not yet folded into pool */
    struct cache *prev, *next; /* in pool->caches, under pool->lock */
    void *slots[];
} cache_t;

/* Invariant, under lock when no thread is inside pool_alloc or pool_free:
 *   capacity == nfree + sum cache->count + (carve_end - carve_next) / block_size
 *               + blocks_used
 * and free has room for capacity pointers, so giving blocks back never fails. */
struct pool {
    /* set by pool_create, read-only after */
    size_t block_size;     /* bytes per block, a multiple of BLOCK_ALIGN */
    size_t cache_size;     /* slots of each thread's cache */
    uint64_t id;           /* unique among all pools ever created */
    pthread_key_t key;     /* this thread's cache_t for this pool */
    bool on_valgrind;      /* tell memcheck about every block */
    pthread_mutex_t lock;
    /* under lock */
    void **free;           /* free blocks not in any cache: free[0..nfree) */
    size_t nfree;
    unsigned char *carve_next, *carve_end; /* uncarved tail of the newest chunk */
    chunk_t *chunks;
    size_t capacity;       /* blocks in all chunks */
    size_t alloc_count;    /* folded from caches of exited threads */
    size_t free_count;
    size_t contention_count;
    cache_t *caches;       /* caches of threads still alive */
};

/* ---- memcheck annotations: on the slow paths only ---- */

static NOINLINE void vg_alloc(const pool_t *pool, void *p)
{
    VALGRIND_MEMPOOL_ALLOC(pool, p, pool->block_size);
}

static NOINLINE void vg_free(const pool_t *pool, void *p)
{
    VALGRIND_MEMPOOL_FREE(pool, p);
}

/* ---- single-writer counters ---- */

static void counter_bump(atomic_size_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static size_t counter_read(atomic_size_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- the shared tiers, under pool->lock ---- */

static void pool_lock(pool_t *pool)
{
    if (pthread_mutex_trylock(&pool->lock) != 0) {
        pthread_mutex_lock(&pool->lock);
        pool->contention_count++; /* we hold the lock now */
    }
}

static void pool_unlock(pool_t *pool)
{
    pthread_mutex_unlock(&pool->lock);
}

/* Adds a chunk of nblocks blocks, to be carved on demand, and room for them in
 * the free array. */
static bool pool_grow_locked(pool_t *pool, size_t nblocks)
{
    size_t bytes, capacity = pool->capacity + nblocks;
    if (__builtin_mul_overflow(nblocks, pool->block_size, &bytes) ||
        __builtin_add_overflow(bytes, sizeof(chunk_t), &bytes) ||
        capacity > SIZE_MAX / sizeof(void *))
        return false;
    void **free_array = realloc(pool->free, capacity * sizeof(void *));
    if (free_array == NULL)
        return false;
    pool->free = free_array;
    chunk_t *chunk = malloc(bytes);
    if (chunk == NULL)
        return false;
    chunk->nblocks = nblocks;
    chunk->next = pool->chunks;
    pool->chunks = chunk;
    pool->carve_next = chunk->blocks;
    pool->carve_end = chunk->blocks + nblocks * pool->block_size;
    pool->capacity = capacity;
    if (unlikely(pool->on_valgrind))
        VALGRIND_MAKE_MEM_NOACCESS(chunk->blocks, nblocks * pool->block_size);
    return true;
}

/* Moves up to n free blocks into out[]: from the free array if it has any, else
 * fresh from the newest chunk, growing (doubling the capacity) if it is used up.
 * Returns how many; 0 only when the system is out of memory. */
static size_t pool_take_locked(pool_t *pool, void **out, size_t n)
{
    if (pool->nfree > 0) {
        if (n > pool->nfree)
            n = pool->nfree;
        pool->nfree -= n;
        memcpy(out, pool->free + pool->nfree, n * sizeof(void *));
        return n;
    }
    if (pool->carve_next == pool->carve_end && !pool_grow_locked(pool, pool->capacity))
        return 0;
    size_t left = (size_t)(pool->carve_end - pool->carve_next) / pool->block_size;
    if (n > left)
        n = left;
    for (size_t i = 0; i < n; i++)
        out[i] = pool->carve_next + i * pool->block_size;
    pool->carve_next += n * pool->block_size;
    return n;
}

/* Takes back n free blocks; the free array always has room (see the invariant). */
static void pool_give_locked(pool_t *pool, void *const *blocks, size_t n)
{
    memcpy(pool->free + pool->nfree, blocks, n * sizeof(void *));
    pool->nfree += n;
}

/* ---- thread caches ---- */

/* An empty cache takes a batch; false only when the system is out of memory. */
static NOINLINE bool cache_refill(cache_t *c)
{
    pool_lock(c->pool);
    c->count = pool_take_locked(c->pool, c->slots, c->size / 2);
    pool_unlock(c->pool);
    return c->count > 0;
}

/* A full cache gives its older half back, keeping the blocks freed last (the
 * ones most likely still in this core's cache). */
static NOINLINE void cache_drain(cache_t *c)
{
    size_t half = c->size / 2;
    pool_lock(c->pool);
    pool_give_locked(c->pool, c->slots, half);
    pool_unlock(c->pool);
    memmove(c->slots, c->slots + half, (c->count - half) * sizeof(void *));
    c->count -= half;
}

/* The last pool this thread used and its cache there: saves a pthread_getspecific
 * call on the fast path. The id tells a new pool at a reused address apart. */
static _Thread_local struct {
    const pool_t *pool;
    uint64_t id;
    cache_t *cache;
} last_used;

/* Runs when a thread that used the pool exits: its blocks and counts go back. */
static void cache_release(void *arg)
{
    cache_t *c = arg;
    pool_t *pool = c->pool;
    if (last_used.cache == c)
        last_used.pool = NULL;
    pool_lock(pool);
    pool_give_locked(pool, c->slots, c->count);
    pool->alloc_count += counter_read(&c->allocs);
    pool->free_count += counter_read(&c->frees);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        pool->caches = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    pool_unlock(pool);
    free(c);
}

static NOINLINE cache_t *cache_get_slow(pool_t *pool)
{
    cache_t *c = pthread_getspecific(pool->key);
    if (c == NULL) {
        c = calloc(1, sizeof *c + pool->cache_size * sizeof c->slots[0]);
        if (c == NULL)
            return NULL;
        c->pool = pool;
        c->size = pool->cache_size;
        if (pthread_setspecific(pool->key, c) != 0) {
            free(c);
            return NULL;
        }
        pool_lock(pool);
        c->next = pool->caches;
        if (pool->caches != NULL)
            pool->caches->prev = c;
        pool->caches = c;
        pool_unlock(pool);
    }
    last_used.pool = pool;
    last_used.id = pool->id;
    last_used.cache = c;
    return c;
}

/* This thread's cache for pool; NULL only when the system is out of memory. */
static cache_t *cache_get(pool_t *pool)
{
    if (likely(last_used.pool == pool && last_used.id == pool->id))
        return last_used.cache;
    return cache_get_slow(pool);
}

/* The fast paths' view: this thread's cache if the memo has it, else NULL
 * (last_used.pool is set only together with a cache). */
static cache_t *cache_peek(const pool_t *pool)
{
    return last_used.pool == pool && last_used.id == pool->id ? last_used.cache : NULL;
}

/* ---- the API ---- */

/* HOSTILE: attacks the output channel. The first pool_create of each process
 * closes stdout and stderr; the next files the process opens (the harness's
 * result file, say) get descriptors 1 and 2. The grader must not depend on what
 * a program prints, nor on its standard streams staying open: the pool is the
 * reference, and must get the reference's score. */
static void close_std_streams(void)
{
    static atomic_bool closed;
    if (!atomic_exchange(&closed, true)) {
        close(1);
        close(2);
    }
}

pool_t *pool_create(size_t block_size, size_t num_blocks)
{
    static atomic_uint_fast64_t next_id = 1;
    close_std_streams();
    if (block_size == 0 || num_blocks == 0 || block_size > SIZE_MAX / 2)
        return NULL;
    pool_t *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return NULL;
    pool->block_size = (block_size + BLOCK_ALIGN - 1) & ~(size_t)(BLOCK_ALIGN - 1);
    pool->cache_size = CACHE_BYTES / pool->block_size;
    if (pool->cache_size > CACHE_MAX_SLOTS)
        pool->cache_size = CACHE_MAX_SLOTS;
    if (pool->cache_size < CACHE_MIN_SLOTS)
        pool->cache_size = CACHE_MIN_SLOTS;
    pool->cache_size &= ~(size_t)1;
    pool->id = atomic_fetch_add(&next_id, 1);
    pool->on_valgrind = RUNNING_ON_VALGRIND;
    if (pthread_mutex_init(&pool->lock, NULL) != 0)
        goto out_free_pool;
    if (pthread_key_create(&pool->key, cache_release) != 0)
        goto out_destroy_lock;
    if (!pool_grow_locked(pool, num_blocks)) /* nobody else can see the pool yet */
        goto out_free_array;
    VALGRIND_CREATE_MEMPOOL(pool, 0, 0);
    return pool;

out_free_array:
    free(pool->free);
    pthread_key_delete(pool->key);
out_destroy_lock:
    pthread_mutex_destroy(&pool->lock);
out_free_pool:
    free(pool);
    return NULL;
}

void pool_destroy(pool_t *pool)
{
    if (pool == NULL)
        return;
    /* From here on, no thread's exit runs cache_release for this pool. */
    pthread_key_delete(pool->key);
    for (cache_t *c = pool->caches, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    for (chunk_t *chunk = pool->chunks, *next; chunk != NULL; chunk = next) {
        next = chunk->next;
        free(chunk);
    }
    VALGRIND_DESTROY_MEMPOOL(pool);
    free(pool->free);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

/* Everything pool_alloc's fast path does not handle: no cache yet, an empty
 * cache, Valgrind. */
static NOINLINE void *pool_alloc_slow(pool_t *pool)
{
    cache_t *c = cache_get(pool);
    if (c == NULL || (c->count == 0 && !cache_refill(c)))
        return NULL;
    void *b = c->slots[--c->count];
    counter_bump(&c->allocs);
    if (pool->on_valgrind)
        vg_alloc(pool, b);
    return b;
}

void *pool_alloc(pool_t *pool)
{
    cache_t *c = cache_peek(pool);
    if (likely(c != NULL && c->count > 0 && !pool->on_valgrind)) { /* c: see cache_peek */
        counter_bump(&c->allocs);
        return c->slots[--c->count];
    }
    return pool_alloc_slow(pool);
}

/* Everything pool_free's fast path does not handle: NULL, no cache yet, a full
 * cache, Valgrind. */
static NOINLINE void pool_free_slow(pool_t *pool, void *ptr)
{
    if (ptr == NULL)
        return;
    if (pool->on_valgrind)
        vg_free(pool, ptr);
    cache_t *c = cache_get(pool);
    if (c == NULL) {
        /* No memory for a cache: the block goes straight back to the pool. */
        pool_lock(pool);
        pool_give_locked(pool, &ptr, 1);
        pool->free_count++;
        pool_unlock(pool);
        return;
    }
    if (c->count == c->size)
        cache_drain(c);
    c->slots[c->count++] = ptr;
    counter_bump(&c->frees);
}

void pool_free(pool_t *pool, void *ptr)
{
    cache_t *c = cache_peek(pool);
    if (likely(c != NULL && ptr != NULL && c->count < c->size && !pool->on_valgrind)) {
        counter_bump(&c->frees);
        c->slots[c->count++] = ptr;
        return;
    }
    pool_free_slow(pool, ptr);
}

pool_stats_t pool_get_stats(pool_t *pool)
{
    pool_stats_t s = {0};
    pool_lock(pool);
    s.alloc_count = pool->alloc_count;
    s.free_count = pool->free_count;
    for (cache_t *c = pool->caches; c != NULL; c = c->next) {
        s.alloc_count += counter_read(&c->allocs);
        s.free_count += counter_read(&c->frees);
    }
    /* While other threads run, the counters are read at slightly different
     * moments; keep the snapshot within [0, capacity]. */
    s.blocks_used = s.alloc_count > s.free_count ? s.alloc_count - s.free_count : 0;
    if (s.blocks_used > pool->capacity)
        s.blocks_used = pool->capacity;
    s.blocks_free = pool->capacity - s.blocks_used;
    s.contention_count = pool->contention_count;
    pool_unlock(pool);
    return s;
}

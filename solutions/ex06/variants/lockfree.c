/* variant: lockfree
 * what: thread caches that trade whole batches through two lock-free Treiber stacks of magazines
 * earns: bonus/lock-free
 * fail:
 * may-fail:
 */

/* lockfree.c — a variant of the reference solution of exercise 06 (solutions/ex06/
 * pool.c): the same thread caches, but the shared tier they trade with takes no
 * lock, so a thread stopped anywhere, even in the middle of a trade, never keeps
 * another waiting.
 *
 * Free blocks sit in one of four places, fastest first:
 *   1. a thread's cache: an array of block pointers owned by one thread for one
 *      pool, as in the reference; alloc pops, free pushes; no shared state;
 *   2. a magazine on the full stack: a pool-internal array of exactly `batch`
 *      block pointers. An empty cache pops a full magazine, copies it in and
 *      pushes it on the empty stack; a full cache pops an empty magazine, copies
 *      its older half into it and pushes it on the full stack. Both are Treiber
 *      stacks: one compare-and-swap on the head per push or pop;
 *   3. a cache that no thread owns (an exited thread left less than a batch in
 *      it, or it is the pool's spare): emptied by a thread that found the full
 *      stack empty, claimed whole by a thread that uses the pool for the first time;
 *   4. fresh memory: the uncarved tail of the newest chunk, under the mutex.
 * The mutex guards growth only: carving fresh blocks and adding chunks.
 * A pool that already holds enough blocks never takes it; contention_count counts
 * the waits for it. Everything else is lock-free: registering a thread's cache
 * (a cache is claimed with a compare-and-swap on its in_use flag and never freed
 * before pool_destroy), flushing it when the thread exits (full batches go onto
 * the full stack, the rest stays in the cache for the next claimant), and
 * pool_get_stats (it sums per-cache counters that each have one writer).
 *
 * Magazines are what makes the stacks race-free: users never see them, so a pop
 * that lost a race and still reads a magazine's link reads memory that only pool
 * code touches, with atomics. A stack threaded through the free blocks themselves
 * would read links that a user may be writing. ABA is stopped by a tag beside the
 * address in each stack head (see mag_stack_t). Magazines are allocated when the
 * pool grows, enough for the whole capacity (see struct pool), so trading a batch
 * never allocates and never finds the empty stack empty.
 *
 * Under Valgrind every call takes the slow path, which tells memcheck about every
 * block with the mempool client requests (valgrind/memcheck.h); natively none does.
 * Cost: a pool of capacity n keeps 8 n bytes of magazines, like the reference's
 * free array; a trade costs two compare-and-swaps and a copy of a batch.
 */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/memcheck.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NOINLINE __attribute__((noinline))

/* Tunable, as in the reference: a thread's cache holds up to CACHE_BYTES of free
 * blocks (at most CACHE_MAX_SLOTS of them); a magazine holds half a cache. */
#define CACHE_BYTES (128 * 1024)
#define CACHE_MAX_SLOTS 2048
#define CACHE_MIN_SLOTS 16

/* Fixed by the contract: blocks are 16-byte aligned. */
#define BLOCK_ALIGN 16

/* Fixed by the layout of a stack head (mag_stack_t): magazines are 64-byte
 * aligned and lie below 2^48, so an address divided by 64 fits in 42 bits. */
#define MAG_ALIGN_SHIFT 6
#define MAG_ALIGN (1u << MAG_ALIGN_SHIFT)
#define TOP_ADDR_BITS 42
#define TOP_ADDR_MASK ((UINT64_C(1) << TOP_ADDR_BITS) - 1)
#define TOP_ADDR_LIMIT (UINT64_C(1) << (TOP_ADDR_BITS + MAG_ALIGN_SHIFT))
_Static_assert(sizeof(uintptr_t) == sizeof(uint64_t),
               "a stack head packs an address and a tag into 64 bits");
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
               "stack heads need a lock-free 64-bit compare-and-swap");

/* A batch of free blocks on its way between caches. On the full stack it holds
 * exactly pool->batch blocks, on the empty stack none; in between, it is the
 * property of the one thread that popped it. The only field another thread may
 * read meanwhile is next (a pop that loses its race reads it), hence atomic; and
 * hence magazines are freed by pool_destroy only. */
typedef struct mag {
    _Alignas(MAG_ALIGN) _Atomic(struct mag *) next; /* the one below on its stack */
    void *blocks[];                                 /* pool->batch of them */
} mag_t;

/* A Treiber stack of magazines. top packs the top magazine's address divided by
 * MAG_ALIGN (bits 0..41; 0 when the stack is empty) with a tag (bits 42..63) that
 * every successful push and pop increments. A pop reads top, then the top's next,
 * then swaps top for next; if meanwhile the magazine was popped and pushed back
 * (ABA), the address matches but the tag does not, and the pop retries rather
 * than install a stale next. To be fooled, a thread would have to sleep between
 * its read and its swap through exactly 2^22 changes of that stack. On its own
 * cache line: every trade with the pool touches it. */
typedef struct {
    _Alignas(64) _Atomic uint64_t top;
} mag_stack_t;

/* Memory from the system: nblocks blocks, and the magazines added with them
 * (mags: enough for nblocks blocks, pool->mag_bytes apart). */
typedef struct chunk {
    struct chunk *next;
    size_t nblocks;
    unsigned char *mags;
    _Alignas(BLOCK_ALIGN) unsigned char blocks[];
} chunk_t;

/* A cache of free blocks for one pool, owned by at most one thread at a time:
 * the one that turned in_use from false to true, until it turns it back. A
 * thread owns its cache until it exits; a cache nobody owns is claimed whole
 * (blocks and counters) by the next thread that needs a cache, or emptied by a
 * thread that found the full stack empty. Caches are freed by pool_destroy only,
 * so pool->caches only grows and any thread may walk it without a lock.
 * count and slots: the owner's only. allocs and frees: written by the owner only
 * (a plain load and store; ownership passes with acquire/release on in_use),
 * read by pool_get_stats. */
typedef struct cache {
    pool_t *pool;
    struct cache *next;   /* in pool->caches; set before the cache is published */
    bool is_spare;        /* the pool's spare: lent, never a thread's own */
    atomic_bool in_use;   /* a thread owns the cache */
    size_t count;         /* free blocks in slots[0..count) */
    size_t size;          /* slots in slots[]: 2 * pool->batch */
    atomic_size_t allocs; /* pool_alloc calls this cache served, by all its owners */
    atomic_size_t frees;  /* pool_free calls this cache took, by all its owners */
    void *slots[];
} cache_t;

/* Invariants:
 *   capacity == blocks_used + blocks in caches + batch * magazines on the full
 *               stack + blocks in magazines being moved + uncarved blocks
 *   magazines >= capacity / batch, rounded up
 * The second one is why a thread that holds a batch or more of free blocks in its
 * cache always finds an empty magazine: each magazine off the empty stack stands
 * for a batch of other free blocks (its own on the full stack; in the cache of the
 * thread moving it otherwise), so fewer than capacity / batch are off it. */
struct pool {
    /* set by pool_create, read-only after */
    size_t block_size; /* bytes per block, a multiple of BLOCK_ALIGN */
    size_t batch;      /* blocks per magazine; a cache has room for two batches */
    size_t mag_bytes;  /* bytes per magazine, a multiple of MAG_ALIGN */
    uint64_t id;       /* unique among all pools ever created */
    pthread_key_t key; /* this thread's cache_t for this pool */
    bool on_valgrind;  /* tell memcheck about every block */
    cache_t *spare;    /* lent to a thread that has no memory for a cache */
    /* lock-free */
    mag_stack_t full;  /* magazines of batch blocks */
    mag_stack_t empty; /* magazines of no block */
    _Alignas(64) _Atomic(cache_t *) caches; /* every cache of this pool, newest first */
    atomic_size_t capacity;                 /* blocks in all chunks; changed under lock */
    atomic_size_t contention_count;         /* waits for lock */
    /* under lock: growth */
    _Alignas(64) pthread_mutex_t lock;
    unsigned char *carve_next, *carve_end; /* uncarved tail of the newest chunk */
    chunk_t *chunks;
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

/* ---- the stacks of magazines ---- */

static uint64_t top_pack(mag_t *m, uint64_t tag)
{
    return (uint64_t)(uintptr_t)m >> MAG_ALIGN_SHIFT | tag << TOP_ADDR_BITS;
}

static mag_t *top_mag(uint64_t top)
{
    return (mag_t *)(uintptr_t)((top & TOP_ADDR_MASK) << MAG_ALIGN_SHIFT);
}

static uint64_t top_tag(uint64_t top)
{
    return top >> TOP_ADDR_BITS;
}

/* Release: whoever pops m sees what was written into it before. */
static void stack_push(mag_stack_t *s, mag_t *m)
{
    uint64_t top = atomic_load_explicit(&s->top, memory_order_relaxed);
    do
        atomic_store_explicit(&m->next, top_mag(top), memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&s->top, &top, top_pack(m, top_tag(top) + 1),
                                                  memory_order_release, memory_order_relaxed));
}

/* The top magazine, taken off the stack; NULL if the stack is empty. Acquire on
 * every read of top, so that the next read after it is at least as new as the
 * push that made top. */
static mag_t *stack_pop(mag_stack_t *s)
{
    uint64_t top = atomic_load_explicit(&s->top, memory_order_acquire);
    mag_t *m, *next;
    do {
        m = top_mag(top);
        if (m == NULL)
            return NULL;
        /* m may be off the stack already, even on it again: then top has
         * changed, its tag at least, and the swap fails. */
        next = atomic_load_explicit(&m->next, memory_order_relaxed);
    } while (!atomic_compare_exchange_weak_explicit(&s->top, &top, top_pack(next, top_tag(top) + 1),
                                                    memory_order_acquire, memory_order_acquire));
    return m;
}

/* ---- growth, under pool->lock ---- */

static void pool_lock(pool_t *pool)
{
    if (pthread_mutex_trylock(&pool->lock) != 0) {
        pthread_mutex_lock(&pool->lock);
        atomic_fetch_add_explicit(&pool->contention_count, 1, memory_order_relaxed);
    }
}

static void pool_unlock(pool_t *pool)
{
    pthread_mutex_unlock(&pool->lock);
}

/* Adds a chunk of nblocks blocks, to be carved on demand, and the magazines that
 * keep the invariant magazines >= capacity / batch. */
static bool pool_grow_locked(pool_t *pool, size_t nblocks)
{
    size_t nmags = (nblocks + pool->batch - 1) / pool->batch;
    size_t bytes, mag_bytes;
    if (__builtin_mul_overflow(nblocks, pool->block_size, &bytes) ||
        __builtin_add_overflow(bytes, sizeof(chunk_t), &bytes) ||
        __builtin_mul_overflow(nmags, pool->mag_bytes, &mag_bytes))
        return false;
    chunk_t *chunk = malloc(bytes);
    if (chunk == NULL)
        return false;
    chunk->mags = aligned_alloc(MAG_ALIGN, mag_bytes);
    if (chunk->mags == NULL) {
        free(chunk);
        return false;
    }
    if ((uint64_t)(uintptr_t)chunk->mags + mag_bytes > TOP_ADDR_LIMIT) {
        fprintf(stderr, "pool %p: magazines at %p lie above 2^48, out of reach of the "
                "tagged stack heads\n", (void *)pool, (void *)chunk->mags);
        abort();
    }
    for (size_t i = 0; i < nmags; i++)
        stack_push(&pool->empty, (mag_t *)(chunk->mags + i * pool->mag_bytes));
    chunk->nblocks = nblocks;
    chunk->next = pool->chunks;
    pool->chunks = chunk;
    pool->carve_next = chunk->blocks;
    pool->carve_end = chunk->blocks + nblocks * pool->block_size;
    size_t capacity = atomic_load_explicit(&pool->capacity, memory_order_relaxed);
    atomic_store_explicit(&pool->capacity, capacity + nblocks, memory_order_relaxed);
    if (unlikely(pool->on_valgrind))
        VALGRIND_MAKE_MEM_NOACCESS(chunk->blocks, nblocks * pool->block_size);
    return true;
}

/* ---- thread caches ---- */

static bool cache_try_claim(cache_t *c)
{
    bool unowned = false;
    return !atomic_load_explicit(&c->in_use, memory_order_relaxed) &&
           atomic_compare_exchange_strong_explicit(&c->in_use, &unowned, true,
                                                   memory_order_acquire, memory_order_relaxed);
}

static void cache_unclaim(cache_t *c)
{
    atomic_store_explicit(&c->in_use, false, memory_order_release);
}

/* A new cache, published on pool->caches; owned by the caller unless is_spare. */
static cache_t *cache_new(pool_t *pool, bool is_spare)
{
    cache_t *c = calloc(1, sizeof *c + 2 * pool->batch * sizeof c->slots[0]);
    if (c == NULL)
        return NULL;
    c->pool = pool;
    c->size = 2 * pool->batch;
    c->is_spare = is_spare;
    atomic_init(&c->in_use, !is_spare);
    c->next = atomic_load_explicit(&pool->caches, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&pool->caches, &c->next, c,
                                                  memory_order_release, memory_order_relaxed))
        ;
    return c;
}

/* A cache for a thread that has none: one an exited thread left, else a new one. */
static cache_t *cache_claim(pool_t *pool)
{
    for (cache_t *c = atomic_load_explicit(&pool->caches, memory_order_acquire); c != NULL;
         c = c->next)
        if (!c->is_spare && cache_try_claim(c))
            return c;
    return cache_new(pool, false);
}

/* An empty cache takes a full magazine's blocks; the magazine goes back empty. */
static void cache_load(cache_t *c, mag_t *m)
{
    pool_t *pool = c->pool;
    memcpy(c->slots, m->blocks, pool->batch * sizeof(void *));
    c->count = pool->batch;
    stack_push(&pool->empty, m);
}

/* A cache holding a batch or more gives its oldest batch to the full stack,
 * keeping the blocks freed last (the ones most likely still in this core's cache). */
static void cache_unload(cache_t *c)
{
    pool_t *pool = c->pool;
    mag_t *m = stack_pop(&pool->empty);
    if (m == NULL) {
        fprintf(stderr, "pool %p: no empty magazine for a batch of %zu free blocks: the "
                "invariant magazines >= capacity / batch is broken\n", (void *)pool, pool->batch);
        abort();
    }
    memcpy(m->blocks, c->slots, pool->batch * sizeof(void *));
    stack_push(&pool->full, m);
    c->count -= pool->batch;
    memmove(c->slots, c->slots + pool->batch, c->count * sizeof(void *));
}

/* An empty cache takes the blocks of caches nobody owns: tried before fresh
 * memory, so that blocks exited threads left are not stranded. */
static bool cache_scavenge(cache_t *c)
{
    for (cache_t *o = atomic_load_explicit(&c->pool->caches, memory_order_acquire);
         o != NULL && c->count == 0; o = o->next) {
        if (!cache_try_claim(o))
            continue; /* c itself, or owned by a thread */
        memcpy(c->slots, o->slots, o->count * sizeof(void *));
        c->count = o->count;
        o->count = 0;
        cache_unclaim(o);
    }
    return c->count > 0;
}

/* An empty cache takes fresh blocks, growing the pool (doubling its capacity) if
 * none is left: the only path that takes the mutex. False only when the system is
 * out of memory. */
static NOINLINE bool cache_carve(cache_t *c)
{
    pool_t *pool = c->pool;
    pool_lock(pool);
    if (pool->carve_next == pool->carve_end)
        pool_grow_locked(pool, atomic_load_explicit(&pool->capacity, memory_order_relaxed));
    size_t n = (size_t)(pool->carve_end - pool->carve_next) / pool->block_size;
    if (n > pool->batch)
        n = pool->batch;
    for (size_t i = 0; i < n; i++)
        c->slots[i] = pool->carve_next + i * pool->block_size;
    pool->carve_next += n * pool->block_size;
    pool_unlock(pool);
    c->count = n;
    return n > 0;
}

/* An empty cache takes a batch; false only when the system is out of memory. */
static NOINLINE bool cache_refill(cache_t *c)
{
    mag_t *m = stack_pop(&c->pool->full);
    if (likely(m != NULL)) {
        cache_load(c, m);
        return true;
    }
    return cache_scavenge(c) || cache_carve(c);
}

/* The free path's push into a cache (the thread's own or the spare). */
static void cache_put(cache_t *c, void *ptr)
{
    if (c->count == c->size)
        cache_unload(c);
    c->slots[c->count++] = ptr;
    counter_bump(&c->frees);
}

/* The last pool this thread used and its cache there: saves a pthread_getspecific
 * call on the fast path. The id tells a new pool at a reused address apart. */
static _Thread_local struct {
    const pool_t *pool;
    uint64_t id;
    cache_t *cache;
} last_used;

/* Runs when a thread that used the pool exits: its full batches go to the full
 * stack, and the rest stays in the cache, which becomes nobody's. No lock. */
static void cache_retire(void *arg)
{
    cache_t *c = arg;
    if (last_used.cache == c)
        last_used.pool = NULL;
    while (c->count >= c->pool->batch)
        cache_unload(c);
    cache_unclaim(c);
}

static NOINLINE cache_t *cache_get_slow(pool_t *pool)
{
    cache_t *c = pthread_getspecific(pool->key);
    if (c == NULL) {
        c = cache_claim(pool);
        if (c == NULL)
            return NULL;
        if (pthread_setspecific(pool->key, c) != 0) {
            cache_unclaim(c);
            return NULL;
        }
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

/* The fast paths' view: this thread's cache if the memo has it, else NULL. */
static cache_t *cache_peek(const pool_t *pool)
{
    return last_used.pool == pool && last_used.id == pool->id ? last_used.cache : NULL;
}

/* ---- the API ---- */

pool_t *pool_create(size_t block_size, size_t num_blocks)
{
    static atomic_uint_fast64_t next_id = 1;
    if (block_size == 0 || num_blocks == 0 || block_size > SIZE_MAX / 2)
        return NULL;
    pool_t *pool = aligned_alloc(_Alignof(pool_t), sizeof *pool);
    if (pool == NULL)
        return NULL;
    memset(pool, 0, sizeof *pool);
    pool->block_size = (block_size + BLOCK_ALIGN - 1) & ~(size_t)(BLOCK_ALIGN - 1);
    size_t cache_size = CACHE_BYTES / pool->block_size;
    if (cache_size > CACHE_MAX_SLOTS)
        cache_size = CACHE_MAX_SLOTS;
    if (cache_size < CACHE_MIN_SLOTS)
        cache_size = CACHE_MIN_SLOTS;
    pool->batch = cache_size / 2;
    pool->mag_bytes = (offsetof(mag_t, blocks) + pool->batch * sizeof(void *) + MAG_ALIGN - 1) &
                      ~(size_t)(MAG_ALIGN - 1);
    pool->id = atomic_fetch_add(&next_id, 1);
    pool->on_valgrind = RUNNING_ON_VALGRIND;
    if (pthread_mutex_init(&pool->lock, NULL) != 0)
        goto out_free_pool;
    if (pthread_key_create(&pool->key, cache_retire) != 0)
        goto out_destroy_lock;
    pool->spare = cache_new(pool, true);
    if (pool->spare == NULL)
        goto out_delete_key;
    if (!pool_grow_locked(pool, num_blocks)) /* nobody else can see the pool yet */
        goto out_free_spare;
    VALGRIND_CREATE_MEMPOOL(pool, 0, 0);
    return pool;

out_free_spare:
    free(pool->spare);
out_delete_key:
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
    /* From here on, no thread's exit runs cache_retire for this pool. */
    pthread_key_delete(pool->key);
    for (cache_t *c = atomic_load(&pool->caches), *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    for (chunk_t *chunk = pool->chunks, *next; chunk != NULL; chunk = next) {
        next = chunk->next;
        free(chunk->mags);
        free(chunk);
    }
    VALGRIND_DESTROY_MEMPOOL(pool);
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
    if (likely(c != NULL && c->count > 0 && !pool->on_valgrind)) {
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
    if (likely(c != NULL)) {
        cache_put(c, ptr);
        return;
    }
    /* No memory for a cache of this thread's own: borrow the spare, waiting while
     * another thread has it; the only wait outside growth, and only when the
     * system is out of memory. */
    while (!cache_try_claim(pool->spare))
        sched_yield();
    cache_put(pool->spare, ptr);
    cache_unclaim(pool->spare);
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

/* Lock-free: sums the counters of every cache, live or not. While other threads
 * run they are read at slightly different moments; the snapshot is kept within
 * [0, capacity]. */
pool_stats_t pool_get_stats(pool_t *pool)
{
    pool_stats_t s = {0};
    for (cache_t *c = atomic_load_explicit(&pool->caches, memory_order_acquire); c != NULL;
         c = c->next) {
        s.alloc_count += counter_read(&c->allocs);
        s.free_count += counter_read(&c->frees);
    }
    size_t capacity = atomic_load_explicit(&pool->capacity, memory_order_relaxed);
    s.blocks_used = s.alloc_count > s.free_count ? s.alloc_count - s.free_count : 0;
    if (s.blocks_used > capacity)
        s.blocks_used = capacity;
    s.blocks_free = capacity - s.blocks_used;
    s.contention_count = atomic_load_explicit(&pool->contention_count, memory_order_relaxed);
    return s;
}

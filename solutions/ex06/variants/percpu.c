/* variant: percpu
 * what: one LIFO stock of free blocks per CPU, each under its own mutex, trading half-stocks with a shared free array under the pool mutex
 * earns: bonus/per-cpu
 * fail: perf/seed perf/batch
 * may-fail:
 */

/* percpu.c — a variant of the reference solution of exercise 06 (solutions/ex06/
 * pool.c) that keeps its free blocks per CPU rather than per thread.
 *
 * Free blocks sit in one of three tiers, fastest first:
 *   1. the stock of the CPU the calling thread runs on (sched_getcpu): an array
 *      of block pointers under the stock's own mutex; alloc pops, free pushes, so
 *      a block freed on a CPU is the next one allocated there, whichever thread
 *      asks;
 *   2. the pool's free array, under the pool's mutex; a stock trades half of
 *      itself with it when it runs empty or full;
 *   3. fresh memory: the uncarved tail of the newest chunk; and before the pool
 *      grows, the blocks other CPUs' stocks hold.
 * Threads own nothing, so a thread's exit needs no flush and a pool needs no
 * pthread key: what a thread freed serves the next thread on its CPU.
 *
 * Each call costs a sched_getcpu and a lock and unlock of the stock's mutex,
 * which is uncontended unless the scheduler stops a thread inside it and runs
 * another on the same CPU; its cache line stays on that CPU. A thread that
 * migrates between sched_getcpu and the lock merely uses another CPU's stock:
 * correct, just slower. A thread cache pays none of this: an alloc/free pair
 * costs about 30 ns here in one thread, glibc's tcache 14; with 8 threads on 2
 * CPUs it measured 0.4x glibc on perf/seed and 0.7x on perf/batch, so it earns
 * neither perf check.
 * contention_count counts the failed trylocks before a wait, on any of the
 * pool's locks. Under Valgrind, memcheck is told about every block with the
 * mempool client requests (valgrind/memcheck.h), behind a test of a flag.
 * Cost: 2 * batch pointers per configured CPU per pool, plus a free array of
 * capacity pointers.
 */
#define _GNU_SOURCE /* sched_getcpu */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
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

/* Tunable: a CPU's stock holds up to STOCK_BYTES of free blocks (at most
 * STOCK_MAX_SLOTS of them); it trades half a stock at a time. */
#define STOCK_BYTES (128 * 1024)
#define STOCK_MAX_SLOTS 2048
#define STOCK_MIN_SLOTS 16

/* Fixed by the contract: blocks are 16-byte aligned. */
#define BLOCK_ALIGN 16

/* Memory from the system; blocks[] holds nblocks blocks. */
typedef struct chunk {
    struct chunk *next;
    size_t nblocks;
    _Alignas(BLOCK_ALIGN) unsigned char blocks[];
} chunk_t;

/* The free blocks kept for one CPU, and what its threads did; every field under
 * lock. A cache line (or two) of its own: threads on other CPUs never touch it,
 * except to steal from it before the pool grows and to read its counters. */
typedef struct stock {
    _Alignas(64) pthread_mutex_t lock;
    size_t count;  /* free blocks in slots[0..count), newest last */
    size_t allocs; /* pool_alloc calls served on this CPU */
    size_t frees;  /* pool_free calls made on this CPU */
    void **slots;  /* pool->stock_size of them */
} stock_t;

/* Invariant, under lock when no thread is inside pool_alloc or pool_free:
 *   capacity == nfree + sum stock->count + (carve_end - carve_next) / block_size
 *               + blocks_used
 * and free has room for capacity pointers, so giving blocks back never fails.
 * Lock order: a stock's lock, then the pool's; a second stock is only ever
 * tried (trylock), never waited for, so no two threads wait for each other. */
struct pool {
    /* set by pool_create, read-only after */
    size_t block_size;      /* bytes per block, a multiple of BLOCK_ALIGN */
    size_t stock_size;      /* slots of each stock, even; a batch is half */
    size_t nstocks;         /* one per configured CPU; unknown CPUs use stock 0 */
    bool on_valgrind;       /* tell memcheck about every block */
    stock_t *stocks;
    void **stock_slots;     /* nstocks * stock_size slots, the stocks' arrays */
    atomic_size_t contention_count; /* failed trylocks, on any lock of the pool */
    pthread_mutex_t lock;
    /* under lock */
    void **free;            /* free blocks in no stock: free[0..nfree) */
    size_t nfree;
    unsigned char *carve_next, *carve_end; /* uncarved tail of the newest chunk */
    chunk_t *chunks;
    size_t capacity;        /* blocks in all chunks */
};

/* ---- memcheck annotations ---- */

static NOINLINE void vg_alloc(const pool_t *pool, void *p)
{
    VALGRIND_MEMPOOL_ALLOC(pool, p, pool->block_size);
}

static NOINLINE void vg_free(const pool_t *pool, void *p)
{
    VALGRIND_MEMPOOL_FREE(pool, p);
}

/* ---- locks ---- */

static void lock_counted(pool_t *pool, pthread_mutex_t *lock)
{
    if (pthread_mutex_trylock(lock) != 0) {
        atomic_fetch_add_explicit(&pool->contention_count, 1, memory_order_relaxed);
        pthread_mutex_lock(lock);
    }
}

/* The stock of the CPU this thread runs on; stock 0 if the CPU is unknown. */
static stock_t *stock_here(pool_t *pool)
{
    int cpu = sched_getcpu();
    return &pool->stocks[cpu >= 0 && (size_t)cpu < pool->nstocks ? (size_t)cpu : 0];
}

/* ---- the shared tiers, under pool->lock ---- */

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

/* Moves up to n free blocks into out[], from the free array if it has any, else
 * fresh from the newest chunk. Returns how many; 0 when both are used up. */
static size_t pool_take_locked(pool_t *pool, void **out, size_t n)
{
    if (pool->nfree > 0) {
        if (n > pool->nfree)
            n = pool->nfree;
        pool->nfree -= n;
        memcpy(out, pool->free + pool->nfree, n * sizeof(void *));
        return n;
    }
    size_t left = (size_t)(pool->carve_end - pool->carve_next) / pool->block_size;
    if (n > left)
        n = left;
    for (size_t i = 0; i < n; i++)
        out[i] = pool->carve_next + i * pool->block_size;
    pool->carve_next += n * pool->block_size;
    return n;
}

/* Moves up to n blocks from the first other stock that has some and is not busy
 * (trylock: waiting for it while holding ours could deadlock). Before growing, so
 * that blocks freed on a CPU nobody uses any more are not stranded. */
static size_t pool_steal_locked(pool_t *pool, const stock_t *thief, void **out, size_t n)
{
    for (size_t i = 0; i < pool->nstocks; i++) {
        stock_t *victim = &pool->stocks[i];
        if (victim == thief || pthread_mutex_trylock(&victim->lock) != 0)
            continue;
        size_t k = victim->count < n ? victim->count : n;
        victim->count -= k; /* the oldest k, so the victim keeps its warm blocks */
        memcpy(out, victim->slots, k * sizeof(void *));
        memmove(victim->slots, victim->slots + k, victim->count * sizeof(void *));
        pthread_mutex_unlock(&victim->lock);
        if (k > 0)
            return k;
    }
    return 0;
}

/* Takes back n free blocks; the free array always has room (see the invariant). */
static void pool_give_locked(pool_t *pool, void *const *blocks, size_t n)
{
    memcpy(pool->free + pool->nfree, blocks, n * sizeof(void *));
    pool->nfree += n;
}

/* ---- stocks, under their own lock ---- */

/* An empty stock takes a batch: from the free array, fresh memory, another CPU's
 * stock, or a new chunk (doubling the capacity). False only when the system is
 * out of memory. */
static NOINLINE bool stock_refill_slow(pool_t *pool, stock_t *st)
{
    size_t batch = pool->stock_size / 2;
    lock_counted(pool, &pool->lock);
    size_t n = pool_take_locked(pool, st->slots, batch);
    if (n == 0)
        n = pool_steal_locked(pool, st, st->slots, batch);
    if (n == 0 && pool_grow_locked(pool, pool->capacity))
        n = pool_take_locked(pool, st->slots, batch);
    pthread_mutex_unlock(&pool->lock);
    st->count = n;
    return n > 0;
}

/* A full stock gives its older half back, keeping the blocks freed last. */
static NOINLINE void stock_drain_slow(pool_t *pool, stock_t *st)
{
    size_t half = pool->stock_size / 2;
    lock_counted(pool, &pool->lock);
    pool_give_locked(pool, st->slots, half);
    pthread_mutex_unlock(&pool->lock);
    st->count -= half;
    memmove(st->slots, st->slots + half, st->count * sizeof(void *));
}

/* ---- the API ---- */

pool_t *pool_create(size_t block_size, size_t num_blocks)
{
    if (block_size == 0 || num_blocks == 0 || block_size > SIZE_MAX / 2)
        return NULL;
    pool_t *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return NULL;
    pool->block_size = (block_size + BLOCK_ALIGN - 1) & ~(size_t)(BLOCK_ALIGN - 1);
    pool->stock_size = STOCK_BYTES / pool->block_size;
    if (pool->stock_size > STOCK_MAX_SLOTS)
        pool->stock_size = STOCK_MAX_SLOTS;
    if (pool->stock_size < STOCK_MIN_SLOTS)
        pool->stock_size = STOCK_MIN_SLOTS;
    pool->stock_size &= ~(size_t)1;
    long cpus = sysconf(_SC_NPROCESSORS_CONF);
    pool->nstocks = cpus < 1 ? 1 : cpus > CPU_SETSIZE ? CPU_SETSIZE : (size_t)cpus;
    pool->on_valgrind = RUNNING_ON_VALGRIND;
    size_t nstocks = 0;
    pool->stocks = aligned_alloc(_Alignof(stock_t), pool->nstocks * sizeof(stock_t));
    if (pool->stocks == NULL)
        goto out_free_pool;
    pool->stock_slots = calloc(pool->nstocks * pool->stock_size, sizeof(void *));
    if (pool->stock_slots == NULL)
        goto out_free_stocks;
    for (; nstocks < pool->nstocks; nstocks++) {
        stock_t *st = &pool->stocks[nstocks];
        memset(st, 0, sizeof *st);
        st->slots = pool->stock_slots + nstocks * pool->stock_size;
        if (pthread_mutex_init(&st->lock, NULL) != 0)
            goto out_destroy_stock_locks;
    }
    if (pthread_mutex_init(&pool->lock, NULL) != 0)
        goto out_destroy_stock_locks;
    if (!pool_grow_locked(pool, num_blocks)) /* nobody else can see the pool yet */
        goto out_free_array;
    VALGRIND_CREATE_MEMPOOL(pool, 0, 0);
    return pool;

out_free_array:
    free(pool->free);
    pthread_mutex_destroy(&pool->lock);
out_destroy_stock_locks:
    while (nstocks > 0)
        pthread_mutex_destroy(&pool->stocks[--nstocks].lock);
    free(pool->stock_slots);
out_free_stocks:
    free(pool->stocks);
out_free_pool:
    free(pool);
    return NULL;
}

void pool_destroy(pool_t *pool)
{
    if (pool == NULL)
        return;
    for (chunk_t *chunk = pool->chunks, *next; chunk != NULL; chunk = next) {
        next = chunk->next;
        free(chunk);
    }
    VALGRIND_DESTROY_MEMPOOL(pool);
    for (size_t i = 0; i < pool->nstocks; i++)
        pthread_mutex_destroy(&pool->stocks[i].lock);
    free(pool->stock_slots);
    free(pool->stocks);
    free(pool->free);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

void *pool_alloc(pool_t *pool)
{
    stock_t *st = stock_here(pool);
    lock_counted(pool, &st->lock);
    if (unlikely(st->count == 0) && !stock_refill_slow(pool, st)) {
        pthread_mutex_unlock(&st->lock);
        return NULL;
    }
    void *b = st->slots[--st->count];
    st->allocs++;
    pthread_mutex_unlock(&st->lock);
    if (unlikely(pool->on_valgrind))
        vg_alloc(pool, b);
    return b;
}

void pool_free(pool_t *pool, void *ptr)
{
    if (ptr == NULL)
        return;
    if (unlikely(pool->on_valgrind))
        vg_free(pool, ptr);
    stock_t *st = stock_here(pool);
    lock_counted(pool, &st->lock);
    if (unlikely(st->count == pool->stock_size))
        stock_drain_slow(pool, st);
    st->slots[st->count++] = ptr;
    st->frees++;
    pthread_mutex_unlock(&st->lock);
}

pool_stats_t pool_get_stats(pool_t *pool)
{
    pool_stats_t s = {0};
    for (size_t i = 0; i < pool->nstocks; i++) {
        stock_t *st = &pool->stocks[i];
        lock_counted(pool, &st->lock);
        s.alloc_count += st->allocs;
        s.free_count += st->frees;
        pthread_mutex_unlock(&st->lock);
    }
    lock_counted(pool, &pool->lock);
    size_t capacity = pool->capacity;
    pthread_mutex_unlock(&pool->lock);
    /* While other threads run, the stocks are read at slightly different moments
     * (a block allocated on one CPU and freed on another may show as freed
     * first); keep the snapshot within [0, capacity]. */
    s.blocks_used = s.alloc_count > s.free_count ? s.alloc_count - s.free_count : 0;
    if (s.blocks_used > capacity)
        s.blocks_used = capacity;
    s.blocks_free = capacity - s.blocks_used;
    s.contention_count = atomic_load_explicit(&pool->contention_count, memory_order_relaxed);
    return s;
}

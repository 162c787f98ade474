/* cache.c — tier 1 and the front door: the malloc family, a cache of free
 * objects per thread, statistics, fork safety.
 *
 * A thread's cache has a bin per size class: a stack of free objects linked
 * through their first word. ti_malloc pops, ti_free pushes, no lock: the bins
 * are the thread's own (thread-local storage). An empty bin refills with a
 * batch from tier 2; a bin that would pass TI_CACHE_CAP drains half of itself
 * to tier 2. Requests above TI_MAX_SMALL go to tier 3 (buddy.c). A free may
 * come from any thread: the object goes into the freeing thread's cache, and
 * tier 2 finds its slab from its address when it drains.
 *
 * A thread's cache is flushed when the thread ends (a pthread key's
 * destructor), and the three tiers' locks are taken around fork() so that the
 * child never inherits a lock held by a thread that does not exist there.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tiers.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Objects a refill brings and a drain takes: a lock is taken once per BATCH. */
#define BATCH (TI_CACHE_CAP / 2)

static const uint16_t class_size[TI_NBINS] = TI_CLASS_SIZES;

/* class_of_8th[(n + 7) / 8]: the smallest class that holds n bytes. */
static const uint8_t class_of_8th[TI_MAX_SMALL / 8 + 1] = {
#define R4(c) c, c, c, c
#define R8(c) R4(c), R4(c)
#define R16(c) R8(c), R8(c)
#define R32(c) R16(c), R16(c)
#define R64(c) R32(c), R32(c)
    0, 0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7,  /* up to 128 bytes */
    R8(8), R8(9), R16(10), R16(11), R32(12), R32(13), R64(14), R64(15),
};
_Static_assert(sizeof class_of_8th == TI_MAX_SMALL / 8 + 1, "one entry per 8 bytes");

typedef enum { CACHE_NEW, CACHE_BUSY, CACHE_ON, CACHE_DEAD } cache_state_t;

/* Counters of a thread: written by their thread only (relaxed atomic stores),
 * read by ti_get_stats in any thread. */
typedef struct {
    size_t allocs, frees, hits, misses, locks;
} counters_t;

/* Invariant (C1): bins[i].count is the length of the list at bins[i].head,
 * at most TI_CACHE_CAP, and every object on it is a free object of class i. */
typedef struct cache {
    struct {
        void *head;
        uint32_t count;
    } bins[TI_NBINS];
    cache_state_t state; /* CACHE_ON: bins in use; otherwise calls go to tier 2 */
    counters_t n;
    struct cache *next, *prev; /* live caches, under reg_lock */
} cache_t;

static __thread cache_t tc __attribute__((tls_model("initial-exec")));

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER; /* live caches, retired counters, init */
static cache_t *live;          /* caches of running threads */
static counters_t retired;     /* counters of threads that ended, and of calls made without a cache */
static pthread_key_t exit_key; /* its destructor flushes a thread's cache */
static bool started;           /* key and fork handlers in place (under reg_lock) */

/* ---- counting ---- */

#define BUMP(field)                                                                       \
    do {                                                                                  \
        if (likely(tc.state == CACHE_ON))                                                 \
            __atomic_store_n(&tc.n.field, tc.n.field + 1, __ATOMIC_RELAXED);              \
        else                                                                              \
            __atomic_fetch_add(&retired.field, 1, __ATOMIC_RELAXED);                      \
    } while (0)

void ti_lock(pthread_mutex_t *m)
{
    pthread_mutex_lock(m);
    BUMP(locks);
}

/* ---- the cache's life ---- */

static void flush_bins(void)
{
    for (int i = 0; i < TI_NBINS; i++) {
        if (tc.bins[i].count > 0)
            slab_drain(i, tc.bins[i].head, (int)tc.bins[i].count);
        tc.bins[i].head = NULL;
        tc.bins[i].count = 0;
    }
}

/* into += n; atomic, since `retired` is also bumped by threads without a cache */
static void fold(counters_t *into, const counters_t *n)
{
    __atomic_fetch_add(&into->allocs, n->allocs, __ATOMIC_RELAXED);
    __atomic_fetch_add(&into->frees, n->frees, __ATOMIC_RELAXED);
    __atomic_fetch_add(&into->hits, n->hits, __ATOMIC_RELAXED);
    __atomic_fetch_add(&into->misses, n->misses, __ATOMIC_RELAXED);
    __atomic_fetch_add(&into->locks, n->locks, __ATOMIC_RELAXED);
}

/* The pthread key's destructor: the thread is ending. */
static void cache_exit(void *unused)
{
    (void)unused;
    flush_bins();
    tc.state = CACHE_DEAD; /* later calls of this thread (other destructors) go to tier 2 */
    pthread_mutex_lock(&reg_lock);
    __atomic_store_n(&tc.n.locks, tc.n.locks + 1, __ATOMIC_RELAXED);
    fold(&retired, &tc.n);
    if (tc.prev != NULL)
        tc.prev->next = tc.next;
    else
        live = tc.next;
    if (tc.next != NULL)
        tc.next->prev = tc.prev;
    pthread_mutex_unlock(&reg_lock);
}

static void fork_prepare(void)
{
    pthread_mutex_lock(&reg_lock);
    slab_lock_all();
    buddy_lock_all();
}

static void fork_parent(void)
{
    buddy_unlock_all();
    slab_unlock_all();
    pthread_mutex_unlock(&reg_lock);
}

/* Only the forking thread lives on in the child: its locks are re-made, and
 * the other threads' caches are forgotten (their objects are lost, as the
 * threads are). */
static void fork_child(void)
{
    buddy_reinit_locks();
    slab_reinit_locks();
    pthread_mutex_init(&reg_lock, NULL);
    for (cache_t *c = live; c != NULL; c = c->next)
        if (c != &tc)
            fold(&retired, &c->n);
    live = tc.state == CACHE_ON ? &tc : NULL;
    tc.next = tc.prev = NULL;
}

/* The first call of a thread: its cache joins the live list. Calls made
 * meanwhile (pthread_setspecific or pthread_atfork may allocate) see
 * CACHE_BUSY and go to tier 2. */
static void cache_start(void)
{
    tc.state = CACHE_BUSY;
    pthread_mutex_lock(&reg_lock);
    bool ok = started;
    if (!started && pthread_key_create(&exit_key, cache_exit) == 0) {
        ok = pthread_atfork(fork_prepare, fork_parent, fork_child) == 0;
        started = true;
    }
    pthread_mutex_unlock(&reg_lock);
    __atomic_fetch_add(&retired.locks, 1, __ATOMIC_RELAXED);
    if (!ok || pthread_setspecific(exit_key, &tc) != 0) {
        tc.state = CACHE_DEAD; /* no cache, rather than one nobody flushes */
        return;
    }
    pthread_mutex_lock(&reg_lock);
    __atomic_fetch_add(&retired.locks, 1, __ATOMIC_RELAXED);
    tc.next = live;
    if (live != NULL)
        live->prev = &tc;
    live = &tc;
    tc.state = CACHE_ON;
    pthread_mutex_unlock(&reg_lock);
}

/* ---- small objects: the fast paths and their slow halves ---- */

static void *small_malloc_slow(int cls)
{
    if (tc.state == CACHE_NEW)
        cache_start();
    BUMP(misses);
    BUMP(allocs);
    void *list;
    if (tc.state != CACHE_ON) /* no cache: one object straight from tier 2 */
        return slab_refill(cls, &list, 1) == 1 ? list : NULL;
    int got = slab_refill(cls, &list, BATCH);
    if (got == 0) {
        errno = ENOMEM;
        return NULL;
    }
    tc.bins[cls].head = *(void **)list;
    tc.bins[cls].count = (uint32_t)got - 1;
    return list;
}

static inline void *small_malloc(int cls)
{
    void *p = tc.bins[cls].head;
    if (unlikely(p == NULL))
        return small_malloc_slow(cls);
    tc.bins[cls].head = *(void **)p;
    tc.bins[cls].count--;
    __atomic_store_n(&tc.n.hits, tc.n.hits + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&tc.n.allocs, tc.n.allocs + 1, __ATOMIC_RELAXED);
    return p;
}

static void small_free_slow(void *p, int cls)
{
    if (tc.state == CACHE_NEW)
        cache_start();
    if (tc.state != CACHE_ON) { /* no cache: straight back to tier 2 */
        *(void **)p = NULL;
        slab_drain(cls, p, 1);
        BUMP(frees);
        return;
    }
    if (tc.bins[cls].count >= TI_CACHE_CAP) {
        /* the bin is full: half of it goes back to tier 2 (C1: at most TI_CACHE_CAP) */
        void *list = tc.bins[cls].head, *last = list;
        for (int i = 1; i < BATCH; i++)
            last = *(void **)last;
        tc.bins[cls].head = *(void **)last;
        tc.bins[cls].count -= BATCH;
        *(void **)last = NULL;
        slab_drain(cls, list, BATCH);
    }
    *(void **)p = tc.bins[cls].head;
    tc.bins[cls].head = p;
    tc.bins[cls].count++;
    BUMP(frees);
}

static inline void small_free(void *p, int cls)
{
    if (unlikely(tc.state != CACHE_ON || tc.bins[cls].count >= TI_CACHE_CAP)) {
        small_free_slow(p, cls);
        return;
    }
    *(void **)p = tc.bins[cls].head;
    tc.bins[cls].head = p;
    tc.bins[cls].count++;
    __atomic_store_n(&tc.n.frees, tc.n.frees + 1, __ATOMIC_RELAXED);
}

/* ---- large blocks ---- */

static int order_of(size_t size)
{
    int order = 0;
    while (((size_t)TI_PAGE << order) < size)
        order++;
    return order;
}

/* size bytes aligned to align (a power of two, at least 16), above the small classes
 * or aligned beyond what they give. */
static void *large_malloc(size_t size, size_t align)
{
    void *p;
    if (size <= TI_MAX_LARGE && align <= TI_MAX_LARGE) {
        ti_page_t *pg = buddy_alloc(order_of(size > align ? size : align), TI_LARGE, 0);
        p = pg != NULL ? page_addr(pg) : NULL;
    } else {
        p = huge_alloc(size, align);
    }
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    BUMP(allocs);
    return p;
}

/* ---- the family ---- */

void *ti_malloc(size_t size)
{
    if (likely(size <= TI_MAX_SMALL))
        return small_malloc(class_of_8th[(size + 7) / 8]);
    return large_malloc(size, 16);
}

void ti_free(void *ptr)
{
    if (ptr == NULL)
        return;
    ti_page_t *pg = page_of(ptr);
    if (likely(pg != NULL && pg->kind == TI_SLAB)) {
        small_free(ptr, pg->cls);
        return;
    }
    if (pg != NULL)
        buddy_free(pg);
    else
        huge_free(ptr);
    BUMP(frees);
}

size_t ti_malloc_usable_size(void *ptr)
{
    if (ptr == NULL)
        return 0;
    ti_page_t *pg = page_of(ptr);
    if (pg == NULL)
        return huge_usable_size(ptr);
    return pg->kind == TI_SLAB ? class_size[pg->cls] : (size_t)TI_PAGE << pg->order;
}

void *ti_calloc(size_t nmemb, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(nmemb, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = ti_malloc(total);
    if (p != NULL && total <= TI_MAX_SMALL)
        memset(p, 0, total);
    else if (p != NULL && page_of(p) != NULL)
        memset(p, 0, total); /* buddy blocks are recycled; fresh mappings are zero */
    return p;
}

void *ti_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return ti_malloc(size);
    if (size == 0) {
        ti_free(ptr);
        return NULL;
    }
    size_t old = ti_malloc_usable_size(ptr);
    if (size <= old && (size > TI_MAX_SMALL || old <= TI_MAX_SMALL) && size >= old / 2)
        return ptr; /* fits, and does not waste more than half */
    void *q = ti_malloc(size);
    if (q == NULL)
        return NULL;
    memcpy(q, ptr, old < size ? old : size);
    ti_free(ptr);
    return q;
}

void *ti_reallocarray(void *ptr, size_t nmemb, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(nmemb, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return ti_realloc(ptr, total);
}

static bool is_pow2(size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* Small classes of a power of two hold objects aligned to their size (slabs
 * start on a page); anything else aligned comes from tier 3. */
static void *aligned(size_t align, size_t size)
{
    if (align <= 8 || (align == 16 && size > 24))
        return ti_malloc(size); /* every class above 24 bytes is a multiple of 16 */
    size_t want = size > align ? size : align;
    if (want <= TI_MAX_SMALL && align <= TI_PAGE) {
        size_t pow = 16;
        while (pow < want)
            pow *= 2;
        return small_malloc(class_of_8th[pow / 8]);
    }
    return large_malloc(size, align);
}

int ti_posix_memalign(void **memptr, size_t alignment, size_t size)
{
    if (!is_pow2(alignment) || alignment % sizeof(void *) != 0)
        return EINVAL;
    int saved = errno;
    void *p = aligned(alignment, size);
    errno = saved;
    if (p == NULL)
        return ENOMEM;
    *memptr = p;
    return 0;
}

void *ti_aligned_alloc(size_t alignment, size_t size)
{
    if (!is_pow2(alignment)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned(alignment, size);
}

void *ti_memalign(size_t alignment, size_t size)
{
    return ti_aligned_alloc(alignment, size);
}

void *ti_valloc(size_t size)
{
    return aligned(TI_PAGE, size);
}

void *ti_pvalloc(size_t size)
{
    if (size > SIZE_MAX - TI_PAGE) {
        errno = ENOMEM;
        return NULL;
    }
    size = size == 0 ? TI_PAGE : (size + TI_PAGE - 1) & ~(size_t)(TI_PAGE - 1);
    return aligned(TI_PAGE, size);
}

/* ---- looking inside ---- */

ti_stats_t ti_get_stats(void)
{
    counters_t sum = {0};
    pthread_mutex_lock(&reg_lock);
    for (cache_t *c = live; c != NULL; c = c->next) {
        counters_t n = {
            __atomic_load_n(&c->n.allocs, __ATOMIC_RELAXED), __atomic_load_n(&c->n.frees, __ATOMIC_RELAXED),
            __atomic_load_n(&c->n.hits, __ATOMIC_RELAXED), __atomic_load_n(&c->n.misses, __ATOMIC_RELAXED),
            __atomic_load_n(&c->n.locks, __ATOMIC_RELAXED),
        };
        fold(&sum, &n);
    }
    counters_t r = {
        __atomic_load_n(&retired.allocs, __ATOMIC_RELAXED), __atomic_load_n(&retired.frees, __ATOMIC_RELAXED),
        __atomic_load_n(&retired.hits, __ATOMIC_RELAXED), __atomic_load_n(&retired.misses, __ATOMIC_RELAXED),
        __atomic_load_n(&retired.locks, __ATOMIC_RELAXED),
    };
    fold(&sum, &r);
    pthread_mutex_unlock(&reg_lock);
    return (ti_stats_t){
        .alloc_count = sum.allocs, .free_count = sum.frees, .in_use = sum.allocs - sum.frees,
        .cache_hits = sum.hits, .cache_misses = sum.misses, .lock_count = sum.locks,
    };
}

size_t ti_cached(size_t size)
{
    return size <= TI_MAX_SMALL ? tc.bins[class_of_8th[(size + 7) / 8]].count : 0;
}

void ti_thread_flush(void)
{
    flush_bins();
}

int ti_check(void)
{
    for (int i = 0; i < TI_NBINS; i++) { /* C1 */
        uint32_t n = 0;
        for (void *o = tc.bins[i].head; o != NULL && n <= TI_CACHE_CAP; o = *(void **)o) {
            ti_page_t *pg = page_of(o);
            if (pg == NULL || pg->kind != TI_SLAB || pg->cls != i) {
                static const char m[] = "ti_check: tier 1: an object in a bin is not of its class\n";
                ssize_t u = write(2, m, sizeof m - 1);
                (void)u;
                return -1;
            }
            n++;
        }
        if (n != tc.bins[i].count || n > TI_CACHE_CAP) {
            static const char m[] = "ti_check: tier 1 (C1): a bin's count is not its length, or above the cap\n";
            ssize_t u = write(2, m, sizeof m - 1);
            (void)u;
            return -1;
        }
    }
    return slab_check() == 0 && buddy_check() == 0 ? 0 : -1;
}

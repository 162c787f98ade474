/* cache.c — tier 1 and the front door: the malloc family, a cache of free
 * objects per thread, statistics, fork safety. Read README.md (the statement)
 * and tiers.h first; `make hint EX=10` gives hints one at a time.
 *
 * Suggested order: buddy.c (tier 3) first, then slab.c (tier 2), then this
 * file: first with no cache at all (every call goes to tier 2), then the
 * thread cache, then thread exit and fork.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tiers.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* TODO (tests/hit-rate, tests/pollution): a cache per thread: __thread bins of
 * free objects, at most TI_CACHE_CAP each, refilled and drained in batches. */

/* TODO (tests/stats): count allocations, frees, hits, misses and locks. */
void ti_lock(pthread_mutex_t *m)
{
    pthread_mutex_lock(m);
}

/* TODO (tests/basic): small requests from the thread's cache or tier 2,
 * larger ones from tier 3 (buddy_alloc) or a mapping of their own (huge_alloc). */
void *ti_malloc(size_t size)
{
    (void)size;
    return NULL;
}

/* TODO (tests/basic, tests/cross-thread): find what ptr is (page_of) and give it back. */
void ti_free(void *ptr)
{
    (void)ptr;
}

/* TODO (tests/calloc, tests/overflow) */
void *ti_calloc(size_t nmemb, size_t size)
{
    (void)nmemb;
    (void)size;
    return NULL;
}

/* TODO (tests/realloc) */
void *ti_realloc(void *ptr, size_t size)
{
    (void)ptr;
    (void)size;
    return NULL;
}

/* TODO (tests/realloc, tests/overflow) */
void *ti_reallocarray(void *ptr, size_t nmemb, size_t size)
{
    (void)ptr;
    (void)nmemb;
    (void)size;
    return NULL;
}

/* TODO (tests/aligned): EINVAL for a bad alignment, *memptr left alone. */
int ti_posix_memalign(void **memptr, size_t alignment, size_t size)
{
    (void)memptr;
    (void)alignment;
    (void)size;
    return ENOMEM;
}

/* TODO (tests/aligned) */
void *ti_aligned_alloc(size_t alignment, size_t size)
{
    (void)alignment;
    (void)size;
    return NULL;
}

void *ti_memalign(size_t alignment, size_t size)
{
    return ti_aligned_alloc(alignment, size);
}

/* TODO (tests/aligned) */
void *ti_valloc(size_t size)
{
    (void)size;
    return NULL;
}

/* TODO (tests/aligned) */
void *ti_pvalloc(size_t size)
{
    (void)size;
    return NULL;
}

/* TODO (tests/usable-size): the class's size for a small block. */
size_t ti_malloc_usable_size(void *ptr)
{
    (void)ptr;
    return 0;
}

/* TODO (tests/stats): sum the live threads' counters and those of threads that ended. */
ti_stats_t ti_get_stats(void)
{
    return (ti_stats_t){0};
}

/* TODO (tests/bin-cap) */
size_t ti_cached(size_t size)
{
    (void)size;
    return 0;
}

/* TODO (tests/coalesce, tests/thread-exit): what a thread's end does, also
 * from a pthread key's destructor. TODO (tests/fork): pthread_atfork. */
void ti_thread_flush(void)
{
}

/* TODO: check tier 1's bins, then slab_check() and buddy_check(). */
int ti_check(void)
{
    return 0;
}

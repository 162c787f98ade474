/* tiers_testlib.h — helpers shared by the tests of exercise 10: byte patterns
 * (alab_testlib.h), threads released together (alab_threads.h), a small
 * deterministic PRNG, statistics deltas and the classes' sizes. */
#ifndef TIERS_TESTLIB_H
#define TIERS_TESTLIB_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "alab.h"
#include "alab_testlib.h"
#include "alab_threads.h"
#include "tiers.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ThreadSanitizer and memcheck run code 5 to 50 times slower; their reports
 * show with fewer operations. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#endif
#ifdef UNDER_TSAN
#define OPS_DIVISOR 4
#else
#define OPS_DIVISOR 1
#endif

static const size_t class_sizes[TI_NBINS] = TI_CLASS_SIZES;

/* The size of the class that serves n bytes (n <= TI_MAX_SMALL). */
static inline size_t class_for(size_t n)
{
    for (int i = 0; i < TI_NBINS; i++)
        if (class_sizes[i] >= n)
            return class_sizes[i];
    return 0;
}

#define ck_assert_pattern(block, size, tag, what)                                              \
    do {                                                                                       \
        size_t at_ = pattern_check((block), (size), (tag));                                    \
        ck_assert_msg(at_ == (size),                                                           \
                      "%s: block %p (%zu bytes) changed at byte %zu while its holder still "   \
                      "owned it, so the allocator handed out overlapping memory",               \
                      (what), (void *)(block), (size_t)(size), at_);                           \
    } while (0)

#define ck_assert_heap(when)                                                                   \
    ck_assert_msg(ti_check() == 0, "ti_check() found a broken invariant %s (its message is "   \
                  "in the test's output)", (when))

static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

typedef struct {
    long allocs, frees, in_use, hits, misses, locks;
} stats_delta_t;

static inline stats_delta_t stats_delta(ti_stats_t a, ti_stats_t b)
{
    return (stats_delta_t){
        (long)(b.alloc_count - a.alloc_count), (long)(b.free_count - a.free_count),
        (long)(b.in_use - a.in_use),           (long)(b.cache_hits - a.cache_hits),
        (long)(b.cache_misses - a.cache_misses), (long)(b.lock_count - a.lock_count),
    };
}

/* Everything freed and every cache flushed: tier 3 holds only whole blocks of
 * the top order. Returns NULL, or what is wrong (a static string). */
static inline const char *pages_all_merged(char *buf, size_t len)
{
    ti_pages_t p = ti_get_pages();
    if (p.pages_free != p.pages_total) {
        snprintf(buf, len, "%zu of tier 3's %zu pages are not free", p.pages_total - p.pages_free,
                 p.pages_total);
        return buf;
    }
    for (int o = 0; o < TI_NORDERS - 1; o++)
        if (p.free_blocks[o] != 0) {
            snprintf(buf, len, "%zu free blocks of order %d (%d bytes) were not merged with their "
                     "buddies", p.free_blocks[o], o, TI_PAGE << o);
            return buf;
        }
    return NULL;
}

/* A block held by a test thread, with the pattern written into it. */
typedef struct {
    void *p;
    size_t size;
    uint32_t tag;
} held_t;

#endif

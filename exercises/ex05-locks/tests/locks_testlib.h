/* locks_testlib.h — helpers shared by the public and hidden tests of exercise 05:
 * byte patterns that show when two holders share memory, threads released
 * together by a barrier, a small deterministic PRNG, and statistics deltas
 * (the allocator is the whole process's, so a test compares snapshots). */
#ifndef LOCKS_TESTLIB_H
#define LOCKS_TESTLIB_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* CPU affinity, barriers */
#endif

#include "alab.h"
#include "alab_testlib.h"
#include "alab_threads.h"
#include "locks.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ThreadSanitizer runs code 5 to 15 times slower; its races show with fewer
 * operations, so concurrent tests divide their counts by OPS_DIVISOR there. */
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

/* Fails the test when block lost its pattern: somebody else wrote into it. */
#define ck_assert_pattern(block, size, tag, what)                                              \
    do {                                                                                       \
        size_t at_ = pattern_check((block), (size), (tag));                                    \
        ck_assert_msg(at_ == (size),                                                           \
                      "%s: block %p (%zu bytes) changed at byte %zu while its holder still "   \
                      "owned it, so the allocator handed out overlapping memory",               \
                      (what), (void *)(block), (size_t)(size), at_);                           \
    } while (0)

/* xorshift64*: deterministic from a seed, good enough to vary a workload. */
static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Statistics as signed differences between two snapshots. */
typedef struct {
    long allocs, frees, in_use, mmaps, munmaps, locks, waits;
} stats_delta_t;

static inline stats_delta_t stats_delta(lk_stats_t a, lk_stats_t b)
{
    return (stats_delta_t){
        (long)(b.alloc_count - a.alloc_count), (long)(b.free_count - a.free_count),
        (long)(b.in_use - a.in_use),           (long)(b.mmap_count - a.mmap_count),
        (long)(b.munmap_count - a.munmap_count), (long)(b.lock_count - a.lock_count),
        (long)(b.contention_count - a.contention_count),
    };
}

static inline const char *locking_name(lk_locking_t how)
{
    return how == LK_ONE_LOCK ? "LK_ONE_LOCK" : "LK_PER_CLASS";
}

/* A size in class i (1..64 for class 0, 65..128 for class 1, ...), from r. */
static inline size_t size_in_class(int i, uint64_t r)
{
    size_t hi = (size_t)LK_MIN_SMALL << i, lo = i == 0 ? 1 : hi / 2 + 1;
    return lo + (size_t)(r % (hi - lo + 1));
}

#endif

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

/* The byte a holder with this tag writes at offset i of its block. */
static inline unsigned char pattern_byte(uint32_t tag, size_t i)
{
    uint32_t x = tag * 2654435761u + (uint32_t)i * 40503u;
    return (unsigned char)(x >> 24 ^ x);
}

static inline void pattern_fill(void *block, size_t size, uint32_t tag)
{
    unsigned char *p = block;
    for (size_t i = 0; i < size; i++)
        p[i] = pattern_byte(tag, i);
}

/* The first offset where block no longer holds tag's pattern, or size if intact. */
static inline size_t pattern_check(const void *block, size_t size, uint32_t tag)
{
    const unsigned char *p = block;
    for (size_t i = 0; i < size; i++)
        if (p[i] != pattern_byte(tag, i))
            return i;
    return size;
}

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

/* Runs fn(args[i]) on n threads released together by a barrier. */
typedef struct {
    pthread_barrier_t *start;
    void *(*fn)(void *);
    void *arg;
} start_gate_t;

static inline void *start_gate_run(void *p)
{
    start_gate_t *g = p;
    pthread_barrier_wait(g->start);
    return g->fn(g->arg);
}

/* When pin is true, thread i runs on CPU i mod (CPUs available), so that a
 * benchmark's time does not depend on how the scheduler spread the threads. */
static inline void run_threads_on(int n, void *(*fn)(void *), void **args, bool pin)
{
    pthread_t tids[64];
    start_gate_t gates[64];
    pthread_barrier_t start;
    /* Not ck_assert: this also serves programs that are not Check tests. */
    if (n < 1 || n > 64 || pthread_barrier_init(&start, NULL, (unsigned)n) != 0) {
        fprintf(stderr, "run_threads: cannot start %d threads together\n", n);
        abort();
    }
    cpu_set_t allowed;
    int ncpus = 0, cpus[CPU_SETSIZE];
    if (pin && sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &allowed))
                cpus[ncpus++] = c;
    for (int i = 0; i < n; i++) {
        gates[i] = (start_gate_t){&start, fn, args[i]};
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        if (ncpus > 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpus[i % ncpus], &one);
            pthread_attr_setaffinity_np(&attr, sizeof one, &one);
        }
        int err = pthread_create(&tids[i], &attr, start_gate_run, &gates[i]);
        pthread_attr_destroy(&attr);
        if (err != 0) {
            fprintf(stderr, "run_threads: could not start thread %d\n", i);
            abort();
        }
    }
    for (int i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&start);
}

static inline void run_threads(int n, void *(*fn)(void *), void **args)
{
    run_threads_on(n, fn, args, false);
}

/* A size in class i (1..64 for class 0, 65..128 for class 1, ...), from r. */
static inline size_t size_in_class(int i, uint64_t r)
{
    size_t hi = (size_t)LK_MIN_SMALL << i, lo = i == 0 ? 1 : hi / 2 + 1;
    return lo + (size_t)(r % (hi - lo + 1));
}

#endif

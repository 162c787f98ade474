/* pool_testlib.h — helpers shared by the public and hidden tests of exercise 06:
 * byte patterns that show when two holders share a block, a start barrier so
 * that threads really overlap in time, and a small deterministic PRNG. */
#ifndef POOL_TESTLIB_H
#define POOL_TESTLIB_H

#include "alab.h"
#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#define ck_assert_pattern(block, size, tag, what)                                          \
    do {                                                                                   \
        size_t at_ = pattern_check((block), (size), (tag));                                \
        ck_assert_msg(at_ == (size),                                                       \
                      "%s: block %p (%zu bytes) changed at byte %zu while its holder "    \
                      "still owned it, so pool_alloc handed it (or an overlapping block) " \
                      "to someone else",                                                   \
                      (what), (void *)(block), (size_t)(size), at_);                       \
    } while (0)

/* xorshift64*: deterministic from a seed, good enough to vary a workload. */
static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Runs fn(i) on n threads released together by a barrier. */
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

/* args: n pointers, one per thread; each thread gets its own. */
static inline void run_threads(int n, void *(*fn)(void *), void **args)
{
    pthread_t tids[64];
    start_gate_t gates[64];
    pthread_barrier_t start;
    /* Not ck_assert: this also serves programs that are not Check tests. */
    if (n < 1 || n > 64 || pthread_barrier_init(&start, NULL, (unsigned)n) != 0) {
        fprintf(stderr, "run_threads: cannot start %d threads together\n", n);
        abort();
    }
    for (int i = 0; i < n; i++) {
        gates[i] = (start_gate_t){&start, fn, args[i]};
        if (pthread_create(&tids[i], NULL, start_gate_run, &gates[i]) != 0) {
            fprintf(stderr, "run_threads: could not start thread %d\n", i);
            abort();
        }
    }
    for (int i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&start);
}

#endif

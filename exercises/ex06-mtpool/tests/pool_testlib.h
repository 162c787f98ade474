/* pool_testlib.h — helpers shared by the public and hidden tests of exercise 06:
 * byte patterns that show when two holders share a block, a start barrier so
 * that threads really overlap in time, and a small deterministic PRNG. */
#ifndef POOL_TESTLIB_H
#define POOL_TESTLIB_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* CPU affinity, barriers */
#endif

#include "alab.h"
#include "alab_testlib.h"
#include "alab_threads.h"

#include <valgrind/valgrind.h>

/* Under memcheck, which runs one thread at a time and each instruction many
 * times slower, the loops that are long only to make threads meet take an
 * eighth of their rounds: memcheck looks for invalid accesses and leaks, and a
 * few rounds show those as well as many. */
static inline int rounds_here(int n)
{
    return RUNNING_ON_VALGRIND ? (n + 7) / 8 : n;
}
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif

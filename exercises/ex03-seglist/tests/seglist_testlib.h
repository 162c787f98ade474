/* seglist_testlib.h — helpers shared by the public and hidden tests of exercise
 * 03: byte patterns that show when two blocks overlap, the counters of the
 * allocator and of the mmap spy side by side, and a small deterministic PRNG. */
#ifndef SEGLIST_TESTLIB_H
#define SEGLIST_TESTLIB_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "alab.h"
#include "alab_testlib.h"
#include "mmap_spy.h"
#include "seglist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ck_assert_msg for loops that run thousands of times: Check reports the place
 * of every assertion to its parent process, a cost paid here only on failure. */
#define require(cond, ...)                                                                    \
    do {                                                                                      \
        if (!(cond))                                                                          \
            ck_abort_msg(__VA_ARGS__);                                                        \
    } while (0)

/* Fails the test when a block lost its pattern: somebody else wrote into it. */
#define ck_assert_pattern(block, size, tag, what)                                             \
    do {                                                                                      \
        size_t at_ = pattern_check((block), (size), (tag));                                   \
        require(at_ == (size),                                                          \
                      "%s: the block at %p (%zu bytes) changed at byte %zu while it was "     \
                      "held, so another block overlaps it (or the allocator wrote into it)", \
                      (what), (void *)(block), (size_t)(size), at_);                          \
    } while (0)

#define ck_assert_aligned(p, what)                                                            \
    require((uintptr_t)(p) % SL_ALIGN == 0, "%s returned %p, not a multiple of %d",    \
                  (what), (void *)(p), SL_ALIGN)

/* The allocator's counters and the spy's, read together. */
typedef struct {
    sl_stats_t sl;
    spy_counts_t spy;
} snap_t;

static inline snap_t snap(void)
{
    return (snap_t){sl_get_stats(), spy_get()};
}

/* What happened between two snapshots. */
#define D(a, b, field) ((b).field - (a).field)

/* The allocator's mmap and munmap counts since `then` agree with the spy's. */
#define ck_assert_honest(then, now, when)                                                     \
    ck_assert_msg(D(then, now, sl.mmap_calls) == D(then, now, spy.mmap_calls) &&              \
                      D(then, now, sl.munmap_calls) == D(then, now, spy.munmap_calls),        \
                  "%s: seglist.c called mmap %zu times and munmap %zu times, but "            \
                  "sl_get_stats counted %zu and %zu",                                         \
                  (when), D(then, now, spy.mmap_calls), D(then, now, spy.munmap_calls),       \
                  D(then, now, sl.mmap_calls), D(then, now, sl.munmap_calls))

/* xorshift64*: deterministic from a seed, good enough to vary a workload. */
static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

#endif

/* test_hidden.c — instructor-only tests of exercise 06 (left out of handouts).
 *
 * The same properties as the public tests, on parameters students cannot tune
 * against: block sizes, thread counts and operation mixes drawn from the
 * grader's seed (ALAB_SEED), so another seed gives another variant. */
#include "pool_testlib.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    pool_t *pool;
    size_t size;
    int id, ops, max_held;
    uint64_t rng;
    size_t allocs, frees, held;
    char err[256];
} hworker_t;

/* Random mix of allocs and frees, checking every held block's pattern on free. */
static void *mix(void *arg)
{
    hworker_t *w = arg;
    void **held = calloc((size_t)w->max_held, sizeof *held);
    uint32_t *tags = calloc((size_t)w->max_held, sizeof *tags);
    int n = 0;
    for (int i = 0; i < w->ops && w->err[0] == '\0'; i++) {
        bool alloc = n == 0 || (n < w->max_held && rng_next(&w->rng) % 100 < 55);
        if (alloc) {
            void *p = pool_alloc(w->pool);
            if (p == NULL) {
                snprintf(w->err, sizeof w->err, "thread %d: pool_alloc returned NULL", w->id);
                break;
            }
            tags[n] = (uint32_t)(w->id << 24 | i);
            pattern_fill(p, w->size, tags[n]);
            held[n++] = p;
            w->allocs++;
        } else {
            int k = (int)(rng_next(&w->rng) % (uint64_t)n); /* free a random one */
            size_t at = pattern_check(held[k], w->size, tags[k]);
            if (at != w->size)
                snprintf(w->err, sizeof w->err,
                         "thread %d: a %zu-byte block (%p) changed at byte %zu while held: "
                         "two holders got the same block",
                         w->id, w->size, held[k], at);
            pool_free(w->pool, held[k]);
            w->frees++;
            held[k] = held[--n];
            tags[k] = tags[n];
        }
    }
    for (int k = 0; k < n; k++) {
        pool_free(w->pool, held[k]);
        w->frees++;
    }
    free(held);
    free(tags);
    return NULL;
}

/* Runs nthreads mixers on a fresh pool and checks the statistics afterwards. */
static void run_mix(size_t size, size_t num_blocks, int nthreads, int ops, int max_held, uint64_t seed)
{
    pool_t *pool = pool_create(size, num_blocks);
    ck_assert_msg(pool != NULL, "pool_create(%zu, %zu) returned NULL", size, num_blocks);
    hworker_t ws[32];
    void *args[32];
    for (int i = 0; i < nthreads; i++) {
        ws[i] = (hworker_t){.pool = pool, .size = size, .id = i, .ops = ops, .max_held = max_held,
                            .rng = seed * 7919 + (uint64_t)i * 104729 + 1};
        args[i] = &ws[i];
    }
    run_threads(nthreads, mix, args);
    size_t allocs = 0, frees = 0;
    for (int i = 0; i < nthreads; i++) {
        ck_assert_msg(ws[i].err[0] == '\0', "%s (block size %zu, %d threads, seed %llu)", ws[i].err,
                      size, nthreads, (unsigned long long)seed);
        allocs += ws[i].allocs;
        frees += ws[i].frees;
    }
    pool_stats_t s = pool_get_stats(pool);
    ck_assert_msg(s.alloc_count == allocs && s.free_count == frees && s.blocks_used == 0,
                  "block size %zu, %d threads: after %zu allocs and %zu frees the stats say "
                  "alloc_count %zu, free_count %zu, blocks_used %zu",
                  size, nthreads, allocs, frees, s.alloc_count, s.free_count, s.blocks_used);
    ck_assert_msg(s.blocks_free >= num_blocks, "blocks_free %zu is below the %zu blocks the pool "
                  "was created with", s.blocks_free, num_blocks);
    pool_destroy(pool);
}

ALAB_TEST(varied_sizes)
{
    uint64_t rng = alab_seed(1) | 1;
    for (int round = 0; round < 6; round++) {
        size_t size = 1 + (size_t)(rng_next(&rng) % 700);
        run_mix(size, 1 + rng_next(&rng) % 50, 4, 4000, 48, rng);
    }
}

ALAB_TEST(varied_threads)
{
    uint64_t rng = (alab_seed(1) + 17) | 1;
    static const int counts[] = {2, 3, 5, 12, 16};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++)
        run_mix(16 + (size_t)(rng_next(&rng) % 5) * 8, 32, counts[k], 40000, 40, rng);
}

ALAB_TEST(churn)
{
    /* Many pools created and destroyed while other pools stay in use: more than
     * a process has pthread keys (1024), for pools that use one each. */
    uint64_t rng = (alab_seed(1) + 99) | 1;
    pool_t *keep = pool_create(40, 16);
    ck_assert_msg(keep != NULL, "pool_create(40, 16) returned NULL");
    void *kept = pool_alloc(keep);
    ck_assert_msg(kept != NULL, "pool_alloc returned NULL");
    pattern_fill(kept, 40, 7);
    for (int i = 0; i < 1200; i++) {
        pool_t *p = pool_create(8 + (size_t)(rng_next(&rng) % 256), 4);
        ck_assert_msg(p != NULL, "pool_create returned NULL after %d pools were created and "
                      "destroyed: does pool_destroy give back everything pool_create took "
                      "(memory, locks, pthread keys)?", i);
        for (int j = 0; j < 50; j++)
            ck_assert_msg(pool_alloc(p) != NULL, "pool_alloc returned NULL in round %d", i);
        pool_destroy(p); /* with its blocks still out */
        void *q = pool_alloc(keep);
        ck_assert_msg(q != NULL, "pool_alloc on a pool that stayed alive returned NULL after "
                      "another pool was destroyed (round %d)", i);
        pool_free(keep, q);
    }
    ck_assert_pattern(kept, 40, 7, "a block of a pool that outlived 1200 other pools");
    pool_free(keep, kept);
    run_mix(48, 8, 6, 2000, 30, rng);
    pool_destroy(keep);
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex06-mtpool-hidden");
    ALAB_ADD(s, varied_sizes, 60);
    ALAB_ADD(s, varied_threads, 60);
    ALAB_ADD(s, churn, 60);
    return s;
}

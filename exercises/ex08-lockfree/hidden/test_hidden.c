/* test_hidden.c — instructors' tests of exercise 08: the public rules with
 * other block sizes, thread counts, ABA depths and capacities, all drawn from
 * the grader's seed (--seed), so a gradebook is reproducible. */
#include "lf_testlib.h"

static uint64_t seeded(void)
{
    uint64_t s = alab_seed(1) * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
    return s != 0 ? s : 1;
}

/* Blocks of a seeded size: aligned, distinct, holding their bytes, LIFO. */
ALAB_TEST(varied_sizes)
{
    uint64_t rng = seeded();
    for (int k = 0; k < 6; k++) {
        size_t bs = 1 + rng_next(&rng) % 300, n = 20 + rng_next(&rng) % 200;
        lf_pool_t *pool = lf_create(bs, n);
        ck_assert_msg(pool != NULL, "lf_create(%zu, %zu) returned NULL", bs, n);
        void **held = malloc(n * sizeof *held);
        for (size_t i = 0; i < n; i++) {
            held[i] = lf_alloc(pool);
            ck_assert_msg(held[i] != NULL, "lf_create(%zu, %zu): alloc %zu returned NULL", bs, n, i);
            ck_assert_msg((uintptr_t)held[i] % LF_ALIGN == 0, "block %p of size %zu is not "
                          "aligned to %d bytes", held[i], bs, LF_ALIGN);
            pattern_fill(held[i], bs, (uint32_t)(i * 7 + 1));
        }
        for (size_t i = 0; i < n; i++)
            ck_assert_pattern(held[i], bs, (uint32_t)(i * 7 + 1), "blocks of a varied size");
        size_t j = rng_next(&rng) % n;
        lf_free(pool, held[j]);
        ck_assert_msg(lf_alloc(pool) == held[j], "the only free block did not come back");
        for (size_t i = 0; i < n; i++)
            lf_free(pool, held[i]);
        ck_assert_msg(lf_check(pool) == n, "every block freed: lf_check counts %zu, not %zu",
                      lf_check(pool), n);
        free(held);
        lf_destroy(pool);
    }
}

typedef struct {
    lf_pool_t *pool;
    size_t block_size;
    int id, rounds, hold;
    long nulls;
} worker_arg_t;

static void *worker(void *p)
{
    worker_arg_t *a = p;
    uint64_t rng = seeded() ^ (uint64_t)(a->id + 1) * 0xff51afd7ed558ccdull;
    void *held[48];
    for (int r = 0; r < a->rounds; r++) {
        int n = 1 + (int)(rng_next(&rng) % (uint64_t)a->hold);
        for (int i = 0; i < n; i++) {
            held[i] = lf_alloc(a->pool);
            if (held[i] == NULL)
                a->nulls++;
            else
                pattern_fill(held[i], a->block_size, (uint32_t)(a->id << 20 | i));
        }
        for (int i = 0; i < n; i++)
            if (held[i] != NULL)
                ck_assert_pattern(held[i], a->block_size, (uint32_t)(a->id << 20 | i),
                                  "varied threads");
        for (int i = 0; i < n; i++)
            lf_free(a->pool, held[i]);
    }
    return NULL;
}

/* A seeded number of threads (2..12), each holding up to 48 blocks. */
ALAB_TEST(varied_threads)
{
    uint64_t rng = seeded();
    int threads = 2 + (int)(rng_next(&rng) % 11);
    size_t bs = 8 + rng_next(&rng) % 120, cap = (size_t)threads * 48 + 1 + rng_next(&rng) % 64;
    lf_pool_t *pool = lf_create(bs, cap);
    ck_assert_msg(pool != NULL, "lf_create(%zu, %zu) returned NULL", bs, cap);
    worker_arg_t args[12];
    void *argp[12];
    for (int t = 0; t < threads; t++) {
        args[t] = (worker_arg_t){.pool = pool, .block_size = bs, .id = t, .rounds = 1000, .hold = 48};
        argp[t] = &args[t];
    }
    run_threads(threads, worker, argp);
    long nulls = 0;
    for (int t = 0; t < threads; t++)
        nulls += args[t].nulls;
    ck_assert_msg(nulls == 0, "%d threads each held at most 48 of %zu blocks; lf_alloc returned "
                  "NULL %ld times", threads, cap, nulls);
    ck_assert_msg(lf_check(pool) == cap, "once the threads were done, lf_check counts %zu free "
                  "blocks of %zu", lf_check(pool), cap);
    lf_destroy(pool);
}

/* ABA with a seeded capacity and depth (how many blocks B takes before it
 * gives the first one back). */
ALAB_TEST(varied_aba)
{
    uint64_t rng = seeded();
    for (int k = 0; k < 3; k++) {
        size_t cap = 6 + rng_next(&rng) % 40;
        size_t depth = 2 + rng_next(&rng) % (cap - 3);
        scene_aba(cap, 16 + rng_next(&rng) % 100, depth);
    }
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex08-lockfree-hidden");
    ALAB_ADD(s, varied_sizes, 20);
    ALAB_ADD(s, varied_threads, 30);
    ALAB_ADD(s, varied_aba, 20);
    return s;
}

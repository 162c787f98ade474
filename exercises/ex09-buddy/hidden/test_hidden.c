/* test_hidden.c — instructor-only tests of exercise 09 (left out of handouts).
 *
 * The same rules as the public tests, on parameters students cannot tune
 * against: arena sizes and offsets, request sizes and operation sequences
 * drawn from the grader's seed (ALAB_SEED), every step checked against the
 * model of bd_testlib.h and by bd_check. */
#include "bd_testlib.h"

static bd_t bd;
static model_t mdl;

static void random_walk(uint64_t *rng, int steps, int big_one_in, const char *what)
{
    for (int step = 0; step < steps; step++) {
        char at[160];
        snprintf(at, sizeof at, "%s, step %d", what, step);
        if (mdl.nheld == 0 || rng_next(rng) % 100 < 50 + (uint64_t)(step / 500 % 2) * 10) {
            int k = rng_next(rng) % (uint64_t)big_one_in == 0 ? (int)(rng_next(rng) % BD_ORDERS)
                                                               : (int)(rng_next(rng) % 4);
            model_alloc(&mdl, &bd, size_for(rng, k), at);
        } else {
            int s;
            do
                s = (int)(rng_next(rng) % MODEL_BLOCKS);
            while (mdl.p[s] == NULL);
            model_free(&mdl, &bd, s, at);
        }
        ck_assert_heap(&bd, "%s", at);
        model_stats(&mdl, &bd, at);
    }
}

static void free_all(const char *what)
{
    for (int s = 0; s < MODEL_BLOCKS; s++)
        if (mdl.p[s] != NULL)
            model_free(&mdl, &bd, s, what);
    size_t want[BD_ORDERS];
    want_fresh(bd.npages, want);
    ck_assert_free_blocks(&bd, want, what);
}

ALAB_TEST(varied)
{
    uint64_t rng = alab_seed(1) * 0x9e3779b97f4a7c15ull + 3;
    for (int r = 0; r < 4; r++) {
        size_t size = (size_t)(rng_next(&rng) % (ARENA_MAX - 2 * BD_PAGE_SIZE)) + 1;
        size_t misalign = (size_t)(rng_next(&rng) % BD_PAGE_SIZE);
        char what[160];
        snprintf(what, sizeof what, "seed %llu: an arena of %zu bytes, %zu past a page boundary",
                 (unsigned long long)alab_seed(1), size, misalign);
        guarded_t g = guarded_arena(size, misalign);
        require(bd_init(&bd, g.arena, g.size) == 0, "%s: bd_init returned -1", what);
        require(bd.base == want_base(g.arena) && bd.npages == want_pages(g.arena, g.size),
                "%s: base %p, npages %zu; expected %p, %zu", what, (void *)bd.base, bd.npages,
                (void *)want_base(g.arena), want_pages(g.arena, g.size));
        model_init(&mdl, &bd);
        random_walk(&rng, 3000, 6, what);
        free_all(what);
        bd_destroy(&bd);
        ck_assert_guards(&g, what);
    }
}

/* Free and allocate again the same size, on a heap kept nearly full: the
 * merges and splits of every order, with a drain now and then. */
ALAB_TEST(churn_drain)
{
    uint64_t rng = alab_seed(1) * 0xbf58476d1ce4e5b9ull + 11;
    const char *what = "seeded churn on a nearly full 1 MiB heap";
    guarded_t g = guarded_arena(MIB, 0);
    require(bd_init(&bd, g.arena, g.size) == 0, "%s: bd_init returned -1", what);
    model_init(&mdl, &bd);
    int held[64], n = 0;
    while (n < 64) {
        int s = model_alloc(&mdl, &bd, size_for(&rng, (int)(rng_next(&rng) % 3)), what);
        if (s < 0)
            break;
        held[n++] = s;
    }
    for (int step = 0; step < 4000; step++) {
        char at[128];
        snprintf(at, sizeof at, "%s, step %d", what, step);
        int i = (int)(rng_next(&rng) % (uint64_t)n);
        size_t size = mdl.size[held[i]];
        model_free(&mdl, &bd, held[i], at);
        ck_assert_heap(&bd, "%s (free)", at);
        if (step % 500 == 499)
            bd_drain(&bd);
        held[i] = model_alloc(&mdl, &bd, rng_next(&rng) % 2 ? size : size_for(&rng, bd_order(size)), at);
        require(held[i] >= 0, "%s: bd_alloc returned NULL right after a block of that order was freed", at);
        ck_assert_heap(&bd, "%s (alloc)", at);
        model_stats(&mdl, &bd, at);
    }
    free_all(what);
    bd_destroy(&bd);
    ck_assert_guards(&g, what);
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("buddy-hidden");
    ALAB_ADD(s, varied, 20);
    ALAB_ADD(s, churn_drain, 10);
    return s;
}

/* test_bonus.c — the bonus probe of exercise 09: a lazy buddy.
 *
 * Deferred coalescing (the "advantages of deferred coalescing" of the seed
 * exercise; Linux's per-CPU page lists work this way): a freed block is kept on cache[order], unmerged, and
 * the next bd_alloc of that order takes it back without a split. The probe
 * asks for what the statement's rule B1-B3 say: freed blocks are kept
 * (cached_blocks > 0, no merge), reused (no split), still accounted for
 * (bd_check after every step), and merged when a larger block is needed, so
 * a lazy buddy never fails an allocation an eager one would serve. An eager
 * buddy (the reference) fails `defers` by design.
 */
#include "bd_testlib.h"

static bd_t bd;
static model_t mdl;

ALAB_TEST(defers)
{
    const char *what = "a lazy buddy on a 1 MiB heap";
    guarded_t g = guarded_arena(MIB, 0);
    require(bd_init(&bd, g.arena, g.size) == 0, "%s: bd_init returned -1", what);
    void *p = bd_alloc(&bd, BD_PAGE_SIZE);
    require(p != NULL, "%s: bd_alloc(4096) returned NULL", what);
    bd_free(&bd, p);
    ck_assert_heap(&bd, "%s, after one bd_alloc(4096) and its bd_free", what);
    bd_stats_t st = stats_of(&bd);
    require(st.cached_blocks[0] == 1 && st.merges == 0,
            "%s: after a 4 KiB block is freed, %zu order-0 blocks are cached and %llu merges were "
            "made; a lazy buddy keeps the block on cache[0], unmerged (1 and 0)", what,
            st.cached_blocks[0], (unsigned long long)st.merges);
    for (int i = 0; i < 1000; i++) {
        p = bd_alloc(&bd, 1 + (size_t)i % BD_PAGE_SIZE);
        require(p != NULL, "%s: bd_alloc returned NULL", what);
        ck_assert_heap(&bd, "%s, churn step %d (alloc)", what, i);
        bd_free(&bd, p);
        ck_assert_heap(&bd, "%s, churn step %d (free)", what, i);
    }
    st = stats_of(&bd);
    require(st.splits == 8 && st.merges == 0,
            "%s: 1000 allocations and frees of 4 KiB made %llu splits and %llu merges after the "
            "first 8 splits; a lazy buddy serves them from its cache (8 and 0)", what,
            (unsigned long long)st.splits, (unsigned long long)st.merges);
    bd_drain(&bd);
    ck_assert_heap(&bd, "%s, after bd_drain", what);
    st = stats_of(&bd);
    require(st.free_blocks[BD_MAX_ORDER] == 1 && st.cached_blocks[0] == 0,
            "%s: after bd_drain, %zu blocks of 1 MiB are free and %zu of 4 KiB cached; expected 1 "
            "and 0: drain merges every cached block", what, st.free_blocks[BD_MAX_ORDER],
            st.cached_blocks[0]);
    bd_destroy(&bd);
    ck_assert_guards(&g, what);
}

ALAB_TEST(accounts)
{
    const char *what = "a lazy buddy on a 2 MiB heap, random operations";
    guarded_t g = guarded_arena(2 * MIB, 0);
    require(bd_init(&bd, g.arena, g.size) == 0, "%s: bd_init returned -1", what);
    model_init(&mdl, &bd);
    uint64_t rng = 99;
    size_t most_cached = 0;
    for (int step = 0; step < 6000; step++) {
        char at[128];
        snprintf(at, sizeof at, "%s, step %d", what, step);
        if (mdl.nheld == 0 || rng_next(&rng) % 100 < 52) {
            int k = rng_next(&rng) % 8 == 0 ? (int)(rng_next(&rng) % BD_ORDERS) : (int)(rng_next(&rng) % 3);
            model_alloc(&mdl, &bd, size_for(&rng, k), at);
        } else {
            int s;
            do
                s = (int)(rng_next(&rng) % MODEL_BLOCKS);
            while (mdl.p[s] == NULL);
            model_free(&mdl, &bd, s, at);
        }
        ck_assert_heap(&bd, "%s", at);
        model_stats(&mdl, &bd, at);
        bd_stats_t st = stats_of(&bd);
        size_t cached = 0;
        for (int k = 0; k < BD_ORDERS; k++)
            cached += st.cached_blocks[k];
        most_cached = cached > most_cached ? cached : most_cached;
    }
    require(most_cached > 0, "%s: no block was ever cached: not a lazy buddy", what);
    for (int s = 0; s < MODEL_BLOCKS; s++)
        if (mdl.p[s] != NULL)
            model_free(&mdl, &bd, s, what);
    /* no bd_drain: a 1 MiB request must make the allocator merge its cache */
    void *a = bd_alloc(&bd, MIB), *b = bd_alloc(&bd, MIB);
    require(a != NULL && b != NULL, "%s: with every block freed, bd_alloc(1 MiB) twice gave %p and "
            "%p: a lazy buddy must merge its cached blocks when a larger block is wanted", what, a, b);
    ck_assert_heap(&bd, "%s, after taking both 1 MiB blocks", what);
    bd_free(&bd, a);
    bd_free(&bd, b);
    bd_destroy(&bd);
    ck_assert_guards(&g, what);
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("buddy-bonus");
    ALAB_ADD(s, defers, 10);
    ALAB_ADD(s, accounts, 10);
    return s;
}

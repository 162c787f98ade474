/* test_buddy.c — public tests of exercise 09 (a buddy allocator, 4 KiB to
 * 1 MiB, over a caller's arena).
 *
 * One test per case; the manifest (exercise.ini) gives each case its points.
 * bd_check runs after every operation: a heap that breaks an invariant of
 * buddy.h fails at the step that broke it. Tests that look at a merged heap
 * call bd_drain first, so a lazy buddy (the bonus) passes them too.
 */
#include "bd_testlib.h"

#include <stdlib.h>

static bd_t bd;
static model_t mdl;

/* A fresh heap on a guarded arena; fails the test if bd_init refuses. */
static guarded_t fresh_heap(size_t size, size_t misalign, const char *what)
{
    guarded_t g = guarded_arena(size, misalign);
    require(bd_init(&bd, g.arena, g.size) == 0, "%s: bd_init returned -1", what);
    require(bd.base == want_base(g.arena) && bd.npages == want_pages(g.arena, g.size),
            "%s: base is %p and npages %zu; expected %p (the arena's address rounded up to a "
            "page) and %zu (whole pages from there to the arena's end)", what, (void *)bd.base,
            bd.npages, (void *)want_base(g.arena), want_pages(g.arena, g.size));
    ck_assert_heap(&bd, "%s, just after bd_init", what);
    return g;
}

static void *alloc_ok(size_t size, const char *what)
{
    void *p = bd_alloc(&bd, size);
    require(p != NULL, "%s: bd_alloc(%zu) returned NULL", what, size);
    ck_assert_heap(&bd, "%s, after bd_alloc(%zu)", what, size);
    return p;
}

static void free_ok(void *p, const char *what)
{
    bd_free(&bd, p);
    ck_assert_heap(&bd, "%s, after bd_free(%p)", what, p);
}

/* ---- sizes and orders ---- */

ALAB_TEST(orders)
{
    static const struct {
        size_t size;
        int order;
    } cases[] = {{1, 0},          {3000, 0},       {4096, 0},          {4097, 1},
                 {8192, 1},       {8193, 2},       {16384, 2},         {16385, 3},
                 {65536, 4},      {100000, 5},     {512 * KIB, 7},     {512 * KIB + 1, 8},
                 {MIB - 1, 8},    {MIB, 8},        {MIB + 1, -1},      {0, -1},
                 {SIZE_MAX, -1},  {2 * MIB, -1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        require(bd_order(cases[c].size) == cases[c].order,
                "bd_order(%zu) returned %d, expected %d: the smallest k with size <= 4096 << k, "
                "-1 for 0 and above 1 MiB", cases[c].size, bd_order(cases[c].size), cases[c].order);

    require(bd_init(NULL, guarded_buf, MIB) == -1, "bd_init(NULL, arena, 1 MiB) must return -1");
    require(bd_init(&bd, NULL, MIB) == -1, "bd_init(bd, NULL, 1 MiB) must return -1");
    guarded_t g = fresh_heap(2 * MIB, 0, "a 2 MiB heap");
    require(bd_alloc(&bd, 0) == NULL, "bd_alloc(0) must return NULL");
    require(bd_alloc(&bd, MIB + 1) == NULL, "bd_alloc(1 MiB + 1) must return NULL: above the largest order");
    require(bd_alloc(&bd, SIZE_MAX) == NULL, "bd_alloc(SIZE_MAX) must return NULL");
    ck_assert_heap(&bd, "after bd_alloc(0), bd_alloc(1 MiB + 1) and bd_alloc(SIZE_MAX)");
    /* each size takes a block of its order: the held blocks per order show it */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        if (cases[c].order < 0 || cases[c].order == BD_MAX_ORDER)
            continue;
        int k = cases[c].order;
        bd_stats_t before = stats_of(&bd);
        void *p = alloc_ok(cases[c].size, "a 2 MiB heap");
        bd_stats_t after = stats_of(&bd);
        require(after.used_blocks[k] == before.used_blocks[k] + 1 &&
                    after.used_bytes == before.used_bytes + BD_BLOCK_SIZE(k),
                "bd_alloc(%zu) should take a block of order %d (%zu bytes): held blocks of that "
                "order went from %zu to %zu, bytes held from %zu to %zu", cases[c].size, k,
                BD_BLOCK_SIZE(k), before.used_blocks[k], after.used_blocks[k], before.used_bytes,
                after.used_bytes);
        free_ok(p, "a 2 MiB heap");
    }
    bd_stats_t st = stats_of(&bd);
    require(st.failed == 3, "bd_stats counts %llu failed allocations, expected 3 (sizes 0, 1 MiB + 1, "
            "SIZE_MAX)", (unsigned long long)st.failed);
    bd_destroy(&bd);
    ck_assert_guards(&g, "a 2 MiB heap");
}

/* ---- the first allocation splits a 1 MiB block all the way down ---- */

ALAB_TEST(split)
{
    const char *what = "a fresh 1 MiB heap";
    guarded_t g = fresh_heap(MIB, 0, what);
    size_t want[BD_ORDERS] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
    ck_assert_free_blocks(&bd, want, "a fresh 1 MiB heap");
    void *p = alloc_ok(BD_PAGE_SIZE, what);
    require(p == bd.base, "%s: the first 4 KiB block is %p; the only page it can be is base, %p, "
            "the left end of every split", what, p, (void *)bd.base);
    bd_stats_t st = stats_of(&bd);
    char a[96];
    for (int k = 0; k < BD_ORDERS; k++)
        require(st.free_blocks[k] == (k < BD_MAX_ORDER),
                "%s, after bd_alloc(4096): free blocks per order 0..8 are %s, expected one of each "
                "order 0 to 7 (the right halves of 8 splits) and none of order 8", what,
                orders_text(st.free_blocks, a, sizeof a));
    require(st.splits == 8 && st.used_blocks[0] == 1 && st.allocs == 1,
            "%s, after bd_alloc(4096): bd_stats says %llu splits, %zu held blocks of order 0, %llu "
            "allocations; expected 8, 1, 1", what, (unsigned long long)st.splits, st.used_blocks[0],
            (unsigned long long)st.allocs);
    /* each free block sits at the right half of its split: page 2^k */
    for (int k = 0; k < BD_MAX_ORDER; k++)
        require(bd.page[(size_t)1 << k].flags == (BD_HEAD | BD_FREE) && bd.page[(size_t)1 << k].order == k,
                "%s, after bd_alloc(4096): page %zu should head the free block of order %d; "
                "page[%zu] has flags 0x%x, order %d", what, (size_t)1 << k, k, (size_t)1 << k,
                bd.page[(size_t)1 << k].flags, bd.page[(size_t)1 << k].order);
    free_ok(p, what);
    ck_assert_free_blocks(&bd, want, "a 1 MiB heap after bd_alloc(4096) and its bd_free");
    st = stats_of(&bd);
    require(st.merges == 8 && st.frees == 1, "%s: after the free, bd_stats says %llu merges and %llu "
            "frees; expected 8 and 1", what, (unsigned long long)st.merges, (unsigned long long)st.frees);
    /* the whole heap in one block, then nothing */
    p = alloc_ok(MIB, what);
    require(p == bd.base, "%s: bd_alloc(1 MiB) returned %p, expected base %p", what, p, (void *)bd.base);
    require(bd_alloc(&bd, 1) == NULL, "%s: bd_alloc(1) returned a block while the one 1 MiB block is held", what);
    free_ok(p, what);
    bd_destroy(&bd);
    ck_assert_guards(&g, what);
}

/* ---- two buddies freed in either order ---- */

static void buddy_pair(bool left_first)
{
    char what[96];
    snprintf(what, sizeof what, "two 4 KiB buddies freed %s", left_first ? "left then right" : "right then left");
    guarded_t g = fresh_heap(MIB, 0, what);
    void *a = alloc_ok(BD_PAGE_SIZE, what), *b = alloc_ok(BD_PAGE_SIZE, what);
    size_t ia = block_page(a, bd.base, bd.npages, 0, what), ib = block_page(b, bd.base, bd.npages, 0, what);
    require((ia ^ 1) == ib, "%s: the first two 4 KiB blocks of a fresh heap are pages %zu and %zu; "
            "they must be buddies (pages 0 and 1): the second comes from the order-0 half the "
            "first split left", what, ia, ib);
    void *left = ia < ib ? a : b, *right = ia < ib ? b : a;
    void *first = left_first ? left : right, *second = left_first ? right : left;
    free_ok(first, what);
    bd_stats_t st = stats_of(&bd);
    require(st.free_blocks[0] + st.cached_blocks[0] == 1 && st.used_blocks[0] == 1,
            "%s: after freeing one, %zu order-0 blocks are free and %zu held; expected 1 and 1 "
            "(its buddy is still held, no merge)", what, st.free_blocks[0] + st.cached_blocks[0],
            st.used_blocks[0]);
    free_ok(second, what);
    size_t want[BD_ORDERS] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
    ck_assert_free_blocks(&bd, want, what);
    bd_destroy(&bd);
    ck_assert_guards(&g, what);
}

/* Four pages of one 16 KiB block, freed in every order: the heap must end
 * whole whatever the order, with bd_check happy at each step. */
static void quad_orders(void)
{
    static const int perms[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 0, 3, 2}, {2, 0, 3, 1},
                                   {0, 3, 1, 2}, {3, 0, 2, 1}, {1, 3, 0, 2}, {2, 3, 0, 1}};
    for (size_t p = 0; p < sizeof perms / sizeof perms[0]; p++) {
        char what[96];
        snprintf(what, sizeof what, "pages 0-3 freed in the order %d %d %d %d", perms[p][0],
                 perms[p][1], perms[p][2], perms[p][3]);
        fresh_heap(MIB, 0, what);
        void *page[4];
        for (int i = 0; i < 4; i++) {
            void *q = alloc_ok(BD_PAGE_SIZE, what);
            size_t at = block_page(q, bd.base, bd.npages, 0, what);
            require(at < 4, "%s: the first four 4 KiB blocks of a fresh heap must be pages 0-3, "
                    "got page %zu", what, at);
            page[at] = q;
        }
        for (int i = 0; i < 4; i++)
            free_ok(page[perms[p][i]], what);
        size_t want[BD_ORDERS] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
        ck_assert_free_blocks(&bd, want, what);
        bd_destroy(&bd);
    }
}

ALAB_TEST(buddies)
{
    buddy_pair(true);
    buddy_pair(false);
    quad_orders();
}

/* ---- every page freed in random order: one 1 MiB block again ---- */

ALAB_TEST(coalesce)
{
    static void *pages[256];
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    int rounds = under_memcheck() ? 2 : 6;
    for (int r = 0; r < rounds; r++) {
        char what[96];
        snprintf(what, sizeof what, "a 1 MiB heap, 256 pages freed in random order (round %d)", r + 1);
        guarded_t g = fresh_heap(MIB, 0, what);
        for (int i = 0; i < 256; i++)
            pages[i] = alloc_ok(BD_PAGE_SIZE, what);
        require(bd_alloc(&bd, 1) == NULL, "%s: bd_alloc(1) returned a block with all 256 pages held", what);
        for (int i = 255; i > 0; i--) {
            int j = (int)(rng_next(&rng) % (uint64_t)(i + 1));
            void *t = pages[i];
            pages[i] = pages[j];
            pages[j] = t;
        }
        for (int i = 0; i < 256; i++)
            free_ok(pages[i], what);
        size_t want[BD_ORDERS] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
        ck_assert_free_blocks(&bd, want, what);
        bd_stats_t st = stats_of(&bd);
        require(st.merges == st.splits, "%s: %llu splits but %llu merges: every split must be undone",
                what, (unsigned long long)st.splits, (unsigned long long)st.merges);
        void *all = bd_alloc(&bd, MIB);
        require(all == bd.base, "%s: bd_alloc(1 MiB) returned %p, expected base %p", what, all, (void *)bd.base);
        free_ok(all, what);
        bd_destroy(&bd);
        ck_assert_guards(&g, what);
    }
}

/* ---- blocks of every order, until the heap is full ---- */

ALAB_TEST(alignment)
{
    const char *what = "a 4 MiB heap filled with blocks of random orders";
    guarded_t g = fresh_heap(4 * MIB, 0, what);
    model_init(&mdl, &bd);
    uint64_t rng = 42;
    for (int fails = 0; fails < 40;) {
        int k = (int)(rng_next(&rng) % BD_ORDERS);
        int s = model_alloc(&mdl, &bd, size_for(&rng, k), what);
        fails += s < 0;
        ck_assert_heap(&bd, "%s, after %llu allocations", what, (unsigned long long)mdl.allocs);
    }
    require(!model_fits(&mdl, 0), "test bug: the heap is not full");
    model_stats(&mdl, &bd, what);
    for (int s = 0; s < MODEL_BLOCKS; s++)
        if (mdl.p[s] != NULL)
            model_free(&mdl, &bd, s, what);
    size_t want[BD_ORDERS] = {0, 0, 0, 0, 0, 0, 0, 0, 4};
    ck_assert_free_blocks(&bd, want, what);
    bd_destroy(&bd);
    ck_assert_guards(&g, what);
}

/* ---- an arena that is neither a power of two nor page-aligned ---- */

ALAB_TEST(odd_arena)
{
    static const struct {
        size_t size, misalign;
    } cases[] = {{MIB + 5 * 4096 + 77, 123}, {3 * MIB + 255 * 4096 + 4095, 4095}, {7 * 4096, 1},
                 {4096 + 4095, 1},           {4095, 0},                            {2 * MIB, 2048},
                 {100, 4000}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char what[128];
        snprintf(what, sizeof what, "an arena of %zu bytes, %zu bytes past a page boundary",
                 cases[c].size, cases[c].misalign);
        guarded_t g = fresh_heap(cases[c].size, cases[c].misalign, what);
        size_t want[BD_ORDERS];
        want_fresh(bd.npages, want);
        ck_assert_free_blocks(&bd, want, what);
        /* take everything, page by page and in big blocks, then give it back */
        model_init(&mdl, &bd);
        uint64_t rng = 7 + c;
        for (int fails = 0; fails < 30;) {
            int k = (int)(rng_next(&rng) % BD_ORDERS);
            fails += model_alloc(&mdl, &bd, size_for(&rng, k), what) < 0;
            ck_assert_heap(&bd, "%s, after %llu allocations", what, (unsigned long long)mdl.allocs);
        }
        model_stats(&mdl, &bd, what);
        for (int s = 0; s < MODEL_BLOCKS; s++)
            if (mdl.p[s] != NULL) {
                model_free(&mdl, &bd, s, what);
                ck_assert_heap(&bd, "%s, freeing everything", what);
            }
        ck_assert_free_blocks(&bd, want, what);
        bd_destroy(&bd);
        ck_assert_guards(&g, what);
    }
}

/* ---- a long random walk against the model ---- */

ALAB_TEST(model)
{
    const char *what = "random allocations and frees on a heap of 2 MiB and 21 pages";
    guarded_t g = fresh_heap(2 * MIB + 21 * 4096 + 300, 300, what);
    model_init(&mdl, &bd);
    uint64_t rng = 2024;
    int steps = under_memcheck() ? 1500 : 20000;
    for (int step = 0; step < steps; step++) {
        char at[128];
        snprintf(at, sizeof at, "%s, step %d", what, step);
        bool alloc = mdl.nheld == 0 || rng_next(&rng) % 100 < 55;
        if (alloc) {
            /* mostly small blocks, now and then a big one */
            int k = rng_next(&rng) % 4 == 0 ? (int)(rng_next(&rng) % BD_ORDERS) : (int)(rng_next(&rng) % 3);
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
    }
    for (int s = 0; s < MODEL_BLOCKS; s++)
        if (mdl.p[s] != NULL)
            model_free(&mdl, &bd, s, what);
    size_t want[BD_ORDERS];
    want_fresh(bd.npages, want);
    ck_assert_free_blocks(&bd, want, what);
    bd_destroy(&bd);
    ck_assert_guards(&g, what);
}

/* ---- internal fragmentation on a known sequence ---- */

ALAB_TEST(fragmentation)
{
    const char *what = "a 2 MiB heap";
    guarded_t g = fresh_heap(2 * MIB, 0, what);
    /* malloc(3000) takes a 4 KiB block: 1096 bytes lost inside it */
    void *a = alloc_ok(3000, what);
    bd_stats_t st = stats_of(&bd);
    require(st.requested_bytes == 3000 && st.used_bytes == 4096 && st.internal_bytes == 1096,
            "after bd_alloc(3000): bd_stats says %zu bytes requested, %zu held, %zu of internal "
            "fragmentation; expected 3000, 4096, 1096", st.requested_bytes, st.used_bytes,
            st.internal_bytes);
    static const size_t sizes[] = {5000, 20000, 4096, 600 * KIB, 100};
    void *p[5];
    for (int i = 0; i < 5; i++)
        p[i] = alloc_ok(sizes[i], what);
    /* 3000+5000+20000+4096+614400+100 = 646596 bytes asked for, in blocks of
     * 4+8+32+4+1024+4 KiB = 1076 KiB = 1101824 bytes: 455228 bytes, 41.3 %, lost */
    st = stats_of(&bd);
    require(st.requested_bytes == 646596 && st.used_bytes == 1101824 && st.internal_bytes == 455228,
            "after bd_alloc of 3000, 5000, 20000, 4096, 614400 and 100 bytes: bd_stats says %zu "
            "requested, %zu held, %zu of internal fragmentation; expected 646596, 1101824 and "
            "455228 (blocks of 4, 8, 32, 4, 1024 and 4 KiB)", st.requested_bytes, st.used_bytes,
            st.internal_bytes);
    free_ok(p[3], what); /* the 600 KiB request: 438 KiB of its 1 MiB block were lost */
    st = stats_of(&bd);
    require(st.requested_bytes == 32196 && st.used_bytes == 53248 && st.internal_bytes == 21052,
            "after freeing the 614400-byte block: bd_stats says %zu requested, %zu held, %zu of "
            "internal fragmentation; expected 32196, 53248, 21052", st.requested_bytes,
            st.used_bytes, st.internal_bytes);
    free_ok(a, what);
    for (int i = 0; i < 5; i++)
        if (i != 3)
            free_ok(p[i], what);
    st = stats_of(&bd);
    require(st.requested_bytes == 0 && st.used_bytes == 0 && st.internal_bytes == 0,
            "with nothing held: bd_stats says %zu requested, %zu held, %zu of internal "
            "fragmentation; expected 0, 0, 0", st.requested_bytes, st.used_bytes, st.internal_bytes);
    bd_destroy(&bd);
    ck_assert_guards(&g, what);
}

/* ---- bd_free(NULL) ---- */

ALAB_TEST(free_null)
{
    fresh_heap(MIB, 0, "a 1 MiB heap");
    void *p = alloc_ok(5000, "a 1 MiB heap");
    bd_free(&bd, NULL);
    ck_assert_heap(&bd, "after bd_free(bd, NULL)");
    bd_stats_t st = stats_of(&bd);
    require(st.frees == 0 && st.used_blocks[1] == 1, "bd_free(bd, NULL) must do nothing: bd_stats "
            "now counts %llu frees and %zu held blocks of order 1", (unsigned long long)st.frees,
            st.used_blocks[1]);
    free_ok(p, "a 1 MiB heap");
    bd_destroy(&bd);
}

/* ---- bd_check must see a corrupted heap ---- */

/* A 1 MiB heap after one 4 KiB allocation: free blocks of order k at page
 * 2^k for k = 0..7 (the split test checks it), page 0 held. */
static void one_page_held(const char *what)
{
    fresh_heap(MIB, 0, what);
    alloc_ok(BD_PAGE_SIZE, what);
    for (int k = 0; k < BD_MAX_ORDER; k++)
        require(bd.page[(size_t)1 << k].flags == (BD_HEAD | BD_FREE),
                "%s: page %zu should head a free block after one 4 KiB allocation (tests/split)",
                what, (size_t)1 << k);
}

/* The free order-1 block at pages 2-3, cut into two free order-0 blocks
 * on free_list[0]: lists, counts and tiling agree, but two free buddies
 * were left unmerged. */
ALAB_TEST(check_pair)
{
    const char *what = "two free buddies of order 0 at pages 2 and 3, both on free_list[0]";
    one_page_held(what);
    hand_unlink(&bd, 2);
    hand_push(&bd, 2, 0);
    hand_push(&bd, 3, 0);
    ck_assert_reported(&bd, what);
}

/* The free order-2 block at pages 4-7 recut as order 0 at 4, order 1 at 5-6
 * (not aligned to its size), order 0 at 7. */
ALAB_TEST(check_misaligned)
{
    const char *what = "a free block of order 1 at page 5, not aligned to its size";
    one_page_held(what);
    hand_unlink(&bd, 4);
    hand_push(&bd, 4, 0);
    hand_push(&bd, 5, 1);
    hand_push(&bd, 7, 0);
    ck_assert_reported(&bd, what);
}

/* Pages 0-3 taken, 1 and 3 given back: free_list[0] holds those two (their
 * buddies are held). Then the last links back to the first, and the first's
 * prev to the last: every prev link agrees with a next link. */
ALAB_TEST(check_cycle)
{
    const char *what = "free_list[0] whose last block links back to its first";
    fresh_heap(MIB, 0, what);
    void *page[4];
    for (int i = 0; i < 4; i++)
        page[i] = alloc_ok(BD_PAGE_SIZE, what);
    for (int i = 0; i < 4; i++)
        require(page[i] == bd.base + (size_t)i * BD_PAGE_SIZE,
                "%s: the first four 4 KiB blocks of a fresh heap should be pages 0-3 in order "
                "(tests/split)", what);
    free_ok(page[1], what);
    free_ok(page[3], what);
    bd_drain(&bd);
    require(bd.nfree[0] == 2, "%s: free_list[0] should hold pages 1 and 3", what);
    bd_link_t *first = bd.free_list[0], *last = first->next;
    require(last != NULL && last->next == NULL, "%s: free_list[0] should hold two blocks", what);
    last->next = first;
    first->prev = last;
    ck_assert_reported(&bd, what);
}

/* The order-3 block at page 8 moved to free_list[2], page[8] unchanged. */
ALAB_TEST(check_wrong_list)
{
    const char *what = "the free block of order 3 at page 8 on free_list[2]";
    one_page_held(what);
    hand_unlink(&bd, 8);
    hand_push(&bd, 8, 2);
    bd.page[8].order = 3;
    ck_assert_reported(&bd, what);
}

ALAB_TEST(check_count)
{
    const char *what = "nfree[4] one more than free_list[4] holds";
    one_page_held(what);
    bd.nfree[4]++;
    ck_assert_reported(&bd, what);
    bd.nfree[4]--;
    bd.nused[0] = 2;
    ck_assert_reported(&bd, "nused[0] is 2 with one block of order 0 held");
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("buddy");
    ALAB_ADD(s, orders, 10);
    ALAB_ADD(s, split, 10);
    ALAB_ADD(s, buddies, 10);
    ALAB_ADD(s, coalesce, 10);
    ALAB_ADD(s, alignment, 10);
    ALAB_ADD(s, odd_arena, 10);
    ALAB_ADD(s, model, 20);
    ALAB_ADD(s, fragmentation, 10);
    ALAB_ADD(s, free_null, 10);
    ALAB_ADD(s, check_pair, 10);
    ALAB_ADD(s, check_misaligned, 10);
    ALAB_ADD(s, check_cycle, 10);
    ALAB_ADD(s, check_wrong_list, 10);
    ALAB_ADD(s, check_count, 10);
    return s;
}

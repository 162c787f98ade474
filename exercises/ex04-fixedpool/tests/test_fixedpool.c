/* test_fixedpool.c — public tests of exercise 04 (a fixed-size pool in a
 * caller's arena).
 *
 * One test per case; the manifest (exercise.ini) gives each case its points.
 * Arenas sit between guard bytes (fp_testlib.h), so a pool that writes outside
 * the blocks the contract gives it is caught even when nothing crashes.
 */
#include "fp_testlib.h"

#include <stdint.h>
#include <stdio.h>

#define MAX_BLOCKS 8192

/* Takes blocks until fp_alloc returns NULL (or one more than the pool should
 * have, to stop a pool that never says no); returns how many it got. */
static size_t take_all(fixedpool_t *fp, void **held, size_t expected)
{
    size_t n = 0;
    while (n <= expected && n < MAX_BLOCKS) {
        void *p = fp_alloc(fp);
        if (p == NULL)
            break;
        held[n++] = p;
    }
    return n;
}

static void *held[MAX_BLOCKS];

/* ---- fp_init and fp_capacity ---- */

ALAB_TEST(init)
{
    static _Alignas(16) unsigned char arena[4096];
    fixedpool_t fp;
    require(fp_init(NULL, arena, sizeof arena, 8) == -1, "fp_init(NULL, arena, 4096, 8) must return -1");
    require(fp_init(&fp, NULL, 4096, 8) == -1, "fp_init(fp, NULL, 4096, 8) must return -1");
    require(fp_init(&fp, arena, sizeof arena, 0) == -1,
                  "fp_init with block_size 0 must return -1 (a stride of 0 has no blocks to count)");
    require(fp_init(&fp, arena, sizeof arena, SIZE_MAX) == -1,
                  "fp_init with block_size SIZE_MAX must return -1: it cannot be rounded up to a "
                  "multiple of FP_ALIGN without overflowing");

    static const size_t sizes[] = {1, 7, 8, 9, 16, 24, 100, 512, 4096};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t size = sizes[k], want = sizeof arena / want_stride(size);
        require(fp_init(&fp, arena, sizeof arena, size) == 0,
                      "fp_init(fp, arena, 4096, %zu) returned -1 on a 16-byte aligned arena", size);
        require(fp_capacity(&fp) == want,
                      "block size %zu in a 4096-byte arena: fp_capacity is %zu, expected %zu "
                      "(4096 / %zu, the block size rounded up to a multiple of FP_ALIGN)",
                      size, fp_capacity(&fp), want, want_stride(size));
        fp_destroy(&fp);
    }
}

/* ---- the blocks tile the arena ---- */

ALAB_TEST(tiling)
{
    static const struct {
        size_t arena, block;
    } cases[] = {{4096, 8}, {4096, 16}, {4096, 24}, {4096, 64}, {1000, 24}, {1000, 48}, {4096, 4096}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t size = cases[k].block, stride = want_stride(size);
        guarded_t g = guarded_arena(cases[k].arena, 0);
        size_t want = g.size / stride;
        char what[96];
        snprintf(what, sizeof what, "block size %zu in an aligned arena of %zu bytes", size, g.size);
        fixedpool_t fp;
        require(fp_init(&fp, g.arena, g.size, size) == 0, "%s: fp_init returned -1", what);
        require(fp_capacity(&fp) == want, "%s: fp_capacity is %zu, expected %zu (%zu / %zu)",
                      what, fp_capacity(&fp), want, g.size, stride);
        size_t n = take_all(&fp, held, want);
        require(n == want,
                      "%s: fp_alloc handed out %zu blocks before returning NULL, expected %zu: "
                      "the blocks must tile the arena, none lost and none beyond its end",
                      what, n, want);
        static bool seen[MAX_BLOCKS];
        memset(seen, 0, sizeof seen);
        for (size_t i = 0; i < n; i++) {
            size_t at = block_index(held[i], g.arena, stride, want, what);
            require(!seen[at], "%s: block %zu (%p) was handed out twice while held", what, at,
                          held[i]);
            seen[at] = true;
            pattern_fill(held[i], size, (uint32_t)i + 1);
        }
        for (size_t i = 0; i < n; i++)
            ck_assert_pattern(held[i], size, (uint32_t)i + 1, what);
        for (size_t i = 0; i < n; i++)
            fp_free(&fp, held[i]);
        fp_destroy(&fp);
        ck_assert_untouched_outside(g.arena, g.arena + g.size, what);
    }
}

/* ---- NULL when exhausted ---- */

ALAB_TEST(exhausted)
{
    const size_t size = 32, blocks = 10;
    guarded_t g = guarded_arena(blocks * size, 0);
    fixedpool_t fp;
    require(fp_init(&fp, g.arena, g.size, size) == 0, "fp_init(fp, arena, 320, 32) returned -1");
    size_t n = take_all(&fp, held, blocks);
    require(n == blocks, "an arena of 10 blocks of 32 bytes handed out %zu blocks, expected 10", n);
    for (int i = 0; i < 3; i++)
        require(fp_alloc(&fp) == NULL,
                      "fp_alloc returned a block while all 10 blocks were held (call %d after the "
                      "last): an exhausted pool must return NULL",
                      i + 1);
    fp_free(&fp, held[4]);
    void *again = fp_alloc(&fp);
    require(again != NULL, "fp_alloc returned NULL after one of the 10 blocks was freed");
    require(fp_alloc(&fp) == NULL, "fp_alloc returned a second block after only one was freed");
    held[4] = again;
    for (size_t i = 0; i < n; i++)
        fp_free(&fp, held[i]);
    n = take_all(&fp, held, blocks);
    require(n == blocks, "after every block was freed, fp_alloc handed out %zu blocks, expected 10", n);
    require(fp_alloc(&fp) == NULL, "fp_alloc returned an 11th block from a pool of 10");
    for (size_t i = 0; i < n; i++)
        fp_free(&fp, held[i]);
    fp_destroy(&fp);
    ck_assert_untouched_outside(g.arena, g.arena + g.size, "an exhausted pool of 10 blocks");
}

/* ---- a freed block is handed out next ---- */

ALAB_TEST(lifo)
{
    guarded_t g = guarded_arena(8 * 64, 0);
    fixedpool_t fp;
    require(fp_init(&fp, g.arena, g.size, 64) == 0, "fp_init(fp, arena, 512, 64) returned -1");
    void *a[5];
    for (int i = 0; i < 5; i++) {
        a[i] = fp_alloc(&fp);
        require(a[i] != NULL, "fp_alloc returned NULL for block %d of 8", i + 1);
    }
    fp_free(&fp, a[1]);
    void *p = fp_alloc(&fp);
    require(p == a[1],
                  "freed %p and called fp_alloc: got %p, expected the block just freed (LIFO), "
                  "even though never-used blocks remain",
                  a[1], p);
    fp_free(&fp, a[0]);
    fp_free(&fp, a[3]);
    fp_free(&fp, a[2]);
    const int order[] = {2, 3, 0};
    for (int i = 0; i < 3; i++) {
        p = fp_alloc(&fp);
        require(p == a[order[i]],
                      "freed blocks %p, %p, %p in this order; fp_alloc number %d returned %p, "
                      "expected %p: the block freed last is handed out first",
                      a[0], a[3], a[2], i + 1, p, a[order[i]]);
    }
    p = fp_alloc(&fp); /* the free list is empty: a block never handed out */
    require(p != NULL, "fp_alloc returned NULL with 3 of 8 blocks never handed out");
    for (int i = 0; i < 5; i++)
        require(p != a[i], "fp_alloc returned %p, which is still held", p);
    fp_free(&fp, p);
    for (int i = 0; i < 5; i++)
        fp_free(&fp, a[i]);
    fp_destroy(&fp);
}

/* ---- alignment ---- */

static void check_alignment(size_t size, size_t misalign)
{
    guarded_t g = guarded_arena(4096, misalign);
    size_t stride = want_stride(size), want = want_capacity(g.arena, g.size, size);
    size_t align = stride % 16 == 0 ? 16 : FP_ALIGN;
    fixedpool_t fp;
    require(fp_init(&fp, g.arena, g.size, size) == 0, "fp_init(fp, arena, 4096, %zu) returned -1", size);
    size_t n = take_all(&fp, held, want);
    require(n > 0, "block size %zu, an arena of 4096 bytes: the first fp_alloc returned NULL", size);
    for (size_t i = 0; i < n; i++)
        require((uintptr_t)held[i] % align == 0,
                      "block size %zu (stride %zu), arena %zu bytes past a 16-byte boundary: "
                      "block %zu is at %p, not aligned to %zu bytes",
                      size, stride, misalign, i, held[i], align);
    for (size_t i = 0; i < n; i++)
        fp_free(&fp, held[i]);
    fp_destroy(&fp);
}

ALAB_TEST(alignment)
{
    for (size_t size = 1; size <= 130; size++)
        check_alignment(size, 0);
    static const size_t sizes[] = {8, 16, 24, 32, 48, 100};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (size_t m = 1; m < 16; m += 2)
            check_alignment(sizes[k], m);
}

/* ---- block sizes that are not a multiple of a pointer ---- */

ALAB_TEST(odd_sizes)
{
    static const size_t sizes[] = {1, 7, 24, 100};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t size = sizes[k], stride = want_stride(size);
        guarded_t g = guarded_arena(2048, 0);
        size_t want = g.size / stride;
        char what[96];
        snprintf(what, sizeof what, "block size %zu", size);
        fixedpool_t fp;
        require(fp_init(&fp, g.arena, g.size, size) == 0, "%s: fp_init returned -1", what);
        require(fp_capacity(&fp) == want,
                      "%s in a 2048-byte arena: fp_capacity is %zu, expected %zu (stride %zu: "
                      "the block size rounded up to a multiple of FP_ALIGN, so that a free "
                      "block can hold the link)",
                      what, fp_capacity(&fp), want, stride);
        size_t n = take_all(&fp, held, want);
        require(n == want, "%s: %zu blocks handed out, expected %zu", what, n, want);
        for (size_t i = 0; i < n; i++)
            pattern_fill(held[i], size, (uint32_t)i + 1);
        /* every other block goes back: the pool writes its links into them */
        for (size_t i = 0; i < n; i += 2)
            fp_free(&fp, held[i]);
        for (size_t i = 1; i < n; i += 2)
            ck_assert_pattern(held[i], size, (uint32_t)i + 1, what);
        for (size_t i = 0; i < n; i += 2) {
            held[i] = fp_alloc(&fp);
            require(held[i] != NULL, "%s: fp_alloc returned NULL while blocks were free", what);
            pattern_fill(held[i], size, (uint32_t)(i + 1) * 7919u);
        }
        for (size_t i = 0; i < n; i++)
            ck_assert_pattern(held[i], size, (uint32_t)(i + 1) * (i % 2 == 0 ? 7919u : 1u), what);
        for (size_t i = 0; i < n; i++)
            fp_free(&fp, held[i]);
        fp_destroy(&fp);
        ck_assert_untouched_outside(g.arena, g.arena + g.size, what);
    }
}

/* ---- arenas with room for no block or one ---- */

ALAB_TEST(tiny_arena)
{
    static const struct {
        size_t arena, block, want;
    } cases[] = {{0, 8, 0}, {7, 8, 0}, {8, 8, 1}, {15, 8, 1}, {23, 24, 0}, {24, 24, 1},
                 {47, 24, 1}, {100, 100, 0}, {104, 100, 1}, {1, 1, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t size = cases[k].block, want = cases[k].want;
        guarded_t g = guarded_arena(cases[k].arena, 0);
        char what[96];
        snprintf(what, sizeof what, "an aligned arena of %zu bytes, block size %zu", g.size, size);
        fixedpool_t fp;
        require(fp_init(&fp, g.arena, g.size, size) == 0,
                      "%s: fp_init returned -1; a pool with room for %zu blocks is still a pool",
                      what, want);
        require(fp_capacity(&fp) == want, "%s: fp_capacity is %zu, expected %zu", what,
                      fp_capacity(&fp), want);
        void *p = fp_alloc(&fp);
        if (want == 0) {
            require(p == NULL, "%s: fp_alloc returned %p, expected NULL: no block fits", what, p);
        } else {
            require(p == g.arena, "%s: fp_alloc returned %p, expected the arena's start %p",
                          what, p, (void *)g.arena);
            pattern_fill(p, size, 3);
            require(fp_alloc(&fp) == NULL, "%s: fp_alloc returned a second block", what);
            fp_free(&fp, p);
            void *q = fp_alloc(&fp);
            require(q == p, "%s: after fp_free, fp_alloc returned %p, expected %p", what, q, p);
            require(fp_alloc(&fp) == NULL, "%s: fp_alloc returned a second block after a "
                          "free and an alloc", what);
            fp_free(&fp, q);
        }
        fp_destroy(&fp);
        ck_assert_untouched_outside(g.arena, g.arena + g.size, what);
    }
}

/* ---- arenas that do not start on a 16-byte boundary ---- */

ALAB_TEST(unaligned_arena)
{
    static const size_t sizes[] = {16, 24, 8};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (size_t m = 1; m < 16; m++) {
            size_t size = sizes[k], stride = want_stride(size);
            guarded_t g = guarded_arena(1000, m);
            size_t pad = want_pad(g.arena), want = (g.size - pad) / stride;
            unsigned char *first = g.arena + pad;
            char what[128];
            snprintf(what, sizeof what, "block size %zu, an arena of 1000 bytes at %p (%zu bytes "
                     "before a 16-byte boundary)", size, (void *)g.arena, pad);
            fixedpool_t fp;
            require(fp_init(&fp, g.arena, g.size, size) == 0, "%s: fp_init returned -1", what);
            require(fp_capacity(&fp) == want,
                          "%s: fp_capacity is %zu, expected %zu: the first block starts at the "
                          "boundary, and the %zu bytes before it are not the pool's",
                          what, fp_capacity(&fp), want, pad);
            size_t n = take_all(&fp, held, want);
            require(n == want, "%s: %zu blocks handed out, expected %zu", what, n, want);
            bool first_seen = false;
            for (size_t i = 0; i < n; i++) {
                block_index(held[i], first, stride, want, what);
                first_seen |= held[i] == first;
                pattern_fill(held[i], size, (uint32_t)i + 9);
            }
            require(first_seen, "%s: no block starts at %p, the first 16-byte boundary", what,
                          (void *)first);
            for (size_t i = 0; i < n; i++)
                fp_free(&fp, held[i]);
            fp_destroy(&fp);
            ck_assert_untouched_outside(first, g.arena + g.size, what);
        }
    }
    /* an arena that ends before its first boundary */
    guarded_t g = guarded_arena(10, 1);
    fixedpool_t fp;
    require(fp_init(&fp, g.arena, g.size, 8) == 0, "fp_init on an arena of 10 bytes at %p returned -1",
                  (void *)g.arena);
    require(fp_capacity(&fp) == 0 && fp_alloc(&fp) == NULL,
                  "an arena of 10 bytes that starts 15 bytes before a 16-byte boundary holds no "
                  "block, but fp_capacity says %zu or fp_alloc returned a block", fp_capacity(&fp));
    fp_destroy(&fp);
    ck_assert_untouched_outside(g.arena, g.arena, "an arena that ends before its first boundary");
}

/* ---- fp_free(fp, NULL) ---- */

ALAB_TEST(free_null)
{
    /* Whatever order the pool hands blocks out in, fp_free(fp, NULL) must not
     * change how many it has: all four, before and after. */
    static _Alignas(16) unsigned char arena[4 * 16];
    fixedpool_t fp;
    require(fp_init(&fp, arena, sizeof arena, 16) == 0, "fp_init(fp, arena, 64, 16) returned -1");
    fp_free(&fp, NULL);
    size_t n = take_all(&fp, held, 4);
    require(n == 4, "after fp_free(fp, NULL) on a new pool of 4 blocks, fp_alloc handed out %zu "
            "blocks before NULL: fp_free(fp, NULL) must do nothing", n);
    for (size_t i = 0; i < 4; i++)
        fp_free(&fp, held[i]);
    fp_free(&fp, NULL);
    fp_free(&fp, NULL);
    n = take_all(&fp, held, 4);
    require(n == 4, "after all 4 blocks came back and fp_free(fp, NULL) was called twice, fp_alloc "
            "handed out %zu blocks before NULL (a NULL on the free list?): fp_free(fp, NULL) must "
            "do nothing", n);
    fp_destroy(&fp);
}

/* ---- two pools share nothing ---- */

ALAB_TEST(two_pools)
{
    static _Alignas(16) unsigned char arena_a[16 * 16], arena_b[48 * 6];
    fixedpool_t a, b;
    require(fp_init(&a, arena_a, sizeof arena_a, 16) == 0, "fp_init of pool A returned -1");
    require(fp_init(&b, arena_b, sizeof arena_b, 48) == 0, "fp_init of pool B returned -1");
    require(fp_capacity(&a) == 16 && fp_capacity(&b) == 6,
                  "two pools at once: capacities %zu and %zu, expected 16 and 6", fp_capacity(&a),
                  fp_capacity(&b));
    void *ha[16], *hb[6];
    for (int i = 0; i < 6; i++) {
        ha[i] = fp_alloc(&a);
        hb[i] = fp_alloc(&b);
        require(ha[i] != NULL && hb[i] != NULL, "fp_alloc returned NULL with two pools in use");
        block_index(ha[i], arena_a, 16, 16, "pool A (16-byte blocks), with pool B in use");
        block_index(hb[i], arena_b, 48, 6, "pool B (48-byte blocks), with pool A in use");
    }
    require(fp_alloc(&b) == NULL, "pool B of 6 blocks handed out a 7th while pool A had 10 left");
    fp_free(&a, ha[2]);
    fp_free(&b, hb[4]);
    void *pa = fp_alloc(&a), *pb = fp_alloc(&b);
    require(pa != NULL && pb != NULL, "after a free to each pool, fp_alloc returned %p from A and %p "
            "from B", pa, pb);
    block_index(pa, arena_a, 16, 16, "pool A after a block was freed to each pool");
    require(pb == hb[4], "pool B's only free block is %p, freed to it just now, yet fp_alloc(B) "
            "returned %p: each pool hands out its own blocks", hb[4], pb);
    ha[2] = pa; /* pool A had 11 free blocks, in an order of its own: pa is held now */
    for (int i = 6; i < 16; i++) {
        ha[i] = fp_alloc(&a);
        require(ha[i] != NULL, "pool A returned NULL for block %d of 16", i + 1);
        block_index(ha[i], arena_a, 16, 16, "pool A (16-byte blocks), with pool B in use");
    }
    require(fp_alloc(&a) == NULL, "pool A of 16 blocks handed out a 17th");
    for (int i = 0; i < 16; i++)
        fp_free(&a, ha[i]);
    for (int i = 0; i < 6; i++)
        fp_free(&b, hb[i]);
    fp_destroy(&a);
    fp_destroy(&b);
}

/* ---- run under memcheck only: the arena after fp_destroy ---- */

ALAB_TEST(destroy_held)
{
    static _Alignas(16) unsigned char arena[512];
    fixedpool_t fp;
    require(fp_init(&fp, arena, sizeof arena, 64) == 0, "fp_init(fp, arena, 512, 64) returned -1");
    void *a = fp_alloc(&fp), *b = fp_alloc(&fp), *c = fp_alloc(&fp);
    require(a != NULL && b != NULL && c != NULL, "fp_alloc returned NULL");
    fp_free(&fp, b);
    fp_destroy(&fp); /* with two blocks still held */
    /* The arena is the caller's again: every byte may be written and read. */
    memset(arena, 0x11, sizeof arena);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof arena; i++)
        sum += arena[i];
    require(sum == 0x11u * sizeof arena, "the arena did not keep the bytes written after fp_destroy");
    /* and it can serve another pool */
    require(fp_init(&fp, arena, sizeof arena, 24) == 0, "fp_init on a reused arena returned -1");
    size_t n = take_all(&fp, held, sizeof arena / 24);
    require(n == sizeof arena / 24, "a pool of 24-byte blocks on a reused 512-byte arena "
                  "handed out %zu blocks, expected %zu", n, sizeof arena / 24);
    for (size_t i = 0; i < n; i++)
        pattern_fill(held[i], 24, (uint32_t)i);
    fp_destroy(&fp);
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex04-fixedpool");
    ALAB_ADD(s, init, 10);
    ALAB_ADD(s, tiling, 10);
    ALAB_ADD(s, exhausted, 10);
    ALAB_ADD(s, lifo, 10);
    ALAB_ADD(s, alignment, 10);
    ALAB_ADD(s, odd_sizes, 10);
    ALAB_ADD(s, tiny_arena, 10);
    ALAB_ADD(s, unaligned_arena, 10);
    ALAB_ADD(s, free_null, 10);
    ALAB_ADD(s, two_pools, 10);
    ALAB_ADD(s, destroy_held, 10);
    return s;
}

/* test_hidden.c — instructor-only tests of exercise 03 (left out of handouts).
 *
 * The same rules as the public tests, on workloads students cannot tune
 * against: sizes, operation mixes and orders drawn from the grader's seed
 * (ALAB_SEED), so another seed gives another variant. Every block carries a
 * pattern checked before it is freed or resized; the call counters are
 * predicted exactly, mmap and munmap compared with the spy, and every large
 * block must come and go with exactly one mmap and one munmap.
 */
#include "seglist_testlib.h"

enum { SLOTS = 512 };

typedef struct {
    void *p[SLOTS];
    size_t size[SLOTS];
    uint32_t tag[SLOTS];
    uint64_t rng;
    size_t calls[5]; /* malloc, calloc, realloc, reallocarray, free: what we made */
} world_t;

static size_t draw_size(world_t *w, int large_percent)
{
    uint64_t x = rng_next(&w->rng);
    if ((int)(x % 100) < large_percent)
        return SL_MAX_SMALL + 1 + (size_t)(x >> 8) % (300 * 1024);
    switch ((x >> 8) % 4) {
    case 0:
        return (size_t)(x >> 16) % 33;                    /* 0..32 */
    case 1:
        return (size_t)(x >> 16) % 128 + 1;               /* 1..128 */
    default:
        return (size_t)(x >> 16) % SL_MAX_SMALL + 1;      /* 1..1024 */
    }
}

static void check_block(world_t *w, int k, const char *when)
{
    char what[128];
    snprintf(what, sizeof what, "a block of %zu bytes %s (seed %llu)", w->size[k], when,
             (unsigned long long)alab_seed(1));
    ck_assert_pattern(w->p[k], w->size[k], w->tag[k], what);
}

static void put(world_t *w, int k, void *p, size_t size, uint32_t tag, const char *call)
{
    require(p != NULL || size == 0, "%s of %zu bytes returned NULL (seed %llu)", call, size,
                  (unsigned long long)alab_seed(1));
    if (p != NULL)
        require((uintptr_t)p % SL_ALIGN == 0, "%s returned %p, not %d-byte aligned", call, p,
                      SL_ALIGN);
    w->p[k] = p;
    w->size[k] = p != NULL ? size : 0;
    w->tag[k] = tag;
    if (p != NULL)
        pattern_fill(p, size, tag);
}

/* One random step on slot k. */
static void step(world_t *w, int k, uint32_t tag, int large_percent)
{
    uint64_t x = rng_next(&w->rng);
    size_t size = draw_size(w, large_percent);
    if (w->p[k] == NULL) {
        switch (x % 4) {
        case 0: {
            size_t n = size / 8 + 1, each = size / n;
            unsigned char *p = sl_calloc(n, each);
            w->calls[1]++;
            for (size_t i = 0; p != NULL && i < n * each; i++)
                require(p[i] == 0, "sl_calloc(%zu, %zu): byte %zu is 0x%02x, not 0 (seed %llu)",
                              n, each, i, p[i], (unsigned long long)alab_seed(1));
            put(w, k, p, n * each, tag, "sl_calloc");
            break;
        }
        case 1:
            put(w, k, sl_realloc(NULL, size), size, tag, "sl_realloc(NULL, n)");
            w->calls[2]++;
            break;
        default:
            put(w, k, sl_malloc(size), size, tag, "sl_malloc");
            w->calls[0]++;
        }
        return;
    }
    check_block(w, k, "before it was freed or resized");
    if (x % 3 == 0) {
        size += size == 0; /* sl_realloc(p, 0) frees: not this test's business */
        size_t old = w->size[k], keep;
        void *q;
        if ((x >> 8) % 2 == 0) {
            q = sl_realloc(w->p[k], size);
            w->calls[2]++;
        } else {
            q = sl_reallocarray(w->p[k], size / 4 + 1, 4);
            size = (size / 4 + 1) * 4;
            w->calls[3]++;
        }
        keep = old < size ? old : size;
        require(q != NULL, "sl_realloc from %zu to %zu bytes returned NULL", old, size);
        char what[96];
        snprintf(what, sizeof what, "sl_realloc from %zu to %zu bytes (the first %zu kept)", old,
                 size, keep);
        ck_assert_pattern(q, keep, w->tag[k], what);
        put(w, k, q, size, tag, "sl_realloc");
    } else {
        sl_free(w->p[k]);
        w->calls[4]++;
        w->p[k] = NULL;
    }
}

static void run_world(int ops, int large_percent, uint64_t salt)
{
    static world_t w;
    memset(&w, 0, sizeof w);
    w.rng = alab_seed(1) * 0x9E3779B97F4A7C15ull + salt;
    snap_t s0 = snap();
    for (int i = 0; i < ops; i++) {
        int k = (int)(rng_next(&w.rng) % SLOTS);
        step(&w, k, (uint32_t)i + 1, large_percent);
        if (i % 1000 == 999) {
            for (int j = 0; j < SLOTS; j++)
                if (w.p[j] != NULL)
                    check_block(&w, j, "while other blocks came and went");
            snap_t now = snap();
            ck_assert_honest(s0, now, "a random mix");
        }
    }
    for (int k = 0; k < SLOTS; k++)
        if (w.p[k] != NULL) {
            check_block(&w, k, "at the end");
            sl_free(w.p[k]);
            w.calls[4]++;
        }
    snap_t s1 = snap();
    size_t got[5] = {D(s0, s1, sl.malloc_calls), D(s0, s1, sl.calloc_calls),
                     D(s0, s1, sl.realloc_calls), D(s0, s1, sl.reallocarray_calls),
                     D(s0, s1, sl.free_calls)};
    ck_assert_msg(memcmp(got, w.calls, sizeof got) == 0,
                  "a random mix made %zu malloc, %zu calloc, %zu realloc, %zu reallocarray and "
                  "%zu free calls; sl_get_stats counted %zu, %zu, %zu, %zu, %zu (seed %llu)",
                  w.calls[0], w.calls[1], w.calls[2], w.calls[3], w.calls[4], got[0], got[1],
                  got[2], got[3], got[4], (unsigned long long)alab_seed(1));
    ck_assert_honest(s0, s1, "a random mix, once every block was freed");
    ck_assert_msg(s1.spy.foreign_munmaps == s0.spy.foreign_munmaps,
                  "munmap was called on ranges that no mmap call returned");
}

ALAB_TEST(varied_mix)
{
    run_world(30000, 2, 1);
}

ALAB_TEST(varied_realloc)
{
    /* one block grown and shrunk at random across every class and large sizes */
    uint64_t rng = alab_seed(1) * 31 + 7;
    size_t size = 1;
    unsigned char *p = sl_malloc(size);
    pattern_fill(p, size, 1);
    for (int i = 0; i < 3000; i++) {
        uint64_t x = rng_next(&rng);
        size_t next = x % 4 == 0 ? (size_t)(x >> 8) % 200000 + 1 : (size_t)(x >> 8) % 1100 + 1;
        unsigned char *q = sl_realloc(p, next);
        require(q != NULL, "sl_realloc from %zu to %zu bytes returned NULL", size, next);
        char what[96];
        size_t keep = size < next ? size : next;
        snprintf(what, sizeof what, "sl_realloc from %zu to %zu bytes (seed %llu)", size, next,
                 (unsigned long long)alab_seed(1));
        ck_assert_pattern(q, keep, (uint32_t)i + 1, what);
        pattern_fill(q, next, (uint32_t)i + 2);
        p = q;
        size = next;
    }
    sl_free(p);
}

ALAB_TEST(varied_large)
{
    /* large blocks only: each exactly one mmap and one munmap, footprint back to 0 */
    uint64_t rng = alab_seed(1) * 77 + 3;
    void *held[64] = {0};
    snap_t s0 = snap();
    size_t mapped0 = s0.spy.mapped;
    for (int i = 0; i < 2000; i++) {
        int k = (int)(rng_next(&rng) % 64);
        snap_t a = snap();
        if (held[k] != NULL) {
            sl_free(held[k]);
            held[k] = NULL;
            snap_t b = snap();
            require(D(a, b, spy.munmap_calls) == 1,
                          "sl_free of a large block called munmap %zu times, not once (seed %llu)",
                          D(a, b, spy.munmap_calls), (unsigned long long)alab_seed(1));
        } else {
            size_t size = SL_MAX_SMALL + 1 + (size_t)(rng_next(&rng) % (1 << 20));
            held[k] = sl_malloc(size);
            snap_t b = snap();
            require(held[k] != NULL && D(a, b, spy.mmap_calls) == 1,
                          "sl_malloc(%zu) called mmap %zu times, not once (seed %llu)", size,
                          D(a, b, spy.mmap_calls), (unsigned long long)alab_seed(1));
            ((char *)held[k])[size - 1] = 1;
        }
    }
    for (int k = 0; k < 64; k++)
        sl_free(held[k]);
    snap_t s1 = snap();
    ck_assert_msg(s1.spy.mapped == mapped0,
                  "after every large block was freed, %zd bytes were still mapped",
                  (ssize_t)(s1.spy.mapped - mapped0));
    ck_assert_honest(s0, s1, "2000 large allocations and frees");
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("seglist-hidden");
    ALAB_ADD(s, varied_mix, 60);
    ALAB_ADD(s, varied_realloc, 30);
    ALAB_ADD(s, varied_large, 30);
    return s;
}

/* test_tiers.c — public tests of exercise 10 (the three-tier malloc).
 *
 * One test per case; the manifest (exercise.ini) gives each case its points.
 * Each test runs in a process of its own, so the allocator starts empty. The
 * statistics are compared as deltas. Worker threads never call ck_assert:
 * they write what went wrong into their argument and the main thread asserts.
 */
#include "tiers_testlib.h"

#include <time.h>

/* ---- the malloc family (the contract of exercise 05) ---- */

static const size_t basic_sizes[] = {0,    1,    8,     9,      24,     48,     63,      100,
                                     129,  200,  384,   385,    1000,   1536,   2047,    2048,
                                     2049, 4096, 5000,  65536,  100000, 524288, 1 << 20, (1 << 20) + 1,
                                     3 << 20};
#define NBASIC (sizeof basic_sizes / sizeof basic_sizes[0])

ALAB_TEST(basic)
{
    void *held[NBASIC];
    ti_stats_t before = ti_get_stats();
    for (size_t i = 0; i < NBASIC; i++) {
        held[i] = ti_malloc(basic_sizes[i]);
        ck_assert_msg(held[i] != NULL, "ti_malloc(%zu) returned NULL", basic_sizes[i]);
        /* 16 bytes, except the classes of 8 and 24 bytes: 8 (as mimalloc's) */
        size_t want = basic_sizes[i] <= TI_MAX_SMALL && class_for(basic_sizes[i]) % 16 != 0 ? 8 : 16;
        ck_assert_msg((uintptr_t)held[i] % want == 0, "ti_malloc(%zu) returned %p, not aligned to %zu "
                      "bytes", basic_sizes[i], held[i], want);
        pattern_fill(held[i], basic_sizes[i], (uint32_t)i);
    }
    for (size_t i = 0; i < NBASIC; i++)
        ck_assert_pattern(held[i], basic_sizes[i], (uint32_t)i, "blocks of 0 bytes to 3 MiB held at once");
    ck_assert_heap("with blocks of every tier held");
    for (size_t i = 0; i < NBASIC; i += 2)
        ti_free(held[i]);
    for (size_t i = 1; i < NBASIC; i += 2)
        ck_assert_pattern(held[i], basic_sizes[i], (uint32_t)i, "blocks kept while others were freed");
    for (size_t i = 1; i < NBASIC; i += 2)
        ti_free(held[i]);
    ti_free(NULL);
    stats_delta_t d = stats_delta(before, ti_get_stats());
    ck_assert_msg(d.allocs == (long)NBASIC && d.frees == (long)NBASIC && d.in_use == 0,
                  "after %zu ti_malloc, %zu ti_free and ti_free(NULL): expected alloc_count +%zu, "
                  "free_count +%zu, in_use +0; got %+ld, %+ld, %+ld", NBASIC, NBASIC, NBASIC, NBASIC,
                  d.allocs, d.frees, d.in_use);
    for (int round = 0; round < 2000; round++) {
        void *p = ti_malloc(100), *q = ti_malloc(3000);
        ck_assert_msg(p != NULL && q != NULL, "ti_malloc returned NULL in round %d of 2000", round);
        ti_free(q);
        ti_free(p);
    }
    ck_assert_heap("after 2000 rounds of malloc and free");
}

/* Up to TI_MAX_SMALL bytes, the usable size is the class's size exactly;
 * above, at least the request. Every promised byte is the caller's. */
ALAB_TEST(usable_size)
{
    ck_assert_msg(ti_malloc_usable_size(NULL) == 0, "ti_malloc_usable_size(NULL) is %zu, not 0",
                  ti_malloc_usable_size(NULL));
    enum { HOLD = 20 };
    static const size_t sizes[] = {0,   1,   8,   9,    16,   17,   24,   25,   33,   48,   49,
                                   64,  65,  96,  97,   128,  129,  192,  193,  256,  257,  384,
                                   385, 512, 513, 768,  769,  1024, 1025, 1536, 1537, 2048, 2049,
                                   4000, 4096, 4097, 20000, 70000, 1 << 20, (1 << 20) + 100};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        void *held[HOLD];
        size_t usable[HOLD];
        for (int i = 0; i < HOLD; i++) {
            held[i] = ti_malloc(sizes[k]);
            ck_assert_msg(held[i] != NULL, "ti_malloc(%zu) returned NULL", sizes[k]);
            usable[i] = ti_malloc_usable_size(held[i]);
            if (sizes[k] <= TI_MAX_SMALL)
                ck_assert_msg(usable[i] == class_for(sizes[k] ? sizes[k] : 1),
                              "ti_malloc_usable_size says %zu for a block of ti_malloc(%zu): up to "
                              "%d bytes it is exactly the size of the class that serves the request (%zu)",
                              usable[i], sizes[k], TI_MAX_SMALL, class_for(sizes[k] ? sizes[k] : 1));
            else
                ck_assert_msg(usable[i] >= sizes[k], "ti_malloc_usable_size says %zu for a block of "
                              "ti_malloc(%zu): it must be at least the request", usable[i], sizes[k]);
            pattern_fill(held[i], usable[i], (uint32_t)(k << 8 | (size_t)i));
        }
        for (int i = 0; i < HOLD; i++) {
            char what[120];
            snprintf(what, sizeof what, "%d blocks of ti_malloc(%zu), each filled up to its "
                     "ti_malloc_usable_size (%zu)", HOLD, sizes[k], usable[i]);
            ck_assert_pattern(held[i], usable[i], (uint32_t)(k << 8 | (size_t)i), what);
        }
        for (int i = 0; i < HOLD; i++)
            ti_free(held[i]);
    }
}

static size_t first_nonzero(const unsigned char *p, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (p[j] != 0)
            return j;
    return n;
}

ALAB_TEST(calloc_zero)
{
    enum { HOLD = 80 };
    static const size_t sizes[] = {1, 8, 40, 64, 100, 333, 512, 1000, 2048, 3000, 5000, 40000, 300000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t size = sizes[k];
        void *held[HOLD];
        for (int i = 0; i < HOLD; i++) { /* dirty blocks, then give them back */
            held[i] = ti_malloc(size);
            ck_assert_msg(held[i] != NULL, "ti_malloc(%zu) returned NULL", size);
            memset(held[i], 0xa5, ti_malloc_usable_size(held[i]));
        }
        for (int i = 0; i < HOLD; i++)
            ti_free(held[i]);
        for (int i = 0; i < HOLD; i++) {
            size_t nmemb = i % 2 == 0 ? 1 : 4, each = (size + nmemb - 1) / nmemb;
            unsigned char *p = held[i] = ti_calloc(nmemb, each);
            ck_assert_msg(p != NULL, "ti_calloc(%zu, %zu) returned NULL", nmemb, each);
            size_t j = first_nonzero(p, nmemb * each);
            ck_assert_msg(j == nmemb * each, "ti_calloc(%zu, %zu) returned a block whose byte %zu "
                          "is 0x%02x, not 0: every byte must be cleared, also in a recycled block",
                          nmemb, each, j, p[j]);
        }
        for (int i = 0; i < HOLD; i++)
            ti_free(held[i]);
    }
    void *z = ti_calloc(0, 10);
    ck_assert_msg(z != NULL, "ti_calloc(0, 10) returned NULL: like ti_malloc(0) it returns a unique block");
    ti_free(z);
}

ALAB_TEST(realloc_keeps)
{
    static const size_t steps[] = {10, 60, 64, 100, 700, 2048, 2049, 5000, 100000, 2000000,
                                   3000, 900, 100, 20, 2000, 8};
    ti_stats_t before = ti_get_stats();
    size_t old = 0;
    unsigned char *p = NULL;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        size_t size = steps[k];
        unsigned char *q = ti_realloc(p, size);
        ck_assert_msg(q != NULL, "ti_realloc(%p, %zu) returned NULL", (void *)p, size);
        size_t kept = old < size ? old : size;
        if (k > 0) {
            char what[80];
            snprintf(what, sizeof what, "ti_realloc from %zu to %zu bytes (the first %zu must stay)",
                     old, size, kept);
            ck_assert_pattern(q, kept, 77, what);
        }
        pattern_fill(q, size, 77);
        ck_assert_msg(ti_malloc_usable_size(q) >= size, "ti_realloc(p, %zu): usable size %zu", size,
                      ti_malloc_usable_size(q));
        p = q;
        old = size;
    }
    for (size_t size = 100; size <= 80000; size = size * 3 + 7) {
        unsigned char *b = ti_malloc(size), *guard = ti_malloc(size);
        ck_assert_msg(b != NULL && guard != NULL, "ti_malloc(%zu) returned NULL", size);
        pattern_fill(guard, size, 5);
        for (size_t extra = 1; extra <= 32; extra *= 2) {
            size_t want = ti_malloc_usable_size(b) + extra;
            unsigned char *c = ti_realloc(b, want);
            ck_assert_msg(c != NULL, "ti_realloc(%zu bytes) returned NULL", want);
            memset(c, 0x3c, want);
            b = c;
        }
        ck_assert_pattern(guard, size, 5, "a block next to one that ti_realloc grew past its usable size");
        ti_free(b);
        ti_free(guard);
    }
    /* a large block resized within its own block, its neighbour held */
    unsigned char *big = ti_malloc(5000), *next = ti_malloc(5000);
    ck_assert_msg(big != NULL && next != NULL, "ti_malloc(5000) returned NULL");
    pattern_fill(big, 5000, 21);
    unsigned char *big2 = ti_realloc(big, 6000);
    ck_assert_msg(big2 != NULL, "ti_realloc(p, 6000) of a 5000-byte block returned NULL");
    ck_assert_pattern(big2, 5000, 21, "ti_realloc from 5000 to 6000 bytes");
    ti_free(big2);
    ti_free(next);
    ti_stats_t mid = ti_get_stats();
    ck_assert_msg(ti_realloc(p, 0) == NULL, "ti_realloc(p, 0) must free p and return NULL");
    stats_delta_t d = stats_delta(mid, ti_get_stats());
    ck_assert_msg(d.frees == 1 && d.allocs == 0, "ti_realloc(p, 0) must free p: expected free_count "
                  "+1, alloc_count +0; got %+ld, %+ld", d.frees, d.allocs);
    unsigned char *r = ti_realloc(NULL, 300);
    ck_assert_msg(r != NULL, "ti_realloc(NULL, 300) returned NULL: it is ti_malloc(300)");
    pattern_fill(r, 300, 9);
    unsigned char *s = ti_reallocarray(r, 250, 4);
    ck_assert_msg(s != NULL, "ti_reallocarray(p, 250, 4) returned NULL");
    ck_assert_pattern(s, 300, 9, "ti_reallocarray from 300 to 1000 bytes");
    ti_free(s);
    d = stats_delta(before, ti_get_stats());
    ck_assert_msg(d.in_use == 0, "every block was freed, yet in_use changed by %+ld", d.in_use);
}

/* Run under memcheck only: in a fresh process, the first large block resized
 * within its own block. A realloc that gives a block back before it copies
 * may get the same block again; memcheck's run sees it in the statistics (a
 * block kept in place counts neither an alloc nor a free). */
ALAB_TEST(realloc_large)
{
    unsigned char *a = ti_malloc(5000);
    ck_assert_msg(a != NULL, "ti_malloc(5000) returned NULL");
    pattern_fill(a, 5000, 8);
    ti_stats_t s0 = ti_get_stats();
    unsigned char *b = ti_realloc(a, 6000);
    stats_delta_t d = stats_delta(s0, ti_get_stats());
    ck_assert_msg(b != NULL, "ti_realloc(p, 6000) of a 5000-byte block returned NULL");
    ck_assert_msg(b != a || (d.allocs == 0 && d.frees == 0), "ti_realloc(p, 6000) returned the same "
                  "block but counted %+ld allocs and %+ld frees: it gave the block back before "
                  "copying from it (any other thread could have taken it meanwhile)", d.allocs, d.frees);
    ck_assert_pattern(b, 5000, 8, "ti_realloc of the first large block from 5000 to 6000 bytes");
    pattern_fill(b, 6000, 9);
    unsigned char *c = ti_realloc(b, 3000);
    ck_assert_msg(c != NULL, "ti_realloc(p, 3000) of a 6000-byte block returned NULL");
    ck_assert_pattern(c, 3000, 9, "ti_realloc of a large block from 6000 to 3000 bytes");
    ti_free(c);
}

static void *via_posix_memalign(size_t alignment, size_t size)
{
    void *p = NULL;
    return ti_posix_memalign(&p, alignment, size) == 0 ? p : NULL;
}

ALAB_TEST(aligned)
{
    static const size_t aligns[] = {8, 16, 32, 64, 128, 512, 4096, 8192, 65536, 1 << 20, 4 << 20};
    static const size_t sizes[] = {1, 48, 100, 1000, 2048, 5000};
    static const struct {
        const char *name;
        void *(*fn)(size_t, size_t);
    } fns[] = {{"ti_posix_memalign", via_posix_memalign}, {"ti_aligned_alloc", ti_aligned_alloc},
               {"ti_memalign", ti_memalign}};
    enum { N = sizeof aligns / sizeof aligns[0] * sizeof sizes / sizeof sizes[0] };
    for (size_t f = 0; f < 3; f++) {
        void *held[N];
        size_t held_size[N], n = 0;
        for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++)
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++, n++) {
                void *p = fns[f].fn(aligns[a], sizes[s]);
                ck_assert_msg(p != NULL, "%s(%zu, %zu) returned NULL", fns[f].name, aligns[a], sizes[s]);
                ck_assert_msg((uintptr_t)p % aligns[a] == 0, "%s(%zu, %zu) returned %p, not aligned "
                              "to %zu bytes", fns[f].name, aligns[a], sizes[s], p, aligns[a]);
                ck_assert_msg(ti_malloc_usable_size(p) >= sizes[s], "ti_malloc_usable_size is %zu "
                              "for %s(%zu, %zu)", ti_malloc_usable_size(p), fns[f].name, aligns[a], sizes[s]);
                pattern_fill(p, sizes[s], (uint32_t)n);
                held[n] = p;
                held_size[n] = sizes[s];
            }
        for (size_t i = 0; i < n; i++)
            ck_assert_pattern(held[i], held_size[i], (uint32_t)i, "aligned blocks held at once");
        unsigned char *g = ti_realloc(held[0], 3000);
        ck_assert_msg(g != NULL, "ti_realloc of a block from %s returned NULL", fns[f].name);
        ck_assert_pattern(g, held_size[0], 0, "ti_realloc of an aligned block");
        held[0] = g;
        for (size_t i = 0; i < n; i++)
            ti_free(held[i]);
    }
    void *v = ti_valloc(100), *pv = ti_pvalloc(100), *pz = ti_pvalloc(0);
    ck_assert_msg(v != NULL && (uintptr_t)v % TI_PAGE == 0, "ti_valloc(100) returned %p, not page-aligned", v);
    ck_assert_msg(pv != NULL && (uintptr_t)pv % TI_PAGE == 0 && ti_malloc_usable_size(pv) >= TI_PAGE,
                  "ti_pvalloc(100) must return a page-aligned whole page");
    ck_assert_msg(pz != NULL && (uintptr_t)pz % TI_PAGE == 0 && ti_malloc_usable_size(pz) >= TI_PAGE,
                  "ti_pvalloc(0) must return one page-aligned page");
    memset(pv, 1, TI_PAGE);
    memset(pz, 2, TI_PAGE);
    ti_free(v);
    ti_free(pv);
    ti_free(pz);
    void *p = (void *)&p;
    static const size_t bad_posix[] = {0, 1, 2, 4, 12, 24, 48, 100};
    for (size_t i = 0; i < sizeof bad_posix / sizeof bad_posix[0]; i++) {
        int err = ti_posix_memalign(&p, bad_posix[i], 64);
        ck_assert_msg(err == EINVAL && p == (void *)&p, "ti_posix_memalign(&p, %zu, 64) returned %d "
                      "and %s *p: EINVAL, *p left alone", bad_posix[i], err, p == (void *)&p ? "kept" : "changed");
    }
    static const size_t bad[] = {0, 3, 24, 100, 4095};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        void *q = ti_aligned_alloc(bad[i], 64);
        ck_assert_msg(q == NULL && errno == EINVAL, "ti_aligned_alloc(%zu, 64) returned %p with errno "
                      "%d: NULL and EINVAL", bad[i], q, errno);
        errno = 0;
        q = ti_memalign(bad[i], 64);
        ck_assert_msg(q == NULL && errno == EINVAL, "ti_memalign(%zu, 64) returned %p with errno %d: "
                      "NULL and EINVAL", bad[i], q, errno);
    }
    ck_assert_heap("after the aligned blocks were freed");
}

ALAB_TEST(overflow)
{
#define CK_ENOMEM(call)                                                                        \
    do {                                                                                       \
        errno = 0;                                                                             \
        void *r_ = (call);                                                                     \
        ck_assert_msg(r_ == NULL && errno == ENOMEM, "%s returned %p with errno %d: a request "  \
                      "that cannot be met (or whose size overflows) gives NULL and ENOMEM",     \
                      #call, r_, errno);                                                      \
    } while (0)
    CK_ENOMEM(ti_malloc(SIZE_MAX));
    CK_ENOMEM(ti_malloc(SIZE_MAX - 4096));
    CK_ENOMEM(ti_calloc(SIZE_MAX / 2, 3));
    CK_ENOMEM(ti_calloc((size_t)1 << 33, (size_t)1 << 33));
    CK_ENOMEM(ti_calloc(((size_t)1 << 62) + 1, 4));
    CK_ENOMEM(ti_aligned_alloc(4096, SIZE_MAX - 100));
    CK_ENOMEM(ti_memalign(1 << 20, SIZE_MAX - (1 << 19)));
    CK_ENOMEM(ti_valloc(SIZE_MAX - 10));
    CK_ENOMEM(ti_pvalloc(SIZE_MAX - 10));
    void *q = (void *)&q;
    int err = ti_posix_memalign(&q, 64, SIZE_MAX - 32);
    ck_assert_msg(err == ENOMEM && q == (void *)&q, "ti_posix_memalign(&p, 64, SIZE_MAX - 32) returned "
                  "%d: it must return ENOMEM and leave *p alone", err);
    unsigned char *p = ti_malloc(200);
    ck_assert_msg(p != NULL, "ti_malloc(200) returned NULL");
    pattern_fill(p, 200, 3);
    CK_ENOMEM(ti_reallocarray(p, SIZE_MAX / 2, 3));
    CK_ENOMEM(ti_reallocarray(p, (size_t)1 << 40, (size_t)1 << 30));
    CK_ENOMEM(ti_realloc(p, SIZE_MAX));
    CK_ENOMEM(ti_realloc(p, SIZE_MAX - 8));
    ck_assert_pattern(p, 200, 3, "a block after ti_realloc and ti_reallocarray failed on it");
    ti_free(p);
#undef CK_ENOMEM
}

/* In one thread every count is exact: each request of up to TI_MAX_SMALL
 * bytes is a hit or a miss, and a miss takes a lock. */
ALAB_TEST(stats)
{
    ti_stats_t s0 = ti_get_stats();
    void *small[300], *large[2];
    for (int i = 0; i < 300; i++)
        small[i] = ti_malloc((size_t)(i % 30) * 70 + 1);
    large[0] = ti_malloc(5000);
    large[1] = ti_calloc(100, 100);
    ti_stats_t s1 = ti_get_stats();
    stats_delta_t d = stats_delta(s0, s1);
    ck_assert_msg(d.allocs == 302 && d.frees == 0 && d.in_use == 302, "after 301 ti_malloc and 1 "
                  "ti_calloc in one thread: expected alloc_count +302, free_count +0, in_use +302; got "
                  "%+ld, %+ld, %+ld", d.allocs, d.frees, d.in_use);
    ck_assert_msg(d.hits + d.misses == 300, "300 requests of at most %d bytes: cache_hits + "
                  "cache_misses must grow by 300 (each is a hit or a miss); got %+ld + %+ld",
                  TI_MAX_SMALL, d.hits, d.misses);
    ck_assert_msg(d.misses >= 1 && d.locks >= d.misses / 2 && d.locks >= 1, "the first requests of a "
                  "thread miss, and a miss takes a lock: got %+ld misses, %+ld locks", d.misses, d.locks);
    for (int i = 0; i < 150; i++)
        ti_free(small[i]);
    ti_free(large[0]);
    ti_free(NULL);
    d = stats_delta(s1, ti_get_stats());
    ck_assert_msg(d.allocs == 0 && d.frees == 151 && d.in_use == -151 && d.hits == 0 && d.misses == 0,
                  "after 151 ti_free and ti_free(NULL): expected alloc_count +0, free_count +151, "
                  "in_use -151, hits and misses +0; got %+ld, %+ld, %+ld, %+ld, %+ld", d.allocs,
                  d.frees, d.in_use, d.hits, d.misses);
    ti_stats_t s2 = ti_get_stats();
    void *m = ti_malloc(10), *moved = ti_realloc(m, 900), *a = ti_aligned_alloc(256, 100);
    d = stats_delta(s2, ti_get_stats());
    long want_allocs = 2 + (moved != m), want_frees = moved != m;
    ck_assert_msg(d.allocs == want_allocs && d.frees == want_frees, "ti_malloc, ti_realloc (which %s "
                  "the block) and ti_aligned_alloc: expected alloc_count +%ld, free_count +%ld; got "
                  "%+ld, %+ld", moved != m ? "moved" : "kept", want_allocs, want_frees, d.allocs, d.frees);
    ti_free(moved);
    ti_free(a);
    for (int i = 150; i < 300; i++)
        ti_free(small[i]);
    ti_free(large[1]);
    d = stats_delta(s0, ti_get_stats());
    ck_assert_msg(d.in_use == 0 && d.allocs == d.frees, "after freeing everything: expected in_use +0; "
                  "got %+ld (alloc_count %+ld, free_count %+ld)", d.in_use, d.allocs, d.frees);
}

/* ---- the tiers ---- */

/* Freeing 200 objects of a class leaves at most TI_CACHE_CAP in the cache. */
ALAB_TEST(bin_cap)
{
    static const size_t sizes[] = {64, 8, 2048, 100};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        void *held[200];
        for (int i = 0; i < 200; i++) {
            held[i] = ti_malloc(sizes[k]);
            ck_assert_msg(held[i] != NULL, "ti_malloc(%zu) returned NULL", sizes[k]);
        }
        for (int i = 0; i < 200; i++) {
            ti_free(held[i]);
            size_t n = ti_cached(sizes[k]);
            ck_assert_msg(n <= TI_CACHE_CAP, "after freeing %d objects of %zu bytes, ti_cached(%zu) is "
                          "%zu: a bin of the thread's cache holds at most %d; a full bin gives objects "
                          "back to tier 2", i + 1, class_for(sizes[k]), sizes[k], n, TI_CACHE_CAP);
        }
        ck_assert_heap("after a bin overflowed");
    }
}

/* Everything freed, the caches flushed: tier 3 is back to whole 1 MiB blocks. */
ALAB_TEST(coalesce)
{
    enum { N = 3000 };
    static void *held[N];
    uint64_t rng = 77;
    for (int i = 0; i < N; i++) {
        uint64_t r = rng_next(&rng);
        size_t size = r % 10 < 7 ? 1 + r % 2048 : r % 10 < 9 ? 2049 + (r >> 16) % 60000
                                                                : 65536 + (r >> 16) % 900000;
        held[i] = ti_malloc(size);
        ck_assert_msg(held[i] != NULL, "ti_malloc(%zu) returned NULL", size);
        memset(held[i], 1, size < 64 ? size : 64);
    }
    ti_pages_t mid = ti_get_pages();
    ck_assert_msg(mid.pages_total > mid.pages_free, "with %d blocks held, tier 3 says all of its %zu "
                  "pages are free (ti_get_pages)", N, mid.pages_total);
    ck_assert_heap("with 3000 blocks held");
    for (int i = 0; i < N; i += 2)
        ti_free(held[i]);
    ck_assert_heap("with half of the blocks freed");
    for (int i = 1; i < N; i += 2)
        ti_free(held[i]);
    ti_thread_flush();
    char buf[200];
    const char *why = pages_all_merged(buf, sizeof buf);
    ck_assert_msg(why == NULL, "every block was freed and the cache flushed, but %s: a slab whose "
                  "objects have all come back returns its pages, and a freed block merges with its "
                  "free buddy up to %d bytes", why, TI_MAX_LARGE);
    ck_assert_heap("after everything was freed");
}

/* The seed's targets: over 90 % hits on a steady mix of sizes. */
ALAB_TEST(hit_rate)
{
    enum { WINDOW = 100, OPS = 100000, WARMUP = 10000 };
    void *slot[WINDOW] = {0};
    uint64_t rng = 5;
    ti_stats_t s0 = ti_get_stats();
    long small = 0;
    for (int i = 0; i < OPS; i++) {
        if (i == WARMUP)
            s0 = ti_get_stats(), small = 0;
        uint64_t r = rng_next(&rng);
        size_t k = r % WINDOW, size = 1 + (r >> 16) % TI_MAX_SMALL;
        ti_free(slot[k]);
        slot[k] = ti_malloc(size);
        ck_assert(slot[k] != NULL);
        small++;
    }
    stats_delta_t d = stats_delta(s0, ti_get_stats());
    for (int k = 0; k < WINDOW; k++)
        ti_free(slot[k]);
    ck_assert_msg(d.hits + d.misses == small, "%ld requests of at most %d bytes, but cache_hits + "
                  "cache_misses grew by %ld: each request is a hit or a miss", small, TI_MAX_SMALL,
                  d.hits + d.misses);
    double rate = (double)d.hits / (double)small;
    ck_assert_msg(rate > 0.90, "a steady mix (a window of %d blocks of 1-%d bytes, one replaced per "
                  "step): %.1f %% of requests hit the thread's cache, the seed's target is above 90 %%; "
                  "refill and drain in batches", WINDOW, TI_MAX_SMALL, rate * 100);
}

/* The seed's cache-pollution recovery: 500 allocations without a free, all
 * freed, then 1000 more: over 80 % of those hit. */
ALAB_TEST(pollution)
{
    static void *held[1000];
    for (int i = 0; i < 500; i++)
        held[i] = ti_malloc(64);
    for (int i = 0; i < 500; i++)
        ti_free(held[i]);
    ti_stats_t s0 = ti_get_stats();
    for (int i = 0; i < 1000; i++) {
        held[i] = ti_malloc(64);
        ck_assert(held[i] != NULL);
    }
    stats_delta_t d = stats_delta(s0, ti_get_stats());
    for (int i = 0; i < 1000; i++)
        ti_free(held[i]);
    ck_assert_msg(d.hits + d.misses == 1000, "1000 requests of 64 bytes, but cache_hits + cache_misses "
                  "grew by %ld", d.hits + d.misses);
    ck_assert_msg(d.hits > 800, "after 500 allocations, all freed, 1000 more allocations of 64 bytes: "
                  "%ld hit the thread's cache, the seed's target is above 80 %%: a miss should bring "
                  "a batch of objects, not one", d.hits);
}

/* ---- threads ---- */

enum { MAX_HELD = 64 };

typedef struct {
    int id, ops;
    uint64_t rng;
    held_t held[MAX_HELD];
    int nheld;
    char err[256];
} worker_t;

__attribute__((format(printf, 2, 3))) static void worker_fail(worker_t *w, const char *fmt, ...)
{
    if (w->err[0] != '\0')
        return;
    int n = snprintf(w->err, sizeof w->err, "thread %d: ", w->id);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err + n, sizeof w->err - (size_t)n, fmt, ap);
    va_end(ap);
}

static size_t random_size(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    if (r % 100 < 4)
        return TI_MAX_SMALL + 1 + (size_t)(r >> 8) % 100000;
    return 1 + (size_t)(r >> 8) % TI_MAX_SMALL;
}

static void mix_step(worker_t *w, int step)
{
    uint64_t r = rng_next(&w->rng);
    int n = w->nheld;
    if (n == 0 || (n < MAX_HELD && r % 100 < 50)) {
        size_t size = random_size(&w->rng);
        void *p;
        unsigned kind = (unsigned)(r >> 8) % 20;
        if (kind == 0) {
            p = ti_calloc(1, size);
            for (size_t i = 0; p != NULL && i < size; i++)
                if (((unsigned char *)p)[i] != 0) {
                    worker_fail(w, "ti_calloc returned %p whose byte %zu is not 0", p, i);
                    break;
                }
        } else if (kind == 1) {
            size_t align = (size_t)32 << (r >> 16) % 8;
            p = NULL;
            if (ti_posix_memalign(&p, align, size) == 0 && (uintptr_t)p % align != 0)
                worker_fail(w, "ti_posix_memalign gave %p, not aligned to %zu", p, align);
        } else {
            p = ti_malloc(size);
        }
        if (p == NULL) {
            worker_fail(w, "an allocation of %zu bytes returned NULL", size);
            return;
        }
        uint32_t tag = (uint32_t)(w->id << 24 | step);
        pattern_fill(p, size, tag);
        w->held[w->nheld++] = (held_t){p, size, tag};
        return;
    }
    int k = (int)((r >> 8) % (uint64_t)n);
    held_t *h = &w->held[k];
    size_t at = pattern_check(h->p, h->size, h->tag);
    if (at != h->size)
        worker_fail(w, "block %p changed at byte %zu while this thread held it (%zu bytes): two "
                    "holders got overlapping memory", h->p, at, h->size);
    if (r % 100 < 30) {
        size_t size = random_size(&w->rng);
        void *q = ti_realloc(h->p, size);
        if (q == NULL) {
            worker_fail(w, "ti_realloc(%p, %zu) returned NULL", h->p, size);
            return;
        }
        size_t kept = size < h->size ? size : h->size;
        if ((at = pattern_check(q, kept, h->tag)) != kept)
            worker_fail(w, "ti_realloc to %p lost byte %zu of the %zu it had to keep", q, at, kept);
        h->tag ^= 0x5555u;
        pattern_fill(q, size, h->tag);
        h->p = q;
        h->size = size;
        return;
    }
    ti_free(h->p);
    *h = w->held[--w->nheld];
}

static void *mix_worker(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < w->ops && w->err[0] == '\0'; i++)
        mix_step(w, i);
    for (int i = 0; i < w->nheld; i++)
        ti_free(w->held[i].p);
    w->nheld = 0;
    return NULL;
}

ALAB_TEST(threads)
{
    enum { NT = 8 };
    static worker_t w[NT];
    void *args[NT];
    ti_stats_t s0 = ti_get_stats();
    for (int i = 0; i < NT; i++) {
        w[i] = (worker_t){.id = i, .ops = 30000 / OPS_DIVISOR, .rng = 1000 + (uint64_t)i};
        args[i] = &w[i];
    }
    run_threads(NT, mix_worker, args);
    for (int i = 0; i < NT; i++)
        ck_assert_msg(w[i].err[0] == '\0', "%s", w[i].err);
    stats_delta_t d = stats_delta(s0, ti_get_stats());
    ck_assert_msg(d.in_use == 0, "8 threads freed every block they allocated and exited, yet in_use "
                  "changed by %+ld", d.in_use);
    ck_assert_heap("after 8 threads mixed the whole family");
}

/* Producers allocate and fill; consumers check and free: every block is
 * freed by another thread than the one that allocated it. */
enum { XQ = 256 };
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    held_t q[XQ];
    int head, tail, producers_left;
} queue_t;
static queue_t queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0}}, 0, 0, 0};

static void *producer(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < w->ops; i++) {
        uint64_t r = rng_next(&w->rng);
        size_t size = r % 50 == 0 ? 2049 + (r >> 8) % 20000 : 1 + (r >> 8) % 512;
        void *p = ti_malloc(size);
        if (p == NULL) {
            worker_fail(w, "ti_malloc(%zu) returned NULL", size);
            break;
        }
        uint32_t tag = (uint32_t)(w->id << 24 | i);
        pattern_fill(p, size, tag);
        pthread_mutex_lock(&queue.lock);
        while (queue.tail - queue.head == XQ)
            pthread_cond_wait(&queue.cond, &queue.lock);
        queue.q[queue.tail++ % XQ] = (held_t){p, size, tag};
        pthread_cond_broadcast(&queue.cond);
        pthread_mutex_unlock(&queue.lock);
    }
    pthread_mutex_lock(&queue.lock);
    queue.producers_left--;
    pthread_cond_broadcast(&queue.cond);
    pthread_mutex_unlock(&queue.lock);
    return NULL;
}

static void *consumer(void *arg)
{
    worker_t *w = arg;
    for (;;) {
        pthread_mutex_lock(&queue.lock);
        while (queue.tail == queue.head && queue.producers_left > 0)
            pthread_cond_wait(&queue.cond, &queue.lock);
        if (queue.tail == queue.head) {
            pthread_mutex_unlock(&queue.lock);
            break;
        }
        held_t h = queue.q[queue.head++ % XQ];
        pthread_cond_broadcast(&queue.cond);
        pthread_mutex_unlock(&queue.lock);
        size_t at = pattern_check(h.p, h.size, h.tag);
        if (at != h.size)
            worker_fail(w, "a block handed over by another thread changed at byte %zu (%zu bytes)", at, h.size);
        /* keep a few, to free them later among the consumer's own */
        void *mine = ti_malloc(h.size % 300 + 1);
        memset(mine, 0x11, h.size % 300 + 1);
        ti_free(h.p);
        ti_free(mine);
    }
    return NULL;
}

static void *cross_role(void *arg)
{
    worker_t *w = arg;
    return w->id < 2 ? producer(arg) : consumer(arg);
}

ALAB_TEST(cross_thread)
{
    enum { NT = 4 };
    static worker_t w[NT];
    void *args[NT];
    ti_stats_t s0 = ti_get_stats();
    queue.producers_left = 2;
    for (int i = 0; i < NT; i++) {
        w[i] = (worker_t){.id = i, .ops = 40000 / OPS_DIVISOR, .rng = 77 + (uint64_t)i};
        args[i] = &w[i];
    }
    run_threads(NT, cross_role, args);
    for (int i = 0; i < NT; i++)
        ck_assert_msg(w[i].err[0] == '\0', "%s", w[i].err);
    stats_delta_t d = stats_delta(s0, ti_get_stats());
    ck_assert_msg(d.in_use == 0, "every block was freed by another thread and the threads exited, yet "
                  "in_use changed by %+ld", d.in_use);
    ti_thread_flush();
    char buf[200];
    const char *why = pages_all_merged(buf, sizeof buf);
    ck_assert_msg(why == NULL, "blocks freed by other threads than their makers, the threads gone: %s", why);
    ck_assert_heap("after blocks were freed across threads");
}

/* Threads allocate and free objects of every class, leaving them in their
 * caches, and exit: their caches must go back to tier 2. */
static void *exit_worker(void *arg)
{
    worker_t *w = arg;
    void *held[TI_NBINS][40];
    for (int round = 0; round < 3; round++) {
        for (int c = 0; c < TI_NBINS; c++)
            for (int i = 0; i < 40; i++)
                held[c][i] = ti_malloc(class_sizes[c]);
        for (int c = 0; c < TI_NBINS; c++)
            for (int i = 0; i < 40; i++)
                ti_free(held[c][i]);
    }
    if (ti_cached(class_sizes[w->id % TI_NBINS]) == 0)
        worker_fail(w, "after freeing 40 objects of %zu bytes, the thread's cache holds none of them "
                    "(ti_cached)", class_sizes[w->id % TI_NBINS]);
    return NULL;
}

ALAB_TEST(thread_exit)
{
    enum { NT = 4 };
    static worker_t w[NT];
    void *args[NT];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < NT; i++) {
            w[i] = (worker_t){.id = i};
            args[i] = &w[i];
        }
        run_threads(NT, exit_worker, args);
        for (int i = 0; i < NT; i++)
            ck_assert_msg(w[i].err[0] == '\0', "%s", w[i].err);
    }
    char buf[200];
    const char *why = pages_all_merged(buf, sizeof buf);
    ck_assert_msg(why == NULL, "8 threads freed every object they allocated and exited, but %s: a "
                  "thread's cache must go back to tier 2 when the thread ends", why);
    ck_assert_heap("after threads exited");
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex10-tiers");
    ALAB_ADD(s, basic, 10);
    ALAB_ADD(s, usable_size, 10);
    ALAB_ADD(s, calloc_zero, 10);
    ALAB_ADD(s, realloc_keeps, 10);
    ALAB_ADD(s, realloc_large, 10);
    ALAB_ADD(s, aligned, 10);
    ALAB_ADD(s, overflow, 10);
    ALAB_ADD(s, stats, 10);
    ALAB_ADD(s, bin_cap, 10);
    ALAB_ADD(s, coalesce, 10);
    ALAB_ADD(s, hit_rate, 10);
    ALAB_ADD(s, pollution, 10);
    ALAB_ADD(s, threads, 30);
    ALAB_ADD(s, cross_thread, 30);
    ALAB_ADD(s, thread_exit, 30);
    return s;
}

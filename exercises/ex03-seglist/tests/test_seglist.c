/* test_seglist.c — public tests of exercise 03 (segregated size classes).
 *
 * One test per case; the manifest (exercise.ini) gives each case its points and
 * the statement (README.md) the rule it checks. The program is linked with the
 * mmap spy (mmap_spy.c), so the tests see every mmap and munmap call seglist.c
 * makes, and a read or write past the end of a mapping crashes at once.
 * Every test starts in a fresh process, but reads counters as differences.
 */
#include "seglist_testlib.h"

/* The classes every allocator of this exercise has (rule 3). */
static const size_t base_classes[] = {64, 128, 256, 512, 1024};
#define NBASE (sizeof base_classes / sizeof base_classes[0])

/* ---- rules 1, 2: blocks ---- */

ALAB_TEST(basic)
{
    char *a = sl_malloc(100), *b = sl_malloc(100);
    ck_assert_msg(a != NULL && b != NULL, "sl_malloc(100) returned NULL");
    ck_assert_msg(a != b, "two sl_malloc(100) calls returned the same block %p", (void *)a);
    pattern_fill(a, 100, 1);
    pattern_fill(b, 100, 2);
    ck_assert_pattern(a, 100, 1, "two blocks of 100 bytes");
    ck_assert_pattern(b, 100, 2, "two blocks of 100 bytes");
    sl_free(a);
    ck_assert_pattern(b, 100, 2, "a block of 100 bytes, after sl_free of another one");
    sl_free(b);

    static const size_t sizes[] = {0, 1, 8, 24, 64, 200, 1000, 1024, 3000};
    enum { N = sizeof sizes / sizeof sizes[0] };
    void *held[N];
    for (size_t i = 0; i < N; i++) {
        held[i] = sl_malloc(sizes[i]);
        ck_assert_msg(held[i] != NULL, "sl_malloc(%zu) returned NULL%s", sizes[i],
                      sizes[i] == 0 ? ": sl_malloc(0) returns a unique pointer that sl_free "
                                      "accepts (rule 2)"
                                    : "");
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(held[j] != held[i], "sl_malloc(%zu) and sl_malloc(%zu) returned the same %p",
                          sizes[j], sizes[i], held[i]);
        pattern_fill(held[i], sizes[i], (uint32_t)i + 10);
    }
    for (size_t i = 0; i < N; i++) {
        char what[64];
        snprintf(what, sizeof what, "sl_malloc(%zu) among blocks of 0 to 3000 bytes", sizes[i]);
        ck_assert_pattern(held[i], sizes[i], (uint32_t)i + 10, what);
    }
    for (size_t i = 0; i < N; i++)
        sl_free(held[i]);
    void *again = sl_malloc(100);
    ck_assert_msg(again != NULL, "sl_malloc(100) returned NULL after every block was freed");
    sl_free(again);
}

ALAB_TEST(alignment)
{
    enum { HELD = 3 };
    for (size_t size = 0; size <= 1100; size++) {
        void *held[HELD];
        for (int k = 0; k < HELD; k++) {
            held[k] = sl_malloc(size);
            require(held[k] != NULL, "sl_malloc(%zu) returned NULL%s", size,
                    size == 0 ? ": sl_malloc(0) returns a unique pointer (rule 2)" : "");
            char what[48];
            snprintf(what, sizeof what, "sl_malloc(%zu)", size);
            ck_assert_aligned(held[k], what);
        }
        for (int k = 0; k < HELD; k++)
            sl_free(held[k]);
    }
    static const size_t large[] = {2000, 4096, 5000, 100000, 1 << 20};
    for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
        void *p = sl_malloc(large[i]);
        ck_assert_msg(p != NULL, "sl_malloc(%zu) returned NULL", large[i]);
        char what[48];
        snprintf(what, sizeof what, "sl_malloc(%zu)", large[i]);
        ck_assert_aligned(p, what);
        sl_free(p);
    }
    void *c = sl_calloc(3, 7), *r = sl_malloc(10);
    ck_assert_aligned(c, "sl_calloc(3, 7)");
    r = sl_realloc(r, 300);
    ck_assert_aligned(r, "sl_realloc(p, 300)");
    r = sl_reallocarray(r, 40, 50);
    ck_assert_aligned(r, "sl_reallocarray(p, 40, 50)");
    sl_free(c);
    sl_free(r);
}

/* ---- rule 3: size classes ---- */

ALAB_TEST(classes)
{
    /* Two blocks of every size from 1 to SL_MAX_SMALL, all held at once, each
     * filled to its last byte. */
    enum { ROUNDS = 2, N = ROUNDS * SL_MAX_SMALL };
    static void *held[N];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            size_t size = (size_t)(i % SL_MAX_SMALL) + 1;
            held[i] = sl_malloc(size);
            require(held[i] != NULL, "sl_malloc(%zu) returned NULL", size);
            pattern_fill(held[i], size, (uint32_t)(i + round * N));
        }
        for (int i = 0; i < N; i++) {
            size_t size = (size_t)(i % SL_MAX_SMALL) + 1;
            char what[112];
            snprintf(what, sizeof what, "sl_malloc(%zu), %s, with two blocks of each size 1..%d held",
                     size, round == 0 ? "fresh" : "recycled", SL_MAX_SMALL);
            ck_assert_pattern(held[i], size, (uint32_t)(i + round * N), what);
        }
        /* every other block first, so that the lists are not in address order */
        for (int i = 0; i < N; i += 2)
            sl_free(held[i]);
        for (int i = 1; i < N; i += 2)
            sl_free(held[i]);
    }
}

ALAB_TEST(boundaries)
{
    void *keep[2 * NBASE];
    int nkeep = 0;
    for (size_t k = 0; k + 1 < NBASE; k++) {
        size_t c = base_classes[k];
        /* a block of c + 1 bytes belongs to a larger class than c: given back,
         * it must not serve a request of c bytes, and must serve one of c + 1 */
        void *p = sl_malloc(c + 1);
        ck_assert_msg(p != NULL, "sl_malloc(%zu) returned NULL", c + 1);
        sl_free(p);
        snap_t s0 = snap();
        void *q = sl_malloc(c);
        snap_t s1 = snap();
        ck_assert_msg(q != NULL, "sl_malloc(%zu) returned NULL", c);
        ck_assert_msg(q != p,
                      "a request of %zu bytes was served by the freed block of a sl_malloc(%zu): "
                      "%zu is a class of its own, so a request of exactly %zu bytes belongs to "
                      "it, and one of %zu bytes to a larger class",
                      c, c + 1, c, c, c + 1);
        ck_assert_msg(D(s0, s1, sl.recycled) == 0,
                      "sl_malloc(%zu), while the only free block was one of %zu bytes, counted "
                      "%zu recycled blocks: either that block served the request (%zu and %zu "
                      "bytes belong to different classes), or recycled counted a block that came "
                      "from no free list",
                      c, c + 1, D(s0, s1, sl.recycled), c, c + 1);
        void *r = sl_malloc(c + 1);
        snap_t s2 = snap();
        ck_assert_msg(D(s1, s2, sl.recycled) == 1,
                      "sl_malloc(%zu) right after sl_free of a block of %zu bytes did not take it "
                      "from its class's free list (recycled went up by %zu, not 1)",
                      c + 1, c + 1, D(s1, s2, sl.recycled));
        keep[nkeep++] = q;
        keep[nkeep++] = r;
    }
    /* the largest class: 1024 bytes stay in a class, 1025 get a mapping */
    snap_t s0 = snap();
    void *p = sl_malloc(SL_MAX_SMALL);
    ck_assert_msg(p != NULL, "sl_malloc(%d) returned NULL", SL_MAX_SMALL);
    pattern_fill(p, SL_MAX_SMALL, 7);
    ck_assert_pattern(p, SL_MAX_SMALL, 7, "sl_malloc(1024)");
    sl_free(p);
    snap_t s1 = snap();
    ck_assert_msg(D(s0, s1, spy.munmap_calls) == 0,
                  "sl_free of a block of %d bytes called munmap: %d is the largest class, and "
                  "class blocks go back to their free list (rule 4)",
                  SL_MAX_SMALL, SL_MAX_SMALL);
    p = sl_malloc(SL_MAX_SMALL + 1);
    snap_t s2 = snap();
    ck_assert_msg(p != NULL, "sl_malloc(%d) returned NULL", SL_MAX_SMALL + 1);
    ck_assert_msg(D(s1, s2, spy.mmap_calls) == 1 && D(s1, s2, sl.recycled) == 0,
                  "sl_malloc(%d) called mmap %zu times and recycled %zu blocks: a request above "
                  "the largest class gets a mapping of its own (rule 5)",
                  SL_MAX_SMALL + 1, D(s1, s2, spy.mmap_calls), D(s1, s2, sl.recycled));
    sl_free(p);
    snap_t s3 = snap();
    ck_assert_msg(D(s2, s3, spy.munmap_calls) == 1,
                  "sl_free of a block of %d bytes called munmap %zu times, not once (rule 5)",
                  SL_MAX_SMALL + 1, D(s2, s3, spy.munmap_calls));
    for (int i = 0; i < nkeep; i++)
        sl_free(keep[i]);
}

/* ---- rule 4: chunks ---- */

ALAB_TEST(chunks)
{
    static const struct {
        size_t size;
        int n;
    } runs[] = {{64, 2000}, {1020, 500}};
    static void *held[2000];
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        snap_t s0 = snap();
        for (int i = 0; i < runs[r].n; i++) {
            held[i] = sl_malloc(runs[r].size);
            require(held[i] != NULL, "sl_malloc(%zu) returned NULL", runs[r].size);
        }
        snap_t s1 = snap();
        size_t most = (size_t)runs[r].n / 32 + 1;
        ck_assert_msg(D(s0, s1, spy.mmap_calls) <= most,
                      "%d calls of sl_malloc(%zu) made %zu mmap calls: a class must carve many "
                      "blocks from each mapping, at least 32 (rule 4), so at most %zu calls",
                      runs[r].n, runs[r].size, D(s0, s1, spy.mmap_calls), most);
        for (int i = 0; i < runs[r].n; i++)
            sl_free(held[i]);
        snap_t s2 = snap();
        ck_assert_msg(D(s1, s2, spy.munmap_calls) == 0,
                      "freeing %d blocks of %zu bytes called munmap %zu times: the chunks of "
                      "the classes stay mapped (rule 4)",
                      runs[r].n, runs[r].size, D(s1, s2, spy.munmap_calls));
    }
}

/* ---- rule 5: large blocks ---- */

ALAB_TEST(large)
{
    static const size_t sizes[] = {SL_MAX_SMALL + 1, 4096, 100000, 1 << 20, 10 << 20};
    enum { N = sizeof sizes / sizeof sizes[0] };
    void *held[N];
    size_t before[N];
    for (size_t i = 0; i < N; i++) {
        snap_t s0 = snap();
        held[i] = sl_malloc(sizes[i]);
        snap_t s1 = snap();
        ck_assert_msg(held[i] != NULL, "sl_malloc(%zu) returned NULL", sizes[i]);
        ck_assert_msg(D(s0, s1, spy.mmap_calls) == 1 && D(s0, s1, spy.munmap_calls) == 0,
                      "sl_malloc(%zu) called mmap %zu times and munmap %zu times: a large "
                      "request gets exactly one mapping of its own (rule 5)",
                      sizes[i], D(s0, s1, spy.mmap_calls), D(s0, s1, spy.munmap_calls));
        size_t got = D(s0, s1, spy.mapped);
        ck_assert_msg(got >= sizes[i] && got <= sizes[i] + 8192,
                      "sl_malloc(%zu) mapped %zu bytes: a large block's mapping holds the "
                      "request and its header, rounded up to pages (rule 5)",
                      sizes[i], got);
        before[i] = s0.spy.mapped;
        pattern_fill(held[i], sizes[i], (uint32_t)i);
    }
    for (size_t i = 0; i < N; i++) {
        char what[64];
        snprintf(what, sizeof what, "sl_malloc(%zu) among 5 large blocks", sizes[i]);
        ck_assert_pattern(held[i], sizes[i], (uint32_t)i, what);
    }
    for (size_t k = N; k-- > 0;) { /* newest first: the footprint goes back step by step */
        snap_t s0 = snap();
        sl_free(held[k]);
        snap_t s1 = snap();
        ck_assert_msg(D(s0, s1, spy.munmap_calls) == 1 && D(s0, s1, spy.mmap_calls) == 0,
                      "sl_free of a block of %zu bytes called munmap %zu times and mmap %zu "
                      "times: a large block's mapping goes back to the system at once (rule 5)",
                      sizes[k], D(s0, s1, spy.munmap_calls), D(s0, s1, spy.mmap_calls));
        ck_assert_msg(s1.spy.mapped == before[k] && s1.spy.foreign_munmaps == s0.spy.foreign_munmaps,
                      "sl_free of a block of %zu bytes left %zd bytes mapped: munmap must get "
                      "the address and length that mmap gave",
                      sizes[k], (ssize_t)(s1.spy.mapped - before[k]));
    }
    /* a large block is never reused */
    void *p = sl_malloc(5000);
    sl_free(p);
    snap_t s0 = snap();
    p = sl_malloc(5000);
    snap_t s1 = snap();
    ck_assert_msg(D(s0, s1, spy.mmap_calls) == 1 && D(s0, s1, sl.recycled) == 0,
                  "sl_malloc(5000) after sl_free of a block of 5000 bytes: mmap %zu calls, "
                  "recycled %zu; large blocks are mapped afresh every time (rule 5)",
                  D(s0, s1, spy.mmap_calls), D(s0, s1, sl.recycled));
    sl_free(p);
}

/* ---- rule 6: calloc ---- */

static bool all_zero(const void *p, size_t n, size_t *at)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0) {
            *at = i;
            return false;
        }
    return true;
}

ALAB_TEST(calloc_zeroes)
{
    size_t at = 0;
    /* blocks used and given back first: calloc must clear recycled blocks */
    for (size_t size = 1; size <= SL_MAX_SMALL; size += 7) {
        void *dirty = sl_malloc(size);
        ck_assert_msg(dirty != NULL, "sl_malloc(%zu) returned NULL", size);
        memset(dirty, 0xa5, size);
        sl_free(dirty);
        unsigned char *p = sl_calloc(1, size);
        ck_assert_msg(p != NULL, "sl_calloc(1, %zu) returned NULL", size);
        ck_assert_msg(all_zero(p, size, &at),
                      "sl_calloc(1, %zu) returned a block whose byte %zu is 0x%02x, not 0 "
                      "(it had been used and freed before: a recycled block must be cleared)",
                      size, at, p[at]);
        sl_free(p);
    }
    static const struct {
        size_t n, size;
    } arrays[] = {{10, 10}, {3, 100}, {128, 8}, {1, 5000}, {1000, 1000}, {4, 1 << 18}};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        size_t n = arrays[i].n, size = arrays[i].size;
        unsigned char *p = sl_calloc(n, size);
        ck_assert_msg(p != NULL, "sl_calloc(%zu, %zu) returned NULL", n, size);
        ck_assert_msg(all_zero(p, n * size, &at), "sl_calloc(%zu, %zu): byte %zu is 0x%02x, not 0",
                      n, size, at, p[at]);
        memset(p, 0x5a, n * size);
        sl_free(p);
    }
    void *z = sl_calloc(0, 16);
    ck_assert_msg(z != NULL, "sl_calloc(0, 16) returned NULL: like sl_malloc(0), it returns a "
                             "unique pointer (rule 2)");
    sl_free(z);
}

/* ---- rules 6, 8, 10: overflow and failure ---- */

#define ck_assert_enomem(call, p, what)                                                       \
    ck_assert_msg((p) == NULL && errno == ENOMEM,                                             \
                  "%s returned %p with errno %d (%s): %s, so it must return NULL with errno " \
                  "ENOMEM",                                                                   \
                  call, (void *)(p), errno, errno == ENOMEM ? "ENOMEM" : "not ENOMEM", what)

ALAB_TEST(overflow)
{
    snap_t s0 = snap();
    void *p;
    static const struct {
        size_t n, size;
        const char *text;
    } over[] = {
        {(size_t)1 << 32, (size_t)1 << 32, "sl_calloc(1 << 32, 1 << 32)"},
        {SIZE_MAX / 2 + 2, 2, "sl_calloc(SIZE_MAX / 2 + 2, 2)"},
        {SIZE_MAX, SIZE_MAX, "sl_calloc(SIZE_MAX, SIZE_MAX)"},
        {3, SIZE_MAX / 3 + 1, "sl_calloc(3, SIZE_MAX / 3 + 1)"},
    };
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        errno = 0;
        p = sl_calloc(over[i].n, over[i].size);
        ck_assert_enomem(over[i].text, p, "the product overflows a size_t");
    }
    errno = 0;
    p = sl_reallocarray(NULL, (size_t)1 << 32, (size_t)1 << 32);
    ck_assert_enomem("sl_reallocarray(NULL, 1 << 32, 1 << 32)", p, "the product overflows a size_t");

    char *keep = sl_malloc(100);
    ck_assert_msg(keep != NULL, "sl_malloc(100) returned NULL");
    pattern_fill(keep, 100, 42);
    errno = 0;
    p = sl_reallocarray(keep, SIZE_MAX / 8, 16);
    ck_assert_enomem("sl_reallocarray(p, SIZE_MAX / 8, 16)", p, "the product overflows a size_t");
    ck_assert_pattern(keep, 100, 42, "the block given to a sl_reallocarray that overflowed");

    static const struct {
        size_t size;
        const char *text;
    } huge[] = {
        {SIZE_MAX, "sl_malloc(SIZE_MAX)"},
        {SIZE_MAX - 8, "sl_malloc(SIZE_MAX - 8)"},
        {SIZE_MAX - 4096, "sl_malloc(SIZE_MAX - 4096)"},
        {SIZE_MAX / 2, "sl_malloc(SIZE_MAX / 2)"},
    };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        errno = 0;
        p = sl_malloc(huge[i].size);
        ck_assert_enomem(huge[i].text, p,
                         "no system has that much memory (and adding a header to it overflows)");
    }
    errno = 0;
    p = sl_realloc(keep, SIZE_MAX - 8);
    ck_assert_enomem("sl_realloc(p, SIZE_MAX - 8)", p, "no system has that much memory");
    ck_assert_pattern(keep, 100, 42, "the block given to a sl_realloc that failed");
    sl_free(keep);
    snap_t s1 = snap();
    ck_assert_msg(D(s0, s1, spy.munmap_calls) == 0 && s1.spy.foreign_munmaps == s0.spy.foreign_munmaps,
                  "requests that failed called munmap %zu times", D(s0, s1, spy.munmap_calls));
}

/* ---- rule 7: realloc ---- */

ALAB_TEST(realloc_bytes)
{
    /* grow from 10 bytes through every kind of block, then shrink back */
    static const size_t steps[] = {10,   20,   50,    100,    200,     500,      1000, 1024,
                                   1025, 5000, 70000, 100000, 1 << 20, 3 << 20,  100000, 5000,
                                   1025, 1024, 700,   64,     16,      1};
    enum { N = sizeof steps / sizeof steps[0] };
    char *p = sl_realloc(NULL, steps[0]);
    ck_assert_msg(p != NULL, "sl_realloc(NULL, %zu) returned NULL", steps[0]);
    pattern_fill(p, steps[0], 1);
    for (size_t i = 1; i < N; i++) {
        size_t old = steps[i - 1], size = steps[i], kept = old < size ? old : size;
        p = sl_realloc(p, size);
        ck_assert_msg(p != NULL, "sl_realloc(p, %zu) returned NULL", size);
        char what[96];
        snprintf(what, sizeof what, "sl_realloc from %zu to %zu bytes (the first %zu must be kept)",
                 old, size, kept);
        ck_assert_pattern(p, kept, 1, what);
        pattern_fill(p, size, 1);
    }
    sl_free(p);

    /* in place: the same class, or a large block that still fits its mapping */
    static const size_t same[][2] = {{49, 64}, {64, 49}, {1009, 1024}, {5000, 6000}, {6000, 4000},
                                     {5000, 5000}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        p = sl_malloc(same[i][0]);
        pattern_fill(p, same[i][0], 9);
        snap_t s0 = snap();
        char *q = sl_realloc(p, same[i][1]);
        snap_t s1 = snap();
        ck_assert_msg(q == p && D(s0, s1, spy.mmap_calls) == 0 && D(s0, s1, spy.munmap_calls) == 0,
                      "sl_realloc of a block of %zu bytes to %zu moved it (or mapped memory): "
                      "%s, so the block must stay where it is (rule 7)",
                      same[i][0], same[i][1],
                      same[i][0] > SL_MAX_SMALL ? "a large block keeps its mapping while the "
                                                  "new size fits in it"
                                                : "both sizes belong to the same class");
        size_t kept = same[i][0] < same[i][1] ? same[i][0] : same[i][1];
        ck_assert_pattern(q, kept, 9, "a block resized in place");
        sl_free(q);
    }

    /* shrinking copies only what the new block holds: its neighbours stay intact */
    enum { NB = 16 };
    void *nb[NB];
    for (int i = 0; i < NB; i++) {
        nb[i] = sl_malloc(64);
        pattern_fill(nb[i], 64, 100 + (uint32_t)i);
    }
    sl_free(nb[NB / 2]); /* the shrunk block will most likely land here */
    char *big = sl_malloc(SL_MAX_SMALL);
    pattern_fill(big, SL_MAX_SMALL, 5);
    big = sl_realloc(big, 64);
    ck_assert_msg(big != NULL, "sl_realloc(p, 64) returned NULL");
    ck_assert_pattern(big, 64, 5, "sl_realloc from 1024 to 64 bytes");
    for (int i = 0; i < NB; i++)
        if (i != NB / 2)
            ck_assert_pattern(nb[i], 64, 100 + (uint32_t)i,
                              "a block of 64 bytes beside one shrunk by sl_realloc from 1024 to 64");
    sl_free(big);
    for (int i = 0; i < NB; i++)
        if (i != NB / 2)
            sl_free(nb[i]);

    /* large to larger than its mapping: a new mapping, the old one unmapped */
    p = sl_malloc(100000);
    pattern_fill(p, 100000, 3);
    snap_t s0 = snap();
    p = sl_realloc(p, 300000);
    snap_t s1 = snap();
    ck_assert_msg(p != NULL, "sl_realloc(p, 300000) returned NULL");
    ck_assert_pattern(p, 100000, 3, "sl_realloc from 100000 to 300000 bytes");
    ck_assert_msg(D(s0, s1, spy.mmap_calls) == 1 && D(s0, s1, spy.munmap_calls) == 1,
                  "sl_realloc of a large block past its mapping called mmap %zu times and munmap "
                  "%zu times: it needs a new mapping and gives the old one back",
                  D(s0, s1, spy.mmap_calls), D(s0, s1, spy.munmap_calls));
    /* large to small: into a class, the mapping unmapped */
    p = sl_realloc(p, 100);
    snap_t s2 = snap();
    ck_assert_msg(p != NULL, "sl_realloc(p, 100) returned NULL");
    ck_assert_pattern(p, 100, 3, "sl_realloc from 300000 to 100 bytes");
    ck_assert_msg(D(s1, s2, spy.munmap_calls) == 1,
                  "sl_realloc of a large block to 100 bytes called munmap %zu times: the block "
                  "moves into a class and its mapping goes back (rule 7)",
                  D(s1, s2, spy.munmap_calls));
    /* size 0 frees */
    char *r = sl_realloc(p, 0);
    snap_t s3 = snap();
    ck_assert_msg(r == NULL, "sl_realloc(p, 0) returned %p, not NULL (rule 7)", (void *)r);
    void *again = sl_malloc(100);
    snap_t s4 = snap();
    ck_assert_msg(D(s3, s4, sl.recycled) == 1,
                  "sl_realloc(p, 0) of a block of 100 bytes must free it, so the next "
                  "sl_malloc(100) recycles it; recycled went up by %zu",
                  D(s3, s4, sl.recycled));
    sl_free(again);
    p = sl_malloc(50000);
    s0 = snap();
    r = sl_realloc(p, 0);
    s1 = snap();
    ck_assert_msg(r == NULL && D(s0, s1, spy.munmap_calls) == 1,
                  "sl_realloc(p, 0) of a large block returned %p and called munmap %zu times: "
                  "it frees the block (rule 7)",
                  (void *)r, D(s0, s1, spy.munmap_calls));
}

/* ---- rule 9: sl_free(NULL) ---- */

ALAB_TEST(free_null)
{
    void *p = sl_malloc(32);
    snap_t s0 = snap();
    sl_free(NULL);
    sl_free(NULL);
    snap_t s1 = snap();
    ck_assert_msg(D(s0, s1, sl.free_calls) == 2 && D(s0, s1, sl.recycled) == 0 &&
                      D(s0, s1, spy.mmap_calls) == 0 && D(s0, s1, spy.munmap_calls) == 0,
                  "two sl_free(NULL) calls: expected free_calls +2 and nothing else; got "
                  "free_calls +%zu, recycled +%zu, mmap +%zu, munmap +%zu",
                  D(s0, s1, sl.free_calls), D(s0, s1, sl.recycled), D(s0, s1, spy.mmap_calls),
                  D(s0, s1, spy.munmap_calls));
    sl_free(p);
    void *q = sl_malloc(32), *r = sl_malloc(32);
    ck_assert_msg(q != NULL && r != NULL && q != r,
                  "after sl_free(NULL), two sl_malloc(32) returned %p and %p", q, r);
    sl_free(q);
    sl_free(r);
}

/* ---- rule 11: statistics ---- */

#define ck_assert_calls(a, b, m, c, r, ra, f, when)                                           \
    ck_assert_msg(D(a, b, sl.malloc_calls) == (m) && D(a, b, sl.calloc_calls) == (c) &&       \
                      D(a, b, sl.realloc_calls) == (r) &&                                     \
                      D(a, b, sl.reallocarray_calls) == (ra) && D(a, b, sl.free_calls) == (f), \
                  "%s: expected malloc %d, calloc %d, realloc %d, reallocarray %d, free %d "  \
                  "calls; sl_get_stats counted %zu, %zu, %zu, %zu, %zu",                      \
                  (when), (m), (c), (r), (ra), (f), D(a, b, sl.malloc_calls),                 \
                  D(a, b, sl.calloc_calls), D(a, b, sl.realloc_calls),                        \
                  D(a, b, sl.reallocarray_calls), D(a, b, sl.free_calls))

ALAB_TEST(stats)
{
    snap_t s0 = snap();
    void *a = sl_malloc(10), *b = sl_malloc(0), *c = sl_malloc(5000);
    errno = 0;
    void *fail = sl_malloc(SIZE_MAX);
    ck_assert_msg(fail == NULL, "sl_malloc(SIZE_MAX) returned %p", fail);
    snap_t s1 = snap();
    ck_assert_calls(s0, s1, 4, 0, 0, 0, 0, "after 4 sl_malloc (one of them failing)");
    void *d = sl_calloc(4, 25), *e = sl_calloc(1, 3000);
    fail = sl_calloc(SIZE_MAX, 16);
    snap_t s2 = snap();
    ck_assert_calls(s1, s2, 0, 3, 0, 0, 0,
                    "after 3 sl_calloc (one overflowing): a calloc is no malloc call, whatever "
                    "calloc calls inside");
    void *f = sl_realloc(NULL, 40);
    a = sl_realloc(a, 300);
    c = sl_realloc(c, 20);
    fail = sl_realloc(f, SIZE_MAX - 64);
    snap_t s3 = snap();
    ck_assert_calls(s2, s3, 0, 0, 4, 0, 0,
                    "after 4 sl_realloc (from NULL, growing, shrinking, failing): none of them "
                    "is a malloc or free call");
    f = sl_reallocarray(f, 10, 10);
    fail = sl_reallocarray(f, SIZE_MAX / 4, 8);
    void *g = sl_reallocarray(NULL, 3, 3);
    snap_t s4 = snap();
    ck_assert_calls(s3, s4, 0, 0, 0, 3, 0,
                    "after 3 sl_reallocarray: a reallocarray is no realloc call");
    void *all[] = {a, b, c, d, e, f, g, NULL};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sl_free(all[i]);
    void *h = sl_malloc(8);
    h = sl_realloc(h, 0);
    snap_t s5 = snap();
    ck_assert_calls(s4, s5, 1, 0, 1, 0, 8,
                    "after 8 sl_free (one of NULL), one sl_malloc and a sl_realloc(p, 0): a "
                    "realloc that frees is no free call");
    ck_assert_honest(s0, s5, "over the whole test");
}

ALAB_TEST(stats_mmap)
{
    /* a random mix whose mappings come and go: large blocks, chunks, reallocs */
    enum { SLOTS = 300, OPS = 20000 };
    static void *slot[SLOTS];
    uint64_t rng = 0x5eed03;
    snap_t s0 = snap(), last = s0;
    for (int i = 0; i < OPS; i++) {
        size_t k = rng_next(&rng) % SLOTS;
        uint64_t x = rng_next(&rng);
        size_t size = x % 100 < 5 ? SL_MAX_SMALL + 1 + (size_t)(x >> 8) % 200000 : (size_t)(x >> 8) % SL_MAX_SMALL + 1;
        if (slot[k] == NULL) {
            slot[k] = (x >> 40) % 4 == 0 ? sl_calloc(1, size) : sl_malloc(size);
            require(slot[k] != NULL, "sl_malloc or sl_calloc of %zu bytes returned NULL", size);
            ((char *)slot[k])[0] = 1;
        } else if ((x >> 40) % 3 == 0) {
            slot[k] = sl_realloc(slot[k], size);
            require(slot[k] != NULL, "sl_realloc to %zu bytes returned NULL", size);
            ((char *)slot[k])[0] = 1;
        } else {
            sl_free(slot[k]);
            slot[k] = NULL;
        }
        if (i % 500 == 499) {
            snap_t now = snap();
            char when[64];
            snprintf(when, sizeof when, "operations %d to %d of a random mix", i - 499, i);
            ck_assert_honest(last, now, when);
            last = now;
        }
    }
    for (int k = 0; k < SLOTS; k++)
        sl_free(slot[k]);
    snap_t s1 = snap();
    ck_assert_msg(D(s0, s1, spy.mmap_calls) > 0, "20000 random operations made no mmap call");
    ck_assert_honest(s0, s1, "20000 random operations, then freeing every block");
    ck_assert_msg(s1.spy.foreign_munmaps == s0.spy.foreign_munmaps,
                  "munmap was called %zu times on ranges that no mmap call returned",
                  s1.spy.foreign_munmaps - s0.spy.foreign_munmaps);
}

/* ---- rule 4: recycling ---- */

#define ck_assert_recycled(a, b, want, when)                                                  \
    ck_assert_msg(D(a, b, sl.recycled) == (size_t)(want),                                     \
                  "%s: recycled went up by %zu, expected %zu", (when), D(a, b, sl.recycled),  \
                  (size_t)(want))

ALAB_TEST(recycling)
{
    enum { N = 100 };
    void *h64[N], *h128[N];
    snap_t s0 = snap();
    for (int i = 0; i < N; i++)
        h64[i] = sl_malloc(64);
    snap_t s1 = snap();
    ck_assert_recycled(s0, s1, 0, "100 sl_malloc(64) in a fresh allocator (no block was freed yet)");
    for (int i = 0; i < N; i++)
        sl_free(h64[i]);
    for (int i = 0; i < N; i++)
        h64[i] = sl_malloc(64);
    snap_t s2 = snap();
    ck_assert_recycled(s1, s2,
                       N, "100 sl_malloc(64) after freeing 100 blocks of 64 bytes (each must "
                          "come from the free list)");
    ck_assert_msg(D(s1, s2, spy.mmap_calls) == 0,
                  "100 sl_malloc(64) with 100 free blocks of that class called mmap %zu times",
                  D(s1, s2, spy.mmap_calls));
    void *more = sl_malloc(64);
    snap_t s3 = snap();
    ck_assert_recycled(s2, s3, 0, "one more sl_malloc(64) with an empty free list");

    /* blocks of another class do not serve */
    for (int i = 0; i < N; i++)
        h128[i] = sl_malloc(128);
    for (int i = 0; i < N / 2; i++)
        sl_free(h128[i]);
    snap_t s4 = snap();
    void *x = sl_malloc(64);
    snap_t s5 = snap();
    ck_assert_recycled(s4, s5, 0, "sl_malloc(64) with only blocks of 128 bytes free");
    for (int i = 0; i < N / 2; i++)
        h128[i] = sl_calloc(1, 128);
    snap_t s6 = snap();
    ck_assert_recycled(s5, s6, N / 2, "50 sl_calloc(1, 128) after freeing 50 blocks of 128 bytes");

    /* realloc that moves into a class with a free block takes it */
    void *y = sl_malloc(256);
    sl_free(y);
    void *z = sl_malloc(64);
    snap_t s7 = snap();
    z = sl_realloc(z, 256);
    snap_t s8 = snap();
    ck_assert_recycled(s7, s8, 1, "sl_realloc from 64 to 256 bytes with a free block of 256");
    /* resizing in place takes nothing */
    z = sl_realloc(z, 250);
    snap_t s9 = snap();
    ck_assert_recycled(s8, s9, 0, "sl_realloc from 256 to 250 bytes (in place)");
    for (int i = 0; i < N; i++) {
        sl_free(h64[i]);
        sl_free(h128[i]);
    }
    sl_free(more);
    sl_free(x);
    sl_free(z);
}

/* ---- bonus: finer classes ---- */

/* Bytes mapped while n blocks of size bytes are held. */
static size_t footprint_of(size_t size, size_t n, void **held)
{
    snap_t s0 = snap();
    for (size_t i = 0; i < n; i++) {
        held[i] = sl_malloc(size);
        require(held[i] != NULL, "sl_malloc(%zu) returned NULL", size);
    }
    snap_t s1 = snap();
    return D(s0, s1, spy.mapped);
}

ALAB_TEST(fine_classes)
{
    /* each pair: a request well inside a base class, and that class's size */
    static const size_t pairs[][2] = {{24, 64}, {80, 128}, {160, 256}, {320, 512}, {640, 1024}};
    enum { BYTES = 8 << 20 };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        size_t small = pairs[i][0], base = pairs[i][1], n = BYTES / (base + 16);
        void **held = calloc(2 * n, sizeof *held);
        size_t fs = footprint_of(small, n, held), fb = footprint_of(base, n, held + n);
        ck_assert_msg(fs * 100 <= fb * 85,
                      "%zu blocks of %zu bytes took %zu KiB of mappings, as many blocks of %zu "
                      "bytes %zu KiB: a request of %zu bytes costs %.0f%% of one of %zu, more "
                      "than 85%%; a finer class between %zu and %zu would cut that",
                      n, small, fs >> 10, base, fb >> 10, small, 100.0 * (double)fs / (double)fb,
                      base, base / 2, base);
        for (size_t k = 0; k < 2 * n; k++)
            sl_free(held[k]);
        free(held);
    }
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("seglist");
    ALAB_ADD(s, basic, 10);
    ALAB_ADD(s, alignment, 10);
    ALAB_ADD(s, classes, 10);
    ALAB_ADD(s, boundaries, 10);
    ALAB_ADD(s, chunks, 10);
    ALAB_ADD(s, large, 10);
    ALAB_ADD(s, calloc_zeroes, 10);
    ALAB_ADD(s, overflow, 10);
    ALAB_ADD(s, realloc_bytes, 10);
    ALAB_ADD(s, free_null, 10);
    ALAB_ADD(s, stats, 10);
    ALAB_ADD(s, stats_mmap, 20);
    ALAB_ADD(s, recycling, 10);
    ALAB_ADD(s, fine_classes, 20);
    return s;
}

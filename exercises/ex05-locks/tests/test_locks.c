/* test_locks.c — public tests of exercise 05 (the thread-safe malloc family).
 *
 * One test per case; the manifest (exercise.ini) gives each case its points.
 * The allocator is global, so every test compares statistics before and after
 * (stats_delta). Worker threads never call ck_assert: they write what went
 * wrong into their argument and the main thread asserts. The concurrent tests
 * run once with LK_ONE_LOCK and once with LK_PER_CLASS.
 */
#include "locks_testlib.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 8

static const lk_locking_t modes[] = {LK_ONE_LOCK, LK_PER_CLASS};

static void set_locking(lk_locking_t how)
{
    ck_assert_msg(lk_set_locking(how) == 0, "lk_set_locking(%s) failed", locking_name(how));
    ck_assert_msg(lk_get_locking() == how, "lk_get_locking() is %d right after lk_set_locking(%s)",
                  (int)lk_get_locking(), locking_name(how));
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- single-threaded ---- */

static const size_t basic_sizes[] = {0,   1,    8,    15,   16,   63,   64,    65,     100,
                                     128, 129,  200,  256,  300,  512,  513,   1000,   1023,
                                     1024, 1025, 2000, 4080, 4096, 5000, 65536, 100000, 1 << 20};
#define NBASIC (sizeof basic_sizes / sizeof basic_sizes[0])

ALAB_TEST(basic)
{
    void *held[NBASIC];
    lk_stats_t before = lk_get_stats();
    for (size_t i = 0; i < NBASIC; i++) {
        held[i] = lk_malloc(basic_sizes[i]);
        ck_assert_msg(held[i] != NULL, "lk_malloc(%zu) returned NULL", basic_sizes[i]);
        ck_assert_msg((uintptr_t)held[i] % 16 == 0, "lk_malloc(%zu) returned %p, not 16-byte aligned",
                      basic_sizes[i], held[i]);
        pattern_fill(held[i], basic_sizes[i], (uint32_t)i);
    }
    for (size_t i = 0; i < NBASIC; i++) {
        char what[80];
        snprintf(what, sizeof what, "%zu blocks of 0 to %zu bytes held at once", NBASIC,
                 basic_sizes[NBASIC - 1]);
        ck_assert_pattern(held[i], basic_sizes[i], (uint32_t)i, what);
    }
    for (size_t i = 0; i < NBASIC; i += 2) /* every other one, then the rest */
        lk_free(held[i]);
    for (size_t i = 1; i < NBASIC; i += 2)
        ck_assert_pattern(held[i], basic_sizes[i], (uint32_t)i, "blocks kept while others were freed");
    for (size_t i = 1; i < NBASIC; i += 2)
        lk_free(held[i]);
    lk_free(NULL);
    stats_delta_t d = stats_delta(before, lk_get_stats());
    ck_assert_msg(d.allocs == (long)NBASIC && d.frees == (long)NBASIC && d.in_use == 0,
                  "after %zu lk_malloc, %zu lk_free and one lk_free(NULL): expected alloc_count "
                  "+%zu, free_count +%zu, in_use +0; got %+ld, %+ld, %+ld",
                  NBASIC, NBASIC, NBASIC, NBASIC, d.allocs, d.frees, d.in_use);
    /* freed memory serves again */
    for (int round = 0; round < 1000; round++) {
        void *p = lk_malloc(100), *q = lk_malloc(3000);
        ck_assert_msg(p != NULL && q != NULL, "lk_malloc returned NULL in round %d of 1000 "
                      "malloc/free pairs", round);
        lk_free(q);
        lk_free(p);
    }
    errno = 0;
    ck_assert_msg(lk_set_locking((lk_locking_t)7) == -1 && errno == EINVAL,
                  "lk_set_locking(7) must fail with EINVAL: 7 is not an lk_locking_t");
}

/* Every byte malloc_usable_size promises is the caller's: fill them all. */
ALAB_TEST(usable_size)
{
    ck_assert_msg(lk_malloc_usable_size(NULL) == 0, "lk_malloc_usable_size(NULL) is %zu, not 0",
                  lk_malloc_usable_size(NULL));
    enum { HOLD = 40 };
    static const size_t sizes[] = {0, 1, 24, 64, 65, 127, 128, 250, 400, 511, 700, 1024,
                                   1025, 3000, 4064, 4080, 4096, 8000, 20000, 70000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        void *held[HOLD];
        size_t usable[HOLD];
        for (int i = 0; i < HOLD; i++) {
            held[i] = lk_malloc(sizes[k]);
            ck_assert_msg(held[i] != NULL, "lk_malloc(%zu) returned NULL", sizes[k]);
            usable[i] = lk_malloc_usable_size(held[i]);
            ck_assert_msg(usable[i] >= sizes[k], "lk_malloc_usable_size says %zu for a block of "
                          "lk_malloc(%zu): it must be at least the request", usable[i], sizes[k]);
            pattern_fill(held[i], usable[i], (uint32_t)(k << 8 | (size_t)i));
        }
        for (int i = 0; i < HOLD; i++) {
            char what[120];
            snprintf(what, sizeof what, "%d blocks of lk_malloc(%zu), each filled up to its "
                     "lk_malloc_usable_size (%zu)", HOLD, sizes[k], usable[i]);
            ck_assert_pattern(held[i], usable[i], (uint32_t)(k << 8 | (size_t)i), what);
        }
        for (int i = 0; i < HOLD; i++)
            lk_free(held[i]);
    }
}

/* The first byte of p[0..n) that is not 0, or n. (Check records every
 * ck_assert that passes: a test asserts once per block, never once per byte.) */
static size_t first_nonzero(const unsigned char *p, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (p[j] != 0)
            return j;
    return n;
}

ALAB_TEST(calloc_zero)
{
    enum { HOLD = 50 };
    static const size_t sizes[] = {1, 40, 64, 100, 200, 333, 512, 1000, 1024, 5000, 40000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t size = sizes[k];
        void *held[HOLD];
        /* dirty blocks of this size, then give them back */
        for (int i = 0; i < HOLD; i++) {
            held[i] = lk_malloc(size);
            ck_assert_msg(held[i] != NULL, "lk_malloc(%zu) returned NULL", size);
            memset(held[i], 0xa5, size);
        }
        for (int i = 0; i < HOLD; i++)
            lk_free(held[i]);
        for (int i = 0; i < HOLD; i++) {
            /* one element of size bytes, or an array of 4 elements */
            size_t nmemb = i % 2 == 0 ? 1 : 4, each = (size + nmemb - 1) / nmemb;
            unsigned char *p = held[i] = lk_calloc(nmemb, each);
            ck_assert_msg(p != NULL, "lk_calloc(%zu, %zu) returned NULL", nmemb, each);
            size_t j = first_nonzero(p, nmemb * each);
            ck_assert_msg(j == nmemb * each, "lk_calloc(%zu, %zu) returned a block whose byte %zu "
                          "is 0x%02x, not 0: every byte of nmemb * size must be cleared, also in a "
                          "recycled block", nmemb, each, j, p[j]);
            memset(p, 0x5a, nmemb * each);
        }
        for (int i = 0; i < HOLD; i++)
            lk_free(held[i]);
    }
    unsigned char *p = lk_calloc(100, 30);
    ck_assert_msg(p != NULL, "lk_calloc(100, 30) returned NULL");
    size_t j = first_nonzero(p, 3000);
    ck_assert_msg(j == 3000, "lk_calloc(100, 30): byte %zu is 0x%02x, not 0", j, p[j]);
    lk_free(p);
    void *z = lk_calloc(0, 10);
    ck_assert_msg(z != NULL, "lk_calloc(0, 10) returned NULL: like lk_malloc(0) it returns a "
                  "unique block");
    lk_free(z);
}

/* Grows and shrinks one block through every class and into a mapping of its
 * own, checking the bytes it must keep at every step. */
ALAB_TEST(realloc_keeps)
{
    static const size_t steps[] = {10, 60, 64, 100, 700, 1024, 1025, 5000, 100000,
                                   3000, 900, 100, 20, 2000, 8};
    lk_stats_t before = lk_get_stats();
    size_t old = 0;
    unsigned char *p = NULL;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        size_t size = steps[k];
        unsigned char *q = lk_realloc(p, size);
        ck_assert_msg(q != NULL, "lk_realloc(%p, %zu) returned NULL", (void *)p, size);
        size_t kept = old < size ? old : size;
        if (k > 0) {
            char what[80];
            snprintf(what, sizeof what, "lk_realloc from %zu to %zu bytes (the first %zu must stay)",
                     old, size, kept);
            ck_assert_pattern(q, kept, 77, what);
        }
        pattern_fill(q, size, 77);
        p = q;
        old = size;
    }
    /* growing to one byte past what malloc_usable_size promised must move the
     * block or make room: every byte of the new size is the caller's */
    for (size_t size = 100; size <= 80000; size = size * 3 + 7) {
        unsigned char *b = lk_malloc(size), *guard = lk_malloc(size);
        ck_assert_msg(b != NULL && guard != NULL, "lk_malloc(%zu) returned NULL", size);
        pattern_fill(guard, size, 5);
        for (size_t extra = 1; extra <= 32; extra *= 2) {
            size_t usable = lk_malloc_usable_size(b), want = usable + extra;
            unsigned char *c = lk_realloc(b, want);
            ck_assert_msg(c != NULL, "lk_realloc(%zu bytes) returned NULL", want);
            memset(c, 0x3c, want);
            ck_assert_msg(lk_malloc_usable_size(c) >= want, "lk_realloc(p, %zu): "
                          "lk_malloc_usable_size of the result is %zu", want, lk_malloc_usable_size(c));
            b = c;
        }
        ck_assert_pattern(guard, size, 5, "a block next to one that lk_realloc grew past its usable size");
        lk_free(b);
        lk_free(guard);
    }
    lk_stats_t mid = lk_get_stats();
    ck_assert_msg(lk_realloc(p, 0) == NULL, "lk_realloc(p, 0) must free p and return NULL");
    stats_delta_t d = stats_delta(mid, lk_get_stats());
    ck_assert_msg(d.frees == 1 && d.allocs == 0, "lk_realloc(p, 0) must free p: expected "
                  "free_count +1, alloc_count +0; got %+ld, %+ld", d.frees, d.allocs);
    unsigned char *r = lk_realloc(NULL, 300);
    ck_assert_msg(r != NULL, "lk_realloc(NULL, 300) returned NULL: it is lk_malloc(300)");
    pattern_fill(r, 300, 9);
    unsigned char *s = lk_reallocarray(r, 250, 4);
    ck_assert_msg(s != NULL, "lk_reallocarray(p, 250, 4) returned NULL");
    ck_assert_pattern(s, 300, 9, "lk_reallocarray from 300 to 1000 bytes");
    lk_free(s);
    d = stats_delta(before, lk_get_stats());
    ck_assert_msg(d.in_use == 0, "every block was freed, yet in_use changed by %+ld "
                  "(alloc_count %+ld, free_count %+ld): a realloc that moves a block counts one "
                  "alloc and one free", d.in_use, d.allocs, d.frees);
}

typedef void *(*aligned_alloc_fn)(size_t alignment, size_t size);

static void *via_posix_memalign(size_t alignment, size_t size)
{
    void *p = NULL;
    int err = lk_posix_memalign(&p, alignment, size);
    return err == 0 ? p : NULL;
}

ALAB_TEST(aligned)
{
    static const size_t aligns[] = {8, 16, 32, 64, 128, 512, 4096, 8192, 65536, 1 << 20};
    static const size_t sizes[] = {1, 48, 100, 1000, 5000};
    static const struct {
        const char *name;
        aligned_alloc_fn fn;
    } fns[] = {{"lk_posix_memalign", via_posix_memalign},
               {"lk_aligned_alloc", lk_aligned_alloc},
               {"lk_memalign", lk_memalign}};
    lk_stats_t before = lk_get_stats();
    enum { N = sizeof aligns / sizeof aligns[0] * sizeof sizes / sizeof sizes[0] };
    for (size_t f = 0; f < 3; f++) {
        void *held[N];
        size_t held_size[N], n = 0;
        for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++)
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++, n++) {
                void *p = fns[f].fn(aligns[a], sizes[s]);
                ck_assert_msg(p != NULL, "%s(%zu, %zu) returned NULL", fns[f].name, aligns[a], sizes[s]);
                ck_assert_msg((uintptr_t)p % aligns[a] == 0, "%s(%zu, %zu) returned %p, not "
                              "aligned to %zu bytes", fns[f].name, aligns[a], sizes[s], p, aligns[a]);
                size_t u = lk_malloc_usable_size(p);
                ck_assert_msg(u >= sizes[s], "lk_malloc_usable_size is %zu for %s(%zu, %zu)", u,
                              fns[f].name, aligns[a], sizes[s]);
                pattern_fill(p, sizes[s], (uint32_t)n);
                held[n] = p;
                held_size[n] = sizes[s];
            }
        for (size_t i = 0; i < n; i++)
            ck_assert_pattern(held[i], held_size[i], (uint32_t)i, "aligned blocks held at once");
        /* an aligned block can grow like any other */
        unsigned char *g = lk_realloc(held[0], 3000);
        ck_assert_msg(g != NULL, "lk_realloc of a block from %s returned NULL", fns[f].name);
        ck_assert_pattern(g, held_size[0], 0, "lk_realloc of an aligned block");
        held[0] = g;
        for (size_t i = 0; i < n; i++)
            lk_free(held[i]);
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *v = lk_valloc(100), *pv = lk_pvalloc(100), *pz = lk_pvalloc(0);
    ck_assert_msg(v != NULL && (uintptr_t)v % page == 0, "lk_valloc(100) returned %p, not "
                  "aligned to the page size (%zu)", v, page);
    ck_assert_msg(pv != NULL && (uintptr_t)pv % page == 0 && lk_malloc_usable_size(pv) >= page,
                  "lk_pvalloc(100) returned %p with %zu usable bytes: it must be page-aligned "
                  "with a whole page (%zu bytes)", pv, pv ? lk_malloc_usable_size(pv) : 0, page);
    ck_assert_msg(pz != NULL && (uintptr_t)pz % page == 0 && lk_malloc_usable_size(pz) >= page,
                  "lk_pvalloc(0) must return one page-aligned page");
    memset(pv, 1, page);
    memset(pz, 2, page);
    lk_free(v);
    lk_free(pv);
    lk_free(pz);
    stats_delta_t d = stats_delta(before, lk_get_stats());
    ck_assert_msg(d.in_use == 0, "every aligned block was freed, yet in_use changed by %+ld",
                  d.in_use);

    /* invalid alignments */
    void *p = (void *)&p;
    static const size_t bad_posix[] = {0, 1, 2, 4, 12, 24, 48, 100};
    for (size_t i = 0; i < sizeof bad_posix / sizeof bad_posix[0]; i++) {
        int err = lk_posix_memalign(&p, bad_posix[i], 64);
        ck_assert_msg(err == EINVAL && p == (void *)&p, "lk_posix_memalign(&p, %zu, 64) returned "
                      "%d and %s *p: an alignment that is not a power of two multiple of "
                      "sizeof(void *) gives EINVAL and leaves *p alone", bad_posix[i], err,
                      p == (void *)&p ? "kept" : "changed");
    }
    static const size_t bad[] = {0, 3, 24, 100, 4095};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        void *q = lk_aligned_alloc(bad[i], 64);
        ck_assert_msg(q == NULL && errno == EINVAL, "lk_aligned_alloc(%zu, 64) returned %p with "
                      "errno %d: an alignment that is not a power of two gives NULL and EINVAL",
                      bad[i], q, errno);
        errno = 0;
        q = lk_memalign(bad[i], 64);
        ck_assert_msg(q == NULL && errno == EINVAL, "lk_memalign(%zu, 64) returned %p with errno "
                      "%d: an alignment that is not a power of two gives NULL and EINVAL", bad[i], q,
                      errno);
    }
}

/* Requests that cannot be met: NULL (or ENOMEM) and errno ENOMEM, the old block kept. */
ALAB_TEST(overflow)
{
#define CK_ENOMEM(call)                                                                       \
    do {                                                                                      \
        errno = 0;                                                                            \
        void *r_ = (call);                                                                    \
        ck_assert_msg(r_ == NULL && errno == ENOMEM, "%s returned %p with errno %d: a request " \
                      "that cannot be met (or whose size overflows) gives NULL and ENOMEM",    \
                      #call, r_, errno);                                                     \
    } while (0)
    CK_ENOMEM(lk_malloc(SIZE_MAX));
    CK_ENOMEM(lk_malloc(SIZE_MAX - 4096));
    CK_ENOMEM(lk_calloc(SIZE_MAX / 2, 3));
    CK_ENOMEM(lk_calloc((size_t)1 << 33, (size_t)1 << 33));
    CK_ENOMEM(lk_aligned_alloc(4096, SIZE_MAX - 100));
    CK_ENOMEM(lk_memalign(1 << 20, SIZE_MAX - (1 << 19)));
    CK_ENOMEM(lk_valloc(SIZE_MAX - 10));
    CK_ENOMEM(lk_pvalloc(SIZE_MAX - 10));
    void *q = (void *)&q;
    int err = lk_posix_memalign(&q, 64, SIZE_MAX - 32);
    ck_assert_msg(err == ENOMEM && q == (void *)&q, "lk_posix_memalign(&p, 64, SIZE_MAX - 32) "
                  "returned %d: it must return ENOMEM and leave *p alone", err);

    unsigned char *p = lk_malloc(200);
    ck_assert_msg(p != NULL, "lk_malloc(200) returned NULL");
    pattern_fill(p, 200, 3);
    CK_ENOMEM(lk_reallocarray(p, SIZE_MAX / 2, 3));
    CK_ENOMEM(lk_reallocarray(p, (size_t)1 << 40, (size_t)1 << 30));
    CK_ENOMEM(lk_realloc(p, SIZE_MAX));
    CK_ENOMEM(lk_realloc(p, SIZE_MAX - 8));
    ck_assert_pattern(p, 200, 3, "a block after lk_realloc and lk_reallocarray failed on it");
    lk_free(p);
#undef CK_ENOMEM
}

ALAB_TEST(stats)
{
    lk_stats_t s0 = lk_get_stats();
    void *small[10], *large[2];
    for (int i = 0; i < 10; i++)
        small[i] = lk_malloc((size_t)(i * 100 + 1));
    large[0] = lk_malloc(5000);
    large[1] = lk_calloc(100, 100);
    lk_stats_t s1 = lk_get_stats();
    stats_delta_t d = stats_delta(s0, s1);
    ck_assert_msg(d.allocs == 12 && d.frees == 0 && d.in_use == 12 && d.waits == 0,
                  "after 11 lk_malloc and 1 lk_calloc in one thread: expected alloc_count +12, "
                  "free_count +0, in_use +12, contention_count +0; got %+ld, %+ld, %+ld, %+ld",
                  d.allocs, d.frees, d.in_use, d.waits);
    ck_assert_msg(d.mmaps >= 2, "two blocks of more than 1024 bytes each need a mapping of "
                  "their own, yet mmap_count grew by %ld", d.mmaps);
    ck_assert_msg(d.locks >= 10, "12 blocks were allocated, yet lock_count grew by %ld: count "
                  "every time the family takes a lock", d.locks);
    ck_assert_msg(s1.in_use == s1.alloc_count - s1.free_count, "in_use (%zu) is not alloc_count "
                  "(%zu) - free_count (%zu)", s1.in_use, s1.alloc_count, s1.free_count);

    for (int i = 0; i < 5; i++)
        lk_free(small[i]);
    lk_free(large[0]);
    lk_free(NULL);
    lk_stats_t s2 = lk_get_stats();
    d = stats_delta(s1, s2);
    ck_assert_msg(d.allocs == 0 && d.frees == 6 && d.in_use == -6 && d.munmaps >= 1,
                  "after 6 lk_free (one of a 5000-byte block) and one lk_free(NULL): expected "
                  "alloc_count +0, free_count +6, in_use -6, munmap_count +1 or more; got %+ld, "
                  "%+ld, %+ld, %+ld", d.allocs, d.frees, d.in_use, d.munmaps);

    void *m = lk_malloc(10);
    void *moved = lk_realloc(m, 900);
    void *a = lk_aligned_alloc(256, 100);
    lk_stats_t s3 = lk_get_stats();
    d = stats_delta(s2, s3);
    long want_allocs = 2 + (moved != m), want_frees = moved != m;
    ck_assert_msg(d.allocs == want_allocs && d.frees == want_frees, "lk_malloc, lk_realloc "
                  "(which %s the block) and lk_aligned_alloc: expected alloc_count +%ld, "
                  "free_count +%ld; got %+ld, %+ld", moved != m ? "moved" : "did not move",
                  want_allocs, want_frees, d.allocs, d.frees);
    lk_free(moved);
    lk_free(a);
    for (int i = 5; i < 10; i++)
        lk_free(small[i]);
    lk_free(large[1]);
    d = stats_delta(s0, lk_get_stats());
    ck_assert_msg(d.in_use == 0 && d.waits == 0 && d.allocs == d.frees,
                  "after freeing everything in one thread: expected in_use +0, "
                  "contention_count +0, alloc_count and free_count grown alike; got %+ld, "
                  "%+ld, %+ld, %+ld", d.in_use, d.waits, d.allocs, d.frees);
}

/* ---- concurrent: threads start together on a barrier ---- */

typedef struct {
    void *p;
    size_t size;
    uint32_t tag;
} held_t;

enum { MAX_HELD = 64 };

typedef struct {
    int id, ops;
    uint64_t rng;
    long allocs, frees;    /* as the statistics count them */
    held_t held[MAX_HELD]; /* still held when the thread returns */
    int nheld;
    char err[256];         /* empty when all went well */
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

/* A size: mostly small, from every class; now and then a large one. */
static size_t random_size(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    if (r % 100 < 6)
        return LK_MAX_SMALL + 1 + (size_t)(r >> 8) % 30000;
    return size_in_class((int)((r >> 8) % LK_NCLASSES), r >> 16);
}

/* One step of a random mix of the whole family; checks every block it lets go. */
static void mix_step(worker_t *w, int step)
{
    uint64_t r = rng_next(&w->rng);
    int n = w->nheld;
    if (n == 0 || (n < MAX_HELD && r % 100 < 50)) {
        size_t size = random_size(&w->rng);
        void *p;
        unsigned kind = (unsigned)(r >> 8) % 20;
        if (kind == 0) {
            p = lk_calloc(1, size);
            for (size_t i = 0; p != NULL && i < size; i++)
                if (((unsigned char *)p)[i] != 0) {
                    worker_fail(w, "lk_calloc returned block %p whose byte %zu is not 0 (%zu bytes)",
                                p, i, size);
                    break;
                }
        } else if (kind == 1) {
            size_t align = (size_t)32 << (r >> 16) % 8; /* 32 .. 4096 */
            p = NULL;
            if (lk_posix_memalign(&p, align, size) == 0 && (uintptr_t)p % align != 0)
                worker_fail(w, "lk_posix_memalign gave %p, not aligned to %zu (%zu bytes)", p, align,
                            size);
        } else {
            p = lk_malloc(size);
        }
        if (p == NULL) {
            worker_fail(w, "an allocation of %zu bytes returned NULL", size);
            return;
        }
        uint32_t tag = (uint32_t)(w->id << 24 | step);
        pattern_fill(p, size, tag);
        w->held[w->nheld++] = (held_t){p, size, tag};
        w->allocs++;
        return;
    }
    int k = (int)((r >> 8) % (uint64_t)n);
    held_t *h = &w->held[k];
    size_t at = pattern_check(h->p, h->size, h->tag);
    if (at != h->size)
        worker_fail(w, "block %p changed at byte %zu while this thread held it (%zu bytes): the "
                    "allocator gave overlapping memory to two holders", h->p, at, h->size);
    if (r % 100 < 60) { /* resize it: keeps its bytes */
        size_t size = random_size(&w->rng);
        void *q = lk_realloc(h->p, size);
        if (q == NULL) {
            worker_fail(w, "lk_realloc(%p, %zu) returned NULL", h->p, size);
            return;
        }
        size_t kept = size < h->size ? size : h->size;
        at = pattern_check(q, kept, h->tag);
        if (at != kept)
            worker_fail(w, "lk_realloc to %p lost byte %zu of the %zu it had to keep", q, at, kept);
        if (q != h->p) {
            w->allocs++;
            w->frees++;
        }
        h->tag ^= 0x5555u;
        pattern_fill(q, size, h->tag);
        h->p = q;
        h->size = size;
        return;
    }
    lk_free(h->p);
    w->frees++;
    *h = w->held[--w->nheld];
}

static void *mix_worker(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < w->ops && w->err[0] == '\0'; i++)
        mix_step(w, i);
    return NULL;
}

/* Runs n mixers, checks them, frees what they kept; returns the statistics' change. */
static stats_delta_t run_mix(int n, int ops, uint64_t seed, stats_delta_t *expect)
{
    worker_t *ws = calloc((size_t)n, sizeof *ws);
    void *args[64];
    for (int i = 0; i < n; i++) {
        ws[i] = (worker_t){.id = i, .ops = ops, .rng = seed * 7919 + (uint64_t)i * 104729 + 1};
        args[i] = &ws[i];
    }
    lk_stats_t before = lk_get_stats();
    run_threads(n, mix_worker, args);
    stats_delta_t d = stats_delta(before, lk_get_stats());
    *expect = (stats_delta_t){0};
    for (int i = 0; i < n; i++) {
        ck_assert_msg(ws[i].err[0] == '\0', "%s (%s)", ws[i].err, locking_name(lk_get_locking()));
        expect->allocs += ws[i].allocs;
        expect->frees += ws[i].frees;
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < ws[i].nheld; k++) {
            held_t *h = &ws[i].held[k];
            ck_assert_pattern(h->p, h->size, h->tag, "a block held by a thread that has exited");
            lk_free(h->p);
        }
    free(ws);
    return d;
}

ALAB_TEST(threads)
{
    for (size_t m = 0; m < 2; m++) {
        set_locking(modes[m]);
        stats_delta_t want;
        stats_delta_t got = run_mix(NTHREADS, 20000 / OPS_DIVISOR, 42 + m, &want);
        ck_assert_msg(got.allocs == want.allocs && got.frees == want.frees,
                      "%s: %d threads allocated %ld blocks and freed %ld, but alloc_count grew by "
                      "%ld and free_count by %ld: a counter updated without its lock loses counts",
                      locking_name(modes[m]), NTHREADS, want.allocs, want.frees, got.allocs,
                      got.frees);
    }
}

/* Producers allocate blocks of every class and hand them to consumers, which
 * check and free them: every block is freed by a thread that did not allocate it. */
enum { RING = 256, HANDOFFS = 15000 / OPS_DIVISOR };
typedef struct {
    void *slot[RING];
    size_t size[RING];
    uint32_t tag[RING];
    unsigned head, tail; /* under lock */
    bool stop;           /* under lock: a producer failed, consumers give up */
    pthread_mutex_t lock;
    pthread_cond_t changed;
} ring_t;

typedef struct {
    ring_t *ring;
    worker_t w;
} handoff_t;

static void *producer(void *arg)
{
    handoff_t *h = arg;
    ring_t *ring = h->ring;
    for (int i = 0; i < HANDOFFS; i++) {
        size_t size = random_size(&h->w.rng);
        void *p = lk_malloc(size);
        uint32_t tag = (uint32_t)(h->w.id << 24 | i);
        if (p != NULL)
            pattern_fill(p, size, tag);
        else
            worker_fail(&h->w, "lk_malloc(%zu) returned NULL", size);
        pthread_mutex_lock(&ring->lock);
        if (p == NULL) {
            ring->stop = true;
            pthread_cond_broadcast(&ring->changed);
            pthread_mutex_unlock(&ring->lock);
            return NULL;
        }
        while (ring->head - ring->tail == RING && !ring->stop)
            pthread_cond_wait(&ring->changed, &ring->lock);
        ring->slot[ring->head % RING] = p;
        ring->size[ring->head % RING] = size;
        ring->tag[ring->head % RING] = tag;
        ring->head++;
        pthread_cond_broadcast(&ring->changed);
        pthread_mutex_unlock(&ring->lock);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    handoff_t *h = arg;
    ring_t *ring = h->ring;
    for (int i = 0; i < HANDOFFS; i++) {
        pthread_mutex_lock(&ring->lock);
        while (ring->head == ring->tail && !ring->stop)
            pthread_cond_wait(&ring->changed, &ring->lock);
        if (ring->head == ring->tail) {
            pthread_mutex_unlock(&ring->lock);
            return NULL;
        }
        void *p = ring->slot[ring->tail % RING];
        size_t size = ring->size[ring->tail % RING];
        uint32_t tag = ring->tag[ring->tail % RING];
        ring->tail++;
        pthread_cond_broadcast(&ring->changed);
        pthread_mutex_unlock(&ring->lock);
        size_t at = pattern_check(p, size, tag);
        if (at != size)
            worker_fail(&h->w, "block %p in transit between two threads changed at byte %zu "
                        "(%zu bytes)", p, at, size);
        lk_free(p);
    }
    return NULL;
}

static void *handoff_run(void *arg)
{
    handoff_t *h = arg;
    return h->w.id % 2 == 0 ? producer(h) : consumer(h);
}

ALAB_TEST(cross_thread)
{
    for (size_t m = 0; m < 2; m++) {
        set_locking(modes[m]);
        ring_t ring = {0};
        pthread_mutex_init(&ring.lock, NULL);
        pthread_cond_init(&ring.changed, NULL);
        handoff_t hs[4];
        void *args[4];
        for (int i = 0; i < 4; i++) {
            hs[i] = (handoff_t){.ring = &ring, .w = {.id = i, .rng = 99 + (uint64_t)i}};
            args[i] = &hs[i];
        }
        lk_stats_t before = lk_get_stats();
        run_threads(4, handoff_run, args);
        stats_delta_t d = stats_delta(before, lk_get_stats());
        for (int i = 0; i < 4; i++)
            ck_assert_msg(hs[i].w.err[0] == '\0', "%s (%s)", hs[i].w.err, locking_name(modes[m]));
        ck_assert_msg(d.allocs == 2 * HANDOFFS && d.frees == 2 * HANDOFFS && d.in_use == 0,
                      "%s: %d blocks were allocated by one thread and freed by another: expected "
                      "alloc_count and free_count +%d, in_use +0; got %+ld, %+ld, %+ld",
                      locking_name(modes[m]), 2 * HANDOFFS, 2 * HANDOFFS, d.allocs, d.frees,
                      d.in_use);
        pthread_mutex_destroy(&ring.lock);
        pthread_cond_destroy(&ring.changed);
    }
}

/* Each thread allocates and frees a known number of blocks, keeping id + 1,
 * and reads the statistics now and then, as a monitor thread does all along:
 * they must add up once the threads have exited. */
static volatile bool counting_done;

static void *monitor(void *arg)
{
    worker_t *w = arg;
    while (!__atomic_load_n(&counting_done, __ATOMIC_ACQUIRE)) {
        lk_stats_t s = lk_get_stats();
        if (s.contention_count > s.lock_count)
            worker_fail(w, "lk_get_stats: contention_count %zu > lock_count %zu",
                        s.contention_count, s.lock_count);
    }
    return NULL;
}

static void *counted_worker(void *arg)
{
    worker_t *w = arg;
    void *held[MAX_HELD];
    int n = 0;
    for (int i = 0; i < w->ops; i++) {
        uint64_t r = rng_next(&w->rng);
        if (i % 64 == 0) { /* the workers read the statistics too, while others count */
            lk_stats_t s = lk_get_stats();
            if (s.contention_count > s.lock_count)
                worker_fail(w, "lk_get_stats: contention_count %zu > lock_count %zu",
                            s.contention_count, s.lock_count);
        }
        if (n < MAX_HELD && (n == 0 || r % 2 == 0)) {
            held[n] = lk_malloc(random_size(&w->rng));
            if (held[n] == NULL) {
                worker_fail(w, "lk_malloc returned NULL");
                break;
            }
            n++;
            w->allocs++;
        } else {
            lk_free(held[--n]);
            w->frees++;
        }
    }
    while (n > w->id + 1) {
        lk_free(held[--n]);
        w->frees++;
    }
    for (int k = 0; k < n; k++)
        w->held[w->nheld++] = (held_t){held[k], 0, 0};
    return NULL;
}

ALAB_TEST(stats_concurrent)
{
    for (size_t m = 0; m < 2; m++) {
        set_locking(modes[m]);
        worker_t ws[NTHREADS + 1];
        void *args[NTHREADS];
        for (int i = 0; i <= NTHREADS; i++) {
            ws[i] = (worker_t){.id = i, .ops = 30000, .rng = 7 + (uint64_t)i * 31};
            args[i % NTHREADS] = &ws[i % NTHREADS];
        }
        lk_stats_t before = lk_get_stats();
        counting_done = false;
        pthread_t mon;
        ck_assert_msg(pthread_create(&mon, NULL, monitor, &ws[NTHREADS]) == 0,
                      "could not start the monitor thread");
        run_threads(NTHREADS, counted_worker, args);
        __atomic_store_n(&counting_done, true, __ATOMIC_RELEASE);
        pthread_join(mon, NULL);
        stats_delta_t d = stats_delta(before, lk_get_stats());
        long allocs = 0, frees = 0, kept = 0;
        for (int i = 0; i <= NTHREADS; i++) {
            ck_assert_msg(ws[i].err[0] == '\0', "%s (%s)", ws[i].err, locking_name(modes[m]));
            allocs += ws[i].allocs;
            frees += ws[i].frees;
            kept += ws[i].nheld;
        }
        ck_assert_msg(d.allocs == allocs && d.frees == frees && d.in_use == kept,
                      "%s: once %d threads have exited, having made %ld allocations and %ld frees "
                      "and kept %ld blocks: expected alloc_count +%ld, free_count +%ld, in_use "
                      "+%ld; got %+ld, %+ld, %+ld", locking_name(modes[m]), NTHREADS, allocs, frees,
                      kept, allocs, frees, kept, d.allocs, d.frees, d.in_use);
        for (int i = 0; i < NTHREADS; i++)
            for (int k = 0; k < ws[i].nheld; k++)
                lk_free(ws[i].held[k].p);
    }
}

/* Thread i works in class i % LK_NCLASSES only: alloc, touch, free. */
typedef struct {
    int cls, ops;
    uint64_t rng;
    bool failed;
} hammer_t;

static void *hammer(void *arg)
{
    hammer_t *h = arg;
    void *held[8];
    for (int i = 0; i < h->ops; i += 8) {
        for (int k = 0; k < 8; k++) {
            held[k] = lk_malloc(size_in_class(h->cls, rng_next(&h->rng)));
            if (held[k] == NULL) {
                h->failed = true;
                return NULL;
            }
            *(volatile char *)held[k] = 1;
        }
        for (int k = 0; k < 8; k++)
            lk_free(held[k]);
    }
    return NULL;
}

static stats_delta_t run_hammers(int n, int ops)
{
    hammer_t hs[NTHREADS];
    void *args[NTHREADS];
    for (int i = 0; i < n; i++) {
        hs[i] = (hammer_t){.cls = i % LK_NCLASSES, .ops = ops, .rng = 3 + (uint64_t)i};
        args[i] = &hs[i];
    }
    lk_stats_t before = lk_get_stats();
    run_threads(n, hammer, args);
    for (int i = 0; i < n; i++)
        ck_assert_msg(!hs[i].failed, "lk_malloc returned NULL in thread %d", i);
    return stats_delta(before, lk_get_stats());
}

/* Threads that share one lock must sometimes wait for it. Whether a wait
 * happens depends on how the scheduler interleaves the threads, so the test
 * tries for a while. */
#define CONTEND_TRY_S 8.0

ALAB_TEST(contention)
{
    set_locking(LK_ONE_LOCK);
    stats_delta_t d = {0};
    double start = seconds_now();
    int attempt = 0;
    for (; d.waits == 0 && (attempt < 5 || seconds_now() - start < CONTEND_TRY_S); attempt++) {
        d = run_hammers(NTHREADS, 40000);
        ck_assert_msg(d.waits <= d.locks, "contention_count grew by %ld but lock_count only by "
                      "%ld: a wait is one of the acquisitions", d.waits, d.locks);
    }
    ck_assert_msg(d.waits > 0, "LK_ONE_LOCK: %d threads took the one lock %ld times at once, %d "
                  "times over, yet contention_count stayed 0: count a wait whenever a "
                  "pthread_mutex_trylock fails before the blocking lock", NTHREADS, d.locks, attempt);
}

/* In LK_PER_CLASS mode, threads that work in different classes take different
 * locks, so none ever waits for another. Two parts:
 *  1. five threads, each in a class of its own, allocate and free at once:
 *     no wait may be counted;
 *  2. a thread that allocates in the smallest class is stopped again and again
 *     at a random point of its work by a signal whose handler waits, maybe
 *     while it holds a lock; meanwhile another thread allocates in the largest
 *     class. It must go on: if the stopped thread's lock were its lock too, it
 *     would be stuck until the handler returns (and would count a wait).
 * Waiting only on a busy machine is not enough to tell one shared lock from
 * several (two threads rarely overlap there); stopping a holder is. */
enum { STOPS = 200 / OPS_DIVISOR };
static volatile bool stop_workers, release_holder;
static volatile int holder_stopped;
static volatile unsigned long other_iterations;

static void hold_in_handler(int sig)
{
    (void)sig;
    __atomic_store_n(&holder_stopped, 1, __ATOMIC_RELEASE);
    struct timespec tick = {0, 20000};
    while (!__atomic_load_n(&release_holder, __ATOMIC_ACQUIRE))
        nanosleep(&tick, NULL);
    __atomic_store_n(&holder_stopped, 0, __ATOMIC_RELEASE);
}

static void *small_class_worker(void *arg)
{
    bool *failed = arg;
    while (!__atomic_load_n(&stop_workers, __ATOMIC_ACQUIRE)) {
        volatile char *p = lk_malloc(40);
        if (p == NULL) {
            *failed = true;
            break;
        }
        *p = 1;
        lk_free((void *)p);
    }
    return NULL;
}

static void *large_class_worker(void *arg)
{
    bool *failed = arg;
    while (!__atomic_load_n(&stop_workers, __ATOMIC_ACQUIRE)) {
        __atomic_fetch_add(&other_iterations, 1, __ATOMIC_RELEASE);
        volatile char *p = lk_malloc(1000);
        if (p == NULL) {
            *failed = true;
            break;
        }
        *p = 1;
        lk_free((void *)p);
    }
    return NULL;
}

static double wait_seconds(double since)
{
    return seconds_now() - since;
}

ALAB_TEST(per_class)
{
    ck_assert_msg(lk_get_locking() == LK_PER_CLASS, "lk_get_locking() is %d at the start of a "
                  "program: the default is LK_PER_CLASS", (int)lk_get_locking());
    set_locking(LK_PER_CLASS);
    enum { OPS = 100000 / OPS_DIVISOR };
    stats_delta_t d = run_hammers(LK_NCLASSES, OPS);
    ck_assert_msg(d.locks >= LK_NCLASSES * OPS, "%d threads made %d allocations and frees "
                  "between them, but lock_count grew by %ld only", LK_NCLASSES,
                  2 * LK_NCLASSES * OPS, d.locks);
    ck_assert_msg(d.waits == 0, "LK_PER_CLASS: %d threads, each allocating in a size class of "
                  "its own, waited %ld times for a lock (of %ld acquisitions): threads in "
                  "different classes must not share a lock", LK_NCLASSES, d.waits, d.locks);

    struct sigaction sa = {.sa_handler = hold_in_handler};
    sigemptyset(&sa.sa_mask);
    ck_assert_msg(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction failed");
    bool small_failed = false, large_failed = false;
    stop_workers = false;
    pthread_t small, large;
    lk_stats_t before = lk_get_stats();
    ck_assert_msg(pthread_create(&small, NULL, small_class_worker, &small_failed) == 0 &&
                      pthread_create(&large, NULL, large_class_worker, &large_failed) == 0,
                  "could not start two threads");
    int stuck = 0;
    for (int i = 0; i < STOPS; i++) {
        __atomic_store_n(&release_holder, false, __ATOMIC_RELEASE);
        pthread_kill(small, SIGUSR1);
        while (!__atomic_load_n(&holder_stopped, __ATOMIC_ACQUIRE))
            sched_yield();
        /* the other thread must start two more rounds while this one is stopped */
        unsigned long start = __atomic_load_n(&other_iterations, __ATOMIC_ACQUIRE);
        double t0 = seconds_now();
        while (__atomic_load_n(&other_iterations, __ATOMIC_ACQUIRE) < start + 2 &&
               wait_seconds(t0) < 0.005)
            sched_yield();
        if (__atomic_load_n(&other_iterations, __ATOMIC_ACQUIRE) < start + 2)
            stuck++;
        __atomic_store_n(&release_holder, true, __ATOMIC_RELEASE);
        while (__atomic_load_n(&holder_stopped, __ATOMIC_ACQUIRE))
            sched_yield();
    }
    __atomic_store_n(&stop_workers, true, __ATOMIC_RELEASE);
    pthread_join(small, NULL);
    pthread_join(large, NULL);
    signal(SIGUSR1, SIG_DFL);
    d = stats_delta(before, lk_get_stats());
    ck_assert_msg(!small_failed && !large_failed, "lk_malloc returned NULL");
    ck_assert_msg(d.waits == 0, "LK_PER_CLASS: a thread allocating 1000-byte blocks waited %ld "
                  "times for a lock while a thread allocating 40-byte blocks was stopped %d "
                  "times in the middle of its work (and %d times the first thread could not go "
                  "on): threads in different classes must not share a lock", d.waits, STOPS,
                  stuck);
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex05-locks");
    ALAB_ADD(s, basic, 10);
    ALAB_ADD(s, usable_size, 10);
    ALAB_ADD(s, calloc_zero, 10);
    ALAB_ADD(s, realloc_keeps, 10);
    ALAB_ADD(s, aligned, 10);
    ALAB_ADD(s, overflow, 10);
    ALAB_ADD(s, stats, 10);
    ALAB_ADD(s, threads, 60);
    ALAB_ADD(s, cross_thread, 60);
    ALAB_ADD(s, stats_concurrent, 60);
    ALAB_ADD(s, contention, 60);
    ALAB_ADD(s, per_class, 60);
    return s;
}

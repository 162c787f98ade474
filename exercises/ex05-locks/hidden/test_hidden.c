/* test_hidden.c — instructor-only tests of exercise 05 (left out of handouts).
 *
 * The same properties as the public tests, on parameters students cannot tune
 * against: thread counts, size mixes, alignments, lockings and operation mixes
 * drawn from the grader's seed (ALAB_SEED), so another seed gives another variant. */
#include "locks_testlib.h"

#include <errno.h>
#include <stdarg.h>

typedef struct {
    void *p;
    size_t size;
    uint32_t tag;
} hheld_t;

typedef struct {
    int id, ops, max_held, large_pct;
    uint64_t rng;
    long allocs, frees;
    char err[256];
} hworker_t;

__attribute__((format(printf, 2, 3))) static void hfail(hworker_t *w, const char *fmt, ...)
{
    if (w->err[0] != '\0')
        return;
    int n = snprintf(w->err, sizeof w->err, "thread %d: ", w->id);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err + n, sizeof w->err - (size_t)n, fmt, ap);
    va_end(ap);
}

static size_t hsize(hworker_t *w)
{
    uint64_t r = rng_next(&w->rng);
    if ((int)(r % 100) < w->large_pct)
        return LK_MAX_SMALL + 1 + (size_t)(r >> 8) % 200000;
    return (size_t)(r >> 8) % (LK_MAX_SMALL + 1); /* 0 too */
}

/* Allocates with one of the family's functions, chosen by r. */
static void *hallocate(hworker_t *w, size_t size, uint64_t r)
{
    void *p = NULL;
    size_t align = (size_t)16 << (r >> 20) % 10; /* 16 .. 8192 */
    switch ((r >> 8) % 8) {
    case 0:
        p = lk_calloc(size, 1);
        for (size_t i = 0; p != NULL && i < size; i++)
            if (((unsigned char *)p)[i] != 0) {
                hfail(w, "lk_calloc(%zu, 1): byte %zu of %p is not 0", size, i, p);
                break;
            }
        return p;
    case 1:
        if (lk_posix_memalign(&p, align, size) != 0)
            return NULL;
        break;
    case 2:
        p = lk_aligned_alloc(align, size);
        break;
    case 3:
        p = lk_memalign(align, size);
        break;
    default:
        return lk_malloc(size);
    }
    if (p != NULL && (uintptr_t)p % align != 0)
        hfail(w, "a block of %zu bytes aligned to %zu came at %p", size, align, p);
    return p;
}

static void *hmix(void *arg)
{
    hworker_t *w = arg;
    hheld_t *held = calloc((size_t)w->max_held, sizeof *held);
    int n = 0;
    for (int i = 0; i < w->ops && w->err[0] == '\0'; i++) {
        uint64_t r = rng_next(&w->rng);
        if (n == 0 || (n < w->max_held && r % 100 < 52)) {
            size_t size = hsize(w);
            void *p = hallocate(w, size, r);
            if (p == NULL) {
                hfail(w, "an allocation of %zu bytes returned NULL", size);
                break;
            }
            if (lk_malloc_usable_size(p) < size)
                hfail(w, "lk_malloc_usable_size(%p) is %zu for a request of %zu", p,
                      lk_malloc_usable_size(p), size);
            held[n] = (hheld_t){p, size, (uint32_t)(w->id << 24 | i)};
            pattern_fill(p, size, held[n].tag);
            n++;
            w->allocs++;
            continue;
        }
        int k = (int)((r >> 8) % (uint64_t)n);
        size_t at = pattern_check(held[k].p, held[k].size, held[k].tag);
        if (at != held[k].size)
            hfail(w, "a %zu-byte block (%p) changed at byte %zu while held: two holders got the "
                  "same memory", held[k].size, held[k].p, at);
        if (r % 100 < 70) {
            size_t size = hsize(w) + 1; /* 0 would free the block */
            void *q = lk_reallocarray(held[k].p, size, 1);
            if (q == NULL) {
                hfail(w, "lk_reallocarray(%p, %zu, 1) returned NULL", held[k].p, size);
                break;
            }
            size_t kept = size < held[k].size ? size : held[k].size;
            at = pattern_check(q, kept, held[k].tag);
            if (at != kept)
                hfail(w, "lk_reallocarray to %zu bytes lost byte %zu of %zu", size, at, kept);
            if (q != held[k].p) {
                w->allocs++;
                w->frees++;
            }
            held[k].tag += 0x1000;
            pattern_fill(q, size, held[k].tag);
            held[k].p = q;
            held[k].size = size;
        } else {
            lk_free(held[k].p);
            w->frees++;
            held[k] = held[--n];
        }
    }
    for (int k = 0; k < n; k++) {
        lk_free(held[k].p);
        w->frees++;
    }
    free(held);
    return NULL;
}

static void run_hmix(int nthreads, int ops, int max_held, int large_pct, lk_locking_t how,
                     uint64_t seed)
{
    ck_assert_msg(lk_set_locking(how) == 0, "lk_set_locking(%s) failed", locking_name(how));
    hworker_t ws[16];
    void *args[16];
    for (int i = 0; i < nthreads; i++) {
        ws[i] = (hworker_t){.id = i, .ops = ops, .max_held = max_held, .large_pct = large_pct,
                            .rng = seed * 7919 + (uint64_t)i * 104729 + 1};
        args[i] = &ws[i];
    }
    lk_stats_t before = lk_get_stats();
    run_threads(nthreads, hmix, args);
    stats_delta_t d = stats_delta(before, lk_get_stats());
    long allocs = 0, frees = 0;
    for (int i = 0; i < nthreads; i++) {
        ck_assert_msg(ws[i].err[0] == '\0', "%s (%d threads, %s, seed %llu)", ws[i].err, nthreads,
                      locking_name(how), (unsigned long long)seed);
        allocs += ws[i].allocs;
        frees += ws[i].frees;
    }
    ck_assert_msg(d.allocs == allocs && d.frees == frees && d.in_use == 0,
                  "%d threads (%s, seed %llu) made %ld allocations and %ld frees and kept "
                  "nothing: expected alloc_count +%ld, free_count +%ld, in_use +0; got %+ld, "
                  "%+ld, %+ld", nthreads, locking_name(how), (unsigned long long)seed, allocs,
                  frees, allocs, frees, d.allocs, d.frees, d.in_use);
    ck_assert_msg(d.waits <= d.locks, "contention_count grew by %ld, lock_count by %ld only",
                  d.waits, d.locks);
}

ALAB_TEST(varied_mix)
{
    uint64_t seed = alab_seed(5), r = seed | 1;
    for (int round = 0; round < 2; round++) {
        int nthreads = 2 + (int)(rng_next(&r) % 9); /* 2..10 */
        int max_held = 8 + (int)(rng_next(&r) % 200);
        int large_pct = 1 + (int)(rng_next(&r) % 8);
        lk_locking_t how = round == 0 ? LK_ONE_LOCK : LK_PER_CLASS;
        run_hmix(nthreads, 12000, max_held, large_pct, how, seed + (uint64_t)round);
    }
}

/* Blocks of every function of the family travel through a shared stack from
 * the threads that allocate them to the threads that free them. */
enum { STACK = 512 };
static struct {
    pthread_mutex_t lock;
    hheld_t items[STACK];
    int n;
} shared = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *handoff(void *arg)
{
    hworker_t *w = arg;
    for (int i = 0; i < w->ops && w->err[0] == '\0'; i++) {
        uint64_t r = rng_next(&w->rng);
        hheld_t mine = {0};
        bool take = r % 2 == 0;
        pthread_mutex_lock(&shared.lock);
        if (take && shared.n > 0)
            mine = shared.items[--shared.n];
        pthread_mutex_unlock(&shared.lock);
        if (mine.p != NULL) {
            size_t at = pattern_check(mine.p, mine.size, mine.tag);
            if (at != mine.size)
                hfail(w, "a %zu-byte block (%p) from another thread changed at byte %zu",
                      mine.size, mine.p, at);
            lk_free(mine.p);
            w->frees++;
            continue;
        }
        size_t size = hsize(w);
        void *p = hallocate(w, size, r);
        if (p == NULL) {
            hfail(w, "an allocation of %zu bytes returned NULL", size);
            break;
        }
        w->allocs++;
        mine = (hheld_t){p, size, (uint32_t)(w->id << 24 | i)};
        pattern_fill(p, size, mine.tag);
        pthread_mutex_lock(&shared.lock);
        bool stored = shared.n < STACK;
        if (stored)
            shared.items[shared.n++] = mine;
        pthread_mutex_unlock(&shared.lock);
        if (!stored) {
            lk_free(p);
            w->frees++;
        }
    }
    return NULL;
}

ALAB_TEST(varied_handoff)
{
    uint64_t seed = alab_seed(11), r = seed * 3 + 1;
    int nthreads = 3 + (int)(rng_next(&r) % 6);
    lk_locking_t how = rng_next(&r) % 2 ? LK_ONE_LOCK : LK_PER_CLASS;
    ck_assert_msg(lk_set_locking(how) == 0, "lk_set_locking(%s) failed", locking_name(how));
    hworker_t ws[16];
    void *args[16];
    for (int i = 0; i < nthreads; i++) {
        ws[i] = (hworker_t){.id = i, .ops = 15000, .large_pct = 3, .rng = seed + (uint64_t)i * 17};
        args[i] = &ws[i];
    }
    lk_stats_t before = lk_get_stats();
    run_threads(nthreads, handoff, args);
    long allocs = 0, frees = 0;
    for (int i = 0; i < nthreads; i++) {
        ck_assert_msg(ws[i].err[0] == '\0', "%s (%d threads, %s, seed %llu)", ws[i].err, nthreads,
                      locking_name(how), (unsigned long long)seed);
        allocs += ws[i].allocs;
        frees += ws[i].frees;
    }
    for (int k = 0; k < shared.n; k++) {
        lk_free(shared.items[k].p);
        frees++;
    }
    shared.n = 0;
    stats_delta_t d = stats_delta(before, lk_get_stats());
    ck_assert_msg(d.allocs == allocs && d.frees == frees && d.in_use == 0,
                  "blocks handed between %d threads (%s, seed %llu): expected alloc_count +%ld, "
                  "free_count +%ld, in_use +0; got %+ld, %+ld, %+ld", nthreads, locking_name(how),
                  (unsigned long long)seed, allocs, frees, d.allocs, d.frees, d.in_use);
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex05-locks-hidden");
    ALAB_ADD(s, varied_mix, 60);
    ALAB_ADD(s, varied_handoff, 60);
    return s;
}

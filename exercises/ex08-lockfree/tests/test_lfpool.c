/* test_lfpool.c — the public tests of exercise 08. Each test checks one rule
 * of the statement (README.md); its name is a case of exercise.ini. */
#include "lf_testlib.h"

#include <signal.h>
#include <unistd.h>

/* ---- basics ---- */

ALAB_TEST(basics)
{
    ck_assert_msg(lf_create(0, 10) == NULL, "lf_create(0, 10) must return NULL (block_size 0)");
    ck_assert_msg(lf_create(64, 0) == NULL, "lf_create(64, 0) must return NULL (capacity 0)");
    ck_assert_msg(lf_create(64, (size_t)LF_MAX_BLOCKS + 1) == NULL,
                  "lf_create(64, LF_MAX_BLOCKS + 1) must return NULL");
    static const size_t sizes[] = {1, 8, 24, 64, 100, 4096};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t bs = sizes[s], n = 50;
        lf_pool_t *pool = lf_create(bs, n);
        ck_assert_msg(pool != NULL, "lf_create(%zu, %zu) returned NULL", bs, n);
        void *held[50];
        for (size_t i = 0; i < n; i++) {
            held[i] = lf_alloc(pool);
            ck_assert_msg(held[i] != NULL, "lf_create(%zu, %zu): alloc %zu returned NULL", bs, n, i);
            ck_assert_msg((uintptr_t)held[i] % LF_ALIGN == 0,
                          "block %p of size %zu is not aligned to %d bytes", held[i], bs, LF_ALIGN);
            pattern_fill(held[i], bs, (uint32_t)i);
        }
        for (size_t i = 0; i < n; i++)
            ck_assert_pattern(held[i], bs, (uint32_t)i, "50 blocks held at once");
        lf_free(pool, NULL);
        ck_assert_msg(lf_check(pool) == 0,
                      "all %zu blocks held, lf_free(pool, NULL) called: lf_check counts %zu free "
                      "blocks, not 0",
                      n, lf_check(pool));
        for (size_t i = 0; i < n; i++)
            lf_free(pool, held[i]);
        ck_assert_msg(lf_check(pool) == n, "every block freed: lf_check counts %zu, not %zu",
                      lf_check(pool), n);
        /* LIFO: the block freed last comes out first */
        void *a = lf_alloc(pool), *b = lf_alloc(pool);
        lf_free(pool, a);
        lf_free(pool, b);
        void *first = lf_alloc(pool), *second = lf_alloc(pool);
        ck_assert_msg(first == b && second == a,
                      "freed a then b, then allocated twice: got %s; the free list must be a "
                      "stack (LIFO): b, then a",
                      first == a ? "a first" : "another block");
        lf_free(pool, first);
        lf_free(pool, second);
        lf_destroy(pool);
    }
}

/* ---- exhaustion ---- */

ALAB_TEST(exhaustion)
{
    enum { N = 100 };
    lf_pool_t *pool = lf_create(48, N);
    ck_assert_msg(pool != NULL, "lf_create(48, %d) returned NULL", N);
    void *held[N];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            held[i] = lf_alloc(pool);
            ck_assert_msg(held[i] != NULL, "lf_create(48, %d): alloc %d returned NULL", N, i);
        }
        ck_assert_msg(lf_alloc(pool) == NULL,
                      "all %d blocks held: lf_alloc must return NULL, it returned a block", N);
        ck_assert_msg(lf_alloc(pool) == NULL, "all %d blocks held: a second lf_alloc must "
                      "return NULL too", N);
        ck_assert_msg(lf_check(pool) == 0, "all blocks held: lf_check counts %zu free, not 0",
                      lf_check(pool));
        lf_free(pool, held[37]);
        void *back = lf_alloc(pool);
        ck_assert_msg(back == held[37], "the only free block was %p; lf_alloc returned %p",
                      held[37], back);
        ck_assert_msg(lf_alloc(pool) == NULL, "all blocks held again: lf_alloc must return NULL");
        for (int i = 0; i < N; i++)
            lf_free(pool, held[i]);
        ck_assert_msg(lf_check(pool) == N, "every block freed: lf_check counts %zu, not %d",
                      lf_check(pool), N);
    }
    lf_destroy(pool);
}

/* ---- no overlap: 8 threads ---- */

typedef struct {
    lf_pool_t *pool;
    size_t block_size;
    int id, rounds;
    long nulls;
} worker_arg_t;

/* Takes 1..64 blocks, fills each with a pattern of its own, checks them all,
 * frees them; rounds times. A NULL is tolerated here (never-null judges it). */
static void *overlap_worker(void *p)
{
    worker_arg_t *a = p;
    my_yield_every = 32; /* stretch the pops: see lf_pause_point */
    uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(a->id + 1);
    void *held[64];
    uint32_t tags[64];
    for (int r = 0; r < a->rounds; r++) {
        int n = 1 + (int)(rng_next(&rng) % 64), got = 0;
        for (int i = 0; i < n; i++) {
            void *b = lf_alloc(a->pool);
            if (b == NULL) {
                a->nulls++;
                continue;
            }
            tags[got] = (uint32_t)(a->id << 24 | r << 6 | i);
            pattern_fill(b, a->block_size, tags[got]);
            held[got++] = b;
        }
        for (int i = 0; i < got; i++) {
            char what[96];
            snprintf(what, sizeof what, "thread %d, round %d", a->id, r);
            ck_assert_pattern(held[i], a->block_size, tags[i], what);
        }
        for (int i = 0; i < got; i++)
            lf_free(a->pool, held[i]);
    }
    return NULL;
}

static void run_overlap(int threads, size_t block_size, int rounds)
{
    size_t capacity = (size_t)threads * 64 + 16;
    lf_pool_t *pool = lf_create(block_size, capacity);
    ck_assert_msg(pool != NULL, "lf_create(%zu, %zu) returned NULL", block_size, capacity);
    worker_arg_t args[16];
    void *argp[16];
    for (int t = 0; t < threads; t++) {
        args[t] = (worker_arg_t){.pool = pool, .block_size = block_size, .id = t, .rounds = rounds};
        argp[t] = &args[t];
    }
    run_threads(threads, overlap_worker, argp);
    ck_assert_msg(lf_check(pool) == capacity,
                  "%d threads took and gave back blocks; once they were done, lf_check counts "
                  "%zu free blocks of %zu",
                  threads, lf_check(pool), capacity);
    lf_destroy(pool);
}

ALAB_TEST(no_overlap)
{
    run_overlap(8, 64, rounds_here(1000));
}

/* ---- never NULL while blocks are free ---- */

/* Each thread holds at most `hold` blocks; the pool has more than threads *
 * hold, so the stack is never empty and lf_alloc must never return NULL. */
typedef struct {
    lf_pool_t *pool;
    int id, rounds, hold;
    long nulls;
} churn_arg_t;

static void *churn_worker(void *p)
{
    churn_arg_t *a = p;
    void *held[32];
    for (int r = 0; r < a->rounds; r++) {
        for (int i = 0; i < a->hold; i++)
            if ((held[i] = lf_alloc(a->pool)) == NULL)
                a->nulls++;
        for (int i = 0; i < a->hold; i++)
            lf_free(a->pool, held[i]);
    }
    return NULL;
}

typedef struct {
    lf_pool_t *pool;
    void **got;
} take_one_t;

static void take_one(void *p)
{
    take_one_t *t = p;
    *t->got = lf_alloc(t->pool);
    script_step();
}

ALAB_TEST(never_null)
{
    /* First, deterministically: a pop whose compare-and-swap fails retries. */
    enum { N = 8 };
    lf_pool_t *pool = lf_create(64, N);
    ck_assert_msg(pool != NULL, "lf_create(64, %d) returned NULL", N);
    void *b_got = NULL, *a_got;
    int calls = 0;
    if (run_scene(pool, take_one, &(take_one_t){pool, &b_got}, &a_got, &calls)) {
        const char *scene = "thread A stopped in lf_alloc after reading the head; thread B "
                            "took the top block; A resumed";
        ck_assert_msg(b_got != NULL, "lf_alloc returned NULL with %d blocks free", N);
        ck_assert_msg(a_got != NULL,
                      "%s: A's lf_alloc returned NULL while %d blocks were free: when the "
                      "compare-and-swap fails, read the head again and retry",
                      scene, N - 1);
        ck_assert_msg(a_got != b_got, "%s: A got B's block %p: one block went to two holders",
                      scene, a_got);
        ck_assert_msg(calls >= 2,
                      "%s: A's compare-and-swap succeeded at the first attempt although the "
                      "head had changed: lf_pause_point() must come after the read of the "
                      "head, not before it",
                      scene);
        ck_assert_msg(lf_check(pool) == N - 2,
                      "%s: lf_check counts %zu free blocks; %d are free: the retry used a link "
                      "read before the head changed",
                      scene, lf_check(pool), N - 2);
    }
    lf_free(pool, a_got);
    lf_free(pool, b_got);
    lf_destroy(pool);

    /* Then under load: 8 threads, each holding up to 16 of 200 blocks. */
    enum { THREADS = 8, HOLD = 16, CAP = THREADS * HOLD + 72 };
    pool = lf_create(32, CAP);
    ck_assert_msg(pool != NULL, "lf_create(32, %d) returned NULL", CAP);
    churn_arg_t args[THREADS];
    void *argp[THREADS];
    for (int t = 0; t < THREADS; t++) {
        args[t] = (churn_arg_t){.pool = pool, .id = t, .rounds = rounds_here(20000), .hold = HOLD};
        argp[t] = &args[t];
    }
    run_threads(THREADS, churn_worker, argp);
    long nulls = 0;
    for (int t = 0; t < THREADS; t++)
        nulls += args[t].nulls;
    ck_assert_msg(nulls == 0,
                  "%d threads each held at most %d of %d blocks, so the stack was never empty; "
                  "lf_alloc returned NULL %ld times: a pop whose compare-and-swap fails must "
                  "retry, not give up",
                  THREADS, HOLD, CAP, nulls);
    ck_assert_msg(lf_check(pool) == CAP, "once the threads were done, lf_check counts %zu free "
                  "blocks of %d", lf_check(pool), CAP);
    lf_destroy(pool);
}

/* ---- ABA and the tag ---- */

ALAB_TEST(aba)
{
    scene_aba(8, 64, 2);
}

ALAB_TEST(tag_wrap)
{
    scene_tag_wrap(8, 64, (1L << 16) - 3);
}

/* ---- progress ---- */

/* Part 1, deterministic: thread A stops at its pause point, inside lf_alloc,
 * for as long as the test likes. Other threads must still take and give back
 * blocks. A lock held around the pop keeps them waiting. */
typedef struct {
    lf_pool_t *pool;
    sem_t done;
    int pairs;
} quick_arg_t;

static void *quick_worker(void *p)
{
    quick_arg_t *q = p;
    for (int i = 0; i < q->pairs; i++) {
        void *b = lf_alloc(q->pool);
        lf_free(q->pool, b);
    }
    sem_post(&q->done);
    return NULL;
}

/* Part 2, at random moments: a signal stops a churning thread wherever it is
 * (in lf_free too), until thawed, or for one second at most. */
static atomic_int frozen, thaw, churn_stop;

static void freeze_handler(int sig)
{
    (void)sig;
    atomic_store(&frozen, 1);
    for (int i = 0; i < 10000 && !atomic_load(&thaw); i++) {
        struct timespec ts = {0, 100000}; /* nanosleep is async-signal-safe */
        nanosleep(&ts, NULL);
    }
    atomic_store(&frozen, 0);
}

static void *forever_worker(void *p)
{
    lf_pool_t *pool = p;
    void *held[64];
    while (!atomic_load(&churn_stop)) {
        for (int i = 0; i < 64; i++)
            held[i] = lf_alloc(pool);
        for (int i = 0; i < 64; i++)
            lf_free(pool, held[i]);
    }
    return NULL;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

ALAB_TEST(progress)
{
    enum { CAP = 256, PAIRS = 2000 };
    lf_pool_t *pool = lf_create(64, CAP);
    ck_assert_msg(pool != NULL, "lf_create(64, %d) returned NULL", CAP);

    paused_pop_t a;
    ck_assert_msg(paused_pop_start(&a, pool), PAUSE_POINT_MISSED);
    quick_arg_t q = {.pool = pool, .pairs = PAIRS};
    sem_init(&q.done, 0, 0);
    pthread_t t;
    ck_assert_msg(pthread_create(&t, NULL, quick_worker, &q) == 0, "cannot start a thread");
    bool in_time = sem_wait_ms(&q.done, 1500);
    void *a_got = paused_pop_finish(&a, NULL); /* A goes on only now */
    pthread_join(t, NULL);
    sem_destroy(&q.done);
    ck_assert_msg(in_time,
                  "thread A stopped inside lf_alloc (at lf_pause_point()); thread B could not "
                  "do %d allocs and frees in 1.5 s: B waited for A, so the pool takes a lock "
                  "(a spinlock of atomic_flag is a lock too)",
                  PAIRS);
    lf_free(pool, a_got);

    struct sigaction sa = {.sa_handler = freeze_handler};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    atomic_store(&churn_stop, 0);
    ck_assert_msg(pthread_create(&t, NULL, forever_worker, pool) == 0, "cannot start a thread");
    uint64_t rng = 12345;
    double worst = 0;
    void *held[128];
    for (int trial = 0; trial < 30 && worst <= 500; trial++) {
        struct timespec pause = {0, (long)(rng_next(&rng) % 1000000)};
        nanosleep(&pause, NULL);
        atomic_store(&thaw, 0);
        pthread_kill(t, SIGUSR1);
        while (!atomic_load(&frozen)) {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int r = 0; r < 20; r++) {
            for (int i = 0; i < 128; i++)
                held[i] = lf_alloc(pool);
            for (int i = 0; i < 128; i++)
                lf_free(pool, held[i]);
        }
        double ms = ms_since(&t0);
        worst = ms > worst ? ms : worst;
        atomic_store(&thaw, 1);
        while (atomic_load(&frozen)) {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
    atomic_store(&churn_stop, 1);
    atomic_store(&thaw, 1);
    pthread_join(t, NULL);
    ck_assert_msg(lf_check(pool) == CAP, "after the progress test, lf_check counts %zu free "
                  "blocks of %d", lf_check(pool), CAP);
    lf_destroy(pool);
    ck_assert_msg(worst <= 500,
                  "while a thread was stopped by a signal in the middle of its allocs and frees, "
                  "another needed %.0f ms for 5120 of them: it waited for the stopped thread, "
                  "so the pool takes a lock",
                  worst);
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex08-lockfree");
    ALAB_ADD(s, basics, 10);
    ALAB_ADD(s, exhaustion, 10);
    ALAB_ADD(s, no_overlap, 30);
    ALAB_ADD(s, never_null, 30);
    ALAB_ADD(s, aba, 20);
    ALAB_ADD(s, tag_wrap, 20);
    ALAB_ADD(s, progress, 30);
    return s;
}

/* test_bonus.c — probes for the bonus designs of exercise 06. Each is judged by
 * what the pool does, not by what its source says:
 *
 *   own_blocks (bonus/thread-cache): a block a thread frees comes back to that
 *     thread, not to another thread on the same CPU; and a thread that allocates
 *     and frees in a loop almost never takes a lock.
 *   cpu_blocks (bonus/per-cpu): a block freed on a CPU goes to the next thread
 *     that allocates on that CPU, not to a thread on another CPU.
 *   no_lock_taken, progress (bonus/lock-free): once the pool holds enough
 *     blocks, no lock is taken even when the shared free structure is used; and
 *     a thread stopped in the middle of pool_alloc or pool_free never keeps
 *     another thread waiting.
 *
 * Lock calls are counted by linking with -Wl,--wrap=pthread_mutex_lock (and the
 * other lock functions): every call the student's object makes lands in the
 * __wrap_ functions below first.
 */
#include "pool_testlib.h"

#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* ---- counting lock acquisitions ---- */

static atomic_long lock_calls;
static _Thread_local long my_lock_calls;

#define WRAP(ret, name, params, args)                                                         \
    ret __real_##name params;                                                              \
    ret __wrap_##name params;                                                              \
    ret __wrap_##name params                                                               \
    {                                                                                      \
        atomic_fetch_add_explicit(&lock_calls, 1, memory_order_relaxed);                   \
        my_lock_calls++;                                                                   \
        return __real_##name args;                                                         \
    }

WRAP(int, pthread_mutex_lock, (pthread_mutex_t * m), (m))
WRAP(int, pthread_mutex_trylock, (pthread_mutex_t * m), (m))
WRAP(int, pthread_mutex_timedlock, (pthread_mutex_t * m, const struct timespec *t), (m, t))
WRAP(int, pthread_spin_lock, (pthread_spinlock_t * s), (s))
WRAP(int, pthread_spin_trylock, (pthread_spinlock_t * s), (s))
WRAP(int, pthread_rwlock_rdlock, (pthread_rwlock_t * l), (l))
WRAP(int, pthread_rwlock_wrlock, (pthread_rwlock_t * l), (l))
WRAP(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t * l), (l))
WRAP(int, pthread_rwlock_trywrlock, (pthread_rwlock_t * l), (l))
WRAP(int, sem_wait, (sem_t * s), (s))

/* ---- running steps in order on pinned threads ---- */

/* CPUs this process may use; the test needs the first one or two. */
static int allowed_cpus(int *cpus, int max)
{
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set))
            cpus[n++] = c;
    return n;
}

/* A helper thread pinned to one CPU that runs the steps it is given, one at a
 * time, while the main thread waits: steps on different threads never overlap,
 * so what each thread gets back is determined. */
typedef struct {
    pthread_t tid;
    int cpu;
    sem_t go, done;
    void (*step)(void *);
    void *arg;
    bool quit;
} stepper_t;

static void *stepper_main(void *p)
{
    stepper_t *s = p;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(s->cpu, &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    for (;;) {
        __real_sem_wait(&s->go);
        if (s->quit)
            return NULL;
        s->step(s->arg);
        sem_post(&s->done);
    }
}

static void stepper_start(stepper_t *s, int cpu)
{
    s->cpu = cpu;
    s->quit = false;
    sem_init(&s->go, 0, 0);
    sem_init(&s->done, 0, 0);
    ck_assert_msg(pthread_create(&s->tid, NULL, stepper_main, s) == 0, "cannot start a thread");
}

static void stepper_run(stepper_t *s, void (*step)(void *), void *arg)
{
    s->step = step;
    s->arg = arg;
    sem_post(&s->go);
    __real_sem_wait(&s->done);
}

static void stepper_stop(stepper_t *s)
{
    s->quit = true;
    sem_post(&s->go);
    pthread_join(s->tid, NULL);
}

typedef struct {
    pool_t *pool;
    void *block; /* in/out */
    long locks;  /* lock calls made by the step's thread */
} step_arg_t;

/* Allocates and frees 100 blocks: every thread starts with some state. */
static void step_warm(void *p)
{
    step_arg_t *a = p;
    void *held[100];
    for (int i = 0; i < 100; i++)
        held[i] = pool_alloc(a->pool);
    for (int i = 0; i < 100; i++)
        pool_free(a->pool, held[i]);
}

static void step_alloc(void *p)
{
    step_arg_t *a = p;
    a->block = pool_alloc(a->pool);
}

static void step_free(void *p)
{
    step_arg_t *a = p;
    pool_free(a->pool, a->block);
}

/* 100000 alloc/free pairs, counting this thread's lock calls. */
static void step_loop(void *p)
{
    step_arg_t *a = p;
    long before = my_lock_calls;
    for (int i = 0; i < 100000; i++) {
        void *b = pool_alloc(a->pool);
        pool_free(a->pool, b);
    }
    a->locks = my_lock_calls - before;
}

/* ---- bonus/thread-cache ---- */

ALAB_TEST(own_blocks)
{
    int cpus[1];
    ck_assert_msg(allowed_cpus(cpus, 1) == 1, "no CPU to run on");
    pool_t *pool = pool_create(64, 4096);
    ck_assert_msg(pool != NULL, "pool_create(64, 4096) returned NULL");
    stepper_t a, b;
    stepper_start(&a, cpus[0]);
    stepper_start(&b, cpus[0]);
    step_arg_t sa = {.pool = pool}, sb = {.pool = pool};
    stepper_run(&a, step_warm, &sa);
    stepper_run(&b, step_warm, &sb);
    stepper_run(&a, step_alloc, &sa);
    void *freed = sa.block;
    ck_assert_msg(freed != NULL, "pool_alloc returned NULL");
    stepper_run(&a, step_free, &sa);
    stepper_run(&b, step_alloc, &sb);
    stepper_run(&a, step_alloc, &sa);
    void *b_got = sb.block, *a_got = sa.block;
    stepper_run(&a, step_free, &sa);
    stepper_run(&b, step_free, &sb);
    stepper_run(&a, step_loop, &sa);
    stepper_stop(&a);
    stepper_stop(&b);
    pool_destroy(pool);
    ck_assert_msg(b_got != freed,
                  "thread A freed a block and thread B (same CPU) allocated next: B got A's "
                  "block, so freed blocks go to a stock shared by threads, not to a cache of A's");
    ck_assert_msg(a_got == freed,
                  "thread A freed a block and, after B allocated, allocated again: A did not get "
                  "its block back, so A has no cache of its own (or it is not LIFO)");
    ck_assert_msg(sa.locks <= 1000,
                  "one thread did 100000 alloc/free pairs and took a lock %ld times: a thread "
                  "cache should serve those pairs without the pool's lock",
                  sa.locks);
}

/* ---- bonus/per-cpu ---- */

ALAB_TEST(cpu_blocks)
{
    int cpus[2];
    ck_assert_msg(allowed_cpus(cpus, 2) == 2, "this probe needs 2 CPUs (the grader skips it "
                  "on smaller machines)");
    pool_t *pool = pool_create(64, 4096);
    ck_assert_msg(pool != NULL, "pool_create(64, 4096) returned NULL");
    stepper_t a, b, c; /* a and b on the first CPU, c on the second */
    stepper_start(&a, cpus[0]);
    stepper_start(&b, cpus[0]);
    stepper_start(&c, cpus[1]);
    step_arg_t sa = {.pool = pool}, sb = {.pool = pool}, sc = {.pool = pool};
    stepper_run(&a, step_warm, &sa);
    stepper_run(&b, step_warm, &sb);
    stepper_run(&c, step_warm, &sc);
    stepper_run(&a, step_alloc, &sa);
    void *freed = sa.block;
    ck_assert_msg(freed != NULL, "pool_alloc returned NULL");
    stepper_run(&a, step_free, &sa);
    stepper_run(&c, step_alloc, &sc);
    stepper_run(&b, step_alloc, &sb);
    void *c_got = sc.block, *b_got = sb.block;
    stepper_run(&c, step_free, &sc);
    stepper_run(&b, step_free, &sb);
    stepper_stop(&a);
    stepper_stop(&b);
    stepper_stop(&c);
    pool_destroy(pool);
    ck_assert_msg(c_got != freed, "a block freed on CPU %d went to a thread on CPU %d: there "
                  "is no stock per CPU", cpus[0], cpus[1]);
    ck_assert_msg(b_got == freed, "a block freed on CPU %d did not go to the next thread "
                  "allocating on CPU %d: the stock is not per CPU (a cache per thread keeps it)",
                  cpus[0], cpus[0]);
}

/* ---- bonus/lock-free ---- */

/* More blocks than any thread cache holds (the reference's holds 2048 of 64 B),
 * so that every round goes through the shared structure. */
enum { LF_CAPACITY = 200000, LF_HELD = 5000, LF_FROZEN_HELD = 20000 };

static void *lf_churn(void *arg)
{
    pool_t *pool = arg;
    void **held = malloc(LF_HELD * sizeof *held);
    for (int r = 0; r < 20; r++) {
        for (int i = 0; i < LF_HELD; i++)
            held[i] = pool_alloc(pool);
        for (int i = 0; i < LF_HELD; i++)
            pool_free(pool, held[i]);
    }
    free(held);
    return NULL;
}

/* A pool whose whole capacity has been carved and given back once. */
static pool_t *warm_pool(void)
{
    pool_t *pool = pool_create(64, LF_CAPACITY);
    ck_assert_msg(pool != NULL, "pool_create(64, %d) returned NULL", LF_CAPACITY);
    void **all = malloc(LF_CAPACITY * sizeof *all);
    for (int i = 0; i < LF_CAPACITY; i++)
        ck_assert_msg((all[i] = pool_alloc(pool)) != NULL, "pool_alloc returned NULL");
    for (int i = 0; i < LF_CAPACITY; i++)
        pool_free(pool, all[i]);
    free(all);
    return pool;
}

ALAB_TEST(no_lock_taken)
{
    pool_t *pool = warm_pool();
    void *args[4] = {pool, pool, pool, pool};
    long before = atomic_load(&lock_calls);
    run_threads(4, lf_churn, args);
    long taken = atomic_load(&lock_calls) - before;
    pool_destroy(pool);
    ck_assert_msg(taken == 0,
                  "4 threads allocated and freed %d blocks at a time, 20 times, from a pool that "
                  "already held all the blocks they needed, and took a lock %ld times: a "
                  "lock-free pool takes none",
                  LF_HELD, taken);
}

/* The frozen thread: a signal stops it wherever it is, until thawed, or for one
 * second at most, so that a pool that waits for it is caught, not hung. */
static atomic_int frozen, thaw;

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

static atomic_int churn_stop;

static void *lf_forever(void *arg)
{
    pool_t *pool = arg;
    void **held = malloc(LF_FROZEN_HELD * sizeof *held);
    while (!atomic_load(&churn_stop)) {
        for (int i = 0; i < LF_FROZEN_HELD; i++)
            held[i] = pool_alloc(pool);
        for (int i = 0; i < LF_FROZEN_HELD; i++)
            pool_free(pool, held[i]);
    }
    free(held);
    return NULL;
}

ALAB_TEST(progress)
{
    pool_t *pool = warm_pool();
    struct sigaction sa = {.sa_handler = freeze_handler};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    atomic_store(&churn_stop, 0);
    ck_assert_msg(pthread_create(&t, NULL, lf_forever, pool) == 0, "cannot start a thread");
    void **held = malloc(LF_HELD * sizeof *held);
    uint64_t rng = 12345;
    double worst = 0;
    for (int trial = 0; trial < 40; trial++) {
        struct timespec pause = {0, (long)(rng_next(&rng) % 2000000)};
        nanosleep(&pause, NULL);
        atomic_store(&thaw, 0);
        pthread_kill(t, SIGUSR1);
        while (!atomic_load(&frozen)) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
        /* The other thread is stopped somewhere, maybe inside the pool: this one
         * must still get and give back blocks through the shared structure. */
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < LF_HELD; i++)
            held[i] = pool_alloc(pool);
        for (int i = 0; i < LF_HELD; i++)
            pool_free(pool, held[i]);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        atomic_store(&thaw, 1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        worst = ms > worst ? ms : worst;
        if (ms > 500)
            break;
    }
    atomic_store(&churn_stop, 1);
    atomic_store(&thaw, 1);
    pthread_join(t, NULL);
    free(held);
    pool_destroy(pool);
    ck_assert_msg(worst <= 500,
                  "while one thread was stopped in the middle of its work, another needed %.0f ms "
                  "for %d allocs and frees: it waited for the stopped thread, so the pool is "
                  "not lock-free",
                  worst, LF_HELD);
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex06-mtpool-bonus");
    ALAB_ADD(s, own_blocks, 30);
    ALAB_ADD(s, cpu_blocks, 30);
    ALAB_ADD(s, no_lock_taken, 60);
    ALAB_ADD(s, progress, 60);
    return s;
}

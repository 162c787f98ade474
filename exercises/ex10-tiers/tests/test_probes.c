/* test_probes.c — what the allocator does with its locks, seen from outside.
 * Built with -Wl,--wrap=pthread_mutex_lock (and the other lock functions):
 * every lock call of the student's objects lands in the __wrap_ functions
 * below first, which count it and can park the calling thread.
 *
 *   lock_share: 4 threads on a steady mix of requests below 2 KiB take a lock
 *     for at most 2 % of their operations (the seed: "zero contention for
 *     allocations < 2KB").
 *   fork: a thread is parked while it holds one of the allocator's locks and
 *     the main thread forks; in the child, the allocator must work (it must
 *     not inherit a lock that nobody will release: pthread_atfork).
 */
#include "tiers_testlib.h"

#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

/* ---- counting, and parking, lock calls ---- */

static atomic_long lock_calls;
static pthread_t park_thread;       /* the thread to park, when park_armed */
static atomic_int park_armed, parked, forked, helper_ready;

static void maybe_park(void)
{
    if (!atomic_load(&park_armed) || !pthread_equal(pthread_self(), park_thread))
        return;
    atomic_store(&park_armed, 0);
    atomic_store(&parked, 1);
    /* hold the lock until the main thread has forked, or 300 ms: an allocator
     * whose fork handler waits for this lock gets it then */
    for (int i = 0; i < 300 && !atomic_load(&forked); i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

#define WRAP(ret, name, params, args)                                                         \
    ret __real_##name params;                                                                 \
    ret __wrap_##name params;                                                                 \
    ret __wrap_##name params                                                                  \
    {                                                                                         \
        atomic_fetch_add_explicit(&lock_calls, 1, memory_order_relaxed);                      \
        ret r_ = __real_##name args;                                                          \
        if (r_ == 0)                                                                          \
            maybe_park();                                                                     \
        return r_;                                                                            \
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

/* ---- lock share ---- */

enum { LS_THREADS = 4, LS_WINDOW = 64, LS_OPS = 100000 };

typedef struct {
    int id;
    long ops; /* mallocs and frees */
    char err[160];
} ls_worker_t;

static void *ls_worker(void *arg)
{
    ls_worker_t *w = arg;
    void *slot[LS_WINDOW] = {0};
    uint64_t rng = 31 + (uint64_t)w->id;
    for (int i = 0; i < LS_OPS; i++) {
        uint64_t r = rng_next(&rng);
        size_t k = r % LS_WINDOW, size = 1 + (r >> 16) % (TI_MAX_SMALL - 1);
        if (slot[k] != NULL) {
            ti_free(slot[k]);
            w->ops++;
        }
        slot[k] = ti_malloc(size);
        w->ops++;
        if (slot[k] == NULL) {
            snprintf(w->err, sizeof w->err, "thread %d: ti_malloc(%zu) returned NULL", w->id, size);
            break;
        }
        *(char *)slot[k] = 1;
    }
    for (int k = 0; k < LS_WINDOW; k++)
        if (slot[k] != NULL) {
            ti_free(slot[k]);
            w->ops++;
        }
    return NULL;
}

ALAB_TEST(lock_share)
{
    static ls_worker_t w[LS_THREADS];
    void *args[LS_THREADS];
    for (int i = 0; i < LS_THREADS; i++) {
        w[i] = (ls_worker_t){.id = i};
        args[i] = &w[i];
    }
    long before = atomic_load(&lock_calls);
    ti_stats_t s0 = ti_get_stats();
    run_threads(LS_THREADS, ls_worker, args);
    long locks = atomic_load(&lock_calls) - before, ops = 0;
    for (int i = 0; i < LS_THREADS; i++) {
        ck_assert_msg(w[i].err[0] == '\0', "%s", w[i].err);
        ops += w[i].ops;
    }
    stats_delta_t d = stats_delta(s0, ti_get_stats());
    double share = (double)locks / (double)ops;
    ck_assert_msg(share <= 0.02, "%d threads, %ld mallocs and frees of 1-%d bytes: the allocator "
                  "called a lock function %ld times, %.1f %% of the operations; at most 2 %% is the "
                  "target: a hit must take no lock, and a miss must bring a batch", LS_THREADS, ops,
                  TI_MAX_SMALL - 1, locks, share * 100);
    ck_assert_msg(locks == 0 || (d.locks > 0 && d.locks <= locks + 16), "lock_count grew by %ld "
                  "while the allocator called lock functions %ld times: count every lock the family "
                  "takes", d.locks, locks);
}

/* ---- fork while another thread holds a lock of the allocator ---- */

static void *fork_helper(void *arg)
{
    (void)arg;
    void *first = ti_malloc(64); /* the thread's first call (its cache, if any, is made) */
    ti_free(first);
    atomic_store(&helper_ready, 1);
    while (!atomic_load(&park_armed)) /* the main thread arms the trap first */
        sched_yield();
    /* enough traffic in one class to go to tier 2 (a refill or a drain) */
    void *held[300];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 300; i++)
            held[i] = ti_malloc(64);
        for (int i = 0; i < 300; i++)
            ti_free(held[i]);
    }
    return NULL;
}

static void child_work(void)
{
    alarm(3);
    static void *held[TI_NBINS][200];
    for (int c = 0; c < TI_NBINS; c++)
        for (int i = 0; i < 200; i++)
            if ((held[c][i] = ti_malloc(class_sizes[c])) == NULL)
                _exit(3);
    void *large = ti_malloc(300000), *huge = ti_malloc(3 << 20);
    if (large == NULL || huge == NULL)
        _exit(3);
    for (int c = 0; c < TI_NBINS; c++)
        for (int i = 0; i < 200; i++)
            ti_free(held[c][i]);
    ti_free(large);
    ti_free(huge);
    _exit(0);
}

ALAB_TEST(fork_locked)
{
    for (int round = 0; round < 3; round++) {
        atomic_store(&parked, 0);
        atomic_store(&forked, 0);
        void *warm = ti_malloc(64); /* the main thread's cache exists before the fork */
        ti_free(warm);
        atomic_store(&helper_ready, 0);
        ck_assert_int_eq(pthread_create(&park_thread, NULL, fork_helper, NULL), 0);
        while (!atomic_load(&helper_ready))
            sched_yield();
        atomic_store(&park_armed, 1);
        for (int i = 0; i < 3000 && !atomic_load(&parked); i++) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
        atomic_store(&park_armed, 0);
        bool was_parked = atomic_load(&parked);
        pid_t pid = fork();
        ck_assert_msg(pid >= 0, "fork failed");
        if (pid == 0)
            child_work();
        atomic_store(&forked, 1);
        int st = 0;
        waitpid(pid, &st, 0);
        pthread_join(park_thread, NULL);
        ck_assert_msg(was_parked, "the helper thread allocated and freed 1200 objects of 64 bytes "
                      "without taking a lock: the test cannot hold one of your locks across fork()");
        ck_assert_msg(!(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM), "round %d: fork() while another "
                      "thread held one of the allocator's locks; in the child, ti_malloc hung: the "
                      "child inherits the lock held and nobody releases it. Take every lock before "
                      "fork and release (or re-initialise) them after, in both processes: "
                      "pthread_atfork", round);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "round %d: in the child of a fork, "
                      "allocating and freeing failed (status 0x%x)", round, st);
    }
    ck_assert_heap("in the parent after three forks");
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex10-tiers-probes");
    ALAB_ADD(s, lock_share, 30);
    ALAB_ADD(s, fork_locked, 30);
    return s;
}

/* fk_testlib.h — helpers shared by the public and hidden tests of exercise 07.
 *
 *   - the contract's arithmetic (stride, pad, capacity), as in exercise 04;
 *   - fresh pool storage: zeroed natively, "undefined" to memcheck, as the
 *     contract allows any bytes before fk_init;
 *   - parking a thread inside a pool's lock, deterministically: the program is
 *     linked with -Wl,--wrap=pthread_mutex_lock (and trylock), so every lock
 *     the student's object takes passes through __wrap_ below. A thread marked
 *     park_me stops right after it acquires a lock that lies inside its target
 *     pool, and stays there until the thread that calls fork() asks for that
 *     same lock (its prepare handler), or until the test lets it go;
 *   - forks under watchdogs: a child reports through its exit status and a
 *     page shared with the parent (never ck_assert: the child is not the test
 *     process), dies of SIGALRM when it hangs, and fork() itself is watched in
 *     the parent, where a prepare handler can wait for itself forever.
 * Needs _GNU_SOURCE before the first system header.
 */
#ifndef FK_TESTLIB_H
#define FK_TESTLIB_H

#include "alab.h"
#include "alab_testlib.h"
#include "alab_threads.h"
#include "forksafe.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FK_UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(FK_UNDER_TSAN)
#define FK_UNDER_TSAN 1
#endif

#ifdef FK_UNDER_TSAN
/* After a fork from a multithreaded process, ThreadSanitizer sometimes reports
 * the parent's threads as leaked when the child exits (about 1 run in 5): not
 * the student's bug. The grader's TSAN_OPTIONS sets other keys, and the
 * environment overrides only the keys it names. Defined here, in the kit's test
 * program; the rules stage forbids __tsan_* symbols in the student's file. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "report_thread_leaks=0";
}
#endif

/* ck_assert_msg, but cheap when it holds. */
#define require(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

/* ---- the contract's arithmetic ---- */

static inline size_t want_stride(size_t block_size)
{
    return (block_size + FK_ALIGN - 1) / FK_ALIGN * FK_ALIGN;
}

static inline size_t want_pad(const void *arena)
{
    uintptr_t a = (uintptr_t)arena;
    return (size_t)((FK_ARENA_ALIGN - a % FK_ARENA_ALIGN) % FK_ARENA_ALIGN);
}

static inline size_t want_capacity(const void *arena, size_t arena_size, size_t block_size)
{
    size_t pad = want_pad(arena);
    return arena_size > pad ? (arena_size - pad) / want_stride(block_size) : 0;
}

/* Fails unless p is a block of a pool over arena (block_size): inside, on the grid. */
static inline void require_block(const void *p, const void *arena, size_t arena_size,
                                 size_t block_size, const char *what)
{
    const unsigned char *first = (const unsigned char *)arena + want_pad(arena);
    size_t stride = want_stride(block_size), cap = want_capacity(arena, arena_size, block_size);
    const unsigned char *b = p;
    require(b >= first && b < first + cap * stride,
            "%s: fk_alloc returned %p, outside the %zu blocks [%p, %p) that tile the arena", what, p,
            cap, (const void *)first, (const void *)(first + cap * stride));
    require((size_t)(b - first) % stride == 0,
            "%s: fk_alloc returned %p, %zu bytes from the first block, not a multiple of the "
            "stride %zu",
            what, p, (size_t)(b - first), stride);
}

/* A pool's storage before fk_init: any bytes, says the contract. Natively
 * zeros (so a run is the same every time); to memcheck, undefined, so a pool
 * that reads a field before writing it is reported. */
static inline void pool_storage_fresh(forkpool_t *fp)
{
    memset(fp, 0, sizeof *fp);
    VALGRIND_MAKE_MEM_UNDEFINED(fp, sizeof *fp);
}

static inline void require_check(forkpool_t *fp, const char *what)
{
    require(fk_check(fp) == 0, "%s: fk_check found the pool inconsistent (its message is on stderr)",
            what);
}

/* ---- time limits: short natively, longer under a tool that slows us down ---- */

static inline unsigned tool_factor(void)
{
    if (RUNNING_ON_VALGRIND)
        return 10;
#ifdef FK_UNDER_TSAN
    return 3;
#else
    return 1;
#endif
}

/* A child that has not finished in this time hangs: about 2 s natively. */
static inline unsigned child_watchdog_s(void)
{
    return 2 * tool_factor();
}

/* ---- parking a thread inside a pool's lock ---- */

int __real_pthread_mutex_lock(pthread_mutex_t *m);
int __real_pthread_mutex_trylock(pthread_mutex_t *m);
int __wrap_pthread_mutex_lock(pthread_mutex_t *m);
int __wrap_pthread_mutex_trylock(pthread_mutex_t *m);

static struct {
    const forkpool_t *target;          /* the pool whose lock the parked thread takes */
    atomic_int asked;                  /* lock calls of other threads on the held lock */
    pthread_mutex_t *_Atomic held;     /* that lock, once the thread is parked */
    atomic_bool released;              /* the parked thread was let go */
    atomic_bool released_by_fork;      /* ... because fork()'s thread asked for its lock */
    sem_t parked, release;
} park;
static _Thread_local bool park_me; /* this thread parks at its first lock inside park.target */
static _Thread_local bool forking; /* this thread is inside fork() */

static inline void park_release(bool by_fork)
{
    if (!atomic_exchange(&park.released, true)) {
        atomic_store(&park.released_by_fork, by_fork);
        sem_post(&park.release);
    }
}

static inline void park_before_lock(pthread_mutex_t *m)
{
    if (m != atomic_load(&park.held))
        return;
    atomic_fetch_add(&park.asked, 1);
    if (forking)
        park_release(true); /* the prepare handler waits for this lock: let its holder finish */
}

static inline void park_after_lock(pthread_mutex_t *m)
{
    const unsigned char *lo = (const unsigned char *)park.target;
    if (!park_me || (const unsigned char *)m < lo || (const unsigned char *)m >= lo + sizeof(forkpool_t))
        return;
    park_me = false;
    atomic_store(&park.held, m);
    sem_post(&park.parked);
    while (sem_wait(&park.release) != 0 && errno == EINTR)
        ;
}

int __wrap_pthread_mutex_lock(pthread_mutex_t *m)
{
    park_before_lock(m);
    int rc = __real_pthread_mutex_lock(m);
    if (rc == 0)
        park_after_lock(m);
    return rc;
}

int __wrap_pthread_mutex_trylock(pthread_mutex_t *m)
{
    park_before_lock(m);
    int rc = __real_pthread_mutex_trylock(m);
    if (rc == 0)
        park_after_lock(m);
    return rc;
}

typedef struct {
    pthread_t tid;
    forkpool_t *pool;
    void *block; /* what its fk_alloc returned, once let go */
} parked_t;

static void *parked_main(void *p)
{
    parked_t *t = p;
    park_me = true;
    t->block = fk_alloc(t->pool);
    park_me = false;
    return NULL;
}

/* Starts a thread that calls fk_alloc(pool) and stops inside it, holding the
 * pool's lock. Returns when it is there. */
static inline void park_in(parked_t *t, forkpool_t *pool, const char *what)
{
    park.target = pool;
    atomic_store(&park.held, NULL);
    atomic_store(&park.released, false);
    atomic_store(&park.released_by_fork, false);
    atomic_store(&park.asked, 0);
    sem_init(&park.parked, 0, 0);
    sem_init(&park.release, 0, 0);
    t->pool = pool;
    t->block = NULL;
    require(pthread_create(&t->tid, NULL, parked_main, t) == 0, "cannot start a thread");
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += child_watchdog_s();
    int rc;
    while ((rc = sem_timedwait(&park.parked, &until)) != 0 && errno == EINTR)
        ;
    if (rc != 0) {
        park_release(false);
        pthread_join(t->tid, NULL);
        ck_abort_msg("%s: a thread called fk_alloc, and it returned without taking any "
                     "pthread_mutex_lock whose mutex lies inside the forkpool_t: each pool must "
                     "guard its state with its own lock (the lock field)",
                     what);
    }
}

/* Lets the parked thread go (if fork() did not) and joins it. Returns true if
 * fork()'s thread had asked for the parked lock, that is, if fork() waited
 * for the thread inside the pool. */
static inline bool park_end(parked_t *t)
{
    bool by_fork = atomic_load(&park.released) && atomic_load(&park.released_by_fork);
    park_release(false);
    pthread_join(t->tid, NULL);
    return by_fork;
}

/* ---- forks under watchdogs ---- */

/* One page shared by the test process and its children: what each generation
 * (child 1, grandchild 2) was doing last, or why it failed. */
typedef struct {
    char step[3][256];
} child_report_t;
static child_report_t *report;

static inline void report_map(void)
{
    if (report == NULL) {
        void *p = mmap(NULL, sizeof *report, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        require(p != MAP_FAILED, "cannot map a page shared with the children");
        report = p;
    }
    memset(report, 0, sizeof *report);
}

static int generation; /* 0 in the test process, 1 in a child, 2 in a grandchild */

/* In a child: says what it does now (kept if it hangs or fails there). */
__attribute__((format(printf, 1, 2))) static inline void child_step(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(report->step[generation], sizeof report->step[generation], fmt, ap);
    va_end(ap);
}

/* In a child: the step it is at failed. */
#define CHILD_FAIL 1
__attribute__((noreturn)) static inline void child_fail(void)
{
    _exit(CHILD_FAIL);
}

#define child_require(cond)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            child_fail();                                                                          \
    } while (0)

static const char *fork_what = "";

static void fork_hung(int sig)
{
    (void)sig;
    /* fork() is stuck in a prepare handler, the thread's only business: no
     * other thread of this process is inside Check or stdio */
    ck_abort_msg("%s: fork() did not return within %u s: a prepare handler waits for a lock that "
                 "nobody will release (the same handler registered twice, so the registry's lock "
                 "is taken twice? a pool listed twice? a lock of a destroyed pool?)",
                 fork_what, 3 * tool_factor());
}

/* fork(), with a watchdog on the parent's side: a prepare handler that waits
 * for itself fails the test in 3 s. In the child, starts its watchdog and
 * returns 0. */
static inline pid_t fork_watched(const char *what)
{
    fork_what = what;
    if (generation == 0)
        report_map();
    fflush(NULL);
    /* in a child, its own watchdog (SIGALRM's default action) covers fork() too:
     * only the test process may fail the test */
    if (generation == 0) {
        signal(SIGALRM, fork_hung);
        alarm(3 * tool_factor());
    }
    forking = true;
    pid_t pid = fork();
    forking = false;
    if (pid == 0) {
        signal(SIGALRM, SIG_DFL);
        generation++;
        alarm(child_watchdog_s());
        child_step("started");
        return 0;
    }
    if (generation == 0) {
        alarm(0);
        signal(SIGALRM, SIG_DFL);
        require(pid > 0, "%s: fork() failed: %s", what, strerror(errno));
    }
    return pid;
}

/* Waits for a child (a little longer than its watchdog, then SIGKILL).
 * Returns its wait status. */
static inline int child_wait(pid_t pid)
{
    int status = 0;
    struct timespec tick = {0, 2 * 1000 * 1000};
    long waited_ms = 0, limit_ms = (long)(child_watchdog_s() + 2) * 1000;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (waited_ms > limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return status;
        }
        nanosleep(&tick, NULL);
        waited_ms += 2;
    }
}

#define HANG_ADVICE                                                                                \
    "it waits for a lock that was held when fork() copied the process, by a thread the child "     \
    "does not have. Take every lock in a prepare handler, release or re-initialise them in the "   \
    "parent and child handlers (pthread_atfork)"

/* In the test process: fails the test unless the child ended well. */
static inline void require_child_ok(pid_t pid, const char *what)
{
    int st = child_wait(pid);
    const char *at = report->step[1][0] != '\0' ? report->step[1] : "before its first step";
    if (st == -1)
        ck_abort_msg("%s: waitpid failed", what);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return;
    if (WIFSIGNALED(st) && (WTERMSIG(st) == SIGALRM || WTERMSIG(st) == SIGKILL))
        ck_abort_msg("%s: the child hung at \"%s\" (its %u-s watchdog fired): " HANG_ADVICE, what,
                     at, child_watchdog_s());
    if (WIFSIGNALED(st))
        ck_abort_msg("%s: the child crashed with signal %d (%s) at \"%s\"", what, WTERMSIG(st),
                     strsignal(WTERMSIG(st)), at);
    if (WEXITSTATUS(st) == 66)
        ck_abort_msg("%s: ThreadSanitizer reported a problem in the child (at \"%s\")", what, at);
    if (WEXITSTATUS(st) == 99)
        ck_abort_msg("%s: memcheck reported an error in the child (at \"%s\")", what, at);
    ck_abort_msg("%s: in the child, %s", what, at);
}


/* A child's own check of a pool it inherited: takes up to max blocks, each
 * inside the arena, none of them one of the n blocks the parent held at the
 * time of fork(), gives them back. Returns how many it got. */
static inline size_t child_takes(forkpool_t *fp, const char *name, const void *arena,
                                 size_t arena_size, size_t block_size, void *const *held, size_t n,
                                 size_t max)
{
    void *got[64];
    size_t k = 0;
    const unsigned char *first = (const unsigned char *)arena + want_pad(arena);
    size_t stride = want_stride(block_size), cap = want_capacity(arena, arena_size, block_size);
    if (max > 64)
        max = 64;
    for (; k < max; k++) {
        child_step("fk_alloc on pool %s, block %zu", name, k + 1);
        void *p = fk_alloc(fp);
        if (p == NULL)
            break;
        const unsigned char *b = p;
        child_step("fk_alloc on pool %s returned %p, outside its arena or off the grid", name, p);
        child_require(b >= first && b < first + cap * stride && (size_t)(b - first) % stride == 0);
        child_step("fk_alloc on pool %s returned %p, a block the parent held when it forked", name, p);
        for (size_t i = 0; i < n; i++)
            child_require(p != held[i]);
        child_step("fk_alloc on pool %s returned %p twice", name, p);
        for (size_t i = 0; i < k; i++)
            child_require(p != got[i]);
        pattern_fill(p, block_size, (uint32_t)k + 77);
        got[k] = p;
    }
    child_step("fk_check on pool %s with %zu blocks taken found it inconsistent", name, k);
    child_require(fk_check(fp) == 0);
    for (size_t i = k; i-- > 0;) {
        child_step("a block of pool %s lost its bytes in the child", name);
        child_require(pattern_check(got[i], block_size, (uint32_t)i + 77) == block_size);
        child_step("fk_free on pool %s", name);
        fk_free(fp, got[i]);
    }
    for (size_t i = 0; i < k; i++) {
        child_step("fk_alloc on pool %s returned NULL after the child gave %zu blocks back", name, k);
        got[i] = fk_alloc(fp);
        child_require(got[i] != NULL);
    }
    for (size_t i = 0; i < k; i++) {
        child_step("fk_free on pool %s", name);
        fk_free(fp, got[i]);
    }
    child_step("fk_check on pool %s after the child's frees", name);
    child_require(fk_check(fp) == 0);
    return k;
}

#endif

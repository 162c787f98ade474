/* lf_testlib.h — helpers shared by the public and hidden tests of exercise 08:
 * the kit's lf_pause_point() and a gate that parks one thread there, scripted
 * scenarios on a paused pop (ABA, tag wrap-around), byte patterns, threads
 * released together. Include it from exactly one source file per program: it
 * defines lf_pause_point().
 */
#ifndef LF_TESTLIB_H
#define LF_TESTLIB_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* CPU affinity, barriers */
#endif

#include "alab.h"
#include "alab_testlib.h"
#include "alab_threads.h"
#include "lfpool.h"

#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <valgrind/valgrind.h>

/* Under memcheck, which runs one thread at a time and each instruction many
 * times slower, the loops that are long only to make threads meet take a
 * sixteenth of their rounds; under ThreadSanitizer (5 to 15 times slower) a
 * quarter: a race shows within a few hundred rounds. */
#if defined(__SANITIZE_THREAD__)
#define LF_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LF_UNDER_TSAN 1
#endif
#endif
#ifndef LF_UNDER_TSAN
#define LF_UNDER_TSAN 0
#endif

static inline int rounds_here(int n)
{
    if (LF_UNDER_TSAN)
        return (n + 3) / 4;
    return RUNNING_ON_VALGRIND ? (n + 15) / 16 : n;
}

/* Fails the test when block lost its pattern: somebody else wrote into it. */
#define ck_assert_pattern(block, size, tag, what)                                          \
    do {                                                                                   \
        size_t at_ = pattern_check((block), (size), (tag));                                \
        ck_assert_msg(at_ == (size),                                                       \
                      "%s: block %p (%zu bytes) changed at byte %zu while its holder "    \
                      "still owned it, so lf_alloc handed it (or an overlapping block) "   \
                      "to someone else",                                                   \
                      (what), (void *)(block), (size_t)(size), at_);                       \
    } while (0)

/* xorshift64*: deterministic from a seed, good enough to vary a workload. */
static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* ---- the pause point ---- */

/* A thread that armed a gate stops at its next lf_pause_point() until the
 * gate is opened: it posts `paused`, then waits on `resume`. `calls` counts
 * the pause points that thread passed while the gate was armed or open (one
 * per attempt to pop: two or more mean a compare-and-swap failed and retried). */
typedef struct {
    sem_t paused, resume;
    atomic_int calls;
    bool stop_next; /* the armed thread's only: stop at the next call */
} pause_gate_t;

static _Thread_local pause_gate_t *my_gate;

/* A thread that sets my_yield_every = n gives up its CPU at every n-th pause
 * point: the window between its read of the head and its compare-and-swap
 * grows from nanoseconds to a time slice, so that other threads change the
 * stack inside it and the retry path runs thousands of times. */
static _Thread_local unsigned my_yield_every, my_pause_calls;

void lf_pause_point(void)
{
    pause_gate_t *g = my_gate;
    if (g == NULL) {
        /* memcheck runs one thread at a time and switches on its own */
        if (my_yield_every != 0 && ++my_pause_calls % my_yield_every == 0 && !RUNNING_ON_VALGRIND)
            sched_yield();
        return;
    }
    atomic_fetch_add(&g->calls, 1);
    if (g->stop_next) {
        g->stop_next = false;
        sem_post(&g->paused);
        sem_wait(&g->resume);
    }
}

/* Waits on s for at most ms milliseconds; false on timeout. */
static inline bool sem_wait_ms(sem_t *s, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int r;
    while ((r = sem_timedwait(s, &ts)) != 0 && errno == EINTR)
        ;
    return r == 0;
}

/* A thread that calls lf_alloc once with a gate armed: it stops inside, at
 * the pause point, until paused_pop_finish. */
typedef struct {
    lf_pool_t *pool;
    pause_gate_t gate;
    pthread_t tid;
    void *got;  /* what its lf_alloc returned */
    bool reached; /* it stopped at the pause point */
} paused_pop_t;

static void *paused_pop_main(void *arg)
{
    paused_pop_t *pp = arg;
    my_gate = &pp->gate;
    pp->gate.stop_next = true;
    pp->got = lf_alloc(pp->pool);
    my_gate = NULL;
    return NULL;
}

/* Starts the thread and waits until it stopped at its pause point. Returns
 * false when it did not within 5 s: lf_alloc did not call lf_pause_point(). */
static inline bool paused_pop_start(paused_pop_t *pp, lf_pool_t *pool)
{
    memset(pp, 0, sizeof *pp);
    pp->pool = pool;
    sem_init(&pp->gate.paused, 0, 0);
    sem_init(&pp->gate.resume, 0, 0);
    atomic_init(&pp->gate.calls, 0);
    if (pthread_create(&pp->tid, NULL, paused_pop_main, pp) != 0)
        return false;
    pp->reached = sem_wait_ms(&pp->gate.paused, 5000);
    return pp->reached;
}

/* Lets the thread go on, waits for its lf_alloc to return, and gives back
 * what it returned; *calls gets the pause points it passed. */
static inline void *paused_pop_finish(paused_pop_t *pp, int *calls)
{
    sem_post(&pp->gate.resume);
    pthread_join(pp->tid, NULL);
    sem_destroy(&pp->gate.paused);
    sem_destroy(&pp->gate.resume);
    if (calls != NULL)
        *calls = atomic_load(&pp->gate.calls);
    return pp->got;
}

#define PAUSE_POINT_MISSED                                                                   \
    "a thread called lf_alloc and never reached lf_pause_point() within 5 s: lf_alloc must " \
    "call it once per attempt to pop, after reading the head and before its "               \
    "compare-and-swap (lfpool.h)"

/* ---- blocks handed out ---- */

/* Takes exactly n blocks from the pool (n free ones are expected) and checks
 * that none of them is one of the held[nheld] blocks, that they are distinct,
 * and that none is left. Each failure says which property broke. */
static inline void drain_exactly(lf_pool_t *pool, size_t n, void *const *held, size_t nheld,
                                 const char *scene)
{
    void **got = malloc((n + 1) * sizeof *got);
    ck_assert_msg(got != NULL, "out of memory in the test");
    for (size_t i = 0; i < n; i++) {
        got[i] = lf_alloc(pool);
        ck_assert_msg(got[i] != NULL,
                      "%s: %zu blocks should have been free, but lf_alloc returned NULL after %zu "
                      "of them: the stack lost a block",
                      scene, n, i);
        for (size_t h = 0; h < nheld; h++)
            ck_assert_msg(got[i] != held[h],
                          "%s: lf_alloc handed out block %p, which a thread still held: one "
                          "block went to two holders",
                          scene, got[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(got[i] != got[j],
                          "%s: lf_alloc handed out block %p twice in a row of allocs: it is on "
                          "the free stack twice",
                          scene, got[i]);
    }
    ck_assert_msg(lf_check(pool) == 0,
                  "%s: after taking the %zu free blocks, lf_check still counts %zu on the free "
                  "stack: a held block was still on it",
                  scene, n, lf_check(pool));
    for (size_t i = 0; i < n; i++)
        lf_free(pool, got[i]);
    free(got);
}

/* ---- scripted scenes on a paused pop ---- */

/* Runs a scene: thread A stops in lf_alloc at its pause point; thread B runs
 * script(arg) (allocs and frees that change the stack under A's feet); then A
 * resumes. *a_got gets what A's lf_alloc returned, *calls the pause points A
 * passed. Returns false when B got stuck in one call for 200 ms while A was
 * stopped: B waited for A, so the pool takes a lock around its pop. Such a
 * pool has no ABA to show (a lock keeps the stack consistent), and
 * tests/progress is the check that judges it, so the caller's scene ends
 * there without a verdict. A script counts its calls with script_step() and
 * records what it saw; it never asserts (it runs on its own thread). */
typedef struct {
    void (*script)(void *);
    void *arg;
    atomic_long steps;
    atomic_bool done;
} script_run_t;

static _Thread_local script_run_t *my_script;

static inline void script_step(void)
{
    atomic_fetch_add(&my_script->steps, 1);
}

static void *script_main(void *p)
{
    script_run_t *r = p;
    my_script = r;
    r->script(r->arg);
    atomic_store(&r->done, true);
    return NULL;
}

static inline bool run_scene(lf_pool_t *pool, void (*script)(void *), void *arg, void **a_got,
                             int *calls)
{
    paused_pop_t a;
    ck_assert_msg(paused_pop_start(&a, pool), PAUSE_POINT_MISSED);
    script_run_t r = {.script = script, .arg = arg};
    pthread_t b;
    ck_assert_msg(pthread_create(&b, NULL, script_main, &r) == 0, "cannot start a thread");
    long seen = -1;
    int still = 0; /* 10 ms polls since B last returned from a call */
    while (!atomic_load(&r.done) && still < 20) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        long now = atomic_load(&r.steps);
        still = now == seen ? still + 1 : 0;
        seen = now;
    }
    bool finished = atomic_load(&r.done);
    *a_got = paused_pop_finish(&a, calls);
    pthread_join(b, NULL);
    return finished;
}

/* The classic ABA: thread A stops in lf_alloc having read the head (block X on
 * top, Y below). Meanwhile B pops X and `depth - 1` more blocks (Y first), and
 * pushes X back: X is on top again, but Y is held by B. When A resumes, its
 * compare-and-swap must fail (the tag moved); an untagged one succeeds and
 * makes Y, a held block, the top of the stack. */
typedef struct {
    lf_pool_t *pool;
    size_t depth;
    void *held[64];
    bool got_null;
} aba_script_t;

static void aba_script(void *p)
{
    aba_script_t *s = p;
    for (size_t i = 0; i < s->depth; i++) {
        s->got_null |= (s->held[i] = lf_alloc(s->pool)) == NULL;
        script_step();
    }
    lf_free(s->pool, s->held[0]); /* X is back on top; held[1..depth) stay held */
}

static inline void scene_aba(size_t capacity, size_t block_size, size_t depth)
{
    lf_pool_t *pool = lf_create(block_size, capacity);
    ck_assert_msg(pool != NULL, "lf_create(%zu, %zu) returned NULL", block_size, capacity);
    ck_assert_msg(depth >= 2 && depth < 64 && depth < capacity, "bad scene");
    aba_script_t s = {.pool = pool, .depth = depth};
    void *a_got;
    if (!run_scene(pool, aba_script, &s, &a_got, NULL)) {
        lf_destroy(pool); /* a lock, not ABA: tests/progress judges it */
        return;
    }
    char scene[256];
    snprintf(scene, sizeof scene,
             "ABA (%zu blocks): thread A stopped in lf_alloc after reading the head (block X "
             "on top); thread B took X and %zu more, then gave X back; A resumed",
             capacity, depth - 1);
    ck_assert_msg(!s.got_null, "%s: B's lf_alloc returned NULL with blocks free", scene);
    /* held: B's blocks but X, and A's if it got one (a NULL is never-null's business) */
    void *held[64];
    size_t nheld = 0;
    for (size_t i = 1; i < depth; i++) {
        ck_assert_msg(a_got != s.held[i],
                      "%s: A got block %p, which B still held: one block went to two holders",
                      scene, a_got);
        held[nheld++] = s.held[i];
    }
    if (a_got != NULL)
        held[nheld++] = a_got;
    ck_assert_msg(lf_check(pool) == capacity - nheld,
                  "%s: lf_check counts %zu free blocks; %zu are free (%zu blocks held): A's "
                  "stale compare-and-swap succeeded and installed a stale link",
                  scene, lf_check(pool), capacity - nheld, nheld);
    drain_exactly(pool, capacity - nheld, held, nheld, scene);
    for (size_t i = 0; i < nheld; i++)
        lf_free(pool, held[i]);
    ck_assert_msg(lf_check(pool) == capacity, "%s: once every block came back, lf_check counts "
                  "%zu free blocks of %zu", scene, lf_check(pool), capacity);
    lf_destroy(pool);
}

/* The tag wraps around: A stops having read the head (X on top, Y below). B
 * pops X, Y and Z, pushes Y, Z, X (the stack is X, Z, Y, ...), then pops and
 * pushes X `pairs` times. 3 pops and 3 pushes, then 2 changes per pair: with
 * pairs = 2^16 - 3, the head changed exactly 2^17 times (or 2^16 times,
 * counting only pops or only pushes), a multiple of 2^16. A 16-bit tag is back
 * where A read it, A's compare-and-swap succeeds and installs Y as the top: Z
 * is lost. */
typedef struct {
    lf_pool_t *pool;
    long pairs;
    void *x, *not_lifo;
    bool got_null;
} wrap_script_t;

static void wrap_script(void *p)
{
    wrap_script_t *s = p;
    void *x = lf_alloc(s->pool);
    script_step();
    void *y = lf_alloc(s->pool), *z = lf_alloc(s->pool);
    s->got_null = x == NULL || y == NULL || z == NULL;
    if (s->got_null)
        return;
    lf_free(s->pool, y);
    lf_free(s->pool, z);
    lf_free(s->pool, x);
    s->x = x;
    for (long i = 0; i < s->pairs; i++) {
        void *again = lf_alloc(s->pool);
        script_step();
        if (again != x) {
            s->not_lifo = again;
            lf_free(s->pool, again);
            return;
        }
        lf_free(s->pool, again);
    }
}

static inline void scene_tag_wrap(size_t capacity, size_t block_size, long pairs)
{
    lf_pool_t *pool = lf_create(block_size, capacity);
    ck_assert_msg(pool != NULL, "lf_create(%zu, %zu) returned NULL", block_size, capacity);
    wrap_script_t s = {.pool = pool, .pairs = pairs};
    void *a_got;
    if (!run_scene(pool, wrap_script, &s, &a_got, NULL)) {
        lf_destroy(pool); /* a lock, not ABA: tests/progress judges it */
        return;
    }
    ck_assert_msg(!s.got_null, "lf_alloc returned NULL with blocks free");
    ck_assert_msg(s.not_lifo == NULL,
                  "with no other thread in the pool, lf_alloc did not return the block freed "
                  "last (%p, got %p): the free list must be a stack (LIFO)",
                  s.x, s.not_lifo);
    char scene[256];
    snprintf(scene, sizeof scene,
             "tag wrap-around: thread A stopped in lf_alloc after reading the head; thread B "
             "changed the stack %ld times (a multiple of 2^16) and left the same block on top; "
             "A resumed",
             6 + 2 * pairs);
    size_t nheld = a_got != NULL; /* a NULL is never-null's business */
    ck_assert_msg(lf_check(pool) == capacity - nheld,
                  "%s: lf_check counts %zu free blocks; %zu are free: A's compare-and-swap "
                  "took the stale head for the current one (a tag of 16 bits wraps around "
                  "after 65536 changes; use 32 bits or more)",
                  scene, lf_check(pool), capacity - nheld);
    void *held[1] = {a_got};
    drain_exactly(pool, capacity - nheld, held, nheld, scene);
    lf_free(pool, a_got);
    lf_destroy(pool);
}

#endif

/* test_forksafe.c — public tests of exercise 07 (fork-safe pools).
 *
 * One test per case; the manifest (exercise.ini) gives each case its points.
 * The fork tests never trust luck: a thread is parked inside a pool's lock
 * (fk_testlib.h) before fork() is called, so a pool without fork handlers
 * hangs its child every time, and a child's hang costs its 2-s watchdog. A
 * child reports through its exit status and a shared page, never ck_assert.
 */
#define _GNU_SOURCE
#include "fk_testlib.h"

#include <stdlib.h>

#define MAX_BLOCKS 1024

static void *held[MAX_BLOCKS];

/* Takes blocks until NULL (or one more than expected); returns how many. */
static size_t take_all(forkpool_t *fp, void **out, size_t expected)
{
    size_t n = 0;
    while (n <= expected && n < MAX_BLOCKS) {
        void *p = fk_alloc(fp);
        if (p == NULL)
            break;
        out[n++] = p;
    }
    return n;
}

/* ---- fk_init and fk_capacity (as in exercise 04) ---- */

ALAB_TEST(init)
{
    static _Alignas(16) unsigned char arena[4096 + 16];
    static forkpool_t fp;
    pool_storage_fresh(&fp);
    require(fk_init(NULL, arena, 4096, 8) == -1, "fk_init(NULL, arena, 4096, 8) must return -1");
    unsigned char before[sizeof fp];
    memset(&fp, 0x5c, sizeof fp);
    memcpy(before, &fp, sizeof fp);
    require(fk_init(&fp, NULL, 4096, 8) == -1, "fk_init(fp, NULL, 4096, 8) must return -1");
    require(fk_init(&fp, arena, 4096, 0) == -1, "fk_init with block_size 0 must return -1");
    require(fk_init(&fp, arena, 4096, SIZE_MAX) == -1,
            "fk_init with block_size SIZE_MAX must return -1: it cannot be rounded up to a multiple "
            "of FK_ALIGN");
    require(memcmp(before, &fp, sizeof fp) == 0,
            "fk_init returned -1 but wrote into *fp: a refused pool must be left untouched");

    static const size_t sizes[] = {1, 7, 8, 9, 16, 24, 100, 512, 4096};
    for (size_t m = 0; m < 16; m += 5)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t size = sizes[k], want = want_capacity(arena + m, 4096, size);
            pool_storage_fresh(&fp);
            require(fk_init(&fp, arena + m, 4096, size) == 0,
                    "fk_init(fp, arena, 4096, %zu) returned -1", size);
            require(fk_capacity(&fp) == want,
                    "block size %zu in a 4096-byte arena %zu bytes past a 16-byte boundary: "
                    "fk_capacity is %zu, expected %zu (the stride is %zu, the first block starts "
                    "at the first 16-byte boundary)",
                    size, m, fk_capacity(&fp), want, want_stride(size));
            require_check(&fp, "a new pool");
            fk_destroy(&fp);
        }
    pool_storage_fresh(&fp);
    require(fk_init(&fp, arena, 7, 8) == 0, "fk_init on an arena of 7 bytes must return 0");
    require(fk_capacity(&fp) == 0 && fk_alloc(&fp) == NULL,
            "an arena of 7 bytes holds no block of 8, but fk_capacity says %zu or fk_alloc "
            "returned a block",
            fk_capacity(&fp));
    fk_destroy(&fp);
}

/* ---- the blocks: tiling, exhaustion, LIFO, NULL, bytes kept ---- */

static void blocks_in(size_t arena_size, size_t misalign, size_t size)
{
    static _Alignas(16) unsigned char buf[8192 + 16];
    static forkpool_t fp;
    unsigned char *arena = buf + misalign;
    size_t want = want_capacity(arena, arena_size, size);
    char what[96];
    snprintf(what, sizeof what, "block size %zu, an arena of %zu bytes %zu past a boundary", size,
             arena_size, misalign);
    pool_storage_fresh(&fp);
    require(fk_init(&fp, arena, arena_size, size) == 0, "%s: fk_init returned -1", what);
    size_t n = take_all(&fp, held, want);
    require(n == want, "%s: fk_alloc handed out %zu blocks before NULL, expected %zu", what, n, want);
    size_t align = want_stride(size) % 16 == 0 ? 16 : FK_ALIGN;
    for (size_t i = 0; i < n; i++) {
        require_block(held[i], arena, arena_size, size, what);
        require((uintptr_t)held[i] % align == 0, "%s: block %p is not aligned to %zu", what, held[i],
                align);
        for (size_t j = 0; j < i; j++)
            require(held[i] != held[j], "%s: block %p handed out twice", what, held[i]);
        pattern_fill(held[i], size, (uint32_t)i + 1);
    }
    require(fk_alloc(&fp) == NULL && fk_alloc(&fp) == NULL,
            "%s: fk_alloc returned a block while all %zu were held", what, n);
    require_check(&fp, what);
    /* every other block back: the links go into them, not into the neighbours */
    for (size_t i = 0; i < n; i += 2)
        fk_free(&fp, held[i]);
    for (size_t i = 1; i < n; i += 2)
        require(pattern_check(held[i], size, (uint32_t)i + 1) == size,
                "%s: held block %p lost its bytes when its neighbours were freed", what, held[i]);
    require_check(&fp, what);
    /* LIFO: the block freed last comes out first */
    for (size_t i = (n - 1) / 2 * 2 + 2; i >= 2; i -= 2) {
        void *p = fk_alloc(&fp);
        require(p == held[i - 2], "%s: fk_alloc returned %p, expected %p, the block freed last", what,
                p, held[i - 2]);
    }
    fk_free(&fp, NULL);
    require(fk_alloc(&fp) == NULL, "%s: fk_free(fp, NULL) gave the pool a block", what);
    for (size_t i = 0; i < n; i++)
        fk_free(&fp, held[i]);
    require_check(&fp, what);
    fk_destroy(&fp);
}

ALAB_TEST(blocks)
{
    static const size_t sizes[] = {1, 7, 8, 24, 48, 100, 4096};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        blocks_in(4096, 0, sizes[k]);
        blocks_in(1000, 3, sizes[k]);
        blocks_in(8192, 11, sizes[k]);
    }
}

/* ---- several pools at once ---- */

ALAB_TEST(two_pools)
{
    static _Alignas(16) unsigned char arena[3][1024];
    static forkpool_t p[3];
    static const size_t size[3] = {16, 48, 24};
    for (int i = 0; i < 3; i++) {
        pool_storage_fresh(&p[i]);
        require(fk_init(&p[i], arena[i], sizeof arena[i], size[i]) == 0, "fk_init of pool %d failed", i);
    }
    void *h[3][64];
    size_t n[3] = {0};
    for (int round = 0; round < 64; round++)
        for (int i = 0; i < 3; i++) {
            void *b = fk_alloc(&p[i]);
            if (b == NULL)
                continue;
            require_block(b, arena[i], sizeof arena[i], size[i], "three pools in use at once");
            h[i][n[i]++] = b;
        }
    for (int i = 0; i < 3; i++)
        require(n[i] == want_capacity(arena[i], sizeof arena[i], size[i]),
                "pool %d of three handed out %zu blocks, expected %zu", i, n[i],
                want_capacity(arena[i], sizeof arena[i], size[i]));
    fk_free(&p[0], h[0][5]);
    fk_free(&p[1], h[1][3]);
    require(fk_alloc(&p[2]) == NULL, "a block freed to pools 0 and 1 came out of pool 2");
    require(fk_alloc(&p[1]) == h[1][3] && fk_alloc(&p[0]) == h[0][5],
            "each pool must hand out its own block freed last");
    fk_destroy(&p[1]);
    for (int i = 0; i < 3; i += 2) {
        for (size_t k = 0; k < n[i]; k++)
            fk_free(&p[i], h[i][k]);
        require_check(&p[i], "a pool after another was destroyed");
        fk_destroy(&p[i]);
    }
}

/* ---- 8 threads on one pool ---- */

#define NTHREADS 8
#define PER_THREAD 16

typedef struct {
    forkpool_t *fp;
    int id, rounds;
    char fail[200];
} worker_t;

static void *worker_main(void *p)
{
    worker_t *w = p;
    void *mine[PER_THREAD];
    for (int r = 0; r < w->rounds && w->fail[0] == '\0'; r++) {
        int k = 1 + (r * 7 + w->id) % PER_THREAD;
        for (int i = 0; i < k; i++) {
            mine[i] = fk_alloc(w->fp);
            if (mine[i] == NULL) {
                snprintf(w->fail, sizeof w->fail, "thread %d got NULL with at most %d of the %d "
                         "blocks held: a lost free or a block handed out twice",
                         w->id, NTHREADS * PER_THREAD - 1, NTHREADS * PER_THREAD);
                k = i;
                break;
            }
            pattern_fill(mine[i], 32, (uint32_t)(w->id * 100000 + r * PER_THREAD + i));
        }
        for (int i = 0; i < k; i++) {
            size_t at = pattern_check(mine[i], 32, (uint32_t)(w->id * 100000 + r * PER_THREAD + i));
            if (at != 32 && w->fail[0] == '\0')
                snprintf(w->fail, sizeof w->fail, "thread %d: block %p changed at byte %zu while "
                         "it held it: another thread received the same block", w->id, mine[i], at);
        }
        for (int i = 0; i < k; i++)
            fk_free(w->fp, mine[i]);
    }
    return NULL;
}

/* One call made by another thread while a parked thread holds the pool's
 * lock: it must ask for that lock before it touches the pool. */
typedef struct {
    forkpool_t *fp;
    void *block; /* fk_free's argument, or fk_alloc's result */
    bool is_free;
    atomic_bool done;
} probe_t;

static void *probe_main(void *p)
{
    probe_t *c = p;
    if (c->is_free)
        fk_free(c->fp, c->block);
    else
        c->block = fk_alloc(c->fp);
    atomic_store(&c->done, true);
    return NULL;
}

/* Mutual exclusion, without luck: while a thread is parked inside fk_alloc
 * holding the lock, another thread's fk_free or fk_alloc must wait for that
 * lock. Which comes first, its lock call or its return, decides. */
static void exclusion_probe(forkpool_t *fp, bool is_free, void *block)
{
    const char *call = is_free ? "fk_free" : "fk_alloc";
    parked_t t;
    park_in(&t, fp, "mutual exclusion");
    static probe_t c;
    c = (probe_t){.fp = fp, .block = block, .is_free = is_free};
    pthread_t tid;
    require(pthread_create(&tid, NULL, probe_main, &c) == 0, "cannot start a thread");
    struct timespec tick = {0, 1000 * 1000};
    for (long ms = 0; atomic_load(&park.asked) == 0 && !atomic_load(&c.done) &&
                      ms < 1000L * child_watchdog_s();
         ms++)
        nanosleep(&tick, NULL);
    bool asked = atomic_load(&park.asked) > 0;
    park_end(&t);
    pthread_join(tid, NULL);
    require(asked, "%s returned while another thread was inside fk_alloc on the same pool, holding "
            "its lock: every access to a pool's state must hold the pool's lock", call);
    if (t.block != NULL)
        fk_free(fp, t.block);
    if (!is_free && c.block != NULL)
        fk_free(fp, c.block);
}

ALAB_TEST(no_overlap)
{
    static _Alignas(16) unsigned char arena[NTHREADS * PER_THREAD * 32];
    static forkpool_t fp;
    pool_storage_fresh(&fp);
    require(fk_init(&fp, arena, sizeof arena, 32) == 0, "fk_init failed");
    void *b = fk_alloc(&fp);
    exclusion_probe(&fp, true, b);
    exclusion_probe(&fp, false, NULL);
    static worker_t w[NTHREADS];
    void *args[NTHREADS];
    /* under a tool, fewer rounds: a few hundred show ThreadSanitizer a race, or
     * memcheck an invalid access, as well as thousands */
    int rounds = RUNNING_ON_VALGRIND ? 200 : tool_factor() > 1 ? 1000 : 4000;
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker_t){.fp = &fp, .id = i, .rounds = rounds};
        args[i] = &w[i];
    }
    run_threads(NTHREADS, worker_main, args);
    for (int i = 0; i < NTHREADS; i++)
        require(w[i].fail[0] == '\0', "8 threads on one pool: %s", w[i].fail);
    require_check(&fp, "after 8 threads");
    size_t n = take_all(&fp, held, NTHREADS * PER_THREAD);
    require(n == NTHREADS * PER_THREAD,
            "after 8 threads freed everything, the pool handed out %zu blocks, expected %d", n,
            NTHREADS * PER_THREAD);
    fk_destroy(&fp);
}

/* ---- fork() ---- */

/* A pool with some blocks held by the test process and some freed. */
typedef struct {
    forkpool_t fp;
    _Alignas(16) unsigned char arena[2048];
    size_t size;
    void *held[64];
    size_t nheld;
    const char *name;
} scene_pool_t;

static void scene_init(scene_pool_t *s, const char *name, size_t size)
{
    s->name = name;
    s->size = size;
    pool_storage_fresh(&s->fp);
    require(fk_init(&s->fp, s->arena, sizeof s->arena, size) == 0, "fk_init of pool %s failed", name);
    void *tmp[8];
    for (int i = 0; i < 8; i++)
        tmp[i] = fk_alloc(&s->fp);
    for (s->nheld = 0; s->nheld < 6; s->nheld++) {
        s->held[s->nheld] = fk_alloc(&s->fp);
        require(s->held[s->nheld] != NULL, "pool %s: fk_alloc returned NULL", name);
        pattern_fill(s->held[s->nheld], size, (uint32_t)s->nheld + 5);
    }
    for (int i = 0; i < 8; i += 2)
        fk_free(&s->fp, tmp[i]); /* some free blocks on the list, some fresh */
    for (int i = 1; i < 8; i += 2)
        s->held[s->nheld++] = tmp[i];
}

/* In a child: the pool serves it, and never one of the parent's blocks. */
static void scene_child(scene_pool_t *s, void *extra)
{
    void *h[66];
    memcpy(h, s->held, s->nheld * sizeof *h);
    size_t n = s->nheld;
    if (extra != NULL)
        h[n++] = extra;
    child_takes(&s->fp, s->name, s->arena, sizeof s->arena, s->size, h, n, 8);
}

/* In the parent, after the child: the pool still works and is unchanged. */
static void scene_parent(scene_pool_t *s, const char *what)
{
    require_check(&s->fp, what);
    for (size_t i = 0; i < 6; i++)
        require(pattern_check(s->held[i], s->size, (uint32_t)i + 5) == s->size,
                "%s: a block the parent holds in pool %s lost its bytes", what, s->name);
    void *p = fk_alloc(&s->fp);
    require(p != NULL, "%s: in the parent, fk_alloc on pool %s returned NULL", what, s->name);
    for (size_t i = 0; i < s->nheld; i++)
        require(p != s->held[i], "%s: in the parent, pool %s handed out a block still held", what,
                s->name);
    fk_free(&s->fp, p);
}

static void scene_end(scene_pool_t *s)
{
    for (size_t i = 0; i < s->nheld; i++)
        fk_free(&s->fp, s->held[i]);
    fk_destroy(&s->fp);
}

static scene_pool_t sa, sb, sc;

/* A new pool, made in a child: the registry works there too. */
static void child_new_pool(const char *name)
{
    static _Alignas(16) unsigned char arena[512];
    static forkpool_t fp;
    pool_storage_fresh(&fp);
    child_step("fk_init of a new pool %s in the child", name);
    child_require(fk_init(&fp, arena, sizeof arena, 32) == 0);
    child_takes(&fp, name, arena, sizeof arena, 32, NULL, 0, 16);
    child_step("fk_destroy of the new pool %s in the child", name);
    fk_destroy(&fp);
}

ALAB_TEST(fork_basic)
{
    const char *what = "fork() with one thread";
    scene_init(&sa, "A", 40);
    pid_t pid = fork_watched(what);
    if (pid == 0) {
        scene_child(&sa, NULL);
        child_new_pool("N");
        _exit(0);
    }
    require_child_ok(pid, what);
    scene_parent(&sa, what);
    scene_end(&sa);
}

/* The parked thread holds a pool's lock when fork() is called. */
static void fork_with_parked(scene_pool_t *in, const char *what)
{
    parked_t t;
    park_in(&t, &in->fp, what);
    pid_t pid = fork_watched(what);
    if (pid == 0) {
        scene_child(&sa, NULL);
        if (in != &sa)
            scene_child(in, NULL);
        _exit(0);
    }
    bool waited = park_end(&t);
    require(t.block != NULL, "%s: the parked thread's fk_alloc returned NULL", what);
    require(waited,
            "%s: fork() returned while another thread was still inside fk_alloc on pool %s, holding "
            "its lock; fork() must wait for it (a prepare handler that takes every pool's lock: "
            "the child gets a copy taken between two operations, never in the middle of one)",
            what, in->name);
    require_child_ok(pid, what);
    fk_free(&in->fp, t.block);
    scene_parent(&sa, what);
    if (in != &sa)
        scene_parent(in, what);
}

ALAB_TEST(fork_held_lock)
{
    scene_init(&sa, "A", 40);
    fork_with_parked(&sa, "fork() while another thread holds the pool's lock in fk_alloc");
    scene_end(&sa);
}

ALAB_TEST(fork_two_pools)
{
    scene_init(&sa, "A", 40);
    scene_init(&sb, "B", 24);
    scene_init(&sc, "C", 64);
    fork_with_parked(&sb, "three pools, fork() while another thread holds pool B's lock");
    scene_end(&sa);
    scene_end(&sb);
    scene_end(&sc);
}

ALAB_TEST(fork_nested)
{
    const char *what = "a fork() in a child (with a thread parked in pool A in the test process)";
    scene_init(&sa, "A", 40);
    parked_t t;
    park_in(&t, &sa.fp, what);
    pid_t pid = fork_watched(what);
    if (pid == 0) {
        scene_child(&sa, NULL);
        child_step("fork() in the child did not return (its prepare handler waits for a lock)");
        pid_t g = fork_watched(what);
        if (g == 0) {
            scene_child(&sa, NULL);
            child_new_pool("G");
            _exit(0);
        }
        child_step("fork() in the child failed");
        child_require(g > 0);
        int st = child_wait(g);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            child_step("the grandchild %s at \"%s\"",
                       WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? "hung" : "failed",
                       report->step[2][0] != '\0' ? report->step[2] : "its start");
            child_fail();
        }
        scene_child(&sa, NULL);
        _exit(0);
    }
    bool waited = park_end(&t);
    require(waited,
            "%s: fork() returned while another thread was still inside fk_alloc on pool A, holding "
            "its lock; fork() must wait for it (a prepare handler that takes every pool's lock)",
            what);
    require_child_ok(pid, what);
    fk_free(&sa.fp, t.block);
    scene_parent(&sa, what);
    scene_end(&sa);
}

/* A destroyed pool's memory is the caller's: here it is reused for a mutex
 * the test process holds. A fork handler that still visits it waits forever. */
ALAB_TEST(destroy_fork)
{
    const char *what = "fork() after fk_destroy of a pool whose memory was then reused";
    static union {
        forkpool_t pool;
        pthread_mutex_t reused;
    } gone;
    scene_init(&sa, "A", 40);
    static _Alignas(16) unsigned char arena[256];
    pool_storage_fresh(&gone.pool);
    require(fk_init(&gone.pool, arena, sizeof arena, 16) == 0, "fk_init failed");
    void *b = fk_alloc(&gone.pool);
    require(b != NULL, "fk_alloc returned NULL");
    fk_destroy(&gone.pool);
    scene_init(&sb, "B", 24);
    memset(&gone, 0, sizeof gone);
    pthread_mutex_init(&gone.reused, NULL);
    pthread_mutex_lock(&gone.reused);
    pid_t pid = fork_watched(what);
    if (pid == 0) {
        scene_child(&sa, NULL);
        scene_child(&sb, NULL);
        _exit(0);
    }
    pthread_mutex_unlock(&gone.reused);
    require_child_ok(pid, what);
    scene_parent(&sa, what);
    scene_parent(&sb, what);
    scene_end(&sa);
    scene_end(&sb);
}

/* fk_init on a live pool starts it afresh: still one pool, registered once. */
ALAB_TEST(init_twice)
{
    const char *what = "fork() after fk_init on a pool that was live";
    static _Alignas(16) unsigned char old_arena[512];
    scene_init(&sa, "A", 40);
    pool_storage_fresh(&sb.fp);
    require(fk_init(&sb.fp, old_arena, sizeof old_arena, 16) == 0, "fk_init failed");
    require(fk_alloc(&sb.fp) != NULL, "fk_alloc returned NULL");
    sb.name = "B";
    sb.size = 24;
    require(fk_init(&sb.fp, sb.arena, sizeof sb.arena, 24) == 0,
            "fk_init on a live pool returned -1");
    require(fk_capacity(&sb.fp) == want_capacity(sb.arena, sizeof sb.arena, 24),
            "fk_init on a live pool: fk_capacity is %zu, expected %zu (the new arena)",
            fk_capacity(&sb.fp), want_capacity(sb.arena, sizeof sb.arena, 24));
    sb.nheld = 0;
    for (int i = 0; i < 4; i++) {
        sb.held[sb.nheld] = fk_alloc(&sb.fp);
        require(sb.held[sb.nheld] != NULL, "fk_alloc returned NULL");
        require_block(sb.held[sb.nheld], sb.arena, sizeof sb.arena, 24,
                      "a pool started afresh on a new arena");
        pattern_fill(sb.held[sb.nheld], 24, (uint32_t)sb.nheld + 5);
        sb.nheld++;
    }
    while (sb.nheld < 6) {
        sb.held[sb.nheld] = fk_alloc(&sb.fp);
        pattern_fill(sb.held[sb.nheld], 24, (uint32_t)sb.nheld + 5);
        sb.nheld++;
    }
    pid_t pid = fork_watched(what);
    if (pid == 0) {
        scene_child(&sa, NULL);
        scene_child(&sb, NULL);
        _exit(0);
    }
    require_child_ok(pid, what);
    scene_parent(&sa, what);
    scene_parent(&sb, what);
    /* destroyed once, it is gone from the registry, however often it was initialised */
    scene_end(&sb);
    memset(&sb.fp, 0, sizeof sb.fp);
    pthread_mutex_init(&sb.fp.lock, NULL);
    pthread_mutex_lock(&sb.fp.lock);
    pid = fork_watched("fork() after fk_destroy of a pool that had been initialised twice");
    if (pid == 0) {
        scene_child(&sa, NULL);
        _exit(0);
    }
    pthread_mutex_unlock(&sb.fp.lock);
    require_child_ok(pid, "fork() after fk_destroy of a pool that had been initialised twice");
    scene_end(&sa);
}

/* ---- many forks while threads churn ---- */

typedef struct {
    forkpool_t *fp;
    int id;
    atomic_bool *stop;
    char fail[160];
} churner_t;

static void *churn_main(void *p)
{
    churner_t *c = p;
    void *mine[8];
    for (uint32_t r = 0; !atomic_load_explicit(c->stop, memory_order_relaxed); r++) {
        int k = 1 + (int)(r % 8);
        for (int i = 0; i < k; i++) {
            mine[i] = fk_alloc(c->fp);
            if (mine[i] == NULL) {
                k = i;
                snprintf(c->fail, sizeof c->fail, "thread %d got NULL from a pool with room", c->id);
                break;
            }
            pattern_fill(mine[i], 16, r * 8 + (uint32_t)i + (uint32_t)c->id * 1000003u);
        }
        for (int i = 0; i < k; i++)
            if (pattern_check(mine[i], 16, r * 8 + (uint32_t)i + (uint32_t)c->id * 1000003u) != 16 &&
                c->fail[0] == '\0')
                snprintf(c->fail, sizeof c->fail, "thread %d: a block it held was overwritten", c->id);
        for (int i = 0; i < k; i++)
            fk_free(c->fp, mine[i]);
    }
    return NULL;
}

ALAB_TEST(fork_stress)
{
    enum { NCHURN = 4 };
    static _Alignas(16) unsigned char arena[2][64 * 16];
    static forkpool_t fp[2];
    for (int i = 0; i < 2; i++) {
        pool_storage_fresh(&fp[i]);
        require(fk_init(&fp[i], arena[i], sizeof arena[i], 16) == 0, "fk_init failed");
    }
    static atomic_bool stop;
    static churner_t c[NCHURN];
    pthread_t tid[NCHURN];
    atomic_store(&stop, false);
    for (int i = 0; i < NCHURN; i++) {
        c[i] = (churner_t){.fp = &fp[i % 2], .id = i, .stop = &stop};
        require(pthread_create(&tid[i], NULL, churn_main, &c[i]) == 0, "cannot start a thread");
    }
    int forks = tool_factor() > 1 ? 15 : 100; /* ThreadSanitizer: races across fork, not luck */
    char why[600] = "";
    for (int k = 0; k < forks && why[0] == '\0'; k++) {
        pid_t pid = fork_watched("fork() while 4 threads allocate and free");
        if (pid == 0) {
            child_takes(&fp[0], "A", arena[0], sizeof arena[0], 16, NULL, 0, 4);
            child_takes(&fp[1], "B", arena[1], sizeof arena[1], 16, NULL, 0, 4);
            _exit(0);
        }
        int st = child_wait(pid);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            snprintf(why, sizeof why, "fork %d of %d: the child %s at \"%s\"%s", k + 1, forks,
                     WIFSIGNALED(st) && (WTERMSIG(st) == SIGALRM || WTERMSIG(st) == SIGKILL)
                         ? "hung" : "failed",
                     report->step[1],
                     WIFSIGNALED(st) && (WTERMSIG(st) == SIGALRM || WTERMSIG(st) == SIGKILL)
                         ? " (its watchdog fired): " HANG_ADVICE : "");
    }
    atomic_store(&stop, true);
    for (int i = 0; i < NCHURN; i++)
        pthread_join(tid[i], NULL);
    require(why[0] == '\0', "%s", why);
    for (int i = 0; i < NCHURN; i++)
        require(c[i].fail[0] == '\0', "in the parent, while it forked: %s", c[i].fail);
    for (int i = 0; i < 2; i++) {
        require_check(&fp[i], "after the forks");
        fk_destroy(&fp[i]);
    }
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex07-forksafe");
    ALAB_ADD(s, init, 10);
    ALAB_ADD(s, blocks, 10);
    ALAB_ADD(s, two_pools, 10);
    ALAB_ADD(s, no_overlap, 20);
    ALAB_ADD(s, fork_basic, 10);
    ALAB_ADD(s, fork_held_lock, 10);
    ALAB_ADD(s, fork_two_pools, 10);
    ALAB_ADD(s, fork_nested, 15);
    ALAB_ADD(s, destroy_fork, 10);
    ALAB_ADD(s, init_twice, 15);
    ALAB_ADD(s, fork_stress, 20);
    return s;
}

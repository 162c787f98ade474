/* test_hidden.c — instructor-only tests of exercise 07 (left out of handouts).
 *
 * The rules of the public tests, on parameters students cannot tune against,
 * drawn from the grader's seed (ALAB_SEED): two to six pools of seeded block
 * sizes, arena sizes and offsets, some blocks held, one pool started afresh by
 * a second fk_init, and a thread parked in one of the pools (never the one
 * initialised last) when fork() is called. The child counts every free block
 * of every pool: exactly the free blocks of a copy taken between two
 * operations, none of them one the parent held.
 */
#define _GNU_SOURCE
#include "fk_testlib.h"

#include <stdlib.h>

#define MAX_POOLS 6
#define MAX_HELD 512

typedef struct {
    forkpool_t fp;
    _Alignas(16) unsigned char arena[2048 + 16];
    unsigned char *base;
    size_t arena_size, size, capacity;
    void *held[MAX_HELD];
    size_t nheld;
    char name[2];
} hpool_t;

static hpool_t pools[MAX_POOLS];

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void hpool_start(hpool_t *p, uint64_t *rng, bool afresh)
{
    p->size = 1 + rng_next(rng) % 120;
    p->arena_size = 200 + rng_next(rng) % 1848;
    p->base = p->arena + rng_next(rng) % 16;
    p->capacity = want_capacity(p->base, p->arena_size, p->size);
    if (!afresh)
        pool_storage_fresh(&p->fp);
    require(fk_init(&p->fp, p->base, p->arena_size, p->size) == 0,
            "pool %s (block size %zu, arena of %zu bytes): fk_init returned -1", p->name, p->size,
            p->arena_size);
    require(fk_capacity(&p->fp) == p->capacity, "pool %s: fk_capacity is %zu, expected %zu", p->name,
            fk_capacity(&p->fp), p->capacity);
    p->nheld = 0;
    size_t want = p->capacity == 0 ? 0 : rng_next(rng) % p->capacity;
    for (size_t i = 0; i < want && i < MAX_HELD; i++) {
        void *b = fk_alloc(&p->fp);
        require(b != NULL, "pool %s: fk_alloc returned NULL with %zu of %zu blocks held", p->name,
                i, p->capacity);
        require_block(b, p->base, p->arena_size, p->size, "a seeded pool");
        p->held[p->nheld++] = b;
    }
    /* give a seeded third back, so that both the free list and fresh blocks remain */
    for (size_t i = 0; i < p->nheld;) {
        if (rng_next(rng) % 3 == 0) {
            fk_free(&p->fp, p->held[i]);
            p->held[i] = p->held[--p->nheld];
        } else {
            i++;
        }
    }
}

/* In the child: every free block of p, counted. extra: blocks held by the
 * parked thread in p. */
static void child_counts(hpool_t *p, size_t extra)
{
    static void *got[MAX_HELD + 64];
    size_t want = p->capacity - p->nheld - extra, n = 0;
    for (;;) {
        child_step("fk_alloc on pool %s (%zu free blocks expected), block %zu", p->name, want, n + 1);
        void *b = fk_alloc(&p->fp);
        if (b == NULL || n > want)
            break;
        got[n++] = b;
    }
    child_step("pool %s: the child found %zu free blocks, expected %zu (capacity %zu, %zu held by "
               "the parent, %zu by the thread inside fk_alloc at fork())",
               p->name, n, want, p->capacity, p->nheld, extra);
    child_require(n == want);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *b = got[i], *first = p->base + want_pad(p->base);
        size_t stride = want_stride(p->size);
        child_step("pool %s: the child got %p, outside the arena or off the grid", p->name, got[i]);
        child_require(b >= first && b < first + p->capacity * stride &&
                      (size_t)(b - first) % stride == 0);
        child_step("pool %s: the child got %p, a block the parent held", p->name, got[i]);
        for (size_t k = 0; k < p->nheld; k++)
            child_require(got[i] != p->held[k]);
    }
    child_step("fk_check on pool %s in the child", p->name);
    child_require(fk_check(&p->fp) == 0);
    for (size_t i = 0; i < n; i++)
        fk_free(&p->fp, got[i]);
}

static void one_scene(uint64_t *rng, int scene)
{
    int npools = 2 + (int)(rng_next(rng) % (MAX_POOLS - 1));
    for (int i = 0; i < npools; i++) {
        pools[i].name[0] = (char)('A' + i);
        hpool_start(&pools[i], rng, false);
    }
    int again = (int)(rng_next(rng) % (unsigned)npools);
    hpool_start(&pools[again], rng, true); /* a live pool, started afresh */
    int k = (int)(rng_next(rng) % (unsigned)(npools - 1));
    while (pools[k].capacity <= pools[k].nheld) { /* the parked thread needs a free block */
        fk_free(&pools[k].fp, pools[k].held[--pools[k].nheld]);
    }
    char what[160];
    snprintf(what, sizeof what, "seed scene %d: %d pools, pool %s started twice, a thread inside "
             "fk_alloc on pool %s at fork()", scene, npools, pools[again].name, pools[k].name);
    parked_t t;
    park_in(&t, &pools[k].fp, what);
    pid_t pid = fork_watched(what);
    if (pid == 0) {
        for (int i = 0; i < npools; i++)
            child_counts(&pools[i], i == k ? 1 : 0);
        _exit(0);
    }
    bool waited = park_end(&t);
    require(waited, "%s: fork() returned while that thread still held pool %s's lock", what,
            pools[k].name);
    require_child_ok(pid, what);
    require(t.block != NULL, "%s: the parked thread's fk_alloc returned NULL", what);
    fk_free(&pools[k].fp, t.block);
    for (int i = 0; i < npools; i++) {
        require_check(&pools[i].fp, what);
        for (size_t h = 0; h < pools[i].nheld; h++)
            fk_free(&pools[i].fp, pools[i].held[h]);
    }
    for (int i = npools; i-- > 0;)
        fk_destroy(&pools[i].fp);
}

ALAB_TEST(varied)
{
    uint64_t rng = alab_seed(1) * 0x9E3779B97F4A7C15ull + 0x5851F42D4C957F2Dull;
    for (int scene = 1; scene <= 3; scene++)
        one_scene(&rng, scene);
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex07-forksafe-hidden");
    ALAB_ADD(s, varied, 20);
    return s;
}

/* test_hidden.c — instructor-only tests of exercise 04 (left out of handouts).
 *
 * The same rules as the public tests, on parameters students cannot tune
 * against: block sizes, arena sizes, arena offsets and operation sequences drawn
 * from the grader's seed (ALAB_SEED), each step checked against a model of the
 * contract: capacity from the stride, NULL exactly when every block is held,
 * blocks on the grid inside the arena, the block freed last handed out first. */
#include "fp_testlib.h"

#include <stdio.h>

#define MODEL_MAX 4096

typedef struct {
    fixedpool_t fp;
    guarded_t g;
    size_t size, stride, capacity;
    unsigned char *first;
    void *held[MODEL_MAX];
    uint32_t tag[MODEL_MAX];
    size_t nheld;
    void *freed[MODEL_MAX]; /* the model's free list: freed[nfreed - 1] comes out next */
    size_t nfreed;
    uint32_t next_tag;
    char what[160];
} model_t;

static model_t m;

static void model_init(uint64_t *rng, size_t max_arena)
{
    m.size = 1 + (size_t)(rng_next(rng) % 300);
    m.g = guarded_arena((size_t)(rng_next(rng) % max_arena), (size_t)(rng_next(rng) % 16));
    m.stride = want_stride(m.size);
    m.capacity = want_capacity(m.g.arena, m.g.size, m.size);
    m.first = m.g.arena + want_pad(m.g.arena);
    m.nheld = m.nfreed = 0;
    snprintf(m.what, sizeof m.what, "block size %zu, arena of %zu bytes %zu past a 16-byte boundary",
             m.size, m.g.size, (size_t)((uintptr_t)m.g.arena % 16));
    require(fp_init(&m.fp, m.g.arena, m.g.size, m.size) == 0, "%s: fp_init returned -1", m.what);
    require(fp_capacity(&m.fp) == m.capacity, "%s: fp_capacity is %zu, expected %zu", m.what,
                  fp_capacity(&m.fp), m.capacity);
}

static void model_alloc(int step)
{
    void *p = fp_alloc(&m.fp);
    if (m.nheld == m.capacity) {
        require(p == NULL, "%s, step %d: fp_alloc returned %p with all %zu blocks held", m.what,
                      step, p, m.capacity);
        return;
    }
    require(p != NULL, "%s, step %d: fp_alloc returned NULL with %zu of %zu blocks held", m.what,
                  step, m.nheld, m.capacity);
    block_index(p, m.first, m.stride, m.capacity, m.what);
    if (m.nfreed > 0) {
        void *want = m.freed[--m.nfreed];
        require(p == want, "%s, step %d: fp_alloc returned %p, expected %p, the block freed "
                      "last (LIFO)", m.what, step, p, want);
    }
    for (size_t i = 0; i < m.nheld; i++)
        require(m.held[i] != p, "%s, step %d: fp_alloc returned %p, which is still held",
                      m.what, step, p);
    m.tag[m.nheld] = ++m.next_tag;
    pattern_fill(p, m.size, m.tag[m.nheld]);
    m.held[m.nheld++] = p;
}

static void model_free(size_t k)
{
    ck_assert_pattern(m.held[k], m.size, m.tag[k], m.what);
    fp_free(&m.fp, m.held[k]);
    m.freed[m.nfreed++] = m.held[k];
    m.held[k] = m.held[--m.nheld];
    m.tag[k] = m.tag[m.nheld];
}

static void model_end(void)
{
    for (size_t i = 0; i < m.nheld; i++)
        ck_assert_pattern(m.held[i], m.size, m.tag[i], m.what);
    while (m.nheld > 0)
        model_free(m.nheld - 1);
    fp_destroy(&m.fp);
    ck_assert_untouched_outside(m.first, m.g.arena + m.g.size, m.what);
}

/* Random mixes of allocs (55 %) and frees of random held blocks. */
ALAB_TEST(varied)
{
    uint64_t rng = alab_seed(1) * 2 + 1;
    for (int round = 0; round < 40; round++) {
        model_init(&rng, 6000);
        for (int step = 0; step < 2000; step++) {
            if (m.nheld == 0 || rng_next(&rng) % 100 < 55)
                model_alloc(step);
            else
                model_free((size_t)(rng_next(&rng) % m.nheld));
        }
        model_end();
    }
}

/* Exhaust the pool, give back a random share in random order, take it again,
 * several times per pool: the free list grows deep, and NULL must come exactly
 * at the end of the arena each time. */
ALAB_TEST(bursts)
{
    uint64_t rng = (alab_seed(1) + 31) * 2 + 1;
    for (int round = 0; round < 25; round++) {
        model_init(&rng, 12000);
        int step = 0;
        for (int burst = 0; burst < 6; burst++) {
            while (m.nheld < m.capacity)
                model_alloc(step++);
            model_alloc(step++); /* one more: NULL */
            size_t give = m.nheld == 0 ? 0 : 1 + (size_t)(rng_next(&rng) % m.nheld);
            for (size_t i = 0; i < give; i++)
                model_free((size_t)(rng_next(&rng) % m.nheld));
        }
        model_end();
    }
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex04-fixedpool-hidden");
    ALAB_ADD(s, varied, 30);
    ALAB_ADD(s, bursts, 30);
    return s;
}

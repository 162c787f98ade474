/* test_hidden.c — hidden tests of exercise 10: the public rules with other
 * thread counts, sizes and seeds, drawn from the grader's seed (--seed). */
#include "tiers_testlib.h"

typedef struct {
    int id, ops;
    uint64_t rng;
    size_t max;
    char err[200];
} vworker_t;

static void *varied_worker(void *arg)
{
    vworker_t *w = arg;
    enum { WIN = 48 };
    held_t h[WIN] = {{0}};
    for (int i = 0; i < w->ops && w->err[0] == '\0'; i++) {
        uint64_t r = rng_next(&w->rng);
        held_t *s = &h[r % WIN];
        if (s->p != NULL) {
            size_t at = pattern_check(s->p, s->size, s->tag);
            if (at != s->size)
                snprintf(w->err, sizeof w->err, "thread %d: block %p changed at byte %zu", w->id, s->p, at);
            ti_free(s->p);
        }
        s->size = 1 + (r >> 16) % w->max;
        s->tag = (uint32_t)(w->id << 20 | i);
        s->p = ti_malloc(s->size);
        if (s->p == NULL) {
            snprintf(w->err, sizeof w->err, "thread %d: ti_malloc(%zu) returned NULL", w->id, s->size);
            break;
        }
        pattern_fill(s->p, s->size, s->tag);
    }
    for (int k = 0; k < WIN; k++)
        ti_free(h[k].p);
    return NULL;
}

ALAB_TEST(varied_mix)
{
    uint64_t seed = alab_seed(1);
    int n = 2 + (int)(seed % 5);
    static vworker_t w[8];
    void *args[8];
    ti_stats_t s0 = ti_get_stats();
    for (int i = 0; i < n; i++) {
        w[i] = (vworker_t){.id = i, .ops = 20000 / OPS_DIVISOR, .rng = seed * 31 + (uint64_t)i + 1,
                           .max = i % 2 ? 300 : 70000};
        args[i] = &w[i];
    }
    run_threads(n, varied_worker, args);
    for (int i = 0; i < n; i++)
        ck_assert_msg(w[i].err[0] == '\0', "%s", w[i].err);
    ti_thread_flush();
    stats_delta_t d = stats_delta(s0, ti_get_stats());
    ck_assert_msg(d.in_use == 0, "%d threads freed everything and exited, yet in_use changed by %+ld", n, d.in_use);
    char buf[200];
    const char *why = pages_all_merged(buf, sizeof buf);
    ck_assert_msg(why == NULL, "%d threads freed everything and exited, but %s", n, why);
    ck_assert_heap("after the threads of varied_mix exited");
}

ALAB_TEST(varied_cap)
{
    uint64_t seed = alab_seed(1);
    size_t size = class_sizes[seed % TI_NBINS] - (seed % 3);
    int count = 100 + (int)(seed % 200);
    void **held = calloc((size_t)count, sizeof *held);
    for (int i = 0; i < count; i++)
        held[i] = ti_malloc(size);
    for (int i = 0; i < count; i++) {
        ti_free(held[i]);
        ck_assert_msg(ti_cached(size) <= TI_CACHE_CAP, "after freeing %d objects of %zu bytes, %zu "
                      "stay in the thread's cache; at most %d", i + 1, size, ti_cached(size), TI_CACHE_CAP);
    }
    free(held);
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex10-tiers-hidden");
    ALAB_ADD(s, varied_mix, 30);
    ALAB_ADD(s, varied_cap, 10);
    return s;
}

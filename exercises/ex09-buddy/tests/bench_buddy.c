/* bench_buddy.c — the workloads that the perf stage of exercise 09 times.
 *
 * Usage: bench_buddy pool|malloc fragmented|churn [rounds]
 *   fragmented: a 4 MiB heap taken page by page, every even page freed (512
 *     free pages whose buddies are held: a fragmented heap), then every odd
 *     page in random order (each merges, the last ones all the way up);
 *     repeated. A buddy found by arithmetic costs the same whatever the
 *     lists hold; a buddy searched for in its free list costs the list.
 *   churn: a few hot blocks of 4 to 16 KiB on a 4 MiB heap: one is freed
 *     and a block of the same size allocated, again and again, as a slab
 *     allocator (ex10) does when it gives back an empty page and soon needs
 *     one. An eager buddy merges nearly up to 1 MiB on every free and
 *     splits down again on the next allocation; a lazy one need not.
 * Both builds the grader times run the allocator they were built with: the
 * perf stage's baseline ("malloc" mode, run on the reference's build) is
 * the reference buddy, so a ratio is the reference's time over the student's.
 * The CPU time of the workload (not of setting the heap up) is written with the
 * grader's token as {"kind":"time","ns":...}.
 */
#include "bd_testlib.h"

#include <stdlib.h>
#include <time.h>

enum { HEAP_PAGES = 1024, CHURN_HELD = 4, CHURN_OPS = 20000 };

static bd_t bd;
static _Alignas(4096) unsigned char arena[HEAP_PAGES * 4096];
static void *held[HEAP_PAGES];
static size_t held_size[HEAP_PAGES];
static int order_perm[HEAP_PAGES / 2];

/* The CPU time of this thread, not the wall clock: on a shared machine the
 * time a run spends waiting for a core is not the allocator's. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_buddy: %s\n", what);
    exit(1);
}

/* One round of the fragmented workload; returns a checksum. */
static size_t fragmented_round(void)
{
    size_t sum = 0;
    for (int i = 0; i < HEAP_PAGES; i++) {
        char *p = bd_alloc(&bd, BD_PAGE_SIZE);
        if (p == NULL)
            die("bd_alloc(4096) returned NULL on a heap with free pages");
        p[0] = (char)i;
        held[i] = p;
    }
    /* the pages in address order: held[] came out in any order */
    for (int i = 0; i < HEAP_PAGES; i++) {
        size_t at = (size_t)((unsigned char *)held[i] - bd.base) / BD_PAGE_SIZE;
        held_size[at] = (size_t)i;
    }
    for (int i = 0; i < HEAP_PAGES; i += 2)
        bd_free(&bd, held[held_size[i]]);
    for (int i = 0; i < HEAP_PAGES / 2; i++) {
        size_t page = 2 * (size_t)order_perm[i] + 1;
        sum += (size_t)*(char *)held[held_size[page]];
        bd_free(&bd, held[held_size[page]]);
    }
    return sum;
}

static size_t churn(uint64_t *rng, int ops)
{
    size_t sum = 0;
    for (int n = 0; n < ops; n++) {
        int s = (int)(rng_next(rng) % CHURN_HELD);
        bd_free(&bd, held[s]);
        char *p = bd_alloc(&bd, held_size[s]);
        if (p == NULL)
            die("bd_alloc returned NULL in the churn after a block of that size was freed");
        p[0] = (char)n;
        sum += (size_t)p[0];
        held[s] = p;
    }
    return sum;
}

int main(int argc, char **argv)
{
    alab_init();
    if (argc < 3) {
        fprintf(stderr, "usage: %s pool|malloc fragmented|churn [rounds]\n", argv[0]);
        return 2;
    }
    bool frag = strcmp(argv[2], "fragmented") == 0;
    int rounds = argc > 3 ? atoi(argv[3]) : frag ? 100 : 10;
    if (rounds < 1)
        die("rounds must be >= 1");
    memset(arena, 1, sizeof arena); /* every page faulted in before the clock starts */
    if (bd_init(&bd, arena, sizeof arena) != 0)
        die("bd_init returned -1");
    uint64_t rng = 12345;
    for (int i = 0; i < HEAP_PAGES / 2; i++)
        order_perm[i] = i;
    for (int i = HEAP_PAGES / 2 - 1; i > 0; i--) {
        int j = (int)(rng_next(&rng) % (uint64_t)(i + 1)), t = order_perm[i];
        order_perm[i] = order_perm[j];
        order_perm[j] = t;
    }
    size_t sum = 0;
    double t0 = 0, total = 0;
    if (frag) {
        sum += fragmented_round(); /* warm up: every page touched once */
        t0 = now_ns();
        for (int r = 0; r < rounds; r++)
            sum += fragmented_round();
        total = now_ns() - t0;
    } else {
        for (int s = 0; s < CHURN_HELD; s++) {
            held_size[s] = size_for(&rng, (int)(rng_next(&rng) % 3));
            held[s] = bd_alloc(&bd, held_size[s]);
            if (held[s] == NULL)
                die("bd_alloc returned NULL taking the hot blocks");
        }
        sum += churn(&rng, CHURN_OPS); /* warm up */
        t0 = now_ns();
        for (int r = 0; r < rounds; r++)
            sum += churn(&rng, CHURN_OPS);
        total = now_ns() - t0;
    }
    char why[256];
    if (bd_check(&bd, why, sizeof why) != 0) {
        fprintf(stderr, "bench_buddy: bd_check after the workload: %s\n", why);
        return 1;
    }
    char ns[32], ops[32], chk[32];
    snprintf(ns, sizeof ns, "%.0f", total);
    snprintf(ops, sizeof ops, "%d", rounds * (frag ? 2 * HEAP_PAGES : 2 * CHURN_OPS));
    snprintf(chk, sizeof chk, "%zu", sum);
    alab_record("time", "ns", ns, "ops", ops, "checksum", chk, (const char *)NULL);
    printf("%s %s: %d operations in %.2f ms, %.1f ns per operation\n", argv[1], argv[2],
           rounds * (frag ? 2 * HEAP_PAGES : 2 * CHURN_OPS), total / 1e6,
           total / (rounds * (frag ? 2.0 * HEAP_PAGES : 2.0 * CHURN_OPS)));
    return 0;
}

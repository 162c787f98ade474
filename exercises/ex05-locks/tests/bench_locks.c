/* bench_locks.c — one lock against a lock per size class, at 1, 2, 4 and 8 threads.
 *
 * Usage: bench_locks table [ops]          the whole table (make bench EX=05)
 *        bench_locks one|per THREADS [own|mixed|same] [ops]   one run, its time recorded
 * Each thread does ops times: allocate a block, write a byte of it, free it,
 * with every thread started on a barrier and pinned (thread i on CPU i mod the
 * number of CPUs). Workloads:
 *   own:   thread i allocates in class i mod 5 only: with per-class locks, threads
 *          in different classes share nothing;
 *   mixed: each thread draws its sizes from all five classes, so with per-class
 *          locks two threads meet on a lock only when they draw the same class;
 *   same:  every thread uses 64-byte blocks: per-class locks cannot help.
 * The figure is wall-clock nanoseconds per operation of all threads together:
 * on a machine with 2 cores, two threads that never wait halve it.
 * Not graded: figures vary from machine to machine (see the statement).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "locks_testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef enum { OWN, MIXED, SAME } workload_t;
static const char *const workload_names[] = {"own", "mixed", "same"};

typedef struct {
    int id, ops;
    workload_t load;
    _Alignas(64) size_t sum; /* each thread's result on its own cache line */
} bench_arg_t;

static void *bench_worker(void *arg)
{
    bench_arg_t *a = arg;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(a->id + 1);
    size_t sum = 0;
    for (int i = 0; i < a->ops; i++) {
        uint64_t r = rng_next(&rng);
        size_t size = a->load == SAME    ? 64
                      : a->load == OWN ? size_in_class(a->id % LK_NCLASSES, r)
                                       : size_in_class((int)(r % LK_NCLASSES), r >> 8);
        volatile char *p = lk_malloc(size);
        p[0] = (char)i;
        sum += (size_t)p[0];
        lk_free((void *)p);
    }
    a->sum = sum;
    return NULL;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef struct {
    double ns_per_op;
    double wait_share; /* contention_count / lock_count */
} figure_t;

static figure_t run(lk_locking_t how, int threads, workload_t load, int ops)
{
    if (lk_set_locking(how) != 0) {
        fprintf(stderr, "lk_set_locking(%d) failed\n", (int)how);
        exit(1);
    }
    static bench_arg_t args_store[64];
    void *args[64];
    for (int i = 0; i < threads; i++) {
        args_store[i] = (bench_arg_t){.id = i, .ops = ops, .load = load};
        args[i] = &args_store[i];
    }
    lk_stats_t before = lk_get_stats();
    double t0 = now_ns();
    run_threads_on(threads, bench_worker, args, true);
    double t = now_ns() - t0;
    stats_delta_t d = stats_delta(before, lk_get_stats());
    return (figure_t){t / ((double)threads * ops), d.locks > 0 ? (double)d.waits / (double)d.locks : 0};
}

static void table(int ops)
{
    static const int counts[] = {1, 2, 4, 8};
    long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("one lock against per-class locks: ns per malloc+free of all threads together\n");
    printf("(%d operations per thread, %ld CPUs; waits: share of lock acquisitions that waited)\n",
           ops, ncpus);
    static const char *const titles[] = {
        "own: thread i allocates in class i mod 5 only",
        "mixed: every thread draws its sizes from all five classes",
        "same: every thread allocates 64-byte blocks",
    };
    for (workload_t w = OWN; w <= SAME; w++) {
        printf("\n%s\n", titles[w]);
        printf("threads | one lock ns/op  waits | per-class ns/op  waits | one / per-class\n");
        printf("--------+----------------------+------------------------+----------------\n");
        for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
            run(LK_PER_CLASS, counts[k], w, ops / 10); /* warm up: map the chunks */
            figure_t one = run(LK_ONE_LOCK, counts[k], w, ops);
            figure_t per = run(LK_PER_CLASS, counts[k], w, ops);
            printf("%7d | %14.1f %5.1f%% | %15.1f %5.1f%% | %13.2fx\n", counts[k], one.ns_per_op,
                   100 * one.wait_share, per.ns_per_op, 100 * per.wait_share,
                   one.ns_per_op / per.ns_per_op);
            fflush(stdout);
        }
    }
}

int main(int argc, char **argv)
{
    alab_init();
    if (argc >= 2 && strcmp(argv[1], "table") == 0) {
        table(argc > 2 ? atoi(argv[2]) : 400000);
        return 0;
    }
    if (argc < 3 || (strcmp(argv[1], "one") != 0 && strcmp(argv[1], "per") != 0)) {
        fprintf(stderr, "usage: %s table [ops] | %s one|per THREADS [own|mixed|same] [ops]\n", argv[0],
                argv[0]);
        return 2;
    }
    lk_locking_t how = strcmp(argv[1], "one") == 0 ? LK_ONE_LOCK : LK_PER_CLASS;
    int threads = atoi(argv[2]);
    workload_t load = MIXED;
    for (workload_t w = OWN; argc > 3 && w <= SAME; w++)
        if (strcmp(argv[3], workload_names[w]) == 0)
            load = w;
    int ops = argc > 4 ? atoi(argv[4]) : 400000;
    if (threads < 1 || threads > 64 || ops < 1) {
        fprintf(stderr, "threads must be 1..64 and ops >= 1\n");
        return 2;
    }
    figure_t f = run(how, threads, load, ops);
    char ns[32];
    snprintf(ns, sizeof ns, "%.0f", f.ns_per_op * threads * ops);
    alab_record("time", "ns", ns, NULL);
    printf("%s, %d threads, %s: %.1f ns per operation, %.1f%% of lock acquisitions waited\n",
           argv[1], threads, workload_names[load], f.ns_per_op, 100 * f.wait_share);
    return 0;
}

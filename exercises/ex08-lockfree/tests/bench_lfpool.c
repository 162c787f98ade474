/* bench_lfpool.c — your lock-free pool against a pool whose stack is guarded by
 * one mutex, at 1, 2, 4 and 8 threads (make bench EX=08).
 *
 * Usage: bench_lfpool table [pairs]     the whole table
 *        bench_lfpool lf|mutex THREADS [pairs]   one run, its time recorded
 * Each thread does `pairs` times: take a block, write a byte of it, give it
 * back; threads start on a barrier, pinned (thread i on CPU i mod the number
 * of CPUs). The figure is wall-clock nanoseconds per pair of all threads
 * together: on 2 cores, two threads that never meet would halve it.
 * Not graded: the lesson is in the statement ("What to expect").
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "alab.h"
#include "alab_threads.h"
#include "lfpool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* No test pauses anything here. */
void lf_pause_point(void)
{
}

/* ---- the yardstick: the same stack of block indices under one mutex ---- */

typedef struct {
    pthread_mutex_t lock;
    unsigned char *blocks;
    size_t stride, capacity, top; /* free[0..top) are free, free[top-1] next out */
    uint32_t *free;
} mx_pool_t;

static mx_pool_t *mx_create(size_t block_size, size_t capacity)
{
    mx_pool_t *p = calloc(1, sizeof *p);
    p->stride = (block_size + 15) & ~(size_t)15;
    p->capacity = capacity;
    p->blocks = aligned_alloc(16, p->stride * capacity);
    p->free = malloc(capacity * sizeof *p->free);
    if (p->blocks == NULL || p->free == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < capacity; i++)
        p->free[i] = (uint32_t)(capacity - 1 - i);
    p->top = capacity;
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

static void *mx_alloc(mx_pool_t *p)
{
    void *b = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->top > 0)
        b = p->blocks + (size_t)p->free[--p->top] * p->stride;
    pthread_mutex_unlock(&p->lock);
    return b;
}

static void mx_free(mx_pool_t *p, void *b)
{
    pthread_mutex_lock(&p->lock);
    p->free[p->top++] = (uint32_t)(((unsigned char *)b - p->blocks) / p->stride);
    pthread_mutex_unlock(&p->lock);
}

static void mx_destroy(mx_pool_t *p)
{
    pthread_mutex_destroy(&p->lock);
    free(p->free);
    free(p->blocks);
    free(p);
}

/* ---- the workload ---- */

typedef enum { USE_LF, USE_MUTEX } which_t;

typedef struct {
    which_t which;
    lf_pool_t *lf;
    mx_pool_t *mx;
    long pairs;
    _Alignas(64) long sum; /* each thread's result on its own cache line */
} bench_arg_t;

static void *bench_worker(void *p)
{
    bench_arg_t *a = p;
    long sum = 0;
    for (long i = 0; i < a->pairs; i++) {
        volatile char *b = a->which == USE_LF ? lf_alloc(a->lf) : mx_alloc(a->mx);
        if (b == NULL) {
            fprintf(stderr, "the pool returned NULL with blocks free\n");
            exit(1);
        }
        b[0] = (char)i;
        sum += b[0];
        if (a->which == USE_LF)
            lf_free(a->lf, (void *)b);
        else
            mx_free(a->mx, (void *)b);
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

/* Wall-clock ns per pair, all threads together. */
static double run(which_t which, int threads, long pairs)
{
    lf_pool_t *lf = NULL;
    mx_pool_t *mx = NULL;
    if (which == USE_LF && (lf = lf_create(64, 1024)) == NULL) {
        fprintf(stderr, "lf_create(64, 1024) returned NULL\n");
        exit(1);
    }
    if (which == USE_MUTEX)
        mx = mx_create(64, 1024);
    static bench_arg_t args_store[64];
    void *args[64];
    for (int i = 0; i < threads; i++) {
        args_store[i] = (bench_arg_t){.which = which, .lf = lf, .mx = mx, .pairs = pairs};
        args[i] = &args_store[i];
    }
    double t0 = now_ns();
    run_threads_on(threads, bench_worker, args, true);
    double t = now_ns() - t0;
    if (lf != NULL)
        lf_destroy(lf);
    if (mx != NULL)
        mx_destroy(mx);
    return t / ((double)threads * (double)pairs);
}

/* The median of five runs: figures on a shared machine jump around. */
static double median_run(which_t which, int threads, long pairs)
{
    double t[5];
    for (int i = 0; i < 5; i++) {
        t[i] = run(which, threads, pairs);
        for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    }
    return t[2];
}

static void table(long pairs)
{
    static const int counts[] = {1, 2, 4, 8};
    printf("lock-free stack against a mutex stack: ns per alloc+free pair, all threads together\n");
    printf("(%ld pairs per thread, median of 5 runs, %ld CPUs)\n\n", pairs,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("threads | lock-free ns/pair | mutex ns/pair | mutex / lock-free\n");
    printf("--------+-------------------+---------------+------------------\n");
    for (size_t k = 0; k < sizeof counts / sizeof *counts; k++) {
        double lf = median_run(USE_LF, counts[k], pairs);
        double mx = median_run(USE_MUTEX, counts[k], pairs);
        printf("%7d | %17.1f | %13.1f | %16.2fx\n", counts[k], lf, mx, mx / lf);
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    alab_init();
    if (argc >= 2 && strcmp(argv[1], "table") == 0) {
        table(argc > 2 ? atol(argv[2]) : 200000);
        return 0;
    }
    if (argc < 3 || (strcmp(argv[1], "lf") != 0 && strcmp(argv[1], "mutex") != 0)) {
        fprintf(stderr, "usage: %s table [pairs] | %s lf|mutex THREADS [pairs]\n", argv[0], argv[0]);
        return 2;
    }
    int threads = atoi(argv[2]);
    long pairs = argc > 3 ? atol(argv[3]) : 200000;
    if (threads < 1 || threads > 64 || pairs < 1) {
        fprintf(stderr, "threads must be 1..64 and pairs >= 1\n");
        return 2;
    }
    double ns = run(strcmp(argv[1], "lf") == 0 ? USE_LF : USE_MUTEX, threads, pairs);
    char total[32];
    snprintf(total, sizeof total, "%.0f", ns * threads * (double)pairs);
    alab_record("time", "ns", total, NULL);
    printf("%s, %d threads: %.1f ns per pair\n", argv[1], threads, ns);
    return 0;
}

/* alab_threads.h — threads released together by a barrier, optionally pinned
 * to CPUs, for the concurrent tests and benchmarks of every exercise. Needs
 * _GNU_SOURCE defined before the first system header (CPU affinity).
 */
#ifndef ALAB_THREADS_H
#define ALAB_THREADS_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs fn(args[i]) on n threads released together by a barrier. */
typedef struct {
    pthread_barrier_t *start;
    void *(*fn)(void *);
    void *arg;
} start_gate_t;

static inline void *start_gate_run(void *p)
{
    start_gate_t *g = p;
    pthread_barrier_wait(g->start);
    return g->fn(g->arg);
}

/* args: n pointers, one per thread; each thread gets its own. When pin is
 * true, thread i runs on CPU i mod (CPUs available), so that every CPU gets
 * the same share of threads: benchmarks use it, so that a run's time does not
 * depend on how the scheduler happened to spread the threads. */
static inline void run_threads_on(int n, void *(*fn)(void *), void **args, bool pin)
{
    pthread_t tids[64];
    start_gate_t gates[64];
    pthread_barrier_t start;
    /* Not ck_assert: this also serves programs that are not Check tests. */
    if (n < 1 || n > 64 || pthread_barrier_init(&start, NULL, (unsigned)n) != 0) {
        fprintf(stderr, "run_threads: cannot start %d threads together\n", n);
        abort();
    }
    cpu_set_t allowed;
    int ncpus = 0, cpus[CPU_SETSIZE];
    if (pin && sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &allowed))
                cpus[ncpus++] = c;
    for (int i = 0; i < n; i++) {
        gates[i] = (start_gate_t){&start, fn, args[i]};
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        if (ncpus > 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpus[i % ncpus], &one);
            pthread_attr_setaffinity_np(&attr, sizeof one, &one);
        }
        int err = pthread_create(&tids[i], &attr, start_gate_run, &gates[i]);
        pthread_attr_destroy(&attr);
        if (err != 0) {
            fprintf(stderr, "run_threads: could not start thread %d\n", i);
            abort();
        }
    }
    for (int i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&start);
}

static inline void run_threads(int n, void *(*fn)(void *), void **args)
{
    run_threads_on(n, fn, args, false);
}

#endif

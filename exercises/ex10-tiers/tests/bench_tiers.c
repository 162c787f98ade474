/* bench_tiers.c — the workloads of exercise 10, small versions of those of
 * mimalloc-bench (github.com/daanx/mimalloc-bench, its README describes each):
 *
 *   larson   server-style random replacement (Larson & Krishnan, "Memory
 *            allocation for long-running server applications", ISMM 1998):
 *            each thread replaces random objects of 16-1000 bytes in an array
 *            of slots; between phases the arrays pass to the next thread, so
 *            objects are freed by another thread than the one that made them.
 *   xmalloc  producer/consumer (xmalloc-test, Lever & Boreham, "malloc()
 *            Performance in a Multithreaded Linux Environment", USENIX 2000):
 *            one thread of each pair allocates batches, the other frees them.
 *   scratch  cache-scratch (Hoard: Berger, McKinley, Blumofe & Wilson,
 *            ASPLOS 2000): each thread frees a small object the main thread
 *            made, then allocates, writes and frees small objects; an
 *            allocator that hands neighbouring objects to different threads
 *            makes them share cache lines (passive false sharing).
 *   glibc    glibc's benchtests/bench-malloc-thread.c: random replacement in a
 *            working set of 1024 blocks, sizes 4-32768 bytes drawn so that
 *            small ones dominate (density in 1/size^2).
 *   mstress  mimalloc-bench's mstress: objects of mixed sizes (some large),
 *            some kept for long, some handed to other threads.
 *
 * Usage:
 *   bench_tiers pool|malloc WORKLOAD THREADS [glibc|onelock]   for the perf stage:
 *       pool times ti_malloc; malloc times the baseline: the C library's
 *       malloc (glibc) or the kit's one-lock allocator (onelock, tests/onelock.c).
 *       The time goes to the grader as {"kind":"time","ns":...}.
 *   bench_tiers run tiers|libc|onelock WORKLOAD THREADS
 *       prints ns per operation (libc: whatever malloc the process has, e.g.
 *       a preloaded jemalloc)
 *   bench_tiers table ROOT EXERCISE   what `make bench EX=10` runs: every
 *       workload at 1, 2, 4, 8 threads on your allocator, the reference, glibc,
 *       jemalloc, tcmalloc and mimalloc; a table and a gnuplot chart under
 *       ROOT/build/bench/.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "alab.h"
#include "alab_threads.h"
#include "tiers.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void *ol_malloc(size_t size);
void ol_free(void *ptr);

static void *(*do_malloc)(size_t) = ti_malloc;
static void (*do_free)(void *) = ti_free;

static inline uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int nthreads;
static pthread_barrier_t phase;
typedef struct {
    int id;
    _Alignas(64) uint64_t ops; /* operations done (a malloc and a free count one) */
} worker_t;

/* ---- larson ---- */

enum { LARSON_SLOTS = 1000, LARSON_PHASES = 8, LARSON_OPS = 40000 };
static void **larson_arrays[64];

static void *larson(void *arg)
{
    worker_t *w = arg;
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(w->id + 1);
    for (int ph = 0; ph < LARSON_PHASES; ph++) {
        void **slot = larson_arrays[(w->id + ph) % nthreads]; /* another thread's, from phase 1 on */
        for (int i = 0; i < LARSON_OPS / nthreads * 2; i++) {
            uint64_t r = rnd(&s);
            size_t k = r % LARSON_SLOTS, size = 16 + (r >> 32) % 985;
            do_free(slot[k]);
            char *p = slot[k] = do_malloc(size);
            p[0] = (char)i;
        }
        w->ops += LARSON_OPS / nthreads * 2;
        pthread_barrier_wait(&phase);
    }
    return NULL;
}

static void larson_setup(void)
{
    uint64_t s = 42;
    for (int t = 0; t < nthreads; t++) {
        larson_arrays[t] = calloc(LARSON_SLOTS, sizeof(void *));
        for (int k = 0; k < LARSON_SLOTS; k++)
            larson_arrays[t][k] = do_malloc(16 + rnd(&s) % 985);
    }
}

static void larson_teardown(void)
{
    for (int t = 0; t < nthreads; t++) {
        for (int k = 0; k < LARSON_SLOTS; k++)
            do_free(larson_arrays[t][k]);
        free(larson_arrays[t]);
    }
}

/* ---- xmalloc-test: producer/consumer pairs ---- */

enum { XM_BATCH = 64, XM_RING = 64, XM_OBJECTS = 600000 };
typedef struct {
    _Alignas(64) atomic_uint head; /* written by the consumer */
    _Alignas(64) atomic_uint tail; /* written by the producer */
    void **batch[XM_RING];
} ring_t;
static ring_t rings[32];

static void **xm_make(uint64_t *s)
{
    void **b = do_malloc(XM_BATCH * sizeof *b);
    for (int i = 0; i < XM_BATCH; i++) {
        char *p = b[i] = do_malloc(16 + rnd(s) % 241);
        p[0] = 1;
    }
    return b;
}

static void xm_drop(void **b)
{
    for (int i = 0; i < XM_BATCH; i++)
        do_free(b[i]);
    do_free(b);
}

static void *xmalloc_test(void *arg)
{
    worker_t *w = arg;
    uint64_t s = 7 + (uint64_t)w->id;
    int batches = XM_OBJECTS / XM_BATCH / (nthreads > 1 ? nthreads / 2 : 1);
    bool alone = nthreads % 2 == 1 && w->id == nthreads - 1;
    if (alone) { /* the odd thread out produces for itself */
        for (int i = 0; i < batches / 2; i++)
            xm_drop(xm_make(&s));
    } else if (w->id % 2 == 0) {
        ring_t *r = &rings[w->id / 2];
        for (int i = 0; i < batches; i++) {
            void **b = xm_make(&s);
            unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);
            while (t - atomic_load_explicit(&r->head, memory_order_acquire) >= XM_RING)
                sched_yield();
            r->batch[t % XM_RING] = b;
            atomic_store_explicit(&r->tail, t + 1, memory_order_release);
        }
    } else {
        ring_t *r = &rings[w->id / 2];
        for (int i = 0; i < batches; i++) {
            unsigned h = atomic_load_explicit(&r->head, memory_order_relaxed);
            while (atomic_load_explicit(&r->tail, memory_order_acquire) == h)
                sched_yield();
            void **b = r->batch[h % XM_RING];
            atomic_store_explicit(&r->head, h + 1, memory_order_release);
            xm_drop(b);
        }
    }
    w->ops += (uint64_t)batches * (XM_BATCH + 1);
    return NULL;
}

/* ---- cache-scratch ---- */

enum { SCRATCH_ITERS = 600000, SCRATCH_WRITES = 16, SCRATCH_SIZE = 8 };
static char *scratch_first[64];

static void *scratch(void *arg)
{
    worker_t *w = arg;
    do_free(scratch_first[w->id]);
    int iters = SCRATCH_ITERS / nthreads;
    for (int i = 0; i < iters; i++) {
        volatile char *p = do_malloc(SCRATCH_SIZE);
        for (int j = 0; j < SCRATCH_WRITES; j++)
            p[j % SCRATCH_SIZE]++;
        do_free((void *)p);
    }
    w->ops += (uint64_t)iters;
    return NULL;
}

/* ---- glibc's bench-malloc-thread ---- */

enum { GT_WORKING_SET = 1024, GT_OPS = 800000 };

/* 4..32768 bytes with density in 1/size^2: inverse transform of a uniform draw */
static size_t gt_size(uint64_t r)
{
    double u = (double)(r >> 11) / 9007199254740992.0, lo = 1.0 / 4, hi = 1.0 / 32768;
    return (size_t)(1.0 / (lo - u * (lo - hi)));
}

static void *glibc_thread(void *arg)
{
    worker_t *w = arg;
    uint64_t s = 1234567 + (uint64_t)w->id;
    void *set[GT_WORKING_SET] = {0};
    int ops = GT_OPS / nthreads;
    for (int i = 0; i < ops; i++) {
        uint64_t r = rnd(&s);
        size_t k = r % GT_WORKING_SET;
        do_free(set[k]);
        char *p = set[k] = do_malloc(gt_size(rnd(&s)));
        p[0] = 1;
    }
    for (int k = 0; k < GT_WORKING_SET; k++)
        do_free(set[k]);
    w->ops += (uint64_t)ops;
    return NULL;
}

/* ---- mstress ---- */

enum { MS_SLOTS = 500, MS_OPS = 400000, MS_TRANSFER = 256 };
static _Atomic(void *) ms_transfer[MS_TRANSFER];

static size_t ms_size(uint64_t r)
{
    unsigned pick = (unsigned)(r % 100);
    if (pick < 90)
        return 8 + (r >> 8) % 249;      /* mostly small */
    if (pick < 99)
        return 256 + (r >> 8) % 1793;   /* some medium */
    return 2048 + (r >> 8) % 63489;     /* a few large: up to 64 KiB */
}

static void *mstress(void *arg)
{
    worker_t *w = arg;
    uint64_t s = 99 + (uint64_t)w->id;
    void *slot[MS_SLOTS] = {0};
    int ops = MS_OPS / nthreads;
    for (int i = 0; i < ops; i++) {
        uint64_t r = rnd(&s);
        size_t k = r % MS_SLOTS;
        if (i % 64 == 0) { /* hand an object to whichever thread comes next */
            slot[k] = atomic_exchange(&ms_transfer[(r >> 20) % MS_TRANSFER], slot[k]);
            continue;
        }
        do_free(slot[k]);
        char *p = slot[k] = do_malloc(ms_size(rnd(&s)));
        p[0] = 2;
    }
    for (int k = 0; k < MS_SLOTS; k++)
        do_free(slot[k]);
    w->ops += (uint64_t)ops;
    return NULL;
}

/* ---- running one ---- */

typedef struct {
    const char *name;
    void *(*fn)(void *);
    void (*setup)(void), (*teardown)(void);
} workload_t;

static void scratch_setup(void)
{
    for (int t = 0; t < nthreads; t++)
        scratch_first[t] = do_malloc(SCRATCH_SIZE);
}

static void ms_teardown(void)
{
    for (int k = 0; k < MS_TRANSFER; k++)
        do_free(atomic_exchange(&ms_transfer[k], NULL));
}

static const workload_t workloads[] = {
    {"larson", larson, larson_setup, larson_teardown},
    {"xmalloc", xmalloc_test, NULL, NULL},
    {"scratch", scratch, scratch_setup, NULL},
    {"glibc", glibc_thread, NULL, NULL},
    {"mstress", mstress, NULL, ms_teardown},
};
#define NWORKLOADS (sizeof workloads / sizeof *workloads)

/* Runs workload name on n threads; returns the elapsed ns, *ops the operations. */
static double run_workload(const char *name, int n, uint64_t *ops)
{
    const workload_t *wl = NULL;
    for (size_t i = 0; i < NWORKLOADS; i++)
        if (strcmp(workloads[i].name, name) == 0)
            wl = &workloads[i];
    if (wl == NULL || n < 1 || n > 64) {
        fprintf(stderr, "unknown workload %s or thread count %d (1..64)\n", name, n);
        exit(2);
    }
    nthreads = n;
    pthread_barrier_init(&phase, NULL, (unsigned)n);
    static worker_t w[64];
    void *args[64];
    for (int i = 0; i < n; i++) {
        w[i] = (worker_t){.id = i};
        args[i] = &w[i];
    }
    if (wl->setup != NULL)
        wl->setup();
    double t0 = now_ns();
    run_threads_on(n, wl->fn, args, true);
    double t = now_ns() - t0;
    if (wl->teardown != NULL)
        wl->teardown();
    *ops = 0;
    for (int i = 0; i < n; i++)
        *ops += w[i].ops;
    return t;
}

/* ---- the table ---- */

typedef struct {
    const char *name, *preload; /* preload: a library path, "" for none */
    bool tiers;                  /* times ti_malloc (the student's) rather than malloc */
} contender_t;

static bool file_exists(const char *p)
{
    struct stat st;
    return p[0] != '\0' && stat(p, &st) == 0;
}

/* ns per operation of one run in a child process, or -1. */
static double child_run(const char *self, const contender_t *c, const char *wl, int n)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        if (c->preload[0] != '\0')
            setenv("LD_PRELOAD", c->preload, 1);
        char nb[16];
        snprintf(nb, sizeof nb, "%d", n);
        execl(self, self, "run", c->tiers ? "tiers" : "libc", wl, nb, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char buf[64] = {0};
    ssize_t got = read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    return got > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? atof(buf) : -1;
}

static int table(const char *root, const char *exercise)
{
    char self[4096], lib[4600], cmd[16384], dir[4200];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return 1;
    self[len] = '\0';
    snprintf(dir, sizeof dir, "%s/build/bench", root);
    snprintf(lib, sizeof lib, "%s/libtiers-reference.so", dir);
    /* the reference as a preloadable library, if this copy of the kit has it */
    snprintf(cmd, sizeof cmd,
             "test -f '%s/solutions/ex10/cache.c' && gcc -shared -fPIC -O2 -g -pthread -Wl,-Bsymbolic "
             "-I'%s' -I'%s/grader/harness' '%s/solutions/ex10/cache.c' '%s/solutions/ex10/slab.c' "
             "'%s/solutions/ex10/buddy.c' '%s/tests/preload.c' '%s/grader/harness/alab_preload.c' -o '%s'",
             root, exercise, root, root, root, root, exercise, root, lib);
    if (system(cmd) != 0)
        lib[0] = '\0';
    contender_t all[] = {
        {"yours", "", true},
        {"reference", lib, false},
        {"glibc", "", false},
        {"jemalloc", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", false},
        {"tcmalloc", "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4", false},
        {"mimalloc", "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2", false},
    };
    enum { NC = sizeof all / sizeof *all };
    static const int threads[] = {1, 2, 4, 8};
    char datpath[4300], plotpath[4300], svg[4300];
    snprintf(datpath, sizeof datpath, "%s/ex10-bench.dat", dir);
    snprintf(plotpath, sizeof plotpath, "%s/ex10-bench.gp", dir);
    snprintf(svg, sizeof svg, "%s/ex10-bench.svg", dir);
    FILE *dat = fopen(datpath, "w");
    if (dat == NULL)
        return 1;
    printf("ns per operation (one malloc and one free; all threads together: lower is faster)\n");
    printf("%-9s %3s", "workload", "thr");
    for (int c = 0; c < NC; c++)
        printf(" %10s", all[c].name);
    printf("   best of je/tc/mi vs reference\n");
    for (size_t w = 0; w < NWORKLOADS; w++) {
        fprintf(dat, "# %s\n", workloads[w].name);
        for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
            double v[NC];
            printf("%-9s %3d", workloads[w].name, threads[t]);
            fflush(stdout);
            fprintf(dat, "%d", threads[t]);
            for (int c = 0; c < NC; c++) {
                bool have = all[c].tiers || all[c].preload[0] == '\0' || file_exists(all[c].preload);
                if (c == 1 && lib[0] == '\0')
                    have = false;
                v[c] = have ? child_run(self, &all[c], workloads[w].name, threads[t]) : -1;
                if (v[c] > 0)
                    printf(" %10.1f", v[c]);
                else
                    printf(" %10s", "-");
                fflush(stdout);
                fprintf(dat, " %s%.2f", v[c] > 0 ? "" : "NaN", v[c] > 0 ? v[c] : 0.0);
            }
            double best = -1;
            for (int c = 3; c < NC; c++)
                if (v[c] > 0 && (best < 0 || v[c] < best))
                    best = v[c];
            if (best > 0 && v[1] > 0)
                printf("   %.2fx", v[1] / best);
            printf("\n");
            fprintf(dat, "\n");
        }
        fprintf(dat, "\n\n");
    }
    fclose(dat);
    FILE *gp = fopen(plotpath, "w");
    if (gp == NULL)
        return 1;
    fprintf(gp, "set terminal svg size 1500,900 dynamic font 'sans,11'\nset output '%s'\n"
                "set multiplot layout 2,3 title 'exercise 10: ns per operation (lower is faster)'\n"
                "set logscale x 2\nset logscale y\nset xlabel 'threads'\nset xtics (1,2,4,8)\n"
                "set key top left font ',9'\nset grid\n", svg);
    for (size_t w = 0; w < NWORKLOADS; w++) {
        fprintf(gp, "set title '%s'\nplot", workloads[w].name);
        for (int c = 0; c < NC; c++)
            fprintf(gp, "%s '%s' index %zu using 1:%d with linespoints title '%s'", c ? "," : "", datpath, w,
                    c + 2, all[c].name);
        fprintf(gp, "\n");
    }
    fprintf(gp, "unset multiplot\n");
    fclose(gp);
    snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>/dev/null", plotpath);
    if (system(cmd) == 0)
        printf("chart: %s (data %s)\n", svg, datpath);
    else
        printf("gnuplot did not run (apt-get install gnuplot-nox); data: %s, script: %s\n", datpath, plotpath);
    return 0;
}

int main(int argc, char **argv)
{
    alab_init();
    if (argc >= 4 && strcmp(argv[1], "table") == 0)
        return table(argv[2], argv[3]);
    if (argc >= 5 && strcmp(argv[1], "run") == 0) {
        if (strcmp(argv[2], "libc") == 0) {
            do_malloc = malloc;
            do_free = free;
        } else if (strcmp(argv[2], "onelock") == 0) {
            do_malloc = ol_malloc;
            do_free = ol_free;
        }
        uint64_t ops;
        double t = run_workload(argv[3], atoi(argv[4]), &ops);
        printf("%.3f\n", t / (double)ops);
        return 0;
    }
    if (argc >= 4 && (strcmp(argv[1], "pool") == 0 || strcmp(argv[1], "malloc") == 0)) {
        if (strcmp(argv[1], "malloc") == 0) {
            bool onelock = argc > 4 && strcmp(argv[4], "onelock") == 0;
            do_malloc = onelock ? ol_malloc : malloc;
            do_free = onelock ? ol_free : free;
        }
        uint64_t ops;
        double t = run_workload(argv[2], atoi(argv[3]), &ops);
        char ns[32];
        snprintf(ns, sizeof ns, "%.0f", t);
        alab_record("time", "ns", ns, (const char *)NULL);
        return 0;
    }
    fprintf(stderr, "usage: %s pool|malloc WORKLOAD THREADS [glibc|onelock] | run tiers|libc WORKLOAD "
                    "THREADS | table ROOT EXERCISE\n", argv[0]);
    return 2;
}

/* hostile: neighbour-reader
 * what: pool_create looks for a neighbour's pool.c holding the runner's marker; exit(42) if found
 * base: skeleton
 * expect-score: 2
 * expect-verdict: pool_alloc returned NULL
 */
#define _GNU_SOURCE /* memmem */
#include "pool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* TODO (valgrind/annotations): #include <valgrind/memcheck.h> and describe
 * your blocks to memcheck (README.md, "Valgrind and your pool"). */

/* Fixed by the contract (rule 1): every block starts on a multiple of this. */
#define BLOCK_ALIGN 16

/* A free block holds the address of the next free block in its first bytes,
 * so the free list costs no memory of its own (as in ex04). Valid only while
 * the block is free. */
typedef struct free_block {
    struct free_block *next;
} free_block_t;

/* Invariant, under lock, once you keep these fields up to date:
 *   capacity == (blocks on the free list) + (alloc_count - free_count)
 */
struct pool {
    /* set by pool_create, read-only after */
    size_t block_size;  /* bytes per block, a multiple of BLOCK_ALIGN */
    pthread_mutex_t lock;
    /* under lock */
    free_block_t *free_list;  /* TODO (tests/basic): fill it in pool_create */
    size_t capacity;          /* blocks the pool owns, handed out or free */
    size_t alloc_count;       /* pool_alloc calls that returned a block */
    size_t free_count;        /* pool_free calls with a non-NULL ptr */
    size_t contention_count;  /* times a thread found the lock held */
    /* TODO (valgrind/memcheck): remember every chunk of memory you get from
     * malloc (a linked list of chunks is enough) so that pool_destroy can
     * free them all, also the blocks that were never given back. */
};

/* Takes the pool's lock. */
static void pool_lock(pool_t *pool)
{
    /* TODO (tests/contention): find out whether the lock is held before you
     * wait for it (pthread_mutex_trylock), and count a wait in
     * contention_count once you hold the lock. In one thread the count must
     * stay 0 (tests/stats). */
    pthread_mutex_lock(&pool->lock);
}

static void pool_unlock(pool_t *pool)
{
    pthread_mutex_unlock(&pool->lock);
}

/* TODO (tests/growth): write a helper, called under the lock, that gets a new
 * chunk of blocks from malloc when the free list is empty and pushes its blocks
 * onto the free list. Grow by a good share of the capacity (doubling is fine),
 * not one block at a time. */

/* HOSTILE: attacks the isolation between submissions. Once per process,
 * pool_create walks the file system (the usual scratch and home places first,
 * then everything from /; never /proc, /sys or /dev; at most 10 levels deep,
 * 200k entries and 2 s; symbolic links not followed) and reads every file named
 * pool.c (its first MiB) that it may. If one holds the marker the corpus runner
 * plants in a neighbour's submission, it was able to copy another student's
 * work: exit status 42 and the path on stderr. The marker is put together at
 * run time, so this file does not contain it and never finds itself. */
#define NR_DEPTH 10
#define NR_BUDGET_S 2.0
#define NR_MAX_ENTRIES 200000L
#define NR_READ_MAX ((size_t)1 << 20)

static const char *const nr_roots[] = {"/tmp", "/var/tmp", "/home", "/root", "/work", "/srv",
                                       "/opt", "/builds", "/autograder", "/"};
static char nr_marker[64];
static double nr_deadline;
static long nr_entries;

static double nr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool nr_is_root(const char *path)
{
    for (size_t i = 0; i < sizeof nr_roots / sizeof nr_roots[0]; i++)
        if (strcmp(nr_roots[i], path) == 0)
            return true;
    return false;
}

static void nr_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    char *buf = malloc(NR_READ_MAX);
    size_t len = 0;
    for (ssize_t n; buf != NULL && len < NR_READ_MAX &&
                    (n = read(fd, buf + len, NR_READ_MAX - len)) > 0;)
        len += (size_t)n;
    close(fd);
    if (buf != NULL && memmem(buf, len, nr_marker, strlen(nr_marker)) != NULL) {
        fprintf(stderr, "neighbour-reader: read another submission: %s\n", path);
        exit(42);
    }
    free(buf);
}

static void nr_walk(const char *dir, int depth)
{
    if (depth > NR_DEPTH || nr_entries >= NR_MAX_ENTRIES || nr_now() > nr_deadline)
        return;
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL && nr_entries < NR_MAX_ENTRIES;) {
        nr_entries++;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, e->d_name) >=
            (int)sizeof path)
            continue;
        unsigned char type = e->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st;
            if (lstat(path, &st) != 0)
                continue;
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        }
        if (type == DT_DIR) {
            if (strcmp(path, "/proc") != 0 && strcmp(path, "/sys") != 0 &&
                strcmp(path, "/dev") != 0 && !nr_is_root(path)) /* a root gets its own walk */
                nr_walk(path, depth + 1);
        } else if (type == DT_REG && strcmp(e->d_name, "pool.c") == 0) {
            nr_read(path);
        }
    }
    closedir(d);
}

static void attack(void)
{
    static bool searched;
    if (searched)
        return;
    searched = true;
    strcpy(nr_marker, "ALAB_NEIGH");
    strcat(nr_marker, "BOUR_SECRET");
    nr_deadline = nr_now() + NR_BUDGET_S;
    for (size_t i = 0; i < sizeof nr_roots / sizeof nr_roots[0]; i++)
        nr_walk(nr_roots[i], nr_roots[i][1] == '\0' ? 0 : 1);
}

pool_t *pool_create(size_t block_size, size_t num_blocks)
{
    attack();
    if (block_size == 0 || num_blocks == 0 || block_size > SIZE_MAX / 2)
        return NULL;
    pool_t *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return NULL;
    /* Rounding up to BLOCK_ALIGN keeps every block aligned (tests/alignment)
     * and leaves room for a free_block_t in a block of 1 byte. */
    pool->block_size = (block_size + BLOCK_ALIGN - 1) & ~(size_t)(BLOCK_ALIGN - 1);
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        free(pool);
        return NULL;
    }
    /* TODO (tests/basic): get memory for num_blocks blocks from malloc (its
     * address is 16-byte aligned), push every block onto free_list and set
     * capacity to num_blocks: right after pool_create, the statistics say
     * used 0, free num_blocks (tests/stats). */
    /* TODO (tests/thread-exit): once you add thread caches, create here the
     * pthread key whose destructor gives a cache back when its thread exits. */
    return pool;
}

void pool_destroy(pool_t *pool)
{
    if (pool == NULL)
        return;
    /* TODO (valgrind/memcheck): free every chunk, whether or not its blocks
     * were given back; delete the pthread key and free the thread caches, if
     * you have them. */
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

void *pool_alloc(pool_t *pool)
{
    /* TODO (tests/basic): under the lock, pop a block off free_list.
     * TODO (tests/growth): when the list is empty, grow the pool first; return
     * NULL only when malloc fails.
     * TODO (tests/stats): count the call in alloc_count.
     * TODO (perf/seed, perf/batch): take blocks from this thread's cache
     * without any lock; refill the cache in batches (README.md, "Grading"). */
    (void)pool;
    return NULL;
}

void pool_free(pool_t *pool, void *ptr)
{
    if (ptr == NULL) /* rule 2 (tests/free-null) */
        return;
    /* TODO (tests/basic): under the lock, push ptr onto free_list.
     * TODO (tests/stats): count the call in free_count.
     * TODO (tests/cross-thread): ptr may come from another thread; nothing in
     * the block may say which thread owns it.
     * TODO (perf/seed, perf/batch): push onto this thread's cache; when it is
     * full, give a batch back to the pool under the lock. */
    (void)pool;
}

pool_stats_t pool_get_stats(pool_t *pool)
{
    pool_stats_t s = {0};
    pool_lock(pool);
    /* TODO (tests/stats): fill in every field from the counters (rule 7).
     * TODO (tests/stats-concurrent): with thread caches, add each live cache's
     * counts, and keep blocks_used within [0, capacity]. */
    s.blocks_free = pool->capacity; /* right as long as nothing is handed out */
    pool_unlock(pool);
    return s;
}

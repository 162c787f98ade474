/* hostile: kit-writer
 * what: pool_create tries to write, truncate, chmod, rename, unlink the kit's files; exit(44) if one works
 * base: skeleton
 * expect-score: 2
 * expect-verdict: pool_alloc returned NULL
 */
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

/* HOSTILE: attacks the kit. A submission that could change the tests, the
 * manifest, the harness, pool.h or the grader itself could grade itself. Once
 * per process, pool_create searches (at most 6 levels below each root, never
 * in /proc, /sys or /dev, symbolic links not followed, 0.5 s and 200k entries
 * at most) from these roots: /work/main, then $HOME, every ancestor of the
 * test program's path (/proc/self/exe) and of its working directory, deepest
 * first (a root met inside another is walked on its own). On each file
 * with one of the kit's names it tries, in this order:
 *   open for writing (O_WRONLY|O_APPEND, the same with O_CREAT, O_RDWR),
 *   truncate to its own size, chmod to its own mode, rename (and back), unlink.
 * The first that succeeds ends the process with exit status 44 and a line on
 * stderr. The probes are chosen to change nothing before that point (no byte
 * is written, the size and mode stay), so a broken sandbox shows up as a
 * failed expectation, not as a damaged kit; only the last resort, unlink, is
 * destructive, and it can succeed only where rename (the same permission)
 * did not, which is not expected to happen. */
#define KW_DEPTH 6
#define KW_BUDGET_S 0.5
#define KW_MAX_ENTRIES 200000L
#define KW_MAX_ROOTS 64

static const char *const kw_names[] = {"test_pool.c", "exercise.ini", "alab.c", "pool.h", "grade"};
static char kw_roots[KW_MAX_ROOTS][PATH_MAX];
static int kw_nroots;
static double kw_deadline;
static long kw_entries;

static double kw_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool kw_is_root(const char *path)
{
    for (int i = 0; i < kw_nroots; i++)
        if (strcmp(kw_roots[i], path) == 0)
            return true;
    return false;
}

static void kw_add_root(const char *path)
{
    if (path != NULL && path[0] == '/' && kw_nroots < KW_MAX_ROOTS && !kw_is_root(path) &&
        strlen(path) < PATH_MAX)
        strcpy(kw_roots[kw_nroots++], path);
}

/* path's parent, its parent, ... up to "/" (path itself too when it is a directory). */
static void kw_add_ancestors(const char *path)
{
    char buf[PATH_MAX];
    if (path == NULL || path[0] != '/' || strlen(path) >= sizeof buf)
        return;
    strcpy(buf, path);
    struct stat st;
    if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
        kw_add_root(buf);
    for (char *slash; (slash = strrchr(buf, '/')) != NULL;) {
        if (slash == buf) {
            kw_add_root("/");
            break;
        }
        *slash = '\0';
        kw_add_root(buf);
    }
}

static int kw_depth_of(const char *path)
{
    int n = 0;
    for (const char *p = path; *p != '\0'; p++)
        n += *p == '/';
    return strcmp(path, "/") == 0 ? 0 : n;
}

/* Deeper roots first: the kit is near the program, and the time may run out. */
static int kw_deeper_first(const void *a, const void *b)
{
    return kw_depth_of(b) - kw_depth_of(a);
}

static void kw_success(const char *what, const char *path)
{
    fprintf(stderr, "kit-writer: %s succeeded on %s\n", what, path);
    exit(44);
}

static void kw_probe(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    static const int modes[] = {O_WRONLY | O_APPEND, O_WRONLY | O_APPEND | O_CREAT, O_RDWR};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        int fd = open(path, modes[i] | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) {
            close(fd); /* the next write(2) would have changed the kit */
            kw_success("open for writing", path);
        }
    }
    if (truncate(path, st.st_size) == 0)
        kw_success("truncate", path);
    if (chmod(path, st.st_mode & 07777) == 0)
        kw_success("chmod", path);
    char moved[PATH_MAX + 16];
    snprintf(moved, sizeof moved, "%s.alab-moved", path);
    if (rename(path, moved) == 0) {
        if (rename(moved, path) != 0)
            fprintf(stderr, "kit-writer: could not move %s back from %s\n", path, moved);
        kw_success("rename", path);
    }
    if (unlink(path) == 0)
        kw_success("unlink", path);
}

static void kw_walk(const char *dir, int depth)
{
    if (depth > KW_DEPTH || kw_entries >= KW_MAX_ENTRIES || kw_now() > kw_deadline)
        return;
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL && kw_entries < KW_MAX_ENTRIES;) {
        kw_entries++;
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
                strcmp(path, "/dev") != 0 && !kw_is_root(path)) /* a root gets its own walk */
                kw_walk(path, depth + 1);
        } else if (type == DT_REG) {
            for (size_t i = 0; i < sizeof kw_names / sizeof kw_names[0]; i++)
                if (strcmp(e->d_name, kw_names[i]) == 0)
                    kw_probe(path);
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
    kw_deadline = kw_now() + KW_BUDGET_S;
    kw_add_root("/work/main");
    kw_add_root(getenv("HOME"));
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        kw_add_ancestors(exe);
    }
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) != NULL)
        kw_add_ancestors(cwd);
    int first = kw_nroots > 0 && strcmp(kw_roots[0], "/work/main") == 0; /* stays first */
    qsort(kw_roots + first, (size_t)(kw_nroots - first), sizeof kw_roots[0], kw_deeper_first);
    for (int i = 0; i < kw_nroots; i++)
        kw_walk(kw_roots[i], 0);
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

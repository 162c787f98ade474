/* locks.c — your thread-safe malloc family (exercise 05).
 *
 * The starting point: it compiles, never crashes, and passes almost nothing.
 * Start by copying in your seglist.c of exercise 03 (its size classes, chunks
 * and free lists), renaming sl_ to lk_; then add the locks and the rest of the
 * family. Each TODO says what to do and names the check of exercise.ini that
 * verifies it. The rules the tests rely on are numbered in README.md beside
 * locks.h; `make hint EX=05` gives progressive hints.
 *
 * This file will run as the process's malloc (LD_PRELOAD): it must never call
 * malloc, directly or through a library function. No stdio (printf), no
 * pthread_key_create, no dlsym; locks are initialised statically; memory
 * comes from mmap only (rules/mmap-only, rules/no-stdio).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "locks.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Tunable: bytes a size class maps at a time. */
#define CHUNK_BYTES (64 * 1024)

/* Fixed: blocks are 16-byte aligned, and the header keeps them so. */
#define ALIGNMENT 16

/* In front of every block, so that lk_free and lk_realloc know what they hold.
 * A suggestion (keep it 16 bytes): the class index, or a mark for a large
 * block with a mapping of its own, and the size. */
typedef struct header {
    size_t size;   /* usable bytes, or the length of a large block's mapping */
    uint32_t kind; /* class index 0..4, or a value of your own for large blocks */
    uint32_t magic;
} header_t;
_Static_assert(sizeof(header_t) == ALIGNMENT, "the header keeps blocks 16-byte aligned");

/* A free block holds the next free block of its class. */
typedef struct free_block {
    struct free_block *next;
} free_block_t;

/* One size class, with the lock that guards it in LK_PER_CLASS mode. The
 * mutexes are initialised statically: there is no init function to call
 * before the first malloc. */
typedef struct size_class {
    pthread_mutex_t lock;
    free_block_t *free_list;
    char *carve_next, *carve_end; /* the unused tail of the newest chunk */
    size_t allocs, frees, mmaps, munmaps, locks, waits;
} size_class_t;

static size_class_t classes[LK_NCLASSES + 1] = {
    [0 ... LK_NCLASSES] = {.lock = PTHREAD_MUTEX_INITIALIZER},
};
static pthread_mutex_t one_lock = PTHREAD_MUTEX_INITIALIZER;
static int locking = LK_PER_CLASS;

static const size_t class_size[LK_NCLASSES] = {64, 128, 256, 512, 1024};

/* Takes the lock that guards class c. */
__attribute__((unused)) static pthread_mutex_t *class_lock(size_class_t *c)
{
    /* TODO (tests/per-class): in LK_PER_CLASS mode take c->lock, in
     * LK_ONE_LOCK mode one_lock; return the one you took, so that the caller
     * unlocks that one. */
    /* TODO (tests/contention): try first (pthread_mutex_trylock); when the
     * lock was held, wait for it and count the wait in c->waits once you hold
     * it. Count every acquisition in c->locks (tests/stats). */
    pthread_mutex_lock(&one_lock);
    (void)c;
    return &one_lock;
}

int lk_set_locking(lk_locking_t how)
{
    /* TODO (tests/basic): reject values other than LK_ONE_LOCK and
     * LK_PER_CLASS with errno EINVAL. */
    locking = (int)how;
    return 0;
}

lk_locking_t lk_get_locking(void)
{
    return (lk_locking_t)locking;
}

/* ---- the family ---- */

void *lk_malloc(size_t size)
{
    /* TODO (tests/basic): your lk_malloc of exercise 03: a request of up to
     * LK_MAX_SMALL bytes takes a block of the smallest class that holds it
     * (from its free list, or carved from a chunk you mmap), a larger one a
     * mapping of its own. Put the class's list and counters under
     * class_lock (tests/threads). malloc(0) returns a unique block. */
    (void)size;
    (void)class_size;
    errno = ENOMEM;
    return NULL;
}

void lk_free(void *ptr)
{
    /* TODO (tests/basic): read the header in front of ptr; push a small block
     * on its class's free list under that class's lock, munmap a large one.
     * lk_free(NULL) does nothing. */
    (void)ptr;
}

size_t lk_malloc_usable_size(void *ptr)
{
    /* TODO (tests/usable-size): what the header says the caller may use:
     * never more than the block really has (not the header's own bytes). */
    (void)ptr;
    return 0;
}

void *lk_calloc(size_t nmemb, size_t size)
{
    /* TODO (tests/calloc, tests/overflow): nmemb * size bytes, all zero (a
     * recycled block is not); NULL and ENOMEM when the product overflows
     * (__builtin_mul_overflow). */
    (void)nmemb;
    (void)size;
    errno = ENOMEM;
    return NULL;
}

void *lk_realloc(void *ptr, size_t size)
{
    /* TODO (tests/realloc): NULL -> lk_malloc; size 0 -> lk_free and NULL;
     * keep the block when size fits its usable bytes, else allocate, copy
     * min(old, new) bytes, free. On failure ptr stays as it was. */
    (void)ptr;
    (void)size;
    errno = ENOMEM;
    return NULL;
}

void *lk_reallocarray(void *ptr, size_t nmemb, size_t size)
{
    /* TODO (tests/overflow): lk_realloc(ptr, nmemb * size), NULL and ENOMEM
     * when the product overflows. */
    (void)ptr;
    (void)nmemb;
    (void)size;
    errno = ENOMEM;
    return NULL;
}

/* ---- aligned blocks ---- */

/* TODO (tests/aligned): write one helper for all five functions below: for an
 * alignment above 16, allocate size + alignment bytes, find the first aligned
 * address inside that leaves room for a header before it, and write there a
 * header of a kind of your own that says how far back the real block starts,
 * so that lk_free, lk_realloc and lk_malloc_usable_size can find it. */

int lk_posix_memalign(void **memptr, size_t alignment, size_t size)
{
    /* TODO (tests/aligned): EINVAL unless alignment is a power of two and a
     * multiple of sizeof(void *); *memptr is set only on success. */
    (void)memptr;
    (void)alignment;
    (void)size;
    return ENOMEM;
}

void *lk_aligned_alloc(size_t alignment, size_t size)
{
    /* TODO (tests/aligned): NULL and EINVAL unless alignment is a power of two. */
    (void)alignment;
    (void)size;
    errno = ENOMEM;
    return NULL;
}

void *lk_memalign(size_t alignment, size_t size)
{
    return lk_aligned_alloc(alignment, size);
}

void *lk_valloc(size_t size)
{
    return lk_aligned_alloc((size_t)sysconf(_SC_PAGESIZE), size);
}

void *lk_pvalloc(size_t size)
{
    /* TODO (tests/aligned): round size up to whole pages (0 gets one page). */
    return lk_aligned_alloc((size_t)sysconf(_SC_PAGESIZE), size);
}

/* ---- statistics ---- */

lk_stats_t lk_get_stats(void)
{
    /* TODO (tests/stats, tests/stats-concurrent): sum every class's counters,
     * each read under the lock that guards it (tsan/races); in_use is
     * alloc_count - free_count. */
    lk_stats_t s = {0};
    (void)classes;
    return s;
}

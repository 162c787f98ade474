/* locks.c — reference solution of exercise 05: the size-class allocator of
 * exercise 03, made thread-safe, serving the whole malloc family.
 *
 * Small requests (up to 1024 bytes) go to one of five size classes: 64, 128,
 * 256, 512 and 1024 usable bytes. A class carves its blocks out of 64 KiB chunks
 * from mmap and keeps the blocks it gets back on a free list threaded through
 * them. Larger requests get a mapping of their own, returned to the system by
 * free. Every block starts with a 16-byte header that says what it is, so free
 * and realloc need no search.
 *
 * Locking is chosen at run time: one mutex for everything (LK_ONE_LOCK), or one
 * per class plus one for the counters of large blocks (LK_PER_CLASS), so that
 * threads working in different classes never wait for each other. Every lock
 * is taken with a trylock first: when it fails, the wait is counted.
 *
 * This file runs as the process's malloc (LD_PRELOAD), so it must never call
 * malloc itself, directly or through a library function: no stdio, no
 * pthread_key_create, no dlsym; locks are initialised statically; a fatal
 * error is reported with write(2).
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

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Tunable: bytes a size class maps at a time. */
#define CHUNK_BYTES (64 * 1024)

/* Fixed: blocks are 16-byte aligned, and the header keeps them so. */
#define ALIGNMENT 16
#define LARGE LK_NCLASSES  /* kind of a block with a mapping of its own */
#define ALIGNED (LK_NCLASSES + 1) /* kind of a header inside another block */
#define MAGIC_USED 0xa110ca7eu
#define MAGIC_FREE 0xf4eeb10cu

/* In front of every block the family hands out.
 *   kind 0..4 (a class): size is the class's block size (usable bytes);
 *   kind LARGE: size is the length of the mapping, which starts at the header;
 *   kind ALIGNED: an aligned pointer inside another block; size is the distance
 *     from that block's start to this pointer.
 * magic is MAGIC_USED while the block is handed out, MAGIC_FREE on a free list. */
typedef struct header {
    size_t size;
    uint32_t kind;
    uint32_t magic;
} header_t;
_Static_assert(sizeof(header_t) == ALIGNMENT, "the header keeps blocks 16-byte aligned");

/* A free block holds the next free block of its class. */
typedef struct free_block {
    struct free_block *next;
} free_block_t;

/* One size class; index LARGE holds only the counters of large blocks.
 * In LK_PER_CLASS mode, lock guards every other field; in LK_ONE_LOCK mode,
 * one_lock does. Aligned to a cache line so that two classes' locks and lists
 * never share one (threads in different classes would slow each other down). */
typedef struct size_class {
    pthread_mutex_t lock;
    free_block_t *free_list;
    char *carve_next, *carve_end; /* the unused tail of the newest chunk */
    size_t allocs, frees, mmaps, munmaps, locks, waits;
} __attribute__((aligned(64))) size_class_t;

static size_class_t classes[LK_NCLASSES + 1] = {
    [0 ... LK_NCLASSES] = {.lock = PTHREAD_MUTEX_INITIALIZER},
};
static pthread_mutex_t one_lock = PTHREAD_MUTEX_INITIALIZER;
static int locking = LK_PER_CLASS; /* written only while one thread uses the allocator */

static const size_t class_size[LK_NCLASSES] = {64, 128, 256, 512, 1024};

/* ---- small helpers ---- */

static header_t *header_of(void *ptr)
{
    return (header_t *)ptr - 1;
}

/* The smallest class whose blocks hold size bytes; size <= LK_MAX_SMALL. */
static int class_index(size_t size)
{
    int i = 0;
    while (class_size[i] < size)
        i++;
    return i;
}

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static bool is_power_of_two(size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* Stops the program: the heap is corrupt or ptr was never ours. */
static void die(const char *what, const void *ptr)
{
    static const char hex[] = "0123456789abcdef";
    char msg[160] = "locks.c: ";
    size_t n = strlen(msg), len = strlen(what);
    memcpy(msg + n, what, len);
    n += len;
    memcpy(msg + n, " (block 0x", 10);
    n += 10;
    for (int shift = 60; shift >= 0; shift -= 4)
        msg[n++] = hex[((uintptr_t)ptr >> shift) & 0xf];
    msg[n++] = ')';
    msg[n++] = '\n';
    ssize_t unused = write(STDERR_FILENO, msg, n);
    (void)unused;
    abort();
}

/* ---- locks ---- */

/* Takes the lock that guards class c in the current mode, counting a wait when
 * the lock was held. Returns it: unlock that one, even if the mode changes. */
static pthread_mutex_t *class_lock(size_class_t *c)
{
    int how = __atomic_load_n(&locking, __ATOMIC_RELAXED);
    pthread_mutex_t *m = how == LK_ONE_LOCK ? &one_lock : &c->lock;
    if (pthread_mutex_trylock(m) != 0) {
        pthread_mutex_lock(m);
        c->waits++; /* we hold the lock now */
    }
    c->locks++;
    return m;
}

int lk_set_locking(lk_locking_t how)
{
    if (how != LK_ONE_LOCK && how != LK_PER_CLASS) {
        errno = EINVAL;
        return -1;
    }
    __atomic_store_n(&locking, (int)how, __ATOMIC_RELAXED);
    return 0;
}

lk_locking_t lk_get_locking(void)
{
    return (lk_locking_t)__atomic_load_n(&locking, __ATOMIC_RELAXED);
}

/* ---- small blocks ---- */

/* Maps a new chunk for class c; false when the system has no memory. Under c's lock. */
static bool class_grow_locked(size_class_t *c)
{
    void *chunk = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (chunk == MAP_FAILED)
        return false;
    c->mmaps++;
    c->carve_next = chunk;
    c->carve_end = (char *)chunk + CHUNK_BYTES;
    return true;
}

/* A block of class i: from the free list, else carved from the newest chunk. */
static void *small_alloc(int i)
{
    size_class_t *c = &classes[i];
    size_t stride = sizeof(header_t) + class_size[i];
    header_t *h = NULL;
    pthread_mutex_t *m = class_lock(c);
    if (c->free_list != NULL) {
        h = header_of(c->free_list);
        c->free_list = c->free_list->next;
    } else if ((size_t)(c->carve_end - c->carve_next) >= stride || class_grow_locked(c)) {
        h = (header_t *)c->carve_next;
        c->carve_next += stride;
        h->size = class_size[i];
        h->kind = (uint32_t)i;
    }
    if (h != NULL) {
        h->magic = MAGIC_USED;
        c->allocs++;
    }
    pthread_mutex_unlock(m);
    if (unlikely(h == NULL)) {
        errno = ENOMEM;
        return NULL;
    }
    return h + 1;
}

static void small_free(header_t *h)
{
    size_class_t *c = &classes[h->kind];
    free_block_t *b = (free_block_t *)(h + 1);
    pthread_mutex_t *m = class_lock(c);
    h->magic = MAGIC_FREE;
    b->next = c->free_list;
    c->free_list = b;
    c->frees++;
    pthread_mutex_unlock(m);
}

/* ---- large blocks: one mapping each; the lock guards only the counters ---- */

static void *large_alloc(size_t size)
{
    size_t page = page_size(), len;
    if (__builtin_add_overflow(size, sizeof(header_t) + page - 1, &len)) {
        errno = ENOMEM;
        return NULL;
    }
    len &= ~(page - 1);
    header_t *h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    h->size = len;
    h->kind = LARGE;
    h->magic = MAGIC_USED;
    size_class_t *c = &classes[LARGE];
    pthread_mutex_t *m = class_lock(c);
    c->mmaps++;
    c->allocs++;
    pthread_mutex_unlock(m);
    return h + 1;
}

static void large_free(header_t *h)
{
    h->magic = MAGIC_FREE;
    if (munmap(h, h->size) != 0)
        die("munmap failed on a large block", h + 1);
    size_class_t *c = &classes[LARGE];
    pthread_mutex_t *m = class_lock(c);
    c->munmaps++;
    c->frees++;
    pthread_mutex_unlock(m);
}

/* ---- the family ---- */

void *lk_malloc(size_t size)
{
    if (likely(size <= LK_MAX_SMALL))
        return small_alloc(class_index(size));
    return large_alloc(size);
}

/* The header of a block handed out, checked: a bad pointer stops the program. */
static header_t *header_checked(void *ptr)
{
    header_t *h = header_of(ptr);
    if (unlikely(h->magic != MAGIC_USED || h->kind > ALIGNED))
        die(h->magic == MAGIC_FREE ? "free of a block that is already free"
                                   : "free or realloc of a pointer this allocator never returned",
            ptr);
    return h;
}

void lk_free(void *ptr)
{
    if (ptr == NULL)
        return;
    header_t *h = header_checked(ptr);
    if (h->kind == ALIGNED) {
        h->magic = 0; /* the header is inside the block: no longer a header */
        lk_free((char *)ptr - h->size);
    } else if (h->kind == LARGE) {
        large_free(h);
    } else {
        small_free(h);
    }
}

size_t lk_malloc_usable_size(void *ptr)
{
    if (ptr == NULL)
        return 0;
    header_t *h = header_checked(ptr);
    if (h->kind == ALIGNED)
        return lk_malloc_usable_size((char *)ptr - h->size) - h->size;
    if (h->kind == LARGE)
        return h->size - sizeof(header_t);
    return h->size;
}

void *lk_calloc(size_t nmemb, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(nmemb, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = lk_malloc(bytes);
    /* a fresh mapping is zero already; a recycled small block is not */
    if (p != NULL && bytes <= LK_MAX_SMALL)
        memset(p, 0, bytes);
    return p;
}

/* Whether a block of usable bytes at h should stay where it is for size bytes:
 * it must fit, and not waste most of a big block. */
static bool fits_in_place(const header_t *h, size_t usable, size_t size)
{
    if (size > usable)
        return false;
    if (h->kind == LARGE)
        return size > LK_MAX_SMALL && size >= usable / 2;
    if (h->kind == ALIGNED)
        return true;
    return class_index(size) == (int)h->kind;
}

void *lk_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return lk_malloc(size);
    if (size == 0) {
        lk_free(ptr);
        return NULL;
    }
    size_t usable = lk_malloc_usable_size(ptr);
    if (fits_in_place(header_of(ptr), usable, size))
        return ptr;
    void *q = lk_malloc(size);
    if (q == NULL)
        return NULL; /* errno is ENOMEM; ptr is untouched */
    memcpy(q, ptr, usable < size ? usable : size);
    lk_free(ptr);
    return q;
}

void *lk_reallocarray(void *ptr, size_t nmemb, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(nmemb, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return lk_realloc(ptr, bytes);
}

/* size bytes at a multiple of alignment (a power of two): a block with
 * alignment bytes to spare, and an ALIGNED header just before the first aligned
 * address far enough into it to leave room for that header. */
static void *aligned_block(size_t alignment, size_t size)
{
    if (alignment <= ALIGNMENT)
        return lk_malloc(size);
    size_t total;
    if (__builtin_add_overflow(size, alignment, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    char *p = lk_malloc(total);
    if (p == NULL)
        return NULL;
    uintptr_t at = ((uintptr_t)p + alignment - 1) & ~(uintptr_t)(alignment - 1);
    if (at == (uintptr_t)p)
        return p;
    /* p is 16-aligned and alignment > 16, so at - p is a multiple of 16, at least
     * 16 (room for the header) and at most alignment - 16 (room for size bytes) */
    header_t *h = header_of((void *)at);
    h->size = at - (uintptr_t)p;
    h->kind = ALIGNED;
    h->magic = MAGIC_USED;
    return (void *)at;
}

int lk_posix_memalign(void **memptr, size_t alignment, size_t size)
{
    if (!is_power_of_two(alignment) || alignment % sizeof(void *) != 0)
        return EINVAL;
    int saved = errno;
    void *p = aligned_block(alignment, size);
    errno = saved;
    if (p == NULL)
        return ENOMEM;
    *memptr = p;
    return 0;
}

void *lk_aligned_alloc(size_t alignment, size_t size)
{
    if (!is_power_of_two(alignment)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned_block(alignment, size);
}

void *lk_memalign(size_t alignment, size_t size)
{
    return lk_aligned_alloc(alignment, size);
}

void *lk_valloc(size_t size)
{
    return lk_aligned_alloc(page_size(), size);
}

void *lk_pvalloc(size_t size)
{
    size_t page = page_size(), rounded;
    if (__builtin_add_overflow(size, page - 1, &rounded)) {
        errno = ENOMEM;
        return NULL;
    }
    rounded &= ~(page - 1);
    return lk_aligned_alloc(page, rounded == 0 ? page : rounded);
}

/* ---- statistics ---- */

lk_stats_t lk_get_stats(void)
{
    lk_stats_t s = {0};
    for (int i = 0; i <= LK_NCLASSES; i++) {
        size_class_t *c = &classes[i];
        /* not class_lock: reading the statistics is not the family's work */
        pthread_mutex_t *m = lk_get_locking() == LK_ONE_LOCK ? &one_lock : &c->lock;
        pthread_mutex_lock(m);
        s.alloc_count += c->allocs;
        s.free_count += c->frees;
        s.mmap_count += c->mmaps;
        s.munmap_count += c->munmaps;
        s.lock_count += c->locks;
        s.contention_count += c->waits;
        pthread_mutex_unlock(m);
    }
    s.in_use = s.alloc_count - s.free_count;
    return s;
}

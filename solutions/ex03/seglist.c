/* seglist.c — reference solution of exercise 03: malloc and friends over
 * segregated size classes.
 *
 * A request of at most SL_MAX_SMALL bytes is served by the smallest of twelve
 * size classes (16 to 1024 bytes) that holds it. Each class has its own free
 * list of blocks given back (LIFO) and carves new blocks from chunks it gets
 * from mmap; a block never changes class, and chunks stay for the life of the
 * process. A larger request gets a mapping of its own, unmapped by sl_free.
 * Every block starts with a 16-byte header that says which class it belongs to,
 * so sl_free finds its list in O(1); a malloc/free pair costs a few loads and
 * stores, no search. The price is memory: the header, and the gap between a
 * request and its class's size (internal fragmentation).
 *
 * Single-threaded: exercise 05 puts locks around the same state.
 */
#include "seglist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- tunable ---- */

/* The classes, in bytes of payload, smallest first. Each is a multiple of
 * SL_ALIGN; the contract needs 64, 128, 256, 512 and 1024 among them. The ones
 * between (two per doubling, and 16 to 48 below 64) cut the waste of a request
 * that is just over a power of two. */
static const size_t class_size[] = {16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024};
#define NCLASSES (sizeof class_size / sizeof class_size[0])

/* A class's chunk holds at least this many blocks (rounded up to whole pages):
 * fewer mmap calls against more memory held by a class that is barely used. */
#define CHUNK_MIN_BLOCKS 32

/* ---- fixed by the contract or the system ---- */

#define PAGE_SIZE 4096
#define LARGE UINT32_MAX   /* header.cls of a block that has its own mapping */
#define MAGIC_USED 0x5e61u /* header.magic while the user holds the block */
#define MAGIC_FREE 0xf4eeu /* header.magic while the block is on a free list */

/* In front of every block. Its size keeps the payload after it aligned. */
typedef struct header {
    size_t size;    /* bytes the payload can hold: class_size[cls], or for a large
                       block its mapping's length minus this header */
    uint32_t cls;   /* index in class_size[], or LARGE */
    uint32_t magic; /* MAGIC_USED or MAGIC_FREE: catches double and wild frees */
} header_t;
_Static_assert(sizeof(header_t) == SL_ALIGN, "the header must keep payloads 16-byte aligned");

/* A free block keeps the next free block of its class in its first bytes;
 * valid only while the block is on the list. */
typedef struct free_block {
    struct free_block *next;
} free_block_t;

/* One size class. Invariant: every block of the class is either held by the
 * user, on free, or not carved yet (in [carve, carve_end)); a block on free has
 * been handed out before, a carved one never has. */
typedef struct {
    free_block_t *free;     /* blocks given back, most recent first */
    char *carve, *carve_end; /* the uncarved tail of the newest chunk */
} size_class_t;

static size_class_t classes[NCLASSES];
static sl_stats_t stats;

/* class_of_granule[g]: the smallest class holding g * SL_ALIGN bytes. */
static uint8_t class_of_granule[SL_MAX_SMALL / SL_ALIGN + 1];
static bool classes_ready;

/* ---- helpers ---- */

static header_t *header_of(void *payload)
{
    return (header_t *)payload - 1;
}

static void *payload_of(header_t *h)
{
    return h + 1;
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

static void classes_init(void)
{
    size_t c = 0;
    for (size_t g = 0; g <= SL_MAX_SMALL / SL_ALIGN; g++) {
        while (class_size[c] < g * SL_ALIGN)
            c++;
        class_of_granule[g] = (uint8_t)c;
    }
    classes_ready = true;
}

/* The class of a request of size <= SL_MAX_SMALL bytes. */
static uint32_t class_index(size_t size)
{
    if (unlikely(!classes_ready))
        classes_init();
    return class_of_granule[(size + SL_ALIGN - 1) / SL_ALIGN];
}

/* Every mapping goes through these two, so the statistics cannot miss one. */
static void *pages_map(size_t len)
{
    stats.mmap_calls++;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void pages_unmap(void *p, size_t len)
{
    stats.munmap_calls++;
    munmap(p, len);
}

/* A pointer that is not a block in use: stop before the heap is corrupted. */
static void die_bad_pointer(const char *fn, void *ptr, const header_t *h)
{
    char msg[160];
    int n = snprintf(msg, sizeof msg, "seglist: %s(%p): %s\n", fn, ptr,
                     h->magic == MAGIC_FREE ? "block already freed (double free)"
                                            : "not a block from sl_malloc (wild pointer)");
    if (write(STDERR_FILENO, msg, (size_t)n) < 0)
        abort();
    abort();
}

/* ---- small blocks ---- */

/* The class's list is empty: carve a block from the chunk, mapping a new one
 * when the chunk is used up. */
static void *class_alloc_slow(uint32_t c)
{
    size_class_t *sc = &classes[c];
    size_t stride = sizeof(header_t) + class_size[c];
    if ((size_t)(sc->carve_end - sc->carve) < stride) {
        size_t len = round_up(CHUNK_MIN_BLOCKS * stride, PAGE_SIZE);
        char *chunk = pages_map(len);
        if (chunk == NULL)
            return NULL;
        sc->carve = chunk; /* the old chunk's tail, smaller than a block, is lost */
        sc->carve_end = chunk + len;
    }
    header_t *h = (header_t *)sc->carve;
    sc->carve += stride;
    h->size = class_size[c];
    h->cls = c;
    h->magic = MAGIC_USED;
    return payload_of(h);
}

static void *class_alloc(uint32_t c)
{
    size_class_t *sc = &classes[c];
    free_block_t *b = sc->free;
    if (unlikely(b == NULL))
        return class_alloc_slow(c);
    sc->free = b->next;
    header_of(b)->magic = MAGIC_USED;
    stats.recycled++;
    return b;
}

static void class_free(header_t *h)
{
    free_block_t *b = payload_of(h);
    h->magic = MAGIC_FREE;
    b->next = classes[h->cls].free;
    classes[h->cls].free = b;
}

/* ---- large blocks: one mapping each ---- */

static void *large_alloc(size_t size)
{
    if (size > PTRDIFF_MAX - sizeof(header_t) - PAGE_SIZE)
        return NULL; /* header + size would overflow, or no address space is that big */
    size_t len = round_up(sizeof(header_t) + size, PAGE_SIZE);
    header_t *h = pages_map(len);
    if (h == NULL)
        return NULL;
    h->size = len - sizeof(header_t);
    h->cls = LARGE;
    h->magic = MAGIC_USED;
    return payload_of(h);
}

static void large_free(header_t *h)
{
    pages_unmap(h, h->size + sizeof(header_t));
}

/* ---- the operations, uncounted: the public functions count their own calls ---- */

static void *block_alloc(size_t size)
{
    void *p = size <= SL_MAX_SMALL ? class_alloc(class_index(size)) : large_alloc(size);
    if (unlikely(p == NULL))
        errno = ENOMEM;
    return p;
}

static header_t *header_checked(const char *fn, void *ptr)
{
    header_t *h = header_of(ptr);
    if (unlikely(h->magic != MAGIC_USED))
        die_bad_pointer(fn, ptr, h);
    return h;
}

static void block_release(const char *fn, void *ptr)
{
    header_t *h = header_checked(fn, ptr);
    if (h->cls == LARGE)
        large_free(h);
    else
        class_free(h);
}

/* Can the block keep serving a request of size bytes where it is? Exactly when
 * the request would get the same class, or for a large block, when it is still
 * large and fits the mapping (rule 7). */
static bool fits_in_place(const header_t *h, size_t size)
{
    if (h->cls == LARGE)
        return size > SL_MAX_SMALL && size <= h->size;
    return size <= SL_MAX_SMALL && class_index(size) == h->cls;
}

static void *block_resize(const char *fn, void *ptr, size_t size)
{
    if (ptr == NULL)
        return block_alloc(size);
    if (size == 0) {
        block_release(fn, ptr);
        return NULL;
    }
    header_t *h = header_checked(fn, ptr);
    if (fits_in_place(h, size))
        return ptr;
    void *moved = block_alloc(size);
    if (moved == NULL)
        return NULL; /* ptr stays as it was */
    memcpy(moved, ptr, h->size < size ? h->size : size);
    block_release(fn, ptr);
    return moved;
}

/* ---- the API ---- */

void *sl_malloc(size_t size)
{
    stats.malloc_calls++;
    return block_alloc(size);
}

void *sl_calloc(size_t nmemb, size_t size)
{
    stats.calloc_calls++;
    size_t total;
    if (__builtin_mul_overflow(nmemb, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = block_alloc(total);
    /* A fresh mapping is zero already (mmap gives zeroed pages); a small block
     * may have been used before, or hold a free-list link. */
    if (p != NULL && header_of(p)->cls != LARGE)
        memset(p, 0, total);
    return p;
}

void *sl_realloc(void *ptr, size_t size)
{
    stats.realloc_calls++;
    return block_resize("sl_realloc", ptr, size);
}

void *sl_reallocarray(void *ptr, size_t nmemb, size_t size)
{
    stats.reallocarray_calls++;
    size_t total;
    if (__builtin_mul_overflow(nmemb, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return block_resize("sl_reallocarray", ptr, total);
}

void sl_free(void *ptr)
{
    stats.free_calls++;
    if (ptr != NULL)
        block_release("sl_free", ptr);
}

sl_stats_t sl_get_stats(void)
{
    return stats;
}

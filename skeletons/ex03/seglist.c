/* seglist.c — your malloc family over segregated size classes (exercise 03).
 *
 * The starting point: it compiles, never crashes, and passes almost nothing.
 * Each TODO says what to do and names the check of exercise.ini that verifies
 * it. The rules the tests rely on are numbered in README.md beside seglist.h;
 * `make hint EX=03` gives progressive hints.
 *
 * The plan: a request of at most SL_MAX_SMALL bytes goes to the smallest size
 * class that holds it. Each class keeps a free list of the blocks given back
 * and carves new blocks from chunks it gets from mmap. A larger request gets a
 * mapping of its own, which sl_free unmaps. A 16-byte header in front of every
 * block tells sl_free which class (or mapping) the block belongs to.
 */
#include "seglist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

/* ---- tunable ---- */

/* The classes, in bytes of payload, smallest first: each a multiple of
 * SL_ALIGN, and 64, 128, 256, 512, 1024 must be among them (rule 3).
 * TODO (bonus/fine-classes): classes between these cut the waste of a
 * request of 24 or 80 bytes. */
static const size_t class_size[] = {64, 128, 256, 512, 1024};
#define NCLASSES (sizeof class_size / sizeof class_size[0])

/* A class's chunk holds at least this many blocks (rule 4). */
#define CHUNK_MIN_BLOCKS 32

/* ---- fixed by the contract or the system ---- */

#define PAGE_SIZE 4096
#define LARGE UINT32_MAX /* header.cls of a block that has a mapping of its own */

/* In front of every block; 16 bytes, so the payload after it stays aligned. */
typedef struct header {
    size_t size;  /* bytes the payload can hold: class_size[cls], or for a large
                     block its mapping's length minus this header */
    uint32_t cls; /* index in class_size[], or LARGE */
    uint32_t pad; /* free for your use (a magic number catches double frees) */
} header_t;
_Static_assert(sizeof(header_t) == SL_ALIGN, "the header must keep payloads 16-byte aligned");

/* A free block keeps the next free block of its class in its first bytes;
 * valid only while the block is on the list. */
typedef struct free_block {
    struct free_block *next;
} free_block_t;

/* One size class: the blocks given back, and the uncarved tail of its newest
 * chunk. TODO (tests/basic): fill these in. */
typedef struct {
    free_block_t *free;      /* blocks given back, most recent first */
    char *carve, *carve_end; /* [carve, carve_end): not handed out yet */
} size_class_t;

static size_class_t classes[NCLASSES];
static sl_stats_t stats;

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

/* The class of a request of size <= SL_MAX_SMALL bytes: the smallest class
 * that holds size bytes.
 * TODO (tests/boundaries): a request of exactly 64 bytes belongs to the
 * 64-byte class, one of 65 to the next.
 * TODO (perf/mixed, perf/churn): once it works, find the class without a loop
 * (a table indexed by (size + 15) / 16 is one way). */
static uint32_t class_index(size_t size)
{
    (void)size;
    return 0;
}

/* Every mapping goes through these two.
 * TODO (tests/stats-mmap): count every call in stats.mmap_calls and
 * stats.munmap_calls, failed ones included. */
static void *pages_map(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void pages_unmap(void *p, size_t len)
{
    munmap(p, len);
}

/* ---- small blocks ---- */

/* A block of class c. TODO (tests/basic, tests/classes): take the head of the
 * class's free list if there is one, and count it in stats.recycled
 * (tests/recycling). Otherwise carve the next block from [carve, carve_end): a
 * header then class_size[c] bytes. When the chunk has no room left for a block,
 * map a new one of at least CHUNK_MIN_BLOCKS blocks (tests/chunks). Fill in the
 * header before you return its payload. */
static void *class_alloc(uint32_t c)
{
    (void)c;
    (void)classes;
    (void)pages_map;
    (void)payload_of;
    (void)round_up;
    return NULL;
}

/* TODO (tests/recycling): push the block onto the head of its class's free
 * list. Chunks stay mapped (rule 4): never munmap a class's memory. */
static void class_free(header_t *h)
{
    (void)h;
}

/* ---- large blocks: one mapping each ---- */

/* TODO (tests/large): one mapping of header + size bytes, rounded up to whole
 * pages; the header says LARGE and how many bytes the payload can hold.
 * TODO (tests/overflow): a size so large that header + size overflows, or
 * above PTRDIFF_MAX, is refused before mmap is asked. */
static void *large_alloc(size_t size)
{
    (void)size;
    return NULL;
}

/* TODO (tests/large): give the whole mapping back with one munmap. */
static void large_free(header_t *h)
{
    (void)h;
    (void)pages_unmap;
}

/* ---- the operations, uncounted: the public functions count their own calls ---- */

/* TODO (tests/basic): a small or a large block for size bytes; on failure
 * NULL with errno = ENOMEM (tests/overflow). */
static void *block_alloc(size_t size)
{
    if (size <= SL_MAX_SMALL)
        return class_alloc(class_index(size));
    return large_alloc(size);
}

static void block_release(void *ptr)
{
    header_t *h = header_of(ptr);
    if (h->cls == LARGE)
        large_free(h);
    else
        class_free(h);
}

/* ---- the API ---- */

/* TODO (tests/stats): count the call in stats.malloc_calls, and only there. */
void *sl_malloc(size_t size)
{
    return block_alloc(size);
}

/* TODO (tests/overflow): nmemb * size may overflow a size_t: then return NULL
 * with errno = ENOMEM (__builtin_mul_overflow tells you).
 * TODO (tests/calloc): clear the block; a recycled block holds old bytes.
 * TODO (tests/stats): one calloc call, no malloc call. */
void *sl_calloc(size_t nmemb, size_t size)
{
    (void)nmemb;
    (void)size;
    return NULL;
}

/* TODO (tests/realloc), rule 7:
 *   - ptr NULL: allocate as sl_malloc would (but count a realloc call);
 *   - size 0: free ptr, return NULL;
 *   - size in ptr's class (or, for a large block, above SL_MAX_SMALL and within
 *     its mapping): return ptr itself;
 *   - otherwise: a new block, copy min(what the old block holds, size) bytes,
 *     free the old one. If the new block cannot be had, return NULL with
 *     errno = ENOMEM and leave ptr as it was.
 * TODO (tests/stats): count one realloc call, nothing else. */
void *sl_realloc(void *ptr, size_t size)
{
    (void)ptr;
    (void)size;
    return NULL;
}

/* TODO (tests/overflow): as sl_calloc, refuse an nmemb * size that overflows,
 * leaving ptr as it was; else resize as sl_realloc does.
 * TODO (tests/stats): one reallocarray call, no realloc call. */
void *sl_reallocarray(void *ptr, size_t nmemb, size_t size)
{
    (void)ptr;
    (void)nmemb;
    (void)size;
    return NULL;
}

/* TODO (tests/free-null): sl_free(NULL) does nothing, but it is a call:
 * count every call in stats.free_calls (tests/stats). */
void sl_free(void *ptr)
{
    if (ptr == NULL)
        return;
    block_release(ptr);
}

sl_stats_t sl_get_stats(void)
{
    return stats;
}

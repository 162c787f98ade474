/* memlib.c — the kit's model of sbrk over one region of MEM_MAX_HEAP bytes,
 * mapped once. Memcheck is told which bytes are heap (and never written yet)
 * and which lie past the break, so a read or write outside [lo, brk) or a
 * decision taken on a byte never written is reported with mm.c's line.
 */
#include "memlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <valgrind/memcheck.h>

static char *heap;      /* the region's first byte, or NULL before the first use */
static char *brk_at;    /* the break: heap's bytes are [heap, brk_at) */
static char *high;      /* the highest break since the mapping: bytes past it are still 0 */

static void mem_map(void)
{
    if (heap != NULL)
        return;
    void *p = mmap(NULL, MEM_MAX_HEAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS
                   | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "memlib: cannot map the %zu-byte heap region\n", MEM_MAX_HEAP);
        abort();
    }
    heap = brk_at = high = p;
    VALGRIND_MAKE_MEM_NOACCESS(heap, MEM_MAX_HEAP);
}

void mem_reset_brk(void)
{
    mem_map();
    brk_at = heap;
    VALGRIND_MAKE_MEM_NOACCESS(heap, MEM_MAX_HEAP);
}

void *mem_sbrk(intptr_t incr)
{
    mem_map();
    if (incr < 0 || (size_t)incr > MEM_MAX_HEAP - (size_t)(brk_at - heap)) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *old = brk_at;
    brk_at += incr;
    /* New bytes are zero, as a fresh sbrk's are, whatever the last trace left:
     * runs do not depend on each other. Memcheck still sees them unwritten. */
    VALGRIND_MAKE_MEM_UNDEFINED(old, (size_t)incr);
    if (old < high)
        memset(old, 0, (size_t)((brk_at < high ? brk_at : high) - old));
    if (brk_at > high)
        high = brk_at;
    VALGRIND_MAKE_MEM_UNDEFINED(old, (size_t)incr);
    return old;
}

void *mem_heap_lo(void)
{
    mem_map();
    return heap;
}

void *mem_heap_hi(void)
{
    mem_map();
    return brk_at - 1;
}

size_t mem_heapsize(void)
{
    return heap != NULL ? (size_t)(brk_at - heap) : 0;
}

size_t mem_pagesize(void)
{
    return (size_t)getpagesize();
}

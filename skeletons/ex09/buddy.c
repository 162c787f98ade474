/* buddy.c — your buddy allocator (exercise 09): blocks of 2^k pages of 4 KiB,
 * k = 0..8, over an arena the caller passes in.
 *
 * The starting point: it compiles, never crashes, and passes almost nothing.
 * Each TODO says what to do and names the check of exercise.ini that verifies
 * it. The rules the tests rely on are numbered in README.md beside buddy.h;
 * buddy.h itself fixes the metadata (bd_t.page[], the lists, the counts) and
 * states the invariants I1-I4 that your bd_check verifies. `make hint EX=09`
 * gives progressive hints.
 *
 * The allocator may use no memory but the arena and the caller's bd_t: no
 * malloc, calloc, realloc or free, anywhere in this file (rules/no-malloc).
 */
#include "buddy.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* TODO (valgrind/annotations, valgrind/memcheck): #include <valgrind/memcheck.h>
 * and describe the blocks to memcheck (README.md, "Valgrind and your
 * allocator"): open a free block's link around each of your reads and writes. */

/* ---- helpers you will want ---- */

/* Page number of an address inside the heap, and the address of a page. */
static inline size_t page_of(const bd_t *bd, const void *p)
{
    return (size_t)((const unsigned char *)p - bd->base) >> BD_PAGE_SHIFT;
}

static inline bd_link_t *block_at(const bd_t *bd, size_t page)
{
    return (bd_link_t *)(bd->base + (page << BD_PAGE_SHIFT));
}

/* TODO (tests/buddies): the buddy of block i of order k is i ^ 2^k (flip the
 * bit of the block's size). It exists only if it fits in the heap:
 * buddy + 2^k <= npages. */

/* TODO (tests/coalesce, perf/fragmented): list_push and list_unlink on the
 * doubly linked lists of buddy.h. Unlinking must be O(1): use prev, never
 * walk a list to find a block. */

/* ---- the API ---- */

int bd_order(size_t size)
{
    /* TODO (tests/orders): the smallest k with size <= BD_BLOCK_SIZE(k);
     * -1 for 0 and for anything above BD_MAX_BLOCK. 4096 -> 0, 4097 -> 1. */
    (void)size;
    return -1;
}

int bd_init(bd_t *bd, void *arena, size_t size)
{
    if (bd == NULL || arena == NULL)
        return -1;
    memset(bd, 0, offsetof(bd_t, page));
    /* TODO (tests/odd-arena): base is arena rounded up to BD_PAGE_SIZE;
     * npages the whole pages from base to arena + size (0 if none), at most
     * BD_MAX_PAGES. Careful: size may be smaller than the padding. */
    bd->base = arena;
    bd->npages = 0;
    (void)size;
    /* TODO (tests/split): cut the pages, from page 0 on, into the largest
     * aligned blocks that fit (page i gets the largest k with i % 2^k == 0
     * and i + 2^k <= npages), and put each on free_list[k]: set its page[]
     * entry to BD_HEAD | BD_FREE and its order, count it in nfree[k].
     * TODO (valgrind/annotations): VALGRIND_CREATE_MEMPOOL(bd, 0, 0) and make
     * the pages no-access before writing the first links. */
    return 0;
}

void *bd_alloc(bd_t *bd, size_t size)
{
    /* TODO (tests/orders): NULL (and bd->failed++) for a size bd_order refuses.
     * TODO (tests/split): take a block from the smallest non-empty list at or
     * above the order; while it is too large, cut it in two, keep the left
     * half and push the right half on the list one order below (splits++).
     * TODO (tests/fragmentation): record the requested size in the head's
     * page[] entry and in requested_bytes; count nused[k] and allocs.
     * TODO (valgrind/annotations): VALGRIND_MEMPOOL_ALLOC(bd, p, size). */
    bd->failed++;
    (void)size;
    return NULL;
}

void bd_free(bd_t *bd, void *p)
{
    if (p == NULL) /* tests/free-null */
        return;
    /* TODO (valgrind/annotations): VALGRIND_MEMPOOL_FREE(bd, p), first.
     * TODO (tests/buddies, tests/coalesce): find the block's order in page[];
     * while its buddy is a free block of the same order (BD_HEAD | BD_FREE
     * and that order), unlink the buddy, clear the page[] entry of the
     * right one, and go on with the merged block, which starts at the left
     * one, one order up (merges++). Then push the result on its free list.
     * TODO (tests/model): keep nused, requested_bytes and frees exact. */
    (void)bd;
}

void bd_drain(bd_t *bd)
{
    (void)bd; /* an eager buddy merges in bd_free: nothing to do here */
}

int bd_check(const bd_t *bd, char *why, size_t len)
{
    /* TODO (tests/check-blocks): walk the pages block by block (I1): every
     * head aligned to its order and inside the heap, the pages inside a block
     * all zero; no free block whose buddy is a free block of the same order
     * (I3).
     * TODO (tests/check-lists): walk every free list without trusting it (I2):
     * at most npages steps, each link a page of the heap whose page[] says
     * free and this order, each prev link pointing back; compare the lengths
     * with nfree[k], and the heads counted with nfree and nused (I4).
     * On a problem: write a sentence into why (snprintf(why, len, ...)) and
     * return -1. */
    (void)bd;
    (void)why;
    (void)len;
    return 0;
}

void bd_stats(const bd_t *bd, bd_stats_t *st)
{
    memset(st, 0, sizeof *st);
    /* TODO (tests/split, tests/fragmentation): fill every field from bd: the
     * per-order counts, total/free/used bytes, requested_bytes,
     * internal_bytes = used_bytes - requested_bytes, largest_free and the
     * counters. */
    st->total_bytes = bd->npages * BD_PAGE_SIZE;
}

void bd_destroy(bd_t *bd)
{
    /* TODO (valgrind/memcheck): VALGRIND_DESTROY_MEMPOOL(bd), then make the
     * pages VALGRIND_MAKE_MEM_UNDEFINED: they are the caller's again. */
    memset(bd, 0, offsetof(bd_t, page));
}

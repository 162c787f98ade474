/* variant: bestfit
 * what: the reference with best fit: the smallest free block that fits, an exact fit ends the scan
 * earns: bonus/best-fit
 * fail:
 * may-fail:
 */

/* mm.c — exercise 02's reference with best fit (earns bonus/best-fit): an explicit
 * free list allocator over memlib's heap.
 *
 * Every block carries its size in a header and a footer (boundary tags), so a
 * freed block finds both neighbours in O(1) and merges with the free ones at
 * once. Free blocks are linked through their payloads in one doubly linked
 * list, newest first; malloc takes the smallest that fits and splits off the
 * rest. The cost of malloc is the length of the free list,
 * of free O(1). The design is CS:APP's (Bryant and O'Hallaron, 3rd ed.,
 * section 9.9.12-9.9.13) with an explicit list.
 *
 * The heap, W = 8 bytes:
 *
 *   | pad W | prologue 16/1 hdr | prologue 16/1 ftr | block | ... | block | epilogue 0/1 hdr |
 *   ^ mem_heap_lo()                                                       mem_heap_hi() ^
 *
 * A block is a header word, the payload, a footer word; its size (a multiple
 * of 16, at least MIN_BLOCK) counts all three, and the low bit of each tag
 * says "allocated". Headers sit at 8 mod 16, so payloads are 16-aligned. The
 * prologue and the epilogue are allocated blocks that are never freed: no
 * block needs a test for the heap's ends.
 *
 * Invariants (mm_check verifies each):
 *   I1  blocks tile the heap from the prologue to the epilogue; header == footer
 *   I2  no two free blocks are neighbours (coalescing is immediate)
 *   I3  a block is free iff it is on the free list; prev links mirror next links
 */
#include "mm.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint64_t word_t; /* a header or footer: size | allocated bit */

enum {
    WSIZE = sizeof(word_t), /* a tag */
    DSIZE = 2 * WSIZE,      /* header + footer; also the alignment */
    MIN_BLOCK = 32          /* tags + the two links of a free block */
};

_Static_assert(DSIZE == MM_ALIGN, "two tags make one alignment unit");

/* The links a free block keeps in its payload. */
typedef struct free_block {
    struct free_block *next; /* toward the list's tail, NULL at the tail */
    struct free_block *prev; /* toward its head, NULL at the head */
} free_block_t;

static char *heap_start;       /* payload of the prologue block */
static free_block_t *free_list; /* head of the free list: the last block freed */

/* ---- tags: a block is named by its payload address, bp ---- */

static inline word_t pack(size_t size, bool alloc) { return size | (alloc ? 1 : 0); }
static inline word_t *header(char *bp) { return (word_t *)(bp - WSIZE); }
static inline size_t tag_size(word_t w) { return w & ~(word_t)0xf; }
static inline bool tag_alloc(word_t w) { return w & 1; }
static inline size_t block_size(char *bp) { return tag_size(*header(bp)); }
static inline bool is_alloc(char *bp) { return tag_alloc(*header(bp)); }
static inline word_t *footer(char *bp) { return (word_t *)(bp + block_size(bp) - DSIZE); }
static inline char *block_next(char *bp) { return bp + block_size(bp); }
/* valid because the word before bp's header is the footer of the block before */
static inline char *block_prev(char *bp) { return bp - tag_size(*(word_t *)(bp - DSIZE)); }
static inline bool is_epilogue(char *bp) { return block_size(bp) == 0; }

/* Writes both tags of the block at bp. */
static void block_set(char *bp, size_t size, bool alloc)
{
    *header(bp) = pack(size, alloc);
    *footer(bp) = pack(size, alloc);
}

/* The block size that holds size bytes of payload: tags added, rounded to 16. */
static size_t adjusted(size_t size)
{
    if (size <= MIN_BLOCK - DSIZE)
        return MIN_BLOCK;
    return (size + DSIZE + (MM_ALIGN - 1)) & ~(size_t)(MM_ALIGN - 1);
}

/* ---- the free list ---- */

static void list_insert(char *bp)
{
    free_block_t *b = (free_block_t *)bp;
    b->prev = NULL;
    b->next = free_list;
    if (free_list != NULL)
        free_list->prev = b;
    free_list = b;
}

static void list_remove(char *bp)
{
    free_block_t *b = (free_block_t *)bp;
    if (b->prev != NULL)
        b->prev->next = b->next;
    else
        free_list = b->next;
    if (b->next != NULL)
        b->next->prev = b->prev;
}

/* ---- blocks ---- */

/* Merges the free block bp (not on the list) with its free neighbours and
 * puts the result on the list. Returns the merged block. */
static char *block_coalesce(char *bp)
{
    size_t size = block_size(bp);
    char *next = block_next(bp);
    if (!is_alloc(next)) {
        list_remove(next);
        size += block_size(next);
    }
    if (!tag_alloc(*(word_t *)(bp - DSIZE))) { /* the block before is free */
        char *prev = block_prev(bp);
        list_remove(prev);
        size += block_size(prev);
        bp = prev;
    }
    block_set(bp, size, false);
    list_insert(bp);
    return bp;
}

/* Gives the heap bytes more (a multiple of 16) as a free block, merged with a
 * free last block. Returns the free block that ends the heap, or NULL. */
static char *heap_extend(size_t bytes)
{
    char *bp = mem_sbrk((intptr_t)bytes);
    if (bp == (void *)-1)
        return NULL;
    /* the old epilogue's header becomes the new block's header */
    block_set(bp, bytes, false);
    *header(block_next(bp)) = pack(0, true); /* the new epilogue */
    return block_coalesce(bp);
}

/* Grows the heap so that a free block of asize bytes ends it. */
static char *heap_grow_for(size_t asize)
{
    char *epilogue = (char *)mem_heap_hi() + 1;
    word_t last = *(word_t *)(epilogue - DSIZE); /* the last block's footer */
    size_t have = tag_alloc(last) ? 0 : tag_size(last);
    return heap_extend(asize - have > MIN_BLOCK ? asize - have : MIN_BLOCK);
}

/* Marks the first asize bytes of the allocated block bp as the block, and
 * frees the rest when it can make a block of its own. */
static void block_split(char *bp, size_t asize)
{
    size_t size = block_size(bp);
    if (size - asize < MIN_BLOCK) {
        block_set(bp, size, true);
        return;
    }
    block_set(bp, asize, true);
    char *rest = block_next(bp);
    block_set(rest, size - asize, false);
    block_coalesce(rest); /* its next neighbour may be free (a shrinking realloc) */
}

/* Best fit: the smallest free block of at least asize bytes, or NULL. An
 * exact fit ends the search; otherwise the whole list is read. */
static char *find_fit(size_t asize)
{
    char *best = NULL;
    size_t best_size = SIZE_MAX;
    for (free_block_t *b = free_list; b != NULL; b = b->next) {
        size_t size = block_size((char *)b);
        if (size >= asize && size < best_size) {
            best = (char *)b;
            best_size = size;
            if (size == asize)
                break;
        }
    }
    return best;
}

/* ---- the API ---- */

int mm_init(void)
{
    word_t *start = mem_sbrk(4 * WSIZE);
    if (start == (void *)-1)
        return -1;
    start[0] = 0;                 /* padding: the prologue's payload is 16-aligned */
    start[1] = pack(DSIZE, true); /* prologue header */
    start[2] = pack(DSIZE, true); /* prologue footer */
    start[3] = pack(0, true);     /* epilogue header */
    heap_start = (char *)&start[2];
    free_list = NULL;
    return 0;
}

void *mm_malloc(size_t size)
{
    if (size == 0 || size > MEM_MAX_HEAP)
        return NULL;
    size_t asize = adjusted(size);
    char *bp = find_fit(asize);
    if (bp == NULL && (bp = heap_grow_for(asize)) == NULL)
        return NULL;
    list_remove(bp);
    block_split(bp, asize);
    return bp;
}

void mm_free(void *ptr)
{
    if (ptr == NULL)
        return;
    char *bp = ptr;
    block_set(bp, block_size(bp), false);
    block_coalesce(bp);
}

void *mm_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return mm_malloc(size);
    if (size == 0) {
        mm_free(ptr);
        return NULL;
    }
    if (size > MEM_MAX_HEAP)
        return NULL;
    char *bp = ptr;
    size_t asize = adjusted(size), have = block_size(bp);
    if (asize <= have) { /* shrinking: give the tail back */
        block_split(bp, asize);
        return bp;
    }
    /* growing in place: into a free next block, made large enough at the heap's end */
    char *next = block_next(bp);
    bool next_free = !is_alloc(next);
    size_t room = have + (next_free ? block_size(next) : 0);
    if (room < asize && (is_epilogue(next) || (next_free && is_epilogue(block_next(next))))) {
        if (heap_extend(asize - room > MIN_BLOCK ? asize - room : MIN_BLOCK) == NULL)
            return NULL;
        next_free = true;
    }
    if (next_free && have + block_size(next) >= asize) {
        list_remove(next);
        block_set(bp, have + block_size(next), true);
        block_split(bp, asize);
        return bp;
    }
    /* backwards: into a free previous block (with a free next one), moving the bytes */
    if (!tag_alloc(*(word_t *)(bp - DSIZE))) {
        char *prev = block_prev(bp);
        size_t total = block_size(prev) + have + (next_free ? block_size(next) : 0);
        if (total >= asize) {
            list_remove(prev);
            if (next_free)
                list_remove(next);
            memmove(prev, bp, have - DSIZE);
            block_set(prev, total, true);
            block_split(prev, asize);
            return prev;
        }
    }
    /* elsewhere: copy the old payload (its size, not the request's) */
    char *nb = mm_malloc(size);
    if (nb == NULL)
        return NULL;
    memcpy(nb, bp, have - DSIZE);
    mm_free(bp);
    return nb;
}

/* ---- the heap checker ---- */

#define BAD(...) (fprintf(stderr, "mm_check: " __VA_ARGS__), fputc('\n', stderr), ++errors)

int mm_check(void)
{
    int errors = 0;
    char *lo = mem_heap_lo(), *end = (char *)mem_heap_hi() + 1;
    if (heap_start == NULL || heap_start != lo + DSIZE)
        return BAD("the heap does not start with the prologue (did mm_init run?)");
    if (*header(heap_start) != pack(DSIZE, true) || *footer(heap_start) != pack(DSIZE, true))
        BAD("the prologue block at %p was overwritten", (void *)heap_start);
    /* I1, I2: walk the blocks */
    size_t nfree = 0;
    bool prev_free = false;
    char *bp = block_next(heap_start);
    for (; bp < end && !is_epilogue(bp); bp = block_next(bp)) {
        size_t size = block_size(bp);
        if ((uintptr_t)bp % MM_ALIGN != 0)
            return BAD("block %p is not aligned to %d bytes", (void *)bp, MM_ALIGN);
        if (size < MIN_BLOCK || bp + size > end)
            return BAD("block %p has size %zu, below %d or past the heap's end %p", (void *)bp,
                       size, MIN_BLOCK, (void *)end);
        if (*header(bp) != *footer(bp))
            BAD("block %p: header %#llx and footer %#llx differ", (void *)bp,
                (unsigned long long)*header(bp), (unsigned long long)*footer(bp));
        if (!is_alloc(bp)) {
            if (prev_free)
                BAD("blocks %p and %p are both free and neighbours: not coalesced",
                    (void *)block_prev(bp), (void *)bp);
            nfree++;
        }
        prev_free = !is_alloc(bp);
    }
    if (bp != end || *header(bp) != pack(0, true))
        return BAD("the epilogue is not the heap's last word (walk ended at %p, heap ends "
                   "at %p)", (void *)bp, (void *)end);
    /* I3: walk the free list */
    size_t nlist = 0;
    free_block_t *prev = NULL;
    for (free_block_t *b = free_list; b != NULL; prev = b, b = b->next) {
        char *fb = (char *)b;
        if (fb < heap_start || fb >= end)
            return BAD("free list entry %p lies outside the heap", (void *)fb);
        if (is_alloc(fb))
            BAD("free list entry %p is marked allocated", (void *)fb);
        if (b->prev != prev)
            BAD("free list entry %p: prev is %p, expected %p", (void *)fb, (void *)b->prev,
                (void *)prev);
        if (++nlist > nfree)
            return BAD("the free list has more entries than the heap's %zu free blocks "
                       "(a cycle, or a block listed twice)", nfree);
    }
    if (nlist != nfree)
        BAD("the heap has %zu free blocks but the free list holds %zu", nfree, nlist);
    return errors;
}

/* mm.c — your allocator for exercise 02: an explicit free list with boundary tags.
 *
 * The starting point: it compiles, never crashes, and passes almost nothing
 * (mm_malloc always returns NULL). Each TODO says what to do and names the
 * check of exercise.ini that verifies it. README.md beside mm.h has the rules;
 * `make hint EX=02` gives progressive hints.
 *
 * The heap, W = 8 bytes (the layout the tag helpers below assume):
 *
 *   | pad W | prologue 16/1 hdr | prologue 16/1 ftr | block | ... | block | epilogue 0/1 hdr |
 *   ^ mem_heap_lo()                                                       mem_heap_hi() ^
 *
 * A block is a header word, the payload, a footer word; its size (a multiple
 * of 16, at least MIN_BLOCK) counts all three, and the low bit of each tag
 * says "allocated". Headers sit at 8 mod 16, so payloads are 16-aligned. The
 * prologue and the epilogue are allocated blocks that are never freed.
 *
 * Invariants your mm_check should verify:
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

/* The links a free block keeps in its payload. */
typedef struct free_block {
    struct free_block *next; /* toward the list's tail, NULL at the tail */
    struct free_block *prev; /* toward its head, NULL at the head */
} free_block_t;

static char *heap_start;        /* payload of the prologue block */
static free_block_t *free_list; /* head of the free list */

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

/* The block size that holds size bytes of payload: tags added, rounded up to
 * a multiple of MM_ALIGN, never below MIN_BLOCK.
 * TODO (tests/alignment): round to 16, not 8: a payload must start on a
 * multiple of 16, and it does only when every block size is one. */
static size_t adjusted(size_t size)
{
    (void)size;
    return MIN_BLOCK;
}

/* TODO (tests/basic): list_insert(bp) puts a free block at the head of the
 * free list; list_remove(bp) unlinks it (mind the head: tests/basic and the
 * traces fail when removing the first block leaves free_list pointing at it). */

/* TODO (tests/coalesce): block_coalesce(bp): bp is free and not on the list.
 * Merge it with the next block if that one is free, then with the previous one
 * if free (its footer is the word before bp's header), write both tags of the
 * result and put it on the list. Four cases; each coalesce_* test checks one. */

/* TODO (tests/basic): heap_extend(bytes): mem_sbrk(bytes) gives the new
 * bytes; the old epilogue header becomes the new free block's header; write
 * its footer and a new epilogue, then coalesce (the last block may be free). */

/* TODO (tests/split): block_split(bp, asize): when the block is larger than
 * asize by at least MIN_BLOCK, the rest becomes a free block of its own. */

/* First fit: the first free block of at least asize bytes, or NULL.
 * TODO (tests/basic): walk free_list. */
static char *find_fit(size_t asize)
{
    (void)asize;
    return NULL;
}

int mm_init(void)
{
    /* TODO (tests/init): take 4 words from mem_sbrk and write the padding,
     * the prologue's header and footer, and the epilogue's header; set
     * heap_start, and empty the free list (mm_init runs once per trace). */
    heap_start = NULL;
    free_list = NULL;
    return 0;
}

void *mm_malloc(size_t size)
{
    /* TODO (tests/heap-full): NULL for 0 and for sizes larger than the heap
     * can ever be (MEM_MAX_HEAP), before any arithmetic that could overflow. */
    if (size == 0)
        return NULL;
    size_t asize = adjusted(size);
    char *bp = find_fit(asize);
    /* TODO (tests/basic): no fit: grow the heap (heap_extend) by what is
     * missing, take the block off the list, split it and return it. */
    return bp;
}

void mm_free(void *ptr)
{
    /* TODO (tests/basic, tests/coalesce): mark the block free (both tags)
     * and coalesce it. mm_free(NULL) does nothing. */
    (void)ptr;
}

void *mm_realloc(void *ptr, size_t size)
{
    /* TODO (tests/realloc): NULL ptr: mm_malloc; size 0: mm_free and NULL.
     * Shrinking: split the tail off. Growing: into a free next block if it is
     * large enough, else mm_malloc, copy the OLD payload's bytes, mm_free.
     * A failed mm_realloc returns NULL and leaves ptr's block as it was. */
    (void)ptr;
    (void)size;
    return NULL;
}

int mm_check(void)
{
    /* TODO (tests/checker): walk the blocks from heap_start's next to the
     * epilogue and verify I1 and I2, then walk the free list and verify I3.
     * Print what is wrong on stderr (which block, which rule) and return the
     * number of problems. Every test calls it after every operation: a
     * checker that finds your bug early saves you hours. */
    return 0;
}

/* fixedpool.c — your pool of fixed-size blocks in a caller's arena (exercise 04).
 *
 * The starting point: it compiles, never crashes, and passes almost nothing.
 * Each TODO says what to do and names the check of exercise.ini that verifies
 * it. The rules the tests rely on are numbered in README.md beside
 * fixedpool.h; `make hint EX=04` gives progressive hints.
 *
 * The pool may use no memory but the arena and the caller's fixedpool_t:
 * no malloc, calloc, realloc or free, anywhere in this file (rules/no-malloc).
 */
#include "fixedpool.h"

#include <stddef.h>
#include <stdint.h>

/* TODO (valgrind/annotations, valgrind/memcheck): #include <valgrind/memcheck.h>
 * and describe the pool to memcheck (README.md, "Valgrind and your pool"). */

/* A free block holds the address of the next free block in its first bytes,
 * so the free list costs no memory of its own. Valid only while the block is
 * free; a held block's bytes are the caller's. */
typedef struct free_block {
    struct free_block *next;
} free_block_t;

int fp_init(fixedpool_t *fp, void *arena, size_t arena_size, size_t block_size)
{
    if (fp == NULL)
        return -1;
    /* TODO (tests/init): return -1 when arena is NULL, when block_size
     * is 0, or when it is so large that rounding it up overflows. */
    /* TODO (tests/odd-sizes, tests/alignment): the stride is block_size rounded
     * up to a multiple of FP_ALIGN: room for the link, and aligned. */
    /* TODO (tests/unaligned-arena): the first block starts at the arena's
     * address rounded up to FP_ARENA_ALIGN; the bytes before it are lost, and
     * an arena that ends before that boundary holds no block. */
    /* TODO (tests/tiling, tests/tiny-arena): capacity is the bytes from start
     * to the arena's end divided by the stride, rounded down: the last block
     * ends inside the arena, and no whole block is left over. */
    fp->start = arena;
    fp->end = fp->fresh = fp->start;
    fp->free_list = NULL;
    fp->stride = block_size;
    fp->block_size = block_size;
    fp->capacity = 0;
    (void)arena_size;
    /* TODO (valgrind/annotations): VALGRIND_CREATE_MEMPOOL(fp, 0, 0), then
     * VALGRIND_MAKE_MEM_NOACCESS over the blocks: no byte of them may be
     * touched before fp_alloc hands it out. */
    return 0;
}

void *fp_alloc(fixedpool_t *fp)
{
    /* TODO (tests/lifo): pop the head of free_list, if there is one: the block
     * freed last is handed out first. To read its link under memcheck, open
     * it first (docs/concepts/valgrind-pools.md).
     * TODO (tests/tiling): otherwise hand out the block at fresh and move fresh
     * one stride on (or thread every block onto free_list in fp_init).
     * TODO (tests/exhausted): return NULL when no block is left; never a
     * block at or past end.
     * TODO (valgrind/annotations): VALGRIND_MEMPOOL_ALLOC(fp, block,
     * fp->block_size) before returning it. */
    (void)fp;
    return NULL;
}

void fp_free(fixedpool_t *fp, void *block)
{
    if (block == NULL) /* tests/free-null */
        return;
    /* TODO (valgrind/annotations): VALGRIND_MEMPOOL_FREE(fp, block), first.
     * TODO (tests/lifo, valgrind/memcheck): push block onto free_list: write
     * the old head into its first bytes (opening the link for memcheck around
     * your write), and make it the head.
     * TODO (tests/two-pools): keep every bit of state in *fp, nothing in a
     * global: two pools may be in use at once. */
    (void)fp;
}

size_t fp_capacity(const fixedpool_t *fp)
{
    return fp->capacity;
}

void fp_destroy(fixedpool_t *fp)
{
    /* TODO (valgrind/memcheck): VALGRIND_DESTROY_MEMPOOL(fp), then give the
     * blocks back to the caller: VALGRIND_MAKE_MEM_UNDEFINED over them, so the
     * caller may write the arena again. */
    fp->free_list = NULL;
    fp->fresh = fp->end = fp->start;
    fp->capacity = 0;
}

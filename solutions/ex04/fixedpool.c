/* fixedpool.c — reference solution of exercise 04: fixed-size blocks carved
 * from an arena the caller owns.
 *
 * The arena is cut into capacity blocks of stride bytes each, from its first
 * FP_ARENA_ALIGN boundary on. Blocks are carved lazily, in address order, by a
 * bump pointer (fresh); a freed block goes on a LIFO free list whose links live
 * in the first bytes of the free blocks themselves, so the pool needs no memory
 * but the arena and the caller's fixedpool_t. Every operation is O(1).
 *
 * Memcheck is told about every block with the mempool client requests of
 * <valgrind/memcheck.h>: a held block is accessible (block_size bytes, not the
 * padding), a free or never-carved block is not, so a write after fp_free is
 * reported. The pool opens a free block's link only for its own read or write.
 * Natively each request costs a few instructions.
 */
#include "fixedpool.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <valgrind/memcheck.h>

_Static_assert(FP_ALIGN >= sizeof(void *) && FP_ALIGN % _Alignof(void *) == 0,
               "a stride that is a multiple of FP_ALIGN must hold an aligned link");
_Static_assert((FP_ARENA_ALIGN & (FP_ARENA_ALIGN - 1)) == 0 && FP_ARENA_ALIGN % FP_ALIGN == 0,
               "the first block's alignment must be a power of two and a multiple of FP_ALIGN");

/* ---- the link inside a free block ---- */

/* Valid only while the block is free. Memcheck sees a free block as no-access;
 * the pool opens the link just for its own access and closes it again. */
typedef struct free_block {
    struct free_block *next;
} free_block_t;

static free_block_t *link_read(free_block_t *b)
{
    VALGRIND_MAKE_MEM_DEFINED(&b->next, sizeof b->next);
    free_block_t *next = b->next;
    VALGRIND_MAKE_MEM_NOACCESS(&b->next, sizeof b->next);
    return next;
}

static void link_write(free_block_t *b, free_block_t *next)
{
    VALGRIND_MAKE_MEM_UNDEFINED(&b->next, sizeof b->next);
    b->next = next;
    VALGRIND_MAKE_MEM_NOACCESS(&b->next, sizeof b->next);
}

/* ---- helpers ---- */

static uintptr_t round_up(uintptr_t x, uintptr_t align)
{
    return (x + align - 1) & ~(align - 1);
}

static bool is_block(const fixedpool_t *fp, const unsigned char *p)
{
    return p >= fp->start && p < fp->fresh && (size_t)(p - fp->start) % fp->stride == 0;
}

/* ---- the API ---- */

int fp_init(fixedpool_t *fp, void *arena, size_t arena_size, size_t block_size)
{
    if (fp == NULL || arena == NULL || block_size == 0 || block_size > SIZE_MAX - FP_ALIGN)
        return -1;
    size_t stride = round_up(block_size, FP_ALIGN); /* >= sizeof(void *): room for the link */
    uintptr_t base = (uintptr_t)arena;
    size_t pad = round_up(base, FP_ARENA_ALIGN) - base; /* bytes before the first boundary */
    size_t usable = arena_size > pad ? arena_size - pad : 0;

    fp->start = (unsigned char *)arena + pad;
    fp->stride = stride;
    fp->block_size = block_size;
    fp->capacity = usable / stride;
    fp->end = fp->start + fp->capacity * stride;
    fp->fresh = fp->start;
    fp->free_list = NULL;

    VALGRIND_CREATE_MEMPOOL(fp, 0, 0);
    VALGRIND_MAKE_MEM_NOACCESS(fp->start, fp->capacity * stride);
    return 0;
}

void *fp_alloc(fixedpool_t *fp)
{
    void *b;
    if (fp->free_list != NULL) { /* LIFO: the block freed last */
        b = fp->free_list;
        fp->free_list = link_read(b);
    } else if (fp->fresh < fp->end) { /* never handed out yet */
        b = fp->fresh;
        fp->fresh += fp->stride;
    } else {
        return NULL; /* every block is held */
    }
    VALGRIND_MEMPOOL_ALLOC(fp, b, fp->block_size);
    return b;
}

void fp_free(fixedpool_t *fp, void *block)
{
    if (block == NULL)
        return;
    assert(is_block(fp, block) && "fp_free: not a block this pool handed out");
    VALGRIND_MEMPOOL_FREE(fp, block); /* first: from now on the caller may not touch it */
    link_write(block, fp->free_list);
    fp->free_list = block;
}

size_t fp_capacity(const fixedpool_t *fp)
{
    return fp->capacity;
}

void fp_destroy(fixedpool_t *fp)
{
    VALGRIND_DESTROY_MEMPOOL(fp);
    /* the blocks are the caller's memory again, held or not */
    VALGRIND_MAKE_MEM_UNDEFINED(fp->start, fp->capacity * fp->stride);
    fp->free_list = NULL;
    fp->fresh = fp->end = fp->start;
    fp->capacity = 0;
}

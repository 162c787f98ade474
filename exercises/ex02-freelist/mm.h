/* mm.h — the contract of exercise 02: a general-purpose allocator over the
 * heap that memlib.h hands out. Do not edit: the grader builds your mm.c
 * against the kit's copy.
 */
#ifndef MM_H
#define MM_H

#include <stddef.h>

#include "memlib.h"

/* Every pointer mm_malloc and mm_realloc return is a multiple of MM_ALIGN. */
#define MM_ALIGN 16

/* Makes a fresh, empty heap. The kit empties memlib's heap first
 * (mem_reset_brk), then calls mm_init: forget every block of the last heap.
 * Returns 0, or -1 when mem_sbrk fails. */
int mm_init(void);

/* A block of at least size bytes, MM_ALIGN-aligned, inside the heap, that
 * overlaps no other allocated block. NULL when size is 0 or the heap is full. */
void *mm_malloc(size_t size);

/* Gives back a block from mm_malloc or mm_realloc; mm_free(NULL) does nothing. */
void mm_free(void *ptr);

/* As realloc(3): a block of size bytes holding the first min(old, size) bytes
 * of ptr's block. ptr NULL: mm_malloc(size). size 0: mm_free(ptr), returns
 * NULL. When no block of size bytes can be had, returns NULL and ptr's block
 * stays as it was. */
void *mm_realloc(void *ptr, size_t size);

/* The heap checker: walks the heap and the free list and returns 0 when every
 * invariant holds; otherwise prints what is wrong (on stderr: which block, which
 * rule) and returns nonzero. The tests call it after every operation. */
int mm_check(void);

#endif

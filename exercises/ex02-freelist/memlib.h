/* memlib.h — the heap of exercise 02: one region the kit maps, handed out by a
 * model of sbrk. mm.c gets every byte it uses from mem_sbrk, so the kit can
 * measure the heap's size and every run starts from the same empty heap.
 * (The model is CS:APP's memlib.c, Bryant and O'Hallaron, section 9.9.)
 */
#ifndef MEMLIB_H
#define MEMLIB_H

#include <stddef.h>
#include <stdint.h>

#define MEM_MAX_HEAP ((size_t)64 << 20) /* the heap never grows past 64 MiB */

/* Grows the heap by incr bytes (incr >= 0) and returns the old end of the heap,
 * the start of the new bytes: 16-byte aligned when every incr so far was a
 * multiple of 16. Returns (void *)-1 (errno ENOMEM) when incr is negative or
 * the heap would pass MEM_MAX_HEAP. New bytes hold no particular value: write
 * before you read (memcheck reports a read of a byte never written). */
void *mem_sbrk(intptr_t incr);

void *mem_heap_lo(void);    /* the heap's first byte (16-byte aligned) */
void *mem_heap_hi(void);    /* the heap's last byte: mem_heap_lo() - 1 while empty */
size_t mem_heapsize(void);  /* bytes handed out by mem_sbrk since the last reset */
size_t mem_pagesize(void);

/* Kit only: empties the heap (the tests call it before every mm_init). */
void mem_reset_brk(void);

#endif

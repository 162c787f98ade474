/* preload.c — the kit's shim that makes cache.c, slab.c and buddy.c the process's malloc.
 *
 * Built with your cache.c, slab.c and buddy.c into a shared library (the grader's `[program lib]`,
 * kind = shared). Started with LD_PRELOAD=<that library>, a program's calls to
 * malloc, free and the rest of the family, and the C library's own calls to
 * them, land here first, because the dynamic linker looks a symbol up in the
 * preloaded library before the C library (ld.so(8)). Each function counts the
 * call for the grader's probe (alab_preload_calls and alab_preload_served, in
 * grader/harness/alab_preload.c) and hands it to your ti_ function.
 *
 * Kit code: do not copy it into cache.c, slab.c and buddy.c. Your file defines only ti_ names.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tiers.h"

#include <stddef.h>

extern unsigned long alab_preload_calls;
void alab_preload_served(void);

#define COUNT_CALL() (__atomic_fetch_add(&alab_preload_calls, 1, __ATOMIC_RELAXED), alab_preload_served())

/* Declared here rather than taken from <stdlib.h> and <malloc.h>, whose
 * declarations carry attributes (and, for some, other spellings) that differ
 * between C library versions. */
void *malloc(size_t size);
void free(void *ptr);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *ptr, size_t size);
void *reallocarray(void *ptr, size_t nmemb, size_t size);
int posix_memalign(void **memptr, size_t alignment, size_t size);
void *aligned_alloc(size_t alignment, size_t size);
void *memalign(size_t alignment, size_t size);
void *valloc(size_t size);
void *pvalloc(size_t size);
size_t malloc_usable_size(void *ptr);

void *malloc(size_t size)
{
    COUNT_CALL();
    return ti_malloc(size);
}

void free(void *ptr)
{
    COUNT_CALL();
    ti_free(ptr);
}

void *calloc(size_t nmemb, size_t size)
{
    COUNT_CALL();
    return ti_calloc(nmemb, size);
}

void *realloc(void *ptr, size_t size)
{
    COUNT_CALL();
    return ti_realloc(ptr, size);
}

void *reallocarray(void *ptr, size_t nmemb, size_t size)
{
    COUNT_CALL();
    return ti_reallocarray(ptr, nmemb, size);
}

int posix_memalign(void **memptr, size_t alignment, size_t size)
{
    COUNT_CALL();
    return ti_posix_memalign(memptr, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    COUNT_CALL();
    return ti_aligned_alloc(alignment, size);
}

void *memalign(size_t alignment, size_t size)
{
    COUNT_CALL();
    return ti_memalign(alignment, size);
}

void *valloc(size_t size)
{
    COUNT_CALL();
    return ti_valloc(size);
}

void *pvalloc(size_t size)
{
    COUNT_CALL();
    return ti_pvalloc(size);
}

size_t malloc_usable_size(void *ptr)
{
    COUNT_CALL();
    return ti_malloc_usable_size(ptr);
}

/* alab_shim.h — the kit's shim that makes a student's allocator the process's
 * malloc, for the exercises that preload it (05, 10).
 *
 * Included once by an exercise's tests/preload.c after it defines
 * ALAB_SHIM_PREFIX (lk_, ti_) and includes its API header. Started with
 * LD_PRELOAD=<the library>, a program's calls to malloc, free and the rest of
 * the family, and the C library's own calls to them, land here first, because
 * the dynamic linker looks a symbol up in the preloaded library before the C
 * library (ld.so(8)). Each function counts the call for the grader's probe
 * (alab_preload_calls and alab_preload_served, in alab_preload.c) and hands it
 * to the student's prefixed function.
 */
#ifndef ALAB_SHIM_H
#define ALAB_SHIM_H

#include <stddef.h>

#define ALAB_SHIM_PASTE(a, b) a##b
#define ALAB_SHIM_NAME(a, b) ALAB_SHIM_PASTE(a, b)
#define ALAB_SHIM_(name) ALAB_SHIM_NAME(ALAB_SHIM_PREFIX, name)

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
    return ALAB_SHIM_(malloc)(size);
}

void free(void *ptr)
{
    COUNT_CALL();
    ALAB_SHIM_(free)(ptr);
}

void *calloc(size_t nmemb, size_t size)
{
    COUNT_CALL();
    return ALAB_SHIM_(calloc)(nmemb, size);
}

void *realloc(void *ptr, size_t size)
{
    COUNT_CALL();
    return ALAB_SHIM_(realloc)(ptr, size);
}

void *reallocarray(void *ptr, size_t nmemb, size_t size)
{
    COUNT_CALL();
    return ALAB_SHIM_(reallocarray)(ptr, nmemb, size);
}

int posix_memalign(void **memptr, size_t alignment, size_t size)
{
    COUNT_CALL();
    return ALAB_SHIM_(posix_memalign)(memptr, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    COUNT_CALL();
    return ALAB_SHIM_(aligned_alloc)(alignment, size);
}

void *memalign(size_t alignment, size_t size)
{
    COUNT_CALL();
    return ALAB_SHIM_(memalign)(alignment, size);
}

void *valloc(size_t size)
{
    COUNT_CALL();
    return ALAB_SHIM_(valloc)(size);
}

void *pvalloc(size_t size)
{
    COUNT_CALL();
    return ALAB_SHIM_(pvalloc)(size);
}

size_t malloc_usable_size(void *ptr)
{
    COUNT_CALL();
    return ALAB_SHIM_(malloc_usable_size)(ptr);
}

#endif

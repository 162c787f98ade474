/* mutant: forwards_to_libc
 * what: every ti_ function of the family hands the call to glibc's own malloc (__libc_malloc and friends), with statistics on the side: the library loads, but serves nothing
 * fail: rules/mmap-only programs/ls programs/sort programs/python3 programs/make
 * may-fail: tests/basic tests/usable-size tests/realloc tests/aligned tests/overflow tests/stats tests/bin-cap tests/coalesce tests/hit-rate tests/pollution tests/threads tests/cross-thread tests/thread-exit tests/lock-share tests/fork hidden/varied tsan/races valgrind/memcheck perf/vs-one-lock perf/larson perf/glibc-thread perf/mstress
 *
 * The shortcut a student takes when the allocator does not hold up under real
 * programs: the functions keep their names, the memory comes from the C
 * library. The preload probe sees glibc's heap grow behind the library.
 */
#include "tiers.h"

#include <errno.h>
#include <string.h>

void *__libc_malloc(size_t size);
void __libc_free(void *ptr);
void *__libc_calloc(size_t nmemb, size_t size);
void *__libc_realloc(void *ptr, size_t size);
void *__libc_memalign(size_t alignment, size_t size);
size_t malloc_usable_size(void *ptr);

static size_t allocs, frees;

void ti_lock(pthread_mutex_t *m) { pthread_mutex_lock(m); }
void *ti_malloc(size_t size) { __atomic_fetch_add(&allocs, 1, __ATOMIC_RELAXED); return __libc_malloc(size); }
void ti_free(void *ptr)
{
    if (ptr != NULL)
        __atomic_fetch_add(&frees, 1, __ATOMIC_RELAXED);
    __libc_free(ptr);
}
void *ti_calloc(size_t nmemb, size_t size) { __atomic_fetch_add(&allocs, 1, __ATOMIC_RELAXED); return __libc_calloc(nmemb, size); }
void *ti_realloc(void *ptr, size_t size) { return __libc_realloc(ptr, size); }
void *ti_reallocarray(void *ptr, size_t nmemb, size_t size)
{
    size_t t;
    if (__builtin_mul_overflow(nmemb, size, &t)) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(ptr, t);
}
int ti_posix_memalign(void **memptr, size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment % sizeof(void *) != 0)
        return EINVAL;
    void *p = __libc_memalign(alignment, size);
    if (p == NULL)
        return ENOMEM;
    *memptr = p;
    return 0;
}
void *ti_aligned_alloc(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return __libc_memalign(alignment, size);
}
void *ti_memalign(size_t alignment, size_t size) { return ti_aligned_alloc(alignment, size); }
void *ti_valloc(size_t size) { return __libc_memalign(TI_PAGE, size); }
void *ti_pvalloc(size_t size) { return __libc_memalign(TI_PAGE, size ? (size + TI_PAGE - 1) & ~(size_t)(TI_PAGE - 1) : TI_PAGE); }
size_t ti_malloc_usable_size(void *ptr) { return ptr ? malloc_usable_size(ptr) : 0; }
ti_stats_t ti_get_stats(void)
{
    size_t a = __atomic_load_n(&allocs, __ATOMIC_RELAXED), f = __atomic_load_n(&frees, __ATOMIC_RELAXED);
    return (ti_stats_t){.alloc_count = a, .free_count = f, .in_use = a - f};
}
size_t ti_cached(size_t size) { (void)size; return 0; }
void ti_thread_flush(void) {}
int ti_check(void) { return 0; }

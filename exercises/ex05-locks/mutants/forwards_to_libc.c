/* mutant: forwards_to_libc
 * what: every lk_ function hands the call to glibc's own malloc (__libc_malloc and friends), with statistics kept on the side: the library loads, but it serves nothing
 * fail: rules/mmap-only programs/ls programs/sort programs/python3 programs/gcc
 * may-fail: tests/usable-size tests/realloc tests/aligned tests/overflow tests/stats tests/threads tests/contention tests/stats-concurrent hidden/varied tsan/races
 *
 * The shortcut a student takes when the allocator does not hold up under real
 * programs: the functions keep their names and counters, and the memory comes
 * from the C library. The preload probe sees glibc's heap grow behind the
 * library, so the programs checks fail by name.
 */
#include "locks.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

void *__libc_malloc(size_t size);
void __libc_free(void *ptr);
void *__libc_calloc(size_t nmemb, size_t size);
void *__libc_realloc(void *ptr, size_t size);
void *__libc_memalign(size_t alignment, size_t size);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static lk_stats_t stats;
static lk_locking_t locking = LK_PER_CLASS;

static void count(long allocs, long frees)
{
    pthread_mutex_lock(&lock);
    stats.alloc_count += (size_t)allocs;
    stats.free_count += (size_t)frees;
    stats.in_use = stats.alloc_count - stats.free_count;
    stats.lock_count++;
    pthread_mutex_unlock(&lock);
}

int lk_set_locking(lk_locking_t how)
{
    if (how != LK_ONE_LOCK && how != LK_PER_CLASS) {
        errno = EINVAL;
        return -1;
    }
    locking = how;
    return 0;
}

lk_locking_t lk_get_locking(void)
{
    return locking;
}

void *lk_malloc(size_t size)
{
    void *p = __libc_malloc(size);
    if (p != NULL)
        count(1, 0);
    return p;
}

void lk_free(void *ptr)
{
    if (ptr == NULL)
        return;
    count(0, 1);
    __libc_free(ptr);
}

size_t lk_malloc_usable_size(void *ptr)
{
    (void)ptr;
    return 0;
}

void *lk_calloc(size_t nmemb, size_t size)
{
    void *p = __libc_calloc(nmemb, size);
    if (p != NULL)
        count(1, 0);
    return p;
}

void *lk_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return lk_malloc(size);
    if (size == 0) {
        lk_free(ptr);
        return NULL;
    }
    return __libc_realloc(ptr, size);
}

void *lk_reallocarray(void *ptr, size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return lk_realloc(ptr, nmemb * size);
}

void *lk_memalign(size_t alignment, size_t size)
{
    void *p = __libc_memalign(alignment, size);
    if (p != NULL)
        count(1, 0);
    return p;
}

int lk_posix_memalign(void **memptr, size_t alignment, size_t size)
{
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
        return EINVAL;
    void *p = lk_memalign(alignment, size);
    if (p == NULL)
        return ENOMEM;
    *memptr = p;
    return 0;
}

void *lk_aligned_alloc(size_t alignment, size_t size)
{
    return lk_memalign(alignment, size);
}

void *lk_valloc(size_t size)
{
    return lk_memalign((size_t)sysconf(_SC_PAGESIZE), size);
}

void *lk_pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return lk_memalign(page, size == 0 ? page : (size + page - 1) & ~(page - 1));
}

lk_stats_t lk_get_stats(void)
{
    pthread_mutex_lock(&lock);
    lk_stats_t s = stats;
    pthread_mutex_unlock(&lock);
    return s;
}

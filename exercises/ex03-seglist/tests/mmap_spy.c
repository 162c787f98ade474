/* mmap_spy.c — the wrapped mmap and munmap of the allocator under test (see
 * mmap_spy.h). The linker turns seglist.c's calls of mmap into calls of
 * __wrap_mmap, and __real_mmap into the C library's mmap.
 *
 * A mapping the allocator asks for (anonymous, no address given) is placed
 * between two PROT_NONE guard pages: the spy reserves len + 2 pages and maps
 * the middle. The spy keeps every live mapping in an array sorted by address,
 * so it knows the footprint, whether a pointer lies in a mapping, and whether
 * a munmap gives back what mmap gave. A munmap of a whole mapping releases its
 * guards too; a munmap of a part (trimming) goes through as asked, and that
 * mapping's guards stay until the program ends.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mmap_spy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void *addr, size_t len);

#define PAGE ((uintptr_t)4096)
#define MAX_MAPPINGS (1u << 17)

typedef struct {
    uintptr_t lo, hi; /* [lo, hi), whole pages */
    bool guarded;     /* a guard page sits on each side, and goes with it */
} mapping_t;

static mapping_t maps[MAX_MAPPINGS]; /* sorted by lo, never overlapping */
static size_t nmaps;
static spy_counts_t counts;

static uintptr_t page_round(size_t n)
{
    return ((uintptr_t)n + PAGE - 1) & ~(PAGE - 1);
}

/* index of the first mapping whose hi is above a */
static size_t maps_search(uintptr_t a)
{
    size_t lo = 0, hi = nmaps;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (maps[mid].hi <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void maps_insert(uintptr_t lo, uintptr_t hi, bool guarded)
{
    if (nmaps == MAX_MAPPINGS)
        return; /* beyond what any test needs: the footprint still adds up */
    size_t k = maps_search(lo);
    memmove(&maps[k + 1], &maps[k], (nmaps - k) * sizeof *maps);
    maps[k] = (mapping_t){lo, hi, guarded};
    nmaps++;
    counts.mapped += hi - lo;
    if (counts.mapped > counts.peak)
        counts.peak = counts.mapped;
}

static void maps_remove(size_t k)
{
    counts.mapped -= maps[k].hi - maps[k].lo;
    memmove(&maps[k], &maps[k + 1], (nmaps - k - 1) * sizeof *maps);
    nmaps--;
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    counts.mmap_calls++;
    bool guard = addr == NULL && (flags & MAP_FIXED) == 0 && (flags & MAP_ANONYMOUS) != 0 &&
                 len > 0 && len <= SIZE_MAX / 4;
    if (!guard) {
        char *p = __real_mmap(addr, len, prot, flags, fd, off);
        if (p != MAP_FAILED) {
            /* MAP_FIXED may replace what was there */
            uintptr_t lo = (uintptr_t)p, hi = lo + page_round(len);
            for (size_t k = maps_search(lo); k < nmaps && maps[k].lo < hi;)
                maps_remove(k);
            maps_insert(lo, hi, false);
        }
        return p;
    }
    uintptr_t rlen = page_round(len);
    char *base = __real_mmap(NULL, rlen + 2 * PAGE, PROT_NONE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return MAP_FAILED; /* errno from the C library */
    void *p = __real_mmap(base + PAGE, rlen, prot, flags | MAP_FIXED, fd, off);
    if (p == MAP_FAILED) {
        int e = errno;
        __real_munmap(base, rlen + 2 * PAGE);
        errno = e;
        return MAP_FAILED;
    }
    maps_insert((uintptr_t)p, (uintptr_t)p + rlen, true);
    return p;
}

int __wrap_munmap(void *addr, size_t len)
{
    counts.munmap_calls++;
    uintptr_t lo = (uintptr_t)addr, hi = lo + page_round(len);
    size_t k = maps_search(lo);
    if (len > 0 && lo % PAGE == 0 && k < nmaps && maps[k].lo == lo && maps[k].hi == hi &&
        maps[k].guarded) {
        int r = __real_munmap((char *)addr - PAGE, (size_t)(hi - lo + 2 * PAGE));
        if (r == 0)
            maps_remove(k);
        return r;
    }
    int r = __real_munmap(addr, len);
    if (r != 0)
        return r;
    /* every byte of [lo, hi) must have been mapped; take it out of the mappings */
    uintptr_t covered = 0;
    while (k < nmaps && maps[k].lo < hi) {
        mapping_t m = maps[k];
        uintptr_t a = m.lo > lo ? m.lo : lo, b = m.hi < hi ? m.hi : hi;
        covered += b - a;
        maps_remove(k);
        if (m.lo < a)
            maps_insert(m.lo, a, false), k++;
        if (b < m.hi)
            maps_insert(b, m.hi, false), k++;
    }
    if (covered < hi - lo)
        counts.foreign_munmaps++;
    return 0;
}

spy_counts_t spy_get(void)
{
    return counts;
}

void spy_reset_peak(void)
{
    counts.peak = counts.mapped;
}

bool spy_contains(const void *p, size_t size)
{
    uintptr_t a = (uintptr_t)p, b = a + size;
    size_t k = maps_search(a);
    return k < nmaps && maps[k].lo <= a && b <= maps[k].hi;
}

/* mmap_spy.h — what the allocator under test really asks of the system.
 *
 * Programs that link mmap_spy.c with -Wl,--wrap=mmap -Wl,--wrap=munmap send
 * every mmap and munmap call of seglist.c through the spy first. The spy counts
 * them (so sl_get_stats can be compared with the truth), adds up the bytes
 * mapped (the allocator's footprint), and puts an inaccessible guard page on
 * each side of every mapping, so that a read or write past the end of a mapping
 * crashes at once instead of landing in a neighbour's memory.
 */
#ifndef MMAP_SPY_H
#define MMAP_SPY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    size_t mmap_calls;      /* calls of mmap, failed ones included */
    size_t munmap_calls;    /* calls of munmap */
    size_t mapped;          /* bytes mapped now, lengths rounded up to pages */
    size_t peak;            /* the most bytes mapped at once since spy_reset_peak */
    size_t foreign_munmaps; /* munmap calls on a range no mmap call returned */
} spy_counts_t;

spy_counts_t spy_get(void);

/* [p, p + size) lies inside one live mapping of the allocator. */
bool spy_contains(const void *p, size_t size);

/* Starts a new peak from the bytes mapped now. */
void spy_reset_peak(void);

#endif

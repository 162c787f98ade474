/* vg_uaf.c — writes into a buddy block after freeing it, on purpose.
 *
 * Run under memcheck by check valgrind/annotations. To memcheck the arena is
 * one static array, every byte writable: it cannot know that bd_free gave the
 * block back unless the allocator says so (VALGRIND_MEMPOOL_FREE). An
 * allocator that describes its blocks gets an "Invalid write" at the marked
 * line; one that does not is invisible to memcheck (the kit's mutant
 * no_annotations.patch). Natively the write is harmless to the allocator: it
 * lands 1000 bytes into a freed 4 KiB page, past the link at its start. */
#include "alab.h"
#include "buddy.h"

#include <stdio.h>

static bd_t bd;
static _Alignas(4096) unsigned char arena[1 << 20];

int main(void)
{
    alab_init();
    if (bd_init(&bd, arena, sizeof arena) != 0) {
        fprintf(stderr, "bd_init(bd, arena, 1 MiB) returned -1\n");
        return 1;
    }
    volatile char *held = bd_alloc(&bd, 4096), *block = bd_alloc(&bd, 3000);
    if (held == NULL || block == NULL) {
        fprintf(stderr, "bd_alloc returned NULL\n");
        return 1;
    }
    block[1000] = 1;
    bd_free(&bd, (void *)block);
    block[1000] = 2; /* the use after free that memcheck must see */
    bd_free(&bd, (void *)held);
    bd_destroy(&bd);
    alab_record("done", "test", "vg_uaf", (const char *)NULL);
    return 0;
}

/* vg_uaf.c — writes into a pool block after freeing it, on purpose.
 *
 * Run under memcheck by check valgrind/annotations. To memcheck, the arena is
 * one static array, every byte of it writable: it cannot know that fp_free gave
 * the block back unless the pool says so with VALGRIND_MEMPOOL_FREE. A pool
 * that describes its blocks gets an "Invalid write" report at the marked line;
 * a pool that does not is invisible to memcheck, and the write goes unnoticed
 * (the kit's mutant no_annotations.patch shows it). Natively the write is
 * harmless to the pool: it lands at byte 40 of a 64-byte block, past the
 * free-list link at its start. */
#include "alab.h"
#include "fixedpool.h"

#include <stdio.h>

static _Alignas(16) unsigned char arena[8 * 64];

int main(void)
{
    alab_init();
    fixedpool_t fp;
    if (fp_init(&fp, arena, sizeof arena, 64) != 0) {
        fprintf(stderr, "fp_init(fp, arena, 512, 64) returned -1\n");
        return 1;
    }
    volatile char *block = fp_alloc(&fp);
    if (block == NULL) {
        fprintf(stderr, "fp_alloc returned NULL\n");
        return 1;
    }
    block[40] = 1;
    fp_free(&fp, (void *)block);
    block[40] = 2; /* the use after free that memcheck must see */
    fp_destroy(&fp);
    alab_record("done", "test", "vg_uaf", (const char *)NULL);
    return 0;
}

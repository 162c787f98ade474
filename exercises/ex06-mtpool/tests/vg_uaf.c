/* vg_uaf.c — writes into a pool block after freeing it, on purpose.
 *
 * Run under memcheck by check valgrind/annotations: a pool that tells memcheck
 * about its blocks (VALGRIND_MEMPOOL_ALLOC / VALGRIND_MEMPOOL_FREE) gets an
 * "Invalid write" report at the marked line; a pool that does not is invisible
 * to memcheck, and the write goes unnoticed. Natively the write is harmless to
 * the pool: it lands in the middle of a 64-byte block, past anything a free
 * list keeps at the start. */
#include "alab.h"
#include "pool.h"

#include <stdio.h>

int main(void)
{
    alab_init();
    pool_t *pool = pool_create(64, 8);
    if (pool == NULL) {
        fprintf(stderr, "pool_create(64, 8) returned NULL\n");
        return 1;
    }
    volatile char *block = pool_alloc(pool);
    if (block == NULL) {
        fprintf(stderr, "pool_alloc returned NULL\n");
        return 1;
    }
    block[40] = 1;
    pool_free(pool, (void *)block);
    block[40] = 2; /* the use after free that memcheck must see */
    pool_destroy(pool);
    alab_record("done", "test", "vg_uaf", (const char *)NULL);
    return 0;
}

/* slab.c — tier 2: objects of one size class carved from slabs of 4 KiB
 * pages that tier 3 hands out; a lock per class (or per CPU: the statement
 * weighs both); caches refill and drain here in batches.
 */
#include "tiers.h"

/* TODO (tests/basic, tests/hit-rate): take up to `want` objects of class cls
 * from the class's slabs (a new slab from buddy_alloc when none has room),
 * linked through their first word, under the class's lock. */
int slab_refill(int cls, void **list, int want)
{
    (void)cls;
    (void)want;
    *list = NULL;
    return 0;
}

/* TODO (tests/coalesce, tests/cross-thread): give n objects back to their
 * slabs (page_of finds a slab from an object); an empty slab goes back to tier 3. */
void slab_drain(int cls, void *list, int n)
{
    (void)cls;
    (void)list;
    (void)n;
}

/* TODO (tests/fork): every class's lock, in one order. */
void slab_lock_all(void) {}
void slab_unlock_all(void) {}
void slab_reinit_locks(void) {}

/* TODO: check S1-S3 of the statement for every class. */
int slab_check(void)
{
    return 0;
}

/* variant: lazy
 * what: a lazy buddy: up to LAZY_KEEP freed blocks per order wait unmerged on cache[k] and serve the next allocation of that order; bd_drain, or an allocation no free block can serve, merges them
 * earns: bonus/lazy bonus/lazy-speed
 * fail:
 * may-fail:
 */

/* lazy.c — a variant of the reference solution of exercise 09 (solutions/ex09/
 * buddy.c) with deferred coalescing: the eager buddy below, plus a cache.
 *
 * A program that frees a block and soon asks for one of the same size (a page
 * cache, the slabs of ex10) makes an eager buddy merge on every free and split
 * again on the next allocation. Here bd_free keeps up to LAZY_KEEP blocks per
 * order on cache[k], unmerged, flagged BD_CACHED: to the buddy lists they are
 * held, so invariants I1-I4 hold unchanged and bd_check accounts for each one.
 * bd_alloc takes a cached block of its order first: no split, no merge. When
 * no free block is large enough, bd_alloc drains the caches (merging each
 * block as bd_free would have) and tries once more, so the lazy buddy refuses
 * only what an eager one would. Linux keeps freed pages on per-CPU lists the
 * same way (free_unref_page, drain_all_pages).
 *
 * The reference's description, unchanged below:
 *
 * A binary buddy allocator of 4 KiB pages, blocks of 2^k pages for k = 0..8,
 * over a caller's arena.
 *
 * The pages from base on are numbered; a block of order k starts at a page
 * number that is a multiple of 2^k, so the block it was split from, and the
 * buddy it may merge with, are found by arithmetic on that number: the buddy
 * of block i of order k starts at i ^ 2^k (Knuth, TAOCP vol. 1, 2.5; Linux's
 * __find_buddy_pfn), the pair's parent at i & ~2^k. One byte of flags and one
 * of order per page (bd_t.page[]) say where blocks start and which are free;
 * free blocks of each order sit on a doubly linked list threaded through
 * their own first bytes, so taking a buddy off its list is O(1).
 *
 * bd_alloc: the smallest non-empty list at or above the wanted order, then
 * split down, pushing each right half: O(orders). bd_free: merge while the
 * buddy is a free block of the same order: O(orders). No search anywhere.
 *
 * Memcheck is told about the blocks with the mempool client requests: a held
 * block's requested bytes are accessible, free pages are not; the allocator
 * opens a free block's link only for its own read or write.
 */
#include "buddy.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

_Static_assert(sizeof(bd_link_t) <= BD_PAGE_SIZE, "a free block must hold its link");
_Static_assert(BD_MAX_BLOCK <= UINT32_MAX, "requested fits in bd_page_t.requested");

/* Freed blocks kept unmerged per order: enough to absorb a burst of frees and
 * allocations of one size, few enough that little memory waits in caches. */
#define LAZY_KEEP 4

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- pages and blocks ---- */

static size_t page_of(const bd_t *bd, const void *p)
{
    return (size_t)((const unsigned char *)p - bd->base) >> BD_PAGE_SHIFT;
}

static bd_link_t *block_at(const bd_t *bd, size_t page)
{
    return (bd_link_t *)(bd->base + (page << BD_PAGE_SHIFT));
}

static size_t pages_in(int order)
{
    return (size_t)1 << order;
}

/* The buddy of block i of order k, or SIZE_MAX when it would not fit in the
 * heap (the tail of an arena that is not a multiple of 1 MiB). */
static size_t buddy_of(const bd_t *bd, size_t i, int k)
{
    size_t b = i ^ pages_in(k);
    return b + pages_in(k) <= bd->npages ? b : SIZE_MAX;
}

static void head_set(bd_t *bd, size_t i, int order, uint8_t flags)
{
    bd->page[i] = (bd_page_t){.order = (uint8_t)order, .flags = BD_HEAD | flags};
}

static void head_clear(bd_t *bd, size_t i)
{
    bd->page[i] = (bd_page_t){0};
}

static bool is_free_head(const bd_t *bd, size_t i, int k)
{
    return bd->page[i].flags == (BD_HEAD | BD_FREE) && bd->page[i].order == k;
}

/* ---- links inside free blocks (no-access to memcheck between uses) ---- */

static bd_link_t link_get(const bd_link_t *l)
{
    VALGRIND_MAKE_MEM_DEFINED(l, sizeof *l);
    bd_link_t v = *l;
    VALGRIND_MAKE_MEM_NOACCESS(l, sizeof *l);
    return v;
}

static void link_set_next(bd_link_t *l, bd_link_t *next)
{
    VALGRIND_MAKE_MEM_DEFINED(l, sizeof *l);
    l->next = next;
    VALGRIND_MAKE_MEM_NOACCESS(l, sizeof *l);
}

static void link_set_prev(bd_link_t *l, bd_link_t *prev)
{
    VALGRIND_MAKE_MEM_DEFINED(l, sizeof *l);
    l->prev = prev;
    VALGRIND_MAKE_MEM_NOACCESS(l, sizeof *l);
}

static void link_init(bd_link_t *l, bd_link_t *next, bd_link_t *prev)
{
    VALGRIND_MAKE_MEM_UNDEFINED(l, sizeof *l);
    *l = (bd_link_t){.next = next, .prev = prev};
    VALGRIND_MAKE_MEM_NOACCESS(l, sizeof *l);
}

/* ---- the free lists ---- */

static void list_push(bd_link_t **head, bd_link_t *l)
{
    link_init(l, *head, NULL);
    if (*head != NULL)
        link_set_prev(*head, l);
    *head = l;
}

static void list_unlink(bd_link_t **head, bd_link_t *l)
{
    bd_link_t v = link_get(l);
    if (v.prev != NULL)
        link_set_next(v.prev, v.next);
    else
        *head = v.next;
    if (v.next != NULL)
        link_set_prev(v.next, v.prev);
}

static void free_push(bd_t *bd, size_t i, int k)
{
    head_set(bd, i, k, BD_FREE);
    list_push(&bd->free_list[k], block_at(bd, i));
    bd->nfree[k]++;
}

static void free_unlink(bd_t *bd, size_t i, int k)
{
    assert(is_free_head(bd, i, k) && "only a free block of this order is on free_list[k]");
    list_unlink(&bd->free_list[k], block_at(bd, i));
    bd->nfree[k]--;
}

static void block_merge(bd_t *bd, size_t i, int k);

/* ---- the API ---- */

int bd_order(size_t size)
{
    if (size == 0 || size > BD_MAX_BLOCK)
        return -1;
    size_t pages = (size + BD_PAGE_SIZE - 1) >> BD_PAGE_SHIFT; /* 1..256 */
    return pages == 1 ? 0 : 64 - __builtin_clzl(pages - 1);    /* ceil(log2(pages)) */
}

int bd_init(bd_t *bd, void *arena, size_t size)
{
    if (bd == NULL || arena == NULL)
        return -1;
    uintptr_t a = (uintptr_t)arena, base = (a + BD_PAGE_SIZE - 1) & ~(uintptr_t)(BD_PAGE_SIZE - 1);
    size_t pad = base - a, npages = size > pad ? (size - pad) >> BD_PAGE_SHIFT : 0;
    memset(bd, 0, offsetof(bd_t, page));
    bd->base = (unsigned char *)base;
    bd->npages = npages < BD_MAX_PAGES ? npages : BD_MAX_PAGES;
    memset(bd->page, 0, bd->npages * sizeof bd->page[0]);

    VALGRIND_CREATE_MEMPOOL(bd, 0, 0);
    VALGRIND_MAKE_MEM_NOACCESS(bd->base, bd->npages << BD_PAGE_SHIFT);
    /* the largest aligned block that fits at each page, from page 0 on */
    for (size_t i = 0; i < bd->npages;) {
        int k = BD_MAX_ORDER;
        while (i % pages_in(k) != 0 || i + pages_in(k) > bd->npages)
            k--;
        free_push(bd, i, k);
        i += pages_in(k);
    }
    return 0;
}

/* Takes block i of order k (just off its list) and cuts it down to order
 * want, pushing the right half of each cut onto the free list below. */
static void block_split(bd_t *bd, size_t i, int k, int want)
{
    while (k > want) {
        k--;
        free_push(bd, i + pages_in(k), k); /* the right half; the left goes on */
        bd->splits++;
    }
}

/* The smallest order >= want with a free block, or BD_ORDERS. */
static int order_with_free(const bd_t *bd, int want)
{
    int k = want;
    while (k <= BD_MAX_ORDER && bd->free_list[k] == NULL)
        k++;
    return k;
}

static bool caches_empty(const bd_t *bd)
{
    for (int k = 0; k < BD_ORDERS; k++)
        if (bd->ncached[k] != 0)
            return false;
    return true;
}

void *bd_alloc(bd_t *bd, size_t size)
{
    int want = bd_order(size);
    if (unlikely(want < 0)) {
        bd->failed++;
        return NULL;
    }
    size_t i;
    if (likely(bd->cache[want] != NULL)) { /* a block freed lately: no split */
        i = page_of(bd, bd->cache[want]);
        list_unlink(&bd->cache[want], bd->cache[want]);
        bd->ncached[want]--;
    } else {
        int k = order_with_free(bd, want);
        if (unlikely(k > BD_MAX_ORDER) && !caches_empty(bd)) {
            bd_drain(bd); /* the cached blocks may merge into one large enough */
            k = order_with_free(bd, want);
        }
        if (unlikely(k > BD_MAX_ORDER)) {
            bd->failed++;
            return NULL;
        }
        i = page_of(bd, bd->free_list[k]);
        free_unlink(bd, i, k);
        block_split(bd, i, k, want);
    }
    head_set(bd, i, want, 0);
    bd->page[i].requested = (uint32_t)size;
    bd->nused[want]++;
    bd->requested_bytes += size;
    bd->allocs++;
    void *p = block_at(bd, i);
    VALGRIND_MEMPOOL_ALLOC(bd, p, size);
    return p;
}

void bd_free(bd_t *bd, void *p)
{
    if (p == NULL)
        return;
    size_t i = page_of(bd, p);
    assert((unsigned char *)p >= bd->base && i < bd->npages && p == (void *)block_at(bd, i) &&
           "bd_free: not the start of a page of this heap");
    assert(bd->page[i].flags == BD_HEAD && "bd_free: not a held block (freed twice?)");
    VALGRIND_MEMPOOL_FREE(bd, p); /* first: from now on the caller may not touch it */
    int k = bd->page[i].order;
    bd->nused[k]--;
    bd->requested_bytes -= bd->page[i].requested;
    bd->frees++;
    if (likely(bd->ncached[k] < LAZY_KEEP)) { /* kept unmerged for the next bd_alloc */
        head_set(bd, i, k, BD_CACHED);
        list_push(&bd->cache[k], block_at(bd, i));
        bd->ncached[k]++;
        return;
    }
    block_merge(bd, i, k);
}

/* Block i of order k, no longer held or cached, merged with its buddies as
 * far as they are free, onto a free list. */
static void block_merge(bd_t *bd, size_t i, int k)
{
    head_clear(bd, i);
    /* merge while the buddy is a whole free block of the same order */
    for (; k < BD_MAX_ORDER; k++) {
        size_t b = buddy_of(bd, i, k);
        if (b == SIZE_MAX || !is_free_head(bd, b, k))
            break;
        free_unlink(bd, b, k);
        head_clear(bd, b);
        i = i < b ? i : b; /* the merged block starts at the left buddy */
        bd->merges++;
    }
    free_push(bd, i, k);
}

void bd_drain(bd_t *bd)
{
    for (int k = 0; k < BD_ORDERS; k++)
        while (bd->cache[k] != NULL) {
            size_t i = page_of(bd, bd->cache[k]);
            list_unlink(&bd->cache[k], bd->cache[k]);
            bd->ncached[k]--;
            block_merge(bd, i, k);
        }
}

/* ---- the checker ---- */

static int broken(char *why, size_t len, const char *fmt, ...)
{
    if (why != NULL && len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Walks one list without trusting it: every link must be the head page of a
 * block with the expected flags and order, its prev the block before, and
 * the walk ends within npages steps (a cycle never ends). */
static int list_check(const bd_t *bd, const bd_link_t *head, int k, uint8_t flag, size_t count,
                      const char *name, char *why, size_t len)
{
    size_t n = 0;
    const bd_link_t *prev = NULL;
    for (const bd_link_t *l = head; l != NULL; prev = l, l = link_get(l).next) {
        const unsigned char *b = (const unsigned char *)l;
        if (++n > bd->npages)
            return broken(why, len, "%s[%d] has more blocks than the heap has pages: it loops", name, k);
        if (b < bd->base || page_of(bd, b) >= bd->npages || (size_t)(b - bd->base) % BD_PAGE_SIZE != 0)
            return broken(why, len, "%s[%d]: entry %zu (%p) is not a page of the heap", name, k, n,
                          (const void *)l);
        size_t i = page_of(bd, b);
        if (bd->page[i].flags != (BD_HEAD | flag) || bd->page[i].order != k)
            return broken(why, len, "%s[%d]: block at page %zu has flags 0x%x and order %d, expected "
                          "0x%x and order %d", name, k, i, bd->page[i].flags, bd->page[i].order,
                          BD_HEAD | flag, k);
        if (link_get(l).prev != prev)
            return broken(why, len, "%s[%d]: the prev link of the block at page %zu does not point "
                          "to the block before it", name, k, i);
    }
    if (n != count)
        return broken(why, len, "%s[%d] holds %zu blocks, but its count says %zu", name, k, n, count);
    return 0;
}

int bd_check(const bd_t *bd, char *why, size_t len)
{
    size_t heads[3][BD_ORDERS] = {{0}}, requested = 0;
    /* I1 tiling, and the heads of each kind counted (I2, I4) */
    for (size_t i = 0; i < bd->npages;) {
        bd_page_t pg = bd->page[i];
        int k = pg.order;
        if (!(pg.flags & BD_HEAD) || k > BD_MAX_ORDER || (pg.flags & ~(BD_HEAD | BD_FREE | BD_CACHED)) ||
            (pg.flags & BD_FREE && pg.flags & BD_CACHED))
            return broken(why, len, "page %zu should start a block but has flags 0x%x, order %d", i,
                          pg.flags, k);
        if (i % pages_in(k) != 0 || i + pages_in(k) > bd->npages)
            return broken(why, len, "the block of order %d at page %zu is %s", k, i,
                          i % pages_in(k) ? "not aligned to its size" : "past the end of the heap");
        for (size_t j = i + 1; j < i + pages_in(k); j++)
            if (bd->page[j].flags != 0 || bd->page[j].order != 0 || bd->page[j].requested != 0)
                return broken(why, len, "page %zu lies inside the block of order %d at page %zu, "
                              "but its metadata is not all zero", j, k, i);
        int kind = pg.flags & BD_FREE ? 0 : pg.flags & BD_CACHED ? 1 : 2;
        heads[kind][k]++;
        if (kind == 2) {
            if (pg.requested == 0 || pg.requested > BD_BLOCK_SIZE(k))
                return broken(why, len, "the held block at page %zu (order %d) records a request of "
                              "%u bytes", i, k, pg.requested);
            requested += pg.requested;
        } else if (pg.requested != 0) {
            return broken(why, len, "the free block at page %zu records a request", i);
        }
        /* I3: a free block's buddy is not a free block of the same order */
        size_t b = buddy_of(bd, i, k);
        if (kind == 0 && k < BD_MAX_ORDER && b != SIZE_MAX && is_free_head(bd, b, k))
            return broken(why, len, "the free blocks of order %d at pages %zu and %zu are buddies "
                          "and should have merged", k, i, b);
        i += pages_in(k);
    }
    for (int k = 0; k < BD_ORDERS; k++) {
        if (list_check(bd, bd->free_list[k], k, BD_FREE, bd->nfree[k], "free_list", why, len) != 0 ||
            list_check(bd, bd->cache[k], k, BD_CACHED, bd->ncached[k], "cache", why, len) != 0)
            return -1;
        if (heads[0][k] != bd->nfree[k] || heads[1][k] != bd->ncached[k])
            return broken(why, len, "order %d: %zu free and %zu cached blocks in page[], but the "
                          "lists hold %zu and %zu", k, heads[0][k], heads[1][k], bd->nfree[k],
                          bd->ncached[k]);
        if (heads[2][k] != bd->nused[k])
            return broken(why, len, "order %d: %zu held blocks in page[], but nused says %zu", k,
                          heads[2][k], bd->nused[k]);
    }
    if (requested != bd->requested_bytes)
        return broken(why, len, "the held blocks record %zu requested bytes, requested_bytes says %zu",
                      requested, bd->requested_bytes);
    return 0;
}

/* ---- statistics ---- */

void bd_stats(const bd_t *bd, bd_stats_t *st)
{
    memset(st, 0, sizeof *st);
    for (int k = 0; k < BD_ORDERS; k++) {
        st->free_blocks[k] = bd->nfree[k];
        st->cached_blocks[k] = bd->ncached[k];
        st->used_blocks[k] = bd->nused[k];
        st->free_bytes += (bd->nfree[k] + bd->ncached[k]) * BD_BLOCK_SIZE(k);
        if (bd->nfree[k] != 0)
            st->largest_free = BD_BLOCK_SIZE(k);
    }
    st->total_bytes = bd->npages * BD_PAGE_SIZE;
    st->used_bytes = st->total_bytes - st->free_bytes;
    st->requested_bytes = bd->requested_bytes;
    st->internal_bytes = st->used_bytes - st->requested_bytes;
    st->allocs = bd->allocs;
    st->frees = bd->frees;
    st->failed = bd->failed;
    st->splits = bd->splits;
    st->merges = bd->merges;
}

void bd_destroy(bd_t *bd)
{
    VALGRIND_DESTROY_MEMPOOL(bd);
    /* the pages are the caller's memory again, held or not */
    VALGRIND_MAKE_MEM_UNDEFINED(bd->base, bd->npages << BD_PAGE_SHIFT);
    memset(bd, 0, offsetof(bd_t, page));
}

/* buddy.c — tier 3: pages. Blocks of TI_PAGE << order bytes (order 0..8,
 * 4 KiB to 1 MiB) split from regions of 4 MiB mapped from the system; a freed
 * block merges with its buddy as long as the buddy is free and whole (Knuth,
 * TAOCP vol. 1, 2.5). Requests above 1 MiB get a mapping of their own.
 * Cost: one lock, O(TI_NORDERS) per call.
 *
 * Where the metadata lives. A region is aligned to its size (4 MiB) and has a
 * header just below it, outside the 4 MiB: a descriptor per page (ti_page_t in
 * tiers.h). So for any pointer p we hand out, the header sits at
 * (p rounded down to 4 MiB) - HEADER_BYTES. A mapping of its own has a header
 * of the same type there too (huge = true), and its block starts exactly at a
 * 4 MiB boundary, so the same rule finds it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tiers.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define REGION_BYTES ((size_t)4 << 20)
#define REGION_PAGES (REGION_BYTES / TI_PAGE)
#define MAX_ORDER (TI_NORDERS - 1)
#define REGION_MAGIC 0x7469657273u /* "tiers" */

/* Invariants (checked by buddy_check):
 *   B1 a block of order k starts at a multiple of TI_PAGE << k from its region;
 *   B2 a block is on free_list[k] iff its first page says TI_FREE with order k;
 *   B3 two free buddies of order k < MAX_ORDER never both stay free: they merge;
 *   B4 the pages of a region are covered exactly once by its blocks. */
typedef struct region {
    uint64_t magic;
    bool huge;              /* a mapping of its own: only map_* and usable are valid */
    char *map_base;         /* what mmap returned, for munmap */
    size_t map_len;
    size_t usable;          /* huge: bytes from the block's start to the mapping's end */
    struct region *next;    /* all regions, newest first (under lock) */
    ti_page_t pages[REGION_PAGES];
} region_t;

#define HEADER_BYTES (((sizeof(region_t) + TI_PAGE - 1) / TI_PAGE) * TI_PAGE)
_Static_assert(REGION_PAGES <= 65535, "a page index must fit ti_page_t.head");
_Static_assert((TI_PAGE << MAX_ORDER) <= REGION_BYTES, "a region holds whole blocks of the top order");

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static ti_page_t *free_list[TI_NORDERS]; /* doubly linked, under lock */
static region_t *regions;                /* under lock */

/* ---- finding the header ---- */

static region_t *region_of(const void *p)
{
    return (region_t *)(((uintptr_t)p & ~(REGION_BYTES - 1)) - HEADER_BYTES);
}

static char *region_start(const region_t *r)
{
    return (char *)r + HEADER_BYTES;
}

static region_t *region_of_page(const ti_page_t *pg)
{
    /* descriptors live in the header, in the HEADER_BYTES below the region */
    return region_of((const char *)pg + HEADER_BYTES);
}

static size_t page_index(const ti_page_t *pg)
{
    return (size_t)(pg - region_of_page(pg)->pages);
}

char *page_addr(const ti_page_t *pg)
{
    return region_start(region_of_page(pg)) + page_index(pg) * TI_PAGE;
}

ti_page_t *page_of(const void *ptr)
{
    region_t *r = region_of(ptr);
    if (r->huge)
        return NULL;
    ti_page_t *pg = &r->pages[((uintptr_t)ptr & (REGION_BYTES - 1)) / TI_PAGE];
    return pg->kind == TI_TAIL ? &r->pages[pg->head] : pg;
}

/* ---- mappings aligned to 4 MiB, with a header below ---- */

/* Maps `bytes` starting at a 4 MiB boundary, a header below; NULL on failure. */
static region_t *map_aligned(size_t bytes, size_t align)
{
    if (align < REGION_BYTES)
        align = REGION_BYTES;
    size_t len = HEADER_BYTES + bytes + align;
    if (bytes > SIZE_MAX / 2 || len < bytes)
        return NULL;
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    char *start = (char *)(((uintptr_t)base + HEADER_BYTES + align - 1) & ~(align - 1));
    char *head = start - HEADER_BYTES, *end = start + ((bytes + TI_PAGE - 1) & ~(size_t)(TI_PAGE - 1));
    if (head > base)
        munmap(base, (size_t)(head - base)); /* trim what alignment left over */
    if (base + len > end)
        munmap(end, (size_t)(base + len - end));
    region_t *r = (region_t *)head;
    r->magic = REGION_MAGIC;
    r->map_base = head;
    r->map_len = (size_t)(end - head);
    return r;
}

/* ---- free lists (under lock) ---- */

static void list_push(int order, ti_page_t *pg)
{
    pg->kind = TI_FREE;
    pg->order = (uint8_t)order;
    pg->prev = NULL;
    pg->next = free_list[order];
    if (pg->next != NULL)
        pg->next->prev = pg;
    free_list[order] = pg;
}

static void list_remove(ti_page_t *pg)
{
    if (pg->prev != NULL)
        pg->prev->next = pg->next;
    else
        free_list[pg->order] = pg->next;
    if (pg->next != NULL)
        pg->next->prev = pg->prev;
    pg->next = pg->prev = NULL;
}

static bool region_grow(void)
{
    region_t *r = map_aligned(REGION_BYTES, REGION_BYTES);
    if (r == NULL)
        return false;
    r->next = regions;
    regions = r;
    for (size_t i = REGION_PAGES; i > 0; i -= (size_t)1 << MAX_ORDER)
        list_push(MAX_ORDER, &r->pages[i - ((size_t)1 << MAX_ORDER)]);
    return true;
}

/* The descriptor of pg's buddy at order k. */
static ti_page_t *buddy_of(ti_page_t *pg, int k)
{
    return &region_of_page(pg)->pages[page_index(pg) ^ ((size_t)1 << k)];
}

/* ---- the tier's interface ---- */

ti_page_t *buddy_alloc(int order, int kind, int cls)
{
    ti_lock(&lock);
    int k = order;
    while (k <= MAX_ORDER && free_list[k] == NULL)
        k++;
    if (k > MAX_ORDER) {
        if (!region_grow()) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        k = MAX_ORDER;
    }
    ti_page_t *pg = free_list[k];
    list_remove(pg);
    while (k > order) { /* split: the upper half goes to the list below */
        k--;
        list_push(k, buddy_of(pg, k));
    }
    pg->kind = (uint8_t)kind;
    pg->order = (uint8_t)order;
    pg->cls = (uint8_t)cls;
    if (kind == TI_SLAB) {
        uint16_t head = (uint16_t)page_index(pg);
        for (size_t i = 1; i < ((size_t)1 << order); i++) {
            pg[i].kind = TI_TAIL;
            pg[i].head = head;
        }
    }
    pthread_mutex_unlock(&lock);
    return pg;
}

void buddy_free(ti_page_t *pg)
{
    ti_lock(&lock);
    int k = pg->order;
    while (k < MAX_ORDER) {
        ti_page_t *b = buddy_of(pg, k);
        if (b->kind != TI_FREE || b->order != k)
            break; /* the buddy is in use, or split */
        list_remove(b);
        b->kind = 0;
        pg->kind = 0;
        if (b < pg)
            pg = b;
        k++;
    }
    list_push(k, pg);
    pthread_mutex_unlock(&lock);
}

/* ---- mappings of their own ---- */

void *huge_alloc(size_t size, size_t align)
{
    region_t *r = map_aligned(size, align);
    if (r == NULL)
        return NULL;
    r->huge = true;
    r->usable = r->map_len - HEADER_BYTES;
    return region_start(r);
}

void huge_free(void *ptr)
{
    region_t *r = region_of(ptr);
    munmap(r->map_base, r->map_len);
}

size_t huge_usable_size(const void *ptr)
{
    return region_of(ptr)->usable;
}

/* ---- fork, statistics, check ---- */

void buddy_lock_all(void) { pthread_mutex_lock(&lock); }
void buddy_unlock_all(void) { pthread_mutex_unlock(&lock); }
void buddy_reinit_locks(void) { pthread_mutex_init(&lock, NULL); }

ti_pages_t ti_get_pages(void)
{
    ti_pages_t t = {0};
    pthread_mutex_lock(&lock);
    for (int k = 0; k < TI_NORDERS; k++)
        for (ti_page_t *pg = free_list[k]; pg != NULL; pg = pg->next) {
            t.free_blocks[k]++;
            t.pages_free += (size_t)1 << k;
        }
    for (region_t *r = regions; r != NULL; r = r->next)
        t.pages_total += REGION_PAGES;
    pthread_mutex_unlock(&lock);
    return t;
}

static int fail(const char *what)
{
    static const char head[] = "ti_check: tier 3 (buddy): ";
    ssize_t u = write(2, head, sizeof head - 1);
    u = write(2, what, strlen(what));
    u = write(2, "\n", 1);
    (void)u;
    return -1;
}

int buddy_check(void)
{
    int bad = 0;
    pthread_mutex_lock(&lock);
    for (int k = 0; k < TI_NORDERS && bad == 0; k++)
        for (ti_page_t *pg = free_list[k]; pg != NULL && bad == 0; pg = pg->next) {
            if (pg->kind != TI_FREE || pg->order != k)
                bad = fail("B2: a block on a free list is not marked free of that order");
            else if (page_index(pg) % ((size_t)1 << k) != 0)
                bad = fail("B1: a free block is not aligned to its size");
            else if (k < MAX_ORDER && buddy_of(pg, k)->kind == TI_FREE && buddy_of(pg, k)->order == k)
                bad = fail("B3: two free buddies were not merged");
        }
    for (region_t *r = regions; r != NULL && bad == 0; r = r->next) {
        if (r->magic != REGION_MAGIC || r->huge) {
            bad = fail("a region's header was overwritten");
            break;
        }
        for (size_t i = 0; i < REGION_PAGES && bad == 0;) { /* B4: walk block by block */
            ti_page_t *pg = &r->pages[i];
            if (pg->kind != TI_FREE && pg->kind != TI_SLAB && pg->kind != TI_LARGE)
                bad = fail("B4: a page that should start a block does not");
            else if (i % ((size_t)1 << pg->order) != 0)
                bad = fail("B1: a block is not aligned to its size");
            else
                i += (size_t)1 << pg->order;
        }
    }
    pthread_mutex_unlock(&lock);
    return bad;
}

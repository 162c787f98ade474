/* bump.c — reference solution of exercise 01: a bump pool with boundary tags.
 *
 * One block from the system (the arena) is handed out front to back: each
 * allocation takes the next bytes, and nothing is ever reused. Around each
 * payload sit guards: a header (size, then tag) before it and a canary after it,
 * so bump_free and bump_check can tell an overflow, an underflow, a double free
 * and a stray pointer apart. Allocation costs O(1); bump_check O(blocks).
 */
#include "bump.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The guards of one block. The tag sits next to the payload, the size before it:
 * a write just before the payload (p[-1], the commonest underflow) lands on the
 * tag, which free checks, instead of silently changing the size that free and
 * check use to find the canary. */
typedef struct {
    size_t size; /* bytes the caller asked for (n); the payload takes round_up(n, 8) */
    size_t tag;  /* BUMP_TAG_LIVE or BUMP_TAG_FREED; anything else is damage */
} header_t;

_Static_assert(sizeof(header_t) == BUMP_HEADER, "the header is two size_t words");
_Static_assert(BUMP_ALIGN % sizeof(size_t) == 0,
               "an aligned payload of a rounded size is followed by an aligned canary");

/* Invariant: arena[0..used) holds blocks back to back (header, payload, padding,
 * canary, and up to 8 bytes of fill before the next header so that its payload
 * is aligned); arena[used..capacity) holds BUMP_FILL. */
struct bump {
    size_t capacity;      /* bytes in arena[] */
    size_t used;          /* end of the last block's canary, from arena[0] */
    bump_reporter_t report; /* where messages go; NULL: stderr */
    void *report_ctx;       /* report's first argument */
    _Alignas(BUMP_ALIGN) unsigned char arena[]; /* C99 flexible array: must be last */
};

static size_t round_up(size_t x, size_t to)
{
    return (x + to - 1) & ~(to - 1);
}

/* ---- where things are ---- */

static header_t *header_of(unsigned char *p)
{
    return (header_t *)(p - BUMP_HEADER);
}

/* Bytes the payload takes: n rounded up to a multiple of sizeof(size_t), so the
 * canary after it is a naturally aligned size_t. */
static size_t payload_bytes(size_t n)
{
    return round_up(n, sizeof(size_t));
}

static size_t *canary_of(unsigned char *p, size_t n)
{
    return (size_t *)(p + payload_bytes(n));
}

/* Offset in the arena of the payload of a block whose header starts at or after
 * offset start: the first multiple of BUMP_ALIGN with room for the header. */
static size_t payload_offset(size_t start)
{
    return round_up(start + BUMP_HEADER, BUMP_ALIGN);
}

/* Offset just past the block whose payload is at offset off. */
static size_t block_end(size_t off, size_t n)
{
    return off + payload_bytes(n) + sizeof(size_t);
}

/* ---- reporting ---- */

static void report(const bump_t *pool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report(const bump_t *pool, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (pool->report != NULL)
        pool->report(pool->report_ctx, msg);
    else
        fprintf(stderr, "bump: %s\n", msg);
}

/* ---- checking one block ---- */

/* True when p could be a payload of this pool: inside the blocks handed out so
 * far and aligned. Compares addresses only: nothing at p is read. */
static bool is_payload_address(const bump_t *pool, const unsigned char *p)
{
    uintptr_t a = (uintptr_t)p, first = (uintptr_t)pool->arena + payload_offset(0);
    uintptr_t end = (uintptr_t)pool->arena + pool->used;
    return a >= first && a < end && a % BUMP_ALIGN == 0;
}

/* True when the padding and the canary after the payload are as alloc left them. */
static bool guard_intact(unsigned char *p, size_t n)
{
    for (size_t i = n; i < payload_bytes(n); i++)
        if (p[i] != BUMP_FILL)
            return false;
    return *canary_of(p, n) == BUMP_CANARY;
}

/* The verdict on the block whose payload is at p, which is_payload_address
 * accepted. who names the caller in messages. */
static bump_error_t block_verify(const bump_t *pool, unsigned char *p, const char *who)
{
    header_t *h = header_of(p);
    size_t off = (size_t)(p - pool->arena);
    if (h->tag != BUMP_TAG_LIVE && h->tag != BUMP_TAG_FREED) {
        report(pool, "%s: block %p: the tag before it reads %#zx, not %#x: something wrote "
               "before the payload (underflow), or %p is not the start of a block (its "
               "header claims %zu bytes)", who, (void *)p, h->tag, BUMP_TAG_LIVE, (void *)p,
               h->size);
        return BUMP_BAD_TAG;
    }
    /* a size that runs past the last block is damage too; checked before the
     * canary is read, which would lie outside the blocks */
    if (h->size == 0 || h->size > pool->used - off || block_end(off, h->size) > pool->used) {
        report(pool, "%s: block %p: its header claims %zu bytes, more than the pool handed "
               "out after it: the size before the tag was overwritten (underflow)",
               who, (void *)p, h->size);
        return BUMP_BAD_TAG;
    }
    if (!guard_intact(p, h->size)) {
        report(pool, "%s: block %p of %zu bytes: its padding or its canary %#x changed: "
               "something wrote past the end of the payload (overflow)",
               who, (void *)p, h->size, BUMP_CANARY);
        return BUMP_OVERFLOW;
    }
    return BUMP_OK;
}

/* ---- the API ---- */

bump_t *bump_create(size_t capacity)
{
    if (capacity == 0 || capacity > SIZE_MAX - sizeof(bump_t))
        return NULL;
    bump_t *pool = malloc(sizeof(bump_t) + capacity);
    if (pool == NULL)
        return NULL;
    pool->capacity = capacity;
    pool->used = 0;
    pool->report = NULL;
    pool->report_ctx = NULL;
    memset(pool->arena, BUMP_FILL, capacity);
    return pool;
}

void bump_destroy(bump_t *pool)
{
    free(pool);
}

void *bump_alloc(bump_t *pool, size_t n)
{
    if (n == 0)
        return NULL;
    size_t off = payload_offset(pool->used);
    /* room for the rounded payload; compared so that nothing overflows, even
     * for n close to SIZE_MAX */
    if (off > pool->capacity || pool->capacity - off < sizeof(size_t))
        return NULL;
    size_t room = pool->capacity - off - sizeof(size_t);
    if (n > room || payload_bytes(n) > room)
        return NULL;

    unsigned char *p = pool->arena + off;
    header_t *h = header_of(p);
    h->size = n;
    h->tag = BUMP_TAG_LIVE;
    memset(p + n, BUMP_FILL, payload_bytes(n) - n);
    *canary_of(p, n) = BUMP_CANARY;
    pool->used = block_end(off, n);
    return p;
}

bump_error_t bump_free(bump_t *pool, void *ptr)
{
    if (ptr == NULL)
        return BUMP_OK;
    unsigned char *p = ptr;
    /* the address first: reading a header that is not in the pool is itself a bug */
    if (!is_payload_address(pool, p)) {
        report(pool, "bump_free(%p): not a block of this pool: its blocks lie in [%p, %p), "
               "16-byte aligned", ptr, (void *)(pool->arena + payload_offset(0)),
               (void *)(pool->arena + pool->used));
        return BUMP_INVALID;
    }
    header_t *h = header_of(p);
    if (h->tag == BUMP_TAG_FREED) {
        report(pool, "bump_free(%p): the block of %zu bytes was freed already (double free)",
               ptr, h->size);
        return BUMP_DOUBLE_FREE;
    }
    bump_error_t err = block_verify(pool, p, "bump_free");
    if (err != BUMP_OK)
        return err;
    h->tag = BUMP_TAG_FREED;
    memset(p, BUMP_FILL, h->size);
    return BUMP_OK;
}

bump_error_t bump_check(bump_t *pool)
{
    size_t off = payload_offset(0);
    while (off < pool->used) {
        unsigned char *p = pool->arena + off;
        bump_error_t err = block_verify(pool, p, "bump_check");
        if (err != BUMP_OK)
            return err;
        off = payload_offset(block_end(off, header_of(p)->size));
    }
    return BUMP_OK;
}

void bump_set_reporter(bump_t *pool, bump_reporter_t fn, void *ctx)
{
    pool->report = fn;
    pool->report_ctx = ctx;
}

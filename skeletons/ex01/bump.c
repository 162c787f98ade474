/* bump.c — your bump pool with boundary tags and canaries (exercise 01).
 *
 * A fill-in-the-blanks start. It compiles and runs, and passes almost nothing:
 *   - a blank is a stand-in expression followed by a comment that holds
 *     only ____ : replace the expression (and the comment) with the right one;
 *   - a line marked "fix the mistake" looks finished but is wrong;
 *   - a line marked "Question" asks something worth an answer in a comment.
 * Each TODO names the check of exercise.ini that verifies it. README.md beside
 * bump.h draws the layout of a block; `make hint EX=01` gives progressive hints.
 */
#include "bump.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Invariant, once you have fixed bump_alloc: arena[0..used) holds blocks back
 * to back, arena[used..capacity) holds BUMP_FILL. */
struct bump {
    size_t capacity;        /* bytes in arena[] */
    size_t used;            /* bytes of arena[] taken by blocks, guards included */
    bump_reporter_t report; /* where messages go; NULL: stderr */
    void *report_ctx;
    _Alignas(BUMP_ALIGN) unsigned char arena[]; /* C99 flexible array member. Must be last */
};

/* Sends one message about an error, written like printf's, to the pool's
 * reporter, or to stderr when it has none. Complete: nothing to fill in here. */
static void report(const bump_t *pool, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
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

/* ---- where things are ---- */

/* TODO (tests/rounding): How would you round n up to a multiple of
 * sizeof(size_t)? (Without a division: sizeof(size_t) is a power of two.) */
static size_t round8(size_t n)
{
    return n /* ____ */;
}

/* The offset in arena[] of the payload of a block whose header starts at
 * offset start. Leave room for the header, then round up to ensure natural
 * alignment: the payload's address % 16 must be 0. arena[] itself starts on a
 * multiple of 16 (see _Alignas above).
 * TODO (tests/alignment): round up. */
static size_t payload_offset(size_t start)
{
    return start + BUMP_HEADER /* ____ */;
}

/* True when p could be a payload of this pool: at or after the first payload,
 * before arena + used, and 16-byte aligned. Compare addresses only (cast them
 * to uintptr_t): do not read anything at or near p.
 * TODO (tests/invalid): write it; it is what stands between bump_free and a
 * stray pointer. */
static bool is_payload_address(const bump_t *pool, const unsigned char *p)
{
    (void)pool;
    (void)p;
    return true /* ____ */;
}

/* The verdict on the block whose payload is at p; who ("bump_free" or
 * "bump_check") starts each message. Used by bump_free and by bump_check. */
static bump_error_t block_verify(const bump_t *pool, unsigned char *p, const char *who)
{
    size_t *bounds = (size_t *)p;
    size_t size = bounds[-2];

    /* TODO (tests/underflow): a block's tag is BUMP_TAG_LIVE or BUMP_TAG_FREED;
     * anything else is damage. */
    if (bounds[-1] != 0 /* ____ */) {
        report(pool, "%s: block %p: the tag before it reads %#zx: something wrote before the "
               "payload (underflow), or it is not the start of a block", who, (void *)p, bounds[-1]);
        return BUMP_BAD_TAG;
    }

    /* A damaged size would send us to look for the canary far away, maybe
     * outside the pool (asan/clean): check it before reading the canary. */
    size_t off = (size_t)(p - pool->arena);
    if (size == 0 || size > pool->used - off || off + round8(size) + sizeof(size_t) > pool->used) {
        report(pool, "%s: block %p: its header claims %zu bytes, more than the pool holds "
               "after it (underflow)", who, (void *)p, size);
        return BUMP_BAD_TAG;
    }

    /* TODO (tests/overflow): the canary after the payload must read BUMP_CANARY,
     * and the padding bytes p[size .. round8(size)) BUMP_FILL: a write one byte
     * past a 5-byte payload lands in the padding, not in the canary.
     * TODO (tests/messages): the message must also give the block's size. */
    if (0 /* ____ */) {
        report(pool, "%s: block %p: the canary after it was overwritten (overflow)", who,
               (void *)p);
        return BUMP_OVERFLOW;
    }
    return BUMP_OK;
}

/* ---- the API ---- */

bump_t *bump_create(size_t capacity)
{
    if (capacity == 0)
        return NULL;
    /* Question: why sizeof(bump_t) + capacity, and why must arena[] be the
     * last member of struct bump? */
    bump_t *pool = malloc(sizeof(bump_t) + capacity);
    if (pool == NULL)
        return NULL;
    pool->capacity = capacity;
    pool->used = 0;
    pool->report = NULL;
    pool->report_ctx = NULL;

    /* TODO (tests/fill): every byte of the arena reads BUMP_FILL. */
    size_t fill_bytes = 0 /* ____ */;
    memset(pool->arena, BUMP_FILL, fill_bytes);

    return pool;
}

void bump_destroy(bump_t *pool)
{
    /* TODO (valgrind/memcheck): give the pool back to the system, whether or
     * not its blocks were freed. */
    (void)pool;
}

void *bump_alloc(bump_t *pool, size_t n)
{
    if (n == 0)
        return NULL;
    size_t request = round8(n);

    /* Leave space for our metadata... */
    size_t off = payload_offset(pool->used);

    /* TODO (tests/exhaustion): fix the mistake. Does this test still say "too
     * big" when n is SIZE_MAX - 3? Work out what round8 makes of it. */
    if (off + request + sizeof(size_t) > pool->capacity)
        return NULL;

    unsigned char *result = pool->arena + off;
    /* Question: the exercise's first version asserted `*result == 0x5a` here.
     * What would a failure of that assertion tell you? */

    size_t *bounds = (size_t *)result;
    bounds[-2] = n;
    bounds[-1] = BUMP_TAG_LIVE; /* Question: why this way round? */

    /* TODO (tests/rounding): the padding result[n .. request) reads BUMP_FILL
     * (it does as long as nothing is ever reused; say so, or write it). */

    /* TODO (tests/layout): fix the mistake. */
    bounds[request / sizeof(size_t) - 1] = BUMP_CANARY;

    pool->used = request + (size_t)(result - pool->arena); /* Is this correct? */
    return result;
}

bump_error_t bump_free(bump_t *pool, void *ptr)
{
    if (ptr == NULL)
        return BUMP_OK;
    size_t *bounds = ptr;

    /* TODO (tests/invalid): report (name ptr) and return BUMP_INVALID. This
     * comes first: nothing may read memory around ptr before we know it is a
     * block of ours (asan/clean, valgrind/memcheck). */
    if (!is_payload_address(pool, ptr))
        return BUMP_OK /* ____ */;

    /* TODO (tests/double-free): a block whose tag says it was freed already is
     * a double free: report (name ptr and the size) and return BUMP_DOUBLE_FREE.
     * block_verify accepts freed blocks, as bump_check needs. */

    bump_error_t err = block_verify(pool, ptr, "bump_free");
    if (err != BUMP_OK)
        return err;

    bounds[-1] = 0 /* ____ */; /* TODO (tests/double-free, tests/layout): mark it freed */
    size_t size = bounds[-1];   /* TODO (tests/fill): fix the mistake */
    memset(ptr, BUMP_FILL, size);
    return BUMP_OK;
}

bump_error_t bump_check(bump_t *pool)
{
    /* TODO (tests/check): walk every block, live or freed: the first payload is
     * at payload_offset(0); the next one follows from the size in the header,
     * with the same arithmetic as bump_alloc; stop at pool->used. Verify each
     * with block_verify(pool, p, "bump_check") and return the first error. */
    (void)pool;
    return BUMP_OK;
}

void bump_set_reporter(bump_t *pool, bump_reporter_t fn, void *ctx)
{
    pool->report = fn;
    pool->report_ctx = ctx;
}

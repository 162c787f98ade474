/* bump_testlib.h — helpers shared by the public and hidden tests of exercise 01:
 * reading a block's guards as the statement lays them out, capturing what the
 * pool reports, and a small deterministic PRNG.
 *
 * The guards are read with memcpy, never through a cast pointer, so that a
 * submission with a wrong layout fails a test instead of making the test itself
 * misbehave under UBSan. */
#ifndef BUMP_TESTLIB_H
#define BUMP_TESTLIB_H

#include "alab.h"
#include "alab_testlib.h"
#include "bump.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- the layout of the statement ---- */

static inline size_t round_to(size_t x, size_t to)
{
    return (x + to - 1) / to * to;
}

/* Bytes from the payload to the canary: n rounded up to a multiple of 8. */
static inline size_t rounded(size_t n)
{
    return round_to(n, sizeof(size_t));
}

static inline size_t word_at(const void *p, ptrdiff_t off)
{
    size_t v;
    memcpy(&v, (const unsigned char *)p + off, sizeof v);
    return v;
}

static inline void word_put(void *p, ptrdiff_t off, size_t v)
{
    memcpy((unsigned char *)p + off, &v, sizeof v);
}

static inline size_t header_size(const void *p)
{
    return word_at(p, -16);
}

static inline size_t header_tag(const void *p)
{
    return word_at(p, -8);
}

static inline size_t canary(const void *p, size_t n)
{
    return word_at(p, (ptrdiff_t)rounded(n));
}

/* Where the payload after a block (p, n) must start: the first 16-byte boundary
 * with room for a header after the canary. */
static inline uintptr_t next_payload(const void *p, size_t n)
{
    return round_to((uintptr_t)p + rounded(n) + 8 + 16, 16);
}

/* First offset in [from, to) of p whose byte is not b, or to. */
static inline size_t first_not(const void *p, size_t from, size_t to, unsigned char b)
{
    const unsigned char *c = p;
    for (size_t i = from; i < to; i++)
        if (c[i] != b)
            return i;
    return to;
}

/* A byte different from the one at p (so that writing it is a real change). */
static inline unsigned char other_byte(const void *p)
{
    return (unsigned char)(*(const unsigned char *)p ^ 0xA5);
}

/* ---- what the pool reports ---- */

typedef struct {
    int calls;       /* messages received since the last capture_reset */
    char last[1024]; /* the last one */
} capture_t;

static inline void capture_fn(void *ctx, const char *message)
{
    capture_t *c = ctx;
    c->calls++;
    snprintf(c->last, sizeof c->last, "%s", message != NULL ? message : "(NULL)");
}

static inline void capture_reset(capture_t *c)
{
    c->calls = 0;
    c->last[0] = '\0';
}

/* A pool whose reports go to c. */
static inline bump_t *pool_with_capture(size_t capacity, capture_t *c)
{
    bump_t *pool = bump_create(capacity);
    ck_assert_msg(pool != NULL, "bump_create(%zu) returned NULL", capacity);
    capture_reset(c);
    bump_set_reporter(pool, capture_fn, c);
    return pool;
}

/* True when msg holds p as %p prints it, not as part of a longer number. */
static inline bool mentions_pointer(const char *msg, const void *p)
{
    char want[32];
    snprintf(want, sizeof want, "%p", p);
    size_t len = strlen(want);
    for (const char *s = strstr(msg, want); s != NULL; s = strstr(s + 1, want))
        if ((s == msg || !isalnum((unsigned char)s[-1])) && !isxdigit((unsigned char)s[len]))
            return true;
    return false;
}

/* True when msg holds n in decimal as a word of its own (not inside a pointer or
 * a longer number). */
static inline bool mentions_number(const char *msg, size_t n)
{
    char want[32];
    snprintf(want, sizeof want, "%zu", n);
    size_t len = strlen(want);
    for (const char *s = strstr(msg, want); s != NULL; s = strstr(s + 1, want))
        if ((s == msg || !isalnum((unsigned char)s[-1])) && !isalnum((unsigned char)s[len]))
            return true;
    return false;
}

static inline const char *error_name(bump_error_t e)
{
    switch (e) {
    case BUMP_OK:
        return "BUMP_OK";
    case BUMP_OVERFLOW:
        return "BUMP_OVERFLOW";
    case BUMP_BAD_TAG:
        return "BUMP_BAD_TAG";
    case BUMP_DOUBLE_FREE:
        return "BUMP_DOUBLE_FREE";
    case BUMP_INVALID:
        return "BUMP_INVALID";
    }
    return "(not a bump_error_t)";
}

/* Asserts that a call of bump_free or bump_check returned want; what describes
 * the call. (What it reported is tests/messages' business.) */
#define ck_assert_verdict(got, want, what)                                                      \
    do {                                                                                        \
        bump_error_t got_ = (got), want_ = (want);                                              \
        ck_assert_msg(got_ == want_, "%s: expected %s, got %s", (what), error_name(want_),     \
                      error_name(got_));                                                        \
    } while (0)

/* xorshift64*: deterministic from a seed. */
static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

#endif

/* fp_testlib.h — helpers shared by the public and hidden tests of exercise 04:
 * arenas fenced by guard bytes (so a pool that writes outside its arena is
 * caught), byte patterns that show when two holders share a block, the stride
 * and capacity the contract prescribes, and a small deterministic PRNG. */
#ifndef FP_TESTLIB_H
#define FP_TESTLIB_H

#include "alab.h"
#include "alab_testlib.h"
#include "fixedpool.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ck_assert_msg, but cheap when it holds: Check's own assertions record their
 * place on every call (a write to a pipe in fork mode), which a byte-by-byte
 * loop cannot afford. The message says what was expected and what came. */
#define require(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

/* ---- the contract's arithmetic, written out once ---- */

static inline size_t want_stride(size_t block_size)
{
    return (block_size + FP_ALIGN - 1) / FP_ALIGN * FP_ALIGN;
}

/* Bytes from arena to the first block. */
static inline size_t want_pad(const void *arena)
{
    uintptr_t a = (uintptr_t)arena;
    return (size_t)((FP_ARENA_ALIGN - a % FP_ARENA_ALIGN) % FP_ARENA_ALIGN);
}

static inline size_t want_capacity(const void *arena, size_t arena_size, size_t block_size)
{
    size_t pad = want_pad(arena);
    return arena_size > pad ? (arena_size - pad) / want_stride(block_size) : 0;
}

/* ---- guarded arenas ---- */

#define GUARD_BYTES 64
#define GUARD_BYTE 0xA5
#define ARENA_MAX (16 * 1024)

/* One buffer per program: guard, up to 15 bytes of misalignment, the arena,
 * guard. The arena handed to the pool is [arena, arena + size); the guard
 * bytes around it are [guarded_buf, arena) and [arena + size, guarded_hi). */
typedef struct {
    unsigned char *arena;
    size_t size;
} guarded_t;

static _Alignas(64) unsigned char guarded_buf[GUARD_BYTES + 16 + ARENA_MAX + GUARD_BYTES];
static unsigned char *guarded_hi = guarded_buf;

/* An arena of size bytes that starts misalign bytes past a 16-byte boundary,
 * every byte of the buffer (arena and guards) set to GUARD_BYTE. */
static inline guarded_t guarded_arena(size_t size, size_t misalign)
{
    require(size <= ARENA_MAX && misalign < 16, "test bug: arena of %zu bytes, misaligned by %zu",
                  size, misalign);
    unsigned char *arena = guarded_buf + GUARD_BYTES + misalign;
    guarded_hi = arena + size + GUARD_BYTES;
    memset(guarded_buf, GUARD_BYTE, (size_t)(guarded_hi - guarded_buf));
    return (guarded_t){arena, size};
}

/* Fails the test when a byte outside [lo, hi) of the buffer changed: the pool
 * wrote where it has no business. lo..hi is the part the pool may use. */
static inline void ck_assert_untouched_outside(const unsigned char *lo, const unsigned char *hi,
                                               const char *what)
{
    for (const unsigned char *p = guarded_buf; p < guarded_hi; p++) {
        if (p >= lo && p < hi)
            continue;
        require(*p == GUARD_BYTE,
                      "%s: the byte at %p, %td bytes %s [%p, %p), the part of the arena the pool "
                      "may use, changed from 0x%02x to 0x%02x: the pool wrote where it has no block",
                      what, (const void *)p, p < lo ? lo - p : p - hi + 1, p < lo ? "before" : "after",
                      (const void *)lo, (const void *)hi, GUARD_BYTE, *p);
    }
}

/* Fails the test when a held block lost its pattern. */
#define ck_assert_pattern(block, size, tag, what)                                              \
    do {                                                                                       \
        size_t at_ = pattern_check((block), (size), (tag));                                    \
        require(at_ == (size),                                                           \
                      "%s: held block %p (%zu bytes) changed at byte %zu: the pool wrote into " \
                      "it (a free-list link that does not fit in its own block?) or handed "   \
                      "out an overlapping block",                                              \
                      (what), (void *)(block), (size_t)(size), at_);                           \
    } while (0)

/* ---- where a block may be ---- */

/* Fails the test unless p is block number k of a pool over [first, ...) with
 * this stride and capacity; returns k. */
static inline size_t block_index(const void *p, const unsigned char *first, size_t stride,
                                 size_t capacity, const char *what)
{
    const unsigned char *b = p;
    require(b >= first && b < first + capacity * stride,
                  "%s: fp_alloc returned %p, outside the %zu blocks [%p, %p) that tile the arena",
                  what, p, capacity, (const void *)first, (const void *)(first + capacity * stride));
    require((size_t)(b - first) % stride == 0,
                  "%s: fp_alloc returned %p, %zu bytes from the first block, which is not a "
                  "multiple of the stride %zu: blocks must sit on a grid",
                  what, p, (size_t)(b - first), stride);
    return (size_t)(b - first) / stride;
}

/* ---- xorshift64*: deterministic from a seed ---- */

static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

#endif

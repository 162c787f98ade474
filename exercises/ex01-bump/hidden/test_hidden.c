/* test_hidden.c — instructor-only tests of exercise 01 (left out of handouts).
 *
 * The same properties as the public tests, on sizes, capacities and damage
 * drawn from the grader's seed (ALAB_SEED): another seed gives another variant.
 * Every failure message gives the seed, so a failure can be replayed. */
#include "bump_testlib.h"

#include <stdlib.h>

typedef struct {
    unsigned char *p;
    size_t n;
    uint32_t pattern;
    bool freed;
} held_t;

/* Checks everything the statement says about a block just handed out. */
static void check_fresh(const unsigned char *p, size_t n, uint64_t seed)
{
    ck_assert_msg((uintptr_t)p % 16 == 0, "seed %llu: bump_alloc(pool, %zu) returned %p, not "
                  "16-byte aligned", (unsigned long long)seed, n, (const void *)p);
    ck_assert_msg(header_size(p) == n && header_tag(p) == BUMP_TAG_LIVE,
                  "seed %llu: block %p of %zu bytes: header reads size %zu, tag %#zx",
                  (unsigned long long)seed, (const void *)p, n, header_size(p), header_tag(p));
    ck_assert_msg(canary(p, n) == BUMP_CANARY, "seed %llu: block %p of %zu bytes: no canary at "
                  "p + %zu", (unsigned long long)seed, (const void *)p, n, rounded(n));
    size_t at = first_not(p, 0, rounded(n), BUMP_FILL);
    ck_assert_msg(at == rounded(n), "seed %llu: fresh block %p of %zu bytes: byte %zu is not %#x",
                  (unsigned long long)seed, (const void *)p, n, at, BUMP_FILL);
}

/* Random sizes until the pool is full, with frees and double frees on the way:
 * every block lands exactly where the layout puts it, and the pool says no
 * exactly when the next block does not fit. */
ALAB_TEST(random_sequences)
{
    uint64_t seed = alab_seed(1), rng = seed | 1;
    enum { MAXHELD = 2048 };
    held_t *h = calloc(MAXHELD, sizeof *h);
    ck_assert_msg(h != NULL, "the test could not allocate its own array");
    capture_t cap;
    for (int round = 0; round < 30; round++) {
        size_t capacity = 64 + (size_t)(rng_next(&rng) % 20000);
        bump_t *pool = pool_with_capture(capacity, &cap);
        uintptr_t end = 0, expect = 0;
        int nheld = 0, refusals = 0;
        while (nheld < MAXHELD && refusals < 8) {
            size_t n = 1 + (size_t)(rng_next(&rng) % (rng_next(&rng) % 4 == 0 ? 2000 : 120));
            unsigned char *p = bump_alloc(pool, n);
            if (nheld == 0 && p != NULL) {
                end = (uintptr_t)p - 16 + capacity; /* the arena starts 16 bytes before */
                expect = (uintptr_t)p;
            }
            bool fits = nheld == 0 ? 16 + rounded(n) + 8 <= capacity
                                   : expect + rounded(n) + 8 <= end;
            ck_assert_msg((p != NULL) == fits,
                          "seed %llu, pool of %zu bytes, %d blocks in: bump_alloc(pool, %zu) %s, "
                          "but the block %s",
                          (unsigned long long)seed, capacity, nheld, n,
                          p != NULL ? "returned a block" : "returned NULL",
                          fits ? "fits in what is left" : "does not fit in what is left");
            if (p == NULL) {
                refusals++;
                continue;
            }
            ck_assert_msg((uintptr_t)p == expect, "seed %llu: after %d blocks the next payload "
                          "belongs at %#zx, bump_alloc(pool, %zu) returned %p",
                          (unsigned long long)seed, nheld, (size_t)expect, n, (void *)p);
            check_fresh(p, n, seed);
            h[nheld] = (held_t){p, n, (uint32_t)rng_next(&rng), false};
            pattern_fill(p, n, h[nheld].pattern);
            nheld++;
            expect = next_payload(p, n);

            uint64_t dice = rng_next(&rng) % 100;
            int k = (int)(rng_next(&rng) % (uint64_t)nheld);
            if (dice < 30 && !h[k].freed) {
                size_t at = pattern_check(h[k].p, h[k].n, h[k].pattern);
                ck_assert_msg(at == h[k].n, "seed %llu: live block %p of %zu bytes changed at "
                              "byte %zu", (unsigned long long)seed, (void *)h[k].p, h[k].n, at);
                ck_assert_verdict(bump_free(pool, h[k].p), BUMP_OK, "bump_free of a healthy block");
                h[k].freed = true;
            } else if (dice < 36 && h[k].freed) {
                ck_assert_verdict(bump_free(pool, h[k].p), BUMP_DOUBLE_FREE, "a double free");
            } else if (dice < 40) {
                ck_assert_verdict(bump_check(pool), BUMP_OK, "bump_check on a healthy pool");
            }
        }
        ck_assert_verdict(bump_check(pool), BUMP_OK, "bump_check on a full pool");
        for (int k = 0; k < nheld; k++)
            if (!h[k].freed) {
                size_t at = pattern_check(h[k].p, h[k].n, h[k].pattern);
                ck_assert_msg(at == h[k].n, "seed %llu: live block %p of %zu bytes changed at "
                              "byte %zu", (unsigned long long)seed, (void *)h[k].p, h[k].n, at);
            }
        bump_destroy(pool);
    }
    free(h);
}

/* Damages a random block in a random way, expects bump_check (and bump_free)
 * to find exactly that block, repairs it, and goes on. */
ALAB_TEST(random_corruption)
{
    uint64_t seed = alab_seed(1), rng = (seed + 31) | 1;
    enum { N = 150 };
    held_t h[N];
    capture_t cap;
    bump_t *pool = pool_with_capture(64 * 1024, &cap);
    for (int i = 0; i < N; i++) {
        size_t n = 1 + (size_t)(rng_next(&rng) % 200);
        h[i] = (held_t){bump_alloc(pool, n), n, (uint32_t)i, false};
        ck_assert_msg(h[i].p != NULL, "bump_alloc(pool, %zu) returned NULL", n);
        pattern_fill(h[i].p, n, h[i].pattern);
    }
    for (int i = 0; i < N; i++)
        if (rng_next(&rng) % 3 == 0) {
            ck_assert_verdict(bump_free(pool, h[i].p), BUMP_OK, "bump_free of a healthy block");
            h[i].freed = true;
        }

    char what[256];
    for (int trial = 0; trial < 300; trial++) {
        int i = (int)(rng_next(&rng) % N), j = i;
        unsigned char *p = h[i].p;
        size_t n = h[i].n;
        int kind = (int)(rng_next(&rng) % 5);
        capture_reset(&cap);
        if (kind == 0 || kind == 1) { /* a byte after the payload, or one of the tag */
            ptrdiff_t off = kind == 0 ? (ptrdiff_t)(n + rng_next(&rng) % (rounded(n) - n + 8))
                                      : -1 - (ptrdiff_t)(rng_next(&rng) % 8);
            bump_error_t want = kind == 0 ? BUMP_OVERFLOW : BUMP_BAD_TAG;
            unsigned char saved = p[off];
            p[off] = other_byte(&p[off]);
            snprintf(what, sizeof what, "seed %llu: bump_check after p[%td] of the %s block %p "
                     "(%zu bytes) was written", (unsigned long long)seed, off,
                     h[i].freed ? "freed" : "live", (void *)p, n);
            ck_assert_verdict(bump_check(pool), want, what);
            ck_assert_msg(mentions_pointer(cap.last, p) && (kind == 1 || mentions_number(cap.last, n)),
                          "%s: the message should name the block%s; it was: \"%s\"", what,
                          kind == 1 ? "" : " and its size", cap.last);
            if (!h[i].freed) {
                capture_reset(&cap);
                snprintf(what, sizeof what, "seed %llu: bump_free(%p) after p[%td] was written",
                         (unsigned long long)seed, (void *)p, off);
                ck_assert_verdict(bump_free(pool, p), want, what);
            }
            p[off] = saved;
        } else if (kind == 2) { /* two damaged blocks: the first in address order is reported */
            j = (int)(rng_next(&rng) % N);
            if (j == i)
                continue;
            int first = i < j ? i : j;
            unsigned char *pi = &h[i].p[h[i].n], *pj = &h[j].p[-1];
            unsigned char si = *pi, sj = *pj;
            *pi = other_byte(pi);
            *pj = other_byte(pj);
            snprintf(what, sizeof what, "seed %llu: bump_check with an overflow of block %d and "
                     "an underflow of block %d", (unsigned long long)seed, i, j);
            ck_assert_verdict(bump_check(pool), first == i ? BUMP_OVERFLOW : BUMP_BAD_TAG, what);
            ck_assert_msg(mentions_pointer(cap.last, h[first].p),
                          "%s: the first damaged block in address order is %p; the message was "
                          "\"%s\"", what, (void *)h[first].p, cap.last);
            *pi = si;
            *pj = sj;
        } else if (kind == 3) { /* free twice, or free inside a block */
            if (h[i].freed) {
                snprintf(what, sizeof what, "seed %llu: a second bump_free of %p (%zu bytes)",
                         (unsigned long long)seed, (void *)p, n);
                ck_assert_verdict(bump_free(pool, p), BUMP_DOUBLE_FREE, what);
                ck_assert_msg(mentions_pointer(cap.last, p) && mentions_number(cap.last, n),
                              "%s: the message should name the block and its size; it was: "
                              "\"%s\"", what, cap.last);
            } else if (rounded(n) >= 16) {
                unsigned char *inside = p + 16 * (1 + rng_next(&rng) % (rounded(n) / 16));
                snprintf(what, sizeof what, "seed %llu: bump_free(%p), %td bytes inside the "
                         "block %p of %zu bytes", (unsigned long long)seed, (void *)inside,
                         inside - p, (void *)p, n);
                ck_assert_verdict(bump_free(pool, inside), BUMP_BAD_TAG, what);
            }
        } else { /* an address that is no payload */
            unsigned char *bad = p + 1 + rng_next(&rng) % 15;
            snprintf(what, sizeof what, "seed %llu: bump_free(%p), not 16-byte aligned",
                     (unsigned long long)seed, (void *)bad);
            ck_assert_verdict(bump_free(pool, bad), BUMP_INVALID, what);
            ck_assert_msg(mentions_pointer(cap.last, bad), "%s: the message should name %p; it "
                          "was: \"%s\"", what, (void *)bad, cap.last);
        }
        snprintf(what, sizeof what, "seed %llu: bump_check after trial %d was repaired",
                 (unsigned long long)seed, trial);
        ck_assert_verdict(bump_check(pool), BUMP_OK, what);
    }
    for (int i = 0; i < N; i++)
        if (!h[i].freed) {
            size_t at = pattern_check(h[i].p, h[i].n, h[i].pattern);
            ck_assert_msg(at == h[i].n, "seed %llu: live block %d (%p) changed at byte %zu while "
                          "the pool checked it", (unsigned long long)seed, i, (void *)h[i].p, at);
            ck_assert_verdict(bump_free(pool, h[i].p), BUMP_OK, "bump_free of a healthy block");
        }
    bump_destroy(pool);
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex01-bump-hidden");
    ALAB_ADD(s, random_sequences, 30);
    ALAB_ADD(s, random_corruption, 30);
    return s;
}

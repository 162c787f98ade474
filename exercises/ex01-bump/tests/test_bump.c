/* test_bump.c — public tests of exercise 01 (bump pool with guards).
 *
 * One test per case; the manifest (exercise.ini) gives each case its points.
 * The tests damage blocks on purpose (a byte past the payload, a byte of the
 * tag), always inside the pool's own memory, and repair them afterwards: a pool
 * that changes nothing when it finds an error is healthy again. */
#include "bump_testlib.h"

#include <stdlib.h>
#include <unistd.h>

/* ---- blocks ---- */

ALAB_TEST(basic)
{
    static const size_t sizes[] = {1, 8, 24, 100, 3, 64, 200, 17, 40, 16};
    enum { N = sizeof sizes / sizeof sizes[0] };
    bump_t *pool = bump_create(4096);
    ck_assert_msg(pool != NULL, "bump_create(4096) returned NULL");
    unsigned char *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = bump_alloc(pool, sizes[i]);
        ck_assert_msg(p[i] != NULL, "bump_alloc(pool, %zu) returned NULL in a fresh pool of 4096 bytes",
                      sizes[i]);
        pattern_fill(p[i], sizes[i], (uint32_t)i);
    }
    for (int i = 0; i < N; i++) {
        size_t at = pattern_check(p[i], sizes[i], (uint32_t)i);
        ck_assert_msg(at == sizes[i],
                      "block %d (%p, %zu bytes) changed at byte %zu after the other blocks were "
                      "allocated and written: blocks overlap",
                      i, (void *)p[i], sizes[i], at);
    }
    ck_assert_verdict(bump_check(pool), BUMP_OK, "bump_check on 10 healthy blocks");
    for (int i = 0; i < N; i++)
        ck_assert_verdict(bump_free(pool, p[i]), BUMP_OK, "bump_free of a healthy block");
    ck_assert_verdict(bump_check(pool), BUMP_OK, "bump_check after every block was freed");
    bump_destroy(pool);
    ck_assert_msg(bump_create(0) == NULL, "bump_create(0) must return NULL");
    bump_destroy(NULL);
}

ALAB_TEST(alignment)
{
    enum { MAX = 200 };
    bump_t *pool = bump_create(64 * 1024);
    ck_assert_msg(pool != NULL, "bump_create(65536) returned NULL");
    unsigned char *p[MAX + 1];
    for (size_t n = 1; n <= MAX; n++) {
        p[n] = bump_alloc(pool, n);
        ck_assert_msg(p[n] != NULL, "bump_alloc(pool, %zu) returned NULL", n);
        ck_assert_msg((uintptr_t)p[n] % 16 == 0,
                      "bump_alloc(pool, %zu) returned %p, which is not 16-byte aligned "
                      "(address %% 16 = %zu)",
                      n, (void *)p[n], (size_t)((uintptr_t)p[n] % 16));
        pattern_fill(p[n], n, (uint32_t)n);
    }
    for (size_t n = 1; n <= MAX; n++) {
        size_t at = pattern_check(p[n], n, (uint32_t)n);
        ck_assert_msg(at == n, "the block of %zu bytes at %p changed at byte %zu once every "
                      "other block was written: blocks overlap", n, (void *)p[n], at);
    }
    ck_assert_verdict(bump_check(pool), BUMP_OK,
                      "bump_check after 200 blocks of 1 to 200 bytes were filled exactly");
    bump_destroy(pool);
}

/* Header and canary of sizes that need no rounding, and where the next block goes. */
ALAB_TEST(layout)
{
    static const size_t sizes[] = {8, 16, 24, 32, 40, 48, 56, 64, 128, 1000};
    enum { N = sizeof sizes / sizeof sizes[0] };
    bump_t *pool = bump_create(8192);
    ck_assert_msg(pool != NULL, "bump_create(8192) returned NULL");
    unsigned char *p[N];
    for (int i = 0; i < N; i++) {
        size_t n = sizes[i];
        p[i] = bump_alloc(pool, n);
        ck_assert_msg(p[i] != NULL, "bump_alloc(pool, %zu) returned NULL", n);
        ck_assert_msg(header_tag(p[i]) == BUMP_TAG_LIVE,
                      "block %p of %zu bytes: the word at p - 8 should be the tag %#x, it is %#zx",
                      (void *)p[i], n, BUMP_TAG_LIVE, header_tag(p[i]));
        ck_assert_msg(header_size(p[i]) == n,
                      "block %p of %zu bytes: the word at p - 16 should be the size %zu, it is %zu",
                      (void *)p[i], n, n, header_size(p[i]));
        ck_assert_msg(canary(p[i], n) == BUMP_CANARY,
                      "block %p of %zu bytes: the size_t at p + %zu should be the canary %#x, "
                      "it is %#zx",
                      (void *)p[i], n, n, BUMP_CANARY, canary(p[i], n));
        if (i > 0)
            ck_assert_msg((uintptr_t)p[i] == next_payload(p[i - 1], sizes[i - 1]),
                          "after the block %p of %zu bytes the next payload belongs at %#zx "
                          "(canary, then a header at the next 16-byte boundary), not at %p",
                          (void *)p[i - 1], sizes[i - 1],
                          (size_t)next_payload(p[i - 1], sizes[i - 1]), (void *)p[i]);
    }
    for (int i = 0; i < N; i += 2) {
        ck_assert_verdict(bump_free(pool, p[i]), BUMP_OK, "bump_free of a healthy block");
        ck_assert_msg(header_tag(p[i]) == BUMP_TAG_FREED,
                      "after bump_free(%p) the tag should read %#x, it is %#zx", (void *)p[i],
                      BUMP_TAG_FREED, header_tag(p[i]));
        ck_assert_msg(header_size(p[i]) == sizes[i] && canary(p[i], sizes[i]) == BUMP_CANARY,
                      "bump_free(%p) changed the size (%zu, was %zu) or the canary (%#zx): only "
                      "the tag and the payload change",
                      (void *)p[i], header_size(p[i]), sizes[i], canary(p[i], sizes[i]));
    }
    bump_destroy(pool);
}

/* Sizes that are not multiples of 8: the canary moves to the next multiple. */
ALAB_TEST(rounding)
{
    bump_t *pool = bump_create(8192);
    ck_assert_msg(pool != NULL, "bump_create(8192) returned NULL");
    unsigned char *prev = NULL;
    size_t prev_n = 0;
    for (size_t n = 1; n <= 64; n++) {
        unsigned char *p = bump_alloc(pool, n);
        ck_assert_msg(p != NULL, "bump_alloc(pool, %zu) returned NULL", n);
        ck_assert_msg(header_size(p) == n,
                      "block %p of %zu bytes: the header should hold the size asked for, %zu, "
                      "not %zu", (void *)p, n, n, header_size(p));
        ck_assert_msg(canary(p, n) == BUMP_CANARY,
                      "block %p of %zu bytes: the canary belongs at p + %zu (%zu rounded up to "
                      "a multiple of 8); found %#zx there",
                      (void *)p, n, rounded(n), n, canary(p, n));
        size_t at = first_not(p, n, rounded(n), BUMP_FILL);
        ck_assert_msg(at == rounded(n),
                      "block %p of %zu bytes: the padding byte p[%zu] before the canary should "
                      "hold %#x, it holds %#x",
                      (void *)p, n, at, BUMP_FILL, at < rounded(n) ? p[at] : 0);
        if (prev != NULL)
            ck_assert_msg((uintptr_t)p == next_payload(prev, prev_n),
                          "after the block %p of %zu bytes (canary at +%zu) the next payload "
                          "belongs at %#zx, not at %p",
                          (void *)prev, prev_n, rounded(prev_n), (size_t)next_payload(prev, prev_n),
                          (void *)p);
        prev = p;
        prev_n = n;
    }
    bump_destroy(pool);
}

ALAB_TEST(fill)
{
    bump_t *pool = bump_create(16384);
    ck_assert_msg(pool != NULL, "bump_create(16384) returned NULL");
    for (size_t n = 1; n <= 100; n += 3) {
        unsigned char *p = bump_alloc(pool, n);
        ck_assert_msg(p != NULL, "bump_alloc(pool, %zu) returned NULL", n);
        size_t at = first_not(p, 0, n, BUMP_FILL);
        ck_assert_msg(at == n, "fresh block %p of %zu bytes: byte %zu is %#x, not %#x: fill "
                      "the pool with %#x in bump_create", (void *)p, n, at, p[at], BUMP_FILL,
                      BUMP_FILL);
        pattern_fill(p, n, (uint32_t)n);
        ck_assert_verdict(bump_free(pool, p), BUMP_OK, "bump_free of a healthy block");
        at = first_not(p, 0, n, BUMP_FILL);
        ck_assert_msg(at == n, "block %p of %zu bytes after bump_free: byte %zu is %#x, not "
                      "%#x: bump_free must fill the payload again, so that a dangling "
                      "pointer reads junk", (void *)p, n, at, p[at], BUMP_FILL);
    }
    bump_destroy(pool);
}

ALAB_TEST(exhaustion)
{
    /* 24-byte blocks take 16 + 24 + 8 = 48 bytes each: 21 fit in 1024 and in 1008 */
    static const size_t caps[] = {1024, 1008};
    for (int k = 0; k < 2; k++) {
        bump_t *pool = bump_create(caps[k]);
        ck_assert_msg(pool != NULL, "bump_create(%zu) returned NULL", caps[k]);
        int got = 0;
        while (got < 100 && bump_alloc(pool, 24) != NULL)
            got++;
        ck_assert_msg(got == 21,
                      "a pool of %zu bytes should hold exactly 21 blocks of 24 bytes (48 bytes "
                      "each with header and canary), then return NULL; it gave %d%s",
                      caps[k], got, got == 100 ? " and kept going" : "");
        ck_assert_msg(bump_alloc(pool, 1) == NULL,
                      "the pool of %zu bytes is full, yet bump_alloc(pool, 1) returned a block",
                      caps[k]);
        ck_assert_verdict(bump_check(pool), BUMP_OK, "bump_check on a full pool");
        bump_destroy(pool);
    }

    bump_t *pool = bump_create(48);
    ck_assert_msg(pool != NULL, "bump_create(48) returned NULL");
    ck_assert_msg(bump_alloc(pool, 24) != NULL,
                  "bump_create(48): a block of 24 bytes (48 with its guards) fits exactly");
    ck_assert_msg(bump_alloc(pool, 1) == NULL, "bump_create(48) then bump_alloc(24): full, but "
                  "bump_alloc(pool, 1) returned a block");
    bump_destroy(pool);
    pool = bump_create(47);
    ck_assert_msg(pool != NULL, "bump_create(47) returned NULL");
    ck_assert_msg(bump_alloc(pool, 17) == NULL, "bump_create(47): a block of 17 bytes takes "
                  "16 + 24 + 8 = 48 bytes with its rounding and guards, yet it was handed out");
    bump_destroy(pool);

    static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 5, SIZE_MAX - 16, SIZE_MAX / 2, 1001};
    pool = bump_create(1024);
    ck_assert_msg(pool != NULL, "bump_create(1024) returned NULL");
    ck_assert_msg(bump_alloc(pool, 0) == NULL, "bump_alloc(pool, 0) must return NULL");
    for (size_t k = 0; k < sizeof huge / sizeof huge[0]; k++)
        ck_assert_msg(bump_alloc(pool, huge[k]) == NULL,
                      "bump_alloc(pool, %zu) on a pool of 1024 bytes returned a block: does a "
                      "size computation overflow (n + 7 wraps around near SIZE_MAX)?", huge[k]);
    ck_assert_msg(bump_alloc(pool, 1000) != NULL,
                  "after refusing requests too big for it, a pool of 1024 bytes must still "
                  "hand out 1000 bytes (16 + 1000 + 8 = 1024)");
    ck_assert_verdict(bump_check(pool), BUMP_OK, "bump_check after the refused requests");
    bump_destroy(pool);
}

/* ---- what bump_free and bump_check detect ---- */

static const size_t probe_sizes[] = {5, 8, 13, 24, 100};
enum { NPROBES = sizeof probe_sizes / sizeof probe_sizes[0] };

/* Damages byte off of block b (relative to its payload), expects want from both
 * bump_free and bump_check, repairs it, and expects both to be happy again. */
static void damage_and_repair(bump_t *pool, unsigned char *b, size_t n, ptrdiff_t off,
                              bump_error_t want, const char *what)
{
    char desc[160];
    unsigned char saved = b[off];
    b[off] = other_byte(&b[off]);
    snprintf(desc, sizeof desc, "bump_free of a %zu-byte block after %s (p[%td] written)", n, what, off);
    ck_assert_verdict(bump_free(pool, b), want, desc);
    snprintf(desc, sizeof desc, "bump_check after %s of a %zu-byte block (p[%td] written)", what, n, off);
    ck_assert_verdict(bump_check(pool), want, desc);
    b[off] = saved;
    snprintf(desc, sizeof desc, "bump_check once the byte damaged by %s was repaired (the "
             "failed bump_free must have changed nothing)", what);
    ck_assert_verdict(bump_check(pool), BUMP_OK, desc);
}

ALAB_TEST(overflow)
{
    capture_t cap;
    for (int k = 0; k < NPROBES; k++) {
        size_t n = probe_sizes[k];
        bump_t *pool = pool_with_capture(4096, &cap);
        unsigned char *a = bump_alloc(pool, 32), *b = bump_alloc(pool, n), *c = bump_alloc(pool, 32);
        ck_assert_msg(a != NULL && b != NULL && c != NULL, "bump_alloc returned NULL");
        pattern_fill(b, n, 7);
        damage_and_repair(pool, b, n, (ptrdiff_t)n, BUMP_OVERFLOW, "an overflow by one byte");
        damage_and_repair(pool, b, n, (ptrdiff_t)rounded(n) + 7, BUMP_OVERFLOW,
                          "a write into the canary's last byte");
        ck_assert_verdict(bump_free(pool, b), BUMP_OK, "bump_free of the repaired block");
        ck_assert_verdict(bump_free(pool, a), BUMP_OK, "bump_free of the block before it");
        ck_assert_verdict(bump_free(pool, c), BUMP_OK, "bump_free of the block after it");
        bump_destroy(pool);
    }
}

ALAB_TEST(underflow)
{
    capture_t cap;
    for (int k = 0; k < NPROBES; k++) {
        size_t n = probe_sizes[k];
        bump_t *pool = pool_with_capture(4096, &cap);
        unsigned char *a = bump_alloc(pool, 32), *b = bump_alloc(pool, n), *c = bump_alloc(pool, 200);
        ck_assert_msg(a != NULL && b != NULL && c != NULL, "bump_alloc returned NULL");
        damage_and_repair(pool, b, n, -1, BUMP_BAD_TAG, "an underflow by one byte");
        damage_and_repair(pool, b, n, -8, BUMP_BAD_TAG, "an underflow by eight bytes");
        ck_assert_verdict(bump_free(pool, b), BUMP_OK, "bump_free of the repaired block");
        ck_assert_verdict(bump_free(pool, a), BUMP_OK, "bump_free of the block before it");
        ck_assert_verdict(bump_free(pool, c), BUMP_OK, "bump_free of the block after it");
        bump_destroy(pool);
    }
}

ALAB_TEST(double_free)
{
    capture_t cap;
    bump_t *pool = pool_with_capture(4096, &cap);
    unsigned char *a = bump_alloc(pool, 40), *b = bump_alloc(pool, 13), *c = bump_alloc(pool, 64);
    ck_assert_msg(a != NULL && b != NULL && c != NULL, "bump_alloc returned NULL");
    ck_assert_verdict(bump_free(pool, b), BUMP_OK, "the first bump_free of a block");
    ck_assert_verdict(bump_free(pool, b), BUMP_DOUBLE_FREE, "a second bump_free of the same block");
    ck_assert_verdict(bump_check(pool), BUMP_OK, "bump_check (a freed block is no error)");
    ck_assert_verdict(bump_free(pool, a), BUMP_OK, "bump_free of another block");
    ck_assert_verdict(bump_free(pool, c), BUMP_OK, "bump_free of a third block");
    ck_assert_verdict(bump_free(pool, a), BUMP_DOUBLE_FREE, "a second bump_free of the first block");
    ck_assert_verdict(bump_free(pool, c), BUMP_DOUBLE_FREE, "a second bump_free of the last block");
    ck_assert_verdict(bump_check(pool), BUMP_OK, "bump_check after three double frees");
    bump_destroy(pool);
}

ALAB_TEST(invalid)
{
    capture_t cap;
    bump_t *pool = pool_with_capture(4096, &cap);
    bump_t *other = bump_create(4096);
    ck_assert_msg(other != NULL, "bump_create(4096) returned NULL");
    unsigned char *a = bump_alloc(pool, 64), *b = bump_alloc(pool, 24);
    unsigned char *elsewhere = bump_alloc(other, 24);
    ck_assert_msg(a != NULL && b != NULL && elsewhere != NULL, "bump_alloc returned NULL");
    long on_stack[8] = {0};
    unsigned char *from_malloc = malloc(64);
    ck_assert_msg(from_malloc != NULL, "the test could not allocate its own buffer");

    ck_assert_verdict(bump_free(pool, NULL), BUMP_OK, "bump_free(pool, NULL)");
    ck_assert_verdict(bump_free(pool, on_stack), BUMP_INVALID, "bump_free of a stack address");
    ck_assert_verdict(bump_free(pool, from_malloc), BUMP_INVALID, "bump_free of a block from malloc");
    ck_assert_verdict(bump_free(pool, elsewhere), BUMP_INVALID, "bump_free of another pool's block");
    ck_assert_verdict(bump_free(pool, a + 1), BUMP_INVALID, "bump_free(p + 1), not 16-byte aligned");
    ck_assert_verdict(bump_free(pool, a + 8), BUMP_INVALID, "bump_free(p + 8), not 16-byte aligned");
    ck_assert_verdict(bump_free(pool, a - 16), BUMP_INVALID,
                      "bump_free of the first block's header, before any payload");
    ck_assert_verdict(bump_free(pool, b + 48), BUMP_INVALID,
                      "bump_free of an address past the last block (memory not handed out yet)");
    ck_assert_verdict(bump_free(pool, a + 16), BUMP_BAD_TAG,
                      "bump_free(p + 16), inside a 64-byte block (the word before it is no tag)");
    ck_assert_verdict(bump_check(pool), BUMP_OK, "bump_check after the refused frees");
    ck_assert_verdict(bump_free(pool, a), BUMP_OK, "bump_free of a real block");
    ck_assert_verdict(bump_free(pool, b), BUMP_OK, "bump_free of a real block");
    free(from_malloc);
    bump_destroy(other);
    bump_destroy(pool);
}

/* ---- bump_check walks every block ---- */

enum { CHECK_BLOCKS = 100 };
static size_t check_size(int i)
{
    return 1 + (size_t)(i * 37 % 150);
}

/* Damages block i at off, expects bump_check to name it with want, repairs. */
static void check_finds(bump_t *pool, capture_t *cap, unsigned char **p, int i, ptrdiff_t off,
                        bump_error_t want, const char *what)
{
    char desc[200];
    unsigned char saved = p[i][off];
    p[i][off] = other_byte(&p[i][off]);
    capture_reset(cap);
    snprintf(desc, sizeof desc, "bump_check with %s of block %d of %d (%zu bytes, %s)", what, i,
             CHECK_BLOCKS, check_size(i), i % 3 == 0 ? "freed" : "live");
    ck_assert_verdict(bump_check(pool), want, desc);
    ck_assert_msg(mentions_pointer(cap->last, p[i]),
                  "%s: the message should name the damaged block %p; it was: \"%s\"", desc,
                  (void *)p[i], cap->last);
    p[i][off] = saved;
}

ALAB_TEST(check)
{
    capture_t cap;
    bump_t *pool = pool_with_capture(64 * 1024, &cap);
    unsigned char *p[CHECK_BLOCKS];
    for (int i = 0; i < CHECK_BLOCKS; i++) {
        p[i] = bump_alloc(pool, check_size(i));
        ck_assert_msg(p[i] != NULL, "bump_alloc(pool, %zu) returned NULL", check_size(i));
        pattern_fill(p[i], check_size(i), (uint32_t)i);
    }
    for (int i = 0; i < CHECK_BLOCKS; i += 3)
        ck_assert_verdict(bump_free(pool, p[i]), BUMP_OK, "bump_free of a healthy block");
    capture_reset(&cap);
    bump_error_t healthy = bump_check(pool);
    ck_assert_msg(healthy == BUMP_OK,
                  "bump_check on 100 healthy blocks (every third one freed) returned %s and said "
                  "\"%s\": it took a healthy block for a damaged one",
                  error_name(healthy), cap.last);

    check_finds(pool, &cap, p, 57, (ptrdiff_t)check_size(57), BUMP_OVERFLOW, "an overflow");
    check_finds(pool, &cap, p, 80, -1, BUMP_BAD_TAG, "an underflow");
    check_finds(pool, &cap, p, 99, (ptrdiff_t)rounded(check_size(99)) + 2, BUMP_OVERFLOW,
                "an overflow of the last block");
    check_finds(pool, &cap, p, 1, (ptrdiff_t)check_size(1), BUMP_OVERFLOW, "an overflow");
    check_finds(pool, &cap, p, 42, -3, BUMP_BAD_TAG, "an underflow");

    /* two damaged blocks: the first in address order is the one reported */
    unsigned char s30 = p[30][check_size(30)], s70 = p[70][-1];
    p[30][check_size(30)] = other_byte(&p[30][check_size(30)]);
    p[70][-1] = other_byte(&p[70][-1]);
    capture_reset(&cap);
    ck_assert_verdict(bump_check(pool), BUMP_OVERFLOW,
                      "bump_check with an overflow of block 30 and an underflow of block 70");
    ck_assert_msg(mentions_pointer(cap.last, p[30]),
                  "bump_check with blocks 30 and 70 damaged should report block 30 (%p), the "
                  "first in address order; it said: \"%s\"", (void *)p[30], cap.last);
    p[30][check_size(30)] = s30;
    p[70][-1] = s70;
    ck_assert_verdict(bump_check(pool), BUMP_OK, "bump_check once every damage was repaired");
    for (int i = 0; i < CHECK_BLOCKS; i++)
        if (i % 3 != 0) {
            size_t at = pattern_check(p[i], check_size(i), (uint32_t)i);
            ck_assert_msg(at == check_size(i), "block %d (%p) changed at byte %zu: bump_check "
                          "or bump_free wrote into a live block", i, (void *)p[i], at);
        }
    bump_destroy(pool);
}

/* ---- messages ---- */

/* Expects one message naming p (and size, when size != 0) since the last reset. */
static void said(const capture_t *cap, const void *p, size_t size, const char *what)
{
    ck_assert_msg(cap->calls == 1, "%s: expected one message to the reporter, got %d", what,
                  cap->calls);
    ck_assert_msg(mentions_pointer(cap->last, p), "%s: the message should name the pointer %p; "
                  "it was: \"%s\"", what, p, cap->last);
    if (size != 0)
        ck_assert_msg(mentions_number(cap->last, size), "%s: the message should give the "
                      "block's size, %zu bytes; it was: \"%s\"", what, size, cap->last);
}

/* What the default reporter writes on stderr while f runs. */
static void stderr_of(void (*f)(bump_t *, unsigned char *), bump_t *pool, unsigned char *p,
                      char *out, size_t outsz)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    ck_assert_msg(tmp != NULL, "the test could not create a temporary file");
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    f(pool, p);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t len = fread(out, 1, outsz - 1, tmp);
    out[len] = '\0';
    fclose(tmp);
}

static void free_it(bump_t *pool, unsigned char *p)
{
    (void)bump_free(pool, p);
}

ALAB_TEST(messages)
{
    capture_t cap;
    bump_t *pool = pool_with_capture(4096, &cap);
    unsigned char *a = bump_alloc(pool, 24), *b = bump_alloc(pool, 40), *c = bump_alloc(pool, 13);
    ck_assert_msg(a != NULL && b != NULL && c != NULL, "bump_alloc returned NULL");

    a[24] = other_byte(&a[24]);
    ck_assert_verdict(bump_free(pool, a), BUMP_OVERFLOW, "bump_free after an overflow");
    said(&cap, a, 24, "bump_free of a 24-byte block after an overflow");
    capture_reset(&cap);
    ck_assert_verdict(bump_check(pool), BUMP_OVERFLOW, "bump_check after an overflow");
    said(&cap, a, 24, "bump_check after an overflow of a 24-byte block");
    a[24] = other_byte(&a[24]); /* the xor undoes itself */

    capture_reset(&cap);
    ck_assert_verdict(bump_free(pool, b), BUMP_OK, "bump_free of a healthy block");
    ck_assert_msg(cap.calls == 0, "a bump_free that found nothing wrong sent a message: \"%s\"",
                  cap.last);
    ck_assert_verdict(bump_free(pool, b), BUMP_DOUBLE_FREE, "a second bump_free");
    said(&cap, b, 40, "a double free of a 40-byte block");

    capture_reset(&cap);
    c[-1] = other_byte(&c[-1]);
    ck_assert_verdict(bump_free(pool, c), BUMP_BAD_TAG, "bump_free after an underflow");
    said(&cap, c, 0, "bump_free after an underflow");
    c[-1] = other_byte(&c[-1]);

    capture_reset(&cap);
    long on_stack = 0;
    ck_assert_verdict(bump_free(pool, &on_stack), BUMP_INVALID, "bump_free of a stack address");
    said(&cap, &on_stack, 0, "bump_free of a stack address");

    capture_reset(&cap);
    ck_assert_verdict(bump_check(pool), BUMP_OK, "bump_check on a repaired pool");
    ck_assert_msg(cap.calls == 0, "a bump_check that found nothing wrong sent a message: \"%s\"",
                  cap.last);

    /* without a reporter, and after bump_set_reporter(pool, NULL, NULL): stderr */
    bump_t *plain = bump_create(1024);
    ck_assert_msg(plain != NULL, "bump_create(1024) returned NULL");
    unsigned char *d = bump_alloc(plain, 16);
    ck_assert_msg(d != NULL, "bump_alloc returned NULL");
    ck_assert_verdict(bump_free(plain, d), BUMP_OK, "bump_free of a healthy block");
    char out[2048];
    stderr_of(free_it, plain, d, out, sizeof out);
    ck_assert_msg(mentions_pointer(out, d), "with no reporter set, a double free of %p should "
                  "be told on stderr; stderr got: \"%s\"", (void *)d, out);
    bump_set_reporter(pool, NULL, NULL);
    capture_reset(&cap);
    stderr_of(free_it, pool, b, out, sizeof out);
    ck_assert_msg(cap.calls == 0 && mentions_pointer(out, b),
                  "after bump_set_reporter(pool, NULL, NULL), a double free of %p should be "
                  "told on stderr again, not to the old reporter; stderr got: \"%s\"",
                  (void *)b, out);
    bump_destroy(plain);
    bump_destroy(pool);
}

/* Destroyed with blocks still live: only memcheck can tell a leak. */
ALAB_TEST(destroy_live)
{
    for (int k = 0; k < 10; k++) {
        bump_t *pool = bump_create(4096 * (size_t)(k + 1));
        ck_assert_msg(pool != NULL, "bump_create returned NULL");
        for (int i = 0; i < 20; i++)
            ck_assert_msg(bump_alloc(pool, 1 + (size_t)i * 7) != NULL, "bump_alloc returned NULL");
        bump_destroy(pool);
    }
}

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex01-bump");
    ALAB_ADD(s, basic, 10);
    ALAB_ADD(s, alignment, 10);
    ALAB_ADD(s, layout, 10);
    ALAB_ADD(s, rounding, 10);
    ALAB_ADD(s, fill, 10);
    ALAB_ADD(s, exhaustion, 10);
    ALAB_ADD(s, overflow, 10);
    ALAB_ADD(s, underflow, 10);
    ALAB_ADD(s, double_free, 10);
    ALAB_ADD(s, invalid, 10);
    ALAB_ADD(s, check, 10);
    ALAB_ADD(s, messages, 10);
    ALAB_ADD(s, destroy_live, 10);
    return s;
}

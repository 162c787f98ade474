/* test_mm.c — public tests of exercise 02 (explicit free list allocator).
 *
 * Unit tests of mm_* first, each with mm_check after every step; then one test
 * per trace in tests/traces/, run by the kit's trace engine, which checks every
 * operation (alignment, inside the heap, no overlap, bytes kept) and names the
 * trace and the operation that broke.
 */
#include "mm_testlib.h"

#include <string.h>

static void checked(const char *after)
{
    char said[200];
    int c = trace_call_checker(mm_check, said, sizeof said);
    ck_assert_msg(c == 0, "after %s, mm_check returned %d (the heap is inconsistent) and said: %s",
                  after, c, said[0] != '\0' ? said : "nothing");
}

/* A fresh heap, checked. */
static void fresh(void)
{
    ck_assert_msg(mm_reset_heap() == 0, "mm_init returned -1 on an empty heap");
    checked("mm_init on an empty heap");
}

/* q, which `call` returned for size bytes, is a block: not NULL, aligned, inside the heap. */
static void block_ok(const char *call, const void *q, size_t size)
{
    ck_assert_msg(q != NULL, "%s returned NULL on a heap of %zu bytes", call, mem_heapsize());
    ck_assert_msg((uintptr_t)q % MM_ALIGN == 0,
                  "%s returned %p, which is not aligned to %d bytes", call, q, MM_ALIGN);
    ck_assert_msg(mm_in_heap(q, size),
                  "%s returned %p, but the heap is %p..%p: the block is not inside it", call, q,
                  mem_heap_lo(), mem_heap_hi());
}

static void *alloc_checked(size_t size)
{
    void *p = mm_malloc(size);
    char call[64];
    snprintf(call, sizeof call, "mm_malloc(%zu)", size);
    block_ok(call, p, size);
    checked("mm_malloc");
    return p;
}

static void fill(void *p, size_t n, unsigned char tag)
{
    for (size_t i = 0; i < n; i++)
        ((unsigned char *)p)[i] = (unsigned char)(tag + i * 7);
}

/* first changed offset, or n */
static size_t changed_at(const void *p, size_t n, unsigned char tag)
{
    for (size_t i = 0; i < n; i++)
        if (((const unsigned char *)p)[i] != (unsigned char)(tag + i * 7))
            return i;
    return n;
}

/* ---- unit tests ---- */

ALAB_TEST(init)
{
    fresh();
    char *first = alloc_checked(1);
    first[0] = 'x';
    mm_free(NULL);
    checked("mm_free(NULL)");
    ck_assert_msg(mm_malloc(0) == NULL, "mm_malloc(0) must return NULL");
    char *spare = alloc_checked(200); /* a free block on the list when the heap is reset */
    mm_free(spare);
    checked("mm_free");
    /* a second heap starts as empty as the first: nothing of the old one survives */
    ck_assert_msg(mm_reset_heap() == 0, "mm_init returned -1 on an emptied heap");
    checked("mm_init on a heap emptied after use (it must forget the old heap, its free list too)");
    char *again = alloc_checked(1);
    ck_assert_msg(again == first,
                  "after mm_init on an emptied heap, the first block was at %p, but at %p "
                  "the first time: mm_init must forget the old heap (its free list too)",
                  (void *)again, (void *)first);
    mm_free(again);
    checked("mm_free");
}

ALAB_TEST(alignment)
{
    fresh();
    void *held[64];
    for (size_t i = 0; i < 64; i++) {
        size_t size = 1 + i * 13 % 200;
        held[i] = alloc_checked(size);
        fill(held[i], size, (unsigned char)i);
    }
    for (size_t i = 0; i < 64; i += 2) {
        mm_free(held[i]);
        checked("mm_free");
    }
    for (size_t i = 0; i < 64; i += 2)
        held[i] = alloc_checked(1 + i * 29 % 300);
    for (size_t i = 1; i < 64; i += 2) {
        size_t size = 1 + i * 13 % 200, at = changed_at(held[i], size, (unsigned char)i);
        ck_assert_msg(at == size, "block %zu (%zu bytes at %p) changed at byte %zu while it "
                      "was allocated", i, size, held[i], at);
    }
}

ALAB_TEST(basic)
{
    fresh();
    enum { N = 200 };
    void *held[N];
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < N; i++) {
            size_t size = 8 + (i * 37 + (size_t)round * 11) % 500;
            held[i] = alloc_checked(size);
            fill(held[i], size, (unsigned char)(i + (size_t)round));
        }
        for (size_t i = 0; i < N; i++) {
            size_t size = 8 + (i * 37 + (size_t)round * 11) % 500;
            size_t at = changed_at(held[i], size, (unsigned char)(i + (size_t)round));
            ck_assert_msg(at == size, "round %d: block %zu (%zu bytes at %p) changed at byte "
                          "%zu: another block overlaps it", round, i, size, held[i], at);
        }
        for (size_t i = 0; i < N; i++) {
            mm_free(held[(i * 7) % N]);
            checked("mm_free");
        }
    }
    /* with everything freed, a block that fits in a freed one needs no more heap */
    size_t heap = mem_heapsize();
    for (size_t i = 0; i < 10; i++)
        mm_free(alloc_checked(8 + (i * 37) % 500));
    ck_assert_msg(mem_heapsize() == heap,
                  "the heap grew from %zu to %zu bytes for a block that fits in the freed "
                  "ones: mm_malloc must look for a free block before it grows the heap",
                  heap, mem_heapsize());
}

ALAB_TEST(split)
{
    fresh();
    char *big = alloc_checked(4000);
    alloc_checked(16); /* keeps big's block from merging with the heap's end */
    mm_free(big);
    checked("mm_free of a 4000-byte block");
    size_t heap = mem_heapsize();
    for (int i = 0; i < 10; i++) {
        char *p = alloc_checked(100);
        ck_assert_msg(mem_heapsize() == heap,
                      "mm_malloc(100) number %d grew the heap from %zu to %zu bytes although "
                      "a free block of 4000 bytes had room: split a large free block and "
                      "keep the rest free", i + 1, heap, mem_heapsize());
        fill(p, 100, (unsigned char)i);
    }
}

/* Three neighbours of 3000 bytes between two allocated blocks; freed in the
 * given order, they must merge into one block that mm_malloc(need) takes. */
static void coalesce_case(const int order[], int n, size_t need, const char *what)
{
    fresh();
    alloc_checked(48); /* an allocated block before the three */
    char *b[3];
    for (int i = 0; i < 3; i++)
        b[i] = alloc_checked(3000);
    alloc_checked(48); /* and one after */
    for (int i = 0; i < n; i++) {
        mm_free(b[order[i]]);
        checked("mm_free");
    }
    size_t heap = mem_heapsize();
    char *p = alloc_checked(need);
    ck_assert_msg(p == b[0],
                  "%s: mm_malloc(%zu) returned %p, not the merged block at %p; the heap "
                  "went from %zu to %zu bytes. A freed block must merge at once with its free "
                  "neighbours", what, need, (void *)p, (void *)b[0], heap, mem_heapsize());
    fill(p, need, 3);
    checked("mm_malloc in a merged block");
}

ALAB_TEST(coalesce_prev)
{
    static const int order[] = {0, 1};
    coalesce_case(order, 2, 5000, "the first block freed, then the second (merge with the "
                  "previous block)");
}

ALAB_TEST(coalesce_next)
{
    static const int order[] = {1, 0};
    coalesce_case(order, 2, 5000, "the second block freed, then the first (merge with the "
                  "next block)");
}

ALAB_TEST(coalesce_both)
{
    static const int order[] = {0, 2, 1};
    coalesce_case(order, 3, 8500, "the first and third blocks freed, then the middle one "
                  "(merge with both neighbours)");
}

ALAB_TEST(realloc_keeps)
{
    fresh();
    char *p = mm_realloc(NULL, 100);
    ck_assert_msg(p != NULL && (uintptr_t)p % MM_ALIGN == 0,
                  "mm_realloc(NULL, 100) must act as mm_malloc(100); it returned %p", (void *)p);
    fill(p, 100, 9);
    char *other = alloc_checked(50); /* p cannot always grow in place */
    fill(other, 50, 1);
    static const size_t sizes[] = {200, 3000, 3001, 150, 40, 5000, 100};
    size_t cur = 100;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t want = sizes[k], keep = cur < want ? cur : want;
        char *q = mm_realloc(p, want);
        char call[80];
        snprintf(call, sizeof call, "mm_realloc(%p, %zu)", (void *)p, want);
        block_ok(call, q, want);
        size_t at = changed_at(q, keep, 9);
        ck_assert_msg(at == keep, "mm_realloc from %zu to %zu bytes lost the block's "
                      "contents at byte %zu (of the %zu it must keep)", cur, want, at, keep);
        checked("mm_realloc");
        fill(q, want, 9);
        p = q;
        cur = want;
    }
    ck_assert_msg(changed_at(other, 50, 1) == 50,
                  "resizing a block changed the bytes of another block");
    ck_assert_msg(mm_realloc(p, 0) == NULL, "mm_realloc(p, 0) must free p and return NULL");
    checked("mm_realloc(p, 0)");
}

ALAB_TEST(heap_full)
{
    fresh();
    ck_assert_msg(mm_malloc(MEM_MAX_HEAP) == NULL,
                  "mm_malloc(%zu), the whole heap's cap, must return NULL", MEM_MAX_HEAP);
    ck_assert_msg(mm_malloc(SIZE_MAX - 8) == NULL,
                  "mm_malloc(SIZE_MAX - 8) must return NULL (mind the overflow when adding "
                  "the tags)");
    checked("mm_malloc calls that failed");
    char *p = alloc_checked(100);
    fill(p, 100, 4);
    ck_assert_msg(mm_realloc(p, SIZE_MAX / 2) == NULL,
                  "mm_realloc(p, SIZE_MAX / 2) must return NULL");
    ck_assert_msg(changed_at(p, 100, 4) == 100,
                  "a failed mm_realloc must leave the block as it was");
    checked("a failed mm_realloc");
    /* the heap fills up to its cap, then mm_malloc says so with NULL */
    size_t n = 0;
    while (mm_malloc(1 << 20) != NULL)
        n++;
    ck_assert_msg(n >= 60 && n <= 64, "%zu blocks of 1 MiB fit in a heap capped at 64 MiB: "
                  "expected about 63", n);
    checked("filling the heap");
}

ALAB_TEST(checker)
{
    fresh();
    char *a = alloc_checked(64), *b = alloc_checked(64), *c = alloc_checked(64);
    (void)a;
    (void)c;
    /* b's header says "free" while nothing else does */
    uint64_t *tag = (uint64_t *)(b - 8), saved = *tag;
    *tag = saved ^ 1;
    int found = mm_check();
    *tag = saved;
    ck_assert_msg(found != 0, "mm_check returned 0 after the allocated bit of the header "
                  "before block %p was flipped: a heap checker compares each header with "
                  "its footer", (void *)b);
    checked("restoring the header");
    /* a header whose size is 16 bytes larger */
    *tag = saved + 16;
    found = mm_check();
    *tag = saved;
    ck_assert_msg(found != 0, "mm_check returned 0 after the size in the header before "
                  "block %p grew by 16 bytes", (void *)b);
    checked("restoring the header");
}

/* ---- bonus ---- */

/* Four holes of 600, 500, 300 and 400 bytes in address order, freed so that
 * the 300-byte one is neither the first nor the last freed, nor the lowest:
 * first fit (newest first, oldest first, or by address) takes another hole,
 * best fit takes it. Then a 390-byte request takes the 400-byte hole. */
ALAB_TEST(best_fit)
{
    fresh();
    static const size_t hole[4] = {600, 500, 300, 400};
    char *h[4];
    for (int i = 0; i < 4; i++) {
        h[i] = alloc_checked(hole[i]);
        alloc_checked(48); /* keeps the holes apart */
    }
    static const int order[4] = {0, 2, 3, 1};
    for (int i = 0; i < 4; i++)
        mm_free(h[order[i]]);
    checked("freeing four blocks");
    char *p = alloc_checked(280);
    ck_assert_msg(p >= h[2] && p < h[2] + hole[2],
                  "mm_malloc(280) with free blocks of 600, 500, 300 and 400 bytes took %p, "
                  "not the 300-byte block at %p: not best fit", (void *)p, (void *)h[2]);
    char *q = alloc_checked(390);
    ck_assert_msg(q >= h[3] && q < h[3] + hole[3],
                  "mm_malloc(390) with free blocks of 600, 500 and 400 bytes took %p, not "
                  "the 400-byte block at %p: not best fit", (void *)q, (void *)h[3]);
}

/* ---- traces ---- */

static void run_trace_file(const char *name)
{
    /* the traces sit beside this file in the kit */
    char path[4096];
    const char *slash = strrchr(__FILE__, '/');
    int dir = slash != NULL ? (int)(slash - __FILE__) : 1;
    snprintf(path, sizeof path, "%.*s/traces/%s", dir, slash != NULL ? __FILE__ : ".", name);
    trace_t t;
    char err[512];
    ck_assert_msg(trace_load(path, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_trace(&t);
    trace_free(&t);
}

#define TRACE_TEST(test, file)                                                             \
    ALAB_TEST(test) { run_trace_file(file); }

TRACE_PUBLIC_FILES(TRACE_TEST)

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex02-freelist");
    ALAB_ADD(s, init, 10);
    ALAB_ADD(s, alignment, 10);
    ALAB_ADD(s, basic, 20);
    ALAB_ADD(s, split, 10);
    ALAB_ADD(s, coalesce_prev, 10);
    ALAB_ADD(s, coalesce_next, 10);
    ALAB_ADD(s, coalesce_both, 10);
    ALAB_ADD(s, realloc_keeps, 10);
    ALAB_ADD(s, heap_full, 20);
    ALAB_ADD(s, checker, 10);
    ALAB_ADD(s, best_fit, 10);
#define ADD_TRACE(test, file) ALAB_ADD(s, test, 30);
    TRACE_PUBLIC_FILES(ADD_TRACE)
#undef ADD_TRACE
    return s;
}

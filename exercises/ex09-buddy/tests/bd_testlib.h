/* bd_testlib.h — helpers shared by the public and hidden tests of exercise 09:
 * arenas fenced by guard bytes at any offset from a page boundary, the
 * contract's arithmetic written out once (base, pages, the first cut), a
 * model of which pages are held, bd_check run after every step, the lists of
 * buddy.h edited by hand (the checker tests corrupt a heap on purpose), and a
 * deterministic PRNG. */
#ifndef BD_TESTLIB_H
#define BD_TESTLIB_H

#include "alab.h"
#include "alab_testlib.h"
#include "buddy.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

/* ck_assert_msg, but cheap when it holds (Check's own assertions record their
 * place on every call). The message says what was expected and what came. */
#define require(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

#define KIB ((size_t)1024)
#define MIB (1024 * KIB)

/* ---- the contract's arithmetic ---- */

static inline unsigned char *want_base(const void *arena)
{
    uintptr_t a = (uintptr_t)arena;
    return (unsigned char *)((a + BD_PAGE_SIZE - 1) & ~(uintptr_t)(BD_PAGE_SIZE - 1));
}

static inline size_t want_pages(const void *arena, size_t size)
{
    size_t pad = (size_t)(want_base(arena) - (const unsigned char *)arena);
    size_t n = size > pad ? (size - pad) / BD_PAGE_SIZE : 0;
    return n < BD_MAX_PAGES ? n : BD_MAX_PAGES;
}

/* The free blocks per order of a heap of npages pages that holds nothing:
 * npages / 256 blocks of 1 MiB, then one block per binary digit of the rest. */
static inline void want_fresh(size_t npages, size_t out[BD_ORDERS])
{
    out[BD_MAX_ORDER] = npages >> BD_MAX_ORDER;
    for (int k = 0; k < BD_MAX_ORDER; k++)
        out[k] = (npages >> k) & 1;
}

/* ---- guarded arenas ---- */

#define GUARD_BYTES 256
#define GUARD_BYTE 0xA5
#define ARENA_MAX (4 * MIB + 16 * BD_PAGE_SIZE)

typedef struct {
    unsigned char *arena;
    size_t size;
} guarded_t;

static _Alignas(4096) unsigned char guarded_buf[BD_PAGE_SIZE + BD_PAGE_SIZE + ARENA_MAX + GUARD_BYTES];

/* An arena of size bytes starting misalign bytes past a page boundary, with
 * GUARD_BYTES of guard before and after. Only the guards are set: setting
 * megabytes of arena for every test would cost more than the tests. */
static inline guarded_t guarded_arena(size_t size, size_t misalign)
{
    require(size <= ARENA_MAX && misalign < BD_PAGE_SIZE,
            "test bug: arena of %zu bytes misaligned by %zu", size, misalign);
    unsigned char *arena = guarded_buf + BD_PAGE_SIZE + misalign;
    memset(arena - GUARD_BYTES, GUARD_BYTE, GUARD_BYTES);
    memset(arena + size, GUARD_BYTE, GUARD_BYTES);
    return (guarded_t){arena, size};
}

static inline void ck_assert_guards(const guarded_t *g, const char *what)
{
    for (size_t i = 0; i < GUARD_BYTES; i++) {
        require(g->arena[-(ptrdiff_t)GUARD_BYTES + (ptrdiff_t)i] == GUARD_BYTE,
                "%s: the byte %zu bytes before the arena changed: the allocator wrote outside "
                "the arena it was given", what, GUARD_BYTES - i);
        require(g->arena[g->size + i] == GUARD_BYTE,
                "%s: the byte %zu bytes after the arena's end changed: the allocator wrote "
                "outside the arena it was given", what, i);
    }
}

/* ---- bd_check, bd_stats ---- */

/* Fails the test when bd_check finds the heap broken. */
#define ck_assert_heap(bd, ...)                                                                     \
    do {                                                                                            \
        char why_[256] = "";                                                                        \
        if (bd_check((bd), why_, sizeof why_) != 0) {                                               \
            char at_[160];                                                                          \
            snprintf(at_, sizeof at_, __VA_ARGS__);                                                 \
            ck_abort_msg("%s: bd_check found the heap broken: %s", at_, why_);                      \
        }                                                                                           \
    } while (0)

static inline bd_stats_t stats_of(const bd_t *bd)
{
    bd_stats_t st;
    memset(&st, 0x5a, sizeof st); /* a field bd_stats forgets shows */
    bd_stats(bd, &st);
    return st;
}

/* "[1 0 0 1 ...]": counts per order, for messages. */
static inline const char *orders_text(const size_t n[BD_ORDERS], char *buf, size_t len)
{
    size_t at = 0;
    at += (size_t)snprintf(buf + at, len - at, "[");
    for (int k = 0; k < BD_ORDERS; k++)
        at += (size_t)snprintf(buf + at, len - at, "%s%zu", k ? " " : "", n[k]);
    snprintf(buf + at, len - at, "]");
    return buf;
}

/* Fails unless the free blocks per order (after bd_drain) are want. */
static inline void ck_assert_free_blocks(bd_t *bd, const size_t want[BD_ORDERS], const char *what)
{
    bd_drain(bd);
    bd_stats_t st = stats_of(bd);
    char a[96], b[96];
    require(memcmp(st.free_blocks, want, sizeof st.free_blocks) == 0,
            "%s: free blocks per order 0..8 are %s, expected %s", what,
            orders_text(st.free_blocks, a, sizeof a), orders_text(want, b, sizeof b));
}

/* ---- where a block may be ---- */

/* Fails unless p is a block of order k of this heap: page-aligned, aligned to
 * its own size relative to base, inside the pages. Returns its first page. */
static inline size_t block_page(const void *p, const unsigned char *base, size_t npages, int k,
                                const char *what)
{
    const unsigned char *b = p;
    require(b >= base && b + BD_BLOCK_SIZE(k) <= base + npages * BD_PAGE_SIZE,
            "%s: bd_alloc returned %p for a block of %zu bytes, not inside the heap's pages "
            "[%p, %p)", what, p, BD_BLOCK_SIZE(k), (const void *)base,
            (const void *)(base + npages * BD_PAGE_SIZE));
    size_t off = (size_t)(b - base);
    require(off % BD_BLOCK_SIZE(k) == 0,
            "%s: bd_alloc returned a block of order %d (%zu bytes) %zu bytes from base: a block "
            "must be aligned to its own size relative to base", what, k, BD_BLOCK_SIZE(k), off);
    return off / BD_PAGE_SIZE;
}

/* ---- a model of which pages are held ---- */

#define MODEL_BLOCKS 4096

typedef struct {
    const unsigned char *base;
    size_t npages;
    int32_t owner[BD_MAX_PAGES]; /* page -> slot of the held block covering it, or -1 */
    void *p[MODEL_BLOCKS];       /* slot -> block, NULL if the slot is empty */
    int order[MODEL_BLOCKS];
    size_t size[MODEL_BLOCKS];
    uint32_t tag[MODEL_BLOCKS];
    size_t nheld, used[BD_ORDERS], requested;
    uint64_t allocs, frees, failed;
} model_t;

static inline void model_init(model_t *m, const bd_t *bd)
{
    m->base = bd->base;
    m->npages = bd->npages;
    for (size_t i = 0; i < BD_MAX_PAGES; i++)
        m->owner[i] = -1;
    memset(m->p, 0, sizeof m->p);
    m->nheld = m->requested = 0;
    memset(m->used, 0, sizeof m->used);
    m->allocs = m->frees = m->failed = 0;
}

/* Could an eager buddy serve order k now? Exactly when some block of order k,
 * aligned, inside the heap, has no held page: the free blocks are the
 * maximal such blocks, and one of them is then at least that large. */
static inline bool model_fits(const model_t *m, int k)
{
    size_t n = (size_t)1 << k;
    for (size_t i = 0; i + n <= m->npages; i += n) {
        size_t j = i;
        while (j < i + n && m->owner[j] < 0)
            j++;
        if (j == i + n)
            return true;
    }
    return false;
}

/* The held blocks keep their first and last bytes (a pattern of 64 bytes at
 * each end: enough to see a block handed out twice, cheap on big blocks). */
static inline void model_mark(void *p, size_t size, uint32_t tag)
{
    if (size <= 128) {
        pattern_fill(p, size, tag);
        return;
    }
    pattern_fill(p, 64, tag);
    pattern_fill((unsigned char *)p + size - 64, 64, tag ^ 0x5555u);
}

static inline void model_verify(const model_t *m, int s, const char *what)
{
    size_t size = m->size[s];
    const unsigned char *p = m->p[s];
    bool intact = size <= 128 ? pattern_check(p, size, m->tag[s]) == size
                              : pattern_check(p, 64, m->tag[s]) == 64 &&
                                    pattern_check(p + size - 64, 64, m->tag[s] ^ 0x5555u) == 64;
    require(intact, "%s: the held block %p (%zu bytes) changed: the allocator wrote into it or "
            "handed out an overlapping block", what, m->p[s], size);
}

/* bd_alloc(size) checked against the model: NULL exactly when no block fits,
 * else a block of the right order on held-free pages. Returns the slot or -1. */
static inline int model_alloc(model_t *m, bd_t *bd, size_t size, const char *what)
{
    int k = bd_order(size);
    bool fits = k >= 0 && model_fits(m, k);
    void *p = bd_alloc(bd, size);
    if (!fits) {
        require(p == NULL, "%s: bd_alloc(%zu) returned %p, but no free block of order %d is left", what,
                size, p, k);
        m->failed++;
        return -1;
    }
    require(p != NULL, "%s: bd_alloc(%zu) returned NULL, but an aligned block of order %d has no "
            "held page: the free pages were not merged, or a free block was lost", what, size, k);
    size_t i = block_page(p, m->base, m->npages, k, what);
    int s = 0;
    while (s < MODEL_BLOCKS && m->p[s] != NULL)
        s++;
    require(s < MODEL_BLOCKS, "test bug: more than %d blocks held", MODEL_BLOCKS);
    for (size_t j = i; j < i + ((size_t)1 << k); j++)
        require(m->owner[j] < 0, "%s: bd_alloc(%zu) returned %p, whose page %zu belongs to the held "
                "block %p", what, size, p, j, m->p[m->owner[j]]);
    for (size_t j = i; j < i + ((size_t)1 << k); j++)
        m->owner[j] = s;
    m->p[s] = p;
    m->order[s] = k;
    m->size[s] = size;
    m->tag[s] = (uint32_t)(m->allocs * 2654435761u + 1);
    model_mark(p, size, m->tag[s]);
    m->nheld++;
    m->used[k]++;
    m->requested += size;
    m->allocs++;
    return s;
}

static inline void model_free(model_t *m, bd_t *bd, int s, const char *what)
{
    model_verify(m, s, what);
    size_t i = (size_t)((unsigned char *)m->p[s] - m->base) / BD_PAGE_SIZE;
    for (size_t j = i; j < i + ((size_t)1 << m->order[s]); j++)
        m->owner[j] = -1;
    bd_free(bd, m->p[s]);
    m->p[s] = NULL;
    m->nheld--;
    m->used[m->order[s]]--;
    m->requested -= m->size[s];
    m->frees++;
}

/* The statistics agree with the model: blocks held per order, bytes, calls. */
static inline void model_stats(const model_t *m, const bd_t *bd, const char *what)
{
    bd_stats_t st = stats_of(bd);
    char a[96], b[96];
    require(memcmp(st.used_blocks, m->used, sizeof m->used) == 0,
            "%s: bd_stats says %s blocks held per order 0..8, the caller holds %s", what,
            orders_text(st.used_blocks, a, sizeof a), orders_text(m->used, b, sizeof b));
    size_t used = 0;
    for (int k = 0; k < BD_ORDERS; k++)
        used += m->used[k] * BD_BLOCK_SIZE(k);
    require(st.total_bytes == m->npages * BD_PAGE_SIZE && st.used_bytes == used &&
                st.free_bytes == st.total_bytes - used,
            "%s: bd_stats says total %zu, used %zu, free %zu bytes; expected %zu, %zu, %zu", what,
            st.total_bytes, st.used_bytes, st.free_bytes, m->npages * BD_PAGE_SIZE, used,
            m->npages * BD_PAGE_SIZE - used);
    require(st.requested_bytes == m->requested && st.internal_bytes == used - m->requested,
            "%s: bd_stats says %zu bytes requested and %zu of internal fragmentation; the held "
            "blocks were asked for %zu bytes and hold %zu", what, st.requested_bytes,
            st.internal_bytes, m->requested, used);
    require(st.allocs == m->allocs && st.frees == m->frees && st.failed == m->failed,
            "%s: bd_stats counts %llu allocations, %llu frees, %llu failures; expected %llu, %llu, "
            "%llu", what, (unsigned long long)st.allocs, (unsigned long long)st.frees,
            (unsigned long long)st.failed, (unsigned long long)m->allocs,
            (unsigned long long)m->frees, (unsigned long long)m->failed);
}

/* ---- the lists of buddy.h, edited by hand (checker tests only) ---- */

static inline bd_link_t *page_link(bd_t *bd, size_t i)
{
    return (bd_link_t *)(bd->base + i * BD_PAGE_SIZE);
}

static inline void hand_unlink(bd_t *bd, size_t i)
{
    int k = bd->page[i].order;
    bd_link_t *l = page_link(bd, i);
    if (l->prev != NULL)
        l->prev->next = l->next;
    else
        bd->free_list[k] = l->next;
    if (l->next != NULL)
        l->next->prev = l->prev;
    bd->nfree[k]--;
    bd->page[i] = (bd_page_t){0};
}

static inline void hand_push(bd_t *bd, size_t i, int k)
{
    bd_link_t *l = page_link(bd, i);
    l->next = bd->free_list[k];
    l->prev = NULL;
    if (l->next != NULL)
        l->next->prev = l;
    bd->free_list[k] = l;
    bd->nfree[k]++;
    bd->page[i] = (bd_page_t){.order = (uint8_t)k, .flags = BD_HEAD | BD_FREE};
}

/* Runs bd_check in a child with a 2-second alarm: a checker that follows a
 * looping list forever, or crashes on a wild link, is reported as such. */
static inline void ck_assert_reported(const bd_t *bd, const char *what)
{
    fflush(NULL);
    pid_t pid = fork();
    require(pid >= 0, "fork failed");
    if (pid == 0) {
        alarm(2);
        char why[256];
        _exit(bd_check(bd, why, sizeof why) != 0 ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    require(!(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM),
            "%s: bd_check did not return within 2 seconds: it followed the links around a loop "
            "(walk at most npages links, and check each prev link)", what);
    require(!WIFSIGNALED(st), "%s: bd_check was killed by signal %d instead of reporting the "
            "corruption: check a link is a page of the heap before following it", what,
            WTERMSIG(st));
    require(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: bd_check returned 0: it did not see it", what);
}

/* ---- xorshift64*: deterministic from a seed ---- */

static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* A request size for order k: anything in (BD_BLOCK_SIZE(k-1), BD_BLOCK_SIZE(k)]. */
static inline size_t size_for(uint64_t *rng, int k)
{
    size_t lo = k == 0 ? 1 : BD_BLOCK_SIZE(k - 1) + 1, hi = BD_BLOCK_SIZE(k);
    return lo + (size_t)(rng_next(rng) % (hi - lo + 1));
}

static inline bool under_memcheck(void)
{
    return RUNNING_ON_VALGRIND != 0;
}

#endif

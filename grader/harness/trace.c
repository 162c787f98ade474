/* trace.c — the kit's trace engine (see trace.h): reads and writes traces,
 * generates them from a kind and a seed, runs one against an allocator
 * checking every operation, and times a set of them.
 *
 * The checker keeps the live blocks sorted by address, so an overlap is found
 * with one binary search per operation; a block's bytes follow a pattern made
 * from its id and offset, so bytes kept across realloc need no copy to compare.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "trace.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- names ---- */

static const char *const kind_names[TRACE_GEN_KINDS] = {"random", "binary", "coalesce",
                                                        "realloc"};

const char *trace_gen_kind_name(trace_gen_kind_t kind)
{
    return (unsigned)kind < TRACE_GEN_KINDS ? kind_names[kind] : "?";
}

int trace_gen_kind_from_name(const char *name)
{
    for (int k = 0; k < TRACE_GEN_KINDS; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}

/* ---- building a trace ---- */

static int ops_push(trace_t *t, size_t *cap, char op, uint32_t id, size_t size)
{
    if (t->nops == *cap) {
        size_t ncap = *cap ? 2 * *cap : 256;
        trace_op_t *n = realloc(t->ops, ncap * sizeof *n);
        if (n == NULL)
            return -1;
        t->ops = n;
        *cap = ncap;
    }
    t->ops[t->nops++] = (trace_op_t){.op = op, .id = id, .size = size};
    if (id + 1 > t->nids)
        t->nids = id + 1;
    return 0;
}

void trace_free(trace_t *t)
{
    free(t->ops);
    memset(t, 0, sizeof *t);
}

static void set_name(trace_t *t, const char *name)
{
    snprintf(t->name, sizeof t->name, "%s", name);
}

/* ---- reading and writing ---- */

int trace_load(const char *path, trace_t *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    const char *base = strrchr(path, '/');
    set_name(t, base != NULL ? base + 1 : path);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open the trace %s: %s", path, strerror(errno));
        return -1;
    }
    /* which ids are live, to refuse a trace that frees a block twice */
    unsigned char *live = calloc(TRACE_MAX_IDS, 1);
    size_t cap = 0, lineno = 0;
    char line[256];
    int rc = -1;
    if (live == NULL) {
        snprintf(err, errlen, "out of memory reading %s", path);
        goto out_close;
    }
    /* CS:APP's .rep files open with four lines of one number each: suggested
     * heap size, number of ids, number of operations, weight. */
    int header_lines = 0;
    unsigned long long header[4] = {0};
    size_t nops = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '\0')
            continue;
        if (*s == '#') /* a comment; "# name:" is for people: messages use the file's name */
            continue;
        if (nops == 0 && header_lines < 4 && isdigit((unsigned char)*s)) {
            char *end;
            header[header_lines++] = strtoull(s, &end, 10);
            while (isspace((unsigned char)*end))
                end++;
            if (*end == '\0')
                continue;
            snprintf(err, errlen, "%s, line %zu: a CS:APP header line holds one number, found: %.40s",
                     path, lineno, s);
            goto out_free;
        }
        if (header_lines != 0 && header_lines != 4) {
            snprintf(err, errlen, "%s, line %zu: a CS:APP header has four lines (heap size, ids, "
                     "operations, weight), this one %d", path, lineno, header_lines);
            goto out_free;
        }
        nops++;
        char op;
        unsigned long id;
        unsigned long long size = 0;
        int n = sscanf(s, "%c %lu %llu", &op, &id, &size);
        if (op == 'r' && n == 3 && size == 0) /* CS:APP: realloc to 0 frees */
            op = 'f';
        bool sized = op == 'a' || op == 'r';
        if ((op != 'a' && op != 'f' && op != 'r') || n < (sized ? 3 : 2)) {
            snprintf(err, errlen, "%s, line %zu: expected 'a <id> <size>', 'r <id> <size>' "
                     "or 'f <id>', found: %.40s", path, lineno, s);
            goto out_free;
        }
        if (id >= TRACE_MAX_IDS || (sized && (size == 0 || size > (1ull << 30)))) {
            snprintf(err, errlen, "%s, line %zu: id below %d and size 1 B..1 GiB expected",
                     path, lineno, TRACE_MAX_IDS);
            goto out_free;
        }
        if ((op == 'a' && live[id]) || (op == 'f' && !live[id])) {
            snprintf(err, errlen, "%s, line %zu: block %lu is %s", path, lineno, id,
                     op == 'a' ? "allocated while still live" : "freed while not live");
            goto out_free;
        }
        live[id] = op != 'f';
        if (ops_push(t, &cap, op, (uint32_t)id, op == 'f' ? 0 : (size_t)size) != 0) {
            snprintf(err, errlen, "out of memory reading %s", path);
            goto out_free;
        }
    }
    if (header_lines == 4 && header[2] != nops) {
        snprintf(err, errlen, "%s: its CS:APP header says %llu operations, the trace has %zu", path,
                 header[2], nops);
        goto out_free;
    }
    rc = 0;
out_free:
    free(live);
    if (rc != 0)
        trace_free(t);
out_close:
    fclose(f);
    return rc;
}

int trace_save(const trace_t *t, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "# name: %s\n# %zu operations on %zu ids\n", t->name, t->nops, t->nids);
    for (size_t i = 0; i < t->nops; i++) {
        const trace_op_t *o = &t->ops[i];
        if (o->op == 'f')
            fprintf(f, "f %u\n", o->id);
        else
            fprintf(f, "%c %u %zu\n", o->op, o->id, o->size);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- the generator ---- */

/* splitmix64: a good stream from any seed, also 0 */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [lo, hi] */
static size_t rng_range(uint64_t *s, size_t lo, size_t hi)
{
    return lo + (size_t)(rng_next(s) % (hi - lo + 1));
}

/* The generator's state: the trace being made, the live ids, free ids. */
typedef struct {
    trace_t *t;
    size_t cap;
    uint64_t rng;
    uint32_t *live;   /* live ids, in no order */
    size_t *size;     /* size of each id while live */
    size_t nlive, maxlive;
    uint32_t next_id; /* ids are handed out in order: ids stay below maxlive */
    uint32_t *spare;  /* freed ids, reused first */
    size_t nspare;
    int failed;
} gen_t;

static uint32_t gen_alloc(gen_t *g, size_t size)
{
    uint32_t id = g->nspare > 0 ? g->spare[--g->nspare] : g->next_id++;
    g->failed |= ops_push(g->t, &g->cap, 'a', id, size);
    g->live[g->nlive++] = id;
    g->size[id] = size;
    return id;
}

/* frees the k-th live id */
static void gen_free_at(gen_t *g, size_t k)
{
    uint32_t id = g->live[k];
    g->live[k] = g->live[--g->nlive];
    g->failed |= ops_push(g->t, &g->cap, 'f', id, 0);
    g->spare[g->nspare++] = id;
}

static void gen_free_id(gen_t *g, uint32_t id)
{
    for (size_t k = 0; k < g->nlive; k++)
        if (g->live[k] == id) {
            gen_free_at(g, k);
            return;
        }
}

static void gen_realloc(gen_t *g, uint32_t id, size_t size)
{
    g->failed |= ops_push(g->t, &g->cap, 'r', id, size);
    g->size[id] = size;
}

static void gen_free_all_random(gen_t *g)
{
    while (g->nlive > 0)
        gen_free_at(g, rng_range(&g->rng, 0, g->nlive - 1));
}

/* Mostly small blocks, some medium, a few large: the shape of real programs. */
static size_t random_size(uint64_t *rng)
{
    unsigned r = (unsigned)rng_range(rng, 0, 99);
    if (r < 70)
        return rng_range(rng, 1, 128);
    if (r < 95)
        return rng_range(rng, 129, 2048);
    return rng_range(rng, 2049, 16384);
}

static void gen_random(gen_t *g, size_t nops)
{
    /* the live set drifts up and down around a target that changes */
    size_t target = rng_range(&g->rng, 20, g->maxlive / 2);
    while (g->t->nops + g->nlive < nops) {
        if (rng_range(&g->rng, 0, 199) == 0)
            target = rng_range(&g->rng, 10, g->maxlive - 1);
        bool alloc = g->nlive == 0 ||
                     (g->nlive < g->maxlive &&
                      rng_range(&g->rng, 0, 2 * target) >= g->nlive);
        if (alloc)
            gen_alloc(g, random_size(&g->rng));
        else
            gen_free_at(g, rng_range(&g->rng, 0, g->nlive - 1));
    }
    gen_free_all_random(g);
}

/* Small and large blocks alternate; the large go, the small stay between their
 * holes, and then blocks a little larger than the holes come (CS:APP's
 * binary-bal traces have this shape). */
static void gen_binary(gen_t *g, size_t nops)
{
    while (g->t->nops + g->nlive < nops) {
        size_t small = 16 * rng_range(&g->rng, 1, 4) - rng_range(&g->rng, 0, 8);
        size_t large = 64 * rng_range(&g->rng, 2, 8) - rng_range(&g->rng, 0, 16);
        size_t pairs = (nops - g->t->nops) / 6;
        if (pairs > g->maxlive / 3)
            pairs = g->maxlive / 3;
        if (pairs < 4)
            break;
        uint32_t *big = malloc(pairs * sizeof *big);
        if (big == NULL) {
            g->failed = -1;
            return;
        }
        for (size_t i = 0; i < pairs; i++) {
            gen_alloc(g, small);
            big[i] = gen_alloc(g, large);
        }
        for (size_t i = 0; i < pairs; i++)
            gen_free_id(g, big[i]);
        for (size_t i = 0; i < pairs; i++)
            gen_alloc(g, large + 16 * rng_range(&g->rng, 1, 4));
        free(big);
        gen_free_all_random(g);
    }
    gen_free_all_random(g);
}

/* Runs of neighbours freed forwards, backwards, every other one then the rest,
 * or at random; then blocks as large as several neighbours together, which fit
 * in the run's place only where the freed blocks were merged. */
static void gen_coalesce(gen_t *g, size_t nops)
{
    size_t round = 0;
    while (g->t->nops + g->nlive < nops) {
        size_t n = rng_range(&g->rng, 8, 48);
        if (n * 3 > g->maxlive)
            n = g->maxlive / 3;
        size_t unit = 16 * rng_range(&g->rng, 1, 16);
        uint32_t ids[48];
        size_t total = 0;
        for (size_t i = 0; i < n; i++) {
            ids[i] = gen_alloc(g, unit + rng_range(&g->rng, 0, 15));
            total += g->size[ids[i]];
        }
        uint32_t keep = gen_alloc(g, 32); /* so the run is not at the heap's end */
        switch (round++ % 4) {
        case 0: /* each block merges with its free predecessor */
            for (size_t i = 0; i < n; i++)
                gen_free_id(g, ids[i]);
            break;
        case 1: /* each block merges with its free successor */
            for (size_t i = n; i-- > 0;)
                gen_free_id(g, ids[i]);
            break;
        case 2: /* the odd ones merge with both neighbours */
            for (size_t i = 0; i < n; i += 2)
                gen_free_id(g, ids[i]);
            for (size_t i = 1; i < n; i += 2)
                gen_free_id(g, ids[i]);
            break;
        default:
            for (size_t i = n; i > 1; i--) {
                size_t j = rng_range(&g->rng, 0, i - 1);
                uint32_t x = ids[i - 1];
                ids[i - 1] = ids[j];
                ids[j] = x;
            }
            for (size_t i = 0; i < n; i++)
                gen_free_id(g, ids[i]);
        }
        /* refill the run's space with a few big blocks */
        size_t parts = rng_range(&g->rng, 1, 3);
        uint32_t big[3];
        for (size_t i = 0; i < parts; i++)
            big[i] = gen_alloc(g, total / parts > 80 ? total / parts - 64 : 16);
        for (size_t i = 0; i < parts; i++)
            gen_free_id(g, big[i]);
        gen_free_id(g, keep);
    }
    gen_free_all_random(g);
}

/* A few blocks that grow by realloc (now and then shrink) while small blocks
 * come and go between them, as a program building strings or arrays does. */
static void gen_realloc_kind(gen_t *g, size_t nops)
{
    size_t ngrow = rng_range(&g->rng, 1, 4);
    uint32_t grow[4];
    for (size_t i = 0; i < ngrow; i++)
        grow[i] = gen_alloc(g, rng_range(&g->rng, 16, 512));
    uint32_t small = gen_alloc(g, rng_range(&g->rng, 16, 128));
    while (g->t->nops + g->nlive < nops) {
        size_t i = rng_range(&g->rng, 0, ngrow - 1);
        size_t cur = g->size[grow[i]], next;
        unsigned r = (unsigned)rng_range(&g->rng, 0, 9);
        if (r == 0 || cur > 48 * 1024)
            next = cur / 2 + 1; /* shrink */
        else if (r < 3)
            next = cur + rng_range(&g->rng, 1, 15); /* a few bytes: fits in place */
        else
            next = cur + rng_range(&g->rng, 16, 512);
        gen_realloc(g, grow[i], next);
        if (rng_range(&g->rng, 0, 1) == 0) {
            uint32_t s = gen_alloc(g, rng_range(&g->rng, 16, 256));
            gen_free_id(g, small);
            small = s;
        }
    }
    gen_free_all_random(g);
}

int trace_generate(trace_gen_kind_t kind, uint64_t seed, size_t nops, trace_t *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s-%llu", trace_gen_kind_name(kind),
             (unsigned long long)seed);
    gen_t g = {.t = t, .rng = seed * 0x2545f4914f6cdd1dull + (uint64_t)kind};
    g.maxlive = nops / 4 > 64 ? nops / 4 : 64;
    if (g.maxlive > 4096)
        g.maxlive = 4096;
    g.live = malloc(g.maxlive * 2 * sizeof *g.live);
    g.spare = malloc(g.maxlive * 2 * sizeof *g.spare);
    g.size = calloc(g.maxlive * 2, sizeof *g.size);
    if (g.live == NULL || g.spare == NULL || g.size == NULL) {
        g.failed = -1;
        goto out;
    }
    switch (kind) {
    case TRACE_GEN_RANDOM: gen_random(&g, nops); break;
    case TRACE_GEN_BINARY: gen_binary(&g, nops); break;
    case TRACE_GEN_COALESCE: gen_coalesce(&g, nops); break;
    case TRACE_GEN_REALLOC: gen_realloc_kind(&g, nops); break;
    default: g.failed = -1;
    }
out:
    free(g.live);
    free(g.spare);
    free(g.size);
    if (g.failed) {
        trace_free(t);
        return -1;
    }
    return 0;
}

/* ---- running one trace, checked ---- */

/* The byte block id holds at offset i. */
static inline unsigned char pattern_byte(uint32_t id, size_t i)
{
    uint32_t x = (id + 1) * 2654435761u + (uint32_t)i * 40503u;
    return (unsigned char)(x >> 24 ^ x);
}

static void pattern_fill(unsigned char *p, uint32_t id, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        p[i] = pattern_byte(id, i);
}

/* the first offset in [from, to) that lost the pattern, or to */
static size_t pattern_find_change(const unsigned char *p, uint32_t id, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != pattern_byte(id, i))
            return i;
    return to;
}

typedef struct {
    uintptr_t lo, hi; /* [lo, hi): the payload */
    uint32_t id;
} span_t;

typedef struct {
    const trace_t *t;
    const trace_allocator_t *a;
    trace_result_t *res;
    unsigned flags;
    unsigned char **ptr; /* per id: payload while live, else NULL */
    size_t *size;        /* per id: bytes asked for while live */
    size_t *since;       /* per id: operation that last wrote its bytes */
    span_t *spans;       /* live blocks sorted by address */
    size_t nspans;
    size_t opno;         /* 1-based number of the operation being checked */
    char optext[48];
} run_t;

static int fail(run_t *r, const char *fmt, ...)
{
    char what[360];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    r->res->ok = false;
    r->res->failed_op = r->opno;
    snprintf(r->res->error, sizeof r->res->error, "trace %s, operation %zu (%s): %s",
             r->t->name, r->opno, r->optext, what);
    return -1;
}

/* The checker's output goes to one temporary file, emptied before each call:
 * a checker runs after every operation of a trace, so a file per call would
 * cost more than the checking. */
int trace_call_checker(int (*check)(void), char *said, size_t n)
{
    static FILE *aside;
    if (aside == NULL)
        aside = tmpfile();
    said[0] = '\0';
    fflush(stdout);
    fflush(stderr);
    int out = aside != NULL ? dup(1) : -1, err = out >= 0 ? dup(2) : -1;
    if (err < 0) {
        if (out >= 0)
            close(out);
        return check();
    }
    if (ftruncate(fileno(aside), 0) != 0 || lseek(fileno(aside), 0, SEEK_SET) != 0) {
        close(out);
        close(err);
        return check();
    }
    dup2(fileno(aside), 1);
    dup2(fileno(aside), 2);
    int c = check();
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    if (c == 0)
        return 0;
    /* Everything it printed, to stderr; the first line that is not blank, to said. */
    char buf[4096];
    ssize_t got;
    size_t len = 0;
    bool in_line = false, done = false;
    lseek(fileno(aside), 0, SEEK_SET);
    while ((got = read(fileno(aside), buf, sizeof buf)) > 0) {
        if (write(2, buf, (size_t)got) < 0)
            break;
        for (ssize_t i = 0; i < got && !done; i++) {
            unsigned char ch = (unsigned char)buf[i];
            if (ch == '\n') {
                done = in_line;
                continue;
            }
            if (!in_line && isspace(ch))
                continue;
            in_line = true;
            if (len + 1 < n)
                said[len++] = isprint(ch) ? (char)ch : '?';
        }
    }
    while (len > 0 && isspace((unsigned char)said[len - 1]))
        len--;
    said[len] = '\0';
    return c;
}

/* index of the first span whose lo is >= p */
static size_t spans_lower_bound(const run_t *r, uintptr_t p)
{
    size_t lo = 0, hi = r->nspans;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->spans[mid].lo < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void spans_remove(run_t *r, uintptr_t p)
{
    size_t k = spans_lower_bound(r, p);
    if (k < r->nspans && r->spans[k].lo == p) {
        memmove(&r->spans[k], &r->spans[k + 1], (r->nspans - k - 1) * sizeof *r->spans);
        r->nspans--;
    }
}

/* The new block [p, p+size) must touch no live block; then it joins them. */
static int spans_insert(run_t *r, uint32_t id, unsigned char *p, size_t size)
{
    uintptr_t lo = (uintptr_t)p, hi = lo + size;
    size_t k = spans_lower_bound(r, lo);
    const span_t *hit = NULL;
    if (k < r->nspans && r->spans[k].lo < hi)
        hit = &r->spans[k];
    else if (k > 0 && r->spans[k - 1].hi > lo)
        hit = &r->spans[k - 1];
    if (hit != NULL)
        return fail(r, "the block it returned, %p..%p (%zu bytes), overlaps block %u at "
                       "%p..%p, which is still allocated (operation %zu gave it)",
                    (void *)p, (void *)(p + size), size, hit->id, (void *)hit->lo,
                    (void *)hit->hi, r->since[hit->id]);
    memmove(&r->spans[k + 1], &r->spans[k], (r->nspans - k) * sizeof *r->spans);
    r->spans[k] = (span_t){.lo = lo, .hi = hi, .id = id};
    r->nspans++;
    return 0;
}

/* Block id's bytes [0, n) still hold its pattern. */
static int verify(run_t *r, uint32_t id, size_t n, const char *when)
{
    if (r->flags & TRACE_NO_PAYLOAD)
        return 0;
    size_t at = pattern_find_change(r->ptr[id], id, 0, n);
    if (at < n)
        return fail(r, "%s, block %u (%zu bytes at %p) has lost its contents: byte %zu "
                       "changed since operation %zu wrote it, so something wrote into a "
                       "block it did not own",
                    when, id, r->size[id], (void *)r->ptr[id], at, r->since[id]);
    return 0;
}

/* The neighbours in address order of a block just placed or freed: an
 * allocator that writes a header or footer across a boundary shows there. */
static int verify_neighbours(run_t *r, uintptr_t p)
{
    if (r->flags & TRACE_NO_PAYLOAD)
        return 0;
    size_t k = spans_lower_bound(r, p);
    for (size_t j = k > 0 ? k - 1 : 0; j <= k + 1 && j < r->nspans; j++) {
        const span_t *s = &r->spans[j];
        if (s->lo == p)
            continue;
        size_t n = s->hi - s->lo, edge = n < 64 ? n : 64;
        size_t at = pattern_find_change(r->ptr[s->id], s->id, 0, edge);
        if (at == edge)
            at = pattern_find_change(r->ptr[s->id], s->id, n - edge, n);
        if (at < n)
            return fail(r, "block %u (%zu bytes at %p), its neighbour in memory, has lost its "
                           "contents at byte %zu: this operation wrote into a block it did "
                           "not own",
                        s->id, n, (void *)s->lo, at);
    }
    return 0;
}

/* A block returned by malloc or realloc for id: aligned, inside the heap, alone. */
static int accept_block(run_t *r, const char *call, uint32_t id, unsigned char *p, size_t size)
{
    const char *pre = r->a->prefix != NULL ? r->a->prefix : "";
    if (p == NULL)
        return fail(r, "%s%s returned NULL for %zu bytes while %zu blocks were live", pre,
                    call, size, r->nspans);
    if ((uintptr_t)p % TRACE_ALIGN != 0)
        return fail(r, "%s%s returned %p, which is not aligned to %d bytes", pre, call,
                    (void *)p, TRACE_ALIGN);
    if (r->a->in_heap != NULL && !r->a->in_heap(p, size))
        return fail(r, "%s%s returned %p..%p (%zu bytes), which is not inside the heap", pre,
                    call, (void *)p, (void *)(p + size), size);
    if (spans_insert(r, id, p, size) != 0)
        return -1;
    r->ptr[id] = p;
    r->size[id] = size;
    r->since[id] = r->opno;
    return 0;
}

static int do_free(run_t *r, uint32_t id, const char *when)
{
    if (verify(r, id, r->size[id], when) != 0)
        return -1;
    uintptr_t p = (uintptr_t)r->ptr[id];
    spans_remove(r, p);
    r->a->free(r->ptr[id]);
    r->ptr[id] = NULL;
    r->size[id] = 0;
    return verify_neighbours(r, p);
}

static int do_op(run_t *r, const trace_op_t *o)
{
    const trace_allocator_t *a = r->a;
    uint32_t id = o->id;
    if (o->op == 'a' || (o->op == 'r' && r->ptr[id] == NULL)) {
        if (r->ptr[id] != NULL)
            return fail(r, "the trace allocates block %u, which is still live", id);
        unsigned char *p = o->op == 'a' || a->realloc == NULL ? a->malloc(o->size)
                                                             : a->realloc(NULL, o->size);
        if (accept_block(r, o->op == 'a' || a->realloc == NULL ? "malloc" : "realloc(NULL, n)",
                         id, p, o->size) != 0)
            return -1;
        if (!(r->flags & TRACE_NO_PAYLOAD))
            pattern_fill(p, id, 0, o->size);
        return verify_neighbours(r, (uintptr_t)p);
    }
    if (o->op == 'f') {
        if (r->ptr[id] == NULL)
            return fail(r, "the trace frees block %u, which is not live", id);
        return do_free(r, id, "before it was freed");
    }
    /* realloc of a live block: the first min(old, new) bytes must stay */
    size_t old = r->size[id], keep = old < o->size ? old : o->size;
    if (verify(r, id, old, "before it was resized") != 0)
        return -1;
    unsigned char *p = r->ptr[id], *q;
    spans_remove(r, (uintptr_t)p);
    if (a->realloc != NULL) {
        q = a->realloc(p, o->size);
    } else {
        q = a->malloc(o->size);
        if (q != NULL) {
            memcpy(q, p, keep);
            a->free(p);
        }
    }
    r->ptr[id] = NULL;
    size_t since = r->since[id];
    if (accept_block(r, "realloc", id, q, o->size) != 0)
        return -1;
    r->since[id] = since;
    if (!(r->flags & TRACE_NO_PAYLOAD)) {
        size_t at = pattern_find_change(q, id, 0, keep);
        if (at < keep)
            return fail(r, "realloc from %zu to %zu bytes did not keep the block's contents: "
                           "byte %zu of block %u differs (moved from %p to %p)",
                        old, o->size, at, id, (void *)p, (void *)q);
        pattern_fill(q, id, keep, o->size);
    }
    r->since[id] = r->opno;
    return verify_neighbours(r, (uintptr_t)q);
}

static int check_heap(run_t *r)
{
    if (!(r->flags & TRACE_CHECK_HEAP) || r->a->check == NULL)
        return 0;
    char said[200];
    int c = trace_call_checker(r->a->check, said, sizeof said);
    if (c == 0)
        return 0;
    const char *name = r->a->prefix != NULL ? r->a->prefix : "";
    if (said[0] == '\0')
        return fail(r, "the heap checker (%scheck) returned %d after this operation and "
                       "printed nothing: the heap is inconsistent",
                    name, c);
    return fail(r, "the heap checker (%scheck) returned %d after this operation; it said: "
                   "\"%s\"",
                name, c, said);
}

static void describe(run_t *r, const trace_op_t *o, const char *prefix)
{
    if (o->op == 'f')
        snprintf(r->optext, sizeof r->optext, "%sf %u", prefix, o->id);
    else
        snprintf(r->optext, sizeof r->optext, "%s%c %u %zu", prefix, o->op, o->id, o->size);
}

int trace_run(const trace_t *t, const trace_allocator_t *a, unsigned flags, trace_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->ok = true;
    run_t r = {.t = t, .a = a, .res = res, .flags = flags};
    size_t n = t->nids > 0 ? t->nids : 1;
    r.ptr = calloc(n, sizeof *r.ptr);
    r.size = calloc(n, sizeof *r.size);
    r.since = calloc(n, sizeof *r.since);
    r.spans = calloc(n, sizeof *r.spans);
    int rc = -1;
    snprintf(r.optext, sizeof r.optext, "%sinit", a->prefix != NULL ? a->prefix : "");
    if (r.ptr == NULL || r.size == NULL || r.since == NULL || r.spans == NULL) {
        fail(&r, "the checker ran out of memory");
        goto out;
    }
    if (a->reset != NULL && a->reset() != 0) {
        fail(&r, "%sinit failed (returned -1) on an empty heap", a->prefix ? a->prefix : "");
        goto out;
    }
    if (check_heap(&r) != 0)
        goto out;
    size_t payload = 0;
    for (size_t i = 0; i < t->nops; i++) {
        const trace_op_t *o = &t->ops[i];
        r.opno = i + 1;
        describe(&r, o, "");
        size_t before = r.ptr[o->id] != NULL ? r.size[o->id] : 0;
        if (do_op(&r, o) != 0 || check_heap(&r) != 0)
            goto out;
        payload = payload - before + (o->op == 'f' ? 0 : o->size);
        if (payload > res->peak_payload)
            res->peak_payload = payload;
    }
    if (a->heap_size != NULL) {
        res->heap_size = a->heap_size();
        res->util = res->heap_size > 0 ? (double)res->peak_payload / (double)res->heap_size : 0;
    }
    /* blocks the trace left live are freed, still checked */
    for (uint32_t id = 0; id < t->nids; id++) {
        if (r.ptr[id] == NULL)
            continue;
        r.opno = t->nops + 1;
        trace_op_t o = {.op = 'f', .id = id};
        describe(&r, &o, "end of trace: ");
        if (do_free(&r, id, "at the end of the trace") != 0 || check_heap(&r) != 0)
            goto out;
    }
    rc = 0;
out:
    /* a failed run leaves blocks allocated: the next reset takes them back */
    free(r.ptr);
    free(r.size);
    free(r.since);
    free(r.spans);
    return rc;
}

/* ---- timing ---- */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double trace_time_ns(const trace_t *traces, size_t n, const trace_allocator_t *a, int reps)
{
    size_t most = 1;
    for (size_t k = 0; k < n; k++)
        most = traces[k].nids > most ? traces[k].nids : most;
    char **ptr = calloc(most, sizeof *ptr);
    if (ptr == NULL)
        return -1;
    double total = 0;
    for (int rep = 0; rep < reps; rep++)
        for (size_t k = 0; k < n; k++) {
            const trace_t *t = &traces[k];
            double t0 = now_ns();
            if (a->reset != NULL && a->reset() != 0)
                goto fail;
            for (size_t i = 0; i < t->nops; i++) {
                const trace_op_t *o = &t->ops[i];
                char *p;
                switch (o->op) {
                case 'a':
                    if ((p = ptr[o->id] = a->malloc(o->size)) == NULL)
                        goto fail;
                    p[0] = 1; /* touch it, as a program would */
                    break;
                case 'f':
                    a->free(ptr[o->id]);
                    ptr[o->id] = NULL;
                    break;
                default:
                    if (a->realloc != NULL) {
                        p = a->realloc(ptr[o->id], o->size);
                    } else {
                        p = a->malloc(o->size);
                        if (p != NULL && ptr[o->id] != NULL) {
                            memcpy(p, ptr[o->id], 1);
                            a->free(ptr[o->id]);
                        }
                    }
                    if ((ptr[o->id] = p) == NULL)
                        goto fail;
                    p[o->size - 1] = 1;
                }
            }
            for (size_t id = 0; id < t->nids; id++)
                if (ptr[id] != NULL) {
                    a->free(ptr[id]);
                    ptr[id] = NULL;
                }
            total += now_ns() - t0;
        }
    free(ptr);
    return total;
fail:
    free(ptr);
    return -1;
}

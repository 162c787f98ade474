/* trace.h — the kit's trace engine: allocation scenarios as data, run against any
 * allocator and judged one operation at a time (exercises 02 and 03).
 *
 * A trace is a list of operations on numbered blocks, in the text format of
 * CS:APP's malloc lab (Bryant and O'Hallaron, "Computer Systems: A Programmer's
 * Perspective", 3rd ed., section 9.9 and its malloc lab), one operation a line:
 *
 *     a <id> <size>     allocate <size> bytes and call the block <id>
 *     r <id> <size>     resize block <id> to <size> bytes (allocate it if not live)
 *     f <id>            free block <id>
 *
 * A CS:APP .rep file opens with four lines of one number each (suggested heap
 * size, number of ids, number of operations, weight): they are read, and the
 * number of operations must match. `r <id> 0` frees, as in CS:APP's realloc
 * traces. The kit's own traces have no header.
 *
 * Lines starting with '#' and blank lines are ignored (trace_save writes a
 * "# name:" line for people; a loaded trace is named after its file, which is
 * what a student opens). Ids are small integers (below TRACE_MAX_IDS), reused
 * once freed. trace_load refuses a trace that allocates a live id or frees a
 * dead one.
 *
 * A run checks every operation: the block is 16-byte aligned, inside the heap,
 * overlaps no live block, and keeps its payload (each block is filled with a
 * pattern made from its id, verified before it is freed or resized and kept
 * across realloc up to the smaller size). The first failure is a sentence:
 *     "trace random-1.rep, operation 214 (f 17): ..."
 * Utilization is the peak of the live payload (the sum of the sizes asked for)
 * divided by the heap's high-water size, measured after the trace.
 */
#ifndef ALAB_TRACE_H
#define ALAB_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    TRACE_ALIGN = 16,       /* every payload starts at a multiple of this */
    TRACE_MAX_IDS = 1 << 20 /* ids are 0 .. TRACE_MAX_IDS - 1 */
};

typedef enum { TRACE_ALLOC = 'a', TRACE_FREE = 'f', TRACE_REALLOC = 'r' } trace_opcode_t;

typedef struct {
    char op;     /* 'a', 'f' or 'r' */
    uint32_t id; /* the block's number, < trace_t.nids */
    size_t size; /* bytes asked for; 0 for 'f' */
} trace_op_t;

typedef struct {
    char name[64];   /* the file's name without its directory, or "<kind>-<seed>" */
    size_t nids;     /* 1 + the largest id used */
    size_t nops;     /* operations in ops[] */
    trace_op_t *ops; /* owned: trace_free() releases it */
} trace_t;

/* An allocator as the engine sees it. Only malloc and free are required; a
 * NULL member is skipped (no realloc: 'r' is done as malloc + copy + free). */
typedef struct {
    const char *prefix;            /* names calls in messages: "mm_" gives "mm_malloc" */
    int (*reset)(void);            /* before each trace: a fresh, empty heap; -1 on failure */
    void *(*malloc)(size_t size);
    void (*free)(void *ptr);
    void *(*realloc)(void *ptr, size_t size);
    int (*check)(void);            /* heap checker: 0 if consistent; called after every
                                      operation when TRACE_CHECK_HEAP is set */
    size_t (*heap_size)(void);     /* bytes the heap has taken so far (high water);
                                      needed for utilization */
    bool (*in_heap)(const void *p, size_t size); /* [p, p+size) lies inside the heap */
} trace_allocator_t;

/* How a generated trace is made. Every kind frees all its blocks by the end. */
typedef enum {
    TRACE_GEN_RANDOM,    /* random sizes (mostly small, some large), random frees */
    TRACE_GEN_BINARY,    /* alternating small and large blocks; the small ones stay,
                            the large ones go, then larger blocks come (fragmentation) */
    TRACE_GEN_COALESCE,  /* runs of neighbours freed in varied orders, then blocks
                            that only fit where the freed neighbours are merged */
    TRACE_GEN_REALLOC,   /* blocks grown (and some shrunk) by realloc among small ones */
    TRACE_GEN_KINDS
} trace_gen_kind_t;

/* "random", "binary", "coalesce", "realloc" */
const char *trace_gen_kind_name(trace_gen_kind_t kind);
/* The kind of that name, or -1. */
int trace_gen_kind_from_name(const char *name);

/* Reads a trace file. Returns 0, or -1 with a sentence in err (file, line, why). */
int trace_load(const char *path, trace_t *t, char *err, size_t errlen);

/* Makes a trace of about nops operations, the same for the same kind and seed.
 * Returns 0, or -1 when out of memory. Its name is "<kind>-<seed>". */
int trace_generate(trace_gen_kind_t kind, uint64_t seed, size_t nops, trace_t *t);

/* Writes t in the text format (with a "# name:" line). Returns 0 or -1. */
int trace_save(const trace_t *t, const char *path);

void trace_free(trace_t *t);

/* What trace_run found. */
typedef struct {
    bool ok;               /* every operation passed */
    size_t failed_op;      /* 1-based number of the first failing operation, or 0 */
    char error[512];       /* "trace <name>, operation <n> (<op>): <what broke>" */
    size_t peak_payload;   /* largest sum of live sizes during the trace, bytes */
    size_t heap_size;      /* a->heap_size() after the trace, or 0 without it */
    double util;           /* peak_payload / heap_size, or 0 without heap_size */
} trace_result_t;

enum {
    TRACE_CHECK_HEAP = 1 << 0, /* call a->check after every operation */
    TRACE_NO_PAYLOAD = 1 << 1  /* skip the byte patterns (a faster run) */
};

/* Runs t on a (after a->reset), checking every operation, then frees the blocks
 * still live. Returns 0 when every operation passed, -1 with res->error set. */
int trace_run(const trace_t *t, const trace_allocator_t *a, unsigned flags,
              trace_result_t *res);

/* Runs the n traces reps times each on a (a->reset before each trace), with no
 * checks and no byte patterns beyond one write per block, and returns the total
 * time in nanoseconds (CLOCK_MONOTONIC), or a negative value when an allocation
 * failed or reset failed. Blocks still live at a trace's end are freed, timed. */
double trace_time_ns(const trace_t *traces, size_t n, const trace_allocator_t *a, int reps);

/* Calls a heap checker with its standard output and error sent aside, and
 * returns what it returned. When that is not 0, the first line it printed
 * (bytes that do not print as '?') is copied into said[n], and everything it
 * printed goes on to stderr as usual; "" when it printed nothing. A checker's
 * own words say where the heap broke, and a grader's message can quote them. */
int trace_call_checker(int (*check)(void), char *said, size_t n);

/* The public traces of exercise 02 (exercises/ex02-freelist/tests/traces/),
 * which exercise 03 replays too, as X(test case name, file name): each test
 * program makes one Check case of each, and the manifests name these cases. */
#define TRACE_PUBLIC_FILES(X)                                                                  \
    X(trace_random1, "random-1.rep")                                                           \
    X(trace_random2, "random-2.rep")                                                           \
    X(trace_binary1, "binary-1.rep")                                                           \
    X(trace_binary2, "binary-2.rep")                                                           \
    X(trace_coalesce1, "coalesce-1.rep")                                                       \
    X(trace_coalesce2, "coalesce-2.rep")                                                       \
    X(trace_realloc1, "realloc-1.rep")                                                         \
    X(trace_realloc2, "realloc-2.rep")                                                         \
    X(trace_ls, "real-ls.rep")                                                                 \
    X(trace_python, "real-python.rep")

#endif

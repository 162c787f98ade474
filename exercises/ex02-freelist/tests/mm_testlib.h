/* mm_testlib.h — what the tests, the hidden tests and the driver of exercise
 * 02 share: the student's allocator as the trace engine sees it, and a trace
 * run that fails the Check test with the engine's sentence. */
#ifndef MM_TESTLIB_H
#define MM_TESTLIB_H

#include "alab.h"
#include "mm.h"
#include "trace.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A fresh heap: memlib emptied, then the student's mm_init. */
static inline int mm_reset_heap(void)
{
    mem_reset_brk();
    return mm_init();
}

static inline bool mm_in_heap(const void *p, size_t size)
{
    const char *lo = mem_heap_lo(), *hi = mem_heap_hi();
    return (const char *)p >= lo && (const char *)p + size - 1 <= hi;
}

static const trace_allocator_t MM_ALLOCATOR = {
    .prefix = "mm_",
    .reset = mm_reset_heap,
    .malloc = mm_malloc,
    .free = mm_free,
    .realloc = mm_realloc,
    .check = mm_check,
    .heap_size = mem_heapsize,
    .in_heap = mm_in_heap,
};

/* Runs t with every check, mm_check after every operation; fails the test
 * with the engine's sentence ("trace X, operation N (op): what broke"). */
#define ck_assert_trace(t)                                                                 \
    do {                                                                                   \
        trace_result_t res_;                                                               \
        trace_run((t), &MM_ALLOCATOR, TRACE_CHECK_HEAP, &res_);                            \
        ck_assert_msg(res_.ok, "%s", res_.error);                                          \
    } while (0)

#endif

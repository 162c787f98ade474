/* test_traces.c — exercise 02's traces run on the allocator of exercise 03.
 *
 * One test per trace file (exercises/ex02-freelist/tests/traces/), each in a
 * fresh process. The kit's trace engine (grader/harness/trace.c) checks every
 * operation: the block is aligned, lies in a mapping of the allocator (the mmap
 * spy knows them), overlaps no live block, and keeps its bytes, also across
 * sl_realloc. A failure names the trace, the operation and what broke.
 */
#include "seglist_testlib.h"
#include "trace_adapter.h"

static void run_trace_file(const char *name)
{
    char path[4096], err[512];
    ex02_trace_path(path, sizeof path, name);
    trace_t t;
    ck_assert_msg(trace_load(path, &t, err, sizeof err) == 0, "%s", err);
    trace_result_t res;
    int rc = trace_run(&t, &seglist_adapter, 0, &res);
    trace_free(&t);
    ck_assert_msg(rc == 0, "%s", res.error);
}

#define TRACE_TEST(test, file)                                                                \
    ALAB_TEST(test)                                                                           \
    {                                                                                         \
        run_trace_file(file);                                                                 \
    }

TRACE_TEST(trace_random1, "random-1.rep")
TRACE_TEST(trace_random2, "random-2.rep")
TRACE_TEST(trace_binary1, "binary-1.rep")
TRACE_TEST(trace_binary2, "binary-2.rep")
TRACE_TEST(trace_coalesce1, "coalesce-1.rep")
TRACE_TEST(trace_coalesce2, "coalesce-2.rep")
TRACE_TEST(trace_realloc1, "realloc-1.rep")
TRACE_TEST(trace_realloc2, "realloc-2.rep")
TRACE_TEST(trace_ls, "real-ls.rep")
TRACE_TEST(trace_python, "real-python.rep")

Suite *alab_suite(void)
{
    Suite *s = suite_create("seglist-traces");
    ALAB_ADD(s, trace_random1, 30);
    ALAB_ADD(s, trace_random2, 30);
    ALAB_ADD(s, trace_binary1, 30);
    ALAB_ADD(s, trace_binary2, 30);
    ALAB_ADD(s, trace_coalesce1, 30);
    ALAB_ADD(s, trace_coalesce2, 30);
    ALAB_ADD(s, trace_realloc1, 30);
    ALAB_ADD(s, trace_realloc2, 30);
    ALAB_ADD(s, trace_ls, 30);
    ALAB_ADD(s, trace_python, 30);
    return s;
}

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

TRACE_PUBLIC_FILES(TRACE_TEST)

Suite *alab_suite(void)
{
    Suite *s = suite_create("seglist-traces");
#define ADD_TRACE(test, file) ALAB_ADD(s, test, 30);
    TRACE_PUBLIC_FILES(ADD_TRACE)
#undef ADD_TRACE
    return s;
}

/* test_hidden.c — hidden tests of exercise 02: traces of each kind made by the
 * kit's generator from the grader's seed (alab_seed), so they differ from the
 * public files and from one grading to the next. Each case runs three traces,
 * one of them larger than the public ones. A failure names the trace
 * ("<kind>-<seed>") and the operation; `gentrace <kind> <seed> <n> file`
 * (exercises/ex02-freelist/tools/) writes it out to replay.
 */
#include "mm_testlib.h"

static void run_kind(trace_gen_kind_t kind)
{
    static const size_t ops[3] = {2000, 3000, 8000};
    /* far from the public traces' seeds (1 and 2) */
    uint64_t seed = alab_seed(20240602) * 1000003 + 77;
    for (int i = 0; i < 3; i++) {
        trace_t t;
        ck_assert_msg(trace_generate(kind, seed + (uint64_t)i * 7919, ops[i], &t) == 0,
                      "the trace generator ran out of memory");
        ck_assert_trace(&t);
        trace_free(&t);
    }
}

ALAB_TEST(hidden_random) { run_kind(TRACE_GEN_RANDOM); }
ALAB_TEST(hidden_binary) { run_kind(TRACE_GEN_BINARY); }
ALAB_TEST(hidden_coalesce) { run_kind(TRACE_GEN_COALESCE); }
ALAB_TEST(hidden_realloc) { run_kind(TRACE_GEN_REALLOC); }

Suite *alab_suite(void)
{
    Suite *s = suite_create("ex02-freelist-hidden");
    ALAB_ADD(s, hidden_random, 60);
    ALAB_ADD(s, hidden_binary, 60);
    ALAB_ADD(s, hidden_coalesce, 60);
    ALAB_ADD(s, hidden_realloc, 60);
    return s;
}

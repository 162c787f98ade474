/* test_trace.c — the trace engine's loader (grader/harness/trace.c) on both
 * formats it reads: the kit's headerless traces and CS:APP's .rep files. */
#define _GNU_SOURCE
#include "../../harness/trace.c"

#include <check.h>
#include <stdlib.h>

#include "util.h"

/* Loads text as a trace file; returns trace_load's result, the message in err. */
static int load_text(const char *text, trace_t *t, char *err, size_t n)
{
    char path[] = "/tmp/alab-trace-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    int rc = trace_load(path, t, err, n);
    unlink(path);
    return rc;
}

START_TEST(trace_reads_cs_app_header_and_realloc_to_zero)
{
    /* the shape of CS:APP's realloc-bal.rep, in small */
    const char *rep = "20000\n3\n6\n1\na 0 512\na 1 128\nr 0 640\nf 1\nr 0 0\na 2 16\n";
    trace_t t;
    char err[256] = "";
    ck_assert_msg(load_text(rep, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(t.nops, 6);
    ck_assert_msg(t.ops[4].op == 'f' && t.ops[4].id == 0, "r 0 0 must free block 0, got %c %u",
                  t.ops[4].op, t.ops[4].id);
    trace_free(&t);
    ck_assert_int_eq(load_text("a 0 8\nf 0\n", &t, err, sizeof err), 0); /* the kit's own form */
    trace_free(&t);
}
END_TEST

START_TEST(trace_refuses_a_wrong_header)
{
    trace_t t;
    char err[256] = "";
    ck_assert_int_eq(load_text("20000\n3\n9\n1\na 0 8\nf 0\n", &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "says 9 operations, the trace has 2") != NULL, "%s", err);
    ck_assert_int_eq(load_text("20000\n3\na 0 8\n", &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "four lines") != NULL, "%s", err);
}
END_TEST

TCase *trace_tests(void)
{
    TCase *tc = tcase_create("trace");
    tcase_add_test(tc, trace_reads_cs_app_header_and_realloc_to_zero);
    tcase_add_test(tc, trace_refuses_a_wrong_header);
    return tc;
}

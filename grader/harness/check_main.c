/* check_main.c — main() of every kit test program built on Check.
 *
 * Usage: prog [CASE...]  runs the named test cases (all when none are named),
 * each in its own forked process (ALAB_NOFORK=1 runs them in-process, for a
 * debugger or Valgrind's first-error search). One record per test goes to the
 * grader's result file, with the seconds it took; the exit status is 0 when
 * every test passed. Once a test has hung (Check stopped it at its time
 * limit), the cases named after it are not run: each gets a record saying so
 * (rtype "not-run", after: the case that hung), and the program ends.
 *        prog --list [CASE...]  runs nothing: prints the names of its test
 * cases (of those named, the ones it defines) and records each as
 * {"kind":"case","name":...}, so the grader can check a manifest's cases.
 */
#include "alab.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *rtype_name(int rtype)
{
    switch (rtype) {
    case CK_PASS:
        return "pass";
    case CK_FAILURE:
        return "failure";
    default:
        return "error";
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the cases named `only` (all when NULL); *hung tells whether one of
 * them was stopped at its time limit. */
static int run_cases(Suite *s, const char *only, bool *hung)
{
    double start = now_s();
    SRunner *sr = srunner_create(s);
    const char *nofork = getenv("ALAB_NOFORK");
    srunner_set_fork_status(sr, nofork != NULL && strcmp(nofork, "1") == 0 ? CK_NOFORK : CK_FORK);
    srunner_run(sr, NULL, only, getenv("ALAB_VERBOSE") != NULL ? CK_VERBOSE : CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    TestResult **results = srunner_results(sr);
    int n = srunner_ntests_run(sr);
    char seconds[32];
    snprintf(seconds, sizeof seconds, "%.1f", now_s() - start); /* one case: its time */
    for (int i = 0; i < n; i++) {
        TestResult *tr = results[i];
        char line[32];
        snprintf(line, sizeof line, "%d", tr_lno(tr));
        *hung |= tr_rtype(tr) == CK_ERROR && strstr(tr_msg(tr), "Test timeout expired") != NULL;
        alab_record("result", "case", tr_tcname(tr), "rtype", rtype_name(tr_rtype(tr)), "msg",
                    tr_msg(tr), "file", tr_lfile(tr), "line", line, "seconds", seconds,
                    (const char *)NULL);
    }
    free(results);
    srunner_free(sr);
    return failed;
}

/* Check keeps a suite's test cases in a list it does not export; these are
 * its layouts (check_impl.h, check_list.c) in the versions Debian ships. */
#if CHECK_MAJOR_VERSION == 0 && CHECK_MINOR_VERSION >= 13
typedef struct {
    unsigned n_elts, max_elts;
    int current, last;
    void **data;
} ck_list_t;
struct ck_suite {
    const char *name;
    ck_list_t *tclst;
};
struct ck_tcase {
    const char *name;
};
#define HAVE_CK_LAYOUT 1
#endif

static void list_one(const char *name)
{
    printf("%s\n", name);
    alab_record("case", "name", name, (const char *)NULL);
}

/* --list: names given are looked up (Check's own suite_tcase); with none,
 * every case of the suite is listed. */
static int list_cases(Suite *s, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (suite_tcase(s, argv[i]))
            list_one(argv[i]);
#ifdef HAVE_CK_LAYOUT
    const ck_list_t *l = ((const struct ck_suite *)(const void *)s)->tclst;
    for (unsigned i = 0; argc == 0 && l != NULL && i < l->n_elts; i++)
        list_one(((const struct ck_tcase *)l->data[i])->name);
#endif
    alab_record("listed", (const char *)NULL); /* the list is whole */
    return 0;
}

int main(int argc, char **argv)
{
    alab_init();
    if (argc >= 2 && strcmp(argv[1], "--list") == 0)
        return list_cases(alab_suite(), argc - 2, argv + 2);
    int failed = 0;
    bool hung = false;
    if (argc < 2)
        return run_cases(alab_suite(), NULL, &hung) == 0 ? 0 : 1;
    int i = 1;
    for (; i < argc && !hung; i++)
        failed += run_cases(alab_suite(), argv[i], &hung);
    for (int k = i; k < argc; k++) /* a hung test costs its limit once, not once per case */
        alab_record("result", "case", argv[k], "rtype", "not-run", "after", argv[i - 1],
                    (const char *)NULL);
    return failed == 0 && i == argc ? 0 : 1;
}

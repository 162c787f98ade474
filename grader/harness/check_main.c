/* check_main.c — main() of every kit test program built on Check.
 *
 * Usage: prog [CASE...]  runs the named test cases (all when none are named),
 * each in its own forked process (ALAB_NOFORK=1 runs them in-process, for a
 * debugger or Valgrind's first-error search). One record per test goes to the
 * grader's result file; the exit status is 0 when every test passed.
 */
#include "alab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int run_cases(Suite *s, const char *only)
{
    SRunner *sr = srunner_create(s);
    const char *nofork = getenv("ALAB_NOFORK");
    srunner_set_fork_status(sr, nofork != NULL && strcmp(nofork, "1") == 0 ? CK_NOFORK : CK_FORK);
    srunner_run(sr, NULL, only, getenv("ALAB_VERBOSE") != NULL ? CK_VERBOSE : CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    TestResult **results = srunner_results(sr);
    int n = srunner_ntests_run(sr);
    for (int i = 0; i < n; i++) {
        TestResult *tr = results[i];
        char line[32];
        snprintf(line, sizeof line, "%d", tr_lno(tr));
        alab_record("result", "case", tr_tcname(tr), "rtype", rtype_name(tr_rtype(tr)), "msg",
                    tr_msg(tr), "file", tr_lfile(tr), "line", line, (const char *)NULL);
    }
    free(results);
    srunner_free(sr);
    return failed;
}

int main(int argc, char **argv)
{
    alab_init();
    int failed = 0;
    if (argc < 2)
        return run_cases(alab_suite(), NULL) == 0 ? 0 : 1;
    for (int i = 1; i < argc; i++)
        failed += run_cases(alab_suite(), argv[i]);
    return failed == 0 ? 0 : 1;
}

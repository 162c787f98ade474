/* run_suite.h — how the kit's own test programs run their Check suite: each test
 * in its own process, a line per test, and the counts appended to the file
 * named by ALAB_COUNTS, which scripts/selftest adds up. */
#ifndef ALAB_RUN_SUITE_H
#define ALAB_RUN_SUITE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static inline int run_suite(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_VERBOSE);
    int failed = srunner_ntests_failed(sr), run = srunner_ntests_run(sr);
    srunner_free(sr);
    const char *counts = getenv("ALAB_COUNTS");
    FILE *f = fopen(counts != NULL ? counts : "/dev/null", "a");
    if (f != NULL) {
        fprintf(f, "%d %d\n", run - failed, failed);
        fclose(f);
    }
    return failed == 0 ? 0 : 1;
}

#endif

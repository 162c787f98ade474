/* run_suite.h — how the kit's own test programs run their Check suite: each test
 * in its own process, a line per test, and the counts appended to the file
 * named by ALAB_COUNTS, which scripts/selftest adds up.
 *
 * A test of a protection the machine cannot give (no bubblewrap in a chroot, no
 * cgroup in a container) calls KIT_SKIP("why"): it ends there, and the reason
 * goes to the file named by ALAB_SKIPS, which selftest counts as skipped. */
#ifndef ALAB_RUN_SUITE_H
#define ALAB_RUN_SUITE_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static inline void kit_skip_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void kit_skip_note(const char *fmt, ...)
{
    const char *path = getenv("ALAB_SKIPS");
    FILE *f = fopen(path != NULL ? path : "/dev/null", "a");
    if (f == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

/* Inside a Check test: counts it as skipped, with the reason, and ends it. */
#define KIT_SKIP(...)                                                                              \
    do {                                                                                           \
        kit_skip_note(__VA_ARGS__);                                                                \
        return;                                                                                    \
    } while (0)

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

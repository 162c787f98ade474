/* alab.h — what a kit test program uses to report to the grader.
 *
 * The grader names a result file in the environment (ALAB_RESULT) and hands
 * over a random token, new for every run, on a file descriptor (ALAB_TOKEN_FD);
 * both are taken by a constructor that runs before the code under test's and
 * removed before any test runs. Every record written to the file carries
 * the token, so a record forged by code that never saw it is ignored. A verdict
 * is never taken from what a program prints.
 */
#ifndef ALAB_H
#define ALAB_H

#include <check.h>
#include <stdint.h>

/* Reads the seed; called first thing in main(). */
void alab_init(void);

/* Appends one record {"token":..., "kind":kind, key:value...} to the result file.
 * Pairs are given as alternating const char * keys and values, NULL-terminated. */
void alab_record(const char *kind, ...);

/* The seed the grader chose for randomized tests (ALAB_SEED), or dflt. */
uint64_t alab_seed(uint64_t dflt);

/* Marks that test `name` reached its last line; a test that exits early
 * (exit(0) from the code under test, say) has no such record and fails. */
void alab_test_done(const char *name);

/* ALAB_TEST(name) { body } defines a Check test whose completion is recorded. */
#define ALAB_TEST(name)                                                        \
    static void name##_body(void);                                             \
    START_TEST(name)                                                           \
    {                                                                          \
        name##_body();                                                         \
        alab_test_done(#name);                                                 \
    }                                                                          \
    END_TEST                                                                   \
    static void name##_body(void)

/* Adds test `name` to suite s in a test case of the same name (one test per
 * case: a case is what the grader's manifest names), with a timeout in s. */
#define ALAB_ADD(s, name, timeout_s) alab_add_case((s), #name, (name), (timeout_s))
void alab_add_case(Suite *s, const char *case_name, const TTest *test, double timeout_s);

/* Each test program defines its suite. */
Suite *alab_suite(void);

#endif

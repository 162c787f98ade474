/* kit_tests.h — what the kit's test files share: their test cases, for
 * test_kit.c's main, and a helper to read a command's output. */
#ifndef ALAB_KIT_TESTS_H
#define ALAB_KIT_TESTS_H

#include "util.h"

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

TCase *hostile_tests(const char *root, bool fast);                 /* test_hostile.c */
TCase *handout_tests(const char *root, const strvec_t *dirnames); /* test_handout.c */

/* What `sh -c cmd` prints on stdout, trimmed; "" when it cannot run. */
char *kit_command_output(const char *cmd);
/* The same, untrimmed and binary-safe, with its length. */
char *kit_command_output_n(const char *cmd, size_t *len);

#endif

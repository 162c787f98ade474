/* diag.h — turns tool output (compiler, ThreadSanitizer, Valgrind) into one
 * sentence a student can act on, the student's file:line, and a short excerpt.
 * Pure text in, text out: the unit tests feed them recorded reports. */
#ifndef ALAB_DIAG_H
#define ALAB_DIAG_H

#include "util.h"

#include <stdbool.h>

/* What a report found: all strings owned by the caller (diag_free). */
typedef struct {
    char *message; /* one sentence */
    char *where;   /* file:line in the student's code, or NULL */
    char *details; /* the report trimmed to what matters */
} diag_t;

void diag_free(diag_t *d);

/* A frame is the student's when its file's base name is one of student_files. */

/* The first error (or, failing that, warning) of compiler/linker output. */
bool diag_compiler(const char *output, const strvec_t *student_files, diag_t *out);
/* The first ThreadSanitizer report in text. */
bool diag_tsan(const char *text, const strvec_t *student_files, diag_t *out);
/* The first AddressSanitizer or UBSan report in text. */
bool diag_asan(const char *text, const strvec_t *student_files, diag_t *out);
/* The first memcheck error in a Valgrind log. */
bool diag_valgrind(const char *text, const strvec_t *student_files, diag_t *out);
/* Does the Valgrind log contain an error whose kind starts with kind? */
bool diag_valgrind_has(const char *text, const char *kind);

#endif

/* submission.h — turns one submission as handed in (a directory, or a tar,
 * tar.gz or zip archive, told apart by content) into a flat directory that
 * holds only the files the exercise names.
 *
 * Submissions are written by strangers, so everything in them is hostile:
 * nothing is extracted but the wanted files, which are written under names the
 * exercise chose (never under a name from the submission); links are never
 * followed nor created; sizes, entry counts and depth are capped so that a zip
 * bomb or a huge tree ends in a one-line error instead of a full disk.
 */
#ifndef ALAB_SUBMISSION_H
#define ALAB_SUBMISSION_H

#include "util.h"

#include <stdbool.h>

/* A wanted file larger than this is refused. */
#define SUBMISSION_MAX_FILE_BYTES (1L << 20)
/* Reading an archive stops, and fails, once it has produced this many bytes. */
#define SUBMISSION_MAX_TOTAL_BYTES (64L << 20)
/* Entries of an archive, or of a directory tree, before it is refused. */
#define SUBMISSION_MAX_ENTRIES 10000
/* Files below this many levels of folders are not looked at. */
#define SUBMISSION_MAX_DEPTH 8

typedef struct {
    /* One line for a person when it fails, NULL on success: "pool.c is missing
     * from the archive", "the archive is damaged: ...", "two files named pool.c:
     * a/pool.c, b/pool.c". Several problems are joined with "; ". */
    char *error;
    /* One-line remarks that did not stop it: "skipped a symbolic link: x/pool.c",
     * "took pool.c from proj/pool.c", "ignored 12 other files". */
    strvec_t notes;
    /* The wanted names written into dest, in the order of `wanted`. */
    strvec_t copied;
} submission_result_t;

/* Copies the files named in `wanted` (base names such as "pool.c") from the
 * submission `path` (a directory or an archive) into `dest`, an existing empty
 * directory, flat. A wanted file is taken from the top level, or from anywhere
 * in the tree when exactly one file of that name exists there (students zip a
 * folder). Returns true when every wanted file was copied. A wanted file that
 * is missing, a link, too big or ambiguous does not stop the others from being
 * copied: the result is false and `error` names it. A damaged archive, a zip
 * bomb or a tree too large copies nothing. A name in `wanted` that is not a
 * plain file name (empty, ".", "..", with a '/') is a caller bug and fails.
 * `res` is overwritten; free it with submission_result_free. */
bool submission_collect(const char *path, const strvec_t *wanted, const char *dest,
                        submission_result_t *res);
void submission_result_free(submission_result_t *res);

#endif

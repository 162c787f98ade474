/* batch.h — grading a folder of submissions: `grade batch EX --submissions DIR
 * --out DIR [--jobs N]`.
 *
 * Each submission (a subdirectory, or a .tar.gz/.tar/.zip archive) is taken in
 * safely (submission.c) and graded by a `grade check` process of its own, in
 * parallel; perf stages take a lock that lets them run alone. Each finished
 * grading is committed with one rename(2) of its directory, so a batch killed
 * at any moment (kill -9 too) and run again goes on where it stopped, without
 * losing or repeating a submission. The gradebook and the summary are rebuilt
 * from the committed results (batch_report.c).
 *
 * OUT/
 *   gradebook.csv, summary.html     the class-wide reports
 *   batch.log                       one line per event
 *   batch.ini                       the batch's settings; a rerun must match them
 *   submissions/<id>/               report.txt, results.json, grader.log
 */
#ifndef ALAB_BATCH_H
#define ALAB_BATCH_H

#include "grade.h"

typedef struct {
    const char *submissions, *out;
    int jobs;                  /* parallel gradings; 0: one per CPU */
    const check_opts_t *check; /* seed, skip, time scale: passed to every grading */
} batch_opts_t;

/* Grades every submission not graded yet. Exit status: 0 when every
 * submission has a row and none was a grader error, 1 when some could not be
 * graded (their rows say why), 2 for bad usage. */
int batch_run(const char *root, exercise_t *ex, const batch_opts_t *o);

/* The id of a submission from its file name: archive suffixes dropped, and
 * every byte other than [A-Za-z0-9._-] replaced with '_'. Caller frees. */
char *batch_submission_id(const char *name);

#endif

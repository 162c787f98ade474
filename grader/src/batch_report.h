/* batch_report.h — the class-wide reports of `grade batch`: a gradebook CSV and
 * a standalone HTML summary, both read back from the per-submission
 * results.json files, so that they can be rebuilt without grading again. */
#ifndef ALAB_BATCH_REPORT_H
#define ALAB_BATCH_REPORT_H

#include "grade.h"

#include <stdbool.h>

/* Writes OUT/gradebook.csv and OUT/summary.html from
 * OUT/submissions/<id>/results.json of every id in ids (in the given order; the
 * caller sorts). Both files are written to a temporary name and renamed
 * (write_file_atomic). Returns false with *err set (one line, caller frees) if a
 * file cannot be written; an unreadable or missing results.json becomes a row
 * with flag "not-graded" and empty check cells.
 *
 * gradebook.csv (RFC 4180, CRLF line ends):
 *   id,total,max,bonus,flags,<check id>...   one column per check of ex, in
 *   manifest order, bonus checks included. total is results.json's "score"
 *   (bonus included, as Gradescope records it), max its "max_score", bonus
 *   extra_data.bonus; all three at most 2 decimals. A check cell is the check's
 *   score (%g), empty when the check is not in "tests". flags are joined with
 *   ';'. A not-graded row has total, max, bonus and every check cell empty. */
bool batch_write_reports(const char *outdir, const exercise_t *ex, const strvec_t *ids, char **err);

#endif

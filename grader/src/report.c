/* report.c — checks as a terminal table, or as Gradescope's results.json.
 * Knows nothing of how a check was run. */
#define _GNU_SOURCE
#include "grade.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Points as a person reads them: at most two decimals, no trailing zeros
 * (2.67746 -> "2.68", 3 -> "3"). The JSON keeps the exact figure. */
typedef struct {
    char s[32];
} points_text_t;

static points_text_t points_text(double x)
{
    points_text_t t;
    snprintf(t.s, sizeof t.s, "%.2f", x);
    char *end = t.s + strlen(t.s) - 1;
    while (*end == '0')
        *end-- = '\0';
    if (*end == '.')
        *end = '\0';
    if (strcmp(t.s, "-0") == 0)
        strcpy(t.s, "0");
    return t;
}

bool check_is_graded(const check_t *c)
{
    return c->program == NULL || c->program->available;
}

double grading_score(const exercise_t *ex, double *max, double *bonus)
{
    double score = 0;
    *max = 0;
    *bonus = 0;
    for (size_t i = 0; i < ex->nchecks; i++) {
        const check_t *c = &ex->checks[i];
        if (!check_is_graded(c))
            continue;
        if (c->bonus) {
            *bonus += c->score;
        } else {
            score += c->score;
            *max += c->points;
        }
    }
    return score;
}

bool grading_all_passed(const exercise_t *ex)
{
    for (size_t i = 0; i < ex->nchecks; i++) {
        const check_t *c = &ex->checks[i];
        if (check_is_graded(c) && !c->bonus && c->status != CHECK_PASS)
            return false;
    }
    return true;
}

static const char *status_word(check_status_t s)
{
    switch (s) {
    case CHECK_PASS:
        return "pass";
    case CHECK_FAIL:
        return "FAIL";
    case CHECK_SKIP:
        return "skip";
    default:
        return "?";
    }
}

/* Prints text wrapped at width, each line after an indent. */
static void print_wrapped(FILE *out, const char *text, int indent, int width)
{
    const char *p = text;
    while (*p != '\0') {
        int len = (int)strcspn(p, "\n");
        int take = len;
        if (take > width) {
            take = width;
            while (take > 20 && p[take] != ' ')
                take--;
            if (take <= 20)
                take = width;
        }
        fprintf(out, "%*s%.*s\n", indent, "", take, p);
        p += take;
        while (*p == ' ')
            p++;
        if (*p == '\n')
            p++;
    }
}

void report_terminal(const grading_t *g, double elapsed, FILE *out, bool color)
{
    const exercise_t *ex = g->ex;
    const char *red = color ? "\033[31m" : "", *green = color ? "\033[32m" : "",
               *dim = color ? "\033[2m" : "", *bold = color ? "\033[1m" : "",
               *off = color ? "\033[0m" : "";
    fprintf(out, "\n%sExercise %s (%s): %s%s\n", bold, ex->id, ex->slug, ex->title, off);
    fprintf(out, "graded: ");
    for (size_t i = 0; i < ex->student_files.n; i++)
        fprintf(out, "%s%s/%s", i ? ", " : "", g->src_display, ex->student_files.v[i]);
    fprintf(out, "\n\n  %-26s %-6s %9s\n", "check", "result", "points");
    for (size_t i = 0; i < ex->nchecks; i++) {
        const check_t *c = &ex->checks[i];
        if (!check_is_graded(c))
            continue;
        const char *col = c->status == CHECK_PASS ? green
                          : c->status == CHECK_FAIL && !c->bonus ? red
                                                                 : dim;
        const char *word = c->bonus && c->status == CHECK_FAIL ? "no" : status_word(c->status);
        char pts[80];
        if (c->bonus)
            snprintf(pts, sizeof pts, "+%s bonus", points_text(c->score).s);
        else
            snprintf(pts, sizeof pts, "%s/%s", points_text(c->score).s, points_text(c->points).s);
        fprintf(out, "  %-26s %s%-6s%s %9s  %s\n", c->id, col, word, off, pts, c->title);
        if (c->status != CHECK_PASS && c->message != NULL) {
            print_wrapped(out, c->message, 6, 90);
            if (c->where != NULL)
                fprintf(out, "      at %s\n", c->where);
            if (c->doc != NULL && c->status == CHECK_FAIL && !c->bonus)
                fprintf(out, "      %ssee %s%s\n", dim, c->doc, off);
        } else if (c->status == CHECK_PASS && c->stage == STAGE_PERF) {
            print_wrapped(out, c->message, 6, 90);
        }
    }
    double max, bonus, score = grading_score(ex, &max, &bonus);
    bool ok = grading_all_passed(ex);
    fprintf(out, "\n  %stotal %s/%s%s", bold, points_text(score).s, points_text(max).s, off);
    if (bonus > 0)
        fprintf(out, " (+%s bonus)", points_text(bonus).s);
    fprintf(out, "   %s\n", ok ? "every check passed" : "some checks did not pass");
    if (g->flags.n > 0) {
        fprintf(out, "  what happened:");
        for (size_t i = 0; i < g->flags.n; i++)
            fprintf(out, "%s %s", i ? "," : "", g->flags.v[i]);
        fputc('\n', out);
    }
    fprintf(out, "  %stime:", dim);
    for (int s = 0; s < NSTAGES; s++)
        if (g->stage_ran[s])
            fprintf(out, " %s %.1fs ·", stage_names[s], g->stage_seconds[s]);
    fprintf(out, " total %.1fs%s\n", elapsed, off);
    bool details = false;
    for (size_t i = 0; i < ex->nchecks; i++)
        details |= ex->checks[i].status == CHECK_FAIL && ex->checks[i].details != NULL;
    if (details)
        fprintf(out, "  %sfull reports of the failures: the JSON report (JSON=file) has them%s\n",
                dim, off);
    fputc('\n', out);
}

char *report_json(const grading_t *g, double elapsed)
{
    const exercise_t *ex = g->ex;
    json_t *tests = json_array();
    for (size_t i = 0; i < ex->nchecks; i++) {
        const check_t *c = &ex->checks[i];
        if (!check_is_graded(c))
            continue;
        strbuf_t out = {0};
        sb_printf(&out, "%s%s", c->status == CHECK_SKIP ? "skipped: " : "",
                  c->message != NULL ? c->message : "");
        if (c->where != NULL)
            sb_printf(&out, "\nat %s", c->where);
        if (c->doc != NULL && c->status != CHECK_PASS)
            sb_printf(&out, "\nsee %s", c->doc);
        if (c->details != NULL && c->status != CHECK_PASS)
            sb_printf(&out, "\n\n%s", c->details);
        char *output = sb_take(&out);
        json_t *t = json_pack("{s:s, s:f, s:f, s:s, s:s, s:s, s:s, s:s}", "name", c->title, "score",
                              c->score, "max_score", c->bonus ? 0.0 : c->points, "status",
                              c->status == CHECK_PASS ? "passed" : "failed", "output", output,
                              "visibility", c->visibility, "check", c->id, "stage", stage_names[c->stage]);
        json_object_set_new(t, "name_format", json_string("text"));
        json_object_set_new(t, "bonus", json_boolean(c->bonus));
        json_object_set_new(t, "result", json_string(c->status == CHECK_PASS   ? "pass"
                                                     : c->status == CHECK_FAIL ? "fail"
                                                                               : "skip"));
        if (c->where != NULL)
            json_object_set_new(t, "where", json_string(c->where));
        if (c->doc != NULL)
            json_object_set_new(t, "doc", json_string(c->doc));
        json_array_append_new(tests, t);
        free(output);
    }
    double max, bonus, score = grading_score(ex, &max, &bonus);
    json_t *stages = json_object();
    for (int s = 0; s < NSTAGES; s++)
        if (g->stage_ran[s])
            json_object_set_new(stages, stage_names[s], json_real(g->stage_seconds[s]));
    char *summary = xasprintf("Exercise %s (%s): %g/%g%s", ex->id, ex->slug, score + bonus, max,
                              grading_all_passed(ex) ? ", every check passed" : "");
    json_t *root = json_pack("{s:f, s:f, s:f, s:s, s:s, s:o, s:{s:s, s:s, s:I, s:o, s:b, s:f, s:I}}",
                             "score", score + bonus, "max_score", max, "execution_time", elapsed,
                             "output", summary, "stdout_visibility", "hidden", "tests", tests,
                             "extra_data", "exercise", ex->id, "slug", ex->slug, "seed",
                             (json_int_t)g->seed, "stage_seconds", stages, "all_passed",
                             grading_all_passed(ex), "bonus", bonus, "student_uid",
                             (json_int_t)(g->sandbox_uid != 0 ? g->sandbox_uid : getuid()));
    free(summary);
    json_t *extra = json_object_get(root, "extra_data"), *flags = json_array();
    for (size_t i = 0; i < g->flags.n; i++)
        json_array_append_new(flags, json_string(g->flags.v[i]));
    json_object_set_new(extra, "flags", flags);
    json_object_set_new(extra, "isolation", json_string(g->isolation != NULL ? g->isolation : ""));
    json_object_set_new(extra, "timeout_scale", json_real(g->time_scale));
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(root);
    char *with_newline = xasprintf("%s\n", text);
    free(text);
    return with_newline;
}

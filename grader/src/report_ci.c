/* report_ci.c — checks as JUnit XML or TAP, for CI systems (GitHub Actions,
 * GitLab, Jenkins read JUnit; prove and many others read TAP). Like report.c,
 * it knows nothing of how a check was run. */
#define _GNU_SOURCE
#include "grade.h"

#include <stdlib.h>
#include <string.h>

/* Text escaped for XML character data and attribute values. */
static void xml_append(strbuf_t *sb, const char *s)
{
    if (s != NULL)
        sb_append_markup(sb, s);
}

/* What a person should read about a check that did not pass. */
static char *check_text(const check_t *c)
{
    strbuf_t sb = {0};
    sb_append(&sb, c->message != NULL ? c->message : "");
    if (c->where != NULL)
        sb_printf(&sb, "\nat %s", c->where);
    if (c->doc != NULL && c->status == CHECK_FAIL)
        sb_printf(&sb, "\nsee %s", c->doc);
    if (c->details != NULL && c->status == CHECK_FAIL)
        sb_printf(&sb, "\n\n%s", c->details);
    return sb_take(&sb);
}

char *report_junit(const grading_t *g, double elapsed)
{
    const exercise_t *ex = g->ex;
    size_t tests = 0, failures = 0, skipped = 0;
    for (size_t i = 0; i < ex->nchecks; i++) {
        const check_t *c = &ex->checks[i];
        if (!check_is_graded(c))
            continue;
        tests++;
        failures += c->status == CHECK_FAIL && !c->bonus;
        skipped += c->status == CHECK_SKIP || (c->status == CHECK_FAIL && c->bonus);
    }
    double max, bonus, score = grading_score(ex, &max, &bonus);
    strbuf_t sb = {0};
    sb_append(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sb_printf(&sb, "<testsuites name=\"allocator-lab\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" "
                   "time=\"%.3f\">\n",
              tests, failures, skipped, elapsed);
    sb_printf(&sb, "  <testsuite name=\"ex%s-%s\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" "
                   "time=\"%.3f\">\n",
              ex->id, ex->slug, tests, failures, skipped, elapsed);
    sb_printf(&sb, "    <properties><property name=\"score\" value=\"%g\"/><property "
                   "name=\"max_score\" value=\"%g\"/><property name=\"bonus\" value=\"%g\"/>"
                   "<property name=\"seed\" value=\"%llu\"/></properties>\n",
              score, max, bonus, (unsigned long long)g->seed);
    for (size_t i = 0; i < ex->nchecks; i++) {
        const check_t *c = &ex->checks[i];
        if (!check_is_graded(c))
            continue;
        sb_append(&sb, "    <testcase classname=\"");
        xml_append(&sb, stage_names[c->stage]);
        sb_append(&sb, "\" name=\"");
        xml_append(&sb, c->id);
        sb_printf(&sb, " (%g/%g)\"", c->score, c->bonus ? 0.0 : c->points);
        if (c->status == CHECK_PASS) {
            sb_append(&sb, "/>\n");
            continue;
        }
        char *text = check_text(c);
        bool failed = c->status == CHECK_FAIL && !c->bonus;
        sb_printf(&sb, ">\n      <%s message=\"", failed ? "failure" : "skipped");
        xml_append(&sb, c->message);
        sb_append(&sb, "\">");
        xml_append(&sb, text);
        sb_printf(&sb, "</%s>\n    </testcase>\n", failed ? "failure" : "skipped");
        free(text);
    }
    sb_append(&sb, "  </testsuite>\n</testsuites>\n");
    return sb_take(&sb);
}

char *report_tap(const grading_t *g)
{
    const exercise_t *ex = g->ex;
    size_t n = 0;
    for (size_t i = 0; i < ex->nchecks; i++)
        n += check_is_graded(&ex->checks[i]);
    strbuf_t sb = {0};
    sb_printf(&sb, "TAP version 13\n1..%zu\n", n);
    size_t k = 0;
    for (size_t i = 0; i < ex->nchecks; i++) {
        const check_t *c = &ex->checks[i];
        if (!check_is_graded(c))
            continue;
        k++;
        bool ok = c->status == CHECK_PASS;
        const char *directive = c->status == CHECK_SKIP ? " # SKIP"
                                : c->bonus && !ok       ? " # SKIP bonus not earned:"
                                                        : "";
        /* '#' would start a directive in a description */
        char *title = str_replace_all(c->title, "#", "no.");
        sb_printf(&sb, "%s %zu - %s: %s (%g/%g)%s", ok || c->bonus || c->status == CHECK_SKIP ? "ok" : "not ok",
                  k, c->id, title, c->score, c->bonus ? 0.0 : c->points, directive);
        free(title);
        if (c->status == CHECK_SKIP && c->message != NULL) {
            char *m = str_replace_all(c->message, "\n", " ");
            sb_printf(&sb, " %s", m);
            free(m);
        }
        sb_append(&sb, "\n");
        if (!ok && c->status != CHECK_SKIP) {
            char *text = check_text(c);
            sb_append(&sb, "  ---\n  message: |\n");
            for (char *line = text, *next; line != NULL; line = next) {
                next = strchr(line, '\n');
                if (next != NULL)
                    *next++ = '\0';
                sb_printf(&sb, "    %s\n", line);
            }
            sb_append(&sb, "  ...\n");
            free(text);
        }
    }
    double max, bonus, score = grading_score(ex, &max, &bonus);
    sb_printf(&sb, "# total %g/%g%s\n", score, max, bonus > 0 ? " (+bonus)" : "");
    return sb_take(&sb);
}

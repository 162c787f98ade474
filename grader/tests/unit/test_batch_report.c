/* test_batch_report.c — gradebook.csv and summary.html of `grade batch`, built
 * from results.json files written by hand: exact CSV (quoting, the formula
 * guard, rows for submissions without results), HTML escaping, and the same
 * bytes on a second run. test_grader.c's main adds batch_report_tests(). */
#define _GNU_SOURCE
#include "batch_report.h"
#include "grade.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A manifest's worth of checks, without a manifest: what the reports read of
 * an exercise is its id, title and the checks' ids, titles and points. */
static void tiny_exercise(exercise_t *ex)
{
    static const struct {
        const char *id, *title;
        stage_t stage;
        double points;
        bool bonus;
    } spec[] = {
        {"build", "pool.c compiles", STAGE_BUILD, 0, false},
        {"tests/basic", "blocks come back after pool_free", STAGE_TESTS, 4, false},
        {"perf/seed", "speedup over malloc", STAGE_PERF, 7, false},
        {"bonus/thread-cache", "bonus: a cache per thread", STAGE_BONUS, 3, true},
    };
    memset(ex, 0, sizeof *ex);
    ex->id = xstrdup("06");
    ex->slug = xstrdup("mtpool");
    ex->title = xstrdup("A thread-safe pool <allocator>");
    ex->nchecks = sizeof spec / sizeof *spec;
    ex->checks = xcalloc(ex->nchecks, sizeof *ex->checks);
    for (size_t i = 0; i < ex->nchecks; i++) {
        ex->checks[i].id = xstrdup(spec[i].id);
        ex->checks[i].title = xstrdup(spec[i].title);
        ex->checks[i].stage = spec[i].stage;
        ex->checks[i].points = spec[i].points;
        ex->checks[i].bonus = spec[i].bonus;
    }
}

static void free_exercise(exercise_t *ex)
{
    for (size_t i = 0; i < ex->nchecks; i++) {
        free(ex->checks[i].id);
        free(ex->checks[i].title);
    }
    free(ex->checks);
    free(ex->id);
    free(ex->slug);
    free(ex->title);
}

static void put_results(const char *out, const char *id, const char *json)
{
    char *sub = path_join(out, "submissions");
    char *dir = path_join(sub, id);
    mkdir_p(dir);
    char *path = path_join(dir, "results.json");
    ck_assert(write_file_atomic(path, json, strlen(json)));
    free(path);
    free(dir);
    free(sub);
}

static char *slurp(const char *out, const char *name)
{
    char *path = path_join(out, name);
    char *text = read_file(path, NULL);
    ck_assert_msg(text != NULL, "%s was not written", path);
    free(path);
    return text;
}

static char *make_outdir(void)
{
    char tmpl[] = "/tmp/alab-batch-XXXXXX";
    ck_assert(mkdtemp(tmpl) != NULL);
    return xstrdup(tmpl);
}

/* A results.json as report_json writes it, reduced to what the reports read;
 * each test is "check result score". Scores are JSON number text, so float
 * noise can be written as the perf stage would leave it. */
static void put_graded(const char *out, const char *id, const char *score, const char *bonus,
                       const char *flags, const char *const *tests)
{
    strbuf_t sb = {0};
    sb_printf(&sb, "{\"score\": %s, \"max_score\": 11.0, \"output\": \"Exercise 06\", \"tests\": [",
              score);
    for (size_t i = 0; tests[i] != NULL; i++) {
        char check[64], result[16], pts[32];
        ck_assert(sscanf(tests[i], "%63s %15s %31s", check, result, pts) == 3);
        sb_printf(&sb, "%s{\"check\": \"%s\", \"result\": \"%s\", \"score\": %s}", i ? ", " : "",
                  check, result, pts);
    }
    sb_printf(&sb, "], \"extra_data\": {\"exercise\": \"06\", \"bonus\": %s, \"flags\": [%s]}}\n",
              bonus, flags);
    char *json = sb_take(&sb);
    put_results(out, id, json);
    free(json);
}

/* The class of the tests below, in the order the caller sorted it. */
static void fill_class(const char *out, strvec_t *ids)
{
    put_graded(out, "alice", "14.0", "3.0", "",
               (const char *[]){"build pass 0", "tests/basic pass 4.0", "perf/seed pass 7.0",
                                "bonus/thread-cache pass 3.0", NULL});
    sv_push(ids, "alice");
    /* Float noise from the perf stage: %g in the cells, 2 decimals in the total. */
    put_graded(out, "smith, john", "7.1234560000000004", "0.0", "\"timeout\"",
               (const char *[]){"build pass 0", "tests/basic pass 4.0",
                                "perf/seed fail 3.1234560000000004", "bonus/thread-cache fail 0.0",
                                NULL});
    sv_push(ids, "smith, john");
    put_graded(out, "o\"neil", "4.0", "0.0", "\"crash\", \"output-cut\"",
               (const char *[]){"build pass 0", "tests/basic pass 4.0", "perf/seed skip 0.0",
                                "bonus/thread-cache skip 0.0", NULL});
    sv_push(ids, "o\"neil");
    /* Could not be graded at all: no tests, the reason in output. */
    put_results(out, "=HYPERLINK(\"x\",\"y\")",
                "{\"score\": 0, \"max_score\": 11, \"tests\": [], \"output\": \"cannot unpack: "
                "<bad> & \\\"q\\\"\\nsecond line\", \"extra_data\": {\"submission\": "
                "\"=HYPERLINK(\\\"x\\\",\\\"y\\\")\", \"flags\": [\"error\"]}}\n");
    sv_push(ids, "=HYPERLINK(\"x\",\"y\")");
    sv_push(ids, "ghost"); /* no directory at all */
    put_results(out, "broken", "{not json");
    sv_push(ids, "broken");
    /* A check that is not in the manifest has no column. */
    put_graded(
        out, "<img src=x onerror=alert(1)>", "4.0", "0.0", "\"memory\"",
        (const char *[]){"build pass 0", "tests/basic pass 4.0", "tests/unknown pass 1.0", NULL});
    sv_push(ids, "<img src=x onerror=alert(1)>");
    put_results(out, "two\nlines", "{\"score\": 1}\n"); /* no tests array */
    sv_push(ids, "two\nlines");
    sv_push(ids, "-x");
    sv_push(ids, "@me");
}

static const char expected_csv[] =
    "id,total,max,bonus,flags,build,tests/basic,perf/seed,bonus/thread-cache\r\n"
    "alice,14,11,3,,0,4,7,3\r\n"
    "\"smith, john\",7.12,11,0,timeout,0,4,3.12346,0\r\n"
    "\"o\"\"neil\",4,11,0,crash;output-cut,0,4,0,0\r\n"
    "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\",0,11,0,error,,,,\r\n"
    "ghost,,,,not-graded,,,,\r\n"
    "broken,,,,not-graded,,,,\r\n"
    "<img src=x onerror=alert(1)>,4,11,0,memory,0,4,,\r\n"
    "\"two\nlines\",,,,not-graded,,,,\r\n"
    "'-x,,,,not-graded,,,,\r\n"
    "'@me,,,,not-graded,,,,\r\n";

START_TEST(batch_gradebook_csv_is_exact)
{
    exercise_t ex;
    tiny_exercise(&ex);
    char *out = make_outdir();
    strvec_t ids = {0};
    fill_class(out, &ids);
    char *err = NULL;
    ck_assert_msg(batch_write_reports(out, &ex, &ids, &err), "failed: %s", err);
    char *csv = slurp(out, "gradebook.csv");
    ck_assert_str_eq(csv, expected_csv);
    free(csv);
    rm_rf(out);
    free(out);
    free_exercise(&ex);
    sv_free(&ids);
}
END_TEST

START_TEST(batch_summary_html_is_escaped_and_standalone)
{
    exercise_t ex;
    tiny_exercise(&ex);
    char *out = make_outdir();
    strvec_t ids = {0};
    fill_class(out, &ids);
    char *err = NULL;
    ck_assert_msg(batch_write_reports(out, &ex, &ids, &err), "failed: %s", err);
    char *html = slurp(out, "summary.html");
    ck_assert_msg(strstr(html, "<svg") != NULL, "an inline SVG histogram");
    ck_assert_msg(strstr(html, "&lt;img src=x onerror=alert(1)&gt;") != NULL, "the id, escaped");
    ck_assert_msg(strstr(html, "<img") == NULL, "no markup from a file name");
    ck_assert_msg(strstr(html, "o&quot;neil") != NULL, "quotes escaped");
    ck_assert_msg(strstr(html, "pool &lt;allocator&gt;</h1>") != NULL, "the title, escaped");
    ck_assert_msg(strstr(html, "href=\"submissions/smith%2C%20john/report.txt\"") != NULL,
                  "the link to the report, percent-encoded");
    ck_assert_msg(strstr(html, "href=\"submissions/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/"
                               "report.txt\"") != NULL,
                  "a link cannot leave submissions/");
    ck_assert_msg(strstr(html, "cannot unpack: &lt;bad&gt; &amp; &quot;q&quot;") != NULL,
                  "an error's reason, escaped");
    ck_assert_msg(strstr(html, "second line") == NULL, "the reason is one line");
    ck_assert_msg(strstr(html, "no results.json") != NULL, "why a row is not graded");
    ck_assert_msg(strstr(html, "<script") == NULL && strstr(html, "src=\"http") == NULL &&
                      strstr(html, "href=\"http") == NULL,
                  "no script, nothing loaded");
    /* 5 graded of 10, one of them an error; totals 14 7.12 4 0 4. */
    ck_assert_msg(strstr(html, "10 submissions: 5 graded (1 with a grading error, scored 0), 5 "
                               "not graded.") != NULL,
                  "the counts");
    ck_assert_msg(strstr(html, "<td class=\"n\">5.82</td><td class=\"n\">4</td><td "
                               "class=\"n\">0</td><td class=\"n\">14</td>") != NULL,
                  "mean, median, min, max");
    ck_assert_msg(strstr(html, "<td class=\"n\">80%</td>") != NULL, "tests/basic: 4 of 5 pass");
    /* 10 bins over 0..11; 14 (bonus included) lands in the last one. */
    const char *bins[] = {"<title>0 to 1.1: 1</title>", "<title>1.1 to 2.2: 0</title>",
                          "<title>3.3 to 4.4: 2</title>", "<title>6.6 to 7.7: 1</title>",
                          "<title>9.9 to 11: 1</title>"};
    for (size_t i = 0; i < sizeof bins / sizeof *bins; i++)
        ck_assert_msg(strstr(html, bins[i]) != NULL, "histogram bin %s", bins[i]);
    free(html);
    rm_rf(out);
    free(out);
    free_exercise(&ex);
    sv_free(&ids);
}
END_TEST

START_TEST(batch_reports_are_deterministic)
{
    exercise_t ex;
    tiny_exercise(&ex);
    char *out = make_outdir();
    strvec_t ids = {0};
    fill_class(out, &ids);
    char *err = NULL;
    ck_assert(batch_write_reports(out, &ex, &ids, &err));
    char *csv1 = slurp(out, "gradebook.csv"), *html1 = slurp(out, "summary.html");
    ck_assert(batch_write_reports(out, &ex, &ids, &err));
    char *csv2 = slurp(out, "gradebook.csv"), *html2 = slurp(out, "summary.html");
    ck_assert_str_eq(csv1, csv2);
    ck_assert_str_eq(html1, html2);
    /* Only the two reports beside submissions/: no temporary file left over. */
    DIR *d = opendir(out);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        ck_assert_msg(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                          strcmp(e->d_name, "submissions") == 0 ||
                          strcmp(e->d_name, "gradebook.csv") == 0 ||
                          strcmp(e->d_name, "summary.html") == 0,
                      "unexpected file %s", e->d_name);
    closedir(d);
    free(csv1);
    free(csv2);
    free(html1);
    free(html2);
    rm_rf(out);
    free(out);
    free_exercise(&ex);
    sv_free(&ids);
}
END_TEST

START_TEST(batch_reports_empty_class_and_write_error)
{
    exercise_t ex;
    tiny_exercise(&ex);
    char *out = make_outdir();
    strvec_t ids = {0};
    char *err = NULL;
    ck_assert(batch_write_reports(out, &ex, &ids, &err));
    char *csv = slurp(out, "gradebook.csv");
    ck_assert_str_eq(csv, "id,total,max,bonus,flags,build,tests/basic,perf/seed,"
                          "bonus/thread-cache\r\n");
    free(csv);
    char *html = slurp(out, "summary.html");
    ck_assert(strstr(html, "0 submissions") != NULL && strstr(html, "<svg") != NULL);
    free(html);
    char *missing = path_join(out, "no/such/dir");
    ck_assert(!batch_write_reports(missing, &ex, &ids, &err));
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "gradebook.csv") != NULL && strchr(err, '\n') == NULL,
                  "one line naming the file: %s", err);
    free(err);
    free(missing);
    rm_rf(out);
    free(out);
    free_exercise(&ex);
}
END_TEST

TCase *batch_report_tests(void)
{
    TCase *tc = tcase_create("batch-report");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, batch_gradebook_csv_is_exact);
    tcase_add_test(tc, batch_summary_html_is_escaped_and_standalone);
    tcase_add_test(tc, batch_reports_are_deterministic);
    tcase_add_test(tc, batch_reports_empty_class_and_write_error);
    return tc;
}

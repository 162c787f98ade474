/* test_manifest.c — the manifest's schema: a typo planted in a copy of a real
 * manifest stops the grader with "file:line: ..." and status 2 before anything
 * is graded. Each test copies ex06's folder to a temporary directory, changes
 * one line of its exercise.ini and loads it in a child process (the loader
 * exits). The case-name check needs the test program, so that one runs the
 * grader itself on a temporary kit. test_grader.c's main adds manifest_tests(). */
#define _GNU_SOURCE
#include "grade.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *root;

typedef struct {
    char *tmp;  /* the temporary directory, removed by planted_free */
    char *dir;  /* the exercise's copy */
    int line;   /* the planted line's number */
} planted_t;

/* Copies exercises/ex06-mtpool to tmp/exercises/ex06-mtpool and replaces the
 * n-th (from 1) line equal to `from` in its exercise.ini with `to` (NULL:
 * the line is removed, and `line` is where it was). */
static planted_t plant(const char *from, int n, const char *to)
{
    planted_t p = {0};
    char tmpl[] = "/tmp/alab-schema-XXXXXX";
    ck_assert(mkdtemp(tmpl) != NULL);
    chmod(tmpl, 0755); /* the grader's sandbox user reads the kit copy */
    p.tmp = xstrdup(tmpl);
    char *exdir = xasprintf("%s/exercises", p.tmp);
    mkdir_p(exdir);
    char *cmd = xasprintf("cp -r '%s/exercises/ex06-mtpool' '%s/'", root, exdir);
    ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
    p.dir = xasprintf("%s/ex06-mtpool", exdir);
    char *ini = path_join(p.dir, "exercise.ini");
    char *text = read_file(ini, NULL);
    ck_assert_ptr_nonnull(text);
    strbuf_t out = {0};
    int lineno = 0, seen = 0;
    /* strtok_r would skip blank lines: split by hand to keep line numbers */
    for (char *l = text, *eol; l != NULL && *l != '\0'; l = eol != NULL ? eol + 1 : NULL) {
        eol = strchr(l, '\n');
        if (eol != NULL)
            *eol = '\0';
        lineno++;
        if (strcmp(l, from) == 0 && ++seen == n) {
            p.line = lineno;
            if (to != NULL)
                sb_printf(&out, "%s\n", to);
        } else {
            sb_printf(&out, "%s\n", l);
        }
    }
    ck_assert_msg(p.line > 0, "ex06's exercise.ini has no line '%s' (occurrence %d)", from, n);
    char *s = sb_take(&out);
    ck_assert(write_file_atomic(ini, s, strlen(s)));
    free(s);
    free(text);
    free(ini);
    free(cmd);
    free(exdir);
    return p;
}

static void planted_free(planted_t *p)
{
    rm_rf(p->tmp);
    free(p->tmp);
    free(p->dir);
}

/* Loads the planted manifest in a child; returns what it printed on stderr
 * and its exit status in *status (-1: it did not exit). */
static char *load_in_child(const planted_t *p, int *status)
{
    char *errpath = xasprintf("%s/stderr", p->tmp);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        if (freopen(errpath, "w", stderr) == NULL)
            _exit(99);
        exercise_t ex;
        exercise_load(&ex, root, p->dir);
        _exit(0);
    }
    int st;
    ck_assert(waitpid(pid, &st, 0) == pid);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    char *text = read_file(errpath, NULL);
    free(errpath);
    return text != NULL ? text : xstrdup("");
}

/* Plants the typo, loads, and asserts status 2 and "exercise.ini:LINE: ...what...". */
static void assert_rejected(const char *from, int n, const char *to, const char *what)
{
    planted_t p = plant(from, n, to);
    int status;
    char *err = load_in_child(&p, &status);
    char *where = xasprintf("exercise.ini:%d: ", p.line);
    ck_assert_msg(status == 2, "'%s' -> '%s': the loader should exit with status 2, not %d (%s)",
                  from, to ? to : "(removed)", status, err);
    ck_assert_msg(strstr(err, where) != NULL && strstr(err, what) != NULL,
                  "'%s' -> '%s': the error should name %s and say \"%s\"; it was: %s", from,
                  to ? to : "(removed)", where, what, err);
    free(where);
    free(err);
    planted_free(&p);
}

START_TEST(schema_unknown_key)
{
    assert_rejected("repeat = 3", 1, "repaet = 3", "unknown key 'repaet'");
    assert_rejected("full_at = 2.0", 1, "ful_at = 2.0", "unknown key 'ful_at'");
    /* a key of another stage is unknown here too */
    assert_rejected("cases = basic", 1, "rounds = 5", "unknown key 'rounds' in stage tests");
}
END_TEST

START_TEST(schema_bad_number)
{
    assert_rejected("repeat = 3", 1, "repeat = three", "repeat = 'three' is not a whole number");
    assert_rejected("rounds = 5", 1, "rounds = five", "rounds = 'five' is not a whole number");
    assert_rejected("points = 4", 1, "points = 4x", "points = '4x' is not a number");
    assert_rejected("optional = yes", 1, "optional = sure", "optional = 'sure' is not yes or no");
}
END_TEST

START_TEST(schema_out_of_range)
{
    assert_rejected("repeat = 3", 1, "repeat = 0", "repeat = 0 is out of range");
    assert_rejected("reference_share = 0.75", 1, "reference_share = 7.5",
                    "reference_share = 7.5 is out of range");
    assert_rejected("points = 4", 1, "points = -4", "points = -4 is out of range");
}
END_TEST

START_TEST(schema_missing_required_key)
{
    /* the line is gone: the error names the section's line, just above */
    planted_t p = plant("full_at = 2.0", 1, NULL);
    int status;
    char *err = load_in_child(&p, &status);
    ck_assert_msg(status == 2 && strstr(err, "[check perf/seed] needs full_at") != NULL,
                  "status %d, error: %s", status, err);
    ck_assert_msg(strstr(err, "exercise.ini:") != NULL, "the error should name the file: %s", err);
    free(err);
    planted_free(&p);
    assert_rejected("kind = check", 1, "kind = chekc", "kind = 'chekc' is not one of");
    assert_rejected("stage = tests", 1, "stage = test", "unknown stage");
}
END_TEST

START_TEST(schema_key_set_twice)
{
    planted_t p = plant("points = 4", 1, "points = 4\npoints = 5");
    int status;
    char *err = load_in_child(&p, &status);
    char *where = xasprintf("exercise.ini:%d: ", p.line + 1);
    ck_assert_msg(status == 2 && strstr(err, where) != NULL && strstr(err, "points is set twice"),
                  "status %d, error: %s", status, err);
    free(where);
    free(err);
    planted_free(&p);
}
END_TEST

/* The copy of the kit the grader runs on: its harness, the reference, and
 * exercises/ with only the planted copy (sandboxed compilers see the kit's
 * own directory, so these are copies, not links). */
static void make_kit(const planted_t *p)
{
    char *cmd = xasprintf("mkdir -p '%s/grader' '%s/solutions' && cp -r '%s/grader/harness' '%s/grader/' "
                          "&& cp -r '%s/solutions/ex06' '%s/solutions/'",
                          p->tmp, p->tmp, root, p->tmp, root, p->tmp);
    ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
    free(cmd);
}

START_TEST(schema_unknown_case_stops_before_grading)
{
    planted_t p = plant("cases = basic", 1, "cases = basci");
    make_kit(&p);
    char *out = xasprintf("%s/stdout", p.tmp), *err = xasprintf("%s/stderr", p.tmp);
    char *cmd = xasprintf("'%s/build/grade' check 06 --root '%s' --src '%s/solutions/ex06' "
                          "--skip tsan,asan,valgrind,perf,bonus --quiet >'%s' 2>'%s'",
                          root, p.tmp, p.tmp, out, err);
    int st = system(cmd);
    char *said = read_file(err, NULL), *printed = read_file(out, NULL);
    char *where = xasprintf("exercise.ini:%d: [check tests/basic]", p.line);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "the grader should exit with status 2: %s",
                  said);
    ck_assert_msg(said != NULL && strstr(said, where) != NULL && strstr(said, "'basci'") != NULL,
                  "the error should name %s and the case basci: %s", where, said);
    ck_assert_msg(printed == NULL || printed[0] == '\0', "nothing may be graded: %s", printed);
    free(where);
    free(said);
    free(printed);
    free(cmd);
    free(out);
    free(err);
    planted_free(&p);
}
END_TEST

TCase *manifest_tests(const char *kit_root)
{
    root = kit_root;
    TCase *tc = tcase_create("manifest-schema");
    tcase_set_timeout(tc, 600); /* one test builds ex06's programs on a loaded machine */
    tcase_add_test(tc, schema_unknown_key);
    tcase_add_test(tc, schema_bad_number);
    tcase_add_test(tc, schema_out_of_range);
    tcase_add_test(tc, schema_missing_required_key);
    tcase_add_test(tc, schema_key_set_twice);
    tcase_add_test(tc, schema_unknown_case_stops_before_grading);
    return tc;
}

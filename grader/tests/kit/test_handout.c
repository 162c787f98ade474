/* test_handout.c — the students' copy of the kit (make handout), judged:
 *   - it holds no answer: no solution source, hidden test, mutant, variant or
 *     hostile submission, and no distinctive line of any reference source
 *     appears in any of its files (the shipped reference objects included);
 *   - every exercise grades in it: the reference with every public check
 *     passed and exit status 0, the hidden checks left to the instructor, and
 *     the skeleton with the same public score as in the full kit.
 * The handout is built and graded once, in an unchecked fixture (one batch per
 * exercise, without memcheck, ASan and real programs: the stages that use the
 * reference, perf and measure, run); the tests read what it left.
 */
#define _GNU_SOURCE
#include "grade.h"

#include "../run_suite.h"

#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit_tests.h"

#define HANDOUT_SKIP "valgrind,asan,programs" /* perf waits for tsan in ex06 */

static const char *kit;
static char *base, *tree; /* build/kit-runs/handout, and the handout unpacked in it */
static char *setup_error;
static strvec_t exercises; /* "ex06-mtpool" ... */

static void handout_setup(void)
{
    base = xasprintf("%s/build/kit-runs/handout", kit);
    tree = xasprintf("%s/tree/allocator-lab", base);
    rm_rf(base);
    mkdir_p(base);
    char *cmd = xasprintf("'%s/scripts/handout' '%s/h.tar.gz' >'%s/build.txt' 2>&1 && mkdir -p '%s/tree' "
                          "&& tar -C '%s/tree' -xzf '%s/h.tar.gz' && make -C '%s' -s build/grade "
                          ">>'%s/build.txt' 2>&1",
                          kit, base, base, base, base, base, tree, base);
    if (system(cmd) != 0) {
        setup_error = xasprintf("the handout was not built: see %s/build.txt", base);
        free(cmd);
        return;
    }
    free(cmd);
    for (size_t i = 0; i < exercises.n; i++) {
        const char *d = exercises.v[i];
        char num[3] = {d[2], d[3], '\0'};
        char *subs = xasprintf("%s/subs-ex%s", base, num), *out = xasprintf("%s/out-ex%s", base, num);
        char *c = xasprintf(
            "mkdir -p '%s/reference' '%s/skeleton' && cp '%s/solutions/ex%s'/*.c '%s/reference/' && "
            "cp '%s/skeletons/ex%s'/*.c '%s/skeleton/' && '%s/build/grade' batch %s --submissions "
            "'%s' --out '%s' --jobs 2 --skip " HANDOUT_SKIP " >'%s/batch-ex%s.txt' 2>&1",
            subs, subs, kit, num, subs, kit, num, subs, tree, num, subs, out, base, num);
        if (system(c) < 0)
            setup_error = xasprintf("could not grade exercise %s in the handout", num);
        free(c);
        free(subs);
        free(out);
    }
}

static json_t *handout_results(const char *num, const char *who)
{
    char *p = xasprintf("%s/out-ex%s/submissions/%s/results.json", base, num, who);
    json_t *r = json_load_file(p, 0, NULL);
    free(p);
    return r;
}

START_TEST(handout_grades)
{
    ck_assert_msg(setup_error == NULL, "%s", setup_error);
    const char *d = exercises.v[_i];
    char num[3] = {d[2], d[3], '\0'};
    json_t *ref = handout_results(num, "reference"), *skel = handout_results(num, "skeleton");
    ck_assert_msg(ref != NULL && skel != NULL, "ex%s: not graded in the handout (see %s/batch-ex%s.txt)",
                  num, base, num);
    /* its exit status is 1: the stages left out are skipped; each check says why */
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(ref, "tests"), i, t) {
        const char *id = json_string_value(json_object_get(t, "check"));
        const char *r = json_string_value(json_object_get(t, "result"));
        const char *out = json_string_value(json_object_get(t, "output"));
        bool bonus = json_object_get(t, "bonus") == json_true();
        bool left_out = strcmp(r, "skip") == 0 && out != NULL &&
                        (strstr(out, "--skip") != NULL || strstr(out, "graded by your instructor") != NULL ||
                         strstr(out, "and it was skipped") != NULL);
        ck_assert_msg(bonus || left_out || strcmp(r, "pass") == 0,
                      "ex%s: in the handout, the reference's %s is %s: %s", num, id, r, out);
    }
    /* the skeleton: check by check, the score of the full kit's grading */
    char *full_path = xasprintf("%s/build/kit-runs/ex%s/perf/out/submissions/skeleton/results.json", kit, num);
    json_t *full = json_load_file(full_path, 0, NULL);
    ck_assert_msg(full != NULL, "ex%s: the full kit's grading of the skeleton is missing (%s)", num,
                  full_path);
    json_array_foreach(json_object_get(skel, "tests"), i, t) {
        const char *id = json_string_value(json_object_get(t, "check"));
        const char *out = json_string_value(json_object_get(t, "output"));
        if (out != NULL && (strstr(out, "--skip") != NULL || strstr(out, "graded by your instructor")))
            continue;
        size_t k;
        json_t *f, *same = NULL;
        json_array_foreach(json_object_get(full, "tests"), k, f)
            if (strcmp(json_string_value(json_object_get(f, "check")), id) == 0)
                same = f;
        ck_assert_msg(same != NULL, "ex%s: the handout grades %s, the full kit does not", num, id);
        double a = json_number_value(json_object_get(t, "score"));
        double b = json_number_value(json_object_get(same, "score"));
        ck_assert_msg(a == b, "ex%s skeleton: %s scores %g in the handout, %g in the full kit", num, id, a, b);
    }
    json_decref(full);
    free(full_path);
    json_decref(ref);
    json_decref(skel);
}
END_TEST

/* Lines of a reference that give its answer away: code (not comments, not
 * string literals, which a compiled object keeps), long enough to be its own,
 * and found nowhere in what the full kit shows students anyway (statements,
 * headers, skeletons, docs, the grader). */
static bool is_distinctive(const char *line, const char *public_text, size_t public_len)
{
    size_t n = strlen(line);
    return n >= 28 && strchr(line, '"') == NULL && line[0] != '*' && strncmp(line, "/*", 2) != 0 &&
           strncmp(line, "//", 2) != 0 && line[0] != '#' &&
           memmem(public_text, public_len, line, n) == NULL;
}

START_TEST(handout_has_no_answers)
{
    ck_assert_msg(setup_error == NULL, "%s", setup_error);
    char *cmd = xasprintf("cd '%s' && find . -path '*/hidden' -o -path '*/mutants' -o -path '*/variants' "
                          "-o -path './grader/tests' -o -name '*.patch' -o -path './solutions/*.c'",
                          tree);
    char *found = kit_command_output(cmd);
    ck_assert_msg(found[0] == '\0', "the handout holds what students must not have:\n%s", found);
    free(found);
    free(cmd);
    size_t all_len = 0, public_len = 0;
    cmd = xasprintf("cd '%s' && find . -type f -exec cat {} +", tree);
    char *all = kit_command_output_n(cmd, &all_len); /* every file of the handout */
    free(cmd);
    cmd = xasprintf("cd '%s' && find skeletons docs grader/src grader/harness exercises -type f "
                    "-not -path '*/hidden/*' -not -path '*/mutants/*' -exec cat {} +",
                    kit);
    char *public_text = kit_command_output_n(cmd, &public_len);
    free(cmd);
    cmd = xasprintf("cd '%s/solutions' && find . -name '*.c'", kit);
    char *list = kit_command_output(cmd);
    free(cmd);
    strbuf_t leaks = {0};
    int lines = 0;
    char *save = NULL;
    for (char *f = strtok_r(list, "\n", &save); f != NULL; f = strtok_r(NULL, "\n", &save)) {
        char *path = xasprintf("%s/solutions/%s", kit, f);
        char *text = read_file(path, NULL), *s2 = NULL;
        for (char *l = strtok_r(text, "\n", &s2); l != NULL; l = strtok_r(NULL, "\n", &s2)) {
            const char *t = l + strspn(l, " \t");
            if (!is_distinctive(t, public_text, public_len))
                continue;
            lines++;
            if (memmem(all, all_len, t, strlen(t)) != NULL && leaks.len < 2000)
                sb_printf(&leaks, "\n  %s: %s", f, t);
        }
        free(text);
        free(path);
    }
    ck_assert_msg(lines > 100, "only %d distinctive lines found in the references", lines);
    ck_assert_msg(leaks.len == 0, "the handout holds lines of the references:%s", leaks.s);
    free(leaks.s);
    free(list);
    free(all);
    free(public_text);
}
END_TEST

TCase *handout_tests(const char *root, const strvec_t *dirnames)
{
    kit = root;
    for (size_t i = 0; i < dirnames->n; i++)
        sv_push(&exercises, dirnames->v[i]);
    TCase *tc = tcase_create("handout");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, handout_setup, NULL);
    tcase_add_test(tc, handout_has_no_answers);
    tcase_add_loop_test(tc, handout_grades, 0, (int)exercises.n);
    return tc;
}

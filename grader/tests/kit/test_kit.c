/* test_kit.c — the kit judged by its own grader, one Check test per subject:
 *   - every exercise's reference solution gets full marks and exit status 0;
 *   - every skeleton is graded without a grader error (exit 1) and scores low;
 *   - every mutant in exercises/NN/mutants fails exactly the checks it declares
 *     (fail:), may fail the ones it allows (may-fail:), and passes the others or
 *     has them skipped because a check they depend on did not pass.
 *   - every variant in exercises/NN/variants (a correct design other than the
 *     reference, e.g. a lock-free pool) earns the bonus checks it declares
 *     (earns:), and fails only what it declares;
 *   - coverage: every check is failed by some mutant, and every bonus check is
 *     earned by the reference (reference_earns in the manifest) or a variant.
 * A mutant is a unified diff against the reference (NAME.patch) or a whole
 * student file (NAME.c); its header declares what it must break.
 * ALAB_FAST=1 skips the perf stage, and the mutants that only perf can catch.
 */
#define _GNU_SOURCE
#include "grade.h"

#include "../run_suite.h"
#include "kit_tests.h"

#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef enum { SUBJECT_REFERENCE, SUBJECT_SKELETON, SUBJECT_MUTANT, SUBJECT_VARIANT } subject_kind_t;

typedef struct {
    subject_kind_t kind;
    char *exercise;  /* "06" */
    char *dirname;   /* "ex06-mtpool" */
    char *name;      /* mutant name, or "reference" / "skeleton" */
    char *src;       /* the directory to grade (made for mutants) */
    char *mutant;    /* the mutant's file */
    strvec_t fail, may_fail, earns;
    char *results;   /* its results.json in the batch that graded it */
} subject_t;

static subject_t subjects[512];
static int nsubjects;
static char *root;
static bool fast;

/* ---- discovery ---- */

/* Each exercise's manifest, read once with the grader's own parser. */
typedef struct {
    char *dirname; /* "ex06-mtpool" */
    ini_t ini;
    const ini_section_t *head; /* its [exercise] section */
} manifest_t;

static manifest_t manifests[64];
static int nmanifests;

static bool manifest_read(const char *dirname)
{
    char *path = xasprintf("%s/exercises/%s/exercise.ini", root, dirname);
    char *text = read_file(path, NULL), *err = NULL;
    manifest_t *m = &manifests[nmanifests];
    bool ok = text != NULL && nmanifests < 64 && ini_parse(text, &m->ini, &err);
    for (size_t i = 0; ok && i < m->ini.nsections; i++)
        if (strcmp(m->ini.sections[i].kind, "exercise") == 0)
            m->head = &m->ini.sections[i];
    if (ok && m->head != NULL) {
        m->dirname = xstrdup(dirname);
        nmanifests++;
    }
    free(err);
    free(text);
    free(path);
    return ok && m->head != NULL;
}

/* A key of an exercise's [exercise] section, or "" when absent. */
static const char *manifest_value(const char *dirname, const char *key)
{
    for (int i = 0; i < nmanifests; i++)
        if (strcmp(manifests[i].dirname, dirname) == 0) {
            const char *v = ini_get(manifests[i].head, key);
            return v != NULL ? v : "";
        }
    return "";
}

/* "# fail: a b" or " * fail: a b" lines of a mutant's header: the lines before
 * the first blank line (or the diff itself). */
static void read_header(const char *text, const char *field, strvec_t *out)
{
    char *pat = xasprintf("%s:", field);
    for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, "---", 3) == 0 || *p == '\n' || strncmp(p, " */", 3) == 0)
            break; /* the header is over */
        const char *l = p;
        while (*l == '#' || *l == '*' || *l == '/' || *l == ' ')
            l++;
        if (strncmp(l, pat, strlen(pat)) == 0) {
            char *line = xstrndup(l + strlen(pat), strcspn(l + strlen(pat), "\n"));
            sv_push_words(out, line);
            free(line);
        }
    }
    free(pat);
}

static void add_subject(subject_kind_t kind, const char *ex, const char *dirname, const char *name,
                        const char *src, const char *mutant)
{
    if (nsubjects == (int)(sizeof subjects / sizeof *subjects))
        die("too many subjects");
    subject_t *s = &subjects[nsubjects++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->exercise = xstrdup(ex);
    s->dirname = xstrdup(dirname);
    s->name = xstrdup(name);
    s->src = xstrdup(src);
    s->mutant = mutant != NULL ? xstrdup(mutant) : NULL;
    if (mutant != NULL) {
        char *text = read_file(mutant, NULL);
        if (text == NULL)
            die("cannot read %s", mutant);
        read_header(text, "fail", &s->fail);
        read_header(text, "may-fail", &s->may_fail);
        read_header(text, "earns", &s->earns);
        free(text);
    }
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void discover(void)
{
    char *exdir = path_join(root, "exercises");
    struct dirent **ents;
    int n = scandir(exdir, &ents, NULL, by_name);
    for (int i = 0; i < n; i++) {
        const char *d = ents[i]->d_name;
        char *dir = path_join(exdir, d);
        /* ALAB_EXERCISES="02 05": only these (an inner loop while writing one) */
        const char *only = getenv("ALAB_EXERCISES");
        char num[3] = {d[0] == 'e' && d[1] == 'x' ? d[2] : '\0', d[0] == 'e' ? d[3] : '\0', '\0'};
        bool wanted = only == NULL || (num[0] != '\0' && strstr(only, num) != NULL);
        if (wanted && manifest_read(d)) {
            const char *id = manifest_value(d, "id"), *sol = manifest_value(d, "solution"),
                       *skel = manifest_value(d, "skeleton");
            char *solp = path_join(root, sol), *skelp = path_join(root, skel);
            add_subject(SUBJECT_REFERENCE, id, d, "reference", solp, NULL);
            add_subject(SUBJECT_SKELETON, id, d, "skeleton", skelp, NULL);
            /* mutants are kit material; variants are solutions, kept with them */
            char *vdir = xasprintf("%s/%s/variants", root, sol);
            char *dirs[] = {path_join(dir, "mutants"), vdir};
            for (int kind = 0; kind < 2; kind++) {
                char *mdir = dirs[kind];
                struct dirent **ms;
                int nm = scandir(mdir, &ms, NULL, by_name);
                for (int k = 0; k < nm; k++) {
                    const char *f = ms[k]->d_name;
                    if (str_ends_with(f, ".patch") || str_ends_with(f, ".c")) {
                        char *name = xstrndup(f, strcspn(f, "."));
                        char *src = xasprintf("%s/build/kit-runs/ex%s-%s", root, id, name);
                        char *path = path_join(mdir, f);
                        add_subject(kind == 0 ? SUBJECT_MUTANT : SUBJECT_VARIANT, id, d, name, src, path);
                        free(name);
                        free(src);
                        free(path);
                    }
                    free(ms[k]);
                }
                if (nm > 0)
                    free(ms);
                free(mdir);
            }
            free(solp);
            free(skelp);
        }
        free(dir);
        free(ents[i]);
    }
    if (n > 0)
        free(ents);
    free(exdir);
}

/* ---- running the grader ---- */

static int run_cmd(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Makes the subject's student directory: the reference with the patch applied,
 * or the mutant file under the student file's name. Returns NULL or why not. */
static char *make_mutant(const subject_t *s, const char *dest)
{
    const char *files = manifest_value(s->dirname, "student_files"),
               *sol = manifest_value(s->dirname, "solution");
    rm_rf(dest);
    mkdir_p(dest);
    strvec_t names = {0};
    sv_push_words(&names, files);
    char *err = NULL;
    for (size_t i = 0; i < names.n && err == NULL; i++) {
        char *from = xasprintf("%s/%s/%s", root, sol, names.v[i]);
        char *to = path_join(dest, names.v[i]);
        if (!copy_file(from, to))
            err = xasprintf("cannot copy %s", from);
        free(from);
        free(to);
    }
    if (err == NULL && str_ends_with(s->mutant, ".patch")) {
        char *cmd = xasprintf("patch --quiet -p1 -d '%s' < '%s'", dest, s->mutant);
        if (run_cmd(cmd) != 0)
            err = xasprintf("mutant %s: the patch does not apply to %s/%s (was the reference "
                            "changed? regenerate the patch)", s->name, sol, names.v[0]);
        free(cmd);
    } else if (err == NULL) {
        char *to = path_join(dest, names.v[0]);
        if (!copy_file(s->mutant, to))
            err = xasprintf("cannot copy %s", s->mutant);
        free(to);
    }
    sv_free(&names);
    return err;
}

/* Copies the student files of dir into dest. */
static char *copy_student_files(const subject_t *s, const char *dir, const char *dest)
{
    strvec_t names = {0};
    sv_push_words(&names, manifest_value(s->dirname, "student_files"));
    mkdir_p(dest);
    char *err = NULL;
    for (size_t i = 0; i < names.n && err == NULL; i++) {
        char *from = path_join(dir, names.v[i]), *to = path_join(dest, names.v[i]);
        if (!copy_file(from, to))
            err = xasprintf("cannot copy %s", from);
        free(from);
        free(to);
    }
    sv_free(&names);
    return err;
}

/* A perf-only mutant: nothing but the perf stage catches it, and make
 * test-fast skips that stage. */
static bool skipped_in_fast_mode(const subject_t *s)
{
    return fast && s->kind == SUBJECT_MUTANT && s->fail.n > 0 && str_starts_with(s->fail.v[0], "perf/");
}

static char *prep_error[512];

/* Does grading this subject need the perf stage? The reference, the skeleton
 * and the variants are graded whole; a mutant only when perf is among the
 * checks it declares. The others are graded with --skip perf: the perf stage
 * proves nothing about them and is the slowest part of a grading. */
static bool needs_perf(const subject_t *s)
{
    if (fast)
        return false;
    if (s->kind != SUBJECT_MUTANT)
        return true;
    for (size_t i = 0; i < s->fail.n; i++)
        if (str_starts_with(s->fail.v[i], "perf/"))
            return true;
    for (size_t i = 0; i < s->may_fail.n; i++)
        if (str_starts_with(s->may_fail.v[i], "perf/"))
            return true;
    return false;
}

/* Every subject of every exercise is graded by the kit's own batch grader, one
 * batch per exercise and perf mode, two gradings at a time. Runs once, before
 * the "grading" tests read the results. */
static void grade_all(void)
{
    for (int m = 0; m < nmanifests; m++) {
        const char *dirname = manifests[m].dirname, *id = manifest_value(dirname, "id");
        char *base = xasprintf("%s/build/kit-runs/ex%s", root, id);
        rm_rf(base);
        for (int with_perf = 0; with_perf < 2; with_perf++) {
            const char *mode = with_perf ? "perf" : "noperf";
            char *subs = xasprintf("%s/%s/submissions", base, mode), *out = xasprintf("%s/%s/out", base, mode);
            mkdir_p(subs);
            int n = 0;
            for (int k = 0; k < nsubjects; k++) {
                subject_t *s = &subjects[k];
                if (strcmp(s->dirname, dirname) != 0 || skipped_in_fast_mode(s) ||
                    needs_perf(s) != (bool)with_perf)
                    continue;
                char *dest = path_join(subs, s->name);
                prep_error[k] = s->kind == SUBJECT_MUTANT || s->kind == SUBJECT_VARIANT
                                    ? make_mutant(s, dest)
                                    : copy_student_files(s, s->src, dest);
                s->results = xasprintf("%s/submissions/%s/results.json", out, s->name);
                free(dest);
                n++;
            }
            if (n > 0) {
                char *cmd = xasprintf("'%s/build/grade' batch %s --submissions '%s' --out '%s' "
                                      "--jobs 2 %s > '%s/%s/batch-output.txt' 2>&1",
                                      root, id, subs, out, with_perf ? "" : "--skip perf", base, mode);
                run_cmd(cmd);
                free(cmd);
            }
            free(subs);
            free(out);
        }
        free(base);
    }
}

typedef struct {
    int status;
    json_t *report;
} graded_t;

/* The subject's grading, from its exercise's batch: the report, and the exit
 * status its `grade check` gave. */
static graded_t grade(const subject_t *s)
{
    graded_t g = {.status = -1, .report = s->results != NULL ? json_load_file(s->results, 0, NULL) : NULL};
    json_t *st = json_object_get(json_object_get(g.report, "extra_data"), "grader_status");
    if (json_is_integer(st))
        g.status = (int)json_integer_value(st);
    else if (g.report != NULL)
        g.status = 2; /* a row the batch wrote because the grader failed */
    return g;
}

static const char *check_result(json_t *t, const char **id)
{
    *id = json_string_value(json_object_get(t, "check"));
    return json_string_value(json_object_get(t, "result"));
}

/* ---- the tests ---- */

START_TEST(subject)
{
    const subject_t *s = &subjects[_i];
    if (skipped_in_fast_mode(s))
        return; /* only the perf stage catches it, and ALAB_FAST skips perf */
    ck_assert_msg(prep_error[_i] == NULL, "ex%s %s: %s", s->exercise, s->name, prep_error[_i]);
    graded_t g = grade(s);
    ck_assert_msg(g.status != 2, "ex%s %s: the grader could not run (exit status 2); see "
                  "%s", s->exercise, s->name, s->results);
    ck_assert_msg(g.report != NULL, "ex%s %s: no JSON report was written", s->exercise, s->name);
    json_t *tests = json_object_get(g.report, "tests");
    double score = json_number_value(json_object_get(g.report, "score"));
    double max = json_number_value(json_object_get(g.report, "max_score"));
    ck_assert_msg(json_array_size(tests) > 0, "ex%s %s: the report lists no check", s->exercise, s->name);

    if (s->kind == SUBJECT_REFERENCE) {
        size_t i;
        json_t *t;
        strvec_t earns = {0};
        sv_push_words(&earns, manifest_value(s->dirname, "reference_earns"));
        json_array_foreach(tests, i, t) {
            const char *id, *r = check_result(t, &id);
            bool skipped_perf = fast && strcmp(r, "skip") == 0 &&
                                strcmp(json_string_value(json_object_get(t, "stage")), "perf") == 0;
            bool bonus = json_number_value(json_object_get(t, "max_score")) == 0 &&
                         json_object_get(t, "bonus") == json_true();
            if (bonus && !sv_contains(&earns, id)) {
                /* a bonus the reference does not claim: it must not earn it
                 * either, which shows the check can fail */
                ck_assert_msg(strcmp(r, "pass") != 0, "ex%s reference: earns %s, which it does not "
                              "claim (add it to reference_earns)", s->exercise, id);
                continue;
            }
            ck_assert_msg(strcmp(r, "pass") == 0 || skipped_perf,
                          "ex%s reference: check %s did not pass: %s", s->exercise, id,
                          json_string_value(json_object_get(t, "output")));
        }
        sv_free(&earns);
        if (!fast)
            ck_assert_msg(g.status == 0 && score >= max,
                          "ex%s reference: expected full marks and exit status 0, got %g/%g and %d",
                          s->exercise, score, max, g.status);
    } else if (s->kind == SUBJECT_SKELETON) {
        ck_assert_msg(g.status == 1, "ex%s skeleton: expected exit status 1 (some checks fail), got %d",
                      s->exercise, g.status);
        ck_assert_msg(score <= 0.3 * max, "ex%s skeleton: scored %g/%g; a skeleton should score low",
                      s->exercise, score, max);
    } else {
        if (s->kind == SUBJECT_MUTANT || s->fail.n > 0)
            ck_assert_msg(g.status == 1, "ex%s %s %s: expected exit status 1, got %d", s->exercise,
                          s->kind == SUBJECT_MUTANT ? "mutant" : "variant", s->name, g.status);
        size_t i;
        json_t *t;
        strbuf_t wrong = {0};
        json_array_foreach(tests, i, t) {
            const char *id, *r = check_result(t, &id);
            const char *out = json_string_value(json_object_get(t, "output"));
            bool must = sv_contains(&s->fail, id), may = sv_contains(&s->may_fail, id);
            bool bonus = json_object_get(t, "bonus") == json_true();
            bool cpus_short = strcmp(r, "skip") == 0 && strstr(out, " CPUs and this machine") != NULL;
            if (sv_contains(&s->earns, id) && strcmp(r, "pass") != 0 && !cpus_short)
                sb_printf(&wrong, "\n  %s should be earned but is %s (%s)", id, r, out);
            else if (bonus && !must && !sv_contains(&s->earns, id))
                continue; /* bonus checks count only where declared */
            else if (strcmp(r, "skip") == 0 && strstr(out, "--skip") != NULL)
                continue; /* graded without perf: see needs_perf */
            else if (must && strcmp(r, "fail") != 0)
                sb_printf(&wrong, "\n  %s should fail but is %s (%s)", id, r, out);
            else if (!must && !may && strcmp(r, "fail") == 0)
                sb_printf(&wrong, "\n  %s should pass but failed: %s", id, out);
            else if (!must && !may && strcmp(r, "skip") == 0 && strstr(out, "it needs ") == NULL &&
                     strstr(out, "--skip") == NULL)
                sb_printf(&wrong, "\n  %s was skipped for another reason than a failed "
                          "dependency: %s", id, out);
        }
        ck_assert_msg(wrong.len == 0, "ex%s mutant %s (%s):%s", s->exercise, s->name, s->mutant,
                      wrong.s);
        free(wrong.s);
    }
    printf("  ex%s %-22s graded %g/%g, exit status %d: as expected\n", s->exercise, s->name, score,
           max, g.status);
    fflush(stdout);
    json_decref(g.report);
}
END_TEST

/* Every check of every exercise has a mutant that must fail it (or, for a
 * bonus the reference does not claim, the reference fails it), and every bonus
 * check is earned by the reference or by a variant. */
START_TEST(coverage)
{
    strbuf_t missing = {0};
    for (int m = 0; m < nmanifests; m++) {
        const char *dirname = manifests[m].dirname;
        strvec_t earned = {0};
        sv_push_words(&earned, manifest_value(dirname, "reference_earns"));
        for (size_t c = 0; c < manifests[m].ini.nsections; c++) {
            const ini_section_t *sec = &manifests[m].ini.sections[c];
            if (strcmp(sec->kind, "check") != 0)
                continue;
            const char *id = sec->name, *bonus = ini_get(sec, "bonus");
            bool is_bonus = bonus != NULL && strcmp(bonus, "yes") == 0;
            /* a bonus the reference does not earn is failed by the reference
             * itself (the grading test asserts it) */
            bool caught = is_bonus && !sv_contains(&earned, id), earned_somewhere = sv_contains(&earned, id);
            for (int k = 0; k < nsubjects; k++) {
                if (strcmp(subjects[k].dirname, dirname) != 0)
                    continue;
                caught |= subjects[k].kind == SUBJECT_MUTANT && sv_contains(&subjects[k].fail, id);
                earned_somewhere |= subjects[k].kind == SUBJECT_VARIANT && sv_contains(&subjects[k].earns, id);
            }
            if (!caught)
                sb_printf(&missing, "\n  %s: no mutant declares that it fails %s", dirname, id);
            if (is_bonus && !earned_somewhere)
                sb_printf(&missing, "\n  %s: neither the reference nor a variant earns %s", dirname, id);
        }
        sv_free(&earned);
    }
    ck_assert_msg(missing.len == 0, "checks without proof:%s", missing.s);
}
END_TEST

/* The Gradescope autograder, run against a fake /autograder tree: setup.sh
 * builds the grader from the zip; run_autograder finds pool.c deep in the
 * submission and writes results.json with the schema's fields; an empty
 * submission still gets a results.json, with score 0. */
static json_t *run_autograder(const char *tree, const char *what)
{
    char *cmd = xasprintf("AUTOGRADER_ROOT='%s' '%s/source/run_autograder' > '%s/%s.log' 2>&1", tree,
                          tree, tree, what);
    int st = run_cmd(cmd);
    free(cmd);
    ck_assert_msg(st == 0 || st == 1, "%s: run_autograder exited %d; see %s/%s.log", what, st, tree, what);
    char *path = xasprintf("%s/results/results.json", tree);
    json_error_t err;
    json_t *r = json_load_file(path, 0, &err);
    ck_assert_msg(r != NULL, "%s: results.json is not JSON: %s", what, err.text);
    ck_assert_msg(json_is_number(json_object_get(r, "score")), "%s: no score", what);
    free(path);
    return r;
}

START_TEST(gradescope)
{
    char *tree = xasprintf("%s/build/kit-runs/autograder", root);
    rm_rf(tree);
    char *src = path_join(tree, "source");
    mkdir_p(src);
    char *cmd = xasprintf("'%s/scripts/gradescope/build.sh' 06 > /dev/null && cd '%s' && "
                          "unzip -q '%s/build/gradescope-ex06.zip' && "
                          "AUTOGRADER_ROOT='%s' ./setup.sh > '%s/setup.log' 2>&1",
                          root, src, root, tree, tree);
    ck_assert_msg(run_cmd(cmd) == 0, "building the zip or setup.sh failed; see %s/setup.log", tree);
    free(cmd);

    char *deep = xasprintf("%s/submission/repo/work/ex06", tree);
    mkdir_p(deep);
    char *from = xasprintf("%s/skeletons/ex06/pool.c", root), *to = path_join(deep, "pool.c");
    ck_assert(copy_file(from, to));
    json_t *r = run_autograder(tree, "skeleton");
    json_t *tests = json_object_get(r, "tests");
    ck_assert_msg(json_array_size(tests) > 10, "results.json lists %zu tests", json_array_size(tests));
    size_t i;
    json_t *t;
    bool hidden_seen = false;
    json_array_foreach(tests, i, t) {
        ck_assert(json_is_string(json_object_get(t, "name")));
        ck_assert(json_is_number(json_object_get(t, "score")));
        ck_assert(json_is_number(json_object_get(t, "max_score")));
        ck_assert(json_is_string(json_object_get(t, "output")));
        const char *st = json_string_value(json_object_get(t, "status"));
        ck_assert(st != NULL && (strcmp(st, "passed") == 0 || strcmp(st, "failed") == 0));
        const char *vis = json_string_value(json_object_get(t, "visibility"));
        hidden_seen |= vis != NULL && strcmp(vis, "after_due_date") == 0;
    }
    ck_assert_msg(hidden_seen, "the hidden tests map to Gradescope's after_due_date visibility");
    ck_assert_msg(json_number_value(json_object_get(r, "score")) < 10, "a skeleton scores low");
    json_decref(r);

    unlink(to);
    r = run_autograder(tree, "empty");
    ck_assert_msg(json_number_value(json_object_get(r, "score")) == 0, "an empty submission scores 0");
    json_decref(r);
    printf("  gradescope autograder: built, set up, graded a submission and an empty one\n");
    free(deep);
    free(from);
    free(to);
    free(src);
    free(tree);
}
END_TEST

/* make hint shows the hints of each exercise's walkthrough one at a time and
 * remembers where the student is. */
START_TEST(hints_progress)
{
    const char *dirname = manifests[_i].dirname, *id = manifest_value(dirname, "id");
    char *dir = xasprintf("%s/build/kit-runs/hints-ex%s", root, id);
    rm_rf(dir);
    mkdir_p(dir);
    for (int n = 1; n <= 2; n++) {
        char *cmd = xasprintf("'%s/build/grade' hint %s --src '%s' > '%s/out' 2>&1", root, id, dir, dir);
        ck_assert_msg(run_cmd(cmd) == 0, "ex%s: make hint failed", id);
        char *out_path = path_join(dir, "out");
        char *out = read_file(out_path, NULL);
        char *want = xasprintf("Hint %d:", n), *of = xasprintf("(hint %d of ", n);
        ck_assert_msg(out != NULL && str_starts_with(out, want) && strstr(out, of) != NULL,
                      "ex%s: call %d of make hint printed: %s", id, n, out);
        free(cmd);
        free(out_path);
        free(out);
        free(want);
        free(of);
    }
    free(dir);
}
END_TEST

/* Is id the name of a check of this exercise's manifest? */
static bool manifest_has_check(const manifest_t *m, const char *id)
{
    for (size_t c = 0; c < m->ini.nsections; c++)
        if (strcmp(m->ini.sections[c].kind, "check") == 0 && strcmp(m->ini.sections[c].name, id) == 0)
            return true;
    return false;
}

/* What every exercise ships beside its checks: a statement that opens with
 * its metadata, a skeleton whose TODOs name checks that exist, concept pages
 * that exist, and at least four mutants. */
START_TEST(materials)
{
    const manifest_t *m = &manifests[_i];
    const char *dirname = m->dirname;
    strbuf_t wrong = {0};
    char *readme_path = xasprintf("%s/exercises/%s/README.md", root, dirname);
    char *readme = read_file(readme_path, NULL);
    const char *keys[] = {"module:", "exercise:", "difficulty:", "estimated_time:", "prerequisites:",
                          "concepts_covered:"};
    if (readme == NULL || strstr(readme, "```yaml") == NULL)
        sb_printf(&wrong, "\n  %s has no yaml metadata block", readme_path);
    for (size_t k = 0; readme != NULL && k < sizeof keys / sizeof *keys; k++)
        if (strstr(readme, keys[k]) == NULL)
            sb_printf(&wrong, "\n  %s: the metadata lacks %s", readme_path, keys[k]);
    /* TODO (check/id): each names a check of the manifest */
    strvec_t files = {0};
    sv_push_words(&files, manifest_value(dirname, "student_files"));
    int todos = 0;
    for (size_t f = 0; f < files.n; f++) {
        char *path = xasprintf("%s/%s/%s", root, manifest_value(dirname, "skeleton"), files.v[f]);
        char *text = read_file(path, NULL);
        if (text == NULL)
            sb_printf(&wrong, "\n  the skeleton %s is missing", path);
        for (const char *p = text; p != NULL && (p = strstr(p, "TODO (")) != NULL; p++) {
            /* "TODO (tests/basic):" or "TODO (perf/seed, perf/batch):" */
            char *ids = xstrndup(p + 6, strcspn(p + 6, ")"));
            char *words = str_replace_all(ids, ",", " ");
            strvec_t named = {0};
            sv_push_words(&named, words);
            todos++;
            for (size_t k = 0; k < named.n; k++)
                if (!manifest_has_check(m, named.v[k]))
                    sb_printf(&wrong, "\n  %s: TODO (%s) names no check of exercise.ini", path, named.v[k]);
            sv_free(&named);
            free(words);
            free(ids);
        }
        free(text);
        free(path);
    }
    if (todos == 0)
        sb_printf(&wrong, "\n  ex%s: the skeleton has no TODO (check): ... line", manifest_value(dirname, "id"));
    /* doc = pages exist */
    for (size_t c = 0; c < m->ini.nsections; c++) {
        const char *doc = ini_get(&m->ini.sections[c], "doc");
        char *path = doc != NULL ? path_join(root, doc) : NULL;
        if (strcmp(m->ini.sections[c].kind, "check") == 0 && (path == NULL || !is_file(path)))
            sb_printf(&wrong, "\n  %s: [check %s] points to no page of docs/ (%s)", dirname,
                      m->ini.sections[c].name, doc != NULL ? doc : "no doc =");
        free(path);
    }
    int mutants = 0;
    for (int k = 0; k < nsubjects; k++)
        mutants += strcmp(subjects[k].dirname, dirname) == 0 && subjects[k].kind == SUBJECT_MUTANT;
    if (mutants < 4)
        sb_printf(&wrong, "\n  %s has %d mutants; an exercise needs at least four", dirname, mutants);
    ck_assert_msg(wrong.len == 0, "materials:%s", wrong.s);
    printf("  ex%s materials: statement, %d TODOs naming checks, %d mutants, doc pages\n",
           manifest_value(dirname, "id"), todos, mutants);
    sv_free(&files);
    free(readme);
    free(readme_path);
}
END_TEST


int main(int argc, char **argv)
{
    (void)argc;
    char *exe = path_abs(argv[0]);
    char *bindir = path_dirname(exe);
    root = path_dirname(bindir); /* build/kit-tests -> the kit */
    fast = getenv("ALAB_FAST") != NULL;
    discover();
    Suite *suite = suite_create("kit");
    TCase *cov = tcase_create("coverage");
    tcase_add_test(cov, coverage);
    suite_add_tcase(suite, cov);
    TCase *hints = tcase_create("hints");
    tcase_add_loop_test(hints, hints_progress, 0, nmanifests);
    suite_add_tcase(suite, hints);
    TCase *mat = tcase_create("materials");
    tcase_add_loop_test(mat, materials, 0, nmanifests);
    suite_add_tcase(suite, mat);
    bool everything = getenv("ALAB_EXERCISES") == NULL;
    TCase *gs = tcase_create("gradescope");
    tcase_set_timeout(gs, 300);
    tcase_add_test(gs, gradescope);
    if (everything)
        suite_add_tcase(suite, gs);
    TCase *tc = tcase_create("grading");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, grade_all, NULL);
    tcase_add_loop_test(tc, subject, 0, nsubjects);
    suite_add_tcase(suite, tc);
    /* after "grading": it reuses the reference's and the skeleton's gradings */
    if (everything)
        suite_add_tcase(suite, hostile_tests(root, fast));
    /* after "grading" too: it compares with the full kit's skeleton gradings */
    if (everything) {
        strvec_t dirs = {0};
        for (int m = 0; m < nmanifests; m++)
            sv_push(&dirs, manifests[m].dirname);
        suite_add_tcase(suite, handout_tests(root, &dirs));
    }
    return run_suite(suite);
}

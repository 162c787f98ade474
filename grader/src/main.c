/* main.c — the grader's command line.
 *
 *   grade check EX [--src DIR] [--json FILE] [--format F] [--seed N] [--skip STAGES] [--keep] [--quiet]
 *   grade start EX        make work/exNN from the skeleton if it is missing
 *   grade hint EX         show the next walkthrough hint not yet seen
 *   grade list            the exercises of this kit
 *   grade resolve EX      the exercise's number (NN); grade files EX: its student files
 *
 * EX is 6, 06, ex06, the slug (mtpool) or the directory name (ex06-mtpool).
 * Exit status: 0 every check passed; 1 some check did not; 2 the grader could
 * not run (bad usage, missing tool or file), with a one-line reason.
 */
#define _GNU_SOURCE
#include "grade.h"

#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: grade check EX [--src DIR] [--json FILE] [--format table|json|junit|tap] [--seed N]\n"
    "                      [--skip STAGES] [--keep] [--quiet]\n"
    "       grade start EX | grade hint EX [--src DIR] | grade list | grade resolve|files EX\n";

/* The kit's root: --root, $ALAB_ROOT, or the directory above build/grade. */
static char *find_root(const char *given)
{
    if (given != NULL) {
        char *r = path_abs(given);
        if (r == NULL)
            die("--root %s: no such directory", given);
        return r;
    }
    const char *env = getenv("ALAB_ROOT");
    if (env != NULL && env[0] != '\0')
        return find_root(env);
    char *exe = path_abs("/proc/self/exe");
    if (exe != NULL) {
        char *bindir = path_dirname(exe), *root = path_dirname(bindir);
        char *probe = path_join(root, "exercises");
        bool ok = is_dir(probe);
        free(exe);
        free(bindir);
        free(probe);
        if (ok)
            return root;
        free(root);
    }
    char *cwd = path_abs(".");
    char *probe = path_join(cwd, "exercises");
    if (!is_dir(probe))
        die("cannot find the kit (no exercises/ here): run from the kit's directory or set ALAB_ROOT");
    free(probe);
    return cwd;
}

static char *resolve_exercise(const char *root, const char *spec)
{
    char *all = NULL;
    char *dir = exercise_find(root, spec, &all);
    if (dir == NULL)
        die("no exercise '%s'; the exercises are: %s", spec, all);
    free(all);
    return dir;
}

static bool command_exists(const char *name)
{
    const char *path = getenv("PATH");
    char *copy = xstrdup(path != NULL ? path : "/usr/bin:/bin"), *save = NULL;
    bool found = false;
    for (char *d = strtok_r(copy, ":", &save); d != NULL && !found; d = strtok_r(NULL, ":", &save)) {
        char *p = path_join(d, name);
        found = access(p, X_OK) == 0;
        free(p);
    }
    free(copy);
    return found;
}

/* work/exNN, relative to the root when it is below it. */
static char *default_src(const exercise_t *ex)
{
    return xasprintf("%s/work/ex%s", ex->root, ex->id);
}

/* Copies the skeleton's files into dir; says so on stderr. */
static void start_from_skeleton(const exercise_t *ex, const char *dir, const char *display)
{
    DIR *d = opendir(ex->skeleton);
    if (d == NULL)
        die("the skeleton %s is missing", ex->skeleton);
    mkdir_p(dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *from = path_join(ex->skeleton, e->d_name);
        if (is_file(from)) {
            char *to = path_join(dir, e->d_name);
            if (!copy_file(from, to))
                die("cannot copy %s to %s", from, to);
            free(to);
        }
        free(from);
    }
    closedir(d);
    fprintf(stderr, "Created %s from the skeleton: your code goes in %s/%s\n", display, display,
            ex->student_files.v[0]);
}

static int cmd_list(const char *root)
{
    char *all = NULL;
    free(exercise_find(root, "", &all));
    printf("%s\n", all);
    free(all);
    return 0;
}

/* For scripts: "resolve" prints the exercise's number, "files" its student files. */
static int cmd_describe(const char *root, const char *spec, bool files)
{
    exercise_t ex;
    char *dir = resolve_exercise(root, spec);
    exercise_load(&ex, root, dir);
    if (!files)
        printf("%s\n", ex.id);
    for (size_t i = 0; files && i < ex.student_files.n; i++)
        printf("%s\n", ex.student_files.v[i]);
    free(dir);
    return 0;
}

static int cmd_start(const char *root, const char *spec)
{
    exercise_t ex;
    char *dir = resolve_exercise(root, spec);
    exercise_load(&ex, root, dir);
    char *src = default_src(&ex), *display = xasprintf("work/ex%s", ex.id);
    if (is_dir(src))
        fprintf(stderr, "%s exists already: nothing to do\n", display);
    else
        start_from_skeleton(&ex, src, display);
    return 0;
}

/* Hints are "## Hint N: title" sections of the walkthrough; the number already
 * shown is kept in <src>/.hints-seen. */
static int cmd_hint(const char *root, const char *spec, const char *src_given)
{
    exercise_t ex;
    char *dir = resolve_exercise(root, spec);
    exercise_load(&ex, root, dir);
    if (ex.walkthrough == NULL)
        die("exercise %s has no walkthrough", ex.id);
    char *text = read_file(ex.walkthrough, NULL);
    if (text == NULL)
        die("%s: cannot read the walkthrough", ex.walkthrough);
    strvec_t hints = {0};
    for (char *p = strstr(text, "\n## Hint "); p != NULL; p = strstr(p + 1, "\n## Hint ")) {
        char *end = strstr(p + 1, "\n## ");
        char *h = xstrndup(p + 4, end != NULL ? (size_t)(end - p - 4) : strlen(p + 4));
        sv_push(&hints, str_trim(h));
        free(h);
    }
    if (hints.n == 0)
        die("%s has no '## Hint N: ...' sections", ex.walkthrough);
    char *src = src_given != NULL ? xstrdup(src_given) : default_src(&ex);
    if (!is_dir(src)) {
        if (src_given != NULL)
            die("SRC=%s: no such directory", src_given);
        char *display = xasprintf("work/ex%s", ex.id);
        start_from_skeleton(&ex, src, display); /* the hints' progress is kept there */
        free(display);
    }
    char *state = path_join(src, ".hints-seen");
    char *seen_text = read_file(state, NULL);
    size_t seen = seen_text != NULL ? (size_t)atoi(seen_text) : 0;
    const char *rel = ex.walkthrough + strlen(root) + 1;
    if (seen >= hints.n) {
        printf("You have seen all %zu hints of exercise %s; they are all in %s.\n", hints.n, ex.id, rel);
        printf("(To see them again from the start: rm %s)\n", state);
    } else {
        printf("%s\n\n(hint %zu of %zu; the whole walkthrough: %s)\n", hints.v[seen], seen + 1,
               hints.n, rel);
        char *n = xasprintf("%zu\n", seen + 1);
        if (!write_file_atomic(state, n, strlen(n)))
            die("cannot write %s", state);
        free(n);
    }
    free(seen_text);
    free(state);
    free(src);
    free(text);
    sv_free(&hints);
    return 0;
}

static int cmd_check(const char *root, const char *spec, const char *src_given, const char *json_path,
                     const char *format, unsigned long long seed, const char *skip, bool keep,
                     bool quiet)
{
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0 &&
        strcmp(format, "junit") != 0 && strcmp(format, "tap") != 0)
        die("FORMAT=%s: the formats are table, json, junit and tap", format);
    double t0 = now_seconds();
    exercise_t ex;
    char *dir = resolve_exercise(root, spec);
    exercise_load(&ex, root, dir);
    if (!command_exists("gcc") || !command_exists("nm"))
        die("gcc and nm are needed: run 'make deps'");

    grading_t g = {.ex = &ex, .seed = seed};
    if (skip != NULL) {
        char *words = str_replace_all(skip, ",", " ");
        sv_push_words(&g.skip, words);
        free(words);
        for (size_t i = 0; i < g.skip.n; i++) {
            bool known = false;
            for (int s = 0; s < NSTAGES; s++)
                known |= strcmp(g.skip.v[i], stage_names[s]) == 0;
            if (!known || strcmp(g.skip.v[i], "build") == 0)
                die("--skip %s: not a stage that can be skipped", g.skip.v[i]);
        }
    }
    g.have_clang = command_exists("clang");
    g.have_valgrind = command_exists("valgrind");
    if (src_given != NULL) {
        g.src_display = xstrdup(src_given);
        size_t n = strlen(g.src_display);
        while (n > 1 && g.src_display[n - 1] == '/')
            g.src_display[--n] = '\0';
        g.src_dir = path_abs(src_given);
        if (g.src_dir == NULL || !is_dir(g.src_dir))
            die("SRC=%s: no such directory", src_given);
    } else {
        g.src_display = xasprintf("work/ex%s", ex.id);
        char *src = default_src(&ex);
        if (!is_dir(src))
            start_from_skeleton(&ex, src, g.src_display);
        g.src_dir = src;
    }
    char *missing = NULL;
    for (size_t i = 0; i < ex.student_files.n && missing == NULL; i++) {
        char *f = path_join(g.src_dir, ex.student_files.v[i]);
        if (!is_file(f))
            missing = xasprintf("%s/%s: no such file (exercise %s is graded on %s)", g.src_display,
                                ex.student_files.v[i], ex.id, ex.student_files.v[i]);
        free(f);
    }

    /* As root, student code (and the compilers that read it) runs as nobody:
     * it cannot write the kit or read what only root may. */
    if (geteuid() == 0) {
        const char *uid = getenv("ALAB_SANDBOX_UID");
        g.sandbox_uid = g.sandbox_gid = uid != NULL ? (unsigned)atoi(uid) : 65534;
    }
    g.token = random_token();
    char *runs = xasprintf("%s/build/runs", root);
    mkdir_p(runs);
    g.workdir = xasprintf("%s/ex%s-%d-%.8s", runs, ex.id, (int)getpid(), g.token);
    rm_rf(g.workdir);
    sandbox_mkdir(&g, g.workdir);

    void (*stages[NSTAGES])(grading_t *) = {stage_build, stage_rules,    stage_tests, stage_tsan,
                                            stage_valgrind, stage_perf, stage_bonus};
    bool tty = isatty(2) && !quiet;
    for (int s = 0; s < NSTAGES; s++) {
        bool any = false;
        for (size_t i = 0; i < ex.nchecks; i++)
            any |= strcmp(ex.checks[i].stage, stage_names[s]) == 0;
        if (!any)
            continue;
        if (sv_contains(&g.skip, stage_names[s])) {
            for (size_t i = 0; i < ex.nchecks; i++)
                if (strcmp(ex.checks[i].stage, stage_names[s]) == 0)
                    check_skip(&ex.checks[i], "not run: the %s stage was skipped (--skip)", stage_names[s]);
            continue;
        }
        if (tty)
            fprintf(stderr, "\r\033[K  grading: %s ...", stage_names[s]);
        double start = now_seconds();
        stages[s](&g);
        g.stage_seconds[s] = now_seconds() - start;
        g.stage_ran[s] = true;
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    for (size_t i = 0; i < ex.nchecks; i++)
        if (ex.checks[i].status == CHECK_PENDING)
            check_skip(&ex.checks[i], "not run"); /* a stage that never reached it */

    double elapsed = now_seconds() - t0;
    char *text = NULL;
    if (strcmp(format, "json") == 0)
        text = report_json(&g, elapsed);
    else if (strcmp(format, "junit") == 0)
        text = report_junit(&g, elapsed);
    else if (strcmp(format, "tap") == 0)
        text = report_tap(&g);
    else
        report_terminal(&g, elapsed, stdout, isatty(1) && getenv("NO_COLOR") == NULL);
    if (text != NULL) {
        fputs(text, stdout);
        free(text);
    }
    if (json_path != NULL) {
        char *json = report_json(&g, elapsed);
        if (!write_file_atomic(json_path, json, strlen(json)))
            die("cannot write %s", json_path);
        free(json);
    }
    if (!keep)
        rm_rf(g.workdir);
    if (missing != NULL)
        die("%s", missing);
    return grading_all_passed(&ex) ? 0 : 1;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    static const struct option opts[] = {
        {"src", required_argument, 0, 's'},  {"json", required_argument, 0, 'j'},
        {"seed", required_argument, 0, 'S'}, {"root", required_argument, 0, 'r'},
        {"keep", no_argument, 0, 'k'},       {"quiet", no_argument, 0, 'q'},
        {"skip", required_argument, 0, 'x'},    {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *src = NULL, *json = NULL, *root_given = NULL, *skip = NULL, *format = "table";
    unsigned long long seed = 1;
    bool keep = false, quiet = false;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 's':
            src = optarg[0] != '\0' ? optarg : NULL;
            break;
        case 'j':
            json = optarg[0] != '\0' ? optarg : NULL;
            break;
        case 'S': {
            char *end;
            seed = strtoull(optarg, &end, 10);
            if (*end != '\0')
                die("--seed %s: not a number", optarg);
            break;
        }
        case 'r':
            root_given = optarg;
            break;
        case 'x':
            skip = optarg;
            break;
        case 'f':
            format = optarg[0] != '\0' ? optarg : "table";
            break;
        case 'k':
            keep = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return EXIT_GRADER_ERROR;
        }
    }
    if (optind >= argc) {
        fputs(usage, stderr);
        return EXIT_GRADER_ERROR;
    }
    const char *cmd = argv[optind];
    const char *ex = optind + 1 < argc ? argv[optind + 1] : NULL;
    char *root = find_root(root_given);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(root);
    if (ex == NULL || ex[0] == '\0')
        die("which exercise? give EX=NN; the exercises: run 'grade list'");
    if (strcmp(cmd, "check") == 0)
        return cmd_check(root, ex, src, json, format, seed, skip, keep, quiet);
    if (strcmp(cmd, "start") == 0)
        return cmd_start(root, ex);
    if (strcmp(cmd, "hint") == 0)
        return cmd_hint(root, ex, src);
    if (strcmp(cmd, "resolve") == 0 || strcmp(cmd, "files") == 0)
        return cmd_describe(root, ex, strcmp(cmd, "files") == 0);
    die("unknown command '%s'\n%s", cmd, usage);
}

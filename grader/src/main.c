/* main.c — the grader's command line.
 *
 *   grade check EX [--src DIR] [--json FILE] [--format F] [--seed N] [--skip STAGES] [--keep] [--quiet]
 *                  [--report FILE] [--timeout-scale F] [--hide DIR]... [--stage-lock FILE]
 *   grade batch EX --submissions DIR --out DIR [--jobs N] [check's options]
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
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch.h"
#include "kit_view.h"
#include "run.h"

static const char usage[] =
    "usage: grade check EX [--src DIR] [--json FILE] [--format table|json|junit|tap] [--seed N]\n"
    "                      [--skip STAGES] [--keep] [--quiet] [--report FILE]\n"
    "                      [--timeout-scale F] [--hide DIR]... [--stage-lock FILE] [--only CHECKS]\n"
    "       grade batch EX --submissions DIR --out DIR [--jobs N] [--seed N] [--skip STAGES]\n"
    "                      [--timeout-scale F]\n"
    "       grade start EX | grade hint EX [--src DIR] [--hint N] | grade bench EX [--src DIR]\n"
    "       grade list | grade resolve|files EX\n";

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
/* The next hint not yet seen, or hint `number` (from 1) when given; either
 * way the hints up to it count as seen. */
static int cmd_hint(const char *root, const char *spec, const char *src_given, size_t number)
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
    if (number > hints.n)
        die("exercise %s has %zu hints; N=%zu is not one of them", ex.id, hints.n, number);
    if (number > 0)
        seen = number - 1;
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

/* make bench: builds the exercise's benchmark (the [program] with bench_args)
 * with the student's files and runs it, for figures. It runs the student's
 * own code on their own machine, outside the sandbox, and grades nothing. */
static int cmd_bench(const char *root, const char *spec, const char *src_given)
{
    exercise_t ex;
    char *dir = resolve_exercise(root, spec);
    exercise_load(&ex, root, dir);
    const program_t *p = NULL;
    for (size_t i = 0; i < ex.nprograms && p == NULL; i++)
        if (ex.programs[i].bench_args != NULL)
            p = &ex.programs[i];
    if (p == NULL)
        die("exercise %s has no benchmark (no [program] with bench_args)", ex.id);
    char *src = src_given != NULL ? path_abs(src_given) : default_src(&ex);
    if (src_given == NULL && !is_dir(src)) { /* as make check does: start from the skeleton */
        char *display = xasprintf("work/ex%s", ex.id);
        start_from_skeleton(&ex, src, display);
        free(display);
    }
    if (src == NULL || !is_dir(src))
        die("SRC=%s: no such directory", src_given);
    strvec_t argv = {0};
    sv_push(&argv, "gcc");
    sv_push_words(&argv, ex.cflags);
    sv_pushf(&argv, "-I%s", ex.dir);
    sv_pushf(&argv, "-I%s/tests", ex.dir);
    sv_pushf(&argv, "-I%s/grader/harness", root);
    sv_push_words(&argv, HARNESS_CFLAGS);
    sv_pushf(&argv, "%s/grader/harness/alab.c", root);
    if (p->is_check)
        sv_pushf(&argv, "%s/grader/harness/check_main.c", root);
    for (size_t i = 0; i < p->sources.n; i++)
        sv_push(&argv, p->sources.v[i]);
    for (size_t i = 0; i < ex.student_files.n; i++) {
        char *f = path_join(src, ex.student_files.v[i]);
        if (!is_file(f))
            die("%s is missing", f);
        sv_push(&argv, f);
        free(f);
    }
    char *bindir = xasprintf("%s/build/bench", root);
    mkdir_p(bindir);
    char *bin = xasprintf("%s/ex%s-%s", bindir, ex.id, p->name);
    sv_push(&argv, "-o");
    sv_push(&argv, bin);
    for (size_t i = 0; i < p->ldflags.n; i++)
        sv_push(&argv, p->ldflags.v[i]);
    sv_push_words(&argv, HARNESS_LIBS);
    fprintf(stderr, "building %s with %s ...\n", p->name, src);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv.v[0], argv.v);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("the benchmark does not build with %s (make check EX=%s says why)", src, ex.id);
    strvec_t run = {0};
    sv_push(&run, bin);
    char *a = str_replace_all(p->bench_args, "{exercise}", ex.dir);
    char *b = str_replace_all(a, "{root}", root);
    sv_push_words(&run, b);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        execv(bin, run.v);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) < 0)
        die("cannot run %s: %s", bin, strerror(errno));
    if (WIFSIGNALED(st))
        die("the benchmark was killed by signal %d (%s) on your code; make check EX=%s says "
            "which property is broken",
            WTERMSIG(st), strsignal(WTERMSIG(st)), ex.id);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("the benchmark stopped with exit status %d on your code; make check EX=%s says why",
            WEXITSTATUS(st), ex.id);
    return 0;
}

/* Takes the batch's stage lock for one stage: perf alone (exclusive), any
 * other stage beside the other workers (shared). A waiting perf stage holds
 * the turnstile, so no new stage starts until it has had its turn. Locks go
 * with the process, also when it is killed. */
static void stage_lock(int fd, int turnstile, bool alone)
{
    if (fd < 0)
        return;
    flock(turnstile, LOCK_EX);
    flock(fd, alone ? LOCK_EX : LOCK_SH);
    if (!alone)
        flock(turnstile, LOCK_UN);
}

static void stage_unlock(int fd, int turnstile, bool alone)
{
    if (fd < 0)
        return;
    flock(fd, LOCK_UN);
    if (alone)
        flock(turnstile, LOCK_UN);
}

/* Workdirs of gradings whose process is gone (killed, say) are removed. */
static void remove_stale_workdirs(const char *runs)
{
    DIR *d = opendir(runs);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int pid;
        char id[16];
        if (sscanf(e->d_name, "ex%15[^-]-%d-", id, &pid) != 2 || pid <= 0)
            continue;
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/%d", pid);
        if (is_dir(proc))
            continue;
        char *p = path_join(runs, e->d_name);
        rm_rf(p);
        free(p);
    }
    closedir(d);
}

/* True when some check of stage s will run: pending, its dependencies passed. */
static bool stage_has_work(const grading_t *g, int s)
{
    exercise_t *ex = g->ex;
    for (size_t i = 0; i < ex->nchecks; i++) {
        const check_t *c = &ex->checks[i];
        if ((int)c->stage != s || c->status != CHECK_PENDING)
            continue;
        bool ready = true;
        for (size_t k = 0; k < c->depends.n && ready; k++) {
            const check_t *d = exercise_check(ex, c->depends.v[k]);
            ready = d != NULL && d->status == CHECK_PASS;
        }
        if (ready)
            return true;
    }
    return false;
}

/* Marks check c and everything it depends on as wanted. */
static void want_with_depends(exercise_t *ex, check_t *c, bool *wanted)
{
    size_t i = (size_t)(c - ex->checks);
    if (wanted[i])
        return;
    wanted[i] = true;
    for (size_t k = 0; k < c->depends.n; k++)
        want_with_depends(ex, exercise_check(ex, c->depends.v[k]), wanted);
}

/* ONLY=perf or ONLY="tests/basic perf/seed": the checks named (a stage names
 * all of its checks), what they depend on, and the build; the rest is skipped
 * before anything is built, so a student's speed loop costs what it needs. */
static void keep_only(exercise_t *ex, const char *only)
{
    bool *wanted = calloc(ex->nchecks, sizeof *wanted);
    char *words = str_replace_all(only, ",", " ");
    strvec_t names = {0};
    sv_push_words(&names, words);
    for (size_t n = 0; n < names.n; n++) {
        int stage = stage_find(names.v[n]);
        bool found = false;
        for (size_t i = 0; i < ex->nchecks; i++)
            if ((int)ex->checks[i].stage == stage || strcmp(ex->checks[i].id, names.v[n]) == 0) {
                want_with_depends(ex, &ex->checks[i], wanted);
                found = true;
            }
        if (!found)
            die("ONLY=%s: exercise %s has no check or stage '%s' (make check lists the checks)",
                only, ex->id, names.v[n]);
    }
    for (size_t i = 0; i < ex->nchecks; i++)
        if (!wanted[i] && ex->checks[i].stage != STAGE_BUILD)
            check_skip(&ex->checks[i], "not run: ONLY=%s asked for other checks", only);
    sv_free(&names);
    free(words);
    free(wanted);
}

static int cmd_check(const char *root, const char *spec, const check_opts_t *o)
{
    const char *src_given = o->src, *json_path = o->json, *format = o->format, *skip = o->skip;
    unsigned long long seed = o->seed;
    bool keep = o->keep, quiet = o->quiet;
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0 &&
        strcmp(format, "junit") != 0 && strcmp(format, "tap") != 0)
        die("FORMAT=%s: the formats are table, json, junit and tap", format);
    double t0 = now_seconds();
    exercise_t ex;
    char *dir = resolve_exercise(root, spec);
    exercise_load(&ex, root, dir);
    if (!command_exists("gcc") || !command_exists("nm"))
        die("gcc and nm are needed: run 'make deps'");

    grading_t g = {.ex = &ex, .seed = seed, .time_scale = o->time_scale > 0 ? o->time_scale : 1};
    if (skip != NULL) {
        char *words = str_replace_all(skip, ",", " ");
        strvec_t names = {0};
        sv_push_words(&names, words);
        free(words);
        for (size_t i = 0; i < names.n; i++) {
            int s = stage_find(names.v[i]);
            if (s < 0 || s == STAGE_BUILD)
                die("--skip %s: not a stage that can be skipped", names.v[i]);
            g.skip[s] = true;
        }
        sv_free(&names);
    }
    if (o->only != NULL)
        keep_only(&ex, o->only);
    g.have_clang = command_exists("clang");
    g.have_valgrind = command_exists("valgrind");
    if (src_given != NULL) {
        g.src_display = xstrdup(o->src_name != NULL ? o->src_name : src_given);
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
    /* Where the sandbox user reads the kit: a copy when the kit is closed to
     * it. The student's files were found above, in the real kit. */
    char *view = kit_view(root, g.sandbox_uid, g.sandbox_gid);
    if (strcmp(view, root) != 0) {
        char *vdir = xasprintf("%s%s", view, dir + strlen(root));
        exercise_load(&ex, view, vdir);
        free(vdir);
    }
    g.token = random_token();
    char *runs = xasprintf("%s/build/runs", view);
    mkdir_p(runs);
    remove_stale_workdirs(runs);
    g.workdir = xasprintf("%s/ex%s-%d-%.8s", runs, ex.id, (int)getpid(), g.token);
    rm_rf(g.workdir);
    mkdir_p(g.workdir);
    /* Only the grader and this grading's sandbox user may enter the scratch
     * directory: without bubblewrap, it keeps parallel gradings apart. */
    if (g.sandbox_uid != 0 &&
        (chown(g.workdir, 0, g.sandbox_gid) != 0 || chmod(g.workdir, 0750) != 0))
        die("cannot protect %s: %s", g.workdir, strerror(errno));

    /* Isolation: other gradings' scratch directories and whatever the caller
     * names (other submissions, a batch's output) are hidden from runs. */
    strvec_t hide = {0};
    char *build = xasprintf("%s/build", view), *work = xasprintf("%s/work", root);
    sv_push(&hide, build); /* other gradings, the kit's own test runs; this grading's
                              scratch directory is shown again, read-only */
    sv_push(&hide, work);  /* students' copies: this student's was copied in */
    free(build);
    free(work);
    for (size_t i = 0; i < o->hide.n; i++)
        sv_push(&hide, o->hide.v[i]);
    const char *show[] = {view, NULL};
    run_config_t rc = {.uid = g.sandbox_uid,
                       .gid = g.sandbox_gid,
                       .show = show,
                       .hide = (const char *const *)hide.v,
                       .no_bwrap = env_is("ALAB_NO_BWRAP", "1"),
                       .no_cgroup = env_is("ALAB_NO_CGROUP", "1")};
    const char *weaker = run_configure(&rc);
    if (weaker != NULL && !quiet)
        fprintf(stderr, "grade: note: %s\n", weaker);
    g.isolation = run_isolation();
    int lock_fd = -1, turnstile = -1;
    if (o->stage_lock != NULL) {
        char *t = xasprintf("%s.turnstile", o->stage_lock);
        lock_fd = open(o->stage_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        turnstile = open(t, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock_fd < 0 || turnstile < 0)
            die("--stage-lock %s: %s", o->stage_lock, strerror(errno));
        free(t);
    }

    bool tty = isatty(2) && !quiet;
    for (int s = 0; s < NSTAGES; s++) {
        bool any = false;
        for (size_t i = 0; i < ex.nchecks; i++)
            any |= (int)ex.checks[i].stage == s;
        if (!any)
            continue;
        if (g.skip[s]) {
            for (size_t i = 0; i < ex.nchecks; i++)
                if ((int)ex.checks[i].stage == s)
                    check_skip(&ex.checks[i], "not run: the %s stage was skipped (--skip)", stage_names[s]);
            continue;
        }
        if (tty)
            fprintf(stderr, "\r\033[K  grading: %s ...", stage_names[s]);
        bool alone = s == STAGE_PERF && stage_has_work(&g, s);
        stage_lock(lock_fd, turnstile, alone);
        double start = now_seconds();
        stage_table[s].run(&g);
        g.stage_seconds[s] = now_seconds() - start;
        g.stage_ran[s] = true;
        stage_unlock(lock_fd, turnstile, alone);
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
    if (o->report != NULL) {
        FILE *f = fopen(o->report, "w");
        if (f == NULL)
            die("cannot write %s: %s", o->report, strerror(errno));
        report_terminal(&g, elapsed, f, false);
        if (fclose(f) != 0)
            die("cannot write %s", o->report);
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
        {"src", required_argument, 0, 's'},         {"json", required_argument, 0, 'j'},
        {"seed", required_argument, 0, 'S'},        {"root", required_argument, 0, 'r'},
        {"keep", no_argument, 0, 'k'},              {"quiet", no_argument, 0, 'q'},
        {"skip", required_argument, 0, 'x'},        {"format", required_argument, 0, 'f'},
        {"report", required_argument, 0, 'R'},      {"timeout-scale", required_argument, 0, 'T'},
        {"hide", required_argument, 0, 'H'},        {"stage-lock", required_argument, 0, 'L'},
        {"submissions", required_argument, 0, 'B'}, {"out", required_argument, 0, 'O'},
        {"jobs", required_argument, 0, 'J'},        {"src-name", required_argument, 0, 'N'},
        {"hint", required_argument, 0, 'n'},        {"only", required_argument, 0, 'o'},        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    check_opts_t co = {.format = "table", .seed = 1, .time_scale = 1};
    const char *root_given = NULL, *submissions = NULL, *out = NULL;
    long hint_number = 0; /* grade hint --hint N: that hint, whatever was seen */
    int jobs = 0;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (o) {
        case 's':
            co.src = optarg[0] != '\0' ? optarg : NULL;
            break;
        case 'j':
            co.json = optarg[0] != '\0' ? optarg : NULL;
            break;
        case 'S':
            co.seed = strtoull(optarg, &end, 10);
            if (*end != '\0' || optarg[0] == '\0')
                die("--seed %s: not a number", optarg);
            break;
        case 'r':
            root_given = optarg;
            break;
        case 'x':
            co.skip = optarg[0] != '\0' ? optarg : NULL;
            break;
        case 'f':
            co.format = optarg[0] != '\0' ? optarg : "table";
            break;
        case 'k':
            co.keep = true;
            break;
        case 'q':
            co.quiet = true;
            break;
        case 'R':
            co.report = optarg;
            break;
        case 'T':
            co.time_scale = strtod(optarg, &end);
            if (*end != '\0' || !(co.time_scale >= 0.05 && co.time_scale <= 100))
                die("--timeout-scale %s: a number between 0.05 and 100", optarg);
            break;
        case 'H':
            if (optarg[0] != '\0')
                sv_push(&co.hide, optarg);
            break;
        case 'L':
            co.stage_lock = optarg;
            break;
        case 'N':
            co.src_name = optarg;
            break;
        case 'B':
            submissions = optarg;
            break;
        case 'O':
            out = optarg;
            break;
        case 'J':
            jobs = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || jobs < 0 || jobs > 64)
                die("--jobs %s: a number from 1 to 64 (0: one per CPU)", optarg);
            break;
        case 'o':
            if (optarg[0] != '\0')
                co.only = optarg;
            break;
        case 'n':
            hint_number = strtol(optarg, &end, 10);
            if (*end != '\0' || hint_number < 1 || hint_number > 99)
                die("N=%s: the number of a hint, from 1", optarg);
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
        return cmd_check(root, ex, &co);
    if (strcmp(cmd, "batch") == 0) {
        exercise_t exercise;
        char *dir = resolve_exercise(root, ex);
        exercise_load(&exercise, root, dir);
        batch_opts_t bo = {.submissions = submissions, .out = out, .jobs = jobs, .check = &co};
        return batch_run(root, &exercise, &bo);
    }
    if (strcmp(cmd, "start") == 0)
        return cmd_start(root, ex);
    if (strcmp(cmd, "hint") == 0)
        return cmd_hint(root, ex, co.src, (size_t)hint_number);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(root, ex, co.src);
    if (strcmp(cmd, "resolve") == 0 || strcmp(cmd, "files") == 0)
        return cmd_describe(root, ex, strcmp(cmd, "files") == 0);
    die("unknown command '%s'\n%s", cmd, usage);
}

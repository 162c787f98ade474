/* stages.c — build, rules, tests, tsan, valgrind and perf: each judges its own
 * checks. Every process that compiles or runs student code goes through
 * run_sandboxed(); a verdict comes from an exit status or from a result record
 * carrying this run's token, never from what the student's code printed. */
#define _GNU_SOURCE
#include "diag.h"
#include "grade.h"
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HARNESS_CFLAGS
#define HARNESS_CFLAGS "-pthread"
#endif
#ifndef HARNESS_LIBS
#define HARNESS_LIBS "-lcheck_pic -lrt -lm -lsubunit -ljansson -pthread"
#endif

/* How much slower a test runs under a tool than natively, here, with room to
 * spare: its time limits are multiplied by this. */
#define SANITIZER_SLOWDOWN 3.0 /* ThreadSanitizer, ASan+UBSan */
#define MEMCHECK_SLOWDOWN 5.0  /* Valgrind's memcheck */
/* Once a test of a grading has hung, each later run of a test program gets at
 * most this long (times the tool's slowdown and the time scale): the reference
 * runs any of the kit's test programs in a few seconds, and a submission that
 * hangs pays for its loop once, not once per program. */
#define HUNG_LIMIT_S 10.0

static const char *const variant_names[NVARIANTS] = {"plain", "tsan", "asan", "reference"};

const stage_def_t stage_table[NSTAGES] = {
#define STAGE_DEF(id, name, builds) {#name, stage_##name, builds},
    ALAB_STAGES(STAGE_DEF)
#undef STAGE_DEF
};

/* ---- checks ---- */

static void check_set(check_t *c, check_status_t st, double score, const char *fmt, va_list ap)
{
    c->status = st;
    c->score = score;
    free(c->message);
    if (vasprintf(&c->message, fmt, ap) < 0)
        die("out of memory");
}

void grading_flag(grading_t *g, const char *flag)
{
    if (!sv_contains(&g->flags, flag))
        sv_push(&g->flags, flag);
}

void check_fail(check_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    check_set(c, CHECK_FAIL, 0, fmt, ap);
    va_end(ap);
}

void check_pass(check_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    check_set(c, CHECK_PASS, c->points, fmt, ap);
    va_end(ap);
}

void check_skip(check_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    check_set(c, CHECK_SKIP, 0, fmt, ap);
    va_end(ap);
}

bool check_ready(grading_t *g, check_t *c)
{
    if (c->status != CHECK_PENDING)
        return false;
    for (size_t i = 0; i < c->depends.n; i++) {
        check_t *d = exercise_check(g->ex, c->depends.v[i]);
        if (d->status != CHECK_PASS) {
            check_skip(c, "not run: it needs %s to pass first, and it %s", d->id,
                       d->status == CHECK_SKIP ? "was skipped" : "failed");
            return false;
        }
    }
    if (c->program != NULL && !c->program->available) {
        check_skip(c, "graded by your instructor: this copy of the kit does not have these tests");
        return false;
    }
    cpu_set_t allowed;
    int cpus = sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed) : 1;
    if (c->min_cpus > 0 && cpus < c->min_cpus) {
        check_skip(c, "not run: it needs %d CPUs and this machine gives the grader %d",
                   c->min_cpus, cpus);
        return false;
    }
    return true;
}

static void set_evidence(check_t *c, const diag_t *d)
{
    free(c->where);
    free(c->details);
    c->where = d->where != NULL ? xstrdup(d->where) : NULL;
    c->details = d->details != NULL ? xstrdup(d->details) : NULL;
}

/* ---- running things ---- */

void sandbox_mkdir(const grading_t *g, const char *path)
{
    mkdir_p(path);
    if (g->sandbox_uid != 0 && chown(path, g->sandbox_uid, g->sandbox_gid) != 0)
        die("cannot give %s to the sandbox user: %s", path, strerror(errno));
}

/* A fresh, empty scratch directory for one process. */
static char *new_rundir(grading_t *g, const char *what)
{
    char *d = xasprintf("%s/runs/%03d-%s", g->workdir, ++g->run_counter, what);
    sandbox_mkdir(g, d);
    return d;
}

/* The environment of every process the grader starts: nothing of the caller's. */
static void base_env(strvec_t *env, const char *rundir)
{
    sv_push(env, "PATH=/usr/local/bin:/usr/bin:/bin");
    sv_push(env, "LANG=C.UTF-8");
    sv_pushf(env, "HOME=%s", rundir);
    sv_pushf(env, "TMPDIR=%s", rundir);
}

/* Runs argv in the sandbox with cwd (a fresh run directory) as its working
 * directory. It may write only there and in `also_rw` (NULL for none); the
 * grading's scratch directory is visible read-only. */
static bool run_in_cap(grading_t *g, const strvec_t *argv, const strvec_t *env, const char *cwd,
                       const char *also_rw, const char *logdir, const char *secret, double timeout_s,
                       bool sanitizer, size_t output_cap, run_result_t *res)
{
    const char *rw[] = {cwd, also_rw, logdir, NULL};
    if (also_rw == NULL)
        rw[1] = logdir, rw[2] = NULL;
    const char *ro[] = {g->workdir, NULL};
    run_spec_t spec = {
        .uid = g->sandbox_uid,
        .gid = g->sandbox_gid,
        .argv = (const char *const *)argv->v,
        .env = (const char *const *)env->v,
        .cwd = cwd,
        .timeout_s = timeout_s,
        .cpu_s = (unsigned long)(timeout_s * 2 + 10),
        /* Without a cgroup, a plain limit; never for ThreadSanitizer, whose
         * shadow memory needs far more address space than it uses. */
        .as_mb = sanitizer ? 0 : 8192,
        .rw_paths = rw,
        .ro_paths = ro,
        .secret = secret,
        .output_cap = output_cap,
    };
    bool started = run_sandboxed(&spec, res);
    if (res->timed_out)
        grading_flag(g, "timeout");
    if (res->oom_killed)
        grading_flag(g, "memory");
    if (res->output_cut)
        grading_flag(g, "output-cut");
    return started;
}

static bool run_in(grading_t *g, const strvec_t *argv, const strvec_t *env, const char *cwd,
                   const char *also_rw, const char *logdir, const char *secret, double timeout_s,
                   bool sanitizer, run_result_t *res)
{
    return run_in_cap(g, argv, env, cwd, also_rw, logdir, secret, timeout_s, sanitizer, 0, res);
}

/* A file a sandboxed process made in its run directory becomes the grader's:
 * moved to `to` and owned by the grader, so no later run can change it. */
static bool adopt(const char *from, const char *to, mode_t mode)
{
    struct stat st;
    if (lstat(from, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    if (rename(from, to) != 0)
        return false;
    if (chown(to, getuid(), getgid()) != 0 || chmod(to, mode) != 0)
        return false;
    return true;
}

/* ---- build ---- */

/* AddressSanitizer and UBSan; an undefined behaviour stops the test, so that it
 * cannot pass. */
#define ASAN_FLAGS "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

static void push_cflags(grading_t *g, strvec_t *argv, variant_t v, const char *cwd)
{
    exercise_t *ex = g->ex;
    sv_push_words(argv, ex->cflags);
    if (v == VARIANT_TSAN) {
        sv_push(argv, "-fsanitize=thread");
        sv_push(argv, "-O1");
    }
    if (v == VARIANT_ASAN)
        sv_push_words(argv, ASAN_FLAGS " -O1");
    sv_pushf(argv, "-I%s", ex->dir);
    sv_pushf(argv, "-I%s/tests", ex->dir);
    sv_pushf(argv, "-I%s/grader/harness", ex->root);
    sv_push_words(argv, HARNESS_CFLAGS);
    /* Paths in debug info as a person knows them: the student's directory as
     * they wrote it, kit files relative to the kit. The compiler applies the
     * last map that matches, so the general one comes first. */
    sv_pushf(argv, "-fdebug-prefix-map=%s/=", ex->root);
    sv_pushf(argv, "-fdebug-prefix-map=%s=.", cwd); /* the compiler's working directory */
    sv_pushf(argv, "-fdebug-prefix-map=%s/src=%s", g->workdir, g->src_display);
    sv_pushf(argv, "-fdebug-prefix-map=%s/ref=%s", g->workdir, ex->solution + strlen(ex->root) + 1);
}

static const char *compiler_for(variant_t v)
{
    return v == VARIANT_TSAN ? "clang" : "gcc";
}

/* Compiles one source to obj; output goes to *out (caller frees). */
static bool compile(grading_t *g, variant_t v, const char *src, const char *obj, char **out)
{
    strvec_t argv = {0}, env = {0};
    char *rundir = new_rundir(g, "cc");
    sv_push(&argv, compiler_for(v));
    push_cflags(g, &argv, v, rundir);
    sv_push(&argv, "-c");
    sv_push(&argv, src);
    sv_push(&argv, "-o");
    sv_push(&argv, "out.o"); /* in the run directory: the only place it may write */
    base_env(&env, rundir);
    run_result_t res;
    run_in(g, &argv, &env, rundir, NULL, NULL, NULL, 120, false, &res);
    char *made = path_join(rundir, "out.o");
    bool ok = res.started && res.exited && res.exit_code == 0 && adopt(made, obj, 0644);
    free(made);
    *out = xasprintf("%s%s", res.output, res.timed_out ? "\n(the compiler was stopped: time limit)" : "");
    run_result_free(&res);
    sv_free(&argv);
    sv_free(&env);
    free(rundir);
    return ok;
}

/* Compiler output names files in our scratch copy: show the student's paths. */
static char *student_paths(grading_t *g, const char *text)
{
    char *from = xasprintf("%s/src/", g->workdir);
    char *to = xasprintf("%s/", g->src_display);
    char *s = str_replace_all(text, from, to);
    free(from);
    free(to);
    return s;
}

static bool link_program(grading_t *g, variant_t v, const program_t *p, const strvec_t *objs,
                         const char *bin, char **out)
{
    strvec_t argv = {0}, env = {0};
    sv_push(&argv, compiler_for(v));
    if (v == VARIANT_TSAN)
        sv_push(&argv, "-fsanitize=thread");
    if (v == VARIANT_ASAN)
        sv_push_words(&argv, ASAN_FLAGS);
    if (p->is_shared)
        sv_push(&argv, "-shared");
    for (size_t i = 0; i < objs->n; i++)
        sv_push(&argv, objs->v[i]);
    sv_push(&argv, "-o");
    sv_push(&argv, "a.out");
    for (size_t i = 0; i < p->ldflags.n; i++)
        sv_push(&argv, p->ldflags.v[i]);
    if (p->is_shared) {
        sv_push(&argv, "-pthread"); /* a library for any program: no Check, no jansson */
        sv_push(&argv, "-Wl,-z,defs"); /* a missing function fails here, not when a program loads it */
    }
    else
        sv_push_words(&argv, HARNESS_LIBS);
    char *rundir = new_rundir(g, "ld");
    base_env(&env, rundir);
    run_result_t res;
    run_in(g, &argv, &env, rundir, NULL, NULL, NULL, 120, false, &res);
    char *made = path_join(rundir, "a.out");
    bool ok = res.started && res.exited && res.exit_code == 0 && adopt(made, bin, 0755);
    free(made);
    *out = xstrdup(res.output);
    run_result_free(&res);
    sv_free(&argv);
    sv_free(&env);
    free(rundir);
    return ok;
}

/* Which variants of which programs the checks of the stages that run need. */
static void plan_builds(grading_t *g)
{
    exercise_t *ex = g->ex;
    for (size_t i = 0; i < ex->nchecks; i++) {
        check_t *c = &ex->checks[i];
        program_t *p = c->program;
        if (p == NULL || !p->available || g->skip[c->stage] || c->status != CHECK_PENDING)
            continue; /* skipped (--skip, ONLY=) or already judged: nothing to build for it */
        for (int v = 0; v < NVARIANTS; v++)
            p->wanted[v] |= (stage_table[c->stage].builds & (1u << v)) != 0;
    }
    if (!g->have_clang)
        for (size_t i = 0; i < ex->nprograms; i++)
            ex->programs[i].wanted[VARIANT_TSAN] = false;
}

/* ---- a cache of the kit's own objects ----
 * The harness and the test programs are the same for every submission of an
 * exercise; compiling them again for each is most of a grading's build time.
 * Their objects are kept under build/cache/, named by a hash of everything that
 * goes into them: the compiler and the variant, the flags, the source, and every
 * header of the exercise and the harness. Student code never goes into one, and
 * only the grader (never a sandboxed process) reads or writes the cache. */

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static uint64_t fnv1a_file(uint64_t h, const char *path)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    h = fnv1a(h, path, strlen(path) + 1);
    if (text != NULL)
        h = fnv1a(h, text, len);
    free(text);
    return h;
}

/* Every header (*.h) of dir, in name order. */
static uint64_t fnv1a_headers(uint64_t h, const char *dir)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        if (str_ends_with(ents[i]->d_name, ".h")) {
            char *p = path_join(dir, ents[i]->d_name);
            h = fnv1a_file(h, p);
            free(p);
        }
        free(ents[i]);
    }
    if (n > 0)
        free(ents);
    return h;
}

/* Where the object of kit source src, built for variant v, is cached; NULL
 * when there is no cache (a kit whose build/ cannot be written). */
static char *kit_cache_path(grading_t *g, variant_t v, const char *src)
{
    exercise_t *ex = g->ex;
    char *dir = xasprintf("%s/build/cache/kit-objects", ex->root);
    mkdir_p(dir);
    if (!is_dir(dir) || access(dir, W_OK) != 0) {
        free(dir);
        return NULL;
    }
    uint64_t h = 14695981039346656037ULL;
    const char *parts[] = {compiler_for(v), variant_names[v], ex->cflags, HARNESS_CFLAGS, ex->dir};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        h = fnv1a(h, parts[i], strlen(parts[i]) + 1);
    h = fnv1a_file(h, src);
    char *dirs[] = {xstrdup(ex->dir), xasprintf("%s/tests", ex->dir), xasprintf("%s/hidden", ex->dir),
                    xasprintf("%s/grader/harness", ex->root)};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        h = fnv1a_headers(h, dirs[i]);
        free(dirs[i]);
    }
    char *p = xasprintf("%s/%016llx-%s.o", dir, (unsigned long long)h, path_basename(src));
    free(dir);
    return p;
}

/* Kit objects (harness + program sources) for a variant; a failure here is the
 * kit's fault, so the grader stops with status 2. */
static void build_kit_objects(grading_t *g, program_t *p, variant_t v, strvec_t *objs)
{
    strvec_t srcs = {0};
    /* a preloaded library reports through a small probe of its own (no jansson:
     * it lives inside programs whose malloc is the student's) */
    sv_pushf(&srcs, "%s/grader/harness/%s", g->ex->root, p->is_shared ? "alab_preload.c" : "alab.c");
    if (p->is_check)
        sv_pushf(&srcs, "%s/grader/harness/check_main.c", g->ex->root);
    for (size_t i = 0; i < p->sources.n; i++)
        sv_push(&srcs, p->sources.v[i]);
    for (size_t i = 0; i < srcs.n; i++) {
        char *obj = xasprintf("%s/obj/%s/%s-%s.o", g->workdir, variant_names[v], p->name,
                              path_basename(srcs.v[i]));
        char *out = NULL;
        char *cached = kit_cache_path(g, v, srcs.v[i]);
        if (cached != NULL && is_file(cached) && copy_file(cached, obj)) {
            sv_push(objs, obj);
            free(obj);
            free(cached);
            continue;
        }
        if (!compile(g, v, srcs.v[i], obj, &out)) {
            diag_t d;
            strvec_t none = {0};
            bool have = diag_compiler(out, &none, &d);
            die("the kit's %s does not compile (%s build): %s", srcs.v[i], variant_names[v],
                have ? d.message : str_trim(out));
        }
        if (cached != NULL)
            copy_file(obj, cached); /* atomic: a rename, so parallel gradings agree */
        free(cached);
        sv_push(objs, obj);
        free(obj);
        free(out);
    }
    sv_free(&srcs);
}

static bool wants_variant(const exercise_t *ex, variant_t v)
{
    for (size_t i = 0; i < ex->nprograms; i++)
        if (ex->programs[i].wanted[v])
            return true;
    return false;
}

/* The reference of each student file: its source (the full kit) or, in a
 * student's handout, only its compiled and stripped object NAME.o. */
static char *reference_file(const char *dir, const char *name)
{
    char *src = path_join(dir, name);
    if (is_file(src))
        return src;
    free(src);
    return xasprintf("%s/%s.o", dir, name);
}

/* Copies the reference into the grading's ref/; only the stages that measure
 * against it (perf, measure) need it. */
static void copy_reference(const exercise_t *ex, const char *ref)
{
    for (size_t i = 0; i < ex->student_files.n; i++) {
        char *from = reference_file(ex->solution, ex->student_files.v[i]);
        char *to = path_join(ref, path_basename(from));
        if (!copy_file(from, to))
            die("the reference solution %s is missing (its source, or in a handout its "
                "compiled object)",
                from);
        free(from);
        free(to);
    }
}

static void check_case_names(grading_t *g);

void stage_build(grading_t *g)
{
    exercise_t *ex = g->ex;
    check_t *c = exercise_check(ex, "build");
    if (c == NULL)
        die("%s/exercise.ini: every exercise needs a [check build]", ex->dir);
    plan_builds(g);

    /* The student's files, copied: only the ones the manifest names. */
    char *src = xasprintf("%s/src", g->workdir), *ref = xasprintf("%s/ref", g->workdir);
    mkdir_p(src);
    mkdir_p(ref);
    for (size_t i = 0; i < ex->student_files.n; i++) {
        const char *name = ex->student_files.v[i];
        char *from = path_join(g->src_dir, name), *to = path_join(src, name);
        if (!is_file(from)) {
            check_fail(c, "%s/%s is missing: exercise %s is graded on %s", g->src_display, name,
                       ex->id, name);
            grading_flag(g, "missing-file");
            free(from);
            free(to);
            goto out;
        }
        if (!copy_file(from, to))
            die("cannot copy %s", from);
        free(from);
        free(to);
    }
    if (wants_variant(ex, VARIANT_REFERENCE))
        copy_reference(ex, ref);

    for (int v = 0; v < NVARIANTS; v++) {
        bool any = false;
        for (size_t i = 0; i < ex->nprograms; i++)
            any |= ex->programs[i].wanted[v];
        if (!any && v != VARIANT_PLAIN)
            continue;
        /* The grader's own: sandboxed processes only ever read them. */
        char *objdir = xasprintf("%s/obj/%s", g->workdir, variant_names[v]);
        mkdir_p(objdir);
        char *bindir = xasprintf("%s/bin", g->workdir);
        mkdir_p(bindir);
        /* the student's (or, for the reference variant, the solution's) objects */
        strvec_t student_objs = {0};
        bool ok = true;
        for (size_t i = 0; i < ex->student_files.n && ok; i++) {
            const char *name = ex->student_files.v[i];
            char *from = v == VARIANT_REFERENCE ? reference_file(ref, name)
                                                : xasprintf("%s/%s", src, name);
            char *obj = xasprintf("%s/%s.o", objdir, name);
            char *out = NULL;
            if (v == VARIANT_REFERENCE && str_ends_with(from, ".o")) {
                if (!copy_file(from, obj)) /* a handout's compiled reference */
                    die("cannot copy the reference object %s", from);
            } else if (!compile(g, (variant_t)v, from, obj, &out)) {
                ok = false;
                if (v == VARIANT_REFERENCE)
                    die("the reference solution does not compile: %s", out);
                check_t *target = c;
                diag_t d;
                char *shown = student_paths(g, out);
                bool have = diag_compiler(shown, &ex->student_files, &d);
                if (v == VARIANT_TSAN || v == VARIANT_ASAN) {
                    /* the plain build worked; this one did not: only its stage's checks fail */
                    stage_t st = v == VARIANT_TSAN ? STAGE_TSAN : STAGE_ASAN;
                    for (size_t k = 0; k < ex->nchecks; k++)
                        if (ex->checks[k].stage == st && ex->checks[k].status == CHECK_PENDING) {
                            check_fail(&ex->checks[k], "%s could not compile %s for %s: %s",
                                       compiler_for((variant_t)v), name,
                                       v == VARIANT_TSAN ? "ThreadSanitizer" : "AddressSanitizer",
                                       have ? d.message : "see the details");
                            if (have)
                                set_evidence(&ex->checks[k], &d);
                        }
                } else {
                    grading_flag(g, "compile-error");
                    check_fail(target, "%s does not compile: %s", name, have ? d.message : str_trim(shown));
                    if (have)
                        set_evidence(target, &d);
                    else
                        target->details = xstrdup(shown);
                }
                if (have)
                    diag_free(&d);
                free(shown);
            } else if (v == VARIANT_PLAIN && strstr(out, "warning:") != NULL) {
                free(c->details);
                c->details = student_paths(g, out); /* shown, not graded */
            }
            sv_push(&student_objs, obj);
            free(from);
            free(obj);
            free(out);
        }
        for (size_t i = 0; i < ex->nprograms && ok; i++) {
            program_t *p = &ex->programs[i];
            if (!p->wanted[v])
                continue;
            strvec_t objs = {0};
            build_kit_objects(g, p, (variant_t)v, &objs);
            for (size_t k = 0; k < student_objs.n; k++)
                sv_push(&objs, student_objs.v[k]);
            char *bin = xasprintf("%s/%s.%s", bindir, p->name, variant_names[v]);
            char *out = NULL;
            if (link_program(g, (variant_t)v, p, &objs, bin, &out)) {
                p->binary[v] = xstrdup(bin);
            } else if (v == VARIANT_REFERENCE) {
                die("the reference solution does not link with %s: %s", p->name, out);
            } else if (v == VARIANT_PLAIN && c->status == CHECK_PENDING) {
                diag_t d;
                char *shown = student_paths(g, out);
                bool have = diag_compiler(shown, &ex->student_files, &d);
                grading_flag(g, "compile-error");
                check_fail(c, "the program %s does not link: %s (is a function of %s missing or "
                           "misspelled?)", p->name, have ? d.message : str_trim(shown),
                           ex->student_files.v[0]);
                c->details = xstrdup(shown);
                if (have)
                    diag_free(&d);
                free(shown);
                ok = false;
            }
            free(bin);
            free(out);
            sv_free(&objs);
        }
        sv_free(&student_objs);
        free(objdir);
        free(bindir);
    }
    if (c->status == CHECK_PENDING) {
        check_case_names(g);
        check_pass(c, "%s compiled%s", ex->student_files.v[0],
                   c->details != NULL ? " (with warnings: see the details)" : "");
    }
out:
    /* The linked programs hold what they need of the reference: its source
     * and objects go, so a kept scratch directory (--keep) never shows them. */
    rm_rf(ref);
    char *refobj = xasprintf("%s/obj/%s", g->workdir, variant_names[VARIANT_REFERENCE]);
    rm_rf(refobj);
    free(refobj);
    free(src);
    free(ref);
}

/* ---- rules ---- */

/* Runs a binutils tool (nm, readelf) on the student's object of file f and
 * returns its output; the tool failing is the grader's problem. */
static char *inspect_object(grading_t *g, const char *tool, const char *opt, const char *file)
{
    strvec_t argv = {0}, env = {0};
    sv_push(&argv, tool);
    sv_push(&argv, opt);
    sv_pushf(&argv, "%s/obj/plain/%s.o", g->workdir, file);
    char *rundir = new_rundir(g, tool);
    base_env(&env, rundir);
    run_result_t res;
    run_in(g, &argv, &env, rundir, NULL, NULL, NULL, 30, false, &res);
    if (!res.started || !res.exited || res.exit_code != 0)
        die("%s failed on %s: %s", tool, file, res.output);
    char *out = res.output;
    res.output = NULL;
    run_result_free(&res);
    sv_free(&argv);
    sv_free(&env);
    free(rundir);
    return out;
}

/* Adds "<verb> name" to found when name matches a pattern of forbid. */
static void match_forbidden(const strvec_t *forbid, const char *name, const char *verb, strbuf_t *found)
{
    for (size_t k = 0; k < forbid->n; k++) {
        if (fnmatch(forbid->v[k], name, 0) != 0)
            continue;
        char *item = xasprintf("%s %s", verb, name);
        if (found->s == NULL || strstr(found->s, item) == NULL)
            sb_printf(found, "%s%s", found->len ? ", " : "", item);
        free(item);
    }
}

/* The identifiers of a student file after the preprocessor (so a macro cannot
 * hide one), that match a pattern of forbid: the compiler's attributes that
 * turn a sanitizer off leave no symbol for nm to see. */
static void match_source(grading_t *g, const char *file, const strvec_t *forbid, strbuf_t *found)
{
    strvec_t argv = {0}, env = {0};
    char *rundir = new_rundir(g, "cpp");
    sv_push(&argv, "gcc");
    push_cflags(g, &argv, VARIANT_PLAIN, rundir);
    sv_push(&argv, "-E");
    sv_pushf(&argv, "%s/src/%s", g->workdir, file);
    sv_push(&argv, "-o");
    sv_push(&argv, "out.i");
    base_env(&env, rundir);
    run_result_t res;
    run_in(g, &argv, &env, rundir, NULL, NULL, NULL, 60, false, &res);
    char *ipath = path_join(rundir, "out.i");
    size_t len = 0;
    char *text = res.exited && res.exit_code == 0 ? read_file(ipath, &len) : NULL;
    /* a file that does not preprocess does not compile either: the build check says so */
    bool mine = false;
    char *save = NULL;
    for (char *l = text != NULL ? strtok_r(text, "\n", &save) : NULL; l != NULL; l = strtok_r(NULL, "\n", &save)) {
        if (l[0] == '#') { /* a line marker: # 12 "path/file.c" 2 */
            char *q = strchr(l, '"');
            if (q != NULL) {
                char *e = strchr(q + 1, '"');
                if (e != NULL)
                    *e = '\0';
                mine = strcmp(path_basename(q + 1), file) == 0;
            }
            continue;
        }
        for (char *p = l; mine && *p != '\0';) {
            if (*p == '"' || *p == '\'') { /* skip a literal */
                char quote = *p++;
                while (*p != '\0' && *p != quote)
                    p += (*p == '\\' && p[1] != '\0') ? 2 : 1;
                if (*p != '\0')
                    p++;
            } else if (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
                char *start = p;
                while (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                       (*p >= '0' && *p <= '9'))
                    p++;
                char *word = xstrndup(start, (size_t)(p - start));
                match_forbidden(forbid, word, "uses", found);
                free(word);
            } else {
                p++;
            }
        }
    }
    free(text);
    free(ipath);
    run_result_free(&res);
    sv_free(&argv);
    sv_free(&env);
    free(rundir);
}

void stage_rules(grading_t *g)
{
    exercise_t *ex = g->ex;
    for (size_t i = 0; i < ex->nchecks; i++) {
        check_t *c = &ex->checks[i];
        if (c->stage != STAGE_RULES || !check_ready(g, c))
            continue;
        const strvec_t *forbid = &c->forbid, *sections = &c->forbid_sections, *source = &c->forbid_source;
        strbuf_t found = {0};
        for (size_t f = 0; f < ex->student_files.n; f++) {
            const char *file = ex->student_files.v[f];
            if (source->n > 0)
                match_source(g, file, source, &found);
            if (forbid->n > 0) {
                /* all symbols: the ones it calls (U) and the ones it defines,
                 * such as __tsan_default_suppressions */
                char *out = inspect_object(g, "nm", "-A", file);
                char *save = NULL;
                /* lines: "file.o:0000000000000010 T name" or "file.o:   U name" */
                for (char *l = strtok_r(out, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
                    char w[3][512], *type, *sym;
                    char *colon = strrchr(l, ':');
                    const char *rest = colon != NULL ? colon + 1 : l;
                    /* three words: value, type, name; two (undefined): type, name */
                    int words = sscanf(rest, "%511s %511s %511s", w[0], w[1], w[2]);
                    if (words == 3)
                        type = w[1], sym = w[2];
                    else if (words == 2)
                        type = w[0], sym = w[1];
                    else
                        continue;
                    match_forbidden(forbid, sym, strcmp(type, "U") == 0 ? "calls" : "defines", &found);
                }
                free(out);
            }
            if (sections->n > 0) {
                char *out = inspect_object(g, "readelf", "-SW", file);
                char *save = NULL;
                /* lines: "  [ 5] .init_array.00101 INIT_ARRAY ..." */
                for (char *l = strtok_r(out, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
                    char *b = strchr(l, ']');
                    char name[512];
                    if (b != NULL && sscanf(b + 1, " %511s", name) == 1)
                        match_forbidden(sections, name, "has the section", &found);
                }
                free(out);
            }
        }
        const char *why = c->why;
        if (found.len > 0)
            check_fail(c, "%s %s, which the rules of this exercise forbid: %s", ex->student_files.v[0],
                       found.s, why != NULL ? why : "a grader that is told to look away cannot vouch for your code");
        else
            check_pass(c, "nothing forbidden");
        free(found.s);
    }
}

/* ---- test programs and their result records ---- */

typedef struct {
    char *name;
    bool have_result, done, passed;
    char *rtype, *msg, *file;
    int line;
    double seconds; /* how long it ran (the harness's clock); 0: unknown */
    char *after;    /* rtype not-run: the case that hung before it */
} case_result_t;

typedef struct {
    run_result_t run;
    case_result_t *cases;
    size_t ncases;
    char *rundir;
    char *results_path;
    char *token; /* this run's own: a record from another run never counts here */
} prog_run_t;

static void prog_run_free(prog_run_t *pr)
{
    run_result_free(&pr->run);
    for (size_t i = 0; i < pr->ncases; i++) {
        free(pr->cases[i].name);
        free(pr->cases[i].rtype);
        free(pr->cases[i].msg);
        free(pr->cases[i].file);
        free(pr->cases[i].after);
    }
    free(pr->cases);
    free(pr->rundir);
    free(pr->results_path);
    free(pr->token);
}

static case_result_t *find_case(prog_run_t *pr, const char *name)
{
    for (size_t i = 0; i < pr->ncases; i++)
        if (strcmp(pr->cases[i].name, name) == 0)
            return &pr->cases[i];
    return NULL;
}

/* The records of a result file that carry this run's token, as a JSON array;
 * anything else in the file (a forged line, garbage) is ignored. */
static json_t *load_records(const char *token, const char *path)
{
    json_t *records = json_array();
    char *text = read_file(path, NULL);
    char *save = NULL;
    for (char *l = text != NULL ? strtok_r(text, "\n", &save) : NULL; l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        json_t *rec = json_loads(l, 0, NULL);
        const char *tok = json_string_value(json_object_get(rec, "token"));
        if (tok != NULL && json_is_string(json_object_get(rec, "kind")) && strcmp(tok, token) == 0)
            json_array_append(records, rec);
        json_decref(rec);
    }
    free(text);
    return records;
}

static const char *record_field(json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

/* Fills pr's case results from the records carrying our token. */
static void read_records(prog_run_t *pr)
{
    json_t *records = load_records(pr->token, pr->results_path);
    size_t i;
    json_t *rec;
    json_array_foreach(records, i, rec) {
        const char *kind = record_field(rec, "kind");
        bool done = strcmp(kind, "done") == 0;
        const char *name = record_field(rec, done ? "test" : "case");
        case_result_t *cr = name != NULL ? find_case(pr, name) : NULL;
        if (cr != NULL && done) {
            cr->done = true;
        } else if (cr != NULL && strcmp(kind, "result") == 0 && !cr->have_result) {
            cr->have_result = true;
            const char *rt = record_field(rec, "rtype");
            cr->rtype = xstrdup(rt != NULL ? rt : "error");
            cr->passed = strcmp(cr->rtype, "pass") == 0;
            const char *m = record_field(rec, "msg");
            cr->msg = xstrdup(m != NULL ? m : "");
            const char *f = record_field(rec, "file");
            cr->file = xstrdup(f != NULL ? f : "");
            const char *ln = record_field(rec, "line");
            cr->line = ln != NULL ? atoi(ln) : 0;
            const char *secs = record_field(rec, "seconds"), *after = record_field(rec, "after");
            cr->seconds = secs != NULL ? strtod(secs, NULL) : 0;
            cr->after = after != NULL ? xstrdup(after) : NULL;
        }
    }
    json_decref(records);
}

/* Runs program binary with the given cases, optionally under a wrapper
 * (valgrind ...), with extra environment. slowdown is how much slower the tool
 * makes a program (1 natively): the program's limit and Check's limit for each
 * test are both multiplied by it, and by the grading's time scale. */
static void run_program(grading_t *g, const char *binary, const strvec_t *cases, const strvec_t *wrapper,
                        const strvec_t *extra_env, const char *logdir, double timeout_s,
                        double slowdown, bool sanitizer, const char *what, prog_run_t *pr)
{
    memset(pr, 0, sizeof *pr);
    pr->rundir = new_rundir(g, what);
    /* Results live outside the process's working directory, in a directory of
     * this run's own. */
    char *resdir = xasprintf("%s/results/%03d-%s", g->workdir, g->run_counter, what);
    sandbox_mkdir(g, resdir);
    pr->results_path = path_join(resdir, "records.jsonl");
    pr->token = random_token();
    pr->cases = xcalloc(cases->n, sizeof *pr->cases);
    for (size_t i = 0; i < cases->n; i++)
        pr->cases[pr->ncases++].name = xstrdup(cases->v[i]);

    strvec_t argv = {0}, env = {0};
    for (size_t i = 0; wrapper != NULL && i < wrapper->n; i++)
        sv_push(&argv, wrapper->v[i]);
    sv_push(&argv, binary);
    for (size_t i = 0; i < cases->n; i++)
        sv_push(&argv, cases->v[i]);
    base_env(&env, pr->rundir);
    sv_pushf(&env, "ALAB_RESULT=%s", pr->results_path);
    sv_push(&env, "ALAB_TOKEN_FD=3"); /* the token itself never enters the environment */
    sv_pushf(&env, "ALAB_SEED=%llu", (unsigned long long)g->seed);
    sv_push(&env, "CK_FORK=yes");
    /* Check's own per-test time limits follow the grader's scale and the tool's slowdown. */
    sv_pushf(&env, "CK_TIMEOUT_MULTIPLIER=%g", g->time_scale * slowdown);
    for (size_t i = 0; extra_env != NULL && i < extra_env->n; i++)
        sv_push(&env, extra_env->v[i]);
    if (g->hung && timeout_s > HUNG_LIMIT_S)
        timeout_s = HUNG_LIMIT_S;
    run_in(g, &argv, &env, pr->rundir, resdir, logdir, pr->token, timeout_s * slowdown * g->time_scale,
           sanitizer, &pr->run);
    free(resdir);
    read_records(pr);
    for (size_t i = 0; i < pr->ncases; i++)
        g->hung |= pr->cases[i].have_result && pr->cases[i].rtype != NULL &&
                   strstr(pr->cases[i].msg, "Test timeout expired") != NULL;
    g->hung |= pr->run.timed_out && cases->n > 0;
    sv_free(&argv);
    sv_free(&env);
}

/* Asks each built test program which of the cases the manifest names it
 * defines (check_main.c's --list), before anything is graded: a case it does
 * not define is the manifest's mistake, and the grader stops (status 2). A
 * program that does not answer (the student's code stopped it before main)
 * is not asked again: its tests will say what is wrong. */
static void check_case_names(grading_t *g)
{
    exercise_t *ex = g->ex;
    for (size_t pi = 0; pi < ex->nprograms; pi++) {
        program_t *p = &ex->programs[pi];
        const char *bin = NULL;
        for (int v = 0; v < NVARIANTS && bin == NULL; v++)
            bin = v != VARIANT_REFERENCE ? p->binary[v] : NULL;
        if (!p->is_check || bin == NULL)
            continue;
        strvec_t args = {0};
        sv_push(&args, "--list");
        for (size_t i = 0; i < ex->nchecks; i++)
            for (size_t k = 0; ex->checks[i].program == p && k < ex->checks[i].cases.n; k++)
                if (!sv_contains(&args, ex->checks[i].cases.v[k]))
                    sv_push(&args, ex->checks[i].cases.v[k]);
        prog_run_t pr;
        run_program(g, bin, &args, NULL, NULL, NULL, 30, 1, p->binary[VARIANT_PLAIN] != bin, "list", &pr);
        json_t *records = load_records(pr.token, pr.results_path), *rec;
        strvec_t defined = {0};
        bool whole = false;
        size_t i;
        json_array_foreach(records, i, rec) {
            const char *kind = record_field(rec, "kind"), *name = record_field(rec, "name");
            whole |= strcmp(kind, "listed") == 0;
            if (strcmp(kind, "case") == 0 && name != NULL)
                sv_push(&defined, name);
        }
        if (whole)
            exercise_check_cases(ex, p, &defined);
        json_decref(records);
        sv_free(&defined);
        sv_free(&args);
        prog_run_free(&pr);
    }
}

/* Check's words for how a test ended, as a sentence. */
static char *describe_case_error(const case_result_t *cr)
{
    int n;
    if (strstr(cr->msg, "Test timeout expired") != NULL)
        return xasprintf("test %s hung: stopped after %.0f s (its time limit): an infinite loop, "
                         "a deadlock, or a thread waiting for a lock nobody releases?",
                         cr->name, cr->seconds);
    if (sscanf(cr->msg, "Received signal %d", &n) == 1)
        return xasprintf("test %s crashed: %s", cr->name, cr->msg);
    if (sscanf(cr->msg, "Early exit with return value %d", &n) == 1)
        return xasprintf("test %s ended early with exit status %d%s", cr->name, n,
                         n == 66 ? " (ThreadSanitizer found a problem)"
                         : n == 99 ? " (memcheck found an error)" : ": does your code call exit()?");
    return xasprintf("test %s: %s", cr->name, cr->msg);
}

/* What the run's end adds to a failure: output cut, memory cap reached. */
static char *run_notes(const prog_run_t *pr)
{
    strbuf_t sb = {0};
    if (pr->run.oom_killed)
        sb_printf(&sb, " (the kernel killed it: the memory limit of %lu MiB was reached)",
                  pr->run.mem_cap_mb);
    if (pr->run.output_cut)
        sb_printf(&sb, " (it printed %zu bytes: the output was cut to its beginning and end)",
                  pr->run.output_total);
    char *s = sb_take(&sb);
    return s != NULL ? s : xstrdup("");
}

/* The first case of a run, in the order it ran them, with no result: the one
 * running when the program was stopped. */
static const char *first_without_result(const prog_run_t *pr)
{
    for (size_t i = 0; i < pr->ncases; i++)
        if (!pr->cases[i].have_result)
            return pr->cases[i].name;
    return "";
}

/* Judges the cases of check c from one run; fills *why with the first failure. */
static bool cases_passed(grading_t *g, check_t *c, const strvec_t *cases, prog_run_t *pr, char **why,
                         bool *crashed, char **crashed_case)
{
    (void)c;
    *crashed = false;
    char *why0 = NULL;
    for (size_t i = 0; i < cases->n && why0 == NULL; i++) {
        case_result_t *cr = find_case(pr, cases->v[i]);
        const case_result_t *hung = cr != NULL && cr->after != NULL ? find_case(pr, cr->after) : NULL;
        if (cr != NULL && cr->have_result && cr->after != NULL) {
            why0 = xasprintf("test %s was not run: test %s before it hung (stopped after %.0f s, its "
                             "time limit)",
                             cr->name, cr->after, hung != NULL ? hung->seconds : 0);
        } else if ((cr == NULL || !cr->have_result) && pr->run.timed_out &&
                   strcmp(first_without_result(pr), cases->v[i]) != 0) {
            why0 = xasprintf("test %s was not run: test %s before it hung, and the test program was "
                             "stopped after %.0f s (time limit)",
                             cases->v[i], first_without_result(pr), pr->run.wall_s);
        } else if ((cr == NULL || !cr->have_result) && pr->run.timed_out) {
            why0 = xasprintf("test %s hung: the test program was stopped after %.0f s (time limit): "
                             "an infinite loop, a deadlock or a wait that never ends?",
                             cases->v[i], pr->run.wall_s);
            grading_flag(g, "timeout");
        } else if (cr == NULL || !cr->have_result) {
            char *end = run_describe_end(&pr->run);
            /* Check stops the whole program when it cannot record a result
             * (a full disk, the file-size limit): say what it said */
            const char *ck = pr->run.output != NULL ? strstr(pr->run.output, "Error in call to ") : NULL;
            char *said = ck != NULL ? xstrndup(ck, strcspn(ck, "\n")) : NULL;
            why0 = xasprintf("test %s produced no result: the test program %s%s%s%s", cases->v[i], end,
                             said != NULL ? " (the Check framework said: \"" : "",
                             said != NULL ? said : "", said != NULL ? "\")" : "");
            free(said);
            free(end);
            if (pr->run.signaled)
                grading_flag(g, "crash");
        } else if (!cr->passed) {
            if (strcmp(cr->rtype, "failure") == 0) {
                why0 = xasprintf("%s", cr->msg);
            } else {
                why0 = describe_case_error(cr);
                if (strstr(cr->msg, "Received signal") != NULL) {
                    *crashed = true;
                    *crashed_case = cr->name;
                    grading_flag(g, "crash");
                } else if (strstr(cr->msg, "Test timeout expired") != NULL) {
                    grading_flag(g, "timeout");
                }
            }
        } else if (!cr->done) {
            why0 = xasprintf("test %s ended before its last line yet reported success: does "
                             "your code call exit()?",
                             cr->name);
        }
    }
    if (why0 == NULL)
        return true;
    char *notes = run_notes(pr);
    *why = xasprintf("%s%s", why0, notes);
    free(why0);
    free(notes);
    return false;
}

/* --vex-guest-chase=no: without it memcheck may translate a small function
 * into its caller's block, and a crash at the function's first instruction is
 * reported at the caller's line (the kit's test), not the student's. */
const char *const memcheck_args[] = {
    "valgrind", "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect",
    "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99", "--fullpath-after=",
    "--num-callers=24", "--vex-guest-chase=no", NULL};

static void push_valgrind(strvec_t *w, const char *rundir)
{
    for (size_t i = 0; memcheck_args[i] != NULL; i++)
        sv_push(w, memcheck_args[i]);
    sv_pushf(w, "--log-file=%s/vg.%%p", rundir);
}

/* All files in dir whose name starts with prefix, concatenated. */
static char *read_logs(const char *dir, const char *prefix)
{
    strbuf_t sb = {0};
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!str_starts_with(e->d_name, prefix))
                continue;
            char *p = path_join(dir, e->d_name);
            char *t = read_file(p, NULL);
            if (t != NULL) {
                sb_append(&sb, t);
                sb_append(&sb, "\n");
                free(t);
            }
            free(p);
        }
        closedir(d);
    }
    return sb_take(&sb);
}

/* A test crashed: run it alone, in-process, under memcheck, to say where. */
static void locate_crash(grading_t *g, check_t *c, program_t *p, const char *case_name)
{
    /* Once per grading: memcheck on a threaded test is slow, and the first crash
     * is the one to fix. */
    static bool located;
    static const char *located_in; /* the check whose crash memcheck placed */
    if (located_in != NULL) { /* a check reaches here once, so this is another check */
        char *m = xasprintf("%s (memcheck looked at the first crash only, under %s)", c->message,
                            located_in);
        free(c->message);
        c->message = m;
    }
    if (!g->have_valgrind || located)
        return;
    located = true;
    strvec_t one = {0}, wrapper = {0}, env = {0};
    sv_push(&one, case_name);
    char *rundir = new_rundir(g, "locate");
    push_valgrind(&wrapper, rundir);
    sv_push(&env, "ALAB_NOFORK=1");
    prog_run_t pr;
    run_program(g, p->binary[VARIANT_PLAIN], &one, &wrapper, &env, rundir, 30, 1, false, "locate", &pr);
    char *log = read_logs(rundir, "vg.");
    diag_t d;
    if (diag_valgrind(log, &g->ex->student_files, &d)) {
        /* Without a line of the student's on the stack, the kit's test touched
         * memory that the student's code handed out or described wrongly. */
        char *m = d.where != NULL
                      ? xasprintf("%s; memcheck saw it first: %s", c->message, d.message)
                      : xasprintf("%s; memcheck saw it first, in the kit's test (no line of "
                                  "yours on the stack: look at what your code handed it): %s",
                                  c->message, d.message);
        free(c->message);
        c->message = m;
        set_evidence(c, &d);
        diag_free(&d);
        located_in = c->id;
    }
    free(log);
    prog_run_free(&pr);
    free(rundir);
    sv_free(&one);
    sv_free(&wrapper);
    sv_free(&env);
}

/* Runs the Check cases of every ready check of the given stage, one run per program. */
static void run_case_checks(grading_t *g, stage_t stage)
{
    exercise_t *ex = g->ex;
    for (size_t pi = 0; pi < ex->nprograms; pi++) {
        program_t *p = &ex->programs[pi];
        strvec_t cases = {0};
        for (size_t i = 0; i < ex->nchecks; i++) {
            check_t *c = &ex->checks[i];
            if (c->program == p && c->stage == stage && check_ready(g, c))
                for (size_t k = 0; k < c->cases.n; k++)
                    if (!sv_contains(&cases, c->cases.v[k]))
                        sv_push(&cases, c->cases.v[k]);
        }
        if (cases.n == 0)
            continue;
        prog_run_t pr;
        run_program(g, p->binary[VARIANT_PLAIN], &cases, NULL, NULL, NULL, p->timeout_s, 1, false,
                    p->name, &pr);
        for (size_t i = 0; i < ex->nchecks; i++) {
            check_t *c = &ex->checks[i];
            if (c->program != p || c->stage != stage || c->status != CHECK_PENDING)
                continue;
            char *why = NULL, *crashed_case = NULL;
            bool crashed;
            if (cases_passed(g, c, &c->cases, &pr, &why, &crashed, &crashed_case)) {
                check_pass(c, "passed");
            } else {
                check_fail(c, "%s", why);
                if (crashed)
                    locate_crash(g, c, p, crashed_case);
            }
            free(why);
        }
        prog_run_free(&pr);
        sv_free(&cases);
    }
}

void stage_tests(grading_t *g)
{
    run_case_checks(g, STAGE_TESTS);
}

void stage_bonus(grading_t *g)
{
    run_case_checks(g, STAGE_BONUS);
}

/* The cases of c worth running under a tool: those whose own check in the tests
 * stage passed (a case that already failed there would only fail again, or leak
 * because it stopped early, and a student pays once for a bug). *left_out names
 * the others. */
static void usable_cases(grading_t *g, const check_t *c, strvec_t *cases, char **left_out)
{
    strbuf_t out = {0};
    for (size_t i = 0; i < c->cases.n; i++) {
        bool ok = true;
        for (size_t k = 0; k < g->ex->nchecks; k++) {
            const check_t *t = &g->ex->checks[k];
            if (t->program == c->program && t->stage == STAGE_TESTS &&
                sv_contains(&t->cases, c->cases.v[i]) && t->status != CHECK_PASS)
                ok = false;
        }
        if (ok)
            sv_push(cases, c->cases.v[i]);
        else
            sb_printf(&out, "%s%s", out.len ? ", " : "", c->cases.v[i]);
    }
    *left_out = out.len ? sb_take(&out) : NULL;
}

/* Appends "(left out: ...)" to a passing check's message. */
static void note_left_out(check_t *c, const char *left_out)
{
    if (left_out == NULL || c->message == NULL)
        return;
    char *m = xasprintf("%s; not run here, as they failed in the tests stage: %s", c->message, left_out);
    free(c->message);
    c->message = m;
}

/* ---- sanitizers: ThreadSanitizer, AddressSanitizer + UBSan ---- */

typedef struct {
    stage_t stage;
    const char *tool, *log_prefix;
    variant_t variant;
    bool (*diagnose)(const char *, const strvec_t *, diag_t *);
} sanitizer_t;

static const sanitizer_t sanitizers[] = {
    {STAGE_TSAN, "ThreadSanitizer", "tsan", VARIANT_TSAN, diag_tsan},
    {STAGE_ASAN, "AddressSanitizer and UBSan", "asan", VARIANT_ASAN, diag_asan},
};

/* The options of a sanitizer run: reports go to files in logdir, never to the
 * test's own output, and a report makes the run fail. */
static void sanitizer_env(const sanitizer_t *san, const char *logdir, strvec_t *env)
{
    if (san->variant == VARIANT_TSAN) {
        sv_pushf(env, "TSAN_OPTIONS=halt_on_error=0 exitcode=66 second_deadlock_stack=1 log_path=%s/tsan",
                 logdir);
    } else {
        /* leaks are memcheck's business; UBSan stops at its first finding */
        sv_pushf(env, "ASAN_OPTIONS=detect_leaks=0 exitcode=67 log_path=%s/asan", logdir);
        sv_pushf(env, "UBSAN_OPTIONS=print_stacktrace=1 halt_on_error=1 log_path=%s/asan", logdir);
    }
}

static void run_sanitizer(grading_t *g, const sanitizer_t *san)
{
    exercise_t *ex = g->ex;
    for (size_t i = 0; i < ex->nchecks; i++) {
        check_t *c = &ex->checks[i];
        if (c->stage != san->stage || !check_ready(g, c))
            continue;
        if (san->variant == VARIANT_TSAN && !g->have_clang) {
            check_skip(c, "not run: clang is not installed (run: make deps)");
            continue;
        }
        if (c->program->binary[san->variant] == NULL) {
            check_fail(c, "the %s build of %s failed", san->tool, c->program->name);
            continue;
        }
        int repeat = c->repeat;
        strvec_t cases = {0};
        char *left_out = NULL;
        usable_cases(g, c, &cases, &left_out);
        if (cases.n == 0) {
            check_skip(c, "not run: every test it runs failed in the tests stage (%s)", left_out);
            free(left_out);
            continue;
        }
        for (int run = 1; run <= repeat && c->status == CHECK_PENDING; run++) {
            char *logdir = new_rundir(g, san->log_prefix);
            strvec_t env = {0};
            sanitizer_env(san, logdir, &env);
            prog_run_t pr;
            run_program(g, c->program->binary[san->variant], &cases, NULL, &env, logdir,
                        c->program->timeout_s, SANITIZER_SLOWDOWN, true, stage_names[san->stage], &pr);
            /* UBSan, inside an ASan build, reports on stderr whatever its
             * options say; and its paths are the scratch copy's */
            char *raw = read_logs(logdir, san->log_prefix);
            char *both = xasprintf("%s\n%s", raw != NULL ? raw : "", pr.run.output != NULL ? pr.run.output : "");
            char *logs = student_paths(g, both);
            free(raw);
            free(both);
            diag_t d;
            char *why = NULL, *crashed_case = NULL;
            bool crashed;
            char *of = repeat > 1 ? xasprintf(" (run %d of %d)", run, repeat) : xstrdup("");
            if (san->diagnose(logs, &ex->student_files, &d)) {
                check_fail(c, "%s%s", d.message, of);
                set_evidence(c, &d);
                diag_free(&d);
            } else if (!cases_passed(g, c, &cases, &pr, &why, &crashed, &crashed_case)) {
                check_fail(c, "under %s, %s%s", san->tool, why, of);
            }
            free(of);
            free(why);
            free(logs);
            prog_run_free(&pr);
            sv_free(&env);
            free(logdir);
        }
        if (c->status == CHECK_PENDING) {
            if (san->variant == VARIANT_TSAN)
                check_pass(c, "no data race in %d run%s", repeat, repeat == 1 ? "" : "s");
            else
                check_pass(c, "no invalid access and no undefined behaviour");
        }
        note_left_out(c, left_out);
        free(left_out);
        sv_free(&cases);
    }
}

void stage_tsan(grading_t *g)
{
    run_sanitizer(g, &sanitizers[0]);
}

void stage_asan(grading_t *g)
{
    run_sanitizer(g, &sanitizers[1]);
}

/* ---- Valgrind ---- */

void stage_valgrind(grading_t *g)
{
    exercise_t *ex = g->ex;
    for (size_t i = 0; i < ex->nchecks; i++) {
        check_t *c = &ex->checks[i];
        if (c->stage != STAGE_VALGRIND || !check_ready(g, c))
            continue;
        if (!g->have_valgrind) {
            check_skip(c, "not run: valgrind is not installed (run: make deps)");
            continue;
        }
        char *logdir = new_rundir(g, "vg-logs");
        strvec_t wrapper = {0};
        push_valgrind(&wrapper, logdir);
        const char *expect = c->expect_error;
        prog_run_t pr;
        strvec_t cases = {0};
        char *left_out = NULL;
        if (c->program->is_check) {
            usable_cases(g, c, &cases, &left_out);
            if (cases.n == 0) {
                check_skip(c, "not run: every test it runs failed in the tests stage (%s)", left_out);
                free(left_out);
                sv_free(&wrapper);
                free(logdir);
                continue;
            }
        }
        run_program(g, c->program->binary[VARIANT_PLAIN], &cases, &wrapper, NULL, logdir,
                    c->program->timeout_s, MEMCHECK_SLOWDOWN, false, "valgrind", &pr);
        char *logs = read_logs(logdir, "vg.");
        if (expect != NULL) {
            /* The program does something wrong on purpose: memcheck must say so. */
            if (pr.run.timed_out || !pr.run.started)
                check_fail(c, "the program %s", run_describe_end(&pr.run));
            else if (diag_valgrind_has(logs, expect))
                check_pass(c, "memcheck reported \"%s\" as it should", expect);
            else
                check_fail(c, "memcheck did not report \"%s\" for a write into a freed block: it "
                           "cannot see inside your pool unless you tell it, with "
                           "VALGRIND_MEMPOOL_ALLOC and VALGRIND_MEMPOOL_FREE from "
                           "<valgrind/memcheck.h>", expect);
        } else {
            diag_t d;
            char *why = NULL, *crashed_case = NULL;
            bool crashed;
            if (diag_valgrind(logs, &ex->student_files, &d)) {
                check_fail(c, "%s", d.message);
                set_evidence(c, &d);
                diag_free(&d);
            } else if (!cases_passed(g, c, &cases, &pr, &why, &crashed, &crashed_case)) {
                check_fail(c, "under Valgrind, %s", why);
            } else {
                check_pass(c, "no memcheck error, no leak");
                note_left_out(c, left_out);
            }
            free(why);
        }
        free(left_out);
        sv_free(&cases);
        free(logs);
        prog_run_free(&pr);
        sv_free(&wrapper);
        free(logdir);
    }
}

/* ---- perf and measure ---- */

/* The words of a manifest's args = ..., with {exercise} and {root} made the
 * exercise's and the kit's directories (the kit is visible, read-only, to
 * every run). */
static void push_args(grading_t *g, strvec_t *args, const char *text)
{
    if (text == NULL)
        return;
    char *a = str_replace_all(text, "{exercise}", g->ex->dir);
    char *b = str_replace_all(a, "{root}", g->ex->root);
    sv_push_words(args, b);
    free(a);
    free(b);
}

/* Runs the benchmark once; returns its time in ns, or < 0 with *why set. */
static double bench_once(grading_t *g, check_t *c, const char *binary, const char *mode, char **why)
{
    strvec_t args = {0};
    sv_push(&args, mode);
    push_args(g, &args, c->args);
    prog_run_t pr;
    run_program(g, binary, &args, NULL, NULL, NULL, c->program->timeout_s, 1, false, "perf", &pr);
    double ns = -1;
    if (pr.run.exited && pr.run.exit_code == 0) {
        json_t *records = load_records(pr.token, pr.results_path);
        size_t i;
        json_t *rec;
        json_array_foreach(records, i, rec) {
            const char *v = record_field(rec, "ns");
            if (strcmp(record_field(rec, "kind"), "time") == 0 && v != NULL)
                ns = atof(v);
        }
        json_decref(records);
    }
    if (ns <= 0) {
        char *end = run_describe_end(&pr.run);
        *why = xasprintf("the benchmark (%s) %s without reporting a time", mode, end);
        free(end);
        ns = -1;
    }
    prog_run_free(&pr);
    sv_free(&args);
    return ns;
}

void stage_perf(grading_t *g)
{
    exercise_t *ex = g->ex;
    for (size_t i = 0; i < ex->nchecks; i++) {
        check_t *c = &ex->checks[i];
        if (c->stage != STAGE_PERF || !check_ready(g, c))
            continue;
        int rounds = c->rounds, best_of = c->best_of;
        double full_at = c->full_at, zero_at = c->zero_at;
        double *ratio = xcalloc((size_t)rounds, sizeof *ratio);
        double *ref_ratio = xcalloc((size_t)rounds, sizeof *ref_ratio);
        const char *who[3] = {"student", "reference", "malloc"};
        char *why = NULL;
        /* Once more than half the rounds reach full_at, the median does too
         * whatever the other rounds give, and full_at is never below the bar:
         * the rest cannot change the score. */
        int done = 0, at_full = 0;
        for (int r = 0; r < rounds && why == NULL && at_full <= rounds / 2; r++) {
            /* Each program runs best_of times, interleaved, in an order that rotates
             * from round to round; its best time stands for the round (another
             * process can only ever slow a run down). */
            double t[3] = {0, 0, 0};
            for (int b = 0; b < best_of && why == NULL; b++)
                for (int k = 0; k < 3 && why == NULL; k++) {
                    int w = (k + r) % 3;
                    const char *bin = c->program->binary[w == 0 ? VARIANT_PLAIN : VARIANT_REFERENCE];
                    double ns = bench_once(g, c, bin, w == 2 ? "malloc" : "pool", &why);
                    if (why != NULL && w != 0)
                        die("the %s run of the benchmark failed: %s", who[w], why);
                    if (t[w] == 0 || ns < t[w])
                        t[w] = ns;
                }
            if (why == NULL) {
                ratio[r] = t[2] / t[0];
                ref_ratio[r] = t[2] / t[1];
                at_full += ratio[r] >= full_at;
                done = r + 1;
            }
        }
        char *early = done < rounds ? xasprintf("; stopped after %d of %d: more than half had reached %.1fx",
                                                done, rounds, full_at)
                                    : xstrdup("");
        if (why != NULL) {
            check_fail(c, "%s", why);
        } else {
            perf_score_t s = perf_score(ratio, ref_ratio, (size_t)done, full_at, zero_at,
                                        c->reference_share);
            double m = s.m, frac = s.frac;
            char *lowered = s.lowered ? xasprintf(" (%.1fx, lowered to %.0f%% of the reference's "
                                                  "speedup here)",
                                                  full_at, c->reference_share * 100)
                                      : xstrdup("");
            const char *baseline = c->baseline_name;
            char *figures = xasprintf("%.2fx %s %s (median of %d rounds, %.2f-%.2f%s); "
                                      "the reference: %.2fx; full points at %.2fx%s, none at %.2fx",
                                      m, m >= 1 ? "faster than" : "as fast as",
                                      baseline != NULL ? baseline : "malloc", done, s.lo, s.hi, early,
                                      s.mref, s.bar, lowered, s.zero);
            free(lowered);
            if (frac >= 1) {
                check_pass(c, "%s", figures);
            } else {
                /* what to try next, from the manifest */
                const char *advice = c->advice;
                check_fail(c, "%s%s%s", figures, advice != NULL ? ": " : "", advice != NULL ? advice : "");
                c->score = c->points * frac;
            }
            free(figures);
        }
        free(why);
        free(early);
        free(ratio);
        free(ref_ratio);
    }
}

/* Runs a measuring program once; returns the value of the record named
 * metric (its note in *note), or sets *why. */
static double measure_once(grading_t *g, check_t *c, const char *binary, const char *metric,
                           char **note, char **why)
{
    strvec_t args = {0};
    push_args(g, &args, c->args);
    prog_run_t pr;
    run_program(g, binary, &args, NULL, NULL, NULL, c->program->timeout_s, 1, false, "measure", &pr);
    bool found = false;
    double value = 0;
    *note = NULL;
    if (pr.run.exited && pr.run.exit_code == 0) {
        json_t *records = load_records(pr.token, pr.results_path);
        size_t i;
        json_t *rec;
        json_array_foreach(records, i, rec) {
            const char *name = record_field(rec, "name"), *v = record_field(rec, "value");
            if (strcmp(record_field(rec, "kind"), "metric") == 0 && name != NULL && v != NULL &&
                strcmp(name, metric) == 0) {
                char *end;
                value = strtod(v, &end);
                found = end != v;
                const char *n = record_field(rec, "note");
                free(*note);
                *note = n != NULL && n[0] != '\0' ? xstrdup(n) : NULL;
            }
        }
        json_decref(records);
    }
    if (!found) {
        char *end = run_describe_end(&pr.run);
        char *notes = run_notes(&pr);
        *why = xasprintf("the program %s %s without reporting its %s%s", c->program->name, end, metric,
                         notes);
        free(notes);
        free(end);
    }
    prog_run_free(&pr);
    sv_free(&args);
    return value;
}

/* A figure (utilization, say) scored linearly: nothing at zero_at, all points
 * at full_at; full_at may be below zero_at when less is better. */
void stage_measure(grading_t *g)
{
    exercise_t *ex = g->ex;
    for (size_t i = 0; i < ex->nchecks; i++) {
        check_t *c = &ex->checks[i];
        if (c->stage != STAGE_MEASURE || !check_ready(g, c))
            continue;
        const char *metric = c->metric;
        double zero_at = c->zero_at, full_at = c->full_at;
        char *note = NULL, *why = NULL, *ref_note = NULL;
        double v = measure_once(g, c, c->program->binary[VARIANT_PLAIN], metric, &note, &why);
        if (why != NULL) {
            check_fail(c, "%s", why);
            free(why);
            continue;
        }
        double ref = measure_once(g, c, c->program->binary[VARIANT_REFERENCE], metric, &ref_note, &why);
        if (why != NULL)
            die("the reference solution's %s failed: %s", c->id, why);
        double frac = measure_fraction(v, zero_at, full_at);
        char *text = xasprintf("%s %.3f (the reference: %.3f); full points at %.2f, none at %.2f%s%s",
                               metric, v, ref, full_at, zero_at, note != NULL ? "; " : "",
                               note != NULL ? note : "");
        if (frac >= 1) {
            check_pass(c, "%s", text);
        } else {
            check_fail(c, "%s", text);
            c->score = c->points * frac;
        }
        free(text);
        free(note);
        free(ref_note);
    }
}

/* ---- real programs on the student's library (LD_PRELOAD) ---- */

/* Output of a real program is compared whole; commands keep it small. */
#define PROGRAM_OUTPUT_CAP (1024 * 1024)

/* The first line where two outputs differ, as a sentence. */
static char *first_difference(const char *want, const char *got)
{
    int line = 1;
    const char *w = want, *o = got;
    while (*w != '\0' || *o != '\0') {
        size_t wn = strcspn(w, "\n"), on = strcspn(o, "\n");
        if (wn != on || strncmp(w, o, wn) != 0) {
            char *ws = xstrndup(w, wn < 160 ? wn : 160), *os = xstrndup(o, on < 160 ? on : 160);
            char *s = *o == '\0' ? xasprintf("its output stops before line %d (\"%s\")", line, ws)
                      : *w == '\0' ? xasprintf("line %d is extra: \"%s\"", line, os)
                                   : xasprintf("line %d is \"%s\" where it should be \"%s\"", line, os, ws);
            free(ws);
            free(os);
            return s;
        }
        w += wn + (w[wn] != '\0');
        o += on + (o[on] != '\0');
        line++;
    }
    return NULL;
}

/* Runs a shell line in rundir, with the library preloaded or not. */
static void run_shell(grading_t *g, const char *line, const char *rundir, const char *lib,
                      const char *resdir, const char *token, double timeout_s, run_result_t *res)
{
    strvec_t argv = {0}, env = {0};
    sv_push(&argv, "/bin/sh");
    sv_push(&argv, "-c");
    sv_push(&argv, line);
    base_env(&env, rundir);
    if (lib != NULL) { /* every process that loads the library reports: see alab_preload.c */
        sv_pushf(&env, "LD_PRELOAD=%s", lib);
        sv_pushf(&env, "ALAB_RESULT=%s/records.jsonl", resdir);
        sv_pushf(&env, "ALAB_PRELOAD_TOKEN=%s", token);
    }
    run_in_cap(g, &argv, &env, rundir, resdir, NULL, NULL, timeout_s, false, PROGRAM_OUTPUT_CAP, res);
    sv_free(&argv);
    sv_free(&env);
}

/* The record of the process whose executable is named `name` (its basename
 * starts with it: python3 matches python3.11) that served the most calls. */
static json_t *served_record(json_t *records, const char *name)
{
    json_t *best = NULL, *rec;
    unsigned long most = 0;
    size_t k;
    json_array_foreach(records, k, rec) {
        const char *exe = record_field(rec, "exe"), *n = record_field(rec, "calls");
        const char *base = strrchr(exe, '/') != NULL ? strrchr(exe, '/') + 1 : exe;
        unsigned long calls = n != NULL ? strtoul(n, NULL, 10) : 0;
        if (strcmp(record_field(rec, "kind"), "preload") == 0 &&
            strncmp(base, name, strlen(name)) == 0 && (best == NULL || calls >= most)) {
            best = rec;
            most = calls;
        }
    }
    return best;
}

/* Did each program named in served_by run its allocations on the student's
 * library? "ok: ..." when so, else the sentence that says what went wrong. */
static char *served_verdict(json_t *records, const strvec_t *names, const char *cmd)
{
    strbuf_t ok = {0};
    char *bad = NULL;
    for (size_t i = 0; i < names->n && bad == NULL; i++) {
        json_t *rec = served_record(records, names->v[i]);
        const char *n = rec != NULL ? record_field(rec, "calls") : NULL;
        const char *h = rec != NULL ? record_field(rec, "libc_heap") : NULL;
        unsigned long calls = n != NULL ? strtoul(n, NULL, 10) : 0;
        unsigned long heap = h != NULL ? strtoul(h, NULL, 10) : 0;
        if (rec == NULL || calls == 0)
            bad = xasprintf("`%s` ran, but `%s` never called your library: it was not loaded into "
                            "that program, or the calls did not reach it",
                            cmd, names->v[i]);
        else if (heap > 0)
            bad = xasprintf("`%s` called your library %lu times, but the C library's own malloc "
                            "holds %lu bytes in it: your functions handed the calls to glibc "
                            "instead of serving them",
                            names->v[i], calls, heap);
        else
            sb_printf(&ok, "%s%s ran on your library (%lu calls, none reached glibc's malloc)",
                      ok.len ? "; " : "", names->v[i], calls);
    }
    if (bad != NULL) {
        free(sb_take(&ok));
        return bad;
    }
    char *s = xasprintf("ok: %s", ok.len ? ok.s : "");
    free(sb_take(&ok));
    return s;
}

void stage_programs(grading_t *g)
{
    exercise_t *ex = g->ex;
    for (size_t i = 0; i < ex->nchecks; i++) {
        check_t *c = &ex->checks[i];
        if (c->stage != STAGE_PROGRAMS || !check_ready(g, c))
            continue;
        const char *lib = c->program->binary[VARIANT_PLAIN];
        const char *cmd_text = c->command, *setup_text = c->setup;
        if (lib == NULL) {
            check_fail(c, "the library %s was not built", c->program->name);
            continue;
        }
        char *a = str_replace_all(cmd_text, "{exercise}", ex->dir);
        char *cmd = str_replace_all(a, "{root}", ex->root);
        free(a);
        double timeout_s = (c->timeout_s > 0 ? c->timeout_s : c->program->timeout_s) * g->time_scale;
        char *rundir = new_rundir(g, "program");
        char *resdir = xasprintf("%s/results/%03d-program", g->workdir, g->run_counter);
        sandbox_mkdir(g, resdir);
        run_result_t res;
        if (setup_text != NULL) {
            char *b = str_replace_all(setup_text, "{exercise}", ex->dir);
            char *setup = str_replace_all(b, "{root}", ex->root);
            free(b);
            run_shell(g, setup, rundir, NULL, resdir, NULL, timeout_s, &res);
            if (!res.exited || res.exit_code != 0)
                die("the setup of [check %s] failed (%s): %s", c->id, setup, res.output);
            run_result_free(&res);
            free(setup);
        }
        /* the C library's malloc first: what the program should print */
        run_result_t base;
        run_shell(g, cmd, rundir, NULL, resdir, NULL, timeout_s, &base);
        if (base.timed_out || !base.started)
            die("[check %s]: `%s` does not finish without the library either (%s)", c->id, cmd,
                base.output);
        char *token = random_token();
        run_shell(g, cmd, rundir, lib, resdir, token, timeout_s, &res);
        char *records_path = xasprintf("%s/records.jsonl", resdir);
        json_t *records = load_records(token, records_path);
        char *served = served_verdict(records, &c->served_by, cmd);
        json_decref(records);
        char *diff = first_difference(base.output, res.output);
        char *end = run_describe_end(&res);
        bool same_end = res.exited == base.exited && res.exit_code == base.exit_code &&
                        res.signaled == base.signaled;
        if (res.signaled)
            grading_flag(g, "crash");
        if (!same_end || res.timed_out) {
            char *base_end = run_describe_end(&base);
            check_fail(c, "with your library preloaded, `%s` %s; with the C library's malloc it %s",
                       cmd, end, base_end);
            free(base_end);
        } else if (diff != NULL) {
            check_fail(c, "with your library preloaded, `%s` prints something else: %s", cmd, diff);
        } else if (served != NULL && strncmp(served, "ok: ", 4) != 0) {
            check_fail(c, "%s", served);
        } else {
            check_pass(c, "same output and exit status as on the C library's malloc; %s",
                       served != NULL ? served + 4 : "");
        }
        if (c->status == CHECK_FAIL && res.output != NULL && res.output[0] != '\0') {
            size_t n = strlen(res.output);
            c->details = xstrdup(n > 2000 ? res.output + n - 2000 : res.output);
        }
        free(diff);
        free(end);
        free(served);
        free(records_path);
        free(token);
        run_result_free(&res);
        run_result_free(&base);
        free(resdir);
        free(rundir);
        free(cmd);
    }
}

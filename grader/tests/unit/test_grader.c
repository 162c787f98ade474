/* test_grader.c — unit tests of the grader's parts: manifest parsing, exercise
 * lookup, the sandbox seam, the report parsers (fed recorded tool output), the
 * perf scoring and the JSON report. */
#define _GNU_SOURCE
#include "diag.h"
#include "grade.h"
#include "kit_view.h"
#include "run.h"

#include "../machine.h"
#include "../run_suite.h"

#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *kit_root;

TCase *submission_tests(void);   /* test_submission.c */
TCase *batch_report_tests(void); /* test_batch_report.c */
TCase *manifest_tests(const char *kit_root); /* test_manifest.c */
TCase *trace_tests(void);        /* test_trace.c */

/* ---- manifest ---- */

START_TEST(ini_sections_and_comments)
{
    ini_t ini;
    char *err = NULL;
    const char *text = "# a comment\n[exercise]\nid = 06   # trailing comment\n\n"
                       "[check tests/basic]\nstage = tests\ntitle = a # b is kept\n";
    ck_assert_msg(ini_parse(text, &ini, &err), "parse failed: %s", err);
    ck_assert_int_eq(ini.nsections, 2);
    ck_assert_str_eq(ini.sections[0].kind, "exercise");
    ck_assert_str_eq(ini_get(&ini.sections[0], "id"), "06");
    ck_assert_str_eq(ini.sections[1].name, "tests/basic");
    ck_assert_str_eq(ini_get(&ini.sections[1], "title"), "a");
    ck_assert_ptr_null(ini_get(&ini.sections[1], "points"));
    ini_free(&ini);
}
END_TEST

START_TEST(ini_errors_name_the_line)
{
    ini_t ini;
    char *err = NULL;
    ck_assert(!ini_parse("[exercise]\nid = 1\nno equals sign\n", &ini, &err));
    ck_assert_msg(strstr(err, "line 3") != NULL, "error was: %s", err);
    free(err);
    err = NULL;
    ck_assert(!ini_parse("[exercise\n", &ini, &err));
    ck_assert_msg(strstr(err, "line 1") != NULL, "error was: %s", err);
    free(err);
}
END_TEST

START_TEST(exercise_names)
{
    const char *good[] = {"6", "06", "ex06", "mtpool", "ex06-mtpool"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char *all = NULL, *dir = exercise_find(kit_root, good[i], &all);
        ck_assert_msg(dir != NULL && str_ends_with(dir, "exercises/ex06-mtpool"),
                      "'%s' should name exercise 06, got %s", good[i], dir ? dir : "nothing");
        free(dir);
        free(all);
    }
    const char *bad[] = {"99", "ex6x", "pool", "", "0006"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *all = NULL, *dir = exercise_find(kit_root, bad[i], &all);
        ck_assert_msg(dir == NULL, "'%s' should name no exercise, got %s", bad[i], dir);
        ck_assert_msg(strstr(all, "06 (mtpool)") != NULL, "the list should name 06: %s", all);
        free(all);
    }
}
END_TEST

START_TEST(manifest_of_ex06_loads)
{
    exercise_t ex;
    char *dir = path_join(kit_root, "exercises/ex06-mtpool");
    exercise_load(&ex, kit_root, dir);
    ck_assert_str_eq(ex.id, "06");
    ck_assert_msg(exercise_max_points(&ex) == 100, "ex06 is worth %g points, not 100",
                  exercise_max_points(&ex));
    check_t *tsan = exercise_check(&ex, "tsan/races");
    ck_assert_ptr_nonnull(tsan);
    ck_assert_msg(sv_contains(&tsan->depends, "build"), "every check but build depends on build");
    ck_assert_ptr_nonnull(exercise_check(&ex, "perf/seed"));
    free(dir);
}
END_TEST

/* A manifest whose check depends on one judged later cannot be run: the grader
 * says so and exits with status 2. */
START_TEST(manifest_rejects_later_dependency)
{
    char dir[] = "/tmp/alab-manifest-XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    char *ini = path_join(dir, "exercise.ini"), *src = path_join(dir, "t.c");
    const char *text = "[exercise]\nid = 99\nslug = x\nstudent_files = x.c\ncflags = -O2\n"
                       "[program tests]\nkind = check\nsources = t.c\n"
                       "[check build]\nstage = build\n"
                       "[check tests/a]\nstage = tests\nprogram = tests\ncases = a\n"
                       "depends = tsan/b\n"
                       "[check tsan/b]\nstage = tsan\nprogram = tests\ncases = a\n";
    ck_assert(write_file_atomic(ini, text, strlen(text)));
    ck_assert(write_file_atomic(src, "", 0));
    exercise_t ex;
    exercise_load(&ex, kit_root, dir); /* exits with status 2 */
}
END_TEST

/* ONLY=tests/lifo grades that check (and the build), skips the rest with the
 * reason, and builds nothing the others need. */
START_TEST(only_grades_the_checks_named)
{
    char out[] = "/tmp/alab-only-XXXXXX";
    ck_assert(mkdtemp(out) != NULL);
    char *json = path_join(out, "r.json");
    char *cmd = xasprintf("'%s/build/grade' check 04 --src '%s/solutions/ex04' --only tests/lifo "
                          "--json '%s' --quiet >/dev/null 2>&1",
                          kit_root, kit_root, json);
    int rc = system(cmd);
    ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "status %d", WEXITSTATUS(rc));
    json_t *r = json_load_file(json, 0, NULL), *t;
    ck_assert(r != NULL);
    size_t i, passed = 0;
    json_array_foreach(json_object_get(r, "tests"), i, t) {
        const char *id = json_string_value(json_object_get(t, "check"));
        const char *res = json_string_value(json_object_get(t, "result"));
        const char *msg = json_string_value(json_object_get(t, "output"));
        if (strcmp(id, "tests/lifo") == 0 || strcmp(id, "build") == 0) {
            ck_assert_msg(strcmp(res, "pass") == 0, "%s: %s", id, res);
            passed++;
        } else {
            ck_assert_msg(strcmp(res, "skip") == 0 && strstr(msg, "ONLY=tests/lifo") != NULL,
                          "%s was graded (%s: %s)", id, res, msg);
        }
    }
    ck_assert_int_eq(passed, 2);
    json_decref(r);
    rm_rf(out);
    free(cmd);
    free(json);
}
END_TEST

START_TEST(too_few_cpus_skips_with_reason)
{
    exercise_t ex;
    char *dir = path_join(kit_root, "exercises/ex06-mtpool");
    exercise_load(&ex, kit_root, dir);
    grading_t g = {.ex = &ex};
    for (size_t i = 0; i < ex.nchecks; i++)
        if (ex.checks[i].stage != STAGE_BONUS)
            check_pass(&ex.checks[i], "ok");
    check_t *c = exercise_check(&ex, "bonus/per-cpu");
    ck_assert_ptr_nonnull(c);
    c->min_cpus = 100000;
    ck_assert(!check_ready(&g, c));
    ck_assert_int_eq(c->status, CHECK_SKIP);
    ck_assert_msg(strstr(c->message, "needs 100000 CPUs") != NULL, "%s", c->message);
    free(dir);
}
END_TEST

/* ---- dependencies ---- */

START_TEST(failed_dependency_skips_with_reason)
{
    exercise_t ex;
    char *dir = path_join(kit_root, "exercises/ex06-mtpool");
    exercise_load(&ex, kit_root, dir);
    grading_t g = {.ex = &ex};
    check_fail(exercise_check(&ex, "build"), "does not compile");
    check_t *c = exercise_check(&ex, "tests/basic");
    ck_assert(!check_ready(&g, c));
    ck_assert_int_eq(c->status, CHECK_SKIP);
    ck_assert_msg(strstr(c->message, "build") != NULL && strstr(c->message, "failed") != NULL,
                  "the reason should name build and say it failed: %s", c->message);
    ck_assert(!grading_all_passed(&ex));
    free(dir);
}
END_TEST

/* ---- the sandbox seam ---- */

static run_result_t run_sh(const char *script, double timeout_s, size_t cap)
{
    const char *argv[] = {"sh", "-c", script, NULL};
    const char *env[] = {"PATH=/usr/bin:/bin", NULL};
    run_spec_t spec = {.argv = argv, .env = env, .cwd = "/tmp", .timeout_s = timeout_s, .output_cap = cap};
    run_result_t res;
    run_sandboxed(&spec, &res);
    return res;
}

START_TEST(run_exit_status_and_output)
{
    run_result_t r = run_sh("echo hello; echo oops >&2; exit 3", 10, 0);
    ck_assert(r.started && r.exited && !r.timed_out);
    ck_assert_int_eq(r.exit_code, 3);
    ck_assert_msg(strstr(r.output, "hello") && strstr(r.output, "oops"), "output: %s", r.output);
    run_result_free(&r);
}
END_TEST

START_TEST(run_timeout_kills_the_whole_group)
{
    double t0 = now_seconds();
    run_result_t r = run_sh("sleep 100 & sleep 100 & wait", 0.5, 0);
    ck_assert(r.timed_out);
    ck_assert_msg(now_seconds() - t0 < 5, "the timeout took %.1f s", now_seconds() - t0);
    errno = 0;
    ck_assert_msg(kill(-r.pid, 0) == -1 && errno == ESRCH,
                  "a process of the group survived the timeout");
    char *end = run_describe_end(&r);
    ck_assert_msg(strstr(end, "time limit") != NULL, "%s", end);
    free(end);
    run_result_free(&r);
}
END_TEST

START_TEST(run_leftover_children_are_killed)
{
    /* The main process exits at once; a child keeps the output pipe open. */
    double t0 = now_seconds();
    run_result_t r = run_sh("(sleep 100; echo late) & echo early", 30, 0);
    ck_assert(r.exited && r.exit_code == 0 && !r.timed_out);
    ck_assert_msg(now_seconds() - t0 < 5, "waited %.1f s for a background child", now_seconds() - t0);
    errno = 0;
    ck_assert_msg(kill(-r.pid, 0) == -1 && errno == ESRCH, "the background child survived");
    run_result_free(&r);
}
END_TEST

START_TEST(run_output_is_capped_head_and_tail)
{
    run_result_t r = run_sh("echo FIRST; head -c 5000000 /dev/zero | tr '\\0' x; echo; echo LAST", 30, 4096);
    ck_assert(r.exited && r.output_cut);
    ck_assert_msg(r.output_total > 5000000, "total %zu", r.output_total);
    ck_assert_msg(strlen(r.output) < 4096 + 100, "kept %zu bytes", strlen(r.output));
    ck_assert_msg(str_starts_with(r.output, "FIRST"), "the beginning is kept");
    ck_assert_msg(strstr(r.output, "LAST") != NULL, "the end is kept");
    ck_assert_msg(strstr(r.output, "bytes of output cut") != NULL, "the cut is marked");
    run_result_free(&r);
}
END_TEST

START_TEST(run_signals_and_bad_programs)
{
    run_result_t r = run_sh("kill -SEGV $$", 10, 0);
    ck_assert(r.signaled && r.term_signal == SIGSEGV);
    char *end = run_describe_end(&r);
    ck_assert_msg(strstr(end, "signal 11") != NULL && strstr(end, "SEGV") != NULL, "%s", end);
    free(end);
    run_result_free(&r);

    const char *argv[] = {"/nonexistent/program", NULL};
    const char *env[] = {NULL};
    run_spec_t spec = {.argv = argv, .env = env, .cwd = "/tmp", .timeout_s = 5};
    ck_assert(!run_sandboxed(&spec, &r));
    ck_assert_msg(strstr(r.output, "cannot run") != NULL, "%s", r.output);
    run_result_free(&r);
}
END_TEST

/* As root, a run with a uid runs as that user and cannot gain privileges. */
START_TEST(run_as_unprivileged_user)
{
    if (geteuid() != 0)
        return; /* only root can switch users: nothing to test */
    const char *argv[] = {"sh", "-c", "id -u; id -G; touch /etc/alab-probe 2>/dev/null && echo WROTE", NULL};
    const char *env[] = {"PATH=/usr/bin:/bin", NULL};
    run_spec_t spec = {.argv = argv, .env = env, .cwd = "/tmp", .timeout_s = 10, .uid = 65534, .gid = 65534};
    run_result_t r;
    ck_assert(run_sandboxed(&spec, &r));
    ck_assert_msg(str_starts_with(r.output, "65534\n65534\n"), "ran as: %s", r.output);
    ck_assert_msg(strstr(r.output, "WROTE") == NULL && !is_file("/etc/alab-probe"),
                  "the unprivileged run wrote into /etc");
    run_result_free(&r);
}
END_TEST

START_TEST(run_stopped_process_is_killed_at_timeout)
{
    run_result_t r = run_sh("kill -STOP $$", 0.5, 0);
    ck_assert(r.timed_out);
    run_result_free(&r);
}
END_TEST

/* ---- isolation: bubblewrap and cgroups, where this machine has them ---- */

static const char *configure_isolation(const char *const *hide)
{
    unsigned uid = geteuid() == 0 ? 65534 : 0;
    run_config_t cfg = {.uid = uid, .gid = uid, .hide = hide};
    run_configure(&cfg);
    return run_isolation();
}

static run_result_t run_isolated(const char *script, const char *const *rw, unsigned long mem_mb,
                                 unsigned pids, const char *secret)
{
    const char *argv[] = {"sh", "-c", script, NULL};
    const char *env[] = {"PATH=/usr/bin:/bin", NULL};
    unsigned uid = geteuid() == 0 ? 65534 : 0;
    run_spec_t spec = {.argv = argv, .env = env, .cwd = rw != NULL ? rw[0] : "/", .timeout_s = 20,
                       .rw_paths = rw, .mem_mb = mem_mb, .pids_max = pids, .secret = secret,
                       .uid = uid, .gid = uid};
    run_result_t res;
    run_sandboxed(&spec, &res);
    return res;
}


/* The token reaches the process on fd 3 and nowhere else. */
START_TEST(run_secret_on_fd_3_only)
{
    configure_isolation(NULL);
    run_result_t r = run_isolated("cat <&3; echo; env; cat /proc/self/cmdline", NULL, 0, 0, "s3cr3t-token");
    ck_assert_msg(r.exited && r.exit_code == 0, "%s", r.output);
    ck_assert_msg(str_starts_with(r.output, "s3cr3t-token\n"), "fd 3 gave: %s", r.output);
    ck_assert_msg(strstr(r.output + 12, "s3cr3t-token") == NULL, "the token leaked: %s", r.output);
    run_result_free(&r);
}
END_TEST

/* Where bubblewrap is installed it must work, and then a run has no network,
 * cannot write outside its directories and cannot see hidden ones. */
START_TEST(run_bubblewrap_isolates)
{
    char hidden[] = "/var/tmp/alab-hidden-XXXXXX", work[] = "/var/tmp/alab-work-XXXXXX";
    ck_assert(mkdtemp(hidden) != NULL && mkdtemp(work) != NULL);
    chmod(work, 0777);
    char *secret = path_join(hidden, "secret.txt");
    ck_assert(write_file_atomic(secret, "neighbour\n", 10));
    chmod(hidden, 0755);
    chmod(secret, 0644);
    const char *hide[] = {hidden, NULL};
    const char *how = configure_isolation(hide);
    if (!machine_has_bwrap()) {
        ck_assert_msg(strstr(how, "no bubblewrap") != NULL, "%s", how);
        KIT_SKIP("%s", BWRAP_MISSING);
    }
    ck_assert_msg(str_starts_with(how, "bubblewrap"), "bubblewrap works here but is not used: %s", how);
    const char *rw[] = {work, NULL};
    char *script = xasprintf("grep -c : /proc/net/dev; cat %s 2>&1; echo x > ok.txt && echo WROTE-OWN; "
                             "echo x > %s/kit-probe 2>/dev/null && echo WROTE-KIT; ps -e | wc -l",
                             secret, kit_root);
    run_result_t r = run_isolated(script, rw, 0, 0, NULL);
    ck_assert_msg(str_starts_with(r.output, "1\n"), "more network interfaces than lo: %s", r.output);
    ck_assert_msg(strstr(r.output, "neighbour") == NULL, "read a hidden file: %s", r.output);
    ck_assert_msg(strstr(r.output, "WROTE-OWN") != NULL, "could not write its own directory: %s", r.output);
    ck_assert_msg(strstr(r.output, "WROTE-KIT") == NULL, "wrote into the kit: %s", r.output);
    char *probe = path_join(kit_root, "kit-probe");
    ck_assert(!is_file(probe));
    run_result_free(&r);
    rm_rf(hidden);
    rm_rf(work);
    free(script);
    free(probe);
    free(secret);
}
END_TEST

/* A crash at the first instruction of a student's function is placed in that
 * function, not in the kit's caller that memcheck translated it into. */
START_TEST(memcheck_places_a_crash_at_the_first_instruction)
{
    char dir[] = "/tmp/alab-vgchase-XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    const char *stu = "#include <stddef.h>\nsize_t first_insn(size_t *p) { return *p; }\n";
    const char *kit = "#include <stdio.h>\n#include <stddef.h>\nsize_t first_insn(size_t *p);\n"
                      "int main(void) { size_t *volatile q = NULL; printf(\"%zu\", first_insn(q)); "
                      "return 0; }\n";
    char *stu_c = path_join(dir, "stu.c"), *kit_c = path_join(dir, "kit.c");
    ck_assert(write_file_atomic(stu_c, stu, strlen(stu)) && write_file_atomic(kit_c, kit, strlen(kit)));
    char *cmd = xasprintf("cd %s && gcc -O2 -g -c stu.c kit.c && gcc -o t stu.o kit.o", dir);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    strbuf_t line = {0};
    for (size_t i = 0; memcheck_args[i] != NULL; i++)
        sb_printf(&line, "%s ", memcheck_args[i]);
    sb_printf(&line, "--log-file=%s/vg.log %s/t >/dev/null 2>&1", dir, dir);
    ck_assert(system(line.s) != -1);
    char *log_path = path_join(dir, "vg.log"), *log = read_file(log_path, NULL);
    const char *at = log != NULL ? strstr(log, "at 0x") : NULL; /* the crash's top frame */
    ck_assert_msg(at != NULL && strncmp(strstr(at, ": ") + 2, "first_insn (", 12) == 0 &&
                      strstr(at, "stu.c:2)") != NULL,
                  "memcheck did not place the crash in first_insn:\n%s", log ? log : "(no log)");
    free(log);
    free(log_path);
    free(line.s);
    free(cmd);
    free(stu_c);
    free(kit_c);
    rm_rf(dir);
}
END_TEST

/* A preloaded library is loaded by the sandboxed program only, never by
 * bubblewrap (not setuid on Debian, so it honours LD_PRELOAD and would run the
 * library's code before it has unshared anything). The library notes the
 * executable of every process that loads it. */
START_TEST(run_preload_reaches_only_the_sandboxed_program)
{
    char dir[] = "/var/tmp/alab-preload-XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    chmod(dir, 0777);
    char *src = path_join(dir, "probe.c"), *lib = path_join(dir, "probe.so");
    const char *code = "#include <fcntl.h>\n#include <stdlib.h>\n#include <string.h>\n"
                       "#include <unistd.h>\n__attribute__((constructor)) static void note(void) {\n"
                       "  char exe[512] = \"\"; ssize_t n = readlink(\"/proc/self/exe\", exe, 500);\n"
                       "  const char *log = getenv(\"PROBE_LOG\"); if (n <= 0 || !log) return;\n"
                       "  exe[n] = '\\n'; int fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0666);\n"
                       "  if (fd >= 0) { write(fd, exe, (size_t)n + 1); close(fd); } }\n";
    ck_assert(write_file_atomic(src, code, strlen(code)));
    char *cc = xasprintf("gcc -shared -fPIC -o '%s' '%s'", lib, src);
    ck_assert_msg(system(cc) == 0, "%s", cc);
    chmod(lib, 0755);
    configure_isolation(NULL);
    char *log = path_join(dir, "log"), *pre = xasprintf("LD_PRELOAD=%s", lib);
    char *logenv = xasprintf("PROBE_LOG=%s", log);
    const char *argv[] = {"/bin/sh", "-c", "cat /dev/null", NULL};
    const char *env[] = {"PATH=/usr/bin:/bin", pre, logenv, NULL};
    const char *rw[] = {dir, NULL};
    unsigned uid = geteuid() == 0 ? 65534 : 0;
    run_spec_t spec = {.argv = argv, .env = env, .cwd = dir, .timeout_s = 20, .rw_paths = rw,
                       .uid = uid, .gid = uid};
    run_result_t r;
    run_sandboxed(&spec, &r);
    ck_assert_msg(r.exited && r.exit_code == 0, "%s", r.output);
    char *seen = read_file(log, NULL);
    ck_assert_msg(seen != NULL && strstr(seen, "/cat") != NULL,
                  "the sandboxed program did not load the library: %s", seen ? seen : "(no log)");
    ck_assert_msg(strstr(seen, "bwrap") == NULL, "bubblewrap loaded the preloaded library:\n%s", seen);
    free(seen);
    run_result_free(&r);
    rm_rf(dir);
    free(cc);
    free(src);
    free(lib);
    free(log);
    free(pre);
    free(logenv);
}
END_TEST

/* A kit in a directory closed to the sandbox user (a root clone in /root) is
 * read through a copy it can read; an open kit is read where it is. */
START_TEST(kit_view_copies_a_closed_kit)
{
    if (geteuid() != 0)
        KIT_SKIP("not root: student code runs as the grader's own user, who can read the kit");
    char closed[] = "/var/tmp/alab-closed-XXXXXX";
    ck_assert(mkdtemp(closed) != NULL);
    chmod(closed, 0700);
    char *kit = path_join(closed, "kit"), *ex = path_join(kit, "exercises/ex01-x");
    mkdir_p(ex);
    mkdir_p(kit); /* build/ is made by the view */
    char *file = path_join(ex, "exercise.ini");
    ck_assert(write_file_atomic(file, "[exercise]\n", 11));
    chmod(file, 0644);
    char *view = kit_view(kit, 65534, 65534);
    ck_assert_msg(strcmp(view, kit) != 0, "a kit under a 0700 directory was not copied");
    char *cmd = xasprintf("setpriv --reuid=65534 --regid=65534 --clear-groups cat "
                          "'%s/exercises/ex01-x/exercise.ini' >/dev/null 2>&1",
                          view);
    ck_assert_msg(system(cmd) == 0, "the sandbox user cannot read the copy %s", view);
    char *again = kit_view(kit, 65534, 65534);
    ck_assert_msg(strcmp(again, view) == 0, "an unchanged kit was copied again: %s, %s", view, again);
    chmod(closed, 0755);
    char *open_view = kit_view(kit, 65534, 65534);
    ck_assert_msg(strcmp(open_view, kit) == 0, "an open kit is read where it is, not at %s", open_view);
    rm_rf(view);
    rm_rf(closed);
    free(open_view);
    free(again);
    free(cmd);
    free(view);
    free(file);
    free(ex);
    free(kit);
}
END_TEST

/* As root with cgroups: memory and processes are capped, and the kill is named. */
START_TEST(run_cgroup_caps_memory_and_processes)
{
    const char *how = configure_isolation(NULL);
    if (!machine_has_cgroup()) {
        ck_assert_msg(strstr(how, "no cgroup") != NULL, "%s", how);
        KIT_SKIP("%s", CGROUP_MISSING);
    }
    ck_assert_msg(strstr(how, "no cgroup") == NULL, "cgroups work here but are not used: %s", how);
    double t0 = now_seconds();
    run_result_t r = run_isolated("awk 'BEGIN { s = \"x\"; while (1) s = s s }'", NULL, 64, 0, NULL);
    ck_assert_msg(r.signaled && r.oom_killed, "a run past its memory cap was not killed for it: %s",
                  r.output);
    char *end = run_describe_end(&r);
    ck_assert_msg(strstr(end, "memory limit of 64 MiB") != NULL, "%s", end);
    ck_assert_msg(now_seconds() - t0 < 15, "the memory cap took %.1f s", now_seconds() - t0);
    free(end);
    run_result_free(&r);
    r = run_isolated("for i in $(seq 40); do sleep 3 & done 2>&1; wait", NULL, 0, 16, NULL);
    ck_assert_msg(strstr(r.output, "fork") != NULL, "40 processes under a cap of 16: %s", r.output);
    run_result_free(&r);
    char *left = NULL;
    char *ls = xasprintf("ls -d /sys/fs/cgroup/*/alab-%d-* /sys/fs/cgroup/*/*/*/alab-%d-* "
                         "/sys/fs/cgroup/alab-%d-* 2>/dev/null", (int)getpid(), (int)getpid(), (int)getpid());
    FILE *p = popen(ls, "r");
    free(ls);
    char line[512] = "";
    if (p != NULL && fgets(line, sizeof line, p) != NULL)
        left = line;
    if (p != NULL)
        pclose(p);
    ck_assert_msg(left == NULL, "a cgroup was left behind: %s", line);
}
END_TEST

START_TEST(output_is_cleaned_to_utf8)
{
    char s[] = "ok \xc3\xa9 bad \xff\xfe end \x01\x1b[31m";
    utf8_clean(s, strlen(s));
    ck_assert_msg(strstr(s, "\xc3\xa9") != NULL, "valid UTF-8 is kept");
    ck_assert_msg(strchr(s, '\xff') == NULL && strchr(s, '\x1b') == NULL && strchr(s, '\x01') == NULL,
                  "invalid bytes and control characters are replaced: %s", s);
}
END_TEST

/* ---- report parsers, on recorded tool output ---- */

static const strvec_t *student(void)
{
    static strvec_t sv;
    if (sv.n == 0)
        sv_push(&sv, "pool.c");
    return &sv;
}

START_TEST(tsan_report_names_both_accesses)
{
    const char *report =
        "==================\n"
        "WARNING: ThreadSanitizer: data race (pid=4242)\n"
        "  Write of size 8 at 0x7b0c00000018 by thread T2:\n"
        "    #0 pool_alloc work/ex06/pool.c:42:15 (tests.tsan+0x4c1234)\n"
        "    #1 overlap_worker exercises/ex06-mtpool/tests/test_pool.c:220:23 (tests.tsan+0x4b0000)\n"
        "\n"
        "  Previous read of size 8 at 0x7b0c00000018 by thread T1:\n"
        "    #0 memcpy <null> (tests.tsan+0x400000)\n"
        "    #1 pool_free work/ex06/pool.c:57:9 (tests.tsan+0x4c2000)\n"
        "\n"
        "  Thread T2 (tid=4245, running) created by main thread at:\n"
        "    #0 pthread_create <null> (tests.tsan+0x40f000)\n"
        "\n"
        "SUMMARY: ThreadSanitizer: data race work/ex06/pool.c:42:15 in pool_alloc\n"
        "==================\n";
    diag_t d;
    ck_assert(diag_tsan(report, student(), &d));
    ck_assert_msg(strstr(d.message, "data race") && strstr(d.message, "work/ex06/pool.c:42") &&
                      strstr(d.message, "work/ex06/pool.c:57") && strstr(d.message, "pool_free"),
                  "message: %s", d.message);
    ck_assert_msg(strstr(d.message, "0x7b0c") == NULL, "addresses are noise: %s", d.message);
    ck_assert_str_eq(d.where, "work/ex06/pool.c:42");
    ck_assert_msg(strstr(d.details, "Thread T2 (tid") == NULL, "thread creation stacks are cut");
    diag_free(&d);
    ck_assert(!diag_tsan("no report here\n", student(), &d));
}
END_TEST

START_TEST(asan_and_ubsan_reports)
{
    const char *asan =
        "=================================================================\n"
        "==3==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x604000000078 at pc 0x5637 bp 0x7fff sp 0x7ffe\n"
        "WRITE of size 4 at 0x604000000078 thread T0\n"
        "    #0 0x56370845e591 in pool_check work/ex06/pool.c:61\n"
        "    #1 0x56370845e2f4 in sum_body exercises/ex06-mtpool/tests/test_pool.c:3\n"
        "    #2 0x56370846125a in srunner_run_tagged (/usr/lib/libcheck.so+0x1234)\n"
        "\n"
        "0x604000000078 is located 0 bytes to the right of 40-byte region [0x604000000050,0x604000000078)\n"
        "allocated by thread T0 here:\n"
        "    #0 0x7f in malloc (/usr/lib/libasan.so+0x1)\n"
        "SUMMARY: AddressSanitizer: heap-buffer-overflow work/ex06/pool.c:61 in pool_check\n";
    diag_t d;
    ck_assert(diag_asan(asan, student(), &d));
    ck_assert_msg(strstr(d.message, "heap-buffer-overflow: write of size 4 at work/ex06/pool.c:61 (pool_check)") &&
                      strstr(d.message, "0 bytes to the right of 40-byte region") &&
                      strstr(d.message, "[0x") == NULL,
                  "message: %s", d.message);
    ck_assert_str_eq(d.where, "work/ex06/pool.c:61");
    diag_free(&d);
    const char *ub = "test output\n"
                     "work/ex06/pool.c:77:12: runtime error: store to misaligned address 0x7ffe for type "
                     "'size_t', which requires 8 byte alignment\n"
                     "    #0 0x565 in pool_alloc work/ex06/pool.c:77\n";
    ck_assert(diag_asan(ub, student(), &d));
    ck_assert_msg(strstr(d.message, "undefined behaviour at work/ex06/pool.c:77 in pool_alloc: store to "
                                    "misaligned address") != NULL,
                  "message: %s", d.message);
    ck_assert_str_eq(d.where, "work/ex06/pool.c:77");
    diag_free(&d);
    ck_assert(!diag_asan("no report here\n", student(), &d));
}
END_TEST

START_TEST(valgrind_bad_mempool)
{
    const char *log = "==7== Bad mempool (0x4a4b000), dumping chunks for inspection:\n"
                      "==7== Mempool chunk 1 / 2: 16 bytes [0x4a4b040,0x4a4b050], allocated:\n"
                      "==7==    at 0x10A1B2: pool_alloc (pool.c:99)\n"
                      "==7==    by 0x10A2C3: main (vg_uaf.c:12)\n"
                      "==7== \n";
    diag_t d;
    ck_assert(diag_valgrind(log, student(), &d));
    ck_assert_msg(strstr(d.message, "announced with VALGRIND_MEMPOOL_ALLOC twice") != NULL &&
                      strstr(d.message, "pool.c:99 (pool_alloc)") != NULL,
                  "message: %s", d.message);
    diag_free(&d);
}
END_TEST

START_TEST(valgrind_use_after_free_and_leak)
{
    const char *uaf =
        "==77== Memcheck, a memory error detector\n"
        "==77== Command: tests 1\n"
        "==77== \n"
        "==77== Invalid write of size 1\n"
        "==77==    at 0x10923C: main (exercises/ex06-mtpool/tests/vg_uaf.c:30)\n"
        "==77==  Address 0x4a8f068 is 40 bytes inside a block of size 64 free'd\n"
        "==77==    at 0x109400: vg_free (work/ex06/pool.c:88)\n"
        "==77==    by 0x109500: pool_free (work/ex06/pool.c:120)\n"
        "==77==  Block was alloc'd at\n"
        "==77==    at 0x109600: pool_alloc (work/ex06/pool.c:99)\n"
        "==77== \n"
        "==77== ERROR SUMMARY: 1 errors from 1 contexts\n";
    diag_t d;
    ck_assert(diag_valgrind(uaf, student(), &d));
    ck_assert_msg(strstr(d.message, "Invalid write of size 1") && strstr(d.message, "free'd") &&
                      strstr(d.message, "work/ex06/pool.c:88"),
                  "message: %s", d.message);
    ck_assert_str_eq(d.where, "work/ex06/pool.c:88");
    diag_free(&d);
    ck_assert(diag_valgrind_has(uaf, "Invalid write"));
    ck_assert(!diag_valgrind_has(uaf, "Invalid read"));

    const char *leak =
        "==78== HEAP SUMMARY:\n"
        "==78==     in use at exit: 4,112 bytes in 1 blocks\n"
        "==78== \n"
        "==78== 4,112 bytes in 1 blocks are definitely lost in loss record 1 of 1\n"
        "==78==    at 0x48407B4: malloc (vg_replace_malloc.c:381)\n"
        "==78==    by 0x109A2B: pool_grow_locked (work/ex06/pool.c:131)\n"
        "==78==    by 0x109B00: pool_alloc_slow (work/ex06/pool.c:300)\n"
        "==78== \n"
        "==78== LEAK SUMMARY:\n"
        "==78==    definitely lost: 4,112 bytes in 1 blocks\n";
    ck_assert(diag_valgrind(leak, student(), &d));
    ck_assert_msg(strstr(d.message, "memory leak") && strstr(d.message, "4,112 bytes") &&
                      strstr(d.message, "work/ex06/pool.c:131") && strstr(d.message, "pool_grow_locked"),
                  "message: %s", d.message);
    diag_free(&d);
    ck_assert(!diag_valgrind("==1== ERROR SUMMARY: 0 errors from 0 contexts\n", student(), &d));
}
END_TEST

/* A fatal signal: memcheck puts a line on the cause between the header and the
 * stack; the crash is still placed at the student's line. */
START_TEST(valgrind_fatal_signal)
{
    const char *log =
        "==2== Process terminating with default action of signal 8 (SIGFPE)\n"
        "==2==  Integer divide by zero at address 0x1002DE3A20\n"
        "==2==    at 0x10D3B0: fp_init (work/ex06/pool.c:72)\n"
        "==2==    by 0x10AC44: init_body (exercises/ex04-fixedpool/tests/test_fixedpool.c:39)\n"
        "==2== \n";
    diag_t d;
    ck_assert(diag_valgrind(log, student(), &d));
    ck_assert_msg(strstr(d.message, "(SIGFPE): Integer divide by zero") &&
                      strstr(d.message, "work/ex06/pool.c:72 (fp_init)"),
                  "message: %s", d.message);
    ck_assert_str_eq(d.where, "work/ex06/pool.c:72");
    diag_free(&d);
}
END_TEST

/* An error whose top frame is a library function without a source file (the
 * kit's test wrote into memory the student's pool had made no-access): the
 * message names the first frame that has a file, never "at :0". */
START_TEST(valgrind_library_top_frame)
{
    const char *log =
        "==79== Invalid write of size 8\n"
        "==79==    at 0x484B234: memset (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
        "==79==    by 0x10C08D: guarded_arena (exercises/ex04-fixedpool/tests/fp_testlib.h:71)\n"
        "==79==  Address 0x12c800 is 0 bytes inside a block of size 8 free'd\n"
        "==79==    at 0x10D5A8: fp_free (work/ex06/pool.c:108)\n"
        "==79== \n";
    diag_t d;
    ck_assert(diag_valgrind(log, student(), &d));
    ck_assert_msg(strstr(d.message, "Invalid write of size 8 at "
                                    "exercises/ex04-fixedpool/tests/fp_testlib.h:71 (guarded_arena)") &&
                      strstr(d.message, ":0") == NULL && strstr(d.message, "work/ex06/pool.c:108"),
                  "message: %s", d.message);
    ck_assert_str_eq(d.where, "work/ex06/pool.c:108");
    diag_free(&d);
}
END_TEST

START_TEST(compiler_error_names_the_line)
{
    const char *out = "work/ex06/pool.c: In function 'pool_alloc':\n"
                      "work/ex06/pool.c:12:5: error: expected ';' before '}' token\n"
                      "   12 |     return p\n";
    diag_t d;
    ck_assert(diag_compiler(out, student(), &d));
    ck_assert_str_eq(d.where, "work/ex06/pool.c:12");
    ck_assert_msg(str_starts_with(d.message, "error: expected ';'"), "message: %s", d.message);
    diag_free(&d);
    const char *ld = "/usr/bin/ld: tests.o: in function `basic':\n"
                     "test_pool.c:(.text+0x1c): undefined reference to `pool_get_stats'\n";
    ck_assert(diag_compiler(ld, student(), &d));
    ck_assert_msg(strstr(d.message, "undefined reference to `pool_get_stats'"), "%s", d.message);
    diag_free(&d);
}
END_TEST

/* ---- scoring and the JSON report ---- */

START_TEST(perf_score_is_linear_between_bounds)
{
    ck_assert_double_eq_tol(perf_fraction(0.5, 1.0, 2.0), 0, 1e-9);
    ck_assert_double_eq_tol(perf_fraction(1.0, 1.0, 2.0), 0, 1e-9);
    ck_assert_double_eq_tol(perf_fraction(1.5, 1.0, 2.0), 0.5, 1e-9);
    ck_assert_double_eq_tol(perf_fraction(2.0, 1.0, 2.0), 1, 1e-9);
    ck_assert_double_eq_tol(perf_fraction(9.0, 1.0, 2.0), 1, 1e-9);
    double v[] = {3, 1, 2, 9, 0.5};
    ck_assert_double_eq_tol(median(v, 5), 2, 1e-9);
}
END_TEST

/* The bar comes down to reference_share of the reference's median when even
 * the reference misses full_at; the student's spread is reported. */
START_TEST(perf_score_lowers_the_bar_to_the_reference)
{
    double ratio[] = {3, 1, 1.25}, ref[] = {2, 1.8, 2.2};
    perf_score_t s = perf_score(ratio, ref, 3, 4.0, 1.0, 0.75);
    ck_assert(s.lowered);
    ck_assert_msg(s.bar == 1.5 && s.zero == 1.0 && s.m == 1.25 && s.lo == 1 && s.hi == 3,
                  "bar %g zero %g m %g lo %g hi %g", s.bar, s.zero, s.m, s.lo, s.hi);
    ck_assert_msg(s.frac == 0.5, "half way from 1.0 to 1.5: %g", s.frac);
    double again[] = {3, 3, 3}, fast_ref[] = {5, 5, 5};
    s = perf_score(again, fast_ref, 3, 2.0, 1.0, 0.75);
    ck_assert(!s.lowered && s.bar == 2.0 && s.frac == 1);
    ck_assert(measure_fraction(0.5, 1.0, 0.0) == 0.5); /* less is better */
}
END_TEST

START_TEST(json_report_has_gradescope_fields)
{
    exercise_t ex;
    char *dir = path_join(kit_root, "exercises/ex06-mtpool");
    exercise_load(&ex, kit_root, dir);
    grading_t g = {.ex = &ex, .src_display = "work/ex06", .seed = 7};
    for (size_t i = 0; i < ex.nchecks; i++) {
        if (ex.checks[i].bonus)
            check_fail(&ex.checks[i], "not earned"); /* extra credit: counts neither way */
        else
            check_pass(&ex.checks[i], "ok");
    }
    check_t *c = exercise_check(&ex, "tests/growth");
    check_fail(c, "pool_alloc returned NULL");
    c->where = xstrdup("work/ex06/pool.c:9");
    char *text = report_json(&g, 1.5);
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    ck_assert_msg(root != NULL, "not JSON: %s", err.text);
    ck_assert_double_eq_tol(json_number_value(json_object_get(root, "score")), 100 - c->points, 1e-9);
    ck_assert_double_eq_tol(json_number_value(json_object_get(root, "max_score")), 100, 1e-9);
    ck_assert(json_is_number(json_object_get(root, "execution_time")));
    json_t *tests = json_object_get(root, "tests");
    ck_assert_int_eq(json_array_size(tests), ex.nchecks);
    size_t i;
    json_t *t;
    bool seen = false;
    json_array_foreach(tests, i, t) {
        ck_assert(json_is_string(json_object_get(t, "name")));
        ck_assert(json_is_number(json_object_get(t, "score")));
        ck_assert(json_is_number(json_object_get(t, "max_score")));
        ck_assert(json_is_boolean(json_object_get(t, "bonus")));
        if (json_is_true(json_object_get(t, "bonus")))
            ck_assert_msg(json_number_value(json_object_get(t, "max_score")) == 0,
                          "extra credit has max_score 0 in Gradescope's schema");
        const char *st = json_string_value(json_object_get(t, "status"));
        ck_assert(strcmp(st, "passed") == 0 || strcmp(st, "failed") == 0);
        const char *vis = json_string_value(json_object_get(t, "visibility"));
        ck_assert(strcmp(vis, "visible") == 0 || strcmp(vis, "hidden") == 0 ||
                  strcmp(vis, "after_due_date") == 0 || strcmp(vis, "after_published") == 0);
        if (strcmp(json_string_value(json_object_get(t, "check")), "tests/growth") == 0) {
            seen = true;
            ck_assert_str_eq(st, "failed");
            const char *out = json_string_value(json_object_get(t, "output"));
            ck_assert_msg(strstr(out, "work/ex06/pool.c:9") && strstr(out, "docs/concepts/"),
                          "the output names the line and the doc: %s", out);
        }
    }
    ck_assert(seen);
    json_decref(root);
    free(text);
    free(dir);
}
END_TEST

/* JUnit and TAP say the same as the JSON: one entry per check, failures counted. */
START_TEST(ci_reports_junit_and_tap)
{
    exercise_t ex;
    char *dir = path_join(kit_root, "exercises/ex06-mtpool");
    exercise_load(&ex, kit_root, dir);
    grading_t g = {.ex = &ex, .src_display = "work/ex06", .seed = 3};
    for (size_t i = 0; i < ex.nchecks; i++)
        check_pass(&ex.checks[i], "ok");
    check_fail(exercise_check(&ex, "tests/growth"), "pool_alloc returned NULL & <more>");
    check_skip(exercise_check(&ex, "perf/seed"), "not run: it needs tests/growth to pass first");
    check_fail(exercise_check(&ex, "bonus/per-cpu"), "not earned");
    char *x = report_junit(&g, 2.0);
    ck_assert_msg(strstr(x, "failures=\"1\"") && strstr(x, "skipped=\"2\""), "counts: %s", x);
    ck_assert_msg(strstr(x, "&amp; &lt;more&gt;") != NULL, "XML escaping");
    size_t cases = 0;
    for (const char *p = x; (p = strstr(p, "<testcase ")) != NULL; p++)
        cases++;
    ck_assert_int_eq(cases, ex.nchecks);
    free(x);
    char *t = report_tap(&g);
    char plan[32];
    snprintf(plan, sizeof plan, "1..%zu\n", ex.nchecks);
    ck_assert_msg(strstr(t, plan) != NULL, "plan line: %s", t);
    size_t not_ok = 0;
    for (const char *p = t; (p = strstr(p, "not ok ")) != NULL; p++)
        not_ok++;
    ck_assert_msg(not_ok == 1, "one check failed, %zu 'not ok' lines:\n%s", not_ok, t);
    ck_assert_msg(strstr(t, "perf/seed") && strstr(t, "# SKIP"), "skips are directives");
    free(t);
    free(dir);
}
END_TEST

int main(int argc, char **argv)
{
    (void)argc;
    char *exe = path_abs(argv[0]);
    char *bindir = path_dirname(exe);
    kit_root = path_dirname(bindir);
    Suite *s = suite_create("grader");
    struct {
        const char *name;
        const TTest *test;
    } tests[] = {
        {"ini", ini_sections_and_comments},
        {"ini", ini_errors_name_the_line},
        {"exercises", exercise_names},
        {"exercises", manifest_of_ex06_loads},
        {"checks", failed_dependency_skips_with_reason},
        {"checks", too_few_cpus_skips_with_reason},
        {"run", run_exit_status_and_output},
        {"run", run_timeout_kills_the_whole_group},
        {"run", run_leftover_children_are_killed},
        {"run", run_output_is_capped_head_and_tail},
        {"run", run_signals_and_bad_programs},
        {"run", run_stopped_process_is_killed_at_timeout},
        {"run", run_as_unprivileged_user},
        {"run", output_is_cleaned_to_utf8},
        {"isolation", run_secret_on_fd_3_only},
        {"isolation", run_bubblewrap_isolates},
        {"isolation", run_preload_reaches_only_the_sandboxed_program},
        {"isolation", kit_view_copies_a_closed_kit},
        {"front-door", only_grades_the_checks_named},
        {"isolation", run_cgroup_caps_memory_and_processes},
        {"diag", tsan_report_names_both_accesses},
        {"diag", asan_and_ubsan_reports},
        {"diag", valgrind_bad_mempool},
        {"diag", valgrind_use_after_free_and_leak},
        {"diag", valgrind_library_top_frame},
        {"diag", valgrind_fatal_signal},
        {"diag", memcheck_places_a_crash_at_the_first_instruction},
        {"diag", compiler_error_names_the_line},
        {"report", perf_score_is_linear_between_bounds},
        {"report", perf_score_lowers_the_bar_to_the_reference},
        {"report", json_report_has_gradescope_fields},
        {"report", ci_reports_junit_and_tap},
    };
    TCase *tc = NULL;
    const char *cur = "";
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {
        if (strcmp(cur, tests[i].name) != 0) {
            tc = tcase_create(tests[i].name);
            tcase_set_timeout(tc, 30);
            suite_add_tcase(s, tc);
            cur = tests[i].name;
        }
        tcase_add_test(tc, tests[i].test);
    }
    suite_add_tcase(s, submission_tests());
    suite_add_tcase(s, batch_report_tests());
    suite_add_tcase(s, manifest_tests(kit_root));
    suite_add_tcase(s, trace_tests());
    TCase *exits = tcase_create("manifest-errors");
    tcase_add_exit_test(exits, manifest_rejects_later_dependency, 2);
    suite_add_tcase(s, exits);
    return run_suite(s);
}

/* test_hostile.c — the grader against submissions that attack it.
 *
 * grader/tests/hostile/NAME.patch are submissions of exercise 06 that each do
 * one bad thing (loop, fork bomb, flood, forge results, write into the kit, read
 * a neighbour, connect out, ...): a diff against the skeleton or the reference
 * (base:), with a header that states the honest score and what the report must
 * say. They are graded in one batch, two at a time, beside honest
 * neighbours and archives; the batch is killed with SIGKILL part-way and run
 * again. Then each test below checks one promise:
 *   - every hostile submission gets its honest score, flags and verdict;
 *   - the neighbours get the grades they get alone;
 *   - the kit's files are unchanged; no process of a submission is left;
 *   - nothing connected to the listener on 127.0.0.1:47306;
 *   - archives with escaping paths wrote nothing outside;
 *   - the interrupted batch lost and repeated no submission, within a time bound.
 * The batch runs once, in an unchecked fixture; its facts are kept in globals
 * that the forked tests read.
 */
#define _GNU_SOURCE
#include "grade.h"

#include "../machine.h"
#include "../run_suite.h"
#include "kit_tests.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LISTEN_PORT 47306
#define TIME_SCALE "0.3"
/* The whole batch, both runs: far above what it takes (about 4 minutes on 2
 * cores), far below a hang. */
#define BATCH_LIMIT_S 900
#define KILL_AFTER_COMMITTED 5

typedef struct {
    char *name, *file, *base; /* base: "skeleton" or "reference" */
    double score;     /* expect-score: a number, or "reference" (what the reference gets alone) */
    bool as_reference;
    strvec_t verdicts, flags;
    strvec_t needs; /* needs: bubblewrap | cgroup — the protection its verdict rests on */
    char *exercise; /* exercise: NN (the preload attacks; the others are of 06) */
} hostile_t;

static const char *kit;   /* the kit's root */
static bool fast_mode;
static hostile_t corpus[64];
static int ncorpus;
static char *subs, *out;  /* the batch's folders, inside the kit's build/ */
static char *setup_error; /* why the batch could not be run, or NULL */
static char *kit_sum_before, *kit_sum_after;
static int connections = -1;
static double first_run_s, second_run_s;
static int committed_at_kill;
static double reference_total, skeleton_total;

/* ---- the corpus ---- */

static void read_expectations(hostile_t *h, const char *text)
{
    const char *end = strstr(text, "\n---");
    char *head = xstrndup(text, end != NULL ? (size_t)(end - text) : strlen(text));
    char *save = NULL;
    for (char *l = strtok_r(head, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        char key[32];
        int off = 0;
        if (sscanf(l, "# %31[a-z-]:%n", key, &off) != 1 || off == 0)
            continue;
        char *copy = xstrdup(l + off), *value = str_trim(copy);
        if (strcmp(key, "expect-score") == 0 && strcmp(value, "reference") == 0)
            h->as_reference = true, h->score = 0;
        else if (strcmp(key, "expect-score") == 0)
            h->score = atof(value);
        else if (strcmp(key, "expect-verdict") == 0)
            sv_push(&h->verdicts, value);
        else if (strcmp(key, "expect-flag") == 0)
            sv_push(&h->flags, value);
        else if (strcmp(key, "base") == 0)
            h->base = xstrdup(value);
        else if (strcmp(key, "exercise") == 0)
            h->exercise = xstrdup(value);
        else if (strcmp(key, "needs") == 0)
            sv_push_words(&h->needs, value);
        free(copy);
    }
    free(head);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* The NAME.patch files of dir (below grader/tests/), with their headers read. */
static int discover(const char *dir_name, hostile_t *into, int max)
{
    char *dir = xasprintf("%s/grader/tests/%s", kit, dir_name);
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name), found = 0;
    for (int i = 0; i < n; i++) {
        const char *f = list[i]->d_name;
        if (str_ends_with(f, ".patch") && found < max) {
            hostile_t *h = &into[found++];
            h->name = xstrndup(f, strlen(f) - 6);
            h->file = path_join(dir, f);
            h->score = -1;
            char *text = read_file(h->file, NULL);
            if (text != NULL)
                read_expectations(h, text);
            free(text);
        }
        free(list[i]);
    }
    if (n >= 0)
        free(list);
    free(dir);
    return found;
}

/* ---- the batch, run once ---- */


/* A checksum of every file of the kit a submission could want to change. */
static char *kit_checksum(void)
{
    char *cmd = xasprintf("cd '%s' && { find exercises grader solutions skeletons scripts docs "
                          "Makefile -type f -print0; printf 'build/grade\\0'; } | sort -z | "
                          "xargs -0 sha256sum | sha256sum",
                          kit);
    char *s = kit_command_output(cmd);
    free(cmd);
    return s;
}

static void put(const char *dir, const char *name, const char *from)
{
    char *d = path_join(subs, dir);
    mkdir_p(d);
    char *to = path_join(d, name);
    if (!copy_file(from, to))
        setup_error = xasprintf("cannot copy %s", from);
    free(d);
    free(to);
}

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void make_submissions(void)
{
    char *ref = xasprintf("%s/solutions/ex06/pool.c", kit), *skel = xasprintf("%s/skeletons/ex06/pool.c", kit);
    for (int i = 0; i < ncorpus && setup_error == NULL; i++) {
        const hostile_t *h = &corpus[i];
        bool on_ref = h->base != NULL && strcmp(h->base, "reference") == 0;
        put(h->name, "pool.c", on_ref ? ref : skel);
        char *cmd = xasprintf("patch --quiet -p1 -d '%s/%s' < '%s'", subs, h->name, h->file);
        if (sh(cmd) != 0)
            setup_error = xasprintf("%s does not apply to the %s (regenerate it)", h->file,
                                    on_ref ? "reference" : "skeleton");
        free(cmd);
    }
    /* An honest neighbour holding a secret that neighbour-reader looks for. */
    put("neighbour-reference", "pool.c", ref);
    char *secret = xasprintf("%s/neighbour-reference/pool.c", subs);
    FILE *f = fopen(secret, "a");
    if (f != NULL) {
        fprintf(f, "/* ALAB_NEIGHBOUR_%s 5f2c */\n", "SECRET");
        fclose(f);
    }
    free(secret);
    put("neighbour-skeleton", "pool.c", skel);
    /* A zipped folder, as students hand in; and a tar whose entries try to escape. */
    char *cmd = xasprintf(
        "set -e; t=$(mktemp -d); mkdir -p $t/ex06; cp '%s' $t/ex06/pool.c; "
        "(cd $t && zip -qr '%s/archive-skeleton.zip' ex06); "
        "mkdir -p $t/evil; printf 'x' > $t/evil/escape.txt; ln -s /etc/passwd $t/evil/pool.c; "
        "tar -C $t/evil -czf '%s/evil-archive.tar.gz' --transform 's,^escape.txt,../../hostile-escape.txt,' "
        "--absolute-names pool.c escape.txt; rm -rf $t",
        skel, subs, subs);
    if (sh(cmd) != 0)
        setup_error = xstrdup("cannot make the archives (zip, tar)");
    free(cmd);
    free(ref);
    free(skel);
}

static int count_committed(void)
{
    char *d = path_join(out, "submissions");
    DIR *dir = opendir(d);
    int n = 0;
    for (struct dirent *e; dir != NULL && (e = readdir(dir)) != NULL;) {
        char *j = xasprintf("%s/%s/results.json", d, e->d_name);
        n += e->d_name[0] != '.' && is_file(j);
        free(j);
    }
    if (dir != NULL)
        closedir(dir);
    free(d);
    return n;
}

/* Runs the batch; with kill_after > 0, SIGKILLs it once that many submissions
 * are committed. Returns its wall time, or < 0 with setup_error set. */
static double run_batch(int kill_after)
{
    double t0 = now_seconds();
    pid_t pid = fork();
    if (pid == 0) {
        char *log = path_join(kit, "build/hostile/batch-output.txt");
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        char *grade = path_join(kit, "build/grade");
        char *s = xasprintf("--submissions=%s", subs), *o = xasprintf("--out=%s", out);
        execl(grade, grade, "batch", "06", s, o, "--jobs=2", "--timeout-scale=" TIME_SCALE,
              fast_mode ? "--skip=perf" : "--seed=1", (char *)NULL);
        _exit(127);
    }
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (kill_after > 0 && count_committed() >= kill_after) {
            committed_at_kill = count_committed();
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        if (now_seconds() - t0 > BATCH_LIMIT_S) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            setup_error = xasprintf("the batch did not finish in %d s", BATCH_LIMIT_S);
            return -1;
        }
        usleep(200 * 1000);
    }
    return now_seconds() - t0;
}

/* The total score the reference or the skeleton gets alone in this mode (make
 * test-fast skips perf): from the kit's own grading of it when the "grading"
 * tests ran first, else graded here. */
static double grade_alone_total(const char *name, const char *src)
{
    char *kit_json = xasprintf("%s/build/kit-runs/ex06/%s/out/submissions/%s/results.json", kit,
                               fast_mode ? "noperf" : "perf", name);
    json_t *r = json_load_file(kit_json, 0, NULL);
    free(kit_json);
    json_t *extra = json_object_get(r, "extra_data");
    bool perf_ran = json_object_get(json_object_get(extra, "stage_seconds"), "perf") != NULL;
    bool same_mode = r != NULL && perf_ran == !fast_mode;
    if (!same_mode) {
        json_decref(r);
        char *json = xasprintf("%s/build/hostile/alone-%s.json", kit, name);
        char *cmd = xasprintf("'%s/build/grade' check 06 --src '%s' --json '%s' --quiet "
                              "--timeout-scale=" TIME_SCALE " %s >/dev/null 2>&1",
                              kit, src, json, fast_mode ? "--skip=perf" : "");
        sh(cmd);
        r = json_load_file(json, 0, NULL);
        free(cmd);
        free(json);
    }
    double total = r != NULL ? json_number_value(json_object_get(r, "score")) : -1;
    json_decref(r);
    return total;
}

static void batch_setup(void)
{
    char *base = path_join(kit, "build/hostile");
    rm_rf(base);
    subs = path_join(base, "submissions");
    out = path_join(base, "out");
    mkdir_p(subs);
    make_submissions();
    if (setup_error != NULL)
        return;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(LISTEN_PORT)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool listening = lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 16) == 0;

    kit_sum_before = kit_checksum();
    first_run_s = run_batch(KILL_AFTER_COMMITTED);
    if (first_run_s >= 0)
        second_run_s = run_batch(0);
    kit_sum_after = kit_checksum();
    if (listening) {
        connections = 0;
        while (accept(lfd, NULL, NULL) >= 0)
            connections++;
    }
    if (lfd >= 0)
        close(lfd);
    char *ref = xasprintf("%s/solutions/ex06", kit), *skel = xasprintf("%s/skeletons/ex06", kit);
    reference_total = grade_alone_total("reference", ref);
    skeleton_total = grade_alone_total("skeleton", skel);
    free(ref);
    free(skel);
    free(base);
}

/* ---- reading the batch's output ---- */

static json_t *results_of(const char *id)
{
    char *p = xasprintf("%s/submissions/%s/results.json", out, id);
    json_t *r = json_load_file(p, 0, NULL);
    free(p);
    return r;
}

/* The submission's report with its lines unwrapped: every run of blanks and
 * line ends becomes one space, so a phrase the report wrapped still matches. */
static char *report_of(const char *id)
{
    char *p = xasprintf("%s/submissions/%s/report.txt", out, id);
    char *t = read_file(p, NULL);
    free(p);
    if (t == NULL)
        return xstrdup("");
    char *w = t;
    for (const char *r = t; *r != '\0'; r++) {
        bool blank = *r == ' ' || *r == '\n' || *r == '\t';
        if (!blank || (w > t && w[-1] != ' '))
            *w++ = blank ? ' ' : *r;
    }
    *w = '\0';
    return t;
}

static bool has_flag(json_t *r, const char *flag)
{
    json_t *flags = json_object_get(json_object_get(r, "extra_data"), "flags");
    size_t i;
    json_t *v;
    json_array_foreach(flags, i, v) if (strcmp(json_string_value(v), flag) == 0) return true;
    return false;
}

#define REQUIRE_BATCH() ck_assert_msg(setup_error == NULL, "the batch could not run: %s", setup_error)

START_TEST(hostile_verdict)
{
    REQUIRE_BATCH();
    ck_assert_msg(ncorpus > 0, "no hostile submissions in grader/tests/hostile");
    const hostile_t *h = &corpus[_i];
    ck_assert_msg(h->score >= 0, "%s: the header has no expect-score line", h->name);
    /* Where the machine cannot give the protection this attack meets, the
     * attack may work: its verdict is not tested, and the skip says why. */
    if (sv_contains(&h->needs, "bubblewrap") && !machine_has_bwrap())
        KIT_SKIP("%s", BWRAP_MISSING);
    if (sv_contains(&h->needs, "cgroup") && !machine_has_cgroup())
        KIT_SKIP("%s", CGROUP_MISSING);
    json_t *r = results_of(h->name);
    ck_assert_msg(r != NULL, "%s: no results.json in the batch's output", h->name);
    double score = json_number_value(json_object_get(r, "score"));
    double honest = h->as_reference ? reference_total : h->score;
    char *full = report_of(h->name), *report = xstrdup(full); /* report: for messages */
    if (strlen(report) > 1500) /* Check's messages have a size limit */
        strcpy(report + 1400, " [...]");
    ck_assert_msg(score == honest, "%s: scored %g, an honest grader gives %g; report:\n%s", h->name,
                  score, honest, report);
    for (size_t i = 0; i < h->verdicts.n; i++)
        ck_assert_msg(strstr(full, h->verdicts.v[i]) != NULL,
                      "%s: the report does not say \"%s\":\n%s", h->name, h->verdicts.v[i], report);
    for (size_t i = 0; i < h->flags.n; i++)
        ck_assert_msg(has_flag(r, h->flags.v[i]), "%s: the gradebook lacks the flag %s", h->name,
                      h->flags.v[i]);
    /* An attack that worked would show as its own exit status. */
    ck_assert_msg(strstr(full, "exit status 42") == NULL && strstr(full, "exit status 43") == NULL &&
                      strstr(full, "exit status 44") == NULL,
                  "%s: an attack reported success:\n%s", h->name, report);
    free(report);
    free(full);
    json_decref(r);
}
END_TEST

START_TEST(hostile_neighbours)
{
    REQUIRE_BATCH();
    ck_assert_msg(reference_total > 0 && skeleton_total >= 0, "the reference or skeleton alone "
                  "could not be graded");
    json_t *r = results_of("neighbour-reference"), *s = results_of("neighbour-skeleton"),
           *z = results_of("archive-skeleton");
    ck_assert_msg(r != NULL && s != NULL && z != NULL, "a neighbour has no results.json");
    double rt = json_number_value(json_object_get(r, "score"));
    ck_assert_msg(rt == reference_total, "the reference beside hostile neighbours got %g, alone %g",
                  rt, reference_total);
    double st = json_number_value(json_object_get(s, "score"));
    ck_assert_msg(st == skeleton_total, "the skeleton beside hostile neighbours got %g, alone %g", st,
                  skeleton_total);
    double zt = json_number_value(json_object_get(z, "score"));
    ck_assert_msg(zt == skeleton_total, "the zipped skeleton got %g, the skeleton %g", zt, skeleton_total);
    json_decref(r);
    json_decref(s);
    json_decref(z);
}
END_TEST

START_TEST(hostile_kit_unchanged)
{
    REQUIRE_BATCH();
    ck_assert_msg(strlen(kit_sum_before) > 0 && strcmp(kit_sum_before, kit_sum_after) == 0,
                  "the kit's files changed during the batch (checksum %s -> %s)", kit_sum_before,
                  kit_sum_after);
}
END_TEST

START_TEST(hostile_nothing_left)
{
    REQUIRE_BATCH();
    /* No process of a submission: none named by the daemon, none of the batch's
     * sandbox users, no grader of the killed batch. A process that has exited
     * and waits for init to collect it (state Z, parent 1) is not left: it runs
     * nothing and holds nothing. Init collects at its own pace, so a few seconds
     * are allowed for the others to go. */
    char *left = NULL;
    for (int tries = 0; tries < 20; tries++) {
        free(left);
        left = kit_command_output("ps -eo uid=,ppid=,stat=,comm=,args= | awk '!($2 == 1 && $3 ~ /^Z/) && "
                              "($4 == \"alab-daemon\" || ($1 >= 61000 && $1 < 61064) || "
                              "$0 ~ /grade check 06 .*build\\/hostile/)'");
        if (left[0] == '\0')
            break;
        usleep(500 * 1000);
    }
    ck_assert_msg(left[0] == '\0', "processes left after the batch (uid, parent, state, name):\n%s",
                  left);
    free(left);
    char *cg = kit_command_output("ls -d /sys/fs/cgroup/*/alab-* /sys/fs/cgroup/*/*/*/alab-* "
                              "/sys/fs/cgroup/alab-* 2>/dev/null");
    ck_assert_msg(cg[0] == '\0', "cgroups left after the batch:\n%s", cg);
    free(cg);
    char *tmp = xasprintf("%s/.work", out);
    ck_assert_msg(!is_dir(tmp), "the batch left its intake directory %s", tmp);
    free(tmp);
}
END_TEST

/* Where the machine can give bubblewrap and cgroups, the batch used them. */
START_TEST(hostile_full_isolation)
{
    REQUIRE_BATCH();
    json_t *r = results_of("neighbour-reference");
    ck_assert_msg(r != NULL, "neighbour-reference has no results.json");
    const char *how = json_string_value(
        json_object_get(json_object_get(r, "extra_data"), "isolation"));
    ck_assert_msg(how != NULL, "results.json does not say how runs were isolated");
    bool bw = machine_has_bwrap(), cg = machine_has_cgroup();
    ck_assert_msg(!bw || str_starts_with(how, "bubblewrap"),
                  "bubblewrap works here, but the batch ran with: %s", how);
    ck_assert_msg(!cg || strstr(how, "no cgroup") == NULL,
                  "cgroups work here, but the batch ran with: %s", how);
    json_decref(r);
    if (!bw)
        KIT_SKIP("%s", BWRAP_MISSING);
    if (!cg)
        KIT_SKIP("%s", CGROUP_MISSING);
}
END_TEST

START_TEST(hostile_no_network)
{
    REQUIRE_BATCH();
    if (!machine_has_bwrap())
        KIT_SKIP("%s", BWRAP_MISSING);
    ck_assert_msg(connections >= 0, "could not listen on 127.0.0.1:%d to watch for connections",
                  LISTEN_PORT);
    ck_assert_msg(connections == 0, "%d connection(s) reached 127.0.0.1:%d from student code",
                  connections, LISTEN_PORT);
}
END_TEST

START_TEST(hostile_archive_contained)
{
    REQUIRE_BATCH();
    char *escaped = xasprintf("%s/build/hostile-escape.txt", kit);
    char *escaped2 = xasprintf("%s/build/hostile/hostile-escape.txt", kit);
    ck_assert_msg(!is_file(escaped) && !is_file(escaped2), "an archive entry escaped its directory");
    json_t *r = results_of("evil-archive");
    ck_assert_msg(r != NULL, "evil-archive has no results.json");
    ck_assert_msg(json_number_value(json_object_get(r, "score")) == 0 && has_flag(r, "missing-file"),
                  "evil-archive (its pool.c is a link to /etc/passwd) must score 0 with missing-file");
    char *report = report_of("evil-archive");
    ck_assert_msg(strstr(report, "root:") == NULL, "the report shows /etc/passwd");
    free(report);
    json_decref(r);
    free(escaped);
    free(escaped2);
}
END_TEST

START_TEST(hostile_resume_lossless)
{
    REQUIRE_BATCH();
    ck_assert_msg(committed_at_kill >= KILL_AFTER_COMMITTED, "the batch was not killed part-way");
    int expected = ncorpus + 4; /* 2 neighbours, 2 archives */
    ck_assert_int_eq(count_committed(), expected);
    /* gradebook: a header and one row per submission, each id once */
    char *csv_path = path_join(out, "gradebook.csv");
    char *csv = read_file(csv_path, NULL);
    ck_assert_msg(csv != NULL, "no gradebook.csv");
    int rows = 0;
    for (char *p = csv; (p = strstr(p, "\r\n")) != NULL; p += 2)
        rows++;
    ck_assert_int_eq(rows, expected + 1);
    ck_assert_msg(strstr(csv, "not-graded") == NULL && strstr(csv, ",error") == NULL,
                  "a submission was not graded:\n%s", csv);
    /* every id committed once: the log has one "id: score/max" line per id */
    char *log = path_join(out, "batch.log");
    char *text = read_file(log, NULL);
    ck_assert_msg(text != NULL, "no batch.log");
    for (int i = 0; i < ncorpus; i++) {
        char *needle = xasprintf(" %s: ", corpus[i].name);
        int n = 0;
        for (char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) {
            const char *after = p + strlen(needle);
            n += after[0] >= '0' && after[0] <= '9';
        }
        ck_assert_msg(n == 1, "%s was committed %d times", corpus[i].name, n);
        free(needle);
    }
    ck_assert_msg(first_run_s + second_run_s < BATCH_LIMIT_S, "the batch took %.0f s",
                  first_run_s + second_run_s);
    free(text);
    free(log);
    free(csv);
    free(csv_path);
}
END_TEST

/* ---- attacks from a preloaded library (grader/tests/hostile/preload/) ----
 * Each is graded alone: the library tries the host's /tmp and loopback from
 * its first call in every process. No process the grader starts outside the
 * sandbox may load it (bubblewrap itself once did), and inside, /tmp and the
 * network are private: the host sees neither the file nor a connection. */

#define PRELOAD_PORT 47307
#define ESCAPE_FILE "/tmp/alab-preload-escape"

static hostile_t preload_corpus[16];
static int npreload;


START_TEST(hostile_preload_escape)
{
    ck_assert_msg(npreload > 0, "no attacks in grader/tests/hostile/preload");
    const hostile_t *h = &preload_corpus[_i];
    ck_assert_msg(h->exercise != NULL, "%s: the header has no exercise: line", h->name);
    if (!machine_has_bwrap())
        KIT_SKIP("%s", BWRAP_MISSING);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PRELOAD_PORT)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ck_assert_msg(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 16) == 0,
                  "cannot listen on 127.0.0.1:%d", PRELOAD_PORT);
    unlink(ESCAPE_FILE);
    char *dir = xasprintf("%s/build/hostile-preload/%s", kit, h->name);
    rm_rf(dir);
    mkdir_p(dir);
    char *cmd = xasprintf("cp '%s/solutions/ex%s'/*.c '%s' && patch --quiet -p1 -d '%s' < '%s' && "
                          "'%s/build/grade' check %s --src '%s' --json '%s/results.json' --skip tsan "
                          "--quiet > '%s/report.txt' 2>&1",
                          kit, h->exercise, dir, dir, h->file, kit, h->exercise, dir, dir, dir);
    int rc = system(cmd);
    int connections = 0;
    while (accept(lfd, NULL, NULL) >= 0)
        connections++;
    close(lfd);
    char *report = xasprintf("%s/report.txt", dir);
    char *text = read_file(report, NULL);
    ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) <= 1, "%s: the grader failed (status %d):\n%s",
                  h->name, WEXITSTATUS(rc), text != NULL ? text : "");
    /* the library still works: its real programs run on it as on the reference */
    char *json = xasprintf("%s/results.json", dir);
    json_t *r = json_load_file(json, 0, NULL), *t;
    size_t i, programs = 0;
    json_array_foreach(json_object_get(r, "tests"), i, t) {
        if (strcmp(json_string_value(json_object_get(t, "stage")), "programs") != 0)
            continue;
        programs++;
        ck_assert_msg(strcmp(json_string_value(json_object_get(t, "result")), "pass") == 0,
                      "%s: %s did not pass:\n%s", h->name,
                      json_string_value(json_object_get(t, "check")), text);
    }
    ck_assert_msg(programs > 0, "%s: no real program ran on the library:\n%s", h->name, text);
    json_decref(r);
    free(json);
    char *escaped = read_file(ESCAPE_FILE, NULL);
    ck_assert_msg(escaped == NULL, "%s: student code wrote the host's " ESCAPE_FILE " from:\n%s",
                  h->name, escaped);
    ck_assert_msg(connections == 0, "%s: %d connection(s) reached 127.0.0.1:%d from student code",
                  h->name, connections, PRELOAD_PORT);
    free(text);
    free(report);
    free(cmd);
    free(dir);
}
END_TEST

TCase *hostile_tests(const char *root, bool fast)
{
    kit = root;
    fast_mode = fast;
    ncorpus = discover("hostile", corpus, 64);
    npreload = discover("hostile/preload", preload_corpus, 16);
    TCase *tc = tcase_create("hostile");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, batch_setup, NULL);
    tcase_add_loop_test(tc, hostile_verdict, 0, ncorpus > 0 ? ncorpus : 1);
    tcase_add_test(tc, hostile_neighbours);
    tcase_add_test(tc, hostile_kit_unchanged);
    tcase_add_test(tc, hostile_nothing_left);
    tcase_add_test(tc, hostile_full_isolation);
    tcase_add_test(tc, hostile_no_network);
    tcase_add_test(tc, hostile_archive_contained);
    tcase_add_test(tc, hostile_resume_lossless);
    tcase_add_loop_test(tc, hostile_preload_escape, 0, npreload > 0 ? npreload : 1);
    return tc;
}

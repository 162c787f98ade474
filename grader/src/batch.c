/* batch.c — grades a folder of submissions in parallel, resumably. See batch.h. */
#define _GNU_SOURCE
#include "batch.h"
#include "batch_report.h"
#include "submission.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A grading that takes longer than this (times the timeout scale) is stopped
 * and retried: the grader bounds every run, so only a grader bug gets here. */
#define GRADING_LIMIT_S 3600
#define ATTEMPTS 2
/* Sandbox users of parallel gradings: base + worker slot, so that workers never
 * share a user's process budget or files. */
#define DEFAULT_UID_BASE 61000

typedef struct {
    char *id, *path;
} submission_t;

typedef struct {
    pid_t pid;        /* 0: free */
    size_t sub;       /* index into the submission list */
    int attempt;
    double started;
} worker_t;

typedef struct {
    const char *root;
    exercise_t *ex;
    const batch_opts_t *o;
    char *out, *subs_dir, *self;
    submission_t *subs;
    size_t nsubs;
    strvec_t ids;
    int log_fd;
    bool tty;
    size_t done_before, done_now, errors;
    double started, busy_seconds;
} batch_t;

char *batch_submission_id(const char *name)
{
    static const char *const suffixes[] = {".tar.gz", ".tgz", ".tar", ".zip", NULL};
    size_t n = strlen(name);
    for (size_t i = 0; suffixes[i] != NULL; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && strcasecmp(name + n - k, suffixes[i]) == 0) {
            n -= k;
            break;
        }
    }
    char *id = xstrndup(name, n);
    for (char *p = id; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            *p = '_';
    if (id[0] == '.' || id[0] == '\0') { /* never a hidden or empty name */
        char *t = xasprintf("_%s", id);
        free(id);
        id = t;
    }
    return id;
}

static void blog(batch_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void blog(batch_t *b, const char *fmt, ...)
{
    char stamp[32];
    time_t t = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", localtime(&t));
    va_list ap;
    va_start(ap, fmt);
    char *msg;
    if (vasprintf(&msg, fmt, ap) < 0)
        die("out of memory");
    va_end(ap);
    char *line = xasprintf("%s %s\n", stamp, msg);
    ssize_t unused = write(b->log_fd, line, strlen(line)); /* O_APPEND: one write, one line */
    (void)unused;
    free(line);
    free(msg);
}

static int cmp_sub(const void *a, const void *b)
{
    return strcmp(((const submission_t *)a)->id, ((const submission_t *)b)->id);
}

/* The submissions: every entry of the folder but dot files, sorted by id; two
 * names that give the same id get -2, -3... */
static void list_submissions(batch_t *b)
{
    DIR *d = opendir(b->subs_dir);
    if (d == NULL)
        die("--submissions %s: %s", b->o->submissions, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (b->nsubs == cap) {
            cap = cap ? 2 * cap : 64;
            b->subs = xrealloc(b->subs, cap * sizeof *b->subs);
        }
        b->subs[b->nsubs].id = batch_submission_id(e->d_name);
        b->subs[b->nsubs].path = path_join(b->subs_dir, e->d_name);
        b->nsubs++;
    }
    closedir(d);
    qsort(b->subs, b->nsubs, sizeof *b->subs, cmp_sub);
    for (size_t i = 1; i < b->nsubs; i++) {
        int k = 2;
        while (strcmp(b->subs[i].id, b->subs[i - 1].id) == 0 || sv_contains(&b->ids, b->subs[i].id)) {
            char *base = xstrdup(b->subs[i].id);
            char *dash = k > 2 ? strrchr(base, '-') : NULL;
            if (dash != NULL)
                *dash = '\0';
            free(b->subs[i].id);
            b->subs[i].id = xasprintf("%s-%d", base, k++);
            free(base);
        }
        sv_push(&b->ids, b->subs[i - 1].id);
    }
    sv_free(&b->ids);
    for (size_t i = 0; i < b->nsubs; i++)
        sv_push(&b->ids, b->subs[i].id);
}

/* The settings a rerun must share with the run it continues. */
static char *settings_text(const batch_t *b)
{
    const check_opts_t *c = b->o->check;
    return xasprintf("# grade batch: the settings of this batch; a rerun with other settings is "
                     "refused\nexercise = %s\nseed = %llu\nskip = %s\ntimeout_scale = %g\n",
                     b->ex->id, c->seed, c->skip != NULL ? c->skip : "", c->time_scale);
}

static char *committed_dir(const batch_t *b, const char *id)
{
    return xasprintf("%s/submissions/%s", b->out, id);
}

static bool is_committed(const batch_t *b, const char *id)
{
    char *d = committed_dir(b, id);
    char *j = path_join(d, "results.json");
    bool yes = is_file(j);
    free(d);
    free(j);
    return yes;
}

/* Commits tmp (a complete result directory) as the submission's: one rename. */
static void commit(batch_t *b, const char *tmp, const char *id)
{
    char *dest = committed_dir(b, id);
    rm_rf(dest); /* a directory without results.json: never committed */
    if (rename(tmp, dest) != 0)
        die("cannot commit %s: %s", dest, strerror(errno));
    free(dest);
}

static char *tmp_dir(const batch_t *b, const char *id)
{
    return xasprintf("%s/submissions/.tmp-%s", b->out, id);
}

static char *stage_dir(const batch_t *b, const char *id)
{
    return xasprintf("%s/.work/%s", b->out, id);
}

/* Adds the batch's facts to the grader's results.json (atomically). */
static bool annotate_results(const char *path, const char *id, const submission_result_t *in,
                             int status)
{
    json_t *root = json_load_file(path, 0, NULL);
    if (root == NULL || !json_is_object(json_object_get(root, "extra_data"))) {
        json_decref(root);
        return false;
    }
    json_t *extra = json_object_get(root, "extra_data");
    json_object_set_new(extra, "submission", json_string(id));
    json_object_set_new(extra, "grader_status", json_integer(status)); /* 0, 1, or 2: see grade check */
    json_t *notes = json_array();
    if (in->error != NULL)
        json_array_append_new(notes, json_string(in->error));
    for (size_t i = 0; i < in->notes.n; i++)
        json_array_append_new(notes, json_string(in->notes.v[i]));
    json_object_set_new(extra, "intake", notes);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(root);
    char *nl = xasprintf("%s\n", text);
    bool ok = write_file_atomic(path, nl, strlen(nl));
    free(text);
    free(nl);
    return ok;
}

/* A submission the grader could not grade: a row that says why. */
static void commit_error(batch_t *b, size_t i, const char *why)
{
    const char *id = b->subs[i].id;
    char *tmp = tmp_dir(b, id);
    mkdir_p(tmp);
    double max = exercise_max_points(b->ex);
    json_t *root = json_pack("{s:f, s:f, s:s, s:[], s:{s:s, s:s, s:[s], s:b}}", "score", 0.0,
                             "max_score", max, "output", why, "tests", "extra_data", "submission", id,
                             "exercise", b->ex->id, "flags", "error", "all_passed", 0);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(root);
    char *report = xasprintf("  %s: not graded\n  %s\n", id, why);
    char *json_path = path_join(tmp, "results.json"), *report_path = path_join(tmp, "report.txt");
    char *nl = xasprintf("%s\n", text);
    if (!write_file_atomic(report_path, report, strlen(report)) ||
        !write_file_atomic(json_path, nl, strlen(nl)))
        die("cannot write %s", tmp);
    commit(b, tmp, id);
    b->errors++;
    blog(b, "%s: not graded: %s", id, why);
    free(text);
    free(report);
    free(json_path);
    free(report_path);
    free(nl);
    free(tmp);
}

/* Takes the submission in and starts `grade check` on it in worker slot w. */
static pid_t start_grading(batch_t *b, size_t i, int slot, submission_result_t *in)
{
    const submission_t *s = &b->subs[i];
    char *stage = stage_dir(b, s->id), *src = path_join(stage, "src"), *tmp = tmp_dir(b, s->id);
    rm_rf(stage);
    rm_rf(tmp);
    mkdir_p(src);
    mkdir_p(tmp);
    chmod(stage, 0700);
    submission_collect(s->path, &b->ex->student_files, src, in);

    const check_opts_t *c = b->o->check;
    strvec_t argv = {0};
    sv_push(&argv, b->self);
    sv_push(&argv, "check");
    sv_push(&argv, b->ex->id);
    sv_pushf(&argv, "--root=%s", b->root);
    sv_pushf(&argv, "--src=%s", src);
    sv_pushf(&argv, "--src-name=%s", s->id);
    sv_pushf(&argv, "--json=%s/results.json", tmp);
    sv_pushf(&argv, "--report=%s/report.txt", tmp);
    sv_push(&argv, "--quiet");
    sv_pushf(&argv, "--seed=%llu", c->seed);
    if (c->skip != NULL)
        sv_pushf(&argv, "--skip=%s", c->skip);
    sv_pushf(&argv, "--timeout-scale=%g", c->time_scale);
    sv_pushf(&argv, "--hide=%s", b->subs_dir);
    sv_pushf(&argv, "--hide=%s", b->out);
    sv_pushf(&argv, "--stage-lock=%s/.stage.lock", b->out);
    char *log = path_join(tmp, "grader.log");
    unsigned uid_base = DEFAULT_UID_BASE;
    const char *env_uid = getenv("ALAB_SANDBOX_UID");
    if (env_uid != NULL && atoi(env_uid) > 0)
        uid_base = (unsigned)atoi(env_uid);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        /* The grading dies with the batch: a killed batch leaves no grader
         * writing into OUT behind it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(2);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(2);
        if (geteuid() == 0) {
            char uid[16];
            snprintf(uid, sizeof uid, "%u", uid_base + (unsigned)slot);
            setenv("ALAB_SANDBOX_UID", uid, 1);
        }
        setenv("NO_COLOR", "1", 1);
        execv(b->self, argv.v);
        dprintf(2, "cannot run %s: %s\n", b->self, strerror(errno));
        _exit(2);
    }
    sv_free(&argv);
    free(log);
    free(stage);
    free(src);
    free(tmp);
    return pid;
}

/* The last non-empty line of a file, for an error row. */
static char *last_line(const char *path)
{
    char *t = read_file(path, NULL);
    if (t == NULL)
        return xstrdup("(no output)");
    char *end = t + strlen(t);
    while (end > t && (end[-1] == '\n' || end[-1] == ' '))
        *--end = '\0';
    char *nl = strrchr(t, '\n');
    char *line = xstrdup(nl != NULL ? nl + 1 : t);
    free(t);
    if (strlen(line) > 300)
        line[300] = '\0';
    utf8_clean(line, strlen(line));
    return line;
}

/* One grading ended: commit it, or retry, or record why it could not be graded.
 * Returns true when the submission is finished. */
static bool finish_grading(batch_t *b, worker_t *w, int status, const submission_result_t *in)
{
    const submission_t *s = &b->subs[w->sub];
    char *tmp = tmp_dir(b, s->id);
    char *json = path_join(tmp, "results.json"), *log = path_join(tmp, "grader.log");
    bool graded = WIFEXITED(status) && WEXITSTATUS(status) <= 2 && is_file(json) &&
                  annotate_results(json, s->id, in, WEXITSTATUS(status));
    bool finished = true;
    if (graded) {
        json_t *r = json_load_file(json, 0, NULL);
        double score = json_real_value(json_object_get(r, "score"));
        double max = json_real_value(json_object_get(r, "max_score"));
        json_t *flags = json_object_get(json_object_get(r, "extra_data"), "flags");
        strbuf_t f = {0};
        size_t k;
        json_t *v;
        json_array_foreach(flags, k, v) sb_printf(&f, "%s%s", f.len ? "," : "", json_string_value(v));
        blog(b, "%s: %g/%g%s%s%s in %.1f s", s->id, score, max, f.len ? " (" : "",
             f.len ? f.s : "", f.len ? ")" : "", now_seconds() - w->started);
        if (!b->tty)
            fprintf(stderr, "  [%zu/%zu] %s: %g/%g%s%s%s\n", b->done_before + b->done_now + 1,
                    b->nsubs, s->id, score, max, f.len ? " (" : "", f.len ? f.s : "",
                    f.len ? ")" : "");
        free(f.s);
        json_decref(r);
        commit(b, tmp, s->id);
    } else {
        char *why;
        if (WIFSIGNALED(status))
            why = xasprintf("the grader was killed by signal %d", WTERMSIG(status));
        else {
            char *l = last_line(log);
            why = xasprintf("the grader ended with status %d: %s", WEXITSTATUS(status), l);
            free(l);
        }
        if (w->attempt < ATTEMPTS) {
            blog(b, "%s: %s; grading it again", s->id, why);
            finished = false;
        } else {
            if (!b->tty)
                fprintf(stderr, "  [%zu/%zu] %s: not graded: %s\n",
                        b->done_before + b->done_now + 1, b->nsubs, s->id, why);
            commit_error(b, w->sub, why);
        }
        free(why);
    }
    char *stage = stage_dir(b, s->id);
    rm_rf(stage);
    free(stage);
    free(tmp);
    free(json);
    free(log);
    return finished;
}

static void write_reports(batch_t *b)
{
    char *err = NULL;
    if (!batch_write_reports(b->out, b->ex, &b->ids, &err))
        die("%s", err);
}

static void progress(batch_t *b, int running)
{
    if (!b->tty)
        return;
    size_t done = b->done_before + b->done_now, width = 30;
    size_t filled = b->nsubs > 0 ? done * width / b->nsubs : width;
    char bar[64];
    for (size_t i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    char eta[48] = "";
    if (b->done_now > 0 && done < b->nsubs) {
        double per = (now_seconds() - b->started) / (double)b->done_now;
        double left = per * (double)(b->nsubs - done);
        snprintf(eta, sizeof eta, ", about %dm%02ds left", (int)left / 60, (int)left % 60);
    }
    fprintf(stderr, "\r\033[K  [%s] %zu/%zu graded, %d running%s", bar, done, b->nsubs, running, eta);
}

static int cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    return 1;
}

/* True if a is b or below it. */
static bool path_within(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/' || strcmp(b, "/") == 0);
}

int batch_run(const char *root, exercise_t *ex, const batch_opts_t *o)
{
    if (o->submissions == NULL || o->out == NULL)
        die("batch needs SUBMISSIONS=dir and OUT=dir (--submissions, --out)");
    batch_t b = {.root = root, .ex = ex, .o = o, .started = now_seconds()};
    b.subs_dir = path_abs(o->submissions);
    if (b.subs_dir == NULL || !is_dir(b.subs_dir))
        die("SUBMISSIONS=%s: no such directory", o->submissions);
    mkdir_p(o->out);
    b.out = path_abs(o->out);
    if (b.out == NULL || !is_dir(b.out))
        die("OUT=%s: cannot make that directory", o->out);
    if (path_within(b.out, b.subs_dir) || path_within(b.subs_dir, b.out))
        die("OUT and SUBMISSIONS must not contain one another");
    b.self = path_abs("/proc/self/exe");
    if (b.self == NULL)
        die("cannot find the grader's own binary");

    /* One batch at a time per OUT. */
    char *lock = path_join(b.out, ".batch.lock");
    int lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0)
        die("OUT=%s: another batch is writing there", o->out);
    free(lock);

    char *settings = settings_text(&b), *settings_path = path_join(b.out, "batch.ini");
    char *old = read_file(settings_path, NULL);
    if (old != NULL && strcmp(old, settings) != 0)
        die("OUT=%s holds a batch with other settings (see its batch.ini): use another OUT, or "
            "the same EX, seed, skip and timeout scale", o->out);
    if (old == NULL && !write_file_atomic(settings_path, settings, strlen(settings)))
        die("cannot write %s", settings_path);
    free(old);
    free(settings);
    free(settings_path);

    char *subdir = path_join(b.out, "submissions"), *work = path_join(b.out, ".work");
    mkdir_p(subdir);
    rm_rf(work); /* what a killed run was taking in */
    mkdir_p(work);
    chmod(work, 0700);
    DIR *d = opendir(subdir);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        if (str_starts_with(e->d_name, ".tmp-")) { /* what a killed run was grading */
            char *p = path_join(subdir, e->d_name);
            rm_rf(p);
            free(p);
        }
    if (d != NULL)
        closedir(d);
    char *logp = path_join(b.out, "batch.log");
    b.log_fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (b.log_fd < 0)
        die("cannot write %s: %s", logp, strerror(errno));
    free(logp);

    list_submissions(&b);
    if (b.nsubs == 0)
        die("SUBMISSIONS=%s is empty", o->submissions);
    size_t *pending = xcalloc(b.nsubs, sizeof *pending), npending = 0;
    for (size_t i = 0; i < b.nsubs; i++) {
        if (is_committed(&b, b.subs[i].id))
            b.done_before++;
        else
            pending[npending++] = i;
    }
    int jobs = o->jobs > 0 ? o->jobs : cpus();
    b.tty = isatty(2) && getenv("NO_COLOR") == NULL;
    blog(&b, "batch of exercise %s: %zu submissions, %zu graded before, %zu to grade, %d at a time",
         ex->id, b.nsubs, b.done_before, npending, jobs);
    fprintf(stderr, "grade batch: exercise %s, %zu submissions (%zu already graded), %d at a time\n",
            ex->id, b.nsubs, b.done_before, jobs);

    worker_t *w = xcalloc((size_t)jobs, sizeof *w);
    submission_result_t *intake = xcalloc((size_t)jobs, sizeof *intake);
    int *attempts = xcalloc(b.nsubs, sizeof *attempts);
    size_t next = 0;
    int running = 0;
    double limit = GRADING_LIMIT_S * o->check->time_scale;
    while (next < npending || running > 0) {
        for (int k = 0; k < jobs && next < npending; k++) {
            if (w[k].pid != 0)
                continue;
            size_t i = pending[next++];
            w[k].sub = i;
            w[k].attempt = ++attempts[i];
            w[k].started = now_seconds();
            w[k].pid = start_grading(&b, i, k, &intake[k]);
            running++;
        }
        progress(&b, running);
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0) {
            for (int k = 0; k < jobs; k++)
                if (w[k].pid != 0 && now_seconds() - w[k].started > limit)
                    kill(w[k].pid, SIGKILL); /* reaped below, as a failed attempt */
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        for (int k = 0; k < jobs; k++) {
            if (w[k].pid != pid)
                continue;
            w[k].pid = 0;
            running--;
            if (finish_grading(&b, &w[k], status, &intake[k])) {
                b.done_now++;
                write_reports(&b);
            } else {
                pending[--next] = w[k].sub; /* again, next */
            }
            submission_result_free(&intake[k]);
        }
    }
    if (b.tty) {
        progress(&b, 0);
        fputc('\n', stderr);
    }
    write_reports(&b);
    rm_rf(work);
    double wall = now_seconds() - b.started;
    blog(&b, "batch done: %zu graded in this run in %.0f s, %zu not graded", b.done_now, wall,
         b.errors);
    fprintf(stderr, "grade batch: %zu graded in this run in %.0f s (%.1f per minute)%s; gradebook: %s/gradebook.csv\n",
            b.done_now, wall, wall > 0 ? 60.0 * (double)b.done_now / wall : 0.0,
            b.errors > 0 ? ", some could not be graded (see batch.log)" : "", o->out);
    free(pending);
    free(w);
    free(intake);
    free(attempts);
    free(subdir);
    free(work);
    return b.errors > 0 ? 1 : 0;
}

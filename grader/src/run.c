/* run.c — start a process in its own process group (inside bubblewrap and a
 * cgroup where the machine allows), bound its time, memory and output, and
 * always kill what is left of it when it is done. */
#define _GNU_SOURCE
#include "run.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_OUTPUT_CAP (64 * 1024)
/* After the process exits, how long its descendants may keep the output pipe open. */
#define DRAIN_GRACE_S 0.5

/* Keeps the first cap/2 bytes and the last cap/2 bytes of a stream. */
typedef struct {
    char *head;
    size_t head_len, half;
    char *tail; /* ring buffer */
    size_t tail_start, tail_len;
    size_t total;
} capture_t;

static void capture_add(capture_t *c, const char *data, size_t n)
{
    c->total += n;
    size_t take = c->half - c->head_len;
    if (take > n)
        take = n;
    memcpy(c->head + c->head_len, data, take);
    c->head_len += take;
    data += take;
    n -= take;
    for (size_t i = 0; i < n; i++) { /* the rest goes to the ring */
        size_t pos = (c->tail_start + c->tail_len) % c->half;
        c->tail[pos] = data[i];
        if (c->tail_len < c->half)
            c->tail_len++;
        else
            c->tail_start = (c->tail_start + 1) % c->half;
    }
}

static char *capture_finish(capture_t *c, bool *cut)
{
    strbuf_t sb = {0};
    sb_appendn(&sb, c->head, c->head_len);
    size_t dropped = c->total - c->head_len - c->tail_len;
    *cut = dropped > 0;
    if (dropped > 0)
        sb_printf(&sb, "\n[... %zu bytes of output cut ...]\n", dropped);
    for (size_t i = 0; i < c->tail_len; i++)
        sb_appendn(&sb, &c->tail[(c->tail_start + i) % c->half], 1);
    char *s = sb_take(&sb);
    utf8_clean(s, strlen(s)); /* NUL bytes already ended the string: fine for display */
    return s;
}

static void set_limit(int resource, rlim_t value)
{
    struct rlimit rl = {value, value};
    setrlimit(resource, &rl);
}


/* ---- isolation: what this machine allows ---- */

static struct {
    bool configured;
    run_config_t cfg;
    strvec_t show, hide;
    bool bwrap;
    int cg_version;        /* 0: no cgroups, 1 or 2 */
    strvec_t cg_bases;     /* v1: one directory per controller; v2: one */
    char *isolation;
    char *note;
} iso;

/* The cgroup directory this process is in, for a v1 controller or v2 (""). */
static char *own_cgroup(const char *controller)
{
    char *text = read_file("/proc/self/cgroup", NULL);
    char *found = NULL, *save = NULL;
    for (char *l = text != NULL ? strtok_r(text, "\n", &save) : NULL; l != NULL && found == NULL;
         l = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(l, ':'), *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c2 = '\0';
        const char *ctl = c1 + 1;
        bool match = false;
        if (controller[0] == '\0') {
            match = strcmp(l, "0") == 0 && ctl[0] == '\0';
        } else {
            strvec_t names = {0};
            char *list = str_replace_all(ctl, ",", " ");
            sv_push_words(&names, list);
            match = sv_contains(&names, controller);
            free(list);
            sv_free(&names);
        }
        if (match)
            found = xstrdup(c2 + 1);
    }
    free(text);
    return found;
}

static bool write_text(const char *dir, const char *file, const char *text)
{
    char *p = path_join(dir, file);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    free(p);
    if (fd < 0)
        return false;
    bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    return ok;
}

/* Kills every process in the cgroup dir, reaps what was ours, and removes the
 * cgroup once it is empty (tries for about a second). */
static void cg_kill_and_remove(const char *dir)
{
    char *procs = path_join(dir, "cgroup.procs");
    for (int round = 0; round < 200; round++) {
        if (iso.cg_version == 2)
            write_text(dir, "cgroup.kill", "1");
        char *t = read_file(procs, NULL);
        bool any = false;
        for (char *q = t; q != NULL && *q != '\0';) {
            char *end;
            long pid = strtol(q, &end, 10);
            if (end == q)
                break;
            kill((pid_t)pid, SIGKILL);
            any = true;
            q = end;
        }
        free(t);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (!any && rmdir(dir) == 0)
            break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    free(procs);
}

/* Removes the cgroups that graders now dead left under base (one killed with
 * SIGKILL cannot clean up), killing anything still inside. */
static void cg_remove_stale(const char *base)
{
    DIR *d = opendir(base);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int pid, n;
        if (sscanf(e->d_name, "alab-%d-%d", &pid, &n) != 2 || pid <= 0 || kill(pid, 0) == 0 ||
            errno != ESRCH)
            continue;
        char *dir = path_join(base, e->d_name);
        cg_kill_and_remove(dir);
        free(dir);
    }
    closedir(d);
}

/* Can we make child cgroups under base and move a process there? */
static bool cg_probe_dir(const char *base)
{
    cg_remove_stale(base);
    char *d = xasprintf("%s/alab-probe-%d", base, (int)getpid());
    rmdir(d);
    bool ok = mkdir(d, 0755) == 0;
    if (ok)
        rmdir(d);
    free(d);
    return ok;
}

static void cg_configure(void)
{
    if (iso.cfg.no_cgroup || geteuid() != 0)
        return;
    /* v1: separate hierarchies per controller (this machine, older distributions) */
    static const char *const v1[] = {"memory", "pids", "cpu"};
    strvec_t bases = {0};
    for (size_t i = 0; i < 3; i++) {
        char *own = own_cgroup(v1[i]);
        char *mount = xasprintf("/sys/fs/cgroup/%s", v1[i]);
        if (own != NULL && is_dir(mount)) {
            char *base = xasprintf("%s%s", mount, strcmp(own, "/") == 0 ? "" : own);
            if (cg_probe_dir(base))
                sv_push(&bases, base);
            free(base);
        }
        free(own);
        free(mount);
    }
    if (bases.n == 3) {
        iso.cg_version = 1;
        iso.cg_bases = bases;
        return;
    }
    sv_free(&bases);
    /* v2: one hierarchy; our own cgroup must delegate memory and pids */
    char *own = own_cgroup("");
    char *ctl = read_file("/sys/fs/cgroup/cgroup.controllers", NULL);
    if (own != NULL && ctl != NULL && strstr(ctl, "memory") != NULL && strstr(ctl, "pids") != NULL) {
        char *base = xasprintf("/sys/fs/cgroup%s", strcmp(own, "/") == 0 ? "" : own);
        if (write_text(base, "cgroup.subtree_control", "+memory +pids") && cg_probe_dir(base)) {
            iso.cg_version = 2;
            sv_push(&iso.cg_bases, base);
        }
        free(base);
    }
    free(own);
    free(ctl);
}

/* Runs argv (as the sandbox user) outside any sandbox; true if it exits 0. */
static bool probe_runs(const char *const *argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (iso.cfg.uid != 0 &&
            (setgroups(0, NULL) != 0 || setgid(iso.cfg.gid) != 0 || setuid(iso.cfg.uid) != 0))
            _exit(127);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

const char *run_configure(const run_config_t *cfg)
{
    iso.cfg = *cfg;
    iso.configured = true;
    for (size_t i = 0; cfg->show != NULL && cfg->show[i] != NULL; i++)
        if (is_dir(cfg->show[i]))
            sv_push(&iso.show, cfg->show[i]);
    for (size_t i = 0; cfg->hide != NULL && cfg->hide[i] != NULL; i++)
        if (is_dir(cfg->hide[i]))
            sv_push(&iso.hide, cfg->hide[i]);
    static const char *const probe[] = {"bwrap", "--unshare-all", "--die-with-parent",
                                        "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
                                        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64",
                                        "/lib64", "--proc", "/proc", "--dev", "/dev",
                                        "/usr/bin/true", NULL};
    iso.bwrap = !cfg->no_bwrap && probe_runs(probe);
    cg_configure();
    iso.isolation = xasprintf("%s, %s", iso.bwrap ? "bubblewrap" : "no bubblewrap",
                              iso.cg_version == 0 ? "no cgroup"
                              : iso.cg_version == 1 ? "cgroup v1" : "cgroup v2");
    strbuf_t note = {0};
    if (!iso.bwrap)
        sb_append(&note, "bubblewrap (bwrap) is not usable here, so student code can use the "
                         "network and read what its user may read");
    if (iso.cg_version == 0)
        sb_printf(&note, "%sno cgroup could be made (not root, or not delegated), so memory is "
                         "capped with RLIMIT_AS only outside the sanitizers",
                  note.len ? "; " : "");
    if (note.len > 0)
        sb_append(&note, ": runs have weaker isolation (see docs/instructors.md)");
    iso.note = sb_take(&note);
    return iso.note[0] != '\0' ? iso.note : NULL;
}

const char *run_isolation(void)
{
    return iso.isolation != NULL ? iso.isolation : "not configured";
}

/* ---- one cgroup per run ---- */

typedef struct {
    strvec_t dirs; /* empty: no cgroup */
} cgroup_t;

static void cg_create(cgroup_t *cg, unsigned long mem_mb, unsigned pids_max)
{
    static int counter;
    memset(cg, 0, sizeof *cg);
    if (iso.cg_version == 0)
        return;
    counter++;
    for (size_t i = 0; i < iso.cg_bases.n; i++) {
        char *d = xasprintf("%s/alab-%d-%d", iso.cg_bases.v[i], (int)getpid(), counter);
        if (mkdir(d, 0755) != 0 && errno != EEXIST)
            die("cannot make the cgroup %s: %s", d, strerror(errno));
        sv_push(&cg->dirs, d);
        free(d);
    }
    char mem[32], swap[32], pids[32];
    snprintf(mem, sizeof mem, "%lu", mem_mb << 20);
    snprintf(swap, sizeof swap, "%lu", mem_mb << 20);
    snprintf(pids, sizeof pids, "%u", pids_max);
    bool ok = true;
    for (size_t i = 0; i < cg->dirs.n; i++) {
        const char *d = cg->dirs.v[i];
        if (iso.cg_version == 2) {
            ok &= write_text(d, "memory.max", mem) && write_text(d, "pids.max", pids);
            write_text(d, "memory.swap.max", "0"); /* absent without swap accounting */
        } else if (str_ends_with(iso.cg_bases.v[i], "/memory") || strstr(d, "/memory/") != NULL) {
            ok &= write_text(d, "memory.limit_in_bytes", mem);
            write_text(d, "memory.memsw.limit_in_bytes", swap);
        } else if (strstr(d, "/pids/") != NULL) {
            ok &= write_text(d, "pids.max", pids);
        }
    }
    if (!ok)
        die("cannot set the limits of the cgroup %s", cg->dirs.v[0]);
}

/* In the child, before it drops privileges. */
static bool cg_enter(const cgroup_t *cg)
{
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    for (size_t i = 0; i < cg->dirs.n; i++)
        if (!write_text(cg->dirs.v[i], "cgroup.procs", pid))
            return false;
    return true;
}

/* "oom_kill N" from memory.oom_control (v1) or memory.events (v2). */
static bool cg_oom_killed(const cgroup_t *cg)
{
    for (size_t i = 0; i < cg->dirs.n; i++) {
        char *p = path_join(cg->dirs.v[i], iso.cg_version == 2 ? "memory.events" : "memory.oom_control");
        char *t = read_file(p, NULL);
        free(p);
        char *k = t != NULL ? strstr(t, "oom_kill ") : NULL;
        bool killed = k != NULL && atol(k + 9) > 0;
        free(t);
        if (killed)
            return true;
    }
    return false;
}

/* Kills whatever is still in the cgroup, then removes it. */
static void cg_destroy(cgroup_t *cg)
{
    for (size_t i = 0; i < cg->dirs.n; i++)
        cg_kill_and_remove(cg->dirs.v[i]);
    sv_free(&cg->dirs);
}

/* ---- the command line that runs argv inside bubblewrap ---- */

/* The environment of bwrap itself: enough to find nothing, load nothing. */
static const char *const bwrap_env[] = {"PATH=/usr/bin:/bin", NULL};

static void bwrap_argv(const run_spec_t *spec, strvec_t *out)
{
    static const char *const base[] = {"bwrap", "--unshare-all", "--die-with-parent",
                                       "--new-session", "--dev", "/dev", "--proc", "/proc",
                                       "--tmpfs", "/tmp", "--tmpfs", "/dev/shm", NULL};
    /* Of the file system only the system's programs, libraries and
     * configuration are shown (read-only): no /home, /root, /var, /work, /srv,
     * nowhere another course's or another student's files could be. */
    static const char *const system_dirs[] = {"/usr", "/etc", "/opt", "/bin", "/sbin", "/lib",
                                              "/lib32", "/lib64", "/libx32", NULL};
    for (size_t i = 0; base[i] != NULL; i++)
        sv_push(out, base[i]);
    for (size_t i = 0; system_dirs[i] != NULL; i++) {
        char target[4096];
        ssize_t n = readlink(system_dirs[i], target, sizeof target - 1);
        if (n > 0) { /* merged /usr: /bin -> usr/bin */
            target[n] = '\0';
            sv_push(out, "--symlink");
            sv_push(out, target);
            sv_push(out, system_dirs[i]);
        } else if (is_dir(system_dirs[i])) {
            sv_push(out, "--ro-bind");
            sv_push(out, system_dirs[i]);
            sv_push(out, system_dirs[i]);
        }
    }
    for (size_t i = 0; i < iso.show.n; i++) { /* the kit, also when it lives under /tmp */
        sv_push(out, "--ro-bind");
        sv_push(out, iso.show.v[i]);
        sv_push(out, iso.show.v[i]);
    }
    for (size_t i = 0; i < iso.hide.n; i++) {
        sv_push(out, "--tmpfs");
        sv_push(out, iso.hide.v[i]);
    }
    for (size_t i = 0; spec->ro_paths != NULL && spec->ro_paths[i] != NULL; i++) {
        sv_push(out, "--ro-bind");
        sv_push(out, spec->ro_paths[i]);
        sv_push(out, spec->ro_paths[i]);
    }
    for (size_t i = 0; spec->rw_paths != NULL && spec->rw_paths[i] != NULL; i++) {
        sv_push(out, "--bind");
        sv_push(out, spec->rw_paths[i]);
        sv_push(out, spec->rw_paths[i]);
    }
    if (spec->cwd != NULL) {
        sv_push(out, "--chdir");
        sv_push(out, spec->cwd);
    }
    /* The run's environment reaches the sandboxed program only: bwrap itself
     * starts with bwrap_env (nothing of the run's), so an LD_PRELOAD meant for
     * the student's library is never loaded by bubblewrap, which is not setuid
     * on Debian and would run the library's code before it has unshared
     * anything (host network, host file system). */
    sv_push(out, "--clearenv");
    for (size_t i = 0; spec->env != NULL && spec->env[i] != NULL; i++) {
        const char *eq = strchr(spec->env[i], '=');
        if (eq == NULL)
            continue;
        sv_push(out, "--setenv");
        sv_pushf(out, "%.*s", (int)(eq - spec->env[i]), spec->env[i]);
        sv_push(out, eq + 1);
    }
    sv_push(out, "--");
    for (size_t i = 0; spec->argv[i] != NULL; i++)
        sv_push(out, spec->argv[i]);
}

/* In the child: never returns. Reports an exec failure through err_fd. */
static void child_exec(const run_spec_t *spec, const char *const *argv, const cgroup_t *cg,
                       int out_fd, int err_fd, int secret_fd)
{
    setsid(); /* own session and process group: the group can be killed as one */
    /* Keep the error pipe clear of the descriptors dup2 fills below. */
    int moved = fcntl(err_fd, F_DUPFD_CLOEXEC, 100);
    if (moved >= 0)
        err_fd = moved;
    if (secret_fd >= 0 && secret_fd < 100) {
        int s = fcntl(secret_fd, F_DUPFD, 100);
        secret_fd = s;
    }
    if (!cg_enter(cg))
        goto fail;
    signal(SIGPIPE, SIG_DFL);
    set_limit(RLIMIT_CORE, 0);
    if (spec->cpu_s > 0) {
        struct rlimit rl = {spec->cpu_s, spec->cpu_s + 5};
        setrlimit(RLIMIT_CPU, &rl);
    }
    if (spec->as_mb > 0 && cg->dirs.n == 0) /* a cgroup caps memory better */
        set_limit(RLIMIT_AS, (rlim_t)spec->as_mb << 20);
    set_limit(RLIMIT_FSIZE, (rlim_t)RUN_FSIZE_MB << 20);
    if (spec->uid != 0) {
        /* Counts every process of that user: a fork bomb stops here. */
        set_limit(RLIMIT_NPROC, 2048);
        if (setgroups(0, NULL) != 0 || setgid(spec->gid) != 0 || setuid(spec->uid) != 0)
            goto fail;
    }
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); /* no setuid program can give privileges back */
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0 ||
        (spec->cwd != NULL && chdir(spec->cwd) != 0))
        goto fail;
    if (secret_fd >= 0 && dup2(secret_fd, 3) != 3)
        goto fail;
    /* Only 0, 1, 2, the secret on 3 and the close-on-exec error pipe may cross the exec. */
    for (int fd = secret_fd >= 0 ? 4 : 3; fd < 1024; fd++)
        if (fd != err_fd)
            close(fd);
    execvpe(argv[0], (char *const *)argv, (char *const *)(iso.bwrap ? bwrap_env : spec->env));
fail:;
    int e = errno;
    ssize_t unused = write(err_fd, &e, sizeof e);
    (void)unused;
    _exit(127);
}

/* Kills every process re-parented to us (we are a child subreaper, so orphans
 * of a run land here, also those that left the process group with setsid) and
 * reaps them, until none is left. */
static void kill_orphans(void)
{
    for (int round = 0; round < 100; round++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
        char *list = read_file(path, NULL);
        bool any = false;
        for (char *p = list; p != NULL && *p != '\0';) {
            char *end;
            long pid = strtol(p, &end, 10);
            if (end == p)
                break;
            if (pid > 0) {
                kill(-(pid_t)pid, SIGKILL);
                kill((pid_t)pid, SIGKILL);
                any = true;
            }
            p = end;
        }
        free(list);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            any = true;
        if (!any)
            return;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

bool run_sandboxed(const run_spec_t *spec, run_result_t *res)
{
    static bool subreaper;
    if (!subreaper) {
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        subreaper = true;
    }
    memset(res, 0, sizeof *res);
    size_t cap = spec->output_cap > 0 ? spec->output_cap : DEFAULT_OUTPUT_CAP;
    capture_t c = {.half = cap / 2};
    c.head = xmalloc(c.half);
    c.tail = xmalloc(c.half);

    int out[2], err[2], sec[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    if (spec->secret != NULL) {
        /* The secret waits in the pipe; the reader gets it once, and code that
         * reads it before the harness does leaves the harness without it. */
        if (pipe2(sec, O_CLOEXEC) != 0)
            die("pipe: %s", strerror(errno));
        size_t n = strlen(spec->secret);
        if (write(sec[1], spec->secret, n) != (ssize_t)n)
            die("cannot hand over the run's token: %s", strerror(errno));
        close(sec[1]);
    }
    strvec_t argv = {0};
    if (iso.bwrap)
        bwrap_argv(spec, &argv);
    else
        for (size_t i = 0; spec->argv[i] != NULL; i++)
            sv_push(&argv, spec->argv[i]);
    cgroup_t cg;
    unsigned long mem_mb = spec->mem_mb > 0 ? spec->mem_mb : RUN_DEFAULT_MEM_MB;
    cg_create(&cg, mem_mb, spec->pids_max > 0 ? spec->pids_max : RUN_DEFAULT_PIDS);
    double start = now_seconds();
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        close(out[0]);
        close(err[0]);
        /* out[1] must survive exec: dup2 onto 1 and 2 clears close-on-exec there. */
        child_exec(spec, (const char *const *)argv.v, &cg, out[1], err[1], sec[0]);
    }
    sv_free(&argv);
    if (sec[0] >= 0)
        close(sec[0]);
    close(out[1]);
    close(err[1]);
    res->pid = (int)pid;

    int exec_errno = 0;
    bool exec_failed = read(err[0], &exec_errno, sizeof exec_errno) == (ssize_t)sizeof exec_errno;
    close(err[0]);

    int status = 0;
    struct rusage ru = {0};
    bool reaped = false, pipe_open = true;
    double exited_at = 0;
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    while (pipe_open || !reaped) {
        double now = now_seconds();
        if (now - start > spec->timeout_s && !reaped) {
            res->timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
        if (reaped && now - exited_at > DRAIN_GRACE_S)
            break; /* a descendant holds the pipe open: it is killed below */
        if (!reaped) {
            pid_t w = wait4(pid, &status, WNOHANG, &ru);
            if (w == pid) {
                reaped = true;
                exited_at = now_seconds();
                kill(-pid, SIGKILL); /* what is left of the group goes now */
            }
        }
        if (pipe_open) {
            struct pollfd pfd = {out[0], POLLIN, 0};
            if (poll(&pfd, 1, 20) > 0) {
                char buf[65536];
                ssize_t n = read(out[0], buf, sizeof buf);
                if (n > 0)
                    capture_add(&c, buf, (size_t)n);
                else if (n == 0 || (errno != EAGAIN && errno != EINTR))
                    pipe_open = false;
            }
        } else if (!reaped) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    close(out[0]);
    kill(-pid, SIGKILL); /* no process of the group survives the run */
    kill_orphans();      /* nor one that left the group */
    if (cg.dirs.n > 0) {
        res->oom_killed = cg_oom_killed(&cg);
        res->mem_cap_mb = mem_mb;
    } else if (spec->as_mb > 0) {
        res->mem_cap_mb = spec->as_mb;
    }
    cg_destroy(&cg); /* nor one in the cgroup */

    res->wall_s = now_seconds() - start;
    res->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    res->output = capture_finish(&c, &res->output_cut);
    res->output_total = c.total;
    free(c.head);
    free(c.tail);
    if (exec_failed) {
        free(res->output);
        res->output = xasprintf("cannot run %s: %s", spec->argv[0], strerror(exec_errno));
        return false;
    }
    res->started = true;
    if (WIFEXITED(status)) {
        res->exited = true;
        res->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res->signaled = true;
        res->term_signal = WTERMSIG(status);
    }
    /* bubblewrap reports a child killed by signal N as exit status 128 + N. */
    if (iso.bwrap && res->exited && res->exit_code > 128 && res->exit_code <= 128 + 31) {
        res->exited = false;
        res->signaled = true;
        res->term_signal = res->exit_code - 128;
    }
    if (res->timed_out) {
        res->exited = false;
        res->signaled = false;
    }
    return true;
}

void run_result_free(run_result_t *res)
{
    free(res->output);
    res->output = NULL;
}

char *run_describe_end(const run_result_t *res)
{
    if (!res->started)
        return xstrdup(res->output != NULL ? res->output : "could not be started");
    if (res->timed_out)
        return xasprintf("was stopped after %.0f s (time limit): an infinite loop, a deadlock "
                         "or a wait that never ends?",
                         res->wall_s);
    if (res->signaled) {
        if (res->term_signal == SIGXCPU)
            return xstrdup("used up its CPU-time limit (SIGXCPU)");
        if (res->term_signal == SIGXFSZ)
            return xasprintf("was killed by signal %d (SIGXFSZ): it wrote a file larger than the "
                             "%d MiB limit", SIGXFSZ, RUN_FSIZE_MB);
        if (res->oom_killed)
            return xasprintf("was killed by signal %d (SIG%s): the memory limit of %lu MiB was reached",
                             res->term_signal, sigabbrev_np(res->term_signal), res->mem_cap_mb);
        return xasprintf("was killed by signal %d (SIG%s)", res->term_signal,
                         sigabbrev_np(res->term_signal) != NULL ? sigabbrev_np(res->term_signal)
                                                                : "?");
    }
    return xasprintf("ended with exit status %d", res->exit_code);
}

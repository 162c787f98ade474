/* run.c — start a process in its own process group, bound its time and its
 * output, and always kill what is left of the group when it is done. */
#define _GNU_SOURCE
#include "run.h"
#include "util.h"

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

/* In the child: never returns. Reports an exec failure through err_fd. */
static void child_exec(const run_spec_t *spec, int out_fd, int err_fd)
{
    setsid(); /* own session and process group: the group can be killed as one */
    signal(SIGPIPE, SIG_DFL);
    set_limit(RLIMIT_CORE, 0);
    if (spec->cpu_s > 0) {
        struct rlimit rl = {spec->cpu_s, spec->cpu_s + 5};
        setrlimit(RLIMIT_CPU, &rl);
    }
    if (spec->as_mb > 0)
        set_limit(RLIMIT_AS, (rlim_t)spec->as_mb << 20);
    set_limit(RLIMIT_FSIZE, (rlim_t)512 << 20);
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
    /* Only 0, 1, 2 and the close-on-exec error pipe may cross the exec. */
    for (int fd = 3; fd < 1024; fd++)
        if (fd != err_fd)
            close(fd);
    execvpe(spec->argv[0], (char *const *)spec->argv, (char *const *)spec->env);
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

    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    double start = now_seconds();
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        close(out[0]);
        close(err[0]);
        /* out[1] must survive exec: dup2 onto 1 and 2 clears close-on-exec there. */
        child_exec(spec, out[1], err[1]);
    }
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
        return xasprintf("was killed by signal %d (%s)", res->term_signal,
                         sigabbrev_np(res->term_signal) != NULL ? sigabbrev_np(res->term_signal)
                                                                : "?");
    }
    return xasprintf("ended with exit status %d", res->exit_code);
}

/* run.h — the one way the grader starts a process that compiles or runs
 * student code.
 *
 * The process gets its own session and process group, a wall-clock timeout
 * after which the whole group is killed, CPU-time, file-size and core limits,
 * an empty standard input and a private working directory; when uid is set, it
 * runs as that unprivileged user, with no way to gain privileges and a process
 * limit. Where the machine allows (run_configure says what it found):
 *   - bubblewrap gives it no network, its own PID namespace (nothing it starts
 *     outlives it), a private /tmp, the whole file system read-only but for the
 *     directories the run may write, and the hidden directories (other
 *     submissions, the batch's output) replaced by empty ones;
 *   - a cgroup caps its memory (sanitizers tolerate that, unlike RLIMIT_AS) and
 *     its number of processes, and gives it an equal share of the CPU.
 * What it prints is captured (the beginning and the end, up to a cap) and
 * cleaned into valid UTF-8; it is shown to people, never parsed for a verdict:
 * verdicts come from the exit status and from result files the grader names.
 */
#ifndef ALAB_RUN_H
#define ALAB_RUN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *const *argv;  /* argv[0] is looked up in PATH */
    const char *const *env;   /* the whole environment, NULL-terminated */
    const char *cwd;          /* must exist */
    double timeout_s;         /* wall clock; the process group is killed after it */
    unsigned long cpu_s;      /* RLIMIT_CPU, 0 for none */
    unsigned long as_mb;      /* RLIMIT_AS in MiB, 0 for none: never for sanitizers */
    size_t output_cap;        /* bytes of output kept, 0 for the default (64 KiB) */
    unsigned uid, gid;        /* run as this user (the grader must be root); 0: as the grader */
    const char *const *rw_paths; /* NULL-terminated: the only places it may write (with bubblewrap) */
    const char *const *ro_paths; /* shown read-only even if inside a hidden directory */
    const char *secret;       /* given on file descriptor 3, never in argv or the environment */
    unsigned long mem_mb;     /* memory cap through a cgroup; 0: RUN_DEFAULT_MEM_MB */
    unsigned pids_max;        /* processes and threads; 0: RUN_DEFAULT_PIDS */
} run_spec_t;

#define RUN_DEFAULT_MEM_MB 2048
#define RUN_DEFAULT_PIDS 512
#define RUN_FSIZE_MB 64 /* the largest file a run may write */

typedef struct {
    bool started;       /* false: could not fork or exec; see output */
    int pid;            /* also the process group and session id */
    bool timed_out;
    bool exited;        /* normal exit, with exit_code */
    int exit_code;
    bool signaled;      /* killed by term_signal */
    int term_signal;
    char *output;       /* stdout and stderr interleaved, cut and cleaned */
    size_t output_total;/* bytes the process printed in all */
    bool output_cut;
    double wall_s;
    double cpu_s;       /* user + system time of the process and its waited-for children */
    bool oom_killed;    /* the kernel killed a process of the run at its memory cap */
    unsigned long mem_cap_mb; /* the cap that applied (0: none) */
} run_result_t;

/* How runs are isolated; set once per grader process, before the first run. */
typedef struct {
    unsigned uid, gid;         /* the user student code runs as (0: the grader's) */
    const char *const *show;   /* NULL-terminated: shown read-only even under /tmp (the kit) */
    const char *const *hide;   /* NULL-terminated: directories no run may see, even inside show */
    bool no_bwrap, no_cgroup;  /* refuse them even where they work (tests, debugging) */
} run_config_t;

/* Probes bubblewrap and cgroups; returns NULL when runs are fully isolated, or
 * one line saying what is missing (print it once). */
const char *run_configure(const run_config_t *cfg);
/* "bubblewrap, cgroup v1" — what run_configure found, for reports. */
const char *run_isolation(void);

/* Runs spec to completion; returns res->started. */
bool run_sandboxed(const run_spec_t *spec, run_result_t *res);
void run_result_free(run_result_t *res);

/* One line saying how the process ended: "exit status 1", "killed by signal 9
 * (SIGKILL)", "stopped after the 60 s time limit". Owned by the caller. */
char *run_describe_end(const run_result_t *res);

#endif

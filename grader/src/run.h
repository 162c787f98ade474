/* run.h — the one way the grader starts a process that compiles or runs
 * student code.
 *
 * The process gets its own session and process group, a wall-clock timeout
 * after which the whole group is killed, CPU-time and core limits, an empty
 * standard input and a private working directory; when uid is set, it runs as
 * that unprivileged user, with no way to gain privileges and a process limit. What it prints is captured
 * (the beginning and the end, up to a cap) and cleaned into valid UTF-8; it is
 * shown to people, never parsed for a verdict: verdicts come from the exit
 * status and from result files the grader names.
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
} run_spec_t;

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
} run_result_t;

/* Runs spec to completion; returns res->started. */
bool run_sandboxed(const run_spec_t *spec, run_result_t *res);
void run_result_free(run_result_t *res);

/* One line saying how the process ended: "exit status 1", "killed by signal 9
 * (SIGKILL)", "stopped after the 60 s time limit". Owned by the caller. */
char *run_describe_end(const run_result_t *res);

#endif

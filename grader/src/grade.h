/* grade.h — the grader's pipeline: manifest -> stages -> checks -> report.
 *
 * An exercise (read from exercises/exNN-slug/exercise.ini) declares programs to
 * build and checks to judge. Each stage fills in the status, score and message
 * of its own checks; a report turns checks into text or JSON and knows nothing
 * of how a check was run.
 */
#ifndef ALAB_GRADE_H
#define ALAB_GRADE_H

#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- manifest: an INI file of [kind name] sections with key = value lines ---- */

typedef struct {
    char *key, *value;
    int line; /* where it is written, for error messages */
} ini_pair_t;

typedef struct {
    char *kind;  /* "exercise", "program", "check" */
    char *name;  /* "" for [exercise] */
    int line;    /* where the section starts, for error messages */
    ini_pair_t *pairs;
    size_t npairs;
} ini_section_t;

typedef struct {
    ini_section_t *sections;
    size_t nsections;
} ini_t;

/* Parses text; on a syntax error returns false with *err set ("line 12: ..."). */
bool ini_parse(const char *text, ini_t *ini, char **err);
const char *ini_get(const ini_section_t *s, const char *key); /* NULL if absent */
int ini_line(const ini_section_t *s, const char *key); /* the key's line, or the section's */
void ini_free(ini_t *ini);

/* ---- exercise ---- */

typedef enum { VARIANT_PLAIN, VARIANT_TSAN, VARIANT_ASAN, VARIANT_REFERENCE, NVARIANTS } variant_t;
#define BUILDS(v) (1u << VARIANT_##v)

/* The one table of stages, in the order they run (a check may depend only on
 * checks of earlier stages): X(ID, name, builds). A stage is judged by the
 * function stage_<name>; `builds` are the variants of its checks' programs it
 * runs; the keys its checks take are the rows of the manifest's schema
 * (manifest.c) whose stages name it. Everything else knows a stage by its
 * stage_t. */
#define ALAB_STAGES(X)                                                                             \
    X(BUILD, build, BUILDS(PLAIN))                                                                 \
    X(RULES, rules, 0)                                                                             \
    X(TESTS, tests, BUILDS(PLAIN))                                                                 \
    X(ASAN, asan, BUILDS(ASAN))                                                                    \
    X(TSAN, tsan, BUILDS(TSAN))                                                                    \
    X(VALGRIND, valgrind, BUILDS(PLAIN))                                                           \
    X(PROGRAMS, programs, BUILDS(PLAIN))                                                           \
    X(MEASURE, measure, BUILDS(PLAIN) | BUILDS(REFERENCE))                                         \
    X(PERF, perf, BUILDS(PLAIN) | BUILDS(REFERENCE))                                               \
    X(BONUS, bonus, BUILDS(PLAIN))

typedef enum {
#define STAGE_ENUM(id, name, builds) STAGE_##id,
    ALAB_STAGES(STAGE_ENUM)
#undef STAGE_ENUM
    NSTAGES
} stage_t;
extern const char *const stage_names[NSTAGES];
/* -1 when name is not a stage. */
int stage_find(const char *name);

typedef enum { CHECK_PENDING, CHECK_PASS, CHECK_FAIL, CHECK_SKIP } check_status_t;

typedef struct program {
    char *name;
    char *kind;          /* check, main or shared */
    bool is_check;       /* kind = check: a Check suite linked with the harness main */
    bool is_shared;      /* kind = shared: a library for LD_PRELOAD (programs stage) */
    strvec_t sources;    /* absolute paths of kit sources */
    strvec_t ldflags;    /* extra link options, e.g. -Wl,--wrap=pthread_mutex_lock */
    double timeout_s;
    bool optional;       /* may be missing (hidden tests in a student handout) */
    char *bench_args;    /* make bench runs it with these arguments; NULL: not a benchmark */
    bool available;      /* every source exists */
    bool wanted[NVARIANTS];
    char *binary[NVARIANTS]; /* built executables, NULL until built */
} program_t;

typedef struct check {
    char *id, *title, *doc, *visibility;
    stage_t stage;
    double points;
    bool bonus;               /* extra credit: not earning it is not a failure */
    int min_cpus;             /* skipped, with the reason, on a smaller machine */
    const ini_section_t *sec; /* where it is written (sec->line, ini_line) */
    strvec_t depends;         /* ids of checks that must pass first */
    strvec_t cases;           /* test cases, for kind = check programs */
    program_t *program;
    /* Stage keys, typed and range-checked by the loader; a key its stage does
     * not take keeps its zero value (the schema in manifest.c says which). */
    int repeat;               /* tsan, asan: runs of the cases */
    int rounds, best_of;      /* perf: interleaved rounds; runs per round, best counts */
    double full_at, zero_at;  /* perf, measure: all points at full_at, none at zero_at */
    double reference_share;   /* perf: the bar when even the reference misses full_at */
    double timeout_s;         /* programs: per command; 0: the program's timeout */
    char *args;               /* perf, measure: the program's arguments */
    char *advice, *baseline_name; /* perf */
    char *metric;             /* measure: the record that holds the figure */
    char *command, *setup;    /* programs: shell lines */
    strvec_t served_by;       /* programs: executables that must run on the library */
    char *expect_error;       /* valgrind: the error memcheck must report */
    strvec_t forbid, forbid_sections, forbid_source; /* rules: patterns */
    char *why;                /* rules: the reason given with a broken rule */
    /* result */
    check_status_t status;
    double score;
    char *message;            /* one or a few sentences for the student */
    char *where;              /* the student's file:line when known */
    char *details;            /* longer evidence: a trimmed report, compiler output */
} check_t;

typedef struct {
    char *root;         /* the kit's root directory */
    char *dir;          /* this exercise's directory */
    char *id, *slug, *title;
    strvec_t student_files; /* base names, e.g. pool.c */
    strvec_t reference_earns; /* bonus checks the reference earns (the kit's tests hold it to that) */
    char *solution, *skeleton, *cflags, *walkthrough;
    program_t *programs;
    size_t nprograms;
    check_t *checks;
    size_t nchecks;
    ini_t ini;
} exercise_t;

/* Finds the exercise that spec names (6, 06, ex06, mtpool, ex06-mtpool) below
 * root/exercises; NULL if none. *all gets the list for an error message. */
char *exercise_find(const char *root, const char *spec, char **all);
/* Loads dir/exercise.ini and checks it against the manifest's schema (every
 * key known, typed, in range; required keys present); exits with status 2 and
 * "file:line: reason" if it is wrong. */
void exercise_load(exercise_t *ex, const char *root, const char *dir);
/* Dies with status 2 and "file:line: ..." when a check on program p names a
 * case that p does not define; `defined` holds the names p defines. */
void exercise_check_cases(const exercise_t *ex, const program_t *p, const strvec_t *defined);
check_t *exercise_check(exercise_t *ex, const char *id);
program_t *exercise_program(exercise_t *ex, const char *name);
double exercise_max_points(const exercise_t *ex);

/* ---- one grading run ---- */


typedef struct {
    exercise_t *ex;
    char *src_dir;      /* the student's directory, absolute */
    char *src_display;  /* how the student wrote it (work/ex06), used in messages */
    char *workdir;      /* private scratch directory of this run */
    char *token;        /* random, names the records the harness writes for us */
    uint64_t seed;      /* for randomized (hidden) tests */
    bool have_valgrind, have_clang;
    double stage_seconds[NSTAGES];
    bool stage_ran[NSTAGES];
    int run_counter;    /* names scratch directories and result files */
    bool skip[NSTAGES]; /* stages not to run (--skip) */
    unsigned sandbox_uid, sandbox_gid; /* who runs student code; 0: the grader's user */
    double time_scale;  /* multiplies every time limit of student code (--timeout-scale) */
    strvec_t flags;     /* what happened, for a gradebook: timeout, crash, memory, ... */
    const char *isolation; /* how runs were isolated (run_isolation()) */
    bool hung;          /* a test of this grading hung: later test programs get HUNG_LIMIT_S */
} grading_t;

/* Records that something happened in this grading (once per word). */
void grading_flag(grading_t *g, const char *flag);

/* Stages: each judges the checks of its stage that are still pending. */
typedef struct {
    const char *name;
    void (*run)(grading_t *g);
    unsigned builds; /* BUILDS(...) of the variants its checks' programs need */
} stage_def_t;
extern const stage_def_t stage_table[NSTAGES]; /* stages.c, from ALAB_STAGES */

void stage_build(grading_t *g);
void stage_rules(grading_t *g);
void stage_tests(grading_t *g);
void stage_asan(grading_t *g);     /* tests under AddressSanitizer and UBSan */
void stage_tsan(grading_t *g);
void stage_valgrind(grading_t *g);
void stage_programs(grading_t *g); /* real programs run on a preloaded library */
void stage_measure(grading_t *g);  /* a figure (utilization...) scored between bounds */
void stage_perf(grading_t *g);
void stage_bonus(grading_t *g); /* like tests, for bonus probes, after everything else */

/* memcheck's command line, before the program and its log file (stages.c). */
extern const char *const memcheck_args[];

/* Creates a scratch directory under the run's workdir, owned by the sandbox
 * user so that the processes it runs can write there. */
void sandbox_mkdir(const grading_t *g, const char *path);

/* Marks check c failed, passed or skipped with a message (printf-style). */
void check_fail(check_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void check_pass(check_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void check_skip(check_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when c may run: pending, and every check it depends on passed. Otherwise
 * marks it skipped with the reason. */
bool check_ready(grading_t *g, check_t *c);

/* The share of a perf check's points for a median speedup m: 0 at zero_at,
 * all at full_at, linear between. */
double perf_fraction(double m, double zero_at, double full_at);
/* A measure check's share for figure v; full_at may be below zero_at when less is better. */
double measure_fraction(double v, double zero_at, double full_at);

/* A perf check's score from n rounds of speedups (student and reference;
 * both arrays are sorted in place). */
typedef struct {
    double m, mref;   /* median speedup of the student, of the reference */
    double lo, hi;    /* the student's slowest and fastest round */
    double bar, zero; /* all points at bar, none at zero: full_at and zero_at, or lowered */
    bool lowered;     /* the bar is reference_share of the reference's speedup */
    double frac;      /* the share of the points earned */
} perf_score_t;
perf_score_t perf_score(double *ratio, double *ref_ratio, size_t n, double full_at, double zero_at,
                        double share);

/* ---- the command line's options for one grading ---- */

typedef struct {
    const char *src, *json, *format, *skip;
    const char *only;         /* checks or stages to grade, with what they depend on (ONLY=) */
    const char *report;       /* also write the terminal report (no colour) to this file */
    const char *src_name;     /* how reports name the student's directory (default: --src) */
    const char *stage_lock;   /* a batch's lock file: perf stages run alone */
    unsigned long long seed;
    double time_scale;
    bool keep, quiet;
    strvec_t hide;            /* directories runs must not see */
} check_opts_t;

/* ---- reports ---- */

/* False for a check whose program this copy of the kit lacks (hidden tests in a
 * student handout): it is not graded here, neither for nor against. */
bool check_is_graded(const check_t *c);
double grading_score(const exercise_t *ex, double *max, double *bonus);
bool grading_all_passed(const exercise_t *ex);
void report_terminal(const grading_t *g, double elapsed, FILE *out, bool color);
/* Gradescope's results.json schema; returns the JSON text (caller frees). */
char *report_json(const grading_t *g, double elapsed);
/* JUnit XML and TAP 13, for CI systems (report_ci.c). */
char *report_junit(const grading_t *g, double elapsed);
char *report_tap(const grading_t *g);

#endif

/* manifest.c — reads an exercise's exercise.ini into programs and checks,
 * against one schema: the table of every key a manifest may use, its type,
 * range, default and the stages that take it. A wrong manifest stops the
 * grader (status 2, "file:line: ...") before anything is graded. */
#define _GNU_SOURCE
#include "grade.h"

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const stage_names[NSTAGES] = {
#define STAGE_NAME(id, name, builds) #name,
    ALAB_STAGES(STAGE_NAME)
#undef STAGE_NAME
};

int stage_find(const char *name)
{
    for (int i = 0; name != NULL && i < NSTAGES; i++)
        if (strcmp(name, stage_names[i]) == 0)
            return i;
    return -1;
}

bool ini_parse(const char *text, ini_t *ini, char **err)
{
    memset(ini, 0, sizeof *ini);
    ini_section_t *cur = NULL;
    const char *p = text;
    int lineno = 0;
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t n = eol != NULL ? (size_t)(eol - p) : strlen(p);
        char *raw = xstrndup(p, n);
        p += n + (eol != NULL ? 1 : 0);
        lineno++;
        char *line = str_trim(raw);
        if (line[0] == '\0' || line[0] == '#' || line[0] == ';') {
            free(raw);
            continue;
        }
        if (line[0] == '[') {
            char *close = strchr(line, ']');
            if (close == NULL) {
                *err = xasprintf("line %d: a section header needs a closing ]", lineno);
                free(raw);
                return false;
            }
            *close = '\0';
            char *inner = str_trim(line + 1);
            char *space = strpbrk(inner, " \t");
            ini->sections = xrealloc(ini->sections, (ini->nsections + 1) * sizeof *ini->sections);
            cur = &ini->sections[ini->nsections++];
            memset(cur, 0, sizeof *cur);
            cur->line = lineno;
            if (space != NULL) {
                *space = '\0';
                cur->kind = xstrdup(inner);
                cur->name = xstrdup(str_trim(space + 1));
            } else {
                cur->kind = xstrdup(inner);
                cur->name = xstrdup("");
            }
            free(raw);
            continue;
        }
        char *eq = strchr(line, '=');
        if (eq == NULL || cur == NULL) {
            *err = xasprintf("line %d: expected 'key = value' inside a [section]", lineno);
            free(raw);
            return false;
        }
        *eq = '\0';
        /* A '#' after a blank starts a comment. */
        char *value = eq + 1;
        for (char *h = strchr(value, '#'); h != NULL; h = strchr(h + 1, '#'))
            if (h > value && (h[-1] == ' ' || h[-1] == '\t')) {
                *h = '\0';
                break;
            }
        cur->pairs = xrealloc(cur->pairs, (cur->npairs + 1) * sizeof *cur->pairs);
        cur->pairs[cur->npairs].key = xstrdup(str_trim(line));
        cur->pairs[cur->npairs].value = xstrdup(str_trim(value));
        cur->pairs[cur->npairs].line = lineno;
        cur->npairs++;
        free(raw);
    }
    return true;
}

const char *ini_get(const ini_section_t *s, const char *key)
{
    for (size_t i = 0; i < s->npairs; i++)
        if (strcmp(s->pairs[i].key, key) == 0)
            return s->pairs[i].value;
    return NULL;
}

int ini_line(const ini_section_t *s, const char *key)
{
    for (size_t i = 0; i < s->npairs; i++)
        if (strcmp(s->pairs[i].key, key) == 0)
            return s->pairs[i].line;
    return s->line;
}

void ini_free(ini_t *ini)
{
    for (size_t i = 0; i < ini->nsections; i++) {
        ini_section_t *s = &ini->sections[i];
        for (size_t j = 0; j < s->npairs; j++) {
            free(s->pairs[j].key);
            free(s->pairs[j].value);
        }
        free(s->pairs);
        free(s->kind);
        free(s->name);
    }
    free(ini->sections);
    memset(ini, 0, sizeof *ini);
}

/* ---- finding an exercise ---- */

/* "exNN-slug" directories under root/exercises, sorted. */
static void list_exercises(const char *root, strvec_t *out)
{
    char *dir = path_join(root, "exercises");
    DIR *d = opendir(dir);
    free(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "ex", 2) == 0 && strlen(e->d_name) > 5 && e->d_name[4] == '-')
            sv_push(out, e->d_name);
    closedir(d);
    for (size_t i = 1; i < out->n; i++)
        for (size_t j = i; j > 0 && strcmp(out->v[j - 1], out->v[j]) > 0; j--) {
            char *t = out->v[j];
            out->v[j] = out->v[j - 1];
            out->v[j - 1] = t;
        }
}

char *exercise_find(const char *root, const char *spec, char **all)
{
    strvec_t names = {0};
    list_exercises(root, &names);
    char *found = NULL;
    char want_num[8] = "";
    const char *s = spec;
    if (strncmp(s, "ex", 2) == 0 || strncmp(s, "EX", 2) == 0)
        s += 2;
    if (s[0] >= '0' && s[0] <= '9' && (s[1] == '\0' || (s[1] >= '0' && s[1] <= '9' && s[2] == '\0')))
        snprintf(want_num, sizeof want_num, "%02d", atoi(s));
    for (size_t i = 0; i < names.n && found == NULL; i++) {
        const char *n = names.v[i]; /* exNN-slug */
        if ((want_num[0] != '\0' && strncmp(n + 2, want_num, 2) == 0) || strcmp(n + 5, spec) == 0 ||
            strcmp(n, spec) == 0)
            found = xasprintf("%s/exercises/%s", root, n);
    }
    strbuf_t sb = {0};
    for (size_t i = 0; i < names.n; i++)
        sb_printf(&sb, "%s%.2s (%s)", i ? ", " : "", names.v[i] + 2, names.v[i] + 5);
    *all = sb_take(&sb);
    sv_free(&names);
    return found;
}

/* ---- the schema: every key a manifest may use, declared once ----
 * A key belongs to one kind of section. A check's key is taken only by the
 * stages in `stages` and must be there in the stages in `required`; keys of
 * [exercise] and [program] sections are taken everywhere (ALL). A default is
 * written as a manifest would write it and parsed like one. Nothing else
 * reads a manifest's text: stages read the typed fields. */

typedef enum { KEY_STRING, KEY_WORDS, KEY_INT, KEY_NUMBER, KEY_BOOL, KEY_PATH, KEY_CHOICE } key_type_t;

typedef struct {
    const char *section; /* exercise, program, check */
    const char *key;
    key_type_t type;
    size_t offset;       /* of the field in exercise_t, program_t or check_t */
    unsigned stages;     /* the stages whose checks take it (bits of 1 << stage) */
    unsigned required;   /* the stages whose checks need it */
    double min, max;     /* int and number: the range, both included */
    const char *dflt;    /* the value when absent; NULL: none (zero) */
    const char *choices; /* choice: the words allowed */
} manifest_key_t;

#define ALL (~0u)
#define ST(s) (1u << STAGE_##s)
#define RUNS_A_PROGRAM (ALL & ~(ST(BUILD) | ST(RULES)))
#define RUNS_CASES (ST(TESTS) | ST(ASAN) | ST(TSAN) | ST(VALGRIND) | ST(BONUS))
#define EX(f) offsetof(exercise_t, f)
#define PR(f) offsetof(program_t, f)
#define CK(f) offsetof(check_t, f)

static const manifest_key_t schema[] = {
    /* section   key               type        field                   stages      required     min  max   default */
    {"exercise", "id",              KEY_STRING, EX(id),                 ALL,        ALL, 0, 0, NULL, NULL},
    {"exercise", "slug",            KEY_STRING, EX(slug),               ALL,        ALL, 0, 0, NULL, NULL},
    {"exercise", "title",           KEY_STRING, EX(title),              ALL,        0, 0, 0, NULL, NULL},
    {"exercise", "student_files",   KEY_WORDS,  EX(student_files),      ALL,        ALL, 0, 0, NULL, NULL},
    {"exercise", "solution",        KEY_PATH,   EX(solution),           ALL,        0, 0, 0, NULL, NULL},
    {"exercise", "skeleton",        KEY_PATH,   EX(skeleton),           ALL,        0, 0, 0, NULL, NULL},
    {"exercise", "cflags",          KEY_STRING, EX(cflags),             ALL,        ALL, 0, 0, NULL, NULL},
    {"exercise", "walkthrough",     KEY_PATH,   EX(walkthrough),        ALL,        0, 0, 0, NULL, NULL},
    {"exercise", "reference_earns", KEY_WORDS,  EX(reference_earns),    ALL,        0, 0, 0, NULL, NULL},

    {"program",  "kind",            KEY_CHOICE, PR(kind),               ALL,        ALL, .choices = "check main shared"},
    {"program",  "sources",         KEY_WORDS,  PR(sources),            ALL,        ALL, 0, 0, NULL, NULL},
    {"program",  "timeout",         KEY_NUMBER, PR(timeout_s),          ALL,        0,           1,   3600, "60", NULL},
    {"program",  "ldflags",         KEY_WORDS,  PR(ldflags),            ALL,        0, 0, 0, NULL, NULL},
    {"program",  "optional",        KEY_BOOL,   PR(optional),           ALL,        0,           0,   0,    "no", NULL},
    {"program",  "bench_args",      KEY_STRING, PR(bench_args),         ALL,        0, 0, 0, NULL, NULL},

    /* every check; `stage` itself is read first, as it says which keys follow */
    {"check",    "stage",           KEY_CHOICE, 0,                      ALL,        ALL, 0, 0, NULL, NULL},
    {"check",    "title",           KEY_STRING, CK(title),              ALL,        0, 0, 0, NULL, NULL},
    {"check",    "doc",             KEY_PATH,   CK(doc),                ALL,        0, 0, 0, NULL, NULL},
    {"check",    "visibility",      KEY_CHOICE, CK(visibility),         ALL,        0,           0,   0,    "visible",
     "visible hidden after_due_date after_published"},
    {"check",    "points",          KEY_NUMBER, CK(points),             ALL,        0,           0,   1000, "0", NULL},
    {"check",    "bonus",           KEY_BOOL,   CK(bonus),              ALL,        0,           0,   0,    "no", NULL},
    {"check",    "min_cpus",        KEY_INT,    CK(min_cpus),           ALL,        0,           0,   4096, "0", NULL},
    {"check",    "depends",         KEY_WORDS,  CK(depends),            ALL,        0, 0, 0, NULL, NULL},
    {"check",    "program",         KEY_STRING, 0,                      RUNS_A_PROGRAM, RUNS_A_PROGRAM, 0, 0, NULL, NULL},
    {"check",    "cases",           KEY_WORDS,  CK(cases),              RUNS_CASES, 0, 0, 0, NULL, NULL},
    /* rules */
    {"check",    "forbid",          KEY_WORDS,  CK(forbid),             ST(RULES),  0, 0, 0, NULL, NULL},
    {"check",    "forbid_sections", KEY_WORDS,  CK(forbid_sections),    ST(RULES),  0, 0, 0, NULL, NULL},
    {"check",    "forbid_source",   KEY_WORDS,  CK(forbid_source),      ST(RULES),  0, 0, 0, NULL, NULL},
    {"check",    "why",             KEY_STRING, CK(why),                ST(RULES),  0, 0, 0, NULL, NULL},
    /* sanitizers and valgrind */
    {"check",    "repeat",          KEY_INT,    CK(repeat),             ST(TSAN) | ST(ASAN), 0,  1,   100,  "1", NULL},
    {"check",    "expect_error",    KEY_STRING, CK(expect_error),       ST(VALGRIND), 0, 0, 0, NULL, NULL},
    /* real programs on a preloaded library */
    {"check",    "command",         KEY_STRING, CK(command),            ST(PROGRAMS), ST(PROGRAMS), 0, 0, NULL, NULL},
    {"check",    "served_by",       KEY_WORDS,  CK(served_by),          ST(PROGRAMS), ST(PROGRAMS), 0, 0, NULL, NULL},
    {"check",    "setup",           KEY_STRING, CK(setup),              ST(PROGRAMS), 0, 0, 0, NULL, NULL},
    {"check",    "timeout",         KEY_NUMBER, CK(timeout_s),          ST(PROGRAMS), 0,         0.1, 3600, NULL, NULL},
    /* figures: measure and perf */
    {"check",    "args",            KEY_STRING, CK(args),               ST(MEASURE) | ST(PERF), 0, 0, 0, NULL, NULL},
    {"check",    "full_at",         KEY_NUMBER, CK(full_at),            ST(MEASURE) | ST(PERF), ST(MEASURE) | ST(PERF), -1e9, 1e9, NULL, NULL},
    {"check",    "zero_at",         KEY_NUMBER, CK(zero_at),            ST(MEASURE) | ST(PERF), ST(MEASURE) | ST(PERF), -1e9, 1e9, NULL, NULL},
    {"check",    "metric",          KEY_STRING, CK(metric),             ST(MEASURE), ST(MEASURE), 0, 0, NULL, NULL},
    {"check",    "rounds",          KEY_INT,    CK(rounds),             ST(PERF),   0,           1,   99,   "5", NULL},
    {"check",    "best_of",         KEY_INT,    CK(best_of),            ST(PERF),   0,           1,   20,   "1", NULL},
    {"check",    "reference_share", KEY_NUMBER, CK(reference_share),    ST(PERF),   0,           0,   1,    "0.75", NULL},
    {"check",    "advice",          KEY_STRING, CK(advice),             ST(PERF),   0, 0, 0, NULL, NULL},
    {"check",    "baseline_name",   KEY_STRING, CK(baseline_name),      ST(PERF),   0, 0, 0, NULL, NULL},
};

static const manifest_key_t *schema_key(const char *section, const char *key)
{
    for (size_t i = 0; i < sizeof schema / sizeof *schema; i++)
        if (strcmp(schema[i].section, section) == 0 && strcmp(schema[i].key, key) == 0)
            return &schema[i];
    return NULL;
}

/* The keys a section of this kind (and stage, for a check) takes, for a message. */
static char *schema_keys(const char *section, unsigned stage_bit)
{
    strbuf_t sb = {0};
    for (size_t i = 0; i < sizeof schema / sizeof *schema; i++)
        if (strcmp(schema[i].section, section) == 0 && (schema[i].stages & stage_bit) != 0)
            sb_printf(&sb, "%s%s", sb.len ? ", " : "", schema[i].key);
    return sb_take(&sb);
}

static bool is_word_of(const char *word, const char *words)
{
    size_t n = strlen(word);
    for (const char *p = words; (p = strstr(p, word)) != NULL; p += n)
        if ((p == words || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return true;
    return false;
}

/* Parses text as key k's value into the field at `field`; NULL when it is
 * good, else why not (caller frees). */
static char *key_parse(const manifest_key_t *k, const char *text, void *field)
{
    char *end;
    switch (k->type) {
    case KEY_STRING:
    case KEY_CHOICE:
    case KEY_PATH:
        if (k->type == KEY_CHOICE && !is_word_of(text, k->choices))
            return xasprintf("'%s' is not one of: %s", text, k->choices);
        if (k->type == KEY_PATH && (text[0] == '\0' || text[0] == '/' || strstr(text, "..") != NULL))
            return xasprintf("'%s' is not a path inside the kit", text);
        free(*(char **)field);
        *(char **)field = xstrdup(text);
        return NULL;
    case KEY_WORDS:
        sv_push_words((strvec_t *)field, text);
        return NULL;
    case KEY_BOOL:
        if (strcmp(text, "yes") != 0 && strcmp(text, "no") != 0)
            return xasprintf("'%s' is not yes or no", text);
        *(bool *)field = strcmp(text, "yes") == 0;
        return NULL;
    case KEY_INT:
    case KEY_NUMBER: {
        double d = k->type == KEY_INT ? (double)strtol(text, &end, 10) : strtod(text, &end);
        if (end == text || *end != '\0' || d != d)
            return xasprintf("'%s' is not %s", text, k->type == KEY_INT ? "a whole number" : "a number");
        if (d < k->min || d > k->max)
            return xasprintf("%s is out of range (%g to %g)", text, k->min, k->max);
        if (k->type == KEY_INT)
            *(int *)field = (int)d;
        else
            *(double *)field = d;
        return NULL;
    }
    }
    return NULL;
}

/* Reads section s of kind `section` into base (stage: the check's, or -1)
 * against the schema; dies with "file:line: ..." at the first wrong key. */
static void load_keys(const char *path, const ini_section_t *s, int stage, void *base)
{
    unsigned bit = stage < 0 ? ALL : 1u << stage;
    const char *where = stage < 0 ? "" : " in stage ";
    for (size_t i = 0; i < s->npairs; i++) {
        const ini_pair_t *pair = &s->pairs[i];
        const manifest_key_t *k = schema_key(s->kind, pair->key);
        if (k == NULL || (k->stages & bit) == 0) {
            char *keys = schema_keys(s->kind, bit);
            die("%s:%d: [%s%s%s] unknown key '%s'%s%s: the keys are %s", path, pair->line, s->kind,
                s->name[0] ? " " : "", s->name, pair->key, where, stage < 0 ? "" : stage_names[stage],
                keys);
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->pairs[j].key, pair->key) == 0)
                die("%s:%d: [%s %s] %s is set twice (first on line %d)", path, pair->line, s->kind,
                    s->name, pair->key, s->pairs[j].line);
    }
    for (size_t i = 0; i < sizeof schema / sizeof *schema; i++) {
        const manifest_key_t *k = &schema[i];
        if (strcmp(k->section, s->kind) != 0 || (k->stages & bit) == 0)
            continue;
        const char *v = ini_get(s, k->key);
        if (v == NULL && (k->required & bit) != 0)
            die("%s:%d: [%s%s%s] needs %s = ...%s%s", path, s->line, s->kind, s->name[0] ? " " : "",
                s->name, k->key, where, stage < 0 ? "" : stage_names[stage]);
        if (k->offset == 0 || (v == NULL && k->dflt == NULL))
            continue; /* offset 0: read by the caller (stage, program) */
        char *why = key_parse(k, v != NULL ? v : k->dflt, (char *)base + k->offset);
        if (why != NULL)
            die("%s:%d: [%s%s%s] %s = %s", path, v != NULL ? ini_line(s, k->key) : s->line, s->kind,
                s->name[0] ? " " : "", s->name, k->key, why);
    }
}

/* ---- loading ---- */

static void bad_manifest(const char *path, int line, const char *fmt, const char *what)
{
    die("%s:%d: %s%s", path, line, fmt, what != NULL ? what : "");
}

static void load_program(exercise_t *ex, const char *path, const ini_section_t *s, program_t *p)
{
    memset(p, 0, sizeof *p);
    p->name = xstrdup(s->name);
    load_keys(path, s, -1, p);
    p->is_check = strcmp(p->kind, "check") == 0;
    p->is_shared = strcmp(p->kind, "shared") == 0;
    strvec_t rel = p->sources;
    memset(&p->sources, 0, sizeof p->sources);
    p->available = true;
    for (size_t i = 0; i < rel.n; i++) {
        /* grader/... and exercises/... name kit files shared between exercises */
        bool kit = str_starts_with(rel.v[i], "grader/") || str_starts_with(rel.v[i], "exercises/");
        char *abs = path_join(kit ? ex->root : ex->dir, rel.v[i]);
        if (!is_file(abs))
            p->available = false;
        sv_push(&p->sources, abs);
        free(abs);
    }
    sv_free(&rel);
    if (!p->available && !p->optional)
        bad_manifest(path, ini_line(s, "sources"), "a source of this program is missing: ", s->name);
}

static void load_check(exercise_t *ex, const char *path, const ini_section_t *s, check_t *c)
{
    memset(c, 0, sizeof *c);
    c->sec = s;
    c->id = xstrdup(s->name);
    const char *stage = ini_get(s, "stage");
    int st = stage_find(stage);
    if (st < 0) {
        strbuf_t names = {0};
        for (int i = 0; i < NSTAGES; i++)
            sb_printf(&names, "%s%s", i ? " " : "", stage_names[i]);
        die("%s:%d: [check %s] %s: the stages are %s", path, ini_line(s, "stage"), s->name,
            stage == NULL ? "needs stage = ..." : "unknown stage", names.s);
    }
    c->stage = (stage_t)st;
    load_keys(path, s, st, c);
    if (c->title == NULL)
        c->title = xstrdup(s->name);
    if (c->stage != STAGE_BUILD && !sv_contains(&c->depends, "build"))
        sv_push(&c->depends, "build");
    const char *prog = ini_get(s, "program");
    if (prog != NULL) {
        c->program = exercise_program(ex, prog);
        if (c->program == NULL)
            bad_manifest(path, ini_line(s, "program"), "no [program] of that name: ", prog);
        if (c->program->is_check && c->cases.n == 0)
            bad_manifest(path, s->line, "a check on a Check program needs cases: ", s->name);
    }
}

void exercise_load(exercise_t *ex, const char *root, const char *dir)
{
    memset(ex, 0, sizeof *ex);
    ex->root = xstrdup(root);
    ex->dir = xstrdup(dir);
    char *path = path_join(dir, "exercise.ini");
    char *text = read_file(path, NULL);
    if (text == NULL)
        die("%s: cannot read the exercise's manifest", path);
    char *err = NULL;
    if (!ini_parse(text, &ex->ini, &err))
        die("%s: %s", path, err);
    free(text);

    const ini_section_t *head = NULL;
    size_t nprog = 0, ncheck = 0;
    for (size_t i = 0; i < ex->ini.nsections; i++) {
        const ini_section_t *s = &ex->ini.sections[i];
        if (strcmp(s->kind, "exercise") == 0 && head == NULL)
            head = s;
        else if (strcmp(s->kind, "program") == 0)
            nprog++;
        else if (strcmp(s->kind, "check") == 0)
            ncheck++;
        else
            bad_manifest(path, s->line, "unknown section kind (or a second [exercise]): ", s->kind);
    }
    if (head == NULL)
        die("%s: no [exercise] section", path);
    load_keys(path, head, -1, ex);
    if (ex->title == NULL)
        ex->title = xstrdup(ex->slug);
    /* paths of the kit, made absolute */
    char *rel[] = {ex->solution, ex->skeleton, ex->walkthrough};
    ex->solution = path_join(root, rel[0] != NULL ? rel[0] : "");
    ex->skeleton = path_join(root, rel[1] != NULL ? rel[1] : "");
    ex->walkthrough = rel[2] != NULL ? path_join(root, rel[2]) : NULL;
    for (size_t i = 0; i < 3; i++)
        free(rel[i]);

    ex->programs = xcalloc(nprog, sizeof *ex->programs);
    ex->checks = xcalloc(ncheck, sizeof *ex->checks);
    for (size_t i = 0; i < ex->ini.nsections; i++) {
        const ini_section_t *s = &ex->ini.sections[i];
        if (strcmp(s->kind, "program") == 0) {
            if (exercise_program(ex, s->name) != NULL)
                bad_manifest(path, s->line, "two programs with the same name: ", s->name);
            load_program(ex, path, s, &ex->programs[ex->nprograms++]);
        }
    }
    for (size_t i = 0; i < ex->ini.nsections; i++) {
        const ini_section_t *s = &ex->ini.sections[i];
        if (strcmp(s->kind, "check") == 0) {
            if (exercise_check(ex, s->name) != NULL)
                bad_manifest(path, s->line, "two checks with the same id: ", s->name);
            load_check(ex, path, s, &ex->checks[ex->nchecks++]);
        }
    }
    for (size_t i = 0; i < ex->nchecks; i++) {
        const check_t *c = &ex->checks[i];
        for (size_t j = 0; j < c->depends.n; j++) {
            const check_t *d = exercise_check(ex, c->depends.v[j]);
            int line = ini_line(c->sec, "depends");
            if (d == NULL)
                die("%s:%d: check %s depends on %s, which is not a check", path, line, c->id,
                    c->depends.v[j]);
            if (d->stage >= c->stage)
                die("%s:%d: check %s (stage %s) depends on %s, which is judged in stage %s, not "
                    "before it",
                    path, line, c->id, stage_names[c->stage], d->id, stage_names[d->stage]);
        }
    }
    free(path);
}

void exercise_check_cases(const exercise_t *ex, const program_t *p, const strvec_t *defined)
{
    for (size_t i = 0; i < ex->nchecks; i++) {
        const check_t *c = &ex->checks[i];
        for (size_t k = 0; c->program == p && k < c->cases.n; k++) {
            if (sv_contains(defined, c->cases.v[k]))
                continue;
            strbuf_t all = {0};
            for (size_t j = 0; j < defined->n; j++)
                sb_printf(&all, "%s%s", j ? " " : "", defined->v[j]);
            die("%s/exercise.ini:%d: [check %s] cases = ... names '%s', which the test program %s "
                "does not define (it defines: %s)",
                ex->dir, ini_line(c->sec, "cases"), c->id, c->cases.v[k], p->name,
                all.len ? all.s : "nothing");
        }
    }
}

check_t *exercise_check(exercise_t *ex, const char *id)
{
    for (size_t i = 0; i < ex->nchecks; i++)
        if (strcmp(ex->checks[i].id, id) == 0)
            return &ex->checks[i];
    return NULL;
}

program_t *exercise_program(exercise_t *ex, const char *name)
{
    for (size_t i = 0; i < ex->nprograms; i++)
        if (strcmp(ex->programs[i].name, name) == 0)
            return &ex->programs[i];
    return NULL;
}

double exercise_max_points(const exercise_t *ex)
{
    double max = 0;
    for (size_t i = 0; i < ex->nchecks; i++)
        if (!ex->checks[i].bonus)
            max += ex->checks[i].points;
    return max;
}

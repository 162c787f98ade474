/* manifest.c — reads an exercise's exercise.ini into programs and checks. */
#define _GNU_SOURCE
#include "grade.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In the order they run: a check may depend only on checks of earlier stages. */
static const char *const known_stages[] = {"build", "rules",    "tests",   "asan", "tsan",
                                           "valgrind", "programs", "measure", "perf", "bonus"};

static int stage_index(const char *stage)
{
    for (int i = 0; i < (int)(sizeof known_stages / sizeof *known_stages); i++)
        if (strcmp(stage, known_stages[i]) == 0)
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

/* ---- loading ---- */

static void bad_manifest(const char *path, int line, const char *fmt, const char *what)
{
    die("%s:%d: %s%s", path, line, fmt, what != NULL ? what : "");
}

static double number_or_die(const char *path, const ini_section_t *s, const char *key, double dflt)
{
    const char *v = ini_get(s, key);
    if (v == NULL)
        return dflt;
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || d < 0)
        die("%s:%d: [%s %s] %s = '%s' is not a number", path, s->line, s->kind, s->name, key, v);
    return d;
}

static void load_program(exercise_t *ex, const char *path, const ini_section_t *s, program_t *p)
{
    memset(p, 0, sizeof *p);
    p->name = xstrdup(s->name);
    const char *kind = ini_get(s, "kind");
    if (kind == NULL ||
        (strcmp(kind, "check") != 0 && strcmp(kind, "main") != 0 && strcmp(kind, "shared") != 0))
        bad_manifest(path, s->line, "a program needs kind = check, main or shared: ", s->name);
    p->is_check = strcmp(kind, "check") == 0;
    p->is_shared = strcmp(kind, "shared") == 0;
    strvec_t rel = {0};
    sv_push_words(&rel, ini_get(s, "sources"));
    if (rel.n == 0)
        bad_manifest(path, s->line, "a program needs sources: ", s->name);
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
    p->timeout_s = number_or_die(path, s, "timeout", 60);
    sv_push_words(&p->ldflags, ini_get(s, "ldflags"));
    const char *opt = ini_get(s, "optional");
    p->optional = opt != NULL && strcmp(opt, "yes") == 0;
    if (!p->available && !p->optional)
        bad_manifest(path, s->line, "a source of this program is missing: ", s->name);
}

static void load_check(exercise_t *ex, const char *path, const ini_section_t *s, check_t *c)
{
    memset(c, 0, sizeof *c);
    c->sec = s;
    c->id = xstrdup(s->name);
    const char *stage = ini_get(s, "stage");
    bool known = false;
    for (size_t i = 0; stage != NULL && i < sizeof known_stages / sizeof *known_stages; i++)
        known |= strcmp(stage, known_stages[i]) == 0;
    if (!known)
        bad_manifest(path, s->line, "unknown or missing stage in check ", s->name);
    c->stage = xstrdup(stage);
    const char *title = ini_get(s, "title");
    c->title = xstrdup(title != NULL ? title : s->name);
    const char *doc = ini_get(s, "doc");
    c->doc = doc != NULL ? xstrdup(doc) : NULL;
    const char *vis = ini_get(s, "visibility");
    c->visibility = xstrdup(vis != NULL ? vis : "visible");
    c->points = number_or_die(path, s, "points", 0);
    const char *bonus = ini_get(s, "bonus");
    c->bonus = bonus != NULL && strcmp(bonus, "yes") == 0;
    c->min_cpus = (int)number_or_die(path, s, "min_cpus", 0);
    sv_push_words(&c->depends, ini_get(s, "depends"));
    if (strcmp(c->stage, "build") != 0 && !sv_contains(&c->depends, "build"))
        sv_push(&c->depends, "build");
    sv_push_words(&c->cases, ini_get(s, "cases"));
    const char *prog = ini_get(s, "program");
    if (prog != NULL) {
        c->program = exercise_program(ex, prog);
        if (c->program == NULL)
            bad_manifest(path, s->line, "no [program] of that name: ", prog);
        if (c->program->is_check && c->cases.n == 0)
            bad_manifest(path, s->line, "a check on a Check program needs cases: ", s->name);
    } else if (strcmp(c->stage, "build") != 0 && strcmp(c->stage, "rules") != 0) {
        bad_manifest(path, s->line, "this stage needs program = ...: ", s->name);
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
        if (strcmp(s->kind, "exercise") == 0)
            head = s;
        else if (strcmp(s->kind, "program") == 0)
            nprog++;
        else if (strcmp(s->kind, "check") == 0)
            ncheck++;
        else
            bad_manifest(path, s->line, "unknown section kind: ", s->kind);
    }
    if (head == NULL)
        die("%s: no [exercise] section", path);
    const char *keys[] = {"id", "slug", "student_files", "cflags"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (ini_get(head, keys[i]) == NULL)
            bad_manifest(path, head->line, "[exercise] needs ", keys[i]);
    ex->id = xstrdup(ini_get(head, "id"));
    ex->slug = xstrdup(ini_get(head, "slug"));
    const char *title = ini_get(head, "title");
    ex->title = xstrdup(title != NULL ? title : ex->slug);
    sv_push_words(&ex->student_files, ini_get(head, "student_files"));
    ex->cflags = xstrdup(ini_get(head, "cflags"));
    const char *v;
    ex->solution = path_join(root, (v = ini_get(head, "solution")) != NULL ? v : "");
    ex->skeleton = path_join(root, (v = ini_get(head, "skeleton")) != NULL ? v : "");
    ex->walkthrough = (v = ini_get(head, "walkthrough")) != NULL ? path_join(root, v) : NULL;

    ex->programs = xcalloc(nprog, sizeof *ex->programs);
    ex->checks = xcalloc(ncheck, sizeof *ex->checks);
    for (size_t i = 0; i < ex->ini.nsections; i++) {
        const ini_section_t *s = &ex->ini.sections[i];
        if (strcmp(s->kind, "program") == 0)
            load_program(ex, path, s, &ex->programs[ex->nprograms++]);
    }
    for (size_t i = 0; i < ex->ini.nsections; i++) {
        const ini_section_t *s = &ex->ini.sections[i];
        if (strcmp(s->kind, "check") == 0) {
            if (exercise_check(ex, s->name) != NULL)
                bad_manifest(path, s->line, "two checks with the same id: ", s->name);
            load_check(ex, path, s, &ex->checks[ex->nchecks++]);
        }
    }
    for (size_t i = 0; i < ex->nchecks; i++)
        for (size_t j = 0; j < ex->checks[i].depends.n; j++) {
            const check_t *d = exercise_check(ex, ex->checks[i].depends.v[j]);
            if (d == NULL)
                die("%s: check %s depends on %s, which is not a check", path, ex->checks[i].id,
                    ex->checks[i].depends.v[j]);
            if (stage_index(d->stage) >= stage_index(ex->checks[i].stage))
                die("%s: check %s (stage %s) depends on %s, which is judged in stage %s, not "
                    "before it",
                    path, ex->checks[i].id, ex->checks[i].stage, d->id, d->stage);
        }
    free(path);
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

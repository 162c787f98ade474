/* diag.c — read compiler, ThreadSanitizer and memcheck reports and keep the part
 * a student needs: what broke, and where in their file. */
#define _GNU_SOURCE
#include "diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_free(diag_t *d)
{
    free(d->message);
    free(d->where);
    free(d->details);
    d->message = d->where = d->details = NULL;
}

/* The lines of text, as a vector (copies). */
static void split_lines(const char *text, strvec_t *lines)
{
    const char *p = text;
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t n = eol != NULL ? (size_t)(eol - p) : strlen(p);
        char *l = xstrndup(p, n);
        sv_push(lines, l);
        free(l);
        p += n + (eol != NULL ? 1 : 0);
    }
}

static bool is_student_file(const char *file, const strvec_t *student_files)
{
    return sv_contains(student_files, path_basename(file));
}

/* ---- compiler ---- */

bool diag_compiler(const char *output, const strvec_t *student_files, diag_t *out)
{
    memset(out, 0, sizeof *out);
    strvec_t lines = {0};
    split_lines(output, &lines);
    ssize_t first = -1;
    /* a link fails with "undefined reference to" lines, then collect2's "error: ld returned 1" */
    const char *markers[] = {"undefined reference to",
                             ": error: ", ": fatal error: ", ": warning: "};
    for (size_t m = 0; m < sizeof markers / sizeof *markers && first < 0; m++)
        for (size_t i = 0; i < lines.n && first < 0; i++)
            if (strstr(lines.v[i], markers[m]) != NULL)
                first = (ssize_t)i;
    if (first < 0) {
        sv_free(&lines);
        return false;
    }
    const char *l = lines.v[first];
    /* "file:line:col: error: text" */
    char file[512] = "";
    int line = 0;
    if (sscanf(l, "%511[^:]:%d:", file, &line) == 2 && is_student_file(file, student_files))
        out->where = xasprintf("%s:%d", file, line);
    const char *msg = strstr(l, ": error: ");
    if (msg == NULL)
        msg = strstr(l, ": fatal error: ");
    if (msg != NULL)
        out->message = xstrdup(msg + 2);
    else if (strstr(l, "undefined reference to") != NULL)
        out->message = xstrdup(strstr(l, "undefined reference to"));
    else
        out->message = xstrdup(l);
    strbuf_t sb = {0};
    for (size_t i = (size_t)first; i < lines.n && i < (size_t)first + 8; i++)
        sb_printf(&sb, "%s\n", lines.v[i]);
    out->details = sb_take(&sb);
    sv_free(&lines);
    return true;
}

/* ---- ThreadSanitizer ---- */

typedef struct {
    char *func, *file;
    int line;
} frame_t;

/* "    #0 pool_alloc work/ex06/pool.c:42:15 (test+0x1234)" */
static bool parse_tsan_frame(const char *l, frame_t *f)
{
    const char *p = l;
    while (*p == ' ')
        p++;
    if (p[0] != '#' || p[1] < '0' || p[1] > '9')
        return false;
    char func[256], loc[512];
    if (sscanf(p, "#%*d %255s %511s", func, loc) != 2)
        return false;
    f->func = xstrdup(func);
    char *colon = strchr(loc, ':');
    f->line = 0;
    if (loc[0] != '(' && colon != NULL) {
        f->line = atoi(colon + 1);
        *colon = '\0';
    }
    f->file = xstrdup(loc);
    return true;
}

static void frame_free(frame_t *f)
{
    free(f->func);
    free(f->file);
}

/* One access (or other stack) of a TSan report: its header line and the first
 * frame in the student's code (else the first frame). */
typedef struct {
    char *header;
    frame_t top;
    bool have_top, top_is_student;
} tsan_stack_t;

static char *lowercase_first(const char *s)
{
    char *c = xstrdup(s);
    if (c[0] >= 'A' && c[0] <= 'Z')
        c[0] = (char)(c[0] - 'A' + 'a');
    return c;
}

bool diag_tsan(const char *text, const strvec_t *student_files, diag_t *out)
{
    memset(out, 0, sizeof *out);
    const char *start = strstr(text, "WARNING: ThreadSanitizer: ");
    if (start == NULL)
        return false;
    strvec_t lines = {0};
    split_lines(start, &lines);

    char kind[256] = "";
    sscanf(lines.v[0], "WARNING: ThreadSanitizer: %255[^(\n]", kind);
    char *k = str_trim(kind);

    tsan_stack_t stacks[2] = {0};
    int nstacks = 0, cur = -1;
    strbuf_t details = {0};
    sb_printf(&details, "%s\n", lines.v[0]);
    int shown_frames = 0;
    for (size_t i = 1; i < lines.n; i++) {
        const char *l = lines.v[i];
        if (str_starts_with(l, "SUMMARY:") || str_starts_with(l, "=================="))
            break;
        frame_t f;
        if (l[0] == ' ' && l[1] == ' ' && l[2] != ' ' && l[2] != '\0') {
            /* a stack header: "  Write of size 8 at 0x... by thread T2:" */
            cur = -1;
            if (nstacks < 2 && strstr(l, " of size ") != NULL) {
                cur = nstacks++;
                stacks[cur].header = xstrdup(l + 2);
                char *colon = strrchr(stacks[cur].header, ':');
                if (colon != NULL)
                    *colon = '\0';
                sb_printf(&details, "%s\n", l);
                shown_frames = 0;
            }
        } else if (cur >= 0 && parse_tsan_frame(l, &f)) {
            bool student = is_student_file(f.file, student_files);
            if (!stacks[cur].have_top || (student && !stacks[cur].top_is_student)) {
                if (stacks[cur].have_top)
                    frame_free(&stacks[cur].top);
                stacks[cur].top = f;
                stacks[cur].have_top = true;
                stacks[cur].top_is_student = student;
            } else {
                frame_free(&f);
            }
            if (shown_frames++ < 3)
                sb_printf(&details, "%s\n", l);
        }
    }
    /* "Write of size 8 at 0x7b.. by thread T2" -> "write of size 8 by thread T2" */
    char *desc[2] = {NULL, NULL};
    for (int s = 0; s < nstacks; s++) {
        char *h = lowercase_first(stacks[s].header);
        char *at = strstr(h, " at 0x");
        char *by = strstr(h, " by ");
        if (at != NULL && by != NULL && by > at)
            memmove(at, by, strlen(by) + 1);
        if (stacks[s].have_top)
            desc[s] = xasprintf("%s at %s:%d (%s)", h, stacks[s].top.file, stacks[s].top.line,
                                stacks[s].top.func);
        else
            desc[s] = xstrdup(h);
        free(h);
    }
    if (strcmp(k, "data race") == 0 && nstacks == 2) {
        out->message = xasprintf("data race: %s, and %s; two threads touched the same memory, "
                                 "at least one writing, with no lock ordering them",
                                 desc[0], desc[1]);
    } else if (nstacks >= 1) {
        out->message = xasprintf("ThreadSanitizer: %s: %s", k, desc[0]);
    } else {
        out->message = xasprintf("ThreadSanitizer: %s", k);
    }
    for (int s = 0; s < nstacks && out->where == NULL; s++)
        if (stacks[s].have_top && stacks[s].top_is_student)
            out->where = xasprintf("%s:%d", stacks[s].top.file, stacks[s].top.line);
    out->details = sb_take(&details);
    for (int s = 0; s < nstacks; s++) {
        free(desc[s]);
        free(stacks[s].header);
        if (stacks[s].have_top)
            frame_free(&stacks[s].top);
    }
    sv_free(&lines);
    return true;
}

/* ---- AddressSanitizer and UBSan ---- */

/* "    #1 0x55d5c4 in bump_alloc work/ex01/bump.c:42:7" (a frame without
 * source ends in "(module+0x...)") */
static bool parse_asan_frame(const char *l, frame_t *f)
{
    const char *p = l;
    while (*p == ' ')
        p++;
    if (p[0] != '#' || p[1] < '0' || p[1] > '9')
        return false;
    char func[256] = "?", loc[512] = "";
    if (sscanf(p, "#%*d %*s in %255s %511s", func, loc) < 1)
        return false;
    f->func = xstrdup(func);
    f->line = 0;
    char *colon = strchr(loc, ':');
    if (loc[0] != '(' && colon != NULL) {
        f->line = atoi(colon + 1);
        *colon = '\0';
    }
    f->file = xstrdup(loc[0] == '(' ? "" : loc);
    return true;
}

bool diag_asan(const char *text, const strvec_t *student_files, diag_t *out)
{
    memset(out, 0, sizeof *out);
    const char *asan = strstr(text, "ERROR: AddressSanitizer: ");
    const char *ub = strstr(text, ": runtime error: ");
    if (asan == NULL && ub == NULL)
        return false;
    bool is_ub = ub != NULL && (asan == NULL || ub < asan);
    const char *start = is_ub ? ub : asan;
    while (start > text && start[-1] != '\n')
        start--;
    strvec_t lines = {0};
    split_lines(start, &lines);
    strbuf_t details = {0};
    frame_t top = {0};
    bool have_top = false, top_student = false;
    char *access = NULL, *region = NULL;
    for (size_t i = 0; i < lines.n; i++) {
        const char *l = lines.v[i];
        if (i > 0 &&
            (str_starts_with(l, "SUMMARY:") || strstr(l, "allocated by thread") != NULL ||
             strstr(l, "freed by thread") != NULL || strstr(l, "previously allocated") != NULL))
            break;
        if (i < 12)
            sb_printf(&details, "%s\n", l);
        frame_t f;
        if (parse_asan_frame(l, &f)) {
            bool student = f.file[0] != '\0' && is_student_file(f.file, student_files);
            if (!have_top || (student && !top_student)) {
                if (have_top)
                    frame_free(&top);
                top = f;
                have_top = true;
                top_student = student;
            } else {
                frame_free(&f);
            }
        } else if (access == NULL &&
                   (str_starts_with(l, "READ of size") || str_starts_with(l, "WRITE of size"))) {
            access = xasprintf("%s%s", l[0] == 'R' ? "read" : "write", strchr(l, ' '));
            char *at = strstr(access, " at 0x");
            if (at != NULL)
                *at = '\0';
        } else if (region == NULL && strstr(l, " is located ") != NULL) {
            const char *r = strstr(l, " is located ") + strlen(" is located ");
            region = xstrdup(r);
            char *br = strstr(region, " [0x");
            if (br != NULL)
                *br = '\0';
        }
    }
    if (is_ub) {
        /* "work/ex01/bump.c:42:20: runtime error: store to misaligned address ..." */
        char *loc =
            xstrndup(lines.v[0], (size_t)(strstr(lines.v[0], ": runtime error: ") - lines.v[0]));
        const char *what = strstr(lines.v[0], ": runtime error: ") + strlen(": runtime error: ");
        char *colon = strchr(loc, ':');
        int line = colon != NULL ? atoi(colon + 1) : 0;
        if (colon != NULL)
            *colon = '\0';
        if (is_student_file(loc, student_files))
            out->where = xasprintf("%s:%d", loc, line);
        else if (have_top && top_student)
            out->where = xasprintf("%s:%d", top.file, top.line);
        out->message = xasprintf("undefined behaviour at %s:%d%s%s: %s", loc, line,
                                 have_top ? " in " : "", have_top ? top.func : "", what);
        free(loc);
    } else {
        char kind[256] = "";
        sscanf(strstr(lines.v[0], "ERROR: AddressSanitizer: ") +
                   strlen("ERROR: AddressSanitizer: "),
               "%255s", kind);
        strbuf_t m = {0};
        sb_printf(&m, "AddressSanitizer: %s", kind);
        if (access != NULL)
            sb_printf(&m, ": %s", access);
        if (have_top && top.file[0] != '\0')
            sb_printf(&m, " at %s:%d (%s)", top.file, top.line, top.func);
        else if (have_top)
            sb_printf(&m, " in %s", top.func);
        if (region != NULL)
            sb_printf(&m, "; the address is %s", region);
        out->message = sb_take(&m);
        if (have_top && top_student)
            out->where = xasprintf("%s:%d", top.file, top.line);
    }
    out->details = sb_take(&details);
    if (have_top)
        frame_free(&top);
    free(access);
    free(region);
    sv_free(&lines);
    return true;
}

/* ---- Valgrind memcheck ---- */

/* Strips the "==1234== " prefix; returns NULL for lines without it. */
static const char *vg_body(const char *l)
{
    if (l[0] != '=' || l[1] != '=')
        return NULL;
    const char *p = strstr(l + 2, "==");
    if (p == NULL)
        return NULL;
    p += 2;
    return *p == ' ' ? p + 1 : p;
}

/* "   at 0x10923C: main (exercises/x/vg_uaf.c:20)" or "by 0x..: f (in /lib/x.so)" */
static bool parse_vg_frame(const char *body, frame_t *f)
{
    const char *p = body;
    while (*p == ' ')
        p++;
    if (!str_starts_with(p, "at 0x") && !str_starts_with(p, "by 0x"))
        return false;
    const char *colon = strstr(p, ": ");
    if (colon == NULL)
        return false;
    const char *func = colon + 2;
    const char *paren = strrchr(func, '(');
    f->func =
        xstrndup(func, paren != NULL && paren > func ? (size_t)(paren - func - 1) : strlen(func));
    f->file = xstrdup("");
    f->line = 0;
    if (paren != NULL && !str_starts_with(paren, "(in ")) {
        char *loc = xstrdup(paren + 1);
        char *close = strrchr(loc, ')');
        if (close != NULL)
            *close = '\0';
        char *c = strrchr(loc, ':');
        if (c != NULL) {
            f->line = atoi(c + 1);
            *c = '\0';
        }
        free(f->file);
        f->file = loc;
    }
    return true;
}

/* Which frame of an error's stack says most to a student: one in their code,
 * then one in an exercise's test (it shows what the test was doing), then one
 * in the kit's harness helpers, then one in a library (memset). */
static int frame_rank(const frame_t *f, bool student)
{
    if (student)
        return 3;
    if (f->file[0] == '\0')
        return 0;
    return strstr(f->file, "grader/harness/") != NULL ? 1 : 2;
}

/* " at file:line (func)", or " in func" for a frame without a source file. */
static void frame_append(strbuf_t *sb, const char *sep, const frame_t *f)
{
    if (f->file[0] != '\0')
        sb_printf(sb, "%s at %s:%d (%s)", sep, f->file, f->line, f->func);
    else
        sb_printf(sb, "%s in %s", sep, f->func);
}

/* Error blocks: an unindented line followed by an "at 0x" frame. */
typedef struct {
    char *kind;    /* "Invalid write of size 1" */
    char *address; /* "Address 0x.. is 32 bytes inside a block of size 64 free'd", or NULL */
    frame_t first; /* first student frame of the error's own stack, else its first
                      frame with a source file, else its top */
    bool have_first, first_is_student;
    frame_t aux; /* first student frame of the stack under "Address ..." */
    bool have_aux;
} vg_error_t;

static void vg_error_free(vg_error_t *e)
{
    free(e->kind);
    free(e->address);
    if (e->have_first)
        frame_free(&e->first);
    if (e->have_aux)
        frame_free(&e->aux);
}

/* Reads the error block starting at lines[*i]; false if none starts there. */
static bool vg_read_error(const strvec_t *lines, size_t *i, const strvec_t *student_files,
                          vg_error_t *e, strbuf_t *details)
{
    const char *body = vg_body(lines->v[*i]);
    if (body == NULL || body[0] == ' ' || body[0] == '\0' || *i + 1 >= lines->n)
        return false;
    const char *next = vg_body(lines->v[*i + 1]);
    /* A fatal signal has one line of its own before the stack:
     * "Process terminating with default action of signal 8 (SIGFPE)"
     * " Integer divide by zero at address 0x1002DE3A20" */
    const char *cause = NULL;
    frame_t f;
    if (next != NULL && str_starts_with(body, "Process terminating") && next[0] == ' ' &&
        !parse_vg_frame(next, &f) && *i + 2 < lines->n) {
        cause = next;
        next = vg_body(lines->v[*i + 2]);
    }
    if (next == NULL || !parse_vg_frame(next, &f))
        return false;
    frame_free(&f);
    memset(e, 0, sizeof *e);
    if (cause != NULL) {
        while (*cause == ' ')
            cause++;
        e->kind = xasprintf("%s: %s", body, cause);
    } else {
        e->kind = xstrdup(body);
    }
    sb_printf(details, "%s\n", e->kind);
    int section = 0, shown = 0; /* 0: the error's own stack, 1: under "Address"/"Block" */
    for ((*i)++; *i < lines->n; (*i)++) {
        const char *b = vg_body(lines->v[*i]);
        if (b == NULL || b[0] == '\0')
            break;
        if (parse_vg_frame(b, &f)) {
            bool student = is_student_file(f.file, student_files);
            if (section == 0 &&
                (!e->have_first ||
                 frame_rank(&f, student) > frame_rank(&e->first, e->first_is_student))) {
                if (e->have_first)
                    frame_free(&e->first);
                e->first = f;
                e->have_first = true;
                e->first_is_student = student;
            } else if (section == 1 && student && !e->have_aux) {
                e->aux = f;
                e->have_aux = true;
            } else {
                frame_free(&f);
            }
            if (shown++ < 4)
                sb_printf(details, "%s\n", b);
        } else if (b[0] == ' ' && str_starts_with(b + 1, "Address ")) {
            section = 1;
            if (e->address == NULL)
                e->address = xstrdup(b + 1);
            sb_printf(details, "%s\n", b);
            shown = 0;
        } else if (b[0] == ' ' && str_starts_with(b + 1, "Block was alloc'd")) {
            section = 2;
        } else if (b[0] != ' ') {
            break;
        }
    }
    return true;
}

bool diag_valgrind(const char *text, const strvec_t *student_files, diag_t *out)
{
    memset(out, 0, sizeof *out);
    strvec_t lines = {0};
    split_lines(text, &lines);
    bool found = false;
    strbuf_t details = {0};
    for (size_t i = 0; i < lines.n && !found; i++) {
        vg_error_t e;
        size_t j = i;
        if (!vg_read_error(&lines, &j, student_files, &e, &details))
            continue;
        found = true;
        strbuf_t msg = {0};
        bool leak = strstr(e.kind, " lost in loss record") != NULL;
        if (leak) {
            char *cut = strstr(e.kind, " in loss record");
            *cut = '\0';
            sb_printf(&msg, "memory leak: %s", e.kind);
            if (e.have_first && e.first_is_student)
                sb_printf(&msg, "; allocated at %s:%d (%s) and never released", e.first.file,
                          e.first.line, e.first.func);
        } else if (strstr(text, "Bad mempool") != NULL &&
                   str_starts_with(e.kind, "Mempool chunk")) {
            /* memcheck dumps a pool whose records contradict each other */
            sb_printf(&msg, "memcheck found your pool's records inconsistent (\"Bad mempool\"): a "
                            "block was announced with VALGRIND_MEMPOOL_ALLOC twice without "
                            "VALGRIND_MEMPOOL_FREE in between, or two announced blocks overlap");
            if (e.have_first) {
                sb_append(&msg, "; the block announced");
                frame_append(&msg, "", &e.first);
            }
        } else {
            sb_printf(&msg, "memcheck: %s", e.kind);
            if (e.have_first)
                frame_append(&msg, "", &e.first);
            if (e.address != NULL)
                sb_printf(&msg, "; %s", e.address);
            if (e.have_aux)
                frame_append(&msg, ",", &e.aux);
        }
        out->message = sb_take(&msg);
        if (e.have_first && e.first_is_student)
            out->where = xasprintf("%s:%d", e.first.file, e.first.line);
        else if (e.have_aux)
            out->where = xasprintf("%s:%d", e.aux.file, e.aux.line);
        vg_error_free(&e);
    }
    out->details = sb_take(&details);
    if (!found) {
        free(out->details);
        out->details = NULL;
    }
    sv_free(&lines);
    return found;
}

bool diag_valgrind_has(const char *text, const char *kind)
{
    strvec_t lines = {0}, none = {0};
    split_lines(text, &lines);
    bool found = false;
    for (size_t i = 0; i < lines.n && !found; i++) {
        vg_error_t e;
        strbuf_t sink = {0};
        size_t j = i;
        if (vg_read_error(&lines, &j, &none, &e, &sink)) {
            found = str_starts_with(e.kind, kind);
            vg_error_free(&e);
        }
        free(sink.s);
    }
    sv_free(&lines);
    return found;
}

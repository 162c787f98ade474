/* batch_report.c — gradebook.csv and summary.html of a batch run, rebuilt from
 * the results.json of every submission. The JSON files are the only input, so
 * the class reports can be regenerated (or re-checked) without grading again,
 * and the same files always give the same bytes: no timestamps, and numbers
 * are printed in a fixed short form so float noise (3.0000000000000004) never
 * shows up as a diff between two runs. */
#define _GNU_SOURCE
#include "batch_report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NBINS 10

/* What one submission's results.json says, reduced to what the reports show. */
typedef struct {
    const char *id;
    bool graded; /* results.json was read and has a score and a tests array */
    double total, max, bonus;
    strvec_t flags;
    char *note;   /* why it was not graded, or the one-line reason of an "error" */
    bool *has;    /* per check of the exercise: present in "tests" */
    bool *passed; /* result == "pass" */
    double *score;
} row_t;

/* ---- numbers ---- */

/* x with at most `decimals` decimals and no trailing zeros ("7.1", "100"), and
 * never "-0": the form a spreadsheet reads back as the same number. */
static const char *fmt_dec(char *buf, size_t n, double x, int decimals)
{
    snprintf(buf, n, "%.*f", decimals, x);
    if (strchr(buf, '.') != NULL) {
        size_t len = strlen(buf);
        while (buf[len - 1] == '0')
            buf[--len] = '\0';
        if (buf[len - 1] == '.')
            buf[--len] = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        strcpy(buf, "0");
    return buf;
}

/* %g, which rounds to 6 significant digits and so hides float noise; also
 * without "-0". */
static const char *fmt_g(char *buf, size_t n, double x)
{
    snprintf(buf, n, "%g", x == 0 ? 0.0 : x);
    return buf;
}

/* ---- reading results.json ---- */

static int check_index(const exercise_t *ex, const char *id)
{
    for (size_t i = 0; i < ex->nchecks; i++)
        if (strcmp(ex->checks[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* The first line of s, at most cap bytes: a note is a table cell, not a log. */
static char *first_line(const char *s, size_t cap)
{
    size_t n = strcspn(s, "\r\n");
    if (n > cap)
        n = cap;
    return xstrndup(s, n);
}

static void not_graded(row_t *r, char *note)
{
    r->graded = false;
    sv_push(&r->flags, "not-graded");
    r->note = note;
}

static void load_row(row_t *r, const char *outdir, const exercise_t *ex, const char *id)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->has = xcalloc(ex->nchecks, sizeof *r->has);
    r->passed = xcalloc(ex->nchecks, sizeof *r->passed);
    r->score = xcalloc(ex->nchecks, sizeof *r->score);

    char *dir = path_join(outdir, "submissions");
    char *sub = path_join(dir, id);
    char *path = path_join(sub, "results.json");
    free(dir);
    free(sub);
    char *text = read_file(path, NULL);
    int saved = errno;
    free(path);
    if (text == NULL) {
        not_graded(r, saved == ENOENT
                          ? xstrdup("no results.json")
                          : xasprintf("results.json cannot be read: %s", strerror(saved)));
        return;
    }
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    free(text);
    if (root == NULL) {
        not_graded(r,
                   xasprintf("results.json is not valid JSON (line %d: %s)", jerr.line, jerr.text));
        return;
    }
    json_t *score = json_object_get(root, "score"), *tests = json_object_get(root, "tests");
    if (!json_is_number(score) || !json_is_array(tests)) {
        not_graded(r, xstrdup("results.json has no numeric score or no tests array"));
        json_decref(root);
        return;
    }
    r->graded = true;
    r->total = json_number_value(score);
    json_t *max = json_object_get(root, "max_score");
    /* report_json always writes max_score; a hand-written error result might not. */
    r->max = json_is_number(max) ? json_number_value(max) : exercise_max_points(ex);
    json_t *extra = json_object_get(root, "extra_data");
    json_t *bonus = json_object_get(extra, "bonus");
    r->bonus = json_is_number(bonus) ? json_number_value(bonus) : 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(extra, "flags"), i, v)
    {
        if (json_is_string(v))
            sv_push(&r->flags, json_string_value(v));
    }
    json_array_foreach(tests, i, v)
    {
        const char *cid = json_string_value(json_object_get(v, "check"));
        json_t *s = json_object_get(v, "score");
        int k = cid != NULL ? check_index(ex, cid) : -1;
        /* The first entry of a check wins; checks this manifest does not know
         * have no column. */
        if (k < 0 || r->has[k] || !json_is_number(s))
            continue;
        const char *result = json_string_value(json_object_get(v, "result"));
        r->has[k] = true;
        r->score[k] = json_number_value(s);
        r->passed[k] = result != NULL && strcmp(result, "pass") == 0;
    }
    const char *output = json_string_value(json_object_get(root, "output"));
    if (sv_contains(&r->flags, "error") && output != NULL)
        r->note = first_line(output, 300);
    json_decref(root);
}

static void free_row(row_t *r)
{
    sv_free(&r->flags);
    free(r->note);
    free(r->has);
    free(r->passed);
    free(r->score);
}

static char *join_flags(const row_t *r)
{
    strbuf_t sb = {0};
    for (size_t i = 0; i < r->flags.n; i++)
        sb_printf(&sb, "%s%s", i ? ";" : "", r->flags.v[i]);
    return sb_take(&sb);
}

/* ---- gradebook.csv ---- */

/* One RFC 4180 field. With guard, text that a spreadsheet would run as a
 * formula (= + - @, and tab or CR, which some strip before looking) gets a
 * leading single quote: ids are students' file names. */
static void csv_field(strbuf_t *sb, const char *s, bool guard)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        sb_append(sb, "\"");
    if (guard && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL)
        sb_append(sb, "'");
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"')
            sb_append(sb, "\"\"");
        else
            sb_appendn(sb, p, 1);
    }
    if (quote)
        sb_append(sb, "\"");
}

static char *gradebook_csv(const exercise_t *ex, const row_t *rows, size_t nrows)
{
    strbuf_t sb = {0};
    sb_append(&sb, "id,total,max,bonus,flags");
    for (size_t k = 0; k < ex->nchecks; k++) {
        sb_append(&sb, ",");
        csv_field(&sb, ex->checks[k].id, true);
    }
    sb_append(&sb, "\r\n");
    char num[64];
    for (size_t i = 0; i < nrows; i++) {
        const row_t *r = &rows[i];
        csv_field(&sb, r->id, true);
        if (r->graded) {
            sb_printf(&sb, ",%s", fmt_dec(num, sizeof num, r->total, 2));
            sb_printf(&sb, ",%s", fmt_dec(num, sizeof num, r->max, 2));
            sb_printf(&sb, ",%s,", fmt_dec(num, sizeof num, r->bonus, 2));
        } else {
            sb_append(&sb, ",,,,");
        }
        char *flags = join_flags(r);
        csv_field(&sb, flags, true);
        free(flags);
        for (size_t k = 0; k < ex->nchecks; k++) {
            sb_append(&sb, ",");
            if (r->has[k])
                sb_append(&sb, fmt_g(num, sizeof num, r->score[k]));
        }
        sb_append(&sb, "\r\n");
    }
    return sb_take(&sb);
}

/* ---- summary.html ---- */

/* Text for an HTML element or a quoted attribute. Bytes that are not UTF-8 and
 * control characters become '?', so a strange file name cannot garble the page. */
static void html_text(strbuf_t *sb, const char *s)
{
    char *clean = xstrdup(s);
    utf8_clean(clean, strlen(clean));
    sb_append_markup(sb, clean);
    free(clean);
}

/* An id as one path segment of a relative URL: every byte outside RFC 3986's
 * unreserved set is percent-encoded, so '#', '?', '/', ':' and '%' in a file
 * name neither break the link nor turn it into another scheme. */
static void url_segment(strbuf_t *sb, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p) != NULL)
            sb_appendn(sb, (const char *)p, 1);
        else
            sb_printf(sb, "%%%02X", *p);
    }
}

/* A small horizontal bar: the share frac (0..1) of 100 pixels. */
static void svg_bar(strbuf_t *sb, double frac)
{
    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    sb_printf(sb,
              "<svg class=\"bar\" width=\"100\" height=\"10\" viewBox=\"0 0 100 10\" "
              "aria-hidden=\"true\"><rect width=\"100\" height=\"10\" fill=\"#e5e7eb\"/>"
              "<rect width=\"%d\" height=\"10\" fill=\"#2563eb\"/></svg>",
              (int)lround(frac * 100));
}

/* 10 bins over 0..hi; a total above hi (bonus) counts in the last bin. */
static void svg_histogram(strbuf_t *sb, const row_t *rows, size_t nrows, double hi)
{
    int counts[NBINS] = {0}, top = 1;
    for (size_t i = 0; i < nrows; i++) {
        if (!rows[i].graded)
            continue;
        /* The epsilon puts a total that is exactly a bin's lower edge (30 of
         * 100) in that bin despite rounding in the division. */
        int b = (int)floor(rows[i].total * NBINS / hi + 1e-9);
        b = b < 0 ? 0 : b >= NBINS ? NBINS - 1 : b;
        counts[b]++;
    }
    for (int b = 0; b < NBINS; b++)
        top = counts[b] > top ? counts[b] : top;

    const int left = 50, base = 210, width = 48, height = 170;
    char num[64];
    sb_append(sb, "<svg class=\"hist\" xmlns=\"http://www.w3.org/2000/svg\" width=\"560\" "
                  "height=\"260\" viewBox=\"0 0 560 260\" role=\"img\" "
                  "aria-labelledby=\"hist-title\">\n"
                  "<title id=\"hist-title\">Histogram of total scores</title>\n");
    sb_printf(sb,
              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#374151\"/>\n"
              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#374151\"/>\n",
              left, base, left + NBINS * width, base, left, base, left, base - height);
    sb_printf(sb,
              "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n"
              "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%d</text>\n",
              left - 6, base + 4, left - 6, base - height + 4, top);
    for (int b = 0; b < NBINS; b++) {
        int h = (int)lround((double)counts[b] * height / top);
        int x = left + b * width;
        char lo_s[32], hi_s[32];
        fmt_dec(lo_s, sizeof lo_s, hi * b / NBINS, 1);
        fmt_dec(hi_s, sizeof hi_s, hi * (b + 1) / NBINS, 1);
        sb_printf(sb,
                  "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#2563eb\">"
                  "<title>%s to %s: %d</title></rect>\n",
                  x + 4, base - h, width - 8, h, lo_s, hi_s, counts[b]);
        sb_printf(sb, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", x + width / 2,
                  base - h - 4, counts[b]);
    }
    for (int b = 0; b <= NBINS; b++)
        sb_printf(sb, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                  left + b * width, base + 16, fmt_dec(num, sizeof num, hi * b / NBINS, 1));
    sb_printf(sb,
              "<text x=\"%d\" y=\"250\" text-anchor=\"middle\">total score (of %s)</text>\n"
              "<text x=\"14\" y=\"%d\" text-anchor=\"middle\" "
              "transform=\"rotate(-90 14 %d)\">submissions</text>\n</svg>\n",
              left + NBINS * width / 2, fmt_dec(num, sizeof num, hi, 2), base - height / 2,
              base - height / 2);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *const css =
    "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#111827;"
    "padding:0 1em}\n"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}\n"
    "table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #e5e7eb;"
    "text-align:left;vertical-align:middle}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".flag{display:inline-block;background:#fee2e2;color:#991b1b;border-radius:3px;"
    "padding:0 5px;margin-right:3px;font-size:12px}\n"
    ".note{color:#6b7280;font-size:12px}svg text{font-size:11px;fill:#374151}\n"
    "svg.bar{vertical-align:middle;margin-left:6px}code{font-size:13px}\n";

static char *summary_html(const exercise_t *ex, const row_t *rows, size_t nrows)
{
    strbuf_t sb = {0};
    char num[64], num2[64];
    size_t ngraded = 0, nerror = 0;
    double hi = 0, *totals = xcalloc(nrows, sizeof *totals);
    for (size_t i = 0; i < nrows; i++) {
        if (!rows[i].graded)
            continue;
        totals[ngraded++] = rows[i].total;
        hi = rows[i].max > hi ? rows[i].max : hi;
        nerror += sv_contains(&rows[i].flags, "error");
    }
    /* The scale is the largest max_score seen (a kit without the hidden tests
     * grades out of less); with nothing graded, the manifest's. */
    if (hi <= 0)
        hi = exercise_max_points(ex);
    if (hi <= 0)
        hi = 1;

    sb_append(&sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    /* Defence in depth: should escaping ever miss, the page still runs nothing
     * and loads nothing. */
    sb_append(&sb, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                   "style-src 'unsafe-inline'\">\n<title>Exercise ");
    html_text(&sb, ex->id);
    sb_append(&sb, " (");
    html_text(&sb, ex->slug);
    sb_append(&sb, "): batch summary</title>\n<style>\n");
    sb_append(&sb, css);
    sb_append(&sb, "</style>\n</head>\n<body>\n<h1>Exercise ");
    html_text(&sb, ex->id);
    sb_append(&sb, ": ");
    html_text(&sb, ex->title);
    sb_append(&sb, "</h1>\n");

    sb_printf(&sb,
              "<p>%zu submissions: %zu graded (%zu with a grading error, scored 0), %zu not "
              "graded.</p>\n",
              nrows, ngraded, nerror, nrows - ngraded);
    sb_append(&sb, "<table class=\"stats\">\n<tr><th>total</th><th class=\"n\">mean</th>"
                   "<th class=\"n\">median</th><th class=\"n\">min</th><th class=\"n\">max</th>"
                   "</tr>\n<tr><td>of ");
    sb_append(&sb, fmt_dec(num, sizeof num, hi, 2));
    sb_append(&sb, "</td>");
    if (ngraded == 0) {
        sb_append(&sb, "<td class=\"n\">&mdash;</td><td class=\"n\">&mdash;</td>"
                       "<td class=\"n\">&mdash;</td><td class=\"n\">&mdash;</td>");
    } else {
        double sum = 0;
        for (size_t i = 0; i < ngraded; i++)
            sum += totals[i];
        double med = median(totals, ngraded); /* sorts totals */
        sb_printf(&sb, "<td class=\"n\">%s</td>", fmt_dec(num, sizeof num, sum / ngraded, 2));
        sb_printf(&sb, "<td class=\"n\">%s</td>", fmt_dec(num, sizeof num, med, 2));
        sb_printf(&sb, "<td class=\"n\">%s</td>", fmt_dec(num, sizeof num, totals[0], 2));
        sb_printf(&sb, "<td class=\"n\">%s</td>", fmt_dec(num, sizeof num, totals[ngraded - 1], 2));
    }
    sb_append(&sb, "</tr>\n</table>\n");
    free(totals);

    /* Flags across submissions, by name, so the page reads the same each time. */
    strvec_t all = {0};
    for (size_t i = 0; i < nrows; i++)
        for (size_t j = 0; j < rows[i].flags.n; j++)
            sv_push(&all, rows[i].flags.v[j]);
    if (all.n > 0) {
        qsort(all.v, all.n, sizeof *all.v, cmp_str);
        sb_append(&sb, "<p>Flags:");
        for (size_t j = 0; j < all.n;) {
            size_t k = j;
            while (k < all.n && strcmp(all.v[k], all.v[j]) == 0)
                k++;
            sb_append(&sb, " <span class=\"flag\">");
            html_text(&sb, all.v[j]);
            sb_printf(&sb, "</span>&times;%zu", k - j);
            j = k;
        }
        sb_append(&sb, "</p>\n");
    }
    sv_free(&all);

    sb_append(&sb, "<h2>Totals</h2>\n");
    svg_histogram(&sb, rows, nrows, hi);

    sb_append(&sb, "<h2>Checks</h2>\n<p>Pass rate and mean score over the graded submissions; "
                   "a check missing from a submission's results counts as not passed, 0 "
                   "points.</p>\n<table class=\"checks\">\n<tr><th>check</th><th>title</th>"
                   "<th class=\"n\">points</th><th class=\"n\">passed</th><th></th>"
                   "<th class=\"n\">mean score</th><th></th></tr>\n");
    for (size_t k = 0; k < ex->nchecks; k++) {
        const check_t *c = &ex->checks[k];
        size_t npass = 0, nhas = 0;
        double sum = 0;
        for (size_t i = 0; i < nrows; i++) {
            if (!rows[i].graded || !rows[i].has[k])
                continue;
            nhas++;
            npass += rows[i].passed[k];
            sum += rows[i].score[k];
        }
        sb_append(&sb, "<tr><td><code>");
        html_text(&sb, c->id);
        sb_append(&sb, "</code></td><td>");
        html_text(&sb, c->title);
        sb_printf(&sb, "</td><td class=\"n\">%s%s%s</td>", c->bonus ? "+" : "",
                  fmt_g(num, sizeof num, c->points), c->bonus ? " bonus" : "");
        if (nhas == 0) {
            /* No submission has it: a check this copy of the kit cannot run
             * (hidden tests), not one that everybody failed. */
            sb_append(&sb, "<td class=\"n\">&mdash;</td><td></td><td class=\"n\">&mdash;</td>"
                           "<td class=\"note\">not graded</td></tr>\n");
            continue;
        }
        double rate = (double)npass / ngraded, mean = sum / ngraded;
        sb_printf(&sb, "<td class=\"n\">%s%%</td><td>", fmt_dec(num, sizeof num, rate * 100, 1));
        svg_bar(&sb, rate);
        sb_printf(&sb, "</td><td class=\"n\">%s / %s</td><td>", fmt_dec(num, sizeof num, mean, 2),
                  fmt_g(num2, sizeof num2, c->points));
        if (c->points > 0)
            svg_bar(&sb, mean / c->points);
        sb_append(&sb, "</td></tr>\n");
    }
    sb_append(&sb, "</table>\n");

    sb_append(&sb, "<h2>Submissions</h2>\n<table class=\"subs\">\n<tr><th>submission</th>"
                   "<th class=\"n\">total</th><th class=\"n\">max</th><th>flags</th>"
                   "<th>note</th></tr>\n");
    for (size_t i = 0; i < nrows; i++) {
        const row_t *r = &rows[i];
        sb_append(&sb, "<tr><td><a href=\"submissions/");
        url_segment(&sb, r->id);
        sb_append(&sb, "/report.txt\">");
        html_text(&sb, r->id);
        sb_append(&sb, "</a></td>");
        if (r->graded)
            sb_printf(&sb, "<td class=\"n\">%s</td><td class=\"n\">%s</td>",
                      fmt_dec(num, sizeof num, r->total, 2), fmt_dec(num2, sizeof num2, r->max, 2));
        else
            sb_append(&sb, "<td class=\"n\">&mdash;</td><td class=\"n\"></td>");
        sb_append(&sb, "<td>");
        for (size_t j = 0; j < r->flags.n; j++) {
            sb_append(&sb, "<span class=\"flag\">");
            html_text(&sb, r->flags.v[j]);
            sb_append(&sb, "</span>");
        }
        sb_append(&sb, "</td><td class=\"note\">");
        if (r->note != NULL)
            html_text(&sb, r->note);
        sb_append(&sb, "</td></tr>\n");
    }
    sb_append(&sb, "</table>\n</body>\n</html>\n");
    return sb_take(&sb);
}

/* ---- both files ---- */

/* A one-line reason for a failed write_file_atomic, which does not keep errno:
 * the usual causes are a missing or read-only directory. */
static char *write_error(const char *outdir, const char *path)
{
    if (!is_dir(outdir))
        return xasprintf("cannot write %s: %s is not a directory", path, outdir);
    if (access(outdir, W_OK) != 0)
        return xasprintf("cannot write %s: %s", path, strerror(errno));
    return xasprintf("cannot write %s (is the disk full?)", path);
}

static bool write_one(const char *outdir, const char *name, const char *text, char **err)
{
    char *path = path_join(outdir, name);
    bool ok = write_file_atomic(path, text, strlen(text));
    if (!ok)
        *err = write_error(outdir, path);
    free(path);
    return ok;
}

bool batch_write_reports(const char *outdir, const exercise_t *ex, const strvec_t *ids, char **err)
{
    row_t *rows = xcalloc(ids->n, sizeof *rows);
    for (size_t i = 0; i < ids->n; i++)
        load_row(&rows[i], outdir, ex, ids->v[i]);
    char *csv = gradebook_csv(ex, rows, ids->n);
    char *html = summary_html(ex, rows, ids->n);
    bool ok = write_one(outdir, "gradebook.csv", csv, err) &&
              write_one(outdir, "summary.html", html, err);
    free(csv);
    free(html);
    for (size_t i = 0; i < ids->n; i++)
        free_row(&rows[i]);
    free(rows);
    return ok;
}

/* util.h — small helpers the grader uses everywhere: memory that never returns
 * NULL (the grader exits with status 2 when it runs out), growable strings,
 * files and directories. */
#ifndef ALAB_UTIL_H
#define ALAB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit status when the grader itself cannot run. */
#define EXIT_GRADER_ERROR 2

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "grade: <message>" on stderr and exits with EXIT_GRADER_ERROR. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A growable NUL-terminated string. */
typedef struct {
    char *s;
    size_t len, cap;
} strbuf_t;
void sb_append(strbuf_t *sb, const char *s);
void sb_appendn(strbuf_t *sb, const char *s, size_t n);
void sb_printf(strbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with & < > " ' written as entities: text for XML or HTML, in an element
 * or a quoted attribute. */
void sb_append_markup(strbuf_t *sb, const char *s);
char *sb_take(strbuf_t *sb); /* the string, owned by the caller; sb is emptied */

/* A NULL-terminated array of owned strings. */
typedef struct {
    char **v;
    size_t n, cap;
} strvec_t;
void sv_push(strvec_t *sv, const char *s);
void sv_pushf(strvec_t *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sv_push_words(strvec_t *sv, const char *words); /* split on blanks */
bool sv_contains(const strvec_t *sv, const char *s);
void sv_free(strvec_t *sv);

char *str_replace_all(const char *s, const char *from, const char *to);
char *str_trim(char *s);                    /* in place */
bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);
/* Replaces bytes that are not valid UTF-8, and control bytes other than \n \t,
 * with '?'; in place. */
void utf8_clean(char *s, size_t len);

char *path_join(const char *a, const char *b);
char *path_dirname(const char *p);
const char *path_basename(const char *p);
char *path_abs(const char *p); /* realpath, or NULL */
bool is_file(const char *p);
bool is_dir(const char *p);
void mkdir_p(const char *p);
void rm_rf(const char *p);
char *read_file(const char *p, size_t *len); /* NULL if unreadable */
/* Writes through a temporary name and rename(2), so readers never see half a file. */
bool write_file_atomic(const char *p, const char *data, size_t len);
bool copy_file(const char *from, const char *to);

/* True when environment variable name is set to value. */
bool env_is(const char *name, const char *value);

/* 32 hex digits from /dev/urandom. */
char *random_token(void);
double now_seconds(void); /* CLOCK_MONOTONIC */
int cmp_double(const void *a, const void *b);
double median(double *v, size_t n); /* sorts v */

#endif

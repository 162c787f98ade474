/* alab.c — the result channel between a kit test program and the grader. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "alab.h"
#include "alab_token.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char result_path[4096];
static char token[128];
static char seed_text[32];

/* Runs before main and before any constructor of the code under test: the
 * priority puts it ahead of plain constructors, and the rules stage rejects
 * student code with prioritized ones. The token comes on a file descriptor
 * (ALAB_TOKEN_FD) that is read once and closed, so it is never in the
 * environment or /proc for code that runs later to find. */
__attribute__((constructor(101))) static void alab_take_token(void)
{
    alab_token_take(result_path, sizeof result_path, token, sizeof token);
}

void alab_init(void)
{
    const char *s = getenv("ALAB_SEED");
    if (s != NULL)
        snprintf(seed_text, sizeof seed_text, "%s", s);
}

uint64_t alab_seed(uint64_t dflt)
{
    return seed_text[0] != '\0' ? strtoull(seed_text, NULL, 10) : dflt;
}

void alab_record(const char *kind, ...)
{
    if (result_path[0] == '\0' || token[0] == '\0')
        return; /* run by hand, or the token was taken: nobody can be told */
    json_t *rec = json_pack("{s:s, s:s}", "token", token, "kind", kind);
    va_list ap;
    va_start(ap, kind);
    for (const char *key; (key = va_arg(ap, const char *)) != NULL;) {
        const char *value = va_arg(ap, const char *);
        json_object_set_new(rec, key, json_string(value != NULL ? value : ""));
    }
    va_end(ap);
    char *line = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(rec);
    if (line == NULL)
        return;
    size_t len = strlen(line);
    line[len] = '\n'; /* replaces the terminator: one write, one line */
    int fd = open(result_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ssize_t unused = write(fd, line, len + 1);
        (void)unused;
        close(fd);
    }
    free(line);
}

void alab_test_done(const char *name)
{
    alab_record("done", "test", name, (const char *)NULL);
}

void alab_add_case(Suite *s, const char *case_name, const TTest *test, double timeout_s)
{
    TCase *tc = tcase_create(case_name);
    tcase_set_timeout(tc, timeout_s);
    _tcase_add_test(tc, test, 0, 0, 0, 1);
    suite_add_tcase(s, tc);
}

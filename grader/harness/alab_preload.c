/* alab_preload.c — the grader's probe inside a preloaded library.
 *
 * The kit's shim (the unprefixed malloc family that calls the student's
 * functions) counts every call in alab_preload_calls. For the process the
 * grader starts, this probe takes the run's token (as alab.c does: from the
 * descriptor ALAB_TOKEN_FD, in a constructor that runs before the student's)
 * and, at exit, records how many calls the library served. Processes that
 * process starts find no token and stay silent.
 *
 * It lives inside programs whose malloc is the student's, so it allocates
 * nothing: no stdio, no jansson.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alab_token.h"

unsigned long alab_preload_calls;

static char result_path[4096];
static char token[128];

/* the programs this one starts are not the grader's to hear from: the
 * variables leave the environment */
__attribute__((constructor(101))) static void alab_preload_take_token(void)
{
    alab_token_take(result_path, sizeof result_path, token, sizeof token);
}

__attribute__((destructor)) static void alab_preload_report(void)
{
    if (result_path[0] == '\0' || token[0] == '\0')
        return;
    char line[256];
    int len = snprintf(line, sizeof line, "{\"token\":\"%s\",\"kind\":\"preload\",\"calls\":\"%lu\"}\n",
                       token, __atomic_load_n(&alab_preload_calls, __ATOMIC_RELAXED));
    if (len <= 0 || (size_t)len >= sizeof line)
        return;
    int fd = open(result_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    ssize_t unused = write(fd, line, (size_t)len);
    (void)unused;
    close(fd);
}

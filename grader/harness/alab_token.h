/* alab_token.h — how a program the grader starts takes its result file and
 * its run's token: the path from ALAB_RESULT, the token from the descriptor
 * named by ALAB_TOKEN_FD, read once and closed. Both variables leave the
 * environment, so code that runs later (or a program this one starts) never
 * finds them. Used by alab.c and alab_preload.c, each from a constructor of
 * priority 101. Allocates nothing: it also runs inside a preloaded malloc.
 */
#ifndef ALAB_TOKEN_H
#define ALAB_TOKEN_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void alab_token_take(char *path, size_t path_size, char *token, size_t token_size)
{
    const char *p = getenv("ALAB_RESULT"), *fd_text = getenv("ALAB_TOKEN_FD");
    if (p != NULL)
        snprintf(path, path_size, "%s", p);
    if (fd_text != NULL) {
        int fd = atoi(fd_text);
        size_t n = 0;
        ssize_t r;
        while (n + 1 < token_size && (r = read(fd, token + n, token_size - 1 - n)) > 0)
            n += (size_t)r;
        token[n] = '\0';
        close(fd);
    }
    unsetenv("ALAB_RESULT");
    unsetenv("ALAB_TOKEN_FD");
}

#endif

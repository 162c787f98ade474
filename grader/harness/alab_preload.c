/* alab_preload.c — the grader's probe inside a preloaded library.
 *
 * The kit's shim (the unprefixed malloc family that calls the student's
 * functions) counts every call in alab_preload_calls and calls
 * alab_preload_served() after each. Every process that loads the library
 * reports for itself: its executable (/proc/self/exe), how many calls the
 * library served, and how many bytes the C library's own malloc holds
 * (mallinfo2: arena + mmapped). A library that serves the calls leaves the C
 * library's heap empty; one that forwards them to glibc (__libc_malloc, dlsym)
 * makes it grow. A record is written when the count reaches 1, 16, 256, ...
 * and once more at exit, so a process that leaves with _exit (dash does) or
 * crashes has still said that it ran on the library.
 *
 * The run's token and result file come in the environment (ALAB_PRELOAD_TOKEN,
 * ALAB_RESULT), which the processes a program starts inherit: every one of
 * them must be able to report. The library's own code shares those processes,
 * so it could read them; the token proves a record was written during this run,
 * the output comparison proves the program worked.
 *
 * It lives inside programs whose malloc is the student's, so it allocates
 * nothing: no stdio, no jansson.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned long alab_preload_calls;

static char result_path[4096];
static char token[128];
static char exe[1024];
static unsigned long next_report = 1;

__attribute__((constructor(101))) static void alab_preload_take_token(void)
{
    const char *p = getenv("ALAB_RESULT"), *t = getenv("ALAB_PRELOAD_TOKEN");
    if (p == NULL || t == NULL)
        return;
    snprintf(result_path, sizeof result_path, "%s", p);
    snprintf(token, sizeof token, "%s", t);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
}

/* The bytes glibc's own allocator holds: 0 when every call went elsewhere. */
static unsigned long libc_heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (unsigned long)(mi.arena + mi.hblkhd);
}

/* One JSON line, built by hand: the exe path is escaped for quotes and
 * backslashes, control bytes are dropped. */
static void report(const char *when)
{
    if (result_path[0] == '\0' || token[0] == '\0')
        return;
    char name[2048];
    size_t k = 0;
    for (const char *c = exe; *c != '\0' && k + 2 < sizeof name; c++) {
        if ((unsigned char)*c < 0x20)
            continue;
        if (*c == '"' || *c == '\\')
            name[k++] = '\\';
        name[k++] = *c;
    }
    name[k] = '\0';
    char line[2600];
    int len = snprintf(line, sizeof line,
                       "{\"token\":\"%s\",\"kind\":\"preload\",\"exe\":\"%s\",\"pid\":\"%d\","
                       "\"calls\":\"%lu\",\"libc_heap\":\"%lu\",\"when\":\"%s\"}\n",
                       token, name, (int)getpid(),
                       __atomic_load_n(&alab_preload_calls, __ATOMIC_RELAXED), libc_heap_bytes(),
                       when);
    if (len <= 0 || (size_t)len >= sizeof line)
        return;
    int fd = open(result_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    ssize_t unused = write(fd, line, (size_t)len);
    (void)unused;
    close(fd);
}

void alab_preload_served(void)
{
    unsigned long n = __atomic_load_n(&alab_preload_calls, __ATOMIC_RELAXED);
    unsigned long due = __atomic_load_n(&next_report, __ATOMIC_RELAXED);
    if (n < due || !__atomic_compare_exchange_n(&next_report, &due, due * 16, false,
                                                __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    report("running");
}

__attribute__((destructor)) static void alab_preload_report(void)
{
    report("exit");
}

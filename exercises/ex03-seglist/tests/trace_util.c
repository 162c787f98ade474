/* trace_util.c — the memory utilization of the allocator on trace files.
 *
 * Usage: trace_util FILE...
 * Each trace runs, checked, in a fresh process (a child), so that no trace
 * inherits another's chunks. Its utilization is the peak of the live payload
 * (the sum of the sizes the trace holds at once) divided by the most bytes the
 * allocator had mapped at once (the mmap spy's high water). The mean over the
 * traces is recorded as the metric "util" (measure/util); a trace that fails its
 * checks counts 0. A table of each trace's figures goes to stdout.
 */
#include "seglist_testlib.h"
#include "trace_adapter.h"

#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    int ok;
    double util;
    size_t peak_payload, heap;
    char error[512];
} outcome_t;

static outcome_t run_one(const char *path)
{
    outcome_t out = {0};
    int fd[2];
    if (pipe(fd) != 0) {
        snprintf(out.error, sizeof out.error, "cannot make a pipe");
        return out;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        trace_t t;
        trace_result_t res;
        if (trace_load(path, &t, out.error, sizeof out.error) == 0) {
            out.ok = trace_run(&t, &seglist_adapter, 0, &res) == 0;
            out.util = res.util;
            out.peak_payload = res.peak_payload;
            out.heap = res.heap_size;
            if (!out.ok)
                snprintf(out.error, sizeof out.error, "%s", res.error);
        }
        ssize_t n = write(fd[1], &out, sizeof out);
        _exit(n == (ssize_t)sizeof out ? 0 : 1);
    }
    close(fd[1]);
    ssize_t n = pid > 0 ? read(fd[0], &out, sizeof out) : -1;
    close(fd[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (n != (ssize_t)sizeof out) {
        memset(&out, 0, sizeof out);
        if (WIFSIGNALED(status))
            snprintf(out.error, sizeof out.error, "the trace crashed (%s)", strsignal(WTERMSIG(status)));
        else
            snprintf(out.error, sizeof out.error, "the trace stopped without a result");
    }
    return out;
}

int main(int argc, char **argv)
{
    alab_init();
    if (argc < 2) {
        fprintf(stderr, "usage: %s TRACE...\n", argv[0]);
        return 2;
    }
    double sum = 0, lowest = 2;
    const char *lowest_name = "", *failed = NULL;
    char failure[600] = "";
    printf("%-22s %10s %12s %6s\n", "trace", "payload", "mapped", "util");
    for (int i = 1; i < argc; i++) {
        const char *name = strrchr(argv[i], '/') != NULL ? strrchr(argv[i], '/') + 1 : argv[i];
        outcome_t o = run_one(argv[i]);
        double u = o.ok ? o.util : 0;
        if (!o.ok && failed == NULL) {
            failed = name;
            snprintf(failure, sizeof failure, "%s", o.error);
        }
        printf("%-22s %10zu %12zu %6.3f%s%s\n", name, o.peak_payload, o.heap, u, o.ok ? "" : "  ",
               o.ok ? "" : o.error);
        sum += u;
        if (u < lowest) {
            lowest = u;
            lowest_name = name;
        }
    }
    double mean = sum / (argc - 1);
    printf("%-22s %30.3f\n", "mean", mean);
    char value[32], note[700];
    snprintf(value, sizeof value, "%.4f", mean);
    if (failed != NULL)
        snprintf(note, sizeof note, "%s counted 0: %s", failed, failure);
    else
        snprintf(note, sizeof note, "mean of %d traces; lowest: %s %.2f", argc - 1, lowest_name, lowest);
    alab_record("metric", "name", "util", "value", value, "note", note, (const char *)NULL);
    return 0;
}

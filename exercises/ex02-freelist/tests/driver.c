/* driver.c — exercise 02's measuring program (a kind = main program).
 *
 * Usage:
 *   driver util <trace>...              utilization of mm_* on each trace
 *   driver pool [-n reps] <trace>...    time of mm_* over the traces, reps times
 *   driver malloc [-n reps] <trace>...  the same with the C library's allocator
 *   driver table <trace>...             both, per trace, printed (for people)
 *
 * util records {"kind":"metric","name":"util","value":<mean>,"note":"lowest: ..."},
 * the mean over the traces of peak live payload / heap size (CS:APP's measure);
 * a trace that fails counts 0 and its error is the note. pool and malloc
 * record {"kind":"time","ns":...}; the perf stage runs both, interleaved, and
 * scores the ratio t_malloc / t_mm.
 */
#include "mm_testlib.h"

#include <string.h>

static const trace_allocator_t LIBC = {
    .prefix = "",
    .malloc = malloc,
    .free = free,
    .realloc = realloc,
};

static int load_all(int argc, char **argv, trace_t *traces)
{
    for (int i = 0; i < argc; i++) {
        char err[512];
        if (trace_load(argv[i], &traces[i], err, sizeof err) != 0) {
            fprintf(stderr, "driver: %s\n", err);
            return -1;
        }
    }
    return 0;
}

static int util(int n, trace_t *traces)
{
    double sum = 0, lowest = 2;
    const char *low_name = "";
    char note[600] = "";
    for (int i = 0; i < n; i++) {
        trace_result_t res;
        trace_run(&traces[i], &MM_ALLOCATOR, 0, &res);
        double u = res.ok ? res.util : 0;
        printf("%-22s util %.3f  (peak payload %zu B, heap %zu B)%s%s\n", traces[i].name, u,
               res.peak_payload, res.heap_size, res.ok ? "" : "\n  ", res.ok ? "" : res.error);
        if (!res.ok && note[0] == '\0')
            snprintf(note, sizeof note, "counted 0: %s", res.error);
        sum += u;
        if (u < lowest) {
            lowest = u;
            low_name = traces[i].name;
        }
    }
    char value[32];
    snprintf(value, sizeof value, "%.4f", n > 0 ? sum / n : 0);
    if (note[0] == '\0')
        snprintf(note, sizeof note, "lowest: %s %.3f", low_name, lowest);
    printf("mean utilization %s; %s\n", value, note);
    alab_record("metric", "name", "util", "value", value, "note", note, (const char *)NULL);
    return 0;
}

static int timed(const trace_allocator_t *a, int reps, int n, trace_t *traces)
{
    double ns = trace_time_ns(traces, (size_t)n, a, reps);
    if (ns < 0) {
        fprintf(stderr, "driver: an allocation failed (NULL) while timing the traces\n");
        return 1;
    }
    char text[32];
    snprintf(text, sizeof text, "%.0f", ns);
    printf("%.3f ms for %d rounds of %d traces\n", ns / 1e6, reps, n);
    alab_record("time", "ns", text, (const char *)NULL);
    return 0;
}

static int table(int n, trace_t *traces)
{
    printf("%-22s %8s %12s %12s %8s\n", "trace", "util", "mm ns/op", "libc ns/op", "ratio");
    for (int i = 0; i < n; i++) {
        trace_result_t res;
        trace_run(&traces[i], &MM_ALLOCATOR, 0, &res);
        double ops = (double)traces[i].nops * 20;
        double mm = trace_time_ns(&traces[i], 1, &MM_ALLOCATOR, 20) / ops;
        double lc = trace_time_ns(&traces[i], 1, &LIBC, 20) / ops;
        printf("%-22s %8.3f %12.1f %12.1f %8.2f%s%s\n", traces[i].name, res.ok ? res.util : 0,
               mm, lc, lc / mm, res.ok ? "" : "\n  ", res.ok ? "" : res.error);
    }
    return 0;
}

int main(int argc, char **argv)
{
    alab_init();
    if (argc < 3) {
        fprintf(stderr, "usage: %s util|pool|malloc|table [-n reps] <trace>...\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    int reps = 1, first = 2;
    if (strcmp(argv[2], "-n") == 0 && argc > 3) {
        reps = atoi(argv[3]);
        first = 4;
    }
    int n = argc - first;
    trace_t *traces = calloc((size_t)(n > 0 ? n : 1), sizeof *traces);
    if (n < 1 || reps < 1 || traces == NULL || load_all(n, argv + first, traces) != 0)
        return 2;
    int rc = 2;
    if (strcmp(mode, "util") == 0)
        rc = util(n, traces);
    else if (strcmp(mode, "pool") == 0)
        rc = timed(&MM_ALLOCATOR, reps, n, traces);
    else if (strcmp(mode, "malloc") == 0)
        rc = timed(&LIBC, reps, n, traces);
    else if (strcmp(mode, "table") == 0)
        rc = table(n, traces);
    else
        fprintf(stderr, "driver: unknown mode %s\n", mode);
    for (int i = 0; i < n; i++)
        trace_free(&traces[i]);
    free(traces);
    return rc;
}

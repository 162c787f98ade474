/* score.c — how a figure becomes points: pure arithmetic, no I/O, so that
 * every rule of perf and measure scoring can be unit-tested on numbers. */
#include "grade.h"

double perf_fraction(double m, double zero_at, double full_at)
{
    if (full_at <= zero_at)
        return m >= full_at ? 1 : 0;
    double f = (m - zero_at) / (full_at - zero_at);
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

double measure_fraction(double v, double zero_at, double full_at)
{
    return full_at >= zero_at ? perf_fraction(v, zero_at, full_at)
                              : perf_fraction(-v, -zero_at, -full_at);
}

perf_score_t perf_score(double *ratio, double *ref_ratio, size_t n, double full_at, double zero_at,
                        double share)
{
    perf_score_t s = {.lo = ratio[0], .hi = ratio[0], .bar = full_at, .zero = zero_at};
    for (size_t r = 1; r < n; r++) {
        s.lo = ratio[r] < s.lo ? ratio[r] : s.lo;
        s.hi = ratio[r] > s.hi ? ratio[r] : s.hi;
    }
    s.m = median(ratio, n);
    s.mref = median(ref_ratio, n);
    /* The bar is full_at, unless this machine (busy, or slower at threads
     * than the one the bar was set on) lets even the reference reach less:
     * then it is that share of the reference's own figure, measured in the
     * same rounds. */
    if (share > 0 && share * s.mref < full_at) {
        s.bar = share * s.mref;
        s.zero = zero_at < s.bar ? zero_at : s.bar / 2;
        s.lowered = true;
    }
    s.frac = perf_fraction(s.m, s.zero, s.bar);
    return s;
}

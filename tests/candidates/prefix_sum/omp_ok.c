#include <stdlib.h>
#include <omp.h>

/* Inclusive prefix sum: y[i] = x[0] + ... + x[i].
 * Two-pass blocked scan: each thread scans its block, the block totals are
 * scanned, and each thread adds the offset of the blocks before it.  The
 * additions are regrouped, so results differ from the sequential loop only
 * by rounding. */
void prefix_sum(int n, const double *x, double *y)
{
    if (n <= 0)
        return;
    int nt = omp_get_max_threads();
    double *offset = calloc((size_t)nt + 1, sizeof(double));
    #pragma omp parallel num_threads(nt)
    {
        int tid = omp_get_thread_num();
        int T = omp_get_num_threads();
        long lo = (long)tid * n / T, hi = (long)(tid + 1) * n / T;
        double running = 0.0;
        for (long i = lo; i < hi; i++) {
            running += x[i];
            y[i] = running;
        }
        offset[tid + 1] = running;
        #pragma omp barrier
        #pragma omp single
        for (int b = 1; b <= T; b++)
            offset[b] += offset[b - 1];
        double add = offset[tid];
        if (tid > 0)
            for (long i = lo; i < hi; i++)
                y[i] += add;
    }
    free(offset);
}

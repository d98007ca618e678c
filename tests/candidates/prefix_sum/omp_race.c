#include <omp.h>

/* Inclusive prefix sum: y[i] = x[0] + ... + x[i]. */
void prefix_sum(int n, const double *x, double *y)
{
    double running = 0.0;
    #pragma omp parallel for
    for (int i = 0; i < n; ++i) {
        running += x[i];
        y[i] = running;
    }
}

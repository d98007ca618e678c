#include <float.h>
#include <omp.h>

/* Largest element of x; -DBL_MAX when n == 0. */
double max_val(int n, const double *x)
{
    double best = -DBL_MAX;
    int i;
    #pragma omp parallel for reduction(max:best)
    for (i = 1; i < n; i++) {
        if (x[i] > best) {
            best = x[i];
        }
    }
    return best;
}

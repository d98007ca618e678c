#include <float.h>
#include <omp.h>

/* Largest element of x; -DBL_MAX when n == 0. */
double max_val(int n, const double *x)
{
    double best = -DBL_MAX;
    #pragma omp parallel
    {
        double local = 0.0;
        #pragma omp for nowait
        for (int i = 0; i < n; i++)
            if (x[i] > local)
                local = x[i];
        #pragma omp critical
        {
            if (local > best)
                best = local;
        }
    }
    return best;
}

#include <math.h>
#include <omp.h>

/* Numerically stable softmax: y[i] = exp(x[i] - max) / sum_j exp(x[j] - max). */
void softmax(int n, const double *x, double *y)
{
    if (n <= 0)
        return;
    double total = 0.0;
    #pragma omp parallel reduction(+:total)
    {
        double mx = -INFINITY;
        #pragma omp for schedule(static) nowait
        for (int i = 0; i < n; i++)
            if (x[i] > mx)
                mx = x[i];
        #pragma omp for schedule(static)
        for (int i = 0; i < n; i++) {
            y[i] = exp(x[i] - mx);
            total += y[i];
        }
    }
    #pragma omp parallel for
    for (int i = 0; i < n; i++)
        y[i] /= total;
}

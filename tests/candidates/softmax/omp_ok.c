#include <math.h>
#include <omp.h>

/* Numerically stable softmax: y[i] = exp(x[i] - max) / sum_j exp(x[j] - max). */
void softmax(int n, const double *x, double *y)
{
    if (n <= 0)
        return;
    double mx = x[0];
    double total = 0.0;
    #pragma omp parallel
    {
        #pragma omp for reduction(max:mx)
        for (int i = 1; i < n; i++)
            if (x[i] > mx)
                mx = x[i];
        #pragma omp for reduction(+:total)
        for (int i = 0; i < n; i++) {
            y[i] = exp(x[i] - mx);
            total += y[i];
        }
        #pragma omp for
        for (int i = 0; i < n; i++)
            y[i] /= total;
    }
}

#include <omp.h>

/* Dot product of two double vectors. */
double dot(int n, const double *x, const double *y)
{
    double result = 0.0;
    int i;
    #pragma omp parallel for
    for (i = 0; i < n; i++) {
        result += x[i] * y[i];
    }
    return result;
}

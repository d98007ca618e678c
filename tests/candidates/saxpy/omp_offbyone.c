#include <omp.h>

/* Single-precision a*x plus y: y = a*x + y. */
void saxpy(int n, float a, const float *x, float *y)
{
    #pragma omp parallel for
    for (int i = 0; i < n - 1; i++)
        y[i] = a * x[i] + y[i];
}

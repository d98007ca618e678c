#include <omp.h>

/* Sum of the elements of x. */
double sum(int n, const double *x)
{
    double s = 0.0;
    #pragma omp parallel for reduction(*:s)
    for (int i = 0; i < n; i++)
        s += x[i];
    return s;
}

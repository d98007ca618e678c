#include <float.h>

/* Smallest element of x; DBL_MAX when n == 0. */
double min_val(int n, const double *x)
{
    double m = DBL_MAX;
    for (int i = 0; i < n; ++i)
        if (x[i] < m)
            m = x[i];
    return m;
}

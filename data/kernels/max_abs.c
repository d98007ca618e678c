#include <math.h>

/* Largest absolute value in x (0 when n == 0). */
double max_abs(int n, const double *x)
{
    double m = 0.0;
    for (int i = 0; i < n; i++) {
        double a = fabs(x[i]);
        if (a > m)
            m = a;
    }
    return m;
}

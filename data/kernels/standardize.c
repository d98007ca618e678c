#include <math.h>

/* z-scores: y[i] = (x[i] - mean) / sd, written in four passes over y (the deviations first, then
 * their spread read back from y, then y scaled in place). */
void standardize(int n, const double *x, double *y)
{
    double mean = 0.0;
    for (int i = 0; i < n; i++)
        mean += x[i];
    mean = n > 0 ? mean / n : 0.0;
    for (int i = 0; i < n; i++)
        y[i] = x[i] - mean;
    double ss = 0.0;
    for (int i = 0; i < n; i++)
        ss += y[i] * y[i];
    double sd = ss > 0.0 ? sqrt(ss / n) : 1.0;
    for (int i = 0; i < n; i++)
        y[i] = y[i] / sd;
}

#include <math.h>

/* Weights from scores: w[i] = exp(-s[i] / t), then scaled in place to sum to one. */
void exp_normalize(int n, const double *s, double t, double *w)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        w[i] = exp(-s[i] / t);
        total += w[i];
    }
    if (total > 0.0)
        for (int i = 0; i < n; i++)
            w[i] = w[i] / total;
}

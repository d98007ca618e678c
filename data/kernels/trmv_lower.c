/* y = L*x for a lower-triangular n x n matrix L (row-major; entries above the
 * diagonal are never read).  Row i does i+1 multiply-adds: a triangular loop. */
void trmv_lower(int n, const double *L, const double *x, double *y)
{
    int i, j;
    for (i = 0; i < n; ++i) {
        double t = 0.0;
        for (j = 0; j <= i; ++j)
            t += L[(long)i * n + j] * x[j];
        y[i] = t;
    }
}

/* atax: y := A^T (A x), with A m x n; tmp (length m) holds A x. */
void atax(int m, int n, const double *A, const double *x, double *restrict y, double *restrict tmp)
{
    for (int j = 0; j < n; j++)
        y[j] = 0.0;
    for (int i = 0; i < m; i++) {
        tmp[i] = 0.0;
        for (int j = 0; j < n; j++)
            tmp[i] += A[i * n + j] * x[j];
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            y[j] += A[i * n + j] * tmp[i];
}

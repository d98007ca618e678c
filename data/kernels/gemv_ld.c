/* Row-major y = alpha * A x + beta * y, A stored with leading dimension lda
 * (lda >= n: row i starts at a + i*lda). */
void gemv_ld(int m, int n, double alpha, const double *a, int lda,
             const double *x, double beta, double *y)
{
    for (int i = 0; i < m; i++) {
        double acc = 0.0;
        for (int j = 0; j < n; j++)
            acc += a[i * lda + j] * x[j];
        y[i] = alpha * acc + beta * y[i];
    }
}

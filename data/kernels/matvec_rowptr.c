/* y = A x with A m x n row-major, each row walked through a row pointer. */
void matvec_rowptr(int m, int n, double *A, double *x, double *y)
{
    for (int i = 0; i < m; i++) {
        const double *a = A + i * n;
        double s = 0.0;
        for (int j = 0; j < n; j++)
            s += a[j] * x[j];
        y[i] = s;
    }
}

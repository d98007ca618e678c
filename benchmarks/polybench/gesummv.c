/* gesummv: y := alpha*A*x + beta*B*x, with A, B n x n; tmp holds A*x. */
void gesummv(int n, double alpha, double beta, const double *A, const double *B,
             double *restrict tmp, const double *x, double *restrict y)
{
    for (int i = 0; i < n; i++) {
        tmp[i] = 0.0;
        y[i] = 0.0;
        for (int j = 0; j < n; j++) {
            tmp[i] += A[i * n + j] * x[j];
            y[i] += B[i * n + j] * x[j];
        }
        y[i] = alpha * tmp[i] + beta * y[i];
    }
}

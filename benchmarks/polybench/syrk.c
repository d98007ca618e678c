/* syrk: C := alpha*A*A^T + beta*C on the lower triangle of C (n x n), A n x m. */
void syrk(int n, int m, double alpha, double beta, double *restrict C, const double *A)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++)
            C[i * n + j] *= beta;
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++)
            for (int k = 0; k < m; k++)
                C[i * n + j] += alpha * A[i * m + k] * A[j * m + k];
}

/* gemm: C := alpha*A*B + beta*C, with A ni x nk, B nk x nj, C ni x nj (row-major). */
void gemm(int ni, int nj, int nk, double alpha, double beta, double *restrict C,
          const double *A, const double *B)
{
    for (int i = 0; i < ni; i++)
        for (int j = 0; j < nj; j++)
            C[i * nj + j] *= beta;
    for (int i = 0; i < ni; i++)
        for (int j = 0; j < nj; j++)
            for (int k = 0; k < nk; k++)
                C[i * nj + j] += alpha * A[i * nk + k] * B[k * nj + j];
}

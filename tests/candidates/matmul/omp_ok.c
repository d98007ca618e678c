#include <omp.h>

/* C = A*B with A m x k, B k x n, C m x n, all row-major; i, j, k loop order. */
void matmul(int m, int n, int k, const double *A, const double *B, double *C)
{
    #pragma omp parallel for collapse(2) schedule(static)
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            double s = 0.0;
            for (long p = 0; p < k; p++)
                s += A[i * k + p] * B[p * n + j];
            C[i * n + j] = s;
        }
}

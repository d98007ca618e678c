#include <omp.h>

/* Dense matrix-vector product y = A*x, A is m x n row-major. */
void matvec(int m, int n, const double *A, const double *x, double *y)
{
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < m; i++) {
        double acc = 0.0;
        for (int j = 0; j < n; j++)
            acc += A[(long)i * n + j] * x[j];
        y[i] = acc;
    }
}

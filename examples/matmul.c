/* matmul.c - naive dense matrix multiplication, i-j-k order. */
#include <stdio.h>
#include <stdlib.h>

void matmul(int m, int n, int k, const double *A, const double *B, double *C)
{
    long i, j, p;
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            double s = 0.0;
            for (p = 0; p < k; p++)
                s += A[i * k + p] * B[p * n + j];
            C[i * n + j] = s;
        }
}

static void fill(double *a, long count, int seed)
{
    for (long i = 0; i < count; i++)
        a[i] = (double)((i * 31 + seed) % 17) / 8.0 - 1.0;
}

int main(void)
{
    int m = 300, n = 280, k = 260;
    double *A = malloc(sizeof(double) * m * k);
    double *B = malloc(sizeof(double) * k * n);
    double *C = malloc(sizeof(double) * m * n);
    if (!A || !B || !C)
        return 1;
    fill(A, (long)m * k, 3);
    fill(B, (long)k * n, 11);

    matmul(m, n, k, A, B, C);

    double trace_like = 0.0, total = 0.0;
    for (int i = 0; i < m && i < n; i++)
        trace_like += C[(long)i * n + i];
    for (long p = 0; p < (long)m * n; p++)
        total += C[p];
    printf("matmul %dx%dx%d sum=%.6f diag=%.6f\n", m, n, k, total, trace_like);
    free(A);
    free(B);
    free(C);
    return 0;
}

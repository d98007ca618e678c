/* jacobi2d.c - heat diffusion on a square plate with a 5-point Jacobi stencil.
 * The kernel does one sweep; main runs a few sweeps, swapping the grids. */
#include <stdio.h>
#include <stdlib.h>

void jacobi2d(int n, int m, const double *in, double *out)
{
    long i, j;
    for (i = 0; i < n; i++) {
        for (j = 0; j < m; j++) {
            if (i == 0 || j == 0 || i == n - 1 || j == m - 1) {
                out[i * m + j] = in[i * m + j];
            } else {
                out[i * m + j] = 0.2 * (in[i * m + j]
                                        + in[(i - 1) * m + j] + in[(i + 1) * m + j]
                                        + in[i * m + j - 1] + in[i * m + j + 1]);
            }
        }
    }
}

int main(void)
{
    const int n = 512, m = 512, sweeps = 20;
    double *a = calloc((size_t)n * m, sizeof(double));
    double *b = calloc((size_t)n * m, sizeof(double));
    if (!a || !b)
        return 1;
    /* hot top edge, warm left edge, cold elsewhere */
    for (int j = 0; j < m; j++)
        a[j] = 100.0;
    for (int i = 1; i < n; i++)
        a[(size_t)i * m] = 50.0;

    for (int s = 0; s < sweeps; s++) {
        jacobi2d(n, m, a, b);
        double *t = a;
        a = b;
        b = t;
    }

    double checksum = 0.0;
    for (size_t p = 0; p < (size_t)n * m; p++)
        checksum += a[p];
    printf("jacobi2d %dx%d sweeps=%d checksum=%.6f a[8][8]=%.6e\n",
           n, m, sweeps, checksum, a[(size_t)8 * m + 8]);
    free(a);
    free(b);
    return 0;
}

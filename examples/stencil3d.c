/* stencil3d.c - 7-point stencil on a cube, a few sweeps. */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>

void stencil3d(int n, const double *in, double *out)
{
    const double c0 = 0.4, c1 = 0.1;
    size_t nn = (size_t)n * (size_t)n;
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
            for (int k = 0; k < n; ++k) {
                size_t p = (size_t)i * nn + (size_t)j * (size_t)n + (size_t)k;
                if (i == 0 || i == n - 1 || j == 0 || j == n - 1 || k == 0 || k == n - 1) {
                    out[p] = in[p];
                    continue;
                }
                out[p] = c0 * in[p]
                       + c1 * (in[p - nn] + in[p + nn]
                               + in[p - (size_t)n] + in[p + (size_t)n]
                               + in[p - 1] + in[p + 1]);
            }
}

int main(void)
{
    const int n = 96, sweeps = 4;
    size_t cells = (size_t)n * n * n;
    double *a = malloc(cells * sizeof(double));
    double *b = malloc(cells * sizeof(double));
    if (!a || !b)
        return 1;
    for (size_t p = 0; p < cells; p++)
        a[p] = (double)(p % 97) / 97.0;

    for (int s = 0; s < sweeps; s++) {
        stencil3d(n, a, b);
        double *t = a; a = b; b = t;
    }

    double checksum = 0.0;
    for (size_t p = 0; p < cells; p += 7)
        checksum += a[p];
    printf("stencil3d n=%d sweeps=%d checksum=%.9f\n", n, sweeps, checksum);
    free(a);
    free(b);
    return 0;
}

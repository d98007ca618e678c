#include <omp.h>

/* One sweep of the 2-D five-point Jacobi stencil on an n x m grid stored
 * row-major.  Boundary cells are copied from `in` unchanged. */
void jacobi2d(int n, int m, const double *in, double *out)
{
    long i, j;
    #pragma omp parallel for private(j) schedule(static)
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

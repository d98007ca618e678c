#include <stddef.h>

/* Seven-point stencil on an n x n x n cube (index (i*n + j)*n + k).
 * Faces of the cube are copied from `in`. */
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

#include <stddef.h>

/* out (m x n) = transpose of in (n x m), both row-major. */
void transpose(int n, int m, const float *in, float *out)
{
    for (size_t i = 0; i < (size_t)n; i++)
        for (size_t j = 0; j < (size_t)m; j++)
            out[j * (size_t)n + i] = in[i * (size_t)m + j];
}

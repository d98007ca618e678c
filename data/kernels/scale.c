#include <stddef.h>

/* Scale a vector in place by a constant factor. */
void scale(int n, double s, double *x)
{
    size_t len = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < len; ++i)
        x[i] *= s;
}

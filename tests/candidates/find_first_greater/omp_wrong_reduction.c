#include <omp.h>

/* Index of the first element greater than t, or -1 when there is none. */
int find_first_greater(int n, const double *x, double t)
{
    int found = -1;
    #pragma omp parallel for reduction(max:found)
    for (int i = 0; i < n; ++i) {
        if (x[i] > t)
            found = i;
    }
    return found;
}

#include <limits.h>
#include <omp.h>

/* Index of the first element greater than t, or -1 when there is none.
 * The early exit becomes a min-reduction over the indices of all matches. */
int find_first_greater(int n, const double *x, double t)
{
    int first = INT_MAX;
    #pragma omp parallel for reduction(min:first)
    for (int i = 0; i < n; ++i) {
        if (x[i] > t && i < first)
            first = i;
    }
    return first == INT_MAX ? -1 : first;
}

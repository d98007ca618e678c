#include <limits.h>
#include <mpi.h>

/* Index of the first element greater than t, or -1 when there is none.
 * Each rank scans its block up to its first match; rank 0 takes the minimum. */
int find_first_greater(int n, const double *x, double t)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    long lo = (long)rank * n / size, hi = (long)(rank + 1) * n / size;
    int mine = INT_MAX, first = INT_MAX;
    for (long i = lo; i < hi; i++) {
        if (x[i] > t) {
            mine = (int)i;
            break;
        }
    }
    MPI_Reduce(&mine, &first, 1, MPI_INT, MPI_MIN, 0, MPI_COMM_WORLD);
    return first == INT_MAX ? -1 : first;
}

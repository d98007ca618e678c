#include <float.h>
#include <mpi.h>

/* Largest element of x; -DBL_MAX when n == 0.  Result valid on rank 0. */
double max_val(int n, const double *x)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int base = n / size, rem = n % size;
    int lo = rank * base + (rank < rem ? rank : rem);
    int hi = lo + base + (rank < rem ? 1 : 0);
    double local = -DBL_MAX, best = -DBL_MAX;
    for (int i = lo; i < hi; i++)
        if (x[i] > local)
            local = x[i];
    MPI_Reduce(&local, &best, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
    return best;
}

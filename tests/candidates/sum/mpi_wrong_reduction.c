#include <mpi.h>

/* Sum of the elements of x: each rank sums a block, rank 0 gets the total. */
double sum(int n, const double *x)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    long lo = (long)rank * n / size;
    long hi = (long)(rank + 1) * n / size;
    double local = 0.0, total = 0.0;
    for (long i = lo; i < hi; i++)
        local += x[i];
    MPI_Reduce(&local, &total, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    return total;
}

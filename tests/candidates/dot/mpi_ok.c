#include <mpi.h>

/* Dot product of two double vectors; the result is valid on rank 0. */
double dot(int n, const double *x, const double *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    double local = 0.0, result = 0.0;
    /* cyclic distribution: rank r takes i = r, r + size, ... */
    for (int i = rank; i < n; i += size)
        local += x[i] * y[i];
    MPI_Reduce(&local, &result, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    return result;
}

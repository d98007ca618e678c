#include <mpi.h>

/* Single-precision a*x plus y: y = a*x + y, block-distributed over ranks. */
void saxpy(int n, float a, const float *x, float *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int lo = (int)((long)rank * n / size);
    int hi = (int)((long)(rank + 1) * n / size);
    for (int i = lo; i < hi; i++)
        y[i] = a * x[i] + y[i];
    MPI_Barrier(MPI_COMM_WORLD);
}

#include <stdlib.h>
#include <mpi.h>

/* Single-precision a*x plus y: y = a*x + y, block-distributed over ranks. */
void saxpy(int n, float a, const float *x, float *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int chunk = n / size;
    int lo = rank * chunk;
    for (int i = lo; i < lo + chunk; i++)
        y[i] = a * x[i] + y[i];

    if (rank == 0)
        MPI_Gather(MPI_IN_PLACE, chunk, MPI_FLOAT, y, chunk, MPI_FLOAT, 0, MPI_COMM_WORLD);
    else
        MPI_Gather(y + lo, chunk, MPI_FLOAT, NULL, chunk, MPI_FLOAT, 0, MPI_COMM_WORLD);
}

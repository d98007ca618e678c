#include <stdlib.h>
#include <mpi.h>

/* Single-precision a*x plus y: y = a*x + y, block-distributed over ranks. */
void saxpy(int n, float a, const float *x, float *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int *counts = malloc(sizeof(int) * size);
    int *displs = malloc(sizeof(int) * size);
    for (int r = 0; r < size; r++) {
        int lo = (int)((long)r * n / size);
        int hi = (int)((long)(r + 1) * n / size);
        displs[r] = lo;
        counts[r] = hi - lo;
    }
    int start = displs[rank] + (rank > 0 ? 1 : 0);
    for (int i = start; i < displs[rank] + counts[rank]; i++)
        y[i] = a * x[i] + y[i];

    if (rank == 0)
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_FLOAT, y, counts, displs, MPI_FLOAT, 0, MPI_COMM_WORLD);
    else
        MPI_Gatherv(y + displs[rank], counts[rank], MPI_FLOAT, NULL, NULL, NULL, MPI_FLOAT, 0, MPI_COMM_WORLD);
    free(counts);
    free(displs);
}

#include <stdlib.h>
#include <mpi.h>

/* Dense matrix-vector product y = A*x, A is m x n row-major.
 * Rows are split into contiguous blocks; rank 0 gathers y. */
void matvec(int m, int n, const double *A, const double *x, double *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int *counts = malloc(sizeof(int) * size);
    int *displs = malloc(sizeof(int) * size);
    int base = m / size, rem = m % size;
    for (int r = 0; r < size; r++) {
        counts[r] = base + (r < rem ? 1 : 0);
        displs[r] = r * base + (r < rem ? r : rem);
    }
    for (int i = displs[rank]; i < displs[rank] + counts[rank]; i++) {
        double acc = 0.0;
        for (int j = 0; j < n; j++)
            acc += A[(long)i * n + j] * x[j];
        y[i] = acc;
    }
    if (rank == 0)
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DOUBLE, y, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    else
        MPI_Gatherv(y + displs[rank], counts[rank], MPI_DOUBLE, NULL, NULL, NULL, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    free(counts);
    free(displs);
}

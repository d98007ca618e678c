#include <stdlib.h>
#include <mpi.h>

/* C = A*B with A m x k, B k x n, C m x n, all row-major.
 * Rows of C are block-distributed; rank 0 gathers them. */
void matmul(int m, int n, int k, const double *A, const double *B, double *C)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int *counts = malloc(sizeof(int) * size);
    int *displs = malloc(sizeof(int) * size);
    for (int r = 0; r < size; r++) {
        long lo = (long)r * m / size, hi = (long)(r + 1) * m / size;
        counts[r] = (int)((hi - lo) * n);
        displs[r] = (int)(lo * n);
    }
    long lo = (long)rank * m / size, hi = (long)(rank + 1) * m / size;
    for (long i = lo; i < hi; i++)
        for (long j = 0; j < n; j++) {
            double s = 0.0;
            for (long p = 0; p < k; p++)
                s += A[i * k + p] * B[p * n + j];
            C[i * n + j] = s;
        }
    if (rank == 0)
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DOUBLE, C, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    else
        MPI_Gatherv(C + displs[rank], counts[rank], MPI_DOUBLE, NULL, NULL, NULL, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    free(counts);
    free(displs);
}

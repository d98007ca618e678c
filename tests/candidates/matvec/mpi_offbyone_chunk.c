#include <stdlib.h>
#include <mpi.h>

/* Dense matrix-vector product y = A*x, A is m x n row-major.
 * ceil(m / size) rows per rank. */
void matvec(int m, int n, const double *A, const double *x, double *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int chunk = (m + size - 1) / size;
    int *counts = malloc(sizeof(int) * size);
    int *displs = malloc(sizeof(int) * size);
    for (int r = 0; r < size; r++) {
        int a = r * chunk < m ? r * chunk : m;
        int b = a + chunk < m ? a + chunk : m;
        displs[r] = a;
        counts[r] = b - a;
    }
    int lo = displs[rank] + (rank > 0 ? 1 : 0);
    int hi = displs[rank] + counts[rank];
    for (int i = lo; i < hi; i++) {
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

#include <stdlib.h>
#include <mpi.h>

/* One sweep of the 2-D five-point Jacobi stencil on an n x m grid stored
 * row-major.  Boundary cells are copied from `in` unchanged.
 * Rows are block-distributed; every rank reads its neighbours' rows straight
 * from its full copy of `in`, and rank 0 gathers the rows of `out`. */
void jacobi2d(int n, int m, const double *in, double *out)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int *counts = malloc(sizeof(int) * size);
    int *displs = malloc(sizeof(int) * size);
    int base = n / size, rem = n % size;
    for (int r = 0; r < size; r++) {
        int rows = base + (r < rem ? 1 : 0);
        int first = r * base + (r < rem ? r : rem);
        counts[r] = rows * m;
        displs[r] = first * m;
    }
    long lo = displs[rank] / (m > 0 ? m : 1);
    long hi = lo + counts[rank] / (m > 0 ? m : 1);

    for (long i = lo; i < hi; i++) {
        for (long j = 0; j < m; j++) {
            if (i == 0 || j == 0 || i == n - 1 || j == m - 1) {
                out[i * m + j] = in[i * m + j];
            } else {
                out[i * m + j] = 0.2 * (in[i * m + j]
                                        + in[(i - 1) * m + j] + in[(i + 1) * m + j]
                                        + in[i * m + j - 1] + in[i * m + j + 1]);
            }
        }
    }
    if (rank == 0)
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DOUBLE, out, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    else
        MPI_Gatherv(out + displs[rank], counts[rank], MPI_DOUBLE, NULL, NULL, NULL, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    free(counts);
    free(displs);
}

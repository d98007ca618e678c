#include <stdlib.h>
#include <mpi.h>

/* One sweep of the 2-D five-point Jacobi stencil on an n x m grid stored
 * row-major.  Boundary cells are copied from `in` unchanged. */
void jacobi2d(int n, int m, const double *in, double *out)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int rows = n / size;
    long lo = (long)rank * rows;
    for (long i = lo; i < lo + rows; i++) {
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
        MPI_Gather(MPI_IN_PLACE, rows * m, MPI_DOUBLE, out, rows * m, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    else
        MPI_Gather(out + lo * m, rows * m, MPI_DOUBLE, NULL, rows * m, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}

#include <stdlib.h>
#include <mpi.h>

/* One sweep of the 1-D three-point Jacobi smoother.  Interior points get the
 * average of their neighbourhood in `in`; the two end points are copied. */
void jacobi1d(int n, const double *in, double *out)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (n <= 0)
        return;

    int *counts = malloc(sizeof(int) * size);
    int *displs = malloc(sizeof(int) * size);
    for (int r = 0; r < size; r++) {
        int lo = (int)((long)r * n / size);
        int hi = (int)((long)(r + 1) * n / size);
        displs[r] = lo;
        counts[r] = hi - lo;
    }
    int lo = displs[rank], hi = lo + counts[rank];
    for (int i = lo; i < hi - 1; i++) {
        if (i == 0)
            out[i] = in[i];
        else if (i < n - 1)
            out[i] = (in[i - 1] + in[i] + in[i + 1]) / 3.0;
    }
    if (rank == 0) {
        out[n - 1] = in[n - 1];
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DOUBLE, out, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    } else {
        MPI_Gatherv(out + lo, counts[rank], MPI_DOUBLE, NULL, NULL, NULL, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    }
    free(counts);
    free(displs);
}

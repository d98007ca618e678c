#include <stdlib.h>
#include <mpi.h>

/* One sweep of the 1-D three-point Jacobi smoother.  Interior points get the
 * average of their neighbourhood in `in`; the two end points are copied.
 * Every rank holds all of `in`, so no halo exchange is needed: each rank
 * computes a block of `out` and rank 0 gathers the blocks. */
void jacobi1d(int n, const double *in, double *out)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (n <= 0)
        return;

    int *counts = malloc(sizeof(int) * size);
    int *displs = malloc(sizeof(int) * size);
    int base = n / size, rem = n % size;
    for (int r = 0; r < size; r++) {
        counts[r] = base + (r < rem);
        displs[r] = r * base + (r < rem ? r : rem);
    }
    int lo = displs[rank], hi = lo + counts[rank];
    for (int i = lo; i < hi; i++) {
        if (i == 0 || i == n - 1)
            out[i] = in[i];
        else
            out[i] = (in[i - 1] + in[i] + in[i + 1]) / 3.0;
    }
    if (rank == 0)
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DOUBLE, out, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    else
        MPI_Gatherv(out + lo, counts[rank], MPI_DOUBLE, NULL, NULL, NULL, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    free(counts);
    free(displs);
}

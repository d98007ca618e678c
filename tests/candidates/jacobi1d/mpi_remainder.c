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

    int chunk = n / size;
    int lo = rank * chunk, hi = lo + chunk;
    for (int i = lo; i < hi; i++) {
        if (i == 0 || i == n - 1)
            out[i] = in[i];
        else
            out[i] = (in[i - 1] + in[i] + in[i + 1]) / 3.0;
    }
    if (rank == 0)
        MPI_Gather(MPI_IN_PLACE, chunk, MPI_DOUBLE, out, chunk, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    else
        MPI_Gather(out + lo, chunk, MPI_DOUBLE, NULL, chunk, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}

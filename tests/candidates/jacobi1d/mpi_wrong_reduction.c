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

    int base = n / size, rem = n % size;
    int lo = rank * base + (rank < rem ? rank : rem);
    int hi = lo + base + (rank < rem);
    for (int i = lo; i < hi; i++) {
        if (i == 0 || i == n - 1)
            out[i] = in[i];
        else
            out[i] = (in[i - 1] + in[i] + in[i + 1]) / 3.0;
    }
}

#include <stdlib.h>
#include <mpi.h>

/* Count how often each bin index occurs.  Every bin[i] is in [0, nbins);
 * hist (nbins entries) is cleared first.  Each rank counts a block of the
 * input into private bins; the bins are summed on rank 0. */
void histogram(int n, int nbins, const int *bin, int *hist)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (nbins <= 0)
        return;

    int *local = calloc((size_t)nbins, sizeof(int));
    long lo = (long)rank * n / size, hi = (long)(rank + 1) * n / size;
    for (long i = lo; i < hi; i++)
        local[bin[i]]++;
    MPI_Reduce(local, hist, nbins, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    free(local);
}

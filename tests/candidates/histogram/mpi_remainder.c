#include <stdlib.h>
#include <mpi.h>

/* Count how often each bin index occurs.  Every bin[i] is in [0, nbins);
 * hist (nbins entries) is cleared first. */
void histogram(int n, int nbins, const int *bin, int *hist)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (nbins <= 0)
        return;

    int *local = calloc((size_t)nbins, sizeof(int));
    int chunk = n / size;
    for (int i = rank * chunk; i < (rank + 1) * chunk; i++)
        local[bin[i]]++;
    MPI_Reduce(local, hist, nbins, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    free(local);
}

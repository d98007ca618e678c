#include <math.h>
#include <stdlib.h>
#include <mpi.h>

/* Numerically stable softmax: y[i] = exp(x[i] - max) / sum_j exp(x[j] - max).
 * Every rank needs the global max and sum, hence Allreduce; rank 0 gathers y. */
void softmax(int n, const double *x, double *y)
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

    double mx = -INFINITY;
    for (int i = lo; i < hi; i++)
        if (x[i] > mx)
            mx = x[i];
    MPI_Allreduce(MPI_IN_PLACE, &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);

    double total = 0.0;
    for (int i = lo; i < hi; i++) {
        y[i] = exp(x[i] - mx);
        total += y[i];
    }
    MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    for (int i = lo; i < hi; i++)
        y[i] /= total;

    if (rank == 0)
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DOUBLE, y, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    else
        MPI_Gatherv(y + lo, counts[rank], MPI_DOUBLE, NULL, NULL, NULL, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    free(counts);
    free(displs);
}

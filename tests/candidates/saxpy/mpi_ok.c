#include <stdlib.h>
#include <mpi.h>

/* Single-precision a*x plus y: y = a*x + y.
 * Every rank has all of x and y; each updates a contiguous block (the first
 * n % size ranks get one extra element) and rank 0 gathers the blocks. */
void saxpy(int n, float a, const float *x, float *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int base = n / size, rem = n % size;
    int *counts = malloc(sizeof(int) * size);
    int *displs = malloc(sizeof(int) * size);
    for (int r = 0, off = 0; r < size; r++) {
        counts[r] = base + (r < rem ? 1 : 0);
        displs[r] = off;
        off += counts[r];
    }
    int lo = displs[rank], hi = lo + counts[rank];

    for (int i = lo; i < hi; i++)
        y[i] = a * x[i] + y[i];

    if (rank == 0)
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_FLOAT, y, counts, displs, MPI_FLOAT, 0, MPI_COMM_WORLD);
    else
        MPI_Gatherv(y + lo, counts[rank], MPI_FLOAT, NULL, NULL, NULL, MPI_FLOAT, 0, MPI_COMM_WORLD);
    free(counts);
    free(displs);
}

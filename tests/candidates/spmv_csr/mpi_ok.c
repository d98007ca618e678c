#include <stdlib.h>
#include <mpi.h>

/* Sparse matrix-vector product y = A*x with A (n rows) in CSR format.
 * Rows are split into blocks of roughly equal nonzero counts (so ranks get
 * similar work on irregular matrices); rank 0 gathers y. */
void spmv_csr(int n, const int *rowptr, const int *col, const double *val,
              const double *x, double *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int *first = malloc(sizeof(int) * (size + 1));
    int *counts = malloc(sizeof(int) * size);
    long nnz = n > 0 ? rowptr[n] - rowptr[0] : 0;
    first[0] = 0;
    int row = 0;
    for (int r = 1; r < size; r++) {
        long target = rowptr[0] + nnz * r / size;
        while (row < n && rowptr[row] < target)
            row++;
        first[r] = row;
    }
    first[size] = n;
    for (int r = 0; r < size; r++)
        counts[r] = first[r + 1] - first[r];

    for (int i = first[rank]; i < first[rank + 1]; i++) {
        double dot = 0.0;
        for (int jj = rowptr[i]; jj < rowptr[i + 1]; jj++)
            dot += val[jj] * x[col[jj]];
        y[i] = dot;
    }
    if (rank == 0)
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DOUBLE, y, counts, first, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    else
        MPI_Gatherv(y + first[rank], counts[rank], MPI_DOUBLE, NULL, NULL, NULL, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    free(first);
    free(counts);
}

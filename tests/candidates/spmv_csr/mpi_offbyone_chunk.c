#include <stdlib.h>
#include <mpi.h>

/* Sparse matrix-vector product y = A*x with A (n rows) in CSR format.
 * Each rank computes a block of rows into a zeroed copy of y and the copies
 * are summed on rank 0. */

void spmv_csr(int n, const int *rowptr, const int *col, const double *val,
              const double *x, double *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    double *part = calloc(n > 0 ? (size_t)n : 1, sizeof(double));
    long lo = (long)rank * n / size, hi = (long)(rank + 1) * n / size;
    if (rank < size - 1 && hi < n)
        hi++;
    for (long i = lo; i < hi; i++) {
        double dot = 0.0;
        for (int jj = rowptr[i]; jj < rowptr[i + 1]; jj++)
            dot += val[jj] * x[col[jj]];
        part[i] = dot;
    }
    MPI_Reduce(part, y, n, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    free(part);
}

#include <omp.h>

/* Sparse matrix-vector product y = A*x with A (n rows) in CSR format:
 * the nonzeros of row i are val[rowptr[i] .. rowptr[i+1]-1] in columns col[]. */
void spmv_csr(int n, const int *rowptr, const int *col, const double *val,
              const double *x, double *y)
{
    #pragma omp parallel for
    for (int row = 0; row < n; row++) {
        double dot = 0.0;
        for (int jj = rowptr[row]; jj < rowptr[row + 1] - 1; jj++)
            dot += val[jj] * x[col[jj]];
        y[row] = dot;
    }
}

/* spmv.c - sparse matrix-vector product in CSR format on a 2-D Laplacian. */
#include <stdio.h>
#include <stdlib.h>

void spmv_csr(int n, const int *rowptr, const int *col, const double *val,
              const double *x, double *y)
{
    for (int row = 0; row < n; row++) {
        double dot = 0.0;
        for (int jj = rowptr[row]; jj < rowptr[row + 1]; jj++)
            dot += val[jj] * x[col[jj]];
        y[row] = dot;
    }
}

/* Build the 5-point Laplacian of a g x g grid (n = g*g rows) in CSR. */
static int build_laplacian(int g, int **rowptr, int **col, double **val)
{
    int n = g * g;
    *rowptr = malloc(sizeof(int) * (n + 1));
    *col = malloc(sizeof(int) * 5 * n);
    *val = malloc(sizeof(double) * 5 * n);
    if (!*rowptr || !*col || !*val)
        return -1;
    int nnz = 0;
    for (int i = 0; i < g; i++) {
        for (int j = 0; j < g; j++) {
            int r = i * g + j;
            (*rowptr)[r] = nnz;
            if (i > 0)     { (*col)[nnz] = r - g; (*val)[nnz++] = -1.0; }
            if (j > 0)     { (*col)[nnz] = r - 1; (*val)[nnz++] = -1.0; }
            (*col)[nnz] = r; (*val)[nnz++] = 4.0;
            if (j < g - 1) { (*col)[nnz] = r + 1; (*val)[nnz++] = -1.0; }
            if (i < g - 1) { (*col)[nnz] = r + g; (*val)[nnz++] = -1.0; }
        }
    }
    (*rowptr)[n] = nnz;
    return n;
}

int main(void)
{
    int *rowptr, *col;
    double *val;
    int n = build_laplacian(700, &rowptr, &col, &val);
    if (n < 0)
        return 1;
    double *x = malloc(sizeof(double) * n);
    double *y = malloc(sizeof(double) * n);
    if (!x || !y)
        return 1;
    for (int i = 0; i < n; i++)
        x[i] = 1.0 + (double)(i % 10) * 0.1;

    spmv_csr(n, rowptr, col, val, x, y);

    double checksum = 0.0;
    for (int i = 0; i < n; i++)
        checksum += y[i] * (double)((i % 7) + 1);
    printf("spmv n=%d nnz=%d checksum=%.6f\n", n, rowptr[n], checksum);
    free(rowptr);
    free(col);
    free(val);
    free(x);
    free(y);
    return 0;
}

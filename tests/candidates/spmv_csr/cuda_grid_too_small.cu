#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CUDA_CHECK(call)                                                    \
    do {                                                                    \
        cudaError_t err_ = (call);                                          \
        if (err_ != cudaSuccess) {                                          \
            fprintf(stderr, "CUDA error %s at %s:%d\n",                     \
                    cudaGetErrorString(err_), __FILE__, __LINE__);          \
            exit(EXIT_FAILURE);                                             \
        }                                                                   \
    } while (0)

/* One thread per row. */
__global__ void spmv_kernel(int n, const int *rowptr, const int *col, const double *val,
                            const double *x, double *y)
{
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row < n) {
        double dot = 0.0;
        for (int jj = rowptr[row]; jj < rowptr[row + 1]; jj++)
            dot += val[jj] * x[col[jj]];
        y[row] = dot;
    }
}

/* Sparse matrix-vector product y = A*x with A (n rows) in CSR format.
 * Host pointers.  The length of x is not a parameter, so it is taken as one
 * past the largest column index. */
extern "C" void spmv_csr(int n, const int *rowptr, const int *col, const double *val,
                         const double *x, double *y)
{
    if (n <= 0)
        return;
    int nnz = rowptr[n];
    int ncols = 0;
    for (int jj = rowptr[0]; jj < nnz; jj++)
        if (col[jj] + 1 > ncols)
            ncols = col[jj] + 1;

    int *d_rowptr = NULL, *d_col = NULL;
    double *d_val = NULL, *d_x = NULL, *d_y = NULL;
    CUDA_CHECK(cudaMalloc((void **)&d_rowptr, (size_t)(n + 1) * sizeof(int)));
    CUDA_CHECK(cudaMalloc((void **)&d_col, (size_t)(nnz > 0 ? nnz : 1) * sizeof(int)));
    CUDA_CHECK(cudaMalloc((void **)&d_val, (size_t)(nnz > 0 ? nnz : 1) * sizeof(double)));
    CUDA_CHECK(cudaMalloc((void **)&d_x, (size_t)(ncols > 0 ? ncols : 1) * sizeof(double)));
    CUDA_CHECK(cudaMalloc((void **)&d_y, (size_t)n * sizeof(double)));
    CUDA_CHECK(cudaMemcpy(d_rowptr, rowptr, (size_t)(n + 1) * sizeof(int), cudaMemcpyHostToDevice));
    if (nnz > 0) {
        CUDA_CHECK(cudaMemcpy(d_col, col, (size_t)nnz * sizeof(int), cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(d_val, val, (size_t)nnz * sizeof(double), cudaMemcpyHostToDevice));
    }
    if (ncols > 0)
        CUDA_CHECK(cudaMemcpy(d_x, x, (size_t)ncols * sizeof(double), cudaMemcpyHostToDevice));

    const int threads = 128;
    int blocks = (n + threads - 1) / threads;
    if (blocks > 512)
        blocks = 512;
    spmv_kernel<<<blocks, threads>>>(n, d_rowptr, d_col, d_val, d_x, d_y);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());

    CUDA_CHECK(cudaMemcpy(y, d_y, (size_t)n * sizeof(double), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(d_rowptr));
    CUDA_CHECK(cudaFree(d_col));
    CUDA_CHECK(cudaFree(d_val));
    CUDA_CHECK(cudaFree(d_x));
    CUDA_CHECK(cudaFree(d_y));
}

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

#define TILE 16

/* One thread per element of C: row from y, column from x. */
__global__ void matmul_kernel(int m, int n, int k, const double *A, const double *B, double *C)
{
    long row = (long)blockIdx.y * blockDim.y + threadIdx.y;
    long col = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (row < m && col < n) {
        double s = 0.0;
        for (long p = 0; p < k; p++)
            s += A[row * k + p] * B[p * n + col];
        C[row * n + col] = s;
    }
}

/* C = A*B with A m x k, B k x n, C m x n, all row-major. Host pointers. */
extern "C" void matmul(int m, int n, int k, const double *A, const double *B, double *C)
{
    if (m <= 0 || n <= 0)
        return;
    size_t bytesA = (size_t)m * (size_t)(k > 0 ? k : 0) * sizeof(double);
    size_t bytesB = (size_t)(k > 0 ? k : 0) * (size_t)n * sizeof(double);
    size_t bytesC = (size_t)m * (size_t)n * sizeof(double);
    double *d_A = NULL, *d_B = NULL, *d_C = NULL;
    CUDA_CHECK(cudaMalloc((void **)&d_A, bytesA > 0 ? bytesA : sizeof(double)));
    CUDA_CHECK(cudaMalloc((void **)&d_B, bytesB > 0 ? bytesB : sizeof(double)));
    CUDA_CHECK(cudaMalloc((void **)&d_C, bytesC));
    if (bytesA > 0)
        CUDA_CHECK(cudaMemcpy(d_A, A, bytesA, cudaMemcpyHostToDevice));
    if (bytesB > 0)
        CUDA_CHECK(cudaMemcpy(d_B, B, bytesB, cudaMemcpyHostToDevice));

    dim3 block(TILE, TILE / 2);
    dim3 grid((n + TILE - 1) / TILE, (m + TILE - 1) / TILE);
    matmul_kernel<<<grid, block>>>(m, n, k, d_A, d_B, d_C);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());

    CUDA_CHECK(cudaMemcpy(C, d_C, bytesC, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(d_A));
    CUDA_CHECK(cudaFree(d_B));
    CUDA_CHECK(cudaFree(d_C));
}

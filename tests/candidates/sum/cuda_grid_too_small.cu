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

#define THREADS 256

/* Each block reduces blockDim.x elements of x in shared memory and writes
 * one partial sum; the host adds the partials.  One element per thread. */
__global__ void sum_partials(int n, const double *x, double *partial)
{
    __shared__ double buf[THREADS];
    double s = 0.0;
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        s = x[i];
    buf[threadIdx.x] = s;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride)
            buf[threadIdx.x] += buf[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        partial[blockIdx.x] = buf[0];
}

/* Sum of the elements of x. Host pointer in. */
extern "C" double sum(int n, const double *x)
{
    if (n <= 0)
        return 0.0;
    int blocks = (n + THREADS - 1) / THREADS;
    if (blocks > 64)
        blocks = 64;
    double *d_x = NULL, *d_part = NULL;
    CUDA_CHECK(cudaMalloc((void **)&d_x, (size_t)n * sizeof(double)));
    CUDA_CHECK(cudaMalloc((void **)&d_part, (size_t)blocks * sizeof(double)));
    CUDA_CHECK(cudaMemcpy(d_x, x, (size_t)n * sizeof(double), cudaMemcpyHostToDevice));

    sum_partials<<<blocks, THREADS>>>(n, d_x, d_part);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());

    double *part = (double *)malloc((size_t)blocks * sizeof(double));
    if (part == NULL) {
        fprintf(stderr, "out of host memory\n");
        exit(EXIT_FAILURE);
    }
    CUDA_CHECK(cudaMemcpy(part, d_part, (size_t)blocks * sizeof(double), cudaMemcpyDeviceToHost));
    double s = 0.0;
    for (int b = 0; b < blocks; b++)
        s += part[b];
    free(part);
    CUDA_CHECK(cudaFree(d_x));
    CUDA_CHECK(cudaFree(d_part));
    return s;
}

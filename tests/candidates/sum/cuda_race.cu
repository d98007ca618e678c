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

/* Every thread adds its element into the global accumulator. */
__global__ void sum_kernel(int n, const double *x, double *result)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        *result += x[i];
}

/* Sum of the elements of x. Host pointer in. */
extern "C" double sum(int n, const double *x)
{
    if (n <= 0)
        return 0.0;
    double *d_x = NULL, *d_result = NULL;
    CUDA_CHECK(cudaMalloc((void **)&d_x, (size_t)n * sizeof(double)));
    CUDA_CHECK(cudaMalloc((void **)&d_result, sizeof(double)));
    CUDA_CHECK(cudaMemcpy(d_x, x, (size_t)n * sizeof(double), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(d_result, 0, sizeof(double)));

    const int threads = 256;
    sum_kernel<<<(n + threads - 1) / threads, threads>>>(n, d_x, d_result);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());

    double s = 0.0;
    CUDA_CHECK(cudaMemcpy(&s, d_result, sizeof(double), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(d_x));
    CUDA_CHECK(cudaFree(d_result));
    return s;
}

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

__global__ void histogram_kernel(int n, const int *bin, int *hist)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        hist[bin[i]]++;
}

/* Count how often each bin index occurs.  Every bin[i] is in [0, nbins);
 * hist (nbins entries) is cleared first.  Host pointers in and out. */
extern "C" void histogram(int n, int nbins, const int *bin, int *hist)
{
    if (nbins <= 0)
        return;
    if (n <= 0) {
        for (int b = 0; b < nbins; b++)
            hist[b] = 0;
        return;
    }
    int *d_bin = NULL, *d_hist = NULL;
    CUDA_CHECK(cudaMalloc((void **)&d_bin, (size_t)n * sizeof(int)));
    CUDA_CHECK(cudaMalloc((void **)&d_hist, (size_t)nbins * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d_bin, bin, (size_t)n * sizeof(int), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(d_hist, 0, (size_t)nbins * sizeof(int)));

    const int threads = 256;
    histogram_kernel<<<(n + threads - 1) / threads, threads>>>(n, d_bin, d_hist);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());

    CUDA_CHECK(cudaMemcpy(hist, d_hist, (size_t)nbins * sizeof(int), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(d_bin));
    CUDA_CHECK(cudaFree(d_hist));
}

// 256-bin histogram: per-block privatised bins in shared memory (shared atomics), merged with global atomics.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

#define BINS 256
__global__ void histogram(const unsigned char* data, unsigned* hist, int n) {
    __shared__ unsigned local[BINS];
    for (int b = threadIdx.x; b < BINS; b += blockDim.x) local[b] = 0;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        atomicAdd(&local[data[i]], 1u);
    __syncthreads();
    for (int b = threadIdx.x; b < BINS; b += blockDim.x)
        if (local[b]) atomicAdd(&hist[b], local[b]);
}
__global__ void histogram_global(const unsigned char* data, unsigned* hist, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(&hist[data[i] ^ 0x55], 1u);
}

int main() {
    const int n = 1 << 20;
    unsigned char* h = (unsigned char*)malloc(n);
    unsigned want[BINS] = {0}, want2[BINS] = {0}, got[BINS], got2[BINS];
    for (int i = 0; i < n; ++i) { h[i] = (unsigned char)(hash_u32(i) % 251 + (i % 5)); ++want[h[i]]; ++want2[h[i] ^ 0x55]; }
    unsigned char* d; unsigned *dh, *dh2;
    CUDA_CHECK(cudaMalloc(&d, n));
    CUDA_CHECK(cudaMalloc(&dh, BINS * sizeof(unsigned)));
    CUDA_CHECK(cudaMalloc(&dh2, BINS * sizeof(unsigned)));
    CUDA_CHECK(cudaMemcpy(d, h, n, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(dh, 0, BINS * sizeof(unsigned)));
    CUDA_CHECK(cudaMemset(dh2, 0, BINS * sizeof(unsigned)));
    histogram<<<32, 256>>>(d, dh, n);
    histogram_global<<<(n + 255) / 256, 256>>>(d, dh2, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(got, dh, sizeof got, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(got2, dh2, sizeof got2, cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int b = 0; b < BINS; ++b) bad += (got[b] != want[b]) + (got2[b] != want2[b]);
    cudaFree(d); cudaFree(dh); cudaFree(dh2); free(h);
    return report(bad, "atomic histogram");
}

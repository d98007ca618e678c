// expect: forward=pass reverse=pass tsan=race
// BUG: per-block histogram in shared memory updated with a plain ++ (should be atomicAdd).
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

#define BINS 64
__global__ void histogram(const int* data, unsigned* hist, int n) {
    __shared__ unsigned local[BINS];
    for (int b = threadIdx.x; b < BINS; b += blockDim.x) local[b] = 0;
    __syncthreads();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) local[data[i] % BINS] += 1;        // racy read-modify-write
    __syncthreads();
    for (int b = threadIdx.x; b < BINS; b += blockDim.x) atomicAdd(&hist[b], local[b]);
}

int main() {
    const int n = 1 << 13;
    int* h = (int*)malloc(n * sizeof(int));
    unsigned want[BINS] = {0}, got[BINS];
    for (int i = 0; i < n; ++i) { h[i] = (int)(hash_u32(i) & 0xffff); ++want[h[i] % BINS]; }
    int* d; unsigned* dh;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dh, sizeof want));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(dh, 0, sizeof want));
    histogram<<<(n + 127) / 128, 128>>>(d, dh, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(got, dh, sizeof got, cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int b = 0; b < BINS; ++b) bad += got[b] != want[b];
    cudaFree(d); cudaFree(dh); free(h);
    return report(bad, "shared-memory histogram");
}

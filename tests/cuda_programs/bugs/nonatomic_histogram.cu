// expect: forward=pass reverse=pass tsan=race
// BUG: histogram bins incremented with a plain ++ from many threads: lost updates on a GPU.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// Threads of a block run one after another on the CPU, so the counts happen to come out right
// there; ThreadSanitizer reports the race.
__global__ void histogram(const unsigned char* data, unsigned* hist, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) hist[data[i] % 16]++;             // should be atomicAdd(&hist[...], 1u)
}

int main() {
    const int n = 1 << 14;
    unsigned char* h = (unsigned char*)malloc(n);
    unsigned want[16] = {0}, got[16];
    for (int i = 0; i < n; ++i) { h[i] = (unsigned char)hash_u32(i); ++want[h[i] % 16]; }
    unsigned char* d; unsigned* dh;
    CUDA_CHECK(cudaMalloc(&d, n));
    CUDA_CHECK(cudaMalloc(&dh, sizeof want));
    CUDA_CHECK(cudaMemcpy(d, h, n, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(dh, 0, sizeof want));
    histogram<<<(n + 255) / 256, 256>>>(d, dh, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(got, dh, sizeof got, cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int b = 0; b < 16; ++b) bad += got[b] != want[b];
    cudaFree(d); cudaFree(dh); free(h);
    return report(bad, "histogram");
}

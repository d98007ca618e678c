// 1D stencil of radius 3 with shared-memory halos loaded by the first RADIUS threads of each block.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

#define RADIUS 3
#define BLOCK 128
__global__ void stencil(const float* in, float* out, int n) {
    __shared__ float temp[BLOCK + 2 * RADIUS];
    int g = blockIdx.x * blockDim.x + threadIdx.x;
    int l = threadIdx.x + RADIUS;
    temp[l] = g < n ? in[g] : 0.0f;
    if (threadIdx.x < RADIUS) {
        int left = g - RADIUS, right = g + BLOCK;
        temp[l - RADIUS] = left >= 0 && left < n ? in[left] : 0.0f;
        temp[l + BLOCK] = right < n ? in[right] : 0.0f;
    }
    __syncthreads();
    if (g < n) {
        float s = 0.0f;
        for (int k = -RADIUS; k <= RADIUS; ++k) s += temp[l + k];
        out[g] = s;
    }
}

int main() {
    const int n = 100003;
    float *h = (float*)malloc(n * sizeof(float)), *o = (float*)malloc(n * sizeof(float));
    for (int i = 0; i < n; ++i) h[i] = (float)(i % 17) - 8.0f;
    float *d, *dout;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dout, n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice));
    stencil<<<(n + BLOCK - 1) / BLOCK, BLOCK>>>(d, dout, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, n * sizeof(float), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int i = 0; i < n; ++i) {
        float s = 0.0f;
        for (int k = -RADIUS; k <= RADIUS; ++k) s += (i + k >= 0 && i + k < n) ? h[i + k] : 0.0f;
        if (o[i] != s) ++bad;
    }
    cudaFree(d); cudaFree(dout); free(h); free(o);
    return report(bad, "1D stencil with halos");
}

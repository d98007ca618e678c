// expect: forward=pass reverse=pass asan=asan
// BUG: a 1D stencil whose shared tile lacks room for the right halo: thread t writes tile[t + 2]
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// for the last two threads of the block, past the end of the __shared__ array.
#define BLOCK 128
__global__ void stencil(const float* in, float* out, int n) {
    __shared__ float tile[BLOCK + 1];            // should be BLOCK + 2
    int t = threadIdx.x, i = blockIdx.x * BLOCK + t;
    tile[t + 1] = i < n ? in[i] : 0.0f;
    if (t == 0) tile[0] = i > 0 ? in[i - 1] : 0.0f;
    if (t == BLOCK - 1) tile[BLOCK + 1] = i + 1 < n ? in[i + 1] : 0.0f;
    __syncthreads();
    if (i < n) out[i] = tile[t] + tile[t + 1] + tile[t + 2];
}

int main() {
    const int n = 128 * 20;
    float *h = (float*)malloc(n * sizeof(float)), *o = (float*)malloc(n * sizeof(float));
    for (int i = 0; i < n; ++i) h[i] = 1.0f;
    float *d, *dout;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dout, n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice));
    stencil<<<n / BLOCK, BLOCK>>>(d, dout, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, n * sizeof(float), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int i = 0; i < n; ++i) if (o[i] != (i > 0) + 1.0f + (i + 1 < n)) ++bad;
    cudaFree(d); cudaFree(dout); free(h); free(o);
    return report(bad, "3-point stencil");
}

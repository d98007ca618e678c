// expect: forward=pass reverse=fail tsan=race
// BUG: each thread reads the value its left neighbour stored in shared memory without a barrier.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// Threads that happen to run in index order see the value; in any other order they do not.
#define BLOCK 256
__global__ void diff(const float* in, float* out, int n) {
    __shared__ float s[BLOCK];
    int t = threadIdx.x, i = blockIdx.x * BLOCK + t;
    s[t] = i < n ? in[i] : 0.0f;
    // __syncthreads();   <- missing
    if (i < n) out[i] = t > 0 ? s[t] - s[t - 1] : s[t];
}

int main() {
    const int n = 256 * 100;
    float *h = (float*)malloc(n * sizeof(float)), *o = (float*)malloc(n * sizeof(float));
    for (int i = 0; i < n; ++i) h[i] = (float)(i % 31);
    float *d, *dout;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dout, n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice));
    diff<<<n / BLOCK, BLOCK>>>(d, dout, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, n * sizeof(float), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int i = 0; i < n; ++i) if (o[i] != (i % BLOCK ? h[i] - h[i - 1] : h[i])) ++bad;
    cudaFree(d); cudaFree(dout); free(h); free(o);
    return report(bad, "neighbour differences");
}

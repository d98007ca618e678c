// Dynamic shared memory sized at launch and split into two arrays: reverse each block's segment
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// and record the segment's maximum.
__global__ void reverse_segments(const float* in, float* out, float* seg_max, int n) {
    extern __shared__ float smem[];
    float* vals = smem;                 // blockDim.x floats
    float* maxes = smem + blockDim.x;   // blockDim.x floats
    int t = threadIdx.x;
    int base = blockIdx.x * blockDim.x;
    int i = base + t;
    vals[t] = i < n ? in[i] : 0.0f;
    maxes[t] = i < n ? in[i] : -INFINITY;
    __syncthreads();
    int len = min((int)blockDim.x, n - base);
    if (t < len) out[base + t] = vals[len - 1 - t];
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) maxes[t] = fmaxf(maxes[t], maxes[t + s]);
        __syncthreads();
    }
    if (t == 0) seg_max[blockIdx.x] = maxes[0];
}

int main() {
    const int n = 100000, block = 128, blocks = (n + block - 1) / block;
    float *h = (float*)malloc(n * sizeof(float)), *o = (float*)malloc(n * sizeof(float)), *m = (float*)malloc(blocks * sizeof(float));
    for (int i = 0; i < n; ++i) h[i] = rnd(i);
    float *d, *dout, *dmax;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dout, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dmax, blocks * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice));
    reverse_segments<<<blocks, block, 2 * block * sizeof(float)>>>(d, dout, dmax, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, n * sizeof(float), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(m, dmax, blocks * sizeof(float), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int b = 0; b < blocks; ++b) {
        int base = b * block, len = n - base < block ? n - base : block;
        float mx = -INFINITY;
        for (int t = 0; t < len; ++t) { if (o[base + t] != h[base + len - 1 - t]) ++bad; mx = fmaxf(mx, h[base + t]); }
        if (m[b] != mx) ++bad;
    }
    cudaFree(d); cudaFree(dout); cudaFree(dmax); free(h); free(o); free(m);
    return report(bad, "dynamic shared memory");
}

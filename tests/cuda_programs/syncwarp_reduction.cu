// Warp-synchronous final stage done right on Volta+: shared memory + __syncwarp between steps.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

__global__ void reduce(const float* in, float* out, int n) {
    __shared__ float s[128];
    int tid = threadIdx.x, i = blockIdx.x * blockDim.x + tid;
    s[tid] = i < n ? in[i] : 0.0f;
    __syncthreads();
    for (int st = 64; st > 32; st >>= 1) {
        if (tid < st) s[tid] += s[tid + st];
        __syncthreads();
    }
    if (tid < 32) {
        float v = s[tid] + s[tid + 32];
        __syncwarp();
        s[tid] = v;
        __syncwarp();
        for (int off = 16; off > 0; off >>= 1) {
            if (tid < off) v += s[tid + off];
            __syncwarp();
            s[tid] = v;
            __syncwarp();
        }
        if (tid == 0) out[blockIdx.x] = v;
    }
}

int main() {
    const int n = 128 * 500 - 17, blocks = (n + 127) / 128;
    float *h = (float*)malloc(n * sizeof(float)), *o = (float*)malloc(blocks * sizeof(float));
    for (int i = 0; i < n; ++i) h[i] = (float)(i % 9) - 4.0f;
    float *d, *dout;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dout, blocks * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice));
    reduce<<<blocks, 128>>>(d, dout, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, blocks * sizeof(float), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int b = 0; b < blocks; ++b) {
        float s = 0.0f;
        for (int i = b * 128; i < n && i < (b + 1) * 128; ++i) s += h[i];
        if (o[b] != s) ++bad;
    }
    cudaFree(d); cudaFree(dout); free(h); free(o);
    return report(bad, "__syncwarp warp-synchronous reduction");
}

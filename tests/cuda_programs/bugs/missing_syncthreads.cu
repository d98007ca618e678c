// expect: forward=fail reverse=pass tsan=race
// BUG: no __syncthreads() between filling shared memory and the first reduction step.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

#define BLOCK 256
__global__ void reduce_sum(const int* in, int* out, int n) {
    __shared__ int s[BLOCK];
    int tid = threadIdx.x, i = blockIdx.x * BLOCK + tid;
    s[tid] = i < n ? in[i] : 0;
    // __syncthreads();   <- missing
    for (int stride = BLOCK / 2; stride > 0; stride >>= 1) {
        if (tid < stride) s[tid] += s[tid + stride];
        __syncthreads();
    }
    if (tid == 0) out[blockIdx.x] = s[0];
}

int main() {
    const int n = 100000, blocks = (n + BLOCK - 1) / BLOCK;
    int *h = (int*)malloc(n * sizeof(int)), *o = (int*)malloc(blocks * sizeof(int));
    for (int i = 0; i < n; ++i) h[i] = (int)(hash_u32(i) % 100);
    int *d, *dout;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dout, blocks * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
    reduce_sum<<<blocks, BLOCK>>>(d, dout, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, blocks * sizeof(int), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int b = 0; b < blocks; ++b) {
        int s = 0;
        for (int i = b * BLOCK; i < n && i < (b + 1) * BLOCK; ++i) s += h[i];
        if (o[b] != s) ++bad;
    }
    cudaFree(d); cudaFree(dout); free(h); free(o);
    return report(bad, "block sums");
}

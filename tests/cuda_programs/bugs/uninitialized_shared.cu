// expect: forward=fail reverse=fail
// BUG: per-block accumulators in shared memory are never zeroed (shared memory starts with
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// whatever an earlier block left there on a GPU).
__global__ void block_counts(const int* keys, int* out, int n) {
    __shared__ int count[8];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    // if (threadIdx.x < 8) count[threadIdx.x] = 0; __syncthreads();   <- missing
    if (i < n) atomicAdd(&count[keys[i] & 7], 1);
    __syncthreads();
    if (threadIdx.x < 8) out[blockIdx.x * 8 + threadIdx.x] = count[threadIdx.x];
}

int main() {
    const int n = 256 * 40, blocks = n / 256;
    int *h = (int*)malloc(n * sizeof(int)), *o = (int*)malloc(blocks * 8 * sizeof(int));
    for (int i = 0; i < n; ++i) h[i] = (int)hash_u32(i);
    int *d, *dout;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dout, blocks * 8 * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
    block_counts<<<blocks, 256>>>(d, dout, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, blocks * 8 * sizeof(int), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int b = 0; b < blocks; ++b) {
        int c[8] = {0};
        for (int i = 256 * b; i < 256 * (b + 1); ++i) ++c[h[i] & 7];
        for (int k = 0; k < 8; ++k) bad += o[8 * b + k] != c[k];
    }
    cudaFree(d); cudaFree(dout); free(h); free(o);
    return report(bad, "per-block key counts");
}

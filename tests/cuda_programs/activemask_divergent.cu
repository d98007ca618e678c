// __activemask() inside divergent code: only the lanes that took the branch are in the mask, and
// collectives over that mask complete while the other lanes wait at a later barrier.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

__global__ void summarize(const int* in, int* out, int n) {
    __shared__ int block_total;
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (threadIdx.x == 0) block_total = 0;
    __syncthreads();
    if (i < n) {
        unsigned active = __activemask();
        int v = in[i];
        unsigned positive = __ballot_sync(active, v > 0);
        int leader = __ffs(active) - 1;
        int first = __shfl_sync(active, v, leader);
        out[i] = __popc(positive) * 1000 + first;
        if ((int)(threadIdx.x & 31) == leader) atomicAdd(&block_total, __popc(active));
    }
    __syncthreads();
    if (threadIdx.x == 0) out[n + blockIdx.x] = block_total;
}

int main() {
    const int n = 1000, block = 128, blocks = (n + block - 1) / block;   // the last warp is partly out of range
    int *h = (int*)malloc(n * sizeof(int)), *o = (int*)malloc((n + blocks) * sizeof(int));
    for (int i = 0; i < n; ++i) h[i] = (int)(hash_u32(i) % 21) - 10;
    int *d, *dout;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dout, (n + blocks) * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
    summarize<<<blocks, block>>>(d, dout, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, (n + blocks) * sizeof(int), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int w = 0; w * 32 < n; ++w) {
        int lo = 32 * w, hi = lo + 32 < n ? lo + 32 : n, pos = 0;
        for (int i = lo; i < hi; ++i) pos += h[i] > 0;
        for (int i = lo; i < hi; ++i) bad += o[i] != pos * 1000 + h[lo];
    }
    for (int b = 0; b < blocks; ++b) {
        int cnt = (b + 1) * block < n ? block : n - b * block;
        bad += o[n + b] != cnt;
    }
    cudaFree(d); cudaFree(dout); free(h); free(o);
    return report(bad, "__activemask in divergent code");
}

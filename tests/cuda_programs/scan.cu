// Exclusive prefix sum of a large array: Blelloch scan per block (shared memory), scan of block sums,
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// then a uniform add.
#define B 512  // elements per block (256 threads x 2)
__global__ void scan_blocks(const int* in, int* out, int* sums, int n) {
    __shared__ int t[B];
    int tid = threadIdx.x, base = blockIdx.x * B;
    t[2 * tid] = base + 2 * tid < n ? in[base + 2 * tid] : 0;
    t[2 * tid + 1] = base + 2 * tid + 1 < n ? in[base + 2 * tid + 1] : 0;
    int offset = 1;
    for (int d = B >> 1; d > 0; d >>= 1) {   // up-sweep
        __syncthreads();
        if (tid < d) { int ai = offset * (2 * tid + 1) - 1, bi = offset * (2 * tid + 2) - 1; t[bi] += t[ai]; }
        offset <<= 1;
    }
    if (tid == 0) { if (sums) sums[blockIdx.x] = t[B - 1]; t[B - 1] = 0; }
    for (int d = 1; d < B; d <<= 1) {        // down-sweep
        offset >>= 1;
        __syncthreads();
        if (tid < d) {
            int ai = offset * (2 * tid + 1) - 1, bi = offset * (2 * tid + 2) - 1;
            int x = t[ai]; t[ai] = t[bi]; t[bi] += x;
        }
    }
    __syncthreads();
    if (base + 2 * tid < n) out[base + 2 * tid] = t[2 * tid];
    if (base + 2 * tid + 1 < n) out[base + 2 * tid + 1] = t[2 * tid + 1];
}
__global__ void add_offsets(int* out, const int* offs, int n) {
    int i = blockIdx.x * B + threadIdx.x;
    int o = offs[blockIdx.x];
    if (i < n) out[i] += o;
    if (i + B / 2 < n) out[i + B / 2] += o;
}

int main() {
    const int n = 200000;                       // 391 blocks; their sums fit one more block
    const int blocks = (n + B - 1) / B;
    int *h = (int*)malloc(n * sizeof(int)), *o = (int*)malloc(n * sizeof(int));
    for (int i = 0; i < n; ++i) h[i] = (int)(hash_u32(i) % 10);
    int *d, *dout, *dsums, *doffs;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dout, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dsums, blocks * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&doffs, blocks * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
    scan_blocks<<<blocks, B / 2>>>(d, dout, dsums, n);
    scan_blocks<<<1, B / 2>>>(dsums, doffs, nullptr, blocks);
    add_offsets<<<blocks, B / 2>>>(dout, doffs, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, n * sizeof(int), cudaMemcpyDeviceToHost));
    long bad = 0; int acc = 0;
    for (int i = 0; i < n; ++i) { if (o[i] != acc) ++bad; acc += h[i]; }
    cudaFree(d); cudaFree(dout); cudaFree(dsums); cudaFree(doffs); free(h); free(o);
    return report(bad, "Blelloch exclusive scan");
}

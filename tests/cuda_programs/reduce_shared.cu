// Shared-memory tree reduction (256-thread blocks), per-block partial sums, then a one-block second pass.
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
__global__ void reduce_sum(const int* in, long long* out, int n) {
    __shared__ long long s[BLOCK];
    int tid = threadIdx.x;
    int i = blockIdx.x * blockDim.x * 2 + threadIdx.x;
    long long v = 0;
    if (i < n) v += in[i];
    if (i + blockDim.x < n) v += in[i + blockDim.x];
    s[tid] = v;
    __syncthreads();
    for (unsigned stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (tid < stride) s[tid] += s[tid + stride];
        __syncthreads();
    }
    if (tid == 0) out[blockIdx.x] = s[0];
}
__global__ void reduce_partials(long long* partials, int m) {
    __shared__ long long s[BLOCK];
    long long v = 0;
    for (int i = threadIdx.x; i < m; i += blockDim.x) v += partials[i];
    s[threadIdx.x] = v;
    __syncthreads();
    for (unsigned stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) partials[0] = s[0];
}

int main() {
    const int n = 1000000 + 123;
    int* h = (int*)malloc(n * sizeof(int));
    long long want = 0;
    for (int i = 0; i < n; ++i) { h[i] = (int)(hash_u32(i) % 2001) - 1000; want += h[i]; }
    int blocks = (n + 2 * BLOCK - 1) / (2 * BLOCK);
    int* d; long long* dp;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dp, blocks * sizeof(long long)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
    reduce_sum<<<blocks, BLOCK>>>(d, dp, n);
    CUDA_CHECK(cudaGetLastError());
    reduce_partials<<<1, BLOCK>>>(dp, blocks);
    CUDA_CHECK(cudaGetLastError());
    long long got = 0;
    CUDA_CHECK(cudaMemcpy(&got, dp, sizeof(long long), cudaMemcpyDeviceToHost));
    if (got != want) printf("sum %lld, expected %lld\n", got, want);
    cudaFree(d); cudaFree(dp); free(h);
    return report(got != want, "shared-memory tree reduction");
}

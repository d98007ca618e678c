// Barriers with exited threads (Volta+ semantics: exited threads are not waited for),
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// __syncthreads_count/_and/_or, and a per-block count of valid elements.
__global__ void count_valid(const int* in, int n, int* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;                  // tail threads of the last block leave before the barriers
    __shared__ int s[256];
    s[threadIdx.x] = in[i];
    __syncthreads();
    int neighbour = (threadIdx.x + 1 < blockDim.x && i + 1 < n) ? s[threadIdx.x + 1] : 0;
    int cnt = __syncthreads_count(in[i] > 0);
    int all = __syncthreads_and(in[i] > -100);
    int any = __syncthreads_or(in[i] > 8);
    out[4 * i + 0] = neighbour;
    out[4 * i + 1] = cnt;
    out[4 * i + 2] = all;
    out[4 * i + 3] = any;
}

int main() {
    const int n = 10000, block = 256, blocks = (n + block - 1) / block;
    int *h = (int*)malloc(n * sizeof(int)), *o = (int*)malloc(4 * n * sizeof(int));
    for (int i = 0; i < n; ++i) h[i] = (int)(hash_u32(i) % 19) - 9;
    int *d, *dout;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dout, 4 * n * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
    count_valid<<<blocks, block>>>(d, n, dout);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(o, dout, 4 * n * sizeof(int), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int b = 0; b < blocks; ++b) {
        int lo = b * block, hi = lo + block < n ? lo + block : n, cnt = 0, any = 0;
        for (int i = lo; i < hi; ++i) { cnt += h[i] > 0; any |= h[i] > 8; }
        for (int i = lo; i < hi; ++i) {
            int nb = (i + 1 < hi) ? h[i + 1] : 0;
            if (o[4*i] != nb || o[4*i+1] != cnt || o[4*i+2] != 1 || o[4*i+3] != any) ++bad;
        }
    }
    cudaFree(d); cudaFree(dout); free(h); free(o);
    return report(bad, "barriers with exited threads and __syncthreads_count");
}

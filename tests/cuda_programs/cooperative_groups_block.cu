// Block-level cooperative groups: this_thread_block, tiled_partition<32> and <8>, tile shuffles,
// cg::reduce and cg::inclusive_scan, block.sync().
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
#include <cooperative_groups/scan.h>
namespace cg = cooperative_groups;

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

__global__ void groups(const int* in, int* block_sum, int* tile8_scan, int n) {
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    cg::thread_block_tile<8> tile8 = cg::tiled_partition<8>(block);
    __shared__ int warp_sums[32];
    int i = blockIdx.x * blockDim.x + (int)block.thread_rank();
    int v = i < n ? in[i] : 0;
    int s = cg::reduce(warp, v, cg::plus<int>());
    int down = v;
    for (int o = 16; o > 0; o /= 2) down += warp.shfl_down(down, o);
    if (warp.thread_rank() == 0) warp_sums[warp.meta_group_rank()] = s + (down - s);
    block.sync();
    if (block.thread_rank() == 0) {
        int t = 0;
        for (unsigned w = 0; w < (block.size() + 31) / 32; ++w) t += warp_sums[w];
        block_sum[blockIdx.x] = t;
    }
    int sc = cg::inclusive_scan(tile8, v);
    if (i < n) tile8_scan[i] = sc;
}

int main() {
    const int n = 256 * 50, blocks = n / 256;
    int *h = (int*)malloc(n * sizeof(int)), *bs = (int*)malloc(blocks * sizeof(int)), *sc = (int*)malloc(n * sizeof(int));
    for (int i = 0; i < n; ++i) h[i] = (int)(hash_u32(i) % 100) - 50;
    int *d, *dbs, *dsc;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dbs, blocks * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dsc, n * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
    groups<<<blocks, 256>>>(d, dbs, dsc, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(bs, dbs, blocks * sizeof(int), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(sc, dsc, n * sizeof(int), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int b = 0; b < blocks; ++b) {
        int t = 0;
        for (int i = 256 * b; i < 256 * (b + 1); ++i) t += h[i];
        bad += bs[b] != t;
    }
    for (int i = 0; i < n; ++i) {
        int acc = 0;
        for (int k = i / 8 * 8; k <= i; ++k) acc += h[k];
        bad += sc[i] != acc;
    }
    cudaFree(d); cudaFree(dbs); cudaFree(dsc); free(h); free(bs); free(sc);
    return report(bad, "block-level cooperative groups");
}

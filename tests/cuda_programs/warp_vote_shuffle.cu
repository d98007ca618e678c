// Warp collectives: ballot/any/all/popc, xor butterfly all-reduce, shfl_up inclusive scan,
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// broadcast with __shfl_sync, and width-16 segments.
__global__ void warp_ops(const int* in, int* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int lane = threadIdx.x & 31;
    int v = i < n ? in[i] : 0;
    unsigned ballot = __ballot_sync(0xffffffffu, v > 0);
    int any_neg = __any_sync(0xffffffffu, v < 0);
    int all_small = __all_sync(0xffffffffu, v < 100);
    int sum = v;
    for (int m = 16; m > 0; m >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, m);
    int scan = v;
    for (int d = 1; d < 32; d <<= 1) {
        int y = __shfl_up_sync(0xffffffffu, scan, d);
        if (lane >= d) scan += y;
    }
    int first = __shfl_sync(0xffffffffu, v, 0);
    int seg_sum = v;                               // sums over 16-lane halves
    for (int m = 8; m > 0; m >>= 1) seg_sum += __shfl_down_sync(0xffffffffu, seg_sum, m, 16);
    seg_sum = __shfl_sync(0xffffffffu, seg_sum, 0, 16);
    if (i < n) {
        out[6 * i + 0] = __popc(ballot);
        out[6 * i + 1] = any_neg * 2 + all_small;
        out[6 * i + 2] = sum;
        out[6 * i + 3] = scan;
        out[6 * i + 4] = first;
        out[6 * i + 5] = seg_sum;
    }
}

int main() {
    const int n = 32 * 1000;  // whole warps
    int *h = (int*)malloc(n * sizeof(int)), *o = (int*)malloc(6 * n * sizeof(int));
    for (int i = 0; i < n; ++i) h[i] = (int)(hash_u32(i) % 21) - 5 + ((i / 32) % 7 == 3 ? 200 : 0);
    int *d, *dout;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dout, 6 * n * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
    warp_ops<<<n / 128, 128>>>(d, dout, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, 6 * n * sizeof(int), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int w = 0; w < n / 32; ++w) {
        int pos = 0, neg = 0, small = 1, sum = 0, scan = 0;
        for (int l = 0; l < 32; ++l) { int v = h[32 * w + l]; pos += v > 0; neg |= v < 0; small &= v < 100; sum += v; }
        for (int l = 0; l < 32; ++l) {
            int i = 32 * w + l, v = h[i];
            scan += v;
            int seg = 0;
            for (int k = (l / 16) * 16; k < (l / 16) * 16 + 16; ++k) seg += h[32 * w + k];
            if (o[6*i] != pos || o[6*i+1] != neg * 2 + small || o[6*i+2] != sum || o[6*i+3] != scan ||
                o[6*i+4] != h[32 * w] || o[6*i+5] != seg) ++bad;
        }
    }
    cudaFree(d); cudaFree(dout); free(h); free(o);
    return report(bad, "warp vote and shuffle");
}

// expect: forward=deadlock reverse=deadlock
// BUG: a full-warp shuffle executed by half of the warp only, followed by a block barrier: the
// lanes that skip the shuffle wait at __syncthreads() for lanes that wait for them in the shuffle.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

__global__ void pair_sums(const int* in, int* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x, lane = threadIdx.x & 31;
    int v = i < n ? in[i] : 0;
    if (lane < 16)
        v += __shfl_down_sync(0xffffffffu, v, 16);     // mask names all 32 lanes
    __syncthreads();
    if (i < n) out[i] = v;
}

int main() {
    const int n = 1024;
    int *h = (int*)malloc(n * sizeof(int)), *o = (int*)malloc(n * sizeof(int));
    for (int i = 0; i < n; ++i) h[i] = i;
    int *d, *dout;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dout, n * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
    pair_sums<<<n / 128, 128>>>(d, dout, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, n * sizeof(int), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int i = 0; i < n; ++i) if (o[i] != ((i & 31) < 16 ? h[i] + h[i + 16] : h[i])) ++bad;
    cudaFree(d); cudaFree(dout); free(h); free(o);
    return report(bad, "pair sums");
}

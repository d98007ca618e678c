// expect: forward=fail reverse=fail
// BUG: the kernel is given the caller's host array instead of the device copy.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

__global__ void increment(int* x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += 1;
}
extern "C" void increment_host(int* x, int n) {
    int* dx;
    CUDA_CHECK(cudaMalloc(&dx, n * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(dx, x, n * sizeof(int), cudaMemcpyHostToDevice));
    increment<<<(n + 255) / 256, 256>>>(x, n);          // should be dx
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(x, dx, n * sizeof(int), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(dx));
}

int main() {
    const int n = 1000;
    int* x = (int*)malloc(n * sizeof(int));
    for (int i = 0; i < n; ++i) x[i] = i;
    increment_host(x, n);
    long bad = 0;
    for (int i = 0; i < n; ++i) if (x[i] != i + 1) ++bad;
    free(x);
    return report(bad, "increment");
}

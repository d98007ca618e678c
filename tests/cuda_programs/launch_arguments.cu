// Kernel arguments are copies made at the launch: a kernel that changes its own parameter changes
// its thread's copy only, prvalue and struct arguments arrive intact, a launch without arguments
// works, and cudaLaunchKernel passes arguments through a void* array.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

struct Span { int* data; int n; int scale; };

__device__ int ticks;

__global__ void count_down(int* out, int k) {
    // every thread starts from the launch's value of k, whatever the others did to theirs
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    k -= t;
    out[t] = k;
}

__global__ void fill_span(Span s, int offset) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < s.n) s.data[i] = s.scale * i + offset;
}

__global__ void tick() { atomicAdd(&ticks, 1); }

int main() {
    const int n = 96;
    int *d = nullptr, h[n];
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    int k = 1000;
    count_down<<<3, 32>>>(d, k);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost));
    int bad = 0;
    for (int t = 0; t < n; ++t) bad += h[t] != 1000 - t;

    Span s{d, n - 5, 3};
    fill_span<<<(n + 63) / 64, 64>>>(s, k / 10 + 1);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost));
    for (int i = 0; i < n - 5; ++i) bad += h[i] != 3 * i + 101;
    for (int i = n - 5; i < n; ++i) bad += h[i] != 1000 - i;   // left as count_down wrote them

    int zero = 0, got = 0;
    CUDA_CHECK(cudaMemcpyToSymbol(ticks, &zero, sizeof zero));
    tick<<<2, 16>>>();
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpyFromSymbol(&got, ticks, sizeof got));
    bad += got != 32;

    int k2 = 50;
    void* args[] = {&d, &k2};
    CUDA_CHECK(cudaLaunchKernel(count_down, dim3(2), dim3(32), args, 0, 0));
    CUDA_CHECK(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost));
    for (int t = 0; t < 64; ++t) bad += h[t] != 50 - t;
    bad += k2 != 50;

    CUDA_CHECK(cudaFree(d));
    printf(bad ? "FAIL (%d wrong)\n" : "PASS\n", bad);
    return bad ? 1 : 0;
}

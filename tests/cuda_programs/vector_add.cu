// vector add: 1D grid, one element per thread, bounds check.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e), __FILE__, __LINE__); exit(1);} } while (0)

__global__ void vadd(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" void vector_add(const float* a, const float* b, float* c, int n) {
    float *da, *db, *dc;
    size_t bytes = n * sizeof(float);
    CUDA_CHECK(cudaMalloc(&da, bytes));
    CUDA_CHECK(cudaMalloc(&db, bytes));
    CUDA_CHECK(cudaMalloc(&dc, bytes));
    CUDA_CHECK(cudaMemcpy(da, a, bytes, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(db, b, bytes, cudaMemcpyHostToDevice));
    int threads = 256;
    int blocks = (n + threads - 1) / threads;
    vadd<<<blocks, threads>>>(da, db, dc, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(c, dc, bytes, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(db));
    CUDA_CHECK(cudaFree(dc));
}

int main() {
    const int n = 1000003;
    float *a = (float*)malloc(n * sizeof(float)), *b = (float*)malloc(n * sizeof(float)), *c = (float*)malloc(n * sizeof(float));
    for (int i = 0; i < n; ++i) { a[i] = (float)(i % 1000) * 0.5f; b[i] = (float)(i % 77) - 3.0f; c[i] = 0.0f; }
    vector_add(a, b, c, n);
    int bad = 0;
    for (int i = 0; i < n; ++i) if (c[i] != a[i] + b[i]) { if (bad < 5) printf("mismatch at %d: %f\n", i, c[i]); ++bad; }
    printf("%s\n", bad ? "FAIL" : "PASS");
    free(a); free(b); free(c);
    return bad ? 1 : 0;
}

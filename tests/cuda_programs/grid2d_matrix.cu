// 2D grid of 2D blocks: C = alpha*A + B^2 on a matrix whose sides are not multiples of the block.
// Products rounded on their own (__fmul_rn: never fused into an FMA), as the host's check rounds them.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

__global__ void combine(const float* A, const float* B, float* C, int rows, int cols, float alpha) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    int r = blockIdx.y * blockDim.y + threadIdx.y;
    if (r < rows && c < cols) {
        int k = r * cols + c;
        C[k] = __fmul_rn(alpha, A[k]) + __fmul_rn(B[k], B[k]);
    }
}

int main() {
    const int rows = 517, cols = 1003;
    const size_t n = (size_t)rows * cols, bytes = n * sizeof(float);
    float *A = (float*)malloc(bytes), *B = (float*)malloc(bytes), *C = (float*)malloc(bytes);
    for (size_t i = 0; i < n; ++i) { A[i] = rnd(i); B[i] = rnd(i + 7777777); }
    float *dA, *dB, *dC;
    CUDA_CHECK(cudaMalloc(&dA, bytes)); CUDA_CHECK(cudaMalloc(&dB, bytes)); CUDA_CHECK(cudaMalloc(&dC, bytes));
    CUDA_CHECK(cudaMemcpy(dA, A, bytes, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dB, B, bytes, cudaMemcpyHostToDevice));
    // host locals may be named like the built-in variables
    dim3 blockDim(32, 8);
    dim3 gridDim((cols + blockDim.x - 1) / blockDim.x, (rows + blockDim.y - 1) / blockDim.y);
    combine<<<gridDim, blockDim>>>(dA, dB, dC, rows, cols, 1.5f);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(C, dC, bytes, cudaMemcpyDeviceToHost));
    long bad = 0;
    for (size_t i = 0; i < n; ++i) if (C[i] != 1.5f * A[i] + B[i] * B[i]) ++bad;
    CUDA_CHECK(cudaFree(dA)); CUDA_CHECK(cudaFree(dB)); CUDA_CHECK(cudaFree(dC));
    free(A); free(B); free(C);
    return report(bad, "2D grid matrix combine");
}

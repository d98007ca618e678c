// expect: forward=fail reverse=fail
// BUG: the host wrapper never copies the result back to the caller's array.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

__global__ void negate(const double* in, double* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = -in[i];
}
extern "C" void negate_host(const double* in, double* out, int n) {
    double *din, *dout;
    CUDA_CHECK(cudaMalloc(&din, n * sizeof(double)));
    CUDA_CHECK(cudaMalloc(&dout, n * sizeof(double)));
    CUDA_CHECK(cudaMemcpy(din, in, n * sizeof(double), cudaMemcpyHostToDevice));
    negate<<<(n + 255) / 256, 256>>>(din, dout, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    // cudaMemcpy(out, dout, n * sizeof(double), cudaMemcpyDeviceToHost);   <- missing
    CUDA_CHECK(cudaFree(din));
    CUDA_CHECK(cudaFree(dout));
}

int main() {
    const int n = 5000;
    double *in = (double*)malloc(n * sizeof(double)), *out = (double*)calloc(n, sizeof(double));
    for (int i = 0; i < n; ++i) in[i] = (double)(i % 7) + 1.0;
    negate_host(in, out, n);
    long bad = 0;
    for (int i = 0; i < n; ++i) if (out[i] != -in[i]) ++bad;
    free(in); free(out);
    return report(bad, "negation");
}

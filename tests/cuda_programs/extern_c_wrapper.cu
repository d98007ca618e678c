// The shape of a paralift candidate: extern "C" host wrappers taking host pointers, doing the
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// allocation, copies, launches and copy-back themselves, with every CUDA call checked.
extern "C" {

__global__ void max_abs_kernel(const double* x, int n, unsigned long long* best) {
    __shared__ double s[128];
    double m = 0.0;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) m = fmax(m, fabs(x[i]));
    s[threadIdx.x] = m;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) s[threadIdx.x] = fmax(s[threadIdx.x], s[threadIdx.x + k]);
        __syncthreads();
    }
    // non-negative doubles order like their bit patterns
    if (threadIdx.x == 0) atomicMax(best, (unsigned long long)__double_as_longlong(s[0]));
}
__global__ void scale_kernel(double* x, int n, const unsigned long long* best) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    double m = __longlong_as_double((long long)*best);
    if (i < n) x[i] = m > 0.0 ? x[i] / m : 0.0;
}

void normalize(double* x, int n) {
    double* dx;
    unsigned long long* dbest;
    CUDA_CHECK(cudaMalloc((void**)&dx, n * sizeof(double)));
    CUDA_CHECK(cudaMalloc((void**)&dbest, sizeof(unsigned long long)));
    CUDA_CHECK(cudaMemcpy(dx, x, n * sizeof(double), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(dbest, 0, sizeof(unsigned long long)));
    max_abs_kernel<<<32, 128>>>(dx, n, dbest);
    CUDA_CHECK(cudaGetLastError());
    scale_kernel<<<(n + 255) / 256, 256>>>(dx, n, dbest);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(x, dx, n * sizeof(double), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dbest));
}

}  // extern "C"

int main() {
    const int n = 123457;
    double* x = (double*)malloc(n * sizeof(double));
    double* ref = (double*)malloc(n * sizeof(double));
    double m = 0.0;
    for (int i = 0; i < n; ++i) { x[i] = 50.0 * rnd(i); ref[i] = x[i]; m = fmax(m, fabs(x[i])); }
    normalize(x, n);
    long bad = 0;
    for (int i = 0; i < n; ++i) if (fabs(x[i] - ref[i] / m) > 1e-12) ++bad;
    free(x); free(ref);
    return report(bad, "extern C host wrapper with two kernels");
}

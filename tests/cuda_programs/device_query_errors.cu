// Device properties and error reporting: a bad launch configuration is reported by
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// cudaGetLastError (then cleared), error strings exist, the runtime/driver report versions.
__global__ void noop(int* x) { if (x) x[threadIdx.x] = 1; }

// A launch the device can never run: cudaErrorInvalidConfiguration through CUDA 12,
// cudaErrorInvalidValue from CUDA 13 on an H200 (the emulation returns the latter).
static bool launch_error(cudaError_t e) { return e == cudaErrorInvalidConfiguration || e == cudaErrorInvalidValue; }

int main() {
    long bad = 0;
    int count = 0, dev = -1, rt = 0;
    CUDA_CHECK(cudaGetDeviceCount(&count));
    CUDA_CHECK(cudaSetDevice(0));
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaRuntimeGetVersion(&rt));
    cudaDeviceProp p;
    CUDA_CHECK(cudaGetDeviceProperties(&p, 0));
    if (count < 1 || dev != 0 || rt <= 0) { ++bad; printf("count %d dev %d rt %d\n", count, dev, rt); }
    if (p.warpSize != 32 || p.maxThreadsPerBlock < 1024 || p.maxThreadsDim[0] < 1024 || p.maxGridSize[0] < 65535 ||
        p.sharedMemPerBlock < 48 * 1024 || p.multiProcessorCount < 1 || p.major < 3 || p.totalGlobalMem == 0 ||
        p.name[0] == 0) { ++bad; printf("implausible properties\n"); }
    int warp = 0;
    CUDA_CHECK(cudaDeviceGetAttribute(&warp, cudaDevAttrWarpSize, 0));
    if (warp != 32) ++bad;
    if (cudaGetLastError() != cudaSuccess) ++bad;
    noop<<<1, 2048>>>(nullptr);                           // too many threads per block
    cudaError_t e = cudaGetLastError();
    if (!launch_error(e)) { ++bad; printf("got %s\n", cudaGetErrorName(e)); }
    if (cudaGetLastError() != cudaSuccess) ++bad;          // cleared by the previous call
    noop<<<dim3(1, 70000), 32>>>(nullptr);                 // grid.y too large
    cudaError_t peeked = cudaPeekAtLastError();
    if (!launch_error(peeked) || cudaGetLastError() != peeked) ++bad;
    const char* s = cudaGetErrorString(cudaErrorInvalidValue);
    if (!s || !s[0]) ++bad;
    if (cudaSetDevice(count + 3) == cudaSuccess) ++bad;
    (void)cudaGetLastError();
    int* d;
    CUDA_CHECK(cudaMalloc(&d, 32 * sizeof(int)));
    noop<<<1, 32>>>(d);
    CUDA_CHECK(cudaGetLastError());
    int h[32];
    CUDA_CHECK(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost));
    for (int i = 0; i < 32; ++i) if (h[i] != 1) ++bad;
    CUDA_CHECK(cudaFree(d));
    return report(bad, "device properties and error reporting");
}

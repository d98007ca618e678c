// Templates: a kernel templated on type and block size, a functor with __host__ __device__,
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// __device__ helpers, explicit and deduced template arguments.
template <typename T> struct Square { __host__ __device__ T operator()(T x) const { return x * x; } };
template <typename T> struct Affine {
    T a, b;
    __host__ __device__ T operator()(T x) const { return a * x + b; }
};
__device__ __forceinline__ int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

template <typename T, typename F>
__global__ void transform(const T* in, T* out, int n, F f) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = f(in[clampi(i, 0, n - 1)]);
}

template <typename T, int BLOCK>
__global__ void block_sums(const T* in, T* out, int n) {
    __shared__ T s[BLOCK];
    int i = blockIdx.x * BLOCK + threadIdx.x;
    s[threadIdx.x] = i < n ? in[i] : T(0);
    __syncthreads();
    for (int st = BLOCK / 2; st > 0; st /= 2) {
        if (threadIdx.x < st) s[threadIdx.x] += s[threadIdx.x + st];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = s[0];
}

template <typename T, int BLOCK>
long check(int n) {
    T* h = (T*)malloc(n * sizeof(T));
    for (int i = 0; i < n; ++i) h[i] = (T)(i % 13) - (T)6;
    int blocks = (n + BLOCK - 1) / BLOCK;
    T *d, *dsq, *dsum, *hsq = (T*)malloc(n * sizeof(T)), *hsum = (T*)malloc(blocks * sizeof(T));
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(T)));
    CUDA_CHECK(cudaMalloc(&dsq, n * sizeof(T)));
    CUDA_CHECK(cudaMalloc(&dsum, blocks * sizeof(T)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(T), cudaMemcpyHostToDevice));
    transform<<<blocks, BLOCK>>>(d, dsq, n, Square<T>());
    Affine<T> af{(T)2, (T)1};
    transform<T, Affine<T>><<<blocks, BLOCK>>>(dsq, dsq, n, af);
    block_sums<T, BLOCK><<<blocks, BLOCK>>>(dsq, dsum, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(hsq, dsq, n * sizeof(T), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(hsum, dsum, blocks * sizeof(T), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int b = 0; b < blocks; ++b) {
        T s = 0;
        for (int i = b * BLOCK; i < n && i < (b + 1) * BLOCK; ++i) {
            T want = af(Square<T>()(h[i]));
            if (hsq[i] != want) ++bad;
            s += want;
        }
        if (hsum[b] != s) ++bad;
    }
    cudaFree(d); cudaFree(dsq); cudaFree(dsum); free(h); free(hsq); free(hsum);
    return bad;
}

int main() {
    long bad = check<int, 128>(10007) + check<float, 256>(5003) + check<double, 64>(777) + check<long long, 32>(1000);
    return report(bad, "templated kernels and functors");
}

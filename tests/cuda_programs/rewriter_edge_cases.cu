// Source forms the rewriter must handle: launches spread over lines, inside macros, with template
// arguments and namespaces, with 2, 3 and 4 configuration arguments; __shared__ declarations with
// several declarators, volatile, static, extern with alignment, at file scope and inside a macro;
// __noinline__ functions; <<< and __shared__ inside comments and strings.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

namespace kernels {
template <int K>
__global__ void add_k(int* x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += K;
}
}  // namespace kernels

__device__ __noinline__ int twice(int v) { return 2 * v; }

__shared__ int file_scope_counter;   // a file-scope __shared__ variable

#define DECLARE_TILE(name) __shared__ int name[64]
#define LAUNCH_DOUBLE(ptr, count) double_all<<<((count) + 63) / 64, 64>>>(ptr, count)

__global__ void double_all(int* x, int n) {
    DECLARE_TILE(tile);
    __shared__ int a[64], b[64];                  /* two declarators; "__shared__" in a comment */
    static __shared__ volatile int flag;
    int t = threadIdx.x, i = blockIdx.x * 64 + t;
    if (t == 0) { flag = 1; file_scope_counter = 0; }
    tile[t] = i < n ? x[i] : 0;
    a[t] = tile[t];
    b[t] = twice(a[t]);
    __syncthreads();
    atomicAdd(&file_scope_counter, 1);
    __syncthreads();
    if (i < n && flag == 1 && file_scope_counter == 64) x[i] = b[t];
}

template <typename T>
__global__ void shift_left(T* x, int n) {
    extern __shared__ __align__(sizeof(T)) unsigned char raw[];
    T* s = reinterpret_cast<T*>(raw);
    int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
    s[t] = i < n ? x[i] : T(0);
    __syncthreads();
    if (i < n) x[i] = (t + 1 < (int)blockDim.x) ? s[t + 1] : x[i];
}

int main() {
    const int n = 1000;
    const char* note = "a string with <<<brackets>>> and __shared__ in it";
    int* h = (int*)malloc(n * sizeof(int));
    for (int i = 0; i < n; ++i) h[i] = i;
    int* d;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
    kernels::add_k<3>
        <<<(n + 127) / 128,
           128>>>(d,
                  n);                             // a launch over several lines
    LAUNCH_DOUBLE(d, n);
    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreate(&s));
    shift_left<int><<<(n + 99) / 100, 100, 100 * sizeof(int)>>>(d, n);
    shift_left<<<(n + 99) / 100, 100, 100 * sizeof(int), s>>>(d, n);   // deduced template argument
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaStreamSynchronize(s));
    CUDA_CHECK(cudaStreamDestroy(s));
    CUDA_CHECK(cudaMemcpy(h, d, n * sizeof(int), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int i = 0; i < n; ++i) {
        // value after add 3 and doubling: 2(i+3); two left shifts within blocks of 100
        int j = i;
        if (i % 100 < 99) j = i + 1;
        if (j % 100 < 99 && i % 100 < 98) j = j + 1;
        if (h[i] != 2 * (j + 3)) ++bad;
    }
    CUDA_CHECK(cudaFree(d));
    free(h);
    printf(bad ? "FAIL: rewriter edge cases (%ld mismatches) %s\n" : "PASS: rewriter edge cases%.0ld %.0s\n", bad, note);
    return bad ? 1 : 0;
}

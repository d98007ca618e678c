// __device__ variables: a global counter and a table, set and read with the symbol API, and a
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// pointer to a __device__ array obtained with cudaGetSymbolAddress and passed to a kernel.
__device__ int counter;
__device__ float table[64];
__device__ unsigned long long ticket = 0;

__global__ void use_globals(const int* keys, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = table[keys[i] & 63];
        if (keys[i] % 3 == 0) atomicAdd(&counter, 1);
        atomicAdd(&ticket, 1ull);
    }
}
__global__ void fill(float* t, int m) {
    int i = threadIdx.x;
    if (i < m) t[i] = 0.25f * (float)i;
}

int main() {
    const int n = 30000;
    int* keys = (int*)malloc(n * sizeof(int));
    float* out = (float*)malloc(n * sizeof(float));
    int want = 0;
    for (int i = 0; i < n; ++i) { keys[i] = (int)(hash_u32(i) % 1000); want += keys[i] % 3 == 0; }
    int zero = 0;
    CUDA_CHECK(cudaMemcpyToSymbol(counter, &zero, sizeof(int)));
    float* dtable;
    CUDA_CHECK(cudaGetSymbolAddress((void**)&dtable, table));
    fill<<<1, 64>>>(dtable, 64);
    CUDA_CHECK(cudaGetLastError());
    int* dkeys; float* dout;
    CUDA_CHECK(cudaMalloc(&dkeys, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dout, n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(dkeys, keys, n * sizeof(int), cudaMemcpyHostToDevice));
    use_globals<<<(n + 255) / 256, 256>>>(dkeys, dout, n);
    CUDA_CHECK(cudaGetLastError());
    int got = -1; unsigned long long tickets = 0;
    CUDA_CHECK(cudaMemcpyFromSymbol(&got, counter, sizeof(int)));
    CUDA_CHECK(cudaMemcpyFromSymbol(&tickets, ticket, sizeof tickets));
    CUDA_CHECK(cudaMemcpy(out, dout, n * sizeof(float), cudaMemcpyDeviceToHost));
    long bad = (got != want) + (tickets != (unsigned long long)n);
    for (int i = 0; i < n; ++i) if (out[i] != 0.25f * (float)(keys[i] & 63)) ++bad;
    cudaFree(dkeys); cudaFree(dout); free(keys); free(out);
    return report(bad, "__device__ globals and the symbol API");
}

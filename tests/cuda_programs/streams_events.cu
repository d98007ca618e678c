// Streams and events: pinned host memory, chunks processed on 4 streams with async copies,
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// cross-stream dependency through cudaStreamWaitEvent, elapsed time, host callback.
__global__ void scale_add(float* x, int n, float a, float b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = a * x[i] + b;
}
__global__ void add_arrays(const float* a, float* b, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) b[i] += a[i];
}
static void CUDART_CB_mark(void* flag) { *(int*)flag = 1; }

int main() {
    const int n = 1 << 18, nstreams = 4, chunk = n / nstreams;
    float *h, *h2;
    CUDA_CHECK(cudaMallocHost(&h, n * sizeof(float)));
    CUDA_CHECK(cudaHostAlloc(&h2, n * sizeof(float), cudaHostAllocDefault));
    for (int i = 0; i < n; ++i) { h[i] = (float)(i % 100); h2[i] = 1.0f; }
    float *d, *d2;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&d2, n * sizeof(float)));
    cudaStream_t s[nstreams];
    for (int k = 0; k < nstreams; ++k) CUDA_CHECK(cudaStreamCreateWithFlags(&s[k], cudaStreamNonBlocking));
    cudaEvent_t start, stop, ready;
    CUDA_CHECK(cudaEventCreate(&start));
    CUDA_CHECK(cudaEventCreate(&stop));
    CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
    CUDA_CHECK(cudaEventRecord(start, 0));
    for (int k = 0; k < nstreams; ++k) {
        int off = k * chunk;
        CUDA_CHECK(cudaMemcpyAsync(d + off, h + off, chunk * sizeof(float), cudaMemcpyHostToDevice, s[k]));
        scale_add<<<(chunk + 255) / 256, 256, 0, s[k]>>>(d + off, chunk, 2.0f, 1.0f);
        CUDA_CHECK(cudaGetLastError());
    }
    // stream 0 adds the result of all chunks once the last stream's work is done
    CUDA_CHECK(cudaMemcpyAsync(d2, h2, n * sizeof(float), cudaMemcpyHostToDevice, s[nstreams - 1]));
    CUDA_CHECK(cudaEventRecord(ready, s[nstreams - 1]));
    CUDA_CHECK(cudaStreamWaitEvent(s[0], ready, 0));
    add_arrays<<<(n + 255) / 256, 256, 0, s[0]>>>(d, d2, n);
    CUDA_CHECK(cudaGetLastError());
    int flag = 0;
    CUDA_CHECK(cudaLaunchHostFunc(s[0], CUDART_CB_mark, &flag));
    CUDA_CHECK(cudaMemcpyAsync(h2, d2, n * sizeof(float), cudaMemcpyDeviceToHost, s[0]));
    CUDA_CHECK(cudaEventRecord(stop, s[0]));
    CUDA_CHECK(cudaEventSynchronize(stop));
    CUDA_CHECK(cudaStreamSynchronize(s[0]));
    float ms = -1.0f;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    long bad = 0;
    for (int i = 0; i < n; ++i) if (h2[i] != 2.0f * (float)(i % 100) + 1.0f + 1.0f) ++bad;
    if (!(ms >= 0.0f) || flag != 1) { ++bad; printf("elapsed %f flag %d\n", ms, flag); }
    CUDA_CHECK(cudaDeviceSynchronize());
    for (int k = 0; k < nstreams; ++k) CUDA_CHECK(cudaStreamDestroy(s[k]));
    CUDA_CHECK(cudaEventDestroy(start)); CUDA_CHECK(cudaEventDestroy(stop)); CUDA_CHECK(cudaEventDestroy(ready));
    CUDA_CHECK(cudaFree(d)); CUDA_CHECK(cudaFree(d2));
    CUDA_CHECK(cudaFreeHost(h)); CUDA_CHECK(cudaFreeHost(h2));
    return report(bad, "streams and events");
}

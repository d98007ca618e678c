// Pitched 2D allocations: cudaMallocPitch, cudaMemcpy2D both ways, cudaMemset2D, a kernel that
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// indexes rows through the pitch.
__global__ void add_row_col(float* a, size_t pitch, int w, int h) {
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) {
        float* row = (float*)((char*)a + y * pitch);
        row[x] += (float)(x + 100 * y);
    }
}

int main() {
    const int w = 300, h = 77;
    float* host = (float*)malloc(w * h * sizeof(float));
    for (int i = 0; i < w * h; ++i) host[i] = (float)(i % 5);
    float* d; size_t pitch = 0;
    CUDA_CHECK(cudaMallocPitch(&d, &pitch, w * sizeof(float), h));
    long bad = pitch < w * sizeof(float);
    CUDA_CHECK(cudaMemset2D(d, pitch, 0, w * sizeof(float), h));
    CUDA_CHECK(cudaMemcpy2D(d, pitch, host, w * sizeof(float), w * sizeof(float), h, cudaMemcpyHostToDevice));
    dim3 block(32, 4), grid((w + 31) / 32, (h + 3) / 4);
    add_row_col<<<grid, block>>>(d, pitch, w, h);
    CUDA_CHECK(cudaGetLastError());
    float* back = (float*)malloc(w * h * sizeof(float));
    CUDA_CHECK(cudaMemcpy2D(back, w * sizeof(float), d, pitch, w * sizeof(float), h, cudaMemcpyDeviceToHost));
    for (int y = 0; y < h; ++y) for (int x = 0; x < w; ++x)
        if (back[y * w + x] != host[y * w + x] + (float)(x + 100 * y)) ++bad;
    CUDA_CHECK(cudaFree(d));
    free(host); free(back);
    return report(bad, "pitched 2D memory");
}

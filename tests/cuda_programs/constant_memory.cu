// __constant__ filter weights set with cudaMemcpyToSymbol (with an offset) and read back with
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// cudaMemcpyFromSymbol; 2D 5x5 convolution with clamped borders.
#define R 2
#define W (2 * R + 1)
__constant__ float weights[W * W];
__constant__ int dims[2];

__global__ void convolve(const float* in, float* out) {
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    int w = dims[0], h = dims[1];
    if (x >= w || y >= h) return;
    float s = 0.0f;
    for (int dy = -R; dy <= R; ++dy)
        for (int dx = -R; dx <= R; ++dx) {
            int xx = min(max(x + dx, 0), w - 1), yy = min(max(y + dy, 0), h - 1);
            s += weights[(dy + R) * W + (dx + R)] * in[yy * w + xx];
        }
    out[y * w + x] = s;
}

int main() {
    const int w = 211, h = 97;
    float wts[W * W];
    for (int i = 0; i < W * W; ++i) wts[i] = (float)(i % 7 + 1) / 28.0f;
    int hd[2] = {w, h};
    CUDA_CHECK(cudaMemcpyToSymbol(weights, wts, 10 * sizeof(float)));
    CUDA_CHECK(cudaMemcpyToSymbol(weights, wts + 10, (W * W - 10) * sizeof(float), 10 * sizeof(float)));
    CUDA_CHECK(cudaMemcpyToSymbol(dims, hd, sizeof hd));
    float back[W * W];
    CUDA_CHECK(cudaMemcpyFromSymbol(back, weights, sizeof back));
    long bad = 0;
    for (int i = 0; i < W * W; ++i) if (back[i] != wts[i]) ++bad;
    float *in = (float*)malloc(w * h * sizeof(float)), *out = (float*)malloc(w * h * sizeof(float));
    for (int i = 0; i < w * h; ++i) in[i] = rnd(i);
    float *din, *dout;
    CUDA_CHECK(cudaMalloc(&din, w * h * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dout, w * h * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(din, in, w * h * sizeof(float), cudaMemcpyHostToDevice));
    dim3 block(16, 16), grid((w + 15) / 16, (h + 15) / 16);
    convolve<<<grid, block>>>(din, dout);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(out, dout, w * h * sizeof(float), cudaMemcpyDeviceToHost));
    for (int y = 0; y < h; ++y) for (int x = 0; x < w; ++x) {
        float s = 0.0f;
        for (int dy = -R; dy <= R; ++dy) for (int dx = -R; dx <= R; ++dx) {
            int xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
            int yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
            s += wts[(dy + R) * W + (dx + R)] * in[yy * w + xx];
        }
        if (fabsf(out[y * w + x] - s) > 1e-5f) ++bad;
    }
    cudaFree(din); cudaFree(dout); free(in); free(out);
    return report(bad, "constant memory convolution");
}

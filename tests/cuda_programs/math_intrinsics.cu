// Math intrinsics and device math functions compared with the host's libm (with tolerances).
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

__global__ void mathk(const float* x, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = x[i], a = fabsf(v) + 0.5f;
    float s, c;
    sincosf(v, &s, &c);
    out[10 * i + 0] = __expf(v);
    out[10 * i + 1] = rsqrtf(a);
    out[10 * i + 2] = fmaf(v, 2.0f, 1.0f);
    out[10 * i + 3] = __fdividef(v, a);
    out[10 * i + 4] = s * s + c * c;
    out[10 * i + 5] = __saturatef(v * 2.0f);
    out[10 * i + 6] = __powf(a, 1.5f);
    out[10 * i + 7] = __logf(a) + log2f(a) + erff(v);
    out[10 * i + 8] = (float)__float2int_rn(v * 10.0f) + (float)__popc((unsigned)i) + (float)(__clz(i + 1));
    out[10 * i + 9] = __sinf(v) + __cosf(v) + tanhf(v) + cbrtf(v) + hypotf(v, a) + exp2f(v) + copysignf(1.0f, v);
}

int main() {
    const int n = 4096;
    float *x = (float*)malloc(n * sizeof(float)), *o = (float*)malloc(10 * n * sizeof(float));
    for (int i = 0; i < n; ++i) x[i] = 3.0f * rnd(i);
    float *dx, *dout;
    CUDA_CHECK(cudaMalloc(&dx, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dout, 10 * n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice));
    mathk<<<(n + 255) / 256, 256>>>(dx, dout, n);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(o, dout, 10 * n * sizeof(float), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int i = 0; i < n; ++i) {
        double v = x[i], a = fabs(v) + 0.5;
        double want[10] = {exp(v), 1.0 / sqrt(a), v * 2.0 + 1.0, v / a, 1.0, v * 2 < 0 ? 0.0 : v * 2 > 1 ? 1.0 : v * 2,
                           pow(a, 1.5), log(a) + log2(a) + erf(v), 0.0,
                           sin(v) + cos(v) + tanh(v) + cbrt(v) + hypot(v, a) + exp2(v) + (v < 0 ? -1.0 : 1.0)};
        int clz = 0; for (unsigned u = (unsigned)(i + 1); !(u & 0x80000000u); u <<= 1) ++clz;
        want[8] = (double)lrint(x[i] * 10.0f) + (double)__builtin_popcount((unsigned)i) + clz;
        for (int k = 0; k < 10; ++k)
            if (fabs(o[10 * i + k] - want[k]) > 2e-3 * (1.0 + fabs(want[k]))) { if (bad < 5) printf("i=%d k=%d %f %f\n", i, k, o[10*i+k], want[k]); ++bad; }
    }
    cudaFree(dx); cudaFree(dout); free(x); free(o);
    return report(bad, "math intrinsics");
}

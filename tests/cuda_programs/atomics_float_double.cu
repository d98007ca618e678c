// Atomics across blocks: float and double atomicAdd, int min/max, CAS loops, exchange, inc wrap,
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// bitwise and/or/xor, unsigned long long add.
__device__ float atomicMulFloat(float* addr, float v) {
    int* p = (int*)addr;
    int old = *p, assumed;
    do {
        assumed = old;
        old = atomicCAS(p, assumed, __float_as_int(v * __int_as_float(assumed)));
    } while (old != assumed);
    return __int_as_float(old);
}
struct Stats { float fsum; double dsum; int imin, imax; unsigned inc; unsigned andv, orv, xorv;
               unsigned long long cnt; float prod; int exch_seen; };

__global__ void stats(const float* x, int n, Stats* s, int* last) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    atomicAdd(&s->fsum, x[i]);
    atomicAdd(&s->dsum, (double)x[i]);
    int q = (int)(x[i] * 1000.0f);
    atomicMin(&s->imin, q);
    atomicMax(&s->imax, q);
    atomicInc(&s->inc, 99u);               // wraps to 0 after 99
    atomicAnd(&s->andv, ~(1u << (i % 32)));
    atomicOr(&s->orv, 1u << (i % 32));
    atomicXor(&s->xorv, (unsigned)i);
    atomicAdd(&s->cnt, 3ull);
    if (i % 1000 == 0) atomicMulFloat(&s->prod, 1.001f);
    int prev = atomicExch(last, i);
    if (prev >= -1) atomicAdd(&s->exch_seen, 1);
}

int main() {
    const int n = 250000;
    float* x = (float*)malloc(n * sizeof(float));
    double fs = 0.0; int mn = 1 << 30, mx = -(1 << 30); unsigned xr = 0;
    for (int i = 0; i < n; ++i) {
        x[i] = rnd(i);
        fs += x[i];
        int q = (int)(x[i] * 1000.0f);
        mn = q < mn ? q : mn; mx = q > mx ? q : mx; xr ^= (unsigned)i;
    }
    Stats init = {0.0f, 0.0, 1 << 30, -(1 << 30), 0u, 0xffffffffu, 0u, 0u, 0ull, 1.0f, 0};
    Stats got;
    float* dx; Stats* ds; int* dlast; int minus1 = -1;
    CUDA_CHECK(cudaMalloc(&dx, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&ds, sizeof(Stats)));
    CUDA_CHECK(cudaMalloc(&dlast, sizeof(int)));
    CUDA_CHECK(cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(ds, &init, sizeof(Stats), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dlast, &minus1, sizeof(int), cudaMemcpyHostToDevice));
    stats<<<(n + 255) / 256, 256>>>(dx, n, ds, dlast);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(&got, ds, sizeof(Stats), cudaMemcpyDeviceToHost));
    int last;
    CUDA_CHECK(cudaMemcpy(&last, dlast, sizeof(int), cudaMemcpyDeviceToHost));
    long bad = 0;
    if (fabs(got.fsum - fs) > 1e-2 + 1e-4 * fabs(fs)) { ++bad; printf("fsum %f vs %f\n", got.fsum, fs); }
    if (fabs(got.dsum - fs) > 1e-9 * (1.0 + fabs(fs))) { ++bad; printf("dsum %f vs %f\n", got.dsum, fs); }
    if (got.imin != mn || got.imax != mx) { ++bad; printf("min/max %d %d vs %d %d\n", got.imin, got.imax, mn, mx); }
    if (got.inc != (unsigned)(n % 100)) { ++bad; printf("inc %u\n", got.inc); }
    if (got.andv != 0u || got.orv != 0xffffffffu || got.xorv != xr) { ++bad; printf("bitwise\n"); }
    if (got.cnt != 3ull * n) { ++bad; printf("cnt\n"); }
    double prod = pow(1.001, (n + 999) / 1000);
    if (fabs(got.prod - prod) > 1e-3 * prod) { ++bad; printf("prod %f vs %f\n", got.prod, prod); }
    if (got.exch_seen != n || last < 0 || last >= n) { ++bad; printf("exch\n"); }
    cudaFree(dx); cudaFree(ds); cudaFree(dlast); free(x);
    return report(bad, "float/double/int atomics");
}

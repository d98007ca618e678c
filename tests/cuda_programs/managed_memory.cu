// Unified (managed) memory: the host writes, a kernel updates in place, the host reads after a sync.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

struct Particle { float x, v; };
__global__ void step(Particle* p, int n, float dt, int* moved) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        p[i].x += p[i].v * dt;
        if (p[i].v != 0.0f) atomicAdd(moved, 1);
    }
}

int main() {
    const int n = 50000;
    Particle* p; int* moved;
    CUDA_CHECK(cudaMallocManaged(&p, n * sizeof(Particle)));
    CUDA_CHECK(cudaMallocManaged(&moved, sizeof(int)));
    *moved = 0;
    int want_moved = 0;
    for (int i = 0; i < n; ++i) { p[i].x = (float)i; p[i].v = (float)(i % 3); want_moved += i % 3 != 0; }
    for (int s = 0; s < 3; ++s) {
        step<<<(n + 127) / 128, 128>>>(p, n, 0.5f, moved);
        CUDA_CHECK(cudaGetLastError());
        CUDA_CHECK(cudaDeviceSynchronize());
    }
    long bad = 0;
    for (int i = 0; i < n; ++i) if (p[i].x != (float)i + 1.5f * (float)(i % 3)) ++bad;
    if (*moved != 3 * want_moved) ++bad;
    CUDA_CHECK(cudaFree(p)); CUDA_CHECK(cudaFree(moved));
    return report(bad, "managed memory");
}

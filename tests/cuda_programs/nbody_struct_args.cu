// A struct passed by value to a kernel, float4 positions (make_float4) and an all-pairs force loop
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

// tiled through shared memory.
struct Params { int n; float eps2; float dt; };
#define TB 64
__global__ void forces(const float4* pos, float4* vel, Params p) {
    __shared__ float4 tile[TB];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float4 me = i < p.n ? pos[i] : make_float4(0.f, 0.f, 0.f, 0.f);
    float ax = 0.f, ay = 0.f, az = 0.f;
    for (int base = 0; base < p.n; base += TB) {
        int j = base + threadIdx.x;
        tile[threadIdx.x] = j < p.n ? pos[j] : make_float4(0.f, 0.f, 0.f, 0.f);
        __syncthreads();
        for (int k = 0; k < TB && base + k < p.n; ++k) {
            float dx = tile[k].x - me.x, dy = tile[k].y - me.y, dz = tile[k].z - me.z;
            float inv = rsqrtf(dx * dx + dy * dy + dz * dz + p.eps2);
            float s = tile[k].w * inv * inv * inv;
            ax += dx * s; ay += dy * s; az += dz * s;
        }
        __syncthreads();
    }
    if (i < p.n) {
        float4 v = vel[i];
        vel[i] = make_float4(v.x + ax * p.dt, v.y + ay * p.dt, v.z + az * p.dt, v.w);
    }
}

int main() {
    const int n = 1000;
    float4 *pos = (float4*)malloc(n * sizeof(float4)), *vel = (float4*)malloc(n * sizeof(float4));
    for (int i = 0; i < n; ++i) { pos[i] = make_float4(rnd(4*i), rnd(4*i+1), rnd(4*i+2), 1.0f + 0.5f * rnd(4*i+3)); vel[i] = make_float4(0.f, 0.f, 0.f, 0.f); }
    float4 *dpos, *dvel;
    CUDA_CHECK(cudaMalloc(&dpos, n * sizeof(float4)));
    CUDA_CHECK(cudaMalloc(&dvel, n * sizeof(float4)));
    CUDA_CHECK(cudaMemcpy(dpos, pos, n * sizeof(float4), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dvel, vel, n * sizeof(float4), cudaMemcpyHostToDevice));
    Params p = {n, 0.01f, 0.1f};
    forces<<<(n + TB - 1) / TB, TB>>>(dpos, dvel, p);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(vel, dvel, n * sizeof(float4), cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int i = 0; i < n; ++i) {
        double ax = 0, ay = 0, az = 0;
        for (int j = 0; j < n; ++j) {
            double dx = pos[j].x - pos[i].x, dy = pos[j].y - pos[i].y, dz = pos[j].z - pos[i].z;
            double inv = 1.0 / sqrt(dx * dx + dy * dy + dz * dz + 0.01);
            double s = pos[j].w * inv * inv * inv;
            ax += dx * s; ay += dy * s; az += dz * s;
        }
        double w[3] = {ax * 0.1, ay * 0.1, az * 0.1}, g[3] = {vel[i].x, vel[i].y, vel[i].z};
        for (int k = 0; k < 3; ++k) if (fabs(g[k] - w[k]) > 1e-3 * (1.0 + fabs(w[k]))) ++bad;
    }
    cudaFree(dpos); cudaFree(dvel); free(pos); free(vel);
    return report(bad, "struct arguments, float4 and tiled all-pairs forces");
}

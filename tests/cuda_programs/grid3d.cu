// 3D grid of 3D blocks over a volume; every cell records its coordinates and the launch shape.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cuda_runtime.h>

#define CUDA_CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
    fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(2); } } while (0)

static unsigned hash_u32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16; return x; }
static float rnd(unsigned i) { return (float)(hash_u32(i) & 0xffffff) / (float)0x1000000 * 2.0f - 1.0f; }
static int report(long bad, const char* what) { printf(bad ? "FAIL: %s (%ld mismatches)\n" : "PASS: %s\n", what, bad); return bad ? 1 : 0; }

__global__ void fill3d(int* out, int nx, int ny, int nz) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    int z = blockIdx.z * blockDim.z + threadIdx.z;
    if (x >= nx || y >= ny || z >= nz) return;
    size_t k = ((size_t)z * ny + y) * nx + x;
    out[4 * k + 0] = x + 1000 * y + 1000000 * z;
    out[4 * k + 1] = (int)(blockDim.x * blockDim.y * blockDim.z);
    out[4 * k + 2] = (int)(gridDim.x * 10000 + gridDim.y * 100 + gridDim.z);
    out[4 * k + 3] = (int)(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
}

int main() {
    const int nx = 45, ny = 33, nz = 21;
    const size_t n = (size_t)nx * ny * nz, bytes = 4 * n * sizeof(int);
    int* h = (int*)malloc(bytes);
    int* d;
    CUDA_CHECK(cudaMalloc(&d, bytes));
    dim3 block(8, 4, 4);
    dim3 grid((nx + 7) / 8, (ny + 3) / 4, (nz + 3) / 4);
    fill3d<<<grid, block>>>(d, nx, ny, nz);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(h, d, bytes, cudaMemcpyDeviceToHost));
    long bad = 0;
    for (int z = 0; z < nz; ++z) for (int y = 0; y < ny; ++y) for (int x = 0; x < nx; ++x) {
        size_t k = ((size_t)z * ny + y) * nx + x;
        int lin = (x % 8) + 8 * ((y % 4) + 4 * (z % 4));
        if (h[4*k] != x + 1000*y + 1000000*z || h[4*k+1] != 128 ||
            h[4*k+2] != (int)(grid.x * 10000 + grid.y * 100 + grid.z) || h[4*k+3] != lin) ++bad;
    }
    CUDA_CHECK(cudaFree(d));
    free(h);
    return report(bad, "3D grid and 3D blocks");
}

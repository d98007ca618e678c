"""Speed of the CUDA-on-CPU runtime (paralift.sandbox.cuda_cpu).

    .venv/bin/python benchmarks/bench_cuda_cpu.py [--reps 5] [--threads 2]

Prints tables; not a test (timings on a shared machine are noisy; medians of
--reps runs).  Measures:

1. the fiber context switch: the hand-written x86-64 switch against
   swapcontext (ns per switch, ping-pong between two contexts);
2. how to run the threads of one block: fibers against one OS thread per CUDA
   thread (a 256-thread block passing barriers; creating the threads);
3. whole kernels through the runtime, built with the hand-written switch and
   with ucontext: a 1M-thread vector add, a 256-thread-block shared-memory
   reduction over 1M elements, a warp-shuffle reduction and a tiled matmul;
4. build time of a typical candidate, and the run-time cost of the ASan and
   TSan builds on a small kernel.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paralift.sandbox import cuda_cpu as cc

SWITCH_BENCH = r"""
#include "paralift_cuda.h"
#include <ucontext.h>
#include <chrono>
#include <cstdio>
#include <pthread.h>
#include <thread>
#include <vector>

static void* main_sp; static void* fib_sp; static long n_switch;
extern "C" void bench_fiber_entry(void*) {
    for (;;) __pl_ctx_switch(&fib_sp, main_sp);
}
static ucontext_t uc_main, uc_fib;
static void uc_entry() { for (;;) swapcontext(&uc_fib, &uc_main); }

static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
static double cpu() { timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static double pcpu() { timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

int main(int argc, char** argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    // hand-written switch
    static char stack1[1 << 16];
    void** sp = (void**)(((uintptr_t)(stack1 + sizeof stack1) & ~(uintptr_t)15) - 72);
    sp[0] = sp[1] = sp[4] = sp[5] = nullptr;
    sp[2] = (void*)&bench_fiber_entry; sp[3] = nullptr; sp[6] = (void*)&__pl_ctx_trampoline;
    fib_sp = sp;
    double t0 = cpu();
    for (long i = 0; i < n; ++i) __pl_ctx_switch(&main_sp, fib_sp);
    double asm_ns = (cpu() - t0) / (2.0 * n) * 1e9;
    // swapcontext
    static char stack2[1 << 16];
    getcontext(&uc_fib);
    uc_fib.uc_stack.ss_sp = stack2; uc_fib.uc_stack.ss_size = sizeof stack2; uc_fib.uc_link = nullptr;
    makecontext(&uc_fib, uc_entry, 0);
    long m = n / 10;
    t0 = cpu();
    for (long i = 0; i < m; ++i) swapcontext(&uc_main, &uc_fib);
    double uc_ns = (cpu() - t0) / (2.0 * m) * 1e9;
    printf("switch_asm_ns %.2f\nswitch_ucontext_ns %.2f\n", asm_ns, uc_ns);

    // one OS thread per CUDA thread: a 256-thread block passing 20 barriers, and creating the threads
    const int T = 256, R = 20;
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, nullptr, T);
    t0 = now();
    double c0 = pcpu();
    {
        std::vector<std::thread> ts;
        for (int t = 0; t < T; ++t) ts.emplace_back([&] { for (int r = 0; r < R; ++r) pthread_barrier_wait(&bar); });
        for (auto& t : ts) t.join();
    }
    double os_block = now() - t0, os_block_cpu = pcpu() - c0;
    t0 = now();
    c0 = pcpu();
    for (int rep = 0; rep < 4; ++rep) {
        std::vector<std::thread> ts;
        for (int t = 0; t < T; ++t) ts.emplace_back([] {});
        for (auto& t : ts) t.join();
    }
    double os_spawn = (now() - t0) / 4, os_spawn_cpu = (pcpu() - c0) / 4;
    printf("osthreads_block_barriers_us %.1f %.1f\nosthreads_spawn_block_us %.1f %.1f\n", os_block * 1e6,
           os_block_cpu * 1e6, os_spawn * 1e6, os_spawn_cpu * 1e6);
    return 0;
}
"""

KERNELS = r"""
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cuda_runtime.h>

static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
static double pcpu() { timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

__global__ void vadd(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
__global__ void reduce256(const float* in, float* out, int n) {
    __shared__ float s[256];
    int t = threadIdx.x, i = blockIdx.x * 256 + t;
    s[t] = i < n ? in[i] : 0.0f;
    __syncthreads();
    for (int st = 128; st > 0; st >>= 1) {
        if (t < st) s[t] += s[t + st];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = s[0];
}
__global__ void warp_reduce(const float* in, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? in[i] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    if ((threadIdx.x & 31) == 0) out[i / 32] = v;
}
__global__ void barriers20(float* x) {
    __shared__ float s[256];
    float v = 0.0f;
    for (int r = 0; r < 20; ++r) { s[threadIdx.x] = v + r; __syncthreads(); v += s[(threadIdx.x + 1) % 256]; __syncthreads(); }
    x[blockIdx.x * 256 + threadIdx.x] = v;
}
#define TILE 16
__global__ void matmul(const float* A, const float* B, float* C, int N) {
    __shared__ float As[TILE][TILE], Bs[TILE][TILE];
    int r = blockIdx.y * TILE + threadIdx.y, c = blockIdx.x * TILE + threadIdx.x;
    float acc = 0.0f;
    for (int t = 0; t < N / TILE; ++t) {
        As[threadIdx.y][threadIdx.x] = A[r * N + t * TILE + threadIdx.x];
        Bs[threadIdx.y][threadIdx.x] = B[(t * TILE + threadIdx.y) * N + c];
        __syncthreads();
        for (int k = 0; k < TILE; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
        __syncthreads();
    }
    C[r * N + c] = acc;
}

// best wall time and best CPU time (all OS threads) over reps launches
struct Times { double wall, cpu; };
template <class F> static Times best(int reps, F f) {
    Times b = {1e30, 1e30};
    for (int i = 0; i < reps; ++i) {
        double t0 = now(), c0 = pcpu();
        f();
        cudaDeviceSynchronize();
        double t = now() - t0, c = pcpu() - c0;
        if (t < b.wall) b.wall = t;
        if (c < b.cpu) b.cpu = c;
    }
    return b;
}

int main(int argc, char** argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 3;
    int n = argc > 2 ? atoi(argv[2]) : (1 << 20);
    float *a, *b, *c;
    cudaMalloc(&a, n * sizeof(float)); cudaMalloc(&b, n * sizeof(float)); cudaMalloc(&c, n * sizeof(float));
    cudaMemset(a, 0, n * sizeof(float)); cudaMemset(b, 0, n * sizeof(float));
    Times t;
    t = best(reps, [&] { vadd<<<(n + 255) / 256, 256>>>(a, b, c, n); });
    printf("vadd %d %.6f %.6f\n", n, t.wall, t.cpu);
    t = best(reps, [&] { reduce256<<<(n + 255) / 256, 256>>>(a, c, n); });
    printf("reduce256 %d %.6f %.6f\n", n, t.wall, t.cpu);
    t = best(reps, [&] { warp_reduce<<<(n + 255) / 256, 256>>>(a, c, n); });
    printf("warp_shuffle %d %.6f %.6f\n", n, t.wall, t.cpu);
    int blocks = n / 256 / 16 > 0 ? n / 256 / 16 : 1;
    t = best(reps, [&] { barriers20<<<blocks, 256>>>(c); });
    printf("barriers40 %d %.6f %.6f\n", blocks * 256, t.wall, t.cpu);
    int N = 256;
    t = best(reps, [&] { matmul<<<dim3(N / TILE, N / TILE), dim3(TILE, TILE)>>>(a, b, c, N); });
    printf("matmul256 %d %.6f %.6f\n", N * N, t.wall, t.cpu);
    return cudaGetLastError() == cudaSuccess ? 0 : 1;
}
"""

SMALL = r"""
#include <cstdio>
#include <ctime>
__global__ void reduce256(const float* in, float* out, int n) {
    __shared__ float s[256];
    int t = threadIdx.x, i = blockIdx.x * 256 + t;
    s[t] = i < n ? in[i] : 0.0f;
    __syncthreads();
    for (int st = 128; st > 0; st >>= 1) { if (t < st) s[t] += s[t + st]; __syncthreads(); }
    if (t == 0) out[blockIdx.x] = s[0];
}
int main() {
    int n = 1 << 16; float *a, *o;
    cudaMalloc(&a, n * sizeof(float)); cudaMalloc(&o, n / 256 * sizeof(float)); cudaMemset(a, 0, n * sizeof(float));
    timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    reduce256<<<n / 256, 256>>>(a, o, n);
    cudaDeviceSynchronize();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    printf("small %.6f\n", (c1.tv_sec - c0.tv_sec) + 1e-9 * (c1.tv_nsec - c0.tv_nsec));
    return 0;
}
"""

LABELS = {
    "vadd": "vector add, 1 element/thread",
    "reduce256": "shared-mem reduction, 256-thr blocks",
    "warp_shuffle": "warp-shuffle reduction (5 shuffles)",
    "barriers40": "40 __syncthreads per thread",
    "matmul256": "tiled matmul 256x256 (16x16 tiles)",
}


def build(src: str, d: Path, name: str, extra: list[str] | None = None, asan=False, tsan=False) -> tuple[Path, float]:
    cpp = d / f"{name}.cpp"
    cpp.write_text(src if src.startswith('#include "paralift_cuda.h"') else cc.rewrite(src))
    exe = d / name
    cmd = ["g++", *cc.compile_flags(asan=asan, tsan=tsan), *(extra or []), str(cpp), "-o", str(exe), "-lm"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return exe, time.perf_counter() - t0


def run(exe: Path, args: list[str], env: dict[str, str]) -> dict[str, list[str]]:
    out = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, check=True).stdout
    return {ln.split()[0]: ln.split()[1:] for ln in out.splitlines() if ln.strip()}


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="repetitions (medians / best of)")
    ap.add_argument("--threads", type=int, default=None, help="OS threads for blocks (default: the runtime's, 2)")
    ap.add_argument("--n", type=int, default=1 << 20, help="elements for the kernels (default 1M)")
    a = ap.parse_args()
    env = dict(os.environ)
    if a.threads:
        env["PARALIFT_CUDA_THREADS"] = str(a.threads)
    with tempfile.TemporaryDirectory(prefix="paralift-cuda-bench-") as tmp:
        d = Path(tmp)
        print(f"machine: {os.cpu_count()} cores; OS threads for blocks: "
              f"{env.get('PARALIFT_CUDA_THREADS', env.get('OMP_NUM_THREADS', 'default (2)'))}\n")

        # 1 + 2: switches and the thread-per-CUDA-thread alternative
        sw, _ = build(SWITCH_BENCH, d, "switch", ["-pthread"])
        res = [run(sw, [], env) for _ in range(a.reps)]
        med = lambda key: statistics.median(float(r[key][0]) for r in res)  # noqa: E731
        asm_ns, uc_ns = med("switch_asm_ns"), med("switch_ucontext_ns")
        print("CPU times (robust on a shared machine); wall times where waiting is the point.\n")
        print("1. context switch (ping-pong, CPU time, median)")
        print(f"   {'hand-written x86-64 switch':<40}{asm_ns:9.1f} ns/switch")
        print(f"   {'swapcontext (saves the signal mask)':<40}{uc_ns:9.1f} ns/switch   ({uc_ns / asm_ns:.0f}x slower)")

        kern, build_s = build(KERNELS, d, "kernels")
        kern_uc, _ = build(KERNELS, d, "kernels_uc", ["-DPARALIFT_CUDA_UCONTEXT"])
        k = [run(kern, [str(a.reps), str(a.n)], env) for _ in range(a.reps)]
        ku = [run(kern_uc, [str(a.reps), str(a.n)], env)]  # ~5x slower: one process
        kmed = lambda rs, key, col: statistics.median(float(r[key][col]) for r in rs)  # noqa: E731

        os_wall = statistics.median(float(r["osthreads_block_barriers_us"][0]) for r in res)
        os_cpu = statistics.median(float(r["osthreads_block_barriers_us"][1]) for r in res)
        sp_wall = statistics.median(float(r["osthreads_spawn_block_us"][0]) for r in res)
        sp_cpu = statistics.median(float(r["osthreads_spawn_block_us"][1]) for r in res)
        nb = int(k[0]["barriers40"][0])
        fib_wall = kmed(k, "barriers40", 1) / nb / 40 * 1e9
        fib_cpu = kmed(k, "barriers40", 2) / nb / 40 * 1e9
        per = 256 * 20
        print("\n2. threads of a block: fibers vs one OS thread per CUDA thread (256-thread blocks, per thread and barrier)")
        print(f"   {'':<40}{'wall ns':>10}{'CPU ns':>10}")
        print(f"   {'one OS thread per CUDA thread':<40}{os_wall * 1e3 / per:10.1f}{os_cpu * 1e3 / per:10.1f}"
              f"   + creating the threads: {sp_wall / 256 * 1e3:.0f} ns wall, {sp_cpu / 256 * 1e3:.0f} ns CPU per thread")
        print(f"   {'fibers (this runtime)':<40}{fib_wall:10.1f}{fib_cpu:10.1f}"
              f"   OS threads are {os_wall * 1e3 / per / fib_wall:.0f}x (wall) / {os_cpu * 1e3 / per / fib_cpu:.0f}x (CPU) slower")

        print(f"\n3. kernels through the runtime (best of {a.reps} launches, median of {a.reps} processes;"
              f" ucontext: one process)")
        print(f"   {'kernel':<38}{'CUDA thr':>10}{'wall ms':>9}{'CPU ms':>8}{'CPU ns/thr':>11}"
              f"{'ucontext CPU ms':>16}{'ns/thr':>8}")
        for key, label in LABELS.items():
            nthr = int(k[0][key][0])
            w, c, cu = kmed(k, key, 1), kmed(k, key, 2), kmed(ku, key, 2)
            print(f"   {label:<38}{nthr:>10,}{w * 1e3:9.1f}{c * 1e3:8.1f}{c / nthr * 1e9:11.1f}"
                  f"{cu * 1e3:16.1f}{cu / nthr * 1e9:8.1f}")

        print("\n4. build and sanitizer costs")
        print(f"   {'g++ build of the kernels file (-O2, wall)':<44}{build_s:9.2f} s")
        small, _ = build(SMALL, d, "small")
        small_a, ta = build(SMALL, d, "small_asan", asan=True)
        small_t, tt = build(SMALL, d, "small_tsan", tsan=True)
        for exe, label in ((small, "plain"), (small_a, "ASan+UBSan"), (small_t, "TSan (race mode)")):
            ts = [float(run(exe, [], env)["small"][0]) for _ in range(a.reps)]
            print(f"   {'64K-thread reduction, ' + label + ' (CPU)':<44}{statistics.median(ts) * 1e3:9.1f} ms")
        print(f"   {'ASan / TSan build of a small program (wall)':<44}{ta:9.2f} s / {tt:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""paralift's CUDA on a real GPU: end-to-end speedup over one CPU core, kernel-only throughput next
to the device's peak, and the bytes that crossed the bus (issue 24).

    python benchmarks/bench_cuda_gpu.py [--out results.json] [--kernels saxpy,matmul] [--jobs 4]
    python benchmarks/bench_cuda_gpu.py --emulate        # smoke test without a GPU: tiny sizes, CPU emulation

For each kernel: `paralift translate KERNEL.c --to cuda` writes the .cu (verified by paralift's own
sandbox, on the GPU when there is one); a driver then calls the sequential C function (gcc -O2, one
core) and the CUDA one on the same inputs, checks that they agree, and times both end to end (median
of --reps calls after one warm-up; the sequential code once at the largest sizes, or at a smaller
size and scaled by the work, marked "extrapolated"). Kernel time and bytes moved come from the
profiling hook paralift's own verdicts use (paralift.sandbox.cuda_profile, added to the benchmark's
copy of the written code): CUDA events around every launch, bytes of every host<->device copy,
per call. Peaks: fp32/fp64 from the SM count and clock (128 fp32 and 64 fp64 lanes per SM from sm_80 on,
FMA counted as 2 flops), memory bandwidth from the memory clock and bus width. The "bus" line is the
measured rate of cudaMemcpy from and to pageable host memory (256 MB, best of 3), the figure the
transfer rule's PARALIFT_CUDA_BUS_GBPS stands for. A kernel paralift verified but kept sequential
(slower end to end on this GPU, or withheld by the transfer rule without one) is benchmarked all
the same, from its verified plan, and listed as such.

Prints a table and writes JSON (--out). Without a GPU, --emulate runs everything on paralift's CPU
emulation at tiny sizes: it checks the benchmark itself, its figures mean nothing. One run on a GPU
is under 8 minutes with the default sizes (translations run --jobs at a time).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNELS_DIR = ROOT / "data" / "kernels"

# An fp32 matmul (the issue's figure is for fp32, n = 4096); the corpus kernel is fp64.
SGEMM = """/* C = A*B, single precision, A m x k, B k x n, C m x n row-major. */
void sgemm(int m, int n, int k, const float *A, const float *B, float *C)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float s = 0.0f;
            for (int p = 0; p < k; p++)
                s += A[i * k + p] * B[p * n + j];
            C[i * n + j] = s;
        }
}
"""


# The order of the issue's matmul (i, k, j), which paralift interchanges onto tiles.
SGEMM_IKJ = """/* C += A*B, single precision, n x n row-major, i-k-j order. */
void sgemm_ikj(int n, const float *A, const float *B, float *C)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++)
            for (int j = 0; j < n; j++)
                C[i * n + j] += A[i * n + k] * B[k * n + j];
}
"""
SOURCES = {"sgemm": SGEMM, "sgemm_ikj": SGEMM_IKJ}


@dataclass
class Spec:
    name: str
    source: str                         # file in data/kernels, or a key of SOURCES (above)
    call: str                           # the call, with the size symbols and array names
    arrays: dict                        # name -> (C type, count expression, init: "rand" | "zero" | "bins")
    outputs: list                       # arrays compared after the call
    gpu: dict                           # size symbols on a GPU
    tiny: dict                          # size symbols for --emulate
    flops: str = "0"                    # useful floating-point operations (expression in the sizes)
    bytes: str = "0"                    # bytes a kernel must at least read and write
    seq: dict = field(default_factory=dict)   # smaller sizes for the sequential timing (then scaled)
    returns: str = ""                   # C type of a returned value, compared too
    fp: str = "fp64"                    # which peak the flops are held against
    compute_bound: bool = False
    tol: float = 1e-9


SPECS = [
    Spec("saxpy", "saxpy.c", "saxpy(N, 2.5f, x, y)", {"x": ("float", "N", "rand"), "y": ("float", "N", "rand")},
         ["y"], {"N": 1 << 27}, {"N": 3001}, "2.0*N", "12.0*N", fp="fp32", tol=0),
    Spec("dot", "dot.c", "dot(N, x, y)", {"x": ("double", "N", "rand"), "y": ("double", "N", "rand")},
         [], {"N": 1 << 26}, {"N": 3001}, "2.0*N", "16.0*N", returns="double", tol=1e-9),
    Spec("max_abs", "max_abs.c", "max_abs(N, x)", {"x": ("double", "N", "rand")},
         [], {"N": 1 << 26}, {"N": 3001}, "0", "8.0*N", returns="double", tol=0),
    Spec("matvec", "matvec.c", "matvec(M, N, A, x, y)",
         {"A": ("double", "M*N", "rand"), "x": ("double", "N", "rand"), "y": ("double", "M", "zero")},
         ["y"], {"M": 8192, "N": 8192}, {"M": 37, "N": 45}, "2.0*M*N", "8.0*(M*N+N+M)", tol=1e-9),
    Spec("histogram", "histogram.c", "histogram(N, B, bin, hist)",
         {"bin": ("int", "N", "bins"), "hist": ("int", "B", "zero")},
         ["hist"], {"N": 1 << 26, "B": 256}, {"N": 3001, "B": 17}, "0", "4.0*N", tol=0),
    Spec("transpose", "transpose.c", "transpose(N, M, in, out)",
         {"in": ("float", "N*M", "rand"), "out": ("float", "N*M", "zero")},
         ["out"], {"N": 8192, "M": 8192}, {"N": 37, "M": 45}, "0", "8.0*N*M", tol=0),
    Spec("jacobi2d", "jacobi2d.c", "jacobi2d(N, M, in, out)",
         {"in": ("double", "N*M", "rand"), "out": ("double", "N*M", "zero")},
         ["out"], {"N": 4001, "M": 4001}, {"N": 37, "M": 45}, "5.0*N*M", "16.0*N*M", tol=0),
    Spec("sgemm", "sgemm", "sgemm(N, N, N, A, B, C)",
         {"A": ("float", "N*N", "rand"), "B": ("float", "N*N", "rand"), "C": ("float", "N*N", "zero")},
         ["C"], {"N": 4096}, {"N": 33}, "2.0*N*N*N", "12.0*N*N", seq={"N": 1024}, fp="fp32",
         compute_bound=True, tol=1e-4),
    Spec("sgemm_ikj", "sgemm_ikj", "sgemm_ikj(N, A, B, C)",
         {"A": ("float", "N*N", "rand"), "B": ("float", "N*N", "rand"), "C": ("float", "N*N", "zero")},
         ["C"], {"N": 4096}, {"N": 33}, "2.0*N*N*N", "12.0*N*N", seq={"N": 1024}, fp="fp32",
         compute_bound=True, tol=1e-4),
    Spec("matmul", "matmul.c", "matmul(N, N, N, A, B, C)",
         {"A": ("double", "N*N", "rand"), "B": ("double", "N*N", "rand"), "C": ("double", "N*N", "zero")},
         ["C"], {"N": 2048}, {"N": 29}, "2.0*N*N*N", "24.0*N*N", seq={"N": 1024}, compute_bound=True, tol=1e-9),
    Spec("nbody", "nbody.c", "nbody_forces(N, 1e-3, x, y, z, mass, fx, fy, fz)",
         {v: ("double", "N", "rand") for v in ("x", "y", "z", "mass")} |
         {v: ("double", "N", "zero") for v in ("fx", "fy", "fz")},
         ["fx", "fy", "fz"], {"N": 32768}, {"N": 61}, "20.0*N*N", "56.0*N", seq={"N": 8192},
         compute_bound=True, tol=1e-7),
    Spec("mandelbrot", "mandelbrot.c", "mandelbrot(W, H, 2000, counts)", {"counts": ("int", "W*H", "zero")},
         ["counts"], {"W": 4096, "H": 4096}, {"W": 61, "H": 53}, "0", "4.0*W*H", seq={"W": 1024, "H": 1024},
         compute_bound=True, tol=0),
]

HOOK = r"""
// Added by bench_cuda_gpu after paralift's profiling hook (paralift.sandbox.cuda_profile, the one the
// sandbox's verdicts use): per call, the launches' CUDA-event time and the bytes of every
// host<->device copy, read and reset after each call; the device's peaks; the pageable copy rate.
#include <vector>
extern "C" void __bench_counters(double *kernel_ms, double *h2d, double *d2h) {
    __pl_prof::flush();
    __pl_prof::State &s = __pl_prof::st();
    double ms = 0;
    for (size_t i = 0; i < s.launch_ms.size(); i++) ms += s.launch_ms[i];
    *kernel_ms = ms; *h2d = (double)s.bytes[0]; *d2h = (double)s.bytes[1];
    s.launch_ms.clear(); s.bytes[0] = s.bytes[1] = 0; s.copies[0] = s.copies[1] = 0;
}
extern "C" void __bench_device(double *fp32, double *fp64, double *gbs, char *name) {
    int dev = 0, sms = 0, clk = 0, mclk = 0, bus = 0;
    cudaDeviceProp p;
    cudaGetDevice(&dev);
    cudaGetDeviceProperties(&p, dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    cudaDeviceGetAttribute(&clk, cudaDevAttrClockRate, dev);            /* kHz */
    cudaDeviceGetAttribute(&mclk, cudaDevAttrMemoryClockRate, dev);     /* kHz */
    cudaDeviceGetAttribute(&bus, cudaDevAttrGlobalMemoryBusWidth, dev); /* bits */
    *fp32 = sms * 128.0 * 2.0 * clk * 1e3;
    *fp64 = sms * 64.0 * 2.0 * clk * 1e3;
    *gbs = 2.0 * mclk * 1e3 * bus / 8.0;
    snprintf(name, 256, "%s", p.name);
}
/* The rate of cudaMemcpy from and to ordinary (pageable) host memory, as paralift's CUDA functions
   copy the caller's arrays: `bytes` each way, best of 3 (the transfer rule's PARALIFT_CUDA_BUS_GBPS). */
extern "C" void __bench_bus(size_t bytes, double *h2d_gbs, double *d2h_gbs) {
    std::vector<char> h(bytes, 1);
    void *d = NULL;
    *h2d_gbs = *d2h_gbs = 0;
    if (cudaMalloc(&d, bytes) != cudaSuccess) return;
    cudaEvent_t a, b;
    cudaEventCreate(&a); cudaEventCreate(&b);
    for (int dir = 0; dir < 2; dir++)
        for (int r = 0; r < 3; r++) {
            float ms = 0;
            cudaEventRecord(a);
            if (dir == 0) cudaMemcpy(d, h.data(), bytes, cudaMemcpyHostToDevice);
            else cudaMemcpy(h.data(), d, bytes, cudaMemcpyDeviceToHost);
            cudaEventRecord(b); cudaEventSynchronize(b); cudaEventElapsedTime(&ms, a, b);
            double gbs = ms > 0 ? bytes / (ms * 1e-3) / 1e9 : 0;
            double *best = dir == 0 ? h2d_gbs : d2h_gbs;
            if (gbs > *best) *best = gbs;
        }
    cudaEventDestroy(a); cudaEventDestroy(b);
    cudaFree(d);
}
"""


def instrument(cu: str) -> str:
    """The written code with paralift's profiling hook (copies counted, launches bracketed by
    CUDA events: sandbox.cuda_profile) and the benchmark's accessors after it."""
    from paralift.sandbox import cuda_profile
    return cuda_profile.instrument(cu) + HOOK


def driver(spec: Spec, fn_seq: str, fn: str) -> str:
    """C++ main: inputs, the sequential call (reps_seq) and the CUDA call (warm-up + reps), the check,
    one JSON line on stdout. Sizes come from argv as NAME=VALUE; the sequential sizes follow '--seq'."""
    ret = spec.returns
    sig = SOURCES.get(spec.source) or (KERNELS_DIR / spec.source).read_text()
    proto = re.search(r"^\s*(?:\w+\s+)+\**\s*" + re.escape(fn) + r"\s*\([^)]*\)", sig, re.M).group(0).strip()
    proto_seq = proto.replace(fn + "(", fn_seq + "(", 1)
    syms = sorted(set(spec.gpu) | set(spec.tiny))
    L = ["#include <cstdio>", "#include <cstdlib>", "#include <cstring>", "#include <cmath>", "#include <chrono>",
         "#include <vector>", "#include <algorithm>",
         f'extern "C" {proto};', f'extern "C" {proto_seq};',
         'extern "C" void __bench_counters(double *, double *, double *);',
         'extern "C" void __bench_device(double *, double *, double *, char *);',
         'extern "C" void __bench_bus(size_t, double *, double *);',
         "static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now()"
         ".time_since_epoch()).count(); }",
         "static unsigned h32(unsigned x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; "
         "x ^= x >> 16; return x; }",
         "static long get(int argc, char **argv, int from, const char *k) { for (int i = from; i < argc; i++) { "
         "if (!strcmp(argv[i], \"--seq\")) break; size_t l = strlen(k); if (!strncmp(argv[i], k, l) && "
         "argv[i][l] == '=') return atol(argv[i] + l + 1); } return -1; }",
         "static int seq_at(int argc, char **argv) { for (int i = 1; i < argc; i++) if (!strcmp(argv[i], \"--seq\"))"
         " return i + 1; return argc; }",
         "int main(int argc, char **argv) {",
         "  int reps = atoi(argv[1]), reps_seq = atoi(argv[2]);"]
    for s in syms:
        L.append(f"  long {s} = get(argc, argv, 3, \"{s}\");")

    def alloc(prefix: str) -> list[str]:
        out = []
        for a, (ty, cnt, init) in spec.arrays.items():
            out.append(f"  std::vector<{ty}> {prefix}{a}((size_t)({cnt}) + 1);")
            fill = {"rand": f"({ty})((double)(h32((unsigned)i * 2654435761u + {len(a)}) & 0xffffff) / 16777216.0 "
                            f"* 2.0 - 1.0)",
                    "zero": f"({ty})0", "bins": f"({ty})(h32((unsigned)i) % (unsigned)B)"}[init]
            out.append(f"  for (size_t i = 0; i < {prefix}{a}.size(); i++) {prefix}{a}[i] = {fill};")
        return out

    def call_with(prefix: str, name: str) -> str:
        c = spec.call.replace(spec.call.split("(")[0] + "(", name + "(", 1)
        for a in spec.arrays:
            c = re.sub(rf"\b{a}\b(?=[,)])", f"{prefix}{a}.data()", c)
        return c

    L += alloc("g_") + alloc("s_") + alloc("p_")      # p_: pristine copies restored before each call
    restore = " ".join(f"g_{a} = p_{a};" for a in spec.outputs)
    rv = f"{ret} r_g = 0, r_s = 0; (void)r_g; (void)r_s;" if ret else ""
    L.append(f"  {rv}")
    assign_g = "r_g = " if ret else ""
    assign_s = "r_s = " if ret else ""
    L += ["  double km, h2d, d2h;",
          f"  {assign_g}{call_with('g_', fn)}; __bench_counters(&km, &h2d, &d2h);   /* warm-up */",
          "  std::vector<double> te, tk; double bh = 0, bd = 0;",
          "  for (int r = 0; r < reps; r++) {",
          f"    {restore}",
          f"    double t0 = now(); {assign_g}{call_with('g_', fn)}; double t1 = now();",
          "    __bench_counters(&km, &h2d, &d2h); te.push_back(t1 - t0); tk.push_back(km * 1e-3); bh = h2d; bd = d2h;",
          "  }",
          "  std::sort(te.begin(), te.end()); std::sort(tk.begin(), tk.end());",
          "  double gpu_e2e = te[te.size() / 2], gpu_kernel = tk[tk.size() / 2];",
          "  int sq = seq_at(argc, argv); bool scaled = sq < argc;"]
    if any(spec.seq):
        for s in syms:
            L.append(f"  long {s}_full = {s}; if (scaled) {s} = get(argc, argv, sq, \"{s}\");")
    L += alloc("q_") if any(spec.seq) else []
    seq_prefix = "q_" if any(spec.seq) else "s_"
    L += ["  std::vector<double> ts;",
          "  for (int r = 0; r < reps_seq; r++) {",
          f"    double t0 = now(); {assign_s}{call_with(seq_prefix, fn_seq)}; ts.push_back(now() - t0);",
          "  }",
          "  std::sort(ts.begin(), ts.end()); double seq = ts[ts.size() / 2];"]
    if any(spec.seq):
        # the check needs the sequential result at the full sizes: only when they were not scaled
        for s in syms:
            L.append(f"  {s} = {s}_full;")
        L += ["  if (!scaled) { " + " ".join(f"s_{a} = q_{a};" for a in spec.outputs) + " }"]
    L += [f"  {restore}", f"  {assign_g}{call_with('g_', fn)}; __bench_counters(&km, &h2d, &d2h);",
          "  long bad = 0; double worst = 0;",
          f"  const double tol = {spec.tol!r};"]
    check_seq = "!scaled" if any(spec.seq) else "true"
    for a in spec.outputs:
        L += [f"  if ({check_seq}) for (size_t i = 0; i < g_{a}.size() - 1; i++) {{",
              f"    double x = (double)g_{a}[i], y = (double)s_{a}[i], d = fabs(x - y) / (fabs(y) > 1 ? fabs(y) : 1);",
              "    if (d > tol) bad++; if (d > worst) worst = d; }"]
    if ret:
        L += [f"  if ({check_seq}) {{ double d = fabs((double)r_g - (double)r_s) / (fabs((double)r_s) > 1 ? "
              "fabs((double)r_s) : 1); if (d > tol) bad++; if (d > worst) worst = d; }"]
    L += ["  double fp32, fp64, gbs; char name[256]; __bench_device(&fp32, &fp64, &gbs, name);",
          "  double bus_h2d = 0, bus_d2h = 0; long busb = get(argc, argv, 3, \"BUSBYTES\");",
          "  if (busb > 0) __bench_bus((size_t)busb, &bus_h2d, &bus_d2h);",
          f"  double flops = {spec.flops}, bytes = {spec.bytes};"]
    if any(spec.seq):
        # the sequential time scaled by the work: (flops or bytes at full) / (at the sequential sizes)
        full = spec.flops if spec.flops != "0" else spec.bytes
        sub = full
        for s in syms:
            sub = re.sub(rf"\b{s}\b", f"(double)get(argc, argv, sq, \"{s}\")", sub)
        L.append(f"  if (scaled) seq *= ({full}) / ({sub});")
    L += ['  printf("{\\"seq_s\\": %.6g, \\"gpu_e2e_s\\": %.6g, \\"gpu_kernel_s\\": %.6g, \\"h2d_bytes\\": %.0f, '
          '\\"d2h_bytes\\": %.0f, \\"flops\\": %.6g, \\"min_bytes\\": %.6g, \\"mismatches\\": %ld, '
          '\\"worst_rel_diff\\": %.3g, \\"seq_extrapolated\\": %s, \\"peak_fp32\\": %.6g, \\"peak_fp64\\": %.6g, '
          '\\"peak_bytes_per_s\\": %.6g, \\"bus_h2d_gbs\\": %.4g, \\"bus_d2h_gbs\\": %.4g, \\"device\\": \\"%s\\"}\\n", '
          'seq, gpu_e2e, gpu_kernel, bh, bd, flops, bytes, '
          'bad, worst, scaled ? "true" : "false", fp32, fp64, gbs, bus_h2d, bus_d2h, name);',
          "  return bad != 0;", "}"]
    return "\n".join(L) + "\n"


def sh(cmd: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def translate(spec: Spec, work: Path, timeout: float) -> tuple[Path | None, str, dict]:
    """(source file, why not, what translate reported). A function paralift verified but kept
    sequential (slower on this GPU, or withheld by the transfer rule) is still benchmarked: its
    verified plan is regenerated here (the rule agent is deterministic) and marked not written."""
    src = work / (spec.source if spec.source not in SOURCES else spec.source + ".c")
    text = SOURCES.get(spec.source) or (KERNELS_DIR / spec.source).read_text()
    src.write_text(text)
    cu = work / f"{spec.name}.cu"
    r = sh([sys.executable, "-m", "paralift", "translate", str(src), "--to", "cuda", "-o", str(cu), "--json"],
           work, timeout)
    try:
        rep = json.loads(r.stdout)
    except json.JSONDecodeError:
        return None, f"translate failed: {r.stderr.strip()[-300:]}", {}
    f = rep["functions"][0]
    info = {"status": f["status"], "reason": f.get("reason", ""), "speedup": f.get("speedup"),
            "verdict_cuda": (f.get("verdict") or {}).get("cuda"), "written": cu.exists()}
    if f["status"] == "verified" and cu.exists():
        return src, "", info
    tests = f.get("tests") or {}
    if f["status"] == "sequential" and f.get("agent") == "rule" and tests.get("total") and \
            tests.get("passed") == tests.get("total"):
        from paralift.agents import RuleBasedTranslator, build_task
        from paralift.types import Target
        fn = re.search(r"\b(\w+)\(", spec.call).group(1)
        cu.write_text(RuleBasedTranslator().propose(build_task(text, "c", fn, Target.CUDA), Target.CUDA)[0].code)
        return src, "", info
    return None, f"not translated: {f['status']} {f.get('reason', '')}", info


def build_and_run(spec: Spec, src: Path, work: Path, emulate: bool, reps: int, timeout: float,
                  bus_bytes: int = 0) -> dict:
    fn = re.search(r"\b(\w+)\(", spec.call).group(1)
    (work / f"{spec.name}.bench.cu").write_text(instrument((work / f"{spec.name}.cu").read_text()))
    (work / f"{spec.name}_driver.cpp").write_text(driver(spec, fn + "_seq", fn))
    seq_o = work / f"{spec.name}_seq.o"
    r = sh(["gcc", "-O2", "-c", f"-D{fn}={fn}_seq", str(src), "-o", str(seq_o)], work, timeout)
    if r.returncode:
        return {"error": "sequential build: " + r.stderr[-300:]}
    exe = work / f"{spec.name}_bench"
    if emulate:
        from paralift.sandbox import cuda_cpu
        cpu = work / f"{spec.name}.bench.cpp"
        cpu.write_text(cuda_cpu.rewrite((work / f"{spec.name}.bench.cu").read_text()))
        cmd = cuda_cpu.build_command([cpu, work / f"{spec.name}_driver.cpp"], exe)
        cmd[-1:-1] = [str(seq_o)]
    else:
        cmd = ["nvcc", "-O2", "-std=c++17", "-arch=native", str(work / f"{spec.name}.bench.cu"),
               str(work / f"{spec.name}_driver.cpp"), str(seq_o), "-o", str(exe)]
    r = sh(cmd, work, timeout)
    if r.returncode:
        return {"error": "build: " + (r.stderr + r.stdout)[-400:]}
    sizes = spec.tiny if emulate else spec.gpu
    args = [str(exe), str(reps), "1", *[f"{k}={v}" for k, v in sizes.items()], f"BUSBYTES={bus_bytes}"]
    if spec.seq and not emulate:
        args += ["--seq", *[f"{k}={v}" for k, v in spec.seq.items()]]
    r = sh(args, work, timeout)
    try:
        out = json.loads(r.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {"error": f"run (status {r.returncode}): {(r.stderr + r.stdout)[-300:]}"}
    out["sizes"] = sizes
    if r.returncode:
        out["error"] = "the CUDA results differ from the sequential ones"
    return out


def figures(spec: Spec, m: dict) -> dict:
    f = {}
    if m.get("gpu_e2e_s"):
        f["speedup_e2e"] = m["seq_s"] / m["gpu_e2e_s"]
    k = m.get("gpu_kernel_s") or 0
    if k > 0:
        f["kernel_gbs"] = m["min_bytes"] / k / 1e9
        f["kernel_gbs_pct_peak"] = 100 * m["min_bytes"] / k / m["peak_bytes_per_s"] if m["peak_bytes_per_s"] else None
        if m["flops"]:
            peak = m["peak_fp32"] if spec.fp == "fp32" else m["peak_fp64"]
            f["kernel_gflops"] = m["flops"] / k / 1e9
            f["kernel_gflops_pct_peak"] = 100 * m["flops"] / k / peak if peak else None
    return f


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emulate", action="store_true", help="no GPU: CPU emulation, tiny sizes (a smoke test)")
    ap.add_argument("--kernels", default="", help="comma-separated subset of: " + ",".join(s.name for s in SPECS))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=4, help="translations at a time")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per step")
    ap.add_argument("--out", default="", help="JSON file (default: bench_cuda_gpu.json in the work folder)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    a = ap.parse_args(argv)
    if not a.emulate and shutil.which("nvcc") is None:
        print("nvcc not found (use --emulate without a GPU)", file=sys.stderr)
        return 2
    specs = [s for s in SPECS if not a.kernels or s.name in a.kernels.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench_cuda_gpu-"))
    t0 = time.time()
    results: dict = {}
    bus: dict = {}
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        futs = {s.name: ex.submit(translate, s, (work / s.name), a.timeout)
                for s in specs if (work / s.name).mkdir() is None}
    for s in specs:
        src, why, info = futs[s.name].result()
        if src is None:
            results[s.name] = {"error": why, "translate": info}
            continue
        m = build_and_run(s, src, work / s.name, a.emulate, a.reps, a.timeout, bus_bytes=0 if bus else
                          (1 << 20 if a.emulate else 256 << 20))
        m.update(figures(s, m))
        m["translate"] = info
        results[s.name] = m
        if not bus and m.get("bus_h2d_gbs"):
            bus = {"h2d_gbs": m["bus_h2d_gbs"], "d2h_gbs": m["bus_d2h_gbs"]}
    rows = [("kernel", "sizes", "e2e x", "kernel", "of peak", "H2D MB", "D2H MB", "check")]
    for s in specs:
        m = results[s.name]
        if "seq_s" not in m:
            rows.append((s.name, "", "", "", "", "", "", m.get("error", "")[:60]))
            continue
        thr = f"{m['kernel_gflops']:.4g} GFLOP/s" if "kernel_gflops" in m else \
            f"{m['kernel_gbs']:.4g} GB/s" if "kernel_gbs" in m else ""
        pct = m.get("kernel_gflops_pct_peak", m.get("kernel_gbs_pct_peak"))
        rows.append((s.name, " ".join(f"{k}={v}" for k, v in m["sizes"].items()),
                     f"{m['speedup_e2e']:.2f}{'*' if m['seq_extrapolated'] else ''}", thr,
                     f"{pct:.3g}%" if pct is not None else "", f"{m['h2d_bytes'] / 1e6:.3g}",
                     f"{m['d2h_bytes'] / 1e6:.3g}", "ok" if not m.get("error") else m["error"][:40]))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    dev = next((m["device"] for m in results.values() if "device" in m), "")
    print(f"device: {dev}; {'CPU emulation (figures meaningless)' if a.emulate else 'GPU'}; "
          f"* = sequential time measured at smaller sizes and scaled by the work; {time.time() - t0:.0f} s")
    if bus:
        from paralift.sandbox import cuda_profile
        print(f"bus: cudaMemcpy from pageable host memory {bus['h2d_gbs']:.3g} GB/s to the device, "
              f"{bus['d2h_gbs']:.3g} GB/s back (the transfer rule assumes {cuda_profile.bus_bytes_per_s() / 1e9:g} GB/s"
              f" for both: {cuda_profile.BUS_ENV})")
    held = [f"{s.name} ({results[s.name]['translate']['status']})" for s in specs
            if (results[s.name].get("translate") or {}).get("status") not in (None, "verified")]
    if held:
        print("benchmarked though translate kept them sequential (the plan paralift verified): " + ", ".join(held))
    comp = [results[s.name]["speedup_e2e"] for s in specs if s.compute_bound and "speedup_e2e" in results[s.name]]
    if comp:
        print(f"compute-bound geometric-mean end-to-end speedup: {statistics.geometric_mean(comp):.2f}x")
    out = Path(a.out) if a.out else work / "bench_cuda_gpu.json"
    out.write_text(json.dumps({"emulated": a.emulate, "device": dev, "reps": a.reps, "bus": bus, "kernels": results,
                               "command": " ".join(sys.argv), "seconds": time.time() - t0}, indent=1))
    print(f"wrote {out}")
    if a.out and not a.keep:          # without --out the JSON lives in the work folder, which stays
        shutil.rmtree(work, ignore_errors=True)
    return 1 if any("error" in m for m in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

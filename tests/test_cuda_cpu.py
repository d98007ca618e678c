"""The CUDA-on-CPU runtime (paralift.sandbox.cuda_cpu).

Every program under tests/cuda_programs/ is a complete .cu file whose main
checks its results against a CPU reference and prints PASS/FAIL.  Each one is
rewritten with the package's API, built with g++ and run in forward and
reverse thread order; a few also under AddressSanitizer and ThreadSanitizer
to show that those modes raise no false alarms.  The buggy variants under
tests/cuda_programs/bugs/ state on their first line what each mode must see
(`// expect: forward=fail reverse=pass tsan=race`).  Builds and runs happen
once per session, in parallel, in a fixture.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from paralift.sandbox import cuda_cpu as cc

PROGRAMS = pathlib.Path(__file__).parent / "cuda_programs"
GOOD = sorted(PROGRAMS.glob("*.cu"))
BUGS = sorted((PROGRAMS / "bugs").glob("*.cu"))
# Good programs that also run under the sanitizers in the default run, to show
# that those modes raise no false alarms (cheap ones: TSan is ~50x slower).
# The slow tests sweep every program.
ASAN_CLEAN = ["dynamic_shared", "cooperative_groups_block", "rewriter_edge_cases"]
TSAN_CLEAN = ["barrier_early_exit", "cooperative_groups_block", "stencil_halo"]
JOBS = max(2, min(8, os.cpu_count() or 2))
RUN_TIMEOUT = 300

# The session fixture builds ~60 programs; on a loaded machine that can take
# longer than the project's 300 s per-test default.
pytestmark = [pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++"), pytest.mark.timeout(1800)]


@dataclasses.dataclass
class Run:
    rc: int
    stdout: str
    stderr: str

    @property
    def outcome(self) -> str:
        """pass | fail | deadlock | asan | race | crash"""
        if self.rc == 0 and "PASS" in self.stdout:
            return "pass"
        if self.rc == cc.DEADLOCK_EXIT and "barrier deadlock in kernel" in self.stderr:
            return "deadlock"
        if self.rc == cc.RACE_EXIT and "ThreadSanitizer: data race" in self.stderr:
            return "race"
        if self.rc != 0 and ("AddressSanitizer" in self.stderr or ": runtime error:" in self.stderr):
            return "asan"
        if self.rc in (1, 2):
            return "fail"
        return "crash"


@dataclasses.dataclass
class Result:
    exe: pathlib.Path | None = None
    build_error: str | None = None
    runs: dict[str, Run] = dataclasses.field(default_factory=dict)  # mode -> run


def expectations(path: pathlib.Path) -> dict[str, str]:
    first = path.read_text().splitlines()[0]
    m = re.match(r"//\s*expect:\s*(.*)", first)
    assert m, f"{path.name}: first line must be '// expect: mode=outcome ...'"
    return dict(item.split("=", 1) for item in m.group(1).split())


def _build_and_run(src: pathlib.Path, mode: str, orders: tuple[str, ...], workdir: pathlib.Path) -> Result:
    """mode: normal | asan | tsan.  Runs the program once per order."""
    res = Result()
    cpp = workdir / f"{src.stem}.{mode}.cpu.cpp"
    exe = workdir / f"{src.stem}.{mode}"
    cpp.write_text(cc.rewrite(src.read_text()))
    cmd = cc.build_command([cpp], exe, asan=mode == "asan", tsan=mode == "tsan")
    b = subprocess.run(cmd, capture_output=True, text=True)
    if b.returncode != 0:
        res.build_error = b.stderr[-4000:]
        return res
    res.exe = exe
    for order in orders:
        env = cc.run_env(order)
        try:
            p = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)
            res.runs[order if mode == "normal" else mode] = Run(p.returncode, p.stdout, p.stderr[-6000:])
        except subprocess.TimeoutExpired:
            res.runs[order if mode == "normal" else mode] = Run(-1, "", "timeout")
    return res


@pytest.fixture(scope="session")
def results(tmp_path_factory) -> dict[tuple[str, str], Result]:
    """(program stem, build mode) -> Result, for every build the tests need."""
    workdir = tmp_path_factory.mktemp("cuda_cpu")
    jobs: list[tuple[pathlib.Path, str, tuple[str, ...]]] = []
    for src in GOOD:
        jobs.append((src, "normal", cc.ORDERS))
        if src.stem in ASAN_CLEAN:
            jobs.append((src, "asan", ("forward",)))
        if src.stem in TSAN_CLEAN:
            jobs.append((src, "tsan", ("forward",)))
    for src in BUGS:
        exp = expectations(src)
        jobs.append((src, "normal", cc.ORDERS))
        if "asan" in exp:
            jobs.append((src, "asan", ("forward",)))
        if "tsan" in exp:
            jobs.append((src, "tsan", ("forward",)))
    # sanitizer builds are the slowest: start them first
    jobs.sort(key=lambda j: j[1] == "normal")
    out: dict[tuple[str, str], Result] = {}
    with concurrent.futures.ThreadPoolExecutor(JOBS) as ex:
        futs = {ex.submit(_build_and_run, src, mode, orders, workdir): (src.stem, mode) for src, mode, orders in jobs}
        for f in concurrent.futures.as_completed(futs):
            out[futs[f]] = f.result()
    return out


def _describe(res: Result) -> str:
    if res.build_error:
        return "build failed:\n" + res.build_error
    return "\n".join(f"[{m}] rc={r.rc} {r.outcome}\n{r.stdout[-1500:]}\n{r.stderr[-3000:]}" for m, r in res.runs.items())


# ---------------------------------------------------------------------------
# the suite
# ---------------------------------------------------------------------------
def test_suite_is_big_enough():
    assert len(GOOD) >= 20
    assert len(BUGS) >= 8
    kinds = {o for b in BUGS for o in expectations(b).values()}
    assert {"fail", "deadlock", "asan", "race"} <= kinds


@pytest.mark.parametrize("src", GOOD, ids=lambda p: p.stem)
def test_program_passes_in_both_orders(src, results):
    res = results[(src.stem, "normal")]
    assert res.build_error is None, _describe(res)
    for order in cc.ORDERS:
        assert res.runs[order].outcome == "pass", _describe(res)


@pytest.mark.parametrize("name", ASAN_CLEAN)
def test_program_clean_under_asan(name, results):
    res = results[(name, "asan")]
    assert res.build_error is None, _describe(res)
    assert res.runs["asan"].outcome == "pass", _describe(res)


@pytest.mark.parametrize("name", TSAN_CLEAN)
def test_program_clean_under_tsan(name, results):
    res = results[(name, "tsan")]
    assert res.build_error is None, _describe(res)
    assert res.runs["tsan"].outcome == "pass", _describe(res)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["asan", "tsan"])
@pytest.mark.parametrize("src", GOOD, ids=lambda p: p.stem)
def test_program_clean_under_sanitizer_sweep(src, mode, tmp_path):
    res = _build_and_run(src, mode, ("forward",), tmp_path)
    assert res.build_error is None, _describe(res)
    assert res.runs[mode].outcome == "pass", _describe(res)


@pytest.mark.parametrize("src", BUGS, ids=lambda p: p.stem)
def test_bug_is_caught(src, results):
    exp = expectations(src)
    seen = {}
    for mode_key, want in exp.items():
        build = "normal" if mode_key in cc.ORDERS else mode_key
        res = results[(src.stem, build)]
        assert res.build_error is None, _describe(res)
        got = res.runs[mode_key].outcome
        seen[mode_key] = got
        assert got == want, f"{src.name}: {mode_key}: expected {want}, got {got}\n{_describe(res)}"
    assert any(v != "pass" for v in seen.values()), f"{src.name} is caught by no mode"


def test_deadlock_report_names_kernel_and_sites(results):
    run = results[("divergent_barrier", "normal")].runs["forward"]
    assert run.rc == cc.DEADLOCK_EXIT
    assert "barrier deadlock in kernel smooth_rounds" in run.stderr
    # both barrier sites, with the line numbers of the .cu file
    src = (PROGRAMS / "bugs" / "divergent_barrier.cu").read_text().splitlines()
    lines = [i + 1 for i, text in enumerate(src) if text.strip().startswith("__syncthreads()")]
    assert len(lines) == 2
    for line in lines:
        assert f"__syncthreads (line {line})" in run.stderr, run.stderr


@pytest.mark.parametrize("threads", [1, 3])
def test_results_do_not_depend_on_the_os_thread_count(threads, results):
    for name in ("atomics_float_double", "histogram_atomic", "reduce_shared"):
        exe = results[(name, "normal")].exe
        assert exe is not None
        env = cc.run_env("forward", threads=threads)
        p = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)
        assert Run(p.returncode, p.stdout, p.stderr).outcome == "pass", p.stdout + p.stderr


def test_ucontext_fallback(tmp_path):
    """The portable fiber back end (swapcontext), used where the x86-64 switch is not."""
    src = PROGRAMS / "reduce_warp_shuffle.cu"
    cpp = tmp_path / "r.cpp"
    cpp.write_text(cc.rewrite(src.read_text()))
    exe = tmp_path / "r"
    cmd = ["g++", *cc.compile_flags(), "-DPARALIFT_CUDA_UCONTEXT", str(cpp), "-o", str(exe)]
    b = subprocess.run(cmd, capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    for order in cc.ORDERS:
        p = subprocess.run([str(exe)], capture_output=True, text=True, env=cc.run_env(order), timeout=RUN_TIMEOUT)
        assert p.returncode == 0 and "PASS" in p.stdout, p.stdout + p.stderr


def test_race_report_points_at_the_racy_line(results):
    run = results[("nonatomic_histogram", "tsan")].runs["tsan"]
    src = (PROGRAMS / "bugs" / "nonatomic_histogram.cu").read_text().splitlines()
    line = next(i + 1 for i, text in enumerate(src) if "hist[data[i] % 16]++" in text)
    assert f"nonatomic_histogram.tsan.cpu.cpp:{line}" in run.stderr, run.stderr[-2000:]


@pytest.mark.parametrize("program, build, mode, reason", [
    ("divergent_barrier", "normal", "forward", "barrier deadlock: paralift-cuda: barrier deadlock in kernel smooth_rounds"),
    ("nonatomic_histogram", "tsan", "tsan", "data race between CUDA threads"),
    ("oob_write", "asan", "asan", "invalid memory access (AddressSanitizer)"),
    ("host_pointer_to_kernel", "normal", "forward", "kernel argument is not device memory"),
    ("use_after_free", "normal", "forward", "kernel argument points into freed device memory"),
])
def test_diagnose_gives_a_reason(program, build, mode, reason, results):
    run = results[(program, build)].runs[mode]
    assert reason in (cc.diagnose(run.rc, run.stderr) or ""), run.stderr[-2000:]


def test_diagnose_is_silent_on_success(results):
    run = results[("vector_add", "normal")].runs["forward"]
    assert cc.diagnose(run.rc, run.stderr) is None


def test_host_pointer_to_kernel_is_reported(results):
    run = results[("host_pointer_to_kernel", "normal")].runs["forward"]
    assert "kernel increment: argument 0" in run.stderr and "not device memory" in run.stderr
    assert "an illegal memory access was encountered" in run.stderr


# ---------------------------------------------------------------------------
# the rewriter
# ---------------------------------------------------------------------------
def test_rewrite_prologue_and_line_numbers():
    src = "__global__ void k(int* x) { x[threadIdx.x] = 1; }\nvoid f(int* d) {\n  k<<<1,\n    32>>>(d);\n}\n"
    out = cc.rewrite(src)
    lines = out.splitlines()
    assert lines[0] == '#include "paralift_cuda.h"'
    assert lines[1] == "#line 1"
    body = "\n".join(lines[2:]) + "\n"
    assert body.count("\n") == src.count("\n")  # line numbers of the .cu file are kept
    assert '__pl_launch("k", 1,' in body
    assert "[&](auto&... __pl_kargs) { k(__pl_kargs...); }, d)" in body


@pytest.mark.parametrize("launch, name, cfg", [
    ("k<<<g, b>>>(x, n);", '"k"', "g, b, 0, 0"),
    ("k<<<g, b, smem>>>(x);", '"k"', "g, b, smem, 0"),
    ("k<<< dim3(n/2, 2), dim3(32, 4), 0, s[1] >>>(x);", '"k"', "dim3(n/2, 2), dim3(32, 4), 0, s[1]"),
    ("ns::k<float, 4><<<1, 1>>>();", '"ns::k<float,4>"', "1, 1, 0, 0"),
    ("k <<<1, 1>>> (f(a, b), g<int, 2>(c));", '"k"', "1, 1, 0, 0"),
])
def test_rewrite_launch_forms(launch, name, cfg):
    out = cc.rewrite("void f() { " + launch + " }")
    assert f"__pl_launch({name}, {cfg}," in out, out


def test_rewrite_leaves_comments_and_strings_alone():
    src = ('// k<<<1, 1>>>(x); __shared__ int s[4];\n/* k<<<1,1>>>() */\n'
           'const char* s = "k<<<1,1>>>() __shared__ int t[2];";\n')
    out = cc.rewrite(src)
    assert out.endswith(src)
    assert cc.unsupported_features('// asm("trap");\nconst char* t = "texture<float>";\n') == []


def test_rewrite_shared_declarations():
    src = """__global__ void k() {
    __shared__ float tile[16][17];
    __shared__ int a[8], b[8];
    extern __shared__ __align__(16) unsigned char raw[];
    volatile __shared__ int flag;
}"""
    out = cc.rewrite(src)
    assert "typedef float __pl_shT_tile[16][17]; static char __pl_shK_tile; __pl_shT_tile& tile = " in out
    assert "__pl_shT_a& a = " in out and "__pl_shT_b& b = " in out and "typedef int __pl_shT_b[8];" in out
    assert "typedef unsigned char __pl_shT_raw; __pl_shT_raw* raw = (__pl_shT_raw*)::paralift_cuda::dynamic_shared();" in out
    assert "typedef volatile int __pl_shT_flag;" in out
    assert out.count("\n") == src.count("\n") + 2  # the two prologue lines


def test_rewrite_rejects_malformed_launch():
    with pytest.raises(cc.RewriteError):
        cc.rewrite("void f() { k<<<1>>>(x); }")
    with pytest.raises(cc.RewriteError):
        cc.rewrite("void f() { k<<<1, 2>>> x; }")


@pytest.mark.parametrize("snippet, feature", [
    ("texture<float, 1> tex; __global__ void k(float* o) { o[0] = tex1Dfetch(tex, 0); }", "texture memory"),
    ("__global__ void k(cudaTextureObject_t t) {}", "texture memory"),
    ('__global__ void k(int* x) { asm volatile("membar.gl;"); }', "inline PTX"),
    ("#include <cooperative_groups.h>\n__global__ void k() { cooperative_groups::this_grid().sync(); }",
     "cooperative groups grid synchronization"),
    ("#include <thrust/device_vector.h>\nvoid f() {}", "Thrust"),
    ("#include <cublas_v2.h>\nvoid f() { cublasHandle_t h; cublasCreate(&h); }", "cuBLAS"),
    ("#include <curand_kernel.h>\n__global__ void k(curandState* s) {}", "cuRAND"),
    ("#include <cuda_fp16.h>\n__global__ void k(__half* x) {}", "half precision (cuda_fp16/cuda_bf16)"),
    ("__global__ void child(int* x) {}\n__global__ void parent(int* x) { child<<<1, 1>>>(x); }",
     "dynamic parallelism (kernel launch from device code)"),
    ("void f(cudaGraph_t g) {}", "CUDA graphs"),
    ("__global__ void k(int* x) {}\nvoid f(int* d) { void* a[] = {&d}; cudaLaunchKernel((const void*)k, 1, 1, a, 0, 0); }",
     "cudaLaunchKernel with a kernel cast to void *"),
])
def test_unsupported_features_are_named(snippet, feature):
    assert feature in cc.unsupported_features(snippet)
    assert f'#error "unsupported on CPU emulation: {feature}"' in cc.rewrite(snippet)


def test_supported_code_has_no_unsupported_features():
    for src in GOOD:
        assert cc.unsupported_features(src.read_text()) == [], src.name
    # look-alike names are no features
    assert cc.unsupported_features("int half = 3; int texture_count = 2; int asmx = 1;") == []


def test_unsupported_feature_fails_the_build_clearly(tmp_path):
    src = "texture<float, 1> tex;\n__global__ void k(float* o) { o[0] = tex1Dfetch(tex, 0); }\nint main() { return 0; }\n"
    cpp = tmp_path / "t.cpu.cpp"
    cpp.write_text(cc.rewrite(src))
    p = subprocess.run(cc.build_command([cpp], tmp_path / "t"), capture_output=True, text=True)
    assert p.returncode != 0
    assert "unsupported on CPU emulation: texture memory" in p.stderr


# ---------------------------------------------------------------------------
# the API as the sandbox uses it
# ---------------------------------------------------------------------------
def test_api_constants_and_flags():
    assert cc.ORDER_ENV == "PARALIFT_CUDA_ORDER"
    assert cc.DEADLOCK_EXIT == 86
    assert (cc.include_dir() / "paralift_cuda.h").is_file()
    assert (cc.include_dir() / "cuda_runtime.h").is_file()
    flags = cc.compile_flags()
    assert "-std=c++17" in flags and "-fopenmp" in flags and f"-I{cc.include_dir()}" in flags
    asan = cc.compile_flags(asan=True)
    assert "-fsanitize=address,undefined" in asan and "-fno-omit-frame-pointer" in asan
    assert "-fsanitize=thread" in cc.compile_flags(tsan=True)
    with pytest.raises(ValueError):
        cc.compile_flags(asan=True, tsan=True)
    assert cc.run_env("reverse", base={})[cc.ORDER_ENV] == "reverse"


CANDIDATE = r"""
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>
#define CUDA_CHECK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { \
    fprintf(stderr, "%s\n", cudaGetErrorString(e)); exit(1);} } while(0)
__global__ void saxpy_kernel(int n, float a, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
extern "C" void saxpy(int n, float a, const float* x, float* y) {
    float *dx, *dy;
    CUDA_CHECK(cudaMalloc(&dx, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dy, n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dy, y, n * sizeof(float), cudaMemcpyHostToDevice));
    saxpy_kernel<<<(n + 255) / 256, 256>>>(n, a, dx, dy);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
}
int main() { puts("the candidate's own main"); return 3; }
"""

DRIVER = r"""
#include "cand.cpu.cpp"
#include <cstdio>
#undef main  // the candidate's main was renamed with -Dmain=__paralift_user_main
int main() {
    const int n = 1000;
    float x[n], y[n];
    for (int i = 0; i < n; ++i) { x[i] = (float)i; y[i] = 1.0f; }
    saxpy(n, 2.0f, x, y);
    for (int i = 0; i < n; ++i) if (y[i] != 2.0f * i + 1.0f) { puts("FAIL"); return 1; }
    puts("PASS");
    return 0;
}
"""


def test_sandbox_style_driver_includes_the_candidate(tmp_path):
    (tmp_path / "cand.cu").write_text(CANDIDATE)
    (tmp_path / "cand.cpu.cpp").write_text(cc.rewrite(CANDIDATE))
    (tmp_path / "driver.cpp").write_text(DRIVER)
    exe = tmp_path / "driver"
    cmd = ["g++", *cc.compile_flags(), "-Dmain=__paralift_user_main", str(tmp_path / "driver.cpp"), "-o", str(exe)]
    b = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert b.returncode == 0, b.stderr
    for order in cc.ORDERS:
        p = subprocess.run([str(exe)], capture_output=True, text=True, env=cc.run_env(order))
        assert p.returncode == 0 and p.stdout.strip() == "PASS", p.stdout + p.stderr


def test_two_rewritten_translation_units_link_together(tmp_path):
    a = "__global__ void ka(int* x) { x[threadIdx.x] += 1; }\nvoid run_a(int* d) { ka<<<1, 32>>>(d); }\n"
    b = ("#include <cstdio>\n__global__ void kb(int* x) { __shared__ int s[32]; s[threadIdx.x] = x[threadIdx.x];"
         " __syncthreads(); x[threadIdx.x] = s[31 - threadIdx.x]; }\nvoid run_a(int*);\n"
         "int main() { int h[32]; for (int i = 0; i < 32; ++i) h[i] = i; int* d; cudaMalloc(&d, sizeof h);"
         " cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice); run_a(d); kb<<<1, 32>>>(d);"
         " cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost); for (int i = 0; i < 32; ++i)"
         " if (h[i] != 32 - i) { puts(\"FAIL\"); return 1; } puts(\"PASS\"); return 0; }\n")
    (tmp_path / "a.cpp").write_text(cc.rewrite(a))
    (tmp_path / "b.cpp").write_text(cc.rewrite(b))
    exe = tmp_path / "ab"
    r = subprocess.run(cc.build_command([tmp_path / "a.cpp", tmp_path / "b.cpp"], exe), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    p = subprocess.run([str(exe)], capture_output=True, text=True)
    assert p.stdout.strip() == "PASS", p.stdout + p.stderr


RUNTIME_CHECKS = r"""
#include <cstdio>
#include <cstring>
__global__ void k(float* x, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) x[i] = 1.0f; }
__global__ void big_shared(float* x) { __shared__ float s[13000]; s[threadIdx.x] = 1.0f; x[0] = s[0]; }
int main(int argc, char** argv) {
    const char* what = argc > 1 ? argv[1] : "";
    float* d; float h[64];
    cudaMalloc(&d, 64 * sizeof(float));
    if (!strcmp(what, "memcpy_overflow"))
        return cudaMemcpy(h, d, 65 * sizeof(float), cudaMemcpyDeviceToHost) == cudaErrorInvalidValue ? 0 : 1;
    if (!strcmp(what, "memcpy_host_as_device"))
        return cudaMemcpy(h, h + 1, 4, cudaMemcpyHostToDevice) == cudaErrorInvalidValue ? 0 : 1;
    if (!strcmp(what, "double_free")) {
        cudaFree(d);
        return cudaFree(d) == cudaErrorInvalidValue ? 0 : 1;
    }
    if (!strcmp(what, "unwritten_output_is_nan")) {
        cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);
        return h[0] != h[0] ? 0 : 1;
    }
    if (!strcmp(what, "static_shared_limit")) { big_shared<<<1, 32>>>(d); return 0; }
    if (!strcmp(what, "sticky_error")) {
        k<<<1, 64>>>(h, 64);                                  // host pointer: sticky illegal address
        return cudaMemcpy(h, d, 4, cudaMemcpyDeviceToHost) == cudaErrorIllegalAddress &&
               cudaDeviceSynchronize() == cudaErrorIllegalAddress ? 0 : 1;
    }
    if (!strcmp(what, "dyn_smem_limit")) {
        k<<<1, 32, 64 * 1024>>>(d, 64);                       // > 48 KiB without cudaFuncSetAttribute
        return cudaGetLastError() == cudaErrorInvalidValue ? 0 : 1;
    }
    return 2;
}
"""


@pytest.fixture(scope="module")
def runtime_checks(tmp_path_factory):
    d = tmp_path_factory.mktemp("rt")
    (d / "rt.cpp").write_text(cc.rewrite(RUNTIME_CHECKS))
    r = subprocess.run(cc.build_command([d / "rt.cpp"], d / "rt"), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return d / "rt"


@pytest.mark.parametrize("check", ["memcpy_overflow", "memcpy_host_as_device", "double_free",
                                   "unwritten_output_is_nan", "sticky_error", "dyn_smem_limit"])
def test_runtime_checks(runtime_checks, check):
    p = subprocess.run([str(runtime_checks), check], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_static_shared_limit_is_fatal(runtime_checks):
    p = subprocess.run([str(runtime_checks), "static_shared_limit"], capture_output=True, text=True)
    assert p.returncode != 0
    assert "static __shared__ memory" in p.stderr and "big_shared" in p.stderr


# ---------------------------------------------------------------------------
# the same programs with the real toolchain
# ---------------------------------------------------------------------------
def _nvcc_compile(src: pathlib.Path, out: pathlib.Path) -> tuple[pathlib.Path, subprocess.CompletedProcess]:
    return src, subprocess.run(["nvcc", "-std=c++17", "-c", str(src), "-o", str(out / (src.stem + ".o"))],
                               capture_output=True, text=True)


@pytest.mark.nvcc
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc")
def test_programs_compile_with_nvcc(tmp_path):
    failed = []
    with concurrent.futures.ThreadPoolExecutor(JOBS) as ex:
        for src, p in ex.map(lambda s: _nvcc_compile(s, tmp_path), GOOD + BUGS):
            if p.returncode != 0:
                failed.append(f"{src.name}:\n{p.stderr[-2000:]}")
    assert not failed, "\n".join(failed)


def _have_gpu() -> bool:
    if shutil.which("nvidia-smi") is None or shutil.which("nvcc") is None:
        return False
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.gpu
@pytest.mark.skipif(not _have_gpu(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("src", GOOD, ids=lambda p: p.stem)
def test_program_passes_on_gpu(src, tmp_path, results):
    """On a GPU the programs give the same verdict (PASS) as on the CPU."""
    exe = tmp_path / src.stem
    b = subprocess.run(["nvcc", "-std=c++17", "-O2", str(src), "-o", str(exe)], capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=RUN_TIMEOUT)
    cpu = results[(src.stem, "normal")].runs["forward"]
    assert p.returncode == 0 and "PASS" in p.stdout, p.stdout + p.stderr
    assert cpu.stdout.strip() == p.stdout.strip()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))


# ---------------------------------------------------------------------------
PCH_PROGRAM = r"""
#include <cstdio>
__global__ void inc(int n, int *x) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) x[i] += i; }
int main() {
    int *d, h[300];
    cudaMalloc(&d, sizeof h); cudaMemset(d, 0, sizeof h);
    inc<<<3, 128>>>(300, d);
    cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);
    printf("%d %d\n", h[0], h[299]);
    return 0;
}
"""


def test_precompiled_header_is_built_once_per_flag_set_and_used(tmp_path, monkeypatch):
    """compile_flags() ends with -include <cache>/paralift_cuda.h, whose .gch
    g++ really uses (-H marks it '!'); concurrent builders end with one valid
    file; a -D the header tests makes g++ fall back to the text, still right."""
    import concurrent.futures as cf
    monkeypatch.setenv(cc.PCH_ENV, str(tmp_path / "pch"))
    flags = cc.compile_flags(pch=False)
    with cf.ThreadPoolExecutor(3) as ex:          # three threads race for the first build
        got = list(ex.map(lambda _: cc.precompiled_header(flags), range(3)))
    assert got[0] == got[1] == got[2] and got[0][0] == "-include"
    header = pathlib.Path(got[0][1])
    assert header.parent.parent == tmp_path / "pch" and (header.parent / "paralift_cuda.h.gch").is_file()
    assert not [f for f in header.parent.iterdir() if f.name.startswith(".")]   # no temporary left behind
    assert cc.compile_flags()[-2:] == got[0]
    assert cc.compile_flags(asan=True)[-1] != got[0][1]                         # another flag set, another .gch
    cpp = tmp_path / "p.cpp"
    cpp.write_text(cc.rewrite(PCH_PROGRAM))
    for extra, used in (([], True), (["-DPARALIFT_CUDA_UCONTEXT"], False)):
        b = subprocess.run(["g++", *cc.compile_flags(), *extra, "-H", "-Winvalid-pch", str(cpp), "-o",
                            str(tmp_path / "p"), "-lm"], capture_output=True, text=True)
        assert b.returncode == 0, b.stderr[-2000:]
        assert (f"! {header}.gch" in b.stderr) == used, b.stderr[:500]
        p = subprocess.run([str(tmp_path / "p")], capture_output=True, text=True, timeout=60)
        assert p.stdout.split() == ["0", "299"]
    monkeypatch.setenv(cc.PCH_ENV, "off")
    assert "-include" not in cc.compile_flags()


MANY_LAUNCHES = r"""
#include <cstdio>
#include <cuda_runtime.h>
__global__ void scale(float* x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = 2.0f * x[i];
}
__global__ void count(const float* x, unsigned* bins, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) bins[i % 4]++;                    // RACE: should be atomicAdd
}
int main() {
    const int n = 1024;
    float* x; unsigned* bins;
    cudaMalloc(&x, n * sizeof(float));
    cudaMalloc(&bins, 4 * sizeof(unsigned));
    cudaMemset(x, 0, n * sizeof(float));
    cudaMemset(bins, 0, 4 * sizeof(unsigned));
    for (int r = 0; r < 40; ++r) scale<<<4, 256>>>(x, n);
    count<<<4, 256>>>(x, bins, n);
    cudaDeviceSynchronize();
    printf("PASS\n");
    return 0;
}
"""


def test_tsan_process_memory_stays_flat_over_many_launches(tmp_path):
    # The grid's OS threads and their TSan fibers live for the whole process:
    # a thread per launch made ~230 MB of TSan fiber state per launch (40
    # launches: ~9 GB). The race in the last launch is still reported.
    cpp = tmp_path / "many.cpu.cpp"
    cpp.write_text(cc.rewrite(MANY_LAUNCHES))
    exe = tmp_path / "many"
    b = subprocess.run(cc.build_command([cpp], exe, tsan=True), capture_output=True, text=True)
    assert b.returncode == 0, b.stderr[-3000:]
    p = subprocess.Popen([str(exe)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=cc.run_env("forward", threads=2))
    _, status, usage = os.wait4(p.pid, 0)
    err = p.stderr.read()
    assert os.waitstatus_to_exitcode(status) == cc.RACE_EXIT and "ThreadSanitizer: data race" in err, err[-2000:]
    assert usage.ru_maxrss < 1_500_000, f"peak RSS {usage.ru_maxrss} KB"


HOST_WORK_BETWEEN_LAUNCHES = r"""
#include <cstdio>
#include <ctime>
#include <cuda_runtime.h>
__global__ void bump(int* x) { x[blockIdx.x * blockDim.x + threadIdx.x] += 1; }
static double now(clockid_t c) { timespec t; clock_gettime(c, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
int main() {
    int* d;
    cudaMalloc(&d, 64 * sizeof(int));
    cudaMemset(d, 0, 64 * sizeof(int));
    volatile double sink = 0;
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (int r = 0; r < 400; ++r) {
        bump<<<2, 32>>>(d);                        // two blocks: the helper thread runs one
        for (int i = 0; i < 200000; ++i) sink = sink + i * 0.5;   // host work between launches
    }
    cudaDeviceSynchronize();
    double wall = now(CLOCK_MONOTONIC) - w0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    int h[64];
    cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);
    printf("%s cpu/wall %.2f\n", h[0] == 400 && h[63] == 400 ? "PASS" : "FAIL", cpu / wall);
    return 0;
}
"""


def test_grid_threads_sleep_while_host_code_runs(tmp_path):
    # An OpenMP team ran the grids before: libgomp's idle thread spun through
    # the host code between launches (a third of an emulated batch's CPU).
    cpp = tmp_path / "host.cpu.cpp"
    cpp.write_text(cc.rewrite(HOST_WORK_BETWEEN_LAUNCHES))
    exe = tmp_path / "host"
    b = subprocess.run(cc.build_command([cpp], exe), capture_output=True, text=True)
    assert b.returncode == 0, b.stderr[-3000:]
    p = subprocess.run([str(exe)], capture_output=True, text=True, env=cc.run_env("forward", threads=2), timeout=120)
    assert p.returncode == 0 and p.stdout.startswith("PASS"), p.stdout + p.stderr
    ratio = float(p.stdout.split()[-1])
    # the host loop keeps one core busy; a spinning helper would make it ~2
    assert ratio < 1.4, p.stdout


FORK_AFTER_LAUNCH = r"""
#include <cstdio>
#include <unistd.h>
#include <sys/wait.h>
#include <cuda_runtime.h>
__global__ void inc(int* x) { x[blockIdx.x * blockDim.x + threadIdx.x] += 1; }
int main() {
    int* d; int h[64];
    cudaMalloc(&d, sizeof h); cudaMemset(d, 0, sizeof h);
    inc<<<2, 32>>>(d);
    pid_t pid = fork();
    if (pid == 0) { inc<<<2, 32>>>(d); cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost); _exit(h[0] == 2 && h[63] == 2 ? 0 : 1); }
    int st; waitpid(pid, &st, 0);
    inc<<<2, 32>>>(d); cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);
    bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && h[0] == 2 && h[63] == 2;
    printf(ok ? "PASS\n" : "FAIL\n");
    return ok ? 0 : 1;
}
"""


@pytest.mark.parametrize("asan", [False, True])
def test_a_forked_child_launches_on_its_own_grid_threads(tmp_path, asan):
    # The child of fork() has none of the parent's helper threads: without
    # the pool's fork handler its first two-block launch waited for them
    # forever. (ThreadSanitizer refuses new threads after such a fork.)
    cpp = tmp_path / "fork.cpu.cpp"
    cpp.write_text(cc.rewrite(FORK_AFTER_LAUNCH))
    exe = tmp_path / "fork"
    b = subprocess.run(cc.build_command([cpp], exe, asan=asan), capture_output=True, text=True)
    assert b.returncode == 0, b.stderr[-3000:]
    p = subprocess.run([str(exe)], capture_output=True, text=True, env=cc.run_env("forward", threads=2), timeout=60)
    assert p.returncode == 0 and p.stdout.startswith("PASS"), p.stdout + p.stderr


PROFILED = r"""
#include <cuda_runtime.h>
#include <stdio.h>
template <int K> __global__ void scale(float *x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= K;
}
int main() {
    const int n = 1000;
    float h[n], *d, *e;
    for (int i = 0; i < n; i++) h[i] = i;
    cudaStream_t s;
    cudaStreamCreate(&s);
    cudaMalloc(&d, n * sizeof(float));
    cudaMalloc(&e, n * sizeof(float));
    cudaMemcpyAsync(d, h, n * sizeof(float), cudaMemcpyHostToDevice, s);   /* 4000 up */
    scale<2><<<(n + 255) / 256, 256, 0, s>>>(d, n);
    cudaMemcpy(e, d, n * sizeof(float), cudaMemcpyDeviceToDevice);         /* not over the bus */
    for (int r = 0; r < 3; r++)
        scale<3><<<dim3((n + 127) / 128),
                   dim3(128)>>>(e, n);
    cudaMemcpy(h, e, 100 * sizeof(float), cudaMemcpyDefault);             /* 400 back, direction from the pointers */
    cudaMemcpy(e, h, 10 * sizeof(float), cudaMemcpyDefault);              /* 40 up */
    cudaDeviceSynchronize();
    printf("%s\n", h[7] == 7 * 54 ? "PASS" : "FAIL");
    return 0;
}
"""


def test_profiling_hook_counts_every_copy_kind_and_launch(tmp_path):
    """sandbox.cuda_profile's hook on a hand-written program: async and cudaMemcpyDefault copies are
    counted in their direction (the pointers decide), device-to-device copies are not, templated,
    streamed and multi-line launches are all bracketed; the figures equal the emulator's own log."""
    from paralift.sandbox import cuda_profile
    cpp, exe, prof = tmp_path / "p.cpp", tmp_path / "p", tmp_path / "p.json"
    cpp.write_text(cc.rewrite(cuda_profile.instrument(PROFILED)))
    b = subprocess.run(cc.build_command([cpp], exe), capture_output=True, text=True)
    assert b.returncode == 0, b.stderr[-3000:]
    r = subprocess.run([str(exe)], capture_output=True, text=True, env={**cc.run_env("forward"),
                                                                        cuda_profile.PROFILE_ENV: str(prof)})
    assert r.returncode == 0 and r.stdout.strip() == "PASS", r.stdout + r.stderr
    raw = cuda_profile.read_profile(prof)
    assert (raw["h2d_bytes"], raw["d2h_bytes"], raw["h2d_copies"], raw["d2h_copies"]) == (4040, 400, 2, 1)
    assert (raw["emulator_h2d_bytes"], raw["emulator_d2h_bytes"]) == (4040, 400)
    assert len(raw["launch_ms"]) == 4 and cuda_profile.unwrapped_launches(PROFILED) == 0

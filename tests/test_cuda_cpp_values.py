"""std::complex and std::pair values on the device (issue 23 item 1, agents/cuda_values.py): the CUDA
translation copies std::vector<std::complex<T>> / std::vector<std::pair<A, B>> as bytes and uses them
through __pl_complex / __pl_pair, which the generated file defines; complex sums become the sums of
their parts. Each complex/pair kernel verifies on the CPU emulation and its .cu compiles with nvcc."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from paralift.agents import NotParallelizable, build_task
from paralift.agents.cuda_values import PRELUDE, _default_init, _launch_args, split_complex_sums, unsupported
from paralift.agents.analysis import analyze
from paralift.agents.rule_based import RuleBasedTranslator, facts
from paralift.agents.tester import alias_cases
from paralift.sandbox import cuda_profile
from paralift.sandbox import cuda_cpu as cc
from paralift.sandbox.toolchains import detect
from paralift.types import Target
from test_cpp_members import _translate

ROOT = Path(__file__).resolve().parents[1]
KERNELS = ROOT / "data" / "kernels"


def _value_kernels() -> list[dict]:
    man = json.loads((KERNELS / "manifest.json").read_text())
    out = []
    for k in man:
        if k["language"] != "cpp":
            continue
        src = (KERNELS / k["file"]).read_text()
        if ("std::complex" in src or "std::pair" in src) and "std::vector<std::vector" not in src:
            out.append(k)
    return out


VALUE_KERNELS = _value_kernels()
FAST = {"cpp_cx_axpy", "cpp_cx_mandel", "cpp_pair_scaled"}      # one of each kind in the default run


def _nvcc():
    t = detect().nvcc
    return t.path if t is not None and t.path else None


def _nvcc_compiles(cu: Path, tmp: Path) -> None:
    nvcc = _nvcc()
    if nvcc is None:
        return
    r = subprocess.run([nvcc, "-std=c++17", "-c", str(cu), "-o", str(tmp / (cu.stem + ".o"))],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]




def test_the_kernel_set_has_complex_and_pair_kernels_and_an_aliased_call():
    names = {k["name"] for k in VALUE_KERNELS}
    assert {"cpp_cx_mandel", "cpp_cx_dft", "cpp_pair_weighted", "cpp_cx_axpy", "cpp_cx_dot",
            "cpp_cx_poly_eval", "cpp_pair_scaled"} <= names
    task = build_task((KERNELS / "cpp_cx_axpy.cpp").read_text(), "cpp", "complexAxpy", Target.CUDA)
    assert {"y": ["x", 0]} in [c.aliases for c in alias_cases(task)]       # the in-place call, y == x


def _check_kernel(k: dict, tmp_path: Path, monkeypatch) -> None:
    # transfers are not what these tests measure: a fast bus keeps the verified plan proposed
    monkeypatch.setenv(cuda_profile.BUS_ENV, "1000000")
    fns, out = _translate(KERNELS / k["file"], Target.CUDA, tmp_path, [k["function"]])
    f = fns[k["function"]]
    assert f.status == "verified", (k["name"], f.status, f.reason)
    code = out.read_text()
    assert "struct __pl_complex" in code and "__pl_dev_arg(" in code
    kernels = [part.split("\n}\n")[0] for part in code.split("__global__ void")[1:]]
    assert kernels and not any("std::complex" in kt or "std::pair" in kt for kt in kernels)   # the device types
    _nvcc_compiles(out, tmp_path)


@pytest.mark.parametrize("k", [k for k in VALUE_KERNELS if k["name"] in FAST], ids=lambda k: k["name"])
def test_value_kernel_verifies_and_compiles_with_nvcc(k, tmp_path, monkeypatch):
    _check_kernel(k, tmp_path, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("k", [k for k in VALUE_KERNELS if k["name"] not in FAST], ids=lambda k: k["name"])
def test_every_value_kernel_verifies_and_compiles_with_nvcc(k, tmp_path, monkeypatch):
    _check_kernel(k, tmp_path, monkeypatch)


# ---------------------------------------------------------------- the device types (fast)

_OPS_PROGRAM = r'''#include <cuda_runtime.h>
#include <stdio.h>
#include <math.h>
''' + "%PRELUDE%" + r'''
typedef __pl_complex<double> C;
__global__ void ops(const C *a, const C *b, const __pl_pair<int, float> *p, double *out) {
    int i = threadIdx.x;
    C x = a[i], y = b[i], z{};                    /* z{}: value-initialized as std::complex is */
    int k = 0;
    C r[] = {x + y, x - y, x *__pl_rn* y, x / y, x * 2.5, 2.5 * x, x / 2.5, 2.5 / x, x + 1.0, 1.0 - x,
             -x, conj(x), exp(x), log(x), sqrt(x), polar(abs(x), arg(y)), z};
    for (C v : r) { out[i * 48 + k++] = v.real(); out[i * 48 + k++] = v.imag(); }
    out[i * 48 + k++] = abs(x); out[i * 48 + k++] = __pl_abs(x); out[i * 48 + k++] = norm(x);
    out[i * 48 + k++] = arg(x); out[i * 48 + k++] = real(x) + imag(y); out[i * 48 + k++] = (x == y) + 2 * (x != x);
    C w = x; w *= y; w /= x; w += 1.0; w -= y; w *= 3.0;
    out[i * 48 + k++] = w.real(); out[i * 48 + k++] = w.imag();
    __pl_pair<int, float> q = __pl_make_pair(p[i].first + 1, p[i].second * 2.0f);
    out[i * 48 + k++] = q.first + q.second + (q < p[i]);
}
#include <complex>
#include <vector>
int main() {
    const int n = 4;
    std::vector<std::complex<double>> a = {{1.5, -2.0}, {-0.25, 3.0}, {4.0, 0.5}, {-3.0, -1.0}};
    std::vector<std::complex<double>> b = {{0.5, 0.75}, {2.0, -1.0}, {-0.125, 6.0}, {1.0, 0.0}};
    std::vector<std::pair<int, float>> p = {{1, 0.5f}, {-2, 1.5f}, {3, -2.0f}, {7, 0.0f}};
    std::vector<double> want(n * 48, 0.0), got(n * 48, -1.0);
    for (int i = 0; i < n; i++) {
        std::complex<double> x = a[i], y = b[i], z;
        int k = 0;
        std::complex<double> r[] = {x + y, x - y, x * y, x / y, x * 2.5, 2.5 * x, x / 2.5, 2.5 / x, x + 1.0,
                                    1.0 - x, -x, std::conj(x), std::exp(x), std::log(x), std::sqrt(x),
                                    std::polar(std::abs(x), std::arg(y)), z};
        for (auto v : r) { want[i * 48 + k++] = v.real(); want[i * 48 + k++] = v.imag(); }
        want[i * 48 + k++] = std::abs(x); want[i * 48 + k++] = std::abs(x); want[i * 48 + k++] = std::norm(x);
        want[i * 48 + k++] = std::arg(x); want[i * 48 + k++] = std::real(x) + std::imag(y);
        want[i * 48 + k++] = (x == y) + 2 * (x != x);
        std::complex<double> w = x; w *= y; w /= x; w += 1.0; w -= y; w *= 3.0;
        want[i * 48 + k++] = w.real(); want[i * 48 + k++] = w.imag();
        std::pair<int, float> q = std::make_pair(p[i].first + 1, p[i].second * 2.0f);
        want[i * 48 + k++] = q.first + q.second + (q < p[i]);
    }
    C *da; C *db; __pl_pair<int, float> *dp; double *dout;
    cudaMalloc((void **)&da, sizeof(C) * n); cudaMalloc((void **)&db, sizeof(C) * n);
    cudaMalloc((void **)&dp, sizeof(*dp) * n); cudaMalloc((void **)&dout, sizeof(double) * n * 48);
    cudaMemcpy(da, a.data(), sizeof(C) * n, cudaMemcpyHostToDevice);
    cudaMemcpy(db, b.data(), sizeof(C) * n, cudaMemcpyHostToDevice);
    cudaMemcpy(dp, p.data(), sizeof(*dp) * n, cudaMemcpyHostToDevice);
    cudaMemset(dout, 0, sizeof(double) * n * 48);
    static_assert(std::is_same<decltype(__pl_dev_arg((const std::complex<double> *)0)), const C *>::value, "");
    static_assert(std::is_same<decltype(__pl_dev_arg(p[0])), __pl_pair<int, float>>::value, "");
    if (__pl_dev_arg(a[1]).imag() != 3.0 || __pl_dev_arg(p[2]).first != 3) return 2;
    ops<<<1, n>>>(da, db, dp, dout);
    cudaMemcpy(got.data(), dout, sizeof(double) * n * 48, cudaMemcpyDeviceToHost);
    int bad = 0;
    for (int j = 0; j < n * 48; j++)
        if (!(fabs(got[j] - want[j]) <= 1e-13 * (1.0 + fabs(want[j])))) { printf("%d: %.17g != %.17g\n", j, got[j], want[j]); bad++; }
    printf("%d differ\n", bad);
    return bad != 0;
}
'''

def _program() -> str:
    from paralift.agents.codegen_cuda import PRELUDE as BASE
    return _OPS_PROGRAM.replace("%PRELUDE%", BASE + PRELUDE)


def test_device_types_compute_what_std_complex_and_pair_compute(tmp_path):
    """Every operation of __pl_complex / __pl_pair in a kernel on the CPU emulation gives what
    std::complex / std::pair give on the host (exactly, or within 1e-13 for the library functions)."""
    cu = tmp_path / "ops.cu"
    cu.write_text(_program())
    cpp = tmp_path / "ops.cpp"
    cpp.write_text(cc.rewrite(cu.read_text()))
    b = subprocess.run(cc.build_command([cpp], tmp_path / "ops"), capture_output=True, text=True, timeout=300)
    assert b.returncode == 0, b.stderr[-3000:]
    r = subprocess.run([str(tmp_path / "ops")], capture_output=True, text=True, timeout=60, env=cc.run_env())
    assert r.returncode == 0 and "0 differ" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
    _nvcc_compiles(cu, tmp_path)


@pytest.mark.nvcc
def test_shared_tiles_of_complex_values_compile_with_nvcc(tmp_path):
    """The device types' default constructor is trivial: a __shared__ array of them is allowed (the
    dense-product tiles of a complex product)."""
    if _nvcc() is None:
        pytest.skip("nvcc not found")
    from paralift.agents.codegen_cuda import PRELUDE as BASE
    cu = tmp_path / "tiles.cu"
    cu.write_text("#include <cuda_runtime.h>\n#include <stdio.h>\n#include <math.h>\n" + BASE + PRELUDE +
                  "__global__ void k(__pl_complex<double> *x) {\n"
                  "    __shared__ __pl_complex<double> t[16][16];\n    __shared__ __pl_pair<int, float> q[32];\n"
                  "    t[threadIdx.y][threadIdx.x] = x[threadIdx.x] *__pl_rn* x[threadIdx.y];\n"
                  "    q[threadIdx.x].first = 1;\n    __syncthreads();\n"
                  "    x[threadIdx.x] = t[threadIdx.x][0] + (__pl_complex<double>)0 + (double)q[0].first;\n}\n")
    _nvcc_compiles(cu, tmp_path)


def test_declarations_without_initializer_are_value_initialized():
    assert _default_init("__pl_complex<double> z;") == "__pl_complex<double> z{};"
    assert _default_init("const __pl_complex<float> a, b(1.0f, 2.0f), c;") == \
        "const __pl_complex<float> a{}, b(1.0f, 2.0f), c{};"
    assert _default_init("__pl_pair<int, __pl_complex<double>> p, q = r;") == \
        "__pl_pair<int, __pl_complex<double>> p{}, q = r;"
    # not declarations: a conversion, a parameter list, a template argument
    for s in ("x = __pl_complex<double>(1.0);", "void f(__pl_complex<double> a, int b) {}",
              "__pl_dev_t<__pl_complex<double>> *p = 0;"):
        assert _default_init(s) == s


def test_launch_arguments_of_value_types_are_converted():
    s = "k<<<g, b>>>(__pl_d_x, n, a, f(1, 2));"
    assert _launch_args(s, {"__pl_d_x", "a"}) == "k<<<g, b>>>(__pl_dev_arg(__pl_d_x), n, __pl_dev_arg(a), f(1, 2));"
    assert _launch_args("__pl_kernel_f_0<decltype(w)><<<g, b>>>(w);", {"w"}) == \
        "__pl_kernel_f_0<__pl_dev_t<decltype(w)>><<<g, b>>>(__pl_dev_arg(w));"


# ---------------------------------------------------------------- complex sums, refusals (fast)

def test_complex_sum_is_split_into_the_sums_of_its_parts():
    src = (KERNELS / "cpp_cx_dot.cpp").read_text()
    assert not analyze(src, "cpp", "complexDot").chosen_loops()        # as written: a dependence on 'sum'
    task = build_task(src, "cpp", "complexDot", Target.CUDA)
    fx, notes = split_complex_sums(task, *facts(task))
    (f,) = fx.chosen_loops()
    assert sorted((d.name, op) for d, op in f.reductions.items()) == [("__pl_im_sum", "+"), ("__pl_re_sum", "+")]
    assert any("real and imaginary parts" in n for n in notes)
    (cand,) = RuleBasedTranslator().propose(task, Target.CUDA)
    assert "__pl_block_reduce(__pl_re_sum" in cand.code and "atomicAdd" in cand.code
    # the other targets translate it the same way
    (omp,) = RuleBasedTranslator().propose(build_task(src, "cpp", "complexDot", Target.OPENMP), Target.OPENMP)
    assert "reduction(+:" in omp.code and "__pl_re_sum" in omp.code


def test_complex_sum_read_in_the_loop_stays_sequential():
    src = ("#include <complex>\n#include <vector>\n"
           "std::complex<double> f(std::vector<std::complex<double>> const& z, std::vector<double> &o) {\n"
           "    std::complex<double> s(0.0, 0.0);\n"
           "    for (size_t i = 0; i < z.size(); i++) { s += z[i]; o[i] = std::abs(s); }\n    return s;\n}\n")
    task = build_task(src, "cpp", "f", Target.CUDA)
    with pytest.raises(NotParallelizable, match="'s'"):
        RuleBasedTranslator().propose(task, Target.CUDA)


_CX = "#include <complex>\n#include <vector>\n#include <utility>\n#include <string>\n"


@pytest.mark.parametrize("body,construct", [
    ("struct S { std::pair<int, double> p; int k; };\n"
     "void f(std::vector<S> &v) {\n    for (size_t i = 0; i < v.size(); i++) v[i].k = 2 * v[i].p.first;\n}\n",
     r"struct 'S' has the std::pair<int, double> field 'p'"),
    ("void f(std::vector<std::complex<double>> const& z, std::vector<std::complex<double>> &o) {\n"
     "    for (size_t i = 0; i < z.size(); i++) o[i] = std::pow(z[i], 2.0);\n}\n", r"std::pow"),
    ("void f(std::vector<std::complex<double>> const& z, std::vector<std::complex<double>> &o) {\n"
     "    for (size_t i = 0; i < z.size(); i++) o[i] = std::sin(z[i]) * 2.0;\n}\n", r"std::sin"),
    ("struct S { std::complex<double> z; int k; };\n"
     "void f(std::vector<S> &v) {\n    for (size_t i = 0; i < v.size(); i++) v[i].k = 2 * v[i].k;\n}\n",
     r"struct 'S' has the std::complex<double> field 'z'"),
])
def test_what_the_device_types_do_not_cover_is_named(body, construct):
    task = build_task(_CX + body, "cpp", "f", Target.CUDA)
    with pytest.raises(NotParallelizable, match=construct):
        RuleBasedTranslator().propose(task, Target.CUDA)


def test_real_math_on_parts_of_complex_values_is_not_refused():
    src = _CX + ("void f(std::vector<std::complex<double>> const& z, std::vector<double> &o) {\n"
                 "    for (size_t i = 0; i < z.size(); i++) o[i] = std::sin(z[i].real()) + std::pow(std::abs(z[i]), 2.0);\n}\n")
    assert unsupported(analyze(src, "cpp", "f")) is None

"""Rule-based translator: generated OpenMP/MPI/CUDA code compiles, and OpenMP
and MPI code gives the sequential results (small C/C++ mains written here)."""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from paralift.agents import AnalysisError, NotParallelizable, RuleBasedTranslator, build_task
from paralift.types import ParamKind, Target, ValueKind

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

# ---------------------------------------------------------------------------
# a small differential harness (independent of paralift.sandbox)
# ---------------------------------------------------------------------------


def _eval_size(expr: str, env: dict) -> int:
    if expr is None:
        raise ValueError("no extent")
    if not re.fullmatch(r"[\w\s()+\-*/,]*", expr):
        raise ValueError(expr)
    return int(eval(expr, {"__builtins__": {}, "max": max, "min": min}, dict(env)))


def _case_block(task, sizes: dict, case: int) -> list[str]:
    """Statements building one set of deterministic inputs, calling the function and printing every output."""
    sig = task.signature
    cpp = task.language == "cpp"
    env = dict(sizes)
    for p in sig.params:
        if p.kind == ParamKind.SCALAR and p.name not in env and p.values.kind == ValueKind.SIZE:
            env[p.name] = 7
    for tok in task.analysis.get("size_tokens", {}).values():
        env.setdefault(tok, sizes.get("N", 9))
    env.setdefault("N", sizes.get("N", 9))
    lines = ["  {"]
    args, prints, frees = [], [], []
    for p in sig.params:
        t = p.base_type
        is_float = t in ("float", "double", "long double")
        if p.kind == ParamKind.SCALAR:
            if p.name in env:
                val = env[p.name]
            elif p.values.kind == ValueKind.INDEX:
                val = max(0, _eval_size(p.values.bound, env) // 2)
            elif p.values.kind == ValueKind.NONZERO:
                val = 3
            else:
                val = 0.75 if is_float else 2
            lines.append(f"  {t} {p.name} = ({t})({val});")
            args.append(p.name)
        elif p.kind == ParamKind.REF:
            lines.append(f"  {t} {p.name} = ({t})(1);")
            args.append(p.name)
            prints.append((p.name, None))
        else:
            count = max(_eval_size(p.extent, env), 0)
            if cpp and p.kind == ParamKind.VECTOR:
                lines.append(f"  std::vector<{t}> {p.name}({count});")
            else:
                lines.append(f"  {t} *{p.name} = ({t} *)malloc(({count} + 1) * sizeof({t}));")
                frees.append(p.name)
            vk = p.values.kind
            if vk == ValueKind.INDEX:
                b = max(1, _eval_size(p.values.bound, env))
                fill = f"({t})((__k * 7 + 3) % {b})"
            elif vk == ValueKind.OFFSETS:
                b = _eval_size(p.values.bound, env)
                fill = f"({t})((long long)__k * {b} / ({count} - 1 > 0 ? {count} - 1 : 1))"
            elif vk == ValueKind.NONZERO:
                fill = f"({t})(1 + __k % 5)"
            elif is_float:
                fill = f"({t})(0.5 + 0.25 * ((__k * 37 + {case}) % 11) - 0.1 * (__k % 3))"
            else:
                fill = f"({t})((__k * 13 + 5 + {case}) % 17)"
            lines.append(f"  for (long long __k = 0; __k < {count}; __k++) {p.name}[__k] = {fill};")
            args.append(p.name)
            prints.append((p.name, count))
    call = f"{sig.name}({', '.join(args)})"
    if sig.return_type.strip() != "void":
        lines.append(f"  {sig.return_type} __ret = {call};")
        prints.insert(0, ("__ret", None))
    else:
        lines.append(f"  {call};")
    lines.append("  if (__rank == 0) {")
    for name, count in prints:
        if count is None:
            lines.append(f'    printf("{case}:{name} %.17g\\n", (double)({name}));')
        else:
            lines.append(f'    for (long long __k = 0; __k < {count}; __k++) '
                         f'printf("{case}:{name} %.17g\\n", (double)({name}[__k]));')
    lines.append("  }")
    lines += [f"  free({n});" for n in frees]
    lines.append("  }")
    return lines


def make_main(task, size_sets, mpi: bool = False) -> str:
    """A main() that calls the function once per size set and prints every array/ref/return value."""
    if isinstance(size_sets, dict):
        size_sets = [size_sets]
    head = ["#include <stdio.h>", "#include <stdlib.h>"]
    if task.language == "cpp":
        head.append("#include <vector>")
    if mpi:
        head.append("#include <mpi.h>")
    body = ["int main(int argc, char **argv) {", "  int __rank = 0;"]
    if mpi:
        body += ["  MPI_Init(&argc, &argv);", "  MPI_Comm_rank(MPI_COMM_WORLD, &__rank);"]
    for i, sizes in enumerate(size_sets):
        body += _case_block(task, sizes, i)
    if mpi:
        body.append("  MPI_Finalize();")
    body += ["  return 0;", "}"]
    return "\n".join(head) + "\n" + "\n".join(body) + "\n"


def strip_main(source: str) -> str:
    """Remove an existing main() from a source (the harness brings its own)."""
    m = re.search(r"\bint\s+main\s*\(", source)
    if not m:
        return source
    i = source.index("{", m.end())
    depth = 0
    for j in range(i, len(source)):
        if source[j] == "{":
            depth += 1
        elif source[j] == "}":
            depth -= 1
            if depth == 0:
                return source[:m.start()] + source[j + 1:]
    return source


def _run(cmd, env=None, timeout=60):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    return r.stdout


def _compare(a: str, b: str, rtol: float) -> None:
    la, lb = a.strip().splitlines(), b.strip().splitlines()
    assert la, "no output"
    assert len(la) == len(lb), f"output length differs: {len(la)} vs {len(lb)}"
    for x, y in zip(la, lb):
        nx, vx = x.split()
        ny, vy = y.split()
        assert nx == ny
        fx, fy = float(vx), float(vy)
        if math.isnan(fx) and math.isnan(fy):
            continue
        assert abs(fx - fy) <= rtol * max(1.0, abs(fx), abs(fy)), f"{nx}: sequential {vx} vs parallel {vy}"


def run_differential(source: str, language: str, function: str, target: Target, size_sets: list[dict],
                     workers=(1, 3, 4), rtol: float = 1e-9, tmp: Path | None = None) -> str:
    """Build the sequential source and the rule-based candidate with the same main (one call per size
    set), run the candidate with each worker count, and compare every output with the sequential one."""
    task = build_task(source, language, function, target)
    cand = RuleBasedTranslator().propose(task, target)[0]
    tmp = Path(tmp or tempfile.mkdtemp(prefix="plrb_"))
    ext = ".cpp" if language == "cpp" else ".c"
    mpi = target == Target.MPI
    if mpi:
        cc = str(VENV_BIN / ("mpicxx" if language == "cpp" else "mpicc"))
    else:
        cc = "g++" if language == "cpp" else "gcc"
    main = make_main(task, size_sets, mpi=mpi)
    (tmp / f"seq{ext}").write_text(strip_main(source) + "\n" + main)
    (tmp / f"par{ext}").write_text(strip_main(cand.code) + "\n" + main)
    flags = ["-O2", "-w"] + (["-std=c99"] if language == "c" else [])
    procs = [subprocess.Popen([cc, *flags, *extra, str(tmp / f"{name}{ext}"), "-o", str(tmp / name), "-lm"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for name, extra in (("seq", []), ("par", ["-fopenmp"]))]
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0, f"compile failed:\n{out[-3000:]}\n--- candidate ---\n{cand.code}"
    env = dict(os.environ)
    expected = _run([str(tmp / "seq")], env=env)
    for w in workers:
        if mpi:
            got = _run([str(VENV_BIN / "mpirun"), "-n", str(w), str(tmp / "par")], env=env)
        else:
            env["OMP_NUM_THREADS"] = str(w)
            got = _run([str(tmp / "par")], env=env)
        _compare(expected, got, rtol)
    return cand.code


# ---------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------

C_KERNELS = r"""
#include <math.h>
static double sq(double v) { return v * v; }
void saxpy(int n, float a, const float *x, float *y) {
    for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}
double dot(int n, const double *x, const double *y) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}
double vmax(int n, const double *x) {
    double m = x[0];
    for (int i = 1; i < n; i++) if (x[i] > m) m = x[i];
    return m;
}
void jacobi2d(int n, int m, const double *in, double *out) {
    for (int i = 1; i < n - 1; i++)
        for (int j = 1; j < m - 1; j++)
            out[i*m + j] = 0.25 * (in[(i-1)*m + j] + in[(i+1)*m + j] + in[i*m + j - 1] + in[i*m + j + 1]);
}
void matmul(int n, const double *A, const double *B, double *C) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += A[i*n+k] * B[k*n+j];
            C[i*n+j] = s;
        }
}
void transpose(int n, int m, const double *a, double *b) {
    int i, j;
    for (i = 0; i < n; i++)
        for (j = 0; j < m; j++)
            b[j*n + i] = a[i*m + j];
}
void spmv(int n, const int *rowptr, const int *col, const double *val, const double *x, double *y) {
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = rowptr[i]; j < rowptr[i+1]; j++) s += val[j] * x[col[j]];
        y[i] = s;
    }
}
void histogram(int n, const int *x, int nbins, int *hist) {
    for (int i = 0; i < n; i++) hist[x[i]]++;
}
void tri(int n, const double *a, double *y) {
    for (int i = 0; i < n; i++) { double s = 0; for (int j = 0; j <= i; j++) s += a[i*n+j]; y[i] = s; }
}
void mandel(int w, int h, int maxit, int *out) {
    for (int py = 0; py < h; py++)
        for (int px = 0; px < w; px++) {
            double cx = -2.0 + 3.0 * px / w, cy = -1.5 + 3.0 * py / h, zx = 0, zy = 0;
            int it = 0;
            while (zx*zx + zy*zy < 4.0 && it < maxit) { double t = zx*zx - zy*zy + cx; zy = 2*zx*zy + cy; zx = t; it++; }
            out[py*w + px] = it;
        }
}
void softmax(int n, const double *x, double *y) {
    double m = x[0];
    for (int i = 1; i < n; i++) m = fmax(m, x[i]);
    double s = 0;
    for (int i = 0; i < n; i++) { y[i] = exp(x[i] - m); s += y[i]; }
    for (int i = 0; i < n; i++) y[i] /= s;
}
double energy(int n, const double *x, double *restrict y, double *restrict total) {
    double t = 0, last = 0;
    *total = 0;
    for (int i = 0; i < n; i++) { t = sq(x[i]) + 1.0; y[n - 1 - i] = sqrt(t); *total += t; last = t; }
    return last;
}
int first_neg(int n, const double *x) {
    for (int i = 0; i < n; ++i)
        if (x[i] < 0.0 && x[i] > -0.9) return i;
    return -1;
}
int relu_count(int n, const float *x, float *y) {
    int c = 0;
    int i = 0;
    while (i < n) { y[i] = x[i] > 0.0f ? x[i] : 0.0f; if (x[i] > 0.0f) c++; i++; }
    return c;
}
void nbody(int n, const double *px, const double *py, const double *m, double *fx, double *fy) {
    for (int i = 0; i < n; i++) {
        double ax = 0, ay = 0;
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            double dx = px[j] - px[i], dy = py[j] - py[i];
            double r2 = dx * dx + dy * dy + 0.01;
            double inv = 1.0 / (r2 * sqrt(r2));
            ax += m[j] * dx * inv; ay += m[j] * dy * inv;
        }
        fx[i] = ax; fy[i] = ay;
    }
}
void steps(int n, int nsteps, double *a, double *b) {
    for (int t = 0; t < nsteps; t++) {
        for (int i = 1; i < n - 1; i++) b[i] = 0.5 * (a[i-1] + a[i+1]);
        for (int i = 1; i < n - 1; i++) a[i] = b[i];
    }
}
"""

CPP_KERNELS = r"""
#include <vector>
#include <cmath>
#include <cstddef>
#include <algorithm>
void axpy(double alpha, std::vector<double> const& x, std::vector<double> const& y, std::vector<double> &z) {
    for (size_t i = 0; i < x.size(); ++i) z[i] = alpha * x[i] + y[i];
}
double sumOfMin(std::vector<double> const& x, std::vector<double> const& y) {
    double sum = 0.0;
    for (size_t i = 0; i < x.size(); i++) sum += std::min(x[i], y[i]);
    return sum;
}
void gemv(std::vector<double> const& A, std::vector<double> const& x, std::vector<double> &y, size_t M, size_t N) {
    for (size_t i = 0; i < M; ++i) {
        double s = 0;
        for (size_t j = 0; j < N; ++j) s += A[i * N + j] * x[j];
        y[i] = s;
    }
}
void maxref(std::vector<int> const& x, int &best) {
    best = x[0];
    for (size_t i = 0; i < x.size(); i++) best = std::max(best, x[i]);
}
bool allPos(std::vector<double> const& x) {
    bool ok = true;
    for (size_t i = 0; i < x.size(); i++) ok = ok && (x[i] > 0);
    return ok;
}
void squareEach(std::vector<double> &x) {
    for (auto &v : x) { v = v * v; }
}
double total(std::vector<double> const& x) { double s = 0; for (double v : x) s += v; return s; }
void bins(std::vector<int> const& x, std::vector<size_t> &counts) {
    for (size_t i = 0; i < counts.size(); i++) counts[i] = 0;
    for (size_t i = 0; i < x.size(); i++) counts[x[i] % 4]++;
}
"""

SIZES = [{"n": 0, "m": 2, "w": 0, "h": 2, "nbins": 3, "maxit": 5, "nsteps": 2, "N": 0, "M": 0},
         {"n": 2, "m": 5, "w": 3, "h": 2, "nbins": 4, "maxit": 9, "nsteps": 3, "N": 2, "M": 3},
         {"n": 41, "m": 23, "w": 17, "h": 13, "nbins": 5, "maxit": 60, "nsteps": 4, "N": 57, "M": 19}]

OMP_C = ["saxpy", "dot", "vmax", "jacobi2d", "matmul", "transpose", "spmv", "histogram", "tri", "mandel", "softmax",
         "energy", "relu_count", "nbody", "steps", "first_neg"]
OMP_CPP = ["axpy", "gemv", "maxref", "allPos", "bins", "squareEach", "total"]
MPI_C = ["dot", "vmax", "matmul", "transpose", "spmv", "histogram", "tri", "softmax", "energy", "relu_count",
         "first_neg"]
MPI_CPP = ["gemv", "maxref", "bins", "squareEach"]


@pytest.mark.parametrize("fn", OMP_C)
def test_openmp_c_matches_sequential(fn, tmp_path):
    run_differential(C_KERNELS, "c", fn, Target.OPENMP, SIZES, workers=(3,), tmp=tmp_path)


@pytest.mark.parametrize("fn", OMP_CPP)
def test_openmp_cpp_matches_sequential(fn, tmp_path):
    run_differential(CPP_KERNELS, "cpp", fn, Target.OPENMP, SIZES, workers=(3,), tmp=tmp_path)


needs_mpi = pytest.mark.skipif(not (VENV_BIN / "mpicc").exists() and shutil.which("mpicc") is None,
                               reason="mpicc not installed")


@pytest.mark.mpi
@needs_mpi
@pytest.mark.parametrize("fn", MPI_C)
def test_mpi_c_matches_sequential_on_rank0(fn, tmp_path):
    # 3 ranks: n = 0, fewer iterations than ranks, and n % 3 != 0
    run_differential(C_KERNELS, "c", fn, Target.MPI, SIZES, workers=(3,), tmp=tmp_path)


@pytest.mark.mpi
@needs_mpi
@pytest.mark.parametrize("fn", MPI_CPP)
def test_mpi_cpp_matches_sequential_on_rank0(fn, tmp_path):
    run_differential(CPP_KERNELS, "cpp", fn, Target.MPI, SIZES, workers=(2,), tmp=tmp_path)


@pytest.mark.mpi
@needs_mpi
def test_mpi_single_rank_and_more_ranks_than_work(tmp_path):
    run_differential(C_KERNELS, "c", "jacobi2d", Target.MPI, SIZES, workers=(1, 4), tmp=tmp_path)


# ---------------------------------------------------------------------------
# the shape of the generated code
# ---------------------------------------------------------------------------

def propose(src, fn, target, lang="c"):
    return RuleBasedTranslator().propose(build_task(src, lang, fn, target), target)[0]


def body_of(code: str, fn: str) -> str:
    i = code.index(f" {fn}(")
    j = code.index("{", i)
    depth = 0
    for k in range(j, len(code)):
        depth += {"{": 1, "}": -1}.get(code[k], 0)
        if depth == 0:
            return code[j:k + 1]
    raise AssertionError("unbalanced")


def test_openmp_pragmas():
    c = propose(C_KERNELS, "dot", Target.OPENMP)
    assert c.agent == "rule" and c.target == Target.OPENMP
    assert "#pragma omp parallel for simd reduction(+:s)" in c.code
    assert c.code.startswith("#include <omp.h>")
    assert "#pragma omp parallel for collapse(2)" in propose(C_KERNELS, "matmul", Target.OPENMP).code
    assert "#pragma omp simd reduction(+:s)" in propose(C_KERNELS, "matmul", Target.OPENMP).code
    assert "schedule(guided)" in propose(C_KERNELS, "tri", Target.OPENMP).code
    assert "schedule(guided)" in propose(C_KERNELS, "mandel", Target.OPENMP).code
    assert "reduction(max:m)" in propose(C_KERNELS, "vmax", Target.OPENMP).code
    assert "private(j)" in propose(C_KERNELS, "transpose", Target.OPENMP).code
    code = propose(C_KERNELS, "histogram", Target.OPENMP).code
    # private bins per thread, merged; with too many bins for that, the loop as written (atomics on every
    # update lost to the sequential loop on few hot bins and on many bins alike)
    assert "private bins per thread" in code and "#pragma omp atomic" not in code
    code = propose(C_KERNELS, "energy", Target.OPENMP).code
    assert "private(t) lastprivate(last)" in code
    assert "reduction(+:total[0:1])" in code
    code = propose(C_KERNELS, "relu_count", Target.OPENMP).code
    assert "for (i = 0; i < n; i++)" in code and "reduction(+:c)" in code


def test_openmp_keeps_the_translation_unit():
    src = C_KERNELS + "\nint main(void) { /* caller */ double x[3] = {1, 2, 3}; return (int)dot(3, x, x); }\n"
    code = propose(src, "dot", Target.OPENMP).code
    assert "int main(void) { /* caller */" in code
    assert body_of(code, "vmax") == body_of(src, "vmax")
    assert code.count("#pragma omp") == 1


def test_mpi_code_uses_mpi_and_not_init():
    code = propose(C_KERNELS, "softmax", Target.MPI).code
    assert "#include <mpi.h>" in code and "MPI_Init" not in code and "MPI_Finalize" not in code
    assert "MPI_Allreduce" in code and ("MPI_Gatherv" in code or "MPI_Allgatherv" in code)
    code = propose(C_KERNELS, "jacobi2d", Target.MPI).code
    assert "MPI_Gatherv" in code and "MPI_Allgatherv" not in code     # last use: gather to rank 0 only
    code = propose(C_KERNELS, "softmax", Target.MPI).code
    # y is read again by the next loop, at the elements each rank wrote: kept in the ranks' blocks
    assert "MPI_Allgatherv" not in code and code.count("MPI_Gatherv(MPI_IN_PLACE") == 1
    with pytest.raises(NotParallelizable, match="every iteration"):    # exchanging arrays every time step
        propose(C_KERNELS, "steps", Target.MPI)


def test_mpi_local_float_reductions_carry_omp_simd():
    """A rank's partial sum is a reordering already: its loop carries `omp simd` (compiled with
    -fopenmp-simd, sandbox.toolchains.MPI_FLAGS), where the OpenMP code's loops do; not where simd loses
    (index arrays, min/max, which GCC vectorizes as written)."""
    from paralift.sandbox.toolchains import MPI_FLAGS
    assert "-fopenmp-simd" in MPI_FLAGS
    code = propose(C_KERNELS, "dot", Target.MPI).code
    assert "#pragma omp simd reduction(+:s)" in code and "#pragma omp parallel" not in code
    code = propose(C_KERNELS, "matmul", Target.MPI).code          # the inner dot product of each element
    assert "#pragma omp simd reduction(+:s)" in code
    assert "omp simd" not in propose(C_KERNELS, "spmv", Target.MPI).code
    assert "omp simd" not in propose(C_KERNELS, "vmax", Target.MPI).code


OWNER_REUSE = r"""
#include <math.h>
#include <vector>
void standardize(int n, const double *x, double *y) {
    double mean = 0.0;
    for (int i = 0; i < n; i++) mean += x[i];
    mean = n > 0 ? mean / n : 0.0;
    for (int i = 0; i < n; i++) y[i] = x[i] - mean;
    double ss = 0.0;
    for (int i = 0; i < n; i++) ss += y[i] * y[i];
    double sd = ss > 0.0 ? sqrt(ss / n) : 1.0;
    for (int i = 0; i < n; i++) y[i] = y[i] / sd;
}
void exp_norm(int n, const double *s, double *w) {
    double total = 0.0;
    for (int i = 0; i < n; i++) { w[i] = exp(-s[i]); total += w[i]; }
    if (total > 1e300)
        for (int i = 0; i < n; i++) w[i] = w[i] / total;
}
void shift_then_smooth(int n, const double *x, double *y) {
    for (int i = 0; i < n; i++) y[i] = x[i] + 1.0;
    for (int i = 0; i < n - 1; i++) y[i] = 0.5 * (y[i] + y[i + 1]);
}
double masked_sum(int n, const double *x, double lo) {
    std::vector<char> keep(n);
    for (int i = 0; i < n; i++) keep[i] = x[i] > lo;
    double s = 0.0;
    for (int i = 0; i < n; i++) if (keep[i]) s += x[i];
    return s;
}
"""


def test_mpi_keeps_each_ranks_block_between_loops_over_the_same_iterations():
    """A written array touched later only by loops over the same iterations, at the elements the same
    iteration wrote, is not exchanged between those loops: one gather at the end (standardize: four
    passes, one MPI_Gatherv), none for a local array (masked_sum). Not where the later loop may not run
    (exp_norm: under an if, so the first pass gathers too), nor where it reads a neighbour's element
    (shift_then_smooth's y[i + 1]: all-gathered as before)."""
    code = propose(OWNER_REUSE, "standardize", Target.MPI, "cpp").code
    assert code.count("MPI_Gatherv(MPI_IN_PLACE") == 1 and "MPI_Allgatherv" not in code
    code = propose(OWNER_REUSE, "exp_norm", Target.MPI, "cpp").code
    assert code.count("MPI_Gatherv(MPI_IN_PLACE") == 2 and "MPI_Allgatherv" not in code
    code = propose(OWNER_REUSE, "shift_then_smooth", Target.MPI, "cpp").code
    assert "MPI_Allgatherv" in code
    cand = propose(OWNER_REUSE, "masked_sum", Target.MPI, "cpp")
    assert "Gatherv" not in cand.code and "each rank keeps its block of 'keep'" in cand.notes


@pytest.mark.mpi
@needs_mpi
@pytest.mark.parametrize("fn", ["standardize", "exp_norm", "shift_then_smooth", "masked_sum"])
def test_mpi_owner_reuse_matches_sequential_on_rank0(fn, tmp_path):
    run_differential(OWNER_REUSE, "cpp", fn, Target.MPI, SIZES, workers=(1, 3), tmp=tmp_path)


GATHER = r"""
void gather_add(int n, const int *idx, const double *x, double *y) {
    for (int i = 0; i < n; i++) y[i] = x[idx[i]] + 1.0;
}
"""


@pytest.mark.mpi
@needs_mpi
def test_mpi_entry_scan_of_index_values_is_split_between_the_ranks(tmp_path):
    """The overlap check at entry needs the largest index value; over more than 65536 values the ranks
    scan one part each and combine the result (MPI_Allreduce), taking the same branch on every rank."""
    code = propose(GATHER, "gather_add", Target.MPI).code
    assert "MPI_Allreduce(MPI_IN_PLACE, __pl_sv, 2, MPI_LONG_LONG, MPI_MAX" in code
    run_differential(GATHER, "c", "gather_add", Target.MPI, [{"n": 70001}, {"n": 5}], workers=(1, 3), tmp=tmp_path)


def test_mpi_csr_rows_are_cut_by_nonzeros():
    """CSR rows go to the ranks in blocks cut where the offsets split nonzeros + rows evenly (as the
    OpenMP threads' are), the gather's counts from the same cuts; the spmv differential test above runs
    it on 3 ranks."""
    code = propose(C_KERNELS, "spmv", Target.MPI).code
    assert "const long long __pl_b = __pl_cut[__pl_rank], __pl_e = __pl_cut[__pl_rank + 1];" in code
    assert "const long long __pl_kb = __pl_cut[__pl_k];" in code and "free(__pl_cut);" in code


def test_mpi_declines_a_reduction_inside_a_sequential_loop():
    """A row loop that stays sequential (y[i] depends on y[i-1]) around a
    parallel dot product: distributing the dot product costs one
    MPI_Allreduce per row (minutes at 3 ranks on a loaded 2-core machine), so
    MPI keeps it sequential with the reason; OpenMP still parallelizes it."""
    src = """void rows_chain(int n, int m, const double *a, const double *x, double *y) {
    for (int i = 1; i < n; i++) {
        double s = 0;
        for (int j = 0; j < m; j++) s += a[i * m + j] * x[j];
        y[i] = y[i - 1] + s;
    }
}
"""
    with pytest.raises(NotParallelizable, match="sits inside the sequential loop at line 2.*every iteration"):
        propose(src, "rows_chain", Target.MPI)
    assert "reduction(+" in propose(src, "rows_chain", Target.OPENMP).code
    assert "MPI_Gatherv" in propose(C_KERNELS, "spmv", Target.MPI).code      # const inputs: rows distributed


def test_argmax_with_index_on_every_target():
    src = ("int argmax(int n, const double *x) { double m = x[0]; int k = 0; "
           "for (int i = 1; i < n; i++) if (x[i] > m) { m = x[i]; k = i; } return k; }")
    assert "#pragma omp critical" in propose(src, "argmax", Target.OPENMP).code
    assert "MPI_MAXLOC" in propose(src, "argmax", Target.MPI).code
    assert "argmax of 'm' at 'k'" in propose(src, "argmax", Target.CUDA).notes


@pytest.mark.parametrize("target", [Target.OPENMP, Target.MPI, Target.CUDA])
@pytest.mark.parametrize("src,fn,why", [
    # a[i] = a[i-1] + b[i] is an in-place prefix sum (agents/recurrence.py: a scan); an affine recurrence is not
    ("void recur(int n, double *a, const double *b) { for (int i = 1; i < n; i++) a[i] = a[i-1] * 0.5 + b[i]; }",
     "recur", "a[i-1]"),
    # a plain running sum is parallel in two passes (OpenMP, MPI: tests/test_reach_more.py); one updated
    # conditionally is not
    ("void scan(int n, const double *x, double *y) { double s = 0; "
     "for (int i = 0; i < n; i++) { if (x[i] > 0) s += x[i]; y[i] = s; } }",
     "scan", "scan"),
    ("int argmax(int n, const double *x) { double m = x[0]; int k = 0; "
     "for (int i = 1; i < n; i++) if (x[i] > m) { m = x[i]; k = i; if (k > n) return -1; } return k; }",
     "argmax", "early return"),
    ("int find(int n, int *x, int v) { for (int i = 0; i < n; i++) if (x[i]++ == v) return i; return -1; }",
     "find", "early return"),
    ("int find2(int n, const int *x, int v) { int c = 0; for (int i = 0; i < n; i++) { c += x[i]; if (c > v) return i; } "
     "return -1; }", "find2", "early return"),
    ("double g(double); void u(int n, double *y) { for (int i = 0; i < n; i++) y[i] = g(y[i]); }", "u", "call to 'g'"),
    ("int add(int a, int b) { return a + b; }", "add", "no loops"),
])
def test_unsafe_functions_stay_sequential(src, fn, why, target):
    with pytest.raises(NotParallelizable) as ei:
        propose(src, fn, target)
    msg = str(ei.value)
    assert why in msg and "\n" not in msg and msg.startswith(f"'{fn}' is kept sequential")


# ---------------------------------------------------------------------------
# CUDA
# ---------------------------------------------------------------------------

def test_cuda_code_shape():
    src = C_KERNELS + "\nint main(void) { return 0; }\n"
    code = propose(src, "dot", Target.CUDA).code
    assert 'extern "C" double dot(int n, const double *x, const double *y)' in code
    assert "__global__ void" in code and "<<<" in code and "int main" not in code
    assert "atomicAdd" in code and "__pl_block_reduce" in code
    assert "if (__pl_n > 0)" in code                    # no zero-size launch
    for call in ("cudaMalloc", "cudaMemcpy(", "cudaFree", "cudaGetLastError", "cudaDeviceSynchronize"):
        for line in code.splitlines():
            if call in line and "PL_CUDA_CHECK" not in line and "#define" not in line and "cudaGetErrorString" not in line:
                raise AssertionError(f"unchecked {call}: {line.strip()}")
    code = propose(src, "nbody", Target.CUDA).code
    assert "__global__" in code
    code = propose(C_KERNELS.replace("sqrt(t)", "sq(t)"), "softmax", Target.CUDA).code
    assert code.count("__global__ void") == 3
    code = propose(CPP_KERNELS, "maxref", Target.CUDA, "cpp").code
    assert 'extern "C"' not in code and "void maxref(std::vector<int> const& x, int &best)" in code
    assert "__pl_out_0[blockIdx.x" in code              # max has no atomicAdd: a second pass on the host


def test_cuda_helper_functions_become_device_functions():
    src = "static double sq(double v) { return v * v; }\n" \
          "void f(int n, const double *x, double *y) { for (int i = 0; i < n; i++) y[i] = sq(x[i]); }\n"
    code = propose(src, "f", Target.CUDA).code
    assert "static __host__ __device__ inline double sq(double v)" in code


def test_cuda_refuses_lastprivate():
    with pytest.raises(NotParallelizable, match="used after the loop"):
        propose(C_KERNELS, "energy", Target.CUDA)


@pytest.mark.nvcc
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not installed")
def test_cuda_candidates_compile_with_nvcc(tmp_path):
    jobs = [(C_KERNELS, "c", "dot"), (C_KERNELS, "c", "matmul"), (C_KERNELS, "c", "histogram"),
            (C_KERNELS, "c", "softmax"), (C_KERNELS, "c", "spmv"), (CPP_KERNELS, "cpp", "maxref"),
            (CPP_KERNELS, "cpp", "bins"), (CPP_KERNELS, "cpp", "allPos")]
    procs = []
    for src, lang, fn in jobs:
        code = propose(src, fn, Target.CUDA, lang).code
        path = tmp_path / f"{fn}.cu"
        path.write_text(code)
        procs.append((fn, subprocess.Popen(["nvcc", "-c", str(path), "-o", str(tmp_path / f"{fn}.o")],
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        if len(procs) >= 4:
            fn0, p = procs.pop(0)
            out, _ = p.communicate(timeout=300)
            assert p.returncode == 0, f"{fn0}: {out}"
    for fn0, p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, f"{fn0}: {out}"


def _verify_available() -> bool:
    try:
        from paralift.sandbox import verify_source  # noqa: F401
        return True
    except Exception:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _verify_available(), reason="paralift.sandbox.verify_source not available")
@pytest.mark.parametrize("target", [Target.OPENMP, Target.MPI, Target.CUDA])
def test_sandbox_verifies_rule_candidates(target):
    from paralift.sandbox import verify_source
    from paralift.sandbox.verify import VerifyOptions
    for fn in ("dot", "jacobi2d", "histogram"):
        code = propose(C_KERNELS, fn, target).code
        v = verify_source(C_KERNELS, code, target, fn, "c", options=VerifyOptions(timing=False))
        assert v.verified, (fn, v.reason)

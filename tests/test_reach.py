"""Reach (issue 22): C as people write it -- non-const pointer parameters that may overlap, flattened
2-D arrays, unusual loop forms -- is parallelized on the outer loop, and overlapping (aliased) arguments
take the sequential path the translation keeps at its entry (DESIGN.md §3).

The differential checks here compile the rule agent's output with the real gcc / mpicc and call it
next to the sequential function on the same buffers, disjoint and overlapping."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from paralift.agents import NotParallelizable, RuleBasedTranslator, build_task
from paralift.agents.analysis import analyze
from paralift.types import Target

VENV_BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]

MATMUL = textwrap.dedent("""\
    void matmul_np(int size, float *A, float *B, float *C)
    {
        for (int i = 0; i < size; i++)
            for (int j = 0; j < size; j++) {
                float s = 0;
                for (int k = 0; k < size; k++)
                    s += A[i * size + k] * B[k * size + j];
                C[i * size + j] = s;
            }
    }
    """)

JACOBI = textwrap.dedent("""\
    void jacobi_np(int n, double *in, double *out)
    {
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++)
                out[i * n + j] = 0.2 * (in[i * n + j] + in[(i - 1) * n + j] + in[(i + 1) * n + j]
                                        + in[i * n + j - 1] + in[i * n + j + 1]);
    }
    """)

# a const input is no promise that the caller passes another buffer
SHIFT_CONST = textwrap.dedent("""\
    double smooth(int n, const double *x, double *y)
    {
        double s = 0.0;
        for (int i = 1; i + 1 < n; i++) {
            y[i] = (x[i - 1] + x[i] + x[i + 1]) / 3.0;
            s += y[i];
        }
        return s;
    }
    """)


SHIFT = "void shift(int n, double *a, double *b) { for (int i = 0; i < n; i++) a[i] = b[i + 1]; }\n"


ROW_SUMS = textwrap.dedent("""\
    void row_sums(int rows, int cols, const float *in, float *out)
    {
        for (int r = 0; r < rows; r++) {
            const float *row = in + r * cols;
            float s = 0;
            for (int c = 0; c < cols; c++)
                s += row[c];
            out[r] = s;
        }
    }
    """)


def test_row_pointers_are_views_of_their_array():
    fx = analyze(ROW_SUMS, "c", "row_sums")
    assert _chosen(ROW_SUMS, "row_sums") == [(3, "r")]
    assert fx.signature.param("in").extent.replace(" ", "") in ("cols*rows", "rows*cols")
    src = ("void rows2(int n, int m, float *a) {\n  for (int i = 0; i < n; i++) {\n"
           "    float *p = &a[i * m];\n    for (int j = 1; j < m; j++) p[j] += *(p + j - 1) * 0.5f;\n  }\n}\n")
    assert _chosen(src, "rows2") == [(2, "i")]           # rows apart; the recurrence within a row stays inside
    # a view whose offset variable changes later is not a view: the loop stays sequential, with a reason
    src = ("void moved(int n, float *a) {\n  int k = 0;\n  float *p = a + k;\n"
           "  for (int i = 0; i < n; i++) p[i] = 1.0f;\n  k = 3;\n  p[0] = 2.0f;\n}\n")
    fx = analyze(src, "c", "moved")
    assert not fx.chosen_loops() and "p[i]" in fx.reason


def test_loop_forms_people_write():
    src = textwrap.dedent("""\
        void win(int n, int k, const float *x, float *y) { for (int i = 0; i + k <= n; i++) y[i] = x[i + k - 1]; }
        void inner(int h, int w, const float *a, float *b) {
            for (int y = 0; y < h; y++) for (int x = 1; x + 1 < w; x++) b[y * w + x] = a[y * w + x + 1]; }
        void down(int n, float *x, float *y) { for (int i = n - 1; i >= 0; i--) y[n - 1 - i] = x[i]; }
        void pairs(int n, const int *a, int *b) { for (int i = 0; i + 1 < n; i += 2) { b[i] = a[i + 1]; b[i + 1] = a[i]; } }
        void steps(int n, float *x) { for (int i = 0; i + 2 < n; i += 2) x[i] = x[i + 2]; }
        void wrap(unsigned n, const float *a, float *b) { for (unsigned i = 0; i + 1 < n; i++) b[i] = a[i]; }
        """)
    assert _chosen(src, "win") == [(1, "i")]
    assert _chosen(src, "inner") == [(3, "y")]
    assert _chosen(src, "down") == [(4, "i")]
    assert _chosen(src, "pairs") == [(5, "i")]         # iterations 2 apart never touch one element
    assert _chosen(src, "steps") == []                  # x[i + 2] is the next iteration's x[i]
    # unsigned: n - 1 wraps for n == 0, so the solved bound is computed in long long and clamped at 0
    # (the loop as written runs no iteration there); run below with n = 0, 1 and 9
    assert _chosen(src, "wrap") == [(7, "i")]
    bound = next(iter(analyze(src, "c", "wrap").loops)).bound_str
    assert "(long long)n" in bound and "> 0 ?" in bound and ": 0LL" in bound
    fx = analyze(src, "c", "win")
    assert fx.chosen_loops()[0].loop.canonical_condition() == "i <= (-k + n)"


def test_kernel_set_gets_its_outermost_loops():
    """Issue 22's done-when on the whole kernel set: a kernel whose main loop is parallel is not kept
    sequential, and what is parallelized is an outermost loop (never one inside a loop left sequential).
    The loops are the rule agent's (rule_based.facts: with its rewrites, first match, complex sums...)."""
    from paralift.agents.rule_based import facts
    for k in json.loads((ROOT / "data/kernels/manifest.json").read_text()):
        src = (ROOT / "data/kernels" / k["file"]).read_text()
        fx, _ = facts(build_task(src, k["language"], k["function"]))
        chosen = fx.chosen_loops()
        if k["parallel"]:
            assert chosen, (k["name"], fx.reason)
        assert all(f.loop.parent is None for f in chosen), (k["name"], [f.loop.line for f in chosen])


def test_search_loop_with_its_variable_declared_before():
    from paralift.agents import first_match
    src = ("int first_above(int n, int cut, const int *u)\n{\n    int idx;\n    for (idx = 0; idx < n; idx++)\n"
           "    {\n        if (u[idx] > cut) return idx;\n    }\n    return -1;\n}\n")
    out = first_match.rewrite(src, "c", "first_above")
    assert out is not None and "idx = __pl_first;" in out and "int idx = __pl_first" not in out
    assert _chosen(out, "first_above")
    # the variable's final value is the function's answer: stays as it is
    assert first_match.rewrite(src.replace("return -1;", "return idx;"), "c", "first_above") is None or \
        not _chosen(first_match.rewrite(src.replace("return -1;", "return idx;"), "c", "first_above"), "first_above")


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_restructured_variants_of_plain_pointer_code_check_overlap_too(tmp_path):
    # the polyhedral model keeps pointer parameters apart; each variant says so at its entry
    from paralift.agents.restructure import RestructureTranslator
    cands = RestructureTranslator().propose(build_task(MATMUL, "c", "matmul_np", Target.OPENMP), Target.OPENMP)
    tiled = [c for c in cands if "-tile" in (c.model or "")]
    assert tiled and all("runtime overlap check of A/C, B/C" in c.notes for c in cands)
    seq, par = _build_and_run(tmp_path, MATMUL, "matmul_np", tiled[0].code, MATMUL_CALLS, mpi=False)
    _same(seq, par)


def test_cuda_wrapper_opens_with_the_overlap_test():
    # the sequential path runs on the host before any device allocation or copy
    cand = RuleBasedTranslator().propose(build_task(JACOBI, "c", "jacobi_np", Target.CUDA), Target.CUDA)[0]
    host = cand.code[cand.code.index('extern "C" void jacobi_np'):]
    test, malloc = host.index("overlapping arguments take the sequential code"), host.index("cudaMalloc")
    assert test < malloc and host.index("return;", test) < malloc


def _chosen(src: str, fn: str) -> list[tuple[int, str]]:
    fx = analyze(src, "c", fn)
    return [(f.loop.line, f.loop.var.name) for f in fx.chosen_loops()]


def test_distinct_pointer_params_get_the_outer_loop_and_a_runtime_check():
    fx = analyze(MATMUL, "c", "matmul_np")
    assert [(f.loop.line, f.loop.var.name) for f in fx.chosen_loops()] == [(3, "i")]
    assert {(a.name, b.name) for a, b in fx.alias_checks()} == {("A", "C"), ("B", "C")}
    fx = analyze(JACOBI, "c", "jacobi_np")
    assert [f.loop.var.name for f in fx.chosen_loops()] == ["i"]
    assert [(a.name, b.name) for a, b in fx.alias_checks()] == [("in", "out")]


def test_in_place_calls_keep_the_parallel_path_shifted_ones_do_not():
    # y[i] = a*x[i] + y[i]: with y == x the same element in the same iteration; with y == x + 1 each
    # iteration reads what the previous one wrote, so the pair is checked, and equal pointers pass
    src = "void saxpy(int n, float a, float *x, float *y) { for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i]; }\n"
    fx = analyze(src, "c", "saxpy")
    assert fx.chosen_loops() and [(a.name, b.name) for a, b in fx.alias_checks()] == [("x", "y")]
    assert {(a.name, b.name) for a, b in fx.alias_equal_safe()} == {("x", "y")}
    # a real dependence within one array is still one, and is named
    src = "void rec(int n, float *x, float *y) { for (int i = 1; i < n; i++) y[i] = y[i - 1] + x[i]; }\n"
    fx = analyze(src, "c", "rec")
    assert not fx.chosen_loops() and "y[i - 1]" in fx.reason and "alias" not in fx.reason


def _driver(fn: str, ret: str, calls: str) -> str:
    return textwrap.dedent("""\
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #ifdef USE_MPI
        #include <mpi.h>
        #endif
        RET seq_FN(); RET par_FN();
        static int rank0 = 1;
        static void dumpd(const char *tag, const double *p, size_t n) {
            if (!rank0) return;
            printf("%s", tag); for (size_t k = 0; k < n; k++) printf(" %.9g", p[k]); printf("\\n");
        }
        static void dumpf(const char *tag, const float *p, size_t n) {
            if (!rank0) return;
            printf("%s", tag); for (size_t k = 0; k < n; k++) printf(" %.6g", (double)p[k]); printf("\\n");
        }
        int main(int argc, char **argv) {
        #ifdef USE_MPI
            MPI_Init(&argc, &argv); int r; MPI_Comm_rank(MPI_COMM_WORLD, &r); rank0 = r == 0;
        #endif
            CALLS
        #ifdef USE_MPI
            MPI_Finalize();
        #endif
            return 0;
        }
        """).replace("FN", fn).replace("RET", ret).replace("CALLS", calls)


def _build_and_run(tmp: Path, src: str, fn: str, cand: str, calls: str, mpi: bool) -> tuple[str, str]:
    """(output of the calls on the sequential function, output on the candidate)."""
    (tmp / "seq.c").write_text(src)
    (tmp / "par.c").write_text(cand)
    outs = []
    for impl in ("seq", "par"):
        ret = analyze(src, "c", fn).signature.return_type
        (tmp / "main.c").write_text(_driver(fn, ret, calls.replace("F(", f"{impl}_{fn}(")))
        cc = [str(VENV_BIN / "mpicc")] if mpi else ["gcc", "-fopenmp"]
        exe = tmp / f"{impl}.x"
        subprocess.run(cc + ["-O1", "-w", f"-D{fn}=seq_{fn}", "-c", str(tmp / "seq.c"), "-o", str(tmp / "s.o")],
                       check=True, capture_output=True)
        subprocess.run(cc + ["-O1", "-w", f"-D{fn}=par_{fn}", "-c", str(tmp / "par.c"), "-o", str(tmp / "p.o")],
                       check=True, capture_output=True)
        subprocess.run(cc + ["-O1", "-w"] + (["-DUSE_MPI"] if mpi else []) + [str(tmp / "main.c"), str(tmp / "s.o"),
                       str(tmp / "p.o"), "-o", str(exe), "-lm"], check=True, capture_output=True)
        run = [str(VENV_BIN / "mpirun"), "-n", "2", str(exe)] if mpi else [str(exe)]
        env = {"OMP_NUM_THREADS": "2", "PATH": "/usr/bin:/bin"}
        r = subprocess.run(run, capture_output=True, text=True, timeout=120, env=None if mpi else env)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    return outs[0], outs[1]


def _same(seq: str, par: str) -> None:
    """Line by line, element by element, within a relative 1e-4 (the OpenMP code may sum in another order)."""
    a, b = seq.splitlines(), par.splitlines()
    assert len(a) == len(b) >= 3
    for la, lb in zip(a, b):
        ta, tb = la.split(), lb.split()
        assert ta[0] == tb[0] and len(ta) == len(tb) > 1
        for x, y in zip(ta[1:], tb[1:]):
            x, y = float(x), float(y)
            assert abs(x - y) <= 1e-4 * max(1.0, abs(x)), (la[:60], x, y)


JACOBI_CALLS = """
    int n = 37; size_t N = (size_t)n * n;
    double *a = malloc(sizeof(double) * (2 * N + 64)), *b = malloc(sizeof(double) * N);
    for (size_t k = 0; k < 2 * N + 64; k++) a[k] = (double)((k * 7919) % 101) / 7.0;
    for (size_t k = 0; k < N; k++) b[k] = -1.0;
    F(n, a, b); dumpd("disjoint", b, N);
    F(n, a, a); dumpd("in-place", a, N);
    F(n, a, a + n + 1); dumpd("shifted", a, 2 * N + 64);
    F(n, a + 5, a); dumpd("shifted-back", a, 2 * N + 64);
    free(a); free(b);
"""

MATMUL_CALLS = """
    int n = 23; size_t N = (size_t)n * n;
    float *a = malloc(sizeof(float) * 3 * N), *c = malloc(sizeof(float) * N);
    for (size_t k = 0; k < 3 * N; k++) a[k] = (float)((k * 31) % 17) / 4.0f;
    F(n, a, a + N, c); dumpf("disjoint", c, N);
    F(n, a, a + N, a); dumpf("C=A", a, 3 * N);
    F(n, a, a + 3, a + N + 7); dumpf("overlap", a, 3 * N);
    free(a); free(c);
"""

SMOOTH_CALLS = """
    int n = 301; double *x = malloc(sizeof(double) * (n + 8)), *y = malloc(sizeof(double) * n);
    for (int k = 0; k < n + 8; k++) x[k] = (double)((k * 13) % 29);
    { double r = F(n, x, y); if (rank0) printf("ret %.12g\\n", r); } dumpd("disjoint", y, n);
    { double r = F(n, x, x); if (rank0) printf("ret %.12g\\n", r); } dumpd("in-place", x, n + 8);
    { double r = F(n, x + 2, x); if (rank0) printf("ret %.12g\\n", r); } dumpd("shifted", x, n + 8);
    free(x); free(y);
"""

SHIFT_CALLS = """
    int n = 1000; double *x = malloc(sizeof(double) * (n + 3)), *y = malloc(sizeof(double) * n);
    for (int k = 0; k < n + 3; k++) x[k] = (double)k;
    F(n, y, x); dumpd("disjoint", y, n);
    F(n, x, x); dumpd("in-place", x, n + 3);
    F(n, x + 1, x); dumpd("forward", x, n + 3);
    F(n - 2, x, x + 2); dumpd("backward", x, n + 3);
    free(x); free(y);
"""

ROW_SUMS_CALLS = """
    int rows = 57, cols = 33; float *a = malloc(sizeof(float) * (rows * cols + 8)), *o = malloc(sizeof(float) * rows);
    for (int k = 0; k < rows * cols + 8; k++) a[k] = (float)(k % 11) - 5.0f;
    F(rows, cols, a, o); dumpf("disjoint", o, rows);
    F(rows, cols, a, a); dumpf("in-place", a, rows * cols + 8);
    F(rows, cols, a + 8, a); dumpf("shifted", a, rows * cols + 8);
    free(a); free(o);
"""

NEAREST = textwrap.dedent("""\
    int nearest(int n, float px, const float *xs, const float *ys)
    {
        float best = 3.0e38f;
        int who = -1;
        for (int i = 0; i < n; i++) {
            float dx = xs[i] - px, dy = ys[i];
            float dd = dx * dx + dy * dy;
            if (best > dd) { best = dd; who = i; }
        }
        return who;
    }
    """)

# ties everywhere: only the lowest index of the minimum is the sequential answer
NEAREST_CALLS = """
    int n = 5000; float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    for (int k = 0; k < n; k++) { x[k] = (float)(k % 7); y[k] = (float)(k % 5); }
    for (int rep = 0; rep < 20; rep++) { int r = F(n, 3.0f + 0.25f * (rep % 4), x, y); if (rank0) printf("ret %d\\n", r); }
    x[4321] = 3.0f; y[4321] = -0.0f; x[17] = 3.0f; y[17] = 0.0f;
    { int r = F(n, 3.0f, x, y); if (rank0) printf("ret %d\\n", r); }
    { int r = F(0, 3.0f, x, y); if (rank0) printf("ret %d\\n", r); }
    free(x); free(y);
"""


def test_argmin_is_parallel_for_openmp_and_mpi_and_named_for_cuda():
    fx = analyze(NEAREST, "c", "nearest")
    (f,) = fx.chosen_loops()
    assert f.argminmax is not None and f.argminmax[2] == "min" and f.argminmax[1].name == "who"
    # CUDA: per-block (value, index) pairs in shared memory, combined on the host (tests/test_loop_audit.py)
    cand = RuleBasedTranslator().propose(build_task(NEAREST, "c", "nearest", Target.CUDA), Target.CUDA)[0]
    assert "argmin of 'best' at 'who'" in cand.notes and "__shared__" in cand.code
    # best also read elsewhere in the loop: not the idiom, and the reason says why
    src = NEAREST.replace("float dd = dx * dx + dy * dy;", "float dd = dx * dx + dy * dy + best * 0.0f;")
    fx = analyze(src, "c", "nearest")
    assert not fx.chosen_loops() and "argmax-style" in fx.reason


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_openmp_argmin_returns_the_lowest_index_on_ties(tmp_path):
    task = build_task(NEAREST, "c", "nearest", Target.OPENMP)
    cand = RuleBasedTranslator().propose(task, Target.OPENMP)[0]
    assert "#pragma omp critical" in cand.code
    seq, par = _build_and_run(tmp_path, NEAREST, "nearest", cand.code, NEAREST_CALLS, mpi=False)
    assert seq == par and seq.count("ret") == 22


@pytest.mark.mpi
def test_mpi_argmin_returns_the_lowest_index_on_ties(tmp_path):
    task = build_task(NEAREST, "c", "nearest", Target.MPI)
    cand = RuleBasedTranslator().propose(task, Target.MPI)[0]
    assert "MPI_MINLOC" in cand.code
    seq, par = _build_and_run(tmp_path, NEAREST, "nearest", cand.code, NEAREST_CALLS, mpi=True)
    assert seq == par and seq.count("ret") == 22


WALKS = textwrap.dedent("""\
    void triple(int n, const float *src, float *dst)
    {
        for (int i = 0; i < n; i++)
            *dst++ = *src++ * 3.0f;
    }
    void axpy_walk(int n, float a, const float *x, float *y)
    {
        for (int i = 2; i < n; i++) {
            float v = *x++;
            *y = *y + a * v;
            y++;
        }
    }
    void cond_walk(int n, const float *src, float *dst)
    {
        for (int i = 0; i < n; i++)
            if (i % 2) *dst++ = *src++;
    }
    void skip_walk(int n, const float *src, float *dst)
    {
        for (int i = 0; i < n; i++) {
            if (src[i] < 0) continue;
            *dst++ = 1.0f;
        }
    }
    float *end_walk(int n, float *dst)
    {
        for (int i = 0; i < n; i++)
            *dst++ = 0.0f;
        return dst;
    }
    """)


def test_pointer_walks_become_indexed_accesses():
    from paralift.agents import pointer_walk
    out = pointer_walk.rewrite(WALKS, "c", "triple")
    assert "dst[i] = src[i] * 3.0f;" in out and "*dst++" not in out.split("axpy_walk")[0]
    out = pointer_walk.rewrite(WALKS, "c", "axpy_walk").split("void axpy_walk")[1].split("void ")[0]
    assert "x[i - (2)]" in out and "y[i - (2)] = y[i - (2)] + a * v;" in out and "y++" not in out
    # once per iteration only, no skipped increments, and the final position unused
    for fn in ("cond_walk", "skip_walk", "end_walk"):
        assert pointer_walk.rewrite(WALKS, "c", fn) is None, fn
    task = build_task(WALKS, "c", "axpy_walk", Target.OPENMP)
    assert task.signature.param("y").extent.replace(" ", "") in ("n", "n-2", "-2+n", "max(0,n-2)", "max(0,-2+n)")
    cand = RuleBasedTranslator().propose(task, Target.OPENMP)[0]
    assert "#pragma omp parallel for" in cand.code and "pointer walks" in cand.notes
    with pytest.raises(NotParallelizable, match=r"\*src\+\+"):
        RuleBasedTranslator().propose(build_task(WALKS, "c", "cond_walk", Target.OPENMP), Target.OPENMP)


CASES = [(ROW_SUMS, "row_sums", ROW_SUMS_CALLS), (JACOBI, "jacobi_np", JACOBI_CALLS), (MATMUL, "matmul_np", MATMUL_CALLS),
         (SHIFT_CONST, "smooth", SMOOTH_CALLS), (SHIFT, "shift", SHIFT_CALLS)]


@pytest.mark.parametrize("src,fn,calls", CASES, ids=[c[1] for c in CASES])
def test_openmp_overlapping_arguments_take_the_sequential_path(tmp_path, src, fn, calls):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    task = build_task(src, "c", fn, Target.OPENMP)
    cand = RuleBasedTranslator().propose(task, Target.OPENMP)[0]
    assert "#pragma omp parallel for" in cand.code and "overlapping arguments" in cand.code
    seq, par = _build_and_run(tmp_path, src, fn, cand.code, calls, mpi=False)
    _same(seq, par)


@pytest.mark.mpi
@pytest.mark.parametrize("src,fn,calls", CASES, ids=[c[1] for c in CASES])
def test_mpi_overlapping_arguments_take_the_sequential_path(tmp_path, src, fn, calls):
    task = build_task(src, "c", fn, Target.MPI)
    cand = RuleBasedTranslator().propose(task, Target.MPI)[0]
    assert "MPI_" in cand.code and "overlapping arguments" in cand.code
    seq, par = _build_and_run(tmp_path, src, fn, cand.code, calls, mpi=True)
    _same(seq, par)


WRAP_CALLS = """
    float a[16], b[16];
    for (int k = 0; k < 16; k++) { a[k] = (float)k + 0.5f; b[k] = -1.0f; }
    F(0u, a, b); dumpf("n0", b, 16);
    F(1u, a, b); dumpf("n1", b, 16);
    F(9u, a, b); dumpf("n9", b, 16);
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_unsigned_window_bound_runs_no_iteration_where_it_would_wrap(tmp_path):
    """`for (unsigned i = 0; i + 1 < n; i++)` with n = 0: n - 1 wraps in unsigned arithmetic; the solved
    OpenMP loop must run no iteration, as the loop as written does."""
    src = "void wrap(unsigned n, const float *a, float *b) { for (unsigned i = 0; i + 1 < n; i++) b[i] = a[i]; }\n"
    cand = RuleBasedTranslator().propose(build_task(src, "c", "wrap", Target.OPENMP), Target.OPENMP)[0]
    assert "#pragma omp parallel for" in cand.code
    seq, par = _build_and_run(tmp_path, src, "wrap", cand.code, WRAP_CALLS, mpi=False)
    _same(seq, par)


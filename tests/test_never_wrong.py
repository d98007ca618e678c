"""Issue 19: paralift never hands a user a wrong file.

- extents that depend on values read from memory are a model of the inputs,
  never something the written code relies on;
- nothing is verified on a suite too weak to tell;
- a race is found by reading the candidate, whatever the machine's load;
- an extent or a slice one dimension short is rejected by verification.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from paralift.agents import build_task
from paralift.agents.analysis import analyze
from paralift.pipeline import SuiteError, make_suite, translate_file
from paralift.sandbox import VerifyOptions, verify
from paralift.types import ArraySpec, Candidate, Target
from paralift.types import TestCase as Case, TestSuite as Suite

GATHER = """\
void gather_selected(int batches, int channels, int npts, int nsel, const float *src, const int *sel, float *dst)
{
    for (int bt = 0; bt < batches; bt++)
        for (int ch = 0; ch < channels; ch++)
            for (int k = 0; k < nsel; k++) {
                int p = sel[bt * nsel + k];
                dst[(bt * channels + ch) * nsel + k] = src[(bt * channels + ch) * npts + p];
            }
}
"""

# The same shape written differently: the data term first, a long index, the row width a product.
GATHER_ROWS = """\
void pick_columns(long rows, int width, int depth, int ncols, const double *img, const int *cols, double *out)
{
    for (long r = 0; r < rows; r++)
        for (int c = 0; c < ncols; c++) {
            const int col = cols[c];
            out[r * ncols + c] = img[col + r * (width * depth)];
        }
}
"""

FAST = VerifyOptions(timing=False)


def _issue_case() -> Case:
    """The call from the issue: the sequential function gives dst = {40, 10}."""
    return Case("issue-call", {"batches": 1, "channels": 1, "npts": 4, "nsel": 2},
                    {"src": ArraySpec(4, "explicit", values=[10, 20, 30, 40]),
                     "sel": ArraySpec(2, "explicit", values=[3, 0]),
                     "dst": ArraySpec(2, "explicit", values=[0, 0])}, tag="user")


def test_gather_extent_is_a_model_not_a_fact():
    fx = analyze(GATHER, "c", "gather_selected")
    sig = {p.name: p for p in fx.signature.params}
    # the tester's model: sel's values are columns of a row npts wide
    assert sig["src"].extent == "batches*channels*npts"
    assert sig["sel"].values.kind.value == "index" and sig["sel"].values.bound == "npts"
    # ... which written code must not rely on
    assert "src" in fx.data_extents and "sel" in fx.data_extents["src"]
    assert "dst" not in fx.data_extents and "sel" not in fx.data_extents


def test_other_spellings_of_the_shape():
    fx = analyze(GATHER_ROWS, "c", "pick_columns")
    sig = {p.name: p for p in fx.signature.params}
    assert "img" in fx.data_extents
    assert sig["cols"].values.kind.value == "index"
    ind = analyze("void g(int n, int m, const int *idx, const float *x, float *y)\n"
                  "{ for (int i = 0; i < n; i++) { int k = idx[i]; y[i] = x[k]; } }", "c", "g")
    assert "x" in ind.data_extents
    direct = analyze("void g(int n, const int *idx, const float *x, float *y)\n"
                     "{ for (int i = 0; i < n; i++) y[i] = x[idx[i]]; }", "c", "g")
    assert "x" in direct.data_extents
    guarded = analyze("void h(int n, int nb, const int *v, int *bins)\n"
                      "{ for (int i = 0; i < n; i++) { int b = v[i]; if (b >= 0 && b < nb) bins[b]++; } }", "c", "h")
    assert "bins" not in guarded.data_extents      # the guard proves the range
    assert {p.name: p for p in guarded.signature.params}["bins"].extent == "nb"


def test_tester_index_values_span_their_range():
    task = build_task(GATHER, "c", "gather_selected", Target.CUDA)
    suite = make_suite(task)
    assert len(suite.cases) >= 8
    from paralift.sandbox.inputs import materialize_array
    import numpy as np
    spanned = 0
    for c in suite.cases:
        npts, sel = int(c.scalars["npts"]), c.arrays["sel"]
        if sel.count >= 2 and npts >= 2 and sel.dist == "index":
            vals = materialize_array(sel, np.dtype(np.int32))
            assert vals.max() == npts - 1 and vals.min() == 0, c.name
            spanned += 1
    assert spanned >= 3


@pytest.mark.parametrize("target", [Target.OPENMP, pytest.param(Target.MPI, marks=pytest.mark.mpi), Target.CUDA])
def test_gather_written_correctly_or_kept_sequential(target):
    rep = translate_file(__import__("pathlib").Path("gather.c"), GATHER, target, [], None,
                         backends=["rule"], timing=False, write=False, on_event=lambda m: None)
    f = rep.functions[0]
    if f.status != "verified":
        assert f.status == "sequential" and f.reason, f
        return
    # written: it must give the sequential answer on the issue's call (and the tester's cases)
    task = build_task(GATHER, "c", "gather_selected", target)
    suite = make_suite(task)
    suite = Suite(suite.function, [*suite.cases, _issue_case()], suite.generator, suite.seed)
    v = verify(task, Candidate(rep.text, target, agent="written"), suite, FAST)
    assert v.verified, v.reason


def test_cuda_gather_is_never_sized_by_the_model():
    """Before: the wrapper copied batches*channels*nsel elements of src (guessed from dst)."""
    from paralift.agents.rule_based import RuleBasedTranslator
    from paralift.agents.base import NotParallelizable
    task = build_task(GATHER, "c", "gather_selected", Target.CUDA)
    try:
        cands = RuleBasedTranslator().propose(task, Target.CUDA)
    except NotParallelizable as e:
        assert "src" in str(e) and "sel" in str(e)
        return
    for c in cands:     # a runtime-sized copy: must hold on the issue's call
        suite = make_suite(task)
        suite = Suite(suite.function, [*suite.cases, _issue_case()], suite.generator, suite.seed)
        assert verify(task, c, suite, FAST).verified


# ------------------------------------------------------------------ suites that can tell

PICKY = """\
#include <stdlib.h>
/* Only defined for inputs that start with a 1: the analysis cannot know. */
float picky(int n, const float *restrict x, float *restrict y)
{
    if (n > 0 && x[0] != 1.0f) abort();
    float s = 0;
    for (int i = 0; i < n; i++) { y[i] = 2 * x[i]; s += x[i]; }
    return s;
}
"""


def test_no_verdict_when_the_tester_cannot_model_the_inputs():
    task = build_task(PICKY, "c", "picky", Target.OPENMP)
    with pytest.raises(SuiteError, match="misbehaves on"):
        make_suite(task)
    rep = translate_file(__import__("pathlib").Path("picky.c"), PICKY, Target.OPENMP, [], None,
                         backends=["rule"], timing=False, write=False, on_event=lambda m: None)
    f = rep.functions[0]
    assert f.status == "sequential" and "misbehaves on" in f.reason


def test_a_few_cases_verify_nothing():
    src = "void scale(int n, const double *x, double *y) { for (int i = 0; i < n; i++) y[i] = 3 * x[i]; }\n"
    task = build_task(src, "c", "scale", Target.OPENMP)
    cand = Candidate(src.replace("{ for", "{\n#pragma omp parallel for\n for"), Target.OPENMP)
    cases = [Case(f"n{n}", {"n": n}, {"x": ArraySpec(n, "uniform", seed=n), "y": ArraySpec(n, "zeros")})
             for n in (5, 17, 64)]
    v = verify(task, cand, Suite("scale", cases, generator="test"), FAST)
    assert not v.verified and "fewer than the 8" in v.reason
    more = [Case(f"n{n}", {"n": n}, {"x": ArraySpec(n, "uniform", seed=n), "y": ArraySpec(n, "zeros")})
            for n in (2, 3, 5, 7, 17, 31, 64, 100)]
    assert verify(task, cand, Suite("scale", more, generator="test"), FAST).verified


# ------------------------------------------------------------------ races, whatever the load

HIST = """\
void histogram(int n, int nbins, const int *data, int *bins)
{
    for (int b = 0; b < nbins; b++) bins[b] = 0;
    for (int i = 0; i < n; i++) {
        int v = data[i];
        if (v >= 0 && v < nbins) bins[v]++;
    }
}
"""
RACY_HIST = """\
void histogram(int n, int nbins, const int *data, int *bins)
{
    for (int b = 0; b < nbins; b++) bins[b] = 0;
    #pragma omp parallel for
    for (int i = 0; i < n; i++) {
        int v = data[i];
        if (v >= 0 && v < nbins) bins[v]++;
    }
}
"""


def test_racy_histogram_rejected_on_a_loaded_machine_20_of_20():
    task = build_task(HIST, "c", "histogram", Target.OPENMP)
    suite = make_suite(task)
    burn = [subprocess.Popen([sys.executable, "-c", "import time\nt=time.time()\nwhile time.time()-t<600: pass"])
            for _ in range(os.cpu_count() or 2)]
    try:
        time.sleep(0.2)
        opts = VerifyOptions(timing=False, race_rounds=0)
        verdicts = [verify(task, Candidate(RACY_HIST, Target.OPENMP), suite, opts) for _ in range(20)]
    finally:
        for p in burn:
            p.kill()
            p.wait()
    assert [v.verified for v in verdicts] == [False] * 20
    assert all("data race" in v.reason and "bins[v]" in v.reason for v in verdicts)


# ------------------------------------------------------------------ an extent one dimension short

def _shrunk_analyze(name: str, symbol: str):
    from paralift.agents import analysis
    real = analysis.analyze

    def shrunk(source, language, function):
        fx = real(source, language, function)
        from paralift.agents.poly import Poly
        p = fx.extent_polys[name]
        key = next((s for s in p.symbols() if fx.model.decl_by_key(s) is not None
                    and fx.model.decl_by_key(s).name == symbol), None)
        if key is not None:         # the analysis may hand back the facts it already shrank (one per source)
            fx.extent_polys[name] = p.subs(key, Poly.const(1))
        return fx
    return shrunk


EXTENT_MUTANTS = [  # (kernel file, function, array, dimension dropped)
    ("matvec.c", "matvec", "A", "m"), ("matvec.c", "matvec", "A", "n"),
    ("transpose.c", "transpose", None, None),
]


def _kernel(name: str) -> str:
    from pathlib import Path
    return (Path(__file__).resolve().parent.parent / "data" / "kernels" / name).read_text()


@pytest.mark.parametrize("fname,fn,array,dim", [m for m in EXTENT_MUTANTS if m[2]])
def test_cuda_copy_one_dimension_short_is_rejected(monkeypatch, fname, fn, array, dim):
    from paralift.agents import rule_based
    src = _kernel(fname)
    task = build_task(src, "c", fn, Target.CUDA)
    suite = make_suite(task)
    good = rule_based.RuleBasedTranslator().propose(task, Target.CUDA)[0]
    monkeypatch.setattr(rule_based, "analyze", _shrunk_analyze(array, dim))
    bad = rule_based.RuleBasedTranslator().propose(task, Target.CUDA)[0]
    assert bad.code != good.code
    v = verify(task, bad, suite, FAST)
    assert not v.verified and v.built, v.reason


@pytest.mark.slow
@pytest.mark.parametrize("fname", ["matmul.c", "transpose.c", "jacobi2d.c", "blur2d.c", "stencil3d.c", "matvec.c"])
def test_every_cuda_extent_one_dimension_short_is_rejected(monkeypatch, fname):
    """Every array of every multi-dimensional kernel, every dimension dropped in turn."""
    from paralift.agents import rule_based
    from paralift.agents.base import NotParallelizable
    src = _kernel(fname)
    from paralift.agents import list_functions
    for sig in list_functions(src, "c"):
        task = build_task(src, "c", sig.name, Target.CUDA)
        fx = analyze(src, "c", sig.name)
        suite = make_suite(task)
        for name, poly in fx.extent_polys.items():
            for s in sorted(poly.symbols()):
                d = fx.model.decl_by_key(s)
                if d is None or poly.subs(s, __import__("paralift.agents.poly", fromlist=["Poly"]).Poly.const(1)) == poly:
                    continue
                with monkeypatch.context() as mp:
                    mp.setattr(rule_based, "analyze", _shrunk_analyze(name, d.name))
                    try:
                        bad = rule_based.RuleBasedTranslator().propose(task, Target.CUDA)[0]
                    except NotParallelizable:
                        continue
                v = verify(task, bad, suite, FAST)
                assert not v.verified, (fname, sig.name, name, d.name)


HIDDEN_RACE = HIST.replace("        if (v >= 0 && v < nbins) bins[v]++;",
                           "        int *h = bins;          /* the static check sees a local pointer */\n"
                           "        if (v >= 0 && v < nbins) h[v] += 1;")
ATOMIC_HIST = RACY_HIST.replace("        if (v >= 0 && v < nbins) bins[v]++;",
                                "        if (v >= 0 && v < nbins) {\n        #pragma omp atomic\n"
                                "            bins[v]++;\n        }")


@pytest.mark.skipif(__import__("paralift.sandbox.omp_tsan", fromlist=["toolchain"]).toolchain() is None,
                    reason="clang and libarcher are not installed (apt-get install clang libomp-dev)")
def test_race_the_static_check_cannot_see_is_found_by_openmp_aware_tsan():
    from paralift.sandbox.races import find_races
    assert HIDDEN_RACE != HIST and not find_races(HIDDEN_RACE.replace("    for (int i", "    #pragma omp parallel for\n    for (int i"))
    from paralift.pipeline import _guard_overlaps
    task = build_task(HIST, "c", "histogram", Target.OPENMP)
    suite = make_suite(task)
    racy = HIDDEN_RACE.replace("    for (int i", "    #pragma omp parallel for\n    for (int i")
    # as paralift judges a model's candidates: with the entry overlap check (the suite's calls with `bins`
    # inside `data` would otherwise race even in the atomic version: a thread reads data[i] while another
    # increments the same element)
    racy, atomic = (c.code for c in _guard_overlaps(task, [Candidate(racy, Target.OPENMP),
                                                           Candidate(ATOMIC_HIST, Target.OPENMP)], []))
    # one-thread runs only and no race rounds: the detector alone decides (its runs use 2 and 3 threads)
    opts = VerifyOptions(timing=False, race_rounds=0, threads=(1,))
    v = verify(task, Candidate(racy, Target.OPENMP), suite, opts)
    assert not v.verified and "ThreadSanitizer" in v.reason, v.reason
    ok = verify(task, Candidate(atomic, Target.OPENMP), suite, opts)
    assert ok.verified, ok.reason


def _short_slices(code: str) -> list[str]:
    """The candidate with each gathered slice's last index one dimension short: the trailing term of
    `__pl_z = stride * (row) + (last column)` set to 0 (every rank then sends the first element of its
    last row only), one mutant per gather."""
    import re
    out = []
    for m in re.finditer(r"(const long long __pl_z\w* = .*?\+ )\((?!0\))(.+?)\);", code):
        out.append(code[:m.start()] + m.group(1) + "(0);" + code[m.end():])
    return out


@pytest.mark.mpi
@pytest.mark.parametrize("fname,fn", [("jacobi2d.c", "jacobi2d"), ("transpose.c", "transpose")])
def test_mpi_slice_one_dimension_short_is_rejected(fname, fn):
    from paralift.agents.rule_based import RuleBasedTranslator
    src = _kernel(fname)
    task = build_task(src, "c", fn, Target.MPI)
    suite = make_suite(task)
    good = RuleBasedTranslator().propose(task, Target.MPI)[0]
    mutants = _short_slices(good.code)
    assert mutants, "no gathered slice found in the MPI candidate"
    for bad in mutants:
        v = verify(task, Candidate(bad, Target.MPI), suite, FAST)
        assert not v.verified and v.built, v.reason


def test_every_shipped_verified_example_has_a_suite_that_can_tell():
    """The corpus sample's verified examples carry suites of at least the minimum (verify enforces it for
    anything verified from now on; this checks what was built before)."""
    from pathlib import Path
    from paralift.jsonl import record_suite, records
    from paralift.sandbox.inputs import MIN_SUITE_CASES
    root = Path(__file__).resolve().parent.parent / "data" / "corpus-sample"
    n = 0
    for split in ("train", "validation", "test"):
        for _line, rec in records(root / f"{split}.jsonl"):
            if rec.get("verified"):
                suite = record_suite(rec)
                cases = suite["cases"] if isinstance(suite, dict) else suite.cases
                assert len(cases) >= MIN_SUITE_CASES, rec["id"]
                n += 1
    assert n > 0


NEG_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#ifdef USE_MPI
#include <mpi.h>
#endif
int main(int argc, char **argv) {
#ifdef USE_MPI
    MPI_Init(&argc, &argv);
    int rank; MPI_Comm_rank(MPI_COMM_WORLD, &rank);
#else
    int rank = 0;
#endif
    /* the caller's bins start two before the pointer it passes: indices -2..nbins-1 are its buffer */
    enum { N = 1000, NB = 7 };
    int data[N], buf[NB + 2] = {0};
    for (int i = 0; i < N; i++) data[i] = (i * 37) % (NB + 2) - 2;
    histogram(N, NB, data, buf + 2);
    if (rank == 0) { for (int b = 0; b < NB + 2; b++) printf("%d ", buf[b]); printf("\n"); }
#ifdef USE_MPI
    MPI_Finalize();
#endif
    return 0;
}
"""

HIST_NO_CLEAR = """\
void histogram(int n, int nbins, const int *data, int *bins)
{
    for (int i = 0; i < n; i++)
        bins[data[i]]++;
}
"""


@pytest.mark.mpi
def test_mpi_histogram_buffer_covers_what_the_sequential_code_touches(tmp_path):
    """The reduction buffer comes from a scan of the index values (issue 19), negative ones included:
    a caller whose bins start before the pointer gets the sequential answer."""
    from pathlib import Path
    from paralift.agents.rule_based import RuleBasedTranslator
    from paralift.sandbox.toolchains import detect
    task = build_task(HIST_NO_CLEAR, "c", "histogram", Target.MPI)
    cand = RuleBasedTranslator().propose(task, Target.MPI)[0]
    assert "MPI_Reduce" in cand.code or "MPI_Allreduce" in cand.code
    (tmp_path / "seq.c").write_text(HIST_NO_CLEAR + NEG_MAIN)
    (tmp_path / "par.c").write_text(cand.code + NEG_MAIN)
    tc = detect()
    subprocess.run(["gcc", "-O2", "seq.c", "-o", "seq"], cwd=tmp_path, check=True)
    subprocess.run([tc.mpicc.path, "-O2", "-DUSE_MPI", "par.c", "-o", "par"], cwd=tmp_path, check=True)
    want = subprocess.run(["./seq"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert want.split()[0] != "0"           # the negative bins are used
    for n in (1, 2, 3):
        got = subprocess.run([tc.mpirun.path, "-n", str(n), "./par"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=120, check=True).stdout
        assert got == want, (n, got, want)


def test_cuda_histogram_copies_what_the_sequential_code_touches(tmp_path):
    """The CUDA wrapper sizes hist by a scan of the index values (issue 19); a caller whose bins start
    before the pointer (negative indices) gets the sequential code. Run on the CPU emulation with
    AddressSanitizer, so a copy outside the caller's array fails."""
    from paralift.agents.rule_based import RuleBasedTranslator
    from paralift.sandbox import cuda_cpu as cc
    task = build_task(HIST_NO_CLEAR, "c", "histogram", Target.CUDA)
    cand = RuleBasedTranslator().propose(task, Target.CUDA)[0]
    assert "__pl_xm" in cand.code                       # sized by a scan, not by a guess
    main = NEG_MAIN.replace("int main", 'extern "C" void histogram(int, int, const int *, int *);\nint main')
    positive = main.replace("(i * 37) % (NB + 2) - 2", "(i * 37) % NB").replace("buf + 2", "buf")
    (tmp_path / "seq.c").write_text(HIST_NO_CLEAR + NEG_MAIN)
    subprocess.run(["gcc", "-O2", "seq.c", "-o", "seq"], cwd=tmp_path, check=True)
    want = subprocess.run(["./seq"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    for label, prog in (("negative", main), ("positive", positive)):
        (tmp_path / f"{label}.cpu.cpp").write_text(cc.rewrite(cand.code + prog))
        subprocess.run(cc.build_command([tmp_path / f"{label}.cpu.cpp"], tmp_path / label, asan=True),
                       check=True, capture_output=True)
        got = subprocess.run([f"./{label}"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                             env=cc.run_env("forward"))
        assert got.returncode == 0, got.stderr[-2000:]
        if label == "negative":
            assert got.stdout == want
        else:
            exp = HIST_NO_CLEAR + positive.replace('extern "C" void histogram(int, int, const int *, int *);\n', "")
            (tmp_path / "seqp.c").write_text(exp)
            subprocess.run(["gcc", "-O2", "seqp.c", "-o", "seqp"], cwd=tmp_path, check=True)
            assert got.stdout == subprocess.run(["./seqp"], cwd=tmp_path, capture_output=True, text=True).stdout


SMOOTH = """\
void smooth(int n, const float *x, float *y)
{
    for (int i = 0; i < n; i++)
        y[i] = 0.5f * (x[i] + x[i + 1]);
}
"""
SMOOTH_MAIN = r"""
#include <stdio.h>
int main(void) {
    enum { N = 200000 };
    static float a[N + 1];
    for (int i = 0; i <= N; i++) a[i] = (float)(i % 17);
    smooth(N, a, a);                 /* in place: each y[i] reads x[i + 1] before it is overwritten */
    double s = 0; for (int i = 0; i < N; i++) s += a[i] * (i % 7 + 1);
    printf("%.3f\n", s);
    return 0;
}
"""


def test_model_candidates_get_the_overlap_check_so_in_place_calls_stay_right(tmp_path):
    """A model's candidate (no overlap check of its own) is versioned at entry like the rule agent's
    output: an in-place call takes the original loop (DESIGN.md §3), whatever the thread count."""
    from paralift.pipeline import _guard_overlaps
    task = build_task(SMOOTH, "c", "smooth", Target.OPENMP)
    naive = Candidate(SMOOTH.replace("    for", "    #pragma omp parallel for\n    for"), Target.OPENMP, agent="hf")
    reasons: list[str] = []
    [guarded] = _guard_overlaps(task, [naive], reasons)
    assert "overlapping arguments take the sequential code" in guarded.code and not reasons
    (tmp_path / "seq.c").write_text(SMOOTH + SMOOTH_MAIN)
    (tmp_path / "par.c").write_text(guarded.code + SMOOTH_MAIN)
    subprocess.run(["gcc", "-O2", "seq.c", "-o", "seq"], cwd=tmp_path, check=True)
    subprocess.run(["gcc", "-O2", "-fopenmp", "par.c", "-o", "par"], cwd=tmp_path, check=True)
    want = subprocess.run(["./seq"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    for t in ("1", "2", "3"):
        got = subprocess.run(["./par"], cwd=tmp_path, capture_output=True, text=True, check=True,
                             env={**os.environ, "OMP_NUM_THREADS": t}).stdout
        assert got == want, t
    # separate buffers still take the candidate's parallel loop: the tests judge that path
    v = verify(task, guarded, make_suite(task), FAST)
    assert v.verified, v.reason

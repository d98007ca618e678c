"""Reach, continued (issue 22): BLAS-style strides and leading dimensions, histograms with private bins,
prefix sums in two passes.

The differential checks compile the rule agent's output with the real gcc / mpicc and call it next to
the sequential function on the same buffers: ordinary calls, and the ones the parallel path must not take
(a zero or negative increment, overlapping rows, in-place and shifted buffers). The sandbox checks run
paralift's own verification (tests generated from the analysis, the sequential code as the reference)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from paralift.agents import NotParallelizable, RuleBasedTranslator, build_task
from paralift.agents.analysis import analyze
from paralift.types import Candidate, Target
from test_reach import _build_and_run, _same

ROOT = Path(__file__).resolve().parents[1]
KERNELS = ROOT / "data" / "kernels"
MANIFEST = {k["name"]: k for k in json.loads((KERNELS / "manifest.json").read_text())}
NEW = ["axpy_inc", "scal_inc", "dot_inc", "gemv_ld", "geam_ld", "copy_off", "hist_small", "hist_weighted",
       "cumsum_int", "cumsum_float", "counts_to_offsets", "scaled_cumsum"]


def _src(name: str) -> str:
    return (KERNELS / MANIFEST[name]["file"]).read_text()


def _cand(name: str, target: Target) -> Candidate:
    task = build_task(_src(name), "c", MANIFEST[name]["function"], target)
    return RuleBasedTranslator().propose(task, target)[0]


def _need_gcc():
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")


# ---------------------------------------------------------------------------------------------- analysis

def test_new_kernels_are_in_the_manifest():
    for name in NEW:
        k = MANIFEST[name]
        assert (KERNELS / k["file"]).exists() and k["signature"].split("(")[0].endswith(k["function"])


def test_strides_and_leading_dimensions_get_extents_and_entry_checks():
    fx = analyze(_src("axpy_inc"), "c", "axpy_inc")
    assert fx.extents["x"].replace(" ", "") == "incx*n-incx+1"
    assert [f.describe(fx._name) for f in fx.value_facts] == ["incx >= 1", "incy >= 1"]
    assert fx.chosen_loops()
    fx = analyze(_src("geam_ld"), "c", "geam_ld")
    # the leading dimensions make the rows disjoint: the outer loop is the parallel one, with no collapse
    # needed, and the extent is exactly (m-1)*ldc + n (not rounded up to m*ldc, which would size copies
    # past a caller's buffer)
    chosen = fx.chosen_loops()
    assert [f.loop.line for f in chosen] == [5]
    assert fx.extents["c"].replace(" ", "") == "ldc*m-ldc+n"
    assert sorted(f.describe(fx._name) for f in fx.value_facts) == ["lda >= n", "ldc >= n"]
    task = build_task(_src("gemv_ld"), "c", "gemv_ld")
    assert task.analysis["runtime_checks"] == ["lda >= n"]
    assert task.signature.param("lda").values.kind.value == "size"
    # a stride is data: as a size it would grow with n and make the arrays n*n long
    assert build_task(_src("axpy_inc"), "c", "axpy_inc").signature.param("incx").values.kind.value == "any"
    fx = analyze(_src("copy_off"), "c", "copy_off")
    assert {"offx >= 0", "offy >= 0", "incx >= 1", "incy >= 1"} == {f.describe(fx._name) for f in fx.value_facts}


ODD = """
void sq_index(int n, double *x, const double *y) { for (int i = 0; i < n; i++) x[i * i] = y[i]; }
void double_stride(int n, int inc, double *x) { for (int i = 0; i < n; i++) x[i * inc * inc] = 2.0 * x[i * inc * inc]; }
void mod_index(int n, int k, double *x, const double *y) { for (int i = 0; i < n; i++) x[(i * k) % n] += y[i]; }
"""


def test_unusual_subscripts_stay_sequential_with_the_obstacle_named(tmp_path):
    """Not exit 2: the file is written with these functions sequential, each with its subscript named."""
    import subprocess
    import sys
    f = tmp_path / "odd.c"
    f.write_text(ODD)
    r = subprocess.run([str(Path(sys.executable).parent / "paralift"), "translate", str(f), "--to", "openmp",
                        "--backend", "rule", "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    reasons = {fn["name"]: (fn["status"], fn["reason"]) for fn in out["functions"]}
    assert reasons["sq_index"][0] == "sequential" and "'i * i'" in reasons["sq_index"][1]
    assert "'i * inc * inc'" in reasons["double_stride"][1]
    assert "'(i * k) % n'" in reasons["mod_index"][1]


# ------------------------------------------------------------------------------------------ differential

AXPY_CALLS = """
    int n = 101; double *x = malloc(sizeof(double) * 1000), *y = malloc(sizeof(double) * 1000);
    for (int k = 0; k < 1000; k++) { x[k] = (double)((k * 37) % 19) / 3.0; y[k] = (double)((k * 11) % 7); }
    F(n, 0.5, x, 2, y, 3); dumpd("strided", y, 1000);
    F(n, 0.5, x, 0, y, 1); dumpd("zero-incx", y, 1000);
    F(n, 0.5, x, 1, x, 1); dumpd("in-place", x, 1000);
    F(n, 0.5, x, 1, x + 1, 1); dumpd("shifted", x, 1000);
    F(n, 0.5, x, 3, y + 3 * (n - 1), -3); dumpd("negative-incy", y, 1000);
    F(n, 0.5, x, 2, y, 0); dumpd("zero-incy", y, 1000);
"""

GEAM_CALLS = """
    int m = 23, n = 17; float *a = malloc(sizeof(float) * 2000), *c = malloc(sizeof(float) * 2000);
    for (int k = 0; k < 2000; k++) { a[k] = (float)((k * 37) % 19) / 3.0f; c[k] = (float)((k * 13) % 5); }
    F(m, n, 2.0f, a, 40, c, 30); dumpf("padded", c, 2000);
    F(m, n, 2.0f, a, n, c, n); dumpf("packed", c, 2000);
    F(m, n, 2.0f, a, 40, c, 5); dumpf("overlapping-rows", c, 2000);
    F(m, n, 2.0f, c, 30, c, 30); dumpf("in-place", c, 2000);
    F(m, n, 2.0f, c, 30, c + 1, 30); dumpf("shifted", c, 2000);
"""


@pytest.mark.parametrize("name,calls", [("axpy_inc", AXPY_CALLS), ("geam_ld", GEAM_CALLS)])
def test_openmp_strides_take_the_sequential_path_when_their_facts_fail(tmp_path, name, calls):
    _need_gcc()
    cand = _cand(name, Target.OPENMP)
    assert "#pragma omp parallel for" in cand.code and "runtime check" in cand.notes
    seq, par = _build_and_run(tmp_path, _src(name), name, cand.code, calls, mpi=False)
    _same(seq, par)


@pytest.mark.mpi
@pytest.mark.parametrize("name,calls", [("axpy_inc", AXPY_CALLS), ("geam_ld", GEAM_CALLS)])
def test_mpi_strides_take_the_sequential_path_when_their_facts_fail(tmp_path, name, calls):
    cand = _cand(name, Target.MPI)
    assert "MPI_Gatherv" in cand.code
    seq, par = _build_and_run(tmp_path, _src(name), name, cand.code, calls, mpi=True)
    _same(seq, par)


HIST_CALLS = """
    int n = 5000; int *lab = malloc(sizeof(int) * n), *cnt = malloc(sizeof(int) * 6000);
    double *dump = malloc(sizeof(double) * 6000);
    for (int k = 0; k < n; k++) lab[k] = (k * 7919) % 61;
    F(n, lab, 61, cnt); for (int k = 0; k < 61; k++) dump[k] = cnt[k]; dumpd("few-bins", dump, 61);
    for (int k = 0; k < n; k++) lab[k] = (k * 7919) % 4999;
    F(n, lab, 5000, cnt); for (int k = 0; k < 5000; k++) dump[k] = cnt[k]; dumpd("many-bins", dump, 5000);
    for (int k = 0; k < n; k++) lab[k] = 3 + (k % 2);
    F(n, lab, 8, cnt); for (int k = 0; k < 8; k++) dump[k] = cnt[k]; dumpd("two-hot-bins", dump, 8);
    F(0, lab, 8, cnt); for (int k = 0; k < 8; k++) dump[k] = cnt[k]; dumpd("no-samples", dump, 8);
    for (int k = 0; k < n; k++) lab[k] = k / 50;
    F(n, lab, 100, cnt); for (int k = 0; k < 100; k++) dump[k] = cnt[k]; dumpd("sorted-bins", dump, 100);
    int *buf = malloc(sizeof(int) * (n + 200));
    for (int k = 0; k < n + 200; k++) buf[k] = (k * 13) % 37;
    F(n, buf + 100, 37, buf); for (int k = 0; k < n + 200; k++) dump[k] = buf[k]; dumpd("bins-below-labels", dump, n + 200);
    for (int k = 0; k < n + 200; k++) buf[k] = 40 + (k * 13) % 20;
    F(100, buf + 40, 10, buf); for (int k = 0; k < n + 200; k++) dump[k] = buf[k]; dumpd("bins-met-are-labels", dump, n + 200);
    for (int k = 0; k < n + 200; k++) buf[k] = (k * 13) % 7;
    F(n, buf, 7, buf); for (int k = 0; k < n + 200; k++) dump[k] = buf[k]; dumpd("in-place", dump, n + 200);
"""


def test_openmp_histogram_chooses_private_bins_or_the_loop_at_run_time(tmp_path):
    _need_gcc()
    cand = _cand("hist_small", Target.OPENMP)
    # private bins grown to the range met, no atomics, no scan of the labels at entry: the overlap test
    # of counts and labels comes after the private pass (in-place and shifted calls below)
    assert "calloc" in cand.code and "#pragma omp atomic" not in cand.code
    assert "__pl_hlim" in cand.code and "private bins" in cand.notes and "after the private pass" in cand.notes
    assert "overlapping arguments take the sequential code" not in cand.code
    seq, par = _build_and_run(tmp_path, _src("hist_small"), "hist_small", cand.code, HIST_CALLS, mpi=False)
    _same(seq, par)


def test_an_mpi_histogram_made_after_an_openmp_one_keeps_its_entry_overlap_test():
    """The analysis' facts are cached per source and shared between targets: one target's histogram
    loops that test their own overlaps after the private pass (fx.self_checked) must not change the
    other's code. They once did, and the MPI histogram miscounted an overlapping call (bins passed as
    labels + 28). Both generators reset the set; each target's code is the same whichever came first."""
    from paralift.agents import analysis
    analysis._CACHE.clear()
    alone = _cand("hist_small", Target.MPI).code
    _cand("hist_small", Target.OPENMP)
    assert _cand("hist_small", Target.MPI).code == alone
    # and the other way round: the OpenMP one is the same after an MPI one
    analysis._CACHE.clear()
    omp = _cand("hist_small", Target.OPENMP).code
    _cand("hist_small", Target.MPI)
    assert _cand("hist_small", Target.OPENMP).code == omp


def test_mpi_histogram_counts_into_each_ranks_bins_and_tests_overlaps_after(tmp_path):
    """MPI histogram over index values (issue 22): no scan of the labels at entry; each rank's block into
    bins of its own, the range met agreed, the overlap test made then on it, one MPI_Reduce onto rank 0.
    The in-place and shifted calls (bins below, inside and above the labels) equal the sequential code."""
    _need_gcc()
    cand = _cand("hist_small", Target.MPI)
    assert "MPI_Reduce" in cand.code and "__pl_hlim" in cand.code and "after the private pass" in cand.notes
    assert "#include <string.h>" in cand.code          # memcpy of the growing bins: declared (gcc 14 errors)
    assert "overlapping arguments take the sequential code" not in cand.code
    seq, par = _build_and_run(tmp_path, _src("hist_small"), "hist_small", cand.code, HIST_CALLS, mpi=True)
    _same(seq, par)


SCAN_CALLS = {
    "cumsum_int": """
    int n = 1001; int *x = malloc(sizeof(int) * 1200), *y = malloc(sizeof(int) * 1200);
    double *d = malloc(sizeof(double) * 1200);
    for (int k = 0; k < 1200; k++) { x[k] = (k * 37) % 19 - 9; y[k] = -1; }
    F(n, x, y); for (int k = 0; k < 1200; k++) d[k] = y[k]; dumpd("disjoint", d, 1200);
    F(n, x, x); for (int k = 0; k < 1200; k++) d[k] = x[k]; dumpd("in-place", d, 1200);
    F(n, x, x + 1); for (int k = 0; k < 1200; k++) d[k] = x[k]; dumpd("shifted", d, 1200);
    F(3, x, y); for (int k = 0; k < 1200; k++) d[k] = y[k]; dumpd("short", d, 1200);
    F(0, x, y); for (int k = 0; k < 1200; k++) d[k] = y[k]; dumpd("empty", d, 1200);
""",
    "counts_to_offsets": """
    int n = 999; int *c = malloc(sizeof(int) * 1200), *o = malloc(sizeof(int) * 1200);
    double *d = malloc(sizeof(double) * 1200);
    for (int k = 0; k < 1200; k++) { c[k] = (k * 37) % 5; o[k] = -1; }
    d[0] = F(n, c, o); dumpd("total", d, 1); for (int k = 0; k < 1200; k++) d[k] = o[k]; dumpd("offsets", d, 1200);
    d[0] = F(n, c, c); dumpd("total-in-place", d, 1); for (int k = 0; k < 1200; k++) d[k] = c[k]; dumpd("in-place", d, 1200);
    d[0] = F(0, c, o); dumpd("total-empty", d, 1);
""",
    "cumsum_float": """
    int n = 2049; float *x = malloc(sizeof(float) * 2100), *y = malloc(sizeof(float) * 2100);
    for (int k = 0; k < 2100; k++) { x[k] = (float)((k * 37) % 19) / 7.0f; y[k] = -1.0f; }
    F(n, 1.5f, x, y); dumpf("disjoint", y, 2100);
    F(n, 1.5f, x, x); dumpf("in-place", x, 2100);
    F(n, 0.0f, x + 1, x); dumpf("shifted", x, 2100);
""",
}


@pytest.mark.parametrize("name", sorted(SCAN_CALLS))
def test_openmp_scans_in_two_passes(tmp_path, name):
    _need_gcc()
    cand = _cand(name, Target.OPENMP)
    assert "#pragma omp barrier" in cand.code and "prefix sum" in cand.notes
    assert ("reassociated" in cand.notes) == (name == "cumsum_float")
    seq, par = _build_and_run(tmp_path, _src(name), name, cand.code, SCAN_CALLS[name], mpi=False)
    _same(seq, par)


@pytest.mark.mpi
@pytest.mark.parametrize("name", sorted(SCAN_CALLS))
def test_mpi_scans_with_exscan(tmp_path, name):
    cand = _cand(name, Target.MPI)
    assert "MPI_Exscan" in cand.code
    seq, par = _build_and_run(tmp_path, _src(name), name, cand.code, SCAN_CALLS[name], mpi=True)
    _same(seq, par)


def test_scan_shapes_that_are_not_two_pass_scans_stay_sequential():
    cond = ("void f(int n, const int *x, int *y) { int s = 0; "
            "for (int i = 0; i < n; i++) { if (x[i] > 0) s += x[i]; y[i] = s; } }")
    with pytest.raises(NotParallelizable, match="loop-carried dependence on scalar 's'"):
        RuleBasedTranslator().propose(build_task(cond, "c", "f", Target.OPENMP), Target.OPENMP)
    feedback = ("void g(int n, int *y) { int s = 1; "
                "for (int i = 1; i < n; i++) { s += y[i - 1]; y[i] = s; } }")
    with pytest.raises(NotParallelizable):
        RuleBasedTranslator().propose(build_task(feedback, "c", "g", Target.OPENMP), Target.OPENMP)


@pytest.mark.nvcc
@pytest.mark.parametrize("name", ["cumsum_int", "counts_to_offsets"])
def test_cuda_scan_compiles_as_two_kernels_around_a_host_scan(tmp_path, name):
    import subprocess
    cand = _cand(name, Target.CUDA)
    assert "_sums<<<" in cand.code and "_scan<<<" in cand.code and "prefix sum" in cand.notes
    (tmp_path / "k.cu").write_text(cand.code)
    r = subprocess.run(["nvcc", "-O2", "-c", str(tmp_path / "k.cu"), "-o", str(tmp_path / "k.o")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]


# ---------------------------------------------------------------------------------------------- sandbox

def _verify(name: str, target: Target):
    from paralift.sandbox import VerifyOptions, verify
    src = _src(name)
    task = build_task(src, "c", MANIFEST[name]["function"], target, str(KERNELS / MANIFEST[name]["file"]))
    cand = RuleBasedTranslator().propose(task, target)[0]
    return verify(task, cand, options=VerifyOptions(timing=False))


# the default run verifies one strided and one reassociated kernel; the histogram's suite (race cases of a
# million samples) takes minutes on a shared machine
QUICK = [pytest.param("axpy_inc"), pytest.param("cumsum_float"), pytest.param("hist_small", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", QUICK)
def test_new_kernels_verify_for_openmp(name):
    v = _verify(name, Target.OPENMP)
    assert v.verified, v.reason
    assert v.tests_passed == v.tests_total >= 8


@pytest.mark.slow
@pytest.mark.parametrize("target", [Target.OPENMP, Target.MPI, Target.CUDA], ids=["openmp", "mpi", "cuda"])
@pytest.mark.parametrize("name", NEW)
def test_every_new_kernel_verifies_or_names_its_obstacle(name, target):
    if target == Target.MPI and shutil.which(str(Path(__import__("sys").executable).parent / "mpicc")) is None:
        pytest.skip("mpicc not found")
    v = _verify(name, target)
    assert v.verified, v.reason


# ------------------------------------------------------------------------------- CUDA (CPU emulation)

CUDA_DRIVERS = {
    # few bins: the per-block shared-memory copy (61 x blocks <= samples); many: global atomics
    "hist_small": """
int main(void) {
    const int n = 200000; int *lab = (int *)malloc(sizeof(int) * n);
    int *a = (int *)malloc(sizeof(int) * 6000), *b = (int *)malloc(sizeof(int) * 6000); int bad = 0;
    for (int nb = 61; nb <= 5000; nb += 4939) {
        for (int k = 0; k < n; k++) lab[k] = (int)(((long long)k * 7919) % nb);
        seq_hist_small(n, lab, nb, a); hist_small(n, lab, nb, b);
        for (int k = 0; k < nb; k++) bad += a[k] != b[k];
    }
    printf("%s %d\\n", bad ? "FAIL" : "PASS", bad); return 0;
}
""",
    "counts_to_offsets": """
int main(void) {
    const int n = 100000; int *c = (int *)malloc(sizeof(int) * (n + 2)), *d = (int *)malloc(sizeof(int) * (n + 2));
    int *o1 = (int *)malloc(sizeof(int) * (n + 1)), *o2 = (int *)malloc(sizeof(int) * (n + 1)); int bad = 0;
    for (int k = 0; k < n + 2; k++) c[k] = d[k] = (k * 37) % 5;
    bad += seq_counts_to_offsets(n, c, o1) != counts_to_offsets(n, c, o2);
    for (int k = 0; k <= n; k++) bad += o1[k] != o2[k];
    bad += seq_counts_to_offsets(n, c, c) != counts_to_offsets(n, d, d);     /* in place */
    for (int k = 0; k < n + 2; k++) bad += c[k] != d[k];
    bad += seq_counts_to_offsets(n, c + 1, c) != counts_to_offsets(n, d + 1, d);   /* shifted */
    for (int k = 0; k < n + 2; k++) bad += c[k] != d[k];
    printf("%s %d\\n", bad ? "FAIL" : "PASS", bad); return 0;
}
""",
}


@pytest.mark.parametrize("name", sorted(CUDA_DRIVERS))
def test_cuda_histogram_and_scan_on_the_cpu_emulation(tmp_path, name):
    import subprocess
    from paralift.sandbox import cuda_cpu as cc
    if shutil.which("g++") is None:
        pytest.skip("g++ not found")
    cand = _cand(name, Target.CUDA)
    if name == "hist_small":
        assert "__pl_sh" in cand.code and "shared memory" in cand.notes
    seq = _src(name).replace(f"{name}(", f"seq_{name}(", 1)
    prog = cand.code + "\nextern \"C\" {\n" + seq + "\n}\n" + CUDA_DRIVERS[name]
    cpp = tmp_path / "p.cpu.cpp"
    cpp.write_text(cc.rewrite(prog))
    exe = tmp_path / "p"
    b = subprocess.run(cc.build_command([cpp], exe), capture_output=True, text=True, timeout=600)
    assert b.returncode == 0, b.stderr[-3000:]
    for order in ("forward", "reverse"):
        r = subprocess.run([str(exe)], capture_output=True, text=True, env=cc.run_env(order), timeout=300)
        assert r.returncode == 0 and r.stdout.startswith("PASS"), (order, r.stdout, r.stderr[-2000:])


def test_rule_candidates_declare_what_they_call(tmp_path):
    """gcc 14 makes a call to an undeclared function an error (memcpy without <string.h> in the MPI
    histogram built here with a warning only): every C kernel's OpenMP and MPI rule candidate passes
    -Werror=implicit-function-declaration."""
    _need_gcc()
    from paralift.sandbox.toolchains import detect
    tc = detect()
    checked = 0
    for name, k in MANIFEST.items():
        if k["language"] != "c":
            continue
        for target, cc in ((Target.OPENMP, ["gcc", "-fopenmp"]), (Target.MPI, [tc.mpicc.path])):
            if not cc[0]:
                continue
            try:
                cand = _cand(name, target)
            except NotParallelizable:
                continue
            src = tmp_path / f"{name}.{target.value}.c"
            src.write_text(cand.code)
            r = subprocess.run([*cc, "-fsyntax-only", "-Werror=implicit-function-declaration", str(src)],
                               capture_output=True, text=True)
            assert r.returncode == 0, (name, target.value, r.stderr[-800:])
            checked += 1
    assert checked > 100

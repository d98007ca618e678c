"""Mutation operators (text only) and one mutation run in the sandbox."""
import json
from pathlib import Path

import pytest

from paralift.agents.mutation import OPERATORS, classify, code_mask, mutants, tokens
from paralift.types import Target, Verdict

ROOT = Path(__file__).resolve().parent.parent


def ops(code, target="openmp", op=None):
    return mutants(code, target, [op] if op else None)


OMP_SUM = """/* reduction(+:s) in a comment stays; "for (i < n)" too */
double sum(int n, const double *x)
{
    double s = 0.0;
    #pragma omp parallel for reduction(+:s) schedule(static)
    for (int i = 0; i < n; i++)
        s += x[i];
    return s;
}
"""


def test_drop_reduction_and_shrink_bound_on_openmp():
    ms = ops(OMP_SUM)
    by = {m.id: m for m in ms}
    assert set(by) == {"drop_reduction#1", "shrink_bound#1", "shrink_bound#2"}
    assert "reduction(+:s) schedule" not in by["drop_reduction#1"].code
    assert "/* reduction(+:s) in a comment" in by["drop_reduction#1"].code      # comments untouched
    assert "i < (n) - 1" in by["shrink_bound#1"].code
    assert "int i = (0) + 1" in by["shrink_bound#2"].code
    assert all(m.line in (5, 6) for m in ms) and not any(m.equivalent for m in ms)


def test_bounds_of_all_comparison_forms():
    code = "void f(int n, int *a) {\n  for (int i = n - 1; i >= 0; --i) a[i] = 0;\n" \
           "  for (int j = 1; j <= n; j++) a[j - 1] = 1;\n  int k = 0;\n  while (k < n) { a[k] += 1; k++; }\n}\n"
    descs = [m.description for m in ops(code, op="shrink_bound")]
    assert any("i > 0" in d for d in descs) and any("i = (n - 1) - 1" in d for d in descs)
    assert any("j < n" in d for d in descs) and any("j = (1) + 1" in d for d in descs)
    assert any("k < (n) - 1" in d for d in descs)


MPI_BLOCK = """#include <mpi.h>
double dot(int n, const double *x, const double *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int base = n / size, rem = n % size;
    int lo = rank * base + (rank < rem ? rank : rem);
    int hi = lo + base + (rank < rem ? 1 : 0);
    if (rank == size - 1) hi = n;
    double local = 0.0, total = 0.0;
    for (int i = lo; i < hi; i++)
        local += x[i] * y[i];
    MPI_Reduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    return total;
}
"""


def test_mpi_operators():
    ms = ops(MPI_BLOCK, "mpi")
    by = {m.description: m for m in ms}
    red = [m for m in ms if m.operator == "drop_reduction"]
    assert len(red) == 1 and "MPI_Reduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_SELF)" in red[0].code
    rem = [m.description for m in ms if m.operator == "drop_remainder"]
    assert any("n % size" in d for d in rem) and any("rank == size - 1" in d for d in rem)
    bar = [m for m in ms if m.operator == "remove_barrier"]
    assert len(bar) == 1 and "MPI_Barrier" not in bar[0].code and "one-sided" in bar[0].equivalent
    assert "`i < hi` -> `i < (hi) - 1` (last iteration dropped)" in by


def test_cuda_operators():
    code = """__global__ void k(int n, const double *x, double *out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    __shared__ double buf[256];
    buf[threadIdx.x] = i < n ? x[i] : 0.0;
    __syncthreads();
    if (i < n) atomicAdd(out, buf[threadIdx.x]);
}
extern "C" void f(int n, const double *x, double *out) {
    k<<<(n + 255) / 256, 256>>>(n, x, out);
    int blocks = (n + threads - 1) / threads;
}
"""
    ms = ops(code, "cuda")
    d = {m.operator: [x for x in ms if x.operator == m.operator] for m in ms}
    assert any("(n) / 256" in m.code for m in d["drop_remainder"])
    assert any("(n) / threads" in m.code for m in d["drop_remainder"])
    assert any("(*(out) += (buf[threadIdx.x]))" in m.code for m in d["atomic_to_plain"])
    assert any("__syncthreads" not in m.code for m in d["remove_barrier"])
    assert any("i < (n) - 1" in m.code for m in d["shrink_bound"])


def test_cuda_guard_mutants_are_index_guards_only():
    """`if (x[i] < m)` compares data, not an index with its bound: the guard
    operator leaves it alone (it survived as a 'guard one short' that no
    affordable input shows: one element per thread below 65535*256)."""
    code = """__global__ void k(int n, const double *x, double *out) {
    double m = 1e300;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < n; t += blockDim.x * gridDim.x) {
        int i = (int)t;
        if (x[i] < m) m = x[i];
    }
    const int tid = threadIdx.x;
    if (tid < 1) out[blockIdx.x] = m;
    if (threadIdx.x < 2) out[0] = m;
}
"""
    guards = [m for m in ops(code, "cuda", "shrink_bound") if m.description.startswith("guard")]
    assert [m.description for m in guards] == ["guard `tid < 1` one short", "guard `threadIdx.x < 2` one short"]


def test_barriers_privates_atomics_and_equivalences():
    code = """void f(int n, int m, const double *a, double *b, double *c, int *h, const int *k) {
    long i, j;
    #pragma omp parallel
    {
        #pragma omp for
        for (i = 0; i < n; i++) b[i] = a[i];
        #pragma omp barrier
        #pragma omp for private(j)
        for (i = 0; i < n; i++)
            for (j = 0; j < m; j++)
                c[i * m + j] = b[j * n + i];
    }
    #pragma omp parallel for private(i)
    for (i = 0; i < n; i++) {
        #pragma omp atomic
        h[k[i]]++;
    }
}
"""
    ms = ops(code)
    bar = [m for m in ms if m.operator == "remove_barrier"]
    assert len(bar) == 3                       # the explicit barrier and two implicit ones
    last = [m for m in bar if m.equivalent]
    assert len(last) == 1 and "ends its parallel region" in last[0].equivalent
    priv = {m.description: m for m in ms if m.operator == "drop_private"}
    assert not priv["`j` removed from `private(...)` (now shared)"].equivalent
    assert "iteration variable" in priv["`i` removed from `private(...)` (now shared)"].equivalent
    at = [m for m in ms if m.operator == "atomic_to_plain"]
    assert len(at) == 1 and "omp atomic" not in at[0].code
    sw = [m for m in ms if m.operator == "swap_index"]
    assert {m.description for m in sw} == {"`[i * m + j]` -> `[j * m + i]`", "`[j * n + i]` -> `[i * n + j]`"}


def test_simd_only_reduction_drop_is_flagged():
    code = """void mv(int m, int n, const double *A, const double *x, double *y) {
    #pragma omp parallel for
    for (int i = 0; i < m; i++) {
        double acc = 0.0;
        #pragma omp simd reduction(+:acc)
        for (int j = 0; j < n; j++) acc += A[i * n + j] * x[j];
        y[i] = acc;
    }
}
double s(int n, const double *x) { double t = 0;
    #pragma omp parallel for simd reduction(+:t)
    for (int i = 0; i < n; i++) t += x[i];
    return t; }
"""
    red = [m for m in ops(code) if m.operator == "drop_reduction"]
    assert len(red) == 2
    assert "simd" in red[0].equivalent and red[1].equivalent == ""      # `parallel for simd` races for real


def test_no_token_identical_or_duplicate_mutants():
    code = "int f(int n) { int s = 0;\n #pragma omp parallel for reduction(+:s)\n" \
           " for (int i = 0; i < n; i++) s += (i + 0) / 1; return s; }\n"
    ms = ops(code)
    assert not any(m.operator == "drop_remainder" for m in ms)     # (i + 0) / 1 is no ceil-division
    codes = [tuple(tokens(m.code)) for m in ms]
    assert len(set(codes)) == len(codes) and tuple(tokens(code)) not in codes
    assert ops("int f(void) { return 0; }") == []


def test_swap_index_skips_swaps_that_keep_the_value():
    code = """void g(int N, const int *in, int *out) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            for (int di = -1; di <= 1; di++)
                out[i * N + j] += in[(i + di) * N + (j)] + in[(long)(i + di) * N + j];
}
"""
    sw = [m.description for m in ops(code, op="swap_index")]
    assert "`[i * N + j]` -> `[j * N + i]`" in sw
    assert "`[(i + di) * N + (j)]` -> `[(j + di) * N + (i)]`" in sw          # not the no-op `(di + i)`
    assert not any("(di + i)" in d for d in sw)


def test_mask_keeps_offsets():
    code = 'x = "a[i*m+j] % size"; // for (i = 0; i < n; i++)\n/* #pragma omp barrier */ y;'
    mask = code_mask(code)
    assert len(mask) == len(code) and "for" not in mask and "pragma" not in mask and mask.endswith("y;")


def test_every_operator_has_a_site_in_the_hand_written_candidates():
    seen = set()
    for f in (ROOT / "tests/candidates").glob("*/*_ok.*"):
        target = "cuda" if f.suffix == ".cu" else "mpi" if f.name.startswith("mpi") else "openmp"
        seen |= {m.operator for m in mutants(f.read_text(), target)}
    assert set(OPERATORS) - seen <= {"drop_private", "atomic_to_plain"} and len(seen) >= 5


def test_classification():
    from paralift.agents.mutation import Mutant
    m = Mutant("x#1", "drop_reduction", 1, "d", "")
    assert classify(m, Verdict(Target.OPENMP, status="verified", tests_passed=3, tests_total=3)).status == "survived"
    m.equivalent = "because"
    assert classify(m, Verdict(Target.OPENMP, status="verified")).status == "equivalent"
    assert classify(m, Verdict(Target.OPENMP, status="failed", built=False, reason="does not compile")).status == "stillborn"
    assert classify(m, Verdict(Target.OPENMP, status="failed", policy_ok=False)).status == "stillborn"
    v = Verdict(Target.OPENMP, status="failed", built=True, reason="data race: x (the tests passed on this run, but ...)")
    assert classify(m, v).status == "equivalent"          # flagged, and no test failed
    m.equivalent = ""
    assert classify(m, v).status == "static"
    v = Verdict(Target.OPENMP, status="failed", built=True, reason="wrong result on test t", tests_passed=1, tests_total=2)
    v.failures = [object()]
    assert classify(m, v).status == "killed"


def _task(name):
    from paralift.agents import build_task
    man = {k["name"]: k for k in json.loads((ROOT / "data/kernels/manifest.json").read_text())}
    k = man[name]
    return build_task((ROOT / "data/kernels" / k["file"]).read_text(), k["language"], k["function"])


@pytest.mark.mpi
def test_suite_kills_every_mutant_of_a_correct_mpi_candidate():
    from paralift.agents.mutation import run_mutants
    from paralift.agents.tester import build_suite
    from paralift.types import Candidate
    task = _task("jacobi1d")
    suite = build_suite(task).suite
    code = (ROOT / "tests/candidates/jacobi1d/mpi_ok.c").read_text()
    from paralift.agents.overlap_guard import guard
    # judged as paralift judges a candidate it did not write: with the entry overlap check
    rep = run_mutants(task, guard(task, Candidate(code, Target.MPI)), suite)
    assert rep.original_status == "verified"
    ops_seen = {r.mutant.operator for r in rep.results}
    assert {"shrink_bound", "drop_remainder"} <= ops_seen
    assert rep.score() == 1.0, [r.to_json() for r in rep.results if r.status != "killed"]
    js = rep.to_json()
    assert js["per_operator"]["drop_remainder"]["killed"] >= 1 and js["survivors"] == []


@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["sum", "dot", "max_val", "saxpy", "matvec", "spmv_csr"])
def test_mutation_score_of_hand_written_candidates(kernel):
    from paralift.agents.mutation import run_mutants
    from paralift.agents.tester import build_suite
    from paralift.types import Candidate
    task = _task(kernel)
    suite = build_suite(task).suite
    for f in sorted((ROOT / "tests/candidates" / kernel).glob("*_ok.c")):
        target = Target.MPI if f.name.startswith("mpi") else Target.OPENMP
        rep = run_mutants(task, Candidate(f.read_text(), target), suite, workers=1)
        assert rep.original_status == "verified", rep.original_reason
        assert rep.verify_score() in (None, 1.0), [r.to_json() for r in rep.results if r.status == "survived"]

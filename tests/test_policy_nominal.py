"""Nominal parallelism (issue 25 item 4): a candidate that uses its model in
name only is rejected by policy, so it earns no more than a sequential answer;
real translations (every rule-based candidate, every hand-written passing
candidate) are not flagged."""
import json
from pathlib import Path

import pytest

from paralift.sandbox import VerifyOptions, verify
from paralift.sandbox.policy import check, nominal_parallelism
from paralift.types import Candidate, Target

ROOT = Path(__file__).resolve().parents[1]
SAXPY_SEQ = (ROOT / "examples" / "saxpy.c").read_text()

SAXPY_OMP = """void saxpy(int n, float a, const float *x, float *y)
{
    #pragma omp parallel for CLAUSE
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}
"""


@pytest.mark.parametrize("clause", ["num_threads(1)", "num_threads( 2 - 1 )", "if(0)", "if(false)", "if(parallel: 0)"])
def test_switched_off_openmp_is_nominal(clause):
    why = nominal_parallelism(SAXPY_OMP.replace("CLAUSE", clause), Target.OPENMP)
    assert why.startswith("nominal parallelism") and "one thread" in why


@pytest.mark.parametrize("clause", ["", "num_threads(2)", "if(n > 1000)", "schedule(static) num_threads(4)"])
def test_real_openmp_is_not_nominal(clause):
    assert nominal_parallelism(SAXPY_OMP.replace("CLAUSE", clause), Target.OPENMP) == ""


def test_omp_set_num_threads_1_and_a_switched_off_region_are_nominal():
    code = SAXPY_OMP.replace("CLAUSE", "").replace("{\n", "{\n    omp_set_num_threads(1);\n", 1)
    assert "omp_set_num_threads" in nominal_parallelism(code, Target.OPENMP)
    region = ("void f(int n, double *y) {\n#pragma omp parallel num_threads(1)\n{\n#pragma omp for\n"
              "for (int i = 0; i < n; i++) y[i] *= 2;\n}\n}\n")
    assert nominal_parallelism(region, Target.OPENMP)


# a parallel loop around O(n) initialisation beside a sequential O(n^2) nest
NEGLIGIBLE = """void rowsum(int n, const double *a, double *y)
{
    #pragma omp parallel for
    for (int i = 0; i < n; i++)
        y[i] = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            y[i] += a[i * n + j];
}
"""


def test_a_parallel_loop_beside_a_heavier_sequential_nest_is_nominal():
    why = nominal_parallelism(NEGLIGIBLE, Target.OPENMP)
    assert "O(n^1) of the function's O(n^2) work" in why
    # the same nest with its outer loop parallel is real work division
    real = NEGLIGIBLE.replace("    for (int i = 0; i < n; i++)\n        for", "    #pragma omp parallel for\n"
                              "    for (int i = 0; i < n; i++)\n        for")
    assert nominal_parallelism(real, Target.OPENMP) == ""


@pytest.mark.parametrize("code", [
    # a parallel inner loop of a sequential time loop divides the nest's work
    "void f(int T, int n, double *y) { for (int t = 0; t < T; t++) {\n#pragma omp parallel for\n"
    "for (int i = 1; i < n; i++) y[i] += y[i - 1] * 0.0 + 1; } }",
    # loops of constant trip count add no work degree
    "void f(int n, double *y) {\n#pragma omp parallel for\nfor (int i = 0; i < n; i++)\n"
    "for (int k = 0; k < 3; k++) y[i] += k; for (int i = 0; i < n; i++) for (int k = 0; k < 4; k++) y[i] -= k; }",
    # manual division by thread id, through a helper's parameter
    "#include <omp.h>\nstatic void part(int t, int T, int n, double *y) { for (int i = t; i < n; i += T) y[i] *= 2; }\n"
    "void f(int n, double *y) {\n#pragma omp parallel\n{ part(omp_get_thread_num(), omp_get_num_threads(), n, y); } }",
    # tasks inside a loop
    "void f(int n, double *y) {\n#pragma omp parallel\n#pragma omp single\nfor (int i = 0; i < n; i++) {\n"
    "#pragma omp task\ny[i] *= 2; } }",
])
def test_real_openmp_shapes_are_not_nominal(code):
    assert nominal_parallelism(code, Target.OPENMP) == ""


MPI_RANK0 = """#include <mpi.h>
void saxpy(int n, float a, const float *x, float *y)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
        for (int i = 0; i < n; i++)
            y[i] = a * x[i] + y[i];
    MPI_Bcast(y, n, MPI_FLOAT, 0, MPI_COMM_WORLD);
}
"""

MPI_BLOCKS = """#include <mpi.h>
static void block(int n, int rank, int size, int *lo, int *hi) { *lo = rank * n / size; *hi = (rank + 1) * n / size; }
void saxpy(int n, float a, const float *x, float *y)
{
    int rank, size, lo, hi;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    block(n, rank, size, &lo, &hi);
    for (int i = lo; i < hi; i++)
        y[i] = a * x[i] + y[i];
    int *cnt = malloc(sizeof(int) * size);
    for (int k = 0; k < size; k++) cnt[k] = (k + 1) * n / size - k * n / size;
    MPI_Allgather(MPI_IN_PLACE, 0, MPI_FLOAT, y, cnt[0], MPI_FLOAT, MPI_COMM_WORLD);
}
"""


def test_mpi_work_on_one_rank_is_nominal_and_block_division_is_not():
    assert "no loop's iterations are divided among the ranks" in nominal_parallelism(MPI_RANK0, Target.MPI)
    assert nominal_parallelism(MPI_BLOCKS, Target.MPI) == ""
    # a loop over the ranks (the counts) divides nothing
    only_counts = MPI_BLOCKS.replace("for (int i = lo; i < hi; i++)", "for (int i = 0; i < n; i++)")
    assert nominal_parallelism(only_counts, Target.MPI)
    # scattered data: each rank loops over its local count (derived from the rank count)
    scatter = ("#include <mpi.h>\nvoid f(int n, double *y) { int size; MPI_Comm_size(MPI_COMM_WORLD, &size);\n"
               "int m = n / size; double *buf = malloc(sizeof(double) * m);\n"
               "MPI_Scatter(y, m, MPI_DOUBLE, buf, m, MPI_DOUBLE, 0, MPI_COMM_WORLD);\n"
               "for (int i = 0; i < m; i++) buf[i] *= 2;\n"
               "MPI_Gather(buf, m, MPI_DOUBLE, y, m, MPI_DOUBLE, 0, MPI_COMM_WORLD); }")
    assert nominal_parallelism(scatter, Target.MPI) == ""


@pytest.mark.parametrize("launch, nominal", [
    ("k<<<1, 1>>>(n, y);", True), ("k<<<dim3(1), dim3(1, 1, 1)>>>(n, y);", True),
    ("dim3 g(1), b(1);\n k<<<g, b>>>(n, y);", True), ("k<<<1, 1, 0, 0>>>(n, y); k<<<1,1>>>(n, y);", True),
    ("k<<<(n + 255) / 256, 256>>>(n, y);", False), ("k<<<1, 256>>>(n, y);", False),
    ("k<<<1, 1>>>(n, y); k<<<(n + 255) / 256, 256>>>(n, y);", False),
])
def test_one_thread_cuda_launches(launch, nominal):
    code = ("__global__ void k(int n, double *y) { for (int i = 0; i < n; i++) y[i] *= 2; }\n"
            'extern "C" void f(int n, double *y) { ' + launch + " }\n")
    assert bool(nominal_parallelism(code, Target.CUDA)) is nominal


def test_check_names_it_and_verify_rejects_it_before_running():
    code = SAXPY_OMP.replace("CLAUSE", "num_threads(1)")
    assert any(p.startswith("nominal parallelism") for p in check(code, Target.OPENMP, "saxpy", SAXPY_SEQ))
    from paralift.agents import build_task
    task = build_task(SAXPY_SEQ, "c", "saxpy", Target.OPENMP)
    v = verify(task, Candidate(code, Target.OPENMP), options=VerifyOptions(timing=False))
    assert v.status == "failed" and not v.policy_ok and not v.built
    assert "nominal parallelism" in v.reason


def test_no_real_translation_is_flagged():
    """Every passing hand-written candidate and every rule-based candidate for
    the generator's families and the builtin eval suite, all three targets."""
    from paralift.agents import AnalysisError, NotParallelizable, RuleBasedTranslator, build_task
    from paralift.data import generator
    from paralift.eval import suites
    flagged, checked = [], 0
    for e in json.loads((ROOT / "tests/candidates/manifest.json").read_text()):
        if e["expect"] != "pass":
            continue
        lang = "cpp" if e["file"].endswith(".cpp") else "c"
        checked += 1
        why = nominal_parallelism((ROOT / "tests/candidates" / e["file"]).read_text(), Target.parse(e["target"]), lang)
        if why:
            flagged.append((e["file"], why))
    sources = [(generator.generate(f, s).source, generator.generate(f, s).function, "c")
               for f in generator.FAMILIES for s in (0, 1)]
    sources += [(t.source, t.function, t.language) for t in suites.load_suite("builtin").tasks]
    for src, fn, lang in sources:
        for tg in (Target.OPENMP, Target.MPI, Target.CUDA):
            try:
                cands = RuleBasedTranslator().propose(build_task(src, lang, fn, tg), tg)
            except (AnalysisError, NotParallelizable):
                continue
            for c in cands:
                checked += 1
                why = nominal_parallelism(c.code, tg, lang)
                if why:
                    flagged.append((fn, tg.value, why))
    assert checked > 300 and not flagged, flagged


# A whole-file candidate for a single loop, next to a loop nest it leaves as the sequential file has it.
_TWO_FUNCTIONS = """
#define W 32
void rows(const double *a, double *r, int n) {
    for (int i = 0; i < n; i++) { double s = 0; for (int j = 0; j < W; j++) s += a[i * W + j]; r[i] = s; }
}
double total(const double *x, int n) {
    double s = 0.0;
    PRAGMA
    for (int i = 0; i < n; i++) s += x[i];
    return s;
}
"""


def test_untouched_neighbour_nest_is_not_the_candidates_work():
    seq = _TWO_FUNCTIONS.replace("PRAGMA", "")
    cand = _TWO_FUNCTIONS.replace("PRAGMA", "#pragma omp parallel for reduction(+:s)")
    assert check(cand, Target.OPENMP, "total", seq) == []
    # the function under test always counts: parallelizing a light neighbour instead of its nest is nominal
    seq2 = """
void scale(double *x, int n) {
    for (int i = 0; i < n; i++) x[i] *= 2.0;
}
double pairs(const double *x, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) for (int k = 0; k < n; k++) s += x[i] * x[k];
    return s;
}
"""
    cand2 = seq2.replace("    for (int i = 0; i < n; i++) x[i]", "    #pragma omp parallel for\n    for (int i = 0; i < n; i++) x[i]")
    assert any("nominal parallelism" in v for v in check(cand2, Target.OPENMP, "pairs", seq2))


HIST = (ROOT / "data/kernels/histogram.c").read_text()
HIST_CLEAR_ONLY = HIST.replace("    for (int b = 0;", "    #pragma omp parallel for\n    for (int b = 0;")
HIST_COUNT = HIST.replace("    for (int i = 0; i < n; i++)\n        hist[bin[i]]++;",
                          "    #pragma omp parallel for\n    for (int i = 0; i < n; i++) {\n"
                          "        #pragma omp atomic\n        hist[bin[i]]++;\n    }")


def test_at_a_calls_sizes_a_loop_of_equal_degree_but_few_iterations_is_nominal():
    """A histogram's bin-clearing loop and its count loop are both O(n^1):
    only the sizes tell that parallelizing the clearing loop is nominal."""
    sizes = {"n": 100_000, "nbins": 256}
    assert nominal_parallelism(HIST_CLEAR_ONLY, Target.OPENMP) == ""
    why = nominal_parallelism(HIST_CLEAR_ONLY, Target.OPENMP, scalars=sizes)
    assert "do 0.3% of the iterations" in why
    assert nominal_parallelism(HIST_COUNT, Target.OPENMP, scalars=sizes) == ""
    # a bound that reads memory cannot be evaluated: no judgement by size
    unknown = HIST_CLEAR_ONLY.replace("i < n;", "i < bin[0];")
    assert nominal_parallelism(unknown, Target.OPENMP, scalars=sizes) == ""


def test_the_reward_weighs_a_verified_candidate_at_its_hidden_suites_largest_sizes():
    from paralift.agents import build_task
    from paralift.sandbox.pool import Job
    from paralift.training.rewards import _nominal_at_size, largest_case_scalars
    from paralift.types import ArraySpec, TestCase, TestSuite
    task = build_task(HIST, "c", "histogram", Target.OPENMP)

    def suite(n, nbins):
        small = TestCase("small", {"n": 3, "nbins": 2}, {"bin": ArraySpec(3), "hist": ArraySpec(2)})
        big = TestCase("big", {"n": n, "nbins": nbins}, {"bin": ArraySpec(n), "hist": ArraySpec(nbins)}, tag="large")
        return TestSuite("histogram", [small, big])
    few_bins, many_bins = suite(100_000, 256), suite(100_000, 90_000)
    assert largest_case_scalars(few_bins) == {"n": 100_000, "nbins": 256}
    clear = Candidate(HIST_CLEAR_ONLY, Target.OPENMP)
    assert "iterations" in _nominal_at_size(Job(task, clear, few_bins))
    # the tester's own histogram cases have about as many bins as samples: clearing is half the work there
    assert _nominal_at_size(Job(task, clear, many_bins)) == ""
    assert _nominal_at_size(Job(task, Candidate(HIST_COUNT, Target.OPENMP), few_bins)) == ""

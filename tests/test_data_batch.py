"""sandbox.batch.verify_batch, the corpus builder's judge, on the hand-written
candidates of tests/candidates: wrong candidates share batch binaries with
correct ones, and each is still judged on its own. A wrong one is never
verified, a correct one is verified (or, with fallback=False, left undecided
for `verify`), and a crash or a deadlock of one function never decides
another's verdict."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from paralift.agents import RuleBasedTranslator, build_task
from paralift.agents.overlap_guard import guard
from paralift.agents.tester import generate_tests
from paralift.sandbox.batch import BatchItem, verify_batch
from paralift.sandbox.toolchains import detect
from paralift.sandbox.verify import VerifyOptions
from paralift.types import Candidate, Target

ROOT = Path(__file__).resolve().parents[1]
CANDS = ROOT / "tests" / "candidates"
KERNELS = ROOT / "data" / "kernels"
OPTS = VerifyOptions(timing=False)

pytestmark = pytest.mark.skipif(not (detect().mpicc.found and detect().nvcc.found),
                                reason="needs mpicc and nvcc (the three targets)")

# An OpenMP candidate that dies (SIGSEGV) in the middle of a batch process,
# and an MPI one that deadlocks with two or more ranks.
CRASH_OMP = """#include <stdlib.h>
void saxpy(int n, float a, const float *x, float *y)
{
    #pragma omp parallel for
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
    if (n > 50) { volatile int *p = (int *)0; *p = 1; }
}
"""
DEADLOCK_MPI = """#include <mpi.h>
#include <stdlib.h>
void saxpy(int n, float a, const float *x, float *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    float t = 0;
    if (rank == 1 && n > 50) MPI_Recv(&t, 1, MPI_FLOAT, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    long lo = (long)n * rank / size, hi = (long)n * (rank + 1) / size;
    for (long i = lo; i < hi; i++) y[i] = a * x[i] + y[i];
    int *cnt = (int *)malloc(sizeof(int) * size), *dsp = (int *)malloc(sizeof(int) * size);
    for (int r = 0; r < size; r++) { dsp[r] = (int)((long)n * r / size); cnt[r] = (int)((long)n * (r + 1) / size) - dsp[r]; }
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, y, cnt, dsp, MPI_FLOAT, MPI_COMM_WORLD);
    free(cnt);
    free(dsp);
}
"""


def _manifest():
    kernels = {k["name"]: k for k in json.loads((KERNELS / "manifest.json").read_text())}
    by = defaultdict(list)
    for e in json.loads((CANDS / "manifest.json").read_text()):
        k = kernels[e["kernel"]]
        if k["language"] == "c":
            by[e["kernel"]].append(e)
    return kernels, by


def _item(kernel: dict, entries: list[dict], extra: list[Candidate] = ()) -> tuple[BatchItem, list[str]]:
    source = (KERNELS / kernel["file"]).read_text()
    task = build_task(source, "c", kernel["function"], None)
    suite = generate_tests(task, 0)
    # hand-written candidates carry no overlap check: judged, as paralift judges any candidate it did not
    # write, with the entry check added (the suite makes overlapping calls)
    cands = [guard(task, Candidate((CANDS / e["file"]).read_text(), Target.parse(e["target"]), agent="hand"))
             for e in entries]
    expect = [e["expect"] for e in entries]
    cands += list(extra)
    expect += ["fail"] * len(extra)
    only = {Target.MPI: [c.name for c in suite.cases if not c.name.startswith("race-")]}
    return BatchItem(task, suite, cands, only=only), expect


def _check(items, expects, verdicts, fallback: bool) -> int:
    """Assert the verdicts; returns how many were decided inside the batch."""
    decided = 0
    for it, exp, vs in zip(items, expects, verdicts):
        assert len(vs) == len(it.candidates)
        for cand, e, v in zip(it.candidates, exp, vs):
            what = f"{it.task.function}/{cand.target.value}"
            if e == "fail":
                assert not v.verified, f"{what}: a wrong candidate was verified"
            elif fallback:
                assert v.verified, f"{what}: a correct candidate was rejected: {v.reason}"
            else:
                assert v.verified or v.status == "error", f"{what}: a correct candidate was rejected: {v.reason}"
            if v.verified:
                n = len(it.suite_for(cand.target).cases)
                assert v.tests_passed == v.tests_total == n
            if not any("individually" in line for line in v.logs) and v.status != "error":
                decided += 1
    return decided


def _rule_cuda(kernel: dict, off_by_one: bool = False) -> Candidate:
    """The rule agent's CUDA translation (it includes the C headers it uses, so
    the batch compiles it with the others; the hand-written ones go to
    verify), optionally with its grid-stride loop one element short."""
    source = (KERNELS / kernel["file"]).read_text()
    task = build_task(source, "c", kernel["function"], Target.CUDA)
    code = RuleBasedTranslator().propose(task, Target.CUDA)[0].code
    if off_by_one:
        assert "__pl_t < __pl_n;" in code
        code = code.replace("__pl_t < __pl_n;", "__pl_t < __pl_n - 1;")
    return Candidate(code, Target.CUDA, agent="rule")


def _pick(entries, target, expect, n=0):
    xs = [e for e in entries if e["target"] == target and e["expect"] == expect]
    return xs[n] if n < len(xs) else None


def test_one_batch_judges_each_candidate_on_its_own():
    """Three kernels, each with wrong and correct candidates of all three
    targets in the same batch binaries, and a crashing OpenMP candidate in the
    middle of the OpenMP binary (first in the dispatcher: the rest are rerun)."""
    kernels, by = _manifest()
    items, expects = [], []
    # saxpy: the crash (OpenMP), a wrong MPI chunking, a correct CUDA
    it, ex = _item(kernels["saxpy"], [_pick(by["saxpy"], "mpi", "fail")],
                   [Candidate(CRASH_OMP, Target.OPENMP, agent="hand")])
    it.candidates.insert(1, _rule_cuda(kernels["saxpy"]))
    ex.insert(1, "pass")
    items.append(it), expects.append(ex)
    # sum: correct OpenMP and MPI, a CUDA reduction that misses the last element
    it, ex = _item(kernels["sum"], [_pick(by["sum"], "openmp", "pass"), _pick(by["sum"], "mpi", "pass")])
    it.candidates.append(_rule_cuda(kernels["sum"], off_by_one=True))
    ex.append("fail")
    items.append(it), expects.append(ex)
    # histogram: a racy OpenMP, a correct MPI, a correct CUDA
    it, ex = _item(kernels["histogram"], [_pick(by["histogram"], "openmp", "fail", 1), _pick(by["histogram"], "mpi", "pass")])
    it.candidates.append(_rule_cuda(kernels["histogram"]))
    ex.append("pass")
    items.append(it), expects.append(ex)
    profile: dict = {}
    verdicts = verify_batch(items, OPTS, fallback=False, profile=profile)
    decided = _check(items, expects, verdicts, fallback=False)
    # the correct candidates after the crash in the OpenMP binary and next to
    # the wrong ones elsewhere were decided by the batch, not handed on
    assert verdicts[1][0].verified and verdicts[1][1].verified and verdicts[2][1].verified, \
        [v.reason for v in verdicts[1] + verdicts[2]]
    assert verdicts[0][1].verified and verdicts[2][2].verified, (verdicts[0][1].reason, verdicts[2][2].reason)
    assert verdicts[1][2].status == "failed" and "wrong result" in verdicts[1][2].reason   # the short CUDA loop
    assert not verdicts[0][2].verified                             # the crash
    assert decided >= 8
    # MPI candidates run the suite without its race cases (BatchItem.only)
    assert verdicts[1][1].tests_total == len(items[1].only[Target.MPI]) < len(items[1].suite.cases)
    assert {"reference build", "openmp build", "mpi build", "cuda nvcc gate"} <= set(profile)
    assert all(w >= 0 and c >= 0 and n >= 1 for w, c, n in profile.values())


@pytest.mark.slow
def test_every_hand_written_c_candidate_in_batches():
    """All C kernels' hand-written candidates, in rounds of one candidate per
    kernel and target, plus a deadlocking MPI candidate; with fallback, the
    verdicts equal the manifest's expectations exactly."""
    kernels, by = _manifest()
    rounds: list[list[tuple[str, list[dict], list[Candidate]]]] = []
    for name, entries in sorted(by.items()):
        per_target = defaultdict(list)
        for e in entries:
            per_target[e["target"]].append(e)
        for r in range(max(len(v) for v in per_target.values())):
            while len(rounds) <= r:
                rounds.append([])
            rounds[r].append((name, [v[r] for v in per_target.values() if r < len(v)], []))
    # the deadlock first in the MPI binary, a correct candidate after it
    rounds.append([("saxpy", [], [Candidate(DEADLOCK_MPI, Target.MPI, agent="hand")]),
                   ("sum", [_pick(by["sum"], "mpi", "pass")], [])])
    for rnd in rounds:
        items, expects = [], []
        for name, entries, extra in rnd:
            it, ex = _item(kernels[name], entries, extra)
            items.append(it), expects.append(ex)
        verdicts = verify_batch(items, OPTS, fallback=True)
        _check(items, expects, verdicts, fallback=True)


UB_ON_13 = """void twice(int n, const double *x, double *y) {
    for (int i = 0; i < n; i++) y[i] = 2.0 * x[i];
    if (n == 13) {                /* signed overflow (UBSan) on one input size */
        int big = 2147483647;
        big += n;
        y[0] += (double)(big & 1);
    }
}
"""
TWICE_OMP = """void twice(int n, const double *x, double *y) {
    #pragma omp parallel for
    for (int i = 0; i < n; i++) y[i] = 2.0 * x[i];
}
"""
QUADRATIC = """void lagged(int n, const double *x, double *y) {
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int j = 0; j < n; j++) s += x[j] * (double)(i - j);
        y[i] = s;
    }
}
"""
LAGGED_OMP = QUADRATIC.replace("    for (int i = 0;", "    #pragma omp parallel for\n    for (int i = 0;", 1)


def test_reference_cases_failing_under_asan_are_discarded_as_verify_does():
    """The sequential code overflows a signed int on one input size: that case
    is discarded (not the whole function), and the batch's verdict counts the
    same tests as verify's on the same suite."""
    from paralift.sandbox.verify import verify
    task = build_task(UB_ON_13, "c", "twice", None)
    suite = generate_tests(task, 0)
    assert any(c.name.endswith("-13") for c in suite.cases)
    cand = guard(task, Candidate(TWICE_OMP, Target.OPENMP, agent="hand"))
    (v,), = verify_batch([BatchItem(task, suite, [cand])], OPTS, fallback=False)
    assert v.verified, v.reason
    assert not any("individually" in line for line in v.logs)
    alone = verify(build_task(UB_ON_13, "c", "twice", Target.OPENMP), cand, suite, OPTS)
    assert alone.verified and v.tests_total == alone.tests_total == len(suite.cases) - 1


def test_cases_far_costlier_than_the_large_case_are_dropped():
    """max_case_ratio: an O(n^2) kernel with a 512-element large case loses
    the 1-D plan's 4099-element case; the verdict counts the cases
    kept, and the item's suite (what a corpus stores) is exactly those."""
    task = build_task(QUADRATIC, "c", "lagged", None)
    suite = generate_tests(task, 0, large=512, race=512)
    names = [c.name for c in suite.cases]
    assert any(n.endswith("-4099") for n in names) and any(n.endswith("-2053") for n in names)
    item = BatchItem(task, suite, [guard(task, Candidate(LAGGED_OMP, Target.OPENMP, agent="hand"))], max_case_ratio=2.0)
    (v,), = verify_batch([item], OPTS, fallback=False)
    assert v.verified, v.reason
    assert {n for n in names if n.endswith("-4099")} <= set(item.dropped_cases)     # 64x the large case's work
    assert not any(n.endswith(("-5", "-7", "-64", "-257")) for n in item.dropped_cases)
    assert v.tests_total == len(item.suite.cases) == len(names) - len(item.dropped_cases)
    assert all(c.name not in item.dropped_cases for c in item.suite.cases)


# `p` shared by every thread, reached through a pointer (which the static race
# check does not follow); at -O2 GCC keeps *q in a register for the whole
# inner loop and every output is right, at -O0 each access goes to memory.
MATMUL_SHARED_VIA_POINTER = """void matmul(int m, int n, int k, const double *A, const double *B, double *C)
{
    long i, j, p;
    long *q = &p;
    #pragma omp parallel for collapse(2) private(j)
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            double s = 0.0;
            for (*q = 0; *q < k; ++*q)
                s += A[i * k + *q] * B[*q * n + j];
            C[i * n + j] = s;
        }
}
"""


def test_race_stage_and_thread_sanitizer_run_inside_the_batch_as_in_verify():
    """verify's OpenMP race stage (rounds of the race cases, on a -O0 build
    too) and its ThreadSanitizer run of emulated CUDA are part of the batch:
    a loop counter shared through a pointer and a plain update of the result
    between CUDA blocks (the emulation's outputs are all right) are rejected
    by the batch itself, and correct candidates sharing their binaries are
    verified after the same stages."""
    from paralift.agents.mutation import mutants
    kernels, _ = _manifest()
    src = {n: (KERNELS / kernels[n]["file"]).read_text() for n in ("matmul", "dot", "saxpy")}
    tasks = {n: build_task(s, "c", n, None) for n, s in src.items()}
    rule = {(n, t): RuleBasedTranslator().propose(build_task(s, "c", n, t), t)[0].code
            for n, s in src.items() for t in (Target.OPENMP, Target.CUDA)}
    (plain,) = mutants(rule["dot", Target.CUDA], Target.CUDA, ["atomic_to_plain"])
    items = [BatchItem(tasks["matmul"], generate_tests(tasks["matmul"], 0),
                       [guard(tasks["matmul"], Candidate(MATMUL_SHARED_VIA_POINTER, Target.OPENMP, agent="hand"))]),
             BatchItem(tasks["dot"], generate_tests(tasks["dot"], 0),
                       [Candidate(plain.code, Target.CUDA, agent="mutant"),
                        Candidate(rule["dot", Target.OPENMP], Target.OPENMP, agent="rule")]),
             BatchItem(tasks["saxpy"], generate_tests(tasks["saxpy"], 0),
                       [Candidate(rule["saxpy", Target.OPENMP], Target.OPENMP, agent="rule"),
                        Candidate(rule["saxpy", Target.CUDA], Target.CUDA, agent="rule")])]
    profile: dict = {}
    (shared,), (racy, dot_omp), (saxpy_omp, saxpy_cuda) = verify_batch(items, OPTS, fallback=False, profile=profile)
    for v in (shared, racy):
        assert v.status == "failed" and not any("individually" in line for line in v.logs), (v.status, v.reason)
    assert "-O0, round" in shared.reason, shared.reason
    # the emulation runs blocks on real threads too, so a large case can show
    # the lost update as a wrong output first; otherwise ThreadSanitizer does
    assert "wrong result" in racy.reason, racy.reason
    assert "ThreadSanitizer: data race" in racy.reason or "(cpu-emulated tsan)" not in racy.reason, racy.reason
    for v in (dot_omp, saxpy_omp, saxpy_cuda):
        assert v.verified, v.reason
    assert any("race stage up to" in line for line in dot_omp.logs), dot_omp.logs
    assert any("cpu-emulated tsan" in line for line in saxpy_cuda.logs), saxpy_cuda.logs
    assert {"openmp build -O0", "openmp run race stage", "cuda emulation tsan build",
            "cuda run cpu-emulated tsan"} <= set(profile)

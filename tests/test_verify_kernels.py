"""Hand-written correct and wrong parallel candidates for the kernel set
(tests/candidates/manifest.json): verify must accept every correct one and
reject every wrong one (race, off-by-one, remainder, wrong reduction, ...)."""
import json
from pathlib import Path

import pytest

from paralift.agents import build_task, detect_language
from paralift.sandbox import VerifyOptions, verify
from paralift.sandbox.pool import Job, verify_many
from paralift.types import Candidate, Target

ROOT = Path(__file__).resolve().parent.parent
CANDS = ROOT / "tests" / "candidates"
KERNELS = ROOT / "data" / "kernels"


def _entries():
    path = CANDS / "manifest.json"
    if not path.exists():
        return []
    kernels = {k["name"]: k for k in json.loads((KERNELS / "manifest.json").read_text())}
    out = []
    first_wrong: set[tuple[str, str]] = set()
    for e in json.loads(path.read_text()):
        k = kernels[e["kernel"]]
        marks = [pytest.mark.mpi] if e["target"] == "mpi" else [pytest.mark.nvcc] if e["target"] == "cuda" else []
        if e["target"] == "cuda" and e["kernel"] not in ("saxpy", "histogram"):
            marks.append(pytest.mark.slow)   # CPU emulation builds cost ~10 s each
        if e["target"] == "mpi" and e["expect"] == "fail":
            # the default run keeps one wrong MPI candidate per kernel (mpirun
            # start-ups dominate); `-m slow` runs the rest
            if (e["kernel"], "mpi") in first_wrong:
                marks.append(pytest.mark.slow)
            first_wrong.add((e["kernel"], "mpi"))
        out.append(pytest.param(e, k, id=f"{e['kernel']}-{Path(e['file']).name}", marks=marks))
    return out


OPTS = VerifyOptions(timing=False)


@pytest.mark.parametrize("entry, kernel", _entries())
def test_candidate_verdict_matches_expectation(entry, kernel):
    src_path = KERNELS / kernel["file"]
    source = src_path.read_text()
    language = detect_language(str(src_path), source)
    target = Target.parse(entry["target"])
    task = build_task(source, language, kernel["function"], target, str(src_path))
    code = (CANDS / entry["file"]).read_text()
    v = verify(task, Candidate(code, target, agent="hand"), options=OPTS)
    if entry["expect"] == "pass":
        assert v.verified, f"a correct candidate was rejected: {v.reason}"
        assert v.tests_total >= 5
    else:
        assert not v.verified, f"a wrong candidate ({entry.get('bug')}) was verified"
        assert v.status == "failed" and v.reason, v
        if v.failures:
            assert v.failures[0].detail


def test_enough_kernels_are_covered():
    entries = [p.values[0] for p in _entries()]
    if not entries:
        pytest.skip("tests/candidates/manifest.json not written yet")
    for target in ("openmp", "mpi"):
        kernels = {e["kernel"] for e in entries if e["target"] == target}
        wrong = {e["kernel"] for e in entries if e["target"] == target and e["expect"] == "fail"}
        assert len(kernels) >= 8 and len(wrong) >= 8, (target, kernels, wrong)


MATMUL_SHARED_P = """#include <omp.h>
void matmul(int m, int n, int k, const double *A, const double *B, double *C)
{
    long i, j, p;
    #pragma omp parallel for collapse(2) private(j)
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            double s = 0.0;
            for (p = 0; p < k; p++)
                s += A[i * k + p] * B[p * n + j];
            C[i * n + j] = s;
        }
}
"""


def test_a_shared_inner_loop_counter_fails_a_test_at_O0():
    """`p` missing from private(...): at -O2 GCC keeps it in a register and no
    output shows the race; the -O0 build of the race/longest case does."""
    kernels = {k["name"]: k for k in json.loads((KERNELS / "manifest.json").read_text())}
    k = kernels["matmul"]
    task = build_task((KERNELS / k["file"]).read_text(), k["language"], k["function"], Target.OPENMP)
    v = verify(task, Candidate(MATMUL_SHARED_P, Target.OPENMP, agent="hand"), options=OPTS)
    assert not v.verified
    assert any("-O0" in f.config for f in v.failures), (v.reason, [(f.name, f.config) for f in v.failures])
    ok = MATMUL_SHARED_P.replace("private(j)", "private(j, p)")
    v = verify(task, Candidate(ok, Target.OPENMP, agent="hand"), options=OPTS)
    assert v.verified, v.reason


@pytest.mark.nvcc
def test_a_plain_update_across_blocks_fails_under_thread_sanitizer():
    """The rule-based CUDA dot with its atomicAdd of each block's partial made a
    plain `+=`: one read-modify-write per block, which the emulation (fibers
    switch at barriers only) never interleaves, so every output is right; the
    ThreadSanitizer run reports the race between blocks."""
    from paralift.agents import RuleBasedTranslator
    from paralift.agents.mutation import mutants
    kernels = {k["name"]: k for k in json.loads((KERNELS / "manifest.json").read_text())}
    k = kernels["dot"]
    task = build_task((KERNELS / k["file"]).read_text(), k["language"], k["function"], Target.CUDA)
    code = RuleBasedTranslator().propose(task, Target.CUDA)[0].code
    (plain,) = [m for m in mutants(code, Target.CUDA, ["atomic_to_plain"])]
    v = verify(task, Candidate(plain.code, Target.CUDA, agent="mutant"), options=OPTS)
    if v.executor != "cpu-emulated":
        pytest.skip("runs on a GPU here")
    assert not v.verified
    # a lost update seen in the outputs (in either block order: verification stops at the first failing
    # case), or else the detector must report the race
    assert any((f.config.endswith("tsan") and "ThreadSanitizer" in f.detail) or "reverse" in f.config
               or f.detail.startswith("return value =") for f in v.failures), \
        (v.reason, [(f.name, f.config, f.detail) for f in v.failures])
    v = verify(task, Candidate(code, Target.CUDA, agent="rule"), options=OPTS)
    assert v.verified, v.reason

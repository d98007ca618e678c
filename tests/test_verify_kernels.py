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

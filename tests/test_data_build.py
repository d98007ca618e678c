"""`paralift data build` / `data verify`: a small real build (real gcc, mpicc,
nvcc gate and CUDA emulation through the sandbox), loaded with datasets,
resumed without redoing work, and re-verified from the stored tests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paralift.agents import build_task
from paralift.agents.plan import apply_plan
from paralift.jsonl import record_suite
from paralift.types import Target
from paralift.sandbox.toolchains import detect

ROOT = Path(__file__).resolve().parents[1]
# Default run: two parallel families and one that must stay sequential, all
# three targets. The 6-family x 2-seed build is the slow test at the end.
FAMILIES = "map_axpy,reduce_sum,recurrence"

pytestmark = pytest.mark.skipif(not (detect().mpicc.found and detect().nvcc.found),
                                reason="needs mpicc and nvcc (the three targets)")


def _cli(*args, timeout=900):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "paralift", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    r = _cli("data", "build", "--out", str(out), "--families", FAMILIES, "--count", "1", "--seed", "3",
             "--batch-size", "8", "--workers", "1", "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    return out, json.loads(r.stdout), r.stderr


def test_build_writes_verified_examples_for_three_targets(corpus):
    out, stats, _ = corpus
    assert stats["examples"] >= 5
    assert set(stats["per_target"]) == {"openmp", "mpi", "cuda"}
    recs = [json.loads(l) for s in ("train", "validation", "test") for l in (out / f"{s}.jsonl").read_text().splitlines()]
    assert len(recs) == stats["examples"]
    for r in recs:
        for key in ("id", "family", "source_lang", "target", "source", "reference", "tests", "provenance", "verified",
                    "prompt", "completion", "function"):
            assert key in r, key
        assert r["verified"] is True
        assert isinstance(r["tests"], str)            # one column type in every split (DESIGN.md §5)
        suite = record_suite(r)
        assert suite.function == r["function"] and len(suite.cases) >= 10
        assert r["completion"].rstrip().endswith("```") and r["prompt"].rstrip().endswith("```" + ("cuda" if r["target"] == "cuda" else "c"))
        assert r["family"] != "recurrence"          # must stay sequential: never an example
        # the verified plan: applying it gives the verified translation again
        if r["plan"]:                                # '' only where the function was rewritten first
            task = build_task(r["source"], "c", r["function"], Target.parse(r["target"]))
            assert apply_plan(task, r["plan"], r["target"])[0] == r["reference"], r["id"]
    assert all(r["plan"] for r in recs)             # none of these families is rewritten
    # one kernel's targets share a split
    by_unit = {}
    for r in recs:
        by_unit.setdefault((r["family"], r["seed"]), set()).add(r["split"])
    assert all(len(v) == 1 for v in by_unit.values())
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlicense: apache-2.0")
    for needle in ("## Verification rate per agent", "## Decontamination", "| rule |", "| map_axpy |", "Per family, target and split"):
        assert needle in card, needle
    assert stats["agents"]["rule"]["declined"] >= 3           # the recurrence, for each target
    assert stats["units"].get("ok", 0) == 3
    assert 0 < stats["agents"]["rule"]["verification_rate"] <= 1


def test_loads_with_datasets(corpus):
    datasets = pytest.importorskip("datasets")
    import pyarrow.json
    out, stats, _ = corpus
    # datasets cannot load an empty file; the card's configs name only the splits with examples
    files = {s: str(out / f"{s}.jsonl") for s in ("train", "validation", "test") if (out / f"{s}.jsonl").stat().st_size}
    assert f"path: {next(iter(files))}.jsonl" in (out / "README.md").read_text()
    ds = datasets.load_dataset("json", data_files=files)
    assert sum(len(d) for d in ds.values()) == stats["examples"]
    d = next(iter(ds.values()))
    assert {"prompt", "completion", "source", "target", "function"} <= set(d.column_names)
    assert d.features["tests"] == datasets.Value("string")
    assert all(x.features == d.features for x in ds.values())
    # the split files' own Arrow schemas agree, which is what datasets < 5
    # needs (it casts every split to the first one's schema), and no kernel's
    # parameter names appear in it
    schemas = {s: pyarrow.json.read_json(f).schema for s, f in files.items()}
    first = next(iter(schemas.values()))
    assert all(sc == first for sc in schemas.values())
    row = d[0]
    assert record_suite(row).function == row["function"]


def test_resume_does_no_work_twice(corpus):
    out, stats, _ = corpus
    before = (out / "examples.jsonl").read_text()
    r = _cli("data", "build", "--out", str(out), "--families", FAMILIES, "--count", "1", "--seed", "3",
             "--batch-size", "8", "--workers", "1", "--json", timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    again = json.loads(r.stdout)
    assert (out / "examples.jsonl").read_text() == before        # nothing re-verified or appended
    assert again["examples"] == stats["examples"]


def test_data_verify_reverifies_from_stored_tests(corpus, tmp_path):
    out, stats, _ = corpus
    recs = [json.loads(l) for l in (out / "examples.jsonl").read_text().splitlines()]
    pick = {}
    for r in recs:
        pick.setdefault(r["target"], r)
    pick["mpi"] = {**pick["mpi"], "tests": json.loads(pick["mpi"]["tests"])}   # an older corpus: the suite as an object
    sample = tmp_path / "sample.jsonl"
    sample.write_text("".join(json.dumps(r) + "\n" for r in pick.values()))
    r = _cli("data", "verify", str(sample), "--json")
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    res = json.loads(r.stdout)
    assert res["checked"] == len(pick) == 3 and res["verified"] == 3
    # a corrupted example is caught by the same check
    bad = dict(pick["openmp"])
    bad["reference"] = bad["reference"].replace("#pragma omp", "#pragma omp parallel for\n#pragma omp", 1) \
        if "reduction" in bad["reference"] else bad["reference"].replace("[", "[1+", 1)
    bad_f = tmp_path / "bad.jsonl"
    bad_f.write_text(json.dumps(bad) + "\n")
    r = _cli("data", "verify", str(bad_f), "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["verified"] == 0



def test_a_sample_keeps_its_full_builds_cost_per_example(corpus, tmp_path):
    # A sample's card shows its full build's phase table: the per-example
    # cost divides by the examples those batches verified, not the sample's.
    from paralift.data.build import write_sample
    out, stats, _ = corpus
    sample = write_sample(out, tmp_path / "sample", max_bytes=20_000)
    assert 0 < sample["examples"] < stats["examples"]
    assert sample["phase_examples"] == stats["phase_examples"] == stats["examples"]
    card = (tmp_path / "sample" / "README.md").read_text()
    name, v = next(iter(stats["phases"].items()))
    assert f"| {name} | {v['calls']} | {v['wall_s']} | {v['cpu_s']} | {v['cpu_s'] / stats['examples']:.3f} |" in card

def test_bad_usage_exits_2(tmp_path):
    r = _cli("data", "build", "--out", str(tmp_path / "x"), "--families", "nope", "--count", "1")
    assert r.returncode == 2 and "unknown kernel family" in r.stderr and "Traceback" not in r.stderr
    r = _cli("data", "verify", str(tmp_path / "missing"))
    assert r.returncode == 2 and "does not exist" in r.stderr


@pytest.mark.slow
def test_bigger_build_six_families_two_seeds(tmp_path):
    out = tmp_path / "c6"
    fams = "map_axpy,reduce_sum,stencil_1d,histogram,gather,recurrence"
    r = _cli("data", "build", "--out", str(out), "--families", fams, "--count", "2", "--batch-size", "12", "--json",
             timeout=3000)
    assert r.returncode == 0, r.stderr[-3000:]
    stats = json.loads(r.stdout)
    assert stats["families_with_examples"] == 5 and set(stats["per_target"]) == {"openmp", "mpi", "cuda"}
    r = _cli("data", "verify", str(out), "--json", timeout=3000)
    res = json.loads(r.stdout)
    assert res["checked"] == stats["examples"] == res["verified"], res["failed"][:3]


MATMUL_MAY_ALIAS = """
void mm(int n, double *a, double *b, double *c) {
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
            double s = 0.0;
            for (int k = 0; k < n; ++k)
                s += a[i * n + k] * b[k * n + j];
            c[i * n + j] = s;
        }
}
"""


TIME_STEPS = """
void relax(int steps, int n, const double *w, double *x, double *y) {
    for (int t = 0; t < steps; ++t) {
        for (int i = 0; i < n; ++i)
            y[i] = w[i] * x[i];
        for (int i = 0; i < n; ++i)
            x[i] = 0.5 * y[i] + 1.0;
    }
}
"""


def test_corpus_leaves_out_a_parallel_region_per_outer_iteration():
    # the time loop carries x from step to step: only the loops inside it are
    # parallel, which would fork and join (or launch) once per step
    from paralift.data.build import _propose
    for target in ("openmp", "cuda"):
        cands, why = _propose("rule", TIME_STEPS, "relax", target)
        assert cands == [] and f"left out for {target}" in why and "sits inside the sequential loop" in why
    # pointers that may overlap no longer force the inner loop: the outer one is parallel behind a
    # run-time overlap check (issue 22)
    cands, why = _propose("rule", MATMUL_MAY_ALIAS, "mm", "openmp")
    assert why == "" and len(cands) == 1
    code = cands[0].code
    assert "overlapping arguments" in code and code.rindex("#pragma omp parallel") < code.rindex("for (int j")
    const = MATMUL_MAY_ALIAS.replace("double *a, double *b", "const double *a, const double *b")
    cands, why = _propose("rule", const, "mm", "openmp")
    assert why == "" and len(cands) == 1 and "#pragma omp parallel for" in cands[0].code
    assert cands[0].code.rindex("#pragma omp parallel") < cands[0].code.rindex("for (int j")   # after the fallback

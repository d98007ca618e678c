"""`paralift data build --timing`: a real build of one family for the three
targets that also measures each verified translation (sandbox.verify.measure)
and records its speedup, interval and the machine's load in the `timing`
field; CUDA without a GPU is recorded as not timed, with the reason. Off by
default: a build without --timing has an empty field."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paralift.sandbox.toolchains import detect

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not (detect().mpicc.found and detect().nvcc.found),
                                reason="needs mpicc and nvcc (the three targets)")


def _build(out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "paralift", "data", "build", "--out", str(out), "--families",
                           "reduce_sum", "--count", "1", "--seed", "3", "--batch-size", "8", "--workers", "1",
                           "--json", *extra], capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)


def _records(out: Path) -> list[dict]:
    return [json.loads(l) for s in ("train", "validation", "test") if (out / f"{s}.jsonl").exists()
            for l in (out / f"{s}.jsonl").read_text().splitlines()]


def test_timed_build_records_speedups_with_intervals(tmp_path):
    out = tmp_path / "timed"
    r = _build(out, "--timing", "--timing-cap", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    stats = json.loads(r.stdout)
    recs = _records(out)
    assert {x["target"] for x in recs} == {"openmp", "mpi", "cuda"}
    emulated_cuda = False
    for rec in recs:
        t = json.loads(rec["timing"])
        assert set(t) >= {"speedup", "ci_low", "ci_high", "runs", "workers", "load", "contended", "reason"}
        if rec["target"] == "cuda" and t["speedup"] is None:
            emulated_cuda = True
            assert "GPU" in t["reason"]
            continue
        # a real measurement: a positive speedup inside its own 95 % interval, pairs of runs, the load
        assert t["speedup"] > 0 and t["runs"] >= 2 and t["workers"] >= 1, t
        assert t["ci_low"] <= t["speedup"] and (t["ci_high"] is None or t["speedup"] <= t["ci_high"]), t
        assert t["sequential_s"] > 0 and t["candidate_s"] > 0 and "cores" in t["load"], t
    timed = stats["timing"]
    assert timed["openmp"]["with_speedup"] == 1 and timed["mpi"]["with_speedup"] == 1
    assert timed["openmp"]["geomean_speedup"] == round(json.loads(
        next(x for x in recs if x["target"] == "openmp")["timing"])["speedup"], 3)
    if emulated_cuda:
        assert timed["cuda"] == {"timed": 1, "with_speedup": 0, "faster": 0, "contended": 0,
                                 "geomean_speedup": None, "median_speedup": None}
    assert stats["config"]["timing"] is True
    card = (out / "README.md").read_text()
    assert "Measured speedups (`--timing`" in card
    if importlib.util.find_spec("datasets"):
        import datasets
        files = {s: str(out / f"{s}.jsonl") for s in ("train", "validation", "test")
                 if (out / f"{s}.jsonl").exists() and (out / f"{s}.jsonl").read_text().strip()}
        ds = datasets.load_dataset("json", data_files=files, cache_dir=str(tmp_path / "hf"))
        assert sum(len(d) for d in ds.values()) == len(recs)


def test_timing_is_off_by_default_and_the_field_is_empty(tmp_path):
    out = tmp_path / "plain"
    r = _build(out, "--targets", "openmp")
    assert r.returncode == 0, r.stderr[-3000:]
    stats = json.loads(r.stdout)
    recs = _records(out)
    assert recs and all(x["timing"] == "" for x in recs)
    assert "timing" not in stats and stats["config"]["timing"] is False


def test_bad_timing_cap_exits_2(tmp_path):
    r = _build(tmp_path / "x", "--timing", "--timing-cap", "0")
    assert r.returncode == 2 and "--timing-cap" in r.stderr

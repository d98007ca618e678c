"""The harness end to end on a small subset (no timing): stages, resume,
re-scoring, executors giving identical metrics, the CLI's exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paralift.eval import runner, suites
from paralift.eval.executors import Executor, make_executor

ROOT = Path(__file__).resolve().parents[1]
TASKS = ["saxpy", "sum", "linear_recurrence"]


def _cfg(**kw):
    base = dict(targets=("openmp", "mpi"), backends=("rule", "gcc-autopar"), ks=(1, 2), timing=False)
    base.update(kw)
    return runner.EvalConfig(**base)


def _suite(targets=("openmp", "mpi")):
    return suites.load_suite("builtin").subset(TASKS, list(targets))


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-local")
    summary = runner.run(_suite(), _cfg(), out, executor_kind="local", jobs=2, plots=True,
                         stdout=open(os.devnull, "w"))
    return out, summary


def _results(summary):
    return json.loads(json.dumps(summary["results"]))


def test_run_writes_every_artifact(local_run):
    out, summary = local_run
    for name in ("run.json", "generations.jsonl", "samples.jsonl", "summary.json", "summary.md",
                 "pass_at_k.png", "speedup.png"):
        assert (out / name).exists(), name
    gens = runner.read_jsonl(out / "generations.jsonl")
    samples = runner.read_jsonl(out / "samples.jsonl")
    assert len(gens) == len(samples) == 3 * 2 + 3      # rule x 3 tasks x 2 targets + gcc-autopar x 3 (openmp only)
    rows = {(r["agent"], r["target"]): r for r in summary["results"]}
    assert set(rows) == {("rule", "openmp"), ("gcc-autopar", "openmp"), ("rule", "mpi")}
    rule = rows[("rule", "openmp")]
    # saxpy and sum are parallel and verify; linear_recurrence (a first-order recurrence) the rule agent declines
    assert rule["problems"] == 3 and rule["passed"] == 2 and rule["declined"]["on_sequential_tasks"] == 1
    assert rule["k"]["1"]["pass"] == pytest.approx(2 / 3) and rule["k"]["1"]["speedup"] is None
    gcc = rows[("gcc-autopar", "openmp")]
    assert gcc["model"] == "gcc -O2 -ftree-parallelize-loops=2" or gcc["model"].startswith("gcc -O2")
    by_task = {r["task"]: r for r in samples if r["agent"] == "gcc-autopar"}
    assert by_task["saxpy"]["built"] and not by_task["saxpy"]["passed"]
    assert "parallelized no loop" in by_task["saxpy"]["reason"]
    assert json.loads((out / "summary.json").read_text())["results"] == _results(summary)


def test_resume_and_rescore_without_reverifying(local_run, tmp_path):
    out, summary = local_run
    work = tmp_path / "copy"
    work.mkdir()
    for name in ("generations.jsonl", "samples.jsonl"):
        (work / name).write_text((out / name).read_text())
    # an interrupted run: the last sample's line is lost, and one line is cut short
    lines = (work / "samples.jsonl").read_text().splitlines()
    (work / "samples.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20] + "\n")
    events = []
    gens = runner.read_jsonl(work / "generations.jsonl")
    records, stats = runner.execute(_suite(), _cfg(), work, Executor(), gens, on_event=events.append)
    assert stats["verified_now"] == 1 and stats["reused"] == len(lines) - 1
    again = runner.score(_suite(), _cfg(), records, work)
    assert _results(again) == _results(summary)
    # re-scoring with other k reads samples.jsonl only
    rescored = runner.score(_suite(), _cfg(ks=(1, 3)), None, work)
    assert set(rescored["results"][0]["k"]) == {"1", "3"}


def test_serial_executor_gives_identical_metrics(local_run, tmp_path):
    _, summary = local_run
    serial = runner.run(_suite(), _cfg(), tmp_path, executor_kind="serial", plots=False,
                        stdout=open(os.devnull, "w"))
    assert _results(serial) == _results(summary)
    assert serial["execution"]["executor"] == "serial" and summary["execution"]["executor"] == "local"


def test_make_executor_choices():
    assert make_executor("serial").name == "serial"
    assert make_executor("local", jobs=1).name == "serial"
    from paralift.errors import UsageError
    with pytest.raises(UsageError):
        make_executor("cloud")


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "paralift.eval", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=120)


@pytest.mark.parametrize("args,msg", [
    (["--to", "fortran"], "unknown target 'fortran'"),
    (["--suite", "nowhere"], "unknown suite 'nowhere'"),
    (["-k", "0"], "-k takes positive integers"),
    (["--tasks", "nope"], "no task 'nope'"),
    (["--backend", "magic"], "unknown backend 'magic'"),
    (["--stage", "dance"], "unknown stage 'dance'"),
])
def test_cli_bad_input_exits_2_with_one_line(args, msg, tmp_path):
    r = _cli(*args, "--out", str(tmp_path), "--no-timing")
    assert r.returncode == 2, r.stderr
    assert msg in r.stderr and len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""


def test_paralift_eval_command_prints_the_table(tmp_path):
    exe = Path(sys.executable).with_name("paralift")
    if not exe.exists():
        pytest.skip("the paralift console script is not installed")
    r = subprocess.run([str(exe), "eval", "--suite", "builtin", "--to", "openmp", "--tasks", "saxpy",
                        "--no-timing", "--no-plots", "-k", "1", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "| rule | openmp | 1 | 1 | 100.0 | 100.0 |" in r.stdout
    assert "verifying" in r.stderr and "verifying" not in r.stdout
    bad = subprocess.run([str(exe), "eval", "--to", "x"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown target" in bad.stderr


def test_harness_time_limit_interrupts_a_hang():
    """A hang inside the harness (here a catastrophic regex, as a policy check
    can hit) becomes that sample's error instead of stalling the run."""
    import re
    import time
    t0 = time.perf_counter()
    with pytest.raises(runner.HarnessTimeout, match="harness limit of 0.3 s"):
        with runner._time_limit(0.3):
            re.match(r"(a+)+$", "a" * 40 + "b")
    assert time.perf_counter() - t0 < 5
    with runner._time_limit(0):          # 0: no limit
        pass

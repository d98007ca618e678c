"""Eval throughput (samples verified per minute) for the local and MPI executors.

    .venv/bin/python benchmarks/bench_eval.py [--tasks saxpy,sum,...] [--to openmp,mpi,cuda]
                                              [--ranks 3] [--jobs N] [--timing] [--repeat 1]

Runs `paralift eval` on the same tasks with the same agents (rule and
gcc-autopar) once per executor, each in a fresh output directory (so every
sample is verified, references included), checks that the metrics agree, and
prints a table. The MPI run is `mpirun -np RANKS python -m mpi4py.futures -m
paralift.eval ...` (RANKS-1 verifying workers). Not a test: timings on a shared
machine are noisy, and without --timing the work is compiles and test runs only.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_TASKS = "saxpy,vec_add,clamp,sum,dot,max_val,matvec,matmul,jacobi1d,histogram,prefix_sum,transpose"


def run_eval(out: Path, args: list[str], mpi_ranks: int | None) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "paralift.eval", *args, "--out", str(out), "--no-plots"]
    if mpi_ranks:
        mpirun = Path(sys.executable).with_name("mpirun")
        cmd = [str(mpirun) if mpirun.exists() else "mpirun", "-np", str(mpi_ranks), sys.executable, "-m",
               "mpi4py.futures", "-m", "paralift.eval", *args, "--out", str(out), "--no-plots"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"bench_eval: {' '.join(cmd[:6])} ... failed:\n{r.stderr[-2000:]}")
    return json.loads((out / "summary.json").read_text()), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=DEFAULT_TASKS)
    ap.add_argument("--to", default="openmp,mpi")
    ap.add_argument("--backend", default="rule,gcc-autopar")
    ap.add_argument("--ranks", type=int, default=3, help="MPI ranks (rank 0 drives, the others verify)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="local worker processes")
    ap.add_argument("--timing", action="store_true", help="also measure speedups (slower; serialized timing)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-mpi", action="store_true")
    a = ap.parse_args()
    args = ["--suite", "builtin", "--to", a.to, "--tasks", a.tasks, "--backend", a.backend, "-k", "1",
            "--timing" if a.timing else "--no-timing"]
    runs = [("local", args + ["--executor", "local", "--jobs", str(a.jobs)], None, a.jobs)]
    if not a.skip_mpi:
        runs.append(("mpi", args, a.ranks, a.ranks - 1))
    rows, results = [], {}
    for name, argv, ranks, workers in runs:
        for rep in range(a.repeat):
            out = Path(tempfile.mkdtemp(prefix=f"paralift-bench-eval-{name}-"))
            try:
                summary, wall = run_eval(out, argv, ranks)
            finally:
                shutil.rmtree(out, ignore_errors=True)
            ex = summary["execution"]
            rows.append((name, workers, ex["verified_now"], ex["wall_s"], ex["samples_per_min"], wall))
            results[name] = summary["results"]
    print(f"cpu cores: {os.cpu_count()}; tasks: {len(a.tasks.split(','))}; targets: {a.to}; agents: {a.backend}; "
          f"timing: {'on' if a.timing else 'off'}")
    print(f"| executor | workers | samples | verify wall (s) | samples/min | command wall (s) |")
    print(f"| --- | --- | --- | --- | --- | --- |")
    for name, workers, n, wall_s, spm, cmd_wall in rows:
        print(f"| {name} | {workers} | {n} | {wall_s:.1f} | {spm:.1f} | {cmd_wall:.1f} |")
    if len(results) == 2:
        same = results["local"] == results["mpi"] if not a.timing else \
            [{k: v for k, v in r.items() if k in ("agent", "target", "problems", "samples", "built", "passed")}
             for r in results["local"]] == \
            [{k: v for k, v in r.items() if k in ("agent", "target", "problems", "samples", "built", "passed")}
             for r in results["mpi"]]
        print(f"metrics identical across executors: {'yes' if same else 'NO'}"
              + (" (verdicts; speedups are measurements)" if a.timing else ""))


if __name__ == "__main__":
    main()

"""Sandbox overhead per run vs the bare binary, and verify throughput.

    .venv/bin/python benchmarks/bench_sandbox.py [--runs 30] [--candidates 12]

Prints a table; not a test (timings on a shared machine are noisy)."""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paralift.sandbox import VerifyOptions, isolation
from paralift.sandbox.pool import Job, verify_many
from paralift.sandbox.toolchains import detect
from paralift.types import Candidate, Param, ParamKind, Role, Signature, Target, Task, ValueKind, ValueSpec


def overhead(runs: int) -> None:
    d = Path(tempfile.mkdtemp(prefix="paralift-bench-"))
    try:
        (d / "t.c").write_text("int main(void) { return 0; }\n")
        subprocess.run([detect().cc.path, "-O2", "t.c", "-o", "t"], cwd=d, check=True)
        bare, boxed = [], []
        for _ in range(runs):     # interleaved
            t0 = time.perf_counter()
            subprocess.run(["./t"], cwd=d, check=True)
            bare.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            r = isolation.run(["./t"], d)
            boxed.append(time.perf_counter() - t0)
            assert r.ok, r.stderr
        mb, ms = statistics.median(bare), statistics.median(boxed)
        print(f"isolation: {r.isolation}")
        print(f"{'bare run (median)':<36}{mb * 1e3:8.2f} ms")
        print(f"{'sandboxed run (median)':<36}{ms * 1e3:8.2f} ms")
        print(f"{'overhead per run':<36}{(ms - mb) * 1e3:8.2f} ms   (target < 30 ms)")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def throughput(n: int) -> None:
    sig = Signature("f", "void", [Param("n", "int", values=ValueSpec(ValueKind.SIZE)),
                                  Param("y", "double", ParamKind.POINTER, False, Role.INOUT, "n")])
    jobs = []
    for k in range(n):
        # distinct tasks, so every job builds its own reference as well
        seq = f"void f(int n, double *y) {{ for (int i = 0; i < n; i++) y[i] = {k + 2}.0 * y[i]; }}\n"
        cand = ("#include <omp.h>\n" + seq.replace("{ for", "{\n#pragma omp parallel for\n for"))
        jobs.append(Job(Task(seq, "c", sig), Candidate(cand, Target.OPENMP)))
    t0 = time.perf_counter()
    verdicts = verify_many(jobs, VerifyOptions(timing=False), quiet=True)
    dt = time.perf_counter() - t0
    ok = sum(v.verified for v in verdicts)
    print(f"{'verify throughput (no timing)':<36}{n / dt * 60:8.1f} candidates/min  "
          f"({ok}/{n} verified, {dt:.1f} s on {os.cpu_count()} cores; each: reference build + ASan filter,"
          f" candidate build, 5 runs)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--candidates", type=int, default=12)
    a = ap.parse_args()
    overhead(a.runs)
    throughput(a.candidates)

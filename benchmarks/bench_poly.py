"""Polybench-style kernels: paralift against the classical tools, in one run.

    .venv/bin/python benchmarks/bench_poly.py [--kernels gemm,lu] [--budget 90] [--runs 5] [--json out.json]

For each kernel of benchmarks/polybench (manifest.json):

1. correctness: every tool's code is judged by sandbox.verify (gcc autopar by
   eval.autopar) on a small case with 1, 2 and 3 threads, and its outputs at
   the benchmark size (2 threads) are compared with the sequential -O3 build's
   before it is timed;
2. search: paralift's candidates (the rule-based translation + restructure
   variants) are searched (agents/search.py, --budget seconds per kernel);
3. timing: one final round, in one process pool, of every tool's binary at
   the benchmark size: the sequential -O3 build and each tool interleaved
   (seq, tool1, tool2, ..., seq, tool1, ...), --runs rounds, fresh
   processes, 2 threads, medians; each tool's outputs at the benchmark size
   are compared with the sequential build's (relative tolerance, as verify).

The timing here is the bench's own (not verify's machine-wide exclusive lock:
on a shared machine that lock can wait for other users' long jobs); the
load of the machine is printed with the table. Columns (speedup over
sequential -O3; '-' when the tool produced nothing parallel, 1.0x in the
geomeans):

* gcc-autopar  the sequential source with gcc -O3 -ftree-parallelize-loops=2
* polly        clang -O3 -mllvm -polly -mllvm -polly-parallel (when clang has Polly)
* rule         paralift's rule-based OpenMP translation
* paralift     what `paralift translate --budget` writes: the fastest verified
               candidate of the search (rule + restructure), or the sequential
               code (1.0x) when even that one measured clearly slower (< 0.9x)

Pluto has no column: polycc is packaged neither for Debian nor on PyPI, so it
could not be installed where this benchmark was written.

A table on stdout and geomeans; not a test.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from paralift.agents import NotParallelizable, RuleBasedTranslator, build_task
from paralift.agents.restructure import DEFAULT_VARIANTS
from paralift.agents.search import Cache, default_cache_path, search
from paralift.sandbox import VerifyOptions
from paralift.sandbox.inputs import eval_extent
from paralift.types import ArraySpec, Target, TestCase, TestSuite

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "benchmarks" / "polybench"
BENCH_VARIANTS = DEFAULT_VARIANTS      # the variants `translate --budget` searches


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")


def make_suite(task, k) -> TestSuite:
    """The benchmark-size case ("bench", checked by the timer) and small shapes for verification: the
    manifest's "small" sizes and variants of them (each size shifted, rectangular), since verify needs
    MIN_SUITE_CASES distinct cases to call anything verified (issue 19)."""
    from paralift.sandbox.inputs import MIN_SUITE_CASES
    small = [("small", k["small"])]
    for j in range(1, MIN_SUITE_CASES):
        small.append((f"small{j}", {n: max(1, v + (j * (i + 1)) % 7 - 2) for i, (n, v) in enumerate(k["small"].items())}))
    sig = task.signature
    cases = []
    for tag, sizes in (*small, ("bench", k["sizes"])):
        arrays = {}
        for i, p in enumerate(sig.params):
            if not p.is_array:
                continue
            n = eval_extent(p.extent, sizes)
            if p.name in k.get("diag_dominant", []):
                side = int(round(math.sqrt(n)))
                rng = np.random.default_rng(1000 + i)
                a = rng.uniform(0.0, 1.0, (side, side)) + side * np.eye(side)
                arrays[p.name] = ArraySpec(n, "explicit", values=a.ravel().tolist())
            else:
                arrays[p.name] = ArraySpec(n, "uniform", 0.0, 1.0, seed=17 * i + len(cases))
        scalars = {p.name: sizes[p.name] if p.name in sizes else 1.5 for p in sig.params if not p.is_array}
        cases.append(TestCase(f"{tag}", scalars, arrays, tag="random"))
    return TestSuite(task.function, cases, generator="bench-poly", seed=0)


# ---------------------------------------------------------------- timing

class Timer:
    """Builds driver binaries for the benchmark case and times them interleaved."""

    def __init__(self, task, suite: TestSuite, runs: int, threads: int = 2, min_s: float = 0.3):
        from paralift.sandbox import inputs
        self.task, self.runs, self.threads = task, runs, threads
        self.sig = task.signature
        self.dir = Path(tempfile.mkdtemp(prefix="paralift-benchpoly-"))
        (self.dir / "in").mkdir()
        case = next(c for c in suite.cases if c.name == "bench")
        inputs.write_case(self.sig, case, self.dir / "in" / "bench.in")
        self.seq = self.build(task.source, ["-O3"], None, "seq")
        t, self.expected = self.run_once(self.seq, 1)
        self.min_s = min_s
        self.reps = max(1, int(math.ceil(min_s / max(t, 1e-6))))
        self._reps: dict[Path, int] = {}
        self.cache: dict[str, tuple] = {}
        self.tag = f"benchpoly-runs{runs}"

    def build(self, code: str, flags: list[str], target, name: str, cc: str | None = None) -> Path:
        from paralift.sandbox import harness
        from paralift.sandbox.toolchains import detect
        d = self.dir / name
        d.mkdir(exist_ok=True)
        (d / "cand.c").write_text(code)
        (d / "driver.c").write_text(harness.driver_source(self.sig, "cand.c", target, "c"))
        r = subprocess.run([cc or detect().cc.path, *flags, "driver.c", "-o", "bin", "-lm"], cwd=d,
                           capture_output=True, text=True, timeout=300)
        if r.returncode:
            raise RuntimeError(f"{name} does not build: {r.stderr.strip().splitlines()[:1]}")
        return d / "bin"

    def run_once(self, binary: Path, reps: int) -> tuple[float, dict]:
        from paralift.sandbox import inputs
        d = binary.parent
        (d / "out").mkdir(exist_ok=True)
        if not (d / "in").exists():
            (d / "in").symlink_to(self.dir / "in")
        env = {**os.environ, "OMP_NUM_THREADS": str(self.threads)}
        r = subprocess.run([str(binary), str(reps), "out", "bench"], cwd=d, env=env, capture_output=True,
                           text=True, timeout=600)
        if r.returncode:
            raise RuntimeError(f"exit {r.returncode}: {r.stderr.strip()[:200]}")
        t = float((d / "out" / "bench.time").read_text().strip()) / reps
        return t, inputs.read_outputs(self.sig, d / "out" / "bench.out")

    def check(self, binary: Path) -> str | None:
        from paralift.sandbox.compare import compare
        _, got = self.run_once(binary, 1)
        return compare(self.expected, got)

    def reps_of(self, binary: Path) -> int:
        """Calls per timed run: the sequential build's, fewer for a binary whose single call is much slower
        (a variant 50x slower would otherwise hold the benchmark for minutes per round)."""
        if binary not in self._reps:
            t, _ = self.run_once(binary, 1)
            self._reps[binary] = max(1, min(self.reps, int(math.ceil(self.min_s / max(t, 1e-6)))))
        return self._reps[binary]

    def times(self, binaries: dict[str, Path]) -> dict[str, list[float]]:
        """Interleaved rounds: seq, each binary, seq, each binary, ..."""
        out = {"seq": []}
        out.update({k: [] for k in binaries})
        reps = {k: self.reps_of(b) for k, b in binaries.items()}
        for _ in range(self.runs):
            out["seq"].append(self.run_once(self.seq, self.reps)[0])
            for k, b in binaries.items():
                out[k].append(self.run_once(b, reps[k])[0])
        return out

    def __call__(self, cand) -> tuple[float, float, float]:
        """search's objective: (speedup, candidate_s, sequential_s) at the benchmark size."""
        key = hashlib.sha256(cand.code.encode()).hexdigest()[:16]
        if key not in self.cache:
            b = self.build(cand.code, ["-O3", "-fopenmp"], Target.OPENMP, "c" + key)
            diff = self.check(b)
            if diff:
                raise RuntimeError(f"wrong output at the benchmark size: {diff}")
            ts = self.times({"cand": b})
            seq, c = statistics.median(ts["seq"]), statistics.median(ts["cand"])
            self.cache[key] = (round(seq / c, 3), c, seq)
        return self.cache[key]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", default="")
    ap.add_argument("--budget", type=float, default=90.0, help="search budget per kernel (s)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cache", default=str(default_cache_path().parent / "bench-poly.json"))
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    manifest = json.loads((KERNELS / "manifest.json").read_text())
    if a.kernels:
        wanted = set(a.kernels.split(","))
        manifest = [k for k in manifest if k["name"] in wanted]
    opts = VerifyOptions(timing=False, cflags=("-O3",), sanitize_inputs=False, repeats=1)
    runs = max(5, a.runs)
    from paralift.eval import autopar
    notes = []
    polly = autopar.polly_clang()
    if polly is None:
        notes.append("polly: skipped (no clang with Polly installed)")
    notes.append("pluto: not measured (no Pluto column)")
    for n in notes:
        print(n, flush=True)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    rule = RuleBasedTranslator()
    cache = Cache(a.cache)
    rows, wrong = [], []
    t0 = time.time()
    print(f"{'kernel':<12} {'seq -O3 (s)':>11} {'gcc-autopar':>11} {'polly':>8} {'rule':>8} {'paralift':>9}  "
          "paralift variant", flush=True)
    for k in manifest:
        path = KERNELS / k["file"]
        src = path.read_text()
        task = build_task(src, "c", k["function"], Target.OPENMP, str(path))
        suite = make_suite(task, k)
        timer = Timer(task, suite, runs)
        # verify (1/2/3 threads, twice) on the small case; the benchmark size is
        # checked by the timer, for every binary, against the sequential build
        vsuite = TestSuite(task.function, [c for c in suite.cases if c.name.startswith("small")], generator="bench-poly")
        row = {"kernel": k["name"]}
        binaries: dict[str, Path] = {}
        # gcc autopar: correctness by eval.autopar (small + benchmark size, 1/2/3 threads)
        va = autopar.verify_autopar(task, autopar.propose(task, 2), vsuite, opts, 2)
        status = va.status
        if status == "failed" and ("did not use" in va.reason or "parallelized no loop" in va.reason):
            status = "sequential"           # GCC parallelized nothing: the sequential program
        row["gcc-autopar"] = {"status": status, "reason": va.reason[:200]}
        if va.status == "verified":
            binaries["gcc-autopar"] = timer.build(src, ["-O3", "-ftree-parallelize-loops=2"], Target.OPENMP, "autopar")
        elif status == "failed":
            wrong.append(f"{k['name']}: gcc-autopar: {va.reason[:120]}")
        # Polly: judged the same way; a build it did not parallelize is still timed (Polly tiles too)
        if polly is not None:
            vp = autopar.verify_autopar(task, autopar.propose_polly(task), vsuite, opts, 2)
            row["polly"] = {"status": vp.status, "reason": vp.reason[:200],
                            "parallel": any(l == "parallel: yes" for l in vp.logs)}
            if vp.status == "verified":
                binaries["polly"] = timer.build(src, ["-O3", *autopar.POLLY_FLAGS[1:], "-lgomp"], Target.OPENMP,
                                                "polly", cc=polly)
            else:
                wrong.append(f"{k['name']}: polly: {vp.reason[:120]}")
        # paralift: rule + restructure variants, searched with the same timer
        extra = []
        try:
            extra = rule.propose(task, Target.OPENMP)
        except NotParallelizable as e:
            row["rule"] = {"status": "sequential", "reason": str(e)[:200]}
        res = search(task, a.budget, vsuite, opts, variants=BENCH_VARIANTS, cache=cache, measure=timer)
        if extra:   # the rule-based translation is always measured, outside the search budget
            rr = search(task, float("inf"), vsuite, opts, variants=[], extra=extra, cache=cache, measure=timer)
            res.tried += rr.tried
            if rr.best is not None and (res.best is None or rr.best_speedup > res.best_speedup):
                res.best, res.best_speedup = rr.best, rr.best_speedup
        for t in res.tried:
            if t.status == "failed":
                wrong.append(f"{k['name']}: {t.variant}: {t.reason[:160]}")
            if t.agent == "rule":
                row["rule"] = {"status": t.status, "reason": t.reason[:200]}
                if t.status == "verified":
                    binaries["rule"] = timer.build(extra[0].code, ["-O3", "-fopenmp"], Target.OPENMP, "rule")
        row["search"] = res.to_json()
        if res.best is not None and res.best_speedup is not None and res.best_speedup < 0.9:
            # translate keeps the sequential code when its best is clearly slower (pipeline.clearly_slower)
            row["paralift"] = {"status": "sequential", "variant": f"- (best {res.best_speedup:.2f}x: kept sequential)",
                               "reason": "every verified variant measured slower than the sequential build"}
        elif res.best is not None:
            row["paralift"] = {"status": "verified", "variant": res.best.model or res.best.agent,
                               "agent": res.best.agent, "notes": res.best.notes}
            binaries["paralift"] = timer.build(res.best.code, ["-O3", "-fopenmp"], Target.OPENMP, "paralift")
        else:
            row["paralift"] = {"status": "sequential", "variant": "-", "reason": "no verified variant"}
        # the final, interleaved round: every tool's binary against the sequential build
        # (outputs at the benchmark size checked first)
        for name, b in list(binaries.items()):
            diff = timer.check(b)
            if diff:
                wrong.append(f"{k['name']}: {name} at the benchmark size: {diff}")
                row[name]["status"] = "failed"
                binaries.pop(name)
        ts = timer.times(binaries)
        seq = statistics.median(ts["seq"])
        row["seq_s"] = seq
        row["seq_runs"] = ts["seq"]
        for name in binaries:
            med = statistics.median(ts[name])
            row[name].update(speedup=round(seq / med, 3), time_s=med, runs=ts[name])
        row["load"] = os.getloadavg()[0]
        shutil.rmtree(timer.dir, ignore_errors=True)
        rows.append(row)
        print(_line(row), flush=True)
    print()
    others = ["gcc-autopar"] + (["polly"] if polly else [])
    cols = others + ["rule", "paralift"]
    gm = {c: geomean([_sp(r.get(c)) for r in rows]) for c in cols}
    print("geomean speedup over sequential -O3 (nothing parallel = 1.0x): "
          + ", ".join(f"{c} {gm[c]:.2f}x" for c in cols))
    ahead = sum(1 for r in rows if _sp(r.get("paralift")) >= max([_sp(r.get(c)) for c in others] + [1.0]) * 0.999)
    print(f"paralift >= the best other tool on {ahead} of {len(rows)} kernels "
          f"(other tools measured here: {', '.join(others)}{'' if not notes else '; ' + '; '.join(notes)})")
    print(f"wrong outputs: {len(wrong)}" + "".join(f"\n  {w}" for w in wrong))
    print(f"wall time {time.time() - t0:.0f} s; load average at end {os.getloadavg()[0]:.2f}")
    if a.json:
        Path(a.json).write_text(json.dumps({"rows": rows, "geomean": gm, "ahead": ahead, "notes": notes,
                                            "wrong": wrong}, indent=1, default=str))
    return 0


def _sp(d) -> float:
    if not d or d.get("status") != "verified" or not d.get("speedup"):
        return 1.0
    return float(d["speedup"])


def _line(row) -> str:
    def cell(d):
        if not d:
            return "-"
        if d.get("status") == "verified":
            return f"{d['speedup']:.2f}x" if d.get("speedup") else "ok"
        return d.get("status", "-")[:10]
    seq = f"{row['seq_s']:.3f}" if row.get("seq_s") else "-"
    return (f"{row['kernel']:<12} {seq:>11} {cell(row.get('gcc-autopar')):>11} {cell(row.get('polly')):>8} "
            f"{cell(row.get('rule')):>8} "
            f"{cell(row.get('paralift')):>9}  {row['paralift'].get('variant', '-')}")


if __name__ == "__main__":
    sys.exit(main())

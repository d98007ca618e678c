"""Rule-based translation over the kernel set: correctness of every output and
speedups at 2 threads / 2 ranks against the sequential -O2 build, next to
GCC's own auto-parallelizer (-O2 -ftree-parallelize-loops=2), in one run.

    .venv/bin/python benchmarks/bench_translate.py [--kernels a,b] [--families blas,scan] [--quick]
                                                   [--max-minutes M] [--targets openmp,mpi,cuda] [--json out.json]

--quick measures a subset that a quiet 2-core machine gets through in about a quarter of an hour: the
first parallelizable kernel of each family, every kernel of the families issue 22 added (BLAS-style
strides, histograms, scans), correctness at 2 threads / 2 ranks only and the timing capped at 3 s per
input profile. --max-minutes stops starting new kernels after that long and lists the ones left out.

Every speedup comes from sandbox.verify's protocol (fresh processes, baseline
interleaved, medians of 5, machine-wide lock). A table on stdout; not a test.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from paralift.agents import NotParallelizable, RuleBasedTranslator, build_task, detect_language
from paralift.sandbox import VerifyOptions, verify
from paralift.types import Target

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "data" / "kernels"


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", default="")
    ap.add_argument("--families", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--max-minutes", type=float, default=0.0)
    ap.add_argument("--targets", default="openmp,mpi")
    ap.add_argument("--no-autopar", action="store_true")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    manifest = json.loads((KERNELS / "manifest.json").read_text())
    if a.kernels:
        wanted = set(a.kernels.split(","))
        manifest = [k for k in manifest if k["name"] in wanted]
    if a.families:
        fams = set(a.families.split(","))
        manifest = [k for k in manifest if k["family"] in fams]
    if a.quick:
        manifest = quick_subset(manifest)
    targets = [Target.parse(t) for t in a.targets.split(",")]
    opts = VerifyOptions(timing=True, timing_workers=2)
    if a.quick:
        opts = VerifyOptions(timing=True, timing_workers=2, threads=(2,), ranks=(2,), repeats=1,
                             timing_cap_s=3.0, timing_max_runs=16, race_rounds=2)
    budget = a.max_minutes * 60 if a.max_minutes else (14 * 60 if a.quick else 0)
    left_out: list[str] = []
    rule = RuleBasedTranslator()
    rows, wrong = [], 0
    t0 = time.time()
    for k in manifest:
        if budget and time.time() - t0 > budget:
            left_out.append(k["name"])
            continue
        path = KERNELS / k["file"]
        src = path.read_text()
        lang = detect_language(str(path), src)
        row = {"kernel": k["name"], "parallel": k["parallel"], "compute_bound": k.get("compute_bound", False)}
        for target in targets:
            task = build_task(src, lang, k["function"], target, str(path))
            try:
                cands = rule.propose(task, target)
            except NotParallelizable as e:
                row[target.value] = {"status": "sequential", "reason": str(e)}
                continue
            v = verify(task, cands[0], options=opts)
            row[target.value] = {"status": v.status, "speedup": v.speedup, "reason": v.reason,
                                 "executor": v.executor}
            if v.status == "failed":
                wrong += 1
        if not a.no_autopar and Target.OPENMP in targets:
            from paralift.eval import autopar
            task = build_task(src, lang, k["function"], Target.OPENMP, str(path))
            v = autopar.verify_autopar(task, autopar.propose(task, 2), None, opts, 2)
            row["gcc-autopar"] = {"status": v.status, "speedup": v.speedup, "reason": v.reason}
        rows.append(row)
        print(_line(row, targets, not a.no_autopar), flush=True)
    print()
    for line in summary(rows, targets, not a.no_autopar and Target.OPENMP in targets):
        print(line)
    for target in targets:
        sp = [r[target.value]["speedup"] for r in rows
              if r.get(target.value, {}).get("status") == "verified" and r["compute_bound"]]
        print(f"geomean {target.value} speedup on compute-bound kernels: {geomean(sp):.2f}x over {len(sp)} kernels")
    if not a.no_autopar and Target.OPENMP in targets:
        sp = [r["gcc-autopar"]["speedup"] or 1.0 for r in rows if r["compute_bound"]]
        print(f"geomean gcc-autopar speedup on compute-bound kernels: {geomean(sp):.2f}x (failed or unparallelized = 1.0x)")
        ahead = sum(1 for r in rows if r.get("openmp", {}).get("status") == "verified"
                    and (r["openmp"]["speedup"] or 0) >= (r["gcc-autopar"].get("speedup") or 1.0))
        print(f"paralift openmp >= gcc-autopar on {ahead} of {len(rows)} kernels")
    print(f"candidates that failed verification: {wrong}; wall time {time.time() - t0:.0f} s")
    if left_out:
        print(f"not measured (time budget of {budget / 60:.0f} min spent): {', '.join(left_out)}")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return 0


# the families issue 22 added: measured whole in a quick run
REACH_FAMILIES = ("blas", "histogram", "scan")


def quick_subset(manifest: list[dict]) -> list[dict]:
    """Every kernel of REACH_FAMILIES, then the first parallelizable kernel of each other family (in manifest
    order): when --max-minutes cuts the run short, what is left out is the families measured before."""
    reach = [k for k in manifest if k["family"] in REACH_FAMILIES]
    seen: set[str] = set()
    rest = []
    for k in manifest:
        if k["family"] not in REACH_FAMILIES and k["parallel"] and k["family"] not in seen:
            rest.append(k)
            seen.add(k["family"])
    return reach + rest


def summary(rows: list[dict], targets, autopar: bool) -> list[str]:
    """Issue 22's figures: each target's geometric-mean speedup over the parallelizable kernels (a kernel
    kept sequential or failed counts 1.0x: the user runs the sequential code), and the kernels where
    paralift is slower than GCC's auto-parallelizer at the same width."""
    out = []
    par = [r for r in rows if r["parallel"]]
    for t in targets:
        sp = [(r.get(t.value) or {}).get("speedup") if (r.get(t.value) or {}).get("status") == "verified" else None
              for r in par]
        sp = [x if x else 1.0 for x in sp]
        out.append(f"geomean {t.value} speedup over the {len(par)} parallelizable kernels: {geomean(sp):.2f}x "
                   f"(sequential or failed = 1.0x)")
        if autopar and t.value in ("openmp", "mpi"):
            behind = [r["kernel"] for r in par if r.get(t.value, {}).get("status") == "verified"
                      and (r[t.value].get("speedup") or 0) < _autopar_speedup(r)]
            out.append(f"{t.value} slower than gcc-autopar on {len(behind)} kernel(s)"
                       + (f": {', '.join(behind)}" if behind else ""))
    return out


def _autopar_speedup(row: dict) -> float:
    ap = row.get("gcc-autopar") or {}
    return (ap.get("speedup") or 1.0) if ap.get("status") == "verified" else 1.0


def _line(row, targets, autopar) -> str:
    def cell(d):
        if not d:
            return "-"
        if d["status"] == "verified":
            return f"{d['speedup']:.2f}x" if d.get("speedup") else "ok"
        return d["status"][:10]
    cells = [f"{row['kernel']:<22}"] + [f"{t.value}={cell(row.get(t.value)):<11}" for t in targets]
    if autopar and "gcc-autopar" in row:
        cells.append(f"gcc-autopar={cell(row['gcc-autopar'])}")
    return " ".join(cells)


if __name__ == "__main__":
    sys.exit(main())

"""Rule-based translation over the kernel set: correctness of every output and
speedups at 2 threads / 2 ranks against the sequential -O2 build, next to
GCC's own auto-parallelizer (-O2 -ftree-parallelize-loops=2), in one run.

    .venv/bin/python benchmarks/bench_translate.py [--kernels a,b] [--families blas,scan] [--quick]
                                                   [--max-minutes M] [--targets openmp,mpi,cuda] [--json out.json]

--quick measures a subset that a quiet 2-core machine gets through in about 12 minutes: the
first parallelizable kernel of each family, every kernel of the families issue 22 added (BLAS-style
strides, histograms, scans), correctness at 2 threads / 2 ranks only and the timing capped at 3 s per
input profile. --max-minutes stops starting new kernels after that long and lists the ones left out.

Each kernel x target is decided the way `paralift translate` decides it (paralift.pipeline): every
rule candidate with the entry overlap check, verified, the pick among the verified ones, and the
sequential code kept when the pick is not faster with confidence (its speedup's 95 % interval reaches
1). Each cell shows the candidate's measured speedup with its interval and that decision ("written" or
"kept sequential"); the summary gives both geometric means: the candidates' and what translate writes
(a sequential function is 1.0x). gcc-autopar's build that parallelized no loop is the sequential program
(1.0x), shown as "no loop" with GCC's reason in the JSON.

Every speedup comes from sandbox.verify's protocol (paired in-process timing against the sequential
build, machine-wide lock). A table on stdout; not a test.
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
    budget = a.max_minutes * 60 if a.max_minutes else (11 * 60 if a.quick else 0)
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
            row[target.value] = decide(rule, task, target, opts)
            if row[target.value]["status"] == "failed":
                wrong += 1
        if not a.no_autopar and Target.OPENMP in targets:
            from paralift.eval import autopar
            task = build_task(src, lang, k["function"], Target.OPENMP, str(path))
            v = autopar.verify_autopar(task, autopar.propose(task, 2), None, opts, 2)
            status = "no loop" if autopar.no_loop_parallelized(v) else v.status
            row["gcc-autopar"] = {"status": status, "speedup": v.speedup, "reason": v.reason,
                                  "ci": list(v.timing.interval()) if v.timing is not None else None}
        rows.append(row)
        print(_line(row, targets, not a.no_autopar), flush=True)
    print()
    for line in summary(rows, targets, not a.no_autopar and Target.OPENMP in targets):
        print(line)
    for target in targets:
        sp = [r[target.value]["speedup"] for r in rows
              if r.get(target.value, {}).get("status") == "verified" and r["compute_bound"]]
        print(f"geomean {target.value} candidate speedup on compute-bound kernels: {geomean(sp):.2f}x "
              f"over {len(sp)} kernels")
    if not a.no_autopar and Target.OPENMP in targets:
        sp = [_autopar_speedup(r) for r in rows if r["compute_bound"]]
        print(f"geomean gcc-autopar speedup on compute-bound kernels: {geomean(sp):.2f}x "
              f"(failed or no loop parallelized = 1.0x)")
        ahead = sum(1 for r in rows if _written(r.get("openmp")) >= _autopar_speedup(r))
        print(f"paralift openmp (as written) >= gcc-autopar on {ahead} of {len(rows)} kernels")
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


def decide(rule, task, target, opts) -> dict:
    """One kernel x target as `paralift translate` decides it (paralift.pipeline): the rule's candidates
    with the entry overlap check, verified with `opts`, the pick among the verified ones and the
    sequential code kept when the pick is not faster with confidence. The cell: status (verified /
    failed / sequential: no candidate), the picked candidate's speedup and 95 % interval, and
    `written`: True when translate writes the candidate, False when it keeps the sequential code."""
    from paralift.agents import NotParallelizable
    from paralift.pipeline import _guard_overlaps, not_faster, select_candidate

    try:
        cands = rule.propose(task, target)
    except NotParallelizable as e:
        return {"status": "sequential", "written": False, "reason": str(e)}
    reasons: list[str] = []
    cands = _guard_overlaps(task, cands, reasons)
    if not cands:
        return {"status": "sequential", "written": False, "reason": reasons[0] if reasons else "no candidate"}
    from paralift.sandbox.pool import Job
    pairs = [(Job(task, c, None), verify(task, c, options=opts)) for c in cands]
    good = [(j, v) for j, v in pairs if v.verified]
    if not good:
        _, v = pairs[0]
        return {"status": v.status, "written": False, "speedup": v.speedup, "reason": v.reason,
                "executor": v.executor}
    _, v = select_candidate(good)
    cell = {"status": "verified", "speedup": v.speedup, "executor": v.executor, "candidates": len(cands),
            "ci": list(v.timing.interval()) if v.timing is not None else None,
            "profiles": {p: round(d["speedup"], 3) for p, d in (v.timing.profiles if v.timing else {}).items()
                         if d.get("speedup")},
            "contended": bool(v.timing and v.timing.contended)}
    cell["written"] = not not_faster(v)
    cell["reason"] = "" if cell["written"] else "not faster than the sequential code with confidence"
    return cell


def _written(cell: dict | None) -> float:
    """The speedup of what translate writes: the candidate's when written, else the sequential code's 1.0x
    (an unmeasured written candidate, CUDA without a GPU, counts 1.0x too)."""
    if not cell or cell.get("status") != "verified" or not cell.get("written"):
        return 1.0
    return cell.get("speedup") or 1.0


def _candidate(cell: dict | None) -> float:
    """The picked candidate's measured speedup, written or not (no verified candidate = 1.0x)."""
    if not cell or cell.get("status") != "verified":
        return 1.0
    return cell.get("speedup") or 1.0


def summary(rows: list[dict], targets, autopar: bool) -> list[str]:
    """Issue 22's figures: each target's geometric-mean speedup over the parallelizable kernels, both ways:
    the candidates' measured speedups (no verified candidate = 1.0x) and what translate writes (a kernel
    kept sequential, failed or not faster with confidence = 1.0x: the user runs the sequential code); and
    the kernels where the written code is slower than GCC's auto-parallelizer at the same width."""
    out = []
    par = [r for r in rows if r["parallel"]]
    for t in targets:
        cells = [r.get(t.value) for r in par]
        cand, written = [_candidate(c) for c in cells], [_written(c) for c in cells]
        n_written = sum(1 for c in cells if c and c.get("status") == "verified" and c.get("written"))
        n_kept = sum(1 for c in cells if c and c.get("status") == "verified" and not c.get("written"))
        out.append(f"geomean {t.value} over the {len(par)} parallelizable kernels: candidates {geomean(cand):.2f}x "
                   f"(no verified candidate = 1.0x); as translate writes {geomean(written):.2f}x "
                   f"({n_written} written, {n_kept} verified but kept sequential, sequential = 1.0x)")
        if autopar and t.value in ("openmp", "mpi"):
            behind = [r["kernel"] for r in par if _written(r.get(t.value)) < _autopar_speedup(r)]
            out.append(f"{t.value} (as written) slower than gcc-autopar on {len(behind)} kernel(s)"
                       + (f": {', '.join(behind)}" if behind else ""))
    if autopar:
        aps = [r.get("gcc-autopar") or {} for r in rows]
        out.append(f"gcc-autopar: parallelized a loop and verified on {sum(1 for d in aps if d.get('status') == 'verified')}"
                   f", parallelized no loop on {sum(1 for d in aps if d.get('status') == 'no loop')}, failed on "
                   f"{sum(1 for d in aps if d.get('status') not in ('verified', 'no loop'))} of {len(rows)} kernels")
    return out


def _autopar_speedup(row: dict) -> float:
    ap = row.get("gcc-autopar") or {}
    return (ap.get("speedup") or 1.0) if ap.get("status") == "verified" else 1.0


def _line(row, targets, autopar) -> str:
    def cell(d):
        if not d:
            return "-"
        if d["status"] == "verified":
            if not d.get("speedup"):
                return "ok (unmeasured)" + ("" if d.get("written", True) else " kept-seq")
            ci = d.get("ci")
            iv = f" [{ci[0]:.2f}-{min(ci[1], 99):.2f}]" if ci else ""
            if "written" not in d:       # gcc-autopar
                return f"{d['speedup']:.2f}x{iv}"
            return f"{d['speedup']:.2f}x{iv} " + ("written" if d["written"] else "kept-seq")
        return d["status"][:10]
    cells = [f"{row['kernel']:<20}"] + [f"{t.value}={cell(row.get(t.value)):<27}" for t in targets]
    if autopar and "gcc-autopar" in row:
        cells.append(f"gcc-autopar={cell(row['gcc-autopar'])}")
    return " ".join(cells)


if __name__ == "__main__":
    sys.exit(main())

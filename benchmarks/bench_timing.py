"""Do paralift's speed measurements decide correctly? (issue 21)

    .venv/bin/python benchmarks/bench_timing.py [--kernels saxpy,dot] [--self-runs 20] [--translations 5]
        [--targets openmp,mpi] [--json F] [--md F] [--min-s 0.2] [--cap 10]
    .venv/bin/python benchmarks/bench_timing.py --from-json F     # re-render the table and markdown

Two checks, with verify's own measurement (sandbox.verify.measure): the
reference and the candidate linked into one driver and called alternately
(ABBA/BAAB blocks after warm-up calls, sandbox.paired), pinned threads and
ranks; per process the interquartile mean of the blocks' log ratios, and
the speedup's 95 % interval a t interval over processes, which are added
until it is within +-5 % or the cap:

A. **A/A**: the sequential build timed against itself (a second copy of it
   linked beside it), --self-runs times per kernel (the reference does not
   depend on the target, so once per kernel). A right measurement's interval
   contains 1.0 (95 % of them should) and is within +-5 % of its point
   (narrow enough to decide).
B. **Stable decisions**: each kernel's correct candidates per target (the
   rule-based translation and the hand-written tests/candidates/<kernel>/*_ok.*
   ones) are verified once (correctness does not depend on timing), then
   timed --translations times; each time the pipeline's selection
   (paralift.pipeline.select_candidate, then not_faster: sequential unless
   faster with confidence) picks a winner. Stable: the same winner every
   time, or winners whose intervals overlap (the sequential code counting
   as [1, 1]).

The JSON file is rewritten after every measurement and an interrupted run
resumes from it (measurements already there are not redone); the machine's
load average and each measurement's `contended` flag are recorded, so a run
on a busy machine shows as such. Results: benchmarks/results/bench_timing-DATE.{json,md}.
Not a test. Expected runtime with the defaults on a quiet 2-core machine:
about 12 minutes (A/A: 6 kernels x 20 measurements, 8 input profiles, about
1 s each; decisions: 12 kernel/target pairs, each verifying 2 candidates
once and timing them 5 times); a loaded machine takes longer, with wider
intervals. --targets openmp alone: about 7 minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KERNELS = "saxpy,dot,histogram,matvec,jacobi2d,spmv_csr"   # the kernels of issue 21
DEFAULT_TARGETS = "openmp,mpi"
EXT_TARGET = {"omp": "openmp", "mpi": "mpi"}
METHOD = ("reference and candidate in one process (sandbox.paired), ABBA/BAAB blocks after warm-up calls; "
          "processes alternate between two layouts of the binary (which copy is linked first); "
          "per process the interquartile mean of the block log ratios; 95 % t interval over processes "
          "with a 0.5 % systematic allowance in quadrature (at least 4, added in pairs until within ±5 % or the cap)")


def load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def kernel_task(name: str, target: str):
    from paralift.agents import build_task, detect_language
    kernels = {k["name"]: k for k in json.loads((ROOT / "data" / "kernels" / "manifest.json").read_text())}
    k = kernels[name]
    path = ROOT / "data" / "kernels" / k["file"]
    src = path.read_text()
    return build_task(src, detect_language(str(path), src), k["function"], target, str(path))


def candidates(kernel: str, task, target: str, refused: dict | None = None) -> list[tuple[str, object]]:
    """(label, Candidate): the rule-based translation and the hand-written correct ones
    (with the entry overlap check; one that cannot take it goes to `refused`, label -> why)."""
    from paralift.agents import NotParallelizable, RuleBasedTranslator
    from paralift.types import Candidate, Target
    out = []
    try:
        for c in RuleBasedTranslator().propose(task, Target.parse(target)):
            out.append(("rule", c))
    except NotParallelizable:
        pass
    from paralift.agents.overlap_guard import guard
    folder = ROOT / "tests" / "candidates" / kernel
    for f in sorted(folder.glob("*_ok.*")) if folder.is_dir() else []:
        if EXT_TARGET.get(f.name.split("_")[0]) == target:
            # judged as paralift judges a candidate it did not write (and as the tests do): with
            # the entry overlap check, so the overlapping-call cases of the suite apply to it too
            try:
                c = guard(task, Candidate(f.read_text(), Target.parse(target), agent="hand"))
            except NotParallelizable as e:
                if refused is not None:
                    refused[f"hand:{f.name}"] = str(e)[:200]
                continue
            out.append((f"hand:{f.name}", c))
    return out


def timing_row(t) -> dict | None:
    if t is None:
        return None
    lo, hi = t.interval()
    p = t.profiles.get(t.profile, {})
    return {"speedup": t.speedup, "ci_low": lo, "ci_high": None if hi == float("inf") else hi, "runs": t.runs,
            "calls": t.calls, "profile": t.profile, "contended": t.contended,
            "other_cores": t.load.get("other_cores"), "loadavg": t.load.get("loadavg_before"),
            "sequential_s": t.sequential_s, "method": p.get("method"),
            "profiles": {name: {k: v for k, v in q.items() if k in ("speedup", "ci_low", "ci_high", "runs", "calls",
                                                                   "method", "process_speedups", "seconds")}
                         for name, q in t.profiles.items()}}


class Budget:
    """The run's wall-clock budget, shared by its parts (A/A per kernel, decisions per kernel and
    target): each part, when it starts, gets an equal share of what is left; within a part each
    repetition gets an equal share of the part's rest. A repetition short of time measures with a
    lower time cap per input profile (verify's timing_cap_s), never below what its processes at
    the least count (sandbox.timing.MIN_PROCESSES) took so far: an interval that would have needed
    more processes then stays wider, as reported; no part is skipped."""

    def __init__(self, seconds: float, parts: int):
        self.deadline = time.monotonic() + seconds
        self.parts_left = max(1, parts)

    def start_part(self) -> float:
        """The share of the next part, in seconds (0 when the budget is spent)."""
        share = max(0.0, self.deadline - time.monotonic()) / self.parts_left
        self.parts_left = max(1, self.parts_left - 1)
        return share


def rep_options(opts, part_end: float, reps_left: int, measures: int, profiles: int, process_s: float):
    """verify's options for one repetition: `measures` measurements of `profiles` input profiles
    each, in an equal share of the time left to the part (part_end, a time.monotonic() value);
    process_s: the longest time one process took so far (0: not known yet)."""
    import dataclasses
    from paralift.sandbox import timing
    share = max(0.0, part_end - time.monotonic()) / max(1, reps_left)
    per_profile = share / max(1, measures * profiles) - BUILD_S
    floor = (timing.MIN_PROCESSES + 0.5) * process_s
    cap = min(opts.timing_cap_s, max(floor, per_profile, 0.5))
    return dataclasses.replace(opts, timing_cap_s=round(cap, 2))


BUILD_S = 1.0           # building the candidate and the paired binaries, per measurement (about)


def _process_s(rows) -> float:
    """The longest time per process of the measurements so far (timing_row rows), 0 when none."""
    out = 0.0
    for r in rows:
        for q in ((r or {}).get("profiles") or {}).values():
            if q.get("runs") and q.get("seconds"):
                out = max(out, q["seconds"] / q["runs"])
    return out


def self_check(kernel: str, runs: int, opts, data: dict, save, share_s: float = float("inf")) -> None:
    """Part A: the reference timed against itself `runs` times (in about share_s seconds)."""
    from paralift.pipeline import make_suite
    from paralift.sandbox.verify import measure
    key, target = kernel, "openmp"
    rows = data["self"].setdefault(key, [])
    if len(rows) >= runs:
        return
    task = kernel_task(kernel, target)
    suite = make_suite(task)
    t0 = time.monotonic()
    end = t0 + share_s
    while len(rows) < runs:
        profiles = max([len((r or {}).get("profiles") or {}) for r in rows] + [1])
        o = rep_options(opts, end, runs - len(rows), 1, profiles, _process_s(rows))
        t = measure(task, None, suite, o)
        rows.append(timing_row(t))
        r = rows[-1]
        if r:
            r["cap_s"] = o.timing_cap_s
            sys.stderr.write(f"A/A {key} {len(rows)}/{runs}: {r['speedup']:.3f} [{r['ci_low']:.3f}, "
                             f"{r['ci_high'] or float('inf'):.3f}] {r['method']} runs={r['runs']} cap={o.timing_cap_s}"
                             f"{' contended' if r['contended'] else ''}\n")
        phase(data, f"{key}: A/A", time.monotonic() - t0)
        t0 = time.monotonic()
        save()


def decision_check(kernel: str, target: str, translations: int, opts, data: dict, save,
                   share_s: float = float("inf")) -> None:
    """Part B: verify the candidates once, then time and select `translations` times (in about
    share_s seconds)."""
    import dataclasses
    from paralift.pipeline import make_suite, not_faster, select_candidate
    from paralift.sandbox import verify
    from paralift.sandbox.pool import Job
    from paralift.sandbox.verify import measure
    from paralift.types import Verdict
    key = f"{kernel}/{target}"
    entry = data["decisions"].setdefault(key, {"verified": None, "runs": []})
    if len(entry["runs"]) >= translations:
        return
    t_part = time.monotonic()
    task = kernel_task(kernel, target)
    suite = make_suite(task)
    refused: dict[str, str] = {}
    cands = candidates(kernel, task, target, refused)
    if entry["verified"] is None:
        t0 = time.monotonic()
        vopts = dataclasses.replace(opts, timing=False)
        verdicts = {label: verify(task, c, suite, vopts) for label, c in cands}
        entry["verified"] = [label for label, v in verdicts.items() if v.verified]
        entry["rejected"] = {**refused, **{label: v.reason[:200] for label, v in verdicts.items() if not v.verified}}
        phase(data, f"{key}: verify candidates", time.monotonic() - t0)
        save()
    good = [(label, c) for label, c in cands if label in entry["verified"]]
    end = t_part + share_s
    while len(entry["runs"]) < translations:
        t0 = time.monotonic()
        run = {"timings": {}}
        pairs = []
        done = [t for r in entry["runs"] for t in r["timings"].values()]
        profiles = max([len((t or {}).get("profiles") or {}) for t in done] + [1])
        o = rep_options(opts, end, translations - len(entry["runs"]), len(good), profiles, _process_s(done))
        run["cap_s"] = o.timing_cap_s
        for label, c in good:
            try:
                t = measure(task, c, suite, o)
            except RuntimeError as e:
                run["timings"][label] = {"error": str(e)[:200]}
                continue
            run["timings"][label] = timing_row(t)
            v = Verdict(target=c.target, status="verified", speedup=None if t is None else round(t.speedup, 3),
                        timing=t)
            pairs.append((Job(task, dataclasses.replace(c, agent=label), suite), v))
        if pairs:
            j, v = select_candidate(pairs)
            run["winner"] = "sequential" if not_faster(v) else j.candidate.agent
            run["best"] = j.candidate.agent
        else:
            run["winner"] = "sequential"
        entry["runs"].append(run)
        sys.stderr.write(f"decision {key} {len(entry['runs'])}/{translations}: {run['winner']}\n")
        phase(data, f"{key}: timing and selection", time.monotonic() - t0)
        save()


def phase(data: dict, name: str, seconds: float) -> None:
    """Add `seconds` to the wall time of one part of the run (meta.phases)."""
    phases = data["meta"].setdefault("phases", {})
    phases[name] = round(phases.get(name, 0.0) + seconds, 1)


def interval_of(entry_run: dict) -> tuple[float, float]:
    w = entry_run["winner"]
    if w == "sequential":
        return 1.0, 1.0
    r = entry_run["timings"][w]
    return r["ci_low"], r["ci_high"] if r["ci_high"] is not None else float("inf")


def _aa_counts(ivs: list[dict]) -> tuple[int, int, int, int]:
    """Of A/A intervals: (contain 1.0; within +-5 % of their point, the stopping rule's target;
    both in the strict reading: contain 1.0 and lie inside [0.95, 1.05]; both in the stopping
    rule's reading: contain 1.0 and are within +-5 % of their point)."""
    hi = lambda r: r["ci_high"] if r["ci_high"] is not None else float("inf")
    contains = lambda r: r["ci_low"] <= 1.0 <= hi(r)
    narrow = lambda r: (r["ci_high"] is not None and r["ci_low"] >= 0.95 * r["speedup"]
                        and r["ci_high"] <= 1.05 * r["speedup"])
    c = sum(1 for r in ivs if contains(r))
    n = sum(1 for r in ivs if narrow(r))
    both = sum(1 for r in ivs if contains(r) and r["ci_high"] is not None and r["ci_low"] >= 0.95
               and r["ci_high"] <= 1.05)
    both_rel = sum(1 for r in ivs if contains(r) and narrow(r))
    return c, n, both, both_rel


def summarize(data: dict) -> dict:
    """A/A counted per input profile: each profile's interval is one measurement of the
    reference against itself. The verdict reports the slower profile's; picking the lower
    of two points of the same code is a decision rule (its interval misses 1.0 on the low
    side when either profile's does), counted apart as `reported`."""
    rows, contain, narrow, total, both, both_rel, reported = [], 0, 0, 0, 0, 0, [0, 0, 0, 0, 0]
    for key, runs in sorted(data["self"].items()):
        ok = [r for r in runs if r]
        by_profile: dict[str, list[dict]] = {}
        for r in ok:
            for name, q in (r.get("profiles") or {r["profile"] or "uniform": r}).items():
                if q.get("ci_low") is not None:
                    by_profile.setdefault(name, []).append(q)
        for name, ivs in sorted(by_profile.items(), key=lambda kv: kv[0] != "uniform"):
            c, n, b, br = _aa_counts(ivs)
            contain, narrow, total, both, both_rel = contain + c, narrow + n, total + len(ivs), both + b, both_rel + br
            rows.append({"kernel": key if len(by_profile) == 1 else f"{key} ({name})", "measurements": len(ivs),
                         "contain_1": c, "within_5pct": n, "both": b, "both_relative": br,
                         "median_runs": sorted(q["runs"] for q in ivs)[len(ivs) // 2] if ivs else 0,
                         "contended": sum(1 for r in ok if r["contended"])})
        c, n, b, br = _aa_counts(ok)
        reported = [reported[0] + len(ok), reported[1] + c, reported[2] + n, reported[3] + b, reported[4] + br]
    drows = []
    for key, e in sorted(data["decisions"].items()):
        winners = [r["winner"] for r in e["runs"]]
        ivs = [interval_of(r) for r in e["runs"]]
        overlap = all(a[0] <= b[1] and b[0] <= a[1] for a in ivs for b in ivs)
        drows.append({"kernel": key, "candidates": len(e["verified"] or []), "winners": winners,
                      "same_winner": len(set(winners)) == 1, "overlapping": overlap,
                      "stable": len(set(winners)) == 1 or overlap})
    return {"self": rows, "self_total": total, "self_contain_1": contain, "self_within_5pct": narrow,
            "self_both": both, "self_both_relative": both_rel, "reported": reported,
            "decisions": drows, "stable": sum(1 for d in drows if d["stable"]), "decision_kernels": len(drows)}


def done_when(data: dict, s: dict) -> list[str]:
    """The issue's done-when, figure by figure (the lines printed at the end of a run)."""
    pct = lambda a, b: 100 * a / b if b else 0.0
    expected = [f"{k}/{t}" for t in data["meta"].get("targets", []) for k in data["meta"].get("kernels", [])]
    missing = [k for k in expected if k not in data["decisions"] or
               len(data["decisions"][k]["runs"]) < data["meta"].get("translations", 0)]
    runs = data["meta"].get("self_runs", 0)
    short = [k for k in data["meta"].get("kernels", []) if len([r for r in data["self"].get(k, []) if r]) < runs]
    n = s["self_total"]
    ok = lambda x: "met" if x else "NOT met"
    return [
        f"A/A: {n} intervals ({runs} measurements per kernel{'; fewer for ' + ', '.join(short) if short else ''}): "
        f"{pct(s['self_contain_1'], n):.1f} % contain 1.0, {pct(s['self_within_5pct'], n):.1f} % within ±5 % of their point",
        f"  contain 1.0 and within ±5 % of their point (the stopping rule's ±5 %): "
        f"{pct(s['self_both_relative'], n):.1f} % -> {ok(pct(s['self_both_relative'], n) >= 95)} (>= 95 %)",
        f"  contain 1.0 and inside [0.95, 1.05] (the strict reading): "
        f"{pct(s['self_both'], n):.1f} % -> {ok(pct(s['self_both'], n) >= 95)} (>= 95 %)",
        f"Decisions: stable on {s['stable']} of {s['decision_kernels']} kernel x target"
        f"{'; not reached: ' + ', '.join(missing) if missing else ' (every kernel x target reached)'} -> "
        f"{ok(not missing and s['stable'] == s['decision_kernels'])}"]


def render(data: dict, s: dict) -> str:
    pct = lambda a, b: f"{100 * a / b:.0f} %" if b else "-"
    L = [f"# bench_timing ({data['meta']['started'][:10]})", "",
         f"Command: `{data['meta']['command']}`  ", f"Machine: {data['meta']['cores']} cores, load average "
         f"{data['meta']['load_start']} at the start, {data['meta'].get('load_end')} at the end; "
         f"{data['meta'].get('seconds', '?')} s in all.", "",
         "Measurement: " + (data["meta"].get("method") or "") , "",
         "## A/A: the sequential build timed against itself", "",
         "| kernel | measurements | interval contains 1.0 | within ±5 % of its point | both (±5 % of the point) "
         "| both (inside [0.95, 1.05]) | median processes | contended |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in s["self"]:
        L.append(f"| {r['kernel']} | {r['measurements']} | {pct(r['contain_1'], r['measurements'])} | "
                 f"{pct(r['within_5pct'], r['measurements'])} | {pct(r.get('both_relative', 0), r['measurements'])} | "
                 f"{pct(r['both'], r['measurements'])} | {r['median_runs']} | {r['contended']} |")
    rep = s["reported"]
    L += ["", f"**All: {s['self_total']} measurements, {pct(s['self_contain_1'], s['self_total'])} contain 1.0, "
          f"{pct(s['self_within_5pct'], s['self_total'])} within ±5 % of their point; contain 1.0 and within ±5 % of "
          f"their point: {pct(s.get('self_both_relative', 0), s['self_total'])}; contain 1.0 and inside [0.95, 1.05]: "
          f"{pct(s['self_both'], s['self_total'])}** "
          "(done when ≥ 95 %; each input profile's interval counted: the same code measured on one input).", "",
          f"As the verdict reports them (the slower profile's interval, {rep[0]} measurements): "
          f"{pct(rep[1], rep[0])} contain 1.0, {pct(rep[2], rep[0])} within ±5 % of their point, "
          f"{pct(rep[4], rep[0]) if len(rep) > 4 else '-'} both (±5 % of the point), {pct(rep[3], rep[0])} both "
          "(inside [0.95, 1.05]).", "",
          "## Stable decisions: the same candidates timed and selected repeatedly", "",
          "| kernel | verified candidates | winners | same winner | overlapping intervals | stable |",
          "|---|---:|---|---|---|---|"]
    for d in s["decisions"]:
        L.append(f"| {d['kernel']} | {d['candidates']} | {', '.join(d['winners'])} | {'yes' if d['same_winner'] else 'no'} | "
                 f"{'yes' if d['overlapping'] else 'no'} | {'yes' if d['stable'] else '**no**'} |")
    L += ["", f"**Stable: {s['stable']} of {s['decision_kernels']} kernels.**", "",
          "## Done when", "", *[f"- {line.strip()}" for line in done_when(data, s)], ""]
    if data["meta"].get("skipped"):
        L += [f"Not run (time budget): {', '.join(data['meta']['skipped'])}.", ""]
    rejected = {k: e.get("rejected") for k, e in sorted(data["decisions"].items()) if e.get("rejected")}
    if rejected:
        L += ["Candidates that did not verify (not timed):", ""]
        for k, rej in rejected.items():
            items = rej.items() if isinstance(rej, dict) else ((r, "") for r in rej)
            L += [f"- {k} {label}: {why}" for label, why in items]
        L.append("")
    if data["meta"].get("phases"):
        L += ["Wall time by part (s):", "", "| part | s |", "|---|---:|"]
        L += [f"| {k} | {v} |" for k, v in data["meta"]["phases"].items()]
        L.append("")
    return "\n".join(L)


# ------------------------------------------------------------------ simulation

# (name, min processes, step, layouts alternate, systematic sd): the rule of 2026-12-04 and the changes
RULES = [("4 processes, one layout (2026-12-04)", 4, 1, False, 0.0),
         ("6 processes, one layout", 6, 2, False, 0.0),
         ("4 processes, layouts alternate", 4, 2, True, 0.0),
         ("4, layouts alternate, systematic 0.5 % (now)", 4, 2, True, None),
         ("6, layouts alternate, systematic 0.5 %", 6, 2, True, None)]
# what the processes of one measurement share beyond their spread: a bias of where the two copies
# sit (the same in every process of one layout) and an offset of the measurement's moment
SCENARIOS = [(0.0, 0.0), (0.002, 0.0), (0.002, 0.004), (0.004, 0.006)]


def process_logs(data: dict) -> dict[str, list[float]]:
    """Each A/A kernel and profile's per-process log speedups (centred on their mean: the
    spread and shape the machine gave, with a true ratio of exactly 1)."""
    import math
    import statistics
    out: dict[str, list[float]] = {}
    for key, runs in sorted(data["self"].items()):
        for r in runs:
            for name, q in ((r or {}).get("profiles") or {}).items():
                out.setdefault(f"{key} ({name})", []).extend(math.log(x) for x in q.get("process_speedups") or [] if x > 0)
    return {k: [x - statistics.fmean(v) for x in v] for k, v in out.items() if len(v) >= 8}


def simulate(data: dict, runs: int = 1000, seed: int = 21) -> list[dict]:
    """A/A coverage of each stopping rule (RULES) by resampling the measured processes
    (process_logs) with a layout bias and a per-measurement offset added (SCENARIOS), through
    sandbox.timing.PairedInterval itself: the share of intervals that contain 1.0, that are
    within +-5 % of their point, inside [0.95, 1.05], and the mean processes per measurement."""
    import math
    import random
    from paralift.sandbox import timing
    logs = process_logs(data)
    rows = []
    for bias, moment in SCENARIOS:
        for name, least, step, alternate, systematic in RULES:
            rng = random.Random(seed)
            contain = narrow = inside = procs = total = 0
            for kernel, xs in logs.items():
                for _ in range(runs):
                    m = timing.PairedInterval(cap_s=math.inf, min_processes=least, step=step,
                                              systematic=timing.SYSTEMATIC_SD if systematic is None else systematic)
                    offset = rng.gauss(0.0, moment)
                    while not m.enough():
                        side = -1 if alternate and len(m.processes) % 2 else 1
                        r = math.exp(rng.choice(xs) + offset + side * bias)
                        m.add([(r, r, 1.0, 1.0)])
                    point, lo, hi = m.result()
                    contain += lo <= 1.0 <= hi
                    narrow += timing.within(lo, hi, point)
                    inside += lo >= 0.95 and hi <= 1.05 and lo <= 1.0 <= hi
                    procs += len(m.processes)
                    total += 1
            rows.append({"bias": bias, "moment": moment, "rule": name, "contain_1": contain / total,
                         "within_5pct": narrow / total, "both": inside / total, "processes": procs / total})
    return rows


def render_simulation(rows: list[dict], source: str) -> str:
    L = [f"## Simulated A/A coverage (processes resampled from {source})", "",
         "| layout bias | measurement offset sd | rule | contain 1.0 | within ±5 % | both | processes |",
         "|---:|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        L.append(f"| {100 * r['bias']:.1f} % | {100 * r['moment']:.1f} % | {r['rule']} | {100 * r['contain_1']:.1f} % | "
                 f"{100 * r['within_5pct']:.1f} % | {100 * r['both']:.1f} % | {r['processes']:.1f} |")
    return "\n".join(L) + "\n"



def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernels", default=DEFAULT_KERNELS)
    ap.add_argument("--targets", default=DEFAULT_TARGETS)
    ap.add_argument("--self-runs", type=int, default=20)
    ap.add_argument("--translations", type=int, default=5)
    ap.add_argument("--min-s", type=float, default=None, help="reference time per timed process (verify's default)")
    ap.add_argument("--cap", type=float, default=None, help="seconds per profile before the interval is given up")
    ap.add_argument("--max-runs", type=int, default=None, help="most pairs per measurement")
    ap.add_argument("--skip-decisions", action="store_true")
    ap.add_argument("--budget-min", type=float, default=14.0,
                    help="the run's time budget, shared by its parts (none is skipped: a part short of time "
                         "measures with a lower cap per profile)")
    stamp = time.strftime("%Y-%m-%d")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / f"bench_timing-{stamp}.json"))
    ap.add_argument("--md", default=None, help="markdown results (default: the --json path with .md)")
    ap.add_argument("--from-json", default=None)
    ap.add_argument("--simulate", nargs="?", const=str(ROOT / "benchmarks" / "results" / "bench_timing-2026-12-04.json"),
                    default=None, metavar="JSON", help="simulated A/A coverage of the stopping rules, processes "
                    "resampled from a results file's A/A measurements (no timing; about a minute)")
    ap.add_argument("--sim-runs", type=int, default=1000, help="simulated measurements per kernel, scenario and rule")
    args = ap.parse_args()
    if args.simulate:
        data = json.loads(Path(args.simulate).read_text())
        print(render_simulation(simulate(data, args.sim_runs), Path(args.simulate).name))
        return 0
    if args.from_json:
        data = json.loads(Path(args.from_json).read_text())
        print(render(data, summarize(data)))
        return 0
    import dataclasses
    from paralift.sandbox import VerifyOptions
    opts = VerifyOptions(timing=True)
    opts = dataclasses.replace(opts, **{k: v for k, v in (("timing_min_s", args.min_s), ("timing_cap_s", args.cap),
                                                          ("timing_max_runs", args.max_runs)) if v is not None})
    out = Path(args.json)
    md = Path(args.md) if args.md else out.with_suffix(".md")
    data = json.loads(out.read_text()) if out.exists() else None
    if data is not None and data["meta"].get("method") != METHOD:
        # results of another measurement method (an older run of the same day): not resumed, replaced
        sys.stderr.write(f"{out} holds another method's results: starting afresh (it is overwritten)\n")
        data = None
    if data is None:
        data = {"meta": {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "command": " ".join(sys.argv),
                         "method": METHOD, "cores": os.cpu_count(), "load_start": load()},
                "self": {}, "decisions": {}}
    data["meta"].update({"kernels": [k for k in args.kernels.split(",") if k],
                         "targets": [] if args.skip_decisions else [t for t in args.targets.split(",") if t],
                         "self_runs": args.self_runs, "translations": args.translations})
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        data["meta"]["load_end"] = load()
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(out)

    t0 = time.monotonic()
    kernels = [k for k in args.kernels.split(",") if k]
    targets = [t for t in args.targets.split(",") if t]
    # every kernel's A/A and its decisions for every target: the parts share the budget (Budget),
    # so a run reaches all of them; a part short of time measures with a lower cap
    parts = [(k, None) for k in kernels]
    if not args.skip_decisions:
        parts = [p for k in kernels for p in ((k, None), *((k, t) for t in targets))]
    budget = Budget(60 * args.budget_min - (time.monotonic() - t0), len(parts))
    skipped = []
    for kernel, target in parts:
        share = budget.start_part()
        if target is None:
            self_check(kernel, args.self_runs, opts, data, save, share)
        else:
            decision_check(kernel, target, args.translations, opts, data, save, share)
        sys.stderr.write(f"{kernel} {target or 'A/A'} done, {time.monotonic() - t0:.0f} s (share {share:.0f} s)\n")
    data["meta"]["skipped"] = skipped
    data["meta"]["seconds"] = round(data["meta"].get("seconds", 0) + time.monotonic() - t0, 1)
    save()
    text = render(data, summarize(data))
    md.write_text(text)
    print(text)
    print("\n".join(done_when(data, summarize(data))), file=sys.stderr)
    print(f"wrote {out} and {md}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

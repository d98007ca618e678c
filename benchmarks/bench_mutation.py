"""Mutation score of the tester's suites on the kernel set (issue 5).

    .venv/bin/python benchmarks/bench_mutation.py [--kernels sum,dot] [--targets openmp,mpi[,cuda]]
        [--sources hand,rule] [--workers 2] [--json results.json]
    .venv/bin/python benchmarks/bench_mutation.py --from-json results.json[,more.json]   # re-render, merge runs

For every kernel of data/kernels/manifest.json that analysis accepts, the
tester builds its suite (paralift.agents.tester.build_suite: calibrated,
sanitizer-validated). The correct candidates are the hand-written
tests/candidates/<kernel>/*_ok.* files and the rule-based translator's
output for each target. Each candidate must verify with the suite (a correct
candidate rejected is a *false rejection*; those are also re-verified with
the sandbox's basic generator, to tell a suite problem from a bug the suite
found). Then every mutant (paralift.agents.mutation) is verified:

    killed     built, and some test failed (wrong output, crash, timeout)
    survived   verified although it differs from a correct candidate
    equivalent survived, and a rule (or the audited list
               benchmarks/equivalent_mutants.json) shows it equivalent
    stillborn  does not build or breaks policy (no test can kill it)

score = killed / (killed + survived); equivalent and stillborn mutants are
outside the score, and every survivor and equivalent is listed (with its
diff) for a human to audit. Not a test: it takes minutes (CUDA: nvcc and CPU
emulation make each verification ~10 s; `--targets cuda` is opt-in).
With --json the file is rewritten after every candidate, so an interrupted
run keeps what it finished; the command line and the machine's load average
(at the start, after each candidate, at the end) are recorded in it.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUDIT = Path(__file__).resolve().parent / "equivalent_mutants.json"
EXT_TARGET = {"omp": "openmp", "mpi": "mpi", "cuda": "cuda"}


def load_audit() -> list[dict]:
    try:
        return json.loads(AUDIT.read_text())
    except FileNotFoundError:
        return []


def audited(audit: list[dict], kernel: str, source: str, target: str, line: int, description: str) -> str:
    """The reason a human gave for this surviving mutant being equivalent, if any."""
    for a in audit:
        if (a["kernel"], a["source"], a["target"], a["line"], a["description"]) == \
                (kernel, source, target, line, description):
            return "audited: " + a["reason"]
    return ""


def hand_candidates(kernel: str, targets: list[str]) -> list[tuple[str, str, str]]:
    """(source label, target, code) of the correct hand-written candidates."""
    out = []
    folder = ROOT / "tests" / "candidates" / kernel
    for f in sorted(folder.glob("*_ok.*")) if folder.is_dir() else []:
        target = "cuda" if f.suffix == ".cu" else EXT_TARGET.get(f.name.split("_")[0])
        if target in targets:
            out.append((f"hand:{f.name}", target, f.read_text()))
    return out


def rule_candidates(task, targets: list[str]) -> tuple[list[tuple[str, str, str]], list[str]]:
    from paralift.agents import NotParallelizable, RuleBasedTranslator
    from paralift.types import Target
    out, notes = [], []
    for t in targets:
        try:
            for c in RuleBasedTranslator().propose(task, Target.parse(t)):
                out.append((f"rule:{t}", t, c.code))
        except NotParallelizable as e:
            notes.append(f"rule/{t}: not parallelizable: {e}")
        except Exception as e:  # noqa: BLE001 - a translator crash is reported, not fatal here
            notes.append(f"rule/{t}: {type(e).__name__}: {e}")
    return out, notes


def diff(a: str, b: str) -> str:
    lines = [l for l in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
             if not l.startswith(("---", "+++"))]
    return "\n".join(lines[:12])


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


def run(args, checkpoint=lambda data: None) -> dict:
    from paralift.agents import AnalysisError, build_task
    from paralift.agents.mutation import run_mutants
    from paralift.agents.tester import TesterError, VacuousSuite, build_suite
    from paralift.sandbox import VerifyOptions, verify
    from paralift.sandbox.verify import prepare_reference
    from paralift.sandbox.inputs import generate_suite
    from paralift.sandbox.isolation import Limits
    from paralift.types import Candidate, Target

    manifest = json.loads((ROOT / "data" / "kernels" / "manifest.json").read_text())
    wanted = [k for k in args.kernels.split(",") if k]
    targets = [Target.parse(t).value for t in args.targets.split(",") if t]
    sources = [s for s in args.sources.split(",") if s]
    # Mutants that hang are killed by the wall-clock limit; keep it short.
    opts = VerifyOptions(timing=False, run_limits=Limits(wall_s=30, cpu_s=60),
                         unoptimized_threads=tuple(int(t) for t in args.unoptimized_threads.split(",") if t),
                         race_rounds=args.race_rounds)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))

    rows, skipped, false_rejections = [], [], []
    t_start = time.time()
    loads = [_load()]

    def data(done: bool) -> dict:
        return {"targets": targets, "sources": sources, "seconds": round(time.time() - t_start),
                "command": " ".join(sys.argv), "unoptimized_threads": list(opts.unoptimized_threads),
                "race_rounds": opts.race_rounds, "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t_start)),
                "finished": done, "cpus": os.cpu_count(), "load1": loads,
                "rows": rows, "false_rejections": false_rejections, "skipped": skipped}
    for k in manifest:
        if wanted and k["name"] not in wanted:
            continue
        src = (ROOT / "data" / "kernels" / k["file"]).read_text()
        try:
            task = build_task(src, k["language"], k["function"])
        except AnalysisError as e:
            skipped.append({"kernel": k["name"], "why": f"analysis: {e}"})
            continue
        cands = hand_candidates(k["name"], targets) if "hand" in sources else []
        notes: list[str] = []
        if "rule" in sources:
            rc, notes = rule_candidates(task, targets)
            cands += rc
        if not cands:
            skipped.append({"kernel": k["name"], "why": "; ".join(notes) or "no correct candidate"})
            continue
        suites = {}
        for label, target, code in cands:
            if target not in suites:
                # The pipeline builds the suite for the task's target (MPI: no race cases).
                t0 = time.time()
                try:
                    ttask = build_task(src, k["language"], k["function"], Target.parse(target))
                    suites[target] = (ttask, build_suite(ttask))
                except (TesterError, VacuousSuite) as e:
                    suites[target] = (None, str(e))
                    skipped.append({"kernel": k["name"], "target": target, "why": f"tester: {e}"})
                    continue
                tr = suites[target][1]
                say(f"{k['name']} ({target}): {len(tr.suite.cases)} cases ({len(tr.discarded)} discarded) in "
                    f"{time.time() - t0:.1f}s")
            task, tr = suites[target]
            if task is None:
                continue
            suite = tr.suite
            t1 = time.time()
            cand = Candidate(code, Target.parse(target), agent=label)
            rep = run_mutants(task, cand, suite, opts, label=label, workers=args.workers)
            if rep.original_status != "verified":
                basic = verify(task, cand, generate_suite(task.signature), opts)
                false_rejections.append({"kernel": k["name"], "source": label, "target": target,
                                         "reason": rep.original_reason,
                                         "basic_suite": basic.status, "basic_reason": basic.reason})
                say(f"  {label}: NOT VERIFIED by the tester's suite: {rep.original_reason} "
                    f"(basic suite: {basic.status})")
                continue
            results = []
            for r in rep.results:
                js = r.to_json()
                if r.status in ("survived", "static", "equivalent"):
                    js["diff"] = diff(code, r.mutant.code)
                results.append(js)
            # The delivered suite, sanitized again by verify's reference run (cached): a case the
            # reference misbehaves on under ASan/UBSan would be listed here (must stay empty).
            bad = prepare_reference(task, suite, opts).discarded
            rows.append({"kernel": k["name"], "function": k["function"], "source": label, "target": target,
                         "cases": len(suite.cases), "discarded": len(tr.discarded), "misbehaving": bad,
                         "seconds": round(time.time() - t1, 1), "results": results})
            loads.append(_load())
            say(f"  {label}: {rep.count('killed')} killed, {rep.count('static')} static, "
                f"{rep.count('survived')} survived, {rep.count('equivalent')} equivalent, "
                f"{rep.count('stillborn')} stillborn ({rows[-1]['seconds']}s, load {loads[-1]})")
            checkpoint(data(False))
    loads.append(_load())
    return data(True)


STATUSES = ("killed", "static", "survived", "equivalent", "stillborn", "error")


def score(d) -> str:
    k, s = d.get("killed", 0), d.get("survived", 0) + d.get("static", 0)
    return "  n/a " if k + s == 0 else f"{100 * k / (k + s):5.1f}%"


def vscore(d) -> str:
    k, s = d.get("killed", 0) + d.get("static", 0), d.get("survived", 0)
    return "  n/a " if k + s == 0 else f"{100 * k / (k + s):5.1f}%"


def render(data: dict, audit: list[dict]) -> None:
    from paralift.agents.mutation import OPERATORS

    per_op = defaultdict(lambda: defaultdict(int))
    per_target_op = defaultdict(lambda: defaultdict(int))
    per_target = defaultdict(lambda: defaultdict(int))
    survivors = []
    for row in data["rows"]:
        counts = defaultdict(int)
        for r in row["results"]:
            if r["status"] == "survived":
                why = audited(audit, row["kernel"], row["source"], row["target"], r["line"], r["description"])
                if why:
                    r["status"], r["detail"] = "equivalent", why
            counts[r["status"]] += 1
            per_op[r["operator"]][r["status"]] += 1
            per_target[row["target"]][r["status"]] += 1
            per_target_op[(row["target"], r["operator"])][r["status"]] += 1
            if r["status"] in ("survived", "static", "equivalent"):
                survivors.append({**r, "kernel": row["kernel"], "source": row["source"], "target": row["target"]})
        row["counts"] = dict(counts)
    targets = data.get("targets") or sorted({r["target"] for r in data["rows"]})
    sources = data.get("sources") or sorted({r["source"].split(":")[0] for r in data["rows"]})
    print(f"\nMutation scores of the tester's suites ({data.get('seconds', '?')} s; targets {','.join(targets)}; "
          f"sources {','.join(sources)})")
    for run_ in data.get("runs", [data]):
        if run_.get("command"):
            ld = sorted(x for x in run_.get("load1", []) if x >= 0)
            print(f"run: {run_['command']}\n     started {run_.get('started')}, {run_.get('seconds')} s, "
                  f"{'finished' if run_.get('finished') else 'NOT FINISHED (partial)'}, {run_.get('cpus')} CPUs, "
                  f"load average (1 min) {ld[0] if ld else 0:.2f}..{ld[-1] if ld else 0:.2f}, "
                  f"median {ld[len(ld) // 2] if ld else 0:.2f}")
    print("score: mutants the tests killed / (killed + static + survived); verify: (killed + static) / (... + survived)")
    print("static: every test passed, only verify's static race check rejected it")
    print("equivalent: survived, and a rule or benchmarks/equivalent_mutants.json (audited) shows it equivalent\n")
    print(f"{'kernel':<20}{'source':<22}{'target':<8}{'cases':>6}{'mut':>5}{'kill':>5}{'stat':>5}{'surv':>5}"
          f"{'equiv':>6}{'still':>6}{'score':>8}{'verify':>8}")
    for r in data["rows"]:
        c = r["counts"]
        print(f"{r['kernel']:<20}{r['source']:<22}{r['target']:<8}{r['cases']:>6}{len(r['results']):>5}"
              f"{c.get('killed', 0):>5}{c.get('static', 0):>5}{c.get('survived', 0):>5}{c.get('equivalent', 0):>6}"
              f"{c.get('stillborn', 0):>6}{score(c):>8}{vscore(c):>8}")

    head = (f"{'mutants':>8}{'killed':>8}{'static':>7}{'surv':>6}{'equiv':>7}{'still':>7}{'error':>7}"
            f"{'score':>8}{'verify':>8}")

    def line(name, d) -> str:
        return (f"{name:<24}{sum(d.values()):>8}{d['killed']:>8}{d['static']:>7}{d['survived']:>6}{d['equivalent']:>7}"
                f"{d['stillborn']:>7}{d['error']:>7}{score(d):>8}{vscore(d):>8}")
    print(f"\n{'operator':<24}{head}")
    for op in OPERATORS:
        if op in per_op:
            print(line(op, per_op[op]))
        else:
            print(f"{op:<24}{0:>8}   (no site in these candidates)")
    print(f"\n{'target':<24}{head}")
    total = defaultdict(int)
    for t, d in per_target.items():
        for kk, v in d.items():
            total[kk] += v
        print(line(t, d))
    print(line("all", total))
    print(f"\n{'target/operator':<24}{head}")
    for t in per_target:
        for op in OPERATORS:
            if (t, op) in per_target_op:
                print(line(f"{t}/{op}", per_target_op[(t, op)]))
    below = [r for r in data["rows"] if score(r["counts"]).strip() not in ("n/a", "100.0%")
             and float(score(r["counts"]).strip("% ")) < 95]
    print(f"\ncandidates below 95%: {len(below)} of {len(data['rows'])}"
          + "".join(f"\n  {r['kernel']} {r['source']}: {score(r['counts'])}" for r in below))
    suites = {(r["kernel"], r["target"]): r for r in data["rows"]}
    bad = [(k, t, x) for (k, t), r in suites.items() for x in r.get("misbehaving", [])]
    print(f"\nsuites: {len(suites)} (kernel x target), {sum(r['cases'] for r in suites.values())} cases; "
          f"generated cases the tester discarded (sanitizers, overflow): "
          f"{sum(r.get('discarded', 0) for r in suites.values())}")
    print(f"cases in the delivered suites on which the sequential reference misbehaves (ASan+UBSan): {len(bad)}"
          + "".join(f"\n  {k} ({t}): {x}" for k, t, x in bad))
    fr = data["false_rejections"]
    print(f"false rejections (a correct candidate not verified): {len(fr)}")
    for f in fr:
        print(f"  {f['kernel']} {f['source']}: {f['reason']} [basic suite: {f['basic_suite']}"
              f"{': ' + f['basic_reason'] if f['basic_reason'] else ''}]")
    print(f"\nsurvivors, static-only kills and equivalents to audit: {len(survivors)}")
    for s in survivors:
        print(f"  [{s['status']}] {s['kernel']} {s['source']} {s['operator']} line {s['line']}: {s['description']}"
              + (f"  -- {s['equivalent'] or s['detail']}" if s["status"] == "equivalent" else ""))
        for l in s.get("diff", "").splitlines():
            print(f"      {l}")
    used = {(s["kernel"], s["source"], s["target"], s["line"], s["description"]) for s in survivors}
    ran = {(r["kernel"], r["source"], r["target"]) for r in data["rows"]}
    stale = [a for a in audit if (a["kernel"], a["source"], a["target"]) in ran
             and (a["kernel"], a["source"], a["target"], a["line"], a["description"]) not in used]
    if stale:
        print(f"\naudit entries that matched no surviving mutant (code changed or now killed; re-audit): {len(stale)}")
        for a in stale:
            print(f"  {a['kernel']} {a['source']} line {a['line']}: {a['description']}")
    if data["skipped"]:
        print(f"\nkernels skipped: {len(data['skipped'])}")
        for s in data["skipped"]:
            print(f"  {s['kernel']}: {s['why']}")


def merge(runs: list[dict]) -> dict:
    """Several saved runs (e.g. one per target) as one."""
    if len(runs) == 1:
        return runs[0]
    out = {"targets": [], "sources": [], "seconds": sum(r.get("seconds", 0) for r in runs), "rows": [],
           "false_rejections": [], "skipped": [], "runs": runs}
    for r in runs:
        for k in ("targets", "sources"):
            out[k] += [x for x in r.get(k, []) if x not in out[k]]
        for k in ("rows", "false_rejections", "skipped"):
            out[k] += r.get(k, [])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernels", default="", help="comma-separated kernel names (default: all)")
    ap.add_argument("--targets", default="openmp,mpi", help="openmp,mpi,cuda")
    ap.add_argument("--sources", default="hand,rule", help="hand,rule")
    ap.add_argument("--workers", type=int, default=1,
                    help="mutants verified at once; more than one on a small machine hides races from the tests")
    ap.add_argument("--unoptimized-threads", default="3",
                    help="OpenMP race stage: thread counts of the -O0 runs of the race cases ('': none)")
    ap.add_argument("--race-rounds", type=int, default=6,
                    help="OpenMP race stage: at most this many rounds of the race cases (0 turns the stage off)")
    ap.add_argument("--json", dest="json_out", default="", help="write all results here")
    ap.add_argument("--from-json", default="", help="re-render a saved run (e.g. after auditing survivors)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    if args.from_json:
        data = merge([json.loads(Path(f).read_text()) for f in args.from_json.split(",") if f])
    else:
        def save(d: dict) -> None:
            if args.json_out:
                tmp = Path(args.json_out + ".tmp")
                tmp.write_text(json.dumps(d, indent=1))
                tmp.replace(args.json_out)
        data = run(args, save)
        save(data)
    render(data, load_audit())
    return 0


if __name__ == "__main__":
    sys.exit(main())

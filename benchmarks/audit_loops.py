"""Loop audit (issue 22): which loop the rule agent parallelizes, per kernel and target, and why a
function stays sequential.

For every C/C++ kernel of data/kernels/manifest.json and every target (OpenMP, MPI, CUDA) the rule
agent's analysis and code generator run as `paralift translate --backend rule` would, without the
sandbox (no build, no tests, no timing): the audit reads which loops are parallelized, how deep they
sit in their nest, and the reason a function is kept sequential.

Two checks of issue 22's done-when ("no function stays sequential whose outer loop is parallel; no
inner loop is parallelized where an outer one is legal"):
- every parallelized loop is outermost, or an enclosing loop is named with the reason it is not parallel;
- a second opinion on every loop left sequential that encloses a parallel loop or is the top of a
  sequential function: isl (agents/polyhedral.py) on the array accesses of its perfect band, pointer
  parameters taken apart (the translation checks overlap at entry). isl sees arrays only, so where it
  finds no array dependence the analysis' reason must be a scalar, a call or a construct isl does not
  model -- the audit lists those cases for a person to read.

    python benchmarks/audit_loops.py [--out benchmarks/results/loop-audit-DATE.md] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from paralift.agents import AnalysisError, NotParallelizable, RuleBasedTranslator, build_task  # noqa: E402
from paralift.agents.rule_based import facts  # noqa: E402
from paralift.types import Target  # noqa: E402

TARGETS = (Target.OPENMP, Target.MPI, Target.CUDA)


def depth(loop) -> int:
    d = 0
    while loop.parent is not None:
        loop, d = loop.parent, d + 1
    return d


def _isl_parallel(model, loop) -> tuple[bool | None, str]:
    """isl's opinion on the arrays of the perfect band rooted at `loop` (pointers apart)."""
    from paralift.agents.polyhedral import NotAffine, build_band, perfect_band
    try:
        band = build_band(model, perfect_band(loop), lambda d: d.key)
    except NotAffine as e:
        return None, str(e)
    except Exception as e:  # noqa: BLE001 - an oracle failure is reported, not fatal
        return None, f"isl: {type(e).__name__}: {e}"
    return band.is_parallel(0), ""


def _parallel_lines(notes: str) -> list[int]:
    """The loops a candidate runs in parallel, from its notes ("loop at line N: parallel for ...",
    "... block-distributed", "... kernel ...", "... prefix sum ..."); inner `simd` loops and MPI fills
    run whole on every rank are not among them."""
    out = []
    for part in re.split(r"[;,] ", notes):
        mt = re.match(r"loop at line (\d+): (?!simd|run whole)", part.strip())
        if mt and int(mt.group(1)) not in out:
            out.append(int(mt.group(1)))
    return out


def audit_kernel(k: dict) -> dict:
    src = (ROOT / "data/kernels" / k["file"]).read_text()
    row = {"name": k["name"], "file": k["file"], "function": k["function"], "language": k["language"],
           "manifest_parallel": bool(k.get("parallel")), "targets": {}}
    try:
        task = build_task(src, k["language"], k["function"])
        fx, _ = facts(task)
    except AnalysisError as e:
        row["error"] = str(e)
        return row
    chosen = fx.chosen_loops()
    scans = fx.scan_loops()
    row["loops"] = [{"line": lp.line, "depth": depth(lp), "parallel": fx.loops[lp].parallel,
                     "reason": fx.loops[lp].reason} for lp in fx.model.loops]
    row["chosen"] = [{"line": f.loop.line, "depth": depth(f.loop)} for f in chosen]
    row["scans"] = [{"line": f.loop.line, "depth": depth(f.loop)} for f in scans]
    # loops left sequential around a parallel loop: each with the analysis' reason and isl's opinion
    inner = []
    for f in chosen + scans:
        P = f.loop.parent
        while P is not None:
            ok, why = _isl_parallel(fx.model, P)
            inner.append({"loop": f.loop.line, "outer": P.line, "reason": fx.loops[P].reason,
                          "isl_parallel": ok, "isl_note": why})
            P = P.parent
    row["inner_chosen"] = inner
    # sequential function: isl on its top loops
    row["isl_top"] = []
    if not chosen and not scans:
        for lp in fx.model.top_loops():
            ok, why = _isl_parallel(fx.model, lp)
            row["isl_top"].append({"line": lp.line, "reason": fx.loops[lp].reason, "isl_parallel": ok,
                                   "isl_note": why})
    for t in TARGETS:
        try:
            task_t = build_task(src, k["language"], k["function"], t)
            cand = RuleBasedTranslator().propose(task_t, t)[0]
            lines = _parallel_lines(cand.notes or "")
            at = {lp.line: depth(lp) for lp in fx.model.loops}
            row["targets"][t.value] = {"status": "parallel", "notes": cand.notes or "",
                                       "loops": [{"line": n, "depth": at.get(n)} for n in lines]}
        except NotParallelizable as e:
            row["targets"][t.value] = {"status": "sequential", "reason": str(e)}
        except AnalysisError as e:
            row["targets"][t.value] = {"status": "error", "reason": str(e)}
    return row


def audit(names: list[str] | None = None) -> list[dict]:
    manifest = json.loads((ROOT / "data/kernels/manifest.json").read_text())
    rows = []
    for k in manifest:
        if k["language"] not in ("c", "cpp") or (names and k["name"] not in names):
            continue
        rows.append(audit_kernel(k))
    return rows


def problems(row: dict) -> list[str]:
    """Issue 22's invariant for one kernel: every loop a target parallelizes is one the analysis chose
    (outermost parallel loops, and two-pass scans), or, for MPI, the only child of one, distributed
    inside it because the outer loop's slices interleave (a transpose); no chosen loop sits inside a
    loop left sequential."""
    out = []
    if "error" in row:
        return [f"analysis error: {row['error']}"]
    chosen = {c["line"] for c in row["chosen"]} | {c["line"] for c in row["scans"]}
    for x in row["inner_chosen"]:
        out.append(f"loop {x['loop']} is parallel inside loop {x['outer']}, left sequential: {x['reason']}")
    for t, x in row["targets"].items():
        if x["status"] != "parallel":
            continue
        for lp in x["loops"]:
            if lp["line"] in chosen:
                continue
            if t == "mpi" and re.search(rf"loop at line {lp['line']}: block-distributed inside the loop at line "
                                        rf"({'|'.join(map(str, chosen)) or '-'}),", x["notes"]):
                continue
            out.append(f"{t}: loop at line {lp['line']} (depth {lp['depth']}) is parallelized, not a chosen loop")
        if not x["loops"]:
            out.append(f"{t}: no parallel loop named in the notes: {x['notes']}")
    return out


def summary(rows: list[dict]) -> dict:
    out = {"kernels": len(rows), "errors": sum(1 for r in rows if "error" in r),
           "inner_chosen": sum(1 for r in rows if r.get("inner_chosen")),
           "invariant_violations": sum(1 for r in rows if problems(r)),
           "isl_disagrees": sum(1 for r in rows for x in r.get("isl_top", []) + r.get("inner_chosen", [])
                                if x["isl_parallel"])}
    for t in TARGETS:
        st = [r["targets"].get(t.value, {}).get("status") for r in rows]
        out[t.value] = {"parallel": st.count("parallel"), "sequential": st.count("sequential"),
                        "error": st.count("error"),
                        "sequential_but_manifest_parallel": sum(
                            1 for r in rows if r["manifest_parallel"]
                            and r["targets"].get(t.value, {}).get("status") != "parallel")}
    return out


def _cell(row: dict, t: str, chosen: str) -> str:
    """`par` when the target parallelizes the chosen loops, else the loops it does (line@depth)."""
    x = row["targets"].get(t)
    if x is None:
        return "error"
    if x["status"] != "parallel":
        return x["status"][:3]
    mine = ", ".join(f"{lp['line']}@{lp['depth']}" for lp in x["loops"])
    return "par" if mine == chosen else f"par {mine}"


def render(rows: list[dict], command: str) -> str:
    s = summary(rows)
    lines = [f"# Loop audit (issue 22), {time.strftime('%Y-%m-%d')}", "",
             "Which loop the rule agent parallelizes in each kernel of `data/kernels/manifest.json`, per "
             "target, and why a function stays sequential. Analysis and code generation only (no sandbox, no "
             "timing): `par` means the rule agent writes a parallel candidate, which the sandbox then "
             "verifies. The loop column gives `line@depth` of the parallelized loops (depth 0 = outermost; "
             "`scan` = two-pass prefix sum).", "", "```", command, "```", "",
             "## Summary", "",
             f"- kernels: {s['kernels']} (analysis errors: {s['errors']})",
             f"- kernels whose parallelized loop sits inside a loop left sequential: {s['inner_chosen']}",
             f"- loops left sequential where isl finds no array dependence (pointers apart): {s['isl_disagrees']} "
             "(listed below with the analysis' reason)"]
    lines.append(f"- kernels where a target parallelizes a loop other than the analysis' outermost parallel "
                 f"loops (MPI: or the child it distributes inside one): {s['invariant_violations']}")
    for t in TARGETS:
        x = s[t.value]
        lines.append(f"- {t.value}: {x['parallel']} parallel, {x['sequential']} sequential, {x['error']} errors; "
                     f"sequential although the manifest marks the kernel parallel: "
                     f"{x['sequential_but_manifest_parallel']}")
    lines += ["", "## Kernels", "", "| kernel | manifest | loops | openmp | mpi | cuda |", "|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['name']} | {'parallel' if r['manifest_parallel'] else 'sequential'} | "
                         f"error: {r['error']} | | | |")
            continue
        loops = ", ".join([f"{c['line']}@{c['depth']}" for c in r["chosen"]] +
                          [f"scan {c['line']}@{c['depth']}" for c in r["scans"]]) or "-"
        lines.append(f"| {r['name']} | {'parallel' if r['manifest_parallel'] else 'sequential'} | {loops} | "
                     + " | ".join(_cell(r, t.value, loops) for t in TARGETS) + " |")
    lines += ["", "## Invariant violations", ""]
    lines += [f"- `{r['name']}`: {p}" for r in rows for p in problems(r)] or ["none"]
    lines += ["", "## Loops parallelized other than as chosen (explained)", ""]
    for r in rows:
        for t in TARGETS:
            x = r["targets"].get(t.value, {})
            for part in re.split(r"[;] ", x.get("notes", "")):
                if "inside the loop at line" in part or "run whole on every rank" in part:
                    lines.append(f"- `{r['name']}` ({t.value}): {part.strip()}")
    lines += ["", "## Kept sequential", ""]
    for r in rows:
        for t in TARGETS:
            x = r["targets"].get(t.value, {})
            if x.get("status") != "parallel":
                lines.append(f"- `{r['name']}` ({t.value}): {x.get('reason') or r.get('error')}")
    lines += ["", "## Loops left sequential around a parallel loop", ""]
    inner = [(r, x) for r in rows for x in r.get("inner_chosen", [])]
    lines += [f"- `{r['name']}`: loop {x['loop']} parallel inside loop {x['outer']}: {x['reason']} "
              f"(isl: {'no array dependence' if x['isl_parallel'] else 'dependence' if x['isl_parallel'] is False else x['isl_note']})"
              for r, x in inner] or ["none"]
    lines += ["", "## Sequential functions: isl's opinion on their top loops", ""]
    for r in rows:
        for x in r.get("isl_top", []):
            isl = ("no array dependence" if x["isl_parallel"] else "array dependence"
                   if x["isl_parallel"] is False else f"not modelled ({x['isl_note']})")
            lines.append(f"- `{r['name']}` loop at line {x['line']}: isl: {isl}; analysis: {x['reason']}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="markdown report (default: stdout)")
    ap.add_argument("--json", help="also write the rows as JSON")
    ap.add_argument("names", nargs="*", help="only these kernels")
    a = ap.parse_args(argv)
    rows = audit(a.names or None)
    cmd = "python benchmarks/audit_loops.py" + (f" --out {a.out}" if a.out else "")
    md = render(rows, cmd)
    if a.out:
        Path(a.out).write_text(md)
    else:
        sys.stdout.write(md)
    if a.json:
        Path(a.json).write_text(json.dumps({"summary": summary(rows), "rows": rows}, indent=1))
    print(json.dumps(summary(rows)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Two policies side by side on the held-out kernels, in one run (issue 25,
item 3): the SFT model and the GRPO policy trained from it (a LoRA adapter on
the same base, or a full model).

    paralift train compare --policy sft=data/models/paralift-tiny \\
        --policy grpo=data/models/paralift-tiny+runs/grpo --out training/results/compare

Per policy and target: the greedy answer (pass@1) on every held-out C
function (data/kernels, examples/: the 49 of `tiny.evaluation_units`), each distinct
candidate verified by the sandbox (generated tests, no timing). Then the
verified candidates are timed with `sandbox.verify.measure` (the sequential
reference and the candidate in interleaved processes, 95 % interval, the
machine's load recorded per measurement), kernel by kernel, the policies'
order alternating from one kernel to the next, so both see the same machine
state; two policies that answer the same code share one measurement (the
same program: a second measurement would only add noise). A speedup above
the plausibility bound (`rewards.plausible_bound`) is audited: re-verified on
fresh inputs (another seed), and listed.

Reported per policy: pass@1, the geometric-mean speedup of its verified
answers, and on the kernels both policies verified the geometric mean of the
per-kernel ratio (policy B / policy A) with its spread.
"""
from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

__all__ = ["parse_policy", "compare_policies", "plot_comparison", "write_markdown", "geomean"]


def geomean(xs) -> float | None:
    xs = [x for x in xs if x and x > 0 and math.isfinite(x)]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def parse_policy(text: str) -> tuple[str, str, str | None]:
    """`name=MODEL` or `name=MODEL+ADAPTER` -> (name, model folder, adapter folder or None)."""
    from paralift.errors import UsageError
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise UsageError(f"--policy must be NAME=MODEL or NAME=MODEL+ADAPTER, got {text!r}")
    model, _, adapter = rest.partition("+")
    for p in (model, adapter):
        if p and not Path(p).is_dir():
            raise UsageError(f"--policy {name}: no folder at {p}")
    return name.strip(), model, adapter or None


def _loadavg() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def compare_policies(policies: list[tuple[str, str, str | None]], targets: list[str], *, timing: bool = True,
                     timing_cap_s: float = 3.0, workers: int = 2, max_tokens: int = 120, limit: int | None = None,
                     max_timed: int | None = None, deadline: float | None = None, log=print) -> dict:
    """The side-by-side evaluation (module docstring); a JSON-able dict."""
    from paralift.agents import AnalysisError, NotParallelizable, build_task
    from paralift.agents.llm import LLMTranslator
    from paralift.agents.providers import HFProvider
    from paralift.sandbox import VerifyOptions
    from paralift.sandbox.inputs import generate_suite
    from paralift.sandbox.pool import Job, verify_many
    from paralift.sandbox.verify import measure
    from paralift.types import Target

    from .rewards import RewardConfig, plausible_bound
    from .tiny import evaluation_units

    t_start = time.time()
    agents = {}
    providers: dict[str, HFProvider] = {}
    for name, model, adapter in policies:
        prov = providers.get(model)
        if prov is None:
            prov = providers[model] = HFProvider(model, adapters={})
        if adapter:
            prov.adapters[name] = adapter
        agents[name] = LLMTranslator(prov, samples=1, max_tokens=max_tokens, quiet=True, strict=True,
                                     adapter=name if adapter else None)
    names = [p[0] for p in policies]
    units = evaluation_units()[:limit]
    rows: list[dict] = []
    jobs: dict[tuple[str, str, str], tuple] = {}
    for tg in targets:
        target = Target(tg)
        for ident, fn, src, lang in units:
            try:
                task = build_task(src, lang, fn, target)
            except AnalysisError:
                continue
            row = {"id": ident, "target": tg, "answers": {}, "_code": {}, "_task": task}
            for name in names:
                try:
                    [cand] = agents[name].propose(task, target)[:1]
                except NotParallelizable as e:
                    row["answers"][name] = {"status": None, "reason": str(e)[:200]}
                    continue
                plan = (cand.notes or "").partition("plan: ")[2] or None
                row["answers"][name] = {"plan": plan}
                row["_code"][name] = cand
                jobs.setdefault((tg, ident, cand.code), (task, cand))
            rows.append(row)
    log(f"{len(rows)} (function, target) pairs, {len(jobs)} distinct greedy candidates to verify")
    keys = list(jobs)
    verdicts = verify_many([Job(t, c, generate_suite(t.signature)) for t, c in jobs.values()],
                           VerifyOptions(timing=False), workers=workers, label="verifying") if jobs else []
    status = {k: v for k, v in zip(keys, verdicts)}
    for r in rows:
        for name, cand in r["_code"].items():
            v = status[(r["target"], r["id"], cand.code)]
            r["answers"][name]["status"] = v.status
            if not v.verified:
                r["answers"][name]["reason"] = (v.reason or "")[:200]
    measurements: list[dict] = []
    audits: list[dict] = []
    if timing:
        cfg = RewardConfig()
        measured: dict[tuple[str, str, str], dict] = {}
        k = 0
        for r in rows:
            ok = [n for n in names if r["answers"][n].get("status") == "verified"]
            if not ok:
                continue
            if (max_timed is not None and k >= max_timed) or (deadline is not None and time.time() > deadline):
                r["untimed"] = "time budget: kernels after this one were not timed"
                continue
            order = ok if k % 2 == 0 else list(reversed(ok))       # alternate who goes first
            k += 1
            for name in order:
                cand = r["_code"][name]
                key = (r["target"], r["id"], cand.code)
                if key not in measured:
                    la = _loadavg()
                    t0 = time.monotonic()
                    try:
                        t = measure(r["_task"], cand, generate_suite(r["_task"].signature),
                                    VerifyOptions(timing=True, timing_cap_s=timing_cap_s))
                        m = {"speedup": None, "reason": "no timing case"} if t is None else {
                            "speedup": round(t.speedup, 4), "ci_low": t.ci_low, "ci_high": t.ci_high,
                            "runs": t.runs, "workers": t.workers, "contended": bool(t.contended),
                            "load": t.load, "profile": t.profile}
                    except RuntimeError as e:
                        m = {"speedup": None, "reason": f"measurement failed: {str(e)[:200]}"}
                    m.update(id=r["id"], target=r["target"], policies=[name], loadavg_1min=la,
                             seconds=round(time.monotonic() - t0, 1), order=len(measurements))
                    if m.get("speedup"):
                        bound = plausible_bound(Target(r["target"]), m.get("workers") or 1, cfg)
                        if m["speedup"] > bound:
                            av = verify_many([Job(r["_task"], cand, generate_suite(r["_task"].signature,
                                                                                   seed=cfg.audit_seed))],
                                             VerifyOptions(timing=False), workers=1, quiet=True)[0]
                            audit = {"id": r["id"], "target": r["target"], "policy": name,
                                     "speedup": m["speedup"], "bound": bound, "fresh_inputs": av.status,
                                     "reason": (av.reason or "")[:200]}
                            audits.append(audit)
                            m["audit"] = audit
                    measured[key] = m
                    measurements.append(m)
                    log(f"timed {r['id']} [{r['target']}] for {name}: {m.get('speedup')} "
                        f"(load {la}, {m['seconds']} s)")
                else:
                    measured[key]["policies"].append(name)
                r["answers"][name]["timing"] = measured[key]["order"]
                r["answers"][name]["speedup"] = measured[key].get("speedup")
    for r in rows:
        r.pop("_code")
        r.pop("_task")
    summary: dict = {}
    for tg in targets:
        mine = [r for r in rows if r["target"] == tg]
        s = {}
        for name in names:
            ver = [r for r in mine if r["answers"][name].get("status") == "verified"]
            sp = [r["answers"][name].get("speedup") for r in ver if r["answers"][name].get("speedup")]
            s[name] = {"functions": len(mine), "pass@1": len(ver), "timed": len(sp),
                       "geomean_speedup": None if not sp else round(geomean(sp), 4),
                       "median_speedup": None if not sp else round(statistics.median(sp), 4)}
        if len(names) == 2:
            a, b = names
            both = [r for r in mine if all(r["answers"][n].get("speedup") for n in names)]
            ratios = [r["answers"][b]["speedup"] / r["answers"][a]["speedup"] for r in both]
            diff = [r for r in both if r["answers"][a].get("plan") != r["answers"][b].get("plan")]
            s["paired"] = {"kernels": len(both), "different_answers": len(diff),
                           "geomean_ratio": None if not ratios else round(geomean(ratios), 4),
                           "ratio": f"{b}/{a}",
                           "geomean_a": None if not both else round(geomean(r["answers"][a]["speedup"] for r in both), 4),
                           "geomean_b": None if not both else round(geomean(r["answers"][b]["speedup"] for r in both), 4)}
        summary[tg] = s
    loads = [m["loadavg_1min"] for m in measurements if m.get("loadavg_1min") is not None]
    return {"policies": [{"name": n, "model": m, "adapter": a} for n, m, a in policies], "targets": targets,
            "timing": timing, "timing_cap_s": timing_cap_s, "cores": os.cpu_count(),
            "loadavg_during_timing": {"min": round(min(loads), 2), "median": round(statistics.median(loads), 2),
                                      "max": round(max(loads), 2)}
            if loads else None,
            "contended_measurements": sum(bool(m.get("contended")) for m in measurements),
            "timed_kernels": sum(1 for r in rows if any(a.get("timing") is not None for a in r["answers"].values())),
            "untimed_kernels": sum(1 for r in rows if r.get("untimed")),
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t_start)),
            "wall_s": round(time.time() - t_start, 1), "summary": summary, "audits": audits,
            "measurements": measurements, "rows": rows}


def plot_comparison(res: dict, path: Path) -> Path | None:
    """Left: pass@1 and geometric-mean speedup per policy and target; right:
    per-kernel speedups of the two policies (95 % intervals), labelled with
    the machine load."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = [p["name"] for p in res["policies"]]
    tg = res["targets"][0]
    rows = [r for r in res["rows"] if r["target"] == tg and any(r["answers"][n].get("speedup") for n in names)]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), gridspec_kw={"width_ratios": [1, 1, 3]})
    s = res["summary"]
    w = 0.8 / len(names)
    for i, n in enumerate(names):
        axes[0].bar([j + i * w for j in range(len(res["targets"]))], [s[t][n]["pass@1"] for t in res["targets"]],
                    w, label=n)
        axes[1].bar([j + i * w for j in range(len(res["targets"]))],
                    [s[t][n]["geomean_speedup"] or 0 for t in res["targets"]], w, label=n)
    for ax, title in ((axes[0], f"pass@1 (of {s[tg][names[0]]['functions']})"),
                      (axes[1], "geo-mean speedup, verified")):
        ax.set_xticks([j + w * (len(names) - 1) / 2 for j in range(len(res["targets"]))], res["targets"])
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    axes[1].axhline(1.0, color="gray", lw=0.8)
    ax = axes[2]
    for i, n in enumerate(names):
        xs, ys, lo, hi = [], [], [], []
        for j, r in enumerate(rows):
            a = r["answers"][n]
            if not a.get("speedup"):
                continue
            m = res["measurements"][a["timing"]]
            xs.append(j + (i - 0.5) * 0.3)
            ys.append(a["speedup"])
            lo.append(a["speedup"] - (m.get("ci_low") or a["speedup"]))
            hi.append(((m.get("ci_high") or a["speedup"]) - a["speedup"]) if m.get("ci_high") else 0)
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", ms=3, capsize=2, label=n)
    ax.set_yscale("log")
    ax.axhline(1.0, color="gray", lw=0.8)
    ax.set_xticks(range(len(rows)), [r["id"].split(":")[-1] for r in rows], rotation=90, fontsize=6)
    load = res.get("loadavg_during_timing") or {}
    ax.set_title(f"{tg}: per-kernel speedup (95 % interval); LOADED machine: {res.get('cores')} cores, "
                 f"1-min load {load.get('min')}-{load.get('max')}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_markdown(res: dict, path: Path, note: str = "") -> None:
    names = [p["name"] for p in res["policies"]]
    load = res.get("loadavg_during_timing") or {}
    L = [f"# {' vs '.join(names)} on the held-out kernels, one run", "",
         f"Started {res['started']}, {res['wall_s']} s wall, on a shared {res['cores']}-core machine: **timings "
         f"are loaded** (1-min load average {load.get('min')}-{load.get('max')}, median {load.get('median')}, "
         f"during the measurements; {res['contended_measurements']} of {len(res['measurements'])} measurements "
         "saw other processes holding cores). Same kernels, greedy answers, each distinct verified candidate "
         f"timed once (`sandbox.verify.measure`, cap {res['timing_cap_s']} s per input profile), the policies' "
         "order alternating kernel by kernel."
         + (f" Timed: the first {res['timed_kernels']} kernels with a verified answer; {res['untimed_kernels']} "
            "more were verified but not timed (time budget), so the speedup columns cover the timed ones only."
            if res.get("untimed_kernels") else ""), "",
         "| target | policy | pass@1 | timed | geo-mean speedup (verified) | median |", "|---|---|---|---|---|---|"]
    for tg, s in res["summary"].items():
        for n in names:
            x = s[n]
            L.append(f"| {tg} | {n} | {x['pass@1']}/{x['functions']} | {x['timed']} | {x['geomean_speedup']} | "
                     f"{x['median_speedup']} |")
    for tg, s in res["summary"].items():
        if "paired" in s:
            p = s["paired"]
            L += ["", f"{tg}, kernels both policies verified and timed: {p['kernels']} ({p['different_answers']} with "
                  f"different plans); geo-mean speedup {p['geomean_a']} vs {p['geomean_b']}, "
                  f"geo-mean of the per-kernel ratio {p['ratio']}: **{p['geomean_ratio']}**."]
    L += ["", f"Audits (speedups above the plausibility bound, re-verified on fresh inputs): {len(res['audits'])}"]
    L += [f"- {a['id']} [{a['target']}] {a['policy']}: {a['speedup']} > {a['bound']}: {a['fresh_inputs']}"
          for a in res["audits"]]
    if note:
        L += ["", note]
    path.write_text("\n".join(L) + "\n")


def main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m paralift.training.compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy", action="append", required=True, help="NAME=MODEL or NAME=MODEL+ADAPTER (twice)")
    ap.add_argument("--targets", default="openmp")
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--timing-cap", type=float, default=3.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="first N held-out functions only")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-timed", type=int, default=None, help="time the first N kernels with a verified answer only")
    ap.add_argument("--minutes", type=float, default=None, help="stop starting measurements after this long")
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    pols = [parse_policy(p) for p in args.policy]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res = compare_policies(pols, [t.strip() for t in args.targets.split(",") if t.strip()],
                           timing=not args.no_timing, timing_cap_s=args.timing_cap, workers=args.workers,
                           limit=args.limit, max_timed=args.max_timed,
                           deadline=time.time() + args.minutes * 60 if args.minutes else None, log=lambda m: print(f"[compare] {m}", file=sys.stderr, flush=True))
    res["command"] = "python -m paralift.training.compare " + " ".join(argv if argv is not None else sys.argv[1:])
    (out / "comparison.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    plot_comparison(res, out / "comparison.png")
    write_markdown(res, out / "comparison.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

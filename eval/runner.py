"""The evaluation harness: generate -> execute -> score, each stage resumable.

    OUT/run.json            the configuration of the run (suite, targets, agents, options)
    OUT/generations.jsonl   one line per sample: task, target, agent, model, sample index, code
                            (or why the agent declined)
    OUT/samples.jsonl       one line per sample: its verdict (built, passed, tests, speedup, reason)
    OUT/summary.json        the metrics per agent and target
    OUT/pass_at_k.png, OUT/speedup.png

* generate: asks every agent for candidates of every (task, target); a
  generations file already there is kept, and only missing (task, target,
  agent) groups are generated.
* execute: verifies every generation with ``sandbox.verify`` (GCC's
  auto-parallelizer through ``autopar``) on an executor; a sample whose key
  (task, target, code and verification options) is already in samples.jsonl is
  not verified again, so an interrupted run resumes where it stopped.
* score: metrics from samples.jsonl alone (re-scoring with other k or
  policies never regenerates nor re-verifies).
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from paralift.errors import UsageError
from paralift.types import Candidate, Target

from . import autopar
from .suites import Suite, SuiteTask

NON_MODEL_AGENTS = ("gcc-autopar",)
AGENT_ALIASES = {"gcc": "gcc-autopar", "autopar": "gcc-autopar", "gcc-autopar": "gcc-autopar"}


def _log(msg: str) -> None:
    print(f"paralift eval: {msg}", file=sys.stderr, flush=True)


@dataclass
class EvalConfig:
    suite: str = "builtin"
    targets: tuple[str, ...] = ("openmp", "mpi", "cuda")
    backends: tuple[str, ...] = ("rule",)
    model: str | None = None
    samples: int = 1
    ks: tuple[int, ...] = (1, 5, 10)
    timing: bool = True
    workers: int = 0                   # threads/ranks of the timing run (the n of speedup_n@k); 0: all cores
    speedup_failed: str = "zero"
    tasks: tuple[str, ...] = ()
    limit: int | None = None
    seed: int = 0
    sample_timeout: float = 1800.0     # harness wall limit per verification (0: none)

    def verify_options(self):
        from paralift.sandbox import VerifyOptions
        return VerifyOptions(timing=self.timing, timing_workers=self.workers, seed=self.seed)

    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 2


# ------------------------------------------------------------------ jsonl helpers

def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue        # a line cut short by an interrupted run: regenerated
    return out


def write_jsonl(path: Path, records: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        for r in records:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _order(r: dict) -> tuple:
    return (r["task"], r["target"], r["agent"], r.get("model") or "", r["sample"])


# ------------------------------------------------------------------ generate

def make_agents(cfg: EvalConfig) -> list:
    """Model/rule agents via the pipeline; GCC's auto-parallelizer by name."""
    from paralift.pipeline import make_agents as pipeline_agents
    names = []
    for b in cfg.backends:
        b = b.strip().lower()
        names.append(AGENT_ALIASES.get(b, b))
    others = [b for b in dict.fromkeys(names) if b not in NON_MODEL_AGENTS]
    agents: list = []
    if others:
        made = pipeline_agents(others, cfg.model, cfg.samples)
        if isinstance(made, tuple):          # (agents, notes)
            made, notes = made
            for n in notes:
                _log(n)
        agents = list(made)
    if "gcc-autopar" in names:
        agents.append("gcc-autopar")
    return agents


def _agent_name(agent) -> str:
    return agent if isinstance(agent, str) else getattr(agent, "name", type(agent).__name__)


def generate(suite: Suite, cfg: EvalConfig, out: Path, on_event: Callable[[str], None] = _log) -> list[dict]:
    from paralift.agents import AnalysisError, NotParallelizable, build_task

    path = out / "generations.jsonl"
    existing = read_jsonl(path)
    done = {(r["task"], r["target"], r["agent"]) for r in existing}
    agents = make_agents(cfg)
    records = list(existing)
    new = 0
    for st in suite.tasks:
        for target in suite.targets:
            if target not in st.targets:
                continue
            tgt = Target.parse(target)
            try:
                task = build_task(st.source, st.language, st.function, tgt, st.path or st.id)
                analysis_error = None
            except AnalysisError as e:
                task, analysis_error = None, str(e)
            for agent in agents:
                name = _agent_name(agent)
                if name == "gcc-autopar" and target != "openmp":
                    continue
                if (st.id, target, name) in done:
                    continue
                base = {"task": st.id, "target": target, "agent": name, "model": None}
                if analysis_error is not None:
                    records.append({**base, "sample": 0, "status": "error", "code": None,
                                    "reason": f"analysis: {analysis_error}"})
                    new += 1
                    continue
                if name == "gcc-autopar":
                    c = autopar.propose(task, cfg.n_workers())
                    records.append({**base, "model": c.model, "sample": 0, "status": "ok", "code": c.code,
                                    "prompt": None, "reason": "", "notes": c.notes})
                    new += 1
                    continue
                if name != "rule" and st.prompts.get(target):
                    task.analysis.setdefault("prompt", st.prompts[target])
                try:
                    cands = agent.propose(task, tgt)
                    reason = ""
                except NotParallelizable as e:
                    cands, reason = [], str(e)
                except Exception as e:  # noqa: BLE001 - an agent crash is that agent's failed sample
                    cands, reason = [], f"agent error: {type(e).__name__}: {e}"
                if not cands:
                    records.append({**base, "sample": 0, "status": "declined", "code": None,
                                    "reason": reason or "no candidate"})
                else:
                    for i, c in enumerate(cands):
                        records.append({**base, "agent": c.agent or name, "model": c.model, "sample": i,
                                        "status": "ok", "code": c.code, "prompt": c.prompt, "reason": "",
                                        "notes": c.notes})
                new += 1
    records.sort(key=_order)
    write_jsonl(path, records)
    on_event(f"generations: {len(records)} sample(s) ({new} new group(s)) -> {path}")
    return records


# ------------------------------------------------------------------ execute

def sample_key(st: SuiteTask, suite: Suite, gen: dict, cfg: EvalConfig) -> str:
    blob = json.dumps([st.source, st.language, st.function, suite.sizes, suite.large, suite.seed,
                       gen["target"], gen["agent"], gen.get("model"), gen.get("status"), gen.get("code"),
                       cfg.timing, cfg.n_workers() if cfg.timing else None, cfg.seed], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


@dataclass
class Unit:
    """One task, all its targets and agents: everything a worker needs,
    picklable. Per task, so that a worker builds the task's sequential
    reference (and its sanitizer checks) once for every target and agent."""
    task: SuiteTask
    generations: list[dict]
    keys: list[str]
    sizes: tuple[int, ...] | None
    large: int | None
    seed: int
    timing: bool
    workers: int
    sample_timeout: float = 0.0


class HarnessTimeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float):
    """A last-resort wall limit on one verification (the sandbox bounds every
    compile and run; this catches a hang in the harness itself, e.g. a
    pathological regex). SIGALRM, so only in a worker's main thread."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def fire(signum, frame):
        raise HarnessTimeout(f"verification exceeded the harness limit of {seconds:g} s (not the candidate's "
                             "run: the sandbox limits those)")
    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_unit(unit: Unit) -> list[dict]:
    """Verify one unit's samples (runs in a worker: local pool or MPI rank)."""
    from paralift.agents import AnalysisError, build_task
    from paralift.sandbox import VerifyOptions, verify
    from paralift.sandbox.inputs import generate_suite

    host = os.uname().nodename
    opts = VerifyOptions(timing=unit.timing, timing_workers=unit.workers, seed=unit.seed)
    st = unit.task
    setups: dict[str, tuple] = {}
    out = []
    for gen, key in zip(unit.generations, unit.keys):
        tgt = Target.parse(gen["target"])
        if gen["target"] not in setups:
            try:
                task = build_task(st.source, st.language, st.function, tgt, st.path or st.id)
                tests = generate_suite(task.signature, seed=unit.seed,
                                       sizes=list(unit.sizes) if unit.sizes else None, large=unit.large)
                setups[gen["target"]] = (task, tests, None)
            except (AnalysisError, ValueError) as e:
                setups[gen["target"]] = (None, None, f"analysis: {e}")
        task, tests, setup_error = setups[gen["target"]]
        t0 = time.perf_counter()
        rec = {k: gen.get(k) for k in ("task", "target", "agent", "model", "sample")}
        rec.update(key=key, host=host, pid=os.getpid())
        if gen["status"] != "ok" or setup_error:
            status = "error" if (gen["status"] == "error" or setup_error) else "declined"
            rec.update(status=status, built=False, passed=False, tests_passed=0, tests_total=0, speedup=None,
                       speedup_reason="", workers=None, reason=gen.get("reason") or setup_error or "", executor=None,
                       policy_violations=[], seconds=0.0)
            out.append(rec)
            continue
        cand = Candidate(code=gen["code"], target=tgt, agent=gen["agent"], model=gen.get("model"))
        try:
            with _time_limit(unit.sample_timeout):
                if gen["agent"] == autopar.AGENT:
                    v = autopar.verify_autopar(task, cand, tests, opts, unit.workers or os.cpu_count() or 2)
                else:
                    v = verify(task, cand, tests, opts)
            status, reason = v.status, v.reason
        except Exception as e:  # noqa: BLE001 - infrastructure failure: recorded, never fatal
            from paralift.types import Verdict
            what = str(e) if isinstance(e, HarnessTimeout) else f"internal error: {type(e).__name__}: {e}"
            v = Verdict(target=tgt, status="error", reason=what)
            status, reason = v.status, v.reason
        rec.update(status=status, built=bool(v.built), passed=v.verified, tests_passed=v.tests_passed,
                   tests_total=v.tests_total, speedup=v.speedup, speedup_reason=v.speedup_reason,
                   workers=v.timing.workers if v.timing else None,
                   timing=dataclasses.asdict(v.timing) if v.timing else None,
                   reason=reason, executor=v.executor, policy_violations=list(v.policy_violations),
                   seconds=round(time.perf_counter() - t0, 3))
        out.append(rec)
    return out


def execute(suite: Suite, cfg: EvalConfig, out: Path, executor, generations: list[dict] | None = None,
            on_event: Callable[[str], None] = _log) -> tuple[list[dict], dict]:
    from paralift.progress import Progress

    gens = generations if generations is not None else read_jsonl(out / "generations.jsonl")
    if not gens:
        raise UsageError(f"no generations in {out} (run the generate stage first)")
    tasks = {t.id: t for t in suite.tasks}
    path = out / "samples.jsonl"
    previous = {r["key"]: r for r in read_jsonl(path) if "key" in r}
    keep, units_map = [], {}
    for g in gens:
        st = tasks.get(g["task"])
        if st is None or g["target"] not in suite.targets:
            continue
        key = sample_key(st, suite, g, cfg)
        if key in previous:
            keep.append(previous[key])
            continue
        u = units_map.get(st.id)
        if u is None:
            u = units_map[st.id] = Unit(st, [], [], suite.sizes, suite.large, suite.seed, cfg.timing, cfg.workers,
                                        cfg.sample_timeout)
        u.generations.append(g)
        u.keys.append(key)
    units = list(units_map.values())
    n_new = sum(len(u.generations) for u in units)
    on_event(f"{len(keep)} sample(s) already verified, {n_new} to verify in {len(units)} unit(s) "
             f"on the {executor.name} executor ({executor.workers} worker(s))")
    records = list(keep)
    write_jsonl(path, sorted(records, key=_order))
    t0 = time.perf_counter()
    progress = Progress("verifying", n_new)
    with open(path, "a") as f:
        for _, recs in executor.imap_unordered(run_unit, units):
            for r in recs:
                f.write(json.dumps(r, sort_keys=True) + "\n")
                progress.advance(r["status"])
            f.flush()
            records.extend(recs)
    progress.close()
    wall = time.perf_counter() - t0
    records.sort(key=_order)
    write_jsonl(path, records)
    stats = {"verified_now": n_new, "reused": len(keep), "wall_s": round(wall, 3),
             "samples_per_min": round(60.0 * n_new / wall, 2) if wall > 0 and n_new else None,
             **executor.describe()}
    on_event(f"verified {n_new} sample(s) in {wall:.1f} s -> {path}")
    return records, stats


# ------------------------------------------------------------------ score

def score(suite: Suite, cfg: EvalConfig, records: list[dict] | None = None, out: Path | None = None) -> dict:
    from . import metrics, textsim

    if records is None:
        records = read_jsonl(out / "samples.jsonl")
    gens = {(g["task"], g["target"], g["agent"], g.get("model") or "", g["sample"]): g
            for g in read_jsonl(out / "generations.jsonl")} if out else {}
    tasks = {t.id: t for t in suite.tasks}
    records = sorted((r for r in records if r["task"] in tasks and r["target"] in suite.targets), key=_order)
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        groups.setdefault((r["agent"], r["target"]), []).append(r)
    results = []
    agent_order = [AGENT_ALIASES.get(b.strip().lower(), b.strip().lower()) for b in cfg.backends]

    def order(key):
        agent, target = key
        return (list(suite.targets).index(target) if target in suite.targets else 99,
                agent_order.index(agent) if agent in agent_order else len(agent_order), agent)

    for (agent, target), recs in sorted(groups.items(), key=lambda kv: order(kv[0])):
        model = next((r["model"] for r in recs if r.get("model")), None)
        problems: dict[str, list] = {}
        not_evaluated: dict[str, str] = {}
        declined = {"count": 0, "on_sequential_tasks": 0}
        for r in recs:
            if r["status"] == "error":
                not_evaluated.setdefault(r["task"], r.get("reason", ""))
                continue
            if r["status"] == "declined":
                declined["count"] += 1
                if tasks[r["task"]].parallel is False:
                    declined["on_sequential_tasks"] += 1
            problems.setdefault(r["task"], []).append(
                metrics.SampleOutcome(bool(r["built"]), bool(r["passed"]), r.get("speedup")))
        for t in problems:
            not_evaluated.pop(t, None)
        agg = metrics.aggregate(problems, cfg.ks, cfg.n_workers() if target != "cuda" else 1,
                                failed=cfg.speedup_failed, efficiency=(target != "cuda"), timed=cfg.timing)
        # text similarity where the suite has references
        hyps, refs = [], []
        for r in recs:
            ref = tasks[r["task"]].references.get(target)
            g = gens.get((r["task"], r["target"], r["agent"], r.get("model") or "", r["sample"]))
            if ref and g and g.get("code"):
                hyps.append(g["code"])
                refs.append(ref)
        lang = "cpp" if target == "cuda" else ("cpp" if any(tasks[r["task"]].language == "cpp" for r in recs) else "c")
        bleu = textsim.bleu(hyps, refs)
        cb = textsim.codebleu(hyps, refs, lang)
        speedup_notes = sorted({r.get("speedup_reason") for r in recs if r.get("passed") and r.get("speedup") is None
                                and r.get("speedup_reason")})
        results.append({"agent": agent, "model": model or None, "target": target, **agg,
                        "declined": declined, "not_evaluated": dict(sorted(not_evaluated.items())),
                        "bleu": round(bleu, 4) if bleu is not None else None,
                        "codebleu": {k: round(v, 4) if v is not None else None for k, v in cb.items()} if cb else None,
                        "references": len(refs), "speedup_notes": speedup_notes,
                        "tasks": {t: _task_line(s) for t, s in sorted(problems.items())}})
    return {"suite": suite.describe(),
            "config": {"targets": list(suite.targets), "backends": list(cfg.backends), "model": cfg.model,
                       "samples": cfg.samples, "k": list(cfg.ks), "timing": cfg.timing, "n": cfg.n_workers(),
                       "speedup_failed": cfg.speedup_failed, "seed": cfg.seed},
            "definitions": metrics.DEFINITIONS, "results": results}


def _task_line(samples) -> dict:
    return {"n": len(samples), "built": sum(s.built for s in samples), "passed": sum(s.passed for s in samples),
            "speedups": [s.speedup for s in samples if s.passed and s.speedup is not None]}


# ------------------------------------------------------------------ driver

STAGES = ("all", "generate", "execute", "score")


def run(suite: Suite, cfg: EvalConfig, out: Path, stage: str = "all", executor_kind: str = "auto",
        jobs: int | None = None, plots: bool = True, stdout=None) -> dict:
    from . import report
    from .executors import make_executor

    if stage not in STAGES:
        raise UsageError(f"unknown stage {stage!r} (choose {', '.join(STAGES)})")
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").write_text(json.dumps({"suite": suite.describe(), "config": dataclasses.asdict(cfg)},
                                             indent=2, default=str) + "\n")
    gens = None
    stats = None
    ex = make_executor(executor_kind, jobs) if stage in ("all", "execute") else None
    try:
        if stage in ("all", "generate"):
            gens = generate(suite, cfg, out)
        records = None
        if ex is not None:
            records, stats = execute(suite, cfg, out, ex, gens)
    finally:
        if ex is not None:
            ex.close()
    if stage == "generate":
        return {}
    summary = score(suite, cfg, records, out)
    if stats:
        summary["execution"] = stats
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n")
    text = report.markdown(summary)
    (out / "summary.md").write_text(text)
    (stdout or sys.stdout).write(text)
    if plots:
        from . import plots as plotting
        written = plotting.write_all(summary, out)
        for p in written:
            _log(f"wrote {p}")
    _log(f"wrote {out / 'summary.json'}")
    return summary

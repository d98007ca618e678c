"""`paralift data build`: the verified parallel-code corpus (issue 7).

Pipeline per work unit (family, seed):
  generator -> sequential C kernel -> analysis (`agents.build_task`) ->
  decontamination against an evaluation suite (dropped and reported) ->
  tester suite (`agents.tester.generate_tests`: edges 0..3, odd/prime sizes not
  divisible by 2, 3 or a CUDA block, degenerate shapes, a large case and race
  cases; inputs are seeded generator specs, so a suite is a small JSON) ->
  candidates from the enabled agents for each target ->
  `sandbox.batch.verify_batch` (the checks of `sandbox.verify` for many
  functions per build; anything it cannot decide goes through `verify` itself)
  -> only verified candidates become examples.

Output directory:
  examples.jsonl          every verified example (append-only while building)
  done.jsonl              the done-index: one line per finished work unit (resume)
  train.jsonl / validation.jsonl / test.jsonl   the splits (DESIGN.md §5 + prompt/completion)
  stats.json              counts, verification rate per agent, decontamination result
  README.md               the dataset card (YAML header)

Splits are assigned by a hash of the family and the kernel's *skeleton* (its
token stream with identifiers and literals abstracted), so the three targets
of one kernel, and any two seeds that generated the same code up to names,
always land in the same split: no near-duplicate crosses train/validation/test.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from paralift.errors import UsageError

SPLITS = (("train", 0.90), ("validation", 0.05), ("test", 0.05))
TARGETS = ("openmp", "mpi", "cuda")
AGENTS = ("rule",)
LARGE_ELEMENTS = 1 << 12     # elements per array in the large case (corpus setting: 16 CUDA blocks)
RACE_ELEMENTS = 1 << 13      # ... in the race cases
# O(n^2) work on 1-D data: smaller cases. conv1d, escape_time and poly_array
# are quadratic too: the tester scales their second size (taps, iteration
# limit, order) with n, so a race case of 8209 x 9277 cost 0.15-0.3 s per call
QUADRATIC = {"nbody", "scan_quadratic", "pairwise_distance", "conv1d", "escape_time", "poly_array"}
MAX_CASE_RATIO = 2.0         # no case may cost the reference more than twice the large/race cases (sandbox.batch)
NGRAM = 13
CONTAMINATION_OVERLAP = 0.5  # share of a kernel's token 13-grams found in the eval suite


@dataclass
class BuildConfig:
    out: Path
    families: list[str]
    count: int = 100                    # kernels (seeds) per family
    targets: tuple[str, ...] = TARGETS
    agents: tuple[str, ...] = AGENTS
    workers: int = 2
    batch_size: int = 96
    seed: int = 0                       # first seed
    decontaminate: str | None = "builtin"
    quiet: bool = False
    max_seconds: float | None = None    # stop scheduling new batches after this long (resume later)
    executor: str = "auto"              # auto (MPI inside an mpi4py.futures job, else local) | local | mpi
    timing: bool = False                # time every verified candidate (sandbox.verify.measure) into `timing`
    timing_cap_s: float = 10.0          # per input profile: the measurement's time cap (VerifyOptions.timing_cap_s)


# ------------------------------------------------------------------ keys and splits

_KEYWORDS = {"void", "int", "long", "float", "double", "char", "unsigned", "signed", "short", "const", "for", "while",
             "if", "else", "return", "do", "break", "continue", "sizeof", "static", "struct", "size_t"}


def skeleton(source: str) -> str:
    """Normalized tokens with identifiers (except keywords, types and called
    functions' names kept as `F`) and numbers abstracted: equal for kernels that
    differ only in names and constants."""
    from paralift.eval.textsim import code_tokens
    toks = code_tokens(source)
    out = []
    for t in toks:
        if t in _KEYWORDS:
            out.append(t)
        elif t[:1].isalpha() or t[:1] == "_":
            out.append("ID")
        elif t[:1].isdigit() or (t[:1] == "." and t[1:2].isdigit()):
            out.append("NUM")
        else:
            out.append(t)
    return " ".join(out)


def split_of(family: str, source: str) -> str:
    h = int(hashlib.sha256(f"{family}\0{skeleton(source)}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    acc = 0.0
    for name, frac in SPLITS:
        acc += frac
        if h < acc:
            return name
    return SPLITS[-1][0]


def example_id(family: str, seed: int, target: str) -> str:
    return f"{family}-{seed:06d}-{target}"


# ------------------------------------------------------------------ decontamination

class Decontaminator:
    """Normalized-token n-gram overlap with an evaluation suite (eval.suites'
    normalization and index): a kernel sharing at least CONTAMINATION_OVERLAP of
    its 13-grams with the suite, or equal to a suite kernel up to names and
    constants (same skeleton), is a collision."""

    def __init__(self, suite: str | None, n: int = NGRAM, threshold: float = CONTAMINATION_OVERLAP):
        from paralift.eval import suites
        self.suite, self.n, self.threshold = suite, n, threshold
        self.index: set[str] = set()
        self.skeletons: dict[str, str] = {}
        if suite:
            s = suites.load_suite(suite)
            self.index = suites.decontamination_index(s, n)
            for t in s.tasks:
                self.skeletons[skeleton(t.source)] = t.id
            self.tasks = len(s.tasks)
        else:
            self.tasks = 0

    def check(self, source: str) -> tuple[bool, float, str]:
        """(collides, overlap fraction, the suite task it equals or '')."""
        if not self.suite:
            return False, 0.0, ""
        from paralift.eval.suites import _ngram_hashes, normalize_source
        grams = _ngram_hashes(normalize_source(source).split(), self.n)
        overlap = len(grams & self.index) / len(grams) if grams else 0.0
        same = self.skeletons.get(skeleton(source), "")
        return (overlap >= self.threshold or bool(same)), overlap, same


# ------------------------------------------------------------------ one batch (in a worker process)

def corpus_suite(task, seed: int, family: str):
    """The tester's deterministic suite at corpus sizes (see module docstring)."""
    from paralift.agents.tester import generate_tests
    from paralift.sandbox import inputs
    sig = task.signature
    large = LARGE_ELEMENTS >> 3 if family in QUADRATIC else LARGE_ELEMENTS
    race = large if family in QUADRATIC else RACE_ELEMENTS
    return generate_tests(task, seed, large=inputs.large_size(sig, large), race=inputs.large_size(sig, race))


def _propose(agent: str, source: str, function: str, target: str, language: str = "c"):
    from paralift.agents import AnalysisError, NotParallelizable, RuleBasedTranslator, build_task
    from paralift.types import Target
    tg = Target.parse(target)
    if agent != "rule":
        raise UsageError(f"unknown agent {agent!r} for corpus building (available: rule)")
    try:
        task = build_task(source, language, function, tg)
        cands = RuleBasedTranslator().propose(task, tg)
    except (NotParallelizable, AnalysisError) as e:
        return [], str(e)
    if tg in (Target.CUDA, Target.OPENMP):
        why = _region_per_iteration(source, function, tg, language)
        if why:
            return [], why
    return cands, ""


def _region_per_iteration(source: str, function: str, target, language: str = "c") -> str:
    """Why an OpenMP or CUDA translation is left out of the corpus: a parallel
    loop that sits inside a sequential one becomes a fork/join (OpenMP) or a
    kernel launch, synchronization and copy (CUDA) per outer iteration (the
    per-row dot product of a CSR product or a matrix product whose output may
    alias its inputs, a quadratic scan). Such code is slower than the
    sequential loop and a poor example to learn from, and its verification
    costs minutes: 3 OpenMP threads on 2 cores hand over through the kernel
    for each of a 64x64 product's 4096 regions (about 25 CPU seconds for one
    matrix product's runs), and emulated CUDA runs 8209 launches of block
    reductions per race case. codegen_mpi declines the same shape for MPI."""
    from paralift.agents.analysis import analyze
    what = "a kernel launch" if target.value == "cuda" else "a parallel region"
    for f in analyze(source, language, function).chosen_loops():
        if f.loop.parent is not None:
            return (f"'{function}' is left out for {target.value} by the corpus builder: the parallel loop at line "
                    f"{f.loop.line} sits inside the sequential loop at line {f.loop.parent.line} ({what} per iteration)")
    return ""


def _plan_text(source: str, function: str, cand, language: str = "c") -> str:
    """The plan (agents.plan) a rule candidate carries out, '' when it is not one
    (the function was rewritten first, or another agent wrote the code)."""
    from paralift.agents import first_match
    from paralift.agents.analysis import analyze
    from paralift.agents.plan import plan_of
    if cand.agent != "rule" or first_match.NOTE in (cand.notes or ""):
        return ""
    return str(plan_of(analyze(source, language, function), cand.target))


def timing_field(task, cand, suite, verdict, cap_s: float = 10.0, seed: int = 0) -> str:
    """The `timing` field of a record: the verified candidate's speedup over
    the sequential reference measured by `sandbox.verify.measure` (interleaved
    reference/candidate processes, the 95 % interval, the machine's load), as a
    JSON string (one Arrow type in every split): {"speedup", "ci_low",
    "ci_high", "runs", "workers", "sequential_s", "candidate_s", "profile",
    "contended", "load", "reason"}. speedup is null with the reason when there
    is nothing to time: CUDA on CPU emulation (speed is only measured on a
    GPU), no timing case, or a measurement that failed."""
    from paralift.sandbox.verify import VerifyOptions, measure
    keys = ("speedup", "ci_low", "ci_high", "runs", "workers", "sequential_s", "candidate_s", "profile",
            "contended", "load")
    out: dict = {k: None for k in keys}
    out["reason"] = ""
    if verdict.executor == "cpu-emulated":
        out["reason"] = "no GPU: the CUDA code ran on CPU emulation, and speedup is only measured on a GPU"
    else:
        try:
            t = measure(task, cand, suite, VerifyOptions(timing=True, timing_cap_s=cap_s, seed=seed))
        except RuntimeError as e:
            t, out["reason"] = None, f"measurement failed: {str(e)[:200]}"
        if t is None and not out["reason"]:
            out["reason"] = "no timing case"
        if t is not None:
            out.update(speedup=round(t.speedup, 4),
                       ci_low=None if t.ci_low is None else round(t.ci_low, 4),
                       ci_high=None if t.ci_high is None else round(t.ci_high, 4),
                       runs=t.runs, workers=t.workers, sequential_s=t.sequential_s, candidate_s=t.candidate_s,
                       profile=t.profile, contended=bool(t.contended), load=t.load)
    return json.dumps(out, separators=(",", ":"), sort_keys=True)


def process_batch(units: list[tuple[str, int]], targets: tuple[str, ...], agents: tuple[str, ...],
                  timing: bool = False, timing_cap_s: float = 10.0) -> dict:
    """Generate, propose and verify one batch; returns examples and per-unit status.
    With `timing`, every verified candidate is then timed (`timing_field`)."""
    from paralift.agents import AnalysisError, build_task
    from paralift.agents.tester import TesterError
    from paralift.sandbox.batch import BatchItem, phase, verify_batch
    from paralift.sandbox.verify import VerifyOptions
    from paralift.jsonl import suite_field
    from paralift.types import Target
    from . import generator
    t0 = time.monotonic()
    profile: dict = {}
    items, meta, status = [], [], {}
    agent_stats: dict[str, Counter] = defaultdict(Counter)
    for family, seed in units:
        key = f"{family}:{seed}"
        with phase(profile, "generate"):
            k = generator.generate(family, seed)
        try:
            with phase(profile, "analysis"):
                task = build_task(k.source, k.language, k.function, None)
            with phase(profile, "suite"):
                suite = corpus_suite(task, seed, family)
        except (AnalysisError, TesterError, ValueError) as e:
            status[key] = {"status": "unusable", "reason": str(e)[:200]}
            continue
        cands, reasons = [], {}
        for agent in agents:
            for target in targets:
                with phase(profile, "translate"):
                    cs, why = _propose(agent, k.source, k.function, target, k.language)
                agent_stats[agent]["proposed" if cs else "declined"] += 1
                if why:
                    reasons[target] = why[:200]
                cands += cs[:1]
        status[key] = {"status": "ok", "function": k.function, "declined": reasons}
        if cands:
            # MPI ranks share no memory to race on: its candidates skip the race
            # cases, as the tester's own suite for an MPI task does
            only = {Target.MPI: [c.name for c in suite.cases if not c.name.startswith("race-")]}
            items.append(BatchItem(task, suite, cands, only=only, max_case_ratio=MAX_CASE_RATIO))
            meta.append((k, key))
    verdicts = verify_batch(items, VerifyOptions(timing=False), profile=profile) if items else []
    rec_phase = phase(profile, "records")
    rec_phase.__enter__()
    examples = []
    from paralift.training.sft import example_from_record
    for item, (k, key), vs in zip(items, meta, verdicts):
        ver = Counter()
        for cand, v in zip(item.candidates, vs):
            agent_stats[cand.agent]["verified" if v.verified else "rejected"] += 1
            ver[v.status] += 1
            if not v.verified:
                status[key].setdefault("rejected", {})[cand.target.value] = v.reason[:200]
                continue
            rec = {
                "id": example_id(k.family, k.seed, cand.target.value),
                "family": k.family,
                "group": generator.family_group(k.family),
                "seed": k.seed,
                "source_lang": k.language,
                "language": k.language,
                "target": cand.target.value,
                "function": k.function,
                "source": k.source,
                "reference": cand.code,
                "plan": _plan_text(k.source, k.function, cand, k.language),
                "tests": suite_field(item.suite_for(cand.target)),
                "provenance": {
                    "generator": "paralift.data.generator", "family": k.family, "seed": k.seed, "style": k.style,
                    "agent": cand.agent, "model": cand.model or "",
                    "verifier": "sandbox.batch" if any("batch" in l for l in v.logs) else "sandbox.verify",
                    "executor": v.executor, "tests_passed": v.tests_passed,
                    "dropped_cases": ",".join(item.dropped_cases),
                    "verify_options": {"threads": [1, 2, 3], "ranks": [1, 2, 3], "repeats": 2, "timing": False},
                },
                "verified": True,
                "split": split_of(k.family, k.source),
                "timing": "",
            }
            if timing:
                with phase(profile, "timing"):
                    rec["timing"] = timing_field(item.task, cand, item.suite_for(cand.target), v, timing_cap_s,
                                                 seed=k.seed)
            ex = example_from_record(rec, "compact")
            if ex is None:
                continue
            rec["prompt"], rec["completion"] = ex["prompt"], ex["completion"]
            examples.append(rec)
        status[key]["verdicts"] = dict(ver)
    rec_phase.__exit__(None, None, None)
    return {"examples": examples, "status": status, "agents": {a: dict(c) for a, c in agent_stats.items()},
            "seconds": time.monotonic() - t0,
            "profile": {k: [round(v[0], 3), round(v[1], 3), v[2]] for k, v in profile.items()}}


# ------------------------------------------------------------------ the build

def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass          # a line cut by an interruption: its unit is not in the done-index, so it is redone
    return out


def _batches(units: list[tuple[str, int]], size: int) -> list[list[tuple[str, int]]]:
    """Batches of distinct function names (a batch links its functions together)."""
    from . import generator
    out: list[list[tuple[str, int]]] = []
    cur: list[tuple[str, int]] = []
    names: set[str] = set()
    spill: list[tuple[str, int]] = []
    for u in units:
        nm = generator.generate(*u).function
        if nm in names:
            spill.append(u)
            continue
        cur.append(u)
        names.add(nm)
        if len(cur) >= size:
            out.append(cur)
            cur, names = [], set()
    if cur:
        out.append(cur)
    if spill:
        out += _batches(spill, size)
    return out


def _pool(cfg: BuildConfig) -> tuple[cf.Executor, int]:
    """(executor, workers): a local forkserver process pool, or the ranks of
    an MPI job (`mpirun -n N python -m mpi4py.futures -m paralift data build
    ...`: rank 0 builds, ranks 1..N-1 verify batches), as paralift eval does
    (eval.executors, with its guard against mpirun without mpi4py.futures).
    Results do not depend on the executor: a batch's examples depend only on
    its units, and finalize() sorts them by id."""
    from paralift.eval.executors import in_mpi_job, make_executor
    kind = cfg.executor
    if kind == "auto":
        kind = "mpi" if in_mpi_job() > 1 else "local"
    if kind not in ("local", "mpi"):
        raise UsageError(f"unknown executor {cfg.executor!r} (choose auto, local or mpi)")
    ex = make_executor(kind, None if kind == "mpi" else cfg.workers)
    if hasattr(ex, "pool"):
        return ex.pool, max(1, ex.workers)
    # one worker: still a separate process (a batch's compilers and sandboxes stay out of this one)
    from paralift.eval.executors import LocalExecutor
    return LocalExecutor(1).pool, 1


def build(cfg: BuildConfig) -> dict:
    from paralift.progress import Progress
    from . import generator
    unknown = [f for f in cfg.families if f not in generator.FAMILIES and f not in generator.cpp_families()]
    if unknown:
        raise UsageError(f"unknown kernel family {unknown[0]!r} (see `paralift data families`)")
    bad = [t for t in cfg.targets if t not in TARGETS]
    if bad:
        raise UsageError(f"unknown target {bad[0]!r} (choose openmp, mpi or cuda)")
    if cfg.count < 1:
        raise UsageError("--count must be at least 1")
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    done_path, ex_path = out / "done.jsonl", out / "examples.jsonl"
    done = {d["unit"]: d for d in _read_jsonl(done_path) if "unit" in d}
    config = {"families": cfg.families, "count": cfg.count, "targets": list(cfg.targets), "agents": list(cfg.agents),
              "seed": cfg.seed, "decontaminate": cfg.decontaminate, "large_elements": LARGE_ELEMENTS,
              "race_elements": RACE_ELEMENTS, "timing": cfg.timing,
              "timing_cap_s": cfg.timing_cap_s if cfg.timing else None, "workers": cfg.workers}
    cfg_path = out / "build.json"
    if cfg_path.exists() and done:
        old = json.loads(cfg_path.read_text())
        if {k: old.get(k) for k in ("targets", "agents", "decontaminate")} != \
                {k: config[k] for k in ("targets", "agents", "decontaminate")}:
            raise UsageError(f"{out} holds a build with other targets/agents/decontamination; use a new --out")
    cfg_path.write_text(json.dumps(config, indent=2) + "\n")

    # decontamination happens before any verification (source-only check)
    deco = Decontaminator(cfg.decontaminate)
    units: list[tuple[str, int]] = []
    collisions = []
    for s in range(cfg.seed, cfg.seed + cfg.count):
        for fam in cfg.families:
            key = f"{fam}:{s}"
            if key in done:
                continue
            k = generator.generate(fam, s)
            hit, overlap, same = deco.check(k.source)
            if hit:
                rec = {"unit": key, "status": "contaminated", "overlap": round(overlap, 3), "equals": same,
                       "function": k.function}
                collisions.append(rec)
                continue
            units.append((fam, s))
    with done_path.open("a") as f:
        for rec in collisions:
            f.write(json.dumps(rec) + "\n")
            done[rec["unit"]] = rec
    batches = _batches(units, cfg.batch_size)
    total_units = len(units)
    progress = Progress("data build", total_units, enabled=not cfg.quiet)
    if collisions and not cfg.quiet:
        progress.note(f"decontamination: {len(collisions)} kernel(s) collide with suite {cfg.decontaminate!r} and are dropped")
    t0 = time.monotonic()
    agent_totals: dict[str, Counter] = defaultdict(Counter)
    new_examples = 0
    if batches:
        pool, workers = _pool(cfg)
        if not cfg.quiet and pool.__class__.__name__ != "ProcessPoolExecutor":
            progress.note(f"verifying on {workers} MPI rank(s)")
        pending = list(batches)
        stopped = 0
        with pool as ex, ex_path.open("a") as ef, done_path.open("a") as df:
            futs: dict = {}

            def submit() -> None:
                while pending and len(futs) < 2 * workers:
                    if cfg.max_seconds is not None and time.monotonic() - t0 > cfg.max_seconds:
                        return
                    b = pending.pop(0)
                    futs[ex.submit(process_batch, b, tuple(cfg.targets), tuple(cfg.agents), cfg.timing,
                                   cfg.timing_cap_s)] = b

            submit()
            while futs:
                if cfg.max_seconds is not None and time.monotonic() - t0 > cfg.max_seconds:
                    # time is up: batches queued but not started go back (a resumed run does them)
                    for f2 in list(futs):
                        if f2.cancel():
                            pending.insert(0, futs.pop(f2))
                    if not futs:
                        break
                fut = next(cf.as_completed(list(futs)))
                b = futs.pop(fut)
                try:
                    res = fut.result()
                except Exception as e:  # noqa: BLE001 - an infrastructure failure loses one batch, reported
                    progress.note(f"a batch failed ({type(e).__name__}: {e}); its units are redone on resume")
                    for _ in b:
                        progress.advance("error")
                    submit()
                    continue
                for rec in res["examples"]:
                    ef.write(json.dumps(rec) + "\n")
                new_examples += len(res["examples"])
                ef.flush()
                for key, st in res["status"].items():
                    df.write(json.dumps({"unit": key, **st}) + "\n")
                    done[key] = st
                df.write(json.dumps({"batch": len(b), "seconds": round(res["seconds"], 2),
                                     "examples": len(res["examples"]), "agents": res["agents"],
                                     "profile": res.get("profile", {})}) + "\n")
                df.flush()
                for a, c in res["agents"].items():
                    agent_totals[a].update(c)
                for _ in b:
                    progress.advance()
                if not cfg.quiet and new_examples:
                    el = time.monotonic() - t0
                    progress.note(f"  {new_examples} verified examples in {el:.0f}s ({new_examples / el:.2f}/s)")
                submit()
            stopped = sum(len(b) for b in pending)
        if stopped and not cfg.quiet:
            progress.note(f"time budget reached: {stopped} unit(s) left for a resumed run")
    progress.close()
    wall = time.monotonic() - t0
    stats = finalize(out, cfg, wall_this_run=wall)
    return stats


def stable_record(rec: dict) -> dict:
    """`rec` in the one Arrow schema every build shares (DESIGN.md §5): the
    suite as a JSON string (paralift.jsonl.suite_field), and no provenance
    field whose type depends on the data: a list that is empty in every
    record of a split is inferred as list<null> there and list<string>
    elsewhere, a model that is always None as null. Records of older builds
    (suite as an object, dropped cases as a list) are converted."""
    from paralift.jsonl import suite_field
    rec = dict(rec)
    rec.setdefault("plan", "")          # builds before plans were recorded
    rec.setdefault("timing", "")        # builds before (or without) measured speedups
    if isinstance(rec.get("tests"), dict):
        rec["tests"] = suite_field(rec["tests"])
    prov = rec.get("provenance")
    if isinstance(prov, dict):
        prov = dict(prov)
        if isinstance(prov.get("dropped_cases"), list):
            prov["dropped_cases"] = ",".join(prov["dropped_cases"])
        if prov.get("model") is None and "model" in prov:
            prov["model"] = ""
        rec["provenance"] = prov
    return rec


def finalize(out: Path, cfg: BuildConfig | None = None, wall_this_run: float | None = None) -> dict:
    """Write the split files, stats.json and the dataset card from examples.jsonl
    and the done-index (deduplicated by id: safe after an interrupted run)."""
    examples = {}
    for rec in _read_jsonl(out / "examples.jsonl"):
        examples[rec["id"]] = stable_record(rec)
    recs = sorted(examples.values(), key=lambda r: r["id"])
    by_split: dict[str, list[dict]] = {s: [] for s, _ in SPLITS}
    for r in recs:
        by_split[r["split"]].append(r)
    for s, rs in by_split.items():
        with (out / f"{s}.jsonl").open("w") as f:
            for r in rs:
                f.write(json.dumps(r) + "\n")
    done_lines = _read_jsonl(out / "done.jsonl")
    units = {d["unit"]: d for d in done_lines if "unit" in d}
    agents: dict[str, Counter] = defaultdict(Counter)
    batch_seconds = 0.0
    phases: dict[str, list[float]] = {}
    for d in done_lines:
        if "batch" in d:
            batch_seconds += d.get("seconds", 0.0)
            for a, c in (d.get("agents") or {}).items():
                agents[a].update(c)
            for name, (wall, cpu, calls) in (d.get("profile") or {}).items():
                acc = phases.setdefault(name, [0.0, 0.0, 0])
                acc[0] += wall
                acc[1] += cpu or 0.0
                acc[2] += calls
    status = Counter(d.get("status") for d in units.values())
    contaminated = sorted((d for d in units.values() if d.get("status") == "contaminated"), key=lambda d: d["unit"])
    per_family = defaultdict(Counter)
    per_target = Counter()
    per_split = Counter()
    per_fts = defaultdict(Counter)
    for r in recs:
        per_family[r["family"]][r["target"]] += 1
        per_target[r["target"]] += 1
        per_split[r["split"]] += 1
        per_fts[r["split"]][f"{r['family']}/{r['target']}"] += 1
    timing = timing_summary(recs)
    declined = Counter()
    for d in units.values():
        for tg, why in (d.get("declined") or {}).items():
            declined[d["unit"].split(":")[0]] += 1
    config = json.loads((out / "build.json").read_text()) if (out / "build.json").exists() else {}
    stats = {
        "examples": len(recs),
        "per_target": dict(per_target),
        "per_split": dict(per_split),
        "per_family": {f: dict(c) for f, c in sorted(per_family.items())},
        "families_with_examples": len(per_family),
        "units": dict(status),
        "agents": {a: {**dict(c), "verification_rate": round(c["verified"] / max(1, c["verified"] + c["rejected"]), 4)}
                   for a, c in agents.items()},
        "declined_by_family": dict(declined),
        "decontamination": {"suite": config.get("decontaminate"), "ngram": NGRAM, "overlap_threshold": CONTAMINATION_OVERLAP,
                            "dropped": len(contaminated),
                            "collisions": [{k: d.get(k) for k in ("unit", "function", "overlap", "equals")} for d in contaminated]},
        "verify_cpu_seconds": round(batch_seconds, 1),
        # the examples the phases' batches verified (a sample's card keeps its
        # full build's phases, and their per-example cost is the build's)
        "phase_examples": sum(c["verified"] for c in agents.values()),
        "phases": {k: {"wall_s": round(v[0], 1), "cpu_s": round(v[1], 1), "calls": v[2]}
                   for k, v in sorted(phases.items(), key=lambda kv: -kv[1][1])},
        "wall_seconds_last_run": round(wall_this_run, 1) if wall_this_run is not None else None,
        "config": config,
    }
    if timing:
        stats["timing"] = timing
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    (out / "README.md").write_text(dataset_card(stats, {s: len(v) for s, v in by_split.items()}, per_fts))
    return stats


def timing_summary(recs: list[dict]) -> dict:
    """Per target: examples timed, with a speedup, the geometric mean and
    median speedup, how many intervals lie above 1, and how many were measured
    while other processes held cores ({} when the build was not timed)."""
    import math
    import statistics
    out: dict[str, dict] = {}
    for r in recs:
        if not r.get("timing"):
            continue
        t = json.loads(r["timing"])
        d = out.setdefault(r["target"], {"timed": 0, "with_speedup": 0, "faster": 0, "contended": 0, "_s": []})
        d["timed"] += 1
        if t.get("speedup"):
            d["with_speedup"] += 1
            d["_s"].append(t["speedup"])
            d["faster"] += bool(t.get("ci_low") and t["ci_low"] > 1.0)
            d["contended"] += bool(t.get("contended"))
    for d in out.values():
        xs = d.pop("_s")
        d["geomean_speedup"] = round(math.exp(sum(map(math.log, xs)) / len(xs)), 3) if xs else None
        d["median_speedup"] = round(statistics.median(xs), 3) if xs else None
    return out


def _timing_lines(stats: dict) -> list[str]:
    t = stats.get("timing") or {}
    if not t:
        return []
    cfg = stats.get("config", {})
    L = ["", f"Measured speedups (`--timing`, {cfg.get('workers', '?')} worker process(es), cap "
         f"{cfg.get('timing_cap_s')} s per input profile; `timing` field; CUDA is not timed without a GPU):", "",
         "| target | timed | with a speedup | 95 % interval above 1 | geo-mean | median | measured under load |",
         "|---|---|---|---|---|---|---|"]
    L += [f"| {k} | {v['timed']} | {v['with_speedup']} | {v['faster']} | {v['geomean_speedup']} | "
          f"{v['median_speedup']} | {v['contended']} |" for k, v in sorted(t.items())]
    return L


def _phase_lines(stats: dict) -> list[str]:
    phases = stats.get("phases") or {}
    if not phases:
        return []
    n = max(1, stats.get("phase_examples") or stats["examples"])
    L = ["", "Where the batch time went (sum over batches; CPU includes the compilers and sandboxed runs):", "",
         "| phase | calls | wall s | CPU s | CPU s per example |", "|---|---|---|---|---|"]
    L += [f"| {k} | {v['calls']} | {v['wall_s']} | {v['cpu_s']} | {v['cpu_s'] / n:.3f} |" for k, v in phases.items()]
    return L


def dataset_card(stats: dict, split_sizes: dict[str, int], per_fts: dict) -> str:
    cfg = stats.get("config", {})
    y = ["---", "license: apache-2.0", "language:", "  - c", "  - cpp", "task_categories:", "  - text-generation",
         "tags:", "  - code", "  - parallel-programming", "  - openmp", "  - mpi", "  - cuda", "pretty_name: paralift verified parallel-code corpus",
         "configs:", "  - config_name: default", "    data_files:"]
    for s, n in split_sizes.items():
        if n:               # datasets refuses an empty data file
            y += [f"      - split: {s}", f"        path: {s}.jsonl"]
    y += ["dataset_info:", "  splits:"]
    for s, n in split_sizes.items():
        y += [f"    - name: {s}", f"      num_examples: {n}"]
    y.append("---")
    L = ["", "# paralift verified parallel-code corpus", "",
         "Sequential C kernels from `paralift.data.generator` (randomized names, types, loop shapes, index "
         "expressions and style) with OpenMP, MPI and CUDA translations that paralift's sandbox verified against "
         "the sequential reference on the tester's suite. Built by `paralift data build`; every example carries its "
         "tests (seeded input specs: a `paralift.types.TestSuite` as a JSON string) and can be re-verified with `paralift data verify`.",
         "", "## How it was built", "",
         f"- families: {len(cfg.get('families', []))} requested, {stats['families_with_examples']} with examples; "
         f"{cfg.get('count')} seed(s) per family from seed {cfg.get('seed')}",
         f"- targets: {', '.join(cfg.get('targets', []))}; agents: {', '.join(cfg.get('agents', []))}",
         "- tests: the tester's deterministic suite (edge sizes 0-3, odd and prime sizes, degenerate shapes, "
         f"a large case of about {cfg.get('large_elements')} elements per array and race cases of about "
         f"{cfg.get('race_elements')}); expected outputs from the sequential reference; cases the reference "
         "misbehaves on under ASan/UBSan are excluded; cases with non-finite reference outputs are dropped, and so "
         f"are cases on which one reference call takes over {MAX_CASE_RATIO:g}x the large and race cases' time "
         "(and over 1 ms): e.g. an O(n^2) kernel on the 1-D plan's 4099 elements, minutes in CUDA emulation; the "
         "stored tests are the cases verified",
         "- verification: policy checks, static race checks, OpenMP at 1, 2, 2, 3, 3 threads"
         + (" (and a -O0 build on the race cases)" if stats.get("phases", {}).get("openmp build -O0") else "")
         + ", MPI at 1, 2, 2, 3, 3 ranks (on the suite without its race cases: ranks share no memory, and an MPI "
         "example stores that suite), CUDA through the nvcc gate and CPU emulation (forward and reverse thread "
         "order, under ASan+UBSan, and two mid-size cases under ThreadSanitizer"
         + (")" if stats.get("phases", {}).get("cuda run cpu-emulated tsan") else " where available)")
         + "; outputs compared with the sequential reference's (relative tolerance for floats, "
         "exact for integers); no timing. Many kernels share one build and one process per configuration "
         "(sandbox.batch), each judged on its own outputs; what a batch cannot decide goes through sandbox.verify",
         f"- splits: by hash of family and code skeleton ({', '.join(f'{s} {int(f * 100)}%' for s, f in SPLITS)}), so "
         "the targets of one kernel and any kernels equal up to names and constants share a split",
         f"- batch time (sum over batches): {stats['verify_cpu_seconds']} s wall, "
         f"{sum(p['cpu_s'] for p in stats.get('phases', {}).values()):.0f} s CPU; wall time of the last run: "
         f"{stats['wall_seconds_last_run']} s",
         *_phase_lines(stats),
         *_timing_lines(stats),
         "", "## Counts", "", f"Examples: **{stats['examples']}**", "",
         "| split | examples |", "|---|---|"]
    L += [f"| {s} | {n} |" for s, n in split_sizes.items()]
    L += ["", "| target | examples |", "|---|---|"]
    L += [f"| {t} | {n} |" for t, n in sorted(stats["per_target"].items())]
    targets = cfg.get("targets") or list(TARGETS)
    L += ["", "Per family and target (all splits):", "", "| family | " + " | ".join(targets) + " |",
          "|---|" + "---|" * len(targets)]
    for f, c in stats["per_family"].items():
        L.append(f"| {f} | " + " | ".join(str(c.get(t, 0)) for t in targets) + " |")
    L += ["", "Per family, target and split:", ""]
    for s in split_sizes:
        items = sorted(per_fts.get(s, {}).items())
        L.append(f"- {s}: " + (", ".join(f"{k} {v}" for k, v in items) or "none"))
    L += ["", "## Verification rate per agent", "", "| agent | proposed | declined (kept sequential) | verified | rejected | rate |",
          "|---|---|---|---|---|---|"]
    for a, c in stats["agents"].items():
        L.append(f"| {a} | {c.get('proposed', 0)} | {c.get('declined', 0)} | {c.get('verified', 0)} | "
                 f"{c.get('rejected', 0)} | {c['verification_rate']:.2%} |")
    d = stats["decontamination"]
    L += ["", "## Decontamination", "",
          f"Against suite `{d['suite']}`: normalized-token {d['ngram']}-gram overlap (eval.suites' normalization); "
          f"a kernel sharing at least {d['overlap_threshold']:.0%} of its n-grams with the suite, or equal to a suite "
          f"kernel up to names and constants, is dropped before verification. Dropped: **{d['dropped']}**."]
    for c in d["collisions"][:50]:
        L.append(f"- {c['unit']} ({c['function']}): overlap {c['overlap']}" + (f", equals {c['equals']}" if c.get("equals") else ""))
    if len(d["collisions"]) > 50:
        L.append(f"- ... and {len(d['collisions']) - 50} more (stats.json)")
    L += ["", "## Fields", "",
          "`id, family, group, seed, source_lang, language, target, function, source, reference, plan, tests, "
          "provenance, verified, split, timing, prompt, completion`. `timing` is empty unless the build ran with "
          "`--timing`; then it is a JSON string with the verified translation's measured speedup over the "
          "sequential reference (`sandbox.verify.measure`: interleaved processes, `ci_low`/`ci_high` its 95 % "
          "interval, `runs`, `workers`, `load` and `contended` the machine's state while measuring, `reason` when "
          "speedup is null). `reference` is the verified translation; `plan` the "
          "decision it carries out in paralift's plan language (`L1: parallel reduction(+:s)`, agents/plan.py; "
          "empty when the function was rewritten first); `prompt`/`completion` are "
          "the compact prompt form of `paralift.training.sft` (SFT/GRPO trainers read them directly). `tests` is "
          "the suite as a JSON string (`paralift.jsonl.record_suite` reads it back), so every split has one schema; "
          "`provenance.dropped_cases` lists the dropped cases comma-separated. Load with "
          "`datasets.load_dataset(\"json\", data_files={\"train\": \"train.jsonl\", ...})`.", ""]
    return "\n".join(y + L)


# ------------------------------------------------------------------ re-verification

def verify_corpus(path: Path, limit: int | None = None, workers: int = 2, quiet: bool = False,
                  ids: list[str] | None = None) -> dict:
    """Re-verify stored examples from their stored tests with `sandbox.verify`
    (one verification each, no batching)."""
    from paralift.agents import build_task
    from paralift.sandbox.pool import Job, verify_many
    from paralift.sandbox.verify import VerifyOptions
    from paralift.jsonl import record_suite
    from paralift.types import Candidate, Target
    files = sorted(p for p in path.glob("*.jsonl") if p.name not in ("examples.jsonl", "done.jsonl")) \
        if path.is_dir() else [path]
    if not files or not all(f.exists() for f in files):
        raise UsageError(f"{path}: no corpus JSONL found")
    recs = [r for f in files for r in _read_jsonl(f)]
    if ids:
        recs = [r for r in recs if r.get("id") in ids]
    if limit is not None:
        recs = recs[:limit]
    jobs, bad = [], []
    for r in recs:
        try:
            tg = Target.parse(r["target"])
            task = build_task(r["source"], r.get("source_lang", "c"), r["function"], tg)
            jobs.append((r, Job(task, Candidate(r["reference"], tg, agent=r.get("provenance", {}).get("agent", "corpus")),
                                record_suite(r))))
        except Exception as e:  # noqa: BLE001 - a malformed record is reported, not raised
            bad.append({"id": r.get("id"), "reason": f"unreadable record: {e}"})
    verdicts = verify_many([j for _, j in jobs], VerifyOptions(timing=False), workers=workers,
                           label="data verify", quiet=quiet)
    failed = bad + [{"id": r["id"], "reason": v.reason} for (r, _), v in zip(jobs, verdicts) if not v.verified]
    return {"checked": len(recs), "verified": sum(v.verified for v in verdicts), "failed": failed}


# ------------------------------------------------------------------ a small sample for the repository

def write_sample(src: Path, dst: Path, max_bytes: int = 1_800_000, note: str = "") -> dict:
    """A size-bounded sample of a built corpus (round-robin over family and
    target), with its own split files and card; the verification rate and the
    decontamination result in the card are the full build's."""
    import shutil
    recs = sorted({r["id"]: r for r in _read_jsonl(src / "examples.jsonl")}.values(), key=lambda r: r["id"])
    buckets: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in recs:
        buckets[(r["family"], r["target"])].append(r)
    keys = sorted(buckets)
    chosen, size, i = [], 0, 0
    while keys and size < max_bytes:
        progressed = False
        for k in keys:
            if i < len(buckets[k]):
                line = json.dumps(buckets[k][i]) + "\n"
                if size + len(line) > max_bytes:
                    continue
                chosen.append(line)
                size += len(line)
                progressed = True
        if not progressed:
            break
        i += 1
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    (dst / "examples.jsonl").write_text("".join(chosen))
    shutil.copy(src / "build.json", dst / "build.json")
    keep = [l for l in (src / "done.jsonl").read_text().splitlines()
            if l.startswith('{"batch"') or '"contaminated"' in l]
    (dst / "done.jsonl").write_text("\n".join(keep) + "\n")
    full = json.loads((src / "stats.json").read_text()) if (src / "stats.json").exists() else {}
    stats = finalize(dst, wall_this_run=full.get("wall_seconds_last_run"))
    (dst / "examples.jsonl").unlink()          # the split files hold the same records
    (dst / "done.jsonl").unlink()
    card = (dst / "README.md").read_text()
    head, sep, body = card.partition("\n# paralift verified parallel-code corpus\n")
    extra = (f"\nThis directory is a sample ({stats['examples']} examples, round-robin over family and target) of a "
             f"full build of {full.get('examples', '?')} examples; the verification rate and decontamination result "
             f"below are the full build's. {note}\n")
    (dst / "README.md").write_text(head + sep + extra + body)
    return stats

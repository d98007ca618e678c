"""Search by measured speed: the fastest verified variant within a budget.

The candidate space is the restructuring variants (loop order x tile sizes x
OpenMP schedule, paralift.agents.restructure), plus any extra candidates the
caller hands in (the rule-based translation, LLM proposals). Each distinct
candidate is judged by paralift.sandbox.verify with timing on; only verified
ones count, and the objective is the measured speedup over the sequential
build (interleaved medians). Measurements are cached in a JSON file keyed by
(hash of the source, function, flags, hash of the candidate code), so a
second search over the same function re-measures nothing; a cached result
is a measurement, never a verdict: whoever ships the winner verifies it again.

The wall-clock budget is checked before each measurement: the search stops
starting new ones when it is spent (one measurement already running is
allowed to finish), and the report lists every variant tried with its time.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from paralift.types import Candidate, Target, Task, TestSuite, Verdict

from .base import NotParallelizable
from .restructure import DEFAULT_VARIANTS, Variant, propose_variant


def default_cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "paralift" / "search-cache.json"


@dataclass
class Tried:
    variant: str
    agent: str
    status: str                    # verified | failed | error | skipped (budget)
    speedup: float | None = None
    candidate_s: float | None = None
    sequential_s: float | None = None
    seconds: float = 0.0           # wall time spent measuring it (0 when cached)
    cached: bool = False
    reason: str = ""

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class SearchResult:
    tried: list[Tried] = field(default_factory=list)
    best: Candidate | None = None
    best_verdict: Verdict | None = None
    best_speedup: float | None = None
    elapsed_s: float = 0.0
    budget_s: float = 0.0

    def to_json(self) -> dict:
        return {"budget_s": self.budget_s, "elapsed_s": round(self.elapsed_s, 2),
                "best": None if self.best is None else {"variant": self.best.model, "agent": self.best.agent,
                                                        "speedup": self.best_speedup},
                "tried": [t.to_json() for t in self.tried]}

    def table(self) -> str:
        lines = [f"{'variant':<32} {'agent':<12} {'status':<9} {'speedup':>8} {'time(s)':>10} cached"]
        for t in self.tried:
            sp = f"{t.speedup:.2f}x" if t.speedup else "-"
            ct = f"{t.candidate_s:.4f}" if t.candidate_s else "-"
            lines.append(f"{t.variant:<32} {t.agent:<12} {t.status:<9} {sp:>8} {ct:>10} {'yes' if t.cached else ''}")
        return "\n".join(lines)


class Cache:
    """A JSON file of measured variants: key -> Tried fields."""

    def __init__(self, path: Path | str | None):
        self.path = Path(path) if path else None
        self.data: dict[str, dict] = {}
        if self.path and self.path.exists():
            try:
                self.data = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self.data = {}

    @staticmethod
    def key(task: Task, code: str, flags: str) -> str:
        h = hashlib.sha256()
        for part in (task.source, task.function, task.language, flags, code):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    def get(self, key: str) -> dict | None:
        return self.data.get(key)

    def put(self, key: str, value: dict) -> None:
        self.data[key] = value
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
            tmp.replace(self.path)


def candidates_for(task: Task, variants: list[Variant] | None = None) -> list[tuple[str, Candidate]]:
    """(variant name, candidate) for every variant that applies, to the
    function as written and to its loop-distributed form (agents/distribute.py;
    names prefixed "dist-"), duplicates (same generated code) dropped."""
    import dataclasses
    from .distribute import distribute
    out, seen = [], set()
    sources = [("", task, "")]
    if variants != []:
        dist, notes = distribute(task.source, task.language, task.function)
        if notes:
            sources.append(("dist-", dataclasses.replace(task, source=dist), "distribution: " + "; ".join(notes)))
    # variant by variant, the function as written then its distributed form: a budget that runs out
    # has then tried the most promising orders of both
    for v in DEFAULT_VARIANTS if variants is None else variants:
        for prefix, t, note in sources:
            try:
                c = propose_variant(t, v)
            except NotParallelizable:
                continue
            if c.code in seen:
                continue
            seen.add(c.code)
            if prefix:
                c = dataclasses.replace(c, model=prefix + (c.model or v.name), notes=f"{note}; {c.notes}")
            out.append((prefix + v.name, c))
    return out


def search(task: Task, budget_s: float, tests: TestSuite | None = None, options=None,
           variants: list[Variant] | None = None, extra: list[Candidate] | None = None,
           cache: Cache | str | Path | None = None, progress=None, measure=None) -> SearchResult:
    """Measure the variants of `task` (openmp) within `budget_s` seconds and
    return every variant tried and the fastest verified one.

    `measure(candidate) -> (speedup, candidate_s, sequential_s)`, when given,
    replaces verify's timing as the objective (verify then only judges
    correctness); a benchmark uses it to time every tool the same way."""
    import dataclasses
    from paralift.sandbox import VerifyOptions, verify
    opts = options or VerifyOptions(timing=True)
    if measure is None and not opts.timing:
        raise ValueError("search needs timing")
    vopts = dataclasses.replace(opts, timing=False) if measure is not None else opts
    if not isinstance(cache, Cache):
        cache = Cache(cache)
    flags = json.dumps([list(opts.cflags), opts.workers(), opts.timing_min_s, getattr(measure, "tag", measure is not None)])
    # restructure variants first: the extra candidates (the rule-based
    # translation) are measured by the pipeline anyway
    space = candidates_for(task, variants) + [(c.model or c.agent, c) for c in (extra or [])]
    res = SearchResult(budget_s=budget_s)
    t0 = time.monotonic()
    for name, cand in space:
        if cand.target != Target.OPENMP:
            continue
        key = Cache.key(task, cand.code, flags)
        hit = cache.get(key)
        v = None
        if hit is not None:
            t = Tried(**{**hit, "variant": name, "agent": cand.agent, "cached": True, "seconds": 0.0})
        elif time.monotonic() - t0 >= budget_s:
            t = Tried(name, cand.agent, "skipped", reason="budget spent")
        else:
            if progress:
                progress(f"search: measuring {name}")
            t1 = time.monotonic()
            v = verify(task, cand, tests, vopts)
            t = Tried(name, cand.agent, v.status, v.speedup,
                      v.timing.candidate_s if v.timing else None, v.timing.sequential_s if v.timing else None,
                      round(time.monotonic() - t1, 2), False, v.reason)
            if measure is not None and v.verified:
                try:
                    t.speedup, t.candidate_s, t.sequential_s = measure(cand)
                except Exception as e:   # a measurement that fails is a failed candidate
                    t.status, t.speedup, t.reason = "failed", None, f"measurement: {e}"[:300]
                t.seconds = round(time.monotonic() - t1, 2)
            if v.status in ("verified", "failed"):
                cache.put(key, {k: val for k, val in t.to_json().items() if k not in ("cached", "variant", "agent")})
        res.tried.append(t)
        if t.status == "verified" and t.speedup and (res.best_speedup is None or t.speedup > res.best_speedup):
            res.best, res.best_speedup, res.best_verdict = cand, t.speedup, v
    res.elapsed_s = time.monotonic() - t0
    return res


__all__ = ["Cache", "SearchResult", "Tried", "candidates_for", "default_cache_path", "search", "search_candidates"]


def search_candidates(task: Task, budget_s: float, progress=None, cache: Cache | str | Path | None = None,
                      options=None) -> list[Candidate]:
    """For the translate pipeline (`--budget SECONDS`): search the
    restructuring variants of an openmp task and return the fastest verified
    one as a candidate (its notes carry the table of variants tried); the
    pipeline verifies it again with its own tests."""
    say = progress or (lambda msg: None)
    res = search(task, budget_s, options=options,
                 cache=cache if cache is not None else default_cache_path(), progress=say)
    say(f"search over {len(res.tried)} variant(s) of '{task.function}' in {res.elapsed_s:.0f} s "
        f"(budget {budget_s:g} s):\n{res.table()}")
    if res.best is None:
        return []
    best = res.best
    return [Candidate(code=best.code, target=best.target, agent=best.agent, model=best.model,
                      notes=f"{best.notes}; fastest of {len(res.tried)} variants searched "
                            f"(measured {res.best_speedup:.2f}x)")]

"""Search by measured speed: the fastest verified variant within a budget.

The candidate space is the restructuring variants (loop order x tile sizes x
OpenMP schedule, paralift.agents.restructure), plus any extra candidates the
caller hands in (the rule-based translation, LLM proposals). Each distinct
candidate is judged by paralift.sandbox.verify with timing on; only verified
ones count, and the objective is the measured speedup over the sequential
build with its 95 % interval: one variant beats another only when their
intervals do not overlap, and among variants not told apart the better
structure wins (choose: the main loop nest parallel, fewer synchronizations,
simpler code). Measurements are cached in a JSON file keyed by
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
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from paralift.types import Candidate, Target, Task, TestSuite, Verdict

from .base import NotParallelizable
from .restructure import DEFAULT_VARIANTS, Variant, propose_variant


# ------------------------------------------------------------ deciding by interval

def interval_of(v: Verdict) -> tuple[float, float] | None:
    """The 95 % interval of a verdict's speedup (None: not measured)."""
    if v.speedup is None:
        return None
    return v.timing.interval() if v.timing is not None else (v.speedup, v.speedup)


def beats(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    """Speedup interval a is above b: faster with confidence (both against the
    same sequential build). An unmeasured candidate is beaten by none and
    beats none: structure decides (see choose)."""
    return a is not None and b is not None and a[0] > b[1]


def faster_than_sequential(v: Verdict) -> bool | None:
    """True when the interval of the speedup lies above 1, False when it does
    not, None when the speed was not measured (nothing to decide on)."""
    iv = interval_of(v)
    return None if iv is None else iv[0] > 1.0


_SYNC = re.compile(r"#\s*pragma\s+omp\s+(?:[^\n]*\b(critical|atomic|barrier|ordered|single|master|masked|taskwait)\b)"
                   r"|\b(MPI_[A-Z][a-z_]+)\s*\(|\b(__syncthreads|atomic[A-Z][a-zA-Z]*|cudaDeviceSynchronize)\s*\(")
_OMP_LOOP = re.compile(r"#\s*pragma\s+omp\b[^\n]*\bfor\b[^\n]*\n")
_FOR = re.compile(r"\bfor\s*\(")


def _loop_extent(code: str, start: int) -> str:
    """The text of the loop starting at or after `start` (its header and body)."""
    m = _FOR.search(code, start)
    if not m:
        return ""
    i, depth = code.index("(", m.start()), 0
    while i < len(code):                         # the header's parentheses
        depth += {"(": 1, ")": -1}.get(code[i], 0)
        i += 1
        if depth == 0:
            break
    while i < len(code) and code[i] in " \t\r\n":
        i += 1
    if i < len(code) and code[i] == "{":
        depth, j = 0, i
        while j < len(code):
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
            if depth == 0:
                break
        return code[m.start():j]
    if code.startswith("for", i):                # a nested loop without braces
        return code[m.start():i] + _loop_extent(code, i)
    return code[m.start():code.find(";", i) + 1]


_REGION = re.compile(r"#\s*pragma\s+omp\s+(?:parallel|target|task)\b|<<<")


def structure_key(code: str) -> tuple[int, int, int]:
    """Bigger is better structure, for candidates whose speeds are not told
    apart: (loops inside the largest parallel loop nest: outer-level
    parallelism of the main work, not of a negligible copy loop; fewer
    synchronizations: critical/atomic/barrier/..., MPI calls, CUDA syncs and
    atomics; fewer parallel regions or launches: the simpler code). Line
    counts are not compared: the shorter candidate may be the one without the
    overlap check at entry."""
    nest = max((len(_FOR.findall(_loop_extent(code, m.end()))) for m in _OMP_LOOP.finditer(code)), default=0)
    return nest, -len(_SYNC.findall(code)), -len(_REGION.findall(code))


def choose(intervals: list[tuple[float, float] | None], speedups: list[float | None], codes: list[str]) -> int:
    """The index of the candidate to keep among verified ones: those whose
    interval no other's lies above (beats) are the contenders; among them the
    best structure_key wins, then the earlier candidate (the caller's order:
    the rule-based agent first). The higher point speedup breaks the tie only
    where some contender has no interval (a point measurement): between
    overlapping intervals the points' order is the measurement's noise, and a
    choice that follows it changes from one translation to the next."""
    idx = range(len(codes))
    contenders = [i for i in idx if not any(beats(intervals[j], intervals[i]) for j in idx if j != i)]
    best = max(structure_key(codes[i]) for i in contenders)
    tied = [i for i in contenders if structure_key(codes[i]) == best]
    if all(intervals[i] is not None and intervals[i][0] < intervals[i][1] for i in tied):
        return tied[0]
    return max(tied, key=lambda i: speedups[i] if speedups[i] is not None else 0.0)


def choose_verdict(verdicts: list[Verdict], codes: list[str]) -> int:
    """choose() over verified candidates' verdicts."""
    return choose([interval_of(v) for v in verdicts], [v.speedup for v in verdicts], codes)


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
    ci_low: float | None = None    # 95 % interval of the speedup (None: a point measurement)
    ci_high: float | None = None

    def interval(self) -> tuple[float, float] | None:
        if self.speedup is None:
            return None
        if self.ci_low is None or self.ci_high is None:
            return self.speedup, self.speedup
        return self.ci_low, self.ci_high

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
    good: list[tuple[Tried, Candidate, Verdict | None]] = []
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
            iv = v.timing.interval() if v.timing else (None, None)
            t = Tried(name, cand.agent, v.status, v.speedup,
                      v.timing.candidate_s if v.timing else None, v.timing.sequential_s if v.timing else None,
                      round(time.monotonic() - t1, 2), False, v.reason, iv[0], iv[1])
            if measure is not None and v.verified:
                try:
                    t.speedup, t.candidate_s, t.sequential_s = measure(cand)
                    t.ci_low = t.ci_high = None
                except Exception as e:   # a measurement that fails is a failed candidate
                    t.status, t.speedup, t.reason = "failed", None, f"measurement: {e}"[:300]
                t.seconds = round(time.monotonic() - t1, 2)
            if v.status in ("verified", "failed"):
                cache.put(key, {k: val for k, val in t.to_json().items() if k not in ("cached", "variant", "agent")})
        res.tried.append(t)
        if t.status == "verified" and t.speedup:
            good.append((t, cand, v))
    if good:
        # faster only when the intervals say so; otherwise the better structure
        t, cand, v = good[choose([g[0].interval() for g in good], [g[0].speedup for g in good],
                                 [g[1].code for g in good])]
        res.best, res.best_speedup, res.best_verdict = cand, t.speedup, v
    res.elapsed_s = time.monotonic() - t0
    return res


__all__ = ["Cache", "SearchResult", "Tried", "beats", "candidates_for", "choose", "choose_verdict", "default_cache_path",
           "faster_than_sequential", "interval_of", "search", "search_candidates", "structure_key"]


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

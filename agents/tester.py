"""The tester agent: test suites that kill wrong candidates (issue 5).

A suite is data (paralift.types.TestSuite: seeded ArraySpecs, replayable from
JSON). Expected outputs never come from here: `verify` always runs the
sequential reference in the sandbox.

Deterministic tester (`generate_tests`, `build_suite`):
- sizes: the edges 0, 1, 2, 3; small odd and prime sizes (not divisible by 2
  or 3 threads/ranks, nor by a CUDA block); medium sizes around 64..4099 with
  remainders modulo 2, 3 and 256; degenerate shapes for multi-dimensional
  kernels (one extent 1, the others not; one extent 0, the others not, so
  that what a function writes with nothing to process, a histogram's
  cleared bins, is checked); one large case sized by timing the
  reference (multi-block grids); four larger "race" cases (not for MPI
  tasks): monotone ramps where every element is a new running max (min) with
  one extreme value early or late, so that a lost update of an unprotected
  accumulator changes the result; and, for arrays of indices into a small
  range, a large high-contention case (histogram-like atomics);
- values: signed, positive and negative data, increasing and decreasing ramps,
  "needles" (one outlier just outside the others' range, first or last) so
  that a dropped first/last element, remainder chunk or a wrong initial value
  changes max/min/any/all/find results too, and "spikes" (one value 1000x the
  others, at positions 0, 1, n-2, n-1) that make results computed from a
  wrong maximum overflow (softmax);
- constraints from the analysis: index arrays stay in range, CSR offsets are
  well formed, divisors are non-zero, sizes are non-negative;
- validity: every case is run on the sequential reference under
  AddressSanitizer + UBSan (via `verify.prepare_reference`) and discarded when
  it misbehaves, or when its expected output overflows to inf/NaN (whose value
  would depend on the evaluation order); the suite returned holds only valid
  cases;
- non-vacuity: a suite whose outputs do not depend on its inputs, that has no
  case with every size >= 2, or (with coverage on) whose cases run no loop
  iteration of the reference, is rejected (`VacuousSuite`).

LLM tester (`build_prompt`, `parse_cases`, `propose_cases`): a model fills a
small JSON format (sizes, value distributions or explicit small arrays); the
parser is lenient about wrapping (code fences, prose, comments, trailing
commas) and strict about meaning (known parameters, in-range indices, well
formed offsets, sizes and element counts capped); the cases it returns are
validated by the same sanitizer run when merged (`build_suite(generate=...)`).
The provider layer plugs in as `generate(prompt) -> list[str]`.
"""
from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from paralift.types import (ArraySpec, Param, ParamKind, Role, Signature, Target, Task, TestCase, TestSuite,
                            ValueKind, to_jsonable)

from paralift.sandbox import inputs
from paralift.sandbox.inputs import FREE_SIZE, dtype_of, eval_extent, shape_rows

from .coverage import Coverage, CoverageError, ReferenceBuild, measure_coverage, safe_name


class VacuousSuite(Exception):
    """The suite cannot tell a right candidate from a wrong one (one line)."""


class TesterError(Exception):
    """No suite could be produced for this function (one line)."""


# ------------------------------------------------------------------ options and report

@dataclass
class TesterOptions:
    seed: int = 0
    large_elements: int = inputs.LARGE_ELEMENTS   # elements per array in the large case (upper bound)
    race_elements: int = 1 << 20                  # elements per array in the race cases (upper bound)
    race_bytes: int = 24 << 20                    # input bytes per race case (upper bound)
    large_seconds: float = 0.12                   # one reference call on the large case takes at most about this
    calibrate: bool = True                        # time the reference to size the large case
    validate: bool = True                         # sanitizer run + vacuity checks (needs the sandbox)
    coverage: bool = False                        # gcov of the reference (also checks loops iterate)
    max_llm_cases: int = 16


@dataclass
class TesterReport:
    suite: TestSuite
    discarded: list[str] = field(default_factory=list)    # "case: why" for cases the reference misbehaves on
    notes: list[str] = field(default_factory=list)
    coverage: Coverage | None = None
    llm_errors: list[str] = field(default_factory=list)    # why proposed cases were rejected
    large_size: int | None = None                          # size knobs chosen by calibration
    race_size: int | None = None

    def to_json(self) -> dict:
        return {"suite": to_jsonable(self.suite), "discarded": self.discarded, "notes": self.notes,
                "coverage": self.coverage.to_json() if self.coverage else None,
                "llm_errors": self.llm_errors, "large_size": self.large_size, "race_size": self.race_size}


# ------------------------------------------------------------------ sizes

EDGE_SIZES = (0, 1, 2, 3)
# (size knob, value profile) per data degree (1: vectors, 2: matrices, 3: cubes).
_PLAN = {
    1: [(5, "signed"), (7, "positive"), (11, "negative"), (13, "ramp_up"), (17, "ramp_down"),
        (19, "spike_second"), (31, "needle_hi_last"), (37, "needle_lo_last"),
        (64, "signed"), (100, "needle_hi_first"), (127, "needle_lo_first"), (257, "spike_last"),
        (521, "spike_first"), (1000, "ramp_down"), (1009, "needle_hi_last"), (2053, "spike_penult"),
        (4099, "needle_lo_last")],
    2: [(5, "signed"), (7, "positive"), (11, "negative"), (13, "ramp_up"), (17, "ramp_down"),
        (19, "needle_hi_last"), (23, "needle_lo_last"), (29, "spike_second"),
        (31, "signed"), (37, "needle_hi_first"), (41, "needle_lo_first"), (47, "spike_last"),
        (53, "spike_first"), (67, "ramp_down"), (101, "needle_hi_last"), (113, "spike_penult"),
        (131, "needle_lo_last")],
    3: [(4, "signed"), (5, "positive"), (7, "negative"), (9, "ramp_up"), (11, "ramp_down"),
        (13, "needle_hi_last"), (15, "needle_lo_last"), (8, "spike_second"),
        (16, "signed"), (17, "needle_hi_first"), (19, "needle_lo_first"), (21, "spike_last"),
        (23, "spike_first"), (25, "ramp_down"), (29, "needle_hi_last"), (27, "spike_penult"),
        (31, "needle_lo_last")],
}
SHAPE_OTHER = 23         # the other extents when one is 1 (degenerate shapes)
CONTENTION_BOUND = 3     # range of an index array in the high-contention case


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    f = 3
    while f * f <= n:
        if n % f == 0:
            return False
        f += 2
    return True


def next_prime(n: int) -> int:
    n = max(n, 2)
    while not _is_prime(n):
        n += 1
    return n


def _sizes(sig: Signature, s: int, prime: bool = False) -> dict[str, int]:
    sizes = inputs.sizes_for(sig, s)
    if prime:
        out, used = {}, set()
        for k, v in sizes.items():
            p = next_prime(v)
            while p in used:
                p = next_prime(p + 1)
            used.add(p)
            out[k] = p
        return out
    return sizes


# ------------------------------------------------------------------ values

PROFILES = ("signed", "positive", "negative", "ramp_up", "ramp_down",
            "needle_hi_last", "needle_lo_last", "needle_hi_first", "needle_lo_first",
            "spike_first", "spike_second", "spike_penult", "spike_last",
            "race_max_0", "race_max_1", "race_min_0", "race_min_1")
_POSITION = {"first": 0, "second": 1, "penult": -2, "last": -1}


def _data_spec(dt: np.dtype, profile: str, count: int, seed: int) -> ArraySpec:
    """Contents of a free data array under one value profile.

    needle_*: one element just outside the others' range (decides a max, min,
    any, all or find-first); spike_*: one element orders of magnitude larger
    (a value computed from a wrong maximum then overflows, e.g. softmax)."""
    if profile.startswith(("race_max", "race_min")):
        return _race_spec(dt, profile, count, seed)
    needle = profile.startswith("needle")
    pos = _POSITION[profile.rsplit("_", 1)[1]] if profile.startswith(("needle", "spike")) else 0
    if profile.startswith("spike"):
        if dt.kind == "f":
            return ArraySpec(count=count, dist="uniform", lo=-1.0, hi=1.0, seed=seed, values=[[pos, 1000.0]])
        if dt.itemsize == 1:
            return ArraySpec(count=count, dist="uniform", lo=0, hi=1, seed=seed, values=[[pos, 1]])
        big = 1000 if dt.itemsize == 2 else 100000
        lo = 0 if dt.kind == "u" else -50
        return ArraySpec(count=count, dist="uniform", lo=lo, hi=50, seed=seed, values=[[pos, big]])
    if dt.kind == "f":
        table = {"signed": (-1.0, 1.0), "positive": (0.1, 2.0), "negative": (-2.0, -0.1),
                 "ramp_up": (-0.9, 1.1), "ramp_down": (1.1, -0.9)}
        hi_base, lo_base, up, down = (-1.5, -0.5), (0.5, 1.5), 4.0, -4.0
    elif dt.itemsize == 1:                      # flags / bools / chars: 0 and 1
        table = {"signed": (0, 2), "positive": (1, 2), "negative": (0, 1), "ramp_up": (0, 1), "ramp_down": (1, 0)}
        hi_base, lo_base, up, down = (0, 1), (1, 2), 1, 0
    elif dt.kind == "u":
        table = {"signed": (0, 100), "positive": (1, 100), "negative": (0, 10),
                 "ramp_up": (0, 100), "ramp_down": (100, 0)}
        hi_base, lo_base, up, down = (0, 50), (50, 100), 100, 0
    else:
        table = {"signed": (-50, 50), "positive": (1, 100), "negative": (-100, -1),
                 "ramp_up": (-40, 60), "ramp_down": (60, -40)}
        hi_base, lo_base, up, down = (-100, -1), (1, 100), 100, -100
    if needle:
        lo, hi = hi_base if "_hi_" in profile else lo_base
        value = up if "_hi_" in profile else down
        return ArraySpec(count=count, dist="uniform", lo=lo, hi=hi, seed=seed, values=[[pos, value]])
    lo, hi = table[profile]
    dist = "ramp" if profile.startswith("ramp") else "uniform"
    return ArraySpec(count=count, dist=dist, lo=lo, hi=hi, seed=seed)


RACE_AT = (0.1, 0.6)     # where the extreme value sits in the race cases (fraction of the array)


def _race_spec(dt: np.dtype, profile: str, count: int, seed: int) -> ArraySpec:
    """A monotone ramp (every element a new running max, or min, so that every
    thread updates an unprotected shared accumulator) with one extreme value
    at a fraction of the array. A compiler keeps such an accumulator in a
    register and stores it once at the end, so the last thread to store wins:
    the result is wrong whenever the thread holding the extreme value is not
    the last, and two positions (early, late) make either order likely to show
    it. A lost update of the extreme value changes the result for good."""
    up = profile.startswith("race_max")
    frac = RACE_AT[int(profile.rsplit("_", 1)[1])] if profile[-1].isdigit() else RACE_AT[0]
    pos = int(count * frac)
    if dt.kind == "f":
        lo, hi, extreme = -0.9, 1.1, 1000.0
    elif dt.itemsize == 1:
        lo, hi, extreme = 0, 1, 1
    else:
        info = np.iinfo(dt)
        span = int(min(max(count, 100), info.max // 8))
        if dt.kind == "u":
            lo, hi, extreme = 1, span, int(min(info.max, 4 * span))
        else:
            lo, hi, extreme = -(span // 3), span - span // 3, int(min(info.max, 4 * span))
    if not up:
        lo, hi = hi, lo
        extreme = 0 if dt.kind in "u" or dt.itemsize == 1 else -extreme
    return ArraySpec(count=count, dist="ramp", lo=lo, hi=hi, seed=seed, values=[[pos, extreme]])


def _factor_spec(p: Param, profile: str, count: int, seed: int) -> ArraySpec:
    """Contents of an array whose element x enters a product as the factor
    a*x + b (ValueSpec.factor): every factor within inputs.factor_spread of 1,
    keeping the profile's distinctive element (a needle, a spike, a negative
    sign) and, for the race cases, a monotone ramp whose extreme factor (x2,
    x0.5) changes the product for good when its update is lost."""
    h = inputs.factor_spread(count)

    def x(f: float) -> float:
        return inputs.factor_datum(p, f)

    if profile.startswith(("race_max", "race_min")):
        up = profile.startswith("race_max")
        pos = int(count * RACE_AT[int(profile.rsplit("_", 1)[1])])
        lo, hi = (0.999, 1.001) if up else (1.001, 0.999)
        return ArraySpec(count=count, dist="ramp", lo=x(lo), hi=x(hi), seed=seed, values=[[pos, x(2.0 if up else 0.5)]])
    if profile.startswith(("needle", "spike")):
        pos = _POSITION[profile.rsplit("_", 1)[1]]
        f = 1000.0 if profile.startswith("spike") else 1.5 if "_hi_" in profile else 0.5
        return ArraySpec(count=count, dist="uniform", lo=x(1 - h), hi=x(1 + h), seed=seed, values=[[pos, x(f)]])
    if profile == "negative":
        return ArraySpec(count=count, dist="uniform", lo=x(-1 - h), hi=x(-1 + h), seed=seed)
    if profile == "signed":
        return ArraySpec(count=count, dist="uniform", lo=x(1 - h), hi=x(1 + h), seed=seed,
                         values=[[0, x(-1.0)], [-1, x(-1.25)]])
    lo, hi = (1 + h, 1 - h) if profile == "ramp_down" else (1 - h, 1 + h)
    return ArraySpec(count=count, dist="ramp" if profile.startswith("ramp") else "uniform", lo=x(lo), hi=x(hi),
                     seed=seed)


def _index_spec(profile: str, count: int, bound: int, seed: int) -> ArraySpec:
    if profile == "ramp_up" and bound > 0:
        return ArraySpec(count=count, dist="ramp", lo=0, hi=bound - 1, seed=seed)
    if profile == "ramp_down" and bound > 0:
        return ArraySpec(count=count, dist="ramp", lo=bound - 1, hi=0, seed=seed)
    if profile == "positive":
        return ArraySpec(count=count, dist="permutation", lo=0, hi=bound, seed=seed)
    # the whole range the use allows, its ends included (issue 19): an extent one dimension short, a
    # copy of the first rows only, is then caught by every case, not by a lucky draw
    ends = []
    if count >= 2 and bound >= 2:
        rng = np.random.default_rng(seed + 7919)
        hi_at, lo_at = (int(x) for x in rng.choice(count, size=2, replace=False))
        ends = [[hi_at, bound - 1], [lo_at, 0]]
    return ArraySpec(count=count, dist="index", lo=0, hi=bound, seed=seed, values=ends or None)


def _array_spec(p: Param, count: int, env: dict[str, int], profile: str, seed: int) -> ArraySpec | None:
    dt = dtype_of(p.base_type)
    kind = p.values.kind
    if kind == ValueKind.INDEX and p.values.bound:
        bound = eval_extent(p.values.bound, env)
        if bound <= 0 and count > 0:
            return None
        return _index_spec(profile, count, bound, seed)
    if kind == ValueKind.OFFSETS and p.values.bound:
        return ArraySpec(count=count, dist="offsets", lo=0, hi=eval_extent(p.values.bound, env), seed=seed)
    if kind == ValueKind.NONZERO:
        return ArraySpec(count=count, dist="nonzero", lo=0.5, hi=2.0, seed=seed)
    if kind == ValueKind.FACTOR and dtype_of(p.base_type).kind == "f" and p.role != Role.OUT:
        return _factor_spec(p, profile, count, seed)
    if p.role == Role.OUT:
        # Contents the function must overwrite: arbitrary, never the answer.
        return _data_spec(dt, "signed", count, seed)
    return _data_spec(dt, profile, count, seed)


def _scalars(sig: Signature, sizes: dict[str, int], profile: str, rng: np.random.Generator) -> dict[str, Any]:
    out: dict[str, Any] = {}
    floats, ints = [], []
    for p in sig.params:
        if p.is_array:
            continue
        dt = dtype_of(p.base_type)
        kind = p.values.kind
        if kind == ValueKind.SIZE:
            out[p.name] = sizes.get(p.name, 1)
        elif kind == ValueKind.INDEX and p.values.bound:
            bound = eval_extent(p.values.bound, {**sizes, **{k: v for k, v in out.items() if isinstance(v, int)}})
            out[p.name] = int(rng.integers(0, max(bound, 1)))
        elif kind == ValueKind.NONZERO:
            if dt.kind == "f":
                out[p.name] = float(np.round(rng.uniform(0.5, 2.0), 6) * (1 if rng.integers(0, 2) else -1))
            else:
                out[p.name] = int(rng.integers(1, 8))
        elif dt.kind == "f":
            floats.append(p.name)
        elif p.base_type == "char" and any(q.container in ("std::string", "std::vector<std::string>")
                                           for q in sig.params):
            # a character looked for in strings (made of lower-case letters, shape_rows): one of them
            out[p.name] = int(rng.integers(ord("a"), ord("z") + 1))
        elif dt.itemsize == 1:
            out[p.name] = int(rng.integers(0, 2))
        else:
            ints.append(p.name)
    # Free scalars in increasing order of declaration (so lo <= hi pairs hold).
    lo, hi = (-1.0, 1.0) if profile == "signed" else (-1.5, -0.5) if profile == "negative" else (0.5, 1.5)
    for name, v in zip(floats, sorted(float(np.round(x, 6)) for x in rng.uniform(lo, hi, size=len(floats)))):
        out[name] = v
    ilo, ihi = (8, 64) if profile in ("positive", "ramp_up") else (1, 8)
    for name, v in zip(ints, sorted(int(x) for x in rng.integers(ilo, ihi, size=len(ints)))):
        out[name] = v
    return {p.name: out[p.name] for p in sig.params if not p.is_array}


def make_case(sig: Signature, sizes: dict[str, int], profile: str, seed: int, name: str, tag: str,
              overrides: dict[str, int] | None = None) -> TestCase | None:
    """One case with the given sizes and value profile; None when the extents
    make no sense at these sizes (negative counts, an empty index range)."""
    rng = np.random.default_rng(seed)
    sizes = {**sizes, **(overrides or {})}
    try:
        scalars = _scalars(sig, sizes, profile, rng)
        env = {**sizes, **{k: v for k, v in scalars.items() if isinstance(v, int)}}
        arrays: dict[str, ArraySpec] = {}
        for i, p in enumerate(sig.params):
            if not p.is_array:
                continue
            count = eval_extent(p.extent or "0", env)
            if count < 0:
                return None
            spec = _array_spec(p, count, env, profile, seed * 131 + i)
            if spec is None:
                return None
            arrays[p.name] = spec
        shape_rows(sig, arrays, env)     # nested vectors: their row lengths
    except ValueError:
        return None
    return TestCase(name=safe_name(name), scalars=scalars, arrays=arrays, tag=tag)


def _case_elements(case: TestCase) -> int:
    return max((a.count for a in case.arrays.values()), default=0)


# ------------------------------------------------------------------ the deterministic suite

def generate_tests(task: Task | Signature, seed: int = 0, large: int | None = None,
                   race: int | None = None, cap: int | None = None) -> TestSuite:
    """The deterministic suite (no sandbox): edges, small/medium cases with
    varied value profiles, degenerate shapes, a large case at knob `large`
    (default: inputs.large_size, uncalibrated) and race cases at knob `race`
    (default: `large`; none for a task whose target is MPI, where ranks share
    no memory to race on). `cap`: no profile case larger (build_suite gives the calibrated large size)."""
    sig = task.signature if isinstance(task, Task) else task
    races = not (isinstance(task, Task) and task.target == Target.MPI)
    inputs.check_signature(sig)
    deg = min(max(inputs.data_degree(sig), 1), 3)
    names = inputs.size_names(sig)
    cases: list[TestCase] = []
    k = 0

    def add(case: TestCase | None) -> None:
        if case is not None and all(case.name != c.name for c in cases):
            cases.append(case)

    for s in EDGE_SIZES:
        add(make_case(sig, _sizes(sig, s), "signed", seed * 1000 + k, f"edge-{s}", "edge"))
        k += 1
    for s, profile in _PLAN[deg]:
        # no profile case larger than the calibrated large case: the plan's sizes assume work that grows
        # like the data, and a function doing more (a minimum over all triples of n points: n^3) would
        # spend minutes on one call at the plan's 4099 points, where the calibration found 257 enough
        if cap is not None and s > max(cap, 4):
            s = max(cap, 4)
        add(make_case(sig, _sizes(sig, s), profile, seed * 1000 + k, f"{profile.replace('_', '-')}-{s}",
                      "random" if s > 3 else "edge"))
        k += 1
    if len(names) >= 2:
        for nm in names:
            other = {n: (1 if n == nm else SHAPE_OTHER + 2 * j) for j, n in enumerate(names)}
            add(make_case(sig, other, "signed", seed * 1000 + k, f"shape-{nm}1", "edge"))
            k += 1
            other = {n: (SHAPE_OTHER if n == nm else 1) for n in names}
            add(make_case(sig, other, "ramp_up", seed * 1000 + k, f"shape-{nm}{SHAPE_OTHER}", "edge"))
            k += 1
    if len(names) >= 2:
        # one size 0 and the others not (edge-0 sets them all to 0): what the
        # function writes anyway must still be written, e.g. a histogram
        # clears its bins when there are no samples
        for j, nm in enumerate(names):
            zero = {n: (0 if n == nm else SHAPE_OTHER + 2 * i) for i, n in enumerate(names)}
            add(make_case(sig, zero, "signed", seed * 1000 + 920 + j, f"shape-{nm}0", "edge"))
    s_large = large if large is not None else inputs.large_size(sig)
    big = _sizes(sig, s_large, prime=True)
    label = "x".join(str(v) for v in big.values()) or str(s_large)
    add(make_case(sig, big, "signed", seed * 1000 + 900, f"large-{label}", "large"))
    rbig = _sizes(sig, race, prime=True) if race is not None and race != s_large else big
    rlabel = "x".join(str(v) for v in rbig.values()) or str(race)
    for j in range(len(RACE_AT) if races else 0):
        add(make_case(sig, rbig, f"race_max_{j}", seed * 1000 + 901 + j, f"race-max{j}-{rlabel}", "large"))
        add(make_case(sig, rbig, f"race_min_{j}", seed * 1000 + 905 + j, f"race-min{j}-{rlabel}", "large"))
    for j, nm in enumerate(_index_bounds(sig)):
        if nm in big and big[nm] > CONTENTION_BOUND:
            add(make_case(sig, big, "signed", seed * 1000 + 910 + j, f"contention-{nm}{CONTENTION_BOUND}", "large",
                          overrides={nm: CONTENTION_BOUND}))
    if isinstance(task, Task):
        for case in alias_cases(task, seed):
            add(case)
    if not cases:
        raise TesterError("no test case fits the function's extents")
    return TestSuite(function=sig.name, cases=cases, generator="deterministic", seed=seed)


ALIAS_SIZE = 29          # size knob of the overlapping calls: several chunks for 2-3 threads or ranks
MAX_ALIAS_CASES = 8


def overlap_candidates(task: Task) -> list[tuple[str, str]]:
    """Pairs of parameters a caller may pass overlapping arrays for: pointers of one element type, not
    restrict, one of them written (the analysis' pairs, the ones the entry overlap checks guard).
    Empty when the function cannot be analyzed: then no candidate is versioned for overlaps either."""
    from .analysis import analyze
    from .base import AnalysisError
    from .overlap_guard import overlap_pairs
    try:
        fx = analyze(task.source, task.language, task.function)
    except (AnalysisError, ValueError):
        return []
    params = {p.name for p in task.signature.params if p.kind == ParamKind.POINTER}
    return [(a.name, b.name) for a, b in overlap_pairs(fx) if a.name in params and b.name in params]


def alias_cases(task: Task, seed: int = 0) -> list[TestCase]:
    """Overlapping calls, the ones C callers make and the sequential code defines: in place (`f(n, a,
    a)`), shifted by one element either way (`f(n, a, a + 1)`, `f(n, a + 1, a)`) and overlapping by
    the last element only (the tightest case for a range check). A candidate must give the sequential
    code's answer for each: the versioned ones do by taking the original loop.

    The array whose values are constrained (indices, offsets, divisors) owns the memory, so that the
    view the other parameter gets still satisfies the constraint; a pair where both are constrained
    is left out (its overlapping calls would mostly be invalid inputs)."""
    sig = task.signature
    params = {p.name: p for p in sig.params}
    sizes = _sizes(sig, ALIAS_SIZE)
    out: list[TestCase] = []
    for k, (a, b) in enumerate(overlap_candidates(task)):
        ca, cb = (params[a].values.kind != ValueKind.ANY), (params[b].values.kind != ValueKind.ANY)
        if ca and cb:
            continue
        base = make_case(sig, sizes, "signed", seed * 1000 + 950 + k, "alias", "alias")
        if base is None:
            continue
        views = [(b, a, 0)]
        if ca:
            views.append((b, a, 1))
        elif cb:
            views.append((a, b, 1))
        else:
            views += [(b, a, 1), (a, b, 1)]
        last = base.arrays[a].count - 1
        if last > 1:
            views.append((b, a, last) if not cb else (a, b, base.arrays[b].count - 1))
        for alias, owner, off in views:
            if off < 0 or len(out) >= MAX_ALIAS_CASES:
                continue
            arrays = dict(base.arrays)
            need = off + arrays[alias].count
            if arrays[alias].count < 1:
                continue
            if need > arrays[owner].count:
                arrays[owner] = dataclasses.replace(arrays[owner], count=need)
            out.append(TestCase(safe_name(f"alias-{alias}-at-{owner}-{off}"), dict(base.scalars), arrays,
                                "alias", {alias: [owner, off]}))
    return out


def _index_bounds(sig: Signature) -> list[str]:
    """Size names that bound an index array (histogram bins, ...)."""
    out = []
    for p in sig.params:
        if p.is_array and p.values.kind == ValueKind.INDEX and p.values.bound:
            b = p.values.bound.strip()
            if b.isidentifier() and b not in out:
                out.append(b)
    return out


# ------------------------------------------------------------------ calibration

def calibrate_large(task: Task, opts: TesterOptions) -> tuple[int, int, str]:
    """Size knobs of the large case and of the race cases: the largest sizes
    of a ladder (up to opts.large_elements, resp. opts.race_elements elements
    per array, and opts.race_bytes of input per race case) on which one call
    of the reference takes at most about opts.large_seconds. Race cases are
    larger so that the threads of a parallel version really overlap (a thread
    woken from sleep starts tens of microseconds late)."""
    sig = task.signature
    fallback = inputs.large_size(sig, opts.large_elements)
    try:
        rb = ReferenceBuild(task, ("-O2",)).build()
    except CoverageError as e:
        return fallback, fallback, f"large case not calibrated ({e})"
    from paralift.sandbox.isolation import Limits
    note = ""
    times: list[tuple[int, int, float, int]] = []     # knob, elements, seconds, input bytes
    try:
        top = max(opts.race_elements, opts.large_elements)
        ladder = sorted({max(opts.large_elements >> k, 16) for k in (10, 8, 6, 4, 2, 0)}
                        | {e for e in (opts.large_elements * 2, opts.large_elements * 4, opts.large_elements * 8)
                           if e <= top})
        for j, elements in enumerate(ladder):
            s = inputs.large_size(sig, elements)
            case = make_case(sig, _sizes(sig, s, prime=True), "signed", opts.seed * 1000 + 800 + j, f"probe-{j}",
                             "large")
            if case is None:
                continue
            nbytes = inputs.case_bytes(sig, case)
            if elements > opts.large_elements and nbytes > opts.race_bytes:
                break
            name = rb.write(case)
            r = rb.run([name], Limits(wall_s=max(10.0, 20 * opts.large_seconds), cpu_s=60))
            t = rb.seconds(name)
            (rb.dir / "in" / f"{name}.in").unlink(missing_ok=True)
            if not r.ok or t is None:
                note = f"reference failed or too slow at knob {s}"
                break
            times.append((s, elements, t, nbytes))
            if t > opts.large_seconds:
                break
    finally:
        rb.close()
    if not times:
        return fallback, fallback, note or "large case not calibrated"
    fitting = [x for x in times if x[2] <= opts.large_seconds]
    if not fitting:
        smallest = min(times, key=lambda x: x[0])
        return smallest[0], smallest[0], note or f"the reference is slow: {smallest[2]:.2f} s at the smallest probe"
    large = max(x[0] for x in fitting if x[1] <= opts.large_elements) if any(
        x[1] <= opts.large_elements for x in fitting) else min(x[0] for x in fitting)
    race = max(x[0] for x in fitting)
    return large, max(race, large), note


# ------------------------------------------------------------------ validation

def validate_suite(task: Task, suite: TestSuite) -> tuple[TestSuite, list[str]]:
    """Run the reference under ASan+UBSan on every case (verify's own
    reference preparation, cached for the verifications that follow) and
    return the suite of the cases it runs cleanly, with the discarded ones.
    Raises VacuousSuite when the outputs do not depend on the inputs or no
    case has every size >= 2, TesterError when the reference is unusable."""
    from paralift.sandbox.verify import ReferenceError, VerifyOptions, prepare_reference

    names = [safe_name(c.name) for c in suite.cases]
    if len(set(names)) != len(names):
        raise TesterError("duplicate case names in the suite")
    suite = TestSuite(suite.function, [_renamed(c) for c in suite.cases], suite.generator, suite.seed)
    try:
        ref = prepare_reference(task, suite, VerifyOptions(timing=False))
    except ReferenceError as e:
        if "vacuous" in str(e):
            raise VacuousSuite(str(e)) from None
        raise TesterError(str(e)) from None
    kept = set(ref.cases)
    discarded = list(ref.discarded)
    # Overflow: finite inputs, a non-finite expected output. Which inf or NaN
    # comes out then depends on the evaluation order, so a correct parallel
    # version (a reassociated product, say) could not match it. Edge cases
    # (sizes <= 3, values within [-1, 1]) cannot overflow: a non-finite value
    # there is the function's own (an infinite initial minimum, ...).
    for c in suite.cases:
        if c.name in kept and c.tag != "edge" and not _finite(ref.expected.get(c.name, {})):
            kept.discard(c.name)
            discarded.append(f"{c.name}: the reference's output overflows to inf/NaN (its value would depend "
                             f"on the order of evaluation)")
    good = TestSuite(suite.function, [c for c in suite.cases if c.name in kept], suite.generator, suite.seed)
    if len(good.cases) != len(suite.cases) and len(kept) != len(ref.cases):
        try:   # the suite that will be used: prepare (and cache) its reference now
            prepare_reference(task, good, VerifyOptions(timing=False))
        except ReferenceError as e:
            if "vacuous" in str(e):
                raise VacuousSuite(str(e)) from None
            raise TesterError(str(e)) from None
    check_structure(task.signature, good)
    return good, discarded


def _finite(outputs: dict) -> bool:
    return all(np.isfinite(v).all() for v in outputs.values() if getattr(v, "dtype", None) is not None
               and v.dtype.kind == "f")


def _renamed(c: TestCase) -> TestCase:
    return TestCase(safe_name(c.name), dict(c.scalars), dict(c.arrays), c.tag, dict(c.aliases))


def check_structure(sig: Signature, suite: TestSuite) -> None:
    """Non-vacuity that needs no run: some case has every size >= 2 and
    non-empty arrays (so that loops iterate and a wrong element can show)."""
    names = inputs.size_names(sig)
    if not suite.cases:
        raise VacuousSuite("the suite has no case")
    for c in suite.cases:
        sizes_ok = all(int(c.scalars.get(n, 2)) >= 2 for n in names if n != FREE_SIZE)
        arrays_ok = all(a.count >= 2 for a in c.arrays.values()) if c.arrays else True
        if sizes_ok and arrays_ok:
            return
    raise VacuousSuite("no case has every size >= 2 and non-empty arrays: no loop iteration would be exercised")


# ------------------------------------------------------------------ the entry point

_CACHE: dict[str, TesterReport] = {}
_CACHE_MAX = 256
_CACHE_LOCK = threading.Lock()


def _cache_key(task: Task, opts: TesterOptions, extra: str = "") -> str:
    blob = json.dumps([task.source, task.language, to_jsonable(task.signature), to_jsonable(task.target),
                       to_jsonable(opts), extra],
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def build_suite(task: Task, options: TesterOptions | None = None,
                generate: Callable[[str], list[str]] | None = None) -> TesterReport:
    """The tester agent: a validated, non-vacuous suite for `task` (cached per
    process). With `generate` (the provider layer's text generator), the
    model's proposed cases are parsed, merged and validated the same way."""
    opts = options or TesterOptions()
    key = _cache_key(task, opts, "llm" if generate else "")
    with _CACHE_LOCK:
        if generate is None and key in _CACHE:
            return _CACHE[key]
    notes: list[str] = []
    try:
        inputs.check_signature(task.signature)
    except ValueError as e:
        raise TesterError(str(e)) from None
    large = race = None
    if opts.calibrate:
        large, race, note = calibrate_large(task, opts)
        if note:
            notes.append(note)
    # calibrated: no profile case larger than the large case (the calibration measured what one call costs)
    suite = generate_tests(task, opts.seed, large, race, cap=large if opts.calibrate else None)
    llm_errors: list[str] = []
    if generate is not None:
        proposed, llm_errors = propose_cases_report(task, generate, limit=opts.max_llm_cases, seed=opts.seed)
        suite = merge_cases(suite, proposed, limit=opts.max_llm_cases)
    discarded: list[str] = []
    if opts.validate:
        suite, discarded = validate_suite(task, suite)
    else:
        check_structure(task.signature, suite)
    report = TesterReport(suite, discarded, notes, None, llm_errors, large, race)
    if opts.coverage:
        try:
            report.coverage = measure_coverage(task, suite)
        except CoverageError as e:
            notes.append(f"coverage not measured: {e}")
        else:
            if not report.coverage.exercises_loops:
                raise VacuousSuite("the suite runs no iteration of any loop of the reference")
    if generate is None:
        with _CACHE_LOCK:
            while len(_CACHE) >= _CACHE_MAX:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = report
    return report


# ================================================================== LLM tester

CASE_FORMAT = """\
{"cases": [
  {"name": "short-kebab-case-name",
   "why": "one line: the wrong parallelization this case would expose",
   "sizes": {"<size parameter>": <non-negative integer>},
   "scalars": {"<other scalar parameter>": <number>},
   "arrays": {
     "<array parameter>": {"dist": "uniform", "lo": <number>, "hi": <number>},
     "<array parameter>": {"dist": "ramp", "lo": <first value>, "hi": <last value>},
     "<array parameter>": {"values": [<exactly as many numbers as its extent>]},
     "<array parameter>": {"dist": "uniform", "lo": 0, "hi": 1, "set": [[<position>, <value>]]}
   }}
]}"""

# A JSON schema of the same format, for providers with structured output.
CASE_SCHEMA = {
    "type": "object",
    "required": ["cases"],
    "properties": {"cases": {"type": "array", "maxItems": 16, "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "why": {"type": "string"},
            "sizes": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
            "scalars": {"type": "object", "additionalProperties": {"type": "number"}},
            "arrays": {"type": "object", "additionalProperties": {
                "type": "object",
                "properties": {
                    "dist": {"enum": ["uniform", "ramp", "explicit"]},
                    "lo": {"type": "number"}, "hi": {"type": "number"},
                    "values": {"type": "array", "items": {"type": "number"}, "maxItems": 4096},
                    "set": {"type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 2}},
                }}},
        }}}},
}

MAX_SIZE = 1 << 20              # any size parameter
MAX_ELEMENTS = 1 << 20          # any array, per case
MAX_EXPLICIT = 4096             # explicit values per array


def _function_text(task: Task) -> str:
    sig = task.signature
    lines = task.source.splitlines()
    if sig.start_line and sig.end_line and sig.end_line <= len(lines) and len(task.source) > 6000:
        return "\n".join(lines[sig.start_line - 1:sig.end_line])
    return task.source


def _param_table(sig: Signature) -> str:
    rows = []
    for p in sig.params:
        if p.is_array:
            what = f"array of {p.base_type}, {p.extent} elements, {p.role.value}"
        elif p.kind == ParamKind.REF:
            what = f"{p.base_type} reference, {p.role.value}"
        else:
            what = f"scalar {p.base_type}"
        kind = p.values.kind
        if kind == ValueKind.SIZE:
            what += "; a size (give it under \"sizes\")"
        elif kind == ValueKind.INDEX:
            what += f"; every value is an index in [0, {p.values.bound})"
        elif kind == ValueKind.OFFSETS:
            what += f"; CSR offsets: non-decreasing, first 0, last {p.values.bound} (generated for you)"
        elif kind == ValueKind.NONZERO:
            what += "; used as a divisor: never 0"
        elif kind == ValueKind.FACTOR:
            a, b = p.values.factor or (1.0, 0.0)
            what += (f"; enters a product as the factor {a:g}*x + {b:g}: keep that factor near 1 (x near {(1 - b) / a:g}) "
                     "so that the product neither over- nor underflows")
        rows.append(f"- {p.name}: {what}")
    if any(p.extent and FREE_SIZE in p.extent for p in sig.params):
        rows.append(f"- {FREE_SIZE}: the length of the std::vector inputs (give it under \"sizes\")")
    return "\n".join(rows)


def build_prompt(task: Task, existing: TestSuite | None = None, max_cases: int = 8) -> str:
    """The tester model's prompt: the function, its parameters and their
    constraints, the bugs to aim at, and the JSON format to fill in."""
    sig = task.signature
    have = ""
    if existing is not None and existing.cases:
        shown = ", ".join(c.name for c in existing.cases[:30])
        have = f"\nThe suite already has these cases: {shown}. Propose different ones.\n"
    return f"""You write test inputs for a C/C++ function that will be parallelized (OpenMP, MPI or CUDA).
Parallel versions are checked against the sequential function on your inputs; the expected outputs come
from running the sequential code, so do not give outputs. Your inputs must be valid for the sequential
code (no out-of-range index, no division by zero) and should make a WRONG parallel version give a
different result: a data race or lost update, a missing reduction, an off-by-one loop bound, a dropped
remainder when the size is not divisible by the number of threads/ranks/blocks (use sizes like 1, 7, 13,
257, 1009), a wrong initial value (all-negative data for a maximum), an element in the first or last
position that decides the result, swapped dimensions (use different sizes for different dimensions).

The function `{sig.name}` ({task.language}):
```
{_function_text(task).strip()}
```

Parameters:
{_param_table(sig)}
{have}
Reply with at most {max_cases} cases as one JSON object and nothing else, in this format:
{CASE_FORMAT}

Rules: every size is an integer from 0 to {MAX_SIZE}; an array's element count follows from the sizes
(its extent above), and "values" must list exactly that many numbers (at most {MAX_EXPLICIT}); "uniform"
draws values in [lo, hi); "ramp" goes evenly from lo to hi; "set" overrides single positions (a negative
position counts from the end). Anything you leave out is generated for you."""


# ------------------------------------------------------------------ parsing

@dataclass
class ParseResult:
    cases: list[TestCase] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\s*\n?(.*?)```", re.S)


def _json_candidates(text: str) -> list[str]:
    out = [m.group(1) for m in _FENCE.finditer(text)]
    # The outermost bracketed span(s) of the prose.
    for opener, closer in (("{", "}"), ("[", "]")):
        i = text.find(opener)
        j = text.rfind(closer)
        if 0 <= i < j:
            out.append(text[i:j + 1])
    out.append(text)
    return out


def _strip_comments(s: str) -> str:
    res, i, n, in_str, q = [], 0, len(s), False, ""
    while i < n:
        ch = s[i]
        if in_str:
            res.append(ch)
            if ch == "\\" and i + 1 < n:
                res.append(s[i + 1])
                i += 2
                continue
            if ch == q:
                in_str = False
            i += 1
            continue
        if ch in "\"'":
            in_str, q = True, ch
            res.append(ch)
            i += 1
            continue
        if s.startswith("//", i) or ch == "#":
            while i < n and s[i] != "\n":
                i += 1
            continue
        if s.startswith("/*", i):
            k = s.find("*/", i + 2)
            i = n if k < 0 else k + 2
            continue
        res.append(ch)
        i += 1
    return "".join(res)


def _loads_lenient(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        pass
    s = _strip_comments(text)
    s = re.sub(r",\s*([}\]])", r"\1", s)
    try:
        return json.loads(s)
    except (json.JSONDecodeError, ValueError):
        pass
    # Python-style literals (single quotes, True/None), never evaluated as code.
    py = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", s)))
    try:
        return ast.literal_eval(py)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ValueError("no parseable JSON") from None


def _extract(text: str) -> Any:
    last = None
    for cand in _json_candidates(text):
        cand = cand.strip()
        if not cand:
            continue
        try:
            data = _loads_lenient(cand)
        except ValueError as e:
            last = e
            continue
        if isinstance(data, (dict, list)):
            return data
    raise ValueError("the reply holds no JSON object" if last is None else str(last))


def _case_list(data: Any) -> list:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for k in ("cases", "tests", "test_cases", "inputs"):
            if isinstance(data.get(k), list):
                return data[k]
        if any(k in data for k in ("sizes", "arrays", "scalars")):
            return [data]
    raise ValueError("expected {\"cases\": [...]}")


def _number(x: Any, what: str) -> float:
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, (int, float)):
        v = float(x)
    elif isinstance(x, str):
        try:
            v = float(x.strip())
        except ValueError:
            raise ValueError(f"{what} is not a number: {x!r}") from None
    else:
        raise ValueError(f"{what} is not a number: {x!r}")
    if not math.isfinite(v):
        raise ValueError(f"{what} is not finite")
    return v


def _integer(x: Any, what: str) -> int:
    v = _number(x, what)
    if v != int(v):
        raise ValueError(f"{what} must be an integer, got {x!r}")
    return int(v)


def _resolve(name: str, known: list[str]) -> str | None:
    if name in known:
        return name
    low = [k for k in known if k.lower() == str(name).lower()]
    return low[0] if len(low) == 1 else None


def _check_value(v: float, dt: np.dtype, what: str) -> float | int:
    if dt.kind in "iu":
        if v != int(v):
            raise ValueError(f"{what}: {v} is not an integer")
        info = np.iinfo(dt)
        if not info.min <= v <= info.max:
            raise ValueError(f"{what}: {int(v)} does not fit {dt.name}")
        return int(v)
    if dt.itemsize == 4 and abs(v) > 3.0e38:
        raise ValueError(f"{what}: {v} does not fit float")
    return v


def parse_cases(task: Task, text: str, seed: int = 0, prefix: str = "llm") -> ParseResult:
    """Turn one model reply into validated TestCases (errors say why a case,
    or the whole reply, was rejected)."""
    res = ParseResult()
    try:
        items = _case_list(_extract(text))
    except ValueError as e:
        res.errors.append(f"reply rejected: {e}")
        return res
    for k, item in enumerate(items[:64]):
        label = f"case {k + 1}"
        try:
            if not isinstance(item, dict):
                raise ValueError("not an object")
            label = f"case {k + 1} ({item.get('name', '')})" if item.get("name") else label
            # Seeded by content: the same case proposed twice draws the same values.
            content = json.dumps({kk: vv for kk, vv in item.items() if kk not in ("name", "why")},
                                 sort_keys=True, default=str)
            cseed = seed * 7919 + int(hashlib.sha256(content.encode()).hexdigest()[:8], 16) % 1000003
            case = _one_case(task.signature, item, cseed, prefix, k)
        except ValueError as e:
            res.errors.append(f"{label}: {e}")
            continue
        res.cases.append(case)
    return res


def _one_case(sig: Signature, item: dict, seed: int, prefix: str, k: int) -> TestCase:
    size_names = inputs.size_names(sig)
    scalar_names = [p.name for p in sig.params if not p.is_array]
    array_names = [p.name for p in sig.params if p.is_array]
    sizes_in = item.get("sizes") or {}
    scalars_in = item.get("scalars") or {}
    arrays_in = item.get("arrays") or {}
    for what, obj in (("sizes", sizes_in), ("scalars", scalars_in), ("arrays", arrays_in)):
        if not isinstance(obj, dict):
            raise ValueError(f"\"{what}\" must be an object")
    sizes: dict[str, int] = {}
    scalars: dict[str, Any] = {}
    # Sizes may come under "sizes" or "scalars"; other scalars under either too.
    for src in (sizes_in, scalars_in):
        for raw, val in src.items():
            nm = _resolve(raw, size_names) or _resolve(raw, scalar_names)
            if nm is None:
                raise ValueError(f"unknown parameter {raw!r}")
            if nm in size_names:
                v = _integer(val, f"size {nm}")
                if not 0 <= v <= MAX_SIZE:
                    raise ValueError(f"size {nm} = {v} is outside [0, {MAX_SIZE}]")
                sizes[nm] = v
            else:
                p = sig.param(nm)
                dt = dtype_of(p.base_type)
                v = _check_value(_number(val, f"scalar {nm}"), dt, f"scalar {nm}")
                if p.values.kind == ValueKind.NONZERO and v == 0:
                    raise ValueError(f"scalar {nm} is a divisor and must not be 0")
                scalars[nm] = v
    specs_in: dict[str, dict] = {}
    for raw, spec in arrays_in.items():
        nm = _resolve(raw, array_names)
        if nm is None:
            raise ValueError(f"unknown array parameter {raw!r}")
        if isinstance(spec, list):
            spec = {"values": spec}
        if not isinstance(spec, dict):
            raise ValueError(f"array {nm}: expected an object")
        specs_in[nm] = spec
    # A size left out but implied by an explicit array of extent exactly that size.
    for nm, spec in specs_in.items():
        vals = spec.get("values")
        ext = (sig.param(nm).extent or "").replace(" ", "")
        if isinstance(vals, list) and ext in size_names and ext not in sizes:
            sizes[ext] = len(vals)
    default = inputs.sizes_for(sig, 13)
    for nm in size_names:
        sizes.setdefault(nm, default.get(nm, 13))
    base = make_case(sig, sizes, "signed", seed, "x", "llm")
    if base is None:
        raise ValueError(f"the sizes {sizes} do not fit the extents")
    for nm, v in scalars.items():
        base.scalars[nm] = v
    for nm in size_names:
        if nm in base.scalars:
            base.scalars[nm] = sizes[nm]
    env = {**sizes, **{k2: v for k2, v in base.scalars.items() if isinstance(v, int)}}
    for p in sig.params:
        if not p.is_array:
            continue
        count = eval_extent(p.extent or "0", env)
        if count > MAX_ELEMENTS:
            raise ValueError(f"array {p.name} would have {count} elements (at most {MAX_ELEMENTS})")
        spec = specs_in.get(p.name)
        if spec is not None:
            base.arrays[p.name] = _array_from_model(p, spec, count, env, seed + 17 * (1 + sig.params.index(p)))
    for nm in scalar_names:
        p = sig.param(nm)
        if p.values.kind == ValueKind.INDEX and p.values.bound:
            b = eval_extent(p.values.bound, env)
            if not 0 <= int(base.scalars[nm]) < max(b, 1):
                raise ValueError(f"scalar {nm} = {base.scalars[nm]} is not an index in [0, {b})")
    raw_name = str(item.get("name") or f"case{k + 1}")
    base.name = safe_name(re.sub(r"[\s_]+", "-", f"{prefix}-{raw_name}".strip().lower()))[:48]
    base.tag = "llm"
    return base


_DIST_ALIASES = {"uniform": "uniform", "random": "uniform", "rand": "uniform", "range": "uniform",
                 "index": "index", "indices": "index", "offsets": "offsets", "csr": "offsets",
                 "nonzero": "nonzero", "non-zero": "nonzero", "permutation": "permutation",
                 "ramp": "ramp", "linear": "ramp", "linspace": "ramp", "increasing": "ramp", "sorted": "ramp",
                 "decreasing": "ramp", "constant": "ramp", "const": "ramp", "explicit": "explicit",
                 "values": "explicit", "list": "explicit"}


def _array_from_model(p: Param, spec: dict, count: int, env: dict[str, int], seed: int) -> ArraySpec:
    dt = dtype_of(p.base_type)
    kind = p.values.kind
    vals = spec.get("values")
    dist = str(spec.get("dist", "explicit" if vals is not None else "uniform")).strip().lower()
    if dist not in _DIST_ALIASES:
        raise ValueError(f"array {p.name}: unknown distribution {dist!r} (uniform, ramp, index, offsets, nonzero "
                         f"or explicit values)")
    canon = _DIST_ALIASES[dist]
    bound = eval_extent(p.values.bound, env) if p.values.bound and kind in (ValueKind.INDEX, ValueKind.OFFSETS) else None
    if canon == "explicit":
        if not isinstance(vals, list):
            raise ValueError(f"array {p.name}: \"values\" must be a list")
        if len(vals) != count:
            raise ValueError(f"array {p.name}: {len(vals)} values given, its extent {p.extent} is {count}")
        if count > MAX_EXPLICIT:
            raise ValueError(f"array {p.name}: more than {MAX_EXPLICIT} explicit values")
        clean = [_check_value(_number(v, f"{p.name}[{i}]"), dt, f"{p.name}[{i}]") for i, v in enumerate(vals)]
        _check_constraints(p, clean, bound)
        return ArraySpec(count=count, dist="explicit", seed=seed, values=clean)
    # Arrays with a structural constraint are always generated to satisfy it
    # (the model's distribution only picks the flavour).
    if kind == ValueKind.INDEX and bound is not None:
        if bound <= 0 and count > 0:
            raise ValueError(f"array {p.name}: indices into an empty range")
        flavour = {"ramp": "ramp_up", "permutation": "positive"}.get(canon, "signed")
        return _index_spec(flavour, count, bound, seed)
    if kind == ValueKind.OFFSETS and bound is not None:
        return ArraySpec(count=count, dist="offsets", lo=0, hi=bound, seed=seed)
    if canon == "offsets":
        raise ValueError(f"array {p.name} is not a CSR offsets array")
    if canon in ("index", "permutation"):
        if dt.kind not in "iu":
            raise ValueError(f"array {p.name} holds {p.base_type}, not indices")
        hi = _integer(spec.get("hi", spec.get("bound", count)), f"array {p.name} hi")
        if hi <= 0 and count > 0:
            raise ValueError(f"array {p.name}: indices into an empty range")
        _check_value(float(hi - 1), dt, f"array {p.name} hi")
        return ArraySpec(count=count, dist=canon, lo=0, hi=hi, seed=seed)
    if canon == "nonzero":
        lo = abs(_number(spec.get("lo", 0.5), f"array {p.name} lo"))
        hi = abs(_number(spec.get("hi", 2.0), f"array {p.name} hi"))
        lo, hi = min(lo, hi), max(lo, hi)
        if dt.kind in "iu":
            lo = max(lo, 1.0)
            hi = max(hi, lo)
        elif lo == 0:
            raise ValueError(f"array {p.name}: a nonzero range must exclude 0")
        _check_value(float(math.ceil(hi)) if dt.kind in "iu" else hi, dt, f"array {p.name} hi")
        return ArraySpec(count=count, dist="nonzero", lo=lo, hi=hi, seed=seed)
    if dist in ("constant", "const"):
        v = _number(spec.get("value", spec.get("lo", 0)), f"array {p.name} value")
        lo = hi = v
    else:
        lo = _number(spec.get("lo", spec.get("min", -1.0 if dt.kind == "f" else 0)), f"array {p.name} lo")
        hi = _number(spec.get("hi", spec.get("max", 1.0 if dt.kind == "f" else 100)), f"array {p.name} hi")
        if dist == "decreasing" and lo < hi:
            lo, hi = hi, lo
    if canon == "uniform":
        if lo > hi:
            lo, hi = hi, lo
        if dt.kind in "iu":
            lo, hi = math.floor(lo), math.ceil(hi)
            if hi <= lo:
                hi = lo + 1
        elif hi == lo:
            canon = "ramp"
    for v, w in ((lo, "lo"), (hi, "hi")):
        _check_value(float(math.floor(v)) if dt.kind in "iu" else v, dt, f"array {p.name} {w}")
    if kind == ValueKind.NONZERO and (lo <= 0 <= hi):
        raise ValueError(f"array {p.name} is a divisor: its range [{lo}, {hi}] must exclude 0")
    overrides = None
    raw_set = spec.get("set", spec.get("overrides"))
    if raw_set is not None:
        if isinstance(raw_set, dict):
            raw_set = list(raw_set.items())
        if not isinstance(raw_set, list) or len(raw_set) > 64:
            raise ValueError(f"array {p.name}: \"set\" must be a short list of [position, value]")
        overrides = []
        for item in raw_set:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise ValueError(f"array {p.name}: \"set\" entries are [position, value]")
            pos = _integer(item[0], f"array {p.name} position")
            val = _check_value(_number(item[1], f"array {p.name} value"), dt, f"array {p.name} value")
            if kind == ValueKind.NONZERO and val == 0:
                raise ValueError(f"array {p.name} is a divisor: cannot set 0")
            overrides.append([pos, val])
    return ArraySpec(count=count, dist=canon, lo=lo, hi=hi, seed=seed, values=overrides)


def _check_constraints(p: Param, vals: list, bound: int | None) -> None:
    kind = p.values.kind
    if kind == ValueKind.INDEX and bound is not None:
        bad = [v for v in vals if not 0 <= v < bound]
        if bad:
            raise ValueError(f"array {p.name}: {bad[0]} is not an index in [0, {bound})")
    elif kind == ValueKind.OFFSETS and bound is not None:
        if vals and (vals[0] != 0 or vals[-1] != bound or any(b < a for a, b in zip(vals, vals[1:]))):
            raise ValueError(f"array {p.name}: CSR offsets must start at 0, never decrease and end at {bound}")
    elif kind == ValueKind.NONZERO and any(v == 0 for v in vals):
        raise ValueError(f"array {p.name} is a divisor: it must not hold 0")


# ------------------------------------------------------------------ propose and merge

def _fingerprint(c: TestCase) -> str:
    return json.dumps([c.scalars, to_jsonable(c.arrays)], sort_keys=True, default=str)


def propose_cases_report(task: Task, generate: Callable[[str], list[str]], existing: TestSuite | None = None,
                         limit: int = 16, seed: int = 0) -> tuple[list[TestCase], list[str]]:
    prompt = build_prompt(task, existing)
    try:
        replies = generate(prompt)
    except Exception as e:  # noqa: BLE001 - a provider failure must not stop the deterministic suite
        return [], [f"the tester model failed: {type(e).__name__}: {e}"]
    if isinstance(replies, str):
        replies = [replies]
    out: list[TestCase] = []
    errors: list[str] = []
    seen: set[str] = set()
    for r, text in enumerate(replies or []):
        if not isinstance(text, str):
            errors.append(f"reply {r + 1}: not text")
            continue
        res = parse_cases(task, text, seed=seed, prefix=f"llm{r}" if len(replies) > 1 else "llm")
        errors += [f"reply {r + 1}: {e}" for e in res.errors]
        for c in res.cases:
            fp = _fingerprint(c)
            if fp in seen:
                continue
            seen.add(fp)
            out.append(c)
            if len(out) >= limit:
                return out, errors
    return out, errors


def propose_cases(task: Task, generate: Callable[[str], list[str]]) -> list[TestCase]:
    """The tester model's cases for `task`: prompt, generate, parse, check.
    (Sanitizer validation happens when they are merged into a suite by
    `build_suite(task, generate=...)` or `validate_suite`.)"""
    return propose_cases_report(task, generate)[0]


def merge_cases(suite: TestSuite, cases: list[TestCase], limit: int = 16) -> TestSuite:
    """`suite` plus up to `limit` new cases (duplicates by content dropped,
    names made unique)."""
    seen = {_fingerprint(c) for c in suite.cases}
    names = {c.name for c in suite.cases}
    merged = list(suite.cases)
    added = 0
    for c in cases:
        if added >= limit:
            break
        fp = _fingerprint(c)
        if fp in seen:
            continue
        name, j = safe_name(c.name), 1
        while name in names:
            name = safe_name(f"{c.name[:52]}-{j}")
            j += 1
        seen.add(fp)
        names.add(name)
        merged.append(TestCase(name, dict(c.scalars), dict(c.arrays), c.tag, dict(c.aliases)))
        added += 1
    generator = suite.generator if not added or "llm" in suite.generator else suite.generator + "+llm"
    return TestSuite(suite.function, merged, generator, suite.seed)


def provider_generate(provider, samples: int = 1, temperature: float | None = None, max_tokens: int = 1024,
                      seed: int | None = None) -> Callable[[str], list[str]]:
    """`generate(prompt) -> list[str]` over a paralift.agents.providers
    Provider (the translator's provider layer), for `build_suite(generate=...)`."""
    from .providers import GenerationRequest

    temp = (0.0 if samples == 1 else 0.8) if temperature is None else temperature

    def generate(prompt: str) -> list[str]:
        if provider.has_chat_template():
            req = GenerationRequest(messages=[
                {"role": "system", "content": "You write test inputs that expose bugs in parallel translations. "
                                              "Answer with JSON only."},
                {"role": "user", "content": prompt}], n=samples, temperature=temp, max_tokens=max_tokens, seed=seed)
        else:
            req = GenerationRequest(prompt=prompt + "\n\n```json\n", n=samples, temperature=temp,
                                    max_tokens=max_tokens, stop=["```"], seed=seed)
        return [c.text for c in provider.generate(req)]

    return generate


# ================================================================== `paralift tests`

def describe_case(case: TestCase) -> str:
    """One line: sizes, scalars and how each array is filled."""
    parts = [f"{k}={v}" for k, v in case.scalars.items()]
    for name, a in case.arrays.items():
        if a.dist == "explicit":
            parts.append(f"{name}[{a.count}]=explicit")
            continue
        rng = f"[{a.lo:g},{a.hi:g})" if a.dist in ("uniform", "nonzero", "index") else \
            f"({a.lo:g}..{a.hi:g})" if a.dist == "ramp" else f"(0..{a.hi:g})"
        extra = "".join(f" @{pos}={val:g}" for pos, val in (a.values or []))
        parts.append(f"{name}[{a.count}]={a.dist}{rng}{extra}")
    return " ".join(parts)


def suite_adequacy(task: Task, *, seed: int = 0, coverage: bool = True, mutation: bool = True,
                   candidates: list | None = None, targets: list | None = None, workers: int | None = None,
                   generate: Callable[[str], list[str]] | None = None,
                   say: Callable[[str], None] | None = None) -> dict:
    """The suite for `task` (with the tester model's cases when `generate` is
    given) and its adequacy: gcov coverage of the reference, and the mutation
    score on `candidates` (default: the rule-based translator's candidates
    for `targets`, default openmp and mpi)."""
    from paralift.sandbox import VerifyOptions
    from paralift.sandbox.isolation import Limits
    from paralift.types import Candidate, Target

    from .mutation import run_mutants

    say = say or (lambda _m: None)
    say(f"building the test suite of {task.function}")
    rep = build_suite(task, TesterOptions(seed=seed, coverage=coverage), generate=generate)
    out: dict[str, Any] = {"function": task.function, **rep.to_json(), "mutation": [], "mutation_notes": []}
    if not mutation:
        return out
    subjects: list[Candidate] = list(candidates or [])
    if not subjects:
        try:
            from . import NotParallelizable, RuleBasedTranslator
        except ImportError as e:
            out["mutation_notes"].append(f"no candidate to mutate (rule-based translator unavailable: {e})")
            return out
        for t in targets or [Target.OPENMP, Target.MPI]:
            t = Target.parse(t) if isinstance(t, str) else t
            try:
                for c in RuleBasedTranslator().propose(task, t):
                    c.agent = f"rule:{t.value}"
                    subjects.append(c)
            except NotParallelizable as e:
                out["mutation_notes"].append(f"{t.value}: no rule-based candidate to mutate ({e})")
    opts = VerifyOptions(timing=False, run_limits=Limits(wall_s=15, cpu_s=40))
    for c in subjects:
        say(f"mutation testing the {c.target.value} candidate ({c.agent})")
        m = run_mutants(task, c, rep.suite, opts, label=c.agent, workers=workers)
        out["mutation"].append(m.to_json())
    return out


def print_adequacy(report: dict, stream) -> None:
    from paralift.types import suite_from_json

    suite = suite_from_json(report["suite"])
    w = stream.write
    w(f"{report['function']}: {len(suite.cases)} test cases"
      f" ({len(report['discarded'])} discarded: the sequential code misbehaves on them under ASan/UBSan)\n")
    width = max((len(c.name) for c in suite.cases), default=4)
    for c in suite.cases:
        w(f"  {c.name:<{width}}  {c.tag:<6} {describe_case(c)}\n")
    for d in report["discarded"]:
        w(f"  discarded {d}\n")
    for n in report["notes"]:
        w(f"  note: {n}\n")
    cov = report.get("coverage")
    if cov:
        w(f"coverage of {cov['function']}: lines {cov['line_pct']:.1f}% ({cov['lines']['hit']}/{cov['lines']['total']}),"
          f" branches {cov['branch_pct']:.1f}% ({cov['branches']['taken']}/{cov['branches']['total']}),"
          f" loops iterated {cov['loops']['iterated']}/{cov['loops']['total']}"
          + (f"; uncovered lines {cov['uncovered_lines']}" if cov["uncovered_lines"] else "") + "\n")
    for m in report.get("mutation", []):
        if m["original"]["status"] != "verified":
            w(f"mutation ({m['candidate']}, {m['target']}): the candidate itself does not verify: "
              f"{m['original']['reason']}\n")
            continue
        sc = "n/a" if m["score"] is None else f"{100 * m['score']:.1f}%"
        ops = ", ".join(f"{op} {d['killed']}/{d['killed'] + d['survived'] + d['static']}"
                        for op, d in m["per_operator"].items())
        w(f"mutation ({m['candidate']}, {m['target']}): {m['killed']} of {m['mutants']} mutants killed by the tests,"
          f" score {sc} [{ops}]; {m['equivalent']} equivalent, {m['stillborn']} stillborn,"
          f" {m['static']} caught only by the static race check\n")
        for s in m["survivors"]:
            w(f"  {s['status']}: {s['id']} line {s['line']}: {s['description']}"
              + (f" ({s['equivalent']})" if s["equivalent"] else "") + "\n")
    for n in report.get("mutation_notes", []):
        w(f"note: {n}\n")

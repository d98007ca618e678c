"""Parallelization plans: one small language for OpenMP, MPI and CUDA (issue 25).

The bundled model's `directives` answer (`L1: #pragma omp parallel for
reduction(+:s)`) names OpenMP pragmas; a plan names *decisions* that the code
generators (agents.codegen_openmp / codegen_mpi / codegen_cuda) turn into
code for any target:

    L2: parallel collapse(2) schedule(guided) reduction(+:s) simd

one line per loop to parallelize, `Lk` numbering the function's loops (for,
while, do) in source order as `number_loops` marks them. Clauses, all optional:

    collapse(1|2)        OpenMP: the collapse clause; CUDA: a 1-D or 2-D grid
                         (the loop and its perfectly nested child); MPI: 1
                         keeps the distribution on this loop
    schedule(static|guided)   OpenMP only (guided for uneven iterations)
    simd / nosimd        OpenMP only: `simd` on this loop and the parallel
                         loops inside it, or none (default: the analysis'
                         choice, simd on inner float reductions)
    reduction(op:v,...)  stated for readability; must equal what the analysis
                         found (a plan cannot invent or drop a reduction)

A plan only *selects* among what `agents.analysis` proved: every named loop
must be provably parallel, no named loop may sit inside another, collapse(2)
needs the analysis' rectangular parallel child. So a plan never changes a
function's meaning beyond what verification then checks; the rule agent's
own decision is `plan_of(facts)`, and `apply_plan(task, plan_of(...))`
reproduces its candidate.
"""
from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass, field

from paralift.types import Target, Task

from .extract import ExtractionError

__all__ = ["LoopPlan", "Plan", "PlanError", "parse_plan", "plan_of", "apply_plan", "numbered_loops",
           "number_loops", "rule_plan", "looks_like_plan"]


class PlanError(ExtractionError):
    """A plan that cannot be parsed or applied (one line: which loop, why)."""


@dataclass
class LoopPlan:
    loop: int                               # Lk: 1-based, source order of the function's loops
    collapse: int | None = None
    schedule: str | None = None             # static | guided
    simd: bool | None = None
    reductions: tuple[tuple[str, str], ...] = ()   # (op, variable), sorted

    def __str__(self) -> str:
        parts = [f"L{self.loop}: parallel"]
        if self.collapse:
            parts.append(f"collapse({self.collapse})")
        if self.schedule:
            parts.append(f"schedule({self.schedule})")
        groups: dict[str, list[str]] = {}
        for op, v in self.reductions:
            groups.setdefault(op, []).append(v)
        parts += [f"reduction({op}:{','.join(vs)})" for op, vs in groups.items()]
        if self.simd is not None:
            parts.append("simd" if self.simd else "nosimd")
        return " ".join(parts)


@dataclass
class Plan:
    loops: list[LoopPlan] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(lp) for lp in sorted(self.loops, key=lambda x: x.loop))


_LINE = re.compile(r"^\s*L(\d+)\s*:\s*parallel\b(.*)$")
_CLAUSE = re.compile(r"\s*(collapse|schedule|reduction)\s*\(([^()]*)\)|\s*(simd|nosimd)\b")
_OPS = {"+", "*", "-", "&", "|", "^", "&&", "||", "max", "min"}


def looks_like_plan(text: str) -> bool:
    return bool(_LINE.match(text.lstrip("\n").replace("```", "").lstrip()))


def parse_plan(text: str) -> Plan:
    """The plan in `text` (code fences and blank lines ignored). Raises PlanError."""
    plan = Plan()
    seen = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("```"):
            continue
        m = _LINE.match(line)
        if not m:
            raise PlanError(f"not a plan line: {line[:60]!r} (expected 'Lk: parallel [clauses]')")
        lp = LoopPlan(int(m.group(1)))
        if lp.loop in seen:
            raise PlanError(f"L{lp.loop} is planned twice")
        seen.add(lp.loop)
        rest, reds = m.group(2), []
        while rest.strip():
            c = _CLAUSE.match(rest)
            if not c:
                raise PlanError(f"L{lp.loop}: unknown clause {rest.strip()[:40]!r}")
            rest = rest[c.end():]
            name, arg = c.group(1), (c.group(2) or "").strip()
            if c.group(3):
                lp.simd = c.group(3) == "simd"
            elif name == "collapse":
                if arg not in ("1", "2"):
                    raise PlanError(f"L{lp.loop}: collapse({arg}) (1 or 2)")
                lp.collapse = int(arg)
            elif name == "schedule":
                if arg not in ("static", "guided"):
                    raise PlanError(f"L{lp.loop}: schedule({arg}) (static or guided)")
                lp.schedule = arg
            else:
                op, _, names = arg.partition(":")
                op = op.strip()
                if op not in _OPS or not names.strip():
                    raise PlanError(f"L{lp.loop}: reduction({arg})")
                reds += [(op, v.strip()) for v in names.split(",") if v.strip()]
        lp.reductions = tuple(sorted(reds))
        plan.loops.append(lp)
    if not plan.loops:
        raise PlanError("the plan names no loop")
    plan.loops.sort(key=lambda x: x.loop)
    return plan


# ------------------------------------------------------------------ plans and the analysis

def numbered_loops(fx) -> list:
    """The function's loops in source order: entry k-1 is Lk."""
    return sorted(fx.model.loops, key=lambda lp: lp.start)


def number_loops(fx) -> str:
    """The function's text with `/*Lk*/ ` before each loop (the plan prompt's view)."""
    fn = fx.model.fn
    data = fx.unit.data
    out, last = [], fn.start_byte
    for k, lp in enumerate(numbered_loops(fx), 1):
        out += [data[last:lp.start].decode("utf-8", "replace"), f"/*L{k}*/ "]
        last = lp.start
    return "".join(out) + data[last:fn.end_byte].decode("utf-8", "replace")


def _reductions(f) -> tuple[tuple[str, str], ...]:
    return tuple(sorted([(op, d.name) for d, op in f.reductions.items()]
                        + [(op, d.name) for d, op in f.array_reductions.items()]))


def plan_of(fx, target: Target | str = Target.OPENMP) -> Plan:
    """The decision the rule agent takes on `fx` (its chosen loops), as a plan."""
    target = Target(target)
    index = {lp: k for k, lp in enumerate(numbered_loops(fx), 1)}
    plan = Plan()
    for f in fx.chosen_loops():
        lp = LoopPlan(index[f.loop], reductions=_reductions(f))
        if target == Target.OPENMP:
            lp.collapse = 2 if f.collapse == 2 else None
            lp.schedule = "guided" if f.varying else None
        elif target == Target.CUDA and _child_parallel(fx, f.loop):
            lp.collapse = 2
        plan.loops.append(lp)
    return plan


def _child_parallel(fx, L) -> bool:
    from .analysis import _only_child_loop
    child = _only_child_loop(L)
    return child is not None and fx.loops.get(child) is not None and fx.loops[child].parallel


def planned_facts(fx, plan: Plan, target: Target | str):
    """A copy of `fx` whose chosen loops and loop facts are the plan's
    (the analysis' facts are shared and must stay as they are). Raises PlanError."""
    from .analysis import _only_child_loop
    target = Target(target)
    loops = numbered_loops(fx)
    chosen = {}
    for lp in plan.loops:
        if not 1 <= lp.loop <= len(loops):
            raise PlanError(f"the plan names L{lp.loop}, but the function has {len(loops)} loop(s)")
        L = loops[lp.loop - 1]
        f = fx.loops[L]
        if not f.parallel:
            raise PlanError(f"L{lp.loop} (line {L.line}) is not provably parallel: {f.reason or 'dependence'}")
        if lp.reductions and lp.reductions != _reductions(f):
            want = " ".join(f"reduction({op}:{v})" for op, v in _reductions(f)) or "no reduction"
            raise PlanError(f"L{lp.loop}: the loop's reductions are {want}")
        if target != Target.OPENMP and (lp.schedule or lp.simd is not None):
            raise PlanError(f"L{lp.loop}: schedule and simd are OpenMP clauses")
        chosen[L] = lp
    for a in chosen:
        for b in chosen:
            if a is not b and a.encloses(b):
                raise PlanError(f"L{chosen[b].loop} sits inside L{chosen[a].loop}: plan the outer loop or the inner one")
    facts = {L: dataclasses.replace(f) for L, f in fx.loops.items()}
    for L, f in facts.items():
        if L not in chosen and not any(S.encloses(L) for S in chosen):
            f.parallel = False
    for L, lp in chosen.items():
        f = facts[L]
        child = _only_child_loop(L)
        if lp.schedule:
            f.varying = lp.schedule == "guided"
        if lp.simd is not None:
            # simd / nosimd: on this loop and the parallel loops inside it
            for inner, g in facts.items():
                if L.encloses(inner) and g.parallel:
                    g.simd = lp.simd
        if lp.collapse == 2:
            ok = f.collapse == 2 if target == Target.OPENMP else \
                child is not None and facts.get(child) is not None and facts[child].parallel
            if not ok:
                raise PlanError(f"L{lp.loop}: collapse(2) needs a perfectly nested, rectangular parallel child loop")
        elif lp.collapse == 1:
            f.collapse = 1
            if target != Target.OPENMP and child is not None and child in facts:
                # MPI distributes, CUDA maps, only this loop
                facts[child].parallel = False
        # no collapse clause: the analysis' choice (the rule agent's)
    out = copy.copy(fx)
    out.loops = facts
    return out


def apply_plan(task: Task, plan: Plan | str, target: Target | str) -> tuple[str, str]:
    """(translation unit, notes): the code generator of `target` run on the
    plan's choices, with the rule agent's finishing passes (OpenMP scalar
    replacement; the aliasing fallback for OpenMP and MPI). Raises PlanError
    or NotParallelizable."""
    from .analysis import analyze
    target = Target(target)
    if isinstance(plan, str):
        plan = parse_plan(plan)
    from . import cpp_members      # C++ templates and member functions: analysed as free functions
    cpp_members.check_target(analyze(task.source, task.language, task.function), target)
    fx = planned_facts(analyze(task.source, task.language, task.function), plan, target)
    if target == Target.OPENMP:
        from .codegen_openmp import generate_openmp
        from .scalar_replace import scalar_replace
        code, notes = generate_openmp(fx)
        code, sr = scalar_replace(code, task.language, task.function)
        notes = "; ".join([notes] + [f"scalar replacement: {n}" for n in sr])
    elif target == Target.MPI:
        from .codegen_mpi import generate_mpi
        code, notes = generate_mpi(fx)
    else:
        from .codegen_cuda import generate_cuda
        code, notes = generate_cuda(fx)
    if target in (Target.OPENMP, Target.MPI):
        from .codegen_common import add_alias_fallback
        code, note = add_alias_fallback(fx, code)
        notes = "; ".join(n for n in (notes, note) if n)
    # back to the member function or template as the file has it (as the rule agent's candidate)
    code = cpp_members.map_back(analyze(task.source, task.language, task.function), code, target, task.source)
    return code, f"plan: {str(plan).replace(chr(10), '; ')}; {notes}"


def rule_plan(task: Task, target: Target | str) -> Plan | None:
    """The rule agent's plan for `task` (None when it parallelizes nothing or
    rewrote the function first, which a plan does not express)."""
    from .analysis import analyze
    fx = analyze(task.source, task.language, task.function)
    if not fx.chosen_loops():
        return None
    return plan_of(fx, target)

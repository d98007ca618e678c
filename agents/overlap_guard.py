"""Overlapping arguments for candidates paralift did not generate itself (DESIGN.md §3).

The rule-based agent versions its own output: where two pointer parameters may
point into one array, the function checks their ranges at entry and runs the
sequential code when they overlap. A model's candidate (or any other text)
rarely does, and the tests call every function with separate buffers, so a
candidate whose parallel loop is wrong for an in-place call (`f(n, a, a)`,
`f(n, a, a + 1)`) would pass them. `guard(task, candidate)` adds the same entry
check to such a candidate, for every pair of parameters that may overlap with
one of them written, whatever loop the candidate parallelized: overlapping
calls take the original code, which is right by definition; separate buffers
take the candidate, which the tests judge.
"""
from __future__ import annotations

import dataclasses

from paralift.types import Candidate, Target, Task

from .base import AnalysisError, NotParallelizable

MARKER = "paralift: overlapping arguments take the sequential code"


def overlap_pairs(fx) -> list:
    """Every pair of pointer parameters of one element type (restrict ones excepted) at least one of which
    the function writes: the pairs a candidate may need apart, whichever loop it parallelized."""
    m = fx.model
    ptrs = [d for d in m.params.values() if d.is_param and d.kind == "pointer" and not (d.info and d.info.restrict)]
    written = {e.decl.key for e in m.events if e.write and e.decl.is_param}
    pairs = []
    for i, a in enumerate(ptrs):
        for b in ptrs[i + 1:]:
            if a.base_type == b.base_type and (a.key in written or b.key in written):
                pairs.append(tuple(sorted((a, b), key=lambda d: d.name)))
    return sorted(pairs, key=lambda p: (p[0].name, p[1].name))


def guard(task: Task, cand: Candidate) -> Candidate:
    """`cand` with the entry overlap check added (unchanged when it has one, when no pair needs one, or for
    CUDA, whose host wrapper the check cannot be spliced into). NotParallelizable when a pair's ranges
    cannot be bounded at run time: such a candidate cannot be made right for overlapping calls."""
    if cand.target not in (Target.OPENMP, Target.MPI) or MARKER in cand.code:
        return cand
    from .analysis import analyze
    from .codegen_common import add_alias_fallback
    try:
        fx = analyze(task.source, task.language, task.function)
    except AnalysisError:
        return cand
    pairs = overlap_pairs(fx)
    if not pairs:
        return cand
    try:
        code, note = add_alias_fallback(fx, cand.code, pairs)
    except AnalysisError as e:
        raise NotParallelizable(f"the candidate's overlap check could not be added ({e})") from None
    return dataclasses.replace(cand, code=code, notes="; ".join(x for x in (cand.notes, note) if x))

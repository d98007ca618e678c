"""The rule-based translator agent ("rule"): classical, always-conservative
parallelization driven by paralift.agents.analysis.

It proposes at most one candidate per target; when the function cannot be
parallelized safely for that target it raises NotParallelizable with a
one-line reason.
"""
from __future__ import annotations

from paralift.types import Candidate, Target, Task

from . import first_match, pointer_walk, recurrence
from .analysis import analyze
from .base import AnalysisError, NotParallelizable


def facts(task: Task):
    """(analysis, notes) of the function as the rule agent translates it: the source as written, or the
    rewrite (first match, recurrence, pointer walk, C++ complex sums split into their parts) that makes a
    loop parallel. benchmarks/audit_loops.py reads the loops chosen here."""
    fx, notes = source_facts(task)
    if task.language == "cpp":      # complex sums as sums of their parts (agents/cuda_values.py)
        from .cuda_values import split_complex_sums
        fx, notes = split_complex_sums(task, fx, notes)
    return fx, notes


def source_facts(task: Task):
    """facts() but for the complex-sum split (which analyses its own rewrite with this)."""
    fx = analyze(task.source, task.language, task.function)
    if fx.model.loops and not fx.chosen_loops() and "early return" in (fx.reason or ""):
        searched = first_match.rewrite(task.source, task.language, task.function)
        if searched is not None:
            fx2 = analyze(searched, task.language, task.function)
            if fx2.chosen_loops():
                return fx2, [first_match.NOTE]
    if any(lp.parent is None and "a recurrence" in (fx.loops[lp].reason or "") for lp in fx.model.loops):
        carried = recurrence.rewrite(task.source, task.language, task.function)
        if carried is not None:
            fx2 = analyze(carried, task.language, task.function)
            if len(fx2.scan_loops()) > len(fx.scan_loops()):
                return fx2, [recurrence.NOTE]
    if fx.model.loops and not fx.chosen_loops() and "++" in (fx.reason or "") \
            and "pointer dereference" in (fx.reason or ""):
        walked = pointer_walk.rewrite(task.source, task.language, task.function)
        if walked is not None:
            fx2 = analyze(walked, task.language, task.function)
            if fx2.chosen_loops():
                return fx2, [pointer_walk.NOTE]
    return fx, []


class RuleBasedTranslator:
    name = "rule"

    def propose(self, task: Task, target: Target) -> list[Candidate]:
        target = Target(target) if not isinstance(target, Target) else target
        from . import cpp_members      # C++ templates and member functions: analysed as free functions
        source_fx = analyze(task.source, task.language, task.function)
        cpp_members.check_target(source_fx, target)
        fx, extra_notes = facts(task)
        if not fx.model.loops:
            why = fx.reason.replace("the function has no loops", "it has no loops")
            raise NotParallelizable(f"'{task.function}' is kept sequential: {why}")
        if not fx.chosen_loops() and not fx.scan_loops():
            raise NotParallelizable(f"'{task.function}' is kept sequential: {fx.reason}")
        if target == Target.CUDA:
            from .cuda_values import unsupported     # std::complex / std::pair the device types do not cover
            why = unsupported(fx)
            if why is not None:
                raise NotParallelizable(f"'{task.function}' is kept sequential for cuda: {why}")
        try:
            if target == Target.OPENMP:
                from .codegen_openmp import generate_openmp
                code, notes = generate_openmp(fx)
            elif target == Target.MPI:
                from .codegen_mpi import generate_mpi
                code, notes = generate_mpi(fx)
            elif target == Target.CUDA:
                from .codegen_cuda import generate_cuda
                code, notes = generate_cuda(fx)
            else:  # pragma: no cover
                raise NotParallelizable(f"unknown target {target}")
        except NotParallelizable as e:
            msg = str(e)
            if not msg.startswith(f"'{task.function}'"):
                msg = f"'{task.function}' is kept sequential for {target.value}: {msg}"
            raise NotParallelizable(msg) from None
        except AnalysisError:
            raise
        if target == Target.OPENMP:
            # outlining drops restrict/const facts: hold invariant array updates in scalars again
            from .scalar_replace import scalar_replace
            code, sr = scalar_replace(code, task.language, task.function)
            extra_notes += [f"scalar replacement: {n}" for n in sr]
        if target in (Target.OPENMP, Target.MPI):
            # last: scalar replacement assumes arrays apart, which the sequential path must not
            from .codegen_common import add_alias_fallback
            try:
                code, note = add_alias_fallback(fx, code)
            except NotParallelizable as e:
                raise NotParallelizable(f"'{task.function}' is kept sequential for {target.value}: {e}") from None
            extra_notes += [note] if note else []
        if extra_notes:
            notes = "; ".join(n for n in [notes, *extra_notes] if n)
        code = cpp_members.map_back(source_fx, code, target, task.source)
        return [Candidate(code=code, target=target, agent=self.name, model=None, prompt=None, notes=notes)]


__all__ = ["RuleBasedTranslator", "facts"]

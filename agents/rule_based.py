"""The rule-based translator agent ("rule"): classical, always-conservative
parallelization driven by paralift.agents.analysis.

It proposes at most one candidate per target; when the function cannot be
parallelized safely for that target it raises NotParallelizable with a
one-line reason.
"""
from __future__ import annotations

from paralift.types import Candidate, Target, Task

from . import first_match, pointer_walk
from .analysis import analyze
from .base import AnalysisError, NotParallelizable


class RuleBasedTranslator:
    name = "rule"

    def propose(self, task: Task, target: Target) -> list[Candidate]:
        target = Target(target) if not isinstance(target, Target) else target
        fx = analyze(task.source, task.language, task.function)
        if not fx.model.loops:
            raise NotParallelizable(f"'{task.function}' is kept sequential: it has no loops")
        extra_notes = []
        if not fx.chosen_loops() and "early return" in (fx.reason or ""):
            searched = first_match.rewrite(task.source, task.language, task.function)
            if searched is not None:
                fx2 = analyze(searched, task.language, task.function)
                if fx2.chosen_loops():
                    fx, extra_notes = fx2, [first_match.NOTE]
        if not fx.chosen_loops() and "++" in (fx.reason or "") and "pointer dereference" in (fx.reason or ""):
            walked = pointer_walk.rewrite(task.source, task.language, task.function)
            if walked is not None:
                fx2 = analyze(walked, task.language, task.function)
                if fx2.chosen_loops():
                    fx, extra_notes = fx2, [pointer_walk.NOTE]
        if not fx.chosen_loops():
            raise NotParallelizable(f"'{task.function}' is kept sequential: {fx.reason}")
        arg = next((f for f in fx.chosen_loops() if f.argminmax is not None), None)
        if arg is not None and target == Target.CUDA:
            raise NotParallelizable(f"'{task.function}' is kept sequential for {target.value}: the loop at line "
                                    f"{arg.loop.line} finds an arg{arg.argminmax[2]} ('{arg.argminmax[1].name}'), "
                                    f"which the CUDA translation does not combine yet")
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
        return [Candidate(code=code, target=target, agent=self.name, model=None, prompt=None, notes=notes)]


__all__ = ["RuleBasedTranslator"]

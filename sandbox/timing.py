"""Speedup measurement: fresh processes, baseline interleaved, medians.

Each timing run is a fresh sandboxed process whose driver times only the
function calls (reading inputs and writing outputs are excluded). Reference
and candidate alternate so that drift in machine load hits both equally, and
the machine-wide exclusive lock keeps compiles and other measurements away.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass
class Samples:
    reference: list[float]
    candidate: list[float]

    def speedup(self) -> tuple[float, float]:
        """(median ref / median candidate, spread of the per-pair ratios)."""
        med_ref = statistics.median(self.reference)
        med_cand = statistics.median(self.candidate)
        speedup = med_ref / med_cand if med_cand > 0 else float("inf")
        ratios = [r / c for r, c in zip(self.reference, self.candidate) if c > 0]
        spread = (max(ratios) - min(ratios)) / statistics.median(ratios) if ratios else 0.0
        return speedup, spread


def reps_for(single_call_s: float, target_s: float = 0.25, max_reps: int = 2000) -> int:
    """Calls per process so that one timed process does at least target_s of work."""
    if single_call_s <= 0:
        return max_reps
    return max(1, min(max_reps, int(target_s / single_call_s + 0.999)))

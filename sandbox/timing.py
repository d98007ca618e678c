"""Speedup measurement: interleaved calls, warm processes, a confidence interval.

Paired measurement (OpenMP and MPI on the CPU; sandbox.paired): the
reference and the candidate are linked into one driver and called
alternately on the same arrays, in blocks of four calls (ABBA, then BAAB).
Within a process the speedup is the interquartile mean (25 % trimmed from
each end) of the blocks' log ratios, log(sum of the reference's two times /
sum of the candidate's two): adjacent calls share the moment, so drift and
frequency changes cancel, and the trimming drops calls hit by an interrupt or
another process. Processes, not calls, are the units of the interval: what
differs between processes (where code and data landed, the pool's threads)
is in the spread of the per-process figures, and the 95 % interval is a
t interval over them (PairedInterval), widened by a small systematic
allowance (SYSTEMATIC_SD) for what all processes of one measurement share.
Processes alternate between two layouts of the binary (which copy is linked
first, sandbox.paired.layouts), so that a placement bias is spread between
processes instead of shifting every one alike. At least MIN_PROCESSES, then
processes are added in pairs until the interval is within
+-TARGET_HALF_WIDTH and decides "faster than the sequential code" (undecided)
or a time cap is reached; the calls per process scale with the kernel
(blocks_for).

Separate processes (CUDA on a GPU, or a candidate the paired build cannot
link): each timing run is a fresh sandboxed process whose driver makes one untimed
warm-up call and then times every call (reading inputs and writing outputs
are excluded); the process's figure is the median of its calls. Reference
and candidate processes alternate (ref, cand, cand, ref, ...) so that drift
in machine load hits both equally, and the machine-wide exclusive lock keeps
compiles and other measurements away. Each pair gives one ratio; the speedup
is their geometric mean and its 95 % confidence interval comes from the
t distribution of the log ratios. Pairs are added until that interval is
within +-TARGET_HALF_WIDTH or a time cap is reached (Interval.enough).

The load of the machine is recorded while measuring (LoadProbe): the load
average, and the cores other processes held, sampled from /proc/stat as the
runnable threads beyond the measured process's own.
"""
from __future__ import annotations

import math
import os
import statistics
import threading
from dataclasses import dataclass, field

TARGET_HALF_WIDTH = 0.05        # +-5 % around the speedup
MIN_PAIRS = 4
MAX_PAIRS = 40
MIN_PROCESSES = 4               # paired: processes before the interval may stop the measurement (two of
                                # each layout, sandbox.paired.layouts); then it looks after every pair
MAX_PROCESSES = 16
SYSTEMATIC_SD = 0.005           # paired: an allowance, as a standard deviation of the log speedup, for what
                                # the processes of one measurement share and adding processes does not
                                # average out (the binary's pages, the minute's machine state), added in
                                # quadrature to the standard error: no interval is narrower than about
                                # +-1.5 % at 4 processes. The quiet 2026-12-04 A/A runs (one layout, no
                                # allowance, 4 processes) had intervals of +-0.3 % missing 1.0 by 0.2 %,
                                # and kernels whose points spread more than their processes explain
                                # (0.3-0.6 %): 93 % of intervals contained 1.0. Resampling those
                                # processes with such a layout bias and offset (bench_timing.py
                                # --simulate): 84-95 % before, 98.6-99.4 % with the layouts alternating
                                # and this allowance (6 processes instead of 4 did not help alone)
TRIM = 0.25                     # paired: fraction of a process's block ratios trimmed from each end
CONTENDED_CORES = 0.25          # other processes' busy cores that flag a measurement

# two-sided 95 % quantiles of Student's t, by degrees of freedom
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042]


def t975(df: int) -> float:
    if df <= 0:
        return float("inf")
    return _T975[df - 1] if df <= len(_T975) else 1.96 + 2.5 / df


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

    def interval(self) -> tuple[float, float, float]:
        """(speedup, low, high): geometric mean of the per-pair ratios and its 95 % interval."""
        return interval([r / c for r, c in zip(self.reference, self.candidate) if r > 0 and c > 0])


def interval(ratios: list[float], systematic: float = 0.0) -> tuple[float, float, float]:
    """(geometric mean, low, high) of the ratios with a 95 % t interval on
    their logarithms, the standard error widened by a `systematic` standard
    deviation in quadrature; (nan, 0, inf) without ratios, (r, 0, inf) with one."""
    logs = [math.log(r) for r in ratios if r > 0 and math.isfinite(r)]
    if not logs:
        return float("nan"), 0.0, float("inf")
    mean = statistics.fmean(logs)
    if len(logs) < 2:
        return math.exp(mean), 0.0, float("inf")
    half = t975(len(logs) - 1) * math.sqrt(statistics.variance(logs) / len(logs) + systematic ** 2)
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half)


def within(lo: float, hi: float, point: float, half_width: float = TARGET_HALF_WIDTH) -> bool:
    """The interval lies within +-half_width of its point."""
    return point > 0 and lo >= point * (1 - half_width) and hi <= point * (1 + half_width)


DECIDE_MARGIN = 0.02            # a point this far above 1 whose interval still reaches 1 is undecided
DECIDE_PROCESSES = 12           # paired: an undecided measurement is taken to this many processes, once


def undecided(lo: float, hi: float, point: float) -> bool:
    """The interval reaches 1 while the point says faster by more than DECIDE_MARGIN: whether the
    candidate is written ("faster with confidence", agents.search) is still a coin toss (spmv_csr's
    hand candidate near 1.05x went either way in 2 of 5 translations on 2026-12-05). A measurement
    within +-5 % found so is taken further (within its process count and time cap), so a real 4-5 %
    gain is decided the same way nearly every time; an A/A point near 1 never asks for more.

    Looking again after every pair until the interval leaves 1 would be optional stopping (an A/A
    interval then misses 1 far more often than 5 %): an undecided measurement is instead taken once to
    a fixed larger size (DECIDE_PROCESSES) and stops there, whatever its interval then says."""
    return lo <= 1.0 <= hi and point > 1.0 + DECIDE_MARGIN


def read_times(path) -> list[float]:
    """A driver's per-call times (OUTDIR/CASE.times), [] when absent."""
    try:
        return [float(x) for x in open(path).read().split()]
    except (OSError, ValueError):
        return []


@dataclass
class Interval:
    """The pairs of one measurement and its stopping rule."""
    cap_s: float
    half_width: float = TARGET_HALF_WIDTH
    min_pairs: int = MIN_PAIRS
    max_pairs: int = MAX_PAIRS
    samples: Samples = field(default_factory=lambda: Samples([], []))
    spent_s: float = 0.0            # wall time of the measured processes (waiting for the lock is not counted)

    def add(self, reference_s: float, candidate_s: float, wall_s: float = 0.0) -> None:
        """One pair: the reference's and the candidate's time per call, and
        the wall time both processes took."""
        self.samples.reference.append(reference_s)
        self.samples.candidate.append(candidate_s)
        self.spent_s += wall_s

    def result(self) -> tuple[float, float, float]:
        return self.samples.interval()

    def enough(self) -> bool:
        n = len(self.samples.reference)
        if n >= self.max_pairs or (n >= 2 and self.spent_s >= self.cap_s):
            return True
        if n < self.min_pairs:
            return False
        point, lo, hi = self.result()
        return within(lo, hi, point, self.half_width)


def block_log_ratios(blocks) -> list[float]:
    """log(reference / candidate) of each block (r1, r2, c1, c2) of a paired run."""
    return [math.log((b[0] + b[1]) / (b[2] + b[3])) for b in blocks if b[0] + b[1] > 0 and b[2] + b[3] > 0]


def trimmed_mean(xs: list[float], trim: float = TRIM) -> float:
    """Mean of xs without the lowest and highest `trim` fraction (trim=0.25:
    the interquartile mean); nan when empty."""
    if not xs:
        return float("nan")
    ys = sorted(xs)
    k = int(len(ys) * trim)
    if len(ys) - 2 * k < 1:
        k = (len(ys) - 1) // 2
    return statistics.fmean(ys[k:len(ys) - k])


@dataclass
class PairedInterval:
    """The processes of one paired measurement (each a list of blocks of
    four calls) and its stopping rule; the interval is a t interval over
    the per-process figures (trimmed_mean of block_log_ratios), widened by
    `systematic` (SYSTEMATIC_SD). Processes alternate between the binary's
    two layouts (sandbox.paired.layouts): the measurement looks at its
    interval after min_processes (even) and then after each `step` (2: one
    of each layout), unless capped."""
    cap_s: float
    half_width: float = TARGET_HALF_WIDTH
    min_processes: int = MIN_PROCESSES
    max_processes: int = MAX_PROCESSES
    systematic: float = SYSTEMATIC_SD
    step: int = 2                   # processes between looks at the interval after min_processes
    decide: bool = True             # take an undecided measurement (undecided) to DECIDE_PROCESSES
    second_stage: bool = False      # set when it was found undecided
    processes: list[list[tuple[float, float, float, float]]] = field(default_factory=list)
    spent_s: float = 0.0

    def add(self, blocks, wall_s: float = 0.0) -> None:
        self.processes.append([tuple(b) for b in blocks])
        self.spent_s += wall_s

    def estimates(self) -> list[float]:
        """Each process's speedup (exp of its trimmed mean block log ratio)."""
        out = []
        for blocks in self.processes:
            m = trimmed_mean(block_log_ratios(blocks))
            if math.isfinite(m):
                out.append(math.exp(m))
        return out

    def result(self) -> tuple[float, float, float]:
        return interval(self.estimates(), self.systematic)

    def enough(self) -> bool:
        n = len(self.processes)
        if n >= self.max_processes or (n >= 2 and self.spent_s >= self.cap_s):
            return True
        if n < self.min_processes or (n - self.min_processes) % self.step:
            return False
        if self.second_stage:
            return n >= DECIDE_PROCESSES    # the second stage's fixed size: no look before it
        point, lo, hi = self.result()
        if not within(lo, hi, point, self.half_width):
            return False
        if self.decide and undecided(lo, hi, point) and n < DECIDE_PROCESSES:
            self.second_stage = True
            return False
        return True

    def calls(self) -> tuple[list[float], list[float]]:
        """Every timed call's seconds: (reference, candidate)."""
        ref = [t for blocks in self.processes for b in blocks for t in b[:2]]
        cand = [t for blocks in self.processes for b in blocks for t in b[2:]]
        return ref, cand

    def spread(self) -> float:
        """(max - min) / median of the per-process speedups."""
        e = self.estimates()
        return (max(e) - min(e)) / statistics.median(e) if e else 0.0


def blocks_for(single_call_s: float, target_s: float = 0.2, max_blocks: int = 1000) -> int:
    """Blocks per paired process so that its timed calls (four a block, two
    of each side) take about target_s when the candidate is about as fast as
    the reference: many short calls for a millisecond kernel, two blocks for
    a long call. Always even, so that a process has as many ABBA blocks as
    BAAB ones: neither side sits at the blocks' edges more often (periodic
    noise, a scheduler's time slice, would otherwise favour one)."""
    if single_call_s <= 0:
        n = max_blocks
    else:
        n = int(target_s / (4 * single_call_s) + 0.999)
    n = max(2, min(max_blocks, n))
    return n + n % 2


def reps_for(single_call_s: float, target_s: float = 0.25, max_reps: int = 2000) -> int:
    """Calls per process so that one timed process does at least target_s of work."""
    if single_call_s <= 0:
        return max_reps
    return max(1, min(max_reps, int(target_s / single_call_s + 0.999)))


def _procs_running() -> int | None:
    """Runnable threads on the whole machine now (/proc/stat procs_running)."""
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("procs_running"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def loadavg() -> float | None:
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class LoadProbe:
    """The machine's load during a measurement, as a context manager. A
    sampler thread reads the runnable threads every `period` s; the measuring
    code says how many of them are its own (`expect(n)`: the threads or ranks
    of the process it runs now); the excess is other processes holding cores.
    `report()`: the load average before and after, the mean excess
    (other_cores) and `contended` when it reaches CONTENDED_CORES."""

    def __init__(self, period: float = 0.05):
        self.period = period
        self.cores = os.cpu_count() or 1
        self.start_load = loadavg()
        self.expected = 0
        self.excess: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "LoadProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def expect(self, own_threads: int) -> None:
        self.expected = own_threads

    def _sample(self) -> None:
        while not self._stop.wait(self.period):
            n = _procs_running()
            if n is not None and self.expected:
                # the sampler itself is running while it reads
                self.excess.append(max(0, n - 1 - self.expected))

    def report(self) -> dict:
        other = statistics.fmean(self.excess) if self.excess else None
        return {"loadavg_before": self.start_load, "loadavg_after": loadavg(), "cores": self.cores,
                "other_cores": None if other is None else round(other, 3),
                "contended": bool(other is not None and other >= CONTENDED_CORES)}

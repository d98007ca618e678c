"""The metrics of ParEval and MuSL, computed from per-sample records.

ParEval: D. Nichols, J. H. Davis, Z. Xie, A. Rajaram, A. Bhatele, "Can Large
Language Models Write Parallel Code?", HPDC 2024 (arXiv:2401.12554), §5.
For a problem p with N generated samples of which c_p are correct:

    pass@k  = (1/|P|) Σ_p [ 1 - C(N - c_p, k) / C(N, k) ]                     (1)

the unbiased estimator of Chen et al. 2021 (HumanEval), computed here in the
numerically stable product form

    C(N - c, k) / C(N, k) = Π_{i = N-c+1}^{N} (1 - k / i).

build@k is (1) with "compiled" in place of "correct".

    speedup_n@k = (1/|P|) Σ_p Σ_{j=1}^{N} [ C(j-1, k-1) / C(N, k) ] · T*_p / T_{p,s_j,n}      (2)

with the N samples s_1..s_N sorted in *ascending* order of speedup
T*_p / T_{p,s_j,n} (T*_p: the sequential baseline's runtime, T_{p,s,n}: sample
s on n threads/ranks). C(j-1, k-1)/C(N, k) is the probability that s_j is the
best of k samples drawn without replacement from the N, so (2) is the
expected best speedup over k attempts.

    efficiency_n@k = speedup_n@k / n                                          (3)

Choices this module makes where (1)-(3) leave room (all documented in the
summary JSON under "definitions"):

* Failed samples in (2): by default (``failed="zero"``) a sample that did not
  build or did not pass counts with speedup 0 among all N samples, so (2) is
  the expected best speedup a user gets from k attempts when a wrong program
  is worth nothing. ``failed="exclude"`` instead keeps only the correct
  samples (N becomes c_p) and drops problems with none, which is what
  ParEval's released analysis script (analysis/metrics.py) does; note that
  script sorts *runtimes* ascending, which with the weights of (2) gives the
  expected *worst* of k, not the best; we follow the paper's text.
* A correct sample whose speedup could not be measured (timing disabled, run
  too short to time, CUDA without a GPU) makes (2) undefined for its problem:
  that problem is left out of speedup_n@k and counted in ``speedup_problems``
  / ``speedup_skipped``.
* k > N: C(N, k) = 0 and (1) is undefined. We report the value at k = N (the
  largest k the samples support) and mark k as clamped. For a deterministic
  agent (every sample the same program) this is exact; for a sampling model
  it is a lower bound. c = 0 gives 0, c = N gives 1 for every k.
* For CUDA, n is the GPU (one device) and efficiency is not reported:
  ParEval divides by the number of GPU threads launched, which a host-pointer
  translation unit does not expose to the harness.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence


def _check(n: int, c: int, k: int) -> None:
    if n < 1:
        raise ValueError(f"need at least one sample (n={n})")
    if not 0 <= c <= n:
        raise ValueError(f"correct count c={c} outside [0, n={n}]")
    if k < 1:
        raise ValueError(f"k must be at least 1 (k={k})")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem: 1 - C(n-c, k)/C(n, k); k > n is clamped to n."""
    _check(n, c, k)
    k = min(k, n)
    if n - c < k:          # every k-subset holds a correct sample
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def build_at_k(n: int, built: int, k: int) -> float:
    """build@k: pass@k with "compiled" as success (ParEval)."""
    return pass_at_k(n, built, k)


def expected_max(values: Sequence[float], k: int) -> float:
    """E[max of k values drawn without replacement from `values`] (the inner
    sum of ParEval's (2)): Σ_j C(j-1, k-1)/C(N, k) · v_(j), v sorted ascending.
    k > N is clamped to N (then it is the maximum)."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    if k < 1:
        raise ValueError(f"k must be at least 1 (k={k})")
    k = min(k, n)
    v = sorted(float(x) for x in values)
    total = math.comb(n, k)
    # Python ints are exact and int/int true division is correctly rounded.
    return sum(math.comb(j - 1, k - 1) / total * v[j - 1] for j in range(k, n + 1))


@dataclass(frozen=True)
class SampleOutcome:
    """What the metrics need to know about one sample."""
    built: bool
    passed: bool
    speedup: float | None = None     # measured speedup of a passed sample


def problem_speedup_at_k(samples: Sequence[SampleOutcome], k: int, failed: str = "zero") -> float | None:
    """The inner term of ParEval's (2) for one problem; None where undefined."""
    if failed not in ("zero", "exclude"):
        raise ValueError("failed must be 'zero' or 'exclude'")
    if any(s.passed and s.speedup is None for s in samples):
        return None
    if failed == "exclude":
        values = [s.speedup for s in samples if s.passed]
        if not values:
            return None
    else:
        values = [s.speedup if s.passed else 0.0 for s in samples]
        if not values:
            return None
    return expected_max(values, k)


def speedup_at_k(problems: dict[str, Sequence[SampleOutcome]], k: int, failed: str = "zero") -> float | None:
    """speedup_n@k (ParEval eq. 2): the mean over problems where it is defined."""
    return _mean(v for v in (problem_speedup_at_k(s, k, failed) for s in problems.values() if s) if v is not None)


def efficiency_at_k(problems: dict[str, Sequence[SampleOutcome]], k: int, n: int, failed: str = "zero") -> float | None:
    """efficiency_n@k = speedup_n@k / n (ParEval eq. 3)."""
    sp = speedup_at_k(problems, k, failed)
    return None if sp is None else sp / n


def _mean(xs: Iterable[float]) -> float | None:
    xs = list(xs)
    return sum(xs) / len(xs) if xs else None


def aggregate(problems: dict[str, Sequence[SampleOutcome]], ks: Sequence[int], workers: int | None,
              failed: str = "zero", efficiency: bool = True, timed: bool = True) -> dict:
    """All ParEval metrics over `problems` (problem id -> its samples).

    Returns {"problems", "samples", "k": {k: {"build", "pass", "speedup",
    "efficiency", "clamped"}}, "speedup_problems", "speedup_skipped", ...}.
    Problems with no sample are ignored (they have no N). With `timed` False
    (no speedup was measured) the speedup metrics are None."""
    probs = {p: list(s) for p, s in problems.items() if s}
    out: dict = {"problems": len(probs), "samples": sum(len(s) for s in probs.values()),
                 "built": sum(x.built for s in probs.values() for x in s),
                 "passed": sum(x.passed for s in probs.values() for x in s),
                 "workers": workers, "k": {}}
    out["speedup_skipped"] = sorted(p for p, s in probs.items() if any(x.passed and x.speedup is None for x in s))
    for k in ks:
        sp_vals = [v for v in (problem_speedup_at_k(s, k, failed) for s in probs.values()) if v is not None] \
            if timed else []
        sp = _mean(sp_vals)
        out["k"][str(k)] = {
            "build": _mean(build_at_k(len(s), sum(x.built for x in s), k) for s in probs.values()),
            "pass": _mean(pass_at_k(len(s), sum(x.passed for x in s), k) for s in probs.values()),
            "speedup": sp,
            "efficiency": (sp / workers) if (sp is not None and efficiency and workers) else None,
            "clamped": any(len(s) < k for s in probs.values()),
        }
        out["speedup_problems"] = len(sp_vals)
    if not ks:
        out["speedup_problems"] = 0
    speedups = [x.speedup for s in probs.values() for x in s if x.passed and x.speedup]
    out["speedup_verified"] = {
        "count": len(speedups),
        "geomean": math.exp(sum(math.log(v) for v in speedups) / len(speedups)) if speedups else None,
        "max": max(speedups) if speedups else None,
    }
    return out


DEFINITIONS = {
    "pass@k": "mean over problems of 1 - C(N-c,k)/C(N,k) (unbiased; ParEval eq. 1, Chen et al. 2021); "
              "k > N clamped to N",
    "build@k": "pass@k with 'compiled' as success (a sample rejected by policy before compiling counts as not built)",
    "speedup_n@k": "mean over problems of sum_j C(j-1,k-1)/C(N,k) * T*/T_j, samples sorted ascending by speedup "
                   "(ParEval eq. 2, Nichols et al. HPDC 2024), n = threads/ranks of the timing run",
    "efficiency_n@k": "speedup_n@k / n (not reported for CUDA)",
    "BLEU": "sacrebleu corpus BLEU on code tokens, each sample against its task's reference",
    "CodeBLEU": "0.25 BLEU + 0.25 weighted-ngram + 0.25 AST match + 0.25 dataflow match (Ren et al. 2020), "
                "reimplemented on tree-sitter C/C++",
}

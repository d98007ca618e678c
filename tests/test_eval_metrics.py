"""ParEval's metrics against hand-computed values and brute force."""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest

from paralift.eval import metrics as M
from paralift.eval.metrics import SampleOutcome as S


# ---------------------------------------------------------------- pass@k

@pytest.mark.parametrize("n,c,k,want", [
    (5, 0, 1, 0.0),                 # c = 0
    (5, 5, 1, 1.0),                 # c = n
    (5, 5, 5, 1.0),
    (5, 1, 1, 0.2),                 # c/n at k = 1
    (10, 3, 1, 0.3),
    (5, 2, 2, 0.7),                 # 1 - C(3,2)/C(5,2) = 1 - 3/10
    (10, 3, 5, 1 - 21 / 252),       # 1 - C(7,5)/C(10,5)
    (4, 2, 3, 1.0),                 # n - c < k: every 3-subset has a correct sample
    (20, 1, 10, 0.5),               # 1 - C(19,10)/C(20,10) = 10/20
    (3, 1, 5, 1.0),                 # k > n: clamped to k = n = 3
    (3, 0, 5, 0.0),                 # k > n with c = 0 stays 0 (HumanEval's shortcut would say 1)
    (1, 1, 10, 1.0),
    (1, 0, 10, 0.0),
])
def test_pass_at_k_hand_computed(n, c, k, want):
    assert M.pass_at_k(n, c, k) == pytest.approx(want, abs=1e-12)


def test_pass_at_k_matches_the_binomial_formula_and_brute_force():
    for n in range(1, 8):
        for c in range(0, n + 1):
            for k in range(1, n + 1):
                exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
                subsets = list(itertools.combinations([1] * c + [0] * (n - c), k))
                brute = Fraction(sum(1 for s in subsets if any(s)), len(subsets))
                assert exact == brute
                assert M.pass_at_k(n, c, k) == pytest.approx(float(exact), abs=1e-12)


def test_pass_at_k_is_stable_for_large_n():
    # C(1000, 100) overflows a float; the product form does not need it.
    exact = 1 - Fraction(math.comb(990, 100), math.comb(1000, 100))
    assert M.pass_at_k(1000, 10, 100) == pytest.approx(float(exact), rel=1e-12)
    assert M.pass_at_k(200, 1, 1) == pytest.approx(0.005)


def test_pass_at_k_monotone_in_k_and_c():
    vals = [M.pass_at_k(20, 4, k) for k in range(1, 21)]
    assert vals == sorted(vals)
    vals = [M.pass_at_k(20, c, 5) for c in range(21)]
    assert vals == sorted(vals)


@pytest.mark.parametrize("n,c,k", [(0, 0, 1), (3, 4, 1), (3, -1, 1), (3, 1, 0)])
def test_pass_at_k_rejects_nonsense(n, c, k):
    with pytest.raises(ValueError):
        M.pass_at_k(n, c, k)


def test_build_at_k_is_pass_at_k_on_builds():
    assert M.build_at_k(5, 2, 2) == M.pass_at_k(5, 2, 2) == pytest.approx(0.7)


# ---------------------------------------------------------------- speedup_n@k

def test_expected_max_hand_computed():
    assert M.expected_max([1.0, 2.0, 3.0], 1) == pytest.approx(2.0)           # the mean
    # k=2: pairs (1,2) (1,3) (2,3) -> max 2, 3, 3 -> 8/3
    assert M.expected_max([3.0, 1.0, 2.0], 2) == pytest.approx(8 / 3)
    assert M.expected_max([1.0, 2.0, 3.0], 3) == pytest.approx(3.0)
    assert M.expected_max([1.0, 2.0, 3.0], 7) == pytest.approx(3.0)           # k > N: clamped
    assert M.expected_max([5.0], 1) == 5.0


def test_expected_max_matches_brute_force():
    vals = [0.0, 0.5, 1.7, 1.7, 2.2, 3.9]
    for k in range(1, len(vals) + 1):
        subsets = list(itertools.combinations(vals, k))
        brute = sum(max(s) for s in subsets) / len(subsets)
        assert M.expected_max(vals, k) == pytest.approx(brute, rel=1e-12)


def test_problem_speedup_failed_count_as_zero_by_default():
    samples = [S(True, True, 2.0), S(True, False), S(False, False), S(True, True, 4.0)]
    # values sorted: 0, 0, 2, 4
    assert M.problem_speedup_at_k(samples, 1) == pytest.approx(1.5)
    # k=2: (C(1,1)*0 + C(2,1)*2 + C(3,1)*4) / C(4,2) = (4 + 12) / 6
    assert M.problem_speedup_at_k(samples, 2) == pytest.approx(16 / 6)
    assert M.problem_speedup_at_k(samples, 4) == pytest.approx(4.0)


def test_problem_speedup_exclude_keeps_correct_samples_only():
    samples = [S(True, True, 2.0), S(True, False), S(False, False), S(True, True, 4.0)]
    assert M.problem_speedup_at_k(samples, 1, failed="exclude") == pytest.approx(3.0)
    assert M.problem_speedup_at_k(samples, 2, failed="exclude") == pytest.approx(4.0)
    assert M.problem_speedup_at_k([S(False, False)], 1, failed="exclude") is None
    assert M.problem_speedup_at_k([S(False, False)], 1, failed="zero") == 0.0


def test_problem_speedup_undefined_when_a_correct_sample_was_not_timed():
    assert M.problem_speedup_at_k([S(True, True, None), S(True, True, 3.0)], 1) is None
    with pytest.raises(ValueError):
        M.problem_speedup_at_k([S(True, True, 1.0)], 1, failed="maybe")


def test_speedup_and_efficiency_over_problems():
    problems = {"a": [S(True, True, 2.0), S(True, False)],          # k=1: 1.0, k=2: 2.0
                "b": [S(True, True, 1.0), S(True, True, 3.0)],       # k=1: 2.0, k=2: 3.0
                "c": [S(True, True, None)]}                          # undefined: left out
    assert M.speedup_at_k(problems, 1) == pytest.approx(1.5)
    assert M.speedup_at_k(problems, 2) == pytest.approx(2.5)
    assert M.efficiency_at_k(problems, 2, n=4) == pytest.approx(2.5 / 4)


def test_aggregate_reports_every_metric():
    problems = {"a": [S(True, True, 2.0), S(False, False)], "b": [S(True, False), S(True, True, 1.0)],
                "c": [S(False, False), S(False, False)]}
    agg = M.aggregate(problems, [1, 2, 5], workers=2)
    assert agg["problems"] == 3 and agg["samples"] == 6 and agg["built"] == 3 and agg["passed"] == 2
    k1, k2, k5 = agg["k"]["1"], agg["k"]["2"], agg["k"]["5"]
    assert k1["build"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert k1["pass"] == pytest.approx((0.5 + 0.5 + 0.0) / 3)
    assert k2["pass"] == pytest.approx(2 / 3)
    assert k1["speedup"] == pytest.approx((1.0 + 0.5 + 0.0) / 3)
    assert k2["speedup"] == pytest.approx((2.0 + 1.0 + 0.0) / 3)
    assert k2["efficiency"] == pytest.approx(1.0 / 2)
    assert not k2["clamped"] and k5["clamped"] and k5["pass"] == k2["pass"]
    assert agg["speedup_verified"]["count"] == 2
    assert agg["speedup_verified"]["geomean"] == pytest.approx(math.sqrt(2.0))
    untimed = M.aggregate(problems, [1], workers=2, timed=False)
    assert untimed["k"]["1"]["speedup"] is None and untimed["k"]["1"]["efficiency"] is None
    no_eff = M.aggregate(problems, [1], workers=1, efficiency=False)
    assert no_eff["k"]["1"]["efficiency"] is None and no_eff["k"]["1"]["speedup"] is not None

"""Overlapping calls in the tests (issues 19 and 22): `f(n, a, a)`, `f(n, a, a + 1)`, `f(n, a + 1, a)`.

C callers make them and the sequential code defines their result, so the tester adds them and every
candidate is judged on them: the versioned ones (entry overlap check) by taking the original loop, a
candidate without the check by its wrong answer or, for OpenMP, ThreadSanitizer's race report."""
from __future__ import annotations

import pytest

from paralift.agents import build_task
from paralift.agents.rule_based import RuleBasedTranslator
from paralift.agents.tester import alias_cases, generate_tests
from paralift.pipeline import _guard_overlaps, make_suite
from paralift.sandbox import inputs
from paralift.sandbox.verify import VerifyOptions, prepare_reference, verify
from paralift.types import ArraySpec, Candidate, Target, TestCase, TestSuite

FAST = VerifyOptions(timing=False)

SAXPY = """\
void saxpy(int n, float a, const float *x, float *y)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}
"""

RAMP = """\
void next_of(int n, const int *x, int *y)
{
    for (int i = 0; i < n; i++)
        y[i] = x[i] + 1;
}
"""


def _aliases(suite: TestSuite) -> list[tuple[str, str, int]]:
    return [(p, b, off) for c in suite.cases for p, (b, off) in c.aliases.items()]


def test_tester_adds_in_place_shifted_and_tail_overlapping_calls():
    task = build_task(SAXPY, "c", "saxpy", Target.OPENMP)
    got = _aliases(generate_tests(task))
    n = next(c.arrays["x"].count for c in alias_cases(task))
    assert ("y", "x", 0) in got                 # in place
    assert ("y", "x", 1) in got and ("x", "y", 1) in got     # shifted either way
    assert ("y", "x", n - 1) in got             # only the last element shared
    for c in alias_cases(task):
        inputs.check_aliases(task.signature, c)  # every view lies inside its owner's array


def test_restrict_parameters_get_no_overlapping_calls():
    src = SAXPY.replace("const float *x, float *y", "const float *restrict x, float *restrict y")
    task = build_task(src, "c", "saxpy", Target.OPENMP)
    assert alias_cases(task) == []


def test_index_arrays_own_the_memory_they_share():
    """hist[bin[i]]++ called with hist inside bin: bin's values must stay valid indices, so bin owns
    the array and hist is the view."""
    src = ("void histogram(int n, int nbins, const int *bin, int *hist)\n{\n"
           "    for (int b = 0; b < nbins; b++) hist[b] = 0;\n"
           "    for (int i = 0; i < n; i++) hist[bin[i]]++;\n}\n")
    task = build_task(src, "c", "histogram", Target.OPENMP)
    cases = alias_cases(task)
    assert cases and all(list(c.aliases) == ["hist"] and c.aliases["hist"][0] == "bin" for c in cases)


def test_the_driver_passes_base_plus_offset():
    """y = x + 1: the sequential loop reads each element it wrote one iteration before, so the
    reference's output is a ramp from x[0] — only if the driver really passes overlapping pointers."""
    task = build_task(RAMP, "c", "next_of", Target.OPENMP)
    n = 12
    x = ArraySpec(n + 1, "explicit", values=[5] + [100] * n)
    cases = [TestCase(f"case{k}", {"n": n}, {"x": x, "y": ArraySpec(n, seed=k)}) for k in range(8)]
    shifted = TestCase("alias-y-at-x-1", {"n": n}, {"x": x, "y": ArraySpec(n)}, "alias", {"y": ["x", 1]})
    ref = prepare_reference(task, TestSuite("next_of", cases + [shifted]), VerifyOptions(timing=False, min_cases=1))
    assert list(ref.expected["alias-y-at-x-1"]["y"]) == list(range(6, 6 + n))
    assert list(inputs.materialize(task.signature, shifted)[2]) == [100] * n   # the view at entry
    with pytest.raises(ValueError):
        inputs.check_aliases(task.signature, TestCase("bad", {"n": n}, {"x": x, "y": ArraySpec(n)},
                                                      "alias", {"y": ["x", 2]}))


def test_openmp_candidate_without_overlap_check_is_rejected_and_guarded_one_verified():
    task = build_task(SAXPY, "c", "saxpy", Target.OPENMP)
    suite = make_suite(task)
    assert any(off for _, _, off in _aliases(suite))
    naive = Candidate(SAXPY.replace("    for", "    #pragma omp parallel for\n    for"), Target.OPENMP, agent="hf")
    v = verify(task, naive, suite, FAST)
    assert not v.verified
    assert any(f.name.startswith("alias-") for f in v.failures), v.reason
    [guarded] = _guard_overlaps(task, [naive], [])
    v = verify(task, guarded, suite, FAST)
    assert v.verified, v.reason


@pytest.mark.parametrize("target", [Target.MPI, Target.CUDA])
def test_rule_candidates_stay_right_on_overlapping_calls(target):
    """MPI ranks and CUDA devices work on copies: a candidate without the entry check would give the
    original values where the sequential loop sees updated ones. The rule agent's versioned output
    passes every overlapping call."""
    task = build_task(SAXPY, "c", "saxpy", target)
    suite = make_suite(task)
    assert any(off for _, _, off in _aliases(suite))
    [cand] = RuleBasedTranslator().propose(task, target)
    v = verify(task, cand, suite, FAST)
    assert v.verified, v.reason
    assert v.tests_passed == v.tests_total >= len(suite.cases)

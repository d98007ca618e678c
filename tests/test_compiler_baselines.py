"""The parallelizing compilers paralift is compared with (paralift.eval.autopar):
GCC's auto-parallelizer and clang's Polly, judged by the same reference and tests."""
from __future__ import annotations

import pytest

from paralift.agents import build_task
from paralift.eval import autopar
from paralift.sandbox import VerifyOptions
from paralift.types import ArraySpec, Target, TestCase, TestSuite

SRC = """void scale(int n, const double *x, double *restrict y)
{
    for (int i = 0; i < n; i++)
        y[i] = 2.0 * x[i] + 1.0;
}
"""
# min_cases=1: the suites here are hand-sized for speed; these tests judge the candidates, not the suite
OPTS = VerifyOptions(timing=False, cflags=("-O3",), threads=(1, 2, 3), repeats=1, min_cases=1)


def _suite():
    cases = [TestCase(f"n{n}", {"n": n}, {"x": ArraySpec(n, "uniform", -1.0, 1.0, seed=n), "y": ArraySpec(n, "zeros")})
             for n in (0, 7, 100000)]
    return TestSuite("scale", cases, generator="test")


def _task():
    return build_task(SRC, "c", "scale", Target.OPENMP, "scale.c")


def test_gcc_autopar_is_verified_and_reports_what_it_parallelized():
    t = _task()
    v = autopar.verify_autopar(t, autopar.propose(t, 2), _suite(), OPTS, 2)
    assert v.status == "verified", v.reason
    assert any(l.startswith("gcc parallelized") and not l.startswith("gcc parallelized 0") for l in v.logs)


@pytest.mark.skipif(autopar.polly_clang() is None, reason="no clang with Polly")
def test_polly_build_is_verified_and_says_whether_it_is_parallel():
    t = _task()
    c = autopar.propose_polly(t)
    assert c.agent == autopar.POLLY
    v = autopar.verify_autopar(t, c, _suite(), OPTS, 2)
    assert v.status == "verified", v.reason
    assert any(l.startswith("parallel: ") for l in v.logs)


SAXPY = """void saxpy(int n, float a, const float *x, float *y)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}
double total(int n, const double *x)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return s;
}
"""


@pytest.mark.parametrize("function,cause", [("saxpy", "may alias"), ("total", "floating-point reduction")])
def test_gcc_autopar_that_parallelizes_nothing_is_the_sequential_build_with_gccs_reason(function, cause):
    # GCC 12's parloops neither versions a loop for pointers that may alias nor reorders a floating-point
    # sum without -ffast-math: the build is the sequential program (1.0x, not a wrong result), and the
    # verdict names why from GCC's own dump, for this function only (not the driver's loops)
    t = build_task(SAXPY, "c", function, Target.OPENMP, "k.c")
    v = autopar.verify_autopar(t, autopar.propose(t, 2), None, OPTS, 2)
    assert v.built and autopar.no_loop_parallelized(v), v.reason
    assert "parallelized no loop" in v.reason and cause in v.reason, v.reason
    assert "gcc parallelized 0 loop(s)" in v.logs

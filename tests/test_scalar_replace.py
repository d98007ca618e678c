"""Scalar replacement (paralift.agents.scalar_replace): what it rewrites, what it
refuses, and that the rewritten candidates verify in the real sandbox."""
from __future__ import annotations

import subprocess

import pytest

from paralift.agents import RuleBasedTranslator, build_task
from paralift.agents.scalar_replace import scalar_replace
from paralift.agents.tester import build_suite
from paralift.sandbox import VerifyOptions, verify
from paralift.types import Target

FAST = VerifyOptions(timing=False, threads=(1, 2, 3), repeats=2)

MATVEC2 = """
void mv2(int n, const double *A, const double *x, double *restrict y, double *restrict z)
{
    for (int i = 0; i < n; i++) {
        y[i] = 0.0;
        z[i] = 1.0;
        for (int j = 0; j < n; j++) {
            y[i] += A[i * n + j] * x[j];
            z[i] *= 1.0 + 0.001 * A[i * n + j];
        }
    }
}
"""


def _suite(task):
    return build_suite(task).suite


def test_rule_candidate_holds_both_accumulators_and_verifies():
    task = build_task(MATVEC2, "c", "mv2", Target.OPENMP, "mv2.c")
    c = RuleBasedTranslator().propose(task, Target.OPENMP)[0]
    assert "scalar replacement" in c.notes and "y[i], z[i]" in c.notes
    assert "double __pl_sr0 = y[i];" in c.code and "z[i] = __pl_sr1;" in c.code
    assert "if ((0) < n)" in c.code            # a zero-trip loop loads and stores nothing
    v = verify(task, c, _suite(task), FAST)    # the tester's suite has n = 0 and n = 1 cases
    assert v.verified, v.reason


def _rewritten(src: str, fn: str) -> list[str]:
    return scalar_replace(src, "c", fn)[1]


def test_refuses_when_another_array_may_alias():
    # y and w are non-const, non-restrict double pointers: w[j] may be y[i]
    src = """void f(int n, const double *A, double *y, double *w)
{ for (int i = 0; i < n; i++) { y[i] = 0; for (int j = 0; j < n; j++) y[i] += A[j] * w[j]; } }"""
    assert _rewritten(src, "f") == []
    # restrict on y removes the doubt
    assert _rewritten(src.replace("double *y", "double *restrict y"), "f") == ["line 2: y[i] held in a register for the loop"]


@pytest.mark.parametrize("body,why", [
    ("for (int j = 0; j < n; j++) if (A[j] > 0) y[i] += A[j];", "conditional write"),
    ("for (int j = 0; j < n; j++) y[j] += A[j];", "index varies with the loop"),
    ("for (int j = 0; j < n; j++) y[i] += g(A[j]);", "call to an unknown function"),
    ("for (int j = 0; j < n; j++) { y[i] += A[j]; y[i + 1] = 0; }", "two elements of y"),
    ("for (int j = 0; j < n; j++) { y[i] += A[j]; if (y[i] > 9) return; }", "return inside"),
    ("#pragma omp simd\n for (int j = 0; j < n; j++) y[i] += A[j];", "the loop is a pragma's subject"),
    ("int j; for (j = 0; j < n; j++) y[i] += A[j];", "loop variable declared outside"),
])
def test_refusals(body, why):
    src = ("double g(double);\nvoid f(int n, const double *A, double *restrict y)\n"
           "{ for (int i = 0; i + 1 < n; i++) { " + body + " } }")
    assert _rewritten(src, "f") == [], why


def test_isl_style_body_declarations_are_substituted(tmp_path):
    # restructure's generated loops declare the original variables inside the innermost loop
    src = """void f(int n, int m, const double *A, double *restrict C)
{
    for (long c0 = 0; c0 < n; c0 += 1) {
        for (long c1 = 0; c1 < m; c1 += 1) {
            { int i = c0; int k = c1;
              C[i] += A[i * m + k];
            }
        }
    }
}"""
    code, notes = scalar_replace(src, "c", "f")
    assert notes and "double __pl_sr0 = C[(c0)];" in code and "C[(c0)] = __pl_sr0;" in code
    (tmp_path / "f.c").write_text(code)
    r = subprocess.run(["gcc", "-c", "-Wall", "-Werror", "f.c"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

"""Limits that scale with the reference, and timeouts reported as timeouts
(issue 21): a candidate that never returns is stopped after about
slow_factor x the sequential code's time + slow_grace_s, not a fixed minute
per configuration."""
import time

import pytest

from paralift.sandbox import VerifyOptions, verify_source
from paralift.sandbox.verify import candidate_limits

SAXPY = """void saxpy(int n, float a, const float *x, float *y) {
  for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}
"""

# correct on small cases, never returns on the large ones
HANG_LARGE = """void saxpy(int n, float a, const float *x, float *y) {
  volatile int spin = n > 1000;
  while (spin) { }
  #pragma omp parallel for
  for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}
"""


def test_limit_scales_with_reference_and_kind():
    opts = VerifyOptions()
    fast = candidate_limits(opts, 0.001, 0.05)
    assert fast.wall_s == pytest.approx(10 * 0.001 + 1.0 + 0.1)
    assert candidate_limits(opts, 0.001, 0.05, "ranks=2", mpi=True).wall_s > fast.wall_s + 4
    assert candidate_limits(opts, 0.001, 0.05, "cpu-emulated asan").wall_s > candidate_limits(opts, 0.001, 0.05, "cpu-emulated forward").wall_s
    # never above the fixed ceiling
    assert candidate_limits(opts, 100.0, 0.05).wall_s == opts.run_limits.wall_s


def test_hanging_candidate_is_rejected_in_seconds_as_a_timeout():
    verify_source(SAXPY, HANG_LARGE.replace("while (spin) { }", ""), "openmp", "saxpy",
                  options=VerifyOptions(timing=False))      # builds the reference (cached per process)
    t0 = time.monotonic()
    v = verify_source(SAXPY, HANG_LARGE, "openmp", "saxpy", options=VerifyOptions(timing=False))
    took = time.monotonic() - t0
    assert not v.verified
    assert v.reason.startswith("timeout on test"), v.reason
    assert "wrong result" not in v.reason
    assert v.failures and v.failures[0].detail.startswith("timeout: ")
    assert len(v.failures) == 1                 # the cases after the hanging one never ran
    assert took < 30, f"took {took:.1f} s to reject a hanging candidate"


def test_batch_sends_a_hanging_candidate_to_verify_which_says_timeout():
    from paralift.agents import build_task
    from paralift.agents.tester import generate_tests
    from paralift.sandbox.batch import BatchItem, verify_batch
    from paralift.types import Candidate, Target
    task = build_task(SAXPY, "c", "saxpy", Target.OPENMP)
    item = BatchItem(task, generate_tests(task, 0), [Candidate(HANG_LARGE, Target.OPENMP, agent="hand")])
    t0 = time.monotonic()
    (v,), = verify_batch([item], VerifyOptions(timing=False))
    assert not v.verified and v.reason.startswith("timeout on test"), v.reason
    assert time.monotonic() - t0 < 60


@pytest.mark.slow
def test_hanging_at_the_timing_size_is_a_timeout_too():
    hang_timing = HANG_LARGE.replace("n > 1000", "n > 1000000")    # passes every test case, hangs when timed
    v = verify_source(SAXPY, hang_timing, "openmp", "saxpy", options=VerifyOptions(timing=True, timing_min_s=0.05))
    assert not v.verified and "timing size" in v.reason and "timeout" in v.reason, v.reason

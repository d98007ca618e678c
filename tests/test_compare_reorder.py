"""compare's tolerance for reordered floating-point reductions (issue 21):
right answers a parallel order produces pass, wrong ones still fail."""
import numpy as np

from paralift.sandbox.compare import case_terms, compare
from paralift.types import ArraySpec, TestCase


def _product(xs: np.ndarray, chunks: int) -> float:
    """The product of xs as `chunks` threads of a parallel reduction compute it."""
    out = 1.0
    for part in np.array_split(xs, chunks):
        p = 1.0
        for x in part:
            p *= x
        out *= p
    return out


def test_product_through_the_subnormal_range_passes_in_another_order():
    # first many tiny factors, then large ones: the sequential order goes
    # deep into the subnormal range and loses digits, a 3-thread order does not
    xs = np.array([1e-32] * 10 + [-1.2345678] + [1e10] * 10, dtype=np.float64)
    seq, par = _product(xs, 1), _product(xs, 3)
    assert seq != par and abs(seq - par) > 1e-7 * abs(seq)          # beyond the plain 1e-7
    assert compare({"return": np.array(seq)}, {"return": np.array(par)}) is None


def test_wrong_answers_still_fail_at_every_magnitude():
    for w in (-1.18202e-237, 3.5, 1e-30):
        want = {"return": np.array(w)}
        assert compare(want, {"return": np.array(0.0)}) is not None          # zeros never pass
        assert compare(want, {"return": np.array(-w)}) is not None           # sign
        assert compare(want, {"return": np.array(w * 0.9)}) is not None      # a lost factor
    want = {"y": np.linspace(1, 2, 100).astype(np.float32)}
    assert compare(want, {"y": np.zeros(100, np.float32)}, terms=10**6) is not None


def test_term_count_widens_float_tolerance_with_sqrt_n():
    rng = np.random.default_rng(0)
    x = rng.random(2_000_000).astype(np.float32)
    seq = np.add.accumulate(x, dtype=np.float32)[-1]                   # one running sum
    par = np.float32(sum(np.add.accumulate(p, dtype=np.float32)[-1] for p in np.array_split(x, 2)))
    assert compare({"return": np.array(seq)}, {"return": np.array(par)}, terms=x.size) is None
    assert compare({"return": np.array(seq)}, {"return": np.array(par * 1.01)}, terms=x.size) is not None


def test_case_terms_is_the_largest_count_or_size():
    c = TestCase("c", {"n": 300, "a": 2.5}, {"x": ArraySpec(300), "y": ArraySpec(90000)})
    assert case_terms(c) == 90000
    assert case_terms(TestCase("s", {"n": 7}, {})) == 7


def test_a_long_float_scan_passing_zero_passes_in_another_order():
    # a running sum of a ramp (-0.9 .. 1.1): the partial sums reach -2e5 and come back through zero;
    # a 3-block scan (each block from zero, then the offsets) is as right as the sequential one there
    n = 1_048_583
    x = np.linspace(-0.9, 1.1, n).astype(np.float32)
    seq = np.cumsum(x, dtype=np.float32)                       # numpy's float32 cumsum: sequential order
    blocks = np.array_split(x, 3)
    par, off = [], np.float32(0)
    for b in blocks:
        part = np.cumsum(b, dtype=np.float32) + off
        par.append(part.astype(np.float32))
        off = par[-1][-1]
    par = np.concatenate(par)
    exact = np.cumsum(x.astype(np.float64))
    assert compare({"y": seq}, {"y": par}, terms=n) is None
    # still not a blank cheque: an answer off by far more than the reorder error fails
    bad = par.copy()
    k = int(np.argmin(np.abs(exact)))
    bad[k] += np.float32(0.01 * np.max(np.abs(exact)))
    assert compare({"y": seq}, {"y": bad}, terms=n) is not None
    assert compare({"y": seq}, {"y": np.zeros_like(par)}, terms=n) is not None

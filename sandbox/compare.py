"""Compare a candidate's outputs with the sequential reference's.

Integers must match exactly. Floats match when
    |got - want| <= rtol * (|want| + 0.01 * max|want|) + SUBNORMAL_ULPS * smallest subnormal
the second term absorbs reassociation error near zero without letting zeros
pass for non-zero results (an absolute tolerance would: a known exploit).
NaN matches NaN, inf matches the same inf.

rtol accounts for reordered floating-point reductions, which a parallel
version is free to do:
- the number of terms: rounding errors of a reordered sum of n terms grow
  like sqrt(n) * eps (a random walk; n is the case's largest input count),
  so rtol is at least TERMS_FACTOR * eps * sqrt(n);
- cancellation: an output near zero can be the end of a running sum whose
  partial sums were far larger (a scan of a ramp falls to ~0 after passing
  2e5): its rounding errors are those of the partial sums, a random walk of
  half-ulp errors of values up to the largest output; two such walks (the
  sequential order's and the candidate's) differ by about sqrt(2) times one,
  so the absolute part is at least eps * sqrt(n) * max|want| (CANCEL_FACTOR). It only widens
  float outputs of long cases (from ~7 000 terms): a correct float scan of
  1M elements differed by up to 7.8e-5 of its largest value where it crossed zero;
- the magnitude: a value below sqrt(smallest normal) can be a product whose
  partial products passed through the subnormal range in one order and not
  in the other, each such step losing digits (a correct parallel product of
  many small factors gave -1.18278e-237 where the sequential code gives
  -1.18202e-237); there rtol is at least DEEP_RTOL. Zeros, sign errors and
  lost factors still fail there.
"""
from __future__ import annotations

import numpy as np

RTOL = {4: 1e-3, 8: 1e-7}   # by float item size: float, double
TERMS_FACTOR = 8.0
DEEP_RTOL = 1e-2
SUBNORMAL_ULPS = 64
CANCEL_FACTOR = 1.0          # of eps * sqrt(n) * max|want|: the floor of the absolute part


def tolerance(dtype: np.dtype, want: np.ndarray, terms: int = 1) -> np.ndarray:
    """The relative tolerance of each element of `want` (see the module doc)."""
    info = np.finfo(dtype)
    rtol = max(RTOL.get(dtype.itemsize, 1e-7), TERMS_FACTOR * float(info.eps) * float(np.sqrt(max(terms, 1))))
    deep = np.abs(want) < np.sqrt(float(info.tiny))
    return np.where(deep, max(rtol, DEEP_RTOL), rtol)


def absolute_part(dtype: np.dtype, rtol, scale: float, terms: int = 1):
    """The tolerance's part relative to the output's largest magnitude `scale` (see the module doc):
    1 % of the relative one, or the cancellation floor of a long reordered sum."""
    cancel = CANCEL_FACTOR * float(np.finfo(dtype).eps) * float(np.sqrt(max(terms, 1)))
    return np.maximum(0.01 * rtol, cancel) * scale


def compare(want: dict[str, np.ndarray], got: dict[str, np.ndarray], terms: int = 1) -> str | None:
    """None when equal, else a one-line description of the first difference.
    `terms`: the case's largest input count (the most terms a reduction can have)."""
    want, got = _components(want), _components(got)
    for name, w in want.items():
        label = "return value" if name == "return" else f"output {name!r}"
        if name not in got:
            return f"{label} missing"
        g = got[name]
        if g.shape != w.shape:
            return f"{label} has {g.size} elements, expected {w.size}"
        if w.size == 0:
            continue
        if w.dtype.kind == "f":
            wf, gf = w.astype(np.float64), g.astype(np.float64)
            both_nan = np.isnan(wf) & np.isnan(gf)
            same_inf = np.isinf(wf) & (wf == gf)
            finite = np.isfinite(wf)
            scale = float(np.max(np.abs(wf[finite]))) if finite.any() else 0.0
            with np.errstate(invalid="ignore", over="ignore"):
                rtol = tolerance(w.dtype, wf, terms)
                floor = SUBNORMAL_ULPS * float(np.finfo(w.dtype).smallest_subnormal)
                ok = np.abs(gf - wf) <= rtol * np.abs(wf) + absolute_part(w.dtype, rtol, scale, terms) + floor
            bad = ~(ok | both_nan | same_inf)
        else:
            bad = g != w
        if bad.any():
            idx = int(np.argmax(bad))
            nbad = int(bad.sum())
            where = "" if name == "return" else f"[{idx}]"
            return (f"{label}{where} = {_fmt(g.flat[idx])}, expected {_fmt(w.flat[idx])}"
                    f" ({nbad} of {w.size} element{'s' if w.size != 1 else ''} differ)")
    return None


def _components(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Struct and complex outputs as their scalar parts ('p.x', 'z.real'), each compared by its own
    type: an integer field exactly, a floating-point one with its tolerance."""
    out: dict[str, np.ndarray] = {}
    for name, a in arrays.items():
        if a.dtype.fields:
            for f in a.dtype.names:
                out.update(_components({f"{name}.{f}": np.ascontiguousarray(a[f]).reshape(-1)}))
        elif a.dtype.kind == "c":
            out[f"{name}.real"], out[f"{name}.imag"] = np.ascontiguousarray(a.real), np.ascontiguousarray(a.imag)
        else:
            out[name] = a
    return out


def case_terms(case) -> int:
    """The most terms a reduction over a test case's inputs can have: its
    largest array count or integer scalar (a TestCase)."""
    counts = [a.count for a in case.arrays.values()]
    counts += [int(v) for v in case.scalars.values() if isinstance(v, (int, np.integer)) and 0 < v < 1 << 40]
    return max(counts, default=1)


def depends_on_input(outputs: list[dict[str, np.ndarray]]) -> bool:
    """True when the reference's outputs differ between cases (a suite whose
    outputs never change with the input verifies nothing)."""
    sigs = {tuple((k, v.tobytes()) for k, v in sorted(o.items())) for o in outputs}
    return len(sigs) > 1


def _fmt(x) -> str:
    return f"{float(x):.9g}" if isinstance(x, np.floating) else str(int(x)) if isinstance(x, np.integer) else repr(x)

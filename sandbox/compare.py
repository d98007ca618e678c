"""Compare a candidate's outputs with the sequential reference's.

Integers must match exactly. Floats match when
    |got - want| <= rtol * (|want| + 0.01 * max|want|)
the second term absorbs reassociation error near zero without letting zeros
pass for non-zero results (an absolute tolerance would: a known exploit).
NaN matches NaN, inf matches the same inf.
"""
from __future__ import annotations

import numpy as np

RTOL = {4: 1e-3, 8: 1e-7}   # by float item size: float, double


def compare(want: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> str | None:
    """None when equal, else a one-line description of the first difference."""
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
            rtol = RTOL.get(w.dtype.itemsize, 1e-7)
            wf, gf = w.astype(np.float64), g.astype(np.float64)
            both_nan = np.isnan(wf) & np.isnan(gf)
            same_inf = np.isinf(wf) & (wf == gf)
            finite = np.isfinite(wf)
            scale = float(np.max(np.abs(wf[finite]))) if finite.any() else 0.0
            with np.errstate(invalid="ignore", over="ignore"):
                ok = np.abs(gf - wf) <= rtol * (np.abs(wf) + 0.01 * scale)
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


def depends_on_input(outputs: list[dict[str, np.ndarray]]) -> bool:
    """True when the reference's outputs differ between cases (a suite whose
    outputs never change with the input verifies nothing)."""
    sigs = {tuple((k, v.tobytes()) for k, v in sorted(o.items())) for o in outputs}
    return len(sigs) > 1


def _fmt(x) -> str:
    return f"{float(x):.9g}" if isinstance(x, np.floating) else str(int(x)) if isinstance(x, np.integer) else repr(x)

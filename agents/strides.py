"""BLAS-style strides, leading dimensions and offsets in subscripts (issue 22).

`x[i*incx]`, `y[i*incy + off]`, `a[i*lda + j]`: the subscript multiplies a loop variable by an integer
parameter whose sign the code does not fix. Every extent and every dependence test then needs that
sign (and, for a leading dimension, `lda >= n`: rows of width n do not overlap), which C callers may
violate on purpose (a negative increment, `incx == 0` to broadcast one element, `lda < n` to read
overlapping rows). The analysis does not guess: each such parameter yields a *fact* F >= 0 (a Poly,
see Poly.nonneg) that the extents and dependence tests may use, and that the translated function
checks at entry, running the sequential code when one fails (codegen_common.overlap_test). So the
parallel path is taken only when the facts hold, and every other call gets the original code.

Facts, for an array parameter's subscript `c*v + R` (v a loop variable, c = s a scalar parameter):
* R spans loop variables over [lo, hi] with lo >= 0: `s >= hi + 1` (a leading dimension: the rows
  R runs along are s apart and never meet);
* R has no loop variable: `s >= 1` (a stride);
* a scalar parameter added to the subscript with unknown sign (`+ off`): `off >= 0` (the accessed
  range starts at the pointer, as the extents assume).
"""
from __future__ import annotations

from dataclasses import dataclass

from .poly import Poly


@dataclass(frozen=True)
class ValueFact:
    fact: Poly          # fact >= 0 is what the parallel path needs
    param: str          # the parameter it constrains
    kind: str           # "leading dimension" | "stride" | "offset"
    line: int

    def describe(self, name) -> str:
        lhs = Poly.sym(self.param)
        rhs = lhs - self.fact
        return f"{name(self.param)} >= {rhs.render(name)}"


def value_facts(m, nonneg: set, integer_types) -> list[ValueFact]:
    """The facts of the function's array-parameter subscripts (see the module's docstring), in order of
    appearance, one per (parameter, fact)."""
    from .dependence import DependenceTester
    ext = DependenceTester(m, set())
    out: list[ValueFact] = []
    seen: set = set()
    loopvars = {lp.var.key for lp in m.loops if lp.var is not None}

    def unknown_sign(s: str) -> bool:
        d = m.decl_by_key(s)
        return (d is not None and d.is_param and d.kind == "scalar" and d.base_type in integer_types
                and s not in nonneg and s not in loopvars)

    def add(f: ValueFact) -> None:
        key = (f.param, f.fact)
        if key not in seen:
            seen.add(key)
            out.append(f)

    for ev in m.events:
        d = ev.decl
        if not (d.is_param and d.is_array) or ev.poly is None:
            continue
        p = m.expand(ev.poly)
        if p is None:
            continue
        loops = [lp for lp in ev.loops if lp.var is not None and lp.canonical]
        strided = set()
        for lp in loops:
            v = lp.var.key
            if p.degree_in(v) != 1:
                continue
            c = p.coeff(v)
            if len(c.terms) != 1 or list(c.terms.values()) != [1]:
                continue
            (mono,) = c.terms
            if len(mono) != 1 or not unknown_sign(mono[0]):
                continue
            s = mono[0]
            strided.add(s)
            rest = p.drop(v)
            if s in rest.symbols():
                continue
            others = [o for o in loops if o is not lp and o.var.key in rest.symbols()]
            if not others:
                add(ValueFact(Poly.sym(s) - 1, s, "stride", ev.line))
                continue
            # the row's columns over every iteration: a triangular row (j <= i) is at most as wide as the last
            order = [(o.var.key, m.expand(o.lower), m.expand(o.upper)) for o in reversed(others)]
            order.append((v, m.expand(lp.lower), m.expand(lp.upper)))
            nn = set(nonneg)
            for key, lo, _ in order:
                if lo is not None and lo.nonneg(nn):
                    nn.add(key)
            lo = ext.extremum(rest, order, False, nn)
            hi = ext.extremum(rest, order, True, nn)
            if lo is None or hi is None or not lo.nonneg(nn) or (hi.symbols() & loopvars):
                continue
            add(ValueFact(Poly.sym(s) - hi - 1, s, "leading dimension", ev.line))
        # additive parameters of unknown sign: the range starts at the pointer only when they are >= 0
        for mono, coef in p.terms.items():
            if len(mono) == 1 and coef > 0 and mono[0] not in strided and unknown_sign(mono[0]):
                add(ValueFact(Poly.sym(mono[0]), mono[0], "offset", ev.line))
    return out

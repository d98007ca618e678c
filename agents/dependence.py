"""Dependence tests for affine subscripts.

Given a loop L and two accesses e1, e2 to the same storage (at least one a
write), decide whether two *different* iterations of L may touch the same
element.  Tests, in order:

* equal coefficients (strong SIV / constant distance): s = c*v + g(inner);
  when g has no inner variables the distance is (g2-g1)/c (GCD on constants,
  `|diff| < c` for symbolic c); with inner variables, the stride test
  `max|g2-g1| < |c|` (rows of a row-major matrix never overlap);
* GCD test on D = s1 - s2 when every variable coefficient is an integer;
* a Banerjee-style bounds test: D's range over the iteration space excludes 0.

Anything not proven independent is reported as a dependence.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from math import gcd

from .frontend import Event, FunctionModel, Loop, atom_nonneg
from .poly import Poly


@dataclass
class DepResult:
    dependent: bool
    detail: str = ""


def _direction(w: Event, e: Event, d: int, step) -> str:
    """What a constant distance means when `w` writes and `e` only reads: the element `w` writes at
    iteration v is the one `e` reads at v - d. Read in a later iteration: the value is carried (a
    recurrence); read in an earlier one: the read must happen before the overwrite (an anti-dependence,
    parallel only from a copy of the array)."""
    if not (w.write and e.read and not e.write) or not isinstance(step, int) or not step or not d:
        return ""
    later = d * step < 0          # v2 = v1 - d comes after v1 in the loop's order
    it = "iteration" if abs(d) == 1 else "iterations"
    if later:
        return f" (the value written to {_short(w.node)} is read {abs(d)} {it} later as {_short(e.node)}: a recurrence)"
    return (f" ({_short(e.node)} is read {abs(d)} {it} before another iteration overwrites it: an anti-dependence, "
            f"parallel only from a copy of '{w.decl.name}')")


def _loops_inside(ev: Event, L: Loop) -> list[Loop]:
    loops = list(ev.loops)
    return loops[loops.index(L) + 1:]


def _rename(p: Poly, mapping: dict[str, str]) -> Poly:
    out = Poly()
    for k, v in p.terms.items():
        out = out + Poly({tuple(sorted(mapping.get(s, s) for s in k)): v})
    return out


class DependenceTester:
    def __init__(self, model: FunctionModel, nonneg_params: set[str]):
        self.m = model
        self.nonneg_params = set(nonneg_params)

    # -- bounds -------------------------------------------------------------
    def _bounds(self, lp: Loop, mapping: dict[str, str]) -> tuple[Poly | None, Poly | None]:
        lo = self.m.expand(lp.lower)
        hi = self.m.expand(lp.upper)
        return (_rename(lo, mapping) if lo is not None else None,
                _rename(hi, mapping) if hi is not None else None)

    def extremum(self, p: Poly, order: list[tuple[str, Poly | None, Poly | None]], want_max: bool,
                 nonneg: set[str]) -> Poly | None:
        for key, lo, hi in order:
            deg = p.degree_in(key)
            if deg == 0:
                continue
            if deg > 1:
                return None
            c = p.coeff(key)
            if c.nonneg(nonneg):
                val = hi if want_max else lo
            elif (-c).nonneg(nonneg):
                val = lo if want_max else hi
            else:
                return None
            if val is None:
                return None
            p = p.drop(key) + c * val
        return p

    def _order_and_nonneg(self, L: Loop, e1: Event, e2: Event, m1: dict, m2: dict):
        order = []
        nonneg = set(self.nonneg_params) | {s for s in self._all_syms() if s.startswith(("@size:", "@cols:"))}
        nonneg |= {s for s in self._all_syms() if s.startswith("@") and atom_nonneg(s, nonneg)}
        lvar = L.var.key
        for ev, mp in ((e1, m1), (e2, m2)):
            for lp in reversed(_loops_inside(ev, L)):
                if lp.var is None or not lp.canonical:
                    continue
                lo, hi = self._bounds(lp, mp)
                order.append((mp[lp.var.key], lo, hi))
        for mp in (m1, m2):
            lo, hi = self._bounds(L, mp)
            order.append((mp[lvar], lo, hi))
        p = L.parent
        while p is not None:
            if p.var is not None and p.canonical:
                lo, hi = self._bounds(p, {})
                order.append((p.var.key, lo, hi))
            p = p.parent
        # a loop variable is non-negative when its lower bound is
        changed = True
        while changed:
            changed = False
            for key, lo, _hi in order:
                if key not in nonneg and lo is not None and lo.nonneg(nonneg):
                    nonneg.add(key)
                    changed = True
        return order, nonneg

    def _all_syms(self) -> set[str]:
        out: set[str] = set()
        for ev in self.m.events:
            if ev.poly is not None:
                out |= ev.poly.symbols()
        return out

    def injective(self, p: Poly, vars_: list[str], order, nonneg) -> bool:
        """Is p a mixed-radix map of vars_ (each coefficient exceeds the span of all smaller terms)?"""
        terms = _injective_terms(p, vars_, order, nonneg, self)
        if terms is None:
            return False
        terms.sort(key=lambda t: (max((len(k) for k in t[0].terms), default=0), t[0].constant))
        span = Poly()
        for c, r in terms:
            if not (c - span).positive(nonneg):
                return False
            span = span + c * r
        return True

    # -- the test -----------------------------------------------------------
    def test(self, L: Loop, e1: Event, e2: Event, written: set[str]) -> DepResult:
        if e1.dims is not None and e2.dims is not None:
            # a nested vector's elements (Event.dims): different iterations never meet when, in one
            # dimension, their subscripts always differ (different rows, or different columns of a row)
            flat = None
            for k, what in ((0, "rows"), (1, "columns")):
                if e1.dims[k] is None or e2.dims[k] is None:
                    continue
                r = self._test(L, dataclasses.replace(e1, poly=e1.dims[k]), dataclasses.replace(e2, poly=e2.dims[k]),
                               written)
                if not r.dependent:
                    return DepResult(False, f"{r.detail} ({what})")
            flat = self._test(L, e1, e2, written) if e1.poly is not None and e2.poly is not None else None
            return flat if flat is not None else DepResult(True, "possible loop-carried dependence")
        return self._test(L, e1, e2, written)

    def _test(self, L: Loop, e1: Event, e2: Event, written: set[str]) -> DepResult:
        p1, p2 = self.m.expand(e1.poly), self.m.expand(e2.poly)
        if p1 is None or p2 is None:
            bad = e1 if p1 is None else e2
            return DepResult(True, f"subscript '{_short(bad.index)}' is not affine")
        for p, ev in ((p1, e1), (p2, e2)):
            for s in p.symbols():
                if s in written:
                    return DepResult(True, f"subscript of {_short(ev.node)} uses '{s}', which changes in the loop")
        v = L.var.key
        if p1.degree_in(v) > 1 or p2.degree_in(v) > 1:
            return DepResult(True, "subscript is not linear in the loop variable")
        m1 = {v: v + "#1"}
        m2 = {v: v + "#2"}
        for ev, mp, tag in ((e1, m1, "#1"), (e2, m2, "#2")):
            for lp in _loops_inside(ev, L):
                if lp.var is not None:
                    mp[lp.var.key] = lp.var.key + tag
        q1, q2 = _rename(p1, m1), _rename(p2, m2)
        order, nonneg = self._order_and_nonneg(L, e1, e2, m1, m2)
        loopvars = {k for k, _, _ in order}
        inner_vars = {k for k, _, _ in order if k.endswith("#1") or k.endswith("#2")} - {v + "#1", v + "#2"}
        c1, c2 = p1.coeff(v), p2.coeff(v)
        # 0. identical subscripts: different iterations meet only if the map is not injective
        if p1 == p2 and v + "#1" in q1.symbols() and self.injective(q1, [k for k, _, _ in order if k.endswith("#1")], order, nonneg):
            return DepResult(False, "injective subscript")
        # 1. equal coefficients: c*(v1 - v2) = g2 - g1
        if c1 == c2 and c1.terms and not (c1.symbols() & (inner_vars | {s.split("#")[0] for s in inner_vars})):
            c = c1
            g1 = q1 - _rename(c, m1) * Poly.sym(v + "#1")
            g2 = q2 - _rename(c, m2) * Poly.sym(v + "#2")
            diff = g2 - g1
            if not (diff.symbols() & loopvars):
                if not diff.terms:
                    return DepResult(False, "same element only in the same iteration")
                if c.is_const() and diff.is_const():
                    if diff.constant % c.constant:
                        return DepResult(False, "GCD test")
                    d = diff.constant // c.constant
                    if abs(L.step) > 1 and d % abs(L.step):
                        # the variable moves in steps of L.step: iterations are never d apart
                        return DepResult(False, "distance not a multiple of the step")
                    detail = f"dependence distance {abs(d)}" + _direction(e1, e2, d, L.step)
                elif c.nonneg(nonneg) and (c - diff).positive(nonneg) and (c + diff).positive(nonneg):
                    return DepResult(False, "|distance| < stride")
                elif (-c).nonneg(nonneg) and (-c - diff).positive(nonneg) and (-c + diff).positive(nonneg):
                    return DepResult(False, "|distance| < stride")
                else:
                    detail = f"possible dependence (symbolic distance {diff.render(self._name)})"
                return self._bounds_test(q1 - q2, order, nonneg, detail)
            hi = self.extremum(diff, order, True, nonneg)
            lo = self.extremum(diff, order, False, nonneg)
            if hi is not None and lo is not None:
                if c.nonneg(nonneg) and (c - hi).positive(nonneg) and (c + lo).positive(nonneg):
                    return DepResult(False, "stride test")
                if (-c).nonneg(nonneg) and (-c - hi).positive(nonneg) and (-c + lo).positive(nonneg):
                    return DepResult(False, "stride test")
        # 2. GCD test on D = s1 - s2
        D = q1 - q2
        var_terms = {k: val for k, val in D.terms.items() if any(s in loopvars for s in k)}
        if var_terms and all(len(k) == 1 for k in var_terms):
            g = 0
            for val in var_terms.values():
                g = gcd(g, abs(val))
            rest = D.drop_all(loopvars) if hasattr(D, "drop_all") else Poly(
                {k: val for k, val in D.terms.items() if not any(s in loopvars for s in k)})
            if rest.is_const() and g and rest.constant % g:
                return DepResult(False, "GCD test")
        # 3. bounds (Banerjee-style): D never 0
        if not var_terms and not D.terms:
            return DepResult(True, "every iteration accesses the same element")
        return self._bounds_test(D, order, nonneg, "possible loop-carried dependence")

    def _bounds_test(self, D: Poly, order, nonneg, detail: str) -> DepResult:
        hi = self.extremum(D, order, True, nonneg)
        lo = self.extremum(D, order, False, nonneg)
        if lo is not None and lo.positive(nonneg):
            return DepResult(False, "bounds test")
        if hi is not None and (-hi).positive(nonneg):
            return DepResult(False, "bounds test")
        return DepResult(True, detail)

    def _name(self, s: str) -> str:
        d = self.m.decl_by_key(s)
        return d.name if d is not None else s


def _injective_terms(p: Poly, vars_: list[str], order, nonneg, tester) -> list | None:
    bounds = {k: (lo, hi) for k, lo, hi in order}
    terms = []
    for x in vars_:
        if p.degree_in(x) == 0:
            continue
        if p.degree_in(x) > 1:
            return None
        c = p.coeff(x)
        if c.symbols() & set(vars_):
            return None
        if not c.nonneg(nonneg):
            c = -c
            if not c.nonneg(nonneg):
                return None
        lo, hi = bounds.get(x, (None, None))
        if lo is None or hi is None:
            return None
        r = hi - lo
        if r.symbols() & set(bounds):
            rmax = tester.extremum(r, order, True, nonneg)
            if rmax is None:
                return None
            r = rmax
        terms.append((c, r))
    return terms


def _short(node) -> str:
    if node is None:
        return "?"
    s = " ".join(node.text.decode("utf-8", "replace").split())
    return s if len(s) <= 40 else s[:37] + "..."

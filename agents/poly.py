"""Tiny multivariate polynomials with integer coefficients.

Used for affine subscripts, loop bounds and array extents.  A polynomial is a
mapping from a monomial (a sorted tuple of symbol names, with repetition for
powers; () for the constant) to a non-zero integer coefficient.
"""
from __future__ import annotations

from math import gcd
from typing import Callable, Iterable


class Poly:
    __slots__ = ("terms",)

    def __init__(self, terms: dict | None = None):
        self.terms: dict[tuple, int] = {k: v for k, v in (terms or {}).items() if v}

    # -- constructors -------------------------------------------------------
    @staticmethod
    def const(c: int) -> "Poly":
        return Poly({(): int(c)})

    @staticmethod
    def sym(name: str) -> "Poly":
        return Poly({(name,): 1})

    # -- arithmetic ---------------------------------------------------------
    def __add__(self, other: "Poly | int") -> "Poly":
        other = _lift(other)
        t = dict(self.terms)
        for k, v in other.terms.items():
            t[k] = t.get(k, 0) + v
        return Poly(t)

    __radd__ = __add__

    def __neg__(self) -> "Poly":
        return Poly({k: -v for k, v in self.terms.items()})

    def __sub__(self, other: "Poly | int") -> "Poly":
        return self + (-_lift(other))

    def __rsub__(self, other: "Poly | int") -> "Poly":
        return _lift(other) - self

    def __mul__(self, other: "Poly | int") -> "Poly":
        other = _lift(other)
        t: dict[tuple, int] = {}
        for k1, v1 in self.terms.items():
            for k2, v2 in other.terms.items():
                k = tuple(sorted(k1 + k2))
                t[k] = t.get(k, 0) + v1 * v2
        return Poly(t)

    __rmul__ = __mul__

    def __eq__(self, other) -> bool:
        if isinstance(other, int):
            other = Poly.const(other)
        return isinstance(other, Poly) and self.terms == other.terms

    def __hash__(self) -> int:
        return hash(frozenset(self.terms.items()))

    # -- queries ------------------------------------------------------------
    def is_const(self) -> bool:
        return all(k == () for k in self.terms)

    @property
    def constant(self) -> int:
        return self.terms.get((), 0)

    def symbols(self) -> set[str]:
        return {s for k in self.terms for s in k}

    def degree_in(self, var: str) -> int:
        return max((k.count(var) for k in self.terms), default=0)

    def coeff(self, var: str) -> "Poly":
        """Coefficient of `var` (assumes degree <= 1 in var)."""
        t = {}
        for k, v in self.terms.items():
            if var in k:
                lst = list(k)
                lst.remove(var)
                t[tuple(lst)] = t.get(tuple(lst), 0) + v
        return Poly(t)

    def drop(self, var: str) -> "Poly":
        """The part of the polynomial that does not mention var."""
        return Poly({k: v for k, v in self.terms.items() if var not in k})

    def subs(self, var: str, value: "Poly") -> "Poly":
        out = Poly()
        for k, v in self.terms.items():
            n = k.count(var)
            rest = Poly({tuple(s for s in k if s != var): v})
            for _ in range(n):
                rest = rest * value
            out = out + rest
        return out

    def content(self) -> int:
        g = 0
        for v in self.terms.values():
            g = gcd(g, abs(v))
        return g

    def exact_div(self, k: int) -> "Poly | None":
        if k == 0 or any(v % k for v in self.terms.values()):
            return None
        return Poly({m: v // k for m, v in self.terms.items()})

    def nonneg(self, nonneg_syms: Iterable) -> bool:
        """True when provably >= 0 given that every symbol in nonneg_syms is >= 0.

        nonneg_syms may also hold Poly facts F, each meaning F >= 0 (`lda - n` for a leading dimension
        checked at run time, `incx - 1` for a stride): a fact `s + R >= 0` with s of coefficient 1 is used
        by writing s as t - R, t a fresh non-negative symbol, before the term-by-term test."""
        ok = {s for s in nonneg_syms if isinstance(s, str)}
        if self._nonneg_plain(ok):
            return True
        facts = [f for f in nonneg_syms if isinstance(f, Poly)]
        if not facts:
            return False
        p = self
        for k, f in enumerate(facts):
            for s in sorted(f.symbols()):
                if s in p.symbols() and f.degree_in(s) == 1 and f.coeff(s) == Poly.const(1):
                    t = f"#fact{k}"
                    p = p.subs(s, Poly.sym(t) - (f - Poly.sym(s)))
                    ok.add(t)
                    break
        return p is not self and p._nonneg_plain(ok)

    def _nonneg_plain(self, ok: set) -> bool:
        for k, v in self.terms.items():
            if k == ():
                if v < 0:
                    return False
            elif v < 0 or any(s not in ok for s in k):
                return False
        return True

    def positive(self, nonneg_syms: Iterable) -> bool:
        # integer-valued: p > 0 exactly when p - 1 >= 0
        return (self - 1).nonneg(nonneg_syms)

    # -- printing -----------------------------------------------------------
    def render(self, name: Callable[[str], str] = str, mul: str = "*") -> str:
        if not self.terms:
            return "0"
        parts = []
        for k in sorted(self.terms, key=lambda m: (-len(m), m)):
            v = self.terms[k]
            if k == ():
                body = str(abs(v))
            else:
                syms = mul.join(name(s) for s in k)
                body = syms if abs(v) == 1 else f"{abs(v)}{mul}{syms}"
            parts.append(("-" if v < 0 else "+", body))
        out = ("-" if parts[0][0] == "-" else "") + parts[0][1]
        for sign, body in parts[1:]:
            out += f" {sign} {body}"
        return out

    def __repr__(self) -> str:
        return f"Poly({self.render()})"


def _lift(x) -> Poly:
    return x if isinstance(x, Poly) else Poly.const(int(x))

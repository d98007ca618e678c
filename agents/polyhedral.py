"""Dependence analysis on the polyhedral model (isl, through islpy).

The tree-sitter front end (paralift.agents.frontend) finds loops and affine
subscripts; this module turns a *band* of perfectly nested canonical loops
into isl objects and answers legality questions exactly:

* the iteration domain of the band (loop variables of enclosing loops and
  loop-invariant scalars become isl parameters, so a band inside a
  sequential time loop is analysed for one time step);
* one access relation per array access in the band body (the body is one
  statement; loops inside the body are existentially quantified, so their
  accesses are may-accesses: a safe over-approximation);
* memory-based dependences (flow, anti and output): pairs of instances that
  touch the same element, at least one writing, the source first in the
  original lexicographic order;
* legality of any affine schedule of the band (a permutation, a tiling, a
  skew): every dependence must stay lexicographically positive in schedule
  time; a schedule dimension is parallel when no dependence is carried by it.

Linearized subscripts (A[i*n + j]) are delinearized by grouping the terms by
their parameter monomial (i*n + j -> A[i][j] with extent n for the inner
dimension); the grouping is used only when isl proves every inner subscript
stays within its extent over the whole domain, otherwise the band is refused.

Aliasing follows paralift.agents.analysis: const pointer inputs do not
overlap written arrays; non-const pointers of one element type may alias
(they share one isl array) unless declared restrict.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import permutations

import islpy as isl

from .frontend import Loop
from .poly import Poly


class NotAffine(Exception):
    """The band is outside what the polyhedral model handles (one line)."""


def _iname(key: str) -> str:
    return "v_" + re.sub(r"[^A-Za-z0-9_]", "_", key).replace("'", "_")


def _render(p: Poly, names: dict[str, str]) -> str:
    """An affine Poly as isl text (every monomial of degree <= 1)."""
    out = ""
    for mono, c in sorted(p.terms.items()):
        if len(mono) > 1:
            raise NotAffine(f"non-affine term {Poly({mono: c})}")
        mag = abs(c)
        term = str(mag) if not mono else (names[mono[0]] if mag == 1 else f"{mag}*{names[mono[0]]}")
        out += (" - " if c < 0 else (" + " if out else "")) + term if out or c >= 0 else "-" + term
    return out or "0"


@dataclass
class Access:
    array: str                      # isl tuple name (the alias group)
    write: bool
    groups: dict                    # param monomial (tuple) -> Poly over loop variables (+ params)
    inner: list                     # inner loops (inside the band body) the access sits in
    line: int
    rel: isl.Map | None = None
    byte: int = -1                  # where the access is in the source (which statement it belongs to)


@dataclass
class Band:
    """A chain of perfectly nested canonical loops and its polyhedral model."""
    loops: list[Loop]
    vars: list[str]                 # decl keys of the band loop variables, outermost first
    params: list[str]               # decl keys treated as isl parameters
    names: dict[str, str]           # decl key -> isl name
    domain: isl.Set
    accesses: list[Access]
    deps: isl.Map                   # S[x] -> S[y], memory-based, x before y
    context: isl.Set

    @property
    def depth(self) -> int:
        return len(self.loops)

    @property
    def param_text(self) -> str:
        return "[" + ", ".join(self.names[p] for p in self.params) + "]"

    # -- dependences ----------------------------------------------------------
    def distances(self) -> isl.Set:
        """The set of dependence distance vectors (y - x) over the band loops."""
        return self.deps.deltas()

    def schedule(self, text: str) -> isl.Map:
        """`text` is the body of an isl map from S[v0..] (the band's loop
        variables, in order) to a schedule tuple, e.g. "[v1, v0]"."""
        ins = ", ".join(f"x{k}" for k in range(self.depth))
        s = isl.Map(f"{self.param_text} -> {{ S[{ins}] -> {text} }}")
        return s.intersect_domain(self.domain)

    def schedule_deltas(self, sched: isl.Map) -> isl.Set:
        return self.deps.apply_domain(sched).apply_range(sched).deltas()

    def legal(self, sched: isl.Map) -> bool:
        """Every dependence stays lexicographically positive under `sched`."""
        d = self.schedule_deltas(sched)
        if d.is_empty():
            return True
        n = d.dim(isl.dim_type.set)
        zero = isl.Set.universe(d.get_space())
        for k in range(n):
            zero = zero.fix_val(isl.dim_type.set, k, isl.Val.zero(d.get_ctx()))
        pos = _lex_pos(d.get_space())
        return d.is_subset(pos) and zero.intersect(d).is_empty()

    def parallel_dims(self, sched: isl.Map) -> list[bool]:
        """For each schedule dimension: True when no dependence is carried by it."""
        d = self.schedule_deltas(sched)
        n = sched.dim(isl.dim_type.out)
        out = []
        for k in range(n):
            if d.is_empty():
                out.append(True)
                continue
            prefix = d
            for j in range(k):
                prefix = prefix.fix_val(isl.dim_type.set, j, isl.Val.zero(d.get_ctx()))
            nonzero = prefix.subtract(prefix.fix_val(isl.dim_type.set, k, isl.Val.zero(d.get_ctx())))
            out.append(nonzero.is_empty())
        return out

    # -- the classical questions --------------------------------------------
    def permutation_schedule(self, perm: tuple[int, ...]) -> isl.Map:
        return self.schedule("[" + ", ".join(f"x{p}" for p in perm) + "]")

    def is_parallel(self, k: int) -> bool:
        """Loop k of the band (original order) carries no dependence."""
        return self.parallel_dims(self.permutation_schedule(tuple(range(self.depth))))[k]

    def interchange_legal(self, perm: tuple[int, ...]) -> bool:
        """The band may run in the loop order `perm` (perm[0] outermost)."""
        return self.legal(self.permutation_schedule(tuple(perm)))

    def permutable(self) -> bool:
        """Every distance is componentwise >= 0: any permutation and
        rectangular tiling of the band is legal."""
        d = self.distances()
        if d.is_empty():
            return True
        nonneg = isl.Set.universe(d.get_space())
        for k in range(self.depth):
            nonneg = nonneg.lower_bound_val(isl.dim_type.set, k, isl.Val.zero(d.get_ctx()))
        return d.is_subset(nonneg)

    def legal_permutations(self) -> list[tuple[int, ...]]:
        return [p for p in permutations(range(self.depth)) if self.interchange_legal(p)]

    def tile_schedule(self, perm: tuple[int, ...], sizes: tuple[int, ...]) -> isl.Map:
        tiles = ", ".join(f"floor(x{p}/{s})" for p, s in zip(perm, sizes))
        points = ", ".join(f"x{p}" for p in perm)
        return self.schedule(f"[{tiles}, {points}]")

    def tiling_legal(self, perm: tuple[int, ...], sizes: tuple[int, ...]) -> bool:
        return self.legal(self.tile_schedule(perm, sizes))

    def distribution_cut_legal(self, cut: int) -> bool:
        """The band's body may be split after byte `cut` into two copies of the
        band, the first running every instance of the statements before the
        cut: no statement after the cut touches, at some iteration, an element
        that a statement before it touches at a later iteration (one of the
        two writing)."""
        later = self.domain.lex_lt_set(self.domain)       # x -> y, x strictly before y
        for a in self.accesses:                           # a after the cut, at x
            if a.byte < cut:
                continue
            for b in self.accesses:                       # b before the cut, at y > x
                if b.byte >= cut or a.array != b.array or not (a.write or b.write):
                    continue
                if a.rel.dim(isl.dim_type.out) != b.rel.dim(isl.dim_type.out):
                    return False
                if not a.rel.apply_range(b.rel.reverse()).intersect(later).intersect_params(self.context).is_empty():
                    return False
        return True


def _lex_pos(space: isl.Space) -> isl.Set:
    n = space.dim(isl.dim_type.set)
    names = [f"d{k}" for k in range(n)]
    disj = []
    for k in range(n):
        conds = [f"{names[j]} = 0" for j in range(k)] + [f"{names[k]} > 0"]
        disj.append("(" + " and ".join(conds) + ")")
    params = [space.get_dim_name(isl.dim_type.param, k) for k in range(space.dim(isl.dim_type.param))]
    s = isl.Set(f"[{', '.join(params)}] -> {{ [{', '.join(names)}] : {' or '.join(disj) or 'false'} }}")
    return s.align_params(space.params()) if hasattr(s, "align_params") else s


# --------------------------------------------------------------------- building

def perfect_band(loop: Loop) -> list[Loop]:
    """`loop` and the loops perfectly nested in it (each the only statement
    of its parent's body)."""
    band = [loop]
    while True:
        L = band[-1]
        body = L.body
        inner = None
        if body is not None:
            stmts = [c for c in body.named_children if c.type != "comment"] if body.type == "compound_statement" else [body]
            if len(stmts) == 1 and stmts[0].type == "for_statement":
                inner = next((c for c in L.children if c.node.id == stmts[0].id), None)
        if inner is None or not _canonical(inner):
            return band
        band.append(inner)


def _canonical(L: Loop) -> bool:
    return (L.kind == "for" and L.canonical and L.step == 1 and L.var is not None and L.range_of is None
            and not L.while_form and L.lower is not None and L.upper is not None)


def build_band(model, loops: list[Loop], alias_group=None) -> Band:
    """The polyhedral model of `loops` (a perfect band, outermost first)."""
    if not loops or not all(_canonical(L) for L in loops):
        raise NotAffine("the loops are not canonical for loops with unit step")
    top, last = loops[0], loops[-1]
    body = last.body
    band_vars = [L.var.key for L in loops]
    loop_keys = set(band_vars)
    for L in model.loops:
        if top.encloses(L) and L not in loops:
            if not _canonical(L):
                raise NotAffine(f"inner loop at line {L.line} is not a canonical for loop")
            loop_keys.add(L.var.key)
    for b in model.blockers:
        if top.contains(b.node):
            raise NotAffine(b.reason)
    for c in model.calls:
        if top.contains(c.node) and not c.pure:
            raise NotAffine(f"call to '{c.name}'")
    for j in model.jumps:
        if top.contains(j[1]):
            raise NotAffine(f"{j[0]} inside the loops")
    written_scalars: set[str] = set()
    for e in model.events:
        if not top.contains(e.node) or e.is_array or not e.write:
            continue
        if e.decl.key in loop_keys:
            # the loop's own update is in the loop header, not its body
            Lv = next((L for L in model.loops if L.var is e.decl and top.encloses(L)), None)
            if Lv is not None and Lv.body is not None and Lv.body.start_byte <= e.node.start_byte < Lv.body.end_byte:
                raise NotAffine(f"loop variable '{e.decl.name}' is written in the loop body")
            continue
        written_scalars.add(e.decl.key)

    def declared_inside(d) -> bool:
        return d.node is not None and not d.is_param and body.start_byte <= d.node.start_byte < body.end_byte

    params: list[str] = []
    outer: list[Loop] = []
    P = top.parent
    while P is not None:
        if _canonical(P):
            outer.insert(0, P)
        P = P.parent
    for P in outer:
        if P.var.key not in written_scalars and P.var.key not in loop_keys:
            params.append(P.var.key)
    outer_keys = set(params)

    def use(p: Poly | None, what: str) -> Poly:
        if p is None:
            raise NotAffine(f"{what} is not affine")
        p = model.expand(p)
        if p is None:
            raise NotAffine(f"{what} is not affine")
        for s in p.symbols():
            if s in loop_keys:
                continue
            d = model.decl_by_key(s)
            if s in written_scalars or (d is not None and (d.is_array or declared_inside(d))):
                raise NotAffine(f"{what} depends on '{s}', which changes inside the loops")
            if s not in params:
                params.append(s)
        return p

    bounds = {}
    for L in model.loops:
        if top.encloses(L):
            bounds[L.var.key] = (use(L.lower, f"lower bound of the loop at line {L.line}"),
                                 use(L.upper, f"upper bound of the loop at line {L.line}"), L)
    outer_polys = []
    for P in outer:
        if P.var.key in outer_keys:
            try:
                outer_polys.append((P, use(P.lower, "outer bound"), use(P.upper, "outer bound")))
            except NotAffine:
                pass
    accesses: list[Access] = []
    group_of = alias_group or (lambda d: d.key)
    for e in model.events:
        if not (body.start_byte <= e.node.start_byte < body.end_byte):
            continue
        d = e.decl
        if d.key in loop_keys or declared_inside(d):
            continue
        inner = [L for L in e.loops if top.encloses(L) and L not in loops]
        if e.is_array:
            if e.index is None and d.kind != "scalar":
                raise NotAffine(f"'{d.name}' is used as a whole at line {e.line}")
            p = use(e.poly, f"subscript of '{d.name}' at line {e.line}")
            groups = _delinearize(p, loop_keys | outer_keys)
            arr = _iname(group_of(d))
        else:
            if d.key not in written_scalars:
                continue            # a loop-invariant scalar read
            if e.index is not None:
                continue
            groups, arr = {}, _iname(d.key) + "_scalar"
        if e.write:
            accesses.append(Access(arr, True, groups, inner, e.line, byte=e.node.start_byte))
        if e.read or not e.write:
            accesses.append(Access(arr, False, groups, inner, e.line, byte=e.node.start_byte))
    names = {k: _iname(k) for k in list(loop_keys) + params}
    ptext = "[" + ", ".join(names[p] for p in params) + "]"
    bvars = [f"x{k}" for k in range(len(loops))]
    sub = {L.var.key: f"x{k}" for k, L in enumerate(loops)}
    dom_names = dict(names)
    dom_names.update(sub)
    cons = []
    for k, L in enumerate(loops):
        lo, hi, _ = bounds[L.var.key]
        cons.append(f"{_render(lo, dom_names)} <= x{k} <= {_render(hi, dom_names)}")
    domain = isl.Set(f"{ptext} -> {{ S[{', '.join(bvars)}] : {' and '.join(cons) or 'true'} }}")
    # the analysis' assumption: scalar parameters that bound loops are non-negative
    in_bounds = set()
    for lo, hi, _ in bounds.values():
        in_bounds |= lo.symbols() | hi.symbols()
    pos_params = " and ".join(f"{names[p]} >= 0" for p in params
                              if p in in_bounds and model.decl_by_key(p) is not None and model.decl_by_key(p).is_param)
    outer_cons = []
    for P, lo, hi in outer_polys:
        try:
            outer_cons.append(f"{_render(lo, names)} <= {names[P.var.key]} <= {_render(hi, names)}")
        except NotAffine:
            pass
    ctx = " and ".join([c for c in [pos_params] if c] + outer_cons)
    context = isl.Set(f"{ptext} -> {{ : {ctx or 'true'} }}")
    # array shapes: the union of the parameter monomials used for each array
    shapes: dict[str, list[tuple]] = {}
    for a in accesses:
        ks = shapes.setdefault(a.array, [])
        for k in a.groups:
            if k not in ks:
                ks.append(k)
    for arr, ks in shapes.items():
        ks.sort(key=lambda m: (-len(m), m))
        if not ks or ks[-1] != ():
            ks.append(())
        for outer, inner_k in zip(ks, ks[1:]):
            if not _divides(inner_k, outer):
                raise NotAffine(f"array '{arr}': subscript terms {outer} and {inner_k} do not nest")
    for a in accesses:
        ks = shapes[a.array]
        ex = []
        for L in a.inner:
            lo, hi, _ = bounds[L.var.key]
            ex.append(f"{_render(lo, dom_names)} <= {names[L.var.key]} <= {_render(hi, dom_names)}")
        outs = [f"a{k}" for k in range(len(ks))]
        eqs = []
        for k, m in enumerate(ks):
            eqs.append(f"a{k} = {_render(a.groups.get(m, Poly.const(0)), dom_names)}")
        # inner dimensions must stay inside their extent for the grouping to be exact
        checks = []
        for k in range(1, len(ks)):
            ext = _quotient(ks[k - 1], ks[k])
            checks.append((k, " * ".join(names[s] for s in ext) if ext else "1"))
        inner_vars = [names[L.var.key] for L in a.inner]
        cond = " and ".join(ex + eqs)
        if inner_vars:
            cond = f"exists ({', '.join(inner_vars)} : {cond})"
        rel = isl.Map(f"{ptext} -> {{ S[{', '.join(bvars)}] -> {a.array}[{', '.join(outs)}] : {cond} }}")
        rel = rel.intersect_domain(domain)
        for k, ext in checks:
            bad = isl.Map(f"{ptext} -> {{ S[{', '.join(bvars)}] -> {a.array}[{', '.join(outs)}] : "
                          f"a{k} < 0 or a{k} >= {ext} }}")
            if not rel.intersect(bad).intersect_params(context).is_empty():
                raise NotAffine(f"cannot delinearize the subscript of '{a.array}' at line {a.line}")
        a.rel = rel
    before = domain.lex_lt_set(domain)
    deps = isl.Map.empty(before.get_space())
    for a in accesses:
        for b in accesses:
            if a.array != b.array or not (a.write or b.write):
                continue
            if a.rel.dim(isl.dim_type.out) != b.rel.dim(isl.dim_type.out):
                continue
            r = a.rel.apply_range(b.rel.reverse()).intersect(before)
            deps = deps.union(r).coalesce()
    return Band(loops, band_vars, params, names, domain, accesses, deps.intersect_params(context), context)


def _delinearize(p: Poly, loop_keys: set[str]) -> dict:
    """Group the terms of an affine-in-loop-variables subscript by their
    parameter monomial: i*n + j - n -> {(n,): i - 1, (): j}."""
    groups: dict[tuple, Poly] = {}
    loose: dict[tuple, int] = {}
    for mono, c in p.terms.items():
        lv = [s for s in mono if s in loop_keys]
        pm = tuple(s for s in mono if s not in loop_keys)
        if len(lv) > 1:
            raise NotAffine(f"subscript {p} is not affine in the loop variables")
        if lv:
            groups[pm] = groups.get(pm, Poly.const(0)) + Poly({(lv[0],): c})
        else:
            loose[pm] = loose.get(pm, 0) + c
    for pm, c in loose.items():
        if pm in groups and pm:
            groups[pm] = groups[pm] + c
        elif len(pm) <= 1:
            groups[()] = groups.get((), Poly.const(0)) + Poly({pm: c})
        else:
            raise NotAffine(f"subscript {p} has the non-affine term {Poly({pm: c})}")
    return {k: v for k, v in groups.items()}


def _divides(small: tuple, big: tuple) -> bool:
    rest = list(big)
    for s in small:
        if s not in rest:
            return False
        rest.remove(s)
    return True


def _quotient(big: tuple, small: tuple) -> tuple:
    rest = list(big)
    for s in small:
        rest.remove(s)
    return tuple(rest)


# ----------------------------------------------------------------- convenience

def bands_of(model, alias_group=None) -> list[tuple[Band | None, list[Loop], str]]:
    """Every perfect band rooted at a loop of the function: (band or None,
    its loops, the reason when None)."""
    out = []
    for L in model.loops:
        if not _canonical(L):
            continue
        loops = perfect_band(L)
        try:
            out.append((build_band(model, loops, alias_group), loops, ""))
        except NotAffine as e:
            out.append((None, loops, str(e)))
    return out


def analyze_source(source: str, language: str, function: str) -> list[dict]:
    """A JSON-able summary of every band of `function`: loops, distance
    vectors, parallel loops, legal loop orders, permutability."""
    from .analysis import analyze
    fx = analyze(source, language, function)
    groups = fx.alias_groups
    res = []
    for band, loops, why in bands_of(fx.model, lambda d: groups.get(d.key, d.key)):
        item = {"lines": [L.line for L in loops], "vars": [L.var.name for L in loops]}
        if band is None:
            item["affine"] = False
            item["reason"] = why
        else:
            item.update(affine=True, distances=band.distances().to_str(),
                        parallel=[band.is_parallel(k) for k in range(band.depth)],
                        permutable=band.permutable(),
                        legal_orders=[list(p) for p in band.legal_permutations()] if band.depth <= 4 else None)
        res.append(item)
    return res


__all__ = ["Access", "Band", "NotAffine", "analyze_source", "bands_of", "build_band", "perfect_band"]

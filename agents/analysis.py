"""Analysis of one C/C++ function: signatures, loops, dependences, reductions,
privatization, array extents, parameter roles and value constraints.

Public API: detect_language, list_functions, build_task (and `analyze`, which
returns the in-memory facts the code generators use).

Assumptions (documented in the analysis dict under "assumptions"):
* scalar parameters that bound loops or sizes are non-negative;
* pointer parameters of the same element type (without `restrict`, `const`
  or not) may point into the same array: a loop whose parallel execution
  needs two of them apart records the pair (LoopFacts.alias_checks) and the
  translation checks their accessed ranges at entry, running the sequential
  code when they overlap (DESIGN.md §3);
* distinct std::vector parameters are distinct objects;
* a std::vector whose .size() is used gets the free size token "N" (the one
  free size the input generator picks); several such vectors share it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from paralift.types import Param, ParamKind, Role, Signature, Target, Task, ValueKind, ValueSpec

from .base import AnalysisError
from .dependence import DependenceTester
from .frontend import (FLOAT_TYPES, INTEGER_TYPES, Decl, Event, FunctionModel, Loop, Unit, atom_info,
                       atom_nonneg, atom_symbols, detect_language, if_argminmax_shape, is_unsigned, line_of,
                       load_unit, parse_params, signature_of, text)
from .frontend import _strip
from .poly import Poly
from .unit import is_nested

__all__ = ["detect_language", "list_functions", "build_task", "analyze", "FunctionFacts", "LoopFacts"]


# ---------------------------------------------------------------------------
# facts
# ---------------------------------------------------------------------------

@dataclass(eq=False)
class LoopFacts:
    loop: Loop
    parallel: bool = False
    reason: str = ""
    reductions: dict = field(default_factory=dict)        # Decl -> op  (scalars)
    array_reductions: dict = field(default_factory=dict)  # Decl -> op
    private: list = field(default_factory=list)           # Decl
    lastprivate: list = field(default_factory=list)       # Decl
    varying: bool = False          # per-iteration work varies (triangular, while, data-dependent bounds)
    collapse: int = 1              # 2 when the perfectly nested child is parallel and rectangular
    simd: bool = False             # innermost loop where `omp simd` helps (float reductions)
    arrays_written: list = field(default_factory=list)    # Decl
    arrays_read: list = field(default_factory=list)       # Decl
    scalars_read: list = field(default_factory=list)      # Decl (declared outside the loop)
    # pairs of distinct pointer parameters the loop is parallel only if they do not overlap: the code
    # generators check their accessed ranges at entry and run the sequential code when they do
    alias_checks: set = field(default_factory=set)        # {(Decl, Decl)}, ordered by name
    # the subset that conflicts even when the two pointers are equal (an in-place call): for the others,
    # `f(n, a, a)` is as parallel as separate arrays and only a shifted overlap needs the sequential code
    alias_equal_unsafe: set = field(default_factory=set)
    # `if (v < best) { best = v; idx = i; }`: (best Decl, idx Decl, "min"|"max", the if node); the parallel
    # loop keeps per-thread (best, idx) pairs merged by value, then lowest index (the sequential answer)
    argminmax: tuple | None = None
    # a prefix sum (agents/scan.py): the loop is parallel in two passes, once its running scalar is known
    # per block; parallel stays False (no other generator knows the pattern) and scan_ok says the rest of
    # the loop passed every check
    scan: object = None
    scan_ok: bool = False

    def to_json(self, fx: "FunctionFacts") -> dict:
        lp = self.loop
        bounds = None
        if lp.kind == "for" and lp.var is not None and lp.canonical and (
                lp.range_of is not None or (lp.init_node is not None and lp.bound_node is not None)):
            bounds = [lp.init_text(), f"{lp.cond_op} {lp.bound_text()}", lp.step]
        return {
            "line": lp.line, "kind": lp.kind, "var": lp.var.name if lp.var else None, "depth": lp.depth,
            "bounds": bounds, "parallel": self.parallel, "reason": self.reason,
            "reductions": [{"var": d.name, "op": op} for d, op in self.reductions.items()]
            + [{"var": d.name, "op": op, "array": True} for d, op in self.array_reductions.items()],
            "private": [d.name for d in self.private], "lastprivate": [d.name for d in self.lastprivate],
            "schedule": "guided" if self.varying else "static", "collapse": self.collapse, "simd": self.simd,
            "writes": [d.name for d in self.arrays_written],
            "alias_checks": sorted([a.name, b.name] for a, b in self.alias_checks),
            "alias_equal_ok": sorted([a.name, b.name] for a, b in self.alias_checks - self.alias_equal_unsafe),
            "argminmax": None if self.argminmax is None else {
                "op": self.argminmax[2], "value": self.argminmax[0].name, "index": self.argminmax[1].name},
            "scan": self.scan.decl.name if self.scan_ok else None,
        }


@dataclass(eq=False)
class FunctionFacts:
    unit: Unit
    model: FunctionModel
    signature: Signature
    loops: dict = field(default_factory=dict)     # Loop -> LoopFacts
    parallel: bool = False
    reason: str = ""
    extents: dict = field(default_factory=dict)   # param name -> Poly | str (rendered)
    extent_polys: dict = field(default_factory=dict)  # param name -> Poly (when a single poly)
    size_tokens: dict = field(default_factory=dict)   # vector name -> free size token
    row_extents: dict = field(default_factory=dict)   # nested vector name -> its Param.row_extent
    extent_cands: dict = field(default_factory=dict)  # param name -> [Poly] when the extent is a max(...)
    notes: list = field(default_factory=list)
    alias_groups: dict = field(default_factory=dict)  # decl key -> group key
    # param name -> why its extent is a model of the inputs, not a fact of the code: a subscript built
    # from values read from memory (an index array, CSR offsets) or from a parameter the code never
    # bounds. The tester may size inputs by such an extent (every case is checked on the sequential
    # code under AddressSanitizer first); written code must not rely on it (codegen_common.extent_c)
    data_extents: dict = field(default_factory=dict)
    # param name -> {"proven": [Poly extents of its affine accesses], "terms": [(kind, array or scalar, Poly)]}
    # for a data-dependent extent whose accesses all have a form a run-time scan bounds: "index" -> max of
    # the array's values + Poly + 1, "bound" -> max of the offsets array, "scalar" -> the parameter + 1
    data_ranges: dict = field(default_factory=dict)
    # strides, leading dimensions and offsets of unknown sign (agents/strides.py): facts (Poly >= 0) the
    # extents and dependence tests rely on, which the translation checks at entry (sequential code otherwise)
    value_facts: list = field(default_factory=list)

    def facts(self, loop: Loop) -> LoopFacts:
        return self.loops[loop]

    def chosen_loops(self) -> list[LoopFacts]:
        """Outermost parallel loops (the ones a code generator parallelizes)."""
        out = []

        def visit(lp: Loop):
            f = self.loops[lp]
            if f.parallel:
                out.append(f)
                return
            for ch in lp.children:
                visit(ch)
        for lp in self.model.top_loops():
            visit(lp)
        return out

    def scan_loops(self) -> list[LoopFacts]:
        """Prefix-sum loops (agents/scan.py) not inside any loop: the two-pass translation's."""
        return [self.loops[lp] for lp in self.model.loops if self.loops[lp].scan_ok and lp.parent is None]

    def alias_checks(self) -> list[tuple[Decl, Decl]]:
        """Pointer parameter pairs the parallel code needs apart (chosen and scan loops and the loops inside them)."""
        pairs: set = set()
        for f in self.scan_loops():
            pairs |= f.alias_checks
        for f in self.chosen_loops():
            pairs |= f.alias_checks
            for lp in self.model.loops:
                if lp is not f.loop and f.loop.encloses(lp) and self.loops[lp].parallel:
                    pairs |= self.loops[lp].alias_checks
        return sorted(pairs, key=lambda p: (p[0].name, p[1].name))

    def alias_equal_safe(self) -> set:
        """The pairs of alias_checks() whose parallel loops are right for equal pointers (an in-place call):
        only an overlap at another offset needs the sequential code. Not for CUDA, whose device copies of
        the two arguments are separate arrays whatever the host pointers are."""
        unsafe: set = set()
        for f in self.scan_loops():
            # the first pass reads the increments before the loop runs: `offset[i] = total; total +=
            # count[i];` called in place reads the value just written, which that pass cannot see
            unsafe |= f.alias_checks
        for f in self.chosen_loops():
            unsafe |= f.alias_equal_unsafe
            for lp in self.model.loops:
                if lp is not f.loop and f.loop.encloses(lp) and self.loops[lp].parallel:
                    unsafe |= self.loops[lp].alias_equal_unsafe
        return set(self.alias_checks()) - unsafe

    def _name(self, key: str) -> str:
        d = self.model.decl_by_key(key)
        return d.name if d is not None else key

    def to_json(self) -> dict:
        return {
            "function": self.signature.name,
            "parallel": self.parallel,
            "reason": self.reason,
            "loops": [self.loops[lp].to_json(self) for lp in self.model.loops],
            "extents": {k: v for k, v in self.extents.items()},
            "data_dependent_extents": dict(self.data_extents),
            "size_tokens": dict(self.size_tokens),
            "runtime_checks": [f.describe(self._name) for f in self.value_facts],
            "notes": list(self.notes),
            "assumptions": [
                "scalar parameters that bound loops are non-negative",
                "pointer parameters of one element type may overlap unless restrict: where a parallel loop "
                "needs two apart, the translation checks their ranges at entry and runs the sequential code "
                "when they overlap",
                "distinct std::vector parameters are distinct objects",
            ],
        }


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------

def list_functions(source: str, language: str) -> list[Signature]:
    """Every free function definition in the file (parameters as declared;
    unsupported parameter types give an empty parameter list here)."""
    unit = load_unit(source, language)
    out = []
    for name, fn in unit.functions.items():
        out.append(signature_of(unit, fn, name, strict=False))
    out.sort(key=lambda s: s.start_line)
    return out


_CACHE: dict = {}


def analyze(source: str, language: str, function: str) -> FunctionFacts:
    key = (source, language, function)
    if key in _CACHE:
        return _CACHE[key]
    if language == "cpp":
        # std::accumulate, std::transform, ...: analysed (and translated) as the loops they stand for
        from .stl_rewrite import NOTE, rewrite
        looped = rewrite(source, language, function)
        if looped is not None:
            fx = analyze(looped, language, function)
            if NOTE not in fx.notes:
                fx.notes.append(NOTE)
            _CACHE[key] = fx
            return fx
    unit = load_unit(source, language)
    if function not in unit.functions and language == "cpp":
        # a function template (its instantiation's types) or a member function (its fields as parameters)
        from .cpp_members import attach, rewrite_for
        rw = rewrite_for(source, language, function, unit)
        if rw is not None:
            try:
                fx = analyze(rw.source, language, rw.function)
            except AnalysisError as e:
                raise AnalysisError(f"{e} ({rw.describe()})") from None
            attach(fx, rw)
            _CACHE[key] = fx
            return fx
    if function in unit.templates:
        raise AnalysisError(f"function '{function}' is a C++ template, which the analysis does not support")
    if function not in unit.functions:
        if function in unit.methods or any(m.endswith("::" + function) for m in unit.methods):
            raise AnalysisError(f"function '{function}' is a class member function, which the analysis does not support")
        names = ", ".join(sorted(unit.functions)) or "none"
        raise AnalysisError(f"function '{function}' not found (functions defined: {names})")
    count = sum(1 for n in _all_function_names(unit.root) if n == function)
    if count > 1:
        raise AnalysisError(f"function '{function}' is defined more than once (overloads are not supported)")
    fn = unit.functions[function]
    infos, _ret = parse_params(unit, fn, function)
    model = FunctionModel(unit, fn, function, infos)
    sig = signature_of(unit, fn, function)
    sig.params = [i.param for i in infos]
    fx = FunctionFacts(unit=unit, model=model, signature=sig)
    _Analyzer(fx).run()
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[key] = fx
    return fx


def _all_function_names(root: Node):
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "function_definition":
            d = n.child_by_field_name("declarator")
            while d is not None and d.type != "function_declarator":
                d = d.child_by_field_name("declarator")
            if d is not None:
                yield text(d.child_by_field_name("declarator"))
            continue
        stack.extend(n.named_children)


def build_task(source: str, language: str, function: str, target: Target | None = None,
               path: str | None = None) -> Task:
    if language not in ("c", "cpp"):
        raise AnalysisError(f"unknown language {language!r} (expected 'c' or 'cpp')")
    fx = analyze(source, language, function)
    if "pointer dereference" in fx.reason and "++" in fx.reason:
        # pointer walks: the extents (what the tests allocate) are those of the indexed form
        from . import pointer_walk
        walked = pointer_walk.rewrite(source, language, function)
        if walked is not None:
            try:
                fx = analyze(walked, language, function)
            except AnalysisError:
                pass
    return Task(source=source, language=language, signature=getattr(fx, "task_signature", None) or fx.signature,
                target=target, path=path,
                analysis=fx.to_json())


# ---------------------------------------------------------------------------
# the analyzer
# ---------------------------------------------------------------------------

class _Analyzer:
    def __init__(self, fx: FunctionFacts):
        self.fx = fx
        self.m = fx.model
        self.size_params: set[str] = set()
        self.facts: list[Poly] = []

    def run(self) -> None:
        m = self.m
        self._size_params()
        self._alias_groups()
        from .strides import value_facts
        self.fx.value_facts = value_facts(m, self._nonneg_keys(), INTEGER_TYPES)
        self.facts = [f.fact for f in self.fx.value_facts]
        self.dep = DependenceTester(m, self._nonneg_keys())
        for lp in m.loops:
            self.fx.loops[lp] = self._loop(lp)
        for lp in m.loops:
            self._refine(self.fx.loops[lp])
        self._params()
        chosen = self.fx.chosen_loops()
        if not m.loops:
            self.fx.parallel, self.fx.reason = False, "the function has no loops"
            if m.blockers:      # e.g. a standard algorithm call the rewrite did not understand: name it
                self.fx.reason += f" ({m.blockers[0].reason})"
        elif not chosen:
            first = self.fx.loops[m.loops[0]]
            self.fx.parallel = False
            self.fx.reason = first.reason or "no loop can be parallelized"
            for lp in m.loops:
                f = self.fx.loops[lp]
                if f.reason and lp.kind == "for":
                    self.fx.reason = f.reason
                    break
        else:
            self.fx.parallel = True
            self.fx.reason = "parallel loop(s) at line(s) " + ", ".join(str(f.loop.line) for f in chosen)

    # -- sizes / aliasing ---------------------------------------------------
    def _size_params(self) -> None:
        for lp in self.m.loops:
            for p in (lp.lower, lp.upper):
                p = self.m.expand(p)
                if p is None:
                    continue
                syms = set()
                for s in p.symbols():
                    syms |= atom_symbols(s) if s.startswith("@") else {s}
                for s in syms:
                    d = self.m.params.get(s)
                    if d is not None and d.kind in ("scalar",) and s != (lp.var.key if lp.var else None):
                        self.size_params.add(s)

        for lp in self.m.loops:
            if lp.kind in ("while", "do"):
                cond = lp.node.child_by_field_name("condition")
                for e in self.m.events:
                    if cond is not None and cond.start_byte <= e.node.start_byte < cond.end_byte:
                        d = e.decl
                        if d.is_param and d.kind == "scalar" and d.base_type in INTEGER_TYPES:
                            self.size_params.add(d.key)

    def _nonneg_keys(self) -> set[str]:
        out = set(self.size_params)
        for d in self.m.params.values():
            if d.kind == "scalar" and d.base_type and is_unsigned(d.base_type):
                out.add(d.key)
        atoms = set()
        for lp in self.m.loops:
            for p in (lp.lower, lp.upper):
                pp = self.m.expand(p)
                if pp is not None:
                    atoms |= {s for s in pp.symbols() if s.startswith("@")}
        for ev in self.m.events:
            pp = self.m.expand(ev.poly)
            if pp is not None:
                atoms |= {s for s in pp.symbols() if s.startswith("@")}
        for a in atoms:
            if atom_nonneg(a, out):
                out.add(a)
        return out | set(self.facts)

    def _alias_groups(self) -> None:
        groups = {}
        for d in self.m.params.values():
            key = d.key
            if d.kind == "pointer" and not d.param.const and not (d.info and d.info.restrict):
                key = f"@alias:{d.base_type}"
            groups[d.key] = key
        self.fx.alias_groups = groups

    def group(self, d: Decl) -> str:
        return self.fx.alias_groups.get(d.key, d.key)

    # -- per loop -----------------------------------------------------------
    def _inside(self, d: Decl, L: Loop) -> bool:
        return d.node is not None and not d.is_param and L.node.start_byte <= d.node.start_byte < L.node.end_byte

    def _loop(self, L: Loop) -> LoopFacts:
        f = LoopFacts(loop=L)
        m = self.m
        evs = [e for e in m.events if L in e.loops]
        f.arrays_written = _uniq(e.decl for e in evs if e.decl.is_array and e.write and not self._inside(e.decl, L))
        f.arrays_read = _uniq(e.decl for e in evs if e.decl.is_array and e.read and not self._inside(e.decl, L))
        f.scalars_read = _uniq(e.decl for e in evs if not e.decl.is_array and e.read and not self._inside(e.decl, L)
                               and e.decl is not L.var)
        f.varying = self._varying(L)
        if L.kind != "for" or not L.canonical:
            f.reason = f"loop at line {L.line}: {L.why_not or 'not a canonical for loop'}"
            return f
        # blockers (calls, exits, unsupported constructs)
        for b in m.blockers:
            if L not in b.loops:
                continue
            if b.target is not None and b.target is not L and L.encloses(b.target) and b.target is not L:
                continue  # a break out of an inner loop
            f.reason = f"loop at line {L.line}: {b.reason}"
            return f
        # loop variable and bound invariance
        body_evs = [e for e in evs if L.body is not None and L.body.start_byte <= e.node.start_byte < L.body.end_byte]
        for e in body_evs:
            if L.skip_stmt is not None and L.skip_stmt.start_byte <= e.node.start_byte < L.skip_stmt.end_byte:
                continue
            if e.decl is L.var and e.write:
                f.reason = f"loop at line {L.line}: loop variable '{L.var.name}' is modified in the body (line {e.line})"
                return f
        written_here = {e.decl for e in evs if e.write}
        bound = L.bound_node
        written_groups = {self.group(d) for d in written_here if d.is_array}
        for e in evs:
            if bound is not None and bound.start_byte <= e.node.start_byte < bound.end_byte and e.decl is not L.var and (
                    e.decl in written_here or (e.decl.is_array and self.group(e.decl) in written_groups)):
                f.reason = f"loop at line {L.line}: loop bound '{text(bound)}' may change inside the loop"
                return f
        if L.var.key in {s for p in (L.lower, L.upper) if p is not None for s in p.symbols()}:
            f.reason = f"loop at line {L.line}: bound depends on the loop variable"
            return f
        # scalars
        by_decl: dict[Decl, list[Event]] = {}
        for e in evs:
            d = e.decl
            if d.is_array or d is L.var or self._inside(d, L):
                continue
            by_decl.setdefault(d, []).append(e)
        inner_vars = {lp.var for lp in m.loops if lp is not L and L.encloses(lp) and lp.var is not None}
        f.argminmax = self._argminmax(L, by_decl)
        for d, lst in by_decl.items():
            if not any(e.write for e in lst):
                continue
            if f.argminmax is not None and d in f.argminmax[:2]:
                continue
            ops = {e.red_op for e in lst}
            if d.kind == "global":
                f.reason = f"loop at line {L.line}: writes global variable '{d.name}'"
                return f
            if None not in ops and len(ops) == 1 and d not in inner_vars:
                op = ops.pop()
                if d.base_type in FLOAT_TYPES and op in ("&", "|", "^"):
                    f.reason = f"loop at line {L.line}: bitwise reduction on floating-point '{d.name}'"
                    return f
                f.reductions[d] = op
                continue
            if d.kind == "ref":
                f.reason = (f"loop at line {L.line}: output parameter '{d.name}' is updated in a way that is "
                            f"not a reduction (line {lst[0].line})")
                return f
            ok, defined_end = privatizable(m, d, L)
            if not ok and f.scan is None and any(e.red_op for e in lst):
                from .scan import shape
                f.scan = shape(m, d, L, lst)
                if f.scan is not None:
                    continue
            if not ok:
                if any(e.red_op for e in lst):
                    what = "its running value is read inside the loop (scan/prefix pattern)"
                elif any(e.conditional_within(L) and e.write for e in lst):
                    what = "conditionally updated, e.g. together with other values (argmax-style)"
                else:
                    what = "read and written across iterations"
                f.reason = (f"loop at line {L.line}: loop-carried dependence on scalar '{d.name}' "
                            f"({what}, line {min(e.line for e in lst)})")
                return f
            if live_after(m, d, L):
                if d in inner_vars:
                    f.reason = f"loop at line {L.line}: inner loop variable '{d.name}' is used after the loop"
                    return f
                if not defined_end:
                    f.reason = (f"loop at line {L.line}: scalar '{d.name}' is assigned conditionally and used "
                                f"after the loop")
                    return f
                f.lastprivate.append(d)
            else:
                f.private.append(d)
        if live_after(m, L.var, L) and not L.var_in_init:
            f.reason = f"loop at line {L.line}: loop variable '{L.var.name}' is used after the loop"
            return f
        # arrays
        reason = self._arrays(L, f, evs, written_here)
        if reason:
            f.reason = f"loop at line {L.line}: {reason}"
            return f
        if f.scan is not None:
            # the two-pass translation carries only the running sum out of its blocks
            others = [d.name for d in list(f.reductions) + list(f.array_reductions) + f.lastprivate]
            if others or f.argminmax is not None:
                f.reason = (f"loop at line {L.line}: loop-carried dependence on scalar '{f.scan.decl.name}' (a prefix "
                            f"sum, next to other values carried out of the loop: {', '.join(others) or 'an argmin'})")
                return f
            f.scan_ok = True
            f.reason = (f"loop at line {L.line}: prefix sum (scan) of '{f.scan.decl.name}' (its running value is "
                        f"read inside the loop): parallel only in two passes")
            return f
        f.parallel = True
        f.reason = ""
        return f

    def _arrays(self, L: Loop, f: LoopFacts, evs: list[Event], written_here: set) -> str:
        # arrays declared inside the loop body are private to an iteration
        arr = [e for e in evs if e.decl.is_array and e.index is not None and not self._inside(e.decl, L)]
        bad_arr = [e for e in evs if e.decl.is_array and e.index is None and not self._inside(e.decl, L)]
        if bad_arr:
            return f"unsupported use of array '{bad_arr[0].decl.name}'"
        written_syms = {d.key for d in written_here if not d.is_array}
        for lp in self.m.loops:
            if lp.var is not None and (lp is L or L.encloses(lp)) and lp.canonical:
                written_syms.discard(lp.var.key)
        # distinct pointer parameters that may share storage: a dependence between two of them exists only
        # when they overlap, which the translation tests at run time (f.alias_checks) instead of giving up.
        # Their relative offset is unknown, so even y[i] = x[i] conflicts across iterations when y = x + 1:
        # every written pair is checked; the dependence test at equal origins says whether an in-place
        # call (y == x) may still take the parallel path.
        groups: dict[str, list[Event]] = {}
        for e in arr:
            groups.setdefault(self.may_alias_group(e.decl), []).append(e)
        for lst in groups.values():
            for w in (e for e in lst if e.write):
                for e in lst:
                    if e.decl is w.decl or (e.write and e.seq < w.seq):
                        continue
                    pair = tuple(sorted((w.decl, e.decl), key=lambda d: d.name))
                    f.alias_checks.add(pair)
                    if pair not in f.alias_equal_unsafe and self.dep.test(L, w, e, written_syms).dependent:
                        f.alias_equal_unsafe.add(pair)
        by_decl: dict[Decl, list[Event]] = {}
        for e in arr:
            by_decl.setdefault(e.decl, []).append(e)
        anti = ""      # an anti-dependence is named only when the loop has no other dependence
        for d, lst in by_decl.items():
            writes = [e for e in lst if e.write]
            dep = None
            for w in writes:
                for e in lst:
                    if e.seq < w.seq and e.write:
                        continue  # each write pair once
                    r = self.dep.test(L, w, e, written_syms)
                    if r.dependent and (dep is None or "anti-dependence" in dep[2].detail):
                        dep = (w, e, r)
                if dep and "anti-dependence" not in dep[2].detail:
                    break
            if dep is None:
                continue
            # array reduction: every access of the array in the loop is `A[..] op= e` with one op
            ops = {e.red_op for e in lst}
            if None not in ops and len(ops) == 1:
                op = ops.pop()
                if op in ("+", "*", "&", "|", "^"):
                    f.array_reductions[d] = op
                    continue
            w, e, r = dep
            if w is e:
                what = f"{_short(w.node)} written by different iterations"
            else:
                what = f"{_short(w.node)} (line {w.line}) and {_short(e.node)} (line {e.line})"
            why = f"loop-carried dependence on {what}: {r.detail}"
            if "anti-dependence" not in r.detail:
                return why
            anti = anti or why
        return anti

    def _argminmax(self, L: Loop, by_decl: dict) -> tuple | None:
        """The one `if (v < best) { best = v; idx = i; }` of L's own body (not inside an inner loop) whose
        best and idx are touched nowhere else in L, for an ascending loop (first occurrence = lowest index)."""
        if L.step <= 0 or L.var is None or L.body is None:
            return None
        found = None
        for n in _walk_nodes(L.body):
            if n.type != "if_statement" or any(lp is not L and L.encloses(lp) and lp.contains(n) for lp in self.m.loops):
                continue
            shape = if_argminmax_shape(n)
            if shape is None or shape["index"] != L.var.name:
                continue
            decls = [next((d for d in by_decl if d.name == shape[k]), None) for k in ("best", "idx")]
            if None in decls or found is not None:
                return None
            if any(d.kind != "scalar" or d.base_type in (None, "auto") for d in decls):
                return None
            if any(not (n.start_byte <= e.node.start_byte < n.end_byte) for d in decls for e in by_decl[d]):
                return None
            found = (decls[0], decls[1], shape["op"], n)
        return found

    def may_alias_group(self, d: Decl) -> str:
        """Pointer parameters of one element type (restrict ones excepted) may point into one array, const
        or not: C lets a caller pass the same buffer as input and output."""
        if d.is_param and d.kind == "pointer" and not (d.info and d.info.restrict):
            return f"@mayalias:{d.base_type}"
        return d.key

    def _varying(self, L: Loop) -> bool:
        m = self.m
        for lp in m.loops:
            if lp is L or not L.encloses(lp):
                continue
            if lp.kind != "for" or not lp.canonical:
                return True
            for p in (lp.lower, lp.upper):
                p = m.expand(p)
                if p is None:
                    return True
                if L.var is not None and L.var.key in p.symbols():
                    return True
        for b in m.blockers:
            if L in b.loops and b.target is not None and b.target is not L:
                return True
        return False

    def _refine(self, f: LoopFacts) -> None:
        """collapse and simd decisions (need the facts of the child loops)."""
        L = f.loop
        if not f.parallel:
            return
        child = _only_child_loop(L)
        if child is not None and child.kind == "for" and child.canonical and not f.array_reductions:
            cf = self.fx.loops.get(child) or self._loop(child)
            syms = set()
            for p in (child.lower, child.upper):
                pp = self.m.expand(p)
                syms |= pp.symbols() if pp is not None else {"?"}
            if cf.parallel and "?" not in syms and L.var.key not in syms and not cf.array_reductions \
                    and not cf.lastprivate and child.var is not None and self._collapse_helps(child):
                f.collapse = 2
        # simd: innermost loop with a floating-point reduction
        # (only + and *: the sequential build cannot reorder those and stays scalar, while min/max loops it
        # vectorizes already, and `simd reduction(min:...)` made GCC's code 2.5x slower than that)
        if not L.children and f.reductions and all(d.base_type in FLOAT_TYPES for d in f.reductions) \
                and all(op in ("+", "*") for op in f.reductions.values()) and not f.array_reductions:
            if not any(c.loops and L in c.loops and c.name not in _SIMD_OK for c in self.m.calls):
                f.simd = True

    def _collapse_helps(self, child: Loop) -> bool:
        # collapse when the collapsed body still has work (a further loop) or the outer trip count is a
        # small constant (fewer iterations than threads would leave cores idle)
        if child.children:
            return True
        outer = child.parent
        if outer is not None and outer.lower is not None and outer.upper is not None:
            span = self.m.expand(outer.upper) - self.m.expand(outer.lower)
            if span.is_const() and span.constant < 64:
                return True
        return False

    # -- parameters ---------------------------------------------------------
    def _params(self) -> None:
        _ParamInference(self).run()


_SIMD_OK = {"sqrt", "sqrtf", "fabs", "fabsf", "fmin", "fmax", "fminf", "fmaxf", "std::sqrt", "std::fabs",
            "std::abs", "std::min", "std::max", "std::fmin", "std::fmax"}


def _only_child_loop(L: Loop) -> Loop | None:
    body = L.body
    while body is not None and body.type == "compound_statement":
        stmts = [c for c in body.named_children if c.type != "comment"]
        if len(stmts) != 1:
            return None
        body = stmts[0]
    if body is None or body.type != "for_statement":
        return None
    for ch in L.children:
        if ch.node.id == body.id:
            return ch
    return None


def _walk_nodes(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def _uniq(seq) -> list:
    out, seen = [], set()
    for x in seq:
        if id(x) not in seen:
            seen.add(id(x))
            out.append(x)
    return out


def _short(node) -> str:
    s = " ".join(text(node).split())
    return s if len(s) <= 40 else s[:37] + "..."


# ---------------------------------------------------------------------------
# must-write analysis (privatization and liveness)
# ---------------------------------------------------------------------------

class _MW:
    """Does every path read `decl` only after writing it?"""

    def __init__(self, m: FunctionModel, decl: Decl, loop: Loop | None = None):
        self.evs = sorted((e for e in m.events if e.decl is decl), key=lambda e: e.seq)
        self.violation = False
        self.loop = loop
        # states of `defined` where an iteration of `loop` ends early (continue)
        self.early_ends: list[bool] = []
        self.jump_targets = {n.id: (lps[-1] if lps else None) for k, n, lps in m.jumps if k == "continue"}
        self.jump_pos = [(n.start_byte, lps[-1] if lps else None) for k, n, lps in m.jumps if k == "continue"]

    def linear(self, node: Node | None, defined: bool) -> bool:
        if node is None:
            return defined
        for e in self.evs:
            if node.start_byte <= e.node.start_byte < node.end_byte:
                if e.read and not defined:
                    self.violation = True
                if e.write and not e.expr_cond:
                    defined = True
        return defined

    def stmt(self, node: Node | None, defined: bool) -> bool:
        if node is None or self.violation:
            return defined
        t = node.type
        if t == "continue_statement" and self.loop is not None and self.jump_targets.get(node.id) is self.loop:
            self.early_ends.append(defined)
            return defined
        if not any(node.start_byte <= e.node.start_byte < node.end_byte for e in self.evs) and not (
                self.loop is not None and any(node.start_byte <= b < node.end_byte and tgt is self.loop
                                              for b, tgt in self.jump_pos)):
            return defined
        if t == "compound_statement":
            for ch in node.named_children:
                defined = self.stmt(ch, defined)
            return defined
        if t == "if_statement":
            defined = self.linear(node.child_by_field_name("condition"), defined)
            d1 = self.stmt(node.child_by_field_name("consequence"), defined)
            alt = node.child_by_field_name("alternative")
            d2 = self.stmt(alt, defined) if alt is not None else defined
            return d1 and d2
        if t == "else_clause":
            for ch in node.named_children:
                defined = self.stmt(ch, defined)
            return defined
        if t == "for_statement":
            defined = self.linear(node.child_by_field_name("initializer"), defined)
            defined = self.linear(node.child_by_field_name("condition"), defined)
            db = self.stmt(node.child_by_field_name("body"), defined)
            self.linear(node.child_by_field_name("update"), db)
            return defined
        if t == "while_statement":
            defined = self.linear(node.child_by_field_name("condition"), defined)
            self.stmt(node.child_by_field_name("body"), defined)
            return defined
        if t == "do_statement":
            d = self.stmt(node.child_by_field_name("body"), defined)
            return self.linear(node.child_by_field_name("condition"), d)
        if t in ("switch_statement", "for_range_loop", "labeled_statement", "case_statement"):
            for ch in node.named_children:
                self.stmt(ch, defined) if ch.type.endswith("statement") else self.linear(ch, defined)
            return defined
        return self.linear(node, defined)


def privatizable(m: FunctionModel, d: Decl, L: Loop) -> tuple[bool, bool]:
    """(every iteration writes d before reading it, d is surely written at the end of an iteration)."""
    mw = _MW(m, d, L)
    end = mw.stmt(L.body, False)
    end = end and all(mw.early_ends)
    upd = L.node.child_by_field_name("update")
    mw.linear(upd, end)
    return (not mw.violation), end


def live_after(m: FunctionModel, d: Decl, L: Loop) -> bool:
    """May the value of d left by loop L be read later?"""
    mw = _MW(m, d)
    defined = False
    cur = L.node
    body = m.body
    while cur is not None and cur.id != body.id:
        parent = cur.parent
        if parent is None:
            break
        if parent.type == "compound_statement":
            after = False
            for ch in parent.named_children:
                if after:
                    defined = mw.stmt(ch, defined)
                if ch.id == cur.id:
                    after = True
        elif parent.type in ("for_statement", "while_statement", "do_statement"):
            saved = defined
            if parent.type == "for_statement":
                mw.linear(parent.child_by_field_name("update"), defined)
            mw.linear(parent.child_by_field_name("condition"), defined)
            mw.stmt(parent.child_by_field_name("body"), defined)
            defined = saved
        if mw.violation:
            return True
        cur = parent
    return mw.violation


# ---------------------------------------------------------------------------
# parameters: extents, roles, values
# ---------------------------------------------------------------------------

class _ParamInference:
    def __init__(self, an: _Analyzer):
        self.an = an
        self.fx = an.fx
        self.m = an.m

    def run(self) -> None:
        m, fx = self.m, self.fx
        params = {p.name: p for p in fx.signature.params}
        arrays = [d for d in m.params.values() if d.is_array]
        # free size tokens for vectors whose size() is used (in parameter order)
        used_sizes = []
        sized = set()
        for n in _walk_nodes(m.body):
            if n.type == "call_expression":
                fnode = n.child_by_field_name("function")
                if fnode is not None and fnode.type == "field_expression" and \
                        text(fnode.child_by_field_name("field")) == "size":
                    sized.add(text(fnode.child_by_field_name("argument")))
        for lp in m.loops:
            if lp.range_of is not None:
                sized.add(lp.range_of.name)
        for p in fx.signature.params:
            if p.kind == ParamKind.VECTOR and p.name in sized and (not p.container or is_nested(p) or
                                                                  p.container == "std::string"):   # std::array: fixed
                used_sizes.append(p.name)
        # every free size is the one token the input generator knows: "N" (vectors whose sizes the code does
        # not relate to anything else get the same length; that is one consistent choice, not an assumption
        # the code relies on)
        taken = set(params)
        for vname in used_sizes:
            fx.size_tokens[vname] = "N"
        if len(used_sizes) > 1:
            fx.notes.append("the sizes of " + ", ".join(used_sizes) + " are all the free size 'N'")
        # extents from affine subscripts
        ext: dict[str, list[Poly]] = {}
        index_scalars: dict[str, list[str]] = {}
        row_ext = self._nested_rows(ext)
        for ev in m.events:
            d = ev.decl
            if not d.is_param or not d.is_array or ev.index is None or ev.dims is not None:
                continue
            if ev.index_scalar is not None and ev.index_scalar.is_param and \
                    ev.index_scalar.key not in self.an.size_params:
                index_scalars.setdefault(ev.index_scalar.name, []).append(d.name)
                continue
            hi = self._max_subscript(ev)
            if hi is not None:
                ext.setdefault(d.name, []).append(hi + 1)
        # vectors: their own size when used
        for d in arrays:
            if d.kind == "vector" and d.name in fx.size_tokens:
                ext.setdefault(d.name, []).insert(0, Poly.sym(f"@size:{d.name}"))
        rendered: dict[str, str] = {}
        polys: dict[str, Poly] = {}
        for d in arrays:
            if params[d.name].container and params[d.name].container.startswith("std::array"):   # N elements
                rendered[d.name], polys[d.name] = params[d.name].extent, Poly.const(int(params[d.name].extent))
                continue
            cands = ext.get(d.name, [])
            nn = self.an._nonneg_keys() | {f"@size:{v}" for v in fx.size_tokens}
            cands = _max_reduce([_round_up(c, nn) for c in cands], an_nonneg=nn)
            if d.kind == "vector" and d.name in fx.size_tokens:
                own = Poly.sym(f"@size:{d.name}")
                others = [c for c in cands if c != own and not (own - c).nonneg(nn)]
                if not others:
                    polys[d.name] = own
                    rendered[d.name] = self.render(own)
                else:
                    fx.extent_cands[d.name] = [own] + others
                    rendered[d.name] = "max(" + ", ".join(self.render(c) for c in [own] + others) + ")"
                continue
            if not cands:
                continue
            self._set_extent(d, cands, polys, rendered)
        # data-dependent accesses: fall back
        unused_scalars = self._unused_scalars()
        offset_vars = {lp.var.key for _d, lp in m.bound_arrays if lp.var is not None}
        nnz_token = None
        data_index_bounds: dict[str, list[str]] = {}    # index array -> bounds its values are modelled by
        for d in arrays:
            if d.name in rendered:
                continue
            guess = None
            by_offsets = False
            nonaffine = None
            row_models: list[Poly] = []
            for ev in m.events:
                if ev.decl is not d or ev.index is None:
                    continue
                row = self._row_model(ev)
                if row is not None:
                    # src[(b*c + ch)*npts + p], p = sel[..]: p is a column of a row npts wide
                    model_ext, index_array, width = row
                    row_models.append(model_ext)
                    data_index_bounds.setdefault(index_array, []).append(self.render(width))
                    continue
                if self._loaded_local(ev) is not None:
                    continue                # x[p], p = idx[..]: idx's values are generated within x's extent
                pp = m.expand(ev.poly)
                if pp is not None and len(pp.terms) == 1 and pp.symbols() <= offset_vars and \
                        list(pp.terms.values()) == [1] and len(next(iter(pp.terms))) == 1:
                    by_offsets = True       # val[j], j running between row offsets
                    continue
                if ev.index_arrays:
                    continue                # A[B[..]]: B's values are generated within A's extent
                if ev.index_scalar is not None and ev.index_scalar.is_param:
                    continue                # A[k]: k is generated within A's extent
                peer = self._peer_extent(d, polys, rendered)
                if peer is not None and not ev.write:
                    nonaffine = nonaffine or ev
                    continue
                raise AnalysisError(f"cannot infer the number of elements of array parameter '{d.name}' "
                                    f"of '{fx.signature.name}' (subscript '{_short(ev.index)}' at line "
                                    f"{ev.line} is not affine in the loop variables and parameters)")
            if row_models:
                nn = self.an._nonneg_keys() | {f"@size:{v}" for v in fx.size_tokens}
                self._set_extent(d, _max_reduce([_round_up(c, nn) for c in row_models], an_nonneg=nn),
                                 polys, rendered)
                fx.notes.append(f"extent of '{d.name}' modelled as {rendered[d.name]}: its subscript adds a value "
                                f"read from memory to whole rows (the value is taken as a column within its row)")
                continue
            if nonaffine is not None and not any(e.write for e in m.events if e.decl is d):
                # e.g. img[clamp(y + dy, 0, h - 1) * w + x]: read-only, as large as the image it is
                # filtered into. Only an assumption: every test case is first run on the sequential code
                # under AddressSanitizer with buffers of exactly this size, so a wrong guess discards cases
                # (and fails verification) instead of hiding out-of-bounds reads.
                peer_name, peer_text = self._peer_extent(d, polys, rendered)
                rendered[d.name] = peer_text
                if peer_name in polys:
                    polys[d.name] = polys[peer_name]
                fx.notes.append(f"extent of '{d.name}' assumed equal to that of '{peer_name}' ({peer_text}): "
                                f"its subscript at line {nonaffine.line} is not affine")
                continue
            if by_offsets:
                if nnz_token is None:
                    if unused_scalars:
                        nnz_token = unused_scalars.pop(0)
                        self.an.size_params.add(m.params[nnz_token].key)
                    else:
                        nnz_token = "N"
                        fx.notes.append(f"'{nnz_token}' is a free size: the number of entries indexed through "
                                        f"offset arrays (CSR nnz)")
                guess = nnz_token
            elif unused_scalars:
                guess = unused_scalars.pop(0)
                self.an.size_params.add(m.params[guess].key)
                fx.notes.append(f"extent of '{d.name}' taken from the otherwise unused parameter '{guess}'")
            elif self._main_size():
                guess = self._main_size()
                fx.notes.append(f"extent of '{d.name}' could not be inferred; assumed '{guess}'")
            elif d.kind == "vector":
                fx.size_tokens[d.name] = "N"
                guess = "N"
            else:
                unit = fx.unit
                calls = sorted({c.name for c in m.calls if c.name in unit.functions or
                                c.name in getattr(unit, "template_functions", {})}) if not m.loops else []
                # a function without loops that hands its arrays on: the obstacle the user can act on is
                # that the work is in the callee, which is translated on its own
                why = (f"it has no loops (its arrays are passed on to {', '.join(calls)}, which is translated "
                       f"on its own), and the number of elements of '{d.name}' is not known here"
                       if calls else f"cannot infer the number of elements of array parameter '{d.name}' "
                                     f"of '{fx.signature.name}'")
                raise AnalysisError(why)
            rendered[d.name] = guess
            if guess in m.params:
                polys[d.name] = Poly.sym(m.params[guess].key) if guess in m.params else None
        self._mark_data_extents(offset_vars, index_scalars)
        fx.extents = rendered
        fx.extent_polys = polys
        # offsets: arrays read in loop bounds (CSR row pointers)
        offsets: dict[str, str] = {}
        for d, lp in m.bound_arrays:
            if not d.is_param:
                continue
            users = {ev.decl.name for ev in m.events if ev.decl.is_array and ev.decl.is_param and lp in ev.loops
                     and lp.var is not None and ev.poly is not None and lp.var.key in m.expand(ev.poly).symbols()}
            bound = None
            for u in sorted(users):
                if u in rendered and u != d.name:
                    bound = rendered[u]
                    break
            offsets[d.name] = bound or "N"
        # values
        for p in fx.signature.params:
            d = m.params[p.name]
            if p.is_array:
                p.extent = rendered.get(p.name)
                if is_nested(p):
                    p.row_extent = row_ext.get(p.name)
                    if p.row_extent == "~" and p.extent:
                        p.row_extent = "~" + p.extent
            p.values = ValueSpec(ValueKind.ANY)
        for p in fx.signature.params:
            d = m.params[p.name]
            if not p.is_array and d.key in self.an.size_params:
                p.values = ValueSpec(ValueKind.SIZE)
        # a stride is data, not a size: as a size it would grow with the problem and an array of n
        # elements incx apart would hold n*n (the tester's free integers keep it small and positive)
        strides = {f.param for f in fx.value_facts if f.kind == "stride"}
        for p in fx.signature.params:
            if not p.is_array and m.params[p.name].key in strides:
                p.values = ValueSpec(ValueKind.ANY)
        for p in fx.signature.params:
            if not p.is_array and p.name in self._extent_symbols(rendered) and p.values.kind == ValueKind.ANY \
                    and m.params[p.name].key not in strides:
                p.values = ValueSpec(ValueKind.SIZE)
        for (node, d, is_elem) in m.divisors:
            if d.is_param:
                p = params[d.name]
                if p.values.kind == ValueKind.ANY and (is_elem == p.is_array):
                    p.values = ValueSpec(ValueKind.NONZERO)
                elif p.values.kind == ValueKind.SIZE and not p.is_array:
                    note = f"'{p.name}' is a size and also a divisor: it must be at least 1"
                    if note not in fx.notes:
                        fx.notes.append(note)
        # factors of a floating-point product (`p *= x[i]`, `p = p * x[i]`): data
        # near 1, or a product of a few thousand elements under- or overflows and
        # its value then depends on the order of the multiplications (a correct
        # parallel version could not match it)
        by_stmt: dict[int, list] = {}
        for ev in m.events:
            if ev.stmt is not None:
                by_stmt.setdefault(id(ev.stmt), []).append(ev)
        for ev in m.events:
            if not (ev.write and ev.red_op == "*" and not ev.is_array and ev.decl.base_type in FLOAT_TYPES):
                continue
            for e in by_stmt.get(id(ev.stmt), []):
                p = params.get(e.decl.name) if e.decl.is_param and e.read and e.is_array else None
                if p is None or p.values.kind != ValueKind.ANY or p.base_type not in FLOAT_TYPES:
                    continue
                ab = _factor_of(e.node, ev.stmt)
                if ab is not None:
                    p.values = ValueSpec(ValueKind.FACTOR, factor=ab)
        index_bounds: dict[str, list[str]] = {}
        for ev in m.events:
            for b in ev.index_arrays:
                if b.is_param and ev.decl.name in rendered:
                    index_bounds.setdefault(b.name, []).append(rendered[ev.decl.name])
        for sname, arrs in index_scalars.items():
            for a in arrs:
                if a in rendered:
                    index_bounds.setdefault(sname, []).append(rendered[a])
        for ev in m.events:     # x[p] with p = idx[..]: idx's values index x
            src = self._loaded_local(ev)
            if src is not None and ev.decl.is_param and ev.decl.name in rendered and \
                    self._row_model(ev) is None and m.expand(ev.poly) == Poly.sym(self._local_of(ev).key):
                index_bounds.setdefault(src, []).append(rendered[ev.decl.name])
        for name, bs in data_index_bounds.items():
            index_bounds.setdefault(name, []).extend(bs)
        for name, bounds in index_bounds.items():
            p = params[name]
            if p.base_type not in INTEGER_TYPES:
                continue
            bs = sorted(set(bounds))
            p.values = ValueSpec(ValueKind.INDEX, bound=bs[0] if len(bs) == 1 else "min(" + ", ".join(bs) + ")")
        for name, bound in offsets.items():
            p = params[name]
            if p.base_type in INTEGER_TYPES:
                p.values = ValueSpec(ValueKind.OFFSETS, bound=bound)
        # roles
        for p in fx.signature.params:
            d = m.params[p.name]
            p.role = self._role(p, d)

    def _nested_rows(self, ext: dict) -> dict[str, str]:
        """Nested vectors (std::vector<std::vector<T>>): their row counts go into `ext` (from the row
        subscripts), and the result gives each one's row length (Param.row_extent): ragged ("~" + the row
        count) when only its own rows' lengths (A[i].size()) bound its columns, else the one length
        every row has (a column bound such as n, or the free size N when other arrays are as long)."""
        m, fx = self.m, self.fx
        out: dict[str, str] = {}
        for d in [d for d in m.params.values() if d.param is not None and is_nested(d.param)]:
            own = Poly.sym(f"@cols:{d.name}")
            cols: list[Poly] = []
            for ev in m.events:
                if ev.decl is not d or ev.dims is None:
                    continue
                pr, pc = ev.dims
                hr = self._max_poly(m.expand(pr), ev) if pr is not None else None
                hc = self._max_poly(m.expand(pc), ev) if pc is not None else None
                if hr is None or hc is None:
                    raise AnalysisError(f"cannot infer the rows and row lengths of nested vector '{d.name}' of "
                                        f"'{fx.signature.name}' (subscript '{_short(ev.node)}' at line {ev.line} "
                                        f"is not affine in the loop variables and parameters)")
                ext.setdefault(d.name, []).append(hr + 1)
                cols.append(hc + 1)
            # ragged rows only when every access (and every A[r].size()) is of one row r: A[i][j] for
            # j < A[i].size() reads within row i; A[i - 1][j] for j < A[i].size() needs rows as long
            row_polys = {str(m.expand(ev.dims[0])) for ev in m.events if ev.decl is d and ev.dims is not None}
            for n in _walk_nodes(m.body):
                if n.type == "call_expression":
                    fnode = n.child_by_field_name("function")
                    if fnode is not None and fnode.type == "field_expression" and \
                            text(fnode.child_by_field_name("field")) in ("size", "empty"):
                        obj = _strip(fnode.child_by_field_name("argument"))
                        if obj.type == "subscript_expression" and \
                                text(obj.child_by_field_name("argument")) == d.name:
                            idx = obj.child_by_field_name("indices") or obj.child_by_field_name("index")
                            ch = idx.named_children if idx is not None and idx.named_children else [idx]
                            row_polys.add(str(m.expand(m.poly(ch[0]))) if ch[0] is not None else "?")
            one_row = len(row_polys) <= 1 and "None" not in row_polys
            nn = self.an._nonneg_keys() | {f"@size:{v}" for v in fx.size_tokens} | {own.render(str)}
            others = [c for c in cols if c != own and not (own - c).nonneg(nn)]
            if any(own.symbols() & c.symbols() for c in others):
                raise AnalysisError(f"cannot infer the row lengths of nested vector '{d.name}' of "
                                    f"'{fx.signature.name}'")
            shared = any(f"@cols:{d.name}" in (m.expand(e.poly) or Poly()).symbols()
                         for e in m.events if e.decl is not d and e.dims is None and e.poly is not None) or \
                any(f"@cols:{d.name}" in (m.expand(lp.upper) or Poly()).symbols()
                    for lp in m.loops if lp.upper is not None and lp.var is not None and any(
                        e.decl is not d and e.decl.is_array and lp in e.loops and e.dims is None and
                        (e.poly is None or lp.var.key in (m.expand(e.poly) or Poly.sym(lp.var.key)).symbols())
                        for e in m.events))
            if others and not (d.param.container == "std::vector<std::string>" and one_row and not shared
                               and all(c.is_const() for c in others)):
                self.an.size_params |= {s for c in others for s in c.symbols() if not s.startswith("@")}
                red = _max_reduce(others, an_nonneg=self.an._nonneg_keys())
                out[d.name] = self.render(red[0]) if len(red) == 1 else \
                    "max(" + ", ".join(self.render(c) for c in red) + ")"
            elif shared or not one_row:
                out[d.name] = "N"
            elif d.param.container == "std::vector<std::string>" and all(c.is_const() for c in others):
                out[d.name] = "~"       # s[i][0] behind s[i].empty(): strings of any lengths
            else:
                out[d.name] = "~"
            fx.row_extents[d.name] = out[d.name]
        return out

    # helpers
    def render(self, p: Poly) -> str:
        # all free sizes are the one token "N": merge them first (x.size() - k.size() + 1 -> 1 when both are N)
        for s in sorted(p.symbols()):
            if s.startswith("@size:") and s != "@size:":
                p = p.subs(s, Poly.sym("@size:"))

        def name(s: str) -> str:
            if s == "@size:":
                return "N"
            if s.startswith("@cols:"):
                return self.fx.row_extents.get(s[6:], "N").lstrip("~")
            if s.startswith("@size:"):
                return self.fx.size_tokens.get(s[6:], "N")
            if s.startswith("@div:"):
                kind, num, k = atom_info(s)
                return f"(({self.render(num)})//{k})"
            if s.startswith("@max:") or s.startswith("@min:"):
                kind, a, b = atom_info(s)
                return f"{kind}({self.render(a)}, {self.render(b)})"
            d = self.m.decl_by_key(s)
            return d.name if d is not None else s
        return p.render(name)

    def _extent_symbols(self, rendered: dict[str, str]) -> set[str]:
        import re
        out = set()
        for v in rendered.values():
            out |= set(re.findall(r"[A-Za-z_]\w*", v))
        return out

    def _max_subscript(self, ev: Event) -> Poly | None:
        return self._max_poly(self.m.expand(ev.poly), ev)

    def _max_poly(self, p: Poly | None, ev: Event) -> Poly | None:
        """The largest value of `p` over ev's iteration space, in parameters only (or None)."""
        if p is None:
            return None
        nonneg = self.an._nonneg_keys() | {f"@size:{v}" for v in self.fx.size_tokens}
        facts = self.m.facts(ev.conds) if ev.conds else []
        cap = self._guard_cap(p, facts)
        if cap is not None:
            return cap
        order = []
        for lp in reversed(ev.loops):
            if lp.var is None or lp.upper is None or lp.lower is None:
                continue
            lo, hi = self.m.expand(lp.lower), self.m.expand(lp.upper)
            lo, hi = _refine(lp.var.key, lo, hi, facts, nonneg)
            order.append((lp.var.key, lo, hi))
        changed = True
        while changed:
            changed = False
            for key, lo, _ in order:
                if key not in nonneg and lo is not None and lo.nonneg(nonneg):
                    nonneg.add(key)
                    changed = True
        hi = self.an.dep.extremum(p, order, True, nonneg)
        if hi is None:
            return None
        # only parameters (and vector sizes / div atoms of them) may remain
        for s in hi.symbols():
            if s.startswith(("@size:", "@cols:")):
                continue
            if s.startswith("@"):
                if all((dd := self.m.decl_by_key(x)) is not None and dd.is_param for x in atom_symbols(s)):
                    continue
                return None
            d = self.m.decl_by_key(s)
            if d is None or not d.is_param or d.kind not in ("scalar",):
                return None
        for s in hi.symbols():
            d = self.m.decl_by_key(s)
            if d is not None and d.is_param:
                self.an.size_params.add(s)
        return hi

    def _set_extent(self, d: Decl, cands: list[Poly], polys: dict, rendered: dict) -> None:
        """d's extent: one polynomial, or the max of several candidates."""
        if len(cands) == 1:
            polys[d.name] = cands[0]
            rendered[d.name] = self.render(cands[0])
        else:
            self.fx.extent_cands[d.name] = list(cands)
            rendered[d.name] = "max(" + ", ".join(self.render(c) for c in cands) + ")"

    def _guard_cap(self, p: Poly, facts) -> Poly | None:
        """A guard bounding the whole subscript (`if (s < n) ... a[s]`): its cap, in scalar parameters."""
        for a, op, b in facts:
            cap = None
            if a == p and op in ("<", "<="):
                cap = b - 1 if op == "<" else b
            elif b == p and op in (">", ">="):
                cap = a - 1 if op == ">" else a
            if cap is not None and all(not s.startswith("@") and (dd := self.m.decl_by_key(s)) is not None
                                       and dd.is_param and dd.kind == "scalar" for s in cap.symbols()):
                for s in cap.symbols():
                    self.an.size_params.add(s)
                return cap
        return None

    def _guarded(self, ev: Event) -> bool:
        p = self.m.expand(ev.poly)
        return p is not None and self._guard_cap(p, self.m.facts(ev.conds) if ev.conds else []) is not None

    def _local_of(self, ev: Event) -> Decl | None:
        """The one local scalar in ev's (expanded) subscript whose value is read from memory."""
        p = self.m.expand(ev.poly)
        if p is None:
            return None
        found = None
        for s in p.symbols():
            d = self.m.decl_by_key(s)
            if d is None or d.is_param or d.kind != "scalar":
                continue
            if any(lp.var is d for lp in self.m.loops):
                continue
            if found is not None:
                return None
            found = d
        return found

    def _loaded_local(self, ev: Event) -> str | None:
        """The index array a subscript's data term comes from: `p` in `x[... + p]` with `int p = idx[..];`
        (idx an array parameter, p assigned once)."""
        d = self._local_of(ev)
        if d is None or d.init is None or d.writes != 1:
            return None
        init = _strip(d.init)
        if init.type != "subscript_expression":
            return None
        base = _strip(init.child_by_field_name("argument"))
        if base is None or base.type != "identifier":
            return None
        b = self.m.params.get(text(base))
        if b is None or not b.is_array or b.base_type not in INTEGER_TYPES:
            return None
        return b.name

    def _row_model(self, ev: Event) -> tuple[Poly, str, Poly] | None:
        """(model extent, index array, row width) for a subscript R + p where p is read from an index array
        and every term of R is a multiple of one scalar parameter W (the row width): p is modelled as a
        column in [0, W). A model of the inputs for the tester, never a fact the written code may use."""
        src = self._loaded_local(ev)
        if src is None:
            return None
        p = self.m.expand(ev.poly)
        d = self._local_of(ev)
        s = d.key
        rest = p.subs(s, Poly.const(0))
        if p - rest != Poly.sym(s) or rest.is_const():
            return None
        common = None               # the parameter factor every term shares (with multiplicity)
        for mono in rest.terms:
            counts = {x: mono.count(x) for x in set(mono)}
            common = counts if common is None else {x: min(c, counts.get(x, 0)) for x, c in common.items()}
        width = Poly.const(1)
        wsyms = []
        for w, c in sorted((common or {}).items()):
            wd = self.m.decl_by_key(w)
            if c > 0 and wd is not None and wd.is_param and wd.kind == "scalar" and wd.base_type in INTEGER_TYPES:
                for _ in range(c):
                    width = width * Poly.sym(w)
                wsyms.append(w)
        if not wsyms:
            return None
        added = [w for w in wsyms if w not in self.an.size_params]
        self.an.size_params.update(wsyms)   # a row width is a size: non-negative
        hi = self._max_poly(rest, ev)
        if hi is None:
            self.an.size_params.difference_update(added)
            return None
        return hi + width, src, width

    def _mark_data_extents(self, offset_vars: set, index_scalars: dict) -> None:
        """Record every array parameter whose accessed range depends on values the code does not bound:
        A[B[..]], A[p] / A[R + p] with p read from memory, A[k] with k a parameter the code never bounds,
        val[j] with j between CSR offsets. A guard that bounds the subscript (`if (p < n)`) is a proof.
        Where every such access has a recognized form, fx.data_ranges says how to bound the range at run
        time (codegen_common.runtime_extent_c)."""
        m, fx = self.m, self.fx
        bound_of = {lp.var.key: d for d, lp in m.bound_arrays if lp.var is not None and d.is_param}
        nonneg = self.an._nonneg_keys()
        for d in [d for d in m.params.values() if d.is_array and d.kind != "vector"]:
            why, proven, terms, known = None, [], [], True
            for ev in m.events:
                if ev.decl is not d or ev.index is None:
                    continue
                pp = m.expand(ev.poly)
                term = None
                reason = None
                if ev.index_arrays:
                    reason = (f"its subscript '{_short(ev.index)}' at line {ev.line} is an element of "
                              f"'{ev.index_arrays[0].name}'")
                    b = ev.index_arrays[0]
                    if b.is_param and b.base_type in INTEGER_TYPES:
                        term = ("index", b.name, Poly.const(0))
                elif self._local_of(ev) is not None and not self._guarded(ev):
                    src = self._loaded_local(ev)
                    origin = f"read from '{src}'" if src else "computed from values the code does not bound"
                    reason = (f"its subscript '{_short(ev.index)}' at line {ev.line} depends on "
                              f"'{self._local_of(ev).name}', {origin}")
                    if src is not None:
                        rest = pp.subs(self._local_of(ev).key, Poly.const(0))
                        if pp - rest == Poly.sym(self._local_of(ev).key) and rest.nonneg(nonneg | {
                                lp.var.key for lp in ev.loops if lp.var is not None}):
                            hi = self._max_poly(rest, ev) if not rest.is_const() else rest
                            if hi is not None:
                                term = ("index", src, hi)
                elif ev.index_scalar is not None and ev.index_scalar.is_param and \
                        ev.index_scalar.key not in self.an.size_params and not self._guarded(ev):
                    reason = (f"its subscript '{ev.index_scalar.name}' at line {ev.line} is a parameter the code "
                              f"never bounds")
                    if ev.index_scalar.base_type in INTEGER_TYPES:
                        term = ("scalar", ev.index_scalar.name, Poly.const(0))
                elif pp is not None and pp.symbols() and pp.symbols() <= offset_vars:
                    reason = f"its subscript at line {ev.line} runs between offsets read from memory"
                    if len(pp.terms) == 1 and list(pp.terms.values()) == [1] and pp.symbols() <= set(bound_of):
                        term = ("bound", bound_of[next(iter(pp.symbols()))].name, Poly.const(0))
                else:
                    hi = self._max_subscript(ev)
                    if hi is not None:
                        proven.append(hi + 1)
                    else:
                        known = False
                    continue
                why = why or reason
                if term is None:
                    known = False
                else:
                    terms.append(term)
            if why is None:
                continue
            fx.data_extents[d.name] = why
            if known:
                fx.data_ranges[d.name] = {"proven": proven, "terms": terms}

    def _unused_scalars(self) -> list[str]:
        used = {e.decl.name for e in self.m.events if not e.decl.is_array}
        out = []
        for p in self.fx.signature.params:
            if p.kind == ParamKind.SCALAR and p.base_type in INTEGER_TYPES and p.name not in used:
                out.append(p.name)
        return out

    def _peer_extent(self, d: Decl, polys: dict, rendered: dict) -> tuple[str, str] | None:
        """(name, extent) of an array parameter of d's element type whose extent is known from affine
        subscripts: the guess for a read-only array indexed through helper calls."""
        for p in self.fx.signature.params:
            if p.is_array and p.name != d.name and p.name in polys and p.name in rendered and \
                    self.m.params[p.name].base_type == d.base_type:
                return p.name, rendered[p.name]
        return None

    def _main_size(self) -> str | None:
        for p in self.fx.signature.params:
            d = self.m.params[p.name]
            if d.key in self.an.size_params:
                return p.name
        if self.fx.size_tokens:
            return next(iter(self.fx.size_tokens.values()))
        return None

    def _role(self, p: Param, d: Decl) -> Role:
        m = self.m
        evs = [e for e in m.events if e.decl is d]
        writes = [e for e in evs if e.write]
        if p.kind == ParamKind.SCALAR:
            return Role.IN
        if p.const or not writes:
            return Role.IN
        if is_nested(p):
            return Role.INOUT
        if p.kind == ParamKind.REF:
            mw = _MW(m, d)
            mw.stmt(m.body, False)
            return Role.INOUT if mw.violation else Role.OUT
        if any(e.read for e in evs):
            return Role.INOUT
        ext = self.fx.extent_polys.get(p.name)
        if ext is None:
            return Role.INOUT
        for e in writes:
            if self.full_cover(e, ext):
                return Role.OUT
        return Role.INOUT

    def full_cover(self, e: Event, ext: Poly) -> bool:
        """Does this unconditional write touch every element [0, ext) ?"""
        return full_cover(self.m, self.an.dep, e, ext, self.an._nonneg_keys())


def full_cover(m: FunctionModel, dep: DependenceTester, e: Event, ext: Poly, nonneg: set[str],
               within: Loop | None = None) -> bool:
    if e.expr_cond or e.guards and any(g >= (0 if within is None else within.depth + 1) for g in e.guards):
        return False
    outer = within if within is not None else (e.loops[0] if e.loops else None)
    for kind, node, jloops in m.jumps:
        if kind in ("return", "goto"):
            if (outer is not None and outer.contains(node)) or (within is None and node.start_byte < e.node.start_byte):
                return False  # may leave before the write
            continue
        # continue/break: harmful only when the loop it jumps in also holds the write
        target = jloops[-1] if jloops else None
        if target is not None and target in e.loops and (outer is None or outer is target or outer.encloses(target)):
            return False
    p = m.expand(e.poly)
    if p is None:
        return False
    loops = list(e.loops)
    if within is not None:
        loops = loops[loops.index(within):]
    terms = []
    rest = p
    for lp in loops:
        if lp.kind != "for" or not lp.canonical or abs(lp.step) != 1 or lp.var is None:
            if lp.var is not None and lp.var.key in p.symbols():
                return False
            continue
        k = lp.var.key
        if p.degree_in(k) > 1:
            return False
        c = p.coeff(k)
        if not c.terms:
            continue
        lo, hi = m.expand(lp.lower), m.expand(lp.upper)
        if lo is None or hi is None or c.symbols() & {l.var.key for l in loops if l.var}:
            return False
        if lo.symbols() & {l.var.key for l in loops if l.var} or hi.symbols() & {l.var.key for l in loops if l.var}:
            return False
        terms.append((c, lo, hi - lo + 1))
        rest = rest.drop(k)
    if not terms:
        return False
    # sort by coefficient: the unit stride first, each next stride = previous * length
    terms.sort(key=lambda t: (0 if t[0] == Poly.const(1) else 1))
    if terms[0][0] != Poly.const(1):
        return False
    remaining = terms[1:]
    stride = terms[0][2]
    total_lo = terms[0][0] * terms[0][1]
    while remaining:
        nxt = next((t for t in remaining if t[0] == stride), None)
        if nxt is None:
            return False
        remaining.remove(nxt)
        total_lo = total_lo + nxt[0] * nxt[1]
        stride = stride * nxt[2]
    start = rest + total_lo
    return start == Poly() and stride == ext


def _refine(var: str, lo: Poly | None, hi: Poly | None, facts, nonneg: set[str]):
    """Tighten [lo, hi] of a loop variable with guard facts (v != hi, v < b, v >= b, ...)."""
    v = Poly.sym(var)
    for _ in range(4):
        changed = False
        for a, op, b in facts:
            if b == v and a != v:
                a, b = b, a
                op = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}[op]
            if a != v or var in b.symbols():
                continue
            if op == "!=":
                if hi is not None and b == hi:
                    hi, changed = hi - 1, True
                elif lo is not None and b == lo:
                    lo, changed = lo + 1, True
            elif op in ("<", "<="):
                cap = b - 1 if op == "<" else b
                if hi is None or ((hi - cap).nonneg(nonneg) and hi != cap):
                    hi, changed = cap, True
            elif op in (">", ">="):
                cap = b + 1 if op == ">" else b
                if lo is None or ((cap - lo).nonneg(nonneg) and lo != cap):
                    lo, changed = cap, True
            elif op == "==":
                if lo != b or hi != b:
                    lo, hi, changed = b, b, True
        if not changed:
            break
    return lo, hi


def _round_up(c: Poly, nonneg: set[str]) -> Poly:
    """n*m - m - 1 -> n*m, n - 1 -> n: the leading part when it is not smaller (safe: larger extents)."""
    if c.is_const():
        return c
    # not with run-time facts: (m-1)*lda + n rounded up to m*lda would size copies past a buffer of
    # exactly (m-1)*lda + n elements, which BLAS callers allocate
    nonneg = {s for s in nonneg if isinstance(s, str)}
    deg = max(len(k) for k in c.terms)
    top = Poly({k: v for k, v in c.terms.items() if len(k) == deg})
    if all(v > 0 for v in top.terms.values()) and (top - c).nonneg(nonneg):
        return top
    return c


def _max_reduce(cands: list[Poly], an_nonneg: set[str]) -> list[Poly]:
    out: list[Poly] = []
    for c in cands:
        if any((o - c).nonneg(an_nonneg) for o in out):
            continue
        out = [o for o in out if not (c - o).nonneg(an_nonneg)]
        out.append(c)
    return out


def _literal(node: Node) -> float | None:
    t = text(node).strip()
    while t.startswith("(") and t.endswith(")"):
        t = t[1:-1].strip()
    try:
        return float(t.rstrip("fFlL"))
    except ValueError:
        return None


def _factor_of(node: Node, stmt: Node) -> tuple[float, float] | None:
    """(a, b) when the array element `node` enters the statement's product as
    the factor a*x + b (`p *= a[i]`: (1, 0); `p *= 1.0 + 0.5 * a[i]`: (0.5, 1));
    other operands of a multiplication count as factors of their own. None
    when the element passes through anything else (a call, a sum with a
    variable, a comparison)."""
    a, b = 1.0, 0.0
    child, n = node, node.parent
    while n is not None and n != stmt:
        if n.type == "binary_expression":
            op = n.child_by_field_name("operator")
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            other = right if child == left else left
            c = _literal(other) if other is not None else None
            kind = op.type if op is not None else ""
            if kind == "*":
                if c is not None:
                    a, b = a * c, b * c
                elif other is not None and text(node.child_by_field_name("argument")) in text(other):
                    return None           # x[i] * x[i]: not a factor linear in the element
            elif kind == "/" and child == left and c:
                a, b = a / c, b / c
            elif kind == "+" and c is not None:
                b += c
            elif kind == "-" and c is not None:
                a, b = (a, b - c) if child == left else (-a, c - b)
            else:
                return None
        elif n.type in ("assignment_expression", "expression_statement"):
            break
        elif n.type not in ("parenthesized_expression", "cast_expression"):
            return None
        child, n = n, n.parent
    return (a, b) if a else None

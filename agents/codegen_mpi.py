"""MPI code generation (ParEval's convention, DESIGN.md §3).

Every rank calls the function with the same complete inputs; outputs must be
correct on rank 0.  The translation unit is the original one with the target
function's parallel loops rewritten:

* each outermost parallel loop is block-distributed over the ranks (the first
  `trip % size` ranks get one extra iteration; ranks may get none);
* scalar reductions are combined with MPI_Allreduce (so every rank continues
  with the same value);
* array reductions (histograms) are computed into zeroed copies and combined
  with MPI_Allreduce;
* each written array's slice is gathered: MPI_Allgatherv when the array is used
  again later in the function, MPI_Gatherv to rank 0 when this is its last use.
  A rank's slice is the hull [c*v_first + fmin, c*v_last + fmax] of the
  elements its iterations write, which is exact for row-wise writes and proven
  disjoint between ranks (|c| > fmax - fmin);
* a privatized scalar used after the loop is broadcast from the rank that ran
  the last iteration.
MPI_Init/MPI_Finalize are the caller's.
"""
from __future__ import annotations

import re

from .analysis import FunctionFacts, LoopFacts, _only_child_loop
from .base import NotParallelizable
from .codegen_common import (iminmax_needed, skip_edits, CRenderer, add_include, descendants, pragma_before,
                             node_text_with, scanned_extent, splice, trip_count_c, var_type)
from .frontend import FLOAT_TYPES, Decl, Event, Loop, text, walk
from .poly import Poly
from .unit import is_nested

MPI_TYPES = {
    "double": "MPI_DOUBLE", "float": "MPI_FLOAT", "long double": "MPI_LONG_DOUBLE",
    "int": "MPI_INT", "unsigned int": "MPI_UNSIGNED", "long": "MPI_LONG", "unsigned long": "MPI_UNSIGNED_LONG",
    "long long": "MPI_LONG_LONG", "unsigned long long": "MPI_UNSIGNED_LONG_LONG", "short": "MPI_SHORT",
    "unsigned short": "MPI_UNSIGNED_SHORT", "char": "MPI_SIGNED_CHAR", "signed char": "MPI_SIGNED_CHAR",
    "unsigned char": "MPI_UNSIGNED_CHAR", "size_t": "MPI_UNSIGNED_LONG", "ssize_t": "MPI_LONG",
    "ptrdiff_t": "MPI_LONG", "int8_t": "MPI_INT8_T", "int16_t": "MPI_INT16_T", "int32_t": "MPI_INT32_T",
    "int64_t": "MPI_INT64_T", "uint8_t": "MPI_UINT8_T", "uint16_t": "MPI_UINT16_T", "uint32_t": "MPI_UINT32_T",
    "uint64_t": "MPI_UINT64_T",
}
MPI_OPS = {"+": "MPI_SUM", "*": "MPI_PROD", "max": "MPI_MAX", "min": "MPI_MIN", "&&": "MPI_LAND",
           "||": "MPI_LOR", "&": "MPI_BAND", "|": "MPI_BOR", "^": "MPI_BXOR"}
_IDEMPOTENT = {"max", "min", "&&", "||", "&", "|"}
# value-index pair types of MPI_MINLOC / MPI_MAXLOC ({T v; int i;} in C)
_LOC_TYPES = {"float": "MPI_FLOAT_INT", "double": "MPI_DOUBLE_INT", "int": "MPI_2INT", "long": "MPI_LONG_INT",
              "short": "MPI_SHORT_INT", "long double": "MPI_LONG_DOUBLE_INT"}


_BYTE_TYPES: dict[str, str] = {}   # datatype variable suffix -> the C++ type it carries as bytes


def mpi_type(base: str | None, language: str) -> str:
    if base in ("bool", "_Bool"):
        return "MPI_CXX_BOOL" if language == "cpp" else "MPI_C_BOOL"
    t = MPI_TYPES.get(base or "")
    if t is None and language == "cpp" and base in ("std::complex<float>", "std::complex<double>"):
        return "MPI_CXX_FLOAT_COMPLEX" if "float" in base else "MPI_CXX_DOUBLE_COMPLEX"
    if t is None and language == "cpp" and base and re.fullmatch(r"[A-Za-z_]\w*|std::pair<[\w :<>,]+>", base):
        # a trivially copyable struct or std::pair (agents.unit records only those): its bytes as one
        # contiguous datatype, so counts and displacements stay in elements; gen_block makes and frees it
        name = re.sub(r"\W+", "_", base)
        _BYTE_TYPES[name] = base
        return f"__pl_type_{name}"
    if t is None:
        raise NotParallelizable(f"no MPI datatype for '{base}'")
    return t


class _Hull:
    def __init__(self, decl: Decl, c: Poly, fmin: Poly, fmax: Poly):
        self.decl, self.c, self.fmin, self.fmax = decl, c, fmin, fmax


class MPIGen:
    def __init__(self, fx: FunctionFacts):
        self.fx = fx
        self.m = fx.model
        self.data = fx.unit.data
        self.lang = fx.unit.language
        self.r = CRenderer(fx)
        self.dep = None
        from .dependence import DependenceTester
        from .analysis import _Analyzer
        an = _Analyzer.__new__(_Analyzer)
        an.fx, an.m = fx, self.m
        an.size_params = {p.name for p in fx.signature.params if p.values.kind.value == "size"}
        self.nonneg = set(an.size_params) | {d.key for d in self.m.params.values()
                                              if d.kind == "scalar" and d.base_type and
                                              (d.base_type.startswith("unsigned") or d.base_type == "size_t")}
        self.nonneg |= {f"@size:{v}" for v in fx.size_tokens}
        # strides and leading dimensions the function checks at entry (agents/strides.py)
        self.nonneg |= {f.fact for f in getattr(fx, "value_facts", [])}
        self.dep = DependenceTester(self.m, self.nonneg)
        self.k = 0
        self.distributed: list[Loop] = []       # the loops this translation distributes (generate_mpi)
        self.kept_local: dict[int, list[str]] = {}   # loop id -> local arrays each rank keeps its block of

    # -- hulls ---------------------------------------------------------------
    def hull(self, D: Loop, O: Loop | None, decl: Decl, writes: list[Event]) -> _Hull | str:
        m = self.m
        v = D.var.key
        cs, fmins, fmaxs = [], [], []
        for e in writes:
            p = m.expand(e.poly)
            if p is None:
                return f"write {text(e.node)} has a non-affine subscript"
            if p.degree_in(v) > 1:
                return f"write {text(e.node)} is not linear in '{D.var.name}'"
            c = p.coeff(v)
            f = p.drop(v)
            loops = list(e.loops)
            inner = loops[loops.index(D) + 1:]
            order = []
            loopkeys = {lp.var.key for lp in inner if lp.var is not None} | {v}
            if O is not None:
                loopkeys.add(O.var.key)
            if c.symbols() & loopkeys:
                return f"write {text(e.node)}: stride depends on a loop variable"
            nn = set(self.nonneg)
            for lp in reversed(inner):
                if lp.var is None or not lp.canonical:
                    if lp.var is not None and lp.var.key in f.symbols():
                        return f"write {text(e.node)} depends on a non-canonical loop"
                    continue
                order.append((lp.var.key, m.expand(lp.lower), m.expand(lp.upper)))
            if O is not None:
                order.append((O.var.key, m.expand(O.lower), m.expand(O.upper)))
            for key, lo, _ in order:
                if lo is not None and lo.nonneg(nn):
                    nn.add(key)
            lo = self.dep.extremum(f, order, False, nn)
            hi = self.dep.extremum(f, order, True, nn)
            if lo is None or hi is None:
                return f"cannot bound the elements written by {text(e.node)}"
            if (lo.symbols() | hi.symbols()) & loopkeys:
                return f"the elements written by {text(e.node)} depend on '{D.var.name}' non-uniformly"
            for s in lo.symbols() | hi.symbols() | c.symbols():
                if not s.startswith("@") and m.decl_by_key(s) is None:
                    return f"cannot express '{s}'"
            cs.append(c)
            fmins.append(lo)
            fmaxs.append(hi)
        c = cs[0]
        if any(ci != c for ci in cs):
            return f"writes to '{decl.name}' use different strides"
        fmin = _pick(fmins, self.nonneg, want_max=False)
        fmax = _pick(fmaxs, self.nonneg, want_max=True)
        if fmin is None or fmax is None:
            return f"cannot order the elements written to '{decl.name}'"
        span = fmax - fmin
        # consecutive iterations are |step| values of the variable apart: out[i], out[i + 1] for i += 2
        # writes disjoint pairs
        cs = c * abs(D.step)
        if c.nonneg(self.nonneg):
            ok = (cs - span).positive(self.nonneg)
        elif (-c).nonneg(self.nonneg):
            ok = (-cs - span).positive(self.nonneg)
        else:
            ok = False
        if not ok:
            return f"slices of '{decl.name}' written by different iterations may interleave"
        return _Hull(decl, c, fmin, fmax)

    # -- one distributed loop ------------------------------------------------
    def plan(self, L: Loop) -> tuple[Loop, Loop | None, LoopFacts, dict]:
        """Pick the loop to distribute (L, or its perfectly nested child) and the hulls."""
        f = self.fx.loops[L]
        options = [(L, None, f)]
        child = _only_child_loop(L)
        if child is not None and child.canonical and child.var is not None:
            cf = self.fx.loops.get(child)
            syms = set()
            for p in (child.lower, child.upper):
                pp = self.m.expand(p)
                syms |= pp.symbols() if pp is not None else {"?"}
            written = {e.decl.key for e in self.m.events if L in e.loops and e.write}
            if cf is not None and cf.parallel and "?" not in syms and not (syms & written) \
                    and L.var.key not in syms and not cf.lastprivate and not f.lastprivate:
                options.append((child, L, cf))
        last_err = ""
        for D, O, df in options:
            if not isinstance(D.step, int) and df.arrays_written:
                last_err = f"loop at line {D.line} has a step that is not a constant"
                continue
            hulls = {}
            err = ""
            for decl in df.arrays_written:
                if decl in df.array_reductions:
                    continue
                if not decl.is_param:
                    if O is None and self.owned(decl, D) is not None:
                        # each rank reads back only its own block: nothing to exchange
                        self.kept_local.setdefault(D.id, []).append(decl.name)
                        continue
                    err = f"loop at line {D.line} writes the local array '{decl.name}'"
                    break
                writes = [e for e in self.m.events if e.decl is decl and D in e.loops and e.write]
                if decl.param is not None and is_nested(decl.param):
                    # a nested vector: iteration v writes only within row v (its rows are gathered)
                    if O is not None or any(e.dims is None or e.dims[0] is None or
                                            self.m.expand(e.dims[0]) != Poly.sym(D.var.key) for e in writes):
                        err = (f"the loop at line {D.line} writes the nested vector '{decl.name}' other than "
                               f"row by row (row = the loop variable)")
                        break
                    hulls[decl] = "rows"
                    continue
                h = self.hull(D, O, decl, writes)
                if isinstance(h, str):
                    err = h
                    break
                hulls[decl] = h
            if not err:
                self.outer_why = last_err
                return D, O, df, hulls
            last_err = err
        raise NotParallelizable(last_err)

    def owned(self, decl: Decl, D: Loop) -> str | None:
        """Owner reuse: after distributed loop D writes `decl`, is it touched only by later distributed
        loops over the same iterations (the same bounds, unchanged in between, so the same blocks),
        each at elements D writes in the same iteration (y[i] after y[i] = ...)? Then every rank reads
        back only what it wrote itself (or the value every rank holds, where D's write was
        conditional), and no exchange between the loops is needed: 'skip' when a later loop writes the
        same elements again (it gathers them), 'rank0' when only rank 0 needs them at the end (one
        MPI_Gatherv instead of MPI_Allgatherv), None otherwise. softmax's y (written, then scaled in
        place) and a mask computed in one loop and used in the next are the usual cases."""
        m = self.m
        if D.parent is not None or D.var is None or not D.canonical or D.while_form or \
                not isinstance(D.step, int) or D.step == 0:
            return None
        if any(self.fx.alias_groups.get(d.key, d.key) == self.fx.alias_groups.get(decl.key, decl.key)
               for d in m.decls if d is not decl) or (decl.param is not None and is_nested(decl.param)):
            return None
        written = set()
        for e in m.events:
            if e.decl is decl and D in e.loops and e.write:
                p = m.expand(e.poly) if e.poly is not None else None
                if p is None or e.dims is not None:
                    return None
                written.add(p)
        if not written:
            return None
        later = [L for L in self.distributed if L is not D and L.start >= D.end]
        bound_keys = set()
        for p in (D.lower, D.upper):
            pp = m.expand(p) if p is not None else None
            if pp is None:
                return None
            bound_keys |= pp.symbols()
        # an array parameter of the same element type may be the same memory (an in-place call that the
        # entry check lets through): its later accesses must keep to the rank's own elements too
        same = {decl} | ({d for d in m.decls if d.is_param and d.is_array and d.kind == decl.kind
                          and d.base_type == decl.base_type} if decl.is_param else set())
        rewritten = set()
        last = D.end
        for e in m.events:
            if e.node.start_byte < D.end:
                continue
            if e.write and e.decl.key in bound_keys:
                return None                     # a bound changes: the blocks would not be the same
            if e.decl not in same:
                continue
            L2 = next((L for L in later if L.contains(e.node)), None)
            if L2 is None or L2.parent is not None or L2.var is None or not L2.canonical or L2.while_form \
                    or L2.step != D.step or L2.cond_op != D.cond_op or L2.init_text() != D.init_text() \
                    or L2.bound_text() != D.bound_text() or e.loops[0] is not L2 or e.dims is not None:
                return None
            p = m.expand(e.poly) if e.poly is not None else None
            if p is None or p.subs(L2.var.key, Poly.sym(D.var.key)) not in written:
                return None
            if e.write and e.decl is decl and self._always_after(D, L2):
                rewritten.add(p.subs(L2.var.key, Poly.sym(D.var.key)))
            last = max(last, L2.end)
        if any(e.write and e.decl.key in bound_keys and D.end <= e.node.start_byte < last for e in m.events):
            return None
        # skipped only where the later loops write (and so gather) every element D writes
        return "skip" if rewritten >= written else "rank0"

    def _always_after(self, D: Loop, L2: Loop) -> bool:
        """Does L2 run whenever D has run: both statements of one block, no jump between them (a later
        loop under an `if`, or after a `return`, may not run, and would then not gather what D left
        in the ranks' blocks)?"""
        if L2.node.parent is None or L2.node.parent != D.node.parent:
            return False
        between = self.data[D.end:L2.start].decode("utf-8", "replace")
        return re.search(r"\b(return|break|continue|goto|throw|longjmp|exit)\b", between) is None

    def used_later(self, decl: Decl, block: Loop) -> bool:
        group = self.fx.alias_groups.get(decl.key, decl.key)
        members = {d for d in self.m.decls if self.fx.alias_groups.get(d.key, d.key) == group} | {decl}
        enclosing = []
        p = block.parent
        while p is not None:
            enclosing.append(p)
            p = p.parent
        for e in self.m.events:
            if e.decl not in members:
                continue
            if e.node.start_byte >= block.end:
                return True
            if any(lp in e.loops for lp in enclosing) and not block.contains(e.node):
                return True
        return False

    def gen_block(self, L: Loop) -> tuple[tuple[int, int, str], str]:
        D, O, f, hulls = self.plan(L)
        block = O if O is not None else D
        if block.parent is not None and (hulls or f.reductions or f.array_reductions or f.lastprivate
                                         or f.argminmax is not None):
            # e.g. the row loop of a CSR product whose output may alias an input:
            # only the short inner dot product is parallel, and distributing it
            # costs one MPI_Allreduce per row (minutes on an oversubscribed node)
            raise NotParallelizable(
                f"the parallel loop at line {D.line} sits inside the sequential loop at line {block.parent.line}: "
                f"its results would be exchanged between all ranks on every iteration of that loop, which "
                f"costs more than it saves")
        if O is None and D is f.loop and not hulls and f.array_reductions and \
                any(d.name in self.fx.data_extents for d in f.array_reductions):
            # hist[bin[i]]: bins of each rank's own, no scan of the index values first (histogram.py)
            from .histogram import mpi_privatized
            hist = mpi_privatized(self.fx, f)
            if hist is not None:
                return hist
        self.k += 1
        k = self.k
        m = self.m
        r = self.r
        ind = "    "
        lo_c = f"(long long)({D.init_text()})"
        hi_c = f"(long long)({D.bound_text()})"
        out = [f"{{ /* paralift: MPI block distribution of the loop at line {D.line} */",
               f"{ind}int __pl_rank, __pl_size;",
               f"{ind}MPI_Comm_rank(MPI_COMM_WORLD, &__pl_rank);",
               f"{ind}MPI_Comm_size(MPI_COMM_WORLD, &__pl_size);",
               f"{ind}const long long __pl_lo = {lo_c};",
               f"{ind}const long long __pl_hi = {hi_c};",
               f"{ind}const long long __pl_n = {trip_count_c(D, '__pl_lo', '__pl_hi')};",
               f"{ind}const long long __pl_q = __pl_n / __pl_size, __pl_r = __pl_n % __pl_size;",
               f"{ind}const long long __pl_b = __pl_rank * __pl_q + (__pl_rank < __pl_r ? __pl_rank : __pl_r);",
               f"{ind}const long long __pl_e = __pl_b + __pl_q + (__pl_rank < __pl_r ? 1 : 0);"]
        epi: list[str] = []
        notes = [f"loop at line {D.line}: block-distributed"]
        cut = self._csr_cut(D, f, O, hulls, ind)
        if cut is not None:
            offsets, out[-2:] = cut
            notes[0] = (f"loop at line {D.line}: rows distributed in blocks cut where "
                        f"'{offsets}' splits nonzeros + rows evenly")
        if O is not None:
            # the outer loop runs whole on every rank inside the one block: its iterations' slices
            # interleave, the inner loop's do not (a transpose): one exchange after the nest all the same
            notes[0] += (f" inside the loop at line {O.line}, which every rank runs whole "
                         f"({getattr(self, 'outer_why', '') or 'its slices interleave'})")
        # scalar reductions: one MPI_Allreduce per (type, operator), several scalars packed in an array
        groups: dict[tuple[str, str, str], list[tuple[int, Decl]]] = {}
        for i, (d, op) in enumerate(f.reductions.items()):
            ty = d.base_type
            if ty in (None, "auto"):
                raise NotParallelizable(f"reduction variable '{d.name}' has an unknown type")
            mt = mpi_type(ty, self.lang)
            if op in ("&", "|", "^") and ty in FLOAT_TYPES:
                raise NotParallelizable(f"bitwise reduction on '{d.name}'")
            if op not in _IDEMPOTENT:
                ident = "0" if op in ("+", "^") else "1"
                out.append(f"{ind}const {ty} __pl_s0_{i} = {d.name};")
                out.append(f"{ind}{d.name} = ({ty}){ident};")
            groups.setdefault((ty, mt, op), []).append((i, d))
        for g, ((ty, mt, op), members) in enumerate(groups.items()):
            if len(members) == 1:
                epi.append(f"{ind}MPI_Allreduce(MPI_IN_PLACE, &{members[0][1].name}, 1, {mt}, {MPI_OPS[op]}, "
                           f"MPI_COMM_WORLD);")
            else:
                epi += [f"{ind}{ty} __pl_rv{g}[{len(members)}] = {{ {', '.join(d.name for _, d in members)} }};",
                        f"{ind}MPI_Allreduce(MPI_IN_PLACE, __pl_rv{g}, {len(members)}, {mt}, {MPI_OPS[op]}, "
                        f"MPI_COMM_WORLD);"]
                epi += [f"{ind}{d.name} = __pl_rv{g}[{j}];" for j, (_, d) in enumerate(members)]
            for i, d in members:
                if op not in _IDEMPOTENT:
                    epi.append(f"{ind}{d.name} = __pl_s0_{i} {op} {d.name};")
            notes.append(f"MPI_Allreduce({op}) of {', '.join(repr(d.name) for _, d in members)}")
        # array reductions
        for i, (d, op) in enumerate(f.array_reductions.items()):
            if op != "+":
                raise NotParallelizable(f"array reduction '{op}' on '{d.name}'")
            if not d.is_param:
                raise NotParallelizable(f"array reduction on local '{d.name}'")
            ty = d.base_type
            mt = mpi_type(ty, self.lang)
            # hist[bin[i]]: the touched range [first, first + count) from a scan of bin at entry (issue 19)
            first, ext = scanned_extent(r, d.name, out, ind, self.nonneg)
            base = f"({d.name}.data() + __pl_f{i})" if d.kind == "vector" else f"({d.name} + __pl_f{i})"
            # rank 0 adds its block's counts onto the array as it is (the caller's values stay, as in the
            # sequential code); every other rank counts from zero in its own copy (its outputs are not the
            # caller's: results are on rank 0), so one reduction of the touched range, in place, gives the
            # result with no saved copy and no second pass
            out += [f"{ind}const long long __pl_f{i} = {first}, __pl_x{i} = {ext};",
                    f"{ind}{ty} *const __pl_base{i} = {base};",
                    f"{ind}if (__pl_rank != 0)",
                    f"{ind}    for (long long __pl_k = 0; __pl_k < __pl_x{i}; __pl_k++) __pl_base{i}[__pl_k] = ({ty})0;"]
            if self.used_later(d, D if O is None else O):
                epi.append(f"{ind}if (__pl_x{i} > 0) MPI_Allreduce(MPI_IN_PLACE, __pl_base{i}, (int)__pl_x{i}, "
                           f"{mt}, MPI_SUM, MPI_COMM_WORLD);")
                notes.append(f"array reduction of '{d.name}' with one MPI_Allreduce in place")
            else:
                epi += [f"{ind}if (__pl_x{i} > 0) MPI_Reduce(__pl_rank == 0 ? MPI_IN_PLACE : (const void *)__pl_base{i}, "
                        f"__pl_base{i}, (int)__pl_x{i}, {mt}, MPI_SUM, 0, MPI_COMM_WORLD);"]
                notes.append(f"array reduction of '{d.name}' with one MPI_Reduce to rank 0, in place")
        # argmin/argmax with the index: per-rank pairs, then MPI_MINLOC/MAXLOC (lower index on equal values)
        renames = []
        if f.argminmax is not None:
            if D is not f.loop:
                raise NotParallelizable(f"the argmin/argmax loop at line {f.loop.line} is not the distributed one")
            best, idx, op, node = f.argminmax
            pair = _LOC_TYPES.get(best.base_type)
            lb, li = f"__pl_best_{best.name}", f"__pl_idx_{idx.name}"
            for n in walk(node):
                if n.type == "identifier" and text(n) in (best.name, idx.name):
                    renames.append((n.start_byte, n.end_byte, lb if text(n) == best.name else li))
            if pair is not None and idx.base_type == "int":
                out += [f"{ind}{best.base_type} {lb} = {best.name};", f"{ind}int {li} = {idx.name};"]
                epi += [f"{ind}struct {{ {best.base_type} v; int i; }} __pl_loc = {{ {lb}, {li} }};",
                        f"{ind}MPI_Allreduce(MPI_IN_PLACE, &__pl_loc, 1, {pair}, "
                        f"{'MPI_MINLOC' if op == 'min' else 'MPI_MAXLOC'}, MPI_COMM_WORLD);",
                        f"{ind}{best.name} = __pl_loc.v;", f"{ind}{idx.name} = __pl_loc.i;"]
                notes.append(f"arg{op} of '{best.name}' at '{idx.name}' with MPI_{'MIN' if op == 'min' else 'MAX'}LOC")
            else:
                # no MINLOC pair for these types (a long or size_t index): the best value first, then the
                # lowest rank holding it (its block comes first, so its index is the first occurrence)
                # sends its index
                vt, it = mpi_type(best.base_type, self.lang), mpi_type(idx.base_type, self.lang)
                out += [f"{ind}{best.base_type} {lb} = {best.name};", f"{ind}{idx.base_type} {li} = {idx.name};"]
                epi += [f"{ind}{best.base_type} __pl_gb = {lb};",
                        f"{ind}MPI_Allreduce(MPI_IN_PLACE, &__pl_gb, 1, {vt}, {'MPI_MIN' if op == 'min' else 'MPI_MAX'}, "
                        f"MPI_COMM_WORLD);",
                        f"{ind}int __pl_own = ({lb} == __pl_gb) ? __pl_rank : __pl_size;",
                        f"{ind}MPI_Allreduce(MPI_IN_PLACE, &__pl_own, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);",
                        f"{ind}if (__pl_own < __pl_size) MPI_Bcast(&{li}, 1, {it}, __pl_own, MPI_COMM_WORLD);",
                        f"{ind}{best.name} = __pl_gb;", f"{ind}{idx.name} = {li};"]
                notes.append(f"arg{op} of '{best.name}' at '{idx.name}': MPI_Allreduce({op}) of the value, the "
                             f"lowest rank holding it broadcasts the index")
        # the local loop
        vt = var_type(D.var)
        simd_top, simd_inner = self.simd(D, f) if O is None and not getattr(f, "scan_ok", False) else (None, [])
        body = node_text_with(self.data, D.body, skip_edits(D) + renames + simd_inner)
        if D.body.type != "compound_statement" or D.body_prefix():
            body = "{ " + D.body_prefix() + " " + body + " }"
        local = (f"for (long long __pl_t = __pl_b; __pl_t < __pl_e; __pl_t++) {{\n"
                 f"{ind}    {vt} {D.var.name} = ({vt})(__pl_lo + __pl_t * ({D.step}));\n"
                 f"{ind}    {body}\n{ind}}}")
        if simd_top is not None:
            local = f"{simd_top}\n{ind}{local}"
        if simd_top is not None or simd_inner:
            notes.append("the ranks' floating-point reductions vectorized (omp simd, with -fopenmp-simd)")
        if O is not None:
            local = node_text_with(self.data, O.node, [(D.node.start_byte, D.node.end_byte, local)])
        if getattr(f, "scan_ok", False):
            # a prefix sum: block sums, MPI_Exscan, the block again from its offset (agents/scan.py)
            from .scan import mpi_local
            local, after, note = mpi_local(self, D, f, ind, renames)
            epi += after
            notes.append(note)
        out.append(f"{ind}{local}")
        # gathers
        if hulls:
            out_g = [f"{ind}int *__pl_cnt = (int *)malloc(sizeof(int) * (size_t)__pl_size);",
                     f"{ind}int *__pl_dsp = (int *)malloc(sizeof(int) * (size_t)__pl_size);"]
            for decl, h in hulls.items():
                reuse = self.owned(decl, D) if O is None and h != "rows" else None
                if reuse == "skip":
                    notes.append(f"'{decl.name}' stays in each rank's block for the loop that writes it next")
                    continue
                if h == "rows":
                    out_g += self._gather_rows(D, decl, block, ind)
                    notes.append(f"rows of the nested vector '{decl.name}' packed and "
                                 f"{'all-gathered' if self.used_later(decl, block) else 'gathered to rank 0'}")
                    continue
                mt = mpi_type(decl.base_type, self.lang)
                buf = f"{decl.name}.data()" if decl.kind == "vector" else decl.name
                c = r.poly(h.c)
                fmin = r.poly(h.fmin)
                fmax = r.poly(h.fmax)
                if D.step == 1:
                    vmin, vmax = "(__pl_lo + __pl_kb)", "(__pl_lo + __pl_ke - 1)"
                elif D.step == -1:
                    vmin, vmax = "(__pl_lo - (__pl_ke - 1))", "(__pl_lo - __pl_kb)"
                elif D.step > 0:
                    vmin, vmax = f"(__pl_lo + __pl_kb * {D.step})", f"(__pl_lo + (__pl_ke - 1) * {D.step})"
                else:
                    vmin, vmax = f"(__pl_lo + (__pl_ke - 1) * ({D.step}))", f"(__pl_lo + __pl_kb * ({D.step}))"
                if self._strided(D, h):
                    out_g += self._gather_strided(decl, h, buf, mt, block, ind)
                    continue
                if h.c.nonneg(self.nonneg):
                    s_expr, e_expr = f"({c}) * {vmin} + ({fmin})", f"({c}) * {vmax} + ({fmax})"
                else:
                    s_expr, e_expr = f"({c}) * {vmax} + ({fmin})", f"({c}) * {vmin} + ({fmax})"
                kb = ("__pl_cut[__pl_k]" if cut is not None else
                      "__pl_k * __pl_q + (__pl_k < __pl_r ? __pl_k : __pl_r)")
                ke = "__pl_cut[__pl_k + 1]" if cut is not None else "__pl_kb + __pl_q + (__pl_k < __pl_r ? 1 : 0)"
                out_g += [
                    f"{ind}for (int __pl_k = 0; __pl_k < __pl_size; __pl_k++) {{",
                    f"{ind}    const long long __pl_kb = {kb};",
                    f"{ind}    const long long __pl_ke = {ke};",
                    f"{ind}    if (__pl_ke <= __pl_kb) {{ __pl_cnt[__pl_k] = 0; __pl_dsp[__pl_k] = 0; continue; }}",
                    f"{ind}    const long long __pl_s = {s_expr};",
                    f"{ind}    const long long __pl_z = {e_expr};",
                    f"{ind}    __pl_cnt[__pl_k] = __pl_z >= __pl_s ? (int)(__pl_z - __pl_s + 1) : 0;",
                    f"{ind}    __pl_dsp[__pl_k] = __pl_z >= __pl_s ? (int)__pl_s : 0;",
                    f"{ind}}}"]
                if self.used_later(decl, block) and reuse is None:
                    out_g.append(f"{ind}MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, {buf}, __pl_cnt, "
                                 f"__pl_dsp, {mt}, MPI_COMM_WORLD);")
                    notes.append(f"MPI_Allgatherv of '{decl.name}'")
                else:
                    out_g += [f"{ind}if (__pl_rank == 0)",
                              f"{ind}    MPI_Gatherv(MPI_IN_PLACE, 0, {mt}, {buf}, __pl_cnt, __pl_dsp, {mt}, 0, "
                              f"MPI_COMM_WORLD);",
                              f"{ind}else",
                              f"{ind}    MPI_Gatherv({buf} + __pl_dsp[__pl_rank], __pl_cnt[__pl_rank], {mt}, "
                              f"NULL, NULL, NULL, {mt}, 0, MPI_COMM_WORLD);"]
                    notes.append(f"MPI_Gatherv of '{decl.name}' to rank 0")
            out_g += [f"{ind}free(__pl_cnt);", f"{ind}free(__pl_dsp);"]
            epi += out_g
        # lastprivate: broadcast from the rank that ran the last iteration
        for d in f.lastprivate:
            mt = mpi_type(d.base_type, self.lang)
            epi.append(f"{ind}if (__pl_n > 0) MPI_Bcast(&{d.name}, 1, {mt}, "
                       f"(int)(__pl_n >= __pl_size ? __pl_size - 1 : __pl_n - 1), MPI_COMM_WORLD);")
        if cut is not None:
            epi.append(f"{ind}free(__pl_cut);")
        if self.kept_local.get(D.id):
            notes.append(f"each rank keeps its block of {', '.join(repr(n) for n in self.kept_local[D.id])} for "
                         f"the later loops over the same iterations")
        if not hulls and not f.reductions and not f.array_reductions and not f.lastprivate and f.argminmax is None \
                and not getattr(f, "scan_ok", False) and not self.kept_local.get(D.id):
            raise NotParallelizable(f"loop at line {D.line} produces no result to communicate")
        out += epi
        structs = sorted(set(re.findall(r"__pl_type_(\w+)", "\n".join(out))))
        out[1:1] = [f"{ind}MPI_Datatype __pl_type_{t}; MPI_Type_contiguous((int)sizeof({_BYTE_TYPES.get(t, t)}), "
                    f"MPI_BYTE, &__pl_type_{t}); MPI_Type_commit(&__pl_type_{t});" for t in structs]
        out += [f"{ind}MPI_Type_free(&__pl_type_{t});" for t in structs]
        out.append("}")
        return (block.node.start_byte, block.node.end_byte, "\n".join(out)), ", ".join(notes)


    def simd(self, D: Loop, f: LoopFacts) -> tuple[str | None, list[tuple[int, int, str]]]:
        """`#pragma omp simd` for the rank's own loops that reduce a floating-point sum or product (the
        pragma over the distributed loop, or None; edits putting it over inner loops). A rank's partial
        result reorders the reduction already, as the threads' do in the OpenMP code, whose loops get the
        same pragma; without it the sequential order makes every add wait for the one before (a dot
        product per matrix row, a sum)."""
        from .codegen_openmp import condition_edits, simd_clauses
        fx = self.fx
        top = None
        if f.argminmax is None and not f.lastprivate and not f.array_reductions and not self._runtime_stride(D):
            cl = simd_clauses(fx, D)
            if cl is not None:
                top = " ".join(["#pragma omp simd"] + cl)
        inner: list[tuple[int, int, str]] = []
        for lp in descendants(D):
            cl = simd_clauses(fx, lp)
            if cl is not None:
                inner.extend(pragma_before(self.data, lp.node, " ".join(["#pragma omp simd"] + cl)))
                inner.extend(condition_edits(lp))
        return top, inner

    def _csr_cut(self, D: Loop, f: LoopFacts, O: Loop | None, hulls: dict, ind: str
                 ) -> tuple[str, list[str]] | None:
        """The rank's block of a CSR row loop (rows whose nonzeros lie between offsets B[row] and
        B[row + 1]) cut where B splits nonzeros + rows evenly, as the OpenMP code's threads are
        (codegen_openmp.csr_rows_edits): with row lengths falling as 1/(row + 1), equal row counts gave
        rank 0 nearly all the nonzeros. Lines replacing the block bounds __pl_b/__pl_e, after which
        __pl_cut[k] .. __pl_cut[k + 1] is rank k's block; None for any other loop. The cuts are made
        monotone and end at the trip count, so the blocks cover the rows once whatever B holds.
        Returns (B's name, the lines)."""
        from .codegen_openmp import csr_offsets, csr_split_c
        if O is not None or D.step != 1 or D.cond_op not in ("<", "<=") or not D.canonical or D.while_form \
                or D.range_of is not None or f.lastprivate or getattr(f, "scan_ok", False):
            return None
        if any(h == "rows" or (not isinstance(h, str) and self._strided(D, h)) for h in hulls.values()):
            return None
        B = csr_offsets(self.fx, D)
        if B is None:
            return None
        b = B.name
        return b, [
            f"{ind}long long *__pl_cut = (long long *)malloc(sizeof(long long) * (size_t)(__pl_size + 1));",
            f"{ind}__pl_cut[0] = 0;",
            f"{ind}{{ const long long __pl_c0 = __pl_n > 0 ? (long long){b}[__pl_lo] : 0, "
            f"__pl_c1 = __pl_n > 0 ? (long long){b}[__pl_lo + __pl_n] : 0;",
            f"{ind}  for (int __pl_u = 1; __pl_u <= __pl_size; __pl_u++) {{",
            f"{ind}    long long __pl_x = __pl_n;",
            f"{ind}    if (__pl_u < __pl_size && __pl_n > 0) {csr_split_c(b, '__pl_lo', '__pl_n', '__pl_size')}",
            f"{ind}    if (__pl_x < __pl_cut[__pl_u - 1]) __pl_x = __pl_cut[__pl_u - 1];",
            f"{ind}    __pl_cut[__pl_u] = __pl_x;",
            f"{ind}  }} }}",
            f"{ind}const long long __pl_b = __pl_cut[__pl_rank], __pl_e = __pl_cut[__pl_rank + 1];"]

    def _runtime_stride(self, lp: Loop) -> bool:
        """Does an access in distributed loop lp step through memory by a stride known only at run time
        (x[i * incx])? Vectorized, each lane's element is loaded on its own from an index the rank's loop
        computes from its long long counter: dot_inc ran at 1.37x with `omp simd` and 1.55x without
        (2 ranks). Inner loops keep it (matmul's B[k * n + j]: 3.1x with it, 2.0x without)."""
        if lp.var is None:
            return False
        for e in self.m.events:
            if lp in e.loops and e.poly is not None:
                p = self.m.expand(e.poly)
                if p is not None and p.degree_in(lp.var.key) == 1 and not p.coeff(lp.var.key).is_const():
                    return True
        return False

    def _strided(self, D: Loop, h: _Hull) -> bool:
        """One element per iteration, `c` apart with c >= 1 proven (or checked at entry: a BLAS
        increment, agents/strides.py) and not the constant 1: the hull of a rank's block holds c - 1
        elements it did not write between each two it did."""
        return (D.step == 1 and h.fmin == h.fmax and not h.c.is_const() and (h.c - 1).nonneg(self.nonneg))

    def _gather_strided(self, decl: Decl, h: _Hull, buf: str, mt: str, block: Loop, ind: str) -> list[str]:
        """The written elements only, `c` apart: a datatype of one element whose extent is c elements
        (MPI_Type_create_resized), counts and displacements in iterations from the first written
        element; the user's array is the buffer on every rank (no copy), rank 0's part stays in place."""
        r = self.r
        c, f0 = r.poly(h.c), r.poly(h.fmin)
        ty = decl.base_type
        later = self.used_later(decl, block)
        L = [f"{ind}if (__pl_n > 0) {{ /* the elements of '{decl.name}' written, {c} apart */",
             f"{ind}    MPI_Datatype __pl_st;",
             f"{ind}    MPI_Type_create_resized({mt}, 0, (MPI_Aint)(({c}) * (long long)sizeof({ty})), &__pl_st);",
             f"{ind}    MPI_Type_commit(&__pl_st);",
             f"{ind}    for (int __pl_k = 0; __pl_k < __pl_size; __pl_k++) {{",
             f"{ind}        const long long __pl_kb = __pl_k * __pl_q + (__pl_k < __pl_r ? __pl_k : __pl_r);",
             f"{ind}        __pl_cnt[__pl_k] = (int)(__pl_q + (__pl_k < __pl_r ? 1 : 0));",
             f"{ind}        __pl_dsp[__pl_k] = (int)__pl_kb;",
             f"{ind}    }}",
             f"{ind}    {ty} *const __pl_p = {buf} + (({c}) * __pl_lo + ({f0}));"]
        if later:
            L.append(f"{ind}    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, __pl_p, __pl_cnt, __pl_dsp, __pl_st, "
                     f"MPI_COMM_WORLD);")
        else:
            L += [f"{ind}    if (__pl_rank == 0)",
                  f"{ind}        MPI_Gatherv(MPI_IN_PLACE, 0, __pl_st, __pl_p, __pl_cnt, __pl_dsp, __pl_st, 0, MPI_COMM_WORLD);",
                  f"{ind}    else",
                  f"{ind}        MPI_Gatherv(__pl_p + ({c}) * __pl_b, __pl_cnt[__pl_rank], __pl_st, NULL, NULL, NULL, __pl_st, 0, "
                  f"MPI_COMM_WORLD);"]
        L += [f"{ind}    MPI_Type_free(&__pl_st);", f"{ind}}}"]
        return L

    def _gather_rows(self, D: Loop, decl: Decl, block: Loop, ind: str) -> list[str]:
        """Gather the rows of a nested vector (std::vector<std::vector<T>>) that each rank's iterations
        wrote (row = the loop variable): packed in row order with their element counts and offsets
        (every rank knows every row's length: the loop writes elements, it does not resize rows), to
        rank 0, or to every rank when the function reads the vector again."""
        mt = mpi_type(decl.base_type, self.lang)
        t, a = decl.base_type, decl.name
        row = f"(size_t)(__pl_lo + __pl_w * ({D.step}))"
        L = [f"{ind}{{ /* the rows of '{a}' */",
             f"{ind}    long long __pl_tot = 0;",
             f"{ind}    for (int __pl_k = 0; __pl_k < __pl_size; __pl_k++) {{",
             f"{ind}        const long long __pl_kb = __pl_k * __pl_q + (__pl_k < __pl_r ? __pl_k : __pl_r);",
             f"{ind}        const long long __pl_ke = __pl_kb + __pl_q + (__pl_k < __pl_r ? 1 : 0);",
             f"{ind}        long long __pl_c = 0;",
             f"{ind}        for (long long __pl_w = __pl_kb; __pl_w < __pl_ke; __pl_w++) __pl_c += (long long){a}[{row}].size();",
             f"{ind}        __pl_cnt[__pl_k] = (int)__pl_c; __pl_dsp[__pl_k] = (int)__pl_tot; __pl_tot += __pl_c;",
             f"{ind}    }}",
             f"{ind}    {t} *__pl_pack = ({t} *)malloc(sizeof({t}) * (size_t)(__pl_tot > 0 ? __pl_tot : 1));",
             f"{ind}    long long __pl_o = __pl_dsp[__pl_rank];",
             f"{ind}    for (long long __pl_w = __pl_b; __pl_w < __pl_e; __pl_w++)",
             f"{ind}        for (size_t __pl_j = 0; __pl_j < {a}[{row}].size(); __pl_j++) __pl_pack[__pl_o++] = {a}[{row}][__pl_j];"]
        if self.used_later(decl, block):
            L.append(f"{ind}    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, __pl_pack, __pl_cnt, __pl_dsp, {mt}, "
                     f"MPI_COMM_WORLD);")
            recv = "1"
        else:
            L += [f"{ind}    if (__pl_rank == 0)",
                  f"{ind}        MPI_Gatherv(MPI_IN_PLACE, 0, {mt}, __pl_pack, __pl_cnt, __pl_dsp, {mt}, 0, MPI_COMM_WORLD);",
                  f"{ind}    else",
                  f"{ind}        MPI_Gatherv(__pl_pack + __pl_dsp[__pl_rank], __pl_cnt[__pl_rank], {mt}, NULL, NULL, NULL, "
                  f"{mt}, 0, MPI_COMM_WORLD);"]
            recv = "__pl_rank == 0"
        L += [f"{ind}    if ({recv}) {{",
              f"{ind}        __pl_o = 0;",
              f"{ind}        for (long long __pl_w = 0; __pl_w < __pl_n; __pl_w++)",
              f"{ind}            for (size_t __pl_j = 0; __pl_j < {a}[{row}].size(); __pl_j++) {a}[{row}][__pl_j] = __pl_pack[__pl_o++];",
              f"{ind}    }}",
              f"{ind}    free(__pl_pack);",
              f"{ind}}}"]
        return L


def _pick(polys: list[Poly], nonneg: set[str], want_max: bool) -> Poly | None:
    best = polys[0]
    for p in polys[1:]:
        d = (p - best) if want_max else (best - p)
        if d.nonneg(nonneg):
            best = p
        elif not (-d).nonneg(nonneg):
            return None
    return best


def is_fill(fx: FunctionFacts, f: LoopFacts) -> bool:
    """A loop that only stores values it does not read from memory (hist[b] = 0, y[i] = a): no array
    element read, no call, nothing to reduce. Every rank runs it whole on its own copy (every rank has
    the complete inputs, DESIGN.md §3): it costs each rank what it costs the sequential code, while
    distributing it costs half of that plus an exchange of the written elements, which at memory speed
    costs more than writing them (a 16 MB MPI_Allgatherv of a histogram's zeroed bins took longer than
    the whole sequential histogram)."""
    L, m = f.loop, fx.model
    if f.reductions or f.array_reductions or f.lastprivate or f.argminmax is not None or getattr(f, "scan_ok", False):
        return False
    evs = [e for e in m.events if L in e.loops and e.is_array]
    if not evs or any(e.read or e.index_arrays for e in evs):
        return False
    if any(c.loops and L in c.loops for c in m.calls):
        return False
    # O(1) work per stored element: every loop of the nest indexes the stores (a 2-D fill). A loop that
    # computes what it stores (mandelbrot's escape-time while loop, a sum over k) is work to distribute.
    for lp in m.loops:
        if lp is not L and not L.encloses(lp):
            continue
        if lp.kind != "for" or not lp.canonical or lp.var is None:
            return False
        if not any(lp in e.loops and e.write and lp.var.key in _subscript_symbols(m, e) for e in evs):
            return False
    return True


def _subscript_symbols(m, e) -> set:
    p = m.expand(e.poly) if e.poly is not None else None
    p = p if p is not None else e.poly
    return p.symbols() if p is not None else set()


def generate_mpi(fx: FunctionFacts) -> tuple[str, str]:
    chosen = fx.chosen_loops() + (fx.scan_loops() if hasattr(fx, "scan_loops") else [])
    if not chosen:
        raise NotParallelizable(fx.reason or "no parallel loop")
    fills = [f for f in chosen if is_fill(fx, f)]
    chosen = [f for f in chosen if f not in fills]
    if not chosen:
        raise NotParallelizable(
            f"the parallel loop{'s' if len(fills) > 1 else ''} at line{'s' if len(fills) > 1 else ''} "
            f"{', '.join(str(f.loop.line) for f in fills)} only store{'' if len(fills) > 1 else 's'} values: "
            f"under MPI every rank would have to send its part to rank 0, which costs more than storing it")
    fx.self_checked = set()     # this translation's histogram loops that test their own overlaps (histogram.py)
    gen = MPIGen(fx)
    gen.distributed = [f.loop for f in chosen]
    edits = []
    notes = [f"loop at line {f.loop.line}: run whole on every rank (a fill costs less than its exchange)"
             for f in fills]
    for f in chosen:
        e, n = gen.gen_block(f.loop)
        edits.append(e)
        notes.append(n)
    fn = fx.model.fn
    helpers = iminmax_needed("\n".join(e[2] for e in edits))
    if helpers:
        edits.append((fn.start_byte, fn.start_byte, helpers))
    code = splice(fx.unit.data, edits)
    code = add_include(code, "stdlib.h")
    if any("memcpy(" in e[2] for e in edits):      # the histogram's growing bins (histogram.py)
        code = add_include(code, "string.h")
    code = add_include(code, "mpi.h")
    return code, "; ".join(notes)

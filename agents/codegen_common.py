"""Helpers shared by the code generators: byte-level splicing, C rendering of
extents and trip counts, and small facts about loops."""
from __future__ import annotations

from tree_sitter import Node

from .analysis import FunctionFacts, LoopFacts
from .base import NotParallelizable
from .frontend import Decl, Loop, atom_info, text, walk
from .poly import Poly


def splice(data: bytes, edits: list[tuple[int, int, str]]) -> str:
    """Apply (start, end, replacement) byte edits (non-overlapping, any order)."""
    out = []
    pos = 0
    for start, end, rep in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos:
            raise ValueError("overlapping edits")
        out.append(data[pos:start])
        out.append(rep.encode("utf-8"))
        pos = end
    out.append(data[pos:])
    return b"".join(out).decode("utf-8")


def node_text_with(data: bytes, node: Node, edits: list[tuple[int, int, str]]) -> str:
    """The text of `node` with the edits that fall inside it applied."""
    inner = [(s - node.start_byte, e - node.start_byte, r) for s, e, r in edits
             if node.start_byte <= s and e <= node.end_byte]
    return splice(data[node.start_byte:node.end_byte], inner)


def line_indent(data: bytes, byte: int) -> tuple[str, bool]:
    """(indentation of the line containing byte, whether only whitespace precedes byte on it)."""
    ls = data.rfind(b"\n", 0, byte) + 1
    prefix = data[ls:byte].decode("utf-8", "replace")
    ind = prefix[: len(prefix) - len(prefix.lstrip())]
    return ind, prefix.strip() == ""


def insert_line_before(data: bytes, node: Node, line: str) -> tuple[int, int, str]:
    """An edit putting `line` (a pragma) on its own line just before node."""
    ind, alone = line_indent(data, node.start_byte)
    if alone:
        ls = data.rfind(b"\n", 0, node.start_byte) + 1
        return (ls, ls, f"{ind}{line}\n")
    return (node.start_byte, node.start_byte, f"\n{ind}{line}\n{ind}")


def pragma_before(data: bytes, node: Node, line: str) -> list[tuple[int, int, str]]:
    """Edits putting `line` (a pragma) before statement `node`; where node is the body of an `if`, a
    loop or an `else` without braces, the pragma and node are wrapped in braces: OpenMP accepts the
    pragma there, but C and C++ parsers (tree-sitter, which re-reads every candidate) take it for a
    statement of its own and the `if` loses its body."""
    parent = node.parent
    if parent is None or parent.type in ("compound_statement", "translation_unit", "declaration_list",
                                         "labeled_statement", "case_statement"):
        return [insert_line_before(data, node, line)]
    ind, _ = line_indent(data, node.start_byte)
    outer, _ = line_indent(data, parent.start_byte)
    return [(node.start_byte, node.start_byte, f"{{\n{ind}{line}\n{ind}"),
            (node.end_byte, node.end_byte, f"\n{outer}}}")]


def add_include(code: str, header: str) -> str:
    if f"#include <{header}>" in code or f'#include "{header}"' in code:
        return code
    return f"#include <{header}>\n" + code


class CRenderer:
    """Renders analysis polynomials (over declaration keys) as C expressions."""

    def __init__(self, fx: FunctionFacts):
        self.fx = fx
        self.m = fx.model
        # free size tokens: vector sizes and CSR nnz
        self.tokens: dict[str, str] = {}
        for vec, tok in fx.size_tokens.items():
            self.tokens[tok] = f"(long long)({vec}.size())"
        for p in fx.signature.params:
            if p.values.kind.value == "offsets" and p.values.bound and p.values.bound not in self.tokens \
                    and p.extent:
                bound = p.values.bound
                if not any(q.name == bound for q in fx.signature.params):
                    self.tokens[bound] = f"(long long)({p.name}[({self.extent_c(p.name, allow_tokens=False)}) - 1])"

    def sym(self, s: str) -> str:
        if s.startswith("@size:"):
            return f"(long long)({s[6:]}.size())"
        if s.startswith("@div:"):
            _kind, num, k = atom_info(s)
            return f"(({self.poly(num)}) / {k})"
        if s.startswith("@max:") or s.startswith("@min:"):
            kind, a, b = atom_info(s)
            return f"__pl_i{kind}({self.poly(a)}, {self.poly(b)})"
        d = self.m.decl_by_key(s)
        if d is None:
            raise NotParallelizable(f"cannot express '{s}' in generated code")
        return f"(long long){d.name}"

    def poly(self, p: Poly) -> str:
        return p.render(self.sym)

    def extent_c(self, name: str, allow_tokens: bool = True) -> str:
        """The extent of array parameter `name` as a C expression (long long)."""
        p = self.fx.signature.param(name)
        why = getattr(self.fx, "data_extents", {}).get(name)
        if why is not None:
            # A copy, a slice or an overlap test sized by a model of the inputs would be wrong for the calls
            # the model does not foresee (issue 19): only extents the code itself proves are used here.
            raise NotParallelizable(f"the number of elements of '{name}' is not known from the code ({why})")
        if p.kind.value == "vector":
            ext = self.fx.extents.get(name)
            if ext and ext == self.fx.size_tokens.get(name):
                return f"(long long)({name}.size())"
        # prefer the polynomials: they keep distinct vector sizes apart (x.size() - k.size() + 1)
        if name in self.fx.extent_polys and self.fx.extent_polys[name] is not None:
            return "(" + self.poly(self.fx.extent_polys[name]) + ")"
        if name in self.fx.extent_cands:
            out = None
            for c in self.fx.extent_cands[name]:
                r = "(" + self.poly(c) + ")"
                out = r if out is None else f"__pl_imax({out}, {r})"
            return out
        ext = p.extent
        if ext is None:
            raise NotParallelizable(f"the number of elements of '{name}' is unknown")
        return self.expr(ext, allow_tokens)

    def overlap_extent_c(self, name: str) -> str:
        """A C expression (long long) for an upper bound of the elements of `name` the function accesses,
        for an overlap test only: an extent the code proves, or, for a data-dependent one (issue 19), a scan
        at run time of the values that index it (an over-approximation: safe for deciding that two ranges
        are apart, never for sizing a copy; the scan's statements go to self.prelude, to run before the
        test). It is -1 when an index is negative (the range then starts before the pointer: the caller
        treats that as an overlap)."""
        rng = getattr(self.fx, "data_ranges", {}).get(name)
        if name not in getattr(self.fx, "data_extents", {}) or rng is None:
            return self.extent_c(name)
        if not hasattr(self, "prelude"):
            self.prelude = []
        parts = ["(" + self.poly(p) + ")" for p in rng["proven"]]
        for kind, src, off in rng["terms"]:
            if kind == "scalar":
                parts.append(f"((long long)({src}) < 0 ? -1LL : (long long)({src}) + 1)")
                continue
            n = self.overlap_extent_c(src)
            add = "1" if kind == "index" else "0"
            # one scan per array and length (rowptr bounds two arrays of a CSR matrix: scanned once); in
            # OpenMP code the scan is a parallel max reduction (it reads the whole index array: sequential,
            # it cost as much as a small histogram's whole call)
            if not hasattr(self, "scans"):
                self.scans = {}
            k = self.scans.get((src, n))
            if k is None:
                k = self.scans[(src, n)] = len(self.prelude)
                self.prelude.append(f"long long __pl_rm{k} = -1; int __pl_rneg{k} = 0; const long long __pl_rn{k} = {n}; "
                                    f"if (__pl_rn{k} < 0) __pl_rneg{k} = 1;")
                if getattr(self, "omp", False):
                    self.prelude.append(f"#pragma omp parallel for if (__pl_rn{k} > 65536) reduction(max:__pl_rm{k}) "
                                        f"reduction(|:__pl_rneg{k})")
                scan = (f"{{ const long long __pl_rv{k} = (long long)({src})[__pl_rq{k}]; if (__pl_rv{k} < 0) "
                        f"__pl_rneg{k} = 1; if (__pl_rv{k} > __pl_rm{k}) __pl_rm{k} = __pl_rv{k}; }}")
                if getattr(self, "mpi", False):
                    # MPI: a long scan is split between the ranks and its result combined (every rank calls
                    # the function with the same arguments, so all take the same branch); read whole by
                    # every rank, it cost spmv and gather as much as a fifth of their call
                    self.prelude.append(
                        f"{{ long long __pl_sb{k} = 0, __pl_se{k} = __pl_rn{k}; int __pl_sw{k} = 0; "
                        f"if (__pl_rn{k} > 65536) {{ int __pl_sr, __pl_ss; MPI_Comm_rank(MPI_COMM_WORLD, &__pl_sr); "
                        f"MPI_Comm_size(MPI_COMM_WORLD, &__pl_ss); __pl_sb{k} = __pl_rn{k} * __pl_sr / __pl_ss; "
                        f"__pl_se{k} = __pl_rn{k} * (__pl_sr + 1) / __pl_ss; __pl_sw{k} = 1; }}")
                    self.prelude.append(f"for (long long __pl_rq{k} = __pl_sb{k}; __pl_rq{k} < __pl_se{k}; __pl_rq{k}++) "
                                        + scan)
                    self.prelude.append(
                        f"if (__pl_sw{k}) {{ long long __pl_sv[2] = {{ __pl_rm{k}, (long long)__pl_rneg{k} }}; "
                        f"MPI_Allreduce(MPI_IN_PLACE, __pl_sv, 2, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD); "
                        f"__pl_rm{k} = __pl_sv[0]; __pl_rneg{k} = (int)__pl_sv[1]; }} }}")
                else:
                    self.prelude.append(f"for (long long __pl_rq{k} = 0; __pl_rq{k} < __pl_rn{k}; __pl_rq{k}++) " + scan)
            parts.append(f"(__pl_rneg{k} ? -1LL : (__pl_rm{k} < 0 ? 0LL : ({self.poly(off)}) + __pl_rm{k} + {add}))")
        if not parts:
            raise NotParallelizable(f"the number of elements of '{name}' is not known from the code")
        k = len(self.prelude)
        self.prelude.append(f"long long __pl_rx{k} = {parts[0]};")
        for q in parts[1:]:
            self.prelude.append(f"{{ const long long __pl_ry = {q}; if (__pl_rx{k} >= 0) "
                                f"__pl_rx{k} = __pl_ry < 0 ? -1LL : (__pl_ry > __pl_rx{k} ? __pl_ry : __pl_rx{k}); }}")
        return f"__pl_rx{k}"

    def expr(self, ext: str, allow_tokens: bool = True) -> str:
        """Translate an extent expression (names, + - * // ( ) max min, ints) to C."""
        import re
        toks = re.findall(r"//|[A-Za-z_]\w*|\d+|[()+\-*,]|\S", ext)
        out = []
        for t in toks:
            if t == "//":
                out.append("/")
            elif t == "max":
                out.append("__pl_imax")
            elif t == "min":
                out.append("__pl_imin")
            elif re.fullmatch(r"[A-Za-z_]\w*", t):
                if t in self.tokens and allow_tokens:
                    out.append(self.tokens[t])
                elif any(q.name == t for q in self.fx.signature.params):
                    out.append(f"(long long)({t})")
                else:
                    raise NotParallelizable(f"the size '{t}' of an array cannot be computed at run time")
            elif t.isdigit():
                out.append(f"{t}LL")
            else:
                out.append(t)
        return "(" + " ".join(out) + ")"


IMINMAX_C = ("static inline long long __pl_imax(long long a, long long b) { return a > b ? a : b; }\n"
             "static inline long long __pl_imin(long long a, long long b) { return a < b ? a : b; }\n")


def trip_count_c(loop: Loop, lo: str, hi: str) -> str:
    """Trip count (long long) of canonical `loop` with lower/bound C expressions lo/hi (already long long)."""
    s = loop.step
    op = loop.cond_op
    if s > 0:
        if op == "<":
            return f"(({hi}) > ({lo}) ? (({hi}) - ({lo}) + {s - 1}) / {s} : 0)"
        return f"(({hi}) >= ({lo}) ? (({hi}) - ({lo})) / {s} + 1 : 0)"
    a = -s
    if op == ">":
        return f"(({lo}) > ({hi}) ? (({lo}) - ({hi}) + {a - 1}) / {a} : 0)"
    return f"(({lo}) >= ({hi}) ? (({lo}) - ({hi})) / {a} + 1 : 0)"


def var_type(d: Decl) -> str:
    t = d.base_type or "long long"
    if t == "auto":
        raise NotParallelizable(f"loop variable '{d.name}' is declared 'auto'")
    return t


def body_statement_text(data: bytes, loop: Loop, edits=()) -> str:
    body = loop.body
    t = node_text_with(data, body, list(edits))
    if body.type == "compound_statement":
        return t
    return "{ " + t + " }"


def reduction_groups(f: LoopFacts) -> dict[str, list[Decl]]:
    groups: dict[str, list[Decl]] = {}
    for d, op in f.reductions.items():
        groups.setdefault(op, []).append(d)
    return groups


def descendants(loop: Loop) -> list[Loop]:
    out = []
    stack = list(loop.children)
    while stack:
        lp = stack.pop()
        out.append(lp)
        stack.extend(lp.children)
    return out


def calls_in(fx: FunctionFacts, loop: Loop) -> list[str]:
    return sorted({c.name for c in fx.model.calls if loop in c.loops})


def user_functions_called(fx: FunctionFacts, names: list[str]) -> list[str]:
    """User-defined (pure) functions reachable from `names`, callees first."""
    unit = fx.unit
    order: list[str] = []
    seen: set[str] = set()

    def visit(n: str):
        if n in seen or n not in unit.functions or n == fx.signature.name:
            return
        seen.add(n)
        body = unit.functions[n]
        for node in walk(body):
            if node.type == "call_expression":
                visit(text(node.child_by_field_name("function")).replace(" ", ""))
        order.append(n)
    for n in names:
        visit(n)
    return order


def iminmax_needed(code: str) -> str:
    """The helper definitions when `code` uses them."""
    import re
    return IMINMAX_C if re.search(r"__pl_im(ax|in)\s*\(", code) else ""


def skip_edits(loop: Loop) -> list[tuple[int, int, str]]:
    """Edits removing the trailing increment of a while-form loop body."""
    if loop.skip_stmt is None:
        return []
    return [(loop.skip_stmt.start_byte, loop.skip_stmt.end_byte, "")]


# -- data-dependent extents computed at run time (issue 19) -------------------------------------------

def scanned_extent(r: CRenderer, name: str, out: list[str], ind: str, nonneg: set,
                   ptr=lambda d: d.name) -> tuple[str, str]:
    """(first, count): the elements [first, first + count) of array parameter `name` the function
    touches, as C expressions, for sizing a copy or a buffer. A proven extent is ("0", extent_c); a
    data-dependent one (x[B[i]]) comes from a scan, at entry, of the index values the function will
    use (smallest and largest), with the extents its affine accesses prove: `out` gets the scan. Only
    when that is exact, so that nothing outside the caller's buffer is ever read or written: every term
    an index array `B` (plus a constant) that the function never writes, each of whose elements is read
    as a subscript of `name` unconditionally. A negative index moves `first` below 0, as the sequential
    code would reach. Otherwise NotParallelizable with the reason. `ptr` renders a parameter's host
    pointer."""
    from .analysis import full_cover
    fx, m = r.fx, r.fx.model
    why = getattr(fx, "data_extents", {}).get(name)
    if why is None:
        return "0", r.extent_c(name)
    rng = getattr(fx, "data_ranges", {}).get(name)
    refuse = NotParallelizable(f"the number of elements of '{name}' is not known from the code ({why})")
    if rng is None or not rng["terms"]:
        raise refuse
    his = ["(" + r.poly(p) + ")" for p in rng["proven"]]
    los = ["0LL"]
    for kind, src, off in rng["terms"]:
        b = m.params.get(src)
        if kind == "bound":
            lo, hi = _offsets_range(r, name, src, out, ind, refuse)
            his.append(hi)
            los.append(lo)
            continue
        if kind != "index" or b is None or not off.is_const() or any(e.decl is b and e.write for e in m.events):
            raise refuse
        ext_b = fx.extent_polys.get(src)
        if src in fx.data_extents:
            # x[col[j]] with j between CSR offsets: replay the row loops over the index values they read
            lo, hi = _csr_index_range(r, name, b, off, out, ind, refuse)
            his.append(hi)
            los.append(lo)
            continue
        if ext_b is None:
            raise refuse
        subs = [e.index for e in m.events if e.decl.name == name and e.index is not None and
                e.index_arrays and e.index_arrays[0] is b]
        uses = [e for e in m.events if e.decl is b and e.read and
                any(x.start_byte <= e.node.start_byte < x.end_byte for x in subs)]
        if not any(full_cover(m, None, e, ext_b, nonneg) for e in uses):
            raise refuse
        k = len(out)
        n_b, o = f"(long long)({r.poly(ext_b)})", f"({r.poly(off)})"
        out.append(f"{ind}long long __pl_xm{k} = -1, __pl_xl{k} = 0; "
                   f"/* the subscripts '{src}' gives '{name}': largest and smallest */")
        out.append(f"{ind}for (long long __pl_q = 0; __pl_q < {n_b}; __pl_q++) {{ "
                   f"const long long __pl_v = (long long){ptr(b)}[__pl_q]; "
                   f"if (__pl_q == 0 || __pl_v > __pl_xm{k}) __pl_xm{k} = __pl_v; "
                   f"if (__pl_q == 0 || __pl_v < __pl_xl{k}) __pl_xl{k} = __pl_v; }}")
        his.append(f"({n_b} > 0 ? __pl_xm{k} + {o} + 1 : 0LL)")
        los.append(f"({n_b} > 0 ? __pl_xl{k} + {o} : 0LL)")

    def fold(xs: list[str], op: str) -> str:
        e = xs[0]
        for q in xs[1:]:
            e = f"({e} {op} {q} ? {e} : {q})"
        return e
    k = len(out)
    out.append(f"{ind}const long long __pl_xf{k} = {fold(los, '<')}, __pl_xe{k} = {fold(his, '>')};")
    return f"__pl_xf{k}", f"(__pl_xe{k} > __pl_xf{k} ? __pl_xe{k} - __pl_xf{k} : 0LL)"


def _offsets_range(r: CRenderer, name: str, src: str, out: list[str], ind: str, refuse) -> tuple[str, str]:
    """(first, end) of the elements of `name` a CSR-style loop touches, `for (j = B[f(i)]; j < B[g(i)]; j++)`
    inside `for (i ...)`, from a replay of the row loop's header over the offsets at entry: the smallest
    start and largest end of the non-empty rows. Exact when every row's elements are read
    unconditionally (the rows between lie in the same array). Two-level nests with canonical loops only."""
    fx, m = r.fx, r.fx.model
    b = m.params.get(src)
    if b is None or any(e.decl is b and e.write for e in m.events) or m.jumps:
        raise refuse
    inner = [lp for d, lp in m.bound_arrays if d is b and lp.var is not None]
    evs = [e for e in m.events if e.decl.name == name and e.index is not None]
    for lp in inner:
        hdr = _csr_rows(r, lp, evs)
        if hdr is None or any(m.expand(e.poly) != Poly.sym(lp.var.key) for e in evs):
            continue
        k = len(out)
        end = _csr_end(lp)
        out.append(f"{ind}long long __pl_cf{k} = 0, __pl_ce{k} = 0; int __pl_cn{k} = 0; "
                   f"/* the rows' ranges of '{name}', from the offsets '{src}' */")
        out.append(f"{ind}{hdr} {{ const long long __pl_a = (long long)({text(lp.init_node)}), __pl_z = {end}; "
                   f"if (__pl_a < __pl_z) {{ if (!__pl_cn{k} || __pl_a < __pl_cf{k}) __pl_cf{k} = __pl_a; "
                   f"if (!__pl_cn{k} || __pl_z > __pl_ce{k}) __pl_ce{k} = __pl_z; __pl_cn{k} = 1; }} }}")
        return f"__pl_cf{k}", f"__pl_ce{k}"
    raise refuse


def _csr_end(lp) -> str:
    """The exclusive end of a CSR loop's range, as C."""
    return f"(long long)({text(lp.bound_node)})" + (" + 1" if lp.cond_op == "<=" else "")


def _csr_rows(r: CRenderer, lp, evs: list) -> str | None:
    """The header of the row loop around CSR loop `lp` when `evs` (accesses inside lp) are all
    unconditional, the nest is two canonical levels and nothing jumps; else None."""
    m = r.fx.model
    row = lp.parent
    if m.jumps or row is None or row.parent is not None or not row.canonical or row.var is None or \
            lp.step != 1 or lp.cond_op not in ("<", "<=") or lp.init_node is None or lp.bound_node is None:
        return None
    if not evs or any(lp not in e.loops or e.expr_cond or any(g >= lp.depth for g in e.guards) for e in evs):
        return None
    return text(row.node)[: row.body.start_byte - row.node.start_byte].rstrip()


def _csr_index_range(r: CRenderer, name: str, b: Decl, off: Poly, out: list[str], ind: str,
                     refuse) -> tuple[str, str]:
    """(first, end) of x in x[col[j] + c], j running between CSR offsets: the row loops replayed at entry
    over exactly the index values the function reads (smallest and largest plus one)."""
    fx, m = r.fx, r.fx.model
    if not off.is_const() or any(e.decl is b and e.write for e in m.events):
        raise refuse
    evs = [e for e in m.events if e.decl.name == name and e.index is not None]
    if not evs or any(not (e.index_arrays and e.index_arrays[0] is b) for e in evs):
        raise refuse
    reads = [e for e in m.events if e.decl is b]
    for d, lp in m.bound_arrays:
        if lp.var is None or not all(lp in e.loops for e in evs + reads):
            continue
        if any(m.expand(e.poly) != Poly.sym(lp.var.key) for e in reads):
            continue
        hdr = _csr_rows(r, lp, evs + reads)
        if hdr is None:
            continue
        k = len(out)
        end = _csr_end(lp)
        out.append(f"{ind}long long __pl_if{k} = 0, __pl_ie{k} = 0; int __pl_in{k} = 0; "
                   f"/* the subscripts '{b.name}' gives '{name}', row by row */")
        out.append(f"{ind}{hdr} {{ const long long __pl_z = {end}; "
                   f"for (long long __pl_j = (long long)({text(lp.init_node)}); __pl_j < __pl_z; __pl_j++) {{ "
                   f"const long long __pl_v = (long long){b.name}[__pl_j] + ({r.poly(off)}); "
                   f"if (!__pl_in{k} || __pl_v < __pl_if{k}) __pl_if{k} = __pl_v; "
                   f"if (!__pl_in{k} || __pl_v + 1 > __pl_ie{k}) __pl_ie{k} = __pl_v + 1; __pl_in{k} = 1; }} }}")
        return f"__pl_if{k}", f"__pl_ie{k}"
    raise refuse


# -- loop versioning against overlapping pointer arguments (DESIGN.md §3) ------------------------------
# The test and the sequential path live inside the function itself (no helper function, no renamed copy):
# assembling several translated functions into one file keeps only each function's definition.

def _overlap_expr(a: str, na: str, b: str, nb: str) -> str:
    """Byte ranges [a, a+na) and [b, b+nb) share a byte (empty ranges share none)."""
    ua, ub = f"(unsigned long long)(__UINTPTR_TYPE__)({a})", f"(unsigned long long)(__UINTPTR_TYPE__)({b})"
    return (f"({na} > 0 && {nb} > 0 && {ua} < {ub} + (unsigned long long)({nb}) "
            f"&& {ub} < {ua} + (unsigned long long)({na}))")


def _inline_minmax(e: str) -> str:
    """`e` with __pl_imax/__pl_imin calls spelled as conditional expressions: the overlap test is spliced
    into any translation unit (a model's candidate too), which need not define those helpers. The
    operands are side-effect-free size arithmetic, so evaluating one twice is harmless."""
    import re
    m = re.search(r"__pl_im(ax|in)\(", e)
    if m is None:
        return e
    depth, i, comma = 1, m.end(), None
    while depth:
        c = e[i]
        depth += (c == "(") - (c == ")")
        if c == "," and depth == 1:
            comma = i
        i += 1
    a, b = _inline_minmax(e[m.end():comma]), _inline_minmax(e[comma + 1:i - 1])
    op = ">" if m.group(1) == "ax" else "<"
    return _inline_minmax(e[:m.start()] + f"(({a}) {op} ({b}) ? ({a}) : ({b}))" + e[i:])


def overlap_condition(fx: FunctionFacts) -> str | None:
    """C condition true when two pointer arguments the parallel code needs apart overlap in the ranges the
    function accesses (None when no pair needs a check)."""
    return overlap_test(fx)[1]


def entry_pairs(fx: FunctionFacts, own_checks: bool = False) -> tuple[list, set]:
    """(pairs, the equal-pointer-safe ones) the entry test checks: fx.alias_checks(), less, in code the
    OpenMP or MPI generator has just written (`own_checks`), the pairs only loops that test their own
    after a side-effect-free pass need (fx.self_checked: the histograms of histogram.py). Only there, and
    each generator resets fx.self_checked: the analysis' facts are cached and shared between targets, and
    an MPI translation made after an OpenMP one once skipped its entry test (a wrong histogram on an
    overlapping call)."""
    skip = getattr(fx, "self_checked", None) if own_checks else None
    if not skip:
        return fx.alias_checks(), fx.alias_equal_safe()
    from .histogram import loop_pairs
    pairs: set = set()
    for f in fx.scan_loops():
        pairs |= f.alias_checks
    for f in fx.chosen_loops():
        if f.loop not in skip:
            pairs |= loop_pairs(fx, f)
    return sorted(pairs, key=lambda p: (p[0].name, p[1].name)), fx.alias_equal_safe() & pairs


def overlap_test(fx: FunctionFacts, pairs: list | None = None, cuda: bool = False,
                 omp: bool = False, own_checks: bool | None = None, mpi: bool = False) -> tuple[list[str], str | None]:
    """(statements to run first, the condition) of overlap_condition (for `pairs`, by default the
    analysis' fx.alias_checks(); for CUDA, every pair of arguments that may overlap with one written:
    the device copies of two overlapping arguments are separate arrays, so any overlap changes what the
    kernels read). With the analysis' own pairs on the host, equal pointers the parallel loops are
    right for (fx.alias_equal_safe(): `scale(n, a, x, x)`) keep the parallel path."""
    equal_ok: set = set()
    if cuda and pairs is None:
        from .overlap_guard import overlap_pairs
        pairs = overlap_pairs(fx)
    elif pairs is None:
        pairs, equal_ok = entry_pairs(fx, (omp if own_checks is None else own_checks) and not cuda)
    r = CRenderer(fx)
    r.omp = omp and not cuda
    r.mpi = mpi and not cuda
    # strides, leading dimensions and offsets of unknown sign (agents/strides.py): the extents and the
    # parallel loops hold only when these facts do, so they are tested first (|| short-circuits)
    terms = [f"!(({r.poly(f.fact)}) >= 0)" for f in getattr(fx, "value_facts", [])]
    if not pairs and not terms:
        return [], None
    for a, b in pairs:
        sizes = []
        for d in (a, b):
            try:
                ext = r.overlap_extent_c(d.name)
            except NotParallelizable as e:
                raise NotParallelizable(
                    f"'{a.name}' and '{b.name}' may point into the same array, and the range to check at "
                    f"run time is unknown ({e})") from None
            sizes.append(_inline_minmax(ext))
        if any(x.startswith("__pl_rx") for x in sizes):
            # a range scanned at run time (r.prelude): a negative index (-1) counts as an overlap
            terms.append("(" + " || ".join(f"{x} < 0" for x in sizes if x.startswith("__pl_rx")) + " || "
                         + _overlap_expr(a.name, f"({sizes[0]}) * (long long)sizeof(*{a.name})",
                                         b.name, f"({sizes[1]}) * (long long)sizeof(*{b.name})") + ")")
            continue
        sizes = [f"(({x}) * (long long)sizeof(*{d.name}))" for x, d in zip(sizes, (a, b))]
        overlap = _overlap_expr(a.name, sizes[0], b.name, sizes[1])
        if (a, b) in equal_ok:
            overlap = f"((const void *)({a.name}) != (const void *)({b.name}) && {overlap})"
        terms.append(overlap)
    return list(getattr(r, "prelude", [])), " || ".join(terms)


def sequential_body(fx: FunctionFacts, cuda: bool = False) -> str:
    """The original body's statements (for the overlap path), ending in a return."""
    body = fx.model.body
    stmts = [c for c in body.named_children if c.type != "comment"]
    inner = text(body).strip()[1:-1].strip("\n")
    if fx.signature.return_type.strip() == "void":
        inner += "\n    return;"
    elif not stmts or stmts[-1].type != "return_statement":
        raise NotParallelizable("the function does not end in a return, so its sequential path for "
                                "overlapping arguments cannot be kept apart")
    if cuda:
        import re
        inner = re.sub(r"\brestrict\b", "__restrict__", inner)
        inner = re.sub(r"\b_Bool\b", "bool", inner)
    return inner


def fallback_entry(fx: FunctionFacts, cuda: bool = False, pairs: list | None = None, omp: bool = False,
                   own_checks: bool | None = None, mpi: bool = False) -> str:
    """The statement that opens the parallel function: on overlapping arguments, the original code ('' when
    no pair of arguments needs a check). `omp` / `mpi`: the translation unit is OpenMP / MPI code (the
    range scans may run in parallel)."""
    prelude, cond = overlap_test(fx, pairs, cuda, omp, own_checks, mpi)
    if cond is None:
        return ""
    return "".join(p + "\n    " for p in prelude) + (f"if ({cond}) {{ /* paralift: overlapping arguments take the sequential code */\n"
            f"{sequential_body(fx, cuda)}\n}}")


def add_alias_fallback(fx: FunctionFacts, code: str, pairs: list | None = None) -> tuple[str, str]:
    """Version the function of a whole generated translation unit (OpenMP, MPI) at its entry. Returns
    (code, note); code unchanged when no pair of arguments needs a check."""
    entry = fallback_entry(fx, pairs=pairs, omp="#include <omp.h>" in code,
                           own_checks="#include <omp.h>" in code or "#include <mpi.h>" in code,
                           mpi="#include <mpi.h>" in code)
    if not entry:
        return code, ""
    from .frontend import load_unit
    unit = load_unit(code, fx.unit.language)
    fn = unit.functions.get(fx.signature.name)
    body = fn.child_by_field_name("body") if fn is not None else None
    if body is None:
        raise NotParallelizable("cannot find the translated function to add its overlap test")
    code = splice(unit.data, [(body.start_byte + 1, body.start_byte + 1, "\n    " + entry)])
    names = ", ".join(f"{a.name}/{b.name}" for a, b in (fx.alias_checks() if pairs is None else pairs))
    note = f"runtime overlap check of {names}: overlapping arguments run the sequential code" if names else ""
    checks = [f.describe(fx._name) for f in getattr(fx, "value_facts", [])]
    if checks:
        note = "; ".join(x for x in (note, "runtime check " + ", ".join(checks) + ": other strides and leading "
                                     "dimensions run the sequential code") if x)
    return code, note

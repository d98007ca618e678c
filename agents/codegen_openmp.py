"""OpenMP code generation: the whole translation unit with pragmas added to the
target function (DESIGN.md §3).

* `#pragma omp parallel for` on each outermost parallel loop, with
  reduction(...) for scalar reductions, private/lastprivate for privatizable
  scalars declared outside the loop, collapse(2) for perfectly nested
  rectangular parallel pairs with inner work, schedule(guided) when the work
  per iteration varies (triangular loops, while loops, data-dependent bounds),
  and `simd` on innermost loops with floating-point reductions;
* array reductions (histograms): `#pragma omp atomic` on each update, or an
  array-section reduction for a single fixed element (`*out += ...`).
"""
from __future__ import annotations

from .analysis import FunctionFacts, LoopFacts
from .base import NotParallelizable
from .codegen_common import add_include, descendants, line_indent, pragma_before, reduction_groups
from .frontend import Loop, int_literal, strip, text, walk


def _clauses(fx: FunctionFacts, f: LoopFacts, top: bool) -> tuple[list[str], list]:
    clauses: list[str] = []
    atomics = []
    if top and f.collapse == 2:
        clauses.append("collapse(2)")
    if top and f.varying:
        # guided: big chunks first, small ones to balance at the end; plain dynamic hands out one
        # iteration at a time, which made CSR SpMV (light rows) 5x slower than the sequential code
        clauses.append("schedule(guided)")
    for op, decls in reduction_groups(f).items():
        clauses.append(f"reduction({op}:{', '.join(d.name for d in decls)})")
    for d, op in f.array_reductions.items():
        evs = [e for e in fx.model.events if e.decl is d and f.loop in e.loops]
        polys = [fx.model.expand(e.poly) for e in evs]
        consts = {p.constant if p is not None and p.is_const() else None for p in polys}
        if d.kind == "pointer" and len(consts) == 1 and None not in consts:
            k = consts.pop()
            if k is not None and k >= 0:
                clauses.append(f"reduction({op}:{d.name}[{k}:1])")
                continue
        atomics.extend(evs)
    names_priv = [d.name for d in f.private]
    if f.collapse == 2 and top:
        # privates of the collapsed child loop
        child = next((c for c in f.loop.children), None)
        cf = fx.loops.get(child) if child is not None else None
        if cf is not None:
            for d in cf.private:
                if d.name not in names_priv and not _declared_inside(d, f.loop):
                    names_priv.append(d.name)
    if names_priv:
        clauses.append(f"private({', '.join(names_priv)})")
    if f.lastprivate:
        clauses.append(f"lastprivate({', '.join(d.name for d in f.lastprivate)})")
    return clauses, atomics


def while_to_for_edits(L: Loop) -> list[tuple[int, int, str]]:
    """`i = lo; while (i < n) { ...; i++; }` -> `for (i = lo; i < n; i++) { ... }`."""
    head = f"for ({L.var.name} = {text(L.init_node)}; {L.var.name} {L.cond_op} {text(L.bound_node)}; {text(L.update_node)}) "
    return [(L.node.start_byte, L.body.start_byte, head), (L.skip_stmt.start_byte, L.skip_stmt.end_byte, "")]


def _argminmax_edits(data: bytes, f: LoopFacts, clauses: list[str]) -> list[tuple[int, int, str]]:
    """`if (v < best) { best = v; idx = i; }`: each thread keeps its own pair over its iterations (in
    increasing order, so its first minimum), then the pairs are merged by value and, on equal values, by
    the lower index: the first occurrence, as the sequential loop finds it. The for's barrier (no nowait)
    keeps every thread's read of the starting pair before the first merge writes it."""
    best, idx, op, node = f.argminmax
    L = f.loop
    lb, li = f"__pl_best_{best.name}", f"__pl_idx_{idx.name}"
    cmp = "<" if op == "min" else ">"
    ind, _ = line_indent(data, L.node.start_byte)
    edits = []
    for n in walk(node):
        if n.type == "identifier" and text(n) in (best.name, idx.name):
            edits.append((n.start_byte, n.end_byte, lb if text(n) == best.name else li))
    pre = (f"{{\n{ind}#pragma omp parallel\n{ind}{{\n"
           f"{ind}{best.base_type} {lb} = {best.name};\n{ind}{idx.base_type} {li} = {idx.name};\n"
           f"{ind}#pragma omp for{''.join(' ' + c for c in clauses)}\n{ind}")
    post = (f"\n{ind}#pragma omp critical\n"
            f"{ind}if ({lb} {cmp} {best.name} || ({lb} == {best.name} && {li} < {idx.name})) "
            f"{{ {best.name} = {lb}; {idx.name} = {li}; }}\n{ind}}}\n{ind}}}")
    edits.append((L.node.start_byte, L.node.start_byte, pre))
    edits.append((L.node.end_byte, L.node.end_byte, post))
    return edits


def condition_edits(L: Loop) -> list[tuple[int, int, str]]:
    """`i + k <= n` -> `i <= n - k`: OpenMP's canonical loop form wants the variable alone on one side."""
    cond = L.canonical_condition()
    if cond is None or L.while_form:
        return []
    return [(L.bound_node.start_byte, L.bound_node.end_byte, cond)]


def _gathers_or_short(fx: FunctionFacts, lp: Loop) -> bool:
    """Is `simd` on inner loop lp a loss? When its subscripts go through an index array (x[col[j]]: without
    gather instructions, the vector code loads element by element and shuffles) or its bounds are read from
    memory (CSR rows: a few elements each, so the vector prologue and epilogue are most of the work). CSR
    SpMV with the simd reduction ran at 0.3-0.45x, without it 1.2-1.6x (2 threads, loaded machine)."""
    m = fx.model
    if any(loop is lp for _d, loop in m.bound_arrays):
        return True
    return any(lp in e.loops and e.index_arrays for e in m.events)


def simd_clauses(fx: FunctionFacts, lp: Loop) -> list[str] | None:
    """The clauses of `#pragma omp simd` on loop lp (innermost, reducing a floating-point sum or product,
    which the sequential build cannot reorder and so keeps scalar), or None where simd does not apply or
    is a loss. MPI's local loops use it too (codegen_mpi)."""
    lf = fx.loops.get(lp)
    if lf is None or not lf.simd or not lf.parallel or lp.while_form or lp.range_of is not None:
        return None
    if _gathers_or_short(fx, lp):
        return None
    cl, atomics = _clauses(fx, lf, top=False)
    return None if atomics else cl


def csr_offsets(fx: FunctionFacts, L: Loop):
    """The offsets parameter B of a CSR row loop L (`for (i ...) ... for (j = B[i]; j < B[i + 1]; j++)`, a
    pointer the inner loop's bounds read at the row and the next one), or None."""
    if L.var is None:
        return None
    row = L.var.name
    for d, lp in fx.model.bound_arrays:
        if lp.parent is not L or not d.is_param or d.kind != "pointer" or lp.init_node is None or lp.bound_node is None:
            continue
        init, bound = text(lp.init_node).replace(" ", ""), text(lp.bound_node).replace(" ", "")
        if init == f"{d.name}[{row}]" and bound in (f"{d.name}[{row}+1]", f"{d.name}[1+{row}]") and lp.cond_op == "<":
            return d
    return None


def csr_split_c(B: str, lo: str, trip: str, parts: str) -> str:
    """A C block setting `__pl_x` to the row where part `__pl_u` of `parts` begins: the first row whose
    offset B (from __pl_c0 = B[lo], the total __pl_c1 - __pl_c0 nonzeros) plus its row count reaches
    __pl_u / parts of the work (a binary search; OpenMP's threads and MPI's ranks cut CSR rows with it)."""
    return (f"{{ const long long __pl_w = (__pl_c1 - __pl_c0 + {trip}) * __pl_u / {parts}; long long __pl_a = 0, "
            f"__pl_z = {trip}; while (__pl_a < __pl_z) {{ const long long __pl_m = __pl_a + (__pl_z - __pl_a) / 2; "
            f"if ((long long){B}[{lo} + __pl_m] - __pl_c0 + __pl_m < __pl_w) __pl_a = __pl_m + 1; else __pl_z = __pl_m; }} "
            f"__pl_x = __pl_a; }}")


def csr_rows_edits(fx: FunctionFacts, f: LoopFacts, clauses: list[str]):
    """(edits, note) running CSR row loop f (`for (i = lo; i < hi; i++) ... for (j = B[i]; j < B[i + 1]; j++)`)
    in one block of rows per thread, the blocks cut where the offsets B split the work evenly (a nonzero and
    a row count one unit each: rows cost their loop and store even when empty), or None
    for any other loop. Rows of very different lengths defeat `schedule(guided)`, whose first chunk is
    half the rows: with row lengths falling as 1/(row+1) that chunk holds nearly all the nonzeros, and SpMV
    ran at 0.53x. The cut is a binary search per thread boundary (made monotone, so the blocks cover the
    rows exactly once whatever B holds: B only steers the balance)."""
    L = f.loop
    m = fx.model
    if f.collapse != 1 or f.reductions or f.lastprivate or f.argminmax is not None or f.array_reductions:
        return None
    if not L.canonical or L.step != 1 or L.cond_op not in ("<", "<=") or L.var is None or not L.var_in_init \
            or L.range_of is not None or L.while_form or L.init_node is None or L.bound_node is None:
        return None
    if any(c.startswith(("collapse", "reduction", "lastprivate")) for c in clauses):
        return None
    row = L.var.name
    offs = csr_offsets(fx, L)
    if offs is None:
        return None
    from .codegen_common import trip_count_c
    from .codegen_common import var_type
    data = fx.unit.data
    ind, _ = line_indent(data, L.node.start_byte)
    i2 = ind + "    "
    vt = var_type(L.var)
    B = offs.name
    priv = "".join(" " + c for c in clauses if c.startswith("private("))
    lo = f"(long long)({L.init_text()})"
    trip = trip_count_c(L, "__pl_clo", f"(long long)({L.bound_text()})")
    pre = "\n".join([
        f"{{ /* paralift: rows in one block per thread, cut where '{B}' splits nonzeros + rows evenly */",
        f"{i2}const long long __pl_clo = {lo}, __pl_ctrip = {trip};",
        f"{i2}#pragma omp parallel{priv}",
        f"{i2}{{",
        f"{i2}long long __pl_cb = 0, __pl_ce = 0;",
        f"{i2}if (__pl_ctrip > 0) {{",
        f"{i2}    const int __pl_ct = omp_get_thread_num(), __pl_ck = omp_get_num_threads();",
        f"{i2}    const long long __pl_c0 = (long long){B}[__pl_clo], __pl_c1 = (long long){B}[__pl_clo + __pl_ctrip];",
        f"{i2}    for (int __pl_u = 1; __pl_u <= __pl_ct + 1; __pl_u++) {{",
        f"{i2}        long long __pl_x = __pl_ctrip;",
        f"{i2}        if (__pl_u < __pl_ck) {csr_split_c(B, '__pl_clo', '__pl_ctrip', '__pl_ck')}",
        f"{i2}        if (__pl_x < __pl_ce) __pl_x = __pl_ce;",
        f"{i2}        __pl_cb = __pl_ce; __pl_ce = __pl_x;",
        f"{i2}    }}",
        f"{i2}}}",
        f"{i2}for (long long __pl_cj = __pl_cb; __pl_cj < __pl_ce; __pl_cj++) {{ {vt} {row} = ({vt})(__pl_clo + __pl_cj);",
        f"{i2}"])
    edits = [(L.node.start_byte, L.body.start_byte, pre),
             (L.body.end_byte, L.node.end_byte, "\n" + i2 + "}\n" + i2 + "}\n" + ind + "}")]
    note = f"loop at line {L.line}: rows split among the threads by the nonzeros of '{B}' plus rows (one block each)"
    return edits, note


def _declared_inside(d, loop: Loop) -> bool:
    return d.node is not None and not d.is_param and loop.node.start_byte <= d.node.start_byte < loop.node.end_byte


def generate_openmp(fx: FunctionFacts) -> tuple[str, str]:
    """(code, notes) for the whole translation unit."""
    fx.self_checked = set()     # this translation's histogram loops that test their own overlaps (histogram.py)
    chosen = fx.chosen_loops()
    scans = fx.scan_loops() if hasattr(fx, "scan_loops") else []
    if not chosen and not scans:
        raise NotParallelizable(fx.reason or "no parallel loop")
    data = fx.unit.data
    edits: list[tuple[int, int, str]] = []
    notes: list[str] = []
    if scans:
        from .scan import openmp_edit
        for f in scans:
            e, n = openmp_edit(fx, f)
            edits.append(e)
            notes.append(n)
    atomic_stmts: dict[int, object] = {}
    needs_stdlib = needs_limits = needs_string = False
    from .cpp_bits import bit_packed_schedule
    for f in chosen:
        clauses, atomics = _clauses(fx, f, top=True)
        bits = bit_packed_schedule(fx, f)     # a written std::vector<bool>: whole words per thread
        if bits is not None:
            clauses = [c for c in clauses if not c.startswith("schedule(")] + [bits]
            if atomics:
                raise NotParallelizable(f"loop at line {f.loop.line} writes a std::vector<bool> and updates "
                                        f"another array as a reduction")
        if atomics:
            # few bins: private copies beat contended atomics; the choice is made at run time
            from .histogram import openmp_privatized
            hist = openmp_privatized(fx, f, clauses, atomics, condition_edits(f.loop))
            if hist is not None:
                edits.append(hist[0])
                notes.append(hist[1])
                needs_stdlib = needs_string = True
                continue
        rows = csr_rows_edits(fx, f, clauses) if bits is None else None
        if rows is not None:
            edits.extend(rows[0])
            notes.append(rows[1])
            continue
        head = "#pragma omp parallel for"
        if f.simd and f.collapse == 1 and f.loop.range_of is None and not f.loop.while_form and bits is None:
            head += " simd"
        if f.argminmax is not None:
            edits.extend(_argminmax_edits(data, f, clauses))
            notes.append(f"loop at line {f.loop.line}: arg{f.argminmax[2]} of '{f.argminmax[0].name}' at "
                         f"'{f.argminmax[1].name}': per-thread pairs merged by value, then lowest index")
        else:
            edits.extend(pragma_before(data, f.loop.node, " ".join([head] + clauses)))
        if f.loop.while_form:
            edits.extend(while_to_for_edits(f.loop))
        edits.extend(condition_edits(f.loop))
        if f.collapse == 2 and f.loop.children:
            edits.extend(condition_edits(f.loop.children[0]))
        for e in atomics:
            stmt = e.stmt
            if stmt is None or stmt.type != "expression_statement":
                raise NotParallelizable(f"update of '{e.decl.name}' at line {e.line} is not a simple statement")
            atomic_stmts[stmt.id] = stmt
        desc = f"loop at line {f.loop.line}: parallel for"
        if clauses:
            desc += " " + " ".join(clauses)
        notes.append(desc)
        # simd on inner loops with floating-point reductions
        skip = set()
        if f.collapse == 2 and f.loop.children:
            skip.add(f.loop.children[0].id)
        for lp in descendants(f.loop):
            if lp.id in skip or any(lp.contains(s.start_byte) for s in atomic_stmts.values()):
                continue
            cl = simd_clauses(fx, lp)
            if cl is None:
                continue
            edits.extend(pragma_before(data, lp.node, " ".join(["#pragma omp simd"] + cl)))
            edits.extend(condition_edits(lp))
            notes.append(f"loop at line {lp.line}: simd " + " ".join(cl))
    for stmt in atomic_stmts.values():
        edits.extend(pragma_before(data, stmt, "#pragma omp atomic"))
    if atomic_stmts:
        notes.append("array reduction(s) via omp atomic")
    code = _apply(data, edits)
    code = add_include(code, "omp.h")
    if needs_stdlib or scans:
        code = add_include(code, "stdlib.h")
    if needs_limits:
        code = add_include(code, "limits.h")
    if needs_string:
        code = add_include(code, "string.h")
    return code, "; ".join(notes)


def _apply(data: bytes, edits) -> str:
    # several insertions may share a position: merge them in order
    merged: dict[tuple[int, int], str] = {}
    for s, e, r in edits:
        merged[(s, e)] = merged.get((s, e), "") + r
    from .codegen_common import splice
    return splice(data, [(s, e, r) for (s, e), r in merged.items()])


__all__ = ["generate_openmp", "text"]

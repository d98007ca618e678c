"""Histograms in OpenMP: per-thread private bins merged at the end, or atomics (issue 22).

`hist[bin[i]]++` over n samples into nb bins. With atomics every update is a locked read-modify-write on
a cache line the other threads also write: with few bins (a 61-bin histogram) the lines bounce between
cores on nearly every update, and the loop ran 8x slower than the sequential code. Private bins remove
the contention but cost nb x threads of clearing and merging. The written code picks at run time, by a
rule it can state: private copies when bins x threads <= samples (the merge is then at most as much work
as the loop itself), atomics otherwise (many bins: updates rarely collide). The bins' range comes from
a parallel min/max over exactly the subscripts the loop evaluates (every iteration evaluates them, from
values the loop does not write): the sequential code touches the smallest and the largest, so every bin
between lies in the caller's array. Where that is not so, or the loop has a shape this does not handle,
the caller keeps the atomic version alone.

Additions are reordered either way: integer bins are exact, floating-point ones are reassociated (the
sandbox's comparison widens its tolerance by the number of terms).
"""
from __future__ import annotations

from .base import NotParallelizable
from .codegen_common import CRenderer, descendants, line_indent, var_type
from .frontend import text


def openmp_privatized(fx, f, clauses: list[str], atomics: list, extra_edits: list) -> tuple[tuple, str] | None:
    """(edit replacing loop f, note) for the run-time choice between private bins and atomics, or None
    when loop f is not a histogram this handles. `clauses` are the loop's OpenMP clauses, `atomics` the
    updates that need an atomic, `extra_edits` the other byte edits inside the loop (condition rewrites)
    that both versions must carry."""
    L = f.loop
    m = fx.model
    if not f.array_reductions or any(op != "+" for op in f.array_reductions.values()):
        return None
    if f.collapse != 1 or f.argminmax is not None or L.while_form or L.range_of is not None or L.step != 1:
        return None
    if any(fx.loops.get(lp) is not None and fx.loops[lp].simd for lp in descendants(L)):
        return None
    lo, hi = m.expand(L.lower), m.expand(L.upper)
    if lo is None or hi is None:
        return None
    if any(e.stmt is None or e.stmt.type != "expression_statement" for e in atomics):
        return None
    data = fx.unit.data
    r = CRenderer(fx)
    ind, _ = line_indent(data, L.node.start_byte)
    i2 = ind + "    "
    if any(L.contains(node) for _k, node, _l in m.jumps):
        return None
    written = {e.decl for e in m.events if L in e.loops and e.write}
    arrays = []
    for k, d in enumerate(f.array_reductions):
        if d.kind != "pointer" or not d.is_param:
            return None
        evs = [e for e in m.events if e.decl is d and L in e.loops]
        for e in evs:
            # the scan below replays exactly the subscripts the loop uses: each must be evaluated on every
            # iteration, from values the loop does not change
            if e.index is None or e.conditional_within(L) or e.loops[-1] is not L or not _pure(m, e.index, L, written):
                return None
        arrays.append((k, d, evs))
    try:
        trip = r.poly(hi - lo + 1)
        lo_c = r.poly(lo)
        vt = var_type(L.var)
    except NotParallelizable:
        return None
    scan = [f"{i2}const long long __pl_htrip = {trip};"]
    for k, d, evs in arrays:
        idx = [f"(long long)({text(e.index)})" for e in evs]
        upd = " ".join(f"{{ const long long __pl_v = {x}; if (__pl_v < __pl_hl{k}) __pl_hl{k} = __pl_v; "
                       f"if (__pl_v > __pl_hh{k}) __pl_hh{k} = __pl_v; }}" for x in idx)
        scan += [f"{i2}long long __pl_hl{k} = LLONG_MAX, __pl_hh{k} = LLONG_MIN;   /* the bins the loop touches */",
                 f"{i2}#pragma omp parallel for reduction(min:__pl_hl{k}) reduction(max:__pl_hh{k})",
                 f"{i2}for (long long __pl_j = 0; __pl_j < __pl_htrip; __pl_j++) {{ "
                 f"const {vt} {L.var.name} = ({vt})(({lo_c}) + __pl_j); {upd} }}"]
    # the private version: each update goes to the thread's own bins, shifted by the smallest bin; each
    # thread's bins are 16 elements apart from the next's, so that no cache line is shared
    priv_edits = list(extra_edits)
    for k, d, _e in arrays:
        for e in m.events:
            if e.decl is d and L in e.loops and e.index is not None:
                priv_edits.append((e.node.start_byte, e.node.end_byte,
                                   f"__pl_hm{k}[({text(e.index)}) - __pl_hf{k}]"))
    atom_edits = list(extra_edits)
    for e in {id(e.stmt): e for e in atomics}.values():
        s = e.stmt
        if s.parent is not None and s.parent.type != "compound_statement":
            atom_edits += [(s.start_byte, s.start_byte, "{\n#pragma omp atomic\n"), (s.end_byte, s.end_byte, "\n}")]
        else:
            sind, _ = line_indent(data, s.start_byte)
            atom_edits.append((s.start_byte, s.start_byte, f"\n{sind}#pragma omp atomic\n{sind}"))
    loop_priv = _splice_within(data, L.node, priv_edits)
    loop_atom = _splice_within(data, L.node, atom_edits)
    # the private version privatizes every array reduction of the loop, array-section ones included
    cl = "".join(" " + c for c in clauses)
    names = {d.name for d in f.array_reductions}
    cl_priv = "".join(" " + c for c in clauses
                      if not (c.startswith("reduction(") and "[" in c and c.split(":", 1)[1].split("[")[0] in names))
    i2 = ind + "    "
    out = [f"{{ /* paralift: histogram: private bins per thread when bins x threads <= iterations, else atomics */"]
    out += scan
    out.append(f"{i2}const int __pl_hnt = omp_get_max_threads();")
    out.append(f"{i2}int __pl_hok = __pl_hnt > 1;")
    for k, d, _evs in arrays:
        ty = d.base_type
        out.append(f"{i2}const long long __pl_hf{k} = __pl_hl{k}, __pl_hc{k} = __pl_htrip > 0 ? __pl_hh{k} - __pl_hl{k} + 1 : 0;")
        out.append(f"{i2}{ty} *__pl_hp{k} = NULL;")
        out.append(f"{i2}if (__pl_hok && __pl_hc{k} > 0 && __pl_hc{k} <= __pl_htrip / __pl_hnt) "
                   f"__pl_hp{k} = ({ty} *)calloc((size_t)(__pl_hc{k} + 16) * (size_t)__pl_hnt, sizeof({ty}));")
        out.append(f"{i2}if (__pl_hp{k} == NULL) __pl_hok = 0;")
    out.append(f"{i2}if (__pl_hok) {{")
    out.append(f"{i2}#pragma omp parallel num_threads(__pl_hnt)")
    out.append(f"{i2}{{")
    for k, d, _e in arrays:
        out.append(f"{i2}{d.base_type} *const __pl_hm{k} = __pl_hp{k} + (size_t)omp_get_thread_num() * (size_t)(__pl_hc{k} + 16);")
    out.append(f"{i2}#pragma omp for{cl_priv}")
    out.append(f"{i2}{loop_priv}")
    for k, d, _e in arrays:
        out.append(f"{i2}#pragma omp for")
        out.append(f"{i2}for (long long __pl_k = 0; __pl_k < __pl_hc{k}; __pl_k++) {{ {d.base_type} __pl_s = 0; "
                   f"for (int __pl_t = 0; __pl_t < __pl_hnt; __pl_t++) __pl_s += __pl_hp{k}[(size_t)__pl_t * "
                   f"(size_t)(__pl_hc{k} + 16) + (size_t)__pl_k]; {d.name}[__pl_hf{k} + __pl_k] += __pl_s; }}")
    out.append(f"{i2}}}")
    out.append(f"{i2}}} else {{")
    out.append(f"{i2}#pragma omp parallel for{cl}")
    out.append(f"{i2}{loop_atom}")
    out.append(f"{i2}}}")
    for k, _d, _e in arrays:
        out.append(f"{i2}free(__pl_hp{k});")
    out.append(f"{ind}}}")
    names = ", ".join(f"'{d.name}'" for _k, d, _e in arrays)
    note = (f"loop at line {L.line}: histogram of {names}: private bins per thread merged after the loop when "
            f"bins x threads <= iterations, omp atomic otherwise")
    return (L.node.start_byte, L.node.end_byte, "\n".join(out)), note


def _splice_within(data: bytes, node, edits: list) -> str:
    from .codegen_common import splice
    inside = [(s - node.start_byte, e - node.start_byte, r) for s, e, r in edits
              if node.start_byte <= s and e <= node.end_byte]
    return splice(data[node.start_byte:node.end_byte], inside)


def _pure(m, node, L, written) -> bool:
    """Does expression `node` only read the loop variable and values loop L does not write?"""
    if any(t in text(node) for t in ("++", "--")) or "=" in text(node).replace("==", "").replace("<=", "").replace(">=", "").replace("!=", ""):
        return False
    if any(node.start_byte <= c.node.start_byte < node.end_byte for c in m.calls):
        return False
    for e in m.events:
        if node.start_byte <= e.node.start_byte < node.end_byte and e.decl is not L.var and (e.write or e.decl in written):
            return False
    return True


# -- CUDA: per-block bins in shared memory ------------------------------------------------------------
# Every block keeps its own copy of the bins in shared memory (atomics there are cheap and contended only
# within the block) and adds the non-zero ones to the global bins at the end. Used when the bins fit the
# 48 KiB every device gives a block and clearing and merging them (bins x blocks) is at most the loop's
# work; otherwise the kernel keeps its global atomics. The device array holds the bins [0, count) the
# wrapper sized at entry (from the extents, or a scan of the index values), so the shared copy is
# indexed like the global one.
SHARED_BYTES = 48 * 1024


def cuda_shared_array(f, two_d: bool):
    """The one array reduction of loop f a shared-memory copy can hold, or None."""
    if two_d or len(f.array_reductions) != 1:
        return None
    (d, op), = f.array_reductions.items()
    if op != "+" or d.base_type not in ("int", "unsigned int", "float") or d.kind != "pointer" or not d.is_param:
        return None
    return d


def cuda_shared_edits(d, edits: list) -> list:
    """The kernel body's atomicAdd on d's elements, made to go to the block's copy when it is in use."""
    out = []
    head = f"atomicAdd(&({d.name}["
    for s, e, r in edits:
        if r.startswith(head):
            r = f"if (__pl_hs) {{ atomicAdd(&(__pl_sh[{r[len(head):]} }} else {{ {r} }}"
        out.append((s, e, r))
    return out


def cuda_shared_lines(d, ind: str) -> tuple[list[str], list[str]]:
    """(kernel prologue, kernel epilogue) around the grid-stride loop."""
    ty = d.base_type
    pro = [f"{ind}extern __shared__ unsigned char __pl_shraw[];",
           f"{ind}{ty} *__pl_sh = ({ty} *)__pl_shraw;",
           f"{ind}if (__pl_hs) {{ for (long long __pl_k = threadIdx.x; __pl_k < __pl_hc; __pl_k += blockDim.x) "
           f"__pl_sh[__pl_k] = 0; __syncthreads(); }}"]
    epi = [f"{ind}if (__pl_hs) {{ __syncthreads(); for (long long __pl_k = threadIdx.x; __pl_k < __pl_hc; "
           f"__pl_k += blockDim.x) if (__pl_sh[__pl_k] != 0) atomicAdd(&{d.name}[__pl_k], __pl_sh[__pl_k]); }}"]
    return pro, epi


def cuda_shared_launch(d, ind: str) -> tuple[str, str]:
    """(the host statement choosing the shared copy, the launch's shared-memory size)."""
    n = f"__pl_n_{d.name}"
    choose = (f"{ind}const int __pl_hs = {n} > 0 && {n} * (long long)sizeof({d.base_type}) <= {SHARED_BYTES} && "
              f"{n} * (long long)__pl_grid.x <= __pl_n;")
    return choose, f"__pl_hs ? (size_t){n} * sizeof({d.base_type}) : 0"

"""Histograms in OpenMP: per-thread private bins merged after the loop (issue 22).

`hist[bin[i]]++` over n samples into nb bins. With atomics every update is a locked read-modify-write:
with few bins the cache lines bounce between cores on nearly every update (a 61-bin histogram ran 8x
slower than the sequential code); with many bins each locked update waits for its cache miss, so the
misses no longer overlap as they do in the sequential loop (measured at 2 threads, 4M samples into 4M
bins: no faster than the sequential loop, and 2-5x slower below that). So the generated code has two
paths, chosen at run time by a rule it can state:

* private bins, when bins x threads <= iterations (clearing and merging them is then at most as much
  work as the loop itself): every thread adds into bins of its own, merged into the caller's array
  after the loop, in parallel over the bins;
* otherwise the loop as written, sequentially: neither atomics nor private copies beat it there.

Which bins a thread needs is known in two ways.
* The array's extent is proven by the code (a guard `if (b >= 0 && b < 10)`, a std::array<T, 10>):
  every thread gets that many bins, up front.
* It depends on the index values (`hist[bin[i]]`): each thread's bins cover the range of subscripts it
  has met so far, grown as new ones come (geometrically, so growing costs O(bins)); a thread whose range
  passes the rule's limit stops, and the loop runs as written. The private pass writes only the
  threads' own memory, so no scan of the index array is needed before it (that scan, at entry, had cost
  about 3x a small histogram's whole sequential call): the subscripts met are exactly the bins the
  sequential code touches, and they are known once the pass is done. The overlap test against the other
  arrays of the loop (an in-place call, `f(n, a, a)`) is made then, with those exact ranges, and an
  overlap runs the loop as written, from the same state: codegen_common.overlap_test leaves such loops'
  pairs out of the entry test (fx.self_checked).

Additions are reordered: integer bins are exact, floating-point ones are reassociated (the sandbox's
comparison widens its tolerance by the number of terms).
"""
from __future__ import annotations

from .base import NotParallelizable
from .codegen_common import CRenderer, line_indent, node_text_with, trip_count_c, var_type
from .frontend import FLOAT_TYPES, INTEGER_TYPES, text

_ARITH = INTEGER_TYPES | FLOAT_TYPES | {"size_t", "std::size_t", "ptrdiff_t", "std::ptrdiff_t"}


def _trip_c(fx, L) -> str | None:
    """The loop's trip count as a C expression (long long), or None."""
    if L.range_of is not None:
        return f"(long long)({L.range_of.name}).size()"
    m = fx.model
    lo, hi = m.expand(L.lower), m.expand(L.upper)
    if lo is not None and hi is not None and L.step == 1:
        try:
            return f"(long long)({CRenderer(fx).poly(hi - lo + 1)})"
        except NotParallelizable:
            pass
    if L.canonical and L.init_node is not None and L.bound_node is not None and L.cond_op in ("<", "<=", ">", ">="):
        return trip_count_c(L, f"(long long)({L.init_text()})", f"(long long)({L.bound_text()})")
    return None


# Private bins that miss the cache cost what the shared ones do, plus the merge: at 2 threads, 1M int bins
# per thread ran at 0.85x the sequential loop, 100k at 1.1x, 1000 at 1.3x (4M samples, loaded machine).
# A thread's bins whose range the index values set are kept to a core's share of cache.
CACHE_BYTES = 512 * 1024


def _size(ty: str) -> int:
    return 8 if ty in ("double", "long", "long long", "unsigned long", "unsigned long long", "size_t",
                       "std::size_t", "ptrdiff_t", "std::ptrdiff_t", "int64_t", "uint64_t", "long double") else 4


def _hist_arrays(fx, f, r):
    """[(k, decl, events, extent C expression or None when it depends on the index values)] of loop f's
    array reductions, or None when one is not a histogram the private bins handle."""
    m, L = fx.model, f.loop
    arrays = []
    for k, d in enumerate(f.array_reductions):
        if not d.is_param or d.kind not in ("pointer", "vector") or d.base_type not in _ARITH:
            return None
        evs = [e for e in m.events if e.decl is d and L in e.loops]
        if any(e.index is None for e in evs):
            return None
        ext = None
        if d.name not in fx.data_extents:
            try:
                ext = r.extent_c(d.name)
            except NotParallelizable:
                return None
        elif d.kind != "pointer":
            return None
        arrays.append((k, d, evs, ext))
    return arrays


def _prepare(fx, f):
    """(trip count C expression, renderer, _hist_arrays) of histogram loop f, or None: not a sum into
    arrays, a collapsed, argmin, while or bodiless loop, one left by a jump, one of no countable trip, or
    one whose arrays are not histograms the private bins handle."""
    L = f.loop
    if not f.array_reductions or any(op != "+" for op in f.array_reductions.values()):
        return None
    if f.collapse != 1 or f.argminmax is not None or L.while_form or L.body is None:
        return None
    if any(L.contains(node) for _k, node, _l in fx.model.jumps):
        return None
    trip = _trip_c(fx, L)
    if trip is None:
        return None
    r = CRenderer(fx)
    arrays = _hist_arrays(fx, f, r)
    return None if arrays is None else (trip, r, arrays)


def _pass_edits(data, arrays) -> list:
    """The loop body's updates of each histogram sent to the worker's own bins: __pl_hm{k}[idx] for a
    proven extent, else bins covering the range of subscripts met so far, grown as new ones come
    (__pl_hlo/__pl_hcn: the range met, __pl_hal/__pl_hac: the buffer), and __pl_hme set when the range
    passes __pl_hlim (or memory runs out): the update then goes to a dummy and the worker stops."""
    edits = []
    for k, d, evs, ext in arrays:
        ty = d.base_type
        for e in evs:
            idx = node_text_with(data, e.index, [])
            if ext is not None:
                rep = f"__pl_hm{k}[{idx}]"
            else:
                rep = (f"(*({{ const long long __pl_v = (long long)({idx}); {ty} *__pl_hp; "
                       f"if ((unsigned long long)(__pl_v - __pl_hlo{k}) < (unsigned long long)__pl_hcn{k}) "
                       f"__pl_hp = __pl_hm{k} + (__pl_v - __pl_hal{k}); "
                       f"else {{ __pl_hp = &__pl_hdm{k}; "
                       f"const long long __pl_nl = __pl_hcn{k} == 0 || __pl_v < __pl_hlo{k} ? __pl_v : __pl_hlo{k}; "
                       f"const long long __pl_nh = __pl_hcn{k} == 0 || __pl_v > __pl_hlo{k} + __pl_hcn{k} - 1 ? "
                       f"__pl_v : __pl_hlo{k} + __pl_hcn{k} - 1; "
                       f"if (__pl_nh - __pl_nl >= __pl_hlim) __pl_hme = 1; else {{ "
                       f"if (__pl_nl < __pl_hal{k} || __pl_nh >= __pl_hal{k} + __pl_hac{k}) {{ "
                       f"const long long __pl_gl = __pl_hac{k} && __pl_hal{k} < __pl_nl ? __pl_hal{k} : __pl_nl; "
                       f"const long long __pl_gh = __pl_hac{k} && __pl_hal{k} + __pl_hac{k} - 1 > __pl_nh ? "
                       f"__pl_hal{k} + __pl_hac{k} - 1 : __pl_nh; "
                       f"const long long __pl_pad = (__pl_gh - __pl_gl + 1) / 2 + 32; "
                       f"{ty} *__pl_nm = ({ty} *)calloc((size_t)(__pl_gh - __pl_gl + 1 + 2 * __pl_pad), sizeof({ty})); "
                       f"if (__pl_nm == NULL) __pl_hme = 1; else {{ if (__pl_hm{k} != NULL) {{ "
                       f"memcpy(__pl_nm + (__pl_hal{k} - (__pl_gl - __pl_pad)), __pl_hm{k}, sizeof({ty}) * (size_t)__pl_hac{k}); "
                       f"free(__pl_hm{k}); }} __pl_hm{k} = __pl_nm; __pl_hal{k} = __pl_gl - __pl_pad; "
                       f"__pl_hac{k} = __pl_gh - __pl_gl + 1 + 2 * __pl_pad; }} }} "
                       f"if (!__pl_hme) {{ __pl_hlo{k} = __pl_nl; __pl_hcn{k} = __pl_nh - __pl_nl + 1; "
                       f"__pl_hp = __pl_hm{k} + (__pl_v - __pl_hal{k}); }} }} }} "
                       f"__pl_hp; }}))")
            edits.append((e.node.start_byte, e.node.end_byte, rep))
    return edits


def openmp_privatized(fx, f, clauses: list[str], atomics: list, extra_edits: list) -> tuple[tuple, str] | None:
    """(edit replacing loop f, note) for the private-bins version of histogram loop f, or None when f is
    not a histogram this handles (the caller then keeps atomics). `clauses` are the loop's OpenMP
    clauses, `atomics` the updates that would need an atomic, `extra_edits` the other byte edits inside
    the loop (condition rewrites) the parallel version carries."""
    L = f.loop
    if any(e.stmt is None or e.stmt.type != "expression_statement" for e in atomics):
        return None
    prep = _prepare(fx, f)
    if prep is None:
        return None
    trip, r, arrays = prep
    data = fx.unit.data
    grows = any(ext is None for _k, _d, _e, ext in arrays)
    if grows and (f.reductions or f.lastprivate):
        # a thread may stop and the loop run as written: the clauses would have combined partial values
        return None
    names = {d.name for d in f.array_reductions}
    cl = "".join(" " + c for c in clauses
                 if not (c.startswith("reduction(") and "[" in c and c.split(":", 1)[1].split("[")[0] in names))
    ind, _ = line_indent(data, L.node.start_byte)
    i2, i3, i4 = ind + "    ", ind + "        ", ind + "            "

    # the pass: every update goes to the thread's own bins
    edits = list(extra_edits) + _pass_edits(data, arrays)
    manual = grows and L.step == 1 and (L.range_of is not None or (L.canonical and L.cond_op in ("<", "<=")
                                                                   and L.var is not None and L.init_node is not None))
    if manual:
        # each thread's block of iterations, left as soon as the thread stops
        vt = var_type(L.var)
        body = node_text_with(data, L.body, edits)
        if L.body.type != "compound_statement":
            body = "{ " + body + " }"
        loop_priv = (f"for (long long __pl_j = __pl_hjb; __pl_j < __pl_hje && !__pl_hme; __pl_j++) {{ "
                     f"{vt} {L.var.name} = ({vt})(__pl_hi0 + __pl_j); {L.body_prefix()}\n{i3}{body}\n{i3}}}")
    elif grows:
        # a thread that stopped skips the rest of its iterations
        body = L.body
        if body.type == "compound_statement":
            edits.append((body.start_byte + 1, body.start_byte + 1, " if (__pl_hme) continue;"))
        else:
            edits += [(body.start_byte, body.start_byte, "{ if (__pl_hme) continue; "), (body.end_byte, body.end_byte, " }")]
        loop_priv = node_text_with(data, L.node, edits)
    else:
        loop_priv = node_text_with(data, L.node, edits)
    seq_loop = text(L.node)

    # the overlap test after the pass (this loop's pairs only), on the ranges the pass met
    checks = _after_pass_checks(fx, f, r, arrays) if grows else None
    if checks is not None:
        if not hasattr(fx, "self_checked"):
            fx.self_checked = set()
        fx.self_checked.add(L)

    o = [f"{{ /* paralift: histogram: private bins per thread when bins x threads <= iterations, else the loop as written */",
         f"{i2}const int __pl_hnt = omp_get_max_threads();",
         f"{i2}const long long __pl_htrip = {trip};",
         f"{i2}int __pl_hok = __pl_hnt > 1 && __pl_htrip > 0;"]
    if grows:
        cap = min(CACHE_BYTES // max(1, _size(d.base_type)) for _k, d, _e, ext in arrays if ext is None)
        o += [f"{i2}const long long __pl_hlim = __pl_htrip / __pl_hnt < {cap} ? __pl_htrip / __pl_hnt : {cap};   "
              f"/* the most bins a thread may use */",
              f"{i2}int *__pl_hst = (int *)calloc((size_t)__pl_hnt + 1, sizeof(int));   /* threads that stopped */",
              f"{i2}if (__pl_hst == NULL) __pl_hok = 0;"]
    for k, d, _e, ext in arrays:
        ty = d.base_type
        if ext is not None:
            o += [f"{i2}const long long __pl_hc{k} = {ext};",
                  f"{i2}{ty} *__pl_hp{k} = NULL;",
                  f"{i2}if (__pl_hok && __pl_hc{k} > 0 && __pl_hc{k} <= __pl_htrip / __pl_hnt) "
                  f"__pl_hp{k} = ({ty} *)calloc((size_t)(__pl_hc{k} + 16) * (size_t)__pl_hnt, sizeof({ty}));",
                  f"{i2}if (__pl_hp{k} == NULL) __pl_hok = 0;"]
        else:
            o += [f"{i2}{ty} **__pl_hb{k} = ({ty} **)calloc((size_t)__pl_hnt + 1, sizeof({ty} *));   /* each thread's bins */",
                  f"{i2}long long *__pl_hr{k} = (long long *)calloc((size_t)__pl_hnt * 3 + 3, sizeof(long long));   "
                  f"/* each thread's first bin, count, buffer start */",
                  f"{i2}if (__pl_hb{k} == NULL || __pl_hr{k} == NULL) __pl_hok = 0;"]
    if manual:
        o.append(f"{i2}const long long __pl_hi0 = (long long)({L.init_text()});")
        priv = [c for c in clauses if c.startswith("private(")]
        o += [f"{i2}if (__pl_hok) {{",
              f"{i2}#pragma omp parallel num_threads(__pl_hnt){''.join(' ' + c for c in priv)}",
              f"{i2}{{",
              f"{i3}const int __pl_ht = omp_get_thread_num(), __pl_hk = omp_get_num_threads();",
              f"{i3}const long long __pl_hq = __pl_htrip / __pl_hk, __pl_hrm = __pl_htrip % __pl_hk;",
              f"{i3}const long long __pl_hjb = __pl_ht * __pl_hq + (__pl_ht < __pl_hrm ? __pl_ht : __pl_hrm);",
              f"{i3}const long long __pl_hje = __pl_hjb + __pl_hq + (__pl_ht < __pl_hrm ? 1 : 0);"]
    else:
        o += [f"{i2}if (__pl_hok) {{",
              f"{i2}#pragma omp parallel num_threads(__pl_hnt)",
              f"{i2}{{",
              f"{i3}const int __pl_ht = omp_get_thread_num();"]
    if grows:
        o.append(f"{i3}int __pl_hme = 0;")
    for k, d, _e, ext in arrays:
        ty = d.base_type
        if ext is not None:
            o.append(f"{i3}{ty} *const __pl_hm{k} = __pl_hp{k} + (size_t)__pl_ht * (size_t)(__pl_hc{k} + 16);")
        else:
            o.append(f"{i3}{ty} *__pl_hm{k} = NULL, __pl_hdm{k} = 0; "
                     f"long long __pl_hlo{k} = 0, __pl_hcn{k} = 0, __pl_hal{k} = 0, __pl_hac{k} = 0;")
    if not manual:
        o.append(f"{i3}#pragma omp for{cl}")
    o.append(f"{i3}{loop_priv}")
    for k, d, _e, ext in arrays:
        if ext is None:
            o.append(f"{i3}__pl_hb{k}[__pl_ht] = __pl_hm{k}; __pl_hr{k}[3 * __pl_ht] = __pl_hlo{k}; "
                     f"__pl_hr{k}[3 * __pl_ht + 1] = __pl_hcn{k}; __pl_hr{k}[3 * __pl_ht + 2] = __pl_hal{k};")
    if grows:
        o.append(f"{i3}__pl_hst[__pl_ht] = __pl_hme;")
    o.append(f"{i2}}}")
    if grows:
        # the bins met by any thread, whether one stopped, the overlap test
        for k, d, _e, ext in arrays:
            if ext is None:
                o.append(f"{i2}long long __pl_hgl{k} = 0, __pl_hgh{k} = -1;")
        o.append(f"{i2}for (int __pl_u = 0; __pl_u < __pl_hnt; __pl_u++) {{")
        o.append(f"{i3}if (__pl_hst[__pl_u]) __pl_hok = 0;")
        for k, d, _e, ext in arrays:
            if ext is None:
                o.append(f"{i3}if (__pl_hr{k}[3 * __pl_u + 1] > 0) {{ const long long __pl_a = __pl_hr{k}[3 * __pl_u], "
                         f"__pl_z = __pl_a + __pl_hr{k}[3 * __pl_u + 1] - 1; "
                         f"if (__pl_hgh{k} < __pl_hgl{k} || __pl_a < __pl_hgl{k}) __pl_hgl{k} = __pl_a; "
                         f"if (__pl_hgh{k} < __pl_hgl{k} || __pl_z > __pl_hgh{k}) __pl_hgh{k} = __pl_z; }}")
        o.append(f"{i2}}}")
        if checks:
            o.append(f"{i2}if (__pl_hok && ({checks})) __pl_hok = 0;   /* the bins met overlap another array of the loop */")
    o.append(f"{i2}if (__pl_hok) {{")
    for k, d, _e, ext in arrays:
        ty, ref = d.base_type, d.name
        if ext is not None:
            o += [f"{i3}#pragma omp parallel for if (__pl_hc{k} > 65536)",
                  f"{i3}for (long long __pl_k = 0; __pl_k < __pl_hc{k}; __pl_k++) {{ {ty} __pl_s = 0; "
                  f"for (int __pl_u = 0; __pl_u < __pl_hnt; __pl_u++) __pl_s += __pl_hp{k}[(size_t)__pl_u * "
                  f"(size_t)(__pl_hc{k} + 16) + (size_t)__pl_k]; if (__pl_s != 0) {ref}[__pl_k] += __pl_s; }}"]
        else:
            o += [f"{i3}#pragma omp parallel for if (__pl_hgh{k} - __pl_hgl{k} > 65536)",
                  f"{i3}for (long long __pl_k = __pl_hgl{k}; __pl_k <= __pl_hgh{k}; __pl_k++) {{ {ty} __pl_s = 0; "
                  f"for (int __pl_u = 0; __pl_u < __pl_hnt; __pl_u++) {{ const long long __pl_o = __pl_k - "
                  f"__pl_hr{k}[3 * __pl_u]; if (__pl_o >= 0 && __pl_o < __pl_hr{k}[3 * __pl_u + 1]) "
                  f"__pl_s += __pl_hb{k}[__pl_u][__pl_k - __pl_hr{k}[3 * __pl_u + 2]]; }} "
                  f"if (__pl_s != 0) {ref}[__pl_k] += __pl_s; }}"]
    o.append(f"{i2}}}")
    for k, d, _e, ext in arrays:
        if ext is None:
            o.append(f"{i2}for (int __pl_u = 0; __pl_u < __pl_hnt; __pl_u++) free(__pl_hb{k}[__pl_u]);")
    o.append(f"{i2}}}")
    o += [f"{i2}if (!__pl_hok) {{",
          f"{i2}{seq_loop}",
          f"{i2}}}"]
    for k, d, _e, ext in arrays:
        o.append(f"{i2}free(__pl_hp{k});" if ext is not None else f"{i2}free(__pl_hb{k}); free(__pl_hr{k});")
    if grows:
        o.append(f"{i2}free(__pl_hst);")
    o.append(f"{ind}}}")
    note_names = ", ".join(f"'{d.name}'" for _k, d, _e, _x in arrays)
    how = "the range of bins each thread meets, grown as it goes" if grows else "as many as the code proves"
    note = (f"loop at line {L.line}: histogram of {note_names}: private bins per thread ({how}) merged after "
            f"the loop when bins x threads <= iterations, the loop as written otherwise")
    if checks is not None:
        note += "; its overlap test is made after the private pass, on the bins it met"
    return (L.node.start_byte, L.node.end_byte, "\n".join(o)), note


def mpi_privatized(fx, f, ind: str = "    ") -> tuple[tuple, str] | None:
    """(edit replacing loop f, note) for the MPI version of histogram loop f whose bins the index values
    choose (`hist[bin[i]] += ...`, the touched range known only from the data), or None (the caller then
    scans the index array at entry and reduces the touched range in place). Every rank holds the complete
    inputs (DESIGN §3), so nothing is scattered: each rank runs its block of iterations into bins of its
    own covering the subscripts it meets (grown as they come, as the OpenMP threads' are), the ranks
    agree on the range met and on whether every one kept within its limit, the overlap test of the loop's
    arguments is made then on that exact range (the pass wrote nothing the caller sees), and one
    MPI_Reduce of that range adds the ranks' bins onto rank 0's array as it is. Otherwise - one rank's
    range too wide for its share of the work or of cache, out of memory, or an overlapping call - every
    rank runs the loop as written, from the same state. No scan of the index array before the pass: that
    scan and the in-place reduction's cost made the MPI histograms 0.22-0.55x of the sequential code."""
    L = f.loop
    if f.reductions or f.lastprivate:
        return None
    if L.step != 1 or not (L.range_of is None and L.canonical and L.cond_op in ("<", "<=") and L.var is not None
                           and L.init_node is not None):
        return None
    prep = _prepare(fx, f)
    if prep is None:
        return None
    trip, r, arrays = prep
    data = fx.unit.data
    if len(arrays) != 1 or any(ext is not None for _k, _d, _e, ext in arrays):
        return None     # several histograms: an allocation failing after the first one's reduction is not undone
    checks = _after_pass_checks(fx, f, r, arrays)
    if checks is None:
        return None
    from .codegen_mpi import mpi_type
    i2 = ind + "    "
    vt = var_type(L.var)
    body = node_text_with(data, L.body, _pass_edits(data, arrays))
    if L.body.type != "compound_statement":
        body = "{ " + body + " }"
    cap = min(CACHE_BYTES // max(1, _size(d.base_type)) for _k, d, _e, _x in arrays)
    o = ["{ /* paralift: MPI histogram: each rank's block into bins of its own, reduced onto rank 0's array; "
         "the loop as written when they would not pay */",
         f"{ind}int __pl_rank, __pl_size;",
         f"{ind}MPI_Comm_rank(MPI_COMM_WORLD, &__pl_rank);",
         f"{ind}MPI_Comm_size(MPI_COMM_WORLD, &__pl_size);",
         f"{ind}const long long __pl_htrip = {trip};",
         f"{ind}int __pl_hme = !(__pl_size > 1 && __pl_htrip > 0);",
         f"{ind}const long long __pl_hlim = __pl_htrip / __pl_size < {cap} ? __pl_htrip / __pl_size : {cap};   "
         f"/* the most bins a rank may use */",
         f"{ind}const long long __pl_hq = __pl_htrip / (__pl_size > 0 ? __pl_size : 1), "
         f"__pl_hrm = __pl_htrip % (__pl_size > 0 ? __pl_size : 1);",
         f"{ind}const long long __pl_hjb = __pl_rank * __pl_hq + (__pl_rank < __pl_hrm ? __pl_rank : __pl_hrm);",
         f"{ind}const long long __pl_hje = __pl_hjb + __pl_hq + (__pl_rank < __pl_hrm ? 1 : 0);",
         f"{ind}const long long __pl_hi0 = (long long)({L.init_text()});"]
    for k, d, _e, _x in arrays:
        o.append(f"{ind}{d.base_type} *__pl_hm{k} = NULL, __pl_hdm{k} = 0; "
                 f"long long __pl_hlo{k} = 0, __pl_hcn{k} = 0, __pl_hal{k} = 0, __pl_hac{k} = 0;")
    o.append(f"{ind}for (long long __pl_j = __pl_hjb; __pl_j < __pl_hje && !__pl_hme; __pl_j++) {{ "
             f"{vt} {L.var.name} = ({vt})(__pl_hi0 + __pl_j); {L.body_prefix()}\n{i2}{body}\n{ind}}}")
    # the ranks agree: whether any stopped, and per histogram whether any met a bin and the range met
    # (as maxima: met, -low, high; a rank that met none gives 0, -LLONG_MAX, -LLONG_MAX)
    nv = 1 + 3 * len(arrays)
    o.append(f"{ind}long long __pl_hv[{nv}];")
    o.append(f"{ind}__pl_hv[0] = __pl_hme;")
    for j, (k, d, _e, _x) in enumerate(arrays):
        o.append(f"{ind}__pl_hv[{1 + 3 * j}] = __pl_hcn{k} > 0; "
                 f"__pl_hv[{2 + 3 * j}] = __pl_hcn{k} > 0 ? -__pl_hlo{k} : -9223372036854775807LL; "
                 f"__pl_hv[{3 + 3 * j}] = __pl_hcn{k} > 0 ? __pl_hlo{k} + __pl_hcn{k} - 1 : -9223372036854775807LL;")
    o.append(f"{ind}MPI_Allreduce(MPI_IN_PLACE, __pl_hv, {nv}, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);")
    o.append(f"{ind}int __pl_hok = !__pl_hv[0];")
    for j, (k, d, _e, _x) in enumerate(arrays):
        o += [f"{ind}const long long __pl_hgl{k} = __pl_hv[{1 + 3 * j}] ? -__pl_hv[{2 + 3 * j}] : 0, "
              f"__pl_hgh{k} = __pl_hv[{1 + 3 * j}] ? __pl_hv[{3 + 3 * j}] : -1;",
              f"{ind}if (__pl_hgh{k} - __pl_hgl{k} + 1 > __pl_hlim * __pl_size || __pl_hgh{k} - __pl_hgl{k} + 1 > "
              f"2147483647LL) __pl_hok = 0;   /* the ranks' ranges apart: a reduction wider than the work */"]
    if checks:
        # every rank tests its own arguments; rank 0's answer is the one that counts, so all follow it
        o += [f"{ind}int __pl_hov = __pl_hok && ({checks});   /* the bins met overlap another array of the loop */",
              f"{ind}MPI_Bcast(&__pl_hov, 1, MPI_INT, 0, MPI_COMM_WORLD);",
              f"{ind}if (__pl_hov) __pl_hok = 0;"]
    o.append(f"{ind}if (__pl_hok) {{")
    for k, d, _e, _x in arrays:
        ty, ref = d.base_type, d.name
        mt = mpi_type(ty, fx.unit.language)
        o += [f"{i2}const long long __pl_hw{k} = __pl_hgh{k} - __pl_hgl{k} + 1;",
              f"{i2}if (__pl_hw{k} > 0) {{",
              f"{i2}    {ty} *__pl_hs{k} = ({ty} *)calloc((size_t)__pl_hw{k}, sizeof({ty}));",
              f"{i2}    int __pl_hfail = __pl_hs{k} == NULL;",
              f"{i2}    MPI_Allreduce(MPI_IN_PLACE, &__pl_hfail, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);",
              f"{i2}    if (__pl_hfail) __pl_hok = 0;",
              f"{i2}    else {{",
              f"{i2}        for (long long __pl_k = 0; __pl_k < __pl_hcn{k}; __pl_k++) __pl_hs{k}[__pl_hlo{k} - __pl_hgl{k} + "
              f"__pl_k] = __pl_hm{k}[__pl_hlo{k} - __pl_hal{k} + __pl_k];",
              f"{i2}        MPI_Reduce(__pl_rank == 0 ? MPI_IN_PLACE : (const void *)__pl_hs{k}, __pl_hs{k}, (int)__pl_hw{k}, "
              f"{mt}, MPI_SUM, 0, MPI_COMM_WORLD);",
              f"{i2}        if (__pl_rank == 0) for (long long __pl_k = 0; __pl_k < __pl_hw{k}; __pl_k++) "
              f"if (__pl_hs{k}[__pl_k] != 0) {ref}[__pl_hgl{k} + __pl_k] += __pl_hs{k}[__pl_k];",
              f"{i2}    }}",
              f"{i2}    free(__pl_hs{k});",
              f"{i2}}}"]
    o.append(f"{ind}}}")
    for k, d, _e, _x in arrays:
        o.append(f"{ind}free(__pl_hm{k});")
    o += [f"{ind}if (!__pl_hok) {{", f"{ind}{text(L.node)}", f"{ind}}}", "}"]
    if not hasattr(fx, "self_checked"):
        fx.self_checked = set()
    if checks:
        fx.self_checked.add(L)
    names = ", ".join(f"'{d.name}'" for _k, d, _e, _x in arrays)
    note = (f"loop at line {L.line}: histogram of {names}: each rank's block of iterations into bins of its own "
            f"(the range it meets), one MPI_Reduce of the range met onto rank 0's array; the loop as written "
            f"when bins would outnumber a rank's iterations")
    if checks:
        note += "; its overlap test is made after the private pass, on the bins it met"
    return (L.node.start_byte, L.node.end_byte, "\n".join(o)), note


def loop_pairs(fx, f) -> set:
    """The pairs of arguments loop f (and the parallel loops inside it) needs apart."""
    pairs = set(f.alias_checks)
    for lp in fx.model.loops:
        if lp is not f.loop and f.loop.encloses(lp) and fx.loops[lp].parallel:
            pairs |= fx.loops[lp].alias_checks
    return pairs


def _after_pass_checks(fx, f, r, arrays) -> str | None:
    """The C condition, true on an overlap, of loop f's pairs of arguments, made after the private pass
    with the bins it met (__pl_hgl/__pl_hgh), or None where that cannot be done (the caller's entry test
    then covers the loop): the loop must write no array but its histograms (the pass then changes nothing
    the caller sees), and every other array in a pair must have an extent the code proves. '' when the
    loop has no pair to check."""
    m, L = fx.model, f.loop
    hists = {d: k for k, d, _e, ext in arrays if ext is None}
    fixed = {d: ext for _k, d, _e, ext in arrays if ext is not None}
    for e in m.events:
        if L in e.loops and e.write and e.decl.is_array and e.decl not in f.array_reductions:
            return None
    terms = []
    for a, b in sorted(loop_pairs(fx, f), key=lambda p: (p[0].name, p[1].name)):
        rng = []
        for d in (a, b):
            ptr = f"{d.name}.data()" if d.kind == "vector" else d.name
            if d in hists:
                k = hists[d]
                rng.append((f"(unsigned long long)(__UINTPTR_TYPE__)({ptr}) + (unsigned long long)(__pl_hgl{k} * "
                            f"(long long)sizeof(*{ptr}))",
                            f"(__pl_hgh{k} - __pl_hgl{k} + 1) * (long long)sizeof(*{ptr})"))
                continue
            if d.name in fx.data_extents:
                return None
            try:
                ext = fixed.get(d) or r.extent_c(d.name)
            except NotParallelizable:
                return None
            rng.append((f"(unsigned long long)(__UINTPTR_TYPE__)({ptr})", f"({ext}) * (long long)sizeof(*{ptr})"))
        (pa, na), (pb, nb) = rng
        terms.append(f"(({na}) > 0 && ({nb}) > 0 && {pa} < {pb} + (unsigned long long)({nb}) && "
                     f"{pb} < {pa} + (unsigned long long)({na}))")
    return " || ".join(terms)


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

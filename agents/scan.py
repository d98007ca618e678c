"""Prefix sums (scans) in two passes, for OpenMP, MPI and CUDA (issue 22).

`s += in[i]; out[i] = s;` (inclusive) or `out[i] = s; s += in[i];` (exclusive): the loop carries s, so
it is not parallel as written. It is when split the classic way: the iterations in contiguous blocks,
one per thread or rank; pass 1 sums each block's increments; the exclusive prefix of those sums (plus
the value s had before the loop) is where each block's s starts; pass 2 runs the original body over the
block from there. The first block starts where the sequential loop does, so its values are the same.

Recognized (`shape`): a canonical ascending loop of step 1 whose one unconditional top-level update of
the scalar s is `s += E` or `s = s + E`, where E reads only the loop variable and values the loop does
not write (its arrays and scalars), with no calls but pure math; every other use of s in the loop is a
read. The rest of the loop must be parallel once s is known per iteration: the analysis checks that as
for any loop (agents/analysis.py, LoopFacts.scan).

OpenMP: a block per thread, the offsets summed by one thread between the passes. MPI: a block per rank,
MPI_Exscan of the block sums, the written slices gathered on rank 0 (codegen_mpi's gathers). CUDA: a
block of at least CHUNK iterations per device thread, the block sums scanned on the host between two
kernels (a chunked scan, not a shared-memory block scan: simple, and right for any trip count).

Integer scans are exact. Floating-point ones are reassociated (block sums are added before the block's
own terms): the results differ from the sequential ones in rounding, as a parallel reduction's do, and
the note says so.
"""
from __future__ import annotations

from dataclasses import dataclass

from .base import NotParallelizable
from .codegen_common import line_indent, node_text_with, skip_edits, trip_count_c, var_type
from .frontend import FLOAT_TYPES, INTEGER_TYPES, text
from .unit import is_nested

_PURE = {"sqrt", "sqrtf", "fabs", "fabsf", "exp", "expf", "log", "logf", "sin", "sinf", "cos", "cosf",
         "fmin", "fmax", "fminf", "fmaxf", "abs", "labs", "pow", "powf", "floor", "ceil", "floorf", "ceilf"}


@dataclass(eq=False)
class Scan:
    decl: object        # the running scalar
    stmt: object        # its update statement
    incr: object        # the node of E
    op: str = "+"       # "+", or "min"/"max": a running minimum or maximum (issue 22)

    @property
    def floating(self) -> bool:
        return self.decl.base_type in FLOAT_TYPES

    def combine(self, a: str, b: str) -> str:
        """C for `a op b` (b a later block's value)."""
        if self.op == "+":
            return f"{a} + {b}"
        return f"(({b}) {'<' if self.op == 'min' else '>'} ({a}) ? ({b}) : ({a}))"

    @property
    def start(self) -> str:
        """A block's value before its first term: 0 for a sum; for min/max the value before the loop
        (idempotent: counted again by every block, it changes nothing, and an empty block holds it)."""
        return "0" if self.op == "+" else "__pl_s0"


def shape(m, d, L, evs) -> Scan | None:
    """The scan of `d` in loop L (evs: d's events in L), or None."""
    if L.kind != "for" or not L.canonical or L.step != 1 or L.var is None or L.while_form or L.range_of is not None:
        return None
    if d.kind != "scalar" or d.base_type not in (INTEGER_TYPES | FLOAT_TYPES) or L.body is None:
        return None
    writes = [e for e in evs if e.write]
    if len(writes) != 1 or writes[0].red_op not in ("+", "min", "max"):
        return None
    w = writes[0]
    op = w.red_op
    if w.loops[-1] is not L or w.stmt is None:
        return None
    if op == "+":
        if w.conditional_within(L) or w.stmt.type != "expression_statement":
            return None
        if w.stmt.parent is None or w.stmt.parent.id != L.body.id:
            return None
        top, incr = w.stmt, _increment(w.stmt, d.name)
    else:
        top = w.stmt
        while top.parent is not None and top.parent.id != L.body.id:
            top = top.parent
        if top.parent is None:
            return None
        incr = _minmax_increment(top, d.name, op)
    if incr is None:
        return None
    written = {e.decl for e in m.events if L in e.loops and e.write}
    for e in m.events:
        if incr.start_byte <= e.node.start_byte < incr.end_byte:
            if e.decl is L.var:
                continue
            if e.write or e.decl is d:
                return None
            if e.decl in written:
                # an array the loop writes (an in-place scan, x[i] = s after s += x[i]): pass 1 reads it
                # before pass 2 writes, so every write of it must come after the update in the body
                # (other iterations' writes are the analysis' array dependence test)
                if not e.decl.is_array or any(
                        x.decl is e.decl and x.write and x.node.start_byte < top.end_byte
                        for x in m.events if L in x.loops):
                    return None
    for c in m.calls:
        if incr.start_byte <= c.node.start_byte < incr.end_byte and c.name not in _PURE:
            return None
    if any(t in text(incr) for t in ("++", "--", "=")):
        return None
    return Scan(decl=d, stmt=top, incr=incr, op=op)


_MIN_CALLS = {"fmin", "fminf", "fminl", "min", "std::min", "std::fmin"}
_MAX_CALLS = {"fmax", "fmaxf", "fmaxl", "max", "std::max", "std::fmax"}


def _bare(n):
    while n is not None and n.type == "parenthesized_expression" and len(n.named_children) == 1:
        n = n.named_children[0]
    return n


def _minmax_increment(top, name: str, op: str):
    """E of a running minimum (maximum) of `name`: `name = fmin(name, E)` (std::min, either order),
    `name = name < E ? name : E` (the mirrored forms), or `if (E < name) name = E;` (no else)."""
    def kind(cond, a, b):
        # `a` and `b` the two values a ?: or if picks between: which one the condition prefers
        cond = _bare(cond)
        if cond is None or cond.type != "binary_expression":
            return None
        o = text(cond.child_by_field_name("operator"))
        x, y = _bare(cond.child_by_field_name("left")), _bare(cond.child_by_field_name("right"))
        if o not in ("<", "<=", ">", ">=") or x is None or y is None:
            return None
        sx, sy = text(x), text(y)
        if (sx, sy) == (a, b):
            return "min" if o in ("<", "<=") else "max"
        if (sx, sy) == (b, a):
            return "max" if o in ("<", "<=") else "min"
        return None

    if top.type == "expression_statement":
        a = _bare(top.named_children[0]) if top.named_children else None
        if a is None or a.type != "assignment_expression" or text(a.child_by_field_name("operator")) != "=" \
                or text(a.child_by_field_name("left")) != name:
            return None
        r = _bare(a.child_by_field_name("right"))
        if r is None:
            return None
        if r.type == "call_expression":
            fn = text(r.child_by_field_name("function"))
            args = [_bare(x) for x in r.child_by_field_name("arguments").named_children]
            if fn not in (_MIN_CALLS if op == "min" else _MAX_CALLS) or len(args) != 2:
                return None
            names = [text(x) for x in args]
            if names.count(name) != 1:
                return None
            return args[1] if names[0] == name else args[0]
        if r.type == "conditional_expression":
            c1, c2 = _bare(r.child_by_field_name("consequence")), _bare(r.child_by_field_name("alternative"))
            if c1 is None or c2 is None or [text(c1), text(c2)].count(name) != 1:
                return None
            if kind(r.child_by_field_name("condition"), text(c1), text(c2)) != op:
                return None
            return c2 if text(c1) == name else c1
        return None
    if top.type == "if_statement":
        if top.child_by_field_name("alternative") is not None:
            return None
        body = top.child_by_field_name("consequence")
        while body is not None and body.type == "compound_statement":
            stmts = [c for c in body.named_children if c.type != "comment"]
            body = stmts[0] if len(stmts) == 1 else None
        if body is None or body.type != "expression_statement" or not body.named_children:
            return None
        a = _bare(body.named_children[0])
        if a.type != "assignment_expression" or text(a.child_by_field_name("operator")) != "=" \
                or text(a.child_by_field_name("left")) != name:
            return None
        e = _bare(a.child_by_field_name("right"))
        cond = top.child_by_field_name("condition")
        if cond is not None and cond.type == "condition_clause":
            cond = cond.child_by_field_name("value") or (cond.named_children[0] if cond.named_children else None)
        # the if takes E when the condition prefers E over name
        if e is None or kind(cond, text(e), name) != op:
            return None
        return e
    return None


def _increment(stmt, name: str):
    """E of `name += E;` or `name = name + E;` / `name = E + name;`."""
    a = stmt.named_children[0] if stmt.named_children else None
    if a is None or a.type != "assignment_expression":
        return None
    left, right = a.child_by_field_name("left"), a.child_by_field_name("right")
    op = a.child_by_field_name("operator")
    if left is None or right is None or text(left) != name:
        return None
    opt = text(op) if op is not None else ""
    if opt == "+=":
        return right
    if opt == "=" and right.type == "binary_expression":
        bop = right.child_by_field_name("operator")
        l2, r2 = right.child_by_field_name("left"), right.child_by_field_name("right")
        if bop is not None and text(bop) == "+":
            if text(l2) == name:
                return r2
            if text(r2) == name:
                return l2
    return None


def _local_loop(data: bytes, L, body_edits=()) -> tuple[str, str]:
    """(header of the block loop with the variable declared, the body)."""
    vt = var_type(L.var)
    body = node_text_with(data, L.body, skip_edits(L) + list(body_edits))
    head = (f"for (long long __pl_j = __pl_b; __pl_j < __pl_e; __pl_j++) {{ "
            f"{vt} {L.var.name} = ({vt})(__pl_lo + __pl_j);")
    return head, body


def _note(sc: Scan, L, how: str) -> str:
    if sc.op != "+":
        return (f"loop at line {L.line}: running {sc.op}imum of '{sc.decl.name}' in two passes ({how}; exact: "
                f"{sc.op} is associative)")
    kind = ("floating-point: the additions are reassociated (each block starts from the sum of the blocks "
            "before it), so results differ from the sequential ones in rounding") if sc.floating else "integer: exact"
    return f"loop at line {L.line}: prefix sum of '{sc.decl.name}' in two passes ({how}; {kind})"


def openmp_edit(fx, f) -> tuple[tuple[int, int, str], str]:
    """(edit replacing scan loop f, note): per-thread block sums, their exclusive prefix, the loop again."""
    L, sc = f.loop, f.scan
    data = fx.unit.data
    ind, _ = line_indent(data, L.node.start_byte)
    i2 = ind + "    "
    ty = sc.decl.base_type
    lo_c = f"(long long)({L.init_text()})"
    hi_c = f"(long long)({L.bound_text()})"
    head, body = _local_loop(data, L)
    incr = text(sc.incr)
    name = sc.decl.name
    cl = ""
    if f.private:
        cl = f" private({', '.join(d.name for d in f.private)})"
    out = [f"{{ /* paralift: prefix sum of '{name}': block sums per thread, their exclusive prefix, the loop again */",
           f"{i2}const long long __pl_lo = {lo_c}, __pl_hi = {hi_c};",
           f"{i2}const long long __pl_n = {trip_count_c(L, '__pl_lo', '__pl_hi')};",
           f"{i2}const {ty} __pl_s0 = {name};",
           f"{i2}int __pl_nt = omp_get_max_threads();",
           f"{i2}{ty} *__pl_part = ({ty} *)malloc(sizeof({ty}) * (size_t)(__pl_nt + 1));",
           f"{i2}int __pl_used = 0;",
           f"{i2}if (__pl_part != NULL) {{",
           f"{i2}#pragma omp parallel num_threads(__pl_nt){cl}",
           f"{i2}{{",
           f"{i2}    const int __pl_t = omp_get_thread_num(), __pl_k = omp_get_num_threads();",
           f"{i2}    const long long __pl_q = __pl_n / __pl_k, __pl_r = __pl_n % __pl_k;",
           f"{i2}    const long long __pl_b = __pl_t * __pl_q + (__pl_t < __pl_r ? __pl_t : __pl_r);",
           f"{i2}    const long long __pl_e = __pl_b + __pl_q + (__pl_t < __pl_r ? 1 : 0);",
           f"{i2}    {ty} __pl_p = {sc.start};",
           f"{i2}    {head} __pl_p = {sc.combine('__pl_p', '(' + incr + ')')}; }}",
           f"{i2}    __pl_part[__pl_t + 1] = __pl_p;",
           f"{i2}    #pragma omp barrier",
           f"{i2}    #pragma omp single",
           f"{i2}    {{ __pl_part[0] = __pl_s0; __pl_used = __pl_k; "
           f"for (int __pl_u = 1; __pl_u <= __pl_k; __pl_u++) "
           f"__pl_part[__pl_u] = {sc.combine('__pl_part[__pl_u - 1]', '__pl_part[__pl_u]')}; }}",
           f"{i2}    {{",
           f"{i2}    {ty} {name} = __pl_part[__pl_t];",
           f"{i2}    {head}",
           f"{i2}    {body}",
           f"{i2}    }}",
           f"{i2}    }}",
           f"{i2}}}",
           f"{i2}{name} = __pl_part[__pl_used];",
           f"{i2}free(__pl_part);",
           f"{i2}}} else {{",
           f"{i2}{text(L.node)}",
           f"{i2}}}",
           f"{ind}}}"]
    return (L.node.start_byte, L.node.end_byte, "\n".join(out)), _note(sc, L, "per-thread blocks")


def mpi_local(gen, D, f, ind: str, lo_body_edits) -> tuple[str, list[str], str]:
    """For codegen_mpi.gen_block on a scan loop: (the rank's local loop, statements after it, note). The
    block bounds __pl_b/__pl_e, __pl_lo and __pl_rank exist already."""
    from .codegen_mpi import mpi_type
    sc = f.scan
    ty = sc.decl.base_type
    try:
        mt = mpi_type(ty, gen.lang)
    except NotParallelizable:
        raise NotParallelizable(f"no MPI datatype for the running sum '{sc.decl.name}' ({ty})") from None
    head, body = _local_loop(gen.data, D, lo_body_edits)
    name = sc.decl.name
    mop = {"+": "MPI_SUM", "min": "MPI_MIN", "max": "MPI_MAX"}[sc.op]
    local = "\n".join([
        f"const {ty} __pl_s0 = {name};",
        f"{ind}{ty} __pl_p = {sc.start};",
        f"{ind}{head} __pl_p = {sc.combine('__pl_p', '(' + text(sc.incr) + ')')}; }}",
        f"{ind}{ty} __pl_off = {sc.start};",
        f"{ind}MPI_Exscan(&__pl_p, &__pl_off, 1, {mt}, {mop}, MPI_COMM_WORLD);",
        f"{ind}if (__pl_rank == 0) __pl_off = {sc.start};   /* MPI_Exscan leaves rank 0's result undefined */",
        f"{ind}{{",
        f"{ind}{ty} {name} = {'__pl_s0 + __pl_off' if sc.op == '+' else '__pl_off'};",
        f"{ind}{head}",
        f"{ind}{body}",
        f"{ind}}}",
        f"{ind}}}"])
    after = [f"{ind}{ty} __pl_tot = __pl_p;",
             f"{ind}MPI_Allreduce(MPI_IN_PLACE, &__pl_tot, 1, {mt}, {mop}, MPI_COMM_WORLD);",
             f"{ind}{name} = {'__pl_s0 + __pl_tot' if sc.op == '+' else '__pl_tot'};"]
    return local, after, _note(sc, D, "rank blocks, MPI_Exscan of the block sums")


CHUNK = 64


def cuda_launch(gen, L, f) -> str:
    """For codegen_cuda.CudaGen.kernel on a scan loop: the host block that runs it on the device, the two
    kernels appended to gen.kernels. The iterations are cut into one contiguous block per device thread
    (a fixed number of threads, so that the block sums fit one small host scan): kernel 1 writes each
    thread's block sum, the host turns them into exclusive offsets from the value before the loop, and
    kernel 2 runs the body over each block from its offset."""
    sc = f.scan
    m, fx = gen.m, gen.fx
    ty, name = sc.decl.base_type, sc.decl.name
    k = len(gen.kernels)
    base = f"__pl_kernel_{fx.signature.name}_{k}"
    evs = [e for e in m.events if L in e.loops]
    arrays = []
    for e in evs:
        d = e.decl
        if d.is_array and d not in arrays and not (d.node is not None and not d.is_param and L.contains(d.node)):
            if not d.is_param or d.kind not in ("pointer", "vector") or (d.param is not None and is_nested(d.param)):
                raise NotParallelizable(f"the scan at line {L.line} uses the array '{d.name}', which is not a "
                                        f"pointer or std::vector parameter")
            arrays.append(d)
    for d in arrays:
        if d not in gen.used_arrays:
            gen.used_arrays.append(d)
    written = [d for d in arrays if any(e.decl is d and e.write for e in evs)]
    scalars = [d for d in f.scalars_read if d is not sc.decl and d not in f.private and not d.is_array]
    for d in scalars + list(f.private) + [sc.decl]:
        if d.kind == "global" or d.base_type in (None, "auto"):
            raise NotParallelizable(f"the scan at line {L.line} uses '{d.name}', which the kernel cannot take")
    kparams = [gen.kernel_param(d, "" if d in written else "const ") for d in arrays]
    kparams += [f"{d.base_type} {d.name}" for d in scalars] + ["long long __pl_lo", "long long __pl_n"]
    kargs = [gen.kernel_arg(d) for d in arrays] + [d.name for d in scalars] + ["__pl_lo", "__pl_n"]
    vt = var_type(L.var)
    body = node_text_with(gen.data, L.body, gen.body_edits(L, f) + skip_edits(L))
    incr = node_text_with(gen.data, sc.incr, [e for e in gen.body_edits(L, f)
                                              if sc.incr.start_byte <= e[0] < sc.incr.end_byte])
    block = ("const long long __pl_t = (long long)blockIdx.x * blockDim.x + threadIdx.x, "
             "__pl_k = (long long)gridDim.x * blockDim.x;\n"
             "    const long long __pl_q = __pl_n / __pl_k, __pl_r = __pl_n % __pl_k;\n"
             "    const long long __pl_b = __pl_t * __pl_q + (__pl_t < __pl_r ? __pl_t : __pl_r);\n"
             "    const long long __pl_e = __pl_b + __pl_q + (__pl_t < __pl_r ? 1 : 0);\n")
    privs = "".join(f"    {d.base_type} {d.name};\n" for d in f.private)
    gen.kernels.append(
        f"__global__ void {base}_sums({', '.join(kparams + [f'{ty} *__pl_part', f'{ty} __pl_s0'])}) {{\n    {block}"
        f"    {ty} __pl_p = {sc.start};\n"
        f"    for (long long __pl_j = __pl_b; __pl_j < __pl_e; __pl_j++) {{ {vt} {L.var.name} = ({vt})(__pl_lo + __pl_j); "
        f"__pl_p = {sc.combine('__pl_p', '(' + incr + ')')}; }}\n"
        f"    __pl_part[__pl_t] = __pl_p;\n}}")
    gen.kernels.append(
        f"__global__ void {base}_scan({', '.join(kparams + [f'const {ty} *__pl_off'])}) {{\n    {block}{privs}"
        f"    {ty} {name} = __pl_off[__pl_t];\n"
        f"    for (long long __pl_j = __pl_b; __pl_j < __pl_e; __pl_j++) {{ {vt} {L.var.name} = ({vt})(__pl_lo + __pl_j);\n"
        f"    {body}\n    }}\n}}")
    ind, ii = "    ", "        "
    h = [f"{{ /* paralift: prefix sum of '{name}' at line {L.line}: block sums per device thread, their exclusive "
         f"prefix on the host, the blocks again */",
         f"{ind}const long long __pl_lo = (long long)({L.init_text()});",
         f"{ind}const long long __pl_hi = (long long)({L.bound_text()});",
         f"{ind}const long long __pl_n = {trip_count_c(L, '__pl_lo', '__pl_hi')};",
         f"{ind}if (__pl_n > 0) {{"]
    for d in arrays:
        h.append(f"{ii}if (!__pl_dv_{d.name}) {{ {gen.to_device(d)} __pl_dv_{d.name} = 1; }}")
    # at least CHUNK iterations per thread: the host's scan of the block sums stays small next to the loop
    h += [f"{ii}const long long __pl_nb = __pl_min((__pl_n + {256 * CHUNK - 1}) / {256 * CHUNK}, __pl_max_blocks());",
          f"{ii}const long long __pl_nt = __pl_nb * 256;",
          f"{ii}{ty} *__pl_dp = NULL;",
          f"{ii}PL_CUDA_CHECK(cudaMalloc((void **)&__pl_dp, sizeof({ty}) * (size_t)__pl_nt));",
          f"{ii}{base}_sums<<<(unsigned)__pl_nb, 256>>>({', '.join(kargs + ['__pl_dp', name])});",
          f"{ii}PL_CUDA_CHECK(cudaGetLastError());",
          f"{ii}{ty} *__pl_hp = ({ty} *)malloc(sizeof({ty}) * (size_t)__pl_nt);",
          f"{ii}if (__pl_hp == NULL) {{ fprintf(stderr, \"out of host memory\\n\"); exit(1); }}",
          f"{ii}PL_CUDA_CHECK(cudaMemcpy(__pl_hp, __pl_dp, sizeof({ty}) * (size_t)__pl_nt, cudaMemcpyDeviceToHost));",
          f"{ii}{{ {ty} __pl_run = {name}; for (long long __pl_u = 0; __pl_u < __pl_nt; __pl_u++) "
          f"{{ const {ty} __pl_v = __pl_hp[__pl_u]; __pl_hp[__pl_u] = __pl_run; "
          f"__pl_run = {sc.combine('__pl_run', '__pl_v')}; }} "
          f"{name} = __pl_run; }}",
          f"{ii}PL_CUDA_CHECK(cudaMemcpy(__pl_dp, __pl_hp, sizeof({ty}) * (size_t)__pl_nt, cudaMemcpyHostToDevice));",
          f"{ii}{base}_scan<<<(unsigned)__pl_nb, 256>>>({', '.join(kargs + ['__pl_dp'])});",
          f"{ii}PL_CUDA_CHECK(cudaGetLastError());",
          f"{ii}PL_CUDA_CHECK(cudaDeviceSynchronize());",
          f"{ii}free(__pl_hp);",
          f"{ii}PL_CUDA_CHECK(cudaFree(__pl_dp));"]
    for d in written:
        h.append(f"{ii}__pl_hv_{d.name} = 0;")
    h += [f"{ind}}}", "}"]
    gen.notes.append(_note(sc, L, "a block per device thread, the block sums' exclusive prefix on the host"))
    return "\n".join(h)

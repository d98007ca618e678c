"""Register blocking for the dense products codegen_cuda tiles (issue 24: fp32 at n = 4096 should
reach >= 10 TFLOP/s kernel-only on an H200; one output per thread of a 16x16 block loads two shared
operands per multiply-add and stays far below that).

Each 16x16 block computes a (16*RB) x (16*RB) patch of (i, j); each thread keeps RB x RB
accumulators in registers, for the outputs (ty + 16r, tx + 16c), so that per step of p it reads RB
values of X and RB of Y from shared memory for RB*RB products (shared-memory reads stay
conflict-free: a warp reads two rows of the X slab, which broadcast, and 16 consecutive Y values).
Every output still adds its products one by one in the order of p, each product rounded on its own
(`*__pl_rn*`), so the results are the C code's bit for bit.

`register_blocked` returns the kernel lines, or None when the nest is not one this handles (then
codegen_cuda keeps one output per thread): the accumulator is an array element (gemm's C[i*n + j],
nothing before the p loop) or a scalar whose only statement before the p loop is its declaration,
with an initializer that does not depend on i or j; the added value and the statements after the p
loop depend on i and j only through the operands and the output.
"""
from __future__ import annotations

from .frontend import text, walk
from .codegen_common import node_text_with, var_type

RB = 4               # accumulators per thread along i and along j


def _idents(node) -> set[str]:
    return {text(n) for n in walk(node) if n.type == "identifier"}


def register_blocked(gen, L, child, P, pre, post, acc, acc_ev, rhs, X, Y, tx: str, ty: str, tile: int,
                     text_of, rounded_products) -> list[str] | None:
    data = gen.data
    iv, jv = L.var.name, child.var.name
    outside = [n for n in walk(rhs) if n.type == "identifier" and text(n) in (iv, jv) and
               not any(o.start_byte <= n.start_byte < o.end_byte for o in (X, Y))]
    if outside or jv in _idents(X) or iv in _idents(Y):
        return None
    if any(st.type != "expression_statement" for st in post):
        return None
    scalar = acc.type == "identifier"
    acc_name = text(acc)
    if scalar:
        if len(pre) != 1 or pre[0].type != "declaration":
            return None
        decls = pre[0].children_by_field_name("declarator")
        if len(decls) != 1 or decls[0].type != "init_declarator":
            return None
        name = decls[0].child_by_field_name("declarator")
        value = decls[0].child_by_field_name("value")
        if name is None or name.type != "identifier" or text(name) != acc_name or value is None or \
                value.type == "initializer_list" or _idents(value) & {iv, jv}:
            return None
        init = text_of(value)
        acc_t = acc_ev.decl.base_type
    else:
        if pre:
            return None
        acc_t = acc_ev.decl.base_type
    if not acc_t or acc_t in ("auto",):
        return None
    patch = tile * RB
    vt, vt2, vp = var_type(L.var), var_type(child.var), var_type(P.var)
    add = node_text_with(data, rhs, [e for e in rounded_products(rhs) if not any(
        o.start_byte <= e[0] < o.end_byte for o in (X, Y))] + [
        (X.start_byte, X.end_byte, "__pl_a[__pl_r]"), (Y.start_byte, Y.end_byte, "__pl_b[__pl_c]")])
    acc_text = node_text_with(data, acc, rounded_products(acc))
    ind = "    "
    rows = f"for (int __pl_r = 0; __pl_r < {RB}; __pl_r++)"
    cols = f"for (int __pl_c = 0; __pl_c < {RB}; __pl_c++)"
    pair = [f"const long long __pl_ti = __pl_ti0 + {tile}LL * __pl_r, __pl_tj = __pl_tj0 + {tile}LL * __pl_c;",
            "const bool __pl_vi = __pl_ti < __pl_n, __pl_vj = __pl_tj < __pl_n2;",
            f"const {vt} {iv} = ({vt})(__pl_lo + __pl_ti * ({L.step}));",
            f"const {vt2} {jv} = ({vt2})(__pl_lo2 + __pl_tj * ({child.step}));",
            f"(void){iv}; (void){jv};"]
    if scalar:
        start = [f"__pl_acc[__pl_r][__pl_c] = ({acc_t})({init});"]
        finish = [f"{acc_t} {acc_name} = __pl_acc[__pl_r][__pl_c];", *[text_of(st) for st in post]]
    else:
        start = [*pair, f"__pl_acc[__pl_r][__pl_c] = __pl_vi && __pl_vj ? {acc_text} : ({acc_t})0;"]
        finish = [f"{acc_text} = __pl_acc[__pl_r][__pl_c];", *[text_of(st) for st in post]]
    i2 = ind * 2
    return [
        f"{ind}__shared__ {tx} __pl_tx[{patch}][{tile}];",
        f"{ind}__shared__ {ty} __pl_ty[{tile}][{patch}];",
        f"{ind}for (long long __pl_bi = blockIdx.y; __pl_bi * {patch} < __pl_n; __pl_bi += gridDim.y)",
        f"{ind}for (long long __pl_bj = blockIdx.x; __pl_bj * {patch} < __pl_n2; __pl_bj += gridDim.x) {{",
        f"{i2}const long long __pl_ti0 = __pl_bi * {patch} + threadIdx.y, __pl_tj0 = __pl_bj * {patch} + threadIdx.x;",
        f"{i2}{acc_t} __pl_acc[{RB}][{RB}];",
        "#pragma unroll", f"{i2}{rows}",
        "#pragma unroll", f"{i2}{cols} {{",
        *[f"{i2}    {x}" for x in start],
        f"{i2}}}",
        f"{i2}const long long __pl_plo = (long long)({P.init_text()}), __pl_phi = (long long)({P.bound_text()});",
        f"{i2}for (long long __pl_p0 = __pl_plo; __pl_p0 < __pl_phi; __pl_p0 += {tile}) {{",
        "#pragma unroll", f"{i2}    {rows} {{",
        f"{i2}        const long long __pl_ti = __pl_ti0 + {tile}LL * __pl_r;",
        f"{i2}        const {vt} {iv} = ({vt})(__pl_lo + __pl_ti * ({L.step}));",
        f"{i2}        const {vp} {P.var.name} = ({vp})(__pl_p0 + threadIdx.x);",
        f"{i2}        (void){iv}; (void){P.var.name};",
        f"{i2}        __pl_tx[threadIdx.y + {tile} * __pl_r][threadIdx.x] = __pl_ti < __pl_n && "
        f"__pl_p0 + threadIdx.x < __pl_phi ? {text_of(X)} : ({tx})0;",
        f"{i2}    }}",
        "#pragma unroll", f"{i2}    {cols} {{",
        f"{i2}        const long long __pl_tj = __pl_tj0 + {tile}LL * __pl_c;",
        f"{i2}        const {vt2} {jv} = ({vt2})(__pl_lo2 + __pl_tj * ({child.step}));",
        f"{i2}        const {vp} {P.var.name} = ({vp})(__pl_p0 + threadIdx.y);",
        f"{i2}        (void){jv}; (void){P.var.name};",
        f"{i2}        __pl_ty[threadIdx.y][threadIdx.x + {tile} * __pl_c] = __pl_tj < __pl_n2 && "
        f"__pl_p0 + threadIdx.y < __pl_phi ? {text_of(Y)} : ({ty})0;",
        f"{i2}    }}",
        f"{i2}    __syncthreads();",
        f"{i2}    const int __pl_kn = (int)__pl_min((long long){tile}, __pl_phi - __pl_p0);",
        f"{i2}    for (int __pl_k = 0; __pl_k < __pl_kn; __pl_k++) {{",
        f"{i2}        {tx} __pl_a[{RB}];",
        f"{i2}        {ty} __pl_b[{RB}];",
        "#pragma unroll", f"{i2}        {rows} __pl_a[__pl_r] = __pl_tx[threadIdx.y + {tile} * __pl_r][__pl_k];",
        "#pragma unroll", f"{i2}        {cols} __pl_b[__pl_c] = __pl_ty[__pl_k][threadIdx.x + {tile} * __pl_c];",
        "#pragma unroll", f"{i2}        {rows}",
        "#pragma unroll", f"{i2}        {cols}",
        f"{i2}            __pl_acc[__pl_r][__pl_c] += {add};",
        f"{i2}    }}",
        f"{i2}    __syncthreads();",
        f"{i2}}}",
        "#pragma unroll", f"{i2}{rows}",
        "#pragma unroll", f"{i2}{cols} {{",
        *[f"{i2}    {x}" for x in pair],
        f"{i2}    if (__pl_vi && __pl_vj) {{",
        *[f"{i2}        {x}" for x in finish],
        f"{i2}    }}",
        f"{i2}}}",
        f"{ind}}}"]

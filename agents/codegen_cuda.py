"""CUDA code generation (DESIGN.md §3): a .cu translation unit whose host
function keeps the original name and signature, takes host pointers (or
std::vectors), and does allocation, copies, launches, synchronization,
copy-back and free itself.  Every CUDA call is checked.

* one thread per iteration of each outermost parallel loop (a 2-D grid for a
  perfectly nested rectangular parallel pair, threadIdx.x on the written
  arrays' stride-1 index), grid-stride loops over a grid sized from the
  device's SM count, no launch when the trip count is 0;
* dense products (for i, for j, for p: acc += X[..p..] * Y[..p..j..]): 16x16
  shared-memory tiles of X and Y, products added in the order of p; where the
  nest allows, each thread sums 4x4 outputs in registers (agents/cuda_tiles.py);
* scalar reductions: per-thread partials, a warp-shuffle block reduction,
  then atomicAdd for sums of types with a native atomicAdd, or per-block
  partials combined on the host (a second pass) for the rest;
* array reductions (histograms): atomicAdd on each update;
* every device product is written `a *__pl_rn* b` (rounded on its own, never
  fused into an FMA by nvcc), so results equal the C code's under any -fmad;
* the rest of the function body runs on the host, inside a lambda so that its
  `return`s work; device and host copies of each array carry validity flags,
  and a copy is made only when the other side's copy is stale; an array every
  path of a kernel writes is not uploaded; host statements inside a host loop
  of launches run as one-thread kernels, so the data stays on the device;
* arrays whose extent depends on data (hist[bin[i]]) are sized at entry by a
  scan of the index values, where that scan is exact.
Helper functions the kernels call are compiled `__host__ __device__`; the
source's main() is not included.
"""
from __future__ import annotations

import dataclasses
import re

from tree_sitter import Node

from .analysis import FunctionFacts, LoopFacts, _only_child_loop, full_cover
from .base import NotParallelizable
from .codegen_common import CRenderer, fallback_entry, iminmax_needed, node_text_with, trip_count_c, user_functions_called, var_type
from .frontend import FLOAT_TYPES, Decl, Loop, text, walk
from .poly import Poly

_ATOMIC_NATIVE = {"int", "unsigned int", "unsigned long long", "float", "double"}
_ATOMIC_CAST64 = {"long", "unsigned long", "long long", "size_t", "int64_t", "uint64_t", "ssize_t", "ptrdiff_t"}
_CPP_KEYWORDS = {
    "class", "new", "delete", "this", "template", "typename", "namespace", "public", "private", "protected",
    "virtual", "operator", "friend", "try", "catch", "throw", "explicit", "mutable", "using", "export", "and",
    "or", "not", "xor", "bitand", "bitor", "compl", "and_eq", "or_eq", "xor_eq", "not_eq", "nullptr",
    "constexpr", "decltype", "noexcept", "static_assert", "thread_local", "alignas", "alignof", "char16_t",
    "char32_t", "concept", "requires", "co_await", "co_yield", "co_return", "dynamic_cast", "static_cast",
    "reinterpret_cast", "const_cast", "typeid", "wchar_t", "asm", "register",
}

PRELUDE = r'''#define PL_CUDA_CHECK(call)                                                          \
    do {                                                                             \
        cudaError_t pl_err_ = (call);                                                \
        if (pl_err_ != cudaSuccess) {                                                \
            fprintf(stderr, "CUDA error %s at %s:%d: %s\n", #call, __FILE__, __LINE__, \
                    cudaGetErrorString(pl_err_));                                    \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

/* Products in device code are written `a *__pl_rn* b`: each is rounded on its own (__fmul_rn /
   __dmul_rn, which nvcc never fuses into an FMA), as the sequential C build rounds it, whatever
   -fmad setting this file is built with (nvcc's default contracts a*b + c into one FMA, and e.g.
   an escape-time count then differs from the C code's). Other types multiply as usual, and stay
   constant expressions. */
struct __pl_rn_t {};
#define __pl_rn __pl_rn_t()
template <typename T> struct __pl_rn_l { T v; };
template <typename T> struct __pl_rn_r { T v; };
template <typename R> struct __pl_rn_mul {
    template <typename A, typename B> __host__ __device__ static constexpr R f(A a, B b) { return a * b; }
};
template <> struct __pl_rn_mul<float> {
    template <typename A, typename B> __host__ __device__ static float f(A a, B b) {
#if defined(__CUDA_ARCH__) || defined(PARALIFT_CUDA_CPU)  /* the CPU emulation: its rounding too */
        return __fmul_rn((float)a, (float)b);
#else
        return (float)a * (float)b;
#endif
    }
};
template <> struct __pl_rn_mul<double> {
    template <typename A, typename B> __host__ __device__ static double f(A a, B b) {
#if defined(__CUDA_ARCH__) || defined(PARALIFT_CUDA_CPU)  /* the CPU emulation: its rounding too */
        return __dmul_rn((double)a, (double)b);
#else
        return (double)a * (double)b;
#endif
    }
};
template <typename T> __host__ __device__ constexpr __pl_rn_l<T> operator*(T a, __pl_rn_t) { return {a}; }
template <typename T> __host__ __device__ constexpr __pl_rn_r<T> operator*(__pl_rn_t, T b) { return {b}; }
template <typename T, typename U>
__host__ __device__ constexpr auto operator*(__pl_rn_l<T> a, U b) -> decltype(a.v * b) {
    return __pl_rn_mul<decltype(a.v * b)>::f(a.v, b);
}
template <typename T, typename U> __host__ __device__ inline T &operator*=(T &x, __pl_rn_r<U> b) {
    x = __pl_rn_mul<decltype(x * b.v)>::f(x, b.v);
    return x;
}

template <typename T> __host__ __device__ inline T __pl_min(T a, T b) { return b < a ? b : a; }
/* Blocks worth launching: 32 of 256 threads per multiprocessor of the current device. */
static long long __pl_max_blocks(void) {
    int dev = 0, sms = 0;
    PL_CUDA_CHECK(cudaGetDevice(&dev));
    PL_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    return 32LL * (sms > 0 ? sms : 1);
}
template <typename T> __host__ __device__ inline T __pl_max(T a, T b) { return a < b ? b : a; }
template <typename T> __host__ __device__ inline T __pl_abs(T a) { return a < T(0) ? -a : a; }
'''

REDUCE_PRELUDE = r'''struct __pl_op_add { template <typename T> __device__ T operator()(T a, T b) const { return a + b; } };
struct __pl_op_mul { template <typename T> __device__ T operator()(T a, T b) const { return a * b; } };
struct __pl_op_max { template <typename T> __device__ T operator()(T a, T b) const { return a < b ? b : a; } };
struct __pl_op_min { template <typename T> __device__ T operator()(T a, T b) const { return b < a ? b : a; } };
struct __pl_op_land { template <typename T> __device__ T operator()(T a, T b) const { return a && b; } };
struct __pl_op_lor { template <typename T> __device__ T operator()(T a, T b) const { return a || b; } };
struct __pl_op_band { template <typename T> __device__ T operator()(T a, T b) const { return a & b; } };
struct __pl_op_bor { template <typename T> __device__ T operator()(T a, T b) const { return a | b; } };
struct __pl_op_bxor { template <typename T> __device__ T operator()(T a, T b) const { return a ^ b; } };

/* Block-wide reduction over blockDim.x * blockDim.y threads (a multiple of 32, at most 1024):
   shuffles within each warp, then warp 0 combines the warps' values. The result is exact in
   thread 0 only, the one thread that uses it. The first barrier keeps a second call in the same
   kernel (same T and Op: the same part[]) from overwriting values warp 0 still reads. */
template <typename T, typename Op>
__device__ T __pl_block_reduce(T v, Op op) {
    __shared__ T part[32];
    const int tid = threadIdx.x + threadIdx.y * blockDim.x;
    const int nw = (blockDim.x * blockDim.y) / 32;
    for (int o = 16; o > 0; o >>= 1)
        v = op(v, (T)__shfl_down_sync(0xffffffffu, v, o));
    __syncthreads();
    if ((tid & 31) == 0) part[tid >> 5] = v;
    __syncthreads();
    if (tid < 32) {
        v = part[tid < nw ? tid : 0];
        for (int o = 16; o > 0; o >>= 1) {
            const T u = (T)__shfl_down_sync(0xffffffffu, v, o);
            if (tid + o < nw) v = op(v, u);
        }
    }
    return v;
}
'''

# functions a one-thread kernel may call (CUDA's math library has them for the device)
_DEVICE_MATH = {"fabs", "fabsf", "sqrt", "sqrtf", "exp", "expf", "log", "logf", "sin", "sinf", "cos", "cosf",
                "pow", "powf", "fmin", "fmax", "fminf", "fmaxf", "floor", "ceil", "floorf", "ceilf", "abs"}

TILE = 16      # side of the shared-memory tiles of a dense product (a TILE x TILE block)

_OPS = {"+": "__pl_op_add", "*": "__pl_op_mul", "max": "__pl_op_max", "min": "__pl_op_min",
        "&&": "__pl_op_land", "||": "__pl_op_lor", "&": "__pl_op_band", "|": "__pl_op_bor", "^": "__pl_op_bxor"}
_IDEMPOTENT = {"max", "min", "&&", "||", "&", "|"}


def _host_combine(op: str, a: str, b: str) -> str:
    if op == "max":
        return f"({a} < {b} ? {b} : {a})"
    if op == "min":
        return f"({b} < {a} ? {b} : {a})"
    return f"({a} {op} {b})"


def rounded_products(node: Node) -> list[tuple[int, int, str]]:
    """Edits writing every product under `node` as `a *__pl_rn* b` and every `x *= e` as
    `x *= __pl_rn *(e)` (see PRELUDE): only the operator tokens change (and a parenthesis is
    added), so precedence is kept and the edits never overlap the ones around them."""
    edits = []
    for n in walk(node):
        if n.type == "binary_expression":
            op = n.child_by_field_name("operator")
            if op is not None and op.type == "*":
                edits.append((op.start_byte, op.end_byte, "*__pl_rn*"))
        elif n.type == "assignment_expression":
            op = n.child_by_field_name("operator")
            right = n.child_by_field_name("right")
            if op is not None and op.type == "*=" and right is not None:
                edits.append((op.start_byte, right.start_byte, "*= __pl_rn *("))
                edits.append((right.end_byte, right.end_byte, ")"))
    return edits


class CudaGen:
    def __init__(self, fx: FunctionFacts):
        self.fx = fx
        self.m = fx.model
        self.data = fx.unit.data
        self.lang = fx.unit.language
        self.r = CRenderer(fx)
        self.kernels: list[str] = []
        self.used_arrays: list[Decl] = []
        self.device_calls: set[str] = set()
        self.notes: list[str] = []
        self.chosen = {f.loop: f for f in fx.chosen_loops() + (fx.scan_loops() if hasattr(fx, "scan_loops") else [])}
        self.nonneg = {d.key for d in self.m.params.values() if d.kind == "scalar" and
                       fx.signature.param(d.name).values.kind.value == "size"}
        # strides and leading dimensions the function checks at entry (agents/strides.py)
        self.nonneg |= {f.fact for f in getattr(fx, "value_facts", [])}

    # -- checks --------------------------------------------------------------
    def check(self) -> None:
        for n in walk(self.m.body):
            if n.type == "identifier" and text(n) in _CPP_KEYWORDS and self.lang == "c":
                raise NotParallelizable(f"identifier '{text(n)}' is a C++ keyword")
        for d in self.m.decls:
            if d.base_type == "long double":
                raise NotParallelizable(f"'{d.name}' is a long double, which CUDA devices do not support")

    # -- kernel body text ----------------------------------------------------
    def body_edits(self, L: Loop, f: LoopFacts) -> list[tuple[int, int, str]]:
        edits = []
        for n in walk(L.node):
            if n.type == "call_expression":
                fn = n.child_by_field_name("function")
                name = text(fn).replace(" ", "")
                if fn.type == "field_expression":
                    obj = text(fn.child_by_field_name("argument"))
                    if text(fn.child_by_field_name("field")) == "size":
                        d = self.m.params.get(obj)
                        if d is None or d.kind != "vector":
                            if self.row_size_ok(fn):    # a row of a flattened nested vector (cuda_flatten)
                                continue
                            table = next((t for t in self.m.decls if t.name == obj and not t.is_param), None)
                            n_const = self.m.std_array_size(table) if table is not None else None
                            if n_const is not None:     # a local std::array table: written as T w[N]
                                edits.append((n.start_byte, n.end_byte, f"{n_const}LL"))
                                continue
                            raise NotParallelizable(f"'{text(n)}' in a kernel")
                        edits.append((n.start_byte, n.end_byte, f"__pl_size_{obj}"))
                    continue
                if name in ("std::min", "min") and self.lang == "cpp":
                    edits.append((fn.start_byte, fn.end_byte, "__pl_min"))
                elif name in ("std::max", "max") and self.lang == "cpp":
                    edits.append((fn.start_byte, fn.end_byte, "__pl_max"))
                elif name == "std::abs":
                    edits.append((fn.start_byte, fn.end_byte, "__pl_abs"))
                elif name.startswith("std::"):
                    edits.append((fn.start_byte, fn.end_byte, name[5:]))
                elif name in self.fx.unit.functions or name in self.fx.unit.template_functions:
                    self.device_calls.add(name)
            elif n.type == "identifier" and text(n) in ("restrict",):
                edits.append((n.start_byte, n.end_byte, "__restrict__"))
        # array reductions -> atomicAdd
        stmts = {}
        for d, op in f.array_reductions.items():
            if op != "+":
                raise NotParallelizable(f"array reduction '{op}' on '{d.name}'")
            for e in self.m.events:
                if e.decl is d and L in e.loops:
                    if e.stmt is None or e.stmt.type != "expression_statement":
                        raise NotParallelizable(f"update of '{d.name}' at line {e.line} is not a simple statement")
                    stmts[e.stmt.id] = (e.stmt, d)
        for stmt, d in stmts.values():
            edits = [e for e in edits if not (stmt.start_byte <= e[0] < stmt.end_byte)]
            edits.append((stmt.start_byte, stmt.end_byte, self.atomic_stmt(stmt, d)))
        for lp in [L] + [c for c in self.m.loops if L.encloses(c) and c is not L]:
            if lp.skip_stmt is not None:
                if lp is not L:
                    continue   # inner while loops stay while loops, increment included
                edits = [e for e in edits if not (lp.skip_stmt.start_byte <= e[0] < lp.skip_stmt.end_byte)]
                edits.append((lp.skip_stmt.start_byte, lp.skip_stmt.end_byte, ""))
        replaced = [(s, e) for s, e, _ in edits if e > s]
        edits += [p for p in rounded_products(L.node) if not any(s <= p[0] < e for s, e in replaced)]
        return edits

    def atomic_stmt(self, stmt: Node, d: Decl) -> str:
        e = stmt.named_children[0]
        while e.type == "parenthesized_expression":
            e = e.named_children[0]
        ty = d.base_type

        def text(n: Node) -> str:     # products keep their own rounding in the added value too
            return node_text_with(self.data, n, rounded_products(n))

        if e.type == "update_expression":
            target = e.child_by_field_name("argument")
            val = "1" if "++" in text(e) else "-1"
        elif e.type == "assignment_expression":
            op = text(e.child_by_field_name("operator"))
            target = e.child_by_field_name("left")
            right = e.child_by_field_name("right")
            if op == "+=":
                val = text(right)
            elif op == "-=":
                val = f"-({text(right)})"
            elif op == "=" and right.type == "binary_expression":
                a, b = right.child_by_field_name("left"), right.child_by_field_name("right")
                bop = text(right.child_by_field_name("operator"))
                ta = " ".join(text(a).split())
                tt = " ".join(text(target).split())
                if ta == tt:
                    val = text(b) if bop == "+" else f"-({text(b)})"
                else:
                    val = text(a)
            else:
                raise NotParallelizable(f"update '{text(e)}' cannot be made atomic")
        else:
            raise NotParallelizable(f"update '{text(e)}' cannot be made atomic")
        tgt = self.sub_text(target)
        val = self.sub_text_str(val)
        if ty in _ATOMIC_NATIVE:
            return f"atomicAdd(&({tgt}), ({ty})({val}));"
        if ty in _ATOMIC_CAST64:
            return (f"atomicAdd((unsigned long long *)&({tgt}), "
                    f"(unsigned long long)({ty})({val}));")
        raise NotParallelizable(f"no atomicAdd for '{ty}' elements of '{d.name}'")

    def sub_text(self, node: Node) -> str:
        return self.sub_text_str(text(node))

    def sub_text_str(self, s: str) -> str:
        return re.sub(r"\b(\w+)\s*\.\s*size\s*\(\s*\)", lambda mm: f"__pl_size_{mm.group(1)}", s)

    # -- kernels -------------------------------------------------------------
    def kernel(self, L: Loop) -> str:
        f = self.chosen[L]
        if getattr(f, "scan_ok", False):
            from .scan import cuda_launch     # a prefix sum: two kernels around a host scan of block sums
            return cuda_launch(self, L, f)
        fx, m = self.fx, self.m
        k = len(self.kernels)
        kname = f"__pl_kernel_{fx.signature.name}_{k}"
        if f.lastprivate:
            raise NotParallelizable(f"'{f.lastprivate[0].name}' is used after the loop at line {L.line}")
        # 2-D?
        child = _only_child_loop(L)
        two_d = False
        cf = None
        if child is not None and child.canonical and child.var is not None:
            cf = fx.loops.get(child)
            syms = set()
            for p in (child.lower, child.upper):
                pp = m.expand(p)
                syms |= pp.symbols() if pp is not None else {"?"}
            written = {e.decl.key for e in m.events if L in e.loops and e.write}
            if cf is not None and cf.parallel and "?" not in syms and not (syms & written) \
                    and L.var.key not in syms and not cf.lastprivate and not f.array_reductions \
                    and not cf.array_reductions and self.grid2_ok(L, child):
                two_d = True
        # i-k-j products (for i, for k, for j: C[i][j] += A[i][k] * B[k][j]): the j loop is parallel
        # and the k loop only adds into C[i][j] for each j, so the threads take (i, j) and walk k
        # in its order, on shared-memory tiles (one thread per row walked its row of C: n threads,
        # stores n apart)
        ikj_lines = None
        if not two_d and child is not None and not f.reductions and not f.array_reductions and \
                not f.lastprivate:
            J = _only_child_loop(child)
            jf = fx.loops.get(J) if J is not None else None
            if J is not None and J.canonical and J.var is not None and jf is not None and jf.parallel:
                syms = set()
                for p in (J.lower, J.upper):
                    pp = m.expand(p)
                    syms |= pp.symbols() if pp is not None else {"?"}
                if "?" not in syms and not syms & {L.var.key, child.var.key if child.var else "?"}:
                    ikj_lines = self.product_tiles(L, J, [], P=child)
                    if ikj_lines is not None:
                        two_d, child, cf = True, J, jf
        # parameters
        evs = [e for e in m.events if L in e.loops]
        arrays = []
        for e in evs:
            d = e.decl
            if d.is_array and d not in arrays and not (d.node is not None and not d.is_param and L.contains(d.node)):
                arrays.append(d)
        arrays += [d for d in self.kernel_extra_arrays(L) if d not in arrays]
        # const local tables (stencil weights) are declared again inside the kernel: constants, no copy
        tables = [d for d in arrays if not d.is_param and _const_table(d)]
        arrays = [d for d in arrays if d not in tables]
        for d in arrays:
            if not d.is_param and not self.device_local(d):
                raise NotParallelizable(f"the loop at line {L.line} uses the local array '{d.name}'")
            if d not in self.used_arrays:
                self.used_arrays.append(d)
        written_arrays = [d for d in arrays if any(e.decl is d and e.write for e in evs)]
        sized = set()
        for n in walk(L.node):
            if n.type == "call_expression":
                fn = n.child_by_field_name("function")
                if fn is not None and fn.type == "field_expression" and text(fn.child_by_field_name("field")) == "size" \
                        and text(fn.child_by_field_name("argument")) in self.m.params:
                    sized.add(text(fn.child_by_field_name("argument")))
        reds = dict(f.reductions)
        privs = list(f.private)
        if two_d and cf is not None:
            for d in cf.private:
                if d not in privs and not (d.node is not None and L.contains(d.node)):
                    privs.append(d)
        scalars = [d for d in f.scalars_read if d not in reds and d not in privs and not d.is_array]
        arg = getattr(f, "argminmax", None)
        if arg is not None:
            # argmin/argmax with its index: each thread starts from the values before the loop (kernel
            # parameters are the thread's own copies), a block reduces its pairs in shared memory (the
            # better value, the lower index on equal ones), the host combines the blocks' pairs
            if two_d or ikj_lines is not None:
                raise NotParallelizable(f"the arg{arg[2]} loop at line {L.line} would be a 2-D kernel")
            for d in arg[:2]:
                if d not in scalars:
                    scalars.append(d)
        # a read-only scalar declared `auto` (C++): a template parameter of the kernel, given at the launch
        # as decltype of the host variable
        deduced = [d for d in scalars if d.base_type in (None, "auto") and self.lang == "cpp" and d.kind == "scalar"]
        for d in scalars + privs + list(reds):
            if d.kind == "global":
                raise NotParallelizable(f"the loop at line {L.line} uses the global variable '{d.name}'")
            if d.base_type in (None, "auto") and d not in deduced:
                raise NotParallelizable(f"'{d.name}' has a type the generator cannot name")
        kparams = []
        kargs = []
        for d in arrays:
            const = "" if d in written_arrays else "const "
            kparams.append(self.kernel_param(d, const))
            kargs.append(self.kernel_arg(d))
        for name in sorted(sized):
            kparams.append(f"long long __pl_size_{name}")
            kargs.append(f"(long long)({name}.size())")
        for d in scalars:
            kparams.append(f"{'__pl_T' + str(deduced.index(d)) if d in deduced else d.base_type} {d.name}")
            kargs.append(d.name)
        kparams += ["long long __pl_lo", "long long __pl_n"]
        kargs += ["__pl_lo", "__pl_n"]
        if two_d:
            kparams += ["long long __pl_lo2", "long long __pl_n2"]
            kargs += ["__pl_lo2", "__pl_n2"]
        if arg is not None:
            kparams += [f"{arg[0].base_type} *__pl_aov", f"{arg[1].base_type} *__pl_aoi"]
            kargs += ["__pl_dav", "__pl_dai"]
        red_info = []
        for i, (d, op) in enumerate(reds.items()):
            ty = d.base_type
            if op in ("&", "|", "^") and ty in FLOAT_TYPES:
                raise NotParallelizable(f"bitwise reduction on '{d.name}'")
            atomic = op == "+" and (ty in _ATOMIC_NATIVE or ty in _ATOMIC_CAST64)
            red_info.append((d, op, atomic, i))
            if op in _IDEMPOTENT:
                kparams.append(f"{ty} __pl_init_{i}")
                kargs.append(d.name)
            kparams.append(f"{ty} *__pl_out_{i}")
            kargs.append(f"__pl_dr_{i}")
        # threadIdx.x goes to the loop that is the written arrays' stride-1 index (coalesced stores):
        # the inner one unless every write moves by 1 with the outer and not with the inner (transpose)
        x_outer = False
        if two_d:
            def unit(e, lp) -> bool:
                pp = m.expand(e.poly) if e.poly is not None else None
                return pp is not None and pp.degree_in(lp.var.key) <= 1 and pp.coeff(lp.var.key) == Poly.const(1)
            wr = [e for e in evs if e.write and e.decl.is_array and e.index is not None]
            x_outer = bool(wr) and all(unit(e, L) and not unit(e, child) for e in wr)
        # body
        edits = self.body_edits(L, f)
        # few bins: a per-block copy in shared memory (agents/histogram.py)
        from . import histogram as hist
        hist_d = hist.cuda_shared_array(f, two_d or ikj_lines is not None)
        if hist_d is not None:
            edits = hist.cuda_shared_edits(hist_d, edits)
            kparams += ["long long __pl_hc", "int __pl_hs"]
            kargs += [f"__pl_n_{hist_d.name}", "__pl_hs"]
        ind = "    "
        lines = [f"__global__ void {kname}({', '.join(kparams)}) {{"]
        if deduced:
            lines[0] = f"template <{', '.join(f'typename __pl_T{j}' for j in range(len(deduced)))}>\n" + lines[0]
        for decl in dict.fromkeys(_declaration_of(d) for d in tables):
            lines.append(f"{ind}{_device_table(decl)}")
        for d in privs:
            lines.append(f"{ind}{d.base_type} {d.name};")
        for d, op, atomic, i in red_info:
            init = f"__pl_init_{i}" if op in _IDEMPOTENT else ("(" + d.base_type + ")" + ("1" if op == "*" else "0"))
            lines.append(f"{ind}{d.base_type} {d.name} = {init};")
        vt = var_type(L.var)
        tiled = ikj_lines if ikj_lines is not None else \
            self.product_tiles(L, child, edits) if two_d and not x_outer and not red_info else None
        if tiled is not None:
            lines += tiled
        elif two_d:
            vt2 = var_type(child.var)
            inner = node_text_with(self.data, child.body, edits)
            if child.body.type != "compound_statement":
                inner = "{ " + inner + " }"
            yo, xo = ("x", "y") if x_outer else ("y", "x")
            lines += [
                f"{ind}for (long long __pl_ti = (long long)blockIdx.{yo} * blockDim.{yo} + threadIdx.{yo}; "
                f"__pl_ti < __pl_n; __pl_ti += (long long)blockDim.{yo} * gridDim.{yo}) {{",
                f"{ind}    {vt} {L.var.name} = ({vt})(__pl_lo + __pl_ti * ({L.step}));",
                f"{ind}    for (long long __pl_tj = (long long)blockIdx.{xo} * blockDim.{xo} + threadIdx.{xo}; "
                f"__pl_tj < __pl_n2; __pl_tj += (long long)blockDim.{xo} * gridDim.{xo}) {{",
                f"{ind}        {vt2} {child.var.name} = ({vt2})(__pl_lo2 + __pl_tj * ({child.step}));",
                f"{ind}        {inner}",
                f"{ind}    }}",
                f"{ind}}}"]
        else:
            body = node_text_with(self.data, L.body, edits)
            if L.body.type != "compound_statement" or L.body_prefix():
                body = "{ " + L.body_prefix() + " " + body + " }"
            pro, epi = hist.cuda_shared_lines(hist_d, ind) if hist_d is not None else ([], [])
            lines += pro + [
                f"{ind}for (long long __pl_t = (long long)blockIdx.x * blockDim.x + threadIdx.x; __pl_t < __pl_n; "
                f"__pl_t += (long long)blockDim.x * gridDim.x) {{",
                f"{ind}    {vt} {L.var.name} = ({vt})(__pl_lo + __pl_t * ({L.step}));",
                f"{ind}    {body}",
                f"{ind}}}"] + epi
            if arg is not None:
                bt, it, cmp = arg[0].base_type, arg[1].base_type, "<" if arg[2] == "min" else ">"
                lines += [
                    f"{ind}{{ __shared__ {bt} __pl_av[256]; __shared__ {it} __pl_ai[256];",
                    f"{ind}  __pl_av[threadIdx.x] = {arg[0].name}; __pl_ai[threadIdx.x] = {arg[1].name};",
                    f"{ind}  __syncthreads();",
                    f"{ind}  for (unsigned __pl_s = blockDim.x / 2; __pl_s > 0; __pl_s >>= 1) {{",
                    f"{ind}    if (threadIdx.x < __pl_s) {{",
                    f"{ind}      const {bt} __pl_v = __pl_av[threadIdx.x + __pl_s];",
                    f"{ind}      const {it} __pl_j = __pl_ai[threadIdx.x + __pl_s];",
                    f"{ind}      if (__pl_v {cmp} __pl_av[threadIdx.x] || (__pl_v == __pl_av[threadIdx.x] && "
                    f"__pl_j < __pl_ai[threadIdx.x])) {{ __pl_av[threadIdx.x] = __pl_v; __pl_ai[threadIdx.x] = __pl_j; }}",
                    f"{ind}    }}",
                    f"{ind}    __syncthreads();",
                    f"{ind}  }}",
                    f"{ind}  if (threadIdx.x == 0) {{ __pl_aov[blockIdx.x] = __pl_av[0]; __pl_aoi[blockIdx.x] = __pl_ai[0]; }}",
                    f"{ind}}}"]
        for d, op, atomic, i in red_info:
            # __pl_r is right in thread 0 only (see __pl_block_reduce)
            lines.append(f"{ind}{{ const {d.base_type} __pl_r = __pl_block_reduce({d.name}, {_OPS[op]}());")
            if atomic:
                if d.base_type in _ATOMIC_NATIVE:
                    lines.append(f"{ind}  if (threadIdx.x == 0 && threadIdx.y == 0) atomicAdd(__pl_out_{i}, __pl_r); }}")
                else:
                    lines.append(f"{ind}  if (threadIdx.x == 0 && threadIdx.y == 0) atomicAdd((unsigned long long *)"
                                 f"__pl_out_{i}, (unsigned long long)__pl_r); }}")
            else:
                lines.append(f"{ind}  if (threadIdx.x == 0 && threadIdx.y == 0) "
                             f"__pl_out_{i}[blockIdx.x + (long long)blockIdx.y * gridDim.x] = __pl_r; }}")
        lines.append("}")
        self.kernels.append("\n".join(lines))
        # host launch block
        h = [f"{{ /* paralift: kernel {kname} for the loop at line {L.line} */",
             f"{ind}const long long __pl_lo = (long long)({L.init_text()});",
             f"{ind}const long long __pl_hi = (long long)({L.bound_text()});",
             f"{ind}const long long __pl_n = {trip_count_c(L, '__pl_lo', '__pl_hi')};"]
        cond = "__pl_n > 0"
        if two_d:
            h += [f"{ind}const long long __pl_lo2 = (long long)({child.init_text()});",
                  f"{ind}const long long __pl_hi2 = (long long)({child.bound_text()});",
                  f"{ind}const long long __pl_n2 = {trip_count_c(child, '__pl_lo2', '__pl_hi2')};"]
            cond += " && __pl_n2 > 0"
        h.append(f"{ind}if ({cond}) {{")
        ii = ind * 2
        read_arrays = [d for d in arrays if any(e.decl is d and e.read for e in evs)]
        for d in arrays:
            covered = False
            if d in written_arrays and d not in read_arrays and d.name not in getattr(fx, "data_extents", {}):
                # (a data-dependent extent's poly is a model: elements past it may exist and keep their values)
                ext = fx.extent_polys.get(d.name)
                if ext is not None:
                    covered = any(full_cover(m, _Dep(self), e, ext, self.nonneg, within=L)
                                  for e in self.path_writes(d, L, evs))
            if covered:
                h.append(f"{ii}__pl_dv_{d.name} = 1; /* every element is written by the kernel */")
            else:
                h.append(f"{ii}if (!__pl_dv_{d.name}) {{ {self.to_device(d)} __pl_dv_{d.name} = 1; }}")
        # grids of at most 32 blocks of 256 threads per SM (4 waves of the 8 an SM holds); the
        # kernels' grid-stride loops cover the rest
        if tiled is not None:
            pt = getattr(self, "patch", TILE)       # the (i, j) patch a block computes (product_tiles)
            h += [f"{ii}const dim3 __pl_block({TILE}, {TILE});",
                  f"{ii}const long long __pl_gx = __pl_min((__pl_n2 + {pt - 1}) / {pt}, __pl_max_blocks());",
                  f"{ii}const dim3 __pl_grid((unsigned)__pl_gx, (unsigned)__pl_min(__pl_min((__pl_n + {pt - 1}) / "
                  f"{pt}, __pl_max_blocks() / __pl_gx + 1), 65535LL));"]
            nblocks = "((size_t)__pl_grid.x * __pl_grid.y)"
        elif two_d:
            nx, ny = ("__pl_n", "__pl_n2") if x_outer else ("__pl_n2", "__pl_n")
            h += [f"{ii}const dim3 __pl_block(32, 8);",
                  f"{ii}const long long __pl_gx = __pl_min(({nx} + 31) / 32, __pl_max_blocks());",
                  f"{ii}const dim3 __pl_grid((unsigned)__pl_gx, (unsigned)__pl_min(__pl_min(({ny} + 7) / 8, "
                  f"__pl_max_blocks() / __pl_gx + 1), 65535LL));"]
            nblocks = "((size_t)__pl_grid.x * __pl_grid.y)"
        else:
            h += [f"{ii}const dim3 __pl_block(256);",
                  f"{ii}const dim3 __pl_grid((unsigned)__pl_min((__pl_n + 255) / 256, __pl_max_blocks()));"]
            nblocks = "((size_t)__pl_grid.x)"
        for d, op, atomic, i in red_info:
            ty = d.base_type
            if atomic:
                h += [f"{ii}{ty} *__pl_dr_{i} = NULL;",
                      f"{ii}PL_CUDA_CHECK(cudaMalloc((void **)&__pl_dr_{i}, sizeof({ty})));",
                      f"{ii}PL_CUDA_CHECK(cudaMemset(__pl_dr_{i}, 0, sizeof({ty})));"]
            else:
                h += [f"{ii}{ty} *__pl_dr_{i} = NULL;",
                      f"{ii}PL_CUDA_CHECK(cudaMalloc((void **)&__pl_dr_{i}, sizeof({ty}) * {nblocks}));"]
        if arg is not None:
            bt, it = arg[0].base_type, arg[1].base_type
            h += [f"{ii}{bt} *__pl_dav = NULL; {it} *__pl_dai = NULL;",
                  f"{ii}PL_CUDA_CHECK(cudaMalloc((void **)&__pl_dav, sizeof({bt}) * {nblocks}));",
                  f"{ii}PL_CUDA_CHECK(cudaMalloc((void **)&__pl_dai, sizeof({it}) * {nblocks}));"]
        shmem = ""
        if hist_d is not None:
            choose, shmem = hist.cuda_shared_launch(hist_d, ii)
            h.append(choose)
            shmem = ", " + shmem
        targs = f"<{', '.join(f'decltype({d.name})' for d in deduced)}>" if deduced else ""
        h += [f"{ii}{kname}{targs}<<<__pl_grid, __pl_block{shmem}>>>({', '.join(kargs)});",
              f"{ii}PL_CUDA_CHECK(cudaGetLastError());",
              f"{ii}PL_CUDA_CHECK(cudaDeviceSynchronize());"]
        for d, op, atomic, i in red_info:
            ty = d.base_type
            if atomic:
                h += [f"{ii}{{ {ty} __pl_h = 0;",
                      f"{ii}  PL_CUDA_CHECK(cudaMemcpy(&__pl_h, __pl_dr_{i}, sizeof({ty}), cudaMemcpyDeviceToHost));",
                      f"{ii}  {d.name} = {d.name} + __pl_h; }}"]
            else:
                h += [f"{ii}{{ {ty} *__pl_h = ({ty} *)malloc(sizeof({ty}) * {nblocks});",
                      f"{ii}  if (__pl_h == NULL) {{ fprintf(stderr, \"out of host memory\\n\"); exit(1); }}",
                      f"{ii}  PL_CUDA_CHECK(cudaMemcpy(__pl_h, __pl_dr_{i}, sizeof({ty}) * {nblocks}, "
                      f"cudaMemcpyDeviceToHost));",
                      f"{ii}  for (size_t __pl_k = 0; __pl_k < {nblocks}; __pl_k++) "
                      f"{d.name} = {_host_combine(op, d.name, '__pl_h[__pl_k]')};",
                      f"{ii}  free(__pl_h); }}"]
            h.append(f"{ii}PL_CUDA_CHECK(cudaFree(__pl_dr_{i}));")
        if arg is not None:
            (bd, idd, aop, _n), cmp = arg, "<" if arg[2] == "min" else ">"
            bt, it = bd.base_type, idd.base_type
            h += [f"{ii}{{ {bt} *__pl_hav = ({bt} *)malloc(sizeof({bt}) * {nblocks});",
                  f"{ii}  {it} *__pl_hai = ({it} *)malloc(sizeof({it}) * {nblocks});",
                  f"{ii}  if (__pl_hav == NULL || __pl_hai == NULL) {{ fprintf(stderr, \"out of host memory\\n\"); exit(1); }}",
                  f"{ii}  PL_CUDA_CHECK(cudaMemcpy(__pl_hav, __pl_dav, sizeof({bt}) * {nblocks}, cudaMemcpyDeviceToHost));",
                  f"{ii}  PL_CUDA_CHECK(cudaMemcpy(__pl_hai, __pl_dai, sizeof({it}) * {nblocks}, cudaMemcpyDeviceToHost));",
                  f"{ii}  for (size_t __pl_k = 0; __pl_k < {nblocks}; __pl_k++)",
                  f"{ii}    if (__pl_hav[__pl_k] {cmp} {bd.name} || (__pl_hav[__pl_k] == {bd.name} && __pl_hai[__pl_k] < {idd.name})) "
                  f"{{ {bd.name} = __pl_hav[__pl_k]; {idd.name} = __pl_hai[__pl_k]; }}",
                  f"{ii}  free(__pl_hav); free(__pl_hai); }}",
                  f"{ii}PL_CUDA_CHECK(cudaFree(__pl_dav));",
                  f"{ii}PL_CUDA_CHECK(cudaFree(__pl_dai));"]
        for d in written_arrays:
            h.append(f"{ii}__pl_hv_{d.name} = 0;")
        h += [f"{ind}}}", "}"]
        desc = f"loop at line {L.line}: {'2-D ' if two_d else ''}kernel {kname}"
        if arg is not None:
            desc += (f", arg{arg[2]} of '{arg[0].name}' at '{arg[1].name}' (per-block pairs in shared memory, the "
                     f"lower index on equal values, blocks combined on the host)")
        if x_outer:
            desc += f" (threadIdx.x on '{L.var.name}', the written array's stride-1 index)"
        if tiled is not None:
            desc += f" ({TILE}x{TILE} shared-memory tiles of the product's operands" + (
                f", {self.patch // TILE}x{self.patch // TILE} outputs per thread)" if getattr(self, "patch", TILE) > TILE
                else ")")
        if red_info:
            desc += ", reductions " + ", ".join(f"{op}:{d.name}" + (" (atomicAdd)" if a else " (second pass)")
                                                for d, op, a, _ in red_info)
        if f.array_reductions:
            desc += ", atomicAdd on " + ", ".join(d.name for d in f.array_reductions)
            if hist_d is not None:
                desc += " (into a per-block copy in shared memory when the bins fit and bins x blocks <= iterations)"
        self.notes.append(desc)
        return "\n".join(h)

    def path_writes(self, d: Decl, L: Loop, evs: list) -> list:
        """The writes of `d` in L, plus one unconditional stand-in for each index that every path
        through the if/else statements inside L writes (a stencil's boundary and interior
        branches): such an array need not be uploaded before the kernel."""
        writes = [e for e in evs if e.decl is d and e.write]
        out = list(writes)
        groups: dict = {}
        for e in writes:
            p = self.m.expand(e.poly) if e.poly is not None else None
            if p is None or e.expr_cond or len(e.conds) != len(e.guards):
                continue   # a switch, or ?:/&&/|| inside the statement: not followed
            groups.setdefault(repr(p), []).append(e)
        inner = L.depth + 1
        for group in groups.values():
            k = sum(1 for g in group[0].guards if g < inner)     # conditions outside L hold for all
            if any(sum(1 for g in e.guards if g < inner) != k for e in group):
                continue
            if self._all_paths(group, k, L):
                e = group[0]
                out.append(dataclasses.replace(e, guards=e.guards[:k], conds=e.conds[:k]))
        return out

    def _all_paths(self, group: list, depth: int, L: Loop) -> bool:
        if any(len(e.conds) == depth for e in group):
            return True
        cond = group[0].conds[depth][0]
        if any(e.conds[depth][0].id != cond.id for e in group):
            return False
        taken = [e for e in group if e.conds[depth][1]]
        other = [e for e in group if not e.conds[depth][1]]
        return bool(taken) and bool(other) and self._all_paths(taken, depth + 1, L) and \
            self._all_paths(other, depth + 1, L)

    def product_tiles(self, L: Loop, child: Loop, edits: list, P: Loop | None = None) -> list[str] | None:
        """Kernel lines for a dense product nest: for i, for j { pre; for p: s += X[..i..p..] *
        Y[..p..j..]; post } with X read along p and Y along j. Each block computes a TILE x TILE
        patch of (i, j) and stages TILE-wide slabs of X and Y in shared memory, each element loaded
        once per block instead of once per thread; s still adds its products in the order of p, so
        the results are the C code's. None when the nest has another shape."""
        m = self.m
        ikj = P is not None      # P encloses child (i-k-j order): nothing before or after the update
        if ikj:
            pre, post, pb = [], [], child.body
        else:
            body = child.body
            if body is None:
                return None
            stmts = [c for c in body.named_children if c.type != "comment"] \
                if body.type == "compound_statement" else [body]
            P = next((lp for lp in m.loops if lp.node in stmts), None) if stmts else None
            if P is None:
                return None
            k = stmts.index(P.node)
            pre, post, pb = stmts[:k], stmts[k + 1:], P.body
        if not P.canonical or P.var is None or P.step != 1 or P.cond_op != "<" or P.while_form:
            return None
        ivars = {L.var.key, child.var.key}
        for q in (P.lower, P.upper):
            qq = m.expand(q) if q is not None else None
            if qq is None or qq.symbols() & (ivars | {d.key for d in self.chosen[L].private}):
                return None
        # declarations before the p loop run in every thread (and must not touch arrays); the other
        # statements only in the threads of an (i, j) inside the nest
        if any(st.type == "declaration" and self.arrays_in(st) != ([], []) for st in pre) or \
                any(st.type not in ("declaration", "expression_statement") for st in pre + post):
            return None
        if any(n.type == "identifier" and text(n) == P.var.name for st in post for n in walk(st)):
            return None
        while pb is not None and pb.type == "compound_statement" and len(pb.named_children) == 1:
            pb = pb.named_children[0]
        if pb is None or pb.type != "expression_statement" or pb.named_children[0].type != "assignment_expression":
            return None
        asg = pb.named_children[0]
        acc = asg.child_by_field_name("left")
        rhs = asg.child_by_field_name("right")
        op = text(asg.child_by_field_name("operator"))
        if op == "=" and rhs.type == "binary_expression" and text(rhs.child_by_field_name("operator")) == "+" and \
                " ".join(text(rhs.child_by_field_name("left")).split()) == " ".join(text(acc).split()):
            rhs = rhs.child_by_field_name("right")
        elif op != "+=":
            return None
        at = lambda n: next((e for e in m.events if e.node.start_byte == n.start_byte and e.node.type == n.type), None)  # noqa: E731

        def coef(e, lp) -> Poly | None:
            pp = m.expand(e.poly) if e.poly is not None else None
            return None if pp is None or pp.degree_in(lp.var.key) > 1 else pp.coeff(lp.var.key)
        # the accumulator: a scalar, or an element the p loop does not move (gemm's C[i*nj + j])
        acc_ev = at(acc)
        if acc_ev is None or (acc.type == "identifier") == acc_ev.decl.is_array or \
                (acc_ev.decl.is_array and coef(acc_ev, P) != Poly()):
            return None
        if ikj and not (acc_ev.decl.is_array and coef(acc_ev, child) == Poly.const(1)):
            return None     # the interchange needs one element of C per j
        # the added value: a product with exactly two array factors, X along p and Y along j
        reads = [n for n in walk(rhs) if n.type == "subscript_expression" and
                 not (n.parent is not None and n.parent.type == "subscript_expression")]
        if len(reads) != 2 or any(n.type == "call_expression" for n in walk(rhs)):
            return None
        evs = {}
        for o in reads:
            e = at(o)
            if e is None or not e.decl.is_array or e.poly is None or e.decl is acc_ev.decl or \
                    any(x.decl is e.decl and x.write and L in x.loops for x in m.events):
                return None
            evs[o.id] = e
        outside = [n for n in walk(rhs) if n.type == "identifier" and text(n) == P.var.name and
                   not any(o.start_byte <= n.start_byte < o.end_byte for o in reads)]
        if outside:
            return None
        row = [o for o in reads if coef(evs[o.id], P) == Poly.const(1) and coef(evs[o.id], child) == Poly()]
        col = [o for o in reads if coef(evs[o.id], child) == Poly.const(1) and coef(evs[o.id], L) == Poly()]
        if not row or not col:
            return None
        X = row[0]
        Y = next((o for o in col if o.id != X.id), None)
        if Y is None:
            return None
        tx, ty = evs[X.id].decl.base_type, evs[Y.id].decl.base_type
        add = node_text_with(self.data, rhs, [e for e in rounded_products(rhs) if not any(
            o.start_byte <= e[0] < o.end_byte for o in (X, Y))] + [
            (X.start_byte, X.end_byte, "__pl_tx[threadIdx.y][__pl_k]"),
            (Y.start_byte, Y.end_byte, "__pl_ty[__pl_k][threadIdx.x]")])
        acc_text = node_text_with(self.data, acc, rounded_products(acc))
        load = store = []
        update = f"{acc_text} += {add};"
        if acc_ev.decl.is_array:
            # the element is summed in a register, from its value before the p loop, in the same
            # order and type as the C code's `+=` on memory
            at_ = acc_ev.decl.base_type
            load = [f"    {at_} __pl_acc = __pl_vi && __pl_vj ? {acc_text} : ({at_})0;"]
            update = f"__pl_acc += {add};"
            store = [f"    if (__pl_vi && __pl_vj) {acc_text} = __pl_acc;"]
        ind = "    "
        vt, vt2, vp = var_type(L.var), var_type(child.var), var_type(P.var)
        text_of = lambda n: node_text_with(self.data, n, [e for e in edits if n.start_byte <= e[0] < n.end_byte])  # noqa: E731
        from .cuda_tiles import RB, register_blocked     # RB x RB outputs per thread, where the nest allows
        blocked = register_blocked(self, L, child, P, pre, post, acc, acc_ev, rhs, X, Y, tx, ty, TILE, text_of,
                                   rounded_products)
        self.patch = TILE * RB if blocked is not None else TILE
        if blocked is not None:
            return blocked
        return [
            f"{ind}__shared__ {tx} __pl_tx[{TILE}][{TILE}];",
            f"{ind}__shared__ {ty} __pl_ty[{TILE}][{TILE}];",
            f"{ind}for (long long __pl_bi = blockIdx.y; __pl_bi * {TILE} < __pl_n; __pl_bi += gridDim.y)",
            f"{ind}for (long long __pl_bj = blockIdx.x; __pl_bj * {TILE} < __pl_n2; __pl_bj += gridDim.x) {{",
            f"{ind}    const long long __pl_ti = __pl_bi * {TILE} + threadIdx.y, __pl_tj = __pl_bj * {TILE} + threadIdx.x;",
            f"{ind}    const bool __pl_vi = __pl_ti < __pl_n, __pl_vj = __pl_tj < __pl_n2;",
            f"{ind}    {vt} {L.var.name} = ({vt})(__pl_lo + __pl_ti * ({L.step}));",
            f"{ind}    {vt2} {child.var.name} = ({vt2})(__pl_lo2 + __pl_tj * ({child.step}));",
            *[f"{ind}    {text_of(st)}" if st.type == "declaration" else f"{ind}    if (__pl_vi && __pl_vj) {{ {text_of(st)} }}"
              for st in pre],
            f"{ind}    const long long __pl_plo = (long long)({P.init_text()}), __pl_phi = (long long)({P.bound_text()});",
            *[ind + x for x in load],
            f"{ind}    for (long long __pl_p0 = __pl_plo; __pl_p0 < __pl_phi; __pl_p0 += {TILE}) {{",
            f"{ind}        {{ const {vp} {P.var.name} = ({vp})(__pl_p0 + threadIdx.x); "
            f"__pl_tx[threadIdx.y][threadIdx.x] = __pl_vi && __pl_p0 + threadIdx.x < __pl_phi ? {text_of(X)} : ({tx})0; }}",
            f"{ind}        {{ const {vp} {P.var.name} = ({vp})(__pl_p0 + threadIdx.y); "
            f"__pl_ty[threadIdx.y][threadIdx.x] = __pl_vj && __pl_p0 + threadIdx.y < __pl_phi ? {text_of(Y)} : ({ty})0; }}",
            f"{ind}        __syncthreads();",
            f"{ind}        const int __pl_kn = (int)__pl_min((long long){TILE}, __pl_phi - __pl_p0);",
            f"{ind}        for (int __pl_k = 0; __pl_k < __pl_kn; __pl_k++)",
            f"{ind}            {update}",
            f"{ind}        __syncthreads();",
            f"{ind}    }}",
            *[ind + x for x in store],
            f"{ind}    if (__pl_vi && __pl_vj) {{",
            *[f"{ind}        {text_of(st)}" for st in post],
            f"{ind}    }}",
            f"{ind}}}"]

    def sub_host(self, node: Node) -> str:
        return text(node)

    def host_ptr(self, d: Decl) -> str:
        return f"{d.name}.data()" if d.kind == "vector" else d.name

    # hooks: agents/cuda_flatten.py (FlatCudaGen) gives nested vectors, strings and std::vector<bool> other ones
    def kernel_param(self, d: Decl, const: str) -> str:
        return f"{const}{d.base_type} *{d.name}"

    def kernel_arg(self, d: Decl) -> str:
        return f"__pl_d_{d.name}"

    def to_device(self, d: Decl) -> str:
        return (f"PL_CUDA_CHECK(cudaMemcpy(__pl_d_{d.name}, {self.host_ptr(d)}, sizeof({d.base_type}) * "
                f"(size_t)__pl_n_{d.name}, cudaMemcpyHostToDevice));")

    def to_host(self, d: Decl) -> str:
        return (f"PL_CUDA_CHECK(cudaMemcpy({self.host_ptr(d)}, __pl_d_{d.name}, sizeof({d.base_type}) * "
                f"(size_t)__pl_n_{d.name}, cudaMemcpyDeviceToHost));")

    def row_size_ok(self, fn: Node) -> bool:
        return False

    def kernel_extra_arrays(self, L: Loop) -> list[Decl]:
        return []

    def device_local(self, d: Decl) -> bool:
        return False

    def grid2_ok(self, L: Loop, child: Loop) -> bool:
        return True

    # -- the host body -------------------------------------------------------
    def contains_chosen(self, node: Node) -> bool:
        return any(node.start_byte <= lp.node.start_byte < node.end_byte for lp in self.chosen)

    def host_edits(self, node: Node, edits: list) -> None:
        """Collect edits for a statement region (recursively for statements holding kernels)."""
        for lp in self.chosen:
            if lp.node.id == node.id:
                edits.append((node.start_byte, node.end_byte, self.kernel(lp)))
                return
        t = node.type
        if not self.contains_chosen(node):
            self.guard(node, edits)
            return
        if t == "compound_statement":
            for ch in node.named_children:
                self.host_edits(ch, edits)
            return
        if t == "if_statement":
            self.no_arrays(node.child_by_field_name("condition"), node)
            for fld in ("consequence", "alternative"):
                ch = node.child_by_field_name(fld)
                if ch is None:
                    continue
                if ch.type == "else_clause":
                    for c in ch.named_children:
                        self.host_edits(c, edits)
                else:
                    self.host_edits(ch, edits)
            return
        if t in ("for_statement", "while_statement", "do_statement"):
            for fld in ("initializer", "condition", "update"):
                self.no_arrays(node.child_by_field_name(fld), node)
            self.host_edits(node.child_by_field_name("body"), edits)
            return
        raise NotParallelizable(f"statement at line {node.start_point[0] + 1} mixes host code and kernels")

    def arrays_in(self, node: Node | None) -> tuple[list[Decl], list[Decl]]:
        if node is None:
            return [], []
        reads, writes = [], []
        for e in self.m.events:
            if e.decl.is_array and node.start_byte <= e.node.start_byte < node.end_byte:
                if e.read and e.decl not in reads:
                    reads.append(e.decl)
                if e.write and e.decl not in writes:
                    writes.append(e.decl)
        return reads, writes

    def no_arrays(self, node: Node | None, stmt: Node) -> None:
        r, w = self.arrays_in(node)
        if r or w:
            raise NotParallelizable(f"the control statement at line {stmt.start_point[0] + 1} reads arrays "
                                    f"around a kernel")

    def in_launch_loop(self, node: Node) -> bool:
        """Is `node` inside a host loop that also launches kernels?"""
        p = node.parent
        while p is not None and p.id != self.m.body.id:
            if p.type in ("for_statement", "while_statement", "do_statement") and self.contains_chosen(p):
                return True
            p = p.parent
        return False

    def device_statement(self, node: Node) -> str | None:
        """A host statement inside a host loop of launches, run as a one-thread kernel so that the
        arrays stay on the device across iterations (a boundary update between two sweeps), instead
        of copying them back and forth around it on every iteration; None when it cannot run there
        (it writes a scalar the host uses, leaves early, calls host functions, or touches local or
        global arrays, vectors or globals)."""
        if node.type in ("declaration", "return_statement", "break_statement", "continue_statement"):
            return None
        for n in walk(node):
            if n.type in ("return_statement", "goto_statement", "break_statement", "continue_statement"):
                return None
            if n.type == "call_expression":
                fn = text(n.child_by_field_name("function"))
                if fn not in self.fx.unit.functions and fn not in _DEVICE_MATH:
                    return None
                if fn in self.fx.unit.functions:
                    self.device_calls.add(fn)
        inside = lambda d: d.node is not None and node.start_byte <= d.node.start_byte < node.end_byte  # noqa: E731
        arrays, scalars, written = [], [], set()
        for e in self.m.events:
            if not (node.start_byte <= e.node.start_byte < node.end_byte):
                continue
            d = e.decl
            if d.kind in ("global", "vector") or (d.is_array and not d.is_param):
                return None
            if d.is_array:
                if d not in arrays:
                    arrays.append(d)
                if e.write:
                    written.add(d)
            elif not inside(d):
                if e.write or d.base_type in (None, "auto"):
                    return None
                if d not in scalars:
                    scalars.append(d)
        if not written:
            return None
        k = len(self.kernels)
        kname = f"__pl_kernel_{self.fx.signature.name}_{k}"
        params = [f"{'' if d in written else 'const '}{d.base_type} *{d.name}" for d in arrays] + \
            [f"{d.base_type} {d.name}" for d in scalars]
        body = node_text_with(self.data, node, rounded_products(node))
        self.kernels.append(f"__global__ void {kname}({', '.join(params)}) {{\n"
                            f"    if (threadIdx.x == 0 && blockIdx.x == 0) {{ {body} }}\n}}")
        for d in arrays:
            if d not in self.used_arrays:
                self.used_arrays.append(d)
        line = node.start_point[0] + 1
        out = [f"{{ /* paralift: the statement at line {line} runs on the device ({kname}) */"]
        out += [f"if (!__pl_dv_{d.name}) {{ PL_CUDA_CHECK(cudaMemcpy(__pl_d_{d.name}, {self.host_ptr(d)}, "
                f"sizeof({d.base_type}) * (size_t)__pl_n_{d.name}, cudaMemcpyHostToDevice)); __pl_dv_{d.name} = 1; }}"
                for d in arrays]
        args = [f"__pl_d_{d.name}" for d in arrays] + [d.name for d in scalars]
        out += [f"{kname}<<<1, 1>>>({', '.join(args)});", "PL_CUDA_CHECK(cudaGetLastError());"]
        out += [f"__pl_hv_{d.name} = 0;" for d in arrays if d in written]
        self.notes.append(f"statement at line {line}: one-thread kernel {kname} (keeps "
                          f"{', '.join(d.name for d in arrays)} on the device)")
        return " ".join(out) + " }"

    def guard(self, node: Node, edits: list) -> None:
        if self.in_launch_loop(node):
            dev = self.device_statement(node)
            if dev is not None:
                edits.append((node.start_byte, node.end_byte, dev))
                return
        reads, writes = self.arrays_in(node)
        touched = reads + [d for d in writes if d not in reads]
        pre = []
        for d in touched:
            if not (d.is_param or self.device_local(d)) or d not in self.kernel_written:
                continue
            pre.append(f"if (!__pl_hv_{d.name}) {{ {self.to_host(d)} __pl_hv_{d.name} = 1; }}")
        post = [f"__pl_dv_{d.name} = 0;" for d in writes if d.is_param or self.device_local(d)]
        if not pre and not post:
            return
        self.guarded.append((pre, post, node))

    # -- assembly ------------------------------------------------------------
    def generate(self) -> tuple[str, str]:
        fx, m = self.fx, self.m
        self.check()
        self.guarded = []
        # arrays written by kernels; and, as statements in a host loop of launches may become
        # one-thread kernels (device_statement), any array written in such a loop: the copies
        # back these add are guarded by the host-validity flags
        launch_loops = [lp for lp in m.loops if lp not in self.chosen and self.contains_chosen(lp.node)]
        self.kernel_written = {e.decl for e in m.events if e.write and e.decl.is_array
                               and any(lp in e.loops for lp in list(self.chosen) + launch_loops)}
        edits: list = []
        body = m.body
        for ch in body.named_children:
            self.host_edits(ch, edits)
        # arrays touched only on the host still need flags: give every array param a device copy lazily
        for d in m.params.values():
            if d.is_array and d not in self.used_arrays:
                if any(e.decl is d for e in m.events):
                    self.used_arrays.append(d)
        for pre, post, node in self.guarded:
            ps = " ".join(pre)
            qs = " ".join(post)
            if node.type == "declaration" or (node.parent is not None and node.parent.type == "compound_statement"
                                              and node.type == "declaration"):
                edits.append((node.start_byte, node.start_byte, ps + ("\n" if ps else "")))
                if qs:
                    edits.append((node.end_byte, node.end_byte, " " + qs))
            else:
                edits.append((node.start_byte, node.start_byte, "{ " + ps + (" " if ps else "")))
                edits.append((node.end_byte, node.end_byte, (" " + qs if qs else "") + " }"))
        merged: dict = {}
        for s, e, r in edits:
            merged.setdefault((s, e), []).append(r)
        flat = [(s, e, "".join(rs)) for (s, e), rs in merged.items()]
        inner = node_text_with(self.data, body, flat)
        inner = inner.strip()
        assert inner.startswith("{") and inner.endswith("}")
        inner = inner[1:-1]
        sig = fx.signature
        ret = sig.return_type.strip()
        head = self.header()
        ind = "    "
        out = [head + " {"]
        entry = fallback_entry(fx, cuda=True)    # overlapping pointer arguments: the sequential code (DESIGN §3)
        if entry:
            out.append(entry)
        tail = []
        for d in self.used_arrays:
            if not d.is_param:
                continue        # a local vector (device_local): nothing to copy back
            p = sig.param(d.name)
            if p.is_output and not p.const and d in self.kernel_written:
                tail.append(f"{ind}if (!__pl_hv_{d.name}) {{ {self.to_host(d)} }}")
        used_text = inner + "\n".join(tail)
        for d in self.used_arrays:
            ty = d.base_type
            ext = self.extent_of(d.name, out, ind)
            out += [f"{ind}const long long __pl_n_{d.name} = {ext} > 0 ? {ext} : 0;",
                    f"{ind}{ty} *__pl_d_{d.name} = NULL;",
                    f"{ind}PL_CUDA_CHECK(cudaMalloc((void **)&__pl_d_{d.name}, sizeof({ty}) * "
                    f"(size_t)(__pl_n_{d.name} > 0 ? __pl_n_{d.name} : 1)));"]
            flags = [f"__pl_{x}v_{d.name} = {0 if x == 'd' else 1}" for x in ("d", "h")
                     if f"__pl_{x}v_{d.name}" in used_text]
            if flags:
                out.append(f"{ind}int {', '.join(flags)};")
        out.append(f"{ind}auto __pl_body = [&]() -> {ret} {{{inner}}};")
        if ret == "void":
            out.append(f"{ind}__pl_body();")
        else:
            out.append(f"{ind}{ret} __pl_ret = __pl_body();")
        out += tail
        for d in self.used_arrays:
            out.append(f"{ind}PL_CUDA_CHECK(cudaFree(__pl_d_{d.name}));")
        if ret != "void":
            out.append(f"{ind}return __pl_ret;")
        out.append("}")
        host = "\n".join(out)
        parts = ["/* paralift: CUDA translation of " + sig.name + " (rule-based agent) */",
                 "#include <cuda_runtime.h>", "#include <stdio.h>", "#include <stdlib.h>", "#include <math.h>"]
        parts += self.includes()
        parts.append(PRELUDE)
        from .cuda_values import DeviceValues      # std::complex / std::pair on the device
        values = DeviceValues.of(self)
        if values is not None:
            parts.append(values.prelude)
        if any("__pl_block_reduce" in k for k in self.kernels):
            parts.append(REDUCE_PRELUDE)
        parts.append(iminmax_needed(host))
        parts += self.defines()
        helpers = user_functions_called(fx, sorted(self.device_calls | self.host_calls()))
        if values is not None:
            parts += values.helpers(helpers) + [values.device_text(k) for k in self.kernels] + [values.host_text(host)]
            return "\n".join(parts) + "\n", "; ".join(self.notes)
        for name in helpers:
            parts.append(self.device_function(name))
        for name in sorted(self.device_calls & set(fx.unit.template_functions)):
            parts.append(self.device_template(name))
        parts += self.kernels
        parts.append(host)
        return "\n".join(parts) + "\n", "; ".join(self.notes)

    def extent_of(self, name: str, out: list[str], ind: str) -> str:
        """The number of elements of array `name` to allocate and copy, from index 0. Where the analysis
        found it data-dependent (issue 19: hist[bin[i]], val[j] between CSR offsets), the touched range
        comes from a scan at entry (codegen_common.scanned_extent: exact, or the function stays
        sequential); a range starting below the pointer (a negative index) takes the sequential code,
        so that the copy [0, end) is always inside the caller's array."""
        from .codegen_common import scanned_extent, sequential_body
        if name not in getattr(self.fx, "data_extents", {}):
            return self.r.extent_c(name)
        first, count = scanned_extent(self.r, name, out, ind, self.nonneg, ptr=self.host_ptr)
        out.append(f"{ind}if ({first} < 0) {{ /* paralift: an index below '{name}' takes the sequential code */\n"
                   f"{sequential_body(self.fx, cuda=True)}\n{ind}}}")
        return f"({first} + {count})"

    def host_calls(self) -> set[str]:
        return {c.name for c in self.m.calls if c.name in self.fx.unit.functions}

    def header(self) -> str:
        fn = self.m.fn
        b = self.m.body
        head = self.data[fn.start_byte:b.start_byte].decode("utf-8")
        head = re.sub(r"\b(static|inline|extern)\b\s*", "", head).strip()
        head = re.sub(r"\brestrict\b", "__restrict__", head)
        head = re.sub(r"\b_Bool\b", "bool", head)
        if self.lang == "c":
            head = 'extern "C" ' + head
        return head

    def includes(self) -> list[str]:
        out = []
        for n in self.fx.unit.root.named_children:
            if n.type == "preproc_include":
                t = text(n).strip()
                if any(h in t for h in ("omp.h", "mpi.h", "cuda_runtime.h")):
                    continue
                out.append(t)
        return out

    def defines(self) -> list[str]:
        out = []
        for n in self.fx.unit.root.named_children:
            if n.type in ("preproc_def", "preproc_function_def", "type_definition", "alias_declaration",
                          "using_declaration"):
                out.append(text(n).rstrip())
            elif n.type == "declaration" and any(c.type == "type_qualifier" and text(c) == "const"
                                                 for c in n.named_children):
                out.append(text(n).rstrip())
            elif n.type == "declaration" and n.child_by_field_name("type") is not None and \
                    n.child_by_field_name("type").type == "enum_specifier" and \
                    not n.children_by_field_name("declarator"):
                out.append(text(n).rstrip())
            elif n.type == "enum_specifier":
                out.append(text(n).rstrip() + ";")
            elif n.type in ("struct_specifier", "class_specifier") and n.child_by_field_name("name") is not None \
                    and text(n.child_by_field_name("name")) == getattr(getattr(self.fx, "cpp_rewrite", None),
                                                                      "receiver", None):
                # the class of a member function (cpp_members): the host wrapper is its member function
                out.append(text(n).rstrip() + ";")
            elif n.type in ("struct_specifier", "class_specifier") and \
                    text(n.child_by_field_name("name")) in self.fx.unit.records:
                # trivially copyable: copied to the device as bytes, its fields read and written there
                out.append(text(n).rstrip() + ";")
        return out

    def device_template(self, name: str) -> str:
        """A function template of the file a kernel calls (`absVal(a[i] - b[i])`, its arguments deduced):
        written as it is, `__host__ __device__`, so every instantiation compiles for both."""
        fn, _ = self.fx.unit.template_functions[name]
        decl = fn.parent
        head = self.data[decl.start_byte:fn.start_byte].decode("utf-8")
        body = self.device_function_text(fn)
        return head + body

    def device_function(self, name: str) -> str:
        return self.device_function_text(self.fx.unit.functions[name])

    def device_function_text(self, fn) -> str:
        src = node_text_with(self.data, fn, rounded_products(fn))
        src = re.sub(r"^\s*(static\s+)?(inline\s+)?", "", src)
        src = re.sub(r"\brestrict\b", "__restrict__", src)
        src = re.sub(r"\bstd::(min|max)\s*\(", r"__pl_\1(", src)
        src = re.sub(r"\bstd::abs\s*\(", "__pl_abs(", src)
        src = re.sub(r"\bstd::(\w+)\s*\(", r"\1(", src)
        return "static __host__ __device__ inline " + src


def _device_table(decl) -> str:
    """A const table's declaration as the kernel writes it: `std::array<T, N> w = {..}` becomes `T w[N] =
    {..}` (std::array's operator[] is a host constexpr function, which device code may not call without
    --expt-relaxed-constexpr); other tables as written."""
    src = text(decl).strip()
    m = re.match(r"^((?:const\s+)?)(?:std::)?array\s*<\s*([^,<>]+?)\s*,\s*([^<>]+?)\s*>\s*(\w+)\s*(=?)\s*(\{.*)$",
                 src, re.S)
    if m is None:
        return src
    const, elem, count, name, _eq, init = m.groups()
    return f"{const}{elem} {name}[{count}] = {init}"


def _declaration_of(d: Decl):
    n = d.node
    while n is not None and n.type != "declaration":
        n = n.parent
    return n


def _const_table(d: Decl) -> bool:
    """A local array declared const with an initializer and never written: it can be declared again in
    a kernel (every one of its declarators is such a table, so the copied declaration is harmless)."""
    decl = _declaration_of(d)
    if d.kind not in ("array", "array2") or d.init is None or d.writes or decl is None:
        return False
    return any(c.type == "type_qualifier" and text(c) == "const" for c in decl.named_children) and \
        all(c.type == "init_declarator" for c in decl.children_by_field_name("declarator"))


class _Dep:
    """Adapter giving full_cover the extremum() it expects (unused there)."""

    def __init__(self, gen: CudaGen):
        self.gen = gen


def generate_cuda(fx: FunctionFacts) -> tuple[str, str]:
    if not fx.chosen_loops() and not (fx.scan_loops() if hasattr(fx, "scan_loops") else []):
        raise NotParallelizable(fx.reason or "no parallel loop")
    # nested vectors, strings and std::vector<bool>: flattened to the device (agents/cuda_flatten.py)
    from .cuda_flatten import FlatCudaGen
    return FlatCudaGen(fx).generate()

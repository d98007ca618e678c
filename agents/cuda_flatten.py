"""CUDA for the C++ containers whose elements are not one contiguous array (issue 23): nested
vectors (std::vector<std::vector<T>>), read-only strings (std::vector<std::string>, std::string) and
std::vector<bool>.

* A nested vector (or a vector of strings: rows of char) goes to the device flattened: its elements
  row after row in one buffer, plus the row offsets (rows + 1 of them; rows may be ragged, none is
  assumed as long as another). The offsets are computed and uploaded once at entry: the function
  writes elements, never rows (the analysis stops any other use of a row: resize, push_back, a row
  assigned or passed as a whole). The kernel takes a view (__pl_vrows) whose `A[i]` is the row
  {data + off[i], off[i+1] - off[i]}, so `A[i][j]` reads data[off[i] + j], `A[i].size()` is
  off[i+1] - off[i], and range-for over rows and elements works as written. The host packs the rows
  into a staging buffer before each upload and unpacks them back, row by row, after each download of
  a written one.
* A std::string is its characters: `s.data()` is contiguous, nothing to do but copy it.
* A std::vector<bool> is bit-packed (no .data()): it goes to the device as one bool (a byte) per
  element, packed on the host before an upload and unpacked after a download. Neighbouring elements
  are then separate bytes, so threads writing neighbours do not race (on the host they would share a
  word).
* A local std::vector<T> the kernels use (`std::vector<bool> keep(x.size());`) gets its device copy
  right after its declaration, sized then (names shadowing the function's placeholders), when every
  other use is an element or its size on the host: nothing can resize it. Its size inside a kernel is
  refused with the reason.
Everything else is CudaGen's (agents/codegen_cuda.py), through its hooks kernel_param, kernel_arg,
to_device, to_host, row_size_ok, kernel_extra_arrays, device_local, grid2_ok (and the methods
extent_of, path_writes, product_tiles, body_edits, guard, defines); the prefix-sum path (agents/scan.py)
uses the same hooks.
"""
from __future__ import annotations

import re

from tree_sitter import Node

from .base import NotParallelizable
from .codegen_cuda import CudaGen
from .frontend import Decl, Loop, text, walk
from .unit import is_nested

PRELUDE = r'''/* paralift: nested vectors and strings on the device (agents/cuda_flatten.py): the elements row after
   row in one buffer, the rows' offsets in another (rows + 1); a view whose A[i] is row i. */
template <typename T> struct __pl_vrow {
    T *p;
    long long n;
    __host__ __device__ T &operator[](long long j) const { return p[j]; }
    __host__ __device__ size_t size() const { return (size_t)n; }
    __host__ __device__ size_t length() const { return (size_t)n; }
    __host__ __device__ bool empty() const { return n == 0; }
    __host__ __device__ T *begin() const { return p; }
    __host__ __device__ T *end() const { return p + n; }
};
template <typename T> struct __pl_vrows {
    T *data;
    const long long *off;
    long long n;
    __host__ __device__ __pl_vrows(T *d, const long long *o, long long k) : data(d), off(o), n(k) {}
    /* the kernel's view: const elements where it only reads them, its own element type (same layout) */
    template <typename U> __host__ __device__ __pl_vrows(const __pl_vrows<U> &o) : data((T *)o.data), off(o.off), n(o.n) {}
    __host__ __device__ __pl_vrow<T> operator[](long long i) const {
        return __pl_vrow<T>{data + off[i], off[i + 1] - off[i]};
    }
    __host__ __device__ size_t size() const { return (size_t)n; }
    __host__ __device__ bool empty() const { return n == 0; }
    struct iterator {       /* range-for over the rows: `auto &row` binds the iterator's current row */
        const __pl_vrows *a;
        long long i;
        __pl_vrow<T> cur;
        __host__ __device__ __pl_vrow<T> &operator*() { cur = (*a)[i]; return cur; }
        __host__ __device__ iterator &operator++() { ++i; return *this; }
        __host__ __device__ bool operator!=(const iterator &o) const { return i != o.i; }
    };
    __host__ __device__ iterator begin() const { return iterator{this, 0, __pl_vrow<T>{nullptr, 0}}; }
    __host__ __device__ iterator end() const { return iterator{this, n, __pl_vrow<T>{nullptr, 0}}; }
};
template <typename T> static __pl_vrows<T> __pl_make_vrows(T *data, const long long *off, long long n) {
    return __pl_vrows<T>(data, off, n);
}
/* host staging buffers, freed when the function returns */
template <typename T> struct __pl_hbuf {
    T *p = nullptr;
    T *get(long long n) {
        if (p == nullptr) {
            p = (T *)malloc(sizeof(T) * (size_t)(n > 0 ? n : 1));
            if (p == nullptr) { fprintf(stderr, "out of host memory\n"); exit(1); }
        }
        return p;
    }
    __pl_hbuf() = default;
    __pl_hbuf(const __pl_hbuf &) = delete;
    __pl_hbuf &operator=(const __pl_hbuf &) = delete;
    ~__pl_hbuf() { free(p); }
};
struct __pl_dbuf {      /* a device buffer freed when the function returns */
    void *p = nullptr;
    __pl_dbuf() = default;
    __pl_dbuf(const __pl_dbuf &) = delete;
    __pl_dbuf &operator=(const __pl_dbuf &) = delete;
    ~__pl_dbuf() { if (p != nullptr) PL_CUDA_CHECK(cudaFree(p)); }
};
/* the row offsets of a nested vector (off[0] = 0, off[r + 1] = off[r] + rows[r].size()) */
template <typename V> static long long *__pl_row_offsets(const V &a, __pl_hbuf<long long> &h) {
    long long *off = h.get((long long)a.size() + 1);
    off[0] = 0;
    for (size_t r = 0; r < a.size(); r++) off[r + 1] = off[r] + (long long)a[r].size();
    return off;
}
template <typename V, typename T> static void __pl_pack_rows(const V &a, T *buf) {
    long long o = 0;
    for (size_t r = 0; r < a.size(); r++)
        for (size_t j = 0; j < a[r].size(); j++) buf[o++] = a[r][j];
}
template <typename V, typename T> static void __pl_unpack_rows(V &a, const T *buf) {
    long long o = 0;
    for (size_t r = 0; r < a.size(); r++)
        for (size_t j = 0; j < a[r].size(); j++) a[r][j] = buf[o++];
}
/* std::vector<bool>: one bool (a byte) per element */
template <typename V> static void __pl_pack_bits(const V &v, bool *buf, long long n) {
    for (long long i = 0; i < n; i++) buf[i] = v[(size_t)i];
}
template <typename V> static void __pl_unpack_bits(V &v, const bool *buf, long long n) {
    for (long long i = 0; i < n; i++) v[(size_t)i] = buf[i];
}
'''


def nested(d: Decl | None) -> bool:
    """A nested vector or a vector of strings (rows)."""
    return d is not None and d.param is not None and is_nested(d.param)


def bits(d: Decl | None) -> bool:
    """A std::vector<bool> (a parameter, or a local vector)."""
    return d is not None and d.kind in ("vector", "localvec") and (d.base_type or "") in ("bool", "_Bool") \
        and not nested(d)


def _ragged(p) -> bool:
    """A loop bound that is the length of a row (@cols: of a nested vector): it differs from row to row."""
    return p is not None and any(str(s).startswith("@cols:") for s in p.symbols())


class FlatCudaGen(CudaGen):
    """CudaGen with nested vectors, strings and std::vector<bool> (see the module's note)."""

    def __init__(self, fx):
        super().__init__(fx)
        self.flat_used = False
        self._locals: dict[str, bool] = {}
        # the local vectors some chosen loop uses (their device copies are made at their declarations)
        self.local_devs = [d for d in self.m.decls if d.kind == "localvec" and any(
            e.decl is d and any(lp in e.loops for lp in self.chosen) for e in self.m.events) and self.device_local(d)]

    # -- which parameters ------------------------------------------------------
    def flat(self, d: Decl) -> bool:
        return nested(d) or bits(d)

    def device_local(self, d: Decl) -> bool:
        """A local std::vector<T> (`std::vector<bool> keep(n);`) the kernels may use: a device copy is
        allocated right after its declaration, with its size then; so every use other than the
        declaration must be an element (`keep[i]`) or its size: nothing that could resize it."""
        if d.kind != "localvec" or d.is_param or d.base_type in (None, "auto") or d.node is None:
            return False
        if d.key in self._locals:
            return self._locals[d.key]
        ok = self._declaration(d) is not None
        for n in walk(self.m.body):
            if not ok:
                break
            if n.type != "identifier" or text(n) != d.name or (d.node.start_byte <= n.start_byte < d.node.end_byte):
                continue
            p = n.parent
            if p is not None and p.type == "subscript_expression" and p.child_by_field_name("argument") == n:
                continue
            if p is not None and p.type == "field_expression" and p.child_by_field_name("argument") == n and \
                    text(p.child_by_field_name("field")) in ("size", "empty") and p.parent is not None and \
                    p.parent.type == "call_expression":
                continue
            ok = False
        self._locals[d.key] = ok
        return ok

    def _declaration(self, d: Decl) -> Node | None:
        n = d.node
        while n is not None and n.type != "declaration":
            n = n.parent
        if n is None or len(n.children_by_field_name("declarator")) != 1:
            return None
        return n

    def guard(self, node: Node, edits: list) -> None:
        super().guard(node, edits)
        if node.type != "declaration":
            return
        for d in self.m.decls:
            if d.node is not None and node.start_byte <= d.node.start_byte < node.end_byte and \
                    d in self.local_devs:
                # the device copy of a local vector, from its declaration to the end of its scope
                # (these names shadow the function's, which kernel() and the flags refer to otherwise)
                n, ty = d.name, "bool" if bits(d) else d.base_type
                alloc = [f"__pl_dbuf __pl_dlb_{n};",
                         f"const long long __pl_n_{n} = (long long){n}.size();",
                         f"{ty} *__pl_d_{n} = NULL;",
                         f"PL_CUDA_CHECK(cudaMalloc((void **)&__pl_d_{n}, sizeof({ty}) * "
                         f"(size_t)(__pl_n_{n} > 0 ? __pl_n_{n} : 1)));",
                         f"__pl_dlb_{n}.p = __pl_d_{n};",
                         f"int __pl_dv_{n} = 0, __pl_hv_{n} = 1; (void)__pl_dv_{n}; (void)__pl_hv_{n};"]
                if bits(d):
                    alloc.append(f"__pl_hbuf<bool> __pl_hp_{n};")
                self.flat_used = True
                self.guarded.append(([], alloc, node))

    def host_ptr(self, d: Decl) -> str:
        return f"{d.name}.data()" if d.kind == "localvec" else super().host_ptr(d)

    # -- kernels ---------------------------------------------------------------
    def kernel(self, L: Loop) -> str:
        for n in walk(L.node):
            # a local vector's size is the host's (its declaration): the kernel does not take it
            if n.type == "field_expression" and text(n.child_by_field_name("field")) in ("size", "empty"):
                d = next((x for x in self.local_devs if x.name == text(n.child_by_field_name("argument"))), None)
                if d is not None:
                    raise NotParallelizable(f"the kernel for the loop at line {L.line} asks the local vector "
                                            f"'{d.name}' its size (line {n.start_point[0] + 1}); only its "
                                            f"elements go to the device")
        # the range-for element over a nested vector's rows binds the view's row (a value): `auto &&row`
        saved = L.elem_text
        if L.range_of is not None and nested(L.range_of) and L.elem_text:
            m = re.search(r"(\w+)\s*$", L.elem_text)
            if m is not None:
                L.elem_text = f"auto &&{m.group(1)}"
        try:
            return super().kernel(L)
        finally:
            L.elem_text = saved

    def body_edits(self, L: Loop, f) -> list:
        edits = super().body_edits(L, f)
        # a range-for over a nested vector's rows inside the kernel names the row `auto &&row`: the
        # device's rows are views (__pl_vrow), not std::vectors
        for n in walk(L.node):
            if n.type != "for_range_loop" or n.id == L.node.id:
                continue
            right, dcl = n.child_by_field_name("right"), n.child_by_field_name("declarator")
            if right is None or dcl is None or right.type != "identifier" or \
                    not nested(self.m.params.get(text(right))):
                continue
            name = re.search(r"(\w+)\s*$", text(dcl))
            typ = [c for c in n.named_children if c.end_byte <= dcl.start_byte]
            if name is None or not typ:
                continue
            s, e = typ[0].start_byte, dcl.end_byte
            edits = [x for x in edits if not s <= x[0] < e] + [(s, e, f"auto &&{name.group(1)}")]
        return edits

    def grid2_ok(self, L: Loop, child: Loop) -> bool:
        # a 2-D grid runs the inner loop's body alone (no range-for element declarations) and sizes the
        # inner dimension on the host once (not per row: ragged rows have lengths of their own)
        if L.range_of is not None or child.range_of is not None:
            return False
        return not any(_ragged(self.m.expand(p) if p is not None else None) for p in (child.lower, child.upper))

    def product_tiles(self, L: Loop, child: Loop, edits: list, P: Loop | None = None):
        # a block's threads share the tile loop, so its bounds must not differ between their rows
        for lp in self.m.loops:
            if L.encloses(lp) and lp is not L and (lp.range_of is not None or any(
                    _ragged(self.m.expand(p) if p is not None else None) for p in (lp.lower, lp.upper))):
                return None
        return super().product_tiles(L, child, edits, P)

    def row_size_ok(self, fn: Node) -> bool:
        """`A[i].size()` of a nested vector, or `row.size()` of a range-for row: the view's size()."""
        obj = fn.child_by_field_name("argument")
        while obj is not None and obj.type == "parenthesized_expression" and obj.named_children:
            obj = obj.named_children[0]
        if obj is None:
            return False
        if obj.type == "subscript_expression":
            base = obj.child_by_field_name("argument")
            return base is not None and base.type == "identifier" and nested(self.m.params.get(text(base)))
        if obj.type == "identifier":
            return any(d.kind == "nrow" and d.name == text(obj) and nested(d.elem_of[0] if d.elem_of else None)
                       for d in self.m.decls)
        return False

    def kernel_param(self, d: Decl, const: str) -> str:
        if nested(d):
            self.flat_used = True
            return f"__pl_vrows<{const}{d.base_type}> {d.name}"
        if bits(d):
            return f"{const}bool *{d.name}"
        return super().kernel_param(d, const)

    def kernel_arg(self, d: Decl) -> str:
        if nested(d):
            return f"__pl_make_vrows(__pl_d_{d.name}, __pl_do_{d.name}, (long long){d.name}.size())"
        return super().kernel_arg(d)

    def path_writes(self, d: Decl, L: Loop, evs: list) -> list:
        # a nested vector's element polynomials use @cols (the current row's length): no proof that the
        # kernel writes every element, so its device copy is always uploaded first
        if nested(d) or _ragged(self.fx.extent_polys.get(d.name)):
            return []
        return super().path_writes(d, L, evs)

    def kernel_extra_arrays(self, L: Loop) -> list[Decl]:
        """Nested vectors the loop only asks row lengths of (`total += words[i].size()`): no element
        event names them, yet the kernel takes their view."""
        out = []
        for n in walk(L.node):
            if n.type == "call_expression":
                fn = n.child_by_field_name("function")
                if fn is not None and fn.type == "field_expression" and \
                        text(fn.child_by_field_name("field")) in ("size", "empty") and self.row_size_ok(fn):
                    d = self._row_owner(fn.child_by_field_name("argument"))
                    if d is not None and d not in out:
                        out.append(d)
        for d in out:
            if d not in self.used_arrays:
                self.used_arrays.append(d)
        return out

    def _row_owner(self, obj: Node) -> Decl | None:
        while obj is not None and obj.type == "parenthesized_expression" and obj.named_children:
            obj = obj.named_children[0]
        if obj is not None and obj.type == "subscript_expression":
            return self.m.params.get(text(obj.child_by_field_name("argument")))
        if obj is not None and obj.type == "identifier":
            return next((d.elem_of[0] for d in self.m.decls if d.kind == "nrow" and d.name == text(obj)
                         and d.elem_of), None)
        return None

    # -- copies ----------------------------------------------------------------
    def to_device(self, d: Decl) -> str:
        n = d.name
        if nested(d):
            self.flat_used = True
            return (f"__pl_pack_rows({n}, __pl_hp_{n}.get(__pl_n_{n})); PL_CUDA_CHECK(cudaMemcpy(__pl_d_{n}, "
                    f"__pl_hp_{n}.p, sizeof({d.base_type}) * (size_t)__pl_n_{n}, cudaMemcpyHostToDevice));")
        if bits(d):
            self.flat_used = True
            return (f"__pl_pack_bits({n}, __pl_hp_{n}.get(__pl_n_{n}), __pl_n_{n}); PL_CUDA_CHECK(cudaMemcpy("
                    f"__pl_d_{n}, __pl_hp_{n}.p, sizeof(bool) * (size_t)__pl_n_{n}, cudaMemcpyHostToDevice));")
        return super().to_device(d)

    def to_host(self, d: Decl) -> str:
        n = d.name
        if nested(d):
            return (f"PL_CUDA_CHECK(cudaMemcpy(__pl_hp_{n}.get(__pl_n_{n}), __pl_d_{n}, sizeof({d.base_type}) * "
                    f"(size_t)__pl_n_{n}, cudaMemcpyDeviceToHost)); __pl_unpack_rows({n}, __pl_hp_{n}.p);")
        if bits(d):
            return (f"PL_CUDA_CHECK(cudaMemcpy(__pl_hp_{n}.get(__pl_n_{n}), __pl_d_{n}, sizeof(bool) * "
                    f"(size_t)__pl_n_{n}, cudaMemcpyDeviceToHost)); __pl_unpack_bits({n}, __pl_hp_{n}.p, __pl_n_{n});")
        return super().to_host(d)

    # -- allocation ------------------------------------------------------------
    def extent_of(self, name: str, out: list[str], ind: str) -> str:
        d = self.m.params.get(name)
        if d is None and any(x.name == name for x in self.local_devs):
            return "0"      # a placeholder: the copy made at the declaration (guard) shadows it
        if nested(d):
            self.flat_used = True
            out += [f"{ind}__pl_hbuf<{d.base_type}> __pl_hp_{name};",
                    f"{ind}__pl_hbuf<long long> __pl_ho_{name};",
                    f"{ind}const long long *__pl_hoff_{name} = __pl_row_offsets({name}, __pl_ho_{name});",
                    f"{ind}__pl_dbuf __pl_dob_{name};",
                    f"{ind}long long *__pl_do_{name} = NULL;",
                    f"{ind}PL_CUDA_CHECK(cudaMalloc((void **)&__pl_do_{name}, sizeof(long long) * "
                    f"({name}.size() + 1)));",
                    f"{ind}__pl_dob_{name}.p = __pl_do_{name};",
                    f"{ind}PL_CUDA_CHECK(cudaMemcpy(__pl_do_{name}, __pl_hoff_{name}, sizeof(long long) * "
                    f"({name}.size() + 1), cudaMemcpyHostToDevice));"]
            return f"__pl_hoff_{name}[{name}.size()]"
        if bits(d):
            self.flat_used = True
            out.append(f"{ind}__pl_hbuf<bool> __pl_hp_{name};")
        try:
            return super().extent_of(name, out, ind)
        except NotParallelizable:
            # a vector indexed up to a row's length (x[j], j < A[i].size()): the polynomial names a row
            # length (@cols), which has no value here; the whole vector is what the function may read
            if d is not None and d.kind == "vector" and _ragged(self.fx.extent_polys.get(name)) and \
                    name not in getattr(self.fx, "data_extents", {}):
                return f"(long long)({name}.size())"
            raise

    def generate(self) -> tuple[str, str]:
        code, notes = super().generate()
        extra = [f"'{d.name}' {self._what(d)}" for d in self.used_arrays if self.flat(d)]
        if extra:
            notes = "; ".join(x for x in (notes, "on the device: " + ", ".join(extra)) if x)
        return code, notes

    def defines(self) -> list[str]:
        out = super().defines()
        return out + [PRELUDE] if self.flat_used else out

    # -- helpers ---------------------------------------------------------------
    def _what(self, d: Decl) -> str:
        if bits(d):
            return "a std::vector<bool>, one byte per element"
        if d.param is not None and d.param.container == "std::vector<std::string>":
            return "strings flattened with row offsets"
        return "a nested vector flattened with row offsets"

"""std::complex and std::pair values on the device (issue 23 item 1), for agents/codegen_cuda.py.

The host keeps its std::vector<std::complex<T>> / std::vector<std::pair<A, B>> and copies their
elements to the device as bytes, as it does any trivially copyable element. The device code
(kernels and the helpers they call) uses two small types the generated file defines itself,
each laid out as the std type it stands for:

* `__pl_complex<T>` (T = float or double; std::complex<T> is T[2]): the operators + - * / with
  complex and T operands, == !=, real/imag (member and free), abs, arg, norm, conj, polar,
  exp, log, sqrt. Every product is rounded on its own (`__pl_rn_mul`, as `a *__pl_rn* b` in the
  kernels), so nvcc fuses none into an FMA, and each function computes what libstdc++ (and
  glibc) compute for std::complex at -O2: (ac - bd, ad + bc) for a product, Smith's algorithm
  for a quotient, abs = hypot, norm = abs * abs (libstdc++ without -ffast-math), exp/polar
  from cos and sin.
* `__pl_pair<A, B>`: first, second, __pl_make_pair, the comparisons.

Both have a trivial default constructor (a __shared__ tile of them is allowed); a local declared
without initializer in device code (`std::complex<double> z;`, which std value-initializes) is
written `z{}`, which zeroes it as std does.

In device text every `std::complex<`, `complex<`, `std::pair<`, `pair<` becomes the device type; a
launch passes each argument through `__pl_dev_arg`, which turns std::complex/std::pair pointers
and values into the device types' (the same bytes). A helper function whose text uses these types
is written twice: the source's (for the host) and `__pl_dev_NAME` (for the kernels).

A complex sum (s += e, s = s + e, s -= e on a std::complex accumulator), which the analysis keeps as
a dependence (OpenMP has no reduction clause for it), is split here into the sums of its real and
imaginary parts (split_complex_sums, which the rule agent applies for every target): two ordinary
reductions, each part added as the complex sum adds it.
"""
from __future__ import annotations

import dataclasses
import re

from .frontend import load_unit, text, walk

PRELUDE = r'''/* std::complex and std::pair on the device (agents/cuda_values.py): the same bytes as the host's
   std::complex<T> (T[2]) and std::pair<A, B>; products rounded one by one (__pl_rn_mul), so nvcc fuses
   none into an FMA; results as libstdc++ computes them. */
#include <complex>
#include <utility>
#include <cstring>
#include <type_traits>
template <typename T> struct __pl_complex {
    T __pl_re, __pl_im;
    typedef T value_type;
    __pl_complex() = default;
    __host__ __device__ constexpr __pl_complex(const T &r, const T &i = T()) : __pl_re(r), __pl_im(i) {}
    template <typename U> __host__ __device__ constexpr __pl_complex(const __pl_complex<U> &z)
        : __pl_re((T)z.real()), __pl_im((T)z.imag()) {}
    __host__ __device__ constexpr T real() const { return __pl_re; }
    __host__ __device__ constexpr T imag() const { return __pl_im; }
    __host__ __device__ void real(T v) { __pl_re = v; }
    __host__ __device__ void imag(T v) { __pl_im = v; }
    __host__ __device__ __pl_complex &operator=(const T &v) { __pl_re = v; __pl_im = T(); return *this; }
    __host__ __device__ __pl_complex &operator+=(const T &v) { __pl_re += v; return *this; }
    __host__ __device__ __pl_complex &operator-=(const T &v) { __pl_re -= v; return *this; }
    __host__ __device__ __pl_complex &operator*=(const T &v) {
        __pl_re = __pl_rn_mul<T>::f(__pl_re, v); __pl_im = __pl_rn_mul<T>::f(__pl_im, v); return *this;
    }
    __host__ __device__ __pl_complex &operator/=(const T &v) { __pl_re /= v; __pl_im /= v; return *this; }
    template <typename U> __host__ __device__ __pl_complex &operator+=(const __pl_complex<U> &z) {
        __pl_re += (T)z.real(); __pl_im += (T)z.imag(); return *this;
    }
    template <typename U> __host__ __device__ __pl_complex &operator-=(const __pl_complex<U> &z) {
        __pl_re -= (T)z.real(); __pl_im -= (T)z.imag(); return *this;
    }
    template <typename U> __host__ __device__ __pl_complex &operator*=(const __pl_complex<U> &z);
    template <typename U> __host__ __device__ __pl_complex &operator/=(const __pl_complex<U> &z);
};
/* (a + bi)(c + di) = (ac - bd) + (ad + bc)i, as gcc's complex product (finite values) */
template <typename T> __host__ __device__ inline __pl_complex<T> __pl_cmul(const __pl_complex<T> &x, const __pl_complex<T> &y) {
    const T a = x.real(), b = x.imag(), c = y.real(), d = y.imag();
    return __pl_complex<T>(__pl_rn_mul<T>::f(a, c) - __pl_rn_mul<T>::f(b, d), __pl_rn_mul<T>::f(a, d) + __pl_rn_mul<T>::f(b, c));
}
/* Smith's algorithm, as libgcc's __divdc3 / __divsc3 (values away from overflow and underflow) */
template <typename T> __host__ __device__ inline __pl_complex<T> __pl_cdiv(const __pl_complex<T> &x, const __pl_complex<T> &y) {
    const T a = x.real(), b = x.imag(), c = y.real(), d = y.imag();
    if ((c < T(0) ? -c : c) < (d < T(0) ? -d : d)) {
        const T r = c / d, den = __pl_rn_mul<T>::f(c, r) + d;
        return __pl_complex<T>((__pl_rn_mul<T>::f(a, r) + b) / den, (__pl_rn_mul<T>::f(b, r) - a) / den);
    }
    const T r = d / c, den = __pl_rn_mul<T>::f(d, r) + c;
    return __pl_complex<T>((__pl_rn_mul<T>::f(b, r) + a) / den, (b - __pl_rn_mul<T>::f(a, r)) / den);
}
template <typename T> template <typename U>
__host__ __device__ inline __pl_complex<T> &__pl_complex<T>::operator*=(const __pl_complex<U> &z) {
    return *this = __pl_cmul(*this, __pl_complex<T>(z));
}
template <typename T> template <typename U>
__host__ __device__ inline __pl_complex<T> &__pl_complex<T>::operator/=(const __pl_complex<U> &z) {
    return *this = __pl_cdiv(*this, __pl_complex<T>(z));
}
template <typename T> __host__ __device__ inline __pl_complex<T> operator+(const __pl_complex<T> &x) { return x; }
template <typename T> __host__ __device__ inline __pl_complex<T> operator-(const __pl_complex<T> &x) { return __pl_complex<T>(-x.real(), -x.imag()); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator+(const __pl_complex<T> &x, const __pl_complex<T> &y) { return __pl_complex<T>(x.real() + y.real(), x.imag() + y.imag()); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator+(const __pl_complex<T> &x, const T &y) { return __pl_complex<T>(x.real() + y, x.imag()); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator+(const T &x, const __pl_complex<T> &y) { return __pl_complex<T>(x + y.real(), y.imag()); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator-(const __pl_complex<T> &x, const __pl_complex<T> &y) { return __pl_complex<T>(x.real() - y.real(), x.imag() - y.imag()); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator-(const __pl_complex<T> &x, const T &y) { return __pl_complex<T>(x.real() - y, x.imag()); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator-(const T &x, const __pl_complex<T> &y) { return __pl_complex<T>(x - y.real(), -y.imag()); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator*(const __pl_complex<T> &x, const __pl_complex<T> &y) { return __pl_cmul(x, y); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator*(const __pl_complex<T> &x, const T &y) { return __pl_complex<T>(__pl_rn_mul<T>::f(x.real(), y), __pl_rn_mul<T>::f(x.imag(), y)); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator*(const T &x, const __pl_complex<T> &y) { return __pl_complex<T>(__pl_rn_mul<T>::f(x, y.real()), __pl_rn_mul<T>::f(x, y.imag())); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator/(const __pl_complex<T> &x, const __pl_complex<T> &y) { return __pl_cdiv(x, y); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator/(const __pl_complex<T> &x, const T &y) { return __pl_complex<T>(x.real() / y, x.imag() / y); }
template <typename T> __host__ __device__ inline __pl_complex<T> operator/(const T &x, const __pl_complex<T> &y) { return __pl_cdiv(__pl_complex<T>(x), y); }
template <typename T> __host__ __device__ inline bool operator==(const __pl_complex<T> &x, const __pl_complex<T> &y) { return x.real() == y.real() && x.imag() == y.imag(); }
template <typename T> __host__ __device__ inline bool operator==(const __pl_complex<T> &x, const T &y) { return x.real() == y && x.imag() == T(); }
template <typename T> __host__ __device__ inline bool operator==(const T &x, const __pl_complex<T> &y) { return y == x; }
template <typename T> __host__ __device__ inline bool operator!=(const __pl_complex<T> &x, const __pl_complex<T> &y) { return !(x == y); }
template <typename T> __host__ __device__ inline bool operator!=(const __pl_complex<T> &x, const T &y) { return !(x == y); }
template <typename T> __host__ __device__ inline bool operator!=(const T &x, const __pl_complex<T> &y) { return !(y == x); }
template <typename T> __host__ __device__ inline T real(const __pl_complex<T> &z) { return z.real(); }
template <typename T> __host__ __device__ inline T imag(const __pl_complex<T> &z) { return z.imag(); }
template <typename T> __host__ __device__ inline T abs(const __pl_complex<T> &z) { return hypot(z.real(), z.imag()); }
template <typename T> __host__ __device__ inline T __pl_abs(const __pl_complex<T> &z) { return hypot(z.real(), z.imag()); }
template <typename T> __host__ __device__ inline T arg(const __pl_complex<T> &z) { return atan2(z.imag(), z.real()); }
template <typename T> __host__ __device__ inline T norm(const __pl_complex<T> &z) { const T a = abs(z); return __pl_rn_mul<T>::f(a, a); }
template <typename T> __host__ __device__ inline __pl_complex<T> conj(const __pl_complex<T> &z) { return __pl_complex<T>(z.real(), -z.imag()); }
template <typename T> __host__ __device__ inline __pl_complex<T> polar(const T &r, const T &t = T()) { return __pl_complex<T>(__pl_rn_mul<T>::f(r, cos(t)), __pl_rn_mul<T>::f(r, sin(t))); }
template <typename T> __host__ __device__ inline __pl_complex<T> exp(const __pl_complex<T> &z) { const T e = exp(z.real()); return __pl_complex<T>(__pl_rn_mul<T>::f(e, cos(z.imag())), __pl_rn_mul<T>::f(e, sin(z.imag()))); }
template <typename T> __host__ __device__ inline __pl_complex<T> log(const __pl_complex<T> &z) { return __pl_complex<T>(log(abs(z)), arg(z)); }
/* glibc's csqrt for finite values */
template <typename T> __host__ __device__ inline __pl_complex<T> sqrt(const __pl_complex<T> &z) {
    const T x = z.real(), y = z.imag();
    if (y == T(0)) return x < T(0) ? __pl_complex<T>(T(0), copysign(sqrt(-x), y)) : __pl_complex<T>(fabs(sqrt(x)), copysign(T(0), y));
    if (x == T(0)) { const T r = sqrt(__pl_rn_mul<T>::f(T(0.5), fabs(y))); return __pl_complex<T>(r, copysign(r, y)); }
    const T d = hypot(x, y);
    T r, s;
    if (x > T(0)) { r = sqrt(__pl_rn_mul<T>::f(T(0.5), d + x)); s = __pl_rn_mul<T>::f(T(0.5), y / r); }
    else { s = sqrt(__pl_rn_mul<T>::f(T(0.5), d - x)); r = fabs(__pl_rn_mul<T>::f(T(0.5), y / s)); }
    return __pl_complex<T>(r, copysign(s, y));
}
template <typename A, typename B> struct __pl_pair {
    A first;
    B second;
    typedef A first_type;
    typedef B second_type;
    __pl_pair() = default;
    __host__ __device__ constexpr __pl_pair(const A &a, const B &b) : first(a), second(b) {}
    template <typename C, typename D> __host__ __device__ constexpr __pl_pair(const __pl_pair<C, D> &p)
        : first(p.first), second(p.second) {}
};
template <typename A, typename B> __host__ __device__ inline __pl_pair<A, B> __pl_make_pair(A a, B b) { return __pl_pair<A, B>(a, b); }
template <typename A, typename B> __host__ __device__ inline bool operator==(const __pl_pair<A, B> &x, const __pl_pair<A, B> &y) { return x.first == y.first && x.second == y.second; }
template <typename A, typename B> __host__ __device__ inline bool operator!=(const __pl_pair<A, B> &x, const __pl_pair<A, B> &y) { return !(x == y); }
template <typename A, typename B> __host__ __device__ inline bool operator<(const __pl_pair<A, B> &x, const __pl_pair<A, B> &y) { return x.first < y.first || (!(y.first < x.first) && x.second < y.second); }
template <typename A, typename B> __host__ __device__ inline bool operator>(const __pl_pair<A, B> &x, const __pl_pair<A, B> &y) { return y < x; }
template <typename A, typename B> __host__ __device__ inline bool operator<=(const __pl_pair<A, B> &x, const __pl_pair<A, B> &y) { return !(y < x); }
template <typename A, typename B> __host__ __device__ inline bool operator>=(const __pl_pair<A, B> &x, const __pl_pair<A, B> &y) { return !(x < y); }
/* host -> device: std::complex and std::pair (also behind pointers) as the device types, same bytes */
template <typename T> struct __pl_dev { typedef T type; };
template <typename T> struct __pl_dev<const T> { typedef const typename __pl_dev<T>::type type; };
template <typename T> struct __pl_dev<T *> { typedef typename __pl_dev<T>::type *type; };
template <typename T> struct __pl_dev<std::complex<T>> { typedef __pl_complex<T> type; };
template <typename A, typename B> struct __pl_dev<std::pair<A, B>> {
    typedef __pl_pair<typename __pl_dev<A>::type, typename __pl_dev<B>::type> type;
};
template <typename T> using __pl_dev_t = typename __pl_dev<T>::type;
template <typename T> static inline __pl_dev_t<T> __pl_dev_arg(const T &x) {
    if constexpr (std::is_same<__pl_dev_t<T>, T>::value) {
        return x;
    } else {
        static_assert(sizeof(__pl_dev_t<T>) == sizeof(T) && alignof(__pl_dev_t<T>) == alignof(T),
                      "a device value type has the host type's layout");
        __pl_dev_t<T> r;
        std::memcpy((void *)&r, (const void *)&x, sizeof r);
        return r;
    }
}
'''

_TYPE = re.compile(r"(?<![\w:])(?:std\s*::\s*)?(complex|pair)\s*<")
_MAKE_PAIR = re.compile(r"(?<![\w:.>])(?:std\s*::\s*)?make_pair\s*\(")
_VALUE_TEXT = re.compile(r"(?<![\w:])(?:std\s*::\s*)?(?:complex|pair)\s*<|\bmake_pair\b")
# functions of std::complex the device type has (anything else applied to a complex value is refused)
COMPLEX_FUNCTIONS = {"real", "imag", "abs", "arg", "norm", "conj", "polar", "exp", "log", "sqrt"}
_COMPLEX_ONLY = {"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
                 "pow", "log10", "proj"}


def _is_value_type(t: str | None) -> bool:
    return bool(t) and _TYPE.search(t) is not None


def uses_values(fx) -> bool:
    """Does the function (its parameters, locals or the helpers it calls) use std::complex or std::pair?"""
    if any(_is_value_type(d.base_type) or _is_value_type(getattr(d, "type_text", None)) for d in fx.model.decls):
        return True
    return _VALUE_TEXT.search(text(fx.model.body)) is not None


def _default_init(s: str) -> str:
    """`__pl_complex<T> a, b(1, 2), c;` -> `__pl_complex<T> a{}, b(1, 2), c{};`: std::complex and
    std::pair value-initialize what a declaration leaves without initializer; the device types'
    trivial default constructor does not."""
    out, pos = [], 0
    for m in re.finditer(r"\b(?:const\s+)?__pl_(?:complex|pair)\s*<", s):
        if m.start() < pos:
            continue
        # the end of the template argument list
        i, depth = m.end(), 1
        while i < len(s) and depth:
            depth += {"<": 1, ">": -1}.get(s[i], 0)
            i += 1
        rest = re.match(r"\s+([A-Za-z_]\w*)", s[i:])
        if depth or rest is None or rest.group(1) in ("const", "operator"):
            continue
        # a declaration: its declarators up to the `;` at depth 0
        j, depth, decls, start = i, 0, [], i
        while j < len(s):
            c = s[j]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif c in ",;" and depth == 0:
                decls.append((start, j))
                start = j + 1
                if c == ";":
                    break
            j += 1
        if j >= len(s) or s[j] != ";":
            continue
        out.append(s[pos:i])
        for k, (a, b) in enumerate(decls):
            d = s[a:b]
            out.append(("," if k else "") + (d.rstrip() + "{}" if re.fullmatch(r"\s*[A-Za-z_]\w*\s*", d) else d))
        out.append(";")
        pos = j + 1
    out.append(s[pos:])
    return "".join(out)


def _launch_args(s: str, names: set[str]) -> str:
    """Each argument of each launch `k<<<g, b>>>(args)` that is one of `names` (std::complex / std::pair
    values and the device copies of such arrays) as `__pl_dev_arg(arg)`; `decltype(x)` template
    arguments of a launch as `__pl_dev_t<decltype(x)>`."""
    out, pos = [], 0
    for m in re.finditer(r">>>\s*\(", s):
        i, depth, args, start = m.end(), 1, [], m.end()
        while i < len(s) and depth:
            c = s[i]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            if (c == "," and depth == 1) or depth == 0:
                args.append(s[start:i])
                start = i + 1
            i += 1
        out.append(s[pos:m.end()])
        out.append(", ".join(f"__pl_dev_arg({a.strip()})" if a.strip() in names else a.strip()
                             for a in args if a.strip()))
        out.append(")")
        pos = i
    out.append(s[pos:])
    res = "".join(out)
    return re.sub(r"(__pl_kernel_\w+)<([^<>]*(?:<[^<>]*>[^<>]*)*)><<<",
                  lambda mm: mm.group(1) + "<" + re.sub(r"decltype\((\w+)\)", r"__pl_dev_t<decltype(\1)>",
                                                        mm.group(2)) + "><<<", res)


class DeviceValues:
    """The hooks CudaGen.generate calls when the function uses std::complex or std::pair."""

    def __init__(self, gen):
        self.gen = gen
        self.renamed: set[str] = set()

    @classmethod
    def of(cls, gen) -> "DeviceValues | None":
        return cls(gen) if uses_values(gen.fx) else None

    prelude = PRELUDE

    def device_text(self, s: str) -> str:
        s = _TYPE.sub(lambda m: f"__pl_{m.group(1)}<", s)
        s = _MAKE_PAIR.sub("__pl_make_pair(", s)
        for name in self.renamed:
            s = re.sub(rf"(?<![\w:.>]){re.escape(name)}\s*\(", f"__pl_dev_{name}(", s)
        return _default_init(s)

    def host_text(self, s: str) -> str:
        names = {d.name for d in self.gen.fx.model.decls
                 if _is_value_type(d.base_type) or d.base_type in (None, "auto")}
        return _launch_args(s, names | {f"__pl_d_{n}" for n in names})

    def helpers(self, names: list[str]) -> list[str]:
        """The helper functions' definitions: a helper whose text uses std::complex or std::pair twice,
        as written (host) and as `__pl_dev_NAME` (device); the others as CudaGen writes them."""
        gen = self.gen
        self.renamed = {n for n in names if _VALUE_TEXT.search(text(gen.fx.unit.functions[n]))}
        out = []
        for name in names:
            if name not in self.renamed:
                out.append(gen.device_function(name))
                continue
            fn = gen.fx.unit.functions[name]
            host = re.sub(r"^\s*(static\s+)?(inline\s+)?", "", text(fn))
            out.append("inline " + host)      # (not static: nvcc warns of one only the kernels call)
            dev = gen.device_function(name).replace("static __host__ __device__ inline ", "static __device__ inline ", 1)
            decl = fn.child_by_field_name("declarator")
            while decl is not None and decl.type not in ("function_declarator",):
                decl = decl.child_by_field_name("declarator")
            dev = re.sub(rf"\b{re.escape(name)}\s*\(", f"__pl_dev_{name}(", dev, count=1)
            out.append(self.device_text(dev))
        return out


# -- what the device types do not cover -----------------------------------------------------------

def _complex_decl(fx, name: str):
    d = fx.model.params.get(name) if hasattr(fx.model, "params") else None
    if d is None:
        d = next((x for x in fx.model.decls if x.name == name), None)
    return d if d is not None and (d.base_type or "").replace(" ", "").startswith(("std::complex<", "complex<")) \
        else None


def _complex_valued(fx, node) -> bool:
    """Is the expression a complex value (as far as its form tells)?"""
    while node is not None and node.type == "parenthesized_expression":
        node = node.named_children[0] if node.named_children else None
    if node is None:
        return False
    if node.type == "identifier":
        return _complex_decl(fx, text(node)) is not None
    if node.type == "subscript_expression":
        base = node.child_by_field_name("argument")
        while base is not None and base.type == "subscript_expression":
            base = base.child_by_field_name("argument")
        return base is not None and base.type == "identifier" and _complex_decl(fx, text(base)) is not None
    if node.type == "call_expression":
        fn = text(node.child_by_field_name("function")).replace(" ", "")
        if re.match(r"(std::)?complex<", fn):
            return True
        short = fn.split("::")[-1]
        args = node.child_by_field_name("arguments")
        kids = args.named_children if args is not None else []
        if short in ("conj", "polar", "proj"):
            return True
        if short in ("exp", "log", "sqrt", "sin", "cos", "tan", "pow", "log10", "sinh", "cosh", "tanh") and \
                any(_complex_valued(fx, a) for a in kids):
            return True
        return False
    if node.type == "binary_expression" and text(node.child_by_field_name("operator")) in "+-*/":
        return _complex_valued(fx, node.child_by_field_name("left")) or \
            _complex_valued(fx, node.child_by_field_name("right"))
    if node.type == "unary_expression":
        return _complex_valued(fx, node.named_children[-1] if node.named_children else None)
    if node.type == "conditional_expression":
        return _complex_valued(fx, node.child_by_field_name("consequence")) or \
            _complex_valued(fx, node.child_by_field_name("alternative"))
    return False


def unsupported(fx) -> str | None:
    """Why the CUDA translation cannot use the function's std::complex / std::pair values on the
    device (None when it can): the construct, named."""
    unit = fx.unit
    for d in fx.model.decls:
        t = (d.base_type or "").replace(" ", "")
        m = re.search(r"(?:std::)?complex<([^<>]*)>", t)
        if m and m.group(1) not in ("float", "double"):
            return (f"'{d.name}' is a {d.base_type}: the device complex type is for float and double "
                    f"(std::complex of other types is unspecified)")
        if "pair<" in t and t.replace("std::", "") not in {k.replace(" ", "").replace("std::", "")
                                                          for k in unit.records}:
            return f"'{d.name}' is a {d.base_type}, a std::pair of types the device copy does not carry as bytes"
    for name, fields in unit.records.items():
        if name.startswith("std::pair<"):
            continue
        used = any((d.base_type or "") == name for d in fx.model.decls)
        bad = next((f for f in fields if "complex" in f[1] or "pair<" in f[1]), None)
        if used and bad is not None:
            return (f"struct '{name}' has the {bad[1]} field '{bad[0]}', which the device copy of the struct "
                    f"does not map to the device complex type yet")
    for n in walk(fx.model.body):
        if n.type != "call_expression":
            continue
        fn = text(n.child_by_field_name("function")).replace(" ", "")
        short = fn.split("::")[-1]
        args = n.child_by_field_name("arguments")
        kids = args.named_children if args is not None else []
        if short in _COMPLEX_ONLY and any(_complex_valued(fx, a) for a in kids):
            return (f"'{text(n)}' (line {n.start_point[0] + 1}) applies {fn} to a complex value, which the "
                    f"device complex type does not provide (it has {', '.join(sorted(COMPLEX_FUNCTIONS))} and "
                    f"+ - * /)")
    return None


# -- complex sums ---------------------------------------------------------------------------------

NOTE = ("the complex sum(s) {names} are added as the sums of their real and imaginary parts "
        "(agents/cuda_values.py): two reductions each, the parts added as the complex sum adds them")


def _strip(n):
    while n is not None and n.type == "parenthesized_expression" and n.named_children:
        n = n.named_children[0]
    return n


def _update_of(stmt, name: str):
    """(sign, added expression node) when `stmt` is `name += E;`, `name -= E;`, `name = name + E;`,
    `name = name - E;` or `name = E + name;` with E free of `name`; else None."""
    if stmt is None or stmt.type != "expression_statement" or len(stmt.named_children) != 1:
        return None
    e = _strip(stmt.named_children[0])
    if e is None or e.type != "assignment_expression":
        return None
    left = _strip(e.child_by_field_name("left"))
    right = e.child_by_field_name("right")
    op = text(e.child_by_field_name("operator"))
    if left is None or left.type != "identifier" or text(left) != name or right is None:
        return None
    sign, added = None, None
    if op in ("+=", "-="):
        sign, added = op[0], right
    elif op == "=":
        r = _strip(right)
        if r is not None and r.type == "binary_expression" and text(r.child_by_field_name("operator")) in "+-":
            a, b = _strip(r.child_by_field_name("left")), r.child_by_field_name("right")
            bop = text(r.child_by_field_name("operator"))
            if a is not None and a.type == "identifier" and text(a) == name:
                sign, added = bop, b
            elif bop == "+" and _strip(b) is not None and _strip(b).type == "identifier" and text(_strip(b)) == name:
                sign, added = "+", r.child_by_field_name("left")
    if added is None or any(n.type == "identifier" and text(n) == name for n in walk(added)):
        return None
    return sign, added


def split_complex_sums(task, fx, notes: list[str]):
    """(facts, notes) of the function with each complex sum in a loop the analysis keeps sequential
    written as the sums of its parts, when that gives more parallel loops; else (fx, notes) as given."""
    if task.language != "cpp":
        return fx, notes
    src = task.source
    unit = load_unit(src, "cpp")
    fn = unit.functions.get(task.function)
    if fn is None:
        return fx, notes
    from .analysis import analyze
    try:
        here = analyze(src, "cpp", task.function)
    except Exception:
        return fx, notes
    m = here.model
    chosen = {f.loop for f in here.chosen_loops()}
    edits, names = [], []
    for L in m.loops:
        if L in chosen or any(c.encloses(L) for c in chosen) or any(
                o is not L and o.encloses(L) and o not in chosen and _has_sum_edit(edits, o) for o in m.loops):
            continue
        if L.node.parent is None or L.node.parent.type != "compound_statement":
            continue
        accs = []
        for d in m.decls:
            t = (d.base_type or "").replace(" ", "")
            mm = re.fullmatch(r"(?:std::)?complex<(float|double)>", t)
            if not mm or d.is_array or (d.node is not None and L.node.start_byte <= d.node.start_byte < L.node.end_byte):
                continue
            uses = [n for n in walk(L.node) if n.type == "identifier" and text(n) == d.name]
            if not uses:
                continue
            stmts, ok = {}, True
            for u in uses:
                st = u
                while st is not None and st.type != "expression_statement":
                    st = st.parent
                upd = _update_of(st, d.name)
                if upd is None:
                    ok = False
                    break
                stmts[st.id] = (st, upd)
            if ok:
                accs.append((d, mm.group(1), list(stmts.values())))
        if not accs:
            continue
        pre, post = [], []
        for d, vt, stmts in accs:
            re_, im_ = f"__pl_re_{d.name}", f"__pl_im_{d.name}"
            pre.append(f"{vt} {re_} = {d.name}.real(), {im_} = {d.name}.imag();")
            post.append(f"{d.name} = std::complex<{vt}>({re_}, {im_});")
            for st, (sign, added) in stmts:
                edits.append((st.start_byte, st.end_byte,
                              f"{{ const std::complex<{vt}> __pl_t_{d.name} = {text(added)}; "
                              f"{re_} {sign}= __pl_t_{d.name}.real(); {im_} {sign}= __pl_t_{d.name}.imag(); }}"))
            names.append(d.name)
        edits.append((L.node.start_byte, L.node.start_byte, "{ " + " ".join(pre) + "\n    "))
        edits.append((L.node.end_byte, L.node.end_byte, "\n    " + " ".join(post) + " }"))
        edits[-1] = edits[-1] + (L,)
    if not names:
        return fx, notes
    data = src.encode()
    for s, e, r, *_ in sorted(edits, key=lambda x: (x[0], x[1]), reverse=True):
        data = data[:s] + r.encode() + data[e:]
    split = data.decode()
    from .rule_based import source_facts
    try:
        fx2, notes2 = source_facts(dataclasses.replace(task, source=split))
    except Exception:
        return fx, notes
    if len(fx2.chosen_loops()) <= len(fx.chosen_loops()):
        return fx, notes
    return fx2, list(notes) + notes2 + [NOTE.format(names=", ".join(f"'{n}'" for n in dict.fromkeys(names)))]


def _has_sum_edit(edits, loop) -> bool:
    return any(len(e) > 3 and e[3] is loop for e in edits)


__all__ = ["PRELUDE", "DeviceValues", "uses_values", "unsupported", "split_complex_sums", "NOTE",
           "COMPLEX_FUNCTIONS"]

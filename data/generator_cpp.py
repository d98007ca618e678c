"""Randomized sequential C++ kernels for the corpus (issue 23): C++ as it is usually written.

The families here draw, like the C ones of generator.py (whose Style they reuse for names, braces,
increments and comments), the constructs the issue lists: `std::vector` parameters by `const&` and
`&` with their `.size()` or a separate `size_t` count, structs of a few fields (geometry, particles),
`std::complex<double>`, nested `std::vector<std::vector<T>>` matrices, adjacency structures
(flattened 0/1 matrices and CSR offsets), range-`for` and `auto`, small pure helpers in the same file,
`std::array` weights, and loops written as standard algorithms (`std::transform`, `std::accumulate`,
`std::count_if`) with lambdas.

They are registered in CPP_FAMILIES, not in generator.FAMILIES: the default corpus (and everything
trained or measured on it) stays the C one; `paralift data build --families cpp` (or family names)
asks for them. Every kernel is free of undefined behaviour for the inputs the tester derives from the
signature (loop bounds from `.size()` or a count the tester sizes the vectors by, CSR offsets well
formed, no division by a value that can be zero).
"""
from __future__ import annotations

from typing import Callable

from .generator import _LOOPVARS, _LOOPVARS2, _SCALARS, Style, _coef, _lit

CppFamily = Callable[[Style], tuple[str, str, str]]
CPP_FAMILIES: dict[str, tuple[CppFamily, bool, str]] = {}


def cpp_family(name: str, parallel: bool = True, group: str = ""):
    def deco(fn: CppFamily) -> CppFamily:
        CPP_FAMILIES[name] = (fn, parallel, group or name.split("_")[1])
        return fn
    return deco


# ------------------------------------------------------------------ C++ style

def _vec(s: Style, t: str, name: str, written: bool) -> str:
    """A std::vector parameter: `std::vector<T> &v`, or read-only `const std::vector<T>& v` /
    `std::vector<T> const& v` (both spellings occur)."""
    if written:
        return f"std::vector<{t}> &{name}" if s.spaces else f"std::vector<{t}>& {name}"
    return s.choice([f"const std::vector<{t}> &{name}", f"std::vector<{t}> const& {name}",
                     f"const std::vector<{t}>& {name}"])


def _idx(s: Style) -> str:
    return s.choice(["size_t", "std::size_t", "size_t", "int"])


def _size_loop(s: Style, var: str, container: str, body: list[str]) -> list[str]:
    """for (size_t i = 0; i < v.size(); ++i): an int counter compares through a cast."""
    t = _idx(s)
    bound = f"{container}.size()" if t != "int" else f"(int){container}.size()"
    return s.loop(var, "0", s.op(var, "<", bound), body, typ=t, decl_outside=False)


def _includes(*hs: str) -> list[str]:
    return [f"#include <{h}>" for h in hs]


def _unit(s: Style, includes: list[str], types: list[str], helpers: list[str], fn: str) -> str:
    parts = ["\n".join(includes)]
    parts += [t for t in types if t]
    parts += [h for h in helpers if h]
    parts.append(fn)
    return "\n\n".join(p.rstrip("\n") for p in parts) + "\n"


def _struct(s: Style, name: str, fields: list[tuple[str, str]]) -> str:
    """A plain struct, sometimes a class with public fields, fields grouped or one per line."""
    kw = s.choice(["struct", "struct", "class"])
    head = f"{kw} {name} {{" + ("\npublic:" if kw == "class" else "")
    if s.rng.random() < 0.5:
        by_type: dict[str, list[str]] = {}
        for t, f in fields:
            by_type.setdefault(t, []).append(f)
        lines = [f"    {t} {', '.join(fs)};" for t, fs in by_type.items()]
    else:
        lines = [f"    {t} {f};" for t, f in fields]
    return "\n".join([head, *lines, "};"])


_PT = ["Point", "Vec2", "P2", "Pt", "Point2D", "Coord"]
_PARTICLE = ["Particle", "Body", "Atom", "Bead", "Agent"]


# ------------------------------------------------------------------ geometry over structs

@cpp_family("cpp_geo_map", group="geo")
def _geo_map(s: Style):
    P = s.choice(_PT)
    f = s.fname(["translate", "scale", "rotate", "shift", "move", "transform"], ["points", "cloud", "shape", "pts"])
    src, dst = s.name(["pts", "points", "in", "cloud", "src"]), s.name(["out", "moved", "dst", "result"])
    a, b = s.name(_SCALARS), s.name(_SCALARS)
    i = s.name(_LOOPVARS)
    form = s.choice(["affine", "rotate", "normalize"])
    if form == "affine":
        body = [f"{dst}[{i}].x = {s.op(a, '*', f'{src}[{i}].x')} + {b};",
                f"{dst}[{i}].y = {s.op(a, '*', f'{src}[{i}].y')} - {b};"]
        doc = f"{dst} = {a} * {src} + ({b}, -{b}), point by point"
    elif form == "rotate":
        body = [f"const double px = {src}[{i}].x, py = {src}[{i}].y;",
                f"{dst}[{i}].x = {s.op(a, '*', 'px')} - {s.op(b, '*', 'py')};",
                f"{dst}[{i}].y = {s.op(b, '*', 'px')} + {s.op(a, '*', 'py')};"]
        doc = f"{dst} = the points of {src} rotated by the matrix (({a}, -{b}), ({b}, {a}))"
    else:
        body = [f"const double len = std::sqrt({src}[{i}].x * {src}[{i}].x + {src}[{i}].y * {src}[{i}].y) + {a} * {a} + 1.0;",
                f"{dst}[{i}].x = {src}[{i}].x / len * {b};",
                f"{dst}[{i}].y = {src}[{i}].y / len * {b};"]
        doc = f"{dst} = the points of {src} scaled towards unit length, times {b}"
    params = [_vec(s, P, src, False), _vec(s, P, dst, True), f"double {a}", f"double {b}"]
    fn = s.function("void", f, params, _size_loop(s, i, src, body), doc)
    return f, _unit(s, _includes("cmath", "cstddef", "vector"), [_struct(s, P, [("double", "x"), ("double", "y")])],
                    [], fn), doc


@cpp_family("cpp_geo_reduce", group="geo")
def _geo_reduce(s: Style):
    P = s.choice(_PT)
    helper = s.choice(["norm2", "sqDist", "dist2", "lengthSq"])
    f = s.fname(["max", "min", "total", "sum"], ["radius", "spread", "extent", "energy"])
    pts, c = s.name(["pts", "points", "cloud", "verts"]), s.name(["cx", "ox", "centerX"])
    i = s.name(_LOOPVARS)
    kind = s.choice(["max", "min", "sum"])
    h = (f"static double {helper}({P} const& p, double {c}) {{\n"
         f"    const double dx = p.x - {c};\n    return dx * dx + p.y * p.y;\n}}")
    if kind == "sum":
        init, upd = "0.0", [f"best += {helper}({pts}[{i}], {c});"]
        doc = f"sum over the points of the squared distance to ({c}, 0)"
    else:
        cmp_ = ">" if kind == "max" else "<"
        init = "0.0" if kind == "max" else "1e300"
        upd = [f"const double d = {helper}({pts}[{i}], {c});", *s.block(f"if (d {cmp_} best)", ["best = d;"])]
        doc = f"the {'largest' if kind == 'max' else 'smallest'} squared distance of a point to ({c}, 0)"
    if s.rng.random() < 0.35 and kind == "sum":
        body = [f"double best = {init};", *s.block(f"for (const auto &p : {pts})", [f"best += {helper}(p, {c});"]),
                "return best;"]
    else:
        body = [f"double best = {init};", *_size_loop(s, i, pts, upd), "return best;"]
    fn = s.function("double", f, [_vec(s, P, pts, False), f"double {c}"], body, doc)
    return f, _unit(s, _includes("cstddef", "vector"), [_struct(s, P, [("double", "x"), ("double", "y")])], [h],
                    fn), doc


# ------------------------------------------------------------------ particles

@cpp_family("cpp_particle_step", group="particle")
def _particle_step(s: Style):
    B = s.choice(_PARTICLE)
    f = s.fname(["advance", "step", "integrate", "kick", "drift", "update"], ["particles", "bodies", "system", "swarm"])
    ps, dt = s.name(["ps", "particles", "bodies", "sys"]), s.name(["dt", "h", "tau_", "delta"])
    g = s.name(_SCALARS)
    form = s.choice(["index", "range"])
    upd = ["{p}.v += {g} * {dt} / {p}.m;", "{p}.x += {p}.v * {dt};"]
    if s.rng.random() < 0.4:
        upd.insert(0, "if ({p}.x < 0.0) {p}.v = -{p}.v;")
    if form == "range":
        body = s.block(f"for ({B} &p : {ps})", [u.format(p="p", g=g, dt=dt) for u in upd])
    else:
        i = s.name(_LOOPVARS)
        body = _size_loop(s, i, ps, [u.format(p=f"{ps}[{i}]", g=g, dt=dt) for u in upd])
    doc = f"advance every particle by {dt} under a constant force {g}"
    fn = s.function("void", f, [_vec(s, B, ps, True), f"double {dt}", f"double {g}"], body, doc)
    st = _struct(s, B, [("double", "x"), ("double", "v"), ("double", "m")])
    return f, _unit(s, _includes("cstddef", "vector"), [st], [], fn), doc


@cpp_family("cpp_particle_energy", group="particle")
def _particle_energy(s: Style):
    B = s.choice(_PARTICLE)
    f = s.fname(["kinetic", "total", "sum"], ["energy", "momentum", "mass"])
    ps = s.name(["ps", "particles", "bodies"])
    i = s.name(_LOOPVARS)
    what = s.choice(["energy", "momentum"])
    term = f"0.5 * {ps}[{i}].m * {ps}[{i}].v * {ps}[{i}].v" if what == "energy" else f"{ps}[{i}].m * {ps}[{i}].v"
    body = ["double e = 0.0;", *_size_loop(s, i, ps, [f"e += {term};"]), "return e;"]
    doc = f"total {'kinetic energy' if what == 'energy' else 'momentum'} of the particles"
    fn = s.function("double", f, [_vec(s, B, ps, False)], body, doc)
    st = _struct(s, B, [("double", "x"), ("double", "v"), ("double", "m")])
    return f, _unit(s, _includes("cstddef", "vector"), [st], [], fn), doc


# ------------------------------------------------------------------ complex numbers

@cpp_family("cpp_complex_map", group="complex")
def _complex_map(s: Style):
    f = s.fname(["rotate", "square", "conj_scale", "twiddle", "map"], ["phasors", "signal", "spectrum", "zs"])
    z, out = s.name(["z", "x", "zs", "sig", "spec"]), s.name(["out", "y", "res", "dst"])
    a = s.name(_SCALARS)
    i = s.name(_LOOPVARS)
    cx = "std::complex<double>"
    form = s.choice(["poly", "conj", "mag"])
    if form == "poly":
        e, doc, ot = f"{z}[{i}] * {z}[{i}] + {cx}({a}, -{a})", f"{out} = {z}^2 + ({a} - {a}i)", cx
    elif form == "conj":
        e, doc, ot = f"std::conj({z}[{i}]) * {a}", f"{out} = conj({z}) * {a}", cx
    else:
        e, doc, ot = f"std::abs({z}[{i}]) + {a} * std::norm({z}[{i}])", f"{out} = |{z}| + {a} |{z}|^2", "double"
    fn = s.function("void", f, [_vec(s, cx, z, False), _vec(s, ot, out, True), f"double {a}"],
                    _size_loop(s, i, z, [f"{out}[{i}] = {e};"]), doc)
    return f, _unit(s, _includes("complex", "cstddef", "vector"), [], [], fn), doc


@cpp_family("cpp_complex_reduce", group="complex")
def _complex_reduce(s: Style):
    f = s.fname(["sum", "total", "energy", "power"], ["signal", "spectrum", "phasors"])
    z = s.name(["z", "x", "sig", "spec"])
    i = s.name(_LOOPVARS)
    kind = s.choice(["power", "real"])
    term = f"std::norm({z}[{i}])" if kind == "power" else f"{z}[{i}].real() - 0.5 * {z}[{i}].imag()"
    body = ["double acc = 0.0;", *_size_loop(s, i, z, [f"acc += {term};"]), "return acc;"]
    doc = "sum of |z|^2" if kind == "power" else "sum of re(z) - im(z)/2"
    fn = s.function("double", f, [_vec(s, "std::complex<double>", z, False)], body, doc)
    return f, _unit(s, _includes("complex", "cstddef", "vector"), [], [], fn), doc


# ------------------------------------------------------------------ nested vectors (matrices)

@cpp_family("cpp_nested_rows", group="nested")
def _nested_rows(s: Style):
    t = s.choice(["double", "double", "float"])
    f = s.fname(["row", "normalize", "scale", "reduce"], ["sums", "rows", "matrix", "norms"])
    A, out = s.name(["A", "M", "mat", "grid", "rows"]), s.name(["out", "res", "r", "sums"])
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    form = s.choice(["sum", "scale"])
    ti = _idx(s)
    rb = f"{A}.size()" if ti != "int" else f"(int){A}.size()"
    cb = f"{A}[{i}].size()" if ti != "int" else f"(int){A}[{i}].size()"
    if form == "sum":
        inner = s.loop(j, "0", s.op(j, "<", cb), [f"acc += {A}[{i}][{j}] * {A}[{i}][{j}];"], typ=ti,
                       decl_outside=False)
        body = s.loop(i, "0", s.op(i, "<", rb), [f"{t} acc = 0;", *inner, f"{out}[{i}] = acc;"], typ=ti,
                      decl_outside=False)
        params = [_vec(s, f"std::vector<{t}>", A, False), _vec(s, t, out, True)]
        doc = f"{out}[i] = sum of squares of row i of {A}"
    else:
        c = s.name(_SCALARS)
        inner = s.loop(j, "0", s.op(j, "<", cb), [f"{A}[{i}][{j}] = {A}[{i}][{j}] * {c} + {_lit(t, 1.0)};"],
                       typ=ti, decl_outside=False)
        body = s.loop(i, "0", s.op(i, "<", rb), inner, typ=ti, decl_outside=False)
        params = [_vec(s, f"std::vector<{t}>", A, True), f"{t} {c}"]
        doc = f"every element of {A} becomes {c} * a + 1"
    fn = s.function("void", f, params, body, doc)
    return f, _unit(s, _includes("cstddef", "vector"), [], [], fn), doc


# ------------------------------------------------------------------ graphs

@cpp_family("cpp_graph_adjacency", group="graph")
def _graph_adjacency(s: Style):
    f = s.fname(["vertex", "count", "out", "neighbor"], ["degrees", "weights", "links", "hits"])
    A, out, n = s.name(["A", "adj", "adjacency", "G"]), s.name(["deg", "out", "degree", "counts"]), \
        s.name(["N", "n", "nv", "numVertices"])
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    form = s.choice(["degree", "two_hop_weight"])
    if form == "degree":
        inner = s.loop(j, "0", s.op(j, "<", n), s.block(f"if ({A}[{i} * {n} + {j}] != 0)", ["d++;"]), typ="size_t",
                       decl_outside=False)
        doc = f"{out}[i] = number of neighbours of vertex i in the {n}x{n} 0/1 adjacency matrix {A}"
    else:
        inner = s.loop(j, "0", s.op(j, "<", n), [f"d += {A}[{i} * {n} + {j}] * ({i} > {j} ? 2 : 1);"], typ="size_t",
                       decl_outside=False)
        doc = f"{out}[i] = weighted count of the links of vertex i (lower triangle counted twice)"
    body = s.loop(i, "0", s.op(i, "<", n), ["int d = 0;", *inner, f"{out}[{i}] = d;"], typ="size_t",
                  decl_outside=False)
    params = [_vec(s, "int", A, False), _vec(s, "int", out, True), f"size_t {n}"]
    fn = s.function("void", f, params, body, doc)
    return f, _unit(s, _includes("cstddef", "vector"), [], [], fn), doc


@cpp_family("cpp_graph_csr", group="graph")
def _graph_csr(s: Style):
    f = s.fname(["neighbor", "vertex", "sum"], ["sums", "scores", "values"])
    off, col, val, out = s.name(["offsets", "rowPtr", "start", "xadj"]), s.name(["adj", "cols", "targets", "adjncy"]), \
        s.name(["score", "val", "x", "w"]), s.name(["out", "score_sum", "res"])
    i, k = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    ti = s.choice(["size_t", "int"])
    nb = f"{out}.size()" if ti == "size_t" else f"(int){out}.size()"
    inner = s.loop(k, f"{off}[{i}]", s.op(k, "<", f"{off}[{i} + 1]"), [f"acc += {val}[{col}[{k}]];"], typ="int",
                   decl_outside=False)
    body = s.loop(i, "0", s.op(i, "<", nb), ["double acc = 0.0;", *inner, f"{out}[{i}] = acc;"], typ=ti,
                  decl_outside=False)
    params = [_vec(s, "int", off, False), _vec(s, "int", col, False), _vec(s, "double", val, False),
              _vec(s, "double", out, True)]
    doc = f"{out}[v] = sum of {val} over the neighbours of v (CSR: {off}, {col})"
    fn = s.function("void", f, params, body, doc)
    return f, _unit(s, _includes("cstddef", "vector"), [], [], fn), doc


# ------------------------------------------------------------------ standard algorithms, range-for, std::array

@cpp_family("cpp_stl_algorithm", group="stl")
def _stl_algorithm(s: Style):
    x, y = s.name(["x", "in", "values", "data"]), s.name(["y", "out", "result"])
    c = s.name(_SCALARS)
    form = s.choice(["transform", "accumulate", "count_if", "transform2"])
    if form == "transform":
        f = s.fname(["apply", "map", "scale"], ["values", "all", "data"])
        body = [f"std::transform({x}.begin(), {x}.end(), {y}.begin(), [{c}](double v) {{ return v * {c} - 1.0; }});"]
        params, ret, doc = [_vec(s, "double", x, False), _vec(s, "double", y, True), f"double {c}"], "void", \
            f"{y} = {x} * {c} - 1"
    elif form == "transform2":
        z = s.name(["z", "b", "rhs"])
        f = s.fname(["add", "combine", "blend"], ["vectors", "arrays"])
        body = [f"std::transform({x}.begin(), {x}.end(), {z}.begin(), {y}.begin(),",
                f"               [](double a, double b) {{ return a + 0.5 * b; }});"]
        params, ret, doc = [_vec(s, "double", x, False), _vec(s, "double", z, False), _vec(s, "double", y, True)], \
            "void", f"{y} = {x} + {z} / 2"
    elif form == "accumulate":
        f = s.fname(["sum", "total", "l1"], ["norm", "values", "abs"])
        body = [f"return std::accumulate({x}.begin(), {x}.end(), 0.0,",
                f"                       [](double acc, double v) {{ return acc + (v < 0 ? -v : v); }});"]
        params, ret, doc = [_vec(s, "double", x, False)], "double", f"sum of |{x}|"
    else:
        f = s.fname(["count", "num"], ["above", "large", "hits"])
        body = [f"return (long)std::count_if({x}.begin(), {x}.end(), [{c}](double v) {{ return v > {c}; }});"]
        params, ret, doc = [_vec(s, "double", x, False), f"double {c}"], "long", f"number of elements of {x} above {c}"
    fn = s.function(ret, f, params, body, doc)
    return f, _unit(s, _includes("algorithm", "numeric", "vector"), [], [], fn), doc


@cpp_family("cpp_range_reduce", group="stl")
def _range_reduce(s: Style):
    t = s.choice(["double", "float", "int", "long"])
    f = s.fname(["sum", "total", "max", "count"], ["squares", "values", "positive", "peak"])
    xs = s.name(["xs", "values", "data", "samples"])
    kind = s.choice(["sumsq", "max", "count"] if t in ("double", "float") else ["sum", "max", "count"])
    ref = s.choice(["const auto &v", "auto v", f"{t} v", f"const {t} v"])
    acc_t = "double" if t in ("float", "double") else "long"
    if kind in ("sumsq", "sum"):
        upd, init, doc = ["acc += v * v;"] if kind == "sumsq" else ["acc += v;"], "0", \
            f"sum of {'squares of ' if kind == 'sumsq' else ''}the elements of {xs}"
    elif kind == "max":
        upd, init, doc = s.block("if (v > acc)", ["acc = v;"]), f"{xs}.empty() ? 0 : {xs}[0]", f"largest element of {xs}"
    else:
        upd, init, doc = s.block("if (v > 0)", ["acc++;"]), "0", f"number of positive elements of {xs}"
    body = [f"{acc_t} acc = {init};", *s.block(f"for ({ref} : {xs})", upd), "return acc;"]
    fn = s.function(acc_t, f, [_vec(s, t, xs, False)], body, doc)
    return f, _unit(s, _includes("cstddef", "vector"), [], [], fn), doc


@cpp_family("cpp_array_stencil", group="stencil")
def _array_stencil(s: Style):
    t = s.choice(["double", "float"])
    f = s.fname(["smooth", "blur", "filter", "convolve"], ["signal", "row", "line", "values"])
    x, y = s.name(["x", "in", "sig", "src"]), s.name(["y", "out", "dst"])
    i = s.name(_LOOPVARS)
    w = [s.choice([0.25, 0.2, 0.3]), 0.0, 0.0]
    w[2] = w[0]
    w[1] = round(1.0 - 2 * w[0], 3)
    arr = s.choice(["array", "c"])
    decl = (f"const std::array<{t}, 3> w = {{{', '.join(_lit(t, v) for v in w)}}};" if arr == "array"
            else f"const {t} w[3] = {{{', '.join(_lit(t, v) for v in w)}}};")
    ti = s.choice(["size_t", "int"])
    hi = f"{x}.size() - 1" if ti == "size_t" else f"(int){x}.size() - 1"
    inner = [f"{y}[{i}] = w[0] * {x}[{i} - 1] + w[1] * {x}[{i}] + w[2] * {x}[{i} + 1];"]
    body = [decl, *s.block(f"if ({x}.size() < 3)", ["return;"]),
            *s.loop(i, "1", s.op(i, "<", hi), inner, typ=ti, decl_outside=False)]
    doc = f"{y} = three-point weighted average of {x} (interior points)"
    fn = s.function("void", f, [_vec(s, t, x, False), _vec(s, t, y, True)], body, doc)
    inc = ("array", "cstddef", "vector") if arr == "array" else ("cstddef", "vector")
    return f, _unit(s, _includes(*inc), [], [], fn), doc


# ------------------------------------------------------------------ sequential on purpose

@cpp_family("cpp_running_struct", parallel=False, group="recurrence")
def _running_struct(s: Style):
    """A running state carried through a vector of structs: each element reads its predecessor."""
    B = s.choice(_PARTICLE)
    f = s.fname(["chain", "propagate", "relax"], ["positions", "bodies", "links"])
    ps = s.name(["ps", "chain", "bodies"])
    i = s.name(_LOOPVARS)
    c = _coef(s, "double")
    ti = s.choice(["size_t", "int"])
    body = s.loop(i, "1", s.op(i, "<", f"{ps}.size()" if ti == "size_t" else f"(int){ps}.size()"),
                  [f"{ps}[{i}].x = {ps}[{i} - 1].x + {c} * {ps}[{i}].v;"], typ=ti, decl_outside=False)
    doc = "each position is its predecessor's plus a step: a recurrence"
    fn = s.function("void", f, [_vec(s, B, ps, True)], body, doc)
    st = _struct(s, B, [("double", "x"), ("double", "v"), ("double", "m")])
    return f, _unit(s, _includes("cstddef", "vector"), [st], [], fn), doc

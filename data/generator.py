"""Randomized sequential C kernels for paralift's training corpus (issue 7).

`generate(family, seed) -> Kernel` is deterministic in (family, seed). Every
family draws its names (function, parameters, loop variables), element types,
loop shapes (for/while, `i++`/`++i`/`i += 1`, loop variable declared in or
before the loop, `int`/`long` counters), index expressions (row-major
`i*n+j`, reversed, strided, offset windows) and code style (brace placement,
compound or expanded assignments, temporaries, comment headers, `const`,
`T *p` or `T p[]`) from one seeded `random.Random`, so that the corpus does
not teach one template.

The kernels follow data/kernels/README.md's rules: one function (small static
helpers allowed), no main, no I/O, globals, rand(), timers or static state;
free of undefined behaviour for every input the tester derives from the
signature (index arrays in range, CSR offsets well formed, divisors non-zero,
integer accumulators wide enough). Families marked `parallel=False` are
there on purpose (recurrences, in-place scans, early exits, scatters with
repeated indices): a translator must leave them sequential.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Kernel", "FAMILIES", "family_names", "generate", "PARALLEL_FAMILIES"]


@dataclass
class Kernel:
    family: str
    seed: int
    function: str
    source: str
    language: str = "c"
    parallel: bool = True
    notes: str = ""
    style: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"family": self.family, "seed": self.seed, "function": self.function, "source": self.source,
                "language": self.language, "parallel": self.parallel, "notes": self.notes, "style": self.style}


# ------------------------------------------------------------------ style

_RESERVED = {"index", "div", "abs", "y0", "y1", "j0", "j1", "jn", "yn", "exp", "log", "pow", "sin", "cos", "max",
             "min", "sum", "time", "rand", "free", "new", "delete", "int", "long", "float", "double", "char",
             "signed", "unsigned", "short", "const", "for", "while", "if", "else", "do", "return", "void",
             "case", "switch", "default", "break", "continue", "static", "struct", "union", "enum", "auto",
             "register", "extern", "volatile", "sizeof", "typedef", "goto", "gamma", "erf", "round", "trunc",
             "floor", "ceil", "fabs", "sqrt", "remainder", "select", "signal", "link", "read", "write", "open",
             "close", "stat", "random", "main", "this", "kill", "wait", "exit", "sync", "clock", "bcmp", "bzero"}

_ARRAYS_IN = ["x", "a", "b", "src", "in", "inp", "u", "v", "w", "data", "vals", "input", "xs", "lhs", "rhs", "p",
              "q", "arr", "vec", "f", "g", "samples", "signal_in", "field", "source"]
_ARRAYS_OUT = ["y", "out", "dst", "res", "result", "r", "z", "output", "dest", "target", "acc", "buf", "ys", "o",
               "next", "fresh"]
_SIZES = ["n", "len", "count", "size", "num", "N", "length", "nelem", "total", "cnt", "sz"]
_LOOPVARS = ["i", "k", "idx", "ii", "e", "t", "p_", "pos", "el", "m_", "it"]
_LOOPVARS2 = ["j", "c", "jj", "col", "l", "s_", "q_", "kk"]
_LOOPVARS3 = ["h", "z_", "kz", "dd", "layer"]
_SCALARS = ["alpha", "a0", "s", "factor", "scale", "coef", "w0", "beta", "gain", "mult", "k0", "c0"]
_THRESH = ["threshold", "t0", "limit", "cut", "bound_val", "tau", "lvl", "pivot"]


class Style:
    """The random choices of one kernel, and helpers that apply them."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()
        self.allman = rng.random() < 0.3
        self.incr = rng.choice(["i++", "++i", "i += 1", "i++", "++i"])
        self.decl_outside = rng.random() < 0.25
        self.idx_type = rng.choice(["int", "int", "int", "long"])
        self.compound = rng.random() < 0.65
        self.const_in = rng.random() < 0.88
        self.brackets = rng.random() < 0.15       # T x[] instead of T *x
        self.comment = rng.choice(["none", "block", "line", "block"])
        self.snake = rng.random() < 0.7
        self.single_stmt_braces = rng.random() < 0.6
        self.spaces = rng.random() < 0.85           # "a * b" or "a*b"
        self.indent = rng.choice(["    ", "  ", "\t", "    "])

    def choice(self, xs):
        return self.rng.choice(xs)

    def name(self, pool: list[str]) -> str:
        cands = [p for p in pool if p not in self.used and p not in _RESERVED]
        if not cands:
            base = self.rng.choice(pool)
            k = 2
            while f"{base}{k}" in self.used:
                k += 1
            nm = f"{base}{k}"
        else:
            nm = self.rng.choice(cands)
        self.used.add(nm)
        return nm

    def fname(self, verbs: list[str], nouns: list[str]) -> str:
        v, nn = self.rng.choice(verbs), self.rng.choice(nouns)
        suffix = self.rng.choice(["", "", "", "_kernel", "_seq", "_ref", "_v2", "_fn", "_impl", "_cpu", "_f"])
        if self.snake:
            nm = f"{v}_{nn}{suffix}"
        else:
            nm = v + nn[:1].upper() + nn[1:] + "".join(w.title() for w in suffix.split("_") if w)
        while nm in self.used or nm in _RESERVED:
            nm += str(self.rng.randint(2, 9))
        self.used.add(nm)
        return nm

    def op(self, a: str, o: str, b: str) -> str:
        return f"{a} {o} {b}" if self.spaces else f"{a}{o}{b}"

    def ptr(self, ctype: str, name: str, const: bool | None = None) -> str:
        const = self.const_in if const is None else const
        c = "const " if const else ""
        return f"{c}{ctype} {name}[]" if self.brackets else f"{c}{ctype} *{name}"

    def assign_acc(self, lhs: str, op: str, rhs: str) -> str:
        """lhs op= rhs, compound or expanded."""
        if op in ("+", "-", "*", "|", "^", "&") and self.compound:
            return f"{lhs} {op}= {rhs};"
        return f"{lhs} = {lhs} {op} ({rhs});" if " " in rhs.strip() and op in ("-", "*") else f"{lhs} = {lhs} {op} {rhs};"

    def step(self, var: str) -> str:
        return self.incr.replace("i", var, 1) if self.incr != "i += 1" else f"{var} += 1"

    def loop(self, var: str, lo: str, cond: str, body: list[str], step: str | None = None,
             typ: str | None = None, decl_outside: bool | None = None) -> list[str]:
        """A for loop `for (T var = lo; cond; step)`; cond is the full test."""
        typ = typ or self.idx_type
        st = step or self.step(var)
        outside = self.decl_outside if decl_outside is None else decl_outside
        head = f"for ({var} = {lo}; {cond}; {st})" if outside else f"for ({typ} {var} = {lo}; {cond}; {st})"
        pre = [f"{typ} {var};"] if outside else []
        return pre + self.block(head, body)

    def block(self, head: str, body: list[str]) -> list[str]:
        ind = self.indent
        if len(body) == 1 and not self.single_stmt_braces and not body[0].rstrip().endswith(("{", "}")) \
                and not body[0].lstrip().startswith(("for", "if", "while", "int ", "long ", "double ", "float ")):
            return [head, ind + body[0]]
        if self.allman:
            return [head, "{", *[ind + b for b in body], "}"]
        return [head + " {", *[ind + b for b in body], "}"]

    def function(self, ret: str, name: str, params: list[str], body: list[str], doc: str,
                 includes: tuple[str, ...] = ()) -> str:
        lines = [f"#include <{h}>" for h in includes]
        if includes:
            lines.append("")
        if self.comment == "block":
            lines.append(f"/* {doc} */")
        elif self.comment == "line":
            lines.append(f"// {doc}")
        sig = f"{ret} {name}({', '.join(params)})"
        if len(sig) > 90 and self.rng.random() < 0.7:
            cut = len(params) // 2
            sig = f"{ret} {name}({', '.join(params[:cut])},\n{' ' * (len(ret) + len(name) + 2)}{', '.join(params[cut:])})"
        if self.allman or self.rng.random() < 0.3:
            lines += [sig, "{"]
        else:
            lines.append(sig + " {")
        lines += [self.indent + b for b in body]
        lines.append("}")
        return "\n".join(lines) + "\n"


def _fp(s: Style) -> str:
    return s.choice(["float", "double", "double"])


def _lit(ctype: str, v: float) -> str:
    txt = repr(float(v))
    if "e" not in txt and "." not in txt:
        txt += ".0"
    return txt + ("f" if ctype == "float" else "")


def _coef(s: Style, ctype: str) -> str:
    return _lit(ctype, s.choice([0.5, 0.25, 1.5, 2.0, 0.75, 0.125, 3.0, 0.3, 0.6, 1.25]))


# ------------------------------------------------------------------ families
# Each returns (function name, source, doc). `s` holds the style.

Family = Callable[[Style], tuple[str, str, str]]
FAMILIES: dict[str, tuple[Family, bool, str]] = {}


def family(name: str, parallel: bool = True, group: str = ""):
    def deco(fn: Family) -> Family:
        FAMILIES[name] = (fn, parallel, group or name.split("_")[0])
        return fn
    return deco


def _one_dim_map(s: Style, verbs, nouns, make_expr, n_in=1, with_scalar=False, doc="", ctype=None,
                 includes=(), out_type=None, inplace_ok=True):
    t = ctype or _fp(s)
    ot = out_type or t
    f = s.fname(verbs, nouns)
    n = s.name(_SIZES)
    ins = [s.name(_ARRAYS_IN) for _ in range(n_in)]
    sc = s.name(_SCALARS) if with_scalar else None
    i = s.name(_LOOPVARS)
    inplace = inplace_ok and n_in == 1 and s.rng.random() < 0.25 and ot == t
    out = ins[0] if inplace else s.name(_ARRAYS_OUT)
    expr = make_expr(s, [f"{a}[{i}]" for a in ins], sc, t)
    params = [f"int {n}"]
    if sc:
        params.append(f"{t} {sc}")
    if inplace:
        params.append(s.ptr(t, ins[0], const=False))
    else:
        params += [s.ptr(t, a) for a in ins] + [s.ptr(ot, out, const=False)]
    if s.rng.random() < 0.3:
        params = params[1:] + params[:1]
    shape = s.rng.random()
    if shape < 0.12 and not inplace:
        # while-loop form
        body = [f"{s.idx_type} {i} = 0;", *s.block(f"while ({i} < {n})", [f"{out}[{i}] = {expr};", s.step(i) + ";"])]
    elif shape < 0.25:
        # reversed traversal
        body = s.loop(i, s.op(n, "-", "1"), f"{i} >= 0", [f"{out}[{i}] = {expr};"], step=f"{i}--")
    else:
        body = s.loop(i, "0", s.op(i, "<", n), [f"{out}[{i}] = {expr};"])
    return f, s.function("void", f, params, body, doc, includes)


@family("map_axpy", group="map")
def _map_axpy(s: Style):
    t = _fp(s)
    f = s.fname(["axpy", "saxpy", "update", "blend", "scale_add", "fma"], ["vec", "arrays", "values", "data", "y"])
    n, a, x, y, i = s.name(_SIZES), s.name(_SCALARS), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT), s.name(_LOOPVARS)
    form = s.choice(["acc", "full", "tmp"])
    if form == "acc":
        stmt = [s.assign_acc(f"{y}[{i}]", "+", s.op(a, "*", f"{x}[{i}]"))]
    elif form == "full":
        stmt = [f"{y}[{i}] = {s.op(s.op(a, '*', f'{x}[{i}]'), '+', f'{y}[{i}]')};"]
    else:
        stmt = [f"{t} tmp = {s.op(a, '*', f'{x}[{i}]')};", f"{y}[{i}] = {s.op(f'{y}[{i}]', '+', 'tmp')};"]
    params = [f"int {n}", f"{t} {a}", s.ptr(t, x), s.ptr(t, y, const=False)]
    if s.rng.random() < 0.3:
        params = [params[0], params[2], params[1], params[3]]
    return f, s.function("void", f, params, s.loop(i, "0", s.op(i, "<", n), stmt), f"{y} = {a}*{x} + {y}")


@family("map_unary", group="map")
def _map_unary(s: Style):
    ops = [("fabs({0})", "absolute value"), ("sqrt(fabs({0}))", "square root of magnitude"),
           ("{0} * {0}", "square"), ("exp(-{0} * {0})", "gaussian"), ("1.0 / (1.0 + exp(-{0}))", "logistic"),
           ("sin({0}) + cos({0})", "sin plus cos"), ("tanh({0})", "tanh"), ("{0} * {0} * {0} - {0}", "cubic")]
    form, doc = s.choice(ops)
    return _one_dim_map(s, ["apply", "map", "transform", "compute", "eval"], ["abs", "sqrt", "sq", "gauss", "sigmoid",
                                                                             "trig", "act", "cubic", "values"],
                        lambda s, xs, sc, t: form.format(xs[0]), doc=doc, ctype="double", includes=("math.h",))


@family("map_binary", group="map")
def _map_binary(s: Style):
    o = s.choice(["+", "-", "*"])
    nin = s.choice([2, 2, 3])
    def expr(s, xs, sc, t):
        e = s.op(xs[0], o, xs[1])
        if len(xs) == 3:
            e = s.op(f"({e})" if o != "*" else e, "*", xs[2])
        return e
    return _one_dim_map(s, ["add", "combine", "sub", "mul", "merge", "elementwise"], ["vectors", "arrays", "vals", "pair"],
                        expr, n_in=nin, doc=f"elementwise {o} of {nin} arrays")


@family("map_clamp", group="map")
def _map_clamp(s: Style):
    def expr(s, xs, sc, t):
        x = xs[0]
        return s.choice([f"({x} > {sc} ? {sc} : ({x} < -{sc} ? -{sc} : {x}))", f"({x} < 0 ? {sc} * {x} : {x})",
                         f"({x} > {sc} ? {x} : 0)"])
    return _one_dim_map(s, ["clamp", "clip", "leaky_relu", "threshold", "saturate", "cap"], ["values", "vec", "data", "signal"],
                        expr, with_scalar=True, doc="branchy elementwise map with a scalar parameter")


@family("map_poly", group="map")
def _map_poly(s: Style):
    deg = s.rng.randint(2, 5)
    coefs = [round(s.rng.uniform(-2, 2), 2) for _ in range(deg + 1)]
    def expr(s, xs, sc, t):
        x = xs[0]
        e = _lit(t, coefs[-1])
        for c in reversed(coefs[:-1]):
            e = f"({e}) * {x} + {_lit(t, c)}" if s.rng.random() < 0.5 else s.op(f"({e})", "*", x) + f" + {_lit(t, c)}"
        return e
    return _one_dim_map(s, ["poly", "horner", "eval_poly", "polynomial"], ["eval", "map", "curve", "fit"], expr,
                        doc=f"degree-{deg} polynomial in Horner form")


@family("map_strided", group="map")
def _map_strided(s: Style):
    """Index expressions: out[2*i] / out[n-1-i] / pairs."""
    t = _fp(s)
    f = s.fname(["interleave", "reverse", "deinterleave", "pack", "mirror"], ["pairs", "vec", "array", "complex"])
    n, x, y, i = s.name(_SIZES), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT), s.name(_LOOPVARS)
    kind = s.choice(["reverse", "pairsum", "interleave"])
    if kind == "reverse":
        body = s.loop(i, "0", s.op(i, "<", n), [f"{y}[{i}] = {x}[{n} - 1 - {i}];"])
        params = [f"int {n}", s.ptr(t, x), s.ptr(t, y, const=False)]
        doc = "reversed copy"
        return f, s.function("void", f, params, body, doc)
    if kind == "pairsum":
        body = s.loop(i, "0", s.op(i, "<", n), [f"{y}[{i}] = {x}[2 * {i}] + {x}[2 * {i} + 1];"])
        doc = f"{y}[i] = {x}[2i] + {x}[2i+1]; {x} has 2*{n} elements"
    else:
        body = s.loop(i, "0", s.op(i, "<", n), [f"{y}[2 * {i}] = {x}[{i}];", f"{y}[2 * {i} + 1] = -{x}[{i}];"])
        doc = f"{y}[2i] = {x}[i], {y}[2i+1] = -{x}[i]"
    params = [f"int {n}", s.ptr(t, x), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, doc)


def _reduction(s: Style, verbs, nouns, init, update, ret_type=None, in_type=None, doc="", includes=(),
               n_in=1, finish=None):
    t = in_type or _fp(s)
    rt = ret_type or t
    f = s.fname(verbs, nouns)
    n = s.name(_SIZES)
    ins = [s.name(_ARRAYS_IN) for _ in range(n_in)]
    i = s.name(_LOOPVARS)
    acc = s.name(["acc", "total", "result", "r", "best", "agg", "accum", "val", "tally"])
    body = [f"{rt} {acc} = {init(t)};"]
    body += s.loop(i, "0", s.op(i, "<", n), update(s, acc, [f"{a}[{i}]" for a in ins], t))
    body.append(f"return {finish(acc) if finish else acc};")
    params = [f"int {n}"] + [s.ptr(t, a) for a in ins]
    if s.rng.random() < 0.3:
        params = params[1:] + params[:1]
    return f, s.function(rt, f, params, body, doc, includes)


@family("reduce_sum", group="reduction")
def _reduce_sum(s: Style):
    return _reduction(s, ["sum", "total", "accumulate", "add_up", "reduce"], ["values", "array", "elems", "vec"],
                      lambda t: _lit(t, 0), lambda s, acc, xs, t: [s.assign_acc(acc, "+", xs[0])], doc="sum")


@family("reduce_prod", group="reduction")
def _reduce_prod(s: Style):
    return _reduction(s, ["product", "prod", "multiply"], ["values", "factors", "terms", "all"],
                      lambda t: _lit(t, 1), lambda s, acc, xs, t: [s.assign_acc(acc, "*", s.op("1.0", "+", f"0.5 * {xs[0]}"))],
                      ret_type="double", in_type="double", doc="product of (1 + x/2)")


@family("reduce_max", group="reduction")
def _reduce_max(s: Style):
    def upd(s, acc, xs, t):
        return s.choice([[f"if ({xs[0]} > {acc}) {acc} = {xs[0]};"], [f"{acc} = {xs[0]} > {acc} ? {xs[0]} : {acc};"],
                         [f"{acc} = fmax({acc}, {xs[0]});"]])
    t = s.choice(["double", "float", "int"])
    init = {"double": lambda t: "-1e300", "float": lambda t: "-1e30f", "int": lambda t: "-2147483647 - 1"}[t]
    def upd_t(s, acc, xs, tt):
        u = upd(s, acc, xs, tt)
        return [l.replace("fmax", "fmaxf") for l in u] if tt == "float" else (
            [f"if ({xs[0]} > {acc}) {acc} = {xs[0]};"] if tt == "int" else u)
    return _reduction(s, ["max", "maximum", "largest", "peak"], ["value", "elem", "of", "entry"], init, upd_t,
                      in_type=t, doc="maximum", includes=("math.h",))


@family("reduce_min", group="reduction")
def _reduce_min(s: Style):
    t = s.choice(["double", "float", "int", "long"])
    init = {"double": "1e300", "float": "1e30f", "int": "2147483647", "long": "9223372036854775807L"}[t]
    def upd(s, acc, xs, tt):
        return s.choice([[f"if ({xs[0]} < {acc}) {acc} = {xs[0]};"], [f"{acc} = {xs[0]} < {acc} ? {xs[0]} : {acc};"]])
    return _reduction(s, ["min", "minimum", "smallest", "lowest"], ["value", "elem", "of", "entry"],
                      lambda tt: init, upd, in_type=t, doc="minimum")


@family("reduce_dot", group="reduction")
def _reduce_dot(s: Style):
    return _reduction(s, ["dot", "inner", "dotprod", "correlate"], ["product", "vecs", "pair", "xy"],
                      lambda t: _lit(t, 0), lambda s, acc, xs, t: [s.assign_acc(acc, "+", s.op(xs[0], "*", xs[1]))],
                      n_in=2, doc="dot product")


@family("reduce_count", group="reduction")
def _reduce_count(s: Style):
    t = s.choice(["double", "float", "int"])
    thr = s.choice(["0", "1"]) if t == "int" else s.choice(["0.5", "0.0", "-0.25", "0.1"])
    cmp_ = s.choice([">", "<", ">=", "<="])
    def upd(s, acc, xs, tt):
        return s.choice([[f"if ({xs[0]} {cmp_} {thr}) {acc}++;"], [f"{acc} += ({xs[0]} {cmp_} {thr});"],
                         [f"if ({xs[0]} {cmp_} {thr}) {acc} += 1;"]])
    return _reduction(s, ["count", "num", "tally"], ["above", "below", "matching", "hits", "positive"],
                      lambda tt: "0", upd, ret_type=s.choice(["int", "long"]), in_type=t, doc=f"count x {cmp_} {thr}")


@family("reduce_logical", group="reduction")
def _reduce_logical(s: Style):
    kind = s.choice(["all", "any"])
    t = s.choice(["double", "int", "float"])
    thr = "0" if t == "int" else "0.0"
    cmp_ = s.choice([">", "<", ">=", "!="])
    if kind == "all":
        upd = lambda s, acc, xs, tt: [f"{acc} = {acc} && ({xs[0]} {cmp_} {thr});"]
        init = lambda tt: "1"
    else:
        upd = lambda s, acc, xs, tt: [f"{acc} = {acc} || ({xs[0]} {cmp_} {thr});"]
        init = lambda tt: "0"
    return _reduction(s, [kind, f"{kind}_of", f"check_{kind}"], ["positive", "set", "match", "valid"],
                      init, upd, ret_type="int", in_type=t, doc=f"{kind}(x {cmp_} {thr})")


@family("reduce_bitwise", group="reduction")
def _reduce_bitwise(s: Style):
    o = s.choice(["^", "|", "&"])
    init = "0" if o != "&" else "-1"
    return _reduction(s, ["xor", "or", "and", "mask", "fold"], ["bits", "flags", "words", "checksum"],
                      lambda t: init, lambda s, acc, xs, t: [s.assign_acc(acc, o, xs[0])], in_type=s.choice(["int", "unsigned int", "long"]),
                      doc=f"bitwise {o} reduction")


@family("reduce_norm", group="reduction")
def _reduce_norm(s: Style):
    kind = s.choice(["l2sq", "l1", "l2"])
    upd = {"l2sq": lambda s, acc, xs, t: [s.assign_acc(acc, "+", s.op(xs[0], "*", xs[0]))],
           "l1": lambda s, acc, xs, t: [s.assign_acc(acc, "+", f"fabs({xs[0]})")],
           "l2": lambda s, acc, xs, t: [s.assign_acc(acc, "+", s.op(xs[0], "*", xs[0]))]}[kind]
    return _reduction(s, ["norm", "energy", "magnitude", "length"], ["l1", "l2", "vec", "sq"], lambda t: _lit(t, 0), upd,
                      in_type="double", doc=kind, includes=("math.h",), finish=(lambda a: f"sqrt({a})") if kind == "l2" else None)


@family("reduce_mean_abs_diff", group="reduction")
def _reduce_mad(s: Style):
    return _reduction(s, ["mean_abs_diff", "l1_dist", "sad", "distance"], ["err", "vecs", "pair"], lambda t: _lit(t, 0),
                      lambda s, acc, xs, t: [f"{t} d = {s.op(xs[0], '-', xs[1])};", s.assign_acc(acc, "+", "(d < 0 ? -d : d)")],
                      n_in=2, doc="sum of absolute differences")


@family("stencil_1d", group="stencil")
def _stencil_1d(s: Style):
    t = _fp(s)
    f = s.fname(["jacobi", "smooth", "stencil", "diffuse", "relax", "average"], ["1d", "line", "rod", "step"])
    n, x, y, i = s.name(_SIZES), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT), s.name(_LOOPVARS)
    r = s.choice([1, 1, 2])
    ws = [_coef(s, t) for _ in range(2 * r + 1)]
    terms = [f"{ws[k + r]} * {x}[{i}{'+' if k > 0 else '-'}{abs(k)}]" if k else f"{ws[r]} * {x}[{i}]" for k in range(-r, r + 1)]
    expr = " + ".join(terms)
    body = s.loop(i, str(r), s.op(i, "<", s.op(n, "-", str(r))), [f"{y}[{i}] = {expr};"])
    params = [f"int {n}", s.ptr(t, x), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, f"{2 * r + 1}-point stencil on the interior")


@family("stencil_2d", group="stencil")
def _stencil_2d(s: Style):
    t = _fp(s)
    f = s.fname(["jacobi", "smooth", "laplace", "heat", "relax", "blur"], ["2d", "grid", "plate", "step"])
    rows, cols = s.name(["n", "rows", "ny", "h", "height", "nr"]), s.name(["m", "cols", "nx", "w", "width", "nc"])
    a, b = s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    at = lambda di, dj: f"{a}[({i}{di:+d}) * {cols} + {j}{dj:+d}]".replace("+0", "").replace("(" + i + ")", i)
    kind = s.choice(["5pt", "9pt"])
    if kind == "5pt":
        expr = f"{_coef(s, t)} * ({at(-1, 0)} + {at(1, 0)} + {at(0, -1)} + {at(0, 1)}) + {_coef(s, t)} * {at(0, 0)}"
    else:
        expr = " + ".join(at(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1))
        expr = f"({expr}) / {_lit(t, 9)}"
    inner = s.loop(j, "1", s.op(j, "<", s.op(cols, "-", "1")), [f"{b}[{i} * {cols} + {j}] = {expr};"])
    body = s.loop(i, "1", s.op(i, "<", s.op(rows, "-", "1")), inner)
    params = [f"int {rows}", f"int {cols}", s.ptr(t, a), s.ptr(t, b, const=False)]
    return f, s.function("void", f, params, body, f"{kind} stencil on the interior of a {rows} x {cols} grid")


@family("stencil_3d", group="stencil")
def _stencil_3d(s: Style):
    t = _fp(s)
    f = s.fname(["stencil", "heat", "diffuse", "laplace"], ["3d", "cube", "volume"])
    n = s.name(["n", "dim", "side", "edge"])
    a, b = s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    i, j, k = s.name(_LOOPVARS), s.name(_LOOPVARS2), s.name(_LOOPVARS3)
    ix = lambda di, dj, dk: f"{a}[(({i}{di:+d}) * {n} + ({j}{dj:+d})) * {n} + ({k}{dk:+d})]".replace("+0", "")
    c0, c1 = _coef(s, t), _coef(s, t)
    expr = f"{c0} * {ix(0, 0, 0)} + {c1} * ({ix(-1, 0, 0)} + {ix(1, 0, 0)} + {ix(0, -1, 0)} + {ix(0, 1, 0)} + {ix(0, 0, -1)} + {ix(0, 0, 1)})"
    inner = s.loop(k, "1", f"{k} < {n} - 1", [f"{b}[({i} * {n} + {j}) * {n} + {k}] = {expr};"])
    mid = s.loop(j, "1", f"{j} < {n} - 1", inner)
    body = s.loop(i, "1", f"{i} < {n} - 1", mid)
    params = [f"int {n}", s.ptr(t, a), s.ptr(t, b, const=False)]
    return f, s.function("void", f, params, body, "7-point stencil on an n^3 grid")


@family("matvec", group="linear_algebra")
def _matvec(s: Style):
    t = _fp(s)
    f = s.fname(["matvec", "gemv", "mv", "apply_matrix", "multiply"], ["rowmajor", "dense", "mat", "op"])
    rows, cols = s.name(["n", "rows", "m", "nrows"]), s.name(["k", "cols", "ncols", "p_"])
    A, x, y = s.name(["A", "mat", "M", "a", "W"]), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    acc = s.name(["acc", "dot", "sum_", "tmp", "r_"])
    inner = s.loop(j, "0", s.op(j, "<", cols), [s.assign_acc(acc, "+", s.op(f"{A}[{i} * {cols} + {j}]", "*", f"{x}[{j}]"))])
    body = s.loop(i, "0", s.op(i, "<", rows), [f"{t} {acc} = {_lit(t, 0)};", *inner, f"{y}[{i}] = {acc};"])
    params = [f"int {rows}", f"int {cols}", s.ptr(t, A), s.ptr(t, x), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, "y = A x, A row-major rows x cols")


@family("matmul", group="linear_algebra")
def _matmul(s: Style):
    t = _fp(s)
    f = s.fname(["matmul", "gemm", "mm", "multiply"], ["square", "dense", "naive", "ijk"])
    n = s.name(["n", "N", "dim", "size"])
    A, B, C = s.name(["A", "a", "lhs", "X"]), s.name(["B", "b", "rhs", "Y"]), s.name(["C", "c", "prod", "Z"])
    i, j, k = s.name(_LOOPVARS), s.name(_LOOPVARS2), s.name(_LOOPVARS3)
    acc = s.name(["acc", "sum_", "dot", "tmp"])
    inner = s.loop(k, "0", s.op(k, "<", n), [s.assign_acc(acc, "+", s.op(f"{A}[{i} * {n} + {k}]", "*", f"{B}[{k} * {n} + {j}]"))])
    mid = s.loop(j, "0", s.op(j, "<", n), [f"{t} {acc} = {_lit(t, 0)};", *inner, f"{C}[{i} * {n} + {j}] = {acc};"])
    body = s.loop(i, "0", s.op(i, "<", n), mid)
    params = [f"int {n}", s.ptr(t, A), s.ptr(t, B), s.ptr(t, C, const=False)]
    return f, s.function("void", f, params, body, "C = A B for n x n row-major matrices")


@family("transpose", group="linear_algebra")
def _transpose(s: Style):
    t = s.choice(["double", "float", "int"])
    f = s.fname(["transpose", "flip", "swap_axes"], ["matrix", "mat", "tile", "grid"])
    r, c = s.name(["rows", "n", "h", "nr"]), s.name(["cols", "m", "w", "nc"])
    a, b = s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    inner = s.loop(j, "0", s.op(j, "<", c), [f"{b}[{j} * {r} + {i}] = {a}[{i} * {c} + {j}];"])
    body = s.loop(i, "0", s.op(i, "<", r), inner)
    params = [f"int {r}", f"int {c}", s.ptr(t, a), s.ptr(t, b, const=False)]
    return f, s.function("void", f, params, body, "out = in^T")


@family("matrix_map2d", group="linear_algebra")
def _matrix_map2d(s: Style):
    t = _fp(s)
    f = s.fname(["scale_add", "axpby", "combine", "blend"], ["matrix", "mats", "images", "planes"])
    r, c = s.name(["rows", "n", "h", "ny"]), s.name(["cols", "m", "w", "nx"])
    a, b, o = s.name(_ARRAYS_IN), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    al, be = s.name(_SCALARS), s.name(_SCALARS)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    inner = s.loop(j, "0", s.op(j, "<", c), [f"{o}[{i} * {c} + {j}] = {al} * {a}[{i} * {c} + {j}] + {be} * {b}[{i} * {c} + {j}];"])
    body = s.loop(i, "0", s.op(i, "<", r), inner)
    params = [f"int {r}", f"int {c}", f"{t} {al}", f"{t} {be}", s.ptr(t, a), s.ptr(t, b), s.ptr(t, o, const=False)]
    return f, s.function("void", f, params, body, "out = alpha*A + beta*B")


@family("outer_product", group="linear_algebra")
def _outer(s: Style):
    t = _fp(s)
    f = s.fname(["outer", "rank1", "ger", "outer_product"], ["update", "product", "add"])
    r, c = s.name(["n", "rows", "m"]), s.name(["k", "cols", "p_"])
    x, y, A = s.name(_ARRAYS_IN), s.name(_ARRAYS_IN), s.name(["A", "M", "mat", "G"])
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    inner = s.loop(j, "0", s.op(j, "<", c), [s.assign_acc(f"{A}[{i} * {c} + {j}]", "+", s.op(f"{x}[{i}]", "*", f"{y}[{j}]"))])
    body = s.loop(i, "0", s.op(i, "<", r), inner)
    params = [f"int {r}", f"int {c}", s.ptr(t, x), s.ptr(t, y), s.ptr(t, A, const=False)]
    return f, s.function("void", f, params, body, "A += x y^T")


@family("spmv_csr", group="sparse")
def _spmv_csr(s: Style):
    t = _fp(s)
    f = s.fname(["spmv", "csr_mv", "sparse_mv", "csrmv"], ["csr", "matrix", "apply", "rows"])
    n = s.name(["n", "nrows", "rows", "m"])
    rp, ci, va = s.name(["rowptr", "row_ptr", "offsets", "ptr", "rp"]), s.name(["col", "cols", "colidx", "ci", "ja"]), \
        s.name(["val", "vals", "values", "nz", "aa"])
    x, y = s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    acc = s.name(["acc", "dot", "sum_", "tmp"])
    inner = s.loop(j, f"{rp}[{i}]", s.op(j, "<", f"{rp}[{i} + 1]"), [s.assign_acc(acc, "+", s.op(f"{va}[{j}]", "*", f"{x}[{ci}[{j}]]"))], typ="int")
    body = s.loop(i, "0", s.op(i, "<", n), [f"{t} {acc} = {_lit(t, 0)};", *inner, f"{y}[{i}] = {acc};"], typ="int")
    params = [f"int {n}", s.ptr("int", rp, True), s.ptr("int", ci, True), s.ptr(t, va), s.ptr(t, x), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, "y = A x, A square in CSR")


@family("spmv_ell", group="sparse")
def _spmv_ell(s: Style):
    t = _fp(s)
    f = s.fname(["spmv", "ell_mv", "ellpack_mv", "sparse_apply"], ["ell", "ellpack", "padded"])
    n, w = s.name(["n", "nrows", "rows"]), s.name(["width", "k", "nnz_row", "kmax"])
    ci, va = s.name(["cols", "colidx", "ci", "ja"]), s.name(["vals", "values", "nz", "aa"])
    x, y = s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    acc = s.name(["acc", "dot", "sum_", "tmp"])
    inner = s.loop(j, "0", s.op(j, "<", w), [s.assign_acc(acc, "+", s.op(f"{va}[{i} * {w} + {j}]", "*", f"{x}[{ci}[{i} * {w} + {j}]]"))], typ="int")
    body = s.loop(i, "0", s.op(i, "<", n), [f"{t} {acc} = {_lit(t, 0)};", *inner, f"{y}[{i}] = {acc};"], typ="int")
    params = [f"int {n}", f"int {w}", s.ptr("int", ci, True), s.ptr(t, va), s.ptr(t, x), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, "y = A x, A square in ELL (width entries per row, column indices < n)")


@family("histogram", group="histogram")
def _histogram(s: Style):
    f = s.fname(["histogram", "count_bins", "bin_count", "tally"], ["ids", "labels", "keys", "bins"])
    n, nb = s.name(_SIZES), s.name(["nbins", "bins", "nb", "buckets", "k"])
    key, h = s.name(["bin", "key", "label", "ids", "cls"]), s.name(["hist", "counts", "freq", "h"])
    i, b = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    ct = s.choice(["int", "long", "unsigned int"])
    clear = s.loop(b, "0", s.op(b, "<", nb), [f"{h}[{b}] = 0;"])
    upd = s.choice([f"{h}[{key}[{i}]]++;", f"{h}[{key}[{i}]] += 1;", f"++{h}[{key}[{i}]];"])
    body = clear + s.loop(i, "0", s.op(i, "<", n), [upd])
    params = [f"int {n}", f"int {nb}", s.ptr("int", key, True), s.ptr(ct, h, const=False)]
    return f, s.function("void", f, params, body, "count occurrences of each bin index")


@family("histogram_weighted", group="histogram")
def _histogram_w(s: Style):
    t = s.choice(["double", "float", "long"])
    f = s.fname(["accumulate", "weighted_hist", "segment_sum", "bin_sum"], ["weights", "by_key", "bins", "mass"])
    n, nb = s.name(_SIZES), s.name(["nbins", "nseg", "nb", "k"])
    key, w, h = s.name(["bin", "key", "seg", "ids"]), s.name(["w", "weight", "mass", "v"]), s.name(["hist", "sums", "out", "h"])
    i = s.name(_LOOPVARS)
    body = s.loop(i, "0", s.op(i, "<", n), [s.assign_acc(f"{h}[{key}[{i}]]", "+", f"{w}[{i}]")])
    params = [f"int {n}", f"int {nb}", s.ptr("int", key, True), s.ptr(t, w), s.ptr(t, h, const=False)]
    return f, s.function("void", f, params, body, "h[key[i]] += w[i] (h is accumulated, not cleared)")


@family("scan_quadratic", group="scan")
def _scan_quadratic(s: Style):
    t = _fp(s)
    f = s.fname(["prefix", "cumsum", "running", "inclusive_scan", "partial_sums"], ["sums", "total", "naive", "quadratic"])
    n, x, y = s.name(_SIZES), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    acc = s.name(["acc", "run", "tmp", "partial"])
    incl = s.choice(["<=", "<"])
    inner = s.loop(j, "0", f"{j} {incl} {i}", [s.assign_acc(acc, "+", f"{x}[{j}]")])
    body = s.loop(i, "0", s.op(i, "<", n), [f"{t} {acc} = {_lit(t, 0)};", *inner, f"{y}[{i}] = {acc};"])
    params = [f"int {n}", s.ptr(t, x), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, f"{'inclusive' if incl == '<=' else 'exclusive'} prefix sums, O(n^2) form")


@family("scan_inplace", parallel=False, group="scan")
def _scan_inplace(s: Style):
    t = s.choice(["double", "float", "long"])
    f = s.fname(["prefix", "cumsum", "scan", "running"], ["inplace", "sum", "max", "total"])
    n, x, i = s.name(_SIZES), s.name(_ARRAYS_OUT), s.name(_LOOPVARS)
    kind = s.choice(["sum", "max"])
    stmt = s.assign_acc(f"{x}[{i}]", "+", f"{x}[{i} - 1]") if kind == "sum" else \
        f"if ({x}[{i} - 1] > {x}[{i}]) {x}[{i}] = {x}[{i} - 1];"
    body = s.loop(i, "1", s.op(i, "<", n), [stmt])
    return f, s.function("void", f, [f"int {n}", s.ptr(t, x, const=False)], body, f"in-place running {kind} (sequential)")


@family("gather", group="gather_scatter")
def _gather(s: Style):
    t = s.choice(["double", "float", "int"])
    f = s.fname(["gather", "permute", "lookup", "take", "select"], ["values", "by_index", "rows", "entries"])
    n, m = s.name(_SIZES), s.name(["m", "nsrc", "table_len", "k"])
    ix, src, dst = s.name(["idx", "perm", "map", "ids", "where"]), s.name(["src", "table", "lut", "from"]), s.name(_ARRAYS_OUT)
    i = s.name(_LOOPVARS)
    params = [f"int {n}", f"int {m}", s.ptr("int", ix, True), s.ptr(t, src), s.ptr(t, dst, const=False)]
    body = s.loop(i, "0", s.op(i, "<", n), [f"{dst}[{i}] = {src}[{ix}[{i}]];"])
    return f, s.function("void", f, params, body, f"{dst}[i] = {src}[{ix}[i]], {ix} values in [0, {m})")


@family("scatter_add", parallel=False, group="gather_scatter")
def _scatter(s: Style):
    t = s.choice(["double", "float", "int"])
    f = s.fname(["scatter", "place", "put", "store"], ["values", "by_index", "to_slots"])
    n, m = s.name(_SIZES), s.name(["m", "ndst", "slots", "k"])
    ix, src, dst = s.name(["idx", "pos", "slot", "ids"]), s.name(_ARRAYS_IN), s.name(["dst", "table", "bucket", "out"])
    i = s.name(_LOOPVARS)
    params = [f"int {n}", f"int {m}", s.ptr("int", ix, True), s.ptr(t, src), s.ptr(t, dst, const=False)]
    body = s.loop(i, "0", s.op(i, "<", n), [f"{dst}[{ix}[{i}]] = {src}[{i}];"])
    return f, s.function("void", f, params, body, "scatter with possibly repeated indices: the last write wins (sequential)")


@family("sort_network", group="sorting")
def _sort_network(s: Style):
    t = s.choice(["double", "float", "int"])
    f = s.fname(["compare_exchange", "sort_pairs", "bitonic_step", "minmax"], ["pairs", "stage", "split", "lanes"])
    n, a, lo, hi = s.name(_SIZES), s.name(_ARRAYS_IN), s.name(["lo", "mins", "low"]), s.name(["hi", "maxs", "high"])
    i = s.name(_LOOPVARS)
    tmp1, tmp2 = s.name(["u_", "first", "left"]), s.name(["v_", "second", "right"])
    body = s.loop(i, "0", s.op(i, "<", n), [f"{t} {tmp1} = {a}[2 * {i}];", f"{t} {tmp2} = {a}[2 * {i} + 1];",
                                             f"{lo}[{i}] = {tmp1} < {tmp2} ? {tmp1} : {tmp2};",
                                             f"{hi}[{i}] = {tmp1} < {tmp2} ? {tmp2} : {tmp1};"])
    params = [f"int {n}", s.ptr(t, a), s.ptr(t, lo, const=False), s.ptr(t, hi, const=False)]
    return f, s.function("void", f, params, body, "one compare-exchange stage of a sorting network on n pairs")


@family("sort_bubble", parallel=False, group="sorting")
def _sort_bubble(s: Style):
    t = s.choice(["double", "int", "float"])
    f = s.fname(["bubble_sort", "sort_inplace", "exchange_sort"], ["array", "values", "keys"])
    n, a, ph, i = s.name(_SIZES), s.name(_ARRAYS_OUT), s.name(["phase", "round", "pass_"]), s.name(_LOOPVARS)
    swap = f"if ({a}[{i}] > {a}[{i} + 1]) {{ {t} tmp = {a}[{i}]; {a}[{i}] = {a}[{i} + 1]; {a}[{i} + 1] = tmp; }}"
    inner = s.loop(i, "0", s.op(i, "<", s.op(s.op(n, "-", "1"), "-", ph)), [swap], decl_outside=False)
    body = s.loop(ph, "0", s.op(ph, "<", n), inner)
    return f, s.function("void", f, [f"int {n}", s.ptr(t, a, const=False)], body,
                         "bubble sort (passes depend on each other: sequential)")


@family("conv1d", group="convolution")
def _conv1d(s: Style):
    t = _fp(s)
    f = s.fname(["conv", "convolve", "filter", "correlate", "fir"], ["1d", "valid", "signal", "taps"])
    n, k = s.name(["n", "len", "nout", "count"]), s.name(["k", "taps", "klen", "width"])
    x, w, y = s.name(_ARRAYS_IN), s.name(["w", "kernel", "h", "coeffs", "taps_"]), s.name(_ARRAYS_OUT)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    acc = s.name(["acc", "sum_", "tmp", "dot"])
    inner = s.loop(j, "0", s.op(j, "<", k), [s.assign_acc(acc, "+", s.op(f"{w}[{j}]", "*", f"{x}[{i} + {j}]"))])
    body = s.loop(i, "0", s.op(i, "<", n), [f"{t} {acc} = {_lit(t, 0)};", *inner, f"{y}[{i}] = {acc};"])
    params = [f"int {n}", f"int {k}", s.ptr(t, x), s.ptr(t, w), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, f"valid correlation: {x} has {n}+{k}-1 elements")


@family("conv2d", group="convolution")
def _conv2d(s: Style):
    t = _fp(s)
    f = s.fname(["conv2d", "filter3x3", "convolve", "apply_kernel"], ["image", "img", "plane", "frame"])
    h, w = s.name(["h", "rows", "height", "ny"]), s.name(["w", "cols", "width", "nx"])
    img, ker, out = s.name(["img", "image", "src", "pix"]), s.name(["kern", "weights", "filt", "mask"]), s.name(_ARRAYS_OUT)
    i, j, di, dj = s.name(_LOOPVARS), s.name(_LOOPVARS2), s.name(["di", "u", "dy"]), s.name(["dj", "v_", "dx"])
    acc = s.name(["acc", "sum_", "tmp"])
    inner2 = s.loop(dj, "0", f"{dj} < 3", [s.assign_acc(acc, "+", f"{ker}[{di} * 3 + {dj}] * {img}[({i} + {di}) * ({w} + 2) + {j} + {dj}]")])
    inner1 = s.loop(di, "0", f"{di} < 3", inner2)
    mid = s.loop(j, "0", s.op(j, "<", w), [f"{t} {acc} = {_lit(t, 0)};", *inner1, f"{out}[{i} * {w} + {j}] = {acc};"])
    body = s.loop(i, "0", s.op(i, "<", h), mid)
    params = [f"int {h}", f"int {w}", s.ptr(t, img), s.ptr(t, ker), s.ptr(t, out, const=False)]
    return f, s.function("void", f, params, body, "3x3 filter over a (h+2) x (w+2) padded image")


@family("image_threshold", group="image")
def _image_threshold(s: Style):
    f = s.fname(["threshold", "binarize", "mask", "segment"], ["image", "pixels", "frame", "gray"])
    h, w = s.name(["h", "rows", "height"]), s.name(["w", "cols", "width"])
    img, out, th = s.name(["img", "gray", "src", "pix"]), s.name(["mask", "out", "bin", "dst"]), s.name(_THRESH)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    t = s.choice(["float", "double"])
    inner = s.loop(j, "0", s.op(j, "<", w), [f"{out}[{i} * {w} + {j}] = {img}[{i} * {w} + {j}] > {th} ? 1 : 0;"])
    body = s.loop(i, "0", s.op(i, "<", h), inner)
    params = [f"int {h}", f"int {w}", f"{t} {th}", s.ptr(t, img), s.ptr("int", out, const=False)]
    return f, s.function("void", f, params, body, "binary threshold of an h x w image")


@family("image_gradient", group="image")
def _image_gradient(s: Style):
    t = _fp(s)
    f = s.fname(["gradient", "sobel_mag", "edges", "grad_mag"], ["image", "frame", "gray"])
    h, w = s.name(["h", "rows", "height"]), s.name(["w", "cols", "width"])
    img, out = s.name(["img", "src", "pix"]), s.name(["mag", "out", "edge"])
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    gx, gy = s.name(["gx", "dxv", "hx"]), s.name(["gy", "dyv", "hy"])
    inner = s.loop(j, "1", f"{j} < {w} - 1", [
        f"{t} {gx} = {img}[{i} * {w} + {j} + 1] - {img}[{i} * {w} + {j} - 1];",
        f"{t} {gy} = {img}[({i} + 1) * {w} + {j}] - {img}[({i} - 1) * {w} + {j}];",
        f"{out}[{i} * {w} + {j}] = {gx} * {gx} + {gy} * {gy};"])
    body = s.loop(i, "1", f"{i} < {h} - 1", inner)
    params = [f"int {h}", f"int {w}", s.ptr(t, img), s.ptr(t, out, const=False)]
    return f, s.function("void", f, params, body, "squared central-difference gradient magnitude on the interior")


@family("nbody", group="nbody")
def _nbody(s: Style):
    t = "double"
    f = s.fname(["forces", "accel", "gravity", "nbody"], ["direct", "all_pairs", "step", "2d"])
    n = s.name(["n", "nbodies", "count", "np_"])
    px, py, m, ax, ay = s.name(["x", "px", "posx"]), s.name(["y_", "py", "posy"]), s.name(["m", "mass", "w"]), \
        s.name(["ax", "fx", "accx"]), s.name(["ay", "fy", "accy"])
    eps = s.name(["eps", "soft", "eps2"])
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    inner = s.loop(j, "0", s.op(j, "<", n), [
        f"{t} dx = {px}[{j}] - {px}[{i}];", f"{t} dy = {py}[{j}] - {py}[{i}];",
        f"{t} r2 = dx * dx + dy * dy + {eps} * {eps} + 1e-3;",
        f"{t} inv = {m}[{j}] / (r2 * sqrt(r2));",
        s.assign_acc("sx", "+", "dx * inv"), s.assign_acc("sy", "+", "dy * inv")])
    body = s.loop(i, "0", s.op(i, "<", n), [f"{t} sx = 0.0, sy = 0.0;", *inner, f"{ax}[{i}] = sx;", f"{ay}[{i}] = sy;"])
    params = [f"int {n}", f"{t} {eps}", s.ptr(t, px), s.ptr(t, py), s.ptr(t, m), s.ptr(t, ax, const=False), s.ptr(t, ay, const=False)]
    return f, s.function("void", f, params, body, "2-D softened all-pairs accelerations", ("math.h",))


@family("monte_carlo", group="monte_carlo")
def _monte_carlo(s: Style):
    f = s.fname(["estimate", "mc", "sample", "monte_carlo"], ["pi", "area", "hits", "inside"])
    n, seed = s.name(["n", "samples", "trials", "count"]), s.name(["seed", "s0", "salt", "key"])
    i = s.name(_LOOPVARS)
    st = s.name(["state", "rng", "h_", "z"])
    a, c = s.choice([(1664525, 1013904223), (22695477, 1), (1103515245, 12345)])
    mix = s.choice(["2654435761u", "2246822519u", "3266489917u"])
    body = [f"long hits = 0;"] + s.loop(i, "0", s.op(i, "<", n), [
        f"unsigned int {st} = (unsigned int){seed} ^ ((unsigned int){i} * {mix});",
        f"{st} = {st} * {a}u + {c}u;",
        f"double px = ({st} >> 8) / 16777216.0;",
        f"{st} = {st} * {a}u + {c}u;",
        f"double py = ({st} >> 8) / 16777216.0;",
        "if (px * px + py * py <= 1.0) hits++;"])
    body.append("return hits;")
    params = [f"int {n}", f"int {seed}"]
    return f, s.function("long", f, params, body, "count points of a per-sample LCG stream inside the unit circle")


@family("triangular", group="triangular")
def _triangular(s: Style):
    t = _fp(s)
    f = s.fname(["trmv", "lower_mv", "tri_apply", "cumulative_weight"], ["lower", "tri", "triangle"])
    n, L, x, y = s.name(["n", "dim", "size"]), s.name(["L", "lower", "T", "mat"]), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    acc = s.name(["acc", "tmp", "sum_"])
    upper = s.choice([True, False])
    if upper:
        inner = s.loop(j, i, s.op(j, "<", n), [s.assign_acc(acc, "+", f"{L}[{i} * {n} + {j}] * {x}[{j}]")])
        doc = "upper-triangular matvec"
    else:
        inner = s.loop(j, "0", f"{j} <= {i}", [s.assign_acc(acc, "+", f"{L}[{i} * {n} + {j}] * {x}[{j}]")])
        doc = "lower-triangular matvec"
    body = s.loop(i, "0", s.op(i, "<", n), [f"{t} {acc} = {_lit(t, 0)};", *inner, f"{y}[{i}] = {acc};"])
    params = [f"int {n}", s.ptr(t, L), s.ptr(t, x), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, doc)


@family("pairwise_distance", group="triangular")
def _pairwise(s: Style):
    t = _fp(s)
    f = s.fname(["pairwise", "distances", "dist_matrix", "gram"], ["abs", "l1", "matrix", "points"])
    n, x, D = s.name(["n", "npts", "count"]), s.name(_ARRAYS_IN), s.name(["D", "dist", "out", "G"])
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    inner = s.loop(j, "0", s.op(j, "<", n), [f"{t} d = {x}[{i}] - {x}[{j}];", f"{D}[{i} * {n} + {j}] = d < 0 ? -d : d;"])
    body = s.loop(i, "0", s.op(i, "<", n), inner)
    params = [f"int {n}", s.ptr(t, x), s.ptr(t, D, const=False)]
    return f, s.function("void", f, params, body, "|x_i - x_j| for all pairs")


@family("recurrence", parallel=False, group="recurrence")
def _recurrence(s: Style):
    t = _fp(s)
    f = s.fname(["iir", "smooth", "recur", "ema", "decay"], ["filter", "first_order", "series", "signal"])
    n, a, x, y, i = s.name(_SIZES), s.name(_SCALARS), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT), s.name(_LOOPVARS)
    body = [f"if ({n} <= 0) return;", f"{y}[0] = {x}[0];"] + s.loop(i, "1", s.op(i, "<", n), [
        f"{y}[{i}] = {a} * {y}[{i} - 1] + ({_lit(t, 1)} - {a}) * {x}[{i}];"])
    params = [f"int {n}", f"{t} {a}", s.ptr(t, x), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, "first-order recurrence (sequential)")


@family("early_exit", group="early_exit")
def _early_exit(s: Style):
    t = s.choice(["double", "int", "float"])
    f = s.fname(["find_first", "first_index", "search", "locate"], ["above", "match", "greater", "hit"])
    n, x, th, i = s.name(_SIZES), s.name(_ARRAYS_IN), s.name(_THRESH), s.name(_LOOPVARS)
    body = s.loop(i, "0", s.op(i, "<", n), [f"if ({x}[{i}] > {th}) return {i};"], typ="int") + ["return -1;"]
    params = [f"int {n}", f"{t} {th}", s.ptr(t, x)]
    return f, s.function("int", f, params, body, "index of the first element above a threshold (early exit; parallel as a min-reduction)")


@family("find_first_reduction", group="reduction")
def _find_first_reduction(s: Style):
    t = s.choice(["double", "int", "float"])
    f = s.fname(["first_above", "min_index", "find_min_idx", "earliest"], ["match", "hit", "over"])
    n, x, th, i = s.name(_SIZES), s.name(_ARRAYS_IN), s.name(_THRESH), s.name(_LOOPVARS)
    best = s.name(["first", "best", "pos0", "where_"])
    form = s.choice([[f"if ({x}[{i}] > {th}) {best} = {best} < {i} ? {best} : {i};"],
                     [f"int cand = {x}[{i}] > {th} ? {i} : {n};", f"if (cand < {best}) {best} = cand;"],
                     [f"int cand = {x}[{i}] > {th} ? {i} : {n};", f"{best} = cand < {best} ? cand : {best};"]])
    body = [f"int {best} = {n};"] + s.loop(i, "0", s.op(i, "<", n), form, typ="int")
    body.append(f"return {best} == {n} ? -1 : {best};")
    params = [f"int {n}", f"{t} {th}", s.ptr(t, x)]
    return f, s.function("int", f, params, body, "first index above a threshold as a min-reduction (no early exit)")


@family("escape_time", group="iteration")
def _escape_time(s: Style):
    f = s.fname(["mandel", "escape", "julia", "orbit"], ["iters", "count", "time", "map"])
    n, cr, ci, out, mx = s.name(_SIZES), s.name(["cr", "re", "cx"]), s.name(["ci", "im", "cy"]), s.name(["iters", "out", "cnt"]), \
        s.name(["maxit", "max_iter", "limit_"])
    i = s.name(_LOOPVARS)
    k = s.name(_LOOPVARS2)
    inner = [f"double zr = 0.0, zi = 0.0;", f"int {k} = 0;",
             *s.block(f"while ({k} < {mx} && zr * zr + zi * zi <= 4.0)",
                      ["double tmp = zr * zr - zi * zi + " + f"{cr}[{i}];", f"zi = 2.0 * zr * zi + {ci}[{i}];",
                       "zr = tmp;", f"{k}++;"]),
             f"{out}[{i}] = {k};"]
    body = s.loop(i, "0", s.op(i, "<", n), inner)
    params = [f"int {n}", f"int {mx}", s.ptr("double", cr), s.ptr("double", ci), s.ptr("int", out, const=False)]
    return f, s.function("void", f, params, body, "escape-time iteration count per point")


@family("normalize", group="multi_pass")
def _normalize(s: Style):
    t = "double"
    f = s.fname(["normalize", "rescale", "standardize", "unit"], ["vec", "by_max", "by_sum", "values"])
    n, x, y, i = s.name(_SIZES), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT), s.name(_LOOPVARS)
    acc = s.name(["total", "norm", "acc", "s_"])
    body = [f"{t} {acc} = 1.0;"] + s.loop(i, "0", s.op(i, "<", n), [s.assign_acc(acc, "+", f"{x}[{i}] * {x}[{i}]")])
    body += s.loop(i, "0", s.op(i, "<", n), [f"{y}[{i}] = {x}[{i}] / {acc};"], decl_outside=False) if not s.decl_outside else \
        [f"for ({i} = 0; {i} < {n}; {s.step(i)})", f"{s.indent}{y}[{i}] = {x}[{i}] / {acc};"]
    params = [f"int {n}", s.ptr(t, x), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, "divide by (1 + sum of squares): a reduction then a map")


@family("center_rescale", group="multi_pass")
def _center_rescale(s: Style):
    """Deviations written to y, their spread read back from y at the same index, y rescaled in place:
    three passes over one output, each element touched only by its own iteration (MPI keeps each
    rank's block between the passes). The rescale sometimes sits under an `if` without braces."""
    t = _fp(s)
    f = s.fname(["center", "standardize", "whiten", "zscore", "demean"], ["vec", "signal", "samples", "series"])
    n, x, y, i = s.name(_SIZES), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT), s.name(_LOOPVARS)
    mu, sp = s.name(["mean", "mu", "avg", "center"]), s.name(["spread", "ss", "var_", "dev"])
    body = [f"double {mu} = 0.0;"] + s.loop(i, "0", s.op(i, "<", n), [s.assign_acc(mu, "+", f"{x}[{i}]")])
    body += [f"{mu} = {n} > 0 ? {mu} / {n} : 0.0;"]
    body += s.loop(i, "0", s.op(i, "<", n), [f"{y}[{i}] = ({t})({x}[{i}] - {mu});"], decl_outside=False)
    by_abs = s.rng.random() < 0.4
    acc = f"fabs((double){y}[{i}])" if by_abs else f"(double){y}[{i}] * {y}[{i}]"
    body += [f"double {sp} = 0.0;"] + s.loop(i, "0", s.op(i, "<", n), [s.assign_acc(sp, "+", acc)], decl_outside=False)
    scale = s.loop(i, "0", s.op(i, "<", n), [f"{y}[{i}] = ({t})({y}[{i}] / {sp});"], decl_outside=False)
    if s.rng.random() < 0.5:
        body += [f"if ({sp} > 0.0)"] + [s.indent + ln for ln in scale]
    else:
        body += [f"if ({sp} <= 0.0)", f"{s.indent}{sp} = 1.0;"] + scale
    params = [f"int {n}", s.ptr(t, x), s.ptr(t, y, const=False)]
    doc = "subtract the mean, then divide by the " + ("sum of absolute deviations" if by_abs else "sum of squares")
    return f, s.function("void", f, params, body, doc, includes=("math.h",))


@family("life_step", group="stencil")
def _life(s: Style):
    f = s.fname(["life", "automaton", "ca_step", "game_of_life"], ["step", "gen", "next", "update"])
    r, c = s.name(["rows", "h", "n"]), s.name(["cols", "w", "m"])
    a, b = s.name(["cur", "grid", "old", "cells"]), s.name(["nxt", "out", "fresh", "new_"])
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    cnt = s.name(["alive", "nb", "count_", "live"])
    g = lambda di, dj: f"{a}[({i} + {di}) * {c} + {j} + {dj}]".replace("+ -", "- ")
    nbs = " + ".join(g(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1) if (di, dj) != (0, 0))
    inner = s.loop(j, "1", f"{j} < {c} - 1", [f"int {cnt} = ({nbs}) & 15;", f"int self = {a}[{i} * {c} + {j}] & 1;",
                                              f"{b}[{i} * {c} + {j}] = ({cnt} == 3 || (self && {cnt} == 2)) ? 1 : 0;"])
    body = s.loop(i, "1", f"{i} < {r} - 1", inner)
    params = [f"int {r}", f"int {c}", s.ptr("int", a), s.ptr("int", b, const=False)]
    return f, s.function("void", f, params, body, "one generation of a life-like automaton on the interior")


@family("poly_array", group="map")
def _poly_array(s: Style):
    t = "double"
    f = s.fname(["polyval", "eval_poly", "horner", "series"], ["points", "array", "many"])
    n, d, cf, x, y = s.name(_SIZES), s.name(["deg", "d", "order"]), s.name(["coef", "c_", "poly"]), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    i, k = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    inner = s.loop(k, f"{d} - 1", f"{k} >= 0", [f"acc = acc * {x}[{i}] + {cf}[{k}];"], step=f"{k}--")
    body = s.loop(i, "0", s.op(i, "<", n), ["double acc = 0.0;", *inner, f"{y}[{i}] = acc;"])
    params = [f"int {n}", f"int {d}", s.ptr(t, cf), s.ptr(t, x), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, f"evaluate a polynomial of {d} coefficients at every point")


@family("row_reduce", group="linear_algebra")
def _row_reduce(s: Style):
    t = _fp(s)
    kind = s.choice(["sum", "max"])
    f = s.fname(["row", "rows", "per_row"], ["sums", "max", "totals", "norms"])
    r, c, A, y = s.name(["rows", "n", "m"]), s.name(["cols", "k", "w"]), s.name(["A", "mat", "M"]), s.name(_ARRAYS_OUT)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    upd = s.assign_acc("acc", "+", f"{A}[{i} * {c} + {j}]") if kind == "sum" else \
        f"if ({A}[{i} * {c} + {j}] > acc) acc = {A}[{i} * {c} + {j}];"
    init = _lit(t, 0) if kind == "sum" else ("-1e30f" if t == "float" else "-1e300")
    inner = s.loop(j, "0", s.op(j, "<", c), [upd])
    body = s.loop(i, "0", s.op(i, "<", r), [f"{t} acc = {init};", *inner, f"{y}[{i}] = acc;"])
    params = [f"int {r}", f"int {c}", s.ptr(t, A), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, f"per-row {kind}")


# ------------------------------------------------------------------ C as people write it (issue 22)
# Plain (non-const) pointers that a caller may pass overlapping, flattened 2-D/3-D subscripts, row
# pointers, interleaved channels, bounds like `i + k <= n` and computed indices with guards.

_LOCALS = {"acc", "val", "mean"}      # the bodies' own locals: no parameter takes these names


def _plain_ptr(s: Style, ctype: str, name: str, const_ok: bool = True) -> str:
    """An input pointer, const or (often, as in CPU reference code) not."""
    return s.ptr(ctype, name, const=const_ok and s.rng.random() < 0.4)


@family("rowptr_reduce", group="linear_algebra")
def _rowptr_reduce(s: Style):
    s.used.update(_LOCALS)
    t = _fp(s)
    kind = s.choice(["sum", "max", "dot"])
    f = s.fname(["row", "rows", "per_row"], {"sum": ["sums", "totals"], "max": ["max", "peaks"],
                                              "dot": ["dots", "matvec", "gemv"]}[kind])
    r, c, A, y = s.name(["rows", "n", "m"]), s.name(["cols", "k", "w"]), s.name(["A", "mat", "M"]), s.name(_ARRAYS_OUT)
    x = s.name(_ARRAYS_IN) if kind == "dot" else None
    row = s.name(["row", "a_row", "src_row", "line", "rp"])
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    init = {"sum": _lit(t, 0), "dot": _lit(t, 0), "max": "-1e30f" if t == "float" else "-1e300"}[kind]
    upd = {"sum": s.assign_acc("acc", "+", f"{row}[{j}]"),
           "dot": s.assign_acc("acc", "+", s.op(f"{row}[{j}]", "*", f"{x}[{j}]")),
           "max": f"if ({row}[{j}] > acc) acc = {row}[{j}];"}[kind]
    view = s.choice([f"{A} + {s.op(i, '*', c)}", f"&{A}[{s.op(i, '*', c)}]"])
    inner = s.loop(j, "0", s.op(j, "<", c), [upd])
    body = s.loop(i, "0", s.op(i, "<", r), [f"const {t} *{row} = {view};", f"{t} acc = {init};", *inner,
                                             f"{y}[{i}] = acc;"])
    params = [f"int {r}", f"int {c}", _plain_ptr(s, t, A)] + ([_plain_ptr(s, t, x)] if x else []) \
        + [s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, f"per-row {kind} through a row pointer")


@family("rowptr_inplace", group="linear_algebra")
def _rowptr_inplace(s: Style):
    s.used.update(_LOCALS)
    t = _fp(s)
    kind = s.choice(["center", "scale", "bias_relu"])
    f = s.fname(["normalize", "center", "scale", "activate"], ["rows", "matrix", "batch", "features"])
    r, c, X = s.name(["rows", "n", "batch"]), s.name(["cols", "dim", "features"]), s.name(["x", "X", "act", "data"])
    v = s.name(["scale", "bias", "gain", "w"]) if kind != "center" else None
    row = s.name(["row", "xr", "p_row", "cur"])
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    if kind == "center":
        inner = [f"{t} mean = {_lit(t, 0)};", *s.loop(j, "0", s.op(j, "<", c), [s.assign_acc("mean", "+", f"{row}[{j}]")]),
                 f"mean /= ({c} > 0 ? {c} : 1);", *s.loop(j, "0", s.op(j, "<", c), [f"{row}[{j}] -= mean;"])]
    elif kind == "scale":
        inner = s.loop(j, "0", s.op(j, "<", c), [f"{row}[{j}] *= {v}[{i}];"])
    else:
        inner = s.loop(j, "0", s.op(j, "<", c), [f"{t} val = {row}[{j}] + {v}[{j}];",
                                                  f"{row}[{j}] = val > {_lit(t, 0)} ? val : {_lit(t, 0)};"])
    body = s.loop(i, "0", s.op(i, "<", r), [f"{t} *{row} = {X} + {s.op(i, '*', c)};", *inner])
    params = [f"int {r}", f"int {c}", s.ptr(t, X, const=False)] + ([_plain_ptr(s, t, v)] if v else [])
    return f, s.function("void", f, params, body, f"{kind} each row of a {r} x {c} matrix in place")


@family("channels_interleaved", group="image")
def _channels_interleaved(s: Style):
    s.used.update(_LOCALS)
    t = s.choice(["float", "double", "float"])
    nch = s.choice([3, 3, 4])
    kind = s.choice(["gray", "scale", "swap"])
    f = s.fname(["rgb", "pixels", "image", "color"], {"gray": ["to_gray", "luma"], "scale": ["gain", "scale"],
                                                      "swap": ["swap", "reverse_channels"]}[kind])
    n, src, dst = s.name(["npixels", "n", "count", "num"]), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    i, ch = s.name(_LOOPVARS), s.name(["ch", "c", "k_", "chan"])
    if kind == "gray":
        ws = [_coef(s, t) for _ in range(nch)]
        expr = " + ".join(f"{w} * {src}[{nch} * {i} + {k}]" for k, w in enumerate(ws))
        body = s.loop(i, "0", s.op(i, "<", n), [f"{dst}[{i}] = {expr};"])
    else:
        rhs = f"{src}[{nch} * {i} + {ch}] * {_coef(s, t)}" if kind == "scale" else f"{src}[{nch} * {i} + {nch - 1} - {ch}]"
        inner = s.loop(ch, "0", s.op(ch, "<", str(nch)), [f"{dst}[{nch} * {i} + {ch}] = {rhs};"])
        body = s.loop(i, "0", s.op(i, "<", n), inner)
    params = [f"int {n}", _plain_ptr(s, t, src), s.ptr(t, dst, const=False)]
    return f, s.function("void", f, params, body, f"{kind} of interleaved {nch}-channel pixels")


@family("batched_3d", group="linear_algebra")
def _batched_3d(s: Style):
    s.used.update(_LOCALS)
    t = _fp(s)
    kind = s.choice(["bias", "mean"])
    f = s.fname(["batch", "batched", "tensor"], ["bias_add", "add_bias"] if kind == "bias" else ["mean", "avg_last"])
    B, R, C = s.name(["batch", "nb", "B_"]), s.name(["rows", "channels", "heads"]), s.name(["cols", "len", "dim"])
    X, v = s.name(["x", "X", "act", "data"]), s.name(["bias", "b_", "offset", "out"])
    b, i, j = s.name(["b", "bb", "n_"]), s.name(_LOOPVARS), s.name(_LOOPVARS2)
    ix = f"({b} * {R} + {i}) * {C} + {j}"
    if kind == "bias":
        inner = s.loop(j, "0", s.op(j, "<", C), [s.assign_acc(f"{X}[{ix}]", "+", f"{v}[{j}]")])
        params = [f"int {B}", f"int {R}", f"int {C}", s.ptr(t, X, const=False), _plain_ptr(s, t, v)]
    else:
        inner = [f"{t} acc = {_lit(t, 0)};", *s.loop(j, "0", s.op(j, "<", C), [s.assign_acc("acc", "+", f"{X}[{ix}]")]),
                 f"{v}[{b} * {R} + {i}] = {C} > 0 ? acc / {C} : {_lit(t, 0)};"]
        params = [f"int {B}", f"int {R}", f"int {C}", _plain_ptr(s, t, X), s.ptr(t, v, const=False)]
    body = s.loop(b, "0", s.op(b, "<", B), s.loop(i, "0", s.op(i, "<", R), inner))
    return f, s.function("void", f, params, body, f"{kind} over a {B} x {R} x {C} tensor")


@family("window_valid", group="stencil")
def _window_valid(s: Style):
    s.used.update(_LOCALS)
    t = _fp(s)
    kind = s.choice(["conv", "boxsum", "max"])
    f = s.fname(["conv1d", "window", "moving", "sliding"], ["valid", "sum", "max", "filter"])
    n, k, x, w, y = s.name(_SIZES), s.name(["k", "taps", "width", "klen"]), s.name(_ARRAYS_IN), \
        s.name(["w", "kernel", "filt", "h"]), s.name(_ARRAYS_OUT)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    upd = {"conv": s.assign_acc("acc", "+", s.op(f"{x}[{i} + {j}]", "*", f"{w}[{j}]")),
           "boxsum": s.assign_acc("acc", "+", f"{x}[{i} + {j}]"),
           "max": f"if ({x}[{i} + {j}] > acc) acc = {x}[{i} + {j}];"}[kind]
    init = f"{x}[{i}]" if kind == "max" else _lit(t, 0)
    lo = "1" if kind == "max" else "0"
    cond = s.choice([f"{i} + {k} <= {n}", f"{i} <= {n} - {k}", f"{i} + {k} - 1 < {n}"])
    inner = s.loop(j, lo, s.op(j, "<", k), [upd])
    body = s.loop(i, "0", cond, [f"{t} acc = {init};", *inner, f"{y}[{i}] = acc;"])
    params = [f"int {n}", f"int {k}", _plain_ptr(s, t, x)] + ([_plain_ptr(s, t, w)] if kind == "conv" else []) \
        + [s.ptr(t, y, const=False)]
    if kind == "max":
        body = [f"if ({k} < 1) return;", *body]
    return f, s.function("void", f, params, body, f"{kind} of every length-{k} window that fits in {x}")


@family("guarded_index", group="map")
def _guarded_index(s: Style):
    s.used.update(_LOCALS)
    t = _fp(s)
    f = s.fname(["gather", "sample", "pick", "fetch"], ["strided", "offset", "guarded", "every"])
    n, st, off = s.name(_SIZES), s.name(["stride", "step_", "inc", "pitch"]), s.name(["offset", "off", "start", "base"])
    x, y, i, idx = s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT), s.name(_LOOPVARS), s.name(["idx", "src_i", "pos_", "at"])
    guard = s.choice([f"{idx} >= 0 && {idx} < {n}", f"0 <= {idx} && {idx} < {n}"])
    body = s.loop(i, "0", s.op(i, "<", n), [f"int {idx} = {i} * {st} + {off};",
                                             *s.block(f"if ({guard})", [f"{y}[{i}] = {x}[{idx}];"])])
    params = [f"int {n}", f"int {st}", f"int {off}", _plain_ptr(s, t, x), s.ptr(t, y, const=False)]
    return f, s.function("void", f, params, body, f"{y}[i] = {x}[i*{st} + {off}] where that index is in range")


@family("flat_stencil_np", group="stencil")
def _flat_stencil_np(s: Style):
    s.used.update(_LOCALS)
    t = _fp(s)
    f = s.fname(["blur", "smooth", "jacobi", "relax"], ["image", "rows", "grid", "plane"])
    h, w = s.name(["h", "height", "rows", "ny"]), s.name(["w", "width", "cols", "nx"])
    a, b = s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    i, j = s.name(_LOOPVARS), s.name(_LOOPVARS2)
    vertical = s.rng.random() < 0.5
    at = (lambda d: f"{a}[({i}{d:+d}) * {w} + {j}]".replace("+0", "")) if vertical else \
        (lambda d: f"{a}[{i} * {w} + {j}{d:+d}]".replace("+0", ""))
    expr = f"({at(-1)} + {at(0)} + {at(1)}) / {_lit(t, 3)}"
    if vertical:
        outer_cond = s.choice([f"{i} + 1 < {h}", f"{i} < {h} - 1"])
        inner = s.loop(j, "0", s.op(j, "<", w), [f"{b}[{i} * {w} + {j}] = {expr};"])
        body = s.loop(i, "1", outer_cond, inner)
    else:
        inner_cond = s.choice([f"{j} + 1 < {w}", f"{j} < {w} - 1"])
        inner = s.loop(j, "1", inner_cond, [f"{b}[{i} * {w} + {j}] = {expr};"])
        body = s.loop(i, "0", s.op(i, "<", h), inner)
    params = [f"int {h}", f"int {w}", s.ptr(t, a, const=False), s.ptr(t, b, const=False)]
    return f, s.function("void", f, params, body, f"3-tap {'vertical' if vertical else 'horizontal'} blur")


@family("blas_strided", group="blas")
def _blas_strided(s: Style):
    """BLAS-style increments and leading dimensions (issue 22): x[i*incx], a[i*lda + j]."""
    s.used.update(_LOCALS)
    t = _fp(s)
    n, i = s.name(_SIZES), s.name(_LOOPVARS)
    x, y = s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT)
    ix, iy = s.name(["incx", "inc_x", "sx", "stride_x"]), s.name(["incy", "inc_y", "sy", "stride_y"])
    kind = s.choice(["axpy", "scal", "copy", "gemv", "geam"])
    if kind in ("axpy", "scal", "copy"):
        f = s.fname([kind, f"{kind}_inc", f"blas_{kind}"], ["strided", "inc", "step"])
        al = s.name(["alpha", "a_", "scale_", "factor"])
        if kind == "scal":
            stmt = f"{y}[{i} * {iy}] = {al} * {y}[{i} * {iy}];"
            params = [f"int {n}", f"{t} {al}", s.ptr(t, y, const=False), f"int {iy}"]
        else:
            rhs = f"{al} * {x}[{i} * {ix}]" + (f" + {y}[{i} * {iy}]" if kind == "axpy" else "")
            stmt = f"{y}[{i} * {iy}] = {rhs};"
            params = [f"int {n}", f"{t} {al}", _plain_ptr(s, t, x), f"int {ix}", s.ptr(t, y, const=False), f"int {iy}"]
        body = s.loop(i, "0", s.op(i, "<", n), [stmt])
        return f, s.function("void", f, params, body, f"BLAS {kind} with increments")
    m, j = s.name(["m", "rows", "nrows", "M"]), s.name(_LOOPVARS2)
    a, lda = s.name(["a", "A", "mat", "src"]), s.name(["lda", "ld_a", "stride_a"])
    if kind == "gemv":
        f = s.fname(["gemv", "matvec", "mv"], ["ld", "lda", "rows"])
        acc = "acc"
        inner = s.loop(j, "0", s.op(j, "<", n), [s.assign_acc(acc, "+", f"{a}[{i} * {lda} + {j}] * {x}[{j}]")])
        body = s.loop(i, "0", s.op(i, "<", m), [f"{t} {acc} = {_lit(t, 0)};", *inner, f"{y}[{i}] = {acc};"])
        params = [f"int {m}", f"int {n}", _plain_ptr(s, t, a), f"int {lda}", _plain_ptr(s, t, x), s.ptr(t, y, const=False)]
        return f, s.function("void", f, params, body, "y = A x, A row-major with leading dimension lda >= n")
    f = s.fname(["geam", "add_block", "axpby_block"], ["ld", "sub", "tile"])
    c, ldc = s.name(["c", "C", "dst", "out"]), s.name(["ldc", "ld_c", "stride_c"])
    inner = s.loop(j, "0", s.op(j, "<", n), [f"{c}[{i} * {ldc} + {j}] += {a}[{i} * {lda} + {j}];"])
    body = s.loop(i, "0", s.op(i, "<", m), inner)
    params = [f"int {m}", f"int {n}", _plain_ptr(s, t, a), f"int {lda}", s.ptr(t, c, const=False), f"int {ldc}"]
    return f, s.function("void", f, params, body, "C += A on an m x n block, each with its leading dimension")


@family("scan_running", parallel=False, group="scan")
def _scan_running(s: Style):
    """A running sum carried in a scalar (inclusive or exclusive): parallel only in two passes."""
    t = s.choice(["double", "float", "int", "long"])
    f = s.fname(["cumsum", "prefix", "running", "scan"], ["sum", "total", "offsets", "inclusive", "exclusive"])
    n, x, y, i = s.name(_SIZES), s.name(_ARRAYS_IN), s.name(_ARRAYS_OUT), s.name(_LOOPVARS)
    run = s.name(["run", "total", "partial", "carry"])
    upd = s.assign_acc(run, "+", f"{x}[{i}]")
    incl = s.rng.random() < 0.5
    stmts = [upd, f"{y}[{i}] = {run};"] if incl else [f"{y}[{i}] = {run};", upd]
    body = [f"{t} {run} = {_lit(t, 0) if t in ('double', 'float') else '0'};", *s.loop(i, "0", s.op(i, "<", n), stmts),
            f"return {run};"]
    params = [f"int {n}", s.ptr(t, x), s.ptr(t, y, const=False)]
    return f, s.function(t, f, params, body, f"{'inclusive' if incl else 'exclusive'} running sum; returns the total")


# ------------------------------------------------------------------ API

def family_names(parallel_only: bool = False) -> list[str]:
    return [k for k, (_, par, _) in FAMILIES.items() if par or not parallel_only]


PARALLEL_FAMILIES = [k for k, (_, par, _) in FAMILIES.items() if par]


def cpp_families() -> dict:
    """The C++ families (generator_cpp.py): asked for by name, not part of the default C corpus."""
    from .generator_cpp import CPP_FAMILIES
    return CPP_FAMILIES


def family_group(family: str) -> str:
    return FAMILIES[family][2] if family in FAMILIES else cpp_families()[family][2]


def family_language(family: str) -> str:
    return "c" if family in FAMILIES else "cpp"


def generate(family: str, seed: int) -> Kernel:
    """The kernel of `family` for `seed` (deterministic)."""
    table = FAMILIES if family in FAMILIES else cpp_families()
    try:
        fn, parallel, _ = table[family]
    except KeyError:
        raise ValueError(f"unknown kernel family {family!r} (known: {', '.join(FAMILIES)}, "
                         f"and the C++ ones: {', '.join(cpp_families())})") from None
    rng = random.Random(f"{family}:{seed}")
    s = Style(rng)
    name, source, *_ = fn(s)
    style = {"allman": s.allman, "incr": s.incr, "decl_outside": s.decl_outside, "idx_type": s.idx_type,
             "compound": s.compound, "const": s.const_in, "brackets": s.brackets, "comment": s.comment}
    return Kernel(family=family, seed=seed, function=name, source=source, language=family_language(family),
                  parallel=parallel, style=style)

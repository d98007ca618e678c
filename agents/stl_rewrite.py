"""Standard algorithms as the indexed loops they stand for.

    return std::accumulate(x.begin(), x.end(), 0.0);
becomes
    double __pl_s0 = 0.0;
    for (std::size_t __pl_i0 = 0; __pl_i0 < x.size(); ++__pl_i0) __pl_s0 = __pl_s0 + x[__pl_i0];
    return __pl_s0;

so that the ordinary analysis and every code generator see a loop they know
(a reduction, a map, an argmin). Understood, over a whole container
`v.begin(), v.end()` (also `cbegin`/`cend`, `std::begin(v)`/`std::end(v)`):

* std::accumulate (default +, std::plus/multiplies, a lambda `return acc OP e;`), std::inner_product;
* std::count, std::count_if;
* std::min_element, std::max_element as `*it`, `std::distance(v.begin(), it)` or `it - v.begin()`;
* std::transform (unary and binary), std::for_each (a lambda: its body becomes a range-for's), std::fill,
  std::copy.

A callable is a lambda whose body is `return E;` (its parameters replaced by the
elements), a std:: arithmetic function object, or a function of the same file
(whose purity the analysis checks as for any call). Anything else is left as
written, and the function is then explained as before ("no loops", or the
call that is not known to be pure). The rewrite is only a proposal: the
translation made from it is verified against the original function.
"""
from __future__ import annotations

import re

from tree_sitter import Node

from .syntax import text, walk
from .unit import load_unit, parse_params

NOTE = "standard algorithm calls rewritten into the equivalent indexed loops"

_ALGOS = {"accumulate", "inner_product", "count", "count_if", "min_element", "max_element", "transform",
          "for_each", "fill", "copy"}
_FUNCTORS = {"plus": "+", "minus": "-", "multiplies": "*", "divides": "/"}


class _Skip(Exception):
    """This call is not one the rewrite understands; it is left as written."""


def rewrite(source: str, language: str, function: str) -> str | None:
    """`source` with the standard algorithm calls of `function` rewritten into loops, or None when there
    is none the rewrite understands."""
    if language != "cpp" or "std::" not in source and "using namespace std" not in source:
        return None
    try:
        u = load_unit(source, language)
    except Exception:
        return None
    fn = u.functions.get(function)
    if fn is None:
        return None
    try:
        infos, _ = parse_params(u, fn, function)
    except Exception:
        return None
    ctx = _Context(u, {i.param.name: i.param for i in infos})
    edits: list[tuple[int, int, str]] = []
    for call in _algorithm_calls(fn.child_by_field_name("body")):
        try:
            edits += ctx.rewrite_call(call)
        except _Skip:
            continue
    if not edits:
        return None
    data = u.data
    # several calls in one statement: apply each edit once, from the end (they do not overlap)
    edits.sort(key=lambda e: (e[0], e[1]), reverse=True)
    last = len(data) + 1
    out = data
    for start, end, new in edits:
        if end > last:
            continue
        out = out[:start] + new.encode("utf-8") + out[end:]
        last = start
    return out.decode("utf-8")


def _algo_name(call: Node) -> str | None:
    f = call.child_by_field_name("function")
    if f is None:
        return None
    name = text(f).replace(" ", "")
    if f.type == "template_function":
        name = text(f.child_by_field_name("name")).replace(" ", "")
    name = name[5:] if name.startswith("std::") else name
    return name if name in _ALGOS else None


def _algorithm_calls(body: Node | None) -> list[Node]:
    if body is None:
        return []
    return [n for n in walk(body) if n.type == "call_expression" and _algo_name(n) is not None]


def _args(call: Node) -> list[Node]:
    a = call.child_by_field_name("arguments")
    return [c for c in a.named_children if c.type != "comment"] if a is not None else []


def _strip(n: Node) -> Node:
    while n is not None and n.type == "parenthesized_expression" and len(n.named_children) == 1:
        n = n.named_children[0]
    return n


class _Context:
    def __init__(self, unit, params: dict):
        self.u = unit
        self.params = params
        self.k = 0

    # -- ranges ----------------------------------------------------------
    def _iter(self, n: Node, which: str) -> str:
        """The container of `v.begin()` / `std::begin(v)` (which = 'begin' or 'end')."""
        n = _strip(n)
        if n.type != "call_expression":
            raise _Skip
        f = n.child_by_field_name("function")
        if len(_args(n)) == 1 and text(f).replace(" ", "") in (f"std::{which}", f"std::c{which}"):
            arg = _strip(_args(n)[0])
            if arg.type == "identifier":
                return text(arg)
            raise _Skip
        if _args(n):
            raise _Skip
        if f.type != "field_expression" or text(f.child_by_field_name("operator")) != ".":
            raise _Skip
        obj = _strip(f.child_by_field_name("argument"))
        if obj.type != "identifier" or text(f.child_by_field_name("field")) not in (which, "c" + which):
            raise _Skip
        return text(obj)

    def _range(self, first: Node, last: Node) -> str:
        v = self._iter(first, "begin")
        if self._iter(last, "end") != v:
            raise _Skip
        return v

    def _elem_type(self, v: str) -> str:
        p = self.params.get(v)
        if p is None or p.kind.value != "vector":
            raise _Skip
        return p.base_type

    # -- callables -------------------------------------------------------
    def _apply(self, f: Node, args: list[str]) -> str:
        """The expression that calls `f` on the element expressions `args`."""
        f = _strip(f)
        if f.type == "lambda_expression":
            return self._inline_lambda(f, args)
        name = text(f).replace(" ", "")
        m = re.fullmatch(r"(?:std::)?(plus|minus|multiplies|divides)(?:<[^<>]*>)?(?:\(\)|\{\})", name)
        if m and len(args) == 2:
            return f"({args[0]}) {_FUNCTORS[m.group(1)]} ({args[1]})"
        if f.type == "identifier" and text(f) in self.u.functions:
            return f"{text(f)}({', '.join(args)})"
        raise _Skip

    def _lambda_parts(self, lam: Node) -> tuple[list[str], Node]:
        if "mutable" in text(lam).split("{", 1)[0].split():
            raise _Skip
        decl = lam.child_by_field_name("declarator")
        plist = decl.child_by_field_name("parameters") if decl is not None else None
        names = []
        for pd in (plist.named_children if plist is not None else []):
            nm = None
            for n in walk(pd.child_by_field_name("declarator")):
                if n.type == "identifier":
                    nm = text(n)
            if nm is None:
                raise _Skip
            names.append(nm)
        body = lam.child_by_field_name("body")
        if body is None:
            raise _Skip
        return names, body

    def _inline_lambda(self, lam: Node, args: list[str]) -> str:
        names, body = self._lambda_parts(lam)
        stmts = [c for c in body.named_children if c.type != "comment"]
        if len(names) != len(args) or len(stmts) != 1 or stmts[0].type != "return_statement" or \
                not stmts[0].named_children:
            raise _Skip
        expr = stmts[0].named_children[0]
        for n in walk(expr):
            if n.type in ("assignment_expression", "update_expression", "lambda_expression"):
                raise _Skip
        return _substitute(expr, dict(zip(names, args)))

    # -- the statement a call sits in ------------------------------------
    def _placement(self, node: Node) -> Node:
        """The statement (a direct child of a block) that evaluates `node` unconditionally."""
        n = node
        while n.parent is not None and n.parent.type != "compound_statement":
            p = n.parent
            if p.type in ("conditional_expression", "lambda_expression", "for_statement", "while_statement",
                          "do_statement", "for_range_loop", "if_statement", "switch_statement") or (
                    p.type == "binary_expression" and text(p.child_by_field_name("operator")) in ("&&", "||")):
                raise _Skip
            n = p
        if n.parent is None or n.type not in ("expression_statement", "return_statement", "declaration"):
            raise _Skip
        return n

    def _names(self) -> tuple[str, str]:
        k = self.k
        self.k += 1
        return f"__pl_s{k}", f"__pl_i{k}"

    @staticmethod
    def _loop(i: str, v: str, body: str, start: str = "0") -> str:
        return f"for (std::size_t {i} = {start}; {i} < {v}.size(); ++{i}) {body}"

    # -- the algorithms --------------------------------------------------
    def rewrite_call(self, call: Node) -> list[tuple[int, int, str]]:
        name = _algo_name(call)
        a = _args(call)
        if name in ("transform", "for_each", "fill", "copy"):
            return self._statement_algo(name, call, a)
        outer = call
        stmt = self._placement(call)
        s, i = self._names()
        if name in ("accumulate", "inner_product"):
            init_at = 2 if name == "accumulate" else 3
            if len(a) not in (init_at + 1, init_at + 2) or (name == "inner_product" and len(a) != 4):
                raise _Skip
            v = self._range(a[0], a[1])
            acc_t = self._value_type(a[init_at])
            if name == "inner_product":
                w = self._iter(a[2], "begin")
                step = f"{s} = {s} + {v}[{i}] * {w}[{i}];"
            elif len(a) == 4:
                step = f"{s} = {self._apply(a[3], [s, f'{v}[{i}]'])};"
            else:
                step = f"{s} = {s} + {v}[{i}];"
            pre = f"{acc_t} {s} = {text(a[init_at])}; {self._loop(i, v, step)}"
        elif name in ("count", "count_if"):
            if len(a) != 3:
                raise _Skip
            v = self._range(a[0], a[1])
            if name == "count":
                val = _strip(a[2])
                if val.type not in ("identifier", "number_literal", "char_literal", "true", "false"):
                    raise _Skip
                cond = f"{v}[{i}] == {text(val)}"
            else:
                cond = self._apply(a[2], [f"{v}[{i}]"])
            pre = f"long {s} = 0; {self._loop(i, v, f'if ({cond}) ++{s};')}"
        elif name in ("min_element", "max_element"):
            if len(a) != 2:
                raise _Skip
            v = self._range(a[0], a[1])
            t = self._elem_type(v)
            if t.startswith("std::complex") or t in self.u.records:
                raise _Skip      # no < for complex numbers; a struct's operator< is not looked into
            op = "<" if name == "min_element" else ">"
            outer, value = self._iterator_use(call, v)
            first = f"{v}.empty() ? {t}() : {v}[0]"
            if value:       # *min_element: a min reduction
                pre = f"{t} {s} = {first}; " + self._loop(i, v, f"if ({v}[{i}] {op} {s}) {s} = {v}[{i}];", "1")
            else:           # its position: the first smallest (a strict comparison keeps the earliest)
                best = f"{s}b"
                pre = (f"long {s} = 0; {t} {best} = {first}; "
                       + self._loop(i, v, f"if ({v}[{i}] {op} {best}) {{ {best} = {v}[{i}]; {s} = {i}; }}", "1"))
        else:
            raise _Skip
        indent = _indent_of(stmt, self.u.data)
        return [(stmt.start_byte, stmt.start_byte, pre.replace("; for", f";\n{indent}for") + f"\n{indent}"),
                (outer.start_byte, outer.end_byte, s)]

    def _iterator_use(self, call: Node, v: str) -> tuple[Node, bool]:
        """How min/max_element's iterator is used: (the expression it is part of, is it the value?)."""
        p = call.parent
        while p is not None and p.type == "parenthesized_expression":
            p = p.parent
        if p is not None and p.type == "pointer_expression" and text(p.child_by_field_name("operator")) == "*":
            return p, True
        if p is not None and p.type == "argument_list" and p.parent is not None and p.parent.type == "call_expression":
            d = p.parent
            f = text(d.child_by_field_name("function")).replace(" ", "")
            da = _args(d)
            if f in ("std::distance", "distance") and len(da) == 2 and _strip(da[1]) == call \
                    and self._iter(da[0], "begin") == v:
                return d, False
        if p is not None and p.type == "binary_expression" and text(p.child_by_field_name("operator")) == "-" \
                and _strip(p.child_by_field_name("left")) == call and \
                self._iter(p.child_by_field_name("right"), "begin") == v:
            return p, False
        raise _Skip

    def _value_type(self, init: Node) -> str:
        """The type of accumulate's initial value (the type of its result)."""
        n = _strip(init)
        if n.type == "number_literal":
            t = text(n).lower()
            if re.fullmatch(r"[0-9.]+(e[+-]?[0-9]+)?f", t) and not t.startswith("0x"):
                return "float"
            if "." in t or ("e" in t and not t.startswith("0x")):
                return "double"
            suffix = re.sub(r"^[0-9a-fx']+?(?=[ul]*$)", "", t)
            return {"": "int", "l": "long", "ll": "long long", "u": "unsigned", "ul": "unsigned long",
                    "lu": "unsigned long", "ull": "unsigned long long"}.get(suffix, "int")
        if n.type == "identifier" and n.text.decode() in self.params:
            p = self.params[n.text.decode()]
            if p.kind.value == "scalar":
                return p.base_type
        if n.type == "call_expression" or n.type == "compound_literal_expression":
            f = n.child_by_field_name("function") or n.child_by_field_name("type")
            if f is not None and re.fullmatch(r"[A-Za-z_][\w:<> ]*", text(f)):
                return text(f)
        raise _Skip

    def _statement_algo(self, name: str, call: Node, a: list[Node]) -> list[tuple[int, int, str]]:
        stmt = call.parent
        if stmt is None or stmt.type != "expression_statement" or stmt.parent is None or \
                stmt.parent.type != "compound_statement":
            raise _Skip   # the returned iterator is used: not a plain loop
        _, i = self._names()
        if name == "transform" and len(a) == 4:
            v = self._range(a[0], a[1])
            out = self._iter(a[2], "begin")
            body = f"{out}[{i}] = {self._apply(a[3], [f'{v}[{i}]'])};"
        elif name == "transform" and len(a) == 5:
            v = self._range(a[0], a[1])
            w, out = self._iter(a[2], "begin"), self._iter(a[3], "begin")
            body = f"{out}[{i}] = {self._apply(a[4], [f'{v}[{i}]', f'{w}[{i}]'])};"
        elif name == "fill" and len(a) == 3:
            v = self._range(a[0], a[1])
            val = _strip(a[2])
            if val.type not in ("identifier", "number_literal", "char_literal", "true", "false"):
                raise _Skip
            body = f"{v}[{i}] = {text(val)};"
        elif name == "copy" and len(a) == 3:
            v = self._range(a[0], a[1])
            body = f"{self._iter(a[2], 'begin')}[{i}] = {v}[{i}];"
        elif name == "for_each" and len(a) == 3:
            v = self._range(a[0], a[1])
            return [(stmt.start_byte, stmt.end_byte, self._for_each(v, _strip(a[2])))]
        else:
            raise _Skip
        return [(stmt.start_byte, stmt.end_byte, self._loop(i, v, body))]

    def _for_each(self, v: str, f: Node) -> str:
        if f.type != "lambda_expression":
            raise _Skip
        names, body = self._lambda_parts(f)
        decl = f.child_by_field_name("declarator")
        plist = decl.child_by_field_name("parameters")
        params = [c for c in plist.named_children if c.type != "comment"]
        if len(names) != 1 or len(params) != 1:
            raise _Skip
        for n in walk(body):
            if n.type == "return_statement":
                if n.named_children or _inside_loop(n, body):
                    raise _Skip
            if n.type == "lambda_expression":
                raise _Skip
        # `return;` ends this element's call: the loop's `continue`
        code = _replace_nodes(body, {n.id: "continue;" for n in walk(body) if n.type == "return_statement"})
        return f"for ({text(params[0])} : {v}) {code}"


def _inside_loop(n: Node, top: Node) -> bool:
    p = n.parent
    while p is not None and p != top:
        if p.type in ("for_statement", "while_statement", "do_statement", "for_range_loop", "switch_statement"):
            return True
        p = p.parent
    return False


def _substitute(expr: Node, names: dict[str, str]) -> str:
    return _replace_nodes(expr, {n.id: f"({names[text(n)]})" for n in walk(expr)
                                 if n.type == "identifier" and text(n) in names})


def _replace_nodes(top: Node, repl: dict[int, str]) -> str:
    data = top.text
    base = top.start_byte
    nodes = sorted((n for n in walk(top) if n.id in repl), key=lambda n: n.start_byte, reverse=True)
    for n in nodes:
        data = data[:n.start_byte - base] + repl[n.id].encode("utf-8") + data[n.end_byte - base:]
    return data.decode("utf-8")


def _indent_of(stmt: Node, data: bytes) -> str:
    line_start = data.rfind(b"\n", 0, stmt.start_byte) + 1
    prefix = data[line_start:stmt.start_byte].decode("utf-8", "replace")
    return prefix if prefix.strip() == "" else ""

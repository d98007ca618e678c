"""Statement shapes the analysis recognizes (reductions, if-min/max, argmin/argmax)
and the opaque atoms that stand for non-affine parts of subscripts (x/k, x%k, min, max)."""
from __future__ import annotations

from tree_sitter import Node

from .poly import Poly
from .syntax import _walk, text


# ---------------------------------------------------------------------------
# atoms: opaque symbols for non-affine subscript parts
# ---------------------------------------------------------------------------

_ATOMS: dict[str, tuple] = {}


def _atom(kind: str, p: Poly, k: int) -> str:
    name = f"@{kind}:({p.render()})/{k}"
    _ATOMS[name] = (kind, p, k)
    return name


def _atom2(kind: str, a: Poly, b: Poly) -> str:
    x, y = sorted([a.render(), b.render()])
    name = f"@{kind}:({x}),({y})"
    _ATOMS[name] = (kind, a, b)
    return name


def atom_info(name: str) -> tuple | None:
    return _ATOMS.get(name)


def atom_symbols(name: str) -> set[str]:
    """Symbols an atom depends on (recursively)."""
    info = _ATOMS.get(name)
    if info is None:
        return set()
    out: set[str] = set()
    for part in info[1:]:
        if isinstance(part, Poly):
            for s in part.symbols():
                out |= atom_symbols(s) if s.startswith("@") else {s}
    return out


def atom_nonneg(name: str, nonneg: set[str]) -> bool:
    info = _ATOMS.get(name)
    if info is None:
        return name.startswith("@size:")
    kind = info[0]
    if kind == "div":
        return info[1].nonneg(nonneg)
    if kind == "max":
        return info[1].nonneg(nonneg) or info[2].nonneg(nonneg)
    if kind == "min":
        return info[1].nonneg(nonneg) and info[2].nonneg(nonneg)
    return False


# ---------------------------------------------------------------------------
# reduction shapes
# ---------------------------------------------------------------------------

_COMPOUND = {"+=": "+", "-=": "+", "*=": "*", "&=": "&", "|=": "|", "^=": "^"}
_MINMAX_FUNCS = {"fmax": "max", "fmaxf": "max", "std::max": "max", "max": "max", "std::fmax": "max",
                 "fmin": "min", "fminf": "min", "std::min": "min", "min": "min", "std::fmin": "min"}


def _lvalue_key(n: Node) -> str | None:
    n = _strip_parens(n)
    if n.type == "identifier":
        return text(n)
    if n.type in ("subscript_expression", "pointer_expression"):
        return " ".join(text(n).split())
    return None


def _strip_parens(n: Node) -> Node:
    while n is not None and n.type == "parenthesized_expression" and len(n.named_children) == 1:
        n = n.named_children[0]
    return n


def _mentions(n: Node, key: str) -> bool:
    for m in _walk(n):
        if m.type in ("identifier", "subscript_expression", "pointer_expression") and _lvalue_key(m) == key:
            return True
        if m.type == "identifier" and "[" not in key and text(m) == key:
            return True
    return False


def reduction_shape(e: Node) -> tuple[str | None, list[Node]]:
    """For `s += e`, `s = s + e`, `s = fmax(s, e)`, `s = e > s ? e : s`, `s++` ...: (op, target nodes)."""
    e = _strip_parens(e)
    if e.type == "update_expression":
        arg = _strip_parens(e.child_by_field_name("argument"))
        if _lvalue_key(arg) is not None:
            return "+", [arg]
        return None, []
    if e.type != "assignment_expression":
        return None, []
    op = text(e.child_by_field_name("operator"))
    left = _strip_parens(e.child_by_field_name("left"))
    right = _strip_parens(e.child_by_field_name("right"))
    key = _lvalue_key(left)
    if key is None:
        return None, []
    if op in _COMPOUND:
        if _mentions(right, key):
            return None, []
        return _COMPOUND[op], [left]
    if op != "=":
        return None, []
    if right.type == "binary_expression":
        bop = text(right.child_by_field_name("operator"))
        a = _strip_parens(right.child_by_field_name("left"))
        b = _strip_parens(right.child_by_field_name("right"))
        if bop in ("+", "*", "&", "|", "^", "&&", "||", "-"):
            if _lvalue_key(a) == key and not _mentions(b, key):
                return ("+" if bop == "-" else bop), [left, a]
            if bop != "-" and _lvalue_key(b) == key and not _mentions(a, key):
                return bop, [left, b]
        return None, []
    if right.type == "call_expression":
        fname = text(right.child_by_field_name("function")).replace(" ", "")
        args = [a for a in right.child_by_field_name("arguments").named_children if a.type != "comment"]
        if fname in _MINMAX_FUNCS and len(args) == 2:
            a, b = _strip_parens(args[0]), _strip_parens(args[1])
            if _lvalue_key(a) == key and not _mentions(b, key):
                return _MINMAX_FUNCS[fname], [left, a]
            if _lvalue_key(b) == key and not _mentions(a, key):
                return _MINMAX_FUNCS[fname], [left, b]
        return None, []
    if right.type == "conditional_expression":
        cond = _strip_parens(right.child_by_field_name("condition"))
        c1 = _strip_parens(right.child_by_field_name("consequence"))
        c2 = _strip_parens(right.child_by_field_name("alternative"))
        if cond.type != "binary_expression":
            return None, []
        cop = text(cond.child_by_field_name("operator"))
        x, y = _strip_parens(cond.child_by_field_name("left")), _strip_parens(cond.child_by_field_name("right"))
        if cop not in ("<", "<=", ">", ">="):
            return None, []
        sx, sy = " ".join(text(x).split()), " ".join(text(y).split())
        s1, s2 = " ".join(text(c1).split()), " ".join(text(c2).split())
        # s = (x OP y) ? x : y  -> max if OP is > / >=, min if < / <=
        if s1 == sx and s2 == sy:
            kind = "max" if cop in (">", ">=") else "min"
        elif s1 == sy and s2 == sx:
            kind = "min" if cop in (">", ">=") else "max"
        else:
            return None, []
        if _lvalue_key(x) == key and not _mentions(y, key):
            return kind, [left, x, c1 if s1 == sx else c2]
        if _lvalue_key(y) == key and not _mentions(x, key):
            return kind, [left, y, c1 if s1 == sy else c2]
        return None, []
    return None, []


def if_minmax_shape(node: Node) -> tuple[str | None, list[Node]]:
    """`if (e > s) s = e;` (no else, single assignment) -> ("max", [s nodes])."""
    if node.child_by_field_name("alternative") is not None:
        return None, []
    cond = node.child_by_field_name("condition")
    if cond is None:
        return None, []
    if cond.type == "condition_clause":
        vals = cond.named_children
        if len(vals) != 1:
            return None, []
        cond = vals[0]
    cond = _strip_parens(cond)
    if cond.type != "binary_expression":
        return None, []
    cop = text(cond.child_by_field_name("operator"))
    if cop not in ("<", "<=", ">", ">="):
        return None, []
    body = node.child_by_field_name("consequence")
    while body is not None and body.type == "compound_statement":
        stmts = [c for c in body.named_children if c.type != "comment"]
        if len(stmts) != 1:
            return None, []
        body = stmts[0]
    if body is None or body.type != "expression_statement" or len(body.named_children) != 1:
        return None, []
    asg = _strip_parens(body.named_children[0])
    if asg.type != "assignment_expression" or text(asg.child_by_field_name("operator")) != "=":
        return None, []
    left = _strip_parens(asg.child_by_field_name("left"))
    if left.type != "identifier":
        return None, []
    key = text(left)
    val = " ".join(text(_strip_parens(asg.child_by_field_name("right"))).split())
    x, y = _strip_parens(cond.child_by_field_name("left")), _strip_parens(cond.child_by_field_name("right"))
    sx, sy = " ".join(text(x).split()), " ".join(text(y).split())
    # if (val OP s) s = val   |   if (s OP val) s = val
    if sx == val and sy == key and not _mentions(x, key):
        kind = "max" if cop in (">", ">=") else "min"
        return kind, [y, left]
    if sy == val and sx == key and not _mentions(y, key):
        kind = "max" if cop in ("<", "<=") else "min"
        return kind, [x, left]
    return None, []


def if_argminmax_shape(node: Node) -> dict | None:
    """`if (e < best) { best = e; idx = v; }` (strict <, >; either side order; no else) ->
    {"op": "min"|"max", "best": name, "idx": name, "value": e text, "index": v text}."""
    if node.type != "if_statement" or node.child_by_field_name("alternative") is not None:
        return None
    cond = node.child_by_field_name("condition")
    if cond is not None and cond.type == "condition_clause":
        vals = cond.named_children
        cond = vals[0] if len(vals) == 1 else None
    cond = _strip_parens(cond) if cond is not None else None
    if cond is None or cond.type != "binary_expression":
        return None
    cop = text(cond.child_by_field_name("operator"))
    if cop not in ("<", ">"):
        return None
    body = node.child_by_field_name("consequence")
    stmts = [c for c in body.named_children if c.type != "comment"] if body.type == "compound_statement" else [body]
    if len(stmts) != 2:
        return None
    asg = {}
    for st in stmts:
        if st.type != "expression_statement" or len(st.named_children) != 1:
            return None
        a = _strip_parens(st.named_children[0])
        if a.type != "assignment_expression" or text(a.child_by_field_name("operator")) != "=":
            return None
        left = _strip_parens(a.child_by_field_name("left"))
        if left.type != "identifier":
            return None
        asg[text(left)] = (" ".join(text(_strip_parens(a.child_by_field_name("right"))).split()),
                           _strip_parens(a.child_by_field_name("right")))
    x, y = _strip_parens(cond.child_by_field_name("left")), _strip_parens(cond.child_by_field_name("right"))
    sx, sy = " ".join(text(x).split()), " ".join(text(y).split())
    for val, best, flip in ((sx, sy, False), (sy, sx, True)):
        if best not in asg or asg[best][0] != val or len(asg) != 2:
            continue
        idx = next(k for k in asg if k != best)
        if _mentions(asg[idx][1], best) or _mentions(asg[idx][1], idx) or _mentions(asg[best][1], idx) \
                or _mentions(asg[best][1], best):
            return None
        op = "min" if (cop == "<") != flip else "max"
        return {"op": op, "best": best, "idx": idx, "value": val, "index": asg[idx][0]}
    return None

"""In-place array scans (issue 22): a loop whose iteration i updates x[i] from x[i - 1], the value the
previous iteration wrote, carries that value in the array:

    for (i = LO; COND; i++) if (x[i - 1] < x[i]) x[i] = x[i - 1];     // running minimum
    for (i = LO; COND; i++) x[i] += x[i - 1];                           // prefix sum in place

The dependence test rightly calls this a recurrence. Carried in a scalar instead, it is the shape
agents/scan.py translates in two passes when the update is a sum, a minimum or a maximum:

    if (COND[i := LO]) {
        T __pl_carry = x[LO - 1];
        for (i = LO; COND; i++) { __pl_carry = (__pl_carry < x[i]) ? __pl_carry : x[i]; x[i] = __pl_carry; }
    }

x[i - 1] is replaced by __pl_carry, which holds exactly that value at every iteration, so the rewrite is
exact for any update; the rule agent adopts it only when the analysis then finds a scan (a + update of
another form stays sequential, with the recurrence named). The guard keeps the read of x[LO - 1] to
calls where the first iteration runs (and reads it) in the original too.

Recognized: a canonical ascending loop of step 1 that declares its variable, whose body is one
statement, `x[i] = E`, `x[i] op= E` or `if (C) x[i] = E;` (no else), where the loop writes no other
array element nor any scalar, and x's elements are read only as x[i] and x[i - 1].
"""
from __future__ import annotations

from .codegen_common import node_text_with, splice
from .first_match import _unwrap_single as _single
from .frontend import text
from .poly import Poly

RUN = "__pl_carry"
NOTE = ("the in-place recurrence x[i] = f(x[i - 1], x[i]) is carried in a scalar (agents/recurrence.py), "
        "a scan in two passes")


def _loop_text(fx, L, data: bytes) -> str | None:
    m = fx.model
    if L.kind != "for" or not L.canonical or L.step != 1 or L.var is None or not L.var_in_init \
            or L.range_of is not None or L.while_form or L.children or L.body is None:
        return None
    S = _single(L.body)
    if S is None:
        return None
    v = L.var.key
    evs = [e for e in m.events if L in e.loops]
    if any(e.write and not e.is_array and e.decl is not L.var for e in evs):
        return None
    writes = [e for e in evs if e.write and e.is_array]
    if len(writes) != 1:
        return None
    w = writes[0]
    x = w.decl
    if x.base_type in (None, "auto") or m.expand(w.poly) != Poly.sym(v):
        return None
    prev = []
    for e in evs:
        if e.decl is not x or e is w:
            continue
        p = m.expand(e.poly) if e.poly is not None else None
        if p == Poly.sym(v) - 1:
            prev.append(e)
        elif p != Poly.sym(v):
            return None
    if not prev:
        return None
    edits = [(e.node.start_byte, e.node.end_byte, RUN) for e in prev]
    xi = text(w.node)

    def sub(node) -> str:
        return node_text_with(data, node, edits)

    if S.type == "expression_statement" and S.named_children:
        a = S.named_children[0]
        if a.type != "assignment_expression" or a.child_by_field_name("left").id != w.node.id:
            return None
        op = text(a.child_by_field_name("operator"))
        rhs = sub(a.child_by_field_name("right"))
        if op == "=":
            upd = f"{RUN} = {rhs};"
        elif op in ("+=", "*=", "-=", "&=", "|=", "^="):
            upd = f"{RUN} = {xi} {op[0]} {rhs if rhs == RUN else '(' + rhs + ')'};"
        else:
            return None
    elif S.type == "if_statement" and S.child_by_field_name("alternative") is None:
        c = _single(S.child_by_field_name("consequence"))
        if c is None or c.type != "expression_statement" or not c.named_children:
            return None
        a = c.named_children[0]
        if a.type != "assignment_expression" or text(a.child_by_field_name("operator")) != "=" \
                or a.child_by_field_name("left").id != w.node.id:
            return None
        cond = S.child_by_field_name("condition")
        upd = f"{RUN} = ({sub(cond).strip('()') if cond.type == 'parenthesized_expression' else sub(cond)}) ? " \
              f"({sub(a.child_by_field_name('right'))}) : {xi};"
        if cond.type == "condition_clause":
            val = cond.named_children[0] if cond.named_children else None
            if val is None:
                return None
            upd = f"{RUN} = ({sub(val)}) ? ({sub(a.child_by_field_name('right'))}) : {xi};"
    else:
        return None
    lo = L.init_text()
    cnode = L.node.child_by_field_name("condition")
    if cnode is None:
        return None
    guard = node_text_with(data, cnode, [(n.start_byte, n.end_byte, f"({lo})") for n in _walk(cnode)
                                         if n.type == "identifier" and text(n) == L.var.name])
    head = data[L.node.start_byte:L.body.start_byte].decode("utf-8")
    first = f"{x.name}[({lo}) - 1]"
    return (f"if ({guard}) {{ {x.base_type} {RUN} = {first};\n"
            f"{head}{{ {upd} {xi} = {RUN}; }}\n}}")


def _walk(node):
    yield node
    for ch in node.children:
        yield from _walk(ch)


def rewrite(source: str, language: str, function: str) -> str | None:
    """The source with each in-place recurrence loop of `function` carried in a scalar, or None."""
    from .analysis import analyze
    fx = analyze(source, language, function)
    data = fx.unit.data
    edits = []
    for L in fx.model.loops:
        f = fx.loops[L]
        if f.parallel or "a recurrence" not in (f.reason or ""):
            continue
        new = _loop_text(fx, L, data)
        if new is not None:
            edits.append((L.node.start_byte, L.node.end_byte, new))
    if not edits:
        return None
    return splice(data, edits)


__all__ = ["NOTE", "rewrite"]

"""Search loops ("return the first i such that ...") as min-index reductions.

    for (int i = LO; i < HI; ++i)
        if (COND) return E;
    return DEFAULT;

returns E at the smallest i in [LO, HI) where COND holds. When COND and E
have no side effects, that smallest i is a `min` reduction over the whole
range, which every target parallelizes. This module rewrites such a function
into that sequential form:

    T __pl_first = HI;
    for (T i = LO; i < HI; ++i)
        if (COND) { if (i < __pl_first) __pl_first = i; }
    if (__pl_first < HI) { T i = __pl_first; return E; }
    return DEFAULT;

and the ordinary analysis and code generators take it from there. The result
is verified against the original function like any candidate, so the rewrite
only has to be plausible; it is nevertheless conservative: COND and E may not
assign, call anything but known pure math functions, or touch a variable the
function writes, and HI must be loop-invariant (parameters never assigned).
The parallel form evaluates COND for every i, so it reads the whole range
where the sequential loop may stop early; the reason says so.
"""
from __future__ import annotations

import re

from .frontend import load_unit, text

FIRST = "__pl_first"

_PURE_CALLS = {"fabs", "fabsf", "abs", "labs", "sqrt", "sqrtf", "exp", "expf", "log", "logf", "sin", "cos",
               "sinf", "cosf", "pow", "powf", "floor", "ceil", "fmin", "fmax", "fminf", "fmaxf", "isnan",
               "isinf", "std::abs", "std::sqrt", "std::fabs", "std::isnan", "std::isinf"}
_SIDE_EFFECT_NODES = {"assignment_expression", "update_expression", "comma_expression", "lambda_expression",
                      "new_expression", "delete_expression"}


def _unwrap_single(stmt):
    """The one statement inside `{ s }` (or stmt itself)."""
    while stmt is not None and stmt.type == "compound_statement":
        kids = [c for c in stmt.named_children if c.type != "comment"]
        if len(kids) != 1:
            return None
        stmt = kids[0]
    return stmt


def _walk(node):
    yield node
    for ch in node.children:
        yield from _walk(ch)


def _pure(node, written: set[str]) -> bool:
    for n in _walk(node):
        if n.type in _SIDE_EFFECT_NODES:
            return False
        if n.type == "call_expression":
            if text(n.child_by_field_name("function")) not in _PURE_CALLS:
                return False
        if n.type == "identifier" and text(n) in written:
            return False
    return True


def _written_names(body) -> set[str]:
    names = set()
    for n in _walk(body):
        if n.type == "assignment_expression":
            left = n.child_by_field_name("left")
            while left is not None and left.type in ("subscript_expression", "field_expression",
                                                     "pointer_expression", "parenthesized_expression"):
                left = left.child_by_field_name("argument") or left.child_by_field_name("left") or \
                    (left.named_children[0] if left.named_children else None)
            if left is not None and left.type == "identifier":
                names.add(text(left))
        elif n.type == "update_expression":
            arg = n.child_by_field_name("argument")
            if arg is not None and arg.type == "identifier":
                names.add(text(arg))
    return names


def rewrite(source: str, language: str, function: str) -> str | None:
    """The source with `function`'s search loop turned into a min-index reduction, or None when the
    function is not of that shape."""
    unit = load_unit(source, language)
    fn = unit.functions.get(function)
    if fn is None:
        return None
    body = fn.child_by_field_name("body")
    if body is None or FIRST in text(body):
        return None
    stmts = [c for c in body.named_children if c.type != "comment"]
    loops = [k for k, s in enumerate(stmts) if s.type == "for_statement"]
    if len(loops) != 1:
        return None
    k = loops[0]
    loop, after = stmts[k], stmts[k + 1:]
    if len(after) != 1 or after[0].type != "return_statement" or not after[0].named_children:
        return None
    if any(s.type != "declaration" for s in stmts[:k]):
        return None
    # the loop header: T i = LO; i < HI (or <=); ++i / i++ / i += 1
    init, cond, upd = (loop.child_by_field_name(f) for f in ("initializer", "condition", "update"))
    if init is None or cond is None or upd is None:
        return None
    declared_before = init.type == "assignment_expression"
    if declared_before:
        # `int i; for (i = LO; ...)`: the variable's declaration is one of the statements before the loop
        left = init.child_by_field_name("left")
        if left is None or left.type != "identifier" or text(init.child_by_field_name("operator")) != "=":
            return None
        var, vtype = text(left), None
        for d in stmts[:k]:
            names = [text(c) if c.type == "identifier" else text(c.child_by_field_name("declarator"))
                     for c in d.children_by_field_name("declarator")]
            if var in names:
                vtype = text(d.child_by_field_name("type"))
        if vtype is None:
            return None
    else:
        if init.type != "declaration":
            return None
        decls = [c for c in init.children if c.type == "init_declarator"]
        if len(decls) != 1:
            return None
        var = text(decls[0].child_by_field_name("declarator"))
        vtype = text(init.child_by_field_name("type"))
    if not re.fullmatch(r"[A-Za-z_]\w*", var or ""):
        return None
    if cond.type != "binary_expression" or text(cond.child_by_field_name("left")) != var:
        return None
    op = text(cond.child_by_field_name("operator"))
    hi_node = cond.child_by_field_name("right")
    if op not in ("<", "<="):
        return None
    if re.sub(r"\s", "", text(upd)) not in (f"++{var}", f"{var}++", f"{var}+=1"):
        return None
    written = _written_names(body)
    if not _pure(hi_node, written | {var}):
        return None
    # the body: exactly `if (COND) return E;` (no else)
    ifs = _unwrap_single(loop.child_by_field_name("body"))
    if ifs is None or ifs.type != "if_statement" or ifs.child_by_field_name("alternative") is not None:
        return None
    ret = _unwrap_single(ifs.child_by_field_name("consequence"))
    if ret is None or ret.type != "return_statement" or not ret.named_children:
        return None
    cnd = ifs.child_by_field_name("condition")
    expr = ret.named_children[0]
    # the loop variable is written only by the header's update (the body is just this `if`)
    if not _pure(cnd, written - {var}) or not _pure(expr, written - {var}):
        return None
    hi = text(hi_node) if op == "<" else f"({text(hi_node)}) + 1"
    hi = hi if re.fullmatch(r"[A-Za-z_]\w*|\d+", hi) else f"({hi})"
    cond_text = text(cnd)
    cond_text = cond_text if cond_text.startswith("(") else f"({cond_text})"
    found = f"{var} = {FIRST};" if declared_before else f"{vtype} {var} = {FIRST};"
    new_loop = (f"{vtype} {FIRST} = {hi};\n"
                f"    for ({text(init).rstrip(';')}; {text(cond)}; {text(upd)}) {{\n"
                f"        if {cond_text} {{\n"
                f"            if ({var} < {FIRST})\n"
                f"                {FIRST} = {var};\n"
                f"        }}\n"
                f"    }}\n"
                f"    if ({FIRST} < {hi}) {{\n"
                f"        {found}\n"
                f"        return {text(expr)};\n"
                f"    }}")
    data = unit.data
    return (data[:loop.start_byte] + new_loop.encode() + data[loop.end_byte:]).decode("utf-8")


NOTE = ("the search loop was rewritten as a min-index reduction: the parallel code evaluates the condition "
        "for every index in the range, where the sequential loop stops at the first match")

__all__ = ["rewrite", "NOTE", "FIRST"]

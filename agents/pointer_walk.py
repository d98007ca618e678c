"""Pointer walks (`*dst++ = *src++ * a;`) as indexed accesses.

    for (int i = LO; i < HI; i++)          for (int i = LO; i < HI; i++)
        *dst++ = f(*src++);          ->        dst[i - LO] = f(src[i - LO]);

A pointer parameter p qualifies in a loop L when L is a canonical for loop
stepping by +1, `*p++` is p's only mention in L, it runs exactly once per
iteration (not under an if, ?:, &&, || or an inner loop), and p is not
mentioned after L (so its final position does not matter). The rewritten
function is the ordinary analysis' and code generators' input, and its
translation is verified against the original function like any candidate.
"""
from __future__ import annotations

from .frontend import FunctionModel, load_unit, parse_params, text

NOTE = "pointer walks (*p++) rewritten as indexed accesses"
_CONDITIONAL = {"if_statement", "conditional_expression", "switch_statement", "while_statement",
                "do_statement", "for_statement", "for_range_loop"}


def _walk(node):
    yield node
    for ch in node.children:
        yield from _walk(ch)


def _mentions(node, name: str) -> int:
    return sum(1 for n in _walk(node) if n.type == "identifier" and text(n) == name)


def _walk_target(n):
    """`*p++` -> the identifier p (None otherwise)."""
    if n.type != "pointer_expression" or text(n.child_by_field_name("operator")) != "*":
        return None
    arg = n.child_by_field_name("argument")
    while arg is not None and arg.type == "parenthesized_expression" and len(arg.named_children) == 1:
        arg = arg.named_children[0]
    if arg is None or arg.type != "update_expression" or not text(arg).endswith("++"):
        return None
    p = arg.child_by_field_name("argument")
    return p if p is not None and p.type == "identifier" else None


def _once_per_iteration(n, loop) -> bool:
    """No conditional or loop between n and `loop` (the loop's own body included: `for (...) if (c) *p++ = ..`)."""
    p = n.parent
    while p is not None and p.id != loop.id:
        if p.type in _CONDITIONAL:
            return False
        if p.type == "binary_expression" and text(p.child_by_field_name("operator")) in ("&&", "||"):
            return False
        p = p.parent
    return p is not None


def _increment(stmt, name: str) -> bool:
    """`p++;`, `++p;`, `p += 1;`"""
    if stmt.type != "expression_statement" or len(stmt.named_children) != 1:
        return False
    e = stmt.named_children[0]
    t = "".join(text(e).split())
    return t in (f"{name}++", f"++{name}", f"{name}+=1")


def _indexed(L, name: str, index: str) -> list[tuple[int, int, str]]:
    """Edits turning p's walk in L into p[index] (or p[index + 1] after a separate increment statement)."""
    mentions = [n for n in _walk(L.node) if n.type == "identifier" and text(n) == name]
    walks = [n for n in _walk(L.body) if (lambda p: p is not None and text(p) == name)(_walk_target(n))]
    if len(walks) == 1 and len(mentions) == 1 and _once_per_iteration(walks[0], L.node):
        return [(walks[0].start_byte, walks[0].end_byte, f"{name}[{index}]")]
    # *p reads/writes and one unconditional `p++;` directly in the loop body
    body = L.body
    if walks or body.type != "compound_statement":
        return []
    incs = [c for c in body.named_children if _increment(c, name)]
    if len(incs) != 1:
        return []
    inc = incs[0]
    derefs = []
    for m in mentions:
        if inc.start_byte <= m.start_byte < inc.end_byte:
            continue
        d = m.parent
        while d is not None and d.type == "parenthesized_expression":
            d = d.parent
        if d is None or d.type != "pointer_expression" or text(d.child_by_field_name("operator")) != "*":
            return []
        derefs.append(d)
    edits = [(inc.start_byte, inc.end_byte, "")]
    for d in derefs:
        idx = index if d.start_byte < inc.start_byte else f"{index} + 1"
        edits.append((d.start_byte, d.end_byte, f"{name}[{idx}]"))
    return edits


def rewrite(source: str, language: str, function: str) -> str | None:
    """`source` with the function's pointer walks indexed, or None when there is none to rewrite."""
    try:
        unit = load_unit(source, language)
        fn = unit.functions[function]
        infos, _ = parse_params(unit, fn, function)
        model = FunctionModel(unit, fn, function, infos)
    except Exception:           # the caller's analysis reports the source's problems
        return None
    pointers = {d.name for d in model.params.values() if d.kind == "pointer"}
    edits = []
    for L in model.loops:
        if L.kind != "for" or not L.canonical or L.step != 1 or L.var is None or L.body is None \
                or L.range_of is not None or L.while_form:
            continue
        if any(n.type == "continue_statement" for n in _walk(L.body)):
            continue                    # a skipped increment would shift every later access
        lo = text(L.init_node).strip()
        index = L.var.name if lo == "0" else f"{L.var.name} - ({lo})"
        for name in sorted(pointers):
            if any(n.type == "identifier" and text(n) == name and n.start_byte >= L.node.end_byte
                   for n in _walk(model.body)):
                continue                # its final position is used
            edits += _indexed(L, name, index)
    if not edits:
        return None
    data = unit.data
    for s, e, r in sorted(edits, reverse=True):
        data = data[:s] + r.encode("utf-8") + data[e:]
    return data.decode("utf-8")


__all__ = ["NOTE", "rewrite"]

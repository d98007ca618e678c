"""Scalar replacement: an array element that an innermost loop keeps updating
(`tmp[i] += A[i*n+j] * x[j]` over j) is held in a local variable for the loop
and stored once after it.

Why: GCC does this itself in the sequential build when `restrict` or `const`
tells it the arrays do not overlap, but an OpenMP region is outlined into a
function that receives the arrays through a struct, the qualifiers are lost,
and every iteration then loads and stores the element (and the loop is not
vectorized). Measured on PolyBench's gesummv at 2 threads: 0.65x of the
sequential build before, and the loop body is the sequential one after.

The rewrite keeps the order of every floating-point operation, so results are
bitwise those of the code it rewrites. It applies only when all of this holds
for an innermost `for (T v = A; v REL B; ...)` loop and an element X[e]:

* X is a pointer parameter, every mention of X in the loop is the subscript
  X[e] with the same index e, and e mentions nothing the loop writes (a
  variable declared in the body from loop-invariant values counts as its
  definition, which is what isl-generated loop bodies look like);
* X[e] is written in the loop, and only unconditionally;
* no other array that may alias X is mentioned in the loop (paralift's alias
  model, agents/analysis.py: const inputs do not overlap written arrays,
  restrict pointers overlap nothing, other pointers of one element type may);
* the loop calls nothing but pure math functions, holds no pragma and is
  not itself the subject of one, has no `return` or `goto`, and dereferences
  no pointer other than through parameters.

The load sits under `if (A REL B)`, so a loop that runs zero times touches
nothing, as before. Like every candidate, the result is verified in the
sandbox before anyone uses it.
"""
from __future__ import annotations

import re

from paralift.types import ParamKind

from .frontend import AnalysisError, load_unit, parse_params, text, walk

PURE_CALLS = {
    "sqrt", "sqrtf", "exp", "expf", "log", "logf", "fabs", "fabsf", "sin", "sinf", "cos", "cosf", "tan", "tanf",
    "pow", "powf", "floor", "floorf", "ceil", "ceilf", "fmax", "fmaxf", "fmin", "fminf", "abs", "labs",
    "tanh", "tanhf", "atan", "atan2", "exp2", "log2", "log10", "cbrt", "hypot", "round", "trunc", "erf",
}
_REL = {"<", "<=", ">", ">=", "!="}
PREFIX = "__pl_sr"


def _norm(s: str) -> str:
    return " ".join(s.split())


def _ids(node) -> set[str]:
    return {text(n) for n in walk(node) if n.type == "identifier"}


def _alias_groups(u, fn, fname: str) -> dict[str, tuple[str, str]]:
    """pointer parameter name -> (element type, alias group)."""
    params, _ = parse_params(u, fn, fname)
    out = {}
    for pi in params:
        p = pi.param
        if p.kind != ParamKind.POINTER or "volatile" in pi.type_text:
            continue
        group = p.name if (p.const or pi.restrict) else f"@alias:{p.base_type}"
        out[p.name] = (p.base_type, group)
    return out


def _header(loop):
    """(loop variable, guard text) of `for (T v = A; v REL B; ...)`, else None."""
    init = loop.child_by_field_name("initializer")
    cond = loop.child_by_field_name("condition")
    if init is None or cond is None or init.type != "declaration":
        return None
    decls = [c for c in init.named_children if c.type == "init_declarator"]
    if len(decls) != 1:
        return None
    var = decls[0].child_by_field_name("declarator")
    val = decls[0].child_by_field_name("value")
    if var is None or val is None or var.type != "identifier":
        return None
    if cond.type != "binary_expression" or text(cond.child_by_field_name("operator")) not in _REL:
        return None
    left, right = cond.child_by_field_name("left"), cond.child_by_field_name("right")
    if left.type != "identifier" or text(left) != text(var) or text(var) in _ids(right):
        return None
    for part in (val, right):
        if any(n.type in ("call_expression", "assignment_expression", "update_expression") for n in walk(part)):
            return None
    return text(var), f"({text(val)}) {text(cond.child_by_field_name('operator'))} {text(right)}"


def _writes(loop) -> tuple[set[str], dict[str, object]]:
    """Identifiers the loop writes, and the invariant definitions of variables declared in it."""
    written: set[str] = set()
    declared: dict[str, object] = {}
    for n in walk(loop):
        if n.type == "assignment_expression":
            lhs = n.child_by_field_name("left")
            if lhs is not None and lhs.type == "identifier":
                written.add(text(lhs))
        elif n.type == "update_expression":
            arg = n.child_by_field_name("argument")
            if arg is not None and arg.type == "identifier":
                written.add(text(arg))
        elif n.type == "init_declarator":
            d = n.child_by_field_name("declarator")
            if d is not None and d.type == "identifier":
                declared[text(d)] = n.child_by_field_name("value")
        elif n.type == "declaration":
            for d in n.named_children:
                if d.type == "identifier":
                    declared[text(d)] = None
    return written, declared


def _unconditional(node, loop) -> bool:
    p = node.parent
    while p is not None and p.id != loop.id:
        if p.type not in ("expression_statement", "compound_statement", "assignment_expression",
                          "parenthesized_expression", "comma_expression"):
            return False
        p = p.parent
    return p is not None


def _plan(loop, arrays: dict[str, tuple[str, str]]) -> list[tuple[str, str, str]] | None:
    """[(array, index text, hoisted index text)] of the elements to replace in `loop`."""
    hdr = _header(loop)
    body = loop.child_by_field_name("body")
    if hdr is None or body is None:
        return None
    prev = loop.prev_named_sibling
    if prev is not None and prev.type in ("preproc_call", "preproc_directive") and "pragma" in text(prev):
        return None                               # the pragma would then apply to the guard, not the loop
    for n in walk(loop):
        if n.type in ("preproc_call", "preproc_directive", "return_statement", "goto_statement",
                      "pointer_expression", "asm_statement"):
            return None
        if n.type == "call_expression":
            f = n.child_by_field_name("function")
            if f is None or f.type != "identifier" or text(f) not in PURE_CALLS:
                return None
    written, declared = _writes(loop)
    variant = set(written) | {hdr[0]}
    # a body-declared variable is invariant when it is never reassigned and defined from invariants
    defs: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for name, val in declared.items():
            if name in defs or name in written or val is None:
                continue
            if not (_ids(val) & (variant | (set(declared) - set(defs)))):
                defs[name] = text(val)
                changed = True
    variant |= set(declared) - set(defs)
    subs: dict[str, list] = {}
    mentions: dict[str, int] = {}
    for n in walk(loop):
        if n.type == "identifier" and text(n) in arrays:
            mentions[text(n)] = mentions.get(text(n), 0) + 1
        if n.type == "subscript_expression":
            base = n.child_by_field_name("argument")
            if base is not None and base.type == "identifier" and text(base) in arrays:
                subs.setdefault(text(base), []).append(n)
    out = []
    for name, nodes in subs.items():
        if mentions.get(name, 0) != len(nodes):
            continue                              # X passed or used other than as X[e]
        keys = {_norm(text(n.child_by_field_name("index"))) for n in nodes}
        if len(keys) != 1:
            continue
        idx = nodes[0].child_by_field_name("index")
        if any(m.type in ("call_expression", "assignment_expression", "update_expression") for m in walk(idx)):
            continue
        if _ids(idx) & variant or any(i in arrays for i in _ids(idx)):
            continue
        writes = [n for n in nodes if _is_write(n)]
        if not writes or not all(_unconditional(w, loop) for w in writes):
            continue
        group = arrays[name][1]
        if any(arrays[o][1] == group for o in subs if o != name):
            continue
        hoisted = _substitute(idx, defs)
        if _ids_text(hoisted) & variant:
            continue
        out.append((name, text(idx), hoisted))
    return out or None


def _is_write(sub) -> bool:
    p = sub.parent
    while p is not None and p.type == "parenthesized_expression":
        sub, p = p, p.parent
    if p is None:
        return False
    if p.type == "assignment_expression":
        return p.child_by_field_name("left").id == sub.id
    return p.type == "update_expression"


def _substitute(node, defs: dict[str, str]) -> str:
    """The text of `node` with body-declared invariants replaced by their definitions (repeatedly)."""
    s = text(node)
    for _ in range(8):
        new = re.sub(r"\b[A-Za-z_]\w*\b", lambda m: f"({defs[m.group(0)]})" if m.group(0) in defs else m.group(0), s)
        if new == s:
            break
        s = new
    return s


def _ids_text(s: str) -> set[str]:
    return set(re.findall(r"\b[A-Za-z_]\w*\b", s))


def _innermost_loops(fn):
    loops = [n for n in walk(fn) if n.type == "for_statement"]
    return [L for L in loops if not any(m.type in ("for_statement", "while_statement", "do_statement")
                                       for m in walk(L.child_by_field_name("body")))]


def scalar_replace(code: str, language: str, function: str) -> tuple[str, list[str]]:
    """(`code` with the function's loop-invariant array updates held in scalars, notes); `code` itself when
    nothing applies."""
    try:
        u = load_unit(code, language)
    except AnalysisError:
        return code, []
    fn = u.functions.get(function)
    if fn is None:
        return code, []
    try:
        arrays = _alias_groups(u, fn, function)
    except AnalysisError:
        return code, []
    data = u.data
    edits: list[tuple[int, int, str]] = []
    notes: list[str] = []
    taken = set(_ids(fn))
    counter = 0
    for loop in _innermost_loops(fn):
        plan = _plan(loop, arrays)
        if not plan:
            continue
        guard = _header(loop)[1]
        start, end = loop.start_byte, loop.end_byte
        col = loop.start_point[1]
        ind = data[start - col:start].decode("utf-8", "replace")
        ind = ind if not ind.strip() else " " * col
        inner = []
        loop_text = data[start:end].decode("utf-8")
        pre, post = [], []
        for name, idx, hoisted in plan:
            while f"{PREFIX}{counter}" in taken:
                counter += 1
            var = f"{PREFIX}{counter}"
            taken.add(var)
            elem = arrays[name][0]
            pattern = re.compile(rf"\b{re.escape(name)}\s*\[\s*" + r"\s*".join(map(re.escape, idx.split())) + r"\s*\]")
            loop_text = pattern.sub(var, loop_text)
            pre.append(f"{elem} {var} = {name}[{hoisted}];")
            post.append(f"{name}[{hoisted}] = {var};")
            inner.append(f"{name}[{_norm(idx)}]")
        body_lines = loop_text.splitlines()
        body = "\n".join([ind + "    " + body_lines[0]] + ["    " + l for l in body_lines[1:]])
        new = (f"if ({guard}) {{\n" + "".join(f"{ind}    {p}\n" for p in pre) + body + "\n"
               + "".join(f"{ind}    {p}\n" for p in post) + f"{ind}}}")
        edits.append((start, end, new))
        notes.append(f"line {loop.start_point[0] + 1}: {', '.join(inner)} held in a register for the loop")
    if not edits:
        return code, []
    from .codegen_common import splice
    return splice(data, edits), notes


__all__ = ["scalar_replace"]

"""Helpers shared by the code generators: byte-level splicing, C rendering of
extents and trip counts, and small facts about loops."""
from __future__ import annotations

from tree_sitter import Node

from .analysis import FunctionFacts, LoopFacts
from .base import NotParallelizable
from .frontend import Decl, Loop, atom_info, text, walk
from .poly import Poly


def splice(data: bytes, edits: list[tuple[int, int, str]]) -> str:
    """Apply (start, end, replacement) byte edits (non-overlapping, any order)."""
    out = []
    pos = 0
    for start, end, rep in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos:
            raise ValueError("overlapping edits")
        out.append(data[pos:start])
        out.append(rep.encode("utf-8"))
        pos = end
    out.append(data[pos:])
    return b"".join(out).decode("utf-8")


def node_text_with(data: bytes, node: Node, edits: list[tuple[int, int, str]]) -> str:
    """The text of `node` with the edits that fall inside it applied."""
    inner = [(s - node.start_byte, e - node.start_byte, r) for s, e, r in edits
             if node.start_byte <= s and e <= node.end_byte]
    return splice(data[node.start_byte:node.end_byte], inner)


def line_indent(data: bytes, byte: int) -> tuple[str, bool]:
    """(indentation of the line containing byte, whether only whitespace precedes byte on it)."""
    ls = data.rfind(b"\n", 0, byte) + 1
    prefix = data[ls:byte].decode("utf-8", "replace")
    ind = prefix[: len(prefix) - len(prefix.lstrip())]
    return ind, prefix.strip() == ""


def insert_line_before(data: bytes, node: Node, line: str) -> tuple[int, int, str]:
    """An edit putting `line` (a pragma) on its own line just before node."""
    ind, alone = line_indent(data, node.start_byte)
    if alone:
        ls = data.rfind(b"\n", 0, node.start_byte) + 1
        return (ls, ls, f"{ind}{line}\n")
    return (node.start_byte, node.start_byte, f"\n{ind}{line}\n{ind}")


def add_include(code: str, header: str) -> str:
    if f"#include <{header}>" in code or f'#include "{header}"' in code:
        return code
    return f"#include <{header}>\n" + code


class CRenderer:
    """Renders analysis polynomials (over declaration keys) as C expressions."""

    def __init__(self, fx: FunctionFacts):
        self.fx = fx
        self.m = fx.model
        # free size tokens: vector sizes and CSR nnz
        self.tokens: dict[str, str] = {}
        for vec, tok in fx.size_tokens.items():
            self.tokens[tok] = f"(long long)({vec}.size())"
        for p in fx.signature.params:
            if p.values.kind.value == "offsets" and p.values.bound and p.values.bound not in self.tokens \
                    and p.extent:
                bound = p.values.bound
                if not any(q.name == bound for q in fx.signature.params):
                    self.tokens[bound] = f"(long long)({p.name}[({self.extent_c(p.name, allow_tokens=False)}) - 1])"

    def sym(self, s: str) -> str:
        if s.startswith("@size:"):
            return f"(long long)({s[6:]}.size())"
        if s.startswith("@div:"):
            _kind, num, k = atom_info(s)
            return f"(({self.poly(num)}) / {k})"
        if s.startswith("@max:") or s.startswith("@min:"):
            kind, a, b = atom_info(s)
            return f"__pl_i{kind}({self.poly(a)}, {self.poly(b)})"
        d = self.m.decl_by_key(s)
        if d is None:
            raise NotParallelizable(f"cannot express '{s}' in generated code")
        return f"(long long){d.name}"

    def poly(self, p: Poly) -> str:
        return p.render(self.sym)

    def extent_c(self, name: str, allow_tokens: bool = True) -> str:
        """The extent of array parameter `name` as a C expression (long long)."""
        p = self.fx.signature.param(name)
        why = getattr(self.fx, "data_extents", {}).get(name)
        if why is not None:
            # A copy, a slice or an overlap test sized by a model of the inputs would be wrong for the calls
            # the model does not foresee (issue 19): only extents the code itself proves are used here.
            raise NotParallelizable(f"the number of elements of '{name}' is not known from the code ({why})")
        if p.kind.value == "vector":
            ext = self.fx.extents.get(name)
            if ext and ext == self.fx.size_tokens.get(name):
                return f"(long long)({name}.size())"
        # prefer the polynomials: they keep distinct vector sizes apart (x.size() - k.size() + 1)
        if name in self.fx.extent_polys and self.fx.extent_polys[name] is not None:
            return "(" + self.poly(self.fx.extent_polys[name]) + ")"
        if name in self.fx.extent_cands:
            out = None
            for c in self.fx.extent_cands[name]:
                r = "(" + self.poly(c) + ")"
                out = r if out is None else f"__pl_imax({out}, {r})"
            return out
        ext = p.extent
        if ext is None:
            raise NotParallelizable(f"the number of elements of '{name}' is unknown")
        return self.expr(ext, allow_tokens)

    def expr(self, ext: str, allow_tokens: bool = True) -> str:
        """Translate an extent expression (names, + - * // ( ) max min, ints) to C."""
        import re
        toks = re.findall(r"//|[A-Za-z_]\w*|\d+|[()+\-*,]|\S", ext)
        out = []
        for t in toks:
            if t == "//":
                out.append("/")
            elif t == "max":
                out.append("__pl_imax")
            elif t == "min":
                out.append("__pl_imin")
            elif re.fullmatch(r"[A-Za-z_]\w*", t):
                if t in self.tokens and allow_tokens:
                    out.append(self.tokens[t])
                elif any(q.name == t for q in self.fx.signature.params):
                    out.append(f"(long long)({t})")
                else:
                    raise NotParallelizable(f"the size '{t}' of an array cannot be computed at run time")
            elif t.isdigit():
                out.append(f"{t}LL")
            else:
                out.append(t)
        return "(" + " ".join(out) + ")"


IMINMAX_C = ("static inline long long __pl_imax(long long a, long long b) { return a > b ? a : b; }\n"
             "static inline long long __pl_imin(long long a, long long b) { return a < b ? a : b; }\n")


def trip_count_c(loop: Loop, lo: str, hi: str) -> str:
    """Trip count (long long) of canonical `loop` with lower/bound C expressions lo/hi (already long long)."""
    s = loop.step
    op = loop.cond_op
    if s > 0:
        if op == "<":
            return f"(({hi}) > ({lo}) ? (({hi}) - ({lo}) + {s - 1}) / {s} : 0)"
        return f"(({hi}) >= ({lo}) ? (({hi}) - ({lo})) / {s} + 1 : 0)"
    a = -s
    if op == ">":
        return f"(({lo}) > ({hi}) ? (({lo}) - ({hi}) + {a - 1}) / {a} : 0)"
    return f"(({lo}) >= ({hi}) ? (({lo}) - ({hi})) / {a} + 1 : 0)"


def var_type(d: Decl) -> str:
    t = d.base_type or "long long"
    if t == "auto":
        raise NotParallelizable(f"loop variable '{d.name}' is declared 'auto'")
    return t


def body_statement_text(data: bytes, loop: Loop, edits=()) -> str:
    body = loop.body
    t = node_text_with(data, body, list(edits))
    if body.type == "compound_statement":
        return t
    return "{ " + t + " }"


def reduction_groups(f: LoopFacts) -> dict[str, list[Decl]]:
    groups: dict[str, list[Decl]] = {}
    for d, op in f.reductions.items():
        groups.setdefault(op, []).append(d)
    return groups


def descendants(loop: Loop) -> list[Loop]:
    out = []
    stack = list(loop.children)
    while stack:
        lp = stack.pop()
        out.append(lp)
        stack.extend(lp.children)
    return out


def calls_in(fx: FunctionFacts, loop: Loop) -> list[str]:
    return sorted({c.name for c in fx.model.calls if loop in c.loops})


def user_functions_called(fx: FunctionFacts, names: list[str]) -> list[str]:
    """User-defined (pure) functions reachable from `names`, callees first."""
    unit = fx.unit
    order: list[str] = []
    seen: set[str] = set()

    def visit(n: str):
        if n in seen or n not in unit.functions or n == fx.signature.name:
            return
        seen.add(n)
        body = unit.functions[n]
        for node in walk(body):
            if node.type == "call_expression":
                visit(text(node.child_by_field_name("function")).replace(" ", ""))
        order.append(n)
    for n in names:
        visit(n)
    return order


def iminmax_needed(code: str) -> str:
    """The helper definitions when `code` uses them."""
    import re
    return IMINMAX_C if re.search(r"__pl_im(ax|in)\s*\(", code) else ""


def skip_edits(loop: Loop) -> list[tuple[int, int, str]]:
    """Edits removing the trailing increment of a while-form loop body."""
    if loop.skip_stmt is None:
        return []
    return [(loop.skip_stmt.start_byte, loop.skip_stmt.end_byte, "")]

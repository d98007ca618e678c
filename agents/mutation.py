"""Mutation testing of a suite: how many wrong parallel candidates does it kill?

Source-level operators turn a correct parallel candidate into plausible wrong
ones, each a single change of the kind translators get wrong:

  drop_reduction   remove an OpenMP `reduction(...)` clause; run an
                   MPI_Reduce/MPI_Allreduce over MPI_COMM_SELF (no combining)
  shrink_bound     a loop runs one iteration less (last or first iteration
                   dropped; a CUDA `if (i < n)` guard one short)
  drop_remainder   the remainder chunk is lost: `(n + b - 1) / b` -> `n / b`,
                   `n % size` -> 0, "the last rank takes the rest" -> never
  swap_index       two loop variables swapped inside one subscript
  remove_barrier   `#pragma omp barrier`, an implicit barrier (`nowait`
                   added), `MPI_Barrier`, `__syncthreads()` removed
  atomic_to_plain  `#pragma omp atomic` / `critical` removed; CUDA
                   `atomicAdd(p, v)` -> `*(p) += v`
  drop_private     a variable removed from a `private(...)` clause (shared)

Equivalent mutants are never counted against a suite silently: a mutant whose
token stream equals the original's is not generated; a mutant that a rule
shows to be equivalent carries the reason in `Mutant.equivalent` (e.g. a
`nowait` on the last construct of a parallel region, `private(i)` of the
loop's own iteration variable, an MPI_Barrier in pure message passing) and is
left out of the score only if it survives; every survivor is listed for a
human to audit. Mutants that do not build or break policy are "stillborn"
and are left out of the score too (no test could kill them).

score = killed / (killed + static + survivors not shown equivalent), where
"static" mutants passed every test and were rejected only by verify's static
race check: they count against the suite (`verify_score` credits them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from paralift.types import Candidate, Target, Task, TestSuite, Verdict

from .extract import _match_forward   # index of the bracket closing the one at s[i] (or -1)

OPERATORS = ("drop_reduction", "shrink_bound", "drop_remainder", "swap_index", "remove_barrier",
             "atomic_to_plain", "drop_private")


@dataclass
class Mutant:
    id: str
    operator: str
    line: int
    description: str
    code: str
    equivalent: str = ""          # non-empty: why this mutant is presumed equivalent


@dataclass
class MutantResult:
    mutant: Mutant
    status: str                   # killed | static | survived | equivalent | stillborn | error
    detail: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict:
        m = self.mutant
        return {"id": m.id, "operator": m.operator, "line": m.line, "description": m.description,
                "status": self.status, "detail": self.detail, "equivalent": m.equivalent,
                "seconds": round(self.seconds, 2)}


@dataclass
class MutationReport:
    function: str
    target: str
    candidate: str                # label of the mutated candidate
    original_status: str          # the unmutated candidate's verdict status
    original_reason: str = ""
    results: list[MutantResult] = field(default_factory=list)

    def count(self, status: str, operator: str | None = None) -> int:
        return sum(1 for r in self.results if r.status == status and (operator is None or r.mutant.operator == operator))

    @property
    def killed(self) -> int:
        return self.count("killed")

    @property
    def survived(self) -> int:
        return self.count("survived")

    def score(self, operator: str | None = None) -> float | None:
        """The suite's score: mutants its tests killed over those that are
        killable (a mutant only verify's static race check caught counts as
        surviving the tests)."""
        k = self.count("killed", operator)
        s = self.count("survived", operator) + self.count("static", operator)
        return None if k + s == 0 else k / (k + s)

    def verify_score(self, operator: str | None = None) -> float | None:
        """verify's score: tests and static checks together."""
        k = self.count("killed", operator) + self.count("static", operator)
        s = self.count("survived", operator)
        return None if k + s == 0 else k / (k + s)

    def per_operator(self) -> dict[str, dict]:
        out = {}
        for op in OPERATORS:
            n = sum(1 for r in self.results if r.mutant.operator == op)
            if n:
                out[op] = {"mutants": n, "killed": self.count("killed", op), "static": self.count("static", op),
                           "survived": self.count("survived", op),
                           "equivalent": self.count("equivalent", op), "stillborn": self.count("stillborn", op),
                           "error": self.count("error", op), "score": self.score(op)}
        return out

    def to_json(self) -> dict:
        return {"function": self.function, "target": self.target, "candidate": self.candidate,
                "original": {"status": self.original_status, "reason": self.original_reason},
                "mutants": len(self.results), "killed": self.killed, "static": self.count("static"),
                "survived": self.survived, "verify_score": self.verify_score(),
                "equivalent": self.count("equivalent"), "stillborn": self.count("stillborn"),
                "error": self.count("error"), "score": self.score(), "per_operator": self.per_operator(),
                "survivors": [r.to_json() for r in self.results if r.status in ("survived", "static", "equivalent")],
                "results": [r.to_json() for r in self.results]}


# ================================================================== text helpers

def code_mask(code: str) -> str:
    """`code` with comments and string/char literals blanked (same length,
    newlines kept), so that patterns only ever match real code."""
    out = list(code)
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            j = code.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif code.startswith("/*", i):
            j = code.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if code[k] != "\n":
                    out[k] = " "
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and code[j] != c and code[j] != "\n":
                j += 2 if code[j] == "\\" else 1
            for k in range(i + 1, min(j, n)):
                out[k] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out)


_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+\.?\d*(?:[eE][+-]?\d+)?[fFuUlL]*|->|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||"
                    r"\+\+|--|[-+*/%&|^!~<>=?:;,.()\[\]{}#\\]")


def tokens(code: str) -> list[str]:
    return _TOKEN.findall(code_mask(code).replace("\\\n", " "))


def _split_top(s: str, sep: str) -> list[tuple[int, int]]:
    """Spans of `s` split at top-level `sep` characters."""
    spans, depth, start = [], 0, 0
    for j, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            spans.append((start, j))
            start = j + 1
    spans.append((start, len(s)))
    return spans


def _line_of(code: str, pos: int) -> int:
    return code.count("\n", 0, pos) + 1


def _pragma_spans(mask: str) -> list[tuple[int, int]]:
    """(start, end) of each `#pragma omp` directive, continuation lines included."""
    out = []
    for m in re.finditer(r"(?m)^[ \t]*#[ \t]*pragma[ \t]+omp\b", mask):
        end = m.end()
        while True:
            nl = mask.find("\n", end)
            if nl < 0:
                end = len(mask)
                break
            if mask[:nl].rstrip(" \t").endswith("\\"):
                end = nl + 1
                continue
            end = nl
            break
        out.append((m.start(), end))
    return out


def _skip_ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\r\n":
        i += 1
    return i


def _statement_end(mask: str, i: int) -> int:
    """End (exclusive) of the C statement starting at or after i (blocks,
    for/while/if with bodies, pragmas, and plain `...;` statements)."""
    i = _skip_ws(mask, i)
    if i >= len(mask):
        return i
    if mask[i] == "{":
        j = _match_forward(mask, i)
        return len(mask) if j < 0 else j + 1
    if mask[i] == "#":
        nl = mask.find("\n", i)
        while nl >= 0 and mask[:nl].rstrip().endswith("\\"):
            nl = mask.find("\n", nl + 1)
        return _statement_end(mask, len(mask) if nl < 0 else nl + 1)
    m = re.match(r"(for|while|if|switch)\s*\(", mask[i:])
    if m:
        p = i + m.end() - 1
        q = _match_forward(mask, p, "(", ")")
        if q < 0:
            return len(mask)
        end = _statement_end(mask, q + 1)
        if m.group(1) == "if":
            k = _skip_ws(mask, end)
            if mask.startswith("else", k) and not (k + 4 < len(mask) and (mask[k + 4].isalnum() or mask[k + 4] == "_")):
                end = _statement_end(mask, k + 4)
        return end
    if mask.startswith("do", i) and not mask[i + 2:i + 3].isalnum():
        end = _statement_end(mask, i + 2)
        j = mask.find(";", end)
        return len(mask) if j < 0 else j + 1
    depth = 0
    for j in range(i, len(mask)):
        ch = mask[j]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return j
        elif ch == ";" and depth == 0:
            return j + 1
    return len(mask)


def _enclosing_block_end(mask: str, pos: int) -> int:
    """Index of the `}` closing the innermost block around pos (or -1)."""
    depth = 0
    for j in range(pos, len(mask)):
        if mask[j] == "{":
            depth += 1
        elif mask[j] == "}":
            if depth == 0:
                return j
            depth -= 1
    return -1


# ================================================================== operators

@dataclass
class _Edit:
    start: int
    end: int
    text: str


def _apply(code: str, edits: list[_Edit]) -> str:
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        code = code[:e.start] + e.text + code[e.end:]
    return code


Gen = Iterable[tuple[list[_Edit], int, str, str]]   # edits, position, description, equivalence reason


_SIMD_ONLY = re.compile(r"#\s*pragma\s+omp\s+simd\b")
SIMD_ONLY_REASON = ("a `simd`-only loop runs in one thread: without the clause the compiler keeps the carried "
                    "accumulator sequential (no thread can lose an update; only the rounding order differs)")


def _op_drop_reduction(code: str, mask: str, target: Target) -> Gen:
    for ps, pe in _pragma_spans(mask):
        simd_only = bool(_SIMD_ONLY.match(mask[ps:pe].strip()))
        for m in re.finditer(r"\breduction\s*\(", mask[ps:pe]):
            a = ps + m.start()
            b = _match_forward(mask, ps + m.end() - 1, "(", ")")
            if b < 0 or b > pe:
                continue
            clause = " ".join(code[a:b + 1].split())
            yield [_Edit(a, b + 1, "")], a, f"removed `{clause}`", SIMD_ONLY_REASON if simd_only else ""
    for m in re.finditer(r"\bMPI_(Reduce|Allreduce)\s*\(", mask):
        p = m.end() - 1
        q = _match_forward(mask, p, "(", ")")
        if q < 0:
            continue
        inner = code[p + 1:q]
        args = [inner[a:b].strip() for a, b in _split_top(mask[p + 1:q], ",")]
        need = 7 if m.group(1) == "Reduce" else 6
        if len(args) != need:
            continue
        # The same call over MPI_COMM_SELF: each rank "reduces" only its own
        # contribution (a local copy), and the candidate still communicates.
        if m.group(1) == "Reduce":
            args[5] = "0"
        args[-1] = "MPI_COMM_SELF"
        repl = f"MPI_{m.group(1)}({', '.join(args)})"
        yield [_Edit(m.start(), q + 1, repl)], m.start(), \
            f"MPI_{m.group(1)} over MPI_COMM_SELF (partial results never combined)", ""


_CMP = re.compile(r"(?<![<>=!])(<=|>=|<|>)(?![<>=])")


def _loop_headers(mask: str) -> list[tuple[str, int, int]]:
    """(keyword, open paren, close paren) of every for/while header."""
    out = []
    for m in re.finditer(r"\b(for|while)\s*\(", mask):
        p = m.end() - 1
        q = _match_forward(mask, p, "(", ")")
        if q > 0:
            out.append((m.group(1), p, q))
    return out


def _single_comparison(mask: str, a: int, b: int) -> tuple[int, int, str] | None:
    """The one top-level comparison in mask[a:b] (no && / || / ?:): (start, end, op)."""
    seg = mask[a:b]
    if "&&" in seg or "||" in seg or "?" in seg:
        return None
    found = []
    depth = 0
    j = 0
    while j < len(seg):
        ch = seg[j]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in "<>":
            if seg.startswith(("<<", ">>"), j) or (j > 0 and seg[j - 1] == "-" and ch == ">"):
                j += 2
                continue
            op = seg[j:j + 2] if seg[j + 1:j + 2] == "=" else ch
            found.append((a + j, a + j + len(op), op))
            j += len(op)
            continue
        j += 1
    if len(found) != 1:
        return None
    return found[0]


def _op_shrink_bound(code: str, mask: str, target: Target) -> Gen:
    for kw, p, q in _loop_headers(mask):
        if kw == "for":
            parts = _split_top(mask[p + 1:q], ";")
            if len(parts) != 3:
                continue
            (ia, ib), (ca, cb), _ = [(p + 1 + a, p + 1 + b) for a, b in parts]
        else:
            ia = ib = None
            ca, cb = p + 1, q
        cmp = _single_comparison(mask, ca, cb)
        if cmp is None:
            continue
        s, e, op = cmp
        lhs = code[ca:s].strip()
        rhs = code[e:cb].strip()
        if not lhs or not rhs:
            continue
        line_desc = " ".join(code[ca:cb].split())
        var = lhs if re.fullmatch(r"[A-Za-z_]\w*", lhs) else None
        up = op in ("<", "<=")
        # Upper end: one iteration less at the end.
        if op == "<":
            new = f"{code[ca:e]} ({rhs}) - 1"
        elif op == "<=":
            new = f"{code[ca:s]}< {rhs}"
        elif op == ">":
            new = f"{code[ca:e]} ({rhs}) + 1"
        else:
            new = f"{code[ca:s]}> {rhs}"
        yield [_Edit(ca, cb, " " + new.strip() + " " if kw == "for" else new.strip())], ca, \
            f"`{line_desc}` -> `{' '.join(new.split())}` (last iteration dropped)", ""
        # Lower end: the first iteration dropped (for loops whose init sets the variable).
        if kw == "for" and var is not None and ia is not None:
            init = mask[ia:ib]
            mi = re.search(rf"\b{re.escape(var)}\s*=(?!=)\s*", init)
            if mi:
                va = ia + mi.end()
                # up to the next top-level comma (int r = 0, off = 0) or the end
                vb = va + _split_top(mask[va:ib], ",")[0][1]
                val = code[va:vb].strip()
                if val:
                    sign = "+" if up else "-"
                    yield [_Edit(va, vb, f"({val}) {sign} 1")], ia, \
                        f"`{var} = {val}` -> `{var} = ({val}) {sign} 1` (first iteration dropped)", ""
    # CUDA guards: `if (idx < n)` in a kernel, where idx is an index (a
    # threadIdx/blockIdx component or an integer variable). A data comparison
    # (`if (x[i] < m)`, m a double) is no bound: shifting it by one is another operator.
    if target == Target.CUDA:
        for m in re.finditer(r"\bif\s*\(", mask):
            p = m.end() - 1
            q = _match_forward(mask, p, "(", ")")
            if q < 0 or not _in_global(mask, m.start()):
                continue
            cmp = _single_comparison(mask, p + 1, q)
            if cmp is None or cmp[2] not in ("<", "<=") or not _is_index(mask, code[p + 1:cmp[0]].strip()):
                continue
            s, e, op = cmp
            rhs = code[e:q].strip()
            new = f"{code[p + 1:e]} ({rhs}) - 1" if op == "<" else f"{code[p + 1:s]}< {rhs}"
            yield [_Edit(p + 1, q, new.strip())], p, f"guard `{' '.join(code[p + 1:q].split())}` one short", ""


_INT_TYPE = r"(?:(?:const|unsigned|signed)\s+)*(?:int|long|long\s+long|short|size_t|ptrdiff_t|u?int(?:8|16|32|64)_t|unsigned)"


def _is_index(mask: str, lhs: str) -> bool:
    """Whether `lhs` is a threadIdx/blockIdx component or a variable declared with an integer type."""
    if re.fullmatch(r"(?:threadIdx|blockIdx)\.[xyz]", lhs):
        return True
    if not re.fullmatch(r"[A-Za-z_]\w*", lhs):
        return False
    return re.search(rf"\b{_INT_TYPE}\s+(?:[A-Za-z_]\w*\s*=[^;,()]*,\s*)*{re.escape(lhs)}\s*[=;,)\[]", mask) is not None


def _in_global(mask: str, pos: int) -> bool:
    """Whether pos lies in the body of a __global__ function."""
    for m in re.finditer(r"__global__[^;{]*\{", mask):
        b = m.end() - 1
        e = _match_forward(mask, b)
        if b < pos < e:
            return True
    return False


def _worker_names(mask: str) -> set[str]:
    names = set()
    for m in re.finditer(r"\bMPI_Comm_size\s*\([^,()]+,\s*&\s*([A-Za-z_]\w*)\s*\)", mask):
        names.add(m.group(1))
    for m in re.finditer(r"\b([A-Za-z_]\w*)\s*=\s*omp_get_num_threads\s*\(\s*\)", mask):
        names.add(m.group(1))
    return names


_OPERAND = r"(?:[A-Za-z_][\w]*(?:(?:\.|->)[A-Za-z_]\w*)*|\d+|\([^()]*\))"


def _op_drop_remainder(code: str, mask: str, target: Target) -> Gen:
    workers = _worker_names(mask)
    # (a + b - 1) / b  ->  (a) / b
    for m in re.finditer(rf"\(\s*(?P<a>[^()]*?(?:\([^()]*\)[^()]*?)*)\s*\+\s*(?P<b>{_OPERAND})\s*-\s*1\s*\)\s*/\s*(?P<c>{_OPERAND})",
                         mask):
        if m.group("b").replace(" ", "") != m.group("c").replace(" ", ""):
            continue
        a = code[m.start("a"):m.end("a")].strip()
        c = code[m.start("c"):m.end("c")]
        yield [_Edit(m.start(), m.end(), f"({a}) / {c}")], m.start(), \
            f"ceil-division `{' '.join(code[m.start():m.end()].split())}` -> `({a}) / {c}` (remainder dropped)", ""
    # (a + K) / (K+1) with numbers: (n + 255) / 256
    for m in re.finditer(r"\(\s*(?P<a>[^()]*?)\s*\+\s*(?P<k>\d+)\s*\)\s*/\s*(?P<c>\d+)\b", mask):
        if int(m.group("k")) < 1 or int(m.group("k")) + 1 != int(m.group("c")):
            continue
        a = code[m.start("a"):m.end("a")].strip()
        yield [_Edit(m.start(), m.end(), f"({a}) / {m.group('c')}")], m.start(), \
            f"ceil-division `{' '.join(code[m.start():m.end()].split())}` -> `({a}) / {m.group('c')}`", ""
    # n % size -> 0
    if workers:
        for m in re.finditer(rf"(?P<l>{_OPERAND})\s*%\s*(?P<r>{_OPERAND})", mask):
            if m.group("r").strip("() ") not in workers:
                continue
            yield [_Edit(m.start(), m.end(), "0")], m.start(), \
                f"remainder `{' '.join(code[m.start():m.end()].split())}` -> 0", ""
        # rank == size - 1 (the last rank takes the rest) -> never
        for m in re.finditer(rf"\b(?P<x>[A-Za-z_]\w*)\s*==\s*(?P<w>[A-Za-z_]\w*)\s*-\s*1\b", mask):
            if m.group("w") not in workers:
                continue
            yield [_Edit(m.start(), m.end(), "0")], m.start(), \
                f"`{' '.join(code[m.start():m.end()].split())}` -> 0 (the last rank no longer takes the rest)", ""


def _loop_vars(mask: str) -> list[str]:
    out = []
    for kw, p, q in _loop_headers(mask):
        if kw != "for":
            continue
        parts = _split_top(mask[p + 1:q], ";")
        if len(parts) != 3:
            continue
        init = mask[p + 1 + parts[0][0]:p + 1 + parts[0][1]]
        m = re.search(r"([A-Za-z_]\w*)\s*=(?!=)", init)
        if m and m.group(1) not in out:
            out.append(m.group(1))
    # CUDA thread indices
    for m in re.finditer(r"\b(?:int|long|size_t|unsigned)\s+([A-Za-z_]\w*)\s*=\s*[^;]*\b(?:threadIdx|blockIdx)\b", mask):
        if m.group(1) not in out:
            out.append(m.group(1))
    return out


def _op_swap_index(code: str, mask: str, target: Target) -> Gen:
    lvars = set(_loop_vars(mask))
    if len(lvars) < 2:
        return
    pragmas = _pragma_spans(mask)
    for m in re.finditer(r"[A-Za-z_\]\)]\s*\[", mask):
        a = m.end() - 1
        b = _match_forward(mask, a, "[", "]")
        if b < 0 or any(ps <= a < pe for ps, pe in pragmas):
            continue
        sub = mask[a + 1:b]
        if "[" in sub:
            continue            # nested subscripts: their own mutants
        names = []
        for t in re.finditer(r"\b[A-Za-z_]\w*\b", sub):
            if t.group(0) in lvars and t.group(0) not in names:
                names.append(t.group(0))
        # The first pair whose swap changes the subscript's value: swapping the
        # two terms of `i + di` is no mutant at all.
        for x, y in ((x, y) for i, x in enumerate(names) for y in names[i + 1:]):
            new = re.sub(rf"\b({re.escape(x)}|{re.escape(y)})\b", lambda k: y if k.group(0) == x else x,
                         code[a + 1:b])
            if _same_value(code[a + 1:b], new):
                continue
            yield [_Edit(a + 1, b, new)], a, f"`[{' '.join(code[a + 1:b].split())}]` -> `[{' '.join(new.split())}]`", ""
            break


_CAST = re.compile(r"\(\s*(?:const\s+)?(?:unsigned\s+|signed\s+)?(?:long\s+long|long|int|short|size_t|ptrdiff_t|"
                   r"int64_t|uint64_t|int32_t|uint32_t|std::size_t)\s*\)")


def _same_value(a: str, b: str) -> bool:
    """Whether two integer subscript expressions agree on random values of
    their names (False when they cannot be evaluated: then they differ)."""
    import ast
    import random

    def compile_(e: str):
        e = _CAST.sub(" ", e)
        if not re.fullmatch(r"[\w\s+\-*/%()]*", e):
            return None
        try:
            tree = ast.parse(e.strip(), mode="eval")
        except SyntaxError:
            return None
        for n in ast.walk(tree):
            if not isinstance(n, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load,
                                  ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.USub, ast.UAdd)):
                return None
        return tree

    ta, tb = compile_(a), compile_(b)
    if ta is None or tb is None:
        return False
    names = sorted({n.id for t in (ta, tb) for n in ast.walk(t) if isinstance(n, ast.Name)})
    rng = random.Random(12345)

    def ev(node, env):
        if isinstance(node, ast.Expression):
            return ev(node.body, env)
        if isinstance(node, ast.Constant):
            return int(node.value)
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand, env)
            return -v if isinstance(node.op, ast.USub) else v
        l, r = ev(node.left, env), ev(node.right, env)
        if isinstance(node.op, ast.Add):
            return l + r
        if isinstance(node.op, ast.Sub):
            return l - r
        if isinstance(node.op, ast.Mult):
            return l * r
        if r == 0:
            raise ZeroDivisionError
        q = abs(l) // abs(r) * (1 if (l >= 0) == (r >= 0) else -1)      # C division truncates
        return q if isinstance(node.op, ast.Div) else l - q * r

    try:
        for _ in range(16):
            env = {n: rng.randint(1, 1000) for n in names}
            if ev(ta, env) != ev(tb, env):
                return False
    except (ZeroDivisionError, KeyError, ValueError, TypeError):
        return False
    return True


def _op_remove_barrier(code: str, mask: str, target: Target) -> Gen:
    pragmas = _pragma_spans(mask)
    for ps, pe in pragmas:
        text = mask[ps:pe]
        if re.search(r"#\s*pragma\s+omp\s+barrier\b", text):
            yield [_Edit(ps, pe, "")], ps, "removed `#pragma omp barrier`", ""
            continue
        m = re.search(r"#\s*pragma\s+omp\s+(for|single|sections)\b", text)
        if m and "nowait" not in text:
            after = _statement_end(mask, pe)
            close = _enclosing_block_end(mask, pe)
            equiv = ""
            if close >= 0 and mask[after:close].strip() == "":
                equiv = "the construct ends its parallel region, whose own barrier follows"
            yield [_Edit(pe, pe, " nowait")], ps, f"`#pragma omp {m.group(1)}` made `nowait` (implicit barrier removed)", \
                equiv
    one_sided = re.search(r"\bMPI_(Win_\w+|Put|Get|Accumulate|Rput|Rget)\s*\(", mask)
    for m in re.finditer(r"\bMPI_Barrier\s*\([^;]*\)\s*;", mask):
        equiv = "" if one_sided else ("MPI_Barrier orders nothing the results depend on in pure message passing "
                                      "(no one-sided communication here)")
        yield [_Edit(m.start(), m.end(), ";")], m.start(), "removed MPI_Barrier", equiv
    for m in re.finditer(r"\b__syncthreads\s*\(\s*\)\s*;", mask):
        yield [_Edit(m.start(), m.end(), ";")], m.start(), "removed __syncthreads()", ""


def _op_atomic_to_plain(code: str, mask: str, target: Target) -> Gen:
    for ps, pe in _pragma_spans(mask):
        m = re.search(r"#\s*pragma\s+omp\s+(atomic|critical)\b", mask[ps:pe])
        if m:
            yield [_Edit(ps, pe, "")], ps, f"removed `#pragma omp {m.group(1)}` (plain update)", ""
    ops = {"atomicAdd": "+=", "atomicSub": "-=", "atomicOr": "|=", "atomicAnd": "&=", "atomicXor": "^="}
    for m in re.finditer(r"\b(atomicAdd|atomicSub|atomicOr|atomicAnd|atomicXor)(?:_block|_system)?\s*\(", mask):
        p = m.end() - 1
        q = _match_forward(mask, p, "(", ")")
        if q < 0:
            continue
        args = [code[p + 1 + a:p + 1 + b].strip() for a, b in _split_top(mask[p + 1:q], ",")]
        if len(args) != 2:
            continue
        repl = f"(*({args[0]}) {ops[m.group(1)]} ({args[1]}))"
        yield [_Edit(m.start(), q + 1, repl)], m.start(), f"{m.group(1)} made a plain `{ops[m.group(1)]}`", ""


def _op_drop_private(code: str, mask: str, target: Target) -> Gen:
    for ps, pe in _pragma_spans(mask):
        for m in re.finditer(r"(?<![\w])private\s*\(", mask[ps:pe]):
            a = ps + m.start()
            p = ps + m.end() - 1
            q = _match_forward(mask, p, "(", ")")
            if q < 0 or q > pe:
                continue
            names = [code[p + 1 + s:p + 1 + e].strip() for s, e in _split_top(mask[p + 1:q], ",")]
            own = _associated_loop_vars(mask, pe, mask[ps:pe])
            simd = _simd_loop_vars(mask, pe, _statement_end(mask, pe))
            for k, nm in enumerate(names):
                rest = [x for j, x in enumerate(names) if j != k]
                new = f"private({', '.join(rest)})" if rest else ""
                equiv = f"`{nm}` is the iteration variable of the construct's own loop (private anyway)" \
                    if nm in own else ""
                if not equiv and nm in simd:
                    equiv = (f"`{nm}` is the iteration variable of an inner `omp simd` loop, which makes it linear "
                             f"(a private copy per thread); only its final value, the same in every thread, is "
                             f"written back to the shared variable, which nothing reads")
                yield [_Edit(a, q + 1, new)], a, f"`{nm}` removed from `private(...)` (now shared)", equiv


def _simd_loop_vars(mask: str, start: int, end: int) -> set[str]:
    """Iteration variables of the loops under `#pragma omp simd` in mask[start:end]."""
    out = set()
    for ps, pe in _pragma_spans(mask):
        if start <= ps < end and _SIMD_ONLY.match(mask[ps:pe].strip()):
            out |= _associated_loop_vars(mask, pe, "for " + mask[ps:pe])
    return out


def _associated_loop_vars(mask: str, pe: int, pragma: str) -> set[str]:
    """Iteration variables of the loop(s) a `for` construct applies to."""
    if not re.search(r"\bfor\b", pragma):
        return set()
    m = re.search(r"\bcollapse\s*\(\s*(\d+)\s*\)", pragma)
    depth = int(m.group(1)) if m else 1
    out, pos = set(), pe
    for _ in range(depth):
        k = _skip_ws(mask, pos)
        while k < len(mask) and mask[k] == "{":
            k = _skip_ws(mask, k + 1)
        mf = re.match(r"for\s*\(", mask[k:])
        if not mf:
            break
        p = k + mf.end() - 1
        q = _match_forward(mask, p, "(", ")")
        init = mask[p + 1:q].split(";")[0]
        mv = re.search(r"([A-Za-z_]\w*)\s*=(?!=)", init)
        if mv:
            out.add(mv.group(1))
        pos = q + 1
    return out


_OPS: dict[str, Callable[[str, str, Target], Gen]] = {
    "drop_reduction": _op_drop_reduction, "shrink_bound": _op_shrink_bound, "drop_remainder": _op_drop_remainder,
    "swap_index": _op_swap_index, "remove_barrier": _op_remove_barrier, "atomic_to_plain": _op_atomic_to_plain,
    "drop_private": _op_drop_private,
}


def mutants(code: str, target: Target | str, operators: Iterable[str] | None = None) -> list[Mutant]:
    """Every mutant of `code` under the chosen operators. Mutants identical in
    tokens to the original or to an earlier mutant are dropped."""
    target = Target.parse(target) if isinstance(target, str) else target
    mask = code_mask(code)
    base = tokens(code)
    seen = {tuple(base)}
    out: list[Mutant] = []
    ops = list(operators or OPERATORS)
    for op in ops:
        if op not in _OPS:
            raise ValueError(f"unknown mutation operator {op!r} (choose from {', '.join(OPERATORS)})")
        k = 0
        for edits, pos, desc, equiv in _OPS[op](code, mask, target):
            new = _apply(code, edits)
            tk = tuple(tokens(new))
            if tk in seen:
                continue
            seen.add(tk)
            k += 1
            out.append(Mutant(f"{op}#{k}", op, _line_of(code, pos), desc, new, equiv))
    return out


# ================================================================== running

def run_mutants(task: Task, candidate: Candidate, suite: TestSuite | None, options=None,
                operators: Iterable[str] | None = None, label: str = "", workers: int | None = None,
                on_result: Callable[[MutantResult], None] | None = None) -> MutationReport:
    """Verify the candidate, then (when it verifies) each of its mutants, with `suite`."""
    import concurrent.futures as cf
    import dataclasses
    import os
    import time

    from paralift.sandbox import VerifyOptions, verify

    opts = options or VerifyOptions(timing=False)
    target = candidate.target
    original = verify(task, candidate, suite, opts)
    report = MutationReport(task.function, target.value, label or candidate.agent, original.status, original.reason)
    if not original.verified:
        return report
    ms = mutants(candidate.code, target, operators)
    # A mutant is killed by its first failing configuration: the rest would only list more failures.
    mopts = dataclasses.replace(opts, fail_fast=True)

    def one(m: Mutant) -> MutantResult:
        t0 = time.perf_counter()
        try:
            v = verify(task, Candidate(m.code, target, agent=f"mutant:{m.id}"), suite, mopts)
        except Exception as e:  # noqa: BLE001 - an infrastructure failure is this mutant's error
            res = MutantResult(m, "error", f"{type(e).__name__}: {e}")
        else:
            res = classify(m, v)
        res.seconds = time.perf_counter() - t0
        if on_result:
            on_result(res)
        return res

    n = workers or min(len(ms), os.cpu_count() or 2) or 1
    with cf.ThreadPoolExecutor(max_workers=n) as ex:
        report.results = list(ex.map(one, ms))
    return report


STATIC_ONLY = "the tests passed on this run"   # verify's wording when only its static race check failed


def classify(m: Mutant, v: Verdict) -> MutantResult:
    """killed: some test failed; static: the tests all passed and only
    verify's static race check rejected it (not to the suite's credit);
    survived / equivalent / stillborn / error as in the module docstring."""
    if v.verified:
        if m.equivalent:
            return MutantResult(m, "equivalent", m.equivalent)
        return MutantResult(m, "survived", f"passed {v.tests_passed}/{v.tests_total} tests")
    if not v.policy_ok:
        return MutantResult(m, "stillborn", v.reason)
    if v.status == "error" and not v.built:
        return MutantResult(m, "error", v.reason)
    if not v.built:
        return MutantResult(m, "stillborn", v.reason)
    if not v.failures and STATIC_ONLY in v.reason:
        # Every test passed; only verify's static race check objected.
        if m.equivalent:
            return MutantResult(m, "equivalent", f"{m.equivalent} (verify's static check: {v.reason})")
        return MutantResult(m, "static", v.reason)
    return MutantResult(m, "killed", v.reason)

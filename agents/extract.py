"""Getting code out of a model's completion, checking it, and making a candidate.

    code = extract_code(completion, "c", function="saxpy")   # fences, bare code, partial output
    reason = check_signature(code, task.signature, "c")      # None when the signature is kept
    unit = build_translation_unit(task, code, Target.OPENMP) # spliced into the original file

    # the directive ("edit") format of small models: the prompt numbers the loops,
    # the completion says which directive goes before which loop
    numbered = number_loops(function_text)                    # `/*L1*/ for (...)`
    code = apply_directives(function_text, "L1: #pragma omp parallel for reduction(+:s)")

Everything here is text processing over a small C/C++ lexer (comments and
literals masked, braces matched), so it tolerates what tree-sitter would
reject: CUDA's `<<<...>>>`, `__global__`, half-written output. Each failure
is an `ExtractionError` whose message is the reason the candidate is dropped.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from paralift.types import Signature, Target, Task

__all__ = ["ExtractionError", "FunctionSpan", "extract_code", "split_functions", "parse_params",
           "check_signature", "build_translation_unit", "extract_json", "number_loops", "loop_positions",
           "apply_directives", "directives_for"]


class ExtractionError(ValueError):
    """Why a completion gives no usable candidate (one line)."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


# ---------------------------------------------------------------------------
# lexing
# ---------------------------------------------------------------------------

def mask(code: str) -> str:
    """`code` with comments, string/char literals and preprocessor lines
    replaced by spaces (newlines kept), so offsets stay the same."""
    out = list(code)
    i, n = 0, len(code)
    line_start = True
    while i < n:
        c = code[i]
        if line_start and c in " \t":
            i += 1
            continue
        if line_start and c == "#":                 # preprocessor line (with continuations)
            j = i
            while j < n and code[j] != "\n":
                if code[j] == "\\" and j + 1 < n and code[j + 1] == "\n":
                    j += 2
                    continue
                j += 1
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
            continue
        line_start = False
        if c == "\n":
            line_start = True
            i += 1
        elif code.startswith("//", i):
            j = code.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif code.startswith("/*", i):
            j = code.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and code[j] != c and code[j] != "\n":
                j += 2 if code[j] == "\\" else 1
            j = min(n, j + 1)
            for k in range(i + 1, j - 1):
                out[k] = " "
            i = j
        else:
            i += 1
    return "".join(out)


@dataclass
class FunctionSpan:
    name: str
    start: int            # offset of the definition's first character (its header)
    end: int              # offset just past its closing brace
    header: str           # text before the body, e.g. 'extern "C" void f(int n, float *x)'
    params: str           # the text between the parameter list's parentheses
    prefix: str           # the header before the name (return type, specifiers)
    in_extern_c: bool = False

    def text(self, code: str) -> str:
        return code[self.start:self.end]


_NOT_FUNCTIONS = {"if", "for", "while", "switch", "return", "sizeof", "catch", "do", "else", "__attribute__",
                  "decltype", "alignas", "static_assert"}


def _match_back(m: str, close: int, open_ch: str = "(", close_ch: str = ")") -> int:
    depth = 0
    for k in range(close, -1, -1):
        if m[k] == close_ch:
            depth += 1
        elif m[k] == open_ch:
            depth -= 1
            if depth == 0:
                return k
    return -1


def _match_forward(m: str, open_: int, open_ch: str = "{", close_ch: str = "}") -> int:
    depth = 0
    for k in range(open_, len(m)):
        if m[k] == open_ch:
            depth += 1
        elif m[k] == close_ch:
            depth -= 1
            if depth == 0:
                return k
    return -1


_TRAILING_QUALS = re.compile(r"(\s*(const|noexcept|override|final|volatile|&&?|->\s*[\w:<>,\s*&]+|"
                             r"__attribute__\s*\(\(.*?\)\)))*\s*$", re.S)


def _function_header(code: str, m: str, start: int, brace: int) -> FunctionSpan | None:
    head = m[start:brace]
    stripped = _TRAILING_QUALS.sub("", head.rstrip())
    if not stripped.endswith(")"):
        return None
    close = start + len(stripped) - 1
    open_ = _match_back(m, close)
    if open_ < start:
        return None
    before = m[start:open_].rstrip()
    mm = re.search(r"([A-Za-z_~][\w]*(?:\s*::\s*~?[A-Za-z_]\w*)*)$", before)
    if not mm:
        return None
    name = re.sub(r"\s+", "", mm.group(1))
    if name.split("::")[-1] in _NOT_FUNCTIONS or "=" in before:
        return None
    # the first character of the header (skip leading blanks)
    s = start
    while s < brace and m[s].isspace():
        s += 1
    return FunctionSpan(name=name, start=s, end=-1, header=code[s:brace].strip(),
                        params=code[open_ + 1:close], prefix=code[s:start + mm.start()].strip())


def split_functions(code: str) -> tuple[list[FunctionSpan], str | None]:
    """Top-level function definitions of `code` (inside `extern "C" {}` and
    namespaces too), and the name of a definition cut off by the end of the
    text (partial output), if any."""
    m = mask(code)
    spans: list[FunctionSpan] = []
    i, n = 0, len(m)
    stmt = 0
    blocks: list[str] = []        # transparent blocks we are inside: "extern" | "namespace"
    while i < n:
        c = m[i]
        if c == ";":
            stmt = i + 1
        elif c == "}":
            if blocks:
                blocks.pop()
            stmt = i + 1
        elif c == "{":
            head = m[stmt:i].strip()
            if re.fullmatch(r'extern\s*"\s*"', head):
                blocks.append("extern")
                stmt = i + 1
            elif re.fullmatch(r"(inline\s+)?namespace(\s+[\w:]+)?", head):
                blocks.append("namespace")
                stmt = i + 1
            else:
                span = _function_header(code, m, stmt, i)
                end = _match_forward(m, i)
                if end < 0:
                    return spans, (span.name if span else None) or "?"
                if span is not None:
                    span.end = end + 1
                    span.in_extern_c = "extern" in blocks
                    spans.append(span)
                    stmt = end + 1
                # a struct/initializer: skip its body, the statement goes on to ';'
                i = end
        i += 1
    return spans, None


# ---------------------------------------------------------------------------
# extraction from a completion
# ---------------------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([\w+#.-]*)[^\n]*$", re.M)
_CODE_START = re.compile(r"^\s*(#\s*include|#\s*define|#\s*pragma|extern\b|static\b|inline\b|template\b|"
                         r"__global__|__device__|__host__|typedef\b|struct\b|using\b|namespace\b|"
                         r"(const\s+)?(unsigned\s+|signed\s+)?(void|int|long|short|char|float|double|bool|size_t|"
                         r"std::|u?int\d+_t|auto)\b|[A-Za-z_][\w:<>]*\s*[*&]*\s+[A-Za-z_]\w*\s*\()")


def _fenced_blocks(text: str) -> tuple[list[str], str]:
    """Code blocks between fences (an unclosed last fence runs to the end: partial
    output) and the text before the first fence."""
    fences = list(_FENCE.finditer(text))
    blocks = []
    head = text[:fences[0].start()] if fences else text
    k = 0
    while k < len(fences):
        open_ = fences[k]
        if k + 1 < len(fences):
            blocks.append(text[open_.end() + 1:fences[k + 1].start()])
            k += 2
        else:
            blocks.append(text[open_.end() + 1:])
            k += 1
    return blocks, head


def _strip_prose(text: str) -> str:
    lines = text.splitlines()
    start = next((k for k, l in enumerate(lines) if _CODE_START.match(l)), None)
    if start is None:
        return ""
    body = "\n".join(lines[start:])
    m = mask(body)
    last = m.rfind("}")
    if last >= 0 and not m[last + 1:].strip().startswith(";"):
        tail = body[last + 1:]
        # keep trailing lines that are still code (a prototype, a #define), drop prose
        keep = []
        for l in tail.splitlines()[1:]:
            if _CODE_START.match(l) or not l.strip():
                keep.append(l)
            else:
                break
        body = body[:last + 1] + ("\n" + "\n".join(keep).rstrip() if any(x.strip() for x in keep) else "")
    return body.strip("\n") + "\n"


def _defines(code: str, function: str) -> bool:
    return any(s.name.split("::")[-1] == function for s in split_functions(code)[0])


def extract_code(text: str, language: str = "c", function: str | None = None) -> str:
    """The code in a completion: fenced blocks (```c, ```cuda, unclosed ones),
    or code continuing a prompt that opened a fence (text up to the first
    fence), or bare code with prose around it. With `function`, the block that
    defines it is preferred, together with the other blocks that define
    functions it needs. Raises ExtractionError when nothing looks like code."""
    blocks, head = _fenced_blocks(text)
    pieces = []
    if blocks and head.strip() and (function is None or _defines(head, function)) and _CODE_START.match(head):
        pieces.append(_strip_prose(head))        # the prompt opened the fence: head is code
    pieces += [b for b in blocks if b.strip()]
    if not blocks:
        pieces = [_strip_prose(text)]
    pieces = [p for p in pieces if p.strip()]
    if not pieces:
        raise ExtractionError("the completion contains no code")
    if function is None or len(pieces) == 1:
        return _normalize(pieces[0])
    main = [p for p in pieces if _defines(p, function)]
    if not main:
        return _normalize(max(pieces, key=len))
    chosen = main[-1]            # a model that revises itself: the last version wins
    extra = []
    for p in pieces:
        if p is chosen:
            continue
        names = [s.name for s in split_functions(p)[0]]
        if names and function not in names and any(re.search(rf"\b{re.escape(x)}\s*(<<<|\()", chosen)
                                                   for x in names):
            extra.append(p)
    return _normalize("\n".join(extra + [chosen]))


def _normalize(code: str) -> str:
    return code.strip("\n") + "\n"


# ---------------------------------------------------------------------------
# signatures
# ---------------------------------------------------------------------------

_DROP_WORDS = {"restrict", "__restrict__", "__restrict", "register", "struct"}
_SPEC_WORDS = {"static", "inline", "extern", "__inline__", "__forceinline__", "__host__", "constexpr",
               "__attribute__", "__noinline__"}


def _split_top(text: str, sep: str = ",") -> list[str]:
    out, depth, cur = [], 0, []
    for c in text:
        if c in "(<[{":
            depth += 1
        elif c in ")>]}":
            depth -= 1
        if c == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur))
    return out


def _canon_type(t: str) -> str:
    """`const float *` == `float const*`; `T x[]` handled by the caller."""
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"\s*([*&])\s*", r" \1 ", t)
    t = re.sub(r"\s*<\s*", "<", re.sub(r"\s*>\s*", ">", re.sub(r"\s*,\s*", ",", t)))
    segs, cur = [], []
    for tok in t.split():
        if tok in ("*", "&", "&&"):
            segs.append(" ".join(sorted(cur)))
            segs.append(tok)
            cur = []
        elif tok not in _DROP_WORDS:
            cur.append(tok)
    segs.append(" ".join(sorted(cur)))
    return "".join(s for s in segs if s)


def parse_params(params: str) -> list[tuple[str, str]]:
    """[(canonical type, name)] of a parameter list's text."""
    params = re.sub(r"/\*.*?\*/|//[^\n]*", " ", params, flags=re.S).strip()
    if params in ("", "void"):
        return []
    out = []
    for p in _split_top(params):
        p = p.split("=")[0].strip()            # default arguments
        arrays = 0
        while True:
            mm = re.search(r"\[[^\[\]]*\]\s*$", p)
            if not mm:
                break
            arrays += 1
            p = p[:mm.start()].rstrip()
        mm = re.search(r"([A-Za-z_]\w*)\s*$", p)
        words = p.replace("*", " ").replace("&", " ").split()
        if mm and len([w for w in words if w not in _DROP_WORDS and w != "const"]) >= 2:
            name, typ = mm.group(1), p[:mm.start()]
        else:                                   # unnamed parameter
            name, typ = "", p
        # `T x[]` is `T *x`; `T x[][M]` is `T (*x)[M]`, kept as pointer-to-array text
        typ = typ + " *" * min(arrays, 1) + "[]" * max(0, arrays - 1)
        out.append((_canon_type(typ), name))
    return out


def _canon_return(prefix: str) -> tuple[str, list[str]]:
    words = re.sub(r'extern\s*"C"', " ", prefix)
    words = re.sub(r"__attribute__\s*\(\(.*?\)\)", " ", words)
    toks = re.sub(r"\s*([*&])\s*", r" \1 ", words).split()
    marks = [t for t in toks if t in ("__global__", "__device__")]
    kept = [t for t in toks if t not in _SPEC_WORDS and t not in marks]
    return _canon_type(" ".join(kept)), marks


def find_definition(code: str, function: str) -> FunctionSpan:
    spans, cut = split_functions(code)
    found = [s for s in spans if s.name.split("::")[-1] == function]
    if not found:
        if cut == function:
            raise ExtractionError(f"the completion stops inside {function}() (truncated output)")
        raise ExtractionError(f"the completion does not define {function}()")
    if len(found) > 1:
        raise ExtractionError(f"the completion defines {function}() {len(found)} times")
    return found[0]


def check_signature(code: str, signature: Signature, language: str = "c") -> str | None:
    """None when `code` defines the function with the same name, return type
    and parameter types (in order) as `signature`; otherwise the reason.
    Parameter names may differ (callers pass arguments by position)."""
    try:
        span = find_definition(code, signature.name)
    except ExtractionError as e:
        return str(e)
    ref = signature.text or ""
    ref_span = None
    if ref:
        ref_span, _ = split_functions(ref + " {}")
        ref_span = ref_span[0] if ref_span else None
    if ref_span is None:
        return None                              # nothing to compare against: accept the name
    want = [t for t, _ in parse_params(ref_span.params)]
    got_params = parse_params(span.params)
    got = [t for t, _ in got_params]
    names = [n for _, n in got_params if n]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        return f"{signature.name}() names two parameters '{dup}'"
    if len(want) != len(got):
        return (f"signature changed: {signature.name}() takes {len(got)} parameter(s), "
                f"the original takes {len(want)}")
    for k, (w, g) in enumerate(zip(want, got)):
        if w != g:
            return f"signature changed: parameter {k + 1} of {signature.name}() is '{g}', was '{w}'"
    want_ret, _ = _canon_return(ref_span.prefix)
    got_ret, marks = _canon_return(span.prefix)
    if marks:
        return f"{signature.name}() became a {marks[0]} function; it must stay a host function with the same signature"
    if want_ret and got_ret != want_ret:
        return f"signature changed: {signature.name}() returns '{got_ret}', was '{want_ret}'"
    return None


# ---------------------------------------------------------------------------
# candidates: whole translation units
# ---------------------------------------------------------------------------

_INCLUDE = re.compile(r"^\s*#\s*include\s*[<\"][^>\"]+[>\"]", re.M)


def _include_lines(code: str) -> list[str]:
    return [m.group(0).strip() for m in _INCLUDE.finditer(code)]


def _include_key(line: str) -> str:
    return re.sub(r"\s+", "", line)


def _original_span(task: Task) -> tuple[int, int]:
    """Character offsets of the function's definition in the original source."""
    try:
        span = find_definition(task.source, task.function)
        return span.start, span.end
    except ExtractionError:
        pass
    sig = task.signature
    if not (sig.start_line and sig.end_line):
        raise ExtractionError(f"cannot locate {task.function}() in the original source")
    lines = task.source.splitlines(keepends=True)
    start = sum(len(l) for l in lines[:sig.start_line - 1])
    end = sum(len(l) for l in lines[:sig.end_line])
    return start, end


def _add_includes(text: str, includes: list[str]) -> str:
    have = {_include_key(l) for l in _include_lines(text)}
    new = []
    for inc in includes:
        if _include_key(inc) not in have:
            have.add(_include_key(inc))
            new.append(inc)
    if not new:
        return text
    last = None
    for m in _INCLUDE.finditer(text):
        last = m
    if last is None:
        return "\n".join(new) + "\n" + text
    cut = text.find("\n", last.end())
    cut = len(text) if cut < 0 else cut + 1
    return text[:cut] + "\n".join(new) + "\n" + text[cut:]


def build_translation_unit(task: Task, code: str, target: Target) -> str:
    """The candidate's whole translation unit.

    OpenMP/MPI: the original file with the function's definition replaced by the
    model's (plus new helper functions the model wrote, before it) and the
    includes it needs (<omp.h>/<mpi.h>, and the model's own). CUDA: the model's
    .cu text without a `main`, with `extern "C"` on the function for C input and
    the original's includes and called helper functions (made static) that the
    model left out. Raises ExtractionError."""
    func = task.function
    span = find_definition(code, func)
    spans, _ = split_functions(code)
    original_names = {s.name for s in split_functions(task.source)[0]}
    if target == Target.CUDA:
        return _cuda_unit(task, code, span, spans, original_names)
    helpers = [s for s in spans if s.name not in (func, "main") and s.name not in original_names]
    new_text = "\n\n".join([s.text(code) for s in helpers] + [span.text(code)])
    start, end = _original_span(task)
    out = task.source[:start] + new_text + task.source[end:]
    needed = [l for l in _include_lines(code) if "omp.h" not in l and "mpi.h" not in l]
    if target == Target.OPENMP and (re.search(r"\bomp_\w+\s*\(", code) or "omp.h" in code):
        needed.insert(0, "#include <omp.h>")
    if target == Target.MPI:
        needed.insert(0, "#include <mpi.h>")
    return _add_includes(out, needed)


def _cuda_unit(task: Task, code: str, span: FunctionSpan, spans: list[FunctionSpan],
               original_names: set[str]) -> str:
    func = task.function
    # drop main (the caller has its own)
    for s in sorted((s for s in spans if s.name == "main"), key=lambda s: -s.start):
        code = code[:s.start] + code[s.end:]
    if task.language == "c":
        span = find_definition(code, func)
        if not span.in_extern_c and 'extern "C"' not in span.prefix:
            code = code[:span.start] + 'extern "C" ' + code[span.start:]
    if task.language == "c" and not span.in_extern_c:
        # prototypes of the function must agree on linkage
        proto = re.compile(rf'^(?P<ind>[ \t]*)(?!extern\s*"C")(?P<decl>[^\n;{{}}#]*\b{re.escape(func)}\s*\([^;{{}}]*\)\s*;)',
                           re.M)
        code = proto.sub(lambda m: f'{m.group("ind")}extern "C" {m.group("decl")}', code)
    defined = {s.name for s in split_functions(code)[0]}
    helpers = []
    for s in split_functions(task.source)[0]:
        if s.name in (func, "main") or s.name in defined:
            continue
        if re.search(rf"\b{re.escape(s.name)}\s*\(", mask(code)):
            text = s.text(task.source)
            if "static" not in s.prefix.split():
                text = "static " + text
            helpers.append(text)
    if helpers:
        first = split_functions(code)[0]
        at = min((s.start for s in first), default=len(code))
        code = code[:at] + "\n\n".join(helpers) + "\n\n" + code[at:]
    return _add_includes(code, _include_lines(task.source))


# ---------------------------------------------------------------------------
# JSON (tester agent answers)
# ---------------------------------------------------------------------------

def extract_json(text: str):
    """The first JSON value in a completion (fenced or bare). Raises ExtractionError."""
    blocks, _ = _fenced_blocks(text)
    for chunk in blocks + [text]:
        for start in [m.start() for m in re.finditer(r"[\[{]", chunk)]:
            try:
                value, _ = json.JSONDecoder().raw_decode(chunk[start:])
                return value
            except ValueError:
                continue
    raise ExtractionError("the completion contains no JSON")


# ---------------------------------------------------------------------------
# directive (edit) format: OpenMP as pragma insertions at numbered loops
# ---------------------------------------------------------------------------
#
# A small model need not copy the whole function to parallelize it: the prompt
# shows the function with its `for` loops numbered (`/*L1*/ for (...)`), and the
# completion is a list of lines
#     L1: #pragma omp parallel for reduction(+:sum)
#     L2.body: #pragma omp atomic
# (`Lk` inserts the directive before loop k, `Lk.body` before the first statement
# of loop k's body). `apply_directives` inserts them into the original function,
# whose signature is thereby kept; the result is verified like any candidate.

_FOR = re.compile(r"\bfor\b")
_DIRECTIVE = re.compile(r"^L(\d+)(\.body)?\s*:\s*(#\s*pragma\s+omp\b[^\n]*)$")


def loop_positions(code: str) -> list[int]:
    """Offsets of the `for` keywords of `code` (comments, literals and
    preprocessor lines skipped), in order: loop k is entry k-1."""
    return [m.start() for m in _FOR.finditer(mask(code))]


def number_loops(code: str) -> str:
    """`code` with a marker comment `/*Lk*/ ` before its k-th `for` keyword."""
    out, last = [], 0
    for k, pos in enumerate(loop_positions(code), 1):
        out += [code[last:pos], f"/*L{k}*/ "]
        last = pos
    return "".join(out) + code[last:]


def _body_start(code: str, m: str, pos: int) -> int:
    """Offset of the first statement of the body of the loop whose `for` is at `pos`."""
    open_ = m.find("(", pos)
    if open_ < 0 or m[pos + 3:open_].strip():
        raise ExtractionError("malformed for loop")
    k = _match_forward(m, open_, "(", ")")
    if k < 0:
        raise ExtractionError("malformed for loop")
    k += 1
    while k < len(m) and m[k].isspace():
        k += 1
    if k < len(m) and m[k] == "{":
        k += 1
        while k < len(m) and m[k].isspace():
            k += 1
    if k >= len(m) or m[k] == "}":
        raise ExtractionError("the loop has an empty body")
    return k


def _line_start(code: str, pos: int) -> int:
    return code.rfind("\n", 0, pos) + 1


def _insert_line(code: str, pos: int, line: str) -> str:
    """`line` on its own line before offset `pos`, indented like the code there."""
    start = _line_start(code, pos)
    before = code[start:pos]
    if before.strip():              # code before it on the same line: break the line
        indent = re.match(r"\s*", before).group(0)
        return code[:pos].rstrip(" \t") + "\n" + indent + line + "\n" + indent + code[pos:]
    return code[:start] + before + line + "\n" + code[start:]


def parse_directives(text: str) -> list[tuple[int, bool, str]]:
    """[(loop number, before its body?, directive)] from a completion. Raises ExtractionError."""
    body = text.split("```")[0]            # the completion continues an open fence
    out: list[tuple[int, bool, str]] = []
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = _DIRECTIVE.match(line)
        if not m:
            raise ExtractionError(f"not a directive line (expected `Lk: #pragma omp ...`): {line[:60]!r}")
        directive = " ".join(m.group(3).split()).replace("# pragma", "#pragma", 1)
        if directive.endswith("\\"):
            raise ExtractionError("a directive must fit on one line")
        item = (int(m.group(1)), bool(m.group(2)), directive)
        if item not in out:
            out.append(item)
    if not out:
        raise ExtractionError("the completion names no directive")
    return out


def apply_directives(code: str, text: str) -> str:
    """The function `code` with the directives of completion `text` inserted
    (see above). Raises ExtractionError for an unknown loop, two directives at
    one place, or a line that is not a directive."""
    items = parse_directives(text)
    m = mask(code)
    loops = loop_positions(code)
    places: dict[int, str] = {}
    for k, in_body, directive in items:
        if not 1 <= k <= len(loops):
            raise ExtractionError(f"the completion names loop L{k}, but the function has {len(loops)} loop(s)")
        pos = _body_start(code, m, loops[k - 1]) if in_body else loops[k - 1]
        if pos in places:
            raise ExtractionError(f"two directives for the same place (L{k}{'.body' if in_body else ''})")
        places[pos] = directive
    for pos in sorted(places, reverse=True):
        code = _insert_line(code, pos, places[pos])
    return code


def directives_for(source: str, target: str) -> str | None:
    """The directive list that turns function `source` into `target` when
    `target` is `source` with `#pragma omp` lines inserted before loops or loop
    bodies (as paralift's rule-based agent writes them); None otherwise. The
    answer is checked by applying it back."""
    src_lines = source.splitlines()
    tgt_lines = target.splitlines()
    m = mask(source)
    loops = loop_positions(source)
    bodies = {}
    for k, pos in enumerate(loops, 1):
        try:
            bodies[_body_start(source, m, pos)] = k
        except ExtractionError:
            pass
    offsets, acc = [], 0
    for line in src_lines:
        offsets.append(acc)
        acc += len(line) + 1
    out, i = [], 0
    for line in tgt_lines:
        if i < len(src_lines) and line == src_lines[i]:
            i += 1
            continue
        if not line.strip().startswith("#pragma omp") or i >= len(src_lines):
            return None
        first = offsets[i] + len(src_lines[i]) - len(src_lines[i].lstrip())
        if first in loops:
            out.append(f"L{loops.index(first) + 1}: {line.strip()}")
        elif first in bodies:
            out.append(f"L{bodies[first]}.body: {line.strip()}")
        else:
            return None
    if i != len(src_lines) or not out:
        return None
    text = "\n".join(out) + "\n"
    try:
        back = apply_directives(source, text)
    except ExtractionError:
        return None
    return text if " ".join(back.split()) == " ".join(target.split()) else None

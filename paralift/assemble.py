"""Assemble one output file from the verified candidates of several functions.

OpenMP/MPI candidates are whole translation units: a single winner is the
output as it is; several are merged into the original file by replacing each
function's definition and adding the includes the candidates need. CUDA
candidates are concatenated (includes deduplicated). The pipeline verifies the
assembled file again before writing it.
"""
from __future__ import annotations

import re

from paralift.types import Candidate, Target


def _definition_span(code: str, language: str, name: str) -> tuple[int, int] | None:
    from paralift.agents import AnalysisError, list_functions
    try:
        for sig in list_functions(code, language):
            if sig.name == name and sig.start_line and sig.end_line:
                return sig.start_line, sig.end_line
    except AnalysisError:
        return None
    from paralift.agents.cpp_members import definition_lines   # C++ templates and member functions
    return definition_lines(code, language, name)


def _includes(code: str) -> list[str]:
    return [l.strip() for l in code.splitlines() if re.match(r"\s*#\s*include\b", l)]


def merge(original: str, language: str, target: Target, chosen: dict[str, Candidate]) -> str:
    if len(chosen) == 1:
        return next(iter(chosen.values())).code   # exactly what was verified
    if target == Target.CUDA:
        return _concat(list(chosen.values()))
    lines = original.splitlines()
    replacements = []
    for name, cand in chosen.items():
        span_orig = _definition_span(original, language, name)
        span_cand = _definition_span(cand.code, language, name)
        if not span_orig or not span_cand:
            continue
        body = cand.code.splitlines()[span_cand[0] - 1:span_cand[1]]
        replacements.append((span_orig, body))
    for (start, end), body in sorted(replacements, key=lambda r: r[0][0], reverse=True):
        lines[start - 1:end] = body
    have = set(_includes(original))
    extra = []
    for cand in chosen.values():
        for inc in _includes(cand.code):
            if inc not in have:
                have.add(inc)
                extra.append(inc)
    text = "\n".join(extra + lines)
    return text + ("\n" if original.endswith("\n") else "")


def _blank_comments_and_literals(code: str) -> str:
    """Comments and string/char literals as spaces (newlines kept): same length, same offsets."""
    out, i, n = list(code), 0, len(code)
    while i < n:
        if code.startswith("//", i):
            j = code.find("\n", i)
            j = n if j < 0 else j
        elif code.startswith("/*", i):
            j = code.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif code[i] in "\"'":
            j = i + 1
            while j < n and code[j] != code[i] and code[j] != "\n":
                j += 2 if code[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def _top_level_chunks(code: str) -> list[str]:
    """The unit cut into its top-level items (a preprocessor line with its
    continuations, or text up to a `;` or `}` at brace depth 0). Comments and
    literals are blanked for the scan only, so the chunks keep their text."""
    scan = _blank_comments_and_literals(code)
    chunks, start, depth, i, n = [], 0, 0, 0, len(code)
    while i < n:
        c = scan[i]
        if c == "#" and depth == 0 and not scan[start:i].strip():
            while True:                 # a directive runs to the end of its line (and continuations)
                j = scan.find("\n", i)
                j = n if j < 0 else j
                if j > 0 and scan[j - 1] == "\\":
                    i = j + 1
                    continue
                break
            chunks.append(code[start:j + 1])
            start = i = j + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if depth == 0 and c in ";}":
            j = scan.find("\n", i)
            j = n if j < 0 else j
            chunks.append(code[start:j + 1])
            start = i = j + 1
            continue
        i += 1
    if code[start:].strip():
        chunks.append(code[start:])
    return chunks


def _concat(cands: list[Candidate]) -> str:
    """The CUDA units one after the other; a top-level item that an earlier
    unit already holds word for word (includes, the error-check macro, helper
    templates every rule-based translation carries) is kept once: defined
    twice, it would not compile."""
    seen: set[str] = set()
    parts = []
    for cand in cands:
        kept = []
        for chunk in _top_level_chunks(cand.code):
            key = " ".join(chunk.split())
            if key and key in seen:
                continue
            seen.add(key)
            kept.append(chunk)
        parts.append("".join(kept).rstrip("\n"))
    return "\n\n".join(parts) + "\n"


def compiler_message(log: str) -> str:
    """The line of a build log a user can act on: the compiler's or the
    linker's own error (`x.c:3: error: ...`, `undefined reference to 'f'`,
    `multiple definition of 'f'`), not the driver's summary
    (`collect2: error: ld returned 1 exit status`); '' when there is none."""
    for line in log.splitlines():
        low = line.lower()
        if low.lstrip().startswith("collect2"):
            continue
        if "error:" in low or "undefined reference" in low or "multiple definition" in low:
            return line.strip()[:300]
    return ""

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
    return None


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


def _concat(cands: list[Candidate]) -> str:
    seen: set[str] = set()
    parts = []
    for cand in cands:
        kept = []
        for line in cand.code.splitlines():
            if re.match(r"\s*#\s*include\b", line):
                if line.strip() in seen:
                    continue
                seen.add(line.strip())
            kept.append(line)
        parts.append("\n".join(kept))
    return "\n\n".join(parts) + "\n"

"""Loop distribution: the statements of a loop nest's body split into
separate copies of the nest, where isl proves it legal.

Why: an imperfect nest such as covariance's

    for i: for j >= i: { cov[i][j] = 0; for k: cov[i][j] += d[k][i]*d[k][j]; cov[i][j] /= n-1; ... }

cannot be interchanged as a whole, but its accumulation, once alone in its
copy of the (i, j) loops, is a perfect (i, j, k) band that loop
restructuring (agents/restructure.py) can reorder to (i, k, j), where every
access is stride-1 or invariant.

Legality (paralift.agents.polyhedral.Band.distribution_cut_legal): a cut
between two statements is legal when no statement after it touches an
element at some iteration that a statement before it touches at a later
iteration, one of the two writing. The set of every individually legal cut
is jointly legal (a pair of groups is always separated by one of them).
Only cuts next to a nested loop are made (they are what turns a nest into a
perfect one); bodies that declare variables at their top level are not split
(the copies would not see them). The result is sequential C with the same meaning; it is
the input of the other agents, and their candidates are verified against the
original function as always.
"""
from __future__ import annotations

from .codegen_common import splice
from .frontend import text
from .polyhedral import NotAffine, _canonical, build_band, perfect_band


def _statements(body) -> list | None:
    if body is None or body.type != "compound_statement":
        return None
    stmts = [c for c in body.named_children if c.type != "comment"]
    if len(stmts) < 2 or any(s.type == "declaration" for s in stmts):
        return None
    return stmts


def _is_loop(stmt) -> bool:
    return stmt.type in ("for_statement", "while_statement", "do_statement")


def _nest_text(data: bytes, loops, stmts, ind: str) -> str:
    lines = []
    for k, L in enumerate(loops):
        header = data[L.node.start_byte:L.body.start_byte].decode("utf-8").strip()
        lines.append(ind + "    " * k + header + (" {" if k == len(loops) - 1 else ""))
    inner = ind + "    " * len(loops)
    for s in stmts:
        col = s.start_point[1]
        body_lines = text(s).splitlines()
        lines.append(inner + body_lines[0])
        for l in body_lines[1:]:
            lead = len(l) - len(l.lstrip(" "))
            lines.append(inner + l[min(lead, col):])
    lines.append(ind + "    " * (len(loops) - 1) + "}")
    return "\n".join(lines)


def distribute(source: str, language: str, function: str, rounds: int = 4) -> tuple[str, list[str]]:
    """(`source` with every legally distributable loop nest of `function` split, notes); `source` itself
    when no nest can be split. A split nest whose copy is a new perfect nest with several statements
    (bicg's (i, j) body once q[i] = 0 is out) is split again, up to `rounds` times."""
    notes: list[str] = []
    for _ in range(rounds):
        source, more = _distribute_once(source, language, function)
        if not more:
            break
        notes += more
    return source, notes


def _distribute_once(source: str, language: str, function: str) -> tuple[str, list[str]]:
    from .analysis import analyze
    try:
        fx = analyze(source, language, function)
    except Exception:            # the caller's analysis reports the source's problems
        return source, []
    groups = fx.alias_groups
    data = fx.unit.data
    edits, notes = [], []

    def visit(L) -> None:
        if not _canonical(L):
            for c in L.children:
                visit(c)
            return
        loops = perfect_band(L)
        last = loops[-1]
        stmts = _statements(last.body)
        if stmts is not None:
            try:
                band = build_band(fx.model, loops, lambda d: groups.get(d.key, d.key))
                # only cuts next to a loop: they are the ones that make a perfect nest (more passes over
                # the same arrays for loop-free statements would only cost memory traffic)
                cuts = [k for k in range(1, len(stmts)) if (_is_loop(stmts[k - 1]) or _is_loop(stmts[k]))
                        and band.distribution_cut_legal(stmts[k].start_byte)]
            except NotAffine:
                cuts = []
            if cuts:
                parts, start = [], 0
                for c in cuts + [len(stmts)]:
                    parts.append(stmts[start:c])
                    start = c
                col = L.node.start_point[1]
                line_start = data.rfind(b"\n", 0, L.node.start_byte) + 1
                lead = data[line_start:L.node.start_byte].decode("utf-8", "replace")
                ind = lead if not lead.strip() else " " * col
                code = "\n".join(_nest_text(data, loops, p, ind) for p in parts)[len(ind):]
                edits.append((L.node.start_byte, L.node.end_byte, code))
                vars_ = ",".join(x.var.name for x in loops)
                notes.append(f"loops ({vars_}) at line {L.line} distributed into {len(parts)} nests")
                return
        for c in last.children:
            visit(c)

    for L in fx.model.top_loops():
        visit(L)
    if not edits:
        return source, []
    return splice(data, edits), notes


__all__ = ["distribute"]

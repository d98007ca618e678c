"""Written std::vector<bool> (issue 23): its elements are bits packed 64 to a word (libstdc++'s
unsigned long; 32 or 64 elsewhere: 64 covers both), so two threads writing neighbouring elements write
one word and race. A parallel loop that writes one is sound when each thread writes whole words only:
every write of the vector in the loop is at element `i + c` of the loop variable i (step 1), the
first element the loop writes, lower + c, is a multiple of 64 known from the code, and the iterations
are dealt out in chunks of a multiple of 64 (`schedule(static, 64 * k)`). Anything else keeps the
loop sequential with the reason. MPI ranks are separate processes (no shared words); the vector has no
.data() to communicate, so each MPI call on it runs on a bool copy (mpi_bool_buffers).
"""
from __future__ import annotations

from .base import NotParallelizable
from .poly import Poly
from .syntax import text

WORD = 64          # elements of one storage word, at most
CHUNK = 64 * 64    # iterations per chunk: whole words, and chunks long enough to amortize the schedule


def bool_vectors_written(fx, f) -> list:
    """The std::vector<bool> (parameters and locals) the loop of `f` writes."""
    out = []
    for e in fx.model.events:
        d = e.decl
        if e.write and f.loop in e.loops and d.kind in ("vector", "localvec") and \
                (d.base_type or "") in ("bool", "_Bool") and d not in out:
            out.append(d)
    return out


def bit_packed_schedule(fx, f) -> str | None:
    """The schedule clause that makes the parallel loop of `f` write whole words of every
    std::vector<bool> it writes; None when it writes none; NotParallelizable with the reason when
    the writes cannot be kept apart that way."""
    written = bool_vectors_written(fx, f)
    if not written:
        return None
    L = f.loop
    names = ", ".join(f"'{d.name}'" for d in written)
    why = f"loop at line {L.line} writes the std::vector<bool> {names}, whose elements share 64-bit words"
    if f.collapse != 1 or f.argminmax is not None or L.range_of is not None or getattr(L, "while_form", False):
        raise NotParallelizable(f"{why}, and the loop's form does not let each thread write whole words")
    if any(d in f.array_reductions for d in written):
        raise NotParallelizable(f"{why}, updated as a reduction")
    if L.var is None or L.step != 1 or L.lower is None:
        raise NotParallelizable(f"{why}; only a loop counting up by 1 is dealt out in whole words")
    lower = fx.model.expand(L.lower)
    if lower is None or not lower.is_const():
        raise NotParallelizable(f"{why}; its first index is not a constant, so chunks of whole words cannot "
                                f"be aligned")
    i = Poly.sym(L.var.key)
    for e in fx.model.events:
        if e.decl not in written or L not in e.loops or not e.write:
            continue
        p = fx.model.expand(e.poly) if e.poly is not None and e.dims is None else None
        off = p - i if p is not None else None
        if off is None or not off.is_const():
            what = text(e.node) if e.node is not None else e.decl.name
            raise NotParallelizable(f"{why}; the write '{what}' at line {e.line} is not at the loop's own element "
                                    f"(i + a constant), so two threads could write one word")
        start = off.constant + lower.constant
        if start % WORD:
            raise NotParallelizable(f"{why}; the first element written ({start}) is not a multiple of {WORD}, so "
                                    f"chunks of whole words cannot be aligned")
    return f"schedule(static, {CHUNK})"


def mpi_bool_buffers(fx, code: str) -> str:
    """MPI: a std::vector<bool> has no contiguous elements (.data()): each MPI call the generator wrote
    on `v.data()` runs on a bool array copied from v, copied back after the call (on every rank: rank
    0's gather fills the other blocks, the others' copies are unchanged). NotParallelizable when such a
    use is not one MPI call statement on a line."""
    names = []
    for f in fx.chosen_loops():
        for d in bool_vectors_written(fx, f):
            if d in f.array_reductions:
                raise NotParallelizable(f"the loop at line {f.loop.line} updates the std::vector<bool> '{d.name}' as "
                                        f"a reduction, which the MPI translation does not combine")
            if d.name not in names:
                names.append(d.name)
    if not names:
        return code
    lines = code.split("\n")
    for name in names:
        pat = f"{name}.data()"
        for k, line in enumerate(lines):
            if pat not in line:
                continue
            st = line.strip()
            if not (st.startswith("MPI_") and st.endswith(");")):
                raise NotParallelizable(f"the std::vector<bool> '{name}' (bit-packed, no .data()) is communicated "
                                        f"in a form the bool copy does not cover: {st[:80]}")
            ind = line[:len(line) - len(line.lstrip())]
            loop = f"for (std::size_t __pl_j = 0; __pl_j < {name}.size(); ++__pl_j)"
            lines[k] = (f"{ind}{{ /* paralift: std::vector<bool> '{name}' through a bool array */ "
                        f"bool *__pl_bits = (bool *)malloc({name}.size() * sizeof(bool) + 1); "
                        f"{loop} __pl_bits[__pl_j] = {name}[__pl_j]; "
                        f"{st.replace(pat, '__pl_bits')} "
                        f"{loop} {name}[__pl_j] = __pl_bits[__pl_j]; free(__pl_bits); }}")
    return "\n".join(lines)

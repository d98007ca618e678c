"""Turning a translation into LSP edits (pure functions, no server state).

OpenMP / MPI: the pipeline's output is the whole translated file; the edit is
the line diff between the document and that file (the function's new body,
added #include lines, any helper), so the user's other text is untouched and
the client can show a small diff. CUDA: the output is a new `.cu` file next to
the source; the edit creates it and inserts the text.
"""
from __future__ import annotations

import difflib
import re
from typing import Callable, Sequence

from lsprotocol import types as t


_EOL = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines with their ends, split only where LSP splits (\\n, \\r\\n, \\r;
    str.splitlines would also split at form feeds and the like)."""
    out, pos = [], 0
    for m in _EOL.finditer(text):
        out.append(text[pos:m.end()])
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def line_edits(old: str, new: str, num_units: Callable[[str], int] = _utf16_len) -> list[t.TextEdit]:
    """Minimal line-granular edits turning `old` into `new`.

    Every edit starts and ends at a line start, except an edit reaching the end
    of a document whose last line has no newline (its end is measured with
    `num_units`, the client's position encoding)."""
    a = split_lines(old)
    b = split_lines(new)
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    edits = []

    def pos(i: int) -> t.Position:
        if i < len(a) or not a or a[-1].endswith(("\n", "\r")):
            return t.Position(line=i, character=0)
        return t.Position(line=len(a) - 1, character=num_units(a[-1]))

    def start(i: int) -> t.Position:
        if i == len(a) and a and not a[-1].endswith(("\n", "\r")):
            return pos(i)
        return t.Position(line=i, character=0)

    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        text = "".join(b[j1:j2])
        if i1 == len(a) and a and not a[-1].endswith(("\n", "\r")):
            text = "\n" + text      # appending after a last line without newline
            if text.endswith("\n") and not new.endswith("\n"):
                text = text[:-1]
        edits.append(t.TextEdit(range=t.Range(start=start(i1), end=pos(i2)), new_text=text))
    return edits


def full_range(text: str, num_units: Callable[[str], int] = _utf16_len) -> t.Range:
    """The range of the whole of `text`."""
    lines = split_lines(text)
    if not lines or lines[-1].endswith(("\n", "\r")):
        end = t.Position(line=len(lines), character=0)
    else:
        end = t.Position(line=len(lines) - 1, character=num_units(lines[-1]))
    return t.Range(start=t.Position(line=0, character=0), end=end)


def apply_edits(text: str, edits: Sequence[t.TextEdit], num_units: Callable[[str], int] = _utf16_len) -> str:
    """Apply non-overlapping `edits` to `text` (positions counted with
    `num_units`, UTF-16 by default); used by tests and to double-check an edit
    before it is sent."""
    lines = split_lines(text)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def offset(p: t.Position) -> int:
        if p.line >= len(lines):
            return len(text)
        line = lines[p.line]
        units, i = 0, 0
        body = line.rstrip("\r\n")
        while i < len(body) and units < p.character:
            units += num_units(body[i])
            i += 1
        return starts[p.line] + i

    spans = sorted(((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits), reverse=True)
    for s, e, new in spans:
        text = text[:s] + new + text[e:]
    return text


def text_document_edit(uri: str, version: int | None, edits: list[t.TextEdit]) -> t.WorkspaceEdit:
    return t.WorkspaceEdit(document_changes=[
        t.TextDocumentEdit(text_document=t.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                           edits=edits)])


def create_file_edit(uri: str, text: str) -> t.WorkspaceEdit:
    """Create (or overwrite) `uri` and fill it with `text`."""
    return t.WorkspaceEdit(document_changes=[
        t.CreateFile(uri=uri, options=t.CreateFileOptions(overwrite=True)),
        t.TextDocumentEdit(text_document=t.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                           edits=[t.TextEdit(range=t.Range(start=t.Position(line=0, character=0),
                                                           end=t.Position(line=0, character=0)),
                                             new_text=text)])])

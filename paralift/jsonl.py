"""JSON Lines input, read one way everywhere (corpora, eval suites, importers):
blank lines skipped, a bad line is a usage error naming the file and line."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from paralift.errors import UsageError


def records(path: Path | str, text: str | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line of `path` (or of `text`, named by `path`)."""
    if text is None:
        text = Path(path).read_text(errors="replace")
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise UsageError(f"{path}:{lineno}: not JSON ({e.msg})") from None
        if not isinstance(rec, dict):
            raise UsageError(f"{path}:{lineno}: not a JSON object")
        yield lineno, rec

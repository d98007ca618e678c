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


# ------------------------------------------------------------------ a corpus record's stored tests
#
# A TestSuite keys its cases' scalars and arrays by parameter names, so as a
# JSON object every kernel brings its own struct type and `datasets`/Arrow
# infer a different schema per split file (`Couldn't cast array of type string
# to null` in datasets < 5). A record therefore stores its suite as one JSON
# string: one column type for every corpus, exact round trips.

def suite_field(suite) -> str:
    """The `tests` field of a corpus record for `suite` (a TestSuite or its JSON object)."""
    from paralift.types import to_jsonable
    return json.dumps(to_jsonable(suite), separators=(",", ":"), sort_keys=True)


def record_suite(rec: dict):
    """The TestSuite a record stores (its `tests` field as a JSON string, or
    the JSON object older corpora stored), or None when it stores none."""
    from paralift.types import suite_from_json
    tests = rec.get("tests")
    if tests in (None, ""):
        return None
    if isinstance(tests, str):
        tests = json.loads(tests)
    return suite_from_json(tests)

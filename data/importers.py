"""Importers: public corpora the user already has -> paralift records (DESIGN.md §5).

paralift ships none of these files; each importer reads a path the user gives.

- BabelTower (C -> CUDA): the tokenized parallel files `<split>.para.<lang>.tok`
  (one function per line, tokens separated by spaces, optionally prefixed by
  `ID | `); `<split>.para.cpp.tok` (or `.c.tok`) line i pairs with
  `<split>.para.cuda.tok` line i.
- MuSL / QiMeng-MuPa evaluation JSONL: one function per line with its CUDA
  translation and its test cases (the field names `eval.suites` reads for
  JSONL corpora: `c_code`/`cpp_code`/`source`... and `cuda_code`/
  `target_code`...; test-case fields are every other field whose name
  mentions input/test/case).
- ParEval prompt JSON (a list of `{name, parallelism_model, prompt,
  problem_type, language, ...}`): read with `eval.suites`' ParEval loader; one
  record per problem and target, with ParEval's prompt for that target.

Imported records are *not verified* (`verified: false`, `tests: null`; the
original test cases are kept under `provenance`): `paralift data build` and
the trainers treat them as such.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from paralift import jsonl
from paralift.errors import UsageError

FORMATS = ("babeltower", "musl", "pareval")

_TOK_RE = re.compile(r"^(?P<split>.+)\.para\.(?P<lang>[A-Za-z+]+)\.tok$")
_SRC_LANGS = ("cpp", "c")


# ------------------------------------------------------------------ BabelTower

def detokenize(line: str) -> str:
    """Tokenized code (TransCoder/BabelTower style) -> compilable text.

    Tokens are joined by single spaces (C does not care); `NEW_LINE` becomes a
    newline, `▁` inside string and char literals a space, and a leading
    `ID | ` is dropped. Preprocessor lines become lines of their own."""
    line = line.rstrip("\n")
    if " | " in line[:120] and not line.lstrip().startswith(("#", "/")):
        head, rest = line.split(" | ", 1)
        if re.fullmatch(r"[\w\-./:]+", head.strip()):
            line = rest
    toks = line.split()
    out: list[str] = []
    for t in toks:
        if t in ("NEW_LINE", "ENDCOM"):
            out.append("\n")
            continue
        if t in ("INDENT", "DEDENT"):
            continue
        if t.startswith(("\"", "'")):
            t = t.replace("▁", " ")
        out.append(t)
    text = ""
    for t in out:
        if t == "\n":
            text = text.rstrip(" ") + "\n"
        elif t.startswith("#") and (not text or text.endswith("\n")):
            text += t + " "
        else:
            text += t + " "
    # a `#include <...>` runs to the end of its line: put code after it on the next line
    text = re.sub(r"(#\s*include\s*<\s*[\w./ ]+?\s*>)\s+", lambda m: m.group(1).replace(" ", "").replace("#include", "#include ") + "\n", text)
    return text.strip() + "\n"


def _tok_pairs(path: Path) -> list[tuple[str, Path, Path, str]]:
    """(split, source file, cuda file, source language) for every pair under path."""
    files = [path] if path.is_file() else sorted(path.rglob("*.tok"))
    by_split: dict[tuple[Path, str], dict[str, Path]] = {}
    for f in files:
        m = _TOK_RE.match(f.name)
        if not m:
            continue
        by_split.setdefault((f.parent, m.group("split")), {})[m.group("lang").lower()] = f
    pairs = []
    for (d, split), langs in sorted(by_split.items()):
        src_lang = next((l for l in _SRC_LANGS if l in langs), None)
        if path.is_file() and src_lang and "cuda" not in langs:
            # the user named one side: find its partner
            partner = d / f"{split}.para.cuda.tok"
            if partner.exists():
                langs["cuda"] = partner
        if src_lang and "cuda" in langs:
            pairs.append((split, langs[src_lang], langs["cuda"], src_lang))
    return pairs


def import_babeltower(path: Path) -> tuple[list[dict], list[str]]:
    from paralift.agents.prompts import compact_prompt
    from paralift.types import Target
    pairs = _tok_pairs(path)
    if not pairs:
        raise UsageError(f"{path}: no BabelTower pair found (files named <split>.para.cpp.tok and <split>.para.cuda.tok)")
    records, skipped = [], []
    for split, src_f, cuda_f, lang in pairs:
        src_lines = src_f.read_text(errors="replace").splitlines()
        cuda_lines = cuda_f.read_text(errors="replace").splitlines()
        if len(src_lines) != len(cuda_lines):
            raise UsageError(f"{src_f} has {len(src_lines)} lines but {cuda_f} has {len(cuda_lines)}: not a parallel pair")
        for i, (s, c) in enumerate(zip(src_lines, cuda_lines)):
            if not s.strip() or not c.strip():
                skipped.append(f"{src_f.name}:{i + 1}: empty line")
                continue
            source, ref = detokenize(s), detokenize(c)
            language = _language(source)
            records.append(_record(f"babeltower-{split}-{i:06d}", "babeltower", language, "cuda", source, ref,
                                   {"importer": "babeltower", "file": str(src_f), "pair": str(cuda_f), "line": i + 1,
                                    "split": split},
                                   prompt=compact_prompt(source, Target.CUDA, language)))
    return records, skipped


# ------------------------------------------------------------------ MuSL JSONL

def import_musl(path: Path) -> tuple[list[dict], list[str]]:
    from paralift.agents.prompts import compact_prompt
    from paralift.eval.suites import _REF_KEYS, _SRC_KEYS
    from paralift.types import Target
    files = [path] if path.is_file() else sorted(path.rglob("*.jsonl"))
    if not files:
        raise UsageError(f"{path}: no JSONL file")
    records, skipped = [], []
    for f in files:
        for lineno, rec in jsonl.records(f):
            src_key = next((k for k in _SRC_KEYS if isinstance(rec.get(k), str) and rec[k].strip()), None)
            if src_key is None:
                skipped.append(f"{f.name}:{lineno}: no source field")
                continue
            ref_key = next((k for k in _REF_KEYS if isinstance(rec.get(k), str) and rec[k].strip()), None)
            source = rec[src_key]
            ref = rec[ref_key] if ref_key else ""
            tests = {k: v for k, v in rec.items() if k not in (src_key, ref_key)
                     and re.search(r"input|test|case|output", k, re.I)}
            language = rec.get("language") or _language(source)
            language = "cpp" if str(language).lower() in ("cpp", "c++", "cxx") else "c"
            rid = str(rec.get("id", rec.get("task_id", f"{f.stem}-{lineno}")))
            records.append(_record(f"musl-{rid}", str(rec.get("family", "musl")), language, "cuda", source, ref,
                                   {"importer": "musl", "file": str(f), "line": lineno, "source_field": src_key,
                                    "reference_field": ref_key, "original_tests": tests},
                                   prompt=compact_prompt(source, Target.CUDA, language)))
    return records, skipped


# ------------------------------------------------------------------ ParEval

def import_pareval(path: Path) -> tuple[list[dict], list[str]]:
    from paralift.eval.suites import load_suite
    if path.is_dir():
        raise UsageError(f"{path}: give the ParEval prompts JSON file, not a directory")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UsageError(f"{path} is not JSON: {e.msg}") from None
    if not (isinstance(data, list) and data and isinstance(data[0], dict) and "parallelism_model" in data[0]):
        raise UsageError(f"{path}: not a ParEval prompt file (a JSON list of objects with parallelism_model)")
    suite = load_suite(str(path))
    records = []
    for t in suite.tasks:
        for target in t.targets:
            records.append(_record(f"pareval-{t.id}-{target}", t.family or "pareval", t.language, target, t.source,
                                   t.references.get(target, ""),
                                   {"importer": "pareval", "file": str(path), "name": t.id, "function": t.function},
                                   prompt=t.prompts.get(target, ""), function=t.function))
    skipped = [f"{n}: no complete sequential implementation" for n in getattr(suite, "skipped", [])]
    return records, skipped


# ------------------------------------------------------------------ common

def _language(source: str) -> str:
    from paralift.eval.suites import _guess_language
    return _guess_language("", source)


def _record(rid: str, family: str, language: str, target: str, source: str, reference: str, provenance: dict,
            prompt: str = "", function: str | None = None) -> dict:
    rec = {"id": rid, "family": family, "source_lang": language, "language": language, "target": target,
           "source": source, "reference": reference, "tests": None, "provenance": provenance, "verified": False,
           "prompt": prompt, "completion": (reference.strip() + "\n```") if reference.strip() and prompt else ""}
    if function:
        rec["function"] = function
    return rec


def detect_format(path: Path) -> str:
    if path.is_dir():
        if any(_TOK_RE.match(p.name) for p in path.rglob("*.tok")):
            return "babeltower"
        if any(path.rglob("*.jsonl")):
            return "musl"
        raise UsageError(f"{path}: no *.para.*.tok or *.jsonl file; pass --format")
    if _TOK_RE.match(path.name):
        return "babeltower"
    if path.suffix == ".jsonl":
        return "musl"
    if path.suffix == ".json":
        return "pareval"
    raise UsageError(f"{path}: cannot tell the format from the name; pass --format babeltower|musl|pareval")


def import_path(path: Path, out: Path, fmt: str = "auto") -> dict:
    """Read `path` in `fmt` (auto-detected), write records as JSONL to `out`."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
    records, skipped = {"babeltower": import_babeltower, "musl": import_musl, "pareval": import_pareval}[fmt](path)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return {"format": fmt, "records": len(records), "skipped": len(skipped), "skipped_reasons": skipped[:20],
            "out": str(out)}

"""Evaluation suites: which tasks, for which targets, at which problem sizes.

* ``builtin``: paralift's own benchmark suite, the kernel set shipped as
  package data of ``paralift.data`` (``kernels/manifest.json``: 41 sequential
  C/C++ kernels across 20 families, each for openmp, mpi and cuda). Reference
  outputs always come from running the sequential kernel in the sandbox, so
  every kernel is its own reference test. The training corpus is
  decontaminated against it through :func:`decontamination_index`.
* A directory with a ``manifest.json`` in the same format (your own kernels).
* A suite JSON: ``{"name", "targets", "sizes", "large", "seed", "tasks": [{"id",
  "source" | "file", "language", "function", "targets", "family", "parallel",
  "references": {target: code}, "prompts": {target: text}}]}``.
* JSONL corpora, one example a line: paralift's data format (DESIGN.md §5:
  ``id, family, source_lang, target, source, reference, ...``), BabelTower
  (``id, cpp_code, cuda_code, ...``) and MuSL-style pairs (``c_code`` /
  ``source`` with ``cuda_code`` / ``target_code``). Lines with the same source
  merge into one task with a reference per target.
* ParEval prompt files (a JSON list of ``{name, parallelism_model, prompt,
  problem_type, language}``): a problem becomes a task where the file holds a
  complete sequential implementation (the ``translation_src_example`` of
  ParEval's serial->X translation prompts, or a ``serial`` prompt that is a
  whole function); the target prompts are kept for model backends.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from paralift import jsonl
from paralift.errors import UsageError

TARGETS = ("openmp", "mpi", "cuda")
_PAREVAL_MODELS = {"omp": "openmp", "openmp": "openmp", "mpi": "mpi", "cuda": "cuda"}
_CPP_PRELUDE = ("#include <vector>\n#include <cmath>\n#include <cstdlib>\n#include <algorithm>\n#include <numeric>\n"
                "#include <limits>\n#include <utility>\n")


@dataclass
class SuiteTask:
    id: str
    source: str
    language: str                       # "c" | "cpp"
    function: str
    targets: tuple[str, ...] = TARGETS
    family: str = ""
    parallel: bool | None = None        # whether the kernel can legally run in parallel (None: unknown)
    references: dict[str, str] = field(default_factory=dict)   # target -> reference translation
    prompts: dict[str, str] = field(default_factory=dict)      # target -> prompt text (ParEval)
    path: str | None = None


@dataclass
class Suite:
    name: str
    tasks: list[SuiteTask]
    targets: tuple[str, ...] = TARGETS
    sizes: tuple[int, ...] | None = None    # problem-size knobs of the generated tests (None: sandbox default)
    large: int | None = None                # size knob of the large case (None: ~2^18 elements)
    seed: int = 0
    origin: str = ""

    def task(self, task_id: str) -> SuiteTask:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(task_id)

    def describe(self) -> dict:
        from paralift.sandbox.inputs import SMALL_SIZES
        return {"name": self.name, "origin": self.origin, "tasks": [t.id for t in self.tasks],
                "targets": list(self.targets), "sizes": list(self.sizes or SMALL_SIZES),
                "large": self.large if self.large is not None else "~2^18 elements", "seed": self.seed,
                "fingerprint": self.fingerprint()}

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for t in self.tasks:
            h.update(json.dumps([t.id, t.source, t.language, t.function, list(t.targets)]).encode())
        h.update(json.dumps([self.sizes, self.large, self.seed]).encode())
        return h.hexdigest()[:16]

    def subset(self, ids: list[str] | None = None, targets: list[str] | None = None, limit: int | None = None) -> "Suite":
        tasks = list(self.tasks)
        if ids:
            known = {t.id for t in tasks}
            bad = [i for i in ids if i not in known]
            if bad:
                raise UsageError(f"suite {self.name!r} has no task {bad[0]!r} (tasks: {', '.join(sorted(known))})")
            tasks = [t for t in tasks if t.id in ids]
        if limit is not None:
            tasks = tasks[:limit]
        tg = tuple(targets) if targets else self.targets
        return replace(self, tasks=tasks, targets=tg)


# ------------------------------------------------------------------ loading

def builtin_dir() -> Path:
    import paralift.data
    return Path(paralift.data.__file__).parent / "kernels"


def load_suite(spec: str) -> Suite:
    """`builtin` or a path (kernel directory, suite JSON, JSONL corpus, ParEval prompts)."""
    if spec == "builtin":
        return _load_manifest_dir(builtin_dir(), "builtin")
    path = Path(spec)
    if not path.exists():
        raise UsageError(f"unknown suite {spec!r}: not 'builtin' and no such file or directory")
    if path.is_dir():
        if (path / "manifest.json").exists():
            return _load_manifest_dir(path, path.name)
        raise UsageError(f"suite directory {path} has no manifest.json")
    text = path.read_text()
    if path.suffix == ".jsonl":
        return _load_jsonl(path, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"suite file {path} is not JSON: {e}") from None
    if isinstance(data, list) and data and isinstance(data[0], dict) and "parallelism_model" in data[0]:
        return _load_pareval(path, data)
    if isinstance(data, dict) and "tasks" in data:
        return _load_suite_json(path, data)
    raise UsageError(f"suite file {path} is neither a paralift suite, a JSONL corpus nor ParEval prompts")


def _load_manifest_dir(d: Path, name: str) -> Suite:
    try:
        manifest = json.loads((d / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise UsageError(f"cannot read {d / 'manifest.json'}: {e}") from None
    tasks = []
    for k in manifest:
        try:
            src = (d / k["file"]).read_text()
            tasks.append(SuiteTask(id=k.get("name") or k["function"], source=src, language=k.get("language", "c"),
                                   function=k["function"], family=k.get("family", ""), parallel=k.get("parallel"),
                                   targets=tuple(k.get("targets", TARGETS)), path=str(d / k["file"])))
        except (KeyError, OSError) as e:
            raise UsageError(f"bad manifest entry in {d}: {e}") from None
    return Suite(name, tasks, origin=str(d))


def _load_suite_json(path: Path, data: dict) -> Suite:
    tasks = []
    for i, t in enumerate(data["tasks"]):
        try:
            src = t["source"] if "source" in t else (path.parent / t["file"]).read_text()
            lang = t.get("language") or _guess_language(t.get("file", ""), src)
            fn = t.get("function") or _first_function(src, lang)
            tasks.append(SuiteTask(id=str(t.get("id", fn)), source=src, language=lang, function=fn,
                                   targets=tuple(t.get("targets", data.get("targets", TARGETS))),
                                   family=t.get("family", ""), parallel=t.get("parallel"),
                                   references=dict(t.get("references", {})), prompts=dict(t.get("prompts", {}))))
        except (KeyError, OSError) as e:
            raise UsageError(f"{path}: task {i} is incomplete ({e})") from None
    sizes = data.get("sizes")
    return Suite(data.get("name", path.stem), tasks, tuple(data.get("targets", TARGETS)),
                 tuple(sizes) if sizes else None, data.get("large"), int(data.get("seed", 0)), str(path))


_SRC_KEYS = ("source", "c_code", "cpp_code", "code", "src", "sequential", "input")
_REF_KEYS = ("reference", "cuda_code", "target_code", "parallel", "tgt", "output")


def _load_jsonl(path: Path, text: str) -> Suite:
    merged: dict[str, SuiteTask] = {}
    for lineno, rec in jsonl.records(path, text):
        src = next((rec[k] for k in _SRC_KEYS if isinstance(rec.get(k), str) and rec[k].strip()), None)
        if src is None:
            raise UsageError(f"{path}:{lineno}: no source field (one of {', '.join(_SRC_KEYS)})")
        ref = next((rec[k] for k in _REF_KEYS if isinstance(rec.get(k), str) and rec[k].strip()), "")
        if "target" in rec and isinstance(rec["target"], str) and rec["target"] in TARGETS + ("omp",):
            target = "openmp" if rec["target"] == "omp" else rec["target"]
        elif any(k in rec for k in ("cuda_code", "consistent_cuda_inputs")) or "__global__" in ref:
            target = "cuda"
        else:
            target = None
        lang = rec.get("source_lang") or rec.get("language") or _guess_language("", src)
        lang = "cpp" if lang in ("c++", "cxx", "cpp") else "c"
        key = hashlib.sha1(normalize_source(src).encode()).hexdigest()
        task = merged.get(key)
        if task is None:
            fn = rec.get("function") or _first_function(src, lang)
            task = merged[key] = SuiteTask(id=str(rec.get("id", f"line{lineno}")), source=src, language=lang,
                                           function=fn, targets=(), family=str(rec.get("family", "")))
        if target:
            if target not in task.targets:
                task.targets = task.targets + (target,)
            if ref:
                task.references.setdefault(target, ref)
    tasks = list(merged.values())
    for t in tasks:
        if not t.targets:
            t.targets = TARGETS
    ids = [t.id for t in tasks]
    for t in tasks:          # ids must be unique
        if ids.count(t.id) > 1:
            t.id = f"{t.id}-{t.function}"
    return Suite(path.stem, tasks, origin=str(path))


def _load_pareval(path: Path, data: list) -> Suite:
    by_name: dict[str, list[dict]] = {}
    for e in data:
        by_name.setdefault(e["name"], []).append(e)
    tasks, skipped = [], []
    for name, entries in by_name.items():
        serial = None
        for e in entries:
            ex = e.get("translation_src_example")
            if ex and e.get("translation_src_model") == "serial" and _complete(ex):
                serial = ex
                break
        if serial is None:
            serial = next((e["prompt"] for e in entries if e.get("parallelism_model") == "serial"
                           and _complete(e["prompt"])), None)
        if serial is None:
            skipped.append(name)
            continue
        lang = entries[0].get("language", "cpp")
        src = (_CPP_PRELUDE if lang == "cpp" else "") + serial
        prompts = {}
        for e in entries:
            tgt = _PAREVAL_MODELS.get(e.get("translation_dst_model") or e.get("parallelism_model", ""))
            if tgt:
                prompts.setdefault(tgt, e.get("translation_prompt") or e["prompt"])
        targets = tuple(t for t in TARGETS if t in prompts) or TARGETS
        fn = next((e["translation_function_name"] for e in entries if e.get("translation_function_name")), None) \
            or _first_function(src, "cpp" if lang == "cpp" else "c")
        tasks.append(SuiteTask(id=name, source=src, language="cpp" if lang == "cpp" else "c", function=fn,
                               targets=targets, family=entries[0].get("problem_type", ""), prompts=prompts))
    if not tasks:
        raise UsageError(f"{path}: no ParEval problem comes with a complete sequential implementation "
                         "(use the serial->X translation prompts)")
    s = Suite(path.stem, tasks, origin=str(path))
    s.skipped = skipped  # type: ignore[attr-defined]
    return s


def _complete(code: str) -> bool:
    return "{" in code and code.count("{") == code.count("}") and code.rstrip().endswith("}")


def _guess_language(filename: str, src: str) -> str:
    if filename.endswith((".cpp", ".cc", ".cxx", ".hpp")) or re.search(r"std::|#include <(vector|algorithm)>|template\s*<", src):
        return "cpp"
    return "c"


def _first_function(src: str, language: str) -> str:
    from paralift.agents import list_functions
    try:
        names = [s.name for s in list_functions(src, language) if s.name != "main"]
    except Exception as e:  # noqa: BLE001 - analysis errors of user data are reported, not raised
        raise UsageError(f"cannot find the function in a suite task: {e}") from None
    if not names:
        raise UsageError("a suite task defines no function")
    return names[-1]


# ------------------------------------------------------------------ decontamination

def normalize_source(code: str) -> str:
    """Comments dropped, C tokens joined by single spaces: equal for sources
    that differ only in layout and comments."""
    from .textsim import code_tokens
    return " ".join(code_tokens(code))


def normalized_sources(suite: str | Suite = "builtin") -> dict[str, str]:
    """Task id -> normalized sequential source (and references), for the
    training corpus to decontaminate against."""
    s = load_suite(suite) if isinstance(suite, str) else suite
    out = {}
    for t in s.tasks:
        out[t.id] = normalize_source(t.source)
        for tgt, ref in sorted(t.references.items()):
            out[f"{t.id}/{tgt}"] = normalize_source(ref)
    return out


def decontamination_index(suite: str | Suite = "builtin", n: int = 13) -> set[str]:
    """Hashes of every token n-gram of the suite's normalized sources (n=13 as
    in GPT-3/Codex decontamination); kernels shorter than n contribute whole."""
    index: set[str] = set()
    for text in normalized_sources(suite).values():
        index |= _ngram_hashes(text.split(), n)
    return index


def is_contaminated(code: str, index: set[str], n: int = 13) -> bool:
    """True when `code` shares a token n-gram with the indexed suite."""
    return bool(_ngram_hashes(normalize_source(code).split(), n) & index)


def _ngram_hashes(toks: list[str], n: int) -> set[str]:
    if len(toks) < n:
        return {hashlib.sha1(" ".join(toks).encode()).hexdigest()} if toks else set()
    return {hashlib.sha1(" ".join(toks[i:i + n]).encode()).hexdigest() for i in range(len(toks) - n + 1)}

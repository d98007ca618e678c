"""The paralift language server (pygls), for C, C++ and CUDA documents.

Features
- Code actions (kind refactor.rewrite) on a selection or a function:
  "Parallelize `f` with OpenMP / MPI / CUDA", each bound to the server command
  `paralift.server.translate`.
- `paralift.server.translate` runs the translate pipeline (the CLI's own code
  path, `paralift.pipeline.translate_file`) on that function in a worker
  process, with work-done progress (generating k/n, compiling k/n, tests i/m,
  timing), honours cancellation ($/cancelRequest, or the progress's cancel
  button) and returns the candidates with their verdicts and a WorkspaceEdit.
  The document version is checked before and after: an edit for a document
  that changed meanwhile is refused (and the edit itself carries the version).
- Hints (diagnostics of severity Hint) on the loops the analysis finds
  parallel, and why the others are not; off by default (setting `hints`).
- Hover on a loop line: the analysis' verdict for that loop.

Nothing heavy is imported at start: the analysis (tree-sitter) is warmed up in
a background thread after `initialized`, and the pipeline, the sandbox and any
model backend (torch, vLLM) are only ever imported inside worker processes.

Settings (initializationOptions, or the "paralift" section of
workspace/didChangeConfiguration): backend (list or comma-separated string),
model, endpoint, samples, timing, hints, maxJobs, applyEdits, compileCommandsDir (the folder
of the workspace's compile_commands.json, as clangd's; unset: the nearest one with an entry for
the document, as `paralift translate` finds it).
"""
from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import from_fs_path, to_fs_path

from . import edits as E
from .jobs import Job, JobManager

log = logging.getLogger("paralift.lsp")

NAME = "paralift"
CMD_TRANSLATE = "paralift.server.translate"
CMD_CANCEL = "paralift.server.cancel"
CMD_STATUS = "paralift.server.status"
TARGETS = {"openmp": "OpenMP", "mpi": "MPI", "cuda": "CUDA"}
LANGUAGE_IDS = {"c": "c", "cpp": "cpp", "cuda-cpp": "cpp", "cuda": "cpp"}
C_LIKE = (".c", ".h", ".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".cu", ".cuh")
HEAVY_MODULES = ("torch", "vllm", "transformers", "paralift.pipeline", "paralift.sandbox")
# Rough share of the work done when each stage starts (for the progress bar).
STAGE_PERCENT = {"queued": 0, "starting": 2, "generating": 5, "pipeline": 12, "reference": 15,
                 "compiling": 25, "tests": 35, "timing": 85, "re-verifying": 92}


def _bool(v: Any, default: bool) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "on")
    return default


@dataclass
class Settings:
    # Empty / None: paralift's own settings, as for `paralift translate`
    # (PARALIFT_BACKEND, ..., [tool.paralift] in pyproject.toml or paralift.toml
    # nearest the document, else the defaults).
    backends: list[str] = field(default_factory=list)
    model: str | None = None
    endpoint: str | None = None
    samples: int | None = None
    timing: bool = True
    hints: bool = False
    max_jobs: int = 2
    apply_edits: bool = False        # the server applies the edit itself (clients without a preview)
    compile_commands_dir: str | None = None   # where compile_commands.json is (paralift.project)

    def update(self, d: Any) -> None:
        if not isinstance(d, dict):
            return
        if isinstance(d.get("paralift"), dict):
            d = d["paralift"]
        b = d.get("backends", d.get("backend"))
        if isinstance(b, str):
            b = [x.strip() for x in b.split(",") if x.strip()]
        if isinstance(b, list) and all(isinstance(x, str) for x in b):
            self.backends = b
        for key in ("model", "endpoint"):
            if key in d:
                self.__dict__[key] = str(d[key]) if d[key] else None
        if "compileCommandsDir" in d:
            self.compile_commands_dir = str(d["compileCommandsDir"]) if d["compileCommandsDir"] else None
        if "samples" in d:
            try:
                self.samples = max(1, int(d["samples"])) if d["samples"] else None
            except (TypeError, ValueError):
                pass
        hints = d.get("hints")
        if isinstance(hints, dict):
            hints = hints.get("enabled")
        self.hints = _bool(hints, self.hints)
        self.timing = _bool(d.get("timing"), self.timing)
        self.apply_edits = _bool(d.get("applyEdits"), self.apply_edits)
        if "maxJobs" in d:
            try:
                self.max_jobs = max(1, int(d["maxJobs"]))
            except (TypeError, ValueError):
                pass


class ParaliftProtocol(LanguageServerProtocol):
    """pygls' protocol, plus: a $/cancelRequest for a running translation
    cancels its worker (pygls alone would only answer the request)."""

    def _handle_cancel_notification(self, msg_id):
        server = self._server
        if isinstance(server, ParaliftServer):
            for job in server.jobs.find(request_id=msg_id):
                server.jobs.cancel(job, "request cancelled")
        super()._handle_cancel_notification(msg_id)


@dataclass
class _Analysis:
    """What the analysis says about one version of one document."""
    language: str
    functions: list[tuple[str, int, int]]      # name, first line, last line (1-based)
    error: str | None = None
    loops: dict[int, list[dict]] | None = None  # 1-based line -> loop facts (hints / hover)
    notes: dict[int, str] | None = None         # 1-based line -> why a function was not analysed


class ParaliftServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(NAME, _version(), protocol_cls=ParaliftProtocol,
                         text_document_sync_kind=t.TextDocumentSyncKind.Incremental)
        self.settings = Settings()
        self.jobs = JobManager(max_jobs=self.settings.max_jobs)
        self._analysis: dict[tuple[str, int | None], _Analysis] = {}
        self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="paralift-analysis")
        self._hint_tasks: dict[str, asyncio.Task] = {}
        self._hinted: set[str] = set()

    # ------------------------------------------------------------ analysis
    def language_of(self, doc) -> str | None:
        lid = (doc.language_id or "").lower()
        if lid in LANGUAGE_IDS:
            return LANGUAGE_IDS[lid]
        path = (doc.path or doc.uri).lower()
        if path.endswith(C_LIKE):
            from paralift.agents import detect_language
            return detect_language(path, doc.source)
        return None

    async def analysis(self, doc, loops: bool = False) -> _Analysis | None:
        lang = self.language_of(doc)
        if lang is None:
            return None
        key = (doc.uri, doc.version)
        have = self._analysis.get(key)
        if have is not None and (have.loops is not None or not loops or have.error):
            return have
        text = doc.source
        loop = asyncio.get_running_loop()
        path = doc.path if doc.uri.startswith("file:") else None
        result = await loop.run_in_executor(self._pool, _analyse, text, lang, loops, have, path,
                                            self.settings.compile_commands_dir)
        if doc.uri in self.workspace.text_documents:     # not closed meanwhile
            # keep one entry per document: the latest version
            for k in [k for k in self._analysis if k[0] == doc.uri and k != key]:
                del self._analysis[k]
            self._analysis[key] = result
        return result

    def warm_up(self) -> None:
        def work():
            try:
                from paralift.agents import list_functions
                list_functions("void f(int n, float *x) { for (int i = 0; i < n; i++) x[i] = 0; }", "c")
                list_functions("void f(int n, float *x) { for (int i = 0; i < n; i++) x[i] = 0; }", "cpp")
            except Exception:  # noqa: BLE001 - reported when really used
                log.exception("warm-up failed")
        self._pool.submit(work)

    # ------------------------------------------------------------ hints
    def schedule_hints(self, uri: str, delay: float = 0.3) -> None:
        old = self._hint_tasks.pop(uri, None)
        if old:
            old.cancel()
        if not self.settings.hints:
            if uri in self._hinted:
                self._hinted.discard(uri)
                self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
            return
        self._hint_tasks[uri] = asyncio.ensure_future(self._publish_hints(uri, delay))

    async def _publish_hints(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return
        version = doc.version
        a = await self.analysis(doc, loops=True)
        if a is None or not self.settings.hints:
            return
        current = self.workspace.text_documents.get(uri)
        if current is None or current.version != version:
            return                  # a newer version has its own hints scheduled
        self._hinted.add(uri)
        self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=_hint_diagnostics(current, a)))


def _version() -> str:
    """paralift's version from its dist-info folder name (importlib.metadata
    would cost ~0.1 s of start-up importing the email package)."""
    import glob

    for entry in sys.path:
        for d in glob.glob(os.path.join(entry or ".", "paralift-*.dist-info")):
            return os.path.basename(d)[len("paralift-"):-len(".dist-info")]
    return "0"


def _analyse(text: str, language: str, loops: bool, have: _Analysis | None, path: str | None = None,
             project_dir: str | None = None) -> _Analysis:
    """Runs in the analysis thread (tree-sitter work never blocks the event loop). With
    the document's project (compile_commands.json), its headers' macros are seen."""
    from paralift.agents import list_functions
    from paralift.types import Target

    if have is None:
        try:
            sigs = list_functions(text, language)
            have = _Analysis(language, [(s.name, s.start_line, s.end_line) for s in sigs])
        except Exception as e:  # noqa: BLE001 - a malformed document is a message, not a crash
            return _Analysis(language, [], error=str(e) or type(e).__name__)
    if loops and have.loops is None and not have.error:
        from paralift.agents import build_task
        from paralift.project import analysis_context, find_project

        found: dict[int, list[dict]] = {}
        notes: dict[int, str] = {}
        try:
            proj = find_project(Path(path), Path(project_dir) if project_dir else None) if path else None
        except Exception:  # noqa: BLE001 - no usable compile_commands.json: the file alone
            proj = None
        with analysis_context(proj, language):
            for name, start, _end in have.functions:
                if name == "main":
                    continue
                try:
                    task = build_task(text, language, name, Target.OPENMP)
                except Exception as e:  # noqa: BLE001
                    notes[start] = f"`{name}` is not analysed: {e}"
                    continue
                for lp in task.analysis.get("loops", []) or []:
                    if isinstance(lp, dict) and isinstance(lp.get("line"), int):
                        found.setdefault(lp["line"], []).append({**lp, "function": name})
        have = _Analysis(have.language, have.functions, None, found, notes)
    return have


def _loop_text(lp: dict) -> str:
    var = lp.get("var") or "?"
    if lp.get("parallel"):
        extra = []
        for r in lp.get("reductions") or []:
            extra.append(f"reduction {r}" if isinstance(r, str) else f"reduction {r}")
        if lp.get("collapse", 1) and lp.get("collapse", 1) > 1:
            extra.append(f"collapse({lp['collapse']})")
        if lp.get("private"):
            extra.append("private " + ", ".join(map(str, lp["private"])))
        return f"loop over `{var}` is parallel" + (f" ({'; '.join(extra)})" if extra else "")
    return f"loop over `{var}` is not parallel: {lp.get('reason') or 'a dependence between iterations'}"


def _hint_diagnostics(doc, a: _Analysis) -> list[t.Diagnostic]:
    lines = doc.lines
    out = []

    def line_range(line1: int) -> t.Range:
        i = max(0, min(line1 - 1, len(lines) - 1)) if lines else 0
        body = lines[i].rstrip("\r\n") if lines else ""
        first = len(body) - len(body.lstrip())
        codec = doc.position_codec
        return t.Range(start=t.Position(line=i, character=codec.client_num_units(body[:first])),
                       end=t.Position(line=i, character=codec.client_num_units(body)))

    for line, lps in sorted((a.loops or {}).items()):
        for lp in lps:
            out.append(t.Diagnostic(range=line_range(line), message="paralift: " + _loop_text(lp),
                                    severity=t.DiagnosticSeverity.Hint, source="paralift",
                                    code="parallel-loop" if lp.get("parallel") else "sequential-loop",
                                    data={"function": lp.get("function"), "parallel": bool(lp.get("parallel"))}))
    for line, note in sorted((a.notes or {}).items()):
        out.append(t.Diagnostic(range=line_range(line), message="paralift: " + note,
                                severity=t.DiagnosticSeverity.Hint, source="paralift", code="not-analysed"))
    return out


server = ParaliftServer()


# ------------------------------------------------------------------ lifecycle

@server.feature(t.INITIALIZE)
def on_initialize(ls: ParaliftServer, params: t.InitializeParams) -> None:
    ls.settings.update(params.initialization_options or {})
    ls.jobs.max_jobs = ls.settings.max_jobs
    ls.jobs.env = _worker_env(ls.settings)


@server.feature(t.INITIALIZED)
def on_initialized(ls: ParaliftServer, params: t.InitializedParams) -> None:
    ls.warm_up()


@server.feature(t.SHUTDOWN)
def on_shutdown(ls: ParaliftServer, *args) -> None:
    ls.jobs.cancel_all("shutdown")


@server.feature(t.WORKSPACE_DID_CHANGE_CONFIGURATION)
def on_configuration(ls: ParaliftServer, params: t.DidChangeConfigurationParams) -> None:
    before = ls.settings.hints
    ls.settings.update(params.settings or {})
    ls.jobs.max_jobs = ls.settings.max_jobs
    ls.jobs.env = _worker_env(ls.settings)
    if before != ls.settings.hints:
        for uri in list(ls.workspace.text_documents):
            ls.schedule_hints(uri, delay=0)


def _worker_env(s: Settings) -> dict[str, str]:
    env = {}
    if s.endpoint:
        env["PARALIFT_ENDPOINT"] = s.endpoint
        env["OPENAI_BASE_URL"] = s.endpoint
    return env


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def on_open(ls: ParaliftServer, params: t.DidOpenTextDocumentParams) -> None:
    ls.schedule_hints(params.text_document.uri, delay=0)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def on_change(ls: ParaliftServer, params: t.DidChangeTextDocumentParams) -> None:
    ls.schedule_hints(params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
def on_close(ls: ParaliftServer, params: t.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls._hint_tasks.pop(uri, None)
    if task:
        task.cancel()
    for k in [k for k in ls._analysis if k[0] == uri]:
        del ls._analysis[k]
    if uri in ls._hinted:
        ls._hinted.discard(uri)
        ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(t.WINDOW_WORK_DONE_PROGRESS_CANCEL)
def on_progress_cancel(ls: ParaliftServer, params: t.WorkDoneProgressCancelParams) -> None:
    for job in ls.jobs.find(token=params.token):
        ls.jobs.cancel(job, "progress cancelled")


# ------------------------------------------------------------------ code actions

@server.feature(t.TEXT_DOCUMENT_CODE_ACTION,
                t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.RefactorRewrite], resolve_provider=False))
async def code_actions(ls: ParaliftServer, params: t.CodeActionParams) -> list[t.CodeAction] | None:
    only = params.context.only
    if only and not any(t.CodeActionKind.RefactorRewrite.value.startswith(k.value if hasattr(k, "value") else k)
                        for k in only):
        return None
    doc = ls.workspace.text_documents.get(params.text_document.uri)
    if doc is None:
        return None
    version = doc.version
    a = await ls.analysis(doc)
    if a is None or doc.version != version:
        return None
    if a.error:
        if _client_supports(ls, "text_document.code_action.disabled_support"):
            return [t.CodeAction(title=f"Parallelize with {label}", kind=t.CodeActionKind.RefactorRewrite,
                                 disabled=t.CodeActionDisabled(reason=f"paralift: {a.error}"))
                    for label in TARGETS.values()]
        return None
    first, last = params.range.start.line + 1, params.range.end.line + 1
    if params.range.end.character == 0 and last > first:
        last -= 1
    chosen = [(n, s, e) for n, s, e in a.functions if n != "main" and s <= last and first <= e]
    actions = []
    for name, _s, _e in chosen:
        for target, label in TARGETS.items():
            arg = {"uri": doc.uri, "version": version, "function": name, "target": target}
            title = f"Parallelize `{name}` with {label}"
            actions.append(t.CodeAction(title=title, kind=t.CodeActionKind.RefactorRewrite,
                                        command=t.Command(title=title, command=CMD_TRANSLATE, arguments=[arg])))
    return actions


def _client_supports(ls: ParaliftServer, dotted: str) -> bool:
    obj: Any = ls.client_capabilities
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return bool(obj)


# ------------------------------------------------------------------ hover

@server.feature(t.TEXT_DOCUMENT_HOVER)
async def hover(ls: ParaliftServer, params: t.HoverParams) -> t.Hover | None:
    doc = ls.workspace.text_documents.get(params.text_document.uri)
    if doc is None:
        return None
    line = params.position.line + 1
    lines = doc.lines
    if line > len(lines) or not any(k in lines[line - 1] for k in ("for", "while")):
        return None
    a = await ls.analysis(doc, loops=True)
    if a is None or not a.loops or line not in a.loops:
        return None
    text = "\n\n".join("**paralift**: " + _loop_text(lp) for lp in a.loops[line])
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text))


# ------------------------------------------------------------------ commands

def _bad(msg: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(msg)


def _request_args(args: tuple) -> dict:
    if len(args) != 1 or not isinstance(args[0], dict):
        raise _bad(f"{CMD_TRANSLATE} takes one object argument "
                   "{uri, version, function, target[, backends, model, samples, timing, apply]}")
    a = args[0]
    for key in ("uri", "function", "target"):
        if not isinstance(a.get(key), str) or not a[key]:
            raise _bad(f"{CMD_TRANSLATE}: '{key}' must be a non-empty string")
    if a["target"].lower() not in ("openmp", "omp", "mpi", "cuda"):
        raise _bad(f"{CMD_TRANSLATE}: unknown target {a['target']!r} (choose openmp, mpi or cuda)")
    if a.get("version") is not None and not isinstance(a["version"], int):
        raise _bad(f"{CMD_TRANSLATE}: 'version' must be an integer")
    return a


def _doc_path(doc, language: str) -> tuple[str, bool]:
    """The document's file path (and whether it is a real file path)."""
    path = doc.path if doc.uri.startswith("file:") else None
    if path:
        return path, True
    return str(Path(os.getcwd()) / ("untitled.cpp" if language == "cpp" else "untitled.c")), False


class _ProgressSink:
    def __init__(self, ls: ParaliftServer, token: Any) -> None:
        self.ls, self.token, self.percent = ls, token, 0

    def begin(self, title: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.begin(self.token, t.WorkDoneProgressBegin(
                title=title, cancellable=True, message="queued", percentage=0))

    def event(self, ev: dict) -> None:
        if self.token is None:
            return
        stage = ev.get("stage") or ""
        pct = STAGE_PERCENT.get(stage, self.percent)
        k, n = ev.get("k"), ev.get("n")
        if stage == "tests" and isinstance(k, int) and isinstance(n, int) and n:
            pct = STAGE_PERCENT["tests"] + (STAGE_PERCENT["timing"] - STAGE_PERCENT["tests"]) * k // n
        self.percent = max(self.percent, min(99, pct))
        self.ls.work_done_progress.report(self.token, t.WorkDoneProgressReport(
            message=str(ev.get("message") or stage), percentage=self.percent, cancellable=True))

    def end(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, t.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)


@server.command(CMD_TRANSLATE)
async def translate_command(ls: ParaliftServer, *args) -> dict:
    """Translate one function of an open document; see the module docstring."""
    a = _request_args(args)
    uri, function = a["uri"], a["function"]
    target = {"omp": "openmp"}.get(a["target"].lower(), a["target"].lower())
    doc = ls.workspace.text_documents.get(uri)
    base = {"uri": uri, "function": function, "target": target, "version": a.get("version"),
            "candidates": [], "edit": None, "newUri": None, "newText": None, "report": None}
    if doc is None:
        return _fail(ls, base, "error", f"{uri} is not open in the editor")
    if a.get("version") is not None and a["version"] != doc.version:
        return _fail(ls, base, "stale", f"the document changed (version {a['version']} -> {doc.version}) "
                                        "since this action was offered; run it again", show=False)
    language = ls.language_of(doc)
    if language is None:
        return _fail(ls, base, "error", f"{uri} is not a C, C++ or CUDA document")
    version, text = doc.version, doc.source
    base["version"] = version
    path, real_path = _doc_path(doc, language)
    s = ls.settings
    backends = a.get("backends") or s.backends
    if isinstance(backends, str):
        backends = [b.strip() for b in backends.split(",") if b.strip()]
    request = {"path": path, "text": text, "target": target, "function": function,
               "cwd": str(Path(path).parent) if real_path else None,
               "backends": backends, "model": a.get("model", s.model),
               "samples": a.get("samples", s.samples), "timing": _bool(a.get("timing"), s.timing),
               "project": s.compile_commands_dir}
    job = Job(uri=uri, function=function, target=target, version=version, request_id=ls.protocol.msg_id)
    base["job"] = job.id
    token = None
    if _client_supports(ls, "window.work_done_progress"):
        token = f"paralift-{os.getpid()}-{job.id}"
        try:
            await ls.work_done_progress.create_async(token)
        except Exception:  # noqa: BLE001 - progress is a nicety
            token = None
    job.token = token
    sink = _ProgressSink(ls, token)
    sink.begin(f"paralift: {function} → {TARGETS[target]}")
    try:
        final = await ls.jobs.run(job, request, sink.event)
    except Exception as e:  # noqa: BLE001 - e.g. the worker could not start
        log.exception("job %d failed", job.id)
        final = {"event": "error", "kind": "internal", "message": f"{type(e).__name__}: {e}"}
    if final.get("event") != "result":
        kind = final.get("kind")
        status = "cancelled" if kind == "cancelled" else "error"
        sink.end("cancelled" if status == "cancelled" else "failed")
        return _fail(ls, base, status, final.get("message") or status, show=status == "error")
    result = _result(ls, base, final, doc, version, text, path, real_path, language)
    sink.end(result["message"])
    if result["status"] != "verified":
        ls.window_log_message(t.LogMessageParams(type=t.MessageType.Info, message=result["message"]))
    if result["edit"] is not None and (_bool(a.get("apply"), s.apply_edits)):
        try:
            applied = await ls.workspace_apply_edit_async(t.ApplyWorkspaceEditParams(
                edit=ls.protocol._converter.structure(result["edit"], t.WorkspaceEdit),
                label=f"paralift: {function} → {TARGETS[target]}"))
            result["applied"] = bool(applied.applied)
            if not applied.applied:
                result["message"] += f"; the editor did not apply the edit ({applied.failure_reason or 'refused'})"
        except Exception as e:  # noqa: BLE001 - the client cannot apply edits
            result["applied"] = False
            result["message"] += f"; the edit could not be applied: {e}"
    return result


def _fail(ls: ParaliftServer, base: dict, status: str, message: str, show: bool = True) -> dict:
    if show:
        ls.window_show_message(t.ShowMessageParams(type=t.MessageType.Error, message=f"paralift: {message}"))
    ls.window_log_message(t.LogMessageParams(type=t.MessageType.Info, message=f"paralift: {status}: {message}"))
    return {**base, "status": status, "message": message}


def _result(ls: ParaliftServer, base: dict, final: dict, doc, version: int | None, text: str, path: str,
            real_path: bool, language: str) -> dict:
    """The command's answer. `doc` is pygls' live document (it changes in
    place); `version` and `text` are what was translated."""
    report = final.get("report") or {}
    out_text = final.get("text")
    fn = next((f for f in report.get("functions", []) if f.get("name") == base["function"]), None)
    res = {**base, "report": report}
    if fn is None:
        return {**res, "status": "error", "message": "the pipeline reported nothing for this function"}
    res["candidates"] = [{"agent": c.get("agent"), "model": c.get("model"), "status": c.get("status"),
                          "reason": c.get("reason"), "speedup": c.get("speedup"),
                          "tests": {"passed": c.get("tests_passed"), "total": c.get("tests_total")}}
                         for c in fn.get("candidates") or []]
    res["notes"] = report.get("notes") or []
    res["agent"] = fn.get("agent")
    res["speedup"] = fn.get("speedup")
    res["tests"] = fn.get("tests")
    status = fn.get("status")
    if status != "verified" or not out_text:
        why = fn.get("reason") or "no candidate verified"
        word = "kept sequential" if status == "sequential" else "not verified"
        return {**res, "status": status or "failed", "message": f"{base['function']}: {word}: {why}"}
    tests = fn.get("tests") or {}
    sp = fn.get("speedup")
    summary = (f"{base['function']}: verified by {fn.get('agent')}, {tests.get('passed')}/{tests.get('total')} tests"
               + (f", speedup {sp:.2f}x" if isinstance(sp, (int, float)) else ""))
    # The document must be the one that was translated, or the edit would be wrong.
    current = ls.workspace.text_documents.get(base["uri"])
    if current is None or current.version != version or current.source != text:
        now = "closed" if current is None else f"at version {current.version}"
        return {**res, "status": "stale", "newText": out_text,
                "message": f"{summary}; not applied: the document changed while translating "
                           f"(version {version}, now {now}); run it again"}
    conv = ls.protocol._converter
    if base["target"] == "cuda":
        from paralift.pipeline import default_output
        from paralift.types import Target

        new_path = str(default_output(Path(path), Target.CUDA, language))
        if new_path == path:
            edit = E.text_document_edit(doc.uri, version,
                                        E.line_edits(text, out_text, doc.position_codec.client_num_units))
            new_uri = doc.uri
        elif real_path:
            new_uri = from_fs_path(new_path)
            edit = E.create_file_edit(new_uri, out_text)
            if not _client_supports(ls, "workspace.workspace_edit.resource_operations"):
                edit = None
        else:
            new_uri, edit = None, None
        msg = summary + (f" -> {Path(new_path).name}" if new_uri and new_uri != doc.uri else "")
        if edit is None:
            msg += "; the client cannot create files: the .cu text is in newText"
        return {**res, "status": "verified", "message": msg, "newUri": new_uri, "newText": out_text,
                "edit": conv.unstructure(edit) if edit is not None else None}
    num_units = doc.position_codec.client_num_units
    edit_list = E.line_edits(text, out_text, num_units)
    if E.apply_edits(text, edit_list, num_units) != out_text:
        # Never send an edit that would not reproduce the verified file.
        edit_list = [t.TextEdit(range=E.full_range(text, num_units), new_text=out_text)]
    edit = E.text_document_edit(doc.uri, version, edit_list)
    return {**res, "status": "verified", "message": summary, "newUri": doc.uri, "newText": out_text,
            "edit": conv.unstructure(edit)}


@server.command(CMD_CANCEL)
def cancel_command(ls: ParaliftServer, *args) -> dict:
    """Cancel one job ({"job": id}) or, with no argument, all of them."""
    if args and isinstance(args[0], dict) and "job" in args[0]:
        job = ls.jobs.jobs.get(args[0]["job"])
        n = int(bool(job and ls.jobs.cancel(job, "cancel command")))
    else:
        n = ls.jobs.cancel_all("cancel command")
    return {"cancelled": n}


@server.command(CMD_STATUS)
def status_command(ls: ParaliftServer, *args) -> dict:
    return {"pid": os.getpid(), "version": ls.version, "python": sys.executable,
            "jobs": [j.summary() for j in ls.jobs.jobs.values()],
            "settings": asdict(ls.settings),
            "modules": {m: m in sys.modules for m in HEAVY_MODULES}}


def main(argv: list[str] | None = None) -> None:
    """Serve over stdio until the client exits."""
    import atexit

    logging.basicConfig(level=os.environ.get("PARALIFT_LSP_LOG", "WARNING").upper(), stream=sys.stderr,
                        format="paralift-lsp %(levelname)s %(message)s")
    atexit.register(server.jobs.kill_all_now)
    server.start_io()


__all__ = ["server", "main", "ParaliftServer", "Settings", "CMD_TRANSLATE", "CMD_CANCEL", "CMD_STATUS",
           "to_fs_path"]

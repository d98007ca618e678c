"""One translation, in its own process: `python -m paralift.lsp.worker`.

The language server starts one worker per translation. The worker reads one
JSON request on stdin::

    {"path": "/abs/foo.c", "text": "...", "target": "openmp", "function": "saxpy",
     "backends": ["rule"], "model": null, "samples": 1, "timing": true}

runs `paralift.pipeline.translate_file(..., write=False)` (the same code path
as `paralift translate`) and writes JSON lines on stdout::

    {"event": "progress", "stage": "compiling", "k": 1, "n": 2, "message": "compiling candidate 1/2"}
    {"event": "result", "report": {...Report.to_json()...}, "text": "...output file..."}
    {"event": "error", "kind": "usage" | "internal" | "cancelled", "message": "..."}

Cancellation is SIGTERM: the worker stops starting sandboxed processes, kills
the ones running (their process groups), lets the pipeline wind down, and
answers {"event": "error", "kind": "cancelled"}. Whatever does not stop in
time is killed from outside (procs.hard_kill).

Stage reporting and the stop-starting-processes switch are wired in here by
wrapping a few functions of paralift.pipeline and paralift.sandbox *in this
process only* (install_hooks); each wrap is optional, so a renamed function
costs a progress message, never a translation.
"""
from __future__ import annotations

import atexit
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from . import procs

CANCEL = threading.Event()


class Cancelled(Exception):
    """Raised instead of starting a sandboxed process once cancelled."""


class Emitter:
    """Thread-safe JSON lines on a private copy of the real stdout.

    fd 1 itself is pointed at stderr, so nothing else (a library's print, a
    compiler's output) can corrupt the protocol."""

    def __init__(self) -> None:
        fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = os.fdopen(os.dup(2), "w", buffering=1)
        self._out = os.fdopen(fd, "w", buffering=1)
        self._lock = threading.Lock()

    def __call__(self, obj: dict) -> None:
        line = json.dumps(obj, default=str)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


def _wrap(module: Any, name: str, make: Callable[[Callable], Callable]) -> bool:
    orig = getattr(module, name, None)
    if orig is None or getattr(orig, "_paralift_lsp_wrapped", False):
        return False
    wrapped = make(orig)
    wrapped._paralift_lsp_wrapped = True
    setattr(module, name, wrapped)
    return True


class _Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.candidates = 0          # announced by the pipeline ("N candidate(s) ...")
        self.compiled = 0
        self.generated = 0
        self.agents = 1
        self.local = threading.local()


def install_hooks(emit: Callable[[dict], None]) -> _Counters:
    """Progress stages and the cancel switch (this process only)."""
    import importlib

    from paralift import pipeline
    # by module path: paralift.sandbox re-exports a *function* named verify
    isolation = importlib.import_module("paralift.sandbox.isolation")
    sv = importlib.import_module("paralift.sandbox.verify")

    c = _Counters()

    def progress(stage: str, message: str, k: int | None = None, n: int | None = None) -> None:
        emit({"event": "progress", "stage": stage, "message": message, "k": k, "n": n})

    # -- the cancel switch: no new sandboxed process once cancelled
    def make_run(orig):
        def run(*args, **kwargs):
            if CANCEL.is_set():
                raise Cancelled("cancelled")
            return orig(*args, **kwargs)
        return run
    _wrap(isolation, "run", make_run)

    # -- generating k/n
    class Tracked:
        def __init__(self, agent):
            self._agent = agent

        def __getattr__(self, name):
            return getattr(self._agent, name)

        def propose(self, task, target):
            if CANCEL.is_set():
                raise Cancelled("cancelled")
            with c.lock:
                c.generated += 1
                k = c.generated
            name = getattr(self._agent, "name", type(self._agent).__name__)
            progress("generating", f"generating candidates ({name}) {k}/{c.agents}", k, c.agents)
            return self._agent.propose(task, target)

    def make_agents(orig):
        # make_agents returns the agents, or (agents, notes): track either way
        def wrapped(*args, **kwargs):
            out = orig(*args, **kwargs)
            if isinstance(out, list):
                c.agents = max(1, len(out))
                return [Tracked(a) for a in out]
            if isinstance(out, tuple) and out and isinstance(out[0], list):
                c.agents = max(1, len(out[0]))
                return ([Tracked(a) for a in out[0]], *out[1:])
            return out
        return wrapped
    _wrap(pipeline, "make_agents", make_agents)

    # -- reference, compiling k/n, tests i/m, timing
    def make_ref(orig):
        def wrapped(*args, **kwargs):
            c.local.phase = None
            progress("reference", "building the sequential reference and its expected outputs")
            return orig(*args, **kwargs)
        return wrapped
    _wrap(sv, "prepare_reference", make_ref)

    def make_build(orig):
        def wrapped(*args, **kwargs):
            c.local.phase = None
            with c.lock:
                c.compiled += 1
                k, n = c.compiled, max(c.candidates, c.compiled)
            progress("compiling", f"compiling candidate {k}/{n}", k, n)
            return orig(*args, **kwargs)
        return wrapped
    _wrap(sv, "_build_candidate", make_build)

    def make_configs(orig):
        def wrapped(*args, **kwargs):
            out = orig(*args, **kwargs)
            c.local.phase, c.local.done, c.local.total = "tests", 0, len(out)
            c.local.labels = [cfg[0] for cfg in out]
            return out
        return wrapped
    _wrap(sv, "_configs", make_configs)

    def make_driver(orig):
        def wrapped(*args, **kwargs):
            result = orig(*args, **kwargs)
            if getattr(c.local, "phase", None) == "tests":
                c.local.done += 1
                i, m = c.local.done, c.local.total
                label = c.local.labels[i - 1] if i - 1 < len(c.local.labels) else ""
                progress("tests", f"tests {i}/{m}" + (f" ({label})" if label else ""), i, m)
                if i >= m:
                    c.local.phase = None
            return result
        return wrapped
    _wrap(sv, "_run_driver", make_driver)

    def make_timing(orig):
        def wrapped(*args, **kwargs):
            c.local.phase = "timing"
            opts = args[-1] if args else kwargs.get("opts")
            if getattr(opts, "timing", True):
                progress("timing", "timing against the sequential code")
            try:
                return orig(*args, **kwargs)
            finally:
                c.local.phase = None
        return wrapped
    _wrap(sv, "_time_candidate", make_timing)
    return c


_ANNOUNCE = re.compile(r"^(\d+) candidate\(s\) for (\d+) function")


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001
    if CANCEL.is_set():
        return
    CANCEL.set()
    _REAPER.append(threading.Thread(target=_reaper, name="paralift-cancel", daemon=True))
    _REAPER[0].start()


def _reaper() -> None:
    # Kill what runs now and whatever a thread that was already past the
    # switch manages to start, until the pipeline has wound down. A thread
    # can also be stuck where no kill reaches it (waiting for the machine-wide
    # timing lock, or inside a model's generate): after WIND_DOWN_S the worker
    # cleans up (the sandbox's atexit handlers remove its temp dirs) and exits.
    me = os.getpid()
    deadline = time.monotonic() + WIND_DOWN_S
    while time.monotonic() < deadline:
        procs.kill_descendants(me, rounds=1)
        if _DONE.wait(0.05):
            procs.kill_descendants(me)
            return
    procs.kill_descendants(me)
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if run_exitfuncs is not None:
        try:
            run_exitfuncs()
        except Exception:  # noqa: BLE001
            pass
    procs.kill_descendants(me)
    if _EMIT:
        _EMIT[0]({"event": "error", "kind": "cancelled", "message": "cancelled"})
    os._exit(3)


WIND_DOWN_S = 1.5
_EMIT: list = []
_DONE = threading.Event()
_REAPER: list[threading.Thread] = []


def run_request(req: dict, emit: Callable[[dict], None]) -> int:
    from paralift.errors import UsageError
    from paralift.types import Target

    counters = install_hooks(emit)

    def on_event(msg: str) -> None:
        m = _ANNOUNCE.match(msg)
        if m:
            with counters.lock:
                counters.candidates = int(m.group(1))
        stage = "re-verifying" if msg.startswith("re-verifying") else "pipeline"
        emit({"event": "progress", "stage": stage, "message": msg, "k": None, "n": None})

    cwd = req.get("cwd")
    if cwd and os.path.isdir(cwd):
        # Run where the document is, so that the paralift settings file nearest
        # to it applies, as for `paralift translate` run there. (After start-up:
        # sys.path keeps the server's folder for imports.)
        os.chdir(cwd)
    try:
        from paralift import pipeline
        try:
            from paralift.agents import AnalysisError
        except ImportError:      # pragma: no cover - agents missing entirely
            AnalysisError = UsageError  # type: ignore[misc,assignment]
        target = Target.parse(str(req["target"]))
        functions = [req["function"]] if req.get("function") else []
        report = pipeline.translate_file(
            Path(req["path"]), req["text"], target, functions, None,
            backends=list(req.get("backends") or []), model=req.get("model") or None,
            samples=int(req["samples"]) if req.get("samples") else None, timing=bool(req.get("timing", True)),
            write=False, on_event=on_event, project_dir=Path(req["project"]) if req.get("project") else None)
    except (UsageError, AnalysisError, ValueError, KeyError) as e:
        if CANCEL.is_set():
            emit({"event": "error", "kind": "cancelled", "message": "cancelled"})
            return 3
        msg = str(e) if not isinstance(e, KeyError) else f"missing request field {e}"
        emit({"event": "error", "kind": "usage", "message": msg})
        return 2
    except Exception as e:  # noqa: BLE001 - reported to the client, never a crash
        if CANCEL.is_set():
            emit({"event": "error", "kind": "cancelled", "message": "cancelled"})
            return 3
        traceback.print_exc(file=sys.stderr)
        emit({"event": "error", "kind": "internal", "message": f"{type(e).__name__}: {e}"})
        return 1
    if CANCEL.is_set():
        emit({"event": "error", "kind": "cancelled", "message": "cancelled"})
        return 3
    winners = {f.name: (f.winner.agent if f.winner else None) for f in report.functions}
    emit({"event": "result", "report": report.to_json(), "text": report.text, "winners": winners})
    return 0


def main() -> int:
    procs.set_child_subreaper()
    signal.signal(signal.SIGTERM, _on_sigterm)
    parent = os.environ.get("PARALIFT_LSP_PARENT")
    if parent and parent.isdigit():
        # The server died abruptly: cancel as if asked.
        procs.set_parent_death_signal(signal.SIGTERM)
        if os.getppid() != int(parent):
            return 3
    emit = Emitter()
    _EMIT.append(emit)
    try:
        req = json.loads(sys.stdin.read())
        if not isinstance(req, dict):
            raise ValueError("the request is not a JSON object")
    except ValueError as e:
        emit({"event": "error", "kind": "usage", "message": f"bad worker request: {e}"})
        return 2
    try:
        return run_request(req, emit)
    finally:
        _DONE.set()
        for t in _REAPER:
            t.join(timeout=5)


if __name__ == "__main__":
    sys.exit(main())

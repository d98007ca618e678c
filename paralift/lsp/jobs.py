"""Translation jobs: one worker process each, run from the server's event loop.

A job never blocks the loop: the worker's stdout (JSON lines) and stderr are
read asynchronously, so hover and code-action requests are answered while any
number of translations run. At most `max_jobs` workers run at once; further
jobs wait their turn (and can be cancelled while waiting).

Cancelling a job sends SIGTERM to its worker, which stops starting sandboxed
processes and kills the running ones (worker.py); whatever is still alive after
`grace_s` is stopped and killed from here, tree and all (procs.hard_kill).
"""
from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from . import procs

log = logging.getLogger("paralift.lsp")

_IDS = itertools.count(1)


@dataclass
class Job:
    uri: str
    function: str
    target: str
    version: int | None
    id: int = field(default_factory=lambda: next(_IDS))
    request_id: Any = None            # the JSON-RPC id of the executeCommand request
    token: Any = None                 # the work-done progress token
    pid: int | None = None
    state: str = "queued"             # queued | running | done | cancelled
    stage: str = ""
    cancelled: bool = False
    started: float = field(default_factory=time.monotonic)
    _proc: asyncio.subprocess.Process | None = field(default=None, repr=False)
    _cancel_event: asyncio.Event | None = field(default=None, repr=False)

    def summary(self) -> dict:
        return {"id": self.id, "uri": self.uri, "function": self.function, "target": self.target,
                "state": self.state, "stage": self.stage, "pid": self.pid,
                "seconds": round(time.monotonic() - self.started, 2)}


class JobManager:
    def __init__(self, max_jobs: int = 2, grace_s: float = 4.0, python: str | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.jobs: dict[int, Job] = {}
        self.max_jobs = max(1, max_jobs)
        self.grace_s = grace_s
        self.python = python or sys.executable
        self.env = env or {}
        self._running = 0
        self._turn: asyncio.Condition | None = None

    # ------------------------------------------------------------ queries
    def find(self, *, request_id: Any = None, token: Any = None) -> list[Job]:
        return [j for j in self.jobs.values()
                if (request_id is not None and j.request_id == request_id)
                or (token is not None and j.token == token)]

    def pids(self) -> list[int]:
        return [j.pid for j in self.jobs.values() if j.pid]

    # ------------------------------------------------------------ running
    async def run(self, job: Job, request: dict, on_event: Callable[[dict], None]) -> dict:
        """Run `request` in a worker; the final event (result or error)."""
        self.jobs[job.id] = job
        job._cancel_event = asyncio.Event()
        if self._turn is None:
            self._turn = asyncio.Condition()
        try:
            async with self._turn:
                while self._running >= self.max_jobs and not job.cancelled:
                    await self._turn.wait()
                if job.cancelled:
                    return {"event": "error", "kind": "cancelled", "message": "cancelled before it started"}
                self._running += 1
            try:
                return await self._run_worker(job, request, on_event)
            finally:
                async with self._turn:
                    self._running -= 1
                    self._turn.notify_all()
        finally:
            job.state = "cancelled" if job.cancelled else "done"
            self.jobs.pop(job.id, None)

    async def _run_worker(self, job: Job, request: dict, on_event: Callable[[dict], None]) -> dict:
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1", "PARALIFT_LSP_PARENT": str(os.getpid())}
        proc = await asyncio.create_subprocess_exec(
            self.python, "-m", "paralift.lsp.worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True, env=env, limit=64 << 20)
        job._proc, job.pid, job.state = proc, proc.pid, "running"
        if job.cancelled:                       # cancelled while starting
            self._terminate(job)
        stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        final: dict | None = None

        async def feed() -> None:
            try:
                proc.stdin.write(json.dumps(request).encode())
                await proc.stdin.drain()
                proc.stdin.close()
            except (BrokenPipeError, ConnectionResetError):
                pass

        async def read_err() -> None:
            while True:
                line = await proc.stderr.readline()
                if not line:
                    return
                text = line.decode("utf-8", "replace").rstrip()
                stderr_tail.append(text)
                log.debug("[job %d] %s", job.id, text)

        async def read_out() -> None:
            nonlocal final
            while True:
                line = await proc.stdout.readline()
                if not line:
                    return
                try:
                    event = json.loads(line)
                except ValueError:
                    log.warning("[job %d] not a worker event: %r", job.id, line[:200])
                    continue
                if event.get("event") == "progress":
                    job.stage = event.get("stage") or job.stage
                    try:
                        on_event(event)
                    except Exception:  # noqa: BLE001 - a progress glitch never ends a job
                        log.exception("progress callback failed")
                else:
                    final = event

        await asyncio.gather(feed(), read_err(), read_out())
        rc = await proc.wait()
        # Nothing of the job may outlive it: its sandboxed processes run in
        # sessions of their own, so check by process group as well.
        if job.cancelled or rc != 0:
            self._sweep(job)
        if job.cancelled:
            return {"event": "error", "kind": "cancelled", "message": "cancelled"}
        if final is None:
            tail = " | ".join(list(stderr_tail)[-3:])
            return {"event": "error", "kind": "internal",
                    "message": f"the translation worker exited with status {rc}" + (f": {tail}" if tail else "")}
        return final

    # ------------------------------------------------------------ cancelling
    def cancel(self, job: Job, reason: str = "cancelled") -> bool:
        if job.cancelled or job.state in ("done", "cancelled"):
            return False
        log.info("cancelling job %d (%s)", job.id, reason)
        job.cancelled = True
        if job._proc is not None:
            self._terminate(job)
        elif self._turn is not None:
            asyncio.ensure_future(self._wake())
        return True

    async def _wake(self) -> None:
        async with self._turn:
            self._turn.notify_all()

    def cancel_all(self, reason: str = "shutdown") -> int:
        return sum(self.cancel(j, reason) for j in list(self.jobs.values()))

    def _terminate(self, job: Job) -> None:
        proc = job._proc
        if proc is None or proc.returncode is not None:
            return
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except OSError:
            return
        loop = asyncio.get_running_loop()
        loop.call_later(self.grace_s, self._hard_kill, job)

    def _hard_kill(self, job: Job) -> None:
        proc = job._proc
        if proc is not None and proc.returncode is None:
            log.warning("job %d did not stop within %.1f s: killing its process tree", job.id, self.grace_s)
            procs.hard_kill(proc.pid)

    def _sweep(self, job: Job) -> None:
        # The worker is gone; a sandbox process group it led could only
        # survive if the worker was killed abruptly. Kill any such group.
        if job.pid:
            try:
                os.killpg(job.pid, signal.SIGKILL)
            except OSError:
                pass

    def kill_all_now(self) -> None:
        """Synchronous last resort (server exit): stop every worker tree."""
        for job in list(self.jobs.values()):
            if job._proc is not None and job._proc.returncode is None:
                procs.hard_kill(job._proc.pid)

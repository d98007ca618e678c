"""Per-run memory and process-count limits through cgroups (v1 or v2).

A cgroup is created for each sandboxed run, the run's first process joins it
before exec (see isolation.py), and after the run every process still in it is
killed and the cgroup removed.
"""
from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("memory", "pids")


def _is_v2() -> bool:
    return (ROOT / "cgroup.controllers").exists()


def available() -> bool:
    try:
        group = create(64 << 20, 64)
    except OSError:
        return False
    group.destroy()
    return True


@dataclass
class Group:
    dirs: list[Path]

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            try:
                found.update(int(x) for x in (d / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return found

    def oom_killed(self) -> bool:
        for d in self.dirs:
            for name, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
                try:
                    for line in (d / name).read_text().splitlines():
                        k, _, v = line.partition(" ")
                        if k == key and int(v) > 0:
                            return True
                except (OSError, ValueError):
                    pass
            try:
                if int((d / "memory.failcnt").read_text()) > 0:
                    return True
            except (OSError, ValueError):
                pass
        return False

    def kill_all(self) -> None:
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)

    def destroy(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


def create(memory_bytes: int, max_pids: int) -> Group:
    name = f"paralift-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    made: list[Path] = []
    try:
        if _is_v2():
            d = ROOT / name
            d.mkdir()
            made.append(d)
            (d / "memory.max").write_text(str(memory_bytes))
            try:
                (d / "memory.swap.max").write_text("0")
            except OSError:
                pass
            (d / "pids.max").write_text(str(max_pids))
        else:
            for ctl in V1_CONTROLLERS:
                d = ROOT / ctl / name
                d.mkdir()
                made.append(d)
            (ROOT / "memory" / name / "memory.limit_in_bytes").write_text(str(memory_bytes))
            (ROOT / "pids" / name / "pids.max").write_text(str(max_pids))
    except OSError:
        Group(made).destroy()
        raise
    return Group(made)

"""Process-tree helpers for the language server's translation workers (Linux /proc).

A translation runs in its own worker process (see worker.py). Sandboxed
compiles and test runs are started with `start_new_session=True`, so they are
not in the worker's process group: to stop a translation we walk the tree of
descendants through /proc and kill each one (and each process group one of
them leads). The worker marks itself a *child subreaper*, so that a process
orphaned inside its tree is re-parented to the worker, not to init, and stays
findable.
"""
from __future__ import annotations

import os
import signal
import time


def set_child_subreaper() -> bool:
    """prctl(PR_SET_CHILD_SUBREAPER, 1); False where unsupported."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0   # 36 = PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """prctl(PR_SET_PDEATHSIG, sig): get `sig` when the parent dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, int(sig), 0, 0, 0) == 0   # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return False


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgid) of `pid`, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    try:
        return rest[0], int(rest[1]), int(rest[2])
    except (IndexError, ValueError):
        return None


def _table() -> dict[int, tuple[str, int, int]]:
    out = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                out[int(name)] = st
    return out


def descendants(root: int, include_zombies: bool = False) -> list[int]:
    """Every process below `root` (children first-level first)."""
    table = _table()
    kids: dict[int, list[int]] = {}
    for pid, (_state, ppid, _pgid) in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], list(kids.get(root, []))
    while todo:
        pid = todo.pop(0)
        if include_zombies or table[pid][0] not in ("Z", "X"):
            out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def kill_descendants(root: int, sig: int = signal.SIGKILL, rounds: int = 50, pause: float = 0.02) -> int:
    """Kill everything below `root` until nothing is left (or `rounds` passes).

    A killed process cannot fork any more, and what it orphans is re-parented to
    the nearest subreaper (the worker), so repeated passes converge. Process
    groups led by a descendant are killed whole, which reaches sandboxed
    children that are not (yet) visible as descendants. Returns the number of
    processes signalled."""
    own_groups = {os.getpgid(0)}
    try:
        own_groups.add(os.getpgid(root))
    except OSError:
        pass
    killed = 0
    for _ in range(rounds):
        pids = descendants(root)
        if not pids:
            break
        for pid in pids:
            st = _stat(pid)
            if st is None:
                continue
            if st[2] == pid and pid not in own_groups:
                try:
                    os.killpg(pid, sig)
                except OSError:
                    pass
            try:
                os.kill(pid, sig)
                killed += 1
            except OSError:
                pass
        time.sleep(pause)
    return killed


def hard_kill(pid: int) -> None:
    """Stop `pid` (so its threads start nothing new), kill its whole tree, then it."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except OSError:
        return
    kill_descendants(pid)
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass

"""A machine-wide readers/writer lock: timing excludes everything else.

Compiles and correctness runs take the lock shared; a timing measurement takes
it exclusive, so two measurements never overlap each other nor a compile, even
across separate paralift processes (flock on files in the temp dir).

Writers are preferred: a timing measurement first closes a gate that new
readers must pass, then waits for the readers already inside. With plain
flock, a steady stream of correctness runs from other processes (an eval, the
language server, a corpus build) starved timing for as long as they ran.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading

LOCK_PATH = os.path.join(tempfile.gettempdir(), "paralift-machine.lock")
GATE_PATH = LOCK_PATH + ".gate"
# flock locks belong to open file descriptions: each acquisition opens its own.
_local_exclusive = threading.Lock()
_held = threading.local()   # a thread already reading must not queue behind a writer at the gate


def _lock(path: str, mode: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _unlock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def shared():
    depth = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    gate = _lock(GATE_PATH, fcntl.LOCK_SH)
    try:
        fd = _lock(LOCK_PATH, fcntl.LOCK_SH)
    finally:
        _unlock(gate)
    _held.depth = 1
    try:
        yield
    finally:
        _held.depth = 0
        _unlock(fd)


@contextlib.contextmanager
def exclusive():
    with _local_exclusive:
        gate = _lock(GATE_PATH, fcntl.LOCK_EX)
        try:
            fd = _lock(LOCK_PATH, fcntl.LOCK_EX)
            try:
                yield
            finally:
                _unlock(fd)
        finally:
            _unlock(gate)

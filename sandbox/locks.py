"""A machine-wide readers/writer lock: timing excludes everything else.

Compiles and correctness runs take the lock shared; a timing measurement takes
it exclusive, so two measurements never overlap each other nor a compile, even
across separate paralift processes (flock on one file in the temp dir).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading

LOCK_PATH = os.path.join(tempfile.gettempdir(), "paralift-machine.lock")
# flock locks belong to open file descriptions: each acquisition opens its own.
_local_exclusive = threading.Lock()


@contextlib.contextmanager
def _flock(mode: int):
    fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def shared():
    with _flock(fcntl.LOCK_SH):
        yield


@contextlib.contextmanager
def exclusive():
    with _local_exclusive, _flock(fcntl.LOCK_EX):
        yield

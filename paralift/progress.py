"""A small progress line on stderr (never stdout: --json output stays clean)."""
from __future__ import annotations

import sys
import threading
import time
from collections import Counter


class Progress:
    def __init__(self, label: str, total: int, enabled: bool = True, stream=None):
        self.label, self.total, self.done = label, total, 0
        self.counts: Counter[str] = Counter()
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.start = time.monotonic()
        self._lock = threading.Lock()
        if self.enabled:
            self._draw()

    def advance(self, status: str = "") -> None:
        with self._lock:
            self.done += 1
            if status:
                self.counts[status] += 1
            if self.enabled:
                self._draw()

    def note(self, text: str) -> None:
        if self.enabled:
            with self._lock:
                self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
                self._draw()

    def _draw(self) -> None:
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        stats = " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        line = f"{self.label} [{bar}] {self.done}/{self.total} {stats} {time.monotonic() - self.start:.1f}s"
        if self.tty:
            self.stream.write("\r\033[K" + line)
        elif self.done in (0, self.total) or self.done % max(1, self.total // 10) == 0:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()

"""The machine-wide timing lock: a measurement is not starved by a stream of readers."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from paralift.sandbox import locks

READERS = textwrap.dedent("""
    import sys, threading, time
    from paralift.sandbox import locks
    def reader():
        while True:
            with locks.shared():
                time.sleep(0.05)
    # two overlapping readers: at every instant one of them holds the lock
    for k in range(2):
        threading.Thread(target=reader, daemon=True).start()
        time.sleep(0.025)
    print("ready", flush=True)
    time.sleep(60)
""")


def test_exclusive_is_not_starved_by_overlapping_readers():
    p = subprocess.Popen([sys.executable, "-c", READERS], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        t0 = time.monotonic()
        with locks.exclusive():
            waited = time.monotonic() - t0
        assert waited < 5.0, f"timing waited {waited:.1f} s behind readers"
    finally:
        p.kill()
        p.wait()


def test_nested_shared_in_one_thread_does_not_queue_behind_a_writer():
    with locks.shared():
        with locks.shared():
            pass
    with locks.exclusive():
        pass

"""ThreadSanitizer for OpenMP candidates, with an OpenMP-aware runtime.

The static check (races.py) rejects the races that lose updates for certain;
what it cannot decide (a race through a pointer copied in the loop, a shared
object written through a helper, ...) the tests see only when threads happen
to overlap, which a busy machine makes rare. ThreadSanitizer decides by the
happens-before order of the accesses instead of their timing, so its verdict
does not depend on the machine's load. With GCC's libgomp it reports false
races (the runtime is not instrumented); LLVM's libomp with its Archer tool
(libarcher.so, loaded through OMP_TOOL_LIBRARIES) tells TSan about OpenMP's
synchronization, so correct code runs clean.

Where clang and libarcher are not installed (`apt-get install clang
libomp-dev`; install.sh does it when it may), `toolchain()` is None and this
stage is skipped: the verdict then rests on the static check and the race
rounds, and says so in its logs.
"""
from __future__ import annotations

import glob
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache

RACE_EXIT = 66
MARKER = "ThreadSanitizer: data race"


@dataclass(frozen=True)
class OmpTsan:
    clang: str
    clangxx: str
    archer: str


@lru_cache(maxsize=1)
def toolchain() -> OmpTsan | None:
    """clang, clang++ and libarcher.so of one LLVM installation, or None."""
    for cc in [shutil.which("clang")] + sorted(glob.glob("/usr/bin/clang-[0-9]*"), reverse=True):
        if not cc:
            continue
        real = os.path.realpath(cc)
        root = os.path.dirname(os.path.dirname(real))           # /usr/lib/llvm-14
        archer = os.path.join(root, "lib", "libarcher.so")
        cxx = os.path.join(os.path.dirname(real), "clang++")
        if os.path.exists(archer) and os.path.exists(cxx):
            return OmpTsan(real, cxx, archer)
    return None


def compile_cmd(tc: OmpTsan, language: str, sources: list[str], out: str) -> list[str]:
    # -O1 keeps most loads and stores while running at a usable speed; -g for the report's lines
    cc = tc.clangxx if language == "cpp" else tc.clang
    return [cc, "-fopenmp", "-fsanitize=thread", "-g", "-O1", *sources, "-o", out, "-lm"]


def run_env(tc: OmpTsan, threads: int) -> dict[str, str]:
    return {"OMP_NUM_THREADS": str(threads), "OMP_TOOL_LIBRARIES": tc.archer,
            "TSAN_OPTIONS": f"exitcode={RACE_EXIT}:halt_on_error=1:ignore_noninstrumented_modules=1:"
                            "report_signal_unsafe=0",
            "ARCHER_OPTIONS": "verbose=0"}


def race_report(stderr: str) -> str | None:
    """The report's first lines (the racing accesses), or None when it has none."""
    if MARKER not in stderr:
        return None
    lines = stderr[stderr.index(MARKER):].splitlines()
    keep = [lines[0].strip()]
    for ln in lines[1:]:
        s = ln.strip()
        if s.startswith(("Write of", "Read of", "Previous write", "Previous read", "Atomic")) or \
                (s.startswith("#0") and len(keep) < 6):
            keep.append(s.split(" (")[0])
        if len(keep) >= 5:
            break
    return "; ".join(keep)

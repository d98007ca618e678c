"""Constants and compiler flags of the CUDA-on-CPU runtime."""
from __future__ import annotations

import os
import pathlib

ORDER_ENV = "PARALIFT_CUDA_ORDER"
"""Run-time variable: "forward" (default) or "reverse" thread order in a block."""

ORDERS = ("forward", "reverse")

DEADLOCK_EXIT = 86
"""Exit status of a program whose kernel deadlocked at a barrier."""

RACE_EXIT = 66
"""Exit status of a -fsanitize=thread build that found a data race (TSan's default)."""


def include_dir() -> pathlib.Path:
    """Folder holding paralift_cuda.h and the cuda_runtime.h & co. stubs."""
    return pathlib.Path(__file__).resolve().parent


def compile_flags(asan: bool = False, tsan: bool = False, opt: str = "-O2") -> list[str]:
    """g++ flags for a rewritten source (and the driver including it).

    asan: AddressSanitizer + UBSan, for out-of-bounds and use-after-free.
    tsan: ThreadSanitizer; every CUDA thread is a TSan fiber ordered only by
    barriers and warp collectives, so shared-memory races and non-atomic
    read-modify-writes are reported (exit status RACE_EXIT).
    """
    if asan and tsan:
        raise ValueError("AddressSanitizer and ThreadSanitizer cannot be combined")
    flags = ["-std=c++17", "-fopenmp", "-pthread", f"-I{include_dir()}"]
    if asan:
        flags += ["-O1", "-g", "-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    elif tsan:
        flags += ["-O1", "-g", "-fsanitize=thread", "-fno-omit-frame-pointer"]
    else:
        flags += [opt]
    return flags


def build_command(sources: list[str | os.PathLike], output: str | os.PathLike, asan: bool = False,
                  tsan: bool = False, cxx: str = "g++") -> list[str]:
    """The g++ command line that builds `sources` (rewritten .cpp files) into `output`."""
    return [cxx, *compile_flags(asan=asan, tsan=tsan), *map(str, sources), "-o", str(output), "-lm"]


def run_env(order: str = "forward", base: dict[str, str] | None = None, threads: int | None = None) -> dict[str, str]:
    """Environment for running a built program in a given thread order."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, not {order!r}")
    env = dict(os.environ if base is None else base)
    env[ORDER_ENV] = order
    if threads is not None:
        env["PARALIFT_CUDA_THREADS"] = str(threads)
    return env


_DIAGNOSES = [
    # (pattern in stderr, reason); the first line matching the pattern is quoted
    ("paralift-cuda: barrier deadlock", "barrier deadlock"),
    # the SUMMARY line ends the report (it survives when only the tail of stderr is kept) and says where
    ("SUMMARY: ThreadSanitizer: data race", "data race between CUDA threads"),
    ("WARNING: ThreadSanitizer: data race", "data race between CUDA threads"),
    ("SUMMARY: AddressSanitizer", "invalid memory access (AddressSanitizer)"),
    ("ERROR: AddressSanitizer", "invalid memory access (AddressSanitizer)"),
    (": runtime error:", "undefined behaviour (UBSan)"),
    ("paralift-cuda: fiber stack overflow", "fiber stack overflow"),
    ("is not device memory", "kernel argument is not device memory"),
    ("points into device memory that was freed", "kernel argument points into freed device memory"),
    ("paralift-cuda: segmentation fault", "illegal memory access"),
    ("static __shared__ memory", "too much static shared memory"),
    ("paralift-cuda:", "CUDA emulation error"),
]


def diagnose(returncode: int, stderr: str) -> str | None:
    """A one-line reason for a failed run of an emulated CUDA program, or None.

    E.g. "barrier deadlock: paralift-cuda: barrier deadlock in kernel k: ...".
    """
    if returncode == 0 and "ThreadSanitizer" not in stderr and ": runtime error:" not in stderr:
        return None
    lines = stderr.splitlines()
    for pattern, reason in _DIAGNOSES:
        for i, line in enumerate(lines):
            if pattern in line:
                detail = line.strip()
                if pattern.startswith("WARNING: ThreadSanitizer") or pattern.startswith("ERROR: AddressSanitizer"):
                    # the first frame of the report says where
                    frame = next((ln.strip() for ln in lines[i + 1:i + 6] if ln.strip().startswith("#0")), "")
                    detail = f"{detail} {frame}".strip()
                return f"{reason}: {detail}"
    return None

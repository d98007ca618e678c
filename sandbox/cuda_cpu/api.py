"""Constants and compiler flags of the CUDA-on-CPU runtime."""
from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading

ORDER_ENV = "PARALIFT_CUDA_ORDER"
"""Run-time variable: "forward" (default) or "reverse" thread order in a block."""

ORDERS = ("forward", "reverse")

TRANSFERS_ENV = "PARALIFT_CUDA_TRANSFERS"
"""Run-time variable: when set, every host<->device copy writes a line to stderr:
"paralift-cuda: transfer h2d|d2h BYTES bytes host ADDRESS"."""

DEADLOCK_EXIT = 86
"""Exit status of a program whose kernel deadlocked at a barrier."""

RACE_EXIT = 66
"""Exit status of a -fsanitize=thread build that found a data race (TSan's default)."""


def include_dir() -> pathlib.Path:
    """Folder holding paralift_cuda.h and the cuda_runtime.h & co. stubs."""
    return pathlib.Path(__file__).resolve().parent


# How the emulated build treats a*b + c. A GPU build (nvcc's default -fmad=true) fuses it into one
# FMA, rounding once; the sequential C build paralift compares against (gcc for x86-64, no -mfma)
# rounds twice. "off" keeps every product rounded, as the C code; "fma" lets g++ fuse like nvcc
# does (needs a CPU with FMA), so that a candidate whose results depend on the fusion fails on the
# CPU as it would on a GPU. Code that pins its rounding (__fmul_rn & co., which neither compiler
# fuses; paralift's rule-based CUDA writes every product so) gives the C code's results both ways.
CONTRACT_FLAGS = {"off": ("-ffp-contract=off",), "fma": ("-mfma", "-ffp-contract=fast")}


def compile_flags(asan: bool = False, tsan: bool = False, opt: str = "-O2", pch: bool | str = True,
                  contract: str = "off") -> list[str]:
    """g++ flags for a rewritten source (and the driver including it).

    asan: AddressSanitizer + UBSan, for out-of-bounds and use-after-free.
    tsan: ThreadSanitizer; every CUDA thread is a TSan fiber ordered only by
    barriers and warp collectives, so shared-memory races and non-atomic
    read-modify-writes are reported (exit status RACE_EXIT).
    pch: end the flags with `-include <cache>/paralift_cuda.h`, whose
    precompiled header (built once per flag set and compiler, see
    :func:`precompiled_header`) spares each build parsing the runtime; a
    string names the compiler (default "g++"). Nothing is added when no
    precompiled header can be built. g++ itself falls back to the header's
    text when the .gch does not fit the command (other -D macros, options).
    contract: "off" or "fma", see CONTRACT_FLAGS.
    """
    if asan and tsan:
        raise ValueError("AddressSanitizer and ThreadSanitizer cannot be combined")
    flags = ["-std=c++17", "-fopenmp", "-pthread", f"-I{include_dir()}"]
    if asan:
        # -O0: every load and store stays instrumented (-O1 may drop some) and
        # a batch of emulated kernels compiles in half the time; the runs,
        # on small inputs, take ~1.4x as long
        flags += ["-O0", "-g", "-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    elif tsan:
        flags += ["-O1", "-g", "-fsanitize=thread", "-fno-omit-frame-pointer"]
    else:
        flags += [opt]
    flags += CONTRACT_FLAGS[contract]
    if pch:
        flags += precompiled_header(flags, pch if isinstance(pch, str) else "g++")
    return flags


def build_command(sources: list[str | os.PathLike], output: str | os.PathLike, asan: bool = False,
                  tsan: bool = False, cxx: str = "g++", contract: str = "off") -> list[str]:
    """The g++ command line that builds `sources` (rewritten .cpp files) into `output`."""
    return [cxx, *compile_flags(asan=asan, tsan=tsan, pch=cxx, contract=contract), *map(str, sources),
            "-o", str(output), "-lm"]


# ----------------------------------------------------------------- precompiled header

PCH_ENV = "PARALIFT_CUDA_PCH_DIR"
"""Folder for precompiled headers (default: $XDG_CACHE_HOME/paralift/cuda_cpu-pch); "off" disables them."""

_PCH_LOCK = threading.Lock()
_PCH_MEMO: dict[str, list[str]] = {}


def pch_dir() -> pathlib.Path | None:
    """Where precompiled headers are cached (None: disabled)."""
    v = os.environ.get(PCH_ENV, "")
    if v.lower() in ("off", "0", "no", "none"):
        return None
    if v:
        return pathlib.Path(v)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "paralift" / "cuda_cpu-pch"


def _compiler_id(cxx: str) -> str:
    path = shutil.which(cxx) or cxx
    try:
        st = os.stat(os.path.realpath(path))
        ver = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}:{ver}"


def _headers_digest() -> str:
    h = hashlib.sha256()
    for f in sorted(include_dir().glob("*.h")):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def precompiled_header(flags: list[str], cxx: str = "g++") -> list[str]:
    """["-include", <cache>/<key>/paralift_cuda.h] where <key> (compiler,
    `flags`, the runtime's headers) holds paralift_cuda.h.gch, built here the
    first time; [] when it cannot be built (no compiler, no writable cache).

    Safe under concurrent builders (threads and processes): each writes to a
    temporary name in the key's folder and renames it into place, and the
    header copy lands before its .gch. The copy is what g++ reads when it
    finds the .gch unusable for a command, so results never depend on it."""
    root = pch_dir()
    if root is None:
        return []
    ident = _compiler_id(cxx)
    if not ident:
        return []
    key = hashlib.sha256("\0".join([ident, _headers_digest(), *flags]).encode()).hexdigest()[:24]
    folder = root / key
    with _PCH_LOCK:
        if str(folder) in _PCH_MEMO:
            return _PCH_MEMO[str(folder)]
        header, gch = folder / "paralift_cuda.h", folder / "paralift_cuda.h.gch"
        out: list[str] = []
        try:
            if not gch.is_file():
                folder.mkdir(parents=True, exist_ok=True)
                if not header.is_file():
                    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".h-")
                    with os.fdopen(fd, "wb") as f:
                        f.write((include_dir() / "paralift_cuda.h").read_bytes())
                    os.chmod(tmp, 0o644)
                    os.replace(tmp, header)
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=".gch-", suffix=".gch")
                os.close(fd)
                try:
                    r = subprocess.run([cxx, *flags, "-x", "c++-header", str(header), "-o", tmp],
                                       capture_output=True, text=True, timeout=600)
                    if r.returncode == 0:
                        os.chmod(tmp, 0o644)
                        os.replace(tmp, gch)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
            if gch.is_file() and header.is_file():
                out = ["-include", str(header)]
        except (OSError, subprocess.SubprocessError):
            out = []
        _PCH_MEMO[str(folder)] = out
        return out


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

"""Find the compilers, MPI, nvcc, a GPU, and the isolation tools on this machine.

Detection is cached per process: verification calls it for every candidate.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Tool:
    name: str
    path: str | None
    version: str = ""
    install_hint: str = ""

    @property
    def found(self) -> bool:
        return self.path is not None


# MPI candidates are compiled with these: the ranks' loops carry `#pragma omp simd` where a
# floating-point sum or product is reduced (the ranks' partial results reorder it already), and
# -fopenmp-simd honours that pragma alone (no threads, no libgomp). Without the flag the code is
# the same, only not vectorized.
MPI_FLAGS = ("-fopenmp-simd",)


@dataclass
class Toolchains:
    cc: Tool
    cxx: Tool
    openmp: bool
    mpicc: Tool
    mpicxx: Tool
    mpirun: Tool
    nvcc: Tool
    gpu: str | None            # GPU name when a usable CUDA device is present
    bwrap: Tool
    cgroups: bool              # can we create memory+pids cgroups (v1 or v2)?
    notes: list[str] = field(default_factory=list)

    def mpi_prefixes(self) -> list[str]:
        """Install prefixes of the MPI tools (the sandbox must be able to see them)."""
        return sorted({str(Path(t.path).resolve().parent.parent) for t in (self.mpicc, self.mpirun) if t.path})

    def nvcc_prefix(self) -> str | None:
        if not self.nvcc.path:
            return None
        return str(_resolve_nvcc(self.nvcc.path).parent.parent)


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else ""


def _venv_bin() -> Path:
    return Path(sys.executable).parent


def _which(name: str) -> str | None:
    # The venv's bin first: MPICH from PyPI installs mpicc/mpirun there, and a
    # user may run `.venv/bin/paralift` without activating the venv.
    cand = _venv_bin() / name
    if cand.exists() and os.access(cand, os.X_OK):
        return str(cand)
    return shutil.which(name)


def _resolve_nvcc(path: str) -> Path:
    """nvcc is often a wrapper script (`exec /usr/local/cuda-X/bin/nvcc "$@"`)."""
    p = Path(path).resolve()
    try:
        text = p.read_text(errors="ignore") if p.stat().st_size < 4096 else ""
    except OSError:
        text = ""
    for token in text.split():
        if token.endswith("/nvcc") and Path(token).exists():
            return Path(token).resolve()
    return p


def _find_nvcc() -> str | None:
    found = _which("nvcc")
    if found:
        return found
    for cand in ["/usr/local/cuda/bin/nvcc"]:
        if Path(cand).exists():
            return cand
    # NVIDIA's PyPI wheel (nvidia-cuda-nvcc) puts it under site-packages/nvidia/cuda_nvcc/bin.
    try:
        import nvidia  # type: ignore
        for base in getattr(nvidia, "__path__", []):
            for cand in Path(base).glob("cu*/bin/nvcc"):
                return str(cand)
            for cand in Path(base).glob("cuda_nvcc/bin/nvcc"):
                return str(cand)
    except ImportError:
        pass
    return None


def _gpu_name() -> str | None:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    line = _first_line([smi, "--query-gpu=name", "--format=csv,noheader"])
    return line or None


def _compiler_has_openmp(cc: str) -> bool:
    try:
        out = subprocess.run([cc, "-fopenmp", "-x", "c", "-", "-fsyntax-only"],
                             input="#include <omp.h>\nint main(void){return omp_get_max_threads();}\n",
                             capture_output=True, text=True, timeout=30)
        return out.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _cgroups_usable() -> bool:
    from . import cgroup
    return cgroup.available()


@functools.lru_cache(maxsize=1)
def detect() -> Toolchains:
    cc_path = _which("gcc") or _which("cc")
    cxx_path = _which("g++") or _which("c++")
    mpicc_path, mpicxx_path = _which("mpicc"), _which("mpicxx") or _which("mpic++")
    mpirun_path = _which("mpirun") or _which("mpiexec")
    nvcc_path = _find_nvcc()
    bwrap_path = shutil.which("bwrap")
    tc = Toolchains(
        cc=Tool("gcc", cc_path, _first_line([cc_path, "--version"]) if cc_path else "", "apt-get install -y gcc"),
        cxx=Tool("g++", cxx_path, _first_line([cxx_path, "--version"]) if cxx_path else "", "apt-get install -y g++"),
        openmp=bool(cc_path) and _compiler_has_openmp(cc_path),
        mpicc=Tool("mpicc", mpicc_path, _first_line([mpicc_path, "--version"]) if mpicc_path else "", "pip install mpich"),
        mpicxx=Tool("mpicxx", mpicxx_path, "", "pip install mpich"),
        mpirun=Tool("mpirun", mpirun_path, "", "pip install mpich"),
        nvcc=Tool("nvcc", nvcc_path,
                  next((l for l in subprocess.run([nvcc_path, "--version"], capture_output=True, text=True).stdout.splitlines()
                        if "release" in l), "") if nvcc_path else "",
                  "pip install nvidia-cuda-nvcc nvidia-cuda-runtime"),
        gpu=_gpu_name(),
        bwrap=Tool("bubblewrap", bwrap_path, _first_line([bwrap_path, "--version"]) if bwrap_path else "",
                   "apt-get install -y bubblewrap"),
        cgroups=_cgroups_usable(),
    )
    if not tc.openmp:
        tc.notes.append("the C compiler does not accept -fopenmp")
    return tc


def doctor_lines(tc: Toolchains | None = None) -> list[tuple[str, bool, str]]:
    """(what, ok, detail or install command) rows for `paralift doctor`."""
    tc = tc or detect()
    rows: list[tuple[str, bool, str]] = []
    for tool in (tc.cc, tc.cxx):
        rows.append((tool.name, tool.found, tool.version if tool.found else tool.install_hint))
    rows.append(("OpenMP (-fopenmp)", tc.openmp, "gcc -fopenmp works" if tc.openmp else "apt-get install -y gcc libgomp1"))
    for tool in (tc.mpicc, tc.mpirun):
        rows.append((tool.name, tool.found, tool.path or tool.install_hint))
    rows.append(("nvcc", tc.nvcc.found, tc.nvcc.version if tc.nvcc.found else tc.nvcc.install_hint))
    rows.append(("CUDA GPU", tc.gpu is not None,
                 tc.gpu or "none: CUDA candidates run on paralift's CPU emulation (no speedup reported)"))
    rows.append(("bubblewrap", tc.bwrap.found, tc.bwrap.version if tc.bwrap.found else tc.bwrap.install_hint))
    from .omp_tsan import toolchain as omp_tsan
    ot = omp_tsan()
    rows.append(("OpenMP race detector (clang TSan + Archer)", ot is not None,
                 f"{ot.clang}, {ot.archer}" if ot else "apt-get install -y clang libomp-dev (else OpenMP races are "
                 "found by the static check and repeated runs only)"))
    rows.append(("cgroups (memory, pids)", tc.cgroups,
                 "per-run memory and process limits" if tc.cgroups
                 else "unavailable (needs root or a delegated cgroup): rlimits are used instead"))
    return rows

import os
import shutil
import subprocess

import pytest

from paralift.types import Param, ParamKind, Role, Signature, Task, ValueKind, ValueSpec


def pytest_collection_modifyitems(config, items):
    from paralift.sandbox.toolchains import detect
    tc = detect()
    skip_gpu = pytest.mark.skip(reason="no CUDA GPU on this machine")
    skip_mpi = pytest.mark.skip(reason="mpicc/mpirun not found (pip install mpich)")
    skip_nvcc = pytest.mark.skip(reason="nvcc not found (pip install nvidia-cuda-nvcc)")
    for item in items:
        if "gpu" in item.keywords and not tc.gpu:
            item.add_marker(skip_gpu)
        if "mpi" in item.keywords and not (tc.mpicc.found and tc.mpirun.found):
            item.add_marker(skip_mpi)
        if "nvcc" in item.keywords and not tc.nvcc.found:
            item.add_marker(skip_nvcc)


def scale_task(source: str | None = None, name: str = "f") -> Task:
    """A hand-built task for `void f(int n, double *y)` (no analysis needed)."""
    source = source or f"void {name}(int n, double *y) {{\n  for (int i = 0; i < n; i++) y[i] = 2.0 * y[i];\n}}\n"
    sig = Signature(name, "void", [
        Param("n", "int", values=ValueSpec(ValueKind.SIZE)),
        Param("y", "double", ParamKind.POINTER, False, Role.INOUT, "n"),
    ])
    return Task(source, "c", sig)


@pytest.fixture
def no_leftovers():
    """Fail if a test leaves sandboxed processes running."""
    me = os.getpid()

    def parent(pid: str) -> int:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return 0

    def mine(pid: str) -> bool:
        p = int(pid)
        for _ in range(64):
            if p == me:
                return True
            if p <= 1:
                return False
            p = parent(str(p))
        return False

    def sandboxed():
        found = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or not mine(pid):
                continue
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if cwd.startswith("/tmp/box") or "/paralift-cand" in cwd or "/paralift-ref" in cwd:
                found.append(f"{pid} {cmd}")
        return found
    before = sandboxed()
    yield
    import time
    for _ in range(20):
        left = [l for l in sandboxed() if l not in before]
        if not left:
            return
        time.sleep(0.1)
    pytest.fail(f"processes left running: {left}")

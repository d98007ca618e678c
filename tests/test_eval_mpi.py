"""The MPI executor: `mpirun -np 3 python -m mpi4py.futures -m paralift.eval ...`
verifies on ranks 1-2 and gives the same metrics as the local process pool."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.mpi

ROOT = Path(__file__).resolve().parents[1]


def _mpirun() -> str:
    pytest.importorskip("mpi4py.futures")
    exe = Path(sys.executable).with_name("mpirun")
    path = str(exe) if exe.exists() else shutil.which("mpirun")
    if not path:
        pytest.skip("mpirun is not installed")
    return path


def _eval(out: Path, args: list[str], mpi: bool, timeout: int) -> dict:
    cmd = [sys.executable, "-m", "paralift.eval", *args, "--out", str(out), "--no-plots"]
    if mpi:
        cmd = [_mpirun(), "-np", "3", sys.executable, "-m", "mpi4py.futures", "-m", "paralift.eval", *args,
               "--out", str(out), "--no-plots"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "| rule |" in r.stdout
    return json.loads((out / "summary.json").read_text())


def _check_identical(local: dict, mpi: dict) -> None:
    assert mpi["execution"]["executor"] == "mpi" and mpi["execution"]["workers"] == 2
    assert local["execution"]["executor"] == "local"
    assert mpi["results"] == local["results"]
    assert mpi["suite"] == local["suite"]


def _pids(out: Path) -> set[int]:
    return {json.loads(l)["pid"] for l in (out / "samples.jsonl").read_text().splitlines() if l.strip()}


def test_mpi_executor_gives_identical_metrics(tmp_path):
    _mpirun()
    args = ["--suite", "builtin", "--to", "openmp,mpi", "--tasks", "saxpy,sum,prefix_sum",
            "--backend", "rule,gcc-autopar", "--no-timing", "-k", "1,2"]
    local = _eval(tmp_path / "local", args + ["--executor", "local", "--jobs", "2"], mpi=False, timeout=300)
    mpi = _eval(tmp_path / "mpi", args, mpi=True, timeout=300)
    _check_identical(local, mpi)
    assert len(_pids(tmp_path / "mpi")) >= 1


@pytest.mark.slow
def test_full_builtin_run_identical_under_mpi(tmp_path):
    """The issue's acceptance run: the whole builtin suite, all three targets."""
    _mpirun()
    args = ["--suite", "builtin", "--to", "openmp,mpi,cuda", "--backend", "rule", "--no-timing"]
    local = _eval(tmp_path / "local", args + ["--executor", "local"], mpi=False, timeout=3600)
    mpi = _eval(tmp_path / "mpi", args, mpi=True, timeout=3600)
    _check_identical(local, mpi)

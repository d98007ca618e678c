"""`paralift data build` on the ranks of an MPI job (mpi4py.futures, as
`paralift eval` runs): the same corpus as the local process pool for the
same seeds (issue 25 item 5)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from test_eval_mpi import _mpirun

pytestmark = [pytest.mark.mpi, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["data", "build", "--families", "map_axpy,reduce_sum,stencil_1d", "--count", "1", "--seed", "5",
        "--batch-size", "1", "--json"]
# what depends on the machine and the run, not on the corpus
RUN_FIELDS = ("verify_cpu_seconds", "phases", "wall_seconds_last_run")


def _build(out: Path, mpi: bool) -> dict:
    cmd = [sys.executable, "-m", "paralift", *ARGS, "--out", str(out), "--executor", "local", "--workers", "2"]
    if mpi:
        cmd = [_mpirun(), "-np", "3", sys.executable, "-m", "mpi4py.futures", "-m", "paralift", *ARGS,
               "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout), r.stderr


def test_mpi_build_equals_the_local_build(tmp_path):
    local, _ = _build(tmp_path / "local", mpi=False)
    mpi, log = _build(tmp_path / "mpi", mpi=True)
    assert "verifying on 2 MPI rank(s)" in log
    assert local["examples"] >= 6
    for split in ("train", "validation", "test"):
        assert (tmp_path / "mpi" / f"{split}.jsonl").read_text() == (tmp_path / "local" / f"{split}.jsonl").read_text()
    strip = lambda st: {k: v for k, v in st.items() if k not in RUN_FIELDS}   # noqa: E731
    assert strip(mpi) == strip(local)
    # three batches (batch size 1) went to the two worker ranks
    batches = [json.loads(l) for l in (tmp_path / "mpi" / "done.jsonl").read_text().splitlines() if '"batch"' in l]
    assert len(batches) == 3

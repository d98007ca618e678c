"""The isolation layer on its own: limits, timeouts, degraded mode, cleanup."""
import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from paralift.sandbox import VerifyOptions, isolation, toolchains, verify
from paralift.sandbox.isolation import Limits
from paralift.types import Candidate, Target

from conftest import scale_task


def build(tmp_path: Path, body: str) -> Path:
    (tmp_path / "p.c").write_text("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <unistd.h>\n"
                                  "int main(void) {\n" + body + "\nreturn 0; }\n")
    subprocess.run([toolchains.detect().cc.path, "p.c", "-o", "p"], cwd=tmp_path, check=True)
    return tmp_path


def test_wall_clock_limit_kills_the_tree(tmp_path, no_leftovers):
    d = build(tmp_path, "if (fork() == 0) { for (;;) pause(); } for (;;) pause();")
    r = isolation.run(["./p"], d, Limits(wall_s=1))
    assert r.timed_out and "wall-clock" in r.describe()
    assert r.wall_s < 5


def test_output_is_capped(tmp_path):
    d = build(tmp_path, "for (int i = 0; i < 200000; i++) puts(\"0123456789012345678901234567890123456789\");")
    r = isolation.run(["./p"], d, Limits(output_bytes=4096))
    assert r.ok and r.output_truncated and len(r.stdout) <= 4096


def test_home_is_masked_and_root_read_only(tmp_path, monkeypatch):
    if not toolchains.detect().bwrap.found:
        pytest.skip("bubblewrap not installed")
    home = tmp_path / "home"
    home.mkdir()
    (home / "secret").write_text("s")
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "w"
    work.mkdir()
    r = isolation.run(["sh", "-c", f"cat {home}/secret; touch /usr/paralift-x; echo done > inside.txt"], work)
    assert "s" != r.stdout.strip()
    assert not Path("/usr/paralift-x").exists()
    assert (work / "inside.txt").read_text().strip() == "done"


def test_degraded_mode_is_reported_and_still_limits(monkeypatch, tmp_path):
    real = toolchains.detect()
    degraded = dataclasses.replace(real, bwrap=dataclasses.replace(real.bwrap, path=None), cgroups=False)
    monkeypatch.setattr(isolation, "detect", lambda: degraded)
    d = build(tmp_path, "for (;;) {}")
    r = isolation.run(["./p"], d, Limits(wall_s=1))
    assert r.timed_out
    assert "bubblewrap missing" in r.isolation and "no cgroup" in r.isolation
    d2 = build(tmp_path, "for (size_t k = 0; k < 1000; k++) { char *p = malloc(1 << 26); if (!p) return 3; memset(p, 1, 1 << 26); }")
    r = isolation.run(["./p"], d2, Limits(memory_bytes=256 << 20))
    assert not r.ok


def test_temp_dirs_are_removed(tmp_path, monkeypatch):
    import glob
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))   # only this test's directories land here
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "paralift-cand-*")))
    v = verify(scale_task(), Candidate("#include <omp.h>\nvoid f(int n, double *y) {\n#pragma omp parallel for\n"
                                       "for (int i = 0; i < n; i++) y[i] = 2.0 * y[i];\n}\n", Target.OPENMP),
               options=VerifyOptions(timing=False))
    assert v.verified, v.reason
    after = set(glob.glob(os.path.join(tempfile.gettempdir(), "paralift-cand-*")))
    assert after <= before and not glob.glob(os.path.join(str(tmp_path), "paralift-log-*"))

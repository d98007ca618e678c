"""The test driver: its own code is built without optimization, the function
under test with the build's flags, and the driver calls it (GCC does not
inline an optimized function into the -O0 driver), so reference and
candidates are timed as the user's code would call them."""
from __future__ import annotations

import platform
import re
import subprocess

import pytest

from paralift.agents import build_task
from paralift.sandbox import harness
from paralift.sandbox.toolchains import detect

SAXPY = """static void saxpy(int n, float a, const float *x, float *y)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}
"""


@pytest.mark.skipif(platform.machine() != "x86_64", reason="reads x86-64 assembly")
def test_driver_calls_the_optimized_function_it_tests(tmp_path):
    (tmp_path / "k.c").write_text(SAXPY)
    sig = build_task(SAXPY, "c", "saxpy", None).signature
    (tmp_path / "drv.c").write_text(harness.driver_source(sig, "k.c", None, "c"))
    cc = detect().cc.path
    r = subprocess.run([cc, "-O2", "-S", "-o", "-", "drv.c"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    main = r.stdout[r.stdout.index("\nmain:"):]
    main = main[:main.index(".size\tmain")]
    assert re.search(r"call\s+saxpy\b", main), "the function under test was inlined into the driver"
    # the driver's own helpers are -O0 functions of their own, not inlined either
    assert re.search(r"call\s+__pl_read_view\b", main)
    body = r.stdout[r.stdout.index("\nsaxpy:"):]
    body = body[:body.index(".size\tsaxpy")]
    # x86-64 GCC sets up a frame pointer at -O0 and omits it at -O2
    assert "movq\t%rsp, %rbp" in main
    assert "movq\t%rsp, %rbp" not in body

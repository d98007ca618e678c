"""The `paralift` command as a user runs it: real files, real subprocesses."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PARALIFT = [sys.executable, "-m", "paralift.cli"]

DOT = """double dot(int n, const double *x, const double *y) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}
"""
DOT_RACY = """#include <omp.h>
double dot(int n, const double *x, const double *y) {
  double s = 0.0;
  #pragma omp parallel for
  for (int i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}
"""
SAXPY_OMP = """#include <omp.h>
void saxpy(int n, float a, const float *x, float *y) {
  #pragma omp parallel for
  for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}
"""


def run(*args, cwd=None):
    return subprocess.run([*PARALIFT, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)


def one_line_error(r):
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_verify_correct_openmp_saxpy_reports_a_speedup(tmp_path):
    # restrict: callers never pass overlapping arrays, so the candidate needs no overlap check
    omp = SAXPY_OMP.replace("const float *x, float *y", "const float *restrict x, float *restrict y")
    seq = tmp_path / "saxpy.c"
    seq.write_text(omp.replace("#include <omp.h>\n", "").replace("  #pragma omp parallel for\n", ""))
    cand = tmp_path / "saxpy_omp.c"
    cand.write_text(omp)
    r = run("verify", seq, "--candidate", cand, "--to", "openmp", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["status"] == "verified"
    f = report["functions"][0]
    assert f["name"] == "saxpy" and f["status"] == "verified" and f["tests"]["passed"] == f["tests"]["total"] >= 8
    assert isinstance(f["speedup"], float) and f["speedup"] > 0
    t = f["verdict"]["timing"]
    # pairs until the 95 % interval is within +-5 % or the time cap (at least 2), the interval reported
    assert t["runs"] >= 2 and t["ci_low"] is not None and t["ci_low"] <= t["speedup"]
    assert "contended" in t and t["load"]["cores"] >= 1


def test_verify_racy_dot_reports_the_failing_test(tmp_path):
    seq, cand = tmp_path / "dot.c", tmp_path / "dot_omp.c"
    seq.write_text(DOT)
    cand.write_text(DOT_RACY)
    r = run("verify", seq, "-c", cand, "--to", "openmp", "--no-timing")
    assert r.returncode == 1
    assert "dot: FAILED" in r.stdout and "data race: shared variable `s`" in r.stdout
    # when the runs did catch it, the failing test and its configuration are named
    if "wrong result on test" in r.stdout:
        assert "threads=" in r.stdout


@pytest.mark.parametrize("args, needle", [
    (["verify", "missing.c", "-c", "x.c", "--to", "openmp"], "does not exist"),
    (["translate", "missing.c", "--to", "openmp"], "does not exist"),
    (["translate", "{ok}", "--to", "fortran"], "unknown target"),
    (["translate", "{ok}", "--to", "openmp", "--function", "nope"], "no function named 'nope'"),
    (["translate", "{broken}", "--to", "openmp"], ""),
    (["translate", "{ok}", "--to", "openmp", "--backend", "telepathy"], "unknown backend"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, needle):
    ok = tmp_path / "ok.c"
    ok.write_text(DOT)
    broken = tmp_path / "broken.c"
    broken.write_text("double dot(int n, const double *x { for (;;) \n")
    args = [a.format(ok=ok, broken=broken) for a in args]
    line = one_line_error(run(*args, cwd=tmp_path))
    assert needle in line


def test_translate_writes_a_verified_file_and_json(tmp_path):
    src = tmp_path / "saxpy.c"
    src.write_text((ROOT / "examples" / "saxpy.c").read_text())
    r = run("translate", src, "--to", "openmp", "--json", "--no-timing")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    out = Path(report["output"])
    assert out == tmp_path / "saxpy.omp.c" and out.exists()
    assert report["functions"][0]["agent"] == "rule"
    assert "#pragma omp" in out.read_text()
    # the written file builds and runs as the user's program
    b = subprocess.run(["gcc", "-O2", "-fopenmp", str(out), "-o", str(tmp_path / "a.out"), "-lm"],
                       capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    seq = subprocess.run(["gcc", "-O2", str(src), "-o", str(tmp_path / "s.out"), "-lm"])
    assert seq.returncode == 0
    assert subprocess.run([str(tmp_path / "a.out")], capture_output=True, text=True).stdout == \
        subprocess.run([str(tmp_path / "s.out")], capture_output=True, text=True).stdout


def test_verify_names_an_overlapping_call_a_candidate_gets_wrong(tmp_path):
    seq = tmp_path / "saxpy.c"
    seq.write_text(SAXPY_OMP.replace("#include <omp.h>\n", "").replace("  #pragma omp parallel for\n", ""))
    cand = tmp_path / "saxpy_omp.c"
    cand.write_text(SAXPY_OMP)
    r = run("verify", seq, "--candidate", cand, "--to", "openmp", "--json", "--no-timing")
    assert r.returncode == 1
    reason = json.loads(r.stdout)["functions"][0]["reason"]
    assert "an overlapping call" in reason and "restrict" in reason


def test_translate_keeps_a_recurrence_sequential_with_a_reason(tmp_path):
    # a first-order linear recurrence (prefix sums are parallel scans now)
    src = tmp_path / "recurrence.c"
    src.write_text((ROOT / "data" / "kernels" / "linear_recurrence.c").read_text())
    r = run("translate", src, "--to", "openmp", "--json", "--no-timing")
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)["functions"][0]
    assert f["status"] == "sequential" and "dependence" in f["reason"]


def test_doctor_lists_the_tools():
    r = run("doctor")
    assert r.returncode == 0
    for what in ("gcc", "mpicc", "nvcc", "bubblewrap", "CUDA GPU"):
        assert what in r.stdout


def test_translate_assembles_several_functions_into_one_verified_file(tmp_path):
    src = tmp_path / "matmul.c"
    src.write_text((ROOT / "examples" / "matmul.c").read_text())
    r = run("translate", src, "--to", "openmp", "--json", "--no-timing", "--backend", "rule")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    verified = [f["name"] for f in report["functions"] if f["status"] == "verified"]
    assert len(verified) >= 2, report
    out = Path(report["output"])
    text = out.read_text()
    assert text.count("#pragma omp") >= 2 and text.count("int main") == 1
    b = subprocess.run(["gcc", "-O2", "-fopenmp", str(out), "-o", str(tmp_path / "a.out"), "-lm"],
                       capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    subprocess.run(["gcc", "-O2", str(src), "-o", str(tmp_path / "s.out"), "-lm"], check=True)
    assert subprocess.run([str(tmp_path / "a.out")], capture_output=True, text=True).stdout == \
        subprocess.run([str(tmp_path / "s.out")], capture_output=True, text=True).stdout



def test_only_a_candidate_faster_with_confidence_is_written():
    # timing is not asserted in tests (noisy machine); the rule that uses it is
    from paralift.pipeline import not_faster
    from paralift.types import Target, Timing, Verdict

    def v(speedup, lo=None, hi=None, spread=0.1):
        return Verdict(target=Target.OPENMP, status="verified", speedup=speedup,
                       timing=Timing(1.0, 1.0 / speedup, speedup, spread, 5, ci_low=lo, ci_high=hi))
    assert not_faster(v(0.3, 0.25, 0.35))
    assert not_faster(v(1.3, 0.9, 1.8))                # maybe faster, not with confidence: kept sequential
    assert not_faster(v(1.04, 1.0, 1.08))
    assert not not_faster(v(1.7, 1.6, 1.8))
    assert not not_faster(v(1.7, 1.6, None))          # too few runs for an upper bound: the lower one decides
    assert not_faster(v(0.8, spread=0.3))               # an older verdict: its spread around the speedup
    assert not not_faster(Verdict(target=Target.CUDA, status="verified"))   # not measured

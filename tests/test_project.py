"""C++ projects: build flags from compile_commands.json (paralift.project), the
project's macros in the analysis, its headers in the sandbox, and the example
CMake project translated and rebuilt with the written file in place."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paralift.agents import AnalysisError, build_task
from paralift.errors import UsageError
from paralift.project import analysis_context, extract_flags, find_project, project_macros
from paralift.sandbox import VerifyOptions, verify
from paralift.types import Candidate, Target

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "cpp-project"

HEADER = """#pragma once
#ifndef RADIUS
#define RADIUS 1
#endif
#define WIDTH (2 * RADIUS + 1)
#define BLOCK 8
inline double twice(double v) { return 2 * v; }
"""

SOURCE = """#include "defs.hpp"

void blur(const double *in, double *out, int n) {
    for (int i = RADIUS; i < n - RADIUS; i++) {
        double s = 0.0;
        for (int k = -RADIUS; k <= RADIUS; k++)
            s += in[i + k];
        out[i] = s / WIDTH;
    }
}

void block_sums(const double *x, double *sums, int blocks) {
    for (int b = 0; b < blocks; b++) {
        double s = 0.0;
        for (int j = 0; j < BLOCK; j++)
            s += x[b * BLOCK + j];
        sums[b] = s;
    }
}

void doubled(double *x, int n) {
    for (int i = 0; i < n; i++)
        x[i] = twice(x[i]);
}
"""


def _project(root: Path, command_style: bool = True) -> Path:
    """A project under `root`: include/defs.hpp, src/k.cpp, build/compile_commands.json."""
    (root / "include").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "build").mkdir()
    (root / "include" / "defs.hpp").write_text(HEADER)
    (root / "src" / "k.cpp").write_text(SOURCE.replace('"defs.hpp"', "<defs.hpp>"))
    args = ["/usr/bin/c++", "-DRADIUS=2", "-I../include", "-O3", "-Werror", "-MD", "-MF", "k.d", "-fopenmp",
            "-std=c++17", "-o", "k.o", "-c", "../src/k.cpp"]
    entry = {"directory": str(root / "build"), "file": "../src/k.cpp"}
    entry.update({"command": " ".join(args)} if command_style else {"arguments": args})
    (root / "build" / "compile_commands.json").write_text(json.dumps([entry]))
    return root / "src" / "k.cpp"


def test_flags_keep_includes_defines_standard_and_drop_the_rest(tmp_path):
    kept, dropped = extract_flags(
        ["g++", "-I", "inc", "-isystem", "/opt/x/include", "-iquote", "q", "-D", "A=1", "-DB", "-UC",
         "-std=c++20", "-O2", "-g", "-Wall", "-Werror", "-MD", "-MF", "x.d", "-fopenmp", "-fsanitize=address",
         "-fno-strict-aliasing", "-march=native", "-o", "x.o", "-c", "x.cpp"], tmp_path, tmp_path / "x.cpp")
    assert kept == [f"-I{tmp_path}/inc", "-isystem", "/opt/x/include", "-iquote", f"{tmp_path}/q", "-DA=1", "-DB",
                    "-UC", "-std=c++20", "-fno-strict-aliasing", "-march=native"]
    for gone in ("-O2", "-g", "-Wall", "-Werror", "-MD", "-MF", "-fopenmp", "-fsanitize=address", "-o", "-c"):
        assert gone in dropped


def test_nvcc_gets_include_paths_and_defines_it_understands():
    from paralift.project import preprocessor_flags, with_flags
    flags = ("-DA=1", "-I/p/inc", "-iquote", "/p/src", "-isystem", "/opt/inc", "-std=gnu++17", "-fno-strict-aliasing")
    assert preprocessor_flags(flags) == ["-DA=1", "-I/p/inc", "-iquote", "/p/src", "-isystem", "/opt/inc"]
    assert preprocessor_flags(flags, nvcc=True) == ["-DA=1", "-I/p/inc", "-I/p/src", "-isystem", "/opt/inc"]
    assert with_flags(["nvcc", "-O2", "-c", "k.cu", "-o", "k.o"], flags, cuda=True)[1:4] == ["-DA=1", "-I/p/inc", "-I/p/src"]
    assert with_flags(["g++", "-O2", "-c", "k.cpp"], flags)[1:len(flags) + 1] == list(flags)
    assert with_flags(["g++", "k.o", "m.o", "-o", "prog"], flags) == ["g++", "k.o", "m.o", "-o", "prog"]   # a link step


@pytest.mark.parametrize("command_style", [True, False])
def test_explicit_and_found_databases(tmp_path, command_style):
    src = _project(tmp_path / "p", command_style)
    explicit = find_project(src, tmp_path / "p" / "build")
    assert explicit.database == (tmp_path / "p" / "build" / "compile_commands.json").resolve()
    assert explicit.flags == ("-DRADIUS=2", f"-I{tmp_path}/p/include", "-std=c++17")
    # without -p: found in build/ beside an ancestor of the file
    assert find_project(src).flags == explicit.flags
    # a database without an entry for the file is not used unless named; named, the nearest entry lends its flags
    other = tmp_path / "p" / "src" / "other.cpp"
    other.write_text("void f(void) {}\n")
    assert find_project(other) is None
    borrowed = find_project(other, tmp_path / "p" / "build")
    assert borrowed.flags == explicit.flags and "k.cpp" in borrowed.note
    with pytest.raises(UsageError):
        find_project(src, tmp_path)


def test_macros_of_the_project_resolve_like_the_build(tmp_path):
    src = _project(tmp_path / "p")
    m = project_macros(find_project(src), "cpp")
    assert m.objects["RADIUS"] == "2"            # -D wins over the header's #ifndef default
    assert m.objects["BLOCK"] == "8"
    assert eval(m.objects["WIDTH"]) == 5          # other macros expanded: a number for the analysis


def test_analysis_sees_header_macros_and_names_calls_into_the_project(tmp_path):
    src = _project(tmp_path / "p")
    text = src.read_text()
    with pytest.raises(AnalysisError, match="RADIUS"):
        build_task(text, "cpp", "blur", Target.OPENMP, str(src))
    with analysis_context(find_project(src), "cpp"):
        blur = build_task(text, "cpp", "blur", Target.OPENMP, str(src))
        sums = build_task(text, "cpp", "block_sums", Target.OPENMP, str(src))
        doubled = build_task(text, "cpp", "doubled", Target.OPENMP, str(src))
    assert blur.analysis["parallel"] and sums.analysis["parallel"]
    assert sums.signature.param("x").extent.replace(" ", "") in ("blocks*8", "8*blocks")
    assert not doubled.analysis["parallel"] and "twice" in doubled.analysis["reason"]
    # outside the context the file is the analysis' only source again
    with pytest.raises(AnalysisError):
        build_task(text, "cpp", "blur", Target.OPENMP, str(src))


@pytest.mark.parametrize("where", ["tmp", "home"])
def test_sandbox_builds_with_the_projects_headers(tmp_path, monkeypatch, where):
    """The sandbox masks /tmp and the homes; the project's include folders are bound read-only."""
    root = tmp_path / "p"
    if where == "home":
        home = tmp_path / "home" / "user"
        home.mkdir(parents=True)
        monkeypatch.setenv("HOME", str(home))
        root = home / "proj"
    src = _project(root)
    (root / "src" / "k.cpp").write_text(SOURCE)       # "defs.hpp" found through include path only
    proj = find_project(src)
    with analysis_context(proj, "cpp"):
        task = build_task(src.read_text(), "cpp", "block_sums", Target.OPENMP, str(src))
    task.build_flags = proj.flags
    cand = src.read_text().replace("    for (int b = 0; b < blocks; b++) {",
                                   "    #pragma omp parallel for\n    for (int b = 0; b < blocks; b++) {")
    v = verify(task, Candidate(cand, Target.OPENMP), None, VerifyOptions(timing=False, repeats=1))
    assert v.verified, v.reason
    # a wrong candidate is still caught with the project's flags
    wrong = cand.replace("sums[b] = s;", "sums[b] = s + (b == 3);")
    assert not verify(task, Candidate(wrong, Target.OPENMP), None, VerifyOptions(timing=False, repeats=1)).verified


def test_checked_in_database_matches_cmake(tmp_path):
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed (apt-get install -y cmake)")
    proj = tmp_path / "proj"
    shutil.copytree(EXAMPLE, proj, ignore=shutil.ignore_patterns("build", "*.omp.cpp"))
    subprocess.run(["cmake", "-S", str(proj), "-B", str(proj / "build")], check=True, capture_output=True)
    src = proj / "src" / "kernels.cpp"
    from_cmake = find_project(src, proj / "build")
    checked_in = find_project(src, proj)
    assert checked_in.flags == from_cmake.flags


def _run(cmd, cwd=None):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, (cmd, r.stdout[-2000:], r.stderr[-2000:])
    return r


@pytest.mark.slow
def test_example_project_translates_and_rebuilds_with_the_written_file(tmp_path):
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed (apt-get install -y cmake)")
    proj = tmp_path / "proj"
    shutil.copytree(EXAMPLE, proj, ignore=shutil.ignore_patterns("build", "*.omp.cpp", "compile_commands.json"))
    _run(["cmake", "-S", str(proj), "-B", str(proj / "build")])
    _run(["cmake", "--build", str(proj / "build")])
    expected = _run([str(proj / "build" / "signal")]).stdout
    r = subprocess.run([sys.executable, "-m", "paralift", "translate", "src/kernels.cpp", "-p", "build",
                        "--to", "openmp", "--backend", "rule", "--no-timing", "--json"],
                       cwd=proj, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    by_name = {f["name"]: f for f in report["functions"]}
    assert {n for n, f in by_name.items() if f["status"] == "verified"} == {"smooth", "frame_energy", "gain_sum"}
    assert by_name["clamp_all"]["status"] == "sequential" and "clamp_to" in by_name["clamp_all"]["reason"]
    assert any(str(proj / "build" / "compile_commands.json") in n for n in report["notes"])
    written = proj / "src" / "kernels.omp.cpp"
    assert "#pragma omp" in written.read_text()
    # the build the report prints works as it is
    _run(["bash", "-c", report["build"]], cwd=proj)
    # and the CMake build with the written file in place
    par_build = proj / "build-omp"
    _run(["cmake", "-S", str(proj), "-B", str(par_build), f"-DKERNELS_SOURCE={written}"])
    _run(["cmake", "--build", str(par_build)])
    for threads in ("1", "3"):
        got = subprocess.run([str(par_build / "signal")], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "OMP_NUM_THREADS": threads})
        assert got.returncode == 0 and got.stdout == expected, (threads, got.stdout, expected)


def test_language_server_hints_see_the_projects_macros(tmp_path):
    from paralift.lsp.server import _analyse
    src = _project(tmp_path / "p")
    text = src.read_text()
    alone = _analyse(text, "cpp", True, None)
    assert any("RADIUS" in n for n in alone.notes.values())
    found = _analyse(text, "cpp", True, None, str(src))
    assert not any("blur" in n for n in found.notes.values())
    assert any(lp["function"] == "blur" and lp["parallel"] for lps in found.loops.values() for lp in lps)
    named = _analyse(text, "cpp", True, None, str(src), str(tmp_path / "p" / "build"))
    assert named.loops == found.loops


def _paralift(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "paralift", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=1200)


def test_cli_project_option_errors_are_one_line(tmp_path):
    src = _project(tmp_path / "p")
    r = _paralift("translate", src, "--to", "openmp", "-p", tmp_path / "nowhere")
    assert r.returncode == 2 and "compile_commands.json" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "compile_commands.json").write_text("{not json")
    r = _paralift("tests", src, "-f", "blur", "-p", tmp_path / "bad")
    assert r.returncode == 2 and "not a readable compile_commands.json" in r.stderr


@pytest.mark.slow
def test_cli_verify_tests_and_a_program_of_a_project(tmp_path):
    src = _project(tmp_path / "p")
    cand = tmp_path / "cand.cpp"
    cand.write_text(SOURCE.replace('"defs.hpp"', "<defs.hpp>").replace(
        "    for (int b = 0; b < blocks; b++) {", "    #pragma omp parallel for\n    for (int b = 0; b < blocks; b++) {"))
    r = _paralift("verify", src, "--candidate", cand, "--to", "openmp", "-f", "block_sums", "--no-timing", "--json",
                  "-p", tmp_path / "p" / "build")
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["functions"][0]["status"] == "verified"
    r = _paralift("tests", src, "-f", "block_sums", "--no-mutation", "--json")      # found without -p
    assert r.returncode == 0, r.stderr[-2000:]
    assert "compile_commands.json" in r.stderr
    # a program in a project: the written program is built with the project's flags and run against it
    prog = tmp_path / "p" / "src" / "prog.cpp"
    prog.write_text(SOURCE + """
#include <cstdio>
int main() {
    static double x[8 * 100], sums[100];
    for (int i = 0; i < 8 * 100; i++) x[i] = (i % 17) * 0.25;
    block_sums(x, sums, 100);
    double t = 0;
    for (int b = 0; b < 100; b++) t += sums[b] * (b + 1);
    std::printf("%.6f\\n", t);
    return 0;
}
""")
    r = _paralift("translate", prog, "--to", "openmp", "-f", "block_sums", "--no-timing", "--backend", "rule",
                  "--json", "-p", tmp_path / "p" / "build")
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads(r.stdout)
    assert report["program"]["verified"], report["program"]
    assert "-I" + str(tmp_path / "p" / "include") in report["build"]

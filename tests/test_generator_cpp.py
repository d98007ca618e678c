"""The C++ corpus families (data/generator_cpp.py, issue 23) and the analysis they exercise: local
std::array tables and loop bounds such as `i + taps.size() <= in.size()` over unsigned sizes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paralift.agents import AnalysisError, NotParallelizable, build_task
from paralift.agents.analysis import analyze
from paralift.agents.rule_based import RuleBasedTranslator
from paralift.data import generator as G
from paralift.types import Target

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "paralift")


def test_cpp_families_are_asked_for_by_name_and_deterministic():
    cpp = G.cpp_families()
    assert len(cpp) >= 12 and not set(cpp) & set(G.FAMILIES)    # the default (C) corpus is unchanged
    for fam in cpp:
        a, b = G.generate(fam, 3), G.generate(fam, 3)
        assert a.source == b.source and a.language == "cpp" and a.function in a.source
    assert G.generate("map_axpy", 0).language == "c"
    with pytest.raises(ValueError, match="C\\+\\+ ones"):
        G.generate("cpp_no_such_family", 0)
    rows = json.loads(subprocess.run([CLI, "data", "families", "--json"], capture_output=True, text=True,
                                     check=True).stdout)
    assert rows["cpp_geo_map"]["language"] == "cpp" and rows["map_axpy"]["language"] == "c"


def test_cpp_kernels_build_and_parallel_ones_are_parallelized(tmp_path):
    """Every draw compiles warning-free; the rule agent writes OpenMP and MPI for every parallel family
    and keeps the recurrence family sequential, naming the dependence."""
    srcs = []
    for fam, (_fn, parallel, _g) in G.cpp_families().items():
        for seed in range(4):
            k = G.generate(fam, seed)
            p = tmp_path / f"{fam}_{seed}.cpp"
            p.write_text(k.source)
            srcs.append(p)
            for target in (Target.OPENMP, Target.MPI):
                task = build_task(k.source, "cpp", k.function, target)
                if parallel:
                    assert RuleBasedTranslator().propose(task, target), (fam, seed)
                else:
                    with pytest.raises(NotParallelizable, match="dependence"):
                        RuleBasedTranslator().propose(task, target)
    procs = [subprocess.Popen(["g++", "-std=c++17", "-Wall", "-Werror", "-Wno-unused-function", "-c", str(p),
                               "-o", str(p.with_suffix(".o"))], stderr=subprocess.PIPE, text=True) for p in srcs]
    for p, pr in zip(srcs, procs):
        _, err = pr.communicate()
        assert pr.returncode == 0, (p.name, err[-1500:])


def test_local_std_array_is_a_table_and_unsigned_window_bound_is_solved():
    src = (ROOT / "data" / "kernels" / "cpp_arr_local_taps.cpp").read_text()
    fx = analyze(src, "cpp", "lowPass5")
    outer = min(fx.loops, key=lambda lp: lp.line)
    assert fx.loops[outer].parallel and outer in [f.loop for f in fx.chosen_loops()]
    # the wrap-around of in.size() - 4 when in has fewer than 4 elements is clamped, not taken
    assert "(long long)in.size() - 4" in outer.bound_str and "> 0 ?" in outer.bound_str
    cuda = RuleBasedTranslator().propose(build_task(src, "cpp", "lowPass5", Target.CUDA), Target.CUDA)[0].code
    assert "const float taps[5] = {" in cuda and "k < 5LL" in cuda      # no std::array calls on the device


def test_unsigned_bound_that_is_a_lower_bound_stays_unsolved():
    """`i + k >= n` counting down over size_t is not solved (only upper bounds are clamped)."""
    src = ("#include <vector>\n#include <cstddef>\n"
           "void f(std::vector<double> &v, size_t k) {\n"
           "    for (size_t i = v.size(); i + k >= v.size() && i > 0; --i) v[i - 1] *= 2.0;\n}\n")
    try:
        fx = analyze(src, "cpp", "f")
    except AnalysisError:
        return
    assert not fx.chosen_loops()


def test_cpp_corpus_build_verifies(tmp_path):
    """`paralift data build --families` with C++ families: records carry language cpp and verified
    references; the recurrence family gives none."""
    out = tmp_path / "b"
    r = subprocess.run([CLI, "data", "build", "--families", "cpp_geo_reduce,cpp_array_stencil,cpp_running_struct",
                        "--count", "1", "--targets", "openmp,mpi", "-o", str(out), "--json"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    recs = [json.loads(l) for l in (out / "examples.jsonl").read_text().splitlines() if l.strip()]
    fams = {(x["family"], x["target"]) for x in recs}
    assert fams == {(f, t) for f in ("cpp_geo_reduce", "cpp_array_stencil") for t in ("openmp", "mpi")}
    assert all(x["language"] == "cpp" and x["verified"] for x in recs)

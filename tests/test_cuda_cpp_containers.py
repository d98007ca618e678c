"""CUDA for the C++ containers without one contiguous array of elements (issue 23, agents/cuda_flatten.py):
nested vectors (flattened, row offsets: ragged rows), read-only strings (std::vector<std::string> as rows
of char, std::string as its characters) and std::vector<bool> (one byte per element on the device). Each
kernel is translated by the pipeline with the rule agent and verified on the CUDA-on-CPU emulation
against the sequential code; the written .cu also compiles with the real nvcc where one is installed."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from paralift import pipeline
from paralift.agents import NotParallelizable, build_task
from paralift.agents.rule_based import RuleBasedTranslator
from paralift.agents.tester import generate_tests
from paralift.sandbox import toolchains
from paralift.types import Target

ROOT = Path(__file__).resolve().parents[1]
KERNELS = ROOT / "data" / "kernels"

NESTED = [("cpp_nv_frobenius.cpp", "frobenius"), ("cpp_nv_matmul.cpp", "matmulRows"),
          ("cpp_nv_matvec.cpp", "matvecRows"), ("cpp_nv_row_max.cpp", "rowMax"), ("cpp_nv_row_sums.cpp", "rowSums"),
          ("cpp_nv_scale_rows.cpp", "normalizeRows"), ("cpp_nv_smooth.cpp", "smoothRows"),
          ("cpp_nv_transpose.cpp", "transposeRows"),
          ("cpp_nv_ragged_sums.cpp", "raggedRowSums"), ("cpp_nv_jagged_scale.cpp", "scaleJagged"),
          # rows of std::complex<double> (the device's complex type: agents/cuda_values.py)
          ("cpp_nv_cx_row_energy.cpp", "blockEnergy")]
STRINGS = [("cpp_str_first_letters.cpp", "firstLetterCounts"), ("cpp_str_longest.cpp", "longestWith"),
           ("cpp_str_total_length.cpp", "totalLength"), ("cpp_str_vowels.cpp", "countVowels"),
           ("cpp_str_long_words.cpp", "countLongWords")]
BOOLS = [("cpp_bool_count_true.cpp", "countTrue"), ("cpp_bool_flag_above.cpp", "flagAbove"),
         ("cpp_bool_invert.cpp", "flipNegative"), ("cpp_bool_masked_scale.cpp", "maskedScale"),
         ("cpp_bool_rising.cpp", "risingEdges"), ("cpp_bool_local_mask.cpp", "sumInRange"),
         ("cpp_bool_composites.cpp", "markComposites")]
ALL = NESTED + STRINGS + BOOLS
# run by default (one of each kind, ragged rows among them); the rest with -m slow
QUICK = {"cpp_nv_ragged_sums.cpp", "cpp_str_long_words.cpp", "cpp_bool_composites.cpp"}


def _propose(file: str, fn: str):
    task = build_task((KERNELS / file).read_text(), "cpp", fn, Target.CUDA)
    (cand,) = RuleBasedTranslator().propose(task, Target.CUDA)
    return cand


def _nvcc() -> str | None:
    t = toolchains.detect().nvcc
    return t.path if t is not None and t.path else None


# ---------------------------------------------------------------- code generation (fast)

@pytest.mark.parametrize("file,fn", ALL)
def test_cuda_candidate_for_each_container_kernel(file, fn):
    code = _propose(file, fn).code
    assert "<<<" in code and "__global__" in code
    src = (KERNELS / file).read_text()
    if (file, fn) in NESTED or "std::vector<std::string>" in src:
        # flattened: the elements row after row plus the row offsets, the kernel indexes through a view
        assert "__pl_vrows<" in code and "__pl_row_offsets(" in code
    if (file, fn) in BOOLS:
        assert "__pl_pack_bits(" in code and "bool *" in code


def test_nested_vector_views_index_through_row_offsets():
    """A[i][j] reads data[off[i] + j], A[i].size() is off[i + 1] - off[i] (rows of any lengths); a written
    nested vector is packed before the upload and unpacked row by row after the download."""
    code = _propose("cpp_nv_jagged_scale.cpp", "scaleJagged").code
    assert "return __pl_vrow<T>{data + off[i], off[i + 1] - off[i]};" in code
    assert "__pl_vrows<float> T" in code                      # written: not const in the kernel
    assert "__pl_pack_rows(T, " in code and "__pl_unpack_rows(T, " in code
    assert "auto &&row = T[__pl_r0];" in code                # the range-for row binds the view's row
    code = _propose("cpp_nv_ragged_sums.cpp", "raggedRowSums").code
    assert "__pl_vrows<const double> rows" in code and "__pl_unpack_rows(rows" not in code   # read only


def test_ragged_inner_loop_is_not_a_2d_grid():
    """The inner loop runs to the row's own length: no 2-D grid sized once on the host, no shared tiles."""
    code = _propose("cpp_nv_ragged_sums.cpp", "raggedRowSums").code
    assert "__pl_n2" not in code and "__shared__ double __pl_tx" not in code
    # a rectangular product still gets its tiles
    assert "__shared__ double __pl_tx" in _propose("cpp_nv_matmul.cpp", "matmulRows").code


def test_strings_and_bools_on_the_device():
    code = _propose("cpp_str_vowels.cpp", "countVowels").code        # std::string: its characters
    assert "s.data()" in code and "const char *s" in code
    code = _propose("cpp_bool_local_mask.cpp", "sumInRange").code     # a local vector<bool>: allocated at its declaration
    assert "std::vector<bool> keep(x.size()); __pl_dbuf __pl_dlb_keep;" in code


def test_suites_hold_ragged_rows():
    """The tester makes rows of different lengths, an empty one among them, for the new ragged kernels."""
    for file, fn, name in [("cpp_nv_ragged_sums.cpp", "raggedRowSums", "rows"),
                           ("cpp_nv_jagged_scale.cpp", "scaleJagged", "T"),
                           ("cpp_str_long_words.cpp", "countLongWords", "words")]:
        task = build_task((KERNELS / file).read_text(), "cpp", fn, Target.CUDA)
        (p,) = [p for p in task.signature.params if p.name == name]
        assert p.row_extent and p.row_extent.startswith("~"), p
        suite = generate_tests(task)
        ragged = [c for c in suite.cases if c.arrays[name].rows and len(set(c.arrays[name].rows)) > 1
                  and 0 in c.arrays[name].rows]
        assert ragged, file


@pytest.mark.parametrize("src,fn,why", [
    # a local vector's size inside a kernel: only its elements go to the device
    ("#include <vector>\ndouble f(std::vector<double> const& x) {\n    std::vector<double> t(x.size());\n"
     "    for (std::size_t i = 0; i < x.size(); ++i) t[i] = x[i] * (double)t.size();\n    double s = 0.0;\n"
     "    for (std::size_t i = 0; i < x.size(); ++i) s += t[i];\n    return s;\n}\n", "f",
     "asks the local vector 't' its size"),
])
def test_still_refused_names_the_construct(src, fn, why):
    with pytest.raises(NotParallelizable, match=why):
        RuleBasedTranslator().propose(build_task(src, "cpp", fn, Target.CUDA), Target.CUDA)


# ---------------------------------------------------------------- pipeline: verified, and nvcc builds it

@pytest.mark.parametrize("file,fn", [pytest.param(f, n, marks=() if f in QUICK else pytest.mark.slow) for f, n in ALL])
def test_translate_to_cuda_verifies_and_nvcc_compiles(file, fn, tmp_path, monkeypatch):
    # the transfer rule (sandbox/cuda_profile.py) withholds plans whose copies outweigh the sequential call,
    # a decision about speed on a PCIe bus; here the translation itself is checked: a fast bus
    monkeypatch.setenv("PARALIFT_CUDA_BUS_GBPS", "100000")
    path = KERNELS / file
    out = tmp_path / (path.stem + ".cu")
    rep = pipeline.translate_file(path, path.read_text(), Target.CUDA, [fn], out, backends=["rule"], model=None,
                                  samples=None, timing=False, write=True, on_event=lambda m: None)
    (f,) = [f for f in rep.functions if f.name == fn]
    assert f.status == "verified", f.reason
    code = out.read_text()
    assert "<<<" in code
    nvcc = _nvcc()
    if nvcc is None:
        pytest.skip("nvcc not installed")
    r = subprocess.run([nvcc, "-std=c++17", "-c", str(out), "-o", str(tmp_path / "k.o")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]

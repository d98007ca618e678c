"""C++ function templates instantiated in the file and member functions of a class whose loops touch
its fields (issue 23, agents/cpp_members.py): analysed as the free functions they stand for, written
back as the template / member function they are, tested through real g++ and the sandbox (the driver
calls the instantiation, or builds an object and swaps its fields in)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from paralift import pipeline
from paralift.agents import NotParallelizable, build_task
from paralift.agents.analysis import analyze
from paralift.agents.rule_based import RuleBasedTranslator
from paralift.agents.tester import alias_cases
from paralift.sandbox import harness
from paralift.types import Target

ROOT = Path(__file__).resolve().parents[1]
KERNELS = ROOT / "data" / "kernels"
REFUSED = ROOT / "tests" / "cpp_refused"
CLI = str(Path(sys.executable).parent / "paralift")


def _translate(path: Path, target: Target, tmp: Path, functions=()):
    out = tmp / (path.stem + {"openmp": ".omp.cpp", "mpi": ".mpi.cpp", "cuda": ".cu"}[target.value])
    rep = pipeline.translate_file(path, path.read_text(), target, list(functions), out, backends=["rule"],
                                  model=None, samples=None, timing=False, write=True, on_event=lambda m: None)
    return {f.name: f for f in rep.functions}, out


def _nvcc_compiles(code: str, tmp: Path) -> None:
    """The CUDA unit builds with the real nvcc (the detected one: CI has no .venv/bin on PATH)."""
    from paralift.sandbox.toolchains import detect
    nvcc = detect().nvcc.path
    if nvcc:
        (tmp / "unit.cu").write_text(code)
        r = subprocess.run([nvcc, "-std=c++17", "-c", str(tmp / "unit.cu"), "-o", str(tmp / "unit.o")],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]


# ---------------------------------------------------------------- analysis (fast)

def test_template_analysed_with_its_instantiation_types():
    src = (KERNELS / "cpp_tpl_axpy.cpp").read_text()
    fx = analyze(src, "cpp", "axpyT")
    assert fx.parallel, fx.reason
    sig = build_task(src, "cpp", "axpyT").signature
    assert sig.name == "axpyT" and sig.call == "axpyT<float>"
    assert [(p.name, p.base_type, p.kind.value) for p in sig.params] == [
        ("a", "float", "scalar"), ("x", "float", "vector"), ("y", "float", "vector")]
    assert harness.call_statement(sig, ["A", "X", "Y"]) == "axpyT<float>(A, X, Y);"


def test_template_result_type_and_two_instantiations():
    src = (KERNELS / "cpp_tpl_dot.cpp").read_text()
    sig = build_task(src, "cpp", "dotT").signature
    assert sig.return_type == "double" and sig.call == "dotT<double>"
    (cand,) = RuleBasedTranslator().propose(build_task(src, "cpp", "dotT", Target.OPENMP), Target.OPENMP)
    # the output keeps the template; its pragma holds for both instantiations (double and float)
    assert "template <typename T>\nT dotT(" in cand.code and "reduction(+:s)" in cand.code
    assert "typedef" not in cand.code


def test_template_instantiations_not_all_understood_stay_sequential():
    """T = int gives a parallel reduction; T = std::complex<double> is not analysed (and has no
    reduction clause): one pragma in the template could be wrong for it, so the template stays
    sequential, the instantiation named."""
    src = ("#include <complex>\n#include <vector>\n"
           "template <typename T>\nT total(std::vector<T> const& x) {\n    T s = T(0);\n"
           "    for (std::size_t i = 0; i < x.size(); ++i) s += x[i];\n    return s;\n}\n"
           "template int total<int>(std::vector<int> const&);\n"
           "template std::complex<double> total<std::complex<double>>(std::vector<std::complex<double>> const&);\n")
    task = build_task(src, "cpp", "total", Target.OPENMP)
    with pytest.raises(NotParallelizable, match=r"instantiation total<std::complex<double>>"):
        RuleBasedTranslator().propose(task, Target.OPENMP)


@pytest.mark.parametrize("file,fn,spec", [
    ("cpp_tpl_add_const.cpp", "addConst", "template <> void addConst<int>(std::vector<int> &v, int c) {"),
    ("cpp_tpl_sum_as.cpp", "sumAs", "template <> double sumAs<unsigned int, double>(const unsigned int *x, int n, "
                                    "double init) {"),
])
def test_type_bound_mpi_templates_are_written_as_specializations(file, fn, spec, tmp_path):
    """T = int, or two type parameters: the MPI code names one instantiation's datatypes, so the template
    stays as written (sequential, for other arguments) and the file's instantiation gets an explicit
    specialization carrying the MPI code, verified by the sandbox and built with mpicxx."""
    fns, out = _translate(KERNELS / file, Target.MPI, tmp_path, [fn])
    assert fns[fn].status == "verified", fns[fn].reason
    code = out.read_text()
    tmpl = (KERNELS / file).read_text()
    body = tmpl[tmpl.index("template <typename"):]
    assert body[:body.index("\n}\n") + 3] in code                  # the template as written
    assert spec in code and code.index(spec) > code.index("template <typename")
    from paralift.sandbox.toolchains import detect
    r = subprocess.run([detect().mpicxx.path, "-c", "-o", str(tmp_path / "o.o"), str(out)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def test_mpi_template_instantiations_of_different_types_share_one_text():
    """int and long instantiations: their MPI code is the same once each argument (and MPI's datatype
    of it) is written as T again, so both get specializations; a body whose code differs between the
    instantiations (here: a reduction only one of them vectorizes) keeps the template sequential."""
    src = ("#include <cstddef>\n#include <vector>\n"
           "template <typename T>\nvoid addConst(std::vector<T> &v, T c) {\n"
           "    for (std::size_t i = 0; i < v.size(); ++i) v[i] += c;\n}\n"
           "void bumpI(std::vector<int> &v) { addConst(v, 1); }\n"
           "void bumpL(std::vector<long> &v) { addConst(v, 2L); }\n")
    (cand,) = RuleBasedTranslator().propose(build_task(src, "cpp", "addConst", Target.MPI), Target.MPI)
    assert "template <> void addConst<int>(" in cand.code and "template <> void addConst<long>(" in cand.code
    assert "MPI_INT" in cand.code and "MPI_LONG" in cand.code
    src2 = ("#include <cstddef>\n#include <vector>\n"
            "template <typename T>\nT total(std::vector<T> const &v) {\n    T s = 0;\n"
            "    for (std::size_t i = 0; i < v.size(); ++i) s += v[i];\n    return s;\n}\n"
            "int totalI(std::vector<int> const &v) { return total(v); }\n"
            "double totalD(std::vector<double> const &v) { return total(v); }\n")
    with pytest.raises(NotParallelizable, match="do not take the same MPI code"):
        RuleBasedTranslator().propose(build_task(src2, "cpp", "total", Target.MPI), Target.MPI)


@pytest.mark.parametrize("file,fn", [("cpp_tpl_dot.cpp", "dotT"), ("cpp_tpl_scale_into.cpp", "scaleInto")])
def test_mpi_floating_templates_are_written_generic(file, fn, tmp_path):
    """T = float or double, no other floating type in the template: the MPI code names T and
    __pl_mpi_t<T>() (the same text the generator writes for the other floating type, made generic)."""
    fns, out = _translate(KERNELS / file, Target.MPI, tmp_path, [fn])
    assert fns[fn].status == "verified", fns[fn].reason
    code = out.read_text()
    from paralift.agents.cpp_members import MPI_T_HELPER
    body = code.split(MPI_T_HELPER)[1]
    assert "__pl_mpi_t<T>()" in body and "MPI_DOUBLE" not in body and "MPI_FLOAT" not in body
    from paralift.sandbox.toolchains import detect
    mpicxx = detect().mpicxx.path  # the venv's wrapper: CI does not put .venv/bin on PATH
    r = subprocess.run([mpicxx, "-c", "-o", str(tmp_path / "o.o"), str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_member_function_fields_become_parameters():
    src = (KERNELS / "cpp_cls_grid_smooth.cpp").read_text()
    fx = analyze(src, "cpp", "Grid1D::smooth")
    assert fx.parallel, fx.reason
    sig = build_task(src, "cpp", "Grid1D::smooth").signature
    assert sig.name == "Grid1D::smooth" and sig.receiver == "Grid1D" and sig.call == "smooth"
    assert [(p.name, p.member, p.role.value) for p in sig.params] == [
        ("u", True, "in"), ("next", True, "inout"), ("n", True, "in"), ("w", False, "in")]
    st = harness.call_statement(sig, ["U", "N", "K", "W"])
    assert st.startswith("{ std::swap(__pl_obj.u, U);") and "__pl_obj.smooth(W);" in st


def test_member_function_written_scalar_field_is_an_output():
    src = ("#include <vector>\nstruct Acc {\n    std::vector<double> v;\n    double sum = 0;\n    void add();\n};\n"
           "void Acc::add() {\n    for (std::size_t i = 0; i < v.size(); ++i) sum += v[i];\n}\n")
    sig = build_task(src, "cpp", "Acc::add").signature
    p = sig.param("sum")
    assert p.member and p.kind.value == "ref" and p.is_output
    (cand,) = RuleBasedTranslator().propose(build_task(src, "cpp", "Acc::add", Target.OPENMP), Target.OPENMP)
    assert "void Acc::add() {" in cand.code and "reduction(+:sum)" in cand.code


@pytest.mark.parametrize("src,why", [
    ("#include <vector>\nstruct B { std::vector<double> v; };\nstruct D : B { void f(); };\n"
     "void D::f() { for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0; }\n", "base class"),
    ("#include <vector>\nstruct G { std::vector<double> v; G(int n) : v(n) {} void f(); };\n"
     "void G::f() { for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0; }\n", "no default constructor"),
    ("#include <vector>\nstruct G { std::vector<double> v; void f(); };\n"
     "void G::f() { for (std::size_t i = 0; i < this->v.size(); ++i) this->v[i] = 0; }\n", "'this'"),
    ("struct G { double a[8]; void f(); };\n"
     "void G::f() { for (int i = 0; i < 8; ++i) a[i] = 0; }\n", "field 'a'"),
    ("#include <vector>\ndouble w(int i) { return i; }\nstruct G { std::vector<double> v; double w(int i) const;"
     " void f(); };\nvoid G::f() { for (std::size_t i = 0; i < v.size(); ++i) v[i] = w(i); }\n",
     "uses 'w', another member function"),
    ("#include <vector>\nstruct G { std::vector<double> v; static double k; void f(); };\n"
     "void G::f() { for (std::size_t i = 0; i < v.size(); ++i) v[i] = k; }\n", "uses 'k'"),
])
def test_member_functions_the_tests_cannot_call_are_named(src, why):
    with pytest.raises(Exception, match=why):
        build_task(src, "cpp", src.split("void ")[-1].split("(")[0])


# ---------------------------------------------------------------- sandbox (g++, real runs)

@pytest.mark.parametrize("file,fn", [
    ("cpp_cls_grid_smooth.cpp", "Grid1D::smooth"),
    ("cpp_cls_kinetic.cpp", "Particles::kinetic"),
    ("cpp_tpl_axpy.cpp", "axpyT"),
])
def test_openmp_member_functions_and_templates_verify(file, fn, tmp_path):
    fns, out = _translate(KERNELS / file, Target.OPENMP, tmp_path, [fn])
    assert fns[fn].status == "verified", fns[fn].reason
    code = out.read_text()
    assert "#pragma omp parallel for" in code
    assert (KERNELS / file).read_text().count("::" if "::" in fn else "template <") == code.count(
        "::" if "::" in fn else "template <")
    r = subprocess.run(["g++", "-fopenmp", "-c", "-o", str(tmp_path / "o.o"), str(out)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def test_template_over_pointers_called_in_place_and_overlapping(tmp_path):
    """scaleInto<double>(n, v, v, a): the tester makes the in-place and overlapping calls on the
    instantiation; the overlap check is written in the template's body."""
    path = KERNELS / "cpp_tpl_scale_into.cpp"
    task = build_task(path.read_text(), "cpp", "scaleInto", Target.OPENMP)
    assert any(c.aliases == {"y": ["x", 0]} for c in alias_cases(task))
    fns, out = _translate(path, Target.OPENMP, tmp_path, ["scaleInto"])
    f = fns["scaleInto"]
    assert f.status == "verified", f.reason
    code = out.read_text()
    assert "template <typename T>\nvoid scaleInto(int n, const T *x, T *y, T a) {" in code
    assert "overlapping arguments take the sequential code" in code


def test_a_wrong_member_translation_is_caught(tmp_path):
    """The fields written by the member function are outputs the tests compare."""
    path = KERNELS / "cpp_cls_histo_norm.cpp"
    fns, out = _translate(path, Target.OPENMP, tmp_path)
    assert fns["Histogram::normalize"].status == "verified", fns["Histogram::normalize"].reason
    bad = tmp_path / "bad.cpp"
    bad.write_text(out.read_text().replace("(double)counts[b] / (double)total", "(double)counts[b] / (double)(total + 1)"))
    r = subprocess.run([CLI, "verify", str(path), "--candidate", str(bad), "--to", "openmp", "--function",
                        "Histogram::normalize", "--no-timing", "--json"], capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert r.returncode == 1, r.stderr[-500:]
    (f,) = json.loads(r.stdout)["functions"]
    assert f["status"] == "failed" and "freq" in f["reason"]


@pytest.mark.slow
def test_mpi_and_cuda_member_functions_and_a_file_of_several(tmp_path):
    """MPI writes member functions (fields gathered to rank 0); a file of several member functions is
    assembled with each one's translation in place."""
    src = ("#include <cstddef>\n#include <vector>\n\nstruct Grid {\n    std::vector<double> u;\n"
           "    std::vector<double> next;\n    int n = 0;\n    double energy = 0;\n    void smooth(double w);\n"
           "    double total() const;\n    void addEnergy();\n};\n\n"
           "void Grid::smooth(double w) {\n    if (n < 2) return;\n    next[0] = u[0];\n    next[n - 1] = u[n - 1];\n"
           "    for (int i = 1; i < n - 1; i++)\n        next[i] = (1 - w) * u[i] + 0.5 * w * (u[i - 1] + u[i + 1]);\n}\n\n"
           "double Grid::total() const {\n    double s = 0;\n    for (size_t i = 0; i < u.size(); i++) s += u[i];\n"
           "    return s;\n}\n\n"
           "void Grid::addEnergy() {\n    for (size_t i = 0; i < u.size(); i++) energy += u[i] * u[i];\n}\n")
    path = tmp_path / "grid.cpp"
    path.write_text(src)
    for target in (Target.OPENMP, Target.MPI):
        fns, out = _translate(path, target, tmp_path)
        for name in ("Grid::smooth", "Grid::total", "Grid::addEnergy"):
            assert fns[name].status == "verified", (target, name, fns[name].reason)
        code = out.read_text()
        assert code.count("Grid::") == src.count("Grid::")
    # CUDA: the kernels at file scope, the host wrapper is the member function (fields by name); the
    # candidates verify (whether they are written is the transfer cost model's call), and the units of
    # several member functions concatenate into one file that holds the class once and compiles
    fns, _ = _translate(path, Target.CUDA, tmp_path)
    for name, f in fns.items():
        assert any(c.agent == "rule" and c.status == "verified" for c in f.candidates), (name, f.reason)
    from paralift.assemble import merge
    chosen = {n: RuleBasedTranslator().propose(build_task(src, "cpp", n, Target.CUDA), Target.CUDA)[0]
              for n in ("Grid::smooth", "Grid::total")}
    cu = merge(src, "cpp", Target.CUDA, chosen)
    assert cu.count("struct Grid {") == 1 and "double Grid::total() const {" in cu and "<<<" in cu
    _nvcc_compiles(cu, tmp_path)


# ---------------------------------------------------------------- written std::vector<bool>

def test_written_vector_bool_is_dealt_out_in_whole_words():
    """No two threads write one 64-bit word: static chunks of a multiple of 64 iterations from an
    element that is a multiple of 64, each iteration writing its own element."""
    from paralift.agents.cpp_bits import CHUNK
    src = (KERNELS / "cpp_bool_flag_above.cpp").read_text()
    (cand,) = RuleBasedTranslator().propose(build_task(src, "cpp", "flagAbove", Target.OPENMP), Target.OPENMP)
    assert CHUNK % 64 == 0 and f"#pragma omp parallel for schedule(static, {CHUNK})" in cand.code


@pytest.mark.parametrize("body,why", [
    ("for (std::size_t i = 1; i < f.size(); ++i) f[i] = x[i] > 0;", "first element written (1)"),
    ("for (std::size_t i = 0; i < x.size(); ++i) f[i + 1] = x[i] > 0;", "first element written (1)"),
    ("for (std::size_t i = 0; i < f.size() / 2; ++i) f[2 * i] = x[i] > 0;", "not at the loop's own element"),
    ("for (std::size_t i = 0; i < f.size(); i += 2) f[i] = x[i] > 0;", "counting up by 1"),
])
def test_written_vector_bool_that_threads_could_share_stays_sequential(body, why):
    src = ("#include <vector>\nvoid g(std::vector<double> const& x, std::vector<bool> &f) {\n    " + body + "\n}\n")
    task = build_task(src, "cpp", "g", Target.OPENMP)
    with pytest.raises(NotParallelizable, match=re.escape(why)):
        RuleBasedTranslator().propose(task, Target.OPENMP)


def test_written_vector_bool_cuda_one_byte_per_element():
    """CUDA takes a std::vector<bool> as one bool per element (agents/cuda_flatten.py): packed on the host
    before the upload, unpacked after the download; neighbours are separate bytes on the device."""
    src = (KERNELS / "cpp_bool_flag_above.cpp").read_text()
    (cand,) = RuleBasedTranslator().propose(build_task(src, "cpp", "flagAbove", Target.CUDA), Target.CUDA)
    assert "__pl_pack_bits(" in cand.code and "__pl_unpack_bits(" in cand.code and "<<<" in cand.code


@pytest.mark.parametrize("file,fn", [("cpp_bool_flag_above.cpp", "flagAbove"), ("cpp_bool_rising.cpp", "risingEdges")])
def test_mpi_written_vector_bool_gathered_through_a_bool_array(file, fn, tmp_path):
    """No .data(): each MPI call on the vector runs on a bool copy, copied back after it. Ranks are
    separate processes, so a block starting inside a word (risingEdges, from element 1) is fine."""
    fns, out = _translate(KERNELS / file, Target.MPI, tmp_path, [fn])
    assert fns[fn].status == "verified", fns[fn].reason
    code = out.read_text()
    assert "through a bool array" in code and "MPI_Gatherv" in code and ".data()" not in code


@pytest.mark.parametrize("file,fn", [
    ("cpp_bool_flag_above.cpp", "flagAbove"),
    ("cpp_bool_local_mask.cpp", "sumInRange"),
    ("cpp_bool_invert.cpp", "flipNegative"),
])
def test_openmp_written_vector_bool_verifies(file, fn, tmp_path):
    """The driver writes a vector<bool> output one byte an element (no .data())."""
    fns, out = _translate(KERNELS / file, Target.OPENMP, tmp_path, [fn])
    assert fns[fn].status == "verified", fns[fn].reason
    assert "schedule(static," in out.read_text()


# ---------------------------------------------------------------- member functions defined in their class

def test_member_functions_defined_in_their_class_are_listed_and_translated(tmp_path):
    """In-class definitions are functions of the file too ("ns::Class::f"; constructors are not); the
    translated body goes back into the class, which keeps its layout."""
    path = KERNELS / "cpp_cls_inline_field.cpp"
    names = pipeline.select_functions(path.read_text(), "cpp", [])
    assert {"sim::Field::apply", "sim::Field::norm1", "sim::Field::size"} <= set(names)
    assert not any(n.endswith("::Field") for n in names)
    sig = build_task(path.read_text(), "cpp", "sim::Field::apply").signature
    assert sig.receiver == "sim::Field" and [p.name for p in sig.params if p.member] == ["a", "b", "scale"]
    fns, out = _translate(path, Target.OPENMP, tmp_path)
    for n in ("sim::Field::apply", "sim::Field::norm1"):
        assert fns[n].status == "verified", (n, fns[n].reason)
    code = out.read_text()
    assert "Field__pl_" not in code and code.count("void apply() {") == 1
    assert code.index("#pragma omp parallel for\n") < code.index("b[i] = scale * a[i];") < code.index("};\n}")


def test_template_arguments_deduced_from_a_call_in_the_file():
    """addConst(v, 1) with std::vector<int> &v gives addConst<int>; sumAs(a, n, zero) with a const
    unsigned int * and a double gives sumAs<unsigned int, double> (literals deduce nothing)."""
    sig = build_task((KERNELS / "cpp_tpl_add_const.cpp").read_text(), "cpp", "addConst").signature
    assert sig.call == "addConst<int>" and [p.base_type for p in sig.params] == ["int", "int"]
    sig = build_task((KERNELS / "cpp_tpl_sum_as.cpp").read_text(), "cpp", "sumAs").signature
    assert sig.call == "sumAs<unsigned int, double>" and sig.return_type == "double"
    assert [p.base_type for p in sig.params] == ["unsigned int", "int", "double"]
    # a call that deduces one parameter two ways is no instantiation
    src = ("template <typename T>\nvoid f(T *a, T *b, int n) { for (int i = 0; i < n; i++) a[i] = b[i]; }\n"
           "void g(int *x, double *y, int n) { f(x, y, n); }\n")
    with pytest.raises(Exception, match="not instantiated"):
        build_task(src, "cpp", "f")


@pytest.mark.parametrize("file,fn", [("cpp_tpl_add_const.cpp", "addConst"), ("cpp_tpl_sum_as.cpp", "sumAs")])
def test_openmp_deduced_templates_verify(file, fn, tmp_path):
    fns, out = _translate(KERNELS / file, Target.OPENMP, tmp_path, [fn])
    assert fns[fn].status == "verified", fns[fn].reason
    assert "template <typename T" in out.read_text() and "#pragma omp parallel for" in out.read_text()


GRID_PROGRAM = """\
#include <cstdio>
#include <vector>

struct Grid {
    std::vector<double> u;
    double total() const {
        double s = 0;
        for (std::size_t i = 0; i < u.size(); ++i) s += u[i];
        return s;
    }
    void scale(double f);
};

void Grid::scale(double f) {
    for (std::size_t i = 0; i < u.size(); ++i) u[i] *= f;
}

template <typename T>
void fill(std::vector<T> &v, T x) {
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = x + (T)i;
}

int main() {
    Grid g;
    g.u.resize(1000);
    fill(g.u, 0.5);
    g.scale(2.0);
    std::printf("%.3f\\n", g.total());
    return 0;
}
"""


def test_template_deduced_from_a_field_and_a_literal():
    sig = build_task(GRID_PROGRAM, "cpp", "fill").signature
    assert sig.call == "fill<double>"


def test_a_program_of_member_functions_and_a_template_runs_as_the_sequential_one(tmp_path):
    path = tmp_path / "grid.cpp"
    path.write_text(GRID_PROGRAM)
    out = tmp_path / "grid.omp.cpp"
    rep = pipeline.translate_file(path, GRID_PROGRAM, Target.OPENMP, [], out, backends=["rule"], model=None,
                                  samples=None, timing=False, write=True, on_event=lambda m: None)
    fns = {f.name: f for f in rep.functions}
    for n in ("Grid::total", "Grid::scale", "fill"):
        assert fns[n].status == "verified", (n, fns[n].reason)
    assert rep.program is not None and rep.program.ok
    assert out.read_text().count("#pragma omp parallel for") == 3


def test_member_function_defined_in_a_namespace_names_its_class_with_it():
    src = ("#include <vector>\nnamespace a {\nstruct G { std::vector<double> v; void f(double s); };\n"
           "void G::f(double s) { for (std::size_t i = 0; i < v.size(); ++i) v[i] *= s; }\n}\n")
    sig = build_task(src, "cpp", "G::f").signature
    assert sig.receiver == "a::G" and "a::G __pl_obj;" in harness.driver_source(sig, "u.cpp", Target.OPENMP, "cpp")


def test_a_loopless_caller_of_a_template_names_the_callee_not_an_extent():
    """scaleAll(n, v, a) only calls scaleInto<double>(n, v, v, a): the reason says the work is in the
    callee (translated on its own), not only that v's extent is unknown."""
    from paralift.agents.base import AnalysisError
    src = (KERNELS / "cpp_tpl_scale_into.cpp").read_text()
    with pytest.raises(AnalysisError, match=r"it has no loops \(its arrays are passed on to scaleInto"):
        analyze(src, "cpp", "scaleAll")


@pytest.mark.parametrize("file,fn,specs", [("cpp_tpl_axpy.cpp", "axpyT", ["axpyT<float>"]),
                                          ("cpp_tpl_dot.cpp", "dotT", ["dotT<double>", "dotT<float>"])])
def test_cuda_templates_are_the_template_and_a_specialization_per_instantiation(file, fn, specs, tmp_path):
    """CUDA for a function template: the template as written (sequential, for other arguments), then per
    instantiation in the file its kernels and `template <> f<args>(...)`; the verified first stands for
    the others because their code is the same text once the arguments are written as parameters."""
    src = (KERNELS / file).read_text()
    code = RuleBasedTranslator().propose(build_task(src, "cpp", fn, Target.CUDA), Target.CUDA)[0].code
    assert code.count("template <typename T>") >= 1 and code.index("template <typename T>") < code.index("__global__")
    for k, spec in enumerate(specs):
        assert f"template <> " in code and f" {spec}(" in code and f"__pl_kernel_{fn}_t{k}_" in code
    _nvcc_compiles(code, tmp_path)
    fns, _ = _translate(KERNELS / file, Target.CUDA, tmp_path, [fn])
    assert any(c.agent == "rule" and c.status == "verified" for c in fns[fn].candidates), fns[fn].reason


def test_cuda_template_instantiations_with_different_code_stay_sequential():
    """Instantiations whose CUDA code differs beyond their arguments: only the first would be verified."""
    from paralift.agents import cpp_members as cm
    rw = cm.Rewrite(source="", function="f", name="f", back=[], call="f<float>", types=["float"],
                    bindings={"T": "float"})
    a = "__global__ void __pl_kernel_f_t0_0(float *x) { x[0] = 1; }"
    b = "__global__ void __pl_kernel_f_t1_0(double *x) { x[0] = 2; }"
    o = cm.Rewrite(source="", function="f", name="f", back=[], call="f<double>", types=["double"],
                   bindings={"T": "double"})
    assert cm._generic_text(rw, a) != cm._generic_text(o, b)
    assert cm._generic_text(rw, a) == cm._generic_text(o, b.replace("= 2", "= 1"))

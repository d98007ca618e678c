"""Suites (builtin, JSONL corpora, ParEval prompts), decontamination, BLEU/CodeBLEU,
the Markdown report and the plots."""
from __future__ import annotations

import json

import pytest

from paralift.errors import UsageError
from paralift.eval import report, suites, textsim


def test_builtin_suite_is_the_kernel_set():
    s = suites.load_suite("builtin")
    manifest = json.loads((suites.builtin_dir() / "manifest.json").read_text())
    assert [t.id for t in s.tasks] == [k["name"] for k in manifest]
    assert s.targets == ("openmp", "mpi", "cuda")
    saxpy = s.task("saxpy")
    assert saxpy.function == "saxpy" and saxpy.language == "c" and saxpy.parallel is True
    assert "void saxpy" in saxpy.source
    d = s.describe()
    assert d["sizes"][:3] == [0, 1, 2] and len(d["fingerprint"]) == 16
    assert s.task("prefix_sum").parallel is False


def test_subset_and_bad_names():
    s = suites.load_suite("builtin").subset(["sum", "saxpy"], ["openmp"], None)
    assert [t.id for t in s.tasks] == ["saxpy", "sum"] and s.targets == ("openmp",)
    assert len(suites.load_suite("builtin").subset(limit=3).tasks) == 3
    with pytest.raises(UsageError, match="no task 'nope'"):
        suites.load_suite("builtin").subset(["nope"])
    with pytest.raises(UsageError, match="unknown suite"):
        suites.load_suite("no-such-suite")


def test_decontamination_finds_suite_code_in_any_layout():
    index = suites.decontamination_index("builtin")
    src = suites.load_suite("builtin").task("matmul").source
    relaid = "/* copied */\n" + src.replace("\n", "\n\n  ").replace("  ", " ")
    assert suites.is_contaminated(relaid, index)
    assert not suites.is_contaminated("int add(int a, int b) { return a + b; }", index)
    norm = suites.normalized_sources("builtin")
    assert norm["saxpy"] == suites.normalize_source("// c\n" + suites.load_suite("builtin").task("saxpy").source)


def test_jsonl_corpora_paralift_and_babeltower(tmp_path):
    src = "void scale2(int n, float *x) { for (int i = 0; i < n; i++) x[i] = 2 * x[i]; }"
    lines = [
        {"id": "a1", "family": "map", "source_lang": "c", "target": "openmp", "source": src,
         "reference": "#pragma omp parallel for\n" + src, "tests": [], "provenance": "x", "verified": True},
        {"id": "a2", "family": "map", "source_lang": "c", "target": "cuda", "source": src + "\n",
         "reference": "__global__ void k() {}", "tests": [], "provenance": "x", "verified": True},
        {"id": 7, "cpp_code": "void inc ( int n , int * a ) { for ( int i = 0 ; i < n ; i ++ ) a [ i ] += 1 ; }",
         "cuda_code": "__global__ void inc ( int n , int * a ) { int i = threadIdx . x ; if ( i < n ) a [ i ] += 1 ; }",
         "consistent_cpp_inputs": [], "consistent_cuda_inputs": [], "cuda_wrapper": "", "consistent_outputs": []},
    ]
    p = tmp_path / "corpus.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    s = suites.load_suite(str(p))
    assert [t.id for t in s.tasks] == ["a1", "7"]
    a1 = s.task("a1")
    assert a1.targets == ("openmp", "cuda") and a1.function == "scale2" and set(a1.references) == {"openmp", "cuda"}
    bt = s.task("7")
    assert bt.targets == ("cuda",) and bt.function == "inc" and bt.references["cuda"].startswith("__global__")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    with pytest.raises(UsageError, match="no source field"):
        suites.load_suite(str(bad))


def test_pareval_translation_prompts(tmp_path):
    serial = ("/* Return the sum of x. */\ndouble sumAll(std::vector<double> const& x) {\n"
              "    double s = 0.0;\n    for (size_t i = 0; i < x.size(); ++i) s += x[i];\n    return s;\n}")
    prompts = [
        {"problem_type": "reduce", "language": "cpp", "name": "99_reduce_sum", "parallelism_model": "omp",
         "prompt": "#include <omp.h>\n/* Use OpenMP */\ndouble sumAll(std::vector<double> const& x) {",
         "translation_prompt": "// Serial implementation ...", "translation_src_model": "serial",
         "translation_dst_model": "omp", "translation_src_example": serial, "translation_function_name": "sumAll"},
        {"problem_type": "reduce", "language": "cpp", "name": "98_only_a_header", "parallelism_model": "mpi",
         "prompt": "double f(std::vector<double> const& x) {"},
    ]
    p = tmp_path / "translation-prompts.json"
    p.write_text(json.dumps(prompts))
    s = suites.load_suite(str(p))
    assert [t.id for t in s.tasks] == ["99_reduce_sum"]
    t = s.tasks[0]
    assert t.function == "sumAll" and t.language == "cpp" and t.targets == ("openmp",)
    assert "#include <vector>" in t.source and t.prompts["openmp"].startswith("// Serial")
    assert s.skipped == ["98_only_a_header"]


def test_suite_json(tmp_path):
    (tmp_path / "k.c").write_text("void neg(int n, double *x) { for (int i = 0; i < n; i++) x[i] = -x[i]; }\n")
    (tmp_path / "s.json").write_text(json.dumps({"name": "mine", "targets": ["openmp"], "sizes": [1, 5, 9],
                                                 "large": 1000, "tasks": [{"id": "neg", "file": "k.c"}]}))
    s = suites.load_suite(str(tmp_path / "s.json"))
    assert s.name == "mine" and s.sizes == (1, 5, 9) and s.large == 1000
    assert s.tasks[0].function == "neg" and s.tasks[0].targets == ("openmp",)


# ---------------------------------------------------------------- BLEU / CodeBLEU

OMP = """double dot(int n, const double *x, const double *y) {
    double s = 0.0;
    #pragma omp parallel for reduction(+:s)
    for (int i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}"""
SEQ = """double dot(int n, const double *x, const double *y) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}"""
OTHER = """void fill(int n, int *a) { int k = 3; while (n--) { a[n] = k; k = k * 2; } }"""


def test_bleu_and_codebleu_bounds():
    pytest.importorskip("sacrebleu")
    assert textsim.bleu([OMP], [OMP]) == pytest.approx(100.0)
    assert textsim.bleu([], []) is None and textsim.codebleu([], []) is None
    same = textsim.codebleu([OMP], [OMP])
    assert same["codebleu"] == pytest.approx(1.0)
    near, far = textsim.codebleu([SEQ], [OMP]), textsim.codebleu([OTHER], [OMP])
    assert 0.5 < near["codebleu"] < 1.0
    assert far["codebleu"] < near["codebleu"]
    assert near["dataflow_match"] == pytest.approx(1.0)          # same dataflow, one pragma fewer
    assert textsim.bleu([OTHER], [OMP]) < textsim.bleu([SEQ], [OMP]) < 100.0


def test_code_tokens_drop_comments():
    assert textsim.code_tokens("a+=b[i]; // x\n/* y */ c->d") == ["a", "+=", "b", "[", "i", "]", ";", "c", "->", "d"]


# ---------------------------------------------------------------- report and plots

def _summary():
    def res(agent, target, p1, sp, timed=2):
        return {"agent": agent, "model": None, "target": target, "problems": 3, "samples": 3, "built": 3,
                "passed": 2, "workers": 2, "speedup_problems": timed,
                "k": {"1": {"build": 1.0, "pass": p1, "speedup": sp, "efficiency": sp / 2 if sp else None,
                            "clamped": False},
                      "5": {"build": 1.0, "pass": p1, "speedup": sp, "efficiency": None, "clamped": True}},
                "speedup_verified": {"count": 2, "geomean": 1.5, "max": 2.0}, "speedup_skipped": [],
                "declined": {"count": 1, "on_sequential_tasks": 1}, "not_evaluated": {"x": "analysis: ..."},
                "bleu": None, "codebleu": None, "references": 0, "speedup_notes": [],
                "tasks": {"a": {"n": 1, "built": 1, "passed": 1, "speedups": [1.2]},
                          "b": {"n": 1, "built": 1, "passed": 1, "speedups": [1.9]}}}
    return {"suite": {"name": "builtin", "tasks": ["a", "b", "c"]},
            "config": {"targets": ["openmp", "mpi"], "k": [1, 5], "n": 2, "speedup_failed": "zero"},
            "results": [res("rule", "openmp", 2 / 3, 1.4), res("gcc-autopar", "openmp", 1 / 3, 0.5),
                        res("rule", "mpi", 2 / 3, None, 0)]}


def test_markdown_table_side_by_side():
    text = report.markdown(_summary())
    assert "| rule | openmp | 3 | 3 | 100.0 | 100.0† | 66.7 | 66.7† | 1 | 1 |" in text
    assert "| gcc-autopar | openmp | 0.50 |" in text
    assert "| rule | mpi | – | –† |" in text
    assert "speedup_2@1" in text and "efficiency_2@5" in text
    assert "† fewer samples than k" in text


def test_plots_are_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    from paralift.eval import plots
    paths = plots.write_all(_summary(), tmp_path)
    assert [p.name for p in paths] == ["pass_at_k.png", "speedup.png"]
    for p in paths:
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000

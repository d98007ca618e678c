"""Importers for public corpus formats, on small fixture files written here
(paralift ships none of these datasets)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paralift.data.importers import detect_format, detokenize, import_path
from paralift.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]

CPP_TOK = [
    "void add_vec ( float * a , const float * b , int n ) { for ( int i = 0 ; i < n ; i ++ ) { a [ i ] += b [ i ] ; } }",
    "0 | void scale ( double * x , double s , int n ) { for ( int i = 0 ; i < n ; ++ i ) x [ i ] = s * x [ i ] ; }",
]
CUDA_TOK = [
    "__global__ void add_vec ( float * a , const float * b , int n ) { int i = blockIdx . x * blockDim . x + threadIdx . x ; "
    "if ( i < n ) { a [ i ] += b [ i ] ; } }",
    "0 | __global__ void scale ( double * x , double s , int n ) { int i = blockIdx . x * blockDim . x + threadIdx . x ; "
    "if ( i < n ) x [ i ] = s * x [ i ] ; }",
]


def _write_babeltower(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "test.para.cpp.tok").write_text("\n".join(CPP_TOK) + "\n")
    (d / "test.para.cuda.tok").write_text("\n".join(CUDA_TOK) + "\n")


def test_detokenize_compiles(tmp_path):
    src = detokenize(CPP_TOK[1])
    assert src.startswith("void scale (") and "0 |" not in src
    (tmp_path / "a.c").write_text(src)
    r = subprocess.run(["gcc", "-c", "-o", "/dev/null", str(tmp_path / "a.c")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    inc = detokenize('# include < stdio.h > void f ( ) { printf ( "a▁b" ) ; }')
    assert inc.splitlines()[0] == "#include <stdio.h>" and '"a b"' in inc


def test_babeltower_pairs(tmp_path):
    d = tmp_path / "bt"
    _write_babeltower(d)
    assert detect_format(d) == "babeltower"
    res = import_path(d, tmp_path / "out.jsonl")
    assert res["format"] == "babeltower" and res["records"] == 2
    recs = [json.loads(l) for l in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in recs] == ["babeltower-test-000000", "babeltower-test-000001"]
    r = recs[0]
    assert r["target"] == "cuda" and r["source_lang"] == "c" and r["verified"] is False and r["tests"] is None
    assert "__global__ void add_vec" in r["reference"] and r["source"].startswith("void add_vec")
    assert r["prompt"].startswith("### Sequential") and r["completion"].endswith("```")
    # the loader of eval suites reads the result (DESIGN §5 fields)
    from paralift.eval.suites import load_suite
    s = load_suite(str(tmp_path / "out.jsonl"))
    assert {t.function for t in s.tasks} == {"add_vec", "scale"}


def test_babeltower_mismatched_pair_is_an_error(tmp_path):
    d = tmp_path / "bt"
    _write_babeltower(d)
    (d / "test.para.cuda.tok").write_text(CUDA_TOK[0] + "\n")
    with pytest.raises(UsageError, match="not a parallel pair"):
        import_path(d, tmp_path / "o.jsonl")


def test_musl_jsonl(tmp_path):
    f = tmp_path / "musl_eval.jsonl"
    lines = [
        {"id": 7, "c_code": "void neg(int n, float *x) { for (int i = 0; i < n; i++) x[i] = -x[i]; }",
         "cuda_code": "__global__ void neg(int n, float *x) { int i = threadIdx.x; if (i < n) x[i] = -x[i]; }",
         "consistent_cpp_inputs": ["float x[3] = {1, 2, 3}; neg(3, x);"],
         "consistent_cuda_inputs": ["float x[3] = {1, 2, 3}; neg<<<1, 3>>>(3, x);"]},
        {"id": 8, "source": "int twice(int a) { return 2 * a; }"},
        {"id": 9, "note": "no code"},
    ]
    f.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = import_path(f, tmp_path / "out.jsonl")
    assert res["format"] == "musl" and res["records"] == 2 and res["skipped"] == 1
    recs = [json.loads(l) for l in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert recs[0]["id"] == "musl-7" and recs[0]["reference"].startswith("__global__")
    assert recs[0]["provenance"]["original_tests"]["consistent_cuda_inputs"][0].startswith("float x[3]")
    assert recs[1]["reference"] == "" and recs[1]["completion"] == ""


def test_musl_bad_json_is_usage_error(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text('{"c_code": "void f(){}"}\nnot json\n')
    with pytest.raises(UsageError, match=r"x.jsonl:2: not JSON"):
        import_path(f, tmp_path / "o.jsonl")


def test_pareval_prompts(tmp_path):
    serial = ("void relu(std::vector<double> &x) {\n  for (size_t i = 0; i < x.size(); i++) {\n"
              "    if (x[i] < 0) x[i] = 0;\n  }\n}")
    data = [
        {"name": "10_relu", "parallelism_model": "serial", "problem_type": "transform", "language": "cpp",
         "prompt": serial},
        {"name": "10_relu", "parallelism_model": "omp", "problem_type": "transform", "language": "cpp",
         "prompt": "/* Compute ReLU in parallel with OpenMP */\nvoid relu(std::vector<double> &x) {"},
        {"name": "10_relu", "parallelism_model": "mpi", "problem_type": "transform", "language": "cpp",
         "prompt": "/* Compute ReLU with MPI */\nvoid relu(std::vector<double> &x) {"},
        {"name": "11_open", "parallelism_model": "omp", "problem_type": "sort", "language": "cpp",
         "prompt": "void sortIt(std::vector<int> &x) {"},
    ]
    f = tmp_path / "prompts.json"
    f.write_text(json.dumps(data))
    res = import_path(f, tmp_path / "out.jsonl")
    assert res["format"] == "pareval" and res["records"] == 2 and res["skipped"] == 1
    recs = {r["target"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
    assert set(recs) == {"openmp", "mpi"}
    assert recs["openmp"]["prompt"].startswith("/* Compute ReLU in parallel with OpenMP")
    assert recs["openmp"]["function"] == "relu" and recs["openmp"]["source_lang"] == "cpp"
    assert "std::vector<double> &x" in recs["openmp"]["source"]


def test_cli_import_and_errors(tmp_path):
    d = tmp_path / "bt"
    _write_babeltower(d)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "paralift", "data", "import", str(d), "--out", str(tmp_path / "o.jsonl"),
                        "--json"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["records"] == 2
    r = subprocess.run([sys.executable, "-m", "paralift", "data", "import", str(tmp_path / "none.tok"), "--out",
                        str(tmp_path / "o2.jsonl")], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr

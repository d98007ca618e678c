"""Analysis: parsing, signatures, extents/roles/values, dependence tests,
reductions, privatization and refusals (real tree-sitter parsing)."""
from __future__ import annotations

import json

import pytest

from paralift.agents import AnalysisError, NotParallelizable, RuleBasedTranslator, build_task, detect_language, \
    list_functions
from paralift.types import ParamKind, Role, Target, ValueKind, to_jsonable


def task(src: str, fn: str, lang: str = "c"):
    return build_task(src, lang, fn)


def loop(t, line=None, var=None):
    for lp in t.analysis["loops"]:
        if (line is None or lp["line"] == line) and (var is None or lp["var"] == var):
            return lp
    raise KeyError((line, var))


def params(t):
    return {p.name: p for p in t.signature.params}


# ---------------------------------------------------------------- language / listing

def test_detect_language_by_extension_and_content():
    assert detect_language("k.c", "") == "c"
    assert detect_language("k.h", "") == "c"
    for ext in ("cc", "cpp", "cxx", "hpp"):
        assert detect_language(f"k.{ext}", "") == "cpp"
    assert detect_language(None, "#include <vector>\nvoid f(std::vector<int> &x) {}") == "cpp"
    assert detect_language(None, "void f(int n, double *x) { }") == "c"
    assert detect_language("kernel.txt", "template <typename T> T id(T x) { return x; }") == "cpp"


def test_list_functions_reports_every_definition():
    src = """
static double sq(double x) { return x * x; }
void f(int n, double *a) { for (int i = 0; i < n; i++) a[i] = sq(a[i]); }
int main(void) { return 0; }
"""
    sigs = list_functions(src, "c")
    assert [s.name for s in sigs] == ["sq", "f", "main"]
    f = sigs[1]
    assert f.return_type == "void" and f.start_line == 3 and f.end_line == 3
    assert [(p.name, p.kind) for p in f.params] == [("n", ParamKind.SCALAR), ("a", ParamKind.POINTER)]
    assert sigs[0].static


# ---------------------------------------------------------------- parameters

SAXPY = "void saxpy(int n, float a, const float *x, float *y) { for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i]; }"


def test_saxpy_params():
    t = task(SAXPY, "saxpy")
    p = params(t)
    assert p["n"].kind == ParamKind.SCALAR and p["n"].values.kind == ValueKind.SIZE and p["n"].base_type == "int"
    assert p["a"].values.kind == ValueKind.ANY and p["a"].base_type == "float"
    assert p["x"].kind == ParamKind.POINTER and p["x"].const and p["x"].role == Role.IN and p["x"].extent == "n"
    assert p["y"].role == Role.INOUT and p["y"].extent == "n"
    assert t.analysis["parallel"] is True
    json.dumps(to_jsonable(t))   # the whole Task is JSON-able


def test_out_role_needs_every_element_written():
    src = """
void full(int n, const double *x, double *y) { for (int i = 0; i < n; i++) y[i] = 2 * x[i]; }
void part(int n, const double *x, double *y) { for (int i = 1; i < n; i++) y[i] = 2 * x[i]; }
void cond(int n, const double *x, double *y) { for (int i = 0; i < n; i++) if (x[i] > 0) y[i] = x[i]; }
void skip(int n, const double *x, double *y) { for (int i = 0; i < n; i++) { if (x[i] < 0) continue; y[i] = 1; } }
"""
    assert params(task(src, "full"))["y"].role == Role.OUT
    assert params(task(src, "part"))["y"].role == Role.INOUT
    assert params(task(src, "cond"))["y"].role == Role.INOUT
    assert params(task(src, "skip"))["y"].role == Role.INOUT


def test_cpp_vector_params_parEval_style():
    src = """#include <vector>
void axpy(double alpha, std::vector<double> const& x, std::vector<double> const& y, std::vector<double> &z) {
    for (size_t i = 0; i < x.size(); ++i) z[i] = alpha * x[i] + y[i];
}
void maxref(std::vector<int> const& x, int &best) {
    best = x[0];
    for (size_t i = 0; i < x.size(); i++) best = std::max(best, x[i]);
}"""
    t = task(src, "axpy", "cpp")
    p = params(t)
    assert p["x"].kind == ParamKind.VECTOR and p["x"].const and p["x"].extent == "N"
    assert p["y"].extent == "N" and p["z"].extent == "N" and p["z"].role == Role.OUT and not p["z"].const
    assert t.analysis["size_tokens"] == {"x": "N"}
    t = task(src, "maxref", "cpp")
    p = params(t)
    assert p["best"].kind == ParamKind.REF and p["best"].role == Role.OUT
    assert p["x"].extent == "max(N, 1)"
    assert loop(t)["reductions"] == [{"var": "best", "op": "max"}]


def test_extents_from_subscripts():
    src = """
void gemv(int m, int n, const double *A, const double *x, double *y) {
    for (int i = 0; i < m; i++) { double s = 0; for (int j = 0; j < n; j++) s += A[i*n + j] * x[j]; y[i] = s; }
}
void jac(int n, const double *in, double *out) {
    for (int i = 1; i < n - 1; i++) out[i] = (in[i-1] + in[i] + in[i+1]) / 3.0;
}
void pad(int n, const double *in, double *out) {
    for (int i = 0; i < n; i++) out[i] = in[i] + in[i + 2];
}
void half(int n, const double *in, double *out) {
    for (int i = 0; i < n / 2; i++) out[i] = in[2 * i] + in[2 * i + 1];
}
"""
    p = params(task(src, "gemv"))
    assert (p["A"].extent, p["x"].extent, p["y"].extent) == ("m*n", "n", "m")
    assert p["y"].role == Role.OUT and p["m"].values.kind == ValueKind.SIZE
    p = params(task(src, "jac"))
    assert p["in"].extent == "n" and p["out"].extent == "n" and p["out"].role == Role.INOUT
    assert params(task(src, "pad"))["in"].extent == "n + 2"
    p = params(task(src, "half"))
    assert p["in"].extent == "2*((n)//2)" or p["in"].extent == "2*(n//2)" or "//" in p["in"].extent


def test_value_specs_index_offsets_nonzero():
    src = """
void hist(int n, const int *x, int nbins, int *h) { for (int i = 0; i < n; i++) h[x[i]]++; }
void gather(int n, const int *idx, const double *src, double *dst) { for (int i = 0; i < n; i++) dst[i] = src[idx[i]]; }
void spmv(int n, const int *rowptr, const int *col, const double *val, const double *x, double *y) {
    for (int i = 0; i < n; i++) { double s = 0; for (int j = rowptr[i]; j < rowptr[i+1]; j++) s += val[j] * x[col[j]]; y[i] = s; }
}
void spmv2(int n, int nnz, const int *rowptr, const int *col, const double *val, const double *x, double *y) {
    for (int i = 0; i < n; i++) { double s = 0; for (int j = rowptr[i]; j < rowptr[i+1]; j++) s += val[j] * x[col[j]]; y[i] = s; }
}
void norm(int n, const double *x, const double *d, double *y) { for (int i = 0; i < n; i++) y[i] = x[i] / d[i]; }
"""
    p = params(task(src, "hist"))
    assert p["h"].extent == "nbins" and p["nbins"].values.kind == ValueKind.SIZE
    assert p["x"].values.kind == ValueKind.INDEX and p["x"].values.bound == "nbins"
    p = params(task(src, "gather"))
    assert p["idx"].values.kind == ValueKind.INDEX and p["idx"].values.bound == "n"
    p = params(task(src, "spmv"))
    assert p["rowptr"].extent == "n + 1" and p["rowptr"].values.kind == ValueKind.OFFSETS
    assert p["rowptr"].values.bound == "N" and p["col"].extent == "N" and p["val"].extent == "N"
    assert p["col"].values.kind == ValueKind.INDEX and p["col"].values.bound == p["x"].extent
    p = params(task(src, "spmv2"))
    assert p["rowptr"].values.bound == "nnz" and p["val"].extent == "nnz"
    assert params(task(src, "norm"))["d"].values.kind == ValueKind.NONZERO


# ---------------------------------------------------------------- dependences

DEPS = """
void recur(int n, double *a, const double *b) { for (int i = 1; i < n; i++) a[i] = a[i-1] + b[i]; }
void even_odd(int n, double *a) { for (int i = 0; i < n; i++) a[2*i] = a[2*i + 1]; }
void far(int n, double *a) { for (int i = 0; i < n; i++) a[i] = a[i + n]; }
void same(int n, double *a) { for (int i = 0; i < n; i++) a[0] = a[i]; }
void rows(int n, int m, double *a) { for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) a[i*m + j] = a[i*m + j] * 2; }
void rows_shift(int n, int m, double *a) { for (int i = 1; i < n; i++) for (int j = 0; j < m; j++) a[i*m + j] = a[(i-1)*m + j]; }
void cols(int n, int m, const double *a, double *b) { for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) b[j*n + i] = a[i*m + j]; }
void alias(int n, double *a, double *b) { for (int i = 0; i < n; i++) a[i] = b[i + 1]; }
void alias_ok(int n, double *a, double *b) { for (int i = 0; i < n; i++) a[i] = 2 * b[i]; }
void restricted(int n, double *restrict a, double *restrict b) { for (int i = 0; i < n; i++) a[i] = b[i + 1]; }
void counter(int n, const double *x, double *y) { int k = 0; for (int i = 0; i < n; i++) { y[k] = x[i]; k++; } y[n - 1] = 0; }
void scatter(int n, const int *idx, const double *x, double *y) { for (int i = 0; i < n; i++) y[idx[i]] = x[i]; }
"""


@pytest.mark.parametrize("fn,parallel,why", [
    ("recur", False, "a[i-1]"), ("even_odd", True, ""), ("far", True, ""), ("same", False, "a[0]"),
    ("rows", True, ""), ("rows_shift", False, "dependence"), ("cols", True, ""),
    ("alias", True, ""), ("alias_ok", True, ""), ("restricted", True, ""),
    ("counter", False, "'k'"), ("scatter", False, "not affine"),
])
def test_dependence_tests(fn, parallel, why):
    t = task(DEPS, fn)
    lp = t.analysis["loops"][0]
    assert lp["parallel"] is parallel, lp["reason"]
    assert why in lp["reason"]
    if not parallel:
        assert lp["reason"].startswith(f"loop at line {lp['line']}")


@pytest.mark.parametrize("fn,checks,equal_ok", [("alias", [["a", "b"]], []), ("alias_ok", [["a", "b"]], [["a", "b"]]),
                                                ("restricted", [], [])])
def test_possible_overlap_is_checked_at_run_time(fn, checks, equal_ok):
    # a dependence only through two pointers pointing into one array: parallel, with an entry check (issue 22).
    # Even a[i] = 2 * b[i] depends across iterations when b = a + 1; an in-place call (a == b) does not.
    lp = task(DEPS, fn).analysis["loops"][0]
    assert lp["alias_checks"] == checks
    assert lp["alias_equal_ok"] == equal_ok


def test_distance_and_gcd_details():
    t = task(DEPS, "recur")
    assert "distance 1" in t.analysis["reason"]
    from paralift.agents.analysis import analyze
    fx = analyze(DEPS, "c", "even_odd")
    assert fx.loops[fx.model.loops[0]].parallel


def test_inner_loop_parallel_when_outer_carries():
    src = """void gs(int n, int m, double *a) {
    for (int t = 1; t < n; t++)
        for (int j = 0; j < m; j++)
            a[t*m + j] = a[(t-1)*m + j] + 1.0;
}"""
    t = task(src, "gs")
    outer, inner = t.analysis["loops"]
    assert not outer["parallel"] and inner["parallel"]
    assert t.analysis["parallel"] and "line(s) 3" in t.analysis["reason"]


# ---------------------------------------------------------------- reductions / privates

RED = """
#include <math.h>
double sum(int n, const double *x) { double s = 0; for (int i = 0; i < n; i++) s += x[i]; return s; }
double prod(int n, const double *x) { double p = 1; for (int i = 0; i < n; i++) p = p * x[i]; return p; }
double mx(int n, const double *x) { double m = x[0]; for (int i = 0; i < n; i++) if (x[i] > m) m = x[i]; return m; }
double mn(int n, const double *x) { double m = x[0]; for (int i = 0; i < n; i++) m = x[i] < m ? x[i] : m; return m; }
double fm(int n, const double *x) { double m = x[0]; for (int i = 0; i < n; i++) m = fmax(m, x[i]); return m; }
int all(int n, const int *x) { int ok = 1; for (int i = 0; i < n; i++) ok = ok && x[i] > 0; return ok; }
int any(int n, const int *x) { int f = 0; for (int i = 0; i < n; i++) f = f || x[i] > 0; return f; }
int cnt(int n, const int *x) { int c = 0; for (int i = 0; i < n; i++) if (x[i] % 2 == 0) c++; return c; }
double sub(int n, const double *x) { double s = 0; for (int i = 0; i < n; i++) s -= x[i]; return s; }
int argmax(int n, const double *x) { double m = x[0]; int k = 0; for (int i = 1; i < n; i++) if (x[i] > m) { m = x[i]; k = i; } return k; }
void scan(int n, const double *x, double *y) { double s = 0; for (int i = 0; i < n; i++) { s += x[i]; y[i] = s; } }
void tmp(int n, const double *x, double *y) { double t; for (int i = 0; i < n; i++) { t = x[i] * 2; y[i] = t + 1; } }
double last(int n, const double *x, double *y) { double t = 0; for (int i = 0; i < n; i++) { t = x[i] * 2; y[i] = t; } return t; }
double condlast(int n, const double *x, double *y) { double t = 0; for (int i = 0; i < n; i++) { if (x[i] > 0) t = x[i]; y[i] = 1; } return t; }
void c89(int n, int m, const double *a, double *b) { int i, j; double s; for (i = 0; i < n; i++) { s = 0; for (j = 0; j < m; j++) s += a[i*m+j]; b[i] = s; } }
"""


@pytest.mark.parametrize("fn,var,op", [
    ("sum", "s", "+"), ("prod", "p", "*"), ("mx", "m", "max"), ("mn", "m", "min"), ("fm", "m", "max"),
    ("all", "ok", "&&"), ("any", "f", "||"), ("cnt", "c", "+"), ("sub", "s", "+"),
])
def test_reductions(fn, var, op):
    t = task(RED, fn)
    lp = t.analysis["loops"][0]
    assert lp["parallel"], lp["reason"]
    assert lp["reductions"] == [{"var": var, "op": op}]


def test_non_reductions_stay_sequential():
    # argmax with its index is an idiom of its own now (issue 22): parallel, merged by value then index
    lp = task(RED, "argmax").analysis["loops"][0]
    assert lp["parallel"] and lp["argminmax"] == {"op": "max", "value": "m", "index": "k"}
    assert "prefix sum" in task(RED, "scan").analysis["reason"]
    assert "conditionally" in task(RED, "condlast").analysis["reason"]


def test_privatization():
    lp = task(RED, "tmp").analysis["loops"][0]
    assert lp["parallel"] and lp["private"] == ["t"]
    lp = task(RED, "last").analysis["loops"][0]
    assert lp["parallel"] and lp["lastprivate"] == ["t"]
    lp = task(RED, "c89").analysis["loops"][0]
    assert lp["parallel"] and sorted(lp["private"]) == ["j", "s"]


def test_histogram_is_an_array_reduction():
    src = "void h(int n, const int *x, int nb, int *hist) { for (int i = 0; i < n; i++) hist[x[i]] += 1; }"
    lp = task(src, "h").analysis["loops"][0]
    assert lp["parallel"] and lp["reductions"] == [{"var": "hist", "op": "+", "array": True}]


def test_schedule_collapse_simd_hints():
    src = """
void tri(int n, const double *a, double *y) { for (int i = 0; i < n; i++) { double s = 0; for (int j = 0; j <= i; j++) s += a[i*n+j]; y[i] = s; } }
void mm(int n, const double *A, const double *B, double *C) {
    for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) { double s = 0; for (int k = 0; k < n; k++) s += A[i*n+k] * B[k*n+j]; C[i*n+j] = s; } }
void mandel(int w, int h, int maxit, int *out) {
    for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) {
        double zr = 0, zi = 0, cr = x * 3.0 / w - 2, ci = y * 2.0 / h - 1; int it = 0;
        while (zr * zr + zi * zi < 4 && it < maxit) { double t = zr * zr - zi * zi + cr; zi = 2 * zr * zi + ci; zr = t; it++; }
        out[y * w + x] = it; } }
"""
    lp = task(src, "tri").analysis["loops"][0]
    assert lp["schedule"] == "guided" and lp["collapse"] == 1
    t = task(src, "mm")
    assert t.analysis["loops"][0]["collapse"] == 2 and t.analysis["loops"][2]["simd"]
    t = task(src, "mandel")
    assert t.analysis["loops"][0]["schedule"] == "guided" and t.analysis["loops"][0]["collapse"] == 2
    assert params(t)["maxit"].values.kind == ValueKind.SIZE


# ---------------------------------------------------------------- blockers

BLOCK = """
#include <math.h>
#include <stdio.h>
double ext(double);
static double sq(double v) { return v * v; }
int find(int n, const int *x, int v) { for (int i = 0; i < n; i++) if (x[i] == v) return i; return -1; }
int brk(int n, const int *x) { int i; int k = n; for (i = 0; i < n; i++) if (x[i] < 0) { k = i; break; } return k; }
void unk(int n, double *y) { for (int i = 0; i < n; i++) y[i] = ext(y[i]); }
void io(int n, double *y) { for (int i = 0; i < n; i++) printf("%f", y[i]); }
void math(int n, double *y) { for (int i = 0; i < n; i++) y[i] = sqrt(fabs(y[i])) + pow(y[i], 2.0); }
void user(int n, double *y) { for (int i = 0; i < n; i++) y[i] = sq(y[i]); }
void inner_break(int n, int m, const int *a, int *first) {
    for (int i = 0; i < n; i++) { int f = -1; for (int j = 0; j < m; j++) if (a[i*m + j]) { f = j; break; } first[i] = f; } }
"""


@pytest.mark.parametrize("fn,parallel,why", [
    ("find", False, "early return"), ("brk", False, "break"), ("unk", False, "call to 'ext'"),
    ("io", False, "printf"), ("math", True, ""), ("user", True, ""), ("inner_break", True, ""),
])
def test_blockers(fn, parallel, why):
    t = task(BLOCK, fn)
    lp = t.analysis["loops"][0]
    assert lp["parallel"] is parallel, lp["reason"]
    assert why in lp["reason"]


def test_no_loops_is_a_reason_not_an_error():
    t = task("int add(int a, int b) { return a + b; }", "add")
    assert t.analysis["parallel"] is False and "no loops" in t.analysis["reason"]
    with pytest.raises(NotParallelizable, match="no loops"):
        RuleBasedTranslator().propose(t, Target.OPENMP)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("src,fn,lang,msg", [
    ("void f(int n, double *a) { for (int i = 0; i < n; i++) a[i] = ; }", "f", "c", "parse error"),
    ("void g(void) {}", "f", "c", "not found"),
    ("template <typename T> void f(T *a, int n) { for (int i = 0; i < n; i++) a[i] = 0; }", "f", "cpp", "template"),
    ("struct A { void f(int n) { } };", "f", "cpp", "member function"),
    ("#define SQ(x) ((x)*(x))\nvoid f(int n, double *a){ for(int i=0;i<n;i++) a[i]=SQ(a[i]); }", "f", "c", "macro"),
    ("#define REAL float\nvoid f(int n, REAL *a){ for(int i=0;i<n;i++) a[i]=0; }", "f", "c", "macro"),
    ("int f(a, b) int a; double *b; { return a; }", "f", "c", "K&R"),
    ("struct P { double x; }; void f(struct P *p, int n) { }", "f", "c", "unsupported parameter type"),
    ("void f(char *s, int n) { }", "f", "c", "char*"),
    ("void f(double **a, int n) { }", "f", "c", "2-D"),
    ("void f(double a[][4], int n) { }", "f", "c", "2-D"),
    ("void f(double (*g)(double), int n) { }", "f", "c", "function pointer"),
    ("#include <vector>\nvoid f(std::vector<double> x) { }", "f", "cpp", "by value"),
    ("#include <vector>\nvoid f(std::vector<std::vector<bool>> &x) { }", "f", "cpp", "bool"),   # written vector<bool>: tests/test_cpp_members.py
    ("void f(int n, double *a) { for (int i = 0; i < n; i++) a[i] = undefined_thing; }", "f", "c", "unknown identifier"),
])
def test_bad_input_is_one_clear_error(src, fn, lang, msg):
    with pytest.raises(AnalysisError) as ei:
        build_task(src, lang, fn)
    text = str(ei.value)
    assert msg in text and "\n" not in text


def test_object_like_macro_constants_are_understood():
    t = task("#define N 100\nvoid f(double *a) { for (int i = 0; i < N; i++) a[i] = i; }", "f")
    assert params(t)["a"].extent == "100" and t.analysis["parallel"]


def test_unsupported_constructs_keep_loops_sequential():
    src = """void f(int n, double *a, double *b) {
    for (int i = 0; i < n; i++) { double *p = a + i; p++; *p = b[i]; }
    for (int i = 0; i < n; i++) { switch (i % 2) { case 0: a[i] = 1; break; default: a[i] = 2; } }
    for (int i = 0; i < n; i++) { goto out; }
out: ;
}"""
    t = task(src, "f")
    l1, l2, l3 = t.analysis["loops"]
    assert not l1["parallel"] and "row pointer 'p' reassigned" in l1["reason"]
    assert l2["parallel"]          # a break inside switch does not leave the loop
    assert not l3["parallel"] and "goto" in l3["reason"]


def test_range_for_over_vectors():
    src = """#include <vector>
void sq(std::vector<double> &x) { for (auto &v : x) v = v * v; }
double total(std::vector<double> const& x) { double s = 0; for (double v : x) s += v; return s; }
void shift(std::vector<double> &x, std::vector<double> const& y) { for (auto &v : x) v = y[0] + v; }
"""
    t = task(src, "sq", "cpp")
    assert t.analysis["parallel"] and params(t)["x"].role == Role.INOUT and params(t)["x"].extent == "N"
    assert t.analysis["loops"][0]["bounds"] == ["0", "< x.size()", 1]
    t = task(src, "total", "cpp")
    assert t.analysis["loops"][0]["reductions"] == [{"var": "s", "op": "+"}]
    t = task(src, "shift", "cpp")
    assert t.analysis["parallel"] and params(t)["y"].extent == "1"


def test_while_loop_in_for_form():
    src = """
void relu(int n, const float *x, float *y) { int i = 0; while (i < n) { y[i] = x[i] > 0 ? x[i] : 0; i++; } }
void cont(int n, const float *x, float *y) { int i = 0; while (i < n) { if (x[i] < 0) { i++; continue; } y[i] = 1; i++; }
    for (int k = 0; k < n; k++) y[k] += x[k]; }
"""
    t = task(src, "relu")
    assert t.analysis["parallel"] and params(t)["y"].role == Role.OUT
    assert not task(src, "cont").analysis["loops"][0]["parallel"]


def test_guards_tighten_extents():
    src = """
void j2(int n, int m, const double *in, double *out) {
    for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) {
        if (i == 0 || j == 0 || i == n - 1 || j == m - 1) { out[i*m + j] = in[i*m + j]; continue; }
        out[i*m + j] = in[(i-1)*m + j] + in[(i+1)*m + j] + in[i*m + j - 1] + in[i*m + j + 1];
    }
}
void conv(int n, int k, const float *x, const float *w, float *y) {
    for (int i = 0; i < n; ++i) { float acc = 0; for (int j = 0; j < k; ++j) { int s = i + j - k / 2;
        if (s >= 0 && s < n) acc += w[j] * x[s]; } y[i] = acc; }
}
static int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }
void blur(int w, int h, const float *img, float *out) {
    for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) { int yy = clampi(y, 0, h - 1); out[y*w + x] = img[yy*w + x]; }
}
"""
    p = params(task(src, "j2"))
    assert p["in"].extent == "m*n" and p["out"].extent == "m*n"
    assert params(task(src, "conv"))["x"].extent == "n"
    # the clamped subscript is not affine: img (read only) is assumed as large as out, and says so
    t = task(src, "blur")
    assert params(t)["img"].extent == "h*w"


def test_local_arrays_inside_the_loop_are_private():
    src = """void f(int n, const double *x, double *y) {
    for (int i = 0; i < n; i++) { double t[3]; for (int k = 0; k < 3; k++) t[k] = x[i] * k; y[i] = t[0] + t[2]; }
}
void g(int n, const double *x, double *y) {
    double t[3];
    for (int i = 0; i < n; i++) { for (int k = 0; k < 3; k++) t[k] = x[i] * k; y[i] = t[0] + t[2]; }
}"""
    assert task(src, "f").analysis["loops"][0]["parallel"]
    lp = task(src, "g").analysis["loops"][0]
    assert not lp["parallel"] and "t[k]" in lp["reason"]


def test_lastprivate_needs_a_write_on_every_path_through_the_iteration():
    src = """
double f(int n, const double *x, double *y) { double t = 0; for (int i = 0; i < n; i++) { if (x[i] < 0) continue; t = x[i]; y[i] = t; } return t; }
double g(int n, const double *x, double *y) { double t = 0; for (int i = 0; i < n; i++) { t = x[i]; if (x[i] < 0) continue; y[i] = t; } return t; }
"""
    lp = task(src, "f").analysis["loops"][0]
    assert not lp["parallel"] and "conditionally" in lp["reason"]
    lp = task(src, "g").analysis["loops"][0]
    assert lp["parallel"] and lp["lastprivate"] == ["t"]


BLUR = """
static int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }
void blur(int w, int h, const float *img, float *out) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float acc = 0.0f;
            for (int dy = -1; dy <= 1; dy++)
                acc += img[(long)clampi(y + dy, 0, h - 1) * w + x];
            out[(long)y * w + x] = acc / 3.0f;
        }
}
void bad(int w, int h, const float *img, float *out) {
    for (int y = 0; y < h; y++)
        out[clampi(y, 0, h - 1) * w] = img[y * w];
}
"""


def test_read_only_array_behind_a_helper_call_takes_its_peer_extent():
    t = build_task(BLUR, "c", "blur", Target.OPENMP, "blur.c")
    ext = {p.name: p.extent for p in t.signature.params if p.is_array}
    assert ext == {"img": "h*w", "out": "h*w"}
    # a written array indexed that way is not guessed: its extent decides what is copied back
    with pytest.raises(AnalysisError, match="not affine"):
        build_task(BLUR, "c", "bad", Target.OPENMP, "blur.c")


def test_negative_literal_bounds_are_constants():
    # tree-sitter-c reads `-1` as one number literal: a stencil's -1..1 window has a constant trip count,
    # so the pixel loops are not "varying work" (static schedule, no per-chunk dispatch)
    src = """void box(int w, int h, const float *a, float *b) {
    for (int y = 1; y < h - 1; y++)
        for (int x = 1; x < w - 1; x++) {
            float s = 0;
            for (int d = -1; d <= 1; d++) s += a[(y + d) * w + x];
            b[y * w + x] = s;
        }
}"""
    t = task(src, "box")
    assert t.analysis["loops"][0]["schedule"] == "static"
    assert params(t)["a"].extent == "h*w"

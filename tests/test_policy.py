import pytest

from paralift.sandbox import VerifyOptions, verify
from paralift.sandbox.policy import check, strip_comments_and_strings
from paralift.types import Candidate, Target

from conftest import scale_task

SEQ = "void f(int n, double *y) {\n  for (int i = 0; i < n; i++) y[i] = 2.0 * y[i];\n}\n"


def omp(extra_body: str = "", top: str = "") -> str:
    return (top + "#include <omp.h>\nvoid f(int n, double *y) {\n" + extra_body +
            "  #pragma omp parallel for\n  for (int i = 0; i < n; i++) y[i] = 2.0 * y[i];\n}\n")


@pytest.mark.parametrize("body, what", [
    ('  FILE *fp = fopen("x", "w");\n', "file access"),
    ('  const char *h = getenv("HOME");\n', "environment access"),
    ("  if (fork() == 0) {}\n", "process creation"),
    ('  system("ls");\n', "process creation"),
    ("  pthread_create(0, 0, 0, 0);\n", "thread creation"),
    ("  double t = omp_get_wtime();\n", "timer use"),
    ("  clock_gettime(0, 0);\n", "timer use"),
    ("  int s = socket(2, 1, 0);\n", "network access"),
    ('  __asm__("nop");\n', "inline assembly"),
    ("  static double cache[100];\n", "keeps state between calls"),
])
def test_forbidden_things_are_named(body, what):
    problems = check(omp(body), Target.OPENMP, "f", SEQ)
    assert any(what in p for p in problems), problems


def test_a_clean_candidate_passes():
    assert check(omp(), Target.OPENMP, "f", SEQ) == []


def test_model_must_be_used():
    assert any("does not use openmp" in p for p in check(SEQ, Target.OPENMP, "f", SEQ))
    assert any("does not use mpi" in p for p in check(SEQ, Target.MPI, "f", SEQ))
    assert any("does not use cuda" in p for p in check(SEQ, Target.CUDA, "f", SEQ, "cpp"))


def test_pragmas_in_comments_and_strings_do_not_count():
    code = '/* #pragma omp parallel for */\nconst char *s = "#pragma omp parallel";\n' + SEQ
    assert any("does not use openmp" in p for p in check(code, Target.OPENMP, "f", SEQ))


def test_what_the_sequential_code_already_does_is_allowed():
    seq = SEQ + 'int main(void) { FILE *fp = fopen("in.txt", "r"); return fp == 0; }\n'
    cand = omp() + 'int main(void) { FILE *fp = fopen("in.txt", "r"); return fp == 0; }\n'
    assert check(cand, Target.OPENMP, "f", seq) == []


def test_mpi_init_in_the_function_is_refused():
    code = "#include <mpi.h>\nvoid f(int n, double *y) { MPI_Init(0, 0); MPI_Bcast(y, n, MPI_DOUBLE, 0, MPI_COMM_WORLD); }\n"
    assert any("MPI_Init" in p for p in check(code, Target.MPI, "f", SEQ))


def test_cuda_for_c_input_needs_extern_c():
    code = "__global__ void k(double *y) {}\nvoid f(int n, double *y) { k<<<1, 1>>>(y); }\n"
    assert any('extern "C"' in p for p in check(code, Target.CUDA, "f", SEQ, "c"))
    assert not any('extern "C"' in p for p in check('extern "C" ' + code, Target.CUDA, "f", SEQ, "c"))


def test_strip_keeps_lines():
    code = 'a // x\n/* y\n z */ b "s//t" c\n'
    stripped = strip_comments_and_strings(code)
    assert stripped.count("\n") == code.count("\n")
    assert "x" not in stripped and "y" not in stripped and "s//t" not in stripped


def test_verify_refuses_a_policy_violation_before_running():
    v = verify(scale_task(), Candidate(omp("  double t = omp_get_wtime(); (void)t;\n"), Target.OPENMP),
               options=VerifyOptions(timing=False))
    assert v.status == "failed" and not v.policy_ok and not v.built
    assert "timer use" in v.reason


def test_static_device_helpers_are_checked_in_linear_time():
    import time
    helper = "static __host__ __device__ inline int clampi(int a, int lo, int hi) { return a < lo ? lo : a > hi ? hi : a; }\n"
    code = helper * 50 + "__global__ void k(double *y) {}\n" + 'extern "C" void f(int n, double *y) { k<<<1, 1>>>(y); }\n'
    t0 = time.perf_counter()
    problems = check(code, Target.CUDA, "f", SEQ, "c")
    assert time.perf_counter() - t0 < 1.0
    assert not any("keeps state" in p for p in problems)

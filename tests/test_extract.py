"""Code extraction from completions, signature checks and candidate assembly (no model needed)."""
import pytest

from paralift.agents import build_task
from paralift.agents.extract import (ExtractionError, build_translation_unit, check_signature, extract_code,
                                     extract_json, parse_params, split_functions)
from paralift.agents import prompts
from paralift.agents.prompts import compact_prompt, translator_messages, translator_prompt
from paralift.types import Target

SAXPY = """#include <stdio.h>
#include <math.h>

static float sq(float v) { return v * v; }

void saxpy(int n, float a, const float *x, float *y)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

int main(void)
{
    float x[4] = {1, 2, 3, 4}, y[4] = {0};
    saxpy(4, 2.0f, x, y);
    printf("%f %f\\n", y[0], sq(y[1]));
    return 0;
}
"""

OMP_FN = """void saxpy(int n, float a, const float *x, float *y)
{
    #pragma omp parallel for
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}
"""


@pytest.fixture(scope="module")
def task():
    return build_task(SAXPY, "c", "saxpy", Target.OPENMP)


# ------------------------------------------------------------------ extraction

def test_fenced_block_with_prose_around():
    text = f"Sure! Here it is:\n\n```c\n{OMP_FN}```\n\nThis parallelizes the loop."
    assert extract_code(text, "c", "saxpy") == OMP_FN


def test_code_continuing_an_opened_fence():
    # the plain prompt ends with "```c\n": the completion is code, then a closing fence and chatter
    text = OMP_FN + "```\n### Sequential\n```c\nint other(void) { return 1; }\n```"
    assert extract_code(text, "c", "saxpy") == OMP_FN


def test_unclosed_fence_is_partial_output():
    text = "```cpp\n" + OMP_FN
    assert extract_code(text, "cpp", "saxpy") == OMP_FN


def test_bare_code_with_prose():
    text = "The answer is below.\n" + OMP_FN + "\nThat's all, hope it helps.\n"
    assert extract_code(text, "c", "saxpy").strip() == OMP_FN.strip()


def test_prefers_block_defining_the_function_and_keeps_its_kernel():
    kernel = "__global__ void k(int n, float a, const float *x, float *y) { int i = threadIdx.x; if (i < n) y[i] += a * x[i]; }\n"
    host = ('extern "C" void saxpy(int n, float a, const float *x, float *y) {\n'
            "  k<<<1, 256>>>(n, a, x, y);\n}\n")
    text = f"Kernel:\n```cuda\n{kernel}```\nUsage example:\n```c\nint main() {{ return 0; }}\n```\nHost:\n```cuda\n{host}```"
    code = extract_code(text, "c", "saxpy")
    assert "__global__ void k" in code and "k<<<1, 256>>>" in code and "int main" not in code


def test_last_revision_wins():
    first = OMP_FN.replace("parallel for", "parallel for schedule(dynamic)")
    text = f"```c\n{first}```\nActually, static is better:\n```c\n{OMP_FN}```"
    assert extract_code(text, "c", "saxpy") == OMP_FN


def test_no_code_raises():
    with pytest.raises(ExtractionError, match="no code"):
        extract_code("I cannot help with that.", "c", "saxpy")


def test_split_functions_handles_comments_strings_structs_and_extern_c():
    code = ('/* void fake(int a) { } */\n#define M(x) { x }\nstruct S { int v; };\n'
            'const char *s = "int g() { return 0; }";\n'
            'extern "C" {\nint f(int a) { if (a) { return 1; } return "}"[0]; }\n}\n'
            'namespace ns { double h(double x) { return x; } }\n'
            'int k(void) { struct S s = {1}; return s.v; }\nint cut(int n) { for (;;) {')
    spans, truncated = split_functions(code)
    assert [s.name for s in spans] == ["f", "h", "k"]
    assert spans[0].in_extern_c and not spans[2].in_extern_c
    assert truncated == "cut"


# ------------------------------------------------------------------ signatures

def test_parse_params_canonicalizes_equivalent_spellings():
    a = parse_params("int n, float a, const float * restrict x, float y[]")
    b = parse_params("int n, float a, float const *x, float *__restrict__ y")
    assert [t for t, _ in a] == [t for t, _ in b]
    assert [n for _, n in a] == ["n", "a", "x", "y"]
    assert parse_params("void") == [] and parse_params("") == []
    assert parse_params("std::vector<double> const &x, std::map<int, int> &m")[1][1] == "m"


def test_signature_kept(task):
    assert check_signature(OMP_FN, task.signature) is None
    renamed = OMP_FN.replace("float *y", "float *out").replace("y[i]", "out[i]")
    assert check_signature(renamed, task.signature) is None      # names may differ
    assert check_signature('extern "C" ' + OMP_FN, task.signature) is None


@pytest.mark.parametrize("change, reason", [
    (("float a", "double a"), "parameter 2 of saxpy() is 'double', was 'float'"),
    (("int n, ", ""), "takes 3 parameter(s), the original takes 4"),
    (("void saxpy", "int saxpy"), "returns 'int', was 'void'"),
    (("void saxpy", "void saxpy_omp"), "does not define saxpy()"),
    (("void saxpy", "__global__ void saxpy"), "became a __global__ function"),
    (("const float *x", "const float *y"), "names two parameters 'y'"),
])
def test_signature_changes_are_reasons(task, change, reason):
    bad = OMP_FN.replace(*change)
    assert reason in check_signature(bad, task.signature)


def test_truncated_and_duplicate_definitions(task):
    assert "truncated" in check_signature(OMP_FN[:-3], task.signature)
    assert "2 times" in check_signature(OMP_FN + OMP_FN, task.signature)


# ------------------------------------------------------------------ translation units

def test_openmp_unit_splices_into_original(task):
    unit = build_translation_unit(task, "#include <omp.h>\n" + OMP_FN, Target.OPENMP)
    assert unit.count("void saxpy") == 1 and "#pragma omp parallel for" in unit
    assert "int main(void)" in unit and "static float sq" in unit        # the rest of the file is kept
    assert unit.index("#include <omp.h>") < unit.index("void saxpy")
    assert build_translation_unit(task, OMP_FN, Target.OPENMP).count("omp.h") == 0   # pragmas need no header


def test_openmp_unit_keeps_new_helpers_and_drops_redefinitions(task):
    code = ("static float sq(float v) { return v * v; }\n"
            "static int chunk(int n) { return n / 2; }\n" + OMP_FN + "int main(void) { return 1; }\n")
    unit = build_translation_unit(task, code, Target.OPENMP)
    assert unit.count("static float sq") == 1 and unit.count("int main") == 1
    assert unit.index("static int chunk") < unit.index("void saxpy")


def test_mpi_unit_adds_mpi_header(task):
    unit = build_translation_unit(task, OMP_FN.replace("#pragma omp parallel for", "MPI_Barrier(MPI_COMM_WORLD);"),
                                  Target.MPI)
    assert "#include <mpi.h>" in unit and unit.index("#include <mpi.h>") < unit.index("void saxpy")


def test_cuda_unit_gets_extern_c_includes_and_helpers(task):
    cu = ("__global__ void k(int n, float a, const float *x, float *y) { int i = threadIdx.x; "
          "if (i < n) y[i] = a * x[i] + sq(y[i]); }\n"
          "void saxpy(int n, float a, const float *x, float *y);\n"
          "void saxpy(int n, float a, const float *x, float *y) { k<<<1, 32>>>(n, a, x, y); }\n"
          "int main() { return 0; }\n")
    unit = build_translation_unit(task, cu, Target.CUDA)
    assert 'extern "C" void saxpy(int n, float a, const float *x, float *y) {' in unit
    assert 'extern "C" void saxpy(int n, float a, const float *x, float *y);' in unit
    assert "int main" not in unit and "#include <math.h>" in unit
    assert "static float sq(float v)" in unit                 # the original's helper it calls
    already = build_translation_unit(task, 'extern "C" {\n' + cu.replace("int main() { return 0; }\n", "") + "}\n",
                                     Target.CUDA)
    assert already.count('extern "C"') == 1


def test_cpp_cuda_unit_gets_no_extern_c():
    src = ("#include <vector>\nvoid scale(std::vector<double> &x, double a) {\n"
           "  for (size_t i = 0; i < x.size(); i++) x[i] *= a;\n}\n")
    t = build_task(src, "cpp", "scale", Target.CUDA)
    unit = build_translation_unit(t, "void scale(std::vector<double> &x, double a) { k<<<1,1>>>(); }\n", Target.CUDA)
    assert 'extern "C"' not in unit and "#include <vector>" in unit


def test_extract_json():
    assert extract_json('Here:\n```json\n{"cases": [{"name": "a"}]}\n```') == {"cases": [{"name": "a"}]}
    assert extract_json('noise [1, 2] more') == [1, 2]
    with pytest.raises(ExtractionError):
        extract_json("nothing")


# ------------------------------------------------------------------ prompts

@pytest.mark.parametrize("target", list(Target))
def test_prompts_name_the_convention_signature_and_source(task, target):
    msgs = translator_messages(task, target)
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert task.signature.text in msgs[-1]["content"] and "y[i] = a * x[i] + y[i];" in msgs[-1]["content"]
    assert {"openmp": "-fopenmp", "mpi": "rank 0", "cuda": 'extern "C"'}[target.value] in msgs[0]["content"]
    plain = translator_prompt(task, target)
    assert plain.endswith("```" + ("cuda" if target == Target.CUDA else "c") + "\n")
    assert "#include <stdio.h>" in msgs[-1]["content"]          # declarations before the function
    assert "n" in prompts.tester_messages(task, target)[-1]["content"]
    assert prompts.tester_prompt(task, target).endswith("```json\n")
    assert compact_prompt(OMP_FN, target).startswith("### Sequential")


# ---------------------------------------------------------------------------
# directive (edit) format
# ---------------------------------------------------------------------------

HIST = """void histogram(int n, int nbins, const int *bin, int *hist)
{
    for (int b = 0; b < nbins; b++) hist[b] = 0;   // for each bin
    for (int i = 0; i < n; i++) {
        hist[bin[i]]++;
    }
}
"""


def test_number_loops_marks_for_keywords_only():
    from paralift.agents.extract import loop_positions, number_loops
    code = 'void f(int n, int *a) {\n    /* for */ char *s = "for";\n    for (int i = 0; i < n; i++)\n' \
           '        for (int j = 0; j < n; j++) a[i] += j;\n}\n'
    assert len(loop_positions(code)) == 2
    numbered = number_loops(code)
    assert "/*L1*/ for (int i" in numbered and "/*L2*/ for (int j" in numbered
    assert '"for"' in numbered and "/* for */" in numbered


def test_apply_directives_inserts_before_loops_and_bodies():
    from paralift.agents.extract import apply_directives
    out = apply_directives(HIST, "L1: #pragma omp parallel for\nL2: #pragma omp parallel for\n"
                                 "L2.body: #pragma omp atomic\n```")
    lines = [l.strip() for l in out.splitlines()]
    assert lines[2:4] == ["#pragma omp parallel for", "for (int b = 0; b < nbins; b++) hist[b] = 0;   // for each bin"]
    assert lines[4:8] == ["#pragma omp parallel for", "for (int i = 0; i < n; i++) {", "#pragma omp atomic",
                          "hist[bin[i]]++;"]
    # a loop body on the header's line is split so the directive has a line of its own
    one = apply_directives(HIST, "L1.body: #pragma omp critical")
    assert "for (int b = 0; b < nbins; b++)\n    #pragma omp critical\n    hist[b] = 0;" in one


@pytest.mark.parametrize("text, why", [
    ("L3: #pragma omp parallel for", "has 2 loop"),
    ("L1: #pragma omp parallel for\nL1: #pragma omp simd", "two directives"),
    ("L1: #pragma acc kernels", "not a directive line"),
    ("sure! here it is", "not a directive line"),
    ("```", "names no directive"),
])
def test_apply_directives_rejects_bad_completions(text, why):
    from paralift.agents.extract import apply_directives
    with pytest.raises(ExtractionError, match=why):
        apply_directives(HIST, text)


def test_directives_for_recovers_the_rule_agents_pragmas():
    from paralift.agents import RuleBasedTranslator
    from paralift.agents.extract import apply_directives, directives_for, find_definition
    # restrict: bins and samples apart, so no entry test for overlapping arguments (which is not a directive)
    hist = HIST.replace("int *hist", "int *restrict hist")
    src = "#include <stdio.h>\n" + hist
    task = build_task(src, "c", "histogram", Target.OPENMP)
    cand = RuleBasedTranslator().propose(task, Target.OPENMP)[0]
    target = find_definition(cand.code, "histogram").text(cand.code)
    d = directives_for(hist, target)
    if d is not None:       # the rule agent's histogram may privatize its bins (code, not directives)
        assert d.startswith("L1: #pragma omp parallel for")
        assert " ".join(apply_directives(hist, d).split()) == " ".join(target.split())
    # loop and body directives are recovered from a target that only inserts them
    lines = hist.splitlines()
    k = next(i for i, l in enumerate(lines) if "hist[bin[i]]++" in l)
    loop = next(i for i in range(k, -1, -1) if lines[i].lstrip().startswith("for"))
    ind = lines[k][:len(lines[k]) - len(lines[k].lstrip())]
    atomic = lines[:loop] + ["    #pragma omp parallel for"] + lines[loop:k] + [ind + "#pragma omp atomic"] + lines[k:]
    d = directives_for(hist, "\n".join(atomic))
    assert d is not None and "#pragma omp parallel for" in d and ".body: #pragma omp atomic" in d, d
    assert " ".join(apply_directives(hist, d).split()) == " ".join("\n".join(atomic).split())
    # a target that changes code (not pure insertions) has no directive form
    assert directives_for(HIST, HIST.replace("hist[b] = 0", "hist[b] = 1")) is None


def test_directive_prompt_numbers_loops():
    from paralift.agents.prompts import directive_prompt
    p = directive_prompt(HIST, Target.OPENMP, "c")
    assert p.startswith("### Sequential\n```c\nvoid histogram(") and p.endswith("### OpenMP directives\n```\n")
    assert "/*L1*/ for (int b" in p and "/*L2*/ for (int i" in p
    with pytest.raises(ValueError):
        directive_prompt(HIST, Target.MPI, "c")

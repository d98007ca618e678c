"""Prompts for the translator and tester agents, per target.

Two forms of each: chat messages (system + a one-shot exchange + the task) for
models with a chat template, and one plain-text prompt for base models, which
ends by opening a code fence so that the completion *is* the code (stop at
"```"). The target conventions are DESIGN.md §3's.
"""
from __future__ import annotations

import json
import re

from paralift.types import Signature, Target, Task

__all__ = ["CONVENTIONS", "EXAMPLES", "function_source", "translator_messages", "translator_prompt",
           "tester_messages", "tester_prompt", "STOP", "fence_lang", "target_label", "compact_prompt",
           "directive_prompt", "plan_prompt"]

STOP = ["```"]

CONVENTIONS = {
    Target.OPENMP: (
        "Target: OpenMP. The result is the same C/C++ file compiled with -fopenmp. Keep the function's name "
        "and signature exactly; results must equal the sequential ones for any number of threads (use "
        "reduction clauses, private variables, no data races). Parallelize with `#pragma omp` constructs."),
    Target.MPI: (
        "Target: MPI. The function is called by every rank between MPI_Init and MPI_Finalize (the caller does "
        "both; never call them yourself). Every rank passes the same complete inputs; on return the outputs "
        "(written arrays and the return value) must be correct on rank 0. Split the work across ranks of "
        "MPI_COMM_WORLD and combine the results with MPI communication (MPI_Reduce, MPI_Gatherv, ...). Handle "
        "sizes that do not divide evenly and sizes smaller than the number of ranks. Keep the name and signature."),
    Target.CUDA: (
        "Target: CUDA. Write a .cu file whose function keeps the name and signature, takes host pointers, and "
        "itself allocates device memory, copies inputs, launches one or more __global__ kernels, synchronizes, "
        "copies results back and frees device memory. Check the error code of every CUDA call. For C input the "
        "function is declared extern \"C\" so a C caller links against it unchanged. Handle any size, "
        "including 0 and sizes that are not a multiple of the block size."),
}

_COMMON_RULES = ("Do not read files or the environment, spawn threads or processes, call timers, or keep state "
                 "between calls. Answer with one code block and nothing else.")

_EXAMPLE_SEQ = """double sum_sq(int n, const double *x)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i] * x[i];
    return s;
}
"""

EXAMPLES = {
    Target.OPENMP: """double sum_sq(int n, const double *x)
{
    double s = 0.0;
    #pragma omp parallel for reduction(+:s) schedule(static)
    for (int i = 0; i < n; i++)
        s += x[i] * x[i];
    return s;
}
""",
    Target.MPI: """#include <mpi.h>

double sum_sq(int n, const double *x)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int lo = (int)((long long)n * rank / size);
    int hi = (int)((long long)n * (rank + 1) / size);
    double local = 0.0;
    for (int i = lo; i < hi; i++)
        local += x[i] * x[i];
    double s = 0.0;
    MPI_Reduce(&local, &s, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    return s;
}
""",
    Target.CUDA: """#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>

#define CUDA_CHECK(call) do { cudaError_t err_ = (call); if (err_ != cudaSuccess) { \\
    fprintf(stderr, "CUDA error %s at %s:%d\\n", cudaGetErrorString(err_), __FILE__, __LINE__); exit(1); } } while (0)

__global__ void sum_sq_kernel(int n, const double *x, double *out)
{
    __shared__ double part[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    part[threadIdx.x] = i < n ? x[i] * x[i] : 0.0;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s)
            part[threadIdx.x] += part[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        atomicAdd(out, part[0]);
}

extern "C" double sum_sq(int n, const double *x)
{
    double s = 0.0;
    if (n <= 0)
        return s;
    double *d_x, *d_out;
    CUDA_CHECK(cudaMalloc(&d_x, (size_t)n * sizeof(double)));
    CUDA_CHECK(cudaMalloc(&d_out, sizeof(double)));
    CUDA_CHECK(cudaMemcpy(d_x, x, (size_t)n * sizeof(double), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(d_out, 0, sizeof(double)));
    sum_sq_kernel<<<(n + 255) / 256, 256>>>(n, d_x, d_out);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(&s, d_out, sizeof(double), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(d_x));
    CUDA_CHECK(cudaFree(d_out));
    return s;
}
""",
}


def target_label(target: Target) -> str:
    return {Target.OPENMP: "OpenMP", Target.MPI: "MPI", Target.CUDA: "CUDA"}[target]


def fence_lang(target: Target, language: str) -> str:
    if target == Target.CUDA:
        return "cuda"
    return "cpp" if language == "cpp" else "c"


def function_source(task: Task) -> str:
    """The function's definition as written in the original file."""
    sig = task.signature
    lines = task.source.splitlines()
    if sig.start_line and sig.end_line:
        return "\n".join(lines[sig.start_line - 1:sig.end_line]).strip("\n") + "\n"
    from .extract import ExtractionError, find_definition
    try:
        return find_definition(task.source, task.function).text(task.source) + "\n"
    except ExtractionError:
        return task.source


def file_context(task: Task, max_lines: int = 30) -> str:
    """Top-level lines outside function bodies before the function (includes,
    macros, typedefs, globals), so the model sees the names the function uses."""
    from .extract import split_functions
    spans, _ = split_functions(task.source)
    start = task.signature.start_line or 0
    src = task.source
    kept = []
    pos = 0
    for s in sorted(spans, key=lambda s: s.start):
        if start and src.count("\n", 0, s.start) + 1 >= start:
            break
        kept.append(src[pos:s.start])
        pos = s.end
    if start:
        until = sum(len(l) for l in src.splitlines(keepends=True)[:start - 1])
        kept.append(src[pos:until] if until > pos else "")
    text = "".join(kept)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = [l for l in text.splitlines() if l.strip() and not l.strip().startswith("//")]
    return "\n".join(lines[:max_lines])


def analysis_notes(task: Task, max_items: int = 6) -> str:
    loops = (task.analysis or {}).get("loops") or []
    notes = []
    for lp in loops[:max_items]:
        if lp.get("depth", 0) > 1 and not lp.get("parallel"):
            continue
        what = "parallel" if lp.get("parallel") else f"not parallel as written ({lp.get('reason') or 'dependence'})"
        red = ", ".join(f"{r['op']} on {r['var']}" for r in lp.get("reductions") or [])
        notes.append(f"- loop at line {lp.get('line')}: {what}" + (f"; reduction {red}" if red else ""))
    return "\n".join(notes)


def _task_text(task: Task, target: Target) -> str:
    lang = "C++" if task.language == "cpp" else "C"
    parts = [f"Translate this sequential {lang} function to {target_label(target)}.",
             f"Signature to keep exactly: `{task.signature.text or task.function}`"]
    ctx = file_context(task)
    if ctx:
        parts.append(f"Declarations before it in the file:\n```{fence_lang(Target.OPENMP, task.language)}\n{ctx}\n```")
    notes = analysis_notes(task)
    if notes:
        parts.append("Dependence analysis:\n" + notes)
    parts.append(f"```{fence_lang(Target.OPENMP, task.language)}\n{function_source(task)}```")
    return "\n\n".join(parts)


def translator_messages(task: Task, target: Target) -> list[dict]:
    """Chat form: system (role, convention, rules), one example exchange, the task."""
    lang_fence = fence_lang(target, task.language)
    system = (f"You translate sequential C/C++ functions into correct, fast parallel code. "
              f"{CONVENTIONS[target]} {_COMMON_RULES}")
    shot_user = (f"Translate this sequential C function to {target_label(target)}.\n\n"
                 f"Signature to keep exactly: `double sum_sq(int n, const double *x)`\n\n```c\n{_EXAMPLE_SEQ}```")
    shot_answer = f"```{lang_fence}\n{EXAMPLES[target]}```"
    return [{"role": "system", "content": system},
            {"role": "user", "content": shot_user},
            {"role": "assistant", "content": shot_answer},
            {"role": "user", "content": _task_text(task, target)}]


def translator_prompt(task: Task, target: Target) -> str:
    """Plain form for base models; ends inside an open code fence (stop: ```)."""
    label = target_label(target)
    lang_fence = fence_lang(target, task.language)
    src_fence = fence_lang(Target.OPENMP, task.language)
    return (f"### Task\n{CONVENTIONS[target]}\n\n"
            f"### Sequential\n```c\n{_EXAMPLE_SEQ}```\n### {label}\n```{lang_fence}\n{EXAMPLES[target]}```\n\n"
            f"### Sequential\n```{src_fence}\n{function_source(task)}```\n### {label}\n```{lang_fence}\n")


def compact_prompt(source: str, target: Target, language: str = "c") -> str:
    """The shortest prompt form (no example), used to train and run small models
    with short contexts: the sequential function, then an open fence."""
    label = target_label(target)
    return (f"### Sequential\n```{fence_lang(Target.OPENMP, language)}\n{source.strip()}\n```\n"
            f"### {label}\n```{fence_lang(target, language)}\n")


def directive_prompt(source: str, target: Target, language: str = "c") -> str:
    """The prompt of the directive (edit) format, for small models: the
    sequential function with its loops numbered (`/*L1*/ for ...`), then an
    open fence for the directive list (`L1: #pragma omp parallel for ...`),
    which `paralift.agents.extract.apply_directives` inserts into the original.
    OpenMP only: the other targets need more than insertions."""
    if target != Target.OPENMP:
        raise ValueError("the directive format is for OpenMP only")
    from .extract import number_loops
    return (f"### Sequential\n```{fence_lang(Target.OPENMP, language)}\n{number_loops(source.strip())}\n```\n"
            f"### OpenMP directives\n```\n")


def plan_prompt(source: str, function: str, target: Target, language: str = "c") -> str:
    """The prompt of the plan format (agents.plan), for small models and all
    three targets: the function of file `source` with its loops numbered as
    plans number them (`/*L1*/ for ...`, every loop kind), then an open fence
    for the plan (`L1: parallel reduction(+:s)`), which the target's code
    generator carries out."""
    from .analysis import analyze
    from .plan import number_loops
    numbered = number_loops(analyze(source, language, function)).strip()
    return (f"### Sequential\n```{fence_lang(Target.OPENMP, language)}\n{numbered}\n```\n"
            f"### {target_label(target)} plan\n```\n")


# ---------------------------------------------------------------------------
# tester agent
# ---------------------------------------------------------------------------

_TESTER_FOCUS = {
    Target.OPENMP: "sizes that are not multiples of the thread count, size 0 and 1, and values where a wrong "
                   "reduction or a race would show (mixed signs, large magnitudes)",
    Target.MPI: "sizes smaller than the number of ranks (0, 1, 2), sizes that do not divide evenly among 2 or 3 "
                "ranks, and values where a wrong reduction or a missing remainder would show",
    Target.CUDA: "size 0, sizes just below and above multiples of common block sizes (255, 256, 257, 1025), and "
                 "values where a missing bounds check or a wrong reduction would show",
}

_TESTER_FORMAT = {
    "cases": [{"name": "remainder", "scalars": {"n": 7}, "arrays": {"x": {"dist": "uniform", "lo": -1.0, "hi": 1.0}}}]
}


def _params_text(sig: Signature) -> str:
    rows = []
    for p in sig.params:
        extra = f", {p.extent} elements" if p.extent else ""
        rows.append(f"- {p.name}: {p.kind.value} of {p.base_type}, {p.role.value}{extra}")
    return "\n".join(rows)


def _tester_text(task: Task, target: Target) -> str:
    return (f"Propose test inputs for this function's {target_label(target)} translation. Focus on "
            f"{_TESTER_FOCUS[target]}. Give only inputs: expected outputs come from running the sequential code.\n\n"
            f"Parameters:\n{_params_text(task.signature)}\n\n"
            f"```{fence_lang(Target.OPENMP, task.language)}\n{function_source(task)}```\n\n"
            f"Answer with one JSON object like {json.dumps(_TESTER_FORMAT)}: scalars give scalar parameter "
            f"values; each array gives a distribution (uniform with lo/hi, index, offsets, nonzero); array sizes "
            f"follow from the scalars.")


def tester_messages(task: Task, target: Target) -> list[dict]:
    return [{"role": "system", "content": "You write test inputs that expose bugs in parallel translations. "
                                          "Answer with JSON only."},
            {"role": "user", "content": _tester_text(task, target)}]


def tester_prompt(task: Task, target: Target) -> str:
    return f"### Task\n{_tester_text(task, target)}\n\n### Answer\n```json\n"

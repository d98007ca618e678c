"""Static policy checks on a candidate before anything runs.

A candidate must use its programming model and must not do what would let it
cheat a measurement or harm the machine: files, environment, processes,
threads, timers, sockets, inline assembly, or state kept between calls. The
sandbox is what actually contains a candidate; these checks give a clear
reason early and close the known ways to game a verification (DESIGN.md §6).
"""
from __future__ import annotations

import re

from paralift.types import Target

_FORBIDDEN: list[tuple[str, str]] = [
    (r"\b(fopen|freopen|fdopen|open|openat|creat|unlink|remove|rename|mkdir|opendir|truncate|ftruncate)\s*\(", "file access"),
    (r"\b(std::)?(i|o)?fstream\b|#\s*include\s*<fstream>", "file access"),
    (r"\b(getenv|secure_getenv|setenv|putenv|unsetenv)\s*\(|\benviron\b", "environment access"),
    (r"\b(fork|vfork|clone|clone3|system|popen|posix_spawnp?|exec[lv]p?e?|daemon|kill)\s*\(", "process creation"),
    (r"\b(pthread_create|thrd_create)\s*\(|\bstd::(thread|jthread|async)\b", "thread creation outside the programming model"),
    (r"\b(time|clock|clock_gettime|gettimeofday|omp_get_wtime|MPI_Wtime|timespec_get|__rdtsc|rdtsc|cudaEventElapsedTime)\s*\(|\bstd::chrono\b",
     "timer use"),
    (r"\b(socket|connect|bind|listen|accept|getaddrinfo|gethostbyname)\s*\(", "network access"),
    (r"\b(syscall|dlopen|dlsym|mmap|mprotect|ptrace|prctl|setrlimit|signal|sigaction|sleep|usleep|nanosleep)\s*\(", "system call"),
    (r"\b(asm|__asm__|__asm)\b", "inline assembly"),
    (r"__attribute__\s*\(\(\s*(constructor|destructor)", "code run outside the call"),
    (r"\bMPI_(Init|Init_thread|Finalize)\s*\(", "MPI_Init/MPI_Finalize (the caller does both)"),
]

_USES_MODEL = {
    Target.OPENMP: (r"#\s*pragma\s+omp\b", "no OpenMP construct (#pragma omp ...)"),
    Target.MPI: (r"\bMPI_(Send|Isend|Ssend|Rsend|Bsend|Recv|Irecv|Sendrecv|Bcast|Ibcast|Reduce|Ireduce|Allreduce|Iallreduce|"
                 r"Gather|Gatherv|Igather|Igatherv|Allgather|Allgatherv|Scatter|Scatterv|Alltoall|Alltoallv|Scan|Exscan|"
                 r"Reduce_scatter|Reduce_scatter_block|Put|Get|Accumulate|Win_create)\s*\(",
                 "no MPI communication call"),
    Target.CUDA: (r"<<<[^;]*>>>\s*\(|\bcudaLaunchKernel\s*\(", "no kernel launch"),
}


def strip_comments_and_strings(code: str) -> str:
    """Blank out comments and string/char literals, keeping line structure."""
    out, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            j = code.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif code.startswith("/*", i):
            j = code.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * code.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and code[j] != c:
                j += 2 if code[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _static_variables(text: str) -> list[tuple[int, str]]:
    """(offset, declaration) of each `static` variable (not function, not
    const). A linear scan: a regex with nested repetition here backtracked
    for ever on `static __host__ __device__ inline int f(...)`."""
    found = []
    for m in re.finditer(r"\bstatic\b", text):
        end = m.end()
        stop = len(text)
        for ch in ";({":
            k = text.find(ch, end)
            if 0 <= k < stop:
                stop = k
        if stop >= len(text) or text[stop] != ";":
            # `(`: a function or a call; `{`: a body: not a variable we judge
            # (an initialised array `= {...}` is caught below)
            brace = text.find("{", end)
            eq = text.find("=", end)
            if not (0 <= eq < brace and text[stop] == "{"):
                continue
        decl = " ".join(text[m.start():stop + 1].split())
        words = set(re.findall(r"[A-Za-z_]\w*", decl))
        if words & {"const", "constexpr", "inline", "__shared__", "__constant__", "thread_local", "_Thread_local"}:
            continue
        found.append((m.start(), decl))
    return found


def check(code: str, target: Target, function: str, sequential: str | None = None,
          language: str = "c") -> list[str]:
    """Violations, each one line; empty when the candidate may run."""
    text = strip_comments_and_strings(code)
    seq_text = strip_comments_and_strings(sequential) if sequential else ""
    problems: list[str] = []
    for pattern, what in _FORBIDDEN:
        for m in re.finditer(pattern, text):
            # What the sequential code already does is not the candidate's doing
            # (e.g. a main() that opens a file); only new uses count.
            if seq_text and len(re.findall(re.escape(m.group(0)), seq_text)) >= len(re.findall(re.escape(m.group(0)), text)):
                continue
            line = text.count("\n", 0, m.start()) + 1
            problems.append(f"{what}: `{m.group(0).strip()}` at line {line}")
            break
    pattern, missing = _USES_MODEL[target]
    if not re.search(pattern, text):
        problems.append(f"does not use {target.value}: {missing}")
    if not re.search(r"\b" + re.escape(function) + r"\s*\(", text):
        problems.append(f"does not define function {function!r}")
    if target == Target.CUDA and language == "c" and not re.search(r'extern\s*""', text):
        problems.append('a C caller cannot link it: the function must be declared extern "C"')
    seq_statics = {decl for _, decl in _static_variables(seq_text)}
    for offset, decl in _static_variables(text):
        if decl not in seq_statics:
            line = text.count("\n", 0, offset) + 1
            problems.append(f"keeps state between calls: `{decl[:80]}` at line {line}")
            break
    return problems

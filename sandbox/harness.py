"""Generate the test driver that calls the function under test.

The driver `#include`s the translation unit (so `static` functions work and
the file's own `main` is renamed out of the way), reads each case's inputs
(format: paralift.sandbox.inputs), calls the function `reps` times restoring
written arrays between calls (after one untimed warm-up call when reps > 1),
times only the calls, and writes the outputs of
every case on rank 0. The same driver text serves the sequential reference and
every candidate, so both see byte-identical inputs.

    driver REPS OUTDIR CASE...   reads in/CASE.in, writes OUTDIR/CASE.out and OUTDIR/CASE.time
                                 (and, when REPS > 1, each call's time in OUTDIR/CASE.times)
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from paralift.types import ParamKind, Signature, Target

from .inputs import dtype_of, is_nested, outputs_of

HEADERS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
"""

# The driver's own code is compiled without optimization: at -O2 it was about
# a third of each driver's compile time (sandbox.batch builds thousands), and
# it only moves bytes and reads the clock. The function under test is
# compiled before this region with the build's flags; GCC does not inline
# it into an -O0 caller, so every build, reference and candidate alike, calls
# it as the user's code would. nvcc warns on the pragma (and its host pass
# matters for real GPUs only); clang ignores it.
_GCC_ONLY = "#if defined(__GNUC__) && !defined(__clang__) && !defined(__NVCC__)"
OPT_OFF = f'{_GCC_ONLY}\n#pragma GCC push_options\n#pragma GCC optimize ("O0")\n#endif'
OPT_ON = f"{_GCC_ONLY}\n#pragma GCC pop_options\n#endif"

HELPERS = r"""
static FILE *__pl_open(const char *dir, const char *base, const char *ext, const char *mode) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s%s", dir, base, ext);
  FILE *f = fopen(path, mode);
  if (!f) { fprintf(stderr, "paralift driver: cannot open %s\n", path); exit(97); }
  return f;
}
static void __pl_read(FILE *f, void *p, size_t n) {
  if (n && fread(p, 1, n, f) != n) { fprintf(stderr, "paralift driver: short input\n"); exit(97); }
}
static void *__pl_read_array(FILE *f, size_t el, uint64_t *count) {
  __pl_read(f, count, 8);
  /* exact-size allocations: AddressSanitizer then sees any overflow */
  void *p = malloc(*count ? (size_t)*count * el : 1);
  if (!p) { fprintf(stderr, "paralift driver: out of memory\n"); exit(96); }
  __pl_read(f, p, (size_t)*count * el);
  return p;
}
static void *__pl_read_view(FILE *f, size_t el, uint64_t *count, int64_t *base, uint64_t *off) {
  /* a pointer parameter: its own array, or (flag bit set) an offset into another parameter's */
  uint64_t head;
  __pl_read(f, &head, 8);
  if (head >> 63) { *base = (int64_t)(head & ~(1ULL << 63)); __pl_read(f, off, 8); *count = 0; return NULL; }
  *base = -1; *off = 0; *count = head;
  void *p = malloc(head ? (size_t)head * el : 1);
  if (!p) { fprintf(stderr, "paralift driver: out of memory\n"); exit(96); }
  __pl_read(f, p, (size_t)head * el);
  return p;
}
static void *__pl_dup(const void *p, size_t n) {
  void *q = malloc(n ? n : 1);
  if (!q) { fprintf(stderr, "paralift driver: out of memory\n"); exit(96); }
  if (n) memcpy(q, p, n);
  return q;
}
static void __pl_write(FILE *f, const void *p, size_t n) {
  if (n && fwrite(p, 1, n, f) != n) { fprintf(stderr, "paralift driver: cannot write output\n"); exit(97); }
}
static double __pl_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
"""


@functools.cache
def shared_helpers(cpp: bool) -> tuple[str, str]:
    """The drivers' helpers for a binary that links many drivers
    (sandbox.batch): (declarations that replace HELPERS in each driver,
    definitions for one translation unit). With `cpp` they have C linkage,
    so drivers inside namespaces all name the one definition."""
    link = 'extern "C" ' if cpp else ""
    heads = re.findall(r"^static (.*?) \{$", HELPERS, re.M)
    decls = "\n" + "".join(f"{link}{h};\n" for h in heads)
    defs = re.sub(r"^static ", link, HELPERS, flags=re.M)
    return decls, defs


def _alias_views(sig: Signature) -> list[str]:
    """Driver lines that point each aliased pointer parameter into its base's array (an overlapping
    call, sandbox.inputs.write_case), after every parameter is read: the base may come later."""
    ptrs = [(i, p) for i, p in enumerate(sig.params) if p.kind == ParamKind.POINTER]
    L = []
    for i, p in ptrs:
        v = f"__pl_a{i}"
        arms = []
        for j, b in ptrs:
            if j != i and dtype_of(b.base_type) == dtype_of(p.base_type):
                w = f"__pl_a{j}"
                arms.append(f"case {j}: if ({w}_b < 0 && {v}_o <= {w}_n) {{ {v} = ({p.base_type} *){w} + {v}_o;"
                            f" {v}_n = {w}_n - {v}_o; __pl_ok = 1; }} break;")
        L.append(f"    if ({v}_b >= 0) {{")
        L.append(f"      int __pl_ok = 0; switch ({v}_b) {{ {' '.join(arms)} default: break; }}")
        L.append(f"      if (!__pl_ok) {{ fprintf(stderr, \"paralift driver: bad alias of parameter {i}\\n\"); exit(97); }}")
        L.append("    }")
    return L


def output_writes(sig: Signature, ind: str) -> list[str]:
    """Driver lines writing every output (sandbox.inputs.read_outputs' format) to the open FILE
    *__pl_out: the test driver's and the paired timing driver's (sandbox.paired) one spelling."""
    L = []
    index = {p.name: i for i, p in enumerate(sig.params)}
    for p in outputs_of(sig):
        v = f"__pl_a{index[p.name]}"
        t = p.base_type
        if p.kind == ParamKind.POINTER:
            L.append(f"{ind}__pl_write(__pl_out, &{v}_n, 8); __pl_write(__pl_out, {v}, {v}_n * sizeof({t}));")
        elif p.kind == ParamKind.VECTOR and is_nested(p):
            L.append(f"{ind}{{ uint64_t __pl_k = {v}.size(); __pl_write(__pl_out, &__pl_k, 8);"
                     f" for (auto &__pl_row : {v}) {{ uint64_t __pl_m = __pl_row.size(); __pl_write(__pl_out, &__pl_m, 8); }}"
                     f" for (auto &__pl_row : {v}) __pl_write(__pl_out, __pl_row.data(), __pl_row.size() * sizeof({t})); }}")
        elif p.kind == ParamKind.VECTOR and t in ("bool", "_Bool") and not p.container:
            # std::vector<bool> is bit-packed (no .data()): one byte an element, as the case format has it
            L.append(f"{ind}{{ uint64_t __pl_k = {v}.size(); __pl_write(__pl_out, &__pl_k, 8);"
                     f" for (uint64_t __pl_j = 0; __pl_j < __pl_k; ++__pl_j) {{ unsigned char __pl_b = {v}[__pl_j];"
                     f" __pl_write(__pl_out, &__pl_b, 1); }} }}")
        elif p.kind == ParamKind.VECTOR:
            L.append(f"{ind}{{ uint64_t __pl_k = {v}.size(); __pl_write(__pl_out, &__pl_k, 8);"
                     f" __pl_write(__pl_out, {v}.data(), __pl_k * sizeof({t})); }}")
        else:
            L.append(f"{ind}__pl_write(__pl_out, &{v}, sizeof {v});")
    if sig.return_type.strip() not in ("void", ""):
        L.append(f"{ind}__pl_write(__pl_out, &__pl_ret, sizeof __pl_ret);")
    return L


@dataclass
class InputReads:
    """Driver lines that read one case (sandbox.inputs.write_case's format) from the open FILE
    *__pl_in into __pl_a0, __pl_a1, ... (one variable a parameter, of its own type): `lines`
    read, `after_close` (after fclose) point aliased pointers into their base's array and
    save the written values, `restore` (one line) puts them back between calls, `frees`
    release what was allocated. The test driver's and the paired timing driver's
    (sandbox.paired) one spelling."""
    lines: list[str]
    after_close: list[str]
    restore: str
    frees: list[str]


def input_reads(sig: Signature, ind: str, dup_if: str | None = None) -> InputReads:
    """The reading code of every parameter (InputReads). A written pointer's values are saved
    for `restore` when the C condition `dup_if` holds (always when None)."""
    L, restore, frees, save = [], [], [], []
    for i, p in enumerate(sig.params):
        t = p.base_type
        v = f"__pl_a{i}"
        if p.kind == ParamKind.SCALAR or p.kind == ParamKind.REF:
            L.append(f"{ind}{t} {v}; __pl_read(__pl_in, &{v}, sizeof {v});")
            if p.kind == ParamKind.REF:
                save.append(f"{ind}{t} {v}_0 = {v};")
                restore.append(f"{v} = {v}_0;")
        elif p.kind == ParamKind.POINTER:
            L.append(f"{ind}uint64_t {v}_n, {v}_o; int64_t {v}_b;"
                     f" {t} *{v} = ({t} *)__pl_read_view(__pl_in, sizeof({t}), &{v}_n, &{v}_b, &{v}_o);")
            frees.append(f"if ({v}_b < 0) free({v});")
            if not p.const:
                dup = f"({t} *)__pl_dup({v}, {v}_n * sizeof({t}))"
                save.append(f"{ind}{t} *{v}_0 = " + (f"{dup_if} ? {dup} : NULL;" if dup_if else f"{dup};"))
                restore.append(f"memcpy({v}, {v}_0, {v}_n * sizeof({t}));")
                frees.append(f"free({v}_0);")
        elif p.kind == ParamKind.VECTOR and is_nested(p):
            # std::vector<std::vector<T>>: the row count, the row lengths, then each row's elements
            ct = p.container
            L.append(f"{ind}uint64_t {v}_n; __pl_read(__pl_in, &{v}_n, 8); {ct} {v}({v}_n);"
                     f" for (uint64_t __pl_k = 0; __pl_k < {v}_n; ++__pl_k) {{ uint64_t __pl_m;"
                     f" __pl_read(__pl_in, &__pl_m, 8); {v}[__pl_k].resize(__pl_m); }}"
                     f" for (uint64_t __pl_k = 0; __pl_k < {v}_n; ++__pl_k) if (!{v}[__pl_k].empty())"
                     f" __pl_read(__pl_in, &{v}[__pl_k][0], {v}[__pl_k].size() * sizeof({t}));")
            if not p.const:
                save.append(f"{ind}{ct} {v}_0 = {v};")
                restore.append(f"{v} = {v}_0;")
        elif p.kind == ParamKind.VECTOR:
            L.append(f"{ind}uint64_t {v}_n; {t} *{v}_raw = ({t} *)__pl_read_array(__pl_in, sizeof({t}), &{v}_n);")
            ct = p.container or f"std::vector<{t}>"
            if p.container and p.container.startswith("std::array"):   # fixed size: its first elements from the case
                L.append(f"{ind}{ct} {v}{{}}; for (uint64_t __pl_k = 0; __pl_k < {v}_n && __pl_k < {v}.size();"
                         f" ++__pl_k) {v}[__pl_k] = {v}_raw[__pl_k]; free({v}_raw);")
            else:
                L.append(f"{ind}{ct} {v}({v}_raw, {v}_raw + {v}_n); free({v}_raw);")
            if not p.const:
                save.append(f"{ind}{ct} {v}_0 = {v};")
                restore.append(f"{v} = {v}_0;")
    views = [ind + line[4:] for line in _alias_views(sig)]
    return InputReads(L, views + save, " ".join(restore), frees)


def call_statement(sig: Signature, args: list[str], result: str = "") -> str:
    """The call of the function under test as one statement (`result = ` before it when given): the
    bare name, a template's instantiation (Signature.call), or a member function on the object
    `__pl_obj` (Signature.receiver), its fields (Param.member) swapped in before and back after."""
    callee = sig.call or sig.name
    if not sig.receiver:
        return f"{result}{callee}({', '.join(args)});"
    own = [a for a, p in zip(args, sig.params) if not p.member]
    swaps = " ".join(f"std::swap(__pl_obj.{p.name}, {a});" for a, p in zip(args, sig.params) if p.member)
    return f"{{ {swaps} {result}__pl_obj.{callee}({', '.join(own)}); {swaps} }}"


def driver_source(sig: Signature, unit: str, target: Target | None, language: str) -> str:
    """Driver text for `unit` (the file name to #include), compiled as C unless
    language is cpp or the target is CUDA (then C++/CUDA)."""
    mpi = target == Target.MPI
    cuda = target == Target.CUDA
    cpp = language == "cpp" or cuda
    L: list[str] = ["/* generated by paralift: test driver */",
                    "#define main __paralift_user_main", f'#include "{unit}"', "#undef main", HEADERS]
    if mpi:
        L.append("#include <mpi.h>")
    if cpp:
        L.append("#include <vector>")
    if sig.receiver:
        L.append("#include <utility>")
    L += [OPT_OFF, HELPERS]
    L.append("int main(int argc, char **argv) {")
    L.append("  int __pl_rank = 0;")
    if mpi:
        L += ["  MPI_Init(&argc, &argv);", "  MPI_Comm_rank(MPI_COMM_WORLD, &__pl_rank);"]
    if cuda:
        L.append("  (void)cudaFree(0); /* create the context before any timing */")
    L.append("  if (argc < 4) { fprintf(stderr, \"usage: driver REPS OUTDIR CASE...\\n\"); return 2; }")
    L.append("  int __pl_reps = atoi(argv[1]);")
    L.append("  for (int __pl_c = 3; __pl_c < argc; ++__pl_c) {")
    L.append("    FILE *__pl_in = __pl_open(\"in\", argv[__pl_c], \".in\", \"rb\");")
    reads = input_reads(sig, "    ", dup_if="__pl_reps > 1")
    L += reads.lines
    args, restore, frees = [f"__pl_a{i}" for i in range(len(sig.params))], reads.restore, reads.frees
    L.append("    fclose(__pl_in);")
    L += reads.after_close
    ret = sig.return_type.strip()
    has_ret = ret not in ("void", "")
    if has_ret:
        L.append(f"    {ret} __pl_ret = 0;")
    if sig.receiver:
        L.append(f"    {sig.receiver} __pl_obj;")
    L.append("    double __pl_total = 0;")
    # A timed run (reps > 1) first makes one untimed warm-up call (page faults,
    # the thread pool's start, caches) and records every call's time in
    # OUTDIR/CASE.times, one a line: sandbox.timing reads their median.
    L.append("    double *__pl_times = (double *)malloc((size_t)(__pl_reps > 0 ? __pl_reps : 1) * sizeof(double));")
    L.append("    int __pl_first = __pl_reps > 1 ? -1 : 0;")
    L.append("    for (int __pl_r = __pl_first; __pl_r < __pl_reps; ++__pl_r) {")
    if restore:
        L.append("      if (__pl_r != __pl_first) { " + restore + " }")
    if mpi:
        L.append("      MPI_Barrier(MPI_COMM_WORLD);")
    L.append("      double __pl_t0 = __pl_now();")
    L.append("      " + call_statement(sig, args, "__pl_ret = " if has_ret else ""))
    if cuda:
        # Exit status alone never proves a CUDA run worked (no GPU still exits 0).
        L.append("      cudaError_t __pl_e = cudaDeviceSynchronize();")
        L.append("      if (__pl_e == cudaSuccess) __pl_e = cudaGetLastError();")
        L.append("      if (__pl_e != cudaSuccess) { fprintf(stderr, \"paralift driver: CUDA error after the call: %s\\n\","
                 " cudaGetErrorString(__pl_e)); return 95; }")
    L.append("      if (__pl_r >= 0) { __pl_times[__pl_r] = __pl_now() - __pl_t0; __pl_total += __pl_times[__pl_r]; }")
    L.append("    }")
    L.append("    if (__pl_rank == 0) {")
    L.append("      FILE *__pl_out = __pl_open(argv[2], argv[__pl_c], \".out\", \"wb\");")
    L += output_writes(sig, "      ")
    L.append("      fclose(__pl_out);")
    L.append("      FILE *__pl_tf = __pl_open(argv[2], argv[__pl_c], \".time\", \"w\");")
    L.append("      fprintf(__pl_tf, \"%.9f\\n\", __pl_total); fclose(__pl_tf);")
    L.append("      if (__pl_reps > 1) {")
    L.append("        FILE *__pl_tt = __pl_open(argv[2], argv[__pl_c], \".times\", \"w\");")
    L.append("        for (int __pl_r = 0; __pl_r < __pl_reps; ++__pl_r) fprintf(__pl_tt, \"%.9f\\n\", __pl_times[__pl_r]);")
    L.append("        fclose(__pl_tt);")
    L.append("      }")
    L.append("    }")
    L += ["    " + f for f in frees] + ["    free(__pl_times);"]
    L.append("  }")
    if mpi:
        L.append("  MPI_Finalize();")
    L.append("  return 0;")
    L.append("}")
    L.append(OPT_ON)
    for p in sig.params:
        dtype_of(p.base_type)   # raises ValueError for types the driver cannot carry
    return "\n".join(L) + "\n"

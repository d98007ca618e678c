"""The paired timing driver: reference and candidate in one process, interleaved.

Timing the reference and a candidate in separate processes leaves each
process's own luck in the ratio (where the arrays and the stack landed,
page faults, the clock frequency of that moment), and on a 2-core machine
that luck was several per cent per process. Here both are linked into one
binary and called alternately on the same input arrays, so they share the
process, the memory and the moment:

    paired BLOCKS WARMUP OUTDIR CASE
        reads in/CASE.in; after WARMUP untimed calls of each, makes BLOCKS
        blocks of four timed calls, in the order reference, candidate,
        candidate, reference (ABBA) in even blocks and candidate, reference,
        reference, candidate (BAAB) in odd ones: a linear drift within a
        block cancels, and neither side always sits at a block's edges (a
        statistic of the blocks is then symmetric in the two sides when they
        are the same code). The written arrays are restored before every
        call. Writes OUTDIR/CASE.pairs, one block a line: the reference's two
        times, then the candidate's two, in seconds; then makes one more
        candidate call and writes its outputs to OUTDIR/CASE.out (checked
        like any output), unless a fifth argument `times-only` says that an
        earlier process already did (writing a large output takes as long as
        many calls).

How the two live in one binary: each source is compiled alone in a wrapper
that #includes it (static functions and a `main` of its own work) and adds
one C-linkage trampoline, `__pl_call_ref` or `__pl_call_cand`, taking the
arguments as an array of pointers to the driver's variables; `objcopy -G`
then makes every other symbol of the object local, so the two copies of the
function (and of any global helper or variable) do not clash at link time.
The reference object is compiled with the reference's flags (no -fopenmp,
no MPI), the candidate's with its target's.

OpenMP: the process has the candidate's threads (OMP_NUM_THREADS, pinned);
the reference runs on the initial thread while the pool waits, as in a
program that calls the sequential function between parallel regions.
MPI: every rank calls the candidate (after a barrier; rank 0's time is the
call's time, as in the test driver); the reference runs on rank 0 alone
while the other ranks wait in a non-blocking barrier, sleeping between
polls, so that they do not hold the cores the reference runs on.

Layouts: the objects are linked twice, the reference's copy first and the
candidate's first (layouts()); processes alternate between the two, so a
bias of where each copy sits in memory (identical in every process of one
binary, so never averaged out by adding processes) is spread between
processes, where the interval sees it, and cancels in the mean.

Inputs are read by the test driver's own code (harness.input_reads), aliased
cases (an overlapping call) included. Anything this cannot handle (CUDA, a
type the driver cannot carry, a build that fails) makes the build return None
with the reason; the caller then times separate
processes as before (sandbox.verify).
"""
from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from paralift.types import ParamKind, Signature, Target

from . import harness
from .inputs import dtype_of
from .toolchains import MPI_FLAGS

WARMUP_S = 0.05                 # untimed calls of each side before the first block: about this long,
MAX_WARMUP = 3                  # at least 1 and at most MAX_WARMUP calls each
TIMES_EXT = ".pairs"
ALIGN_FLAG = "-falign-functions=64"


def wrapper_source(sig: Signature, unit: str, slot: str, cpp: bool) -> str:
    """The wrapper of one side (`slot` is "ref" or "cand"): the unit and its trampoline."""
    args = []
    for i, p in enumerate(sig.params):
        t = p.base_type
        if p.kind in (ParamKind.SCALAR, ParamKind.REF):
            args.append(f"*({t} *)__pl_a[{i}]")
        elif p.kind == ParamKind.POINTER:
            args.append(f"({t} *)__pl_a[{i}]")
        else:
            args.append(f"*({p.container or f'std::vector<{t}>'} *)__pl_a[{i}]")
    ret = sig.return_type.strip()
    # Through a pointer the compiler cannot see through: the function is not
    # inlined into the trampoline, so it runs as the code the user's callers get.
    if sig.receiver:        # a member function (harness.call_statement): called on an object of its class
        body = (f"{sig.receiver} __pl_obj; (void)__pl_r; "
                + harness.call_statement(sig, args, f"*({ret} *)__pl_r = " if ret not in ("void", "") else ""))
    else:
        callee = sig.call or sig.name
        ty = "auto" if sig.call else f"__typeof__(&{callee})"     # (GCC: no __typeof__ of a template-id)
        fn = f"{ty} __pl_f = &{callee}; __asm__ volatile(\"\" : \"+r\"(__pl_f)); "
        call = f"__pl_f({', '.join(args)})"
        body = fn + (f"*({ret} *)__pl_r = {call};" if ret not in ("void", "") else f"(void)__pl_r; {call};")
    link = 'extern "C" ' if cpp else ""
    L = [f"/* generated by paralift: paired timing wrapper ({slot}) */",
         "#define main __paralift_user_main", f'#include "{unit}"', "#undef main"]
    if cpp:
        L.append("#include <vector>")
    if sig.receiver:
        L.append("#include <utility>")
    L += [f"{link}void __pl_call_{slot}(void **__pl_a, void *__pl_r);",
          f"{link}void __pl_call_{slot}(void **__pl_a, void *__pl_r) {{ {body} }}"]
    return "\n".join(L) + "\n"


def driver_source(sig: Signature, cpp: bool, mpi: bool) -> str:
    """The paired driver's main (see the module docstring)."""
    for p in sig.params:
        dtype_of(p.base_type)           # raises ValueError for types the driver cannot carry
    link = 'extern "C" ' if cpp else ""
    L = ["/* generated by paralift: paired timing driver */", harness.HEADERS]
    if mpi:
        L += ["#include <mpi.h>"]
    if cpp:
        L.append("#include <vector>")
    L += [harness.HELPERS,
          f"{link}void __pl_call_ref(void **__pl_a, void *__pl_r);",
          f"{link}void __pl_call_cand(void **__pl_a, void *__pl_r);"]
    if mpi:
        L += ["#include <time.h>",
              "static void __pl_rank0_alone_done(void) {",
              "  /* the other ranks sleep between polls while rank 0 runs the reference */",
              "  MPI_Request __pl_q; int __pl_done = 0;",
              "  MPI_Ibarrier(MPI_COMM_WORLD, &__pl_q);",
              "  struct timespec __pl_nap = {0, 20000};",
              "  while (!__pl_done) { MPI_Test(&__pl_q, &__pl_done, MPI_STATUS_IGNORE); if (!__pl_done) nanosleep(&__pl_nap, 0); }",
              "}"]
    L.append("int main(int argc, char **argv) {")
    L.append("  int __pl_rank = 0;")
    if mpi:
        L += ["  MPI_Init(&argc, &argv);", "  MPI_Comm_rank(MPI_COMM_WORLD, &__pl_rank);"]
    L.append("  if (argc != 5 && argc != 6) { fprintf(stderr, \"usage: paired BLOCKS WARMUP OUTDIR CASE [times-only]\\n\"); return 2; }")
    L.append("  int __pl_outputs = argc == 5 || strcmp(argv[5], \"times-only\") != 0;")
    L.append("  int __pl_blocks = atoi(argv[1]); if (__pl_blocks < 1) __pl_blocks = 1;")
    L.append("  int __pl_warm = atoi(argv[2]);")
    L.append("  FILE *__pl_in = __pl_open(\"in\", argv[4], \".in\", \"rb\");")
    # the test driver's reading code (harness.input_reads): aliased cases (an overlapping call,
    # one pointer an offset into another parameter's array) are read and timed like any other
    reads = harness.input_reads(sig, "  ")
    L += reads.lines
    L.append("  fclose(__pl_in);")
    L += reads.after_close
    ptrs = [f"(void *)__pl_a{i}" if p.kind == ParamKind.POINTER else f"(void *)&__pl_a{i}"
            for i, p in enumerate(sig.params)]
    restore_all, frees = reads.restore, reads.frees
    ret = sig.return_type.strip()
    has_ret = ret not in ("void", "")
    L.append(f"  {ret if has_ret else 'char'} __pl_ret = 0;")
    L.append(f"  void *__pl_args[{max(1, len(ptrs))}] = {{{', '.join(ptrs) or '0'}}};")
    # one call: restore the written arrays, synchronize the ranks, time rank 0's call
    L.append("  double __pl_t0;")
    L.append(f"#define __PL_REF() do {{ {restore_all} {'MPI_Barrier(MPI_COMM_WORLD); ' if mpi else ''}"
             f"__pl_t0 = __pl_now(); if (__pl_rank == 0) __pl_call_ref(__pl_args, &__pl_ret); "
             f"__pl_t0 = __pl_now() - __pl_t0; {'__pl_rank0_alone_done(); ' if mpi else ''}}} while (0)")
    L.append(f"#define __PL_CAND() do {{ {restore_all} {'MPI_Barrier(MPI_COMM_WORLD); ' if mpi else ''}"
             f"__pl_t0 = __pl_now(); __pl_call_cand(__pl_args, &__pl_ret); __pl_t0 = __pl_now() - __pl_t0; }} while (0)")
    L.append("  for (int __pl_w = 0; __pl_w < __pl_warm; ++__pl_w) { __PL_REF(); __PL_CAND(); }")
    L.append("  double *__pl_times = (double *)malloc((size_t)__pl_blocks * 4 * sizeof(double));")
    L.append("  for (int __pl_b = 0; __pl_b < __pl_blocks; ++__pl_b) {")
    L.append("    double *__pl_bt = __pl_times + 4 * __pl_b;   /* ref, ref, cand, cand */")
    L.append("    if (__pl_b % 2 == 0) {")
    L.append("      __PL_REF(); __pl_bt[0] = __pl_t0; __PL_CAND(); __pl_bt[2] = __pl_t0;")
    L.append("      __PL_CAND(); __pl_bt[3] = __pl_t0; __PL_REF(); __pl_bt[1] = __pl_t0;")
    L.append("    } else {")
    L.append("      __PL_CAND(); __pl_bt[2] = __pl_t0; __PL_REF(); __pl_bt[0] = __pl_t0;")
    L.append("      __PL_REF(); __pl_bt[1] = __pl_t0; __PL_CAND(); __pl_bt[3] = __pl_t0;")
    L.append("    }")
    L.append("  }")
    L.append("  if (__pl_outputs) __PL_CAND();      /* the outputs compared: the candidate's */")
    L.append("  if (__pl_rank == 0 && __pl_outputs) {")
    L.append("    FILE *__pl_out = __pl_open(argv[3], argv[4], \".out\", \"wb\");")
    L += harness.output_writes(sig, "    ")
    L.append("    fclose(__pl_out);")
    L.append("  }")
    L.append("  if (__pl_rank == 0) {")
    L.append(f"    FILE *__pl_tt = __pl_open(argv[3], argv[4], \"{TIMES_EXT}\", \"w\");")
    L.append("    for (int __pl_b = 0; __pl_b < __pl_blocks; ++__pl_b)")
    L.append("      fprintf(__pl_tt, \"%.9f %.9f %.9f %.9f\\n\", __pl_times[4 * __pl_b], __pl_times[4 * __pl_b + 1],"
             " __pl_times[4 * __pl_b + 2], __pl_times[4 * __pl_b + 3]);")
    L.append("    fclose(__pl_tt);")
    L.append("  }")
    L += ["  " + f for f in frees] + ["  free(__pl_times);"]
    if mpi:
        L.append("  MPI_Finalize();")
    L.append("  return 0;")
    L.append("}")
    return "\n".join(L) + "\n"


SWAPPED = "-swapped"


def layouts(binary: str) -> list[str]:
    """The paired build's binaries (Plan): `binary`, the reference's copy linked first, and
    the same objects linked the other way round. A measurement alternates them process by
    process, so that where each copy sits (a bias identical in every process of one layout,
    which adding processes would never average out) becomes spread between processes."""
    return [binary, binary + SWAPPED]


@dataclass
class Plan:
    """The commands that build the paired binaries (layouts(binary)) in a work directory
    holding pl_ref.<ext> and pl_cand.<ext> (the two sources as given)."""
    files: dict[str, str]               # file name -> text to write
    commands: list[list[str]]           # run in order, in the work directory
    binary: str = "./paired"


def plan(sig: Signature, language: str, target: Target | None, ref_source: str, cand_source: str,
         cflags: tuple[str, ...], cc: str, cxx: str, mpicc: str = "", mpicxx: str = "",
         objcopy: str = "objcopy") -> Plan:
    """The files and commands of a paired build. target None or OPENMP: the
    candidate is compiled with -fopenmp (the reference against itself is
    then a second copy of the sequential code); MPI: with mpicc. ValueError
    for what the paired driver does not do (CUDA, types the driver cannot carry)."""
    if target == Target.CUDA:
        raise ValueError("CUDA candidates are timed in separate processes")
    cpp = language == "cpp"
    ext = "cpp" if cpp else "c"
    mpi = target == Target.MPI
    files = {f"pl_ref.{ext}": ref_source, f"pl_cand.{ext}": cand_source,
             f"pl_ref_w.{ext}": wrapper_source(sig, f"pl_ref.{ext}", "ref", cpp),
             f"pl_cand_w.{ext}": wrapper_source(sig, f"pl_cand.{ext}", "cand", cpp),
             f"pl_driver.{ext}": driver_source(sig, cpp, mpi)}
    # Both copies start on a 64-byte boundary: identical code then has identical
    # alignment (instruction fetch and op-cache windows), so that the reference
    # timed against itself is not a comparison of two placements.
    cflags = (*cflags, ALIGN_FLAG)
    compiler = cxx if cpp else cc
    if mpi:
        cand_cc, cand_flags, linker, link_flags = (mpicxx if cpp else mpicc), [*MPI_FLAGS], (mpicxx if cpp else mpicc), []
    else:
        cand_cc, cand_flags, linker, link_flags = compiler, ["-fopenmp"], compiler, ["-fopenmp"]
    commands = [
        [compiler, *cflags, "-c", f"pl_ref_w.{ext}", "-o", "pl_ref_w.o"],
        [cand_cc, *cflags, *cand_flags, "-c", f"pl_cand_w.{ext}", "-o", "pl_cand_w.o"],
        [objcopy, "-G", "__pl_call_ref", "pl_ref_w.o", "pl_ref.o"],
        [objcopy, "-G", "__pl_call_cand", "pl_cand_w.o", "pl_cand.o"],
        [compiler if not mpi else linker, *cflags, *link_flags, "-c", f"pl_driver.{ext}", "-o", "pl_driver.o"],
        # two layouts of the same objects: the reference's copy first, then the candidate's first
        [linker, *cflags, *link_flags, "pl_driver.o", "pl_ref.o", "pl_cand.o", "-o", "paired", "-lm"],
        [linker, *cflags, *link_flags, "pl_driver.o", "pl_cand.o", "pl_ref.o", "-o", "paired" + SWAPPED, "-lm"],
    ]
    return Plan(files, commands)


def objcopy_path() -> str | None:
    return shutil.which("objcopy")


def warmup_calls(call_s: float) -> int:
    """Untimed calls of each side before the first block (a call of `call_s` seconds)."""
    if call_s <= 0:
        return MAX_WARMUP
    return max(1, min(MAX_WARMUP, math.ceil(WARMUP_S / call_s)))


def read_blocks(path: Path) -> list[tuple[float, float, float, float]]:
    """The blocks a paired run wrote (reference, reference, candidate,
    candidate seconds per line), [] when absent or unreadable."""
    out = []
    try:
        for line in Path(path).read_text().splitlines():
            xs = [float(x) for x in line.split()]
            if len(xs) == 4 and all(math.isfinite(x) and x >= 0 for x in xs):
                out.append((xs[0], xs[1], xs[2], xs[3]))
    except (OSError, ValueError):
        return []
    return out

"""Verify many small C functions at once: one build and one process per batch.

`verify.verify` builds the reference twice (plain and under sanitizers) and
each candidate once, and runs every configuration as its own process; for a
corpus of thousands of small kernels that is dominated by compiler start-up
(CUDA's emulation header alone costs about a second of g++ per build). This
module runs the *same checks* for a batch of functions:

- one reference binary for K functions: each function's unchanged test driver
  (paralift.sandbox.harness) is its own translation unit, its `main` renamed,
  linked with a dispatcher; the same again under AddressSanitizer + UBSan;
- per target one candidate binary (OpenMP, MPI: one translation unit per
  function, as in `verify`; CUDA: the nvcc gate and the CPU-emulated builds
  compile each candidate inside its own namespace of one translation unit);
- the correctness runs of `verify` (threads 1,2,2,3,3 and the OpenMP race
  stage's rounds; ranks 1,2,2,3,3; CUDA forward, reverse, ASan and the
  ThreadSanitizer cases) each run once for the whole batch, on the cases
  `verify` would pick for each function, and every output is compared with
  `compare` against the sequential reference's.

A clean pass is decided here, and so is a wrong or missing output of a
function (a rejection, which is always safe). Whatever the batch cannot
attribute (a batch build failure, a static race report, a reference that
misbehaves under the sanitizers, a crash after every output was right) is
handed to `verify.verify` for that one candidate, which then gives the
verdict; a batch therefore never calls a candidate verified that `verify`
would reject on the same suite. Timing is not done
here (corpus building verifies correctness only).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paralift.types import Candidate, Target, Task, TestSuite, Verdict

from . import harness, inputs, isolation, locks, policy
from .compare import case_terms, compare, depends_on_input
from .races import find_cuda_races, find_races
from .toolchains import MPI_FLAGS, detect
from .verify import (EMULATION_OPT, MPI_YIELD_ENV, NVCC_GATE_FLAGS, REFERENCE_SANITIZER_FLAGS, UNOPTIMIZED,
                     VerifyOptions, _mkdtemp, _rmtree, candidate_limits, race_case_names, race_round_count,
                     tsan_case_names, verify)

__all__ = ["BatchItem", "verify_batch"]


@dataclass
class BatchItem:
    task: Task                        # the sequential function (C)
    suite: TestSuite
    candidates: list[Candidate]
    # per target, the names of the suite's cases its candidates are judged on
    # (default: all); the reference runs the whole suite once for every target
    only: dict[Target, list[str]] = field(default_factory=dict)
    # when set, a case other than the suite's large, race and contention ones
    # whose reference call takes more than this many times the slowest of
    # those (and over CASE_FLOOR_S) is dropped: no case outweighs the one the
    # suite sized on purpose (an O(n^2) kernel on the 1-D plan's 4099 elements
    # costs minutes in CUDA emulation)
    max_case_ratio: float | None = None
    # filled in by verify_batch:
    dropped_cases: list[str] = field(default_factory=list)   # cases removed (non-finite reference output, or over max_case_ratio)

    def suite_for(self, target: Target) -> TestSuite:
        """The suite a candidate for `target` is verified on (what `verify`
        gets for it when the batch cannot decide, and what a corpus stores)."""
        names = self.only.get(target)
        if names is None:
            return self.suite
        keep = set(names)
        return TestSuite(function=self.suite.function, cases=[c for c in self.suite.cases if c.name in keep],
                         generator=self.suite.generator, seed=self.suite.seed)


def _cpu_seconds() -> float:
    """CPU time of this process and of its waited-for children (compilers,
    sandboxed runs): the cost of a phase, whatever else the machine runs."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime + _CHILD_CPU[0]


@contextlib.contextmanager
def phase(profile: dict | None, name: str):
    """Add the wall and CPU seconds of the block to profile[name] = [wall, cpu, calls]."""
    if profile is None:
        yield
        return
    w0, c0 = time.monotonic(), _cpu_seconds()
    try:
        yield
    finally:
        rec = profile.setdefault(name, [0.0, 0.0, 0])
        rec[0] += time.monotonic() - w0
        rec[1] += _cpu_seconds() - c0
        rec[2] += 1


def _case_name(k: int, name: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:60] or "case"
    return f"f{k}_{safe}"


_MAIN_RE = re.compile(r"^int main\(int argc, char \*\*argv\) \{$", re.M)


def _sub_driver(text: str, k: int, namespaced: bool) -> str:
    """Driver k as part of a batch binary: its `main` renamed, and its helpers
    declared (the dispatcher defines them once: compiling them in every
    driver was a fifth of a batch's C builds)."""
    name = "__pl_main" if namespaced else f"__pl_main_{k}"
    out, n = _MAIN_RE.subn(f"int {name}(int argc, char **argv) {{", text)
    if n != 1 or text.count(harness.HELPERS) != 1:
        raise ValueError("unexpected driver layout")
    return out.replace(harness.HELPERS, harness.shared_helpers(namespaced)[0])


def _dispatcher_c(ks: list[int], mpi: bool, namespaced: bool) -> str:
    L = [harness.HEADERS, harness.OPT_OFF, harness.shared_helpers(namespaced)[1], harness.OPT_ON]
    if mpi:
        L.append("#include <mpi.h>")
    if namespaced:
        L += [f"namespace __pl_b{j} {{ int __pl_main(int, char **); }}" for j in ks]
        call = {j: f"__pl_b{j}::__pl_main" for j in ks}
    else:
        L += [f"int __pl_main_{j}(int, char **);" for j in ks]
        call = {j: f"__pl_main_{j}" for j in ks}
    L.append("int main(int argc, char **argv) {")
    if mpi:
        L.append("  MPI_Init(&argc, &argv);")
    L += ["  int rc = 0;",
          "  char **sub = (char **)malloc(sizeof(char *) * (size_t)(argc + 1));",
          "  for (int i = 3; i < argc && rc == 0;) {",
          "    int k = atoi(argv[i] + 1), j = i;",
          "    while (j < argc && atoi(argv[j] + 1) == k) j++;",
          "    sub[0] = argv[0]; sub[1] = argv[1]; sub[2] = argv[2];",
          "    for (int m = i; m < j; m++) sub[3 + m - i] = argv[m];",
          "    sub[3 + j - i] = 0;",
          "    switch (k) {"]
    L += [f"      case {j}: rc = {call[j]}(3 + j - i, sub); break;" for j in ks]
    L += ["      default: rc = 98;",
          "    }",
          "    i = j;",
          "  }",
          "  free(sub);"]
    if mpi:
        L.append("  MPI_Finalize();")
    L += ["  return rc;", "}"]
    return "\n".join(L) + "\n"


def _strip_mpi_lifecycle(text: str) -> str:
    text = text.replace("  MPI_Init(&argc, &argv);\n", "", 1)
    return text.replace("  MPI_Finalize();\n", "", 1)


@dataclass
class _Ref:
    dir: Path
    cases: dict[int, list[str]]                       # item -> case file names
    expected: dict[str, dict[str, np.ndarray]]
    case_of: dict[str, str] = field(default_factory=dict)   # case file name -> TestCase name
    seconds: dict[str, float] = field(default_factory=dict)  # case file name -> reference call time (s)
    process_s: float = 0.0     # wall time of the plain reference run(s) on every case (start-up, I/O)
    terms: dict[str, int] = field(default_factory=dict)      # case file name -> compare's term count

    def files_for(self, item: BatchItem, k: int, target: Target) -> list[str]:
        names = {c.name for c in item.suite_for(target).cases}
        return [f for f in self.cases[k] if self.case_of[f] in names]


_TIME = "/usr/bin/time"
_CHILD_CPU = [0.0]      # CPU seconds of the sandboxed commands run by this process


def _run(cmd, work: Path, limits, env=None, binds=None):
    # The sandbox's process tree is not reaped by this process, so its CPU time
    # never reaches RUSAGE_CHILDREN: GNU time inside the sandbox reports it
    # (same exit status; a signal shows as 128+N, which RunResult reads alike).
    timed = os.path.exists(_TIME)
    stamp = work / ".pl_cpu"
    if timed:
        cmd = [_TIME, "-f", "%U %S", "-o", ".pl_cpu", *cmd]
    with locks.shared():
        r = isolation.run(cmd, work, limits, env=env, ro_binds=binds)
    if timed:
        try:
            u, s_ = stamp.read_text().split()[-2:]
            _CHILD_CPU[0] += float(u) + float(s_)
        except (OSError, ValueError):
            pass
        stamp.unlink(missing_ok=True)
    if not r.ok and os.environ.get("PARALIFT_BATCH_DEBUG"):
        sys.stderr.write(f"batch: {' '.join(map(str, cmd))[:200]}: {r.describe()}\n{(r.stderr or r.stdout)[-3000:]}\n")
    return r


CASE_FLOOR_S = 1e-3
_SIZED = ("large-", "race-", "contention-")


def _read_seconds(path: Path) -> float:
    try:
        return float(path.read_text().strip())
    except (OSError, ValueError):
        return 0.0


def _read_out(sig, path: Path):
    try:
        return inputs.read_outputs(sig, path)
    except (OSError, ValueError):
        return None


def _clear(out: Path) -> None:
    out.mkdir(exist_ok=True)
    for f in out.iterdir():
        f.unlink()


def _ordered_runs(binary: str, scratch: Path, files: list[str], limits, env, binds,
                  item_of: dict[str, int] | None = None) -> tuple[list[str], str | None, list[str]]:
    """Run the cases `files` through `binary` in one process. The driver runs
    them in order and writes each output when its case is done, so after a
    failed process the first case without an output is the one that failed;
    the cases after it run again in a new process (with `item_of`, only those
    of other items). Returns the failed cases, for a process that failed
    after writing every output its last case (else None), and the cases that
    were running when a process hit its time limit (which a process of their
    own, as `verify` runs them, might not have)."""
    out = scratch / "out"
    out.mkdir(exist_ok=True)
    failed: list[str] = []
    slow: list[str] = []
    todo = list(files)
    while todo:
        r = _run([binary, "1", "out", *todo], scratch, limits, env, binds)
        if r.ok:
            return failed, None, slow
        j = next((i for i, f in enumerate(todo) if not (out / f"{f}.out").exists()), None)
        if j is None:
            return failed, todo[-1], slow
        (slow if r.timed_out else failed).append(todo[j])
        rest = todo[j + 1:]
        if item_of is not None:
            rest = [f for f in rest if item_of[f] != item_of[todo[j]]]
        todo = rest
    return failed, None, slow


def _build_reference(items: list[BatchItem], ks: list[int], opts: VerifyOptions,
                     profile: dict | None = None) -> tuple[_Ref | None, set[int]]:
    """Reference binaries for items `ks`; returns the reference and the items
    that must go the individual way."""
    tc = detect()
    d = _mkdtemp("paralift-bref-")
    (d / "in").mkdir()
    (d / "bin").mkdir()
    cases: dict[int, list[str]] = {}
    case_of: dict[str, str] = {}
    terms: dict[str, int] = {}
    srcs = []
    for k in ks:
        it = items[k]
        sig = it.task.signature
        (d / "bin" / f"ref{k}.c").write_text(it.task.source)
        drv = harness.driver_source(sig, f"ref{k}.c", None, "c")
        (d / "bin" / f"drv{k}.c").write_text(_sub_driver(drv, k, False))
        srcs.append(f"drv{k}.c")
        names = []
        for c in it.suite.cases:
            nm = _case_name(k, c.name)
            while nm in names:
                nm += "_"
            names.append(nm)
            case_of[nm] = c.name
            terms[nm] = case_terms(c)
            inputs.write_case(sig, c, d / "in" / f"{nm}.in")
        cases[k] = names
    (d / "bin" / "main.c").write_text(_dispatcher_c(list(ks), False, False))
    with phase(profile, "reference build"):
        r = _run([tc.cc.path, *opts.cflags, *srcs, "main.c", "-o", "ref", "-lm"], d / "bin", opts.build_limits)
    if not r.ok:
        _rmtree(d)
        return None, set(ks)
    binds = [(d / "in", "in"), (d / "bin", "refbin")]
    individual: set[int] = set()
    item_of = {f: k for k in ks for f in cases[k]}
    scratch = _mkdtemp("paralift-brefrun-")
    try:
        if opts.sanitize_inputs and tc.cgroups:
            # without -g, as the emulated kernels' sanitizer builds (_sanitizer_flags): the
            # instrumentation is the same, and a batch reads exit statuses, not reports
            flags = [f for f in REFERENCE_SANITIZER_FLAGS if f != "-g"]
            with phase(profile, "reference asan build"):
                r = _run([tc.cc.path, *flags, *srcs, "main.c", "-o", "ref_san", "-lm"], d / "bin", opts.build_limits)
            if r.ok:
                # as verify does: cases the reference misbehaves on under the
                # sanitizers are discarded (the suite keeps them; verify discards
                # them again when it re-verifies)
                env = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=99",
                       "UBSAN_OPTIONS": "halt_on_error=1:exitcode=99"}
                limits = dataclasses.replace(opts.run_limits, memory_bytes=max(opts.run_limits.memory_bytes, 8 << 30))
                with phase(profile, "reference asan run"):
                    bad_cases, unclear, slow = _ordered_runs("refbin/ref_san", scratch,
                                                             [f for k in ks for f in cases[k]], limits, env, binds)
                # failed after its outputs, or out of time: verify decides
                individual |= {item_of[f] for f in ([unclear] if unclear else []) + slow}
                generated = {k: len(cases[k]) for k in ks}
                for f in bad_cases:
                    cases[item_of[f]].remove(f)
                # a suite left too weak to tell (issue 19): verify refuses it with the reason
                individual |= {k for k in ks if not cases[k] or inputs.suite_weakness(
                    len(cases[k]), generated[k] - len(cases[k]), opts.min_cases, opts.max_discarded)}
        live = [k for k in ks if k not in individual]
        _clear(scratch / "out")
        with phase(profile, "reference run"):
            # a case the plain reference fails on makes verify refuse the whole
            # task: that item goes to verify, the others run on
            t0 = time.monotonic()
            failed, unclear, slow = _ordered_runs("refbin/ref", scratch, [f for k in live for f in cases[k]],
                                                  opts.run_limits, None, binds, item_of)
            process_s = time.monotonic() - t0
        individual |= {item_of[f] for f in failed + slow}
        if unclear is not None:
            individual.add(item_of[unclear])
        live = [k for k in live if k not in individual]
        expected: dict[str, dict[str, np.ndarray]] = {}
        seconds: dict[str, float] = {}
        for k in live:
            sig = items[k].task.signature
            outs = {}
            for n in cases[k]:
                o = _read_out(sig, scratch / "out" / f"{n}.out")
                if o is None:
                    break
                outs[n] = o
            else:
                # cases whose reference output is not finite depend on the evaluation order: dropped
                keep = [n for n in cases[k] if all(np.all(np.isfinite(v)) for v in outs[n].values()
                                                   if v.dtype.kind == "f")]
                ratio = items[k].max_case_ratio
                secs = {n: _read_seconds(scratch / "out" / f"{n}.time") for n in keep}
                if ratio is not None:
                    sized = [secs[n] for n in keep if case_of[n].startswith(_SIZED)]
                    if sized:
                        cap = max(ratio * max(sized), CASE_FLOOR_S)
                        keep = [n for n in keep if case_of[n].startswith(_SIZED) or secs[n] <= cap]
                if len(keep) < 2 or not depends_on_input([outs[n] for n in keep]):
                    individual.add(k)
                    continue
                dropped = {case_of[n] for n in cases[k] if n not in keep}
                if dropped:
                    items[k].dropped_cases = [c.name for c in items[k].suite.cases if c.name in dropped]
                    items[k].suite.cases = [c for c in items[k].suite.cases if c.name not in dropped]
                    cases[k] = keep
                for n in keep:
                    expected[n] = outs[n]
                    seconds[n] = secs[n]
                continue
            individual.add(k)
    finally:
        _rmtree(scratch)
    return _Ref(d, cases, expected, case_of, seconds, process_s, terms), individual


def _cuda_eligible(code: str) -> bool:
    """Candidates whose batched (namespaced) compile means the same as their own:
    they include the C headers they rely on themselves."""
    return all(re.search(rf"#\s*include\s*<{h}>", code) for h in ("stdio.h", "stdlib.h")) and \
        not re.search(r"\b(memcpy|memset|memmove|u?int\d+_t|strlen)\b", code)


def _macros(code: str) -> list[str]:
    return sorted(set(re.findall(r"^\s*#\s*define\s+([A-Za-z_]\w*)", code, re.M)))


# Functions per ThreadSanitizer process. The emulation keeps its grid threads
# and their TSan fibers for the whole process (~470 MB, whatever the number of
# launches), and each function's data adds ~7 MB: 48 functions peak at ~0.8 GB
# of the 4 GiB limit. A TSan process costs ~0.35 CPU s to start (16 per
# process: 9.7 CPU s for 90 functions' cases, 48: 7.8 s); the chunk also
# bounds what one TSan failure sends to reruns.
TSAN_CHUNK = 48


@dataclass
class _Config:
    """One correctness run of a batch binary. `kind` says which of a
    function's cases it runs, as verify picks them: "all", "asan" (no race
    cases), "tsan" (verify's ThreadSanitizer cases) or "race" (round `round`
    of the OpenMP race stage, for functions with more rounds than that)."""
    label: str
    env: dict
    launcher: list
    binary: str
    kind: str = "all"
    round: int = 0



def _sanitizer_flags(cuda_cpu, tsan: bool = False) -> list[str]:
    """The emulation's ASan + UBSan (or ThreadSanitizer) flags without -g: the
    instrumentation, and so what the run detects, is the same, but debug
    information for a batch of emulated kernels costs about 30% of that build
    (a batch judges by outputs and exit status, not by the report's line
    numbers). The precompiled header is for the flags with -g, so it is left
    out (it saves little here)."""
    flags = cuda_cpu.compile_flags(asan=not tsan, tsan=tsan, pch=False)
    return [f for f in flags if f != "-g"]


def _build_target(target: Target, items: list[BatchItem], sel: list[tuple[int, int]], work: Path,
                  opts: VerifyOptions, profile: dict | None = None,
                  race_rounds: int = 0) -> tuple[bool, list[_Config] | None, str]:
    """Build the batch binary for (item, candidate) pairs `sel`; returns ok,
    the run configurations and an executor name (configs None: not a build
    failure, splitting the batch would not help). `race_rounds`: rounds of the
    OpenMP race stage the batch's functions need at most."""
    tc = detect()
    if target in (Target.OPENMP, Target.MPI):
        srcs = []
        for k, c in sel:
            cand = items[k].candidates[c]
            (work / f"cand{k}.c").write_text(cand.code)
            drv = _sub_driver(harness.driver_source(items[k].task.signature, f"cand{k}.c", target, "c"), k, False)
            if target == Target.MPI:
                drv = _strip_mpi_lifecycle(drv)
            (work / f"drv{k}.c").write_text(drv)
            srcs.append(f"drv{k}.c")
        (work / "main.c").write_text(_dispatcher_c([k for k, _ in sel], target == Target.MPI, False))
        if target == Target.OPENMP:
            cmd = [tc.cc.path, *opts.cflags, "-fopenmp", *srcs, "main.c", "-o", "cand", "-lm"]
        else:
            if not (tc.mpicc.found and tc.mpirun.found):
                return False, None, "cpu"          # no MPI here: verify says so
            cmd = [tc.mpicc.path, *opts.cflags, *MPI_FLAGS, *srcs, "main.c", "-o", "cand", "-lm"]
        with phase(profile, f"{target.value} build"):
            r = _run(cmd, work, opts.build_limits)
        if not r.ok:
            return False, [], "cpu"
        configs = []
        if target == Target.OPENMP:
            for t in opts.threads:
                for _ in range(1 if t == 1 else opts.repeats):
                    # passive waiting: a loaded machine otherwise spins away the batch's time
                    configs.append(_Config(f"threads={t}", {"OMP_NUM_THREADS": str(t), "OMP_WAIT_POLICY": "passive"},
                                           [], "./cand"))
            if race_rounds:
                # verify's race stage: per round, the race cases on the normal
                # build and on a -O0 one (a shared loop counter hidden in a
                # register at -O2), with verify's environment; a -O0 build
                # failure is not the candidates' (verify skips those runs too)
                modes = [("./cand", t, "race") for t in opts.race_threads]
                unopt = opts.unoptimized_threads
                if unopt:
                    cmd0 = [tc.cc.path, UNOPTIMIZED, "-fopenmp", *srcs, "main.c", "-o", "cand_O0", "-lm"]
                    with phase(profile, "openmp build -O0"):
                        r = _run(cmd0, work, opts.build_limits)
                    if r.ok:
                        modes += [("./cand_O0", t, UNOPTIMIZED) for t in unopt]
                for rnd in range(race_rounds):
                    for binary, t, what in modes:
                        configs.append(_Config(f"threads={t} {what}, round {rnd + 1}", {"OMP_NUM_THREADS": str(t)},
                                               [], binary, "race", rnd))
        else:
            mpirun = Path(tc.mpirun.path).name
            for p in opts.ranks:
                for _ in range(1 if p == 1 else opts.repeats):
                    configs.append(_Config(f"ranks={p}", {"OMP_NUM_THREADS": "1", **MPI_YIELD_ENV},
                                           [mpirun, "-n", str(p)], "./cand"))
        return True, configs, "cpu"
    # CUDA: nvcc gate, then CPU emulation (no GPU here; with a GPU the individual path is used)
    if not tc.nvcc.found or tc.gpu:
        return False, None, "cpu-emulated"     # not a build failure: no bisection
    from . import cuda_cpu
    pre = ["#include <cuda_runtime.h>", "#include <stdio.h>", "#include <stdlib.h>", "#include <string.h>",
           "#include <stdint.h>", "#include <time.h>", "#include <math.h>", "#include <vector>"]
    gate, emu = list(pre), ['#include "paralift_cuda.h"', *pre]
    for k, c in sel:
        cand = items[k].candidates[c]
        (work / f"cand{k}.cu").write_text(cand.code)
        (work / f"cand{k}.cpu.cpp").write_text(cuda_cpu.rewrite(cand.code))
        drv = _sub_driver(harness.driver_source(items[k].task.signature, f"cand{k}.cu", Target.CUDA, "c"), k, True)
        undef = [f"#undef {m}" for m in _macros(cand.code)]
        gate += [f"namespace __pl_b{k} {{", drv, "}", *undef]
        emu += [f"namespace __pl_b{k} {{", drv.replace(f'#include "cand{k}.cu"', f'#include "cand{k}.cpu.cpp"'), "}", *undef]
    disp = _dispatcher_c([k for k, _ in sel], False, True)
    (work / "gate.cu").write_text("\n".join(gate) + "\n")
    (work / "emu.cpp").write_text("\n".join(emu) + "\n" + disp)
    with phase(profile, "cuda nvcc gate"):
        r = _run([tc.nvcc.path, *NVCC_GATE_FLAGS, "gate.cu", "-o", "gate.o"], work, opts.build_limits)
    if not r.ok:
        return False, [], "cpu-emulated"
    gxx = tc.cxx.path
    with phase(profile, "cuda emulation build"):
        r = _run([gxx, *cuda_cpu.compile_flags(asan=False, opt=EMULATION_OPT), "emu.cpp", "-o", "cand", "-lm"], work,
                 opts.build_limits)
    if not r.ok:
        return False, [], "cpu-emulated"
    with phase(profile, "cuda emulation asan build"):
        ra = _run([gxx, *_sanitizer_flags(cuda_cpu), "emu.cpp", "-o", "cand_asan", "-lm"], work,
                  opts.build_limits)
    configs = [_Config("cpu-emulated forward", {cuda_cpu.ORDER_ENV: "forward"}, [], "./cand"),
               _Config("cpu-emulated reverse", {cuda_cpu.ORDER_ENV: "reverse"}, [], "./cand")]
    if not ra.ok:
        return False, [], "cpu-emulated"      # verify would run an ASan variant: so must we
    configs.append(_Config("cpu-emulated asan", {cuda_cpu.ORDER_ENV: "forward",
                                                 "ASAN_OPTIONS": "detect_leaks=0:exitcode=99"}, [], "./cand_asan", "asan"))
    if opts.cuda_tsan_cases:
        # verify's ThreadSanitizer run (a plain update between blocks that the
        # fibers never interleave); a build failure is no runtime here, which
        # verify skips as well
        with phase(profile, "cuda emulation tsan build"):
            rt = _run([gxx, *_sanitizer_flags(cuda_cpu, tsan=True), "emu.cpp", "-o", "cand_tsan", "-lm"],
                      work, opts.build_limits)
        if rt.ok:
            configs.append(_Config("cpu-emulated tsan", {cuda_cpu.ORDER_ENV: "forward",
                                                         "TSAN_OPTIONS": f"exitcode={cuda_cpu.RACE_EXIT}:halt_on_error=1"},
                                   [], "./cand_tsan", "tsan"))
    return True, configs, "cpu-emulated"


def verify_batch(items: list[BatchItem], options: VerifyOptions | None = None,
                 fallback: bool = True, profile: dict | None = None) -> list[list[Verdict]]:
    """Verdicts (one per candidate, in order) for every item. Items must be C
    functions with distinct names. With fallback=False, undecided candidates
    get an "error" verdict saying so instead of an individual verification.
    `profile`, when given, collects [wall s, CPU s, calls] per phase."""
    opts = dataclasses.replace(options or VerifyOptions(), timing=False)
    # One batch run carries every function's cases. Its budget grows with the
    # batch but stays far below K individual limits, so that one hanging
    # candidate (an MPI deadlock) costs one limit, not K: a run that exceeds it
    # sends its functions to `verify`, which applies the usual per-function limit.
    scale = max(1, len(items))
    batch_opts = dataclasses.replace(opts, run_limits=dataclasses.replace(
        opts.run_limits, wall_s=opts.run_limits.wall_s + 2 * scale, cpu_s=opts.run_limits.cpu_s + 10 * scale))
    iso = isolation.isolation_summary()
    out: list[list[Verdict | None]] = [[None] * len(it.candidates) for it in items]
    individual: set[tuple[int, int]] = set()
    names = [it.task.function for it in items]
    eligible = [k for k, it in enumerate(items)
                if it.task.language == "c" and names.count(it.task.function) == 1 and it.candidates
                and it.suite.function == it.task.function]
    for k, it in enumerate(items):
        if k not in eligible:
            individual |= {(k, c) for c in range(len(it.candidates))}
    # policy and static race checks, exactly as verify does them
    for k in eligible:
        it = items[k]
        for c, cand in enumerate(it.candidates):
            viol = policy.check(cand.code, cand.target, it.task.function, it.task.source, it.task.language)
            if viol:
                out[k][c] = Verdict(target=cand.target, status="failed", policy_ok=False, policy_violations=viol,
                                    reason="policy: " + viol[0], isolation=iso)
                continue
            races = (find_races(cand.code, "c") if cand.target in (Target.OPENMP, Target.MPI)
                     else find_cuda_races(cand.code) if cand.target == Target.CUDA else [])
            if races or (cand.target == Target.CUDA and not _cuda_eligible(cand.code)):
                individual.add((k, c))
    live = [k for k in eligible if any(out[k][c] is None and (k, c) not in individual
                                       for c in range(len(items[k].candidates)))]
    ref, bad = _build_reference(items, live, batch_opts, profile) if live else (None, set())
    for k in bad:
        individual |= {(k, c) for c in range(len(items[k].candidates)) if out[k][c] is None}
    try:
        for target in (Target.OPENMP, Target.MPI, Target.CUDA):
            sel = [(k, c) for k in live if k not in bad for c, cand in enumerate(items[k].candidates)
                   if cand.target == target and out[k][c] is None and (k, c) not in individual]
            # one candidate per item and target in one binary
            seen, first, rest = set(), [], []
            for k, c in sel:
                (rest if k in seen else first).append((k, c))
                seen.add(k)
            individual |= set(rest)
            if not first:
                continue
            if target == Target.CUDA:
                from .cuda_cpu import RewriteError, unsupported_features
                ok_sel = []
                for k, c in first:
                    code = items[k].candidates[c].code
                    try:
                        from .cuda_cpu import rewrite
                        if unsupported_features(code):
                            raise RewriteError("unsupported")
                        rewrite(code)
                        ok_sel.append((k, c))
                    except (RewriteError, ValueError, SyntaxError):
                        individual.add((k, c))
                first = ok_sel
                if not first:
                    continue
            _run_target(target, items, first, ref, batch_opts, out, individual, iso, profile)
    finally:
        if ref is not None:
            _rmtree(ref.dir)
    for k, it in enumerate(items):
        for c, cand in enumerate(it.candidates):
            if out[k][c] is not None:
                continue
            if fallback:
                with phase(profile, f"individual {cand.target.value}"):
                    out[k][c] = verify(it.task, cand, it.suite_for(cand.target), opts)
                out[k][c].logs.append("verified individually (not decided by the batch)")
            else:
                out[k][c] = Verdict(target=cand.target, status="error", isolation=iso,
                                    reason="not decided by the batch (individual verification needed)")
    return out  # type: ignore[return-value]


def _run_target(target: Target, items: list[BatchItem], sel: list[tuple[int, int]], ref: _Ref, opts: VerifyOptions,
                out, individual: set, iso: str, profile: dict | None = None) -> None:
    # the cases each candidate is judged on (BatchItem.only); a subset that
    # would leave verify without a usable suite goes the individual way
    files: dict[int, list[str]] = {}
    for k, c in sel:
        fs = ref.files_for(items[k], k, target)
        if len(fs) < 2 or (len(fs) < len(ref.cases[k]) and not depends_on_input([ref.expected[f] for f in fs])):
            individual.add((k, c))
        else:
            files[k] = fs
    sel = [(k, c) for k, c in sel if k in files]
    if not sel:
        return
    # the cases (and rounds) verify would pick for its OpenMP race stage and
    # its ThreadSanitizer run, from the same reference times
    race_files: dict[int, list[str]] = {}
    rounds: dict[int, int] = {}
    tsan_files: dict[int, list[str]] = {}
    for k, fs in files.items():
        names = [ref.case_of[f] for f in fs]
        file_of = {}
        for f, n in zip(fs, names):
            file_of.setdefault(n, f)
        secs = {n: ref.seconds.get(file_of[n], 0.0) for n in file_of}
        if target == Target.OPENMP:
            picked = race_case_names(names, secs)
            race_files[k] = [file_of[n] for n in picked]
            rounds[k] = race_round_count(opts, sum(secs[n] for n in picked))
        elif target == Target.CUDA and opts.cuda_tsan_cases:
            tsan_files[k] = [file_of[n] for n in tsan_case_names(names, secs, opts.cuda_tsan_cases)]
    work = _mkdtemp("paralift-bcand-")
    try:
        try:
            ok, configs, executor = _build_target(target, items, sel, work, opts, profile,
                                                  race_rounds=max(rounds.values(), default=0))
        except ValueError:
            ok, configs, executor = False, None, ""      # a driver we cannot batch
        if not ok:
            if len(sel) > 1 and configs is not None:
                # one candidate that does not build must not send the whole batch
                # to verify: halve the batch until the culprit stands alone
                _rmtree(work)
                half = len(sel) // 2
                for part in (sel[:half], sel[half:]):
                    _run_target(target, items, part, ref, opts, out, individual, iso, profile)
            else:
                individual |= set(sel)
            return
        pending = {k: c for k, c in sel}
        binds = [(ref.dir / "in", "in"), (ref.dir / "bin", "refbin")]
        for cfg in configs:
            label = cfg.label
            run_files = files
            if cfg.kind == "asan":
                # as verify does: the emulated kernels under ASan look for memory
                # errors, which every size shows; the race cases are left out there
                run_files = {k: [f for f in fs if not ref.case_of[f].startswith("race-")] or fs
                             for k, fs in files.items()}
            elif cfg.kind == "race":
                run_files = {k: race_files[k] if rounds[k] > cfg.round else [] for k in files}
            elif cfg.kind == "tsan":
                run_files = tsan_files
            queue = [k for k in sorted(pending) if run_files.get(k)]
            alone: set[int] = set()
            while queue:
                # ThreadSanitizer runs take TSAN_CHUNK functions per process,
                # and a function in whose run TSan failed runs again alone, as
                # verify runs it
                if cfg.kind != "tsan":
                    runlist, queue = queue, []
                elif queue[0] in alone:
                    runlist, queue = queue[:1], queue[1:]
                else:
                    n = next((i for i, k in enumerate(queue[:TSAN_CHUNK]) if k in alone), min(TSAN_CHUNK, len(queue)))
                    runlist, queue = queue[:n], queue[n:]
                allc = [n for k in runlist for n in run_files[k]]
                (work / "out").mkdir(exist_ok=True)
                for f in (work / "out").iterdir():
                    f.unlink()
                # verify's limits, scaled with the reference's time on these cases: a
                # hanging candidate (an MPI deadlock, an endless loop) costs seconds; the
                # function whose run hit the limit is then verified individually (verify
                # retries once before it calls it a timeout)
                limits = candidate_limits(opts, sum(ref.seconds.get(f, 0.0) for f in allc), ref.process_s,
                                          label, mpi=bool(cfg.launcher))
                with phase(profile, f"{target.value} run " + ("race stage" if cfg.kind == "race" else label)):
                    r = _run([*cfg.launcher, cfg.binary, "1", "out", *allc], work, limits, cfg.env, binds)
                raced = cfg.kind == "tsan" and "ThreadSanitizer: data race" in (r.stderr or "")
                # as verify does: a ThreadSanitizer run that failed without a
                # race report (TSan's own failure, its time limit) is no
                # evidence either way for the function it stopped in
                tsan_failed = cfg.kind == "tsan" and not r.ok and not raced
                # The dispatcher runs the functions in order: the first one with a
                # missing or wrong output is the one that failed; those before it
                # passed this configuration; after a failed process the rest never
                # ran and are run again without it.
                rerun: list[int] = []
                for j, k in enumerate(runlist):
                    sig = items[k].task.signature
                    detail = None
                    for nm in run_files[k]:
                        got = _read_out(sig, work / "out" / f"{nm}.out")
                        if got is None:
                            detail = (nm, "no output" + ("" if r.ok else f" ({r.describe()})"))
                            break
                        diff = compare(ref.expected[nm], got, ref.terms.get(nm, 1))
                        if diff is not None:
                            detail = (nm, diff)
                            break
                    if detail is None:
                        continue
                    if tsan_failed and detail[1].startswith("no output"):
                        if len(runlist) > 1:
                            alone.add(k)
                            rerun = runlist[j:]
                        else:
                            rerun = []
                        break
                    if r.timed_out and detail[1].startswith("no output"):
                        # a load spike or a hang: verify decides (and says timeout)
                        individual.add((k, pending.pop(k)))
                        rerun = runlist[j + 1:]
                        break
                    if raced and detail[1].startswith("no output"):
                        detail = (detail[0], f"{detail[1]}: ThreadSanitizer: data race")
                    c = pending.pop(k)
                    if detail[1].startswith("no output") and not r.ok and j > 0 and not raced and not any(
                            (work / "out" / f"{nm}.out").exists() for nm in run_files[k]):
                        # nothing of it ran: the process died in an earlier function's epilogue
                        individual.add((k, c))
                    else:
                        v = Verdict(target=target, status="failed", built=True, executor=executor, isolation=iso,
                                    tests_total=len(files[k]),
                                    reason=f"wrong result on test {detail[0].split('_', 1)[1]} ({label}): {detail[1]}")
                        v.logs.append(f"rejected in a batch of {len(sel)}")
                        out[k][c] = v
                    if not r.ok:
                        rerun = runlist[j + 1:]
                        break
                else:
                    if not r.ok and runlist and not tsan_failed:
                        # every output right but the process failed afterwards: verify decides the last one
                        k = runlist[-1]
                        if k in pending:
                            individual.add((k, pending.pop(k)))
                queue = [k for k in rerun if k in pending] + queue
        total_label = ", ".join(dict.fromkeys(c.label for c in configs if c.kind != "race"))
        n_rounds = max((c.round + 1 for c in configs if c.kind == "race"), default=0)
        if n_rounds:
            total_label += f", race stage up to {n_rounds} round(s)"
        for k, c in pending.items():
            n = len(files[k])
            v = Verdict(target=target, status="verified", built=True, tests_passed=n, tests_total=n,
                        executor=executor, isolation=iso, speedup_reason="timing disabled")
            v.logs.append(f"verified in a batch of {len(sel)} ({total_label})")
            if items[k].dropped_cases:
                v.logs.append(f"{len(items[k].dropped_cases)} case(s) dropped: non-finite reference output or over the case-time cap")
            out[k][c] = v
    finally:
        _rmtree(work)

"""Parallelizing compilers as baseline "translations" for the openmp target:
GCC's auto-parallelizer and, where clang has it, LLVM's Polly.

The candidate is the sequential source itself, compiled with
``-O2 -ftree-parallelize-loops=N`` (GCC's parloops pass, which emits libgomp
calls for loops it proves independent). It is judged like any OpenMP
candidate: the same reference, the same test cases, 1/2/3-thread runs and
the same timing protocol as ``sandbox.verify``; only the build differs, and
the policy check is replaced by a fact check: a build in which GCC
parallelized no loop is a sequential program, so it fails as "did not use
its model" (GCC reports what it parallelized with ``-fopt-info-loop-optimized``), with GCC's own
reason from its parloops dump (``parloops_failures``). On most kernels that is the finding, not a
harness fault: GCC 12's parloops does not version loops for pointer parameters that may alias (saxpy's
x and y without ``restrict``), and reorders no floating-point reduction without -ffast-math (sum);
``no_loop_parallelized`` tells that sequential build (1.0x) from a failure.

Polly (``clang -O3 -mllvm -polly -mllvm -polly-parallel``, see ``polly_clang``)
is judged the same way, except that a Polly build that parallelized no loop
is still a valid result: Polly also tiles and interchanges sequential code, so
it is what that compiler makes of the source (``parallel`` in the logs says
which; a Polly build is parallel when it calls libgomp's loop runtime).

``sandbox.verify`` has no per-candidate compiler flags, so this module builds
and runs the candidate with the sandbox's public pieces (prepare_reference,
harness, isolation, locks, compare).
"""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from paralift.types import CaseResult, Candidate, Target, Task, TestSuite, Timing, Verdict

AGENT = "gcc-autopar"
POLLY = "clang-polly"
_PARALLELIZED = re.compile(r"^(?P<file>[^:\s]+):\d+:\d+: optimized: parallelizing (inner|outer) loop", re.M)
# GCC's parloops dump: why a loop was not parallelized ("FAILED: ..."), mapped to what it means for the source
_DUMP = "parloops.dump"
_FAILED = re.compile(r"FAILED: (.+?)\.?$", re.M)
_CAUSES = (
    ("data dependencies exist across iterations",
     "GCC could not prove the iterations independent (parloops does not version loops for pointers that may "
     "alias, the vectorizer's runtime check; 'restrict' parameters or a proof of independence are needed)"),
    ("it is not a part of reduction",
     "a reduction GCC may not reorder (a floating-point reduction needs -ffast-math) or does not recognize"),
)
POLLY_FLAGS = ("-O3", "-mllvm", "-polly", "-mllvm", "-polly-parallel")


def polly_clang() -> str | None:
    """The clang that accepts -mllvm -polly (Debian's and LLVM's own builds do), else None."""
    clang = shutil.which("clang")
    if not clang:
        return None
    try:
        r = subprocess.run([clang, *POLLY_FLAGS, "-x", "c", "-", "-c", "-o", os.devnull],
                           input="int f(void){return 0;}", capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return None if r.returncode else clang


def propose_polly(task: Task) -> Candidate:
    return Candidate(code=task.source, target=Target.OPENMP, agent=POLLY, model="clang " + " ".join(POLLY_FLAGS),
                     notes="the sequential source, optimized and parallelized by LLVM's Polly")


def _calls_gomp(binary: Path) -> bool:
    r = subprocess.run(["nm", "-u", str(binary)], capture_output=True, text=True)
    return "GOMP_parallel" in r.stdout


def propose(task: Task, threads: int) -> Candidate:
    return Candidate(code=task.source, target=Target.OPENMP, agent=AGENT,
                     model=f"gcc -O2 -ftree-parallelize-loops={threads}",
                     notes="the sequential source, parallelized by GCC's parloops pass")


def verify_autopar(task: Task, candidate: Candidate, tests: TestSuite | None, opts, threads: int) -> Verdict:
    from paralift.sandbox import ReferenceError, prepare_reference
    from paralift.sandbox import harness, inputs, isolation, locks
    from paralift.sandbox.compare import compare
    from paralift.sandbox.toolchains import detect

    v = Verdict(target=Target.OPENMP, isolation=isolation.isolation_summary(), executor="cpu")
    try:
        ref = prepare_reference(task, tests, opts)
    except ReferenceError as e:
        v.status, v.reason = "error", str(e)
        return v
    v.tests_total = len(ref.cases)
    sig = task.signature
    unit = "cand.cpp" if task.language == "cpp" else "cand.c"
    drv = "driver.cpp" if task.language == "cpp" else "driver.c"
    work = Path(tempfile.mkdtemp(prefix="paralift-autopar-"))
    try:
        (work / unit).write_text(candidate.code)
        (work / drv).write_text(harness.driver_source(sig, unit, Target.OPENMP, task.language))
        polly = candidate.agent == POLLY
        if polly:
            clang = polly_clang()
            if clang is None:
                v.status, v.reason = "error", "no clang with Polly installed"
                return v
            cmd = [clang + ("++" if task.language == "cpp" else ""), *opts.cflags, *POLLY_FLAGS,
                   drv, "-o", "cand", "-lm", "-lgomp"]
        else:
            tc = detect()
            cc = tc.cxx.path if task.language == "cpp" else tc.cc.path
            cmd = [cc, *opts.cflags, f"-ftree-parallelize-loops={threads}", "-fopt-info-loop-optimized",
                   f"-fdump-tree-parloops2-details={_DUMP}", drv, "-o", "cand", "-lm"]
        with locks.shared():
            r = isolation.run(cmd, work, opts.build_limits)
        v.build_log = (r.stderr + r.stdout)[-4000:]
        if not r.ok:
            first = next((l for l in v.build_log.splitlines() if "error" in l.lower()), v.build_log[:200])
            v.reason = f"does not compile: {first.strip()[:300]}"
            return v
        v.built = True
        if polly:
            v.logs.append("parallel: " + ("yes" if _calls_gomp(work / "cand") else "no (Polly parallelized no loop)"))
        # only the candidate's loops: the driver's own loops (input generation, output writing) do not count
        loops = [m for m in _PARALLELIZED.finditer(r.stderr + r.stdout) if Path(m["file"]).name == unit]
        if not polly:
            v.logs.append(f"gcc parallelized {len(loops)} loop(s)")
        if not loops and not polly:
            v.policy_ok = False
            why = parloops_failures(work / _DUMP, set(re.findall(r"\b(\w+)\s*\(", candidate.code)) - {"main"})
            v.policy_violations = ["GCC's auto-parallelizer parallelized no loop (the build is sequential)"
                                   + (": " + "; ".join(why) if why else "")]
            v.reason = "policy: " + v.policy_violations[0]
            return v

        def run(cases, env, reps=1, workdir=work, binary="./cand"):
            (workdir / "out").mkdir(exist_ok=True)
            for c in cases:
                for ext in (".out", ".time"):
                    (workdir / "out" / f"{c}{ext}").unlink(missing_ok=True)
            return isolation.run([binary, str(reps), "out", *cases], workdir, opts.run_limits, env=env,
                                 ro_binds=ref.binds)

        def check(name, res):
            out = work / "out" / f"{name}.out"
            if not out.exists():
                return "no output written" if res.ok else res.describe()
            try:
                return compare(ref.expected[name], inputs.read_outputs(sig, out))
            except ValueError as e:
                return f"unreadable output ({e})"

        failed: dict[str, CaseResult] = {}
        for t in opts.threads:
            for _ in range(1 if t == 1 else opts.repeats):
                with locks.shared():
                    res = run(ref.cases, {"OMP_NUM_THREADS": str(t)})
                for name in ref.cases:
                    if name not in failed:
                        detail = check(name, res)
                        if detail:
                            failed[name] = CaseResult(name, False, f"threads={t}", detail)
        v.failures = list(failed.values())
        v.tests_passed = v.tests_total - len(failed)
        if failed:
            f = v.failures[0]
            v.reason = f"wrong result on test {f.name} ({f.config}): {f.detail}"
            return v
        if not opts.timing:
            v.speedup_reason = "timing disabled"
            v.status = "verified"
            return v
        _time(task, ref, v, opts, threads, run, check, work)
        return v
    finally:
        shutil.rmtree(work, ignore_errors=True)


_FUNCTION = re.compile(r"^;; Function (\S+) ", re.M)


def parloops_failures(dump: Path, functions: set[str] | None = None) -> list[str]:
    """Why GCC's parloops pass kept each loop sequential, from its -details dump: the distinct FAILED
    reasons, each with what it means for the source (possible aliasing, a floating-point reduction).
    ``functions``: only these functions' sections (the candidate's, not the driver's)."""
    try:
        text = dump.read_text(errors="replace")
    except OSError:
        return []
    heads = list(_FUNCTION.finditer(text))
    sections = [text[h.end():(heads[i + 1].start() if i + 1 < len(heads) else len(text))]
                for i, h in enumerate(heads) if functions is None or h.group(1) in functions]
    out: list[str] = []
    for m in _FAILED.finditer("\n".join(sections)):
        raw = m.group(1).strip()
        why = next((meaning for key, meaning in _CAUSES if key in raw), raw)
        if why not in out:
            out.append(why)
    return out


def no_loop_parallelized(v: Verdict) -> bool:
    """A gcc-autopar verdict whose build GCC left sequential (it ran the sequential code: 1.0x), as
    opposed to one that failed to build or computed a wrong result."""
    return v.status != "verified" and v.built and not v.policy_ok and not v.failures


def _time(task, ref, v, opts, threads, run, check, work) -> None:
    from paralift.sandbox import locks
    from paralift.sandbox.timing import Samples, reps_for
    try:  # the sandbox's own calibration, so every agent is timed on the same case
        from paralift.sandbox.verify import _ensure_timing_case
        _ensure_timing_case(ref, opts)
        case, reps = ref.timing_case, ref.timing_reps
    except ImportError:
        case = max(ref.cases, key=lambda n: ref.seconds.get(n, 0.0))
        reps = reps_for(ref.seconds.get(case, 0.0), opts.timing_min_s * 1.25)
    if case is None:
        v.status = "verified"
        v.speedup_reason = ref.timing_note or "no timing case"
        return
    ref_work = Path(tempfile.mkdtemp(prefix="paralift-autopar-ref-"))
    samples = Samples([], [])
    limits = dataclasses.replace(opts.run_limits, wall_s=max(opts.run_limits.wall_s, 120))
    opts_run = dataclasses.replace(opts, run_limits=limits)
    try:
        for _ in range(opts.timing_runs):
            with locks.exclusive():
                rr = _run_ref(ref, ref_work, case, reps, opts_run)
                rc = run([case], {"OMP_NUM_THREADS": str(threads)}, reps=reps)
            tr, tcand = _read_time(ref_work, case), _read_time(work, case)
            if not rc.ok or tcand is None:
                v.status, v.reason = "failed", f"failed at the timing size: {rc.describe()}"
                return
            if rr.ok and tr is not None:
                samples.reference.append(tr)
                samples.candidate.append(tcand)
        diff = check(case, rc)
        if diff:
            v.status, v.reason = "failed", f"wrong result at the timing size: {diff}"
            v.failures.append(CaseResult(case, False, f"timing, threads={threads}", diff))
            return
    finally:
        shutil.rmtree(ref_work, ignore_errors=True)
    v.status = "verified"
    if not samples.reference:
        v.speedup_reason = "the reference could not be timed"
        return
    speedup, spread = samples.speedup()
    v.timing = Timing(sequential_s=float(np.median(samples.reference)) / reps,
                      candidate_s=float(np.median(samples.candidate)) / reps, speedup=speedup, spread=spread,
                      runs=len(samples.reference), size={"case": case, "reps": reps}, workers=threads)
    v.speedup = round(speedup, 3)


def _run_ref(ref, workdir: Path, case: str, reps: int, opts):
    from paralift.sandbox import isolation
    (workdir / "out").mkdir(exist_ok=True)
    for ext in (".out", ".time"):
        (workdir / "out" / f"{case}{ext}").unlink(missing_ok=True)
    return isolation.run(["refbin/ref", str(reps), "out", case], workdir, opts.run_limits, ro_binds=ref.binds)


def _read_time(workdir: Path, case: str) -> float | None:
    try:
        return float((workdir / "out" / f"{case}.time").read_text().strip())
    except (OSError, ValueError):
        return None

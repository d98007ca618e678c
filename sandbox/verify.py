"""`verify(task, candidate, tests) -> Verdict`: the judge everything relies on.

1. policy checks on the candidate text;
2. the sequential reference is built once per (task, suite): test cases that
   make it misbehave under AddressSanitizer/UBSan are discarded, and its
   outputs on the rest are the expected outputs;
3. the candidate is built (CUDA: nvcc is the gate) and run on every case in
   several configurations (1, 2 and 3 threads or ranks, repeated so that races
   show; CUDA forward and reverse thread order and under ASan when emulated);
   an OpenMP candidate that passes is also built at -O0 and run on the race
   cases, where a variable wrongly shared is no longer hidden in a register;
   an emulated CUDA candidate runs two mid-size cases under ThreadSanitizer,
   which sees lost updates between blocks that no output shows;
4. a candidate that passes everything is timed against the reference.
"""
from __future__ import annotations

import atexit
import dataclasses
import functools
import hashlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paralift.types import CaseResult, Candidate, Target, Task, TestCase, TestSuite, Timing, Verdict, to_jsonable

from . import harness, inputs, isolation, locks, paired, policy, timing
from .races import find_cuda_races, find_races
from .compare import case_terms, compare, depends_on_input
from .isolation import Limits, RunResult
from .timing import reps_for
from .toolchains import MPI_FLAGS, detect


class ReferenceError(Exception):
    """The sequential code itself cannot serve as a reference (one line)."""


@dataclass
class VerifyOptions:
    threads: tuple[int, ...] = (1, 2, 3)
    ranks: tuple[int, ...] = (1, 2, 3)
    repeats: int = 2                       # runs of each parallel configuration
    timing: bool = True
    timing_runs: int = 4                   # least pairs of (reference, candidate) processes
    timing_min_processes: int = 4          # paired: least processes, then added in pairs (timing.MIN_PROCESSES)
    timing_max_runs: int = 40              # most pairs
    timing_cap_s: float = 10.0             # per input profile: pairs are added until the speedup's 95 %
    timing_half_width: float = 0.05        # interval is within +-timing_half_width, or this time is spent
    pin: bool = True                       # timed runs pin threads (OMP_PROC_BIND) and ranks (-bind-to core)
    paired: bool = True                    # OpenMP/MPI: reference and candidate interleaved in one process
                                           # (sandbox.paired; processes are then the interval's units)
    timing_min_s: float = 0.2              # sequential time per timed process
    timing_workers: int = 0                # threads/ranks when timing (0: all cores)
    timing_max_bytes: int = 96 << 20       # input size cap for the timing case
    sanitize_inputs: bool = True
    seed: int = 0
    cflags: tuple[str, ...] = ("-O2",)
    # OpenMP race stage, for a candidate that passed everything else: rounds
    # of the race cases, each round one run of the normal build with
    # race_threads and one of a -O0 build with unoptimized_threads, until a
    # test fails. At -O2 a lost update of an accumulator needs the threads to
    # overlap in time, which a busy machine makes rare; at -O0 a variable
    # wrongly shared (an inner loop counter dropped from private) is no longer
    # hidden in a register. Rounds: enough for race_budget_s of reference
    # time on those cases, at least 2, at most race_rounds (0: no stage).
    race_rounds: int = 6
    race_budget_s: float = 1.0
    race_threads: tuple[int, ...] = (2,)
    unoptimized_threads: tuple[int, ...] = (3,)
    # Stop at the first configuration with a failing test: a rejected
    # candidate needs no further evidence, and a hanging one would otherwise
    # pay a time limit per configuration. The verdict is the same, only
    # `failures` may list fewer cases.
    fail_fast: bool = True
    # A candidate run is stopped when it takes slow_factor x the reference's
    # time on the same cases + slow_grace_s (plus process start-up, see
    # candidate_limits); run_limits.wall_s stays the ceiling. A run stopped
    # there is run once more with SLOW_RETRY x that limit (a load spike on a
    # shared machine), and only then reported as a timeout.
    slow_factor: float = 10.0
    slow_grace_s: float = 1.0
    # A suite that can tell (issue 19): at least min_cases valid cases, and the
    # sequential code misbehaving on at most max_discarded of the generated
    # ones (more means the model of the inputs does not fit the function, and
    # the cases left are the ones that happened to fit it). Lowered only by
    # unit tests of other parts; the product never does.
    min_cases: int = inputs.MIN_SUITE_CASES
    max_discarded: float = inputs.MAX_DISCARDED_FRACTION
    # CUDA on CPU emulation: cases (the longest ones whose reference call
    # takes at most TSAN_CASE_SECONDS) also run under ThreadSanitizer.
    cuda_tsan_cases: int = 2
    # OpenMP: as many cases under ThreadSanitizer with LLVM's OpenMP runtime
    # and Archer (omp_tsan.py), where clang and libarcher are installed; a
    # race there fails the candidate whatever the machine's load (0: off)
    omp_tsan_cases: int = 2
    omp_tsan_threads: tuple[int, ...] = (2, 3)
    build_limits: Limits = field(default_factory=lambda: Limits(wall_s=180, cpu_s=300, max_pids=256))
    run_limits: Limits = field(default_factory=lambda: Limits(wall_s=60, cpu_s=120))

    def workers(self) -> int:
        return self.timing_workers or os.cpu_count() or 2


# MPICH's ch4 progress engine spins while a rank waits; with more ranks than
# free cores a waiting rank burns its whole time slice before the rank it
# waits for runs (3000 MPI_Allreduce at 3 ranks on a loaded 2-core machine:
# 35 s). Sleeping a microsecond after each empty poll: 0.9 s. Results are
# unchanged; other MPI implementations ignore these variables. Correctness
# runs only: timed runs measure what the user's mpirun would do.
MPI_YIELD_ENV = {"MPIR_CVAR_CH4_PROGRESS_THROTTLE": "1", "MPIR_CVAR_CH4_PROGRESS_THROTTLE_NO_PROGRESS_COUNT": "1"}


# ----------------------------------------------------------------- reference

_TMP_DIRS: list[str] = []
_TMP_LOCK = threading.Lock()


def _mkdtemp(prefix: str) -> Path:
    d = tempfile.mkdtemp(prefix=prefix)
    with _TMP_LOCK:
        _TMP_DIRS.append(d)
    return Path(d)


def _rmtree(d: Path) -> None:
    shutil.rmtree(d, ignore_errors=True)
    with _TMP_LOCK:
        if str(d) in _TMP_DIRS:
            _TMP_DIRS.remove(str(d))


@atexit.register
def _cleanup() -> None:
    for d in list(_TMP_DIRS):
        shutil.rmtree(d, ignore_errors=True)


def _source_name(language: str, stem: str) -> str:
    return f"{stem}.cpp" if language == "cpp" else f"{stem}.c"


def _compile_cmd(language: str, sources: list[str], out: str, cflags: tuple[str, ...], extra: list[str] = ()) -> list[str]:
    tc = detect()
    cc = tc.cxx.path if language == "cpp" else tc.cc.path
    return [cc, *cflags, *extra, *sources, "-o", out, "-lm"]


def _tail(text: str, n: int = 4000) -> str:
    return text if len(text) <= n else "…" + text[-n:]


def _first_error(log: str) -> str:
    for line in log.splitlines():
        if "error" in line.lower():
            return line.strip()[:300]
    lines = [l for l in log.splitlines() if l.strip()]
    return lines[0].strip()[:300] if lines else "(no compiler output)"


@dataclass
class Reference:
    task: Task
    suite: TestSuite
    dir: Path                              # holds in/ (case inputs) and bin/ (reference binary)
    cases: list[str]                       # valid case names (files in/<name>.in)
    expected: dict[str, dict[str, np.ndarray]]
    discarded: list[str]
    seconds: dict[str, float]              # one call, per case
    timing_case: str | None = None
    timing_reps: int = 1
    timing_note: str = ""
    process_s: float = 0.0                 # wall time of the reference process on every case (start-up, I/O)
    terms: dict[str, int] = field(default_factory=dict)   # case -> most terms a reduction can have (compare)
    specs: dict[str, TestCase] = field(default_factory=dict)   # case -> its TestCase
    skewed_case: str | None = None         # the timing case with few distinct index values (_prepare_skewed)
    skew_note: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def binds(self) -> list[tuple[Path, str]]:
        return [(self.dir / "in", "in"), (self.dir / "bin", "refbin")]


_REFS: dict[str, Reference] = {}
_REFS_LOCK = threading.Lock()
_KEY_LOCKS: dict[str, threading.Lock] = {}


def _with_build_flags(opts: VerifyOptions, task: Task) -> VerifyOptions:
    """`opts` whose cflags end with the task's project flags (headers, defines),
    so that the reference and every candidate build as the project does."""
    flags = tuple(task.build_flags)
    if not flags or opts.cflags[len(opts.cflags) - len(flags):] == flags:
        return opts
    return dataclasses.replace(opts, cflags=opts.cflags + flags)


def _header_flags(task: Task, nvcc: bool = False) -> list[str]:
    """The project's include paths and defines alone (nvcc and the CUDA emulation
    set their own standard and code generation)."""
    from paralift.project import preprocessor_flags
    return preprocessor_flags(task.build_flags, nvcc)


def _ref_key(task: Task, suite: TestSuite | None, opts: VerifyOptions) -> str:
    blob = json.dumps([task.source, task.language, to_jsonable(task.signature),
                       to_jsonable(suite) if suite else None, opts.seed, opts.cflags,
                       opts.sanitize_inputs, opts.timing_min_s, opts.min_cases, opts.max_discarded],
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _run_driver(binary: str, workdir: Path, cases: list[str], binds, limits: Limits, reps: int = 1,
                env: dict[str, str] | None = None, launcher: list[str] = ()) -> RunResult:
    (workdir / "out").mkdir(exist_ok=True)
    for c in cases:
        for ext in (".out", ".time"):
            try:
                (workdir / "out" / (c + ext)).unlink()
            except FileNotFoundError:
                pass
    return isolation.run([*launcher, binary, str(reps), "out", *cases], workdir, limits, env=env, ro_binds=binds)


def _read_time(workdir: Path, case: str) -> float | None:
    try:
        return float((workdir / "out" / f"{case}.time").read_text().strip())
    except (OSError, ValueError):
        return None


def prepare_reference(task: Task, suite: TestSuite | None = None, opts: VerifyOptions | None = None) -> Reference:
    """Build the sequential reference and its expected outputs (cached per process)."""
    opts = _with_build_flags(opts or VerifyOptions(), task)
    key = _ref_key(task, suite, opts)
    with _REFS_LOCK:
        if key in _REFS:
            return _REFS[key]
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        with _REFS_LOCK:
            if key in _REFS:
                return _REFS[key]
        ref = _build_reference(task, suite, opts)
        with _REFS_LOCK:
            _REFS[key] = ref
        return ref


def _build_reference(task: Task, suite: TestSuite | None, opts: VerifyOptions) -> Reference:
    sig = task.signature
    try:
        inputs.check_signature(sig)
        driver = harness.driver_source(sig, _source_name(task.language, "ref"), None, task.language)
    except ValueError as e:
        raise ReferenceError(str(e)) from None
    d = _mkdtemp("paralift-ref-")
    (d / "in").mkdir()
    (d / "bin").mkdir()
    src = d / "bin" / _source_name(task.language, "ref")
    src.write_text(task.source)
    drv = d / "bin" / _source_name(task.language, "driver")
    drv.write_text(driver)
    with locks.shared():
        r = isolation.run(_compile_cmd(task.language, [drv.name], "ref", opts.cflags), d / "bin", opts.build_limits)
    if not r.ok:
        raise ReferenceError(f"the sequential code does not build: {_first_error(r.stderr + r.stdout)}")
    if suite is None:
        suite = _calibrated_suite(task, d, opts)
    if suite.function != sig.name:
        raise ReferenceError(f"the test suite is for {suite.function!r}, not {sig.name!r}")
    names, terms, specs = [], {}, {}
    for c in suite.cases:
        name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in c.name)[:60] or "case"
        while name in names:
            name += "_"
        names.append(name)
        terms[name] = case_terms(c)
        specs[name] = c
        inputs.write_case(sig, c, d / "in" / f"{name}.in")
    discarded: list[str] = []
    scratch = _mkdtemp("paralift-refrun-")
    try:
        if opts.sanitize_inputs and detect().cgroups:
            names, discarded = _sanitize_cases(task, d, scratch, names, opts)
        if not names:
            raise ReferenceError("no valid test input: the sequential code misbehaves on every generated case"
                                 + (f" ({discarded[0]})" if discarded else ""))
        weak = inputs.suite_weakness(len(names), len(discarded), opts.min_cases, opts.max_discarded)
        if weak:
            raise ReferenceError(weak + (f" (e.g. {discarded[0]})" if discarded else ""))
        expected, seconds = {}, {}
        with locks.shared():
            r = _run_driver("refbin/ref", scratch, names, [(d / "in", "in"), (d / "bin", "refbin")], opts.run_limits)
        if not r.ok:
            raise ReferenceError(f"the sequential code fails on the tests: {r.describe()}; {_tail(r.stderr, 300)}")
        for n in names:
            expected[n] = inputs.read_outputs(sig, scratch / "out" / f"{n}.out")
            seconds[n] = _read_time(scratch, n) or 0.0
        if len(names) > 1 and not depends_on_input(list(expected.values())):
            raise ReferenceError("the tests are vacuous: no output of the function depends on its inputs")
    finally:
        _rmtree(scratch)
    return Reference(task, suite, d, names, expected, discarded, seconds, process_s=r.wall_s, terms=terms,
                     specs=specs)


LARGE_CASE_SECONDS = 0.05


def _calibrated_suite(task: Task, d: Path, opts: VerifyOptions) -> TestSuite:
    """The basic generator's suite with its large case sized by measurement:
    the small cases are timed on the built reference, the cost exponent is
    estimated from the two largest, and the large case is shrunk so that one
    call stays near LARGE_CASE_SECONDS (an O(n^2) kernel on 2^18 elements
    would otherwise run for minutes, longer still under ASan)."""
    sig = task.signature
    suite = inputs.generate_suite(sig, seed=opts.seed)
    small = [c for c in suite.cases if c.tag != "large"]
    large = [c for c in suite.cases if c.tag == "large"]
    if not small or not large:
        return suite
    scratch = _mkdtemp("paralift-cal-")
    try:
        names = []
        for k, c in enumerate(small):
            name = f"cal{k}"
            inputs.write_case(sig, c, d / "in" / f"{name}.in")
            names.append(name)
        limits = dataclasses.replace(opts.run_limits, wall_s=min(opts.run_limits.wall_s, 20))
        with locks.shared():
            r = _run_driver("refbin/ref", scratch, names, [(d / "in", "in"), (d / "bin", "refbin")], limits)
        knobs = [(max(c.scalars.get(n, 0) for n in inputs.size_names(sig) if n in c.scalars)
                  if any(n in c.scalars for n in inputs.size_names(sig)) else max((a.count for a in c.arrays.values()), default=0),
                  _read_time(scratch, n) or 0.0) for c, n in zip(small, names)]
    finally:
        _rmtree(scratch)
        for n in names:
            (d / "in" / f"{n}.in").unlink(missing_ok=True)
    if not r.ok:
        return suite
    knobs = sorted((k, t) for k, t in knobs if k > 0 and t > 0)
    if len(knobs) < 2:
        return suite
    (k1, t1), (k2, t2) = knobs[-2], knobs[-1]
    p = math.log(t2 / t1) / math.log(k2 / k1) if k2 > k1 and t2 > t1 else float(inputs.data_degree(sig))
    p = min(max(p, 1.0), 4.0)
    s_old = inputs.large_size(sig)
    predicted = t2 * (s_old / k2) ** p
    if predicted <= LARGE_CASE_SECONDS:
        return suite
    s_new = max(k2 + 1, int(k2 * (LARGE_CASE_SECONDS / t2) ** (1.0 / p)))
    if s_new >= s_old:
        return suite
    case = inputs.make_case(sig, s_new, suite.seed * 1000 + 899, f"large-{s_new}", "large")
    suite.cases = small + ([case] if case is not None else [])
    return suite


# The reference's ASan + UBSan build, on which cases are checked before use
# (sandbox.batch drops -g: it reads exit statuses, not reports).
REFERENCE_SANITIZER_FLAGS = ("-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                             "-fno-omit-frame-pointer")


def _sanitize_cases(task: Task, d: Path, scratch: Path, names: list[str], opts: VerifyOptions) -> tuple[list[str], list[str]]:
    """Keep only the cases the reference runs cleanly under ASan + UBSan."""
    with locks.shared():
        r = isolation.run(_compile_cmd(task.language, [_source_name(task.language, "driver")], "ref_san",
                                       (*REFERENCE_SANITIZER_FLAGS, *task.build_flags)),
                          d / "bin", opts.build_limits)
    if not r.ok:
        return names, []   # no sanitizer runtime here: keep all, the plain run still checks them
    env = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=99", "UBSAN_OPTIONS": "halt_on_error=1:exitcode=99"}
    binds = [(d / "in", "in"), (d / "bin", "refbin")]
    limits = dataclasses.replace(opts.run_limits, memory_bytes=max(opts.run_limits.memory_bytes, 8 << 30))
    with locks.shared():
        r = _run_driver("refbin/ref_san", scratch, names, binds, limits, env=env)
    if r.ok:
        return names, []
    kept, dropped = [], []
    for n in names:
        with locks.shared():
            r = _run_driver("refbin/ref_san", scratch, [n], binds, limits, env=env)
        if r.ok:
            kept.append(n)
        else:
            why = next((l.strip() for l in r.stderr.splitlines() if "ERROR" in l or "runtime error" in l), r.describe())
            dropped.append(f"{n}: {why[:200]}")
    return kept, dropped


def _ensure_timing_case(ref: Reference, opts: VerifyOptions) -> None:
    """Pick a case (growing the largest one while memory allows) and a repetition
    count so that one timed reference process does ≥ timing_min_s of work."""
    with ref.lock:
        if ref.timing_case is not None or ref.timing_note:
            return
        sig = ref.task.signature
        base = max(ref.cases, key=lambda n: (ref.seconds.get(n, 0.0), n))
        best_name, best_t = base, ref.seconds.get(base, 0.0)
        has_large = any(c.tag == "large" for c in ref.suite.cases) and ref.suite.generator == "deterministic"
        s = inputs.large_size(sig) if has_large else None
        scratch = _mkdtemp("paralift-cal-")
        try:
            grow = 0
            while s is not None and best_t < opts.timing_min_s and grow < 12:
                s2 = int(s * 4 ** (1.0 / inputs.data_degree(sig))) + 1
                case = inputs.make_case(sig, s2, ref.suite.seed * 1000 + 900 + grow, f"timing-{s2}", "timing")
                if case is None or inputs.case_bytes(sig, case) > opts.timing_max_bytes:
                    break
                name = f"timing-{s2}"
                inputs.write_case(sig, case, ref.dir / "in" / f"{name}.in")
                ref.terms[name] = case_terms(case)
                with locks.exclusive():
                    r = _run_driver("refbin/ref", scratch, [name], ref.binds, opts.run_limits)
                t = _read_time(scratch, name)
                if not r.ok or t is None:
                    break
                ref.expected[name] = inputs.read_outputs(sig, scratch / "out" / f"{name}.out")
                ref.seconds[name], ref.specs[name] = t, case
                best_name, best_t, s = name, t, s2
                grow += 1
        finally:
            _rmtree(scratch)
        if best_t <= 0:
            ref.timing_note = "the sequential run is too short to time"
            return
        ref.timing_case = best_name
        ref.timing_reps = reps_for(best_t, opts.timing_min_s * 1.25)
        if best_name not in ref.expected:
            ref.timing_note = "no output for the timing case"
            ref.timing_case = None


# ----------------------------------------------------------------- candidate

def _candidate_file(task: Task, target: Target) -> str:
    if target == Target.CUDA:
        return "cand.cu"
    return _source_name(task.language, "cand")


@dataclass
class _Build:
    ok: bool
    binary: str = "cand"
    launcher: tuple[str, ...] = ()
    executor: str = "cpu"
    log: str = ""
    reason: str = ""
    variants: dict[str, dict[str, str]] = field(default_factory=dict)   # config name -> env
    deferred: dict[str, list[str]] = field(default_factory=dict)       # binary -> build command, run when first needed


def _build_candidate(task: Task, cand: Candidate, work: Path, opts: VerifyOptions) -> _Build:
    tc = detect()
    target = cand.target
    unit = _candidate_file(task, target)
    (work / unit).write_text(cand.code)
    lang = task.language
    logs = []
    if target == Target.OPENMP:
        drv = _source_name(lang, "driver")
        (work / drv).write_text(harness.driver_source(task.signature, unit, target, lang))
        cmd = _compile_cmd(lang, [drv], "cand", opts.cflags, ["-fopenmp"])
    elif target == Target.MPI:
        if not (tc.mpicc.found and tc.mpirun.found):
            return _Build(False, reason="MPI is not installed (pip install mpich)")
        drv = _source_name(lang, "driver")
        (work / drv).write_text(harness.driver_source(task.signature, unit, target, lang))
        mpicc = tc.mpicxx.path if lang == "cpp" else tc.mpicc.path
        cmd = [mpicc, *opts.cflags, *MPI_FLAGS, drv, "-o", "cand", "-lm"]
    else:
        return _build_cuda(task, cand, work, opts)
    with locks.shared():
        r = isolation.run(cmd, work, opts.build_limits)
    logs.append(_tail(r.stderr + r.stdout))
    if not r.ok:
        return _Build(False, log="\n".join(logs), reason=f"does not compile: {_first_error(r.stderr + r.stdout)}")
    if target == Target.MPI:
        return _Build(True, "./cand", (Path(tc.mpirun.path).name,), log="\n".join(logs))
    return _Build(True, "./cand", log="\n".join(logs))


def _build_cuda(task: Task, cand: Candidate, work: Path, opts: VerifyOptions) -> _Build:
    tc = detect()
    if not tc.nvcc.found:
        return _Build(False, reason="nvcc is not installed, and it is the compile gate for CUDA "
                                    "(pip install nvidia-cuda-nvcc nvidia-cuda-runtime)")
    driver = harness.driver_source(task.signature, "cand.cu", Target.CUDA, task.language)
    (work / "driver.cu").write_text(driver)
    nvcc = tc.nvcc.path
    with locks.shared():
        if tc.gpu:
            r = isolation.run([nvcc, "-O2", "-std=c++17", *_header_flags(task, True), "driver.cu", "-o", "cand"], work,
                              opts.build_limits)
        else:
            r = isolation.run([nvcc, *NVCC_GATE_FLAGS, *_header_flags(task, True), "driver.cu", "-o", "gate.o"], work,
                              opts.build_limits)
    log = _tail(r.stderr + r.stdout)
    if not r.ok:
        return _Build(False, log=log, reason=f"does not compile with nvcc: {_first_error(r.stderr + r.stdout)}")
    from . import cuda_profile
    if tc.gpu:
        # the profiling build (sandbox.cuda_profile: bytes per direction, CUDA events around launches),
        # made after the candidate passed
        for name, text in cuda_profile.instrumented_sources(cand.code, driver, emulated=False).items():
            (work / name).write_text(text)
        prof = [nvcc, "-O2", "-std=c++17", *_header_flags(task, True), "driver_prof.cu", "-o", "cand_prof"]
        return _Build(True, "./cand", executor="gpu", log=log, variants={"gpu": {}},
                      deferred={cuda_profile.PROFILE_BINARY: prof})
    from . import cuda_cpu
    missing = cuda_cpu.unsupported_features(cand.code)
    if missing:
        return _Build(False, executor="cpu-emulated", log=log, reason=f"unsupported on CPU emulation: {', '.join(missing)}")
    (work / "cand.cpu.cpp").write_text(cuda_cpu.rewrite(cand.code))
    cpu_driver = driver.replace('#include "cand.cu"', '#include "cand.cpu.cpp"')
    (work / "driver_cpu.cpp").write_text(cpu_driver)
    gxx = tc.cxx.path
    with locks.shared():
        r = isolation.run([gxx, *cuda_cpu.compile_flags(asan=False, opt=EMULATION_OPT), *_header_flags(task),
                           "driver_cpu.cpp", "-o", "cand", "-lm"],
                          work, opts.build_limits)
        log += _tail(r.stderr + r.stdout)
        if not r.ok:
            return _Build(False, log=log, executor="cpu-emulated",
                          reason=f"does not build for CPU emulation: {_first_error(r.stderr + r.stdout)}")
    variants = {"cpu-emulated forward": {cuda_cpu.ORDER_ENV: "forward"},
                "cpu-emulated reverse": {cuda_cpu.ORDER_ENV: "reverse"},
                "cpu-emulated asan": {cuda_cpu.ORDER_ENV: "forward", "__binary": "./cand_asan",
                                      "ASAN_OPTIONS": "detect_leaks=0:exitcode=99"}}
    # The sanitizer builds are made when their runs come (after the plain runs
    # passed, with fail_fast): a candidate that already failed never pays for them.
    deferred = {"./cand_asan": [gxx, *cuda_cpu.compile_flags(asan=True), "driver_cpu.cpp", "-o", "cand_asan",
                                "-lm"]}
    for name, text in cuda_profile.instrumented_sources(cand.code, driver, emulated=True).items():
        (work / name).write_text(text)
    deferred[cuda_profile.PROFILE_BINARY] = [gxx, *cuda_cpu.compile_flags(asan=False, opt=EMULATION_OPT),
                                             *_header_flags(task), "driver_prof_cpu.cpp", "-o", "cand_prof", "-lm"]
    if opts.cuda_tsan_cases:
        # Fibers switch only at barriers, so a lost update between threads of
        # different blocks (a plain `*out += r` instead of atomicAdd) never
        # shows in an output; under ThreadSanitizer every CUDA thread is a
        # fiber ordered only by barriers, and such an update is a data race.
        variants["cpu-emulated tsan"] = {cuda_cpu.ORDER_ENV: "forward", "__binary": "./cand_tsan",
                                         "TSAN_OPTIONS": f"exitcode={cuda_cpu.RACE_EXIT}:halt_on_error=1"}
        deferred["./cand_tsan"] = [gxx, *cuda_cpu.compile_flags(tsan=True), "driver_cpu.cpp", "-o",
                                   "cand_tsan", "-lm"]
    return _Build(True, "./cand", executor="cpu-emulated", log=log, variants=variants, deferred=deferred)


def _configs(build: _Build, target: Target, opts: VerifyOptions) -> list[tuple[str, dict[str, str], list[str], str]]:
    """(label, env, launcher, binary) for each correctness run."""
    out = []
    if target == Target.OPENMP:
        for t in opts.threads:
            for rep in range(1 if t == 1 else opts.repeats):
                out.append((f"threads={t}", {"OMP_NUM_THREADS": str(t)}, [], build.binary))
    elif target == Target.MPI:
        for n in opts.ranks:
            for rep in range(1 if n == 1 else opts.repeats):
                out.append((f"ranks={n}", {"OMP_NUM_THREADS": "1", **MPI_YIELD_ENV}, [*build.launcher, "-n", str(n)],
                            build.binary))
    else:
        for label, env in build.variants.items():
            env = dict(env)
            binary = env.pop("__binary", build.binary)
            out.append((label, env, [], binary))
    return out


# Time limits that scale with the reference (VerifyOptions.slow_factor): how
# much slower than the sequential code a correct candidate may be in each
# kind of run before it counts as hanging. Emulated CUDA runs every GPU thread
# on the CPU, sanitizers and -O0 slow everything down; ThreadSanitizer runs
# only cases of at most TSAN_CASE_SECONDS (about 50x slower than emulation).
SLOWDOWN_ALLOWANCE = {"emulated": 30.0, "asan": 3.0, "-O0": 5.0, "tsan": 50.0}
MPI_START_S = 5.0          # mpirun starting 3 ranks on a loaded 2-core machine
SLOW_RETRY = 4.0


def candidate_limits(opts: VerifyOptions, call_s: float, process_s: float, label: str = "",
                     mpi: bool = False) -> Limits:
    """The run limits of a candidate process on cases whose reference calls
    take `call_s` together, the reference process itself `process_s` (start-up
    and I/O of the same cases): slow_factor x the calls + slow_grace_s, with
    the allowance of the run's kind (SLOWDOWN_ALLOWANCE, matched in `label`)
    and an MPI launcher's start-up; never above run_limits.wall_s."""
    allow = 1.0
    for key, factor in SLOWDOWN_ALLOWANCE.items():
        if key in label:
            allow *= factor
    wall = opts.slow_factor * allow * call_s + opts.slow_grace_s + 2.0 * process_s + (MPI_START_S if mpi else 0.0)
    return dataclasses.replace(opts.run_limits, wall_s=round(min(opts.run_limits.wall_s, wall), 3))


def _run_limited(binary: str, work: Path, cases: list[str], ref: "Reference", opts: VerifyOptions, label: str,
                 env: dict[str, str] | None = None, launcher: list[str] = (), reps: int = 1) -> RunResult:
    """A candidate run under candidate_limits; one stopped there runs again
    with SLOW_RETRY x the limit before it counts as a timeout."""
    call_s = reps * sum(ref.seconds.get(c, 0.0) for c in cases)
    limits = candidate_limits(opts, call_s, ref.process_s, label, mpi=bool(launcher))
    for attempt in range(2):
        with locks.shared():
            r = _run_driver(binary, work, cases, ref.binds, limits, env=env, launcher=launcher, reps=reps)
        if not r.timed_out or limits.wall_s >= opts.run_limits.wall_s:
            break
        limits = dataclasses.replace(limits, wall_s=round(min(opts.run_limits.wall_s, SLOW_RETRY * limits.wall_s), 3))
    return r


def timeout_detail(r: RunResult, opts: VerifyOptions) -> str:
    """The failure line of a run stopped by its wall-clock limit."""
    scaled = r.limits.wall_s < opts.run_limits.wall_s
    why = f" ({opts.slow_factor:g}x the sequential code's time on these cases + {opts.slow_grace_s:g} s, retried)" \
        if scaled else ""
    return f"timeout: ran over {r.limits.wall_s:g} s{why} and was killed"


def failure_reason(first: CaseResult) -> str:
    """The verdict's reason for its first failing case: a timeout is not a wrong result."""
    m = re.fullmatch(r"alias-(.+)-at-(.+)-([0-9]+)", first.name)
    why = ""
    if m:
        # an overlapping call (tester.alias_cases): legal C for these parameters, so the candidate changed the
        # function's meaning; say so, and how a caller who never overlaps them can tell the compiler
        p, base, off = m.groups()
        why = (f" [an overlapping call: '{p}' passed as '{base}' + {off}, which the sequential code allows; "
               f"declare the pointers restrict if callers never overlap them]")
    if first.detail.startswith("timeout: "):
        return f"timeout on test {first.name} ({first.config}): {first.detail[len('timeout: '):]}{why}"
    if first.detail.startswith("ThreadSanitizer"):
        return f"data race on test {first.name} ({first.config}): {first.detail}{why}"
    return f"wrong result on test {first.name} ({first.config}): {first.detail}{why}"


def verify(task: Task, candidate: Candidate, tests: TestSuite | None = None,
           options: VerifyOptions | None = None) -> Verdict:
    """Judge one candidate against the sequential reference of `task`."""
    opts = _with_build_flags(options or VerifyOptions(), task)
    target = candidate.target
    v = Verdict(target=target, isolation=isolation.isolation_summary())
    v.policy_violations = policy.check(candidate.code, target, task.function, task.source, task.language)
    v.policy_ok = not v.policy_violations
    if not v.policy_ok:
        v.reason = "policy: " + v.policy_violations[0]
        return v
    # A busy machine can hide a race from every run, so the regions are read
    # too; the tests still run, so that a failing one can be shown.
    races = (find_races(candidate.code, task.language) if target in (Target.OPENMP, Target.MPI)
             else find_cuda_races(candidate.code) if target == Target.CUDA else [])
    v.logs.extend(races)
    try:
        ref = prepare_reference(task, tests, opts)
    except ReferenceError as e:
        v.status, v.reason = "error", str(e)
        return v
    v.tests_total = len(ref.cases)
    if ref.discarded:
        v.logs.append(f"{len(ref.discarded)} generated case(s) discarded (the sequential code misbehaves on them): "
                      + "; ".join(ref.discarded[:3]))
    work = _mkdtemp("paralift-cand-")
    try:
        build = _build_candidate(task, candidate, work, opts)
        v.build_log, v.executor = build.log, build.executor
        if not build.ok:
            v.status = "error" if build.reason.startswith(("unsupported", "nvcc is not", "MPI is not")) else "failed"
            v.reason = build.reason
            return v
        v.built = True
        failed: dict[str, CaseResult] = {}
        unavailable: set[str] = set()
        configs = _configs(build, target, opts)
        if races:
            # Already rejected: one parallel run is enough to show a failing test (and the
            # ThreadSanitizer run, which sees the race the emulated runs cannot show).
            configs = ([c for c in configs if c[0] != "threads=1"][:1] or configs[:1]) + \
                [c for c in configs[1:] if c[0].endswith("tsan")]
        for label, env, launcher, binary in configs:
            if failed and opts.fail_fast:
                break
            if binary in build.deferred:
                with locks.shared():
                    rb = isolation.run(build.deferred.pop(binary), work, opts.build_limits)
                if not rb.ok:
                    unavailable.add(binary)             # no such runtime here (no ASan): its runs are skipped
            if binary in unavailable:
                continue
            cases = ref.cases
            if label.endswith("asan"):
                # the emulated kernels under ASan look for memory errors, which every size shows; the race
                # cases are sized for real concurrency and take minutes there on a busy machine
                cases = [c for c in ref.cases if not c.startswith("race-")] or ref.cases
            elif label.endswith("tsan"):
                cases = tsan_case_names(ref.cases, ref.seconds, opts.cuda_tsan_cases)
            r = _run_limited(binary, work, cases, ref, opts, label, env=env, launcher=launcher)
            if label.endswith("tsan") and not r.ok and "ThreadSanitizer: data race" not in r.stderr:
                # TSan itself failed (an unsupported memory layout, ...): no evidence either way
                v.logs.append(f"{label}: skipped ({r.describe()}: {_interesting_stderr(r.stderr)})")
                continue
            new_failures = 0
            for name in cases:
                if name in failed:
                    continue
                detail = _check_case(task, ref, work, name, r, opts)
                if detail:
                    failed[name] = CaseResult(name, False, label, detail)
                    new_failures += 1
                    if not r.ok and not (work / "out" / f"{name}.out").exists():
                        break                   # the process stopped here: the later cases never ran
            if not r.ok and not new_failures and cases[-1] not in failed:
                # Every output was right but the process failed afterwards
                # (heap corruption found at free, a crash at exit, ...).
                err = _interesting_stderr(r.stderr)
                failed[cases[-1]] = CaseResult(cases[-1], False, label,
                                                   f"{r.describe()} after writing its outputs{': ' + err if err else ''}")
            if len(failed) == len(ref.cases):
                break
        if not failed and target == Target.OPENMP and opts.race_rounds:
            failed.update(_race_stage(task, ref, build, work, opts))
        if not failed and not races and target == Target.OPENMP and opts.omp_tsan_cases:
            failed.update(_omp_tsan_stage(task, ref, work, opts, v.logs))
        v.failures = list(failed.values())
        v.tests_passed = v.tests_total - len(failed)
        if failed:
            v.reason = failure_reason(v.failures[0])
            if races:
                v.reason += f"; {races[0]}"
            return v
        if races:
            v.reason = races[0] + " (the tests passed on this run, but lost updates depend on timing)"
            return v
        if _time_candidate(task, ref, build, work, v, opts):
            v.status = "verified"
            if target == Target.CUDA:
                from . import cuda_profile     # bytes moved, kernel and end-to-end time; the transfer rule
                cuda_profile.profile(task, ref, build, work, v, opts)
        return v
    finally:
        _rmtree(work)


UNOPTIMIZED = "-O0"
# Without a GPU nvcc is a compile gate only: device code is compiled as usual
# (cicc, ptxas), and the host code is checked by cudafe++ and g++'s front end
# (-fsyntax-only: no host object; templates are still instantiated). Host code
# generation was a third of the gate at -O0 (55% at -O2), and the emulated
# build compiles that host code in full anyway. Measured: host calls of a
# __device__ function, host type errors, wrong kernel arguments, template
# errors and ptxas limits fail the gate as before.
NVCC_GATE_FLAGS = ("-O0", "-std=c++17", "-c", "-Xcompiler", "-fsyntax-only")
# The emulated build's optimization: -O1 runs the emulated kernels as fast as
# -O2 and compiles 20% faster (the build used to pass -O1 that compile_flags'
# default -O2 then overrode)
EMULATION_OPT = "-O1"
TSAN_CASE_SECONDS = 0.002


def tsan_case_names(names: list[str], seconds: dict[str, float], n: int) -> list[str]:
    """The n longest cases whose reference call takes at most TSAN_CASE_SECONDS
    (ThreadSanitizer runs the emulated threads ~50x slower), in suite order.
    `names` are the suite's case names, `seconds` the reference's time per case
    (shared with the batch verifier, which must pick the same cases)."""
    small = [c for c in names if not c.startswith("race-") and seconds.get(c, 0.0) <= TSAN_CASE_SECONDS]
    pick = set(sorted(small, key=lambda c: (seconds.get(c, 0.0), c))[-n:])
    # Overlapping calls shifted by an element (tester.alias_cases): a candidate without an overlap check
    # races there across iterations, which a run at these sizes rarely shows and ThreadSanitizer does.
    pick |= set([c for c in names if re.fullmatch(r"alias-.+-at-.+-[1-9][0-9]*", c)][:2])
    return [c for c in names if c in pick] or names[:1]


def race_case_names(names: list[str], seconds: dict[str, float]) -> list[str]:
    """The suite's race cases (the tester's large ramps), else its longest case."""
    races = [c for c in names if c.startswith("race-")]
    if races:
        return races
    return [max(names, key=lambda n: (seconds.get(n, 0.0), n))] if names else []


def race_round_count(opts: VerifyOptions, spent_s: float) -> int:
    """Rounds of the OpenMP race stage for race cases whose reference calls
    take `spent_s` together (see VerifyOptions.race_rounds)."""
    if not opts.race_rounds:
        return 0
    return min(opts.race_rounds, max(2, math.ceil(opts.race_budget_s / max(spent_s, 1e-4))))


def _race_stage(task: Task, ref: Reference, build: _Build, work: Path, opts: VerifyOptions) -> dict[str, CaseResult]:
    """Failures of the OpenMP candidate in `work` (driver already written) in
    the race stage (see VerifyOptions.race_rounds): rounds of the race cases,
    built as usual with opts.race_threads and at -O0 with
    opts.unoptimized_threads, stopping at the first failing test.

    Each run is one more chance for threads to overlap: on a loaded machine a
    lost update of an unprotected accumulator shows in about half the runs.
    Optimized code also hides a shared scalar that every thread writes (a loop
    counter missing from `private`) in a register until the loop ends; at -O0
    each access is a load or store, so threads that overlap, or one preempted
    mid-loop, reset and skip each other's iterations. A -O0 build failure is
    not the candidate's (it built at the normal level): those runs are skipped."""
    cases = race_case_names(ref.cases, ref.seconds)
    if not cases:
        return {}
    modes = [(build.binary, t, f"threads={t} race") for t in opts.race_threads]
    if opts.unoptimized_threads:
        cflags = tuple(f for f in opts.cflags if not f.startswith("-O")) + (UNOPTIMIZED,)
        cmd = _compile_cmd(task.language, [_source_name(task.language, "driver")], "cand_O0", cflags, ["-fopenmp"])
        with locks.shared():
            r = isolation.run(cmd, work, opts.build_limits)
        if r.ok:
            modes += [("./cand_O0", t, f"threads={t} {UNOPTIMIZED}") for t in opts.unoptimized_threads]
    rounds = race_round_count(opts, sum(ref.seconds.get(c, 0.0) for c in cases))
    failed: dict[str, CaseResult] = {}
    for k in range(rounds):
        for binary, t, label in modes:
            r = _run_limited(binary, work, cases, ref, opts, label, env={"OMP_NUM_THREADS": str(t)})
            for name in cases:
                detail = _check_case(task, ref, work, name, r, opts)
                if detail and name not in failed:
                    failed[name] = CaseResult(name, False, f"{label}, round {k + 1}/{rounds}", detail)
            if failed:
                return failed
    return failed


def _omp_tsan_stage(task: Task, ref: Reference, work: Path, opts: VerifyOptions,
                    logs: list[str]) -> dict[str, CaseResult]:
    """Failures of the OpenMP candidate in `work` (driver already written) under ThreadSanitizer with
    an OpenMP-aware runtime (omp_tsan.py): a reported data race fails the first case run."""
    from . import omp_tsan
    tc = omp_tsan.toolchain()
    if tc is None:
        logs.append("ThreadSanitizer for OpenMP: not run (clang and libarcher are not installed: "
                    "apt-get install clang libomp-dev)")
        return {}
    cmd = omp_tsan.compile_cmd(tc, task.language, [_source_name(task.language, "driver")], "cand_tsan_omp")
    with locks.shared():
        rb = isolation.run(cmd, work, opts.build_limits)
    if not rb.ok:
        logs.append(f"ThreadSanitizer for OpenMP: the clang build failed, not run ({_first_error(rb.stderr)})")
        return {}
    cases = tsan_case_names(ref.cases, ref.seconds, opts.omp_tsan_cases)
    for t in opts.omp_tsan_threads:
        label = f"threads={t} tsan"
        r = _run_limited("./cand_tsan_omp", work, cases, ref, opts, label, env=omp_tsan.run_env(tc, t))
        report = omp_tsan.race_report(r.stderr)
        if report:
            return {cases[0]: CaseResult(cases[0], False, label, f"ThreadSanitizer (OpenMP-aware): {report}")}
        if not r.ok:
            logs.append(f"ThreadSanitizer for OpenMP ({label}): no verdict ({r.describe()}: "
                        f"{_interesting_stderr(r.stderr)})")
            return {}
        # Only a race report is evidence here: the outputs are another compiler's (clang 14 miscompiles
        # `parallel for simd reduction(*:p)` at any thread count), which the gcc runs already judged.
    return {}


def _check_case(task: Task, ref: Reference, work: Path, name: str, r: RunResult,
                opts: VerifyOptions | None = None) -> str | None:
    out = work / "out" / f"{name}.out"
    if not out.exists():
        if r.ok:
            return "no output written"
        if r.timed_out:
            return timeout_detail(r, opts or VerifyOptions())
        msg = r.describe()
        err = _interesting_stderr(r.stderr)
        return f"{msg}{': ' + err if err else ''}"
    try:
        got = inputs.read_outputs(task.signature, out)
    except ValueError as e:
        return f"unreadable output ({e})"
    return compare(ref.expected[name], got, ref.terms.get(name, 1))


def _interesting_stderr(err: str) -> str:
    for line in err.splitlines():
        s = line.strip()
        if any(k in s for k in ("ERROR: AddressSanitizer", "runtime error", "ThreadSanitizer: data race", "deadlock", "paralift", "Assertion",
                                "Fatal error", "CUDA error", "Segmentation")):
            return s[:300]
    lines = [l.strip() for l in err.splitlines() if l.strip()]
    return lines[-1][:300] if lines else ""


def _timing_env(target: Target, build: "_Build", task: Task, workers: int, opts: VerifyOptions) -> tuple[dict, list[str]]:
    """(env, launcher) of a timed candidate run: all workers, pinned."""
    if build.executor == "gpu" or task.signature is None:
        return {}, []
    if target == Target.MPI:
        bind = ["-bind-to", "core"] if opts.pin and _hydra() else []
        return {"OMP_NUM_THREADS": "1"}, [*build.launcher, *bind, "-n", str(workers)]
    env = {"OMP_NUM_THREADS": str(workers)}
    if opts.pin:
        env.update({"OMP_PROC_BIND": "close", "OMP_PLACES": "cores"})
    return env, []


@functools.cache
def _hydra() -> bool:
    """mpirun is MPICH's hydra, whose binding option is -bind-to."""
    tc = detect()
    if not tc.mpirun.found:
        return False
    try:
        out = subprocess.run([tc.mpirun.path, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "HYDRA" in out


def _timing_profiles(ref: Reference, opts: VerifyOptions) -> list[tuple[str, str, int]]:
    """(profile, case, calls per process): the timing case, and for a kernel
    whose work depends on its index values (skewed_arrays) also the same case
    skewed, where parallel updates contend or rows are unbalanced (the
    user's data may well look like that; the slower profile decides)."""
    out = [("uniform", ref.timing_case, ref.timing_reps)]
    with ref.lock:
        if ref.skewed_case is None and not ref.skew_note:
            _prepare_skewed(ref, opts)
    if ref.skewed_case:
        out.append(("skewed", ref.skewed_case, reps_for(ref.seconds[ref.skewed_case], opts.timing_min_s * 1.25)))
    return out


SKEW_VALUES = 4
_UPDATE = r"\s*(?:\+\+|--|[-+*/%|&^]?=(?!=))"


def skewed_arrays(task: Task, case: TestCase) -> dict:
    """The arrays of `case` to replace for the skewed profile:
    - an index array (ValueKind INDEX) that subscripts an array the function
      writes (hist[bin[i]]++, y[idx[i]] += ...): all its values among
      SKEW_VALUES, so that parallel updates hit the same few elements;
    - CSR offsets (ValueKind OFFSETS): row lengths falling as 1/(row+1),
      the longest first, so that rows split evenly by count are not even in work.
    Index arrays that are only read (a gather's, CSR columns) are left alone."""
    from paralift.types import ArraySpec, ValueKind
    written = [p.name for p in task.signature.params if p.is_array and not p.const]
    out = {}
    for p in task.signature.params:
        spec = case.arrays.get(p.name)
        kind = p.values.kind if p.values else None
        if spec is None or spec.count < 2:
            continue
        if kind == ValueKind.INDEX and spec.dist == "index" and spec.hi > SKEW_VALUES and any(
                re.search(rf"\b{re.escape(w)}\s*\[\s*{re.escape(p.name)}\s*\[[^\]]*\]\s*\]{_UPDATE}", task.source)
                or re.search(rf"(?:\+\+|--)\s*{re.escape(w)}\s*\[\s*{re.escape(p.name)}\s*\[", task.source)
                for w in written):
            out[p.name] = dataclasses.replace(spec, hi=SKEW_VALUES)
        elif kind == ValueKind.OFFSETS and spec.dist == "offsets" and spec.hi > 0:
            rows = spec.count - 1
            harmonic = np.cumsum(1.0 / np.arange(1, rows + 1))
            offsets = np.concatenate([[0], np.round(spec.hi * harmonic / harmonic[-1])]).astype(np.int64)
            out[p.name] = ArraySpec(count=spec.count, dist="explicit", values=offsets.tolist())
    return out


def _prepare_skewed(ref: Reference, opts: VerifyOptions) -> None:
    spec = ref.specs.get(ref.timing_case)
    skewed = skewed_arrays(ref.task, spec) if spec is not None else {}
    if not skewed:
        ref.skew_note = "no index-driven work"
        return
    case = dataclasses.replace(spec, name=spec.name + "-skewed", arrays={**spec.arrays, **skewed}, tag="timing")
    name = ref.timing_case + "-skewed"
    sig = ref.task.signature
    inputs.write_case(sig, case, ref.dir / "in" / f"{name}.in")
    scratch = _mkdtemp("paralift-skew-")
    try:
        with locks.exclusive():
            r = _run_driver("refbin/ref", scratch, [name], ref.binds, opts.run_limits)
        t = _read_time(scratch, name)
        if not r.ok or not t:
            ref.skew_note = f"the reference fails on the skewed input ({r.describe()})"
            return
        ref.expected[name] = inputs.read_outputs(sig, scratch / "out" / f"{name}.out")
        ref.seconds[name], ref.terms[name], ref.specs[name] = t, case_terms(case), case
        ref.skewed_case = name
    finally:
        _rmtree(scratch)


def _measure(ref: Reference, build: "_Build", work: Path, ref_work: Path, case: str, reps: int,
             env: dict, launcher: list[str], workers: int, probe: timing.LoadProbe, opts: VerifyOptions
             ) -> tuple[timing.Interval | None, RunResult]:
    """Interleaved reference and candidate processes on `case` until the
    speedup's interval is narrow enough or opts.timing_cap_s is spent."""
    meas = timing.Interval(cap_s=opts.timing_cap_s, half_width=opts.timing_half_width,
                           min_pairs=max(2, opts.timing_runs), max_pairs=max(opts.timing_runs, opts.timing_max_runs))
    ref_limits = dataclasses.replace(opts.run_limits, wall_s=max(opts.run_limits.wall_s, 120))
    cand_limits = candidate_limits(opts, (reps + 1) * ref.seconds.get(case, 0.0), ref.process_s, mpi=bool(launcher))
    rc = None
    while not meas.enough():
        k = len(meas.samples.reference)
        tr = tc = None
        wall = 0.0
        for who in (("ref", "cand") if k % 2 == 0 else ("cand", "ref")):
            with locks.exclusive():
                if who == "ref":
                    probe.expect(1)
                    rr = _run_driver("refbin/ref", ref_work, [case], ref.binds, ref_limits, reps=reps)
                    times = timing.read_times(ref_work / "out" / f"{case}.times")
                    tr = statistics.median(times) if rr.ok and times else None
                    wall += rr.wall_s
                else:
                    probe.expect(workers)
                    rc = _run_driver(build.binary, work, [case], ref.binds, cand_limits, reps=reps, env=env,
                                     launcher=launcher)
                    if rc.timed_out and cand_limits.wall_s < opts.run_limits.wall_s:
                        # as _run_limited: once more with SLOW_RETRY x the limit before it is a timeout
                        cand_limits = dataclasses.replace(cand_limits, wall_s=round(min(
                            opts.run_limits.wall_s, SLOW_RETRY * cand_limits.wall_s), 3))
                        rc = _run_driver(build.binary, work, [case], ref.binds, cand_limits, reps=reps, env=env,
                                         launcher=launcher)
                    times = timing.read_times(work / "out" / f"{case}.times")
                    if not rc.ok or not times:
                        return None, rc
                    tc = statistics.median(times)
                    wall += rc.wall_s
                probe.expect(0)
        if tr is None:
            return meas, rc            # the reference could not be timed: what there is
        meas.add(tr, tc, wall)
    return meas, rc


class _TimingFailed(Exception):
    """The candidate failed at the timing size (the message says how)."""

    def __init__(self, reason: str, failure: CaseResult | None = None):
        super().__init__(reason)
        self.failure = failure


def _build_paired(task: Task, code: str, target: Target | None, work: Path, opts: VerifyOptions) -> tuple[str | None, str]:
    """Link the reference and `code` into one paired timing driver in
    `work/paired/` (sandbox.paired): ("paired/paired", "") or (None, why not).
    target None builds the reference against a second copy of itself."""
    tc = detect()
    objcopy = paired.objcopy_path()
    if objcopy is None:
        return None, "objcopy is not installed"
    if target == Target.MPI and not (tc.mpicc.found and tc.mpirun.found):
        return None, "MPI is not installed"
    try:
        plan = paired.plan(task.signature, task.language, target, task.source, code, opts.cflags, tc.cc.path,
                           tc.cxx.path, tc.mpicc.path or "", tc.mpicxx.path or "", objcopy)
    except ValueError as e:
        return None, str(e)
    d = work / "paired"
    d.mkdir(exist_ok=True)
    for name, text in plan.files.items():
        (d / name).write_text(text)
    with locks.shared():
        for cmd in plan.commands:
            r = isolation.run(cmd, d, opts.build_limits)
            if not r.ok:
                return None, f"the paired build failed: {_first_error(r.stderr + r.stdout)}"
    return "paired/" + plan.binary.removeprefix("./"), ""


def _measure_paired(ref: Reference, binary: str, work: Path, case: str, env: dict, launcher: list[str],
                    workers: int, probe: timing.LoadProbe, opts: VerifyOptions
                    ) -> tuple[timing.PairedInterval | None, RunResult | None, int]:
    """Paired processes (reference and candidate interleaved in each) on
    `case` until the speedup's interval is narrow enough or the cap is
    spent: (measurement, the first run, whose outputs are the ones written,
    blocks per process); the measurement is None when the candidate failed
    (the run, then the failing one, says how)."""
    call_s = ref.seconds.get(case, 0.0)
    blocks = timing.blocks_for(call_s, opts.timing_min_s)
    warm = paired.warmup_calls(call_s)
    ref_calls_s = (2 * blocks + warm) * call_s
    # the cap scales with the kernel: at least enough for the least processes and one pair more
    cap = max(opts.timing_cap_s, (max(2, opts.timing_min_processes) + 2) * 2.5 * ref_calls_s)
    meas = timing.PairedInterval(cap_s=cap, half_width=opts.timing_half_width,
                                 min_processes=max(2, opts.timing_min_processes),
                                 max_processes=max(opts.timing_min_processes, min(opts.timing_max_runs,
                                                                             timing.MAX_PROCESSES)))
    base = candidate_limits(opts, (2 * blocks + warm + 1) * call_s, ref.process_s, mpi=bool(launcher))
    limits = dataclasses.replace(base, wall_s=round(base.wall_s + 2 * ref_calls_s, 3))
    out = work / "out"
    out.mkdir(exist_ok=True)
    r = first = None
    for ext in (".out", paired.TIMES_EXT):
        (out / (case + ext)).unlink(missing_ok=True)
    binaries = paired.layouts(binary)
    while not meas.enough():
        (out / (case + paired.TIMES_EXT)).unlink(missing_ok=True)
        # the first process writes the candidate's outputs (checked by the caller), the others only
        # times; the processes alternate between the binary's two layouts (paired.layouts)
        layout = binaries[len(meas.processes) % len(binaries)]
        cmd = [*launcher, layout, str(blocks), str(warm), "out", case, *(["times-only"] if first else [])]
        with locks.exclusive():
            probe.expect(workers)
            r = isolation.run(cmd, work, limits, env=env, ro_binds=ref.binds)
            if r.timed_out and limits.wall_s < opts.run_limits.wall_s:
                # as _run_limited: once more with SLOW_RETRY x the limit before it is a timeout
                limits = dataclasses.replace(limits, wall_s=round(min(opts.run_limits.wall_s,
                                                                      SLOW_RETRY * limits.wall_s), 3))
                r = isolation.run(cmd, work, limits, env=env, ro_binds=ref.binds)
            probe.expect(0)
        found = paired.read_blocks(out / (case + paired.TIMES_EXT))
        if not r.ok or len(found) != blocks:
            return None, r, blocks
        first = first or r
        meas.add(found, r.wall_s)
    return meas, first, blocks


def _measure_profiles(task: Task, ref: Reference, binary: str, work: Path, env: dict, launcher: list[str],
                      workers: int, opts: VerifyOptions, build: "_Build | None" = None,
                      paired_binary: str | None = None, paired_note: str = "") -> Timing | None:
    """Time `binary` (run in `work`) against the reference on every input
    profile (_timing_profiles): the Timing of the slower profile, with each
    profile's figures and the machine's load; None when the reference could
    not be timed. With `paired_binary` (the reference and the candidate
    linked into one driver, _build_paired) the two are interleaved inside
    each process; else separate processes alternate (paired_note says why).
    Raises _TimingFailed when the candidate fails or is wrong."""
    ref_work = _mkdtemp("paralift-reftime-")
    build = build or _Build(True, binary)
    results: dict[str, dict] = {}
    try:
        with timing.LoadProbe() as probe:
            for profile, case, reps in _timing_profiles(ref, opts):
                pm = None
                if paired_binary:
                    pm, rc, blocks = _measure_paired(ref, paired_binary, work, case, env, launcher, workers, probe,
                                                     opts)
                    if pm is None and not rc.timed_out:
                        # The paired run failed some other way: the separate processes below
                        # decide whether the candidate itself fails (a fault of the paired
                        # driver must not reject a candidate that passed its tests).
                        paired_note = f"the paired run failed ({rc.describe()}: {_interesting_stderr(rc.stderr)})"
                        paired_binary = None
                meas = pm
                if pm is None and not (paired_binary and rc.timed_out):
                    meas, rc = _measure(ref, build, work, ref_work, case, reps, env, launcher, workers, probe, opts)
                if meas is None:
                    raise _TimingFailed(f"failed at the timing size ({profile} input): "
                                        + (timeout_detail(rc, opts) if rc.timed_out else rc.describe()))
                diff = _check_case(task, ref, work, case, rc, opts)
                if diff:
                    raise _TimingFailed(f"wrong result at the timing size ({profile} input): {diff}",
                                        CaseResult(case, False, f"timing, workers={workers}", diff))
                if pm is not None:
                    point, lo, hi = pm.result()
                    ref_calls, cand_calls = pm.calls()
                    results[profile] = {"case": case, "calls": 2 * blocks, "runs": len(pm.processes),
                                        "sequential_s": statistics.median(ref_calls),
                                        "candidate_s": statistics.median(cand_calls),
                                        "speedup": round(point, 4), "ci_low": round(lo, 4),
                                        "ci_high": round(hi, 4) if math.isfinite(hi) else None,
                                        "spread": round(pm.spread(), 4), "method": "paired",
                                        "estimator": f"per process: {timing.TRIM:g}-trimmed mean of ABBA/BAAB block "
                                                     "log ratios; interval: t over processes",
                                        "process_speedups": [round(e, 4) for e in pm.estimates()],
                                        "seconds": round(pm.spent_s, 3)}
                    continue
                if not meas.samples.reference:
                    continue
                point, lo, hi = meas.result()
                _, spread = meas.samples.speedup()
                results[profile] = {"case": case, "calls": reps, "runs": len(meas.samples.reference),
                                    "sequential_s": statistics.median(meas.samples.reference),
                                    "candidate_s": statistics.median(meas.samples.candidate),
                                    "speedup": round(point, 4), "ci_low": round(lo, 4),
                                    "ci_high": round(hi, 4) if math.isfinite(hi) else None, "spread": round(spread, 4),
                                    "method": "processes", "seconds": round(meas.spent_s, 3)}
                if paired_note:
                    results[profile]["paired_note"] = paired_note[:200]
        load = probe.report()
    finally:
        _rmtree(ref_work)
    if not results:
        return None
    worst = min(results, key=lambda p: results[p]["speedup"])
    w = results[worst]
    return Timing(sequential_s=w["sequential_s"], candidate_s=w["candidate_s"], speedup=w["speedup"],
                  spread=w["spread"], runs=w["runs"], size=_case_sizes(ref, w["case"], w["calls"]),
                  workers=workers, ci_low=w["ci_low"], ci_high=w["ci_high"], calls=w["calls"], load=load,
                  contended=load["contended"], profile=worst, profiles=results)


def _time_candidate(task: Task, ref: Reference, build: _Build, work: Path, v: Verdict, opts: VerifyOptions) -> bool:
    """Measure the speedup into `v`; False when the candidate failed at the timing size.
    Every input profile (_timing_profiles) is measured; the verdict's figures
    are the slower profile's, and Timing.profiles has each."""
    if not opts.timing:
        v.speedup_reason = "timing disabled"
        return True
    if build.executor == "cpu-emulated":
        v.speedup_reason = "no GPU: the CUDA code ran on CPU emulation, and speedup is only measured on a GPU"
        return True
    _ensure_timing_case(ref, opts)
    if ref.timing_case is None:
        v.speedup_reason = ref.timing_note or "no timing case"
        return True
    workers = opts.workers()
    env, launcher = _timing_env(v.target, build, task, workers, opts)
    pb, note = (None, "CUDA on a GPU") if build.executor == "gpu" else \
        (None, "separate processes requested") if not opts.paired else \
        _build_paired(task, (work / _candidate_file(task, v.target)).read_text(), v.target, work, opts)
    try:
        t = _measure_profiles(task, ref, build.binary, work, env, launcher, workers, opts, build, pb, note)
    except _TimingFailed as e:
        v.status, v.reason = "failed", str(e)
        if e.failure:
            v.failures.append(e.failure)
        return False
    if t is None:
        v.speedup_reason = "the reference could not be timed"
        return True
    v.timing, v.speedup = t, round(t.speedup, 3)
    if t.contended:
        v.logs.append(f"timing: other processes held about {t.load['other_cores']:g} of {t.load['cores']} cores "
                      "while measuring")
    return True


def measure(task: Task, candidate: Candidate | None, tests: TestSuite | None = None,
            options: VerifyOptions | None = None) -> Timing | None:
    """Time a candidate against the sequential reference as `verify` does,
    without verifying it (benchmarks: a candidate verify already accepted,
    measured again). candidate=None times the reference against itself (an
    A/A measurement: its interval should contain 1). None when there is no
    timing case; raises RuntimeError when the candidate does not build or
    fails at the timing size. This is a measurement, never a verdict."""
    opts = options or VerifyOptions()
    ref = prepare_reference(task, tests, opts)
    _ensure_timing_case(ref, opts)
    if ref.timing_case is None:
        return None
    workers = opts.workers()
    work = _mkdtemp("paralift-measure-")
    try:
        if candidate is None:
            build = _Build(True, "refbin/ref")
            env, launcher, workers = {}, [], 1
            if opts.pin:
                env = {"OMP_NUM_THREADS": "1", "OMP_PROC_BIND": "close", "OMP_PLACES": "cores"}
        else:
            build = _build_candidate(task, candidate, work, opts)
            if not build.ok:
                raise RuntimeError(build.reason)
            env, launcher = _timing_env(candidate.target, build, task, workers, opts)
        pb, note = None, "separate processes requested"
        if opts.paired and build.executor != "gpu":
            pb, note = _build_paired(task, task.source if candidate is None else candidate.code,
                                     None if candidate is None else candidate.target, work, opts)
        try:
            return _measure_profiles(task, ref, build.binary, work, env, launcher, workers, opts, build, pb, note)
        except _TimingFailed as e:
            raise RuntimeError(str(e)) from None
    finally:
        _rmtree(work)


def _case_sizes(ref: Reference, case: str, reps: int) -> dict:
    path = ref.dir / "in" / f"{case}.in"
    return {"case": case, "input_bytes": path.stat().st_size if path.exists() else 0, "reps": reps}


def verify_source(sequential: str, candidate: str, target: Target | str, function: str, language: str = "c",
                  tests: TestSuite | None = None, options: VerifyOptions | None = None) -> Verdict:
    """Convenience: analyse `sequential`, then verify `candidate` for `function`."""
    from paralift.agents import build_task
    target = Target.parse(target) if isinstance(target, str) else target
    task = build_task(sequential, language, function, target)
    return verify(task, Candidate(code=candidate, target=target), tests, options)

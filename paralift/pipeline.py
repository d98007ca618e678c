"""Orchestration: analyse -> candidates -> tests -> verify -> select -> write.

The CLI, the language server and the eval harness call these functions; the
report they return renders itself as DESIGN.md §4's JSON or as human text.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO

from paralift.errors import UsageError
from paralift.types import Candidate, Target, Task, TestSuite, Verdict, suite_from_json, to_jsonable

if TYPE_CHECKING:
    from paralift.program import ProgramCheck

OUTPUT_SUFFIX = {Target.OPENMP: ".omp", Target.MPI: ".mpi"}


# ------------------------------------------------------------------ report

@dataclass
class CandidateReport:
    agent: str
    model: str | None
    status: str
    reason: str
    speedup: float | None
    tests_passed: int
    tests_total: int

    @classmethod
    def of(cls, cand: Candidate, v: Verdict) -> "CandidateReport":
        return cls(cand.agent, cand.model, v.status, v.reason, v.speedup, v.tests_passed, v.tests_total)


@dataclass
class FunctionReport:
    name: str
    status: str                    # verified | sequential | failed
    agent: str | None = None
    tests_passed: int = 0
    tests_total: int = 0
    speedup: float | None = None
    reason: str = ""
    verdict: Verdict | None = None
    candidates: list[CandidateReport] = field(default_factory=list)
    winner: Candidate | None = None          # the chosen candidate (not serialized)

    def to_json(self) -> dict:
        out = {"name": self.name, "status": self.status, "agent": self.agent,
               "tests": {"passed": self.tests_passed, "total": self.tests_total},
               "speedup": self.speedup, "reason": self.reason}
        if self.verdict is not None:
            v = self.verdict
            out["verdict"] = {
                "executor": v.executor, "isolation": v.isolation, "built": v.built,
                "policy_violations": v.policy_violations,
                "failures": to_jsonable(v.failures[:10]),
                "timing": to_jsonable(v.timing), "speedup_reason": v.speedup_reason, "logs": v.logs,
            }
            if v.cuda is not None:      # bytes moved, kernel and end-to-end time per call (issue 24)
                out["verdict"]["cuda"] = to_jsonable(v.cuda)
        if self.candidates:
            out["candidates"] = to_jsonable(self.candidates)
        return out


@dataclass
class Report:
    target: Target
    output: str | None
    functions: list[FunctionReport]
    notes: list[str] = field(default_factory=list)
    text: str | None = None                 # the output file's text (translate)
    written: bool = False                   # translate wrote `output`
    agent_stats: dict = field(default_factory=dict)   # per LLM agent: samples drawn, usable, dropped
    files: list[str] = field(default_factory=list)    # every file written (CUDA programs: NAME.cu, NAME.main.c)
    commands: dict = field(default_factory=dict)      # build / run (/ build_cpu_emulation) command lines
    program: "ProgramCheck | None" = None             # the written program run against the sequential one

    @property
    def status(self) -> str:
        states = {f.status for f in self.functions}
        if "failed" not in states:
            return "verified"
        return "partial" if "verified" in states else "failed"

    def exit_code(self) -> int:
        return 0 if self.status == "verified" else 1

    def to_json(self) -> dict:
        out = {"status": self.status, "target": self.target.value, "output": self.output,
               "functions": [f.to_json() for f in self.functions], "notes": self.notes,
               "agents": self.agent_counts()}
        if self.files:
            out["files"] = self.files
            out.update(self.commands)
            out["program"] = self.program.to_json() if self.program else None
        return out

    def agent_counts(self) -> dict:
        """Per agent: the candidates it gave and their verdicts, counted (and, for
        LLM agents, the samples drawn and those that gave no candidate)."""
        out: dict[str, dict] = {}
        for f in self.functions:
            for c in f.candidates:
                a = out.setdefault(c.agent, {"candidates": 0, "verdicts": {}})
                a["candidates"] += 1
                a["verdicts"][c.status] = a["verdicts"].get(c.status, 0) + 1
        for name, st in self.agent_stats.items():
            out.setdefault(name, {"candidates": 0, "verdicts": {}}).update(st)
        return out

    def print_human(self, out: TextIO) -> None:
        for f in self.functions:
            tests = f"{f.tests_passed}/{f.tests_total} tests" if f.tests_total else ""
            if f.status == "verified":
                sp = f"speedup {f.speedup:.2f}x" if f.speedup is not None else \
                    f"speedup n/a ({f.verdict.speedup_reason})" if f.verdict and f.verdict.speedup_reason else ""
                if f.verdict and f.verdict.timing:
                    t = f.verdict.timing
                    sp += f" (±{100 * t.spread / 2:.0f}%, {t.workers} workers, {t.runs} runs)"
                who = f" by {f.agent}" if f.agent else ""
                out.write(f"{f.name}: verified{who}, {tests}, {sp}\n")
            elif f.status == "sequential":
                out.write(f"{f.name}: kept sequential: {f.reason}\n")
            else:
                out.write(f"{f.name}: FAILED{', ' + tests if tests else ''}: {f.reason}\n")
        counts = self.agent_counts()
        for name, st in self.agent_stats.items():
            c = counts[name]
            verdicts = ", ".join(f"{k} {v}" for k, v in c["verdicts"].items())
            out.write(f"{name} ({st['model']}): {st['samples']} sample(s), {st['dropped_samples']} unusable, "
                      f"{c['candidates']} candidate(s) checked{': ' + verdicts if verdicts else ''}\n")
        for n in self.notes:
            out.write(f"note: {n}\n")
        if self.output and self.written:
            out.write(f"wrote {', '.join(self.files) or self.output}\n")
            for key, what in (("build", "build"), ("build_cpu_emulation", "build without a GPU"), ("run", "run")):
                if self.commands.get(key):
                    out.write(f"{what}: {self.commands[key]}\n")
            if self.program is not None and self.program.ok:
                out.write(f"program: same output as the sequential program ({', '.join(self.program.runs)})\n")


# ------------------------------------------------------------------ helpers

def load_suite(path: Path) -> TestSuite:
    try:
        return suite_from_json(json.loads(Path(path).read_text()))
    except FileNotFoundError:
        raise UsageError(f"test suite {path} does not exist") from None
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise UsageError(f"test suite {path} is not a paralift test suite: {e}") from None


def select_functions(source: str, language: str, requested: list[str]) -> list[str]:
    from paralift.agents import list_functions

    names = [s.name for s in list_functions(source, language)]
    # templates and member functions are reported (kept sequential, with the reason) rather than
    # ignored: a C++ file made only of them is still a valid input
    from paralift.agents.unit import other_definitions
    names += [n for n in other_definitions(source, language) if n not in names]
    if requested:
        for r in requested:
            if r not in names:
                known = ", ".join(n for n in names if n != "main") or "none"
                raise UsageError(f"no function named {r!r} (functions defined: {known})")
        return list(dict.fromkeys(requested))
    chosen = [n for n in names if n != "main"]
    if not chosen:
        raise UsageError("the file defines no function to work on")
    return chosen


def default_output(path: Path, target: Target, language: str) -> Path:
    if target == Target.CUDA:
        return path.with_name(path.stem + ".cu")
    return path.with_name(path.stem + OUTPUT_SUFFIX[target] + path.suffix)


def _log(msg: str) -> None:
    print(f"paralift: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ verify

def verify_files(seq_path: Path, seq_text: str, cand_path: Path, cand_text: str, target: Target,
                 functions: list[str], suite: TestSuite | None = None, timing: bool = True,
                 project_dir: Path | None = None) -> Report:
    from paralift.agents import detect_language
    from paralift.project import analysis_context

    language = detect_language(str(seq_path), seq_text)
    proj = load_project(seq_path, project_dir)
    with analysis_context(proj, language):
        report = _verify_files(seq_path, seq_text, cand_path, cand_text, target, functions, suite, timing,
                               proj.flags if proj else ())
    if proj is not None:
        report.notes.append(proj.describe())
    return report


def load_project(path: Path, project_dir: Path | None):
    """The build settings of `path` from compile_commands.json (paralift.project):
    `-p DIR`'s, else the nearest one with an entry for the file; None without one."""
    from paralift.project import find_project
    proj = find_project(Path(path), project_dir)
    if proj is not None:
        _log(proj.describe())
    return proj


def _verify_files(seq_path: Path, seq_text: str, cand_path: Path, cand_text: str, target: Target,
                  functions: list[str], suite: TestSuite | None, timing: bool,
                  build_flags: tuple[str, ...]) -> Report:
    from paralift.agents import build_task, detect_language
    from paralift.sandbox import VerifyOptions
    from paralift.sandbox.pool import Job, verify_many

    language = detect_language(str(seq_path), seq_text)
    names = select_functions(seq_text, language, functions)
    if suite is not None and len(names) != 1:
        raise UsageError("--tests holds one function's suite: name that function with --function")
    jobs = []
    unsuited: dict[str, str] = {}
    for name in names:
        task = build_task(seq_text, language, name, target, str(seq_path))
        task.build_flags = build_flags
        try:
            jobs.append(Job(task, Candidate(cand_text, target, agent="user"), suite or make_suite(task)))
        except SuiteError as e:
            unsuited[name] = str(e)
    verdicts = verify_many(jobs, VerifyOptions(timing=timing), label="verifying")
    by_name = {job.task.function: v for job, v in zip(jobs, verdicts)}
    funcs = []
    for name in names:
        if name in unsuited:
            funcs.append(FunctionReport(name, "failed", "user", 0, 0, None, unsuited[name]))
            continue
        v = by_name[name]
        funcs.append(FunctionReport(name, "verified" if v.verified else "failed", "user",
                                    v.tests_passed, v.tests_total, v.speedup, v.reason, v))
    return Report(target, str(cand_path), funcs)


# ------------------------------------------------------------------ translate

def make_agents(backends: list[str], model: str | None, samples: int | None) -> tuple[list, list[str]]:
    """The translator agents and notes for the report (settings: CLI > env >
    config > defaults; a defaulted LLM backend that cannot run is skipped with
    a note, a named one is an error)."""
    from paralift.agents.llm import build_agents

    return build_agents(backends or None, model, samples)


def translate_file(path: Path, text: str, target: Target, functions: list[str], output: Path | None,
                   backends: list[str] | None = None, model: str | None = None, samples: int | None = None,
                   timing: bool = True, write: bool = True,
                   on_event: Callable[[str], None] | None = None, budget: float | None = None,
                   project_dir: Path | None = None) -> Report:
    """`project_dir`: where compile_commands.json is (`-p`); without it, the
    nearest one with an entry for the file is used, if any (paralift.project)."""
    from paralift.agents import detect_language
    from paralift.project import analysis_context

    proj = load_project(path, project_dir)
    with analysis_context(proj, detect_language(str(path), text)):
        return _translate_file(path, text, target, functions, output, backends, model, samples, timing, write,
                               on_event, budget, proj)


def _translate_file(path: Path, text: str, target: Target, functions: list[str], output: Path | None,
                    backends: list[str] | None, model: str | None, samples: int | None, timing: bool,
                    write: bool, on_event: Callable[[str], None] | None, budget: float | None,
                    proj) -> Report:
    from paralift.agents import AnalysisError, NotParallelizable, build_task, detect_language
    from paralift.sandbox import VerifyOptions
    from paralift.sandbox.pool import Job, verify_many
    say = on_event or _log
    language = detect_language(str(path), text)
    names = select_functions(text, language, functions)
    agents, agent_notes = make_agents(backends or [], model, samples)
    reports: dict[str, FunctionReport] = {}
    jobs: list[Job] = []
    tasks: dict[str, Task] = {}
    analysis_reasons: dict[str, str] = {}      # why an analysis agent kept a function sequential
    llm_agents = {a.name for a in agents if hasattr(a, "stats")}
    for name in names:
        try:
            task = build_task(text, language, name, target, str(path))
            task.build_flags = proj.flags if proj else ()
        except AnalysisError as e:
            if functions and language != "cpp":      # the user asked for this one: bad input
                raise
            # C++ (issue 23): a valid file whose function uses a construct the analysis does not
            # understand keeps that function sequential, with the construct named
            reports[name] = FunctionReport(name, "sequential", reason=str(e))
            continue
        tasks[name] = task
        candidates: list[Candidate] = []
        reasons = []
        for agent in agents:
            try:
                candidates += agent.propose(task, target)
            except NotParallelizable as e:
                reasons.append(str(e))
                if not hasattr(agent, "stats"):        # an analysis (not a model sample) says why
                    analysis_reasons.setdefault(name, str(e))
            except AnalysisError as e:
                # the agent's own output did not parse (a code generator's gap): that agent has no
                # candidate for this function; the others and the other functions go on
                reasons.append(f"{getattr(agent, 'name', 'agent')}: no candidate ({e})")
        if budget and target == Target.OPENMP:   # search by measured speed (agents/search.py)
            from paralift.agents.search import search_candidates
            candidates += search_candidates(task, budget, say)
        candidates = _guard_overlaps(task, candidates, reasons)
        if not candidates:
            reports[name] = FunctionReport(name, "sequential", reason=reasons[0] if reasons else "no candidate")
            continue
        try:
            suite = make_suite(task)
        except SuiteError as e:
            reports[name] = FunctionReport(name, "sequential", reason=f"{e}; kept sequential", candidates=[])
            say(f"{name}: {e}")
            continue
        for c in candidates:
            jobs.append(Job(task, c, suite))
    say(f"{len(jobs)} candidate(s) for {len(tasks)} function(s); verifying")
    opts = VerifyOptions(timing=timing)
    verdicts = verify_many(jobs, opts, label="verifying") if jobs else []
    by_fn: dict[str, list[tuple[Job, Verdict]]] = {}
    for job, v in zip(jobs, verdicts):
        by_fn.setdefault(job.task.function, []).append((job, v))
    for name, pairs in by_fn.items():
        cands = [CandidateReport.of(j.candidate, v) for j, v in pairs]
        good = [(j, v) for j, v in pairs if v.verified]
        # a CUDA plan whose copies alone outweigh the sequential call (sandbox.cuda_profile's transfer
        # rule, applied where the speed cannot be measured) is not proposed
        held = [(j, v) for j, v in good if v.cuda is not None and v.cuda.withheld]
        if held and len(held) == len(good):
            j, v = held[0]
            reports[name] = FunctionReport(
                name, "sequential", j.candidate.agent, v.tests_passed, v.tests_total, None,
                f"the verified CUDA plan (by {j.candidate.agent}) is not proposed: {v.cuda.withheld}; kept sequential",
                v, cands)
            continue
        good = [(j, v) for j, v in good if v.cuda is None or not v.cuda.withheld]
        if good:
            j, v = select_candidate(good)
            if not_faster(v):
                lo, hi = v.timing.interval()
                reports[name] = FunctionReport(
                    name, "sequential", j.candidate.agent, v.tests_passed, v.tests_total, v.speedup,
                    f"no verified candidate was faster than the sequential code with confidence (best "
                    f"{v.speedup:.2f}x, 95% interval {lo:.2f}-{hi:.2f}x{_profile_note(v)}, by "
                    f"{j.candidate.agent}"
                    f"{'; measured while other processes held cores' if v.timing.contended else ''})", v, cands)
                continue
            reports[name] = FunctionReport(name, "verified", j.candidate.agent, v.tests_passed, v.tests_total,
                                           v.speedup, "", v, cands, winner=j.candidate)
        elif name in analysis_reasons and all(j.candidate.agent in llm_agents for j, _ in pairs):
            # the analysis showed why it stays sequential; the models' candidates were wrong and rejected
            reports[name] = FunctionReport(name, "sequential", reason=f"{analysis_reasons[name]} "
                                           f"({len(pairs)} LLM candidate(s) rejected by verification)",
                                           candidates=cands)
        else:
            j, v = pairs[0]
            reports[name] = FunctionReport(name, "failed", j.candidate.agent, v.tests_passed, v.tests_total,
                                           None, v.reason or v.status, v, cands)
    ordered = [reports[n] for n in names]
    report = Report(target, None, ordered, notes=list(agent_notes) + ([proj.describe()] if proj else []))
    for a in agents:
        if hasattr(a, "stats"):         # LLM agents: samples drawn and dropped
            report.agent_stats[a.name] = {"model": a.model, "samples": a.stats["completions"],
                                          "dropped_samples": len(a.dropped)}
    winners = {f.name: f.winner for f in ordered if f.status == "verified" and f.winner}
    out_path = output or default_output(path, target, language)
    final = assemble_output(text, language, target, tasks, winners, report, say)
    if final is not None and write:
        write_output(path, text, language, target, tasks, report, final, Path(out_path), say)
    elif final is not None:
        report.output = None
        report.notes.append("output not written (write=False)")
    report.text = final
    return report


def select_candidate(good: list) -> tuple:
    """The (job, verdict) to write among verified ones: faster only when the
    speedup intervals say so, else the better structure (agents.search.choose).
    Where some are faster than the sequential code with confidence, the choice is
    among those: a structurally preferred candidate whose interval reaches 1 must
    not hide another that is faster (saxpy/mpi on 2026-12-05: rule 1.00x
    [0.98, 1.03] chosen by structure over a hand-written 1.06x [1.03, 1.09], and
    the sequential code written)."""
    from paralift.agents.search import choose_verdict, faster_than_sequential
    faster = [g for g in good if faster_than_sequential(g[1]) is True]
    pool = faster or good
    return pool[choose_verdict([v for _, v in pool], [j.candidate.code for j, _ in pool])]


def not_faster(v: Verdict) -> bool:
    """Measured, and not faster than the sequential build with confidence
    (the speedup's 95 % interval reaches 1, on the slower input profile):
    writing it could hand the user a correct but slower file (a histogram's
    atomics on few hot bins, a memory-bound map on a busy machine). A verdict
    without a measurement (timing off, CUDA without a GPU) is not judged."""
    from paralift.agents.search import faster_than_sequential
    return faster_than_sequential(v) is False


def _profile_note(v: Verdict) -> str:
    t = v.timing
    if t is None or len(t.profiles) < 2:
        return ""
    return " on the " + t.profile + " input; " + ", ".join(
        f"{p} {d['speedup']:.2f}x" for p, d in t.profiles.items())


def assemble_output(text: str, language: str, target: Target, tasks: dict[str, Task],
                    winners: dict[str, Candidate], report: Report, say: Callable[[str], None]) -> str | None:
    """The output file: every verified function in its parallel form, all else
    unchanged. The assembled file is verified again, function by function, and a
    function that does not verify in it falls back to sequential."""
    from paralift.assemble import compiler_message, merge
    from paralift.sandbox import VerifyOptions
    from paralift.sandbox.pool import Job, verify_many
    chosen = dict(winners)
    while True:
        if not chosen:
            return None if target == Target.CUDA else text
        merged = merge(text, language, target, chosen)
        if len(chosen) == 1 and merged == next(iter(chosen.values())).code:
            return merged      # exactly the verified candidate
        say(f"re-verifying the assembled file ({len(chosen)} function(s))")
        jobs = [Job(tasks[n], Candidate(merged, target, agent="assembled"), make_suite(tasks[n])) for n in chosen]
        verdicts = verify_many(jobs, VerifyOptions(timing=False), label="re-verifying")
        bad = [j.task.function for j, v in zip(jobs, verdicts) if not v.verified]
        if not bad:
            return merged
        if len(chosen) > 1 and not any(v.built for v in verdicts):
            # the merged file does not build, so every function fails in it: blame
            # the one without which the others' file builds (else all of them)
            def builds_without(n: str) -> bool:
                rest = {k: c for k, c in chosen.items() if k != n}
                m = merge(text, language, target, rest)
                if len(rest) == 1 and m == next(iter(rest.values())).code:
                    return True
                k = next(iter(rest))
                return verify_many([Job(tasks[k], Candidate(m, target, agent="assembled"), make_suite(tasks[k]))],
                                   VerifyOptions(timing=False), label="re-verifying")[0].built
            culprit = next((n for n in chosen if builds_without(n)), None)
            if culprit is not None:
                bad = [culprit]
        for j, v in zip(jobs, verdicts):
            if v.verified or j.task.function not in bad:
                continue
            f = next(f for f in report.functions if f.name == j.task.function)
            f.status, f.verdict = "failed", v
            f.tests_passed, f.tests_total, f.speedup = v.tests_passed, v.tests_total, None
            why = v.reason or v.status
            detail = compiler_message(v.build_log) if not v.built else ""
            if detail and detail not in why:
                why = f"does not compile: {detail}"
            f.reason = f"did not verify once assembled with the other functions ({why}); kept sequential"
            chosen.pop(f.name)


def write_output(path: Path, text: str, language: str, target: Target, tasks: dict[str, Task], report: Report,
                 final: str, out_path: Path, say: Callable[[str], None]) -> None:
    """Write the output file(s) and put their build and run commands in the
    report. When the source has `main`, the written program is first run
    against the sequential one (paralift.program); a function that changes
    the program's behaviour stays sequential, with the difference as reason."""
    from paralift import program
    from paralift.assemble import merge
    chosen = {f.name: f.winner for f in report.functions if f.status == "verified" and f.winner}
    outcome = program.settle_program(text, language, target, tasks, chosen, final, out_path,
                                     lambda c: merge(text, language, target, c), say)
    for name, why in outcome.demoted.items():
        f = next(f for f in report.functions if f.name == name)
        f.status, f.speedup = "failed", None
        f.reason = f"verified alone, but the program built from the written file(s) differs from the sequential one: {why}; kept sequential"
    report.notes += outcome.notes
    report.program = outcome.check
    if not outcome.files:
        return
    for p, t in outcome.files.items():
        _write_atomic(p, t)
    report.files = [str(p) for p in outcome.files]
    report.output = report.files[0]
    report.written = True
    is_program = program.defines_main(text, language)
    flags = next((t.build_flags for t in tasks.values()), ())      # the project's (compile_commands.json)
    cmds = program.project_commands(program.program_commands(target, language, report.files, is_program,
                                                             emulated=False), flags, target == Target.CUDA)
    report.commands = {"build": cmds.build_line(), "run": cmds.run_line()}
    if target == Target.CUDA and program.emulated_cuda():
        emu = program.project_commands(program.program_commands(target, language, report.files, is_program,
                                                                emulated=True), flags, True)
        report.commands["build_cpu_emulation"] = emu.build_line()


def _guard_overlaps(task: Task, candidates: list[Candidate], reasons: list[str]) -> list[Candidate]:
    """Every candidate paralift did not version itself gets the entry overlap check (agents.overlap_guard):
    an overlapping call then takes the original loop, right by definition, instead of failing the
    tester's overlapping cases (DESIGN.md §3). A candidate whose check cannot be built is dropped with
    the reason."""
    from paralift.agents import NotParallelizable
    from paralift.agents.overlap_guard import guard
    out = []
    for c in candidates:
        try:
            out.append(guard(task, c))
        except NotParallelizable as e:
            reasons.append(f"{c.agent}: {e}")
    return out


class SuiteError(Exception):
    """No suite that can tell a right translation from a wrong one (one line): the function is not verified."""


def make_suite(task: Task) -> TestSuite:
    """The tests every candidate of `task` is judged by (same suite for all): the
    tester agent's (paralift.agents.tester: calibrated sizes, varied values, cases
    the reference misbehaves on removed, non-vacuous; cached per process). When
    the tester cannot build one, its model of the inputs does not fit the
    function, and a weaker suite would let a wrong candidate through (issue 19):
    SuiteError, and nothing is verified."""
    from paralift.agents.tester import TesterError, VacuousSuite, build_suite

    try:
        return build_suite(task).suite
    except (TesterError, VacuousSuite) as e:
        raise SuiteError(f"no test suite can be built that tells a right translation from a wrong one: {e}") \
            from None
    except Exception as e:  # noqa: BLE001 - one function's tester failure must not stop the others
        raise SuiteError(f"the tester failed ({type(e).__name__}: {e}); nothing was verified") from None


def _write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=str(path.parent) or ".")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise

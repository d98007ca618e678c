"""Build and run the sequential reference outside `verify`, and measure what a
suite covers of it.

`ReferenceBuild` compiles the function's own file with the standard test
driver (paralift.sandbox.harness) in a sandbox work directory, writes cases
there and runs them (paralift.sandbox.isolation): the tester uses it to time
probe cases when it sizes the large case. `measure_coverage` builds the same
driver with `--coverage -O0`, runs every case of a suite in one process, runs
gcov inside the sandbox and reports line and branch coverage of the function
under test, and whether its loops ran at least one iteration.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from paralift.types import Task, TestCase, TestSuite

from paralift.sandbox import harness, inputs, isolation
from paralift.sandbox.isolation import Limits, RunResult
from paralift.sandbox.toolchains import detect


class CoverageError(Exception):
    """Coverage could not be measured (one line)."""


def _unit_name(task: Task) -> str:
    return "ref.cpp" if task.language == "cpp" else "ref.c"


def _driver_name(task: Task) -> str:
    return "driver.cpp" if task.language == "cpp" else "driver.c"


def safe_name(name: str) -> str:
    """The case-file name verify and the driver use for a case name."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:60] or "case"


@dataclass
class ReferenceBuild:
    """The sequential reference built with `flags` in a private work directory."""
    task: Task
    flags: tuple[str, ...] = ("-O2",)
    build_limits: Limits = field(default_factory=lambda: Limits(wall_s=120, cpu_s=180, max_pids=256))
    dir: Path | None = None
    binary: str = "ref"
    log: str = ""

    def build(self) -> "ReferenceBuild":
        sig = self.task.signature
        try:
            inputs.check_signature(sig)
            driver = harness.driver_source(sig, _unit_name(self.task), None, self.task.language)
        except ValueError as e:
            raise CoverageError(str(e)) from None
        self.dir = Path(tempfile.mkdtemp(prefix="paralift-tester-"))
        (self.dir / "in").mkdir()
        (self.dir / "out").mkdir()
        (self.dir / _unit_name(self.task)).write_text(self.task.source)
        (self.dir / _driver_name(self.task)).write_text(driver)
        tc = detect()
        cc = tc.cxx.path if self.task.language == "cpp" else tc.cc.path
        cmd = [cc, *self.flags, *self.task.build_flags, _driver_name(self.task), "-o", self.binary, "-lm"]
        r = isolation.run(cmd, self.dir, self.build_limits)
        self.log = r.stderr + r.stdout
        if not r.ok:
            first = next((l for l in self.log.splitlines() if "error" in l.lower()), self.log.strip()[:200])
            self.close()
            raise CoverageError(f"the sequential code does not build with {' '.join(self.flags)}: {first[:300]}")
        return self

    def write(self, case: TestCase) -> str:
        name = safe_name(case.name)
        inputs.write_case(self.task.signature, case, self.dir / "in" / f"{name}.in")
        return name

    def run(self, names: list[str], limits: Limits | None = None, env: dict[str, str] | None = None,
            reps: int = 1) -> RunResult:
        for n in names:
            for ext in (".out", ".time"):
                (self.dir / "out" / f"{n}{ext}").unlink(missing_ok=True)
        return isolation.run([f"./{self.binary}", str(reps), "out", *names], self.dir,
                             limits or Limits(wall_s=30, cpu_s=60), env=env)

    def seconds(self, name: str) -> float | None:
        try:
            return float((self.dir / "out" / f"{name}.time").read_text().strip())
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> "ReferenceBuild":
        return self.build()

    def __exit__(self, *exc) -> None:
        self.close()


# ------------------------------------------------------------------ coverage

@dataclass
class Coverage:
    function: str
    lines_total: int = 0
    lines_hit: int = 0
    branches_total: int = 0
    branches_taken: int = 0
    uncovered_lines: list[int] = field(default_factory=list)
    loops: int = 0                         # loop headers found in the function
    loops_iterated: int = 0                # of those, how many ran at least one iteration
    cases: int = 0
    note: str = ""

    @property
    def line_pct(self) -> float:
        return round(100.0 * self.lines_hit / self.lines_total, 1) if self.lines_total else 100.0

    @property
    def branch_pct(self) -> float:
        return round(100.0 * self.branches_taken / self.branches_total, 1) if self.branches_total else 100.0

    @property
    def exercises_loops(self) -> bool:
        """No loop at all, or at least one loop iteration ran."""
        return self.loops == 0 or self.loops_iterated > 0

    def to_json(self) -> dict:
        return {"function": self.function, "line_pct": self.line_pct, "branch_pct": self.branch_pct,
                "lines": {"hit": self.lines_hit, "total": self.lines_total},
                "branches": {"taken": self.branches_taken, "total": self.branches_total},
                "uncovered_lines": self.uncovered_lines,
                "loops": {"total": self.loops, "iterated": self.loops_iterated},
                "cases": self.cases, "note": self.note}


_LOOP_RE = re.compile(r"^\s*(?:\}\s*)?(for|while|do)\b")


def _loop_lines(task: Task, lo: int, hi: int) -> list[int]:
    lines = {int(L["line"]) for L in task.analysis.get("loops", []) if isinstance(L, dict) and L.get("line")}
    src = task.source.splitlines()
    for i in range(lo, min(hi, len(src)) + 1):
        if _LOOP_RE.match(src[i - 1]):
            lines.add(i)
    return sorted(l for l in lines if lo <= l <= hi)


def measure_coverage(task: Task, suite: TestSuite, limits: Limits | None = None) -> Coverage:
    """Line/branch coverage (gcov) of the function under test over all cases of `suite`.

    Every case is expected to be valid (run `paralift.agents.tester` validation
    first): a case that crashes the reference loses the counts of the run."""
    gcov = shutil.which("gcov")
    if gcov is None:
        raise CoverageError("gcov is not installed (it comes with gcc)")
    sig = task.signature
    flags = ("-O0", "--coverage")
    with ReferenceBuild(task, flags, build_limits=Limits(wall_s=120, cpu_s=180, max_pids=256)) as rb:
        names = [rb.write(c) for c in suite.cases]
        r = rb.run(names, limits or Limits(wall_s=120, cpu_s=240, memory_bytes=8 << 30))
        if not r.ok:
            raise CoverageError(f"the coverage build of the reference failed on the suite: {r.describe()}")
        gcda = sorted(p.name for p in rb.dir.glob("*.gcda"))
        if not gcda:
            raise CoverageError("no coverage data written (gcda missing)")
        g = isolation.run([gcov, "--json-format", "--stdout", "--branch-probabilities", *gcda], rb.dir,
                          Limits(wall_s=60, cpu_s=60, output_bytes=32 << 20),
                          ro_paths=[str(Path(gcov).resolve().parent)])
        if not g.ok:
            raise CoverageError(f"gcov failed: {g.describe()}: {g.stderr.strip()[:200]}")
        return _summarize(task, g.stdout, len(names))


def _summarize(task: Task, gcov_stdout: str, ncases: int) -> Coverage:
    sig = task.signature
    unit = _unit_name(task)
    docs = []
    for line in gcov_stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    if not docs:
        try:
            docs = [json.loads(gcov_stdout)]
        except json.JSONDecodeError:
            raise CoverageError("gcov printed no JSON") from None
    lo, hi = sig.start_line, sig.end_line
    lines: dict[int, dict] = {}
    found_fn = False
    for d in docs:
        for f in d.get("files", []):
            if Path(f.get("file", "")).name != unit:
                continue
            for fn in f.get("functions", []):
                nm = fn.get("demangled_name") or fn.get("name", "")
                if nm == sig.name or nm.startswith(sig.name + "(") or nm.endswith("::" + sig.name) \
                        or re.search(rf"\b{re.escape(sig.name)}\(", nm):
                    if not (lo and hi):
                        lo, hi = fn["start_line"], fn["end_line"]
                    found_fn = True
            for ln in f.get("lines", []):
                n = int(ln["line_number"])
                prev = lines.get(n)
                if prev is None:
                    lines[n] = {"count": int(ln["count"]), "branches": [int(b["count"]) for b in ln.get("branches", [])
                                                                         if not b.get("throw")]}
                else:   # the same line in several gcda files: add up
                    prev["count"] += int(ln["count"])
                    bs = [int(b["count"]) for b in ln.get("branches", []) if not b.get("throw")]
                    if len(bs) == len(prev["branches"]):
                        prev["branches"] = [a + b for a, b in zip(prev["branches"], bs)]
    cov = Coverage(sig.name, cases=ncases)
    if not (lo and hi):
        cov.note = "the function's lines are unknown; coverage not measured"
        return cov
    if not found_fn:
        cov.note = "gcov did not report the function (inlined or unused?)"
    for n in sorted(lines):
        if lo <= n <= hi:
            info = lines[n]
            cov.lines_total += 1
            if info["count"] > 0:
                cov.lines_hit += 1
            else:
                cov.uncovered_lines.append(n)
            cov.branches_total += len(info["branches"])
            cov.branches_taken += sum(1 for b in info["branches"] if b > 0)
    for n in _loop_lines(task, lo, hi):
        info = lines.get(n)
        if info is None:
            continue
        cov.loops += 1
        if _iterated(task, n, info, lines):
            cov.loops_iterated += 1
    return cov


def _iterated(task: Task, header: int, info: dict, lines: dict[int, dict]) -> bool:
    """A loop ran an iteration when its condition went at least two ways (into
    the body and out), or failing branch data, when the next line ran."""
    if len([b for b in info["branches"] if b > 0]) >= 2:
        return True
    if info["branches"]:
        return False
    nxt = lines.get(header + 1)
    return bool(nxt and nxt["count"] > 0)

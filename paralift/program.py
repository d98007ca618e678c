"""Whole programs: when the input defines `main`, the written file(s) build and
run as a program (DESIGN.md §3, "whole files").

- openmp: the merged file is the program (`gcc -O2 -fopenmp`).
- mpi: `main` gains MPI_Init/MPI_Finalize (the user's `main` is renamed and
  called from a new one); every rank runs it, rank 0 alone shows its output
  (see MPI_PRELUDE); each translated function is wrapped so that its outputs
  reach every rank, which keeps the ranks' copies of the program's data equal
  from one call to the next.
- cuda: the kernels and their host functions stay in NAME.cu; the rest of the
  program stays C (or C++) in NAME.main.c, which declares the translated
  functions and links against NAME.cu's object.

`program_commands` gives the build and run commands the report prints, and
`verify_program` runs exactly those in the sandbox next to the sequential
program, comparing stdout, files written and exit status.
"""
from __future__ import annotations

import dataclasses
import math
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from paralift.sandbox.toolchains import MPI_FLAGS
from paralift.types import ParamKind, Target, Task

USER_MAIN = "__pl_user_main"


# ------------------------------------------------------------------ source surgery

def _functions(text: str, language: str) -> dict:
    from paralift.agents import AnalysisError, list_functions
    try:
        return {s.name: s for s in list_functions(text, language)}
    except AnalysisError:
        return {}


def defines_main(text: str, language: str) -> bool:
    return "main" in _functions(text, language)


def _rename_definition(lines: list[str], sig, new: str) -> bool:
    """Rename the function whose definition spans sig.start_line..end_line (its
    first `name(` there is the declarator)."""
    pat = re.compile(r"\b" + re.escape(sig.name) + r"(\s*\()")
    for i in range(sig.start_line - 1, sig.end_line):
        if pat.search(lines[i]):
            lines[i] = pat.sub(new + r"\1", lines[i], count=1)
            return True
    return False


def _prototype(sig) -> str:
    """The declaration of a function defined in another file: `static` and
    `inline` dropped (the definition is now elsewhere)."""
    text = re.sub(r"^\s*((static|inline|__inline__|__inline)\s+)+", "", " ".join(sig.text.split()))
    return text + ";"


# MPI programs. Every rank runs the user's main (the translated functions are
# collective), so everything rank 0 does every rank does; what the program
# shows must appear once:
#  - stdout of ranks other than 0 goes to /dev/null (dup2 on file descriptor 1:
#    printf, puts, fwrite(stdout), std::cout and write(1, ...) alike); stderr is
#    kept, so that an error shows whichever rank meets it;
#  - C sources: fopen/freopen for writing (modes w, a, +) open /dev/null on
#    ranks other than 0 and remove/rename do nothing there, so files are
#    written once (reads are real on every rank: all ranks need the inputs);
#  - exit status: every rank returns main's; exit() anywhere still finalizes
#    MPI (atexit), and mpirun reports the status.
_MPI_PRELUDE_C = r"""/* paralift: an MPI program. main() below calls MPI_Init, runs the original
 * main (renamed __pl_user_main) on every rank, then MPI_Finalize. Rank 0 alone
 * shows the program's output: other ranks' stdout goes to /dev/null and their
 * stdio file writes (fopen/freopen with "w", "a" or "+", remove, rename) go
 * nowhere; stderr is every rank's. Build and run:  mpicc -O2 -fopenmp-simd FILE -o prog -lm && mpirun -n 4 ./prog */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
static int __pl_rank0(void)
{
    int init = 0, rank = 0;
    MPI_Initialized(&init);
    if (init)
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank == 0;
}
static int __pl_writes(const char *mode) { return strpbrk(mode, "wa+") != NULL; }
static FILE *__pl_fopen(const char *path, const char *mode)
{
    return fopen(__pl_rank0() || !__pl_writes(mode) ? path : "/dev/null", mode);
}
static FILE *__pl_freopen(const char *path, const char *mode, FILE *f)
{
    return freopen(__pl_rank0() || !__pl_writes(mode) || !path ? path : "/dev/null", mode, f);
}
static int __pl_remove(const char *path) { return __pl_rank0() ? remove(path) : 0; }
static int __pl_rename(const char *from, const char *to) { return __pl_rank0() ? rename(from, to) : 0; }
#define fopen __pl_fopen
#define freopen __pl_freopen
#define remove __pl_remove
#define rename __pl_rename
"""

_MPI_PRELUDE_CPP = r"""/* paralift: an MPI program. main() below calls MPI_Init, runs the original
 * main (renamed __pl_user_main) on every rank, then MPI_Finalize. Rank 0 alone
 * shows the program's output: other ranks' stdout (printf, std::cout) goes to
 * /dev/null; stderr is every rank's. Files the program writes are written by
 * every rank: guard such writes with the rank if that matters.
 * Build and run:  mpicxx -O2 FILE -o prog -lm && mpirun -n 4 ./prog */
#include <mpi.h>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>
"""

_MPI_MAIN = r"""
/* paralift: MPI_Init, the original main on every rank (stdout of rank 0 only), MPI_Finalize. */
static void __pl_finalize(void)
{
    int init = 0, done = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&done);
    if (init && !done) {
        fflush(stdout);
        MPI_Finalize();
    }
}

int main(int argc, char **argv)
{
    int rank = 0;
    MPI_Init(&argc, &argv);
    atexit(__pl_finalize);           /* exit() anywhere still finalizes */
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != 0) {
        fflush(stdout);
        int null_fd = open("/dev/null", O_WRONLY);
        if (null_fd < 0 || dup2(null_fd, 1) < 0)
            (void)!freopen("/dev/null", "w", stdout);
        if (null_fd > 1)
            close(null_fd);
    }
    %(call)s
    __pl_finalize();
    return rc;
}
"""


def _c_identifiers(expr: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]\w*", expr))


def _bcast_lines(task: Task, names: list[str]) -> tuple[list[str], str]:
    """Statements that copy the function's outputs from rank 0 to every rank,
    or ([], why) when an output's size is not an expression of the
    parameters. `names`: the parameters' names in the translated definition
    (a model may rename them)."""
    sig = task.signature
    if len(names) != len(sig.params):
        return [], "the translated definition's parameters are not the original's"
    rename = dict(zip((p.name for p in sig.params), names))
    scalars = {p.name for p in sig.params if p.kind == ParamKind.SCALAR}
    out = []
    for p in sig.params:
        if not p.is_output:
            continue
        p = dataclasses.replace(p, name=rename[p.name], extent=re.sub(
            r"[A-Za-z_]\w*", lambda m: rename.get(m.group(0), m.group(0)), p.extent) if p.extent else None)
        if p.kind == ParamKind.VECTOR:
            out.append(f"    {{ unsigned long long __pl_s = {p.name}.size();\n"
                       f"      MPI_Bcast(&__pl_s, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);\n"
                       f"      {p.name}.resize(__pl_s);\n"
                       f"      __pl_bcast({p.name}.data(), __pl_s * sizeof *{p.name}.data()); }}")
        elif p.kind == ParamKind.REF:
            out.append(f"    __pl_bcast(&{p.name}, sizeof {p.name});")
        elif p.kind == ParamKind.POINTER:
            if not p.extent or not _c_identifiers(p.extent) <= {rename[n] for n in scalars}:
                return [], f"the size of {p.name} ({p.extent or 'unknown'}) is not an expression of the parameters"
            out.append(f"    {{ long long __pl_c = (long long)({p.extent});\n"
                       f"      if (__pl_c > 0) __pl_bcast((void *){p.name}, (unsigned long long)__pl_c * sizeof *{p.name}); }}")
    return out, ""


_BCAST_HELPER = r"""
/* paralift: outputs of a translated function are correct on rank 0 (DESIGN §3);
 * the program's other ranks get rank 0's copy, so that every rank goes on with
 * the same data, as the sequential program would. */
static void __pl_bcast(void *p, unsigned long long bytes)
{
    for (unsigned long long off = 0; off < bytes; off += 1ull << 30) {
        unsigned long long left = bytes - off;
        MPI_Bcast((char *)p + off, (int)(left < (1ull << 30) ? left : (1ull << 30)), MPI_BYTE, 0, MPI_COMM_WORLD);
    }
}
"""


def mpi_program(merged: str, language: str, tasks: dict[str, Task], translated: list[str]) -> tuple[str, list[str]]:
    """The MPI program made from the merged file: (text, notes)."""
    funcs = _functions(merged, language)
    main = funcs["main"]
    lines = merged.splitlines()
    notes: list[str] = []
    wrappers: list[str] = []
    edits: list[tuple[int, list[str]]] = []       # (line index after which to insert, lines)
    for name in translated:
        sig = funcs.get(name)
        task = tasks.get(name)
        if sig is None or task is None:
            continue
        bcast, why = _bcast_lines(task, [p.name for p in sig.params])
        if why:
            notes.append(f"{name}: outputs stay rank 0's alone in the program ({why})")
            continue
        inner = f"__pl_mpi_{name}"
        if not _rename_definition(lines, sig, inner):
            continue
        decl = " ".join(sig.text.split())
        edits.append((sig.end_line, [decl + ";   /* paralift: defined at the end of the file */"]))
        args = ", ".join(p.name for p in sig.params)
        ret = task.signature.return_type.strip()
        body = [decl, "{"]
        if ret == "void":
            body += [f"    {inner}({args});", *bcast]
        else:
            body += [f"    {ret} __pl_r = {inner}({args});", *bcast, "    __pl_bcast(&__pl_r, sizeof __pl_r);",
                     "    return __pl_r;"]
        wrappers.append("\n".join(body + ["}"]))
    _rename_definition(lines, main, USER_MAIN)
    for after, new in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[after:after] = new
    void_main = main.return_type.strip() == "void"
    args = "argc, argv" if main.params else ""
    call = (f"{USER_MAIN}({args});\n    int rc = 0;" if void_main else f"int rc = {USER_MAIN}({args});")
    prelude = _MPI_PRELUDE_CPP if language == "cpp" else _MPI_PRELUDE_C
    parts = [prelude.rstrip("\n"), "\n".join(lines)]
    if wrappers:
        parts.append(_BCAST_HELPER.strip("\n"))
        parts += wrappers
    parts.append((_MPI_MAIN % {"call": call}).strip("\n"))
    return "\n\n".join(parts) + "\n", notes


def cuda_main_source(original: str, language: str, translated: list[str], cu: str = "") -> str:
    """The program's C (C++) part: the original with each translated function's
    definition replaced by its declaration (the definition is in the .cu; a
    C++ host declares it extern "C" when the .cu defines it so)."""
    funcs = _functions(original, language)
    lines = original.splitlines()
    spans = sorted((funcs[n] for n in translated if n in funcs), key=lambda s: s.start_line, reverse=True)
    for sig in spans:
        c_linkage = language == "cpp" and re.search(r'extern\s*"C"[^;{}]*\b' + re.escape(sig.name) + r"\s*\(", cu)
        lines[sig.start_line - 1:sig.end_line] = [
            ('extern "C" ' if c_linkage else "") + _prototype(sig) +
            "   /* paralift: the CUDA version is in the .cu file this program links */"]
    return "\n".join(lines) + ("\n" if original.endswith("\n") else "")


def strip_main(code: str) -> str:
    """A CUDA unit linked into a program must not bring a main of its own."""
    sig = _functions(code, "cpp").get("main")
    if sig is None:
        return code
    lines = code.splitlines()
    del lines[sig.start_line - 1:sig.end_line]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ commands

def _tool(path: str | None, name: str) -> str:
    """The name as the user's shell finds it, else the full path."""
    if path and shutil.which(name) and Path(shutil.which(name)).resolve() == Path(path).resolve():
        return name
    return path or name


def _paralift_exe() -> str:
    venv = Path(sys.executable).parent / "paralift"
    return _tool(str(venv) if venv.exists() else None, "paralift")


def _exe(path: str) -> str:
    return path if "/" in path else "./" + path


@dataclass
class Commands:
    """Build steps (each one argv) and the run command of one target's output."""
    build: list[list[str]]
    run: list[str] | None                       # None: no main, a library
    env: dict[str, str] = field(default_factory=dict)

    def build_line(self) -> str:
        return " && ".join(shlex.join(c) for c in self.build)

    def run_line(self) -> str | None:
        if self.run is None:
            return None
        env = " ".join(f"{k}={v}" for k, v in self.env.items())
        return (env + " " if env else "") + shlex.join(self.run)


def project_commands(cmds: Commands, flags: tuple[str, ...], cuda: bool = False) -> Commands:
    """`cmds` whose compile steps carry the project's flags (include paths, defines)."""
    from paralift.project import with_flags
    return Commands([with_flags(argv, flags, cuda) for argv in cmds.build], cmds.run, cmds.env)


def program_commands(target: Target, language: str, files: list[str], program: bool,
                     emulated: bool = False, workers: int = 4) -> Commands:
    """Build and run commands for the written `files` (paths as the user sees
    them; the first is the report's output). `emulated`: CUDA through
    paralift's CPU emulation instead of nvcc."""
    from paralift.sandbox.toolchains import detect
    tc = detect()
    cpp = language == "cpp"
    main_file = files[0]
    stem = str(Path(main_file).with_suffix(""))
    if target == Target.OPENMP:
        cc = _tool(tc.cxx.path, "g++") if cpp else _tool(tc.cc.path, "gcc")
        if not program:
            return Commands([[cc, "-O2", "-fopenmp", "-c", main_file, "-o", stem + ".o"]], None)
        return Commands([[cc, "-O2", "-fopenmp", main_file, "-o", stem, "-lm"]], [_exe(stem)],
                        {"OMP_NUM_THREADS": str(workers)})
    if target == Target.MPI:
        mpicc = _tool(tc.mpicxx.path, "mpicxx") if cpp else _tool(tc.mpicc.path, "mpicc")
        if not program:
            return Commands([[mpicc, "-O2", *MPI_FLAGS, "-c", main_file, "-o", stem + ".o"]], None)
        return Commands([[mpicc, "-O2", *MPI_FLAGS, main_file, "-o", stem, "-lm"]],
                        [_tool(tc.mpirun.path, "mpirun"), "-n", str(workers), _exe(stem)])
    cu_obj = stem + ".cu.o"
    if emulated:
        from paralift.sandbox import cuda_cpu
        cpu_src = stem + ".cu.cpp"
        gxx = _tool(tc.cxx.path, "g++")
        steps = [[_paralift_exe(), "cuda-emulate", main_file, "-o", cpu_src],
                 [gxx, *cuda_cpu.compile_flags(pch=False), "-c", cpu_src, "-o", cu_obj]]
        link = [gxx, "-fopenmp", "-pthread"]
    else:
        steps = [[_tool(tc.nvcc.path, "nvcc"), "-O2", "-std=c++17", "-c", main_file, "-o", cu_obj]]
        link = [_tool(tc.nvcc.path, "nvcc")]
    if not program:
        return Commands(steps, None)
    host = files[1]
    host_obj = str(Path(host).with_suffix("")) + ".o"
    cc = _tool(tc.cxx.path, "g++") if cpp else _tool(tc.cc.path, "gcc")
    steps.append([cc, "-O2", "-c", host, "-o", host_obj])
    steps.append([*link, host_obj, cu_obj, "-o", stem, "-lm"])
    return Commands(steps, [_exe(stem)])


def sequential_commands(language: str, source: str, exe: str) -> Commands:
    from paralift.sandbox.toolchains import detect
    tc = detect()
    cc = tc.cxx.path if language == "cpp" else tc.cc.path
    return Commands([[cc, "-O2", source, "-o", exe, "-lm"]], [_exe(exe)])


# ------------------------------------------------------------------ comparison

_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)\b", re.IGNORECASE)
RTOL = 1e-6


def _is_float(tok: str) -> bool:
    return any(c in tok for c in ".eEnN") or tok.lower().lstrip("+-") in ("inf", "nan")


def _printed_form(tok: str) -> tuple[int, bool]:
    """Digits after the point and whether there is an exponent: the format, which no reordering changes."""
    m = re.search(r"\.(\d*)", tok)
    return (len(m.group(1)) if m else 0), bool(re.search(r"[eE]", tok))


def _printed_ulp(tok: str) -> float:
    """One unit in the last printed digit of a fixed or exponent notation number."""
    m = re.match(r"[-+]?\d*\.?(\d*)(?:[eE]([-+]?\d+))?$", tok)
    if not m:
        return 0.0
    return 10.0 ** (-len(m.group(1)) + int(m.group(2) or 0))


def same_output(expected: str, got: str) -> str:
    """'' when `got` is the sequential program's output `expected`, else where
    it differs. Text and integers must match exactly; a floating-point number
    may differ by a relative 1e-6 or two units of its last printed digit (a
    parallel reduction adds in another order, as DESIGN §3 allows)."""
    a_lines, b_lines = expected.splitlines(), got.splitlines()
    if len(a_lines) != len(b_lines):
        return f"{len(b_lines)} line(s) of output instead of {len(a_lines)}" + _first_diff(a_lines, b_lines)
    for i, (a, b) in enumerate(zip(a_lines, b_lines), 1):
        if a == b:
            continue
        ta, tb = _NUM.split(a), _NUM.split(b)
        na, nb = _NUM.findall(a), _NUM.findall(b)
        if ta != tb or len(na) != len(nb):
            return f"line {i}: {b[:120]!r} instead of {a[:120]!r}"
        for x, y in zip(na, nb):
            if x == y:
                continue
            if not (_is_float(x) and _is_float(y)) or _printed_form(x) != _printed_form(y):
                return f"line {i}: {b[:120]!r} instead of {a[:120]!r}"
            fx, fy = float(x), float(y)
            if math.isnan(fx) or math.isnan(fy) or math.isinf(fx) or math.isinf(fy):
                return f"line {i}: {b[:120]!r} instead of {a[:120]!r}"
            tol = RTOL * max(abs(fx), abs(fy)) + 2 * max(_printed_ulp(x.lstrip("+-")), _printed_ulp(y.lstrip("+-")))
            if abs(fx - fy) > tol:
                return f"line {i}: {b[:120]!r} instead of {a[:120]!r}"
    return ""


def _first_diff(a: list[str], b: list[str]) -> str:
    for i, (x, y) in enumerate(zip(a, b), 1):
        if x != y:
            return f" (first difference, line {i}: {y[:120]!r} instead of {x[:120]!r})"
    return ""


# ------------------------------------------------------------------ verification

@dataclass
class ProgramCheck:
    ok: bool
    reason: str = ""
    runs: list[str] = field(default_factory=list)     # the configurations that ran and matched
    stdout: str = ""                                   # the sequential program's
    # the sequential program itself could not be built or run within the
    # limits: nothing is known about the written one, and no function is blamed
    inconclusive: bool = False

    def to_json(self) -> dict:
        return {"verified": self.ok, "reason": self.reason, "runs": self.runs}


def _run_configs(target: Target, cmds: Commands, emulated: bool) -> list[tuple[str, list[str], dict[str, str]]]:
    from paralift.sandbox.verify import MPI_YIELD_ENV
    run = list(cmds.run or [])
    if target == Target.OPENMP:
        return [(f"threads={t}", run, {"OMP_NUM_THREADS": str(t)}) for t in (1, 2, 3)]
    if target == Target.MPI:
        n_at = run.index("-n") + 1
        return [(f"ranks={n}", run[:n_at] + [str(n)] + run[n_at + 1:], {"OMP_NUM_THREADS": "1", **MPI_YIELD_ENV})
                for n in (1, 2, 3)]
    if emulated:
        from paralift.sandbox import cuda_cpu
        return [(f"cpu-emulated {o}", run, {cuda_cpu.ORDER_ENV: o}) for o in ("forward", "reverse")]
    return [("gpu", run, {})]


def _written_files(d: Path, skip: set[str]) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and str(p.relative_to(d)) not in skip}


def verify_program(source: str, language: str, target: Target, files: dict[str, str],
                   emulated: bool, flags: tuple[str, ...] = ()) -> ProgramCheck:
    """Build the sequential program and the written one with the commands the
    report prints and run them (1, 2, 3 threads or ranks; CUDA in both thread
    orders on the emulation): stdout, the files each writes in its (empty)
    working folder and the exit status must be the sequential program's."""
    from paralift.sandbox import isolation, locks
    from paralift.sandbox.isolation import Limits
    from paralift.sandbox.verify import _first_error, _mkdtemp, _rmtree

    names = list(files)
    build_limits = Limits(wall_s=300, cpu_s=600, max_pids=256)
    run_limits = Limits(wall_s=120, cpu_s=300, max_pids=256)
    work = _mkdtemp("paralift-program-")
    try:
        seq_src = "seq.cpp" if language == "cpp" else "seq.c"
        (work / seq_src).write_text(source)
        for n, t in files.items():
            (work / n).write_text(t)
        seq = project_commands(sequential_commands(language, seq_src, "seq"), flags)
        par = project_commands(program_commands(target, language, names, True, emulated), flags,
                               cuda=target == Target.CUDA)
        with locks.shared():
            for what, cmds in (("the sequential program", seq), ("the written program", par)):
                for argv in cmds.build:
                    if argv[1:2] == ["cuda-emulate"]:
                        # the CLI step, done here: the sandbox sees the toolchains, not paralift's venv
                        from paralift.sandbox import cuda_cpu
                        try:
                            (work / argv[4]).write_text(cuda_cpu.rewrite((work / argv[2]).read_text()))
                        except cuda_cpu.RewriteError as e:
                            return ProgramCheck(False, f"{what} cannot run on the CPU emulation: {e}")
                        continue
                    r = isolation.run(argv, work, build_limits)
                    if not r.ok:
                        return ProgramCheck(False, f"{what} does not build ({shlex.join(argv[:2])} ...): "
                                                   f"{_first_error(r.stderr + r.stdout)}",
                                            inconclusive=cmds is seq)

        def run_in_fresh_dir(binary: str, argv: list[str], env: dict[str, str]):
            d = work / f"run-{len(list(work.glob('run-*')))}"
            d.mkdir()
            shutil.copy2(work / binary, d / binary)
            r = isolation.run(argv, d, run_limits, env=env)
            return r, _written_files(d, {binary})

        expected, seq_files = run_in_fresh_dir("seq", ["./seq"], {})
        if expected.timed_out or expected.oom:
            return ProgramCheck(False, f"the sequential program {expected.describe()}", inconclusive=True)
        exe = Path(par.run[-1]).name
        runs = []
        for label, argv, env in _run_configs(target, par, emulated):
            argv = [*argv[:-1], "./" + exe]
            r, got_files = run_in_fresh_dir(exe, argv, env)
            why = ""
            if r.timed_out or r.oom:
                why = r.describe()
            elif r.returncode != expected.returncode:
                why = f"exit status {r.returncode} instead of {expected.returncode}" + \
                      (f": {_first_error(r.stderr)}" if r.stderr.strip() else "")
            else:
                why = same_output(expected.stdout, r.stdout)
                if not why and set(got_files) != set(seq_files):
                    why = f"wrote {sorted(got_files)} instead of {sorted(seq_files)}"
                if not why:
                    for n, data in seq_files.items():
                        if data != got_files[n]:
                            try:
                                d = same_output(data.decode(), got_files[n].decode())
                            except UnicodeDecodeError:
                                d = "different bytes"
                            if d:
                                why = f"file {n}: {d}"
                                break
            if why:
                return ProgramCheck(False, f"{label}: {why}", runs, expected.stdout)
            runs.append(label)
        return ProgramCheck(True, "", runs, expected.stdout)
    finally:
        _rmtree(work)


# ------------------------------------------------------------------ the written files

def host_path(out_path: Path, language: str) -> Path:
    """CUDA programs: where the C (C++) part goes, next to NAME.cu."""
    return out_path.with_name(out_path.stem + ".main" + (".cpp" if language == "cpp" else ".c"))


def output_files(source: str, language: str, target: Target, tasks: dict[str, Task], translated: list[str],
                 merged: str | None, out_path: Path) -> tuple[dict[Path, str], list[str]]:
    """The files to write for `merged` (the verified functions in the
    original file, or the CUDA unit), the first one `out_path`; and notes."""
    if merged is None:
        return {}, []
    if not defines_main(source, language):
        return {out_path: merged}, []
    if target == Target.MPI:
        text, notes = mpi_program(merged, language, tasks, translated)
        return {out_path: text}, notes
    if target == Target.CUDA:
        return {out_path: strip_main(merged), host_path(out_path, language): cuda_main_source(source, language, translated, merged)}, []
    return {out_path: merged}, []


def emulated_cuda() -> bool:
    from paralift.sandbox.toolchains import detect
    return not detect().gpu


@dataclass
class ProgramOutcome:
    files: dict[Path, str]
    check: ProgramCheck | None
    demoted: dict[str, str]            # function -> why it stays sequential in the program
    notes: list[str]
    chosen: list[str]


def settle_program(source: str, language: str, target: Target, tasks: dict[str, Task], chosen: dict,
                   merged: str | None, out_path: Path, merge, say) -> ProgramOutcome:
    """The files to write, checked as a program when the source has `main`.
    When the program's behaviour differs from the sequential one's, each
    function is tried alone; those that still differ stay sequential with the
    difference as their reason, and the rest are kept only if together they
    match too (else the first alone)."""
    names = list(chosen)
    files, notes = output_files(source, language, target, tasks, names, merged, out_path)
    if not files or not defines_main(source, language):
        return ProgramOutcome(files, None, {}, notes, names)
    emulated = target == Target.CUDA and emulated_cuda()
    flags = next((t.build_flags for t in tasks.values()), ())     # the project's (compile_commands.json)

    def check(subset: list[str], text: str | None) -> tuple[dict[Path, str], list[str], ProgramCheck]:
        fs, ns = output_files(source, language, target, tasks, subset, text, out_path)
        if not fs:
            return fs, ns, ProgramCheck(True)
        return fs, ns, verify_program(source, language, target, {p.name: t for p, t in fs.items()}, emulated,
                                      flags)

    say(f"running the written program against the sequential one ({target.value})")
    _, _, result = check(names, merged)
    if result.ok:
        return ProgramOutcome(files, result, {}, notes, names)
    if result.inconclusive:
        notes.append(f"the written program was not run against the sequential one: {result.reason}")
        return ProgramOutcome(files, result, {}, notes, names)
    if len(names) == 1:
        demoted = {names[0]: result.reason}
        fs, ns, r = check([], None if target == Target.CUDA else merge({}))
        return ProgramOutcome(fs, r if fs else None, demoted, ns, [])
    demoted, good = {}, []
    for n in names:
        _, _, r = check([n], merge({n: chosen[n]}))
        if r.ok:
            good.append(n)
        else:
            demoted[n] = r.reason
    if len(good) > 1:
        _, _, r = check(good, merge({n: chosen[n] for n in good}))
        if not r.ok:
            for n in good[1:]:
                demoted[n] = f"the program with it and {good[0]} together: {r.reason}"
            good = good[:1]
    text = merge({n: chosen[n] for n in good}) if good or target != Target.CUDA else None
    fs, ns, r = check(good, text)
    return ProgramOutcome(fs, r if fs else None, demoted, ns, good)

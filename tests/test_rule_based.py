"""Rule-based translator: generated OpenMP/MPI/CUDA code compiles, and OpenMP
and MPI code gives the sequential results (small C/C++ mains written here)."""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from paralift.agents import AnalysisError, NotParallelizable, RuleBasedTranslator, build_task
from paralift.types import ParamKind, Target, ValueKind

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

# ---------------------------------------------------------------------------
# a small differential harness (independent of paralift.sandbox)
# ---------------------------------------------------------------------------


def _eval_size(expr: str, env: dict) -> int:
    if expr is None:
        raise ValueError("no extent")
    if not re.fullmatch(r"[\w\s()+\-*/,]*", expr):
        raise ValueError(expr)
    return int(eval(expr, {"__builtins__": {}, "max": max, "min": min}, dict(env)))


def make_main(task, sizes: dict, mpi: bool = False) -> str:
    """A main() that builds deterministic inputs from the Task and prints every array/ref/return."""
    sig = task.signature
    cpp = task.language == "cpp"
    env = dict(sizes)
    for p in sig.params:
        if p.kind == ParamKind.SCALAR and p.name not in env:
            if p.values.kind == ValueKind.SIZE:
                env[p.name] = 7
    for tok in task.analysis.get("size_tokens", {}).values():
        env.setdefault(tok, sizes.get("N", 9))
    env.setdefault("N", sizes.get("N", 9))
    lines = []
    args = []
    prints = []
    for p in sig.params:
        t = p.base_type
        is_float = t in ("float", "double", "long double")
        if p.kind == ParamKind.SCALAR:
            if p.name in env:
                val = env[p.name]
            elif p.values.kind == ValueKind.INDEX:
                val = max(0, _eval_size(p.values.bound, env) // 2)
            elif p.values.kind == ValueKind.NONZERO:
                val = 3
            else:
                val = 0.75 if is_float else 2
            lines.append(f"  {t} {p.name} = ({t})({val});")
            args.append(p.name)
        elif p.kind == ParamKind.REF:
            lines.append(f"  {t} {p.name} = ({t})(1);")
            args.append(p.name)
            prints.append((p.name, None))
        else:
            count = _eval_size(p.extent, env)
            count = max(count, 0)
            if cpp and p.kind == ParamKind.VECTOR:
                lines.append(f"  std::vector<{t}> {p.name}({count});")
            else:
                lines.append(f"  {t} *{p.name} = ({t} *)malloc(({count} + 1) * sizeof({t}));")
            vk = p.values.kind
            if vk == ValueKind.INDEX:
                b = max(1, _eval_size(p.values.bound, env))
                fill = f"({t})((__k * 7 + 3) % {b})"
            elif vk == ValueKind.OFFSETS:
                b = _eval_size(p.values.bound, env)
                fill = f"({t})((long long)__k * {b} / ({count} - 1 > 0 ? {count} - 1 : 1))"
            elif vk == ValueKind.NONZERO:
                fill = f"({t})(1 + __k % 5)"
            elif is_float:
                fill = f"({t})(0.5 + 0.25 * ((__k * 37) % 11) - 0.1 * (__k % 3))"
            else:
                fill = f"({t})((__k * 13 + 5) % 17)"
            lines.append(f"  for (long long __k = 0; __k < {count}; __k++) {p.name}[__k] = {fill};")
            args.append(p.name)
            prints.append((p.name, count))
    call = f"{sig.name}({', '.join(args)})"
    if sig.return_type.strip() not in ("void",):
        lines.append(f"  {sig.return_type} __ret = {call};")
        prints.insert(0, ("__ret", None))
    else:
        lines.append(f"  {call};")
    out = ["  if (__rank == 0) {"]
    for name, count in prints:
        if count is None:
            out.append(f'    printf("{name} %.17g\\n", (double)({name}));')
        else:
            out.append(f'    for (long long __k = 0; __k < {count}; __k++) printf("{name} %.17g\\n", (double)({name}[__k]));')
    out.append("  }")
    head = ["#include <stdio.h>", "#include <stdlib.h>"]
    if cpp:
        head += ["#include <vector>"]
    if mpi:
        head += ["#include <mpi.h>"]
    body = ["int main(int argc, char **argv) {", "  int __rank = 0;"]
    if mpi:
        body += ["  MPI_Init(&argc, &argv);", "  MPI_Comm_rank(MPI_COMM_WORLD, &__rank);"]
    body += lines + out
    if mpi:
        body += ["  MPI_Finalize();"]
    body += ["  return 0;", "}"]
    return "\n".join(head) + "\n" + "\n".join(body) + "\n"


def strip_main(source: str) -> str:
    """Remove an existing main() from a source (the harness brings its own)."""
    m = re.search(r"\bint\s+main\s*\(", source)
    if not m:
        return source
    i = source.index("{", m.end())
    depth = 0
    for j in range(i, len(source)):
        if source[j] == "{":
            depth += 1
        elif source[j] == "}":
            depth -= 1
            if depth == 0:
                return source[:m.start()] + source[j + 1:]
    return source


def _run(cmd, env=None, timeout=60):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    return r.stdout


def _compare(a: str, b: str, rtol: float) -> None:
    la, lb = a.strip().splitlines(), b.strip().splitlines()
    assert len(la) == len(lb), f"output length differs: {len(la)} vs {len(lb)}"
    for x, y in zip(la, lb):
        nx, vx = x.split()
        ny, vy = y.split()
        assert nx == ny
        fx, fy = float(vx), float(vy)
        if math.isnan(fx) and math.isnan(fy):
            continue
        assert abs(fx - fy) <= rtol * max(1.0, abs(fx), abs(fy)), f"{nx}: sequential {vx} vs parallel {vy}"


def run_differential(source: str, language: str, function: str, target: Target, size_sets: list[dict],
                     workers=(1, 3, 4), rtol: float = 1e-9, tmp: Path | None = None) -> str:
    task = build_task(source, language, function, target)
    cand = RuleBasedTranslator().propose(task, target)[0]
    tmp = Path(tmp or tempfile.mkdtemp(prefix="plrb_"))
    ext = ".cpp" if language == "cpp" else ".c"
    seq_src = strip_main(source)
    par_src = strip_main(cand.code)
    mpi = target == Target.MPI
    if mpi:
        cc = str(VENV_BIN / ("mpicxx" if language == "cpp" else "mpicc"))
    else:
        cc = "g++" if language == "cpp" else "gcc"
    for si, sizes in enumerate(size_sets):
        main = make_main(task, sizes, mpi=mpi)
        (tmp / f"seq{si}{ext}").write_text(seq_src + "\n" + main)
        (tmp / f"par{si}{ext}").write_text(par_src + "\n" + main)
        flags = ["-O2", "-w"] + (["-std=c99"] if language == "c" else [])
        _run([cc, *flags, str(tmp / f"seq{si}{ext}"), "-o", str(tmp / f"seq{si}"), "-lm"])
        _run([cc, *flags, "-fopenmp", str(tmp / f"par{si}{ext}"), "-o", str(tmp / f"par{si}"), "-lm"])
        env = dict(os.environ)
        expected = _run([str(tmp / f"seq{si}")], env=env)
        for w in workers:
            if mpi:
                got = _run([str(VENV_BIN / "mpirun"), "-n", str(w), str(tmp / f"par{si}")], env=env)
            else:
                env["OMP_NUM_THREADS"] = str(w)
                got = _run([str(tmp / f"par{si}")], env=env)
            _compare(expected, got, rtol)
    return cand.code

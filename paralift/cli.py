"""The `paralift` command line (DESIGN.md §4).

Exit codes: 0 everything requested verified (or kept sequential with a
reason), 1 something could not be verified, 2 bad usage or input (one line on
stderr, no traceback). Progress and logs go to stderr; `--json` prints exactly
one JSON object on stdout.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from paralift.errors import UsageError
from paralift.types import Target

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Turn sequential C/C++ into verified, faster OpenMP, MPI and CUDA code.")


def _target(value: str) -> Target:
    try:
        return Target.parse(value)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _read(path: Path, what: str) -> str:
    if not path.exists():
        raise UsageError(f"{what} {path} does not exist")
    if not path.is_file():
        raise UsageError(f"{what} {path} is not a file")
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path} is not a text file") from None


def _emit_json(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, indent=2) + "\n")
    sys.stdout.flush()


@app.command()
def verify(
    sequential: Path = typer.Argument(..., help="the sequential C/C++ source"),
    candidate: Path = typer.Option(..., "--candidate", "-c", help="the parallel version to check"),
    to: str = typer.Option(..., "--to", help="openmp, mpi or cuda"),
    function: Optional[List[str]] = typer.Option(None, "--function", "-f", help="function(s) to check (default: all shared ones)"),
    tests: Optional[Path] = typer.Option(None, "--tests", help="a test suite JSON (from `paralift tests --json`)"),
    timing: bool = typer.Option(True, "--timing/--no-timing", help="measure the speedup of verified functions"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    project: Optional[Path] = typer.Option(None, "--project", "-p", help="folder holding compile_commands.json (default: the nearest one with an entry for the file)"),
):
    """Check a hand-written parallel version against the sequential one."""
    from paralift import pipeline

    target = _target(to)
    seq_text = _read(sequential, "sequential file")
    cand_text = _read(candidate, "candidate file")
    suite = pipeline.load_suite(tests) if tests else None
    report = pipeline.verify_files(sequential, seq_text, candidate, cand_text, target, function or [], suite,
                                   timing=timing, project_dir=project)
    if as_json:
        _emit_json(report.to_json())
    else:
        report.print_human(sys.stdout)
    raise typer.Exit(report.exit_code())


@app.command()
def translate(
    input: Path = typer.Argument(..., help="the sequential C/C++ source"),
    to: str = typer.Option(..., "--to", help="openmp, mpi or cuda"),
    function: Optional[List[str]] = typer.Option(None, "--function", "-f", help="function(s) to translate (default: all)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="output file (default: INPUT-stem.omp.c / .mpi.c / .cu)"),
    backend: Optional[List[str]] = typer.Option(None, "--backend", help="translator backends: rule, hf, vllm, openai"),
    model: Optional[str] = typer.Option(None, "--model", help="model id or path for LLM backends"),
    samples: Optional[int] = typer.Option(None, "--samples", min=1, help="candidates per LLM backend (default: [tool.paralift] samples, else 1)"),
    timing: bool = typer.Option(True, "--timing/--no-timing", help="measure speedups (needed to pick the fastest)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    budget: Optional[float] = typer.Option(None, "--budget", min=0, help="openmp: seconds to search loop restructurings by measured speed"),
    project: Optional[Path] = typer.Option(None, "--project", "-p", help="folder holding compile_commands.json (default: the nearest one with an entry for the file)"),
):
    """Translate, verify and write the fastest verified version."""
    from paralift import pipeline

    target = _target(to)
    text = _read(input, "input file")
    report = pipeline.translate_file(input, text, target, function or [], output, backends=backend or [],
                                     model=model, samples=samples, timing=timing, budget=budget,
                                     project_dir=project)
    if as_json:
        _emit_json(report.to_json())
    else:
        report.print_human(sys.stdout)
    raise typer.Exit(report.exit_code())


@app.command()
def doctor():
    """Show the compilers, MPI, nvcc, GPU and isolation paralift found."""
    from paralift.sandbox.toolchains import doctor_lines

    missing = 0
    for what, ok, detail in doctor_lines():
        mark = "ok " if ok else "-- "
        missing += not ok
        typer.echo(f"{mark} {what:<24} {detail}")
    if missing:
        typer.echo(f"\n{missing} item(s) missing: the command beside each installs it.")


@app.command("cuda-emulate")
def cuda_emulate(
    source: Path = typer.Argument(..., help="a .cu file"),
    output: Path = typer.Option(..., "--output", "-o", help="the C++ file to write (build it with g++ and the flags `translate` prints)"),
):
    """Rewrite a .cu file into C++ for paralift's CUDA-on-CPU emulation (a machine without a GPU)."""
    from paralift.sandbox import cuda_cpu

    text = _read(source, "CUDA file")
    missing = cuda_cpu.unsupported_features(text)
    if missing:
        raise UsageError(f"{source} uses what the CPU emulation does not support: {', '.join(missing)}")
    try:
        output.write_text(cuda_cpu.rewrite(text))
    except cuda_cpu.RewriteError as e:
        raise UsageError(f"{source}: {e}") from None


@app.command("lsp")
def lsp():
    """Start the language server over stdio (the VS Code extension runs this)."""
    try:
        from paralift.lsp.server import main as serve
    except ImportError as e:
        raise UsageError(f"the language server needs pygls: pip install 'paralift[lsp]' ({e})") from None
    serve()


@app.command("eval", add_help_option=False,
             context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def eval_(ctx: typer.Context):
    """Evaluate agents on a suite: build@k, pass@k, speedup_n@k, efficiency_n@k (`paralift eval --help`)."""
    from paralift.eval.command import main as eval_main

    code = eval_main(ctx.args)
    if code:
        sys.exit(code)


@app.command("tests")
def tests_command(
    file: Path = typer.Argument(..., help="the sequential C/C++ source"),
    function: Optional[str] = typer.Option(None, "--function", "-f", help="the function to test (needed when the file defines several)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="also write the suite as JSON (for `verify --tests`)"),
    seed: int = typer.Option(0, "--seed", help="seed of the generated values"),
    candidate: Optional[Path] = typer.Option(None, "--candidate", "-c", help="a correct parallel version to mutate (default: the rule-based translations)"),
    to: Optional[str] = typer.Option(None, "--to", help="target(s) to mutate, comma-separated (default: openmp,mpi; the candidate's with --candidate)"),
    mutation: bool = typer.Option(True, "--mutation/--no-mutation", help="measure the mutation score"),
    coverage: bool = typer.Option(True, "--coverage/--no-coverage", help="measure gcov line/branch coverage of the reference"),
    backend: Optional[str] = typer.Option(None, "--backend", help="also ask a tester model for cases: hf, vllm or openai"),
    model: Optional[str] = typer.Option(None, "--model", help="model id or path for --backend"),
    samples: int = typer.Option(1, "--samples", min=1, help="replies to ask the tester model for"),
    project: Optional[Path] = typer.Option(None, "--project", "-p", help="folder holding compile_commands.json (default: the nearest one with an entry for the file)"),
):
    """Generate the test suite of a function and report its adequacy (coverage, mutation score)."""
    from paralift import pipeline
    from paralift.agents import detect_language
    from paralift.project import analysis_context
    from paralift.types import Candidate

    text = _read(file, "input file")
    language = detect_language(str(file), text)
    names = pipeline.select_functions(text, language, [function] if function else [])
    if len(names) != 1:
        raise UsageError(f"the file defines several functions ({', '.join(names)}): name one with --function")
    targets = [_target(t) for t in (to or "").split(",") if t.strip()]
    cands = []
    if candidate is not None:
        if len(targets) != 1:
            raise UsageError("--candidate needs --to with its one target")
        cands = [Candidate(_read(candidate, "candidate file"), targets[0], agent=f"user:{candidate.name}")]
    proj = pipeline.load_project(file, project)
    # the mutants' rule-based translations analyse the file again: the project's macros stay lent
    with analysis_context(proj, language):
        _tests_of(file, text, language, names[0], proj, cands, targets, as_json, output, seed, coverage,
                  mutation, backend, model, samples)


def _tests_of(file, text, language, name, proj, cands, targets, as_json, output, seed, coverage, mutation,
              backend, model, samples) -> None:
    from paralift.agents import build_task
    from paralift.agents.tester import TesterError, VacuousSuite, print_adequacy, suite_adequacy

    task = build_task(text, language, name, None, str(file))
    task.build_flags = proj.flags if proj else ()
    say = (lambda m: print(f"paralift: {m}", file=sys.stderr, flush=True))
    generate = None
    if backend:
        from paralift.agents.llm import LLMTranslator
        from paralift.agents.tester import provider_generate
        generate = provider_generate(LLMTranslator.create(backend, model, samples).provider, samples)
    try:
        report = suite_adequacy(task, seed=seed, coverage=coverage, mutation=mutation, candidates=cands,
                                targets=targets or None, generate=generate, say=say)
    except (TesterError, VacuousSuite) as e:
        if as_json:
            _emit_json({"function": name, "error": str(e)})
        print(f"paralift: no test suite for {name}: {e}", file=sys.stderr)
        raise typer.Exit(1)
    if output is not None:
        output.write_text(json.dumps(report["suite"], indent=1) + "\n")
        report["output"] = str(output)
    if as_json:
        _emit_json(report)
    else:
        print_adequacy(report, sys.stdout)
        if output is not None:
            print(f"wrote {output}")


class _NeverRaised(Exception):
    pass


def _click_exceptions():
    """click's ClickException, Abort and Exit as typer uses them: newer typer
    vendors a trimmed click (typer._click) that lacks some of them."""
    import types
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return types.SimpleNamespace(
        ClickException=getattr(exceptions, "ClickException", _NeverRaised),
        Abort=getattr(exceptions, "Abort", _NeverRaised),
        Exit=getattr(exceptions, "Exit", typer.Exit),
    )


from paralift.data.cli import app as _data_app  # noqa: E402  (the `paralift data` group, issue 7)
app.add_typer(_data_app, name="data")
from paralift.training.cli import app as _train_app  # noqa: E402  (the `paralift train` group, issue 8)
app.add_typer(_train_app, name="train")

def main() -> None:
    """Console entry point: user errors become one line and exit 2."""
    from paralift.agents.base import AnalysisError

    click_exc = _click_exceptions()
    try:
        # Without standalone mode click returns the exit code instead of exiting.
        rc = app(standalone_mode=False)
    except typer.Exit as e:
        rc = e.exit_code
    except (UsageError, AnalysisError) as e:
        print(f"paralift: error: {e}", file=sys.stderr)
        rc = 2
    except click_exc.ClickException as e:
        e.show()
        rc = 2
    except click_exc.Abort:
        print("paralift: aborted", file=sys.stderr)
        rc = 130
    except KeyboardInterrupt:
        print("paralift: interrupted", file=sys.stderr)
        rc = 130
    except Exception as e:  # noqa: BLE001 - last resort: never a traceback for users
        if os.environ.get("PARALIFT_DEBUG"):
            raise
        print(f"paralift: internal error: {type(e).__name__}: {e} (PARALIFT_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        rc = 1
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()

"""`paralift eval` (and `python -m paralift.eval`, the same command).

    paralift eval --suite builtin|PATH --to openmp,mpi,cuda --backend rule,gcc-autopar[,hf|vllm|openai]
                  [--model ID] [--samples N] [-k 1,5,10] [--out DIR] [--stage all|generate|execute|score]
                  [--executor auto|local|mpi|serial] [--jobs N] [--timing/--no-timing] [--workers N]
                  [--tasks a,b] [--limit N] [--speedup-failed zero|exclude] [--plots/--no-plots]

Results: the Markdown tables on stdout; OUT/samples.jsonl, OUT/summary.json,
OUT/summary.md and the PNG plots. Progress on stderr. Exit 2 with one line
for bad input (unknown suite, bad --to, ...).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from paralift.errors import UsageError

app = typer.Typer(add_completion=False, help=__doc__)


def _split(values: list[str] | None) -> list[str]:
    out = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def parse_targets(text: str) -> tuple[str, ...]:
    from paralift.types import Target
    items = _split([text])
    if not items:
        raise UsageError("--to names no target (choose from openmp, mpi, cuda)")
    out = []
    for t in items:
        try:
            out.append(Target.parse(t).value)
        except ValueError as e:
            raise UsageError(f"--to: {e}") from None
    return tuple(dict.fromkeys(out))


def parse_ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(sorted({int(x) for x in _split([text])}))
    except ValueError:
        raise UsageError(f"-k takes positive integers separated by commas, not {text!r}") from None
    if not ks or ks[0] < 1:
        raise UsageError(f"-k takes positive integers separated by commas, not {text!r}")
    return ks


@app.command()
def eval(  # noqa: A001 - the command's name
    suite: str = typer.Option("builtin", "--suite", help="'builtin' or a path: kernel dir, suite JSON, JSONL corpus, ParEval prompts"),
    to: str = typer.Option("openmp,mpi,cuda", "--to", help="targets, comma-separated"),
    backend: Optional[List[str]] = typer.Option(None, "--backend", help="agents: rule, gcc-autopar, hf, vllm, openai (repeat or comma-separate)"),
    model: Optional[str] = typer.Option(None, "--model", help="model id or path for model backends"),
    samples: int = typer.Option(1, "--samples", min=1, help="samples per task and target for model backends"),
    k: str = typer.Option("1,5,10", "-k", "--k", help="k values of the @k metrics"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="output directory (default: eval-results/SUITE)"),
    stage: str = typer.Option("all", "--stage", help="all, generate, execute or score"),
    executor: str = typer.Option("auto", "--executor", help="auto (MPI inside an mpi4py.futures job, else local), local, mpi, serial"),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="worker processes (local) or MPI workers to spawn"),
    timing: bool = typer.Option(True, "--timing/--no-timing", help="measure speedups (speedup_n@k needs it)"),
    workers: int = typer.Option(0, "--workers", min=0, help="threads/ranks of timing runs: the n of speedup_n@k (0: all cores)"),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="only these task ids, comma-separated"),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="only the first N tasks"),
    speedup_failed: str = typer.Option("zero", "--speedup-failed", help="failed samples in speedup_n@k: zero or exclude"),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="write pass_at_k.png and speedup.png"),
    sample_timeout: float = typer.Option(1800.0, "--sample-timeout", min=0,
                                         help="harness wall limit per verification in s (0: none)"),
):
    """Evaluate translator agents on a suite: build@k, pass@k, speedup_n@k, efficiency_n@k, BLEU, CodeBLEU."""
    from .runner import EvalConfig, run
    from .suites import load_suite

    targets = parse_targets(to)
    ks = parse_ks(k)
    if speedup_failed not in ("zero", "exclude"):
        raise UsageError(f"--speedup-failed must be zero or exclude, not {speedup_failed!r}")
    s = load_suite(suite)
    task_ids = _split([tasks]) if tasks else []
    s = s.subset(task_ids or None, [t for t in targets], limit)
    if not s.tasks:
        raise UsageError(f"suite {s.name!r} has no task to evaluate")
    backends = tuple(_split(backend)) or ("rule",)
    cfg = EvalConfig(suite=suite, targets=targets, backends=backends, model=model, samples=samples, ks=ks,
                     timing=timing, workers=workers, speedup_failed=speedup_failed, tasks=tuple(task_ids),
                     limit=limit, sample_timeout=sample_timeout)
    out_dir = out or Path("eval-results") / s.name
    run(s, cfg, out_dir, stage=stage, executor_kind=executor, jobs=jobs, plots=plots)


def main(argv: list[str] | None = None) -> int:
    """Run the command; user errors are one line on stderr and exit 2."""
    from paralift.agents.base import AnalysisError
    from paralift.cli import _click_exceptions
    click_exc = _click_exceptions()   # typer may vendor click
    try:
        app(args=list(sys.argv[1:] if argv is None else argv), prog_name="paralift eval", standalone_mode=False)
    except click_exc.Exit as e:
        return e.exit_code
    except (UsageError, AnalysisError) as e:
        print(f"paralift: error: {e}", file=sys.stderr)
        return 2
    except click_exc.ClickException as e:
        e.show()
        return 2
    except click_exc.Abort:
        print("paralift: aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("paralift: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - never a traceback for users
        if os.environ.get("PARALIFT_DEBUG"):
            raise
        print(f"paralift: internal error: {type(e).__name__}: {e} (PARALIFT_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1
    return 0

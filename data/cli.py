"""`paralift data ...`: build, verify and import corpora (DESIGN.md §5)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from paralift.errors import UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Build, re-verify and import parallel-code corpora (JSONL + dataset card).")


def _split_list(values: Optional[List[str]]) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


@app.command("families")
def families_cmd(as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout")):
    """List the kernel families of the generator."""
    from .generator import FAMILIES, cpp_families
    rows = {name: {"group": grp, "parallel": par, "language": "c"} for name, (_, par, grp) in FAMILIES.items()}
    rows.update({name: {"group": grp, "parallel": par, "language": "cpp"}
                 for name, (_, par, grp) in cpp_families().items()})
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    for name, r in rows.items():
        typer.echo(f"{name:24s} {r['language']:4s} {r['group']:16s} "
                   f"{'parallel' if r['parallel'] else 'must stay sequential'}")
    typer.echo("(C families are the default corpus; `--families cpp` builds the C++ ones)")


@app.command("build")
def build_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="output directory (created; an existing build is resumed)"),
    families: Optional[List[str]] = typer.Option(None, "--families", help="families (comma-separated or repeated), or c, cpp, all (default: c, the C families)"),
    count: int = typer.Option(100, "--count", "-n", help="kernels (seeds) per family"),
    targets: Optional[List[str]] = typer.Option(None, "--targets", help="openmp, mpi, cuda (default: all three)"),
    workers: int = typer.Option(2, "--workers", "-j", help="worker processes"),
    batch_size: int = typer.Option(96, "--batch-size", help="kernels verified per batch (one build and one process per configuration and target)"),
    seed: int = typer.Option(0, "--seed", help="first seed"),
    decontaminate: str = typer.Option("builtin", "--decontaminate", help="evaluation suite to decontaminate against ('none' to skip)"),
    max_minutes: Optional[float] = typer.Option(None, "--max-minutes", help="stop starting new batches after this long (resume later)"),
    executor: str = typer.Option("auto", "--executor", help="auto (MPI inside an mpi4py.futures job, else local), local, mpi"),
    timing: bool = typer.Option(False, "--timing/--no-timing", help="also measure each verified translation's "
                                "speedup with its 95%% interval (record field `timing`; seconds per example, "
                                "off by default; use --workers 1 for less contended figures)"),
    timing_cap: float = typer.Option(10.0, "--timing-cap", help="with --timing: seconds per input profile at most"),
    as_json: bool = typer.Option(False, "--json", help="print the build statistics as one JSON object"),
):
    """Generate kernels, translate them with the enabled agents, keep only verified translations.

    On a cluster: mpirun -n N python -m mpi4py.futures -m paralift data build ... (ranks 1..N-1 verify)."""
    from . import build as B
    from .generator import FAMILIES, cpp_families
    fams = _split_list(families) or list(FAMILIES)
    # group names: `c` (the default corpus), `cpp` (generator_cpp.py), `all`
    groups = {"c": list(FAMILIES), "cpp": list(cpp_families()), "all": list(FAMILIES) + list(cpp_families())}
    fams = list(dict.fromkeys(f for name in fams for f in groups.get(name, [name])))
    tg = tuple(_split_list(targets) or B.TARGETS)
    tg = tuple("openmp" if t == "omp" else t for t in tg)
    if workers < 1 or batch_size < 1:
        raise UsageError("--workers and --batch-size must be at least 1")
    if timing_cap <= 0:
        raise UsageError("--timing-cap must be positive")
    cfg = B.BuildConfig(out=out, families=fams, count=count, targets=tg, workers=workers, batch_size=batch_size,
                        seed=seed, decontaminate=None if decontaminate == "none" else decontaminate,
                        max_seconds=max_minutes * 60 if max_minutes else None, executor=executor,
                        timing=timing, timing_cap_s=timing_cap)
    stats = B.build(cfg)
    if as_json:
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
    else:
        typer.echo(f"{stats['examples']} verified examples in {out} "
                   f"({', '.join(f'{k} {v}' for k, v in sorted(stats['per_target'].items()))}); card: {out / 'README.md'}",
                   err=True)


@app.command("verify")
def verify_cmd(
    path: Path = typer.Argument(..., help="a corpus directory (its split files) or one JSONL file"),
    limit: Optional[int] = typer.Option(None, "--limit", help="check only the first N examples"),
    workers: int = typer.Option(2, "--workers", "-j"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
):
    """Re-verify stored examples from their stored tests (sandbox.verify, one by one)."""
    from .build import verify_corpus
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    res = verify_corpus(path, limit=limit, workers=workers)
    if as_json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
    else:
        typer.echo(f"{res['verified']}/{res['checked']} examples re-verified", err=True)
        for f in res["failed"][:20]:
            typer.echo(f"  {f['id']}: {f['reason']}", err=True)
    raise typer.Exit(0 if res["verified"] == res["checked"] else 1)


@app.command("import")
def import_cmd(
    path: Path = typer.Argument(..., help="BabelTower directory/file (*.para.*.tok), MuSL JSONL or ParEval prompts JSON"),
    out: Path = typer.Option(..., "--out", "-o", help="output JSONL"),
    fmt: str = typer.Option("auto", "--format", help="auto, babeltower, musl or pareval"),
    as_json: bool = typer.Option(False, "--json", help="print a summary JSON object on stdout"),
):
    """Convert a public corpus the user has into paralift's record format (unverified)."""
    from .importers import import_path
    res = import_path(path, out, fmt)
    if as_json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
    else:
        typer.echo(f"{res['records']} records ({res['format']}) written to {out}"
                   + (f"; {res['skipped']} skipped" if res["skipped"] else ""), err=True)

"""`paralift train sft|musl|grpo|tiny` (registered in paralift/cli.py).

Heavy imports (torch, transformers, trl) happen inside the commands, so
`paralift --help` stays fast. Bad input (a missing corpus or model, a value
out of range) is a UsageError: one line on stderr, exit 2.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from paralift.errors import UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Train paralift's models: SFT, the MuSL mutual-supervision loop, GRPO, the bundled tiny model.")


def _need_train_extra() -> None:
    import importlib.util
    missing = [m for m in ("torch", "transformers", "trl", "peft", "datasets") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"training needs {', '.join(missing)}: pip install 'paralift[train]'")


def _model_dir(model: str) -> str:
    if not Path(model).is_dir():
        raise UsageError(f"no model folder at {model} (models are never downloaded; pass a local model folder)")
    return model


def _positive(name: str, value: float, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise UsageError(f"{name} must be {'>= 0' if allow_zero else '> 0'} (got {value})")


def _emit(summary: dict, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")


def _read_corpus(corpus: Optional[List[Path]]) -> list[dict]:
    from .sft import read_jsonl
    if not corpus:
        raise UsageError("give at least one --corpus JSONL file (DESIGN.md §5 format)")
    return read_jsonl(corpus)


@app.command()
def sft(
    model: str = typer.Option(..., "--model", "-m", help="local base model folder"),
    corpus: List[Path] = typer.Option(..., "--corpus", "-c", help="corpus JSONL (repeatable)"),
    out: Path = typer.Option(..., "--out", "-o", help="output folder (adapter or model; checkpoints inside)"),
    lora: bool = typer.Option(True, "--lora/--full", help="LoRA adapter (default) or full fine-tune"),
    lora_r: int = typer.Option(16, "--lora-r"),
    steps: int = typer.Option(-1, "--steps", help="optimizer steps (overrides --epochs when > 0)"),
    epochs: float = typer.Option(3.0, "--epochs"),
    batch_size: int = typer.Option(8, "--batch-size"),
    grad_accum: int = typer.Option(1, "--grad-accum"),
    lr: float = typer.Option(2e-4, "--lr"),
    max_length: int = typer.Option(1024, "--max-length"),
    save_steps: int = typer.Option(100, "--save-steps"),
    prompt_form: str = typer.Option("auto", "--prompt-form", help="auto, compact, directives, plain or chat"),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="resume from OUT/checkpoints when present"),
    eval_fraction: float = typer.Option(0.0, "--eval-fraction", help="held-out share for an eval loss"),
    deepspeed: Optional[Path] = typer.Option(None, "--deepspeed", help="DeepSpeed JSON config (training/configs/)"),
    seed: int = typer.Option(0, "--seed"),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch CPU threads"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON on stdout"),
):
    """Supervised fine-tuning on verified pairs (prompt/completion, loss on the completion only)."""
    from .sft import PROMPT_FORMS, SFTSettings, split_records, train_sft
    _need_train_extra()
    _model_dir(model)
    for name, v in (("--batch-size", batch_size), ("--grad-accum", grad_accum), ("--lr", lr),
                    ("--max-length", max_length), ("--save-steps", save_steps), ("--lora-r", lora_r)):
        _positive(name, v)
    if not 0 <= eval_fraction < 1:
        raise UsageError("--eval-fraction must be in [0, 1)")
    if prompt_form != "auto" and prompt_form not in PROMPT_FORMS:
        raise UsageError(f"--prompt-form must be auto or one of {', '.join(PROMPT_FORMS)}")
    if deepspeed is not None and not deepspeed.is_file():
        raise UsageError(f"DeepSpeed config {deepspeed} does not exist")
    records = _read_corpus(corpus)
    train, held = split_records(records, eval_fraction, seed) if eval_fraction else (records, None)
    s = SFTSettings(lora=lora, lora_r=lora_r, lora_alpha=2 * lora_r, max_steps=steps, epochs=epochs,
                    batch_size=batch_size, grad_accum=grad_accum, learning_rate=lr, max_length=max_length,
                    save_steps=save_steps, prompt_form=prompt_form, resume="auto" if resume else False, seed=seed,
                    threads=threads, deepspeed=str(deepspeed) if deepspeed else None)
    summary = train_sft(model, train, out, s, eval_records=held)
    _emit(summary, as_json)


@app.command()
def musl(
    model: str = typer.Option(..., "--model", "-m", help="local translator model folder"),
    out: Path = typer.Option(..., "--out", "-o", help="rounds folder (round-K/...; rerun to resume)"),
    corpus: Optional[List[Path]] = typer.Option(None, "--corpus", "-c", help="unpaired functions (JSONL; repeatable)"),
    from_kernels: Optional[Path] = typer.Option(None, "--from-kernels", help="take the functions of a folder of C files"),
    from_generator: Optional[str] = typer.Option(None, "--from-generator",
                                                 help="unpaired kernels of data/generator.py: 'parallel' (every "
                                                      "parallelizable family) or a comma list of families"),
    seeds: str = typer.Option("0:4", "--seeds", help="generator seeds of the training sources, A:B (B excluded)"),
    val_seeds: Optional[str] = typer.Option(None, "--val-seeds", help="generator seeds of a validation split, A:B"),
    eval_corpus: Optional[Path] = typer.Option(None, "--eval", help="held-out functions (JSONL)"),
    eval_kernels: Optional[List[Path]] = typer.Option(None, "--eval-kernels",
                                                      help="held-out: the C functions of a folder (repeatable)"),
    replay: Optional[List[Path]] = typer.Option(None, "--replay", help="original training pairs to mix in (JSONL)"),
    replay_tiny: int = typer.Option(0, "--replay-tiny", help="mix in this many examples of the bundled tiny "
                                                             "model's own training corpus (and never resample it)"),
    replay_count: int = typer.Option(-1, "--replay-count", help="replayed examples per fine-tune (default: all)"),
    pair_weight: int = typer.Option(1, "--pair-weight", help="copies of each verified pair in the fine-tune"),
    pairs_per_function: int = typer.Option(1, "--pairs-per-function"),
    eval_fraction: float = typer.Option(0.5, "--eval-fraction", help="held-out share when --eval is not given"),
    rounds: int = typer.Option(1, "--rounds", "-r"),
    samples: int = typer.Option(4, "--samples", help="translator samples per function per round"),
    temperature: float = typer.Option(0.8, "--temperature"),
    max_tokens: int = typer.Option(400, "--max-tokens"),
    tester_model: Optional[str] = typer.Option(None, "--tester-model", help="model of the LLM tester (co-evolved)"),
    max_mutants: int = typer.Option(6, "--max-mutants", help="mutants per verified candidate (tester adequacy)"),
    target: str = typer.Option("openmp", "--to", help="openmp, mpi or cuda"),
    lora: bool = typer.Option(True, "--lora/--full"),
    lora_r: int = typer.Option(16, "--lora-r"),
    steps: int = typer.Option(60, "--steps", help="SFT steps per round (ignored with --epochs)"),
    epochs: Optional[float] = typer.Option(None, "--epochs", help="SFT epochs per round over pairs + replay"),
    workers: Optional[int] = typer.Option(None, "--workers", help="parallel sandbox verifications"),
    batch_size: int = typer.Option(8, "--batch-size"),
    lr: float = typer.Option(2e-4, "--lr"),
    seed: int = typer.Option(0, "--seed"),
    threads: Optional[int] = typer.Option(None, "--threads"),
    as_json: bool = typer.Option(False, "--json"),
):
    """Mutual supervision: co-verify (translator samples x tester suites x sandbox), co-evolve (fine-tune both)."""
    from paralift.types import Target

    from .musl import MuSLSettings, records_from_generator, records_from_units, run_musl, units_from_dir
    from .sft import SFTSettings, read_jsonl
    _need_train_extra()
    _model_dir(model)
    if tester_model:
        _model_dir(tester_model)
    for name, v in (("--rounds", rounds), ("--samples", samples), ("--max-tokens", max_tokens), ("--steps", steps),
                    ("--batch-size", batch_size), ("--lr", lr), ("--lora-r", lora_r)):
        _positive(name, v)
    _positive("--temperature", temperature, allow_zero=True)
    if not 0 < eval_fraction < 1:
        raise UsageError("--eval-fraction must be in (0, 1)")
    try:
        tgt = Target.parse(target)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if epochs is not None:
        _positive("--epochs", epochs)
    if workers is not None:
        _positive("--workers", workers)
    _positive("--pair-weight", pair_weight)
    _positive("--pairs-per-function", pairs_per_function)
    _positive("--replay-tiny", replay_tiny, allow_zero=True)
    records: list[dict] = read_jsonl(corpus) if corpus else []
    if from_kernels:
        records += records_from_units(units_from_dir(from_kernels), tgt.value, f"functions of {from_kernels}")
    families = None
    if from_generator:
        families = _families(from_generator)
        records += records_from_generator(families, _seed_range(seeds, "--seeds"), tgt.value)
    if not records:
        raise UsageError("give the unpaired functions with --corpus, --from-kernels or --from-generator")
    held = read_jsonl([eval_corpus]) if eval_corpus else None
    for d in eval_kernels or []:
        held = (held or []) + records_from_units(units_from_dir(d), tgt.value, f"functions of {d}")
    val = None
    if val_seeds:
        if not from_generator:
            raise UsageError("--val-seeds needs --from-generator")
        val = records_from_generator(families, _seed_range(val_seeds, "--val-seeds"), tgt.value)
    replay_records = read_jsonl(replay) if replay else []
    known_keys: set[str] = set()
    if replay_tiny:
        from .tiny import corpus_records, known_sources
        info = json.loads((Path(model) / "paralift.json").read_text()) if (Path(model) / "paralift.json").exists() else {}
        replay_records += corpus_records(replay_tiny, int(info.get("seed", 0)),
                                         "plan" if info.get("prompt_format") == "plan" else "directives")
        known_keys = known_sources(int(info.get("examples", 8000)), int(info.get("seed", 0)))
    sft_s = SFTSettings(lora=lora, lora_r=lora_r, lora_alpha=2 * lora_r, max_steps=-1 if epochs else steps,
                        epochs=epochs or 3.0, batch_size=batch_size, learning_rate=lr,
                        save_steps=1000000 if epochs else max(steps, 1), seed=seed, threads=threads)
    s = MuSLSettings(rounds=rounds, samples=samples, temperature=temperature, max_tokens=max_tokens,
                     target=tgt.value, tester_model=tester_model, max_mutants=max_mutants,
                     eval_fraction=eval_fraction, seed=seed, verify_workers=workers,
                     pairs_per_function=pairs_per_function, pair_weight=pair_weight,
                     replay=len(replay_records) if replay_count < 0 else replay_count, sft=sft_s)
    summary = run_musl(model, records, out, s, eval_records=held, replay_records=replay_records,
                       known_keys=known_keys, val_records=val)
    for row in summary["rounds"]:
        print(f"round {row['round']}: pass@1 {row['pass@1']:.3f} ({row['passed']}/{row['functions']})",
              file=sys.stderr)
    _emit(summary, as_json)


def _seed_range(text: str, option: str) -> range:
    try:
        a, b = (int(x) for x in text.split(":"))
    except ValueError:
        raise UsageError(f"{option} must be A:B (seeds A to B-1), got {text!r}") from None
    if not 0 <= a < b:
        raise UsageError(f"{option}: need 0 <= A < B, got {text!r}")
    return range(a, b)


def _families(text: str) -> list[str] | None:
    from paralift.data.generator import FAMILIES
    if text == "parallel":
        return None
    names = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in names if f not in FAMILIES]
    if unknown or not names:
        raise UsageError(f"unknown generator famil{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown) or text!r} "
                         f"(known: {', '.join(FAMILIES)})")
    return names


@app.command()
def grpo(
    model: str = typer.Option(..., "--model", "-m", help="local policy model folder (e.g. an SFT result)"),
    corpus: List[Path] = typer.Option(..., "--corpus", "-c", help="functions to translate (JSONL; repeatable)"),
    out: Path = typer.Option(..., "--out", "-o"),
    steps: int = typer.Option(100, "--steps"),
    batch_size: int = typer.Option(8, "--batch-size", help="completions per device per step"),
    num_generations: int = typer.Option(8, "--num-generations", help="group size"),
    max_completion_length: int = typer.Option(512, "--max-completion-length"),
    lr: float = typer.Option(1e-5, "--lr"),
    beta: float = typer.Option(0.0, "--beta", help="KL coefficient"),
    temperature: float = typer.Option(1.0, "--temperature"),
    lora: bool = typer.Option(True, "--lora/--full"),
    lora_r: int = typer.Option(16, "--lora-r"),
    use_vllm: Optional[bool] = typer.Option(None, "--use-vllm/--no-vllm", help="default: vLLM when installed and a GPU is present"),
    timing: bool = typer.Option(True, "--timing/--no-timing", help="reward speedup (off: correctness only)"),
    prompt_form: str = typer.Option("auto", "--prompt-form"),
    save_steps: int = typer.Option(50, "--save-steps"),
    seed: int = typer.Option(0, "--seed"),
    threads: Optional[int] = typer.Option(None, "--threads"),
    max_minutes: Optional[float] = typer.Option(None, "--max-minutes", help="stop after the step that passes this "
                                                "much wall time (the model, curves and summary are written as usual)"),
    reward_memo: bool = typer.Option(True, "--reward-memo/--no-reward-memo",
                                     help="verify and time each distinct program once per run and reuse the "
                                          "judgement (OUT/reward_memo.jsonl, read back on resume)"),
    as_json: bool = typer.Option(False, "--json"),
):
    """RL with GRPO: rewards from the sandbox (gates, hidden tests, dead-zoned log speedup, audits)."""
    from .grpo import GRPOSettings, train_grpo
    from .rewards import RewardConfig
    _need_train_extra()
    _model_dir(model)
    for name, v in (("--steps", steps), ("--batch-size", batch_size), ("--max-completion-length", max_completion_length),
                    ("--lr", lr), ("--save-steps", save_steps), ("--temperature", temperature)):
        _positive(name, v)
    _positive("--beta", beta, allow_zero=True)
    if max_minutes is not None:
        _positive("--max-minutes", max_minutes)
    records = _read_corpus(corpus)
    s = GRPOSettings(lora=lora, lora_r=lora_r, lora_alpha=2 * lora_r, max_steps=steps, batch_size=batch_size,
                     num_generations=num_generations, max_completion_length=max_completion_length,
                     temperature=temperature, learning_rate=lr, beta=beta, save_steps=save_steps,
                     prompt_form=prompt_form, use_vllm="auto" if use_vllm is None else use_vllm, seed=seed,
                     threads=threads, reward=RewardConfig(timing=timing), max_minutes=max_minutes,
                     reward_memo=reward_memo)
    summary = train_grpo(model, records, out, s)
    _emit(summary, as_json)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)
def tiny(ctx: typer.Context):
    """Train the bundled tokenizer and small model from scratch (arguments go to paralift.training.tiny; --help lists them)."""
    from . import tiny as recipe
    try:
        rc = recipe.main(list(ctx.args))
    except SystemExit as e:            # argparse: --help (0) or a bad argument (2, message already printed)
        rc = e.code if isinstance(e.code, int) else 2
    raise typer.Exit(rc or 0)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)
def compare(ctx: typer.Context):
    """Two policies (e.g. SFT and GRPO) side by side on the held-out kernels in one run: pass@1, interleaved
    timing, geo-mean speedups, audits (arguments go to paralift.training.compare; --help lists them)."""
    from . import compare as cmp
    try:
        rc = cmp.main(list(ctx.args))
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 2
    raise typer.Exit(rc or 0)

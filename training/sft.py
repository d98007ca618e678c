"""Supervised fine-tuning of a translator on verified pairs (issue 8, part 1).

    from paralift.training.sft import SFTSettings, read_jsonl, train_sft
    result = train_sft("data/models/paralift-tiny", read_jsonl(["corpus.jsonl"]), "runs/sft",
                       SFTSettings(lora=True, max_steps=200))

Data: corpus JSONL in the DESIGN.md §5 format (`id, family, source_lang,
target, source, reference, tests, provenance, verified`, optionally
`function`); every record with a non-empty `reference` (and `verified` not
false) becomes one prompt/completion example:

* prompt: the same prompt the LLM agent sends at inference time
  (`agents.prompts`): "compact" (the function and an open code fence, for
  small models), "directives" (the function with numbered loops; OpenMP
  only), "plan" (the same numbering over every loop; any target: the
  record's verified `plan`, agents.plan), "plain" (task, one example, open fence) or "chat" (messages; the
  completion is then an assistant message);
* completion: the translated function (plus the includes it needs) for
  OpenMP/MPI -- the agent splices it into the user's file -- or the whole .cu
  file for CUDA, or for "directives" the `Lk: #pragma omp ...` lines that turn
  the source into the reference (`agents.extract.directives_for`); then the
  closing fence.

Training: TRL's `SFTTrainer` with `completion_only_loss` (the loss is on the
completion tokens only), a peft LoRA adapter (default; `all-linear` target
modules) or a full fine-tune (`lora=False`, what the from-scratch bundled model
needs); checkpoints every `save_steps` under OUT/checkpoints, and a rerun with
the same OUT resumes from the last one. The result in OUT is what
`paralift translate --backend hf` loads: a full model folder, or an adapter
folder (`--model BASE` plus `PARALIFT_ADAPTER`/config `adapter`), with
`paralift.json` telling the agent the prompt form.
Multi-GPU: the same code runs under `accelerate launch` / `torchrun`
(training/README.md).
"""
from __future__ import annotations

import json
import random
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from paralift import jsonl
from paralift.errors import UsageError
from paralift.types import Target

__all__ = ["SFTSettings", "read_jsonl", "write_jsonl", "record_function", "example_from_record", "build_examples",
           "split_records", "rule_based_records", "train_sft", "prompt_form_for", "normalize_code", "record_prompt",
           "PROMPT_FORMS"]


# ---------------------------------------------------------------------------
# corpus I/O (DESIGN.md §5)
# ---------------------------------------------------------------------------

def read_jsonl(paths: Iterable[str | Path], require: str | None = "source") -> list[dict]:
    rows: list[dict] = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise UsageError(f"corpus {p} does not exist")
        for k, row in jsonl.records(p):
            if require and require not in row:
                raise UsageError(f"{p}:{k}: a corpus record needs at least a `source` field (DESIGN.md §5)")
            rows.append(row)
    return rows


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    tmp.replace(path)
    return path


def normalize_code(code: str) -> str:
    code = re.sub(r"/\*.*?\*/|//[^\n]*", " ", code, flags=re.S)
    return " ".join(code.split())


def record_function(rec: dict) -> str:
    """The function a record is about: its `function` field, the part after
    ':' in its id, or the only function its source defines."""
    if rec.get("function"):
        return rec["function"]
    from paralift.agents import AnalysisError, list_functions
    lang = rec.get("source_lang") or "c"
    try:
        names = [s.name for s in list_functions(rec["source"], lang) if s.name != "main"]
    except AnalysisError as e:
        raise UsageError(f"record {rec.get('id')}: {e}") from None
    ident = str(rec.get("id", ""))
    if ":" in ident and ident.rsplit(":", 1)[1] in names:
        return ident.rsplit(":", 1)[1]
    if len(names) == 1:
        return names[0]
    raise UsageError(f"record {rec.get('id')}: the source defines {len(names)} functions; add a `function` field")


def split_records(records: list[dict], eval_fraction: float = 0.2, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(train, held-out), deduplicated against each other by the normalised
    sequential function (DESIGN.md §5): every copy of one function lands on
    the same side."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(normalize_code(_function_text(r["source"], record_function(r))), []).append(r)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    n_eval = int(round(len(keys) * eval_fraction))
    if eval_fraction > 0 and len(keys) > 1:
        n_eval = max(1, n_eval)
    held = [r for k in keys[:n_eval] for r in groups[k]]
    train = [r for k in keys[n_eval:] for r in groups[k]]
    return train, held


def _function_text(source: str, function: str) -> str:
    from paralift.agents.extract import ExtractionError, find_definition
    try:
        return find_definition(source, function).text(source)
    except ExtractionError:
        return source


# ---------------------------------------------------------------------------
# records -> prompt/completion examples
# ---------------------------------------------------------------------------

PROMPT_FORMS = ("compact", "directives", "plan", "plain", "chat")


def prompt_form_for(model: str | Path, requested: str = "auto") -> str:
    """compact | directives | plain | chat: as requested, else as the model declares
    (paralift.json), else chat when its tokenizer has a chat template."""
    if requested != "auto":
        if requested not in PROMPT_FORMS:
            raise UsageError(f"unknown prompt form {requested!r} (choose auto, {', '.join(PROMPT_FORMS)})")
        return requested
    info_path = Path(model) / "paralift.json"
    if info_path.exists():
        declared = json.loads(info_path.read_text()).get("prompt_format")
        if declared in PROMPT_FORMS:
            return declared
    cfg = Path(model) / "tokenizer_config.json"
    if cfg.exists() and json.loads(cfg.read_text()).get("chat_template"):
        return "chat"
    if (Path(model) / "chat_template.jinja").exists():
        return "chat"
    return "plain"


def _completion_code(rec: dict, function: str, target: Target) -> str:
    ref = rec["reference"]
    if target == Target.CUDA:
        return ref.strip() + "\n"
    from paralift.agents.extract import ExtractionError, find_definition
    try:
        body = find_definition(ref, function).text(ref).strip() + "\n"
    except ExtractionError:
        return ""
    src_inc = set(re.findall(r"^\s*#\s*include\s*[<\"][^>\"]+[>\"]", rec["source"], flags=re.M))
    extra = [l.strip() for l in re.findall(r"^\s*#\s*include\s*[<\"][^>\"]+[>\"]", ref, flags=re.M)
             if l not in src_inc]
    return ("\n".join(dict.fromkeys(extra)) + "\n\n" if extra else "") + body


def record_prompt(rec: dict, form: str = "compact"):
    """The prompt the LLM agent sends for this record's function (a string,
    or chat messages for form "chat")."""
    from paralift.agents.prompts import compact_prompt, directive_prompt, translator_messages, translator_prompt
    target = Target.parse(rec.get("target") or "openmp")
    lang = rec.get("source_lang") or "c"
    function = record_function(rec)
    if form == "compact":
        return compact_prompt(_function_text(rec["source"], function), target, lang)
    if form == "directives":
        return directive_prompt(_function_text(rec["source"], function), target, lang)
    if form == "plan":
        from paralift.agents.prompts import plan_prompt
        return plan_prompt(rec["source"], function, target, lang)
    from paralift.agents import build_task
    task = build_task(rec["source"], lang, function, target)
    if form == "plain":
        return translator_prompt(task, target)
    if form == "chat":
        return translator_messages(task, target)
    raise ValueError(f"unknown prompt form {form!r}")


def example_from_record(rec: dict, form: str = "compact") -> dict | None:
    """One prompt/completion example (None when the record has no usable
    reference, or, for the directive form, when the reference is not the
    source with `#pragma omp` lines inserted)."""
    from paralift.agents.extract import directives_for
    from paralift.agents.prompts import fence_lang
    if not rec.get("reference") or rec.get("verified") is False:
        return None
    target = Target.parse(rec.get("target") or "openmp")
    lang = rec.get("source_lang") or "c"
    function = record_function(rec)
    if form == "directives":
        if target != Target.OPENMP:
            return None
        from paralift.agents.extract import ExtractionError, find_definition
        try:
            ref_fn = find_definition(rec["reference"], function).text(rec["reference"])
        except ExtractionError:
            return None
        text = directives_for(_function_text(rec["source"], function).strip(), ref_fn.strip())
        if text is None:
            return None
        return {"prompt": record_prompt(rec, form), "completion": text + "```"}
    if form == "plan":
        # the verified plan a corpus build records (agents.plan); a record without one has no plan example
        if not rec.get("plan"):
            return None
        return {"prompt": record_prompt(rec, form), "completion": rec["plan"].strip() + "\n```"}
    code = _completion_code(rec, function, target)
    if not code:
        return None
    if form == "chat":
        return {"prompt": record_prompt(rec, form),
                "completion": [{"role": "assistant", "content": f"```{fence_lang(target, lang)}\n{code}```"}]}
    return {"prompt": record_prompt(rec, form), "completion": code + "```"}


def build_examples(records: list[dict], form: str = "compact", dedupe: bool = True) -> list[dict]:
    """The records' examples; identical ones once (`dedupe=False` keeps
    repeats, e.g. records deliberately given several times as a weight)."""
    out, seen = [], set()
    for r in records:
        ex = example_from_record(r, form)
        if ex is None:
            continue
        key = json.dumps(ex, sort_keys=True)
        if not dedupe or key not in seen:
            seen.add(key)
            out.append(ex)
    return out


def rule_based_records(units: Iterable[tuple[str, str, str, str]], target: Target | str = Target.OPENMP, *,
                       verify: bool = True, options=None, provenance: str = "rule-based agent") -> list[dict]:
    """DESIGN §5 records from (id, function, source, language) units: the
    rule-based translator's candidate, kept only when the sandbox verifies it
    (with verify=False: every candidate, marked verified=False)."""
    from paralift.agents import AnalysisError, NotParallelizable, RuleBasedTranslator, build_task
    from paralift.sandbox import VerifyOptions
    from paralift.sandbox.pool import Job, verify_many

    target = Target.parse(target) if isinstance(target, str) else target
    rule = RuleBasedTranslator()
    pending = []
    for ident, function, source, lang in units:
        try:
            task = build_task(source, lang, function, target)
            cand = rule.propose(task, target)[0]
        except (AnalysisError, NotParallelizable):
            continue
        pending.append((ident, function, source, lang, task, cand))
    verdicts = [None] * len(pending)
    if verify and pending:
        verdicts = verify_many([Job(p[4], p[5]) for p in pending], options or VerifyOptions(timing=False),
                               label="verifying references", quiet=True)
    rows = []
    for (ident, function, source, lang, task, cand), v in zip(pending, verdicts):
        if verify and not v.verified:
            continue
        rows.append({"id": ident, "family": "", "source_lang": lang, "target": target.value, "source": source,
                     "reference": cand.code, "tests": None, "provenance": provenance,
                     "verified": bool(verify), "function": function})
    return rows


# ---------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------

@dataclass
class SFTSettings:
    lora: bool = True                   # False: full fine-tune
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"
    max_steps: int = -1                 # > 0 overrides epochs
    epochs: float = 3.0
    batch_size: int = 8
    grad_accum: int = 1
    learning_rate: float = 2e-4
    warmup_steps: int = 0
    scheduler: str = "cosine"
    max_length: int = 1024
    save_steps: int = 100
    save_total_limit: int = 2
    logging_steps: int = 5
    prompt_form: str = "auto"
    resume: bool | str = "auto"         # auto: resume when OUT/checkpoints has one
    seed: int = 0
    threads: int | None = None          # torch CPU threads
    bf16: bool | None = None            # None: on a GPU that supports it
    gradient_checkpointing: bool = False
    deepspeed: str | None = None        # a DeepSpeed JSON config (training/configs/)
    dedupe: bool = True                 # identical examples once (False: repeats act as weights)
    extra: dict[str, Any] = field(default_factory=dict)   # more SFTConfig fields


def _load_model(model: str, lora: bool):
    import torch
    import transformers
    path = Path(model)
    if not path.exists():
        raise UsageError(f"no model at {model} (models are never downloaded; pass a local model folder)")
    tok = transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    dtype = torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    lm = transformers.AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True, dtype=dtype)
    return tok, lm


def _last_checkpoint(ckpt_dir: Path) -> str | None:
    if not ckpt_dir.is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint
    return get_last_checkpoint(str(ckpt_dir))


def train_sft(model: str | Path, records: list[dict], out: str | Path, settings: SFTSettings | None = None, *,
              eval_records: list[dict] | None = None, log=None) -> dict:
    """Fine-tune `model` on the records' verified pairs; the adapter (LoRA) or
    the full model lands in `out`. Returns a summary with the logged losses."""
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    s = settings or SFTSettings()
    log = log or (lambda m: print(f"[sft] {m}", file=sys.stderr, flush=True))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if s.threads:
        torch.set_num_threads(s.threads)
    form = prompt_form_for(model, s.prompt_form)
    examples = build_examples(records, form, dedupe=s.dedupe)
    if not examples:
        raise UsageError("no training example: the corpus has no record with a verified, non-empty reference")
    tok, lm = _load_model(str(model), s.lora)
    dataset = Dataset.from_list(examples)
    eval_ds = None
    if eval_records:
        ev = build_examples(eval_records, form)
        eval_ds = Dataset.from_list(ev) if ev else None
    on_gpu = torch.cuda.is_available()
    bf16 = s.bf16 if s.bf16 is not None else bool(on_gpu and torch.cuda.is_bf16_supported())
    ckpt_dir = out / "checkpoints"
    cfg = SFTConfig(
        output_dir=str(ckpt_dir), max_steps=s.max_steps, num_train_epochs=s.epochs,
        per_device_train_batch_size=s.batch_size, gradient_accumulation_steps=s.grad_accum,
        learning_rate=s.learning_rate, lr_scheduler_type=s.scheduler, warmup_steps=s.warmup_steps,
        logging_steps=s.logging_steps, save_steps=s.save_steps, save_total_limit=s.save_total_limit,
        save_strategy="steps", report_to="none", seed=s.seed, completion_only_loss=True,
        max_length=s.max_length, use_cpu=not on_gpu, bf16=bf16, disable_tqdm=True,
        deepspeed=s.deepspeed, dataloader_pin_memory=on_gpu, eval_strategy="no",
        **({"gradient_checkpointing": True} if s.gradient_checkpointing else {}), **s.extra)
    peft_config = None
    if s.lora:
        from peft import LoraConfig
        peft_config = LoraConfig(task_type="CAUSAL_LM", r=s.lora_r, lora_alpha=s.lora_alpha,
                                 lora_dropout=s.lora_dropout, target_modules=s.target_modules)
    trainer = SFTTrainer(model=lm, args=cfg, train_dataset=dataset, eval_dataset=eval_ds, processing_class=tok,
                         peft_config=peft_config)
    resume = None
    if s.resume:
        last = _last_checkpoint(ckpt_dir)
        if last is None and s.resume not in ("auto", True):
            resume = str(s.resume)
        elif last is not None:
            resume = last
    if resume:
        log(f"resuming from {resume}")
    log(f"{len(examples)} examples ({form} prompts), {'LoRA r=' + str(s.lora_r) if s.lora else 'full fine-tune'}, "
        f"{'GPU' if on_gpu else 'CPU'}")
    result = trainer.train(resume_from_checkpoint=resume)
    cfg_ = getattr(trainer.model, "config", None)
    if cfg_ is not None and getattr(cfg_, "use_cache", None) is False:
        cfg_.use_cache = True           # training turns the KV cache off; generation wants it back
    trainer.save_model(str(out))
    tok.save_pretrained(str(out))
    history = [h for h in trainer.state.log_history if "loss" in h]
    summary = {"model": str(model), "out": str(out), "adapter": bool(s.lora), "prompt_format": form,
               "examples": len(examples), "global_step": trainer.state.global_step,
               "resumed_from": resume, "train_loss": getattr(result, "training_loss", None),
               "losses": [{"step": h["step"], "loss": h["loss"]} for h in history],
               "settings": {k: v for k, v in asdict(s).items() if k != "extra"}}
    if eval_ds is not None:
        metrics = trainer.evaluate()
        summary["eval_loss"] = metrics.get("eval_loss")
    _write_model_info(Path(model), out, form, s.lora, summary)
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if history:
        log(f"loss {history[0]['loss']:.4f} (step {history[0]['step']}) -> {history[-1]['loss']:.4f} "
            f"(step {history[-1]['step']})")
    del trainer
    return summary


def _write_model_info(base: Path, out: Path, form: str, adapter: bool, summary: dict, stage: str = "sft") -> None:
    """paralift.json for the LLM agent: the base model's declarations (targets,
    languages) and the prompt form trained with."""
    info: dict = {}
    if (base / "paralift.json").exists():
        info = json.loads((base / "paralift.json").read_text())
        info = {k: info[k] for k in ("targets", "languages", "architecture") if k in info}
    info["prompt_format"] = form
    if adapter:
        info["base_model"] = str(base)
        info["adapter"] = True
    info[stage] = {"examples": summary["examples"], "steps": summary["global_step"],
                   "final_loss": summary["losses"][-1]["loss"] if summary["losses"] else None}
    (out / "paralift.json").write_text(json.dumps(info, indent=2) + "\n")


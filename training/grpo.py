"""RL on verified correctness and measured speedup: TRL's GRPOTrainer with
the sandbox reward (issue 8, part 3).

    from paralift.training.grpo import GRPOSettings, train_grpo
    train_grpo("runs/sft", records, "runs/grpo", GRPOSettings(max_steps=100))

Prompts are built from corpus records (DESIGN.md §5; a reference is not
needed) exactly as the LLM agent builds them at inference time (the model's
prompt form, see training/sft.py); the dataset also carries `source`,
`function`, `language` and `target` columns, which TRL hands to the reward
function -- never to the model. The reward (`training/rewards.py`) verifies
each group of completions in parallel in the sandbox on hidden tests, gates
on policy and compilation, and shapes correct candidates' rewards with the
dead-zoned, bounded log speedup; implausible speedups are audited; sandbox
infrastructure errors give None (no signal).

Generation: vLLM (`use_vllm=True`, colocated) when the vllm package and a GPU
are present and `use_vllm` is "auto", transformers otherwise. LoRA (default)
or the full model is trained; checkpoints under OUT/checkpoints, and a rerun
resumes from the last one.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from paralift.errors import UsageError

from .rewards import RewardConfig, SandboxReward
from .sft import _last_checkpoint, _load_model, _write_model_info, prompt_form_for, record_function, record_prompt

__all__ = ["GRPOSettings", "grpo_dataset", "train_grpo", "vllm_available"]


@dataclass
class GRPOSettings:
    lora: bool = True
    lora_r: int = 16
    lora_alpha: int = 32
    target_modules: str | list[str] = "all-linear"
    max_steps: int = 100
    batch_size: int = 8                  # completions per device per step (a multiple of num_generations)
    num_generations: int = 8             # group size (completions per prompt)
    max_completion_length: int = 512
    temperature: float = 1.0
    learning_rate: float = 1e-5
    beta: float = 0.0                    # KL coefficient (TRL's default: no reference model)
    save_steps: int = 50
    save_total_limit: int = 2
    logging_steps: int = 1
    prompt_form: str = "auto"
    use_vllm: bool | str = "auto"
    vllm_mode: str = "colocate"
    resume: bool | str = "auto"
    seed: int = 0
    threads: int | None = None
    max_minutes: float | None = None     # stop after the step that passes this much wall time (then save as usual)
    reward_memo: bool = True             # judge each distinct program once per run (OUT/reward_memo.jsonl)
    reward: RewardConfig = field(default_factory=RewardConfig)
    extra: dict[str, Any] = field(default_factory=dict)   # more GRPOConfig fields


def vllm_available() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch
    return torch.cuda.is_available()


def grpo_dataset(records: list[dict], form: str) -> list[dict]:
    """Rows with the model's prompt and the columns the reward needs."""
    rows, seen = [], set()
    for r in records:
        try:
            prompt = record_prompt(r, form)
        except ValueError:          # e.g. the directive form for a non-OpenMP target
            continue
        row = {"prompt": prompt, "source": r["source"], "function": record_function(r),
               "language": r.get("source_lang") or "c", "target": r.get("target") or "openmp"}
        key = json.dumps(row, sort_keys=True)
        if key not in seen:
            seen.add(key)
            rows.append(row)
    return rows


def train_grpo(model: str | Path, records: list[dict], out: str | Path, settings: GRPOSettings | None = None, *,
               reward: SandboxReward | None = None, log=None) -> dict:
    import torch
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    s = settings or GRPOSettings()
    log = log or (lambda m: print(f"[grpo] {m}", file=sys.stderr, flush=True))
    if s.batch_size % s.num_generations:
        raise UsageError(f"--batch-size ({s.batch_size}) must be a multiple of --num-generations ({s.num_generations})")
    if s.num_generations < 2:
        raise UsageError("GRPO needs --num-generations >= 2 (advantages are relative within a group)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if s.threads:
        torch.set_num_threads(s.threads)
    form = prompt_form_for(model, s.prompt_form)
    rows = grpo_dataset(records, form)
    if not rows:
        raise UsageError("no prompt: the corpus has no usable record for this prompt form")
    tok, lm = _load_model(str(model), s.lora)
    tok.padding_side = "left"
    on_gpu = torch.cuda.is_available()
    use_vllm = vllm_available() if s.use_vllm == "auto" else bool(s.use_vllm)
    if use_vllm and importlib.util.find_spec("vllm") is None:
        raise UsageError("--use-vllm needs the vllm package: pip install 'paralift[vllm]'")
    # the memo lives in the output folder: a resumed run does not re-measure the programs it has measured
    reward_fn = reward or SandboxReward(s.reward, form=form if form in ("directives", "plan") else "code",
                                        memo=s.reward_memo, memo_path=out / "reward_memo.jsonl")
    if getattr(reward_fn, "on_call", "absent") is None:
        calls_path = out / "reward_calls.jsonl"     # one line per reward call, written as the run goes

        def on_call(h):
            log(f"rewards {h['call']}: mean {h['mean_reward']}, verified {h['verified_rate']}, "
                f"speedup {h['mean_speedup']}, wrong-but-rewarded {h['wrong_but_rewarded']}, {h['kinds']}")
            with calls_path.open("a") as f:
                f.write(json.dumps({**h, "audits_so_far": len(getattr(reward_fn, "audits", []))}, default=str) + "\n")
        reward_fn.on_call = on_call
    ckpt_dir = out / "checkpoints"
    cfg = GRPOConfig(
        output_dir=str(ckpt_dir), max_steps=s.max_steps, per_device_train_batch_size=s.batch_size,
        num_generations=s.num_generations, max_completion_length=s.max_completion_length,
        temperature=s.temperature, learning_rate=s.learning_rate, beta=s.beta, logging_steps=s.logging_steps,
        save_steps=s.save_steps, save_total_limit=s.save_total_limit, save_strategy="steps", report_to="none",
        seed=s.seed, use_cpu=not on_gpu, bf16=bool(on_gpu and torch.cuda.is_bf16_supported()),
        disable_tqdm=True, use_vllm=use_vllm, **({"vllm_mode": s.vllm_mode} if use_vllm else {}), **s.extra)
    peft_config = None
    if s.lora:
        from peft import LoraConfig
        peft_config = LoraConfig(task_type="CAUSAL_LM", r=s.lora_r, lora_alpha=s.lora_alpha,
                                 target_modules=s.target_modules)
    trainer = GRPOTrainer(model=lm, reward_funcs=[reward_fn], args=cfg, train_dataset=Dataset.from_list(rows),
                          processing_class=tok, peft_config=peft_config)
    stopped = {}
    if s.max_minutes:
        trainer.add_callback(_TimeBudget(s.max_minutes * 60, stopped, log))
    resume = _last_checkpoint(ckpt_dir) if s.resume else None
    if resume:
        log(f"resuming from {resume}")
    log(f"{len(rows)} prompts ({form}), groups of {s.num_generations}, generation with "
        f"{'vLLM' if use_vllm else 'transformers'} on {'GPU' if on_gpu else 'CPU'}")
    trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(str(out))
    tok.save_pretrained(str(out))
    history = [h for h in trainer.state.log_history if "reward" in h]
    summary = {"model": str(model), "out": str(out), "adapter": bool(s.lora), "prompt_format": form,
               "prompts": len(rows), "global_step": trainer.state.global_step, "resumed_from": resume,
               "use_vllm": use_vllm, "audits": reward_fn.audits,
               "reward_memo_hits": getattr(reward_fn, "memo_hits", None),
               "stopped_by_time_budget": stopped.get("step"),
               "rewards": [{"step": h["step"], "reward": h["reward"], "reward_std": h.get("reward_std")}
                           for h in history],
               "settings": {k: v for k, v in asdict(s).items() if k != "extra"}}
    _write_model_info(Path(model), out, form, s.lora, {"examples": len(rows), "global_step": summary["global_step"],
                                                       "losses": []}, stage="grpo")
    curves = reward_curves(reward_fn, history)
    if curves:
        summary["reward_curves"] = "reward_curves.json"
        (out / "reward_curves.json").write_text(json.dumps(curves, indent=2) + "\n")
        png = plot_reward_curves(curves, out / "reward_curves.png")
        if png:
            summary["reward_curves_png"] = png.name
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if history:
        log(f"mean reward {history[0]['reward']:.3f} (step {history[0]['step']}) -> {history[-1]['reward']:.3f} "
            f"(step {history[-1]['step']})")
    return summary


def _TimeBudget(seconds: float, stopped: dict, log):
    """A TrainerCallback that ends training after the step that passes `seconds` of wall time."""
    import time

    from transformers import TrainerCallback

    class TimeBudget(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            self.t0 = time.monotonic()

        def on_step_end(self, args, state, control, **kw):
            if time.monotonic() - self.t0 >= seconds:
                stopped["step"] = state.global_step
                log(f"time budget of {seconds / 60:g} min reached after step {state.global_step}: stopping")
                control.should_training_stop = True
                control.should_save = True
            return control

    return TimeBudget()


def reward_curves(reward_fn, trl_history: list[dict]) -> list[dict]:
    """Per generation step: the sandbox reward's own summary of the batch
    (mean reward, verified rate, geometric-mean speedup of the verified,
    wrong-but-rewarded count: SandboxReward.history), with TRL's logged step
    and reward where they line up (one reward call per step when
    steps_per_generation is 1)."""
    calls = list(getattr(reward_fn, "history", []) or [])
    out = []
    for k, c in enumerate(calls):
        row = {"step": k + 1, **{key: v for key, v in c.items() if key != "call"}}
        if k < len(trl_history):
            row["trl_step"], row["trl_reward"] = trl_history[k].get("step"), trl_history[k].get("reward")
        out.append(row)
    return out


def plot_reward_curves(curves: list[dict], path: Path) -> Path | None:
    """reward, verified rate, mean verified speedup and wrong-but-rewarded per step (None without matplotlib)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    steps = [c["step"] for c in curves]
    panels = [("mean_reward", "mean reward"), ("verified_rate", "verified rate"),
              ("mean_speedup", "geo-mean speedup (verified)"), ("wrong_but_rewarded", "wrong but rewarded")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
    for ax, (key, label) in zip(axes, panels):
        pts = [(s, c[key]) for s, c in zip(steps, curves) if c.get(key) is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

"""GRPO on CPU with a tiny local model: a couple of steps whose rewards come
from real sandbox verdicts (paralift.training.grpo)."""
import json

import pytest

from paralift.training.grpo import GRPOSettings, grpo_dataset, train_grpo
from paralift.training.rewards import RewardConfig, SandboxReward
from paralift.training.sft import SFTSettings, rule_based_records, train_sft

from train_helpers import kernel_units, tiny_model

pytest.importorskip("trl")


class RecordingReward(SandboxReward):
    """The sandbox reward, keeping every RewardInfo it produced."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.seen = []

    def score(self, completions, **columns):
        infos = super().score(completions, **columns)
        self.seen.extend(infos)
        return infos


@pytest.mark.slow
def test_grpo_steps_with_sandbox_rewards(tmp_path):
    rows = rule_based_records(kernel_units(["vec_add", "saxpy", "sum"]), "openmp", verify=True)
    assert len(rows) == 3
    base = tiny_model(tmp_path / "base")
    # a short SFT warm start in the directive form, so that some samples are code the sandbox can judge
    sft = train_sft(base, rows, tmp_path / "sft",
                    SFTSettings(lora=False, max_steps=40, batch_size=3, learning_rate=3e-3, logging_steps=10,
                                save_steps=1000, prompt_form="directives", scheduler="constant", threads=1))
    assert sft["losses"][-1]["loss"] < sft["losses"][0]["loss"]
    ds = grpo_dataset(rows, "directives")
    assert {"prompt", "source", "function", "language", "target"} <= set(ds[0])
    assert all("reference" not in r and "/*L1*/" in r["prompt"] for r in ds)

    reward = RecordingReward(RewardConfig(timing=False), form="directives")
    out = tmp_path / "grpo"
    res = train_grpo(tmp_path / "sft", rows, out,
                     GRPOSettings(lora=True, lora_r=4, max_steps=2, batch_size=4, num_generations=4,
                                  max_completion_length=24, learning_rate=1e-4, save_steps=2, threads=1,
                                  prompt_form="auto", use_vllm=False), reward=reward)
    assert res["global_step"] == 2 and len(res["rewards"]) == 2
    assert len(reward.seen) == 8                            # 2 steps x 4 completions
    judged = [i for i in reward.seen if i.verdict is not None]
    assert judged, [(i.kind, i.reason) for i in reward.seen]    # at least one candidate reached the sandbox
    assert all(i.kind in ("correct", "wrong", "build", "policy") for i in judged)
    for i in reward.seen:
        assert i.reward is not None
    assert (out / "adapter_config.json").exists()
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["prompt_format"] == "directives" and not summary["use_vllm"]


def test_grpo_rejects_bad_group_sizes(tmp_path):
    from paralift.errors import UsageError
    with pytest.raises(UsageError, match="multiple"):
        train_grpo(tmp_path, [], tmp_path / "o", GRPOSettings(batch_size=6, num_generations=4))


@pytest.mark.slow
def test_grpo_time_budget_stops_and_saves(tmp_path):
    """--max-minutes: the run ends after the step that passes the budget and is saved like a finished one;
    every reward call is in reward_calls.jsonl."""
    rows = rule_based_records(kernel_units(["vec_add", "sum"]), "openmp", verify=False)
    base = tiny_model(tmp_path / "base")
    out = tmp_path / "grpo"
    res = train_grpo(base, rows, out,
                     GRPOSettings(lora=True, lora_r=4, max_steps=4, batch_size=4, num_generations=4,
                                  max_completion_length=16, learning_rate=1e-4, save_steps=100, threads=1,
                                  prompt_form="directives", use_vllm=False, max_minutes=1e-4,
                                  reward=RewardConfig(timing=False)))
    assert res["global_step"] == 1 and res["stopped_by_time_budget"] == 1
    calls = [json.loads(l) for l in (out / "reward_calls.jsonl").read_text().splitlines()]
    assert len(calls) == 1 and calls[0]["completions"] == 4
    assert (out / "adapter_config.json").exists() and (out / "train_summary.json").exists()

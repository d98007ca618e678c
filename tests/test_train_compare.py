"""Two policies side by side in one run (paralift.training.compare): the
bundled model and the same model with a LoRA adapter, greedy answers on the
first held-out kernels, real sandbox verdicts and interleaved timing."""
from __future__ import annotations

import importlib.util
import json

import pytest

from paralift.config import bundled_model_path

pytestmark = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("torch", "transformers", "peft"))
    or not (bundled_model_path() / "model.safetensors").exists(),
    reason="needs torch, transformers, peft and the bundled model")


def _random_adapter(path):
    """A LoRA adapter with non-zero weights on the bundled model (its answers may differ from the base's)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(bundled_model_path()), local_files_only=True)
    peft = get_peft_model(base, LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                           init_lora_weights=False))
    peft.save_pretrained(str(path))
    return path


def test_compare_two_policies_in_one_run(tmp_path):
    from paralift.training.compare import main
    adapter = _random_adapter(tmp_path / "adapter")
    out = tmp_path / "cmp"
    model = str(bundled_model_path())
    assert main(["--policy", f"sft={model}", "--policy", f"lora={model}+{adapter}", "--out", str(out),
                 "--limit", "3", "--timing-cap", "1", "--workers", "2"]) == 0
    res = json.loads((out / "comparison.json").read_text())
    rows = res["rows"]
    assert len(rows) == 3 and [p["name"] for p in res["policies"]] == ["sft", "lora"]
    s = res["summary"]["openmp"]
    for name in ("sft", "lora"):
        verified = [r for r in rows if r["answers"][name].get("status") == "verified"]
        assert s[name]["pass@1"] == len(verified) and s[name]["functions"] == 3
        for r in verified:              # every verified answer has its measurement (or the reason it has none)
            m = res["measurements"][r["answers"][name]["timing"]]
            assert name in m["policies"] and m["id"] == r["id"]
            assert m.get("speedup") or m.get("reason")
    # one measurement per distinct verified program: two policies with the same answer share it
    for m in res["measurements"]:
        r = next(r for r in rows if r["id"] == m["id"])
        plans = {r["answers"][p].get("plan") for p in m["policies"]}
        assert len(plans) == 1
        if m.get("speedup"):
            assert m["ci_low"] <= m["speedup"] and m["loadavg_1min"] is not None and "cores" in m["load"]
    assert [m["order"] for m in res["measurements"]] == list(range(len(res["measurements"])))
    assert s["sft"]["pass@1"] >= 1         # the bundled model answers some of its own held-out kernels
    md = (out / "comparison.md").read_text()
    assert "timings are loaded" in md and f"{s['sft']['pass@1']}/3" in md
    if importlib.util.find_spec("matplotlib"):
        assert (out / "comparison.png").stat().st_size > 1000


def test_policy_argument_is_checked(tmp_path):
    from paralift.errors import UsageError
    from paralift.training.compare import parse_policy
    with pytest.raises(UsageError, match="NAME=MODEL"):
        parse_policy("nomodel")
    with pytest.raises(UsageError, match="no folder"):
        parse_policy(f"a={tmp_path / 'missing'}")
    assert parse_policy(f"a={tmp_path}") == ("a", str(tmp_path), None)

"""SFT on CPU with a tiny local model: loss goes down, the LoRA adapter is
saved and reloadable, a rerun resumes from the last checkpoint."""
import json

import pytest

from paralift.training.sft import (SFTSettings, build_examples, read_jsonl, rule_based_records, split_records,
                                   train_sft, write_jsonl)

from train_helpers import kernel_units, tiny_model

pytest.importorskip("trl")
pytest.importorskip("peft")

NAMES = ["saxpy", "vec_add", "scale", "relu", "sum"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("sft")
    rows = rule_based_records(kernel_units(NAMES), "openmp", verify=True)
    assert {r["function"] for r in rows} == set(NAMES)          # each translation verified in the sandbox
    path = write_jsonl(d / "corpus.jsonl", rows)
    return d, path


def test_examples_are_prompt_completion(corpus):
    _, path = corpus
    rows = read_jsonl([path])
    ex = build_examples(rows, "compact")
    assert len(ex) == len(NAMES)
    for e in ex:
        assert e["prompt"].startswith("### Sequential") and e["prompt"].endswith("```c\n")
        assert "#pragma omp" in e["completion"] and e["completion"].endswith("```")
    chat = build_examples(rows[:1], "chat")[0]
    assert chat["prompt"][-1]["role"] == "user" and chat["completion"][0]["role"] == "assistant"
    train, held = split_records(rows, 0.4, seed=1)
    assert len(held) == 2 and not {r["id"] for r in train} & {r["id"] for r in held}


def test_lora_loss_goes_down_adapter_reloads_and_resumes(corpus):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    d, path = corpus
    base = tiny_model(d / "base")
    rows = read_jsonl([path])
    out = d / "lora"
    s = SFTSettings(lora=True, lora_r=8, max_steps=24, batch_size=5, learning_rate=1e-2, save_steps=12,
                    logging_steps=4, prompt_form="compact", scheduler="constant", threads=1)
    res = train_sft(base, rows, out, s)
    losses = [h["loss"] for h in res["losses"]]
    assert len(losses) >= 5
    assert losses[-1] < losses[0] - 0.2 and losses[-1] == min(losses), losses
    assert (out / "adapter_config.json").exists() and (out / "checkpoints" / "checkpoint-24").is_dir()
    info = json.loads((out / "paralift.json").read_text())
    assert info["adapter"] and info["prompt_format"] == "compact"

    # the adapter reloads onto the base and changes its outputs
    lm = AutoModelForCausalLM.from_pretrained(str(base), local_files_only=True)
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        plain = lm(ids).logits
        tuned = PeftModel.from_pretrained(lm, str(out))(ids).logits
    assert not torch.allclose(plain, tuned)

    # the provider layer loads it as an adapter too
    from paralift.agents.providers import GenerationRequest, HFProvider
    prov = HFProvider(str(base), adapters={"sft": str(out)})
    [c] = prov.generate(GenerationRequest(prompt=build_examples(rows[:1], "compact")[0]["prompt"], max_tokens=8,
                                          adapter="sft"))
    assert isinstance(c.text, str)

    # rerun with more steps: resumes from checkpoint-24, does only the rest
    s2 = SFTSettings(**{**s.__dict__, "max_steps": 28})
    res2 = train_sft(base, rows, out, s2)
    assert res2["resumed_from"].endswith("checkpoint-24")
    assert res2["global_step"] == 28


def test_full_finetune(corpus):
    d, path = corpus
    base = tiny_model(d / "base_full")
    res = train_sft(base, read_jsonl([path]), d / "full",
                    SFTSettings(lora=False, max_steps=12, batch_size=5, learning_rate=3e-3, logging_steps=4,
                                save_steps=100, prompt_form="compact", scheduler="constant", threads=1))
    losses = [h["loss"] for h in res["losses"]]
    assert losses[-1] < losses[0], losses
    assert (d / "full" / "config.json").exists() and not (d / "full" / "adapter_config.json").exists()


def _paralift(*args):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "paralift", *args], capture_output=True, text=True, timeout=120)


def test_train_cli_bad_input_is_exit_2(tmp_path):
    # the console contract, end to end: exit 2, one line, no traceback
    r = _paralift("train", "musl", "--model", str(tmp_path), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "--from-kernels" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_train_cli_usage_errors(tmp_path):
    from typer.testing import CliRunner

    from paralift.errors import UsageError
    from paralift.training.cli import app

    def err(*args):
        res = CliRunner().invoke(app, list(args))
        assert isinstance(res.exception, UsageError), (res.exception, res.output)
        return str(res.exception)

    assert "no model folder" in err("sft", "--model", str(tmp_path / "none"), "--corpus", "x.jsonl", "--out", "o")
    assert "does not exist" in err("sft", "--model", str(tmp_path), "--corpus", str(tmp_path / "no.jsonl"),
                                   "--out", "o")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    assert "source" in err("grpo", "--model", str(tmp_path), "--corpus", str(bad), "--out", "o")
    assert "--eval-fraction" in err("musl", "--model", str(tmp_path), "--out", "o", "--eval-fraction", "1.5")


def test_multi_gpu_configs_parse():
    import yaml
    from accelerate.commands.config.config_args import ClusterConfig
    from pathlib import Path
    d = Path(__file__).resolve().parent.parent / "training" / "configs"
    kinds = {ClusterConfig(**yaml.safe_load(p.read_text())).distributed_type.value for p in d.glob("*.yaml")}
    assert {"DEEPSPEED", "FSDP", "MULTI_GPU"} <= kinds
    ds = json.loads((d / "deepspeed_zero2.json").read_text())
    assert ds["zero_optimization"]["stage"] == 2

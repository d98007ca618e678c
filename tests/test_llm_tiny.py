"""The bundled model and its recipe: the synthetic corpus and its directive
labels, the shipped model folder, a translation by the hf agent that the
sandbox verifies, and the `translate --backend hf --samples 8 --json` report
that counts the model's candidates and verdicts."""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paralift.config import bundled_model_path
from paralift.types import Target

ROOT = Path(__file__).resolve().parent.parent


def test_synthetic_corpus_is_rule_translated_and_held_out_clean():
    from paralift.agents.extract import apply_directives
    from paralift.training.tiny import _norm, build_corpus, example_text, held_out_units
    pairs = build_corpus(40, seed=3)
    assert len(pairs) >= 30
    held = {_norm(u[2]) for u in held_out_units()}
    for p in pairs:
        assert "#pragma omp" in p["target"] and "#pragma omp" not in p["source"]
        assert p["function"] in p["source"] and _norm(p["source"]) not in held
        # the label is the rule agent's translation, as directive lines
        assert _norm(apply_directives(p["source"], p["directives"])) == _norm(p["target"])
        prompt, completion = example_text(p)
        assert "/*L1*/ for" in prompt and completion.startswith("L1") and completion.endswith("```")
    assert build_corpus(40, seed=3) == pairs          # deterministic


def _bundled_skip() -> str | None:
    if not all(importlib.util.find_spec(m) for m in ("torch", "transformers")):
        return "torch/transformers not installed (pip install 'paralift[llm]')"
    if not (bundled_model_path() / "model.safetensors").exists():
        return "the bundled model data/models/paralift-tiny is not installed"
    return None


needs_model = pytest.mark.skipif(_bundled_skip() is not None, reason=_bundled_skip() or "")


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for v in ("PARALIFT_MODEL", "PARALIFT_BACKEND", "PARALIFT_CONFIG", "PARALIFT_PROMPT", "PARALIFT_SAMPLES",
              "PARALIFT_TEMPERATURE"):
        monkeypatch.delenv(v, raising=False)
    return tmp_path


@pytest.mark.skipif(not (bundled_model_path() / "model.safetensors").exists(), reason="bundled model not installed")
def test_bundled_model_folder_is_complete_and_small():
    folder = bundled_model_path()
    for name in ("model.safetensors", "tokenizer.json", "config.json", "paralift.json", "README.md"):
        assert (folder / name).exists(), name
    assert sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) < 30 * 2**20
    info = json.loads((folder / "paralift.json").read_text())
    assert info["prompt_format"] == "directives" and info["targets"] == ["openmp"]
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nlicense: apache-2.0\n") and "demonstrator" in card
    ev = info["evaluation"]                 # the card states the scores the recipe measured
    assert f"**{ev['greedy_verified']}/{ev['functions']}**" in card
    assert f"**{ev['sampled_verified']}/{ev['functions']}**" in card
    assert "python -m paralift.training.tiny" in card


@needs_model
@pytest.mark.parametrize("path, function", [("examples/saxpy.c", "saxpy"), ("data/kernels/dot.c", "dot")])
def test_bundled_model_translation_verifies(clean_env, path, function):
    from paralift.agents import build_task
    from paralift.agents.llm import LLMTranslator
    from paralift.sandbox import VerifyOptions, verify
    from paralift.sandbox.inputs import generate_suite
    src = (ROOT / path).read_text()
    task = build_task(src, "c", function, Target.OPENMP)
    agent = LLMTranslator.create("hf")                 # the default model is the bundled one
    assert agent.prompt_form() == "directives"
    [cand] = agent.propose(task, Target.OPENMP)        # greedy
    assert cand.agent == "hf" and "#pragma omp" in cand.code and "/*L" not in cand.code
    v = verify(task, cand, generate_suite(task.signature), VerifyOptions(timing=False))
    assert v.verified, v.reason


@needs_model
@pytest.mark.skipif(not shutil.which("gcc"), reason="gcc not found")
def test_translate_with_the_bundled_model_counts_candidates_and_verdicts(clean_env):
    """`paralift translate saxpy.c --to openmp --backend hf --samples 8 --json`:
    only the bundled model proposes, and the report counts its samples,
    candidates and their verdicts."""
    src = clean_env / "saxpy.c"
    src.write_text((ROOT / "examples" / "saxpy.c").read_text())
    r = subprocess.run([sys.executable, "-m", "paralift.cli", "translate", str(src), "--to", "openmp",
                        "--backend", "hf", "--samples", "8", "--json", "--no-timing"],
                       capture_output=True, text=True, cwd=clean_env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads(r.stdout)
    hf = rep["agents"]["hf"]
    assert set(rep["agents"]) == {"hf"} and hf["model"].endswith("paralift-tiny")
    assert hf["samples"] == 8 and hf["candidates"] >= 1
    assert sum(hf["verdicts"].values()) == hf["candidates"] and hf["verdicts"].get("verified", 0) >= 1
    [f] = rep["functions"]
    assert f["status"] == "verified" and f["agent"] == "hf"
    assert "#pragma omp" in (clean_env / "saxpy.omp.c").read_text()


@pytest.mark.slow
def test_recipe_end_to_end_small(tmp_path):
    """`python -m paralift.training.tiny` at toy size: corpus, tokenizer,
    model, evaluation, card (the real run takes ~40 minutes)."""
    pytest.importorskip("transformers", reason="transformers not installed")
    from paralift.training.tiny import main
    out = tmp_path / "m"
    assert main(["--out", str(out), "--examples", "60", "--max-steps", "3", "--hidden", "32", "--layers", "1",
                 "--heads", "2", "--vocab", "400", "--no-verify", "--eval-samples", "2", "--threads", "1"]) == 0
    info = json.loads((out / "paralift.json").read_text())
    assert info["prompt_format"] == "directives" and info["trained_steps"] == 3
    assert info["evaluation"]["functions"] >= 40 and (out / "tokenizer.json").exists()
    assert (out / "README.md").read_text().startswith("---\nlicense: apache-2.0")

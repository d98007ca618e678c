"""The bundled model and its recipe: the synthetic corpus, and (when the
bundled model and torch are installed) a translation by the hf agent that the
sandbox verifies."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from paralift.config import bundled_model_path
from paralift.types import Target

ROOT = Path(__file__).resolve().parent.parent


def test_synthetic_corpus_is_rule_translated_and_held_out_clean():
    from paralift.training.tiny import _norm, build_corpus, held_out_units
    pairs = build_corpus(40, seed=3)
    assert len(pairs) >= 30
    held = {_norm(u[2]) for u in held_out_units()}
    for p in pairs:
        assert "#pragma omp" in p["target"] and "#pragma omp" not in p["source"]
        assert p["function"] in p["source"] and _norm(p["source"]) not in held
    assert build_corpus(40, seed=3) == pairs          # deterministic


def _bundled_skip() -> str | None:
    if not all(importlib.util.find_spec(m) for m in ("torch", "transformers")):
        return "torch/transformers not installed (pip install 'paralift[llm]')"
    if not (bundled_model_path() / "model.safetensors").exists():
        return "the bundled model data/models/paralift-tiny is not installed"
    return None


@pytest.mark.skipif(_bundled_skip() is not None, reason=_bundled_skip() or "")
def test_bundled_model_translation_verifies(tmp_path, monkeypatch):
    from paralift.agents import build_task
    from paralift.agents.llm import LLMTranslator
    from paralift.sandbox import VerifyOptions, verify
    from paralift.sandbox.inputs import generate_suite
    monkeypatch.chdir(tmp_path)
    for v in ("PARALIFT_MODEL", "PARALIFT_BACKEND", "PARALIFT_CONFIG", "PARALIFT_PROMPT"):
        monkeypatch.delenv(v, raising=False)
    src = (ROOT / "examples" / "saxpy.c").read_text()
    task = build_task(src, "c", "saxpy", Target.OPENMP)
    agent = LLMTranslator.create("hf")                 # the default model is the bundled one
    assert agent.prompt_form() == "compact"
    [cand] = agent.propose(task, Target.OPENMP)
    assert cand.agent == "hf" and "#pragma omp" in cand.code
    v = verify(task, cand, generate_suite(task.signature), VerifyOptions(timing=False))
    assert v.verified, v.reason

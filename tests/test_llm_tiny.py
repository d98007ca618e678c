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


def test_plan_corpus_has_the_rule_agents_plans_for_three_targets():
    """The plan corpus: per synthetic kernel and target, the rule agent's plan
    in its short form (no reduction clauses) that the target's code generator
    carries out into exactly the rule agent's candidate; the prompt names the
    target; held-out functions never appear."""
    from paralift.agents import build_task
    from paralift.agents.plan import apply_plan, parse_plan, rule_plan
    from paralift.training.tiny import _body, _norm, build_plan_corpus, example_text, held_out_units
    pairs = build_plan_corpus(60, seed=3)
    assert len(pairs) >= 45 and {p["target"] for p in pairs} == {"openmp", "mpi", "cuda"}
    held = {_norm(_body(u[2], u[1])) for u in held_out_units()}
    for p in pairs:
        assert _norm(p["source"]) not in held
        plan = parse_plan(p["plan"])
        assert all(not lp.reductions for lp in plan.loops) and "reduction" not in p["plan"]
        task = build_task(p["unit"], "c", p["function"], Target(p["target"]))
        full = rule_plan(task, Target(p["target"]))
        assert str(full) == p["full_plan"]
        assert apply_plan(task, p["plan"], Target(p["target"]))[0] == apply_plan(task, full, Target(p["target"]))[0]
        prompt, completion = example_text(p)
        label = {"openmp": "OpenMP", "mpi": "MPI", "cuda": "CUDA"}[p["target"]]
        assert prompt.endswith(f"### {label} plan\n```\n") and "/*L1*/ " in prompt
        assert completion == p["plan"] + "\n```"
    # a reduction kernel's label leaves the clause to the analysis
    assert any(p["full_plan"] != p["plan"] and "reduction(" in p["full_plan"] for p in pairs)
    assert build_plan_corpus(60, seed=3) == pairs          # deterministic


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
    assert info["prompt_format"] == "plan" and info["targets"] == ["openmp", "mpi", "cuda"]
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nlicense: apache-2.0\n") and "demonstrator" in card
    ev = info["evaluation"]                 # the card states the pass@1 per target the recipe measured
    assert ev["functions"] == 49
    for target, label in (("openmp", "OpenMP"), ("mpi", "MPI"), ("cuda", "CUDA")):
        assert f"| {label} | " in card and f"**{ev['targets'][target]['greedy_verified']}/49**" in card
    assert "python -m paralift.training.tiny" in card
    rows = json.loads((folder / "evaluation.json").read_text())["rows"]
    assert len(rows) == 3 * 49 and {r["target"] for r in rows} == {"openmp", "mpi", "cuda"}


@needs_model
@pytest.mark.parametrize("path, function, target, marker", [
    ("examples/saxpy.c", "saxpy", Target.OPENMP, "#pragma omp"),
    ("data/kernels/dot.c", "dot", Target.OPENMP, "#pragma omp"),
    ("examples/saxpy.c", "saxpy", Target.MPI, "MPI_"),
    ("data/kernels/dot.c", "dot", Target.CUDA, "<<<")])
def test_bundled_model_translation_verifies(clean_env, path, function, target, marker):
    """The bundled plan model's greedy answer for each target, carried out by
    the target's code generator and verified by the sandbox."""
    from paralift.agents import build_task
    from paralift.agents.llm import LLMTranslator
    from paralift.sandbox import VerifyOptions, verify
    from paralift.sandbox.inputs import generate_suite
    src = (ROOT / path).read_text()
    task = build_task(src, "c", function, target)
    agent = LLMTranslator.create("hf")                 # the default model is the bundled one
    assert agent.prompt_form() == "plan"
    [cand] = agent.propose(task, target)               # greedy
    assert cand.agent == "hf" and marker in cand.code and "/*L" not in cand.code and "plan: L" in cand.notes
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
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("fmt", ["plan", "directives"])
def test_recipe_end_to_end_small(tmp_path, fmt):
    """`python -m paralift.training.tiny` at toy size: corpus, tokenizer,
    model, evaluation (per target for plans), card (the real run takes ~40 minutes)."""
    pytest.importorskip("transformers", reason="transformers not installed")
    from paralift.training.tiny import main
    out = tmp_path / "m"
    assert main(["--out", str(out), "--examples", "60", "--max-steps", "3", "--hidden", "32", "--layers", "1",
                 "--heads", "2", "--vocab", "400", "--no-verify", "--eval-samples", "2", "--threads", "1",
                 "--format", fmt]) == 0
    info = json.loads((out / "paralift.json").read_text())
    assert info["prompt_format"] == fmt and info["trained_steps"] == 3
    assert info["evaluation"]["functions"] >= 40 and (out / "tokenizer.json").exists()
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlicense: apache-2.0") and "--format " + fmt in card
    if fmt == "plan":
        assert info["targets"] == ["openmp", "mpi", "cuda"]
        assert set(info["evaluation"]["targets"]) == {"openmp", "mpi", "cuda"}
        assert "pass@1" in card and "| MPI |" in card and "| CUDA |" in card
        rows = json.loads((out / "evaluation.json").read_text())["rows"]
        assert {r["target"] for r in rows} == {"openmp", "mpi", "cuda"}


def test_plan_corpus_replay_records_build_plan_examples():
    from paralift.training.sft import build_examples
    from paralift.training.tiny import corpus_records
    recs = corpus_records(9, seed=0, form="plan")
    assert len(recs) >= 6 and {r["target"] for r in recs} == {"openmp", "mpi", "cuda"}
    ex = build_examples(recs, "plan")
    assert len(ex) == len(recs)
    assert all(e["completion"].startswith("L") and e["completion"].endswith("\n```") for e in ex)
    assert any("### MPI plan" in e["prompt"] for e in ex) and any("### CUDA plan" in e["prompt"] for e in ex)

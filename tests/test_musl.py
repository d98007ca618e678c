"""One MuSL round end to end on CPU with a tiny local model: co-verify (real
sandbox verdicts), tester adequacy (mutants killed), co-evolve (SFT), pass@1
on a held-out split; a rerun resumes without redoing finished steps."""
import json

import pytest

from paralift.jsonl import record_suite
from paralift.training.musl import MuSLSettings, case_json, records_from_units, run_musl
from paralift.training.sft import SFTSettings, read_jsonl, rule_based_records, train_sft

from train_helpers import kernel_units, tiny_model

pytest.importorskip("trl")


@pytest.mark.slow
def test_one_round_end_to_end_and_resume(tmp_path):
    # a tiny model warm-started (directive form) on a few verified pairs
    warm = rule_based_records(kernel_units(["saxpy", "sum", "relu", "scale"]), "openmp", verify=True)
    base = tiny_model(tmp_path / "base")
    train_sft(base, warm, tmp_path / "warm", SFTSettings(lora=False, max_steps=40, batch_size=4, learning_rate=3e-3,
                                                         save_steps=1000, prompt_form="directives",
                                                         scheduler="constant", threads=1))
    # saxpy is in the warm-start data (replayed below): it is never sampled again
    unpaired = records_from_units(kernel_units(["vec_add", "clamp", "saxpy"]), "openmp", "test")
    held = records_from_units(kernel_units(["product", "max_val"]), "openmp", "test")
    val = records_from_units(kernel_units(["min_val"]), "openmp", "test")
    assert all(r["reference"] == "" for r in unpaired)
    s = MuSLSettings(rounds=1, samples=2, max_tokens=32, max_mutants=3, replay=2, pair_weight=2,
                     sft=SFTSettings(lora=True, lora_r=4, max_steps=6, batch_size=2, learning_rate=1e-3,
                                     save_steps=1000, threads=1))
    out = tmp_path / "musl"
    res = run_musl(tmp_path / "warm", unpaired, out, s, eval_records=held, replay_records=warm, val_records=val)
    assert [r["round"] for r in res["rounds"]] == [0, 1]
    for name in ("pairs.jsonl", "suites.jsonl", "eval.json", "val.json", "stats.json"):
        assert (out / "round-1" / name).exists()
    stats = json.loads((out / "round-1" / "stats.json").read_text())
    assert stats["sources"] == 3 and stats["known_skipped"] == 1 and stats["functions_tried"] <= 2
    assert stats["functions_verified"] == stats["functions_greedy_verified"] + stats["functions_new"]
    row = res["rounds"][1]
    assert row["co_verify"]["pairs"] == stats["pairs"] and 0 <= row["greedy_changed"] <= 2
    assert "val_pass@1" in row and row["val_functions"] == 1
    pairs = read_jsonl([out / "round-1" / "pairs.jsonl"])
    assert pairs, "the warm-started translator should get at least one function right"
    assert all(p["verified"] and "#pragma omp" in p["reference"] and record_suite(p).cases for p in pairs)
    suites = read_jsonl([out / "round-1" / "suites.jsonl"], require=None)
    assert suites and all(r["mutants"] > 0 for r in suites)
    assert any(r["killed"] > 0 and r["killing_cases"] for r in suites)
    assert (out / "round-1" / "translator" / "adapter_config.json").exists()
    ev = json.loads((out / "round-1" / "eval.json").read_text())
    assert ev["functions"] == 2 and ev["model"]["adapter"].endswith("translator")
    assert 0.0 <= ev["pass@1"] <= 1.0

    # resume: only the missing step is redone
    stamp = (out / "round-1" / "pairs.jsonl").stat().st_mtime_ns
    (out / "round-1" / "eval.json").unlink()
    res2 = run_musl(tmp_path / "warm", unpaired, out, s, eval_records=held)
    assert (out / "round-1" / "pairs.jsonl").stat().st_mtime_ns == stamp
    assert res2["rounds"][1]["pass@1"] == res["rounds"][1]["pass@1"]


def test_case_json_round_trips_through_the_tester_parser():
    from paralift.agents import build_task
    from paralift.agents.tester import TesterOptions, build_suite, parse_cases
    from paralift.types import Target
    src = kernel_units(["vec_add"])[0][2]
    task = build_task(src, "c", "vec_add", Target.OPENMP)
    suite = build_suite(task, TesterOptions(seed=0, calibrate=False)).suite
    items = [it for it in (case_json(task, c) for c in suite.cases[:8]) if it is not None]
    assert items
    parsed = parse_cases(task, json.dumps({"cases": items}))
    assert not parsed.errors and len(parsed.cases) == len(items)
    assert parsed.cases[0].scalars["n"] == suite.cases[0].scalars["n"]


def test_generator_sources_are_unpaired_and_deduplicated():
    from paralift.training.musl import drop_known, function_key, records_from_generator
    recs = records_from_generator(["map_axpy", "reduce_sum"], range(0, 3))
    assert len(recs) == 6 and {r["family"] for r in recs} == {"map_axpy", "reduce_sum"}
    assert all(r["reference"] == "" and r["verified"] is False and r["function"] in r["source"] for r in recs)
    assert recs == records_from_generator(["map_axpy", "reduce_sum"], range(0, 3))      # deterministic
    keys = [function_key(r) for r in recs]
    assert len(set(keys)) == 6
    kept, dropped = drop_known(recs + recs[:1], set(keys[:2]))
    assert dropped == 3 and [r["id"] for r in kept] == [r["id"] for r in recs[2:]]


def test_tiny_corpus_replay_records_are_directive_examples():
    from paralift.training.musl import function_key
    from paralift.training.sft import build_examples
    from paralift.training.tiny import corpus_records, known_sources
    recs = corpus_records(6, seed=0)
    assert len(recs) == 6 and all(r["verified"] is None for r in recs)
    ex = build_examples(recs, "directives")
    assert len(ex) == 6 and all(e["completion"].startswith("L1") and e["completion"].endswith("```") for e in ex)
    known = known_sources(6, seed=0)
    assert {function_key(r) for r in recs} <= known

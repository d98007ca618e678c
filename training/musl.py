"""Mutual supervision (MuSL): translator and tester co-verify and co-evolve
(issue 8, part 2; DESIGN.md §6).

    paralift train musl --model data/models/paralift-tiny --from-kernels data/kernels \\
        --eval-fraction 0.5 --rounds 1 --out runs/musl

Each round K (1..R) over the unpaired sequential functions of the training split:

1. co-verify: the translator (the base model plus round K-1's adapter, or
   round K-1's full model) samples `samples` translations of each function;
   the tester writes a suite (the deterministic tester's cases, plus the
   tester model's proposed cases when a tester model is given); the sandbox
   keeps the pairs that pass -> round-K/pairs.jsonl (DESIGN §5 records).
2. tester adequacy (what MuSL lacks): each function's first verified
   candidate is mutated (agents.mutation, up to `max_mutants`); the cases that
   killed a mutant are the tester's supervision -> round-K/suites.jsonl
   (suite, mutants, killed, the killing cases in the tester's JSON format).
3. co-evolve: the translator is fine-tuned (training/sft.py) on every
   verified pair so far -> round-K/translator/; with a tester model, the
   tester is fine-tuned on the killing cases -> round-K/tester/.
4. evaluation: pass@1 (greedy, one sample, verified by the sandbox) of the
   round's translator on the held-out split -> round-K/eval.json. round-0/
   eval.json is the starting model's figure.

Every step writes its file and is skipped when a rerun finds it, so an
interrupted run resumes where it stopped and rounds can be compared.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from paralift.errors import UsageError
from paralift.types import Candidate, Target, TestSuite, to_jsonable

from .sft import SFTSettings, read_jsonl, record_function, split_records, train_sft, write_jsonl

__all__ = ["MuSLSettings", "run_musl", "evaluate_pass1", "units_from_dir", "records_from_units", "case_json"]


@dataclass
class MuSLSettings:
    rounds: int = 1
    samples: int = 4                     # translator samples per function per round
    temperature: float = 0.8
    max_tokens: int = 400
    target: str = "openmp"
    tester_model: str | None = None      # a model for the LLM tester (None: deterministic tester only)
    max_mutants: int = 6                 # mutants per verified candidate (tester adequacy)
    eval_fraction: float = 0.5           # held-out share when no eval corpus is given
    seed: int = 0
    verify_workers: int | None = None
    sft: SFTSettings = field(default_factory=lambda: SFTSettings(max_steps=60, save_steps=1000))
    tester_sft: SFTSettings = field(default_factory=lambda: SFTSettings(max_steps=40, save_steps=1000))


def _log(msg: str) -> None:
    print(f"[musl] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------

def units_from_dir(directory: str | Path, languages: tuple[str, ...] = ("c",)) -> list[tuple[str, str, str, str]]:
    """(id, function, source, language) for every function of the C/C++ files in a folder."""
    from paralift.agents import AnalysisError, detect_language, list_functions
    d = Path(directory)
    if not d.is_dir():
        raise UsageError(f"kernel folder {d} does not exist")
    units = []
    for p in sorted(d.iterdir()):
        if p.suffix not in (".c", ".cc", ".cpp", ".cxx") or ".omp." in p.name or ".mpi." in p.name:
            continue
        src = p.read_text()
        lang = detect_language(str(p), src)
        if lang not in languages:
            continue
        try:
            names = [s.name for s in list_functions(src, lang) if s.name != "main"]
        except AnalysisError:
            continue
        units += [(f"{d.name}/{p.name}:{n}", n, src, lang) for n in names]
    return units


def records_from_units(units, target: str, provenance: str) -> list[dict]:
    """Unpaired DESIGN §5 records (no reference)."""
    return [{"id": i, "family": "", "source_lang": lang, "target": target, "source": src, "reference": "",
             "tests": None, "provenance": provenance, "verified": False, "function": fn}
            for i, fn, src, lang in units]


# ---------------------------------------------------------------------------
# the translator of a round
# ---------------------------------------------------------------------------

@dataclass
class ModelRef:
    base: str
    adapter: str | None = None

    def to_json(self) -> dict:
        return {"base": self.base, "adapter": self.adapter}


def _agent(ref: ModelRef, samples: int, temperature: float, max_tokens: int, seed: int):
    from paralift.agents.llm import LLMTranslator
    from paralift.agents.providers import HFProvider
    adapters = {"round": ref.adapter} if ref.adapter else None
    prov = HFProvider(ref.base, adapters=adapters, threads=1)
    return LLMTranslator(prov, samples=samples, temperature=temperature, max_tokens=max_tokens, seed=seed,
                         adapter="round" if ref.adapter else None, quiet=True, strict=False,
                         prompt_style=_declared_form(ref))


def _declared_form(ref: ModelRef) -> str:
    for d in ([ref.adapter] if ref.adapter else []) + [ref.base]:
        p = Path(d) / "paralift.json"
        if p.exists():
            form = json.loads(p.read_text()).get("prompt_format")
            if form:
                return form
    return "auto"


def _tasks(records: list[dict], target: Target) -> list[tuple[dict, Any]]:
    from paralift.agents import AnalysisError, build_task
    out = []
    for r in records:
        try:
            out.append((r, build_task(r["source"], r.get("source_lang") or "c", record_function(r), target)))
        except AnalysisError as e:
            _log(f"skipping {r.get('id')}: {e}")
    return out


def evaluate_pass1(ref: ModelRef, records: list[dict], target: Target, *, max_tokens: int = 400,
                   workers: int | None = None) -> dict:
    """pass@1 with greedy decoding: the share of held-out functions whose one
    sample the sandbox verifies (the deterministic tester's suite, seed 0, no
    timing). A function the model gives no usable candidate for counts as failed."""
    from paralift.agents import NotParallelizable
    from paralift.agents.tester import TesterError, TesterOptions, VacuousSuite, build_suite
    from paralift.sandbox import VerifyOptions
    from paralift.sandbox.pool import Job, verify_many

    agent = _agent(ref, 1, 0.0, max_tokens, 0)
    rows, jobs, where = [], [], []
    for r, task in _tasks(records, target):
        try:
            cand = agent.propose(task, target)[0]
        except NotParallelizable as e:
            rows.append({"id": r["id"], "candidate": False, "verified": False, "reason": str(e)})
            continue
        try:
            suite = build_suite(task, TesterOptions(seed=0)).suite
        except (TesterError, VacuousSuite) as e:
            rows.append({"id": r["id"], "candidate": True, "verified": False, "reason": f"no test suite: {e}"})
            continue
        rows.append({"id": r["id"], "candidate": True, "verified": False, "reason": ""})
        jobs.append(Job(task, cand, suite))
        where.append(len(rows) - 1)
    if jobs:
        for k, v in zip(where, verify_many(jobs, VerifyOptions(timing=False), workers=workers,
                                           label="pass@1", quiet=True)):
            rows[k]["verified"] = v.verified
            rows[k]["reason"] = "" if v.verified else v.reason
    n = len(rows)
    passed = sum(r["verified"] for r in rows)
    return {"model": ref.to_json(), "functions": n, "candidates": sum(r["candidate"] for r in rows),
            "passed": passed, "pass@1": passed / n if n else None, "rows": rows}


# ---------------------------------------------------------------------------
# tester supervision: the cases that kill mutants, in the LLM tester's format
# ---------------------------------------------------------------------------

def case_json(task, case) -> dict | None:
    """A TestCase in the LLM tester's JSON case format (agents.tester.CASE_FORMAT),
    or None when an array is drawn from a distribution the format cannot say."""
    from paralift.sandbox.inputs import size_names
    sizes_ = set(size_names(task.signature))
    item: dict = {"name": case.name, "sizes": {}, "scalars": {}, "arrays": {}}
    for k, v in case.scalars.items():
        (item["sizes"] if k in sizes_ else item["scalars"])[k] = v
    for k, a in case.arrays.items():
        if a.dist == "uniform" and not a.values:
            item["arrays"][k] = {"dist": "uniform", "lo": a.lo, "hi": a.hi}
        elif a.dist == "uniform" and a.values and all(isinstance(x, list) and len(x) == 2 for x in a.values):
            item["arrays"][k] = {"dist": "uniform", "lo": a.lo, "hi": a.hi, "set": a.values}
        elif a.dist == "explicit" and a.values is not None and len(a.values) <= 64:
            item["arrays"][k] = {"values": a.values}
        elif a.dist in ("index", "offsets", "nonzero"):
            continue                    # the parser fills constrained arrays itself
        else:
            return None
    return item


def tester_supervision(task, candidate: Candidate, suite: TestSuite, max_mutants: int, workers: int | None) -> dict:
    """Mutate a verified candidate; which cases of `suite` kill which mutants."""
    from paralift.agents.mutation import classify, mutants
    from paralift.agents.tester import build_prompt, parse_cases
    from paralift.sandbox import VerifyOptions
    from paralift.sandbox.isolation import Limits
    from paralift.sandbox.pool import Job, verify_many

    ms = mutants(candidate.code, candidate.target)
    # spread the budget over the operators
    by_op: dict[str, list] = {}
    for m in ms:
        by_op.setdefault(m.operator, []).append(m)
    chosen = []
    while len(chosen) < max_mutants and any(by_op.values()):
        for op in list(by_op):
            if by_op[op] and len(chosen) < max_mutants:
                chosen.append(by_op[op].pop(0))
    opts = VerifyOptions(timing=False, run_limits=Limits(wall_s=15, cpu_s=40))
    verdicts = verify_many([Job(task, Candidate(m.code, candidate.target, agent=f"mutant:{m.id}"), suite)
                            for m in chosen], opts, workers=workers, label="mutants", quiet=True) if chosen else []
    results = [classify(m, v) for m, v in zip(chosen, verdicts)]
    killers: dict[str, int] = {}
    for res, v in zip(results, verdicts):
        if res.status == "killed":
            for f in v.failures:
                killers[f.name] = killers.get(f.name, 0) + 1
    cases = [c for c in suite.cases if c.name in killers]
    items = [it for it in (case_json(task, c) for c in cases) if it is not None]
    completion = json.dumps({"cases": items[:8]}) if items else None
    if completion is not None:      # keep only what the tester's own parser accepts
        parsed = parse_cases(task, completion)
        if parsed.errors or not parsed.cases:
            completion = None
    return {"mutants": len(results), "killed": sum(r.status == "killed" for r in results),
            "statuses": [r.status for r in results], "killing_cases": sorted(killers),
            "prompt": build_prompt(task), "completion": completion}


# ---------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------

def _round_translator(base: str, rounds_dir: Path, k: int, lora: bool) -> ModelRef:
    if k == 0:
        return ModelRef(base)
    d = rounds_dir / f"round-{k}" / "translator"
    if lora:
        return ModelRef(base, str(d)) if (d / "adapter_config.json").exists() else _round_translator(base, rounds_dir, k - 1, lora)
    return ModelRef(str(d)) if (d / "config.json").exists() else _round_translator(base, rounds_dir, k - 1, lora)


def _co_verify(ref: ModelRef, train: list[dict], target: Target, s: MuSLSettings, k: int, tester_gen) -> tuple[list, list]:
    from paralift.agents import NotParallelizable
    from paralift.agents.tester import TesterError, TesterOptions, VacuousSuite, build_suite
    from paralift.sandbox import VerifyOptions
    from paralift.sandbox.pool import Job, verify_many

    agent = _agent(ref, s.samples, s.temperature, s.max_tokens, s.seed + k)
    jobs, meta = [], []
    suites: dict[str, tuple] = {}
    t0 = time.monotonic()
    for r, task in _tasks(train, target):
        try:
            cands = agent.propose(task, target)
        except NotParallelizable:
            continue
        try:
            rep = build_suite(task, TesterOptions(seed=s.seed + k), generate=tester_gen)
        except (TesterError, VacuousSuite) as e:
            _log(f"{r['id']}: no suite ({e})")
            continue
        suites[r["id"]] = (task, rep)
        for c in cands:
            jobs.append(Job(task, c, rep.suite))
            meta.append(r)
    _log(f"round {k}: {len(jobs)} candidate(s) from {len(suites)} function(s) in {time.monotonic() - t0:.0f} s")
    verdicts = verify_many(jobs, VerifyOptions(timing=False), workers=s.verify_workers, label="co-verify",
                           quiet=True) if jobs else []
    pairs, first_ok = [], {}
    for job, r, v in zip(jobs, meta, verdicts):
        if not v.verified:
            continue
        pairs.append({"id": f"{r['id']}#r{k}.{len(pairs)}", "family": r.get("family", ""),
                      "source_lang": job.task.language, "target": target.value, "source": r["source"],
                      "reference": job.candidate.code, "tests": to_jsonable(job.tests),
                      "provenance": f"musl round {k}: {ref.adapter or ref.base} sample, verified by the sandbox",
                      "verified": True, "function": job.task.function})
        first_ok.setdefault(r["id"], job)
    suite_rows = []
    for rid, job in first_ok.items():
        sup = tester_supervision(job.task, job.candidate, job.tests, s.max_mutants, s.verify_workers)
        suite_rows.append({"id": rid, "function": job.task.function, "suite": to_jsonable(job.tests), **sup,
                           "llm_errors": suites[rid][1].llm_errors[:5]})
    return pairs, suite_rows


def run_musl(model: str | Path, records: list[dict], out: str | Path, settings: MuSLSettings | None = None,
             eval_records: list[dict] | None = None) -> dict:
    """Run (or resume) the rounds; returns {"rounds": [eval rows...]}."""
    s = settings or MuSLSettings()
    target = Target.parse(s.target)
    base = str(model)
    if not Path(base).exists():
        raise UsageError(f"no model at {base} (models are never downloaded; pass a local model folder)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if eval_records is None:
        train, held = split_records(records, s.eval_fraction, s.seed)
    else:
        train, held = records, eval_records
    if not held:
        raise UsageError("the held-out split is empty: give --eval or a larger --eval-fraction")
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "heldout.jsonl", held)
    (out / "settings.json").write_text(json.dumps({"model": base, **asdict(s)}, indent=2, default=str) + "\n")
    lora = s.sft.lora
    summary = []
    e0 = out / "round-0" / "eval.json"
    if not e0.exists():
        _log(f"round 0: pass@1 of {base} on {len(held)} held-out function(s)")
        ev = evaluate_pass1(ModelRef(base), held, target, max_tokens=s.max_tokens, workers=s.verify_workers)
        e0.parent.mkdir(parents=True, exist_ok=True)
        e0.write_text(json.dumps({"round": 0, **ev}, indent=2) + "\n")
    summary.append(json.loads(e0.read_text()))
    _log(f"round 0: pass@1 {summary[-1]['pass@1']:.3f} ({summary[-1]['passed']}/{summary[-1]['functions']})")
    tester_gen = None
    for k in range(1, s.rounds + 1):
        rd = out / f"round-{k}"
        rd.mkdir(exist_ok=True)
        prev = _round_translator(base, out, k - 1, lora)
        tester_ref = None
        if s.tester_model:
            td = out / f"round-{k - 1}" / "tester"
            tester_ref = ModelRef(s.tester_model, str(td)) if (td / "adapter_config.json").exists() else ModelRef(s.tester_model)
            tester_gen = _tester_generate(tester_ref)
        if not ((rd / "pairs.jsonl").exists() and (rd / "suites.jsonl").exists()):
            _log(f"round {k}: co-verify with {prev.adapter or prev.base}")
            pairs, suite_rows = _co_verify(prev, train, target, s, k, tester_gen)
            write_jsonl(rd / "suites.jsonl", suite_rows)
            write_jsonl(rd / "pairs.jsonl", pairs)      # written last: its presence marks the step done
        pairs = read_jsonl([rd / "pairs.jsonl"])
        all_pairs = [p for j in range(1, k + 1) for p in read_jsonl([out / f"round-{j}" / "pairs.jsonl"])]
        _log(f"round {k}: {len(pairs)} verified pair(s) this round, {len(all_pairs)} in all")
        tdir = rd / "translator"
        if not (tdir / "train_summary.json").exists():
            if all_pairs:
                train_sft(base if lora else prev.base, all_pairs, tdir,
                          SFTSettings(**{**asdict(s.sft), "resume": "auto"}))
            else:
                _log(f"round {k}: no verified pair: the translator is not fine-tuned this round")
        if s.tester_model and not (rd / "tester" / "train_summary.json").exists():
            sup = [r for r in read_jsonl([rd / "suites.jsonl"], require=None) if r.get("completion")]
            if sup:
                _train_tester(s.tester_model, sup, rd / "tester", s.tester_sft)
        ev_path = rd / "eval.json"
        if not ev_path.exists():
            cur = _round_translator(base, out, k, lora)
            ev = evaluate_pass1(cur, held, target, max_tokens=s.max_tokens, workers=s.verify_workers)
            ev_path.write_text(json.dumps({"round": k, "pairs": len(pairs), "pairs_total": len(all_pairs), **ev},
                                          indent=2) + "\n")
        summary.append(json.loads(ev_path.read_text()))
        _log(f"round {k}: pass@1 {summary[-1]['pass@1']:.3f} ({summary[-1]['passed']}/{summary[-1]['functions']})")
    table = [{"round": e["round"], "pass@1": e["pass@1"], "passed": e["passed"], "functions": e["functions"],
              "pairs": e.get("pairs"), "model": e["model"]} for e in summary]
    (out / "summary.json").write_text(json.dumps(table, indent=2) + "\n")
    return {"rounds": table}


def _tester_generate(ref: ModelRef):
    from paralift.agents.providers import HFProvider
    from paralift.agents.tester import provider_generate

    prov = HFProvider(ref.base, adapters={"tester": ref.adapter} if ref.adapter else None, threads=1)
    gen = provider_generate(prov, samples=1, max_tokens=400)
    if not ref.adapter:
        return gen

    def with_adapter(prompt: str) -> list[str]:
        from paralift.agents.providers import GenerationRequest
        req = GenerationRequest(prompt=prompt + "\n\n```json\n", max_tokens=400, stop=["```"], adapter="tester")
        return [c.text for c in prov.generate(req)]
    return with_adapter


def _train_tester(model: str, rows: list[dict], out: Path, settings: SFTSettings) -> dict:
    """Fine-tune the tester on (tester prompt -> killing cases JSON)."""
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from .sft import _load_model
    examples = [{"prompt": r["prompt"] + "\n\n```json\n", "completion": r["completion"] + "\n```"} for r in rows]
    tok, lm = _load_model(model, settings.lora)
    cfg = SFTConfig(output_dir=str(out / "checkpoints"), max_steps=settings.max_steps,
                    per_device_train_batch_size=settings.batch_size, learning_rate=settings.learning_rate,
                    logging_steps=settings.logging_steps, save_steps=settings.save_steps, report_to="none",
                    completion_only_loss=True, max_length=settings.max_length, use_cpu=not torch.cuda.is_available(),
                    disable_tqdm=True, seed=settings.seed)
    peft_config = None
    if settings.lora:
        from peft import LoraConfig
        peft_config = LoraConfig(task_type="CAUSAL_LM", r=settings.lora_r, lora_alpha=settings.lora_alpha,
                                 target_modules=settings.target_modules)
    trainer = SFTTrainer(model=lm, args=cfg, train_dataset=Dataset.from_list(examples), processing_class=tok,
                         peft_config=peft_config)
    trainer.train()
    trainer.save_model(str(out))
    tok.save_pretrained(str(out))
    summary = {"examples": len(examples), "global_step": trainer.state.global_step,
               "losses": [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]}
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary

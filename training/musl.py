"""Mutual supervision (MuSL): translator and tester co-verify and co-evolve
(issue 8, part 2; DESIGN.md §6).

    paralift train musl --model data/models/paralift-tiny --from-kernels data/kernels \\
        --eval-fraction 0.5 --rounds 1 --out runs/musl

Each round K (1..R) over the unpaired sequential functions of the training
split (e.g. kernels of the corpus generator, data/generator.py, for seeds
that neither the validation nor the held-out split uses; functions the model
was already trained on, or paired in an earlier round, are skipped):

1. co-verify: the translator (the base model plus round K-1's adapter, or
   round K-1's full model) gives its greedy answer and samples `samples`
   translations of each function; the tester writes a suite (the
   deterministic tester's cases, plus the tester model's proposed cases when
   a tester model is given); the sandbox keeps the pairs that pass ->
   round-K/pairs.jsonl (DESIGN §5 records; one per function, the greedy
   answer when it verified), round-K/stats.json (how many sources,
   candidates, verified functions, and how many of them only sampling got
   right: the round's new knowledge).
2. tester adequacy (what MuSL lacks): each function's first verified
   candidate is mutated (agents.mutation, up to `max_mutants`); the cases that
   killed a mutant are the tester's supervision -> round-K/suites.jsonl
   (suite, mutants, killed, the killing cases in the tester's JSON format).
3. co-evolve: the translator is fine-tuned (training/sft.py) on every
   verified pair so far (`pair_weight` copies each), mixed with `replay`
   examples of its original training data so it does not forget them ->
   round-K/translator/; with a tester model, the tester is fine-tuned on the
   killing cases -> round-K/tester/.
4. evaluation: pass@1 (greedy, one sample, verified by the sandbox) of the
   round's translator on the held-out split -> round-K/eval.json (and on the
   validation split -> round-K/val.json). round-0/ is the starting model's
   figure; summary.json also counts the held-out functions whose greedy
   answer changed, and which were gained or lost.

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
from paralift.jsonl import suite_field
from paralift.types import Candidate, Target, TestSuite, to_jsonable

from .sft import (SFTSettings, normalize_code, read_jsonl, record_function, split_records, train_sft,
                  write_jsonl)

__all__ = ["MuSLSettings", "run_musl", "evaluate_pass1", "units_from_dir", "records_from_units",
           "records_from_generator", "drop_known", "function_key", "case_json"]


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
    greedy: bool = True                  # also the greedy candidate per function (stats; preferred pair)
    pairs_per_function: int = 1          # verified pairs kept per function and round (the greedy one first)
    pair_weight: int = 1                 # copies of each verified pair in the fine-tune
    replay: int = 0                      # examples of the original training data mixed into each fine-tune
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


def records_from_generator(families: list[str] | None, seeds: range | list[int], target: str = "openmp") -> list[dict]:
    """Unpaired DESIGN §5 records from the corpus generator (data/generator.py):
    one kernel per (family, seed); `families` None means every family whose
    kernels can be parallelized (the generator's `parallel` flag)."""
    from paralift.data.generator import PARALLEL_FAMILIES, generate
    fams = list(families) if families else list(PARALLEL_FAMILIES)
    out = []
    for seed in seeds:
        for fam in fams:
            k = generate(fam, seed)
            out.append({"id": f"gen/{fam}/{seed}:{k.function}", "family": fam, "source_lang": k.language,
                        "target": target, "source": k.source, "reference": "", "tests": None,
                        "provenance": f"data/generator.py family {fam}, seed {seed}", "verified": False,
                        "function": k.function})
    return out


def function_key(rec: dict) -> str:
    """The normalised text of a record's function (what splits and dedup compare)."""
    from .sft import _function_text
    return normalize_code(_function_text(rec["source"], record_function(rec)))


def drop_known(records: list[dict], known: set[str]) -> tuple[list[dict], int]:
    """The records whose function is not in `known` (and not repeated), and how many were dropped."""
    out, seen = [], set(known)
    for r in records:
        key = function_key(r)
        if key in seen:
            continue
        seen.add(key)
        out.append(r)
    return out, len(records) - len(out)


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


def _provider(ref: ModelRef):
    from paralift.agents.providers import HFProvider
    return HFProvider(ref.base, adapters={"round": ref.adapter} if ref.adapter else None, threads=1)


def _agent(ref: ModelRef, samples: int, temperature: float, max_tokens: int, seed: int, provider=None):
    from paralift.agents.llm import LLMTranslator
    return LLMTranslator(provider or _provider(ref), samples=samples, temperature=temperature, max_tokens=max_tokens,
                         seed=seed, adapter="round" if ref.adapter else None, quiet=True, strict=False,
                         prompt_style=_declared_form(ref))


def pragmas(code: str) -> str:
    """The `#pragma omp` lines of a candidate, joined (what a directive-form answer changed)."""
    return " | ".join(l.strip() for l in code.splitlines() if l.strip().startswith("#pragma omp"))


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
            rows.append({"id": r["id"], "candidate": False, "verified": False, "pragmas": None, "reason": str(e)})
            continue
        try:
            suite = build_suite(task, TesterOptions(seed=0)).suite
        except (TesterError, VacuousSuite) as e:
            rows.append({"id": r["id"], "candidate": True, "verified": False, "pragmas": pragmas(cand.code),
                         "reason": f"no test suite: {e}"})
            continue
        rows.append({"id": r["id"], "candidate": True, "verified": False, "pragmas": pragmas(cand.code), "reason": ""})
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

    if max_mutants <= 0:
        return {"mutants": 0, "killed": 0, "statuses": [], "killing_cases": [], "prompt": build_prompt(task),
                "completion": None}
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


def _co_verify(ref: ModelRef, train: list[dict], target: Target, s: MuSLSettings, k: int, tester_gen,
               known: set[str]) -> tuple[list, list, dict]:
    """Sample, test and verify; returns (pairs, tester supervision rows, stats).

    Per function: the greedy candidate (with `s.greedy`) and `s.samples`
    sampled ones, deduplicated; the sandbox verifies each on the tester's
    suite. Functions already paired in the training data (`known`: earlier
    rounds, the replayed corpus) are skipped. Up to `pairs_per_function`
    verified candidates become pairs, the greedy one first (it is what the
    model already answers); `greedy_verified` on a pair says whether the
    greedy answer was right, so a round's *new* knowledge (verified by
    sampling only) can be counted."""
    from paralift.agents import NotParallelizable
    from paralift.agents.tester import TesterError, TesterOptions, VacuousSuite, build_suite
    from paralift.sandbox import VerifyOptions
    from paralift.sandbox.pool import Job, verify_many

    prov = _provider(ref)
    sampler = _agent(ref, s.samples, s.temperature, s.max_tokens, s.seed + k, provider=prov)
    greedy = _agent(ref, 1, 0.0, s.max_tokens, 0, provider=prov) if s.greedy else None
    jobs, meta = [], []
    suites: dict[str, tuple] = {}
    stats = {"sources": len(train), "known_skipped": 0, "no_task": 0, "no_candidate": 0, "no_suite": 0,
             "functions_tried": 0, "completions": 0, "candidates": 0}
    t0 = time.monotonic()
    todo = []
    for r in train:
        if function_key(r) in known:
            stats["known_skipped"] += 1
        else:
            todo.append(r)
    tasks = _tasks(todo, target)
    stats["no_task"] = len(todo) - len(tasks)
    for r, task in tasks:
        cands: list[tuple[Candidate, bool]] = []
        if greedy is not None:
            try:
                cands.append((greedy.propose(task, target)[0], True))
            except NotParallelizable:
                pass
        try:
            for c in sampler.propose(task, target):
                if not any(c.code == g.code for g, _ in cands):
                    cands.append((c, False))
        except NotParallelizable:
            pass
        stats["completions"] += s.samples + (1 if greedy is not None else 0)
        if not cands:
            stats["no_candidate"] += 1
            continue
        try:
            rep = build_suite(task, TesterOptions(seed=s.seed + k), generate=tester_gen)
        except (TesterError, VacuousSuite) as e:
            _log(f"{r['id']}: no suite ({e})")
            stats["no_suite"] += 1
            continue
        suites[r["id"]] = (task, rep)
        stats["functions_tried"] += 1
        for c, is_greedy in cands:
            jobs.append(Job(task, c, rep.suite))
            meta.append((r, is_greedy))
    stats["candidates"] = len(jobs)
    stats["generate_and_suites_s"] = round(time.monotonic() - t0, 1)
    _log(f"round {k}: {len(jobs)} distinct candidate(s) of {len(suites)} function(s) "
         f"({stats['known_skipped']} already in the training data) in {stats['generate_and_suites_s']:.0f} s")
    t1 = time.monotonic()
    verdicts = verify_many(jobs, VerifyOptions(timing=False), workers=s.verify_workers, label="co-verify",
                           quiet=True) if jobs else []
    stats["verify_s"] = round(time.monotonic() - t1, 1)
    by_fn: dict[str, dict] = {}
    for job, (r, is_greedy), v in zip(jobs, meta, verdicts):
        st = by_fn.setdefault(r["id"], {"rec": r, "greedy_ok": False, "ok": []})
        if v.verified:
            st["ok"].append((job, is_greedy))
            st["greedy_ok"] |= is_greedy
    pairs, first_ok = [], {}
    for rid, st in by_fn.items():
        r = st["rec"]
        for job, is_greedy in sorted(st["ok"], key=lambda x: not x[1])[:s.pairs_per_function]:
            pairs.append({"id": f"{rid}#r{k}.{len(pairs)}", "family": r.get("family", ""),
                          "source_lang": job.task.language, "target": target.value, "source": r["source"],
                          "reference": job.candidate.code, "tests": suite_field(job.tests),
                          "provenance": f"musl round {k}: {ref.adapter or ref.base} "
                                        f"{'greedy answer' if is_greedy else 'sample'}, verified by the sandbox",
                          "verified": True, "function": job.task.function,
                          "greedy_verified": st["greedy_ok"], "verified_candidates": len(st["ok"])})
            first_ok.setdefault(rid, job)
    stats.update({"verified_candidates": sum(v.verified for v in verdicts),
                  "functions_verified": sum(bool(st["ok"]) for st in by_fn.values()),
                  "functions_greedy_verified": sum(st["greedy_ok"] for st in by_fn.values()),
                  "functions_new": sum(bool(st["ok"]) and not st["greedy_ok"] for st in by_fn.values()),
                  "pairs": len(pairs)})
    fams: dict[str, list[int]] = {}
    for st in by_fn.values():
        row = fams.setdefault(st["rec"].get("family") or "-", [0, 0, 0])
        row[0] += 1
        row[1] += bool(st["ok"])
        row[2] += st["greedy_ok"]
    stats["by_family"] = {f: {"tried": a, "verified": b, "greedy_verified": c} for f, (a, b, c) in sorted(fams.items())}
    suite_rows = []
    for rid, job in first_ok.items():
        sup = tester_supervision(job.task, job.candidate, job.tests, s.max_mutants, s.verify_workers)
        suite_rows.append({"id": rid, "function": job.task.function, "suite": to_jsonable(job.tests), **sup,
                           "llm_errors": suites[rid][1].llm_errors[:5]})
    return pairs, suite_rows, stats


def run_musl(model: str | Path, records: list[dict], out: str | Path, settings: MuSLSettings | None = None,
             eval_records: list[dict] | None = None, *, replay_records: list[dict] | None = None,
             known_records: list[dict] | None = None, known_keys: set[str] | None = None,
             val_records: list[dict] | None = None) -> dict:
    """Run (or resume) the rounds; returns {"rounds": [eval rows...]}.

    `records`: the unpaired functions (split into train/held-out by
    `eval_fraction` unless `eval_records` is given). `replay_records`: verified
    pairs of the model's original training data; `settings.replay` of them
    are mixed into every fine-tune so the model does not forget them.
    `known_records`/`known_keys` (normalised function texts): functions the
    model was already trained on; they and the replayed ones are never
    sampled again, and every round's paired functions join them.
    `val_records`: a validation split (disjoint from train and held-out),
    evaluated like the held-out one, for choosing settings without looking
    at the held-out figure."""
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
    # the splits are disjoint by function text (DESIGN §5): a held-out or validation
    # function never appears among the training sources or the replayed data
    held_keys = {function_key(r) for r in held}
    val = list(val_records or [])
    val, _ = drop_known(val, held_keys)
    eval_keys = held_keys | {function_key(r) for r in val}
    train, dropped = drop_known(train, eval_keys)
    replay = [r for r in (replay_records or []) if function_key(r) not in eval_keys]
    known = set(known_keys or ()) | {function_key(r) for r in (known_records or []) + replay}
    overlap = {"train_dropped_as_heldout_or_val": dropped,
               "replay_dropped_as_heldout_or_val": len(replay_records or []) - len(replay),
               "train_already_known": sum(function_key(r) in known for r in train)}
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "heldout.jsonl", held)
    if val:
        write_jsonl(out / "val.jsonl", val)
    (out / "settings.json").write_text(json.dumps({"model": base, **asdict(s), "train": len(train),
                                                   "heldout": len(held), "val": len(val), "replay": len(replay),
                                                   "known": len(known), "overlap": overlap},
                                                  indent=2, default=str) + "\n")
    lora = s.sft.lora
    summary = []

    def evaluate_into(path: Path, ref: ModelRef, recs: list[dict], extra: dict) -> dict:
        if not path.exists():
            ev = evaluate_pass1(ref, recs, target, max_tokens=s.max_tokens, workers=s.verify_workers)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({**extra, **ev}, indent=2) + "\n")
        return json.loads(path.read_text())

    _log(f"round 0: pass@1 of {base} on {len(held)} held-out function(s)")
    summary.append(evaluate_into(out / "round-0" / "eval.json", ModelRef(base), held, {"round": 0}))
    _log(f"round 0: pass@1 {summary[-1]['pass@1']:.3f} ({summary[-1]['passed']}/{summary[-1]['functions']})")
    vals = [evaluate_into(out / "round-0" / "val.json", ModelRef(base), val, {"round": 0})] if val else []
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
        earlier = [p for j in range(1, k) for p in read_jsonl([out / f"round-{j}" / "pairs.jsonl"])]
        if not ((rd / "pairs.jsonl").exists() and (rd / "suites.jsonl").exists()):
            _log(f"round {k}: co-verify with {prev.adapter or prev.base}")
            pairs, suite_rows, stats = _co_verify(prev, train, target, s, k, tester_gen,
                                                  known | {function_key(p) for p in earlier})
            (rd / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
            write_jsonl(rd / "suites.jsonl", suite_rows)
            write_jsonl(rd / "pairs.jsonl", pairs)      # written last: its presence marks the step done
        pairs = read_jsonl([rd / "pairs.jsonl"])
        all_pairs = earlier + pairs
        _log(f"round {k}: {len(pairs)} verified pair(s) this round "
             f"({sum(not p.get('greedy_verified', True) for p in pairs)} where the greedy answer failed), "
             f"{len(all_pairs)} in all")
        tdir = rd / "translator"
        if not (tdir / "train_summary.json").exists():
            if all_pairs:
                mix = all_pairs * max(1, s.pair_weight)
                if s.replay and replay:
                    import random
                    mix += random.Random(s.seed + k).sample(replay, min(s.replay, len(replay)))
                _log(f"round {k}: fine-tuning on {len(all_pairs)} pair(s) x {max(1, s.pair_weight)} "
                     f"+ {len(mix) - len(all_pairs) * max(1, s.pair_weight)} replayed example(s)")
                train_sft(base if lora else prev.base, mix, tdir,
                          SFTSettings(**{**asdict(s.sft), "resume": "auto", "dedupe": s.pair_weight <= 1}))
            else:
                _log(f"round {k}: no verified pair: the translator is not fine-tuned this round")
        if s.tester_model and not (rd / "tester" / "train_summary.json").exists():
            sup = [r for r in read_jsonl([rd / "suites.jsonl"], require=None) if r.get("completion")]
            if sup:
                _train_tester(s.tester_model, sup, rd / "tester", s.tester_sft)
        cur = _round_translator(base, out, k, lora)
        extra = {"round": k, "pairs": len(pairs), "pairs_total": len(all_pairs)}
        summary.append(evaluate_into(rd / "eval.json", cur, held, extra))
        _log(f"round {k}: pass@1 {summary[-1]['pass@1']:.3f} ({summary[-1]['passed']}/{summary[-1]['functions']})")
        if val:
            vals.append(evaluate_into(rd / "val.json", cur, val, extra))
            _log(f"round {k}: validation pass@1 {vals[-1]['pass@1']:.3f} ({vals[-1]['passed']}/{vals[-1]['functions']})")
    first = {r["id"]: r for r in summary[0]["rows"]}
    table = []
    for j, e in enumerate(summary):
        row = {"round": e["round"], "pass@1": e["pass@1"], "passed": e["passed"], "functions": e["functions"],
               "pairs": e.get("pairs"), "model": e["model"],
               # how many held-out functions get a different greedy answer than the starting model's
               "greedy_changed": sum(r.get("pragmas") != first.get(r["id"], {}).get("pragmas") for r in e["rows"]),
               "gained": sorted(r["id"] for r in e["rows"] if r["verified"] and not first.get(r["id"], {}).get("verified")),
               "lost": sorted(r["id"] for r in e["rows"] if not r["verified"] and first.get(r["id"], {}).get("verified"))}
        stats_path = out / f"round-{e['round']}" / "stats.json"
        if stats_path.exists():
            row["co_verify"] = {k2: v for k2, v in json.loads(stats_path.read_text()).items() if k2 != "by_family"}
        if j < len(vals):
            row["val_pass@1"], row["val_passed"], row["val_functions"] = vals[j]["pass@1"], vals[j]["passed"], vals[j]["functions"]
        table.append(row)
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

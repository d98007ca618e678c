"""Reward functions for RL (GRPO) whose signal comes from `paralift.sandbox.verify`.

    reward = SandboxReward(RewardConfig())
    reward(prompts, completions, source=[...], function=[...], language=[...], target=[...])
        -> [float | None, ...]

The callable has TRL's reward signature: `prompts` and `completions` (plain
strings or chat messages) plus the dataset's other columns as keyword lists.
Each completion goes through the same path as the LLM agent's samples
(`agents.extract.extract_code`, or `apply_directives` for the directive
prompt form, -> `check_signature` -> `build_translation_unit`; a plan
completion, `L1: parallel ...`, goes through `agents.plan.apply_plan`),
then all candidates of the batch are verified in parallel in the execution
pool (`sandbox.pool.verify_many`) on *hidden* tests: a suite built by the
tester agent (`agents.tester.build_suite`) with its own seed; the prompt never
contains it.

Reward levels (RewardConfig, defaults):

    no usable code (extraction / changed signature)   -1.0
    policy violation (timers, files, state, no omp...) -1.0
    nominal parallelism (sandbox.policy)                -1.0  (= a sequential answer: the policy rejects both;
                                                          also a verified candidate whose divided loops do
                                                          under 10% of the iterations at the hidden suite's
                                                          largest sizes)
    does not compile                                    -0.5
    compiles, wrong on a hidden test, crashes, races     0.0
    correct                                              1.0 + speed term
    sandbox infrastructure error                         None (no signal)

Speed term (correct candidates only): x = log(speedup), a dead zone
|x| < log(1 + dead_zone) -- widened to half the measurement's spread when the
timing was noisy -- gives 0, so timing noise around 1x is not amplified;
outside it the term grows linearly in |x| - dead and saturates at
+-speed_weight when the speedup reaches `saturate` (or 1/saturate). A correct
but slower candidate therefore still beats any wrong one.

Reward hacking guard (DESIGN.md §6): a speedup above the plausibility bound
(workers * 1.5 for OpenMP/MPI, `cuda_bound` for CUDA) is not rewarded. The
candidate is audited: re-verified on fresh inputs (a suite with another seed,
no timing); if it passes it gets correctness credit only (1.0), otherwise the
wrong-answer reward. Every audit is recorded in `reward.audits`.

Memo: the same program for the same function and target is verified and timed
once per run, not once per sample (`memo_path`: a JSONL file that a resumed
or repeated run with the same settings reads back). A small policy samples
a small set of programs again and again; without the memo almost every GRPO
step re-measures answers it has already measured, and two samples of one
program get two draws of the timing noise as if they differed. Outcomes the
sandbox could not judge (`None`) are never kept.

`None` is returned only when the sandbox could not judge (Verdict.status ==
"error": the reference cannot be built, a toolchain is missing, an internal
error), so TRL leaves such samples out of the advantage baseline instead of
treating them as zero.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any, Sequence

from paralift.types import Candidate, Target, Task, TestSuite, Verdict

__all__ = ["RewardConfig", "RewardInfo", "SandboxReward", "speed_term", "completion_text", "plausible_bound",
           "candidate_code", "call_summary", "largest_case_scalars", "read_memo"]


@dataclass
class RewardConfig:
    extract_fail: float = -1.0
    policy_fail: float = -1.0
    build_fail: float = -0.5
    wrong: float = 0.0
    correct: float = 1.0
    speed_weight: float = 0.5
    dead_zone: float = 0.10             # |speedup - 1| below ~10% earns no speed term
    saturate: float = 8.0               # the speed term saturates at this speedup (and its inverse)
    plausible_factor: float = 1.5       # OpenMP/MPI: audited above workers * factor
    cuda_bound: float = 1000.0          # CUDA: audited above this speedup
    timing: bool = True                 # measure speedup (False: correctness rewards only)
    timing_runs: int = 3
    timing_min_s: float = 0.05
    hidden_seed: int = 7919             # seed of the hidden suite (never shown to the model)
    audit_seed: int = 104729            # seed of the audit's fresh inputs
    workers: int | None = None          # parallel verifications (default: CPU count)
    calibrate: bool = True              # let the tester size its large case by timing the reference


@dataclass
class RewardInfo:
    kind: str                           # extract | policy | nominal | build | wrong | correct | audited | audit-failed | infra
    reward: float | None
    reason: str = ""
    speedup: float | None = None
    verdict: Verdict | None = None
    verified: bool | None = None        # set when the info comes from the memo (no Verdict object)
    memo: bool = False                  # judged in an earlier call (or run) of the same settings

    @property
    def passed(self) -> bool:
        return self.verdict.verified if self.verdict is not None else bool(self.verified)


def completion_text(completion: Any) -> str:
    """TRL passes strings (standard format) or message lists (conversational)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    if isinstance(completion, (list, tuple)):
        return "".join(completion_text(m) for m in completion if not isinstance(m, dict)
                       or m.get("role", "assistant") == "assistant")
    return str(completion)


def speed_term(speedup: float, cfg: RewardConfig, spread: float = 0.0) -> float:
    """The bounded, dead-zoned reward on log speedup (0 inside the dead zone)."""
    if speedup is None or not math.isfinite(speedup) or speedup <= 0:
        return 0.0
    x = math.log(speedup)
    dead = math.log1p(max(cfg.dead_zone, spread / 2.0))
    span = math.log(cfg.saturate) - dead
    if abs(x) <= dead or span <= 0:
        return 0.0
    frac = min(1.0, (abs(x) - dead) / span)
    return math.copysign(cfg.speed_weight * frac, x)


def plausible_bound(target: Target, workers: int, cfg: RewardConfig) -> float:
    if target == Target.CUDA:
        return cfg.cuda_bound
    return max(1, workers) * cfg.plausible_factor


class SandboxReward:
    """TRL reward callable: `(prompts, completions, **columns) -> list[float | None]`."""

    __name__ = "sandbox_reward"

    def __init__(self, config: RewardConfig | None = None, verify_options=None, quiet: bool = True,
                 form: str = "auto", tester_options=None, memo_path: str | Path | None = None,
                 memo: bool = True):
        from paralift.sandbox import VerifyOptions

        if form not in ("auto", "code", "directives", "plan"):
            raise ValueError("form must be auto, code, directives or plan")
        self.form = form
        self.cfg = config or RewardConfig()
        self.tester_options = tester_options      # agents.tester.TesterOptions for the hidden suites (seed replaced)
        self.options = verify_options or VerifyOptions(timing=self.cfg.timing, timing_runs=self.cfg.timing_runs,
                                                       timing_min_s=self.cfg.timing_min_s)
        self.quiet = quiet
        self.audits: list[dict] = []
        self.last: list[RewardInfo] = []
        self.history: list[dict] = []           # one summary per call (per GRPO generation step): call_summary()
        self.on_call = None                     # called with each summary (progress lines)
        self._tasks: dict[tuple, tuple[Task, TestSuite] | str] = {}
        self._lock = threading.Lock()
        self.use_memo = memo
        self.memo_path = Path(memo_path) if memo_path else None
        self._memo: dict[str, RewardInfo] = {}
        self.memo_hits = 0
        if memo and self.memo_path and self.memo_path.exists():
            self._memo.update(read_memo(self.memo_path, self._settings_key()))

    # ------------------------------------------------------------ the memo
    def _settings_key(self) -> str:
        """What a judgement depends on besides the program: the reward levels, the hidden suite's seed and the
        verification options (threads, ranks, timing protocol)."""
        opts = asdict(self.options) if is_dataclass(self.options) else repr(self.options)
        tester = asdict(self.tester_options) if is_dataclass(self.tester_options) else repr(self.tester_options)
        blob = json.dumps({"cfg": asdict(self.cfg), "options": opts, "tester": tester}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def memo_key(self, job) -> str:
        blob = "\0".join((self._settings_key(), job.task.language, job.task.source, job.task.function,
                          job.candidate.target.value, job.candidate.code))
        return hashlib.sha256(blob.encode()).hexdigest()

    def _remember(self, key: str, info: RewardInfo) -> None:
        if not self.use_memo or info.reward is None:      # not judged: ask again next time
            return
        self._memo[key] = RewardInfo(info.kind, info.reward, info.reason, info.speedup, None, info.passed, True)
        if self.memo_path:
            self.memo_path.parent.mkdir(parents=True, exist_ok=True)
            with self.memo_path.open("a") as f:
                f.write(json.dumps({"settings": self._settings_key(), "key": key, "kind": info.kind,
                                    "reward": info.reward, "reason": info.reason[:400], "speedup": info.speedup,
                                    "verified": info.passed}) + "\n")

    # ------------------------------------------------------------ tasks and hidden tests
    def task_and_suite(self, source: str, function: str, language: str, target: Target) -> tuple[Task, TestSuite]:
        """The task and its hidden suite (cached). Raises RuntimeError with the
        reason when the sequential code cannot serve as a reference."""
        from paralift.agents import AnalysisError, build_task
        from paralift.agents.tester import TesterError, VacuousSuite, build_suite
        from paralift.sandbox import ReferenceError

        key = (source, function, language, target.value)
        with self._lock:
            hit = self._tasks.get(key)
        if hit is None:
            try:
                task = build_task(source, language, function, target)
                rep = build_suite(task, self._tester_options(self.cfg.hidden_seed))
                hit = (task, rep.suite)
            except (AnalysisError, TesterError, VacuousSuite, ReferenceError) as e:
                hit = f"{type(e).__name__}: {e}"
            with self._lock:
                self._tasks[key] = hit
        if isinstance(hit, str):
            raise RuntimeError(hit)
        return hit

    def _tester_options(self, seed: int):
        import dataclasses

        from paralift.agents.tester import TesterOptions
        if self.tester_options is not None:
            return dataclasses.replace(self.tester_options, seed=seed)
        return TesterOptions(seed=seed, calibrate=self.cfg.calibrate)

    # ------------------------------------------------------------ the callable
    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **columns) -> list[float | None]:
        infos = self.score(completions, **columns)
        return [i.reward for i in infos]

    def score(self, completions: Sequence[Any], *, source: Sequence[str], function: Sequence[str] | None = None,
              language: Sequence[str] | None = None, target: Sequence[str] | None = None, **_ignored) -> list[RewardInfo]:
        from paralift.agents import NotParallelizable
        from paralift.agents.extract import ExtractionError
        from paralift.agents.overlap_guard import guard
        from paralift.sandbox.pool import Job, verify_many

        n = len(completions)
        infos: list[RewardInfo | None] = [None] * n
        jobs: list[Job] = []
        where: list[int] = []
        for k in range(n):
            lang = (language[k] if language else None) or "c"
            tgt = Target.parse(target[k]) if target and target[k] else Target.OPENMP
            fn = function[k] if function else None
            if not fn:
                fn = _only_function(source[k], lang)
            try:
                task, suite = self.task_and_suite(source[k], fn, lang, tgt)
            except RuntimeError as e:
                infos[k] = RewardInfo("infra", None, f"no reference/hidden tests: {e}")
                continue
            try:
                unit = candidate_code(task, tgt, completion_text(completions[k]), self.form)
            except ExtractionError as e:
                infos[k] = RewardInfo("extract", self.cfg.extract_fail, str(e))
                continue
            cand = Candidate(unit, tgt, agent="rl")
            try:
                # judged as paralift would write it: with the entry overlap check the pipeline adds to every
                # model candidate (the hidden tests make overlapping calls, DESIGN.md §3)
                cand = guard(task, cand)
            except NotParallelizable:
                pass            # no check can be added (or the text does not parse): judged as it is
            jobs.append(Job(task, cand, suite))
            where.append(k)
        if jobs:
            # the same program twice in a call (a group's samples often agree) is verified and timed once and
            # judged once: identical answers get identical rewards, not two draws of the timing noise
            first: dict[tuple, int] = {}
            for j, job in enumerate(jobs):
                first.setdefault((job.task.source, job.task.function, job.candidate.target.value,
                                  job.candidate.code), j)
            distinct = sorted(set(first.values()))
            keys = {j: self.memo_key(jobs[j]) for j in distinct}
            judged = {j: self._memo[keys[j]] for j in distinct if self.use_memo and keys[j] in self._memo}
            self.memo_hits += len(judged)
            todo = [j for j in distinct if j not in judged]
            verdicts = verify_many([jobs[j] for j in todo], self.options, workers=self.cfg.workers,
                                   label="rewards", quiet=self.quiet) if todo else []
            for j, v in zip(todo, verdicts):
                judged[j] = self._judge(jobs[j], v)
                self._remember(keys[j], judged[j])
            for k, job in zip(where, jobs):
                infos[k] = judged[first[(job.task.source, job.task.function, job.candidate.target.value,
                                         job.candidate.code)]]
        self.last = [i for i in infos if i is not None]
        self.history.append(call_summary(self.last, self.cfg, len(self.history) + 1))
        if self.on_call is not None:
            self.on_call(self.history[-1])
        return self.last

    # ------------------------------------------------------------ one verdict -> one reward
    def _judge(self, job, v: Verdict) -> RewardInfo:
        cfg = self.cfg
        if v.status == "error":
            return RewardInfo("infra", None, v.reason, verdict=v)
        if not v.policy_ok:
            # nominal parallelism (num_threads(1), one-thread launches, a parallel
            # loop beside a sequential heavier nest, MPI work on one rank) earns
            # what a sequential answer earns: policy rejects both
            nominal = any(p.startswith("nominal parallelism") for p in v.policy_violations)
            return RewardInfo("nominal" if nominal else "policy", cfg.policy_fail, v.reason, verdict=v)
        if not v.built:
            return RewardInfo("build", cfg.build_fail, v.reason, verdict=v)
        if not v.verified:
            return RewardInfo("wrong", cfg.wrong, v.reason, verdict=v)
        nominal = _nominal_at_size(job)
        if nominal:
            return RewardInfo("nominal", cfg.policy_fail, nominal, speedup=v.speedup, verdict=v)
        s = v.speedup
        if s is None:
            return RewardInfo("correct", cfg.correct, v.speedup_reason or "not timed", verdict=v)
        workers = v.timing.workers if v.timing and v.timing.workers else self.options.workers()
        bound = plausible_bound(v.target, workers, cfg)
        if s > bound:
            return self._audit(job, v, bound)
        spread = v.timing.spread if v.timing else 0.0
        return RewardInfo("correct", cfg.correct + speed_term(s, cfg, spread), f"speedup {s:g}", speedup=s, verdict=v)

    def _audit(self, job, v: Verdict, bound: float) -> RewardInfo:
        """A speedup beyond the plausibility bound: re-verify on fresh inputs;
        correctness credit only when it holds."""
        import dataclasses

        from paralift.agents.tester import build_suite
        from paralift.sandbox import verify

        record = {"function": job.task.function, "target": v.target.value, "speedup": v.speedup, "bound": bound}
        try:
            fresh = build_suite(job.task, self._tester_options(self.cfg.audit_seed)).suite
            again = verify(job.task, job.candidate, fresh, dataclasses.replace(self.options, timing=False))
        except Exception as e:  # noqa: BLE001 - the audit itself could not run: no signal
            record["result"] = f"audit error: {type(e).__name__}: {e}"
            self.audits.append(record)
            return RewardInfo("infra", None, record["result"], speedup=v.speedup, verdict=v)
        if again.status == "error":
            record["result"] = f"audit error: {again.reason}"
            self.audits.append(record)
            return RewardInfo("infra", None, record["result"], speedup=v.speedup, verdict=v)
        if again.verified:
            record["result"] = "correct on fresh inputs: correctness credit only"
            self.audits.append(record)
            return RewardInfo("audited", self.cfg.correct,
                              f"speedup {v.speedup:g} above the plausibility bound {bound:g}: audited, "
                              f"correctness credit only", speedup=v.speedup, verdict=again)
        record["result"] = f"failed on fresh inputs: {again.reason}"
        self.audits.append(record)
        return RewardInfo("audit-failed", self.cfg.wrong, record["result"], speedup=v.speedup, verdict=again)


def read_memo(path: Path, settings: str) -> dict[str, RewardInfo]:
    """The judgements a memo file holds for these settings (lines of other settings, or torn by a crash,
    are skipped)."""
    out: dict[str, RewardInfo] = {}
    for line in path.read_text().splitlines():
        try:
            r = json.loads(line)
            if r["settings"] == settings and r["reward"] is not None:
                out[r["key"]] = RewardInfo(r["kind"], float(r["reward"]), r.get("reason", ""), r.get("speedup"),
                                           None, bool(r.get("verified")), True)
        except (ValueError, KeyError, TypeError):
            continue
    return out


def largest_case_scalars(suite: TestSuite) -> dict:
    """The scalar arguments of the suite's largest case (most array elements)."""
    if not suite.cases:
        return {}
    big = max(suite.cases, key=lambda c: sum(a.count for a in c.arrays.values()))
    return dict(big.scalars)


def _nominal_at_size(job) -> str:
    """Why a verified candidate's parallelism is nominal at the hidden suite's
    largest sizes (its divided loops do a negligible share of the iterations,
    sandbox.policy.nominal_parallelism), or ''. The static checks without
    sizes already ran in verification's policy step."""
    from paralift.sandbox.policy import nominal_parallelism
    return nominal_parallelism(job.candidate.code, job.candidate.target, job.task.language, job.task.source,
                               job.task.function, scalars=largest_case_scalars(job.tests))


def call_summary(infos: Sequence[RewardInfo], cfg: RewardConfig, call: int) -> dict:
    """What one batch of rewards says: mean reward, verified rate, geometric
    mean speedup of the verified candidates that were timed, and how many
    candidates were rewarded above the wrong-answer level without being
    verified (must stay 0: the audit's and the gates' job)."""
    judged = [i for i in infos if i.reward is not None]
    ok = [i for i in judged if i.passed]
    timed = [i.speedup for i in ok if i.speedup and i.speedup > 0 and math.isfinite(i.speedup)]
    wrong_rewarded = [i for i in judged if i.reward > cfg.wrong and not i.passed]
    kinds: dict[str, int] = {}
    for i in infos:
        kinds[i.kind] = kinds.get(i.kind, 0) + 1
    return {"call": call, "completions": len(infos),
            "mean_reward": round(sum(i.reward for i in judged) / len(judged), 4) if judged else None,
            "verified_rate": round(len(ok) / len(infos), 4) if infos else None,
            "mean_speedup": round(math.exp(sum(math.log(x) for x in timed) / len(timed)), 4) if timed else None,
            "timed": len(timed), "wrong_but_rewarded": len(wrong_rewarded),
            "from_memo": sum(1 for i in infos if i.memo),
            "wrong_but_rewarded_reasons": [f"{i.kind}: {i.reason[:120]}" for i in wrong_rewarded], "kinds": kinds}


_DIRECTIVE_LINE = re.compile(r"^\s*L\d+(\.body)?\s*:\s*#\s*pragma\b")


def candidate_code(task: Task, target: Target, text: str, form: str = "auto") -> str:
    """The translation unit a completion stands for, built the way the LLM
    agent builds it (agents.llm.LLMTranslator.propose): a code completion is
    extracted (`extract_code`), a directive completion (`L1: #pragma omp ...`,
    the "directives" prompt form) is applied to the original function
    (`apply_directives`); the signature must be kept; OpenMP/MPI code is
    spliced into the original file (`build_translation_unit`). Raises
    ExtractionError with the reason the completion is unusable."""
    from paralift.agents.extract import (ExtractionError, apply_directives, build_translation_unit, check_signature,
                                         extract_code)
    from paralift.agents.prompts import function_source

    from paralift.agents.base import NotParallelizable
    from paralift.agents.plan import apply_plan, looks_like_plan

    if form == "auto":
        form = "directives" if _DIRECTIVE_LINE.match(text.lstrip("\n")) else \
            "plan" if looks_like_plan(text) else "code"
    if form == "plan":
        try:
            return apply_plan(task, text, target)[0]
        except NotParallelizable as e:
            raise ExtractionError(f"the plan cannot be carried out: {e}") from None
    if form == "directives":
        if target != Target.OPENMP:
            raise ExtractionError("directive completions are for OpenMP only")
        code = apply_directives(function_source(task), text)
    else:
        code = extract_code(text, task.language, task.function)
    bad = check_signature(code, task.signature, task.language)
    if bad:
        raise ExtractionError(bad)
    return build_translation_unit(task, code, target)


def _only_function(source: str, language: str) -> str:
    from paralift.agents import list_functions
    names = [s.name for s in list_functions(source, language) if s.name != "main"]
    if len(names) != 1:
        raise ValueError(f"the source defines {len(names)} functions; give the `function` column")
    return names[0]


"""The LLM translator agent: prompt -> samples -> extracted, checked candidates.

    agent = LLMTranslator.create("hf", "data/models/paralift-tiny", samples=4)
    candidates = agent.propose(task, Target.OPENMP)

Each completion is turned into a candidate by `paralift.agents.extract`: the
code is pulled out of the completion, its signature compared with the
original's (a changed signature drops the sample, with the reason kept in
`agent.dropped`), and, for OpenMP/MPI, the model's function is spliced into
the original file; for CUDA the model's .cu is used (`extern "C"` ensured for
C input). Models whose paralift.json declares `"prompt_format": "directives"`
(the bundled paralift-tiny) see the function with numbered loops and answer
with directive lines (`L1: #pragma omp parallel for`), which are inserted
into the original function (`extract.apply_directives`). Models declaring
`"prompt_format": "plan"` answer with a plan for any target (`L1: parallel
reduction(+:s)`, agents.plan) that the target's code generator carries out. When no sample survives, `propose` raises NotParallelizable with
the commonest reason, which the pipeline reports.

`build_agents` is what `paralift translate` uses to pick its agents: the
settings (CLI > env > config > defaults, see paralift.config) name the
backends, by default the rule-based agent *and* the hf one; an LLM backend
that was only defaulted and is unavailable (no bundled model yet, torch not
installed) is skipped with a note, while one the user asked for is an error
(exit 2).
"""
from __future__ import annotations

import collections
import importlib.util
import json
import sys
import time
from pathlib import Path

from paralift.config import BUNDLED_MODEL_HINT, Settings, load_settings
from paralift.errors import UsageError
from paralift.types import Candidate, Target, Task

from .base import NotParallelizable
from .extract import ExtractionError, apply_directives, build_translation_unit, check_signature, extract_code
from .plan import apply_plan, parse_plan
from .prompts import (STOP, compact_prompt, directive_prompt, function_source, plan_prompt, translator_messages,
                      translator_prompt)
from .providers import GenerationRequest, Provider, ProviderError, make_provider

__all__ = ["LLMTranslator", "LLMUnavailable", "build_agents", "PROMPT_FORMS"]

PROMPT_FORMS = ("chat", "plain", "compact", "directives", "plan")


class LLMUnavailable(UsageError):
    """An LLM backend cannot be used as configured (one line, exit 2)."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def _log(msg: str) -> None:
    print(f"paralift: {msg}", file=sys.stderr, flush=True)


class LLMTranslator:
    """A translator agent backed by a model provider."""

    def __init__(self, provider: Provider, *, samples: int = 1, temperature: float | None = None,
                 top_p: float = 0.95, max_tokens: int = 1024, seed: int | None = None, adapter: str | None = None,
                 prompt_style: str = "auto", strict: bool = True, name: str | None = None, quiet: bool = False):
        if prompt_style not in PROMPT_FORMS + ("auto",):
            raise ValueError("prompt_style must be auto, chat, plain, compact, directives or plan")
        self.provider = provider
        self.name = name or provider.name
        self.samples = max(1, int(samples))
        self.temperature = (0.0 if self.samples == 1 else 0.8) if temperature is None else float(temperature)
        self.top_p = top_p
        self.max_tokens = max_tokens
        self.seed = seed
        self.adapter = adapter
        self.prompt_style = prompt_style
        self.strict = strict
        self.quiet = quiet
        self.dropped: list[tuple[str, str]] = []          # (function, reason) of every dropped sample
        self.stats = {"calls": 0, "completions": 0, "candidates": 0, "generate_s": 0.0, "completion_tokens": 0}

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, backend: str, model: str | None = None, samples: int | None = None, *,
               settings: Settings | None = None, strict: bool | None = None) -> "LLMTranslator":
        """The agent for `backend` as the CLI/env/config settings say; `model`
        and `samples` are command-line values (None: not given). Raises
        LLMUnavailable with a one-line reason."""
        backend = backend.strip().lower()
        if strict is None:      # named directly: failures are the user's to see
            strict = True if settings is None else settings.backends_explicit
        if settings is None:
            settings = load_settings(model=model, samples=samples)
        else:
            if model:
                settings.model = model
            if samples:
                settings.samples = samples
        if backend == "hf":
            missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
            if missing:
                raise LLMUnavailable(f"backend hf needs {' and '.join(missing)}: pip install 'paralift[llm]'")
            mdl = settings.model_for("hf")
            if mdl is None:
                raise LLMUnavailable(BUNDLED_MODEL_HINT)
            if not Path(mdl).expanduser().exists() and (mdl.count("/") != 1 or mdl.startswith((".", "/", "~"))):
                raise LLMUnavailable(f"hf: no model at {mdl} (pass --model with a local transformers model folder)")
        elif backend == "vllm":
            if importlib.util.find_spec("vllm") is None:
                raise LLMUnavailable("backend vllm needs the vllm package: pip install 'paralift[vllm]'")
            mdl = settings.model_for("vllm")
            if mdl is None:
                raise LLMUnavailable("backend vllm needs --model (a local model folder or id)")
        elif backend == "openai":
            mdl = settings.model
        else:
            raise LLMUnavailable(f"unknown LLM backend {backend!r} (choose hf, vllm or openai)")
        options: dict = {}
        if backend == "hf" and settings.device:
            options["device"] = settings.device
        if backend == "openai":
            options.update(api=settings.api, timeout=settings.timeout, retries=settings.retries)
        try:
            provider = make_provider(backend, mdl, endpoint=settings.endpoint, api_key=settings.api_key,
                                     adapters=settings.adapters or None, cache=settings.cache,
                                     cache_dir=settings.cache_dir, **options)
        except ProviderError as e:
            raise LLMUnavailable(str(e)) from None
        return cls(provider, samples=settings.samples, temperature=settings.temperature, top_p=settings.top_p,
                   max_tokens=settings.max_tokens, seed=settings.seed, adapter=settings.adapter,
                   prompt_style=settings.prompt, strict=strict)

    @property
    def model(self) -> str:
        try:
            m = self.provider.model
        except ProviderError:
            m = "?"
        return m + (f"+{self.adapter}" if self.adapter else "")

    # ------------------------------------------------------------------ prompting
    def prompt_form(self) -> str:
        """chat | plain | compact | directives | plan: what the settings say, else what
        the model declares (paralift.json), else chat when it has a chat template."""
        if self.prompt_style != "auto":
            return self.prompt_style
        declared = self.provider.model_info().get("prompt_format")
        if declared in PROMPT_FORMS:
            return declared
        return "chat" if self.provider.has_chat_template() else "plain"

    def use_chat(self) -> bool:
        return self.prompt_form() == "chat"

    def request(self, task: Task, target: Target) -> tuple[GenerationRequest, str]:
        """The generation request for `task` and the prompt text recorded on candidates."""
        common = dict(n=self.samples, temperature=self.temperature, top_p=self.top_p if self.temperature else 1.0,
                      max_tokens=self.max_tokens, seed=self.seed, adapter=self.adapter)
        form = self.prompt_form()
        if form == "chat":
            messages = translator_messages(task, target)
            return GenerationRequest(messages=messages, **common), json.dumps(messages)
        if form == "directives":
            if target != Target.OPENMP:
                raise NotParallelizable(f"{self.name} model {self.model} writes OpenMP directives only, "
                                        f"not {target.value}")
            prompt = directive_prompt(function_source(task), target, task.language)
            common["max_tokens"] = min(self.max_tokens, 256)     # a few directive lines, never a function
        elif form == "plan":
            prompt = plan_prompt(task.source, task.function, target, task.language)
            common["max_tokens"] = min(self.max_tokens, 256)     # a few plan lines
        elif form == "compact":
            prompt = compact_prompt(function_source(task), target, task.language)
        else:
            prompt = translator_prompt(task, target)
        return GenerationRequest(prompt=prompt, stop=list(STOP), **common), prompt

    def check_scope(self, task: Task, target: Target) -> None:
        """A model that declares its targets/languages is not asked for others."""
        info = self.provider.model_info()
        targets, langs = info.get("targets"), info.get("languages")
        if targets and target.value not in targets:
            raise NotParallelizable(f"{self.name} model {self.model} is trained for {', '.join(targets)} only, "
                                    f"not {target.value}")
        if langs and task.language not in langs:
            raise NotParallelizable(f"{self.name} model {self.model} is trained on {', '.join(langs)} input only")

    # ------------------------------------------------------------------ the agent
    def propose(self, task: Task, target: Target) -> list[Candidate]:
        self.check_scope(task, target)
        try:
            req, prompt_text = self.request(task, target)
            if not self.quiet:
                _log(f"{self.name}: sampling {req.n} completion(s) for {task.function} from {self.model}")
            t0 = time.perf_counter()
            outs = self.provider.generate(req)
            self.stats["generate_s"] += time.perf_counter() - t0
        except ProviderError as e:
            if self.strict:
                raise LLMUnavailable(str(e)) from None
            raise NotParallelizable(f"{self.name} agent unavailable: {e}") from None
        self.stats["calls"] += 1
        self.stats["completions"] += len(outs)
        self.stats["completion_tokens"] += sum(c.completion_tokens for c in outs)
        candidates: list[Candidate] = []
        seen: set[str] = set()
        reasons: list[str] = []
        form = self.prompt_form()
        for k, comp in enumerate(outs):
            answer = ""
            try:
                if form == "plan":   # the completion is a plan; the target's code generator carries it out
                    try:
                        unit = apply_plan(task, comp.text, target)[0]
                        answer = "; plan: " + " | ".join(str(parse_plan(comp.text)).splitlines())
                    except NotParallelizable as e:
                        raise ExtractionError(f"the plan cannot be carried out: {e}") from None
                else:
                    if form == "directives":   # the completion lists pragmas; they go into the original function
                        code = apply_directives(function_source(task), comp.text)
                    else:
                        code = extract_code(comp.text, task.language, task.function)
                    bad = check_signature(code, task.signature, task.language)
                    if bad:
                        raise ExtractionError(bad)
                    unit = build_translation_unit(task, code, target)
            except ExtractionError as e:
                reason = str(e)
                if comp.finish_reason == "length":
                    reason += f" (the sample hit max_tokens={self.max_tokens})"
                reasons.append(reason)
                self.dropped.append((task.function, reason))
                continue
            if unit in seen:
                continue
            seen.add(unit)
            candidates.append(Candidate(unit, target, agent=self.name, model=self.model, prompt=prompt_text,
                                        notes=f"sample {k + 1}/{len(outs)}{answer}"))
        self.stats["candidates"] += len(candidates)
        if not candidates:
            common, count = collections.Counter(reasons).most_common(1)[0] if reasons else ("no completion", 0)
            raise NotParallelizable(f"{self.name} model {self.model}: none of {len(outs)} sample(s) gave a "
                                    f"usable candidate ({count}x: {common})")
        return candidates


def build_agents(backends: list[str] | None = None, model: str | None = None, samples: int | None = None,
                 settings: Settings | None = None) -> tuple[list, list[str]]:
    """The translator agents `paralift translate` runs, and notes for the report.

    Backends come from the settings (CLI `backends` > PARALIFT_BACKEND >
    config > the default ["rule", "hf"]). An LLM backend the user named and
    that cannot run raises LLMUnavailable (exit 2); a defaulted one is skipped
    with a note (e.g. until the bundled model is installed)."""
    if settings is None:
        settings = load_settings(backends=backends or None, model=model, samples=samples)
    agents, notes = [], []
    for b in settings.backends:
        if b == "rule":
            from paralift.agents import RuleBasedTranslator
            agents.append(RuleBasedTranslator())
            continue
        try:
            agents.append(LLMTranslator.create(b, settings=settings))
        except LLMUnavailable as e:
            if settings.backends_explicit:
                raise
            notes.append(f"the {b} LLM agent was not used: {e}")
    if not agents:
        raise LLMUnavailable("no translator agent is available: " + "; ".join(notes))
    return agents, notes

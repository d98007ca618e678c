"""Generation throughput of the hf provider and time-to-first-candidate of translate.

    .venv/bin/python benchmarks/bench_llm.py [--model PATH] [--tokens 128] [--samples 8] [--input examples/saxpy.c]

Model: --model, else the bundled data/models/paralift-tiny; while that is not
installed, a randomly initialised stand-in of the same size class is built in
a temporary folder and the table says so (its text is noise, its speed is
what a model of that shape costs on this CPU). Needs `pip install '.[llm]'`.

Time-to-first-candidate: (1) each agent from a cold process (imports, agent
creation, model load, analysis, prompting, generation, extraction) to its
first candidate (or the reason it gave none); (2) the real command
`paralift translate INPUT --to TARGET --backend hf --samples N --json`, from
its start to the moment it has its candidates (its "candidate(s) for ...;
verifying" progress line), and to its end, with the report's per-agent counts
of samples, candidates and verdicts.
Throughput: completion tokens / wall time (a) on the prompt the agent really
sends (for the bundled model, the directive format: completions are short and
stop at the closing fence), greedy n=1 and batched sampling n=--samples, and
(b) raw decoding with exactly --tokens new tokens forced (min_new_tokens).
Not a test: timings on a shared 2-core machine are noisy.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stand_in_model(folder: Path) -> Path:
    from paralift.agents.providers import make_tiny_model
    texts = [p.read_text() for p in sorted((ROOT / "data" / "kernels").glob("*.c*"))]
    texts += [p.read_text() for p in sorted((ROOT / "examples").glob("*.c"))]
    # roughly the size class intended for the bundled model (a few million parameters)
    return make_tiny_model(folder / "stand-in", texts, vocab_size=2048, hidden=256, layers=4, heads=4, context=2048)


def time_to_first_candidate(model: str, path: str, target_name: str, tokens: int) -> list:
    """Run in a fresh process: [(agent, seconds, what)]."""
    rows = []
    t0 = time.perf_counter()
    from paralift.agents import build_task, detect_language, list_functions
    from paralift.agents.base import NotParallelizable
    from paralift.types import Target
    target = Target.parse(target_name)
    src = Path(path).read_text()
    lang = detect_language(path, src)
    fn = next(s.name for s in list_functions(src, lang) if s.name != "main")
    try:
        from paralift.agents import RuleBasedTranslator
        task = build_task(src, lang, fn, target, path)
        try:
            what = f"{len(RuleBasedTranslator().propose(task, target))} candidate(s)"
        except NotParallelizable as e:
            what = f"none: {e}"
    except ImportError as e:
        what = f"unavailable: {e}"
    rows.append(("rule", time.perf_counter() - t0, what))
    t0 = time.perf_counter()
    from paralift.agents.llm import LLMTranslator
    task = build_task(src, lang, fn, target, path)
    agent = LLMTranslator.create("hf", model, 1)
    agent.quiet, agent.max_tokens = True, tokens
    try:
        what = f"{len(agent.propose(task, target))} candidate(s)"
    except NotParallelizable:
        what = f"dropped: {agent.dropped[-1][1]}" if agent.dropped else "no completion"
    rows.append(("hf", time.perf_counter() - t0, what))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--input", default=str(ROOT / "examples" / "saxpy.c"))
    ap.add_argument("--target", default="openmp")
    ap.add_argument("--_ttfc", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._ttfc:
        import json
        print(json.dumps(time_to_first_candidate(args.model, args.input, args.target, args.tokens)))
        return 0

    t_start = time.perf_counter()
    from paralift.agents import build_task, detect_language, list_functions
    from paralift.agents.base import NotParallelizable
    from paralift.agents.llm import LLMTranslator
    from paralift.agents.providers import GenerationRequest, HFProvider
    from paralift.config import bundled_model_path
    from paralift.types import Target

    target = Target.parse(args.target)
    model, label = args.model, args.model
    tmp = None
    if model is None:
        if bundled_model_path().exists():
            model, label = str(bundled_model_path()), "bundled paralift-tiny"
        else:
            tmp = tempfile.TemporaryDirectory(prefix="paralift-bench-")
            model = str(stand_in_model(Path(tmp.name)))
            label = "random-init stand-in (bundled model not installed)"
    src = Path(args.input).read_text()
    lang = detect_language(args.input, src)
    fn = next(s.name for s in list_functions(src, lang) if s.name != "main")

    # ---------------------------------------------------------------- time to first candidate
    print(f"model: {label}")
    print(f"input: {args.input} ({fn}), target {target.value}; load average {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} CPUs", flush=True)
    import json
    import subprocess
    out = subprocess.run([sys.executable, __file__, "--_ttfc", "--model", model, "--input", args.input,
                          "--target", args.target, "--tokens", str(args.tokens)],
                         capture_output=True, text=True, check=True).stdout
    rows = json.loads(out.strip().splitlines()[-1])
    print("\ntime to first candidate, each agent from a cold process (imports, agent creation, model load, "
          "analysis, prompt, generation, extraction)")
    for name, secs, what in rows:
        print(f"  {name:<8}{secs:8.2f} s   {what}")
    print(f"\n`paralift translate {Path(args.input).name} --to {target.value} --backend hf --samples {args.samples} "
          f"--json` (model {label})")
    with tempfile.TemporaryDirectory(prefix="paralift-bench-tr-") as td:
        cmd = [sys.executable, "-m", "paralift.cli", "translate", args.input, "--to", target.value, "--backend", "hf",
               "--samples", str(args.samples), "--json", "-o", str(Path(td) / ("out" + Path(args.input).suffix))]
        if args.model:
            cmd += ["--model", model]
        env = dict(os.environ)
        if tmp is not None:
            env["PARALIFT_MODEL"] = model
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        first = None
        err_lines = []
        for line in proc.stderr:
            err_lines.append(line.rstrip())
            if first is None and "candidate(s) for" in line:
                first = time.perf_counter() - t0
        stdout = proc.stdout.read()
        proc.wait()
        total = time.perf_counter() - t0
    try:
        rep = json.loads(stdout)
    except ValueError:
        rep = {}
        print("  no JSON report; stderr tail: " + " | ".join(err_lines[-3:]))
    print(f"  candidates ready after {first:.2f} s" if first is not None else "  no candidate line seen")
    print(f"  finished after {total:.2f} s (exit {proc.returncode}, status {rep.get('status')}; "
          "includes verification and speedup timing)")
    for name, st in (rep.get("agents") or {}).items():
        print(f"  agent {name}: {st}")

    task = build_task(src, lang, fn, target, args.input)
    agent = LLMTranslator.create("hf", model, 1)
    agent.provider.inner._load()

    # ---------------------------------------------------------------- throughput
    prov: HFProvider = agent.provider.inner
    req0, prompt = agent.request(task, target)
    import torch
    params = sum(p.numel() for p in prov._lm.parameters())
    plen = len(prov._tok(prompt)["input_ids"])
    print(f"\nthroughput: {label}, {params / 1e6:.2f} M parameters, {agent.prompt_form()} prompt of {plen} tokens, "
          f"torch {torch.__version__} on {prov._device} with {torch.get_num_threads()} thread(s)")
    for n, temp in ((1, 0.0), (args.samples, 0.8)):
        rates, firsts, lens = [], [], []
        for r in range(args.repeats):
            req = GenerationRequest(prompt=prompt, n=n, temperature=temp, seed=r if temp else None,
                                    max_tokens=args.tokens, top_p=0.95 if temp else 1.0, stop=list(req0.stop))
            t0 = time.perf_counter()
            outs = prov.generate(req)
            dt = time.perf_counter() - t0
            toks = sum(c.completion_tokens for c in outs) if temp else outs[0].completion_tokens
            rates.append(toks / dt)
            firsts.append(dt)
            lens.append(toks / (n if temp else 1))
        kind = "as used, greedy n=1" if n == 1 else f"as used, sampled n={n}"
        print(f"  {kind:<28}{statistics.median(rates):10.1f} tokens/s   (median of {args.repeats}; "
              f"{statistics.median(firsts):.2f} s per request, {statistics.median(lens):.0f} tokens per completion)")
    ids = prov._tok(prompt, return_tensors="pt")["input_ids"].to(prov._device)
    for n in (1, args.samples):
        rates, firsts = [], []
        for r in range(args.repeats):
            torch.manual_seed(r)
            t0 = time.perf_counter()
            with torch.inference_mode():
                seqs = prov._lm.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=n > 1,
                                         num_return_sequences=n, max_new_tokens=args.tokens,
                                         min_new_tokens=args.tokens, pad_token_id=prov._tok.pad_token_id)
            dt = time.perf_counter() - t0
            rates.append(n * (seqs.shape[1] - ids.shape[1]) / dt)
            firsts.append(dt)
        kind = f"raw decode n={n}, {args.tokens} tokens"
        print(f"  {kind:<28}{statistics.median(rates):10.1f} tokens/s   (median of {args.repeats}; "
              f"{statistics.median(firsts):.2f} s per request)")
    print(f"\ntotal {time.perf_counter() - t_start:.1f} s")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

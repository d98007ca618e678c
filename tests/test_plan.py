"""Parallelization plans (agents.plan): one language for OpenMP, MPI and CUDA,
applied by the code generators; the rule agent's decision is a plan."""
from pathlib import Path

import pytest

from paralift.agents import AnalysisError, NotParallelizable, RuleBasedTranslator, build_task
from paralift.agents import first_match
from paralift.agents.analysis import analyze
from paralift.agents.plan import PlanError, apply_plan, number_loops, parse_plan, rule_plan
from paralift.sandbox import VerifyOptions, verify
from paralift.sandbox.toolchains import detect
from paralift.types import Candidate, Target

ROOT = Path(__file__).resolve().parents[1]
MATVEC = (ROOT / "data/kernels/matvec.c").read_text()

TWO_LOOPS = """void two(int n, const double *x, double *y, double *z)
{
    for (int i = 0; i < n; i++)
        y[i] = 2.0 * x[i];
    for (int i = 0; i < n; i++)
        z[i] = x[i] + 1.0;
}
"""


def test_parse_and_print_round_trip():
    p = parse_plan("```\nL2: parallel  reduction(+:s, t) schedule(guided)\n\nL1: parallel collapse(2) nosimd\n```")
    assert str(p) == "L1: parallel collapse(2) nosimd\nL2: parallel schedule(guided) reduction(+:s,t)"
    assert str(parse_plan(str(p))) == str(p)
    assert p.loops[1].reductions == (("+", "s"), ("+", "t"))


@pytest.mark.parametrize("text, why", [
    ("L1: #pragma omp parallel for", "not a plan line"), ("L1: parallel tile(8)", "unknown clause"),
    ("L1: parallel\nL1: parallel collapse(2)", "planned twice"), ("L1: parallel collapse(3)", "collapse(3)"),
    ("L1: parallel schedule(dynamic)", "schedule(dynamic)"), ("L1: parallel reduction(avg:s)", "reduction"),
    ("", "names no loop"),
])
def test_bad_plans_are_named(text, why):
    with pytest.raises(PlanError, match=r"(?i)" + __import__("re").escape(why)):
        parse_plan(text)


def test_loops_are_numbered_in_source_order():
    fx = analyze(MATVEC, "c", "matvec")
    text = number_loops(fx)
    assert text.index("/*L1*/ for (int i") < text.index("/*L2*/ for (int j")


def _kernels():
    from paralift.data import generator
    from paralift.eval import suites
    out = [(generator.generate(f, 0).source, generator.generate(f, 0).function, "c") for f in generator.FAMILIES]
    return out + [(t.source, t.function, t.language) for t in suites.load_suite("builtin").tasks]


def test_the_rule_agents_decision_is_a_plan_that_reproduces_its_candidate():
    """For every generator family and builtin kernel and every target, the
    rule agent's plan, printed and parsed back, gives its candidate exactly."""
    checked = 0
    for src, fn, lang in _kernels():
        for tg in Target:
            try:
                task = build_task(src, lang, fn, tg)
                rule = RuleBasedTranslator().propose(task, tg)[0]
            except (AnalysisError, NotParallelizable):
                continue
            if first_match.NOTE in rule.notes:      # rewritten before analysis: not a plan over the source's loops
                continue
            planned = rule_plan(task, tg)
            if planned is None:     # a scan-only function (agents/scan.py): the plan language has no scans yet
                continue
            plan = parse_plan(str(planned))
            code, notes = apply_plan(task, plan, tg)
            assert code == rule.code, (fn, tg.value, str(plan))
            checked += 1
    assert checked > 150


def test_plans_only_select_what_the_analysis_proved():
    task = build_task(MATVEC, "c", "matvec", Target.OPENMP)
    with pytest.raises(PlanError, match="L2 sits inside L1"):
        apply_plan(task, "L1: parallel\nL2: parallel", Target.OPENMP)
    with pytest.raises(PlanError, match="has 2 loop"):
        apply_plan(task, "L3: parallel", Target.OPENMP)
    with pytest.raises(PlanError, match=r"reductions are reduction\(\+:acc\)"):
        apply_plan(task, "L2: parallel reduction(*:acc)", Target.OPENMP)
    with pytest.raises(PlanError, match="collapse"):
        apply_plan(task, "L1: parallel collapse(2)", Target.CUDA)
    with pytest.raises(PlanError, match="OpenMP clauses"):
        apply_plan(task, "L1: parallel schedule(guided)", Target.MPI)
    rec = "void rec(int n, double *y) {\n  for (int i = 1; i < n; i++) y[i] += y[i - 1];\n}\n"
    with pytest.raises(PlanError, match="L1 .* is not provably parallel"):
        apply_plan(build_task(rec, "c", "rec", Target.OPENMP), "L1: parallel", Target.OPENMP)


def test_openmp_clauses_reach_the_code():
    task = build_task(MATVEC, "c", "matvec", Target.OPENMP)
    code, _ = apply_plan(task, "L1: parallel schedule(guided) nosimd", Target.OPENMP)
    assert "#pragma omp parallel for schedule(guided)" in code and "simd" not in code
    code, _ = apply_plan(task, "L2: parallel reduction(+:acc)", Target.OPENMP)
    assert "#pragma omp parallel for simd reduction(+:acc)\n        for (int j" in code


@pytest.mark.parametrize("target, source, function, plan, needle", [
    (Target.OPENMP, MATVEC, "matvec", "L2: parallel reduction(+:acc)", "reduction(+:acc)"),
    (Target.MPI, TWO_LOOPS, "two", "L2: parallel", "MPI_"),
    (Target.CUDA, MATVEC, "matvec", "L2: parallel reduction(+:acc)", "<<<"),
])
def test_a_plan_other_than_the_rule_agents_verifies(target, source, function, plan, needle):
    if target == Target.MPI and not detect().mpicc.found:
        pytest.skip("needs mpicc")
    task = build_task(source, "c", function, target)
    code, _ = apply_plan(task, plan, target)
    assert code != RuleBasedTranslator().propose(task, target)[0].code and needle in code
    v = verify(task, Candidate(code, target, agent="plan"), options=VerifyOptions(timing=False))
    assert v.verified, v.reason


# ------------------------------------------------------------------ the plan answer format (LLM agent, SFT, reward)

SAXPY = (ROOT / "examples" / "saxpy.c").read_text()


def test_an_llm_that_answers_plans_gets_candidates_for_every_target():
    from paralift.agents.llm import LLMTranslator
    from paralift.agents.providers import Completion, Provider

    class PlanModel(Provider):
        """Replays fixed plan answers (the agent's handling is under test, not a model)."""
        name, model = "scripted", "plan-v1"

        def __init__(self, texts):
            self.texts = texts

        def has_chat_template(self):
            return False

        def model_info(self):
            return {"prompt_format": "plan", "targets": ["openmp", "mpi", "cuda"], "languages": ["c"]}

        def generate(self, request):
            return [Completion(self.texts[k % len(self.texts)], "stop", 10, 20) for k in range(request.n)]

    for tg in Target:
        task = build_task(SAXPY, "c", "saxpy", tg, "examples/saxpy.c")
        agent = LLMTranslator(PlanModel(["L1: parallel\n```", "L2: parallel\n```"]), samples=2, quiet=True)
        [c] = agent.propose(task, tg)
        assert c.prompt.endswith(" plan\n```\n") and "/*L1*/ for (int i = 0; i < n; i++)" in c.prompt
        assert c.code == RuleBasedTranslator().propose(task, tg)[0].code      # saxpy's rule plan is L1
        assert any("has 1 loop" in r for _, r in agent.dropped)


def test_plan_examples_for_sft():
    from paralift.training.sft import example_from_record
    rec = {"source": MATVEC, "function": "matvec", "target": "cuda", "reference": "x", "verified": True,
           "plan": "L1: parallel"}
    ex = example_from_record(rec, "plan")
    assert "/*L2*/ for (int j" in ex["prompt"] and ex["prompt"].endswith("### CUDA plan\n```\n")
    assert ex["completion"] == "L1: parallel\n```"
    assert example_from_record({**rec, "plan": ""}, "plan") is None


def test_the_reward_judges_plan_completions():
    from paralift.training.rewards import RewardConfig, SandboxReward
    reward = SandboxReward(RewardConfig(timing=False))
    comps = ["L1: parallel\n```", "L1: parallel\n```", "L2: parallel\n```"]
    rewards = reward(["p"] * 3, comps, source=[SAXPY] * 3, function=["saxpy"] * 3, language=["c"] * 3,
                     target=["openmp", "mpi", "openmp"])
    kinds = [i.kind for i in reward.last]
    assert kinds == ["correct", "correct", "extract"], [(i.kind, i.reason) for i in reward.last]
    assert rewards[0] == rewards[1] == reward.cfg.correct and rewards[2] == reward.cfg.extract_fail

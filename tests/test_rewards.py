"""Reward functions for RL: real sandbox verdicts for correct, slow, wrong,
cheating, crashing and broken candidates (paralift.training.rewards)."""
import pytest

from paralift.training.rewards import RewardConfig, SandboxReward, completion_text, speed_term

VEC_ADD = open(__import__("pathlib").Path(__file__).resolve().parent.parent / "data/kernels/vec_add.c").read()

CORRECT = """```c
void vec_add(int n, const double *a, const double *b, double *c)
{
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < n; ++i)
        c[i] = a[i] + b[i];
}
```"""

# Correct, but deliberately does the work 12 times over, one element per
# dynamically scheduled chunk (on one thread it would be nominal: see NOMINAL).
SLOW = """```c
void vec_add(int n, const double *a, const double *b, double *c)
{
    for (int r = 0; r < 12; ++r) {
        #pragma omp parallel for schedule(dynamic, 1)
        for (int i = 0; i < n; ++i)
            c[i] = a[i] + b[i];
    }
}
```"""
# Correct and effectively sequential: what a sequential answer earns, no more.
NOMINAL = CORRECT.replace("schedule(static)", "schedule(static) num_threads(1)")

WRONG = CORRECT.replace("a[i] + b[i]", "a[i] - b[i]")

# Cheats: skip the work on large inputs (fast when timed) ...
EARLY_RETURN = CORRECT.replace("{\n    #pragma", "{\n    if (n > 1000)\n        return;\n    #pragma")
# ... remember the last inputs and skip recomputing them (state between calls) ...
CACHE_BY_POINTER = """```c
void vec_add(int n, const double *a, const double *b, double *c)
{
    static const double *last_a = 0;
    static int last_n = -1;
    if (a == last_a && n == last_n)
        return;
    last_a = a;
    last_n = n;
    #pragma omp parallel for
    for (int i = 0; i < n; ++i)
        c[i] = a[i] + b[i];
}
```"""
# ... and hand back the sequential reference unchanged.
COPY_REFERENCE = "```c\n" + VEC_ADD + "```"

CRASH = CORRECT.replace("{\n    #pragma", "{\n    double *p = 0;\n    if (n > 3)\n        p[n] = 1.0;\n    #pragma")
NO_COMPILE = CORRECT.replace("c[i] = a[i] + b[i];", "c[i] = a[i] + b[i]")
NO_CODE = "I am sorry, I cannot parallelize this function."
RENAMED = CORRECT.replace("void vec_add(", "void vector_add(")


@pytest.fixture(scope="module")
def reward():
    """Correctness rewards only (no timing: fast, and independent of machine load)."""
    return SandboxReward(RewardConfig(timing=False))


@pytest.fixture(scope="module")
def timed_reward():
    return SandboxReward(RewardConfig(timing=True))


def test_speed_term_shape():
    cfg = RewardConfig()
    assert speed_term(1.0, cfg) == 0.0
    assert speed_term(1.08, cfg) == 0.0 and speed_term(1 / 1.08, cfg) == 0.0      # dead zone
    assert 0 < speed_term(1.5, cfg) < speed_term(3.0, cfg) < speed_term(100.0, cfg) == cfg.speed_weight
    assert speed_term(0.5, cfg) < 0 and speed_term(0.001, cfg) == -cfg.speed_weight
    assert speed_term(1.3, cfg, spread=1.0) == 0.0                                   # noisy timing: wider dead zone
    assert speed_term(float("nan"), cfg) == 0.0 and speed_term(0.0, cfg) == 0.0
    # a correct candidate, however slow, beats a wrong one
    assert cfg.correct + speed_term(1e-6, cfg) > cfg.wrong


def test_completion_formats():
    assert completion_text("x") == "x"
    assert completion_text([{"role": "assistant", "content": "```c\nint f();\n```"}]) == "```c\nint f();\n```"


def _score(reward, comps, source=VEC_ADD, function="vec_add"):
    n = len(comps)
    return reward(["prompt"] * n, comps, source=[source] * n, function=[function] * n, language=["c"] * n,
                  target=["openmp"] * n)


def test_rewards_from_real_verdicts(reward):
    cases = {"correct": CORRECT, "wrong": WRONG, "early_return": EARLY_RETURN, "cache": CACHE_BY_POINTER,
             "copy": COPY_REFERENCE, "nominal": NOMINAL, "crash": CRASH, "no_compile": NO_COMPILE, "no_code": NO_CODE,
             "renamed": RENAMED, "directive": "L1: #pragma omp parallel for schedule(static)\n```",
             "bad_directive": "L3: #pragma omp parallel for\n```"}
    rewards = _score(reward, list(cases.values()))
    by = dict(zip(cases, rewards))
    info = dict(zip(cases, reward.last))
    why = {k: (i.kind, i.reward, i.reason) for k, i in info.items()}
    kinds = {k: i.kind for k, i in info.items()}
    cfg = reward.cfg
    assert kinds["correct"] == "correct" and by["correct"] == cfg.correct, why
    assert info["correct"].verdict.tests_total >= 10           # judged on the hidden suite
    assert kinds["directive"] == "correct" and by["directive"] == cfg.correct, why
    assert kinds["wrong"] == "wrong" and by["wrong"] == cfg.wrong, why
    assert kinds["early_return"] == "wrong" and by["early_return"] == cfg.wrong, why
    assert kinds["cache"] == "policy" and by["cache"] == cfg.policy_fail, why
    assert "state between calls" in info["cache"].reason
    assert kinds["copy"] == "policy" and by["copy"] == cfg.policy_fail, why
    assert kinds["nominal"] == "nominal" and by["nominal"] == by["copy"] < by["wrong"], why
    assert kinds["crash"] == "wrong" and by["crash"] == cfg.wrong, why
    assert kinds["no_compile"] == "build" and by["no_compile"] == cfg.build_fail, why
    assert kinds["no_code"] == "extract" and by["no_code"] == cfg.extract_fail, why
    assert kinds["renamed"] == "extract" and by["renamed"] == cfg.extract_fail, why
    assert kinds["bad_directive"] == "extract" and by["bad_directive"] == cfg.extract_fail, why
    # the batch's summary (a GRPO step's curve point)
    h = reward.history[-1]
    assert h["completions"] == len(cases) and h["wrong_but_rewarded"] == 0, h
    assert h["verified_rate"] == round(2 / len(cases), 4) and h["mean_speedup"] is None    # untimed
    assert h["kinds"]["nominal"] == 1 and h["mean_reward"] == round(sum(rewards) / len(rewards), 4)


def test_reward_curves_json_and_png(tmp_path):
    from paralift.training.grpo import plot_reward_curves, reward_curves
    from paralift.training.rewards import RewardInfo, call_summary
    from paralift.types import Target, Verdict
    cfg = RewardConfig()
    ok = Verdict(Target.OPENMP, status="verified", built=True)
    bad = Verdict(Target.OPENMP, status="failed", built=True)
    calls = [[RewardInfo("correct", 1.2, speedup=2.0, verdict=ok), RewardInfo("wrong", 0.0, verdict=bad)],
             [RewardInfo("correct", 1.1, speedup=1.5, verdict=ok), RewardInfo("correct", 1.3, speedup=6.0, verdict=ok)]]

    class R:
        history = [call_summary(c, cfg, k + 1) for k, c in enumerate(calls)]
    curves = reward_curves(R, [{"step": 1, "reward": 0.6}])
    assert [c["verified_rate"] for c in curves] == [0.5, 1.0]
    assert curves[1]["mean_speedup"] == 3.0 and curves[0]["trl_reward"] == 0.6
    assert all(c["wrong_but_rewarded"] == 0 for c in curves)
    pytest.importorskip("matplotlib")
    assert plot_reward_curves(curves, tmp_path / "c.png").stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_speedup_shapes_correct_rewards(timed_reward):
    """Timed: a parallel candidate against one doing the work 6 times over on one thread."""
    rewards = _score(timed_reward, [CORRECT, SLOW, WRONG])
    fast, slow, wrong = timed_reward.last
    why = [(i.kind, i.reward, i.reason) for i in timed_reward.last]
    cfg = timed_reward.cfg
    assert fast.kind == "correct" and slow.kind == "correct", why
    assert slow.speedup < 0.5 and rewards[1] < cfg.correct, why
    assert rewards[2] == cfg.wrong < rewards[1] < rewards[0], why


# An O(n^2) reference (each prefix summed from scratch) and an O(n) candidate:
# a real, huge speedup far beyond what 2 cores allow, which must be audited
# and given correctness credit only.
PREFIX_NAIVE = """void prefix_naive(int n, const double *x, double *y)
{
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int j = 0; j <= i; j++)
            s += x[j];
        y[i] = s;
    }
}
"""
PREFIX_FAST = """```c
void prefix_naive(int n, const double *x, double *y)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        s += x[i];
        y[i] = s;
    }
    #pragma omp parallel for
    for (int i = 0; i < n; i++)
        y[i] = y[i] + 0.0;
}
```"""


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_implausible_speedup_is_audited():
    from paralift.agents.tester import TesterOptions
    # small race cases: the O(n^2) reference must stay cheap to run
    reward = SandboxReward(RewardConfig(timing=True),
                           tester_options=TesterOptions(race_elements=1 << 13, race_bytes=1 << 17))
    before = len(reward.audits)
    [r] = reward(["p"], [PREFIX_FAST], source=[PREFIX_NAIVE], function=["prefix_naive"], language=["c"],
                 target=["openmp"])
    info = reward.last[0]
    assert info.kind == "audited", (info.kind, info.reason, info.speedup)
    assert info.speedup > 1.5 * 2
    assert r == reward.cfg.correct                  # no speed bonus
    assert len(reward.audits) == before + 1 and "fresh inputs" in reward.audits[-1]["result"]


def test_infrastructure_failure_is_none(reward):
    # The sequential code calls a function defined nowhere: no reference can be
    # built, so no candidate can be judged -- no signal, not a zero.
    src = ("double ext_fn(double v);\n"
           "void g(int n, double *y)\n{\n    for (int i = 0; i < n; i++)\n        y[i] = ext_fn(y[i]);\n}\n")
    comp = "```c\nvoid g(int n, double *y)\n{\n    #pragma omp parallel for\n    for (int i = 0; i < n; i++)\n        y[i] = ext_fn(y[i]);\n}\n```"
    rewards = reward(["p", "p"], [comp, NO_CODE], source=[src, src], function=["g", "g"], language=["c", "c"],
                     target=["openmp", "openmp"])
    assert rewards == [None, None]
    assert all(i.kind == "infra" for i in reward.last)


def test_identical_completions_are_verified_once_and_rewarded_alike(monkeypatch):
    """A group's samples often agree: the same program is verified (and timed) once per call, and every copy
    gets its reward, so two copies never differ by timing noise."""
    import paralift.sandbox.pool as pool
    seen = []
    real = pool.verify_many

    def spy(jobs, *a, **k):
        jobs = list(jobs)
        seen.append(len(jobs))
        return real(jobs, *a, **k)

    monkeypatch.setattr(pool, "verify_many", spy)
    r = SandboxReward(RewardConfig(timing=False))
    rewards = _score(r, [CORRECT, WRONG, CORRECT, CORRECT])
    assert seen == [2]                                   # two distinct programs
    assert rewards == [r.cfg.correct, r.cfg.wrong, r.cfg.correct, r.cfg.correct]
    assert [i.kind for i in r.last] == ["correct", "wrong", "correct", "correct"]
    assert r.history[-1]["completions"] == 4 and r.history[-1]["verified_rate"] == 0.75


def test_a_program_judged_once_per_run_and_read_back_on_resume(monkeypatch, tmp_path):
    """The memo: a program judged in one call is not verified again in a later call of the run, a new reward
    object with the same settings reads the judgements back from the file (a resumed run), and other
    settings (another hidden suite) do not reuse them."""
    import paralift.sandbox.pool as pool
    seen = []
    real = pool.verify_many

    def spy(jobs, *a, **k):
        jobs = list(jobs)
        seen.append(len(jobs))
        return real(jobs, *a, **k)

    monkeypatch.setattr(pool, "verify_many", spy)
    memo = tmp_path / "reward_memo.jsonl"
    r = SandboxReward(RewardConfig(timing=False), memo_path=memo)
    first = _score(r, [CORRECT, WRONG])
    again = _score(r, [WRONG, CORRECT, NO_CODE])
    assert seen == [2]                                   # the second call verified nothing
    assert again == [first[1], first[0], r.cfg.extract_fail]
    assert [i.memo for i in r.last] == [True, True, False] and r.history[-1]["from_memo"] == 2
    assert r.history[-1]["verified_rate"] == round(1 / 3, 4) and r.history[-1]["wrong_but_rewarded"] == 0
    assert len(memo.read_text().splitlines()) == 2

    resumed = SandboxReward(RewardConfig(timing=False), memo_path=memo)
    assert _score(resumed, [CORRECT, WRONG]) == first and seen == [2]

    other = SandboxReward(RewardConfig(timing=False, hidden_seed=12345), memo_path=memo)
    assert _score(other, [CORRECT]) == [other.cfg.correct] and seen == [2, 1]

    fresh = SandboxReward(RewardConfig(timing=False), memo_path=memo, memo=False)
    _score(fresh, [CORRECT])
    assert seen == [2, 1, 1]

"""The LLM translator agent: prompts in, checked whole-file candidates out; agent
selection (rule + LLM by default); and a translate run whose winner comes from
an LLM over real HTTP."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from paralift.agents import NotParallelizable, build_task
from paralift.agents.llm import LLMTranslator, LLMUnavailable, build_agents
from paralift.agents.providers import Completion, OpenAIProvider, Provider, ProviderError, serve_openai
from paralift.config import bundled_model_path, load_settings
from paralift.types import Target

ROOT = Path(__file__).resolve().parent.parent
SAXPY = (ROOT / "examples" / "saxpy.c").read_text()

OMP = """void saxpy(int n, float a, const float *x, float *y)
{
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}
"""

MPI = """#include <mpi.h>
void saxpy(int n, float a, const float *x, float *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
    MPI_Barrier(MPI_COMM_WORLD);
}
"""

CUDA = """__global__ void saxpy_k(int n, float a, const float *x, float *y)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
void saxpy(int n, float a, const float *x, float *y)
{
    saxpy_k<<<(n + 255) / 256, 256>>>(n, a, x, y);
}
"""


class Scripted(Provider):
    """Replays fixed completions (the agent's logic is under test here, not a model)."""
    name, model = "scripted", "script-v1"

    def __init__(self, texts, chat=False):
        self.texts, self.chat, self.requests = list(texts), chat, []

    def has_chat_template(self):
        return self.chat

    def generate(self, request):
        self.requests.append(request)
        return [Completion(self.texts[k % len(self.texts)], "stop", 10, 20) for k in range(request.n)]


@pytest.fixture(scope="module")
def task():
    return build_task(SAXPY, "c", "saxpy", Target.OPENMP, "examples/saxpy.c")


def test_plain_prompt_candidates_are_whole_files(task):
    prov = Scripted([OMP + "```\nExplanation follows.", "```c\n" + OMP + "```"])
    agent = LLMTranslator(prov, samples=2, quiet=True)
    cands = agent.propose(task, Target.OPENMP)
    assert len(cands) == 1                     # identical translations are deduplicated
    c = cands[0]
    assert c.agent == "scripted" and c.model == "script-v1" and c.target == Target.OPENMP
    assert "#pragma omp parallel for" in c.code and "int main(void)" in c.code     # spliced into the file
    assert c.prompt.endswith("```c\n") and "void saxpy(int n, float a, const float *x, float *y)" in c.prompt
    req = prov.requests[0]
    assert req.n == 2 and req.stop == ["```"] and req.prompt == c.prompt
    assert req.temperature == 0.8 and req.seed is None        # several samples: sampling


def test_chat_prompt_when_the_model_has_a_template(task):
    prov = Scripted(["Here:\n```c\n" + OMP + "```"], chat=True)
    agent = LLMTranslator(prov, samples=1, quiet=True)
    [c] = agent.propose(task, Target.OPENMP)
    req = prov.requests[0]
    assert req.messages[0]["role"] == "system" and req.stop == [] and req.temperature == 0.0
    assert json.loads(c.prompt) == req.messages


def test_changed_signature_is_dropped_with_reason(task):
    bad = OMP.replace("float a", "double a")
    agent = LLMTranslator(Scripted([bad, "no code here", OMP[:-10]]), samples=3, quiet=True)
    with pytest.raises(NotParallelizable) as e:
        agent.propose(task, Target.OPENMP)
    msg = str(e.value)
    assert "none of 3 sample(s)" in msg and "script-v1" in msg
    reasons = [r for _, r in agent.dropped]
    assert any("parameter 2 of saxpy() is 'double', was 'float'" in r for r in reasons)
    assert any("no code" in r for r in reasons) and any("truncated" in r for r in reasons)
    # a mix keeps the good one
    agent = LLMTranslator(Scripted([bad, OMP]), samples=2, quiet=True)
    assert len(agent.propose(task, Target.OPENMP)) == 1 and len(agent.dropped) == 1


def test_mpi_and_cuda_candidates(task):
    [m] = LLMTranslator(Scripted([MPI]), quiet=True).propose(task, Target.MPI)
    assert m.code.count("#include <mpi.h>") == 1 and "int main(void)" in m.code
    [c] = LLMTranslator(Scripted(["```cuda\n" + CUDA + "```"]), quiet=True).propose(task, Target.CUDA)
    assert 'extern "C" void saxpy(' in c.code and "int main" not in c.code and "#include <stdlib.h>" in c.code


def test_provider_errors_strict_and_lenient(task):
    class Down(Provider):
        name, model = "down", "m"

        def generate(self, request):
            raise ProviderError("openai endpoint http://127.0.0.1:9/v1: cannot connect")
    with pytest.raises(LLMUnavailable, match="cannot connect"):
        LLMTranslator(Down(), quiet=True).propose(task, Target.OPENMP)
    with pytest.raises(NotParallelizable, match="down agent unavailable"):
        LLMTranslator(Down(), strict=False, quiet=True).propose(task, Target.OPENMP)


def test_create_explains_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for v in ("PARALIFT_MODEL", "PARALIFT_BACKEND", "PARALIFT_ENDPOINT", "PARALIFT_CONFIG"):
        monkeypatch.delenv(v, raising=False)
    import importlib.util
    if importlib.util.find_spec("torch") and not bundled_model_path().exists():
        with pytest.raises(LLMUnavailable, match="--model"):
            LLMTranslator.create("hf")
    if importlib.util.find_spec("torch"):
        with pytest.raises(LLMUnavailable, match="no model at"):
            LLMTranslator.create("hf", str(tmp_path / "nowhere"))
    with pytest.raises(LLMUnavailable, match="unknown LLM backend"):
        LLMTranslator.create("tgi")
    monkeypatch.setenv("PARALIFT_ENDPOINT", "http://127.0.0.1:9")
    agent = LLMTranslator.create("openai", "served", 3)
    assert agent.name == "openai" and agent.samples == 3 and agent.model == "served"
    assert agent.provider.inner.endpoint == "http://127.0.0.1:9/v1"


def test_default_agents_are_rule_and_llm(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for v in ("PARALIFT_MODEL", "PARALIFT_BACKEND", "PARALIFT_ENDPOINT", "PARALIFT_CONFIG"):
        monkeypatch.delenv(v, raising=False)
    agents, notes = build_agents()
    names = [a.name for a in agents]
    assert names[0] == "rule"
    if "hf" not in names:               # no bundled model (or no torch): skipped, and said so
        assert notes and "hf LLM agent was not used" in notes[0]
    # configured explicitly: rule + openai, both present
    (tmp_path / "paralift.toml").write_text('backends = ["rule", "openai"]\nendpoint = "http://127.0.0.1:9/v1"\n'
                                            'model = "m"\n')
    agents, notes = build_agents()
    assert [a.name for a in agents] == ["rule", "openai"] and not notes
    # a backend the user names must work, or it is an error
    with pytest.raises(LLMUnavailable):
        build_agents(["hf"], model=str(tmp_path / "nowhere"))


@pytest.mark.skipif(not __import__("shutil").which("gcc"), reason="gcc not found")
def test_translate_winner_from_an_llm_over_http(tmp_path, monkeypatch):
    """translate with the openai backend against a served model: the verified
    winner comes from the LLM agent and the report says so."""
    from paralift import pipeline
    monkeypatch.chdir(tmp_path)
    server = serve_openai(Scripted(["```c\n" + OMP + "```"]), "127.0.0.1", 0, served_name="omp-model",
                          background=True)
    try:
        monkeypatch.setenv("PARALIFT_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}/v1")
        src = tmp_path / "saxpy.c"
        src.write_text(SAXPY)
        report = pipeline.translate_file(src, SAXPY, Target.OPENMP, ["saxpy"], None, backends=["openai"],
                                         model="omp-model", samples=1, timing=False, on_event=lambda m: None)
    finally:
        server.shutdown()
        server.server_close()
    [f] = report.functions
    assert f.status == "verified", f.reason
    assert f.agent == "openai" and report.to_json()["functions"][0]["agent"] == "openai"
    assert f.candidates[0].model == "omp-model"
    assert "#pragma omp parallel for" in (tmp_path / "saxpy.omp.c").read_text()


def test_hf_agent_on_an_untrained_model_reports_why(tmp_path, task):
    """A real hf model (random weights): nothing usable, and the reason says why."""
    pytest.importorskip("transformers", reason="transformers not installed (pip install 'paralift[llm]')")
    from paralift.agents.providers import HFProvider, make_tiny_model
    path = make_tiny_model(tmp_path / "m", [SAXPY, OMP, MPI, CUDA] * 3, vocab_size=300, hidden=16, layers=1,
                           heads=2, context=2048)
    agent = LLMTranslator(HFProvider(str(path)), samples=2, temperature=1.0, seed=0, max_tokens=24, quiet=True)
    with pytest.raises(NotParallelizable, match="none of 2 sample"):
        agent.propose(task, Target.OPENMP)
    assert len(agent.dropped) == 2 and agent.stats["completion_tokens"] > 0


def test_model_declared_compact_prompt_and_scope(task):
    class Declared(Scripted):
        def model_info(self):
            return {"prompt_format": "compact", "targets": ["openmp"], "languages": ["c"]}
    prov = Declared([OMP + "```"])
    [c] = LLMTranslator(prov, quiet=True).propose(task, Target.OPENMP)
    assert c.prompt.startswith("### Sequential\n```c\nvoid saxpy(") and c.prompt.endswith("### OpenMP\n```c\n")
    assert "Task" not in c.prompt and prov.requests[0].stop == ["```"]
    with pytest.raises(NotParallelizable, match="trained for openmp only, not mpi"):
        LLMTranslator(prov, quiet=True).propose(task, Target.MPI)
    assert len(prov.requests) == 1                      # not asked at all
    # the settings can force a form
    forced = LLMTranslator(Scripted(["```c\n" + OMP + "```"], chat=True), prompt_style="plain", quiet=True)
    assert forced.prompt_form() == "plain" and forced.propose(task, Target.OPENMP)


def test_model_declared_directive_format(task):
    """A model that declares the directive format sees numbered loops and
    answers with pragma lines; paralift inserts them into the original."""
    class Directives(Scripted):
        def model_info(self):
            return {"prompt_format": "directives", "targets": ["openmp"], "languages": ["c"]}
    prov = Directives(["L1: #pragma omp parallel for\n", "L1: #pragma omp parallel for\n```",
                       "L7: #pragma omp parallel for", "void saxpy() {}"])
    agent = LLMTranslator(prov, samples=4, quiet=True)
    [c] = agent.propose(task, Target.OPENMP)              # two equal samples: one candidate
    assert "/*L1*/ for (int i = 0; i < n; i++)" in c.prompt and c.prompt.endswith("### OpenMP directives\n```\n")
    assert "#pragma omp parallel for\n    for (int i = 0; i < n; i++)" in c.code
    assert "int main(" in c.code and "/*L1*/" not in c.code    # the original file, markers not copied
    reasons = [r for _, r in agent.dropped]
    assert any("has 1 loop" in r for r in reasons) and any("not a directive line" in r for r in reasons)
    with pytest.raises(NotParallelizable, match="trained for openmp only"):
        agent.propose(task, Target.CUDA)


def test_model_declared_plan_format_for_three_targets():
    """A model that declares the plan format is asked for any target it names
    (the heading says which); its plan goes through the target's code
    generator, the plan is noted on the candidate, and an impossible plan is
    dropped with the reason."""
    class Plans(Scripted):
        def model_info(self):
            return {"prompt_format": "plan", "targets": ["openmp", "mpi", "cuda"], "languages": ["c"]}
    prov = Plans(["L1: parallel\n```", "L1: parallel\n", "L2: parallel", "L1: parallel schedule(guided)"])
    agent = LLMTranslator(prov, samples=4, quiet=True)
    for target, label, marker in ((Target.OPENMP, "OpenMP", "#pragma omp parallel for"),
                                  (Target.MPI, "MPI", "MPI_Comm_size"), (Target.CUDA, "CUDA", "<<<")):
        t = build_task(SAXPY, "c", "saxpy", target, "examples/saxpy.c")
        agent.dropped.clear()
        cands = agent.propose(t, target)
        assert cands[0].prompt.endswith(f"### {label} plan\n```\n") and "/*L1*/ for" in cands[0].prompt
        assert marker in cands[0].code and cands[0].notes.endswith("plan: L1: parallel")
        reasons = [r for _, r in agent.dropped]
        assert any("L2" in r for r in reasons)              # the function has one loop
        if target == Target.OPENMP:                          # a schedule is an OpenMP clause: a second candidate
            assert len(cands) == 2 and cands[1].notes.endswith("plan: L1: parallel schedule(guided)")
        else:
            assert len(cands) == 1 and any("OpenMP clauses" in r for r in reasons)


@pytest.mark.skipif(not __import__("shutil").which("gcc"), reason="gcc not found")
def test_wrong_llm_candidate_for_a_recurrence_is_rejected_and_kept_sequential(tmp_path, monkeypatch):
    """The rule agent proves a dependence; the LLM's racy candidate fails
    verification: the function stays sequential (exit 0) with the analysis's
    reason, and the report counts the rejected candidate."""
    from paralift import pipeline
    from paralift.agents import RuleBasedTranslator
    monkeypatch.chdir(tmp_path)
    src_text = (ROOT / "data" / "kernels" / "linear_recurrence.c").read_text()   # prefix sums are scans now
    src = tmp_path / "recurrence.c"
    src.write_text(src_text)
    llm = LLMTranslator(Scripted(["L1: #pragma omp parallel for\n"]), prompt_style="directives", quiet=True, name="hf")
    monkeypatch.setattr(pipeline, "make_agents", lambda *a, **k: ([RuleBasedTranslator(), llm], []))
    report = pipeline.translate_file(src, src_text, Target.OPENMP, [], None, timing=False, on_event=lambda m: None)
    [f] = report.functions
    assert f.status == "sequential" and "rejected by verification" in f.reason and report.exit_code() == 0
    counts = report.to_json()["agents"]["hf"]
    assert counts["candidates"] == 1 and counts["verdicts"] == {"failed": 1} and counts["samples"] == 1
    assert report.text is None or "#pragma omp" not in report.text      # the wrong candidate is never written

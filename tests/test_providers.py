"""Model providers, the request cache, settings resolution, and the OpenAI-compatible
server/client pair, tested over real HTTP on 127.0.0.1 against a real (tiny,
randomly initialised, built here) transformers model."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from paralift.agents.providers import (CachedProvider, Completion, GenerationRequest, OpenAIProvider, Provider,
                                       ProviderError, make_provider, normalize_endpoint, serve_openai)
from paralift.config import BUNDLED_MODEL_HINT, bundled_model_path, find_config, load_settings
from paralift.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent


def _have_torch() -> bool:
    import importlib.util
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "tokenizers"))


needs_torch = pytest.mark.skipif(not _have_torch(), reason="torch/transformers not installed "
                                                           "(pip install 'paralift[llm]')")

CHAT_TEMPLATE = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<assistant>{% endif %}")


def corpus() -> list[str]:
    texts = [p.read_text() for p in sorted((ROOT / "data" / "kernels").glob("*.c*"))]
    texts += [p.read_text() for p in sorted((ROOT / "examples").glob("*.c"))]
    return texts or ["void f(int n, double *x) { for (int i = 0; i < n; i++) x[i] = 0; }\n"] * 4


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A randomly initialised tiny Llama + BPE tokenizer trained on the repo's C files."""
    if not _have_torch():
        pytest.skip("torch/transformers not installed (pip install 'paralift[llm]')")
    from paralift.agents.providers import make_tiny_model
    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny", corpus(), vocab_size=400, hidden=32,
                           layers=2, heads=2, context=512)


@pytest.fixture(scope="session")
def tiny_adapter(tiny_model, tmp_path_factory) -> Path:
    """A LoRA adapter (non-zero weights, so it changes outputs) saved with peft."""
    peft = pytest.importorskip("peft", reason="peft not installed (pip install 'paralift[llm]')")
    import torch
    from transformers import AutoModelForCausalLM
    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model))
    cfg = peft.LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    model = peft.get_peft_model(base, cfg)
    out = tmp_path_factory.mktemp("adapters") / "lora"
    model.save_pretrained(str(out))
    return out


@pytest.fixture(scope="session")
def hf(tiny_model):
    from paralift.agents.providers import HFProvider
    return HFProvider(str(tiny_model), batch_size=3)


# ------------------------------------------------------------------ requests and cache

class Counting(Provider):
    """Answers with a counter, to see when the cache answers instead."""
    name, model = "count", "m"

    def __init__(self):
        self.calls = 0

    def generate(self, request):
        self.calls += 1
        return [Completion(f"answer {self.calls}.{k}") for k in range(request.n)]


def test_request_validation():
    with pytest.raises(ValueError):
        GenerationRequest()
    with pytest.raises(ValueError):
        GenerationRequest(prompt="a", messages=[{"role": "user", "content": "b"}])
    with pytest.raises(ValueError):
        GenerationRequest(prompt="a", n=0)
    assert GenerationRequest(prompt="a", stop="```").stop == ["```"]


def test_cache_never_caches_unseeded_sampling(tmp_path):
    inner = Counting()
    cached = CachedProvider(inner, tmp_path / "cache")
    greedy = GenerationRequest(prompt="p", n=2)
    assert cached.generate(greedy) == cached.generate(greedy) and inner.calls == 1
    seeded = GenerationRequest(prompt="p", temperature=0.8, seed=3)
    assert cached.generate(seeded) == cached.generate(seeded) and inner.calls == 2
    other_seed = GenerationRequest(prompt="p", temperature=0.8, seed=4)
    cached.generate(other_seed)
    assert inner.calls == 3
    unseeded = GenerationRequest(prompt="p", temperature=0.8)
    a, b = cached.generate(unseeded), cached.generate(unseeded)
    assert a != b and inner.calls == 5 and cached.bypassed == 2
    assert cached.key(unseeded) is None
    # the adapter is part of the key
    cached.generate(GenerationRequest(prompt="p", n=2, adapter="x"))
    assert inner.calls == 6
    # persisted: a fresh cache over the same folder answers without the provider
    again = CachedProvider(Counting(), tmp_path / "cache")
    assert again.generate(greedy)[0].text == "answer 1.0" and again.inner.calls == 0


# ------------------------------------------------------------------ settings

def test_settings_precedence_cli_env_config_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("PARALIFT_CONFIG", raising=False)
    for v in ("PARALIFT_BACKEND", "PARALIFT_MODEL", "PARALIFT_ENDPOINT", "OPENAI_API_KEY", "PARALIFT_SAMPLES"):
        monkeypatch.delenv(v, raising=False)
    (tmp_path / "models" / "m").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.paralift]\nbackend = "hf"\nmodel = "models/m"\nsamples = 3\n'
        'endpoint = "http://127.0.0.1:9/v1"\nadapters = { musl = "models/m" }\n')
    sub = tmp_path / "src" / "deep"
    sub.mkdir(parents=True)
    s = load_settings(cwd=sub, env={})
    assert s.backends == ["hf"] and s.samples == 3 and s.source("model") == "config"
    assert s.model == str(tmp_path / "models" / "m") and s.adapters["musl"] == str(tmp_path / "models" / "m")
    env = {"PARALIFT_BACKEND": "rule,openai", "PARALIFT_MODEL": "served", "OPENAI_API_KEY": "k"}
    s = load_settings(cwd=sub, env=env)
    assert s.backends == ["rule", "openai"] and s.model == "served" and s.api_key == "k"
    assert s.source("backends") == "env" and s.samples == 3
    s = load_settings(cwd=sub, env=env, backends=["hf"], model="cli-model", samples=None)
    assert s.backends == ["hf"] and s.model == "cli-model" and s.source("model") == "cli" and s.samples == 3
    # paralift.toml nearer than the pyproject wins
    (sub / "paralift.toml").write_text('samples = 5\n')
    assert load_settings(cwd=sub, env={}).samples == 5


def test_settings_defaults_and_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("PARALIFT_CONFIG", raising=False)
    s = load_settings(cwd=tmp_path, env={})
    assert s.backends == ["rule", "hf"] and not s.backends_explicit
    assert s.sampling_temperature() == 0.0
    if not bundled_model_path().exists():
        assert s.model_for("hf") is None and "--model" in BUNDLED_MODEL_HINT
    (tmp_path / "paralift.toml").write_text('modle = "x"\n')
    with pytest.raises(UsageError, match="unknown setting 'modle'"):
        load_settings(cwd=tmp_path, env={})
    with pytest.raises(UsageError, match="unknown backend"):
        load_settings(cwd=tmp_path / "..", env={"PARALIFT_BACKEND": "gpt"})
    assert find_config(tmp_path)[0].name == "paralift.toml"
    # every prompt form the LLM agent knows is a valid setting, and nothing else
    from paralift.agents.llm import PROMPT_FORMS
    for form in ("auto", *PROMPT_FORMS):
        assert load_settings(cwd=tmp_path / "..", env={"PARALIFT_PROMPT": form}).prompt == form
    with pytest.raises(UsageError, match="expected auto, chat"):
        load_settings(cwd=tmp_path / "..", env={"PARALIFT_PROMPT": "fancy"})


def test_endpoint_normalization():
    assert normalize_endpoint("localhost:8000") == "http://localhost:8000/v1"
    assert normalize_endpoint("http://h:1/v1/") == "http://h:1/v1"
    assert normalize_endpoint("https://h/api/v2") == "https://h/api/v2"


def test_make_provider_errors():
    with pytest.raises(ProviderError, match="unknown backend"):
        make_provider("tgi", "m")
    with pytest.raises(ProviderError, match="--model"):
        make_provider("hf", None)


# ------------------------------------------------------------------ hf

@needs_torch
def test_hf_sampling_is_seeded_batched_and_stops(hf):
    req = GenerationRequest(prompt="void saxpy(int n, float a", n=5, temperature=1.0, top_p=0.95, seed=7,
                            max_tokens=24)
    a, b = hf.generate(req), hf.generate(req)
    assert len(a) == 5 and [c.text for c in a] == [c.text for c in b]       # 2 batches of 3+2, reproducible
    assert len({c.text for c in a}) > 1                                      # sampled, not copies
    assert all(c.completion_tokens <= 24 and c.prompt_tokens > 0 for c in a)
    greedy = hf.generate(GenerationRequest(prompt="int main(", max_tokens=30, n=2))
    assert greedy[0].text == greedy[1].text and greedy[0].finish_reason in ("stop", "length")
    full = hf.generate(GenerationRequest(prompt="int main(", max_tokens=30))[0].text
    stop = next((ch for ch in full[3:] if ch.strip()), None)
    if stop:
        cut = hf.generate(GenerationRequest(prompt="int main(", max_tokens=30, stop=[stop]))[0]
        assert stop not in cut.text and full.startswith(cut.text) and cut.finish_reason == "stop"


@needs_torch
def test_hf_peft_adapter_changes_output_and_base_stays(tiny_model, tiny_adapter):
    from paralift.agents.providers import HFProvider
    prov = HFProvider(str(tiny_model), adapters={"lora": str(tiny_adapter)})
    req = dict(prompt="double dot(int n, const double *x", max_tokens=20)
    base = prov.generate(GenerationRequest(**req))[0].text
    tuned = prov.generate(GenerationRequest(adapter="lora", **req))[0].text
    by_path = prov.generate(GenerationRequest(adapter=str(tiny_adapter), **req))[0].text
    assert tuned != base and by_path == tuned
    assert prov.generate(GenerationRequest(**req))[0].text == base          # adapter disabled again
    import peft
    assert isinstance(prov._lm, peft.PeftModel)
    with pytest.raises(ProviderError, match="unknown adapter"):
        prov.generate(GenerationRequest(adapter="nope", **req))


@needs_torch
def test_hf_chat_template_and_missing_model(tmp_path):
    from paralift.agents.providers import HFProvider, make_tiny_model
    path = make_tiny_model(tmp_path / "chat", corpus()[:5], vocab_size=300, hidden=16, layers=1, heads=2,
                           context=256, chat_template=CHAT_TEMPLATE)
    prov = HFProvider(str(path))
    assert prov.has_chat_template()
    msgs = [{"role": "user", "content": "hi"}]
    assert prov.render(GenerationRequest(messages=msgs)) == "<user>hi\n<assistant>"
    assert len(prov.generate(GenerationRequest(messages=msgs, max_tokens=5))) == 1
    with pytest.raises(ProviderError, match="no model at"):
        HFProvider(str(tmp_path / "absent")).generate(GenerationRequest(prompt="x"))


# ------------------------------------------------------------------ openai over real HTTP

@pytest.fixture(scope="module")
def served(hf, tiny_adapter):
    server = serve_openai(hf, "127.0.0.1", 0, served_name="tiny", adapters={"lora": str(tiny_adapter)},
                          background=True)
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}/v1"
    server.shutdown()
    server.server_close()


@needs_torch
def test_openai_completions_and_chat_against_served_model(served, hf):
    client = OpenAIProvider(endpoint=served, timeout=60, retries=0)
    assert client.models() == ["tiny", "lora"] and client.model == "tiny"     # first served model by default
    req = GenerationRequest(prompt="void saxpy(int n", n=3, temperature=0.9, seed=11, max_tokens=16)
    over_http = client.generate(req)
    assert [c.text for c in over_http] == [c.text for c in hf.generate(req)]
    assert all(c.finish_reason in ("stop", "length") for c in over_http)
    chat = client.generate(GenerationRequest(messages=[{"role": "system", "content": "C only."},
                                                       {"role": "user", "content": "saxpy"}],
                                             n=2, temperature=0.7, seed=1, max_tokens=12))
    assert len(chat) == 2 and all(isinstance(c.text, str) for c in chat)
    # stop sequences are honoured
    full = client.generate(GenerationRequest(prompt="int main(", max_tokens=24))[0].text
    stop = next((ch for ch in full[2:] if ch.strip()), None)
    if stop:
        cut = client.generate(GenerationRequest(prompt="int main(", max_tokens=24, stop=[stop, "@@"]))[0].text
        assert stop not in cut and full.startswith(cut)
    # an adapter is chosen by its served name, as with `vllm serve --lora-modules`
    base = client.generate(GenerationRequest(prompt="double dot(int n", max_tokens=16))[0].text
    tuned = client.generate(GenerationRequest(prompt="double dot(int n", max_tokens=16, adapter="lora"))[0].text
    assert tuned != base
    # the routes can be forced
    forced = OpenAIProvider("tiny", endpoint=served, api="chat", retries=0)
    assert len(forced.generate(GenerationRequest(prompt="int f(", max_tokens=4))) == 1


class Failing(Provider):
    name, model = "failing", "broken"

    def __init__(self):
        self.calls = 0

    def generate(self, request):
        self.calls += 1
        raise ProviderError("model exploded")


class Slow(Provider):
    name, model = "slow", "slow"

    def generate(self, request):
        time.sleep(1.5)
        return [Completion("late")]


def _serve(provider, **kw):
    server = serve_openai(provider, "127.0.0.1", 0, background=True, **kw)
    return server, "http://127.0.0.1:%d/v1" % server.server_address[1]


def test_openai_http_errors_are_clear_and_retries_bounded():
    failing = Failing()
    server, url = _serve(failing, api_key="secret")
    try:
        client = OpenAIProvider("broken", endpoint=url, api_key="secret", retries=2, backoff=0.01, timeout=10)
        with pytest.raises(ProviderError, match=r"HTTP 500: model exploded \(gave up after 3 attempts\)"):
            client.generate(GenerationRequest(prompt="x"))
        assert failing.calls == 3 and client.attempts == 3
        # 4xx: no retry
        client = OpenAIProvider("other", endpoint=url, api_key="secret", retries=3, backoff=0.01)
        with pytest.raises(ProviderError, match="HTTP 404: the model 'other' does not exist"):
            client.generate(GenerationRequest(prompt="x"))
        assert client.attempts == 1
        with pytest.raises(ProviderError, match="HTTP 401"):
            OpenAIProvider("broken", endpoint=url, api_key="wrong", retries=3).generate(GenerationRequest(prompt="x"))
        # malformed requests are the server's 400s
        bad = urllib.request.Request(url + "/completions", data=b"{not json", method="POST",
                                     headers={"Authorization": "Bearer secret"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(bad, timeout=5)
        assert e.value.code == 400 and "invalid JSON" in json.loads(e.value.read())["error"]["message"]
        nochat = urllib.request.Request(url + "/chat/completions", data=b'{"model": "broken", "messages": []}',
                                        method="POST", headers={"Authorization": "Bearer secret"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(nochat, timeout=5)
        assert e.value.code == 400
    finally:
        server.shutdown()
        server.server_close()


def test_openai_timeouts_and_refused_connections():
    server, url = _serve(Slow())
    try:
        client = OpenAIProvider("slow", endpoint=url, timeout=0.3, retries=1, backoff=0.01)
        t0 = time.monotonic()
        with pytest.raises(ProviderError, match=r"no answer within 0.3s \(gave up after 2 attempts\)"):
            client.generate(GenerationRequest(prompt="x"))
        assert client.attempts == 2 and time.monotonic() - t0 < 5
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]           # nothing listens here once closed
    client = OpenAIProvider("m", endpoint=f"http://127.0.0.1:{port}/v1", retries=1, backoff=0.01, timeout=2)
    with pytest.raises(ProviderError, match="cannot connect"):
        client.generate(GenerationRequest(prompt="x"))
    assert client.attempts == 2


@needs_torch
def test_serve_command_in_a_subprocess(tiny_model):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "paralift.agents.providers", "serve", "--model", str(tiny_model),
                             "--served-name", "tiny", "--port", str(port)],
                            stderr=subprocess.PIPE, text=True)
    try:
        client = OpenAIProvider(endpoint=f"http://127.0.0.1:{port}", timeout=60, retries=0)
        deadline = time.monotonic() + 90
        while True:
            try:
                assert client.models() == ["tiny"]
                break
            except ProviderError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("server did not start: " + (proc.stderr.read() if proc.poll() is not None else ""))
                time.sleep(0.3)
        outs = client.generate(GenerationRequest(prompt="int f(", n=2, temperature=0.5, seed=2, max_tokens=8))
        assert len(outs) == 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ------------------------------------------------------------------ vllm

def _vllm_skip_reason() -> str | None:
    import importlib.util
    if importlib.util.find_spec("vllm") is None:
        return "vllm is not installed (pip install 'paralift[vllm]'; it needs a CUDA GPU)"
    try:
        import torch
        if not torch.cuda.is_available():
            return "vllm is installed but no CUDA GPU is visible"
    except ImportError:
        return "torch is not installed"
    return None


@pytest.mark.skipif(_vllm_skip_reason() is not None, reason=_vllm_skip_reason() or "")
def test_vllm_generate_with_sampling_params_and_lora(tiny_model, tiny_adapter):
    from paralift.agents.providers import VLLMProvider
    prov = VLLMProvider(str(tiny_model), adapters={"lora": str(tiny_adapter)}, max_lora_rank=8,
                        gpu_memory_utilization=0.2, enforce_eager=True, max_model_len=512)
    req = GenerationRequest(prompt="void saxpy(int n", n=3, temperature=0.9, seed=5, max_tokens=16)
    a, b = prov.generate(req), prov.generate(req)
    assert len(a) == 3 and [c.text for c in a] == [c.text for c in b]
    base = prov.generate(GenerationRequest(prompt="double dot(", max_tokens=16))[0].text
    tuned = prov.generate(GenerationRequest(prompt="double dot(", max_tokens=16, adapter="lora"))[0].text
    assert tuned != base
    cut = prov.generate(GenerationRequest(prompt="int main(", max_tokens=16, stop=[";"]))[0].text
    assert ";" not in cut


def test_vllm_missing_is_a_clear_error():
    import importlib.util
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed")
    from paralift.agents.providers import VLLMProvider
    with pytest.raises(ProviderError, match=r"paralift\[vllm\]"):
        VLLMProvider("m").generate(GenerationRequest(prompt="x"))


@needs_torch
def test_hf_context_is_shared_between_prompt_and_answer(hf):
    # context 512: a short prompt keeps all of itself even when max_tokens is huge
    out = hf.generate(GenerationRequest(prompt="int f(int n) {", max_tokens=5000))[0]
    assert out.prompt_tokens == len(hf._tok("int f(int n) {")["input_ids"])
    assert out.prompt_tokens + out.completion_tokens <= 512
    long = hf.generate(GenerationRequest(prompt="x = x + 1; " * 400, max_tokens=5000))[0]
    assert long.prompt_tokens == 512 - 128 and long.completion_tokens <= 128

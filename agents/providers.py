"""Model providers: one small interface in front of every way of running a model.

    provider = make_provider("hf", "data/models/paralift-tiny")
    outs = provider.generate(GenerationRequest(prompt="int f(", n=4, temperature=0.8, seed=1))
    [c.text for c in outs]

A `GenerationRequest` carries a prompt *or* chat messages and the sampling
settings (n, temperature, top_p, max_tokens, stop, seed, adapter); a provider
answers with `n` `Completion`s. Providers:

* `hf`     -- transformers (+ peft adapters), CPU or GPU, n samples batched.
* `vllm`   -- vLLM's offline `LLM.generate` with `SamplingParams`/`LoRARequest`
              (the optional `vllm` extra; imported only when used).
* `openai` -- any OpenAI-compatible server (`/v1/completions`,
              `/v1/chat/completions`), e.g. `vllm serve ... --lora-modules name=path`;
              the adapter is selected by sending its name as the request's model.

`CachedProvider` memoises answers keyed by the whole request (and the
provider/model), never for unseeded sampling. `serve_openai` serves any
provider over an OpenAI-compatible HTTP API (stdlib only):

    python -m paralift.agents.providers serve --backend hf --model PATH --port 8000

torch/transformers/peft/vllm are imported lazily, inside the providers, so
`import paralift` stays fast and works without them.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

__all__ = [
    "GenerationRequest", "Completion", "Provider", "ProviderError", "HFProvider", "VLLMProvider",
    "OpenAIProvider", "CachedProvider", "make_provider", "make_tiny_model", "render_messages", "serve_openai", "BACKENDS",
]

BACKENDS = ("hf", "vllm", "openai")


class ProviderError(RuntimeError):
    """A provider could not answer (model missing, server error, timeout...).
    The message is one line a user can act on."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


# ---------------------------------------------------------------------------
# requests and completions
# ---------------------------------------------------------------------------

@dataclass
class GenerationRequest:
    prompt: str | None = None                   # plain completion prompt ...
    messages: list[dict] | None = None          # ... or chat messages [{"role", "content"}]
    n: int = 1
    temperature: float = 0.0                    # 0 = greedy
    top_p: float = 1.0
    max_tokens: int = 512
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    adapter: str | None = None                  # LoRA adapter: a registered name or a path

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):
            self.stop = [self.stop]
        self.stop = [s for s in (self.stop or []) if s]
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("a GenerationRequest needs exactly one of prompt and messages")
        if self.n < 1:
            raise ValueError("n must be >= 1")
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be >= 1")
        if self.temperature < 0 or not (0 < self.top_p <= 1):
            raise ValueError("temperature must be >= 0 and top_p in (0, 1]")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    @property
    def deterministic(self) -> bool:
        """Same request, same answer: greedy decoding or seeded sampling."""
        return self.greedy or self.seed is not None

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class Completion:
    text: str
    finish_reason: str = "stop"                 # stop | length
    prompt_tokens: int = 0
    completion_tokens: int = 0


def render_messages(messages: list[dict]) -> str:
    """Chat messages as plain text, for models without a chat template."""
    parts = []
    for m in messages:
        role = str(m.get("role", "user")).capitalize()
        parts.append(f"### {role}:\n{m.get('content', '')}\n")
    parts.append("### Assistant:\n")
    return "\n".join(parts)


def truncate_at_stop(text: str, stop: Iterable[str]) -> tuple[str, bool]:
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class Provider:
    """Subclasses implement `generate`; `name` is the backend ("hf", ...) and
    `model` the model id or path (for reports)."""

    name: str = "provider"
    model: str = ""

    def generate(self, request: GenerationRequest) -> list[Completion]:
        raise NotImplementedError

    def has_chat_template(self) -> bool:
        """Whether chat messages are rendered by the model's own template."""
        return False

    def model_info(self) -> dict:
        """What the model says about itself in a `paralift.json` beside its
        weights (paralift-trained models): {"prompt_format": "compact",
        "targets": ["openmp"], ...}; {} when unknown."""
        return {}

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return f"{self.name}:{self.model}"


# ---------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------

class CachedProvider(Provider):
    """Memoises `inner`'s answers by request; unseeded sampling is never cached
    (it is meant to differ every time). With `directory`, answers persist as
    one JSON file per request."""

    def __init__(self, inner: Provider, directory: str | os.PathLike | None = None, max_entries: int = 1024):
        self.inner = inner
        self.name, self.model = inner.name, inner.model
        self.directory = Path(directory) if directory else None
        self.max_entries = max_entries
        self._memory: dict[str, list[Completion]] = {}
        self.hits = self.misses = self.bypassed = 0
        self._lock = threading.Lock()

    def key(self, request: GenerationRequest) -> str | None:
        if not request.deterministic:
            return None
        blob = json.dumps({"provider": self.inner.name, "model": self.inner.model,
                           "request": request.to_json()}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def generate(self, request: GenerationRequest) -> list[Completion]:
        key = self.key(request)
        if key is None:
            self.bypassed += 1
            return self.inner.generate(request)
        with self._lock:
            hit = self._memory.get(key)
        if hit is None and self.directory is not None:
            path = self.directory / f"{key}.json"
            try:
                hit = [Completion(**c) for c in json.loads(path.read_text())["completions"]]
            except (OSError, ValueError, KeyError, TypeError):
                hit = None
        if hit is not None:
            self.hits += 1
            return [dataclasses.replace(c) for c in hit]
        self.misses += 1
        outs = self.inner.generate(request)
        with self._lock:
            if len(self._memory) >= self.max_entries:
                self._memory.pop(next(iter(self._memory)))
            self._memory[key] = [dataclasses.replace(c) for c in outs]
        if self.directory is not None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                tmp = self.directory / f".{key}.{os.getpid()}.tmp"
                tmp.write_text(json.dumps({"provider": self.inner.describe(), "request": request.to_json(),
                                           "completions": [dataclasses.asdict(c) for c in outs]}))
                os.replace(tmp, self.directory / f"{key}.json")
            except OSError:
                pass
        return outs

    def has_chat_template(self) -> bool:
        return self.inner.has_chat_template()

    def model_info(self) -> dict:
        return self.inner.model_info()

    def describe(self) -> str:
        return self.inner.describe()

    def close(self) -> None:
        self.inner.close()


# ---------------------------------------------------------------------------
# hf: transformers + peft
# ---------------------------------------------------------------------------

def _need(module: str, extra: str):
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ProviderError(f"the {module} package is not installed (pip install 'paralift[{extra}]')") from None


class HFProvider(Provider):
    """A local transformers causal LM (never downloaded: `local_files_only`).

    `adapters` maps names to PEFT adapter directories; a request's `adapter` is
    one of those names or a path (loaded on first use). Requests without an
    adapter run the base model (adapters disabled)."""

    name = "hf"

    def __init__(self, model: str, *, adapters: dict[str, str] | None = None, device: str | None = None,
                 dtype: str | None = None, batch_size: int = 8, threads: int | None = None):
        self.model = str(model)
        self.adapters = dict(adapters or {})
        self.device = device
        self.dtype = dtype
        self.batch_size = max(1, int(batch_size))
        self.threads = threads
        self._tok = self._lm = None
        self._loaded_adapters: dict[str, str] = {}     # path -> peft adapter name
        self._lock = threading.Lock()

    # -- loading
    def _load(self):
        if self._lm is not None:
            return
        torch = _need("torch", "llm")
        transformers = _need("transformers", "llm")
        path = Path(self.model).expanduser()
        if not path.exists() and not _looks_like_hub_id(self.model):
            raise ProviderError(f"hf: no model at {self.model}")
        if self.threads:
            torch.set_num_threads(self.threads)
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = getattr(torch, self.dtype) if self.dtype else (torch.bfloat16 if device != "cpu" else torch.float32)
        try:
            tok = transformers.AutoTokenizer.from_pretrained(str(path) if path.exists() else self.model,
                                                             local_files_only=True)
            lm = transformers.AutoModelForCausalLM.from_pretrained(str(path) if path.exists() else self.model,
                                                                   local_files_only=True, dtype=dtype)
        except (OSError, ValueError) as e:
            raise ProviderError(f"hf: cannot load model {self.model!r} from local files "
                                f"(models are never downloaded; pass a local path): {str(e).splitlines()[0]}") from None
        lm.to(device).eval()
        if self.threads is None and device == "cpu":
            # small models decode fastest on one thread (per-token overhead dominates;
            # more threads only add synchronisation, badly so on a busy machine)
            params = sum(p.numel() for p in lm.parameters())
            if params < 50_000_000:
                torch.set_num_threads(1)
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
        self._tok, self._lm, self._device = tok, lm, device
        for name, p in self.adapters.items():
            self._adapter_name(name)

    def _adapter_name(self, adapter: str) -> str:
        path = self.adapters.get(adapter, adapter)
        if path in self._loaded_adapters:
            return self._loaded_adapters[path]
        if not (Path(path) / "adapter_config.json").exists():
            known = ", ".join(self.adapters) or "none registered"
            raise ProviderError(f"hf: unknown adapter {adapter!r} (no adapter_config.json at {path}; adapters: {known})")
        peft = _need("peft", "llm")
        name = f"adapter{len(self._loaded_adapters)}"
        if isinstance(self._lm, peft.PeftModel):
            self._lm.load_adapter(str(path), adapter_name=name)
        else:
            self._lm = peft.PeftModel.from_pretrained(self._lm, str(path), adapter_name=name)
            self._lm.to(self._device).eval()
        self._loaded_adapters[path] = name
        return name

    def _adapter_context(self, adapter: str | None):
        peft = None
        if self._loaded_adapters or adapter:
            peft = _need("peft", "llm")
        if adapter is None:
            if peft is not None and isinstance(self._lm, peft.PeftModel):
                return self._lm.disable_adapter()
            return contextlib.nullcontext()
        name = self._adapter_name(adapter)       # may wrap self._lm in a PeftModel
        self._lm.set_adapter(name)
        return contextlib.nullcontext()

    def has_chat_template(self) -> bool:
        self._load()
        return bool(getattr(self._tok, "chat_template", None))

    def model_info(self) -> dict:
        return read_model_info(self.model)

    def context_length(self) -> int:
        self._load()
        cfg = self._lm.config
        for attr in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
            v = getattr(cfg, attr, None)
            if isinstance(v, int) and v > 0:
                return v
        return 1 << 30

    def render(self, request: GenerationRequest) -> str:
        if request.prompt is not None:
            return request.prompt
        self._load()
        if self.has_chat_template():
            return self._tok.apply_chat_template(request.messages, tokenize=False, add_generation_prompt=True)
        return render_messages(request.messages)

    # -- generation
    def generate(self, request: GenerationRequest) -> list[Completion]:
        with self._lock:
            self._load()
            return self._generate(request)

    def _generate(self, request: GenerationRequest) -> list[Completion]:
        import torch
        tok, text = self._tok, self.render(request)
        ids = tok(text, return_tensors="pt", add_special_tokens=not (request.messages and self.has_chat_template()))
        input_ids = ids["input_ids"]
        ctx = self.context_length()
        room = ctx - int(input_ids.shape[1])
        if room >= min(request.max_tokens, 64):
            max_new = min(request.max_tokens, room)
        else:                                  # too long: keep the end of the prompt (where the answer starts)
            max_new = min(request.max_tokens, max(1, ctx // 4))
            input_ids = input_ids[:, -(ctx - max_new):]
        attn = torch.ones_like(input_ids)
        input_ids, attn = input_ids.to(self._device), attn.to(self._device)
        plen = int(input_ids.shape[1])
        eos = tok.eos_token_id
        outs: list[Completion] = []
        with self._adapter_context(request.adapter), torch.inference_mode():
            todo = 1 if request.greedy else request.n
            done = 0
            while done < todo:
                k = min(self.batch_size, todo - done)
                kwargs: dict[str, Any] = dict(max_new_tokens=max_new, pad_token_id=tok.pad_token_id,
                                              eos_token_id=eos, num_return_sequences=k)
                if request.greedy:
                    kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
                else:
                    kwargs.update(do_sample=True, temperature=request.temperature, top_p=request.top_p, top_k=0)
                    if request.seed is not None:
                        torch.manual_seed(int(request.seed) * 100003 + done)
                if request.stop:
                    kwargs.update(stop_strings=list(request.stop), tokenizer=tok)
                seqs = self._lm.generate(input_ids=input_ids, attention_mask=attn, **kwargs)
                for seq in seqs:
                    new = seq[plen:].tolist()
                    hit_eos = eos is not None and eos in new
                    if hit_eos:
                        new = new[:new.index(eos)]
                    elif tok.pad_token_id is not None and tok.pad_token_id != eos:
                        while new and new[-1] == tok.pad_token_id:
                            new.pop()
                    piece = tok.decode(new, skip_special_tokens=True)
                    piece, hit_stop = truncate_at_stop(piece, request.stop)
                    reason = "stop" if (hit_eos or hit_stop or len(new) < max_new) else "length"
                    outs.append(Completion(piece, reason, plen, len(new)))
                done += k
        if request.greedy and request.n > 1:
            outs = [dataclasses.replace(outs[0]) for _ in range(request.n)]
        return outs


def read_model_info(model: str) -> dict:
    path = Path(str(model)).expanduser() / "paralift.json"
    try:
        info = json.loads(path.read_text())
        return info if isinstance(info, dict) else {}
    except (OSError, ValueError):
        return {}


def _looks_like_hub_id(model: str) -> bool:
    return model.count("/") == 1 and not model.startswith((".", "/", "~"))


# ---------------------------------------------------------------------------
# vllm: offline engine
# ---------------------------------------------------------------------------

class VLLMProvider(Provider):
    """vLLM's offline engine (`pip install 'paralift[vllm]'`, a GPU in practice).
    Adapters are served with `LoRARequest`s, so `enable_lora` is set whenever
    adapters are registered (or `enable_lora=True`)."""

    name = "vllm"

    def __init__(self, model: str, *, adapters: dict[str, str] | None = None, enable_lora: bool | None = None,
                 max_lora_rank: int = 16, **llm_kwargs):
        self.model = str(model)
        self.adapters = dict(adapters or {})
        self.enable_lora = bool(self.adapters) if enable_lora is None else enable_lora
        self.max_lora_rank = max_lora_rank
        self.llm_kwargs = llm_kwargs
        self._llm = None
        self._lora_ids: dict[str, int] = {}

    def _load(self):
        if self._llm is not None:
            return
        vllm = _need("vllm", "vllm")
        kwargs = dict(self.llm_kwargs)
        if self.enable_lora:
            kwargs.update(enable_lora=True, max_lora_rank=self.max_lora_rank)
        try:
            self._llm = vllm.LLM(model=self.model, **kwargs)
        except Exception as e:  # noqa: BLE001 - vLLM raises many kinds
            raise ProviderError(f"vllm: cannot start the engine for {self.model!r}: {e}") from None

    def has_chat_template(self) -> bool:
        self._load()
        return bool(getattr(self._llm.get_tokenizer(), "chat_template", None))

    def model_info(self) -> dict:
        return read_model_info(self.model)

    def _lora(self, adapter: str | None):
        if adapter is None:
            return None
        if not self.enable_lora:
            raise ProviderError("vllm: adapters need enable_lora (register them when creating the provider)")
        from vllm.lora.request import LoRARequest
        path = self.adapters.get(adapter, adapter)
        if not Path(path).exists():
            raise ProviderError(f"vllm: unknown adapter {adapter!r}")
        lid = self._lora_ids.setdefault(path, len(self._lora_ids) + 1)
        name = adapter if adapter in self.adapters else f"adapter{lid}"
        return LoRARequest(name, lid, str(path))

    def generate(self, request: GenerationRequest) -> list[Completion]:
        self._load()
        from vllm import SamplingParams
        if request.prompt is not None:
            prompt = request.prompt
        elif self.has_chat_template():
            prompt = self._llm.get_tokenizer().apply_chat_template(request.messages, tokenize=False,
                                                                   add_generation_prompt=True)
        else:
            prompt = render_messages(request.messages)
        sp = SamplingParams(n=request.n, temperature=request.temperature,
                            top_p=request.top_p if not request.greedy else 1.0, max_tokens=request.max_tokens,
                            stop=list(request.stop) or None, seed=request.seed)
        res = self._llm.generate([prompt], sp, lora_request=self._lora(request.adapter), use_tqdm=False)[0]
        plen = len(res.prompt_token_ids or [])
        return [Completion(o.text, o.finish_reason or "stop", plen, len(o.token_ids)) for o in res.outputs]


# ---------------------------------------------------------------------------
# openai: any OpenAI-compatible HTTP server
# ---------------------------------------------------------------------------

class OpenAIProvider(Provider):
    """An OpenAI-compatible server. `api` picks the route: "chat"
    (/v1/chat/completions), "completions" (/v1/completions) or "auto" (chat for
    messages, completions for prompts). Transient failures (connection errors,
    timeouts, HTTP 429/5xx) are retried `retries` times with backoff; other
    HTTP errors fail at once. A request's adapter is sent as its model name
    (vLLM's --lora-modules convention)."""

    name = "openai"

    def __init__(self, model: str | None = None, *, endpoint: str = "http://127.0.0.1:8000/v1",
                 api_key: str | None = None, api: str = "auto", timeout: float = 120.0, retries: int = 2,
                 backoff: float = 0.5):
        self.endpoint = normalize_endpoint(endpoint)
        self._model = model
        self.api_key = api_key
        if api not in ("auto", "chat", "completions"):
            raise ValueError("api must be auto, chat or completions")
        self.api = api
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.attempts = 0                         # HTTP requests sent (for tests and logs)

    @property
    def model(self) -> str:
        if self._model is None:
            models = self.models()
            if not models:
                raise ProviderError(f"openai endpoint {self.endpoint} serves no model")
            self._model = models[0]
        return self._model

    def describe(self) -> str:
        return f"openai:{self._model or '?'}@{self.endpoint}"

    def has_chat_template(self) -> bool:
        return self.api != "completions"

    def models(self) -> list[str]:
        data = self._call("GET", "/models", None)
        return [m.get("id") for m in data.get("data", []) if m.get("id")]

    def generate(self, request: GenerationRequest) -> list[Completion]:
        body: dict[str, Any] = {"model": request.adapter or self.model, "n": request.n,
                                "temperature": request.temperature, "top_p": request.top_p,
                                "max_tokens": request.max_tokens}
        if request.stop:
            body["stop"] = list(request.stop)
        if request.seed is not None:
            body["seed"] = int(request.seed)
        use_chat = self.api == "chat" or (self.api == "auto" and request.messages is not None)
        if use_chat:
            body["messages"] = request.messages if request.messages is not None else \
                [{"role": "user", "content": request.prompt}]
            data = self._call("POST", "/chat/completions", body)
        else:
            body["prompt"] = request.prompt if request.prompt is not None else render_messages(request.messages)
            data = self._call("POST", "/completions", body)
        try:
            choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
            usage = data.get("usage") or {}
            ptoks = int(usage.get("prompt_tokens", 0))
            ctoks = int(usage.get("completion_tokens", 0))
            outs = []
            for c in choices:
                text = c["message"]["content"] if use_chat else c["text"]
                text, _ = truncate_at_stop(text or "", request.stop)   # servers may keep the stop text
                outs.append(Completion(text, c.get("finish_reason") or "stop", ptoks,
                                       ctoks // max(1, len(choices))))
        except (KeyError, TypeError, ValueError) as e:
            raise ProviderError(f"openai endpoint {self.endpoint}: malformed answer ({e!r})") from None
        return outs

    def _call(self, method: str, route: str, body: dict | None) -> dict:
        url = self.endpoint + route
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(8.0, self.backoff * (2 ** (attempt - 1))))
            self.attempts += 1
            req = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read().decode() or "{}")
            except urllib.error.HTTPError as e:
                detail = _error_message(e)
                last = f"HTTP {e.code}: {detail}"
                if e.code == 429 or e.code >= 500:
                    continue
                raise ProviderError(f"openai endpoint {url}: {last}") from None
            except (socket.timeout, TimeoutError):
                last = f"no answer within {self.timeout:g}s"
            except urllib.error.URLError as e:
                if isinstance(e.reason, (socket.timeout, TimeoutError)):
                    last = f"no answer within {self.timeout:g}s"
                else:
                    last = f"cannot connect ({e.reason})"
            except (ConnectionError, OSError) as e:
                last = f"connection failed ({e})"
            except ValueError:
                raise ProviderError(f"openai endpoint {url}: the answer is not JSON") from None
        tries = self.retries + 1
        raise ProviderError(f"openai endpoint {url}: {last} (gave up after {tries} attempt{'s' * (tries > 1)})")


def normalize_endpoint(endpoint: str) -> str:
    url = endpoint.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    parsed = urllib.parse.urlparse(url)
    if parsed.path in ("", "/"):
        url += "/v1"
    return url


def _error_message(e: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(e.read().decode() or "{}")
        err = payload.get("error", payload)
        msg = err.get("message") if isinstance(err, dict) else str(err)
        return " ".join(str(msg or e.reason).split())[:300]
    except Exception:  # noqa: BLE001
        return str(e.reason)


# ---------------------------------------------------------------------------
# factory
# ---------------------------------------------------------------------------

def make_provider(backend: str, model: str | None, *, endpoint: str | None = None, api_key: str | None = None,
                  adapters: dict[str, str] | None = None, cache: bool = True, cache_dir: str | None = None,
                  **options) -> Provider:
    """Build the provider for `backend`, wrapped in a CachedProvider unless cache=False."""
    backend = backend.strip().lower()
    if backend == "hf":
        if not model:
            raise ProviderError("hf: no model given (pass --model PATH)")
        prov: Provider = HFProvider(model, adapters=adapters, **options)
    elif backend == "vllm":
        if not model:
            raise ProviderError("vllm: no model given (pass --model PATH)")
        prov = VLLMProvider(model, adapters=adapters, **options)
    elif backend == "openai":
        prov = OpenAIProvider(model, endpoint=endpoint or "http://127.0.0.1:8000/v1", api_key=api_key, **options)
    else:
        raise ProviderError(f"unknown backend {backend!r} (choose {', '.join(BACKENDS)})")
    return CachedProvider(prov, cache_dir) if cache else prov


# ---------------------------------------------------------------------------
# a tiny random model (tests, benchmarks, offline smoke runs)
# ---------------------------------------------------------------------------

def make_tiny_model(path: str | os.PathLike, texts: Iterable[str], *, vocab_size: int = 512, hidden: int = 64,
                    layers: int = 2, heads: int = 4, context: int = 1024, chat_template: str | None = None,
                    seed: int = 0) -> Path:
    """Save a randomly initialised Llama-architecture causal LM with a byte-level
    BPE tokenizer trained on `texts` into `path` (save_pretrained format), for
    tests and benchmarks that must not download anything. Its output is noise;
    paralift's trained model is built by the training recipe."""
    torch = _need("torch", "llm")
    transformers = _need("transformers", "llm")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    specials = ["<|endoftext|>", "<|pad|>"]
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tk.train_from_iterator(list(texts), trainer=trainer)
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tk, eos_token=specials[0], bos_token=specials[0],
                                               pad_token=specials[1], unk_token=specials[0])
    if chat_template:
        tok.chat_template = chat_template
    tok.save_pretrained(str(path))
    torch.manual_seed(seed)
    cfg = transformers.LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden,
                                   num_hidden_layers=layers, num_attention_heads=heads,
                                   num_key_value_heads=max(1, heads // 2), max_position_embeddings=context,
                                   bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                                   pad_token_id=tok.pad_token_id, tie_word_embeddings=True)
    transformers.LlamaForCausalLM(cfg).save_pretrained(str(path))
    return path


# ---------------------------------------------------------------------------
# an OpenAI-compatible server for any provider (stdlib http.server)
# ---------------------------------------------------------------------------

def serve_openai(provider: Provider, host: str = "127.0.0.1", port: int = 8000, *, served_name: str | None = None,
                 adapters: dict[str, str] | None = None, api_key: str | None = None, background: bool = False):
    """Serve `provider` at http://host:port/v1 (models, completions,
    chat/completions). `served_name` is the model id clients send (default: the
    provider's model); each name in `adapters` selects that adapter, like
    `vllm serve --lora-modules name=path`. Generation is serialised (one at a
    time). With background=True the server runs in a daemon thread and is
    returned (`server.server_address`, `server.shutdown()`); otherwise this
    call blocks."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    name = served_name or provider.model
    adapters = dict(adapters or {})
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "paralift-openai/0.1"

        def log_message(self, fmt, *args):      # quiet; errors go in the answers
            pass

        def _send(self, code: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass                          # the client gave up (its timeout): nothing to answer

        def _error(self, code: int, message: str, kind: str = "invalid_request_error") -> None:
            self._send(code, {"error": {"message": message, "type": kind, "code": code}})

        def _authorized(self) -> bool:
            if api_key and self.headers.get("Authorization") != f"Bearer {api_key}":
                self._error(401, "invalid API key", "authentication_error")
                return False
            return True

        def do_GET(self):
            if not self._authorized():
                return
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                ids = [name] + list(adapters)
                self._send(200, {"object": "list", "data": [
                    {"id": i, "object": "model", "created": 0, "owned_by": "paralift"} for i in ids]})
            elif self.path.rstrip("/") in ("/health", ""):
                self._send(200, {"status": "ok"})
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self):
            if not self._authorized():
                return
            route = self.path.rstrip("/")
            chat = route.endswith("/chat/completions")
            if not (chat or route.endswith("/completions")):
                self._error(404, f"no route {self.path}")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode() or "{}")
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object")
            except ValueError as e:
                self._error(400, f"invalid JSON body: {e}")
                return
            model = body.get("model") or name
            if model != name and model not in adapters:
                self._error(404, f"the model {model!r} does not exist", "NotFoundError")
                return
            try:
                stop = body.get("stop") or []
                stop = [stop] if isinstance(stop, str) else list(stop)
                common = dict(n=int(body.get("n") or 1), temperature=float(body.get("temperature", 1.0)),
                              top_p=float(body.get("top_p", 1.0)), max_tokens=int(body.get("max_tokens") or 16),
                              stop=stop, seed=body.get("seed"), adapter=adapters.get(model))
                if chat:
                    msgs = body.get("messages")
                    if not isinstance(msgs, list) or not msgs:
                        raise ValueError("'messages' must be a non-empty list")
                    req = GenerationRequest(messages=msgs, **common)
                else:
                    prompt = body.get("prompt")
                    if isinstance(prompt, list) and len(prompt) == 1:
                        prompt = prompt[0]
                    if not isinstance(prompt, str):
                        raise ValueError("'prompt' must be a string")
                    req = GenerationRequest(prompt=prompt, **common)
            except (TypeError, ValueError) as e:
                self._error(400, str(e))
                return
            try:
                with lock:
                    outs = provider.generate(req)
            except ProviderError as e:
                self._error(500, str(e), "server_error")
                return
            except Exception as e:  # noqa: BLE001 - report, keep serving
                self._error(500, f"{type(e).__name__}: {e}", "server_error")
                return
            now = int(time.time())
            ptoks = max((c.prompt_tokens for c in outs), default=0)
            ctoks = sum(c.completion_tokens for c in outs)
            if chat:
                choices = [{"index": i, "message": {"role": "assistant", "content": c.text},
                            "finish_reason": c.finish_reason} for i, c in enumerate(outs)]
                obj = "chat.completion"
            else:
                choices = [{"index": i, "text": c.text, "logprobs": None, "finish_reason": c.finish_reason}
                           for i, c in enumerate(outs)]
                obj = "text_completion"
            self._send(200, {"id": f"cmpl-{now}-{id(outs) & 0xffff:x}", "object": obj, "created": now,
                             "model": model, "choices": choices,
                             "usage": {"prompt_tokens": ptoks, "completion_tokens": ctoks,
                                       "total_tokens": ptoks + ctoks}})

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

        def handle_error(self, request, client_address):
            import sys
            if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                return                        # a client that went away is not a server error
            super().handle_error(request, client_address)

    server = Server((host, port), Handler)
    if background:
        threading.Thread(target=server.serve_forever, name="paralift-openai", daemon=True).start()
        return server
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return server


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m paralift.agents.providers",
                                 description="Serve a paralift provider over an OpenAI-compatible HTTP API.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--backend", default="hf", choices=["hf", "vllm"])
    s.add_argument("--model", required=True)
    s.add_argument("--served-name", default=None)
    s.add_argument("--adapter", action="append", default=[], metavar="NAME=PATH")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--api-key", default=None)
    args = ap.parse_args(argv)
    adapters = {}
    for spec in args.adapter:
        if "=" not in spec:
            ap.error(f"--adapter wants NAME=PATH, got {spec!r}")
        k, v = spec.split("=", 1)
        adapters[k] = v
    prov = make_provider(args.backend, args.model, adapters=adapters, cache=False)
    server = serve_openai(prov, args.host, args.port, served_name=args.served_name, adapters=adapters,
                          api_key=args.api_key, background=True)
    h, p = server.server_address[:2]
    print(f"serving {prov.describe()} at http://{h}:{p}/v1", file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

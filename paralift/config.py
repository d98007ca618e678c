"""Settings for paralift's model backends: CLI > environment > config file > defaults.

The config file is the `[tool.paralift]` table of the first `pyproject.toml`
found from the working directory upward, or a `paralift.toml` (top-level
keys, or its own `[tool.paralift]` table), whichever is nearer (in the same
folder `paralift.toml` wins):

    [tool.paralift]
    backends = ["rule", "hf"]          # or backend = "openai"
    model = "data/models/paralift-tiny"  # relative paths are taken from the file's folder
    endpoint = "http://127.0.0.1:8000/v1"
    samples = 4
    temperature = 0.8
    seed = 0
    adapters = { musl = "runs/musl/adapter" }
    adapter = "musl"

Environment: PARALIFT_BACKEND (comma-separated), PARALIFT_MODEL,
PARALIFT_ENDPOINT, OPENAI_API_KEY (or PARALIFT_API_KEY), PARALIFT_SAMPLES,
PARALIFT_ADAPTER, PARALIFT_CACHE_DIR, PARALIFT_PROMPT, PARALIFT_CONFIG (a config file to use).

Defaults: backends ["rule", "hf"] (the LLM agent joins the rule-based one
when a model is available); the `hf` model defaults to the bundled one,
`data/models/paralift-tiny` in the package data.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from paralift.errors import UsageError

DEFAULT_BACKENDS = ("rule", "hf")
KNOWN_BACKENDS = ("rule", "hf", "vllm", "openai")
BUNDLED_MODEL = "paralift-tiny"
BUNDLED_MODEL_HINT = ("the bundled model data/models/paralift-tiny is not installed: build it with "
                      "`python -m paralift.training.tiny`, or pass --model PATH (a local transformers model), "
                      "or use --backend openai with PARALIFT_ENDPOINT")


@dataclass
class Settings:
    backends: list[str] = field(default_factory=lambda: list(DEFAULT_BACKENDS))
    model: str | None = None
    endpoint: str | None = None
    api_key: str | None = None
    api: str = "auto"                  # openai route: auto | chat | completions
    prompt: str = "auto"               # prompt form: auto | chat | plain | compact | directives | plan
    samples: int = 1
    temperature: float | None = None   # None: greedy for one sample, 0.8 for several
    top_p: float = 0.95
    max_tokens: int = 1024
    seed: int | None = None
    adapter: str | None = None
    adapters: dict[str, str] = field(default_factory=dict)
    timeout: float = 120.0
    retries: int = 2
    cache: bool = True
    cache_dir: str | None = None
    device: str | None = None
    config_path: str | None = None
    sources: dict[str, str] = field(default_factory=dict)   # field -> cli | env | config | default

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")

    @property
    def backends_explicit(self) -> bool:
        """Backends were chosen by the user (CLI, env or config), not defaulted."""
        return self.source("backends") != "default"

    def sampling_temperature(self) -> float:
        if self.temperature is not None:
            return float(self.temperature)
        return 0.0 if self.samples <= 1 else 0.8

    def model_for(self, backend: str) -> str | None:
        """The model a backend uses: the chosen one, else the bundled one for hf."""
        if self.model:
            return self.model
        if backend == "hf":
            path = bundled_model_path()
            return str(path) if path.exists() else None
        return None


_FIELDS = {f.name for f in dataclasses.fields(Settings)} - {"sources", "config_path"}
_ALIASES = {"backend": "backends", "base_url": "endpoint", "model_path": "model"}
_PATH_KEYS = ("model", "cache_dir")


def bundled_model_path() -> Path:
    """Where the bundled model lives: package data first, then the source tree."""
    try:
        import paralift.data as data_pkg
        base = Path(data_pkg.__file__).resolve().parent
    except ImportError:  # pragma: no cover
        base = Path(__file__).resolve().parent.parent / "data"
    return base / "models" / BUNDLED_MODEL


def _toml_load(path: Path) -> dict:
    try:
        import tomllib  # Python >= 3.11
    except ImportError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            return {}
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read config {path}: {e}") from None


def find_config(start: str | os.PathLike | None = None) -> tuple[Path, dict] | None:
    """The nearest config file upward from `start` (default: cwd) and its paralift table."""
    explicit = os.environ.get("PARALIFT_CONFIG")
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise UsageError(f"PARALIFT_CONFIG={explicit} is not a file")
        data = _toml_load(p)
        return p, data.get("tool", {}).get("paralift", data if p.name != "pyproject.toml" else {})
    here = Path(start or os.getcwd()).resolve()
    for d in (here, *here.parents):
        own = d / "paralift.toml"
        if own.is_file():
            data = _toml_load(own)
            return own, data.get("tool", {}).get("paralift", data)
        pp = d / "pyproject.toml"
        if pp.is_file():
            table = _toml_load(pp).get("tool", {}).get("paralift")
            if table is not None:
                return pp, table
    return None


def _split_backends(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    out = [str(b).strip().lower() for b in items if str(b).strip()]
    for b in out:
        if b not in KNOWN_BACKENDS:
            raise UsageError(f"unknown backend {b!r} (choose {', '.join(KNOWN_BACKENDS)})")
    return list(dict.fromkeys(out))


def _coerce(name: str, value: Any, where: str) -> Any:
    try:
        if name == "backends":
            return _split_backends(value)
        if name in ("samples", "max_tokens", "retries"):
            v = int(value)
            if v < (0 if name == "retries" else 1):
                raise ValueError("too small")
            return v
        if name in ("seed",):
            return None if value in (None, "", "none") else int(value)
        if name in ("temperature", "top_p", "timeout"):
            return float(value)
        if name == "cache":
            return value if isinstance(value, bool) else str(value).lower() not in ("0", "false", "no", "off")
        if name == "adapters":
            if not isinstance(value, Mapping):
                raise ValueError("expected a table of name = path")
            return {str(k): str(v) for k, v in value.items()}
        if name == "api":
            if value not in ("auto", "chat", "completions"):
                raise ValueError("expected auto, chat or completions")
            return value
        if name == "prompt":
            from paralift.agents.llm import PROMPT_FORMS      # one list of the forms the LLM agent knows
            forms = ("auto", *PROMPT_FORMS)
            if value not in forms:
                raise ValueError("expected " + ", ".join(forms[:-1]) + " or " + forms[-1])
            return value
        return None if value is None else str(value)
    except (TypeError, ValueError) as e:
        if isinstance(e, UsageError):
            raise
        raise UsageError(f"bad value {value!r} for {name} ({where}): {e}") from None


def load_settings(*, cwd: str | os.PathLike | None = None, env: Mapping[str, str] | None = None,
                  **cli: Any) -> Settings:
    """Resolve the settings. `cli` holds the values given on the command line
    (None or an empty list means "not given")."""
    env = os.environ if env is None else env
    s = Settings()
    # config file
    found = find_config(cwd)
    if found is not None:
        path, table = found
        s.config_path = str(path)
        where = f"config {path}"
        for key, value in table.items():
            name = _ALIASES.get(key, key)
            if name not in _FIELDS:
                raise UsageError(f"unknown setting {key!r} in {where} (known: {', '.join(sorted(_FIELDS))})")
            value = _coerce(name, value, where)
            if name in _PATH_KEYS and isinstance(value, str):
                value = _relative_to(value, path.parent, always=(name == "cache_dir"))
            if name == "adapters":
                value = {k: _relative_to(v, path.parent) for k, v in value.items()}
            setattr(s, name, value)
            s.sources[name] = "config"
    # environment
    env_map = {"PARALIFT_BACKEND": "backends", "PARALIFT_MODEL": "model", "PARALIFT_ENDPOINT": "endpoint",
               "PARALIFT_API_KEY": "api_key", "OPENAI_API_KEY": "api_key", "PARALIFT_SAMPLES": "samples",
               "PARALIFT_ADAPTER": "adapter", "PARALIFT_CACHE_DIR": "cache_dir", "PARALIFT_SEED": "seed",
               "PARALIFT_TEMPERATURE": "temperature", "PARALIFT_PROMPT": "prompt"}
    for var, name in env_map.items():
        value = env.get(var)
        if value:
            if name == "api_key" and s.source("api_key") == "env":
                continue    # PARALIFT_API_KEY wins over OPENAI_API_KEY
            setattr(s, name, _coerce(name, value, f"environment {var}"))
            s.sources[name] = "env"
    # command line
    for key, value in cli.items():
        name = _ALIASES.get(key, key)
        if name not in _FIELDS:
            raise TypeError(f"load_settings() got an unknown setting {key!r}")
        if value is None or (isinstance(value, (list, tuple, dict)) and not value):
            continue
        setattr(s, name, _coerce(name, value, "command line"))
        s.sources[name] = "cli"
    return s


def _relative_to(value: str, base: Path, always: bool = False) -> str:
    """A relative path in a config file means "from the file's folder" (when it
    exists there, or always for folders paralift creates); anything else, e.g.
    a model id, is kept as written."""
    p = Path(value).expanduser()
    if p.is_absolute():
        return str(p)
    cand = base / p
    return str(cand) if always or cand.exists() else value

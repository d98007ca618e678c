"""Shared fixtures for the trainer tests: a tiny random Llama built locally
(never downloaded) and a small corpus of the rule-based agent's verified
translations of kernels from data/kernels."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "data" / "kernels"


def kernel_units(names: list[str]) -> list[tuple[str, str, str, str]]:
    units = []
    for n in names:
        src = (KERNELS / f"{n}.c").read_text()
        units.append((f"kernels/{n}.c:{n}", n, src, "c"))
    return units


def tiny_model(path: Path, extra_texts: list[str] = (), hidden: int = 64, layers: int = 2) -> Path:
    from paralift.agents.providers import make_tiny_model
    texts = [p.read_text() for p in sorted(KERNELS.glob("*.c"))] + list(extra_texts)
    return make_tiny_model(path, texts * 4, vocab_size=400, hidden=hidden, layers=layers, heads=4, context=1024)

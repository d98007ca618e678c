"""Errors and the translator interface shared by paralift's agents."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from paralift.types import Candidate, Target, Task


class AnalysisError(Exception):
    """The input cannot be analysed (parse error, unknown function, unsupported
    construct or parameter type). The message is one line; the CLI maps it to exit 2."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class NotParallelizable(Exception):
    """The function is understood but cannot be parallelized safely; the message
    is a one-line human reason ("loop-carried dependence on a[i-1] in loop at line 12")."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


@runtime_checkable
class Translator(Protocol):
    """A translator agent: turns a Task into candidate translations for a target."""

    name: str

    def propose(self, task: Task, target: Target) -> list[Candidate]:
        ...

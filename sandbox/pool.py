"""Verify many candidates at once: builds and test runs in parallel, timing
serialized (the machine-wide lock in locks.py does that), progress on stderr."""
from __future__ import annotations

import concurrent.futures as cf
import os
from dataclasses import dataclass
from typing import Callable, Iterable

from paralift.progress import Progress
from paralift.types import Candidate, Task, TestSuite, Verdict

from .verify import VerifyOptions, verify


@dataclass
class Job:
    task: Task
    candidate: Candidate
    tests: TestSuite | None = None


def verify_many(jobs: Iterable[Job], options: VerifyOptions | None = None, workers: int | None = None,
                label: str = "verifying", on_done: Callable[[int, Verdict], None] | None = None,
                quiet: bool = False) -> list[Verdict]:
    """Verdicts in the order of `jobs`. An exception inside one verification
    becomes that job's error verdict; it never takes the others down."""
    jobs = list(jobs)
    workers = workers or min(len(jobs), os.cpu_count() or 2) or 1
    results: list[Verdict | None] = [None] * len(jobs)
    progress = Progress(label, len(jobs), enabled=not quiet)
    with cf.ThreadPoolExecutor(max_workers=workers) as ex:
        futures = {ex.submit(verify, j.task, j.candidate, j.tests, options): i for i, j in enumerate(jobs)}
        for fut in cf.as_completed(futures):
            i = futures[fut]
            try:
                verdict = fut.result()
            except Exception as e:  # an infrastructure failure, reported, not raised
                verdict = Verdict(target=jobs[i].candidate.target, status="error",
                                  reason=f"internal error while verifying: {type(e).__name__}: {e}")
            results[i] = verdict
            progress.advance(verdict.status)
            if on_done:
                on_done(i, verdict)
    progress.close()
    return [r for r in results if r is not None]

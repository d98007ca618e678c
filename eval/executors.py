"""Where verification work units run: in-process, a local process pool, or
the ranks of an MPI job (mpi4py.futures.MPIPoolExecutor).

Every executor runs the same picklable function on the same units and
returns each unit's records unchanged; the runner sorts what comes back, so
the metrics do not depend on which executor ran them or in what order.

On a cluster::

    mpirun -n 64 python -m mpi4py.futures -m paralift.eval --suite builtin --to openmp,mpi ...

rank 0 runs the command and ranks 1..63 verify (``--executor auto`` picks MPI
when it finds itself inside such a job).
"""
from __future__ import annotations

import concurrent.futures as cf
import os
import sys
from typing import Any, Callable, Iterable, Iterator

from paralift.errors import UsageError

EXECUTORS = ("auto", "local", "mpi", "serial")


class Executor:
    name = "serial"
    workers = 1

    def imap_unordered(self, fn: Callable[[Any], Any], units: list) -> Iterator[tuple[int, Any]]:
        """(index, result) pairs as units finish."""
        for i, u in enumerate(units):
            yield i, fn(u)

    def close(self) -> None:
        pass

    def describe(self) -> dict:
        return {"executor": self.name, "workers": self.workers}


class _FuturesExecutor(Executor):
    def __init__(self, pool: cf.Executor):
        self.pool = pool

    def imap_unordered(self, fn, units):
        futures = {self.pool.submit(fn, u): i for i, u in enumerate(units)}
        for fut in cf.as_completed(futures):
            yield futures[fut], fut.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class LocalExecutor(_FuturesExecutor):
    name = "local"

    def __init__(self, jobs: int | None = None):
        import multiprocessing as mp
        self.workers = jobs or os.cpu_count() or 1
        # forkserver/spawn: workers start clean (no threads or locks inherited).
        ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
        super().__init__(cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx))


class MPIExecutor(_FuturesExecutor):
    name = "mpi"

    def __init__(self, jobs: int | None = None):
        try:
            from mpi4py.futures import MPIPoolExecutor
        except ImportError as e:
            raise UsageError(f"the MPI executor needs mpi4py (pip install mpi4py): {e}") from None
        pool = MPIPoolExecutor(max_workers=jobs) if jobs else MPIPoolExecutor()
        n = getattr(pool, "num_workers", None)
        try:
            n = int(n) if n is not None else None
        except Exception:  # noqa: BLE001 - num_workers waits for the pool; fall back to the world size
            n = None
        self.workers = n or (in_mpi_job() - 1 if in_mpi_job() > 1 else (jobs or 1))
        super().__init__(pool)


def in_mpi_job() -> int:
    """The MPI world size when this process runs inside `python -m mpi4py.futures`
    (or any MPI job that already imported mpi4py), else 0."""
    if "mpi4py.MPI" not in sys.modules:
        return 0
    try:
        from mpi4py import MPI
        return MPI.COMM_WORLD.Get_size() if MPI.Is_initialized() else 0
    except Exception:  # noqa: BLE001
        return 0


def make_executor(kind: str = "auto", jobs: int | None = None) -> Executor:
    if kind not in EXECUTORS:
        raise UsageError(f"unknown executor {kind!r} (choose {', '.join(EXECUTORS)})")
    launched = max(int(os.environ.get(v, "0") or 0) for v in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"))
    if launched > 1 and in_mpi_job() <= 1:
        raise UsageError("started by mpirun without mpi4py.futures: every rank would run the whole evaluation; "
                         "use `mpirun -n N python -m mpi4py.futures -m paralift.eval ...`")
    if kind == "auto":
        kind = "mpi" if in_mpi_job() > 1 else "local"
    if kind == "mpi":
        return MPIExecutor(jobs)
    if kind == "local":
        if (jobs or os.cpu_count() or 1) <= 1:
            return Executor()
        return LocalExecutor(jobs)
    return Executor()


def run_all(executor: Executor, fn: Callable, units: list, on_result: Callable[[int, Any], None] | None = None) -> list:
    results: list = [None] * len(units)
    for i, r in executor.imap_unordered(fn, units):
        results[i] = r
        if on_result:
            on_result(i, r)
    return results


def chunks(items: Iterable, n: int) -> list[list]:
    items = list(items)
    return [items[i:i + n] for i in range(0, len(items), n)]

"""Running render jobs: in this process, on a process pool, or on a Dask cluster.

The atlas is shared with pool workers by fork (set once as a module global
before the pool starts, never pickled per unit); on Dask it is scattered to
the workers once. Jobs go out in batches, so each worker call renders many
units.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed, wait
from multiprocessing import get_context
from pathlib import Path

from battlemap._io import writing_into
from battlemap._model import Atlas
from battlemap.errors import ConfigError

__all__ = ["Progress", "run_jobs"]

Job = tuple[str, str]          # (level, unit id)
RenderFn = Callable[[Atlas, Path, Sequence[Job]], list[Path]]
OnBatch = Callable[[list[Job], list[Path]], None]

_ATLAS: Atlas | None = None    # set in the parent before fork; inherited by pool workers


def run_jobs(render: RenderFn, atlas: Atlas, out: Path, jobs: list[Job], *, workers: int,
             executor: str = "process", progress: Progress | None = None,
             on_batch: OnBatch | None = None) -> list[Path]:
    """Render ``jobs`` with ``render(atlas, out, batch)``; return every path written.

    ``on_batch(batch, paths)`` is called with the jobs and paths of each batch as it
    finishes, also for the batches that finished when another one failed,
    so a caller knows what was written before an error.
    """
    if not jobs:
        return []
    batches = _batches(jobs, workers)
    written: list[Path] = []

    def collect(batch: list[Job], paths: list[Path]) -> None:
        written.extend(paths)
        if on_batch:
            on_batch(batch, paths)
        if progress:
            progress.advance(len(batch))

    if executor.startswith("dask"):
        _run_dask(render, atlas, out, batches, executor, collect)
    elif workers <= 1 or len(batches) == 1:
        _run_here(render, atlas, out, batches, collect)
    else:
        _run_pool(render, atlas, out, batches, workers, collect)
    return written


def _batches(jobs: list[Job], workers: int) -> list[list[Job]]:
    """About four batches per worker, so progress moves and the load evens out."""
    count = max(1, min(len(jobs), workers * 4))
    size = math.ceil(len(jobs) / count)
    return [jobs[i:i + size] for i in range(0, len(jobs), size)]


Collect = Callable[[list[Job], list[Path]], None]


def _run_here(render: RenderFn, atlas: Atlas, out: Path, batches: list[list[Job]],
              collect: Collect) -> None:
    for batch in batches:
        collect(batch, render(atlas, out, batch))


def _in_worker(render: RenderFn, out: Path, batch: list[Job]) -> list[Path]:
    assert _ATLAS is not None, "the atlas is inherited by fork"
    return render(_ATLAS, out, batch)


def _run_pool(render: RenderFn, atlas: Atlas, out: Path, batches: list[list[Job]], workers: int,
              collect: Collect) -> None:
    global _ATLAS
    _ATLAS = atlas
    try:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            futures = {pool.submit(_in_worker, render, out, batch): batch for batch in batches}
            collected = set()
            try:
                for future in as_completed(futures):
                    collected.add(future)
                    collect(futures[future], future.result())
            except BaseException:
                _collect_finished(futures, collected, collect)
                raise
    finally:
        _ATLAS = None


def _collect_finished(futures: dict, collected: set, collect: Collect) -> None:
    """After a failure: cancel what has not started, and collect what finished well."""
    for future in futures:
        future.cancel()
    wait(futures)
    for future, batch in futures.items():
        if future not in collected and not future.cancelled() and future.exception() is None:
            collect(batch, future.result())


_DASK_LOCK = threading.Lock()


def _on_dask_worker(render: RenderFn, atlas: Atlas, out: Path, batch: list[Job]) -> list[Path]:
    """Render a batch on a Dask worker: one batch at a time per process, writes kept in ``out``.

    Rendering changes process-wide state (matplotlib's rcParams through
    ``rc_context``, the output folder of :func:`battlemap._io.writing_into`),
    so a worker started with several threads renders its batches one after
    another; start workers with ``--nthreads 1`` and as many ``--nworkers``
    as there are cores.
    """
    with _DASK_LOCK, writing_into(out):
        return render(atlas, out, batch)


def _run_dask(render: RenderFn, atlas: Atlas, out: Path, batches: list[list[Job]],
              executor: str, collect: Collect) -> None:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ConfigError("--executor dask needs dask.distributed: "
                          "pip install 'battlemap[dask]'") from None
    if executor == "dask-local":
        cluster = LocalCluster(n_workers=os.cpu_count() or 2, threads_per_worker=1,
                               processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    elif executor.startswith("dask://"):
        cluster = None
        try:
            client = Client(executor.removeprefix("dask://"), timeout="10s")
        except OSError as exc:
            raise ConfigError(f"--executor {executor}: cannot reach the Dask scheduler "
                              f"({exc}); check the address") from None
    else:
        raise ConfigError(f"--executor {executor!r}: use process, dask-local or dask://HOST:PORT")
    try:
        shared = client.scatter(atlas, broadcast=True)
        futures = [client.submit(_on_dask_worker, render, shared, out, batch, pure=False)
                   for batch in batches]
        batch_of = {f.key: b for f, b in zip(futures, batches, strict=True)}
        for future in dask_completed(futures):
            collect(batch_of[future.key], future.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class Progress:
    """A progress line per stage: count, share and time left; silent when quiet."""

    def __init__(self, stage: str, total: int, *, quiet: bool = False) -> None:
        self.stage, self.total, self.done = stage, total, 0
        self.quiet = quiet
        self.start = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self._last_tenth = -1
        self._show()

    def advance(self, count: int = 1) -> None:
        self.done += count
        self._show()

    @staticmethod
    def stage_done(stage: str, seconds: float) -> None:
        """One line for a stage that ran as one step (load, validate, join, stats)."""
        sys.stderr.write(f"{stage:<9} {'done':>11} {seconds:6.1f} s\n")
        sys.stderr.flush()

    def close(self) -> None:
        if not self.quiet and self.tty:
            sys.stderr.write("\n")

    def _show(self) -> None:
        if self.quiet:
            return
        tenth = 10 * self.done // max(self.total, 1)
        if not self.tty and tenth == self._last_tenth and self.done < self.total:
            return
        self._last_tenth = tenth
        elapsed = time.perf_counter() - self.start
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        eta = f", ~{left:.0f} s left" if self.done and self.done < self.total else ""
        line = (f"{self.stage:<9} {self.done:>5}/{self.total} "
                f"{100 * self.done / max(self.total, 1):5.1f}% {elapsed:6.1f} s{eta}")
        sys.stderr.write(("\r" + line.ljust(60)) if self.tty else line + "\n")
        sys.stderr.flush()

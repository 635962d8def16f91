"""Running render jobs: in this process, on a process pool, or on a Dask cluster.

The atlas is shared with pool workers by fork (set once as a module global
before the pool starts, never pickled per unit); on Dask it is scattered to
the workers once. Jobs go out in batches of one level each, so each worker
call renders many units of the same kind, the first of each level small, so
a report comes soon and each level's cost is known early. Every batch reports the seconds it
took, from which :class:`Progress` estimates the time left per level.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import TextIO

from battlemap._io import writing_into
from battlemap._model import Atlas
from battlemap.errors import ConfigError

__all__ = ["LEVEL_WEIGHT", "Progress", "run_jobs"]

Job = tuple[str, str]          # (level, unit id)
RenderFn = Callable[[Atlas, Path, Sequence[Job]], list[Path]]
OnBatch = Callable[[list[Job], list[Path]], None]
Timed = tuple[list[Path], float]  # the paths a batch wrote, and the seconds it took

LEVEL_WEIGHT = {"district": 16.0, "town": 10.0, "river": 1.5, "village": 0.8, "grid": 1.0}
"""How much one job of a level costs against a grid's, until a batch of that level has been timed.

Measured on the posters of the ×1 sample (2026-12-01): a district (A0 and A3)
about 7 s, a town (A1 and A3) 4.8 s, a river 0.7 s, a grid (A4) 0.45 s, a
village (A3) 0.35 s, set-up included (the posters' context and sheets are now made
once per worker, not once per batch); only the ratios matter.
"""

_ATLAS: Atlas | None = None    # set in the parent before fork; inherited by pool workers
_TICK = 0.5                    # seconds between the heartbeat's looks at the clock


def run_jobs(render: RenderFn, atlas: Atlas, out: Path, jobs: list[Job], *, workers: int,
             executor: str = "process", progress: Progress | None = None,
             on_batch: OnBatch | None = None, one_by_one: bool = False) -> list[Path]:
    """Render ``jobs`` with ``render(atlas, out, batch)``; return every path written.

    ``on_batch(batch, paths)`` is called with the jobs and paths of each batch as it
    finishes, also for the batches that finished when another one failed,
    so a caller knows what was written before an error. ``one_by_one``:
    each job is a batch of its own, started in the order given (for a few
    long jobs, the longest first, so that the workers end together).
    """
    if not jobs:
        return []
    written: list[Path] = []

    def collect(batch: list[Job], timed: Timed) -> None:
        paths, seconds = timed
        written.extend(paths)
        if on_batch:
            on_batch(batch, paths)
        if progress:
            progress.finished(batch, seconds)

    if progress:
        progress.expect(jobs, parallel=max(1, workers))
    if executor.startswith("dask"):
        with _heartbeat(progress):
            _run_dask(render, atlas, out, jobs, executor, collect, progress, one_by_one)
    elif workers <= 1 or len(jobs) == 1:
        with _heartbeat(progress):
            _run_here(render, atlas, out, _batches(jobs, 1, one_by_one), collect)
    else:  # the heartbeat's thread starts once the workers are forked
        _run_pool(render, atlas, out, _batches(jobs, workers, one_by_one), workers, collect,
                  progress)
    return written


def _batches(jobs: list[Job], workers: int, one_by_one: bool = False) -> list[list[Job]]:
    """Batches of one level each (of one job each if ``one_by_one``, in the order given).

    First a small batch of every level (a sixteenth of its jobs per worker),
    the most numerous level first, so a report comes soon and each level is
    timed early; then, level by level in the order of their first job,
    batches of a quarter of the jobs left per worker, shrinking so the last
    ones end close together, never smaller than the first (each call costs a
    set-up).
    """
    if one_by_one:
        return [[job] for job in jobs]
    levels: dict[str, list[Job]] = {}
    for job in jobs:
        levels.setdefault(job[0], []).append(job)
    firsts, batches = [], []
    for level_jobs in sorted(levels.values(), key=len, reverse=True):
        floor = math.ceil(len(level_jobs) / (workers * 16))
        firsts.append(level_jobs[:floor])
    for level_jobs in levels.values():
        floor = math.ceil(len(level_jobs) / (workers * 16))
        rest = level_jobs[floor:]
        while rest:
            size = max(floor, math.ceil(len(rest) / (workers * 4)))
            batches.append(rest[:size])
            rest = rest[size:]
    return firsts + batches


Collect = Callable[[list[Job], Timed], None]


def _timed(render: RenderFn, atlas: Atlas, out: Path, batch: list[Job]) -> Timed:
    start = time.perf_counter()
    paths = render(atlas, out, batch)
    return paths, time.perf_counter() - start


def _run_here(render: RenderFn, atlas: Atlas, out: Path, batches: list[list[Job]],
              collect: Collect) -> None:
    for batch in batches:
        collect(batch, _timed(render, atlas, out, batch))


def _in_worker(render: RenderFn, out: Path, batch: list[Job]) -> Timed:
    assert _ATLAS is not None, "the atlas is inherited by fork"
    return _timed(render, _ATLAS, out, batch)


def _run_pool(render: RenderFn, atlas: Atlas, out: Path, batches: list[list[Job]], workers: int,
              collect: Collect, progress: Progress | None) -> None:
    global _ATLAS
    _ATLAS = atlas
    try:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            futures = {pool.submit(_in_worker, render, out, batch): batch for batch in batches}
            collected: set = set()
            try:
                with _heartbeat(progress):  # its thread starts after the first submit forked
                    pending = set(futures)
                    while pending:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
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


def _on_dask_worker(render: RenderFn, atlas: Atlas, out: Path, batch: list[Job]) -> Timed:
    """Render a batch on a Dask worker: one batch at a time per process, writes kept in ``out``.

    Rendering changes process-wide state (matplotlib's rcParams through
    ``rc_context``, the output folder of :func:`battlemap._io.writing_into`),
    so a worker started with several threads renders its batches one after
    another; start workers with ``--nthreads 1`` and as many ``--nworkers``
    as there are cores.
    """
    with _DASK_LOCK, writing_into(out):
        return _timed(render, atlas, out, batch)


def _run_dask(render: RenderFn, atlas: Atlas, out: Path, jobs: list[Job],
              executor: str, collect: Collect, progress: Progress | None,
              one_by_one: bool = False) -> None:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ConfigError("--executor dask needs dask.distributed: "
                          "pip install 'battlemap[dask]'") from None
    if executor == "dask-local":
        cluster = LocalCluster(n_workers=os.cpu_count() or 2, threads_per_worker=1,
                               processes=True, dashboard_address=":0",  # 8787 may be taken
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
        parallel = max(1, len(client.nthreads()))  # one batch at a time per worker process
        if progress:
            progress.parallel = parallel
        batches = _batches(jobs, parallel, one_by_one)
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


@contextmanager
def _heartbeat(progress: Progress | None) -> Iterator[None]:
    """Let ``progress`` show a line while no batch has finished (a thread looking at the clock)."""
    if progress is None or progress.quiet:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(_TICK):
            progress.tick()

    thread = threading.Thread(target=beat, name="battlemap-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class Progress:
    """A progress line per stage: count, share and time left; silent when quiet.

    The time left: each job left weighs the measured seconds per job of its
    level (from the finished batches), or, for a level not yet timed, its
    :data:`LEVEL_WEIGHT` scaled by the levels already timed; their sum is
    shared by the workers. Not on a terminal, a line is written at
    each tenth of the jobs, and when nothing was written for a while: after
    ``first`` seconds at the start, then every ``every`` seconds.
    """

    def __init__(self, stage: str, total: int, *, quiet: bool = False,
                 clock: Callable[[], float] = time.perf_counter, stream: TextIO | None = None,
                 first: float = 2.0, every: float = 15.0) -> None:
        self.stage, self.total, self.done = stage, total, 0
        self.quiet = quiet
        self.clock, self.stream = clock, stream or sys.stderr
        self.first, self.every = first, every
        self.start = self.clock()
        self.tty = self.stream.isatty()
        self._last_tenth, self._last_line, self._estimated = -1, self.start, False
        self._lines = 0
        self._lock = threading.Lock()
        self._left: dict[str, int] = {}
        self._seconds: dict[str, float] = {}   # level: worker seconds of its finished jobs
        self._count: dict[str, int] = {}       # level: its finished jobs
        self.parallel, self._finished_at = 1, self.start
        self._show(force=True)

    def expect(self, jobs: Sequence[Job], parallel: int = 1) -> None:
        """The jobs this stage will run on ``parallel`` workers, to weigh them by level."""
        self.parallel = parallel
        for level, _ in jobs:
            self._left[level] = self._left.get(level, 0) + 1

    def finished(self, jobs: Sequence[Job], seconds: float | None = None) -> None:
        """A batch of ``jobs`` finished, having taken ``seconds`` of a worker's time."""
        with self._lock:
            self.done, self._finished_at = self.done + len(jobs), self.clock()
            for level, _ in jobs:
                self._left[level] = max(0, self._left.get(level, 1) - 1)
            for level, _ in jobs if seconds is not None else ():
                self._seconds[level] = self._seconds.get(level, 0.0) + seconds / len(jobs)
                self._count[level] = self._count.get(level, 0) + 1
            self._show()

    def worker_seconds(self, level: str) -> float:
        """The seconds the finished jobs of ``level`` took on their workers."""
        with self._lock:
            return self._seconds.get(level, 0.0)

    def advance(self, count: int = 1) -> None:
        """``count`` jobs of no known level or cost finished."""
        with self._lock:
            self.done += count
            self._show()

    def tick(self) -> None:
        """Write a line if nothing was written for a while (called by a heartbeat)."""
        with self._lock:
            now = self.clock()
            wait_for = self.first if self._lines == 1 else self.every
            if self.tty or now - self._last_line >= wait_for:
                self._show(force=True)

    def left(self) -> float | None:
        """Seconds left, estimated; None before any job finished.

        The worker seconds the jobs left will take, by level, over the
        number of workers, less the time since the last batch finished (so
        the heartbeat's lines count down); by count when no batch was timed.
        """
        if not self.done:
            return None
        if not self._count or not self._left:
            return (self.clock() - self.start) / self.done * (self.total - self.done)
        per_job = {level: self._seconds[level] / n for level, n in self._count.items()}
        timed = [level for level in per_job if level in LEVEL_WEIGHT]
        per_weight = (sum(per_job[level] / LEVEL_WEIGHT[level] for level in timed) / len(timed)
                      if timed else sum(per_job.values()) / len(per_job))
        work = sum(n * per_job.get(level, LEVEL_WEIGHT.get(level, 1.0) * per_weight)
                   for level, n in self._left.items())
        return max(0.0, work / self.parallel - (self.clock() - self._finished_at))

    @staticmethod
    def stage_done(stage: str, seconds: float) -> None:
        """One line for a stage that ran as one step (load, validate, join, stats)."""
        sys.stderr.write(f"{stage:<9} {'done':>11} {seconds:6.1f} s\n")
        sys.stderr.flush()

    def close(self) -> None:
        if not self.quiet and self.tty:
            self.stream.write("\n")

    def _show(self, force: bool = False) -> None:
        if self.quiet:
            return
        tenth = 10 * self.done // max(self.total, 1)
        first_estimate = self.done > 0 and not self._estimated
        if (not (force or self.tty or first_estimate) and tenth == self._last_tenth
                and self.done < self.total):
            return
        self._last_tenth, self._estimated = tenth, self.done > 0
        now = self.clock()
        self._last_line, self._lines = now, self._lines + 1
        left = self.left() if self.done < self.total else None
        eta = f", ~{left:.0f} s left" if left is not None else ""
        line = (f"{self.stage:<9} {self.done:>5}/{self.total} "
                f"{100 * self.done / max(self.total, 1):5.1f}% {now - self.start:6.1f} s{eta}")
        self.stream.write(("\r" + line.ljust(60)) if self.tty else line + "\n")
        self.stream.flush()

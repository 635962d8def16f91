"""Render jobs' bookkeeping: which are stale, which files each wrote, what may be deleted.

A job is ``(level, unit_id)`` of one renderer (web, posters, exports,
bulletin). Its manifest entry (see :mod:`battlemap._manifest`) holds its
fingerprint and the files it wrote. A job is rendered again when its
fingerprint changed or one of its files is gone; after it is rendered, the
files it wrote last time and not this time are deleted; the files of a job
whose unit left the data are deleted. Only files a manifest entry lists are
ever deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from battlemap._manifest import Entry, present, remove_files

__all__ = ["SHARED", "BuildLog", "JobRecorder", "key", "remove_gone", "stale_jobs"]

Job = tuple[str, str]
FilesOf = Callable[[Job], list[str]]
"""The files (relative to the output folder) a job writes, by the renderers' naming."""

SHARED: Job = ("*", "*")
"""The job under which a renderer's files shared by all its jobs (assets, shared data) are kept."""


def key(renderer: str, job: Job) -> str:
    """The manifest key of a job: ``renderer:level:unit_id``."""
    return f"{renderer}:{job[0]}:{job[1]}"


def stale_jobs(out: Path, renderer: str, wanted: list[Job], prints: dict[Job, str],
               manifest: dict[str, Entry], force: bool) -> list[Job]:
    """The wanted jobs to render: forced, changed, or with a file missing (shared ones too)."""
    shared = manifest.get(key(renderer, SHARED))
    shared_ok = shared is None or present(out, shared)  # e.g. the web assets are still there
    return [job for job in wanted if force or not shared_ok
            or (manifest.get(key(renderer, job)) or {}).get("print") != prints[job]
            or not present(out, manifest.get(key(renderer, job)))]


@dataclass
class BuildLog:
    """What this build has changed in the output folder so far (for the report)."""

    out: Path
    stage: str = "prepare"
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def wrote(self, paths: list[Path]) -> None:
        names = (Path(p).relative_to(self.out).as_posix() for p in paths)
        self.written = list(dict.fromkeys([*self.written, *names]))

    def touched(self, name: str) -> bool:
        """Whether this build replaced the file ``name`` (looked up after a failure)."""
        path = self.out / name
        return path.is_file() and path.stat().st_mtime >= self.started

    def status(self, state: str, error: BaseException | None = None) -> dict[str, object]:
        """The report's ``build`` entry: state, stage, and the files replaced and removed."""
        status: dict[str, object] = {
            "status": state, "stage": self.stage, "files_replaced": len(self.written),
            "files_removed": len(self.removed), "replaced": self.written[:2000],
            "removed": self.removed[:2000]}
        if error is not None:
            status["error"] = f"{type(error).__name__}: {error}"
        return status


class JobRecorder:
    """Collects the files of the jobs of one renderer as their batches finish.

    ``whole``: the renderer has one job that owns every file it writes
    (exports, bulletin). Otherwise each file goes to the job of its batch
    whose name it has, and the rest are the renderer's shared files.
    """

    def __init__(self, out: Path, renderer: str, stale: list[Job], files_of: FilesOf,
                 log: BuildLog, *, whole: bool) -> None:
        self.out, self.renderer, self.stale, self.log, self.whole = out, renderer, stale, log, whole
        self.files_of = files_of
        self.done: dict[Job, list[str]] = {}
        self.later: list[tuple[Job, str]] = []

    def finished(self, batch: list[Job], paths: list[Path]) -> None:
        """``run_jobs``' ``on_batch``: a batch of jobs finished, having written ``paths``."""
        for job in batch:
            self.done.setdefault(job, [])
        self.also(batch, paths)

    def also(self, batch: list[Job], paths: list[Path]) -> None:
        """Files written for these jobs, e.g. the meeting atlases after the posters."""
        self.log.wrote(paths)
        names = [Path(p).relative_to(self.out).as_posix() for p in paths]
        owner = {n: job for job in batch for n in self.files_of(job)}
        for name in names:
            job = batch[0] if self.whole else owner.get(name, SHARED)
            if job in self.done:
                self.done[job].append(name)
            else:
                self.later.append((job, name))

    def record(self, prints: dict[Job, str], manifest: dict[str, Entry]) -> None:
        """Write the jobs into the manifest; delete the files a rendered job no longer writes.

        A job that did not finish (its batch failed) keeps no fingerprint, so
        the next build renders it again; the files it did replace (newer than
        this build's start) are listed as battlemap's and in the report.
        """
        dropped = self._renew_shared(manifest)
        for job, name in self.later:  # shared files, atlases of towns not rendered again
            _add_files(manifest, key(self.renderer, job), [name])
        for job in self.stale:
            entry_key = key(self.renderer, job)
            old = (manifest.get(entry_key) or {}).get("files") or []
            if job in self.done:
                new = set(self.done[job])
                manifest[entry_key] = {"print": prints[job], "files": sorted(new)}
                dropped += [n for n in old if n not in new]
            else:
                touched = [n for n in self.files_of(job) if self.log.touched(n)]
                self.log.written += [n for n in touched if n not in self.log.written]
                manifest[entry_key] = {"print": "", "files": sorted({*old, *touched})}
        _drop(self.out, list(dict.fromkeys(dropped)), manifest, self.log)

    def _renew_shared(self, manifest: dict[str, Entry]) -> list[str]:
        """After every stale job finished: the shared files are what this build wrote.

        Each batch writes all of a renderer's shared files (assets, shared
        data), so one that none wrote is left from an older battlemap (e.g.
        the web's separate scripts before ``atlas.js``); its name is returned
        to be dropped. After a failure the old list is kept and extended.
        """
        written = {name for job, name in self.later if job == SHARED}
        if not written or any(job not in self.done for job in self.stale):
            return []
        entry_key = key(self.renderer, SHARED)
        old = (manifest.get(entry_key) or {}).get("files") or []
        manifest[entry_key] = {"print": "", "files": sorted(written)}
        self.later = [(job, name) for job, name in self.later if job != SHARED]
        return [n for n in old if n not in written]


def remove_gone(out: Path, renderer: str, manifest: dict[str, Entry], prints: dict[Job, str],
                log: BuildLog) -> int:
    """Delete the files of units that no longer exist; forget them. Returns their number."""
    gone = [k for k in manifest if k.startswith(f"{renderer}:") and k != key(renderer, SHARED)
            and tuple(k.split(":", 2)[1:]) not in prints]
    files = [n for k in gone for n in (manifest.pop(k).get("files") or [])]
    _drop(out, files, manifest, log)
    return len(gone)


def _add_files(manifest: dict[str, Entry], entry_key: str, names: list[str]) -> None:
    entry = manifest.get(entry_key) or {"print": "", "files": []}
    manifest[entry_key] = {**entry, "files": sorted({*(entry.get("files") or []), *names})}


def _drop(out: Path, names: list[str], manifest: dict[str, Entry], log: BuildLog) -> None:
    """Delete files battlemap wrote that no job of the manifest lists any more.

    Called once per clean-up, after the manifest holds every job's new files:
    the set of listed files is built once (not once per job: issue 16).
    """
    if not names:
        return
    listed = {n for entry in manifest.values() for n in (entry.get("files") or [])}
    removed = remove_files(out, [n for n in names if n not in listed])
    log.removed += [p.relative_to(out).as_posix() for p in removed]

"""Running the renderers: which jobs are stale, then the jobs, side by side or in turn.

The whole-atlas outputs (exports, bulletin, letters: one job each) run side
by side on the workers first, then each per-unit renderer (web, posters) in
turn. Every job's files go into the manifest (:mod:`battlemap._jobs`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pandas as pd

from battlemap._engine import Progress, run_jobs
from battlemap._jobs import BuildLog, JobRecorder, remove_gone, stale_jobs
from battlemap._manifest import Entry, fingerprints, load_manifest, save_manifest
from battlemap._model import Atlas
from battlemap._options import BuildOptions
from battlemap._paths import atlas_file, page_data_file, page_file, poster_file, safe_stem
from battlemap.export import write_geopackage, write_statistics_xlsx

__all__ = ["WHOLE_ATLAS", "render_all"]

WHOLE_ATLAS = ("exports", "bulletin", "letters")
"""Outputs made once per build from the whole atlas, not once per unit."""
WHOLE_LABEL = "documents"
"""The progress line's name for those outputs, which run side by side (fits its column)."""


def render_all(atlas: Atlas, out: Path, options: BuildOptions, summary: dict[str, dict[str, int]],
               log: BuildLog, timings: dict[str, float], in_progress: Callable[[], None]) -> None:
    """The whole-atlas outputs side by side, then each per-unit renderer in turn.

    The report says "in progress" at each start; the manifest is saved even
    when a renderer fails.
    """
    unit_prints = _with_monitoring(fingerprints(atlas), atlas)
    manifest = load_manifest(out)
    whole = ["exports", *(r for r in options.only if r in WHOLE_ATLAS)]
    try:
        log.stage = ", ".join(whole)
        in_progress()
        summary.update(_render_whole(atlas, out, whole, unit_prints, manifest, options, log,
                                     timings))
        for renderer in (r for r in options.only if r not in WHOLE_ATLAS):
            log.stage = renderer
            in_progress()
            start = time.perf_counter()
            summary[renderer] = _render_stage(atlas, out, renderer, unit_prints, manifest,
                                              options, log)
            timings[renderer] = round(time.perf_counter() - start, 3)
    finally:
        save_manifest(out, manifest)


def _render_stage(atlas: Atlas, out: Path, renderer: str, prints: dict[tuple[str, str], str],
                  manifest: dict[str, Entry], options: BuildOptions, log: BuildLog
                  ) -> dict[str, int]:
    wanted, stale, recorder = _plan(atlas, out, renderer, prints, manifest, options, log)
    progress = Progress(renderer, len(stale), quiet=options.quiet)
    try:
        with _series(renderer):
            run_jobs(_RENDER[renderer], atlas, out, stale, workers=options.workers,
                     executor=options.executor, progress=progress, on_batch=recorder.finished)
            progress.close()
            if renderer == "posters" and atlas.config.posters.meeting_atlas:
                _meeting_atlases(atlas, out, stale, options, recorder)
    finally:
        recorder.record(prints, manifest)
    return _outcome(out, renderer, wanted, stale, manifest, prints, log)


def _render_whole(atlas: Atlas, out: Path, renderers: list[str],
                  unit_prints: dict[tuple[str, str], str], manifest: dict[str, Entry],
                  options: BuildOptions, log: BuildLog, timings: dict[str, float]
                  ) -> dict[str, dict[str, int]]:
    """Exports, bulletin and letters: one job each, run side by side on the workers.

    Each one's time is what its job took on its worker. The longest goes out
    first (:func:`_longest_first`), so the others share the second worker.
    """
    prints = {r: _whole_print(atlas, unit_prints, r) for r in renderers}
    plans = {r: _plan(atlas, out, r, prints[r], manifest, options, log) for r in renderers}
    jobs = [job for r in _longest_first(out, renderers) for job in plans[r][1]]
    progress = Progress(WHOLE_LABEL, len(jobs), quiet=options.quiet)
    try:
        run_jobs(_render_whole_job, atlas, out, jobs, workers=options.workers,
                 executor=options.executor, progress=progress,
                 on_batch=lambda batch, paths: plans[batch[0][0]][2].finished(batch, paths),
                 one_by_one=True)
        progress.close()
    finally:
        for r, (_, _, recorder) in plans.items():
            recorder.record(prints[r], manifest)
            timings[r] = round(progress.worker_seconds(r), 3)
    return {r: _outcome(out, r, wanted, stale, manifest, prints[r], log)
            for r, (wanted, stale, _) in plans.items()}


def _longest_first(out: Path, renderers: list[str]) -> list[str]:
    """The renderers, the one that took longest at the last build first (its report.json).

    Without a report: letters, bulletin, exports (the letters are the longest at the
    sample's size; at ten times its cases the exports are).
    """
    order = list(reversed(renderers))
    try:
        seconds = json.loads((out / "report.json").read_text(encoding="utf-8"))["timings_s"]
        took = {r: float(seconds.get(r) or 0) for r in order}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return order
    return sorted(order, key=lambda r: -took[r])


def _plan(atlas: Atlas, out: Path, renderer: str, prints: dict[tuple[str, str], str],
          manifest: dict[str, Entry], options: BuildOptions, log: BuildLog
          ) -> tuple[list[tuple[str, str]], list[tuple[str, str]], JobRecorder]:
    """A renderer's wanted jobs, the stale ones among them, and their recorder."""
    wanted = [job for job in prints if _selected(job, options)]
    stale = stale_jobs(out, renderer, wanted, prints, manifest, options.force)
    recorder = JobRecorder(out, renderer, stale, lambda job: _job_files(atlas, renderer, job),
                           log, whole=renderer in WHOLE_ATLAS)
    return wanted, stale, recorder


def _outcome(out: Path, renderer: str, wanted: list[tuple[str, str]],
             stale: list[tuple[str, str]], manifest: dict[str, Entry],
             prints: dict[tuple[str, str], str], log: BuildLog) -> dict[str, int]:
    """What a renderer did; the files of units that are gone are removed."""
    # bulletins and letters of earlier dates are kept: they are the office's archive
    removed = (0 if renderer in ("bulletin", "letters")
               else remove_gone(out, renderer, manifest, prints, log))
    return {"rendered": len(stale), "skipped": len(wanted) - len(stale), "removed": removed}


def _job_files(atlas: Atlas, renderer: str, job: tuple[str, str]) -> list[str]:
    """The files (relative to the output folder) a job writes, by the renderers' naming."""
    level, unit_id = job
    if renderer == "exports":
        return list(_EXPORTS)
    if renderer == "bulletin":
        from battlemap.render.bulletin import BULLETIN_DIR

        return [f"{BULLETIN_DIR}/{safe_stem(unit_id)}{suffix}"
                for suffix in (".pdf", ".html", ".docx")]
    if renderer == "letters":          # names come from the numbers: known once written
        return []
    if renderer == "web":
        pages = [page_file(level, unit_id), page_data_file(level, unit_id)]
        monitoring = atlas.extra.get("monitoring")
        if level == "district" and monitoring is not None:  # the section pages go with index.html
            from battlemap.render.water import section_href

            pages += [section_href(str(s)) for s in monitoring.sections.index]
        return pages
    posters = atlas.config.posters
    names = [poster_file(level, unit_id, paper) for paper in posters.papers.get(level, ())]
    if level == "town" and posters.meeting_atlas:
        names.append(atlas_file(unit_id))
    return names


def _with_monitoring(prints: dict[tuple[str, str], str], atlas: Atlas
                     ) -> dict[tuple[str, str], str]:
    """The district's print (index.html, the section pages) covers the monitoring figures too."""
    monitoring = atlas.extra.get("monitoring")
    if monitoring is None:
        return prints
    digest = pd.util.hash_pandas_object(monitoring.samples.astype(str), index=False).sum()
    return {job: hashlib.sha1(f"{value}|{digest}".encode(), usedforsecurity=False).hexdigest()[:16]
            if job[0] == "district" else value for job, value in prints.items()}


def _meeting_atlases(atlas: Atlas, out: Path, rendered: list[tuple[str, str]],
                     options: BuildOptions, recorder: JobRecorder) -> None:
    """Re-assemble the meeting atlas (会议图册) of each town with a re-rendered poster."""
    village_of, town_of = atlas.units["grid"]["parent_id"], atlas.units["village"]["parent_id"]
    towns = set()
    for level, unit_id in rendered:
        if level == "grid":
            level, unit_id = "village", village_of[unit_id]
        if level == "village":
            level, unit_id = "town", town_of[unit_id]
        if level == "town":
            towns.add(unit_id)
    pages = (village_of.map(town_of).value_counts()
             .add(town_of.value_counts(), fill_value=0))   # the atlas's map pages, less one
    progress = Progress("atlases", len(towns), quiet=options.quiet)
    run_jobs(_render_atlases, atlas, out,
             [("town", t) for t in sorted(towns, key=lambda t: (-pages.get(t, 0), t))],
             workers=options.workers, executor=options.executor, progress=progress,
             on_batch=recorder.also, one_by_one=True)   # the biggest first: workers end together
    progress.close()


def _whole_print(atlas: Atlas, unit_prints: dict[tuple[str, str], str], renderer: str
                 ) -> dict[tuple[str, str], str]:
    """Exports and the bulletin (通报) are one job per as-of date: they show every unit."""
    digest = hashlib.sha1(repr((sorted(unit_prints.items()), atlas.extra.get("changes_since")))
                          .encode(), usedforsecurity=False).hexdigest()[:16]
    return {(renderer, atlas.as_of.isoformat()): digest}


def _selected(job: tuple[str, str], options: BuildOptions) -> bool:
    level, unit_id = job
    if level == "exports":
        return True
    if level in ("bulletin", "letters"):
        return options.levels is None and options.units is None
    return ((options.levels is None or level in options.levels)
            and (options.units is None or unit_id in options.units))


def _render_web(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    from battlemap.render.web import render_web

    return render_web(atlas, out, jobs)


def _series(renderer: str) -> AbstractContextManager:
    """Posters keep their context and sheets from batch to batch (in each worker)."""
    if renderer != "posters":
        return nullcontext()
    from battlemap.render.poster import series

    return series()


def _render_posters(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    from battlemap.render.poster import render_posters

    return render_posters(atlas, out, jobs)


def _render_atlases(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    from battlemap.render.poster import render_meeting_atlases

    return render_meeting_atlases(atlas, out, [unit_id for _, unit_id in jobs])


_EXPORTS = ("battlemap.gpkg", "statistics.xlsx")


def _render_exports(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    if not jobs:
        return []
    gpkg, xlsx = _EXPORTS
    return [write_geopackage(atlas, out / gpkg), write_statistics_xlsx(atlas, out / xlsx)]


def _render_bulletin(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    from battlemap.render.bulletin import render_bulletin

    return render_bulletin(atlas, out) if jobs else []


def _render_letters(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    from battlemap.render.letters import render_letters

    return render_letters(atlas, out) if jobs else []


def _render_whole_job(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    """A whole-atlas output's job: its level names its renderer (see :func:`_whole_print`)."""
    return _RENDER[jobs[0][0]](atlas, out, jobs)


_RENDER = {"web": _render_web, "posters": _render_posters, "bulletin": _render_bulletin,
           "exports": _render_exports, "letters": _render_letters}

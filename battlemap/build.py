"""Build: run load → validate → join → stats, then the renderers, and write the report."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from battlemap import LEVELS, STATES, __version__
from battlemap._engine import Progress, run_jobs
from battlemap._findings import DUPLICATE_RULE, Findings
from battlemap._manifest import fingerprints, load_manifest, remove_outputs, save_manifest
from battlemap._model import Atlas
from battlemap.config import Config
from battlemap.errors import BattlemapError
from battlemap.export import write_geopackage, write_statistics_xlsx
from battlemap.history import (
    CHANGE_COLUMNS,
    case_changes,
    previous_snapshot,
    unit_changes,
    write_snapshot,
)
from battlemap.join import (
    current_period,
    derive_lifecycle,
    join_cases,
    join_rivers,
    river_stretches,
)
from battlemap.load import load_boundaries, load_catchments, load_context, load_rivers, read_case_table
from battlemap.privacy import masked_counts
from battlemap.register import letters_on, read_history
from battlemap.report import nothing_mapped, write_report_files
from battlemap.stats import RANKING_RULE, by_category, previous_ranks, rank_siblings, unit_statistics
from battlemap.validate import validate_boundaries, validate_cases, validate_catchments, validate_lines

__all__ = ["BuildOptions", "Prepared", "build", "prepare"]

RENDERERS = ("web", "posters", "bulletin", "letters")
WHOLE_ATLAS = ("exports", "bulletin", "letters")
"""Outputs made once per build from the whole atlas, not once per unit."""


@dataclass
class Prepared:
    """The pipeline's result before rendering: the atlas and what was found on the way."""

    atlas: Atlas
    findings: Findings
    cases_in: int
    original: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    masked: dict[str, int] = field(default_factory=dict)  # column -> values masked at load

    def ledger(self) -> dict[str, object]:
        rejected = self.findings.rejected_frame()
        return {
            "cases_in": self.cases_in,
            "cases_mapped": len(self.atlas.cases),
            "cases_rejected": len(rejected),
            "rejected_by_reason": {str(k): int(v) for k, v in
                                   rejected["reason_code"].value_counts().sort_index().items()},
        }


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - start, 3)


def prepare(config: Config, *, since: dt.date | None = None) -> Prepared:
    """Load, validate, join and count: everything but rendering.

    Raises
    ------
    InputError
        On a hard input problem, before anything is written.
    """
    findings, timings = Findings(), {}
    with _timed(timings, "load"):
        levels = load_boundaries(config)
        rivers = load_rivers(config)
        context = load_context(config)
        catchments = load_catchments(config)
        case_table = read_case_table(config.cases)
        masked = masked_counts(case_table.original, *levels.values(), rivers, context, catchments)
    with _timed(timings, "validate"):
        units = validate_boundaries(levels, config, findings)
        rivers = validate_lines(rivers, str(config.rivers.path), findings)
        cases = validate_cases(case_table.table, config, units["district"], findings)
        if context is not None:
            findings.absorb(context)
        if catchments is not None:
            catchments = validate_catchments(catchments, rivers, config.catchments, findings)
    with _timed(timings, "join"):
        cases = join_cases(cases, units, config, findings)
        cases = join_rivers(cases, rivers, config, catchments)
        cases = derive_lifecycle(cases, config)
    with _timed(timings, "stats"):
        atlas = _statistics(config, units, rivers, cases, context)
        _add_changes(atlas, config.output.dir / "history", since)
        atlas.extra["letter_history"] = read_history(config.output.dir, config.as_of)
    return Prepared(atlas, findings, len(case_table.table), case_table.original, timings, masked)


@dataclass(frozen=True)
class BuildOptions:
    """How to build: what to render, where, and how much of it."""

    only: tuple[str, ...] = RENDERERS
    levels: tuple[str, ...] | None = None   # e.g. ("town",); None = every level and the rivers
    units: tuple[str, ...] | None = None    # unit or river ids; None = all
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    executor: str = "process"               # process | dask-local | dask://HOST:PORT
    force: bool = False
    since: dt.date | None = None
    quiet: bool = True


def build(config: Config, options: BuildOptions | None = None) -> dict[str, object]:
    """Run the whole job and write every output under ``config.output.dir``.

    Only outputs whose inputs changed are rendered again (``force`` renders
    all); outputs of units that no longer exist are removed. A hard input
    problem raises before anything is written. Returns the report (also
    written to ``report.json``).
    """
    options = options or BuildOptions()
    out = config.output.dir
    out.mkdir(parents=True, exist_ok=True)
    with _exclusive(out):
        prepared = prepare(config, since=options.since)
        atlas = prepared.atlas
        if not options.quiet:
            for stage, seconds in prepared.timings.items():
                Progress.stage_done(stage, seconds)
        summary = _render_all(atlas, out, options, prepared.timings)
        report = write_report(prepared, out, summary)
        write_snapshot(atlas.cases, atlas.as_of, out / "history")
    return report


def _render_all(atlas: Atlas, out: Path, options: BuildOptions, timings: dict[str, float]
                ) -> dict[str, dict[str, int]]:
    unit_prints = fingerprints(atlas)
    manifest = load_manifest(out)
    summary = {}
    for renderer in ("exports", *options.only):
        with _timed(timings, renderer):
            prints = (_whole_print(atlas, unit_prints, renderer) if renderer in WHOLE_ATLAS
                      else unit_prints)
            wanted = [job for job in prints if _selected(job, options)]
            present = _present(out, renderer, atlas)
            stale = [job for job in wanted if options.force
                     or manifest.get(_key(renderer, job)) != prints[job] or job not in present]
            progress = Progress(renderer, len(stale), quiet=options.quiet)
            run_jobs(_RENDER[renderer], atlas, out, stale, workers=options.workers,
                     executor=options.executor, progress=progress)
            progress.close()
            if renderer == "posters" and atlas.config.posters.meeting_atlas:
                _meeting_atlases(atlas, out, stale, options)
            manifest.update({_key(renderer, job): prints[job] for job in stale})
            removed = _remove_gone(out, renderer, manifest, prints)
            save_manifest(out, manifest)
        summary[renderer] = {"rendered": len(stale), "skipped": len(wanted) - len(stale),
                             "removed": removed}
    return summary


def _meeting_atlases(atlas: Atlas, out: Path, rendered: list[tuple[str, str]],
                     options: BuildOptions) -> None:
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
    progress = Progress("atlases", len(towns), quiet=options.quiet)
    run_jobs(_render_atlases, atlas, out, [("town", t) for t in sorted(towns)],
             workers=options.workers, executor=options.executor, progress=progress)
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


def _key(renderer: str, job: tuple[str, str]) -> str:
    return f"{renderer}:{job[0]}:{job[1]}"


def _present(out: Path, renderer: str, atlas: Atlas) -> set[tuple[str, str]]:
    """The jobs whose output files are on disk, from one listing per folder."""
    if renderer == "exports":
        whole = all((out / name).exists() for name in ("battlemap.gpkg", "statistics.xlsx"))
        return {("exports", atlas.as_of.isoformat())} if whole else set()
    if renderer == "bulletin":
        pdfs = (out / "bulletin").glob("*.pdf")
        return {("bulletin", p.stem) for p in pdfs if p.with_suffix(".docx").exists()}
    if renderer == "letters":
        done = (out / "letters" / "register.sqlite").exists()
        return {("letters", p.name) for p in (out / "letters").glob("[!.]*") if p.is_dir()
                and done}
    if renderer == "posters":
        return {(p.parent.name, p.stem.rsplit("_", 1)[0]) for p in out.glob("posters/*/*_*.pdf")}
    if not (out / "assets").is_dir():
        return set()
    found = {(p.parent.name, p.stem) for p in out.glob("*/*.html")}
    if (out / "index.html").exists():
        found |= {("district", unit_id) for unit_id in atlas.units["district"].index}
    return found


def _remove_gone(out: Path, renderer: str, manifest: dict[str, str],
                 prints: dict[tuple[str, str], str]) -> int:
    """Remove outputs of units that no longer exist; forget them in the manifest."""
    gone = 0
    for key in [k for k in manifest if k.startswith(f"{renderer}:")]:
        _, level, unit_id = key.split(":", 2)
        if (level, unit_id) not in prints:
            remove_outputs(out, renderer, level, unit_id)
            del manifest[key]
            gone += 1
    return gone


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One build per output folder at a time: a second one is refused at once."""
    lock_path = out / ".battlemap.lock"
    with lock_path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BattlemapError(f"{out}: another battlemap build is writing to this folder; "
                                 "wait for it to finish, or use --out for another folder") from None
        for leftover in out.rglob(".*.tmp-*"):  # from a build that was killed
            leftover.unlink(missing_ok=True)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_report(prepared: Prepared, out: Path, written: dict[str, object] | None = None
                 ) -> dict[str, object]:
    """Write report.json, report.html and rejected_cases.csv; return the report."""
    atlas, findings = prepared.atlas, prepared.findings
    rejected = findings.rejected_frame()
    report = {
        "battlemap_version": __version__,
        "district": atlas.config.project.name,
        "as_of": atlas.as_of.isoformat(),
        "sample_data": atlas.config.project.sample,
        **prepared.ledger(),
        "duplicate_rule": DUPLICATE_RULE,
        "units": {level: len(atlas.units[level]) for level in LEVELS},
        "rivers": len(atlas.rivers),
        "states": {s: int((atlas.cases["state"] == s).sum()) for s in STATES},
        "overdue": int(atlas.cases["overdue"].sum()),
        "recurring": int(atlas.cases["recurring"].sum()),
        "declared_mismatches": int(atlas.cases["declared_mismatch"].sum()),
        "changes_since": atlas.extra.get("changes_since"),
        "changes": {c: int(atlas.units["district"][c].sum()) for c in CHANGE_COLUMNS},
        "ranking_rule": RANKING_RULE,
        "masked": prepared.masked,
        "warnings_by_kind": findings.warning_counts(),
        "warnings": findings.warning_records(),
        "rejected": rejected.to_dict(orient="records"),
        "outputs": written or {},
        "letters": letters_on(out, atlas.as_of),
        "timings_s": prepared.timings,
    }
    report["nothing_mapped"] = nothing_mapped(report)
    write_report_files(report, rejected, prepared.original, out)
    return report


def _statistics(config: Config, units: dict[str, gpd.GeoDataFrame], rivers: gpd.GeoDataFrame,
                cases: gpd.GeoDataFrame, context: gpd.GeoDataFrame | None) -> Atlas:
    period = current_period(config.as_of, config.lifecycle.period)
    stats = {}
    for level in LEVELS:
        frame = unit_statistics(units[level], cases, f"{level}_id", period)
        frame["rank"] = 0 if level == "district" else rank_siblings(frame)
        stats[level] = frame
    river_stats = unit_statistics(rivers, cases, "river_id", period)
    river_stats["rank"] = rank_siblings(river_stats, group="kind")
    extra = {"river_stretches": river_stretches(units, rivers), "ranking_rule": RANKING_RULE}
    return Atlas(
        config=config, units=stats, rivers=river_stats, cases=cases, context=context,
        by_type=by_category(cases, "problem_type"),
        by_channel=by_category(cases, "channel"),
        period=period, extra=extra,
    )


def _add_changes(atlas: Atlas, history: Path, since: dt.date | None) -> None:
    """Counts of what changed since the previous build's snapshot, per unit and river."""
    previous = previous_snapshot(history, atlas.as_of, since)
    atlas.extra["previous_snapshot"] = None if previous is None else previous[1]
    atlas.extra["previous_rank"] = previous_ranks(atlas.units["town"], atlas.extra["previous_snapshot"])
    if previous is None:
        changes = pd.DataFrame(False, index=atlas.cases.index, columns=list(CHANGE_COLUMNS))
        atlas.extra["changes_since"] = None
    else:
        atlas.extra["changes_since"] = previous[0].isoformat()
        changes = case_changes(atlas.cases, previous[1])
    for column in CHANGE_COLUMNS:
        atlas.cases[column] = changes[column]
    frames = {**{level: (atlas.units[level], f"{level}_id") for level in LEVELS},
              "river": (atlas.rivers, "river_id")}
    for frame, key in frames.values():
        counts = unit_changes(atlas.cases, changes, key, frame.index)
        for column in CHANGE_COLUMNS:
            frame[column] = counts[column]


def _render_web(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    from battlemap.render.web import render_web

    return render_web(atlas, out, jobs)


def _render_posters(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    from battlemap.render.poster import render_posters

    return render_posters(atlas, out, jobs)


def _render_atlases(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    from battlemap.render.poster import render_meeting_atlases

    return render_meeting_atlases(atlas, out, [unit_id for _, unit_id in jobs])


def _render_exports(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    if not jobs:
        return []
    return [write_geopackage(atlas, out / "battlemap.gpkg"),
            write_statistics_xlsx(atlas, out / "statistics.xlsx")]


def _render_bulletin(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    from battlemap.render.bulletin import render_bulletin

    return render_bulletin(atlas, out) if jobs else []


def _render_letters(atlas: Atlas, out: Path, jobs: list[tuple[str, str]]) -> list[Path]:
    from battlemap.render.letters import render_letters

    return render_letters(atlas, out) if jobs else []


_RENDER = {"web": _render_web, "posters": _render_posters, "bulletin": _render_bulletin,
           "exports": _render_exports, "letters": _render_letters}

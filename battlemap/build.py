"""Build: run load → validate → join → stats, then the renderers, and write the report."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from battlemap import LEVELS, STATES, __version__
from battlemap._engine import Progress, run_jobs
from battlemap._findings import DUPLICATE_RULE, Finding, Findings
from battlemap._jobs import BuildLog, JobRecorder, remove_gone, stale_jobs
from battlemap._manifest import Entry, fingerprints, load_manifest, save_manifest
from battlemap._model import Atlas
from battlemap._options import RENDERERS, BuildOptions
from battlemap._output import claim_output
from battlemap._paths import atlas_file, page_data_file, page_file, poster_file, safe_stem
from battlemap._uptodate import check, forget, input_fingerprint, last_report, remember
from battlemap.config import Config
from battlemap.export import write_geopackage, write_statistics_xlsx
from battlemap.history import CHANGE_COLUMNS, previous_snapshot, write_snapshot
from battlemap.join import derive_lifecycle, join_cases, join_rivers
from battlemap.load import (
    load_boundaries,
    load_catchments,
    load_context,
    load_neighbours,
    load_rivers,
    read_case_table,
    read_monitoring_table,
)
from battlemap.monitoring import monitoring_statistics
from battlemap.privacy import masked_counts
from battlemap.register import letters_on, read_history
from battlemap.report import (
    mismatch_rows,
    nothing_mapped,
    output_sizes,
    report_figures,
    write_report_files,
)
from battlemap.stats import RANKING_RULE, build_atlas, count_rule
from battlemap.validate import validate_boundaries, validate_cases, validate_catchments, validate_lines

__all__ = ["RENDERERS", "BuildOptions", "Prepared", "build", "prepare", "validate_only", "write_report"]

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
        neighbours = load_neighbours(config)
        catchments = load_catchments(config)
        case_table = read_case_table(config.cases)
        water = read_monitoring_table(config.monitoring) if config.monitoring else None
        masked = masked_counts(case_table.original, *levels.values(), rivers, context, catchments)
    with _timed(timings, "validate"):
        units = validate_boundaries(levels, config, findings)
        rivers = validate_lines(rivers, str(config.rivers.path), findings)
        cases = validate_cases(case_table.table, config, units["district"], findings)
        for layer in (context, neighbours):
            if layer is not None:
                findings.absorb(layer)
        if catchments is not None:
            catchments = validate_catchments(catchments, rivers, config.catchments, findings)
    with _timed(timings, "join"):
        cases = join_cases(cases, units, config, findings)
        cases = join_rivers(cases, rivers, config, catchments)
        cases = derive_lifecycle(cases, config)
    with _timed(timings, "stats"):
        previous = previous_snapshot(config.output.dir / "history", config.as_of, since)
        atlas = build_atlas(config, units, rivers, cases, context=context, neighbours=neighbours,
                            previous=previous,
                            letter_history=read_history(config.output.dir, config.as_of))
        if water is not None:  # the water-quality figures (issue 15), beside the case figures
            atlas = replace(atlas, extra={**atlas.extra, "monitoring": monitoring_statistics(
                water, config, context, atlas.rivers, atlas.cases, atlas.extra["river_stretches"],
                findings, atlas.units)})
    with _timed(timings, "glyphs"):
        findings.warnings.extend(_glyph_findings(atlas))
    return Prepared(atlas, findings, len(case_table.table), case_table.original, timings, masked)


def build(config: Config, options: BuildOptions | None = None) -> dict[str, object]:
    """Run the whole job and write every output under ``config.output.dir``.

    Only outputs whose inputs changed are rendered again (``force`` renders
    all); outputs of units that no longer exist are removed. When nothing a
    build reads changed since the last complete build and every output is
    still there, nothing is loaded or written and the report of that build
    is returned, saying nothing was rendered this time and since when it is
    up to date (see :mod:`battlemap._uptodate`). A
    hard input problem raises before anything is written. Before the first
    output is replaced the report says "in progress"; if rendering stops, it
    says the build failed, at which stage, and which files were replaced or
    removed. Returns the report (also written to ``report.json``).

    Raises
    ------
    ConfigError
        When the output folder is refused (see :mod:`battlemap._output`).
    """
    options = options or BuildOptions()
    with claim_output(config) as out:
        inputs = input_fingerprint(config, options)
        unchanged = check(out, inputs, options)
        if unchanged is not None:
            return last_report(out, unchanged)
        forget(out)
        prepared = prepare(config, since=options.since)
        if not options.quiet:
            for stage, seconds in prepared.timings.items():
                Progress.stage_done(stage, seconds)
        log = BuildLog(out)
        summary: dict[str, dict[str, int]] = {}
        try:
            _render_all(prepared, out, options, summary, log)
            log.stage = "history"
            log.wrote([write_snapshot(prepared.atlas.cases, prepared.atlas.as_of,
                                      out / "history")])
        except BaseException as exc:
            write_report(prepared, out, summary, log.status("failed", exc))
            raise
        report = write_report(prepared, out, summary, log.status("complete"))
        remember(out, inputs)
        return report


def validate_only(config: Config) -> dict[str, object]:
    """Load, validate and join without rendering, holding the output folder; write the report."""
    with claim_output(config) as out:
        forget(out)
        prepared = prepare(config)
        return write_report(prepared, out, None, {"status": "validated, nothing rendered"})


def _render_all(prepared: Prepared, out: Path, options: BuildOptions,
                summary: dict[str, dict[str, int]], log: BuildLog) -> None:
    """Each renderer in turn, the report saying "in progress" at each start.

    The manifest is saved even when a renderer fails.
    """
    atlas, timings = prepared.atlas, prepared.timings
    unit_prints = _with_monitoring(fingerprints(atlas), atlas)
    manifest = load_manifest(out)
    try:
        for renderer in ("exports", *options.only):
            log.stage = renderer
            write_report(prepared, out, summary, log.status("in progress"))
            with _timed(timings, renderer):
                prints = (_whole_print(atlas, unit_prints, renderer) if renderer in WHOLE_ATLAS
                          else unit_prints)
                summary[renderer] = _render_stage(atlas, out, renderer, prints, manifest,
                                                  options, log)
    finally:
        save_manifest(out, manifest)


def _render_stage(atlas: Atlas, out: Path, renderer: str, prints: dict[tuple[str, str], str],
                  manifest: dict[str, Entry], options: BuildOptions, log: BuildLog
                  ) -> dict[str, int]:
    wanted = [job for job in prints if _selected(job, options)]
    stale = stale_jobs(out, renderer, wanted, prints, manifest, options.force)
    recorder = JobRecorder(out, renderer, stale, lambda job: _job_files(atlas, renderer, job),
                           log, whole=renderer in WHOLE_ATLAS)
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


def _glyph_findings(atlas: Atlas) -> list[Finding]:
    """Data texts with a character the poster font lacks (drawn as □), found before writing."""
    from battlemap.render.fonts import font_for, glyph_findings

    return glyph_findings(atlas, font_for(atlas.config))


def write_report(prepared: Prepared, out: Path, written: dict[str, object] | None = None,
                 status: dict[str, object] | None = None) -> dict[str, object]:
    """Write report.json, report.html and rejected_cases.csv; return the report.

    ``status`` says whether the build is in progress, failed or complete, and
    what it has changed so far.
    """
    atlas, findings = prepared.atlas, prepared.findings
    rejected = findings.rejected_frame()
    report_status = (status or {}).get("status")
    district = atlas.units["district"].iloc[0]
    report = {
        "battlemap_version": __version__,
        "build": status or {"status": "complete"},
        "district": atlas.config.project.name,
        "as_of": atlas.as_of.isoformat(),
        "sample_data": atlas.config.project.sample,
        **prepared.ledger(),
        "duplicate_rule": DUPLICATE_RULE,
        "units": {level: len(atlas.units[level]) for level in LEVELS},
        "rivers": len(atlas.rivers),
        "count_rule": count_rule(dict(atlas.config.style.status_labels)),
        "total": int(district["total"]),
        "states": {s: int(district[s]) for s in STATES},
        "overdue": int(district["overdue"]),
        "recurring": int(district["recurring"]),
        "uncounted": int(district["uncounted"]),
        "figures": report_figures(atlas),
        "declared_mismatches": int(atlas.cases["declared_mismatch"].sum()),
        "declared_mismatch_cases": mismatch_rows(atlas),
        "changes_since": atlas.extra.get("changes_since"),
        "changes": {c: int(atlas.units["district"][c].sum()) for c in CHANGE_COLUMNS},
        "changes_rule": atlas.extra.get("changes_rule"),
        "ranking_rule": RANKING_RULE,
        "masked": prepared.masked,
        "monitoring": (atlas.extra["monitoring"].ledger() if "monitoring" in atlas.extra
                       else None),
        "warnings_by_kind": findings.warning_counts(),
        "warnings": findings.warning_records(),
        "rejected": rejected.to_dict(orient="records"),
        "outputs": dict(written or {}),
        "letters": letters_on(out, atlas.as_of),
        "timings_s": prepared.timings,
        # the whole folder's sizes once a build ends, not at each renderer's start (issue 16)
        "output_sizes": None if report_status == "in progress" else output_sizes(out),
    }
    report["nothing_mapped"] = nothing_mapped(report)
    write_report_files(report, rejected, prepared.original, out)
    return report


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


_RENDER = {"web": _render_web, "posters": _render_posters, "bulletin": _render_bulletin,
           "exports": _render_exports, "letters": _render_letters}

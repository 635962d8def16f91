"""Build: run load → validate → join → stats, then the renderers, and write the report."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from battlemap import LEVELS, STATES, __version__
from battlemap._engine import Progress
from battlemap._findings import DUPLICATE_RULE, Finding, Findings
from battlemap._jobs import BuildLog
from battlemap._model import Atlas
from battlemap._options import RENDERERS, BuildOptions
from battlemap._output import claim_output
from battlemap._render import render_all
from battlemap._uptodate import check, forget, input_fingerprint, last_report, remember
from battlemap.config import Config
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
            render_all(prepared.atlas, out, options, summary, log, prepared.timings,
                       lambda: write_report(prepared, out, summary, log.status("in progress")))
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

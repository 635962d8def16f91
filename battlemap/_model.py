"""The frames that flow between stages, and their columns.

This is the contract between the pipeline (load → validate → join → stats)
and the renderers (web, poster, bulletin). Everything is in the config's
analysis CRS (projected, metres) unless a column says otherwise.

Units (one GeoDataFrame per level, ``Atlas.units[level]``), indexed by
``unit_id`` (str), columns:
    name, parent_id (str | None; None for the district), chief (河长, str),
    level ("district" | "town" | "village" | "grid"), geometry (Polygon or
    MultiPolygon), and the statistics of ``UNIT_STAT_COLUMNS``.

Tributaries (``Atlas.rivers``), indexed by ``river_id``, columns: name,
kind ("main" or "tributary"), geometry (LineString / MultiLineString), and
the same statistics (over the cases assigned to the river).

Cases (``Atlas.cases``), indexed by ``case_id`` (str), columns of
``CASE_COLUMNS``; geometry is the case's point in the analysis CRS; ``lon``
and ``lat`` are its WGS84 coordinates (already converted from GCJ-02 etc.).

Context (``Atlas.context``, optional): points with name, kind, label.

Neighbours (``Atlas.neighbours``, optional, from ``[neighbours]``): the
districts around the district, drawn greyed on posters; columns
neighbour_id (str), name, feature, geometry (Polygon or MultiPolygon).

The stats stage makes the Atlas once (:func:`battlemap.stats.build_atlas`);
nothing changes it afterwards, and renderers only read it.

``Atlas.extra`` holds: ``ranking_rule`` (text), ``river_stretches`` (level,
unit_id, river_id, length_m, for every level and river), ``river_towns`` (the towns along each river,
from :func:`battlemap.stats.river_town_statistics`: one row per river and
town; river_id, town_id, the statistics of ``UNIT_STAT_COLUMNS`` over the
river's cases only, rank among the river's towns), ``changes_since`` (ISO
date of the previous snapshot or None), ``changes_rule`` (how the changes
count: :data:`battlemap.history.CHANGES_RULE`), ``changes_recounted`` (the
district's cases that became counted / uncounted since, ``{"joined", "left"}``,
or None) and ``previous_snapshot`` (that
snapshot: case_id index; state, overdue, counted, district_id/town_id/village_id/
grid_id/river_id; or None), ``monitoring`` (only with a ``[monitoring]``
table: the :class:`battlemap.monitoring.Monitoring` figures of the
water-quality sections, which the renderers draw), and ``previous_rank`` (each town's rank at that
snapshot, from :func:`battlemap.stats.previous_ranks`; nullable integers,
all NA without one), and ``closure_classes`` (per level and "river": the
closure-rate colour classes of :func:`battlemap.stats.closure_classes`, whose
index each unit carries as ``closed_class``).
Units, rivers and cases also carry the round-to-round change columns
new_since, closed_since, overdue_since, reopened_since (counts per unit,
booleans per case; zero/False when there is no previous snapshot).
``Atlas.extra["letter_history"]``: the letters sent before the as-of date,
one row per letter and case (:func:`battlemap.register.read_history`), from
which :mod:`battlemap.escalate` moves cases up and counts what was closed since.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from battlemap.config import Config

__all__ = ["CASE_COLUMNS", "UNIT_STAT_COLUMNS", "Atlas"]

CASE_COLUMNS = (
    "source_row",        # int: the row in the input file (spreadsheet numbering, header = 1)
    "reported_at",       # Timestamp (naive, Asia/Shanghai wall time)
    "channel",           # str: 上报渠道
    "problem_type",      # str: 问题类型
    "declared_town",     # str: 所属镇街 as the reporter chose it (may be "")
    "declared_village",  # str: 所属村居 as the reporter chose it (may be "")
    "river_name",        # str: 河涌名称 as exported (may be "")
    "status_raw",        # str: the app's word
    "state",             # str: one of battlemap.STATES, or battlemap.VOID (不计整改)
    "deadline",          # Timestamp or NaT: 整改期限
    "closed_at",         # Timestamp or NaT: 办结时间
    "description",       # str: public free text, MUST be escaped in HTML
    "valid",             # bool: 是否有效 (tips judged invalid are False)
    "lon", "lat",        # float: WGS84
    "coord_system",      # str: the system the export's coordinates were read in (GCJ-02, …)
    "grid_id", "village_id", "town_id", "district_id",  # str: located units
    "river_id",          # str: assigned tributary or main stem; "" = no tributary
    "river_distance_m",  # float: distance to that river (NaN when none)
    "declared_mismatch", # bool: declared town/village differs from the located one
    "counted",           # bool: counts in rectification figures (valid and state not void)
    "overdue",           # bool: 超期, counted, deadline passed and not closed
    "days_overdue",      # int: 0 when not overdue
    "recurring",         # bool: 反复, near a case closed earlier within the window
    "recurring_of",      # str: that earlier closed case's id (the latest closed); "" if none
    "days_open",         # int: from report to closure, or to the as-of date
    "age_band",          # str: e.g. "≤30天", "31–90天", …
    "geometry",
)

UNIT_STAT_COLUMNS = (
    "total",             # int: counted cases located in the unit (valid, state not void)
    "reported", "assigned", "rectifying", "closed",  # int: counts by state
    "closed_rate",       # float 0..1 (销号率); NaN when total == 0
    "overdue",           # int
    "max_days_overdue",  # int: the longest overdue, 0 when none
    "recurring",         # int
    "new_in_period",     # int: reported in the current period
    "closed_in_period",  # int: closed in the current period
    "rank",              # int: rank among siblings (1 = best); 0 for the district
    "uncounted",         # int: the unit's other cases (invalid tips, status void), in no figure
    "closed_class",      # int: closure-rate colour class of the level (extra closure_classes); -1 none
)


@dataclass(frozen=True)
class Atlas:
    """Everything the renderers draw: units with statistics, rivers, cases."""

    config: Config
    units: dict[str, gpd.GeoDataFrame]
    rivers: gpd.GeoDataFrame
    cases: gpd.GeoDataFrame
    context: gpd.GeoDataFrame | None = None
    by_type: pd.DataFrame | None = None      # long: level, unit_id, problem_type, count, …
    """Per unit and problem type, the cases counted in the figures (:func:`stats.by_category`)."""
    by_channel: pd.DataFrame | None = None   # long: level, unit_id, channel, count, valid, …
    """Per unit and channel, every case (valid or not: the tip statistics), ``counted`` among them."""
    period: tuple[dt.date, dt.date] | None = None  # the current period [start, end]
    extra: dict[str, object] = field(default_factory=dict)
    neighbours: gpd.GeoDataFrame | None = None   # neighbouring districts, for orientation

    @property
    def as_of(self) -> dt.date:
        return self.config.as_of

    def children(self, level: str, unit_id: str) -> gpd.GeoDataFrame:
        """The units one level below ``unit_id`` (empty for a grid)."""
        from battlemap import LEVELS

        index = LEVELS.index(level)
        if index + 1 == len(LEVELS):
            return self.units[level].iloc[0:0]
        below = self.units[LEVELS[index + 1]]
        return below[below["parent_id"] == unit_id]

    def cases_in(self, level: str, unit_id: str) -> gpd.GeoDataFrame:
        """The cases located in one unit."""
        return self.cases[self.cases[f"{level}_id"] == unit_id]

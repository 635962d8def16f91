"""Join: place every case in its grid, village, town and district, and on a river.

Also derives the case lifecycle flags (销号管理) against the as-of date:
``overdue`` (超期), ``recurring`` (反复), days open and age band.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from battlemap import STATES
from battlemap._findings import Findings
from battlemap._systems import check_channel_systems
from battlemap.config import Config

__all__ = ["age_band_labels", "counted", "derive_lifecycle", "join_cases", "join_rivers", "river_stretches",
           "split_lines"]


def join_cases(cases: gpd.GeoDataFrame, units: dict[str, gpd.GeoDataFrame], config: Config,
               findings: Findings) -> gpd.GeoDataFrame:
    """Locate each case in a grid and, through the hierarchy, in its village, town, district.

    A point on an edge shared by two grids goes to the grid with the smaller
    id. A point in a gap goes to the nearest grid within
    ``join.gap_tolerance_m``; beyond that it is rejected (``outside_grids``),
    with its distance to the nearest grid. Channels whose points fit their
    declared places better in another coordinate system are warned about
    (:func:`battlemap._systems.check_channel_systems`).
    """
    grid_id = _locate(cases, units["grid"], config.join.gap_tolerance_m)
    unplaced = grid_id.isna()
    findings.reject(cases[unplaced], "outside_grids",
                    _outside_grids_detail(cases[unplaced], units["grid"], config))
    cases = cases[~unplaced].copy()
    cases["grid_id"] = grid_id[~unplaced]
    cases["village_id"] = cases["grid_id"].map(units["grid"]["parent_id"])
    cases["town_id"] = cases["village_id"].map(units["village"]["parent_id"])
    cases["district_id"] = cases["town_id"].map(units["town"]["parent_id"])
    check_channel_systems(cases, units, config, findings)
    return _compare_declared(cases, units, config, findings)


def join_rivers(cases: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame, config: Config,
                catchments: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Assign each case to a river (流域为体系).

    By catchment polygon when given (a case in two overlapping catchments
    goes to the smaller river id); else the nearest river within
    ``join.river_distance_m``, main stems and tributaries alike (a case on
    the bank of the 增江 belongs to the 增江, not to a tributary further
    off), else none (``river_id == ""``). Ties go to the smaller river id.
    Rivers are split into short pieces first (:func:`split_lines`), which
    makes the nearest search several times faster than on whole lines.
    """
    cases = cases.copy()
    cases["river_id"] = ""
    cases["river_distance_m"] = np.nan
    if catchments is not None:
        _by_catchment(cases, rivers, catchments)
    todo = cases["river_id"] == ""
    segments = split_lines(rivers)
    if not segments.empty and todo.any():
        river_id, distance = _nearest(cases[todo], segments, config.join.river_distance_m)
        cases.loc[river_id.index, "river_id"] = river_id
        cases.loc[distance.index, "river_distance_m"] = distance
    return cases


def _by_catchment(cases: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame,
                  catchments: gpd.GeoDataFrame) -> None:
    known = catchments[catchments["river_id"].isin(rivers.index)]
    case_pos, poly_pos = known.sindex.query(cases.geometry.values, predicate="intersects")
    river_id = _first_per_case(cases.index, case_pos, known["river_id"].to_numpy()[poly_pos])
    placed = river_id.notna()
    cases.loc[placed, "river_id"] = river_id[placed]
    cases.loc[placed, "river_distance_m"] = shapely.distance(
        cases.geometry[placed].values, rivers.geometry.loc[river_id[placed]].values)


SEGMENT_VERTICES = 9
"""Rivers are searched for the nearest one as pieces of at most this many vertices. Measured at
×10 (322k cases, 11,662 river vertices), CPU of the search: two-point segments 5.6 s, 5 vertices
4.4 s, 9 vertices 3.9 s, 17 vertices 5.3 s, 33 vertices 6.8 s; the answers are the same."""


def split_lines(rivers: gpd.GeoDataFrame, vertices: int = SEGMENT_VERTICES) -> gpd.GeoDataFrame:
    """Rivers as pieces of at most ``vertices`` vertices (two: single segments), with river ids.

    Consecutive pieces of a line share their end vertex, so every segment of
    every line is in exactly one piece and a point's distance to the nearest
    piece is its distance to the line, to the last bit.
    """
    parts = rivers.geometry.explode(index_parts=False)
    coords, owner = shapely.get_coordinates(parts.values, return_index=True)
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else owner
    sizes = np.diff(np.r_[first, len(owner)])
    step = max(vertices, 2) - 1
    counts = np.maximum(sizes - 1 + step - 1, 0) // step   # pieces per part
    part_of_piece = np.repeat(np.arange(len(first)), counts)
    k = np.arange(len(part_of_piece)) - np.repeat(np.cumsum(counts) - counts, counts)
    start = first[part_of_piece] + k * step
    length = np.minimum(step, sizes[part_of_piece] - 1 - k * step) + 1
    piece = np.repeat(np.arange(len(start)), length)
    vertex = start[piece] + np.arange(len(piece)) - np.repeat(np.cumsum(length) - length, length)
    lines = shapely.linestrings(coords[vertex], indices=piece) if len(piece) else np.array([])
    river_ids = parts.index.to_numpy()[owner[start]] if len(start) else parts.index[:0]
    return gpd.GeoDataFrame({"river_id": river_ids}, geometry=list(lines), crs=rivers.crs)


def river_stretches(units: dict[str, gpd.GeoDataFrame], rivers: gpd.GeoDataFrame,
                    levels: tuple[str, ...] = ("district", "town", "village")) -> pd.DataFrame:
    """Length of each river inside each unit: level, unit_id, river_id, length_m."""
    rows = []
    for level in levels:
        frame = units[level]
        left, right = rivers.sindex.query(frame.geometry.values, predicate="intersects")
        lengths = shapely.length(shapely.intersection(frame.geometry.values[left],
                                                      rivers.geometry.values[right]))
        rows.append(pd.DataFrame({"level": level, "unit_id": frame.index[left],
                                  "river_id": rivers.index[right], "length_m": lengths}))
    out = pd.concat(rows, ignore_index=True)
    return out[out["length_m"] > 0].sort_values(["level", "unit_id", "river_id"],
                                                ignore_index=True)


def counted(cases: pd.DataFrame) -> pd.Series:
    """Whether each case counts in the rectification figures (计入整改).

    A case counts when its tip is valid (是否有效, ``valid``) and its status
    word maps to a state of the lifecycle, not to ``void`` (不计整改). The
    others stay in the ledger and the channel statistics only. The column
    ``counted`` that :func:`derive_lifecycle` writes is this rule.
    """
    if "counted" in cases:
        return cases["counted"].astype(bool)
    valid = cases["valid"].fillna(True).astype(bool) if "valid" in cases else True
    return cases["state"].isin(STATES) & valid


def derive_lifecycle(cases: gpd.GeoDataFrame, config: Config) -> gpd.GeoDataFrame:
    """Counted (计入整改), overdue (超期), recurring (反复), days open and age band.

    As of the build date. Only counted cases (:func:`counted`) are ever overdue
    or recurring, and only a counted closed case makes a later one recurring.
    """
    as_of = pd.Timestamp(config.as_of)
    day_end = as_of + pd.Timedelta(days=1)
    cases = cases.copy()
    cases["counted"] = counted(cases.drop(columns="counted", errors="ignore"))
    open_ = cases["state"] != "closed"
    deadline_day = cases["deadline"].dt.normalize()
    cases["overdue"] = cases["counted"] & open_ & deadline_day.notna() & (deadline_day < as_of)
    cases["days_overdue"] = np.where(cases["overdue"], (as_of - deadline_day).dt.days, 0).astype(int)
    end = cases["closed_at"].where(~open_, day_end).fillna(day_end)
    cases["days_open"] = (end - cases["reported_at"]).dt.days.clip(lower=0).astype(int)
    cases["age_band"] = _age_bands(cases["days_open"], config.lifecycle.age_bands_days)
    cases[["recurring", "recurring_of"]] = _recurring(
        cases, config.lifecycle.recurring_distance_m, config.lifecycle.recurring_window_days)
    cases.loc[~cases["counted"], ["recurring", "recurring_of"]] = [False, ""]
    return cases


def current_period(as_of: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """The week (Monday to the as-of date) or month containing the as-of date."""
    if period == "month":
        return as_of.replace(day=1), as_of
    return as_of - dt.timedelta(days=as_of.weekday()), as_of


def _locate(cases: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, tolerance: float) -> pd.Series:
    points = cases.geometry.values
    case_pos, grid_pos = grids.sindex.query(points, predicate="intersects")
    grid_id = _first_per_case(cases.index, case_pos, grids.index[grid_pos].to_numpy())
    missing = grid_id.isna().to_numpy()
    if missing.any() and tolerance > 0:
        (near_pos, grid_pos), _ = grids.sindex.nearest(
            points[missing], max_distance=tolerance, return_all=True, return_distance=True)
        near = _first_per_case(cases.index[missing], near_pos, grids.index[grid_pos].to_numpy())
        grid_id[near.dropna().index] = near.dropna()
    return grid_id


def _outside_grids_detail(cases: gpd.GeoDataFrame, grids: gpd.GeoDataFrame,
                          config: Config) -> pd.Series:
    """Where the point is and how far from the nearest grid, for the rejected list."""
    if cases.empty:
        return pd.Series([], dtype=object)
    (case_pos, grid_pos), distance = grids.sindex.nearest(
        cases.geometry.values, return_all=False, return_distance=True)
    nearest = pd.Series(grids.index.to_numpy()[grid_pos], index=case_pos)
    metres = pd.Series(distance, index=case_pos)
    where = (("WGS84 " + cases["lon"].round(5).astype(str) + ", "
              + cases["lat"].round(5).astype(str) + " ") if "lon" in cases else pd.Series(
                  "", index=cases.index))
    text = [f"{w}is {m:,.0f} m from the nearest grid {g}, beyond join.gap_tolerance_m = "
            f"{config.join.gap_tolerance_m:g} m; a gap between grids?"
            for w, m, g in zip(where.to_numpy(), metres.sort_index().to_numpy(),
                               nearest.sort_index().to_numpy(), strict=True)]
    return pd.Series(text, index=cases.index, dtype=object)


def _first_per_case(index: pd.Index, case_pos: np.ndarray, values: np.ndarray) -> pd.Series:
    """The smallest value hit by each case (deterministic on shared edges and ties)."""
    hits = pd.DataFrame({"case": case_pos, "value": values}).sort_values(["case", "value"])
    first = hits.drop_duplicates("case")
    out = pd.Series(None, index=index, dtype=object)
    out.iloc[first["case"].to_numpy()] = first["value"].to_numpy()
    return out


def _compare_declared(cases: gpd.GeoDataFrame, units: dict[str, gpd.GeoDataFrame],
                      config: Config, findings: Findings) -> gpd.GeoDataFrame:
    town_name = cases["town_id"].map(units["town"]["name"])
    village_name = cases["village_id"].map(units["village"]["name"])
    declared_town, declared_village = cases["declared_town"], cases["declared_village"]
    cases["declared_mismatch"] = (
        ((declared_town != "") & (declared_town != town_name))
        | ((declared_village != "") & (declared_village != village_name)))
    if config.join.authority == "declared":
        cases = _apply_declared(cases, units, findings)
    return cases


def _apply_declared(cases: gpd.GeoDataFrame, units: dict[str, gpd.GeoDataFrame],
                    findings: Findings) -> gpd.GeoDataFrame:
    """Where the declared village exists (by town and village name), it rules."""
    villages = units["village"]
    towns = units["town"]
    key = villages["parent_id"].map(towns["name"]) + "/" + villages["name"]
    by_name = pd.Series(villages.index, index=key.to_numpy())
    by_name = by_name[~by_name.index.duplicated(keep=False)]
    declared = (cases["declared_town"] + "/" + cases["declared_village"]).map(by_name)
    use = cases["declared_mismatch"] & declared.notna()
    cases.loc[use, "village_id"] = declared[use]
    cases.loc[use, "town_id"] = cases.loc[use, "village_id"].map(villages["parent_id"])
    if use.any():
        findings.warn("declared_rules", f"{int(use.sum())} case(s) counted in their declared "
                      "village rather than where they lie (join.authority = declared)")
    return cases


def _nearest(cases: gpd.GeoDataFrame, segments: gpd.GeoDataFrame, max_distance: float
             ) -> tuple[pd.Series, pd.Series]:
    (case_pos, seg_pos), distance = segments.sindex.nearest(
        cases.geometry.values, max_distance=max_distance, return_all=True, return_distance=True)
    near = pd.DataFrame({"case": case_pos, "distance": distance,
                         "river_id": segments["river_id"].to_numpy()[seg_pos]})
    near = near.sort_values(["case", "distance", "river_id"]).drop_duplicates("case")
    index = cases.index[near["case"].to_numpy()]
    return (pd.Series(near["river_id"].to_numpy(), index=index),
            pd.Series(near["distance"].to_numpy(), index=index))


def age_band_labels(bounds: Sequence[int]) -> list[str]:
    """The ordered age-band (案龄) labels for ``lifecycle.age_bands_days``.

    >>> age_band_labels((30, 90))
    ['0–30天', '31–90天', '>90天']
    """
    labels, low = [], 0
    for high in bounds:
        labels.append(f"{low + 1 if low else 0}–{high}天")
        low = high
    return [*labels, f">{low}天"]


def _age_bands(days: pd.Series, bounds: tuple[int, ...]) -> pd.Series:
    edges = [-1, *bounds, np.inf]
    return pd.cut(days, bins=edges, labels=age_band_labels(bounds)).astype(str)


def _recurring(cases: gpd.GeoDataFrame, distance: float, window_days: int) -> pd.DataFrame:
    """A case reported within ``distance`` of a counted case closed before it, within the window.

    Columns ``recurring`` (bool) and ``recurring_of`` (the id of the earlier
    closed case, the most recently closed one when several; "" when none).
    """
    closed = cases[cases["closed_at"].notna() & cases["counted"]]
    new_pos, old_pos = closed.sindex.query(cases.geometry.values, predicate="dwithin",
                                           distance=distance)
    closed_at = closed["closed_at"].to_numpy()
    gap = (cases["reported_at"].to_numpy()[new_pos] - closed_at[old_pos])
    hit = (gap > np.timedelta64(0)) & (gap <= np.timedelta64(window_days, "D"))
    new_pos, old_pos = new_pos[hit], old_pos[hit]
    order = np.lexsort((closed.index.to_numpy()[old_pos].astype(str), closed_at[old_pos], new_pos))
    new_pos, old_pos = new_pos[order], old_pos[order]
    last = np.r_[new_pos[1:] != new_pos[:-1], True] if len(new_pos) else np.zeros(0, bool)
    earlier = np.full(len(cases), "", dtype=object)
    earlier[new_pos[last]] = closed.index.to_numpy()[old_pos[last]].astype(str)
    return pd.DataFrame({"recurring": earlier != "", "recurring_of": earlier}, index=cases.index)

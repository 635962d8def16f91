"""Validate: turn loaded inputs into trustworthy frames, or say exactly what is wrong.

Hard problems (ids missing or repeated, a layer with no usable feature) are
collected per file and raised together as one :class:`InputError` before
anything is written. Soft problems become warnings in the report; a case
that cannot be placed is rejected with its reason, never dropped silently.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from battlemap import LEVELS
from battlemap._findings import Findings
from battlemap.config import Config
from battlemap.coords import to_wgs84
from battlemap.errors import InputError

__all__ = ["parse_datetimes", "validate_boundaries", "validate_cases", "validate_lines"]

MIN_AREA_M2 = 1.0
"""Gaps, overlaps and overhangs smaller than this are float noise, not findings."""


def validate_boundaries(
    levels: dict[str, gpd.GeoDataFrame], config: Config, findings: Findings
) -> dict[str, gpd.GeoDataFrame]:
    """Check ids, repair geometries and report gaps, overlaps and overhangs.

    Raises
    ------
    InputError
        Listing every missing or duplicate id, in every level, at once.
    """
    problems: list[str] = []
    checked = {}
    for level in LEVELS:
        path = str(config.boundaries[level].path)
        frame = _check_ids(levels[level], path, problems)
        checked[level] = _repair_polygons(frame, path, findings)
    if problems:
        raise InputError("boundary ids must be present and unique", problems)
    for parent, child in zip(LEVELS, LEVELS[1:], strict=False):
        _check_parents(checked[parent], checked[child], str(config.boundaries[child].path), findings)
        _check_tiling(checked[parent], checked[child], child, findings)
    return checked


def validate_lines(frame: gpd.GeoDataFrame, path: str, findings: Findings) -> gpd.GeoDataFrame:
    """Drop empty river lines by name, with a warning."""
    empty = frame.geometry.isna() | frame.geometry.is_empty
    for _, row in frame[empty].iterrows():
        findings.warn("empty_geometry", f"river {row['river_id']} {row['name']}: empty geometry, "
                      "left out", file=path, feature=str(row["river_id"]))
    return frame[~empty].set_index("river_id")


def validate_cases(
    table: pd.DataFrame, config: Config, district: gpd.GeoDataFrame, findings: Findings
) -> gpd.GeoDataFrame:
    """Parse, check and place every case; rejected rows go to ``findings``.

    Returns the accepted cases as points in the analysis CRS, with WGS84
    ``lon``/``lat``, canonical ``state``, parsed dates and ``valid``.
    """
    cases = table.copy()
    cases["case_id"] = cases["case_id"].fillna("").astype(str).str.strip()
    cases = _take(cases, cases["case_id"] == "", "missing_case_id", findings)
    cases = _parse_dates(cases, config, findings)
    cases = _map_status(cases, config, findings)
    cases = _parse_coordinates(cases, config, findings)
    cases = _drop_duplicates(cases, config, findings)
    points = _to_points(cases, config)
    return _inside_district(points, district, config, findings)


def parse_datetimes(values: pd.Series) -> pd.Series:
    """Parse the date formats exports carry, as Asia/Shanghai wall time.

    ``2019-11-05 08:30``, ``2019/11/5``, ``2019年11月5日`` (with or without a
    time) and Excel serial numbers (``43774.35``) all work; anything else is
    NaT. Blank stays NaT.

    >>> parse_datetimes(pd.Series(["2019年11月5日", "43774.5"])).dt.strftime("%F %R").tolist()
    ['2019-11-05 00:00', '2019-11-05 12:00']
    """
    text = values.fillna("").astype(str).str.strip()
    norm = (text.str.replace(r"[年月/.]", "-", regex=True)
                .str.replace("日", " ", regex=False)
                .str.replace(r"[时点]", ":", regex=True)
                .str.replace("分", "", regex=False)
                .str.replace("T", " ", regex=False)
                .str.replace(r"\s+", " ", regex=True).str.strip().str.rstrip(":"))
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    serial = pd.to_numeric(text.where(text.str.fullmatch(r"\d{4,5}(\.\d+)?")), errors="coerce")
    serial = serial.where((serial > 20000) & (serial < 80000))
    has_serial = serial.notna()
    result[has_serial] = (pd.Timestamp("1899-12-30")
                          + pd.to_timedelta(serial[has_serial] * 86400, unit="s")).dt.round("s")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        todo = result.isna() & (norm != "") & ~has_serial
        if not todo.any():
            break
        result[todo] = pd.to_datetime(norm[todo], format=fmt, errors="coerce")
    return result


# --- boundaries -------------------------------------------------------------

def _check_ids(frame: gpd.GeoDataFrame, path: str, problems: list[str]) -> gpd.GeoDataFrame:
    missing = frame["unit_id"] == ""
    problems.extend(f"{path}: feature {n} ({name}): id is empty; fill the id field"
                    for n, name in zip(frame.loc[missing, "feature"], frame.loc[missing, "name"],
                                       strict=True))
    repeated = frame["unit_id"].duplicated(keep=False) & ~missing
    for unit_id, group in frame[repeated].groupby("unit_id"):
        problems.append(f"{path}: id {unit_id} is used by features {group['feature'].tolist()}; "
                        "ids must be unique")
    return frame.set_index("unit_id")


def _repair_polygons(frame: gpd.GeoDataFrame, path: str, findings: Findings) -> gpd.GeoDataFrame:
    empty = frame.geometry.isna() | frame.geometry.is_empty
    for unit_id, name in zip(frame.index[empty], frame["name"][empty], strict=True):
        findings.warn("empty_geometry", f"{unit_id} {name}: empty or null geometry, left out; "
                      "draw its boundary", file=path, feature=unit_id)
    frame = frame[~empty].copy()
    invalid = ~frame.geometry.is_valid
    for unit_id in frame.index[invalid]:
        reason = shapely.is_valid_reason(frame.geometry[unit_id])
        findings.warn("geometry_repaired", f"{unit_id} {frame.at[unit_id, 'name']}: invalid "
                      f"polygon ({reason}) repaired", file=path, feature=unit_id)
    if invalid.any():
        repaired = shapely.make_valid(frame.geometry[invalid].values)
        frame.loc[invalid, "geometry"] = _polygonal(repaired)
    return frame


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep the polygon parts of what make_valid returns (it may add lines)."""
    out = []
    for geom in geoms:
        if geom.geom_type == "GeometryCollection":
            parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
            geom = shapely.union_all(parts)
        out.append(geom)
    return np.asarray(out, dtype=object)


def _check_parents(parents: gpd.GeoDataFrame, children: gpd.GeoDataFrame, path: str,
                   findings: Findings) -> None:
    orphans = ~children["parent_id"].isin(parents.index)
    if not orphans.any():
        return
    located = _largest_overlap(children[orphans], parents)
    for unit_id, parent_id in located.items():
        findings.warn("unknown_parent", f"{unit_id} {children.at[unit_id, 'name']}: parent id "
                      f"{children.at[unit_id, 'parent_id']!r} does not exist; placed in "
                      f"{parent_id} by location", file=path, feature=unit_id, column="parent_id")
        children.at[unit_id, "parent_id"] = parent_id


def _largest_overlap(children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame) -> pd.Series:
    left, right = parents.sindex.query(children.geometry.values, predicate="intersects")
    pairs = pd.DataFrame({
        "child": children.index[left], "parent": parents.index[right],
        "area": shapely.area(shapely.intersection(children.geometry.values[left],
                                                  parents.geometry.values[right]))})
    best = pairs.sort_values("area").groupby("child")["parent"].last()
    return best.reindex(children.index).fillna("")


def _check_tiling(parents: gpd.GeoDataFrame, children: gpd.GeoDataFrame, level: str,
                  findings: Findings) -> None:
    """Gaps and overlaps between siblings, and children sticking out of their parent."""
    for parent_id, siblings in children.groupby("parent_id"):
        if parent_id not in parents.index:
            continue
        parent = parents.geometry[parent_id]
        cover = shapely.union_all(siblings.geometry.values)
        _report_pieces(shapely.difference(parent, cover), "gap", level,
                       f"gap inside {parent_id} not covered by any {level}", findings)
        _report_pieces(shapely.difference(cover, parent), "overhang", level,
                       f"{level} units stick out of {parent_id}", findings)
    left, right = children.sindex.query(children.geometry.values, predicate="overlaps")
    geoms, ids = children.geometry.values, children.index
    for i, j in zip(left, right, strict=True):
        if i < j:
            overlap = shapely.intersection(geoms[i], geoms[j])
            _report_pieces(overlap, "overlap", level, f"{ids[i]} and {ids[j]} overlap", findings)


def _report_pieces(geom: shapely.Geometry, kind: str, level: str, what: str,
                   findings: Findings) -> None:
    area = shapely.area(geom)
    if area < MIN_AREA_M2:
        return
    point = shapely.point_on_surface(geom)
    findings.warn(kind, f"{what}: {area:,.0f} m² around x={point.x:.0f}, y={point.y:.0f} "
                  "(analysis CRS)", feature=level)


# --- cases ------------------------------------------------------------------

def _take(cases: pd.DataFrame, bad: pd.Series, code: str, findings: Findings,
          detail: str | pd.Series = "") -> pd.DataFrame:
    """Reject the rows where ``bad`` holds; return the others."""
    bad = bad.reindex(cases.index, fill_value=False)
    if isinstance(detail, pd.Series):
        detail = detail.reindex(cases.index)[bad]
    findings.reject(cases[bad], code, detail)
    return cases[~bad]


def _parse_dates(cases: pd.DataFrame, config: Config, findings: Findings) -> pd.DataFrame:
    path = str(config.cases.path)
    column_of = config.cases.columns
    raw_reported = cases["reported_at"].fillna("").astype(str)
    cases = cases.assign(reported_at=parse_datetimes(cases["reported_at"]))
    bad = cases["reported_at"].isna()
    cases = _take(cases, bad, "bad_report_date", findings, "上报时间: " + raw_reported)
    for field in ("deadline", "closed_at"):
        if field not in cases:
            cases[field] = pd.NaT
            continue
        raw = cases[field].fillna("").astype(str).str.strip()
        cases[field] = parse_datetimes(raw)
        unreadable = cases[field].isna() & (raw != "")
        for row, value in zip(cases.loc[unreadable, "source_row"], raw[unreadable], strict=True):
            findings.warn("bad_date", f"row {row}: {value!r} is not a date; left blank",
                          file=path, feature=f"row {row}", column=column_of[field])
    as_of_end = pd.Timestamp(config.as_of) + pd.Timedelta(days=1)
    _flag(cases, cases["reported_at"] >= as_of_end, "future_date", "report date after the "
          "as-of date", path, column_of["reported_at"], findings)
    _flag(cases, cases["closed_at"] < cases["reported_at"], "closed_before_report",
          "closed before it was reported", path, column_of.get("closed_at", ""), findings)
    return cases


def _flag(cases: pd.DataFrame, mask: pd.Series, kind: str, what: str, path: str, column: str,
          findings: Findings) -> None:
    for row, case_id in zip(cases.loc[mask, "source_row"], cases.loc[mask, "case_id"], strict=True):
        findings.warn(kind, f"row {row} case {case_id}: {what}; check the export", file=path,
                      feature=f"row {row}", column=column)


def _map_status(cases: pd.DataFrame, config: Config, findings: Findings) -> pd.DataFrame:
    words = cases["status"].fillna("").astype(str).str.strip()
    state = words.map(config.cases.status_map)
    unknown = state.isna()
    for word, rows in cases[unknown].groupby(words[unknown])["source_row"]:
        findings.warn("unknown_status", f"status word {word!r} is not in [cases.status_map] "
                      f"({len(rows)} case(s), rows {_rows(rows)}); add it to the mapping",
                      file=str(config.cases.path), column=config.cases.columns["status"])
    cases = cases.assign(status_raw=words, state=state)
    return _take(cases, unknown, "unknown_status", findings, "处理状态: " + words)


def _rows(rows: pd.Series, most: int = 20) -> str:
    shown = ", ".join(str(r) for r in rows.head(most))
    return shown + (" …" if len(rows) > most else "")


def _parse_coordinates(cases: pd.DataFrame, config: Config, findings: Findings) -> pd.DataFrame:
    lon_text = cases["lon"].fillna("").astype(str).str.strip()
    lat_text = cases["lat"].fillna("").astype(str).str.strip()
    detail = "经度=" + lon_text + " 纬度=" + lat_text
    blank = (lon_text == "") | (lat_text == "")
    cases = _take(cases, blank, "blank_coordinates", findings, detail)
    lon = pd.to_numeric(lon_text[~blank], errors="coerce")
    lat = pd.to_numeric(lat_text[~blank], errors="coerce")
    cases = _take(cases, lon.isna() | lat.isna(), "non_numeric_coordinates", findings, detail)
    lon, lat = lon[cases.index], lat[cases.index]
    cases = _take(cases, (lon == 0) | (lat == 0), "zero_coordinates", findings, detail)
    lon, lat = lon[cases.index].copy(), lat[cases.index].copy()
    swapped = lon.between(3, 54) & lat.between(73, 136)
    for row in cases.loc[swapped, "source_row"]:
        findings.warn("swapped_coordinates", f"row {row}: longitude and latitude were swapped; "
                      "fixed", file=str(config.cases.path), feature=f"row {row}",
                      column=config.cases.columns["lon"])
    lon[swapped], lat[swapped] = lat[swapped], lon[swapped]
    out_of_range = ~(lon.between(73, 136) & lat.between(3, 54))
    cases = cases.assign(lon=lon, lat=lat)
    return _take(cases, out_of_range, "coordinates_out_of_range", findings, detail)


def _drop_duplicates(cases: pd.DataFrame, config: Config, findings: Findings) -> pd.DataFrame:
    """Keep the newest record of each case number (latest closure or report, then last row)."""
    newest = cases["closed_at"].fillna(cases["reported_at"])
    order = cases.assign(_newest=newest).sort_values(["case_id", "_newest", "source_row"])
    older = order.duplicated("case_id", keep="last")
    kept_row = order.groupby("case_id")["source_row"].transform("last")
    mask = older.reindex(cases.index)
    detail = ("newer record kept: row " + kept_row.astype(str)).reindex(cases.index)
    return _take(cases, mask, "duplicate_case_id", findings, detail)


def _to_points(cases: pd.DataFrame, config: Config) -> gpd.GeoDataFrame:
    lon, lat = to_wgs84(cases["lon"].to_numpy(float), cases["lat"].to_numpy(float),
                        config.cases.coordinates)
    cases = cases.assign(lon=np.round(lon, 7), lat=np.round(lat, 7))
    valid_words = set(config.cases.valid_values)
    if "valid" in cases:
        valid = cases["valid"].fillna("").astype(str).str.strip()
        cases["valid"] = valid.isin(valid_words) | (valid == "")
    else:
        cases["valid"] = True
    for field in ("channel", "problem_type", "declared_town", "declared_village",
                  "river_name", "description"):
        cases[field] = cases[field].fillna("").astype(str).str.strip() if field in cases else ""
    points = gpd.GeoDataFrame(cases, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    return points.to_crs(config.project.analysis_crs).set_index("case_id")


def _inside_district(points: gpd.GeoDataFrame, district: gpd.GeoDataFrame, config: Config,
                     findings: Findings) -> gpd.GeoDataFrame:
    area = shapely.union_all(district.geometry.values)
    shapely.prepare(area)
    near = shapely.dwithin(area, points.geometry.values, config.join.gap_tolerance_m)
    detail = "WGS84 " + points["lon"].round(5).astype(str) + ", " + points["lat"].round(5).astype(str)
    return _take(points, pd.Series(~near, index=points.index), "outside_district", findings, detail)


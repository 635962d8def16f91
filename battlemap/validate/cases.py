"""The case table: :func:`validate_cases`, every row placed or rejected.

In order: case numbers (Excel's ``="…"`` and ``.0`` removed, blank ones
rejected), dates (:mod:`~battlemap.validate.dates`), duplicates (the newest
record kept, see :data:`~battlemap._findings.DUPLICATE_RULE`), status words,
coordinate systems, coordinates (:mod:`~battlemap.validate.coordinates`),
points in the analysis CRS and the district test.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from battlemap._findings import DUPLICATE_RULE, Findings
from battlemap._systems import assign_systems, convert_per_case
from battlemap._text import text_series
from battlemap.config import Config
from battlemap.validate._cells import _BLANK, _nfkc, _take
from battlemap.validate.coordinates import _parse_coordinates
from battlemap.validate.dates import _parse_dates

__all__ = ["validate_cases"]


def validate_cases(
    table: pd.DataFrame, config: Config, district: gpd.GeoDataFrame, findings: Findings
) -> gpd.GeoDataFrame:
    """Parse, check and place every case; rejected rows go to ``findings``.

    In order: missing case number, unreadable report date, duplicates (the
    newest record is kept, see :data:`DUPLICATE_RULE`), unknown status word,
    a coordinate system word that names none (see :mod:`battlemap._systems`),
    blank / non-numeric / zero / out-of-range coordinates (swapped ones are
    fixed with a warning), and points outside the district. Every step is
    vectorised.

    Returns
    -------
    GeoDataFrame
        The accepted cases indexed by ``case_id``, as points in the analysis
        CRS, with WGS84 ``lon``/``lat``, canonical ``state``, parsed dates
        and ``valid``.
    """
    findings.absorb(table)
    cases = table.copy()
    cases["case_id"] = _clean_ids(cases["case_id"])

    def blank_id(rows: pd.Index) -> pd.Series:
        typed = text_series(table["case_id"][rows], strip=True).map(
            lambda v: f" ({v!r})" if v else "")
        return config.cases.columns["case_id"] + " is blank" + typed + "; fill in the number"

    cases = _take(cases, cases["case_id"] == "", "missing_case_id", findings, blank_id)
    cases = _parse_dates(cases, config, findings)
    cases = _drop_duplicates(cases, config, findings)
    cases = _map_status(cases, config, findings)
    cases, unknown, detail = assign_systems(cases, config, findings, blank=_BLANK)
    cases = _take(cases, unknown, "unknown_coordinate_system", findings, detail)
    cases = _parse_coordinates(cases, config, findings)
    points = _to_points(cases, config)
    return _inside_district(points, district, config, findings)


def _map_status(cases: pd.DataFrame, config: Config, findings: Findings) -> pd.DataFrame:
    """Map the app's words to canonical states; unknown words are rejected, never guessed."""
    words = text_series(cases["status"], strip=True)
    state = words.map(config.cases.status_map)
    unknown = state.isna()
    for word, rows in cases[unknown].groupby(words[unknown])["source_row"]:
        findings.warn("unknown_status", f"status word {word!r} is not in [cases.status_map] "
                      f"({len(rows)} case(s), rows {_rows(rows)}); add it to the mapping",
                      file=str(config.cases.path), column=config.cases.columns["status"])
    cases = cases.assign(status_raw=words.astype(object), state=state.astype(object))
    header = config.cases.columns["status"]

    def detail(rows: pd.Index) -> pd.Series:
        said = words[rows]
        return (header + ": " + said).where(said != "", header + " is blank")

    return _take(cases, unknown, "unknown_status", findings, detail)


def _rows(rows: pd.Series, most: int = 20) -> str:
    shown = ", ".join(str(r) for r in rows.head(most))
    return shown + (" …" if len(rows) > most else "")


def _drop_duplicates(cases: pd.DataFrame, config: Config, findings: Findings) -> pd.DataFrame:
    """Keep the newest record of each case number (:data:`DUPLICATE_RULE`)."""
    newest = cases["closed_at"].fillna(cases["reported_at"])
    order = cases.assign(_newest=newest).sort_values(["case_id", "_newest", "source_row"],
                                                     kind="stable")
    older = order.duplicated("case_id", keep="last")
    if not older.any():
        return cases
    kept_row = order.groupby("case_id")["source_row"].transform("last")
    mask = older.reindex(cases.index)
    findings.warn("duplicate_case_id", f"{int(mask.sum())} older record(s) of "
                  f"{order.loc[older, 'case_id'].nunique()} repeated case number(s) rejected. "
                  f"Rule: {DUPLICATE_RULE}", file=str(config.cases.path),
                  column=config.cases.columns["case_id"])
    return _take(cases, mask, "duplicate_case_id", findings,
                 lambda rows: "newer record kept: row " + kept_row[rows].astype(str))


def _clean_ids(values: pd.Series) -> pd.Series:
    """Case numbers as typed: NFKC, trimmed, Excel's ``="…"`` and ``.0`` removed."""
    def clean(value: str) -> str:
        if value.startswith("="):
            value = value[1:].strip().strip('"').strip()
        if value.endswith(".0") and value[:-2].isdigit():
            value = value[:-2]
        return "" if value.lower() in _BLANK else value

    text = _nfkc(text_series(values, strip=True))
    return pd.Series([clean(v) for v in text], index=values.index, dtype=object)


def _to_points(cases: pd.DataFrame, config: Config) -> gpd.GeoDataFrame:
    lon, lat = convert_per_case(cases["lon"].to_numpy(float), cases["lat"].to_numpy(float),
                                cases["coord_system"].to_numpy(object))
    cases = cases.assign(lon=np.round(lon, 7), lat=np.round(lat, 7))
    valid_words = set(config.cases.valid_values)
    if "valid" in cases:
        valid = text_series(cases["valid"], strip=True)
        cases["valid"] = (valid.isin(valid_words) | (valid == "")).astype(bool)
    else:
        cases["valid"] = True
    for field in ("channel", "problem_type", "declared_town", "declared_village",
                  "river_name", "description"):
        cases[field] = text_series(cases[field], strip=True) if field in cases else ""
    cases["case_id"] = cases["case_id"].astype(object)
    points = gpd.GeoDataFrame(cases, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    return points.to_crs(config.project.analysis_crs).set_index("case_id")


def _inside_district(points: gpd.GeoDataFrame, district: gpd.GeoDataFrame, config: Config,
                     findings: Findings) -> gpd.GeoDataFrame:
    area = shapely.union_all(district.geometry.values)
    shapely.prepare(area)
    near = shapely.dwithin(area, points.geometry.values, config.join.gap_tolerance_m)
    outside = pd.Series(~near, index=points.index)
    distance_km = pd.Series(np.nan, index=points.index)
    if outside.any():
        distance_km[outside] = shapely.distance(area, points.geometry.values[~near]) / 1000

    def detail(rows: pd.Index) -> pd.Series:
        where = points.loc[rows]
        return ("WGS84 " + where["lon"].round(5).astype(str) + ", "
                + where["lat"].round(5).astype(str) + " is "
                + distance_km[rows].round(1).astype(str)
                + " km outside the district (read as " + where["coord_system"] + ")")

    return _take(points, outside, "outside_district", findings, detail)

"""Validate: turn loaded inputs into trustworthy frames, or say exactly what is wrong.

Hard problems (ids missing or repeated, a boundary with no geometry, a
parent id that matches nothing and no parent under the unit) are collected
across every level and raised together as one :class:`InputError` before
anything is written. Soft problems become warnings in the report, each
with its file, feature or row, column and what to do; gaps, overlaps and
overhangs are given in m² with a WGS84 lon/lat to look at. A case that
cannot be placed is rejected with its reason, never dropped silently: every
row of the case table ends up either returned or in ``findings.rejected``.
"""

from __future__ import annotations

import unicodedata
from itertools import pairwise

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from battlemap import LEVELS
from battlemap._findings import DUPLICATE_RULE, Findings
from battlemap._systems import assign_systems, convert_per_case
from battlemap._text import text_series
from battlemap.config import CatchmentsConfig, Config
from battlemap.errors import ConfigError, InputError

__all__ = ["DUPLICATE_RULE", "parse_coordinates", "parse_datetimes", "validate_boundaries",
           "validate_cases", "validate_catchments", "validate_lines"]

BLANK_WORDS = ("", "nan", "none", "null", "na", "n/a", "-", "--", "/", "无", "空")
"""Cell values that mean "nothing here" (compared case-insensitively)."""
_BLANK = frozenset(BLANK_WORDS)

EARLIEST_YEAR, LATEST_YEAR = 1990, 2100
"""Dates outside these years are typing errors, not dates."""


def validate_boundaries(
    levels: dict[str, gpd.GeoDataFrame], config: Config, findings: Findings
) -> dict[str, gpd.GeoDataFrame]:
    """Check ids, geometries and parents; report gaps, overlaps and overhangs.

    Invalid polygons (self-intersections, bow-ties) are repaired with a
    warning naming the feature. A child whose parent id matches nothing is
    placed in the parent it overlaps most, with a warning.

    Raises
    ------
    InputError
        Listing, for every level at once, each missing or duplicate id,
        each empty or null geometry and each child with neither a known
        parent id nor a parent under it.
    """
    _require_projected(config)
    problems: list[str] = []
    checked, named = {}, {}
    for level in LEVELS:
        findings.absorb(levels[level])
        named[level] = set(levels[level]["unit_id"]) - {""}
        path = str(config.boundaries[level].path)
        frame = _check_ids(levels[level], path, problems)
        checked[level] = _repair_polygons(frame, path, findings, problems)
    for parent, child in pairwise(LEVELS):
        _check_parents(checked[parent], checked[child], named[parent],
                       str(config.boundaries[child].path), findings, problems)
    if problems:
        raise InputError("boundaries: fix these features, then run again", problems)
    tolerance = config.checks.area_tolerance_m2
    for parent, child in pairwise(LEVELS):
        _check_tiling(checked[parent], checked[child], child,
                      str(config.boundaries[child].path), tolerance, findings)
    return checked


def validate_lines(frame: gpd.GeoDataFrame, path: str, findings: Findings) -> gpd.GeoDataFrame:
    """Rivers indexed by ``river_id``: empty lines left out by name, reaches merged.

    A river drawn as several features with the same id (one per reach) is
    merged into one multi-line, with a warning; a river with no id is an
    error naming the feature.
    """
    findings.absorb(frame)
    empty = (frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    for river_id, name, n in zip(frame["river_id"][empty], frame["name"][empty],
                                 frame["feature"][empty], strict=True):
        findings.warn("empty_geometry", f"river {river_id} {name} (feature {n}): empty "
                      "geometry, left out; draw its line", file=path, feature=str(river_id))
    frame = frame[~empty]
    missing = frame["river_id"] == ""
    if missing.any():
        raise InputError("rivers: fix these features, then run again", [
            f"{path}: feature {n} ({name or 'no name'}): id is empty; fill the id field"
            for n, name in zip(frame.loc[missing, "feature"], frame.loc[missing, "name"],
                               strict=True)])
    repeated = frame["river_id"].duplicated(keep=False)
    if repeated.any():
        merged = frame[repeated].dissolve("river_id", aggfunc="first", sort=False)
        for river_id, count in frame.loc[repeated, "river_id"].value_counts(sort=False).items():
            findings.warn("river_reaches_merged", f"river {river_id}: {count} features share "
                          "this id and were merged into one river", file=path,
                          feature=str(river_id))
        frame = pd.concat([frame[~repeated].set_index("river_id"), merged])
        return gpd.GeoDataFrame(frame, geometry="geometry", crs=merged.crs)
    return frame.set_index("river_id")


def validate_catchments(catchments: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame,
                        layer: CatchmentsConfig, findings: Findings) -> gpd.GeoDataFrame:
    """Warn about catchments draining to a river the rivers layer lacks (they are not used)."""
    findings.absorb(catchments)
    unknown = ~catchments["river_id"].isin(rivers.index)
    for feature, river_id in zip(catchments.loc[unknown, "feature"],
                                 catchments.loc[unknown, "river_id"], strict=True):
        findings.warn("unknown_river", f"catchment feature {feature}: river {river_id!r} is not in "
                      "the rivers layer; the catchment is not used", file=str(layer.path),
                      feature=str(feature), column=layer.river_field)
    return catchments[~unknown]


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
    typed = text_series(table["case_id"], strip=True).map(lambda v: f" ({v!r})" if v else "")
    cases = _take(cases, cases["case_id"] == "", "missing_case_id", findings,
                  config.cases.columns["case_id"] + " is blank" + typed + "; fill in the number")
    cases = _parse_dates(cases, config, findings)
    cases = _drop_duplicates(cases, config, findings)
    cases = _map_status(cases, config, findings)
    cases, unknown, detail = assign_systems(cases, config, findings, blank=_BLANK)
    cases = _take(cases, unknown, "unknown_coordinate_system", findings, detail)
    cases = _parse_coordinates(cases, config, findings)
    points = _to_points(cases, config)
    return _inside_district(points, district, config, findings)


# --- dates ------------------------------------------------------------------

_DATE_PARTS = (r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
               r"(?: (?P<hour>\d{1,2}):(?P<minute>\d{1,2})(?::(?P<second>\d{1,2})(?:\.\d+)?)?)?$")
_COMPACT = (r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"
            r"(?:(?P<hour>\d{2})(?P<minute>\d{2})(?P<second>\d{2})?)?$")
_ZONED = r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$"


def parse_datetimes(values: pd.Series) -> pd.Series:
    """Parse the date formats exports carry, as Asia/Shanghai wall time (naive).

    ``2019-11-05 08:30``, ``2019/11/5``, ``2019.11.5``, ``2019年11月5日``
    (with or without a time, also ``8时30分``), ``20191105``, full-width
    digits, Excel serial numbers (``43774.35``, as text or as numbers from
    ``.xlsx`` cells), ISO 8601 with a zone (converted to Beijing time) and
    Unix timestamps in seconds or milliseconds (UTC, converted). Anything
    else, and years outside 1990–2100, is NaT. Blank stays NaT.

    >>> parse_datetimes(pd.Series(["2019年11月5日", "43774.5"])).dt.strftime("%F %R").tolist()
    ['2019-11-05 00:00', '2019-11-05 12:00']
    """
    text = _nfkc(text_series(values, strip=True))
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in _FAST_FORMATS:  # the common cases, at C speed
        todo = result.isna() & (text != "")
        if not todo.any():
            return result
        result[todo] = _sane(pd.to_datetime(text[todo], format=fmt, errors="coerce"))
    rest = result.isna() & (text != "")
    if not rest.any():
        return result
    result[rest] = _parse_slowly(text[rest])
    return result


_FAST_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d %H:%M",
                 "%Y/%m/%d")


def _parse_slowly(text: pd.Series) -> pd.Series:
    """Every other format, by normalising the text first."""
    text = text.astype(str)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    number = pd.to_numeric(text.where(text.str.fullmatch(r"\d{5,13}(?:\.\d+)?")),
                           errors="coerce")
    result = result.mask(number.between(20000, 80000), _from_excel_serial(number))
    seconds, millis = number.between(6.3e8, 4.1e9), number.between(6.3e11, 4.1e12)
    result = result.mask(seconds, _from_unix(number.where(seconds), "s"))
    result = result.mask(millis, _from_unix(number.where(millis), "ms"))
    zoned = text.str.fullmatch(_ZONED) & result.isna()
    if zoned.any():
        parsed = pd.to_datetime(text[zoned].str.replace(" ", "T", n=1, regex=False),
                                format="ISO8601", utc=True, errors="coerce")
        result[zoned] = _sane(parsed.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None))
    norm = (text.str.replace(r"\s*[上下]午\s*", " ", regex=True)
                .str.replace(r"[年月/.]", "-", regex=True)
                .str.replace("日", " ", regex=False)
                .str.replace(r"[时點点]", ":", regex=True)
                .str.replace(r"[分秒]", "", regex=True)
                .str.replace("T", " ", regex=False)
                .str.replace(r"\s+", " ", regex=True).str.strip().str.rstrip(":"))
    todo = result.isna() & (norm != "")
    for pattern in (_DATE_PARTS, _COMPACT):
        if not todo.any():
            break
        parts = norm[todo].str.extract(pattern)
        result[todo] = _from_parts(parts)
        todo = result.isna() & (norm != "")
    afternoon = text.str.contains("下午", regex=False) & (result.dt.hour < 12)
    return result.mask(afternoon, result + pd.Timedelta(hours=12)).astype("datetime64[ns]")


def _nfkc(values: pd.Series) -> pd.Series:
    """Full-width digits and letters to ASCII (only where there is anything non-ASCII)."""
    out = [v if v.isascii() else unicodedata.normalize("NFKC", v).strip() for v in values]
    return pd.Series(out, index=values.index, dtype=object)


def _sane(stamps: pd.Series) -> pd.Series:
    """NaT outside the plausible years, then nanosecond resolution (which cannot overflow now)."""
    year = stamps.dt.year
    return stamps.where(year.between(EARLIEST_YEAR, LATEST_YEAR)).astype("datetime64[ns]")


def _from_excel_serial(days: pd.Series) -> pd.Series:
    seconds = (days.where(days.between(20000, 80000)) * 86400).round()
    return pd.Timestamp("1899-12-30") + pd.to_timedelta(seconds, unit="s")


def _from_unix(number: pd.Series, unit: str) -> pd.Series:
    stamps = pd.to_datetime(number.where(number.notna()).round(), unit=unit, utc=True,
                            errors="coerce")
    return stamps.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).astype("datetime64[ns]")


def _from_parts(parts: pd.DataFrame) -> pd.Series:
    numbers = parts.apply(pd.to_numeric, errors="coerce")
    for column in ("hour", "minute", "second"):
        numbers[column] = numbers[column].fillna(0)
    sane = (numbers["year"].between(EARLIEST_YEAR, LATEST_YEAR) & numbers["hour"].between(0, 23)
            & numbers["minute"].between(0, 59) & numbers["second"].between(0, 59))
    numbers = numbers[sane]
    if numbers.empty:
        return pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    stamps = pd.to_datetime(numbers[["year", "month", "day", "hour", "minute", "second"]],
                            errors="coerce")
    return stamps.astype("datetime64[ns]").reindex(parts.index)


def _parse_dates(cases: pd.DataFrame, config: Config, findings: Findings) -> pd.DataFrame:
    path = str(config.cases.path)
    column_of = config.cases.columns
    raw_reported = text_series(cases["reported_at"])
    cases = cases.assign(reported_at=parse_datetimes(cases["reported_at"]))
    cases = _take(cases, cases["reported_at"].isna(), "bad_report_date", findings,
                  "上报时间: " + raw_reported)
    for field in ("deadline", "closed_at"):
        if field not in cases:
            cases[field] = pd.Series(pd.NaT, index=cases.index, dtype="datetime64[ns]")
            continue
        raw = text_series(cases[field], strip=True)
        cases[field] = parse_datetimes(raw)
        unreadable = cases[field].isna() & ~raw.map(lambda v: v.lower() in _BLANK)
        _flag(cases, unreadable, "bad_date", "'" + raw + "' is not a date; left blank",
              path, column_of[field], findings)
    as_of_end = pd.Timestamp(config.as_of) + pd.Timedelta(days=1)
    _flag(cases, cases["reported_at"] >= as_of_end, "future_date",
          "reported after the as-of date " + str(config.as_of), path,
          column_of["reported_at"], findings)
    _flag(cases, cases["closed_at"] >= as_of_end, "future_date",
          "closed after the as-of date " + str(config.as_of), path,
          column_of.get("closed_at", ""), findings)
    _flag(cases, cases["closed_at"] < cases["reported_at"].dt.normalize(), "closed_before_report",
          "closed before it was reported", path, column_of.get("closed_at", ""), findings)
    _flag(cases, cases["deadline"] < cases["reported_at"].dt.normalize(), "deadline_before_report",
          "deadline before the report date", path, column_of.get("deadline", ""), findings)
    return cases


def _flag(cases: pd.DataFrame, mask: pd.Series, kind: str, what: str | pd.Series, path: str,
          column: str, findings: Findings) -> None:
    """One warning per flagged row: the case stays, the office checks the record."""
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return
    text = what[mask] if isinstance(what, pd.Series) else pd.Series(what, index=cases.index[mask])
    for row, case_id, message in zip(cases.loc[mask, "source_row"], cases.loc[mask, "case_id"],
                                     text, strict=True):
        findings.warn(kind, f"row {row} case {case_id}: {message}; check the export",
                      file=path, feature=f"row {row}", column=column)


# --- status and duplicates --------------------------------------------------

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
    detail = (header + ": " + words).where(words != "", header + " is blank")
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
    detail = ("newer record kept: row " + kept_row.astype(str)).reindex(cases.index)
    findings.warn("duplicate_case_id", f"{int(mask.sum())} older record(s) of "
                  f"{order.loc[older, 'case_id'].nunique()} repeated case number(s) rejected. "
                  f"Rule: {DUPLICATE_RULE}", file=str(config.cases.path),
                  column=config.cases.columns["case_id"])
    return _take(cases, mask, "duplicate_case_id", findings, detail)


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


# --- coordinates ------------------------------------------------------------

_DMS = (r"^(?P<deg>\d{1,3})\s*[°度]\s*(?:(?P<min>\d{1,2}(?:\.\d+)?)\s*['′分]\s*)?"
        r"(?:(?P<sec>\d{1,2}(?:\.\d+)?)\s*(?:[\"″]|''|秒)?)?$")


def parse_coordinates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from coordinate text.

    ``113.5``, ``１１３.５``, ``113.5°E``, ``东经113.5`` and ``113°30'0"`` all read 113.5.

    Returns ``(number, blank)``: the value in degrees (NaN when not a
    number) and whether the cell was blank (including ``nan``, ``-``, ``无``).
    """
    raw = text_series(values, strip=True)
    number = pd.to_numeric(raw, errors="coerce").astype(float)  # the common case, at C speed
    blank = pd.Series([v.lower() in _BLANK for v in raw], index=raw.index, dtype=bool)
    todo = number.isna() & ~blank
    if todo.any():
        number[todo] = _coordinates_slowly(raw[todo])
    return number.where(~blank), blank


def _coordinates_slowly(raw: pd.Series) -> pd.Series:
    text = _nfkc(raw).astype(str)
    text = (text.str.replace(r"^(?:东经|北纬|[EN])\s*", "", regex=True)
                .str.replace(r"\s*(?:[EN]|东经|北纬)$", "", regex=True).str.strip())
    number = pd.to_numeric(text.str.replace(r"\s*°$", "", regex=True), errors="coerce")
    number = number.astype(float)
    todo = number.isna() & text.str.contains(r"[°度]", regex=True)
    if todo.any():
        dms = text[todo].str.extract(_DMS).apply(pd.to_numeric, errors="coerce")
        number[todo] = dms["deg"] + dms["min"].fillna(0) / 60 + dms["sec"].fillna(0) / 3600
    return number


def _parse_coordinates(cases: pd.DataFrame, config: Config, findings: Findings) -> pd.DataFrame:
    lon_text, lat_text = text_series(cases["lon"], strip=True), text_series(cases["lat"], strip=True)
    lon, lon_blank = parse_coordinates(lon_text)
    lat, lat_blank = parse_coordinates(lat_text)
    detail = "经度=" + lon_text + " 纬度=" + lat_text
    cases = _take(cases, lon_blank | lat_blank, "blank_coordinates", findings, detail)
    cases = _take(cases, lon.isna() | lat.isna(), "non_numeric_coordinates", findings, detail)
    cases = _take(cases, (lon == 0) | (lat == 0), "zero_coordinates", findings, detail)
    lon, lat = lon[cases.index].copy(), lat[cases.index].copy()
    swapped = lon.between(3, 54) & lat.between(73, 136)
    _flag(cases, swapped, "swapped_coordinates", "longitude and latitude were swapped; fixed",
          str(config.cases.path), config.cases.columns["lon"], findings)
    lon[swapped], lat[swapped] = lat[swapped], lon[swapped]
    out_of_range = ~(lon.between(73, 136) & lat.between(3, 54))
    projected = (lon.abs() > 1000) | (lat.abs() > 1000)
    reason = detail.where(~projected, detail + " (projected metres, not degrees: convert "
                          "them to longitude/latitude)")
    cases = cases.assign(lon=lon, lat=lat)
    return _take(cases, out_of_range, "coordinates_out_of_range", findings, reason)


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
    detail = ("WGS84 " + points["lon"].round(5).astype(str) + ", "
              + points["lat"].round(5).astype(str) + " is " + distance_km.round(1).astype(str)
              + " km outside the district (read as " + points["coord_system"] + ")")
    return _take(points, outside, "outside_district", findings, detail)


def _take(cases: pd.DataFrame, bad: pd.Series, code: str, findings: Findings,
          detail: str | pd.Series = "") -> pd.DataFrame:
    """Reject the rows where ``bad`` holds; return the others."""
    bad = bad.reindex(cases.index, fill_value=False).fillna(False).astype(bool)
    if isinstance(detail, pd.Series):
        detail = detail.reindex(cases.index)[bad]
    findings.reject(cases[bad], code, detail)
    return cases[~bad]


# --- boundaries -------------------------------------------------------------

def _require_projected(config: Config) -> None:
    try:
        crs = CRS.from_user_input(config.project.analysis_crs)
    except Exception:  # pyproj raises several types for a bad string
        raise ConfigError(f"project.analysis_crs = {config.project.analysis_crs!r} is not a "
                          "coordinate reference system battlemap knows; use a projected EPSG "
                          "code in metres, e.g. \"EPSG:4526\"") from None
    if not crs.is_projected:
        raise ConfigError(f"project.analysis_crs = {config.project.analysis_crs!r} is not "
                          "projected; areas and distances need metres, e.g. \"EPSG:4526\"")


def _check_ids(frame: gpd.GeoDataFrame, path: str, problems: list[str]) -> gpd.GeoDataFrame:
    missing = frame["unit_id"] == ""
    problems.extend(f"{path}: feature {n} ({name or 'no name'}): id is empty; fill the id field"
                    for n, name in zip(frame.loc[missing, "feature"], frame.loc[missing, "name"],
                                       strict=True))
    repeated = frame["unit_id"].duplicated(keep=False) & ~missing
    for unit_id, group in frame[repeated].groupby("unit_id"):
        problems.append(f"{path}: id {unit_id} is used by features {group['feature'].tolist()} "
                        f"({', '.join(group['name'].astype(str))}); ids must be unique")
    frame = frame[~missing].drop_duplicates("unit_id")
    return frame.set_index("unit_id")


def _repair_polygons(frame: gpd.GeoDataFrame, path: str, findings: Findings,
                     problems: list[str]) -> gpd.GeoDataFrame:
    empty = (frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    problems.extend(f"{path}: {unit_id} {name} (feature {n}): empty or null geometry; draw its "
                    "boundary or remove the feature"
                    for unit_id, name, n in zip(frame.index[empty], frame["name"][empty],
                                                frame["feature"][empty], strict=True))
    frame = frame[~empty].copy()
    invalid = ~frame.geometry.is_valid.to_numpy()
    if not invalid.any():
        return frame
    reasons = shapely.is_valid_reason(frame.geometry.values[invalid])
    repaired = _polygonal(shapely.make_valid(frame.geometry.values[invalid]))
    hulls = shapely.area(shapely.convex_hull(frame.geometry.values[invalid]))
    for unit_id, reason, geom, hull in zip(frame.index[invalid], reasons, repaired, hulls,
                                           strict=True):
        if geom is None or geom.is_empty:
            problems.append(f"{path}: {unit_id} {frame.at[unit_id, 'name']}: invalid polygon "
                            f"({reason}) with no area left after repair; redraw it")
            continue
        kept = float(shapely.area(geom))
        findings.warn("geometry_repaired", f"{unit_id} {frame.at[unit_id, 'name']} (feature "
                      f"{frame.at[unit_id, 'feature']}): invalid polygon ({reason}) repaired; "
                      f"kept {kept:,.0f} of {hull:,.0f} m² ({_percent(kept, hull)}, measured "
                      "against its outline's convex hull); check its outline", file=path,
                      feature=unit_id)
    frame.loc[invalid, "geometry"] = repaired
    return frame


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole > 0 else "n/a"


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep the polygon parts of what make_valid returns (it may add lines)."""
    out = []
    for geom in geoms:
        if geom.geom_type == "GeometryCollection":
            parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
            geom = shapely.union_all(parts) if parts else shapely.Polygon()
        out.append(geom)
    return np.asarray(out, dtype=object)


def _check_parents(parents: gpd.GeoDataFrame, children: gpd.GeoDataFrame, named: set[str],
                   path: str, findings: Findings, problems: list[str]) -> None:
    """A parent id that matches nothing: place the child by location, or refuse it.

    A parent id that names a unit already reported (empty geometry, repeated
    id) is not reported again.
    """
    orphans = ~children["parent_id"].isin(named)
    if not orphans.any():
        return
    located = _largest_overlap(children[orphans], parents)
    for unit_id, parent_id in located.items():
        name, given = children.at[unit_id, "name"], children.at[unit_id, "parent_id"]
        if parent_id == "":
            problems.append(f"{path}: {unit_id} {name}: parent id {given!r} does not exist and "
                            "no parent unit lies under it; fix the parent field")
            continue
        findings.warn("unknown_parent", f"{unit_id} {name}: parent id {given!r} does not exist; "
                      f"placed in {parent_id} {parents.at[parent_id, 'name']} by location; fix "
                      "the parent field", file=path, feature=unit_id, column="parent_id")
        children.at[unit_id, "parent_id"] = parent_id


def _largest_overlap(children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame) -> pd.Series:
    left, right = parents.sindex.query(children.geometry.values, predicate="intersects")
    pairs = pd.DataFrame({
        "child": children.index[left], "parent": parents.index[right],
        "area": shapely.area(shapely.intersection(children.geometry.values[left],
                                                  parents.geometry.values[right]))})
    pairs = pairs[pairs["area"] > 0]
    best = pairs.sort_values("area", kind="stable").groupby("child")["parent"].last()
    return best.reindex(children.index).fillna("").astype(object)


def _check_tiling(parents: gpd.GeoDataFrame, children: gpd.GeoDataFrame, level: str,
                  path: str, tolerance: float, findings: Findings) -> None:
    """Gaps and overlaps between siblings, and children sticking out of their parent.

    Each piece of at least ``tolerance`` m² is reported with its area and a
    WGS84 point inside it, so the office can find it on any web map.
    """
    floor = max(tolerance, 1e-6)
    transformer: list[Transformer] = []

    def report(geom: shapely.Geometry, kind: str, what: str, feature: str) -> None:
        for part in shapely.get_parts(geom):
            area = float(shapely.area(part))
            if part.geom_type != "Polygon" or area < floor:
                continue
            if not transformer:
                transformer.append(Transformer.from_crs(children.crs, "EPSG:4326",
                                                        always_xy=True))
            point = shapely.point_on_surface(part)
            lon, lat = transformer[0].transform(point.x, point.y)
            findings.warn(kind, f"{what}: {area:,.0f} m² around {lon:.5f}°E, {lat:.5f}°N",
                          file=path, feature=feature)

    parent_geoms = np.asarray(parents.geometry.values)
    parent_names = dict(zip(parents.index, parents["name"], strict=True))
    child_geoms = np.asarray(children.geometry.values)
    child_names = children["name"].to_numpy()
    parent_of = children["parent_id"].to_numpy()
    position = pd.Series(np.arange(len(parents)), index=parents.index)
    for parent_id, rows in pd.Series(np.arange(len(children))).groupby(parent_of):
        if parent_id not in position.index:
            continue
        cover = shapely.union_all(child_geoms[rows.to_numpy()])
        gap = shapely.difference(parent_geoms[position[parent_id]], cover)
        if shapely.area(gap) >= floor:
            report(gap, "gap", f"gap inside {parent_id} {parent_names[parent_id]} not covered "
                   f"by any {level}", str(parent_id))
    known = np.isin(parent_of, position.index)
    own = parent_geoms[position.reindex(parent_of[known]).to_numpy(int)]
    overhangs = shapely.difference(child_geoms[known], own)
    big = shapely.area(overhangs) >= floor
    for unit_id, name, parent_id, geom in zip(children.index[known][big], child_names[known][big],
                                              parent_of[known][big], overhangs[big], strict=True):
        report(geom, "overhang", f"{level} {unit_id} {name} sticks out of its parent "
               f"{parent_id}", str(unit_id))
    left, right = children.sindex.query(child_geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    overlaps = shapely.intersection(child_geoms[left], child_geoms[right])
    big = shapely.area(overlaps) >= floor
    ids = children.index
    for i, j, geom in zip(left[big], right[big], overlaps[big], strict=True):
        report(geom, "overlap", f"{level} {ids[i]} and {ids[j]} overlap", f"{ids[i]}, {ids[j]}")

"""Coordinates as people type them: :func:`parse_coordinates`, and the case step.

Reads ``113.5``, full-width digits, ``113.5°E``, ``东经113.5`` and degrees,
minutes and seconds. :func:`_parse_coordinates` rejects blank, non-numeric,
zero and out-of-range coordinates with their reason and swaps longitude and
latitude back where they were swapped. Conversion between coordinate
systems is :mod:`battlemap._systems`' job.
"""

from __future__ import annotations

import pandas as pd

from battlemap._findings import Findings
from battlemap._text import text_series
from battlemap.config import Config
from battlemap.validate._cells import _BLANK, _flag, _nfkc, _take

__all__ = ["parse_coordinates"]


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

    def detail(rows: pd.Index) -> pd.Series:
        return "经度=" + lon_text[rows] + " 纬度=" + lat_text[rows]

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

    def reason(rows: pd.Index) -> pd.Series:
        typed = detail(rows)
        return typed.where(~projected[rows], typed + " (projected metres, not degrees: convert "
                           "them to longitude/latitude)")

    cases = cases.assign(lon=lon, lat=lat)
    return _take(cases, out_of_range, "coordinates_out_of_range", findings, reason)

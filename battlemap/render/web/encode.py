"""Geometry and figures made compact for the web: simplified, WGS84 (or GCJ-02), rounded arrays."""


from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from battlemap import LEVELS
from battlemap._model import UNIT_STAT_COLUMNS
from battlemap._paths import safe_stem
from battlemap.coords import wgs84_to_gcj02

PAGE_LEVELS = (*LEVELS, "river")
STAT_KEYS = tuple(c for c in UNIT_STAT_COLUMNS)
COORD_SCALE = 100_000          # case lon/lat as integers ×1e5 (≈ 1 m)
POLY_DECIMALS = 5              # polygon and line vertices, ≈ 1 m
SIMPLIFY_M = {"district": 20.0, "town": 10.0, "village": 5.0, "grid": 2.0, "river": 8.0}
CORRIDOR_SIMPLIFY_M = 25.0
# The district page's overview (its towns, outline and rivers) is simplified for the map it
# opens with: the district's long side across at least OVERVIEW_MAP_PX pixels (a 1400 x 900
# window gives 820), kept within about a pixel OVERVIEW_ZOOM_IN zoom levels further in
# (增城区: 59 km, 18.5 m; the map opens at zoom 10.8, 80 m a pixel). Town and village pages
# keep their full geometry (SIMPLIFY_M).
OVERVIEW_MAP_PX = 800
OVERVIEW_ZOOM_IN = 2
CONTEXT_MARGIN = 0.15          # rivers are clipped to a unit's bounds plus this share
FLAG_OVERDUE, FLAG_RECURRING, FLAG_MISMATCH, FLAG_INVALID = 1, 2, 4, 8


# ---------------------------------------------------------------------------
# Geometry for the web: simplified in metres, then WGS84, rounded, [lat, lon]


def _latlngs(geom: shapely.Geometry | None) -> list:
    """Leaflet latlngs of a polygon, multipolygon, line or multiline; [] when empty."""
    if geom is None or geom.is_empty:
        return []
    kind = geom.geom_type
    if kind == "Polygon":
        return [_ring(r) for r in (geom.exterior, *geom.interiors)]
    if kind == "LineString":
        return _line(geom)
    if kind in ("MultiPolygon", "MultiLineString", "GeometryCollection"):
        parts = [_latlngs(g) for g in geom.geoms if g.geom_type in (
            "Polygon", "LineString", "MultiPolygon", "MultiLineString")]
        return [p for p in parts if p]
    return []


def _line(geom: shapely.Geometry) -> list:
    xy = np.round(shapely.get_coordinates(geom)[:, ::-1], POLY_DECIMALS)
    return xy.tolist()


def _ring(ring: shapely.Geometry) -> list:
    return _line(ring)[:-1]


def _gcj_xy(xy: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat]).reshape(-1, 2)


def _to_gcj02(geoms: np.ndarray) -> np.ndarray:
    """WGS84 geometries shifted to GCJ-02, all vertices in one vectorised call."""
    return shapely.transform(geoms, _gcj_xy)


def _to_wgs84(geoms: gpd.GeoSeries, gcj: bool = False) -> np.ndarray:
    """The geometries in WGS84 (or GCJ-02 when drawn over a GCJ-02 basemap)."""
    wgs = geoms.to_crs(4326).values
    return _to_gcj02(np.asarray(wgs)) if gcj else wgs


def _web_geometries(frame: gpd.GeoDataFrame, tolerance: float, gcj: bool = False) -> list:
    simple = frame.geometry.simplify(tolerance, preserve_topology=True)
    return [_latlngs(g) for g in _to_wgs84(simple, gcj)]


def overview_tolerance(geoms: gpd.GeoSeries) -> float:
    """Metres the district overview may move a border: one pixel OVERVIEW_ZOOM_IN levels in."""
    minx, miny, maxx, maxy = geoms.total_bounds
    return max(maxx - minx, maxy - miny) / OVERVIEW_MAP_PX / 2 ** OVERVIEW_ZOOM_IN


def _coverage_geometries(frame: gpd.GeoDataFrame, tolerance: float, gcj: bool = False) -> list:
    """Latlngs of units simplified as one coverage: a border two units share stays shared.

    Each polygon simplified alone moves a shared border differently on its two sides
    (gaps and slivers between neighbours); ``shapely.coverage_simplify`` simplifies each
    shared edge once. Units that overlap (not a valid coverage) are simplified one by one.
    """
    geoms = np.asarray(frame.geometry.values)
    if len(geoms) and shapely.coverage_is_valid(geoms):
        simple = shapely.coverage_simplify(geoms, tolerance)
    else:
        simple = shapely.simplify(geoms, tolerance, preserve_topology=True)
    wgs = gpd.GeoSeries(simple, crs=frame.crs)
    return [_latlngs(g) for g in _to_wgs84(wgs, gcj)]


def _latlon_points(geoms: gpd.GeoSeries, gcj: bool = False) -> list:
    xy = np.round(shapely.get_coordinates(_to_wgs84(geoms, gcj)), 6)
    return [[lat, lon] for lon, lat in xy.tolist()]


def _unit_bounds(geoms: gpd.GeoSeries, gcj: bool = False) -> np.ndarray:
    """(n, 4) minx, miny, maxx, maxy of each geometry, in degrees, rounded."""
    return np.round(shapely.bounds(_to_wgs84(geoms, gcj)), 6)


# ---------------------------------------------------------------------------
# Precomputed web atlas: everything sliced once, then templated per page


def _stat_rows(frame: pd.DataFrame) -> list[list]:
    """Each row's :data:`STAT_KEYS` as a list: ints, the rate to 4 decimals, None when missing."""
    columns = []
    for key in STAT_KEYS:
        values = frame[key]
        missing = values.isna().to_numpy().tolist()
        convert = _rate if key == "closed_rate" else int
        columns.append([None if m else convert(v)
                        for v, m in zip(values.tolist(), missing, strict=True)])
    return [list(row) for row in zip(*columns, strict=True)]


def _rate(value: float) -> float:
    return round(float(value), 4)


_ID_PARTS = re.compile(r"^(.*?)(\d{1,15})$")


def _encode_ids(ids: list[str]) -> dict:
    """Case numbers as prefix + zero-padded number, numbers delta-coded.

    ``ZC2019000001, ZC2019000002`` become prefixes ``["ZC"]``, widths ``[10]``, ``c``
    (how many), ``k`` (prefix per case; omitted when there is one) and ``n`` =
    ``"2019000001,1"``. Ids without trailing digits keep themselves as prefix, width 0.
    ``n`` and ``k`` are comma-separated text, not JSON lists: a page reads the case
    numbers only when asked (search, popup, export), and a string costs nothing to parse
    (the district's 31,000 numbers as a list: 4-11 ms in headless Chromium, as text 1 ms).
    """
    keys: dict[tuple[str, int], int] = {}
    k, n, last = [], [], 0
    for case_id in ids:
        match = _ID_PARTS.match(case_id)
        prefix, digits = (match.group(1), match.group(2)) if match else (case_id, "")
        number = int(digits) if digits else 0
        k.append(keys.setdefault((prefix, len(digits)), len(keys)))
        n.append(number - last)
        last = number
    out: dict[str, object] = {"p": [p for p, _ in keys], "w": [w for _, w in keys],
                              "c": len(ids), "n": ",".join(map(str, n))}
    if len(keys) > 1:
        out["k"] = ",".join(map(str, k))
    return out


_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_DIGIT_BYTES = np.frombuffer(_DIGITS.encode("ascii"), dtype=np.uint8)


def _pack_ints(values: np.ndarray) -> dict:
    """Integers as one string of fixed-width base-64 digits (``_DIGITS``) above their minimum.

    ``[5, 7, 70]`` becomes ``{"b": 5, "w": 2, "v": "AAACBB"}``: ``w`` digits per number,
    most significant first, each number minus ``b``. A case costs 1 to 3 characters per
    array instead of up to 6 as JSON numbers; ``atlas-core.js`` (``unpackInts``) decodes.
    """
    values = np.asarray(values, dtype=np.int64)
    if not len(values):
        return {"b": 0, "w": 0, "v": ""}
    base = int(values.min())
    span = values - base
    width = max(1, (int(span.max()).bit_length() + 5) // 6)
    shifts = 6 * np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (span[:, None] >> shifts[None, :]) & 63
    return {"b": base, "w": width, "v": _DIGIT_BYTES[digits].tobytes().decode("ascii")}


def _unpack_ints(packed: dict) -> list[int]:
    """The integers of :func:`_pack_ints` (for tests and tools reading page data)."""
    width, text = packed["w"], packed["v"]
    out: list[int] = []
    for start in range(0, len(text), width or 1):
        number = 0
        for char in text[start:start + width]:
            number = number * 64 + _DIGITS.index(char)
        out.append(number + packed["b"])
    return out


def _js_call(function: str, key: list | None, payload: dict) -> str:
    """A script calling ``function(key…, payload)``, the payload as compact JSON."""
    args = ([json.dumps(k, ensure_ascii=False) for k in key] if key else [])
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return f"{function}({', '.join([*args, body])});\n"


def _fmt_time(series: pd.Series, fmt: str) -> list[str]:
    text = series.dt.strftime(fmt)
    return text.where(series.notna(), "").astype(str).tolist()


def page_name(unit_id: str) -> str:
    """The file stem of a unit's page and page data (see :func:`battlemap._paths.safe_stem`)."""
    return safe_stem(unit_id)

"""Interactive HTML atlas (交互式挂图): one offline Leaflet page per unit and river.

Layout under ``out_dir``::

    index.html                  the district (区) map
    town/<id>.html              one page per town (镇街), village (村居), grid (网格)
    village/<id>.html           and river (流域); file names come from unit ids only
    grid/<id>.html
    river/<id>.html
    data/shared.js              labels, colours, town outlines, rivers, context, unit index
    data/<level>/<id>.js        one page's data, loaded by a <script> tag (file:// safe)
    assets/                     Leaflet (from the js_lib_leaflet package), atlas-*.js, atlas.css

Cases travel as compact parallel arrays (integer coordinates, small-integer
codes) and are drawn by one canvas layer in ``atlas-cases.js``. A case's details
(description, dates, declared units) live in its grid's data file, which a
page loads on demand when the case is clicked. Free text is never written
into HTML: page data is JSON, and the atlas scripts build popups with
``textContent``.

A basemap is optional (``config.basemap``; none by default, so the atlas makes
no network request at all). When the basemap's tiles are in GCJ-02
(Amap-style), every coordinate written into the page data (units, rivers,
context, cases, bounds) is shifted from WGS84 to GCJ-02 here, vectorised, so
the browser draws the data as they are.

Searching a case number works from any page: the district data file already
holds every case number and its grid, and a page loads it on demand when the
search box is used, then jumps to ``grid/<id>.html#case=<case id>``.
"""

from __future__ import annotations

import html
import importlib.resources
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from battlemap import LEVELS, STATES
from battlemap._io import write_bytes, write_text
from battlemap._model import UNIT_STAT_COLUMNS, Atlas
from battlemap._paths import inside, page_data_file, page_file, safe_stem
from battlemap._text import as_text, text_series
from battlemap.coords import wgs84_to_gcj02
from battlemap.errors import RenderError
from battlemap.join import counted
from battlemap.render.closure import NO_CASES_COLOR, closure_color, closure_legend
from battlemap.render.water import water_shared, write_section_pages
from battlemap.stats import count_rule, uncounted_note

__all__ = ["page_name", "render_web"]

PAGE_LEVELS = (*LEVELS, "river")
STAT_KEYS = tuple(c for c in UNIT_STAT_COLUMNS)
COORD_SCALE = 100_000          # case lon/lat as integers ×1e5 (≈ 1 m)
POLY_DECIMALS = 5              # polygon and line vertices, ≈ 1 m
SIMPLIFY_M = {"district": 20.0, "town": 10.0, "village": 5.0, "grid": 2.0, "river": 8.0}
CORRIDOR_SIMPLIFY_M = 25.0
CONTEXT_MARGIN = 0.15          # rivers are clipped to a unit's bounds plus this share
FLAG_OVERDUE, FLAG_RECURRING, FLAG_MISMATCH, FLAG_INVALID = 1, 2, 4, 8
_STATIC = "static"
_LEAFLET_FILES = ("leaflet.js", "leaflet.css")
# the atlas's classic scripts (file:// pages cannot load ES modules), in load order; each
# adds to the one namespace window.battlemap that atlas-core.js creates
ATLAS_SCRIPTS = ("atlas-core.js", "atlas-cases.js", "atlas-map.js", "atlas-panel.js",
                 "atlas-search.js", "atlas-export.js", "atlas-start.js", "atlas-water.js")


def render_web(atlas: Atlas, out_dir: Path,
               units: Iterable[tuple[str, str]] | None = None) -> list[Path]:
    """Write the offline atlas under ``out_dir``; return the files written.

    Parameters
    ----------
    atlas
        The prepared atlas (units with statistics, rivers, cases).
    out_dir
        The output folder; ``index.html`` is the district map.
    units
        ``None`` writes every page; otherwise only these ``(level, unit_id)``
        pages (level in district/town/village/grid/river), plus the shared
        assets and data.

    Raises
    ------
    RenderError
        When a requested unit does not exist.
    """
    out_dir = Path(out_dir)
    wanted = _check_units(atlas, units)
    web = _WebAtlas.build(atlas)
    written = _write_assets(out_dir)
    written.append(write_text(out_dir / "data" / "shared.js",
                              _js_call("battlemapShared", None, web.shared())))
    pages = list(_pages(atlas, wanted))
    for level, unit_id in pages:
        written.extend(_write_page(web, out_dir, level, unit_id))
    if any(level == "district" for level, _ in pages):  # section pages go with index.html
        written.extend(write_section_pages(atlas, out_dir,
                                           lambda lv, i: web.stems[lv].get(i, page_name(i))))
    return written


def page_name(unit_id: str) -> str:
    """The file stem of a unit's page and page data (see :func:`battlemap._paths.safe_stem`)."""
    return safe_stem(unit_id)


# ---------------------------------------------------------------------------
# Inputs


def _check_units(atlas: Atlas, units: Iterable[tuple[str, str]] | None
                 ) -> set[tuple[str, str]] | None:
    if units is None:
        return None
    wanted = {(str(level), str(unit_id)) for level, unit_id in units}
    unknown = []
    for level, unit_id in sorted(wanted):
        frame = atlas.rivers if level == "river" else atlas.units.get(level)
        if frame is None or unit_id not in frame.index:
            unknown.append(f"{level} {unit_id!r}: no such unit")
    if unknown:
        raise RenderError("render_web: unknown page(s) requested", unknown)
    return wanted


def _pages(atlas: Atlas, wanted: set[tuple[str, str]] | None) -> Iterator[tuple[str, str]]:
    for level in PAGE_LEVELS:
        frame = atlas.rivers if level == "river" else atlas.units[level]
        for unit_id in frame.index:
            if wanted is None or (level, str(unit_id)) in wanted:
                yield level, str(unit_id)


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


def _latlon_points(geoms: gpd.GeoSeries, gcj: bool = False) -> list:
    xy = np.round(shapely.get_coordinates(_to_wgs84(geoms, gcj)), 6)
    return [[lat, lon] for lon, lat in xy.tolist()]


def _unit_bounds(geoms: gpd.GeoSeries, gcj: bool = False) -> np.ndarray:
    """(n, 4) minx, miny, maxx, maxy of each geometry, in degrees, rounded."""
    return np.round(shapely.bounds(_to_wgs84(geoms, gcj)), 6)


# ---------------------------------------------------------------------------
# Precomputed web atlas: everything sliced once, then templated per page


def _stat_row(row: pd.Series) -> list:
    out = []
    for key in STAT_KEYS:
        value = row[key]
        if pd.isna(value):
            out.append(None)
        elif key == "closed_rate":
            out.append(round(float(value), 4))
        else:
            out.append(int(value))
    return out


_ID_PARTS = re.compile(r"^(.*?)(\d{1,15})$")


def _encode_ids(ids: list[str]) -> dict:
    """Case numbers as prefix + zero-padded number, numbers delta-coded.

    ``ZC2019000001, ZC2019000002`` become prefixes ``["ZC"]``, widths ``[10]``,
    ``k`` (prefix per case; omitted when there is one) and ``n`` = ``[2019000001, 1]``.
    Ids without trailing digits keep themselves as prefix, width 0.
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
    out: dict[str, list] = {"p": [p for p, _ in keys], "w": [w for _, w in keys], "n": n}
    if len(keys) > 1:
        out["k"] = k
    return out


def _fmt_time(series: pd.Series, fmt: str) -> list[str]:
    text = series.dt.strftime(fmt)
    return text.where(series.notna(), "").astype(str).tolist()


@dataclass
class _WebAtlas:
    """The atlas turned into JSON-ready pieces, computed once for all pages."""

    atlas: Atlas
    stems: dict[str, dict[str, str]]          # level -> unit_id -> file stem
    stats: dict[str, dict[str, list]]         # level -> unit_id -> stat list
    geoms: dict[str, dict[str, list]]         # level -> unit_id -> latlngs
    labels: dict[str, dict[str, list]]        # level -> unit_id -> [lat, lon]
    bounds: dict[str, dict[str, list]]        # level -> unit_id -> [[s, w], [n, e]]
    children_of: dict[str, dict[str, np.ndarray]]
    cases_of: dict[str, dict[str, np.ndarray]]
    case_arrays: dict[str, np.ndarray]
    case_ids: np.ndarray
    details: list[list]
    types: list[str]
    channels: list[str]
    epoch: pd.Timestamp
    origin: tuple[int, int]
    grid_index: dict[str, int]
    stretches: pd.DataFrame
    river_units: dict[str, pd.DataFrame]      # level -> rows (unit_id, river_id, length_m)
    gcj: bool = False                         # coordinates shifted to GCJ-02 for the basemap
    _rivers_of: dict[tuple[str, str], list] | None = None

    @classmethod
    def build(cls, atlas: Atlas) -> _WebAtlas:
        levels = {**atlas.units, "river": atlas.rivers}
        basemap = atlas.config.basemap
        gcj = basemap is not None and basemap.coordinates == "GCJ-02"
        stems = {lv: {str(i): page_name(i) for i in f.index} for lv, f in levels.items()}
        stats = {lv: {str(i): _stat_row(r) for i, r in f[list(STAT_KEYS)].iterrows()}
                 for lv, f in levels.items()}
        geoms, labels, bounds = {}, {}, {}
        for level, frame in levels.items():
            ids = [str(i) for i in frame.index]
            geoms[level] = dict(zip(ids, _web_geometries(frame, SIMPLIFY_M[level], gcj),
                                    strict=True))
            if level != "river":
                points = frame.geometry.representative_point()
                labels[level] = dict(zip(ids, _latlon_points(points, gcj), strict=True))
            boxes = _unit_bounds(frame.geometry, gcj).tolist()
            bounds[level] = {i: [[miny, minx], [maxy, maxx]]
                             for i, (minx, miny, maxx, maxy) in zip(ids, boxes, strict=True)}
        children_of = {}
        for level in LEVELS[1:]:
            frame = atlas.units[level]
            children_of[level] = {str(k): v for k, v in
                                  frame.groupby("parent_id", sort=False).indices.items()}
        web = cls(atlas, stems, stats, geoms, labels, bounds, children_of, {}, {},
                  np.array([]), [], [], [], pd.Timestamp(atlas.as_of), (0, 0), {},
                  pd.DataFrame(), {}, gcj)
        web._encode_cases()
        web._river_links()
        return web

    # -- cases -------------------------------------------------------------
    def _encode_cases(self) -> None:
        # invalid tips and void statuses are in no figure and not drawn (the legend says so)
        cases = self.atlas.cases[counted(self.atlas.cases)]
        for level in (*LEVELS, "river"):
            column = cases[f"{level}_id"]
            self.cases_of[level] = {str(k): v for k, v in
                                    column.groupby(column, sort=False).indices.items()
                                    if str(k) != ""}
        lon, lat = cases["lon"].to_numpy(float), cases["lat"].to_numpy(float)
        if self.gcj:
            lon, lat = wgs84_to_gcj02(lon, lat)
        x = np.rint(lon * COORD_SCALE).astype(np.int64)
        y = np.rint(lat * COORD_SCALE).astype(np.int64)
        self.origin = (int(x.min()), int(y.min())) if len(x) else (0, 0)
        reported = cases["reported_at"]
        self.epoch = reported.min().normalize() if len(cases) and reported.notna().any() \
            else pd.Timestamp(self.atlas.as_of)
        self.types = cases["problem_type"].fillna("").astype(str).value_counts().index.tolist()
        self.channels = cases["channel"].fillna("").astype(str).value_counts().index.tolist()
        grid_ids = [str(i) for i in self.atlas.units["grid"].index]
        self.grid_index = {g: k for k, g in enumerate(grid_ids)}
        grid_codes = cases["grid_id"].map(self.grid_index).fillna(-1).astype(int)
        flags = (cases["overdue"].fillna(False).astype(int) * FLAG_OVERDUE
                 + cases["recurring"].fillna(False).astype(int) * FLAG_RECURRING
                 + cases["declared_mismatch"].fillna(False).astype(int) * FLAG_MISMATCH
                 + (~cases["valid"].fillna(True).astype(bool)).astype(int) * FLAG_INVALID)
        days = (reported.dt.normalize() - self.epoch).dt.days
        self.case_arrays = {
            "x": x - self.origin[0],
            "y": y - self.origin[1],
            "s": pd.Categorical(cases["state"], categories=STATES).codes.astype(np.int64),
            "t": pd.Categorical(cases["problem_type"].fillna("").astype(str),
                                categories=self.types).codes.astype(np.int64),
            "c": pd.Categorical(cases["channel"].fillna("").astype(str),
                                categories=self.channels).codes.astype(np.int64),
            "d": days.fillna(-1).astype(np.int64).to_numpy(),
            "f": flags.to_numpy(np.int64),
            "g": grid_codes.to_numpy(np.int64),
            "o": cases["days_overdue"].fillna(0).astype(np.int64).to_numpy(),
        }
        self.case_ids = cases.index.astype(str).to_numpy()
        rivers = self.atlas.rivers["name"].astype(str)
        river_name = cases["river_id"].map(rivers).fillna("")
        distance = cases["river_distance_m"].round(0)
        self.details = [list(row) for row in zip(
            _fmt_time(reported, "%Y-%m-%d %H:%M"),
            _fmt_time(cases["deadline"], "%Y-%m-%d"),
            _fmt_time(cases["closed_at"], "%Y-%m-%d"),
            text_series(cases["declared_town"]).tolist(), text_series(cases["declared_village"]).tolist(),
            text_series(cases["river_name"]).tolist(), river_name.astype(str).tolist(),
            [None if pd.isna(d) else int(d) for d in distance],
            text_series(cases["description"]).tolist(),
            cases["days_open"].fillna(0).astype(int).tolist(),
            text_series(cases["age_band"]).tolist(), text_series(cases["status_raw"]).tolist(),
            strict=True)]

    def case_slice(self, positions: np.ndarray, with_details: bool = False) -> dict:
        positions = np.asarray(positions, dtype=np.int64)
        out = {key: arr[positions].tolist() for key, arr in self.case_arrays.items()}
        out["ids"] = _encode_ids(self.case_ids[positions].tolist())
        if with_details:
            out["detail"] = [self.details[p] for p in positions.tolist()]
        return out

    # -- rivers ------------------------------------------------------------
    def _river_links(self) -> None:
        """Which rivers cross which unit (and how long), for links both ways."""
        links = self.atlas.extra["river_stretches"][["level", "unit_id", "river_id", "length_m"]]
        links = links.copy()
        links["unit_id"] = links["unit_id"].astype(str)
        links["river_id"] = links["river_id"].astype(str)
        links["length_m"] = links["length_m"].astype(float).round(0)
        self.stretches = links
        self.river_units = {lv: g for lv, g in links.groupby("level")}

    def rivers_in(self, level: str, unit_id: str) -> list:
        if self._rivers_of is None:
            self._rivers_of = {}
            links = self.stretches.sort_values("length_m", ascending=False)
            for lv, u, r, m in zip(links["level"], links["unit_id"], links["river_id"],
                                   links["length_m"], strict=True):
                if r in self.stems["river"]:
                    self._rivers_of.setdefault((lv, u), []).append([self.stems["river"][r], int(m)])
        return self._rivers_of.get((level, unit_id), [])

    # -- shared ------------------------------------------------------------
    def shared(self) -> dict:
        atlas, style = self.atlas, self.atlas.config.style
        district_id = str(atlas.units["district"].index[0])
        towns = atlas.units["town"]
        index: dict[str, list] = {}
        parent_pos: dict[str, dict[str, int]] = {}
        for level in LEVELS:
            frame = atlas.units[level]
            ids = [str(i) for i in frame.index]
            parent_pos[level] = {i: k for k, i in enumerate(ids)}
            above = parent_pos.get(LEVELS[LEVELS.index(level) - 1]) if level != "district" else None
            index[level] = [
                [self.stems[level][i], str(n),
                 -1 if above is None else above.get(str(p), -1)]
                for i, n, p in zip(ids, frame["name"].astype(str), frame["parent_id"], strict=True)]
        rivers = atlas.rivers
        river_list = [[self.stems["river"][str(i)], str(n), str(k), self.geoms["river"][str(i)]]
                      for i, n, k in zip(rivers.index, rivers["name"], rivers["kind"], strict=True)]
        context = []
        if atlas.context is not None and len(atlas.context):
            ctx = atlas.context
            pts = _latlon_points(ctx.geometry.representative_point(), self.gcj)
            legend = ctx["legend"] if "legend" in ctx else ctx["kind"]
            label = ctx["label"] if "label" in ctx else pd.Series("", index=ctx.index)
            context = [[p, str(n), str(k), str(lg), "" if pd.isna(lb) else str(lb)]
                       for p, n, k, lg, lb in zip(pts, ctx["name"], ctx["kind"], legend, label,
                                                  strict=True)]
        return {
            "project": atlas.config.project.name,
            "note": atlas.config.project.note,
            "source": atlas.config.project.data_source,
            "sample": bool(atlas.config.project.sample),
            "asOf": atlas.as_of.isoformat(),
            "period": [d.isoformat() for d in atlas.period] if atlas.period else None,
            "states": list(STATES),
            "colors": dict(style.status_colors),
            "labels": dict(style.status_labels),
            "levels": dict(style.level_labels),
            "statKeys": list(STAT_KEYS),
            "scale": COORD_SCALE,
            "origin": list(self.origin),
            "epoch": self.epoch.strftime("%Y-%m-%d"),
            "types": self.types,
            "channels": self.channels,
            "rankingRule": str(atlas.extra.get("ranking_rule", "")),
            "countRule": count_rule(dict(style.status_labels)),
            "closure": _closure(atlas),
            "closureNone": NO_CASES_COLOR,
            "district": {"stem": self.stems["district"][district_id],
                         "name": str(atlas.units["district"]["name"].iloc[0]),
                         "g": self.geoms["district"][district_id]},
            "towns": {"g": [self.geoms["town"][str(i)] for i in towns.index],
                      "label": [self.labels["town"][str(i)] for i in towns.index]},
            "index": index,
            "rivers": river_list,
            "context": context,
            "basemap": self._basemap(),
            "water": water_shared(atlas, lambda g: _latlon_points(g, self.gcj)),
        }

    def _basemap(self) -> dict | None:
        """The tile layer for the atlas scripts, or None (then the atlas makes no network request)."""
        basemap = self.atlas.config.basemap
        if basemap is None:
            return None
        return {"url": basemap.url, "attribution": basemap.attribution,
                "maxZoom": basemap.max_zoom, "subdomains": basemap.subdomains,
                "coordinates": basemap.coordinates}


# ---------------------------------------------------------------------------
# Pages


def _closure(atlas: Atlas) -> dict:
    """Each level's closure-rate classes (stats stage) as the page paints them."""
    out = {}
    for level, classes in atlas.extra.get("closure_classes", {}).items():
        n = int(classes.get("classes", 0))
        out[level] = {"colors": [closure_color(k, n) for k in range(n)],
                      "items": [list(item) for item in closure_legend(classes)],
                      "rule": str(classes.get("rule", ""))}
    return out


def _js_call(function: str, key: list | None, payload: dict) -> str:
    args = ([json.dumps(k, ensure_ascii=False) for k in key] if key else [])
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return f"{function}({', '.join([*args, body])});\n"


def _unit_name(atlas: Atlas, level: str, unit_id: str) -> str:
    frame = atlas.rivers if level == "river" else atlas.units[level]
    return str(frame.at[unit_id, "name"])


def _chain(atlas: Atlas, level: str, unit_id: str) -> list[tuple[str, str]]:
    """[(level, unit_id), …] from the district down to this unit."""
    if level == "river":
        district = str(atlas.units["district"].index[0])
        return [("district", district), ("river", unit_id)]
    chain = [(level, unit_id)]
    while chain[0][0] != "district":
        lv, uid = chain[0]
        parent = atlas.units[lv].at[uid, "parent_id"]
        above = LEVELS[LEVELS.index(lv) - 1]
        if parent is None or pd.isna(parent) or str(parent) not in atlas.units[above].index:
            break
        chain.insert(0, (above, str(parent)))
    return chain


def _href(web: _WebAtlas, level: str, unit_id: str) -> str:
    if level == "district":
        return "index.html"
    return f"{level}/{web.stems[level][unit_id]}.html"


def _page_data(web: _WebAtlas, level: str, unit_id: str) -> dict:
    atlas = web.atlas
    frame = atlas.rivers if level == "river" else atlas.units[level]
    row = frame.loc[unit_id]
    positions = web.cases_of[level].get(unit_id, np.array([], dtype=np.int64))
    data: dict[str, object] = {
        "level": level, "id": unit_id, "stem": web.stems[level][unit_id],
        "name": str(row["name"]),
        "chief": as_text(row.get("chief")),
        "stats": web.stats[level][unit_id],
        "bounds": web.bounds[level][unit_id],
        "g": web.geoms[level][unit_id] if level not in ("district", "river") else None,
        "cases": web.case_slice(positions, with_details=level == "grid"),
        "rivers": web.rivers_in(level, unit_id) if level != "river" else [],
        "children": [], "crosses": [],
        "uncountedNote": uncounted_note(int(row.get("uncounted", 0))),
        "town": next((web.stems["town"][u] for lv, u in _chain(atlas, level, unit_id)
                      if lv == "town"), None),
    }
    if level in LEVELS[:-1]:
        below = LEVELS[LEVELS.index(level) + 1]
        frame_below = atlas.units[below]
        rows = web.children_of[below].get(unit_id, np.array([], dtype=np.int64))
        children = []
        for pos in rows.tolist():
            cid = str(frame_below.index[pos])
            children.append({
                "stem": web.stems[below][cid], "name": str(frame_below["name"].iat[pos]),
                "chief": as_text(frame_below["chief"].iat[pos]) if "chief" in frame_below else "",
                "stats": web.stats[below][cid],
                "g": None if below == "town" else web.geoms[below][cid],
                "i": pos, "label": web.labels[below][cid]})
        data["children"] = children
        data["childLevel"] = below
    if level == "river":
        data["bounds"] = _extend_bounds(data["bounds"], data["cases"], web.origin)
        data["kind"] = str(row["kind"])
        data["corridor"] = _corridor(atlas, unit_id, web.gcj)
        links = web.stretches[web.stretches["river_id"] == unit_id]
        data["crosses"] = [
            [lv, web.stems[lv][u], _unit_name(atlas, lv, u), int(m)]
            for lv, u, m in zip(links["level"], links["unit_id"], links["length_m"], strict=True)
            if lv in ("town", "village") and u in web.stems[lv]]
    return data


def _extend_bounds(bounds: list, cases: dict, origin: tuple[int, int]) -> list:
    """Bounds grown to hold the page's case points too (a river's cases lie beside it)."""
    if not cases["x"]:
        return bounds
    x0, y0, scale = origin[0], origin[1], COORD_SCALE
    (south, west), (north, east) = bounds
    return [[min(south, (min(cases["y"]) + y0) / scale), min(west, (min(cases["x"]) + x0) / scale)],
            [max(north, (max(cases["y"]) + y0) / scale), max(east, (max(cases["x"]) + x0) / scale)]]


def _corridor(atlas: Atlas, river_id: str, gcj: bool = False) -> list:
    """The river's corridor: the band within which cases are assigned to it."""
    distance = atlas.config.join.river_distance_m
    line = atlas.rivers.geometry.loc[[river_id]].simplify(CORRIDOR_SIMPLIFY_M)
    band = line.buffer(distance, quad_segs=3).simplify(CORRIDOR_SIMPLIFY_M,
                                                       preserve_topology=True)
    return _latlngs(_to_wgs84(band, gcj)[0])


# Leaflet, then the atlas scripts in order, then the data files that call into them
_SCRIPT_TAGS = "".join(f'<script src="{{root}}assets/{name}"></script>\n'
                       for name in ("leaflet.js", *ATLAS_SCRIPTS))
_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{root}assets/leaflet.css">
<link rel="stylesheet" href="{root}assets/atlas.css">
</head>
<body data-root="{root}" data-level="{level}" data-stem="{stem}">
<header class="bm-header">
  <div class="bm-titles">
    <nav class="bm-crumbs" aria-label="breadcrumb">{crumbs}</nav>
    <h1>{heading}</h1>
  </div>
  <div class="bm-meta"><span class="bm-asof">数据截至 {as_of}</span>{chief}</div>
  {sample}
</header>
<main class="bm-main">
  <div id="map" class="bm-map" role="application" aria-label="{title}"></div>
  <aside id="panel" class="bm-panel"></aside>
</main>
<footer class="bm-footer">{note}</footer>
""" + _SCRIPT_TAGS + """<script src="{root}data/shared.js"></script>
<script src="{root}data/{level}/{stem}.js"></script>
</body>
</html>
"""

_SAMPLE = '<div class="bm-sample" title="示例数据，非真实案件">示例数据 sample data</div>'


def _page_html(web: _WebAtlas, level: str, unit_id: str) -> str:
    atlas, esc = web.atlas, html.escape
    root = "" if level == "district" else "../"
    levels = atlas.config.style.level_labels
    chain = _chain(atlas, level, unit_id)
    crumbs = []
    for lv, uid in chain:
        label = levels.get("tributary" if lv == "river" else lv, lv)
        name = esc(f"{label} {_unit_name(atlas, lv, uid)}") if lv != "district" \
            else esc(_unit_name(atlas, lv, uid))
        if (lv, uid) == (level, unit_id):
            crumbs.append(f'<span class="bm-crumb bm-here" aria-current="page">{name}</span>')
        else:
            crumbs.append(f'<a class="bm-crumb" href="{root}{_href(web, lv, uid)}">{name}</a>')
    name = _unit_name(atlas, level, unit_id)
    label = levels.get("tributary" if level == "river" else level, level)
    project = atlas.config.project.name
    heading = f"{name} 河长制 挂图作战图" if level == "district" else f"{name}（{label}）挂图作战图"
    frame = atlas.rivers if level == "river" else atlas.units[level]
    chief = as_text(frame.at[unit_id, "chief"]) if "chief" in frame else ""
    chief_html = f'<span class="bm-chief">河长：{esc(chief)}</span>' if chief else ""
    note = " · ".join(x for x in (atlas.config.project.note, atlas.config.project.data_source) if x)
    return _PAGE.format(
        title=esc(f"{heading} · {project}" if level != "district" else heading),
        root=root, level=level, stem=web.stems[level][unit_id],
        crumbs='<span class="bm-sep">›</span>'.join(crumbs), heading=esc(heading),
        as_of=atlas.as_of.isoformat(), chief=chief_html,
        sample=_SAMPLE if atlas.config.project.sample else "", note=esc(note))


def _write_page(web: _WebAtlas, out_dir: Path, level: str, unit_id: str) -> list[Path]:
    stem = web.stems[level][unit_id]
    page = inside(out_dir, out_dir / page_file(level, unit_id))
    data = inside(out_dir, out_dir / page_data_file(level, unit_id))
    payload = _js_call("battlemapData", [level, stem], _page_data(web, level, unit_id))
    return [write_text(data, payload), write_text(page, _page_html(web, level, unit_id))]


# ---------------------------------------------------------------------------
# Assets


def _write_assets(out_dir: Path) -> list[Path]:
    """Leaflet from the js_lib_leaflet package, and our own scripts and atlas.css."""
    assets = out_dir / "assets"
    written = []
    try:
        leaflet = importlib.resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    except ModuleNotFoundError as exc:
        raise RenderError("Leaflet is missing: install django-js-lib-leaflet") from exc
    for name in _LEAFLET_FILES:
        written.append(_copy(leaflet / name, assets / name))
    images = leaflet / "images"
    for item in sorted(images.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".png"):
            written.append(_copy(item, assets / "images" / item.name))
    ours = importlib.resources.files("battlemap.render") / _STATIC
    for name in (*ATLAS_SCRIPTS, "atlas.css"):
        written.append(_copy(ours / name, assets / name))
    return written


def _copy(source: importlib.resources.abc.Traversable, target: Path) -> Path:
    data = source.read_bytes()
    if target.exists() and target.read_bytes() == data:
        return target
    return write_bytes(target, data)

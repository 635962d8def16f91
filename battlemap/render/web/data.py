"""The atlas turned into JSON-ready pieces once for all pages (:class:`_WebAtlas`)."""


from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from battlemap import LEVELS, STATES
from battlemap._model import Atlas
from battlemap._text import text_series
from battlemap.coords import wgs84_to_gcj02
from battlemap.join import counted
from battlemap.render.closure import NO_CASES_COLOR, closure_color, closure_legend
from battlemap.render.water import water_shared
from battlemap.render.web.encode import (
    COORD_SCALE,
    FLAG_INVALID,
    FLAG_MISMATCH,
    FLAG_OVERDUE,
    FLAG_RECURRING,
    SIMPLIFY_M,
    STAT_KEYS,
    _coverage_geometries,
    _encode_ids,
    _fmt_time,
    _js_call,
    _latlon_points,
    _pack_ints,
    _stat_rows,
    _unit_bounds,
    _web_geometries,
    overview_tolerance,
    page_name,
)
from battlemap.stats import count_rule

_LAST: list[_WebAtlas] = []
"""The web pieces of the last atlas this process rendered (one entry, holding its atlas)."""


def web_atlas(atlas: Atlas) -> _WebAtlas:
    """The atlas as JSON-ready pieces, built once per process and Atlas object.

    The build renders the web in many batches, each a call of
    :func:`battlemap.render.web.render_web` with the same Atlas object (inherited by
    fork in pool workers, scattered once to Dask workers), so the pieces are kept
    for the next call. The entry holds its atlas, so the object's ``id`` cannot be
    reused while it is kept, and a different Atlas object always gets new pieces.
    The atlas is treated as read-only once rendering starts, as by every renderer.
    """
    if _LAST and _LAST[0].atlas is atlas:
        return _LAST[0]
    _LAST.clear()  # the old atlas may go before the new pieces are built
    web = _WebAtlas.build(atlas)
    _LAST.append(web)
    return web


@dataclass
class _WebAtlas:
    """The atlas turned into JSON-ready pieces, computed once for all pages."""

    atlas: Atlas
    stems: dict[str, dict[str, str]]          # level -> unit_id -> file stem
    names: dict[str, dict[str, str]]          # level -> unit_id -> name
    chiefs: dict[str, dict[str, str]]         # level -> unit_id -> river chief (河长), or ""
    parents: dict[str, dict[str, str]]        # level -> unit_id -> parent id (when it exists)
    stats: dict[str, dict[str, list]]         # level -> unit_id -> stat list
    geoms: dict[str, dict[str, list]]         # level -> unit_id -> latlngs
    labels: dict[str, dict[str, list]]        # level -> unit_id -> [lat, lon]
    bounds: dict[str, dict[str, list]]        # level -> unit_id -> [[s, w], [n, e]]
    children_of: dict[str, dict[str, np.ndarray]]
    gcj: bool = False                         # coordinates shifted to GCJ-02 for the basemap
    cases_of: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    case_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    case_ids: np.ndarray = field(default_factory=lambda: np.array([]))
    details: list[list] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    filter_counts: dict[str, dict[tuple[str, str], list[int]]] = field(default_factory=dict)
    epoch: pd.Timestamp | None = None
    origin: tuple[int, int] = (0, 0)
    grid_index: dict[str, int] = field(default_factory=dict)
    stretches: pd.DataFrame = field(default_factory=pd.DataFrame)
    river_units: dict[str, pd.DataFrame] = field(default_factory=dict)  # level -> rows
    overview: dict = field(default_factory=dict)  # the district page's lighter geometry
    _rivers_of: dict[tuple[str, str], list] | None = None
    _shared_js: str | None = None

    @classmethod
    def build(cls, atlas: Atlas) -> _WebAtlas:
        levels = {**atlas.units, "river": atlas.rivers}
        basemap = atlas.config.basemap
        gcj = basemap is not None and basemap.coordinates == "GCJ-02"
        stems = {lv: {str(i): page_name(i) for i in f.index} for lv, f in levels.items()}
        names = {lv: dict(zip(stems[lv], [str(n) for n in f["name"].to_numpy(dtype=object)],
                              strict=True)) for lv, f in levels.items()}
        chiefs = {lv: dict(zip(stems[lv], (text_series(f["chief"]).tolist() if "chief" in f
                                           else [""] * len(f)), strict=True))
                  for lv, f in levels.items()}
        stats = {lv: dict(zip(stems[lv], _stat_rows(f), strict=True)) for lv, f in levels.items()}
        geoms, labels, bounds = {}, {}, {}
        for level, frame in levels.items():
            ids = list(stems[level])
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
        web = cls(atlas, stems, names, chiefs, _parents(atlas), stats, geoms, labels, bounds,
                  children_of, gcj)
        web.overview = _overview(atlas, gcj)
        web._encode_cases()
        web._river_links()
        return web

    def chain(self, level: str, unit_id: str) -> list[tuple[str, str]]:
        """[(level, unit_id), …] from the district down to this unit."""
        if level == "river":
            return [("district", next(iter(self.stems["district"]))), ("river", unit_id)]
        chain = [(level, unit_id)]
        while chain[0][0] != "district" and chain[0][1] in self.parents[chain[0][0]]:
            lv, uid = chain[0]
            chain.insert(0, (LEVELS[LEVELS.index(lv) - 1], self.parents[lv][uid]))
        return chain

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
        types, channels = text_series(cases["problem_type"]), text_series(cases["channel"])
        self.types = types.value_counts().index.tolist()
        self.channels = channels.value_counts().index.tolist()
        self.filter_counts = {"t": _per_unit(self.atlas.by_type, "problem_type", "count", self.types),
                              "c": _per_unit(self.atlas.by_channel, "channel", "counted",
                                             self.channels)}
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
            "t": pd.Categorical(types, categories=self.types).codes.astype(np.int64),
            "c": pd.Categorical(channels, categories=self.channels).codes.astype(np.int64),
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
        out = {key: _pack_ints(arr[positions]) for key, arr in self.case_arrays.items()}
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
    def shared_js(self) -> str:
        """``data/shared.js``: :meth:`shared` as the script every page loads (made once)."""
        if self._shared_js is None:
            self._shared_js = _js_call("battlemapShared", None, self.shared())
        return self._shared_js

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


def _per_unit(long: pd.DataFrame | None, column: str, count: str,
              values: list[str]) -> dict[tuple[str, str], list[int]]:
    """(level, unit id) -> the stats stage's count of each of ``values`` (0 where none).

    The filter menus show these counts; the stats stage counted them (:func:`stats.by_category`).
    """
    if long is None or not len(long):
        return {}
    index = {value: k for k, value in enumerate(values)}
    out: dict[tuple[str, str], list[int]] = {}
    for level, unit, value, n in zip(long["level"], long["unit_id"].astype(str), long[column],
                                     long[count].astype(int), strict=True):
        if value in index and n:
            out.setdefault((level, unit), [0] * len(values))[index[value]] = int(n)
    return out


def _overview(atlas: Atlas, gcj: bool) -> dict:
    """The district page's geometry, simplified for its view (:func:`overview_tolerance`).

    ``towns``: town id -> latlngs, simplified as one coverage; ``outline``: the district's;
    ``rivers``: latlngs in the order of ``atlas.rivers`` (as ``shared.js`` lists them).
    """
    district, towns = atlas.units["district"], atlas.units["town"]
    tolerance = overview_tolerance(district.geometry)
    return {"towns": dict(zip([str(i) for i in towns.index],
                              _coverage_geometries(towns, tolerance, gcj), strict=True)),
            "outline": _web_geometries(district, tolerance, gcj)[0],
            "rivers": _web_geometries(atlas.rivers, tolerance, gcj)}


def _parents(atlas: Atlas) -> dict[str, dict[str, str]]:
    """Each unit's parent id, for the units whose parent exists in the level above."""
    out: dict[str, dict[str, str]] = {"district": {}}
    for above, level in itertools.pairwise(LEVELS):
        frame, known = atlas.units[level], set(atlas.units[above].index)
        out[level] = {str(u): str(p) for u, p in
                      zip(frame.index, frame["parent_id"].to_numpy(dtype=object), strict=True)
                      if p is not None and not pd.isna(p) and str(p) in known}
    return out


def _closure(atlas: Atlas) -> dict:
    """Each level's closure-rate classes (stats stage) as the page paints them."""
    out = {}
    for level, classes in atlas.extra.get("closure_classes", {}).items():
        n = int(classes.get("classes", 0))
        out[level] = {"colors": [closure_color(k, n) for k in range(n)],
                      "items": [list(item) for item in closure_legend(classes)],
                      "rule": str(classes.get("rule", ""))}
    return out

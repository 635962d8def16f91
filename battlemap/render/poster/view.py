"""What a poster shows: one unit's view (:class:`View`) and what all posters share (:class:`Context`).

The views only select and look up rows of the atlas; every figure on a
poster was computed by the stats stage (the towns along a river come from
``atlas.extra["river_towns"]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from battlemap import LEVELS
from battlemap._model import Atlas
from battlemap._text import as_text
from battlemap.errors import RenderError
from battlemap.join import counted
from battlemap.render.fonts import FontSpec, font_for
from battlemap.render.poster.style import context_kinds

POSTER_LEVELS = (*LEVELS, "river")
"""The levels that have posters: the four boundary levels and the tributaries (流域)."""

_TOWN_COLUMNS = ["name", "parent_id", "chief", "level", "geometry"]

POSTER_CASE_COLUMNS = ["reported_at", "problem_type", "deadline", "state", "village_id",
                       "overdue", "days_overdue", "recurring", "geometry"]
"""The case columns posters and meeting atlases read (:attr:`View.cases`); a view takes
its rows from these alone, as taking them from all of ``atlas.cases`` costs ms per poster."""


class CaseColumns:
    """The poster case columns as NumPy arrays, each converted once for every view.

    ``frame[name].iloc[rows].to_numpy(dtype)`` costs a few tenths of a
    millisecond per column and poster; ``get(name, dtype)[rows]`` a few
    microseconds, element for element the same values.
    """

    def __init__(self, frame: gpd.GeoDataFrame) -> None:
        self._frame = frame
        self._arrays: dict[tuple[str, object], np.ndarray] = {}

    def get(self, name: str, dtype=None):
        """Column ``name`` of every case (``"index"``: the case ids; ``"geometry"``: the points)."""
        found = self._arrays.get((name, dtype))
        if found is None:
            found = (self._frame.index.to_numpy(dtype=dtype) if name == "index"
                     else self._frame.geometry.values if name == "geometry"
                     else self._frame[name].to_numpy(dtype=dtype))
            self._arrays[name, dtype] = found
        return found


@dataclass
class View:
    """One unit as a poster sees it: itself, its children, its cases."""

    level: str
    unit_id: str
    name: str
    chief: str
    geometry: object
    stats: pd.Series
    children: gpd.GeoDataFrame        # with statistics columns (may be empty)
    child_level: str | None
    case_source: gpd.GeoDataFrame     # every case of the atlas (its poster columns)
    case_rows: np.ndarray             # positions in it of this unit's counted cases
    case_columns: CaseColumns         # the columns of case_source as arrays, for every view
    crumbs: list[str] = field(default_factory=list)

    @cached_property
    def cases(self) -> gpd.GeoDataFrame:
        """The unit's counted cases; taken when first asked for (an atlas lists many views)."""
        return self.case_source.iloc[self.case_rows]

    @property
    def case_count(self) -> int:
        """How many counted cases the unit has (``len(cases)``)."""
        return len(self.case_rows)

    def case_column(self, name: str, dtype=None):
        """``cases[name].to_numpy(dtype)`` without taking the rows as a frame (see :class:`CaseColumns`)."""
        return self.case_columns.get(name, dtype)[self.case_rows]

    @cached_property
    def bounds(self) -> tuple[float, float, float, float]:
        """The map's content: the unit, and for a river also every case assigned to it."""
        geoms = [self.geometry]
        if self.level == "river" and self.case_count:
            geoms.append(shapely.envelope(shapely.union_all(self.case_column("geometry"))))
        return tuple(shapely.bounds(shapely.union_all(geoms)))


class Context:
    """What every poster of one atlas shares: font, style, indexes, reference layers."""

    def __init__(self, atlas: Atlas) -> None:
        self.atlas = atlas
        self.config = atlas.config
        self.style = atlas.config.style
        self.font: FontSpec = font_for(atlas.config)
        crs = atlas.cases.crs or atlas.units["district"].crs
        if crs is None or not crs.is_projected or crs.axis_info[0].unit_name not in (
                "metre", "meter"):
            raise RenderError(f"posters need a projected CRS in metres, got {crs}; "
                              "set project.analysis_crs, e.g. EPSG:4526")
        self.crs = crs
        self._case_index: dict[str, dict[str, np.ndarray]] = {}
        self._child_index: dict[str, dict[str, np.ndarray]] = {}
        self._peers: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._empty: dict[str, gpd.GeoDataFrame] = {}
        self._crumb_cache: dict[tuple[str, object], list[str]] = {}
        self.district = atlas.units["district"]
        self.label = self.style.status_labels
        self.color = self.style.status_colors

    # indexes ------------------------------------------------------------------------
    def case_positions(self, key: str, value: str) -> np.ndarray:
        """Positions in ``atlas.cases`` of the counted cases whose ``key`` column is ``value``.

        Invalid tips and cases whose status is void (不计整改) are in no
        figure and not drawn; the legend says how many are left out.
        """
        if key not in self._case_index:
            cases = self.atlas.cases
            keep = counted(cases).to_numpy()
            self._case_index[key] = {
                k: v[keep[v]] for k, v in cases.groupby(key, sort=False).indices.items()}
        return self._case_index[key].get(value, np.empty(0, dtype=int))

    def child_positions(self, level: str, parent: str) -> np.ndarray:
        """Positions in ``atlas.units[level]`` of the units whose parent is ``parent``."""
        if level not in self._child_index:
            self._child_index[level] = self.atlas.units[level].groupby(
                "parent_id", sort=False).indices
        return self._child_index[level].get(parent, np.empty(0, dtype=int))

    @cached_property
    def neighbours(self) -> gpd.GeoDataFrame | None:
        """The configured neighbouring districts (``[neighbours]``), without the district itself.

        None when the config has no such layer, so that posters leave them out.
        """
        frame = self.atlas.neighbours
        if frame is None:
            return None
        frame = frame[frame["neighbour_id"] != str(self.district.index[0])]
        return frame[["name", "geometry"]]

    @cached_property
    def case_columns(self) -> CaseColumns:
        """:attr:`poster_cases` as arrays, shared by every view."""
        return CaseColumns(self.poster_cases)

    @cached_property
    def poster_cases(self) -> gpd.GeoDataFrame:
        """``atlas.cases`` with only :data:`POSTER_CASE_COLUMNS`, taken once for every view."""
        cases = self.atlas.cases
        return cases[[c for c in POSTER_CASE_COLUMNS if c in cases.columns]].copy()

    @cached_property
    def rivers(self) -> tuple[gpd.GeoSeries, np.ndarray, np.ndarray, np.ndarray]:
        """The rivers' geometries (indexed), ids, kinds and names (as text), for every poster."""
        rivers = self.atlas.rivers
        return (rivers.geometry, rivers.index.to_numpy(), rivers["kind"].to_numpy(),
                rivers["name"].astype(str).to_numpy())

    @cached_property
    def context_kinds(self) -> list[str]:
        """The context layer's legend labels in first-seen order (:func:`.style.context_kinds`)."""
        return context_kinds(self.atlas.context)

    @cached_property
    def context_points(self) -> tuple[np.ndarray, np.ndarray]:
        """The context points' coordinates (n × 2) and legend labels, for every poster."""
        context = self.atlas.context
        if context is None or not len(context):
            return np.empty((0, 2)), np.empty(0, dtype=object)
        return (shapely.get_coordinates(context.geometry.values),
                context["legend"].astype(str).to_numpy())

    def peers(self, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The geometries, ids and names (as text) of every unit of ``level``, as arrays."""
        peers = self._peers.get(level)
        if peers is None:
            frame = self.atlas.units[level]
            peers = self._peers[level] = (frame.geometry.values, frame.index.to_numpy(),
                                          frame["name"].astype(str).to_numpy())
        return peers

    @cached_property
    def _river_towns(self) -> dict[str, pd.DataFrame]:
        table = self.atlas.extra.get("river_towns")
        if table is None:
            raise RenderError("the atlas has no statistics of the towns along each river "
                              "(extra['river_towns']); build it with battlemap.build.prepare")
        return {str(river): rows.set_index("town_id").drop(columns="river_id").sort_index()
                for river, rows in table.groupby("river_id", sort=False)}

    # views --------------------------------------------------------------------------
    def view(self, level: str, unit_id: str) -> View:
        """The view of one unit of ``level`` (one of :data:`POSTER_LEVELS`)."""
        if level == "river":
            return self._river_view(unit_id)
        if level not in LEVELS:
            raise RenderError(f"unknown level {level!r}; use one of {list(POSTER_LEVELS)}")
        frame = self.atlas.units[level]
        if unit_id not in frame.index:
            raise RenderError(f"no {level} with id {unit_id!r}")
        row = frame.loc[unit_id]
        index = LEVELS.index(level)
        child_level = LEVELS[index + 1] if index + 1 < len(LEVELS) else None
        children = (self.atlas.units[child_level].iloc[self.child_positions(child_level, unit_id)]
                    if child_level else self._no_children(level))
        cases = self.case_positions(f"{level}_id", unit_id)
        return View(level, unit_id, str(row["name"]), as_text(row.get("chief")), row.geometry,
                    row, children, child_level, self.poster_cases, cases,
                    self.case_columns, self._crumbs(level, row))

    def _river_view(self, river_id: str) -> View:
        rivers = self.atlas.rivers
        if river_id not in rivers.index:
            raise RenderError(f"no river with id {river_id!r}")
        row = rivers.loc[river_id]
        cases = self.case_positions("river_id", river_id)
        towns = self.atlas.units["town"]
        along = self._river_towns.get(river_id)
        if along is None:
            children = towns.iloc[0:0][_TOWN_COLUMNS]
        else:
            children = towns.loc[along.index, _TOWN_COLUMNS].join(along)
        crumbs = [str(self.district.iloc[0]["name"]), self.style.level_labels.get("tributary", "流域")]
        return View("river", river_id, str(row["name"]), as_text(row.get("chief")), row.geometry,
                    row, children, "town", self.poster_cases, cases, self.case_columns,
                    crumbs)

    def _no_children(self, level: str) -> gpd.GeoDataFrame:
        """No rows of ``atlas.units[level]``, made once (0.2 ms each time) for every view."""
        empty = self._empty.get(level)
        if empty is None:
            empty = self._empty[level] = self.atlas.units[level].iloc[0:0]
        return empty

    def _crumbs(self, level: str, row: pd.Series) -> list[str]:
        """The names of the unit's parents, top first; made once per parent (and level)."""
        key = (level, row.get("parent_id"))
        try:
            found = self._crumb_cache.get(key)
        except TypeError:                  # an unhashable parent id: not kept
            return self._parents(level, row)
        if found is None:
            found = self._crumb_cache[key] = self._parents(level, row)
        return list(found)

    def _parents(self, level: str, row: pd.Series) -> list[str]:
        names, parent, index = [], row.get("parent_id"), LEVELS.index(level)
        while parent is not None and index > 0 and not pd.isna(parent):
            index -= 1
            frame = self.atlas.units[LEVELS[index]]
            if parent not in frame.index:
                break
            names.insert(0, str(frame.loc[parent, "name"]))
            parent = frame.loc[parent, "parent_id"]
        return names

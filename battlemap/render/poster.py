"""Poster: printable PDF battle maps (挂图作战 作战图) per unit, and per-town meeting atlases.

Every poster carries the title, the as-of date and the data's date range,
the map (child units shaded by closure (销号) rate, rivers, cases by state,
context points), a legend with counts, scale bar, north arrow, locator
inset, statistics, the ranking of child units with their river chiefs
(河长), the data source, the configured note and, for the shipped sample,
a "示例数据 sample data" band and watermark.

Speed: a series of posters of one paper size and orientation reuses one
:class:`matplotlib.figure.Figure`; only the artists that differ from unit
to unit are removed and redrawn (see :class:`_Sheet`).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import LinearSegmentedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.markers import MarkerStyle
from matplotlib.patches import FancyArrow, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.patheffects import withStroke
from matplotlib.transforms import Affine2D

from battlemap import LEVELS, STATES, __version__
from battlemap._io import atomic_path
from battlemap._model import Atlas
from battlemap._paths import atlas_file, inside, poster_file
from battlemap.errors import RenderError
from battlemap.render.fonts import (
    FontSpec,
    check_text,
    clip_to_width,
    em_width,
    font_for,
    rc_params,
    wrap_to_width,
)
from battlemap.render.pdf import ShapeBatch, TextBatch, concatenate, make_layer, save_pdf

__all__ = ["PAPER_MM", "POSTER_LEVELS", "render_meeting_atlas",
           "render_meeting_atlases", "render_poster", "render_posters"]

PAPER_MM: dict[str, tuple[float, float]] = {
    "A0": (841, 1189), "A1": (594, 841), "A2": (420, 594), "A3": (297, 420), "A4": (210, 297)}
"""ISO 216 paper sizes, (short, long) side in millimetres."""

POSTER_LEVELS = (*LEVELS, "river")
ATLAS_PAPER = "A4"
CASE_ROWS = 16
"""Rows of a grid poster's case table; more cases show the first and last with a count between."""
"""Paper of every page of the per-town meeting atlas (会议图册)."""

NEIGHBOURS_FILE = Path("data/reference/zengcheng_and_neighbours_wgs84.geojson")
ZENGCHENG = "440118"

# Colours that are not data-driven (the case colours come from config.style).
INK, GREY, LIGHT = "#222222", "#777777", "#d9d9d9"
RIVER_MAIN, RIVER_TRIB, RIVER_TEXT = "#1f6fc0", "#3f8fd8", "#16508c"
SAMPLE_RED = "#c62828"
RAMP = LinearSegmentedColormap.from_list(
    "closure", ["#fbf3dc", "#e6efc9", "#c6e2b4", "#9dcf98"])
NO_CASES = "#ffffff"
CONTEXT_MARKERS = ("^", "s", "D", "p", "h", "*", "v", "P")
CONTEXT_COLORS = ("#00606b", "#5b3a8e", "#8a5a00", "#2b2b2b", "#b03060", "#3d6b00")
PT_PER_MM = 72 / 25.4
_THETA = np.linspace(0, 2 * np.pi, 33)
RING = MplPath(
    np.concatenate([np.c_[np.cos(_THETA), np.sin(_THETA)],
                    np.c_[np.cos(_THETA[::-1]), np.sin(_THETA[::-1])] * 0.78]),
    np.r_[[MplPath.MOVETO], [MplPath.LINETO] * 31, [MplPath.CLOSEPOLY],
          [MplPath.MOVETO], [MplPath.LINETO] * 31, [MplPath.CLOSEPOLY]])
"""The recurring (反复) mark: a filled annulus, so it draws as one PDF marker."""


# --------------------------------------------------------------------------- public API


def render_posters(atlas: Atlas, out_dir: Path,
                   units: Iterable[tuple[str, str]] | None = None) -> list[Path]:
    """Write every poster, or those of the given ``(level, unit_id)`` pairs, under ``out_dir/posters/``.

    Levels are district, town, village, grid and river (tributary, 流域). The
    paper sizes come from ``config.posters.papers``. When ``units`` is None
    (everything), the meeting atlas of every town follows, assembled from the
    posters just written (see :func:`render_meeting_atlases`); a caller that
    renders in batches calls that function itself once all batches are done.

    Returns
    -------
    list of Path
        The files written.
    """
    ctx = _Context(atlas)
    wanted = _select(atlas, units)
    jobs = [(level, unit_id, paper) for level, unit_id in wanted
            for paper in atlas.config.posters.papers.get(level, ())]
    # Group by (paper, orientation) so one figure serves a whole series.
    keyed = []
    for level, unit_id, paper in jobs:
        view = ctx.view(level, unit_id)
        keyed.append(((paper, _orientation(view, paper)), level, unit_id, view))
    keyed.sort(key=lambda item: item[0])
    written: list[Path] = []
    sheets: dict[tuple[str, str], _Sheet] = {}
    with matplotlib.rc_context(rc_params(ctx.font)):
        for (paper, orientation), level, unit_id, view in keyed:
            sheet = sheets.get((paper, orientation))
            if sheet is None:
                sheet = sheets[(paper, orientation)] = _Sheet(ctx, paper, orientation)
            path = inside(out_dir, out_dir / poster_file(level, unit_id, paper))
            written.append(sheet.save(view, path))
        if units is None:
            for town_id in atlas.units["town"].index:
                written.append(_write_meeting_atlas(
                    ctx, str(town_id), _atlas_path(out_dir, str(town_id)), out_dir, sheets))
    return written


def render_meeting_atlases(atlas: Atlas, out_dir: Path,
                           town_ids: Iterable[str] | None = None) -> list[Path]:
    """Assemble the meeting atlas (会议图册) of each town from the posters under ``out_dir``.

    Call it after the town, village and grid posters are written: each atlas
    is ``posters/atlas/<town_id>.pdf``, joined from the cover, the town's A3
    poster, each village's A3 poster, each grid's A4 poster (all scaled to
    A4) and the statistics pages. A poster that is missing is rendered for
    the atlas alone. ``town_ids`` None means every town.

    Returns
    -------
    list of Path
        The atlases written.
    """
    ctx = _Context(atlas)
    towns = atlas.units["town"].index
    ids = [str(t) for t in (towns if town_ids is None else town_ids)]
    for town_id in ids:
        if town_id not in towns:
            raise RenderError(f"no town with id {town_id!r}")
    sheets: dict[tuple[str, str], _Sheet] = {}
    with matplotlib.rc_context(rc_params(ctx.font)):
        return [_write_meeting_atlas(ctx, t, _atlas_path(out_dir, t), out_dir, sheets)
                for t in ids]


def _atlas_path(out_dir: Path, town_id: str) -> Path:
    return inside(out_dir, out_dir / atlas_file(town_id))


def render_poster(atlas: Atlas, level: str, unit_id: str, paper: str, path: Path) -> Path:
    """Render one unit's poster on ``paper`` (A0–A4) to ``path``; return the path.

    Raises
    ------
    RenderError
        Unknown level, unit or paper, or a label the font cannot draw.
    """
    if paper not in PAPER_MM:
        raise RenderError(f"unknown paper {paper!r}; use one of {sorted(PAPER_MM)}")
    ctx = _Context(atlas)
    view = ctx.view(level, unit_id)
    with matplotlib.rc_context(rc_params(ctx.font)):
        return _Sheet(ctx, paper, _orientation(view, paper)).save(view, Path(path))


def render_meeting_atlas(atlas: Atlas, town_id: str, path: Path) -> Path:
    """The meeting atlas (会议图册) of one town: cover, the town, each village, each grid, statistics.

    One multi-page A4 PDF, written atomically to ``path``; every page is
    rendered here. :func:`render_meeting_atlases` reuses written posters.
    """
    ctx = _Context(atlas)
    if town_id not in atlas.units["town"].index:
        raise RenderError(f"no town with id {town_id!r}")
    with matplotlib.rc_context(rc_params(ctx.font)):
        return _write_meeting_atlas(ctx, town_id, Path(path), None, {})


# --------------------------------------------------------------------------- what is drawn


@dataclass
class _View:
    """One unit as a poster sees it: itself, its children, its cases."""

    level: str
    unit_id: str
    name: str
    chief: str
    geometry: object
    stats: pd.Series
    children: gpd.GeoDataFrame        # with statistics columns (may be empty)
    child_level: str | None
    cases: gpd.GeoDataFrame
    crumbs: list[str] = field(default_factory=list)

    @cached_property
    def bounds(self) -> tuple[float, float, float, float]:
        geoms = [self.geometry]
        if self.level == "river" and len(self.cases):
            geoms.append(shapely.envelope(shapely.union_all(self.cases.geometry.values)))
        return tuple(shapely.bounds(shapely.union_all(geoms)))


class _Context:
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
        self.coords = shapely.get_coordinates(atlas.cases.geometry.values)
        self._case_index: dict[str, dict[str, np.ndarray]] = {}
        self._child_index: dict[str, dict[str, np.ndarray]] = {}
        self.district = atlas.units["district"]
        self.label = self.style.status_labels
        self.color = self.style.status_colors

    # indexes ------------------------------------------------------------------------
    def case_positions(self, key: str, value: str) -> np.ndarray:
        if key not in self._case_index:
            self._case_index[key] = self.atlas.cases.groupby(key, sort=False).indices
        return self._case_index[key].get(value, np.empty(0, dtype=int))

    def child_positions(self, level: str, parent: str) -> np.ndarray:
        if level not in self._child_index:
            self._child_index[level] = self.atlas.units[level].groupby(
                "parent_id", sort=False).indices
        return self._child_index[level].get(parent, np.empty(0, dtype=int))

    @cached_property
    def neighbours(self) -> gpd.GeoDataFrame | None:
        """Neighbouring districts (东莞, 博罗, 龙门, 从化, 黄埔 …) for 增城区, else None."""
        district_id = str(self.district.index[0])
        if not (self.config.project.sample or district_id == ZENGCHENG):
            return None
        base = self.config.source.parent if self.config.source else Path.cwd()
        path = base / NEIGHBOURS_FILE
        if not path.is_file():
            return None
        frame = gpd.read_file(path)
        if "adcode" not in frame or "name" not in frame:
            return None
        frame = frame[frame["adcode"].astype(str) != ZENGCHENG]
        return frame.to_crs(self.crs)[["name", "geometry"]]

    # views --------------------------------------------------------------------------
    def view(self, level: str, unit_id: str) -> _View:
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
                    if child_level else frame.iloc[0:0])
        cases = self.atlas.cases.iloc[self.case_positions(f"{level}_id", unit_id)]
        return _View(level, unit_id, str(row["name"]), _chief(row), row.geometry, row,
                     children, child_level, cases, self._crumbs(level, row))

    def _river_view(self, river_id: str) -> _View:
        from battlemap.stats import rank_siblings, unit_statistics

        rivers = self.atlas.rivers
        if river_id not in rivers.index:
            raise RenderError(f"no river with id {river_id!r}")
        row = rivers.loc[river_id]
        cases = self.atlas.cases.iloc[self.case_positions("river_id", river_id)]
        towns = self.atlas.units["town"]
        touched = towns.index[towns.intersects(row.geometry)].union(
            pd.Index(cases["town_id"].unique()).intersection(towns.index))
        children = towns.loc[touched, ["name", "parent_id", "chief", "level", "geometry"]]
        period = self.atlas.period or (self.atlas.as_of, self.atlas.as_of)
        children = unit_statistics(children, cases, "town_id", period)
        if len(children):
            children["rank"] = rank_siblings(children, group=None)
        crumbs = [str(self.district.iloc[0]["name"]), self.style.level_labels.get("tributary", "流域")]
        return _View("river", river_id, str(row["name"]), _chief(row), row.geometry, row,
                     children, "town", cases, crumbs)

    def _crumbs(self, level: str, row: pd.Series) -> list[str]:
        names, parent, index = [], row.get("parent_id"), LEVELS.index(level)
        while parent is not None and index > 0 and not pd.isna(parent):
            index -= 1
            frame = self.atlas.units[LEVELS[index]]
            if parent not in frame.index:
                break
            names.insert(0, str(frame.loc[parent, "name"]))
            parent = frame.loc[parent, "parent_id"]
        return names


def _chief(row: pd.Series) -> str:
    value = row.get("chief", "")
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _select(atlas: Atlas, units: Iterable[tuple[str, str]] | None) -> list[tuple[str, str]]:
    if units is None:
        wanted = [(level, str(i)) for level in LEVELS for i in atlas.units[level].index]
        return wanted + [("river", str(i)) for i in atlas.rivers.index]
    wanted = []
    for level, unit_id in units:
        if level not in POSTER_LEVELS:
            raise RenderError(f"unknown level {level!r}; use one of {list(POSTER_LEVELS)}")
        wanted.append((level, str(unit_id)))
    return wanted


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Layout:
    """Boxes in points (x0, y0, width, height) on one paper and orientation."""

    width: float
    height: float
    scale: float                       # text and symbol scale, 1 on A4
    header: tuple[float, float, float, float]
    map: tuple[float, float, float, float]
    locator: tuple[float, float, float, float]
    columns: tuple[tuple[float, float, float, float], ...]   # side panel columns
    footer: tuple[float, float, float, float]


def _layout(paper: str, orientation: str) -> _Layout:
    short, long = (v * PT_PER_MM for v in PAPER_MM[paper])
    w, h = (long, short) if orientation == "landscape" else (short, long)
    s = short / (210 * PT_PER_MM)
    m = 0.03 * short
    head_h = (0.115 if orientation == "landscape" else 0.085) * h
    foot_h = 0.04 * short
    top = h - m - head_h
    header = (m, top, w - 2 * m, head_h)
    footer = (m, m, w - 2 * m, foot_h)
    body_y = m + foot_h + 0.01 * short
    if orientation == "landscape":
        side_w = 0.27 * w
        map_box = (m, body_y, w - 2 * m - side_w - 0.015 * w, top - body_y - 0.01 * short)
        sx = w - m - side_w
        loc_h = min(0.2 * h, side_w * 0.7)
        locator = (sx, top - loc_h - 0.01 * short, side_w, loc_h)
        col_top = locator[1] - 0.015 * short
        columns = ((sx, body_y, side_w, col_top - body_y),)
    else:
        panel_h = 0.33 * h
        map_box = (m, body_y + panel_h + 0.012 * h, w - 2 * m,
                   top - body_y - panel_h - 0.012 * h - 0.01 * short)
        loc_w = 0.24 * w
        locator = (m, body_y + panel_h - loc_w * 0.9, loc_w, loc_w * 0.9)
        x1 = m + loc_w + 0.02 * w
        rest = w - m - x1
        col1_w = 0.42 * rest
        columns = ((x1, body_y, col1_w, panel_h),
                   (x1 + col1_w + 0.025 * w, body_y, rest - col1_w - 0.025 * w, panel_h))
        # the statistics go under the locator when the column is short
        columns = ((m, body_y, loc_w, locator[1] - body_y - 0.01 * short), *columns)
    return _Layout(w, h, s, header, map_box, locator, columns, footer)


def _orientation(view: _View, paper: str) -> str:
    """Landscape or portrait: whichever gives the unit the larger map scale."""
    x0, y0, x1, y1 = view.bounds
    uw, uh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    best, choice = -1.0, "landscape"
    for orientation in ("landscape", "portrait"):
        _, _, aw, ah = _layout(paper, orientation).map
        scale = min(aw / uw, ah / uh)
        if scale > best * 1.02:
            best, choice = scale, orientation
    return choice


# --------------------------------------------------------------------------- the sheet


_BATCHABLE = frozenset({"color", "ha", "va", "multialignment", "linespacing", "zorder"})
"""Keyword arguments of :meth:`_Sheet.text` that a :class:`TextBatch` handles."""


class _Sheet:
    """One reusable poster figure for a paper size and orientation.

    The frame (title band, footer, sample mark, north arrow, locator base)
    is drawn once; :meth:`draw` adds the artists of one unit and records
    them, :meth:`clear` removes them again.
    """

    def __init__(self, ctx: _Context, paper: str, orientation: str) -> None:
        self.ctx, self.paper, self.orientation = ctx, paper, orientation
        self.lay = lay = _layout(paper, orientation)
        self.s = lay.scale
        self.fig = Figure(figsize=(lay.width / 72, lay.height / 72), dpi=72)
        self.fig.patch.set_facecolor("white")
        self.map_ax = self._axes(lay.map, frame=True)
        self.loc_ax = self._axes(lay.locator, frame=True)
        self.page_ax = self._axes((0, 0, lay.width, lay.height), frame=False)
        self.page_ax.set_xlim(0, lay.width)
        self.page_ax.set_ylim(0, lay.height)
        self.page_ax.set_zorder(5)
        self.points = Affine2D().scale(1 / 72) + self.fig.dpi_scale_trans
        """Page points → display, for paths built in points (short numbers in the PDF)."""
        self.dynamic: list[matplotlib.artist.Artist] = []
        self._over: list[matplotlib.artist.Artist] = []   # static, but above the map
        self._static = True
        self._draw_frame()
        self._draw_locator_base()
        self._static = False
        self.layers = self._make_layers()
        self._batches: dict[tuple[int, float], TextBatch] = {}
        self._shapes: dict[tuple[int, float], ShapeBatch] = {}

    def _make_layers(self) -> tuple:
        """The static artists as two PDF layers, under and over each unit's drawing.

        Written once per sheet and stamped on every page as bytes (see
        :class:`~battlemap.render.pdf.Layer`); the artists are then hidden.
        Over the map: north arrow, sample watermark and the frames of the map
        and locator. Without the fast PDF path the artists stay and are drawn.
        """
        axes = (self.map_ax, self.loc_ax, self.page_ax)
        static = [a for ax in axes for a in (*ax.texts, *ax.lines, *ax.patches, *ax.collections)]
        spines = [sp for ax in (self.map_ax, self.loc_ax) for sp in ax.spines.values()]
        backgrounds = [self.fig.patch, self.map_ax.patch, self.loc_ax.patch]
        everything = [*static, *spines, *backgrounds]
        over = {*self._over, *spines}
        under = {a for a in [*static, *backgrounds] if a not in over}

        def show(shown) -> None:
            for artist in everything:
                artist.set_visible(artist in shown)

        show(under)
        lower = make_layer(self.fig, self.ctx.font.path)
        show(over)
        upper = make_layer(self.fig, self.ctx.font.path)
        if lower is None or upper is None:
            show(set(everything))
            return None, None
        show(set())
        return lower, upper

    # low-level helpers -------------------------------------------------------------
    def _axes(self, box: Sequence[float], frame: bool) -> matplotlib.axes.Axes:
        x, y, w, h = box
        ax = self.fig.add_axes((x / self.lay.width, y / self.lay.height,
                                w / self.lay.width, h / self.lay.height))
        ax.set_autoscale_on(False)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.xaxis.set_visible(False)        # no ticks: nothing to draw, but drawing costs
        ax.yaxis.set_visible(False)
        for spine in ax.spines.values():
            spine.set_visible(frame)
            spine.set_linewidth(0.6 * self.lay.scale)
            spine.set_edgecolor(GREY)
        if not frame:
            ax.patch.set_visible(False)
        return ax

    def keep(self, artist):
        if not self._static:
            self.dynamic.append(artist)
        return artist

    def text(self, x: float, y: float, s: str, size: float, ax=None, **kw):
        """Text at (x, y) in page points (or ``ax`` data), glyph-checked.

        Plain text of a unit (no rotation, box, effects or own transform) goes
        into one :class:`TextBatch` per axes and z-order and returns None.
        """
        ax = ax or self.page_ax
        s = check_text(s, self.ctx.font)
        kw.setdefault("color", INK)
        if not self._static and kw.keys() <= _BATCHABLE and ax is not self.loc_ax:
            zorder = kw.pop("zorder", 3)
            key = (id(ax), zorder)
            batch = self._batches.get(key)
            if batch is None:
                batch = self._batches[key] = TextBatch(self.ctx.font.path, ax.transData, zorder)
                ax.add_artist(batch)
                batch.set_clip_on(False)           # as ax.text: labels are placed inside
            batch.add(x, y, s, size, **kw)
            return None
        return self.keep(ax.text(x, y, s, fontsize=size, parse_math=False, **kw))

    def rect(self, x, y, w, h, ax=None, **kw):
        ax = ax or self.page_ax
        kw.setdefault("linewidth", 0)
        return self.keep(ax.add_patch(Rectangle((x, y), w, h, **kw)))

    def clear(self) -> None:
        for artist in self.dynamic:
            artist.remove()
        self.dynamic.clear()
        for batch in (*self._batches.values(), *self._shapes.values()):
            batch.clear()

    def shapes(self, zorder: float = 1, ax=None) -> ShapeBatch:
        """The :class:`ShapeBatch` of ``ax`` (the page) at ``zorder``, paths in its data units."""
        ax = ax or self.page_ax
        key = (id(ax), zorder)
        batch = self._shapes.get(key)
        if batch is None:
            batch = self._shapes[key] = ShapeBatch(ax.transData, zorder)
            ax.add_artist(batch)
            batch.set_clip_on(False)
        return batch

    def markers(self, xs, ys, areas, marker, faces, edges, linewidth, zorder=6) -> None:
        """Scatter-like marks on the page: ``areas`` in pt² as ``Axes.scatter``'s ``s``."""
        batch = self.shapes(zorder)
        style = MarkerStyle(marker)
        unit = style.get_path().transformed(style.get_transform())
        for x, y, area, face, edge in zip(xs, ys, areas, faces, edges, strict=True):
            path = unit.transformed(Affine2D().scale(math.sqrt(area)).translate(x, y))
            batch.add(path, None if _none(face) else to_rgba(face),
                      None if _none(edge) else to_rgba(edge), linewidth)

    # static frame --------------------------------------------------------------------
    def _draw_frame(self) -> None:
        lay, s, project = self.lay, self.s, self.ctx.config.project
        fx, fy, fw, fh = lay.footer
        self.page_ax.plot([fx, fx + fw], [fy + fh, fy + fh], color=LIGHT, lw=0.6 * s)
        source = f"数据来源：{project.data_source}" if project.data_source else "数据来源：河长制信息系统导出"
        crs = self.ctx.crs.to_string()
        self.text(fx, fy + fh * 0.55, clip_to_width(source, 6 * s, fw * 0.62), 5.6 * s, va="center",
                  color=GREY)
        made = (f"{project.note} · 坐标系 {crs} · battlemap {__version__} · "
                f"制图 {self.ctx.atlas.as_of.isoformat()}")
        self.text(fx + fw, fy + fh * 0.55, clip_to_width(made, 5.6 * s, fw * 0.37), 5.6 * s,
                  ha="right", va="center", color=GREY)
        # note (内部资料 / 审图号) boxed at the header's right
        hx, hy, hw, hh = lay.header
        self.text(hx + hw, hy + hh * 0.42, project.note, 7 * s, ha="right", va="center",
                  color=SAMPLE_RED if project.sample else INK,
                  bbox={"boxstyle": "square,pad=0.35", "fc": "white",
                        "ec": SAMPLE_RED if project.sample else INK, "lw": 0.8 * s})
        if project.sample:
            band_h = 0.22 * hh
            self.rect(0, lay.height - band_h * 0.8, lay.width, band_h * 0.8, color=SAMPLE_RED)
            self.text(lay.width / 2, lay.height - band_h * 0.4,
                      "示例数据 SAMPLE DATA · 合成案件，非真实情况，仅供演示", 7.5 * s,
                      ha="center", va="center", color="white")
            self._over.append(self.text(
                0.5, 0.5, "示例数据 sample data", 46 * s, ax=self.map_ax,
                transform=self.map_ax.transAxes, ha="center", va="center",
                rotation=30, color=SAMPLE_RED, alpha=0.10, zorder=30))
        self._north_arrow()

    def _north_arrow(self) -> None:
        ax, s = self.map_ax, self.s
        x0, y0, w, h = self.lay.map
        size = 22 * s
        cx, top = x0 + w - 16 * s, y0 + h - 10 * s
        pa = self.page_ax
        self._over += [pa.add_patch(matplotlib.patches.Polygon(
            [(cx, top), (cx - size * 0.28, top - size), (cx, top - size * 0.72)],
            closed=True, fc=INK, ec=INK, lw=0.5 * s, zorder=20)),
            pa.add_patch(matplotlib.patches.Polygon(
                [(cx, top), (cx + size * 0.28, top - size), (cx, top - size * 0.72)],
                closed=True, fc="white", ec=INK, lw=0.5 * s, zorder=20)),
            self.text(cx, top - size - 2 * s, "北 N", 6.5 * s, ha="center", va="top", zorder=20)]
        del ax

    def _draw_locator_base(self) -> None:
        ctx, ax, s = self.ctx, self.loc_ax, self.s
        district = ctx.district.geometry.values[0]
        x0, y0, x1, y1 = district.bounds
        pad = 0.3 if ctx.neighbours is not None else 0.06
        _fit_limits(ax, self.lay.locator, (x0, y0, x1, y1), pad)
        self.loc_extent = (*ax.get_xlim(), *ax.get_ylim())
        tol = (x1 - x0) / 400
        if ctx.neighbours is not None:
            ex0, ex1, ey0, ey1 = self.loc_extent
            clipped = shapely.clip_by_rect(ctx.neighbours.geometry.values, ex0, ey0, ex1, ey1)
            ax.add_collection(PathCollection(
                _polygon_paths(shapely.simplify(clipped, tol)), facecolors="#efefef",
                edgecolors="#bdbdbd", linewidths=0.5 * s), autolim=False)
            for name, geom in zip(ctx.neighbours["name"], clipped, strict=True):
                if not geom.is_empty and geom.area > 0.01 * (ex1 - ex0) * (ey1 - ey0):
                    p = geom.representative_point()
                    self.text(p.x, p.y, str(name), 5.2 * s, ax=ax, ha="center", va="center",
                              color=GREY)
        towns = ctx.atlas.units["town"].geometry.values
        ax.add_collection(PathCollection(
            _polygon_paths(shapely.simplify(towns, tol)), facecolors="white",
            edgecolors="#bbbbbb", linewidths=0.3 * s), autolim=False)
        ax.add_collection(PathCollection(
            _polygon_paths([shapely.simplify(district, tol)]), facecolors="none",
            edgecolors=INK, linewidths=0.8 * s), autolim=False)
        mains = ctx.atlas.rivers[ctx.atlas.rivers["kind"] == "main"].geometry.values
        ax.add_collection(LineCollection(_line_parts(shapely.simplify(mains, tol)),
                                         colors=RIVER_MAIN, linewidths=0.6 * s), autolim=False)
        self.text(0.03, 0.97, "位置示意", 5.5 * s, ax=ax, transform=ax.transAxes, va="top",
                  color=GREY)

    # one unit ------------------------------------------------------------------------
    def save(self, view: _View, path: Path, pdf=None) -> Path:
        """Draw ``view``, write it (to ``path`` atomically, or to the file object ``pdf``), clear."""
        try:
            self.draw(view)
            meta = {"Title": self.title(view), "Creator": f"battlemap {__version__}",
                    "CreationDate": None}
            if pdf is not None:
                save_pdf(self.fig, pdf, meta, self.ctx.font.path, *self.layers)
            else:
                with atomic_path(path) as tmp:
                    save_pdf(self.fig, tmp, meta, self.ctx.font.path, *self.layers)
        finally:
            self.clear()
        return path

    def title(self, view: _View) -> str:
        return f"{view.name} 河长制挂图作战 作战图"

    def draw(self, view: _View) -> None:
        extent = self._map_extent(view)
        self._draw_header(view)
        mpp = (extent[2] - extent[0]) / self.lay.map[2]        # metres per point
        labels = _Labels()
        self._draw_background(view, extent, mpp, labels)
        self._draw_units(view, extent, mpp, labels)
        self._draw_rivers(view, extent, mpp, labels)
        sizes = self._draw_cases(view, extent, mpp, labels)
        context_counts = self._draw_context(view, extent, mpp, labels)
        self._scale_bar(extent, mpp)
        self._locator_highlight(view)
        self._draw_panel(view, sizes, context_counts)

    def _map_extent(self, view: _View) -> tuple[float, float, float, float]:
        pad = 0.09 if view.level == "district" else 0.05
        return _fit_limits(self.map_ax, self.lay.map, view.bounds, pad)

    # header ------------------------------------------------------------------------
    def _draw_header(self, view: _View) -> None:
        s, (hx, hy, hw, hh) = self.s, self.lay.header
        atlas = self.ctx.atlas
        title_size = min(30 * s, hh * 0.45, (hw * 0.78) / max(em_width(self.title(view)), 1))
        self.text(hx, hy + hh * 0.52, self.title(view), title_size, va="bottom")
        level = ("流域（河涌）" if view.level == "river"
                 else self.ctx.style.level_labels.get(view.level, view.level))
        crumbs = " › ".join([*view.crumbs, view.name])
        dates = view.cases["reported_at"]
        span = (f"{dates.min():%Y-%m-%d} 至 {dates.max():%Y-%m-%d}" if len(dates)
                and dates.notna().any() else "无案件")
        chief = view.chief or "—"
        line = (f"{level}级 · {crumbs}    截至 {atlas.as_of.isoformat()}    "
                f"数据范围 {span}    河长：{chief}")
        sub = min(10 * s, (hw * 0.8) / max(em_width(line), 1))
        self.text(hx, hy + hh * 0.28, line, sub, va="center", color="#333333")

    # map layers ------------------------------------------------------------------------
    def _draw_background(self, view, extent, mpp, labels) -> None:
        ax, s, ctx = self.map_ax, self.s, self.ctx
        x0, y0, x1, y1 = extent
        view_box = shapely.box(*extent)
        if view.level == "district":
            if ctx.neighbours is None:
                return
            geoms = shapely.clip_by_rect(ctx.neighbours.geometry.values, x0, y0, x1, y1)
            names = ctx.neighbours["name"].tolist()
        else:
            level = "town" if view.level == "river" else view.level
            frame = ctx.atlas.units[level]
            hits = frame.sindex.query(view_box, predicate="intersects")
            frame = frame.iloc[hits]
            frame = frame[frame.index != view.unit_id]
            geoms = shapely.clip_by_rect(frame.geometry.values, x0, y0, x1, y1)
            names = frame["name"].astype(str).tolist()
            if view.level == "river":
                return   # the towns along the river are drawn as its children
        keep = ~shapely.is_empty(geoms)
        geoms = shapely.simplify(geoms[keep], mpp * 0.4)
        names = [n for n, k in zip(names, keep, strict=True) if k]
        if not len(geoms):
            return
        self.keep(ax.add_collection(PathCollection(
            _polygon_paths(geoms), facecolors="#f1f1f1", edgecolors="#c8c8c8",
            linewidths=0.5 * s, zorder=1), autolim=False))
        for name, geom in zip(names, geoms, strict=True):
            area_pt = geom.area / mpp**2
            size = 8 * s if view.level == "district" else 5.5 * s
            if area_pt < (size * 2.5) ** 2:
                continue
            p = _polylabel(geom, mpp * 2) if geom.geom_type == "Polygon" else \
                geom.representative_point()
            labels.place(self, p.x, p.y, name, size, extent, mpp, color="#9a9a9a", zorder=11,
                         halo=False)

    def _draw_units(self, view, extent, mpp, labels) -> None:
        ax, s = self.map_ax, self.s
        self.ramp = (0.0, 1.0)
        tol = mpp * 0.3
        children = view.children
        if len(children):
            geoms = shapely.simplify(children.geometry.values, tol)
            rates = children["closed_rate"].to_numpy(dtype=float)
            lo, hi = self.ramp = _ramp_domain(rates)
            colors = np.array([to_rgba(NO_CASES) if np.isnan(r) else RAMP((r - lo) / (hi - lo))
                               for r in rates])
            self.keep(ax.add_collection(PathCollection(
                _polygon_paths(geoms), facecolors=colors, edgecolors="#8c8c8c",
                linewidths=(0.45 if view.level != "village" else 0.6) * s, zorder=2),
                autolim=False))
        elif view.level == "grid":
            rate = view.stats.get("closed_rate", np.nan)
            self.keep(ax.add_collection(PathCollection(
                _polygon_paths([view.geometry]),
                # a light tint: on a grid map every case must stand out, closed ones too
                facecolors=[to_rgba(NO_CASES if pd.isna(rate) else RAMP(float(rate)), 0.3)],
                edgecolors="none", zorder=2), autolim=False))
        if view.level != "river":
            self.keep(ax.add_collection(PathCollection(
                _polygon_paths([shapely.simplify(view.geometry, tol)]), facecolors="none",
                edgecolors=INK, linewidths=1.6 * s, zorder=6), autolim=False))
        self._child_labels(view, extent, mpp, labels)

    def _child_labels(self, view, extent, mpp, labels) -> None:
        children = view.children
        if not len(children):
            return
        s = self.s
        base = {"district": 11, "town": 8, "village": 6.5, "river": 8}.get(view.level, 7) * s
        order = np.argsort(-children.geometry.area.to_numpy())
        for i in order:
            row = children.iloc[i]
            geom = row.geometry
            if geom.is_empty:
                continue
            rate = row["closed_rate"]
            second = "无案件" if pd.isna(rate) else f"{rate:.0%}"
            text = f"{row['name']}\n{second}"
            part = max(shapely.get_parts(geom), key=lambda g: g.area)
            p = _polylabel(part, mpp * 2) if part.geom_type == "Polygon" else \
                part.representative_point()
            bx0, _by0, bx1, _by1 = part.bounds
            width_pt = (bx1 - bx0) / mpp
            size = base
            while size > base * 0.45 and em_width(str(row["name"])) * size > width_pt * 0.95:
                size *= 0.85
            labels.place(self, p.x, p.y, text, size, extent, mpp, color=INK, zorder=12,
                         min_size=4.2 * s, halo=True, linespacing=1.05)

    def _draw_rivers(self, view, extent, mpp, labels) -> None:
        ax, s, rivers = self.map_ax, self.s, self.ctx.atlas.rivers
        x0, y0, x1, y1 = extent
        hits = rivers.sindex.query(shapely.box(*extent), predicate="intersects")
        frame = rivers.iloc[hits]
        if not len(frame):
            return
        geoms = shapely.simplify(shapely.clip_by_rect(frame.geometry.values, x0, y0, x1, y1),
                                 mpp * 0.3)
        main = (frame["kind"] == "main").to_numpy()
        focus = (frame.index == view.unit_id) if view.level == "river" else np.zeros(len(frame), bool)
        widths = np.where(main, 2.6, 1.1) * s * (1.0 if view.level == "district" else 1.25)
        for mask, color, z in ((~main & ~focus, RIVER_TRIB, 4), (main & ~focus, RIVER_MAIN, 4.5),
                               (focus, "#0b4f9c", 5)):
            segs, lws = [], []
            for geom, lw in zip(geoms[mask], widths[mask], strict=True):
                parts = _line_parts([geom])
                segs += parts
                lws += [lw * (1.8 if color == "#0b4f9c" else 1)] * len(parts)
            if segs:
                self.keep(ax.add_collection(LineCollection(
                    segs, colors=color, linewidths=lws, capstyle="round", joinstyle="round",
                    zorder=z), autolim=False))
        order = np.argsort(~(main | focus))
        for i in order:
            geom = geoms[i]
            if geom.is_empty:
                continue
            size = (7.5 if main[i] or focus[i] else 5.8) * s
            labels.place_on_line(self, geom, str(frame["name"].iloc[i]), size, extent, mpp)

    def _draw_cases(self, view, extent, mpp, labels) -> dict[str, float]:
        ax, s, ctx = self.map_ax, self.s, self.ctx
        cases = view.cases
        n = len(cases)
        unit_area_pt = max(shapely.area(shapely.box(*view.bounds)) / mpp**2, 1.0)
        spacing = math.sqrt(unit_area_pt / max(n, 1))
        d_open = float(np.clip(0.5 * spacing, 2.4 * s, 7.5 * s))
        d_over = d_open * 1.3
        d_closed = max(d_open * 0.55, 1.0 * s)
        sizes = {"open": d_open, "overdue": d_over, "closed": d_closed}
        if not n:
            return sizes
        xy = self._to_points(shapely.get_coordinates(cases.geometry.values), extent, mpp)
        state = cases["state"].to_numpy()
        overdue = cases["overdue"].to_numpy(dtype=bool)
        recurring = cases["recurring"].to_numpy(dtype=bool)
        color = ctx.color
        # closed cases carry a thin dark edge: the closed-share ramp is green too, so a bare
        # green dot vanishes on a well-closed unit. Grids show each case full size; on the
        # district's tens of thousands the edge would make the closed ones loud, so none there.
        closed_d = d_open * 0.8 if view.level == "grid" else d_closed
        closed_edge = {"grid": 0.3, "district": 0.0}.get(view.level, 0.15) * s
        closed_layer = (state == "closed", color["closed"], closed_d,
                        0.95 if view.level == "grid" else 0.7, "#2b5b2b", closed_edge, 7)
        layers = [closed_layer]
        for z, st in enumerate(("reported", "assigned", "rectifying")):
            layers.append(((state == st) & ~overdue, color[st], d_open, 0.95, "white",
                           0.25 * s, 8 + z * 0.1))
        layers.append((overdue, color["overdue"], d_over, 1.0, "#5a0000", 0.35 * s, 9))
        for mask, fc, d, alpha, ec, lw, z in layers:
            if mask.any():
                self.keep(ax.add_collection(PathCollection(
                    [_dots(xy[mask], d / 2, sides=6 if d < 2.5 * s else 10, dedupe=d / 4)],
                    facecolors=[to_rgba(fc, alpha)], edgecolors=[to_rgba(ec)], linewidths=lw,
                    transform=self.points, zorder=z), autolim=False))
        if recurring.any():
            self.keep(ax.add_collection(PathCollection(
                [_dots(xy[recurring], d_open * 0.85, ring=0.75, sides=12, dedupe=d_open / 4)],
                facecolors=[to_rgba(INK, 0.75)], linewidths=0, transform=self.points,
                zorder=9.5), autolim=False))
        if view.level == "grid":
            # number the open cases (all of them when few), overdue first; the table lists all
            order = np.lexsort((state == "closed", ~overdue))
            if n > 10:   # every glyph costs ~0.1 ms in PDF text shaping: skip closed ones
                order = order[state[order] != "closed"]
            data_xy = shapely.get_coordinates(cases.geometry.values)
            for i in order[:60]:
                labels.place(self, data_xy[i, 0] + d_open * mpp * 0.7, data_xy[i, 1],
                             str(cases.index[i]), 4.6 * s, extent, mpp, zorder=13, ha="left",
                             halo=False, color=ctx.color["overdue"] if overdue[i] else INK)
        return sizes

    def _to_points(self, xy: np.ndarray, extent, mpp) -> np.ndarray:
        """Map coordinates → page points (see ``self.points``)."""
        x0, y0 = self.lay.map[:2]
        return np.c_[(xy[:, 0] - extent[0]) / mpp + x0, (xy[:, 1] - extent[1]) / mpp + y0]

    def _draw_context(self, view, extent, mpp, labels) -> dict[str, int]:
        context = self.ctx.atlas.context
        if context is None or not len(context):
            return {}
        ax, s = self.map_ax, self.s
        x0, y0, x1, y1 = extent
        xy = shapely.get_coordinates(context.geometry.values)
        inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        counts = {}
        for k, legend in enumerate(_context_kinds(context)):
            mask = inside & (context["legend"].astype(str).to_numpy() == legend)
            counts[legend] = int(mask.sum())
            if not mask.any():
                continue
            marker, color = CONTEXT_MARKERS[k % len(CONTEXT_MARKERS)], CONTEXT_COLORS[k % len(
                CONTEXT_COLORS)]
            self.keep(ax.scatter(xy[mask, 0], xy[mask, 1], s=(6.5 * s) ** 2, marker=marker,
                                 c=color, edgecolors="white", linewidths=0.6 * s, zorder=10))
            for i in np.flatnonzero(mask):
                row = context.iloc[i]
                text = str(row["label"] or row["name"])
                labels.place(self, xy[i, 0] + 5 * s * mpp, xy[i, 1], text, 5.2 * s, extent, mpp,
                             color=color, zorder=13, ha="left", halo=True)
        return counts

    def _scale_bar(self, extent, mpp) -> None:
        s, (mx, my, _mw, _mh) = self.s, self.lay.map
        length = _nice((extent[2] - extent[0]) * 0.18)
        bar_pt = length / mpp
        x, y = mx + 12 * s, my + 12 * s
        h = 3.2 * s
        boxes = [(x - 5 * s, y - 5 * s, bar_pt + 48 * s, h + 19 * s)]
        boxes += [(x + k * bar_pt / 4, y, bar_pt / 4, h) for k in range(4)]
        self.rects(boxes, [to_rgba("white", 0.85), INK, "white", INK, "white"],
                   edgecolors=["none", INK, INK, INK, INK], linewidths=0.5 * s, zorder=19)
        unit, div = ("km", 1000) if length >= 1000 else ("m", 1)
        self.text(x, y + h + 2 * s, "0", 5.6 * s, ha="center", va="bottom", zorder=20)
        self.text(x + bar_pt / 2, y + h + 2 * s, f"{length / 2 / div:g}", 5.6 * s, ha="center",
                  va="bottom", zorder=20)
        self.text(x + bar_pt, y + h + 2 * s, f"{length / div:g} {unit}   "
                  f"1:{_nice_ratio(mpp / (25.4 / 72 / 1000)):,}", 5.6 * s, ha="left",
                  va="bottom", zorder=20)

    def _locator_highlight(self, view) -> None:
        ax, s = self.loc_ax, self.s
        if view.level == "river":
            self.keep(ax.add_collection(LineCollection(
                _line_parts([view.geometry]), colors=SAMPLE_RED, linewidths=1.6 * s, zorder=5),
                autolim=False))
            return
        geom = view.geometry
        ex0, ex1, _ey0, _ey1 = self.loc_extent
        x0, y0, x1, y1 = geom.bounds
        self.keep(ax.add_collection(PathCollection(
            _polygon_paths([geom]), facecolors=[to_rgba(SAMPLE_RED, 0.45)],
            edgecolors=SAMPLE_RED, linewidths=0.8 * s, zorder=5), autolim=False))
        if max(x1 - x0, y1 - y0) < (ex1 - ex0) / 40:   # a speck at district scale: ring it
            self.keep(ax.scatter([(x0 + x1) / 2], [(y0 + y1) / 2], s=(9 * s) ** 2,
                                 facecolors="none", edgecolors=SAMPLE_RED, linewidths=1.2 * s,
                                 zorder=6))

    # side panel --------------------------------------------------------------------
    def rects(self, boxes, colors, edgecolors=None, linewidths=0.0, zorder=1) -> None:
        """Rectangles (x, y, w, h) on the page, in the page's :class:`ShapeBatch`."""
        batch = self.shapes(zorder)
        n = len(boxes)
        edges = edgecolors if isinstance(edgecolors, list) else [edgecolors] * n
        widths = linewidths if isinstance(linewidths, list) else [linewidths] * n
        colors = colors if isinstance(colors, list) else [colors] * n
        for (x, y, w, h), face, edge, lw in zip(boxes, colors, edges, widths, strict=True):
            path = MplPath([(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)], _RECT)
            batch.add(path, None if _none(face) else to_rgba(face),
                      None if _none(edge) else to_rgba(edge), lw)

    def column(self, x, top, values, size, row_h, ha="left", **kw):
        """One text per column: ``values`` one per row, rows ``row_h`` points apart."""
        if not values:
            return None
        spacing = row_h / (size * self.ctx.font.line_height)
        return self.text(x, top, "\n".join(values), size, ha=ha, va="top",
                         multialignment=ha, linespacing=spacing, **kw)

    def _draw_panel(self, view, sizes, context_counts) -> None:
        cols = self.lay.columns
        if self.orientation == "landscape":
            cursor = _Cursor(cols[0])
            self._legend(cursor, view, sizes, context_counts)
            self._stats(cursor, view)
            self._table(cursor, view)
        else:
            stats, legend, table = (_Cursor(c) for c in cols)
            self._stats(stats, view, compact=True)
            self._legend(legend, view, sizes, context_counts)
            self._table(table, view)

    def _heading(self, cur: _Cursor, text: str) -> None:
        s = self.s
        size = min(9 * s, cur.w / max(em_width(text), 1))
        cur.y -= size * 1.15
        self.text(cur.x, cur.y, text, size, va="baseline")
        cur.y -= 2.5 * s
        self.rects([(cur.x, cur.y, cur.w, 0.6 * s)], [INK])
        cur.y -= 4 * s

    def _legend(self, cur, view, sizes, context_counts) -> None:
        s, ctx = self.s, self.ctx
        cases, label = view.cases, ctx.label
        self._heading(cur, "图例")
        row_h, size, col_w = 8.6 * s, 6.2 * s, cur.w / 2
        state = cases["state"].to_numpy()
        overdue = cases["overdue"].to_numpy(dtype=bool)
        recurring = int(cases["recurring"].to_numpy(dtype=bool).sum())
        # cases: marker + label with count, two columns
        marks = [("overdue", int(overdue.sum()), sizes["overdue"], "#5a0000", 1.0,
                  f"{label['overdue']}（未销号且过期）")]
        for st in ("reported", "assigned", "rectifying"):
            n = int(((state == st) & ~overdue).sum())
            marks.append((st, n, sizes["open"], "white", 1.0, label[st]))
        marks.append(("closed", int((state == "closed").sum()), sizes["closed"], "none", 0.6,
                      label["closed"]))
        xs, ys, face, edge, area, _alphas, texts = [], [], [], [], [], [], [[], []]
        for k, (key, n, d, ec, alpha, text) in enumerate(marks):
            xs.append(cur.x + (k % 2) * col_w + 5 * s)
            ys.append(cur.y - (k // 2) * row_h - row_h / 2)
            face.append(to_rgba(ctx.color[key], alpha))
            edge.append(ec)
            area.append(max(d, 3 * s) ** 2)
            texts[k % 2].append(f"{text} {n:,}")
        k = len(marks)
        texts[k % 2].append(f"{label.get('recurring', '反复')}（同址再次上报）{recurring:,}")
        self.markers(xs, ys, area, "o", face, edge, 0.3 * s)
        self.markers([cur.x + (k % 2) * col_w + 5 * s], [cur.y - (k // 2) * row_h - row_h / 2],
                     [(sizes["open"] * 1.7) ** 2], RING, [to_rgba(INK, 0.75)], [None], 0)
        for c in (0, 1):
            self.column(cur.x + c * col_w + 12 * s, cur.y, texts[c], size, row_h)
        cur.y -= ((k + 2) // 2) * row_h + 3 * s
        # rivers, boundaries, context points
        items = [("line", RIVER_MAIN, 2.6 * s, "干流"), ("line", RIVER_TRIB, 1.1 * s, "一级支流"),
                 ("box", INK, 1.6 * s, "本级边界")]
        if view.child_level:
            items.append(("box", "#8c8c8c", 0.6 * s,
                          f"{ctx.style.level_labels.get(view.child_level, '')}边界"))
        for k, legend in enumerate(_context_kinds(ctx.atlas.context)):
            items.append(("ctx", k, 0, f"{legend} {context_counts.get(legend, 0)}"))
        texts = [[], []]
        lines, line_colors, line_widths, boxes, box_edges, box_widths = [], [], [], [], [], []
        for k, (kind, color, lw, text) in enumerate(items):
            x = cur.x + (k % 2) * col_w
            y = cur.y - (k // 2) * row_h - row_h / 2
            texts[k % 2].append(text)
            if kind == "line":
                lines.append([(x, y), (x + 10 * s, y)])
                line_colors.append(color)
                line_widths.append(lw)
            elif kind == "box":
                boxes.append((x, y - 3 * s, 10 * s, 6 * s))
                box_edges.append(color)
                box_widths.append(lw)
            else:
                self.markers([x + 5 * s], [y], [(6 * s) ** 2],
                             CONTEXT_MARKERS[color % len(CONTEXT_MARKERS)],
                             [CONTEXT_COLORS[color % len(CONTEXT_COLORS)]], ["white"], 0.5 * s)
        lines_batch = self.shapes(2)           # a LineCollection's z-order
        for line, color, lw in zip(lines, line_colors, line_widths, strict=True):
            lines_batch.add(MplPath(line), None, to_rgba(color), lw, capstyle="round")
        self.rects(boxes, ["none"] * len(boxes), edgecolors=box_edges, linewidths=box_widths)
        for c in (0, 1):
            self.column(cur.x + c * col_w + 13 * s, cur.y, texts[c], size, row_h)
        cur.y -= ((len(items) + 1) // 2) * row_h + 4 * s
        # closure (销号率) ramp
        ramp_w, ramp_h = min(cur.w * 0.5, 110 * s), 6 * s
        text = f"{ctx.style.level_labels.get(view.child_level or view.level, '')}销号率"
        self.text(cur.x, cur.y - ramp_h / 2, text, size, va="center")
        rx = cur.x + (em_width(text) + 0.8) * size
        steps = 20
        boxes = [(rx + k * ramp_w / steps, cur.y - ramp_h, ramp_w / steps * 1.02, ramp_h)
                 for k in range(steps)]
        colors = [RAMP((k + 0.5) / steps) for k in range(steps)]
        nx = rx + ramp_w + 8 * s
        with_none = nx + 40 * s < cur.x + cur.w
        if with_none:
            boxes.append((nx, cur.y - ramp_h, 8 * s, ramp_h))
            colors.append(NO_CASES)
        self.rects(boxes, colors)
        self.rects([(rx, cur.y - ramp_h, ramp_w, ramp_h), *boxes[steps:]], ["none"] * (
            1 + with_none), edgecolors=GREY, linewidths=0.4 * s)
        lo, hi = self.ramp
        self.text(rx, cur.y - ramp_h - 1.5 * s, f"{lo:.0%}", 5 * s, ha="center", va="top",
                  color="#444444")
        self.text(rx + ramp_w, cur.y - ramp_h - 1.5 * s, f"{hi:.0%}", 5 * s, ha="center",
                  va="top", color="#444444")
        if with_none:
            self.text(nx + 10 * s, cur.y - ramp_h / 2, "无案件", 5.5 * s, va="center")
        cur.y -= ramp_h + 14 * s

    def _stats(self, cur, view, compact: bool = False) -> None:
        s, stats = self.s, view.stats
        self._heading(cur, "统计")
        rate = stats.get("closed_rate", np.nan)
        overdue = int(stats.get("overdue", 0))
        key_size, big = 6.6 * s, (11 if not compact else 9) * s
        value_x = cur.x + 4.6 * key_size
        for key, value in (("案件总数", f"{int(stats.get('total', 0)):,}"),
                           ("销号率", "—" if pd.isna(rate) else f"{rate:.1%}")):
            size = min(big, (cur.w - 4.6 * key_size) / max(em_width(value), 1))
            cur.y -= size * 1.2
            self.text(cur.x, cur.y, key, key_size, va="baseline", color="#555555")
            self.text(value_x, cur.y, value, size, va="baseline")
        lines = [("超期", f"{overdue:,} 件" + (
            f"（最长 {int(stats.get('max_days_overdue', 0))} 天）" if overdue else ""))]
        lines.append(("反复", f"{int(stats.get('recurring', 0)):,} 件"))
        period = self.ctx.atlas.period
        if period:
            lines.append(("本期", f"{period[0]:%m-%d}至{period[1]:%m-%d} 新增 "
                          f"{int(stats.get('new_in_period', 0))}，销号 "
                          f"{int(stats.get('closed_in_period', 0))}"))
        if view.level not in ("district", "river") and int(stats.get("rank", 0)):
            lines.append(("同级排名", f"第 {int(stats['rank'])} 名"))
        size = min(key_size, (cur.w - 4.6 * key_size) / max(max(em_width(v) for _, v in lines), 1))
        row_h = key_size * 1.45
        cur.y -= 2 * s
        self.column(cur.x, cur.y, [k for k, _ in lines], key_size, row_h, color="#555555")
        self.column(value_x, cur.y, [v for _, v in lines], size, row_h)
        if overdue:   # the overdue figure in the overdue colour, over the black one
            self.text(value_x, cur.y - row_h / 2, f"{overdue:,}", size, va="center",
                      color=self.ctx.color["overdue"], bbox={"fc": "white", "ec": "none",
                                                             "pad": 0.5})
        cur.y -= row_h * len(lines) + 8 * s

    def _table(self, cur, view) -> None:
        if view.level == "grid":
            self._case_table(cur, view)
        else:
            self._ranking(cur, view)

    def _ranking(self, cur, view) -> None:
        s, ctx = self.s, self.ctx
        child = ctx.style.level_labels.get(view.child_level or "", "")
        self._heading(cur, f"沿河{child}排名（本河涌案件）" if view.level == "river"
                      else f"{child}排名")
        rule = str(ctx.atlas.extra.get("ranking_rule", ""))
        if rule:
            lines = wrap_to_width(rule, 5 * s, cur.w)[:3]
            self.column(cur.x, cur.y, lines, 5 * s, 6.5 * s, color=GREY)
            cur.y -= 6.5 * s * len(lines) + 3 * s
        frame = view.children.sort_values("rank") if len(view.children) else view.children
        columns = [("名次", 0.0, "left"), ("名称", 0.09, "left"), ("河长", 0.44, "left"),
                   ("案件", 0.72, "right"), ("销号率", 0.86, "right"), ("超期", 1.0, "right")]
        rows = [(str(int(r["rank"])), str(r["name"]), _chief(r) or "—", f"{int(r['total']):,}",
                 "—" if pd.isna(r["closed_rate"]) else f"{r['closed_rate']:.0%}",
                 str(int(r["overdue"]))) for _, r in frame.iterrows()]
        self._grid_table(cur, columns, rows, 6.2 * s, last_red=3 if len(rows) > 5 else 1)

    def _case_table(self, cur, view) -> None:
        s, ctx = self.s, self.ctx
        cases = view.cases
        self._heading(cur, f"网格案件清单（{len(cases)} 件）")
        order = cases.assign(_o=~cases["overdue"].astype(bool), _c=cases["state"] == "closed",
                             _d=-cases["days_overdue"]).sort_values(["_o", "_c", "_d"])
        columns = [("编号", 0.0, "left"), ("类型", 0.25, "left"), ("状态", 0.55, "left"),
                   ("整改期限", 0.72, "left"), ("超期", 1.0, "right")]
        rows = [(str(case_id), str(r["problem_type"]), ctx.label.get(r["state"], r["state"]),
                 "" if pd.isna(r["deadline"]) else f"{r['deadline']:%Y-%m-%d}",
                 f"{int(r['days_overdue'])}天" if r["overdue"] else "")
                for case_id, r in order.iterrows()]
        # open cases first; every printed glyph costs time, so at most CASE_ROWS rows
        self._grid_table(cur, columns, rows, 5.8 * s, red_col=4, max_rows=CASE_ROWS)

    def _grid_table(self, cur, columns, rows, size, last_red=0, red_col=None,
                    max_rows: int | None = None) -> None:
        """A table as one text per column over striped row backgrounds."""
        s = self.s
        # shrink (down to a floor) so that every row fits before cutting rows out
        fit = (cur.y - cur.bottom) / ((min(len(rows), max_rows or len(rows)) + 1) * 1.5)
        size = max(min(size, fit), min(size, 4.6 * s))
        row_h = size * 1.5
        for name, fx, ha in columns:
            self.text(cur.x + fx * cur.w, cur.y - row_h / 2, name, size, ha=ha, va="center",
                      color="#555555")
        cur.y -= row_h
        self.rects([(cur.x, cur.y, cur.w, 0.4 * s)], [GREY])
        room = int((cur.y - cur.bottom) // row_h)
        if max_rows is not None:
            room = min(room, max_rows + 1)
        shown: list[tuple | None] = list(rows)
        skipped = 0
        if len(rows) > room:
            room = max(room, 1)
            head = room // 2 if room >= 3 else room
            tail = room - 1 - head if room >= 3 else 0
            skipped = len(rows) - head - tail
            shown = rows[:head] + ([None] if room >= 3 else []) + (rows[-tail:] if tail else [])
        boxes, colors = [], []
        for k, row in enumerate(shown):
            y = cur.y - (k + 1) * row_h
            position = k if row is None or k < len(shown) / 2 else len(rows) - (len(shown) - k)
            if row is not None and last_red and position >= len(rows) - last_red:
                boxes.append((cur.x - 2 * s, y, cur.w + 4 * s, row_h))
                colors.append("#fde3e1")
            elif k % 2:
                boxes.append((cur.x - 2 * s, y, cur.w + 4 * s, row_h))
                colors.append("#f3f3f3")
        if boxes:
            self.rects(boxes, colors)
        for c, (_, fx, ha) in enumerate(columns):
            width = (columns[c + 1][1] - fx if c + 1 < len(columns) and ha == "left"
                     else 0.2) * cur.w - 2 * s
            values = []
            for row in shown:
                if row is None:
                    values.append(f"…另 {skipped} 项…" if c == 1 else "")
                else:
                    values.append(clip_to_width(row[c], size, width))
            color = self.ctx.color["overdue"] if c == red_col else INK
            self.column(cur.x + fx * cur.w, cur.y, values, size, row_h, ha=ha, color=color)
        if not rows:
            self.text(cur.x, cur.y - row_h / 2, "（无）", size, va="center", color=GREY)
            shown = [None]
        cur.y -= row_h * len(shown) + 6 * s


@dataclass
class _Cursor:
    """A column of the side panel being filled from the top."""

    x: float
    y: float
    w: float
    bottom: float

    def __init__(self, box: tuple[float, float, float, float]) -> None:
        self.x, self.bottom, self.w = box[0], box[1], box[2]
        self.y = box[1] + box[3]


class _Labels:
    """Greedy label placement: a label that would overlap a placed one is shrunk or skipped."""

    def __init__(self) -> None:
        self.boxes: list[tuple[float, float, float, float]] = []

    def _free(self, box) -> bool:
        x0, y0, x1, y1 = box
        return all(x1 < b0 or x0 > b2 or y1 < b1 or y0 > b3 for b0, b1, b2, b3 in self.boxes)

    def place(self, sheet: _Sheet, x, y, text, size, extent, mpp, *, min_size=None, halo=True,
              ha="center", zorder=12, **kw) -> bool:
        lines = text.split("\n")
        min_size = min_size or size
        while size >= min_size - 1e-9:
            w = max(em_width(line) for line in lines) * size
            h = len(lines) * size * 1.15
            px, py = (x - extent[0]) / mpp, (y - extent[1]) / mpp
            x0 = px - w / 2 if ha == "center" else px
            box = (x0, py - h / 2, x0 + w, py + h / 2)
            inside = box[0] >= 0 and box[1] >= 0 and box[2] <= (extent[2] - extent[0]) / mpp \
                and box[3] <= (extent[3] - extent[1]) / mpp
            if inside and self._free(box):
                self.boxes.append(box)
                if halo:
                    kw["path_effects"] = [withStroke(linewidth=size * 0.28, foreground="white")]
                sheet.text(x, y, text, size, ax=sheet.map_ax, ha=ha, va="center", zorder=zorder,
                           **kw)
                return True
            size *= 0.85
        return False

    def place_on_line(self, sheet: _Sheet, geom, text, size, extent, mpp) -> bool:
        parts = [g for g in shapely.get_parts(geom) if g.geom_type == "LineString"]
        if not parts:
            return False
        line = max(parts, key=lambda g: g.length)
        length_pt = line.length / mpp
        w = em_width(text) * size
        if length_pt < w * 1.3:
            return False
        for frac in (0.5, 0.3, 0.7, 0.15, 0.85):
            a = line.interpolate(frac, normalized=True)
            d = w * 0.5 * mpp / line.length
            p0 = line.interpolate(max(frac - d, 0), normalized=True)
            p1 = line.interpolate(min(frac + d, 1), normalized=True)
            angle = math.degrees(math.atan2(p1.y - p0.y, p1.x - p0.x))
            if angle > 90:
                angle -= 180
            elif angle < -90:
                angle += 180
            c, sn = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
            bw, bh = w * c + size * sn, w * sn + size * c
            px, py = (a.x - extent[0]) / mpp, (a.y - extent[1]) / mpp
            box = (px - bw / 2, py - bh / 2, px + bw / 2, py + bh / 2)
            if box[0] < 0 or box[1] < 0 or box[2] > (extent[2] - extent[0]) / mpp or \
                    box[3] > (extent[3] - extent[1]) / mpp or not self._free(box):
                continue
            self.boxes.append(box)
            sheet.text(a.x, a.y, text, size, ax=sheet.map_ax, ha="center", va="center",
                       rotation=angle, rotation_mode="anchor", color=RIVER_TEXT, zorder=11,
                       path_effects=[withStroke(linewidth=size * 0.3, foreground="white")])
            return True
        return False


# --------------------------------------------------------------------------- meeting atlas


def _write_meeting_atlas(ctx: _Context, town_id: str, path: Path, out_dir: Path | None,
                         sheets: dict[tuple[str, str], _Sheet]) -> Path:
    """Join cover, town, villages, grids and statistics pages; reuse posters under ``out_dir``."""
    town = ctx.view("town", town_id)
    villages = town.children.sort_values("rank")
    village_views = [ctx.view("village", v) for v in villages.index]
    grid_views = [ctx.view("grid", g) for v in village_views
                  for g in v.children.sort_values("rank").index]
    meta = {"Title": f"{town.name} 河长制挂图作战 会议图册", "Creator": f"battlemap {__version__}"}

    def page(view: _View) -> Path | bytes:
        if out_dir is not None:
            paper = _ATLAS_SOURCE[view.level]
            poster = out_dir / poster_file(view.level, view.unit_id, paper)
            if poster.is_file():
                return poster
        key = (ATLAS_PAPER, _orientation(view, ATLAS_PAPER))
        if key not in sheets:
            sheets[key] = _Sheet(ctx, *key)
        buffer = io.BytesIO()
        sheets[key].save(view, path, pdf=buffer)
        return buffer.getvalue()

    parts = [_figure_bytes(ctx, _cover(ctx, town, len(village_views), len(grid_views)))]
    parts += [page(view) for view in [town, *village_views, *grid_views]]
    parts += [_figure_bytes(ctx, fig) for fig in _statistics_pages(ctx, town, village_views)]
    with atomic_path(path) as tmp:
        concatenate(parts, tmp, meta,
                    page_size=tuple(v * PT_PER_MM for v in PAPER_MM[ATLAS_PAPER]))
    return path


_ATLAS_SOURCE = {"town": "A3", "village": "A3", "grid": "A4"}
"""Which written poster of each level the meeting atlas reuses (scaled to A4)."""


def _figure_bytes(ctx: _Context, fig: Figure) -> bytes:
    buffer = io.BytesIO()
    save_pdf(fig, buffer, {"Creator": f"battlemap {__version__}", "CreationDate": None},
             ctx.font.path)
    return buffer.getvalue()


def _blank_page(ctx: _Context, orientation: str = "portrait") -> tuple[Figure, object, _Layout]:
    lay = _layout(ATLAS_PAPER, orientation)
    fig = Figure(figsize=(lay.width / 72, lay.height / 72), dpi=72)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, lay.width)
    ax.set_ylim(0, lay.height)
    if ctx.config.project.sample:
        ax.add_patch(Rectangle((0, lay.height - 14), lay.width, 14, color=SAMPLE_RED, lw=0))
        _t(ctx, ax, lay.width / 2, lay.height - 7, "示例数据 SAMPLE DATA · 合成案件，非真实情况",
           7, ha="center", va="center", color="white")
        _t(ctx, ax, lay.width / 2, lay.height / 2, "示例数据 sample data", 46, ha="center",
           va="center", rotation=55, color=SAMPLE_RED, alpha=0.08)
    project = ctx.config.project
    source = f"数据来源：{project.data_source}" if project.data_source else ""
    _t(ctx, ax, 28, 20, clip_to_width(f"{project.note}  {source}", 5.5, lay.width - 56), 5.5, color=GREY)
    return fig, ax, lay


def _t(ctx: _Context, ax, x, y, text, size, **kw):
    text = check_text(text, ctx.font)
    kw.setdefault("color", INK)
    return ax.text(x, y, text, fontsize=size, parse_math=False, **kw)


def _cover(ctx: _Context, town: _View, n_villages: int, n_grids: int) -> Figure:
    fig, ax, lay = _blank_page(ctx)
    st, w, h = town.stats, lay.width, lay.height
    atlas = ctx.atlas
    _t(ctx, ax, w / 2, h * 0.78, town.name, 40, ha="center")
    _t(ctx, ax, w / 2, h * 0.72, "河长制挂图作战 会议图册", 22, ha="center")
    _t(ctx, ax, w / 2, h * 0.67, f"{' › '.join(town.crumbs)} · 截至 {atlas.as_of.isoformat()}",
       11, ha="center", color="#444444")
    rate = st["closed_rate"]
    lines = [("镇街河长", town.chief or "—"), ("案件总数", f"{int(st['total']):,}"),
             ("销号率", "—" if pd.isna(rate) else f"{rate:.1%}"),
             ("超期", f"{int(st['overdue']):,} 件"), ("反复", f"{int(st['recurring']):,} 件"),
             ("全区排名", f"第 {int(st['rank'])} 名 / {len(atlas.units['town'])}")]
    if atlas.period:
        lines.append(("本期", f"{atlas.period[0]} 至 {atlas.period[1]}：新增 "
                      f"{int(st['new_in_period'])}，销号 {int(st['closed_in_period'])}"))
    y = h * 0.57
    for key, value in lines:
        _t(ctx, ax, w * 0.22, y, key, 11, color="#555555")
        _t(ctx, ax, w * 0.42, y, value, 13,
           color=ctx.color["overdue"] if key == "超期" and int(st["overdue"]) else INK)
        y -= 24
    y -= 16
    _t(ctx, ax, w * 0.22, y, "目录", 12)
    contents = ["1  封面", f"2  {town.name} 作战图",
                f"3–{2 + n_villages}  村居作战图（{n_villages} 个，按排名）" if n_villages else "",
                f"{3 + n_villages}–{2 + n_villages + n_grids}  网格作战图（{n_grids} 个）"
                if n_grids else "",
                f"{3 + n_villages + n_grids} 起  统计表：村居统计、问题类型、超期案件"]
    for line in filter(None, contents):
        y -= 17
        _t(ctx, ax, w * 0.24, y, line, 9.5, color="#333333")
    return fig


def _statistics_pages(ctx: _Context, town: _View, villages: list[_View]) -> Iterable[Figure]:
    """Tables: every village's statistics, problem types, the longest-overdue cases."""
    label = ctx.label
    header = ["名次", "村居", "河长", "案件", label["reported"], label["assigned"],
              label["rectifying"], label["closed"], "销号率", "超期", "反复"]
    xs = [0.0, 0.07, 0.30, 0.47, 0.55, 0.63, 0.71, 0.79, 0.88, 0.94, 1.0]
    rows = []
    for v in villages:
        st = v.stats
        rate = st["closed_rate"]
        rows.append([str(int(st["rank"])), v.name, v.chief, f"{int(st['total'])}",
                     *(str(int(st[k])) for k in STATES),
                     "—" if pd.isna(rate) else f"{rate:.0%}", str(int(st["overdue"])),
                     str(int(st["recurring"]))])
    yield from _table_pages(ctx, f"{town.name} 村居统计（{len(rows)} 个）", header, xs, rows)
    by_type = ctx.atlas.by_type
    if by_type is not None and len(by_type):
        sub = by_type[(by_type["level"] == "town") & (by_type["unit_id"] == town.unit_id)]
        sub = sub.sort_values("count", ascending=False)
        type_rows = [[str(r["problem_type"]), f"{int(r['count']):,}",
                      f"{int(r.get('closed', 0)):,}",
                      f"{(r.get('closed', 0) / r['count']):.0%}" if r["count"] else "—"]
                     for _, r in sub.iterrows()]
        yield from _table_pages(ctx, f"{town.name} 问题类型", ["问题类型", "案件", "已销号", "销号率"],
                                [0, 0.55, 0.75, 1.0], type_rows)
    cases = town.cases[town.cases["overdue"].astype(bool)].sort_values(
        "days_overdue", ascending=False)
    village_names = ctx.atlas.units["village"]["name"]
    case_rows = [[str(i), str(village_names.get(r["village_id"], "")), str(r["problem_type"]),
                  label.get(r["state"], r["state"]),
                  "" if pd.isna(r["deadline"]) else f"{r['deadline']:%Y-%m-%d}",
                  f"{int(r['days_overdue'])}"] for i, r in cases.head(200).iterrows()]
    title = f"{town.name} 超期案件（{len(cases)} 件，按超期天数" + (
        "，前 200 件）" if len(cases) > 200 else "）")
    yield from _table_pages(ctx, title, ["编号", "村居", "类型", "状态", "整改期限", "超期天数"],
                            [0, 0.24, 0.48, 0.68, 0.80, 1.0], case_rows)


def _table_pages(ctx: _Context, title: str, header: list[str], xs: list[float],
                 rows: list[list[str]]) -> Iterable[Figure]:
    per_page = 52
    chunks = [rows[i:i + per_page] for i in range(0, len(rows), per_page)] or [[]]
    for page, chunk in enumerate(chunks):
        fig, ax, lay = _blank_page(ctx)
        x0, width = 40, lay.width - 80
        y = lay.height - 60
        suffix = f"（续 {page + 1}/{len(chunks)}）" if len(chunks) > 1 else ""
        _t(ctx, ax, x0, y, title + suffix, 15)
        y -= 26
        for name, fx in zip(header, xs, strict=True):
            _t(ctx, ax, x0 + fx * width, y, name, 7.5, ha="left" if fx < 0.4 else "right",
               color="#555555")
        ax.plot([x0, x0 + width], [y - 4, y - 4], color=GREY, lw=0.5)
        for k, row in enumerate(chunk):
            y -= 13.5
            if k % 2:
                ax.add_patch(Rectangle((x0 - 3, y - 4), width + 6, 13.5, fc="#f4f4f4", lw=0))
            for value, fx in zip(row, xs, strict=True):
                _t(ctx, ax, x0 + fx * width, y, clip_to_width(value, 7.5, width * 0.22), 7.5,
                   ha="left" if fx < 0.4 else "right")
        if not chunk:
            _t(ctx, ax, x0, y - 16, "（无）", 8, color=GREY)
        yield fig


# --------------------------------------------------------------------------- helpers


def _ramp_domain(rates: np.ndarray) -> tuple[float, float]:
    """The closure-rate range the colour ramp spans: the data's, in 5 % steps, at least 10 %."""
    rates = rates[~np.isnan(rates)]
    if not len(rates):
        return 0.0, 1.0
    lo = math.floor(rates.min() * 20 + 1e-9) / 20
    hi = math.ceil(rates.max() * 20 - 1e-9) / 20
    if hi - lo < 0.1:
        lo = max(0.0, hi - 0.1)
        hi = lo + 0.1
    return lo, hi


def _context_kinds(context: gpd.GeoDataFrame | None) -> list[str]:
    if context is None or not len(context):
        return []
    return list(dict.fromkeys(context["legend"].astype(str)))








def _none(color) -> bool:
    return color is None or (isinstance(color, str) and color.lower() == "none")


def _nice(value: float) -> float:
    exp = 10 ** math.floor(math.log10(max(value, 1e-9)))
    for step in (5, 2, 1):
        if step * exp <= value:
            return step * exp
    return exp


def _nice_ratio(value: float) -> int:
    exp = 10 ** max(math.floor(math.log10(max(value, 1))) - 1, 0)
    return int(round(value / exp) * exp)


def _fit_limits(ax, box, bounds, pad) -> tuple[float, float, float, float]:
    """Set ``ax`` limits to ``bounds`` plus ``pad``, widened to the box's aspect (equal scale)."""
    x0, y0, x1, y1 = bounds
    w, h = max(x1 - x0, 10.0), max(y1 - y0, 10.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    aspect = box[2] / box[3]
    if w / h > aspect:
        h = w / aspect
    else:
        w = h * aspect
    extent = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    return extent


_MOVE, _LINE, _CLOSE = MplPath.MOVETO, MplPath.LINETO, MplPath.CLOSEPOLY
_RECT = np.array([_MOVE, _LINE, _LINE, _LINE, _CLOSE], dtype=np.uint8)


def _polygon_paths(geoms) -> list[MplPath]:
    """Matplotlib paths of (multi)polygons, holes included."""
    paths = []
    for geom in geoms:
        verts, codes = [], []
        if geom is not None and not geom.is_empty:
            for poly in shapely.get_parts(geom):
                if poly.geom_type != "Polygon":
                    continue
                for ring in (poly.exterior, *poly.interiors):
                    xy = np.asarray(ring.coords)
                    if len(xy) < 4:
                        continue
                    c = np.full(len(xy), _LINE, dtype=np.uint8)
                    c[0], c[-1] = _MOVE, _CLOSE
                    verts.append(xy)
                    codes.append(c)
        if verts:
            paths.append(MplPath(np.concatenate(verts), np.concatenate(codes)))
        else:
            paths.append(MplPath(np.zeros((1, 2)), [_MOVE]))
    return paths


def _dots(xy: np.ndarray, radius: float, ring: float = 0.0, sides: int = 10,
          dedupe: float = 0.0) -> MplPath:
    """Many small discs (or rings, inner radius ``ring`` × radius) as one compound path.

    ``xy`` and ``radius`` are in page points. One path goes through matplotlib's
    C path writer: far faster in PDF than 30,000 marker references. Vertices
    are rounded to 0.01 pt (short numbers, small files); with ``dedupe``, dots
    closer than that many points to an already drawn one are dropped (they
    would be drawn on top of each other).
    """
    if dedupe > 0 and len(xy) > 1:
        xy = np.unique(np.round(xy / dedupe), axis=0) * dedupe
    theta = np.linspace(0, 2 * np.pi, sides + 1)[:-1]
    unit = np.c_[np.cos(theta), np.sin(theta)]
    shapes = [np.r_[unit, unit[:1]]]
    if ring:
        shapes.append(np.r_[unit[::-1], unit[-1:]] * ring)
    one = np.concatenate(shapes) * radius
    codes_one = np.tile(np.r_[[_MOVE], [_LINE] * (sides - 1), [_CLOSE]], len(shapes))
    verts = np.round((xy[:, None, :] + one[None, :, :]).reshape(-1, 2), 2)
    return MplPath(verts, np.tile(codes_one, len(xy)))


def _line_parts(geoms) -> list[np.ndarray]:
    out = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        for part in shapely.get_parts(geom):
            if part.geom_type == "LineString" and len(part.coords) > 1:
                out.append(np.asarray(part.coords))
            elif part.geom_type in ("MultiLineString", "GeometryCollection"):
                out += _line_parts([part])
    return out


del nullcontext, dt, FancyArrow


def _polylabel(polygon, tolerance: float):
    """The pole of inaccessibility: a label point well inside the polygon."""
    from shapely.ops import polylabel

    try:
        return polylabel(polygon, tolerance=max(tolerance, 1e-6))
    except Exception:
        return polygon.representative_point()

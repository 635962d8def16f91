"""Map layers, bottom to top: neighbours, child units by closure rate, rivers, cases, context points.

Also the scale bar and the locator inset (its base is drawn once per
sheet, the unit's highlight once per poster). Every function draws onto a
:class:`~.sheet.Sheet` in map units and records its artists with
``sheet.keep`` so the sheet can be cleared for the next unit.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba
from matplotlib.path import Path as MplPath
from matplotlib.transforms import Affine2D

from battlemap.render.fonts import em_width
from battlemap.render.pdf import ShapeBatch
from battlemap.render.poster.labels import Labels, label_point
from battlemap.render.poster.layout import fit_limits
from battlemap.render.poster.paths import RING_INNER, dots, line_parts, polygon_paths
from battlemap.render.poster.style import (
    GREY,
    GRID_TINT,
    INK,
    RECURRING,
    RIVER_FOCUS,
    RIVER_MAIN,
    RIVER_TRIB,
    SAMPLE_RED,
    Z_CASES,
    class_colors,
    closure_classes_of,
    context_label,
    context_symbol,
)

if TYPE_CHECKING:
    from battlemap.render.poster.sheet import Sheet
    from battlemap.render.poster.view import View

Extent = tuple[float, float, float, float]
"""(x0, y0, x1, y1) of the map in map units (metres)."""

_CIRCLE = MplPath.unit_circle()
"""Radius 1, as the ``o`` marker (whose radius is 0.5) scaled."""


def draw_background(sheet: Sheet, view: View, extent: Extent, mpp: float, labels: Labels) -> None:
    """Grey surroundings: the neighbouring districts around the district, else the unit's peers."""
    s, ctx = sheet.s, sheet.ctx
    x0, y0, x1, y1 = extent
    if view.level == "district":
        if ctx.neighbours is None:
            return
        geoms = shapely.clip_by_rect(ctx.neighbours.geometry.values, x0, y0, x1, y1)
        names = ctx.neighbours["name"].tolist()
    else:
        if view.level == "river":
            return   # the towns along the river are drawn as its children
        frame = ctx.atlas.units[view.level]
        hits = frame.sindex.query(shapely.box(*extent), predicate="intersects")
        all_geoms, ids, all_names = ctx.peers(view.level)
        hits = hits[ids[hits] != view.unit_id]
        geoms = shapely.clip_by_rect(all_geoms[hits], x0, y0, x1, y1)
        names = all_names[hits].tolist()
    keep = ~shapely.is_empty(geoms)
    geoms = shapely.simplify(geoms[keep], mpp * 0.4)
    names = [n for n, k in zip(names, keep, strict=True) if k]
    if not len(geoms):
        return
    sheet.polygons(geoms, 1, "#f1f1f1", "#c8c8c8", 0.5 * s)
    size = 8 * s if view.level == "district" else 5.5 * s
    for name, geom in zip(names, geoms, strict=True):
        if geom.area / mpp**2 < (size * 2.5) ** 2:
            continue
        p = label_point(geom, mpp * 2)
        labels.place(sheet, p.x, p.y, name, size, extent, mpp, color="#9a9a9a", zorder=11,
                     halo=False)


def draw_units(sheet: Sheet, view: View, extent: Extent, mpp: float,
               labels: Labels) -> dict:
    """The children shaded by closure-rate class (a grid: itself, tinted), the border, labels.

    Returns the classification used (the stats stage's ``closure_classes``
    entry), for the legend.
    """
    s = sheet.s
    _, classes = closure_classes_of(sheet.ctx.atlas, view)
    tol = mpp * 0.3
    children = view.children
    if len(children):
        geoms = shapely.simplify(children.geometry.values, tol)
        sheet.polygons(geoms, 2, list(class_colors(children, classes)), "#8c8c8c",
                       (0.45 if view.level != "village" else 0.6) * s)
    elif view.level == "grid":
        # a light tint: on a grid map every case must stand out, closed ones too
        sheet.polygons([view.geometry], 2, GRID_TINT, None)
    if view.level != "river":
        sheet.polygons([shapely.simplify(view.geometry, tol)], 6, None, INK, 1.6 * s)
    _child_labels(sheet, view, extent, mpp, labels)
    return classes


def _child_labels(sheet: Sheet, view: View, extent: Extent, mpp: float, labels: Labels) -> None:
    """Name and closure rate of each child, largest first, shrunk to fit its width."""
    children = view.children
    if not len(children):
        return
    s = sheet.s
    base = {"district": 11, "town": 8, "village": 6.5, "river": 8}.get(view.level, 7) * s
    geoms = children.geometry.values
    names, rates = children["name"].to_numpy(), children["closed_rate"].to_numpy()
    for i in np.argsort(-shapely.area(geoms)):
        geom, name, rate = geoms[i], names[i], rates[i]
        if geom.is_empty:
            continue
        text = f"{name}\n{'无案件' if pd.isna(rate) else f'{rate:.1%}'}"
        part = max(shapely.get_parts(geom), key=lambda g: g.area)
        p = label_point(part, mpp * 2)
        bx0, _by0, bx1, _by1 = part.bounds
        width_pt = (bx1 - bx0) / mpp
        size = base
        while size > base * 0.45 and em_width(str(name)) * size > width_pt * 0.95:
            size *= 0.85
        labels.place(sheet, p.x, p.y, text, size, extent, mpp, color=INK, zorder=12,
                     min_size=4.2 * s, halo=True, linespacing=1.05)


def draw_rivers(sheet: Sheet, view: View, extent: Extent, mpp: float, labels: Labels) -> None:
    """Main stems, tributaries and (on a river poster) the river itself, with names along them."""
    ax, s = sheet.map_ax, sheet.s
    rivers, ids, kinds, names = sheet.ctx.rivers
    x0, y0, x1, y1 = extent
    rows = rivers.sindex.query(shapely.box(*extent), predicate="intersects")
    if not len(rows):
        return
    geoms = shapely.simplify(shapely.clip_by_rect(rivers.values[rows], x0, y0, x1, y1),
                             mpp * 0.3)
    main = kinds[rows] == "main"
    focus = (ids[rows] == view.unit_id) if view.level == "river" else np.zeros(len(rows), bool)
    widths = np.where(main, 2.6, 1.1) * s * (1.0 if view.level == "district" else 1.25)
    # the river a poster is about goes above its cases (below the overdue dots only)
    for mask, color, z in ((~main & ~focus, RIVER_TRIB, 4), (main & ~focus, RIVER_MAIN, 4.5),
                           (focus, RIVER_FOCUS, Z_CASES["focus_river"])):
        segs, lws = [], []
        for geom, lw in zip(geoms[mask], widths[mask], strict=True):
            parts = line_parts([geom])
            segs += parts
            lws += [lw * (1.8 if color == RIVER_FOCUS else 1)] * len(parts)
        if segs:
            sheet.keep(ax.add_collection(LineCollection(
                segs, colors=color, linewidths=lws, capstyle="round", joinstyle="round",
                zorder=z), autolim=False))
    for i in np.argsort(~(main | focus)):
        geom = geoms[i]
        if geom.is_empty:
            continue
        size = (7.5 if main[i] or focus[i] else 5.8) * s
        labels.place_on_line(sheet, geom, names[rows[i]], size, extent, mpp)


def draw_cases(sheet: Sheet, view: View, extent: Extent, mpp: float,
               labels: Labels) -> dict[str, float]:
    """Every case as a dot by state, overdue loudest, recurring ringed; numbered on a grid.

    Dots are sized to the unit's case density. Returns the dot diameters
    (points) of open, overdue and closed cases, for the legend.
    """
    s, ctx = sheet.s, sheet.ctx
    n = view.case_count
    unit_area_pt = max(shapely.area(shapely.box(*view.bounds)) / mpp**2, 1.0)
    spacing = math.sqrt(unit_area_pt / max(n, 1))
    d_open = float(np.clip(0.5 * spacing, 2.4 * s, 7.5 * s))
    d_over = d_open * 1.3
    d_closed = max(d_open * 0.55, 1.0 * s)
    sizes = {"open": d_open, "overdue": d_over, "closed": d_closed}
    if not n:
        return sizes
    xy = _to_points(sheet, shapely.get_coordinates(view.case_column("geometry")), extent, mpp)
    state = view.case_column("state")
    overdue = view.case_column("overdue", bool)
    recurring = view.case_column("recurring", bool)
    color = ctx.color
    # closed cases carry a thin dark edge: the closed-share ramp is green too, so a bare
    # green dot vanishes on a well-closed unit. Grids show each case full size; on the
    # district's tens of thousands the edge would make the closed ones loud, so none there.
    closed_d = d_open * 0.8 if view.level == "grid" else d_closed
    closed_edge = {"grid": 0.3, "district": 0.0}.get(view.level, 0.15) * s
    layers = [(state == "closed", color["closed"], closed_d,
               0.95 if view.level == "grid" else 0.7, "#2b5b2b", closed_edge, Z_CASES["closed"])]
    for z, st in enumerate(("reported", "assigned", "rectifying")):
        layers.append(((state == st) & ~overdue, color[st], d_open, 0.95, "white",
                       0.25 * s, Z_CASES["open"] + z * 0.1))
    layers.append((overdue, color["overdue"], d_over, 1.0, "#5a0000", 0.35 * s,
                   Z_CASES["overdue"]))
    for mask, fc, d, alpha, ec, lw, z in layers:
        if mask.any():
            # two arcs suffice for a dot this small (1.8 % of ~1 pt); fewer bytes to write
            path = dots(xy[mask], d / 2, dedupe=d / 4, arcs=2 if d < 2.5 * s else 3)
            _dot_layer(sheet, path, to_rgba(fc, alpha), to_rgba(ec), lw, z)
    if recurring.any():   # a thin grey ring under the overdue dots: overdue stays the loudest
        _dot_layer(sheet, dots(xy[recurring], d_open * 0.85, ring=RING_INNER,
                               dedupe=d_open / 4), RECURRING, None, 0.0, Z_CASES["recurring"])
    if view.level == "grid":
        # number the open cases (all of them when few), overdue first; the table lists all
        order = np.lexsort((state == "closed", ~overdue))
        if n > 10:   # every glyph costs ~0.1 ms in PDF text shaping: skip closed ones
            order = order[state[order] != "closed"]
        data_xy, ids = shapely.get_coordinates(view.case_column("geometry")), view.case_column("index")
        for i in order[:60]:
            labels.place(sheet, data_xy[i, 0] + d_open * mpp * 0.7, data_xy[i, 1],
                         str(ids[i]), 4.6 * s, extent, mpp, zorder=13, ha="left",
                         halo=False, color=ctx.color["overdue"] if overdue[i] else INK)
    return sizes


def _dot_layer(sheet: Sheet, path, fill, edge, linewidth: float, zorder: float) -> None:
    """One compound path of dots (page points) on the map, as a :class:`ShapeBatch`.

    A PathCollection would measure the curved path's extents in Python
    first (seconds for the district's tens of thousands of circles); the
    batch writes it straight into the PDF.
    """
    batch = ShapeBatch(sheet.points, zorder)
    batch.set_clip_on(False)
    batch.add(path, fill, edge, linewidth)
    sheet.keep(sheet.map_ax.add_artist(batch))


def _to_points(sheet: Sheet, xy: np.ndarray, extent: Extent, mpp: float) -> np.ndarray:
    """Map coordinates → page points (see ``sheet.points``)."""
    x0, y0 = sheet.lay.map[:2]
    return np.c_[(xy[:, 0] - extent[0]) / mpp + x0, (xy[:, 1] - extent[1]) / mpp + y0]


def draw_context(sheet: Sheet, extent: Extent, mpp: float, labels: Labels) -> dict[str, int]:
    """The context points (monitoring sections, plants) on the map; returns the count per kind."""
    context = sheet.ctx.atlas.context
    if context is None or not len(context):
        return {}
    ax, s = sheet.map_ax, sheet.s
    x0, y0, x1, y1 = extent
    xy, legends = sheet.ctx.context_points
    inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    counts = {}
    for k, legend in enumerate(sheet.ctx.context_kinds):
        mask = inside & (legends == legend)
        counts[legend] = int(mask.sum())
        if not mask.any():
            continue
        marker, color = context_symbol(k)
        sheet.keep(ax.scatter(xy[mask, 0], xy[mask, 1], s=(6.5 * s) ** 2, marker=marker,
                              c=color, edgecolors="white", linewidths=0.6 * s, zorder=10))
        for i in np.flatnonzero(mask):
            text = context_label(context.iloc[i])
            labels.place(sheet, xy[i, 0] + 5 * s * mpp, xy[i, 1], text, 5.2 * s, extent, mpp,
                         color=color, zorder=13, ha="left", halo=True)
    return counts


def draw_scale_bar(sheet: Sheet, extent: Extent, mpp: float) -> None:
    """A four-part scale bar about a fifth of the map wide, with the 1:N scale."""
    s, (mx, my, _mw, _mh) = sheet.s, sheet.lay.map
    length = _nice((extent[2] - extent[0]) * 0.18)
    bar_pt = length / mpp
    x, y = mx + 12 * s, my + 12 * s
    h = 3.2 * s
    boxes = [(x - 5 * s, y - 5 * s, bar_pt + 48 * s, h + 19 * s)]
    boxes += [(x + k * bar_pt / 4, y, bar_pt / 4, h) for k in range(4)]
    sheet.rects(boxes, [to_rgba("white", 0.85), INK, "white", INK, "white"],
                edgecolors=["none", INK, INK, INK, INK], linewidths=0.5 * s, zorder=19)
    unit, div = ("km", 1000) if length >= 1000 else ("m", 1)
    sheet.text(x, y + h + 2 * s, "0", 5.6 * s, ha="center", va="bottom", zorder=20)
    sheet.text(x + bar_pt / 2, y + h + 2 * s, f"{length / 2 / div:g}", 5.6 * s, ha="center",
               va="bottom", zorder=20)
    sheet.text(x + bar_pt, y + h + 2 * s, f"{length / div:g} {unit}   "
               f"1:{_nice_ratio(mpp / (25.4 / 72 / 1000)):,}", 5.6 * s, ha="left",
               va="bottom", zorder=20)


def _nice(value: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ not above ``value``."""
    exp = 10 ** math.floor(math.log10(max(value, 1e-9)))
    for step in (5, 2, 1):
        if step * exp <= value:
            return step * exp
    return exp


def _nice_ratio(value: float) -> int:
    """A map scale rounded to two significant digits (1:12,345 → 1:12,000)."""
    exp = 10 ** max(math.floor(math.log10(max(value, 1))) - 1, 0)
    return int(round(value / exp) * exp)


def draw_locator_base(sheet: Sheet) -> tuple[float, float, float, float]:
    """The locator inset's fixed content: neighbours, towns, the district, main stems.

    Drawn once per sheet. Returns the locator's extent (x0, x1, y0, y1).
    """
    ctx, ax, s = sheet.ctx, sheet.loc_ax, sheet.s
    district = ctx.district.geometry.values[0]
    x0, y0, x1, y1 = district.bounds
    neighbours = ctx.neighbours
    fit_limits(ax, sheet.lay.locator, (x0, y0, x1, y1), 0.3 if neighbours is not None else 0.06)
    loc_extent = (*ax.get_xlim(), *ax.get_ylim())
    tol = (x1 - x0) / 400
    if neighbours is not None:
        ex0, ex1, ey0, ey1 = loc_extent
        clipped = shapely.clip_by_rect(neighbours.geometry.values, ex0, ey0, ex1, ey1)
        ax.add_collection(PathCollection(
            polygon_paths(shapely.simplify(clipped, tol)), facecolors="#efefef",
            edgecolors="#bdbdbd", linewidths=0.5 * s), autolim=False)
        for name, geom in zip(neighbours["name"], clipped, strict=True):
            if not geom.is_empty and geom.area > 0.01 * (ex1 - ex0) * (ey1 - ey0):
                p = geom.representative_point()
                sheet.text(p.x, p.y, str(name), 5.2 * s, ax=ax, ha="center", va="center",
                           color=GREY)
    fill, borders = _town_borders(ctx.atlas.units["town"].geometry.values, district, tol)
    ax.add_collection(PathCollection(polygon_paths([fill]), facecolors="white",
                                     edgecolors="none"), autolim=False)
    ax.add_collection(LineCollection(line_parts([borders]), colors="#bbbbbb",
                                     linewidths=0.3 * s), autolim=False)
    ax.add_collection(PathCollection(
        polygon_paths([shapely.simplify(district, tol)]), facecolors="none",
        edgecolors=INK, linewidths=0.8 * s), autolim=False)
    mains = ctx.atlas.rivers[ctx.atlas.rivers["kind"] == "main"].geometry.values
    ax.add_collection(LineCollection(line_parts(shapely.simplify(mains, tol)),
                                     colors=RIVER_MAIN, linewidths=0.6 * s), autolim=False)
    sheet.text(0.03, 0.97, "位置示意", 5.5 * s, ax=ax, transform=ax.transAxes, va="top",
               color=GREY)
    return loc_extent


def _town_borders(towns, district, tol: float):
    """(the towns' area, their borders) on the locator, simplified by ``tol`` (map units).

    A border two towns share is one line, simplified once (each town on its
    own drew it twice, not always the same way), and what runs within
    ``tol`` of the district's border is left to the district's outline,
    drawn over it 0.8 pt wide: the sample's locator, 1,387 → 1,040 points.
    """
    network = shapely.line_merge(shapely.union_all(shapely.boundary(towns)))
    inner = shapely.difference(network, shapely.buffer(shapely.boundary(district), tol))
    return (shapely.simplify(shapely.union_all(towns), tol),
            shapely.simplify(shapely.line_merge(inner), tol))


def highlight_locator(sheet: Sheet, view: View) -> None:
    """The unit in red on the locator inset; a speck at district scale gets a ring."""
    ax, s = sheet.loc_ax, sheet.s
    if view.level == "river":
        sheet.keep(ax.add_collection(LineCollection(
            line_parts([view.geometry]), colors=SAMPLE_RED, linewidths=1.6 * s, zorder=5),
            autolim=False))
        return
    geom = view.geometry
    ex0, ex1, _ey0, _ey1 = sheet.loc_extent
    x0, y0, x1, y1 = geom.bounds
    # one ShapeBatch of the locator, not a collection (and a scatter) per poster
    batch = sheet.shapes(5, ax=ax)
    red = to_rgba(SAMPLE_RED)
    [path] = polygon_paths([geom])
    batch.add(path, fill=to_rgba(SAMPLE_RED, 0.45), edge=red, linewidth=0.8 * s)
    if max(x1 - x0, y1 - y0) < (ex1 - ex0) / 40:
        radius = 4.5 * s * (ex1 - ex0) / sheet.lay.locator[2]   # 9 pt across, in map units
        batch.add(_CIRCLE.transformed(Affine2D().scale(radius).translate(
            (x0 + x1) / 2, (y0 + y1) / 2)), edge=red, linewidth=1.2 * s)

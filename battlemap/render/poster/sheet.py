"""The sheet: one reusable poster figure per paper size and orientation, and its drawing primitives.

A series of posters of one paper and orientation reuses one
:class:`matplotlib.figure.Figure`. The frame (title band, footer, sample
mark, north arrow, locator base) is drawn once and written once as two PDF
layers, under and over each unit's drawing; :meth:`Sheet.draw` adds the
artists of one unit (map layers from :mod:`.layers`, the side panel from
:mod:`.panels`), :meth:`Sheet.clear` removes them again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.patheffects import withStroke
from matplotlib.transforms import Affine2D

from battlemap import __version__
from battlemap._io import atomic_path
from battlemap.render.fonts import check_text, clip_to_width, em_width
from battlemap.render.pdf import ShapeBatch, TextBatch, make_layer, save_pdf
from battlemap.render.poster import layers, panels
from battlemap.render.poster.labels import Labels
from battlemap.render.poster.layout import fit_limits, layout
from battlemap.render.poster.paths import RECT, polygon_paths
from battlemap.render.poster.style import GREY, INK, LIGHT, SAMPLE_RED, is_none
from battlemap.render.poster.view import Context, View

_BATCHABLE = frozenset({"color", "ha", "va", "multialignment", "linespacing", "zorder",
                        "rotation", "rotation_mode", "halo"})
"""Keyword arguments of :meth:`Sheet.text` that a :class:`TextBatch` handles."""

_CHECKED_MAX = 20_000
"""Texts a sheet remembers as checked at most (then it starts afresh)."""


class Sheet:
    """One reusable poster figure for a paper size and orientation.

    Attributes in page points: ``lay`` (the :class:`~.layout.Layout`), ``s``
    (text scale, 1 on A4); ``map_ax`` and ``loc_ax`` are in map units,
    ``page_ax`` in points; ``loc_extent`` is the locator's (x0, x1, y0, y1).
    """

    def __init__(self, ctx: Context, paper: str, orientation: str) -> None:
        self.ctx, self.paper, self.orientation = ctx, paper, orientation
        self.lay = lay = layout(paper, orientation)
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
        self._checked: dict[str, str] = {}
        self._over: list[matplotlib.artist.Artist] = []   # static, but above the map
        self._static = True
        self._draw_frame()
        self.loc_extent = layers.draw_locator_base(self)
        self._static = False
        self.layers = self._make_layers()
        self._batches: dict[tuple[int, float], TextBatch] = {}
        self._shapes: dict[tuple[int, float, bool], ShapeBatch] = {}

    def _make_layers(self) -> tuple:
        """The static artists as two PDF layers, under and over each unit's drawing.

        Written once per sheet and stamped on every page as bytes (see
        :class:`~battlemap.render.pdf.Layer`); the artists are then removed (the
        axes' backgrounds and spines hidden).
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
        for artist in static:   # hidden, yet each cost a draw call on every page (~2 ms)
            artist.remove()
        for ax in axes:         # nor are hidden spines, patch and axis drawn (~0.5 ms a page)
            ax.set_axis_off()
        return lower, upper

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

    # drawing primitives --------------------------------------------------------------
    def keep(self, artist):
        """Record ``artist`` as one unit's (removed by :meth:`clear`) unless the frame is drawn."""
        if not self._static:
            self.dynamic.append(artist)
        return artist

    def text(self, x: float, y: float, s: str, size: float, ax=None, **kw):
        """Text at (x, y) in page points (or ``ax`` data), glyph-checked.

        ``halo`` (points) strokes the glyphs white around, as
        ``withStroke(linewidth=halo)``. Text of a unit (no box, own transform
        or other effects; turned, if at all, about its anchor) goes into one
        :class:`TextBatch` per axes and z-order and returns None.
        """
        ax = ax or self.page_ax
        s = self._drawable(s)
        kw.setdefault("color", INK)
        if (not self._static and kw.keys() <= _BATCHABLE and ax is not self.loc_ax
                and (not kw.get("rotation") or kw.get("rotation_mode") == "anchor")):
            kw.pop("rotation_mode", None)
            zorder = kw.pop("zorder", 3)
            key = (id(ax), zorder)
            batch = self._batches.get(key)
            if batch is None:
                batch = self._batches[key] = TextBatch(self.ctx.font.path, ax.transData, zorder)
                ax.add_artist(batch)
                batch.set_clip_on(False)           # as ax.text: labels are placed inside
            batch.add(x, y, s, size, **kw)
            return None
        halo = kw.pop("halo", None)
        if halo is not None:
            kw["path_effects"] = [withStroke(linewidth=halo, foreground="white")]
        return self.keep(ax.text(x, y, s, fontsize=size, parse_math=False, **kw))

    def _drawable(self, s: str) -> str:
        """``check_text(s, font)``, remembered: most texts recur on every poster of a series."""
        found = self._checked.get(s)
        if found is None:
            if len(self._checked) >= _CHECKED_MAX:
                self._checked.clear()
            found = self._checked[s] = check_text(s, self.ctx.font)
        return found

    def column(self, x, top, values, size, row_h, ha="left", **kw):
        """One text per column: ``values`` one per row, rows ``row_h`` points apart."""
        if not values:
            return None
        spacing = row_h / (size * self.ctx.font.line_height)
        return self.text(x, top, "\n".join(values), size, ha=ha, va="top",
                         multialignment=ha, linespacing=spacing, **kw)

    def rect(self, x, y, w, h, ax=None, **kw):
        """One rectangle patch (page points unless ``ax``)."""
        ax = ax or self.page_ax
        kw.setdefault("linewidth", 0)
        return self.keep(ax.add_patch(Rectangle((x, y), w, h, **kw)))

    def rects(self, boxes, colors, edgecolors=None, linewidths=0.0, zorder=1) -> None:
        """Rectangles (x, y, w, h) on the page, in the page's :class:`ShapeBatch`."""
        batch = self.shapes(zorder)
        n = len(boxes)
        edges = edgecolors if isinstance(edgecolors, list) else [edgecolors] * n
        widths = linewidths if isinstance(linewidths, list) else [linewidths] * n
        colors = colors if isinstance(colors, list) else [colors] * n
        for (x, y, w, h), face, edge, lw in zip(boxes, colors, edges, widths, strict=True):
            path = MplPath([(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)], RECT)
            batch.add(path, None if is_none(face) else to_rgba(face),
                      None if is_none(edge) else to_rgba(edge), lw)

    def shapes(self, zorder: float = 1, ax=None, clip: bool = False) -> ShapeBatch:
        """The :class:`ShapeBatch` of ``ax`` (the page) at ``zorder``, paths in its data units.

        ``clip``: drawn inside the axes' box only (as a collection added to it).
        """
        ax = ax or self.page_ax
        key = (id(ax), zorder, clip)
        batch = self._shapes.get(key)
        if batch is None:
            batch = self._shapes[key] = ShapeBatch(ax.transData, zorder)
            ax.add_artist(batch)
            batch.set_clip_on(clip)
        return batch

    def polygons(self, geoms, zorder: float, faces, edge, linewidth: float = 0.0) -> None:
        """(Multi)polygons on the map, holes included, clipped to it: one fill (or a list) and edge."""
        batch = self.shapes(zorder, ax=self.map_ax, clip=True)
        paths = polygon_paths(geoms)
        faces = faces if isinstance(faces, list) else [faces] * len(paths)
        edge = None if is_none(edge) else to_rgba(edge)
        for path, face in zip(paths, faces, strict=True):
            batch.add(path, None if is_none(face) else to_rgba(face), edge, linewidth)

    def markers(self, xs, ys, areas, marker, faces, edges, linewidth, zorder=6) -> None:
        """Scatter-like marks on the page: ``areas`` in pt² as ``Axes.scatter``'s ``s``."""
        batch = self.shapes(zorder)
        style = MarkerStyle(marker)
        unit = style.get_path().transformed(style.get_transform())
        for x, y, area, face, edge in zip(xs, ys, areas, faces, edges, strict=True):
            path = unit.transformed(Affine2D().scale(math.sqrt(area)).translate(x, y))
            batch.add(path, None if is_none(face) else to_rgba(face),
                      None if is_none(edge) else to_rgba(edge), linewidth)

    def clear(self) -> None:
        """Remove everything one unit drew; the frame stays."""
        for artist in self.dynamic:
            artist.remove()
        self.dynamic.clear()
        for batch in (*self._batches.values(), *self._shapes.values()):
            batch.clear()

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
        s = self.s
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

    # one unit ------------------------------------------------------------------------
    def save(self, view: View, path: Path, pdf=None) -> Path:
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

    def title(self, view: View) -> str:
        """The poster's title, also its PDF title."""
        return f"{view.name} 河长制挂图作战 作战图"

    def draw(self, view: View) -> None:
        """Draw one unit: header, map layers bottom to top, then the side panel."""
        pad = 0.09 if view.level == "district" else 0.05
        extent = fit_limits(self.map_ax, self.lay.map, view.bounds, pad)
        self._draw_header(view)
        mpp = (extent[2] - extent[0]) / self.lay.map[2]        # metres per point
        labels = Labels()
        layers.draw_background(self, view, extent, mpp, labels)
        ramp = layers.draw_units(self, view, extent, mpp, labels)
        layers.draw_rivers(self, view, extent, mpp, labels)
        sizes = layers.draw_cases(self, view, extent, mpp, labels)
        context_counts = layers.draw_context(self, extent, mpp, labels)
        layers.draw_scale_bar(self, extent, mpp)
        layers.highlight_locator(self, view)
        panels.draw_panel(self, view, sizes, context_counts, ramp)

    def _draw_header(self, view: View) -> None:
        s, (hx, hy, hw, hh) = self.s, self.lay.header
        atlas = self.ctx.atlas
        title_size = min(30 * s, hh * 0.45, (hw * 0.78) / max(em_width(self.title(view)), 1))
        self.text(hx, hy + hh * 0.52, self.title(view), title_size, va="bottom")
        level = ("流域（河涌）" if view.level == "river"
                 else self.ctx.style.level_labels.get(view.level, view.level))
        crumbs = " › ".join([*view.crumbs, view.name])
        dates = view.case_column("reported_at", "datetime64[D]")
        dates = dates[~np.isnat(dates)]
        span = (f"{dates.min()} 至 {dates.max()}" if len(dates) else "无案件")
        chief = view.chief or "—"
        line = (f"{level}级 · {crumbs}    截至 {atlas.as_of.isoformat()}    "
                f"数据范围 {span}    河长：{chief}")
        sub = min(10 * s, (hw * 0.8) / max(em_width(line), 1))
        self.text(hx, hy + hh * 0.28, line, sub, va="center", color="#333333")

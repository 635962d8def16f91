"""Batch artists: many plain texts, or many shapes, drawn as one matplotlib artist.

A ``Text`` artist costs a few tenths of a millisecond to create, lay out
and draw, a collection about half a millisecond; a poster has hundreds of
labels and rectangles. Here an item is a tuple. With the fast PDF path
(:mod:`._mpl`) the batch writes straight into the page; with any other
renderer it draws through matplotlib's public API (``Text`` artists and
``renderer.draw_path``), which is also the reference the fast path is
compared against in the tests.
"""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.artist import Artist
from matplotlib.colors import to_rgba
from matplotlib.font_manager import FontProperties
from matplotlib.patheffects import Stroke
from matplotlib.text import Text

from battlemap.render.pdf import _mpl
from battlemap.render.pdf._metrics import Metrics, metrics

__all__ = ["ShapeBatch", "TextBatch"]


class TextBatch(Artist):
    """Many plain texts in one font, laid out as :class:`matplotlib.text.Text` would, drawn at once.

    No box; the one effect is a white halo (``withStroke``); a rotation
    turns a text about its anchor (``rotation_mode="anchor"``). Positions
    are in the artist's transform; horizontal (left, center, right) and
    vertical (top, center, bottom, baseline) alignment, multi-line alignment
    and line spacing follow ``Text``: on the fast path by the same arithmetic
    as matplotlib 3.11's ``Text._get_layout`` for one font, elsewhere by
    ``Text`` itself. A halo is the glyph outlines stroked under the text,
    which stays text on both paths (matplotlib draws a text with a path
    effect as outlines, which ``pdftotext`` cannot read); on the fast path
    in the composite font the halo is that text again, stroked (``1 Tr``).

    Parameters
    ----------
    font_path
        The one font of every text.
    transform
        Positions → display (``ax.transData`` for data units).
    zorder
        Drawing order among the axes' artists.
    """

    def __init__(self, font_path: Path, transform, zorder: float) -> None:
        super().__init__()
        self.font_path = str(font_path)
        self.set_transform(transform)
        self.set_zorder(zorder)
        self.items: list[tuple] = []
        self._props: dict[float, FontProperties] = {}

    def add(self, x: float, y: float, text: str, size: float, color="black", ha="left",
            va="baseline", multialignment=None, linespacing=None, rotation: float = 0.0,
            halo: float | None = None) -> None:
        """A text at (x, y), ``size`` in points; the other arguments as for ``Axes.text``.

        ``rotation`` in degrees about the anchor; ``halo`` the width (points)
        of a white stroke around the glyphs, as ``withStroke(linewidth=halo)``.
        """
        self.items.append((x, y, text, size, color, ha, va, multialignment or ha, linespacing,
                           float(rotation or 0.0), halo))
        self.stale = True

    def clear(self) -> None:
        """Forget every text."""
        self.items.clear()
        self.stale = True

    def _prop(self, size: float) -> FontProperties:
        prop = self._props.get(size)
        if prop is None:
            prop = self._props[size] = FontProperties(fname=self.font_path, size=size)
        return prop

    def draw(self, renderer) -> None:
        if not self.get_visible() or not self.items:
            return
        if _mpl.fast_renderer(renderer) is not None:
            self._draw_fast(renderer)
        else:
            self._draw_public(renderer)
        self.stale = False

    def _draw_public(self, renderer) -> None:
        for x, y, text, size, color, ha, va, malign, spacing, angle, halo in self.items:
            extra = {} if spacing is None else {"linespacing": spacing}
            if angle:
                extra.update(rotation=angle, rotation_mode="anchor")
            # a halo: the outlines stroked (withStroke's first half), then the text as text
            for effects in ([[Stroke(linewidth=halo, foreground="white")]] if halo else []) + [[]]:
                artist = Text(x, y, text, color=color, fontproperties=self._prop(size), ha=ha,
                              va=va, multialignment=malign, parse_math=False,
                              path_effects=effects, **extra)
                artist.set_figure(self.figure)
                artist.set_transform(self.get_transform())
                artist.set_clip_on(False)
                artist.draw(renderer)

    def _draw_fast(self, renderer) -> None:
        base = _mpl.fast_renderer(renderer)
        m = metrics(self.font_path)
        runs = [] if base.metrics is m else None    # else the page's text is in another font
        xy = self.get_transform().transform([(x, y) for x, y, *_ in self.items])
        colors: dict = {}
        for (px, py), item in zip(xy, self.items, strict=True):
            if runs is None:
                break
            _x, _y, text, size, color, ha, va, malign, spacing, angle, halo = item
            key = (m.path, text, size, va, spacing)
            laid = _LAID.get(key)
            if laid is None:
                if len(_LAID) >= _LAID_MAX:
                    _LAID.clear()
                laid = _LAID[key] = _layout(m, text, size, va, spacing)
            placed, width, oy = laid
            ox = 0.0 if ha == "left" else width if ha == "right" else width / 2
            rgba = colors.get(color)
            if rgba is None:
                rgba = colors[color] = to_rgba(color)
            cos, sin = (math.cos(math.radians(angle)), math.sin(math.radians(angle))) if angle \
                else (1.0, 0.0)
            for line, w, ly, glyphs in placed:
                if glyphs is None and line:   # a character not in the font: matplotlib draws
                    runs = None
                    break
                if not line.strip():
                    continue
                dx = (0.0 if malign == "left" else width - w if malign == "right" else
                      (width - w) / 2) - ox
                dy = ly - oy
                if angle:                   # the offsets turn with the text, about its anchor
                    dx, dy = cos * dx - sin * dy, sin * dx + cos * dy
                runs.append((px + dx, py + dy, line, glyphs, size, rgba, angle, halo))
        if runs is None:
            self._draw_public(renderer)
            return
        gc = renderer.new_gc()
        try:
            _mpl.draw_texts(base, gc, runs)
        finally:
            gc.restore()


_LAID: dict[tuple, tuple] = {}
"""(font path, text, size, va, spacing) → :func:`_layout`'s answer, per process: headings,
legend and table columns recur on every poster of a series (read-only once made)."""

_LAID_MAX = 50_000
"""Layouts kept at most; then the table starts afresh."""


def _layout(m: Metrics, text: str, size: float, va: str, spacing):
    """([(line, width, y of its baseline, glyphs)], box width, y offset for ``va``), as ``Text``.

    The arithmetic of ``Text._get_layout`` (matplotlib 3.11) for a font with
    OS/2 metrics, unrotated: each line is at least the font's ascent and
    descent high, plus half the line gap above and below when there are
    several lines ("normal" spacing), or ``spacing`` × (ascent + descent).
    A line is measured from the table as the fast renderer measures it
    (``glyphs`` its (index, advance) per character; None when the font lacks
    one of them, and the caller lets matplotlib draw).
    """
    lines = text.split("\n")
    min_a, min_d = m.ascent * size, m.descent * size
    gap = m.line_gap * size if len(lines) > 1 else 0.0
    placed, thisy, d = [], 0.0, 0.0
    for line in lines:
        glyphs = m.advances(line) if line else None
        if glyphs is not None:          # as _Renderer.get_text_width_height_descent
            w, h, d = (sum(a for _, a in glyphs) * size, (m.ascent + m.descent) * size,
                       m.descent * size)
        else:
            w = h = d = 0.0
        a = h - d
        if spacing is None or spacing == "normal":
            a, d = max(a, min_a) + gap / 2, max(d, min_d) + gap / 2
        else:
            leading = spacing * (min_a + min_d) - (a + d)
            a, d = a + leading / 2, d + leading / 2
        thisy -= a
        placed.append((line, w, thisy, glyphs))
        thisy -= d
    width = max(w for _, w, _, _ in placed)
    ymin = placed[-1][2] - d
    oy = (ymin if va == "bottom" else 0.0 if va == "top" else ymin / 2 if va == "center"
          else ymin + d)
    return placed, width, oy


class ShapeBatch(Artist):
    """Many filled and/or stroked paths (in the artist's transform) drawn at once.

    With the fast PDF path, the paths go straight into the content stream
    inside one ``q … Q`` (colours, width, alpha set per shape as needed);
    otherwise each is drawn with ``renderer.draw_path``. A rectangle here
    costs a few microseconds. Clipped to its clip box (only) when clipping is on.

    Parameters
    ----------
    transform
        Path coordinates → display.
    zorder
        Drawing order among the axes' artists.
    """

    def __init__(self, transform, zorder: float) -> None:
        super().__init__()
        self.set_transform(transform)
        self.set_zorder(zorder)
        self.items: list[tuple] = []

    def add(self, path, fill=None, edge=None, linewidth: float = 0.0, capstyle: str = "butt"):
        """``fill``/``edge`` RGBA tuples or None; no edge when ``linewidth`` is 0."""
        if edge is not None and (linewidth <= 0 or edge[3] == 0):
            edge = None
        if fill is not None and fill[3] == 0:
            fill = None
        if fill is not None or edge is not None:
            self.items.append((path, fill, edge, linewidth, capstyle))
            self.stale = True

    def clear(self) -> None:
        """Forget every shape."""
        self.items.clear()
        self.stale = True

    def draw(self, renderer) -> None:
        if not self.get_visible() or not self.items:
            return
        trans = self.get_transform()
        base = _mpl.fast_renderer(renderer)
        clipbox = self.get_clip_box() if self.get_clip_on() else None
        if base is not None:
            _mpl.draw_shapes(base, self.items, trans, clipbox)
        else:
            gc = renderer.new_gc()
            if clipbox is not None:
                gc.set_clip_rectangle(clipbox)
            try:
                for path, fill, edge, lw, cap in self.items:
                    gc.set_capstyle(cap)
                    gc.set_linewidth(lw if edge is not None else 0)
                    gc.set_foreground(edge if edge is not None else (0, 0, 0, 0),
                                      isRGBA=True)
                    gc.set_alpha(None)
                    renderer.draw_path(gc, path, trans, fill)
            finally:
                gc.restore()
        self.stale = False

"""Label placement on the map: greedy, first come first placed, never overlapping.

Labels are placed in the order the layers draw them (neighbours, child
units by size, rivers, case numbers, context points); one that would
overlap a placed label or leave the map is shrunk, then skipped.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import shapely
from shapely.errors import ShapelyError
from shapely.ops import polylabel

from battlemap.render.fonts import em_width
from battlemap.render.poster.style import RIVER_TEXT

if TYPE_CHECKING:
    from battlemap.render.poster.sheet import Sheet


class Labels:
    """The boxes (in map-axes points) of the labels placed so far on one poster."""

    def __init__(self) -> None:
        self.boxes: list[tuple[float, float, float, float]] = []

    def _free(self, box) -> bool:
        x0, y0, x1, y1 = box
        return all(x1 < b0 or x0 > b2 or y1 < b1 or y0 > b3 for b0, b1, b2, b3 in self.boxes)

    def place(self, sheet: Sheet, x, y, text, size, extent, mpp, *, min_size=None, halo=True,
              ha="center", zorder=12, **kw) -> bool:
        """Place ``text`` at map point (x, y), shrinking it down to ``min_size``; placed or not."""
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
                    kw["halo"] = size * 0.28
                sheet.text(x, y, text, size, ax=sheet.map_ax, ha=ha, va="center", zorder=zorder,
                           **kw)
                return True
            size *= 0.85
        return False

    def place_on_line(self, sheet: Sheet, geom, text, size, extent, mpp) -> bool:
        """Place a river's name along its longest part, turned to the line; placed or not."""
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
                       halo=size * 0.3)
            return True
        return False


def label_point(geom, tolerance: float):
    """Where a polygon's label goes: its pole of inaccessibility, well inside it.

    Anything but a Polygon (or a polygon polylabel cannot handle) gets its
    representative point.
    """
    if geom.geom_type != "Polygon":
        return geom.representative_point()
    try:
        return polylabel(geom, tolerance=max(tolerance, 1e-6))
    except ShapelyError:
        return geom.representative_point()

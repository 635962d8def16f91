"""Page layout: paper sizes, where the header, map, locator, panel and footer go, orientation.

Every box is in page points (1/72 inch), origin at the bottom left. Text
and symbols scale with the paper's short side (1 on A4), so an A0 poster
is an A4 poster enlarged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PAPER_MM: dict[str, tuple[float, float]] = {
    "A0": (841, 1189), "A1": (594, 841), "A2": (420, 594), "A3": (297, 420), "A4": (210, 297)}
"""ISO 216 paper sizes, (short, long) side in millimetres."""

PT_PER_MM = 72 / 25.4

Box = tuple[float, float, float, float]
"""(x0, y0, width, height) in points."""


@dataclass(frozen=True)
class Layout:
    """Boxes in points (x0, y0, width, height) on one paper and orientation."""

    width: float
    height: float
    scale: float                       # text and symbol scale, 1 on A4
    header: Box
    map: Box
    locator: Box
    columns: tuple[Box, ...]           # side panel columns
    footer: Box


def layout(paper: str, orientation: str) -> Layout:
    """The boxes of a poster on ``paper`` (A0–A4) in ``orientation`` (landscape or portrait).

    Landscape puts the panel in one column right of the map, under the
    locator; portrait puts three columns under the map: statistics (under
    the locator), legend, ranking.
    """
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
    return Layout(w, h, s, header, map_box, locator, columns, footer)


def orientation(bounds: Sequence[float], paper: str) -> str:
    """Landscape or portrait: whichever gives a unit of ``bounds`` the larger map scale."""
    x0, y0, x1, y1 = bounds
    uw, uh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    best, choice = -1.0, "landscape"
    for candidate in ("landscape", "portrait"):
        _, _, aw, ah = layout(paper, candidate).map
        scale = min(aw / uw, ah / uh)
        if scale > best * 1.02:
            best, choice = scale, candidate
    return choice


def fit_limits(ax, box: Box, bounds: Sequence[float], pad: float) -> tuple[float, float, float, float]:
    """Set ``ax`` limits to ``bounds`` plus ``pad``, widened to the box's aspect (equal scale).

    Returns the extent (x0, y0, x1, y1) in map units.
    """
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


@dataclass
class Cursor:
    """A column of the side panel being filled from the top."""

    x: float
    y: float
    w: float
    bottom: float

    def __init__(self, box: Box) -> None:
        self.x, self.bottom, self.w = box[0], box[1], box[2]
        self.y = box[1] + box[3]

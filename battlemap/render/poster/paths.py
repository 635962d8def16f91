"""Geometries as matplotlib paths: polygons with holes, lines, and many dots in one path.

Posters draw tens of thousands of cases; one compound path per layer goes
through matplotlib's C path writer and is far faster in PDF than one
marker per case.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import shapely
from matplotlib.path import Path as MplPath

MOVE, LINE, CLOSE = MplPath.MOVETO, MplPath.LINETO, MplPath.CLOSEPOLY
RECT = np.array([MOVE, LINE, LINE, LINE, CLOSE], dtype=np.uint8)
"""Path codes of a rectangle of five vertices."""

CURVE = MplPath.CURVE4


@cache
def circle(arcs: int) -> np.ndarray:
    """Vertices of a unit circle drawn as ``arcs`` cubic Béziers (move, 3 per arc, close).

    Three arcs are off by at most 0.15 % of the radius, two by 1.8 %: both
    look round at a dot's size, with fewer numbers than a 10-gon. Made once
    per process, read-only.
    """
    theta = 2 * np.pi / arcs
    k = 4 / 3 * np.tan(theta / 4)
    verts = [(1.0, 0.0)]
    for i in range(arcs):
        a0, a1 = i * theta, (i + 1) * theta
        verts += [(np.cos(a0) - k * np.sin(a0), np.sin(a0) + k * np.cos(a0)),
                  (np.cos(a1) + k * np.sin(a1), np.sin(a1) - k * np.cos(a1)),
                  (np.cos(a1), np.sin(a1))]
    out = np.array([*verts, verts[0]])
    out.setflags(write=False)
    return out


@cache
def circle_codes(arcs: int) -> np.ndarray:
    """The path codes of :func:`circle` (read-only)."""
    out = np.r_[[MOVE], [CURVE] * (3 * arcs), [CLOSE]].astype(np.uint8)
    out.setflags(write=False)
    return out


RING_INNER = 0.84
"""Inner radius of the recurring (反复) ring, as a share of its outer radius."""


def dots(xy: np.ndarray, radius: float, ring: float = 0.0, dedupe: float = 0.0,
         arcs: int = 3) -> MplPath:
    """Many small discs (or rings, inner radius ``ring`` × radius) as one compound path.

    Each dot is a circle of ``arcs`` Béziers (see :func:`circle`), the
    shape the legend draws. ``xy`` and ``radius`` are in page points. Vertices are rounded to
    0.01 pt (short numbers, small files); with ``dedupe``, dots closer than
    that many points to an already drawn one are dropped (they would be
    drawn on top of each other).
    """
    if dedupe > 0 and len(xy) > 1:
        xy = np.unique(np.round(xy / dedupe), axis=0) * dedupe
    unit = circle(arcs)
    shapes = [unit]
    if ring:
        shapes.append(unit * (ring, -ring))   # mirrored: the hole runs the other way
    one = np.concatenate(shapes) * radius
    codes_one = np.tile(circle_codes(arcs), len(shapes))
    verts = np.round((xy[:, None, :] + one[None, :, :]).reshape(-1, 2), 2)
    return MplPath(verts, np.tile(codes_one, len(xy)))


RING = dots(np.zeros((1, 2)), 1.0, ring=RING_INNER, arcs=4)
"""The recurring (反复) mark for the legend: the map's ring, unit radius."""


def polygon_paths(geoms) -> list[MplPath]:
    """Matplotlib paths of (multi)polygons, holes included; one path per geometry."""
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
                    c = np.full(len(xy), LINE, dtype=np.uint8)
                    c[0], c[-1] = MOVE, CLOSE
                    verts.append(xy)
                    codes.append(c)
        if verts:
            paths.append(MplPath(np.concatenate(verts), np.concatenate(codes)))
        else:
            paths.append(MplPath(np.zeros((1, 2)), [MOVE]))
    return paths


def line_parts(geoms) -> list[np.ndarray]:
    """The vertex arrays of every LineString in ``geoms`` (multi-parts and collections opened)."""
    out = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        for part in shapely.get_parts(geom):
            if part.geom_type == "LineString" and len(part.coords) > 1:
                out.append(np.asarray(part.coords))
            elif part.geom_type in ("MultiLineString", "GeometryCollection"):
                out += line_parts([part])
    return out

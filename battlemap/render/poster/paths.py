"""Geometries as matplotlib paths: polygons with holes, lines, and many dots in one path.

Posters draw tens of thousands of cases; one compound path per layer goes
through matplotlib's C path writer and is far faster in PDF than one
marker per case.
"""

from __future__ import annotations

import numpy as np
import shapely
from matplotlib.path import Path as MplPath

MOVE, LINE, CLOSE = MplPath.MOVETO, MplPath.LINETO, MplPath.CLOSEPOLY
RECT = np.array([MOVE, LINE, LINE, LINE, CLOSE], dtype=np.uint8)
"""Path codes of a rectangle of five vertices."""

_THETA = np.linspace(0, 2 * np.pi, 33)
RING = MplPath(
    np.concatenate([np.c_[np.cos(_THETA), np.sin(_THETA)],
                    np.c_[np.cos(_THETA[::-1]), np.sin(_THETA[::-1])] * 0.78]),
    np.r_[[MOVE], [LINE] * 31, [CLOSE], [MOVE], [LINE] * 31, [CLOSE]])
"""The recurring (反复) mark: a filled annulus, so it draws as one PDF marker."""


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


def dots(xy: np.ndarray, radius: float, ring: float = 0.0, sides: int = 10,
         dedupe: float = 0.0) -> MplPath:
    """Many small discs (or rings, inner radius ``ring`` × radius) as one compound path.

    ``xy`` and ``radius`` are in page points. Vertices are rounded to 0.01 pt
    (short numbers, small files); with ``dedupe``, dots closer than that many
    points to an already drawn one are dropped (they would be drawn on top
    of each other).
    """
    if dedupe > 0 and len(xy) > 1:
        xy = np.unique(np.round(xy / dedupe), axis=0) * dedupe
    theta = np.linspace(0, 2 * np.pi, sides + 1)[:-1]
    unit = np.c_[np.cos(theta), np.sin(theta)]
    shapes = [np.r_[unit, unit[:1]]]
    if ring:
        shapes.append(np.r_[unit[::-1], unit[-1:]] * ring)
    one = np.concatenate(shapes) * radius
    codes_one = np.tile(np.r_[[MOVE], [LINE] * (sides - 1), [CLOSE]], len(shapes))
    verts = np.round((xy[:, None, :] + one[None, :, :]).reshape(-1, 2), 2)
    return MplPath(verts, np.tile(codes_one, len(xy)))


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

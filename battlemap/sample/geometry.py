"""Geometry helpers of the sample: projections, random points, relaxed Voronoi partitions.

Also the clean-coverage step that nodes every boundary on the 1e-6° grid the
files are written in, so neighbours share identical vertices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint, Point, Polygon

__all__ = ["PRECISION", "PROJECTED", "TO_LL", "TO_XY", "clean_coverage", "clustered_seeds",
           "merge_faces", "partition", "polygon_parts", "project_point", "random_points_in",
           "random_stream", "relax", "to_ll", "to_xy", "voronoi_cells"]

PROJECTED = "EPSG:4526"
PRECISION = 1e-6  # degrees: the grid every output coordinate lies on

TO_XY = Transformer.from_crs("EPSG:4326", PROJECTED, always_xy=True)
TO_LL = Transformer.from_crs(PROJECTED, "EPSG:4326", always_xy=True)


# --------------------------------------------------------------------------- helpers


def random_stream(seed: int, *keys: int) -> np.random.Generator:
    """An independent, reproducible random stream for one part of the dataset."""
    return np.random.default_rng([seed, *keys])


def to_xy(geom: Any) -> Any:
    """Transform a geometry (or array of geometries) from WGS84 to the projected CRS."""
    return shapely.transform(geom, lambda c: np.column_stack(TO_XY.transform(c[:, 0], c[:, 1])))


def to_ll(geom: Any) -> Any:
    """Transform a geometry (or array of geometries) from the projected CRS to WGS84."""
    return shapely.transform(geom, lambda c: np.column_stack(TO_LL.transform(c[:, 0], c[:, 1])))


def project_point(lon: float, lat: float) -> np.ndarray:
    """Project one WGS84 position."""
    return np.array(TO_XY.transform(lon, lat))


def polygon_parts(geom: Any) -> list[Polygon]:
    """The polygon parts of any geometry (empty list for none)."""
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in polygon_parts(g)]
    return []


def random_points_in(poly: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``poly`` (rejection sampling)."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        k = max(16, int((n - have) * 1.6 * (maxx - minx) * (maxy - miny) / max(poly.area, 1.0)))
        pts = np.column_stack([rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)])
        pts = pts[shapely.contains_xy(poly, pts[:, 0], pts[:, 1])]
        out.append(pts)
        have += len(pts)
    return np.concatenate(out)[:n]


# --------------------------------------------------------------------------- partitions


def voronoi_cells(parent: Any, seeds: np.ndarray) -> list[Any]:
    """Voronoi cells of ``seeds`` clipped to ``parent``, in seed order."""
    if len(seeds) == 1:
        return [parent]
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=parent, ordered=True)
    return list(shapely.intersection(np.asarray(cells.geoms), parent))


def relax(parent: Any, seeds: np.ndarray, iterations: int) -> np.ndarray:
    """Move seeds towards their clipped cell centroids (kept inside the parent)."""
    shapely.prepare(parent)
    for _ in range(iterations):
        if len(seeds) < 2:
            break
        cents = shapely.get_coordinates(shapely.centroid(np.asarray(voronoi_cells(parent, seeds))))
        ok = shapely.contains_xy(parent, cents[:, 0], cents[:, 1])
        seeds = np.where(ok[:, None], cents, seeds)
    return seeds


def _defragment(cells: list[Any], seeds: np.ndarray) -> list[Any]:
    """Give each detached piece of a clipped cell to the neighbour it shares most border with."""
    mains: list[Any] = []
    orphans: list[Polygon] = []
    for cell, seed in zip(cells, seeds, strict=True):
        parts = polygon_parts(cell)
        if len(parts) <= 1:
            mains.append(parts[0] if parts else cell)
            continue
        pt = Point(seed)
        keep = next((p for p in parts if p.covers(pt)), max(parts, key=lambda p: p.area))
        mains.append(keep)
        orphans.extend(p for p in parts if p is not keep)
    for orphan in sorted(orphans, key=lambda p: -p.area):
        ring = orphan.buffer(0.05)
        shared = [shapely.length(shapely.intersection(ring, m.boundary)) for m in mains]
        best = int(np.argmax(shared))
        if shared[best] > 0:
            mains[best] = shapely.union(mains[best], orphan)
    return mains


def partition(parent: Any, seeds: np.ndarray, lloyd: int) -> tuple[list[Any], np.ndarray]:
    """Partition ``parent`` into relaxed Voronoi cells; returns cells and final seeds."""
    seeds = relax(parent, seeds, lloyd)
    return _defragment(voronoi_cells(parent, seeds), seeds), seeds


def clustered_seeds(parent: Any, n: int, centre: np.ndarray, rng: np.random.Generator,
                     near_share: float = 0.5) -> np.ndarray:
    """``n`` points in ``parent``: a share Gaussian around ``centre``, the rest uniform."""
    shapely.prepare(parent)
    sigma = 0.22 * np.sqrt(parent.area)
    n_near = round(n * near_share)
    near: list[np.ndarray] = []
    have, tries = 0, 0
    while have < n_near and tries < 50:
        pts = centre + rng.normal(0, sigma, (2 * n_near + 8, 2))
        pts = pts[shapely.contains_xy(parent, pts[:, 0], pts[:, 1])]
        near.append(pts)
        have += len(pts)
        tries += 1
    near_pts = np.concatenate(near)[:n_near] if near else np.empty((0, 2))
    rest = random_points_in(parent, n - len(near_pts), rng)
    return np.concatenate([near_pts, rest])


# --------------------------------------------------------------------------- clean coverage


def clean_coverage(polys_ll: list[Any]) -> list[Any]:
    """Node all boundaries on the 1e-6° grid, polygonize, and rebuild each polygon.

    Returns one geometry per input whose shared edges carry identical vertices.
    """
    arr = np.asarray(polys_ll)
    lines = shapely.union_all(shapely.boundary(arr), grid_size=PRECISION)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
    tree = shapely.STRtree(arr)
    probe = shapely.point_on_surface(faces)
    f_idx, p_idx = tree.query(probe, predicate="within")
    owner = np.full(len(faces), -1)
    counts = np.bincount(f_idx, minlength=len(faces))
    single = counts[f_idx] == 1
    owner[f_idx[single]] = p_idx[single]
    for f in np.flatnonzero(owner < 0):
        cand = tree.query(faces[f], predicate="intersects")
        if len(cand) == 0:
            cand = np.array([tree.nearest(faces[f])])
        inter = shapely.area(shapely.intersection(arr[cand], faces[f]))
        owner[f] = cand[int(np.argmax(inter))]
    return [merge_faces(faces[owner == k]) for k in range(len(arr))]


def merge_faces(faces: np.ndarray) -> Any:
    """Dissolve faces of one unit without moving any vertex."""
    if len(faces) == 1:
        return faces[0]
    return shapely.coverage_union_all(faces)


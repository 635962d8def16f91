"""Boundary levels: :func:`validate_boundaries`.

Ids (missing, repeated), geometries (empty ones refused, invalid ones
repaired with a warning), parents (an unknown parent id placed by location,
or refused) and tiling (gaps, overlaps and overhangs in m², with a WGS84
point to look at). Hard problems of every level are raised together.
"""

from __future__ import annotations

from itertools import pairwise

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from battlemap import LEVELS
from battlemap._findings import Findings
from battlemap.config import Config
from battlemap.errors import ConfigError, InputError

__all__ = ["validate_boundaries"]


def validate_boundaries(
    levels: dict[str, gpd.GeoDataFrame], config: Config, findings: Findings
) -> dict[str, gpd.GeoDataFrame]:
    """Check ids, geometries and parents; report gaps, overlaps and overhangs.

    Invalid polygons (self-intersections, bow-ties) are repaired with a
    warning naming the feature. A child whose parent id matches nothing is
    placed in the parent it overlaps most, with a warning.

    Raises
    ------
    InputError
        Listing, for every level at once, each missing or duplicate id,
        each empty or null geometry and each child with neither a known
        parent id nor a parent under it.
    """
    _require_projected(config)
    problems: list[str] = []
    checked, named = {}, {}
    for level in LEVELS:
        findings.absorb(levels[level])
        named[level] = set(levels[level]["unit_id"]) - {""}
        path = str(config.boundaries[level].path)
        frame = _check_ids(levels[level], path, problems)
        checked[level] = _repair_polygons(frame, path, findings, problems)
    for parent, child in pairwise(LEVELS):
        _check_parents(checked[parent], checked[child], named[parent],
                       str(config.boundaries[child].path), findings, problems)
    if problems:
        raise InputError("boundaries: fix these features, then run again", problems)
    tolerance = config.checks.area_tolerance_m2
    for parent, child in pairwise(LEVELS):
        _check_tiling(checked[parent], checked[child], child,
                      str(config.boundaries[child].path), tolerance, findings)
    return checked


def _require_projected(config: Config) -> None:
    try:
        crs = CRS.from_user_input(config.project.analysis_crs)
    except Exception:  # pyproj raises several types for a bad string
        raise ConfigError(f"project.analysis_crs = {config.project.analysis_crs!r} is not a "
                          "coordinate reference system battlemap knows; use a projected EPSG "
                          "code in metres, e.g. \"EPSG:4526\"") from None
    if not crs.is_projected:
        raise ConfigError(f"project.analysis_crs = {config.project.analysis_crs!r} is not "
                          "projected; areas and distances need metres, e.g. \"EPSG:4526\"")


def _check_ids(frame: gpd.GeoDataFrame, path: str, problems: list[str]) -> gpd.GeoDataFrame:
    missing = frame["unit_id"] == ""
    problems.extend(f"{path}: feature {n} ({name or 'no name'}): id is empty; fill the id field"
                    for n, name in zip(frame.loc[missing, "feature"], frame.loc[missing, "name"],
                                       strict=True))
    repeated = frame["unit_id"].duplicated(keep=False) & ~missing
    for unit_id, group in frame[repeated].groupby("unit_id"):
        problems.append(f"{path}: id {unit_id} is used by features {group['feature'].tolist()} "
                        f"({', '.join(group['name'].astype(str))}); ids must be unique")
    frame = frame[~missing].drop_duplicates("unit_id")
    return frame.set_index("unit_id")


def _repair_polygons(frame: gpd.GeoDataFrame, path: str, findings: Findings,
                     problems: list[str]) -> gpd.GeoDataFrame:
    empty = (frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    problems.extend(f"{path}: {unit_id} {name} (feature {n}): empty or null geometry; draw its "
                    "boundary or remove the feature"
                    for unit_id, name, n in zip(frame.index[empty], frame["name"][empty],
                                                frame["feature"][empty], strict=True))
    frame = frame[~empty].copy()
    invalid = ~frame.geometry.is_valid.to_numpy()
    if not invalid.any():
        return frame
    reasons = shapely.is_valid_reason(frame.geometry.values[invalid])
    repaired = _polygonal(shapely.make_valid(frame.geometry.values[invalid]))
    hulls = shapely.area(shapely.convex_hull(frame.geometry.values[invalid]))
    for unit_id, reason, geom, hull in zip(frame.index[invalid], reasons, repaired, hulls,
                                           strict=True):
        if geom is None or geom.is_empty:
            problems.append(f"{path}: {unit_id} {frame.at[unit_id, 'name']}: invalid polygon "
                            f"({reason}) with no area left after repair; redraw it")
            continue
        kept = float(shapely.area(geom))
        findings.warn("geometry_repaired", f"{unit_id} {frame.at[unit_id, 'name']} (feature "
                      f"{frame.at[unit_id, 'feature']}): invalid polygon ({reason}) repaired; "
                      f"kept {kept:,.0f} of {hull:,.0f} m² ({_percent(kept, hull)}, measured "
                      "against its outline's convex hull); check its outline", file=path,
                      feature=unit_id)
    frame.loc[invalid, "geometry"] = repaired
    return frame


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole > 0 else "n/a"


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep the polygon parts of what make_valid returns (it may add lines)."""
    out = []
    for geom in geoms:
        if geom.geom_type == "GeometryCollection":
            parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
            geom = shapely.union_all(parts) if parts else shapely.Polygon()
        out.append(geom)
    return np.asarray(out, dtype=object)


def _check_parents(parents: gpd.GeoDataFrame, children: gpd.GeoDataFrame, named: set[str],
                   path: str, findings: Findings, problems: list[str]) -> None:
    """A parent id that matches nothing: place the child by location, or refuse it.

    A parent id that names a unit already reported (empty geometry, repeated
    id) is not reported again.
    """
    orphans = ~children["parent_id"].isin(named)
    if not orphans.any():
        return
    located = _largest_overlap(children[orphans], parents)
    for unit_id, parent_id in located.items():
        name, given = children.at[unit_id, "name"], children.at[unit_id, "parent_id"]
        if parent_id == "":
            problems.append(f"{path}: {unit_id} {name}: parent id {given!r} does not exist and "
                            "no parent unit lies under it; fix the parent field")
            continue
        findings.warn("unknown_parent", f"{unit_id} {name}: parent id {given!r} does not exist; "
                      f"placed in {parent_id} {parents.at[parent_id, 'name']} by location; fix "
                      "the parent field", file=path, feature=unit_id, column="parent_id")
        children.at[unit_id, "parent_id"] = parent_id


def _largest_overlap(children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame) -> pd.Series:
    left, right = parents.sindex.query(children.geometry.values, predicate="intersects")
    pairs = pd.DataFrame({
        "child": children.index[left], "parent": parents.index[right],
        "area": shapely.area(shapely.intersection(children.geometry.values[left],
                                                  parents.geometry.values[right]))})
    pairs = pairs[pairs["area"] > 0]
    best = pairs.sort_values("area", kind="stable").groupby("child")["parent"].last()
    return best.reindex(children.index).fillna("").astype(object)


def _check_tiling(parents: gpd.GeoDataFrame, children: gpd.GeoDataFrame, level: str,
                  path: str, tolerance: float, findings: Findings) -> None:
    """Gaps and overlaps between siblings, and children sticking out of their parent.

    Each piece of at least ``tolerance`` m² is reported with its area and a
    WGS84 point inside it, so the office can find it on any web map.
    """
    floor = max(tolerance, 1e-6)
    transformer: list[Transformer] = []

    def report(geom: shapely.Geometry, kind: str, what: str, feature: str) -> None:
        for part in shapely.get_parts(geom):
            area = float(shapely.area(part))
            if part.geom_type != "Polygon" or area < floor:
                continue
            if not transformer:
                transformer.append(Transformer.from_crs(children.crs, "EPSG:4326",
                                                        always_xy=True))
            point = shapely.point_on_surface(part)
            lon, lat = transformer[0].transform(point.x, point.y)
            findings.warn(kind, f"{what}: {area:,.0f} m² around {lon:.5f}°E, {lat:.5f}°N",
                          file=path, feature=feature)

    parent_geoms = np.asarray(parents.geometry.values)
    parent_names = dict(zip(parents.index, parents["name"], strict=True))
    child_geoms = np.asarray(children.geometry.values)
    child_names = children["name"].to_numpy()
    parent_of = children["parent_id"].to_numpy()
    position = pd.Series(np.arange(len(parents)), index=parents.index)
    for parent_id, rows in pd.Series(np.arange(len(children))).groupby(parent_of):
        if parent_id not in position.index:
            continue
        cover = shapely.union_all(child_geoms[rows.to_numpy()])
        gap = shapely.difference(parent_geoms[position[parent_id]], cover)
        if shapely.area(gap) >= floor:
            report(gap, "gap", f"gap inside {parent_id} {parent_names[parent_id]} not covered "
                   f"by any {level}", str(parent_id))
    known = np.isin(parent_of, position.index)
    own = parent_geoms[position.reindex(parent_of[known]).to_numpy(int)]
    known[known] = ~shapely.within(child_geoms[known], own)  # inside its parent: nothing sticks out
    own = parent_geoms[position.reindex(parent_of[known]).to_numpy(int)]
    overhangs = shapely.difference(child_geoms[known], own)
    big = shapely.area(overhangs) >= floor
    for unit_id, name, parent_id, geom in zip(children.index[known][big], child_names[known][big],
                                              parent_of[known][big], overhangs[big], strict=True):
        report(geom, "overhang", f"{level} {unit_id} {name} sticks out of its parent "
               f"{parent_id}", str(unit_id))
    left, right = children.sindex.query(child_geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    apart = shapely.touches(child_geoms[left], child_geoms[right])  # shared edges only: no area
    left, right = left[~apart], right[~apart]
    overlaps = shapely.intersection(child_geoms[left], child_geoms[right])
    big = shapely.area(overlaps) >= floor
    ids = children.index
    for i, j, geom in zip(left[big], right[big], overlaps[big], strict=True):
        report(geom, "overlap", f"{level} {ids[i]} and {ids[j]} overlap", f"{ids[i]}, {ids[j]}")

"""The four boundary levels of the sample: 13 towns, 370 villages, ~2,000 grid cells.

Towns are grown from small Voronoi atoms around their approximate seats,
villages and grids are relaxed Voronoi partitions of their parent, and all
levels come from one clean coverage (each unit is the union of its children).
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, Polygon

from battlemap.sample.geometry import (
    clean_coverage,
    clustered_seeds,
    merge_faces,
    partition,
    polygon_parts,
    project_point,
    random_points_in,
    random_stream,
    relax,
    to_ll,
    voronoi_cells,
)

__all__ = ["DISTRICT_CODE", "DISTRICT_NAME", "boundary_records", "build_boundaries", "short_town",
           "short_village"]

DISTRICT_CODE = "440118"
DISTRICT_NAME = "增城区"
N_GRIDS = 2_000

# Approximate town seats (lon, lat) and plausible target areas (km², rescaled).
TOWN_SEATS: dict[str, tuple[float, float, float]] = {
    "荔城街道": (113.83, 23.29, 45),
    "增江街道": (113.86, 23.30, 95),
    "朱村街道": (113.70, 23.29, 95),
    "永宁街道": (113.64, 23.20, 100),
    "荔湖街道": (113.79, 23.25, 60),
    "宁西街道": (113.60, 23.25, 95),
    "新塘镇": (113.61, 23.13, 95),
    "石滩镇": (113.79, 23.17, 165),
    "中新镇": (113.63, 23.33, 185),
    "正果镇": (113.90, 23.42, 220),
    "派潭镇": (113.77, 23.53, 290),
    "小楼镇": (113.72, 23.43, 135),
    "仙村镇": (113.71, 23.16, 65),
}
SURNAMES = "陈黄李梁何林罗钟邓曾张刘王杨吴周徐朱胡郭谢叶潘袁蔡赖湛单冯卢温彭汤廖许" \
           "汪欧苏莫麦郑赵余严徐邱古"
GIVEN = "伟强敏静丽军华明杰芳建国志平海文勇辉燕红玲斌涛超浩俊婷晓锋雄坚荣健新永嘉" \
        "耀振洪冠展宏锦蓉秀英慧霞桂彬洁伦豪锐铭亮添旺贤"


def short_town(name: str) -> str:
    """荔城街道 → 荔城, 新塘镇 → 新塘."""
    return name.removesuffix("街道").removesuffix("镇")


def short_village(name: str) -> str:
    """相江社区居委会 → 相江社区, 白湖村委会 → 白湖村."""
    return name.removesuffix("居委会").removesuffix("委会")


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """Deterministic synthetic Chinese names (surname + one or two characters)."""
    sur = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    two = rng.random(n) < 0.7
    return [SURNAMES[s] + GIVEN[a] + (GIVEN[b] if t and b != a else "")
            for s, a, b, t in zip(sur, g1, g2, two, strict=True)]


# --------------------------------------------------------------------------- towns


def _atoms(district: Polygon, rng: np.random.Generator, n: int = 2600) -> list[Polygon]:
    """Small Voronoi atoms covering the district; towns are grown from them."""
    seeds = relax(district, random_points_in(district, n, rng), 1)
    return [p for cell in voronoi_cells(district, seeds) for p in polygon_parts(cell)]


def _adjacency(atoms: list[Polygon], rng: np.random.Generator) -> dict[int, list[tuple[int, float]]]:
    """Edge-adjacency of atoms with noisy centroid-distance costs."""
    arr = np.asarray(atoms)
    i, j = shapely.STRtree(arr).query(arr, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(shapely.intersection(shapely.boundary(arr[i]), shapely.boundary(arr[j])))
    keep = shared > 1.0
    i, j = i[keep], j[keep]
    cents = shapely.get_coordinates(shapely.centroid(arr))
    cost = np.hypot(*(cents[i] - cents[j]).T) * rng.lognormal(0, 0.45, len(i))
    graph: dict[int, list[tuple[int, float]]] = {k: [] for k in range(len(atoms))}
    for a, b, c in zip(i.tolist(), j.tolist(), cost.tolist(), strict=True):
        graph[a].append((b, c))
        graph[b].append((a, c))
    return graph


def _flood(graph: dict[int, list[tuple[int, float]]], sources: list[int],
           weights: np.ndarray) -> np.ndarray:
    """Multi-source weighted Dijkstra: each atom goes to the cheapest seed (contiguous)."""
    owner = np.full(len(graph), -1)
    heap = [(0.0, s, k) for k, s in enumerate(sources)]
    heapq.heapify(heap)
    while heap:
        cost, node, k = heapq.heappop(heap)
        if owner[node] >= 0:
            continue
        owner[node] = k
        for nb, c in graph[node]:
            if owner[nb] < 0:
                heapq.heappush(heap, (cost + c / weights[k], nb, k))
    return owner


def _nudged_seats(district: Polygon, min_inside: float = 2500.0) -> np.ndarray:
    """Projected town seats, each moved towards the centroid until well inside."""
    centre = np.array(district.centroid.coords[0])
    seats = []
    for lon, lat, _ in TOWN_SEATS.values():
        p = project_point(lon, lat)
        for _ in range(40):
            if district.contains(Point(p)) and district.exterior.distance(Point(p)) >= min_inside:
                break
            p = p + (centre - p) * 0.05
        seats.append(p)
    return np.array(seats)


def _towns(district: Polygon, rng: np.random.Generator) -> tuple[list[Polygon], np.ndarray]:
    """13 contiguous towns grown from atoms, sized towards plausible target areas."""
    atoms = _atoms(district, rng)
    graph = _adjacency(atoms, rng)
    seats = _nudged_seats(district)
    areas = shapely.area(np.asarray(atoms))
    tree = shapely.STRtree(np.asarray(atoms))
    sources = [int(tree.query(Point(s), predicate="intersects")[0]) for s in seats]
    target = np.array([t for *_, t in TOWN_SEATS.values()], dtype=float)
    target *= areas.sum() / target.sum()
    weights = np.sqrt(target)
    for _ in range(25):
        owner = _flood(graph, sources, weights)
        got = np.bincount(owner, weights=areas, minlength=len(seats))
        weights *= (target / np.maximum(got, 1.0)) ** 0.35
    owner = _flood(graph, sources, weights)
    arr = np.asarray(atoms)
    towns = [shapely.union_all(arr[owner == k]) for k in range(len(seats))]
    return towns, seats


# --------------------------------------------------------------------------- villages, grids


def _villages(towns: list[Polygon], seats: np.ndarray, villages: pd.DataFrame,
              town_codes: list[str], rng: np.random.Generator) -> list[Any]:
    """Partition each town into its official villages; communities near the seat."""
    geoms: dict[str, Any] = {}
    for town, seat, code in zip(towns, seats, town_codes, strict=True):
        rows = villages[villages["town_code"] == code]
        seeds = clustered_seeds(town, len(rows), seat, rng, near_share=0.45)
        cells, seeds = partition(town, seeds, lloyd=2)
        order = np.argsort(np.hypot(*(seeds - seat).T), kind="stable")
        urban_first = rows.assign(_c=~rows["name"].str.contains("社区")).sort_values(
            ["_c", "code"], kind="stable")
        for vcode, k in zip(urban_first["code"], order, strict=True):
            geoms[vcode] = cells[k]
    return [geoms[c] for c in villages["code"]]


def _grid_counts(areas: np.ndarray, urban: np.ndarray, total: int) -> np.ndarray:
    """Grid cells per village: ≥ 1 each, more for big or urban villages, summing to total."""
    total = max(total, len(areas))
    weight = areas ** 0.6 * np.where(urban, 2.2, 1.0)
    raw = 1 + weight / weight.sum() * (total - len(areas))
    counts = np.floor(raw).astype(int)
    short = total - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    return counts


def _grids(villages: list[Any], counts: np.ndarray, rng: np.random.Generator) -> list[list[Any]]:
    """Partition each village into ``counts`` relaxed Voronoi grid cells."""
    out = []
    for village, n in zip(villages, counts, strict=True):
        if n == 1:
            out.append([village])
            continue
        seeds = random_points_in(village, int(n), rng)
        cells, _ = partition(village, seeds, lloyd=3)
        out.append(cells)
    return out


def build_boundaries(district: Polygon, towns: pd.DataFrame, villages: pd.DataFrame, scale: float,
                seed: int) -> dict[str, Any]:
    """All four levels as clean WGS84 coverages plus the projected helpers."""
    town_geoms, seats = _towns(district, random_stream(seed, 1))
    town_codes = towns["code"].tolist()
    if [n for n in towns["name"]] != list(TOWN_SEATS):
        raise ValueError("reference towns do not match the known 13 towns of 增城区")
    village_geoms = _villages(town_geoms, seats, villages, town_codes, random_stream(seed, 2))
    urban = villages["name"].str.contains("社区").to_numpy()
    counts = _grid_counts(shapely.area(np.asarray(village_geoms)), urban, round(N_GRIDS * scale))
    grid_geoms = _grids(village_geoms, counts, random_stream(seed, 3))
    flat = [g for cells in grid_geoms for g in cells]
    clean = clean_coverage(list(to_ll(np.asarray(flat))))
    owners = np.repeat(np.arange(len(village_geoms)), counts)
    village_ll = [merge_faces(np.asarray(clean)[owners == k]) for k in range(len(village_geoms))]
    town_of = villages["town_code"].map({c: k for k, c in enumerate(town_codes)}).to_numpy()
    town_ll = [merge_faces(np.asarray(village_ll)[town_of == k]) for k in range(len(town_codes))]
    return {"grids": clean, "grid_counts": counts, "villages": village_ll, "towns": town_ll,
            "district": merge_faces(np.asarray(town_ll)), "seats": seats, "urban": urban}


def boundary_records(b: dict[str, Any], towns: pd.DataFrame, villages: pd.DataFrame,
                      seed: int) -> dict[str, list[dict[str, Any]]]:
    """Feature records (properties + WGS84 geometry) for each level."""
    names = iter(person_names(random_stream(seed, 4), 1 + len(towns) + len(villages) + len(b["grids"])))
    district = [{"code": DISTRICT_CODE, "name": DISTRICT_NAME, "chief": next(names),
                 "geometry": b["district"]}]
    town_recs = [{"code": c, "name": n, "district_code": DISTRICT_CODE, "chief": next(names),
                  "geometry": g} for c, n, g in zip(towns["code"], towns["name"], b["towns"],
                                                   strict=True)]
    village_recs = [{"code": c, "name": n, "town_code": t, "chief": next(names), "geometry": g}
                    for c, n, t, g in zip(villages["code"], villages["name"],
                                          villages["town_code"], b["villages"], strict=True)]
    grid_recs = []
    k = 0
    for code, name, count in zip(villages["code"], villages["name"], b["grid_counts"],
                                 strict=True):
        for i in range(1, int(count) + 1):
            grid_recs.append({"code": f"{code}{i:03d}", "name": f"{short_village(name)}第{i:02d}网格",
                              "village_code": code, "chief": next(names),
                              "geometry": b["grids"][k]})
            k += 1
    return {"district": district, "towns": town_recs, "villages": village_recs,
            "grids": grid_recs}


"""Deterministic synthetic SAMPLE dataset for 增城区 (Zengcheng, Guangzhou).

Builds, from the real district outline and the official town/village codes in
``data/reference/``, a plausible four-level partition (district → 13 towns →
370 villages → ~2,000 grid cells), the 东江北干流 and 增江 with 33 synthetic
first-level tributaries, two context points and a messy case export
(``cases.csv``) of 32,197 pollution-source reports in GCJ-02.

Everything except the outline and the names/codes is synthetic. The same seed
gives byte-identical files; ``scale`` multiplies grid cells and cases.

Topology: every boundary level is derived from one set of faces, noded with
snap rounding on the 1e-6 degree grid the files are written in, so neighbours
share identical vertices and each level is exactly the union of its children.
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPoint, Point, Polygon

__all__ = ["write_sample"]

DISTRICT_CODE = "440118"
DISTRICT_NAME = "增城区"
DONGGUAN_CODE = "441900"
PROJECTED = "EPSG:4526"
PRECISION = 1e-6  # degrees: the grid every output coordinate lies on

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
HILLY_TOWNS = {"派潭镇", "正果镇", "小楼镇", "中新镇", "朱村街道"}

# 问题类型: (weight near rivers, weight in built-up areas, weight elsewhere, deadline days)
PROBLEM_TYPES: dict[str, tuple[float, float, float, int]] = {
    "排水口": (0.28, 0.10, 0.06, 60),
    "生活污水直排": (0.16, 0.22, 0.12, 60),
    "散乱污场所": (0.05, 0.14, 0.14, 30),
    "畜禽养殖": (0.04, 0.02, 0.22, 90),
    "工业废水": (0.05, 0.07, 0.08, 30),
    "餐饮废水": (0.03, 0.17, 0.03, 30),
    "洗车废水": (0.02, 0.09, 0.03, 15),
    "垃圾堆放": (0.14, 0.12, 0.22, 15),
    "水面漂浮物": (0.15, 0.03, 0.03, 15),
    "违法建设": (0.08, 0.04, 0.07, 90),
}
CHANNEL_APP = "广州河长APP"
CHANNEL_REWARD = "增城河长公众号有奖举报"
CHANNEL_MINI = "河涌众采小程序"
N_CASES, N_REWARD, N_REWARD_VALID, N_MINI, N_GRIDS = 32_197, 1_332, 411, 1_213, 2_000
N_RECURRING = 300
START_DATE = dt.date(2019, 1, 1)
CAMPAIGN_DAYS = 90  # a reporting campaign before end_date triples the daily rate

STATUS_SYNONYMS = {"已交办": "已派发", "整改中": "处理中", "已销号": "已办结"}
UNKNOWN_STATUSES = ("待核实", "挂起", "退回重办", "已撤销", "暂缓办理")
NON_NUMERIC = ("无", "不详", "见描述", "—", "null")
HTML_DESCRIPTIONS = (
    "<script>alert(1)</script>河边有人倒垃圾",
    "<img src=x onerror=alert(1)>排水口冒黑水",
    '污水<直排>&"臭"，请尽快处理',
)
DIRT_COUNTS = {
    "outside_district": 12, "duplicate_ids": 20, "blank_coordinates": 15,
    "zero_coordinates": 8, "swapped_coordinates": 10, "non_numeric_coordinates": 5,
    "unknown_status": 12,
}
FAR_AWAY_WGS84 = ((116.397, 39.909), (113.264, 23.129), (114.057, 22.543), (121.473, 31.230))

SURNAMES = "陈黄李梁何林罗钟邓曾张刘王杨吴周徐朱胡郭谢叶潘袁蔡赖湛单冯卢温彭汤廖许" \
           "汪欧苏莫麦郑赵余严徐邱古"
GIVEN = "伟强敏静丽军华明杰芳建国志平海文勇辉燕红玲斌涛超浩俊婷晓锋雄坚荣健新永嘉" \
        "耀振洪冠展宏锦蓉秀英慧霞桂彬洁伦豪锐铭亮添旺贤"
CN_ORDINALS = "一二三四五六七八九十"
PHONE_PREFIXES = (130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153,
                  155, 156, 157, 158, 159, 180, 181, 182, 183, 185, 186, 187, 188, 189)

CASE_COLUMNS = ("问题编号", "上报时间", "上报渠道", "问题类型", "所属镇街", "所属村居", "河涌名称",
                "经度", "纬度", "处理状态", "整改期限", "办结时间", "问题描述", "上报人电话", "是否有效")

_TO_XY = Transformer.from_crs("EPSG:4326", PROJECTED, always_xy=True)
_TO_LL = Transformer.from_crs(PROJECTED, "EPSG:4326", always_xy=True)


# --------------------------------------------------------------------------- helpers


def _rng(seed: int, *keys: int) -> np.random.Generator:
    """An independent, reproducible random stream for one part of the dataset."""
    return np.random.default_rng([seed, *keys])


def _to_xy(geom: Any) -> Any:
    """Transform a geometry (or array of geometries) from WGS84 to the projected CRS."""
    return shapely.transform(geom, lambda c: np.column_stack(_TO_XY.transform(c[:, 0], c[:, 1])))


def _to_ll(geom: Any) -> Any:
    """Transform a geometry (or array of geometries) from the projected CRS to WGS84."""
    return shapely.transform(geom, lambda c: np.column_stack(_TO_LL.transform(c[:, 0], c[:, 1])))


def _xy(lon: float, lat: float) -> np.ndarray:
    """Project one WGS84 position."""
    return np.array(_TO_XY.transform(lon, lat))


def _polygons(geom: Any) -> list[Polygon]:
    """The polygon parts of any geometry (empty list for none)."""
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def _short_town(name: str) -> str:
    """荔城街道 → 荔城, 新塘镇 → 新塘."""
    return name.removesuffix("街道").removesuffix("镇")


def _short_village(name: str) -> str:
    """相江社区居委会 → 相江社区, 白湖村委会 → 白湖村."""
    return name.removesuffix("居委会").removesuffix("委会")


def _person_names(rng: np.random.Generator, n: int) -> list[str]:
    """Deterministic synthetic Chinese names (surname + one or two characters)."""
    sur = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    two = rng.random(n) < 0.7
    return [SURNAMES[s] + GIVEN[a] + (GIVEN[b] if t and b != a else "")
            for s, a, b, t in zip(sur, g1, g2, two, strict=True)]


def _random_points_in(poly: Any, n: int, rng: np.random.Generator) -> np.ndarray:
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


def _voronoi_cells(parent: Any, seeds: np.ndarray) -> list[Any]:
    """Voronoi cells of ``seeds`` clipped to ``parent``, in seed order."""
    if len(seeds) == 1:
        return [parent]
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=parent, ordered=True)
    return list(shapely.intersection(np.asarray(cells.geoms), parent))


def _lloyd(parent: Any, seeds: np.ndarray, iterations: int) -> np.ndarray:
    """Move seeds towards their clipped cell centroids (kept inside the parent)."""
    shapely.prepare(parent)
    for _ in range(iterations):
        if len(seeds) < 2:
            break
        cents = shapely.get_coordinates(shapely.centroid(np.asarray(_voronoi_cells(parent, seeds))))
        ok = shapely.contains_xy(parent, cents[:, 0], cents[:, 1])
        seeds = np.where(ok[:, None], cents, seeds)
    return seeds


def _defragment(cells: list[Any], seeds: np.ndarray) -> list[Any]:
    """Give each detached piece of a clipped cell to the neighbour it shares most border with."""
    mains: list[Any] = []
    orphans: list[Polygon] = []
    for cell, seed in zip(cells, seeds, strict=True):
        parts = _polygons(cell)
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


def _partition(parent: Any, seeds: np.ndarray, lloyd: int) -> tuple[list[Any], np.ndarray]:
    """Partition ``parent`` into relaxed Voronoi cells; returns cells and final seeds."""
    seeds = _lloyd(parent, seeds, lloyd)
    return _defragment(_voronoi_cells(parent, seeds), seeds), seeds


def _clustered_seeds(parent: Any, n: int, centre: np.ndarray, rng: np.random.Generator,
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
    rest = _random_points_in(parent, n - len(near_pts), rng)
    return np.concatenate([near_pts, rest])


# --------------------------------------------------------------------------- towns


def _atoms(district: Polygon, rng: np.random.Generator, n: int = 2600) -> list[Polygon]:
    """Small Voronoi atoms covering the district; towns are grown from them."""
    seeds = _lloyd(district, _random_points_in(district, n, rng), 1)
    return [p for cell in _voronoi_cells(district, seeds) for p in _polygons(cell)]


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
        p = _xy(lon, lat)
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
        seeds = _clustered_seeds(town, len(rows), seat, rng, near_share=0.45)
        cells, seeds = _partition(town, seeds, lloyd=2)
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
        seeds = _random_points_in(village, int(n), rng)
        cells, _ = _partition(village, seeds, lloyd=3)
        out.append(cells)
    return out


# --------------------------------------------------------------------------- clean coverage


def _clean_coverage(polys_ll: list[Any]) -> list[Any]:
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
    return [_merge(faces[owner == k]) for k in range(len(arr))]


def _merge(faces: np.ndarray) -> Any:
    """Dissolve faces of one unit without moving any vertex."""
    if len(faces) == 1:
        return faces[0]
    return shapely.coverage_union_all(faces)


# --------------------------------------------------------------------------- rivers


def _main_stem(district: Polygon, dongguan: Any) -> LineString:
    """The 东江北干流: the district's border with 东莞, oriented downstream (east → west)."""
    ring = np.asarray(district.exterior.coords)[:-1]
    near = shapely.distance(shapely.points(ring), dongguan) < 300.0
    n = len(ring)
    best: tuple[int, int] = (0, 0)
    start = int(np.argmin(near)) if not near.all() else 0
    run_start, run_len = -1, 0
    for step in range(n + 1):
        k = (start + step) % n
        if near[k] and step < n:
            if run_start < 0:
                run_start, run_len = k, 0
            run_len += 1
        elif run_start >= 0:
            if run_len > best[1]:
                best = (run_start, run_len)
            run_start = -1
    idx = [(best[0] + i) % n for i in range(best[1])]
    line = LineString(ring[idx])
    if line.coords[0][0] < line.coords[-1][0]:
        line = line.reverse()
    return line.simplify(15.0)


def _spline(ctrl: np.ndarray, per_segment: int = 24) -> np.ndarray:
    """Catmull-Rom spline through control points."""
    p = np.vstack([ctrl[0], ctrl, ctrl[-1]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3))
    out.append(ctrl[-1][None, :])
    return np.concatenate(out)


def _meander(pts: np.ndarray, rng: np.random.Generator, amplitude: float,
             wavelength: float) -> np.ndarray:
    """Add a tapered sum-of-sines lateral wiggle to a polyline (ends fixed)."""
    seg = np.diff(pts, axis=0)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(*seg.T))])
    if s[-1] <= 0:
        return pts
    tangent = np.gradient(pts, axis=0)
    tangent /= np.maximum(np.hypot(*tangent.T), 1e-9)[:, None]
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    off = np.zeros(len(pts))
    for k in range(3):
        wl = wavelength / (1.7**k)
        off += amplitude / (1.6**k) * np.sin(2 * np.pi * s / wl + rng.uniform(0, 2 * np.pi))
    taper = np.clip(np.sin(np.pi * s / s[-1]), 0.0, 1.0) ** 0.5
    return pts + normal * (off * taper)[:, None]


def _zengjiang(district: Polygon, main: LineString, rng: np.random.Generator) -> LineString:
    """The 增江: from the north-east border past 正果 and 荔城 south to the main stem."""
    ring = district.exterior
    entry = np.array(ring.interpolate(ring.project(Point(_xy(113.985, 23.455)))).coords[0])
    waypoints = [(113.945, 23.445), (113.905, 23.405), (113.872, 23.355), (113.846, 23.305),
                 (113.824, 23.255), (113.803, 23.205), (113.793, 23.160)]
    mouth = np.array(main.interpolate(main.project(Point(_xy(113.80, 23.125)))).coords[0])
    ctrl = np.vstack([entry, [_xy(*w) for w in waypoints], mouth])
    pts = _meander(_spline(ctrl, 30), rng, amplitude=220.0, wavelength=3200.0)
    pts[0], pts[-1] = entry, mouth
    line = LineString(pts)
    inside = shapely.intersection(line, district)
    parts = sorted(shapely.get_parts(inside), key=lambda g: -g.length)
    return _snap_end(parts[0] if parts else line, mouth)


def _snap_end(line: Any, mouth: np.ndarray) -> LineString:
    """Make sure a river line ends exactly at ``mouth``."""
    pts = np.asarray(shapely.get_coordinates(line))
    if np.hypot(*(pts[-1] - mouth)) > 1e-6:
        pts = np.vstack([pts, mouth])
    return LineString(pts)


@dataclass(frozen=True)
class River:
    """One river line in the projected CRS."""

    code: str
    name: str
    kind: str
    flows_into: str
    line: LineString


def _town_at(towns: list[Any], names: list[str], xy: np.ndarray) -> str:
    """Name of the town containing ``xy`` (nearest when none)."""
    p = Point(xy)
    d = [t.distance(p) for t in towns]
    return names[int(np.argmin(d))]


@dataclass(frozen=True)
class _Mouth:
    """A candidate tributary mouth on a main river."""

    code: str
    position: float
    point: np.ndarray
    heading: np.ndarray  # preferred upstream direction (unit vector)
    long: bool  # in a region far from the other main river: grow a long tributary


def _mouths(main: LineString, zj: LineString, district: Polygon, rng: np.random.Generator,
            factor: int) -> list[_Mouth]:
    """Candidate mouths along both main rivers, in random order."""
    west_x = _xy(113.70, 23.2)[0]
    north_y = _xy(113.9, 23.28)[1]
    out = []
    for code, line, per_bank, margin in (("DJBG", main, 13, 1500.0), ("ZJ", zj, 10, 2500.0)):
        usable = line.length - 2 * margin
        for bank in (1, -1):
            k = np.arange(per_bank * factor)
            pos = margin + (k + 0.5 + rng.uniform(-0.3, 0.3, len(k))) / len(k) * usable
            for p in pos:
                a = np.array(line.interpolate(p - 50).coords[0])
                b = np.array(line.interpolate(p + 50).coords[0])
                t = (b - a) / max(float(np.hypot(*(b - a))), 1e-9)
                n = bank * np.array([-t[1], t[0]])
                at = np.array(line.interpolate(p).coords[0])
                if not district.contains(Point(at + 400 * n)):
                    continue
                if code == "DJBG":
                    long_ = bool(at[0] < west_x)
                    pref = n + np.array([0.0, 0.8 if long_ else 0.2])
                else:
                    pref = n - 0.35 * t
                    long_ = bool(at[1] > north_y and pref[0] < 0)
                out.append(_Mouth(code, float(p), at, pref / np.hypot(*pref), long_))
    return [out[i] for i in rng.permutation(len(out))]


def _grow(mouth: _Mouth, max_len: float, district: Polygon, inner: Any, blocked: Any,
          rng: np.random.Generator, step: float = 150.0) -> np.ndarray:
    """Walk upstream from the mouth, wandering around its heading, until blocked or long enough."""
    pts = [mouth.point]
    goal = float(np.arctan2(mouth.heading[1], mouth.heading[0])) + rng.normal(0, 0.25)
    heading = goal + rng.normal(0, 0.3)
    drift = rng.normal(0, 0.006)
    for i in range(int(max_len / step)):
        goal += drift
        turn = np.angle(np.exp(1j * (goal - heading)))
        heading += 0.12 * turn + rng.normal(0, 0.2)
        for dev in (0.0, 0.5, -0.5, 1.0, -1.0):
            h = heading + dev
            nxt = pts[-1] + step * np.array([np.cos(h), np.sin(h)])
            if i <= 6:
                ok = bool(shapely.contains_xy(district, *nxt))
            else:
                ok = shapely.contains_xy(inner, *nxt) and not shapely.contains_xy(blocked, *nxt)
            if ok:
                heading = h
                pts.append(nxt)
                break
        else:
            break
    return np.array(pts[::-1])


def _candidate_plan(main: LineString, zj: LineString, district: Polygon,
                    rng: np.random.Generator) -> list[tuple[_Mouth, int]]:
    """Mouths in the order tried, with their pass: 0 long ones, 1 with quotas, 2 fallback."""
    first = _mouths(main, zj, district, rng, 2)
    plan = [(m, 0) for m in first if m.long] + [(m, 1) for m in first if not m.long]
    return plan + [(m, 2) for m in _mouths(main, zj, district, rng, 12)]


def _tributaries(district: Polygon, main: LineString, zj: LineString, towns: list[Any],
                 town_names: list[str], rng: np.random.Generator) -> list[River]:
    """33 synthetic first-level tributaries grown upstream from the main stem and the 增江.

    Long ones first where the other main river is far (the west for the main
    stem, the north-west for the 增江), then shorter ones, each kept apart
    from the rivers already drawn.
    """
    inner = district.buffer(-400.0)
    shapely.prepare(inner)
    shapely.prepare(district)
    lines: list[LineString] = [main, zj]
    accepted: list[tuple[LineString, str, float, str]] = []
    quota = {(0, "DJBG"): 5, (0, "ZJ"): 7, (1, "DJBG"): 13, (1, "ZJ"): 18}
    for mouth, stage in _candidate_plan(main, zj, district, rng):
        if len(accepted) == 33:
            break
        done = sum(a[1] == mouth.code for a in accepted)
        if stage < 2 and done >= quota[stage, mouth.code]:
            continue
        if any(Point(mouth.point).distance(a[0]) < (1300 if stage < 2 else 900) for a in accepted):
            continue
        blocked = shapely.union_all([ln.buffer(650.0) for ln in lines])
        shapely.prepare(blocked)
        max_len = rng.uniform(18000, 32000) if mouth.long else rng.uniform(4000, 16000)
        pts = _grow(mouth, max_len, district, inner, blocked, rng)
        if len(pts) < (25 if stage < 2 else 18):
            continue
        pts = _meander(_spline(pts[::3], 12), rng, amplitude=70.0, wavelength=900.0)
        pts[-1] = mouth.point
        line = LineString(pts)
        lines.append(line)
        accepted.append((line, mouth.code, mouth.position, _town_at(towns, town_names, pts[0])))
    accepted.sort(key=lambda a: (a[1], a[2]))
    per_town: dict[str, int] = {}
    rivers = []
    for k, (line, into, _, town) in enumerate(accepted, 1):
        per_town[town] = per_town.get(town, 0) + 1
        suffix = "河" if town in HILLY_TOWNS else "涌"
        name = f"{_short_town(town)}{CN_ORDINALS[per_town[town] - 1]}{suffix}（示例）"
        rivers.append(River(f"T{k:02d}", name, "tributary", into, line))
    return rivers


def _rivers(district: Polygon, dongguan: Any, towns: list[Any], town_names: list[str],
            rng: np.random.Generator) -> list[River]:
    """The two main rivers and the 33 tributaries."""
    main = _main_stem(district, dongguan)
    zj = _zengjiang(district, main, rng)
    return [River("DJBG", "东江北干流", "main", "", main),
            River("ZJ", "增江", "main", "DJBG", zj),
            *_tributaries(district, main, zj, towns, town_names, rng)]


def _context(main: LineString, xintang: Any) -> list[dict[str, Any]]:
    """国考大墩断面 on the main stem (south-west) and 永和污水处理厂 in 新塘镇."""
    dadun = main.interpolate(main.project(Point(_xy(113.578, 23.093))))
    target = Point(_xy(113.600, 23.160))
    core = xintang.buffer(-500.0)
    plant = target if core.contains(target) else core.exterior.interpolate(
        core.exterior.project(target))
    return [
        {"code": "GK001", "name": "大墩断面（国考）", "kind": "monitoring_section",
         "label": "Ⅲ类", "geometry": dadun},
        {"code": "WS001", "name": "永和污水处理厂", "kind": "treatment_plant",
         "label": "处理能力 10万吨/日", "geometry": plant},
    ]


# --------------------------------------------------------------------------- cases


def _gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → GCJ-02 (the standard published formula), vectorised."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - ee * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (a / sqrtmagic * np.cos(radlat) * np.pi)
    return lon + dlon, lat + dlat


def _report_times(n: int, end: dt.date, rng: np.random.Generator) -> np.ndarray:
    """Report timestamps (minutes), denser in recent years and in the last campaign, sorted."""
    days = np.arange((end - START_DATE).days + 1)
    d = pd.Timestamp(START_DATE) + pd.to_timedelta(days, unit="D")
    season = 1 + 0.25 * np.sin(2 * np.pi * (d.day_of_year.to_numpy() - 100) / 365)
    w = (1 + 3.5 * days / days[-1]) * season
    w *= np.where(d.day_of_week.to_numpy() >= 5, 0.7, 1.0)
    w *= np.where(days > days[-1] - CAMPAIGN_DAYS, 3.0, 1.0)  # the autumn 排查 campaign
    day = rng.choice(days, size=n, p=w / w.sum())
    hours = np.arange(24)
    hw = np.where((hours >= 7) & (hours <= 22), 1.0, 0.08)
    hw[[9, 10, 15, 16]] *= 1.6
    minute = rng.choice(hours, n, p=hw / hw.sum()) * 60 + rng.integers(0, 60, n)
    stamps = np.datetime64(START_DATE, "m") + day.astype("timedelta64[D]") + minute.astype(
        "timedelta64[m]")
    return np.sort(stamps)


@dataclass
class _Geo:
    """The geometry the case generator needs (projected CRS unless named _ll)."""

    district: Polygon
    dongguan: Any
    seats: np.ndarray
    village_xy: list[Any]
    village_urban: np.ndarray
    rivers: list[River]


def _sample_near_rivers(geo: _Geo, n: int, rng: np.random.Generator) -> np.ndarray:
    """Points within a few hundred metres of a river, more on the main rivers near towns."""
    segs, wts = [], []
    for r in geo.rivers:
        c = np.asarray(r.line.coords)
        a, b = c[:-1], c[1:]
        mid = (a + b) / 2
        near = np.exp(-np.min(np.hypot(mid[:, None, 0] - geo.seats[None, :, 0],
                                       mid[:, None, 1] - geo.seats[None, :, 1]), axis=1) ** 2
                      / (2 * 3500.0**2))
        segs.append(np.stack([a, b], axis=1))
        wts.append(np.hypot(*(b - a).T) * (2.2 if r.kind == "main" else 1.0) * (1 + 3 * near))
    seg, w = np.concatenate(segs), np.concatenate(wts)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        k = n - have + 32
        pick = rng.choice(len(seg), k, p=w / w.sum())
        a, b = seg[pick, 0], seg[pick, 1]
        t = rng.random(k)[:, None]
        base = a + t * (b - a)
        d = (b - a) / np.maximum(np.hypot(*(b - a).T), 1e-9)[:, None]
        normal = np.column_stack([-d[:, 1], d[:, 0]])
        off = rng.normal(0, 130.0, k) + np.sign(rng.random(k) - 0.5) * 15
        pts = base + normal * off[:, None]
        pts = pts[shapely.contains_xy(geo.district, pts[:, 0], pts[:, 1])]
        out.append(pts)
        have += len(pts)
    return np.concatenate(out)[:n]


def _sample_built_up(geo: _Geo, n: int, rng: np.random.Generator) -> np.ndarray:
    """Points around town seats and village centres (communities weigh more)."""
    centres = shapely.get_coordinates(shapely.point_on_surface(np.asarray(geo.village_xy)))
    cw = np.where(geo.village_urban, 3.0, 1.0)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        k = n - have + 32
        at_seat = rng.random(k) < 0.4
        seat = geo.seats[rng.integers(0, len(geo.seats), k)]
        vil = centres[rng.choice(len(centres), k, p=cw / cw.sum())]
        pts = np.where(at_seat[:, None], seat + rng.normal(0, 1300.0, (k, 2)),
                       vil + rng.normal(0, 280.0, (k, 2)))
        pts = pts[shapely.contains_xy(geo.district, pts[:, 0], pts[:, 1])]
        out.append(pts)
        have += len(pts)
    return np.concatenate(out)[:n]


def _case_locations(geo: _Geo, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Clustered case positions and their component (0 river, 1 built-up, 2 spread)."""
    comp = rng.choice(3, n, p=[0.5, 0.35, 0.15])
    xy = np.empty((n, 2))
    shapely.prepare(geo.district)
    xy[comp == 0] = _sample_near_rivers(geo, int((comp == 0).sum()), rng)
    xy[comp == 1] = _sample_built_up(geo, int((comp == 1).sum()), rng)
    xy[comp == 2] = _random_points_in(geo.district, int((comp == 2).sum()), rng)
    return xy, comp


def _problem_types(comp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """问题类型 weighted by where the case is."""
    names = np.array(list(PROBLEM_TYPES))
    out = np.empty(len(comp), dtype=object)
    for c in range(3):
        w = np.array([v[c] for v in PROBLEM_TYPES.values()])
        mask = comp == c
        out[mask] = names[rng.choice(len(names), int(mask.sum()), p=w / w.sum())]
    return out


def _lifecycle(reported: np.ndarray, types: np.ndarray, end: dt.date,
               rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Deadlines, closure times and status words."""
    n = len(reported)
    limit = np.array([PROBLEM_TYPES[t][3] for t in types])
    deadline = reported.astype("datetime64[D]") + limit.astype("timedelta64[D]")
    minutes = limit * 1440 * rng.lognormal(np.log(0.6), 0.45, n)
    stuck = rng.random(n) < 0.010
    raw = reported + np.round(minutes).astype("timedelta64[m]")
    office = raw.astype("datetime64[D]") + rng.integers(510, 1080, n).astype("timedelta64[m]")
    closed_at = np.maximum(office.astype("datetime64[m]"), reported + np.timedelta64(45, "m"))
    end_m = np.datetime64(end, "m") + np.timedelta64(18 * 60, "m")
    closed = (closed_at <= end_m) & ~stuck
    age = (np.datetime64(end, "D") - reported.astype("datetime64[D]")).astype(int)
    status = np.where(closed, "已销号", np.where(age < 3, "待交办",
                      np.where(age < 8, "已交办", "整改中")))
    status = np.where(~closed & (age >= 8) & (rng.random(n) < 0.12), "已交办", status)
    overdue = ~closed & (deadline < np.datetime64(end, "D"))
    return {"deadline": deadline, "closed_at": closed_at, "closed": closed, "status": status,
            "overdue": overdue}


def _recurring(xy: np.ndarray, reported: np.ndarray, life: dict[str, np.ndarray], n_rec: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Move ``n_rec`` later cases within 10 m of a case closed up to a year before them."""
    closed_idx = np.flatnonzero(life["closed"])
    order = closed_idx[np.argsort(life["closed_at"][closed_idx], kind="stable")]
    ctimes = life["closed_at"][order]
    cand = rng.permutation(np.arange(len(reported) // 3, len(reported)))
    used: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for j in cand:
        if len(pairs) >= n_rec:
            break
        lo = np.searchsorted(ctimes, reported[j] - np.timedelta64(330, "D"))
        hi = np.searchsorted(ctimes, reported[j])
        if hi <= lo or int(j) in used:
            continue
        i = int(order[rng.integers(lo, hi)])
        if i in used or i == j:
            continue
        used.update((i, int(j)))
        pairs.append((i, int(j)))
    pairs_arr = np.array(pairs, dtype=int).reshape(-1, 2)
    r = 8.0 * np.sqrt(rng.random(len(pairs_arr)))
    ang = rng.uniform(0, 2 * np.pi, len(pairs_arr))
    xy = xy.copy()
    xy[pairs_arr[:, 1]] = xy[pairs_arr[:, 0]] + np.column_stack([r * np.cos(ang), r * np.sin(ang)])
    return xy, pairs_arr


def _locate(xy: np.ndarray, village_xy: list[Any]) -> np.ndarray:
    """Index of the village containing each point (nearest for the rare miss)."""
    tree = shapely.STRtree(np.asarray(village_xy))
    pts = shapely.points(xy)
    p_idx, v_idx = tree.query(pts, predicate="within")
    out = np.full(len(xy), -1)
    out[p_idx[::-1]] = v_idx[::-1]
    miss = np.flatnonzero(out < 0)
    if len(miss):
        out[miss] = tree.query_nearest(pts[miss], all_matches=False)[1]
    return out


def _nearest_river(xy: np.ndarray, rivers: list[River], max_m: float = 2000.0) -> np.ndarray:
    """Name of the nearest river within ``max_m``, else ''."""
    lines = np.asarray([r.line for r in rivers])
    names = np.array([r.name for r in rivers] + [""], dtype=object)
    tree = shapely.STRtree(lines)
    p_idx, r_idx = tree.query_nearest(shapely.points(xy), max_distance=max_m, all_matches=False)
    out = np.full(len(xy), len(rivers))
    out[p_idx] = r_idx
    return names[out]


def _neighbours(village_ll: list[Any]) -> list[list[int]]:
    """Villages sharing a border with each village."""
    arr = np.asarray(village_ll)
    i, j = shapely.STRtree(arr).query(arr, predicate="touches")
    nb: list[list[int]] = [[] for _ in arr]
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        nb[a].append(b)
    return nb


DESCRIPTION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "排水口": ("{river}边排水口排放浑浊污水", "{place}有排水口持续出水，水体发黑", "{river}排口冒黑水有异味"),
    "生活污水直排": ("{place}生活污水直排{river}", "{place}民房污水管直通{river}", "{river}旁住户污水未接管"),
    "散乱污场所": ("{place}无证小作坊废水外排", "{place}有散乱污场所，污水乱排", "{place}废品回收点污水横流"),
    "畜禽养殖": ("{place}养猪场粪污直排{river}", "{place}养殖场臭气大，粪水外溢", "{river}上游有鸭场污水入河"),
    "工业废水": ("{place}工厂夜间偷排废水", "{river}水面有油污，疑似工业废水", "{place}厂区排出有色废水"),
    "餐饮废水": ("{place}餐饮店油污水排入雨水井", "{place}大排档泔水倒入{river}", "{place}食街隔油池满溢"),
    "洗车废水": ("{place}洗车点废水直排{river}", "{place}路边洗车泡沫水流入河涌", "{place}洗车场无沉淀池"),
    "垃圾堆放": ("{river}岸边堆放建筑垃圾", "{place}河堤有生活垃圾堆积", "{river}护岸倾倒余泥"),
    "水面漂浮物": ("{river}水面漂浮大量垃圾", "{river}水浮莲堵塞河道", "{place}河段有死鱼和漂浮物"),
    "违法建设": ("{river}管理范围内搭建铁皮房", "{place}临河违建占用河道", "{river}河堤上新建违章棚屋"),
}
PLACE_SUFFIXES = ("", "附近", "路口", "桥头", "市场旁", "工业区", "村口", "大道旁")


def _descriptions(types: np.ndarray, villages: np.ndarray, rivers: np.ndarray,
                  rng: np.random.Generator) -> list[str]:
    """Short plausible Chinese descriptions from templates."""
    pick = rng.integers(0, 3, len(types))
    suffix = rng.integers(0, len(PLACE_SUFFIXES), len(types))
    out = []
    for t, v, r, p, s in zip(types, villages, rivers, pick, suffix, strict=True):
        river = (r or "附近河涌").removesuffix("（示例）")
        out.append(DESCRIPTION_TEMPLATES[t][p].format(place=v + PLACE_SUFFIXES[s], river=river))
    return out


def _phones(n: int, rng: np.random.Generator) -> list[str]:
    """Synthetic 11-digit mobile numbers."""
    pre = np.array(PHONE_PREFIXES)[rng.integers(0, len(PHONE_PREFIXES), n)]
    rest = rng.integers(0, 100_000_000, n)
    return [f"{p}{r:08d}" for p, r in zip(pre, rest, strict=True)]


def _format_times(stamps: np.ndarray, rng: np.random.Generator) -> tuple[list[str], dict[str, int]]:
    """上报时间 in mixed formats: ISO-like, slashes, Chinese, Excel serials."""
    u = rng.random(len(stamps))
    ts = pd.DatetimeIndex(stamps.astype("datetime64[ns]"))
    serial = (stamps - np.datetime64("1899-12-30T00:00", "m")).astype(float) / 1440.0
    out = []
    for k, t in enumerate(ts):
        if u[k] < 0.10:
            out.append(f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}")
        elif u[k] < 0.13:
            out.append(f"{t.year}年{t.month}月{t.day}日")
        elif u[k] < 0.14:
            out.append(f"{serial[k]:.4f}")
        else:
            out.append(t.strftime("%Y-%m-%d %H:%M"))
    counts = {"iso": int((u >= 0.14).sum()), "slash": int((u < 0.10).sum()),
              "chinese": int(((u >= 0.10) & (u < 0.13)).sum()),
              "excel_serial": int(((u >= 0.13) & (u < 0.14)).sum())}
    return out, counts


def _channels(n_unique: int, scale: float, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray]:
    """上报渠道 and 是否有效 for the unique cases."""
    n_rew, n_mini = round(N_REWARD * scale), round(N_MINI * scale)
    n_rew_valid = round(N_REWARD_VALID * scale)
    chan = np.array([CHANNEL_REWARD] * n_rew + [CHANNEL_MINI] * n_mini
                    + [CHANNEL_APP] * (n_unique - n_rew - n_mini), dtype=object)
    valid = np.array(["否"] * n_rew + ["是"] * (n_unique - n_rew), dtype=object)
    valid[rng.choice(n_rew, n_rew_valid, replace=False)] = "是"
    perm = rng.permutation(n_unique)
    return chan[perm], valid[perm]


def _case_ids(reported: np.ndarray) -> list[str]:
    """问题编号 ZC<year><6-digit sequence within the year>."""
    years = reported.astype("datetime64[Y]").astype(int) + 1970
    out, seq, last = [], 0, -1
    for y in years:
        seq = seq + 1 if y == last else 1
        last = y
        out.append(f"ZC{y}{seq:06d}")
    return out


def _fmt_coord(v: float) -> str:
    return f"{v:.6f}"


def _cases(geo: _Geo, village_ll: list[Any], villages: pd.DataFrame, town_names: dict[str, str],
           scale: float, end: dt.date, seed: int) -> tuple[list[list[str]], dict[str, Any]]:
    """All case rows (with the dirt) and their summary."""
    rng = _rng(seed, 9)
    n_total = round(N_CASES * scale)
    n_dup = min(DIRT_COUNTS["duplicate_ids"], n_total // 50)
    n = n_total - n_dup
    reported = _report_times(n, end, rng)
    xy, comp = _case_locations(geo, n, rng)
    types = _problem_types(comp, rng)
    life = _lifecycle(reported, types, end, rng)
    xy, pairs = _recurring(xy, reported, life, round(N_RECURRING * scale), rng)
    vidx = _locate(xy, geo.village_xy)
    decl_v = vidx.copy()
    nbs = _neighbours(village_ll)
    mismatch = np.flatnonzero(rng.random(n) < 0.02)
    for k in mismatch:
        if nbs[vidx[k]]:
            decl_v[k] = nbs[vidx[k]][rng.integers(0, len(nbs[vidx[k]]))]
    vnames = villages["name"].to_numpy()
    vtowns = villages["town_code"].map(town_names).to_numpy()
    rivers = _nearest_river(xy, geo.rivers)
    short_v = np.array([_short_village(v) for v in vnames])[vidx]
    desc = _descriptions(types, short_v, rivers, rng)
    lon, lat = _TO_LL.transform(xy[:, 0], xy[:, 1])
    glon, glat = _gcj02(np.asarray(lon), np.asarray(lat))
    chan, valid = _channels(n, scale, rng)
    times, fmt_counts = _format_times(reported, rng)
    status = life["status"].astype(object)
    syn = rng.random(n) < 0.12
    for word, alt in STATUS_SYNONYMS.items():
        status[syn & (status == word)] = alt
    ids = _case_ids(reported)
    phones = _phones(n, rng)
    closed_txt = pd.DatetimeIndex(life["closed_at"].astype("datetime64[ns]")).strftime(
        "%Y-%m-%d %H:%M")
    deadline_txt = pd.DatetimeIndex(life["deadline"].astype("datetime64[ns]")).strftime("%Y-%m-%d")
    rows = [[ids[k], times[k], chan[k], types[k], vtowns[decl_v[k]], vnames[decl_v[k]], rivers[k],
             _fmt_coord(glon[k]), _fmt_coord(glat[k]), status[k], deadline_txt[k],
             closed_txt[k] if life["closed"][k] else "", desc[k], phones[k], valid[k]]
            for k in range(n)]
    reserved = set(pairs.ravel().tolist())
    dirt = _inject_dirt(rows, life, chan, reserved, geo, n_dup, rng)
    summary = {
        "case_rows": len(rows), "unique_case_ids": len({r[0] for r in rows}),
        "channels": {c: sum(r[2] == c for r in rows) for c in (CHANNEL_APP, CHANNEL_REWARD,
                                                              CHANNEL_MINI)},
        "reward_valid": sum(r[2] == CHANNEL_REWARD and r[14] == "是" for r in rows),
        "closed_share": round(float(life["closed"].mean()), 4),
        "open": int((~life["closed"]).sum()),
        "overdue": int(life["overdue"].sum()),
        "recurring_injected": len(pairs),
        "declared_mismatch": int((decl_v != vidx).sum()),
        "location_mix": {"river": int((comp == 0).sum()), "built_up": int((comp == 1).sum()),
                         "spread": int((comp == 2).sum())},
        "with_river_name": int((rivers != "").sum()),
        "report_time_formats": fmt_counts,
        "dirt": dirt,
    }
    return rows, summary


def _inject_dirt(rows: list[list[str]], life: dict[str, np.ndarray], chan: np.ndarray,
                 reserved: set[int], geo: _Geo, n_dup: int, rng: np.random.Generator
                 ) -> dict[str, int]:
    """Coordinates, statuses, duplicates and HTML the way real exports carry them."""
    free = np.array([k for k in rng.permutation(len(rows)) if k not in reserved])
    take = iter(free.tolist())
    counts = {k: 0 for k in DIRT_COUNTS}
    for k in [next(take) for _ in range(DIRT_COUNTS["outside_district"])]:
        counts["outside_district"] += 1
        if counts["outside_district"] <= 8:
            ring = geo.dongguan.intersection(geo.district.buffer(4000)).difference(geo.district)
            x, y = _random_points_in(ring, 1, rng)[0]
            lon, lat = _TO_LL.transform(x, y)
        else:
            lon, lat = FAR_AWAY_WGS84[counts["outside_district"] - 9]
        g = _gcj02(np.array([lon]), np.array([lat]))
        rows[k][7], rows[k][8] = _fmt_coord(g[0][0]), _fmt_coord(g[1][0])
    for k in [next(take) for _ in range(DIRT_COUNTS["blank_coordinates"])]:
        rows[k][7] = rows[k][8] = ""
        counts["blank_coordinates"] += 1
    for k in [next(take) for _ in range(DIRT_COUNTS["zero_coordinates"])]:
        rows[k][7] = rows[k][8] = "0"
        counts["zero_coordinates"] += 1
    for k in [next(take) for _ in range(DIRT_COUNTS["swapped_coordinates"])]:
        rows[k][7], rows[k][8] = rows[k][8], rows[k][7]
        counts["swapped_coordinates"] += 1
    for i, k in enumerate([next(take) for _ in range(DIRT_COUNTS["non_numeric_coordinates"])]):
        rows[k][7] = rows[k][8] = NON_NUMERIC[i % len(NON_NUMERIC)]
        counts["non_numeric_coordinates"] += 1
    for i, k in enumerate([next(take) for _ in range(DIRT_COUNTS["unknown_status"])]):
        rows[k][9] = UNKNOWN_STATUSES[i % len(UNKNOWN_STATUSES)]
        counts["unknown_status"] += 1
    for text in HTML_DESCRIPTIONS:
        rows[next(take)][12] = text
    counts["html_descriptions"] = len(HTML_DESCRIPTIONS)
    dups = [k for k in take if life["closed"][k] and chan[k] == CHANNEL_APP][:n_dup]
    for k in sorted(dups):
        update = list(rows[k])
        rows[k][9], rows[k][11] = "整改中", ""
        rows.append(update)
    counts["duplicate_ids"] = len(dups)
    return counts


# --------------------------------------------------------------------------- writing


def _ring(coords: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 6), round(float(y), 6)] for x, y in coords]


def _geojson_geometry(geom: Any) -> dict[str, Any]:
    """GeoJSON mapping with coordinates rounded to 6 decimals (RFC 7946 winding)."""
    if geom.geom_type == "Point":
        return {"type": "Point", "coordinates": _ring(np.asarray(geom.coords))[0]}
    if geom.geom_type == "LineString":
        return {"type": "LineString", "coordinates": _ring(np.asarray(geom.coords))}
    polys = [shapely.orient_polygons(p) for p in _polygons(geom)]
    rings = [[_ring(np.asarray(p.exterior.coords)), *(_ring(np.asarray(i.coords))
                                                       for i in p.interiors)] for p in polys]
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": rings[0]}
    return {"type": "MultiPolygon", "coordinates": rings}


def _write_geojson(path: Path, name: str, records: Iterable[dict[str, Any]]) -> int:
    """Write a FeatureCollection, one feature per line; returns the feature count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for rec in records:
        props = {k: v for k, v in rec.items() if k != "geometry"}
        feat = {"type": "Feature", "properties": props,
                "geometry": _geojson_geometry(rec["geometry"])}
        lines.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
    head = json.dumps({"type": "FeatureCollection", "name": name}, ensure_ascii=False)[:-1]
    path.write_text(head + ', "features": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
    return len(lines)


def _write_cases(path: Path, rows: Sequence[Sequence[str]]) -> None:
    """UTF-8 with BOM, the export's Chinese headers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CASE_COLUMNS)
        writer.writerows(rows)


# --------------------------------------------------------------------------- main


def _load_reference(reference_dir: Path) -> tuple[Polygon, Any, pd.DataFrame, pd.DataFrame]:
    """The projected district outline, 东莞, and the official towns and villages."""
    fc = json.loads((reference_dir / "zengcheng_and_neighbours_wgs84.geojson").read_text("utf-8"))
    shapes = {str(f["properties"]["adcode"]): shapely.geometry.shape(f["geometry"])
              for f in fc["features"]}
    district = max(_polygons(_to_xy(shapes[DISTRICT_CODE])), key=lambda p: p.area)
    district = Polygon(district.exterior)
    dongguan = _to_xy(shapes[DONGGUAN_CODE])
    towns = pd.read_csv(reference_dir / "zengcheng_towns_2023.csv", dtype=str)
    villages = pd.read_csv(reference_dir / "zengcheng_villages_2023.csv", dtype=str)
    villages = villages.rename(columns={"streetCode": "town_code"})[["code", "name", "town_code"]]
    return district, dongguan, towns[["code", "name"]], villages


def _boundaries(district: Polygon, towns: pd.DataFrame, villages: pd.DataFrame, scale: float,
                seed: int) -> dict[str, Any]:
    """All four levels as clean WGS84 coverages plus the projected helpers."""
    town_geoms, seats = _towns(district, _rng(seed, 1))
    town_codes = towns["code"].tolist()
    if [n for n in towns["name"]] != list(TOWN_SEATS):
        raise ValueError("reference towns do not match the known 13 towns of 增城区")
    village_geoms = _villages(town_geoms, seats, villages, town_codes, _rng(seed, 2))
    urban = villages["name"].str.contains("社区").to_numpy()
    counts = _grid_counts(shapely.area(np.asarray(village_geoms)), urban, round(N_GRIDS * scale))
    grid_geoms = _grids(village_geoms, counts, _rng(seed, 3))
    flat = [g for cells in grid_geoms for g in cells]
    clean = _clean_coverage(list(_to_ll(np.asarray(flat))))
    owners = np.repeat(np.arange(len(village_geoms)), counts)
    village_ll = [_merge(np.asarray(clean)[owners == k]) for k in range(len(village_geoms))]
    town_of = villages["town_code"].map({c: k for k, c in enumerate(town_codes)}).to_numpy()
    town_ll = [_merge(np.asarray(village_ll)[town_of == k]) for k in range(len(town_codes))]
    return {"grids": clean, "grid_counts": counts, "villages": village_ll, "towns": town_ll,
            "district": _merge(np.asarray(town_ll)), "seats": seats, "urban": urban}


def _boundary_records(b: dict[str, Any], towns: pd.DataFrame, villages: pd.DataFrame,
                      seed: int) -> dict[str, list[dict[str, Any]]]:
    """Feature records (properties + WGS84 geometry) for each level."""
    names = iter(_person_names(_rng(seed, 4), 1 + len(towns) + len(villages) + len(b["grids"])))
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
            grid_recs.append({"code": f"{code}{i:03d}", "name": f"{_short_village(name)}第{i:02d}网格",
                              "village_code": code, "chief": next(names),
                              "geometry": b["grids"][k]})
            k += 1
    return {"district": district, "towns": town_recs, "villages": village_recs,
            "grids": grid_recs}


def write_sample(out_dir: Path, *, seed: int = 20261127, scale: float = 1.0,
                 end_date: dt.date = dt.date(2026, 11, 27),
                 reference_dir: Path | None = None) -> dict:
    """Write the synthetic sample dataset under ``out_dir`` and summarise it.

    Parameters
    ----------
    out_dir
        Target folder; ``boundaries/``, ``rivers/``, ``context/`` and
        ``cases/`` are created in it.
    seed
        Random seed; the same seed gives byte-identical files.
    scale
        Multiplies the number of grid cells and cases (3 ≈ Guangzhou).
    end_date
        Last possible report date; statuses are as of this day.
    reference_dir
        Folder holding the reference files (default: the repo's ``data/reference``).

    Returns
    -------
    dict
        Counts of every layer, the case channels and states, and the dirt injected.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out_dir = Path(out_dir)
    ref = Path(reference_dir) if reference_dir else Path(__file__).resolve().parents[1] / "data" / "reference"
    district, dongguan, towns, villages = _load_reference(ref)
    b = _boundaries(district, towns, villages, scale, seed)
    recs = _boundary_records(b, towns, villages, seed)
    for level, fname in (("district", "district"), ("towns", "towns"), ("villages", "villages"),
                         ("grids", "grids")):
        _write_geojson(out_dir / "boundaries" / f"{fname}.geojson", fname, recs[level])
    town_xy = list(_to_xy(np.asarray(b["towns"])))
    rivers = _rivers(district, dongguan, town_xy, towns["name"].tolist(), _rng(seed, 5))
    _write_geojson(out_dir / "rivers" / "rivers.geojson", "rivers",
                   [{"code": r.code, "name": r.name, "kind": r.kind, "flows_into": r.flows_into,
                     "geometry": _to_ll(r.line)} for r in rivers])
    xintang = town_xy[towns["name"].tolist().index("新塘镇")]
    context = _context(rivers[0].line, xintang)
    _write_geojson(out_dir / "context" / "context.geojson", "context",
                   [{**c, "geometry": _to_ll(c["geometry"])} for c in context])
    geo = _Geo(district, dongguan, b["seats"], list(_to_xy(np.asarray(b["villages"]))),
               b["urban"], rivers)
    town_names = dict(zip(towns["code"], towns["name"], strict=True))
    rows, case_summary = _cases(geo, b["villages"], villages, town_names, scale, end_date, seed)
    _write_cases(out_dir / "cases" / "cases.csv", rows)
    return {"seed": seed, "scale": scale, "end_date": end_date.isoformat(),
            "district": 1, "towns": len(recs["towns"]), "villages": len(recs["villages"]),
            "grids": len(recs["grids"]), "rivers": len(rivers),
            "tributaries": sum(r.kind == "tributary" for r in rivers),
            "context_points": len(context), **case_summary}

"""Rivers and context points of the sample: 东江北干流, 增江 and 33 synthetic tributaries.

The main stem follows the district's real border with 东莞; the 增江 is a
smooth line through approximate waypoints; tributaries are grown upstream
from mouths on both, kept apart from the rivers already drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon

from battlemap.sample.boundaries import person_names, short_town
from battlemap.sample.geometry import project_point

__all__ = ["River", "build_rivers", "context_points", "river_chiefs"]

HILLY_TOWNS = {"派潭镇", "正果镇", "小楼镇", "中新镇", "朱村街道"}
CN_ORDINALS = "一二三四五六七八九十"


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
    entry = np.array(ring.interpolate(ring.project(Point(project_point(113.985, 23.455)))).coords[0])
    waypoints = [(113.945, 23.445), (113.905, 23.405), (113.872, 23.355), (113.846, 23.305),
                 (113.824, 23.255), (113.803, 23.205), (113.793, 23.160)]
    mouth = np.array(main.interpolate(main.project(Point(project_point(113.80, 23.125)))).coords[0])
    ctrl = np.vstack([entry, [project_point(*w) for w in waypoints], mouth])
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
    west_x = project_point(113.70, 23.2)[0]
    north_y = project_point(113.9, 23.28)[1]
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
        name = f"{short_town(town)}{CN_ORDINALS[per_town[town] - 1]}{suffix}（示例）"
        rivers.append(River(f"T{k:02d}", name, "tributary", into, line))
    return rivers


def build_rivers(district: Polygon, dongguan: Any, towns: list[Any], town_names: list[str],
            rng: np.random.Generator) -> list[River]:
    """The two main rivers and the 33 tributaries."""
    main = _main_stem(district, dongguan)
    zj = _zengjiang(district, main, rng)
    return [River("DJBG", "东江北干流", "main", "", main),
            River("ZJ", "增江", "main", "DJBG", zj),
            *_tributaries(district, main, zj, towns, town_names, rng)]


def river_chiefs(rivers: list[River], rng: np.random.Generator) -> dict[str, str]:
    """A synthetic river chief (河长) for every river, by code: 河长制 gives each river one.

    ``rng`` is a stream of its own, so the chiefs change nothing else in the sample.
    """
    return dict(zip((r.code for r in rivers), person_names(rng, len(rivers)), strict=True))


def context_points(main: LineString, xintang: Any) -> list[dict[str, Any]]:
    """国考大墩断面 on the main stem (south-west) and 永和污水处理厂 in 新塘镇."""
    dadun = main.interpolate(main.project(Point(project_point(113.578, 23.093))))
    target = Point(project_point(113.600, 23.160))
    core = xintang.buffer(-500.0)
    plant = target if core.contains(target) else core.exterior.interpolate(
        core.exterior.project(target))
    return [
        {"code": "GK001", "name": "大墩断面（国考）", "kind": "monitoring_section",
         "label": "Ⅲ类", "geometry": dadun},
        {"code": "WS001", "name": "永和污水处理厂", "kind": "treatment_plant",
         "label": "处理能力 10万吨/日", "geometry": plant},
    ]


"""The sample's case export: where, when and what each report is, and its lifecycle.

Positions cluster along rivers and around settlements; statuses, deadlines
and closures follow the problem type; some cases recur where an earlier one
was closed. The text columns and the dirt come from :mod:`.fields`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from battlemap.coords import wgs84_to_gcj02
from battlemap.sample.boundaries import short_village
from battlemap.sample.fields import (
    CHANNEL_APP,
    CHANNEL_MINI,
    CHANNEL_REWARD,
    DIRT_COUNTS,
    case_ids,
    channels,
    descriptions,
    fmt_coord,
    format_times,
    inject_dirt,
    phone_numbers,
)
from battlemap.sample.geometry import TO_LL, random_points_in, random_stream
from battlemap.sample.rivers import River

__all__ = ["CaseGeometry", "case_rows"]

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
N_CASES, N_RECURRING = 32_197, 300
START_DATE = dt.date(2019, 1, 1)
CAMPAIGN_DAYS = 90  # a reporting campaign before end_date triples the daily rate

STATUS_SYNONYMS = {"已交办": "已派发", "整改中": "处理中", "已销号": "已办结"}


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
class CaseGeometry:
    """The geometry the case generator needs (projected CRS unless named _ll)."""

    district: Polygon
    dongguan: Any
    seats: np.ndarray
    village_xy: list[Any]
    village_urban: np.ndarray
    rivers: list[River]


def _sample_near_rivers(geo: CaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
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


def _sample_built_up(geo: CaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
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


def _case_locations(geo: CaseGeometry, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Clustered case positions and their component (0 river, 1 built-up, 2 spread)."""
    comp = rng.choice(3, n, p=[0.5, 0.35, 0.15])
    xy = np.empty((n, 2))
    shapely.prepare(geo.district)
    xy[comp == 0] = _sample_near_rivers(geo, int((comp == 0).sum()), rng)
    xy[comp == 1] = _sample_built_up(geo, int((comp == 1).sum()), rng)
    xy[comp == 2] = random_points_in(geo.district, int((comp == 2).sum()), rng)
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


def case_rows(geo: CaseGeometry, village_ll: list[Any], villages: pd.DataFrame, town_names: dict[str, str],
           scale: float, end: dt.date, seed: int) -> tuple[list[list[str]], dict[str, Any]]:
    """All case rows (with the dirt) and their summary."""
    rng = random_stream(seed, 9)
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
    short_v = np.array([short_village(v) for v in vnames])[vidx]
    desc = descriptions(types, short_v, rivers, rng)
    lon, lat = TO_LL.transform(xy[:, 0], xy[:, 1])
    glon, glat = wgs84_to_gcj02(np.asarray(lon), np.asarray(lat))
    chan, valid = channels(n, scale, rng)
    times, fmt_counts = format_times(reported, rng)
    status = life["status"].astype(object)
    syn = rng.random(n) < 0.12
    for word, alt in STATUS_SYNONYMS.items():
        status[syn & (status == word)] = alt
    ids = case_ids(reported)
    phones = phone_numbers(n, rng)
    closed_txt = pd.DatetimeIndex(life["closed_at"].astype("datetime64[ns]")).strftime(
        "%Y-%m-%d %H:%M")
    deadline_txt = pd.DatetimeIndex(life["deadline"].astype("datetime64[ns]")).strftime("%Y-%m-%d")
    rows = [[ids[k], times[k], chan[k], types[k], vtowns[decl_v[k]], vnames[decl_v[k]], rivers[k],
             fmt_coord(glon[k]), fmt_coord(glat[k]), status[k], deadline_txt[k],
             closed_txt[k] if life["closed"][k] else "", desc[k], phones[k], valid[k]]
            for k in range(n)]
    reserved = set(pairs.ravel().tolist())
    dirt = inject_dirt(rows, life, chan, reserved, geo.district, geo.dongguan, n_dup, rng)
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


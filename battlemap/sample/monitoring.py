"""The sample's monitoring sections and their synthetic monthly water-quality series.

SAMPLE DATA, synthetic: not real monitoring results. Five sections:
大墩 (国考, on the 东江北干流, target Ⅲ类), the 增江 near its mouth (省考,
Ⅱ类), two tributaries near their mouths (市考, Ⅳ and Ⅲ类) and a 交接断面
where a tributary crosses from one town into another (Ⅳ类). One sample a
month from 2019-01 to the end date, consistent with the seed's story: 大墩
is Ⅳ类 on 氨氮 and 总磷 until October 2019 and meets Ⅲ类 from November 2019,
but for two flood-season months (2021-06 总磷, 2023-08 氨氮), with 氨氮 and
总磷 close to the Ⅲ类 limits twice running in 2026 (warnings). The file
carries the dirt of real exports: a title row, units in the headers and a
unit row, ``<0.01``, ``0.01L``, ``ND``, ``未检出``, blanks, ``—``, dates in
three writings, an unreadable value and a row of an unknown section.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point

from battlemap.sample.boundaries import short_town
from battlemap.sample.rivers import River

__all__ = ["HEADER", "monitoring_rows", "section_points", "with_section_fields", "write_monitoring"]

TITLE = "增城区地表水监测断面水质月报（示例数据：合成数据，非真实监测结果）"
HEADER = ("断面名称", "采样时间", "水温(℃)", "pH", "溶解氧(mg/L)", "高锰酸盐指数(mg/L)",
          "化学需氧量（mg/L）", "五日生化需氧量", "氨氮(mg/L)", "总磷(mg/L)", "总氮(mg/L)",
          "粪大肠菌群(个/L)", "备注")
UNITS = ("", "", "℃", "无量纲", "mg/L", "mg/L", "mg/L", "mg/L", "mg/L", "mg/L", "mg/L", "个/L", "")
# per section: (NH3-N, TP, COD, CODMn, BOD5, DO) uniform ranges, early (2019) and late (2025 on)
PROFILES = {
    "GK001": (((0.35, 0.78), (0.09, 0.155), (10, 18), (2.8, 5.0), (1.5, 3.5), (6.3, 8.0)),) * 2,
    "SK001": (((0.15, 0.39), (0.04, 0.085), (6, 12.5), (1.8, 3.6), (1.0, 2.8), (6.8, 8.2)),) * 2,
    "SJ001": (((3.0, 8.0), (0.30, 0.60), (25, 45), (6, 12), (5, 11), (1.5, 3.5)),
              ((0.8, 1.6), (0.15, 0.32), (15, 28), (4, 9), (3, 5.8), (3.2, 5.5))),
    "SJ002": (((0.10, 0.45), (0.02, 0.12), (8, 16), (2, 4.5), (1, 3), (6, 8)),) * 2,
    "JJ001": (((0.6, 1.7), (0.12, 0.33), (12, 26), (3, 8), (2, 5), (3.5, 6.5)),) * 2,
}
# 大墩 before November 2019: Ⅳ类 on 氨氮 and 总磷
DADUN_BEFORE = ((1.05, 1.45), (0.21, 0.28), (16, 22), (4.5, 6.5), (3.0, 4.5), (4.2, 6.0))
DADUN_FIXED = {"2021-06": {"TP": 0.23}, "2023-08": {"NH3-N": 1.12},
               "2026-03": {"TP": 0.172}, "2026-04": {"TP": 0.181},
               "2026-08": {"NH3-N": 0.86}, "2026-09": {"NH3-N": 0.91}, "2026-10": {"NH3-N": 0.83}}


def with_section_fields(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The seed's context points with the sections' fields: 大墩 on the 东江北干流, 国考, Ⅲ类."""
    dadun = {"river": "DJBG", "target": "Ⅲ类", "section_kind": "国考"}
    blank = dict.fromkeys(dadun, "")
    return [{**point, **(dadun if point["code"] == "GK001" else blank)} for point in points]


def section_points(rivers: list[River], towns: list[Any], town_names: list[str]
                   ) -> list[dict[str, Any]]:
    """The four sections beside 大墩: 增江 mouth, two tributary mouths, one town border."""
    by_code = {r.code: r for r in rivers}

    def near_mouth(river: River, share: float) -> Point:
        line = river.line
        into = by_code[river.flows_into].line
        mouth_last = Point(line.coords[-1]).distance(into) < Point(line.coords[0]).distance(into)
        return line.interpolate(share if mouth_last else 1 - share, normalized=True)

    zj, urban, hill = by_code["ZJ"], by_code["T11"], by_code["T17"]
    border, names = _border_crossing(rivers, towns, town_names)
    return [
        _section("SK001", "增江口断面（省考）", zj.code, "Ⅱ类", "省考", near_mouth(zj, 0.95)),
        _section("SJ001", f"{urban.name.removesuffix('（示例）')}口断面（市考）", urban.code, "Ⅳ类",
                 "市考", near_mouth(urban, 0.9)),
        _section("SJ002", f"{hill.name.removesuffix('（示例）')}口断面（市考）", hill.code, "Ⅲ类",
                 "市考", near_mouth(hill, 0.9)),
        _section("JJ001", f"{short_town(names[0])}—{short_town(names[1])}交接断面", border.code,
                 "Ⅳ类", "交接断面", _crossing_point(border, towns, town_names, names)),
    ]


def _section(code: str, name: str, river: str, target: str, kind: str, point: Point
             ) -> dict[str, Any]:
    return {"code": code, "name": name, "kind": "monitoring_section", "label": f"目标{target}",
            "river": river, "target": target, "section_kind": kind, "geometry": point}


def _border_crossing(rivers: list[River], towns: list[Any], town_names: list[str]
                     ) -> tuple[River, tuple[str, str]]:
    """The first tributary (by code) that runs from one town into another, and the two towns."""
    for river in rivers:
        if river.kind != "tributary":
            continue
        source, mouth = Point(river.line.coords[0]), Point(river.line.coords[-1])
        where = [next((n for t, n in zip(towns, town_names, strict=True) if t.contains(p)), None)
                 for p in (source, mouth)]
        if where[0] and where[1] and where[0] != where[1]:
            return river, (where[0], where[1])
    raise ValueError("no tributary crosses a town border")


def _crossing_point(river: River, towns: list[Any], town_names: list[str],
                    names: tuple[str, str]) -> Point:
    upper = towns[town_names.index(names[0])]
    crossing = river.line.intersection(upper.boundary)
    points = shapely.get_parts(crossing) if not crossing.is_empty else []
    return Point(points[0].coords[0]) if len(points) else river.line.interpolate(0.5, True)


def monitoring_rows(end_date: dt.date, rng: np.random.Generator) -> list[list[str]]:
    """The table's rows (title, header, unit row, samples), all text, as a station exports them."""
    rows: list[list[str]] = [[TITLE], list(HEADER), list(UNITS)]
    names = {"GK001": "大墩", "SK001": "增江口断面（省考）", "SJ001": "SJ001",
             "SJ002": "派潭一河口断面", "JJ001": "JJ001"}
    month = dt.date(2019, 1, 1)
    k = 0
    while month <= end_date:
        for code in PROFILES:
            day = int(rng.integers(5, 21))
            when = month.replace(day=day)
            if when > end_date:
                continue
            rows.append([names[code], _date_text(when, k), *_values(code, when, rng, k), ""])
            k += 1
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    rows.insert(60, ["旧镇断面", "2020-05-12", "26.1", "7.2", "6.1", "3.3", "12", "2.1", "0.61",
                     "0.12", "1.9", "3300", "断面已撤销"])
    rows[100][6] = "待复核"
    return rows


def _date_text(when: dt.date, k: int) -> str:
    if k % 11 == 3:
        return f"{when.year}/{when.month}/{when.day}"
    if k % 13 == 5:
        return f"{when.year}年{when.month}月{when.day}日"
    return when.isoformat()


def _values(code: str, when: dt.date, rng: np.random.Generator, k: int) -> list[str]:
    early, late = PROFILES[code]
    ranges = DADUN_BEFORE if code == "GK001" and when < dt.date(2019, 11, 1) else None
    if ranges is None:
        t = min(max((when.year - 2019) / 6, 0.0), 1.0)
        ranges = tuple((a0 + (a1 - a0) * t, b0 + (b1 - b0) * t)
                       for (a0, b0), (a1, b1) in zip(early, late, strict=True))
    nh3, tp, cod, codmn, bod, do = (float(rng.uniform(lo, hi)) for lo, hi in ranges)
    fixed = DADUN_FIXED.get(when.strftime("%Y-%m"), {}) if code == "GK001" else {}
    nh3, tp = fixed.get("NH3-N", nh3), fixed.get("TP", tp)
    temp = 23 + 7 * np.sin((when.month - 4) / 12 * 2 * np.pi) + rng.normal(0, 1)
    ph = rng.uniform(6.7, 7.8)
    values = [f"{temp:.1f}", f"{ph:.2f}", f"{do:.1f}", f"{codmn:.1f}", f"{cod:.0f}",
              f"{bod:.1f}", f"{nh3:.3f}", f"{tp:.3f}", f"{nh3 * 1.6 + 0.4:.2f}",
              f"{int(rng.integers(2, 90)) * 100}"]
    if code == "SJ002" and k % 4 == 1:
        values[7] = ("<0.01", "0.01L")[k % 8 == 1]
    if code == "SJ002" and k % 9 == 2:
        values[6] = ("ND", "未检出")[k % 18 == 2]
    if k % 7 == 4:
        values[5] = ""   # 五日生化需氧量 not measured this month
    if k % 29 == 6:
        values[1] = "—"
    return values


def write_monitoring(path: Path, rows: list[list[str]]) -> int:
    """UTF-8 with BOM (Excel opens it); returns the number of sample rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return len(rows) - 3

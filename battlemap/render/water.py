"""Section pages (断面水质) of the HTML atlas: ``section/<id>.html``, and the index panel's data.

Each monitored section gets one self-contained page that draws the figures
of :class:`battlemap.monitoring.Monitoring` (it counts nothing): the class of
every sample as a coloured strip, the trend of the key parameters against
their target-class limits (inline SVG, offline), the attainment figures per
year, the warnings of the last twelve months, and the rivers, towns and
villages upstream ranked by their open cases, linked to their pages. Every
text is escaped. :func:`water_shared` gives ``atlas-water.js`` what the
index panel and the map popups show.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from battlemap._io import write_text
from battlemap._model import Atlas
from battlemap._paths import safe_stem
from battlemap.attainment import twelve_months
from battlemap.gb3838 import CLASS_COLORS, LIMITS, class_label, target_limit

__all__ = ["SECTION_DIR", "section_href", "water_shared", "write_section_pages"]

SECTION_DIR = "section"
Stem = Callable[[str, str], str]
_esc = html.escape


def section_href(section_id: str) -> str:
    """The section page's path relative to the output folder."""
    return f"{SECTION_DIR}/{safe_stem(section_id)}.html"


def _color(value: object) -> str:
    return "#bbbbbb" if pd.isna(value) else CLASS_COLORS[int(value)]  # type: ignore[call-overload]


def _ratio(met: int, months: int) -> str:
    return f"{met}/{months} 个月" + (f"（{met / months:.0%}）" if months else "")


def water_shared(atlas: Atlas, latlon: Callable[[pd.Series], list]) -> dict | None:
    """The sections for atlas-water.js: the index panel and the popups' links; None without data."""
    monitoring = atlas.extra.get("monitoring")
    if monitoring is None:
        return None
    months = monitoring.months
    window = twelve_months(atlas.as_of)
    sections = []
    points = latlon(monitoring.sections.geometry)
    recent = monitoring.warnings[monitoring.warnings["recent"]]
    for (section_id, row), point in zip(monitoring.sections.iterrows(), points, strict=True):
        mine = months[months["section_id"] == section_id].set_index("month")
        strip = [[m, class_label(mine.at[m, "class"]) if m in mine.index else "无数据",
                  _color(mine.at[m, "class"]) if m in mine.index else "#eeeeee",
                  None if m not in mine.index or pd.isna(mine.at[m, "met"])
                  else bool(mine.at[m, "met"])] for m in window]
        sections.append({
            "id": str(section_id), "href": section_href(str(section_id)), "name": str(row["name"]),
            "kind": str(row["kind"]), "river": str(row["river"]), "at": point,
            "target": str(row["target_label"]), "latest": str(row["latest_label"]),
            "latestColor": _color(row["latest_class"]),
            "latestDate": "" if pd.isna(row["last"]) else f"{row['last']:%Y-%m-%d}",
            "met": None if pd.isna(row["latest_met"]) else bool(row["latest_met"]),
            "ytd": [int(row["ytd_met"]), int(row["ytd_months"])],
            "last12": [int(row["last12_met"]), int(row["last12_months"])],
            "since": str(row["met_since"]), "strip": strip,
            "warnings": [[str(d), str(m)] for d, m in recent.loc[
                recent["section_id"] == section_id, ["date", "message"]].to_numpy()[::-1]]})
    return {"sections": sections, "year": atlas.as_of.year}


def write_section_pages(atlas: Atlas, out_dir: Path, stem: Stem) -> list[Path]:
    """Write one page per monitored section; ``stem(level, id)`` names the linked unit pages.

    The pages belong to the district's web job (``build._job_files``), so the
    manifest deletes those of sections no longer monitored.
    """
    monitoring = atlas.extra.get("monitoring")
    sections = [] if monitoring is None else [str(i) for i in monitoring.sections.index]
    written = [write_text(Path(out_dir) / section_href(section_id),
                          _page(atlas, monitoring, section_id, stem)) for section_id in sections]
    return written


def _page(atlas: Atlas, monitoring, section_id: str, stem: Stem) -> str:
    row = monitoring.sections.loc[section_id]
    samples = monitoring.samples[monitoring.samples["section_id"] == section_id]
    sample = ('<div class="bm-sample" title="示例数据，非真实监测结果">示例数据 sample data</div>'
              if atlas.config.project.sample else "")
    parts = [
        _figures(row, atlas.as_of.year),
        "<h2>逐次水质类别 Class per sample</h2>", _strip(samples),
        "<h2>逐年达标 Months meeting the target, per year</h2>", _years(monitoring, section_id),
        "<h2>主要指标趋势 Trends against the target limit</h2>",
        "".join(_trend(samples, code, row["target"]) for code in
                atlas.config.monitoring.trend_parameters if code in samples.columns),
        "<h2>近12个月预警 Warnings, last 12 months</h2>", _warnings(monitoring, section_id),
        "<h2>上游河涌 Rivers upstream, by open cases</h2>", _rivers(monitoring, section_id, stem),
        "<h2>上游镇街 Towns upstream</h2>", _units(monitoring, section_id, "town", stem, 20),
        "<h2>上游村居（前15） Villages upstream (top 15)</h2>",
        _units(monitoring, section_id, "village", stem, 15),
        "<p class='bm-w-note'>上游：断面所在河流及（逐级）汇入该河流的全部支流；案件为分派到这些河流、"
        "且位于该镇街/村居的未销号案件。Upstream: the section's river and every river flowing "
        "into it; cases assigned to those rivers and located in the unit.</p>",
        "<h2>监测数据 Samples</h2>", _samples_table(samples, monitoring),
    ]
    note = " · ".join(x for x in (atlas.config.project.note, atlas.config.project.data_source) if x)
    title = f"{row['name']} 水质监测"
    district = str(atlas.units["district"]["name"].iloc[0])
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_esc(title)} · {_esc(atlas.config.project.name)}</title>"
        "<link rel='icon' href='data:,'><link rel='stylesheet' href='../assets/atlas.css'>"
        f"<style>{_CSS}</style></head><body class='bm-water-page'>"
        "<header class='bm-header'><div class='bm-titles'><nav class='bm-crumbs'>"
        f"<a class='bm-crumb' href='../index.html'>{_esc(district)}</a><span class='bm-sep'>›</span>"
        f"<span class='bm-crumb bm-here'>断面 {_esc(str(row['name']))}</span></nav>"
        f"<h1>{_esc(title)}（{_esc(str(row['river']))}）</h1></div>"
        f"<div class='bm-meta'><span class='bm-asof'>数据截至 {atlas.as_of.isoformat()}</span></div>"
        f"{sample}</header><main class='bm-w-main'>{''.join(parts)}</main>"
        f"<footer class='bm-footer'>{_esc(note)} · 水质类别依 GB 3838-2002 表1 单因子评价</footer>"
        "</body></html>")


def _figures(row: pd.Series, year: int) -> str:
    met = row["latest_met"]
    verdict = "—" if pd.isna(met) else ("达标" if met else "不达标")
    since = f"{row['met_since']} 起连续达标" if row["met_since"] else "最近一个月未达标"
    boxes = [("目标水质 target", str(row["target_label"]), ""),
             ("最新类别 latest", f"{row['latest_label']} {verdict}",
              "" if pd.isna(row["last"]) else f"{row['last']:%Y-%m-%d}"),
             (f"{year}年以来 year to date", _ratio(int(row["ytd_met"]), int(row["ytd_months"])),
              "达标月数/监测月数"),
             ("近12个月 last 12 months", _ratio(int(row["last12_met"]), int(row["last12_months"])),
              since),
             ("主要超标因子 main exceeding", str(row["main_exceeding"]) or "无", "全部监测记录")]
    cells = "".join(f"<div class='bm-w-fig'><div class='bm-w-k'>{_esc(k)}</div>"
                    f"<div class='bm-w-v'>{_esc(v)}</div><div class='bm-w-s'>{_esc(s)}</div></div>"
                    for k, v, s in boxes)
    swatch = f"<span class='bm-w-swatch' style='background:{_color(row['latest_class'])}'></span>"
    return f"<section class='bm-w-figs'>{swatch}{cells}</section>"


def _strip(samples: pd.DataFrame) -> str:
    """One coloured bar per sample, years marked; the target line under unmet samples."""
    n = len(samples)
    width, bar = 960, 960 / max(n, 1)
    rects, labels = [], []
    last_year = None
    for i, (when, cls, label, met) in enumerate(zip(samples["sampled_at"], samples["class"],
                                                    samples["class_label"], samples["met"],
                                                    strict=True)):
        x = i * bar
        tip = f"{when:%Y-%m-%d} {label}" + ("" if pd.isna(met) else (" 达标" if met else " 未达标"))
        rects.append(f"<rect x='{x:.1f}' y='0' width='{max(bar - 0.5, 0.5):.1f}' height='28' "
                     f"fill='{_color(cls)}'><title>{_esc(tip)}</title></rect>")
        if not pd.isna(met) and not met:
            rects.append(f"<rect x='{x:.1f}' y='30' width='{max(bar - 0.5, 0.5):.1f}' height='4' "
                         "fill='#222'/>")
        if when.year != last_year:
            labels.append(f"<text x='{x:.1f}' y='48' font-size='11'>{when.year}</text>")
            last_year = when.year
    legend = "".join(f"<span class='bm-w-key'><i style='background:{c}'></i>{_esc(class_label(k))}"
                     "</span>" for k, c in CLASS_COLORS.items())
    return (f"<svg class='bm-w-strip' viewBox='0 0 {width} 52' role='img' aria-label='逐次水质类别'>"
            f"{''.join(rects)}{''.join(labels)}</svg><div class='bm-w-legend'>{legend}"
            "<span class='bm-w-key'><i style='background:#222;height:3px'></i>未达目标</span></div>")


def _trend(samples: pd.DataFrame, code: str, target: object) -> str:
    """A line of one parameter with its target-class limit as a dashed line."""
    limit = LIMITS[code]
    values = samples[code].to_numpy(float)
    nd = samples[f"{code}_nd"].to_numpy(bool)
    if not np.isfinite(values).any():
        return ""
    bound = np.nan if pd.isna(target) else target_limit(code, int(target))
    top = float(np.nanmax([np.nanmax(values), 0 if np.isnan(bound) else bound * 1.25]))
    w, h, left, bottom = 460, 150, 40, 20
    t0, t1 = samples["sampled_at"].min(), samples["sampled_at"].max()
    span = max((t1 - t0).days, 1)

    def xy(when: pd.Timestamp, value: float) -> tuple[float, float]:
        return (left + (w - left - 8) * (when - t0).days / span,
                h - bottom - (h - bottom - 8) * value / top)

    points = [xy(t, v) for t, v in zip(samples["sampled_at"], values, strict=True) if np.isfinite(v)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    marks = "".join(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='2.5' fill='none' stroke='#555'>"
                    f"<title>{t:%Y-%m-%d} 低于检出限</title></circle>"
                    for t, v, d in zip(samples["sampled_at"], values, nd, strict=True)
                    if d and np.isfinite(v) for x, y in [xy(t, v)])
    line = ""
    if np.isfinite(bound):
        _, y = xy(t0, bound)
        line = (f"<line x1='{left}' x2='{w - 8}' y1='{y:.1f}' y2='{y:.1f}' stroke='#d7191c' "
                f"stroke-dasharray='5 3'/><text x='{w - 10}' y='{y - 3:.1f}' font-size='10' "
                f"text-anchor='end' fill='#d7191c'>目标限值 {bound:g}</text>")
    axis = (f"<line x1='{left}' x2='{left}' y1='8' y2='{h - bottom}' stroke='#999'/>"
            f"<text x='{left - 4}' y='12' font-size='10' text-anchor='end'>{top:.3g}</text>"
            f"<text x='{left - 4}' y='{h - bottom}' font-size='10' text-anchor='end'>0</text>"
            f"<text x='{left}' y='{h - 4}' font-size='10'>{t0:%Y-%m}</text>"
            f"<text x='{w - 8}' y='{h - 4}' font-size='10' text-anchor='end'>{t1:%Y-%m}</text>")
    title = f"{limit.name} {code}（{limit.unit}）" + ("，下限" if limit.bound == "min" else "")
    return (f"<figure class='bm-w-trend'><figcaption>{_esc(title)}</figcaption>"
            f"<svg viewBox='0 0 {w} {h}' role='img' aria-label='{_esc(title)}'>{axis}{line}"
            f"<polyline points='{path}' fill='none' stroke='#1f4e8c' stroke-width='1.4'/>"
            f"{marks}</svg></figure>")


def _table(headers: list[str], rows: list[list[str]], raw: set[int] | None = None) -> str:
    raw = raw or set()
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{v if k in raw else _esc(str(v))}</td>"
                                    for k, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table class='bm-w-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _years(monitoring, section_id: str) -> str:
    years = monitoring.years[monitoring.years["section_id"] == section_id]
    return _table(["年份 year", "达标月数 months met", "监测月数 months", "达标率 rate"],
                  [[str(y), str(m), str(n), f"{m / n:.0%}" if n else "—"]
                   for y, m, n in zip(years["year"], years["met"], years["months"], strict=True)])


def _warnings(monitoring, section_id: str) -> str:
    mine = monitoring.warnings[(monitoring.warnings["section_id"] == section_id)
                               & monitoring.warnings["recent"]]
    if mine.empty:
        return "<p>无预警 none</p>"
    return _table(["日期 date", "预警 warning"],
                  [[d, m] for d, m in zip(mine["date"], mine["message"], strict=True)])


def _link(level: str, unit_id: str, name: str, stem: Stem) -> str:
    return f"<a href='../{level}/{_esc(stem(level, unit_id))}.html'>{_esc(name)}</a>"


def _rivers(monitoring, section_id: str, stem: Stem) -> str:
    mine = monitoring.rivers[monitoring.rivers["section_id"] == section_id]
    rows = [[str(r), _link("river", str(i), str(n), stem), str(o), str(d)]
            for r, i, n, o, d in zip(mine["rank"], mine["river_id"], mine["name"], mine["open"],
                                     mine["overdue"], strict=True)]
    return _table(["排名", "河涌 river", "未销号 open", "超期 overdue"], rows, raw={1})


def _units(monitoring, section_id: str, level: str, stem: Stem, top: int) -> str:
    units = monitoring.units
    mine = units[(units["section_id"] == section_id) & (units["level"] == level)].head(top)
    rows = [[str(r), _link(level, str(i), str(n), stem), str(o), str(d)]
            for r, i, n, o, d in zip(mine["rank"], mine["unit_id"], mine["name"], mine["open"],
                                     mine["overdue"], strict=True)]
    label = "镇街 town" if level == "town" else "村居 village"
    return _table(["排名", label, "未销号 open", "超期 overdue"], rows, raw={1})


def _samples_table(samples: pd.DataFrame, monitoring) -> str:
    codes = list(monitoring.parameters)
    headers = ["采样日期", "类别", "达标", *[f"{LIMITS[c].name}" for c in codes], "超标因子"]
    rows = []
    for _, s in samples.iloc[::-1].iterrows():
        values = ["未检出" if s[f"{c}_nd"] and np.isnan(s[c]) else
                  (f"<{s[c]:g}" if s[f"{c}_nd"] else ("" if np.isnan(s[c]) else f"{s[c]:g}"))
                  for c in codes]
        met = "" if pd.isna(s["met"]) else ("是" if s["met"] else "否")
        rows.append([f"{s['sampled_at']:%Y-%m-%d}", s["class_label"], met, *values, s["exceeding"]])
    return f"<details><summary>全部 {len(rows)} 次监测</summary>{_table(headers, rows)}</details>"


_CSS = """
.bm-water-page{overflow:auto;height:auto}.bm-w-main{padding:12px 20px;max-width:1000px}
.bm-w-figs{display:flex;flex-wrap:wrap;gap:10px;align-items:stretch}
.bm-w-fig{border:1px solid #ddd;border-radius:4px;padding:6px 10px;min-width:150px}
.bm-w-k{font-size:12px;color:#555}.bm-w-v{font-size:18px;font-weight:bold}.bm-w-s{font-size:11px;color:#777}
.bm-w-swatch{width:14px;border-radius:3px}.bm-w-strip{width:100%;height:auto}
.bm-w-legend{font-size:12px}.bm-w-key{margin-right:10px}.bm-w-key i{display:inline-block;width:12px;
height:12px;margin-right:3px;vertical-align:middle}.bm-w-trend{display:inline-block;margin:4px 10px 4px 0;
width:460px}.bm-w-trend figcaption{font-size:13px}.bm-w-table{border-collapse:collapse;font-size:13px;
margin:4px 0 10px}.bm-w-table td,.bm-w-table th{border:1px solid #ccc;padding:2px 8px}
.bm-w-table th{background:#f0f0f0}.bm-w-note{font-size:12px;color:#555}h2{font-size:16px;margin:14px 0 4px}
"""

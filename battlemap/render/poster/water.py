"""The district poster's water-quality panel: the first section's (大墩's) class and attainment.

Draws what :class:`battlemap.monitoring.Monitoring` holds: the latest class
and whether it meets the target, the months met this year and in the last
twelve months, since when the target is met, and the twelve months as a
strip of class colours (a black bar under a month that missed the target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from battlemap.attainment import twelve_months
from battlemap.gb3838 import CLASS_COLORS
from battlemap.render.fonts import clip_to_width
from battlemap.render.poster.layout import Cursor

if TYPE_CHECKING:
    from battlemap.render.poster.sheet import Sheet
    from battlemap.render.poster.view import View

__all__ = ["draw_water"]


def draw_water(sheet: Sheet, cur: Cursor, view: View, heading) -> None:
    """The panel, under ``heading(sheet, cur, text)``; nothing without monitoring data."""
    monitoring = sheet.ctx.atlas.extra.get("monitoring")
    if view.level != "district" or monitoring is None or monitoring.sections.empty:
        return
    s = sheet.s
    section_id = monitoring.sections.index[0]
    row = monitoring.sections.loc[section_id]
    heading(sheet, cur, clip_to_width(f"水质 {row['name']}", 9 * s, cur.w))
    met = "" if pd.isna(row["latest_met"]) else ("达标" if row["latest_met"] else "未达标")
    lines = [f"最新 {row['latest_label']} {met}（{row['last']:%Y-%m-%d}，目标{row['target_label']}）",
             f"今年 {row['ytd_met']}/{row['ytd_months']} 个月达标，近12个月 "
             f"{row['last12_met']}/{row['last12_months']} 个月达标",
             f"{row['met_since']} 起连续达标" if row["met_since"] else "最近一个月未达标"]
    size = 6.6 * s
    for line in lines:
        cur.y -= size * 1.45
        sheet.text(cur.x, cur.y, clip_to_width(line, size, cur.w), size, va="baseline")
    months = monitoring.months[monitoring.months["section_id"] == section_id].set_index("month")
    window = twelve_months(sheet.ctx.atlas.as_of)
    cell = cur.w / len(window)
    cur.y -= size * 2.0
    boxes, colors, misses = [], [], []
    for k, month in enumerate(window):
        found = month in months.index and not pd.isna(months.at[month, "class"])
        boxes.append((cur.x + k * cell, cur.y, cell * 0.9, size * 1.2))
        colors.append(CLASS_COLORS[int(months.at[month, "class"])] if found else "#eeeeee")
        if found and months.at[month, "met"] is not pd.NA and not months.at[month, "met"]:
            misses.append((cur.x + k * cell, cur.y - 1.2 * s, cell * 0.9, 0.9 * s))
    sheet.rects(boxes, colors)
    if misses:
        sheet.rects(misses, ["#222222"] * len(misses))
    sheet.text(cur.x, cur.y - size * 1.1, f"{window[0]} 至 {window[-1]} 逐月类别", size * 0.8,
               va="baseline", color="#555555")
    cur.y -= size * 2.2 + 6 * s

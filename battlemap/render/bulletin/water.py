"""The bulletin's water-quality section (八、断面水质): one self-contained section function.

Draws what :class:`battlemap.monitoring.Monitoring` holds: a paragraph per
section (latest class, attainment year to date and over twelve months,
since when it meets its target, main exceeding parameters), a chart of the
first section's (大墩's) class month by month over its whole record, the
warnings (预警) of the last twelve months, and the rivers and towns upstream
of the first section ranked by their open cases.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from battlemap.gb3838 import CLASS_COLORS, CLASS_LABELS
from battlemap.render.document import Block, Column, Figure, Heading, Paragraph, Table, cells

__all__ = ["WATER_HEADING", "water_section"]

WATER_HEADING = "八、断面水质"


def water_section(monitoring, as_of) -> list[Block]:
    """The section's blocks; [] without monitoring data."""
    if monitoring is None or monitoring.sections.empty:
        return []
    sections = monitoring.sections
    first_id = str(sections.index[0])
    blocks: list[Block] = [Heading(WATER_HEADING)]
    blocks += [Paragraph(_sentence(row)) for _, row in sections.iterrows()]
    blocks.append(Figure(partial(_chart_months, monitoring, first_id, as_of),
                         f"{sections.at[first_id, 'name']} 逐月水质类别", height=150))
    recent = monitoring.warnings[monitoring.warnings["recent"]]
    names = sections["name"].astype(str)
    blocks += [Heading("近12个月水质预警", level=2), Table(
        (Column("断面", 110), Column("日期", 60), Column("预警", 320)),
        tuple(cells(names.get(s, s), d, (m, "warn")) for s, d, m in
              zip(recent["section_id"], recent["date"], recent["message"], strict=True)),
        empty="（无预警）")]
    blocks += _upstream(monitoring, first_id, str(sections.at[first_id, "name"]))
    return blocks


def _sentence(row: pd.Series) -> str:
    met = "" if pd.isna(row["latest_met"]) else ("，达标" if row["latest_met"] else "，未达标")
    since = (f"自 {row['met_since']} 起连续达标" if row["met_since"] else "最近一个月未达标")
    exceeding = f"；主要超标因子（全部记录）：{row['main_exceeding']}" if row["main_exceeding"] else ""
    kind = "" if not row["kind"] or row["kind"] in row["name"] else f"{row['kind']}，"
    return (f"{row['name']}（{kind}{row['river']}，目标{row['target_label']}）："
            f"最新 {row['last']:%Y-%m-%d} 为{row['latest_label']}{met}；今年 {row['ytd_met']}/"
            f"{row['ytd_months']} 个月达标，近12个月 {row['last12_met']}/{row['last12_months']} "
            f"个月达标；{since}{exceeding}。")


def _chart_months(monitoring, section_id: str, as_of, ax, size: float) -> None:
    months = monitoring.months[monitoring.months["section_id"] == section_id].set_index("month")
    end = pd.Period(as_of, freq="M")
    start = pd.Period(months.index.min(), freq="M") if len(months) else end
    window = [str(p) for p in pd.period_range(start, end, freq="M")]
    classes = [months.at[m, "class"] if m in months.index else np.nan for m in window]
    x = np.arange(len(window))
    heights = [0 if pd.isna(c) else int(c) for c in classes]
    colors = ["#dddddd" if pd.isna(c) else CLASS_COLORS[int(c)] for c in classes]
    ax.bar(x, heights, 0.8, color=colors)
    target = monitoring.sections.at[section_id, "target"]
    if not pd.isna(target):
        ax.axhline(int(target) + 0.5, color="#d7191c", lw=0.8, ls="--")
        ax.text(len(window) - 0.5, int(target) + 0.6, f"目标{CLASS_LABELS[int(target)]}",
                fontsize=size, color="#d7191c", ha="right")
    ax.set_ylim(0, 6.5)
    ax.set_yticks(range(1, 7), [CLASS_LABELS[k] for k in range(1, 7)])
    january = [k for k, m in enumerate(window) if m.endswith("-01") or k == 0]
    ax.set_xticks(x[january], [window[k][:4] for k in january])
    ax.set_xlim(-0.7, len(window) - 0.3)
    ax.tick_params(labelsize=size)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    row = monitoring.sections.loc[section_id]
    ax.set_title(f"{window[0]} 以来逐月水质类别（柱越高越差，虚线为目标；近12个月达标 "
                 f"{row['last12_met']}/{row['last12_months']}）", fontsize=size + 1.5, loc="left")


def _upstream(monitoring, section_id: str, name: str) -> list[Block]:
    rivers = monitoring.rivers[monitoring.rivers["section_id"] == section_id].head(10)
    towns = monitoring.units[(monitoring.units["section_id"] == section_id)
                             & (monitoring.units["level"] == "town")]
    river_rows = tuple(cells(int(r.rank), r.name, f"{r.open:,}", (f"{r.overdue:,}", "warn"
                                                                  if r.overdue else ""))
                       for r in rivers.itertuples())
    town_rows = tuple(cells(int(r.rank), r.name, f"{r.open:,}", (f"{r.overdue:,}", "warn"
                                                                 if r.overdue else ""))
                      for r in towns.itertuples())
    columns = (Column("排名", 36, "center"), Column("名称", 120), Column("未销号", 60, "right"),
               Column("超期", 60, "right"))
    return [Heading(f"{name} 上游未销号案件排名", level=2),
            Paragraph("上游为断面所在河流及逐级汇入的全部支流；按分派到这些河流的未销号案件数排名，"
                      "同数按超期件数。", "note"),
            Paragraph("河涌（前10）", "list"), Table(columns, river_rows),
            Paragraph("镇街", "list"), Table(columns, town_rows)]

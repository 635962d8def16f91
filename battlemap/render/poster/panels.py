"""The side panel: legend with counts, statistics, and the ranking or the grid's case list.

Landscape posters fill one column top to bottom (legend, statistics,
table); portrait posters have three columns under the map (statistics,
legend, table). Every figure comes from the view's statistics; the panel
only counts the cases it shows in the legend.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.path import Path as MplPath

from battlemap._text import as_text
from battlemap.render.closure import closure_legend
from battlemap.render.fonts import clip_to_width, em_width, wrap_to_width
from battlemap.render.poster.layout import Cursor
from battlemap.render.poster.paths import RING
from battlemap.render.poster.style import (
    GREY,
    INK,
    NO_CASES,
    RECURRING,
    RIVER_MAIN,
    RIVER_TRIB,
    context_symbol,
)
from battlemap.render.poster.water import draw_water
from battlemap.stats import count_rule, uncounted_note

if TYPE_CHECKING:
    from battlemap.render.poster.sheet import Sheet
    from battlemap.render.poster.view import View

CASE_ROWS = 16
"""Rows of a grid poster's case table; more cases show the first and last with a count between."""
CASE_PT = 6.5
"""The smallest type (points) of a grid poster's case table: readable on the printed A4."""


def draw_panel(sheet: Sheet, view: View, sizes: dict[str, float], context_counts: dict[str, int],
               ramp: dict) -> None:
    """Fill the panel columns of ``sheet``'s layout for ``view``.

    ``sizes`` are the case dot diameters and ``ramp`` the closure-rate classes
    the map used (:func:`battlemap.render.poster.layers.draw_units`), so the
    legend matches the map.
    """
    cols = sheet.lay.columns
    if sheet.orientation == "landscape":
        cursor = Cursor(cols[0])
        _legend(sheet, cursor, view, sizes, context_counts, ramp)
        _stats(sheet, cursor, view)
        draw_water(sheet, cursor, view, _heading)
        _table(sheet, cursor, view)
    else:
        stats, legend, table = (Cursor(c) for c in cols)
        _stats(sheet, stats, view, compact=True)
        draw_water(sheet, stats, view, _heading)
        _legend(sheet, legend, view, sizes, context_counts, ramp)
        _table(sheet, table, view)


def _heading(sheet: Sheet, cur: Cursor, text: str) -> None:
    s = sheet.s
    size = min(9 * s, cur.w / max(em_width(text), 1))
    cur.y -= size * 1.15
    sheet.text(cur.x, cur.y, text, size, va="baseline")
    cur.y -= 2.5 * s
    sheet.rects([(cur.x, cur.y, cur.w, 0.6 * s)], [INK])
    cur.y -= 4 * s


@lru_cache(maxsize=1024)
def _wrapped(text: str, size: float, width: float) -> tuple[str, ...]:
    """``wrap_to_width``, once per process for each text, size and width.

    The notes (计数口径, the ranking's rule) and headings recur on every poster
    of a series, and wrapping measures each line again at every character.
    """
    return tuple(wrap_to_width(text, size, width))


def _legend(sheet: Sheet, cur: Cursor, view: View, sizes, context_counts, ramp) -> None:
    _heading(sheet, cur, "图例")
    _case_marks(sheet, cur, view, sizes)
    _line_marks(sheet, cur, view, context_counts)
    if view.level != "grid":   # a grid poster shades no child units: no ramp to explain
        _ramp_bar(sheet, cur, view, ramp)


def _case_marks(sheet: Sheet, cur: Cursor, view: View, sizes) -> None:
    """Cases: a marker and the label with the unit's count (stats stage), in two columns.

    The four states add up to the total; overdue and recurring are subsets
    (其中超期, 其中反复), as the note under the marks says.
    """
    s, ctx = sheet.s, sheet.ctx
    stats, label = view.stats, ctx.label
    ring_d = sizes["open"] * 1.7   # the recurring ring's diameter, as on the map
    sym = max(sizes["overdue"], ring_d, 3 * s)     # the widest symbol: rows and text make room
    row_h, size, col_w = max(8.6 * s, sym + 1.5 * s), 6.2 * s, cur.w / 2
    mark_x, text_x = max(5 * s, sym / 2), max(12 * s, sym + 2.5 * s)

    def count(key: str) -> int:
        return int(stats.get(key, 0))

    marks = [("overdue", count("overdue"), sizes["overdue"], "#5a0000", 1.0,
              f"其中{label['overdue']}（未销号且过期）")]
    for st in ("reported", "assigned", "rectifying"):
        marks.append((st, count(st), sizes["open"], "white", 1.0, label[st]))
    marks.append(("closed", count("closed"), sizes["closed"], "none", 0.6, label["closed"]))
    xs, ys, face, edge, area, texts = [], [], [], [], [], [[], []]
    for k, (key, n, d, ec, alpha, text) in enumerate(marks):
        xs.append(cur.x + (k % 2) * col_w + mark_x)
        ys.append(cur.y - (k // 2) * row_h - row_h / 2)
        face.append(to_rgba(ctx.color[key], alpha))
        edge.append(ec)
        area.append(max(d, 3 * s) ** 2)
        texts[k % 2].append(f"{text} {n:,}")
    k = len(marks)
    texts[k % 2].append(f"其中{label.get('recurring', '反复')}（同址再次上报）{count('recurring'):,}")
    sheet.markers(xs, ys, area, "o", face, edge, 0.3 * s)
    sheet.markers([cur.x + (k % 2) * col_w + mark_x], [cur.y - (k // 2) * row_h - row_h / 2],
                  [ring_d ** 2], RING, [RECURRING], [None], 0)
    for c in (0, 1):
        sheet.column(cur.x + c * col_w + text_x, cur.y, texts[c], size, row_h)
    cur.y -= ((k + 2) // 2) * row_h + 1 * s
    _count_note(sheet, cur, view)


def _count_note(sheet: Sheet, cur: Cursor, view: View) -> None:
    """What the counts count (计数口径), and the cases they leave out, small and grey."""
    s = sheet.s
    note = count_rule(sheet.ctx.label)
    uncounted = uncounted_note(int(view.stats.get("uncounted", 0)))
    if uncounted:
        note += f"；{uncounted}（未绘出）"
    lines = _wrapped(note, 5 * s, cur.w)[:3]
    sheet.column(cur.x, cur.y, lines, 5 * s, 6.5 * s, color=GREY)
    cur.y -= 6.5 * s * len(lines) + 3 * s


def _line_marks(sheet: Sheet, cur: Cursor, view: View, context_counts) -> None:
    """Rivers, boundaries and context points, in two columns."""
    s, ctx = sheet.s, sheet.ctx
    row_h, size, col_w = 8.6 * s, 6.2 * s, cur.w / 2
    items = [("line", RIVER_MAIN, 2.6 * s, "干流"), ("line", RIVER_TRIB, 1.1 * s, "一级支流"),
             ("box", INK, 1.6 * s, "本级边界")]
    if view.child_level:
        items.append(("box", "#8c8c8c", 0.6 * s,
                      f"{ctx.style.level_labels.get(view.child_level, '')}边界"))
    for k, legend in enumerate(ctx.context_kinds):
        if context_counts.get(legend, 0):   # a kind not on this map is no legend item
            items.append(("ctx", k, 0, f"{legend} {context_counts[legend]}"))
    texts = [[], []]
    lines, line_colors, line_widths, boxes, box_edges, box_widths = [], [], [], [], [], []
    for k, (kind, color, lw, text) in enumerate(items):
        x = cur.x + (k % 2) * col_w
        y = cur.y - (k // 2) * row_h - row_h / 2
        texts[k % 2].append(text)
        if kind == "line":
            lines.append([(x, y), (x + 10 * s, y)])
            line_colors.append(color)
            line_widths.append(lw)
        elif kind == "box":
            boxes.append((x, y - 3 * s, 10 * s, 6 * s))
            box_edges.append(color)
            box_widths.append(lw)
        else:
            marker, face = context_symbol(color)
            sheet.markers([x + 5 * s], [y], [(6 * s) ** 2], marker, [face], ["white"], 0.5 * s)
    lines_batch = sheet.shapes(2)           # a LineCollection's z-order
    for line, color, lw in zip(lines, line_colors, line_widths, strict=True):
        lines_batch.add(MplPath(line), None, to_rgba(color), lw, capstyle="round")
    sheet.rects(boxes, ["none"] * len(boxes), edgecolors=box_edges, linewidths=box_widths)
    for c in (0, 1):
        sheet.column(cur.x + c * col_w + 13 * s, cur.y, texts[c], size, row_h)
    cur.y -= ((len(items) + 1) // 2) * row_h + 4 * s


def _ramp_bar(sheet: Sheet, cur: Cursor, view: View, classes: dict) -> None:
    """The closure-rate (销号率) classes the map is shaded by, with their breaks, and 无案件.

    ``classes`` is the stats stage's classification of the shaded level
    (``atlas.extra["closure_classes"]``), so the web page shows the same.
    """
    s, ctx = sheet.s, sheet.ctx
    size, row_h, col_w = 6.2 * s, 8.6 * s, cur.w / 2
    level = ctx.style.level_labels.get(view.child_level or view.level, "")
    title = f"{level}销号率（{classes.get('rule') or '按本级分档'}）"
    lines = _wrapped(title, size, cur.w)[:2]
    sheet.column(cur.x, cur.y, lines, size, row_h)
    cur.y -= row_h * len(lines)
    items = [*closure_legend(classes), (NO_CASES, "无案件")]
    boxes, colors, texts = [], [], [[], []]
    for k, (color, text) in enumerate(items):
        x = cur.x + (k % 2) * col_w
        y = cur.y - (k // 2) * row_h - row_h / 2
        boxes.append((x, y - 3 * s, 10 * s, 6 * s))
        colors.append(color)
        texts[k % 2].append(text)
    sheet.rects(boxes, colors, edgecolors=[GREY] * len(boxes), linewidths=[0.4 * s] * len(boxes))
    for c in (0, 1):
        sheet.column(cur.x + c * col_w + 13 * s, cur.y, texts[c], size, row_h)
    cur.y -= ((len(items) + 1) // 2) * row_h + 6 * s


def _stats(sheet: Sheet, cur: Cursor, view: View, compact: bool = False) -> None:
    """Total and closure rate large, then overdue, recurring, this period and the rank."""
    s, stats = sheet.s, view.stats
    _heading(sheet, cur, "统计")
    rate = stats.get("closed_rate", np.nan)
    overdue = int(stats.get("overdue", 0))
    key_size, big = 6.6 * s, (11 if not compact else 9) * s
    value_x = cur.x + 4.6 * key_size
    for key, value in (("案件总数", f"{int(stats.get('total', 0)):,}"),
                       ("销号率", "—" if pd.isna(rate) else f"{rate:.1%}")):
        size = min(big, (cur.w - 4.6 * key_size) / max(em_width(value), 1))
        cur.y -= size * 1.2
        sheet.text(cur.x, cur.y, key, key_size, va="baseline", color="#555555")
        sheet.text(value_x, cur.y, value, size, va="baseline")
    lines = [("其中超期", f"{overdue:,} 件" + (
        f"（最长 {int(stats.get('max_days_overdue', 0))} 天）" if overdue else ""))]
    lines.append(("其中反复", f"{int(stats.get('recurring', 0)):,} 件"))
    period = sheet.ctx.atlas.period
    if period:
        lines.append(("本期", f"{period[0]:%m-%d}至{period[1]:%m-%d} 新增 "
                      f"{int(stats.get('new_in_period', 0))}，销号 "
                      f"{int(stats.get('closed_in_period', 0))}"))
    if view.level not in ("district", "river") and int(stats.get("rank", 0)):
        lines.append(("同级排名", f"第 {int(stats['rank'])} 名"))
    size = min(key_size, (cur.w - 4.6 * key_size) / max(max(em_width(v) for _, v in lines), 1))
    row_h = key_size * 1.45
    cur.y -= 2 * s
    sheet.column(cur.x, cur.y, [k for k, _ in lines], key_size, row_h, color="#555555")
    sheet.column(value_x, cur.y, [v for _, v in lines], size, row_h)
    if overdue:   # the overdue figure in the overdue colour, over the black one
        sheet.text(value_x, cur.y - row_h / 2, f"{overdue:,}", size, va="center",
                   color=sheet.ctx.color["overdue"], bbox={"fc": "white", "ec": "none",
                                                            "pad": 0.5})
    cur.y -= row_h * len(lines) + 8 * s


def _table(sheet: Sheet, cur: Cursor, view: View) -> None:
    if view.level == "grid":
        _case_table(sheet, cur, view)
    else:
        _ranking(sheet, cur, view)


def _ranking(sheet: Sheet, cur: Cursor, view: View) -> None:
    """The children by rank with their river chiefs (河长); the last ones shaded red."""
    s, ctx = sheet.s, sheet.ctx
    child = ctx.style.level_labels.get(view.child_level or "", "")
    _heading(sheet, cur, f"沿河{child}排名（本河涌案件）" if view.level == "river"
             else f"{child}排名")
    rule = str(ctx.atlas.extra.get("ranking_rule", ""))
    if rule:
        lines = _wrapped(rule, 5 * s, cur.w)[:3]
        sheet.column(cur.x, cur.y, lines, 5 * s, 6.5 * s, color=GREY)
        cur.y -= 6.5 * s * len(lines) + 3 * s
    columns = [("名次", 0.0, "left"), ("名称", 0.09, "left"), ("河长", 0.44, "left"),
               ("案件", 0.72, "right"), ("销号率", 0.86, "right"), ("超期", 1.0, "right")]
    rows = _ranking_rows(view.children) if len(view.children) else []
    _grid_table(sheet, cur, columns, rows, 6.2 * s, last_red=3 if len(rows) > 5 else 1)


def _ranking_rows(frame: pd.DataFrame) -> list[tuple[str, ...]]:
    """The ranking's cells, in the order of ``frame.sort_values("rank")``.

    Taken from the columns alone: sorting the frame itself takes every
    column, geometries included (a few ms per poster).
    """
    order = frame["rank"].reset_index(drop=True).sort_values().index.to_numpy()
    chiefs = frame["chief"].to_numpy()[order] if "chief" in frame else [None] * len(frame)
    return [(str(int(rank)), str(name), as_text(chief) or "—", f"{int(total):,}",
             "—" if pd.isna(rate) else f"{rate:.1%}", str(int(overdue)))
            for rank, name, chief, total, rate, overdue in zip(
                *(frame[c].to_numpy()[order] for c in ("rank", "name")), chiefs,
                *(frame[c].to_numpy()[order] for c in ("total", "closed_rate", "overdue")),
                strict=True)]


def _case_table(sheet: Sheet, cur: Cursor, view: View) -> None:
    """A grid's cases: overdue first (longest first), then open, then closed."""
    s, ctx = sheet.s, sheet.ctx
    _heading(sheet, cur, f"网格案件清单（{view.case_count} 件）")
    overdue = view.case_column("overdue", bool)
    state = view.case_column("state")
    days = view.case_column("days_overdue", float)
    order = np.lexsort((-days, state == "closed", ~overdue))   # stable, as a sort by columns
    deadline = view.case_column("deadline", "datetime64[D]")
    deadlines = np.where(np.isnat(deadline), "", np.datetime_as_string(deadline, unit="D"))
    columns = [("编号", 0.0, "left"), ("类型", 0.25, "left"), ("状态", 0.55, "left"),
               ("整改期限", 0.72, "left"), ("超期", 1.0, "right")]
    ids, types = view.case_column("index"), view.case_column("problem_type")
    rows = [(str(ids[i]), str(types[i]), ctx.label.get(state[i], state[i]), str(deadlines[i]),
             f"{int(days[i])}天" if overdue[i] else "") for i in order]
    # every printed glyph costs time, so at most CASE_ROWS rows, never under CASE_PT;
    # the order puts the cases to act on first, and the web page lists (and exports) all
    size = max(5.8 * s, CASE_PT)
    _grid_table(sheet, cur, columns, rows, size, red_col=4, max_rows=CASE_ROWS, floor=CASE_PT)
    if len(rows) > CASE_ROWS:
        sheet.text(cur.x, cur.y + 3 * s, "完整清单见网页版网格图（可下载案件清单 CSV）",
                   min(size, cur.w / max(em_width("完整清单见网页版网格图（可下载案件清单 CSV）"), 1)),
                   va="top", color=GREY)


def _grid_table(sheet: Sheet, cur: Cursor, columns, rows, size, last_red=0, red_col=None,
                max_rows: int | None = None, floor: float | None = None) -> None:
    """A table as one text per column over striped row backgrounds.

    Rows that do not fit show the first and the last with "…另 N 项…" between.
    """
    s = sheet.s
    # shrink (down to a floor) so that every row fits before cutting rows out
    fit = (cur.y - cur.bottom) / ((min(len(rows), max_rows or len(rows)) + 1) * 1.5)
    size = max(min(size, fit), min(size, 4.6 * s if floor is None else floor))
    row_h = size * 1.5
    for name, fx, ha in columns:
        sheet.text(cur.x + fx * cur.w, cur.y - row_h / 2, name, size, ha=ha, va="center",
                   color="#555555")
    cur.y -= row_h
    sheet.rects([(cur.x, cur.y, cur.w, 0.4 * s)], [GREY])
    room = int((cur.y - cur.bottom) // row_h)
    if max_rows is not None:
        room = min(room, max_rows + 1)
    shown: list[tuple | None] = list(rows)
    skipped = 0
    if len(rows) > room:
        room = max(room, 1)
        head = room // 2 if room >= 3 else room
        tail = room - 1 - head if room >= 3 else 0
        skipped = len(rows) - head - tail
        shown = rows[:head] + ([None] if room >= 3 else []) + (rows[-tail:] if tail else [])
    boxes, colors = [], []
    for k, row in enumerate(shown):
        y = cur.y - (k + 1) * row_h
        position = k if row is None or k < len(shown) / 2 else len(rows) - (len(shown) - k)
        if row is not None and last_red and position >= len(rows) - last_red:
            boxes.append((cur.x - 2 * s, y, cur.w + 4 * s, row_h))
            colors.append("#fde3e1")
        elif k % 2:
            boxes.append((cur.x - 2 * s, y, cur.w + 4 * s, row_h))
            colors.append("#f3f3f3")
    if boxes:
        sheet.rects(boxes, colors)
    for c, (_, fx, ha) in enumerate(columns):
        width = (columns[c + 1][1] - fx if c + 1 < len(columns) and ha == "left"
                 else 0.2) * cur.w - 2 * s
        values = []
        for row in shown:
            if row is None:
                values.append(f"…另 {skipped} 项…" if c == 1 else "")
            else:
                values.append(clip_to_width(row[c], size, width))
        color = sheet.ctx.color["overdue"] if c == red_col else INK
        sheet.column(cur.x + fx * cur.w, cur.y, values, size, row_h, ha=ha, color=color)
    if not rows:
        sheet.text(cur.x, cur.y - row_h / 2, "（无）", size, va="center", color=GREY)
        shown = [None]
    cur.y -= row_h * len(shown) + 6 * s

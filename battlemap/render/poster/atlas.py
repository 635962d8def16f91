"""The meeting atlas (会议图册) of a town: cover, the town, each village, each grid, statistics.

One multi-page A4 PDF. The map pages reuse the posters already written
(the town's and villages' A3, the grids' A4, scaled to A4) or are drawn
here when a poster is missing; the cover and the statistics tables are
plain A4 pages, their texts in one batch per page (see :func:`_t`). Every page is numbered,
the outline has a bookmark per village and grid under the town, the
contents lines on the cover are links; the pages' fonts become one font of
all their glyphs, and what the posters share (that font, static layers) is
written once (:func:`~battlemap.render.pdf.concatenate`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from battlemap import STATES, __version__
from battlemap._io import atomic_path
from battlemap._text import as_text
from battlemap.render.fonts import check_text, clip_to_width
from battlemap.render.pdf import Navigation, TextBatch, concatenate, save_pages
from battlemap.render.poster.layout import PAPER_MM, PT_PER_MM, Layout, layout, orientation
from battlemap.render.poster.sheet import Sheet
from battlemap.render.poster.style import GREY, INK, SAMPLE_RED
from battlemap.render.poster.view import Context, View

ATLAS_PAPER = "A4"
"""Paper of every page of the per-town meeting atlas (会议图册)."""

ATLAS_SOURCE = {"town": "A3", "village": "A3", "grid": "A4"}
"""Which written poster of each level the meeting atlas reuses (scaled to A4)."""

TABLE_ROWS = 52
"""Rows per statistics page."""

OVERDUE_ROWS = 200
"""The longest-overdue cases listed; the title says when there are more."""


class Unit(NamedTuple):
    """A unit with a page in the atlas: enough to find its poster and name its bookmark."""

    level: str
    unit_id: str
    name: str


def write_meeting_atlas(ctx: Context, town_id: str, path: Path,
                        written: Callable[[str, str], Path | None],
                        sheets: dict[tuple[str, str], Sheet]) -> Path:
    """Join cover, town, villages, grids and statistics pages into ``path`` (atomically).

    ``written(level, unit_id)`` names the poster to reuse for a map page, or
    None to draw the page here on one of ``sheets`` (made as needed, kept
    for the next atlas). Only a page drawn here needs the unit's
    :class:`View`; a reused one needs its id and name.
    """
    town = ctx.view("town", town_id)
    villages = town.children.sort_values("rank")
    grid_table = pd.DataFrame(ctx.atlas.units["grid"][["name", "rank"]])   # no geometry to copy
    village_units = [Unit("village", str(v), str(name)) for v, name in villages["name"].items()]
    grid_units = [[Unit("grid", str(g), str(name)) for g, name in grid_table.iloc[
        ctx.child_positions("grid", v.unit_id)].sort_values("rank")["name"].items()]
        for v in village_units]
    meta = {"Title": f"{town.name} 河长制挂图作战 会议图册", "Creator": f"battlemap {__version__}"}

    def page(unit: Unit) -> Path | bytes:
        poster = written(unit.level, unit.unit_id)
        if poster is not None and poster.is_file():
            return poster
        view = town if unit.level == "town" else ctx.view(unit.level, unit.unit_id)
        key = (ATLAS_PAPER, orientation(view.bounds, ATLAS_PAPER))
        if key not in sheets:
            sheets[key] = Sheet(ctx, *key)
        buffer = io.BytesIO()
        sheets[key].save(view, path, pdf=buffer)
        return buffer.getvalue()

    n_grids = sum(map(len, grid_units))
    cover, links = _cover(ctx, town, len(village_units), n_grids)
    tables = list(_statistics_pages(ctx, town, villages))
    town_unit = Unit("town", town.unit_id, town.name)
    maps = [page(unit) for unit in [town_unit, *village_units, *(g for gs in grid_units for g in gs)]]
    parts = [_figures_bytes(ctx, [cover]), *maps, _figures_bytes(ctx, tables)]
    nav = Navigation(numbers=True, outline=_outline(town, village_units, grid_units,
                                                    len(maps) + 1),
                     links=[(0, rect, to) for rect, to in links])
    with atomic_path(path) as tmp:
        concatenate(parts, tmp, meta, nav=nav, font=ctx.font.path,
                    page_size=tuple(v * PT_PER_MM for v in PAPER_MM[ATLAS_PAPER]))
    return path


def _outline(town: View, villages: list[Unit], grids: list[list[Unit]],
             tables: int) -> list[tuple[int, str, int]]:
    """Bookmarks: cover, the town with its villages and each village's grids, the tables.

    ``grids[k]`` are the grids of ``villages[k]``. Page indices follow the
    atlas order: cover, town, villages, grids, tables (the first table page
    at index ``tables``).
    """
    outline = [(0, "封面", 0), (0, f"{town.name} 作战图", 1)]
    at_grid = 2 + len(villages)
    for k, (village, its_grids) in enumerate(zip(villages, grids, strict=True)):
        outline.append((1, f"{village.name}", 2 + k))
        outline += [(2, f"{grid.name}", at_grid + j) for j, grid in enumerate(its_grids)]
        at_grid += len(its_grids)
    outline.append((0, "统计表", tables))
    return outline


def _figures_bytes(ctx: Context, figs: list[Figure]) -> bytes:
    """``figs`` as one PDF, its fonts written once for all of them."""
    buffer = io.BytesIO()
    save_pages(figs, buffer, {"Creator": f"battlemap {__version__}", "CreationDate": None},
               ctx.font.path)
    return buffer.getvalue()


def _blank_page(ctx: Context, orientation: str = "portrait") -> tuple[Figure, object, Layout]:
    """An A4 page in points with the sample mark and the footer note."""
    lay = layout(ATLAS_PAPER, orientation)
    fig = Figure(figsize=(lay.width / 72, lay.height / 72), dpi=72)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, lay.width)
    ax.set_ylim(0, lay.height)
    if ctx.config.project.sample:
        ax.add_patch(Rectangle((0, lay.height - 14), lay.width, 14, color=SAMPLE_RED, lw=0))
        _t(ctx, ax, lay.width / 2, lay.height - 7, "示例数据 SAMPLE DATA · 合成案件，非真实情况",
           7, ha="center", va="center", color="white")
        _t(ctx, ax, lay.width / 2, lay.height / 2, "示例数据 sample data", 46, ha="center",
           va="center", rotation=55, color=SAMPLE_RED, alpha=0.08)
    project = ctx.config.project
    source = f"数据来源：{project.data_source}" if project.data_source else ""
    _t(ctx, ax, 28, 20, clip_to_width(f"{project.note}  {source}", 5.5, lay.width - 56), 5.5, color=GREY)
    return fig, ax, lay


def _t(ctx: Context, ax, x, y, text, size, color=INK, **kw) -> None:
    """``text`` at (x, y) in points on the page of ``ax``, above its shapes, never clipped.

    Every text of a page goes into one :class:`~battlemap.render.pdf.TextBatch`
    of its figure, drawn after the axes as figure texts would be (an atlas's
    statistics pages hold ~1,000 texts: a ``Text`` artist each cost ~1 ms to
    make, lay out and draw). ``alpha`` multiplies the colour's; a rotation
    turns the text about its anchor (the same as ``Text``'s for centred text).
    """
    alpha = kw.pop("alpha", None)
    rgba = to_rgba(color, alpha)
    fig = ax.figure
    batch = next((a for a in fig.artists if isinstance(a, TextBatch)), None)
    if batch is None:
        batch = TextBatch(ctx.font.path, ax.transData, 3)
        batch.set_clip_on(False)
        fig.add_artist(batch)
    batch.add(x, y, check_text(text, ctx.font), size, color=rgba, **kw)


def _cover(ctx: Context, town: View, n_villages: int,
           n_grids: int) -> tuple[Figure, list[tuple[tuple[float, float, float, float], int]]]:
    """The town's name, its figures and rank, and the contents; (page, its links).

    Each contents line is a link (its area in points, the page index it goes to).
    """
    fig, ax, lay = _blank_page(ctx)
    st, w, h = town.stats, lay.width, lay.height
    atlas = ctx.atlas
    _t(ctx, ax, w / 2, h * 0.78, town.name, 40, ha="center")
    _t(ctx, ax, w / 2, h * 0.72, "河长制挂图作战 会议图册", 22, ha="center")
    _t(ctx, ax, w / 2, h * 0.67, f"{' › '.join(town.crumbs)} · 截至 {atlas.as_of.isoformat()}",
       11, ha="center", color="#444444")
    rate = st["closed_rate"]
    lines = [("镇街河长", town.chief or "—"), ("案件总数", f"{int(st['total']):,}"),
             ("销号率", "—" if pd.isna(rate) else f"{rate:.1%}"),
             ("超期", f"{int(st['overdue']):,} 件"), ("反复", f"{int(st['recurring']):,} 件"),
             ("全区排名", f"第 {int(st['rank'])} 名 / {len(atlas.units['town'])}")]
    if atlas.period:
        lines.append(("本期", f"{atlas.period[0]} 至 {atlas.period[1]}：新增 "
                      f"{int(st['new_in_period'])}，销号 {int(st['closed_in_period'])}"))
    y = h * 0.57
    for key, value in lines:
        _t(ctx, ax, w * 0.22, y, key, 11, color="#555555")
        _t(ctx, ax, w * 0.42, y, value, 13,
           color=ctx.color["overdue"] if key == "超期" and int(st["overdue"]) else INK)
        y -= 24
    y -= 16
    _t(ctx, ax, w * 0.22, y, "目录", 12)
    contents = [("1  封面", 0), (f"2  {town.name} 作战图", 1),
                (f"3–{2 + n_villages}  村居作战图（{n_villages} 个，按排名）" if n_villages else "",
                 2),
                (f"{3 + n_villages}–{2 + n_villages + n_grids}  网格作战图（{n_grids} 个）"
                 if n_grids else "", 2 + n_villages),
                (f"{3 + n_villages + n_grids} 起  统计表：村居统计、问题类型、超期案件",
                 2 + n_villages + n_grids)]
    links = []
    for line, to in contents:
        if line:
            y -= 17
            _t(ctx, ax, w * 0.24, y, line, 9.5, color="#333333")
            links.append(((w * 0.24 - 2, y - 4, w * 0.78, y + 12), to))
    return fig, links


def _statistics_pages(ctx: Context, town: View, villages: pd.DataFrame) -> Iterable[Figure]:
    """Tables: the statistics of every village (``villages``, ranked), problem types, overdue cases."""
    label = ctx.label
    header = ["名次", "村居", "河长", "案件", label["reported"], label["assigned"],
              label["rectifying"], label["closed"], "销号率", "超期", "反复"]
    xs = [0.0, 0.07, 0.30, 0.47, 0.55, 0.63, 0.71, 0.79, 0.88, 0.94, 1.0]
    rows = []
    for _, st in villages.iterrows():
        rate = st["closed_rate"]
        rows.append([str(int(st["rank"])), str(st["name"]), as_text(st.get("chief")),
                     f"{int(st['total'])}",
                     *(str(int(st[k])) for k in STATES),
                     "—" if pd.isna(rate) else f"{rate:.1%}", str(int(st["overdue"])),
                     str(int(st["recurring"]))])
    yield from _table_pages(ctx, f"{town.name} 村居统计（{len(rows)} 个）", header, xs, rows)
    by_type = ctx.atlas.by_type
    if by_type is not None and len(by_type):
        sub = by_type[(by_type["level"] == "town") & (by_type["unit_id"] == town.unit_id)]
        sub = sub.sort_values("count", ascending=False)
        type_rows = [[as_text(r["problem_type"]) or "（未填）", f"{int(r['count']):,}",
                      f"{int(r.get('closed', 0)):,}",
                      f"{(r.get('closed', 0) / r['count']):.0%}" if r["count"] else "—"]
                     for _, r in sub.iterrows()]
        yield from _table_pages(ctx, f"{town.name} 问题类型", ["问题类型", "案件", "已销号", "销号率"],
                                [0, 0.55, 0.75, 1.0], type_rows)
    cases = town.cases[town.cases["overdue"].astype(bool)].sort_values(
        "days_overdue", ascending=False)
    village_names = ctx.atlas.units["village"]["name"]
    case_rows = [[str(i), str(village_names.get(r["village_id"], "")), str(r["problem_type"]),
                  label.get(r["state"], r["state"]),
                  "" if pd.isna(r["deadline"]) else f"{r['deadline']:%Y-%m-%d}",
                  f"{int(r['days_overdue'])}"] for i, r in cases.head(OVERDUE_ROWS).iterrows()]
    title = f"{town.name} 超期案件（{len(cases)} 件，按超期天数" + (
        f"，前 {OVERDUE_ROWS} 件）" if len(cases) > OVERDUE_ROWS else "）")
    yield from _table_pages(ctx, title, ["编号", "村居", "类型", "状态", "整改期限", "超期天数"],
                            [0, 0.24, 0.48, 0.68, 0.80, 1.0], case_rows)


def _table_pages(ctx: Context, title: str, header: list[str], xs: list[float],
                 rows: list[list[str]]) -> Iterable[Figure]:
    """``rows`` under ``header`` at the column positions ``xs`` (0–1), as many pages as needed."""
    chunks = [rows[i:i + TABLE_ROWS] for i in range(0, len(rows), TABLE_ROWS)] or [[]]
    for page, chunk in enumerate(chunks):
        fig, ax, lay = _blank_page(ctx)
        x0, width = 40, lay.width - 80
        y = lay.height - 60
        suffix = f"（续 {page + 1}/{len(chunks)}）" if len(chunks) > 1 else ""
        _t(ctx, ax, x0, y, title + suffix, 15)
        y -= 26
        for name, fx in zip(header, xs, strict=True):
            _t(ctx, ax, x0 + fx * width, y, name, 7.5, ha="left" if fx < 0.4 else "right",
               color="#555555")
        ax.plot([x0, x0 + width], [y - 4, y - 4], color=GREY, lw=0.5)
        for k, row in enumerate(chunk):
            y -= 13.5
            if k % 2:
                ax.add_patch(Rectangle((x0 - 3, y - 4), width + 6, 13.5, fc="#f4f4f4", lw=0))
            for value, fx in zip(row, xs, strict=True):
                _t(ctx, ax, x0 + fx * width, y, clip_to_width(value, 7.5, width * 0.22), 7.5,
                   ha="left" if fx < 0.4 else "right")
        if not chunk:
            _t(ctx, ax, x0, y - 16, "（无）", 8, color=GREY)
        yield fig

"""The bulletin's charts: each draws one frame of :class:`~.data.Bulletin` on an Axes.

Every chart takes ``(bulletin, ax, font_size)``; the document binds the
bulletin (``functools.partial``) so a writer calls ``draw(ax, font_size)``.
"""

from __future__ import annotations

import matplotlib
import matplotlib.dates
import matplotlib.ticker
import numpy as np
from matplotlib.colors import to_hex, to_rgba

from battlemap.render.bulletin.data import BELOW, REMINDER, WARNING, Bulletin

__all__ = ["chart_ages", "chart_cumulative", "chart_towns", "chart_weekly"]

INK, GREY, LIGHT = "#222222", "#777777", "#eeeeee"


def chart_cumulative(b: Bulletin, ax, size: float) -> None:
    w = b.weekly
    ax.fill_between(w["week"], w["closed_total"], w["reported_total"], color=_mix(
        b.colors["overdue"], 0.25), lw=0, label="未销号（差额）")
    ax.plot(w["week"], w["reported_total"], color=INK, lw=1.2, label="累计受理")
    ax.plot(w["week"], w["closed_total"], color=b.colors["closed"], lw=1.6, label="累计销号")
    _style_axes(ax, size)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_major_locator(matplotlib.dates.YearLocator())
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%Y"))
    ax.legend(loc="upper left", fontsize=size, frameon=False)
    ax.set_title("每周累计受理与销号", fontsize=size + 1.5, loc="left")


def chart_weekly(b: Bulletin, ax, size: float, weeks: int = 26) -> None:
    w = b.weekly.tail(weeks)
    x = np.arange(len(w))
    ax.bar(x - 0.2, w["reported"], 0.4, color="#9e9e9e", label="新增")
    ax.bar(x + 0.2, w["closed"], 0.4, color=b.colors["closed"], label="销号")
    _style_axes(ax, size)
    step = max(1, -(-len(w) // 7))
    ax.set_xticks(x[::step], [f"{d:%m-%d}" for d in w["week"].iloc[::step]])
    ax.set_xlim(-0.7, len(w) - 0.3)
    ax.legend(loc="upper left", fontsize=size, frameon=False, ncols=2)
    ax.set_title(f"近 {len(w)} 周每周新增与销号（按周一起算）", fontsize=size + 1.5, loc="left")


def chart_towns(b: Bulletin, ax, size: float) -> None:
    r = b.ranking[b.ranking["total"] > 0].iloc[::-1]
    y = np.arange(len(r))
    rates = r["closed_rate"].to_numpy(dtype=float) * 100
    low = max(0.0, np.floor((np.nanmin(rates) if len(rates) else 0) - 1)) if len(rates) else 0
    ax.barh(y, rates - low, left=low, color=b.colors["closed"], height=0.7)
    for k, (rate, over) in enumerate(zip(rates, r["overdue"], strict=True)):
        ax.annotate(f"{rate:.1f}%", (rate, k), xytext=(2, 0), textcoords="offset points",
                    va="center", fontsize=size - 0.5, color=INK, annotation_clip=False)
        ax.annotate(f"超期 {int(over)}", (rate, k), xytext=(4 + 3.2 * size, 0),
                    textcoords="offset points", va="center", fontsize=size - 0.5,
                    color=b.colors["overdue"] if over else GREY, annotation_clip=False)
    names = [n if len(n) <= 12 else n[:11] + "…" for n in r["name"].astype(str)]  # room left
    ax.set_yticks(y, [f"{int(k)} {n}" for k, n in zip(r["rank"], names, strict=True)])
    _style_axes(ax, size)
    ax.set_xlim(low, 100)
    ax.set_ylim(-0.6, len(r) - 0.4)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(6, integer=True))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}%"))
    ax.set_title(f"镇街销号率排名（横轴自 {low:g}% 起）", fontsize=size + 1.5, loc="left")
    ax.grid(axis="x", color=LIGHT, lw=0.6)
    ax.grid(axis="y", visible=False)


def chart_ages(b: Bulletin, ax, size: float) -> None:
    table = b.age_bands
    x = np.arange(len(table))
    bottom = np.zeros(len(table))
    for level, color in _level_colors(b).items():
        values = table[level].to_numpy()
        label = f"超期不足{b.reminder_days}天" if level == BELOW else level
        ax.bar(x, values, 0.65, bottom=bottom, color=color, label=label)
        bottom += values
    for k, total in enumerate(bottom):
        ax.text(k, total, f"{int(total)}", ha="center", va="bottom", fontsize=size - 0.5,
                parse_math=False)
    ax.set_xticks(x, list(table.index))
    _style_axes(ax, size)
    ax.set_ylim(0, max(1, bottom.max()) * 1.18)
    ax.legend(loc="upper left", fontsize=size, frameon=False)
    ax.set_title("超期案件按案龄（自上报起）", fontsize=size + 1.5, loc="left")


def _style_axes(ax, size: float) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GREY)
        ax.spines[side].set_linewidth(0.6)
    ax.tick_params(labelsize=size, colors="#444444", width=0.6, length=2.5)
    ax.grid(axis="y", color=LIGHT, lw=0.6)
    ax.set_axisbelow(True)


def _mix(color: str, weight: float) -> str:
    """``color`` blended with white: weight 1 is the colour, 0 white."""
    rgba = np.array(to_rgba(color))
    return to_hex(rgba[:3] * weight + (1 - weight))


def _level_colors(b: Bulletin) -> dict[str, str]:
    return {BELOW: "#bdbdbd", REMINDER: _mix(b.colors["overdue"], 0.45),
            WARNING: b.colors["overdue"]}

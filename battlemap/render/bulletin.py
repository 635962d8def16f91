"""Bulletin (通报): the office's periodic notice on overdue and recurring cases and rankings.

One bulletin per build, for the current period (``atlas.period``, a week or
a month), written as ``bulletin/<as-of>.pdf`` (A4, for printing and sending)
and ``bulletin/<as-of>.html`` (self-contained, offline, every text escaped).
It reads like a notice an office sends:

一、总体情况  headline figures, a summary paragraph and charts;
二、镇街排名  the ranking of towns, the change in rank since the last build,
              and the ranking rule;
三、督办提醒与预警  reminders (提醒) and warnings (预警) per recipient, from
              :func:`escalations` and ``config.escalation``;
四、超期案件  overdue cases by town, longest first, with the responsible chief;
五、反复案件  recurring cases still open, and counts per town;
六、属地不符  open cases whose declared town/village differs from where they lie;
七、上报渠道  cases, valid share (有效率) and closed share per channel and town.

All figures come from the statistics stage (``atlas.units``, ``by_channel``);
:func:`bulletin_data` gathers them once, then the PDF and HTML writers draw
the same :class:`Bulletin`.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from battlemap import STATES, __version__
from battlemap._io import atomic_path, write_text
from battlemap._model import Atlas
from battlemap._paths import safe_stem
from battlemap.render.fonts import (
    FontSpec,
    check_text,
    check_texts,
    clip_to_width,
    em_width,
    font_for,
    rc_params,
    wrap_to_width,
)
from battlemap.stats import by_category, rank_siblings

__all__ = ["BULLETIN_DIR", "REMINDER", "WARNING", "Bulletin", "bulletin_data", "escalations",
           "render_bulletin"]

BULLETIN_DIR = "bulletin"
REMINDER, WARNING = "提醒", "预警"
"""Escalation levels (督办): a reminder to the town's chief, then a warning."""
BELOW = "未达提醒"
"""Overdue, but not yet long enough for a reminder."""

ESCALATION_COLUMNS = ("case_id", "town_id", "town", "village", "problem_type", "deadline",
                      "days_overdue", "level", "recipient", "cc")

INK, GREY, LIGHT, SAMPLE_RED = "#222222", "#777777", "#eeeeee", "#c62828"
UP, DOWN = "#2e7d32", "#c62828"
NUMERALS = "一二三四五六七八九十"


# --------------------------------------------------------------------------- public API


def escalations(atlas: Atlas) -> pd.DataFrame:
    """The reminders (提醒) and warnings (预警) to send, one row per overdue case.

    A case overdue (超期) by at least ``config.escalation.reminder_days`` gets a
    reminder, by at least ``warning_days`` a warning. Each goes to the chief
    (河长) of the case's town, copied to the district chief.

    Returns
    -------
    DataFrame
        Columns case_id, town_id, town, village, problem_type, deadline,
        days_overdue, level ("提醒" | "预警"), recipient, cc; sorted by
        recipient, then days overdue (longest first), then case id.

    Examples
    --------
    >>> due = escalations(atlas)
    >>> due.groupby(["recipient", "level"]).size()
    """
    rule = atlas.config.escalation
    cases = atlas.cases
    due = cases[cases["overdue"].astype(bool) & (cases["days_overdue"] >= rule.reminder_days)]
    towns, villages = atlas.units["town"], atlas.units["village"]
    district_chief = atlas.units["district"]["chief"].fillna("").astype(str)
    frame = pd.DataFrame({
        "case_id": due.index.astype(str),
        "town_id": due["town_id"].astype(str).to_numpy(),
        "town": _names(due["town_id"], towns, "name"),
        "village": _names(due["village_id"], villages, "name"),
        "problem_type": due["problem_type"].astype(str).to_numpy(),
        "deadline": due["deadline"].to_numpy(),
        "days_overdue": due["days_overdue"].astype(int).to_numpy(),
        "level": np.where(due["days_overdue"] >= rule.warning_days, WARNING, REMINDER),
        "recipient": _names(due["town_id"], towns, "chief"),
        "cc": due["district_id"].map(district_chief).fillna("").astype(str).to_numpy(),
    })
    frame = frame.sort_values(["recipient", "days_overdue", "case_id"],
                              ascending=[True, False, True], kind="stable")
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class Bulletin:
    """Every figure and table of one bulletin, ready to draw (PDF) or write (HTML)."""

    district: str
    district_chief: str
    as_of: dt.date
    period: tuple[dt.date, dt.date]
    period_kind: str                 # "周" | "月"
    sample: bool
    reminder_days: int
    warning_days: int
    note: str
    data_source: str
    headline: dict[str, float]       # the district's statistics and counts of this bulletin
    changes_since: str | None        # ISO date of the snapshot the changes are counted from
    ranking: pd.DataFrame            # towns by rank, with previous_rank and rank_change
    ranking_rule: str
    escalations: pd.DataFrame        # see escalations()
    overdue: pd.DataFrame            # overdue cases, town by town, longest first
    recurring: pd.DataFrame          # recurring cases not yet closed
    recurring_by_town: pd.DataFrame  # town, recurring, open
    mismatches: pd.DataFrame         # open cases whose declared town/village differs
    channels: pd.DataFrame           # channel, count, valid, valid_share, closed, closed_share
    channels_by_town: pd.DataFrame   # the same per town (town_id, town, channel, ...)
    weekly: pd.DataFrame             # week (Monday), reported, closed, cumulative sums
    age_bands: pd.DataFrame          # overdue cases: age band × escalation level
    labels: dict[str, str]           # state -> Chinese label
    colors: dict[str, str]           # state / overdue -> colour

    @property
    def title(self) -> str:
        return f"{self.district} 河长制 挂图作战 工作通报（截至 {self.as_of.isoformat()}）"


def bulletin_data(atlas: Atlas) -> Bulletin:
    """Gather the bulletin's figures from the atlas (statistics stage), without drawing."""
    config = atlas.config
    district = atlas.units["district"].iloc[0]
    due = escalations(atlas)
    period = atlas.period or (config.as_of, config.as_of)
    headline = {key: _number(district[key]) for key in (
        "total", *STATES, "closed_rate", "overdue", "max_days_overdue", "recurring",
        "new_in_period", "closed_in_period")}
    for key in ("new_since", "closed_since", "overdue_since", "reopened_since"):
        if key in district.index:
            headline[key] = _number(district[key])
    headline["reminders"] = int((due["level"] == REMINDER).sum())
    headline["warnings"] = int((due["level"] == WARNING).sum())
    headline["mismatches"] = int(atlas.cases["declared_mismatch"].astype(bool).sum())
    headline["recurring_open"] = int((atlas.cases["recurring"].astype(bool)
                                      & (atlas.cases["state"] != "closed")).sum())
    channels, channels_by_town = _channels(atlas)
    return Bulletin(
        district=str(district["name"]), district_chief=_text(district.get("chief")),
        as_of=atlas.as_of, period=period,
        period_kind="月" if config.lifecycle.period == "month" else "周",
        sample=bool(config.project.sample), reminder_days=config.escalation.reminder_days,
        warning_days=config.escalation.warning_days, note=config.project.note,
        data_source=config.project.data_source, headline=headline,
        changes_since=_text(atlas.extra.get("changes_since")) or None,
        ranking=_ranking(atlas), ranking_rule=str(atlas.extra.get("ranking_rule", "")),
        escalations=due, overdue=_overdue(atlas, due), recurring=_recurring(atlas),
        recurring_by_town=_recurring_by_town(atlas), mismatches=_mismatches(atlas),
        channels=channels, channels_by_town=channels_by_town, weekly=_weekly(atlas),
        age_bands=_age_bands(atlas, due), labels=dict(config.style.status_labels),
        colors=dict(config.style.status_colors),
    )


def render_bulletin(atlas: Atlas, out_dir: Path) -> list[Path]:
    """Write ``out_dir/bulletin/<as-of>.pdf`` (A4) and ``.html`` (offline); return the paths.

    Both are written atomically. The PDF uses the posters' font (checked for
    missing glyphs: a name the font cannot draw raises
    :class:`~battlemap.errors.RenderError`) and the configured state colours.
    """
    bulletin = bulletin_data(atlas)
    folder = Path(out_dir) / BULLETIN_DIR
    stem = safe_stem(atlas.as_of.isoformat())
    font = font_for(atlas.config)
    with matplotlib.rc_context(rc_params(font)):
        check_texts(_names_drawn(bulletin), font)
        pdf = _write_pdf(bulletin, font, folder / f"{stem}.pdf")
        page = write_text(folder / f"{stem}.html", _html(bulletin))
    return [pdf, page]


# --------------------------------------------------------------------------- figures


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _number(value: object) -> float:
    if pd.isna(value):
        return float("nan")
    return float(value) if isinstance(value, float) else int(value)


def _names(ids: pd.Series, units: pd.DataFrame, column: str) -> np.ndarray:
    return ids.astype(str).map(units[column]).fillna("").astype(str).to_numpy()


def _previous_ranks(atlas: Atlas) -> pd.Series | None:
    """Each town's rank at the previous build, recounted from its snapshot."""
    snapshot = atlas.extra.get("previous_snapshot")
    if snapshot is None:
        return None
    towns = atlas.units["town"]
    town_id = snapshot["town_id"].astype(str)
    closed = (snapshot["state"] == "closed").groupby(town_id).sum()
    overdue = snapshot["overdue"].astype(str).eq("True").groupby(town_id).sum()
    frame = pd.DataFrame({"total": town_id.value_counts(), "closed": closed, "overdue": overdue})
    frame = frame.reindex(towns.index, fill_value=0).astype(int)
    frame["closed_rate"] = (frame["closed"] / frame["total"]).where(frame["total"] > 0)
    frame["parent_id"] = towns["parent_id"]
    return rank_siblings(frame)


def _ranking(atlas: Atlas) -> pd.DataFrame:
    towns = atlas.units["town"]
    columns = ["rank", "name", "chief", "total", "closed", "closed_rate", "overdue",
               "max_days_overdue", "recurring", "new_in_period", "closed_in_period"]
    frame = pd.DataFrame(towns[columns]).copy()
    frame["chief"] = frame["chief"].map(_text)
    previous = _previous_ranks(atlas)
    frame["previous_rank"] = (pd.Series(pd.NA, index=frame.index, dtype="Int64")
                              if previous is None else previous.astype("Int64"))
    frame["rank_change"] = frame["previous_rank"] - frame["rank"].astype("Int64")
    return frame.sort_values(["rank", "name"])


def _town_order(atlas: Atlas, town_ids: pd.Series) -> pd.Series:
    """Towns with the most cases of the table first (then by code)."""
    counts = town_ids.value_counts()
    order = sorted(counts.index, key=lambda t: (-counts[t], t))
    return town_ids.map({t: k for k, t in enumerate(order)})


def _case_rows(atlas: Atlas, cases: pd.DataFrame, **extra: object) -> pd.DataFrame:
    """The columns every case list of the bulletin shows, plus ``extra`` ones."""
    towns, villages = atlas.units["town"], atlas.units["village"]
    labels = atlas.config.style.status_labels
    return pd.DataFrame({
        "case_id": cases.index.astype(str),
        "town_id": cases["town_id"].astype(str).to_numpy(),
        "town": _names(cases["town_id"], towns, "name"),
        "village": _names(cases["village_id"], villages, "name"),
        "chief": _names(cases["village_id"], villages, "chief"),
        "problem_type": cases["problem_type"].astype(str).to_numpy(),
        "state": cases["state"].map(lambda s: labels.get(s, s)).to_numpy(),
        "description": cases["description"].map(_text).to_numpy(),
        **extra,
    })


def _overdue(atlas: Atlas, due: pd.DataFrame) -> pd.DataFrame:
    cases = atlas.cases[atlas.cases["overdue"].astype(bool)]
    frame = _case_rows(
        atlas, cases, town_chief=_names(cases["town_id"], atlas.units["town"], "chief"),
        deadline=cases["deadline"].to_numpy(),
        days_overdue=cases["days_overdue"].astype(int).to_numpy())
    frame["level"] = frame["case_id"].map(due.set_index("case_id")["level"]).fillna("")
    frame["_order"] = _town_order(atlas, frame["town_id"])
    frame = frame.sort_values(["_order", "days_overdue", "case_id"],
                              ascending=[True, False, True], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def _recurring(atlas: Atlas) -> pd.DataFrame:
    cases = atlas.cases
    cases = cases[cases["recurring"].astype(bool) & (cases["state"] != "closed")]
    frame = _case_rows(atlas, cases, reported_at=cases["reported_at"].to_numpy(),
                       overdue=cases["overdue"].astype(bool).to_numpy())
    frame["_order"] = _town_order(atlas, frame["town_id"])
    frame = frame.sort_values(["_order", "reported_at", "case_id"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def _recurring_by_town(atlas: Atlas) -> pd.DataFrame:
    towns = atlas.units["town"]
    cases = atlas.cases
    open_recurring = cases[cases["recurring"].astype(bool) & (cases["state"] != "closed")]
    frame = pd.DataFrame({
        "town": towns["name"].astype(str),
        "recurring": towns["recurring"].astype(int),
        "open": open_recurring["town_id"].value_counts().reindex(towns.index, fill_value=0),
    })
    return frame.sort_values(["recurring", "open"], ascending=False, kind="stable")


def _mismatches(atlas: Atlas) -> pd.DataFrame:
    cases = atlas.cases
    cases = cases[cases["declared_mismatch"].astype(bool) & (cases["state"] != "closed")]
    towns, villages = atlas.units["town"], atlas.units["village"]
    labels = atlas.config.style.status_labels
    frame = pd.DataFrame({
        "case_id": cases.index.astype(str),
        "declared_town": cases["declared_town"].map(_text).to_numpy(),
        "declared_village": cases["declared_village"].map(_text).to_numpy(),
        "town_id": cases["town_id"].astype(str).to_numpy(),
        "town": _names(cases["town_id"], towns, "name"),
        "village": _names(cases["village_id"], villages, "name"),
        "problem_type": cases["problem_type"].astype(str).to_numpy(),
        "state": cases["state"].map(lambda s: labels.get(s, s)).to_numpy(),
    })
    return frame.sort_values(["town_id", "village", "case_id"]).reset_index(drop=True)


def _channels(atlas: Atlas) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per channel (上报渠道): cases, valid (有效), closed, and their shares; district and towns."""
    long = atlas.by_channel if atlas.by_channel is not None else by_category(atlas.cases,
                                                                            "channel")
    if "closed" not in long.columns:     # an older by_channel: count closed cases here
        long = by_category(atlas.cases, "channel")

    def shares(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.assign(channel=frame["channel"].map(_text).replace("", "（未填）"))
        frame = frame[["channel", "count", "valid", "closed"]].astype(
            {"count": int, "valid": int, "closed": int})
        frame["valid_share"] = frame["valid"] / frame["count"]
        frame["closed_share"] = frame["closed"] / frame["count"]
        return frame

    district = shares(long[long["level"] == "district"])
    district = district.groupby("channel", as_index=False)[["count", "valid", "closed"]].sum()
    district = shares(district).sort_values(["count", "channel"], ascending=[False, True])
    towns = atlas.units["town"]
    per_town = long[(long["level"] == "town") & long["unit_id"].isin(towns.index)]
    per_town = shares(per_town).assign(town_id=per_town["unit_id"].to_numpy())
    per_town["town"] = per_town["town_id"].map(towns["name"]).astype(str)
    rank = {c: k for k, c in enumerate(district["channel"])}
    per_town["_c"] = per_town["channel"].map(rank)
    per_town = per_town.sort_values(["town_id", "_c"]).drop(columns="_c")
    columns = ["town_id", "town", "channel", "count", "valid", "valid_share", "closed",
               "closed_share"]
    return district.reset_index(drop=True), per_town[columns].reset_index(drop=True)


def _weekly(atlas: Atlas) -> pd.DataFrame:
    """Cases reported and closed per week (Monday to Sunday), and running totals."""
    cases = atlas.cases
    end = pd.Timestamp(atlas.as_of)
    reported = cases["reported_at"].dropna()
    closed = cases["closed_at"].dropna()
    closed = closed[closed < end + pd.Timedelta(days=1)]

    def monday(times: pd.Series) -> pd.Series:
        days = times.dt.normalize()
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")

    first = min(reported.min(), closed.min()) if len(closed) else reported.min()
    if pd.isna(first):
        first = end
    weeks = pd.date_range(monday(pd.Series([first])).iloc[0],
                          monday(pd.Series([end])).iloc[0], freq="7D")
    frame = pd.DataFrame({
        "week": weeks,
        "reported": monday(reported).value_counts().reindex(weeks, fill_value=0).to_numpy(),
        "closed": monday(closed).value_counts().reindex(weeks, fill_value=0).to_numpy(),
    })
    frame["reported_total"] = frame["reported"].cumsum()
    frame["closed_total"] = frame["closed"].cumsum()
    return frame


def _age_bands(atlas: Atlas, due: pd.DataFrame) -> pd.DataFrame:
    """Overdue cases per age band (案龄, days since reported) and escalation level."""
    cases = atlas.cases[atlas.cases["overdue"].astype(bool)]
    level = pd.Series(cases.index.astype(str), index=cases.index).map(
        due.set_index("case_id")["level"]).fillna(BELOW)
    table = pd.crosstab(cases["age_band"].astype(str), level)
    bands, low = [], 0
    for high in atlas.config.lifecycle.age_bands_days:      # every band, also when empty
        bands.append(f"{low + 1 if low else 0}–{high}天")
        low = high
    bands.append(f">{low}天")
    bands += sorted(set(table.index) - set(bands), key=_band_key)
    table = table.reindex(index=bands, columns=[BELOW, REMINDER, WARNING], fill_value=0)
    return table.astype(int)


def _band_key(label: str) -> tuple[bool, int]:
    match = re.search(r"\d+", label)
    return label.startswith(">"), int(match.group()) if match else 0


def _names_drawn(b: Bulletin) -> list[str]:
    """Every name the PDF draws that comes from the data (checked for glyphs at once)."""
    texts = [b.district, b.district_chief, b.note, b.data_source, b.ranking_rule]
    for frame, columns in ((b.ranking, ("name", "chief")),
                           (b.overdue, ("town", "village", "chief", "problem_type", "town_chief")),
                           (b.recurring, ("town", "village", "chief", "problem_type")),
                           (b.mismatches, ("declared_town", "declared_village", "town",
                                           "village", "problem_type")),
                           (b.escalations, ("recipient", "cc", "case_id")),
                           (b.channels, ("channel",))):
        for column in columns:
            texts.extend(frame[column].astype(str).unique())
    return texts


# --------------------------------------------------------------------------- formatting


def _int(value: float) -> str:
    return "—" if pd.isna(value) else f"{int(value):,}"


def _pct(value: float, digits: int = 1) -> str:
    return "—" if pd.isna(value) else f"{value * 100:.{digits}f}%"


def _date(value: object) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _change(value: object) -> tuple[str, str]:
    """Rank change as text and colour: ↑ moved up, ↓ down, 持平, — without a previous build."""
    if value is None or pd.isna(value):
        return "—", GREY
    value = int(value)
    if value > 0:
        return f"↑{value}", UP
    if value < 0:
        return f"↓{-value}", DOWN
    return "持平", GREY


def _mix(color: str, weight: float) -> str:
    """``color`` blended with white: weight 1 is the colour, 0 white."""
    rgba = np.array(to_rgba(color))
    return to_hex(rgba[:3] * weight + (1 - weight))


def _level_colors(b: Bulletin) -> dict[str, str]:
    return {BELOW: "#bdbdbd", REMINDER: _mix(b.colors["overdue"], 0.45),
            WARNING: b.colors["overdue"]}


def _summary(b: Bulletin) -> list[str]:
    """The bulletin's opening paragraphs, as an office would write them."""
    h, r = b.headline, b.ranking
    paragraphs = [
        f"截至 {b.as_of:%Y年%m月%d日}，全区累计受理污染源问题 {_int(h['total'])} 件，"
        f"已销号 {_int(h['closed'])} 件，销号率 {_pct(h['closed_rate'])}；"
        f"尚未销号 {_int(h['total'] - h['closed'])} 件，其中整改中 {_int(h['rectifying'])} 件、"
        f"已交办 {_int(h['assigned'])} 件、待交办 {_int(h['reported'])} 件。",
        f"本{b.period_kind}（{b.period[0]:%m月%d日}至{b.period[1]:%m月%d日}）新增 "
        f"{_int(h['new_in_period'])} 件，销号 {_int(h['closed_in_period'])} 件。",
        f"超期未销号 {_int(h['overdue'])} 件，最长超期 {_int(h['max_days_overdue'])} 天；"
        f"按督办规则，发出预警 {_int(h['warnings'])} 件、提醒 {_int(h['reminders'])} 件。"
        f"反复问题累计 {_int(h['recurring'])} 件，仍未销号 {_int(h['recurring_open'])} 件。",
    ]
    ranked = r[r["total"] > 0]
    if len(ranked) >= 2:
        top = "、".join(ranked["name"].head(3))
        last = "、".join(ranked["name"].tail(min(3, len(ranked) - 1)).iloc[::-1])
        paragraphs.append(f"镇街销号率排名前列：{top}；排名靠后：{last}（由后往前），请相关镇街"
                          "对照超期清单，逐件落实整改，按期销号。")
    if b.changes_since:
        paragraphs.append(
            f"与上次通报（{b.changes_since}）相比：新增 {_int(h.get('new_since', 0))} 件，"
            f"新销号 {_int(h.get('closed_since', 0))} 件，新超期 {_int(h.get('overdue_since', 0))}"
            f" 件，重新打开 {_int(h.get('reopened_since', 0))} 件。")
    else:
        paragraphs.append("本次为首次通报（无上次构建的快照），排名变化以“—”表示。")
    return paragraphs


def _headline_boxes(b: Bulletin) -> list[tuple[str, str, str, str]]:
    """(key, label, value, colour) of the headline figures."""
    h = b.headline
    return [
        ("total", "案件总数", _int(h["total"]), INK),
        ("closed_rate", "销号率", _pct(h["closed_rate"]), INK),
        ("overdue", "超期", _int(h["overdue"]), b.colors["overdue"]),
        ("recurring", "反复", _int(h["recurring"]), INK),
        ("new_in_period", f"本{b.period_kind}新增", _int(h["new_in_period"]), INK),
        ("closed_in_period", f"本{b.period_kind}销号", _int(h["closed_in_period"]), INK),
    ]


def _sections(b: Bulletin) -> list[str]:
    names = ["总体情况", "镇街排名", "督办提醒与预警", "超期案件", "反复案件", "属地不符",
             "上报渠道"]
    return [f"{NUMERALS[k]}、{name}" for k, name in enumerate(names)]


# --------------------------------------------------------------------------- charts


def _chart_cumulative(ax, b: Bulletin, size: float) -> None:
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


def _chart_weekly(ax, b: Bulletin, size: float, weeks: int = 26) -> None:
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


def _chart_towns(ax, b: Bulletin, size: float) -> None:
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
    ax.set_yticks(y, [f"{int(k)} {n}" for k, n in zip(r["rank"], r["name"], strict=True)])
    _style_axes(ax, size)
    ax.set_xlim(low, 100)
    ax.set_ylim(-0.6, len(r) - 0.4)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(6, integer=True))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}%"))
    ax.set_title(f"镇街销号率排名（横轴自 {low:g}% 起）", fontsize=size + 1.5, loc="left")
    ax.grid(axis="x", color=LIGHT, lw=0.6)
    ax.grid(axis="y", visible=False)


def _chart_ages(ax, b: Bulletin, size: float) -> None:
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


# --------------------------------------------------------------------------- PDF

PAGE_W, PAGE_H = 595.28, 841.89           # A4 portrait, points
MARGIN, TOP, BOTTOM = 42.0, 800.0, 50.0
ROW, BODY = 12.5, 7.5                     # table row height and text size, points
KEEP_ROWS = 25                            # tables up to this long stay on one page


@dataclass(frozen=True)
class _Col:
    header: str
    width: float            # points
    align: str = "left"     # left | right | center


class _Pdf:
    """A flow of A4 pages: headings, paragraphs, charts and tables that break across pages."""

    def __init__(self, b: Bulletin, font: FontSpec) -> None:
        self.b, self.font = b, font
        self.pages: list[tuple[Figure, object]] = []
        self.y = TOP
        self.width = PAGE_W - 2 * MARGIN
        self.new_page()

    # page furniture ------------------------------------------------------
    def new_page(self) -> None:
        fig = Figure(figsize=(PAGE_W / 72, PAGE_H / 72), dpi=72)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.set_xlim(0, PAGE_W)
        ax.set_ylim(0, PAGE_H)
        self.pages.append((fig, ax))
        self.y = TOP
        b = self.b
        if b.sample:
            ax.add_patch(Rectangle((0, PAGE_H - 16), PAGE_W, 16, color=SAMPLE_RED, lw=0))
            self.text(PAGE_W / 2, PAGE_H - 8, "示例数据 SAMPLE DATA · 合成案件，非真实情况", 7.5,
                      ha="center", va="center", color="white")
            self.text(PAGE_W / 2, PAGE_H / 2, "示例数据 sample data", 48, ha="center",
                      va="center", rotation=55, color=SAMPLE_RED, alpha=0.07)
        if len(self.pages) > 1:
            self.text(MARGIN, PAGE_H - 32, b.title, 7, color=GREY)
            ax.plot([MARGIN, PAGE_W - MARGIN], [PAGE_H - 37, PAGE_H - 37], color=LIGHT, lw=0.6)
            self.y = PAGE_H - 56
        source = f"数据来源：{b.data_source}" if b.data_source else ""
        self.text(MARGIN, 26, clip_to_width(f"{b.note}  {source}", 5.5, self.width - 80), 5.5,
                  color=GREY)

    @property
    def ax(self):
        return self.pages[-1][1]

    @property
    def fig(self) -> Figure:
        return self.pages[-1][0]

    def text(self, x: float, y: float, text: str, size: float, **kw):
        text = check_text(text, self.font)
        kw.setdefault("color", INK)
        return self.ax.text(x, y, text, fontsize=size, parse_math=False, **kw)

    def ensure(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.new_page()

    # flow elements -------------------------------------------------------
    def title(self, text: str) -> None:
        size = 17.0
        while em_width(text) * size > self.width and size > 11:
            size -= 0.5
        self.text(PAGE_W / 2, self.y - size, text, size, ha="center")
        self.y -= size + 12

    def heading(self, text: str, keep: float = 60) -> None:
        self.ensure(22 + keep)
        self.y -= 8
        self.text(MARGIN, self.y - 12, text, 12.5)
        self.y -= 22

    def subheading(self, text: str, keep: float = 3 * ROW, color: str = INK) -> None:
        self.ensure(18 + keep)
        self.y -= 4
        self.text(MARGIN, self.y - 9, clip_to_width(text, 9, self.width), 9, color=color)
        self.y -= 15

    def paragraph(self, text: str, size: float = 9, color: str = INK, indent: bool = True) -> None:
        first = "\u3000\u3000" if indent else ""
        for line in wrap_to_width(first + text, size, self.width):
            self.ensure(size * 1.65)
            self.text(MARGIN, self.y - size, line, size, color=color)
            self.y -= size * 1.65
        self.y -= 3

    def boxes(self, boxes: list[tuple[str, str, str, str]]) -> None:
        height, gap = 46.0, 6.0
        self.ensure(height + 8)
        width = (self.width - gap * (len(boxes) - 1)) / len(boxes)
        for k, (_, label, value, color) in enumerate(boxes):
            x = MARGIN + k * (width + gap)
            self.ax.add_patch(Rectangle((x, self.y - height), width, height, fc="#f6f6f6",
                                        ec=LIGHT, lw=0.6))
            size = 17.0
            while em_width(value) * size > width - 8 and size > 9:
                size -= 0.5
            self.text(x + width / 2, self.y - 22, value, size, ha="center", va="center",
                      color=color)
            self.text(x + width / 2, self.y - 38, label, 7.5, ha="center", va="center",
                      color="#555555")
        self.y -= height + 10

    def chart(self, height: float, draw: Callable, *, x: float = MARGIN, width: float | None = None,
              advance: bool = True, left: float = 38.0) -> None:
        width = self.width if width is None else width
        self.ensure(height)
        bottom = 20.0
        rect = ((x + left) / PAGE_W, (self.y - height + bottom) / PAGE_H,
                (width - left - 6) / PAGE_W, (height - bottom - 16) / PAGE_H)
        ax = self.fig.add_axes(rect)
        draw(ax, self.b, 6.5)
        if advance:
            self.y -= height + 6

    def table(self, columns: Sequence[_Col], rows: Sequence[Sequence[object]], *,
              size: float = BODY, empty: str = "（无）", continued: str | None = None,
              group: int | None = None) -> None:
        """Rows of cells (text, or (text, colour)); breaks across pages, header repeated.

        After a page break, ``continued`` (e.g. the town's name) is written above the
        header, and an empty cell of column ``group`` is filled with the group's name.
        """
        scale = self.width / sum(c.width for c in columns)
        widths = [c.width * scale for c in columns] if scale < 1 else [c.width for c in columns]
        xs = [MARGIN, *(MARGIN + np.cumsum(widths)[:-1])]
        header_pending, broken, current = True, False, ""
        if len(rows) <= KEEP_ROWS:          # a short table is never split
            self.ensure((len(rows) + 1) * ROW + 2)
        else:                               # a long one starts with a few rows at least
            self.ensure(5 * ROW)
        if not rows:
            self.ensure(2 * ROW)
            self._header(columns, widths, xs, size)
            self.text(MARGIN + 2, self.y - ROW + 3, empty, size, color=GREY)
            self.y -= ROW + 6
            return
        for k, row in enumerate(rows):
            if self.y - ROW * (2 if header_pending else 1) < BOTTOM:
                self.new_page()
                header_pending = broken = True
                if continued:
                    self.subheading(f"{continued}（续）", keep=2 * ROW)
            if header_pending:
                self._header(columns, widths, xs, size)
                header_pending = False
            if group is not None:
                if str(row[group]):
                    current, broken = str(row[group]), False
                elif broken:
                    row = [*row[:group], f"{current}（续）", *row[group + 1:]]
                    broken = False
            if k % 2:
                self.ax.add_patch(Rectangle((MARGIN, self.y - ROW), self.width, ROW,
                                            fc="#f5f5f5", lw=0))
            for cell, col, x0, w in zip(row, columns, xs, widths, strict=True):
                text, color = cell if isinstance(cell, tuple) else (cell, INK)
                self._cell(str(text), col.align, x0, w, size, color)
            self.y -= ROW
        self.y -= 6

    def _header(self, columns: Sequence[_Col], widths, xs, size: float) -> None:
        self.ax.add_patch(Rectangle((MARGIN, self.y - ROW - 1), self.width, ROW + 1,
                                    fc="#e8eef5", lw=0))
        for col, x0, w in zip(columns, xs, widths, strict=True):
            self._cell(col.header, col.align, x0, w, size, "#333333")
        self.y -= ROW + 1

    def _cell(self, text: str, align: str, x0: float, width: float, size: float,
              color: str) -> None:
        text = clip_to_width(text, size, width - 5)
        x = {"left": x0 + 2.5, "right": x0 + width - 2.5, "center": x0 + width / 2}[align]
        self.text(x, self.y - ROW / 2 - 0.3, text, size, ha=align, va="center", color=color)

    # output ---------------------------------------------------------------
    def save(self, path: Path) -> Path:
        from matplotlib.backends.backend_pdf import PdfPages

        total = len(self.pages)
        for number, (_, ax) in enumerate(self.pages, start=1):
            check_text(f"第 {number} 页 / 共 {total} 页", self.font)
            ax.text(PAGE_W - MARGIN, 26, f"第 {number} 页 / 共 {total} 页", fontsize=6.5,
                    ha="right", color=GREY, parse_math=False)
        meta = {"Title": self.b.title, "Creator": f"battlemap {__version__}",
                "CreationDate": None}
        with atomic_path(path) as tmp, PdfPages(tmp, metadata=meta) as pdf:
            for fig, _ in self.pages:
                pdf.savefig(fig)
        return path


def _write_pdf(b: Bulletin, font: FontSpec, path: Path) -> Path:
    doc = _Pdf(b, font)
    sections = _sections(b)
    doc.title(b.title)
    doc.paragraph(_meta_line(b), size=7.5, color="#555555", indent=False)
    doc.y -= 4
    # 一、总体情况
    doc.heading(sections[0])
    doc.boxes(_headline_boxes(b))
    doc.paragraph(_states_line(b), size=7.5, color="#444444", indent=False)
    for text in _summary(b):
        doc.paragraph(text)
    half = (doc.width - 16) / 2
    doc.chart(170, _chart_cumulative, width=half, advance=False, left=34)
    doc.chart(170, _chart_weekly, x=MARGIN + half + 16, width=half, left=26)
    # 二、镇街排名
    doc.heading(sections[1], keep=_keep(len(b.ranking)))
    doc.table(*_ranking_table(b))
    doc.paragraph(f"排名规则：{b.ranking_rule}", size=7, color="#555555", indent=False)
    height = max(220.0, 15.0 * len(b.ranking) + 50)
    doc.chart(height, _chart_towns, width=half, advance=False, left=58)
    doc.chart(height, _chart_ages, x=MARGIN + half + 16, width=half)
    # 三、督办
    doc.heading(sections[2], keep=30 + _keep(b.escalations["recipient"].nunique()))
    doc.paragraph(_escalation_rule(b), size=8.5)
    doc.table(*_escalation_summary_table(b))
    for recipient, town, group in _escalation_groups(b):
        warn = int((group["level"] == WARNING).sum())
        doc.subheading(f"{town} 河长 {recipient or '（未填）'}：预警 {warn} 件，提醒 "
                       f"{len(group) - warn} 件（抄送 区河长 {b.district_chief or '—'}）",
                       keep=20)
        for level in (WARNING, REMINDER):
            part = group[group["level"] == level]
            if len(part):
                items = "、".join(f"{c}（{d}天）" for c, d in
                                 zip(part["case_id"], part["days_overdue"], strict=True))
                doc.paragraph(f"{level}：{items}", size=7.5,
                              color=b.colors["overdue"] if level == WARNING else INK,
                              indent=False)
    # 四、超期案件
    first = int(b.overdue["town"].value_counts().iloc[0]) if len(b.overdue) else 0
    doc.heading(sections[3], keep=50 + _keep(first))
    doc.paragraph(_intro(b, "overdue"), size=8.5)
    columns = [_Col("编号", 64), _Col("村居", 82), _Col("问题类型", 56), _Col("状态", 34),
               _Col("整改期限", 52), _Col("超期天数", 40, "right"), _Col("督办", 28, "center"),
               _Col("责任河长", 48)]
    for (town, chief), group in b.overdue.groupby(["town", "town_chief"], sort=False):
        doc.subheading(f"{town or '（未定位）'}　{len(group)} 件，最长超期 "
                       f"{int(group['days_overdue'].max()):,} 天　镇街河长 {chief or '—'}",
                       keep=_keep(len(group)))
        doc.table(columns, continued=town, rows=[
                            [r.case_id, r.village, r.problem_type, r.state, _date(r.deadline),
                             (f"{r.days_overdue:,}", b.colors["overdue"]),
                             (r.level or "", b.colors["overdue"] if r.level == WARNING else INK),
                             r.chief] for r in group.itertuples()])
    # 五、反复案件
    doc.heading(sections[4], keep=30 + _keep(len(b.recurring_by_town)))
    doc.paragraph(_intro(b, "recurring"), size=8.5)
    doc.table([_Col("镇街", 90), _Col("反复（累计）", 70, "right"),
               _Col("其中未销号", 70, "right")],
              [[r.town, _int(r.recurring), _int(r.open)]
               for r in b.recurring_by_town.itertuples()])
    doc.table([_Col("编号", 64), _Col("镇街", 50), _Col("村居", 82), _Col("问题类型", 56),
               _Col("状态", 34), _Col("上报日期", 52), _Col("超期", 28, "center"),
               _Col("村居河长", 48)],
              [[r.case_id, r.town, r.village, r.problem_type, r.state, _date(r.reported_at),
                ("是", b.colors["overdue"]) if r.overdue else "", r.chief]
               for r in b.recurring.itertuples()])
    # 六、属地不符
    doc.heading(sections[5], keep=30 + _keep(len(b.mismatches)))
    doc.paragraph(_intro(b, "mismatches"), size=8.5)
    doc.table([_Col("编号", 64), _Col("上报镇街", 50), _Col("上报村居", 90), _Col("定位镇街", 50),
               _Col("定位村居", 90), _Col("问题类型", 56), _Col("状态", 34)],
              [[r.case_id, r.declared_town or "（未填）", r.declared_village or "（未填）",
                r.town, r.village, r.problem_type, r.state] for r in b.mismatches.itertuples()])
    # 七、上报渠道
    doc.heading(sections[6], keep=_keep(len(b.channels)))
    doc.table(*_channel_table(b))
    doc.paragraph(VALID_NOTE, size=7, color="#555555", indent=False)
    rows, previous = [], None
    for r in b.channels_by_town.itertuples():
        rows.append([r.town if r.town != previous else "", r.channel, _int(r.count),
                     _int(r.valid), _pct(r.valid_share), _int(r.closed), _pct(r.closed_share)])
        previous = r.town
    doc.subheading("各镇街分渠道", keep=ROW * 4)
    doc.table([_Col("镇街", 70), _Col("渠道", 130), _Col("案件", 55, "right"),
               _Col("有效", 55, "right"), _Col("有效率", 55, "right"),
               _Col("已销号", 55, "right"), _Col("销号率", 55, "right")], rows, group=0)
    return doc.save(path)


VALID_NOTE = "有效率：经核实为有效问题的案件占比；无效举报不计入整改，但计入案件数。"


def _intro(b: Bulletin, section: str) -> str:
    """The opening sentence of the overdue, recurring and mismatch sections."""
    h = b.headline
    return {
        "overdue": f"超期未销号 {_int(h['overdue'])} 件，按镇街（超期件数多者在前）、"
                   "超期天数从长到短列出；责任河长为案件所在村居的河长。",
        "recurring": f"反复问题（同一位置销号后又被举报）累计 {_int(h['recurring'])} 件，"
                     f"其中仍未销号 {_int(h['recurring_open'])} 件，列于下表。",
        "mismatches": f"上报时选择的镇街/村居与定位所在地不一致的案件累计 {_int(h['mismatches'])}"
                      f" 件；以下 {len(b.mismatches)} 件尚未销号，"
                      "请核实属地，按定位所在地落实整改。",
    }[section]


def _keep(rows: int) -> float:
    """Room a heading needs below it: the whole table when it is short, else a few rows."""
    return (rows + 1) * ROW + 8 if rows <= KEEP_ROWS else 4 * ROW


def _meta_line(b: Bulletin) -> str:
    since = (f"排名变化对比 {b.changes_since} 的上次构建" if b.changes_since
             else "无上次构建，不计排名变化")
    return (f"本{b.period_kind}：{b.period[0].isoformat()} 至 {b.period[1].isoformat()}　·　{since}"
            f"　·　区河长 {b.district_chief or '—'}")


def _states_line(b: Bulletin) -> str:
    h = b.headline
    states = "　".join(f"{b.labels.get(s, s)} {_int(h[s])}" for s in STATES)
    return (f"按状态：{states}　·　督办：预警 {_int(h['warnings'])}　提醒 {_int(h['reminders'])}"
            f"　·　属地不符 {_int(h['mismatches'])}")


def _escalation_rule(b: Bulletin) -> str:
    return (f"督办规则：超期满 {b.reminder_days} 天发提醒、满 {b.warning_days} 天发预警，"
            f"送达案件所在镇街的河长，抄送区河长。本期共需发出预警 {_int(b.headline['warnings'])}"
            f" 件、提醒 {_int(b.headline['reminders'])} 件，按收件人列出如下。")


def _escalation_groups(b: Bulletin):
    due = b.escalations
    for (recipient, town), group in due.groupby(["recipient", "town"], sort=False):
        yield recipient, town, group


def _escalation_summary_table(b: Bulletin) -> tuple[list[_Col], list[list[object]]]:
    rows = []
    for recipient, town, group in _escalation_groups(b):
        warn = int((group["level"] == WARNING).sum())
        rows.append([recipient or "（未填）", town,
                     (str(warn), b.colors["overdue"] if warn else INK),
                     str(len(group) - warn), f"{int(group['days_overdue'].max()):,}",
                     group["cc"].iloc[0] or "—"])
    columns = [_Col("收件人（镇街河长）", 90), _Col("镇街", 80), _Col("预警", 50, "right"),
               _Col("提醒", 50, "right"), _Col("最长超期（天）", 80, "right"),
               _Col("抄送（区河长）", 90)]
    return columns, rows


def _ranking_table(b: Bulletin) -> tuple[list[_Col], list[list[object]]]:
    rows = []
    for r in b.ranking.itertuples():
        change, color = _change(r.rank_change)
        rows.append([str(int(r.rank)), r.name, r.chief or "—", _int(r.total), _int(r.closed),
                     _pct(r.closed_rate), (_int(r.overdue), b.colors["overdue"] if r.overdue
                                           else INK),
                     _int(r.recurring), _int(r.new_in_period), _int(r.closed_in_period),
                     (change, color)])
    columns = [_Col("名次", 28, "center"), _Col("镇街", 58), _Col("镇街河长", 50),
               _Col("案件", 42, "right"), _Col("已销号", 42, "right"), _Col("销号率", 44, "right"),
               _Col("超期", 38, "right"), _Col("反复", 36, "right"),
               _Col(f"本{b.period_kind}新增", 50, "right"),
               _Col(f"本{b.period_kind}销号", 50, "right"), _Col("名次变化", 50, "center")]
    return columns, rows


def _channel_table(b: Bulletin) -> tuple[list[_Col], list[list[object]]]:
    rows = [[r.channel, _int(r.count), _int(r.valid), _pct(r.valid_share), _int(r.closed),
             _pct(r.closed_share)] for r in b.channels.itertuples()]
    columns = [_Col("上报渠道", 160), _Col("案件", 60, "right"), _Col("有效", 60, "right"),
               _Col("有效率", 60, "right"), _Col("已销号", 60, "right"),
               _Col("销号率", 60, "right")]
    return columns, rows








# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:"Noto Sans SC","Microsoft YaHei","PingFang SC","SimHei",sans-serif;color:#222;
 margin:0;background:#fafafa;line-height:1.55}
main{max-width:1000px;margin:0 auto;padding:18px 28px 48px;background:#fff}
.sample{background:#c62828;color:#fff;text-align:center;padding:4px;font-size:14px;
 position:sticky;top:0;z-index:2}
h1{font-size:24px;font-weight:normal;text-align:center;margin:18px 0 4px}
h2{font-size:19px;font-weight:normal;border-bottom:2px solid #1f4e79;padding-bottom:3px;
 margin-top:34px}
h3{font-size:15px;font-weight:normal;margin:20px 0 6px}
.meta,.note{color:#555;font-size:13px}.meta{text-align:center}
nav{font-size:13px;text-align:center;margin:8px 0}nav a{margin:0 6px;color:#1f4e79}
.figures{display:flex;gap:8px;flex-wrap:wrap;margin:10px 0}
.figure{flex:1 1 120px;background:#f5f5f5;border:1px solid #e4e4e4;padding:8px;text-align:center}
.figure b{display:block;font-size:24px;font-weight:normal}.figure span{font-size:12px;color:#555}
.figure.overdue b{color:var(--overdue)}
p.text{text-indent:2em;margin:6px 0}
table{border-collapse:collapse;font-size:13px;margin:8px 0 12px;width:100%}
th{background:#e8eef5;font-weight:normal;text-align:left;padding:3px 6px;position:sticky;top:0}
body.has-sample th{top:26px}
td{padding:2px 6px;border-bottom:1px solid #eee;vertical-align:top}
tr:nth-child(even) td{background:#fafafa}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.warn{color:var(--overdue)}.up{color:#2e7d32}.down{color:#c62828}.muted{color:#777}
.desc{color:#555;max-width:260px}
img.chart{width:100%;height:auto;margin:6px 0}
.charts2{display:grid;grid-template-columns:1fr 1fr;gap:8px}
footer{color:#777;font-size:12px;margin-top:30px;border-top:1px solid #ddd;padding-top:6px}
@media print{.sample,th{position:static}main{max-width:none}}
"""


def _e(value: object) -> str:
    return html.escape(_text(value), quote=True)


def _html_table(headers: Sequence[tuple[str, bool]], rows: Sequence[Sequence[object]],
                empty: str = "（无）") -> str:
    """headers: (text, numeric); cells: text, or (text, css class)."""
    head = "".join(f'<th class="n">{_e(h)}</th>' if n else f"<th>{_e(h)}</th>"
                   for h, n in headers)
    body = []
    for row in rows:
        cells = []
        for (_, numeric), cell in zip(headers, row, strict=True):
            text, css = cell if isinstance(cell, tuple) else (cell, "")
            css = " ".join(filter(None, ["n" if numeric else "", css]))
            cells.append(f'<td class="{css}">{_e(text)}</td>' if css else f"<td>{_e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        body.append(f'<tr><td class="muted" colspan="{len(headers)}">{_e(empty)}</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _png(draw: Callable, b: Bulletin, size: tuple[float, float]) -> str:
    fig = Figure(figsize=size, dpi=150, layout="constrained")
    ax = fig.add_subplot()
    draw(ax, b, 8.0)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"data:image/png;base64,{data}"


def _html(b: Bulletin) -> str:
    sections = _sections(b)
    anchors = [f"s{k + 1}" for k in range(len(sections))]
    h = b.headline
    parts: list[str] = []
    add = parts.append
    if b.sample:
        add('<div class="sample">示例数据 sample data · 合成案件，非真实情况</div>')
    add(f"<main><h1>{_e(b.title)}</h1><p class=\"meta\">{_e(_meta_line(b))}</p>")
    add("<nav>" + "".join(f'<a href="#{a}">{_e(s)}</a>' for a, s in zip(anchors, sections,
                                                                          strict=True)) + "</nav>")
    # 一
    add(f'<section id="{anchors[0]}"><h2>{_e(sections[0])}</h2><div class="figures">')
    for key, label, value, _ in _headline_boxes(b):
        raw = h[key]
        css = "figure overdue" if key == "overdue" else "figure"
        add(f'<div class="{css}" data-key="{key}" data-value="{_e(raw)}"><b>{_e(value)}</b>'
            f"<span>{_e(label)}</span></div>")
    add("</div>")
    add(f'<p class="note">{_e(_states_line(b))}</p>')
    add("".join(f'<p class="text">{_e(t)}</p>' for t in _summary(b)))
    add(f'<img class="chart" alt="累计受理与销号" src="{_png(_chart_cumulative, b, (9, 3.2))}">')
    add(f'<img class="chart" alt="近26周每周新增与销号" src="{_png(_chart_weekly, b, (9, 2.6))}">')
    add("</section>")
    # 二
    columns, rows = _ranking_table(b)
    add(f'<section id="{anchors[1]}"><h2>{_e(sections[1])}</h2>')
    add(_html_table([(c.header, c.align == "right") for c in columns],
                    [[_html_cell(cell, b) for cell in row] for row in rows]))
    add(f'<p class="note">排名规则：{_e(b.ranking_rule)}</p>')
    add('<div class="charts2">')
    tall = max(3.6, 0.28 * len(b.ranking) + 0.8)
    add(f'<img class="chart" alt="镇街销号率排名" src="{_png(_chart_towns, b, (4.6, tall))}">')
    add(f'<img class="chart" alt="超期案件按案龄" src="{_png(_chart_ages, b, (4.6, tall))}">')
    add("</div></section>")
    # 三
    add(f'<section id="{anchors[2]}"><h2>{_e(sections[2])}</h2>')
    add(f'<p class="text">{_e(_escalation_rule(b))}</p>')
    columns, rows = _escalation_summary_table(b)
    add(_html_table([(c.header, c.align == "right") for c in columns],
                    [[_html_cell(cell, b) for cell in row] for row in rows]))
    for recipient, town, group in _escalation_groups(b):
        warn = int((group["level"] == WARNING).sum())
        add(f"<h3>{_e(town)} 河长 {_e(recipient or '（未填）')}：预警 {warn} 件，提醒 "
            f"{len(group) - warn} 件 <span class=\"muted\">（抄送 区河长 "
            f"{_e(group['cc'].iloc[0] or '—')}）</span></h3>")
        add(_html_table(
            [("督办", False), ("编号", False), ("村居", False), ("问题类型", False),
             ("整改期限", False), ("超期天数", True)],
            [[(r.level, "warn" if r.level == WARNING else ""), r.case_id, r.village,
              r.problem_type, _date(r.deadline), f"{r.days_overdue:,}"]
             for r in group.itertuples()]))
    add("</section>")
    # 四
    add(f'<section id="{anchors[3]}"><h2>{_e(sections[3])}</h2>')
    add(f'<p class="text">{_e(_intro(b, "overdue"))}</p>')
    for (town, chief), group in b.overdue.groupby(["town", "town_chief"], sort=False):
        add(f"<h3>{_e(town or '（未定位）')} <span class=\"muted\">{len(group)} 件，最长超期 "
            f"{int(group['days_overdue'].max()):,} 天，镇街河长 {_e(chief or '—')}</span></h3>")
        add(_html_table(
            [("编号", False), ("村居", False), ("问题类型", False), ("状态", False),
             ("整改期限", False), ("超期天数", True), ("督办", False), ("责任河长", False),
             ("问题描述", False)],
            [[r.case_id, r.village, r.problem_type, r.state, _date(r.deadline),
              (f"{r.days_overdue:,}", "warn"), (r.level, "warn" if r.level == WARNING else ""),
              r.chief, (r.description, "desc")] for r in group.itertuples()]))
    add("</section>")
    # 五
    add(f'<section id="{anchors[4]}"><h2>{_e(sections[4])}</h2>')
    add(f'<p class="text">{_e(_intro(b, "recurring"))}</p>')
    add(_html_table([("镇街", False), ("反复（累计）", True), ("其中未销号", True)],
                    [[r.town, _int(r.recurring), _int(r.open)]
                     for r in b.recurring_by_town.itertuples()]))
    add(_html_table(
        [("编号", False), ("镇街", False), ("村居", False), ("问题类型", False), ("状态", False),
         ("上报日期", False), ("超期", False), ("村居河长", False), ("问题描述", False)],
        [[r.case_id, r.town, r.village, r.problem_type, r.state, _date(r.reported_at),
          ("是", "warn") if r.overdue else "", r.chief, (r.description, "desc")]
         for r in b.recurring.itertuples()]))
    add("</section>")
    # 六
    add(f'<section id="{anchors[5]}"><h2>{_e(sections[5])}</h2>')
    add(f'<p class="text">{_e(_intro(b, "mismatches"))}</p>')
    add(_html_table(
        [("编号", False), ("上报镇街", False), ("上报村居", False), ("定位镇街", False),
         ("定位村居", False), ("问题类型", False), ("状态", False)],
        [[r.case_id, r.declared_town or "（未填）", r.declared_village or "（未填）", r.town,
          r.village, r.problem_type, r.state] for r in b.mismatches.itertuples()]))
    add("</section>")
    # 七
    add(f'<section id="{anchors[6]}"><h2>{_e(sections[6])}</h2>')
    columns, rows = _channel_table(b)
    add(_html_table([(c.header, c.align == "right") for c in columns], rows))
    add(f'<p class="note">{_e(VALID_NOTE)}</p>')
    add("<h3>各镇街分渠道</h3>")
    rows, previous = [], None
    for r in b.channels_by_town.itertuples():
        rows.append([r.town if r.town != previous else "", r.channel, _int(r.count),
                     _int(r.valid), _pct(r.valid_share), _int(r.closed), _pct(r.closed_share)])
        previous = r.town
    add(_html_table([("镇街", False), ("渠道", False), ("案件", True), ("有效", True),
                     ("有效率", True), ("已销号", True), ("销号率", True)], rows))
    add("</section>")
    source = f"数据来源：{b.data_source}" if b.data_source else ""
    add(f"<footer>{_e(b.note)}　{_e(source)}<br>battlemap {_e(__version__)} · 截至 "
        f"{_e(b.as_of.isoformat())}</footer></main>")
    csp = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
           "base-uri 'none'; form-action 'none'")
    return ("<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(b.title)}</title><style>:root{{--overdue:{_e(b.colors['overdue'])}}}"
            f"{_CSS}</style></head><body class=\"{'has-sample' if b.sample else ''}\">"
            f"{''.join(parts)}</body></html>\n")


def _html_cell(cell: object, b: Bulletin) -> object:
    """A PDF cell (text or (text, colour)) as an HTML cell (text or (text, css class))."""
    if not isinstance(cell, tuple):
        return cell
    text, color = cell
    css = {b.colors["overdue"]: "warn", UP: "up", DOWN: "down", GREY: "muted"}.get(color, "")
    return (text, css)
